"""Tests of cossim.symbolic.factor_penalty_vs_product_family (chapters/factor_penalty.md).

Independent statements: the closed forms typed here from the notes (the
balanced gauge ``d = sigma**-1/2`` of the paper's table, the shrinkage
``s = sigma**2/(sigma**2 + lam1)``, soft-thresholding ``sigma - lam2``), and a
numeric comparison with the fitted models of :mod:`cossim.models`.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from cossim import fit_factor_penalty, fit_product_penalty, item_similarity, top_svd, user_similarity
from cossim.symbolic import SIGMA, factor_penalty_vs_product_family

D = factor_penalty_vs_product_family()
LAM1, LAM2, U = D["lam1"], D["lam2"], D["u"]
S = SIGMA**2 / (SIGMA**2 + LAM1)


def test_is_a_derivation_with_the_expected_closed_forms():
    assert D.kind == "derivation"
    assert sp.simplify(D["shrinkage"] - S) == 0
    assert sp.simplify(D["balanced_gauge"] - 1 / SIGMA) == 0
    assert sp.simplify(D["balanced_weight"] - SIGMA * S) == 0
    assert sp.simplify(D["factor_weight"] - (SIGMA - LAM2)) == 0
    assert sp.simplify(D["item_matching_inverse_gauge"] - (SIGMA - LAM2) / S) == 0
    assert D["mismatch_is_product_ratio_squared"] is True
    assert sp.simplify(D["user_mismatch"] - (SIGMA * S / (SIGMA - LAM2)) ** 2) == 0


def test_balanced_gauge_equalises_the_norms_and_others_do_not():
    user, item = D["user_norm2"], D["item_norm2"]
    assert sp.simplify((user - item).subs(U, 1 / SIGMA)) == 0
    point = {SIGMA: 3, LAM1: 2, LAM2: 1}
    for u in (sp.Rational(1, 2), 1, 2):
        assert (user - item).subs(point).subs(U, u) != 0


def test_ratio_derivative_matches_finite_differences_and_is_not_zero():
    ratio = sp.lambdify((SIGMA, LAM1, LAM2), D["weight_ratio"])
    derivative = sp.lambdify((SIGMA, LAM1, LAM2), D["ratio_derivative"])
    for s, l1, l2 in [(3.0, 2.0, 1.0), (5.0, 10.0, 0.5), (2.0, 0.1, 1.5)]:
        h = 1e-6
        numeric = (ratio(s + h, l1, l2) - ratio(s - h, l1, l2)) / (2 * h)
        assert derivative(s, l1, l2) == pytest.approx(numeric, rel=1e-6)
        assert abs(derivative(s, l1, l2)) > 1e-6


def test_steps_render():
    latex = D.latex()
    assert latex.count(r"\text{") >= len(D.steps)
    assert "NOT" not in latex


def _data(seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.random((60, 8)) < 0.35).astype(float)


def test_numeric_item_matching_gauge_reproduces_item_cosines_but_not_user_cosines():
    X = _data()
    _, sigma, _ = top_svd(X, 8)
    lam2 = 0.5 * sigma[-1]  # every direction kept
    lam1 = lam2**2
    s = sigma**2 / (sigma**2 + lam1)
    d = np.sqrt(s / (sigma - lam2))  # u_item = s / (sigma - lam2), d = sqrt(u)
    member = fit_product_penalty(X, 8, lam1, gauge=d)
    factor = fit_factor_penalty(X, 8, lam2)
    assert np.allclose(item_similarity(member), item_similarity(factor), atol=1e-10)
    assert np.max(np.abs(user_similarity(member, X) - user_similarity(factor, X))) > 1e-3
    # The user columns are off by the squared ratio of the products' singular values.
    user_member = np.sum((X @ member.A) ** 2, axis=0)
    user_factor = np.sum((X @ factor.A) ** 2, axis=0)
    assert np.allclose(user_member / user_factor, (sigma * s / (sigma - lam2)) ** 2)


def test_numeric_balanced_member_is_balanced_but_weighted_differently():
    X = _data(5)
    _, sigma, _ = top_svd(X, 8)
    lam2 = 0.5 * sigma[-1]
    member = fit_product_penalty(X, 8, lam2**2, gauge=1 / np.sqrt(sigma))
    XA = X @ member.A
    assert np.allclose(XA.T @ XA, member.B.T @ member.B, atol=1e-10)
    factor = fit_factor_penalty(X, 8, lam2)
    assert np.max(np.abs(item_similarity(member) - item_similarity(factor))) > 1e-3
