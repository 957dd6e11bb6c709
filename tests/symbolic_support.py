"""Helpers shared by the tests of cossim.symbolic (one test file per module of the package)."""

from __future__ import annotations

import functools
import inspect

import sympy as sp

from cossim import symbolic
from cossim.symbolic import Derivation

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
