"""Held-out evaluation: choosing lambda as a practitioner would, and comparing "similar items" lists.

Used in ``chapters/movielens.md`` ("Real data: MovieLens-100k").  A recommender
is tuned on what it predicts, not on its embeddings: some of each user's
interactions are hidden (:func:`split_per_user`), the model is fitted on the
rest, every user's unseen items are ranked by the predicted scores
``X_train A B^T``, and the ranking is scored by how many hidden items reach its
top (:func:`recall_at_k`).  :func:`select_lambda` does this along a grid of
penalties and keeps the best one.  Nothing in this procedure looks at a cosine,
which is why it cannot decide between the gauges of objective (1).

Two helpers then compare what a "similar items" shelf would show:
:func:`shared_neighbours` (the fraction of an item's neighbour list that
two similarity measures have in common, item by item) and
:func:`label_jaccard` (how well an item's neighbours share its labels, such as
a film's genres).

**Ties.**  Items with equal scores are ranked by ascending item index, both
within a list and at the cut-off, so every result is deterministic (the same
rule as :func:`cossim.nearest_neighbours`).

Import flow: this module imports :mod:`numpy`, :mod:`cossim._validation` and
:mod:`cossim.linalg`; nothing in :mod:`cossim` imports it except the package
``__init__``.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from cossim._util import shared_fraction, top_indices
from cossim._validation import as_array, as_generator, as_matrix, as_vector, check_nonnegative, check_rank
from cossim.linalg import top_spectrum

__all__ = [
    "LambdaSelectionResult",
    "label_jaccard",
    "recall_at_k",
    "select_lambda",
    "shared_neighbours",
    "split_per_user",
]


# --------------------------------------------------------------------------- input checks


def _check_fraction(fraction) -> float:
    if isinstance(fraction, bool) or not isinstance(fraction, numbers.Real):
        raise ValueError(f"fraction must be a real number, got {fraction!r}")
    fraction = float(fraction)
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"fraction must lie strictly between 0 and 1, got {fraction}")
    return fraction


def _check_split(X_train, X_test, scores=None) -> tuple[np.ndarray, ...]:
    X_train = as_matrix(X_train, "X_train")
    X_test = as_matrix(X_test, "X_test")
    if X_test.shape != X_train.shape:
        raise ValueError(f"X_test must have the shape of X_train {X_train.shape}, got {X_test.shape}")
    if np.any((X_train != 0) & (X_test != 0)):
        raise ValueError("X_test must not hold an entry that X_train holds (held-out items are unseen)")
    if scores is None:
        return X_train, X_test
    scores = as_matrix(scores, "scores")
    if scores.shape != X_train.shape:
        raise ValueError(f"scores must have the shape of X_train {X_train.shape}, got {scores.shape}")
    return X_train, X_test, scores


def _check_neighbours(neighbours, name: str) -> np.ndarray:
    array = as_array(neighbours, name, "a 2-D array of item indices")
    if array.ndim != 2 or array.shape[1] == 0:
        raise ValueError(f"{name} must be a 2-D array (items x neighbours), got shape {array.shape}")
    if array.dtype == bool or not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"{name} must hold integer item indices, got dtype {array.dtype}")
    array = array.astype(np.int64, copy=False)
    undefined = array[:, 0] < 0
    if np.any(array[~undefined] < 0) or np.any(array[undefined] != -1):
        raise ValueError(f"{name} must have rows of indices >= 0, or rows of -1 (no neighbours)")
    return array


# --------------------------------------------------------------------------- the split


def split_per_user(X, fraction: float, seed) -> tuple[np.ndarray, np.ndarray]:
    """Hide a random fraction of each user's interactions, for held-out evaluation.

    Used in ``chapters/movielens.md`` ("Real data: MovieLens-100k") to choose
    the penalty of each objective by held-out recall.

    Parameters
    ----------
    X : array_like, shape (n, p)
        Interactions, users by items; every nonzero entry is one interaction.
    fraction : float
        Share of each user's interactions to hide, ``0 < fraction < 1``.
        User ``u`` with ``c_u`` interactions hides
        ``h_u = min(floor(fraction * c_u + 1/2), c_u - 1)`` of them (the
        nearest integer, halves rounded up, but always keeping at least one
        for training; a user with no interaction hides none).
    seed : int or numpy.random.Generator
        The source of randomness: a non-negative seed or a Generator.

    Returns
    -------
    X_train : ndarray of float64, shape (n, p)
        ``X`` with the hidden entries set to 0.
    X_test : ndarray of float64, shape (n, p)
        The hidden entries of ``X`` (with their values), 0 elsewhere.
        ``X_train + X_test == X`` and no entry is nonzero in both.

    Raises
    ------
    ValueError
        If ``X`` is not a finite 2-D real array, ``fraction`` is not strictly
        between 0 and 1, or ``seed`` is neither a Generator nor a
        non-negative integer.

    Notes
    -----
    Every nonzero entry of ``X`` gets an independent uniform key, drawn in
    row-major order with one call ``rng.random(nnz)``; each user hides the
    ``h_u`` entries with the smallest keys.  So every subset of ``h_u`` of the
    user's items is equally likely, and a seed fixes the split.
    """
    X = as_matrix(X, "X")
    fraction = _check_fraction(fraction)
    rng = as_generator(seed)
    rows, columns = np.nonzero(X)  # row-major order
    counts = np.bincount(rows, minlength=X.shape[0])
    hidden = np.minimum(np.floor(fraction * counts + 0.5).astype(np.int64), np.maximum(counts - 1, 0))
    keys = rng.random(rows.size)
    order = np.lexsort((keys, rows))  # by user, then by key
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    position = np.arange(rows.size) - starts[rows[order]]  # rank of the key within its user
    held = order[position < hidden[rows[order]]]
    X_train = np.array(X, dtype=np.float64, copy=True)
    X_test = np.zeros_like(X_train)
    X_test[rows[held], columns[held]] = X_train[rows[held], columns[held]]
    X_train[rows[held], columns[held]] = 0.0
    return X_train, X_test


# --------------------------------------------------------------------------- recall


def recall_at_k(X_train, X_test, scores, top: int = 20) -> float:
    """Mean recall of the top-``top`` lists of held-out items when each user's unseen items are ranked by ``scores``.

    Used in ``chapters/movielens.md`` ("Real data: MovieLens-100k"), the
    criterion by which the penalty of each objective is chosen.

    Parameters
    ----------
    X_train : array_like, shape (n, p)
        The interactions the model was fitted on; a user's nonzero entries
        here are never recommended to that user.
    X_test : array_like, shape (n, p)
        The hidden interactions (nonzero entries), disjoint from ``X_train``.
    scores : array_like, shape (n, p)
        Predicted scores, e.g. ``X_train @ A @ B.T``; larger is better.
    top : int, default 20
        Length of each user's list, ``1 <= top <= p``.

    Returns
    -------
    float
        For each user ``u`` with ``m_u >= 1`` hidden items: rank the items
        that are zero in ``X_train[u]`` by descending score (equal scores by
        ascending index), take the first ``top``, count the hidden items among
        them, ``hits_u``, and divide by ``min(top, m_u)`` (so a perfect list
        scores 1 even for a user with more than ``top`` hidden items).  The mean
        over these users.  Users without hidden items are left out.

    Raises
    ------
    ValueError
        If an array is not a finite 2-D real array, the shapes differ, an
        entry is nonzero in both ``X_train`` and ``X_test`` (the message names
        ``X_test``), ``X_test`` has no nonzero entry, or ``top`` is not in
        ``1..p``.
    """
    X_train, X_test, scores = _check_split(X_train, X_test, scores)
    top = check_rank(top, X_train.shape[1], "top")
    held = X_test != 0
    m = np.count_nonzero(held, axis=1)
    users = np.flatnonzero(m)
    if users.size == 0:
        raise ValueError("X_test must hold at least one held-out interaction")
    keys = np.where(X_train[users] != 0, -np.inf, scores[users])
    listed = top_indices(keys, top)
    hits = np.count_nonzero(np.take_along_axis(held[users], listed, axis=1), axis=1)
    return float(np.mean(hits / np.minimum(top, m[users])))


# --------------------------------------------------------------------------- choosing lambda


@dataclass(frozen=True)
class LambdaSelectionResult:
    """A validation curve: held-out recall along a grid of penalties, and its best point.

    Returned by :func:`select_lambda`.

    Attributes
    ----------
    lams : ndarray, shape (m,)
        The penalties tried, in the order given.
    recalls : ndarray, shape (m,)
        Recall of the top-``top`` lists on the held-out items, for each penalty.
    k : int
        The number of latent dimensions of every fit.
    top : int
        The length of the ranked lists.
    """

    lams: np.ndarray
    recalls: np.ndarray
    k: int
    top: int

    @property
    def best_index(self) -> int:
        """Index of the largest recall (the first one, if several are equal)."""
        return int(np.argmax(self.recalls))

    @property
    def best_lam(self) -> float:
        """The penalty with the largest held-out recall."""
        return float(self.lams[self.best_index])

    @property
    def best_recall(self) -> float:
        """The largest held-out recall."""
        return float(self.recalls[self.best_index])


def select_lambda(
    fit: Callable,
    X_train,
    X_test,
    lams: Sequence[float],
    k: int,
    *,
    top: int = 20,
    spectrum=None,
) -> LambdaSelectionResult:
    """Fit one model per penalty on ``X_train`` and score its predictions on ``X_test``.

    Used in ``chapters/movielens.md`` ("Real data: MovieLens-100k") to choose
    ``lam`` for objectives (1) and (2) as a practitioner would: by held-out
    recall of the predictions, which no gauge changes.

    Parameters
    ----------
    fit : callable
        ``fit(X_train, k, lam, spectrum=spectrum)`` returning a
        :class:`cossim.Factorization`, for example
        :func:`cossim.fit_product_penalty` or :func:`cossim.fit_factor_penalty`.
    X_train, X_test : array_like, shape (n, p)
        A split from :func:`split_per_user` (disjoint nonzero entries).
    lams : sequence of float, length m >= 1
        Penalties to try, each ``>= 0`` and finite.
    k : int
        Latent dimensions of every fit, ``1 <= k <= min(n, p)``.
    top : int, default 20
        Length of the ranked lists of :func:`recall_at_k`, ``1 <= top <= p``.
    spectrum : (s, V), optional
        ``top_spectrum(X_train, r)`` with ``r >= k``, shared by every fit
        (and by calls with other ranks or objectives).  Computed once here if
        not given.

    Returns
    -------
    LambdaSelectionResult
        The grid, the recall of ``X_train @ A @ B.T`` for each penalty, and
        the best penalty (the first, if several give the same recall).

    Raises
    ------
    ValueError
        For a bad split (as :func:`recall_at_k`), ``fit`` that is not
        callable, an empty ``lams`` or a negative or non-finite penalty
        (naming ``lams``), or ``k`` or ``top`` out of range.
    """
    if not callable(fit):
        raise ValueError(f"fit must be callable, e.g. cossim.fit_product_penalty, got {fit!r}")
    X_train, X_test = _check_split(X_train, X_test)
    lams = as_vector(lams, "lams")
    for lam in lams:
        check_nonnegative(float(lam), "lams")
    k = check_rank(k, min(X_train.shape), "k")
    top = check_rank(top, X_train.shape[1], "top")
    if not np.any(X_test != 0):
        raise ValueError("X_test must hold at least one held-out interaction")
    if spectrum is None:
        spectrum = top_spectrum(X_train, k)
    recalls = np.empty(lams.size)
    for index, lam in enumerate(lams):
        factors = fit(X_train, k, float(lam), spectrum=spectrum)
        scores = (X_train @ factors.A) @ factors.B.T  # n p k work, never p x p
        recalls[index] = recall_at_k(X_train, X_test, scores, top)
    return LambdaSelectionResult(lams=lams, recalls=recalls, k=k, top=top)


# --------------------------------------------------------------------------- comparing neighbour lists


def shared_neighbours(first, second) -> np.ndarray:
    """Item by item, the fraction of neighbours that two neighbour lists share.

    Used in ``chapters/movielens.md`` ("Real data: MovieLens-100k") for the
    distribution behind :func:`cossim.neighbour_overlap`'s mean: how much of a
    "similar items" shelf survives a change of gauge or of objective.

    Parameters
    ----------
    first, second : array_like of int, shape (m, t)
        Neighbour lists, one row per item, as returned by
        :func:`cossim.nearest_neighbours` (rows of -1 for items without
        neighbours), each row of distinct indices.  The order within a row
        does not matter.

    Returns
    -------
    ndarray of float64, shape (m,)
        ``|N1(i) & N2(i)| / t`` for each row ``i``; NaN where either row is -1.

    Raises
    ------
    ValueError
        If either is not a 2-D integer array of indices (or -1 rows), or the
        shapes differ (the message names ``second``).
    """
    first = _check_neighbours(first, "first")
    second = _check_neighbours(second, "second")
    if second.shape != first.shape:
        raise ValueError(f"second must have the shape of first {first.shape}, got {second.shape}")
    return shared_fraction(first, second)


def label_jaccard(neighbours, labels, items=None) -> np.ndarray:
    """Item by item, the mean Jaccard similarity between an item's labels and its neighbours' labels.

    Used in ``chapters/movielens.md`` ("Real data: MovieLens-100k") to ask
    whether the "similar movies" of each gauge share the film's genres.

    Parameters
    ----------
    neighbours : array_like of int, shape (m, t)
        Neighbour lists (indices into ``labels``), one row per item, as from
        :func:`cossim.nearest_neighbours`; rows of -1 have no neighbours.
    labels : sequence of sets, length p
        The labels of every item (e.g. ``MovieRatings.genres``).
    items : array_like of int, shape (m,), optional
        The item whose list each row is.  Default ``0..m-1`` (then
        ``m <= p``); give it when the rows belong to a subset of the items.

    Returns
    -------
    ndarray of float64, shape (m,)
        For row ``r`` with item ``i = items[r]``: the mean over its
        neighbours ``j`` of ``|L_i & L_j| / |L_i | L_j|`` (two empty label
        sets count as identical, 1).  NaN for rows of -1.

    Raises
    ------
    ValueError
        If ``neighbours`` is not a 2-D integer array of indices (or -1 rows)
        below ``len(labels)``, an entry of ``labels`` is not a set, or
        ``items`` is not one valid index per row.
    """
    neighbours = _check_neighbours(neighbours, "neighbours")
    sets = []
    for index, entry in enumerate(labels):
        if not isinstance(entry, (set, frozenset)):
            raise ValueError(f"labels must hold sets, entry {index} is {type(entry).__name__}")
        sets.append(entry)
    p = len(sets)
    m = neighbours.shape[0]
    if items is None:
        if m > p:
            raise ValueError(f"items must be given when neighbours has more rows ({m}) than labels ({p})")
        items = np.arange(m)
    else:
        items = np.asarray(items)
        if items.shape != (m,) or items.dtype == bool or not np.issubdtype(items.dtype, np.integer):
            raise ValueError(f"items must be {m} integer indices, one per row of neighbours")
        if np.any((items < 0) | (items >= p)):
            raise ValueError(f"items must be indices in 0..{p - 1}")
    if np.any(neighbours >= p):
        raise ValueError(f"neighbours must be indices below len(labels) = {p}")

    # Labels as a 0/1 matrix: intersections and unions are then matrix arithmetic.
    vocabulary = sorted(set().union(*sets), key=str)
    position = {label: column for column, label in enumerate(vocabulary)}
    member = np.zeros((p, max(len(vocabulary), 1)), dtype=np.int64)
    for row, entry in enumerate(sets):
        member[row, [position[label] for label in entry]] = 1
    size = member.sum(axis=1)

    result = np.full(m, np.nan)
    rows = np.flatnonzero(neighbours[:, 0] >= 0)
    if rows.size:
        own = member[items[rows]]  # (r, L)
        theirs = member[neighbours[rows]]  # (r, t, L)
        common = np.einsum("rl,rtl->rt", own, theirs)
        union = size[items[rows]][:, None] + size[neighbours[rows]] - common
        jaccard = np.where(union > 0, common / np.maximum(union, 1), 1.0)
        result[rows] = jaccard.mean(axis=1)
    return result
