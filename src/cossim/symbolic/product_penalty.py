"""Derivations and checks of ``chapters/product_penalty.md`` ("Penalising the product")."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sympy as sp

from cossim.symbolic._helpers import (
    as_sympy_matrix,
    certainly_nonzero,
    check_size,
    is_zero_matrix,
    label,
    row_norms,
    show_eq,
    simplify_matrix,
    square_matrix,
    symbol_matrix,
)
from cossim.symbolic.core import (
    LAMBDA,
    SIGMA,
    THETA,
    CosSim,
    Derivation,
    Step,
    cosine_matrix,
    cross_cosine,
    rotation_matrix,
)

__all__ = [
    "cosine_formula_check",
    "full_rank_item_identity_check",
    "full_rank_user_raw_check",
    "low_rank_row_norms",
    "product_penalty_completed_square",
    "product_penalty_direction",
    "symmetric_split_check",
]


def product_penalty_direction() -> Derivation:
    r"""Derive the minimiser of objective (1) along one singular direction.

    A derivation, used in ``chapters/product_penalty.md``. In the basis of the
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
             show_eq(label("f(w)"), f)),
        Step("Differentiate.", show_eq(label("f'(w)"), sp.factor(df))),
        Step("Solve $f'(w) = 0$: the shrinkage of this direction.", show_eq(label("w^*"), w_star)),
        Step("The second derivative is positive, so this is the minimum.",
             sp.Gt(d2f, 0, evaluate=False)),
        Step("The loss left in this direction.", show_eq(label("f(w^*)"), minimum)),
    )
    return Derivation(
        "Objective (1), one direction", steps,
        {"sigma": SIGMA, "lam": LAMBDA, "w": w, "objective": f, "derivative": df,
         "minimiser": w_star, "second_derivative": d2f, "minimum": minimum},
    )


def product_penalty_completed_square() -> Derivation:
    r"""Complete the square in objective (1) along one direction and derive its constant.

    A derivation, used in ``chapters/product_penalty.md`` (why Eckart-Young
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
        Step("The objective along one direction.", show_eq(label("f(w)"), f)),
        Step("Read off the coefficients of $w^2$ and $w$.",
             sp.Tuple(show_eq(label("\\alpha"), alpha), show_eq(label("\\beta"), sp.factor(beta)))),
        Step("Build the square from them, with $\\tau = -\\beta / (2 \\sqrt{\\alpha})$.",
             show_eq(label("(\\sqrt{\\alpha}\\, w - \\tau)^2"), square)),
        Step("Subtract the square and simplify: the constant does not involve $w$.",
             show_eq(label("c"), constant)),
        Step("So the objective is a square plus a constant.",
             show_eq(label("f(w)"), sp.Add(square, constant, evaluate=False))),
        Step("The target singular value of this direction.", show_eq(label("\\tau(\\sigma)"), target)),
        Step("Its derivative is positive for $\\sigma, \\lambda > 0$: larger singular values "
             "give larger targets, so the best rank-$k$ fit keeps the top $k$ directions.",
             show_eq(label("\\tau'(\\sigma)"), target_derivative)),
        Step("The square vanishes at the shrinkage.", show_eq(label("w^*"), minimiser)),
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

    A check, used in ``chapters/product_penalty.md``.

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
    V = rotation_matrix() if V is None else as_sympy_matrix(V, "V")
    k = V.cols
    if s is None:
        s = sp.symbols(f"s_1:{k + 1}", positive=True)
    s = tuple(sp.sympify(x) for x in s)
    if len(s) != k:
        raise ValueError(f"s must have {k} entries (the columns of V), got {len(s)}")
    root = sp.diag(*[sp.sqrt(x) for x in s])
    A = V * root if A is None else as_sympy_matrix(A, "A")
    B = V * root if B is None else as_sympy_matrix(B, "B")
    if A.shape != V.shape or B.shape != V.shape:
        raise ValueError(f"A and B must have shape {V.shape}")
    target = V * sp.diag(*s) * V.T
    residual = simplify_matrix(A * B.T - target, residual=True)
    holds = is_zero_matrix(residual)
    steps = (
        Step("The split factors.", sp.Tuple(show_eq("A", A), show_eq("B", B))),
        Step("The product they should give.", show_eq(label("V \\dMat(s) V^{\\top}"), target)),
        Step("The difference, simplified.", show_eq(label("A B^{\\top} - V \\dMat(s) V^{\\top}"),
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

    A check, used in ``chapters/product_penalty.md``. Under the gauge ``D`` the
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
    p = check_size(p, "p")
    n = check_size(n, "n")
    if D is None:
        k = check_size(k, "k")
        d = [sp.Symbol(f"d_{j + 1}", positive=True) for j in range(k)]
        D = sp.diag(*d)
    else:
        D = square_matrix(D, "D")
        if not D.is_diagonal():
            raise ValueError("D must be diagonal")
        k = D.rows
    left_power, right_power = sides[kind]
    if middle_power is None:
        middle_power = left_power + right_power
    Y = symbol_matrix("y", n, k, real=True)
    B = symbol_matrix("b", p, k, real=True)
    left, right = {"item": (B, B), "user": (Y, Y), "user-item": (Y, B)}[kind]

    def dpow(e: int) -> sp.Matrix:
        return sp.diag(*[D[j, j] ** e for j in range(k)])

    direct = simplify_matrix(cross_cosine(left * dpow(left_power), right * dpow(right_power)))

    def omega(M: sp.Matrix, power: int) -> sp.Matrix:
        gram = M * dpow(2 * power) * M.T
        return sp.diag(*[1 / sp.sqrt(sp.expand(gram[i, i])) for i in range(M.rows)])

    middle = left * dpow(middle_power) * right.T
    formula = simplify_matrix(omega(left, left_power) * middle * omega(right, right_power))
    residual = simplify_matrix(direct - formula, residual=True)
    holds = is_zero_matrix(residual)
    d1 = D[0, 0]
    entry = direct[0, 1] if direct.cols > 1 else direct[0, 0]
    derivative = sp.factor(sp.diff(entry, d1)) if d1.free_symbols else sp.S.Zero
    depends = certainly_nonzero(derivative)  # a nonzero value at a test point, not a syntactic != 0
    direct_names = {"item": CosSim(label("B D^{-1}")), "user": CosSim(label("Y D")),
                    "user-item": CosSim(label("Y D"), label("B D^{-1}"))}
    names = {"item": "\\Omega_B B D^{%d} B^{\\top} \\Omega_B",
             "user": "\\Omega_A Y D^{%d} Y^{\\top} \\Omega_A",
             "user-item": "\\Omega_A Y D^{%d} B^{\\top} \\Omega_B"}
    steps = (
        Step("The gauge.", show_eq("D", D)),
        Step("Cosines of the regauged rows, computed directly.",
             show_eq(direct_names[kind], direct)),
        Step("The same cosines from the formula.",
             show_eq(label(names[kind] % middle_power), formula)),
        Step("The difference, simplified.", show_eq(label("\\Delta"), residual)),
        Step("One off-diagonal cosine still moves with $d_1$.",
             show_eq(label("\\partial \\cosSim_{12} / \\partial d_1"), derivative)),
    )
    return Derivation(
        f"The {kind} cosines under a gauge", steps,
        {"D": D, "direct": direct, "formula": formula, "residual": residual,
         "derivative_d1": derivative, "depends_on_gauge": depends, "holds": holds},
        kind="check",
    )


def full_rank_item_identity_check(D: sp.MatrixBase | None = None) -> Derivation:
    r"""Check that with :math:`D = \mathrm{diag}(s)^{1/2}` every item is similar only to itself.

    A check, used in ``chapters/product_penalty.md`` (the table of special
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
    D = sp.diag(*[sp.sqrt(x) for x in s]) if D is None else square_matrix(D, "D")
    if D.shape != (2, 2):
        raise ValueError(f"D must be 2 x 2, got {D.shape}")
    embeddings = simplify_matrix(B * D.inv())
    cosines = simplify_matrix(cosine_matrix(embeddings))
    holds = is_zero_matrix(simplify_matrix(cosines - sp.eye(2), residual=True))
    steps = (
        Step("The item factor of the symmetric split, with $V$ a rotation.", show_eq("B", B)),
        Step("The gauge.", show_eq("D", D)),
        Step("The regauged item embeddings.", show_eq(label("B D^{-1}"), embeddings)),
        Step("Their cosine matrix.", show_eq(CosSim(label("B D^{-1}")), cosines)),
    )
    return Derivation(
        "Full rank: every item similar only to itself", steps,
        {"V": V, "s": s, "B": B, "D": D, "embeddings": embeddings, "cosines": cosines,
         "holds": holds},
        kind="check",
    )


def full_rank_user_raw_check(D: sp.MatrixBase | None = None, n: int = 3) -> Derivation:
    r"""Check that with :math:`D = \mathrm{diag}(s)^{-1/2}` user cosines are raw cosines of X.

    A check, used in ``chapters/product_penalty.md`` (the table of special
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
    n = check_size(n, "n")
    V = rotation_matrix()
    s = sp.symbols("s_1 s_2", positive=True)
    A = V * sp.diag(*[sp.sqrt(x) for x in s])
    D = sp.diag(*[1 / sp.sqrt(x) for x in s]) if D is None else square_matrix(D, "D")
    if D.shape != (2, 2):
        raise ValueError(f"D must be 2 x 2, got {D.shape}")
    X = symbol_matrix("x", n, 2, real=True)
    embeddings = simplify_matrix(X * A * D)
    cosines = cosine_matrix(embeddings)
    raw = cosine_matrix(X)
    residual = simplify_matrix(cosines - raw, residual=True)
    holds = is_zero_matrix(residual)
    steps = (
        Step("The user-side factor of the symmetric split and the gauge.",
             sp.Tuple(show_eq("A", A), show_eq("D", D))),
        Step("The regauged user embeddings.", show_eq(label("X A D"), embeddings)),
        Step("Their cosines minus the cosines of the raw rows of $X$, simplified.",
             show_eq(CosSim(label("X A D")) - CosSim(label("X")), residual)),
    )
    return Derivation(
        "Full rank: user cosines are raw cosines", steps,
        {"X": X, "V": V, "s": s, "A": A, "D": D, "embeddings": embeddings,
         "cosines": cosines, "raw_cosines": raw, "residual": residual, "holds": holds},
        kind="check",
    )


def low_rank_row_norms() -> Derivation:
    r"""Derive the row norms and cosines of :math:`V_k` for p = 2, k = 1.

    A derivation, used in ``chapters/product_penalty.md`` as the low-rank
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
        ``result``: ``theta``, ``V_k``, ``row_norms`` (tuple), ``cosines``,
        ``cosine_signs`` (the same matrix written with ``sign``) and ``example``
        (the row norms at ``theta = pi/3``).
    """
    V_k = rotation_matrix()[:, 0]
    norms = tuple(row_norms(V_k))
    cosines = cosine_matrix(V_k, simplify=False)
    example = tuple(sp.simplify(n.subs(THETA, sp.pi / 3)) for n in norms)
    # x / |x| = sign(x): the off-diagonal entry is a product of two signs.
    signs = cosines.applyfunc(lambda entry: entry.rewrite(sp.sign))
    steps = (
        Step("Keep one column of the rotation: $V_k$ for $p = 2$, $k = 1$.", show_eq("V_k", V_k)),
        Step("The row norms are not 1 (for $\\theta$ not a multiple of $\\pi/2$).", sp.Tuple(*norms)),
        Step("For example at $\\theta = \\pi/3$.", sp.Tuple(*example)),
        Step("The item-item cosine matrix.", show_eq(CosSim(label("V_k")), cosines)),
        Step("With $x / |x| = \\operatorname{sign}(x)$ its entries are $\\pm 1$ (undefined where "
             "$\\theta$ is a multiple of $\\pi/2$ and a row is zero).",
             show_eq(CosSim(label("V_k")), signs)),
    )
    return Derivation(
        "Low rank: the rows of $V_k$ are not unit vectors", steps,
        {"theta": THETA, "V_k": V_k, "row_norms": norms, "cosines": cosines,
         "cosine_signs": signs, "example": example},
    )
