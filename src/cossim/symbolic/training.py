"""Derivations and checks of ``chapters/training_dynamics.md`` ("What training picks")."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sympy as sp

from cossim.symbolic._helpers import (
    as_expression,
    check_size,
    is_zero_matrix,
    label,
    show_eq,
    sq_norm,
    symbol_matrix,
)
from cossim.symbolic.core import (
    LAMBDA,
    Derivation,
    Step,
    book_latex,
)

__all__ = [
    "TRAINING_OBJECTIVES",
    "balanced_minimizer_gauge",
    "factor_penalty_rescaling_check",
    "imbalance_conservation_check",
    "imbalance_dynamics",
    "imbalance_gauge_one_direction",
]


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

    A derivation, used in ``chapters/training_dynamics.md`` ("What training
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
    generic gradients :math:`P, Q`, and derives its coefficients of
    :math:`\eta` (the derivative in :math:`\eta` at 0) and of :math:`\eta^2`
    (half the second derivative), checking that no higher power is left:
    :math:`C_{t+1} - C_t = -\eta (A^\top P + P^\top A - B^\top Q - Q^\top B)
    + \eta^2 (P^\top P - Q^\top Q)`. Its first-order part
    :math:`\eta\, \partial_\eta (C_{t+1} - C_t)|_{\eta = 0}`, with the
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
        change of :math:`C` in one step with generic gradients ``P``, ``Q``,
        expanded), ``second_order`` (its :math:`\eta^2` term, derived),
        ``first_order`` (its first-order part, derived, with the objective's
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
        raise RuntimeError(f"the flow derivative {flow} is not -(N + N^\\top) for N = {N}")
    # One step with generic gradients P, Q, expanded; its Taylor coefficients in eta
    # are derived by differentiation (first: d/d eta at 0; second: half of d^2/d eta^2).
    step = sp.expand(imbalance(A - eta * P, B - eta * Q) - imbalance(A, B)).doit()
    rate = sp.expand(step.diff(eta)).doit()
    first_coefficient = sp.expand(rate.subs(eta, 0)).doit()
    second_coefficient = sp.expand(rate.diff(eta) / 2).doit()
    second_order = sp.expand(eta**2 * second_coefficient).doit()
    # The step is a polynomial of degree two in eta: nothing is left beyond the two terms.
    if not _matrix_is_zero(sp.expand(step - eta * first_coefficient - second_order).doit()):  # pragma: no cover
        raise RuntimeError(f"the step {step} has terms beyond second order in eta")
    first_order = sp.expand(eta * first_coefficient.subs({P: grad_A, Q: grad_B})).doit()
    conserved = _matrix_is_zero(flow)

    names = {"product": "(1)", "factor": "(2)", "weight_decay": "weight decay"}
    formulas = {
        "product": "\\|X - X A B^\\top\\|^2 + \\lambda \\|A B^\\top\\|^2",
        "factor": "\\|X - X A B^\\top\\|^2 + \\lambda (\\|X A\\|^2 + \\|B\\|^2)",
        "weight_decay": "\\|X - X A B^\\top\\|^2 + \\lambda (\\|A\\|^2 + \\|B\\|^2)",
    }
    # The step, displayed by powers of eta from the two derived coefficients.
    by_powers = sp.MatAdd(sp.MatMul(eta, first_coefficient, evaluate=False),
                          sp.MatMul(eta**2, second_coefficient, evaluate=False), evaluate=False)
    steps = (
        Step(f"Sympy differentiates $L = {formulas[objective]}$, written as a sum of traces, "
             "with respect to $A$ ...", show_eq(label("\\nabla_A L"), grad_A)),
        Step("... and with respect to $B$.", show_eq(label("\\nabla_B L"), grad_B)),
        Step("The matrix that decides everything below.",
             show_eq(label("N = A^{\\top} \\nabla_A L - (\\nabla_B L)^{\\top} B"), N)),
        Step("The product rule for the imbalance $C = A^\\top A - B^\\top B$ along any path.",
             show_eq(label("\\dot C"), product_rule)),
        Step("Gradient flow: substitute $\\dot A = -\\nabla_A L$ and $\\dot B = -\\nabla_B L$.",
             show_eq(label("\\dot C"), flow)),
        Step("One step of gradient descent with step $\\eta$ and gradients $P$, $Q$: sympy "
             "expands the change and derives its coefficients of $\\eta$ (the derivative at "
             "$\\eta = 0$) and of $\\eta^2$ (half the second derivative); no higher power occurs.",
             show_eq(label("C_{t+1} - C_t"), by_powers)),
        Step("Its first-order part, with the gradients of this objective.",
             show_eq(label("\\eta \\, \\partial_\\eta (C_{t+1} - C_t) \\big|_{\\eta = 0}"),
                     first_order)),
    )
    return Derivation(
        f"How training moves the imbalance, objective {names[objective]}", steps,
        {"X": X, "A": A, "B": B, "lam": lam, "eta": eta, "loss": loss, "grad_A": grad_A,
         "grad_B": grad_B, "N": N, "product_rule": product_rule, "flow": flow, "step": step,
         "second_order": second_order, "first_order": first_order, "conserved": bool(conserved),
         "first_order_vanishes": _matrix_is_zero(first_order)},
    )


def imbalance_conservation_check(objective: str = "product", n: int = 2, p: int = 2,
                                 k: int = 2) -> Derivation:
    r"""Check entry by entry that gradient flow on (1) conserves :math:`A^\top A - B^\top B`.

    A check, used in ``chapters/training_dynamics.md``, independent of the
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
    n, p, k = (check_size(value, name) for value, name in ((n, "n"), (p, "p"), (k, "k")))
    X = symbol_matrix("x", n, p, real=True)
    A = symbol_matrix("a", p, k, real=True)
    B = symbol_matrix("b", p, k, real=True)
    lam = LAMBDA


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
    holds = is_zero_matrix(C_dot)
    matches = is_zero_matrix((C_dot - expected).applyfunc(sp.expand))
    steps = (
        Step("Explicit factors.", sp.Tuple(show_eq("A", A), show_eq("B", B))),
        Step("Their imbalance.", show_eq(label("C = A^{\\top} A - B^{\\top} B"), C)),
        Step("The chain rule over all entries of $A$ and $B$, with every partial derivative "
             "of the loss taken by sympy and the flow $\\dot\\theta = -\\partial L / "
             "\\partial \\theta$, expanded.", show_eq(label("\\dot C"), C_dot)),
    )
    names = {"product": "(1)", "factor": "(2)", "weight_decay": "weight decay"}
    return Derivation(
        f"Entry by entry: the imbalance, objective {names[objective]}", steps,
        {"X": X, "A": A, "B": B, "loss": loss, "C_dot": C_dot, "expected": expected,
         "matches": bool(matches), "holds": bool(holds)},
        kind="check",
    )


def _expands_to(product: Any, target: Any) -> tuple[Any, Any, bool]:
    """Expand a matrix expression and check it against ``target``.

    Returns the expansion, the expanded difference from ``target`` and whether
    that difference is the zero matrix.
    """
    expansion = sp.expand(product).doit()
    difference = sp.expand(expansion - target).doit()
    return expansion, difference, _matrix_is_zero(difference)


def balanced_minimizer_gauge() -> Derivation:
    r"""Derive that a balanced minimiser of (1) is the symmetric split up to rotation.

    A derivation whose first step is a check, used in
    ``chapters/training_dynamics.md``. Every minimiser
    of (1) is :math:`(A_{(1)} G, B_{(1)} G^{-\top})` with
    :math:`A_{(1)}^\top A_{(1)} = B_{(1)}^\top B_{(1)} = S = \mathrm{diag}(s_i)`,
    so its imbalance is :math:`G^\top S G - G^{-1} S G^{-\top}`. Sympy first
    checks the reduction: it expands :math:`G^{-1} (P S P - S) G^{-\top}` with
    :math:`P = G G^\top` (matrix symbols of any size) and compares it with that
    imbalance (``reduction_holds``), so a minimiser is balanced if and only if
    :math:`P S P = S`. Then it derives: for ``k = 2``, with
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
        expansion of :math:`G^{-1}(PSP - S)G^{-\top}`), ``reduction_holds``
        (bool: it equals :math:`G^\top S G - G^{-1} S G^{-\top}`), ``s`` (the symbols
        :math:`s_1, s_2`), ``P`` (the symmetric unknown), ``solutions`` (all
        solutions, as matrices), ``positive_definite`` (those that are) and
        ``orthogonal_gauge`` (bool: the only positive-definite solution is
        the identity).
    """
    k = sp.Symbol("k", integer=True, positive=True)
    G = sp.MatrixSymbol("G", k, k)
    S_mat = sp.MatrixSymbol("S", k, k)
    P_mat = G * G.T
    # The imbalance of the minimiser (A_(1) G, B_(1) G^-T), from its definition.
    minimiser_imbalance = G.T * S_mat * G - G.I * S_mat * G.I.T
    imbalance, difference, reduction_holds = _expands_to(
        G.I * (P_mat * S_mat * P_mat - S_mat) * G.T.I, minimiser_imbalance)
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
        Step("A check: with $P = G G^\\top$, sympy expands $G^{-1} (P S P - S) G^{-\\top}$ and "
             "compares it with the imbalance $G^\\top S G - G^{-1} S G^{-\\top}$ of the minimiser "
             "$(A_{(1)} G, B_{(1)} G^{-\\top})$; if they agree, it is balanced exactly when "
             "$P S P = S$.",
             sp.Tuple(show_eq(label("G^{-1} (P S P - S) G^{-\\top}"), imbalance),
                      show_eq(label("G^{-1} (P S P - S) G^{-\\top} - (G^{\\top} S G - G^{-1} S "
                                    "G^{-\\top})"), difference))),
        Step("Two latent dimensions: the unknown symmetric $P$ and the diagonal $S$.",
             sp.Tuple(show_eq("P", P), show_eq("S", S))),
        Step("Sympy solves $P S P = S$.", sp.Tuple(*solutions)),
        Step("Only one solution is positive definite, as $P = G G^\\top$ must be.",
             sp.Tuple(*positive)),
    )
    return Derivation(
        "A balanced minimiser of (1) has an orthogonal gauge", steps,
        {"G": G, "S": S_mat, "imbalance": imbalance, "reduction_holds": bool(reduction_holds),
         "s": (s1, s2), "P": P,
         "solutions": tuple(solutions), "positive_definite": tuple(positive),
         "orthogonal_gauge": bool(orthogonal)},
    )


def imbalance_gauge_one_direction() -> Derivation:
    r"""Derive the gauge that a conserved imbalance :math:`\delta` selects in one direction.

    A derivation, used in ``chapters/training_dynamics.md``. Along one
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
             sp.Tuple(show_eq(label("u - v"), delta), show_eq(label("u v"), s**2))),
        Step("Sympy solves; the root with $u, v > 0$ is",
             sp.Tuple(show_eq("u", u_star), show_eq("v", v_star))),
        Step("The gauge $d$ of $a = \\sqrt{s} d$, $b = \\sqrt{s} / d$:",
             show_eq(label("d^{2} = u / s"), gauge_sq)),
        Step("For a small imbalance:", show_eq(label("d^{2}"), series + sp.O(delta**3))),
        Step("A balanced start, $\\delta = 0$, gives the symmetric split.",
             show_eq(label("d^{2}\\big|_{\\delta = 0}"), balanced)),
    )
    return Derivation(
        "The conserved imbalance picks the gauge of one direction", steps,
        {"delta": delta, "s": s, "u": u_star, "v": v_star, "gauge_squared": gauge_sq,
         "series": series, "balanced": balanced},
    )


def factor_penalty_rescaling_check(power: Any = sp.Rational(1, 2)) -> Derivation:
    r"""Check that rescaling the data maps the minimisers of (2) as :math:`(\sqrt c A, B/\sqrt c)`.

    A check, used in ``chapters/training_dynamics.md`` (why objective (2) may
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
    power = as_expression(power, "power")
    c = sp.Symbol("c", positive=True)
    lam = LAMBDA
    X = symbol_matrix("x", 2, 2, real=True)
    A = symbol_matrix("a", 2, 2, real=True)
    B = symbol_matrix("b", 2, 2, real=True)


    A_c, B_c, X_c, lam_c = c**power * A, c ** (-power) * B, X / c, lam / c
    fit = sp.factor(sp.simplify(sp.expand(
        sq_norm(X_c - X_c * A_c * B_c.T) - sq_norm(X - X * A * B.T) / c**2)))
    user = sp.factor(sp.simplify(lam_c * sq_norm(X_c * A_c) - lam * sq_norm(X * A) / c**2))
    item = sp.factor(sp.simplify(lam_c * sq_norm(B_c) - lam * sq_norm(B) / c**2))
    difference = sp.simplify(fit + user + item)
    holds = fit == 0 and user == 0 and item == 0
    steps = (
        Step("The fit term on the rescaled data $X / c$ at $(c^{q} A, c^{-q} B)$, minus the "
             "original divided by $c^2$: the product $A B^\\top$ does not see $q$.",
             show_eq(label("\\|X/c - (X/c) c^{q} A (c^{-q} B)^{\\top}\\|^2 - \\|X - X A B^{\\top}\\|^2 / c^2"),
                 fit)),
        Step("The user penalty, with weight $\\lambda / c$, minus the original divided by $c^2$.",
             show_eq(label("(\\lambda/c) \\|(X/c) c^{q} A\\|^2 - \\lambda \\|X A\\|^2 / c^2"), user)),
        Step("The item penalty, likewise.",
             show_eq(label("(\\lambda/c) \\|c^{-q} B\\|^2 - \\lambda \\|B\\|^2 / c^2"), item)),
    )
    return Derivation(
        f"Rescaling the data for objective (2), $q = {book_latex(power)}$", steps,
        {"c": c, "power": power, "fit_difference": fit, "user_difference": user,
         "item_difference": item, "difference": difference, "holds": bool(holds)},
        kind="check",
    )
