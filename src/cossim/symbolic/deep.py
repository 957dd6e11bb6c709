"""Derivations and checks of ``chapters/deep_models.md`` ("Deep models: the same freedom")."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sympy as sp

from cossim.symbolic._helpers import (
    as_expression,
    is_zero_matrix,
    label,
    show_eq,
    symbol_matrix,
)
from cossim.symbolic.core import (
    Derivation,
    Step,
)

__all__ = [
    "relu_network_rescaling_check",
    "relu_rescaling_check",
    "weight_decay_unit_balance",
]


def _relu(z: Any) -> sp.Piecewise:
    """The rectifier as a Piecewise, :math:`\\max(0, z)`, so that sympy can evaluate cases."""
    return sp.Piecewise((z, z > 0), (0, True))


def relu_rescaling_check(d: Any = None) -> Derivation:
    r"""Check :math:`\mathrm{relu}(d z) = d\,\mathrm{relu}(z)` for ``d > 0``, by cases.

    A check, used in ``chapters/deep_models.md``. With
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
    d = sp.Symbol("d", positive=True) if d is None else as_expression(d, "d")
    z = sp.Symbol("z", real=True)
    eps = sp.Symbol("epsilon", positive=True)
    delta = sp.Symbol("delta", nonnegative=True)
    difference = _relu(d * z) - d * _relu(z)
    positive = sp.simplify(difference.subs(z, eps))
    nonpositive = sp.simplify(difference.subs(z, -delta))
    holds = positive == 0 and nonpositive == 0
    lhs = label("\\mathrm{relu}(d z) - d\\,\\mathrm{relu}(z)")
    steps = (
        Step("The rectifier, written by cases.", show_eq(label("\\mathrm{relu}(z)"), _relu(z))),
        Step("Case $z = \\epsilon > 0$.", show_eq(lhs, positive)),
        Step("Case $z = -\\delta \\le 0$.", show_eq(lhs, nonpositive)),
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

    A check, used in ``chapters/deep_models.md``. The network
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
    d = [as_expression(value, "d") for value in d]
    if len(d) != 2:
        raise ValueError(f"d must have two entries (one per hidden unit), got {len(d)}")
    outgoing = [1 / value for value in d] if outgoing is None else [as_expression(v, "outgoing") for v in outgoing]
    if len(outgoing) != 2:
        raise ValueError(f"outgoing must have two entries, got {len(outgoing)}")
    x = sp.Matrix([sp.symbols("x_1 x_2", real=True)])
    W = symbol_matrix("w", 2, 2, real=True)
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
    holds = is_zero_matrix(change) and all(case == 0 for case in cases)
    f_max = network(pre, v, relu=lambda t: sp.Max(0, t))
    f_z = network(sp.Matrix([z_sym]), v, relu=lambda t: sp.Max(0, t))
    steps = (
        Step("A 2-2-1 network: hidden unit $j$ has incoming weights $w_{1j}, w_{2j}$, "
             "bias $b_j$, pre-activation $z_j$ and outgoing weight $v_j$.",
             show_eq(label("f(x)"), f_z)),
        Step("The pre-activations.", sp.Tuple(*(show_eq(z_sym[j], pre[j]) for j in range(2)))),
        Step("Scale the incoming weights and bias of unit $j$ by $d_j$ and its outgoing "
             "weight by the factor shown.",
             sp.Tuple(show_eq(label("D"), D),
                      show_eq(label("v^{\\prime}"), sp.ImmutableMatrix(v_new)))),
        Step("The new pre-activations minus $d_j z_j$, simplified.",
             show_eq(label("x W D + b D - z D"), change)),
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

    A derivation, used in ``chapters/deep_models.md``. Rescaling a hidden
    unit by ``d > 0`` turns its squared incoming norm ``a`` (weights and
    bias) into :math:`d^2 a` and its squared outgoing norm ``o`` into
    :math:`o / d^2`, so the weight-decay penalty on the orbit is
    :math:`g(d) = d^2 a + o / d^2`. Sympy solves :math:`g'(d) = 0` for
    ``d > 0`` (one root, with :math:`d^4 = o/a`), shows the second derivative
    is positive there, finds the two terms equal at the root (the balance,
    both :math:`\sqrt{ao}`), and solves :math:`g'(1) = 0` for ``o``: the
    trained point itself is stationary on its orbit only if ``o = a``.
    (``o``, not ``b``: in the chapter ``b`` is a bias.)

    Returns
    -------
    Derivation
        ``result``: ``d``, ``a``, ``o``, ``penalty``, ``derivative``,
        ``minimiser``, ``fourth_power`` (:math:`d^{*4}`),
        ``second_derivative``, ``incoming`` and ``outgoing`` (the two terms at
        the minimiser), ``minimum``, ``slope_at_one`` (:math:`g'(1)`) and
        ``stationary_at_one`` (the solution ``o`` of :math:`g'(1) = 0`).
    """
    d = sp.Symbol("d", positive=True)
    a, o = sp.symbols("a o", positive=True)
    penalty = d**2 * a + o / d**2
    derivative = sp.diff(penalty, d)
    roots = sp.solve(sp.Eq(derivative, 0), d)
    if len(roots) != 1:
        raise RuntimeError(f"expected one positive stationary point, got {roots}")
    d_star = roots[0]
    fourth = sp.simplify(d_star**4)
    second = sp.simplify(sp.diff(penalty, d, 2).subs(d, d_star))
    incoming = sp.simplify(d_star**2 * a)
    outgoing = sp.simplify(o / d_star**2)
    minimum = sp.simplify(penalty.subs(d, d_star))
    slope = sp.factor(derivative.subs(d, 1))
    at_one = sp.solve(sp.Eq(slope, 0), o)
    if len(at_one) != 1:
        raise RuntimeError(f"expected one solution of g'(1) = 0, got {at_one}")
    steps = (
        Step("On the orbit of one hidden unit, with squared incoming norm $a$ and outgoing "
             "norm $o$, the penalty is", show_eq(label("g(d)"), penalty)),
        Step("Differentiate.", show_eq(label("g^{\\prime}(d)"), derivative)),
        Step("Solve $g^{\\prime}(d) = 0$ for $d > 0$: one root, whose fourth power is "
             "the ratio of the norms.",
             sp.Tuple(show_eq(label("d^*"), d_star), show_eq(label("(d^*)^4"), fourth))),
        Step("The second derivative there is positive: a minimum.",
             sp.Gt(second, 0, evaluate=False)),
        Step("At the minimum the rescaled incoming and outgoing norms are equal.",
             sp.Tuple(show_eq(label("(d^*)^2 a"), incoming), show_eq(label("o / (d^*)^2"), outgoing))),
        Step("The smallest penalty on the orbit.", show_eq(label("g(d^*)"), minimum)),
        Step("The trained unit is the point $d = 1$ of its orbit; solve $g^{\\prime}(1) = 0$ "
             "for $o$.", sp.Tuple(show_eq(label("g^{\\prime}(1)"), slope), show_eq("o", at_one[0]))),
    )
    return Derivation(
        "Weight decay balances a hidden unit", steps,
        {"d": d, "a": a, "o": o, "penalty": penalty, "derivative": derivative,
         "minimiser": d_star, "fourth_power": fourth, "second_derivative": second,
         "incoming": incoming, "outgoing": outgoing, "minimum": minimum,
         "slope_at_one": slope, "stationary_at_one": at_one[0]},
    )
