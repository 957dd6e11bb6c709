"""Cosine similarity between the rows of embedding matrices.

The measure whose arbitrariness the book is about.  The model-level helpers
(``item_similarity``, ``user_similarity``, ``user_item_similarity``) live in
:mod:`cossim.models`, which imports this module (never the other way round).
"""

from __future__ import annotations

import numpy as np

from cossim._util import unit_rows
from cossim._validation import as_matrix

__all__ = ["cosine_similarity"]


def cosine_similarity(Y, Z=None) -> np.ndarray:
    """Cosines between the rows of ``Y`` and the rows of ``Z`` (or of ``Y`` itself).

    Used throughout the book (``chapters/gauge_freedom.md``,
    ``chapters/product_penalty.md``, ``chapters/remedies.md`` and others): every
    item-item, user-user and user-item cosine is computed here.

    Parameters
    ----------
    Y : array_like, shape (m, k)
        One embedding per row.
    Z : array_like, shape (n, k), optional
        A second set of embeddings of the same width.  If omitted, the rows
        of ``Y`` are compared with each other.

    Returns
    -------
    S : ndarray, shape (m, n) or (m, m)
        ``S[i, j] = <y_i, z_j> / (||y_i|| ||z_j||)``, clipped to ``[-1, 1]``.
        When ``Z`` is omitted, ``S`` is symmetric with ones on the diagonal
        for every non-zero row.  The cosine with a zero row is undefined:
        every entry in the row (and, for ``Z``, the column) of an all-zero row
        is NaN.  No warning is emitted for this; check with ``numpy.isnan``.

    Raises
    ------
    ValueError
        If ``Y`` or ``Z`` is not a finite, non-empty 2-D real array, or their
        widths (number of columns) differ (the message names ``Z``).

    Examples
    --------
    >>> cosine_similarity([[1.0, 0.0], [1.0, 1.0]]).round(4)
    array([[1.    , 0.7071],
           [0.7071, 1.    ]])
    """
    Y = as_matrix(Y, "Y")
    Y_unit, Y_zero = unit_rows(Y)
    if Z is None:
        S = Y_unit @ Y_unit.T
        S = (S + S.T) / 2.0  # exact symmetry, whatever the BLAS did
        np.fill_diagonal(S, 1.0)
        Z_zero = Y_zero
    else:
        Z = as_matrix(Z, "Z")
        if Z.shape[1] != Y.shape[1]:
            raise ValueError(
                f"Z must have as many columns as Y: Y has shape {Y.shape}, Z has shape {Z.shape}"
            )
        Z_unit, Z_zero = unit_rows(Z)
        S = Y_unit @ Z_unit.T
    np.clip(S, -1.0, 1.0, out=S)
    S[Y_zero, :] = np.nan
    S[:, Z_zero] = np.nan
    return S
