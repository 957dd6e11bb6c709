"""Training the linear model ``X ~ X A B^T`` by gradient descent and Adam.

Used in ``chapters/training_dynamics.md`` ("What training picks"): the closed
forms of :mod:`cossim.models` say *which* factorizations minimise each
objective; this module shows which one an optimiser actually reaches.  The three
objectives are those of :mod:`cossim.models`:

* ``"product"``       (1)  ``||X - X A B^T||^2 + lam ||A B^T||^2``,
* ``"factor"``        (2)  ``||X - X A B^T||^2 + lam (||X A||^2 + ||B||^2)``,
* ``"weight_decay"``       ``||X - X A B^T||^2 + lam (||A||^2 + ||B||^2)``.

Everything is computed from the Gram matrix ``G = X^T X`` (p x p), formed once:
with ``W = A B^T``,

    ||X - X W||^2 = tr(G) - 2 tr(B^T G A) + tr((A^T G A)(B^T B)),
    ||X A||^2     = tr(A^T G A),

so an iteration never touches the n rows of ``X``.  Gradient descent goes one
step further and works in the eigenbasis of ``G`` (see
:func:`train_factorization`), where an iteration costs ``O(p k^2)``.

Import flow: this module imports :mod:`cossim.models` and
:mod:`cossim._validation`; nothing below it imports it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

import numpy as np

from cossim._util import adam_update
from cossim._validation import (
    as_generator,
    check_choice,
    check_count,
    check_factor_pair,
    check_nonnegative,
    check_positive,
    check_rank,
    check_shape,
)
from cossim.linalg import check_gram, gram_matrix
from cossim.models import Factorization

__all__ = [
    "GramDecomposition",
    "TrainingResult",
    "factorization_loss_and_gradients",
    "train_factorization",
    "train_factorization_in_top_subspace",
]

OBJECTIVES = ("product", "factor", "weight_decay")
OPTIMIZERS = ("gd", "adam")

#: Column norm of the random initial factors when neither ``init`` nor ``init_scale`` is given.
DEFAULT_INIT_SCALE = 1e-2
#: Adam's usual defaults (Kingma & Ba 2015).
ADAM_LR = 1e-3
ADAM_BETA1 = 0.9
ADAM_BETA2 = 0.999
ADAM_EPS = 1e-8


# --------------------------------------------------------------------------- the Gram matrix


@dataclass(frozen=True, eq=False)
class GramDecomposition:
    """The Gram matrix ``G = X^T X`` of a data matrix, with its eigendecomposition.

    Used in ``chapters/training_dynamics.md`` ("What training picks") to train
    several times on the same data without recomputing ``X^T X`` (about half a
    second for 20,000 x 1,000) each time.  Build it with :meth:`from_data` and
    pass it to :func:`train_factorization` in place of ``X``.

    Parameters
    ----------
    matrix : ndarray, shape (p, p)
        ``X^T X``.
    eigenvalues : ndarray, shape (p,)
        Eigenvalues of ``matrix`` in descending order (the ``sigma_i**2`` of
        ``X``, padded with zeros when ``n < p``), clipped at 0.
    eigenvectors : ndarray, shape (p, p)
        Orthonormal eigenvectors, one per column.
    n : int
        Number of rows (users) of ``X``; it bounds the rank ``k``.

    Notes
    -----
    The arrays are read-only.  Construct through :meth:`from_data`, which
    validates ``X``; the constructor itself checks only shapes.
    """

    matrix: np.ndarray
    eigenvalues: np.ndarray
    eigenvectors: np.ndarray
    n: int

    def __post_init__(self) -> None:
        for name in ("matrix", "eigenvalues", "eigenvectors"):
            array = np.array(getattr(self, name), dtype=np.float64)  # a private, read-only copy
            array.setflags(write=False)
            object.__setattr__(self, name, array)
        p = self.matrix.shape[0] if self.matrix.ndim == 2 else -1
        if self.matrix.shape != (p, p) or self.eigenvalues.shape != (p,) or self.eigenvectors.shape != (p, p):
            raise ValueError("matrix, eigenvalues and eigenvectors must have shapes (p, p), (p,), (p, p)")

    @property
    def p(self) -> int:
        """Number of items (columns of ``X``)."""
        return self.matrix.shape[0]

    @classmethod
    def from_data(cls, X) -> "GramDecomposition":
        """Form ``X^T X`` and its eigendecomposition.

        Parameters
        ----------
        X : array_like, shape (n, p)
            Data, users by items; bool and integer arrays are accepted.

        Returns
        -------
        GramDecomposition

        Raises
        ------
        ValueError
            If ``X`` is not a finite, non-empty 2-D real array.
        """
        G = gram_matrix(X)  # exactly symmetric; exact in float32 for 0/1 data
        # Every eigenpair: gradient descent runs in the full eigenbasis of G.
        values, vectors = np.linalg.eigh(G)
        values = np.maximum(values[::-1], 0.0)  # descending; rounding can leave tiny negatives
        vectors = np.ascontiguousarray(vectors[:, ::-1])
        return cls(G, values, vectors, int(np.shape(X)[0]))


# --------------------------------------------------------------------------- losses and gradients


def _products(G, A: np.ndarray, B: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``G A`` and ``G B``; ``G`` is a (p, p) matrix or the (p,) diagonal of a diagonal one."""
    if G.ndim == 1:
        return G[:, None] * A, G[:, None] * B
    k = A.shape[1]
    GAB = G @ np.hstack([A, B])  # one matrix product instead of two
    return GAB[:, :k], GAB[:, k:]


def _loss_and_gradients(
    G: np.ndarray, trace_G: float, A: np.ndarray, B: np.ndarray, lam: float, objective: str
) -> tuple[float, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The unchecked kernel of :func:`factorization_loss_and_gradients` (``G`` full or diagonal).

    Also returns ``A^T A`` and ``B^T B``, which the trainer reuses for the
    imbalance.  Five ``k x k``-sized matrix products per call, grouped so that
    each penalty folds into a product the residual needs anyway.
    """
    GA, GB = _products(G, A, B)
    AtGA = A.T @ GA
    AtA = A.T @ A
    BtB = B.T @ B
    loss = trace_G - 2.0 * float(np.sum(B * GA)) + float(np.sum(AtGA * BtB))
    if objective == "product":
        loss += lam * float(np.sum(AtA * BtB))  # ||A B^T||^2 = tr((A^T A)(B^T B))
        grad_A = 2.0 * ((GA + lam * A) @ BtB - GB)  # 2 (G A C_B - G B) + 2 lam A C_B
        grad_B = 2.0 * (B @ (AtGA + lam * AtA) - GA)  # 2 (B H - G A) + 2 lam B C_A
    elif objective == "factor":
        loss += lam * (float(np.trace(AtGA)) + float(np.trace(BtB)))
        grad_A = 2.0 * ((GA @ BtB - GB) + lam * GA)
        grad_B = 2.0 * ((B @ AtGA - GA) + lam * B)
    else:  # weight_decay
        loss += lam * (float(np.trace(AtA)) + float(np.trace(BtB)))
        grad_A = 2.0 * ((GA @ BtB - GB) + lam * A)
        grad_B = 2.0 * ((B @ AtGA - GA) + lam * B)
    return loss, grad_A, grad_B, AtA, BtB


def factorization_loss_and_gradients(
    G, A, B, lam: float, objective: str = "product"
) -> tuple[float, np.ndarray, np.ndarray]:
    """Loss and analytic gradients of one of the three objectives, from ``G = X^T X``.

    Used in ``chapters/training_dynamics.md`` ("What training picks").  With
    ``W = A B^T``, ``C_A = A^T A``, ``C_B = B^T B`` and ``H = A^T G A``:

    * residual ``||X - X W||^2 = tr(G) - 2 <B, G A> + <H, C_B>``, with gradients
      ``2 (G A C_B - G B)`` for ``A`` and ``2 (B H - G A)`` for ``B``;
    * ``"product"`` adds ``lam <C_A, C_B>`` (``= lam ||A B^T||^2``) and
      ``2 lam A C_B``, ``2 lam B C_A``;
    * ``"factor"`` adds ``lam (tr H + tr C_B)`` (``= lam (||X A||^2 + ||B||^2)``)
      and ``2 lam G A``, ``2 lam B``;
    * ``"weight_decay"`` adds ``lam (||A||^2 + ||B||^2)`` and ``2 lam A``, ``2 lam B``.

    Here ``<P, Q> = tr(P^T Q)``.  All three are the chain rule through
    ``dL/dW = 2 (G W - G) (+ 2 lam W)``: ``dL/dA = (dL/dW) B``,
    ``dL/dB = (dL/dW)^T A``.

    Parameters
    ----------
    G : array_like, shape (p, p)
        The Gram matrix ``X^T X`` (symmetric positive semidefinite; only the
        symmetry is checked).  ``tr(G) = ||X||^2``, so the loss equals
        :func:`cossim.product_penalty_loss` etc. evaluated on ``X``.
    A, B : array_like, shape (p, k)
        The factors.
    lam : float
        Penalty weight ``lam >= 0``.
    objective : {"product", "factor", "weight_decay"}
        Objective (1), objective (2), or weight decay.

    Returns
    -------
    loss : float
    grad_A, grad_B : ndarray, shape (p, k)

    Raises
    ------
    ValueError
        For a ``G`` that is not a finite square symmetric matrix, ``A`` or
        ``B`` of the wrong shape, ``lam < 0``, or an unknown ``objective``.

    Notes
    -----
    Cost ``O(p^2 k)`` (two products with ``G``), independent of ``n``.  The
    trace form subtracts large numbers: the loss carries an absolute rounding
    error of order ``eps * tr(G)``.
    """
    G = check_gram(G)
    A, B = check_factor_pair(A, B, G.shape[0], "the size of G")
    lam = check_nonnegative(lam, "lam")
    objective = check_choice(objective, OBJECTIVES, "objective")
    loss, grad_A, grad_B, _, _ = _loss_and_gradients(G, float(np.trace(G)), A, B, lam, objective)
    return loss, grad_A, grad_B


# --------------------------------------------------------------------------- the result


@dataclass(frozen=True, eq=False)
class TrainingResult:
    """Returned by :func:`train_factorization`: the trained factors and the run's history.

    Attributes
    ----------
    factorization : Factorization
        The final factors ``A, B``, shape (p, k), in the original item basis.
    loss_history : ndarray, shape (n_iter + 1,)
        The loss at every iterate, starting with the initial factors.
    grad_norm_history : ndarray, shape (n_iter + 1,)
        ``sqrt(||dL/dA||^2 + ||dL/dB||^2)`` at every iterate.
    n_iter : int
        Number of optimisation steps taken.
    converged : bool
        Whether the stopping rule on the gradient norm was met (see :func:`train_factorization`).
    imbalance_history : ndarray, shape (m,)
        ``||(A^T A - B^T B) - (A_0^T A_0 - B_0^T B_0)||_F`` at the iterations
        in ``record_iterations``: the drift of the quantity that gradient flow
        conserves for objective (1).  Recorded for every objective; only for
        (1) is it expected to stay small.
    record_iterations : ndarray of int, shape (m,)
        ``0, record_every, 2 record_every, ...`` and always the last iteration.
    lr : float
        The (initial) learning rate actually used, also when it was the default.

    Notes
    -----
    The arrays are read-only.
    """

    factorization: Factorization
    loss_history: np.ndarray
    grad_norm_history: np.ndarray
    n_iter: int
    converged: bool
    imbalance_history: np.ndarray
    record_iterations: np.ndarray
    lr: float

    def __post_init__(self) -> None:
        for name in ("loss_history", "grad_norm_history", "imbalance_history", "record_iterations"):
            getattr(self, name).setflags(write=False)


# --------------------------------------------------------------------------- input checks


def _check_init(init, p: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(init, Factorization):
        try:
            init = Factorization(*init)
        except (TypeError, ValueError) as error:
            raise ValueError(f"init must be a pair (A0, B0) of ({p}, {k}) arrays or a Factorization: {error}") from error
    return check_shape(init.A, (p, k), "init"), check_shape(init.B, (p, k), "init")


def _default_lr(objective: str, optimizer: str, sigma1_sq: float, lam: float, A0, B0, XA0_sq: float) -> float:
    """The default step size ``1 / L`` (``L`` is documented in :func:`train_factorization`)."""
    if optimizer == "adam":
        return ADAM_LR
    spectral_sq = lambda M: float(np.linalg.norm(M, 2)) ** 2  # noqa: E731
    if objective == "factor":
        sigma1 = np.sqrt(sigma1_sq)
        a0, b0 = XA0_sq, spectral_sq(B0)
        a, b = max(a0, sigma1), max(b0, sigma1)
        residual = sigma1 + np.sqrt(a0 * b0)  # bounds ||X - X A_0 B_0^T||_2
        bound = max(4.0 * sigma1_sq * b + 2.0 * lam * sigma1_sq, 4.0 * a + 2.0 * lam) + 2.0 * sigma1 * residual
    else:
        r0 = spectral_sq(A0) + spectral_sq(B0)
        end = 2.0
        if objective == "product":
            end += float(np.linalg.norm(A0.T @ A0 - B0.T @ B0, 2))
        bound = (sigma1_sq + lam) * max(3.0 * r0 + 2.0, 2.0 * end)
    if not bound > 0:  # X = 0 and lam = 0: the loss is constant
        return 1.0
    return 1.0 / bound


# --------------------------------------------------------------------------- the trainer


def train_factorization(
    X,
    k: int,
    lam: float,
    objective: str = "product",
    optimizer: str = "gd",
    *,
    lr: float | None = None,
    lr_end: float | None = None,
    max_iter: int = 10_000,
    tol: float = 1e-6,
    atol: float = 0.0,
    init_scale: float | None = None,
    init=None,
    seed: int | np.random.Generator = 0,
    record_every: int = 1,
    callback: Callable[[int, np.ndarray, np.ndarray], None] | None = None,
    beta1: float = ADAM_BETA1,
    beta2: float = ADAM_BETA2,
    eps: float = ADAM_EPS,
) -> TrainingResult:
    """Minimise one of the three objectives by full-batch gradient descent or Adam.

    Derived and used in ``chapters/training_dynamics.md`` ("What training
    picks"): for objective (1) every minimiser has the same loss, and which one
    an optimiser reaches depends on the initialisation and on the optimiser.

    Parameters
    ----------
    X : array_like, shape (n, p), or GramDecomposition
        Data, users by items, or its :class:`GramDecomposition` (reuse one
        across runs on the same data to skip forming and decomposing ``X^T X``).
    k : int
        Number of latent dimensions, ``1 <= k <= min(n, p)``.
    lam : float
        Penalty weight ``lam >= 0`` (units of ``sigma**2`` for ``"product"``
        and ``"weight_decay"``, of ``sigma`` for ``"factor"``).
    objective : {"product", "factor", "weight_decay"}
        Objective (1), objective (2), or weight decay; see
        :func:`factorization_loss_and_gradients`.
    optimizer : {"gd", "adam"}
        Plain full-batch gradient descent ``theta <- theta - lr * grad``, or
        Adam with bias correction.
    lr : float, optional
        Step size (> 0).  Default for ``"gd"``: ``1 / L`` with ``L`` an
        estimate of the largest curvature along the path (a heuristic, not a
        proof), from ``sigma_1^2`` (the largest eigenvalue of ``X^T X``) and the
        start ``(A_0, B_0)``, with ``r_0 = ||A_0||_2^2 + ||B_0||_2^2``:

        * ``"product"``: ``L = (sigma_1^2 + lam) max(3 r_0 + 2, 2 (||A_0^T A_0 - B_0^T B_0||_2 + 2))``.
          The Hessian norm at ``(A, B)`` is at most ``(sigma_1^2 + lam) (3 r + 2)``
          (``r`` as ``r_0``); at a minimiser, with ``a, b`` the scales of the top
          direction and ``delta`` its conserved imbalance, the sharpness is at
          most ``2 (sigma_1^2 + lam)(a^2 + b^2)`` with
          ``a^2 + b^2 = sqrt(delta^2 + 4 s_1^2) <= |delta| + 2``
          (exactly ``4 sigma_1^2`` at the symmetric split).
        * ``"weight_decay"``: ``L = (sigma_1^2 + lam) max(3 r_0 + 2, 4)``
          (sharpness ``4 (sigma_1^2 - lam)`` at the minimiser).
        * ``"factor"``: with ``a = max(||X A_0||_2^2, sigma_1)``,
          ``b = max(||B_0||_2^2, sigma_1)`` (at the minimiser both are
          ``sigma_1 - lam``) and ``rho = sigma_1 + sqrt(||X A_0||_2^2 ||B_0||_2^2)``
          (a bound on the residual's norm at the start),
          ``L = max(4 sigma_1^2 b + 2 lam sigma_1^2, 4 a + 2 lam) + 2 sigma_1 rho``:
          the curvature seen by ``A`` carries the factor ``sigma_1^2`` of
          ``X A``, the one seen by ``B`` does not (sharpness about
          ``2 sigma_1^3`` at the minimiser).

        Measured on small random matrices at three scales of ``X``, the default
        lies below the stability limit ``2 / sharpness`` at the minimiser by a
        factor 2.8 for (1), 3.1 for weight decay and 4.4 to 5.6 for (2); the
        tests check that the loss then never increases.  Objective (2) is
        ill-conditioned in ``(A, B)`` whatever the step, so gradient descent
        needs many more steps for it.  Default for ``"adam"``: ``1e-3``, in
        the units of the entries of ``A`` and ``B`` (choose it relative to
        their scale).
    lr_end : float, optional
        If given, the step size decays geometrically from ``lr`` at the first
        step to ``lr_end`` at step ``max_iter``:
        ``lr_t = lr * (lr_end / lr) ** (t / max_iter)``.  Adam with a constant
        step hovers around the minimum at a distance set by ``lr``; a decay
        lets it settle.  Default: constant.
    max_iter : int
        Maximum number of steps (>= 0).
    tol : float
        Relative stopping rule: stop when the gradient norm falls to ``tol``
        times the largest gradient norm seen so far in the run (the initial
        one, unless the run starts near a saddle point, as from a small
        initialisation, where the gradient first grows).  ``tol = 0`` disables
        it.  From a very small start the gradient is tiny on the plateaus
        between the saddles, so keep ``tol`` well below ``init_scale``.
    atol : float
        Absolute stopping rule: also stop when the gradient norm is ``<= atol``.
    init_scale : float, optional
        Random start: ``A_0`` and ``B_0`` have independent ``N(0, init_scale^2 / p)``
        entries drawn from ``seed``, so each column has norm about
        ``init_scale`` (the columns of the symmetric split (5) have norms
        ``sqrt(s_i) <= 1``).  Default ``1e-2``.  Not allowed together with
        ``init``.
    init : (A0, B0) or Factorization, optional
        Start from these factors, each of shape (p, k), instead of a random start.
    seed : int or numpy.random.Generator
        Seed of the random start; ignored when ``init`` is given.
    record_every : int
        Record the imbalance drift (and call ``callback``) every this many
        steps (>= 1), and always at the last one.
    callback : callable, optional
        ``callback(iteration, A, B)`` at every recorded iteration, with
        read-only copies of the current factors in the original item basis.
    beta1, beta2, eps : float
        Adam's parameters (defaults 0.9, 0.999, 1e-8); ignored by ``"gd"``.

    Returns
    -------
    TrainingResult

    Raises
    ------
    ValueError
        Naming the argument: bad ``X``; ``k`` outside ``1..min(n, p)``;
        ``lam < 0``; unknown ``objective`` or ``optimizer``; non-positive ``lr``,
        ``lr_end`` or ``init_scale``; ``tol``/``atol`` negative; ``max_iter`` or
        ``record_every`` out of range; ``init`` of the wrong shape, or both
        ``init`` and ``init_scale``; Adam's ``beta1``, ``beta2`` outside
        ``[0, 1)`` or ``eps <= 0``.
    RuntimeError
        If the loss or the gradient becomes non-finite: the run diverged, and
        the message suggests a smaller ``lr``.

    Notes
    -----
    Gradient descent runs in the eigenbasis ``G = Q diag(g) Q^T``: it is
    equivariant under the orthogonal change of variables ``A -> Q^T A``,
    ``B -> Q^T B`` (the gradient rotates with the parameters), so the iterates
    are exactly those of gradient descent in the item basis, rotated, up to
    rounding; there ``G A`` costs ``O(p k)`` and a step ``O(p k^2)``.  Adam is
    not rotation-equivariant (it rescales each coordinate separately), so it
    runs in the item basis, at ``O(p^2 k)`` per step.  Neither touches the
    ``n`` rows of ``X`` after forming ``G``.

    Objective (1) is unchanged by a rescaling of the data (``X / c`` with
    ``lam / c^2`` has the same minimisers), and so is gradient descent with
    the default step, which scales with ``1 / c^2``.
    Objective (2) is not: ``A`` feels the curvature of ``X A`` (about
    ``sigma^3``) and ``B`` only about ``sigma``, and from a small start the
    escape from the saddle at 0 is slower still (rate about
    ``lr * 2 (sigma_1^2 - lam^2) / lam``).  Training on ``X / c`` with
    ``lam / c`` is gradient descent preconditioned per block: its minimisers are
    ``(sqrt(c) A, B / sqrt(c))`` for the minimisers ``(A, B)`` of the original,
    with the same item cosines, and ``c = sigma_1`` makes the top direction
    well conditioned (not the directions whose ``sigma_i`` is far below
    ``sigma_1``).
    """
    gram = X if isinstance(X, GramDecomposition) else GramDecomposition.from_data(X)
    p = gram.p
    k = check_rank(k, min(gram.n, p), "k")
    lam = check_nonnegative(lam, "lam")
    objective = check_choice(objective, OBJECTIVES, "objective")
    optimizer = check_choice(optimizer, OPTIMIZERS, "optimizer")
    max_iter = check_count(max_iter, "max_iter", 0)
    record_every = check_count(record_every, "record_every", 1)
    tol = check_nonnegative(tol, "tol")
    atol = check_nonnegative(atol, "atol")
    if callback is not None and not callable(callback):
        raise ValueError(f"callback must be callable, got {callback!r}")
    if optimizer == "adam":
        for name, value in (("beta1", beta1), ("beta2", beta2)):
            if check_nonnegative(value, name) >= 1.0:
                raise ValueError(f"{name} must lie in [0, 1), got {value}")
        eps = check_positive(eps, "eps")

    if init is not None:
        if init_scale is not None:
            raise ValueError("init_scale must not be given together with init (init fixes the scale)")
        A0, B0 = _check_init(init, p, k)
    else:
        init_scale = DEFAULT_INIT_SCALE if init_scale is None else check_positive(init_scale, "init_scale")
        rng = as_generator(seed)
        A0 = rng.standard_normal((p, k)) * (init_scale / np.sqrt(p))
        B0 = rng.standard_normal((p, k)) * (init_scale / np.sqrt(p))

    if optimizer == "gd":
        Q = gram.eigenvectors
        G = gram.eigenvalues  # diagonal in the eigenbasis
        A, B = Q.T @ A0, Q.T @ B0

        def to_items(M: np.ndarray) -> np.ndarray:
            return Q @ M
    else:
        G = gram.matrix
        A, B = A0.copy(), B0.copy()  # updated in place by Adam
        to_items = np.copy
    lr = None if lr is None else check_positive(lr, "lr")
    lr_end = None if lr_end is None else check_positive(lr_end, "lr_end")
    trace_G = float(np.sum(gram.eigenvalues)) if optimizer == "gd" else float(np.trace(gram.matrix))

    def evaluate(A: np.ndarray, B: np.ndarray):
        with np.errstate(over="ignore", invalid="ignore"):
            loss, grad_A, grad_B, AtA, BtB = _loss_and_gradients(G, trace_G, A, B, lam, objective)
            grad_norm = float(np.sqrt(np.sum(grad_A * grad_A) + np.sum(grad_B * grad_B)))
            imbalance = AtA - BtB
        return loss, grad_A, grad_B, imbalance, grad_norm

    loss, grad_A, grad_B, imbalance, grad_norm = evaluate(A, B)
    if not (np.isfinite(loss) and np.isfinite(grad_norm)):
        name = "init" if init is not None else "init_scale"
        raise ValueError(f"{name} gives a non-finite loss or gradient (the initial factors are too large)")
    if lr is None:
        XA0 = np.sqrt(gram.eigenvalues)[:, None] * (gram.eigenvectors.T @ A0)  # ||X A|| = ||diag(sigma) Q^T A||
        XA0_sq = float(np.linalg.norm(XA0, 2)) ** 2
        lr = _default_lr(objective, optimizer, float(gram.eigenvalues[0]), lam, A0, B0, XA0_sq)
    imbalance_0 = imbalance  # A^T A - B^T B is rotation-invariant: the same in either basis
    losses, grad_norms, drifts, recorded = [loss], [grad_norm], [], []

    def record(iteration: int) -> None:
        drifts.append(float(np.linalg.norm(imbalance - imbalance_0)))
        recorded.append(iteration)
        if callback is not None:
            A_items, B_items = to_items(A), to_items(B)
            A_items.setflags(write=False)
            B_items.setflags(write=False)
            callback(iteration, A_items, B_items)

    record(0)
    largest = grad_norm
    converged = grad_norm <= max(atol, tol * largest)
    if optimizer == "adam":
        m_A, v_A = np.zeros_like(A), np.zeros_like(A)
        m_B, v_B = np.zeros_like(B), np.zeros_like(B)
    iteration = 0
    while not converged and iteration < max_iter:
        step = lr if lr_end is None else lr * (lr_end / lr) ** (iteration / max_iter)
        iteration += 1
        with np.errstate(over="ignore", invalid="ignore"):
            if optimizer == "gd":
                A = A - step * grad_A
                B = B - step * grad_B
            else:
                adam_update(A, grad_A, m_A, v_A, iteration, step, beta1, beta2, eps)
                adam_update(B, grad_B, m_B, v_B, iteration, step, beta1, beta2, eps)
        loss, grad_A, grad_B, imbalance, grad_norm = evaluate(A, B)
        if not (np.isfinite(loss) and np.isfinite(grad_norm)):
            raise RuntimeError(
                f"training diverged: the loss or gradient became non-finite at iteration {iteration} "
                f"with lr={lr:.3g}; use a smaller lr"
            )
        losses.append(loss)
        grad_norms.append(grad_norm)
        largest = max(largest, grad_norm)
        converged = grad_norm <= max(atol, tol * largest)
        if iteration % record_every == 0 or converged or iteration == max_iter:
            record(iteration)

    return TrainingResult(
        factorization=Factorization(to_items(A), to_items(B)),
        loss_history=np.array(losses),
        grad_norm_history=np.array(grad_norms),
        n_iter=iteration,
        converged=bool(converged),
        imbalance_history=np.array(drifts),
        record_iterations=np.array(recorded, dtype=np.int64),
        lr=float(lr),
    )


# --------------------------------------------------------------------------- starts inside the top-k subspace


def train_factorization_in_top_subspace(gram: GramDecomposition, k: int, lam: float,
                                        objective: str = "product", *, init, **options) -> TrainingResult:
    """Gradient descent from a start inside the span of the top ``k`` eigenvectors, on ``k`` rows.

    Used in ``chapters/training_dynamics.md`` ("What training picks") to run the starts that lie
    in the span of ``V_k`` (the top ``k`` eigenvectors of ``G = X^T X``) at a cost independent of
    the number of items. In the eigenbasis of ``G`` every gradient of the three objectives has
    the form ``G A M_1 + A M_2 + G B M_3 + B M_4`` (``M_j`` of size ``k x k``, see
    :func:`factorization_loss_and_gradients`); with ``G`` diagonal, a row of ``A`` and ``B`` that
    is zero stays zero. So gradient descent from ``(A_0, B_0) = (V_k a_0, V_k b_0)`` stays in
    that span, and its iterates are ``(V_k a_t, V_k b_t)``, where ``(a_t, b_t)`` are the iterates
    of gradient descent on the ``k x k`` problem with Gram matrix ``diag(g_1, ..., g_k)``. This
    function runs that small problem with :func:`train_factorization` and maps the result back:
    the same iterates, step sizes, gradient norms and imbalance as the full run, up to rounding.

    Parameters
    ----------
    gram : GramDecomposition
        ``X^T X`` with its eigendecomposition; ``V_k`` is ``gram.eigenvectors[:, :k]``.
    k : int
        Number of latent dimensions, ``1 <= k <= min(n, p)``.
    lam : float
        Penalty weight ``lam >= 0``.
    objective : {"product", "factor", "weight_decay"}
        As in :func:`train_factorization`.
    init : (A0, B0) or Factorization
        The start, two ``(p, k)`` arrays whose columns lie in the span of ``V_k`` (to a relative
        ``1e-10``).
    **options
        Passed on to :func:`train_factorization` (``lr``, ``max_iter``, ``tol``, ``atol``,
        ``record_every``, ``callback``, ...). The optimizer is always gradient descent (Adam is
        not rotation-equivariant, so it does not stay in the span); ``optimizer``,
        ``init_scale`` and ``seed`` are not accepted. A ``callback`` receives the factors in the
        original item basis, ``(p, k)``.

    Returns
    -------
    TrainingResult
        As :func:`train_factorization` would return for the same start: ``factorization`` in the
        item basis, and ``loss_history`` the loss of the full problem (the small problem's loss
        plus the constant ``g_{k+1} + ... + g_p``, the part of ``||X||^2`` outside the span).

    Raises
    ------
    ValueError
        If ``gram`` is not a :class:`GramDecomposition`, ``k`` is out of range, ``init`` has the
        wrong shape or leaves the span of ``V_k``, or ``options`` holds ``optimizer``,
        ``init_scale`` or ``seed``; and every error of :func:`train_factorization`.
    """
    if not isinstance(gram, GramDecomposition):
        raise ValueError(f"gram must be a GramDecomposition, got {type(gram).__name__}")
    k = check_rank(k, min(gram.n, gram.p), "k")
    for name in ("optimizer", "init_scale", "seed"):
        if name in options:
            raise ValueError(f"{name} is not accepted: this function runs gradient descent from init")
    A0, B0 = _check_init(init, gram.p, k)
    V = gram.eigenvectors[:, :k]
    inside = []
    for M in (A0, B0):
        M_k = V.T @ M
        outside = float(np.linalg.norm(M - V @ M_k))
        if outside > 1e-10 * max(float(np.linalg.norm(M)), np.finfo(np.float64).tiny):
            raise ValueError(f"init must lie in the span of the top {k} eigenvectors of gram "
                             f"(a part of norm {outside:.3g} lies outside it)")
        inside.append(M_k)
    g = gram.eigenvalues[:k]
    block = GramDecomposition(np.diag(g), g, np.eye(k), gram.n)
    callback = options.pop("callback", None)
    if callback is not None:
        if not callable(callback):
            raise ValueError(f"callback must be callable, got {callback!r}")

        def in_items(iteration: int, A: np.ndarray, B: np.ndarray) -> None:
            A_items, B_items = V @ A, V @ B
            A_items.setflags(write=False)
            B_items.setflags(write=False)
            callback(iteration, A_items, B_items)

        options["callback"] = in_items
    result = train_factorization(block, k, lam, objective, "gd", init=tuple(inside), **options)
    outside_loss = float(np.sum(gram.eigenvalues[k:]))
    f = result.factorization
    return replace(
        result,
        factorization=Factorization(V @ f.A, V @ f.B),
        loss_history=result.loss_history + outside_loss,
    )

