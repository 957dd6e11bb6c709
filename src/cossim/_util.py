"""Small numerical kernels shared by the modules: one home for each.

* :func:`unit_rows`: rows scaled to unit length, safely (no overflow, no underflow);
* :func:`top_indices`: each row's largest entries, ties broken by ascending index;
* :func:`adam_update`: one Adam step (Kingma and Ba 2015), in place.

Import flow: this module imports only :mod:`numpy`.
"""

from __future__ import annotations

import numpy as np


def unit_rows(Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the rows of ``Y`` scaled to unit length and a mask of the all-zero rows.

    Each row is first divided by its largest absolute entry, so that the
    squared norm neither overflows (entries near ``1e200``) nor underflows
    (entries near ``1e-200``); directions do not change under this positive
    scaling.  Zero rows are left at zero and flagged in the mask.

    Examples
    --------
    >>> unit, zero = unit_rows(np.array([[3.0, 4.0], [0.0, 0.0]]))
    >>> unit
    array([[0.6, 0.8],
           [0. , 0. ]])
    >>> zero
    array([False,  True])
    """
    if Y.shape[1] == 0:  # rows of no entries: all of them zero
        return Y.copy(), np.ones(Y.shape[0], dtype=bool)
    scale = np.max(np.abs(Y), axis=1)
    zero = scale == 0.0
    safe_scale = np.where(zero, 1.0, scale)
    scaled = Y / safe_scale[:, None]
    norms = np.sqrt(np.einsum("ij,ij->i", scaled, scaled))
    norms[zero] = 1.0
    return scaled / norms[:, None], zero


def top_indices(keys: np.ndarray, top: int) -> np.ndarray:
    """Column indices of each row's ``top`` largest keys, largest first, ties by ascending index.

    ``keys`` is a 2-D float array without NaN (``-inf`` is allowed and ranks
    last); ``1 <= top <= keys.shape[1]``.  Equal keys are ordered, and at the
    cut-off chosen, by ascending column index, so the result is deterministic.
    One ``numpy.partition`` per call; rows with ties at the cut-off are
    resolved by a cumulative count, never by a full sort.

    Examples
    --------
    >>> top_indices(np.array([[0.5, 0.9, 0.5, 0.1]]), 2)
    array([[1, 0]])
    """
    n, p = keys.shape
    kth = np.partition(keys, p - top, axis=1)[:, p - top]  # the top-th largest key of each row
    take = keys >= kth[:, None]
    tied_rows = np.flatnonzero(np.count_nonzero(take, axis=1) != top)
    if tied_rows.size:
        # More than `top` keys reach the cut-off value: of those equal to it, keep the lowest indices.
        sub = keys[tied_rows]
        above = sub > kth[tied_rows, None]
        tied = sub == kth[tied_rows, None]
        needed = top - np.count_nonzero(above, axis=1)
        take[tied_rows] = above | (tied & (np.cumsum(tied, axis=1) <= needed[:, None]))
    columns = np.nonzero(take)[1].reshape(n, top)  # ascending index within each row
    values = np.take_along_axis(keys, columns, axis=1)
    order = np.argsort(-values, axis=1, kind="stable")  # descending key, ties by index
    return np.take_along_axis(columns, order, axis=1)


def shared_fraction(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Per row, the fraction of two neighbour lists that they share; NaN where either row is -1.

    ``first`` and ``second`` are ``(m, t)`` integer arrays whose rows hold distinct indices (or
    are all -1: no list), as :func:`top_indices` and :func:`cossim.nearest_neighbours` give them.
    Sorting each concatenated pair of rows puts a shared index next to its copy, so counting equal
    neighbours counts the shared entries: ``O(m t log t)``, whatever the number of items.
    """
    result = np.full(first.shape[0], np.nan)
    rows = (first[:, 0] >= 0) & (second[:, 0] >= 0)
    both = np.sort(np.concatenate([first[rows], second[rows]], axis=1), axis=1)
    result[rows] = np.count_nonzero(both[:, 1:] == both[:, :-1], axis=1) / first.shape[1]
    return result


def adam_update(
    param: np.ndarray,
    grad: np.ndarray,
    first: np.ndarray,
    second: np.ndarray,
    step: int,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
) -> None:
    """One Adam step (Kingma and Ba 2015, Algorithm 1), updating ``param``, ``first``, ``second`` in place.

    ``m <- beta1 m + (1 - beta1) g``, ``v <- beta2 v + (1 - beta2) g^2``, and
    ``theta <- theta - lr m_hat / (sqrt(v_hat) + eps)`` with the bias-corrected
    moments ``m_hat = m / (1 - beta1^t)``, ``v_hat = v / (1 - beta2^t)``;
    ``step`` is ``t``, counted from 1.

    Examples
    --------
    >>> theta, m, v = np.array([1.0]), np.zeros(1), np.zeros(1)
    >>> adam_update(theta, np.array([2.0]), m, v, 1, 0.1, 0.9, 0.999, 1e-8)
    >>> theta.round(6)  # the first step moves by lr against the gradient's sign
    array([0.9])
    """
    first *= beta1
    first += (1.0 - beta1) * grad
    second *= beta2
    second += (1.0 - beta2) * (grad * grad)
    m_hat = first / (1.0 - beta1**step)
    v_hat = second / (1.0 - beta2**step)
    param -= lr * m_hat / (np.sqrt(v_hat) + eps)


def read_only(array: np.ndarray) -> np.ndarray:
    """Mark ``array`` read-only and return it (for the arrays of frozen result types).

    Examples
    --------
    >>> read_only(np.zeros(2)).flags.writeable
    False
    """
    array.setflags(write=False)
    return array
