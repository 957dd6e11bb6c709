"""Tests of cossim.symbolic.factor_penalty (chapters/factor_penalty.md).

Every derived result is checked against an independent statement. Independent means:
a closed form typed here from the paper or the notes, a
numeric substitution, a finite difference or a brute-force grid search, never
a rerun of the module's own computation. Every check is also fed a
counter-example, to show that it can fail.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import sympy as sp

from cossim import fit_factor_penalty, fit_product_penalty, item_similarity, symbolic, top_svd, user_similarity
from cossim.symbolic import LAMBDA, SIGMA, factor_penalty_vs_product_family
from tests.symbolic_support import (
    default,
    nonzero_at_a_point,
)

# --------------------------------------------------------------------------------------
# chapters/factor_penalty.md
# --------------------------------------------------------------------------------------


def test_fixed_product_balance():
    d = default("fixed_product_balance")
    z, alpha = d["z"], d["alpha"]
    assert d["alpha_squared"] == sp.Abs(z) and d["beta_squared"] == sp.Abs(z)
    assert d["minimum"] == 2 * sp.Abs(z)
    assert d["second_derivative"].is_positive
    for zv in (3, -2, sp.Rational(1, 4)):
        g = d["penalty"].subs(z, zv)
        best = min(float(g.subs(alpha, sp.Rational(k, 20))) for k in range(1, 200))
        assert best >= 2 * abs(float(zv)) - 1e-12
        assert best - 2 * abs(float(zv)) < 1e-2


# The book reserves p (the number of items), q, t, u and P for other things: the
# one-direction derivations are written in the chapter's letters from the start.
LETTERS = {
    "fixed_product_balance": {"alpha", "z"},
    "factor_penalty_direction": {"alpha", "beta", "z"},
    "weight_decay_direction": {"a", "b", "w"},
    "factor_penalty_balance": {"rho", "x", "y"},
    "factor_penalty_vs_product_family": {"rho"},
}


@pytest.mark.parametrize("name", sorted(LETTERS))
def test_derivations_are_written_in_the_chapter_letters(name):
    d = default(name)
    shown = d.latex(width=None)
    for letter in ("p", "q", "t", "u", "P"):
        assert re.search(r"(?<![\\A-Za-z])" + letter + r"(?![A-Za-z])", shown) is None, letter
    names = {s.name for v in d.result.values() if isinstance(v, sp.Basic)
             for s in v.free_symbols if type(s) is sp.Symbol}
    assert LETTERS[name] <= names and not names & {"p", "q", "t", "u", "P"}
    # One letter for the product and the common square: no "z = alpha^2 = beta^2 = z".
    assert not any(re.search(r"\$(\w+) = [^$]* = \1 \\ge 0\$", step.text) for step in d.steps)


def test_one_square_and_the_wording_are_written_correctly_at_the_source():
    direction = default("factor_penalty_direction")
    assert any(r"$\alpha^2 = \beta^2 = z \ge 0$" in s.text for s in direction.steps)
    decay = default("weight_decay_direction")
    assert any(r"$a^2 = b^2 = w \ge 0$" in s.text for s in decay.steps)
    versus = factor_penalty_vs_product_family()
    assert any("so the cosines generally differ." in s.text for s in versus.steps)
    assert r"c(\rho) - c(1)" in default("factor_penalty_balance").latex()


def _grid_minimum(f, x, y, half_width=3.0, steps=120):
    fn = sp.lambdify((x, y), f, modules="math")
    grid = [-half_width + 2 * half_width * i / steps for i in range(steps + 1)]
    return min(fn(u, v) for u in grid for v in grid)


CASES = [(3, 1), (1, 3), (2, 2), (sp.Rational(5, 2), sp.Rational(1, 2)), (1, sp.Rational(1, 10))]


def test_factor_penalty_direction_threshold_both_branches():
    d = default("factor_penalty_direction")
    assert d["threshold"] == sp.Max(SIGMA - LAMBDA, 0)
    assert sp.simplify(d["stationary_point"] - (SIGMA - LAMBDA)) == 0
    z = sp.Symbol("z", positive=True)
    assert sp.simplify(d["flip"] - 4 * SIGMA * z) == 0
    assert d["threshold"].subs({SIGMA: 3, LAMBDA: 1}) == 2
    assert d["threshold"].subs({SIGMA: 1, LAMBDA: 3}) == 0
    assert d["threshold"].subs({SIGMA: 2, LAMBDA: 2}) == 0
    alpha, beta = sp.symbols("alpha beta", real=True)
    for s, lam in CASES:
        f = d["objective"].subs({SIGMA: s, LAMBDA: lam})
        root = d["alpha"].subs({SIGMA: s, LAMBDA: lam})
        assert root == sp.sqrt(max(s - lam, 0))
        optimum = float(f.subs({alpha: root, beta: root}))
        grid = _grid_minimum(f, alpha, beta)
        assert optimum <= grid + 1e-12 and grid - optimum < 5e-3


def test_weight_decay_direction_threshold_both_branches():
    d = default("weight_decay_direction")
    assert d["threshold"] == sp.Max(1 - LAMBDA / SIGMA**2, 0)
    a, b = sp.symbols("a b", real=True)
    for s, lam in CASES:
        f = d["objective"].subs({SIGMA: s, LAMBDA: lam})
        root = d["a"].subs({SIGMA: s, LAMBDA: lam})
        assert sp.simplify(d["b"].subs({SIGMA: s, LAMBDA: lam}) - root) == 0
        if root != 0:  # the balance: moving weight from one factor to the other raises the loss
            assert f.subs({a: 2 * root, b: root / 2}) > f.subs({a: root, b: root})
        assert sp.simplify(root - sp.sqrt(max(1 - sp.Rational(lam) / s**2, 0))) == 0
        optimum = float(f.subs({a: root, b: root}))
        grid = _grid_minimum(f, a, b, half_width=1.5)
        assert optimum <= grid + 1e-12 and grid - optimum < 5e-3


def test_factor_penalty_closed_form():
    d = default("factor_penalty_closed_form_check")
    assert d.kind == "check" and d.holds and d["matches_paper"] is True
    assert d["singular_value"] == sp.Max(SIGMA - LAMBDA, 0)
    # Fed a wrong closed form (sigma^2 instead of sigma in b^2), the check fails.
    wrong = symbolic.factor_penalty_closed_form_check(b_squared=SIGMA**2 * sp.Max(1 - LAMBDA / SIGMA, 0))
    assert not wrong.holds
    for s, lam in CASES:
        point = {SIGMA: s, LAMBDA: lam}
        shrink = max(1 - sp.Rational(lam) / s, 0)
        assert sp.simplify(d["a_squared"].subs(point) - shrink / s) == 0
        assert sp.simplify(d["b_squared"].subs(point) - s * shrink) == 0
        assert sp.simplify((s * d["a"] * d["b"]).subs(point) - max(s - lam, 0)) == 0


def test_factor_penalty_rotation_check():
    d = default("factor_penalty_rotation_check")
    assert d.holds
    assert d["user_penalty_change"] == 0 and d["item_penalty_change"] == 0
    assert symbolic.factor_penalty_rotation_check(sp.Matrix([[1, 0], [0, -1]])).holds
    assert symbolic.factor_penalty_rotation_check(symbolic.rotation_matrix(sp.pi / 5)).holds
    wrong = symbolic.factor_penalty_rotation_check(sp.diag(2, sp.Rational(1, 2)))
    assert not wrong.holds
    assert nonzero_at_a_point(wrong["item_penalty_change"])
    with pytest.raises(ValueError, match="2 x 2"):
        symbolic.factor_penalty_rotation_check(sp.eye(3))


def test_factor_penalty_balance():
    d = default("factor_penalty_balance")
    rho, x, y = d["rho"], d["x"], d["y"]
    assert sp.simplify(d["minimiser"] - sp.sqrt(y / x)) == 0
    assert sp.simplify(d["user_term"] - d["item_term"]) == 0
    assert sp.simplify(d["minimum"] - 2 * sp.sqrt(x * y)) == 0
    assert sp.expand(d["change"] - (rho * x + y / rho - x - y)) == 0
    assert d["second_derivative"].is_positive
    for xv, yv in [(1, 4), (9, 1), (2, 2)]:
        values = [xv * k / 100 + yv * 100 / k for k in range(1, 1000)]
        assert min(values) >= 2 * math.sqrt(xv * yv) - 1e-12
        assert float(d["minimiser"].subs({x: xv, y: yv})) == pytest.approx(math.sqrt(yv / xv))
    # Balanced columns (x = y) are already optimal: the change vanishes only at rho = 1 there.
    assert sp.factor(d["change"].subs(y, x)) == x * (rho - 1) ** 2 / rho


# --------------------------------------------------------------------------------------
# factor_penalty_vs_product_family, against the closed forms and the fitted models
# --------------------------------------------------------------------------------------

D = factor_penalty_vs_product_family()
LAM1, LAM2, RHO = D["lam1"], D["lam2"], D["rho"]
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
    assert sp.simplify((user - item).subs(RHO, 1 / SIGMA)) == 0
    point = {SIGMA: 3, LAM1: 2, LAM2: 1}
    for rho in (sp.Rational(1, 2), 1, 2):
        assert (user - item).subs(point).subs(RHO, rho) != 0


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
