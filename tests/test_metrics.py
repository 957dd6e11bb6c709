"""Tests for cossim.metrics against plain-loop reference implementations, plus sanity cases."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cossim import cosine_similarity
from cossim import metrics as _metrics
from cossim.metrics import (
    ClusterMetricsResult,
    cluster_metrics,
    nearest_neighbours,
    neighbour_overlap,
)

# The reference kernels behind cluster_metrics (private: no chapter calls them on their own).
within_between_means = _metrics.within_between_means  # also public
cluster_auc = _metrics._cluster_auc
precision_at_k = _metrics._precision_at_k

# --------------------------------------------------------------------------- plain-loop references


def _ref_means(S, clusters):
    within, between = [], []
    p = len(clusters)
    for i, j in itertools.combinations(range(p), 2):
        if np.isnan(S[i][j]):
            continue
        (within if clusters[i] == clusters[j] else between).append(S[i][j])
    mean = lambda values: sum(values) / len(values) if values else float("nan")  # noqa: E731
    return mean(within), mean(between)


def _ref_auc(S, clusters):
    positives, negatives = [], []
    for i, j in itertools.combinations(range(len(clusters)), 2):
        if not np.isnan(S[i][j]):
            (positives if clusters[i] == clusters[j] else negatives).append(S[i][j])
    if not positives or not negatives:
        return float("nan")
    wins = 0.0
    for a in positives:
        for b in negatives:
            wins += 1.0 if a > b else 0.5 if a == b else 0.0
    return wins / (len(positives) * len(negatives))


def _ref_neighbours(S, k):
    p = len(S)
    result = []
    for i in range(p):
        candidates = [(-S[i][j], j) for j in range(p) if j != i and not np.isnan(S[i][j])]
        if len(candidates) < k:
            result.append([-1] * k)
        else:
            result.append([j for _, j in sorted(candidates)[:k]])
    return np.array(result, dtype=np.int64)


def _ref_precision(S, clusters, k):
    fractions = []
    for i, row in enumerate(_ref_neighbours(S, k)):
        if row[0] >= 0:
            fractions.append(sum(clusters[j] == clusters[i] for j in row) / k)
    return sum(fractions) / len(fractions) if fractions else float("nan")


def _ref_overlap(S1, S2, k):
    first, second = _ref_neighbours(S1, k), _ref_neighbours(S2, k)
    shares = [len(set(a) & set(b)) / k for a, b in zip(first, second) if a[0] >= 0 and b[0] >= 0]
    return sum(shares) / len(shares) if shares else float("nan")


# --------------------------------------------------------------------------- test inputs


def _random_case(seed: int, p: int, n_clusters: int, ties: bool, nan_items: int, nan_pairs: int):
    """A symmetric similarity with optional ties, NaN rows/columns (zero embeddings) and NaN pairs."""
    rng = np.random.default_rng(seed)
    S = rng.uniform(-1, 1, size=(p, p))
    if ties:
        S = np.round(S, 1)
    S = np.triu(S, 1)
    S = S + S.T
    np.fill_diagonal(S, 1.0)
    for i in rng.choice(p, size=nan_items, replace=False):
        S[i, :] = S[:, i] = np.nan
    for _ in range(nan_pairs):
        i, j = rng.choice(p, size=2, replace=False)
        S[i, j] = S[j, i] = np.nan
    clusters = rng.integers(0, n_clusters, size=p)
    return S, clusters


CASES = [
    dict(seed=0, p=2, n_clusters=2, ties=False, nan_items=0, nan_pairs=0),
    dict(seed=1, p=7, n_clusters=2, ties=True, nan_items=0, nan_pairs=0),
    dict(seed=2, p=25, n_clusters=3, ties=False, nan_items=0, nan_pairs=0),
    dict(seed=3, p=25, n_clusters=3, ties=True, nan_items=2, nan_pairs=5),
    dict(seed=4, p=40, n_clusters=5, ties=True, nan_items=0, nan_pairs=30),
    dict(seed=5, p=12, n_clusters=1, ties=False, nan_items=1, nan_pairs=0),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"p{c['p']}-seed{c['seed']}")
def test_pair_scores_match_the_loops(case):
    S, clusters = _random_case(**case)
    within, between = within_between_means(S, clusters)
    ref_within, ref_between = _ref_means(S, clusters)
    np.testing.assert_allclose([within, between], [ref_within, ref_between], rtol=1e-12, equal_nan=True)
    np.testing.assert_allclose(cluster_auc(S, clusters), _ref_auc(S, clusters), rtol=1e-12, equal_nan=True)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"p{c['p']}-seed{c['seed']}")
def test_neighbour_scores_match_the_loops(case):
    S, clusters = _random_case(**case)
    p = S.shape[0]
    other, _ = _random_case(**(case | {"seed": case["seed"] + 100}))
    for k in sorted({1, min(3, p - 1), p - 1}):
        np.testing.assert_array_equal(nearest_neighbours(S, k), _ref_neighbours(S, k))
        np.testing.assert_allclose(
            precision_at_k(S, clusters, k), _ref_precision(S, clusters, k), rtol=1e-12, equal_nan=True
        )
        np.testing.assert_allclose(
            neighbour_overlap(S, other, k), _ref_overlap(S, other, k), rtol=1e-12, equal_nan=True
        )


@settings(max_examples=60, deadline=None)
@given(
    p=st.integers(2, 9),
    seed=st.integers(0, 2**32 - 1),
    levels=st.integers(1, 4),
    n_clusters=st.integers(1, 3),
    nan_pairs=st.integers(0, 4),
)
def test_all_scores_match_the_loops_on_heavily_tied_inputs(p, seed, levels, n_clusters, nan_pairs):
    """Few distinct values (down to one): ties everywhere, the hard case for ranks and neighbours."""
    rng = np.random.default_rng(seed)
    S = rng.integers(0, levels, size=(p, p)) / max(levels - 1, 1)
    S = np.triu(S, 1)
    S = S + S.T
    for _ in range(nan_pairs):
        i, j = rng.choice(p, size=2, replace=False)
        S[i, j] = S[j, i] = np.nan
    clusters = rng.integers(0, n_clusters, size=p)
    k = int(rng.integers(1, p))
    metrics = cluster_metrics(S, clusters, k)
    np.testing.assert_allclose(
        [metrics.within, metrics.between, metrics.auc, metrics.precision],
        [*_ref_means(S, clusters), _ref_auc(S, clusters), _ref_precision(S, clusters, k)],
        rtol=1e-12,
        equal_nan=True,
    )
    np.testing.assert_array_equal(nearest_neighbours(S, k), _ref_neighbours(S, k))


def test_cluster_metrics_agrees_with_the_separate_functions_and_counts_what_it_skips():
    S, clusters = _random_case(seed=3, p=25, n_clusters=3, ties=True, nan_items=2, nan_pairs=5)
    metrics = cluster_metrics(S, clusters, top=3)
    assert isinstance(metrics, ClusterMetricsResult)
    assert (metrics.within, metrics.between) == within_between_means(S, clusters)
    assert metrics.auc == cluster_auc(S, clusters)
    assert metrics.precision == precision_at_k(S, clusters, 3)
    assert metrics.top == 3
    assert metrics.n_pairs == 25 * 24 // 2
    upper = S[np.triu_indices(25, 1)]
    assert metrics.n_undefined_pairs == np.count_nonzero(np.isnan(upper))
    assert metrics.n_excluded_items == 2
    with pytest.raises(dataclasses.FrozenInstanceError):
        metrics.auc = 0.0


# --------------------------------------------------------------------------- sanity cases


def _labels(sizes):
    return np.repeat(np.arange(len(sizes)), sizes)


def test_ground_truth_scores_perfectly():
    clusters = np.random.default_rng(0).permutation(_labels([11, 30, 59, 100]))
    truth = np.equal.outer(clusters, clusters).astype(float)
    metrics = cluster_metrics(truth, clusters, top=10)
    assert (metrics.within, metrics.between, metrics.auc, metrics.precision) == (1.0, 0.0, 1.0, 1.0)
    assert metrics.n_undefined_pairs == 0 and metrics.n_excluded_items == 0


def test_ground_truth_precision_is_limited_by_small_clusters():
    clusters = _labels([4, 50])
    truth = np.equal.outer(clusters, clusters).astype(float)
    # The 4 items of the small cluster find only 3 same-cluster neighbours among their 10.
    assert precision_at_k(truth, clusters, 10) == pytest.approx((4 * 0.3 + 50 * 1.0) / 54)
    assert cluster_auc(truth, clusters) == 1.0


def test_random_similarity_scores_like_chance():
    rng = np.random.default_rng(1)
    p = 400
    S = rng.standard_normal((p, p))
    S = (S + S.T) / 2
    clusters = rng.integers(0, 5, size=p)
    metrics = cluster_metrics(S, clusters, top=10)
    assert abs(metrics.auc - 0.5) < 0.02
    assert abs(metrics.precision - 0.2) < 0.03
    assert abs(metrics.within - metrics.between) < 0.03
    other = rng.standard_normal((p, p))
    assert neighbour_overlap(S, other, 10) == pytest.approx(10 / (p - 1), abs=0.01)


def test_reversed_similarity_has_auc_zero():
    clusters = _labels([5, 5])
    truth = np.equal.outer(clusters, clusters).astype(float)
    assert cluster_auc(-truth, clusters) == 0.0
    assert cluster_auc(np.zeros((10, 10)), clusters) == 0.5  # all tied


def test_overlap_of_a_matrix_with_itself_and_with_a_monotone_transform():
    S, _ = _random_case(seed=7, p=30, n_clusters=2, ties=False, nan_items=0, nan_pairs=0)
    assert neighbour_overlap(S, S, 5) == 1.0
    assert neighbour_overlap(S, np.tanh(3 * S), 5) == 1.0
    assert neighbour_overlap(S, -S, 1) == 0.0


def test_ties_are_broken_by_index():
    S = np.ones((6, 6))
    expected = [[1, 2, 3], [0, 2, 3], [0, 1, 3], [0, 1, 2], [0, 1, 2], [0, 1, 2]]
    np.testing.assert_array_equal(nearest_neighbours(S, 3), expected)
    S = np.array([[1.0, 0.5, 0.9, 0.5], [0.5, 1.0, 0.5, 0.5], [0.9, 0.5, 1.0, 0.5], [0.5, 0.5, 0.5, 1.0]])
    np.testing.assert_array_equal(nearest_neighbours(S, 2)[0], [2, 1])


def test_zero_embeddings_from_cosine_similarity_are_excluded_and_counted():
    rng = np.random.default_rng(2)
    B = rng.standard_normal((20, 4))
    B[[3, 11]] = 0.0  # two items with zero embeddings: their rows and columns of S are NaN
    S = cosine_similarity(B)
    clusters = rng.integers(0, 2, size=20)
    metrics = cluster_metrics(S, clusters, top=5)
    assert metrics.n_undefined_pairs == 2 * 19 - 1
    assert metrics.n_excluded_items == 2
    keep = np.setdiff1d(np.arange(20), [3, 11])
    reduced = cluster_metrics(S[np.ix_(keep, keep)], clusters[keep], top=5)
    assert (metrics.within, metrics.between, metrics.auc, metrics.precision) == pytest.approx(
        (reduced.within, reduced.between, reduced.auc, reduced.precision), rel=1e-12
    )
    neighbours = nearest_neighbours(S, 5)
    assert np.all(neighbours[[3, 11]] == -1)
    assert not np.isin(neighbours, [3, 11]).any()


def test_all_undefined_gives_nan_without_warnings():
    S = np.full((4, 4), np.nan)
    clusters = np.array([0, 0, 1, 1])
    metrics = cluster_metrics(S, clusters, top=1)
    assert np.isnan([metrics.within, metrics.between, metrics.auc, metrics.precision]).all()
    assert metrics.n_undefined_pairs == 6 and metrics.n_excluded_items == 4
    assert np.isnan(neighbour_overlap(S, np.eye(4), 1))


def test_a_single_cluster_has_no_between_pairs():
    S, _ = _random_case(seed=8, p=6, n_clusters=1, ties=False, nan_items=0, nan_pairs=0)
    within, between = within_between_means(S, np.zeros(6, dtype=int))
    assert np.isfinite(within) and np.isnan(between)
    assert np.isnan(cluster_auc(S, np.zeros(6, dtype=int)))


def test_the_diagonal_is_ignored():
    S, clusters = _random_case(seed=9, p=10, n_clusters=2, ties=False, nan_items=0, nan_pairs=0)
    T = S.copy()
    np.fill_diagonal(T, np.nan)
    assert cluster_metrics(S, clusters, 3) == cluster_metrics(T, clusters, 3)


def test_paper_size_is_fast_enough_to_use_in_a_chapter():
    """p = 1,000 (about 500,000 pairs) runs and agrees with a sort-based reference for the AUC."""
    rng = np.random.default_rng(3)
    clusters = rng.integers(0, 5, size=1_000)
    B = rng.standard_normal((1_000, 20)) + 2.0 * np.eye(5)[clusters] @ rng.standard_normal((5, 20))
    S = cosine_similarity(B)
    metrics = cluster_metrics(S, clusters, top=10)
    upper = np.triu_indices(1_000, 1)
    scores, same = S[upper], clusters[upper[0]] == clusters[upper[1]]
    from scipy.stats import mannwhitneyu

    expected = mannwhitneyu(scores[same], scores[~same]).statistic / (same.sum() * (~same).sum())
    assert metrics.auc == pytest.approx(expected, rel=1e-12)
    assert 0.5 < metrics.auc < 1.0 and 0.2 < metrics.precision <= 1.0


# --------------------------------------------------------------------------- input checks


@pytest.mark.parametrize(
    "S, message",
    [
        (np.ones(4), "2-D array"),
        (np.ones((3, 4)), "square"),
        (np.ones((1, 1)), "at least 2"),
        (np.array([["a", "b"], ["c", "d"]]), "real numbers"),
        (np.array([[1.0, np.inf], [np.inf, 1.0]]), "infinity"),
        (np.array([[1.0, 0.2], [0.3, 1.0]]), "symmetric"),
        (np.array([[1.0, np.nan], [0.3, 1.0]]), "symmetric"),
    ],
)
def test_pair_scores_reject_bad_similarities(S, message):
    for function in (within_between_means, cluster_auc, cluster_metrics):
        with pytest.raises(ValueError, match=f"S must .*{message}"):
            function(S, [0, 1])  # S is checked first


def test_neighbour_scores_accept_asymmetric_input_but_check_the_rest():
    S = np.array([[1.0, 0.2, 0.1], [0.9, 1.0, 0.1], [0.3, 0.8, 1.0]])
    np.testing.assert_array_equal(nearest_neighbours(S, 1).ravel(), [1, 0, 1])
    with pytest.raises(ValueError, match="S1 must"):
        neighbour_overlap(np.ones((2, 3)), np.ones((2, 2)), 1)
    with pytest.raises(ValueError, match="S2 must"):
        neighbour_overlap(np.ones((3, 3)), np.ones((2, 2)), 1)
    with pytest.raises(ValueError, match="S2 must"):
        neighbour_overlap(np.ones((3, 3)), np.full((3, 3), np.inf), 1)


@pytest.mark.parametrize("k", [0, 5, -1, 2.0, True, "3"])
def test_k_out_of_range_is_rejected(k):
    S = np.eye(5)
    clusters = np.zeros(5, dtype=int)
    for call in (
        lambda: nearest_neighbours(S, k),
        lambda: precision_at_k(S, clusters, k),
        lambda: neighbour_overlap(S, S, k),
        lambda: cluster_metrics(S, clusters, k),
    ):
        with pytest.raises(ValueError, match="top must"):
            call()


@pytest.mark.parametrize("clusters", [[0, 1], [0.0, 1.0, 1.0], [True, False, True], [[0, 1, 1]], ["a", "b", "b"]])
def test_bad_clusters_are_rejected(clusters):
    S = np.eye(3)
    for function in (within_between_means, cluster_auc, precision_at_k, cluster_metrics):
        with pytest.raises(ValueError, match="clusters must"):
            function(S, clusters)
