"""Tests of the training_dynamics section of cossim.symbolic (chapters/training_dynamics.md).

Independent statements: the gradients typed here from the chapter's lemma
(``grad_A = M B``, ``grad_B = M^T A`` with ``M = dL/dW``), finite differences
of the imbalance along small numpy gradient steps, the symmetric positive-
definite square-root argument of the chapter (random positive-definite ``P``
with ``P S P != S``), the closed forms of the one-direction gauge, and the
rescaling identity evaluated numerically.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from cossim import factorization_loss_and_gradients, fit_product_penalty, item_similarity, regauge
from cossim.symbolic import (
    LAMBDA,
    TRAINING_OBJECTIVES,
    balanced_minimizer_gauge,
    factor_penalty_rescaling_check,
    imbalance_conservation_check,
    imbalance_dynamics,
    imbalance_gauge_one_direction,
)


def vanishes(expr) -> bool:
    """A matrix expression that expands to the zero matrix (sympy's ZeroMatrix != 0)."""
    expr = sp.expand(expr).doit()
    return expr == 0 or bool(getattr(expr, "is_ZeroMatrix", False))


# --------------------------------------------------------------------------- imbalance_dynamics


@pytest.fixture(scope="module")
def dynamics():
    return {objective: imbalance_dynamics(objective) for objective in TRAINING_OBJECTIVES}


def test_dynamics_are_derivations_and_only_the_product_conserves(dynamics):
    for objective, d in dynamics.items():
        assert d.kind == "derivation"
        assert d["conserved"] is (objective == "product")
        assert d["first_order_vanishes"] is (objective == "product")
    assert vanishes(dynamics["product"]["N"])
    assert vanishes(dynamics["product"]["flow"])


def test_gradients_match_the_chain_rule_through_W(dynamics):
    d = dynamics["product"]
    X, A, B, lam = d["X"], d["A"], d["B"], d["lam"]
    G = X.T * X
    M = 2 * (G * A * B.T - G) + 2 * lam * A * B.T   # dL/dW, typed from the lemma
    assert vanishes(d["grad_A"] - M * B)
    assert vanishes(d["grad_B"] - M.T * A)


@pytest.mark.parametrize(
    ("objective", "penalty_gram"),
    [("factor", lambda X, A, B: A.T * X.T * X * A - B.T * B),
     ("weight_decay", lambda X, A, B: A.T * A - B.T * B)],
)
def test_penalties_drive_the_imbalance(dynamics, objective, penalty_gram):
    d = dynamics[objective]
    X, A, B, lam, eta = d["X"], d["A"], d["B"], d["lam"], d["eta"]
    target = penalty_gram(X, A, B)
    assert vanishes(d["N"] - 2 * lam * target)
    assert vanishes(d["flow"] + 4 * lam * target)
    assert vanishes(d["first_order"] + 4 * eta * lam * target)


def test_step_expansion_is_the_generic_second_order_formula(dynamics):
    d = dynamics["product"]
    A, B, eta = d["A"], d["B"], d["eta"]
    p, k = A.shape
    P, Q = sp.MatrixSymbol("P", p, k), sp.MatrixSymbol("Q", p, k)
    expected = (-eta * (A.T * P + P.T * A - B.T * Q - Q.T * B)
                + eta**2 * (P.T * P - Q.T * Q))
    assert vanishes(d["step"] - expected)


def test_step_pieces_are_derived_and_unchanged(dynamics):
    """The derived first- and second-order parts are the typed formulas, for every objective."""
    for objective, d in dynamics.items():
        A, B, eta = d["A"], d["B"], d["eta"]
        p, k = A.shape
        P, Q = sp.MatrixSymbol("P", p, k), sp.MatrixSymbol("Q", p, k)
        assert vanishes(d["second_order"] - eta**2 * (P.T * P - Q.T * Q)), objective
        generic_first = -eta * (A.T * P + P.T * A - B.T * Q - Q.T * B)
        assert vanishes(d["step"] - generic_first - d["second_order"]), objective
        typed = generic_first.subs({P: d["grad_A"], Q: d["grad_B"]})
        assert vanishes(d["first_order"] - typed), objective
        N = d["N"]
        assert vanishes(d["first_order"] + eta * (N + N.T)), objective


def test_dynamics_rejects_unknown_objectives():
    with pytest.raises(ValueError, match="objective must be one of"):
        imbalance_dynamics("dropout")
    with pytest.raises(ValueError, match="objective must be one of"):
        imbalance_conservation_check(objective=1)


# --------------------------------------------------------------------------- numeric gradient steps


@pytest.mark.parametrize("objective", TRAINING_OBJECTIVES)
def test_small_numpy_steps_agree_with_the_flow(objective):
    """(C(theta - h grad) - C(theta)) / h -> -(N + N^T) as h -> 0, on random data."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((7, 4))
    A, B = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    lam = 0.7
    G = X.T @ X
    _, gA, gB = factorization_loss_and_gradients(G, A, B, lam, objective)

    def imbalance(A, B):
        return A.T @ A - B.T @ B

    h = 1e-6
    rate = (imbalance(A - h * gA, B - h * gB) - imbalance(A, B)) / h
    if objective == "product":
        expected = np.zeros((3, 3))
    elif objective == "factor":
        expected = -4 * lam * (A.T @ G @ A - B.T @ B)
    else:
        expected = -4 * lam * imbalance(A, B)
    scale = np.abs(gA).max() * np.abs(A).max() + np.abs(gB).max() * np.abs(B).max()
    assert np.abs(rate - expected).max() < 1e-4 * scale


# --------------------------------------------------------------------------- the explicit check


@pytest.mark.parametrize("objective", TRAINING_OBJECTIVES)
def test_conservation_check_holds_only_for_the_product(objective):
    check = imbalance_conservation_check(objective)
    assert check.kind == "check"
    assert check.holds is (objective == "product")
    assert check["matches"] is True


def test_conservation_check_other_sizes():
    assert imbalance_conservation_check("product", n=1, p=3, k=2).holds
    assert imbalance_conservation_check("product", n=2, p=2, k=1).holds
    with pytest.raises(ValueError, match="k must be a positive integer"):
        imbalance_conservation_check("product", k=0)


# --------------------------------------------------------------------------- balanced minimisers


def test_balanced_gauge_solutions():
    d = balanced_minimizer_gauge()
    assert d.kind == "derivation"
    assert d["orthogonal_gauge"] is True
    assert d["positive_definite"] == (sp.eye(2),)
    solutions = set(d["solutions"])
    assert solutions == {sp.ImmutableMatrix(sp.diag(a, b)) for a in (1, -1) for b in (1, -1)}
    s1, s2 = d["s"]
    S = sp.diag(s1, s2)
    for P in d["solutions"]:
        assert sp.simplify(P * S * P - S) == sp.zeros(2, 2)
    G, S_sym = d["G"], d["S"]
    assert vanishes(d["imbalance"] - (G.T * S_sym * G - G.I * S_sym * G.I.T))
    assert d["reduction_holds"] is True


def test_reduction_check_fails_for_a_wrong_factorisation():
    """The comparison behind ``reduction_holds`` rejects a wrong expansion."""
    from cossim.symbolic.training import _expands_to

    d = balanced_minimizer_gauge()
    G, S = d["G"], d["S"]
    P = G * G.T
    target = G.T * S * G - G.I * S * G.I.T
    assert _expands_to(G.I * (P * S * P - S) * G.T.I, target)[2] is True
    for wrong in (G.I * (P * S * P + S) * G.T.I, G.I * (P * S - S) * G.T.I,
                  (P * S * P - S)):
        assert _expands_to(wrong, target)[2] is False


def test_unbalanced_positive_definite_P_is_not_a_solution():
    """Independent of sympy's solve: numeric P != I, positive definite, has P S P != S."""
    rng = np.random.default_rng(1)
    S = np.diag([0.9, 0.5, 0.2])
    for _ in range(5):
        R = rng.standard_normal((3, 3))
        P = np.eye(3) + 0.1 * (R + R.T)
        assert np.all(np.linalg.eigvalsh(P) > 0)
        assert np.abs(P @ S @ P - S).max() > 1e-3


def test_balanced_minimisers_have_the_cosines_of_the_split():
    """A rotation keeps balance and cosines; a non-orthogonal gauge breaks both."""
    rng = np.random.default_rng(2)
    X = rng.standard_normal((40, 6))
    split = fit_product_penalty(X, 3, 2.0)
    R, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    rotated = regauge(split, R)
    assert np.allclose(rotated.A.T @ rotated.A, rotated.B.T @ rotated.B)
    assert np.allclose(item_similarity(rotated), item_similarity(split))
    skewed = regauge(split, np.diag([2.0, 1.0, 0.5]))
    assert not np.allclose(skewed.A.T @ skewed.A, skewed.B.T @ skewed.B)


# --------------------------------------------------------------------------- one direction


def test_one_direction_gauge_closed_forms():
    d = imbalance_gauge_one_direction()
    delta, s = d["delta"], d["s"]
    u, v = d["u"], d["v"]
    assert sp.simplify(u - v - delta) == 0
    assert sp.simplify(u * v - s**2) == 0
    assert sp.simplify(d["gauge_squared"] - (delta + sp.sqrt(delta**2 + 4 * s**2)) / (2 * s)) == 0
    assert sp.expand(d["series"] - (1 + delta / (2 * s) + delta**2 / (8 * s**2))) == 0
    assert d["balanced"] == 1
    # Positive for every real delta (numbers, both signs).
    for value in (-50, -1, 0, 0.3, 7):
        assert float(u.subs({delta: value, s: 0.4})) > 0
        assert float(v.subs({delta: value, s: 0.4})) > 0


def test_one_direction_gauge_reaches_panel_c():
    """delta = 1 - s^2 gives a^2 = 1 and b^2 = s^2 (the chapter's exercise)."""
    d = imbalance_gauge_one_direction()
    delta, s = d["delta"], d["s"]
    for value in (0.1, 0.5, 0.99):
        point = {delta: 1 - value**2, s: value}
        assert float(d["u"].subs(point)) == pytest.approx(1.0, rel=1e-12)
        assert float(d["v"].subs(point)) == pytest.approx(value**2, rel=1e-12)


# --------------------------------------------------------------------------- rescaling for (2)


@pytest.mark.slow
def test_rescaling_check_holds_for_one_half_only():
    check = factor_penalty_rescaling_check()
    assert check.kind == "check" and check.holds is True
    assert check["difference"] == 0
    for power in (0, 1, sp.Rational(1, 3), -sp.Rational(1, 2)):
        assert factor_penalty_rescaling_check(power).holds is False


def test_rescaling_numerically():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((9, 5))
    A, B = rng.standard_normal((5, 2)), rng.standard_normal((5, 2))
    lam, c = 0.8, 6.5
    original = factorization_loss_and_gradients(X.T @ X, A, B, lam, "factor")[0]
    Xc = X / c
    rescaled = factorization_loss_and_gradients(
        Xc.T @ Xc, np.sqrt(c) * A, B / np.sqrt(c), lam / c, "factor")[0]
    assert np.isclose(rescaled, original / c**2, rtol=1e-12)


def test_shared_lambda_symbol_is_used():
    assert imbalance_dynamics("factor")["lam"] == LAMBDA
