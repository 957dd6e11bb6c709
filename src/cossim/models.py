"""Linear embedding models ``X ~ X A B^T``: closed-form fits, losses, gauges, cosines.

Three training objectives for the same model, all solved in closed form from
the truncated SVD ``X = U Sigma V^T`` (:func:`cossim.linalg.top_svd`):

* the product penalty (1)  ``||X - X A B^T||^2 + lam ||A B^T||^2``,
* the factor penalty  (2)  ``||X - X A B^T||^2 + lam (||X A||^2 + ||B||^2)``,
* weight decay             ``||X - X A B^T||^2 + lam (||A||^2 + ||B||^2)``.

Item embeddings are the rows of ``B``, user embeddings the rows of ``X A``.
A *gauge* rescales the latent dimensions: a 1-D array ``d`` of k nonzero numbers
means ``(A diag(d), B diag(d)^{-1})``, a k x k invertible matrix ``G`` means
``(A G, B G^{-T})``.  Either leaves ``A B^T``, hence every prediction, unchanged.

Import flow: this module imports :mod:`cossim.linalg` and
:mod:`cossim.similarity`; neither imports it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cossim._validation import (
    as_array,
    as_matrix,
    as_vector,
    check_factor_pair,
    check_instance,
    check_nonnegative,
    check_rank,
)
from cossim.linalg import top_spectrum
from cossim.similarity import cosine_similarity

__all__ = [
    "Factorization",
    "effective_rank",
    "factor_penalty_loss",
    "fit_factor_penalty",
    "fit_product_penalty",
    "fit_weight_decay",
    "gauge_for_item_cosines",
    "item_similarity",
    "product_penalty_loss",
    "regauge",
    "user_item_similarity",
    "user_similarity",
    "weight_decay_loss",
]


@dataclass(frozen=True, eq=False)
class Factorization:
    """The two factors of the linear model ``X ~ X A B^T``.

    Used in ``chapters/factor_penalty.md`` and ``chapters/training_dynamics.md``,
    and returned by every fit; the pair ``(A, B)`` and its rescalings are the
    subject of "The rescaling freedom".

    Parameters
    ----------
    A : array_like, shape (p, k)
        Encoder: the user embeddings are the rows of ``X @ A``.
    B : array_like, shape (p, k)
        Decoder: the item embeddings are the rows of ``B``.

    Raises
    ------
    ValueError
        If ``A`` or ``B`` is not a finite 2-D real array, or their shapes differ
        (the message names ``B``).

    Notes
    -----
    The arrays are stored as read-only float64 copies, so a ``Factorization``
    is immutable.  Equality is identity (compare the arrays to compare
    contents).
    """

    A: np.ndarray
    B: np.ndarray

    def __post_init__(self) -> None:
        A = np.array(as_matrix(self.A, "A"), dtype=np.float64, copy=True)
        B = np.array(as_matrix(self.B, "B"), dtype=np.float64, copy=True)
        if A.shape != B.shape:
            raise ValueError(f"B must have the same shape as A: A has shape {A.shape}, B has shape {B.shape}")
        A.setflags(write=False)
        B.setflags(write=False)
        object.__setattr__(self, "A", A)
        object.__setattr__(self, "B", B)

    @property
    def p(self) -> int:
        """Number of items (rows of ``A`` and ``B``)."""
        return self.A.shape[0]

    @property
    def k(self) -> int:
        """Number of latent dimensions (columns of ``A`` and ``B``)."""
        return self.A.shape[1]


# --------------------------------------------------------------------------- input checks


def _check_data_for(X, p: int) -> np.ndarray:
    """Validate ``X`` and check it has ``p`` columns (one per item)."""
    X = as_matrix(X, "X")
    if X.shape[1] != p:
        raise ValueError(f"X must have {p} columns (one per row of the factors), got shape {X.shape}")
    return X


def _check_factors(X, A, B) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    X = as_matrix(X, "X")
    A, B = check_factor_pair(A, B, X.shape[1], "the columns of X")
    return X, A, B


def _fit_inputs(X, k, lam) -> tuple[np.ndarray, int, float]:
    X = as_matrix(X, "X")
    k = check_rank(k, min(X.shape), "k")
    lam = check_nonnegative(lam, "lam")
    return X, k, lam


def _safe_ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """``numerator / denominator`` where the denominator is positive, else 0 (no warnings)."""
    out = np.zeros(np.broadcast(numerator, denominator).shape)
    with np.errstate(over="ignore"):
        np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def _spectrum(X: np.ndarray, k: int, spectrum=None) -> tuple[np.ndarray, np.ndarray]:
    """Top-k singular values and right singular vectors of ``X``, with numerical zeros made exact.

    ``spectrum``, when given, is a precomputed ``(s, V)`` of ``X`` with at
    least ``k`` columns (from :func:`cossim.linalg.top_spectrum` or
    :func:`cossim.linalg.top_svd`), so several fits of one ``X`` share one
    decomposition; its leading ``k`` pairs are used. Singular values at or
    below the usual rank tolerance ``max(n, p) * eps * sigma_1`` (as in
    ``numpy.linalg.matrix_rank``) are rounding noise of exact zeros when ``X``
    is rank-deficient; they are set to 0 so that the closed forms treat them as
    the zeros they are.
    """
    if spectrum is None:
        sigma, V = top_spectrum(X, k)
    else:
        try:
            sigma, V = spectrum
        except (TypeError, ValueError) as error:
            raise ValueError("spectrum must be a pair (s, V) from top_spectrum(X, k)") from error
        sigma = as_vector(sigma, "spectrum")
        V = as_matrix(V, "spectrum")
        if V.shape[0] != X.shape[1] or V.shape[1] != sigma.size:
            raise ValueError(
                f"spectrum does not fit X: V has shape {V.shape} and s has {sigma.size} values, "
                f"X has {X.shape[1]} columns"
            )
        if sigma.size < k:
            raise ValueError(f"spectrum has {sigma.size} singular values, fewer than k = {k}")
        if np.any(sigma < 0) or np.any(np.diff(sigma) > 0):
            raise ValueError("spectrum singular values must be non-negative and in descending order")
        sigma, V = sigma[:k], V[:, :k]
    tolerance = max(X.shape) * np.finfo(np.float64).eps * sigma[0]
    sigma = np.where(sigma > tolerance, sigma, 0.0)
    return sigma, V


# --------------------------------------------------------------------------- gauges


def regauge(factorization: Factorization, gauge) -> Factorization:
    """Rescale the latent dimensions of a factorization.

    Derived in ``chapters/gauge_freedom.md`` ("The rescaling freedom"):
    equation (3) of the paper for a diagonal gauge, and its generalisation to
    any invertible matrix.

    Parameters
    ----------
    factorization : Factorization
        Factors ``A, B`` of shape (p, k).
    gauge : array_like, shape (k,) or (k, k)
        A 1-D array ``d`` of k nonzero numbers gives ``(A diag(d), B diag(d)^{-1})``;
        a k x k invertible matrix ``G`` gives ``(A G, B G^{-T})``.

    Returns
    -------
    Factorization
        The rescaled factors.  ``A B^T`` (hence every prediction ``X A B^T``) is
        unchanged up to rounding; the losses of objectives (2) and of weight
        decay generally are not.

    Raises
    ------
    ValueError
        If ``factorization`` is not a :class:`Factorization`, or ``gauge`` is
        not finite, has the wrong shape, has a zero (or subnormal) entry, is a
        numerically singular matrix (reciprocal condition number below
        ``k * eps``), or makes the rescaled factors overflow.

    Examples
    --------
    The product, hence every prediction, is unchanged; the item cosines are not:

    >>> f = fit_product_penalty(np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]), 2, 0.5)
    >>> g = regauge(f, [2.0, 0.5])
    >>> bool(np.allclose(g.A @ g.B.T, f.A @ f.B.T))
    True
    >>> round(float(item_similarity(f)[0, 1]), 3), round(float(item_similarity(g)[0, 1]), 3)
    (0.125, -0.851)
    """
    factorization = check_instance(factorization, Factorization, "factorization")
    A, B = factorization.A, factorization.B
    k = factorization.k
    raw = as_array(gauge, "gauge", f"a 1-D array of {k} numbers or a {k} x {k} matrix")
    if raw.ndim == 1:
        d = as_vector(raw, "gauge")
        if d.shape != (k,):
            raise ValueError(f"gauge must have {k} entries (one per latent dimension), got shape {d.shape}")
        if np.any(np.abs(d) < np.finfo(np.float64).tiny):
            raise ValueError("gauge must have nonzero entries (a zero rescaling is not invertible)")
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            new_A = A * d
            new_B = B / d
    elif raw.ndim == 2:
        G = as_matrix(raw, "gauge")
        if G.shape != (k, k):
            raise ValueError(f"gauge must be a {k} x {k} matrix, got shape {G.shape}")
        singular_values = np.linalg.svd(G, compute_uv=False)
        if not singular_values[-1] > k * np.finfo(np.float64).eps * singular_values[0]:
            raise ValueError(
                "gauge must be an invertible matrix, but it is singular to working precision "
                f"(singular values from {singular_values[0]:.3g} down to {singular_values[-1]:.3g})"
            )
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            new_A = A @ G
            new_B = np.linalg.solve(G, B.T).T  # B G^{-T}
    else:
        raise ValueError(
            f"gauge must be a 1-D array of {k} numbers or a {k} x {k} matrix, got shape {raw.shape}"
        )
    if not (np.all(np.isfinite(new_A)) and np.all(np.isfinite(new_B))):
        raise ValueError("gauge makes the rescaled factors overflow; use a less extreme gauge")
    return Factorization(new_A, new_B)


def gauge_for_item_cosines(factorization: Factorization, target) -> np.ndarray:
    """The gauge that makes the item-item cosines equal a given correlation matrix.

    Derived in ``chapters/gauge_freedom.md`` ("The rescaling freedom"), in the
    proof that with ``k = p`` every positive-definite correlation matrix is the
    item-item cosine matrix of some exact minimiser of objective (1).  With the
    Cholesky factorisation ``target = L L^T`` the gauge is ``G = B^T L^{-T}``:
    then ``B G^{-T} = L``, whose rows have unit length because the diagonal of
    ``target`` is 1, so the cosines of the regauged item embeddings are
    ``L L^T = target``.

    Parameters
    ----------
    factorization : Factorization
        Factors ``A, B`` of shape (p, k) with ``k = p`` and ``B`` invertible
        (for example ``fit_product_penalty(X, p, lam)`` with ``X`` of full
        column rank).
    target : array_like, shape (k, k)
        A correlation matrix: finite, symmetric, ones on the diagonal and
        positive definite.

    Returns
    -------
    G : ndarray, shape (k, k)
        An invertible gauge such that
        ``item_similarity(regauge(factorization, G))`` equals ``target`` up to
        rounding.  ``A B^T``, hence every prediction and every loss of
        objective (1), is unchanged by :func:`regauge`.

    Raises
    ------
    ValueError
        If ``factorization`` is not a :class:`Factorization`, or its ``B`` is
        not square or is singular to working precision (the message names
        ``factorization``); if ``target`` is not a finite k x k matrix, is not
        symmetric, does not have a unit diagonal, or is not positive definite
        (the message names ``target``).
    """
    factorization = check_instance(factorization, Factorization, "factorization")
    B = factorization.B
    p, k = B.shape
    if p != k:
        raise ValueError(
            f"factorization must have square factors (k = p) for every correlation matrix to be "
            f"reachable, got B of shape {B.shape}"
        )
    singular_values = np.linalg.svd(B, compute_uv=False)
    if not singular_values[-1] > k * np.finfo(np.float64).eps * singular_values[0]:
        raise ValueError(
            "factorization must have an invertible B, but B is singular to working precision "
            f"(singular values from {singular_values[0]:.3g} down to {singular_values[-1]:.3g})"
        )
    C = as_matrix(target, "target")
    if C.shape != (k, k):
        raise ValueError(f"target must be a {k} x {k} matrix, got shape {C.shape}")
    tolerance = 1e-10
    if np.max(np.abs(C - C.T)) > tolerance:
        raise ValueError("target must be symmetric")
    if np.max(np.abs(np.diag(C) - 1.0)) > tolerance:
        raise ValueError("target must have ones on its diagonal (a correlation matrix)")
    C = (C + C.T) / 2.0
    try:
        L = np.linalg.cholesky(C)
    except np.linalg.LinAlgError as error:
        raise ValueError("target must be positive definite") from error
    # G^T = L^{-1} B, so that G^{-T} = B^{-1} L and B G^{-T} = L.
    return np.linalg.solve(L, B).T


# --------------------------------------------------------------------------- fits


def fit_product_penalty(X, k: int, lam: float, gauge=None, *, spectrum=None) -> Factorization:
    """A minimiser of objective (1), ``||X - X A B^T||_F^2 + lam ||A B^T||_F^2``.

    Derived in ``chapters/product_penalty.md`` ("Penalising the product").

    Parameters
    ----------
    X : array_like, shape (n, p)
        Data, users by items.
    k : int
        Number of latent dimensions, ``1 <= k <= min(n, p)``.
    lam : float
        Penalty weight ``lam >= 0``, in the units of ``sigma**2``.
    gauge : None or array_like, shape (k,) or (k, k), optional
        ``None`` gives the symmetric split (5), ``A = B = V_k diag(s_i)^{1/2}``
        with shrinkage ``s_i = sigma_i**2 / (sigma_i**2 + lam)``.  Anything else
        is passed to :func:`regauge` and applied to that split: a 1-D array is
        the diagonal ``D`` of (3), a matrix ``G`` gives ``(A G, B G^{-T})``.

    spectrum : (s, V), optional, keyword only
        A precomputed ``top_spectrum(X, k2)`` of the same ``X`` with
        ``k2 >= k``, so that several fits share one decomposition. Trusted to
        belong to ``X`` (only its shapes and order are checked).

    Returns
    -------
    Factorization
        Factors of shape (p, k).  Every gauge gives the same product
        ``A B^T = V_k diag(s_i) V_k^T`` and the same loss: the objective
        depends on ``A B^T`` only, so the minimiser is not unique.

    Raises
    ------
    ValueError
        For bad ``X``, ``k`` outside ``1..min(n, p)``, ``lam < 0`` or not
        finite, or a bad ``gauge`` (see :func:`regauge`).

    Notes
    -----
    A singular value ``sigma_i = 0`` gets ``s_i = 0`` (also when ``lam = 0``,
    where any value would do); singular values at or below the rank
    tolerance ``max(n, p) * eps * sigma_1`` count as zero.  So the corresponding columns of ``A`` and ``B``
    are zero.  Such a column cannot be rescaled away; a gauge multiplies it
    harmlessly.
    """
    X, k, lam = _fit_inputs(X, k, lam)
    sigma, V = _spectrum(X, k, spectrum)
    shrinkage = _safe_ratio(sigma**2, sigma**2 + lam)
    factor = V * np.sqrt(shrinkage)
    symmetric = Factorization(factor, factor)
    if gauge is None:
        return symmetric
    return regauge(symmetric, gauge)


def fit_factor_penalty(X, k: int, lam: float, *, spectrum=None) -> Factorization:
    """The minimiser (6) of objective (2), ``||X - X A B^T||^2 + lam (||X A||^2 + ||B||^2)``.

    Derived in ``chapters/factor_penalty.md`` ("Penalising the factors").

    Parameters
    ----------
    X : array_like, shape (n, p)
        Data, users by items.
    k : int
        Number of latent dimensions, ``1 <= k <= min(n, p)``.
    lam : float
        Penalty weight ``lam >= 0``, in the units of ``sigma`` (not ``sigma**2``).

    spectrum : (s, V), optional, keyword only
        A precomputed ``top_spectrum(X, k2)`` of the same ``X`` with
        ``k2 >= k``, so that several fits share one decomposition. Trusted to
        belong to ``X`` (only its shapes and order are checked).

    Returns
    -------
    Factorization
        ``A = V_k diag(sqrt((1/sigma_i) (1 - lam/sigma_i)_+))`` and
        ``B = V_k diag(sqrt(sigma_i (1 - lam/sigma_i)_+))``, so that
        ``X A = U_k diag(sqrt((sigma_i - lam)_+))`` and ``X A B^T`` is the
        singular-value soft-thresholding of ``X`` at ``lam``.

    Raises
    ------
    ValueError
        For bad ``X``, ``k`` outside ``1..min(n, p)``, or ``lam < 0`` or not finite.

    Notes
    -----
    The minimiser is unique up to a rotation ``(A R, B R)``, which leaves all
    cosines unchanged; a non-orthogonal rescaling raises the loss.  Directions
    with ``sigma_i <= lam`` get zero columns (the effective rank can be below
    ``k``); ``sigma_i = 0`` (or at or below the rank tolerance
    ``max(n, p) * eps * sigma_1``) gives zero columns without any division
    by zero.
    When ``X`` is rank-deficient, ``A`` is determined only on the row space of
    ``X``; this function returns the solution inside it.
    """
    X, k, lam = _fit_inputs(X, k, lam)
    sigma, V = _spectrum(X, k, spectrum)
    kept = np.maximum(sigma - lam, 0.0)  # sigma_i (1 - lam/sigma_i)_+
    B = V * np.sqrt(kept)
    A = V * _safe_ratio(np.sqrt(kept), sigma)  # sqrt((sigma_i - lam)_+) / sigma_i
    return Factorization(A, B)


def fit_weight_decay(X, k: int, lam: float, *, spectrum=None) -> Factorization:
    """A minimiser of ``||X - X A B^T||^2 + lam (||A||^2 + ||B||^2)`` (weight decay).

    Derived in ``chapters/factor_penalty.md`` ("Penalising the factors"), as
    the variant of Kunin et al. (2019) that penalises ``A`` and ``B`` themselves.

    Parameters
    ----------
    X : array_like, shape (n, p)
        Data, users by items.
    k : int
        Number of latent dimensions, ``1 <= k <= min(n, p)``.
    lam : float
        Penalty weight ``lam >= 0``, in the units of ``sigma**2``.

    spectrum : (s, V), optional, keyword only
        A precomputed ``top_spectrum(X, k2)`` of the same ``X`` with
        ``k2 >= k``, so that several fits share one decomposition. Trusted to
        belong to ``X`` (only its shapes and order are checked).

    Returns
    -------
    Factorization
        ``A = B = V_k diag(sqrt((1 - lam/sigma_i**2)_+))``, so that
        ``A B^T = V_k diag((1 - lam/sigma_i**2)_+) V_k^T``.

    Raises
    ------
    ValueError
        For bad ``X``, ``k`` outside ``1..min(n, p)``, or ``lam < 0`` or not finite.

    Notes
    -----
    Per direction the loss is ``sigma**2 (1 - t)**2 + 2 lam t`` with
    ``t = a**2``, minimised at ``t = (1 - lam/sigma**2)_+``.  The minimiser is
    unique up to a rotation ``(A R, B R)``.  Directions with
    ``sigma_i**2 <= lam``, including ``sigma_i = 0`` (or at or below the rank
    tolerance ``max(n, p) * eps * sigma_1``, also when ``lam = 0``), get zero
    columns.
    """
    X, k, lam = _fit_inputs(X, k, lam)
    sigma, V = _spectrum(X, k, spectrum)
    kept = np.maximum(1.0 - _safe_ratio(np.full(k, lam), sigma**2), 0.0)
    kept[sigma == 0] = 0.0  # (1 - lam/0)_+ = 0 for lam > 0; also chosen for lam = 0
    factor = V * np.sqrt(kept)
    return Factorization(factor, factor)


# --------------------------------------------------------------------------- losses


def _residual_norm2(X: np.ndarray, A: np.ndarray, B: np.ndarray) -> float:
    residual = X - (X @ A) @ B.T
    return float(np.sum(residual * residual))


def product_penalty_loss(X, A, B, lam: float) -> float:
    """Objective (1): ``||X - X A B^T||_F^2 + lam ||A B^T||_F^2``.

    Derived in ``chapters/product_penalty.md`` ("Penalising the product").

    Parameters
    ----------
    X : array_like, shape (n, p)
    A, B : array_like, shape (p, k)
    lam : float
        ``lam >= 0``.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        For a bad ``X``, ``A`` or ``B``, mismatched shapes (naming ``A`` or
        ``B``), or ``lam < 0``.
    """
    X, A, B = _check_factors(X, A, B)
    lam = check_nonnegative(lam, "lam")
    W = A @ B.T
    return _residual_norm2(X, A, B) + lam * float(np.sum(W * W))


def factor_penalty_loss(X, A, B, lam: float) -> float:
    """Objective (2): ``||X - X A B^T||_F^2 + lam (||X A||_F^2 + ||B||_F^2)``.

    Derived in ``chapters/factor_penalty.md`` ("Penalising the factors").

    Parameters
    ----------
    X : array_like, shape (n, p)
    A, B : array_like, shape (p, k)
    lam : float
        ``lam >= 0``.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        For a bad ``X``, ``A`` or ``B``, mismatched shapes (naming ``A`` or
        ``B``), or ``lam < 0``.
    """
    X, A, B = _check_factors(X, A, B)
    lam = check_nonnegative(lam, "lam")
    XA = X @ A
    return _residual_norm2(X, A, B) + lam * (float(np.sum(XA * XA)) + float(np.sum(B * B)))


def weight_decay_loss(X, A, B, lam: float) -> float:
    """Weight decay: ``||X - X A B^T||_F^2 + lam (||A||_F^2 + ||B||_F^2)``.

    Derived in ``chapters/factor_penalty.md`` ("Penalising the factors").

    Parameters
    ----------
    X : array_like, shape (n, p)
    A, B : array_like, shape (p, k)
    lam : float
        ``lam >= 0``.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        For a bad ``X``, ``A`` or ``B``, mismatched shapes (naming ``A`` or
        ``B``), or ``lam < 0``.
    """
    X, A, B = _check_factors(X, A, B)
    lam = check_nonnegative(lam, "lam")
    return _residual_norm2(X, A, B) + lam * (float(np.sum(A * A)) + float(np.sum(B * B)))


# --------------------------------------------------------------------------- cosines


def item_similarity(factorization: Factorization) -> np.ndarray:
    """Item-item cosines: cosines between the rows of ``B``.

    Derived in ``chapters/gauge_freedom.md`` ("The rescaling freedom"):
    under a gauge ``D`` this is ``Omega_B B D^{-2} B^T Omega_B``.

    Parameters
    ----------
    factorization : Factorization
        Factors of shape (p, k).

    Returns
    -------
    ndarray, shape (p, p)
        Symmetric, ones on the diagonal; rows and columns of items whose
        embedding is zero are NaN (see :func:`cossim.cosine_similarity`).

    Raises
    ------
    ValueError
        If ``factorization`` is not a :class:`Factorization`.
    """
    factorization = check_instance(factorization, Factorization, "factorization")
    return cosine_similarity(factorization.B)


def user_similarity(factorization: Factorization, X) -> np.ndarray:
    """User-user cosines: cosines between the rows of ``X A``.

    Used in ``chapters/product_penalty.md`` and ``chapters/factor_penalty.md``;
    under a gauge ``D`` this is ``Omega_A X A D^2 (X A)^T Omega_A`` ("The
    rescaling freedom").

    Parameters
    ----------
    factorization : Factorization
        Factors of shape (p, k).
    X : array_like, shape (n, p)
        The users' data.

    Returns
    -------
    ndarray, shape (n, n)
        Symmetric, ones on the diagonal; rows and columns of users whose
        embedding is zero are NaN.

    Raises
    ------
    ValueError
        If ``factorization`` is not a :class:`Factorization`, or ``X`` is bad or does not
        have ``p`` columns.
    """
    factorization = check_instance(factorization, Factorization, "factorization")
    X = _check_data_for(X, factorization.p)
    return cosine_similarity(X @ factorization.A)


def user_item_similarity(factorization: Factorization, X) -> np.ndarray:
    """User-item cosines: cosines between the rows of ``X A`` and the rows of ``B``.

    Used in ``chapters/product_penalty.md`` and ``chapters/factor_penalty.md``:
    ``Omega_A X A B^T Omega_B``, which depends on the gauge through the
    normalisations although ``X A B^T`` does not ("The rescaling freedom").

    Parameters
    ----------
    factorization : Factorization
        Factors of shape (p, k).
    X : array_like, shape (n, p)
        The users' data.

    Returns
    -------
    ndarray, shape (n, p)
        Entries for zero user or item embeddings are NaN.

    Raises
    ------
    ValueError
        If ``factorization`` is not a :class:`Factorization`, or ``X`` is bad or does not
        have ``p`` columns.
    """
    factorization = check_instance(factorization, Factorization, "factorization")
    X = _check_data_for(X, factorization.p)
    return cosine_similarity(X @ factorization.A, factorization.B)


# --------------------------------------------------------------------------- effective rank


def effective_rank(singular_values, lam: float) -> int:
    """Number of directions that survive soft-thresholding at ``lam``: ``#{i : sigma_i > lam}``.

    Derived in ``chapters/factor_penalty.md`` ("Penalising the factors"): the
    minimiser (6) of objective (2) keeps direction ``i`` with singular value
    ``sigma_i - lam`` if ``sigma_i > lam`` and drops it otherwise, so with
    ``k`` latent dimensions ``fit_factor_penalty(X, k, lam)`` has
    ``min(k, effective_rank(sigma, lam))`` nonzero columns.  For weight decay
    (threshold ``sigma_i**2 > lam``) pass ``sqrt(lam)``.

    Parameters
    ----------
    singular_values : array_like, shape (m,)
        Singular values ``sigma_i >= 0``, in any order.
    lam : float
        Threshold ``lam >= 0``, in the units of ``sigma``.

    Returns
    -------
    int
        The count of singular values strictly above ``lam`` (a singular value
        equal to ``lam`` is dropped: its direction gets weight ``(sigma - lam)_+ = 0``).

    Raises
    ------
    ValueError
        If ``singular_values`` is not a finite, non-empty 1-D array of
        nonnegative numbers, or ``lam`` is negative or not finite.
    """
    sigma = as_vector(singular_values, "singular_values")
    if np.any(sigma < 0):
        raise ValueError("singular_values must be >= 0")
    lam = check_nonnegative(lam, "lam")
    return int(np.count_nonzero(sigma > lam))
