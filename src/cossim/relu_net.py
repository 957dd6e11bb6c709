r"""A small ReLU autoencoder in numpy, and the rescaling that leaves its function unchanged.

Used in ``chapters/deep_models.md`` ("Deep models: the same freedom"). The
network maps a user's row of interactions ``x_u`` (length ``p``) through
``L - 1`` hidden ReLU layers to a reconstruction of the same row:

.. math::

    h_0 = x_u, \qquad h_l = \mathrm{relu}(h_{l-1} W_l + b_l) \;(1 \le l < L),
    \qquad \hat x_u = h_{L-1} W_L + b_L ,

with a linear output layer. It is trained on

.. math::

    \frac{1}{n} \sum_u \lVert y_u - \hat x_u \rVert^2
    + \lambda \sum_{l=1}^{L} \bigl( \lVert W_l \rVert_F^2 + \lVert b_l \rVert^2 \bigr),

the mean (over users) squared reconstruction error plus weight decay on every
parameter (``y_u = x_u`` for an autoencoder), by full-batch gradient descent
or Adam with analytic gradients (:func:`_loss_and_gradients`).

**The symmetry.** Because :math:`\mathrm{relu}(d z) = d\,\mathrm{relu}(z)` for
``d > 0``, multiplying the incoming weights and the bias of hidden unit ``j``
of layer ``l`` (column ``j`` of ``W_l``, entry ``j`` of ``b_l``) by ``d_j > 0``
and its outgoing weights (row ``j`` of ``W_{l+1}``) by ``1 / d_j`` changes no
output of the network (:func:`rescale_hidden_units`). The squared-error term
cannot see it; weight decay can, and is smallest on each such orbit when the
unit is *balanced*, ``||w_in||^2 + b^2 = ||w_out||^2`` (:func:`unit_norms`,
:func:`balance_hidden_units`).

**Item embeddings.** A one-hot input ``e_i`` gives the first hidden layer the
pre-activation ``e_i W_1 + b_1``: row ``i`` of ``W_1`` is item ``i``'s entry in
an embedding table, exactly what an embedding layer of a deep recommender
looks up, and a user's pre-activation is the sum of the rows of the items
they interacted with. :func:`item_embeddings` returns these rows (or, with
``side="output"``, the columns of the last weight matrix, the analogue of the
item factor ``B`` of the linear models). Under the rescaling ``W_1 -> W_1 D``
every row is multiplied by the same diagonal ``D``: the diagonal gauge of
``chapters/gauge_freedom.md``, with ``D`` now restricted to positive entries.

Import flow: this module imports only :mod:`numpy` and :mod:`cossim._validation`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cossim._util import adam_update
from cossim._validation import (
    as_generator,
    as_matrix,
    check_choice,
    check_count,
    check_instance,
    check_nonnegative,
    check_positive,
    check_rank,
)

__all__ = [
    "ReluNetParams",
    "ReluNetResult",
    "balance_hidden_units",
    "hidden_representations",
    "init_relu_net",
    "item_embeddings",
    "relu_net_forward",
    "relu_net_loss",
    "rescale_hidden_units",
    "train_relu_net",
    "unit_norms",
]

OPTIMIZERS = ("adam", "gd")
#: Default step sizes of :func:`train_relu_net`, by optimizer.
DEFAULT_LR = {"adam": 1e-3, "gd": 1e-2}


# --------------------------------------------------------------------------- the parameters


@dataclass(frozen=True, eq=False)
class ReluNetParams:
    """The weights and biases of a ReLU network with a linear output layer.

    Returned by :func:`init_relu_net` and :func:`train_relu_net`. Layer ``l`` (``1 <= l <= L``, as in
    the text) has weights ``weights[l - 1]`` of shape ``(sizes[l - 1], sizes[l])``
    and bias ``biases[l - 1]`` of shape ``(sizes[l],)``; layers ``1 .. L - 1``
    are followed by a ReLU, layer ``L`` is linear. The arrays are stored as
    read-only float64 copies.

    Parameters
    ----------
    weights : sequence of array_like
        ``W_1, ..., W_L``; consecutive shapes must chain.
    biases : sequence of array_like
        ``b_1, ..., b_L``, one 1-D array per layer.

    Raises
    ------
    ValueError
        If the sequences are empty or of different lengths, an array is not
        finite and real, or the shapes do not chain (the message names
        ``weights`` or ``biases``).
    """

    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]

    def __post_init__(self) -> None:
        weights = tuple(as_matrix(W, "weights").astype(np.float64, copy=True) for W in self.weights)
        if not weights:
            raise ValueError("weights must hold at least one matrix")
        biases = []
        for b in self.biases:
            array = np.asarray(b)
            if array.ndim != 1 or array.dtype == bool or not np.issubdtype(array.dtype, np.number):
                raise ValueError(f"biases must be 1-D real arrays, got shape {array.shape}")
            array = array.astype(np.float64, copy=True)
            if not np.all(np.isfinite(array)):
                raise ValueError("biases must be finite (they contain NaN or infinity)")
            biases.append(array)
        if len(biases) != len(weights):
            raise ValueError(f"biases must have one entry per layer ({len(weights)}), got {len(biases)}")
        for layer, (W, b) in enumerate(zip(weights, biases), start=1):
            if layer > 1 and W.shape[0] != weights[layer - 2].shape[1]:
                raise ValueError(
                    f"weights must chain: W_{layer} has {W.shape[0]} rows but W_{layer - 1} has "
                    f"{weights[layer - 2].shape[1]} columns"
                )
            if b.shape != (W.shape[1],):
                raise ValueError(f"biases: b_{layer} must have shape ({W.shape[1]},), got {b.shape}")
        for array in (*weights, *biases):
            array.setflags(write=False)
        object.__setattr__(self, "weights", weights)
        object.__setattr__(self, "biases", tuple(biases))

    @property
    def layer_sizes(self) -> tuple[int, ...]:
        """``(p_in, width_1, ..., width_{L-1}, p_out)``."""
        return (self.weights[0].shape[0],) + tuple(W.shape[1] for W in self.weights)

    @property
    def n_hidden(self) -> int:
        """Number of hidden (ReLU) layers, ``L - 1``."""
        return len(self.weights) - 1

    def n_parameters(self) -> int:
        """Total number of weights and biases."""
        return int(sum(W.size + b.size for W, b in zip(self.weights, self.biases)))


@dataclass(frozen=True, eq=False)
class ReluNetResult:
    """Returned by :func:`train_relu_net`: the trained network and its history.

    Attributes
    ----------
    params : ReluNetParams
        The parameters after the last step.
    loss_history : ndarray, shape (max_iter + 1,)
        The training objective (error plus penalty) before each step and after the last.
    grad_norm_history : ndarray, shape (max_iter + 1,)
        The Euclidean norm of the full gradient at the same points.
    lam : float
        The weight decay it was trained with.
    optimizer : str
        ``"adam"`` or ``"gd"``.
    """

    params: ReluNetParams
    loss_history: np.ndarray
    grad_norm_history: np.ndarray
    lam: float
    optimizer: str


# --------------------------------------------------------------------------- input checks


def _check_data(X, params: ReluNetParams, name: str = "X") -> np.ndarray:
    X = as_matrix(X, name).astype(np.float64, copy=False)
    if X.shape[1] != params.layer_sizes[0]:
        raise ValueError(f"{name} must have {params.layer_sizes[0]} columns (the input size), got {X.shape[1]}")
    return X


def _check_target(Y, X: np.ndarray, params: ReluNetParams) -> np.ndarray:
    if Y is None:
        if params.layer_sizes[-1] != X.shape[1]:
            raise ValueError(
                f"Y must be given when the output size ({params.layer_sizes[-1]}) differs from "
                f"the input size ({X.shape[1]})"
            )
        return X
    Y = as_matrix(Y, "Y").astype(np.float64, copy=False)
    if Y.shape != (X.shape[0], params.layer_sizes[-1]):
        raise ValueError(f"Y must have shape {(X.shape[0], params.layer_sizes[-1])}, got {Y.shape}")
    return Y


def _check_layer(layer, params: ReluNetParams) -> int:
    return check_rank(layer, params.n_hidden, "layer")


def _check_sizes(layer_sizes) -> tuple[int, ...]:
    try:
        sizes = tuple(layer_sizes)
    except TypeError as error:
        raise ValueError(f"layer_sizes must be a sequence of integers, got {layer_sizes!r}") from error
    if len(sizes) < 2:
        raise ValueError(f"layer_sizes must have at least two entries (input and output), got {sizes}")
    return tuple(check_count(s, "layer_sizes", 1) for s in sizes)


# --------------------------------------------------------------------------- the network


def init_relu_net(layer_sizes: Sequence[int], seed: int | np.random.Generator = 0,
                  init_scale: float = 1.0, output_bias=None) -> ReluNetParams:
    """He initialisation, scaled: Gaussian weights of variance ``2 init_scale^2 / fan_in``.

    Used by :func:`train_relu_net` for its default start.

    Parameters
    ----------
    layer_sizes : sequence of int
        ``(p_in, width_1, ..., p_out)``, at least two entries, each >= 1.
    seed : int or numpy.random.Generator
        Source of the random weights; the same seed gives the same network.
    init_scale : float
        Multiplies every weight (> 0); 1 is He initialisation.
    output_bias : array_like, shape (p_out,), optional
        Starting value of the output bias ``b_L`` (e.g. the column means of
        the data, the popularity baseline); zero by default. The hidden
        biases start at zero.

    Returns
    -------
    ReluNetParams

    Raises
    ------
    ValueError
        For bad ``layer_sizes``, a non-positive ``init_scale``, a bad
        ``seed`` or an ``output_bias`` of the wrong shape.
    """
    sizes = _check_sizes(layer_sizes)
    init_scale = check_positive(init_scale, "init_scale")
    rng = as_generator(seed)
    weights = [rng.standard_normal((m, k)) * (init_scale * np.sqrt(2.0 / m)) for m, k in zip(sizes[:-1], sizes[1:])]
    biases = [np.zeros(k) for k in sizes[1:]]
    if output_bias is not None:
        try:
            bias = np.array(output_bias, dtype=np.float64)
        except (TypeError, ValueError):
            bias = None
        if bias is None or bias.shape != (sizes[-1],) or not np.all(np.isfinite(bias)):
            raise ValueError(f"output_bias must be a finite array of shape ({sizes[-1]},)")
        biases[-1] = bias
    return ReluNetParams(tuple(weights), tuple(biases))


def _forward(weights, biases, X):
    """Output, hidden pre-activations and hidden activations (unchecked)."""
    pre, hidden = [], []
    h = X
    for W, b in zip(weights[:-1], biases[:-1]):
        z = h @ W + b
        h = np.maximum(z, 0.0)
        pre.append(z)
        hidden.append(h)
    return h @ weights[-1] + biases[-1], pre, hidden


def relu_net_forward(params: ReluNetParams, X) -> np.ndarray:
    """The network's output for every row of ``X``.

    Used in ``chapters/deep_models.md``.

    Parameters
    ----------
    params : ReluNetParams
    X : array_like, shape (n, p_in)

    Returns
    -------
    ndarray, shape (n, p_out)

    Raises
    ------
    ValueError
        If ``params`` is not a :class:`ReluNetParams` or ``X`` is not a finite
        2-D array with ``p_in`` columns.
    """
    params = check_instance(params, ReluNetParams, "params")
    X = _check_data(X, params)
    return _forward(params.weights, params.biases, X)[0]


def hidden_representations(params: ReluNetParams, X, layer: int = 1) -> np.ndarray:
    """The activations ``h_layer`` of hidden layer ``layer`` for every row of ``X``.

    Used in ``chapters/deep_models.md``: with ``X`` the users' rows these are
    user embeddings; with ``X`` the identity matrix they are the hidden
    activations of one-hot item inputs.

    Parameters
    ----------
    params : ReluNetParams
    X : array_like, shape (n, p_in)
    layer : int
        The hidden layer, ``1 <= layer <= L - 1``.

    Returns
    -------
    ndarray, shape (n, width_layer)

    Raises
    ------
    ValueError
        As :func:`relu_net_forward`, or for ``layer`` outside ``1..L-1``.
    """
    params = check_instance(params, ReluNetParams, "params")
    X = _check_data(X, params)
    layer = _check_layer(layer, params)
    return _forward(params.weights, params.biases, X)[2][layer - 1]


def item_embeddings(params: ReluNetParams, side: str = "input") -> np.ndarray:
    """One embedding per item, read off the weights.

    Used in ``chapters/deep_models.md``, which takes cosines of the input
    embeddings: the embedding table that a deep recommender looks items up in.

    Parameters
    ----------
    params : ReluNetParams
    side : {"input", "output"}
        ``"input"``: the rows of ``W_1``, shape ``(p_in, width_1)``; row ``i``
        is what a one-hot input ``e_i`` adds to the first layer's
        pre-activation. ``"output"``: the rows of ``W_L^T``, shape
        ``(p_out, width_{L-1})``; row ``i`` is the vector whose dot product
        with the last hidden layer gives item ``i``'s score (the analogue of
        the item factor ``B`` of the linear models).

    Returns
    -------
    ndarray
        A copy, one row per item.

    Raises
    ------
    ValueError
        If ``params`` is not a :class:`ReluNetParams` or ``side`` is unknown.
    """
    params = check_instance(params, ReluNetParams, "params")
    if side == "input":
        return params.weights[0].copy()
    if side == "output":
        return params.weights[-1].T.copy()
    raise ValueError(f"side must be 'input' or 'output', got {side!r}")


def _penalty(weights, biases) -> float:
    return float(sum(np.sum(W * W) + np.sum(b * b) for W, b in zip(weights, biases)))


def relu_net_loss(params: ReluNetParams, X, Y=None, lam: float = 0.0) -> float:
    """The training objective: mean squared reconstruction error plus weight decay.

    Used in ``chapters/deep_models.md``.

    Parameters
    ----------
    params : ReluNetParams
    X : array_like, shape (n, p_in)
        Inputs, one user per row.
    Y : array_like, shape (n, p_out), optional
        Targets; ``X`` itself by default (an autoencoder).
    lam : float
        Weight decay ``lam >= 0`` on every weight and bias.

    Returns
    -------
    float
        ``(1/n) sum_u ||y_u - f(x_u)||^2 + lam * sum_l (||W_l||_F^2 + ||b_l||^2)``,
        computed directly from the outputs of :func:`relu_net_forward` (the reference
        for the faster form used in training, :func:`_loss_and_gradients`).

    Raises
    ------
    ValueError
        As :func:`_loss_and_gradients`.
    """
    params = check_instance(params, ReluNetParams, "params")
    X = _check_data(X, params)
    Y = _check_target(Y, X, params)
    lam = check_nonnegative(lam, "lam")
    residual = _forward(params.weights, params.biases, X)[0] - Y
    return float(np.sum(residual * residual)) / X.shape[0] + lam * _penalty(params.weights, params.biases)


class _Objective:
    """The training objective on fixed data, with the constants of its last layer cached.

    The output layer is linear, so its squared error needs the data only
    through ``H^T Y`` and ``Y W_L^T`` (``H`` the last hidden layer):

    ``||H W + 1 b^T - Y||^2 = ||Y||^2 - 2 <W, H^T Y> - 2 b.Y^T 1
    + <W, H^T H W> + 2 b.W^T H^T 1 + n ||b||^2``,

    and the gradient with respect to ``H`` is
    ``(2/n) (H W W^T + 1 (W b)^T - Y W^T)``. No ``n x p_out`` array is formed;
    for an autoencoder (``Y is X``) with one hidden layer the four products
    with the data are fused into two matrix products, ``X [W_1, W_2^T]`` and
    ``X^T [H, G]``. This is about three times faster than the direct
    computation, which :func:`relu_net_forward` and the tests use as the reference.
    """

    def __init__(self, X: np.ndarray, Y: np.ndarray) -> None:
        self.X, self.Y = X, Y
        self.n = X.shape[0]
        self.Y_sq = float(np.sum(Y * Y))
        self.Y_sum = Y.sum(axis=0)
        self.autoencoder = Y is X
        self.Xt = np.ascontiguousarray(X.T)  # X^T @ M is faster with X^T laid out in rows

    def __call__(self, weights, biases, lam: float, gradients: bool = True):
        X, Y, n = self.X, self.Y, self.n
        n_layers = len(weights)
        fused = self.autoencoder and n_layers == 2
        W, b = weights[-1], biases[-1]
        # Forward through the hidden layers.
        pre, hidden = [], []
        h = X
        for layer in range(n_layers - 1):
            if fused:  # X W_1 and Y W_2^T = X W_2^T in one product
                both = X @ np.hstack([weights[0], W.T])
                z = both[:, : W.shape[0]] + biases[0]
                YWt = both[:, W.shape[0]:]
            else:
                z = h @ weights[layer] + biases[layer]
            h = np.maximum(z, 0.0)
            pre.append(z)
            hidden.append(h)
        H = h
        H_sum = H.sum(axis=0)
        HtH = H.T @ H
        if fused and gradients:
            HtY = None  # computed below, fused with the first layer's gradient
        else:
            HtY = H.T @ Y
        penalty = sum(float(np.sum(M * M)) for M in (*weights, *biases))
        if HtY is not None:
            fit = self._squared_error(W, b, HtY, HtH, H_sum)
            value = fit / n + lam * penalty
            if not gradients:
                return value, None, None
        grad_W, grad_b = [None] * n_layers, [None] * n_layers
        WWt = W @ W.T
        if not fused:
            YWt = Y @ W.T
        g = (2.0 / n) * (H @ WWt + (W @ b)[None, :] - YWt)  # d error / d H
        for layer in range(n_layers - 2, -1, -1):
            g = g * (pre[layer] > 0)  # relu'(z) = 1 for z > 0, else 0
            if layer == 0 and fused:
                both = self.Xt @ np.hstack([H, g])
                HtY = both[:, : H.shape[1]].T
                grad_W[0] = both[:, H.shape[1]:] + (2.0 * lam) * weights[0]
            else:
                h_prev_t = self.Xt if layer == 0 else hidden[layer - 1].T
                grad_W[layer] = h_prev_t @ g + (2.0 * lam) * weights[layer]
            grad_b[layer] = g.sum(axis=0) + (2.0 * lam) * biases[layer]
            if layer > 0:
                g = g @ weights[layer].T
        fit = self._squared_error(W, b, HtY, HtH, H_sum)
        value = fit / n + lam * penalty
        grad_W[-1] = (2.0 / n) * (HtH @ W + np.outer(H_sum, b) - HtY) + (2.0 * lam) * W
        grad_b[-1] = (2.0 / n) * (W.T @ H_sum + n * b - self.Y_sum) + (2.0 * lam) * b
        return value, grad_W, grad_b

    def _squared_error(self, W, b, HtY, HtH, H_sum) -> float:
        fit = (self.Y_sq - 2.0 * float(np.sum(W * HtY)) - 2.0 * float(b @ self.Y_sum)
               + float(np.sum(W * (HtH @ W))) + 2.0 * float(b @ (W.T @ H_sum)) + self.n * float(b @ b))
        return max(fit, 0.0)  # a sum of squares; rounding could push an exact fit below 0


def _loss_and_gradients(params: ReluNetParams, X, Y=None, lam: float = 0.0, gradients: bool = True):
    """The objective of :func:`relu_net_loss` and its analytic gradient (backpropagation).

    The kernel that :func:`train_relu_net` runs, with its input checked;
    against finite differences in ``tests/test_relu_net.py``.

    Parameters
    ----------
    params : ReluNetParams
    X : array_like, shape (n, p_in)
    Y : array_like, shape (n, p_out), optional
        Targets; ``X`` by default.
    lam : float
        Weight decay, ``>= 0``.
    gradients : bool
        If False, return ``(loss, None)`` without the backward pass.

    Returns
    -------
    loss : float
    grad : ReluNetParams or None
        The gradient, laid out like ``params``. The ReLU's derivative is taken
        as 0 at 0 (a kink, hit with probability 0 by real-valued data).

    Raises
    ------
    ValueError
        If ``params`` is not a :class:`ReluNetParams`, ``X`` does not have
        ``p_in`` columns, ``Y`` has the wrong shape (or is missing while
        ``p_out != p_in``), or ``lam < 0``.
    """
    params = check_instance(params, ReluNetParams, "params")
    X = _check_data(X, params)
    Y = _check_target(Y, X, params)
    lam = check_nonnegative(lam, "lam")
    value, grad_W, grad_b = _Objective(X, Y)(params.weights, params.biases, lam, gradients)
    if not gradients:
        return value, None
    return value, ReluNetParams(tuple(grad_W), tuple(grad_b))


# --------------------------------------------------------------------------- the symmetry


def _check_scales(d, width: int) -> np.ndarray:
    try:
        scales = np.asarray(d, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"d must be a positive number or a 1-D array of them: {error}") from error
    if scales.ndim == 0:
        scales = np.full(width, float(scales))
    if scales.shape != (width,):
        raise ValueError(f"d must be a scalar or have shape ({width},) (one per unit), got shape {scales.shape}")
    if not np.all(np.isfinite(scales)) or np.any(scales <= 0):
        raise ValueError("d must be finite and > 0 (relu(d z) = d relu(z) only for d > 0)")
    return scales


def rescale_hidden_units(params: ReluNetParams, layer: int, d) -> ReluNetParams:
    """Apply the function-preserving rescaling to the units of one hidden layer.

    Derived in ``chapters/deep_models.md``: unit ``j`` of hidden layer
    ``layer`` gets incoming weights ``W_l[:, j] * d_j`` and bias
    ``b_l[j] * d_j``, and outgoing weights ``W_{l+1}[j, :] / d_j``. Since
    ``relu(d z) = d relu(z)`` for ``d > 0``, the unit's output is multiplied by
    ``d_j`` and the next layer divides it out again: :func:`relu_net_forward` returns
    the same values (up to rounding), while the hidden activations and the
    item embeddings of that layer are multiplied by ``diag(d)``.

    Parameters
    ----------
    params : ReluNetParams
    layer : int
        The hidden layer, ``1 <= layer <= L - 1`` (its weights are ``W_layer``).
    d : float or array_like, shape (width_layer,)
        The factors, all finite and > 0; a scalar scales every unit alike.

    Returns
    -------
    ReluNetParams
        A new network; ``params`` is not modified.

    Raises
    ------
    ValueError
        If ``params`` is not a :class:`ReluNetParams`, ``layer`` is not a
        hidden layer, or ``d`` has the wrong shape or an entry ``<= 0``.
    """
    params = check_instance(params, ReluNetParams, "params")
    layer = _check_layer(layer, params)
    scales = _check_scales(d, params.layer_sizes[layer])
    weights, biases = list(params.weights), list(params.biases)
    weights[layer - 1] = weights[layer - 1] * scales
    biases[layer - 1] = biases[layer - 1] * scales
    weights[layer] = weights[layer] / scales[:, None]
    return ReluNetParams(tuple(weights), tuple(biases))


def unit_norms(params: ReluNetParams, layer: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Squared norms of each hidden unit's incoming and outgoing weights.

    Used in ``chapters/deep_models.md`` to confirm that weight decay balances
    every unit.

    Parameters
    ----------
    params : ReluNetParams
    layer : int
        The hidden layer, ``1 <= layer <= L - 1``.

    Returns
    -------
    incoming : ndarray, shape (width_layer,)
        ``||W_l[:, j]||^2 + b_l[j]^2`` (the bias counts: it is rescaled and decayed too).
    outgoing : ndarray, shape (width_layer,)
        ``||W_{l+1}[j, :]||^2``.

    Raises
    ------
    ValueError
        If ``params`` is not a :class:`ReluNetParams` or ``layer`` is not a hidden layer.
    """
    params = check_instance(params, ReluNetParams, "params")
    layer = _check_layer(layer, params)
    W_in, b_in = params.weights[layer - 1], params.biases[layer - 1]
    incoming = np.sum(W_in * W_in, axis=0) + b_in * b_in
    outgoing = np.sum(params.weights[layer] ** 2, axis=1)
    return incoming, outgoing


def balance_hidden_units(params: ReluNetParams, layer: int = 1) -> ReluNetParams:
    """Rescale each unit of a hidden layer to the point of its orbit that weight decay prefers.

    Derived in ``chapters/deep_models.md``: along the orbit of unit ``j`` the
    penalty is ``d^2 a_j + b_j / d^2`` (``a_j``, ``b_j`` from :func:`unit_norms`),
    smallest at ``d^4 = b_j / a_j``, where both terms equal ``sqrt(a_j b_j)``.
    A unit with ``a_j = 0`` or ``b_j = 0`` contributes nothing to the output
    (or receives a constant zero) and is left as it is.

    Parameters
    ----------
    params : ReluNetParams
    layer : int
        The hidden layer, ``1 <= layer <= L - 1``.

    Returns
    -------
    ReluNetParams
        The same function, with ``incoming == outgoing`` for every unit whose
        norms are both nonzero.

    Raises
    ------
    ValueError
        As :func:`unit_norms`.
    """
    incoming, outgoing = unit_norms(params, layer)
    scales = np.ones_like(incoming)
    live = (incoming > 0) & (outgoing > 0)
    scales[live] = (outgoing[live] / incoming[live]) ** 0.25
    return rescale_hidden_units(params, layer, scales)


# --------------------------------------------------------------------------- training


def train_relu_net(
    X,
    hidden: Sequence[int] = (32,),
    lam: float = 0.0,
    *,
    Y=None,
    optimizer: str = "adam",
    max_iter: int = 2000,
    lr: float | None = None,
    lr_end: float | None = None,
    seed: int | np.random.Generator = 0,
    init: ReluNetParams | None = None,
    init_scale: float = 1.0,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
) -> ReluNetResult:
    """Train a ReLU autoencoder by full-batch Adam or gradient descent.

    Used in ``chapters/deep_models.md`` on the simulated data of the paper.

    Parameters
    ----------
    X : array_like, shape (n, p)
        Inputs, one user per row (cast to float64).
    hidden : sequence of int
        Widths of the hidden layers (at least one).
    lam : float
        Weight decay ``>= 0`` on every weight and bias (see :func:`relu_net_loss`).
    Y : array_like, optional
        Targets, shape ``(n, p_out)``; ``X`` by default.
    optimizer : {"adam", "gd"}
        Adam with bias correction, or plain gradient descent.
    max_iter : int
        Number of full-batch steps (>= 0).
    lr : float, optional
        Step size (> 0); default ``1e-3`` for Adam, ``1e-2`` for gradient descent.
    lr_end : float, optional
        If given, the step size decays geometrically from ``lr`` to ``lr_end``
        over the run, ``lr_t = lr (lr_end / lr) ** (t / max_iter)``; Adam then
        settles closer to a minimum.
    seed : int or numpy.random.Generator
        Seed of the random start (:func:`init_relu_net`); ignored with ``init``.
    init : ReluNetParams, optional
        Start from these parameters instead (their sizes must fit ``X`` and
        ``Y``; ``hidden`` is then ignored).
    init_scale : float
        Passed to :func:`init_relu_net`. The default start is
        ``init_relu_net(sizes, seed, init_scale, output_bias=Y.mean(axis=0))``:
        the output bias starts at the popularity baseline, so that the first
        steps fit the structure of the data rather than its mean.
    beta1, beta2, eps : float
        Adam's parameters; ignored by ``"gd"``.

    Returns
    -------
    ReluNetResult

    Raises
    ------
    ValueError
        Naming the argument: bad ``X`` or ``Y``; ``hidden`` not a non-empty
        sequence of positive integers; ``lam < 0``; unknown ``optimizer``;
        ``max_iter < 0``; non-positive ``lr``, ``lr_end`` or ``init_scale``;
        ``init`` not a :class:`ReluNetParams` or of the wrong sizes;
        ``beta1``, ``beta2`` outside ``[0, 1)`` or ``eps <= 0``.
    RuntimeError
        If the loss becomes non-finite (the run diverged; use a smaller ``lr``).
    """
    X = as_matrix(X, "X").astype(np.float64, copy=False)
    lam = check_nonnegative(lam, "lam")
    optimizer = check_choice(optimizer, OPTIMIZERS, "optimizer")
    max_iter = check_count(max_iter, "max_iter", 0)
    lr = DEFAULT_LR[optimizer] if lr is None else check_positive(lr, "lr")
    lr_end = None if lr_end is None else check_positive(lr_end, "lr_end")
    for name, value in (("beta1", beta1), ("beta2", beta2)):
        if check_nonnegative(value, name) >= 1.0:
            raise ValueError(f"{name} must lie in [0, 1), got {value}")
    eps = check_positive(eps, "eps")
    if init is None:
        try:
            widths = tuple(hidden)
        except TypeError as error:
            raise ValueError(f"hidden must be a sequence of widths, got {hidden!r}") from error
        if not widths:
            raise ValueError("hidden must hold at least one width")
        widths = tuple(check_count(w, "hidden", 1) for w in widths)
        p_out = X.shape[1] if Y is None else as_matrix(Y, "Y").shape[1]
        mean = (X if Y is None else as_matrix(Y, "Y")).mean(axis=0)
        init = init_relu_net((X.shape[1], *widths, p_out), seed=seed, init_scale=init_scale, output_bias=mean)
    elif not isinstance(init, ReluNetParams):
        raise ValueError(f"init must be a ReluNetParams, got {type(init).__name__}")
    if init.layer_sizes[0] != X.shape[1]:
        raise ValueError(f"init must take {X.shape[1]} inputs (the columns of X), got {init.layer_sizes[0]}")
    Y = _check_target(Y, X, init)

    weights = [W.copy() for W in init.weights]
    biases = [b.copy() for b in init.biases]
    params = weights + biases  # views shared with the two lists, updated in place
    first = [np.zeros_like(P) for P in params]
    second = [np.zeros_like(P) for P in params]

    objective = _Objective(X, Y)

    def evaluate():
        value, grad_W, grad_b = objective(weights, biases, lam)
        grads = grad_W + grad_b
        norm = float(np.sqrt(sum(np.sum(G * G) for G in grads)))
        return value, grads, norm

    value, grads, norm = evaluate()
    losses, norms = [value], [norm]
    for step in range(1, max_iter + 1):
        rate = lr if lr_end is None else lr * (lr_end / lr) ** ((step - 1) / max_iter)
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):
            for P, G, m, v in zip(params, grads, first, second):
                if optimizer == "gd":
                    P -= rate * G
                else:
                    adam_update(P, G, m, v, step, rate, beta1, beta2, eps)
            value, grads, norm = evaluate()
        if not (np.isfinite(value) and np.isfinite(norm)):
            raise RuntimeError(
                f"training diverged: the loss became non-finite at step {step} with lr={lr:.3g}; "
                "use a smaller lr"
            )
        losses.append(value)
        norms.append(norm)
    return ReluNetResult(
        params=ReluNetParams(tuple(weights), tuple(biases)),
        loss_history=np.array(losses),
        grad_norm_history=np.array(norms),
        lam=lam,
        optimizer=optimizer,
    )
