"""The remedies of the paper's section 3, implemented so that they can be measured.

Used in ``chapters/remedies.md`` ("Remedies, measured").  Steck, Ekanadham &
Kallus (2024) list three ways out of the arbitrary cosine; this module
implements each, plus the post-hoc normalisation that is *not* a way out:

1. **Training with respect to cosine similarity.**  The model
   ``X ~ X A N(B)^T``, where ``N`` scales every row of ``B`` to unit length,
   trained on a loss of the form of objective (1):
   :func:`cosine_model_loss_and_gradients`, :func:`train_cosine_model`.
   The freedom that survives on the sphere: :func:`sphere_gauge_directions`,
   :func:`sphere_regauge`.  The gradient of the row normalisation:
   :func:`normalize_rows`, :func:`normalize_rows_vjp`.
2. **Avoiding the embedding space.**  Cosines of the columns of the
   ``p x p`` matrix ``W = A B^T`` or of the predictions ``X W``, which no
   gauge changes: :func:`projected_item_similarity`.
3. **Normalising before learning.**  :func:`standardize_columns` and
   :func:`inverse_propensity_weights` transform ``X`` before a fit;
   :func:`cossim.linalg.gram_matrix` and :func:`cossim.linalg.gram_spectrum`
   let the fits of :mod:`cossim.models` run from a (transformed) Gram matrix.

Import flow: this module imports :mod:`numpy`, :mod:`scipy`,
:mod:`cossim._validation`, :mod:`cossim.linalg`, :mod:`cossim.models` and
:mod:`cossim.audit` (whose :func:`cossim.audit.gauge_free_items` is the one
implementation of the gauge-free Gram matrix ``B (U^T U) B^T``); nothing
below it imports it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.optimize

from cossim._validation import (
    as_generator,
    as_matrix,
    check_choice,
    check_count,
    check_factor_pair,
    check_instance,
    check_nonnegative,
    check_positive,
    check_rank,
    check_real,
    check_shape,
    check_symmetric,
)
from cossim.audit import gauge_free_items
from cossim.linalg import check_gram
from cossim.models import Factorization

__all__ = [
    "CosineModelResult",
    "cosine_model_loss_and_gradients",
    "inverse_propensity_weights",
    "normalize_rows",
    "normalize_rows_vjp",
    "projected_item_similarity",
    "sphere_gauge_directions",
    "sphere_regauge",
    "standardize_columns",
    "train_cosine_model",
    # both sides on the sphere
    "TwoSidedModelResult",
    "train_two_sided_model",
    "two_sided_loss_and_gradients",
]

#: Relative tolerance for "rows of unit length" and for the sphere constraint ``diag(B M B^T) = 1``.
_UNIT_TOLERANCE = 1e-8

_SPACES = ("weights", "predictions")


# --------------------------------------------------------------------------- input checks


def _check_no_zero_rows(B: np.ndarray, name: str) -> np.ndarray:
    """Row norms of ``B``; ``ValueError`` if a row is zero (it has no direction)."""
    norms = np.sqrt(np.einsum("ij,ij->i", B, B))
    zero = np.flatnonzero(norms == 0.0)
    if zero.size:
        raise ValueError(f"{name} must have no zero rows (row {int(zero[0])} is zero and has no direction)")
    return norms


def _check_unit_rows(B: np.ndarray, name: str) -> None:
    norms = np.sqrt(np.einsum("ij,ij->i", B, B))
    worst = float(np.max(np.abs(norms - 1.0)))
    if worst > _UNIT_TOLERANCE:
        raise ValueError(
            f"{name} must have rows of unit length (a model trained on the sphere); "
            f"the largest deviation of a row norm from 1 is {worst:.3g}"
        )


def _cosines_from_gram(K: np.ndarray) -> np.ndarray:
    """Cosines ``K_ij / sqrt(K_ii K_jj)`` of the vectors whose Gram matrix is ``K``.

    Symmetric with a unit diagonal and entries clipped to ``[-1, 1]``; the
    rows and columns of vectors of zero length are NaN (as in
    :func:`cossim.cosine_similarity`).
    """
    K = (K + K.T) / 2.0
    diagonal = np.clip(np.diag(K).copy(), 0.0, None)
    zero = diagonal <= 0.0
    scale = np.sqrt(np.where(zero, 1.0, diagonal))
    C = K / scale[:, None] / scale[None, :]
    np.fill_diagonal(C, 1.0)
    np.clip(C, -1.0, 1.0, out=C)
    C[zero, :] = np.nan
    C[:, zero] = np.nan
    return C


# --------------------------------------------------------------------------- remedy 1: the sphere


def normalize_rows(B) -> np.ndarray:
    """Scale every row of ``B`` to unit length: ``N(B) = diag(1 / ||b_i||) B``.

    Derived in ``chapters/remedies.md`` ("Remedies, measured"): the map that
    puts the item embeddings on the unit sphere inside the model.

    Parameters
    ----------
    B : array_like, shape (p, k)
        One embedding per row; no row may be zero.

    Returns
    -------
    ndarray, shape (p, k)
        ``b_i / ||b_i||`` in row ``i``.

    Raises
    ------
    ValueError
        If ``B`` is not a finite, non-empty 2-D real array, or has a zero row.

    Examples
    --------
    >>> normalize_rows([[3.0, 4.0], [0.0, -2.0]])
    array([[ 0.6,  0.8],
           [ 0. , -1. ]])
    """
    B = as_matrix(B, "B")
    # Divided by the plain norms (no rescaling first, unlike cossim.cosine_similarity): the gradient
    # normalize_rows_vjp and the training loop use the same arithmetic, so they agree bit for bit.
    return B / _check_no_zero_rows(B, "B")[:, None]


def normalize_rows_vjp(B, upstream) -> np.ndarray:
    """The gradient through the row normalisation: ``dL/dB`` from ``dL/dN(B)``.

    Derived in ``chapters/remedies.md`` ("Remedies, measured").  The Jacobian
    of ``n = b / ||b||`` is ``(I - n n^T) / ||b||``, symmetric, so row ``i`` of
    the result is ``(u_i - <u_i, n_i> n_i) / ||b_i||`` with ``u_i`` row ``i`` of
    ``upstream``: the part of the upstream gradient tangent to the sphere,
    divided by the row's length.  The radial part is lost, because ``N(B)``
    does not change when a row of ``B`` is scaled.

    Parameters
    ----------
    B : array_like, shape (p, k)
        The unnormalised rows (no row zero).
    upstream : array_like, shape (p, k)
        ``dL/dN(B)``, the gradient of a scalar ``L`` with respect to ``N(B)``.

    Returns
    -------
    ndarray, shape (p, k)
        ``dL/dB``; every row is orthogonal to the corresponding row of ``B``.

    Raises
    ------
    ValueError
        If ``B`` or ``upstream`` is not a finite 2-D real array, ``B`` has a
        zero row, or the shapes differ (the message names ``upstream``).
    """
    B = as_matrix(B, "B")
    U = as_matrix(upstream, "upstream")
    if U.shape != B.shape:
        raise ValueError(f"upstream must have the shape of B {B.shape}, got {U.shape}")
    norms = _check_no_zero_rows(B, "B")
    N = B / norms[:, None]
    radial = np.einsum("ij,ij->i", U, N)
    return (U - radial[:, None] * N) / norms[:, None]


def _sphere_loss_terms(G, trace_G, A, Y, lam):
    """Loss and gradients for ``A`` and ``Y = N(B)`` of the sphere model (unchecked)."""
    k = A.shape[1]
    GAY = G @ np.hstack([A, Y])  # one product with G instead of two
    GA, GY = GAY[:, :k], GAY[:, k:]
    H = A.T @ GA  # A^T G A
    C = Y.T @ Y
    AtA = A.T @ A
    loss = trace_G - 2.0 * float(np.sum(GA * Y)) + float(np.sum(H * C)) + lam * float(np.sum(AtA * C))
    grad_A = 2.0 * (GA @ C - GY) + (2.0 * lam) * (A @ C)
    grad_Y = 2.0 * (Y @ H - GA) + (2.0 * lam) * (Y @ AtA)
    return loss, grad_A, grad_Y


def cosine_model_loss_and_gradients(G, A, B, lam: float) -> tuple[float, np.ndarray, np.ndarray]:
    """Loss and gradients of the sphere model ``X ~ X A N(B)^T`` under the product penalty.

    Derived in ``chapters/remedies.md`` ("Remedies, measured"), remedy 1 of
    the paper: the item embeddings are normalised *inside* the model, and the
    loss is objective (1) for ``W = A N(B)^T``,

        L(A, B) = ||X - X A N(B)^T||_F^2 + lam ||A N(B)^T||_F^2,

    computed from the Gram matrix ``G = X^T X`` as
    ``tr(G) - 2 <G A, Y> + <A^T G A, Y^T Y> + lam <A^T A, Y^T Y>`` with
    ``Y = N(B)`` and ``<P, Q> = tr(P^T Q)``.

    Parameters
    ----------
    G : array_like, shape (p, p)
        ``X^T X`` (finite, symmetric; positive semi-definiteness is not checked).
    A : array_like, shape (p, k)
        Encoder; the user embeddings are the rows of ``X A``.
    B : array_like, shape (p, k)
        Unnormalised item parameters; the item embeddings are the rows of
        ``N(B)``.  No row may be zero.
    lam : float
        Penalty weight ``lam >= 0``.

    Returns
    -------
    loss : float
    grad_A : ndarray, shape (p, k)
        ``2 (G A Y^T Y - G Y) + 2 lam A Y^T Y``.
    grad_B : ndarray, shape (p, k)
        :func:`normalize_rows_vjp` of ``dL/dY = 2 (Y A^T G A - G A) + 2 lam Y A^T A``.

    Raises
    ------
    ValueError
        For a ``G`` that is not a finite square symmetric matrix, ``A`` or
        ``B`` of the wrong shape, a zero row in ``B``, or ``lam < 0``.

    Notes
    -----
    Cost ``O(p^2 k)``, independent of the number of users.  The loss carries
    an absolute rounding error of order ``eps * tr(G)``.
    """
    G = check_gram(G)
    p = G.shape[0]
    A, B = check_factor_pair(A, B, p, "the size of G")
    lam = check_nonnegative(lam, "lam")
    norms = _check_no_zero_rows(B, "B")
    Y = B / norms[:, None]
    loss, grad_A, grad_Y = _sphere_loss_terms(G, float(np.trace(G)), A, Y, lam)
    return loss, grad_A, normalize_rows_vjp(B, grad_Y)


@dataclass(frozen=True, eq=False)
class CosineModelResult:
    """Returned by :func:`train_cosine_model`: the trained sphere model and how the run ended.

    Attributes
    ----------
    factorization : Factorization
        ``A`` (shape (p, k)) and the item embeddings ``N(B)`` (unit rows): the
        trained model predicts ``X A N(B)^T``.
    loss : float
        The loss :func:`cosine_model_loss_and_gradients` at the result.
    loss_history : ndarray, shape (n_iter + 1,)
        The loss at the initial point and after every iteration.
    grad_norm : float
        Frobenius norm of the gradient with respect to ``B``, evaluated at the
        returned unit-length rows (the gradient along the sphere; the gradient
        with respect to ``A`` is zero there up to rounding, because ``A`` is the
        exact minimiser for the final ``B``).
    n_iter : int
        Iterations of L-BFGS taken.
    converged : bool
        Whether L-BFGS reported success (status 0: its tolerance on the loss
        was met), not a stop on ``max_iter`` (status 1) nor a failed line
        search or other abnormal end (status 2).
    message : str
        L-BFGS's own account of why it stopped.
    """

    factorization: Factorization
    loss: float
    loss_history: np.ndarray
    grad_norm: float
    n_iter: int
    converged: bool
    message: str

    def __post_init__(self) -> None:
        self.loss_history.setflags(write=False)


def _check_init(init, p: int, k: int) -> np.ndarray:
    B0 = check_shape(init.B if isinstance(init, Factorization) else as_matrix(init, "init"), (p, k), "init")
    _check_no_zero_rows(B0, "init")
    return np.array(B0, dtype=np.float64)


def train_cosine_model(
    G,
    k: int,
    lam: float,
    *,
    init=None,
    seed: int | np.random.Generator = 0,
    max_iter: int = 300,
    tol: float = 1e-12,
) -> CosineModelResult:
    """Train the sphere model ``X ~ X A N(B)^T`` on the product-penalty loss.

    Derived and used in ``chapters/remedies.md`` ("Remedies, measured"):
    remedy 1 of the paper, "train with respect to cosine similarity".  The
    loss is that of :func:`cosine_model_loss_and_gradients`.

    For a fixed ``Y = N(B)`` the loss is a strictly convex quadratic in ``A``
    (for ``lam > 0``) with the minimiser ``A*(Y) = S Y (Y^T Y)^{-1}``, where
    ``S = (G + lam I)^{-1} G``.  Substituting it leaves a function of ``B``
    alone ("variable projection"),

        f(B) = tr(G) - tr((Y^T Y)^{-1} Y^T T Y),   T = G (G + lam I)^{-1} G,

    with gradient :func:`normalize_rows_vjp` of
    ``-2 (I - Y (Y^T Y)^{-1} Y^T) T Y (Y^T Y)^{-1}``.  It is minimised by
    L-BFGS (``scipy.optimize.minimize``); each iteration costs one
    ``p x p`` by ``p x k`` product.  At every iterate the pair
    ``(A*(Y), B)`` is a point of the original model with loss ``f(B)``.

    Parameters
    ----------
    G : array_like, shape (p, p)
        ``X^T X`` (see :func:`cossim.linalg.gram_matrix`).
    k : int
        Number of latent dimensions, ``1 <= k <= p``.
    lam : float
        Penalty weight, ``lam > 0`` (units of ``sigma**2``, as in objective (1)).
    init : array_like of shape (p, k) or Factorization, optional
        Starting ``B`` (for a Factorization, its ``B``); no row may be zero.
        Default: standard normal entries drawn with ``seed``.
    seed : int or numpy.random.Generator, default 0
        Seed of the random start; ignored when ``init`` is given.
    max_iter : int, default 300
        Largest number of L-BFGS iterations.
    tol : float, default 1e-12
        Stop when the loss decreases by less than ``tol`` relative to its size
        in one iteration (L-BFGS's ``ftol``), ``tol > 0``.

    Returns
    -------
    CosineModelResult

    Raises
    ------
    ValueError
        For a bad ``G``, ``k`` outside ``1..p``, ``lam`` not finite and
        positive, a bad ``init`` (wrong shape, zero row), ``max_iter < 1``,
        ``tol`` not positive, or a bad ``seed``.

    Notes
    -----
    If ``Y^T Y`` becomes singular (the normalised rows span fewer than ``k``
    dimensions) the loss is reported as infinite there and the line search
    steps back.
    """
    G = check_gram(G)
    p = G.shape[0]
    k = check_rank(k, p, "k")
    lam = check_nonnegative(lam, "lam")
    if lam == 0:
        raise ValueError("lam must be > 0 (for lam = 0 the encoder A is not determined by B)")
    max_iter = check_count(max_iter, "max_iter")
    tol = check_positive(tol, "tol")
    if init is None:
        B0 = as_generator(seed).standard_normal((p, k))
    else:
        B0 = _check_init(init, p, k)

    trace_G = float(np.trace(G))
    factor = scipy.linalg.cho_factor(G + lam * np.eye(p))
    S = scipy.linalg.cho_solve(factor, G)  # (G + lam I)^{-1} G, which commutes with G
    T = G - lam * S  # G (G + lam I)^{-1} G
    T = (T + T.T) / 2.0

    def reduced(flat: np.ndarray) -> tuple[float, np.ndarray]:
        B = flat.reshape(p, k)
        norms = np.sqrt(np.einsum("ij,ij->i", B, B))
        if np.any(norms == 0.0):
            return np.inf, np.zeros_like(flat)
        Y = B / norms[:, None]
        # Three matrix products per evaluation (few calls keep threaded BLAS efficient).
        Y_TY = np.hstack([Y, T @ Y])
        small = Y.T @ Y_TY  # [Y^T Y, Y^T T Y]
        C, YTY = small[:, :k], small[:, k:]
        try:
            C_inv = np.linalg.inv(C)
        except np.linalg.LinAlgError:
            return np.inf, np.zeros_like(flat)
        loss = trace_G - float(np.sum(YTY * C_inv))
        # -2 (T Y C^{-1} - Y C^{-1} Y^T T Y C^{-1})
        grad_Y = -2.0 * (Y_TY @ np.vstack([-(C_inv @ YTY @ C_inv), C_inv]))
        radial = np.einsum("ij,ij->i", grad_Y, Y)
        grad_B = (grad_Y - radial[:, None] * Y) / norms[:, None]
        return loss, grad_B.ravel()

    history = [reduced(B0.ravel())[0]]

    def record(intermediate_result) -> None:
        history.append(float(intermediate_result.fun))

    outcome = scipy.optimize.minimize(
        reduced,
        B0.ravel(),
        jac=True,
        method="L-BFGS-B",
        callback=record,
        options={"maxiter": max_iter, "ftol": tol, "gtol": 0.0, "maxcor": 20},
    )
    B = outcome.x.reshape(p, k)
    Y = normalize_rows(B)
    A = S @ Y @ np.linalg.inv(Y.T @ Y)
    loss, _, grad_Y = _sphere_loss_terms(G, trace_G, A, Y, lam)
    grad_B = normalize_rows_vjp(Y, grad_Y)  # at the returned, unit-length rows
    return CosineModelResult(
        factorization=Factorization(A, Y),
        loss=loss,
        loss_history=np.array(history, dtype=np.float64),
        grad_norm=float(np.linalg.norm(grad_B)),
        n_iter=int(outcome.nit),
        converged=bool(outcome.status == 0),
        message=str(outcome.message),
    )


def _symmetric_basis_coefficients(Y: np.ndarray) -> np.ndarray:
    """Matrix of the linear map ``Delta -> diag(Y Delta Y^T)`` in Frobenius-orthonormal coordinates.

    A symmetric ``k x k`` matrix ``Delta`` has coordinates ``Delta_aa`` and
    ``sqrt(2) Delta_ab`` (``a < b``), in the order of ``np.triu_indices(k)``;
    then the Frobenius norm of ``Delta`` is the Euclidean norm of its coordinates.
    """
    k = Y.shape[1]
    rows, cols = np.triu_indices(k)
    weight = np.where(rows == cols, 1.0, np.sqrt(2.0))
    return Y[:, rows] * Y[:, cols] * weight


def _symmetric_from_coordinates(x: np.ndarray, k: int) -> np.ndarray:
    rows, cols = np.triu_indices(k)
    weight = np.where(rows == cols, 1.0, np.sqrt(2.0))
    M = np.zeros((k, k))
    M[rows, cols] = x / weight
    return M + np.triu(M, 1).T


def sphere_gauge_directions(B) -> np.ndarray:
    """The directions in which the gauge of a model on the sphere can still move.

    Derived in ``chapters/remedies.md`` ("Remedies, measured").  For item
    embeddings ``Y = N(B)`` on the unit sphere and a symmetric positive-definite
    ``M`` with ``diag(Y M Y^T) = 1``, the pair ``(A M^{-1/2}, Y M^{1/2})`` is
    again on the sphere and has the same ``A Y^T``, hence the same loss
    (:func:`sphere_regauge`).  Near ``M = I`` these ``M`` form the affine space
    ``I + span(directions)``, where the directions are the symmetric
    ``Delta`` with ``diag(Y Delta Y^T) = 0``.  There are at least
    ``k (k + 1) / 2 - p`` of them.

    Parameters
    ----------
    B : array_like, shape (p, k)
        Item parameters (no row zero); only ``N(B)`` matters.

    Returns
    -------
    ndarray, shape (m, k, k)
        An orthonormal basis (in the Frobenius inner product) of the symmetric
        ``Delta`` with ``diag(N(B) Delta N(B)^T) = 0``; ``m = 0`` when the only
        such matrix is zero.

    Raises
    ------
    ValueError
        If ``B`` is not a finite 2-D real array or has a zero row.

    Notes
    -----
    Computed from the singular value decomposition of the ``p x k(k+1)/2``
    matrix of the map; singular values below ``max(p, k(k+1)/2) * eps`` times
    the largest count as zero.  Cost ``O(p k^4)`` at worst: about a second
    for ``p = 1,000`` and ``k = 50``.
    """
    Y = normalize_rows(B)
    k = Y.shape[1]
    K = _symmetric_basis_coefficients(Y)
    _, singular_values, Vt = np.linalg.svd(K, full_matrices=True)
    tolerance = max(K.shape) * np.finfo(np.float64).eps * (singular_values[0] if singular_values.size else 0.0)
    rank = int(np.count_nonzero(singular_values > tolerance))
    null = Vt[rank:]
    return np.array([_symmetric_from_coordinates(x, k) for x in null]).reshape(null.shape[0], k, k)


def sphere_regauge(factorization: Factorization, M) -> Factorization:
    """Move a model on the sphere along its remaining freedom: ``(A M^{-1/2}, B M^{1/2})``.

    Derived in ``chapters/remedies.md`` ("Remedies, measured").  If the rows
    of ``B`` have unit length and ``diag(B M B^T) = 1``, the rows of
    ``B M^{1/2}`` have unit length too, so the new pair is again a model on the
    sphere, and ``A M^{-1/2} (B M^{1/2})^T = A B^T``: every prediction and the
    loss are unchanged, while the item cosines become ``B M B^T``.

    Parameters
    ----------
    factorization : Factorization
        ``A`` and item embeddings ``B`` with unit rows (e.g. from
        :func:`train_cosine_model`).
    M : array_like, shape (k, k)
        Symmetric positive definite, with ``diag(B M B^T) = 1`` (relative
        tolerance 1e-8); e.g. ``I + t Delta`` with ``Delta`` from
        :func:`sphere_gauge_directions` and ``t`` small enough.

    Returns
    -------
    Factorization
        ``(A M^{-1/2}, B M^{1/2})`` with the symmetric square roots.

    Raises
    ------
    ValueError
        If ``factorization`` is not a Factorization or its ``B`` does not have unit rows
        (naming ``factorization``); if ``M`` is not a finite symmetric positive-definite
        ``k x k`` matrix, or violates ``diag(B M B^T) = 1`` (naming ``M``).
    """
    factorization = check_instance(factorization, Factorization, "factorization")
    _check_unit_rows(factorization.B, "factorization")
    k = factorization.k
    M = check_shape(check_symmetric(M, "M"), (k, k), "M")
    values, vectors = np.linalg.eigh(M)
    if not values[0] > k * np.finfo(np.float64).eps * max(values[-1], 0.0):
        raise ValueError(f"M must be positive definite, but its smallest eigenvalue is {values[0]:.3g}")
    constraint = np.einsum("ij,jk,ik->i", factorization.B, M, factorization.B)
    worst = float(np.max(np.abs(constraint - 1.0)))
    if worst > _UNIT_TOLERANCE:
        raise ValueError(
            f"M must keep the rows on the sphere, diag(B M B^T) = 1; the largest deviation is {worst:.3g}"
        )
    root = (vectors * np.sqrt(values)) @ vectors.T
    inverse_root = (vectors / np.sqrt(values)) @ vectors.T
    return Factorization(factorization.A @ inverse_root, factorization.B @ root)


# --------------------------------------------------------------------------- remedy 2: project back


def projected_item_similarity(factorization: Factorization, X=None, space: str = "weights", *, gram=None) -> np.ndarray:
    """Item-item cosines taken outside the embedding space, which no gauge changes.

    Derived in ``chapters/remedies.md`` ("Remedies, measured"), remedy 2 of
    the paper: the product ``W = A B^T`` (p x p) and the predictions ``X W``
    (n x p) are the same for ``(A, B)`` and ``(A G, B G^{-T})`` for every
    invertible ``G``, so cosines computed from them do not depend on the gauge.

    Parameters
    ----------
    factorization : Factorization
        Factors ``A, B`` of shape (p, k).
    X : array_like, shape (n, p), optional
        The data; needed for ``space="predictions"`` unless ``gram`` is given.
    space : {"weights", "predictions"}, default "weights"
        ``"weights"``: cosines between the columns of ``W = A B^T`` (column
        ``i`` holds the weights with which every item's data predicts item
        ``i``).  ``"predictions"``: cosines between the columns of ``X W``
        (column ``i`` is the predicted score of item ``i`` for every user).
    gram : array_like, shape (p, p), optional, keyword only
        ``X^T X``, used instead of ``X`` for ``"predictions"`` (then
        ``X`` is ignored).

    Returns
    -------
    ndarray, shape (p, p)
        Symmetric, ones on the diagonal; NaN in the rows and columns of items
        whose column is zero.  Computed from Gram matrices: ``W^T W = B (A^T A)
        B^T`` and ``(X W)^T (X W) = B (A^T X^T X A) B^T``, so the cost is
        ``O(p^2 k)`` plus, for ``X``, one ``n p k`` product.

    Raises
    ------
    ValueError
        If ``factorization`` is not a Factorization, ``space`` is unknown, or for
        ``"predictions"`` neither ``X`` nor ``gram`` is given, or the one given
        is bad or does not have ``p`` columns.
    """
    factorization = check_instance(factorization, Factorization, "factorization")
    space = check_choice(space, _SPACES, "space")
    A, B = factorization.A, factorization.B
    if space == "weights":
        middle = A.T @ A
    elif gram is not None:
        G = check_gram(gram, "gram")
        if G.shape[0] != factorization.p:
            raise ValueError(f"gram must be {factorization.p} x {factorization.p} (one row per item), got shape {G.shape}")
        middle = A.T @ G @ A
    elif X is not None:
        X = as_matrix(X, "X")
        if X.shape[1] != factorization.p:
            raise ValueError(f"X must have {factorization.p} columns (one per item), got shape {X.shape}")
        XA = X @ A
        middle = XA.T @ XA
    else:
        raise ValueError('X (or gram) is needed for space="predictions"')
    E = gauge_free_items(B, user_gram=(middle + middle.T) / 2.0)  # E E^T = B middle B^T
    return _cosines_from_gram(E @ E.T)


# --------------------------------------------------------------------------- remedy 3: normalise first


def standardize_columns(X, *, centre: bool = True, preserve_norm: bool = False) -> np.ndarray:
    """Standardise every column (item) of ``X`` before learning.

    Derived in ``chapters/remedies.md`` ("Remedies, measured"), remedy 3 of
    the paper.  With ``centre=True`` each column gets mean 0 and variance 1
    (population variance, ``ddof=0``): ``(x_i - mean_i) / std_i``.  With
    ``centre=False`` each column is only divided by its root mean square, so
    that the mean of its squares is 1 (the column has Euclidean norm
    ``sqrt(n)``: unit norm up to one common factor, which keeps the scale of
    ``X``, and so the meaning of a penalty weight, comparable to the raw data).

    Parameters
    ----------
    X : array_like, shape (n, p)
        Data, users by items, ``n >= 2`` when centring.
    centre : bool, default True
        Subtract the column means first.
    preserve_norm : bool, default False
        Multiply the result by one common factor so that its Frobenius norm
        equals that of ``X`` (all columns then have the same variance
        ``||X||_F^2 / (n p)`` instead of 1): the singular values keep the
        overall scale of the data, so a penalty weight tuned for ``X`` bites
        at the same scale (as in :func:`inverse_propensity_weights`).

    Returns
    -------
    ndarray of float64, shape (n, p)

    Raises
    ------
    ValueError
        If ``X`` is not a finite 2-D real array, has a single row while
        centring, or has a constant column (centring) or a zero column (not
        centring), which cannot be scaled to unit variance; the message names ``X``.

    Examples
    --------
    >>> standardize_columns([[0.0, 1.0], [2.0, 3.0]])
    array([[-1., -1.],
           [ 1.,  1.]])
    """
    X = np.asarray(as_matrix(X, "X"), dtype=np.float64)
    original_norm = float(np.linalg.norm(X))
    if centre:
        if X.shape[0] < 2:
            raise ValueError(f"X must have at least 2 rows to be centred, got shape {X.shape}")
        X = X - X.mean(axis=0)
    scale = np.sqrt(np.mean(X * X, axis=0))
    bad = np.flatnonzero(scale == 0.0)
    if bad.size:
        what = "constant" if centre else "zero"
        raise ValueError(f"X has a {what} column (column {int(bad[0])}) that cannot be scaled to unit variance")
    if preserve_norm:
        # Every standardised column has squared norm n, so the whole matrix has n p.
        scale = scale * (np.sqrt(X.size) / original_norm)
    return X / scale


def inverse_propensity_weights(X, exponent: float, *, preserve_norm: bool = True) -> np.ndarray:
    """Item weights ``popularity_i ** (-exponent)`` that damp popular items before learning.

    Derived in ``chapters/remedies.md`` ("Remedies, measured"), remedy 3 of
    the paper (inverse propensity weighting).  The popularity of item ``i``
    is its column sum (for 0/1 data, the number of users who chose it).
    Multiplying column ``i`` of ``X`` by ``w_i`` divides it by
    ``popularity_i ** exponent``: ``exponent = 1`` equalises the column sums,
    ``1/2`` equalises the column norms of 0/1 data, and ``3/4`` borrows the
    exponent word2vec uses to flatten word frequencies.

    Parameters
    ----------
    X : array_like, shape (n, p)
        Non-negative data, users by items; every column must have a positive sum.
    exponent : float
        ``exponent >= 0``; 0 gives equal weights.
    preserve_norm : bool, default True
        If False, the weights are ``(popularity_i / max_j popularity_j) ** (-exponent)``:
        the most popular item gets weight 1. If True, rescale them by one
        common factor so that ``X * w`` has the
        Frobenius norm of ``X``: the singular values keep their overall scale,
        so a penalty weight ``lam`` tuned for ``X`` bites at the same scale.

    Returns
    -------
    ndarray of float64, shape (p,)
        Positive weights; the weighted data is ``X * w`` (broadcast over rows).

    Raises
    ------
    ValueError
        If ``X`` is not a finite 2-D real array, has a negative entry or a
        column with sum 0 (naming ``X``), or ``exponent`` is negative or not
        finite (naming ``exponent``).

    Examples
    --------
    >>> inverse_propensity_weights([[1.0, 1.0], [1.0, 0.0], [1.0, 0.0], [1.0, 0.0]],
    ...                            1.0, preserve_norm=False)
    array([1., 4.])
    """
    X = as_matrix(X, "X")
    exponent = check_nonnegative(exponent, "exponent")
    if np.any(X < 0):
        raise ValueError("X must be non-negative (popularity is a column sum)")
    popularity = X.sum(axis=0, dtype=np.float64)
    empty = np.flatnonzero(popularity <= 0)
    if empty.size:
        raise ValueError(f"X has a column with sum 0 (column {int(empty[0])}): its popularity is undefined")
    # Relative to the largest popularity, so the rarest item's weight is the largest; an exponent
    # so large that it overflows is refused rather than returned as inf or NaN.
    with np.errstate(over="ignore"):
        w = (popularity / popularity.max()) ** (-exponent)
    if not np.all(np.isfinite(w)):
        raise ValueError(f"exponent {exponent} is too large for these popularities: the weights overflow")
    if preserve_norm:
        column_norms2 = np.sum(np.asarray(X, dtype=np.float64) ** 2, axis=0)
        w = w * np.sqrt(column_norms2.sum() / np.sum(w * w * column_norms2))
    return w


# --------------------------------------------------------------------------- remedy 1, both sides on the sphere
#
# The two-sided reading of "train with respect to cosine similarity": users and items are both
# normalised and the score is a scaled cosine, tau N(X A) N(B)^T, as in contrastive training.
# Appended as new functions; the one-sided model above is left as it is.


def _check_data_rows(X: np.ndarray) -> None:
    """``ValueError`` naming ``X`` if a user has no interactions (a zero row has no direction)."""
    empty = np.flatnonzero(~np.any(X != 0, axis=1))
    if empty.size:
        raise ValueError(
            f"X must have no zero rows (row {int(empty[0])} is zero, so its user embedding X A has no direction)"
        )


def _two_sided_terms(X, norm2_X, A, B, tau):
    """Loss ``||X - tau U Y^T||^2`` and its gradients in ``A``, ``B``, ``tau`` (unchecked).

    ``U = N(X A)``, ``Y = N(B)``.  Returns ``(loss, grad_A, grad_B, grad_tau, c, q, U, Y)`` with
    ``c = <X, U Y^T>`` and ``q = ||U Y^T||^2``; ``loss`` is ``inf`` if a row of ``X A`` is zero.
    """
    Z = X @ A
    z_norms = np.sqrt(np.einsum("ij,ij->i", Z, Z))
    b_norms = np.sqrt(np.einsum("ij,ij->i", B, B))
    if np.any(z_norms == 0.0) or np.any(b_norms == 0.0):
        return np.inf, None, None, None, None, None, None, None
    U = Z / z_norms[:, None]
    Y = B / b_norms[:, None]
    XY = X @ Y  # n x k
    XtU = X.T @ U  # p x k
    UtU = U.T @ U
    YtY = Y.T @ Y
    c = float(np.sum(U * XY))  # <X, U Y^T>
    q = float(np.sum(UtU * YtY))  # ||U Y^T||_F^2
    loss = norm2_X - 2.0 * tau * c + tau * tau * q
    grad_U = 2.0 * tau * (tau * (U @ YtY) - XY)
    grad_Y = 2.0 * tau * (tau * (Y @ UtU) - XtU)
    radial_U = np.einsum("ij,ij->i", grad_U, U)
    grad_Z = (grad_U - radial_U[:, None] * U) / z_norms[:, None]
    radial_Y = np.einsum("ij,ij->i", grad_Y, Y)
    grad_B = (grad_Y - radial_Y[:, None] * Y) / b_norms[:, None]
    grad_A = X.T @ grad_Z
    grad_tau = 2.0 * (tau * q - c)
    return loss, grad_A, grad_B, grad_tau, c, q, U, Y


def two_sided_loss_and_gradients(X, A, B, tau: float) -> tuple[float, np.ndarray, np.ndarray, float]:
    """Loss and gradients of the two-sided sphere model ``X ~ tau N(X A) N(B)^T``.

    Derived in ``chapters/remedies.md`` ("Remedies, measured"): the second
    reading of the paper's remedy 1, "train with respect to cosine
    similarity", in which users *and* items are normalised, so that every
    score is ``tau`` times a user-item cosine (as in contrastive training),

        L(A, B, tau) = ||X - tau N(X A) N(B)^T||_F^2,

    where ``N`` scales every row to unit length.  With ``U = N(X A)``,
    ``Y = N(B)``, ``c = <X, U Y^T>`` and ``q = ||U Y^T||_F^2``,
    ``L = ||X||_F^2 - 2 tau c + tau^2 q``.

    Parameters
    ----------
    X : array_like, shape (n, p)
        Data, users by items; no row may be zero.
    A : array_like, shape (p, k)
        Encoder; the user embeddings are the rows of ``N(X A)``.  No row of
        ``X A`` may be zero.
    B : array_like, shape (p, k)
        Unnormalised item parameters; the item embeddings are the rows of
        ``N(B)``.  No row may be zero.
    tau : float
        The scale of the scores (finite; any sign).

    Returns
    -------
    loss : float
    grad_A : ndarray, shape (p, k)
        ``X^T`` times the gradient through the normalisation of the rows of
        ``X A`` (:func:`normalize_rows_vjp`) of ``dL/dU = 2 tau (tau U Y^T Y - X Y)``.
    grad_B : ndarray, shape (p, k)
        :func:`normalize_rows_vjp` of ``dL/dY = 2 tau (tau Y U^T U - X^T U)``.
    grad_tau : float
        ``2 (tau q - c)``; zero at ``tau = c / q``, the best scale for given
        embeddings.

    Raises
    ------
    ValueError
        If ``X`` is not a finite 2-D real array or has a zero row (naming
        ``X``); ``A`` or ``B`` is not a finite ``p x k`` array (naming it);
        ``B`` or ``X A`` has a zero row (naming ``B`` or ``A``); or ``tau``
        is not a finite real number (naming ``tau``).

    Notes
    -----
    Cost ``O(n p k)``: unlike the one-sided model, the normalisation of the
    users does not pass through ``X^T X``.
    """
    X = as_matrix(X, "X")
    _check_data_rows(X)
    A, B = check_factor_pair(A, B, X.shape[1], "one per item, the columns of X")
    tau = check_real(tau, "tau")
    _check_no_zero_rows(B, "B")
    loss, grad_A, grad_B, grad_tau, *_ = _two_sided_terms(X, float(np.sum(X * X)), A, B, float(tau))
    if not np.isfinite(loss):  # B has no zero row, so a row of X A is zero
        raise ValueError("A must give every user a direction: a row of X A is zero")
    return float(loss), grad_A, grad_B, float(grad_tau)


@dataclass(frozen=True, eq=False)
class TwoSidedModelResult:
    """What :func:`train_two_sided_model` returns.

    Used in ``chapters/remedies.md`` ("Remedies, measured").

    Attributes
    ----------
    A : ndarray, shape (p, k)
        Encoder, scaled so that the rows of ``X A`` have mean length 1 (the
        model does not see the scale of ``A``).
    item_embeddings : ndarray, shape (p, k)
        ``Y = N(B)``, unit rows: their dot products are the item-item cosines.
    user_embeddings : ndarray, shape (n, k)
        ``U = N(X A)``, unit rows.
    tau : float
        The fixed scale of the scores ``tau U Y^T``.
    loss : float
        ``||X - tau U Y^T||_F^2``.
    loss_history : ndarray, shape (n_iter + 1,)
        The loss at the start and after every iteration.
    grad_norm : float
        Frobenius norm of the gradient of ``loss / ||X||_F^2`` with respect to
        ``(A, B)`` at the returned ``A`` and at ``B = Y`` (unit rows).
    n_iter : int
        Iterations of L-BFGS taken.
    converged : bool
        Whether every entry of that gradient is at most ``tol`` in absolute
        value at the returned point (L-BFGS's gradient test); a stop on
        ``max_iter``, on a failed line search or on a step that no longer
        lowers the loss is not convergence.
    message : str
        L-BFGS's own account of why it stopped.
    """

    A: np.ndarray
    item_embeddings: np.ndarray
    user_embeddings: np.ndarray
    tau: float
    loss: float
    loss_history: np.ndarray
    grad_norm: float
    n_iter: int
    converged: bool
    message: str

    def __post_init__(self) -> None:
        for array in (self.A, self.item_embeddings, self.user_embeddings, self.loss_history):
            array.setflags(write=False)


def train_two_sided_model(
    X,
    k: int,
    tau: float,
    *,
    init=None,
    seed: int | np.random.Generator = 0,
    max_iter: int = 20_000,
    tol: float = 1e-9,
) -> TwoSidedModelResult:
    """Train the two-sided sphere model ``X ~ tau N(X A) N(B)^T`` at a fixed ``tau``.

    Derived and used in ``chapters/remedies.md`` ("Remedies, measured").  The
    loss is that of :func:`two_sided_loss_and_gradients` with ``tau`` held
    fixed, as the temperature of contrastive training usually is; it is
    minimised over ``(A, B)`` by L-BFGS, divided by ``||X||_F^2`` so that the
    tolerance is relative.

    Parameters
    ----------
    X : array_like, shape (n, p)
        Data, users by items; no row may be zero.
    k : int
        Number of latent dimensions, ``1 <= k <= p``.
    tau : float
        The scale of the scores, ``tau > 0``: every score ``tau cos(u, i)``
        lies in ``[-tau, tau]``.
    init : Factorization, optional
        Starting ``A`` and ``B`` (for example a gauge of a minimiser of
        objective (1)); no row of ``B`` or ``X A`` may be zero.  Default:
        standard normal entries drawn with ``seed``.
    seed : int or numpy.random.Generator, default 0
        Seed of the random start; ignored when ``init`` is given.
    max_iter : int, default 20000
        Largest number of L-BFGS iterations.
    tol : float, default 1e-9
        Stop when every entry of the gradient of ``loss / ||X||_F^2`` is at
        most ``tol`` in absolute value (L-BFGS's ``gtol``); ``tol > 0``.  There
        is no stop on a small decrease of the loss.

    Returns
    -------
    TwoSidedModelResult

    Raises
    ------
    ValueError
        For a bad ``X`` (naming ``X``), ``k`` outside ``1..p``, ``tau`` not
        finite and positive, an ``init`` that is not a Factorization of shape
        ``(p, k)`` or gives a zero row (naming ``init``), ``max_iter < 1``,
        ``tol`` not finite and positive, or a bad ``seed``.

    Notes
    -----
    ``N(X A)`` and ``N(B)`` do not change when ``A`` is multiplied by a
    positive number or a row of ``B`` is, so the start is rescaled (rows of
    ``X A`` of mean length 1, rows of ``B`` of length 1) before the first
    iteration; the model is the same.  Each iteration costs ``O(n p k)``.
    """
    X = np.array(as_matrix(X, "X"), dtype=np.float64)
    _check_data_rows(X)
    n, p = X.shape
    k = check_rank(k, p, "k")
    tau = check_positive(tau, "tau")
    max_iter = check_count(max_iter, "max_iter")
    tol = check_positive(tol, "tol")
    if init is None:
        rng = as_generator(seed)
        A0 = rng.standard_normal((p, k))
        B0 = rng.standard_normal((p, k))
    elif isinstance(init, Factorization):
        if init.A.shape != (p, k):
            raise ValueError(f"init must have factors of shape ({p}, {k}), got {init.A.shape}")
        A0, B0 = np.array(init.A, dtype=np.float64), np.array(init.B, dtype=np.float64)
    else:
        raise ValueError(f"init must be a cossim.Factorization or None, got {type(init).__name__}")
    _check_no_zero_rows(B0, "init")
    z_norms = np.linalg.norm(X @ A0, axis=1)
    if np.any(z_norms == 0.0):
        raise ValueError("init must give every user a direction: a row of X A is zero")
    A0 = A0 / z_norms.mean()
    B0 = normalize_rows(B0)

    norm2_X = float(np.sum(X * X))
    size = p * k

    def objective(flat: np.ndarray) -> tuple[float, np.ndarray]:
        A, B = flat[:size].reshape(p, k), flat[size:].reshape(p, k)
        loss, grad_A, grad_B, *_ = _two_sided_terms(X, norm2_X, A, B, tau)
        if not np.isfinite(loss):
            return np.inf, np.zeros_like(flat)
        return loss / norm2_X, np.concatenate([grad_A.ravel(), grad_B.ravel()]) / norm2_X

    def rescaled(A, B):
        """The same model with rows of ``X A`` of mean length 1 and unit rows of ``B``."""
        return A / np.linalg.norm(X @ A, axis=1).mean(), normalize_rows(B)

    # The loss does not see the scale of A or of a row of B, but the gradient does (it shrinks as
    # they grow), so the gradient test is made at the rescaled point, and L-BFGS is restarted from
    # there if it stopped on its own gradient test in other units.
    A, B = A0, B0
    history = [objective(np.concatenate([A.ravel(), B.ravel()]))[0] * norm2_X]

    def record(intermediate_result) -> None:
        history.append(float(intermediate_result.fun) * norm2_X)

    n_iter, message = 0, ""
    while True:
        outcome = scipy.optimize.minimize(
            objective,
            np.concatenate([A.ravel(), B.ravel()]),
            jac=True,
            method="L-BFGS-B",
            callback=record,
            options={"maxiter": max_iter - n_iter, "maxfun": 2 * max_iter, "ftol": 0.0, "gtol": tol,
                     "maxcor": 20},
        )
        n_iter += int(outcome.nit)
        message = str(outcome.message)
        A, B = rescaled(outcome.x[:size].reshape(p, k), outcome.x[size:].reshape(p, k))
        loss, grad_A, grad_B, _, _, _, U, Y = _two_sided_terms(X, norm2_X, A, B, tau)
        # The largest entry of the gradient of loss / ||X||^2, at the rescaled point.
        converged = max(float(np.max(np.abs(grad_A))), float(np.max(np.abs(grad_B)))) / norm2_X <= tol
        # Restart only after a stop on L-BFGS's own tests (status 0; with ftol = 0 that is its
        # gradient test) that made progress.
        if converged or n_iter >= max_iter or outcome.status != 0 or outcome.nit == 0:
            break
    grad_norm = float(np.sqrt(np.sum(grad_A**2) + np.sum(grad_B**2))) / norm2_X
    return TwoSidedModelResult(
        A=A,
        item_embeddings=Y,
        user_embeddings=U,
        tau=tau,
        loss=float(loss),
        loss_history=np.array(history, dtype=np.float64),
        grad_norm=grad_norm,
        n_iter=n_iter,
        converged=bool(converged),
        message=message,
    )
