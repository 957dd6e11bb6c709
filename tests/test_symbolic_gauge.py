"""Tests of cossim.symbolic.gauge (chapters/gauge_freedom.md).

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
from tests.symbolic_support import (
    close,
    default,
    is_zero_matrix,
    nonzero_at_a_point,
)

# --------------------------------------------------------------------------------------
# chapters/gauge_freedom.md
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("gauge", ["general", "diagonal", sp.Matrix([[1, 2], [3, 5]]),
                                   sp.Matrix([[2, 0, 1], [0, 1, 0], [1, 1, 1]])])
def test_gauge_invariance_holds(gauge):
    d = symbolic.gauge_invariance_check(gauge)
    assert d.holds
    assert d["residual"] == sp.zeros(3, 3)
    assert is_zero_matrix(d["product"] - d["A"] * d["B"].T)
    assert is_zero_matrix(d["gauge"] * d["item_gauge"].T - sp.eye(d["gauge"].rows))


def test_gauge_invariance_diagonal_gauge_is_diagonal_and_sized():
    d = symbolic.gauge_invariance_check("diagonal", p=2, k=3)
    assert d["gauge"].is_diagonal() and d["gauge"].shape == (3, 3)
    assert d["A"].shape == (2, 3) and d.holds


@pytest.mark.parametrize("wrong", ["same", "inverse_not_transposed"])
def test_gauge_invariance_fails_for_a_wrong_item_gauge(wrong):
    G = sp.Matrix([[1, 2], [3, 5]])
    H = G if wrong == "same" else G.inv()
    d = symbolic.gauge_invariance_check(G, item_gauge=H)
    assert not d.holds
    assert any(nonzero_at_a_point(entry) for entry in d["residual"])


def test_gauge_invariance_rejects_bad_input():
    with pytest.raises(ValueError, match="invertible"):
        symbolic.gauge_invariance_check(sp.Matrix([[1, 2], [2, 4]]))
    with pytest.raises(ValueError, match="gauge"):
        symbolic.gauge_invariance_check("orthogonal")
    with pytest.raises(ValueError, match="square"):
        symbolic.gauge_invariance_check(sp.Matrix([[1, 2, 3], [4, 5, 6]]))
    with pytest.raises(ValueError, match="item_gauge"):
        symbolic.gauge_invariance_check(sp.eye(2), item_gauge=sp.eye(3))
    with pytest.raises(ValueError, match="p"):
        symbolic.gauge_invariance_check(p=0)


def _hand_cosine(a, b, t):
    """cos(diag(1, t) a, diag(1, t) b), written out by hand."""
    num = a[0] * b[0] + t**2 * a[1] * b[1]
    return num / math.sqrt((a[0] ** 2 + t**2 * a[1] ** 2) * (b[0] ** 2 + t**2 * b[1] ** 2))


def test_cosine_depends_on_scale_derivative_matches_finite_differences():
    d = default("cosine_depends_on_scale")
    assert d["depends"]
    t = d["t"]
    a1, a2, b1, b2 = sp.symbols("a_1 a_2 b_1 b_2", real=True)
    h = 1e-6
    for (a, b, tv) in [((1, 2), (2, 1), 0.5), ((3, -1), (1, 4), 2.0), ((1, 1), (1, -1), 1.3)]:
        exact = float(d["derivative"].subs({a1: a[0], a2: a[1], b1: b[0], b2: b[1], t: tv}))
        numeric = (_hand_cosine(a, b, tv + h) - _hand_cosine(a, b, tv - h)) / (2 * h)
        assert abs(exact - numeric) < 1e-6
    assert d["witness"] is not None
    assert sp.simplify(d["derivative"].subs(d["witness"])) != 0
    # The factor (a1 b2 - a2 b1)^2 makes parallel vectors scale-invariant.
    parallel = d["derivative"].subs({a1: 1, a2: 2, b1: 3, b2: 6})
    assert sp.simplify(parallel) == 0


def test_cosine_depends_on_scale_can_report_independence():
    d = symbolic.cosine_depends_on_scale((1, 2), (-2, -4))
    assert not d["depends"] and d["derivative"] == 0 and d["witness"] is None
    assert symbolic.cosine_depends_on_scale((1, 2), (2, 1))["depends"]


def test_cosine_depends_on_scale_rejects_bad_vectors():
    with pytest.raises(ValueError, match="two entries"):
        symbolic.cosine_depends_on_scale((1, 2, 3), (1, 2))


def test_two_vector_cosine_range_default_example():
    d = default("two_vector_cosine_range")
    t = d["t"]
    for tv in (0.1, 0.7, 1.0, 3.0, 40.0):
        assert close(d["cosine"].subs(t, tv), _hand_cosine((1, 2), (2, 1), tv))
    assert d["original"] == sp.Rational(4, 5)
    assert d["limit_0"] == 1 and d["limit_oo"] == 1
    assert d["critical_points"] == (1,)
    assert d["critical_values"] == (sp.Rational(4, 5),)
    assert d["infimum"] == sp.Rational(4, 5) and d["supremum"] == 1
    assert d["range"] == sp.Interval.Ropen(sp.Rational(4, 5), 1)


def _grid_extremes(a, b):
    values = [_hand_cosine(a, b, 10 ** (e / 50)) for e in range(-300, 301)]
    return min(values), max(values)


@pytest.mark.parametrize(
    "a, b, expected",
    [
        ((1, 2), (2, 1), sp.Interval.Ropen(sp.Rational(4, 5), 1)),
        ((1, 1), (1, -1), sp.Interval.open(-1, 1)),
        ((1, 0), (1, 1), sp.Interval.open(0, 1)),
        ((1, -2), (-2, 1), sp.Interval.Lopen(-1, -sp.Rational(4, 5))),
        ((1, 2), (3, 6), sp.FiniteSet(1)),
        ((0, 1), (1, 0), sp.FiniteSet(0)),
        ((1, 3), (2, 1), sp.Interval.Ropen(2 * sp.sqrt(6) / 7, 1)),
        ((1.0, 2.0), (2.0, 1.0), sp.Interval.Ropen(sp.Rational(4, 5), 1)),
    ],
)
def test_two_vector_cosine_range_against_grid(a, b, expected):
    d = symbolic.two_vector_cosine_range(a, b)
    assert d["range"] == expected
    lo, hi = _grid_extremes(a, b)
    assert float(d["infimum"]) <= lo + 1e-12 and hi <= float(d["supremum"]) + 1e-12
    assert lo - float(d["infimum"]) < 1e-3 and float(d["supremum"]) - hi < 1e-3
    assert close(d["original"], _hand_cosine(a, b, 1.0))


@pytest.mark.parametrize("a, b", [((0, 0), (1, 2)), ((1, 2, 3), (1, 2, 3)), (("x", 1), (1, 2)),
                                  ((1, sp.I), (1, 2))])
def test_two_vector_cosine_range_rejects_bad_vectors(a, b):
    with pytest.raises(ValueError, match="a"):
        symbolic.two_vector_cosine_range(a, b)


def test_positive_vectors_cosine_range_matches_examples():
    d = default("positive_vectors_cosine_range")
    a1, a2, b1, b2, t = d["symbols"]
    assert d["limit_0"] == 1 and d["limit_oo"] == 1
    for a, b in [((1, 2), (2, 1)), ((1, 3), (2, 1)), ((5, 1), (1, 7)), ((2, 3), (3, 1))]:
        point = {a1: a[0], a2: a[1], b1: b[0], b2: b[1]}
        example = symbolic.two_vector_cosine_range(a, b)
        assert sp.simplify(d["minimum"].subs(point) - example["infimum"]) == 0
        # Independent statement: t*^2 = a1 b1 / (a2 b2).
        assert sp.simplify(d["critical_point"].subs(point) ** 2
                           - sp.Rational(a[0] * b[0], a[1] * b[1])) == 0
        # The gap is 1 - minimum with x^2 = a1 b2, y^2 = a2 b1.
        gap = d["gap"].subs({d["x"]: sp.sqrt(a[0] * b[1]), d["y"]: sp.sqrt(a[1] * b[0])})
        assert sp.simplify(gap - (1 - d["minimum"].subs(point))) == 0
    # Geometric over arithmetic mean of a1 b2 and a2 b1.
    gm_over_am = 2 * sp.sqrt(a1 * b2 * a2 * b1) / (a1 * b2 + a2 * b1)
    assert sp.simplify(d["minimum"] - gm_over_am) == 0
    assert d["range"] == sp.Interval.Ropen(d["minimum"], 1)


def test_gauge_for_correlation_default():
    d = default("gauge_for_correlation")
    r = sp.Symbol("r", real=True)
    C = sp.Matrix([[1, r], [r, 1]])
    assert d.holds
    assert d["row_norms"] == (1, 1)
    assert is_zero_matrix(d["cosines"] - C)
    # Independently of the derivation: at numeric points, regauge B with the derived item gauge,
    # take the cosine of its two rows by hand, and compare it with the target; and check that the
    # pair of gauges leaves every prediction unchanged.
    b = d["B"]
    for r_value, entries in [(sp.Rational(1, 3), (2, 1, -1, 3)), (-sp.Rational(3, 4), (1, 2, 3, 5))]:
        point = {r: r_value, **dict(zip(list(b), entries))}
        rows = (b * d["item_gauge"]).subs(point)
        assert sp.simplify(symbolic.cosine(rows.row(0), rows.row(1)) - r_value) == 0
        pair = symbolic.gauge_invariance_check(d["user_gauge"].subs(point), item_gauge=d["item_gauge"].subs(point))
        assert pair.holds


def test_gauge_for_correlation_three_items_numeric():
    C = sp.Matrix([[1, sp.Rational(1, 2), sp.Rational(1, 3)],
                   [sp.Rational(1, 2), 1, sp.Rational(-1, 4)],
                   [sp.Rational(1, 3), sp.Rational(-1, 4), 1]])
    B = sp.Matrix([[2, 1, 0], [0, 1, 1], [1, 0, 3]])
    d = symbolic.gauge_for_correlation(C, B)
    assert d.holds
    assert d["cosines"] == C
    assert d["embeddings"] * d["embeddings"].T == C
    check = symbolic.gauge_invariance_check(d["user_gauge"], item_gauge=d["item_gauge"])
    assert check.holds


@pytest.mark.slow
def test_gauge_for_correlation_three_items_symbolic_factor():
    C = sp.Matrix([[1, sp.Rational(1, 2), 0], [sp.Rational(1, 2), 1, sp.Rational(1, 5)],
                   [0, sp.Rational(1, 5), 1]])
    d = symbolic.gauge_for_correlation(C)
    assert d.holds and d["cosines"] == C
    assert is_zero_matrix(d["user_gauge"].T * d["item_gauge"] - sp.eye(3))


def test_gauge_for_correlation_fails_for_a_non_correlation_matrix():
    d = symbolic.gauge_for_correlation(sp.diag(4, 1), sp.Matrix([[1, 2], [0, 1]]))
    assert not d.holds
    assert d["row_norms"] == (2, 1)


@pytest.mark.parametrize(
    "C, B, match",
    [
        (sp.Matrix([[1, 2], [2, 1]]), None, "positive definite"),
        (sp.Matrix([[1, 0], [sp.Rational(1, 2), 1]]), None, "symmetric"),
        (sp.eye(2), sp.Matrix([[1, 2], [2, 4]]), "invertible"),
        (sp.eye(2), sp.eye(3), "shape"),
    ],
)
def test_gauge_for_correlation_rejects_bad_input(C, B, match):
    with pytest.raises(ValueError, match=match):
        symbolic.gauge_for_correlation(C, B)
