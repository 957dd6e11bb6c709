"""Tests for cossim.similarity.cosine_similarity."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from cossim import cosine_similarity


def _loop_cosines(Y: np.ndarray, Z: np.ndarray) -> np.ndarray:
    """Cosines by a plain double loop with math.fsum, independent of the vectorised code."""
    out = np.empty((len(Y), len(Z)))
    for i, y in enumerate(Y):
        for j, z in enumerate(Z):
            dot = math.fsum(float(a) * float(b) for a, b in zip(y, z))
            ny = math.sqrt(math.fsum(float(a) ** 2 for a in y))
            nz = math.sqrt(math.fsum(float(b) ** 2 for b in z))
            out[i, j] = dot / (ny * nz)
    return out


@pytest.mark.parametrize(("m", "n", "k"), [(5, 7, 3), (1, 4, 6), (6, 1, 2), (8, 8, 1)])
def test_matches_loop_computation(m: int, n: int, k: int) -> None:
    rng = np.random.default_rng(100 * m + 10 * n + k)
    Y = rng.standard_normal((m, k))
    Z = rng.standard_normal((n, k)) * rng.uniform(0.1, 10.0, size=(n, 1))
    S = cosine_similarity(Y, Z)
    assert S.shape == (m, n)
    np.testing.assert_allclose(S, _loop_cosines(Y, Z), atol=1e-14)


def test_self_similarity_matches_loop_and_is_symmetric_with_unit_diagonal() -> None:
    rng = np.random.default_rng(1)
    Y = rng.standard_normal((9, 4))
    S = cosine_similarity(Y)
    assert S.shape == (9, 9)
    np.testing.assert_allclose(S, _loop_cosines(Y, Y), atol=1e-14)
    np.testing.assert_array_equal(S, S.T)
    np.testing.assert_array_equal(np.diag(S), np.ones(9))
    np.testing.assert_allclose(S, cosine_similarity(Y, Y), atol=1e-15)


def test_known_values() -> None:
    S = cosine_similarity([[1.0, 0.0], [1.0, 1.0], [-2.0, 0.0]])
    expected = np.array(
        [
            [1.0, 1 / math.sqrt(2), -1.0],
            [1 / math.sqrt(2), 1.0, -1 / math.sqrt(2)],
            [-1.0, -1 / math.sqrt(2), 1.0],
        ]
    )
    np.testing.assert_allclose(S, expected, atol=1e-15)


def test_row_scaling_invariance_and_sign_flip() -> None:
    rng = np.random.default_rng(2)
    Y = rng.standard_normal((6, 3))
    Z = rng.standard_normal((4, 3))
    positive = rng.uniform(0.01, 100.0, size=(6, 1))
    np.testing.assert_allclose(cosine_similarity(Y * positive, Z), cosine_similarity(Y, Z), atol=1e-14)
    np.testing.assert_allclose(cosine_similarity(-Y, Z), -cosine_similarity(Y, Z), atol=1e-15)


def test_result_clipped_to_unit_interval() -> None:
    rng = np.random.default_rng(3)
    base = rng.standard_normal((200, 7))
    factors = rng.uniform(-50.0, 50.0, size=(200, 1))
    S = cosine_similarity(base, base * factors)
    assert np.all(np.abs(S) <= 1.0)
    # Parallel rows: the diagonal is +-1 up to rounding, never beyond.
    np.testing.assert_allclose(np.abs(np.diag(S)), 1.0, atol=1e-15)


def test_extreme_magnitudes_neither_overflow_nor_underflow() -> None:
    Y = np.array([[3e200, 4e200], [3e-200, 4e-200], [3.0, 4.0]])
    Z = np.array([[4.0, 3.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        S = cosine_similarity(Y, Z)
        S_self = cosine_similarity(Y)
    np.testing.assert_allclose(S, np.full((3, 1), 24.0 / 25.0), atol=1e-15)
    np.testing.assert_allclose(S_self, np.ones((3, 3)), atol=1e-15)


def test_zero_rows_give_nan_without_warning() -> None:
    rng = np.random.default_rng(4)
    Y = rng.standard_normal((5, 3))
    Y[1] = 0.0
    Z = rng.standard_normal((4, 3))
    Z[2] = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        S = cosine_similarity(Y, Z)
        S_self = cosine_similarity(Y)
    assert np.all(np.isnan(S[1, :])) and np.all(np.isnan(S[:, 2]))
    keep_rows, keep_cols = [0, 2, 3, 4], [0, 1, 3]
    assert not np.any(np.isnan(S[np.ix_(keep_rows, keep_cols)]))
    np.testing.assert_allclose(
        S[np.ix_(keep_rows, keep_cols)], _loop_cosines(Y[keep_rows], Z[keep_cols]), atol=1e-14
    )
    assert np.all(np.isnan(S_self[1, :])) and np.all(np.isnan(S_self[:, 1]))
    assert not np.any(np.isnan(S_self[np.ix_(keep_rows, keep_rows)]))


def test_integer_and_bool_input_accepted() -> None:
    Y = np.array([[1, 0, 1], [0, 1, 1]])
    expected = _loop_cosines(Y.astype(float), Y.astype(float))
    np.testing.assert_allclose(cosine_similarity(Y), expected, atol=1e-15)
    np.testing.assert_allclose(cosine_similarity(Y.astype(bool)), expected, atol=1e-15)


def test_input_not_modified() -> None:
    rng = np.random.default_rng(5)
    Y = rng.standard_normal((4, 3))
    before = Y.copy()
    cosine_similarity(Y)
    np.testing.assert_array_equal(Y, before)


@pytest.mark.parametrize(
    "Y",
    [np.ones(3), np.ones((2, 2, 2)), np.array([[np.nan, 1.0]]), np.array([[np.inf, 1.0]]), np.zeros((0, 2))],
    ids=["1-D", "3-D", "nan", "inf", "empty"],
)
def test_bad_Y_rejected(Y) -> None:
    with pytest.raises(ValueError, match="^Y"):
        cosine_similarity(Y)
    with pytest.raises(ValueError, match="^Y"):
        cosine_similarity(Y, np.ones((2, 2)))


@pytest.mark.parametrize(
    "Z",
    [np.ones(2), np.ones((2, 2, 2)), np.array([[np.nan, 1.0]]), np.zeros((0, 2)), np.ones((3, 5))],
    ids=["1-D", "3-D", "nan", "empty", "width"],
)
def test_bad_Z_rejected(Z) -> None:
    with pytest.raises(ValueError, match="^Z"):
        cosine_similarity(np.ones((2, 2)), Z)
