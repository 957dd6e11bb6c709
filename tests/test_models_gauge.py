"""Tests for cossim.gauge_for_item_cosines: any correlation matrix is reachable by a gauge (k = p)."""

from __future__ import annotations

import numpy as np
import pytest

from cossim import (
    Factorization,
    fit_product_penalty,
    gauge_for_item_cosines,
    item_similarity,
    product_penalty_loss,
    regauge,
    user_similarity,
)


def _random_correlation(p: int, rng: np.random.Generator) -> np.ndarray:
    """A random positive-definite correlation matrix (the Gram matrix of random unit vectors)."""
    Z = rng.standard_normal((p, p + 2))
    Z /= np.linalg.norm(Z, axis=1, keepdims=True)
    C = Z @ Z.T
    C = (C + C.T) / 2.0
    np.fill_diagonal(C, 1.0)
    return C


def _data(n: int, p: int, rng: np.random.Generator) -> np.ndarray:
    """Random 0/1 data of full column rank."""
    while True:
        X = (rng.random((n, p)) < 0.4).astype(float)
        if np.linalg.matrix_rank(X) == p:
            return X


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
@pytest.mark.parametrize("lam", [0.0, 3.0])
def test_regauged_item_cosines_equal_the_target(seed, lam):
    rng = np.random.default_rng(seed)
    p = 3 + seed
    X = _data(5 * p, p, rng)
    f = fit_product_penalty(X, p, lam)
    target = _random_correlation(p, rng)
    G = gauge_for_item_cosines(f, target)
    assert G.shape == (p, p)
    g = regauge(f, G)
    assert np.allclose(item_similarity(g), target, atol=1e-10, rtol=0)
    # The regauged item embeddings are the Cholesky factor itself: unit rows.
    assert np.allclose(np.linalg.norm(g.B, axis=1), 1.0, atol=1e-10)
    assert np.allclose(g.B, np.linalg.cholesky(target), atol=1e-10)


@pytest.mark.parametrize("seed", [10, 11, 12])
def test_predictions_and_loss_are_unchanged(seed):
    rng = np.random.default_rng(seed)
    p, lam = 5, 2.0
    X = _data(30, p, rng)
    f = fit_product_penalty(X, p, lam)
    g = regauge(f, gauge_for_item_cosines(f, _random_correlation(p, rng)))
    before = X @ f.A @ f.B.T
    after = X @ g.A @ g.B.T
    assert np.max(np.abs(after - before)) <= 1e-10 * np.max(np.abs(before))
    assert product_penalty_loss(X, g.A, g.B, lam) == pytest.approx(
        product_penalty_loss(X, f.A, f.B, lam), rel=1e-10
    )
    # Users see the same predictions, but their cosines move with the gauge too.
    active = X.any(axis=1)
    assert not np.allclose(user_similarity(g, X)[np.ix_(active, active)],
                           user_similarity(f, X)[np.ix_(active, active)], atol=1e-3)


def test_identity_target_gives_orthonormal_item_embeddings():
    rng = np.random.default_rng(20)
    p = 4
    f = fit_product_penalty(_data(20, p, rng), p, 1.0)
    g = regauge(f, gauge_for_item_cosines(f, np.eye(p)))
    assert np.allclose(item_similarity(g), np.eye(p), atol=1e-10)


def test_works_for_any_invertible_square_b():
    rng = np.random.default_rng(21)
    f = Factorization(rng.standard_normal((3, 3)), rng.standard_normal((3, 3)))
    target = np.array([[1.0, -0.9, 0.3], [-0.9, 1.0, 0.0], [0.3, 0.0, 1.0]])
    g = regauge(f, gauge_for_item_cosines(f, target))
    assert np.allclose(item_similarity(g), target, atol=1e-10)
    assert np.allclose(g.A @ g.B.T, f.A @ f.B.T, atol=1e-10)


def _square_fit() -> Factorization:
    rng = np.random.default_rng(30)
    return fit_product_penalty(_data(12, 3, rng), 3, 1.0)


@pytest.mark.parametrize(
    "target, message",
    [
        (np.eye(2), "3 x 3"),
        (np.eye(3)[0], "2-D"),
        (np.array([[1.0, 0.5, 0.0], [0.4, 1.0, 0.0], [0.0, 0.0, 1.0]]), "symmetric"),
        (np.diag([1.0, 2.0, 1.0]), "diagonal"),
        (np.array([[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 1.0]]), "positive definite"),
        (np.array([[1.0, 0.9, -0.9], [0.9, 1.0, 0.9], [-0.9, 0.9, 1.0]]), "positive definite"),
        (np.array([[1.0, np.nan, 0.0], [np.nan, 1.0, 0.0], [0.0, 0.0, 1.0]]), "finite"),
    ],
)
def test_rejects_bad_targets(target, message):
    with pytest.raises(ValueError, match="target") as info:
        gauge_for_item_cosines(_square_fit(), target)
    assert message in str(info.value)


def test_rejects_non_square_factors():
    rng = np.random.default_rng(31)
    f = fit_product_penalty(_data(12, 4, rng), 3, 1.0)
    with pytest.raises(ValueError, match="factorization must have square factors"):
        gauge_for_item_cosines(f, np.eye(3))


def test_rejects_singular_b():
    B = np.array([[1.0, 2.0, 0.0], [2.0, 4.0, 0.0], [0.0, 0.0, 1.0]])
    with pytest.raises(ValueError, match="factorization must have an invertible B"):
        gauge_for_item_cosines(Factorization(np.eye(3), B), np.eye(3))


def test_rejects_rank_deficient_data_fit():
    """A rank-deficient X gives zero columns in B: no gauge can reach an arbitrary target."""
    rng = np.random.default_rng(32)
    X = rng.standard_normal((10, 2)) @ rng.standard_normal((2, 3))
    f = fit_product_penalty(X, 3, 1.0)
    with pytest.raises(ValueError, match="factorization"):
        gauge_for_item_cosines(f, np.eye(3))


def test_rejects_non_factorization():
    with pytest.raises(ValueError, match="factorization must be a cossim.Factorization"):
        gauge_for_item_cosines(np.eye(3), np.eye(3))
