"""Truncated singular value decomposition, the one decomposition the book needs.

Every closed form in the book is written in the right singular vectors ``V_k``
and the singular values ``sigma_i`` of the data ``X``, so every model in
:mod:`cossim.models` starts from :func:`top_svd`.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

from cossim._validation import as_matrix, check_rank

__all__ = ["top_spectrum", "top_svd"]

#: The Gram route is used only while the k-th largest eigenvalue of ``X^T X``
#: is at least this fraction of the largest one (so ``sigma_k >= 1e-3 sigma_1``).
#: Eigenvalues carry an absolute error of order ``eps * sigma_1**2``, so above
#: this threshold the relative error of every returned ``sigma_i`` stays near
#: ``eps / 1e-6 ~ 2e-10``; below it the exact SVD is used instead.
_GRAM_MIN_RATIO = 1e-6

#: Below this largest squared column norm, underflow in ``X^T X`` could matter: use the exact SVD.
_GRAM_MIN_SCALE = 1e-200

#: Integers up to ``2**24`` are exact in float32 (24-bit significand).
_FLOAT32_EXACT_INTEGERS = 2**24


def _float32_gram_is_exact(X: np.ndarray, integral_dtype: bool) -> bool:
    """True when every partial sum of ``X^T X`` is an integer below ``2**24``.

    Then float32 arithmetic, in any order and with or without fused
    multiply-add, computes the Gram matrix exactly.  That holds when all
    entries are integers of absolute value at most ``M`` and ``n * M**2 < 2**24``;
    for 0/1 data this is ``n < 2**24``.
    """
    n = X.shape[0]
    if not integral_dtype and np.count_nonzero(X) == np.count_nonzero(X == 1.0):
        # 0/1 data (the common case, checked in two cheap passes): M = 1.
        return n < _FLOAT32_EXACT_INTEGERS
    bound = max(float(X.max()), -float(X.min()))
    if n * bound * bound >= _FLOAT32_EXACT_INTEGERS:
        return False
    return integral_dtype or bool(np.array_equal(np.rint(X), X))


def _gram(X: np.ndarray, integral_dtype: bool) -> np.ndarray:
    """Return ``X^T X`` in float64, computed in float32 when that is exact."""
    if _float32_gram_is_exact(X, integral_dtype):
        X32 = X.astype(np.float32, copy=False)
        return (X32.T @ X32).astype(np.float64)
    return X.T @ X


def _fix_signs(U: np.ndarray, V: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flip column pairs so that the largest-magnitude entry of each column of V is positive."""
    rows = np.argmax(np.abs(V), axis=0)
    signs = np.sign(V[rows, np.arange(V.shape[1])])
    signs[signs == 0] = 1.0  # only possible for an all-zero column, which V never has
    return U * signs, V * signs


def top_svd(X, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The k largest singular values of ``X`` with their singular vectors.

    Used throughout the book: every closed form (``chapters/gauge_freedom.md``,
    ``chapters/product_penalty.md``, ``chapters/factor_penalty.md``) is written
    in the ``V_k`` and ``sigma_i`` returned here.

    Parameters
    ----------
    X : array_like, shape (n, p)
        Finite real data; bool and integer arrays are accepted.
    k : int
        Number of singular triplets, ``1 <= k <= min(n, p)``.

    Returns
    -------
    U : ndarray, shape (n, k)
        Left singular vectors, orthonormal columns.
    s : ndarray, shape (k,)
        Singular values in descending order, ``s >= 0``.
    V : ndarray, shape (p, k)
        Right singular vectors, orthonormal columns, with ``X @ V = U * s``.

    Raises
    ------
    ValueError
        If ``X`` is not a finite, non-empty 2-D real array, or ``k`` is not an
        integer in ``1..min(n, p)``.

    Notes
    -----
    **Sign convention.**  Singular vectors are defined only up to a sign per
    pair.  Here the entry of largest absolute value of each column of ``V``
    (the first one, if several tie) is positive, and the column of ``U`` is
    flipped with it, so that ``U diag(s) V^T`` is unchanged.

    **Algorithm.**  When ``n >= p`` the right singular vectors are the
    eigenvectors of the ``p x p`` Gram matrix ``X^T X``: ``s`` is the square
    root of its k largest eigenvalues (only those are computed, with
    ``scipy.linalg.eigh(..., subset_by_index=...)``) and ``U = X V / s``.  This
    costs one ``n p^2`` product and a ``p x p`` eigendecomposition instead of a
    full SVD of ``X``.  For integer data (in particular 0/1 interaction
    matrices) whose entries are bounded by ``M`` with ``n M^2 < 2**24`` (for 0/1
    data: ``n < 2**24``) every partial sum of ``X^T X`` is an integer that
    float32 represents exactly, so the Gram product is done in float32, about
    twice as fast, and is still exact; it is then eigendecomposed in float64.

    Squaring the singular values costs accuracy for the small ones: the
    eigenvalues have an absolute error of order ``eps * sigma_1**2``.  The
    Gram route is therefore taken only when ``sigma_k**2 >= 1e-6 sigma_1**2``;
    then every returned singular value agrees with the exact SVD to about
    ``1e-9`` relative and ``U`` has orthonormal columns to about ``1e-9``.  If
    the k-th singular value is smaller than that, in particular when it is
    zero because ``k`` exceeds the rank of ``X`` (or ``X`` is zero), or when
    the entries of ``X`` are so large (beyond about ``1e154``) or so small
    that ``X^T X`` would overflow or underflow, the function falls back to
    the exact SVD, so no column of ``U`` is ever NaN:
    columns belonging to (numerically) zero singular values are then the
    orthonormal completion that LAPACK returns, and those singular values
    may come out as tiny positive numbers (of order ``eps * sigma_1``) rather
    than exact zeros.  When ``n < p`` the same is done for ``X^T`` (its
    ``n x n`` Gram matrix) with the roles of ``U`` and ``V`` swapped.

    Examples
    --------
    >>> import numpy as np
    >>> U, s, V = top_svd(np.array([[3.0, 0.0], [0.0, 1.0], [0.0, 0.0]]), 1)
    >>> s
    array([3.])
    >>> V.ravel()
    array([1., 0.])
    """
    return _top_singular(X, k, want_u=True)


def top_spectrum(X, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k largest singular values of ``X`` and their right singular vectors, without ``U``.

    The same ``s`` and ``V`` (same algorithm, same sign convention) as
    :func:`top_svd`, for the closed forms of :mod:`cossim.models`, which need
    only ``V_k`` and ``sigma_i``. Skipping ``U = X V / s`` saves an ``n p k``
    product and, for float32 data, a float64 copy of ``X``.

    Parameters
    ----------
    X : array_like, shape (n, p)
    k : int
        ``1 <= k <= min(n, p)``.

    Returns
    -------
    s : ndarray, shape (k,)
        Singular values in descending order.
    V : ndarray, shape (p, k)
        Right singular vectors, orthonormal columns.

    Raises
    ------
    ValueError
        As :func:`top_svd`.
    """
    _, s, V = _top_singular(X, k, want_u=False)
    return s, V


def _top_singular(X, k: int, want_u: bool):
    raw_dtype = getattr(X, "dtype", None)
    X = as_matrix(X, "X")
    n, p = X.shape
    k = check_rank(k, min(n, p), "k")
    integral_dtype = isinstance(raw_dtype, np.dtype) and raw_dtype.kind in "biu"

    if n < p:
        # X^T has more rows than columns: take its Gram route (n x n) and swap the roles of
        # U and V, X = (U_t s V_t^T)^T = V_t s U_t^T; then fix the signs by V as usual.
        U_t, s, V_t = _top_singular(X.T, k, want_u=True)
        U, V = _fix_signs(V_t, U_t)
        return (np.ascontiguousarray(U) if want_u else None), s, np.ascontiguousarray(V)

    if n >= p:
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            gram = _gram(X, integral_dtype)
        # Entries beyond ~1e154 overflow the Gram matrix and entries below ~1e-154 underflow in it;
        # leave such extreme scales to the exact SVD, which rescales internally.
        if np.all(np.isfinite(gram)) and np.max(np.diag(gram)) >= _GRAM_MIN_SCALE:
            # Only the k leading eigenpairs (LAPACK syevr): about twice as fast as a full eigh.
            eigenvalues, eigenvectors = scipy.linalg.eigh(gram, subset_by_index=[p - k, p - 1], driver="evr")
            top = eigenvalues[::-1]
        else:
            top = np.zeros(k)
        largest = top[0]
        if largest > 0 and top[-1] >= _GRAM_MIN_RATIO * largest:
            s = np.sqrt(top)
            V = eigenvectors[:, ::-1]
            U = (X @ V) / s if want_u else np.empty((0, k))
            U, V = _fix_signs(U, V)
            return (U if want_u else None), s, V

    U_full, s_full, Vt_full = np.linalg.svd(X, full_matrices=False)
    U, V = _fix_signs(U_full[:, :k], Vt_full[:k].T)
    return (np.ascontiguousarray(U) if want_u else None), s_full[:k].copy(), np.ascontiguousarray(V)
