"""Derivations and checks of ``chapters/gauge_freedom.md`` ("The rescaling freedom")."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sympy as sp

from cossim.symbolic._helpers import (
    check_size,
    is_zero_matrix,
    label,
    row_norms,
    show_eq,
    simplify_matrix,
    square_matrix,
    symbol_matrix,
    witness_nonzero,
)
from cossim.symbolic.core import (
    CosSim,
    Derivation,
    Step,
    cosine,
    cosine_matrix,
)

__all__ = [
    "cosine_depends_on_scale",
    "gauge_for_correlation",
    "gauge_invariance_check",
    "positive_vectors_cosine_range",
    "two_vector_cosine_range",
]


def gauge_invariance_check(
    gauge: str | sp.MatrixBase = "general",
    item_gauge: sp.MatrixBase | None = None,
    p: int = 3,
    k: int = 2,
) -> Derivation:
    r"""Check that regauging the factors leaves the product unchanged.

    A check, used in ``chapters/gauge_freedom.md``. For symbolic factors
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
    p = check_size(p, "p")
    if isinstance(gauge, str):
        k = check_size(k, "k")
        if gauge == "general":
            G = symbol_matrix("g", k, k, real=True)
        elif gauge == "diagonal":
            G = sp.diag(*[sp.Symbol(f"d_{j + 1}", real=True, nonzero=True) for j in range(k)])
        else:
            raise ValueError(f"gauge must be 'general', 'diagonal' or a matrix, got {gauge!r}")
    else:
        G = square_matrix(gauge, "gauge")
        k = G.rows
    if item_gauge is None:
        det = sp.simplify(G.det())
        if det == 0:
            raise ValueError("gauge must be invertible (its determinant is 0)")
        H = G.inv().T.applyfunc(sp.cancel)
    else:
        H = square_matrix(item_gauge, "item_gauge")
        if H.shape != G.shape:
            raise ValueError(f"item_gauge must have shape {G.shape}, got {H.shape}")
    A = symbol_matrix("a", p, k, real=True)
    B = symbol_matrix("b", p, k, real=True)
    product = simplify_matrix((A * G) * (B * H).T)
    residual = simplify_matrix(product - A * B.T, residual=True)
    holds = is_zero_matrix(residual)
    steps = (
        Step("Take symbolic user-side and item-side factors.", sp.Tuple(show_eq("A", A), show_eq("B", B))),
        Step("Regauge the users with $G$ and the items with $H$.",
             sp.Tuple(show_eq("G", G), show_eq("H", H))),
        Step("Multiply out the regauged product and simplify.",
             show_eq(label("A G (B H)^{\\top}"), product)),
        Step("Subtract the original product $A B^\\top$.",
             show_eq(label("A G (B H)^{\\top} - A B^{\\top}"), residual)),
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

    A derivation, used in ``chapters/gauge_freedom.md``. With symbolic vectors
    the factored derivative is
    :math:`t\,(a_2 b_2 t^2 - a_1 b_1)(a_1 b_2 - a_2 b_1)^2 / (\dots)^{3/2}`:
    it vanishes identically when ``a`` and ``b`` are parallel, or when
    :math:`a_1 b_1 = a_2 b_2 = 0` (for example ``(1, 0)`` and ``(0, 1)``, whose
    cosine stays 0), and only then.

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
            point = dict(zip(free, base))
            point[t] = tv
            candidates.append(point)
    witness = None if derivative == 0 else witness_nonzero(derivative, candidates)
    depends = witness is not None
    steps = [
        Step("Rescale both vectors by $D = \\dMat(1, t)$ and take the cosine.",
             show_eq(CosSim(t), cos_t)),
        Step("Differentiate in $t$ and factor.", show_eq(CosSim(t).diff(t), derivative)),
    ]
    if depends:
        steps.append(Step("At one point the derivative is a nonzero number, so the cosine "
                          "changes with the scale.",
                          show_eq(sp.Subs(CosSim(t).diff(t), tuple(witness), tuple(witness.values())),
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

    A derivation, used in ``chapters/gauge_freedom.md`` for its worked example.
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
             show_eq(CosSim(t), cos_t)),
        Step("At $t = 1$ nothing is rescaled: the original cosine.",
             show_eq(CosSim(1), original)),
    ]
    if derivative == 0:
        steps.append(Step("The derivative vanishes identically: the cosine is constant.",
                          show_eq(CosSim(t).diff(t), derivative)))
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
        Step("Differentiate in $t$ and factor.", show_eq(CosSim(t).diff(t), derivative)),
        Step("Solve $\\cos'(t) = 0$ for $t > 0$: the critical points.",
             show_eq(label("t"), sp.FiniteSet(*critical))),
        Step("The cosine at the critical points.",
             sp.Tuple(*(show_eq(CosSim(c), v)
                        for c, v in zip(critical, values)))),
        Step("The limits as the scale ratio goes to $0$ and to $\\infty$.",
             sp.Tuple(show_eq(sp.Limit(CosSim(t), t, 0, "+"), limit_0),
                      show_eq(sp.Limit(CosSim(t), t, sp.oo), limit_oo))),
        Step("The cosine is continuous on $t > 0$, so its range runs from the smallest to the "
             "largest of these; an end is included only if a critical point attains it.",
             show_eq(CosSim(sp.Interval.open(0, sp.oo)), rng)),
    ]
    return Derivation(
        "Range of the cosine under rescaling", tuple(steps),
        {"t": t, "cosine": cos_t, "derivative": derivative, "limit_0": limit_0,
         "limit_oo": limit_oo, "critical_points": critical, "critical_values": values,
         "infimum": infimum, "supremum": supremum, "range": rng, "original": original},
    )


def positive_vectors_cosine_range() -> Derivation:
    r"""Derive the range of :math:`\cos(Da, Db)`, :math:`D = \mathrm{diag}(1, t)`, a, b > 0.

    A derivation, used in ``chapters/gauge_freedom.md`` (the general statement
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
        Step("Rescale both positive vectors by $\\dMat(1, t)$ and take the cosine.",
             show_eq(CosSim(t), cos_t)),
        Step("Differentiate and factor: the square vanishes only for parallel vectors.",
             show_eq(CosSim(t).diff(t), derivative)),
        Step("Both ends of the scale give cosine 1.",
             sp.Tuple(show_eq(sp.Limit(CosSim(t), t, 0, "+"), limit_0),
                      show_eq(sp.Limit(CosSim(t), t, sp.oo), limit_oo))),
        Step("The one critical point in $t > 0$.", show_eq(label("t^*"), t_star)),
        Step("The cosine there.", show_eq(CosSim(label("t^*")), minimum)),
        Step("With $a_1 b_2 = x^2$ and $a_2 b_1 = y^2$ the gap to 1 is a square over a "
             "positive number, so the critical value is the minimum.",
             show_eq(sp.S.One - CosSim(label("t^*")), gap)),
        Step("The range (for non-parallel vectors): the minimum is reached, 1 is not.",
             show_eq(CosSim(sp.Interval.open(0, sp.oo)), rng)),
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
    exact minimiser of (1)". A derivation of the gauge followed by a check of
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
    C = square_matrix(C, "C")
    if sp.simplify(C - C.T) != sp.zeros(*C.shape):
        raise ValueError("C must be symmetric")
    if C.is_positive_definite is False:
        raise ValueError("C must be positive definite")
    p = C.rows
    if B is None:
        B = symbol_matrix("b", p, p, real=True)
    B = square_matrix(B, "B")
    if B.shape != C.shape:
        raise ValueError(f"B must have shape {C.shape}, got {B.shape}")
    if sp.simplify(B.det()) == 0:
        raise ValueError("B must be invertible")
    L = C.cholesky(hermitian=False)
    H_unknown = symbol_matrix("h", p, p)
    solution = sp.solve(list(B * H_unknown - L), list(H_unknown), dict=True)
    if len(solution) != 1:
        raise RuntimeError(f"expected one solution for the gauge, got {len(solution)}")
    H = simplify_matrix(H_unknown.subs(solution[0]))
    # G = H^{-T} = (B^{-1} L)^{-T} = B^T L^{-T}: a triangular solve, not a symbolic inverse.
    G = simplify_matrix(L.lower_triangular_solve(B).T)
    embeddings = simplify_matrix(B * H)
    norms = [sp.simplify(n) for n in row_norms(embeddings)]
    cosines = simplify_matrix(cosine_matrix(embeddings))
    gram = simplify_matrix(embeddings * embeddings.T)
    holds = all(n == 1 for n in norms) and is_zero_matrix(
        simplify_matrix(cosines - C, residual=True)
    )
    steps = (
        Step("The target correlation matrix and its Cholesky factor $C = L L^\\top$.",
             sp.Tuple(show_eq("C", C), show_eq("L", L))),
        Step("Solve $B H = L$ for the item gauge $H = G^{-\\top}$.", show_eq("H", H)),
        Step("The matching user gauge $G = H^{-\\top} = B^\\top L^{-\\top}$ keeps $A G (B H)^\\top = A B^\\top$.",
             show_eq("G", G)),
        Step("The regauged item embeddings.", show_eq(label("B H"), embeddings)),
        Step("Their row norms.", sp.Tuple(*norms)),
        Step("Their Gram matrix.", show_eq(label("(B H)(B H)^{\\top}"), gram)),
        Step("Their cosine matrix, to compare with $C$.",
             show_eq(CosSim(label("B H")), cosines)),
    )
    return Derivation(
        "Any correlation matrix is reachable", steps,
        {"C": C, "L": L, "B": B, "item_gauge": H, "user_gauge": G, "embeddings": embeddings,
         "row_norms": tuple(norms), "cosines": cosines, "holds": holds},
        kind="check",
    )
