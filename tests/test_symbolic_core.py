"""Tests of cossim.symbolic.core (the container, its rendering, the printer and the shared helpers).

Every derived result is checked against an independent statement. Independent means:
a closed form typed here from the paper or the notes, a
numeric substitution, a finite difference or a brute-force grid search, never
a rerun of the module's own computation. Every check is also fed a
counter-example, to show that it can fail.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import sympy as sp

from cossim import symbolic
from cossim.symbolic import Derivation, Step
from tests.symbolic_support import (
    DERIVATION_FUNCTIONS,
    default,
    is_zero_matrix,
)

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
    # A backslash lost in a plain string ("\rho" is a carriage return and "ho") shows up as a
    # control character.
    assert not [ch for ch in latex if ord(ch) < 0x20 and ch != "\n"]


@pytest.mark.parametrize("name", DERIVATION_FUNCTIONS)
def test_checks_are_named_as_checks(name):
    d = default(name)
    assert (d.kind == "check") == (name.endswith("_check") or name == "gauge_for_correlation")
    if d.kind == "check":
        assert isinstance(d.holds, bool)
        assert "check" in getattr(symbolic, name).__doc__.lower().replace("check that", "")


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

def test_latex_wraps_long_prose_outside_maths_and_selects_steps():
    from cossim.symbolic import product_penalty_direction

    derivation = product_penalty_direction()
    wrapped = derivation.latex(width=30)
    unwrapped = derivation.latex(width=None)
    assert wrapped.count(r"\\") > unwrapped.count(r"\\")
    # The wrapper never splits inline maths across rows: each row has whole $...$ pairs.
    from cossim.symbolic.core import _wrap_prose

    prose = "Solve $f'(w) = 0$ for the weight, then check $w^* = \\sigma^2 / (\\sigma^2 + \\lambda)$ again."
    rows = _wrap_prose(prose, 12)
    assert len(rows) > 3 and all(row.count("$") % 2 == 0 for row in rows)
    assert " ".join(rows) == prose
    only_first = derivation.latex(steps=[1], width=None)
    assert only_first.count(r"\qquad") == 1
    with pytest.raises(ValueError, match="steps"):
        derivation.latex(steps=[0])
