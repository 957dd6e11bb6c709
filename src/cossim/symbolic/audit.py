"""Derivations and checks of ``chapters/audit.md``: the audit's gauges ``Q R^gamma Q^T``."""

from __future__ import annotations

from typing import Any

import sympy as sp

from cossim.symbolic._helpers import (
    check_size,
    is_zero_matrix,
    label,
    show_eq,
    square_matrix,
    symbol_matrix,
)
from cossim.symbolic.core import (
    THETA,
    Derivation,
    Step,
    rotation_matrix,
)

__all__ = [
    "AUDIT_GAMMA",
    "audit_gauge_check",
    "audit_gauge_spectrum",
]


#: Exponent ``gamma`` (a real symbol) of the audit's gauges :math:`Q R^\gamma Q^\top`.
AUDIT_GAMMA = sp.Symbol("gamma", real=True)


def _audit_reduce(expr: Any, theta: sp.Symbol = THETA) -> sp.Expr:
    r"""Exact canonical form of a rational function of :math:`\sin\theta, \cos\theta`.

    Multiple angles are expanded first; then numerator and denominator are
    reduced modulo :math:`\sin^2\theta + \cos^2\theta - 1` (so no power of the
    sine above the first is left) and the quotient is
    factored. Much faster than ``sp.simplify`` on the entries that a rotation
    and symbolic powers :math:`\rho_i^\gamma` produce.
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
    """``Q`` (a rotation), ``R`` (positive symbols) and ``M = Q R^gamma Q^T``, reduced."""
    rhos = sp.symbols("rho_1 rho_2", positive=True)
    Q = rotation_matrix()
    R = sp.diag(*rhos)
    M = _audit_matrix(Q * sp.diag(*[value**gamma for value in rhos]) * Q.T)
    return Q, R, M, rhos


def audit_gauge_spectrum() -> Derivation:
    r"""Derive the spectrum of the audit's gauges and the exponent that whitens.

    A derivation, used in ``chapters/audit.md``. For item embeddings with thin
    SVD :math:`B = P R Q^\top` (here ``k = 2``, ``Q`` the rotation by
    :math:`\theta`, :math:`R = \mathrm{diag}(\rho_1, \rho_2)`
    positive), sympy multiplies out :math:`M = Q R^\gamma Q^\top`,
    shows that it is symmetric, diagonalises it in the basis ``Q``
    (eigenvalues :math:`\rho_i^\gamma > 0`, so ``M`` is positive definite),
    confirms :math:`Q R^{-\gamma} Q^\top` as its inverse, computes the Gram
    matrix :math:`(BM)^\top BM = M Q R^2 Q^\top M` (which is all that
    :math:`P^\top P = I` leaves of ``B``) in the basis ``Q``, reads off the
    singular values :math:`\rho_i^{1 + \gamma}` of :math:`B_\gamma = BM`,
    and solves for the ``gamma`` at which they are equal (:math:`\rho_1 \ne
    \rho_2`): :math:`\gamma = -1`, whitening.

    Returns
    -------
    Derivation
        ``result``: ``gamma``, ``Q``, ``R``, ``M``, ``symmetry_residual``
        (:math:`M - M^\top`), ``eigenvalues`` (the diagonal of
        :math:`Q^\top M Q`, a tuple), ``offdiagonal`` (its off-diagonal entry),
        ``positive_definite`` (bool: diagonal in that basis, with eigenvalues
        that sympy knows to be positive),
        ``inverse`` (:math:`Q R^{-\gamma} Q^\top`), ``inverse_product``
        (:math:`M M^{-1}`), ``gram_in_basis`` (:math:`Q^\top B_\gamma^\top B_\gamma Q`),
        ``singular_values`` (a tuple), ``ratio``
        (:math:`\rho_{1,\gamma} / \rho_{2,\gamma}`) and
        ``whitening_gamma`` (the solution of ratio = 1).
    """
    gamma = AUDIT_GAMMA
    Q, R, M, (l1, l2) = _audit_gauge(gamma)
    symmetry = _audit_matrix(M - M.T)
    in_basis = _audit_matrix(Q.T * M * Q)
    eigenvalues = (in_basis[0, 0], in_basis[1, 1])
    positive_definite = bool(in_basis[0, 1] == 0 and all(e.is_positive for e in eigenvalues))
    inverse = _audit_matrix(Q * sp.diag(l1**-gamma, l2**-gamma) * Q.T)
    inverse_product = _audit_matrix(M * inverse)
    gram = _audit_matrix(M * _audit_matrix(Q * R**2 * Q.T))
    gram = _audit_matrix(gram * M)
    gram_in_basis = _audit_matrix(Q.T * gram * Q)
    if gram_in_basis[0, 1] != 0 or gram_in_basis[1, 0] != 0:
        raise RuntimeError(f"the Gram matrix is not diagonal in the basis Q: {gram_in_basis}")
    singular_values = tuple(
        sp.powdenest(sp.sqrt(gram_in_basis[i, i]), force=True) for i in range(2)
    )
    ratio = sp.powsimp(sp.simplify(singular_values[0] / singular_values[1]), force=True)
    # Equal singular values: ratio = 1, i.e. (gamma + 1) log(rho_1 / rho_2) = 0.
    solutions = sp.solve(sp.Eq(sp.expand_log(sp.log(ratio), force=True), 0), gamma)
    if len(solutions) != 1:
        raise RuntimeError(f"expected one whitening exponent, got {solutions}")
    # A shorter form of M for display (squares of sines, double angle); the same matrix.
    shown = (Q * sp.diag(l1**gamma, l2**gamma) * Q.T).applyfunc(sp.trigsimp)
    if not is_zero_matrix(_audit_matrix(shown - M)):  # pragma: no cover - a sympy regression
        raise RuntimeError("the display form of M differs from M")
    steps = (
        Step("Thin SVD of the item embeddings, $B = P R Q^\\top$ with $P^\\top P = I$; "
             "here $k = 2$ and $Q$ is a rotation.",
             sp.Tuple(show_eq("Q", Q), show_eq("R", R))),
        Step("The audit's gauge $M = Q R^{\\gamma} Q^\\top$, multiplied out.", show_eq("M", shown)),
        Step("It is symmetric.", show_eq(label("M - M^{\\top}"), symmetry)),
        Step("In the basis $Q$ it is diagonal; its eigenvalues are positive powers, so $M$ "
             "is positive definite.", show_eq(label("Q^{\\top} M Q"), in_basis)),
        Step("Its inverse is $Q R^{-\\gamma} Q^\\top$: the product simplifies to the "
             "identity.", show_eq(label("M \\, Q R^{-\\gamma} Q^{\\top}"), inverse_product)),
        Step("Because $P^\\top P = I$, the Gram matrix of $B_\\gamma = B M$ is "
             "$M Q R^2 Q^\\top M$; in the basis $Q$ it simplifies to",
             show_eq(label("Q^{\\top} B_{\\gamma}^{\\top} B_{\\gamma} Q"), gram_in_basis)),
        Step("So the singular values of $B_\\gamma$ are", sp.Tuple(*singular_values)),
        Step("They are equal when their ratio is 1; solve for $\\gamma$ (with "
             "$\\rho_1 \\neq \\rho_2$).",
             sp.Tuple(show_eq(label("\\rho_{1,\\gamma} / \\rho_{2,\\gamma}"), ratio),
                      show_eq(gamma, solutions[0]))),
    )
    return Derivation(
        "The audit's gauges reweight the singular values", steps,
        {"gamma": gamma, "Q": Q, "R": R, "M": M, "symmetry_residual": symmetry,
         "eigenvalues": eigenvalues, "offdiagonal": in_basis[0, 1],
         "positive_definite": positive_definite, "inverse": inverse,
         "inverse_product": inverse_product, "gram_in_basis": gram_in_basis,
         "singular_values": singular_values, "ratio": ratio,
         "whitening_gamma": solutions[0]},
    )


def audit_gauge_check(user_gauge: sp.MatrixBase | None = None, p: int = 2) -> Derivation:
    r"""Check that :math:`(A M^{-\top}, B M)` has the product :math:`A B^\top`.

    A check, used in ``chapters/audit.md``. With the audit's gauge
    :math:`M = Q R^\gamma Q^\top` (``k = 2``, as in
    :func:`audit_gauge_spectrum`) and symbolic factors ``A, B`` of shape
    (p, 2), it multiplies out :math:`(A M^{-\top})(B M)^\top - A B^\top` and
    reduces it to the zero matrix.

    Parameters
    ----------
    user_gauge : sympy matrix, optional
        The matrix applied to ``A``. Defaults to
        :math:`M^{-\top} = Q R^{-\gamma} Q^\top`; pass e.g. ``M`` itself
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
    p = check_size(p, "p")
    gamma = AUDIT_GAMMA
    Q, _, M, (l1, l2) = _audit_gauge(gamma)
    if user_gauge is None:
        user_gauge = _audit_matrix(Q * sp.diag(l1**-gamma, l2**-gamma) * Q.T).T
    else:
        user_gauge = square_matrix(user_gauge, "user_gauge")
        if user_gauge.shape != (2, 2):
            raise ValueError(f"user_gauge must be 2 x 2, got shape {user_gauge.shape}")
    A = symbol_matrix("a", p, 2, real=True)
    B = symbol_matrix("b", p, 2, real=True)
    # Reduce the 2 x 2 core first: (A N)(B M)^T = A (N M^T) B^T.
    core = _audit_matrix(user_gauge * M.T)
    residual = _audit_matrix(A * core * B.T - A * B.T)
    holds = is_zero_matrix(residual)
    steps = (
        Step("Symbolic factors; the audit regauges the items with $M$ and the users "
             "with $N$.", sp.Tuple(show_eq("A", A), show_eq("B", B), show_eq("N", user_gauge))),
        Step("The part of $(A N)(B M)^\\top = A \\, N M^\\top B^\\top$ that the gauge contributes.",
             show_eq(label("N M^{\\top}"), core)),
        Step("Subtract the original product $A B^\\top$.",
             show_eq(label("(A N)(B M)^{\\top} - A B^{\\top}"), residual)),
    )
    return Derivation(
        "The audit's gauges change no prediction", steps,
        {"A": A, "B": B, "M": M, "user_gauge": user_gauge, "residual": residual,
         "holds": holds},
        kind="check",
    )
