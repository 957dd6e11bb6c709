"""Tests for cossim.models: closed forms against numerical minimisation, gauges, cosines, input checks."""

from __future__ import annotations

import dataclasses
import warnings
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize

from cossim import (
    Factorization,
    cosine_similarity,
    fit_factor_penalty,
    fit_product_penalty,
    fit_weight_decay,
    item_similarity,
    product_penalty_loss,
    regauge,
    user_item_similarity,
    user_similarity,
)
from tests.model_support import FITS, LOSSES

# --------------------------------------------------------------------------- independent helpers


def _data(name: str) -> np.ndarray:
    """The small test matrices: tall, wide (p > n) and rank-deficient."""
    if name == "6x4":
        return np.random.default_rng(601).standard_normal((6, 4))
    if name == "4x7":
        return np.random.default_rng(407).standard_normal((4, 7))
    if name == "8x5 rank 2":
        rng = np.random.default_rng(805)
        return rng.standard_normal((8, 2)) @ rng.standard_normal((2, 5))
    raise KeyError(name)


def _lam(kind: str, X: np.ndarray, fraction: float) -> float:
    """A penalty on the scale of the second singular value (sigma for (2), sigma**2 otherwise)."""
    sigma_2 = np.linalg.svd(X, compute_uv=False)[1]
    return fraction * (sigma_2 if kind == "factor" else sigma_2**2)


def _gradients(kind: str, X: np.ndarray, A: np.ndarray, B: np.ndarray, lam: float) -> tuple[np.ndarray, np.ndarray]:
    """Analytic gradients of the three objectives with respect to A and B."""
    G = X.T @ X
    W = A @ B.T
    dW = 2.0 * (G @ W - G)  # gradient of ||X - X W||^2 with respect to W
    if kind == "product":
        dW = dW + 2.0 * lam * W
        return dW @ B, dW.T @ A
    if kind == "factor":
        return dW @ B + 2.0 * lam * G @ A, dW.T @ A + 2.0 * lam * B
    if kind == "weight_decay":
        return dW @ B + 2.0 * lam * A, dW.T @ A + 2.0 * lam * B
    raise KeyError(kind)


def _numerical_minimum(kind: str, X: np.ndarray, k: int, lam: float, seed: int, starts: int = 4) -> float:
    """Best L-BFGS-B optimum of the objective over several seeded random starts."""
    p = X.shape[1]
    loss = LOSSES[kind]

    def value_and_gradient(z: np.ndarray) -> tuple[float, np.ndarray]:
        A, B = z[: p * k].reshape(p, k), z[p * k :].reshape(p, k)
        gA, gB = _gradients(kind, X, A, B, lam)
        return loss(X, A, B, lam), np.concatenate([gA.ravel(), gB.ravel()])

    rng = np.random.default_rng(seed)
    best = np.inf
    for _ in range(starts):
        start = 0.5 * rng.standard_normal(2 * p * k)
        result = minimize(
            value_and_gradient,
            start,
            jac=True,
            method="L-BFGS-B",
            options={"ftol": 1e-16, "gtol": 1e-12, "maxiter": 20_000, "maxcor": 30},
        )
        best = min(best, float(result.fun))
    return best


def _random_orthogonal(rng: np.random.Generator, k: int) -> np.ndarray:
    Q, R = np.linalg.qr(rng.standard_normal((k, k)))
    return Q * np.sign(np.diag(R))


def _well_conditioned_diagonal(rng: np.random.Generator, k: int) -> np.ndarray:
    """Random signs and magnitudes in [1/e, e], with the first two at 1/e and e (condition e**2)."""
    u = rng.uniform(-1.0, 1.0, k)
    u[0], u[1] = -1.0, 1.0
    return np.exp(u) * rng.choice([-1.0, 1.0], k)


def _well_conditioned_matrix(rng: np.random.Generator, k: int) -> np.ndarray:
    """Q1 diag(exp(u)) Q2 with u in [-1, 1]: condition number at most e**2, far from orthogonal."""
    u = rng.uniform(-1.0, 1.0, k)
    u[0], u[1] = -1.0, 1.0
    return (_random_orthogonal(rng, k) * np.exp(u)) @ _random_orthogonal(rng, k)


def _row_cosines(Y: np.ndarray, Z: np.ndarray) -> np.ndarray:
    """Cosines computed the textbook way, for comparison (rows assumed nonzero)."""
    Yn = Y / np.linalg.norm(Y, axis=1, keepdims=True)
    Zn = Z / np.linalg.norm(Z, axis=1, keepdims=True)
    return Yn @ Zn.T


def _relative(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


# --------------------------------------------------------------------------- the gradients used below


@pytest.mark.parametrize("kind", sorted(FITS))
def test_analytic_gradients_match_finite_differences(kind: str) -> None:
    rng = np.random.default_rng(1)
    X = rng.standard_normal((5, 4))
    A, B = rng.standard_normal((4, 2)), rng.standard_normal((4, 2))
    lam = 0.7
    gA, gB = _gradients(kind, X, A, B, lam)
    step = 1e-6
    for grad, which in ((gA, "A"), (gB, "B")):
        numeric = np.empty_like(grad)
        for index in np.ndindex(grad.shape):
            plus_A, plus_B, minus_A, minus_B = A.copy(), B.copy(), A.copy(), B.copy()
            (plus_A if which == "A" else plus_B)[index] += step
            (minus_A if which == "A" else minus_B)[index] -= step
            numeric[index] = (
                LOSSES[kind](X, plus_A, plus_B, lam) - LOSSES[kind](X, minus_A, minus_B, lam)
            ) / (2 * step)
        np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-6)


# --------------------------------------------------------------------------- closed forms are minimisers


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(FITS))
@pytest.mark.parametrize("data", ["6x4", "4x7", "8x5 rank 2"])
@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("fraction", [0.3, 1.5])
def test_closed_form_matches_numerical_minimum(kind: str, data: str, k: int, fraction: float) -> None:
    X = _data(data)
    lam = _lam(kind, X, fraction)
    f = FITS[kind](X, k, lam)
    closed = LOSSES[kind](X, f.A, f.B, lam)
    best = _numerical_minimum(kind, X, k, lam, seed=zlib.crc32(f"{kind}/{data}/{k}/{fraction}".encode()))
    # The closed form is at least as good as the best the optimiser found ...
    assert closed <= best * (1 + 1e-6)
    # ... the optimiser, from several starts, cannot beat it ...
    assert best >= closed * (1 - 1e-9)
    # ... and it does reach it (else this test would pass for an optimiser that never moves).
    assert best <= closed * (1 + 1e-6)


@pytest.mark.parametrize("kind", sorted(FITS))
@pytest.mark.parametrize("data", ["6x4", "4x7", "8x5 rank 2"])
def test_closed_form_is_a_stationary_point(kind: str, data: str) -> None:
    X = _data(data)
    lam = _lam(kind, X, 0.3)
    f = FITS[kind](X, 3, lam)
    gA, gB = _gradients(kind, X, f.A, f.B, lam)
    scale = np.linalg.norm(X) ** 2
    assert np.linalg.norm(gA) <= 1e-10 * scale
    assert np.linalg.norm(gB) <= 1e-10 * scale


# --------------------------------------------------------------------------- closed forms against numpy's SVD


@pytest.mark.parametrize("data", ["6x4", "4x7", "8x5 rank 2"])
def test_product_penalty_product_is_shrunk_projection(data: str) -> None:
    X = _data(data)
    k, lam = 3, _lam("product", X, 0.3)
    _, sigma, Vt = np.linalg.svd(X, full_matrices=False)
    shrink = sigma[:k] ** 2 / (sigma[:k] ** 2 + lam)
    expected = (Vt[:k].T * shrink) @ Vt[:k]
    f = fit_product_penalty(X, k, lam)
    np.testing.assert_allclose(f.A @ f.B.T, expected, atol=1e-12)
    np.testing.assert_array_equal(f.A, f.B)  # the symmetric split (5)


@pytest.mark.parametrize("data", ["6x4", "4x7", "8x5 rank 2"])
def test_factor_penalty_is_soft_thresholding(data: str) -> None:
    X = _data(data)
    k, lam = 3, _lam("factor", X, 0.3)
    U, sigma, Vt = np.linalg.svd(X, full_matrices=False)
    kept = np.maximum(sigma[:k] - lam, 0.0)
    f = fit_factor_penalty(X, k, lam)
    np.testing.assert_allclose(X @ f.A @ f.B.T, (U[:, :k] * kept) @ Vt[:k], atol=1e-12)
    # Balanced at the optimum: (X A)^T (X A) = B^T B = diag((sigma - lam)_+).
    XA = X @ f.A
    np.testing.assert_allclose(XA.T @ XA, f.B.T @ f.B, atol=1e-12)
    np.testing.assert_allclose(f.B.T @ f.B, np.diag(kept), atol=1e-12)


@pytest.mark.parametrize("data", ["6x4", "4x7", "8x5 rank 2"])
def test_weight_decay_product(data: str) -> None:
    X = _data(data)
    k, lam = 3, _lam("weight_decay", X, 0.3)
    _, sigma, Vt = np.linalg.svd(X, full_matrices=False)
    with np.errstate(divide="ignore"):
        kept = np.where(sigma[:k] > 1e-12, np.maximum(1 - lam / np.maximum(sigma[:k], 1e-300) ** 2, 0.0), 0.0)
    f = fit_weight_decay(X, k, lam)
    np.testing.assert_allclose(f.A @ f.B.T, (Vt[:k].T * kept) @ Vt[:k], atol=1e-12)
    np.testing.assert_array_equal(f.A, f.B)


def test_directions_below_threshold_vanish() -> None:
    X = _data("6x4")
    sigma = np.linalg.svd(X, compute_uv=False)
    lam = (sigma[1] + sigma[2]) / 2  # sigma_3 < lam < sigma_2: effective rank 2 of k = 3
    f = fit_factor_penalty(X, 3, lam)
    np.testing.assert_array_equal(f.A[:, 2], 0.0)
    np.testing.assert_array_equal(f.B[:, 2], 0.0)
    assert np.all(np.linalg.norm(f.B[:, :2], axis=0) > 0.1)
    g = fit_weight_decay(X, 3, ((sigma[1] + sigma[2]) / 2) ** 2)
    np.testing.assert_array_equal(g.A[:, 2], 0.0)
    assert np.all(np.linalg.norm(g.A[:, :2], axis=0) > 0.1)


@pytest.mark.parametrize("kind", sorted(FITS))
def test_rank_deficient_with_zero_penalty_gives_finite_zero_columns(kind: str) -> None:
    X = _data("8x5 rank 2")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f = FITS[kind](X, 4, 0.0)
    assert np.all(np.isfinite(f.A)) and np.all(np.isfinite(f.B))
    np.testing.assert_array_equal(f.A[:, 2:], 0.0)
    np.testing.assert_array_equal(f.B[:, 2:], 0.0)
    # With no penalty every fit reproduces the rank-2 data exactly.
    np.testing.assert_allclose(X @ f.A @ f.B.T, X, atol=1e-12)


@pytest.mark.parametrize("kind", sorted(FITS))
def test_zero_data_gives_zero_factors_without_warning(kind: str) -> None:
    X = np.zeros((5, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f = FITS[kind](X, 2, 1.0)
        S = item_similarity(f)
    np.testing.assert_array_equal(f.A, 0.0)
    np.testing.assert_array_equal(f.B, 0.0)
    assert np.all(np.isnan(S))


def test_binary_data_fit_agrees_with_float_data() -> None:
    rng = np.random.default_rng(2)
    X = rng.random((30, 6)) < 0.3
    for kind, fit in FITS.items():
        lam = _lam(kind, X.astype(float), 0.5)
        a, b = fit(X, 3, lam), fit(X.astype(float), 3, lam)
        np.testing.assert_allclose(a.A, b.A, atol=1e-12)
        np.testing.assert_allclose(a.B, b.B, atol=1e-12)


# --------------------------------------------------------------------------- the gauge freedom of (1)


@st.composite
def _problem(draw, min_k: int = 2) -> tuple[np.ndarray, int, float, np.random.Generator]:
    seed = draw(st.integers(0, 2**32 - 1), label="seed")
    n = draw(st.integers(2, 7), label="n")
    p = draw(st.integers(3, 7), label="p")
    k = draw(st.integers(min_k, min(n, p)), label="k")
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    lam = float(rng.uniform(0.05, 3.0))
    return X, k, lam, rng


@settings(deadline=None, max_examples=80)
@given(problem=_problem(), use_matrix=st.booleans())
def test_property_gauge_keeps_predictions_but_moves_item_cosines(problem, use_matrix: bool) -> None:
    X, k, lam, rng = problem
    base = fit_product_penalty(X, k, lam)
    gauge = _well_conditioned_matrix(rng, k) if use_matrix else _well_conditioned_diagonal(rng, k)
    moved = fit_product_penalty(X, k, lam, gauge=gauge)
    # The model is unchanged: predictions, A B^T and the loss.
    assert _relative(X @ moved.A @ moved.B.T, X @ base.A @ base.B.T) <= 1e-10
    assert _relative(moved.A @ moved.B.T, base.A @ base.B.T) <= 1e-10
    assert product_penalty_loss(X, moved.A, moved.B, lam) == pytest.approx(
        product_penalty_loss(X, base.A, base.B, lam), rel=1e-10
    )
    # The item-item cosines are not.
    assert np.max(np.abs(item_similarity(moved) - item_similarity(base))) > 1e-6


@settings(deadline=None, max_examples=60)
@given(problem=_problem())
def test_property_diagonal_gauge_cosines_follow_the_formulas(problem) -> None:
    X, k, lam, rng = problem
    base = fit_product_penalty(X, k, lam)
    d = _well_conditioned_diagonal(rng, k)
    moved = regauge(base, d)
    B, XA = base.B, X @ base.A
    item = B @ np.diag(d**-2.0) @ B.T
    user = XA @ np.diag(d**2.0) @ XA.T
    w_item, w_user = 1 / np.sqrt(np.diag(item)), 1 / np.sqrt(np.diag(user))
    np.testing.assert_allclose(item_similarity(moved), w_item[:, None] * item * w_item, atol=1e-12)
    np.testing.assert_allclose(user_similarity(moved, X), w_user[:, None] * user * w_user, atol=1e-12)
    user_item = XA @ B.T  # the dot products do not depend on d ...
    w_b = 1 / np.linalg.norm(B / d, axis=1)  # ... the normalisations do
    w_a = 1 / np.linalg.norm(XA * d, axis=1)
    np.testing.assert_allclose(user_item_similarity(moved, X), w_a[:, None] * user_item * w_b, atol=1e-12)


def test_gauge_sqrt_shrinkage_makes_items_orthogonal() -> None:
    # Full rank, k = p: with D = diag(s)^{1/2}, B D^{-1} = V, so every item is similar only to itself.
    X = _data("6x4")
    lam = 2.0
    sigma = np.linalg.svd(X, compute_uv=False)
    s = sigma**2 / (sigma**2 + lam)
    base = fit_product_penalty(X, 4, lam)
    assert np.max(np.abs(item_similarity(base) - np.eye(4))) > 0.05
    np.testing.assert_allclose(item_similarity(fit_product_penalty(X, 4, lam, gauge=np.sqrt(s))), np.eye(4), atol=1e-12)


def test_gauge_inverse_sqrt_shrinkage_gives_raw_user_cosines() -> None:
    # Full rank, k = p: with D = diag(s)^{-1/2}, X A D = X V, so user cosines are those of the raw rows.
    X = _data("6x4")
    lam = 2.0
    sigma = np.linalg.svd(X, compute_uv=False)
    s = sigma**2 / (sigma**2 + lam)
    f = fit_product_penalty(X, 4, lam, gauge=1 / np.sqrt(s))
    np.testing.assert_allclose(user_similarity(f, X), _row_cosines(X, X), atol=1e-12)
    assert np.max(np.abs(user_similarity(fit_product_penalty(X, 4, lam), X) - _row_cosines(X, X))) > 0.01


def test_gauge_argument_equals_regauge_and_diagonal_equals_matrix() -> None:
    X = _data("4x7")
    d = np.array([0.5, -2.0, 3.0])
    via_fit = fit_product_penalty(X, 3, 1.0, gauge=d)
    via_regauge = regauge(fit_product_penalty(X, 3, 1.0), d)
    via_matrix = regauge(fit_product_penalty(X, 3, 1.0), np.diag(d))
    np.testing.assert_array_equal(via_fit.A, via_regauge.A)
    np.testing.assert_array_equal(via_fit.B, via_regauge.B)
    np.testing.assert_allclose(via_matrix.A, via_fit.A, atol=1e-14)
    np.testing.assert_allclose(via_matrix.B, via_fit.B, atol=1e-14)
    np.testing.assert_allclose(via_fit.A, fit_product_penalty(X, 3, 1.0).A * d, atol=1e-15)


def test_regauge_round_trip() -> None:
    rng = np.random.default_rng(3)
    f = Factorization(rng.standard_normal((6, 3)), rng.standard_normal((6, 3)))
    G = _well_conditioned_matrix(rng, 3)
    back = regauge(regauge(f, G), np.linalg.inv(G))
    np.testing.assert_allclose(back.A, f.A, atol=1e-12)
    np.testing.assert_allclose(back.B, f.B, atol=1e-12)
    d = _well_conditioned_diagonal(rng, 3)
    back = regauge(regauge(f, d), 1 / d)
    np.testing.assert_allclose(back.A, f.A, atol=1e-14)
    np.testing.assert_allclose(back.B, f.B, atol=1e-14)


# --------------------------------------------------------------------------- no freedom in (2) and weight decay


@settings(deadline=None, max_examples=60)
@given(problem=_problem(min_k=1), kind=st.sampled_from(["factor", "weight_decay"]))
def test_property_rotations_change_nothing(problem, kind: str) -> None:
    X, k, lam, rng = problem
    lam = _lam(kind, X, lam / 3.0)  # a fraction in (0.016, 1) of the second singular value (squared)
    f = FITS[kind](X, k, lam)
    R = _random_orthogonal(rng, k)
    rotated = regauge(f, R)  # an orthogonal G has G^{-T} = G: (A R, B R)
    np.testing.assert_allclose(rotated.B, f.B @ R, atol=1e-13)
    assert LOSSES[kind](X, rotated.A, rotated.B, lam) == pytest.approx(LOSSES[kind](X, f.A, f.B, lam), rel=1e-12)
    for before, after in (
        (item_similarity(f), item_similarity(rotated)),
        (user_similarity(f, X), user_similarity(rotated, X)),
        (user_item_similarity(f, X), user_item_similarity(rotated, X)),
    ):
        np.testing.assert_array_equal(np.isnan(after), np.isnan(before))
        np.testing.assert_allclose(after, before, atol=1e-12)


@settings(deadline=None, max_examples=60)
@given(problem=_problem(), kind=st.sampled_from(["factor", "weight_decay"]))
def test_property_diagonal_gauge_raises_the_loss(problem, kind: str) -> None:
    X, k, lam, rng = problem
    lam = _lam(kind, X, lam / 3.0)  # below sigma_2 (or sigma_2**2): the first two directions survive
    f = FITS[kind](X, k, lam)
    d = _well_conditioned_diagonal(rng, k)  # |d_1| = 1/e, |d_2| = e: not orthogonal
    moved = regauge(f, d)
    before = LOSSES[kind](X, f.A, f.B, lam)
    after = LOSSES[kind](X, moved.A, moved.B, lam)
    # Per direction the penalty becomes lam t (d^2 + 1/d^2) instead of 2 lam t, with t the
    # squared length of the balanced column: the increase is lam sum t_i (d_i - 1/d_i)^2.
    t = np.sum(f.B**2, axis=0)
    increase = lam * float(np.sum(t * (d - 1 / d) ** 2))
    assert after - before == pytest.approx(increase, rel=1e-9, abs=1e-12 * before)
    assert increase > 0.1 * lam * t[0]  # strictly: (e - 1/e)^2 = 5.5 on the first direction alone
    assert after > before


def test_factor_penalty_cosines_depend_on_lambda() -> None:
    X = _data("6x4")
    sigma = np.linalg.svd(X, compute_uv=False)
    small, large = fit_factor_penalty(X, 3, 0.1 * sigma[2]), fit_factor_penalty(X, 3, 0.9 * sigma[2])
    assert np.max(np.abs(item_similarity(small) - item_similarity(large))) > 0.01


# --------------------------------------------------------------------------- the three similarity helpers


def test_similarity_helpers_shapes_and_values() -> None:
    X = _data("4x7")
    f = fit_product_penalty(X, 3, 1.0, gauge=[1.0, 2.0, 0.5])
    S_items, S_users, S_both = item_similarity(f), user_similarity(f, X), user_item_similarity(f, X)
    assert S_items.shape == (7, 7) and S_users.shape == (4, 4) and S_both.shape == (4, 7)
    np.testing.assert_allclose(S_items, _row_cosines(f.B, f.B), atol=1e-14)
    np.testing.assert_allclose(S_users, _row_cosines(X @ f.A, X @ f.A), atol=1e-14)
    np.testing.assert_allclose(S_both, _row_cosines(X @ f.A, f.B), atol=1e-14)
    np.testing.assert_array_equal(S_items, cosine_similarity(f.B))


# --------------------------------------------------------------------------- Factorization


def test_factorization_is_immutable_and_copies_input() -> None:
    A = np.ones((3, 2))
    f = Factorization(A, A.copy())
    A[0, 0] = 5.0
    assert f.A[0, 0] == 1.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        f.A = np.zeros((3, 2))  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        f.A[0, 0] = 2.0
    assert f.p == 3 and f.k == 2


def test_factorization_accepts_lists_and_integers() -> None:
    f = Factorization([[1, 0], [0, 1]], [[2, 0], [0, 2]])
    assert f.A.dtype == np.float64 and f.B.dtype == np.float64


@pytest.mark.parametrize(
    ("A", "B", "name"),
    [
        (np.ones((3, 2)), np.ones((3, 3)), "B"),
        (np.ones((3, 2)), np.ones((4, 2)), "B"),
        (np.ones(3), np.ones((3, 1)), "A"),
        (np.ones((3, 1)), np.ones(3), "B"),
        (np.array([[np.nan]]), np.ones((1, 1)), "A"),
        (np.ones((1, 1)), np.array([[np.inf]]), "B"),
    ],
)
def test_factorization_rejects_bad_factors(A, B, name: str) -> None:
    with pytest.raises(ValueError, match=f"^{name}"):
        Factorization(A, B)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("fit", list(FITS.values()), ids=list(FITS))
@pytest.mark.parametrize("lam", [-1.0, np.nan, np.inf, "1", None, True])
def test_fits_reject_bad_lam(fit, lam) -> None:
    with pytest.raises(ValueError, match="^lam"):
        fit(np.ones((4, 3)), 2, lam)


@pytest.mark.parametrize("fit", list(FITS.values()), ids=list(FITS))
@pytest.mark.parametrize("k", [0, 4, -1, 2.0, None])
def test_fits_reject_bad_k(fit, k) -> None:
    with pytest.raises(ValueError, match="^k"):
        fit(np.ones((5, 3)), k, 1.0)


@pytest.mark.parametrize("fit", list(FITS.values()), ids=list(FITS))
@pytest.mark.parametrize("X", [np.ones(4), np.array([[1.0, np.nan], [0.0, 1.0]]), np.zeros((0, 2))])
def test_fits_reject_bad_X(fit, X) -> None:
    with pytest.raises(ValueError, match="^X"):
        fit(X, 1, 1.0)


@pytest.mark.parametrize(
    "gauge",
    [
        [1.0, 0.0],
        [1.0, 5e-324],
        [1.0, 2.0, 3.0],
        [1.0, np.nan],
        [[1.0, 2.0], [2.0, 4.0]],
        [[1.0, 0.0], [0.0, 0.0]],
        [[1.0, 1e-17], [0.0, 1e-17]],
        [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]],
        [[1.0, np.inf], [0.0, 1.0]],
        np.ones((2, 2, 2)),
        2.0,
        [[1.0, 2.0], [3.0]],
        ["a", "b"],
    ],
    ids=[
        "zero",
        "subnormal",
        "length",
        "nan",
        "singular",
        "zero-column",
        "nearly-singular",
        "shape",
        "inf",
        "3-D",
        "scalar",
        "ragged",
        "strings",
    ],
)
def test_bad_gauge_rejected(gauge) -> None:
    X = np.random.default_rng(4).standard_normal((5, 3))
    with pytest.raises(ValueError, match="^gauge"):
        fit_product_penalty(X, 2, 1.0, gauge=gauge)
    with pytest.raises(ValueError, match="^gauge"):
        regauge(fit_product_penalty(X, 2, 1.0), gauge)


def test_regauge_rejects_overflowing_gauge_without_warning() -> None:
    f = Factorization(np.full((3, 2), 1e10), np.ones((3, 2)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="^gauge"):
            regauge(f, [1e300, 1.0])
        with pytest.raises(ValueError, match="^gauge"):
            regauge(f, [[1e300, 0.0], [0.0, 1e300]])


def test_regauge_rejects_non_factorization() -> None:
    with pytest.raises(ValueError, match="^factorization"):
        regauge((np.ones((3, 2)), np.ones((3, 2))), [1.0, 2.0])


@pytest.mark.parametrize("loss", list(LOSSES.values()), ids=list(LOSSES))
def test_losses_reject_bad_input(loss) -> None:
    X, A, B = np.ones((4, 3)), np.ones((3, 2)), np.ones((3, 2))
    assert np.isfinite(loss(X, A, B, 1.0))
    with pytest.raises(ValueError, match="^A"):
        loss(X, np.ones((4, 2)), B, 1.0)
    with pytest.raises(ValueError, match="^B"):
        loss(X, A, np.ones((3, 1)), 1.0)
    with pytest.raises(ValueError, match="^B"):
        loss(X, A, np.ones((2, 2)), 1.0)
    with pytest.raises(ValueError, match="^X"):
        loss(np.full((4, 3), np.nan), A, B, 1.0)
    with pytest.raises(ValueError, match="^A"):
        loss(X, np.ones(3), B, 1.0)
    with pytest.raises(ValueError, match="^lam"):
        loss(X, A, B, -0.5)


def test_similarity_helpers_reject_bad_input() -> None:
    f = Factorization(np.ones((3, 2)), np.ones((3, 2)))
    for helper in (item_similarity,):
        with pytest.raises(ValueError, match="^f"):
            helper((f.A, f.B))
    for helper in (user_similarity, user_item_similarity):
        with pytest.raises(ValueError, match="^f"):
            helper("not a factorization", np.ones((4, 3)))
        with pytest.raises(ValueError, match="^X"):
            helper(f, np.ones((4, 2)))
        with pytest.raises(ValueError, match="^X"):
            helper(f, np.full((4, 3), np.nan))


# --------------------------------------------------------------------------- shared spectrum


def test_fits_from_a_shared_spectrum_equal_the_fits_from_X():
    from cossim import top_spectrum, top_svd

    rng = np.random.default_rng(11)
    X = (rng.random((60, 9)) < 0.3).astype(float)
    spectrum = top_spectrum(X, 6)
    _, s, V = top_svd(X, 6)
    np.testing.assert_array_equal(spectrum[0], s)
    np.testing.assert_array_equal(spectrum[1], V)
    for fit, lam in ((fit_product_penalty, 4.0), (fit_factor_penalty, 2.0), (fit_weight_decay, 3.0)):
        direct = fit(X, 4, lam)
        shared = fit(X, 4, lam, spectrum=spectrum)  # uses the leading 4 of 6 pairs
        np.testing.assert_allclose(shared.A, direct.A, atol=1e-12)
        np.testing.assert_allclose(shared.B, direct.B, atol=1e-12)


@pytest.mark.parametrize(
    "spectrum, match",
    [
        ("not a pair", "spectrum"),
        ((np.ones(3), np.ones((5, 3))), "spectrum does not fit X"),
        ((np.array([3.0, 2.0]), np.ones((9, 2))), "fewer than k"),
        ((np.array([1.0, 2.0, 3.0]), np.ones((9, 3))), "descending"),
        ((np.array([3.0, np.nan, 1.0]), np.ones((9, 3))), "spectrum"),
    ],
)
def test_a_bad_spectrum_is_rejected(spectrum, match):
    X = np.ones((20, 9))
    with pytest.raises(ValueError, match=match):
        fit_product_penalty(X, 3, 1.0, spectrum=spectrum)
