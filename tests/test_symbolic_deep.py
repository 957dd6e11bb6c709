"""Tests of the deep_models section of cossim.symbolic (chapters/deep_models.md).

Independent statements: the rectifier evaluated numerically, a 2-2-1 network
evaluated at random points with numpy-free float arithmetic, and the balance
``d^4 = b/a`` typed here from the chapter's theorem.
"""

from __future__ import annotations

import random

import pytest
import sympy as sp

from cossim.symbolic import (
    relu_network_rescaling_check,
    relu_rescaling_check,
    weight_decay_unit_balance,
)


def relu(z: float) -> float:
    return z if z > 0 else 0.0


# --------------------------------------------------------------------------- the rectifier


def test_relu_check_holds_for_positive_factors_and_is_a_check():
    check = relu_rescaling_check()
    assert check.kind == "check"
    assert check.holds is True
    assert check["positive_case"] == 0 and check["nonpositive_case"] == 0
    assert check["d"].is_positive


@pytest.mark.parametrize("d", [2, sp.Rational(1, 3), sp.Symbol("q", positive=True)])
def test_relu_check_holds_for_other_positive_factors(d):
    assert relu_rescaling_check(d).holds is True


@pytest.mark.parametrize("d", [-1, sp.Rational(-1, 2), sp.Symbol("q", negative=True)])
def test_relu_check_fails_for_negative_factors(d):
    check = relu_rescaling_check(d)
    assert check.holds is False
    # A negative factor turns a positive input into a negative one, which the rectifier cuts.
    epsilon = sp.Symbol("epsilon", positive=True)
    value = check["positive_case"].subs(epsilon, 1)
    if value.free_symbols:  # a symbolic negative factor: evaluate it at q = -1 too
        value = value.subs({symbol: -1 for symbol in value.free_symbols})
    assert value.is_number and value != 0


def test_relu_piecewise_agrees_with_max_numerically():
    z = sp.Symbol("z", real=True)
    relu_expr = relu_rescaling_check()["relu"]
    for value in (-2.5, -1e-9, 0.0, 1e-9, 3.25):
        assert float(relu_expr.subs(z, value)) == relu(value)


# --------------------------------------------------------------------------- the 2-2-1 network


def test_network_check_holds_by_default():
    check = relu_network_rescaling_check()
    assert check.kind == "check" and check.holds is True
    assert all(case == 0 for case in check["cases"])
    assert len(check["cases"]) == 4
    assert all(entry == 0 for entry in check["pre_activation_change"])


def test_network_check_fails_for_a_negative_factor_or_wrong_outgoing_scale():
    d1, d2 = sp.symbols("d_1 d_2", positive=True)
    assert relu_network_rescaling_check(d=(-1, 2)).holds is False
    assert relu_network_rescaling_check(outgoing=(d1, d2)).holds is False
    assert relu_network_rescaling_check(d=(2, 3), outgoing=(sp.Rational(1, 2), 1)).holds is False


def test_network_check_rejects_wrong_lengths():
    with pytest.raises(ValueError, match="d must have two entries"):
        relu_network_rescaling_check(d=(1, 2, 3))
    with pytest.raises(ValueError, match="outgoing must have two entries"):
        relu_network_rescaling_check(outgoing=(1,))


def test_network_formula_matches_a_float_evaluation_before_and_after_rescaling():
    check = relu_network_rescaling_check()
    x, W, b, v, c = check["x"], check["W"], check["b"], check["v"], check["c"]
    f = check["network"]
    rng = random.Random(0)
    for _ in range(20):
        xs = [rng.uniform(-2, 2) for _ in range(2)]
        Ws = [[rng.uniform(-2, 2) for _ in range(2)] for _ in range(2)]
        bs = [rng.uniform(-1, 1) for _ in range(2)]
        vs = [rng.uniform(-2, 2) for _ in range(2)]
        cs = rng.uniform(-1, 1)
        ds = [rng.uniform(0.1, 5) for _ in range(2)]
        point = {x[0]: xs[0], x[1]: xs[1], c: cs}
        point.update({W[i, j]: Ws[i][j] for i in range(2) for j in range(2)})
        point.update({b[j]: bs[j] for j in range(2)})
        point.update({v[j]: vs[j] for j in range(2)})
        direct = cs + sum(vs[j] * relu(xs[0] * Ws[0][j] + xs[1] * Ws[1][j] + bs[j]) for j in range(2))
        rescaled = cs + sum(
            (vs[j] / ds[j]) * relu(ds[j] * (xs[0] * Ws[0][j] + xs[1] * Ws[1][j] + bs[j])) for j in range(2)
        )
        assert float(f.subs(point)) == pytest.approx(direct, abs=1e-12)
        assert rescaled == pytest.approx(direct, abs=1e-12)


# --------------------------------------------------------------------------- the balance


def test_balance_is_a_derivation_with_the_expected_results():
    balance = weight_decay_unit_balance()
    a, b, d = balance["a"], balance["o"], balance["d"]
    assert balance.kind == "derivation"
    assert sp.simplify(balance["fourth_power"] - b / a) == 0
    assert sp.simplify(balance["minimiser"] - (b / a) ** sp.Rational(1, 4)) == 0
    assert sp.simplify(balance["incoming"] - balance["outgoing"]) == 0
    assert sp.simplify(balance["incoming"] - sp.sqrt(a * b)) == 0
    assert sp.simplify(balance["minimum"] - 2 * sp.sqrt(a * b)) == 0
    assert balance["second_derivative"].is_positive
    assert sp.simplify(balance["slope_at_one"] - 2 * (a - b)) == 0
    assert balance["stationary_at_one"] == a
    assert sp.simplify(balance["penalty"] - (d**2 * a + b / d**2)) == 0


def test_balance_minimiser_beats_a_grid_numerically():
    balance = weight_decay_unit_balance()
    a, b, d = balance["a"], balance["o"], balance["d"]
    for a_value, b_value in ((1.0, 9.0), (4.0, 0.25), (2.0, 2.0)):
        g = sp.lambdify(d, balance["penalty"].subs({a: a_value, b: b_value}))
        d_star = float(balance["minimiser"].subs({a: a_value, b: b_value}))
        best = g(d_star)
        assert all(g(0.05 * k) >= best - 1e-12 for k in range(1, 200))
        assert d_star**2 * a_value == pytest.approx(b_value / d_star**2)
