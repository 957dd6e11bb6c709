"""Tests of cossim.symbolic.product_penalty (chapters/product_penalty.md).

Every derived result is checked against an independent statement. Independent means:
a closed form typed here from the paper or the notes, a
numeric substitution, a finite difference or a brute-force grid search, never
a rerun of the module's own computation. Every check is also fed a
counter-example, to show that it can fail.
"""

from __future__ import annotations

import math

import pytest
import sympy as sp

from cossim import symbolic
from cossim.symbolic import LAMBDA, SIGMA
from tests.symbolic_support import (
    default,
    is_zero_matrix,
    nonzero_at_a_point,
)

# --------------------------------------------------------------------------------------
# chapters/product_penalty.md
# --------------------------------------------------------------------------------------


def test_product_penalty_direction():
    d = default("product_penalty_direction")
    w = d["w"]
    # The paper's form 1 / (1 + lambda / sigma^2).
    assert sp.simplify(d["minimiser"] - 1 / (1 + LAMBDA / SIGMA**2)) == 0
    assert d["second_derivative"].is_positive
    assert sp.simplify(d["minimum"] - SIGMA**2 * LAMBDA / (SIGMA**2 + LAMBDA)) == 0
    f = SIGMA**2 * (1 - w) ** 2 + LAMBDA * w**2
    for s, lam in [(1, 1), (3, sp.Rational(1, 2)), (sp.Rational(1, 5), 7)]:
        w_star = d["minimiser"].subs({SIGMA: s, LAMBDA: lam})
        f_num = f.subs({SIGMA: s, LAMBDA: lam})
        for step in (sp.Rational(1, 100), -sp.Rational(1, 100), 1, -1):
            assert f_num.subs(w, w_star + step) > f_num.subs(w, w_star)


def test_product_penalty_completed_square():
    d = default("product_penalty_completed_square")
    w = d["w"]
    assert sp.simplify(d["objective"] - d["square"] - d["constant"]) == 0
    assert sp.diff(d["constant"], w) == 0
    assert sp.simplify(d["constant"] - SIGMA**2 * LAMBDA / (SIGMA**2 + LAMBDA)) == 0
    assert sp.simplify(d["target"] - SIGMA**2 / sp.sqrt(SIGMA**2 + LAMBDA)) == 0
    assert d["increasing"] is True
    tau = lambda s, lam: s**2 / math.sqrt(s**2 + lam)  # noqa: E731
    h = 1e-6
    for s, lam in [(0.3, 1.0), (2.0, 0.1), (5.0, 40.0)]:
        exact = float(d["target_derivative"].subs({SIGMA: s, LAMBDA: lam}))
        assert exact > 0
        assert abs(exact - (tau(s + h, lam) - tau(s - h, lam)) / (2 * h)) < 1e-6
    assert sp.simplify(d["minimiser"] - default("product_penalty_direction")["minimiser"]) == 0


def test_symmetric_split_check():
    d = default("symmetric_split_check")
    assert d.holds and d["residual"] == sp.zeros(2, 2)
    V = symbolic.rotation_matrix(sp.pi / 6)
    s = (sp.Rational(1, 3), sp.Rational(3, 4))
    numeric = symbolic.symmetric_split_check(V=V, s=s)
    assert numeric.holds
    assert is_zero_matrix(numeric["A"] * numeric["B"].T - V * sp.diag(*s) * V.T)
    wrong = V * sp.diag(*s)
    assert not symbolic.symmetric_split_check(A=wrong, B=wrong, V=V, s=s).holds
    with pytest.raises(ValueError, match="s must have"):
        symbolic.symmetric_split_check(s=(1, 2, 3))
    with pytest.raises(ValueError, match="shape"):
        symbolic.symmetric_split_check(A=sp.eye(3))


@pytest.mark.parametrize("kind", ["item", "user", "user-item"])
def test_cosine_formula_check_holds_and_depends_on_the_gauge(kind):
    d = default("cosine_formula_check") if kind == "item" else symbolic.cosine_formula_check(
        kind, p=2, n=2)
    assert d.holds and d["depends_on_gauge"]
    assert nonzero_at_a_point(d["derivative_d1"])


@pytest.mark.parametrize("kind, wrong", [("item", 2), ("user", -2), ("user-item", 2),
                                         ("user-item", -2)])
def test_cosine_formula_check_fails_with_the_wrong_power(kind, wrong):
    d = symbolic.cosine_formula_check(kind, middle_power=wrong, p=2, n=2)
    assert not d.holds


def test_cosine_formula_check_numeric_gauge_against_hand_cosines():
    D = sp.diag(2, 3)
    d = symbolic.cosine_formula_check("item", D=D, p=2)
    assert d.holds and not d["depends_on_gauge"]
    b = sp.Matrix(2, 2, lambda i, j: sp.Symbol(f"b_{{{i + 1}{j + 1}}}", real=True))
    point = {b[0, 0]: 1, b[0, 1]: 2, b[1, 0]: -1, b[1, 1]: 1}
    row0 = (sp.Rational(1, 2), sp.Rational(2, 3))
    row1 = (-sp.Rational(1, 2), sp.Rational(1, 3))
    assert sp.simplify(d["direct"][0, 1].subs(point) - symbolic.cosine(row0, row1)) == 0
    with pytest.raises(ValueError, match="diagonal"):
        symbolic.cosine_formula_check(D=sp.Matrix([[1, 1], [0, 1]]))
    with pytest.raises(ValueError, match="kind"):
        symbolic.cosine_formula_check("items")


def test_full_rank_item_identity_check():
    d = default("full_rank_item_identity_check")
    assert d.holds
    assert is_zero_matrix(d["embeddings"] - symbolic.rotation_matrix())
    assert d["cosines"] == sp.eye(2)
    wrong = symbolic.full_rank_item_identity_check(D=sp.eye(2))
    assert not wrong.holds
    s1, s2 = wrong["s"]
    theta = symbolic.THETA
    value = wrong["cosines"][0, 1].subs({s1: 1, s2: 4, theta: sp.pi / 6})
    # Rows of V diag(1, 2) at theta = pi/6, cosine by hand.
    c, s = sp.sqrt(3) / 2, sp.Rational(1, 2)
    assert sp.simplify(value - symbolic.cosine((c, -2 * s), (s, 2 * c))) == 0
    assert value != 0


def test_full_rank_user_raw_check():
    d = default("full_rank_user_raw_check")
    assert d.holds
    assert is_zero_matrix(d["embeddings"] - d["X"] * symbolic.rotation_matrix())
    assert not symbolic.full_rank_user_raw_check(D=sp.eye(2), n=2).holds
    with pytest.raises(ValueError, match="2 x 2"):
        symbolic.full_rank_user_raw_check(D=sp.eye(3))


def test_low_rank_row_norms():
    d = default("low_rank_row_norms")
    theta = d["theta"]
    assert d["example"] == (sp.Rational(1, 2), sp.sqrt(3) / 2)
    for value in (0.3, 1.2, 2.0, -0.7, 4.0):
        norms = [float(n.subs(theta, value)) for n in d["row_norms"]]
        assert abs(norms[0] - abs(math.cos(value))) < 1e-12
        assert abs(norms[1] - abs(math.sin(value))) < 1e-12
        off = float(d["cosines"][0, 1].subs(theta, value))
        assert off == pytest.approx(math.copysign(1.0, math.sin(value) * math.cos(value)))


def test_low_rank_cosines_are_derived_as_signs():
    d = default("low_rank_row_norms")
    theta = d["theta"]
    assert d["cosine_signs"][0, 1] == sp.sign(sp.sin(theta)) * sp.sign(sp.cos(theta))
    for value, expected in ((sp.pi / 3, 1), (2 * sp.pi / 3, -1)):
        assert sp.simplify(d["cosines"][0, 1].subs(theta, value)) == expected
        assert d["cosine_signs"][0, 1].subs(theta, value) == expected
