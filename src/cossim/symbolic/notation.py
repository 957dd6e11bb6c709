r"""A derivation in a chapter's own letters: rename the symbols of a sympy derivation for display.

Used in ``chapters/factor_penalty.md`` ("Penalising the factors"), where the book's notation
reserves :math:`p` for the number of items and :math:`t` for the scale ratio of
``chapters/gauge_freedom.md``: the one-direction derivations of :mod:`cossim.symbolic` are shown
there with the factors :math:`\alpha, \beta`, their product :math:`z` and the rescaling
:math:`\rho = d^2`.

Renaming changes what is displayed and nothing that is derived: every expression of the
derivation is the same expression with the renamed symbols substituted (same assumptions), and
the prose keeps its words, with the letters inside its ``$...$`` maths replaced.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import sympy as sp

from cossim.symbolic.core import Derivation, Step

__all__ = ["relabel"]

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")


def _check_symbols(symbols: Any) -> dict[str, str]:
    if not isinstance(symbols, Mapping) or not symbols:
        raise ValueError(f"symbols must be a non-empty mapping of old to new names, got {symbols!r}")
    checked = {}
    for old, new in symbols.items():
        if not isinstance(old, str) or not _NAME.match(old) or not isinstance(new, str) or not _NAME.match(new):
            raise ValueError(
                f"symbols must map names to names (a letter, then letters, digits or _), got {old!r}: {new!r}"
            )
        checked[old] = new
    return checked


def _latex_renamer(symbols: dict[str, str]):
    """Replace each old name, where it stands alone in LaTeX, by the LaTeX of its new name."""
    # A name stands alone when no letter or backslash precedes it and no letter follows it, so
    # that the p of \phi or of "p_1 q" is renamed only where it is the symbol p.
    pattern = re.compile(
        r"(?<![\\A-Za-z])(" + "|".join(sorted(map(re.escape, symbols), key=len, reverse=True)) + r")(?![A-Za-z])"
    )
    latex = {old: sp.latex(sp.Symbol(new)) for old, new in symbols.items()}
    return lambda text: pattern.sub(lambda match: latex[match.group(1)], text)


def _rename_prose(text: str, rename) -> str:
    """Rename inside the ``$...$`` maths of a sentence only; the words stay as they are."""
    pieces = text.split("$")
    return "$".join(rename(piece) if i % 2 else piece for i, piece in enumerate(pieces))


def relabel(derivation: Derivation, symbols: Mapping[str, str], prose: Mapping[str, str] | None = None) -> Derivation:
    r"""The same derivation, displayed with other letters.

    Used in ``chapters/factor_penalty.md`` ("Penalising the factors").

    Parameters
    ----------
    derivation : Derivation
        A derivation or check of :mod:`cossim.symbolic`.
    symbols : mapping of str to str
        Old symbol name to new symbol name, e.g. ``{"p": "alpha", "t": "z"}``. Every sympy symbol
        of that name (in the steps and in ``result``) becomes a symbol of the new name with the
        same assumptions; a display label (a symbol that prints its LaTeX verbatim, such as
        ``g(p)``) and the maths inside the prose have the old name replaced wherever it stands
        alone (not inside a longer name or a LaTeX command). Two old names may share a new name.
        A label letter that means something else (the d of :math:`d/d\sigma`) is renamed too:
        rename only letters that the derivation uses as symbols.
    prose : mapping of str to str, optional
        Exact phrases of the (renamed) prose to replace, for a sentence that the new letters make
        awkward. Each phrase must occur in some step; the maths is never changed by this.

    Returns
    -------
    Derivation
        Same title (renamed), kind, steps and result keys; expressions are substituted without
        re-evaluation, so a displayed inequality such as :math:`2\lambda > 0` stays as it is.

    Raises
    ------
    ValueError
        If ``derivation`` is not a :class:`~cossim.symbolic.Derivation`, ``symbols`` is empty or
        maps something other than names to names, or a phrase of ``prose`` occurs in no step.

    Examples
    --------
    >>> from cossim.symbolic import fixed_product_balance
    >>> d = relabel(fixed_product_balance(), {"p": "alpha", "q": "beta", "t": "z"})
    >>> d.steps[0].text
    'Fix the product $\\alpha \\beta = z$ and write the penalty as a function of $\\alpha$.'
    >>> d["minimum"]
    2*Abs(z)
    """
    if not isinstance(derivation, Derivation):
        raise ValueError(f"derivation must be a cossim.symbolic.Derivation, got {type(derivation).__name__}")
    symbols = _check_symbols(symbols)
    if prose is not None and (
        not isinstance(prose, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in prose.items())
    ):
        raise ValueError(f"prose must be a mapping of phrases to phrases, got {prose!r}")
    rename = _latex_renamer(symbols)

    def swap(expr: Any) -> Any:
        if isinstance(expr, tuple):
            return tuple(swap(e) for e in expr)
        if not isinstance(expr, (sp.Basic, sp.MatrixBase)):
            return expr  # a bool verdict, a number
        mapping = {}
        for atom in expr.atoms(sp.Symbol):
            if type(atom) is sp.Symbol:
                if atom.name in symbols:
                    mapping[atom] = sp.Symbol(symbols[atom.name], **atom.assumptions0)
            elif isinstance(atom, sp.Symbol) and not isinstance(atom, sp.Dummy):
                name = rename(atom.name)  # a display label: its name is LaTeX
                if name != atom.name:
                    mapping[atom] = type(atom)(name)
        if not mapping:
            return expr
        with sp.evaluate(False):
            return expr.xreplace(mapping)

    steps = [Step(_rename_prose(step.text, rename), swap(step.math)) for step in derivation.steps]
    for old, new in (prose or {}).items():
        if not any(old in step.text for step in steps):
            raise ValueError(f"prose: the phrase {old!r} occurs in no step of {derivation.title!r}")
        steps = [Step(step.text.replace(old, new), step.math) for step in steps]
    result = {key: swap(value) for key, value in derivation.result.items()}
    return Derivation(_rename_prose(derivation.title, rename), tuple(steps), result, kind=derivation.kind)
