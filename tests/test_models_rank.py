"""Tests of cossim.effective_rank (chapters/factor_penalty.md)."""

from __future__ import annotations

import numpy as np
import pytest

from cossim import effective_rank, fit_factor_penalty, fit_weight_decay, top_svd


def test_counts_strictly_larger_singular_values():
    sigma = [5.0, 3.0, 3.0, 1.0, 0.0]
    assert effective_rank(sigma, 0.0) == 4
    assert effective_rank(sigma, 0.5) == 4
    assert effective_rank(sigma, 1.0) == 3  # sigma = lam is dropped
    assert effective_rank(sigma, 3.0) == 1
    assert effective_rank(sigma, 5.0) == 0
    assert effective_rank(np.array([1, 2, 3]), 1.5) == 2  # integers, any order


@pytest.mark.parametrize("lam_fraction", [0.0, 0.3, 0.6, 0.9, 1.2])
def test_agrees_with_the_nonzero_columns_of_the_fits(lam_fraction):
    rng = np.random.default_rng(11)
    X = rng.normal(size=(40, 7))
    _, sigma, _ = top_svd(X, 7)
    lam = lam_fraction * sigma[0]
    f = fit_factor_penalty(X, 7, lam)
    assert np.count_nonzero(np.linalg.norm(f.B, axis=0) > 0) == effective_rank(sigma, lam)
    w = fit_weight_decay(X, 7, lam**2)
    assert np.count_nonzero(np.linalg.norm(w.B, axis=0) > 0) == effective_rank(sigma, lam)


@pytest.mark.parametrize(
    "sigma, lam, match",
    [([[1.0]], 0.0, "singular_values"), ([], 0.0, "singular_values"),
     ([1.0, -1.0], 0.0, "singular_values"), ([1.0, np.nan], 0.0, "singular_values"),
     ([1.0], -0.1, "lam"), ([1.0], np.inf, "lam"), ([1.0], "a", "lam")],
)
def test_rejects_bad_input(sigma, lam, match):
    with pytest.raises(ValueError, match=match):
        effective_rank(sigma, lam)
