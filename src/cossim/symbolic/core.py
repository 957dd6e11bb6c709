r"""The core of :mod:`cossim.symbolic`: steps, derivations, their rendering in the book's notation.

Every public function of the package returns a :class:`Derivation`: a title, a
tuple of :class:`Step` objects (one sentence of prose plus one sympy object
each) and a ``result`` mapping with the final expressions. A chapter can
display the whole chain as rendered maths (``display(derivation)`` uses
:meth:`Derivation._repr_latex_`, an ``aligned`` block) and assert on
``derivation.result``.

**The book's notation.** Maths is printed by :func:`book_latex`, a sympy
LaTeX printer with the book's conventions: the cosine similarity
:class:`CosSim` as ``\cosSim``, transposes as ``^{\top}``, and the positive
part ``max(0, x)`` (a ``Max`` or the equivalent ``Piecewise``) as
``\pos{x}``. The macros ``\cosSim`` and ``\pos`` are those of the book
(``_config.yml`` for MathJax; the PDF build defines the same), so the output is
valid in both.

House rule. A *derivation* solves: it calls ``sp.solve``, ``sp.diff``,
``sp.limit``, ``sp.factor`` or ``sp.simplify`` and never types the answer it
claims to find. A *check* verifies an identity that the text states; checks have
``check`` in their name, ``kind == "check"`` and a boolean ``result["holds"]``,
and every check accepts arguments with which it can be fed a counter-example
(and then reports ``holds == False``).

The package is pure sympy: it imports neither numpy nor matplotlib, and nothing
else from :mod:`cossim`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import sympy as sp
from sympy.printing.latex import LatexPrinter

from cossim.symbolic._helpers import as_expression, as_sympy_matrix, tidy

__all__ = [
    "LAMBDA",
    "SIGMA",
    "THETA",
    "CosSim",
    "Derivation",
    "Step",
    "book_latex",
    "cosine",
    "cosine_matrix",
    "cross_cosine",
    "rotation_matrix",
]

#: A singular value of the data ``X`` (a positive symbol), shared by all derivations.
SIGMA = sp.Symbol("sigma", positive=True)
#: The regularisation strength ``lambda`` (a positive symbol), shared by all derivations.
LAMBDA = sp.Symbol("lambda", positive=True)

#: The angle ``theta`` (a real symbol) of :func:`rotation_matrix`, shared by all derivations.
THETA = sp.Symbol("theta", real=True)



# --------------------------------------------------------------------------------------
# The book's notation
# --------------------------------------------------------------------------------------


class CosSim(sp.Function):
    r"""The cosine similarity as an unevaluated function, for display: prints as ``\cosSim(...)``.

    Used by :func:`gauge_for_correlation`, :func:`low_rank_row_norms` and the
    other derivations that name a cosine: ``CosSim(t)`` is "the cosine as a
    function of ``t``", ``CosSim(label("B H"))`` "the cosine matrix of the rows
    of ``B H``". It never evaluates; compute cosines with :func:`cosine` and
    :func:`cosine_matrix`.

    Examples
    --------
    >>> t = sp.Symbol("t")
    >>> book_latex(CosSim(t).diff(t))
    "\\cosSim'\\left(t\\right)"
    """

    @classmethod
    def eval(cls, *args: Any) -> None:
        return None


class _BookLatexPrinter(LatexPrinter):
    """sympy's LaTeX printer with the book's notation (see :func:`book_latex`)."""

    printmethod = "_latex"

    def _print_CosSim(self, expr: Any, exp: Any = None) -> str:
        tex = r"\cosSim\left(%s\right)" % ", ".join(self._print(arg) for arg in expr.args)
        return tex if exp is None else r"%s^{%s}" % (tex, exp)

    def _print_Derivative(self, expr: Any) -> str:
        if isinstance(expr.expr, CosSim) and expr.derivative_count == 1:
            return r"\cosSim'\left(%s\right)" % ", ".join(self._print(arg) for arg in expr.expr.args)
        return super()._print_Derivative(expr)

    def _print_Transpose(self, expr: Any) -> str:
        tex = super()._print_Transpose(expr)
        return tex[: -len("^{T}")] + r"^{\top}" if tex.endswith("^{T}") else tex

    def _positive_part(self, value: Any, exp: Any = None) -> str:
        tex = r"\pos{%s}" % self._print(value)
        return tex if exp is None else r"%s^{%s}" % (tex, exp)

    def _print_Max(self, expr: Any, exp: Any = None) -> str:
        others = [arg for arg in expr.args if arg != 0]
        if len(expr.args) == 2 and len(others) == 1:
            return self._positive_part(others[0], exp)
        return super()._print_Max(expr, exp)

    def _print_Piecewise(self, expr: Any) -> str:
        if len(expr.args) == 2:
            (value, condition), (other, otherwise) = expr.args
            if (other == 0 and otherwise == sp.true and isinstance(condition, sp.StrictGreaterThan)
                    and condition.rhs == 0 and condition.lhs == value):
                return self._positive_part(value)
        return super()._print_Piecewise(expr)


def book_latex(expr: Any, **settings: Any) -> str:
    r"""LaTeX of a sympy object in the book's notation: the printer setting of :mod:`cossim.symbolic`.

    Used by :class:`Derivation` (:meth:`Derivation.latex`) and :class:`Step`
    for every formula they render. Like :func:`sympy.latex` (and with its
    settings), except that :class:`CosSim` prints as ``\cosSim``, transposes as
    ``^{\top}``, and ``Max(x, 0)`` or ``Piecewise((x, x > 0), (0, True))`` as
    ``\pos{x}`` (the book's :math:`(\cdot)_+`).

    Examples
    --------
    >>> x = sp.Symbol("x")
    >>> book_latex(sp.Max(x - 1, 0))
    '\\pos{x - 1}'
    >>> book_latex(sp.MatrixSymbol("A", 2, 2).T)
    'A^{\\top}'
    """
    try:
        printer = _BookLatexPrinter(settings)
    except TypeError as error:  # sympy's message for an unknown setting
        raise ValueError(f"settings must be settings of sympy.latex: {error}") from error
    return printer.doprint(expr)


# --------------------------------------------------------------------------------------
# The container and its rendering
# --------------------------------------------------------------------------------------

#: Characters that mean something to TeX; prose must put them between dollar signs.
_TEX_SPECIALS = frozenset("\\{}&%#_^~")


def _wrap_prose(text: str, width: int | None) -> list[str]:
    """Break prose into lines of at most ``width`` characters, never inside ``$...$``."""
    if width is None:
        return [text]
    lines: list[str] = []
    line = ""
    for token in re.findall(r"(?:[^\s$]|\$[^$]*\$)+", text):
        if line and len(line) + 1 + len(token) > width:
            lines.append(line)
            line = token
        else:
            line = f"{line} {token}" if line else token
    return lines + [line]


def _prose_to_latex(text: str, command: str = "text") -> str:
    r"""Render one sentence of prose for use inside maths mode.

    Segments between ``$...$`` are inline maths and are copied as they are; the
    rest goes into ``\text{...}`` (or ``\textbf{...}``). Prose outside the
    dollars may not contain TeX's special characters: MathJax and LaTeX escape
    them differently inside ``\text``, so the only portable way is maths.
    """
    control = sorted({ch for ch in text if ord(ch) < 0x20 and ch != "\n"})
    if control:  # a "\rho" in a plain string is a carriage return and "ho"
        raise ValueError(f"text has control character(s) {control}; escape backslashes: {text!r}")
    pieces = text.split("$")
    if len(pieces) % 2 == 0:
        raise ValueError(f"unbalanced $ in text: {text!r}")
    out = []
    for i, piece in enumerate(pieces):
        if not piece:
            continue
        if i % 2:
            out.append(piece)
        else:
            bad = sorted(_TEX_SPECIALS.intersection(piece))
            if bad:
                raise ValueError(
                    f"text has TeX special character(s) {bad} outside $...$; "
                    f"write them as maths between dollar signs: {text!r}"
                )
            out.append("\\" + command + "{" + piece + "}")
    return " ".join(out)


def _as_sympy(obj: Any) -> Any:
    """Turn ``obj`` into something :func:`sympy.latex` renders (immutable matrices)."""
    if isinstance(obj, sp.MatrixBase):
        return sp.ImmutableMatrix(obj)
    if isinstance(obj, (sp.Basic, bool)):
        return sp.sympify(obj)
    if isinstance(obj, (list, tuple)):
        return sp.Tuple(*(_as_sympy(o) for o in obj))
    return sp.sympify(obj)


@dataclass(frozen=True)
class Step:
    """One step of a derivation: a sentence of prose and the maths it shows.

    Used in ``chapters/remedies.md``.

    Parameters
    ----------
    text : str
        One sentence explaining the step. Inline maths may be written between
        dollar signs, e.g. ``"Solve $f'(w) = 0$ for $w$."``; TeX's special
        characters (backslash, braces, ``& % # _ ^ ~``) are allowed only there.
    math : sympy object
        What the step displays: an expression, an ``sp.Eq``, a matrix, a set ...
        Lists and tuples become ``sp.Tuple``; mutable matrices become immutable.
    """

    text: str
    math: Any

    def __post_init__(self) -> None:
        if not isinstance(self.text, str) or not self.text.strip():
            raise ValueError("text must be a non-empty string")
        _prose_to_latex(self.text)  # fail early on unbalanced dollars or TeX specials
        object.__setattr__(self, "math", _as_sympy(self.math))

    def latex(self) -> str:
        """Return the maths of this step as a LaTeX string.

        A ``sp.Tuple`` is shown as its items separated by commas and a wide
        space, without brackets.
        """
        if isinstance(self.math, sp.Tuple):
            return r",\quad ".join(book_latex(item) for item in self.math)
        return book_latex(self.math)


@dataclass(frozen=True)
class Derivation:
    """A titled chain of steps and its final result.

    Used in ``chapters/remedies.md``, and returned by every derivation and check
    of the package (e.g. :func:`gauge_for_correlation`).

    Parameters
    ----------
    title : str
        A short title, shown in bold above the steps (maths between dollars,
        as in :class:`Step`).
    steps : tuple of Step
        The steps, in order.
    result : mapping of str to object
        The final expressions (sympy objects, tuples of them, or Python ``bool``
        for the verdict of a check). Stored read-only; also reachable by
        indexing, ``derivation["minimiser"]``.
    kind : {"derivation", "check"}
        ``"check"`` if the function verifies a stated identity rather than
        solving for it; checks carry ``result["holds"]``.
    """

    title: str
    steps: tuple[Step, ...]
    result: Mapping[str, Any] = field(default_factory=dict)
    kind: str = "derivation"

    def __post_init__(self) -> None:
        if not isinstance(self.title, str) or not self.title.strip():
            raise ValueError("title must be a non-empty string")
        _prose_to_latex(self.title)  # fail early on TeX specials outside $...$
        if self.kind not in ("derivation", "check"):
            raise ValueError(f"kind must be 'derivation' or 'check', got {self.kind!r}")
        steps = tuple(self.steps)
        if not all(isinstance(s, Step) for s in steps):
            raise ValueError("steps must be Step instances")
        object.__setattr__(self, "steps", steps)
        object.__setattr__(self, "result", MappingProxyType(dict(self.result)))
        if self.kind == "check" and not isinstance(self.result.get("holds"), bool):
            raise ValueError("a check must report a bool result['holds']")

    def __getitem__(self, key: str) -> Any:
        return self.result[key]

    @property
    def holds(self) -> bool:
        """The verdict of a check (``result["holds"]``); ``ValueError`` for a derivation."""
        if self.kind != "check":
            raise ValueError(f"{self.title!r} is a derivation, not a check")
        return self.result["holds"]

    def latex(self, numbered: bool = True, steps: Sequence[int] | None = None, width: int | None = 64) -> str:
        r"""Render title and steps as one LaTeX ``aligned`` block.

        Each step takes its prose (as ``\text``, with any inline maths) and,
        indented below, its maths. MathJax does not wrap text inside maths, so
        long prose is broken into lines of at most ``width`` characters (never
        inside ``$...$``) to keep the block within the page.

        Parameters
        ----------
        numbered : bool, default True
            Prefix each step's prose with its number.
        steps : sequence of int, optional
            Show only these steps (numbered from 1, as displayed); all by default.
        width : int or None, default 64
            Wrap prose at this many characters; ``None`` never wraps.

        Returns
        -------
        str
            ``\begin{aligned} ... \end{aligned}``, without surrounding dollars.
        """
        if steps is not None:
            unknown = sorted(set(steps) - set(range(1, len(self.steps) + 1)))
            if unknown:
                raise ValueError(f"steps {unknown} out of range 1..{len(self.steps)}")
        title = self.title + (" (check)" if self.kind == "check" else "")
        rows = ["&" + _prose_to_latex(line, command="textbf") for line in _wrap_prose(title, width)]
        for i, step in enumerate(self.steps, start=1):
            if steps is not None and i not in steps:
                continue
            prose = (f"{i}. " if numbered else "") + step.text
            rows += ["&" + _prose_to_latex(line) for line in _wrap_prose(prose, width)]
            rows.append(r"&\qquad " + step.latex())
        return "\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}"

    def _repr_latex_(self) -> str:
        return "$$\n" + self.latex() + "\n$$"

    def markdown(self) -> str:
        """Render as Markdown: a numbered list of prose, each with display maths.

        An alternative to :meth:`latex` for long prose, which MathJax does not
        wrap inside an ``aligned`` block.
        """
        lines = [f"**{self.title}**" + (" (check)" if self.kind == "check" else ""), ""]
        for i, step in enumerate(self.steps, start=1):
            lines += [f"{i}. {step.text}", "", f"   $$ {step.latex()} $$", ""]
        return "\n".join(lines)



# --------------------------------------------------------------------------------------
# Shared helpers: rotations and cosines
# --------------------------------------------------------------------------------------


def rotation_matrix(theta: Any = THETA) -> sp.Matrix:
    r"""The 2 x 2 rotation by ``theta``, a generic orthogonal matrix for the examples.

    Used in ``chapters/remedies.md``.

    Parameters
    ----------
    theta : sympy expression, default the real symbol ``theta``
        The angle.

    Returns
    -------
    sympy.Matrix, shape (2, 2)
        :math:`\begin{pmatrix}\cos\theta & -\sin\theta\\ \sin\theta & \cos\theta\end{pmatrix}`.
    """
    theta = as_expression(theta, "theta")
    return sp.Matrix([[sp.cos(theta), -sp.sin(theta)], [sp.sin(theta), sp.cos(theta)]])


def cosine(x: Sequence[Any] | sp.MatrixBase, y: Sequence[Any] | sp.MatrixBase) -> sp.Expr:
    r"""Cosine similarity :math:`\langle x, y\rangle / (\|x\|\,\|y\|)` of two symbolic vectors.

    Used in ``chapters/gauge_freedom.md``.

    Parameters
    ----------
    x, y : sequences or sympy matrices of the same length
        The vectors (flattened if given as matrices).

    Returns
    -------
    sympy.Expr
        The cosine, unsimplified.
    """
    x = list(sp.Matrix(x))
    y = list(sp.Matrix(y))
    if len(x) != len(y) or not x:
        raise ValueError(
            f"x and y must be non-empty and of equal length, got {len(x)} and {len(y)}"
        )
    dot = sum(a * b for a, b in zip(x, y))
    return dot / (sp.sqrt(sum(a**2 for a in x)) * sp.sqrt(sum(b**2 for b in y)))


def cross_cosine(M: sp.MatrixBase, N: sp.MatrixBase, simplify: bool = True) -> sp.Matrix:
    r"""Cosines between every row of ``M`` and every row of ``N``.

    Computed directly from the definition: the Gram matrix :math:`M N^\top`
    divided entrywise by the row norms. Used by :func:`cosine_matrix` and
    :func:`cosine_formula_check`.

    Parameters
    ----------
    M : sympy matrix, shape (m, k)
    N : sympy matrix, shape (n, k)
    simplify : bool, default True
        Simplify the Gram entries and squared norms before dividing (needed for
        trigonometric entries such as rotations).

    Returns
    -------
    sympy.Matrix, shape (m, n)
    """
    M = as_sympy_matrix(M, "M")
    N = as_sympy_matrix(N, "N")
    if M.cols != N.cols:
        raise ValueError(f"M and N must have the same number of columns, got {M.cols} and {N.cols}")
    reduce = tidy if simplify else sp.sympify
    gram = (M * N.T).applyfunc(reduce)
    m_norm = [sp.sqrt(reduce(M.row(i).dot(M.row(i)))) for i in range(M.rows)]
    n_norm = [sp.sqrt(reduce(N.row(j).dot(N.row(j)))) for j in range(N.rows)]
    return sp.Matrix(M.rows, N.rows, lambda i, j: gram[i, j] / (m_norm[i] * n_norm[j]))


def cosine_matrix(M: sp.MatrixBase, simplify: bool = True) -> sp.Matrix:
    """Cosines between all pairs of rows of ``M`` (``cross_cosine(M, M)``).

    Used by :func:`gauge_for_correlation`, :func:`full_rank_item_identity_check`
    and :func:`low_rank_row_norms`.

    Parameters
    ----------
    M : sympy matrix, shape (m, k)
    simplify : bool, default True
        See :func:`cross_cosine`.

    Returns
    -------
    sympy.Matrix, shape (m, m)
    """
    return cross_cosine(M, M, simplify=simplify)
