"""How well an item-item similarity matrix recovers known clusters, and how two such matrices agree.

The paper shows its Figure 1 as pictures only.  These scores put numbers on
the pictures: for an item-item similarity ``S`` (p x p, e.g. a cosine matrix
from :func:`cossim.item_similarity`) and the items' true clusters,

* :func:`within_between_means`: mean similarity of same-cluster and of
  different-cluster pairs;
* :func:`_cluster_auc`: the probability that a random same-cluster pair scores
  above a random different-cluster pair (ties count 1/2);
* :func:`_precision_at_k`: the fraction of each item's ``top`` nearest neighbours in
  its own cluster, averaged over items;
* :func:`neighbour_overlap`: how many of each item's ``top`` nearest neighbours two
  similarity matrices share;
* :func:`cluster_metrics`: the first three at once, with the counts of what
  was left out.

**Undefined similarities.**  The cosine with a zero embedding is undefined, and
:func:`cossim.cosine_similarity` returns NaN for it (an item that no user
interacted with has a zero embedding).  Here a NaN entry is never averaged and
never ranked: pair scores skip NaN pairs (and :func:`cluster_metrics` reports
how many), and an item's neighbours are chosen among the items with a defined
similarity to it; an item with fewer than ``top`` of them is left out of the
neighbour scores (and counted).  Infinite entries are rejected.  The diagonal
of ``S`` is never used.

Import flow: this module imports only :mod:`numpy`, :mod:`cossim._util` and :mod:`cossim._validation`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cossim._util import shared_fraction, top_indices
from cossim._validation import as_array, as_matrix, check_rank

__all__ = ["ClusterMetricsResult", "cluster_metrics", "nearest_neighbours", "neighbour_overlap", "within_between_means"]

#: Relative tolerance of the symmetry check on ``S`` (cosine matrices from cossim are exactly symmetric).
_SYMMETRY_TOLERANCE = 1e-10


# --------------------------------------------------------------------------- input checks


def _check_similarity(S, name: str = "S", symmetric: bool = False) -> np.ndarray:
    """Return ``S`` as a square float64 array with at least 2 rows; NaN allowed, infinity not."""
    array = as_matrix(S, name, finite=False)
    if array.shape[0] != array.shape[1]:
        raise ValueError(f"{name} must be a square 2-D array (items x items), got shape {array.shape}")
    if array.shape[0] < 2:
        raise ValueError(f"{name} must have at least 2 items, got shape {array.shape}")
    if np.any(np.isinf(array)):
        raise ValueError(f"{name} must not contain infinity (NaN marks an undefined similarity)")
    if symmetric and not np.array_equal(array, array.T, equal_nan=bool(np.isnan(array).any())):
        # Not exactly symmetric (cossim's cosine matrices are): allow rounding-level differences.
        defined = array[~np.isnan(array)]
        scale = max(1.0, float(np.max(np.abs(defined)))) if defined.size else 1.0
        if not np.allclose(array, array.T, rtol=0.0, atol=_SYMMETRY_TOLERANCE * scale, equal_nan=True):
            raise ValueError(f"{name} must be symmetric (with NaN in symmetric places)")
    return array


def _check_clusters(clusters, p: int) -> np.ndarray:
    labels = as_array(clusters, "clusters", "a 1-D array of integers")
    if labels.ndim != 1 or labels.shape[0] != p:
        raise ValueError(f"clusters must be a 1-D array with one label per item ({p}), got shape {labels.shape}")
    if labels.dtype == bool or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"clusters must hold integer labels, got dtype {labels.dtype}")
    return labels.astype(np.int64, copy=False)


def _upper_pairs(S: np.ndarray, clusters: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Scores and same-cluster flags of the unordered pairs ``i < j`` (row-major order)."""
    p = S.shape[0]
    upper = np.triu(np.ones((p, p), dtype=bool), 1)
    same = np.equal.outer(clusters, clusters)
    return S[upper], same[upper]


# --------------------------------------------------------------------------- pair scores


def _means(scores: np.ndarray, same: np.ndarray) -> tuple[float, float]:
    defined = ~np.isnan(scores)
    result = []
    for mask in (same & defined, ~same & defined):
        count = int(np.count_nonzero(mask))
        result.append(float(np.sum(scores[mask]) / count) if count else float("nan"))
    return result[0], result[1]


def _auc(scores: np.ndarray, same: np.ndarray) -> float:
    """Mann-Whitney AUC of ``scores`` for telling ``same`` from not, ties 1/2, NaN skipped."""
    defined = ~np.isnan(scores)
    positives = np.sort(scores[same & defined])
    negatives = np.sort(scores[~same & defined])
    if positives.size == 0 or negatives.size == 0:
        return float("nan")
    # For each positive score: the negatives below it count 1, the negatives equal to it 1/2.
    # (Sorted queries make searchsorted fast; the counts are exact integers.)
    below = np.searchsorted(negatives, positives, side="left")
    not_above = np.searchsorted(negatives, positives, side="right")
    wins = 2 * int(below.sum()) + int((not_above - below).sum())  # twice the U statistic
    return wins / (2.0 * positives.size * negatives.size)


def within_between_means(S, clusters) -> tuple[float, float]:
    """Mean similarity within clusters and between clusters, over off-diagonal pairs.

    Used in ``chapters/gauge_freedom.md`` and ``chapters/factor_penalty.md``, where only these
    two means are needed; the reference for the ``within`` and ``between`` of
    :func:`cluster_metrics`.

    Parameters
    ----------
    S : array_like, shape (p, p)
        Symmetric item-item similarities, ``p >= 2``; NaN marks an undefined
        entry, the diagonal is ignored.
    clusters : array_like of int, shape (p,)
        Cluster label of every item.

    Returns
    -------
    within : float
        Mean of ``S[i, j]`` over the pairs ``i != j`` in the same cluster.
    between : float
        Mean over the pairs in different clusters.
        Either is NaN when it has no pair with a defined (non-NaN) value.

    Raises
    ------
    ValueError
        If ``S`` is not a square, symmetric real array without infinities, or
        ``clusters`` is not an integer array of length ``p``.

    Examples
    --------
    >>> within_between_means([[1.0, 0.8, 0.1], [0.8, 1.0, 0.3], [0.1, 0.3, 1.0]], [0, 0, 1])
    (0.8, 0.2)
    """
    S = _check_similarity(S, symmetric=True)
    clusters = _check_clusters(clusters, S.shape[0])
    return _means(*_upper_pairs(S, clusters))


def _cluster_auc(S, clusters) -> float:
    """AUC of the similarity for telling same-cluster pairs from different-cluster pairs.

    The reference for the ``auc`` of :func:`cluster_metrics`: 1 when every
    same-cluster pair is more similar than every different-cluster pair, 1/2
    for similarities unrelated to the clusters.

    Parameters
    ----------
    S : array_like, shape (p, p)
        Symmetric item-item similarities, ``p >= 2``; NaN entries are skipped.
    clusters : array_like of int, shape (p,)
        Cluster label of every item.

    Returns
    -------
    float
        Over the unordered pairs ``i < j`` with a defined ``S[i, j]``, the
        fraction of (same-cluster pair, different-cluster pair) couples in
        which the same-cluster pair has the larger similarity, ties counting
        1/2: the Mann-Whitney U statistic divided by ``n_same * n_different``.
        NaN if either kind of pair is absent.

    Raises
    ------
    ValueError
        As :func:`within_between_means`.

    Notes
    -----
    Computed exactly by sorting the same-cluster and the different-cluster
    scores and counting, for each same-cluster score, the different-cluster
    scores below it and equal to it (binary search), not by comparing the
    ``n_same * n_different`` couples: a few hundredths of a second for ``p = 1,000``.
    """
    S = _check_similarity(S, symmetric=True)
    clusters = _check_clusters(clusters, S.shape[0])
    return _auc(*_upper_pairs(S, clusters))


# --------------------------------------------------------------------------- neighbours


def _neighbours(S: np.ndarray, top: int) -> np.ndarray:
    """Each row's ``top`` nearest neighbours (see :func:`nearest_neighbours`), -1 rows where undefined."""
    p = S.shape[0]
    keys = S.copy()
    np.fill_diagonal(keys, -np.inf)  # below every defined value (S itself has no infinities)
    result = np.full((p, top), -1, dtype=np.int64)
    undefined = np.isnan(keys)
    if np.any(undefined):
        rows = np.flatnonzero(p - 1 - np.count_nonzero(undefined, axis=1) >= top)
        keys[undefined] = -np.inf
        keys = keys[rows]
    else:
        rows = np.arange(p)
    if rows.size:
        result[rows] = top_indices(keys, top)
    return result


def nearest_neighbours(S, top: int = 10) -> np.ndarray:
    """The ``top`` most similar other items of every item, most similar first.

    Used in ``chapters/movielens.md`` ("Real data: MovieLens-100k"), and by
    :func:`cluster_metrics` and :func:`neighbour_overlap`.

    Parameters
    ----------
    S : array_like, shape (p, p)
        Item-item similarities (need not be symmetric: row ``i`` ranks the
        items for item ``i``); NaN marks an undefined entry, the diagonal is ignored.
    top : int, default 10
        Number of neighbours, ``1 <= top <= p - 1``.

    Returns
    -------
    ndarray of int64, shape (p, top)
        Row ``i`` lists the items ``j != i`` with the ``top`` largest defined
        ``S[i, j]``, in descending order of similarity; equal similarities
        are ordered (and, at the cut-off, chosen) by ascending index, so the
        result is deterministic.  Rows of items with fewer than ``top`` defined
        similarities to other items are all ``-1``.

    Raises
    ------
    ValueError
        If ``S`` is not a square real array with at least 2 rows and no
        infinities, or ``top`` is not an integer in ``1..p-1``.

    Examples
    --------
    >>> nearest_neighbours([[1.0, 0.2, 0.9], [0.2, 1.0, 0.2], [0.9, 0.2, 1.0]], top=1).ravel()
    array([2, 0, 0])
    """
    S = _check_similarity(S)
    top = check_rank(top, S.shape[0] - 1, "top")
    return _neighbours(S, top)


def _precision(neighbours: np.ndarray, clusters: np.ndarray) -> tuple[float, int]:
    """Mean same-cluster fraction of the neighbour rows that are defined, and how many are not."""
    defined = neighbours[:, 0] >= 0
    n_excluded = int(np.count_nonzero(~defined))
    if not np.any(defined):
        return float("nan"), n_excluded
    hits = clusters[neighbours[defined]] == clusters[defined][:, None]
    return float(np.mean(hits)), n_excluded


def _precision_at_k(S, clusters, top: int = 10) -> float:
    """Mean fraction of an item's ``top`` nearest neighbours that share its cluster.

    The reference for the ``precision`` of :func:`cluster_metrics`: the
    question a recommender asks of item similarities ("more like this").

    Parameters
    ----------
    S : array_like, shape (p, p)
        Item-item similarities; NaN marks an undefined entry, the diagonal is ignored.
    clusters : array_like of int, shape (p,)
        Cluster label of every item.
    top : int, default 10
        Number of neighbours, ``1 <= top <= p - 1``.

    Returns
    -------
    float
        The neighbours of :func:`nearest_neighbours` (ties broken by index);
        for each item the fraction of them in its cluster, averaged over the
        items that have ``top`` defined neighbours (the others are left out;
        :func:`cluster_metrics` counts them).  NaN if no item has.  An item
        whose cluster has fewer than ``top + 1`` items scores below 1 even for
        the true similarity.

    Raises
    ------
    ValueError
        If ``S`` is not a square real array with at least 2 rows and no
        infinities, ``clusters`` is not an integer array of length ``p``, or
        ``top`` is not in ``1..p-1``.
    """
    S = _check_similarity(S)
    clusters = _check_clusters(clusters, S.shape[0])
    top = check_rank(top, S.shape[0] - 1, "top")
    return _precision(_neighbours(S, top), clusters)[0]


def neighbour_overlap(S1, S2, top: int = 10) -> float:
    """Mean fraction of shared nearest neighbours between two similarity matrices.

    Used in the later chapters (``chapters/training_dynamics.md``,
    ``chapters/movielens.md``, ``chapters/remedies.md``, ``chapters/audit.md``) to measure how much a
    change of gauge or of penalty changes what a recommender would show as
    "similar items".

    Parameters
    ----------
    S1, S2 : array_like, shape (p, p)
        Two item-item similarity matrices over the same items; NaN marks an
        undefined entry, the diagonals are ignored.
    top : int, default 10
        Number of neighbours, ``1 <= top <= p - 1``.

    Returns
    -------
    float
        ``|N1(i) & N2(i)| / top`` averaged over the items that have ``top``
        defined neighbours in both matrices, with ``N(i)`` the sets of
        :func:`nearest_neighbours`.  1 for identical neighbour sets, about
        ``top / (p - 1)`` for unrelated ones; NaN if no item qualifies.

    Raises
    ------
    ValueError
        If either matrix is not a square real array with at least 2 rows and
        no infinities, their shapes differ (the message names ``S2``), or
        ``top`` is not in ``1..p-1``.
    """
    S1 = _check_similarity(S1, "S1")
    S2 = _check_similarity(S2, "S2")
    if S2.shape != S1.shape:
        raise ValueError(f"S2 must have the same shape as S1 {S1.shape}, got {S2.shape}")
    p = S1.shape[0]
    top = check_rank(top, p - 1, "top")
    shared = shared_fraction(_neighbours(S1, top), _neighbours(S2, top))
    defined = shared[~np.isnan(shared)]
    return float(defined.mean()) if defined.size else float("nan")


# --------------------------------------------------------------------------- all at once


@dataclass(frozen=True)
class ClusterMetricsResult:
    """The cluster-recovery scores of one item-item similarity matrix.

    Returned by :func:`cluster_metrics`.

    Attributes
    ----------
    within, between : float
        :func:`within_between_means`.
    auc : float
        :func:`_cluster_auc`.
    precision : float
        :func:`_precision_at_k` at ``top``.
    top : int
        The number of neighbours used for ``precision``.
    n_pairs : int
        Unordered off-diagonal pairs, ``p (p - 1) / 2``.
    n_undefined_pairs : int
        Pairs whose similarity is NaN, left out of ``within``, ``between`` and ``auc``.
    n_excluded_items : int
        Items with fewer than ``top`` defined similarities to other items, left
        out of ``precision``.
    """

    within: float
    between: float
    auc: float
    precision: float
    top: int
    n_pairs: int
    n_undefined_pairs: int
    n_excluded_items: int


def cluster_metrics(S, clusters, top: int = 10) -> ClusterMetricsResult:
    """All cluster-recovery scores of one similarity matrix, with what was left out.

    Used in ``chapters/simulation.md`` ("Reproducing the paper's experiment")
    to score each of the five panels of the paper's Figure 1.

    Parameters
    ----------
    S : array_like, shape (p, p)
        Symmetric item-item similarities, ``p >= 2``; NaN marks an undefined
        entry, the diagonal is ignored.
    clusters : array_like of int, shape (p,)
        Cluster label of every item.
    top : int, default 10
        Neighbours for the precision, ``1 <= top <= p - 1``.

    Returns
    -------
    ClusterMetricsResult
        The same numbers as :func:`within_between_means`,
        :func:`_cluster_auc` and :func:`_precision_at_k`, from one pass over
        the pairs, plus the counts of undefined pairs and excluded items.

    Raises
    ------
    ValueError
        If ``S`` is not a square, symmetric real array without infinities,
        ``clusters`` is not an integer array of length ``p``, or ``top`` is not
        in ``1..p-1``.

    Examples
    --------
    >>> labels = np.array([0, 0, 0, 1, 1, 1])
    >>> m = cluster_metrics(np.equal.outer(labels, labels).astype(float), labels, top=2)
    >>> (m.within, m.between, m.auc, m.precision, m.n_undefined_pairs)
    (1.0, 0.0, 1.0, 1.0, 0)
    """
    S = _check_similarity(S, symmetric=True)
    p = S.shape[0]
    clusters = _check_clusters(clusters, p)
    top = check_rank(top, p - 1, "top")
    scores, same = _upper_pairs(S, clusters)
    within, between = _means(scores, same)
    precision, n_excluded = _precision(_neighbours(S, top), clusters)
    return ClusterMetricsResult(
        within=within,
        between=between,
        auc=_auc(scores, same),
        precision=precision,
        top=top,
        n_pairs=int(scores.size),
        n_undefined_pairs=int(np.count_nonzero(np.isnan(scores))),
        n_excluded_items=n_excluded,
    )
