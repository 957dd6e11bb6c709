"""Tests of cossim.symbolic: every derived result against an independent statement.

Independent means: a closed form typed here from the paper or the notes, a
numeric substitution, a finite difference or a brute-force grid search, never
a rerun of the module's own computation. Every check is also fed a
counter-example, to show that it can fail.
"""

from __future__ import annotations

import ast
import functools
import inspect
import math
from pathlib import Path

import pytest
import sympy as sp

from cossim import symbolic
from cossim.symbolic import LAMBDA, SIGMA, Derivation, Step

PUBLIC_FUNCTIONS = sorted(
    name for name in symbolic.__all__
    if inspect.isfunction(getattr(symbolic, name))
)
HELPERS = {"rotation_matrix", "cosine", "cosine_matrix", "cross_cosine", "book_latex"}
DERIVATION_FUNCTIONS = [name for name in PUBLIC_FUNCTIONS if name not in HELPERS]


@functools.cache
def default(name: str) -> Derivation:
    """The result of calling a public function with its defaults (computed once)."""
    return getattr(symbolic, name)()


def is_zero_matrix(matrix: sp.MatrixBase) -> bool:
    return all(sp.simplify(entry) == 0 for entry in matrix)


def nonzero_at_a_point(expr) -> bool:
    """True if ``expr`` is a clearly nonzero number at one numeric point: not identically zero.

    Every free symbol gets a distinct positive rational (which satisfies the
    real, positive and nonzero assumptions used by the module).
    """
    symbols = sorted(sp.sympify(expr).free_symbols, key=lambda s: s.name)
    point = {s: sp.Rational(3 * i + 2, 2 * i + 5) for i, s in enumerate(symbols)}
    value = complex(sp.N(sp.sympify(expr).subs(point), 30))
    return abs(value) > 1e-9


def close(x, y, tol: float = 1e-9) -> bool:
    return abs(complex(sp.N(x)) - complex(sp.N(y))) < tol


# --------------------------------------------------------------------------------------
# The container and its rendering
# --------------------------------------------------------------------------------------


def test_step_converts_tuples_and_matrices():
    step = Step("Two things.", (sp.Integer(1), sp.Matrix([[1, 2]])))
    assert isinstance(step.math, sp.Tuple)
    assert isinstance(step.math[1], sp.ImmutableMatrix)
    assert step.latex() == r"1,\quad \left[\begin{matrix}1 & 2\end{matrix}\right]"


@pytest.mark.parametrize("text", ["", "   ", "one $x dollar"])
def test_step_rejects_bad_text(text):
    with pytest.raises(ValueError, match="text|dollar|\\$"):
        Step(text, sp.Integer(1))


def test_derivation_validates_kind_and_check_verdict():
    steps = (Step("A step.", sp.Integer(1)),)
    with pytest.raises(ValueError, match="kind"):
        Derivation("t", steps, {}, kind="proof")
    with pytest.raises(ValueError, match="holds"):
        Derivation("t", steps, {"holds": sp.true}, kind="check")
    with pytest.raises(ValueError, match="Step"):
        Derivation("t", ("not a step",))
    with pytest.raises(ValueError, match="derivation"):
        Derivation("t", steps, {}).holds  # noqa: B018 - the property raises


def test_derivation_result_is_read_only_and_indexable():
    d = Derivation("t", (Step("A step.", sp.Integer(1)),), {"x": sp.Integer(3)})
    assert d["x"] == 3
    with pytest.raises(TypeError):
        d.result["x"] = 4  # type: ignore[index]


def test_latex_rendering_has_the_expected_pieces():
    w = sp.Symbol("w")
    d = Derivation(
        "Title with $\\alpha_1$",
        (Step("Solve $f'(w) = 0$ for $w$.", sp.Eq(w, sp.Rational(1, 2))),
         Step("Done.", sp.Integer(0))),
        {"holds": True},
        kind="check",
    )
    latex = d.latex()
    assert latex.startswith("\\begin{aligned}") and latex.endswith("\\end{aligned}")
    assert r"&\textbf{Title with } \alpha_1 \textbf{ (check)}" in latex
    assert r"\text{1. Solve } f'(w) = 0 \text{ for } w \text{.}" in latex
    assert r"&\qquad w = \frac{1}{2}" in latex
    assert r"\text{2. Done.}" in latex
    assert latex.count(r" \\" + "\n") == 4  # title + 2 rows per step, minus the last
    unnumbered = d.latex(numbered=False)
    assert r"\text{Solve }" in unnumbered and "1." not in unnumbered
    rendered = d._repr_latex_()
    assert rendered.startswith("$$\n\\begin{aligned}") and rendered.endswith("\\end{aligned}\n$$")
    markdown = d.markdown()
    assert markdown.startswith("**Title with $\\alpha_1$** (check)")
    assert "1. Solve $f'(w) = 0$ for $w$." in markdown
    assert "$$ w = \\frac{1}{2} $$" in markdown


@pytest.mark.parametrize("text", ["50% of it", "a & b", "x_1", "\\alpha", "{x}", "a^2", "#1"])
def test_tex_specials_outside_maths_are_refused(text):
    with pytest.raises(ValueError, match="special"):
        Step(text, sp.Integer(1))
    with pytest.raises(ValueError, match="special"):
        Derivation(text, (Step("Fine.", sp.Integer(1)),))
    Step(f"Inside maths: ${text.replace('%', '')}$.", sp.Integer(1))  # allowed between dollars


def test_display_labels_print_verbatim():
    rendered = default("low_rank_row_norms").latex()
    assert r"\cosSim\left(V_k\right) = " in rendered
    assert "V_{k)" not in rendered


@pytest.mark.parametrize("name", DERIVATION_FUNCTIONS)
def test_every_public_derivation_renders(name):
    d = default(name)
    assert isinstance(d, Derivation)
    assert len(d.steps) >= 3
    latex = d.latex()
    assert latex.count(r"\text{") >= len(d.steps)
    assert latex.split("\n")[1].startswith("&\\textbf{" + d.title.split("$")[0])
    for step in d.steps:
        assert step.latex() in latex
    unescaped = latex.replace(r"\{", "").replace(r"\}", "")
    depth = 0
    for ch in unescaped:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        assert depth >= 0
    assert depth == 0
    assert latex.count(r"\left") == latex.count(r"\right")


@pytest.mark.parametrize("name", DERIVATION_FUNCTIONS)
def test_checks_are_named_as_checks(name):
    d = default(name)
    assert (d.kind == "check") == (name.endswith("_check") or name == "gauge_for_correlation")
    if d.kind == "check":
        assert isinstance(d.holds, bool)
        assert "CHECK" in getattr(symbolic, name).__doc__


def test_package_is_pure_sympy():
    imported = set()
    for source in Path(symbolic.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                imported.add(node.module or "")
    outside = {name for name in imported if not name.startswith("cossim.symbolic")}
    assert {name.split(".")[0] for name in outside} <= {
        "__future__", "collections", "dataclasses", "re", "types", "typing", "sympy"}


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------


def test_rotation_is_orthogonal_with_unit_determinant():
    R = symbolic.rotation_matrix()
    assert is_zero_matrix(R * R.T - sp.eye(2))
    assert sp.simplify(R.det()) == 1
    assert symbolic.rotation_matrix(sp.pi / 2) == sp.Matrix([[0, -1], [1, 0]])


def test_cosine_helpers_agree_with_hand_values():
    assert symbolic.cosine((1, 0), (1, 1)) == sp.sqrt(2) / 2
    M = sp.Matrix([[3, 4], [4, 3], [0, 1]])
    C = symbolic.cosine_matrix(M)
    assert C[0, 1] == sp.Rational(24, 25) and C[0, 2] == sp.Rational(4, 5) and C[1, 1] == 1
    X = symbolic.cross_cosine(M, sp.Matrix([[1, 0]]))
    assert X.shape == (3, 1) and X[0, 0] == sp.Rational(3, 5)
    with pytest.raises(ValueError, match="equal length"):
        symbolic.cosine((1, 2), (1, 2, 3))
    with pytest.raises(ValueError, match="columns"):
        symbolic.cross_cosine(M, sp.Matrix([[1, 0, 0]]))


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


# --------------------------------------------------------------------------------------
# chapters/factor_penalty.md
# --------------------------------------------------------------------------------------


def test_fixed_product_balance():
    d = default("fixed_product_balance")
    t, p = d["t"], d["p"]
    assert d["p_squared"] == sp.Abs(t) and d["q_squared"] == sp.Abs(t)
    assert d["minimum"] == 2 * sp.Abs(t)
    assert d["second_derivative"].is_positive
    for tv in (3, -2, sp.Rational(1, 4)):
        g = d["penalty"].subs(t, tv)
        best = min(float(g.subs(p, sp.Rational(k, 20))) for k in range(1, 200))
        assert best >= 2 * abs(float(tv)) - 1e-12
        assert best - 2 * abs(float(tv)) < 1e-2


def _grid_minimum(f, x, y, half_width=3.0, steps=120):
    fn = sp.lambdify((x, y), f, modules="math")
    grid = [-half_width + 2 * half_width * i / steps for i in range(steps + 1)]
    return min(fn(u, v) for u in grid for v in grid)


CASES = [(3, 1), (1, 3), (2, 2), (sp.Rational(5, 2), sp.Rational(1, 2)), (1, sp.Rational(1, 10))]


def test_factor_penalty_direction_threshold_both_branches():
    d = default("factor_penalty_direction")
    assert d["threshold"] == sp.Max(SIGMA - LAMBDA, 0)
    assert sp.simplify(d["stationary_point"] - (SIGMA - LAMBDA)) == 0
    t = sp.Symbol("t", positive=True)
    assert sp.simplify(d["flip"] - 4 * SIGMA * t) == 0
    assert d["threshold"].subs({SIGMA: 3, LAMBDA: 1}) == 2
    assert d["threshold"].subs({SIGMA: 1, LAMBDA: 3}) == 0
    assert d["threshold"].subs({SIGMA: 2, LAMBDA: 2}) == 0
    p, q = sp.symbols("p q", real=True)
    for s, lam in CASES:
        f = d["objective"].subs({SIGMA: s, LAMBDA: lam})
        root = d["p"].subs({SIGMA: s, LAMBDA: lam})
        assert root == sp.sqrt(max(s - lam, 0))
        optimum = float(f.subs({p: root, q: root}))
        grid = _grid_minimum(f, p, q)
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
    u, x, y = d["u"], d["x"], d["y"]
    assert sp.simplify(d["minimiser"] - sp.sqrt(y / x)) == 0
    assert sp.simplify(d["user_term"] - d["item_term"]) == 0
    assert sp.simplify(d["minimum"] - 2 * sp.sqrt(x * y)) == 0
    assert sp.expand(d["change"] - (u * x + y / u - x - y)) == 0
    assert d["second_derivative"].is_positive
    for xv, yv in [(1, 4), (9, 1), (2, 2)]:
        values = [xv * k / 100 + yv * 100 / k for k in range(1, 1000)]
        assert min(values) >= 2 * math.sqrt(xv * yv) - 1e-12
        assert float(d["minimiser"].subs({x: xv, y: yv})) == pytest.approx(math.sqrt(yv / xv))
    # Balanced columns (x = y) are already optimal: the change vanishes only at u = 1 there.
    assert sp.factor(d["change"].subs(y, x)) == x * (u - 1) ** 2 / u


def test_latex_wraps_long_prose_outside_maths_and_selects_steps():
    from cossim.symbolic import product_penalty_direction

    derivation = product_penalty_direction()
    wrapped = derivation.latex(width=30)
    unwrapped = derivation.latex(width=None)
    assert wrapped.count(r"\\") > unwrapped.count(r"\\")
    for row in wrapped.split(r" \\"):
        if r"\text{" in row and r"\qquad" not in row:
            # a prose row: no inline maths was split across rows
            assert row.count("$") == 0
    only_first = derivation.latex(steps=[1], width=None)
    assert only_first.count(r"\qquad") == 1
    with pytest.raises(ValueError, match="steps"):
        derivation.latex(steps=[0])
