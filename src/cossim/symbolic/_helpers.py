"""Private helpers of :mod:`cossim.symbolic`: display labels, symbolic matrices, exact simplification.

Pure sympy; imported by the core and by every subject module, imports nothing from :mod:`cossim`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sympy as sp


class Label(sp.Symbol):
    """A symbol that prints as its name taken verbatim as LaTeX (a display label)."""

    def _latex(self, printer: Any) -> str:
        return self.name


def label(latex: str) -> Label:
    """A display label such as ``"f'(w)"`` or ``"\\cos(V_k)"``, printed verbatim."""
    return Label(latex)


def show_eq(lhs: Any, rhs: Any) -> sp.Eq:
    """An unevaluated equation for display (``lhs`` may be a LaTeX label)."""
    if isinstance(lhs, str):
        lhs = label(lhs)
    if isinstance(rhs, sp.MatrixBase):
        rhs = sp.ImmutableMatrix(rhs)
    if isinstance(lhs, sp.MatrixBase):
        lhs = sp.ImmutableMatrix(lhs)
    return sp.Eq(lhs, rhs, evaluate=False)


def symbol_matrix(name: str, rows: int, cols: int, **assumptions: bool) -> sp.Matrix:
    """A ``rows x cols`` matrix of symbols ``name_{ij}`` (1-based indices)."""
    return sp.Matrix(
        rows,
        cols,
        lambda i, j: sp.Symbol(f"{name}_{{{i + 1}{j + 1}}}", **assumptions),
    )


def check_size(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


def as_sympy_matrix(value: Any, name: str) -> sp.Matrix:
    try:
        matrix = sp.Matrix(value)
    except Exception as error:  # sympy raises several types for bad input
        raise ValueError(f"{name} must be a sympy matrix or nested sequence: {error}") from error
    if matrix.rows == 0 or matrix.cols == 0:
        raise ValueError(f"{name} must not be empty")
    return matrix


def square_matrix(value: Any, name: str) -> sp.Matrix:
    matrix = as_sympy_matrix(value, name)
    if not matrix.is_square:
        raise ValueError(f"{name} must be square, got shape {matrix.shape}")
    return matrix


def tidy(expr: sp.Expr) -> sp.Expr:
    """Cheap canonical form for Gram entries: expand, use sin^2 = 1 - cos^2, factor.

    Much faster than ``sp.simplify`` on the polynomial-in-sine-and-cosine
    entries that rotations produce, and exact.
    """
    expr = sp.expand(expr)
    for sine in expr.atoms(sp.sin):
        expr = sp.expand(expr.subs(sine**2, 1 - sp.cos(sine.args[0]) ** 2))
    return sp.factor(expr)


def certainly_nonzero(expr: sp.Expr) -> bool:
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


def simplify_matrix(matrix: sp.MatrixBase, residual: bool = False) -> sp.Matrix:
    """Simplify entrywise: cheap rational cancellation first, full simplify if needed.

    With ``residual=True`` (for differences whose vanishing is being checked)
    an entry that is clearly nonzero at a test point (see
    :func:`certainly_nonzero`) is only cancelled, not fully simplified: it
    cannot simplify to zero, and ``sp.simplify`` is slow on such entries.
    """

    def one(entry: sp.Expr) -> sp.Expr:
        cancelled = sp.cancel(sp.together(entry))
        if cancelled == 0:
            return sp.S.Zero
        if residual and certainly_nonzero(cancelled):
            return cancelled
        return sp.simplify(cancelled)

    return sp.Matrix(matrix).applyfunc(one)


def is_zero_matrix(matrix: sp.MatrixBase) -> bool:
    return all(entry == 0 for entry in matrix)


def row_norms(matrix: sp.MatrixBase) -> list[sp.Expr]:
    return [sp.sqrt(sp.simplify(matrix.row(i).dot(matrix.row(i)))) for i in range(matrix.rows)]


def in_abs(expr: sp.Expr, t: sp.Symbol) -> sp.Expr:
    """Simplify an expression that is even in the real symbol ``t`` to a function of ``|t|``.

    Sympy keeps ``t**2 / Abs(t)`` as it is; an even expression equals its value
    at ``t = |t|``, so simplify it for a positive stand-in and put ``|t|`` back.
    """
    if sp.simplify(expr.subs(t, -t) - expr) != 0:
        raise RuntimeError(f"{expr} is not even in {t}")
    tau = sp.Symbol("tau", positive=True)
    return sp.simplify(expr.subs(t, tau)).subs(tau, sp.Abs(t))


def witness_nonzero(expr: sp.Expr, candidates: Sequence[dict]) -> dict | None:
    """The first substitution in ``candidates`` at which ``expr`` is a nonzero number."""
    for point in candidates:
        value = sp.simplify(expr.subs(point))
        if value.is_number and value != 0 and value.is_finite:
            return point
    return None



def as_expression(value: Any, name: str) -> sp.Expr:
    """``value`` as a sympy expression (strictly: no parsing of strings), or ``ValueError`` naming ``name``."""
    try:
        return sp.sympify(value, strict=True)
    except (sp.SympifyError, TypeError, ValueError) as error:
        raise ValueError(f"{name} must be a sympy expression or a number, got {value!r}") from error


def sq_norm(matrix: sp.MatrixBase) -> sp.Expr:
    """The squared Frobenius norm of an explicit matrix, as the sum of its squared entries."""
    return sum(entry**2 for entry in matrix)
