"""Derivations and checks of ``chapters/factor_penalty.md`` ("Penalising the factors")."""

from __future__ import annotations

from typing import Any

import sympy as sp

from cossim.symbolic._helpers import (
    as_expression,
    certainly_nonzero,
    in_abs,
    is_zero_matrix,
    label,
    show_eq,
    simplify_matrix,
    sq_norm,
    square_matrix,
    symbol_matrix,
)
from cossim.symbolic.core import (
    LAMBDA,
    SIGMA,
    Derivation,
    Step,
    book_latex,
    rotation_matrix,
)

__all__ = [
    "factor_penalty_balance",
    "factor_penalty_closed_form_check",
    "factor_penalty_direction",
    "factor_penalty_rotation_check",
    "factor_penalty_vs_product_family",
    "fixed_product_balance",
    "weight_decay_direction",
]


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
    v = sp.latex(u)
    steps.append(Step(f"Setting $h'({v}) = 0$ and solving gives one stationary point.",
                      show_eq(label(f"{v}_0"), u0)))
    steps.append(Step(f"The second derivative is positive, so $h$ is convex in ${v}$.",
                      sp.Gt(d2h, 0, evaluate=False)))

    # Branch 1: u0 > 0.
    par_above = sp.solve(sp.Eq(u0, eps), parameter)
    if len(par_above) != 1:
        raise RuntimeError(f"cannot express the branch u0 > 0 through {parameter}")
    u0_above = sp.simplify(u0.subs(parameter, par_above[0]))
    if not u0_above.is_positive:
        raise RuntimeError("branch u0 > 0 did not produce a feasible point")
    steps.append(Step(
        f"Case {names[0]}: put ${book_latex(parameter)} = {book_latex(par_above[0])}$ with "
        f"$\\epsilon > 0$; the stationary point is then positive, hence feasible, and by "
        f"convexity it is the minimiser.",
        show_eq(label(f"{v}_0"), u0_above)))

    # Branch 2: u0 <= 0.
    par_below = sp.solve(sp.Eq(u0, -delta), parameter)
    if len(par_below) != 1:
        raise RuntimeError(f"cannot express the branch u0 <= 0 through {parameter}")
    dh_below = sp.factor(sp.expand(dh.subs(parameter, par_below[0]).subs(u, u_nn)))
    if not dh_below.is_nonnegative:
        raise RuntimeError(f"branch u0 <= 0: cannot show h' >= 0, got {dh_below}")
    steps.append(Step(
        f"Case {names[1]}: put ${book_latex(parameter)} = {book_latex(par_below[0])}$ with "
        f"$\\delta \\ge 0$; then $h'({v}) \\ge 0$ for all ${v} \\ge 0$, so $h$ "
        f"never decreases and the minimiser is the boundary ${v} = 0$.",
        show_eq(label(f"h'({v})"), dh_below)))

    u_star = sp.Max(u0, 0)
    steps.append(Step("Both cases together: the positive part of the stationary point.",
                      show_eq(label(f"{v}^*"),
                          sp.Piecewise((u0, sp.Gt(u0, 0)), (0, True)))))
    return steps, u0, u_star


def fixed_product_balance() -> Derivation:
    r"""Derive that :math:`\alpha^2 + \beta^2` at fixed :math:`\alpha\beta = z` is least at :math:`\alpha^2 = \beta^2 = |z|`.

    A derivation, used in ``chapters/factor_penalty.md`` (the balance at the
    optimum of objective (2) and of the weight-decay variant), written in the
    chapter's letters: the factors :math:`\alpha, \beta` and their product
    :math:`z`. Only :math:`\alpha^2` matters, so take ``alpha > 0``; with
    :math:`\beta = z/\alpha`, solving :math:`g'(\alpha) = 0` for
    :math:`g(\alpha) = \alpha^2 + z^2/\alpha^2` gives
    :math:`\alpha = \sqrt{|z|}`; then :math:`\beta^2 = |z|` and the minimum is
    :math:`2|z|`.

    Returns
    -------
    Derivation
        ``result``: ``z`` (real, nonzero), ``alpha`` (positive), ``penalty``
        (:math:`g(\alpha)`), ``alpha_star``, ``alpha_squared``, ``beta_squared``,
        ``second_derivative`` (at the optimum) and ``minimum``.
    """
    z = sp.Symbol("z", real=True, nonzero=True)
    alpha = sp.Symbol("alpha", positive=True)
    g = alpha**2 + (z / alpha) ** 2
    dg = sp.diff(g, alpha)
    solutions = sp.solve(sp.Eq(dg, 0), alpha)
    if len(solutions) != 1:
        raise RuntimeError(f"expected one stationary point, got {solutions}")
    alpha_star = solutions[0]
    alpha_sq = in_abs(alpha_star**2, z)
    beta_sq = in_abs((z / alpha_star) ** 2, z)
    d2g = in_abs(sp.diff(g, alpha, 2).subs(alpha, alpha_star), z)
    minimum = in_abs(g.subs(alpha, alpha_star), z)
    steps = (
        Step("Fix the product $\\alpha \\beta = z$ and write the penalty as a function of $\\alpha$.",
             show_eq(label("g(\\alpha)"), g)),
        Step("Differentiate.",
             show_eq(label("g'(\\alpha)"), sp.factor(sp.together(dg), alpha))),
        Step("Solve $g'(\\alpha) = 0$ for $\\alpha > 0$.", show_eq(label("\\alpha^*"), alpha_star)),
        Step("Then both factors have the same square: the balance $|\\alpha| = |\\beta|$.",
             sp.Tuple(show_eq(label("\\alpha^2"), alpha_sq), show_eq(label("\\beta^2"), beta_sq))),
        Step("The second derivative there is positive: a minimum.",
             sp.Gt(d2g, 0, evaluate=False)),
        Step("The smallest penalty for the product $z$.",
             show_eq(label("g(\\alpha^*)"), minimum)),
    )
    return Derivation(
        "Fixed product, smallest penalty", steps,
        {"z": z, "alpha": alpha, "penalty": g, "alpha_star": alpha_star,
         "alpha_squared": alpha_sq, "beta_squared": beta_sq, "second_derivative": d2g,
         "minimum": minimum},
    )


def _penalised_direction(
    title: str, fit: sp.Expr, weight: sp.Expr, x: sp.Symbol, y: sp.Symbol, product: sp.Symbol,
    parameter: sp.Symbol, names: tuple[str, str],
) -> tuple[list[Step], dict]:
    """Shared route of :func:`factor_penalty_direction` and :func:`weight_decay_direction`.

    ``fit`` is the data term as a function of the product of the factors ``x`` and
    ``y`` (the real symbol ``product`` inside), ``weight`` the penalty coefficient of
    ``x^2 + y^2``. The same letter names the product, and below, after the sign
    argument, the common square ``x^2 = y^2`` of a balanced split.
    """
    z = product
    z_pos = sp.Symbol(z.name, positive=True)
    balance = fixed_product_balance()
    objective = fit.subs(z, x * y) + weight * (x**2 + y**2)
    h = fit + weight * balance["minimum"].subs(balance["z"], z)
    flip = sp.factor(sp.simplify((h.subs(z, -z_pos) - h.subs(z, z_pos))))
    if not flip.is_positive:
        raise RuntimeError(f"cannot show the product is nonnegative at the optimum: {flip}")
    h_z = sp.expand(fit + weight * 2 * z)
    branch_steps, z0, z_star = _nonnegative_quadratic_minimiser(h_z, z, parameter, names)
    xl, yl, zl = sp.latex(x), sp.latex(y), sp.latex(z)
    steps = [
        Step(title, show_eq(label(f"f({xl}, {yl})"), objective)),
        Step(f"For a fixed product ${zl} = {xl} {yl}$ the penalty is smallest at "
             f"${xl}^2 = {yl}^2 = |{zl}|$ (balance), where it equals $2|{zl}|$.",
             show_eq(label(f"h({zl})"), h)),
        Step("Flipping the sign of a positive product only raises the loss, so "
             f"${zl} \\ge 0$ at the optimum.",
             show_eq(label(f"h(-{zl}) - h({zl})"), flip)),
        Step(f"So with ${xl}^2 = {yl}^2 = {zl} \\ge 0$ minimise a convex quadratic.",
             show_eq(label(f"h({zl})"), h_z)),
        *branch_steps,
    ]
    return steps, {"objective": objective, "balanced_objective": h, "flip": flip,
                   "reduced_objective": h_z, z.name: z, "stationary_point": z0,
                   "threshold": z_star}


def factor_penalty_direction() -> Derivation:
    r"""Derive the minimiser of objective (2) along one direction: soft-thresholding.

    A derivation, used in ``chapters/factor_penalty.md``, in the chapter's
    letters: the factors :math:`\alpha, \beta` and their product :math:`z`.
    Minimises
    :math:`f(\alpha, \beta) = (\sigma - \alpha\beta)^2 + \lambda (\alpha^2 + \beta^2)`:
    the balance :math:`\alpha^2 = \beta^2 = |z|` at fixed product
    (:func:`fixed_product_balance`), the sign argument (:math:`z \ge 0`), then
    the convex quadratic :math:`(\sigma - z)^2 + 2\lambda z` over :math:`z \ge 0`
    with both branches derived: :math:`z^* = \sigma - \lambda` if
    :math:`\sigma > \lambda`, and :math:`z^* = 0` if :math:`\sigma \le \lambda`;
    together :math:`z^* = (\sigma - \lambda)_+`.

    Returns
    -------
    Derivation
        ``result``: ``sigma``, ``lam``, ``objective``, ``balanced_objective``
        (``h(z)``), ``flip`` (``h(-z) - h(z)`` for ``z > 0``),
        ``reduced_objective`` (``h(z)`` on ``z >= 0``), ``z``,
        ``stationary_point``, ``threshold`` (:math:`\max(\sigma - \lambda, 0)`,
        the optimal :math:`\alpha^2 = \beta^2 = \alpha\beta`) and ``alpha``,
        ``beta`` (its square root).
    """
    alpha, beta = sp.symbols("alpha beta", real=True)
    z = sp.Symbol("z", real=True)
    steps, result = _penalised_direction(
        "Along one direction objective (2) penalises both factors.",
        (SIGMA - z) ** 2, LAMBDA, alpha, beta, z, LAMBDA,
        ("$\\sigma > \\lambda$", "$\\sigma \\le \\lambda$"))
    root = sp.sqrt(result["threshold"])
    steps.append(Step("The factors are the square roots: singular values below $\\lambda$ "
                      "are cut, the others shrunk by $\\lambda$.",
                      sp.Tuple(show_eq(label("\\alpha^*"), root),
                               show_eq(label("\\beta^*"), root))))
    result.update({"sigma": SIGMA, "lam": LAMBDA, "alpha": root, "beta": root})
    return Derivation("Objective (2), one direction", tuple(steps), result)


def weight_decay_direction() -> Derivation:
    r"""Derive the minimiser of the weight-decay variant along one direction.

    A derivation, used in ``chapters/factor_penalty.md``. The variant
    :math:`\|X - X A B^\top\|^2 + \lambda(\|A\|^2 + \|B\|^2)` decouples into
    :math:`f(a, b) = \sigma^2 (1 - a b)^2 + \lambda (a^2 + b^2)`. The same route
    as :func:`factor_penalty_direction`, with the product :math:`w = ab`, gives
    the balance :math:`a^2 = b^2` (so :math:`a = b` up to a common sign) and
    :math:`a^2 = w^* = (1 - \lambda/\sigma^2)_+`, both branches derived.

    Returns
    -------
    Derivation
        ``result``: as :func:`factor_penalty_direction`, with ``w`` in place of
        ``z``, ``threshold`` the optimal :math:`a^2 = b^2 = ab` and ``a``, ``b``
        its square root.
    """
    a, b = sp.symbols("a b", real=True)
    w = sp.Symbol("w", real=True)
    steps, result = _penalised_direction(
        "Along one direction the weight-decay variant penalises $a$ and $b$ themselves.",
        SIGMA**2 * (1 - w) ** 2, LAMBDA, a, b, w, LAMBDA,
        ("$\\sigma^2 > \\lambda$", "$\\sigma^2 \\le \\lambda$"))
    root = sp.sqrt(result["threshold"])
    steps.append(Step("The factors are equal, the square root of the threshold.",
                      sp.Tuple(show_eq(label("a^*"), root), show_eq(label("b^*"), root))))
    result.update({"sigma": SIGMA, "lam": LAMBDA, "a": root, "b": root})
    return Derivation("Weight decay, one direction", tuple(steps), result)


def factor_penalty_closed_form_check(a_squared: Any = None, b_squared: Any = None) -> Derivation:
    r"""Check the closed form (6) of objective (2) against the one-direction minimiser.

    A check, used in ``chapters/factor_penalty.md``. It does not derive the
    *structure* of the minimiser: that ``A = V \dMat(a)`` and
    ``B = V \dMat(b)`` share the right singular vectors of ``X`` is the
    chapter's theorem (proved there with von Neumann's trace inequality), and
    is taken here as given. Under that structure ``X A = U \dMat(\sigma a)``,
    so one direction has :math:`\alpha = \sigma a` and :math:`\beta = b`; sympy solves
    :math:`\sigma a = \sqrt{(\sigma - \lambda)_+}` and
    :math:`b = \sqrt{(\sigma - \lambda)_+}` (the minimiser of
    :func:`factor_penalty_direction`) for ``a`` and ``b``, and checks that
    their squares equal the claimed closed form on both branches
    (:math:`\lambda < \sigma` and :math:`\lambda \ge \sigma`). The product's
    singular value :math:`\sigma a b` is reported too:
    :math:`(\sigma - \lambda)_+`, soft-thresholding.

    Parameters
    ----------
    a_squared, b_squared : sympy expressions in ``SIGMA`` and ``LAMBDA``, optional
        The closed form to check; default the paper's (6),
        :math:`(1/\sigma)(1 - \lambda/\sigma)_+` and
        :math:`\sigma(1 - \lambda/\sigma)_+`. Pass e.g.
        ``SIGMA**2 * sp.Max(1 - LAMBDA / SIGMA, 0)`` for ``b_squared`` to watch
        the check fail.

    Returns
    -------
    Derivation
        ``kind == "check"``; ``result``: ``sigma``, ``lam``, ``a``, ``b``,
        ``a_squared``, ``b_squared`` (from the one-direction minimiser),
        ``paper_a_squared``, ``paper_b_squared`` (the closed form checked),
        ``matches_paper`` and ``holds`` (bool, both branches) and
        ``singular_value`` (:math:`\sigma a b`).
    """
    direction = factor_penalty_direction()
    root = direction["alpha"]
    a_sym = sp.Symbol("a", positive=True)
    b_sym = sp.Symbol("b", positive=True)
    a = sp.solve(sp.Eq(SIGMA * a_sym, root), a_sym)
    b = sp.solve(sp.Eq(b_sym, root), b_sym)
    if len(a) != 1 or len(b) != 1:
        raise RuntimeError(f"expected one solution each, got {a}, {b}")
    a, b = a[0], b[0]
    a_sq, b_sq = sp.simplify(a**2), sp.simplify(b**2)
    paper_a_sq = sp.Max(1 - LAMBDA / SIGMA, 0) / SIGMA if a_squared is None else as_expression(a_squared, "a_squared")
    paper_b_sq = SIGMA * sp.Max(1 - LAMBDA / SIGMA, 0) if b_squared is None else as_expression(b_squared, "b_squared")
    eps = sp.Symbol("epsilon", positive=True)
    delta = sp.Symbol("delta", nonnegative=True)
    matches = True
    for lam_value in (SIGMA - eps, SIGMA + delta):
        for ours, paper in ((a_sq, paper_a_sq), (b_sq, paper_b_sq)):
            diff = sp.simplify(ours.subs(LAMBDA, lam_value) - paper.subs(LAMBDA, lam_value))
            matches = matches and diff == 0
    singular_value = sp.simplify(SIGMA * a * b)
    steps = (
        Step("Taken from the theorem, not derived here: $A = V \\dMat(a)$, $B = V \\dMat(b)$, "
             "so $X A = U \\dMat(\\sigma a)$ and one direction has $\\alpha = \\sigma a$, "
             "$\\beta = b$; its minimiser is",
             sp.Tuple(show_eq(label("\\alpha^*"), root), show_eq(label("\\beta^*"), root))),
        Step("Solve $\\sigma a = \\alpha^*$ and $b = \\beta^*$.",
             sp.Tuple(show_eq("a", a), show_eq("b", b))),
        Step("Their squares, which on both branches "
             + ("equal" if matches else "do NOT equal")
             + " the closed form checked.",
             sp.Tuple(show_eq(label("a^2"), a_sq), show_eq(label("b^2"), b_sq))),
        Step("The closed form checked.",
             sp.Tuple(show_eq(label("a^2"), paper_a_sq), show_eq(label("b^2"), paper_b_sq))),
        Step("The singular value of $X A B^\\top$ in this direction: soft-thresholding at "
             "$\\lambda$.", show_eq(label("\\sigma a b"), singular_value)),
    )
    return Derivation(
        "Objective (2): the closed form", steps,
        {"sigma": SIGMA, "lam": LAMBDA, "a": a, "b": b, "a_squared": a_sq,
         "b_squared": b_sq, "paper_a_squared": paper_a_sq, "paper_b_squared": paper_b_sq,
         "matches_paper": matches, "singular_value": singular_value, "holds": bool(matches)},
        kind="check",
    )


def factor_penalty_rotation_check(R: sp.MatrixBase | None = None) -> Derivation:
    r"""Check that ``(A R, B R)`` with ``R`` orthogonal leaves objective (2) unchanged.

    A check, used in ``chapters/factor_penalty.md`` (uniqueness up to
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
    R = rotation_matrix() if R is None else square_matrix(R, "R")
    if R.shape != (2, 2):
        raise ValueError(f"R must be 2 x 2, got {R.shape}")
    X = symbol_matrix("x", 2, 2, real=True)
    A = symbol_matrix("a", 2, 2, real=True)
    B = symbol_matrix("b", 2, 2, real=True)


    user = sp.simplify(sp.expand(sq_norm(X * A * R) - sq_norm(X * A)))
    item = sp.simplify(sp.expand(sq_norm(B * R) - sq_norm(B)))
    product = simplify_matrix((A * R) * (B * R).T - A * B.T, residual=True)
    holds = user == 0 and item == 0 and is_zero_matrix(product)
    steps = (
        Step("The transformation applied to both factors.", show_eq("R", R)),
        Step("Change of the user-side penalty.",
             show_eq(label("\\|X A R\\|^2 - \\|X A\\|^2"), user)),
        Step("Change of the item-side penalty.", show_eq(label("\\|B R\\|^2 - \\|B\\|^2"), item)),
        Step("Change of the product.", show_eq(label("A R (B R)^{\\top} - A B^{\\top}"), product)),
    )
    return Derivation(
        "Objective (2) is blind to rotations", steps,
        {"R": R, "user_penalty_change": user, "item_penalty_change": item,
         "product_change": product, "holds": bool(holds)},
        kind="check",
    )


def factor_penalty_balance() -> Derivation:
    r"""Derive which diagonal rescaling objective (2) prefers: the balanced one.

    A derivation, used in ``chapters/factor_penalty.md``. Rescaling column j
    of ``X A`` by ``d`` and of ``B`` by ``1/d`` keeps the product but turns that
    column's penalty into :math:`c(\rho) = \rho x + y/\rho` with
    :math:`\rho = d^2`, :math:`x = \|(XA)_{:j}\|^2`, :math:`y = \|B_{:j}\|^2`.
    Solving the derivative gives :math:`\rho^* = \sqrt{y/x}`; there the two
    terms are equal (:math:`\rho x = y/\rho = \sqrt{xy}`, the balance), and the
    change from ``d = 1`` factors as :math:`(\rho - 1)(\rho x - y)/\rho`: zero
    only for :math:`\rho = 1` or :math:`\rho = y/x` (the rescaling that swaps
    the two norms), so every other diagonal gauge changes the penalty, and the
    balanced column (``x = y``) is its minimum.

    Returns
    -------
    Derivation
        ``result``: ``rho``, ``x``, ``y``, ``penalty``, ``minimiser``,
        ``second_derivative``, ``user_term``, ``item_term`` (the two terms at
        the minimiser), ``minimum`` and ``change`` (factored).
    """
    rho, x, y = sp.symbols("rho x y", positive=True)
    penalty = rho * x + y / rho
    d_rho = sp.diff(penalty, rho)
    solutions = sp.solve(sp.Eq(d_rho, 0), rho)
    if len(solutions) != 1:
        raise RuntimeError(f"expected one stationary point, got {solutions}")
    rho_star = solutions[0]
    d2 = sp.simplify(sp.diff(penalty, rho, 2).subs(rho, rho_star))
    user_term = sp.simplify(rho_star * x)
    item_term = sp.simplify(y / rho_star)
    minimum = sp.simplify(penalty.subs(rho, rho_star))
    change = sp.factor(penalty - penalty.subs(rho, 1))
    steps = (
        Step("Rescale one latent column by $d$ on the user side and $1/d$ on the item side; "
             "with $\\rho = d^2$ the penalty of that column is",
             show_eq(label("c(\\rho)"), penalty)),
        Step("Differentiate and solve for $\\rho > 0$.", show_eq(label("\\rho^*"), rho_star)),
        Step("The second derivative there is positive.", sp.Gt(d2, 0, evaluate=False)),
        Step("At the optimum the two terms are equal: the balance.",
             sp.Tuple(show_eq(label("\\rho^* x"), user_term),
                      show_eq(label("y / \\rho^*"), item_term))),
        Step("The smallest penalty.", show_eq(label("c(\\rho^*)"), minimum)),
        Step("The change from $d = 1$ factors; it vanishes only if $\\rho = 1$ or "
             "$\\rho x = y$.",
             show_eq(label("c(\\rho) - c(1)"), change)),
    )
    return Derivation(
        "Objective (2) fixes the scale: balance", steps,
        {"rho": rho, "x": x, "y": y, "penalty": penalty, "minimiser": rho_star,
         "second_derivative": d2, "user_term": user_term, "item_term": item_term,
         "minimum": minimum, "change": change},
    )


def factor_penalty_vs_product_family() -> Derivation:
    r"""Derive what objective (2) shares with the family of minimisers of objective (1).

    A derivation, used in ``chapters/factor_penalty.md``. Along one direction a
    member of the family of (1) with diagonal gauge ``d`` has squared column
    norms :math:`\sigma^2 s\,\rho` (users, the rows of ``X A D``) and :math:`s/\rho`
    (items, the rows of ``B D^{-1}``), where :math:`\rho = d^2` and
    :math:`s = \sigma^2/(\sigma^2 + \lambda_1)`. Imposing the balance of
    objective (2) (equal norms) and solving gives :math:`\rho = 1/\sigma`, with
    the weight :math:`\sigma s` on both sides, while (2) itself gives a kept
    direction the weight :math:`\sigma - \lambda_2` (from
    :func:`factor_penalty_direction`); the derivative of their ratio in
    :math:`\sigma` is not identically zero, so the directions are weighted
    differently (so the cosines generally differ). Solving instead for the
    gauge that reproduces the item columns of (2),
    :math:`1/\rho = (\sigma - \lambda_2)/s`, leaves the user
    columns off by the square of the ratio of the two products' singular
    values, :math:`\sigma s / (\sigma - \lambda_2)`.

    Returns
    -------
    Derivation
        ``result``: ``sigma``, ``lam1``, ``lam2``, ``rho``, ``shrinkage`` (``s``),
        ``user_norm2``, ``item_norm2``, ``balanced_gauge`` (:math:`\rho`),
        ``balanced_weight``, ``factor_weight``, ``weight_ratio``
        (:math:`w_2 / w_{bal}`), ``ratio_derivative``,
        ``item_matching_inverse_gauge`` (:math:`1/\rho`), ``user_mismatch``
        (user column norm of that member over that of (2)), ``product_ratio``
        and ``mismatch_is_product_ratio_squared`` (bool).
    """
    lam1 = sp.Symbol("lambda_1", positive=True)
    lam2 = sp.Symbol("lambda_2", positive=True)
    rho = sp.Symbol("rho", positive=True)
    v = sp.Symbol("v", positive=True)  # 1/rho
    s = SIGMA**2 / (SIGMA**2 + lam1)
    user = SIGMA**2 * s * rho
    item = s / rho
    balanced = sp.solve(sp.Eq(user, item), rho)
    if len(balanced) != 1:
        raise RuntimeError(f"expected one balanced gauge, got {balanced}")
    rho_bal = balanced[0]
    weight_bal = sp.factor(sp.simplify(user.subs(rho, rho_bal)))
    direction = factor_penalty_direction()
    weight_2 = direction["stationary_point"].subs(direction["lam"], lam2)  # a kept direction
    ratio = sp.simplify(weight_2 / weight_bal)
    ratio_derivative = sp.factor(sp.diff(ratio, SIGMA))
    if not certainly_nonzero(ratio_derivative):
        raise RuntimeError(f"cannot show the weight ratio varies with sigma: {ratio_derivative}")
    matching = sp.solve(sp.Eq(item.subs(rho, 1 / v), weight_2), v)
    if len(matching) != 1:
        raise RuntimeError(f"expected one item-matching gauge, got {matching}")
    v_item = weight_2 * sp.factor(matching[0] / weight_2)  # the kept weight, factored out
    mismatch = sp.factor(sp.simplify(user.subs(rho, 1 / v_item) / weight_2))
    product_ratio = SIGMA * s / weight_2
    squared = sp.simplify(mismatch - product_ratio**2) == 0
    steps = (
        Step("A member of the family of objective (1) with gauge $d$, one direction, "
             "$\\rho = d^2$: the squared norms of the user and item columns.",
             sp.Tuple(show_eq(label("\\|(XAD)_i\\|^2"), user),
                      show_eq(label("\\|(BD^{-1})_i\\|^2"), item))),
        Step("Impose the balance of objective (2), equal norms, and solve for $\\rho$.",
             show_eq(label("\\rho_{\\mathrm{bal}}"), rho_bal)),
        Step("Both columns then carry the weight", show_eq(label("w_{\\mathrm{bal}}"), weight_bal)),
        Step("Objective (2) itself gives a kept direction, $\\sigma > \\lambda_2$, the weight",
             show_eq(label("w_2"), weight_2)),
        Step("The ratio of the two weights changes with $\\sigma$: the directions are "
             "weighted differently, so the cosines generally differ.",
             show_eq(label("\\frac{d}{d\\sigma} \\frac{w_2}{w_{\\mathrm{bal}}}"), ratio_derivative)),
        Step("Instead solve for the gauge whose item columns are those of (2).",
             show_eq(label("1 / \\rho_{\\mathrm{item}}"), v_item)),
        Step("The user columns are then off by a factor, "
             + ("the square" if squared else "NOT the square")
             + " of the ratio of the two products' singular values $\\sigma s$ and "
             "$\\sigma - \\lambda_2$.",
             show_eq(label("\\|(XAD)_i\\|^2 / w_2"), mismatch)),
    )
    return Derivation(
        "Objective (2) against the family of objective (1)", steps,
        {"sigma": SIGMA, "lam1": lam1, "lam2": lam2, "rho": rho, "shrinkage": s,
         "user_norm2": user, "item_norm2": item, "balanced_gauge": rho_bal,
         "balanced_weight": weight_bal, "factor_weight": weight_2, "weight_ratio": ratio,
         "ratio_derivative": ratio_derivative, "item_matching_inverse_gauge": v_item,
         "user_mismatch": mismatch, "product_ratio": product_ratio,
         "mismatch_is_product_ratio_squared": bool(squared)},
    )
