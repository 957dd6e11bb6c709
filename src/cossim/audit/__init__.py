"""Audit a set of item embeddings: do their cosine neighbours survive a change of gauge?

Used in ``chapters/audit.md`` ("Auditing your own embeddings"), and behind the
command line ``cossim-audit`` / ``python -m cossim.audit`` (:mod:`cossim.cli`).

A model whose scores depend on the item embeddings ``B`` only through ``U B^T``
(matrix factorisation with a user table ``U``, the book's linear models with
``U = X A``, two-tower models) is equally well described by ``B M`` and
``U M^{-T}`` for every invertible ``M``: every score is the same, every cosine
between items is not.  This module answers the practitioner's question in two
ways.

**Without the users** (:func:`neighbour_stability`), it moves ``B`` along a
one-parameter family of such gauges, defined from ``B`` alone, and measures
how much of each item's top-``top`` list of most cosine-similar items stays
the same.  With the thin SVD ``B = P R Q^T``,

    B_gamma = B Q R^gamma Q^T = P R^(1 + gamma) Q^T.

``gamma = 0`` is ``B`` itself; ``gamma = -1`` whitens (``B_{-1} = P Q^T``, every
direction weighted equally); ``gamma = 1`` squares the spectrum.  The matrix
``M = Q R^gamma Q^T`` is symmetric positive definite, so the pair
``(U M^{-1}, B M)`` has the same scores: a legal gauge.  The family is a
one-parameter slice of the freedom (the whole freedom is every invertible
``M``): it changes the relative weight of ``B``'s own latent directions, from
"all equal" to "the strong ones squared", and needs nothing to be chosen.

**With the users** (:func:`gauge_free_items`, and ``users=`` here), the freedom
can be removed instead of probed: the cosines between the rows of
``B (U^T U)^(1/2)`` are those between the columns of the score matrix
``U B^T``, the same in every gauge.

**What the family does not see.**  It moves along ``B``'s own spectrum.  If that
spectrum is flat (for example ``B = V_k``, already whitened, or the
product-penalty solution with a small penalty, whose singular values
``sqrt(s_i)`` are all near 1), every ``B_gamma`` is close to ``B`` and the
audit reports stable neighbours, although other gauges (another diagonal
``D``, such as the singular values of the data) would still move them.  A
high overlap says "no instability detected along this family", not "stable
under every gauge"; :func:`audit_verdict` reads the spread of the singular values
first (:data:`FLAT_SPREAD`).

**Zero singular values.**  ``R^gamma`` is undefined for ``gamma < 0``
when ``B`` has a zero singular value (rank below ``k``).  The gauge then acts
on the nonzero part only: ``M = Q_r R_r^gamma Q_r^T + (I - Q_r Q_r^T)``
with ``r`` the numerical rank (singular values above
``max(p, k) * eps * sigma_max``, numpy's ``matrix_rank`` rule), which is still
symmetric positive definite; ``B M = P_r R_r^(1 + gamma) Q_r^T``.  When
all nonzero singular values are equal (within the same tolerance), for
example when ``B`` has orthogonal columns of equal length,
``B_gamma = sigma^gamma B``: every gamma gives exactly the neighbours of ``B``,
and the audit says so without recomputing them (recomputing would let
rounding decide between cosines that are exactly tied).

**Zero embeddings.**  An item whose row of ``B`` is exactly zero (for example
an item nobody interacted with) stays zero under every gauge, and its cosine
with anything is undefined.  Such an item has no neighbours (its rows of
``neighbours`` are ``-1`` and its overlaps are NaN, left out of every mean),
is never anyone's neighbour, and is never drawn as a query.  With the users,
an item whose scores ``U b_i`` all vanish (to rounding) has no gauge-free
neighbours and is nobody's gauge-free neighbour.

**Ties.**  Neighbours are ranked by descending cosine, and equal cosines by
ascending item index, both in the order within a list and in the choice at
the cut-off, so the result is deterministic.  An item is never its own
neighbour; an exact duplicate of it (cosine 1) is.  Cosines that are equal
only in exact arithmetic are ranked as float64 computes them.  When ``B`` has
no more nonzero rows than its rank, the whitened ``B_{-1} = P Q^T`` has
orthogonal rows, every cosine between two items is 0 up to rounding, and
the lists at ``gamma = -1`` mean nothing.

**Sampling.**  With ``sample=N`` the audit draws ``N`` query items uniformly
without replacement from the items with a nonzero embedding (``seed``: an
int or a ``numpy.random.Generator``) and finds their neighbours among *all*
items.  Each mean overlap then estimates the mean over all items, with a
95 % confidence interval from the normal approximation: mean plus or minus
``t_{0.975, N - 1} * sd / sqrt(N) * sqrt((P - N) / (P - 1))``, with ``sd`` the
standard deviation of the ``N`` per-item overlaps and ``P`` the number of items
that could be drawn (the last factor is the finite-population correction of
sampling without replacement).  ``benchmarks/bench_audit.py --large`` measures
its coverage.

**Memory and speed.**  The ``p x p`` cosine matrix is never formed.  The
embeddings are read in tiles of rows (a ``numpy.memmap``, such as
``numpy.load(path, mmap_mode="r")``, is read tile by tile and never copied
whole), and the query items are processed in blocks (``block_size``).  For
each block and tile the cosines are computed in float32, a lower bound on
each query's ``top``-th largest cosine is kept (from the best lists so far and
from the maxima of column chunks), and only the entries that can still reach
the top (the cut-off is lowered by twice ``(d + 4) 2^-23``, a rigorous bound on
the float32 rounding error of a cosine of ``d``-dimensional unit vectors) are
recomputed in float64 and merged into the lists.  The ranking therefore uses
float64 cosines, exactly as a full sort of the float64 cosine matrix would.
When all items fit one tile (``p <= 65,536`` with the default block size) each
block sees all items at once.  One block's working memory stays within about
:data:`MEMORY_BUDGET`.  ``benchmarks/bench_audit.py`` measures time and memory
(``p = 20,000`` exact, and ``p = 1,000,000`` sampled).  Many exact ties at the
cut-off (for example hundreds of identical embeddings) make more candidates
and cost more time, never a wrong answer or more memory (the candidates are
ranked in groups of rows of bounded size).

Import flow: this module imports :mod:`numpy` (and :mod:`scipy.stats` for the
interval) and :mod:`cossim._validation`; it imports no plotting and no command
line (those live in :mod:`cossim.cli`).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from cossim._util import read_only, shared_fraction, unit_rows
from cossim._validation import as_array, as_generator, as_matrix, as_vector, check_count, check_rank

__all__ = [
    "DEFAULT_GAMMAS",
    "EXACT_LIMIT",
    "FLAT_SPREAD",
    "STABLE_OVERLAP",
    "UNSTABLE_OVERLAP",
    "NeighbourStabilityResult",
    "gauge_free_items",
    "neighbour_stability",
    "audit_verdict",
]

#: The gauges audited by default: gamma = -1 (whitened), -0.75, ..., 0 (B itself), ..., 1.
DEFAULT_GAMMAS = np.linspace(-1.0, 1.0, 9)
DEFAULT_GAMMAS.setflags(write=False)

#: Up to this many items the command line audits every item; above it, a sample (``--sample``).
EXACT_LIMIT = 50_000

#: Reading guide: a largest/smallest singular value ratio of ``B`` below this is a flat spectrum.
FLAT_SPREAD = 2.0

#: Reading guide: a lowest mean overlap at or above this is "no instability detected".
STABLE_OVERLAP = 0.9

#: Reading guide: a lowest mean overlap below this is "unstable".
UNSTABLE_OVERLAP = 0.5

#: Working memory allowed for one block of query rows, in bytes.
MEMORY_BUDGET = 256 * 2**20

#: Bytes per (query, item) entry of a block: the float32 cosine, its chunk maxima, padding and slack.
_BYTES_PER_ENTRY = 16

#: Entries searched for candidates at once (about 128 bytes each: the gathered values, the
#: candidates' indices, cosines and sort keys); bounds the memory when many cosines tie.
_GROUP_ENTRIES = MEMORY_BUDGET // 128

#: Target number of column chunks per candidate neighbour (more chunks: a tighter bound, more work).
_CHUNKS_PER_NEIGHBOUR = 16

#: Largest chunk of columns whose maximum bounds the cut-off.
_MAX_CHUNK = 128

#: Below this many query rows per block (all items in one tile), the items are tiled instead.
_MIN_FULL_WIDTH_ROWS = 256

#: Query rows per block when the items are tiled.
_TILED_BLOCK_ROWS = 2048

#: Bytes of float64 embeddings read at once by the passes that only accumulate (spectrum, checks).
_READ_BYTES = 64 * 2**20

#: Rows added to the running QR factorisation at once.
_QR_ROWS = 4096


# --------------------------------------------------------------------------- result


@dataclass(frozen=True)
class NeighbourStabilityResult:
    """How each audited item's top cosine neighbours change under the gauges ``B -> B Q R^gamma Q^T``.

    Returned by :func:`neighbour_stability` (whose docstring names the
    chapters that read these fields) and read by :mod:`cossim.cli`.  Arrays
    are read-only.  Row ``j`` of every per-item array refers to item ``items[j]``.

    Attributes
    ----------
    gammas : ndarray, shape (g,)
        The exponents, in the order given.
    top : int
        Length of each neighbour list.
    mode : {"exact", "sampled", "items"}
        Every item audited; a uniform sample of query items; or the items given.
    items : ndarray of int64, shape (s,)
        The audited (query) items, ascending: ``arange(p)`` in exact mode.
    n_items : int
        ``p``, the number of items (all are candidate neighbours).
    mean_overlap : ndarray, shape (g,)
        For each gamma, ``|N_gamma(i) & N_0(i)| / top`` averaged over the audited
        items with a nonzero embedding; ``N_0`` are the neighbours under ``B``
        itself, so the entry for ``gamma = 0`` is exactly 1.
    overlap_interval : ndarray, shape (g, 2)
        95 % confidence interval of each mean overlap for the mean over all
        items (sampled mode; see the module docstring); equal to the mean in
        exact mode, where nothing is estimated; NaN in items mode.
    overlaps : ndarray, shape (g, s)
        The per-item overlaps (NaN for zero-embedding items).
    nearest_changed : ndarray, shape (g,)
        For each gamma, the fraction of audited nonzero items whose most
        similar item differs from the one under ``B``.
    neighbours : ndarray of int64, shape (g, s, top)
        ``neighbours[j, m]``: the neighbours of item ``items[m]`` under gamma
        ``j``, most similar first (rows of ``-1`` for zero-embedding items).
    reference_neighbours : ndarray of int64, shape (s, top)
        The neighbours under ``B`` itself (``gamma = 0``).
    singular_values : ndarray, shape (min(p, k),)
        Of ``B``, descending.
    rank : int
        The number of singular values treated as nonzero.
    zero_items : ndarray of int64
        Indices (among all ``p``) of the items whose embedding is exactly zero.
    n_nonzero : int
        The number of items with a nonzero embedding.
    block_size : int
        Query rows per block actually used.
    tile_width : int
        Items per tile actually used (``p`` when every block sees all items).
    n_users : int or None
        Rows of the users' table, when one was given.
    gauge_free_neighbours : ndarray of int64, shape (s, top), or None
        With the users: each audited item's neighbours by the cosines of the
        rows of ``B (U^T U)^(1/2)`` (rows of ``-1`` where it has none).
    gauge_free_overlap : ndarray, shape (s,), or None
        With the users: the overlap of each item's raw-cosine list
        (``reference_neighbours``) with its gauge-free list (NaN where either
        is missing).
    mean_gauge_free_overlap : float or None
        The mean of ``gauge_free_overlap`` over the items that have both lists.
    gauge_free_interval : ndarray, shape (2,), or None
        Its 95 % interval, as for ``overlap_interval``.
    """

    gammas: np.ndarray
    top: int
    mode: str
    items: np.ndarray
    n_items: int
    mean_overlap: np.ndarray
    overlap_interval: np.ndarray
    overlaps: np.ndarray
    nearest_changed: np.ndarray
    neighbours: np.ndarray
    reference_neighbours: np.ndarray
    singular_values: np.ndarray
    rank: int
    zero_items: np.ndarray
    n_nonzero: int
    block_size: int
    tile_width: int
    n_users: int | None = None
    gauge_free_neighbours: np.ndarray | None = None
    gauge_free_overlap: np.ndarray | None = None
    mean_gauge_free_overlap: float | None = None
    gauge_free_interval: np.ndarray | None = None

    @property
    def item_overlap(self) -> np.ndarray:
        """Each audited item's overlap averaged over the gammas, shape (s,); NaN for zero-embedding items."""
        return self.overlaps.mean(axis=0)

    def least_stable(self, count: int = 10) -> np.ndarray:
        """The ``count`` audited items with the lowest :attr:`item_overlap` (ties by index), most unstable first.

        Returns item indices (among all ``p``), not positions in :attr:`items`.
        """
        count = check_count(count, "count", minimum=0)
        values = self.item_overlap
        rows = np.flatnonzero(~np.isnan(values))
        order = np.lexsort((self.items[rows], values[rows]))
        return self.items[rows[order[: int(count)]]]

    def position(self, item: int) -> int:
        """The row of ``item`` in the per-item arrays; ``ValueError`` if it was not audited."""
        where = int(np.searchsorted(self.items, item))
        if where == self.items.size or self.items[where] != item:
            raise ValueError(f"item {item} was not audited ({self.mode} mode, {self.items.size} items)")
        return where

    @property
    def spread(self) -> float:
        """Largest over smallest nonzero singular value of ``B`` (1 for rank 1): how far the family can move."""
        return float(self.singular_values[0] / self.singular_values[self.rank - 1])

    @property
    def effective_rank(self) -> float:
        """``exp`` of the entropy of the normalised nonzero singular values of ``B`` (Roy and Vetterli 2007).

        Between 1 (one direction dominates) and :attr:`rank` (all equal).
        """
        values = self.singular_values[: self.rank]
        shares = values / values.sum()
        return float(np.exp(-np.sum(shares * np.log(shares))))


# --------------------------------------------------------------------------- checks


def _default_block_size(p: int, queries: int | None = None) -> int:
    """Query rows per block for ``p`` items and ``queries`` audited items (default ``p``).

    If a block can see all ``p`` items at once with at least 256 rows within
    :data:`MEMORY_BUDGET` (``p <= 65,536``), as many rows as fit; otherwise
    2,048 rows, and the items are tiled so that a block stays within the budget.
    Never more than ``queries``.
    """
    queries = p if queries is None else queries
    rows = MEMORY_BUDGET // (_BYTES_PER_ENTRY * max(p, 1))
    if rows < _MIN_FULL_WIDTH_ROWS:
        rows = _TILED_BLOCK_ROWS
    return int(max(1, min(rows, queries)))


def _tile_width(p: int, block_size: int) -> int:
    """Items per tile: all ``p`` if a block of ``block_size`` rows fits the budget, else as many as fit."""
    return int(max(1, min(p, MEMORY_BUDGET // (_BYTES_PER_ENTRY * block_size))))


def _check_block_size(block_size, p: int, queries: int) -> int:
    if block_size is None:
        return _default_block_size(p, queries)
    return min(check_count(block_size, "block_size"), queries)


def _as_table(value, name: str) -> np.ndarray:
    """A 2-D real array without copying (a memmap stays a memmap); finiteness is checked tile by tile."""
    array = value if isinstance(value, np.ndarray) else as_array(value, name, "a 2-D array of numbers")
    if array.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array, got {array.ndim} dimension(s) with shape {array.shape}")
    kind = array.dtype
    if not (np.issubdtype(kind, np.bool_) or np.issubdtype(kind, np.floating) or np.issubdtype(kind, np.integer)):
        raise ValueError(f"{name} must hold real numbers, got dtype {kind}")
    if array.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {array.shape}")
    return array


def _read(table: np.ndarray, start, stop: int | None, name: str) -> np.ndarray:
    """Rows ``start:stop`` (or the rows ``start``, an index array, if ``stop`` is None) as float64,
    checked finite (the error names the first bad row)."""
    rows = table[start] if stop is None else table[start:stop]
    tile = np.asarray(rows, dtype=np.float64)
    finite = np.isfinite(tile)
    if not finite.all():
        bad = int(np.flatnonzero(~finite.all(axis=1))[0])
        row = int(start[bad]) if stop is None else start + bad
        raise ValueError(f"{name} must be finite: row {row} (counting from 0) contains NaN or infinity")
    return tile


def _read_rows(table: np.ndarray) -> int:
    return max(1, _READ_BYTES // (8 * table.shape[1]))


# --------------------------------------------------------------------------- gauge-free items


def _gauge_free_factor(user_gram: np.ndarray) -> tuple[np.ndarray, float]:
    """A ``k x r`` matrix ``F`` with ``F F^T = C`` (``C`` symmetric PSD, eigenvalues at or below
    ``k * eps * mu_max`` dropped as zero), and ``sqrt(mu_max)``.

    Rows of ``B F`` have the Gram matrix ``B C B^T``: they are ``B C^(1/2)`` up to one
    rotation, with one column per direction that ``C`` keeps.
    """
    C = (user_gram + user_gram.T) / 2.0
    mu, W = np.linalg.eigh(C)
    top = float(mu[-1])
    if top <= 0.0:
        return np.zeros((C.shape[0], 0)), 0.0
    keep = mu > C.shape[0] * np.finfo(np.float64).eps * top
    return W[:, keep] * np.sqrt(mu[keep]), math.sqrt(top)


def _zero_gauge_free(E: np.ndarray, unit_norms: np.ndarray, root_top: float) -> np.ndarray:
    """Rows of ``E = (unit rows of B) F`` that are zero to rounding: ``||e_i|| <= 2 k eps sqrt(mu_max)``."""
    k = max(E.shape[1], 1)
    tolerance = 2 * k * np.finfo(np.float64).eps * root_top
    return np.sqrt(np.einsum("ij,ij->i", E, E)) <= tolerance * unit_norms


def _user_gram(U: np.ndarray, k: int, name: str) -> tuple[np.ndarray, int]:
    """``U^T U`` (k x k, float64) accumulated tile by tile, and the number of rows of ``U``."""
    if U.shape[1] != k:
        raise ValueError(f"{name} must have {k} columns (one per latent dimension, as B), got shape {U.shape}")
    C = np.zeros((k, k))
    for start in range(0, U.shape[0], _read_rows(U)):
        tile = _read(U, start, start + _read_rows(U), name)
        C += tile.T @ tile
    return C, U.shape[0]


def gauge_free_items(B, U=None, *, user_gram=None) -> np.ndarray:
    """Item embeddings whose cosines no gauge changes: the rows of ``B (U^T U)^(1/2)``.

    Used in ``chapters/audit.md`` ("Gauge-free neighbours") and by
    :func:`cossim.remedies.projected_item_similarity`.  For a model whose
    scores are ``U B^T`` (users' table ``U``, item table ``B``), every gauge
    ``(U M^{-T}, B M)`` with ``M`` invertible has the same scores; the Gram matrix
    of the returned rows is ``B (U^T U) B^T = (U B^T)^T (U B^T)``, the Gram matrix
    of the columns of the score matrix, and so is the same for every gauge.
    Their cosines are the item-item similarity the scores themselves support.
    For the book's linear models (scores ``X A B^T``), ``U = X A`` gives the
    cosines of the columns of the predictions ``X W``, and ``U = A`` those of the
    columns of ``W = A B^T``.

    The work after ``U^T U`` is on ``k x k`` matrices, plus one product ``B F``.

    Parameters
    ----------
    B : array_like, shape (p, k)
        Item embeddings, finite.
    U : array_like, shape (n, k), optional
        The other side's table (users, queries, or ``X A``), finite.
    user_gram : array_like, shape (k, k), optional, keyword only
        ``U^T U`` instead of ``U`` (symmetric positive semi-definite).  Give
        exactly one of ``U`` and ``user_gram``.

    Returns
    -------
    ndarray of float64, shape (p, r)
        ``B F`` with ``F F^T = U^T U`` and ``r`` the numerical rank of ``U^T U``
        (eigenvalues at or below ``k * eps`` times the largest are treated as
        zero).  The rows are determined up to one common rotation; their dot
        products and cosines are not.  A row is exactly zero when the item's
        embedding is zero, or when its scores ``U b_i`` all vanish to rounding
        (``||b_i F|| <= 2 r eps sqrt(mu_max) ||b_i||``): such an item has no
        gauge-free similarity.

    Raises
    ------
    ValueError
        If ``B`` or ``U`` is not a finite 2-D real array, both or neither of
        ``U`` and ``user_gram`` are given, the number of columns differs, or
        ``user_gram`` is not ``k x k``, symmetric and positive semi-definite
        (within rounding).

    Examples
    --------
    Two gauges of one model, ``(U, B)`` and ``(U M^{-T}, B M)``: different
    embeddings, the same gauge-free cosines.

    >>> rng = np.random.default_rng(0)
    >>> U, B, M = rng.normal(size=(5, 2)), rng.normal(size=(4, 2)), rng.normal(size=(2, 2))
    >>> E = gauge_free_items(B, U)
    >>> F = gauge_free_items(B @ M, U @ np.linalg.inv(M).T)
    >>> bool(np.allclose(E @ E.T, F @ F.T))
    True
    """
    B = as_matrix(B, "B")
    k = B.shape[1]
    if (U is None) == (user_gram is None):
        raise ValueError("give exactly one of U and user_gram")
    if U is not None:
        C, _ = _user_gram(_as_table(U, "U"), k, "U")
    else:
        C = as_matrix(user_gram, "user_gram").astype(np.float64)
        if C.shape != (k, k):
            raise ValueError(f"user_gram must be {k} x {k} (k x k, as B has {k} columns), got shape {C.shape}")
        scale = max(float(np.abs(C).max()), np.finfo(np.float64).tiny)
        if np.abs(C - C.T).max() > 1e-10 * scale:
            raise ValueError("user_gram must be symmetric (it is U^T U)")
        if np.linalg.eigvalsh((C + C.T) / 2.0)[0] < -1e-10 * scale:
            raise ValueError("user_gram must be positive semi-definite (it is U^T U)")
    F, root_top = _gauge_free_factor(C)
    E = B @ F
    norms = np.sqrt(np.einsum("ij,ij->i", B, B))
    E[_zero_gauge_free(E, norms, root_top)] = 0.0
    return E


# --------------------------------------------------------------------------- row maps


def _rows_times(Y: np.ndarray, M: np.ndarray) -> np.ndarray:
    """``Y @ M`` computed one row at a time, so that equal rows give bit-for-bit equal results.

    A single matrix product does not promise that (its blocking depends on the
    row's position and on the number of rows); a stack of ``1 x k`` products does.
    """
    return np.matmul(Y[:, None, :], M)[:, 0, :]


def _regauged(F: np.ndarray, log_weights: np.ndarray) -> np.ndarray:
    """Unit rows of ``F * exp(log_weights)`` (``F`` with unit rows; zero rows stay zero).

    When the weights span less than ``e^300`` they are applied directly
    (scaled so that the largest is 1); otherwise in logarithms, so that no
    weight overflows or underflows however large ``|gamma|`` is.
    """
    shifted = log_weights - np.max(log_weights)
    if shifted.min() >= -300.0:
        return unit_rows(F * np.exp(shifted))[0]
    zero = ~np.any(F != 0.0, axis=1)
    with np.errstate(divide="ignore"):
        logs = np.log(np.abs(F)) + log_weights
    row_max = np.max(logs, axis=1)
    row_max[zero] = 0.0
    with np.errstate(invalid="ignore"):
        E = np.sign(F) * np.exp(logs - row_max[:, None])
    E[zero] = 0.0
    return unit_rows(E)[0]


@dataclass(frozen=True)
class _Map:
    """One embedding of the items: ``embed(context)`` gives unit rows (zero rows zero) for a tile.

    ``context`` holds what several maps share, computed once per tile by
    ``prepare(tile)``; every step works row by row, so an item's embedding does
    not depend on the tile it is read in.
    """

    embed: Callable[[dict], np.ndarray]
    valid: np.ndarray  # (p,) bool: items with a nonzero embedding under this map


# --------------------------------------------------------------------------- the search


def _row_groups(sizes: np.ndarray, limit: int) -> list[slice]:
    """Consecutive groups of rows whose sizes add up to at most ``limit`` (a larger row stands alone)."""
    totals = np.cumsum(sizes)
    groups, start = [], 0
    while start < sizes.size:
        before = totals[start - 1] if start else 0
        stop = max(start + 1, int(np.searchsorted(totals, before + limit, side="right")))
        groups.append(slice(start, stop))
        start = stop
    return groups


def _merge(values, indices, rows, cand_rows, cand_values, cand_indices, top) -> None:
    """Merge candidates into the running lists ``values/indices[rows]`` (descending cosine, ties by index).

    ``cand_rows`` index into ``rows``; only the rows with candidates are touched.
    """
    counts = np.bincount(cand_rows, minlength=rows.size)
    touched = np.flatnonzero(counts)
    n = touched.size
    local = np.cumsum(counts > 0)[cand_rows] - 1  # position of each candidate's row among the touched
    targets = rows[touched]
    all_rows = np.concatenate([np.repeat(np.arange(n), top), local])
    all_values = np.concatenate([values[targets].ravel(), cand_values])
    all_indices = np.concatenate([indices[targets].ravel(), cand_indices])
    order = np.lexsort((all_indices, -all_values, all_rows))
    first = np.concatenate(([0], np.cumsum(np.bincount(all_rows, minlength=n))[:-1]))
    chosen = order[first[:, None] + np.arange(top)]
    values[targets] = all_values[chosen]
    indices[targets] = all_indices[chosen]


def _search_tile(Q, Q32, E, start, query_items, rows_valid, valid_columns, top, block_size, values, indices,
                 workspace=None):
    """Merge the candidates of one tile of items (unit rows ``E``, items ``start...``) into the lists.

    ``workspace``: a flat float32 array of at least ``block_size * (c + _MAX_CHUNK)`` entries, reused
    from tile to tile (a fresh block of this size each time costs page faults); allocated if None.
    """
    c, d = E.shape
    # |float32 cosine - float64 cosine| <= (d + 2) 2^-24 (1 + tiny) for unit rows, in any summation
    # order; twice that covers the float64 rounding too.  Cut-offs are lowered by 2 * margin.
    margin = (d + 4) * 2.0**-23
    # Column chunks for the bound: chunk m holds the columns m, m + n_chunks, m + 2 n_chunks, ...
    # (strided, so that the chunk maxima are a fast elementwise maximum over contiguous rows).
    chunk = int(max(1, min(_MAX_CHUNK, c // (_CHUNKS_PER_NEIGHBOUR * top))))
    n_chunks = -(-c // chunk)
    width = n_chunks * chunk  # c, padded with columns that are never candidates
    E32T = np.zeros((d, width), dtype=np.float32)
    E32T[:, :c] = E.T
    invalid_columns = np.flatnonzero(~valid_columns)
    offsets = np.arange(chunk) * n_chunks
    needed = min(block_size, rows_valid.size) * width
    if workspace is None or workspace.size < needed:
        workspace = np.empty(needed, dtype=np.float32)

    for begin in range(0, rows_valid.size, block_size):
        rows = rows_valid[begin : begin + block_size]
        b = rows.size
        S = workspace[: b * width].reshape(b, width)
        np.matmul(Q32[rows], E32T, out=S)
        S[:, c:] = -np.inf  # the padding
        if invalid_columns.size:
            S[:, invalid_columns] = -np.inf  # no zero item is anyone's neighbour
        own = query_items[rows] - start
        inside = np.flatnonzero((own >= 0) & (own < c))
        S[inside, own[inside]] = -np.inf  # nor is an item its own

        # The cut-off: the larger of two lower bounds on each row's final top-th cosine, the running
        # list's top-th value and (when the tile has enough chunks) the top-th largest chunk maximum.
        chunks = S.reshape(b, chunk, n_chunks)
        maxima = np.max(chunks, axis=1)
        cutoff = values[rows, top - 1] - 2 * margin
        if n_chunks >= top and not np.all(np.isfinite(cutoff)):  # a list is not yet full
            bound = np.partition(maxima, n_chunks - top, axis=1)[:, n_chunks - top].astype(np.float64)
            cutoff = np.maximum(cutoff, bound - 2 * margin)

        # Candidates: the entries >= cut-off, searched only in the chunks whose maximum reaches it.
        # With many exact ties there are many, so the rows are taken in groups of bounded size.
        reaching = (maxima >= cutoff[:, None]) & (maxima > -np.inf)
        for group in _row_groups(np.count_nonzero(reaching, axis=1) * chunk, _GROUP_ENTRIES):
            pair_rows, pair_chunks = np.nonzero(reaching[group])
            if pair_rows.size == 0:
                continue
            gathered = chunks[group][pair_rows, :, pair_chunks]  # (pairs, chunk)
            local_cut = cutoff[group][pair_rows, None]
            which_pair, which_offset = np.nonzero((gathered >= local_cut) & (gathered > -np.inf))
            del gathered
            cand_rows = pair_rows[which_pair]
            cand_columns = pair_chunks[which_pair] + offsets[which_offset]
            # float64 cosines; a row-wise product and sum gives bitwise-equal cosines for
            # bitwise-equal rows, so exact duplicates tie and are ordered by index.
            group_rows = rows[group]
            exact = np.empty(cand_rows.size)
            step = max(1, MEMORY_BUDGET // (24 * max(d, 1)))
            for part in range(0, cand_rows.size, step):
                piece = slice(part, part + step)
                exact[piece] = np.add.reduce(Q[group_rows[cand_rows[piece]]] * E[cand_columns[piece]], axis=1)
            _merge(values, indices, group_rows, cand_rows, exact, start + cand_columns, top)


def _search(B, name, query_items, prepare, maps, top, block_size, width, progress) -> list[np.ndarray]:
    """For each map, the top neighbours of each query item among all valid items.

    Returns one int64 array (s, top) per map, rows of -1 for queries that are
    invalid under that map.  The maps work row by row, so the queries'
    embeddings equal, bit for bit, the same items' embeddings in whichever
    tile they are read.  With one tile (all items at once) each map is
    embedded once and its queries taken from it; otherwise as many maps as
    :data:`MEMORY_BUDGET` allows share each pass over the tiles.
    """
    p, k = B.shape
    s = query_items.size
    starts = range(0, p, width)
    values = [np.full((s, top), -np.inf) for _ in maps]
    indices = [np.full((s, top), p, dtype=np.int64) for _ in maps]  # index p: after every real one
    rows_valid = [np.flatnonzero(item_map.valid[query_items]) for item_map in maps]
    total, done = len(starts) * len(maps), 0
    workspace = np.empty(min(block_size, s) * (min(width, p) + _MAX_CHUNK), dtype=np.float32)

    def search(j, E, start, Q, Q32):
        nonlocal done
        _search_tile(Q, Q32, E, start, query_items, rows_valid[j], maps[j].valid[start : start + E.shape[0]],
                     top, block_size, values[j], indices[j], workspace)
        done += 1
        if progress is not None:
            progress(done / total)

    if len(starts) == 1:
        context = prepare(_read(B, 0, p, name))
        for j, item_map in enumerate(maps):
            E = item_map.embed(context)
            Q = E[query_items]
            search(j, E, 0, Q, Q.astype(np.float32))
            del E, Q
    else:
        per_map = max(1, MEMORY_BUDGET // max(1, 12 * s * k))  # float64 and float32 queries per map
        for first in range(0, len(maps), per_map):
            group = range(first, min(first + per_map, len(maps)))
            queries = _query_embeddings(B, name, query_items, prepare, [maps[j] for j in group], width)
            queries32 = [Q.astype(np.float32) for Q in queries]
            for start in starts:
                context = prepare(_read(B, start, min(start + width, p), name))
                for position, j in enumerate(group):
                    search(j, maps[j].embed(context), start, queries[position], queries32[position])
            del queries, queries32

    results = []
    for j in range(len(maps)):
        lists = indices[j]
        if np.any(lists[rows_valid[j]] == p):  # pragma: no cover - excluded by the checks on top
            raise RuntimeError("internal error: fewer candidates than neighbours; please report")
        invalid = np.ones(s, dtype=bool)
        invalid[rows_valid[j]] = False
        lists[invalid] = -1
        results.append(lists)
    return results


def _query_embeddings(B, name, query_items, prepare, maps, width) -> list[np.ndarray]:
    """The query items' rows under each map: read directly when few, else tile by tile."""
    p, k = B.shape
    s = query_items.size
    if 32 * s * k <= MEMORY_BUDGET:  # the rows, their context (unit, F, G) and one embedding
        context = prepare(_read(B, query_items, None, name))
        return [item_map.embed(context) for item_map in maps]
    queries = [None] * len(maps)
    for start in range(0, p, width):
        stop = min(start + width, p)
        lo, hi = np.searchsorted(query_items, [start, stop])
        if lo == hi:
            continue
        context = prepare(_read(B, start, stop, name))
        for position, item_map in enumerate(maps):
            E = item_map.embed(context)
            if queries[position] is None:
                queries[position] = np.empty((s, E.shape[1]))
            queries[position][lo:hi] = E[query_items[lo:hi] - start]
    return queries


def _interval(values: np.ndarray, mode: str, population: int) -> np.ndarray:
    """The 95 % interval of the mean of ``values`` (NaN-free) for the population mean; see the module docstring."""
    mean = float(np.mean(values))
    if mode == "exact":
        return np.array([mean, mean])
    if mode == "items" or values.size < 2:
        return np.array([np.nan, np.nan])
    from scipy.stats import t as student_t

    correction = math.sqrt(max(population - values.size, 0) / (population - 1))
    half = float(student_t.ppf(0.975, values.size - 1)) * float(np.std(values, ddof=1)) / math.sqrt(values.size)
    return np.array([mean - half * correction, mean + half * correction])


# --------------------------------------------------------------------------- the audit


def neighbour_stability(
    B,
    *,
    top: int = 10,
    gammas=DEFAULT_GAMMAS,
    sample: int | None = None,
    seed: int | np.random.Generator = 0,
    items=None,
    users=None,
    block_size: int | None = None,
    progress: Callable[[float], None] | None = None,
) -> NeighbourStabilityResult:
    """How many of each item's top cosine neighbours survive the gauges ``B -> B Q R^gamma Q^T``.

    Used in ``chapters/audit.md`` (the simulated data and MovieLens-100k) and
    in ``chapters/takeaways.md``, and by the command line :mod:`cossim.cli`.

    Parameters
    ----------
    B : array_like, shape (p, k)
        Item embeddings, one row per item; finite, ``p >= 2``.  A
        ``numpy.memmap`` (``numpy.load(path, mmap_mode="r")``) is read tile by
        tile and never copied whole.
    top : int, default 10
        Neighbours per item, ``1 <= top <= p - 1`` (and at most the number of
        nonzero rows minus one).
    gammas : array_like, shape (g,), default ``numpy.linspace(-1, 1, 9)``
        Exponents of the gauges ``B_gamma = B Q R^gamma Q^T`` (thin SVD
        ``B = P R Q^T``), finite, at least one.
    sample : int, optional
        Audit this many query items, drawn uniformly without replacement from
        the items with a nonzero embedding, against all ``p`` items, and give
        95 % intervals (see the module docstring).  ``2 <= sample <=`` the
        number of nonzero items.  Default: every item (exact mode).
    seed : int or numpy.random.Generator, default 0
        Randomness of the sample (used only with ``sample``).
    items : array_like of int, optional
        Audit exactly these items (distinct indices in ``0..p-1``) against all
        ``p`` items; no interval.  Not together with ``sample``.
    users : array_like, shape (n, k), optional
        The other side's table (scores ``U B^T``): also find every audited item's
        gauge-free neighbours, by the cosines of the rows of ``B (U^T U)^(1/2)``
        (:func:`gauge_free_items`), and their overlap with the raw-cosine lists.
    block_size : int, optional
        Query items whose cosines are computed at once.  Default:
        :func:`_default_block_size` (838 for ``p = 20,000``; 2,048 with tiled
        items above 65,536 items).  Changes memory and speed, never the result.
    progress : callable, optional
        Called now and then with the fraction of the work done, in ``[0, 1]``.

    Returns
    -------
    NeighbourStabilityResult
        For every gamma, the overlap of each audited item's neighbour set with
        its set under ``B``, their mean (with its interval), and the fraction of
        items whose nearest neighbour changes; with ``users``, the gauge-free
        lists and their overlap with the raw ones.

    Raises
    ------
    ValueError
        If ``B`` is not a finite 2-D real array with at least 2 rows of
        which at least 2 are nonzero, ``top`` is not an integer in
        ``1..p-1`` (or exceeds the nonzero rows minus one), ``gammas`` is
        empty or not finite, ``sample`` is not an integer in ``2..`` (nonzero
        items), ``items`` is not a list of distinct valid indices, both
        ``sample`` and ``items`` are given, ``seed`` is not a non-negative int
        or a Generator, ``users`` is not a finite 2-D array with ``k``
        columns (or leaves fewer than ``top + 1`` items a gauge-free
        embedding), or ``block_size`` is not a positive integer.

    Notes
    -----
    See the module docstring for why these gauges are legal, how zero
    singular values and zero embeddings are handled, how ties are broken,
    how the interval is computed and how memory stays bounded.

    Examples
    --------
    Four items in two dimensions; each item's single nearest neighbour, under
    ``B`` and under the whitened ``B_{-1}``:

    >>> B = np.array([[1.0, 2.0], [0.0, 4.0], [4.0, 2.0], [3.0, 3.0]])
    >>> result = neighbour_stability(B, top=1, gammas=[-1.0, 0.0, 1.0])
    >>> result.reference_neighbours.ravel()
    array([3, 0, 3, 0])
    >>> result.neighbours[0].ravel()
    array([1, 0, 3, 2])
    >>> result.mean_overlap
    array([0.5, 1. , 1. ])
    """
    B = _as_table(B, "B")
    p, k = B.shape
    if p < 2:
        raise ValueError(f"B must have at least 2 rows (items), got shape {B.shape}")
    top = check_rank(top, p - 1, "top")
    gammas = as_vector(gammas, "gammas")
    if sample is not None and items is not None:
        raise ValueError("sample and items cannot both be given (a random sample, or the items to audit)")
    if sample is not None and (isinstance(sample, bool) or not isinstance(sample, numbers.Integral)):
        raise ValueError(f"sample must be an integer, got {sample!r}")
    rng = as_generator(seed) if sample is not None else None
    if block_size is not None:
        _check_block_size(block_size, p, p)
    C = None
    if users is not None:
        C, n_users = _user_gram(_as_table(users, "users"), k, "users")

    # One pass over B: finiteness, zero rows, the spectrum (R of a QR factorisation, tile by tile:
    # the singular values and right singular vectors of R are those of B), and the gauge-free zeros.
    zero = np.empty(p, dtype=bool)
    R = np.zeros((0, k))
    if C is not None:
        F_users, root_top = _gauge_free_factor(C)
        gauge_free_zero = np.empty(p, dtype=bool)

        def gauge_free_rows(unit):
            """Unit rows of B times F (rows of B C^(1/2) up to a rotation), zero where they vanish."""
            G = _rows_times(unit, F_users)
            G[_zero_gauge_free(G, np.ones(G.shape[0]), root_top)] = 0.0
            return G

    for start in range(0, p, _read_rows(B)):
        tile = _read(B, start, start + _read_rows(B), "B")
        stop = start + tile.shape[0]
        zero[start:stop] = ~np.any(tile != 0.0, axis=1)
        for piece in range(0, tile.shape[0], _QR_ROWS):  # small pieces: QR is much faster in cache
            R = np.linalg.qr(np.vstack([R, tile[piece : piece + _QR_ROWS]]), mode="r")
        if C is not None:
            gauge_free_zero[start:stop] = ~np.any(gauge_free_rows(unit_rows(tile)[0]) != 0.0, axis=1)
    _, singular_values, Vt = np.linalg.svd(R, full_matrices=False)
    singular_values = singular_values[: min(p, k)]
    Vt = Vt[: min(p, k)]

    n_nonzero = p - int(np.count_nonzero(zero))
    if n_nonzero < 2:
        raise ValueError(f"B must have at least 2 nonzero rows, got {n_nonzero}")
    if top > n_nonzero - 1:
        raise ValueError(
            f"top must be at most {n_nonzero - 1} (the nonzero rows of B minus one; "
            f"{p - n_nonzero} rows are zero), got {top}"
        )
    valid = ~zero

    # The query items.
    if sample is not None:
        if not 2 <= sample <= n_nonzero:
            raise ValueError(f"sample must lie in 2..{n_nonzero} (the items with a nonzero embedding), got {sample}")
        mode = "sampled"
        query_items = np.sort(rng.choice(np.flatnonzero(valid), size=int(sample), replace=False)).astype(np.int64)
    elif items is not None:
        mode = "items"
        try:
            chosen = np.asarray(items)
        except Exception as error:
            raise ValueError(f"items must be a 1-D list of item indices: {error}") from error
        if chosen.ndim != 1 or chosen.size == 0 or not np.issubdtype(chosen.dtype, np.integer):
            raise ValueError(f"items must be a non-empty 1-D list of integer indices, got {items!r}")
        if chosen.min() < 0 or chosen.max() >= p or np.unique(chosen).size != chosen.size:
            raise ValueError(f"items must be distinct indices in 0..{p - 1}, got {items!r}")
        query_items = np.sort(chosen).astype(np.int64)
        if not valid[query_items].any():
            raise ValueError("items must include at least one item with a nonzero embedding")
    else:
        mode = "exact"
        query_items = np.arange(p, dtype=np.int64)
    s = query_items.size
    block_size = _check_block_size(block_size, p, s)
    width = _tile_width(p, block_size)

    # The maps: B itself, each nontrivial gamma, and the gauge-free embedding.
    tolerance = max(p, k) * np.finfo(np.float64).eps * singular_values[0]
    nonzero = singular_values > tolerance
    rank = int(np.count_nonzero(nonzero))
    with np.errstate(divide="ignore"):
        log_singular = np.where(nonzero, np.log(np.where(nonzero, singular_values, 1.0)), 0.0)
    # All nonzero singular values numerically equal (within the rank tolerance): M is c^gamma on the
    # row space of B and the identity elsewhere, so B_gamma = c^gamma B and nothing can change.
    trivial = float(np.ptp(singular_values[nonzero])) <= tolerance
    Q = Vt.T  # B in the basis Q has the same cosines as B (its rows lie in the span of Q's columns)

    # Each tile is prepared once (unit rows; in the basis Q; times the users' factor), and every
    # map works row by row on it.
    use_gammas = [float(g) for g in dict.fromkeys(gammas.tolist()) if g != 0.0 and not trivial]

    def prepare(tile):
        context = {"unit": unit_rows(tile)[0]}
        if use_gammas:
            context["F"] = _rows_times(context["unit"], Q)
        if C is not None:
            context["G"] = gauge_free_rows(context["unit"])
        return context

    def gamma_map(gamma):
        log_weights = np.where(nonzero, gamma * log_singular, 0.0)
        return _Map(lambda context: _regauged(context["F"], log_weights), valid)

    maps = [_Map(lambda context: context["unit"], valid)]
    map_of_gamma = {}
    for gamma in use_gammas:
        map_of_gamma[gamma] = len(maps)
        maps.append(gamma_map(gamma))
    if C is not None:
        gauge_free_valid = valid & ~gauge_free_zero
        if np.count_nonzero(gauge_free_valid) < top + 1:
            raise ValueError(
                f"users must leave at least top + 1 = {top + 1} items with nonzero scores U b_i, "
                f"got {int(np.count_nonzero(gauge_free_valid))}"
            )
        maps.append(_Map(lambda context: unit_rows(context["G"])[0], gauge_free_valid))

    lists = _search(B, "B", query_items, prepare, maps, top, block_size, width, progress)
    reference = lists[0]
    query_valid = valid[query_items]

    neighbours = np.empty((gammas.size, s, top), dtype=np.int64)
    overlaps = np.full((gammas.size, s), np.nan)
    nearest_changed = np.empty(gammas.size)
    mean_overlap = np.empty(gammas.size)
    interval = np.empty((gammas.size, 2))
    n_valid_queries = int(np.count_nonzero(query_valid))
    for index, gamma in enumerate(gammas):
        current = lists[map_of_gamma[float(gamma)]] if float(gamma) in map_of_gamma else reference
        neighbours[index] = current
        overlaps[index] = shared_fraction(reference, current)
        changed = np.count_nonzero(reference[query_valid, 0] != current[query_valid, 0])
        nearest_changed[index] = changed / n_valid_queries if n_valid_queries else np.nan
        values = overlaps[index, query_valid]
        mean_overlap[index] = float(np.mean(values)) if values.size else np.nan
        interval[index] = _interval(values, mode, n_nonzero) if values.size else np.nan

    extra = {}
    if C is not None:
        gauge_free = lists[-1]
        shared = shared_fraction(reference, gauge_free)
        present = shared[~np.isnan(shared)]
        population = int(np.count_nonzero(gauge_free_valid))
        extra = dict(
            n_users=int(n_users),
            gauge_free_neighbours=read_only(gauge_free),
            gauge_free_overlap=read_only(shared),
            mean_gauge_free_overlap=float(np.mean(present)) if present.size else float("nan"),
            gauge_free_interval=read_only(
                _interval(present, mode, population) if present.size else np.full(2, np.nan)
            ),
        )
    return NeighbourStabilityResult(
        gammas=read_only(gammas),
        top=top,
        mode=mode,
        items=read_only(query_items),
        n_items=p,
        mean_overlap=read_only(mean_overlap),
        overlap_interval=read_only(interval),
        overlaps=read_only(overlaps),
        nearest_changed=read_only(nearest_changed),
        neighbours=read_only(neighbours),
        reference_neighbours=read_only(reference),
        singular_values=read_only(singular_values),
        rank=rank,
        zero_items=read_only(np.flatnonzero(zero).astype(np.int64)),
        n_nonzero=n_nonzero,
        block_size=block_size,
        tile_width=width,
        **extra,
    )


# --------------------------------------------------------------------------- the verdict


def audit_verdict(result: NeighbourStabilityResult) -> tuple[str, str]:
    """The row of the audit chapter's reading guide that applies, and one sentence saying why.

    Used in ``chapters/audit.md`` and by :mod:`cossim.cli`.  Rows, in order of
    precedence: ``"gauge-free"`` (the users' table was given: the freedom can be
    removed), ``"flat"`` (``spread < FLAT_SPREAD``: the family barely moves
    ``B``, so its overlaps cannot show instability), ``"stable"`` (lowest mean
    overlap over the gammas ``>= STABLE_OVERLAP``: no instability detected along
    this family), ``"moderate"`` (``>= UNSTABLE_OVERLAP``), ``"unstable"``.  The
    thresholds are rules of thumb, explained in the chapter; the lowest mean
    overlap is a point estimate (its interval is in the result).

    Returns
    -------
    (str, str)
        The row's name and a one-line statement with the numbers behind it.
    """
    if not isinstance(result, NeighbourStabilityResult):
        raise ValueError(f"result must be a NeighbourStabilityResult, got {type(result).__name__}")
    lowest = float(np.nanmin(result.mean_overlap))
    if result.spread < FLAT_SPREAD:
        family = "flat", (
            f"flat spectrum: the largest singular value of B is only {result.spread:.2f} times the smallest "
            f"(< {FLAT_SPREAD:g}), so this family barely moves B and its overlaps (lowest {lowest:.3f}) cannot "
            "show instability; give the users' table (--users), or audit a reweighted copy"
        )
    elif lowest >= STABLE_OVERLAP:
        family = "stable", (
            f"no instability detected along this family: every mean overlap is at least {STABLE_OVERLAP:g} "
            f"(lowest {lowest:.3f}); other gauges may still move the lists"
        )
    elif lowest >= UNSTABLE_OVERLAP:
        family = "moderate", (
            f"the mean overlap falls to {lowest:.3f} (between {UNSTABLE_OVERLAP:g} and {STABLE_OVERLAP:g}): "
            "the heads of the lists mostly survive, their tails are the gauge's"
        )
    else:
        family = "unstable", (
            f"the mean overlap falls to {lowest:.3f} (below {UNSTABLE_OVERLAP:g}): most of each list is "
            "decided by the gauge"
        )
    if result.gauge_free_neighbours is None:
        return family
    return "gauge-free", (
        "the users' table removes the freedom: report the gauge-free neighbours; the raw-cosine lists share "
        f"{result.mean_gauge_free_overlap:.3f} of them (the family alone reads '{family[0]}')"
    )
