"""Tests of cossim.symbolic.relabel: the same derivation, shown in a chapter's letters."""

from __future__ import annotations

import re

import pytest
import sympy as sp

from cossim import symbolic
from cossim.symbolic import relabel

LETTERS = {"p": "alpha", "q": "beta", "t": "z", "u": "z"}


def _standalone(letter: str, latex: str) -> bool:
    return re.search(r"(?<![\\A-Za-z])" + letter + r"(?![A-Za-z])", latex) is not None


def test_no_old_letter_is_left_in_what_is_displayed():
    original = symbolic.factor_penalty_direction()
    renamed = relabel(original, LETTERS)
    for letter in "pqtu":
        assert _standalone(letter, original.latex(width=None))
        assert not _standalone(letter, renamed.latex(width=None))
    assert r"\alpha" in renamed.latex() and r"\beta" in renamed.latex()


def test_expressions_are_the_originals_with_the_symbols_substituted():
    original = symbolic.factor_penalty_direction()
    renamed = relabel(original, LETTERS)
    for key, value in original.result.items():
        if not isinstance(value, sp.Basic):
            assert renamed[key] == value
            continue
        swap = {s: sp.Symbol(LETTERS[s.name], **s.assumptions0) for s in value.free_symbols if s.name in LETTERS}
        assert sp.simplify(renamed[key] - value.xreplace(swap)) == 0, key
    # Symbols that were not renamed are the very same objects (sigma and lambda keep their assumptions).
    assert renamed["sigma"] is original["sigma"] and renamed["lam"] is original["lam"]
    assert renamed["threshold"] == sp.Max(original["sigma"] - original["lam"], 0)


def test_assumptions_are_kept_and_displayed_inequalities_are_not_evaluated():
    original = symbolic.factor_penalty_balance()
    renamed = relabel(original, {"u": "rho", "P": "c"})
    assert renamed["u"].name == "rho" and renamed["u"].is_positive
    # Step 3 shows "second derivative > 0"; with positive symbols sympy would evaluate it to True.
    assert isinstance(renamed.steps[2].math, sp.StrictGreaterThan)
    assert renamed.steps[2].math.lhs == original.steps[2].math.lhs.xreplace({original["u"]: renamed["u"]})
    assert "c(\\rho)" in renamed.latex() and "P(u)" in original.latex()


def test_prose_keeps_its_words_and_can_be_rephrased():
    renamed = relabel(symbolic.fixed_product_balance(), {"p": "alpha", "q": "beta", "t": "z"})
    assert renamed.steps[0].text == r"Fix the product $\alpha \beta = z$ and write the penalty as a function of $\alpha$."
    assert renamed.title == "Fixed product, smallest penalty"
    phrase = r"$z = \alpha^2 = \beta^2 = z \ge 0$"
    better = relabel(symbolic.factor_penalty_direction(), LETTERS, prose={phrase: r"$\alpha^2 = \beta^2 = z \ge 0$"})
    assert not any(phrase in step.text for step in better.steps)
    assert any(r"$\alpha^2 = \beta^2 = z \ge 0$" in step.text for step in better.steps)


def test_words_and_latex_commands_are_not_renamed():
    # e, l, b, m, a occur in this derivation only inside words (\text{...}, \mathrm{bal}) and
    # commands (\lambda, \delta, \epsilon, \sigma, \frac), never as symbols of their own.
    original = symbolic.factor_penalty_vs_product_family()
    renamed = relabel(original, {"e": "x", "l": "y", "b": "y", "m": "y", "a": "y"})
    assert renamed.latex() == original.latex()
    assert renamed.title == original.title


def test_a_check_stays_a_check_with_its_verdict():
    check = symbolic.factor_penalty_rotation_check()
    renamed = relabel(check, {"R": "Q"})
    assert renamed.kind == "check" and renamed.holds is True


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: relabel("not a derivation", {"p": "a"}), "derivation must be"),
        (lambda: relabel(symbolic.fixed_product_balance(), {}), "symbols must be a non-empty"),
        (lambda: relabel(symbolic.fixed_product_balance(), {"p": "1x"}), "symbols must map names"),
        (lambda: relabel(symbolic.fixed_product_balance(), {"p": 3}), "symbols must map names"),
        (lambda: relabel(symbolic.fixed_product_balance(), {"p": "a"}, prose={"no such phrase": "x"}), "prose: the phrase"),
        (lambda: relabel(symbolic.fixed_product_balance(), {"p": "a"}, prose=["x"]), "prose must be a mapping"),
    ],
)
def test_bad_input_names_the_argument(call, message):
    with pytest.raises(ValueError, match=message):
        call()
