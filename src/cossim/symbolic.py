r"""Symbolic derivations behind the book, done by sympy in view.

Every public function returns a :class:`Derivation`: a title, a tuple of
:class:`Step` objects (one sentence of prose plus one sympy object each) and a
``result`` mapping with the final expressions. A chapter can display the whole
chain as rendered maths (``display(derivation)`` uses :meth:`Derivation._repr_latex_`,
an ``aligned`` block that MathJax renders) and assert on ``derivation.result``.

House rule. A *derivation* solves: it calls ``sp.solve``, ``sp.diff``,
``sp.limit``, ``sp.factor`` or ``sp.simplify`` and never types the answer it
claims to find. A *check* verifies an identity that the text states; checks have
``check`` in their name, ``kind == "check"`` and a boolean ``result["holds"]``,
and every check accepts arguments with which it can be fed a counter-example
(and then reports ``holds == False``).

This module is pure sympy: it imports neither numpy nor matplotlib, and nothing
else from :mod:`cossim`.

Chapters that use it:

* ``chapters/gauge_freedom.md`` (The rescaling freedom):
  :func:`gauge_invariance_check`, :func:`cosine_depends_on_scale`,
  :func:`two_vector_cosine_range`, :func:`positive_vectors_cosine_range`,
  :func:`gauge_for_correlation`.
* ``chapters/product_penalty.md`` (Penalising the product):
  :func:`product_penalty_direction`, :func:`product_penalty_completed_square`,
  :func:`symmetric_split_check`, :func:`cosine_formula_check`,
  :func:`full_rank_item_identity_check`, :func:`full_rank_user_raw_check`,
  :func:`low_rank_row_norms`.
* ``chapters/factor_penalty.md`` (Penalising the factors):
  :func:`fixed_product_balance`, :func:`factor_penalty_direction`,
  :func:`factor_penalty_closed_form`, :func:`weight_decay_direction`,
  :func:`factor_penalty_rotation_check`, :func:`factor_penalty_balance`,
  :func:`factor_penalty_vs_product_family`.

Shared helpers: :func:`rotation_matrix`, :func:`cosine`, :func:`cosine_matrix`,
:func:`cross_cosine`, and the symbols :data:`SIGMA`, :data:`LAMBDA` and :data:`THETA`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import sympy as sp

__all__ = [
    "LAMBDA",
    "SIGMA",
    "THETA",
    "Derivation",
    "Step",
    "cosine",
    "cosine_depends_on_scale",
    "cosine_formula_check",
    "cosine_matrix",
    "cross_cosine",
    "factor_penalty_balance",
    "factor_penalty_closed_form",
    "factor_penalty_direction",
    "factor_penalty_rotation_check",
    "factor_penalty_vs_product_family",
    "fixed_product_balance",
    "full_rank_item_identity_check",
    "full_rank_user_raw_check",
    "gauge_for_correlation",
    "gauge_invariance_check",
    "low_rank_row_norms",
    "positive_vectors_cosine_range",
    "product_penalty_completed_square",
    "product_penalty_direction",
    "rotation_matrix",
    "symmetric_split_check",
    "two_vector_cosine_range",
    "weight_decay_direction",
]

#: A singular value of the data ``X`` (a positive symbol), shared by all derivations.
SIGMA = sp.Symbol("sigma", positive=True)
#: The regularisation strength ``lambda`` (a positive symbol), shared by all derivations.
LAMBDA = sp.Symbol("lambda", positive=True)

#: The angle ``theta`` (a real symbol) of :func:`rotation_matrix`, shared by all derivations.
THETA = sp.Symbol("theta", real=True)


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
            return r",\quad ".join(sp.latex(item) for item in self.math)
        return sp.latex(self.math)


@dataclass(frozen=True)
class Derivation:
    """A titled chain of steps and its final result.

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
# Small helpers
# --------------------------------------------------------------------------------------


class _Name(sp.Symbol):
    """A symbol that prints as its name taken verbatim as LaTeX (a display label)."""

    def _latex(self, printer: Any) -> str:
        return self.name


def _name(latex: str) -> _Name:
    """A display label such as ``"f'(w)"`` or ``"\\cos(V_k)"``, printed verbatim."""
    return _Name(latex)


def _eq(lhs: Any, rhs: Any) -> sp.Eq:
    """An unevaluated equation for display (``lhs`` may be a LaTeX label)."""
    if isinstance(lhs, str):
        lhs = _name(lhs)
    if isinstance(rhs, sp.MatrixBase):
        rhs = sp.ImmutableMatrix(rhs)
    if isinstance(lhs, sp.MatrixBase):
        lhs = sp.ImmutableMatrix(lhs)
    return sp.Eq(lhs, rhs, evaluate=False)


def _symbol_matrix(name: str, rows: int, cols: int, **assumptions: bool) -> sp.Matrix:
    """A ``rows x cols`` matrix of symbols ``name_{ij}`` (1-based indices)."""
    return sp.Matrix(
        rows,
        cols,
        lambda i, j: sp.Symbol(f"{name}_{{{i + 1}{j + 1}}}", **assumptions),
    )


def _check_size(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


def _as_matrix(value: Any, name: str) -> sp.Matrix:
    try:
        matrix = sp.Matrix(value)
    except Exception as error:  # sympy raises several types for bad input
        raise ValueError(f"{name} must be a sympy matrix or nested sequence: {error}") from error
    if matrix.rows == 0 or matrix.cols == 0:
        raise ValueError(f"{name} must not be empty")
    return matrix


def _square(value: Any, name: str) -> sp.Matrix:
    matrix = _as_matrix(value, name)
    if not matrix.is_square:
        raise ValueError(f"{name} must be square, got shape {matrix.shape}")
    return matrix


def _tidy(expr: sp.Expr) -> sp.Expr:
    """Cheap canonical form for Gram entries: expand, use sin^2 = 1 - cos^2, factor.

    Much faster than ``sp.simplify`` on the polynomial-in-sine-and-cosine
    entries that rotations produce, and exact.
    """
    expr = sp.expand(expr)
    for sine in expr.atoms(sp.sin):
        expr = sp.expand(expr.subs(sine**2, 1 - sp.cos(sine.args[0]) ** 2))
    return sp.factor(expr)


def _certainly_nonzero(expr: sp.Expr) -> bool:
    """True if ``expr`` is a nonzero number at one test point, so not identically zero.

    The test point gives each free symbol a distinct positive rational (these
    satisfy the real, positive and nonzero assumptions used in this module).
    A clearly nonzero value proves the expression is not identically zero; a
    small, undefined or complex value proves nothing and returns False.
    """
    symbols = sorted(expr.free_symbols, key=lambda s: s.name)
    point = {s: sp.Rational(2 * i + 3, i + 7) for i, s in enumerate(symbols)}
    value = expr.subs(point).evalf(30)
    return bool(value.is_number and value.is_finite and value.is_real and abs(value) > 1e-12)


def _simplify_matrix(matrix: sp.MatrixBase, residual: bool = False) -> sp.Matrix:
    """Simplify entrywise: cheap rational cancellation first, full simplify if needed.

    With ``residual=True`` (for differences whose vanishing is being checked)
    an entry that is clearly nonzero at a test point (see
    :func:`_certainly_nonzero`) is only cancelled, not fully simplified: it
    cannot simplify to zero, and ``sp.simplify`` is slow on such entries.
    """

    def one(entry: sp.Expr) -> sp.Expr:
        cancelled = sp.cancel(sp.together(entry))
        if cancelled == 0:
            return sp.S.Zero
        if residual and _certainly_nonzero(cancelled):
            return cancelled
        return sp.simplify(cancelled)

    return sp.Matrix(matrix).applyfunc(one)


def _is_zero_matrix(matrix: sp.MatrixBase) -> bool:
    return all(entry == 0 for entry in matrix)


def _row_norms(matrix: sp.MatrixBase) -> list[sp.Expr]:
    return [sp.sqrt(sp.simplify(matrix.row(i).dot(matrix.row(i)))) for i in range(matrix.rows)]


def rotation_matrix(theta: Any = THETA) -> sp.Matrix:
    r"""The 2 x 2 rotation by ``theta``, a generic orthogonal matrix for the examples.

    Used in ``chapters/product_penalty.md`` and ``chapters/factor_penalty.md``.

    Parameters
    ----------
    theta : sympy expression, default the real symbol ``theta``
        The angle.

    Returns
    -------
    sympy.Matrix, shape (2, 2)
        :math:`\begin{pmatrix}\cos\theta & -\sin\theta\\ \sin\theta & \cos\theta\end{pmatrix}`.
    """
    theta = sp.sympify(theta)
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
    divided entrywise by the row norms. Used in ``chapters/product_penalty.md``.

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
    M = _as_matrix(M, "M")
    N = _as_matrix(N, "N")
    if M.cols != N.cols:
        raise ValueError(f"M and N must have the same number of columns, got {M.cols} and {N.cols}")
    tidy = _tidy if simplify else (lambda e: e)
    gram = (M * N.T).applyfunc(tidy)
    m_norm = [sp.sqrt(tidy(M.row(i).dot(M.row(i)))) for i in range(M.rows)]
    n_norm = [sp.sqrt(tidy(N.row(j).dot(N.row(j)))) for j in range(N.rows)]
    return sp.Matrix(M.rows, N.rows, lambda i, j: gram[i, j] / (m_norm[i] * n_norm[j]))


def cosine_matrix(M: sp.MatrixBase, simplify: bool = True) -> sp.Matrix:
    """Cosines between all pairs of rows of ``M`` (``cross_cosine(M, M)``).

    Used in ``chapters/gauge_freedom.md`` and ``chapters/product_penalty.md``.

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


def _in_abs(expr: sp.Expr, t: sp.Symbol) -> sp.Expr:
    """Simplify an expression that is even in the real symbol ``t`` to a function of ``|t|``.

    Sympy keeps ``t**2 / Abs(t)`` as it is; an even expression equals its value
    at ``t = |t|``, so simplify it for a positive stand-in and put ``|t|`` back.
    """
    if sp.simplify(expr.subs(t, -t) - expr) != 0:
        raise RuntimeError(f"{expr} is not even in {t}")
    tau = sp.Symbol("tau", positive=True)
    return sp.simplify(expr.subs(t, tau)).subs(tau, sp.Abs(t))


def _witness_nonzero(expr: sp.Expr, candidates: Sequence[dict]) -> dict | None:
    """The first substitution in ``candidates`` at which ``expr`` is a nonzero number."""
    for point in candidates:
        value = sp.simplify(expr.subs(point))
        if value.is_number and value != 0 and value.is_finite:
            return point
    return None


def _nonnegative_quadratic_minimiser(
    h: sp.Expr, u: sp.Symbol, parameter: sp.Symbol, names: tuple[str, str]
) -> tuple[list[Step], sp.Expr, sp.Expr]:
    r"""Minimise a convex quadratic ``h(u)`` over ``u >= 0``, deriving both branches.

    The stationary point ``u0`` comes from ``sp.solve``. Branch ``u0 > 0``:
    writing ``u0 = epsilon > 0`` (solved for ``parameter``) shows the stationary
    point is feasible. Branch ``u0 <= 0``: writing ``u0 = -delta`` with
    ``delta >= 0`` shows ``h'(u) >= 0`` for every ``u >= 0``, so ``h`` is
    nondecreasing there and the minimiser is the boundary ``u = 0``.

    Returns the steps, the stationary point and ``Max(u0, 0)``.
    """
    eps = sp.Symbol("epsilon", positive=True)
    delta = sp.Symbol("delta", nonnegative=True)
    u_nn = sp.Symbol(u.name, nonnegative=True)
    steps: list[Step] = []

    dh = sp.diff(h, u)
    stationary = sp.solve(sp.Eq(dh, 0), u)
    if len(stationary) != 1:
        raise RuntimeError(f"expected one stationary point, got {stationary}")
    u0 = sp.simplify(stationary[0])
    d2h = sp.simplify(sp.diff(h, u, 2))
    if not d2h.is_positive:
        raise RuntimeError(f"h is not strictly convex: h'' = {d2h}")
    steps.append(Step(f"Setting $h'({u.name}) = 0$ and solving gives one stationary point.",
                      _eq(_name(f"{u.name}_0"), u0)))
    steps.append(Step(f"The second derivative is positive, so $h$ is convex in ${u.name}$.",
                      sp.Gt(d2h, 0, evaluate=False)))

    # Branch 1: u0 > 0.
    par_above = sp.solve(sp.Eq(u0, eps), parameter)
    if len(par_above) != 1:
        raise RuntimeError(f"cannot express the branch u0 > 0 through {parameter}")
    u0_above = sp.simplify(u0.subs(parameter, par_above[0]))
    if not u0_above.is_positive:
        raise RuntimeError("branch u0 > 0 did not produce a feasible point")
    steps.append(Step(
        f"Case {names[0]}: put ${sp.latex(parameter)} = {sp.latex(par_above[0])}$ with "
        f"$\\epsilon > 0$; the stationary point is then positive, hence feasible, and by "
        f"convexity it is the minimiser.",
        _eq(_name(f"{u.name}_0"), u0_above)))

    # Branch 2: u0 <= 0.
    par_below = sp.solve(sp.Eq(u0, -delta), parameter)
    if len(par_below) != 1:
        raise RuntimeError(f"cannot express the branch u0 <= 0 through {parameter}")
    dh_below = sp.factor(sp.expand(dh.subs(parameter, par_below[0]).subs(u, u_nn)))
    if not dh_below.is_nonnegative:
        raise RuntimeError(f"branch u0 <= 0: cannot show h' >= 0, got {dh_below}")
    steps.append(Step(
        f"Case {names[1]}: put ${sp.latex(parameter)} = {sp.latex(par_below[0])}$ with "
        f"$\\delta \\ge 0$; then $h'({u.name}) \\ge 0$ for all ${u.name} \\ge 0$, so $h$ "
        f"never decreases and the minimiser is the boundary ${u.name} = 0$.",
        _eq(_name(f"h'({u.name})"), dh_below)))

    u_star = sp.Max(u0, 0)
    steps.append(Step("Both cases together: the positive part of the stationary point.",
                      _eq(_name(f"{u.name}^*"),
                          sp.Piecewise((u0, sp.Gt(u0, 0)), (0, True)))))
    return steps, u0, u_star


# --------------------------------------------------------------------------------------
# chapters/gauge_freedom.md
# --------------------------------------------------------------------------------------


def gauge_invariance_check(
    gauge: str | sp.MatrixBase = "general",
    item_gauge: sp.MatrixBase | None = None,
    p: int = 3,
    k: int = 2,
) -> Derivation:
    r"""Check that regauging the factors leaves the product unchanged.

    A CHECK, used in ``chapters/gauge_freedom.md``. For symbolic factors
    ``A, B`` of shape (p, k) it computes :math:`(A G)(B H)^\top - A B^\top`
    with :math:`H = G^{-\top}` by default, and simplifies it to the zero matrix.

    Parameters
    ----------
    gauge : {"general", "diagonal"} or sympy matrix, default "general"
        ``"general"``: a k x k matrix of symbols ``g_ij`` (assumed invertible);
        ``"diagonal"``: ``diag(d_1, ..., d_k)`` with nonzero symbols; or any
        invertible k x k matrix (then ``k`` is taken from it).
    item_gauge : sympy matrix, optional
        The matrix applied to ``B``. Defaults to :math:`G^{-\top}`; pass anything
        else (e.g. ``G`` itself) to watch the check fail.
    p : int, default 3
        Number of items (rows of ``A`` and ``B``).
    k : int, default 2
        Latent dimension, used when ``gauge`` is a string.

    Returns
    -------
    Derivation
        ``kind == "check"``; ``result`` holds ``A``, ``B``, ``gauge``,
        ``item_gauge``, ``product`` (simplified :math:`AG(BH)^\top`),
        ``residual`` (its difference from :math:`AB^\top`) and ``holds``.
    """
    p = _check_size(p, "p")
    if isinstance(gauge, str):
        k = _check_size(k, "k")
        if gauge == "general":
            G = _symbol_matrix("g", k, k, real=True)
        elif gauge == "diagonal":
            G = sp.diag(*[sp.Symbol(f"d_{j + 1}", real=True, nonzero=True) for j in range(k)])
        else:
            raise ValueError(f"gauge must be 'general', 'diagonal' or a matrix, got {gauge!r}")
    else:
        G = _square(gauge, "gauge")
        k = G.rows
    if item_gauge is None:
        det = sp.simplify(G.det())
        if det == 0:
            raise ValueError("gauge must be invertible (its determinant is 0)")
        H = G.inv().T.applyfunc(sp.cancel)
    else:
        H = _square(item_gauge, "item_gauge")
        if H.shape != G.shape:
            raise ValueError(f"item_gauge must have shape {G.shape}, got {H.shape}")
    A = _symbol_matrix("a", p, k, real=True)
    B = _symbol_matrix("b", p, k, real=True)
    product = _simplify_matrix((A * G) * (B * H).T)
    residual = _simplify_matrix(product - A * B.T, residual=True)
    holds = _is_zero_matrix(residual)
    steps = (
        Step("Take symbolic user-side and item-side factors.", sp.Tuple(_eq("A", A), _eq("B", B))),
        Step("Regauge the users with $G$ and the items with $H$.",
             sp.Tuple(_eq("G", G), _eq("H", H))),
        Step("Multiply out the regauged product and simplify.",
             _eq(_name("A G (B H)^{T}"), product)),
        Step("Subtract the original product $A B^T$.",
             _eq(_name("A G (B H)^{T} - A B^{T}"), residual)),
    )
    return Derivation(
        "The product is blind to the gauge",
        steps,
        {"A": A, "B": B, "gauge": G, "item_gauge": H, "product": product,
         "residual": residual, "holds": holds},
        kind="check",
    )


def cosine_depends_on_scale(
    a: Sequence[Any] | None = None, b: Sequence[Any] | None = None
) -> Derivation:
    r"""Derive :math:`\frac{d}{dt}\cos(Da, Db)` for :math:`D = \mathrm{diag}(1, t)`, t > 0.

    A DERIVATION, used in ``chapters/gauge_freedom.md``. With symbolic vectors
    the factored derivative is
    :math:`t\,(a_2 b_2 t^2 - a_1 b_1)(a_1 b_2 - a_2 b_1)^2 / (\dots)^{3/2}`:
    it vanishes identically only when ``a`` and ``b`` are parallel.

    Parameters
    ----------
    a, b : sequences of two sympy numbers or expressions, optional
        The vectors; default symbolic ``(a_1, a_2)`` and ``(b_1, b_2)`` (real).

    Returns
    -------
    Derivation
        ``result``: ``t`` (the positive scale symbol), ``cosine`` (as a function
        of ``t``), ``derivative`` (factored), ``depends`` (bool: the derivative
        is not identically zero) and ``witness`` (a substitution at which the
        derivative is a nonzero number, or ``None`` when it is identically zero).
    """
    t = sp.Symbol("t", positive=True)
    if a is None:
        a = sp.symbols("a_1 a_2", real=True)
    if b is None:
        b = sp.symbols("b_1 b_2", real=True)
    a = sp.Matrix(a)
    b = sp.Matrix(b)
    if a.shape != (2, 1) or b.shape != (2, 1):
        raise ValueError("a and b must both have two entries")
    D = sp.diag(1, t)
    cos_t = cosine(D * a, D * b)
    derivative = sp.factor(sp.together(sp.diff(cos_t, t)))
    free = sorted(derivative.free_symbols - {t}, key=lambda s: s.name)
    candidates = []
    for base in ((1, 2, 2, 1), (1, 3, 2, 1), (2, 1, 1, 3)):
        for tv in (2, 3, 5):
            point = {s: v for s, v in zip(free, base * 2)}
            point[t] = tv
            candidates.append(point)
    witness = None if derivative == 0 else _witness_nonzero(derivative, candidates)
    depends = witness is not None
    steps = [
        Step("Rescale both vectors by $D = \\mathrm{diag}(1, t)$ and take the cosine.",
             _eq(_name("\\cos(t)"), cos_t)),
        Step("Differentiate in $t$ and factor.", _eq(_name("\\cos'(t)"), derivative)),
    ]
    if depends:
        at = ", ".join(f"{sp.latex(k)} = {sp.latex(v)}" for k, v in witness.items())
        steps.append(Step("At one point the derivative is a nonzero number, so the cosine "
                          "changes with the scale.",
                          _eq(_name(f"\\cos'(t)\\big|_{{{at}}}"),
                              sp.simplify(derivative.subs(witness)))))
    else:
        steps.append(Step("The derivative is identically zero: here the cosine does not "
                          "depend on the scale.", sp.S.Zero))
    return Derivation(
        "The cosine moves with the scale",
        tuple(steps),
        {"t": t, "cosine": cos_t, "derivative": derivative, "depends": depends,
         "witness": witness},
    )


def two_vector_cosine_range(
    a: Sequence[Any] = (1, 2), b: Sequence[Any] = (2, 1)
) -> Derivation:
    r"""Derive the exact range of :math:`\cos(Da, Db)` over :math:`D = \mathrm{diag}(1, t)`, t > 0.

    A DERIVATION, used in ``chapters/gauge_freedom.md`` for its worked example.
    It derives the closed form of the cosine as a function of the scale ratio
    ``t``, its one-sided limits at ``t -> 0+`` and ``t -> oo`` (``sp.limit``),
    its critical points (``sp.solve`` of the derivative) and, from these, the
    exact range: the infimum and supremum are among the critical values and
    the limits, and an end of the range is attained only if it is a critical
    value. For the default ``a = (1, 2)``, ``b = (2, 1)`` the range is
    ``[4/5, 1)``: the minimum ``4/5`` at ``t = 1`` and ``1`` approached at
    both ends but never reached.

    Parameters
    ----------
    a, b : sequences of two exact real numbers
        Nonzero vectors (integers or ``sp.Rational``; floats are converted to
        exact rationals).

    Returns
    -------
    Derivation
        ``result``: ``t``, ``cosine``, ``derivative``, ``limit_0``,
        ``limit_oo``, ``critical_points`` and ``critical_values`` (tuples),
        ``infimum``, ``supremum``, ``range`` (a ``sp.Interval``, or a
        ``sp.FiniteSet`` if the cosine is constant) and ``original`` (the
        cosine at ``t = 1``, i.e. of the unscaled vectors).
    """
    def exact(vec: Sequence[Any], name: str) -> sp.Matrix:
        try:
            entries = [sp.nsimplify(sp.sympify(v), rational=True) for v in vec]
        except (TypeError, sp.SympifyError) as error:
            raise ValueError(f"{name} must hold two real numbers: {error}") from error
        if len(entries) != 2 or not all(e.is_real and e.is_number for e in entries):
            raise ValueError(f"{name} must hold exactly two real numbers, got {vec!r}")
        if all(e == 0 for e in entries):
            raise ValueError(f"{name} must not be the zero vector")
        return sp.Matrix(entries)

    a = exact(a, "a")
    b = exact(b, "b")
    t = sp.Symbol("t", positive=True)
    D = sp.diag(1, t)
    cos_t = sp.simplify(cosine(D * a, D * b))
    original = sp.radsimp(sp.simplify(cos_t.subs(t, 1)))
    derivative = sp.factor(sp.together(sp.diff(cos_t, t)))
    steps = [
        Step("Rescale the second coordinate of both vectors by $t > 0$ and take the cosine.",
             _eq(_name("\\cos(t)"), cos_t)),
        Step("At $t = 1$ nothing is rescaled: the original cosine.",
             _eq(_name("\\cos(1)"), original)),
    ]
    if derivative == 0:
        steps.append(Step("The derivative vanishes identically: the cosine is constant.",
                          _eq(_name("\\cos'(t)"), derivative)))
        rng = sp.FiniteSet(original)
        return Derivation(
            "Range of the cosine under rescaling", tuple(steps),
            {"t": t, "cosine": cos_t, "derivative": derivative, "limit_0": original,
             "limit_oo": original, "critical_points": (), "critical_values": (),
             "infimum": original, "supremum": original, "range": rng, "original": original},
        )
    limit_0 = sp.limit(cos_t, t, 0, "+")
    limit_oo = sp.limit(cos_t, t, sp.oo)
    critical = tuple(sorted(
        (sp.simplify(c) for c in sp.solve(sp.numer(sp.together(derivative)), t)
         if c.is_positive),
        key=lambda c: float(c),
    ))
    values = tuple(sp.radsimp(sp.simplify(cos_t.subs(t, c))) for c in critical)
    candidates = list(values) + [limit_0, limit_oo]
    infimum = min(candidates, key=lambda v: float(v))
    supremum = max(candidates, key=lambda v: float(v))

    def attained(bound: sp.Expr) -> bool:
        return any(sp.simplify(value - bound) == 0 for value in values)

    rng = sp.Interval(infimum, supremum,
                      left_open=not attained(infimum), right_open=not attained(supremum))
    steps += [
        Step("Differentiate in $t$ and factor.", _eq(_name("\\cos'(t)"), derivative)),
        Step("Solve $\\cos'(t) = 0$ for $t > 0$: the critical points.",
             _eq(_name("t"), sp.FiniteSet(*critical))),
        Step("The cosine at the critical points.",
             sp.Tuple(*(_eq(_name(f"\\cos({sp.latex(c)})"), v)
                        for c, v in zip(critical, values)))),
        Step("The limits as the scale ratio goes to $0$ and to $\\infty$.",
             sp.Tuple(_eq(_name("\\lim_{t \\to 0^+} \\cos(t)"), limit_0),
                      _eq(_name("\\lim_{t \\to \\infty} \\cos(t)"), limit_oo))),
        Step("The cosine is continuous on $t > 0$, so its range runs from the smallest to the "
             "largest of these; an end is included only if a critical point attains it.",
             _eq(_name("\\cos((0, \\infty))"), rng)),
    ]
    return Derivation(
        "Range of the cosine under rescaling", tuple(steps),
        {"t": t, "cosine": cos_t, "derivative": derivative, "limit_0": limit_0,
         "limit_oo": limit_oo, "critical_points": critical, "critical_values": values,
         "infimum": infimum, "supremum": supremum, "range": rng, "original": original},
    )


def positive_vectors_cosine_range() -> Derivation:
    r"""Derive the range of :math:`\cos(Da, Db)`, :math:`D = \mathrm{diag}(1, t)`, a, b > 0.

    A DERIVATION, used in ``chapters/gauge_freedom.md`` (the general statement
    behind :func:`two_vector_cosine_range`). For ``a, b`` with positive
    coordinates, both limits (``t -> 0+``, ``t -> oo``) are 1, the only
    critical point is :math:`t^2 = a_1 b_1 / (a_2 b_2)`, and there the cosine
    takes its minimum :math:`2\sqrt{a_1 a_2 b_1 b_2} / (a_1 b_2 + a_2 b_1)`,
    the ratio of geometric to arithmetic mean of :math:`a_1 b_2` and
    :math:`a_2 b_1`. Writing :math:`a_1 b_2 = x^2, a_2 b_1 = y^2`,
    ``1 - minimum`` factors as :math:`(x - y)^2/(x^2 + y^2) \ge 0`. So the range
    is ``[minimum, 1)`` unless ``a`` and ``b`` are parallel (then the cosine is 1).

    Returns
    -------
    Derivation
        ``result``: ``symbols`` (``a_1, a_2, b_1, b_2, t``), ``cosine``,
        ``derivative``, ``limit_0``, ``limit_oo``, ``critical_point``,
        ``minimum``, ``gap`` (``1 - minimum`` in ``x, y``), ``x``, ``y`` and
        ``range`` (``sp.Interval.Ropen(minimum, 1)``).
    """
    a1, a2, b1, b2 = sp.symbols("a_1 a_2 b_1 b_2", positive=True)
    t = sp.Symbol("t", positive=True)
    D = sp.diag(1, t)
    cos_t = cosine(D * sp.Matrix([a1, a2]), D * sp.Matrix([b1, b2]))
    derivative = sp.factor(sp.together(sp.diff(cos_t, t)))
    limit_0 = sp.limit(cos_t, t, 0, "+")
    limit_oo = sp.limit(cos_t, t, sp.oo)
    critical = sp.solve(sp.numer(derivative), t)
    if len(critical) != 1:
        raise RuntimeError(f"expected one critical point, got {critical}")
    t_star = critical[0]
    minimum = sp.factor(sp.simplify(cos_t.subs(t, t_star)))
    x, y = sp.symbols("x y", positive=True)
    P, Q = sp.symbols("P Q", positive=True)  # P = a1 b2, Q = a2 b1
    in_pq = sp.simplify(minimum.subs({a1: P / b2, a2: Q / b1}))
    in_xy = sp.simplify(in_pq.subs({P: x**2, Q: y**2}))
    gap = sp.factor(1 - in_xy)
    rng = sp.Interval.Ropen(minimum, limit_0)
    steps = (
        Step("Rescale both positive vectors by $\\mathrm{diag}(1, t)$ and take the cosine.",
             _eq(_name("\\cos(t)"), cos_t)),
        Step("Differentiate and factor: the square vanishes only for parallel vectors.",
             _eq(_name("\\cos'(t)"), derivative)),
        Step("Both ends of the scale give cosine 1.",
             sp.Tuple(_eq(_name("\\lim_{t \\to 0^+} \\cos(t)"), limit_0),
                      _eq(_name("\\lim_{t \\to \\infty} \\cos(t)"), limit_oo))),
        Step("The one critical point in $t > 0$.", _eq(_name("t^*"), t_star)),
        Step("The cosine there.", _eq(_name("\\cos(t^*)"), minimum)),
        Step("With $a_1 b_2 = x^2$ and $a_2 b_1 = y^2$ the gap to 1 is a square over a "
             "positive number, so the critical value is the minimum.",
             _eq(_name("1 - \\cos(t^*)"), gap)),
        Step("The range (for non-parallel vectors): the minimum is reached, 1 is not.",
             _eq(_name("\\cos((0, \\infty))"), rng)),
    )
    return Derivation(
        "Range of the cosine for positive vectors", steps,
        {"symbols": (a1, a2, b1, b2, t), "cosine": cos_t, "derivative": derivative,
         "limit_0": limit_0, "limit_oo": limit_oo, "critical_point": t_star,
         "minimum": minimum, "gap": gap, "x": x, "y": y, "range": rng},
    )


def gauge_for_correlation(
    C: sp.MatrixBase | None = None, B: sp.MatrixBase | None = None
) -> Derivation:
    r"""Derive the gauge that turns the item-item cosines into a given correlation matrix.

    Used in ``chapters/gauge_freedom.md`` for the theorem "with k = p every
    positive-definite correlation matrix is the item-item cosine matrix of some
    exact minimiser of (1)". A DERIVATION of the gauge followed by a CHECK of
    the result: with :math:`C = L L^\top` (Cholesky), it solves
    :math:`B H = L` for the unknown item gauge :math:`H = G^{-\top}` (so
    :math:`H = B^{-1} L`), and then checks that the regauged item embeddings
    :math:`B H` have unit rows and Gram matrix ``C``, so that their cosine
    matrix is ``C``.

    Parameters
    ----------
    C : sympy matrix, shape (p, p), optional
        A symmetric positive-definite matrix. Default ``[[1, r], [r, 1]]`` with
        a real symbol ``r`` (understood with ``|r| < 1``). Passing a
        positive-definite matrix whose diagonal is not all ones (not a
        correlation matrix) makes the check fail.
    B : sympy matrix, shape (p, p), optional
        Invertible item factor; default a matrix of symbols ``b_ij``.

    Returns
    -------
    Derivation
        ``kind == "check"``; ``result``: ``C``, ``L``, ``B``, ``item_gauge``
        (``H``), ``user_gauge`` (:math:`G = H^{-\top}`), ``embeddings``
        (``B H``), ``row_norms``, ``cosines`` (cosine matrix of ``B H``) and
        ``holds`` (unit rows and cosine matrix equal to ``C``).
    """
    if C is None:
        r = sp.Symbol("r", real=True)
        C = sp.Matrix([[1, r], [r, 1]])
    C = _square(C, "C")
    if sp.simplify(C - C.T) != sp.zeros(*C.shape):
        raise ValueError("C must be symmetric")
    if C.is_positive_definite is False:
        raise ValueError("C must be positive definite")
    p = C.rows
    if B is None:
        B = _symbol_matrix("b", p, p, real=True)
    B = _square(B, "B")
    if B.shape != C.shape:
        raise ValueError(f"B must have shape {C.shape}, got {B.shape}")
    if sp.simplify(B.det()) == 0:
        raise ValueError("B must be invertible")
    L = C.cholesky(hermitian=False)
    H_unknown = _symbol_matrix("h", p, p)
    solution = sp.solve(list(B * H_unknown - L), list(H_unknown), dict=True)
    if len(solution) != 1:
        raise RuntimeError(f"expected one solution for the gauge, got {len(solution)}")
    H = _simplify_matrix(H_unknown.subs(solution[0]))
    # G = H^{-T} = (B^{-1} L)^{-T} = B^T L^{-T}: a triangular solve, not a symbolic inverse.
    G = _simplify_matrix(L.lower_triangular_solve(B).T)
    embeddings = _simplify_matrix(B * H)
    norms = [sp.simplify(n) for n in _row_norms(embeddings)]
    cosines = _simplify_matrix(cosine_matrix(embeddings))
    gram = _simplify_matrix(embeddings * embeddings.T)
    holds = all(n == 1 for n in norms) and _is_zero_matrix(
        _simplify_matrix(cosines - C, residual=True)
    )
    steps = (
        Step("The target correlation matrix and its Cholesky factor $C = L L^T$.",
             sp.Tuple(_eq("C", C), _eq("L", L))),
        Step("Solve $B H = L$ for the item gauge $H = G^{-T}$.", _eq("H", H)),
        Step("The matching user gauge $G = H^{-T} = B^T L^{-T}$ keeps $A G (B H)^T = A B^T$.",
             _eq("G", G)),
        Step("The regauged item embeddings.", _eq(_name("B H"), embeddings)),
        Step("Their row norms.", sp.Tuple(*norms)),
        Step("Their Gram matrix.", _eq(_name("(B H)(B H)^{T}"), gram)),
        Step("Their cosine matrix, to compare with $C$.",
             _eq(_name("\\cos(B H)"), cosines)),
    )
    return Derivation(
        "Any correlation matrix is reachable", steps,
        {"C": C, "L": L, "B": B, "item_gauge": H, "user_gauge": G, "embeddings": embeddings,
         "row_norms": tuple(norms), "cosines": cosines, "holds": holds},
        kind="check",
    )


# --------------------------------------------------------------------------------------
# chapters/product_penalty.md
# --------------------------------------------------------------------------------------


def product_penalty_direction() -> Derivation:
    r"""Derive the minimiser of objective (1) along one singular direction.

    A DERIVATION, used in ``chapters/product_penalty.md``. In the basis of the
    right singular vectors objective (1) decouples into
    :math:`f(w) = \sigma^2 (1 - w)^2 + \lambda w^2`; solving :math:`f'(w) = 0`
    gives the shrinkage :math:`w^* = \sigma^2 / (\sigma^2 + \lambda)`, and
    :math:`f'' > 0` makes it the minimum.

    Returns
    -------
    Derivation
        ``result``: ``sigma``, ``lam``, ``w``, ``objective``, ``derivative``,
        ``minimiser``, ``second_derivative`` and ``minimum`` (the value
        :math:`f(w^*)`).
    """
    w = sp.Symbol("w", real=True)
    f = SIGMA**2 * (1 - w) ** 2 + LAMBDA * w**2
    df = sp.diff(f, w)
    solutions = sp.solve(sp.Eq(df, 0), w)
    if len(solutions) != 1:
        raise RuntimeError(f"expected one stationary point, got {solutions}")
    w_star = sp.factor(solutions[0])
    d2f = sp.factor(sp.diff(f, w, 2))
    minimum = sp.factor(sp.simplify(f.subs(w, w_star)))
    steps = (
        Step("Along one singular direction objective (1) is a quadratic in the weight $w$.",
             _eq(_name("f(w)"), f)),
        Step("Differentiate.", _eq(_name("f'(w)"), sp.factor(df))),
        Step("Solve $f'(w) = 0$: the shrinkage of this direction.", _eq(_name("w^*"), w_star)),
        Step("The second derivative is positive, so this is the minimum.",
             sp.Gt(d2f, 0, evaluate=False)),
        Step("The loss left in this direction.", _eq(_name("f(w^*)"), minimum)),
    )
    return Derivation(
        "Objective (1), one direction", steps,
        {"sigma": SIGMA, "lam": LAMBDA, "w": w, "objective": f, "derivative": df,
         "minimiser": w_star, "second_derivative": d2f, "minimum": minimum},
    )


def product_penalty_completed_square() -> Derivation:
    r"""Complete the square in objective (1) along one direction and derive its constant.

    A DERIVATION, used in ``chapters/product_penalty.md`` (why Eckart-Young
    keeps the top k directions). Reads the coefficients of the quadratic
    :math:`f(w) = \sigma^2 (1 - w)^2 + \lambda w^2`, builds
    :math:`(\sqrt{\alpha}\, w + \beta / (2 \sqrt{\alpha}))^2` from them, and derives the
    constant ``c = f - square`` by simplification (it is free of ``w``). The
    target singular value :math:`\tau(\sigma) = \sigma^2/\sqrt{\sigma^2+\lambda}`
    has a positive derivative for :math:`\sigma, \lambda > 0`.

    Returns
    -------
    Derivation
        ``result``: ``sigma``, ``lam``, ``w``, ``objective``, ``square``,
        ``constant``, ``target`` (:math:`\tau`), ``target_derivative``,
        ``increasing`` (bool) and ``minimiser`` (:math:`\tau/\sqrt{\alpha}`).
    """
    w = sp.Symbol("w", real=True)
    f = SIGMA**2 * (1 - w) ** 2 + LAMBDA * w**2
    alpha, beta, _gamma = sp.Poly(f, w).all_coeffs()
    alpha = sp.factor(alpha)
    root = sp.sqrt(alpha)
    target = sp.simplify(-beta / (2 * root))
    square = (root * w - target) ** 2
    constant = sp.factor(sp.simplify(sp.expand(f - square)))
    if sp.diff(constant, w) != 0:
        raise RuntimeError("completing the square left w in the constant")
    target_derivative = sp.factor(sp.diff(target, SIGMA))
    increasing = bool(target_derivative.is_positive)
    if not increasing:
        raise RuntimeError(f"cannot show the target increases: {target_derivative}")
    minimiser = sp.factor(sp.simplify(target / root))
    steps = (
        Step("The objective along one direction.", _eq(_name("f(w)"), f)),
        Step("Read off the coefficients of $w^2$ and $w$.",
             sp.Tuple(_eq(_name("\\alpha"), alpha), _eq(_name("\\beta"), sp.factor(beta)))),
        Step("Build the square from them, with $\\tau = -\\beta / (2 \\sqrt{\\alpha})$.",
             _eq(_name("(\\sqrt{\\alpha}\\, w - \\tau)^2"), square)),
        Step("Subtract the square and simplify: the constant does not involve $w$.",
             _eq(_name("c"), constant)),
        Step("So the objective is a square plus a constant.",
             _eq(_name("f(w)"), sp.Add(square, constant, evaluate=False))),
        Step("The target singular value of this direction.", _eq(_name("\\tau(\\sigma)"), target)),
        Step("Its derivative is positive for $\\sigma, \\lambda > 0$: larger singular values "
             "give larger targets, so the best rank-$k$ fit keeps the top $k$ directions.",
             _eq(_name("\\tau'(\\sigma)"), target_derivative)),
        Step("The square vanishes at the shrinkage.", _eq(_name("w^*"), minimiser)),
    )
    return Derivation(
        "Objective (1): completing the square", steps,
        {"sigma": SIGMA, "lam": LAMBDA, "w": w, "objective": f, "square": square,
         "constant": constant, "target": target, "target_derivative": target_derivative,
         "increasing": increasing, "minimiser": minimiser},
    )


def symmetric_split_check(
    A: sp.MatrixBase | None = None,
    B: sp.MatrixBase | None = None,
    V: sp.MatrixBase | None = None,
    s: Sequence[Any] | None = None,
) -> Derivation:
    r"""Check that the symmetric split (5) multiplies back to :math:`V \mathrm{diag}(s) V^\top`.

    A CHECK, used in ``chapters/product_penalty.md``.

    Parameters
    ----------
    A, B : sympy matrices, optional
        The factors; both default to :math:`V \mathrm{diag}(\sqrt{s_i})`. Pass
        e.g. ``V * diag(s)`` for both to watch the check fail.
    V : sympy matrix, optional
        Default: :func:`rotation_matrix` (angle ``theta``).
    s : sequence, optional
        The shrinkages; default positive symbols ``s_1, ..., s_k``.

    Returns
    -------
    Derivation
        ``kind == "check"``; ``result``: ``A``, ``B``, ``V``, ``s``, ``target``
        (:math:`V\mathrm{diag}(s)V^\top`), ``residual`` and ``holds``.
    """
    V = rotation_matrix() if V is None else _as_matrix(V, "V")
    k = V.cols
    if s is None:
        s = sp.symbols(f"s_1:{k + 1}", positive=True)
    s = tuple(sp.sympify(x) for x in s)
    if len(s) != k:
        raise ValueError(f"s must have {k} entries (the columns of V), got {len(s)}")
    root = sp.diag(*[sp.sqrt(x) for x in s])
    A = V * root if A is None else _as_matrix(A, "A")
    B = V * root if B is None else _as_matrix(B, "B")
    if A.shape != V.shape or B.shape != V.shape:
        raise ValueError(f"A and B must have shape {V.shape}")
    target = V * sp.diag(*s) * V.T
    residual = _simplify_matrix(A * B.T - target, residual=True)
    holds = _is_zero_matrix(residual)
    steps = (
        Step("The split factors.", sp.Tuple(_eq("A", A), _eq("B", B))),
        Step("The product they should give.", _eq(_name("V \\mathrm{diag}(s) V^{T}"), target)),
        Step("The difference, simplified.", _eq(_name("A B^{T} - V \\mathrm{diag}(s) V^{T}"),
                                                residual)),
    )
    return Derivation(
        "The symmetric split", steps,
        {"A": A, "B": B, "V": V, "s": s, "target": target, "residual": residual,
         "holds": holds},
        kind="check",
    )


def cosine_formula_check(
    kind: str = "item",
    D: sp.MatrixBase | None = None,
    middle_power: int | None = None,
    p: int = 3,
    n: int = 3,
    k: int = 2,
) -> Derivation:
    r"""Check the formulas for cosines under the gauge ``D`` against direct computation.

    A CHECK, used in ``chapters/product_penalty.md``. Under the gauge ``D`` the
    users are the rows of :math:`Y D` (with :math:`Y = X A`) and the items the
    rows of :math:`B D^{-1}`. The notes' formulas are

    * item-item: :math:`\Omega_B\, B D^{-2} B^\top\, \Omega_B`,
    * user-user: :math:`\Omega_A\, Y D^{2} Y^\top\, \Omega_A`,
    * user-item: :math:`\Omega_A\, Y B^\top\, \Omega_B`,

    where :math:`\Omega_A, \Omega_B` are the diagonal matrices of inverse row
    norms of :math:`Y D` and :math:`B D^{-1}` (read off the diagonals of
    :math:`Y D^2 Y^\top` and :math:`B D^{-2} B^\top`). The check compares the
    formula with the cosines of the regauged rows computed directly, and also
    differentiates one off-diagonal cosine in ``d_1`` to show it depends on ``D``.

    Parameters
    ----------
    kind : {"item", "user", "user-item"}, default "item"
    D : sympy matrix, optional
        Diagonal gauge; default ``diag(d_1, ..., d_k)`` with positive symbols.
    middle_power : int, optional
        The power of ``D`` in the middle of the formula (``-2``, ``2``, ``0``
        for the three kinds). Pass a wrong one to watch the check fail.
    p, n, k : int
        Items, users and latent dimension of the symbolic ``B`` (p x k) and
        ``Y`` (n x k); ``k`` is taken from ``D`` when it is given.

    Returns
    -------
    Derivation
        ``kind == "check"``; ``result``: ``D``, ``direct``, ``formula``,
        ``residual``, ``derivative_d1`` (of the (1, 2) cosine, factored),
        ``depends_on_gauge`` (bool) and ``holds``.
    """
    sides = {"item": (-1, -1), "user": (1, 1), "user-item": (1, -1)}
    if kind not in sides:
        raise ValueError(f"kind must be one of {sorted(sides)}, got {kind!r}")
    p = _check_size(p, "p")
    n = _check_size(n, "n")
    if D is None:
        k = _check_size(k, "k")
        d = [sp.Symbol(f"d_{j + 1}", positive=True) for j in range(k)]
        D = sp.diag(*d)
    else:
        D = _square(D, "D")
        if not D.is_diagonal():
            raise ValueError("D must be diagonal")
        k = D.rows
    left_power, right_power = sides[kind]
    if middle_power is None:
        middle_power = left_power + right_power
    Y = _symbol_matrix("y", n, k, real=True)
    B = _symbol_matrix("b", p, k, real=True)
    left, right = {"item": (B, B), "user": (Y, Y), "user-item": (Y, B)}[kind]

    def dpow(e: int) -> sp.Matrix:
        return sp.diag(*[D[j, j] ** e for j in range(k)])

    direct = _simplify_matrix(cross_cosine(left * dpow(left_power), right * dpow(right_power)))

    def omega(M: sp.Matrix, power: int) -> sp.Matrix:
        gram = M * dpow(2 * power) * M.T
        return sp.diag(*[1 / sp.sqrt(sp.expand(gram[i, i])) for i in range(M.rows)])

    middle = left * dpow(middle_power) * right.T
    formula = _simplify_matrix(omega(left, left_power) * middle * omega(right, right_power))
    residual = _simplify_matrix(direct - formula, residual=True)
    holds = _is_zero_matrix(residual)
    d1 = D[0, 0]
    entry = direct[0, 1] if direct.cols > 1 else direct[0, 0]
    derivative = sp.factor(sp.diff(entry, d1)) if d1.free_symbols else sp.S.Zero
    depends = derivative != 0
    direct_names = {"item": "\\cos(B D^{-1})", "user": "\\cos(Y D)",
                    "user-item": "\\cos(Y D, B D^{-1})"}
    names = {"item": "\\Omega_B B D^{%d} B^{T} \\Omega_B",
             "user": "\\Omega_A Y D^{%d} Y^{T} \\Omega_A",
             "user-item": "\\Omega_A Y D^{%d} B^{T} \\Omega_B"}
    steps = (
        Step("The gauge.", _eq("D", D)),
        Step("Cosines of the regauged rows, computed directly.",
             _eq(_name(direct_names[kind]), direct)),
        Step("The same cosines from the formula.",
             _eq(_name(names[kind] % middle_power), formula)),
        Step("The difference, simplified.", _eq(_name("\\Delta"), residual)),
        Step("One off-diagonal cosine still moves with $d_1$.",
             _eq(_name("\\partial \\cos_{12} / \\partial d_1"), derivative)),
    )
    return Derivation(
        f"The {kind} cosines under a gauge", steps,
        {"D": D, "direct": direct, "formula": formula, "residual": residual,
         "derivative_d1": derivative, "depends_on_gauge": depends, "holds": holds},
        kind="check",
    )


def full_rank_item_identity_check(D: sp.MatrixBase | None = None) -> Derivation:
    r"""Check that with :math:`D = \mathrm{diag}(s)^{1/2}` every item is similar only to itself.

    A CHECK, used in ``chapters/product_penalty.md`` (the table of special
    gauges, full-rank case). With ``B = V diag(sqrt(s))``, ``V`` the rotation
    by ``theta`` and the default gauge, the item embeddings :math:`B D^{-1}`
    simplify to ``V`` and their cosine matrix to the identity.

    Parameters
    ----------
    D : sympy matrix, optional
        The gauge; default :math:`\mathrm{diag}(\sqrt{s_1}, \sqrt{s_2})`. Pass
        e.g. ``sp.eye(2)`` to watch the check fail.

    Returns
    -------
    Derivation
        ``kind == "check"``; ``result``: ``V``, ``s``, ``B``, ``D``,
        ``embeddings`` (:math:`B D^{-1}`), ``cosines`` and ``holds`` (cosine
        matrix equal to the identity).
    """
    V = rotation_matrix()
    s = sp.symbols("s_1 s_2", positive=True)
    B = V * sp.diag(*[sp.sqrt(x) for x in s])
    D = sp.diag(*[sp.sqrt(x) for x in s]) if D is None else _square(D, "D")
    if D.shape != (2, 2):
        raise ValueError(f"D must be 2 x 2, got {D.shape}")
    embeddings = _simplify_matrix(B * D.inv())
    cosines = _simplify_matrix(cosine_matrix(embeddings))
    holds = _is_zero_matrix(_simplify_matrix(cosines - sp.eye(2), residual=True))
    steps = (
        Step("The item factor of the symmetric split, with $V$ a rotation.", _eq("B", B)),
        Step("The gauge.", _eq("D", D)),
        Step("The regauged item embeddings.", _eq(_name("B D^{-1}"), embeddings)),
        Step("Their cosine matrix.", _eq(_name("\\cos(B D^{-1})"), cosines)),
    )
    return Derivation(
        "Full rank: every item similar only to itself", steps,
        {"V": V, "s": s, "B": B, "D": D, "embeddings": embeddings, "cosines": cosines,
         "holds": holds},
        kind="check",
    )


def full_rank_user_raw_check(D: sp.MatrixBase | None = None, n: int = 3) -> Derivation:
    r"""Check that with :math:`D = \mathrm{diag}(s)^{-1/2}` user cosines are raw cosines of X.

    A CHECK, used in ``chapters/product_penalty.md`` (the table of special
    gauges, full-rank case). With ``A = V diag(sqrt(s))`` (``V`` the rotation
    by ``theta``) and a symbolic ``X`` (n x 2), the user embeddings
    :math:`X A D` simplify to :math:`X V` and, ``V`` being orthogonal, their
    cosine matrix equals that of the rows of ``X``.

    Parameters
    ----------
    D : sympy matrix, optional
        The gauge; default :math:`\mathrm{diag}(s_1^{-1/2}, s_2^{-1/2})`. Pass
        e.g. ``sp.eye(2)`` to watch the check fail.
    n : int, default 3
        Number of users (rows of ``X``).

    Returns
    -------
    Derivation
        ``kind == "check"``; ``result``: ``X``, ``V``, ``s``, ``A``, ``D``,
        ``embeddings`` (:math:`X A D`), ``cosines``, ``raw_cosines``,
        ``residual`` and ``holds``.
    """
    n = _check_size(n, "n")
    V = rotation_matrix()
    s = sp.symbols("s_1 s_2", positive=True)
    A = V * sp.diag(*[sp.sqrt(x) for x in s])
    D = sp.diag(*[1 / sp.sqrt(x) for x in s]) if D is None else _square(D, "D")
    if D.shape != (2, 2):
        raise ValueError(f"D must be 2 x 2, got {D.shape}")
    X = _symbol_matrix("x", n, 2, real=True)
    embeddings = _simplify_matrix(X * A * D)
    cosines = cosine_matrix(embeddings)
    raw = cosine_matrix(X)
    residual = _simplify_matrix(cosines - raw, residual=True)
    holds = _is_zero_matrix(residual)
    steps = (
        Step("The user-side factor of the symmetric split and the gauge.",
             sp.Tuple(_eq("A", A), _eq("D", D))),
        Step("The regauged user embeddings.", _eq(_name("X A D"), embeddings)),
        Step("Their cosines minus the cosines of the raw rows of $X$, simplified.",
             _eq(_name("\\cos(X A D) - \\cos(X)"), residual)),
    )
    return Derivation(
        "Full rank: user cosines are raw cosines", steps,
        {"X": X, "V": V, "s": s, "A": A, "D": D, "embeddings": embeddings,
         "cosines": cosines, "raw_cosines": raw, "residual": residual, "holds": holds},
        kind="check",
    )


def low_rank_row_norms() -> Derivation:
    r"""Derive the row norms and cosines of :math:`V_k` for p = 2, k = 1.

    A DERIVATION, used in ``chapters/product_penalty.md`` as the low-rank
    contrast to :func:`full_rank_item_identity_check`. With :math:`V_k` the
    first column of the rotation by ``theta``, the rows have norms
    :math:`|\cos\theta|` and :math:`|\sin\theta|` (not 1 in general), and the
    item-item cosine matrix of :math:`V_k` has off-diagonal entry
    :math:`\operatorname{sign}(\cos\theta\sin\theta) = \pm 1`: with one latent
    dimension every pair of items is perfectly similar or perfectly opposite,
    the opposite of the full-rank identity.

    Returns
    -------
    Derivation
        ``result``: ``theta``, ``V_k``, ``row_norms`` (tuple), ``cosines`` and
        ``example`` (the row norms at ``theta = pi/3``).
    """
    V_k = rotation_matrix()[:, 0]
    norms = tuple(_row_norms(V_k))
    cosines = cosine_matrix(V_k, simplify=False)
    example = tuple(sp.simplify(n.subs(THETA, sp.pi / 3)) for n in norms)
    steps = (
        Step("Keep one column of the rotation: $V_k$ for $p = 2$, $k = 1$.", _eq("V_k", V_k)),
        Step("The row norms are not 1.", sp.Tuple(*norms)),
        Step("For example at $\\theta = \\pi/3$.", sp.Tuple(*example)),
        Step("The item-item cosine matrix has only entries $\\pm 1$.",
             _eq(_name("\\cos(V_k)"), cosines)),
    )
    return Derivation(
        "Low rank: the rows of $V_k$ are not unit vectors", steps,
        {"theta": THETA, "V_k": V_k, "row_norms": norms, "cosines": cosines,
         "example": example},
    )


# --------------------------------------------------------------------------------------
# chapters/factor_penalty.md
# --------------------------------------------------------------------------------------


def fixed_product_balance() -> Derivation:
    r"""Derive that :math:`p^2 + q^2` with :math:`pq = t` fixed is least at :math:`p^2 = q^2 = |t|`.

    A DERIVATION, used in ``chapters/factor_penalty.md`` (the balance at the
    optimum of objective (2) and of the weight-decay variant). Only
    :math:`p^2` matters, so take ``p > 0``; with :math:`q = t/p`, solving
    :math:`g'(p) = 0` for :math:`g(p) = p^2 + t^2/p^2` gives
    :math:`p = \sqrt{|t|}`; then :math:`q^2 = |t|` and the minimum is
    :math:`2|t|`.

    Returns
    -------
    Derivation
        ``result``: ``t`` (real, nonzero), ``p`` (positive), ``penalty``
        (:math:`g(p)`), ``p_star``, ``p_squared``, ``q_squared``,
        ``second_derivative`` (at the optimum) and ``minimum``.
    """
    t = sp.Symbol("t", real=True, nonzero=True)
    p = sp.Symbol("p", positive=True)
    g = p**2 + (t / p) ** 2
    dg = sp.diff(g, p)
    solutions = sp.solve(sp.Eq(dg, 0), p)
    if len(solutions) != 1:
        raise RuntimeError(f"expected one stationary point, got {solutions}")
    p_star = solutions[0]
    p_sq = _in_abs(p_star**2, t)
    q_sq = _in_abs((t / p_star) ** 2, t)
    d2g = _in_abs(sp.diff(g, p, 2).subs(p, p_star), t)
    minimum = _in_abs(g.subs(p, p_star), t)
    steps = (
        Step("Fix the product $p q = t$ and write the penalty as a function of $p$.",
             _eq(_name("g(p)"), g)),
        Step("Differentiate.", _eq(_name("g'(p)"), sp.factor(sp.together(dg)))),
        Step("Solve $g'(p) = 0$ for $p > 0$.", _eq(_name("p^*"), p_star)),
        Step("Then both factors have the same square: the balance $|p| = |q|$.",
             sp.Tuple(_eq(_name("p^2"), p_sq), _eq(_name("q^2"), q_sq))),
        Step("The second derivative there is positive: a minimum.",
             sp.Gt(d2g, 0, evaluate=False)),
        Step("The smallest penalty for the product $t$.", _eq(_name("g(p^*)"), minimum)),
    )
    return Derivation(
        "Fixed product, smallest penalty", steps,
        {"t": t, "p": p, "penalty": g, "p_star": p_star, "p_squared": p_sq,
         "q_squared": q_sq, "second_derivative": d2g, "minimum": minimum},
    )


def _penalised_direction(
    title: str, fit: sp.Expr, weight: sp.Expr, x: sp.Symbol, y: sp.Symbol,
    parameter: sp.Symbol, names: tuple[str, str],
) -> tuple[list[Step], dict]:
    """Shared route of :func:`factor_penalty_direction` and :func:`weight_decay_direction`.

    ``fit`` is the data term as a function of the product ``t = x y`` (a symbol
    ``t`` inside), ``weight`` the penalty coefficient of ``x^2 + y^2``.
    """
    t = sp.Symbol("t", real=True)
    t_pos = sp.Symbol("t", positive=True)
    u = sp.Symbol("u", real=True)
    balance = fixed_product_balance()
    t_b = balance["t"]
    objective = fit.subs(t, x * y) + weight * (x**2 + y**2)
    h = fit + weight * balance["minimum"].subs(t_b, t)
    flip = sp.factor(sp.simplify((h.subs(t, -t_pos) - h.subs(t, t_pos))))
    if not flip.is_positive:
        raise RuntimeError(f"cannot show the product is nonnegative at the optimum: {flip}")
    h_u = sp.expand(fit.subs(t, u) + weight * 2 * u)
    branch_steps, u0, u_star = _nonnegative_quadratic_minimiser(h_u, u, parameter, names)
    steps = [
        Step(title, _eq(_name("f(%s, %s)" % (x.name, y.name)), objective)),
        Step(f"For a fixed product $t = {x.name} {y.name}$ the penalty is smallest at "
             f"${x.name}^2 = {y.name}^2 = |t|$ (balance), where it equals $2|t|$.",
             _eq(_name("h(t)"), h)),
        Step("Flipping the sign of a positive product only raises the loss, so "
             "$t \\ge 0$ at the optimum.",
             _eq(_name("h(-t) - h(t)"), flip)),
        Step(f"So with $u = {x.name}^2 = {y.name}^2 = t \\ge 0$ minimise a convex quadratic.",
             _eq(_name("h(u)"), h_u)),
        *branch_steps,
    ]
    return steps, {"objective": objective, "balanced_objective": h, "flip": flip,
                   "reduced_objective": h_u, "u": u, "stationary_point": u0,
                   "threshold": u_star}


def factor_penalty_direction() -> Derivation:
    r"""Derive the minimiser of objective (2) along one direction: soft-thresholding.

    A DERIVATION, used in ``chapters/factor_penalty.md``. Minimises
    :math:`f(p, q) = (\sigma - p q)^2 + \lambda (p^2 + q^2)`: the balance
    :math:`p^2 = q^2 = |t|` at fixed product (:func:`fixed_product_balance`),
    the sign argument (:math:`t \ge 0`), then the convex quadratic
    :math:`(\sigma - u)^2 + 2\lambda u` over :math:`u \ge 0` with both branches
    derived: :math:`u^* = \sigma - \lambda` if :math:`\sigma > \lambda`, and
    :math:`u^* = 0` if :math:`\sigma \le \lambda`; together
    :math:`u^* = (\sigma - \lambda)_+`.

    Returns
    -------
    Derivation
        ``result``: ``sigma``, ``lam``, ``objective``, ``balanced_objective``
        (``h(t)``), ``flip`` (``h(-t) - h(t)`` for ``t > 0``),
        ``reduced_objective`` (``h(u)``), ``u``, ``stationary_point``,
        ``threshold`` (:math:`\max(\sigma - \lambda, 0)`, the optimal
        :math:`p^2 = q^2 = pq`) and ``p``, ``q`` (its square root).
    """
    p, q = sp.symbols("p q", real=True)
    t = sp.Symbol("t", real=True)
    steps, result = _penalised_direction(
        "Along one direction objective (2) penalises both factors.",
        (SIGMA - t) ** 2, LAMBDA, p, q, LAMBDA,
        ("$\\sigma > \\lambda$", "$\\sigma \\le \\lambda$"))
    root = sp.sqrt(result["threshold"])
    steps.append(Step("The factors are the square roots: singular values below $\\lambda$ "
                      "are cut, the others shrunk by $\\lambda$.",
                      sp.Tuple(_eq(_name("p^*"), root), _eq(_name("q^*"), root))))
    result.update({"sigma": SIGMA, "lam": LAMBDA, "p": root, "q": root})
    return Derivation("Objective (2), one direction", tuple(steps), result)


def weight_decay_direction() -> Derivation:
    r"""Derive the minimiser of the weight-decay variant along one direction.

    A DERIVATION, used in ``chapters/factor_penalty.md``. The variant
    :math:`\|X - X A B^\top\|^2 + \lambda(\|A\|^2 + \|B\|^2)` decouples into
    :math:`f(a, b) = \sigma^2 (1 - a b)^2 + \lambda (a^2 + b^2)`. The same route
    as :func:`factor_penalty_direction` gives the balance :math:`a^2 = b^2`
    (so :math:`a = b` up to a common sign) and
    :math:`a^2 = (1 - \lambda/\sigma^2)_+`, both branches derived.

    Returns
    -------
    Derivation
        ``result``: as :func:`factor_penalty_direction`, with ``threshold``
        the optimal :math:`a^2 = b^2 = ab` and ``a``, ``b`` its square root.
    """
    a, b = sp.symbols("a b", real=True)
    t = sp.Symbol("t", real=True)
    steps, result = _penalised_direction(
        "Along one direction the weight-decay variant penalises $a$ and $b$ themselves.",
        SIGMA**2 * (1 - t) ** 2, LAMBDA, a, b, LAMBDA,
        ("$\\sigma^2 > \\lambda$", "$\\sigma^2 \\le \\lambda$"))
    root = sp.sqrt(result["threshold"])
    steps.append(Step("The factors are equal, the square root of the threshold.",
                      sp.Tuple(_eq(_name("a^*"), root), _eq(_name("b^*"), root))))
    result.update({"sigma": SIGMA, "lam": LAMBDA, "a": root, "b": root})
    return Derivation("Weight decay, one direction", tuple(steps), result)


def factor_penalty_closed_form() -> Derivation:
    r"""Derive the closed form (6) of objective (2) and its soft-thresholded product.

    A DERIVATION, used in ``chapters/factor_penalty.md``. With
    :math:`X = U \Sigma V^\top`, :math:`A = V \mathrm{diag}(a)`,
    :math:`B = V \mathrm{diag}(b)` one has :math:`V^\top V = I` (computed for a
    rotation), so :math:`X A = U \mathrm{diag}(\sigma a)`: per direction
    :math:`p = \sigma a` and :math:`q = b`. Solving
    :math:`\sigma a = \sqrt{(\sigma - \lambda)_+}` and
    :math:`b = \sqrt{(\sigma - \lambda)_+}` (from :func:`factor_penalty_direction`)
    gives ``a`` and ``b``; their squares agree with the paper's
    :math:`(1/\sigma)(1 - \lambda/\sigma)_+` and :math:`\sigma(1 - \lambda/\sigma)_+`
    on both branches (a check); and the product's singular value
    :math:`\sigma a b` is :math:`(\sigma - \lambda)_+`.

    Returns
    -------
    Derivation
        ``result``: ``sigma``, ``lam``, ``a``, ``b``, ``a_squared``,
        ``b_squared``, ``paper_a_squared``, ``paper_b_squared``,
        ``matches_paper`` (bool, both branches), ``singular_value``
        (:math:`\sigma a b`) and ``VtV``.
    """
    direction = factor_penalty_direction()
    root = direction["p"]
    V = rotation_matrix()
    VtV = _simplify_matrix(V.T * V)
    a_sym = sp.Symbol("a", positive=True)
    b_sym = sp.Symbol("b", positive=True)
    a = sp.solve(sp.Eq(SIGMA * a_sym, root), a_sym)
    b = sp.solve(sp.Eq(b_sym, root), b_sym)
    if len(a) != 1 or len(b) != 1:
        raise RuntimeError(f"expected one solution each, got {a}, {b}")
    a, b = a[0], b[0]
    a_sq, b_sq = sp.simplify(a**2), sp.simplify(b**2)
    paper_a_sq = sp.Max(1 - LAMBDA / SIGMA, 0) / SIGMA
    paper_b_sq = SIGMA * sp.Max(1 - LAMBDA / SIGMA, 0)
    eps = sp.Symbol("epsilon", positive=True)
    delta = sp.Symbol("delta", nonnegative=True)
    matches = True
    for lam_value in (SIGMA - eps, SIGMA + delta):
        for ours, paper in ((a_sq, paper_a_sq), (b_sq, paper_b_sq)):
            diff = sp.simplify(ours.subs(LAMBDA, lam_value) - paper.subs(LAMBDA, lam_value))
            matches = matches and diff == 0
    singular_value = sp.simplify(SIGMA * a * b)
    steps = (
        Step("The right singular vectors are orthonormal (here a rotation), so "
             "$X A = U \\mathrm{diag}(\\sigma a)$: per direction $p = \\sigma a$, $q = b$.",
             _eq(_name("V^{T} V"), VtV)),
        Step("Solve $\\sigma a = p^*$ and $b = q^*$.",
             sp.Tuple(_eq("a", a), _eq("b", b))),
        Step("Their squares, which on both branches "
             + ("equal" if matches else "do NOT equal")
             + " the paper's $\\frac{1}{\\sigma}(1 - \\lambda/\\sigma)_+$ and "
             "$\\sigma (1 - \\lambda/\\sigma)_+$.",
             sp.Tuple(_eq(_name("a^2"), a_sq), _eq(_name("b^2"), b_sq))),
        Step("The singular value of $X A B^T$ in this direction: soft-thresholding at "
             "$\\lambda$.", _eq(_name("\\sigma a b"), singular_value)),
    )
    return Derivation(
        "Objective (2): the closed form", steps,
        {"sigma": SIGMA, "lam": LAMBDA, "a": a, "b": b, "a_squared": a_sq,
         "b_squared": b_sq, "paper_a_squared": paper_a_sq, "paper_b_squared": paper_b_sq,
         "matches_paper": matches, "singular_value": singular_value, "VtV": VtV},
    )


def factor_penalty_rotation_check(R: sp.MatrixBase | None = None) -> Derivation:
    r"""Check that ``(A R, B R)`` with ``R`` orthogonal leaves objective (2) unchanged.

    A CHECK, used in ``chapters/factor_penalty.md`` (uniqueness up to
    rotation). For symbolic 2 x 2 ``X``, ``A``, ``B`` it simplifies the
    changes in :math:`\|X A\|^2`, :math:`\|B\|^2` and :math:`A B^\top` to zero.

    Parameters
    ----------
    R : sympy matrix, optional
        Default: :func:`rotation_matrix`. Pass a non-orthogonal matrix (e.g.
        ``diag(2, 1/2)``) to watch the check fail.

    Returns
    -------
    Derivation
        ``kind == "check"``; ``result``: ``R``, ``user_penalty_change``,
        ``item_penalty_change``, ``product_change`` (a matrix) and ``holds``.
    """
    R = rotation_matrix() if R is None else _square(R, "R")
    if R.shape != (2, 2):
        raise ValueError(f"R must be 2 x 2, got {R.shape}")
    X = _symbol_matrix("x", 2, 2, real=True)
    A = _symbol_matrix("a", 2, 2, real=True)
    B = _symbol_matrix("b", 2, 2, real=True)

    def sq_norm(M: sp.Matrix) -> sp.Expr:
        return sum(e**2 for e in M)

    user = sp.simplify(sp.expand(sq_norm(X * A * R) - sq_norm(X * A)))
    item = sp.simplify(sp.expand(sq_norm(B * R) - sq_norm(B)))
    product = _simplify_matrix((A * R) * (B * R).T - A * B.T, residual=True)
    holds = user == 0 and item == 0 and _is_zero_matrix(product)
    steps = (
        Step("The transformation applied to both factors.", _eq("R", R)),
        Step("Change of the user-side penalty.",
             _eq(_name("\\|X A R\\|^2 - \\|X A\\|^2"), user)),
        Step("Change of the item-side penalty.", _eq(_name("\\|B R\\|^2 - \\|B\\|^2"), item)),
        Step("Change of the product.", _eq(_name("A R (B R)^{T} - A B^{T}"), product)),
    )
    return Derivation(
        "Objective (2) is blind to rotations", steps,
        {"R": R, "user_penalty_change": user, "item_penalty_change": item,
         "product_change": product, "holds": bool(holds)},
        kind="check",
    )


def factor_penalty_balance() -> Derivation:
    r"""Derive which diagonal rescaling objective (2) prefers: the balanced one.

    A DERIVATION, used in ``chapters/factor_penalty.md``. Rescaling column j
    of ``X A`` by ``d`` and of ``B`` by ``1/d`` keeps the product but turns that
    column's penalty into :math:`u x + y/u` with :math:`u = d^2`,
    :math:`x = \|(XA)_{:j}\|^2`, :math:`y = \|B_{:j}\|^2`. Solving the
    derivative gives :math:`u^* = \sqrt{y/x}`; there the two terms are equal
    (:math:`u x = y/u = \sqrt{xy}`, the balance), and the change from ``d = 1``
    factors as :math:`(u - 1)(u x - y)/u`: nonzero unless the column is already
    balanced or ``d^2 = 1``. So a non-orthogonal diagonal gauge changes the loss.

    Returns
    -------
    Derivation
        ``result``: ``u``, ``x``, ``y``, ``penalty``, ``minimiser``,
        ``second_derivative``, ``user_term``, ``item_term`` (the two terms at
        the minimiser), ``minimum`` and ``change`` (factored).
    """
    u, x, y = sp.symbols("u x y", positive=True)
    penalty = u * x + y / u
    du = sp.diff(penalty, u)
    solutions = sp.solve(sp.Eq(du, 0), u)
    if len(solutions) != 1:
        raise RuntimeError(f"expected one stationary point, got {solutions}")
    u_star = solutions[0]
    d2 = sp.simplify(sp.diff(penalty, u, 2).subs(u, u_star))
    user_term = sp.simplify(u_star * x)
    item_term = sp.simplify(y / u_star)
    minimum = sp.simplify(penalty.subs(u, u_star))
    change = sp.factor(penalty - penalty.subs(u, 1))
    steps = (
        Step("Rescale one latent column by $d$ on the user side and $1/d$ on the item side; "
             "with $u = d^2$ the penalty of that column is", _eq(_name("P(u)"), penalty)),
        Step("Differentiate and solve for $u > 0$.", _eq(_name("u^*"), u_star)),
        Step("The second derivative there is positive.", sp.Gt(d2, 0, evaluate=False)),
        Step("At the optimum the two terms are equal: the balance.",
             sp.Tuple(_eq(_name("u^* x"), user_term), _eq(_name("y / u^*"), item_term))),
        Step("The smallest penalty.", _eq(_name("P(u^*)"), minimum)),
        Step("The change from $d = 1$ factors; it vanishes only if $u = 1$ or $u x = y$.",
             _eq(_name("P(u) - P(1)"), change)),
    )
    return Derivation(
        "Objective (2) fixes the scale: balance", steps,
        {"u": u, "x": x, "y": y, "penalty": penalty, "minimiser": u_star,
         "second_derivative": d2, "user_term": user_term, "item_term": item_term,
         "minimum": minimum, "change": change},
    )


def factor_penalty_vs_product_family() -> Derivation:
    r"""Derive what objective (2) shares with the family of minimisers of objective (1).

    A DERIVATION, used in ``chapters/factor_penalty.md``. Along one direction a
    member of the family of (1) with diagonal gauge ``d`` has squared column
    norms :math:`\sigma^2 s\,u` (users, the rows of ``X A D``) and :math:`s/u`
    (items, the rows of ``B D^{-1}``), where :math:`u = d^2` and
    :math:`s = \sigma^2/(\sigma^2 + \lambda_1)`. Imposing the balance of
    objective (2) (equal norms) and solving gives :math:`u = 1/\sigma`, with
    the weight :math:`\sigma s` on both sides, while (2) itself gives a kept
    direction the weight :math:`\sigma - \lambda_2` (from
    :func:`factor_penalty_direction`); the derivative of their ratio in
    :math:`\sigma` is not identically zero, so the directions are weighted
    differently. Solving instead for the gauge that reproduces the item
    columns of (2), :math:`1/u = (\sigma - \lambda_2)/s`, leaves the user
    columns off by the square of the ratio of the two products' singular
    values, :math:`\sigma s / (\sigma - \lambda_2)`.

    Returns
    -------
    Derivation
        ``result``: ``sigma``, ``lam1``, ``lam2``, ``u``, ``shrinkage`` (``s``),
        ``user_norm2``, ``item_norm2``, ``balanced_gauge`` (:math:`u`),
        ``balanced_weight``, ``factor_weight``, ``weight_ratio``
        (:math:`w_2 / w_{bal}`), ``ratio_derivative``,
        ``item_matching_inverse_gauge`` (:math:`1/u`), ``user_mismatch``
        (user column norm of that member over that of (2)), ``product_ratio``
        and ``mismatch_is_product_ratio_squared`` (bool).
    """
    lam1 = sp.Symbol("lambda_1", positive=True)
    lam2 = sp.Symbol("lambda_2", positive=True)
    u = sp.Symbol("u", positive=True)
    v = sp.Symbol("v", positive=True)  # 1/u
    s = SIGMA**2 / (SIGMA**2 + lam1)
    user = SIGMA**2 * s * u
    item = s / u
    balanced = sp.solve(sp.Eq(user, item), u)
    if len(balanced) != 1:
        raise RuntimeError(f"expected one balanced gauge, got {balanced}")
    u_bal = balanced[0]
    weight_bal = sp.factor(sp.simplify(user.subs(u, u_bal)))
    direction = factor_penalty_direction()
    weight_2 = direction["stationary_point"].subs(direction["lam"], lam2)  # a kept direction
    ratio = sp.simplify(weight_2 / weight_bal)
    ratio_derivative = sp.factor(sp.diff(ratio, SIGMA))
    if not _certainly_nonzero(ratio_derivative):
        raise RuntimeError(f"cannot show the weight ratio varies with sigma: {ratio_derivative}")
    matching = sp.solve(sp.Eq(item.subs(u, 1 / v), weight_2), v)
    if len(matching) != 1:
        raise RuntimeError(f"expected one item-matching gauge, got {matching}")
    v_item = weight_2 * sp.factor(matching[0] / weight_2)  # the kept weight, factored out
    mismatch = sp.factor(sp.simplify(user.subs(u, 1 / v_item) / weight_2))
    product_ratio = SIGMA * s / weight_2
    squared = sp.simplify(mismatch - product_ratio**2) == 0
    steps = (
        Step("A member of the family of objective (1) with gauge $d$, one direction, "
             "$u = d^2$: the squared norms of the user and item columns.",
             sp.Tuple(_eq(_name("\\|(XAD)_i\\|^2"), user),
                      _eq(_name("\\|(BD^{-1})_i\\|^2"), item))),
        Step("Impose the balance of objective (2), equal norms, and solve for $u$.",
             _eq(_name("u_{\\mathrm{bal}}"), u_bal)),
        Step("Both columns then carry the weight", _eq(_name("w_{\\mathrm{bal}}"), weight_bal)),
        Step("Objective (2) itself gives a kept direction, $\\sigma > \\lambda_2$, the weight",
             _eq(_name("w_2"), weight_2)),
        Step("The ratio of the two weights changes with $\\sigma$: the directions are "
             "weighted differently, so the cosines differ.",
             _eq(_name("\\frac{d}{d\\sigma} \\frac{w_2}{w_{\\mathrm{bal}}}"), ratio_derivative)),
        Step("Instead solve for the gauge whose item columns are those of (2).",
             _eq(_name("1 / u_{\\mathrm{item}}"), v_item)),
        Step("The user columns are then off by a factor, "
             + ("the square" if squared else "NOT the square")
             + " of the ratio of the two products' singular values $\\sigma s$ and "
             "$\\sigma - \\lambda_2$.",
             _eq(_name("\\|(XAD)_i\\|^2 / w_2"), mismatch)),
    )
    return Derivation(
        "Objective (2) against the family of objective (1)", steps,
        {"sigma": SIGMA, "lam1": lam1, "lam2": lam2, "u": u, "shrinkage": s,
         "user_norm2": user, "item_norm2": item, "balanced_gauge": u_bal,
         "balanced_weight": weight_bal, "factor_weight": weight_2, "weight_ratio": ratio,
         "ratio_derivative": ratio_derivative, "item_matching_inverse_gauge": v_item,
         "user_mismatch": mismatch, "product_ratio": product_ratio,
         "mismatch_is_product_ratio_squared": bool(squared)},
    )


# --------------------------------------------------------------------------------------
# deep_models
# chapters/deep_models.md: relu_rescaling_check, relu_network_rescaling_check,
# weight_decay_unit_balance.
# --------------------------------------------------------------------------------------


def _relu(z: Any) -> sp.Piecewise:
    """The rectifier as a Piecewise, :math:`\\max(0, z)`, so that sympy can evaluate cases."""
    return sp.Piecewise((z, z > 0), (0, True))


def relu_rescaling_check(d: Any = None) -> Derivation:
    r"""Check :math:`\mathrm{relu}(d z) = d\,\mathrm{relu}(z)` for ``d > 0``, by cases.

    A CHECK, used in ``chapters/deep_models.md``. With
    :math:`\mathrm{relu}(z) = \max(0, z)` written as a ``Piecewise``, the two
    cases :math:`z = \epsilon > 0` and :math:`z = -\delta \le 0` cover every
    real ``z``; in each, sympy evaluates
    :math:`\mathrm{relu}(d z) - d\,\mathrm{relu}(z)` and simplifies it to 0.

    Parameters
    ----------
    d : sympy expression, optional
        The factor; by default a positive symbol ``d``. Pass a negative number
        or a negative symbol (e.g. ``-1``) to watch the check fail.

    Returns
    -------
    Derivation
        ``kind == "check"``; ``result``: ``d``, ``relu`` (the Piecewise in
        ``z``), ``positive_case`` and ``nonpositive_case`` (the simplified
        differences) and ``holds``.
    """
    d = sp.Symbol("d", positive=True) if d is None else sp.sympify(d)
    z = sp.Symbol("z", real=True)
    eps = sp.Symbol("epsilon", positive=True)
    delta = sp.Symbol("delta", nonnegative=True)
    difference = _relu(d * z) - d * _relu(z)
    positive = sp.simplify(difference.subs(z, eps))
    nonpositive = sp.simplify(difference.subs(z, -delta))
    holds = positive == 0 and nonpositive == 0
    label = _name("\\mathrm{relu}(d z) - d\\,\\mathrm{relu}(z)")
    steps = (
        Step("The rectifier, written by cases.", _eq(_name("\\mathrm{relu}(z)"), _relu(z))),
        Step("Case $z = \\epsilon > 0$.", _eq(label, positive)),
        Step("Case $z = -\\delta \\le 0$.", _eq(label, nonpositive)),
    )
    return Derivation(
        "A positive factor passes through the rectifier", steps,
        {"d": d, "relu": _relu(z), "positive_case": positive,
         "nonpositive_case": nonpositive, "holds": bool(holds)},
        kind="check",
    )


def relu_network_rescaling_check(d: Sequence[Any] | None = None,
                                 outgoing: Sequence[Any] | None = None) -> Derivation:
    r"""Check that rescaling the hidden units of a 2-2-1 ReLU network keeps its function.

    A CHECK, used in ``chapters/deep_models.md``. The network
    :math:`f(x) = \sum_j v_j\,\mathrm{relu}(z_j) + c` with pre-activations
    :math:`z_j = w_{1j} x_1 + w_{2j} x_2 + b_j` has symbolic weights. Unit ``j``
    gets incoming weights and bias times :math:`d_j` and outgoing weight
    :math:`v_j` times ``outgoing[j]`` (by default :math:`1/d_j`). Sympy
    simplifies the new pre-activations to :math:`d_j z_j`; then, writing the
    bias as :math:`b_j = z_j - w_{1j} x_1 - w_{2j} x_2` (a change of variables
    that lets each :math:`z_j` range over all reals), it evaluates
    :math:`f_d(x) - f(x)` in the four sign cases of :math:`(z_1, z_2)` and
    simplifies each to 0.

    Parameters
    ----------
    d : sequence of two sympy expressions, optional
        The factors; by default positive symbols ``d_1, d_2``. A negative
        entry makes the check fail.
    outgoing : sequence of two sympy expressions, optional
        The factors applied to the outgoing weights; by default
        :math:`1/d_j`. Anything else (e.g. ``d`` itself) makes the check fail.

    Returns
    -------
    Derivation
        ``kind == "check"``; ``result``: ``x``, ``W`` (2 x 2, column ``j``
        feeds unit ``j``), ``b``, ``v``, ``c``, ``d``, ``outgoing``,
        ``network`` (``f`` with Max), ``pre_activation_change`` (the new
        pre-activations minus :math:`d_j z_j`, simplified), ``cases`` (a
        tuple of the four simplified differences) and ``holds``.
    """
    if d is None:
        d = sp.symbols("d_1 d_2", positive=True)
    d = [sp.sympify(value) for value in d]
    if len(d) != 2:
        raise ValueError(f"d must have two entries (one per hidden unit), got {len(d)}")
    outgoing = [1 / value for value in d] if outgoing is None else [sp.sympify(v) for v in outgoing]
    if len(outgoing) != 2:
        raise ValueError(f"outgoing must have two entries, got {len(outgoing)}")
    x = sp.Matrix([sp.symbols("x_1 x_2", real=True)])
    W = _symbol_matrix("w", 2, 2, real=True)
    b = sp.Matrix([sp.symbols("b_1 b_2", real=True)])
    v = sp.Matrix(sp.symbols("v_1 v_2", real=True))
    c = sp.Symbol("c", real=True)
    D = sp.diag(*d)
    z_sym = sp.symbols("z_1 z_2", real=True)

    pre = x * W + b
    pre_new = x * (W * D) + b * D
    change = (pre_new - pre * D).applyfunc(sp.simplify)

    def network(pre_row: sp.Matrix, out: sp.Matrix, relu=_relu) -> sp.Expr:
        return sum(out[j] * relu(pre_row[j]) for j in range(2)) + c

    v_new = sp.Matrix([v[j] * outgoing[j] for j in range(2)])
    # Change of variables b_j = z_j - (x W)_j: the pre-activations become the free symbols z_j.
    to_z = {b[j]: z_sym[j] - (x * W)[j] for j in range(2)}
    pre_z = pre.subs(to_z).applyfunc(sp.expand)
    pre_new_z = pre_new.subs(to_z).applyfunc(sp.expand)
    difference = network(pre_new_z, v_new) - network(pre_z, v)
    eps = sp.symbols("epsilon_1 epsilon_2", positive=True)
    delta = sp.symbols("delta_1 delta_2", nonnegative=True)
    cases = []
    for signs in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
        point = {z_sym[j]: (eps[j] if sign > 0 else -delta[j]) for j, sign in enumerate(signs)}
        cases.append(sp.simplify(difference.subs(point)))
    holds = _is_zero_matrix(change) and all(case == 0 for case in cases)
    f_max = network(pre, v, relu=lambda t: sp.Max(0, t))
    f_z = network(sp.Matrix([z_sym]), v, relu=lambda t: sp.Max(0, t))
    steps = (
        Step("A 2-2-1 network: hidden unit $j$ has incoming weights $w_{1j}, w_{2j}$, "
             "bias $b_j$, pre-activation $z_j$ and outgoing weight $v_j$.",
             _eq(_name("f(x)"), f_z)),
        Step("The pre-activations.", sp.Tuple(*(_eq(z_sym[j], pre[j]) for j in range(2)))),
        Step("Scale the incoming weights and bias of unit $j$ by $d_j$ and its outgoing "
             "weight by the factor shown.",
             sp.Tuple(_eq(_name("D"), D),
                      _eq(_name("v^{\\prime}"), sp.ImmutableMatrix(v_new)))),
        Step("The new pre-activations minus $d_j z_j$, simplified.",
             _eq(_name("x W D + b D - z D"), change)),
        Step("Put $b_j = z_j - w_{1j} x_1 - w_{2j} x_2$ and evaluate $f_d(x) - f(x)$ in the "
             "four sign cases of $(z_1, z_2)$: both positive, only $z_1$, only $z_2$, neither.",
             sp.Tuple(*cases)),
    )
    return Derivation(
        "Rescaling hidden units keeps the network's function", steps,
        {"x": x, "W": W, "b": b, "v": v, "c": c, "d": tuple(d), "outgoing": tuple(outgoing),
         "network": f_max, "pre_activation_change": change, "cases": tuple(cases),
         "holds": bool(holds)},
        kind="check",
    )


def weight_decay_unit_balance() -> Derivation:
    r"""Derive the scale that weight decay picks on one hidden unit's rescaling orbit.

    A DERIVATION, used in ``chapters/deep_models.md``. Rescaling a hidden
    unit by ``d > 0`` turns its squared incoming norm ``a`` (weights and
    bias) into :math:`d^2 a` and its squared outgoing norm ``b`` into
    :math:`b / d^2`, so the weight-decay penalty on the orbit is
    :math:`g(d) = d^2 a + b / d^2`. Sympy solves :math:`g'(d) = 0` for
    ``d > 0`` (one root, with :math:`d^4 = b/a`), shows the second derivative
    is positive there, finds the two terms equal at the root (the balance,
    both :math:`\sqrt{ab}`), and solves :math:`g'(1) = 0` for ``b``: the
    trained point itself is stationary on its orbit only if ``b = a``.

    Returns
    -------
    Derivation
        ``result``: ``d``, ``a``, ``b``, ``penalty``, ``derivative``,
        ``minimiser``, ``fourth_power`` (:math:`d^{*4}`),
        ``second_derivative``, ``incoming`` and ``outgoing`` (the two terms at
        the minimiser), ``minimum``, ``slope_at_one`` (:math:`g'(1)`) and
        ``stationary_at_one`` (the solution ``b`` of :math:`g'(1) = 0`).
    """
    d = sp.Symbol("d", positive=True)
    a, b = sp.symbols("a b", positive=True)
    penalty = d**2 * a + b / d**2
    derivative = sp.diff(penalty, d)
    roots = sp.solve(sp.Eq(derivative, 0), d)
    if len(roots) != 1:
        raise RuntimeError(f"expected one positive stationary point, got {roots}")
    d_star = roots[0]
    fourth = sp.simplify(d_star**4)
    second = sp.simplify(sp.diff(penalty, d, 2).subs(d, d_star))
    incoming = sp.simplify(d_star**2 * a)
    outgoing = sp.simplify(b / d_star**2)
    minimum = sp.simplify(penalty.subs(d, d_star))
    slope = sp.factor(derivative.subs(d, 1))
    at_one = sp.solve(sp.Eq(slope, 0), b)
    if len(at_one) != 1:
        raise RuntimeError(f"expected one solution of g'(1) = 0, got {at_one}")
    steps = (
        Step("On the orbit of one hidden unit, with squared incoming norm $a$ and outgoing "
             "norm $b$, the penalty is", _eq(_name("g(d)"), penalty)),
        Step("Differentiate.", _eq(_name("g^{\\prime}(d)"), derivative)),
        Step("Solve $g^{\\prime}(d) = 0$ for $d > 0$: one root, whose fourth power is "
             "the ratio of the norms.",
             sp.Tuple(_eq(_name("d^*"), d_star), _eq(_name("(d^*)^4"), fourth))),
        Step("The second derivative there is positive: a minimum.",
             sp.Gt(second, 0, evaluate=False)),
        Step("At the minimum the rescaled incoming and outgoing norms are equal.",
             sp.Tuple(_eq(_name("(d^*)^2 a"), incoming), _eq(_name("b / (d^*)^2"), outgoing))),
        Step("The smallest penalty on the orbit.", _eq(_name("g(d^*)"), minimum)),
        Step("The trained unit is the point $d = 1$ of its orbit; solve $g^{\\prime}(1) = 0$ "
             "for $b$.", sp.Tuple(_eq(_name("g^{\\prime}(1)"), slope), _eq("b", at_one[0]))),
    )
    return Derivation(
        "Weight decay balances a hidden unit", steps,
        {"d": d, "a": a, "b": b, "penalty": penalty, "derivative": derivative,
         "minimiser": d_star, "fourth_power": fourth, "second_derivative": second,
         "incoming": incoming, "outgoing": outgoing, "minimum": minimum,
         "slope_at_one": slope, "stationary_at_one": at_one[0]},
    )


__all__ += ["relu_network_rescaling_check", "relu_rescaling_check", "weight_decay_unit_balance"]


# --------------------------------------------------------------------------------------
# audit
# chapters/audit.md: audit_gauge_spectrum, audit_gauge_check.
# --------------------------------------------------------------------------------------

#: Exponent ``gamma`` (a real symbol) of the audit's gauges :math:`Q \Lambda^\gamma Q^\top`.
AUDIT_GAMMA = sp.Symbol("gamma", real=True)


def _audit_reduce(expr: Any, theta: sp.Symbol = THETA) -> sp.Expr:
    r"""Exact canonical form of a rational function of :math:`\sin\theta, \cos\theta`.

    Multiple angles are expanded first; then numerator and denominator are
    reduced modulo :math:`\sin^2\theta + \cos^2\theta - 1` (so no power of the
    sine above the first is left) and the quotient is
    factored. Much faster than ``sp.simplify`` on the entries that a rotation
    and symbolic powers :math:`\lambda_i^\gamma` produce.
    """
    sine, cosine_ = sp.Dummy("S"), sp.Dummy("C")
    expr = sp.expand_trig(sp.sympify(expr))  # sin(2 theta) -> 2 sin(theta) cos(theta)
    numerator, denominator = sp.fraction(sp.together(sp.expand(expr)))
    parts = []
    for part in (numerator, denominator):
        part = sp.expand(part).subs({sp.sin(theta): sine, sp.cos(theta): cosine_})
        _, remainder = sp.reduced(part, [sine**2 + cosine_**2 - 1], sine, cosine_)
        parts.append(remainder)
    reduced = sp.factor(parts[0] / parts[1])
    return reduced.subs({sine: sp.sin(theta), cosine_: sp.cos(theta)})


def _audit_matrix(matrix: sp.MatrixBase) -> sp.Matrix:
    return sp.Matrix(matrix).applyfunc(_audit_reduce)


def _audit_gauge(gamma: Any) -> tuple[sp.Matrix, sp.Matrix, sp.Matrix, tuple[sp.Symbol, sp.Symbol]]:
    """``Q`` (a rotation), ``Lambda`` (positive symbols) and ``M = Q Lambda^gamma Q^T``, reduced."""
    lambdas = sp.symbols("lambda_1 lambda_2", positive=True)
    Q = rotation_matrix()
    Lambda = sp.diag(*lambdas)
    M = _audit_matrix(Q * sp.diag(*[value**gamma for value in lambdas]) * Q.T)
    return Q, Lambda, M, lambdas


def audit_gauge_spectrum() -> Derivation:
    r"""Derive the spectrum of the audit's gauges and the exponent that whitens.

    A DERIVATION, used in ``chapters/audit.md``. For item embeddings with thin
    SVD :math:`B = P \Lambda Q^\top` (here ``k = 2``, ``Q`` the rotation by
    :math:`\theta`, :math:`\Lambda = \mathrm{diag}(\lambda_1, \lambda_2)`
    positive), sympy multiplies out :math:`M = Q \Lambda^\gamma Q^\top`,
    shows that it is symmetric, diagonalises it in the basis ``Q``
    (eigenvalues :math:`\lambda_i^\gamma > 0`, so ``M`` is positive definite),
    confirms :math:`Q \Lambda^{-\gamma} Q^\top` as its inverse, computes the Gram
    matrix :math:`(BM)^\top BM = M Q \Lambda^2 Q^\top M` (which is all that
    :math:`P^\top P = I` leaves of ``B``) in the basis ``Q``, reads off the
    singular values :math:`\lambda_i^{1 + \gamma}` of :math:`B_\gamma = BM`,
    and solves for the ``gamma`` at which they are equal (:math:`\lambda_1 \ne
    \lambda_2`): :math:`\gamma = -1`, whitening.

    Returns
    -------
    Derivation
        ``result``: ``gamma``, ``Q``, ``Lambda``, ``M``, ``symmetry_residual``
        (:math:`M - M^\top`), ``eigenvalues`` (the diagonal of
        :math:`Q^\top M Q`, a tuple), ``offdiagonal`` (its off-diagonal entry),
        ``positive_definite`` (bool: diagonal in that basis, with eigenvalues
        that sympy knows to be positive),
        ``inverse`` (:math:`Q \Lambda^{-\gamma} Q^\top`), ``inverse_product``
        (:math:`M M^{-1}`), ``gram_in_basis`` (:math:`Q^\top B_\gamma^\top B_\gamma Q`),
        ``singular_values`` (a tuple), ``ratio``
        (:math:`\lambda_{1,\gamma} / \lambda_{2,\gamma}`) and
        ``whitening_gamma`` (the solution of ratio = 1).
    """
    gamma = AUDIT_GAMMA
    Q, Lambda, M, (l1, l2) = _audit_gauge(gamma)
    symmetry = _audit_matrix(M - M.T)
    in_basis = _audit_matrix(Q.T * M * Q)
    eigenvalues = (in_basis[0, 0], in_basis[1, 1])
    positive_definite = bool(in_basis[0, 1] == 0 and all(e.is_positive for e in eigenvalues))
    inverse = _audit_matrix(Q * sp.diag(l1**-gamma, l2**-gamma) * Q.T)
    inverse_product = _audit_matrix(M * inverse)
    gram = _audit_matrix(M * _audit_matrix(Q * Lambda**2 * Q.T))
    gram = _audit_matrix(gram * M)
    gram_in_basis = _audit_matrix(Q.T * gram * Q)
    if gram_in_basis[0, 1] != 0 or gram_in_basis[1, 0] != 0:
        raise RuntimeError(f"the Gram matrix is not diagonal in the basis Q: {gram_in_basis}")
    singular_values = tuple(
        sp.powdenest(sp.sqrt(gram_in_basis[i, i]), force=True) for i in range(2)
    )
    ratio = sp.powsimp(sp.simplify(singular_values[0] / singular_values[1]), force=True)
    # Equal singular values: ratio = 1, i.e. (gamma + 1) log(lambda_1 / lambda_2) = 0.
    solutions = sp.solve(sp.Eq(sp.expand_log(sp.log(ratio), force=True), 0), gamma)
    if len(solutions) != 1:
        raise RuntimeError(f"expected one whitening exponent, got {solutions}")
    # A shorter form of M for display (squares of sines, double angle); the same matrix.
    shown = (Q * sp.diag(l1**gamma, l2**gamma) * Q.T).applyfunc(sp.trigsimp)
    if not _is_zero_matrix(_audit_matrix(shown - M)):  # pragma: no cover - a sympy regression
        raise RuntimeError("the display form of M differs from M")
    steps = (
        Step("Thin SVD of the item embeddings, $B = P \\Lambda Q^T$ with $P^T P = I$; "
             "here $k = 2$ and $Q$ is a rotation.",
             sp.Tuple(_eq("Q", Q), _eq("\\Lambda", Lambda))),
        Step("The audit's gauge $M = Q \\Lambda^{\\gamma} Q^T$, multiplied out.", _eq("M", shown)),
        Step("It is symmetric.", _eq(_name("M - M^{T}"), symmetry)),
        Step("In the basis $Q$ it is diagonal; its eigenvalues are positive powers, so $M$ "
             "is positive definite.", _eq(_name("Q^{T} M Q"), in_basis)),
        Step("Its inverse is $Q \\Lambda^{-\\gamma} Q^T$: the product simplifies to the "
             "identity.", _eq(_name("M \\, Q \\Lambda^{-\\gamma} Q^{T}"), inverse_product)),
        Step("Because $P^T P = I$, the Gram matrix of $B_\\gamma = B M$ is "
             "$M Q \\Lambda^2 Q^T M$; in the basis $Q$ it simplifies to",
             _eq(_name("Q^{T} B_{\\gamma}^{T} B_{\\gamma} Q"), gram_in_basis)),
        Step("So the singular values of $B_\\gamma$ are", sp.Tuple(*singular_values)),
        Step("They are equal when their ratio is 1; solve for $\\gamma$ (with "
             "$\\lambda_1 \\neq \\lambda_2$).",
             sp.Tuple(_eq(_name("\\lambda_{1,\\gamma} / \\lambda_{2,\\gamma}"), ratio),
                      _eq(gamma, solutions[0]))),
    )
    return Derivation(
        "The audit's gauges reweight the singular values", steps,
        {"gamma": gamma, "Q": Q, "Lambda": Lambda, "M": M, "symmetry_residual": symmetry,
         "eigenvalues": eigenvalues, "offdiagonal": in_basis[0, 1],
         "positive_definite": positive_definite, "inverse": inverse,
         "inverse_product": inverse_product, "gram_in_basis": gram_in_basis,
         "singular_values": singular_values, "ratio": ratio,
         "whitening_gamma": solutions[0]},
    )


def audit_gauge_check(user_gauge: sp.MatrixBase | None = None, p: int = 2) -> Derivation:
    r"""Check that :math:`(A M^{-\top}, B M)` has the product :math:`A B^\top`.

    A CHECK, used in ``chapters/audit.md``. With the audit's gauge
    :math:`M = Q \Lambda^\gamma Q^\top` (``k = 2``, as in
    :func:`audit_gauge_spectrum`) and symbolic factors ``A, B`` of shape
    (p, 2), it multiplies out :math:`(A M^{-\top})(B M)^\top - A B^\top` and
    reduces it to the zero matrix.

    Parameters
    ----------
    user_gauge : sympy matrix, optional
        The matrix applied to ``A``. Defaults to
        :math:`M^{-\top} = Q \Lambda^{-\gamma} Q^\top`; pass e.g. ``M`` itself
        (the result's ``"M"`` of :func:`audit_gauge_spectrum`) to watch the
        check fail.
    p : int, default 2
        Number of items (rows of ``A`` and ``B``).

    Returns
    -------
    Derivation
        ``kind == "check"``; ``result``: ``A``, ``B``, ``M``, ``user_gauge``,
        ``residual`` and ``holds``.
    """
    p = _check_size(p, "p")
    gamma = AUDIT_GAMMA
    Q, _, M, (l1, l2) = _audit_gauge(gamma)
    if user_gauge is None:
        user_gauge = _audit_matrix(Q * sp.diag(l1**-gamma, l2**-gamma) * Q.T).T
    else:
        user_gauge = _square(user_gauge, "user_gauge")
        if user_gauge.shape != (2, 2):
            raise ValueError(f"user_gauge must be 2 x 2, got shape {user_gauge.shape}")
    A = _symbol_matrix("a", p, 2, real=True)
    B = _symbol_matrix("b", p, 2, real=True)
    # Reduce the 2 x 2 core first: (A N)(B M)^T = A (N M^T) B^T.
    core = _audit_matrix(user_gauge * M.T)
    residual = _audit_matrix(A * core * B.T - A * B.T)
    holds = _is_zero_matrix(residual)
    steps = (
        Step("Symbolic factors; the audit regauges the items with $M$ and the users "
             "with $N$.", sp.Tuple(_eq("A", A), _eq("B", B), _eq("N", user_gauge))),
        Step("The part of $(A N)(B M)^T = A \\, N M^T B^T$ that the gauge contributes.",
             _eq(_name("N M^{T}"), core)),
        Step("Subtract the original product $A B^T$.",
             _eq(_name("(A N)(B M)^{T} - A B^{T}"), residual)),
    )
    return Derivation(
        "The audit's gauges change no prediction", steps,
        {"A": A, "B": B, "M": M, "user_gauge": user_gauge, "residual": residual,
         "holds": holds},
        kind="check",
    )


# --------------------------------------------------------------------------------------
# training_dynamics
# chapters/training_dynamics.md: imbalance_dynamics, imbalance_conservation_check,
# balanced_minimiser_gauge, imbalance_gauge_one_direction, factor_penalty_rescaling_check.
# --------------------------------------------------------------------------------------

#: The objectives of :mod:`cossim.training`: (1), (2) and weight decay.
TRAINING_OBJECTIVES = ("product", "factor", "weight_decay")


def _check_training_objective(objective: Any) -> str:
    if not isinstance(objective, str) or objective not in TRAINING_OBJECTIVES:
        raise ValueError(f"objective must be one of {TRAINING_OBJECTIVES}, got {objective!r}")
    return objective


def _matrix_loss_terms(objective: str, X: Any, A: Any, B: Any, lam: sp.Symbol) -> list:
    """The terms of an objective as traces of matrix expressions (``MatrixSymbol`` algebra)."""
    residual = X - X * A * B.T
    terms = [sp.Trace(residual.T * residual)]
    if objective == "product":
        W = A * B.T
        terms.append(lam * sp.Trace(W.T * W))
    elif objective == "factor":
        terms += [lam * sp.Trace(A.T * X.T * X * A), lam * sp.Trace(B.T * B)]
    else:
        terms += [lam * sp.Trace(A.T * A), lam * sp.Trace(B.T * B)]
    return terms


def _matrix_gradient(terms: Sequence[Any], wrt: sp.MatrixSymbol) -> Any:
    """The gradient of a sum of traces, term by term.

    Sympy 1.14 differentiates a single trace of a matrix expression correctly
    but returns 0 for a *sum* of traces, so the terms are differentiated one at
    a time and added.
    """
    gradient = terms[0].diff(wrt)
    for term in terms[1:]:
        gradient = gradient + term.diff(wrt)
    return sp.expand(gradient).doit()


def _matrix_is_zero(expr: Any) -> bool:
    return expr == 0 or isinstance(expr, sp.ZeroMatrix)


def imbalance_dynamics(objective: str = "product") -> Derivation:
    r"""Derive how the imbalance :math:`C = A^\top A - B^\top B` moves under training.

    A DERIVATION, used in ``chapters/training_dynamics.md`` ("What training
    picks"). With matrix symbols ``X`` (n x p), ``A`` and ``B`` (p x k) of any
    size, sympy differentiates the objective (a sum of traces) with respect to
    ``A`` and ``B``, forms :math:`N = A^\top \nabla_A L - (\nabla_B L)^\top B`,
    and differentiates :math:`C` along a path :math:`(A + h \dot A, B + h \dot B)`
    (the product rule) before substituting the gradient flow
    :math:`\dot A = -\nabla_A L`, :math:`\dot B = -\nabla_B L`. Result:
    :math:`\dot C = -(N + N^\top)`, and

    * ``"product"`` (1): :math:`N = 0`, so :math:`C` is conserved;
    * ``"factor"`` (2): :math:`N = 2\lambda (A^\top X^\top X A - B^\top B)`;
    * ``"weight_decay"``: :math:`N = 2\lambda (A^\top A - B^\top B)`.

    It also expands one gradient-descent step with step size :math:`\eta` and
    generic gradients :math:`P, Q`:
    :math:`C_{t+1} - C_t = -\eta (A^\top P + P^\top A - B^\top Q - Q^\top B)
    + \eta^2 (P^\top P - Q^\top Q)`, whose first-order part, with the
    objective's gradients, is :math:`-\eta (N + N^\top)`.

    Parameters
    ----------
    objective : {"product", "factor", "weight_decay"}
        Which objective of :mod:`cossim.training`.

    Returns
    -------
    Derivation
        ``result``: ``X``, ``A``, ``B``, ``lam``, ``eta``, ``loss``, ``grad_A``,
        ``grad_B``, ``N``, ``product_rule`` (:math:`\dot C` for a generic
        path), ``flow`` (:math:`\dot C` under gradient flow), ``step`` (the
        change of :math:`C` in one step with generic gradients ``P``, ``Q``),
        ``first_order`` (its first-order part with the objective's
        gradients), ``conserved`` (bool: ``flow`` is the zero matrix) and
        ``first_order_vanishes`` (bool: so is ``first_order``). The zero
        matrix is sympy's ``ZeroMatrix``, which does not compare equal to 0.
    """
    objective = _check_training_objective(objective)
    n, p, k = sp.symbols("n p k", integer=True, positive=True)
    X = sp.MatrixSymbol("X", n, p)
    A = sp.MatrixSymbol("A", p, k)
    B = sp.MatrixSymbol("B", p, k)
    A_dot = sp.MatrixSymbol(r"\dot{A}", p, k)
    B_dot = sp.MatrixSymbol(r"\dot{B}", p, k)
    P = sp.MatrixSymbol("P", p, k)
    Q = sp.MatrixSymbol("Q", p, k)
    lam = LAMBDA
    eta = sp.Symbol("eta", positive=True)
    h = sp.Symbol("h", real=True)

    terms = _matrix_loss_terms(objective, X, A, B, lam)
    loss = terms[0]
    for term in terms[1:]:
        loss = loss + term
    grad_A = _matrix_gradient(terms, A)
    grad_B = _matrix_gradient(terms, B)
    N = sp.expand(A.T * grad_A - grad_B.T * B).doit()

    def imbalance(first: Any, second: Any) -> Any:
        return first.T * first - second.T * second

    # The product rule: d/dh of C along a path, at h = 0.
    product_rule = sp.expand(imbalance(A + h * A_dot, B + h * B_dot)).diff(h).subs(h, 0).doit()
    flow = sp.expand(product_rule.subs({A_dot: -grad_A, B_dot: -grad_B})).doit()
    if not _matrix_is_zero(sp.expand(flow + N + N.T).doit()):  # pragma: no cover - a sympy regression
        raise RuntimeError(f"the flow derivative {flow} is not -(N + N^T) for N = {N}")
    step = sp.expand(imbalance(A - eta * P, B - eta * Q) - imbalance(A, B)).doit()
    second_order = sp.expand(eta**2 * (P.T * P - Q.T * Q))
    first_order = sp.expand((step - second_order).subs({P: grad_A, Q: grad_B})).doit()
    conserved = _matrix_is_zero(flow)

    names = {"product": "(1)", "factor": "(2)", "weight_decay": "weight decay"}
    formulas = {
        "product": "\\|X - X A B^T\\|^2 + \\lambda \\|A B^T\\|^2",
        "factor": "\\|X - X A B^T\\|^2 + \\lambda (\\|X A\\|^2 + \\|B\\|^2)",
        "weight_decay": "\\|X - X A B^T\\|^2 + \\lambda (\\|A\\|^2 + \\|B\\|^2)",
    }
    # The change in one step, grouped by powers of eta for display (the same matrix).
    grouped = sp.MatAdd(
        sp.MatMul(-eta, sp.MatAdd(A.T * P, P.T * A, -B.T * Q, -Q.T * B, evaluate=False),
                  evaluate=False),
        sp.MatMul(eta**2, sp.MatAdd(P.T * P, -Q.T * Q, evaluate=False), evaluate=False),
        evaluate=False,
    )
    if not _matrix_is_zero(sp.expand(grouped - step).doit()):  # pragma: no cover - a sympy regression
        raise RuntimeError("the grouped form of the step differs from its expansion")
    steps = (
        Step(f"Sympy differentiates $L = {formulas[objective]}$, written as a sum of traces, "
             "with respect to $A$ ...", _eq(_name("\\nabla_A L"), grad_A)),
        Step("... and with respect to $B$.", _eq(_name("\\nabla_B L"), grad_B)),
        Step("The matrix that decides everything below.",
             _eq(_name("N = A^{T} \\nabla_A L - (\\nabla_B L)^{T} B"), N)),
        Step("The product rule for the imbalance $C = A^T A - B^T B$ along any path.",
             _eq(_name("\\dot C"), product_rule)),
        Step("Gradient flow: substitute $\\dot A = -\\nabla_A L$ and $\\dot B = -\\nabla_B L$.",
             _eq(_name("\\dot C"), flow)),
        Step("One step of gradient descent with step $\\eta$ and gradients $P$, $Q$.",
             _eq(_name("C_{t+1} - C_t"), grouped)),
        Step("Its first-order part, with the gradients of this objective.",
             _eq(_name("C_{t+1} - C_t - \\eta^{2} (P^{T} P - Q^{T} Q)"), first_order)),
    )
    return Derivation(
        f"How training moves the imbalance, objective {names[objective]}", steps,
        {"X": X, "A": A, "B": B, "lam": lam, "eta": eta, "loss": loss, "grad_A": grad_A,
         "grad_B": grad_B, "N": N, "product_rule": product_rule, "flow": flow, "step": step,
         "first_order": first_order, "conserved": bool(conserved),
         "first_order_vanishes": _matrix_is_zero(first_order)},
    )


def imbalance_conservation_check(objective: str = "product", n: int = 2, p: int = 2,
                                 k: int = 2) -> Derivation:
    r"""Check entry by entry that gradient flow on (1) conserves :math:`A^\top A - B^\top B`.

    A CHECK, used in ``chapters/training_dynamics.md``, independent of the
    matrix calculus of :func:`imbalance_dynamics`: with explicit symbolic
    matrices ``X`` (n x p), ``A`` and ``B`` (p x k) it writes the objective as
    a polynomial in their entries, takes every partial derivative with
    ``sp.diff``, and applies the chain rule
    :math:`\dot C = \sum_\theta (\partial C / \partial \theta)\,\dot\theta` with
    :math:`\dot\theta = -\partial L / \partial \theta` over all entries
    :math:`\theta` of ``A`` and ``B``. It holds if :math:`\dot C` expands to
    the zero matrix. For the other objectives it fails, and the result also
    reports whether :math:`\dot C` equals the value of
    :func:`imbalance_dynamics` (:math:`-4\lambda (A^\top X^\top X A - B^\top B)`
    for ``"factor"``, :math:`-4\lambda (A^\top A - B^\top B)` for
    ``"weight_decay"``, 0 for ``"product"``).

    Parameters
    ----------
    objective : {"product", "factor", "weight_decay"}
        ``"factor"`` or ``"weight_decay"`` feed the check a counter-example.
    n, p, k : int, default 2
        Sizes of ``X`` (n x p) and of the factors (p x k); small, since the
        expansion grows quickly.

    Returns
    -------
    Derivation
        ``kind == "check"``; ``result``: ``X``, ``A``, ``B``, ``loss``,
        ``C_dot`` (expanded), ``expected`` (the closed form above),
        ``matches`` (bool: ``C_dot == expected``) and ``holds``
        (bool: ``C_dot`` is zero).
    """
    objective = _check_training_objective(objective)
    n, p, k = (_check_size(value, name) for value, name in ((n, "n"), (p, "p"), (k, "k")))
    X = _symbol_matrix("x", n, p, real=True)
    A = _symbol_matrix("a", p, k, real=True)
    B = _symbol_matrix("b", p, k, real=True)
    lam = LAMBDA

    def sq_norm(M: sp.Matrix) -> sp.Expr:
        return sum(entry**2 for entry in M)

    loss = sq_norm(X - X * A * B.T)
    if objective == "product":
        loss += lam * sq_norm(A * B.T)
        expected = sp.zeros(k, k)
    elif objective == "factor":
        loss += lam * (sq_norm(X * A) + sq_norm(B))
        expected = -4 * lam * ((X * A).T * (X * A) - B.T * B)
    else:
        loss += lam * (sq_norm(A) + sq_norm(B))
        expected = -4 * lam * (A.T * A - B.T * B)
    C = A.T * A - B.T * B
    C_dot = sp.zeros(k, k)
    for theta in list(A) + list(B):
        C_dot += C.diff(theta) * (-sp.diff(loss, theta))
    C_dot = C_dot.applyfunc(sp.expand)
    expected = expected.applyfunc(sp.expand)
    holds = _is_zero_matrix(C_dot)
    matches = _is_zero_matrix((C_dot - expected).applyfunc(sp.expand))
    steps = (
        Step("Explicit factors.", sp.Tuple(_eq("A", A), _eq("B", B))),
        Step("Their imbalance.", _eq(_name("C = A^{T} A - B^{T} B"), C)),
        Step("The chain rule over all entries of $A$ and $B$, with every partial derivative "
             "of the loss taken by sympy and the flow $\\dot\\theta = -\\partial L / "
             "\\partial \\theta$, expanded.", _eq(_name("\\dot C"), C_dot)),
    )
    names = {"product": "(1)", "factor": "(2)", "weight_decay": "weight decay"}
    return Derivation(
        f"Entry by entry: the imbalance, objective {names[objective]}", steps,
        {"X": X, "A": A, "B": B, "loss": loss, "C_dot": C_dot, "expected": expected,
         "matches": bool(matches), "holds": bool(holds)},
        kind="check",
    )


def balanced_minimiser_gauge() -> Derivation:
    r"""Derive that a balanced minimiser of (1) is the symmetric split up to rotation.

    A DERIVATION, used in ``chapters/training_dynamics.md``. Every minimiser
    of (1) is :math:`(A_{(1)} G, B_{(1)} G^{-\top})` with
    :math:`A_{(1)}^\top A_{(1)} = B_{(1)}^\top B_{(1)} = S = \mathrm{diag}(s_i)`,
    so its imbalance is :math:`G^\top S G - G^{-1} S G^{-\top}`. Sympy first
    expands :math:`G^{-1} (P S P - S) G^{-\top}` with :math:`P = G G^\top`
    (matrix symbols of any size) and gets exactly that imbalance: a minimiser
    is balanced if and only if :math:`P S P = S`. Then, for ``k = 2``, with
    :math:`S = \mathrm{diag}(s_1, s_2)` positive and a symmetric symbolic
    ``P``, it solves :math:`P S P = S` and keeps the positive-definite
    solutions (``P = G G^T`` must be one): only :math:`P = I`, so ``G`` is
    orthogonal.

    Sympy solves for generic :math:`s_1 \ne s_2`; the chapter's proof covers
    every case (also equal :math:`s_i`) with a square-root argument.

    Returns
    -------
    Derivation
        ``result``: ``G``, ``S`` (the matrix symbols), ``imbalance`` (the
        expansion of :math:`G^{-1}(PSP - S)G^{-\top}`), ``s`` (the symbols
        :math:`s_1, s_2`), ``P`` (the symmetric unknown), ``solutions`` (all
        solutions, as matrices), ``positive_definite`` (those that are) and
        ``orthogonal_gauge`` (bool: the only positive-definite solution is
        the identity).
    """
    k = sp.Symbol("k", integer=True, positive=True)
    G = sp.MatrixSymbol("G", k, k)
    S_mat = sp.MatrixSymbol("S", k, k)
    P_mat = G * G.T
    imbalance = sp.expand(G.I * (P_mat * S_mat * P_mat - S_mat) * G.T.I).doit()
    s1, s2 = sp.symbols("s_1 s_2", positive=True)
    S = sp.diag(s1, s2)
    p11, p12, p22 = sp.symbols("p_11 p_12 p_22", real=True)
    P = sp.Matrix([[p11, p12], [p12, p22]])
    equations = [entry for entry in (P * S * P - S) if entry != 0]
    raw = sp.solve(equations, [p11, p12, p22], dict=True)
    solutions = [sp.ImmutableMatrix(P.subs(solution)) for solution in raw]
    positive = [M for M in solutions if M.is_positive_definite]
    orthogonal = len(positive) == 1 and positive[0] == sp.eye(2)
    steps = (
        Step("With $P = G G^T$, sympy expands $G^{-1} (P S P - S) G^{-T}$ to the imbalance "
             "of the minimiser $(A_{(1)} G, B_{(1)} G^{-T})$; so it is balanced exactly "
             "when $P S P = S$.",
             _eq(_name("G^{-1} (P S P - S) G^{-T}"), imbalance)),
        Step("Two latent dimensions: the unknown symmetric $P$ and the diagonal $S$.",
             sp.Tuple(_eq("P", P), _eq("S", S))),
        Step("Sympy solves $P S P = S$.", sp.Tuple(*solutions)),
        Step("Only one solution is positive definite, as $P = G G^T$ must be.",
             sp.Tuple(*positive)),
    )
    return Derivation(
        "A balanced minimiser of (1) has an orthogonal gauge", steps,
        {"G": G, "S": S_mat, "imbalance": imbalance, "s": (s1, s2), "P": P,
         "solutions": tuple(solutions), "positive_definite": tuple(positive),
         "orthogonal_gauge": bool(orthogonal)},
    )


def imbalance_gauge_one_direction() -> Derivation:
    r"""Derive the gauge that a conserved imbalance :math:`\delta` selects in one direction.

    A DERIVATION, used in ``chapters/training_dynamics.md``. Along one
    direction a minimiser of (1) has :math:`a b = s` (the shrinkage, fixed by
    the closed form), and gradient flow keeps :math:`a^2 - b^2 = \delta` from
    the start. Sympy solves the two equations for :math:`u = a^2 > 0` and
    :math:`v = b^2 > 0`, writes the gauge :math:`d` of :math:`a = \sqrt{s}\, d`,
    :math:`b = \sqrt{s} / d` as :math:`d^2 = u / s`, and expands it for a small
    imbalance: :math:`d^2 = 1 + \delta/(2 s) + O(\delta^2)`.

    Returns
    -------
    Derivation
        ``result``: ``delta`` (real), ``s`` (positive), ``u`` (:math:`a^2`),
        ``v`` (:math:`b^2`), ``gauge_squared`` (:math:`d^2`), ``series``
        (to second order in :math:`\delta`, without the order term) and
        ``balanced`` (:math:`d^2` at :math:`\delta = 0`).
    """
    delta = sp.Symbol("delta", real=True)
    s = sp.Symbol("s", positive=True)
    u, v = sp.symbols("u v", real=True)
    raw = sp.solve([sp.Eq(u - v, delta), sp.Eq(u * v, s**2)], [u, v], dict=True)
    # a^2 and b^2 are positive: keep the root that is positive at test points
    # (delta of either sign, s = 1); the other root has u = -s at delta = 0.
    chosen = [
        solution for solution in raw
        if all(solution[name].subs({delta: value, s: 1}).is_positive
               for name in (u, v) for value in (0, 1, -1))
    ]
    if len(chosen) != 1:
        raise RuntimeError(f"expected one positive solution, got {raw}")
    u_star, v_star = chosen[0][u], chosen[0][v]
    gauge_sq = sp.simplify(u_star / s)
    series = sp.series(gauge_sq, delta, 0, 3).removeO()
    balanced = sp.simplify(gauge_sq.subs(delta, 0))
    steps = (
        Step("One direction of a minimiser of (1): the product is the shrinkage $s$, and the "
             "flow keeps the imbalance $\\delta$ of the start; with $u = a^2$, $v = b^2$:",
             sp.Tuple(_eq(_name("u - v"), delta), _eq(_name("u v"), s**2))),
        Step("Sympy solves; the root with $u, v > 0$ is",
             sp.Tuple(_eq("u", u_star), _eq("v", v_star))),
        Step("The gauge $d$ of $a = \\sqrt{s} d$, $b = \\sqrt{s} / d$:",
             _eq(_name("d^{2} = u / s"), gauge_sq)),
        Step("For a small imbalance:", _eq(_name("d^{2}"), series + sp.O(delta**3))),
        Step("A balanced start, $\\delta = 0$, gives the symmetric split.",
             _eq(_name("d^{2}\\big|_{\\delta = 0}"), balanced)),
    )
    return Derivation(
        "The conserved imbalance picks the gauge of one direction", steps,
        {"delta": delta, "s": s, "u": u_star, "v": v_star, "gauge_squared": gauge_sq,
         "series": series, "balanced": balanced},
    )


def factor_penalty_rescaling_check(power: Any = sp.Rational(1, 2)) -> Derivation:
    r"""Check that rescaling the data maps the minimisers of (2) as :math:`(\sqrt c A, B/\sqrt c)`.

    A CHECK, used in ``chapters/training_dynamics.md`` (why objective (2) may
    be trained on ``X / c`` with penalty ``lam / c``). With explicit symbolic
    2 x 2 ``X``, ``A``, ``B`` and ``c > 0`` it simplifies, term by term, the
    difference between objective (2) on ``X / c`` with penalty ``lam / c`` at
    :math:`(c^{q} A, c^{-q} B)` and :math:`L_{X,\lambda}(A, B) / c^2`, with
    :math:`q` = ``power``: the fit term, the user penalty
    :math:`\|X A\|^2` and the item penalty :math:`\|B\|^2`. The check holds if
    all three differences are 0 for all entries, so that both problems have the
    same minimisers up to the map, and the rows of :math:`c^{-q} B` have the
    cosines of the rows of ``B``.

    Parameters
    ----------
    power : sympy expression, default 1/2
        The exponent :math:`q`. Pass another value (e.g. 0 or 1) to watch the
        check fail.

    Returns
    -------
    Derivation
        ``kind == "check"``; ``result``: ``c``, ``power``, ``fit_difference``,
        ``user_difference``, ``item_difference`` (each simplified and
        factored), ``difference`` (their sum) and ``holds``.
    """
    power = sp.sympify(power)
    c = sp.Symbol("c", positive=True)
    lam = LAMBDA
    X = _symbol_matrix("x", 2, 2, real=True)
    A = _symbol_matrix("a", 2, 2, real=True)
    B = _symbol_matrix("b", 2, 2, real=True)

    def sq_norm(M: sp.Matrix) -> sp.Expr:
        return sum(entry**2 for entry in M)

    A_c, B_c, X_c, lam_c = c**power * A, c ** (-power) * B, X / c, lam / c
    fit = sp.factor(sp.simplify(sp.expand(
        sq_norm(X_c - X_c * A_c * B_c.T) - sq_norm(X - X * A * B.T) / c**2)))
    user = sp.factor(sp.simplify(lam_c * sq_norm(X_c * A_c) - lam * sq_norm(X * A) / c**2))
    item = sp.factor(sp.simplify(lam_c * sq_norm(B_c) - lam * sq_norm(B) / c**2))
    difference = sp.simplify(fit + user + item)
    holds = fit == 0 and user == 0 and item == 0
    steps = (
        Step("The fit term on the rescaled data $X / c$ at $(c^{q} A, c^{-q} B)$, minus the "
             "original divided by $c^2$: the product $A B^T$ does not see $q$.",
             _eq(_name("\\|X/c - (X/c) c^{q} A (c^{-q} B)^{T}\\|^2 - \\|X - X A B^{T}\\|^2 / c^2"),
                 fit)),
        Step("The user penalty, with weight $\\lambda / c$, minus the original divided by $c^2$.",
             _eq(_name("(\\lambda/c) \\|(X/c) c^{q} A\\|^2 - \\lambda \\|X A\\|^2 / c^2"), user)),
        Step("The item penalty, likewise.",
             _eq(_name("(\\lambda/c) \\|c^{-q} B\\|^2 - \\lambda \\|B\\|^2 / c^2"), item)),
    )
    return Derivation(
        f"Rescaling the data for objective (2), $q = {sp.latex(power)}$", steps,
        {"c": c, "power": power, "fit_difference": fit, "user_difference": user,
         "item_difference": item, "difference": difference, "holds": bool(holds)},
        kind="check",
    )


__all__ += [
    "TRAINING_OBJECTIVES",
    "balanced_minimiser_gauge",
    "factor_penalty_rescaling_check",
    "imbalance_conservation_check",
    "imbalance_dynamics",
    "imbalance_gauge_one_direction",
]
