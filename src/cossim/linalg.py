"""Truncated singular value decomposition and the Gram matrix, the one home of each.

Every closed form in the book is written in the right singular vectors ``V_k``
and the singular values ``sigma_i`` of the data ``X``, so every model in
:mod:`cossim.models` starts from :func:`top_svd` (or :func:`top_spectrum`).
The Gram matrix ``X^T X`` is formed by :func:`gram_matrix` (with the rule for
when float32 is exact, stated once), checked by :func:`check_gram` and
decomposed by :func:`gram_spectrum`, with the sign convention of :func:`top_svd`.

Import flow: this module imports :mod:`numpy`, :mod:`scipy` and
:mod:`cossim._validation`.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

from cossim._validation import as_matrix, check_finite, check_rank, check_symmetric

__all__ = ["check_gram", "gram_matrix", "gram_spectrum", "top_spectrum", "top_svd"]

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

#: Rows per block when checking and converting ``X`` in one pass (about 2 MB of float64 per
#: block at 1,000 columns: the checks and the conversion then read the block from cache).
_BLOCK_BYTES = 2 * 2**20


def _float32_copy_if_exact(X: np.ndarray, integral_dtype: bool) -> np.ndarray | None:
    """``X`` in float32 when float32 arithmetic computes ``X^T X`` exactly, else None.

    That holds when every partial sum of ``X^T X`` is an integer below
    ``2**24``: all entries are integers of absolute value at most ``M`` with
    ``n * M**2 < 2**24``; for 0/1 data this is ``n < 2**24``.  The common
    case, 0/1 data in float64, is tested and converted block by block, in one
    pass over ``X`` (each block is counted and converted while it is in
    cache); anything else falls back to the general test.
    """
    n, p = X.shape
    if n >= _FLOAT32_EXACT_INTEGERS:
        return None
    if X.dtype == np.float32 and not integral_dtype:
        X32 = X
    else:
        X32 = np.empty((n, p), dtype=np.float32)
    if not integral_dtype:
        rows = max(1, _BLOCK_BYTES // max(1, p * X.itemsize))
        binary = True
        for start in range(0, n, rows):
            block = X[start : start + rows]
            if np.count_nonzero(block) != np.count_nonzero(block == 1.0):
                binary = False
                break
            if X32 is not X:
                X32[start : start + rows] = block
        if binary:
            return X32
    bound = max(float(X.max()), -float(X.min()))
    if n * bound * bound >= _FLOAT32_EXACT_INTEGERS:
        return None
    if not (integral_dtype or np.array_equal(np.rint(X), X)):
        return None
    return X.astype(np.float32)


def _gram(X: np.ndarray, integral_dtype: bool) -> np.ndarray:
    """``X^T X`` in float64 (not yet symmetrised), computed in float32 when that is exact.

    ``X`` need not have been checked for NaN and infinity: data that float32
    holds exactly is finite, and anything else is checked here (``ValueError``
    naming ``X``), so the common 0/1 case makes one pass over ``X``, not two.
    """
    X32 = _float32_copy_if_exact(X, integral_dtype)
    if X32 is not None:
        return (X32.T @ X32).astype(np.float64)
    # float64 arithmetic, whatever the input's precision (float16 data would overflow, float32
    # lose digits).
    X = np.asarray(check_finite(X, "X"), dtype=np.float64)
    return X.T @ X


def _fix_signs(U: np.ndarray | None, V: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
    """Flip column pairs so that the largest-magnitude entry of each column of V is positive."""
    rows = np.argmax(np.abs(V), axis=0)
    signs = np.sign(V[rows, np.arange(V.shape[1])])
    signs[signs == 0] = 1.0  # only possible for an all-zero column, which V never has
    return (None if U is None else U * signs), V * signs


def _is_integral(raw) -> bool:
    dtype = getattr(raw, "dtype", None)
    return isinstance(dtype, np.dtype) and dtype.kind in "biu"


def gram_matrix(X) -> np.ndarray:
    """``X^T X`` in float64, exactly symmetric, exact for 0/1 data.

    Used in ``chapters/remedies.md`` ("Remedies, measured") to train the
    sphere model and to fit transformed data without touching the ``n`` rows
    again, and by :class:`cossim.GramDecomposition`.  For integer data whose
    partial sums stay below ``2**24`` (0/1 data with fewer than ``2**24``
    rows) the product is done in float32, about twice as fast, and is still
    exact: the rule of :func:`top_svd`.

    Parameters
    ----------
    X : array_like, shape (n, p)
        Finite real data; bool and integer arrays are accepted.

    Returns
    -------
    ndarray, shape (p, p)
        Exactly symmetric.

    Raises
    ------
    ValueError
        If ``X`` is not a finite, non-empty 2-D real array.

    Examples
    --------
    >>> gram_matrix([[1, 0], [1, 1]])
    array([[2., 1.],
           [1., 1.]])
    """
    integral = _is_integral(X)
    X = as_matrix(X, "X", finite=False)  # _gram checks finiteness
    G = _gram(X, integral)
    return (G + G.T) / 2.0


def check_gram(G, name: str = "G") -> np.ndarray:
    """Validate a Gram matrix ``X^T X``: finite, square and symmetric; return it exactly symmetric.

    Used by :func:`gram_spectrum`, :func:`cossim.train_cosine_model`,
    :func:`cossim.cosine_model_loss_and_gradients`,
    :func:`cossim.factorization_loss_and_gradients` and
    :func:`cossim.projected_item_similarity`: the one check of a Gram matrix
    passed in by the caller.  Positive semi-definiteness is not checked.

    Parameters
    ----------
    G : array_like, shape (p, p)
    name : str, default "G"
        The argument name used in error messages.

    Returns
    -------
    ndarray, shape (p, p)
        ``(G + G^T) / 2``.

    Raises
    ------
    ValueError
        If ``G`` is not a finite square real matrix symmetric to ``1e-10``
        relative (the message names ``name``).

    Examples
    --------
    >>> check_gram([[2.0, 1.0], [1.0, 1.0]])
    array([[2., 1.],
           [1., 1.]])
    """
    if not isinstance(name, str):
        raise ValueError(f"name must be a string, got {name!r}")
    return check_symmetric(G, name, " (X^T X)")


def gram_spectrum(G, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k largest singular values of ``X`` and its right singular vectors, from ``G = X^T X``.

    Used in ``chapters/remedies.md`` ("Remedies, measured"): pass the result as
    ``spectrum=`` to :func:`cossim.fit_product_penalty` or
    :func:`cossim.fit_factor_penalty` to fit a transformed ``X`` whose Gram
    matrix is known (e.g. ``w[:, None] * G * w`` for the columns of ``X``
    scaled by ``w``).

    Parameters
    ----------
    G : array_like, shape (p, p)
        ``X^T X`` (finite, symmetric).
    k : int
        ``1 <= k <= p``.

    Returns
    -------
    s : ndarray, shape (k,)
        ``sqrt`` of the k largest eigenvalues of ``G`` (negative rounding
        clipped to 0), descending.
    V : ndarray, shape (p, k)
        Their orthonormal eigenvectors, with the sign convention of
        :func:`top_svd` (the largest-magnitude entry of each column is
        positive).

    Raises
    ------
    ValueError
        For a bad ``G`` or ``k`` outside ``1..p``.

    Examples
    --------
    >>> s, V = gram_spectrum([[4.0, 0.0], [0.0, 1.0]], 1)
    >>> s, V.ravel()
    (array([2.]), array([1., 0.]))
    """
    G = check_gram(G)
    p = G.shape[0]
    k = check_rank(k, p, "k")
    values, vectors = scipy.linalg.eigh(G, subset_by_index=[p - k, p - 1])
    values, vectors = values[::-1], vectors[:, ::-1]
    _, vectors = _fix_signs(None, vectors)
    return np.sqrt(np.clip(values, 0.0, None)), np.ascontiguousarray(vectors)


def top_svd(X, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The k largest singular values of ``X`` with their singular vectors.

    Used in ``chapters/product_penalty.md``; every closed form of the book is
    written in the ``V_k`` and ``sigma_i`` returned here.

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

    Used in ``chapters/simulation.md``, ``chapters/movielens.md`` and
    ``chapters/remedies.md``, and by every fit of :mod:`cossim.models`.
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
    integral = _is_integral(X)
    X = as_matrix(X, "X", finite=False)  # _gram checks finiteness (for free on 0/1 data)
    n, p = X.shape
    k = check_rank(k, min(n, p), "k")

    if n < p:
        # X^T has more rows than columns: take its Gram route (n x n) and swap the roles of
        # U and V, X = (U_t s V_t^T)^T = V_t s U_t^T; then fix the signs by V as usual.
        U_t, s, V_t = _top_singular(X.T, k, want_u=True)
        U, V = _fix_signs(V_t, U_t)
        return (np.ascontiguousarray(U) if want_u else None), s, np.ascontiguousarray(V)

    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        gram = _gram(X, integral)
    # Entries beyond ~1e154 overflow the Gram matrix and entries below ~1e-154 underflow in it;
    # leave such extreme scales to the exact SVD, which rescales internally.
    if np.all(np.isfinite(gram)) and np.max(np.diag(gram)) >= _GRAM_MIN_SCALE:
        # Only the k leading eigenpairs (LAPACK syevr): about twice as fast as a full eigh.
        eigenvalues, eigenvectors = scipy.linalg.eigh(gram, subset_by_index=[p - k, p - 1], driver="evr")
        top = eigenvalues[::-1]
        if top[0] > 0 and top[-1] >= _GRAM_MIN_RATIO * top[0]:
            s = np.sqrt(top)
            V = eigenvectors[:, ::-1]
            U = (X @ V) / s if want_u else None
            U, V = _fix_signs(U, V)
            return U, s, V

    U_full, s_full, Vt_full = np.linalg.svd(X, full_matrices=False)
    U, V = _fix_signs(U_full[:, :k], Vt_full[:k].T)
    return (np.ascontiguousarray(U) if want_u else None), s_full[:k].copy(), np.ascontiguousarray(V)
