"""Tests of cossim.evaluation (chapters/movielens.md) against plain-loop reference implementations."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cossim import (
    LambdaSelectionResult,
    fit_factor_penalty,
    fit_product_penalty,
    label_jaccard,
    nearest_neighbours,
    recall_at_k,
    select_lambda,
    shared_neighbours,
    split_per_user,
    top_spectrum,
)

# --------------------------------------------------------------------------- plain-loop references


def _ref_split(X, fraction, seed):
    """The documented algorithm, one user at a time: keys in row-major order, smallest keys hidden."""
    rng = np.random.default_rng(seed)
    n, p = len(X), len(X[0])
    entries = [(u, i) for u in range(n) for i in range(p) if X[u][i] != 0]
    keys = rng.random(len(entries))
    train = [list(map(float, row)) for row in X]
    test = [[0.0] * p for _ in range(n)]
    for u in range(n):
        mine = sorted((key, i) for key, (v, i) in zip(keys, entries) if v == u)
        hide = min(math.floor(fraction * len(mine) + 0.5), max(len(mine) - 1, 0))
        for _, i in mine[:hide]:
            test[u][i] = float(X[u][i])
            train[u][i] = 0.0
    return np.array(train), np.array(test)


def _ref_recall(X_train, X_test, scores, k):
    recalls = []
    for u in range(len(X_train)):
        hidden = {i for i, value in enumerate(X_test[u]) if value != 0}
        if not hidden:
            continue
        unseen = [i for i, value in enumerate(X_train[u]) if value == 0]
        ranked = sorted(unseen, key=lambda i: (-scores[u][i], i))[:k]
        hits = sum(1 for i in ranked if i in hidden)
        recalls.append(hits / min(k, len(hidden)))
    return sum(recalls) / len(recalls)


def _ref_shared(first, second):
    out = []
    for a, b in zip(first, second):
        if a[0] < 0 or b[0] < 0:
            out.append(float("nan"))
        else:
            out.append(len(set(a) & set(b)) / len(a))
    return np.array(out)


def _ref_jaccard(neighbours, labels, items):
    out = []
    for i, row in zip(items, neighbours):
        if row[0] < 0:
            out.append(float("nan"))
            continue
        values = []
        for j in row:
            union = labels[i] | labels[j]
            values.append(len(labels[i] & labels[j]) / len(union) if union else 1.0)
        out.append(sum(values) / len(values))
    return np.array(out)


def _random_interactions(seed, n, p, density, values=False):
    rng = np.random.default_rng(seed)
    X = (rng.random((n, p)) < density).astype(float)
    if values:
        X *= rng.integers(1, 6, size=(n, p))
    return X


# --------------------------------------------------------------------------- split_per_user


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("fraction", [0.2, 0.5, 0.75])
def test_split_matches_the_loop(seed, fraction):
    X = _random_interactions(seed, n=9, p=13, density=0.4, values=True)
    X[0] = 0.0  # a user without interactions
    X[1] = 0.0
    X[1, 3] = 2.0  # a user with one interaction keeps it
    X_train, X_test = split_per_user(X, fraction, np.random.default_rng(seed))
    ref_train, ref_test = _ref_split(X, fraction, seed)
    np.testing.assert_array_equal(X_train, ref_train)
    np.testing.assert_array_equal(X_test, ref_test)
    np.testing.assert_array_equal(X_train + X_test, X)
    assert not np.any((X_train != 0) & (X_test != 0))
    assert np.count_nonzero(X_train[1]) == 1


def test_split_counts_and_seeding():
    X = _random_interactions(7, n=40, p=60, density=0.3)
    counts = np.count_nonzero(X, axis=1)
    X_train, X_test = split_per_user(X, 0.2, 11)
    expected = np.minimum(np.floor(0.2 * counts + 0.5), np.maximum(counts - 1, 0))
    np.testing.assert_array_equal(np.count_nonzero(X_test, axis=1), expected)
    again = split_per_user(X, 0.2, np.random.default_rng(11))
    np.testing.assert_array_equal(again[1], X_test)  # an int seed is default_rng(seed)
    other = split_per_user(X, 0.2, 12)
    assert not np.array_equal(other[1], X_test)
    assert X_train.dtype == np.float64 and X_test.dtype == np.float64


def test_split_hides_every_item_equally_often():
    # One user with 10 items, 3 hidden: each item is hidden with probability 3/10.
    X = np.ones((1, 10))
    rng = np.random.default_rng(0)
    hidden = sum(split_per_user(X, 0.3, rng)[1] for _ in range(4000))
    np.testing.assert_allclose(hidden / 4000, 0.3, atol=0.03)


@pytest.mark.parametrize(
    "args, name",
    [
        ((np.ones((2, 3)), 0.0, 0), "fraction"),
        ((np.ones((2, 3)), 1.0, 0), "fraction"),
        ((np.ones((2, 3)), True, 0), "fraction"),
        ((np.ones((2, 3)), 0.2, None), "seed"),
        ((np.ones((2, 3)), 0.2, -1), "seed"),
        ((np.ones((2, 3)), 0.2, 1.5), "seed"),
        ((np.ones(3), 0.2, 0), "X"),
        ((np.array([[np.nan, 1.0]]), 0.2, 0), "X"),
    ],
)
def test_split_rejects_bad_input(args, name):
    with pytest.raises(ValueError, match=name):
        split_per_user(*args)


# --------------------------------------------------------------------------- recall_at_k


@pytest.mark.parametrize("seed", range(6))
def test_recall_matches_the_loop(seed):
    rng = np.random.default_rng(seed)
    n, p = 8, 15
    X = _random_interactions(seed, n, p, density=0.45)
    X_train, X_test = split_per_user(X, 0.4, rng)
    scores = rng.normal(size=(n, p))
    if seed % 2:
        scores = np.round(scores)  # many ties, broken by index
    for k in [1, 3, 7, p]:
        assert recall_at_k(X_train, X_test, scores, k) == pytest.approx(
            _ref_recall(X_train, X_test, scores, k), rel=1e-12
        )


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 6),
    p=st.integers(1, 8),
    seed=st.integers(0, 2**32 - 1),
    levels=st.integers(1, 3),
)
def test_recall_matches_the_loop_on_heavily_tied_scores(n, p, seed, levels):
    rng = np.random.default_rng(seed)
    X = (rng.random((n, p)) < 0.6).astype(float)
    X_train, X_test = split_per_user(X, 0.5, rng)
    if not np.any(X_test):
        X_test[0, 0], X_train[0, 0] = 1.0, 0.0
    scores = rng.integers(0, levels, size=(n, p)).astype(float)
    k = int(rng.integers(1, p + 1))
    assert recall_at_k(X_train, X_test, scores, k) == pytest.approx(
        _ref_recall(X_train, X_test, scores, k), rel=1e-12
    )


def test_recall_of_perfect_and_of_worst_scores():
    X_test = np.array([[1.0, 1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0, 0.0]])
    X_train = np.array([[0.0, 0.0, 1.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0, 0.0]])
    assert recall_at_k(X_train, X_test, X_test, top=2) == 1.0
    # k = 1: the first user finds one of its two hidden items, min(k, m) = 1.
    assert recall_at_k(X_train, X_test, X_test, top=1) == 1.0
    assert recall_at_k(X_train, X_test, -X_test, top=1) == 0.0
    # A training item with the highest score is never recommended again.
    scores = X_test + 10 * X_train
    assert recall_at_k(X_train, X_test, scores, top=2) == 1.0


def test_recall_rejects_bad_input():
    X_train = np.array([[1.0, 0.0, 0.0]])
    X_test = np.array([[0.0, 1.0, 0.0]])
    scores = np.zeros((1, 3))
    with pytest.raises(ValueError, match="X_test"):
        recall_at_k(X_train, X_train, scores, 1)  # overlapping entries
    with pytest.raises(ValueError, match="X_test"):
        recall_at_k(X_train, np.zeros((1, 3)), scores, 1)  # nothing held out
    with pytest.raises(ValueError, match="X_test"):
        recall_at_k(X_train, np.zeros((2, 3)), scores, 1)
    with pytest.raises(ValueError, match="scores"):
        recall_at_k(X_train, X_test, np.zeros((1, 4)), 1)
    with pytest.raises(ValueError, match="scores"):
        recall_at_k(X_train, X_test, np.array([[0.0, np.inf, 0.0]]), 1)
    for top in [0, 4, 2.0]:
        with pytest.raises(ValueError, match="top must"):
            recall_at_k(X_train, X_test, scores, top)


# --------------------------------------------------------------------------- select_lambda


def test_select_lambda_scores_each_fit_and_picks_the_best():
    X = _random_interactions(3, n=60, p=25, density=0.3)
    X_train, X_test = split_per_user(X, 0.2, 5)
    lams = [0.1, 1.0, 10.0, 100.0]
    spectrum = top_spectrum(X_train, 12)
    for fit in [fit_product_penalty, fit_factor_penalty]:
        selection = select_lambda(fit, X_train, X_test, lams, 8, top=5, spectrum=spectrum)
        assert isinstance(selection, LambdaSelectionResult)
        expected = []
        for lam in lams:
            f = fit(X_train, 8, lam)
            expected.append(_ref_recall(X_train, X_test, X_train @ f.A @ f.B.T, 5))
        np.testing.assert_allclose(selection.recalls, expected, rtol=1e-12)
        assert selection.best_index == int(np.argmax(expected))
        assert selection.best_lam == lams[selection.best_index]
        assert selection.best_recall == max(selection.recalls)
        assert (selection.k, selection.top) == (8, 5)
        # Without a spectrum it computes the same one itself.
        alone = select_lambda(fit, X_train, X_test, lams, 8, top=5)
        np.testing.assert_allclose(alone.recalls, selection.recalls, rtol=1e-9)
    with pytest.raises(dataclasses.FrozenInstanceError):
        selection.k = 3


def test_select_lambda_takes_the_first_of_equal_recalls():
    selection = LambdaSelectionResult(lams=np.array([1.0, 2.0, 3.0]), recalls=np.array([0.2, 0.5, 0.5]), k=2, top=3)
    assert selection.best_lam == 2.0 and selection.best_recall == 0.5


def test_select_lambda_rejects_bad_input():
    X = _random_interactions(3, n=20, p=10, density=0.4)
    X_train, X_test = split_per_user(X, 0.3, 0)
    with pytest.raises(ValueError, match="fit"):
        select_lambda("product", X_train, X_test, [1.0], 3)
    with pytest.raises(ValueError, match="lams"):
        select_lambda(fit_product_penalty, X_train, X_test, [], 3)
    with pytest.raises(ValueError, match="lams"):
        select_lambda(fit_product_penalty, X_train, X_test, [1.0, -1.0], 3)
    with pytest.raises(ValueError, match="k must"):
        select_lambda(fit_product_penalty, X_train, X_test, [1.0], 11)
    with pytest.raises(ValueError, match="top must"):
        select_lambda(fit_product_penalty, X_train, X_test, [1.0], 3, top=11)
    with pytest.raises(ValueError, match="X_test"):
        select_lambda(fit_product_penalty, X_train, X_train, [1.0], 3)


# --------------------------------------------------------------------------- comparing neighbour lists


@pytest.mark.parametrize("seed", range(4))
def test_shared_neighbours_matches_the_loop(seed):
    rng = np.random.default_rng(seed)
    p, t = 30, 5
    first = nearest_neighbours(rng.normal(size=(p, p)), t)
    second = nearest_neighbours(rng.normal(size=(p, p)), t)
    first[3] = -1
    second[[3, 7]] = -1
    result = shared_neighbours(first, second)
    np.testing.assert_allclose(result, _ref_shared(first, second), equal_nan=True)
    assert np.isnan(result[7]) and np.all(shared_neighbours(first[:3], first[:3]) == 1.0)


def test_shared_neighbours_rejects_bad_input():
    good = np.array([[1, 2], [0, 2]])
    with pytest.raises(ValueError, match="second"):
        shared_neighbours(good, good[:1])
    with pytest.raises(ValueError, match="first"):
        shared_neighbours(good.astype(float), good)
    with pytest.raises(ValueError, match="second"):
        shared_neighbours(good, np.array([[1, -2], [0, 2]]))
    with pytest.raises(ValueError, match="first"):
        shared_neighbours(np.array([1, 2]), good)


@pytest.mark.parametrize("seed", range(4))
def test_label_jaccard_matches_the_loop(seed):
    rng = np.random.default_rng(seed)
    p, t = 25, 4
    vocabulary = ["Drama", "Comedy", "War", "Sci-Fi", "Horror"]
    labels = [frozenset(v for v in vocabulary if rng.random() < 0.35) for _ in range(p)]
    neighbours = nearest_neighbours(rng.normal(size=(p, p)), t)
    neighbours[2] = -1
    np.testing.assert_allclose(
        label_jaccard(neighbours, labels), _ref_jaccard(neighbours, labels, range(p)), equal_nan=True
    )
    items = rng.choice(p, size=6, replace=False)
    subset = neighbours[items]
    np.testing.assert_allclose(
        label_jaccard(subset, labels, items), _ref_jaccard(subset, labels, items), equal_nan=True
    )


def test_label_jaccard_small_cases():
    labels = [{"a"}, {"a", "b"}, set(), set()]
    assert label_jaccard(np.array([[1]]), labels).tolist() == [0.5]
    # Two empty label sets count as identical; one empty set shares nothing.
    assert label_jaccard(np.array([[3, 0]]), labels, items=[2]).tolist() == [0.5]


def test_label_jaccard_rejects_bad_input():
    labels = [{"a"}, {"b"}, {"a"}]
    with pytest.raises(ValueError, match="labels"):
        label_jaccard(np.array([[1]]), [["a"], {"b"}])
    with pytest.raises(ValueError, match="neighbours"):
        label_jaccard(np.array([[5]]), labels)
    with pytest.raises(ValueError, match="items"):
        label_jaccard(np.array([[1], [0]]), labels, items=[0])
    with pytest.raises(ValueError, match="items"):
        label_jaccard(np.array([[1]]), labels, items=[3])
    with pytest.raises(ValueError, match="items"):
        label_jaccard(np.zeros((4, 1), dtype=int), labels)
