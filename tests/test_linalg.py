"""Tests for cossim.linalg.top_svd against numpy.linalg.svd and first principles."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cossim import linalg as _linalg
from cossim import top_svd

# The float32-exactness rule behind gram_matrix and top_svd (private kernels, tested here directly).
_gram = _linalg._gram


def _float32_gram_is_exact(X, integral_dtype):
    return _linalg._float32_copy_if_exact(X, integral_dtype) is not None


def _reference(X: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """numpy's thin SVD, truncated to k, with the documented sign convention applied."""
    U, s, Vt = np.linalg.svd(np.asarray(X, dtype=np.float64), full_matrices=False)
    U, s, V = U[:, :k], s[:k], Vt[:k].T
    for j in range(k):
        i = int(np.argmax(np.abs(V[:, j])))
        if V[i, j] < 0:
            U[:, j] *= -1
            V[:, j] *= -1
    return U, s, V


def _matrix_with_singular_values(rng: np.random.Generator, n: int, p: int, sigma) -> np.ndarray:
    """A random n x p matrix whose nonzero singular values are exactly ``sigma`` (up to rounding)."""
    r = len(sigma)
    Q1, _ = np.linalg.qr(rng.standard_normal((n, r)))
    Q2, _ = np.linalg.qr(rng.standard_normal((p, r)))
    return (Q1 * np.asarray(sigma, dtype=float)) @ Q2.T


def _check_decomposition(X: np.ndarray, k: int, U, s, V, atol: float = 1e-10) -> None:
    n, p = X.shape
    assert U.shape == (n, k) and s.shape == (k,) and V.shape == (p, k)
    assert np.all(np.isfinite(U)) and np.all(np.isfinite(s)) and np.all(np.isfinite(V))
    assert np.all(s >= 0)
    assert np.all(np.diff(s) <= 0), "singular values must be descending"
    np.testing.assert_allclose(U.T @ U, np.eye(k), atol=atol)
    np.testing.assert_allclose(V.T @ V, np.eye(k), atol=atol)
    scale = max(1.0, float(np.linalg.norm(X, 2)))
    np.testing.assert_allclose(X @ V, U * s, atol=atol * scale)
    rows = np.argmax(np.abs(V), axis=0)
    assert np.all(V[rows, np.arange(k)] > 0), "sign convention: largest |entry| of each V column positive"


SHAPES = [(12, 5, 3), (12, 5, 5), (5, 12, 3), (5, 12, 5), (9, 9, 4), (40, 7, 1), (3, 30, 2)]


@pytest.mark.parametrize(("n", "p", "k"), SHAPES)
def test_matches_numpy_svd_on_gaussian_data(n: int, p: int, k: int) -> None:
    rng = np.random.default_rng(1000 * n + 10 * p + k)
    X = rng.standard_normal((n, p))
    U, s, V = top_svd(X, k)
    _check_decomposition(X, k, U, s, V)
    U_ref, s_ref, V_ref = _reference(X, k)
    np.testing.assert_allclose(s, s_ref, rtol=1e-10)
    # Gaussian singular values are distinct, so with a fixed sign the vectors are unique.
    np.testing.assert_allclose(V, V_ref, atol=1e-8)
    np.testing.assert_allclose(U, U_ref, atol=1e-8)


@pytest.mark.parametrize(("n", "p", "rank", "k"), [(10, 6, 2, 6), (10, 6, 3, 4), (4, 9, 2, 4), (8, 5, 3, 3)])
def test_rank_deficient_input(n: int, p: int, rank: int, k: int) -> None:
    rng = np.random.default_rng(7 * n + p + 31 * rank)
    X = rng.standard_normal((n, rank)) @ rng.standard_normal((rank, p))
    U, s, V = top_svd(X, k)
    _check_decomposition(X, k, U, s, V)
    s_ref = np.linalg.svd(X, compute_uv=False)[:k]
    np.testing.assert_allclose(s, s_ref, rtol=1e-9, atol=1e-12 * s_ref[0])
    if k > rank:
        assert np.all(s[rank:] <= 1e-12 * s[0])
    # Whatever the basis chosen for the null directions, the rank-k reconstruction is X itself.
    if k >= rank:
        np.testing.assert_allclose((U * s) @ V.T, X, atol=1e-10 * s[0])


def test_zero_matrix_gives_zero_values_and_orthonormal_vectors() -> None:
    X = np.zeros((6, 4))
    U, s, V = top_svd(X, 3)
    np.testing.assert_array_equal(s, np.zeros(3))
    _check_decomposition(X, 3, U, s, V)


def test_small_trailing_singular_value_is_accurate() -> None:
    # sigma_2 / sigma_1 = 1e-5 is below the Gram threshold: squaring would lose ~1e-6 relative
    # accuracy in sigma_2, so the function must take the exact route and keep ~1e-10.
    rng = np.random.default_rng(3)
    sigma = np.array([1.0, 1e-5])
    X = _matrix_with_singular_values(rng, 30, 4, sigma)
    U, s, V = top_svd(X, 2)
    np.testing.assert_allclose(s, sigma, rtol=1e-9)
    _check_decomposition(X, 2, U, s, V)


def test_gram_route_just_above_threshold_is_accurate() -> None:
    rng = np.random.default_rng(4)
    sigma = np.array([5.0, 3.0, 2e-2])  # sigma_3^2 / sigma_1^2 = 1.6e-5, Gram route
    X = _matrix_with_singular_values(rng, 25, 6, sigma)
    U, s, V = top_svd(X, 3)
    np.testing.assert_allclose(s, sigma, rtol=1e-9)
    _check_decomposition(X, 3, U, s, V, atol=1e-9)


@pytest.mark.parametrize(("n", "p", "k"), [(200, 40, 10), (30, 60, 5), (50, 50, 50)])
def test_binary_data_matches_numpy_svd(n: int, p: int, k: int) -> None:
    rng = np.random.default_rng(n + p + k)
    X = (rng.random((n, p)) < 0.2).astype(np.float64)
    U, s, V = top_svd(X, k)
    _check_decomposition(X, k, U, s, V, atol=1e-9)
    _, s_ref, _ = _reference(X, k)
    np.testing.assert_allclose(s, s_ref, rtol=1e-9)


def test_bool_int_and_list_inputs_agree_with_float() -> None:
    rng = np.random.default_rng(11)
    X_bool = rng.random((60, 15)) < 0.3
    expected = top_svd(X_bool.astype(np.float64), 4)
    for X in (X_bool, X_bool.astype(np.int8), X_bool.astype(np.int64), X_bool.astype(int).tolist()):
        got = top_svd(X, 4)
        for a, b in zip(got, expected):
            np.testing.assert_allclose(a, b, atol=1e-12)


def test_float32_gram_is_exact_for_binary_data() -> None:
    rng = np.random.default_rng(12)
    X = (rng.random((500, 30)) < 0.5).astype(np.float64)
    assert _float32_gram_is_exact(X, integral_dtype=False)
    exact = (X.astype(np.int64).T @ X.astype(np.int64)).astype(np.float64)
    np.testing.assert_array_equal(_gram(X, integral_dtype=False), exact)


def test_float32_gram_is_exact_for_small_integers() -> None:
    rng = np.random.default_rng(13)
    X_int = rng.integers(-5, 6, size=(400, 20))
    X = X_int.astype(np.float64)
    assert _float32_gram_is_exact(X, integral_dtype=False)
    np.testing.assert_array_equal(_gram(X, integral_dtype=False), (X_int.T @ X_int).astype(np.float64))


def test_float32_route_refused_when_it_would_round() -> None:
    rng = np.random.default_rng(14)
    binary = (rng.random((50, 8)) < 0.5).astype(np.float64)
    nearly_binary = binary.copy()
    nearly_binary[0, 0] = 1.0 + 1e-10  # float32 would round this to 1
    assert not _float32_gram_is_exact(nearly_binary, integral_dtype=False)
    assert not _float32_gram_is_exact(binary + 0.5, integral_dtype=False)
    # Integers too large: n * M^2 = 4 * 2048^2 = 2^24, not below 2^24.
    large = np.full((4, 3), 2048.0)
    assert not _float32_gram_is_exact(large, integral_dtype=False)
    assert not _float32_gram_is_exact(large, integral_dtype=True)
    # The float64 route is then taken and still exact for these values.
    np.testing.assert_array_equal(_gram(nearly_binary, integral_dtype=False), nearly_binary.T @ nearly_binary)


@pytest.mark.parametrize("scale", [1e-180, 1e-158, 1e180])
def test_extreme_scales_without_warning(scale: float) -> None:
    # X^T X would underflow or overflow here; the result must still be the exact SVD, scaled.
    rng = np.random.default_rng(17)
    X = rng.standard_normal((12, 4))
    expected = top_svd(X, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        U, s, V = top_svd(X * scale, 3)
    np.testing.assert_allclose(s / scale, expected[1], rtol=1e-12)
    np.testing.assert_allclose(U, expected[0], atol=1e-12)
    np.testing.assert_allclose(V, expected[2], atol=1e-12)


def test_repeated_calls_are_identical() -> None:
    rng = np.random.default_rng(15)
    X = rng.standard_normal((20, 8))
    first = top_svd(X, 5)
    second = top_svd(X.copy(), 5)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


def test_input_is_not_modified() -> None:
    rng = np.random.default_rng(16)
    X = rng.standard_normal((10, 4))
    before = X.copy()
    top_svd(X, 2)
    np.testing.assert_array_equal(X, before)


@settings(deadline=None, max_examples=40)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 12),
    p=st.integers(1, 12),
    data=st.data(),
)
def test_property_agrees_with_numpy_svd(seed: int, n: int, p: int, data: st.DataObject) -> None:
    k = data.draw(st.integers(1, min(n, p)), label="k")
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    U, s, V = top_svd(X, k)
    _check_decomposition(X, k, U, s, V, atol=1e-8)
    s_ref = np.linalg.svd(X, compute_uv=False)[:k]
    np.testing.assert_allclose(s, s_ref, rtol=1e-8, atol=1e-12 * s_ref[0])
    # The projector onto the top-k right singular subspace is basis-free; compare it
    # whenever sigma_k is separated from sigma_{k+1}.
    s_all = np.linalg.svd(X, compute_uv=False)
    if k == len(s_all) or s_all[k - 1] - s_all[k] > 1e-3 * s_all[0]:
        _, _, Vt = np.linalg.svd(X, full_matrices=False)
        np.testing.assert_allclose(V @ V.T, Vt[:k].T @ Vt[:k], atol=1e-6)


@pytest.mark.parametrize("k", [0, -1, 5, 100])
def test_k_out_of_range_rejected(k: int) -> None:
    with pytest.raises(ValueError, match="^k"):
        top_svd(np.ones((4, 6)), k)


@pytest.mark.parametrize("k", [1.5, 2.0, "2", None, True])
def test_k_not_an_integer_rejected(k) -> None:
    with pytest.raises(ValueError, match="^k"):
        top_svd(np.ones((4, 6)), k)


@pytest.mark.parametrize(
    "X",
    [
        np.ones(5),
        np.ones((2, 3, 4)),
        np.array([[1.0, np.nan], [0.0, 1.0]]),
        np.array([[1.0, np.inf], [0.0, 1.0]]),
        np.zeros((0, 3)),
        np.array([["a", "b"], ["c", "d"]]),
        [[1.0, 2.0], [3.0]],
    ],
    ids=["1-D", "3-D", "nan", "inf", "empty", "strings", "ragged"],
)
def test_bad_X_rejected(X) -> None:
    with pytest.raises(ValueError, match="^X"):
        top_svd(X, 1)


@pytest.mark.parametrize("shape", [(30, 8), (6, 11)])
def test_top_spectrum_is_top_svd_without_u(shape):
    from cossim import top_spectrum

    X = np.random.default_rng(5).normal(size=shape)
    _, s, V = top_svd(X, 4)
    s2, V2 = top_spectrum(X, 4)
    np.testing.assert_array_equal(s2, s)
    np.testing.assert_array_equal(V2, V)
    with pytest.raises(ValueError, match="k"):
        top_spectrum(X, 0)
