"""Audit a set of item embeddings: do their cosine neighbours survive a change of gauge?

The book's practical question.  A model trained with the product penalty
(objective (1) of the paper) is equally well described by item embeddings
``B`` and by ``B M`` (with user-side factors ``A M^{-T}``) for any invertible
``M``: every prediction is the same, every cosine is not.  Given only the
embeddings, :func:`neighbour_stability` moves them along a one-parameter
family of such gauges and measures how much of each item's top-``top`` list of
most cosine-similar items stays the same.

**The family of gauges.**  With the thin SVD ``B = P Lambda Q^T``,

    B_gamma = B Q Lambda^gamma Q^T = P Lambda^(1 + gamma) Q^T.

``gamma = 0`` is ``B`` itself; ``gamma = -1`` whitens (``B_{-1} = P Q^T``, every
direction weighted equally); ``gamma = 1`` squares the spectrum.  The
matrix ``M = Q Lambda^gamma Q^T`` is symmetric positive definite, so for
objective (1), whose loss depends on ``A B^T`` only, ``(A M^{-1}, B M)`` is a
minimiser whenever ``(A, B)`` is (``M^{-T} = M^{-1}`` here): a legal gauge.
It is the natural family to audit with because it moves the one thing the
gauge can change, the relative weight of the latent directions, and is
defined from ``B`` alone (no rotation to choose).

**What it does not see.**  The family moves along ``B``'s own spectrum.  If
that spectrum is flat (for example ``B = V_k``, already whitened, or the
product-penalty solution with a small penalty, whose singular values
``sqrt(s_i)`` are all near 1), every ``B_gamma`` is close to ``B`` and the
audit reports stable neighbours, although other gauges (another diagonal
``D``, such as the singular values of the data) would still move them.  A
high overlap says "stable along this family", not "stable under every gauge".

**Zero singular values.**  ``Lambda^gamma`` is undefined for ``gamma < 0``
when ``B`` has a zero singular value (rank below ``k``).  The gauge then acts
on the nonzero part only: ``M = Q_r Lambda_r^gamma Q_r^T + (I - Q_r Q_r^T)``
with ``r`` the numerical rank (singular values above
``max(p, k) * eps * sigma_max``, numpy's ``matrix_rank`` rule), which is still
symmetric positive definite; ``B M = P_r Lambda_r^(1 + gamma) Q_r^T`` because
``B`` has no component outside the span of ``Q_r`` (beyond rounding, which
``M`` leaves as it is).  When all nonzero singular values are equal (within
the same tolerance), for example when ``B`` has orthogonal columns of equal
length, ``B_gamma = sigma^gamma B``: every gamma gives exactly the neighbours
of ``B``, and the audit says so without recomputing them (recomputing would
let rounding decide between cosines that are exactly tied).

**Zero embeddings.**  An item whose row of ``B`` is exactly zero (for
example an item nobody interacted with) stays zero under every gauge, and
its cosine with anything is undefined.  Such an item has no neighbours (its
rows of ``neighbours`` are ``-1`` and its overlaps are NaN, left out of every
mean) and is never anyone's neighbour.  ``top`` must leave every other item
enough candidates: ``top <= (number of nonzero rows) - 1``.

**Ties.**  Neighbours are ranked by descending cosine, and equal cosines by
ascending item index, both in the order within a list and in the choice at
the cut-off, so the result is deterministic.  An item is never its own
neighbour; an exact duplicate of it (cosine 1) is.  Cosines that are equal
only in exact arithmetic are ranked as float64 computes them.  One such case
is worth knowing: when ``B`` has no more nonzero rows than its rank, the
whitened ``B_{-1} = P Q^T`` has orthogonal rows, every cosine between two
items is 0 up to rounding, and the lists at ``gamma = -1`` mean nothing.

**Memory and speed.**  The ``p x p`` cosine matrix is never formed: items are
processed in blocks of rows (``block_size``; by default as many as keep one
block's float32 cosines within about 256 MB, see :func:`default_block_size`).
For each block the cosines with all items are computed in float32 (half the
memory traffic, twice the matrix-product speed), a lower bound on each row's
``top``-th largest value is found from the maxima of column chunks, and only
the entries that can still reach the top (the cut-off is lowered by twice
``(d + 4) 2^-23``, a rigorous bound on the float32 rounding error of a cosine of
``d``-dimensional unit vectors) are recomputed in float64 and ranked.  The ranking
therefore uses float64 cosines, exactly as a full sort of the float64 cosine
matrix would (up to the last bits of the float64 products themselves).  For
``p = 20,000`` items, ``k = 64`` and 9 gammas this takes 10 to 20 s of CPU
time on a 2-core machine and about 230 MB of memory (peak resident set size
of the whole process), against 3.2 GB for a single full cosine matrix
(``benchmarks/bench_audit.py``, which also compares it with the full-matrix
method at ``p = 5,000``: same lists, 8 to 30 times faster).  Many exact ties at
the cut-off (for example hundreds of identical embeddings) make more
candidates and cost more time, never a wrong answer or more memory (the
candidates are ranked in groups of rows of bounded size).

Command line::

    python -m cossim.audit EMBEDDINGS.npy [--top 10] [--labels FILE] [--plot OUT.png]

prints the mean overlap and the fraction of items whose nearest neighbour
changes for each gamma, and the least stable items (by label, when a file
with one label per line is given), and can draw the mean overlap against
gamma.  Errors in the input end with a one-line message on stderr and exit
status 2.

Import flow: this module imports :mod:`numpy` and :mod:`cossim._validation`;
the command line alone also imports :mod:`matplotlib` and :mod:`cossim.plotting`.
"""

from __future__ import annotations

import argparse
import numbers
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cossim._validation import as_matrix, as_vector, check_rank

__all__ = ["DEFAULT_GAMMAS", "NeighbourStability", "default_block_size", "main", "neighbour_stability"]

#: The gauges audited by default: gamma = -1 (whitened), -0.75, ..., 0 (B itself), ..., 1.
DEFAULT_GAMMAS = np.linspace(-1.0, 1.0, 9)
DEFAULT_GAMMAS.setflags(write=False)

#: Working memory allowed for one block of rows, in bytes.
MEMORY_BUDGET = 256 * 2**20

#: Bytes per (row, item) entry of a block: the float32 cosine, its chunk maxima, padding and slack.
_BYTES_PER_ENTRY = 16

#: Entries searched for candidates at once (about 128 bytes each: the gathered values, the
#: candidates' indices, cosines and sort keys); bounds the memory when many cosines tie.
_GROUP_ENTRIES = MEMORY_BUDGET // 128

#: Target number of column chunks per candidate neighbour (more chunks: a tighter bound, more work).
_CHUNKS_PER_NEIGHBOUR = 16

#: Largest chunk of columns whose maximum bounds the cut-off.
_MAX_CHUNK = 128


# --------------------------------------------------------------------------- result


@dataclass(frozen=True)
class NeighbourStability:
    """How each item's top cosine neighbours change under the gauges ``B -> B Q Lambda^gamma Q^T``.

    Used in the audit chapter and by ``python -m cossim.audit``; returned by
    :func:`neighbour_stability`.  Arrays are read-only.

    Attributes
    ----------
    gammas : ndarray, shape (g,)
        The exponents, in the order given.
    top : int
        Length of each neighbour list.
    mean_overlap : ndarray, shape (g,)
        For each gamma, ``|N_gamma(i) & N_0(i)| / top`` averaged over the items
        with a nonzero embedding; ``N_0`` are the neighbours under ``B``
        itself, so the entry for ``gamma = 0`` is exactly 1.
    overlaps : ndarray, shape (g, p)
        The per-item overlaps (NaN for zero-embedding items).
    nearest_changed : ndarray, shape (g,)
        For each gamma, the fraction of nonzero items whose most similar item
        differs from the one under ``B``.
    neighbours : ndarray of int64, shape (g, p, top)
        ``neighbours[j, i]``: the neighbours of item ``i`` under gamma ``j``,
        most similar first (rows of ``-1`` for zero-embedding items).
    reference_neighbours : ndarray of int64, shape (p, top)
        The neighbours under ``B`` itself (``gamma = 0``).
    singular_values : ndarray, shape (min(p, k),)
        Of ``B``, descending.
    rank : int
        The number of singular values treated as nonzero.
    zero_items : ndarray of int64
        Indices of the items whose embedding is exactly zero.
    block_size : int
        Rows per block actually used.
    """

    gammas: np.ndarray
    top: int
    mean_overlap: np.ndarray
    overlaps: np.ndarray
    nearest_changed: np.ndarray
    neighbours: np.ndarray
    reference_neighbours: np.ndarray
    singular_values: np.ndarray
    rank: int
    zero_items: np.ndarray
    block_size: int

    @property
    def item_overlap(self) -> np.ndarray:
        """Each item's overlap averaged over the gammas, shape (p,); NaN for zero-embedding items."""
        if self.zero_items.size == self.overlaps.shape[1]:  # pragma: no cover - rejected on input
            return np.full(self.overlaps.shape[1], np.nan)
        values = self.overlaps.mean(axis=0)
        values[self.zero_items] = np.nan
        return values

    def least_stable(self, count: int = 10) -> np.ndarray:
        """The ``count`` items with the lowest :attr:`item_overlap` (ties by index), most unstable first."""
        if isinstance(count, bool) or not isinstance(count, numbers.Integral) or count < 0:
            raise ValueError(f"count must be a non-negative integer, got {count!r}")
        values = self.item_overlap
        items = np.flatnonzero(~np.isnan(values))
        order = np.lexsort((items, values[items]))
        return items[order[: int(count)]]


# --------------------------------------------------------------------------- checks


def default_block_size(p: int) -> int:
    """Rows per block for ``p`` items: one block's worst-case working memory within :data:`MEMORY_BUDGET`."""
    return int(max(1, min(p, MEMORY_BUDGET // (_BYTES_PER_ENTRY * max(p, 1)))))


def _check_block_size(block_size, p: int) -> int:
    if block_size is None:
        return default_block_size(p)
    if isinstance(block_size, bool) or not isinstance(block_size, numbers.Integral):
        raise ValueError(f"block_size must be a positive integer or None, got {block_size!r}")
    if block_size <= 0:
        raise ValueError(f"block_size must be a positive integer or None, got {block_size}")
    return int(min(block_size, p))


# --------------------------------------------------------------------------- the computation


def _unit_rows(Y: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (first by their largest entry, against overflow); zero rows stay zero."""
    scale = np.max(np.abs(Y), axis=1)
    scale[scale == 0.0] = 1.0
    scaled = Y / scale[:, None]
    norms = np.sqrt(np.einsum("ij,ij->i", scaled, scaled))
    norms[norms == 0.0] = 1.0
    return scaled / norms[:, None]


def _regauged(F: np.ndarray, log_weights: np.ndarray, zero: np.ndarray) -> np.ndarray:
    """Rows of ``F * exp(log_weights)``, each rescaled so that its largest entry is 1 in magnitude.

    Done in logarithms, so that no weight overflows or underflows however
    large ``|gamma|`` is; the rescaling of a row does not change its cosines.
    """
    with np.errstate(divide="ignore"):
        logs = np.log(np.abs(F)) + log_weights
    row_max = np.max(logs, axis=1)
    row_max[zero] = 0.0
    with np.errstate(invalid="ignore"):
        E = np.sign(F) * np.exp(logs - row_max[:, None])
    E[zero] = 0.0
    return E


def _top_neighbours(U: np.ndarray, top: int, block_size: int, valid: np.ndarray) -> np.ndarray:
    """The ``top`` cosine neighbours of every valid row of the unit-row matrix ``U``.

    Returns an int64 array (p, top), rows of -1 for the invalid (zero) items.
    See the module docstring ("Memory and speed") for the method.
    """
    p, d = U.shape
    result = np.full((p, top), -1, dtype=np.int64)
    valid_rows = np.flatnonzero(valid)
    invalid_columns = np.flatnonzero(~valid)
    # |float32 cosine - float64 cosine| <= (d + 2) 2^-24 (1 + tiny) for unit rows, in any summation
    # order; twice that covers the float64 rounding too.  The cut-off is lowered by 2 * margin.
    margin = (d + 4) * 2.0**-23
    chunk = int(max(1, min(_MAX_CHUNK, p // (_CHUNKS_PER_NEIGHBOUR * top))))
    n_chunks = -(-p // chunk)  # >= top, since chunk <= p // top
    width = n_chunks * chunk  # p, padded to whole chunks with columns that are never candidates
    U32T = np.zeros((d, width), dtype=np.float32)
    U32T[:, :p] = U.T
    U32 = U.astype(np.float32)
    offsets = np.arange(chunk)
    buffer = np.empty((min(block_size, valid_rows.size), width), dtype=np.float32)

    for start in range(0, valid_rows.size, block_size):
        rows = valid_rows[start : start + block_size]
        b = rows.size
        S = buffer[:b]
        np.matmul(U32[rows], U32T, out=S)
        S[:, p:] = -np.inf  # the padding
        S[np.arange(b), rows] = -np.inf  # never one's own neighbour
        if invalid_columns.size:
            S[:, invalid_columns] = -np.inf  # nor a zero item

        # A lower bound on each row's top-th largest value: the top-th largest chunk maximum.
        chunks = S.reshape(b, n_chunks, chunk)
        maxima = np.max(chunks, axis=2)
        cutoff = np.partition(maxima, n_chunks - top, axis=1)[:, n_chunks - top].astype(np.float64) - 2 * margin

        # Candidates: the entries >= cut-off, searched only in the chunks whose maximum reaches it.
        # Normally about `top` chunks per row; with many exact ties many more, so the rows are
        # taken in groups whose searched entries fit the memory budget.
        reaching = maxima >= cutoff[:, None]
        for group in _row_groups(np.count_nonzero(reaching, axis=1) * chunk, _GROUP_ENTRIES):
            result[rows[group]] = _rank_candidates(
                U, rows[group], chunks[group], reaching[group], cutoff[group], top, chunk, offsets
            )
    return result


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


def _rank_candidates(U, rows, chunks, reaching, cutoff, top, chunk, offsets) -> np.ndarray:
    """The top neighbours of ``rows`` among the entries of the reaching chunks that are >= cut-off."""
    pair_rows, pair_chunks = np.nonzero(reaching)
    values = chunks[pair_rows, pair_chunks]  # (pairs, chunk): whole chunks, copied contiguously
    which_pair, which_offset = np.nonzero((values >= cutoff[pair_rows, None]) & (values > -np.inf))
    del values
    candidate_rows = pair_rows[which_pair]
    candidate_columns = pair_chunks[which_pair] * chunk + offsets[which_offset]

    # Rank the candidates by their float64 cosine (descending), ties by column (ascending).  A
    # row-wise product and sum gives bitwise-equal cosines for bitwise-equal rows (duplicates tie).
    d = U.shape[1]
    exact = np.empty(candidate_rows.size)
    step = max(1, MEMORY_BUDGET // (24 * d))  # two gathered float64 rows and their product each
    for part in range(0, candidate_rows.size, step):
        piece = slice(part, part + step)
        exact[piece] = np.add.reduce(U[rows[candidate_rows[piece]]] * U[candidate_columns[piece]], axis=1)
    order = np.lexsort((candidate_columns, -exact, candidate_rows))
    counts = np.bincount(candidate_rows, minlength=rows.size)
    if np.any(counts < top):  # pragma: no cover - excluded by the bound; kept as a guard
        raise RuntimeError("internal error: fewer candidates than neighbours; please report")
    first = np.concatenate(([0], np.cumsum(counts)[:-1]))
    return candidate_columns[order[first[:, None] + np.arange(top)]]


def _shared_counts(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Per row, how many entries two lists of distinct indices share (rows of -1 give junk: mask them)."""
    both = np.sort(np.concatenate([first, second], axis=1), axis=1)
    return np.count_nonzero(both[:, 1:] == both[:, :-1], axis=1)


def _read_only(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


def neighbour_stability(
    B, *, top: int = 10, gammas=DEFAULT_GAMMAS, block_size: int | None = None
) -> NeighbourStability:
    """How many of each item's top cosine neighbours survive the gauges ``B -> B Q Lambda^gamma Q^T``.

    Used in the audit chapter (MovieLens-100k) and by ``python -m cossim.audit``.

    Parameters
    ----------
    B : array_like, shape (p, k)
        Item embeddings, one row per item; finite, ``p >= 2``.
    top : int, default 10
        Neighbours per item, ``1 <= top <= p - 1`` (and at most the number of
        nonzero rows minus one).
    gammas : array_like, shape (g,), default ``numpy.linspace(-1, 1, 9)``
        Exponents of the gauges ``B_gamma = B Q Lambda^gamma Q^T`` (thin SVD
        ``B = P Lambda Q^T``), finite, at least one.
    block_size : int, optional
        Items whose cosines with all items are computed at once.  Default:
        :func:`default_block_size` (838 for ``p = 20,000``).  Changes
        memory and speed, never the result.

    Returns
    -------
    NeighbourStability
        For every gamma, the overlap of each item's neighbour set with its
        set under ``B``, their mean, and the fraction of items whose nearest
        neighbour changes.

    Raises
    ------
    ValueError
        If ``B`` is not a finite 2-D real array with at least 2 rows of
        which at least 2 are nonzero, ``top`` is not an integer in
        ``1..p-1`` (or exceeds the nonzero rows minus one), ``gammas`` is
        empty or not finite, or ``block_size`` is not a positive integer.

    Notes
    -----
    See the module docstring for why these gauges are legal, how zero
    singular values and zero embeddings are handled, how ties are broken,
    and how memory stays bounded.

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
    B = as_matrix(B, "B")
    p, k = B.shape
    if p < 2:
        raise ValueError(f"B must have at least 2 rows (items), got shape {B.shape}")
    top = check_rank(top, p - 1, "top")
    gammas = as_vector(gammas, "gammas")
    block_size = _check_block_size(block_size, p)

    zero = ~np.any(B != 0.0, axis=1)
    n_nonzero = p - int(np.count_nonzero(zero))
    if n_nonzero < 2:
        raise ValueError(f"B must have at least 2 nonzero rows, got {n_nonzero}")
    if top > n_nonzero - 1:
        raise ValueError(
            f"top must be at most {n_nonzero - 1} (the nonzero rows of B minus one; "
            f"{p - n_nonzero} rows are zero), got {top}"
        )
    valid = ~zero

    # The gauge is defined by B's own SVD; it acts on B with its rows rescaled (row scaling commutes
    # with B -> B M, and cosines ignore it).
    _, singular_values, Vt = np.linalg.svd(B, full_matrices=False)
    tolerance = max(p, k) * np.finfo(np.float64).eps * singular_values[0]
    nonzero = singular_values > tolerance
    rank = int(np.count_nonzero(nonzero))
    B_unit = _unit_rows(B)
    F = B_unit @ Vt.T  # B in the basis Q: same cosines as B
    with np.errstate(divide="ignore"):
        log_singular = np.where(nonzero, np.log(np.where(nonzero, singular_values, 1.0)), 0.0)

    # All nonzero singular values numerically equal (within the rank tolerance): M is c^gamma on the
    # row space of B and the identity elsewhere, so B_gamma = c^gamma B and nothing can change.
    trivial = float(np.ptp(singular_values[nonzero])) <= tolerance

    reference = _top_neighbours(B_unit, top, block_size, valid)
    neighbours = np.empty((gammas.size, p, top), dtype=np.int64)
    overlaps = np.full((gammas.size, p), np.nan)
    nearest_changed = np.empty(gammas.size)
    for index, gamma in enumerate(gammas):
        if gamma == 0.0 or trivial:
            current = reference
        else:
            log_weights = np.where(nonzero, gamma * log_singular, 0.0)
            current = _top_neighbours(_unit_rows(_regauged(F, log_weights, zero)), top, block_size, valid)
        neighbours[index] = current
        overlaps[index, valid] = _shared_counts(reference[valid], current[valid]) / top
        nearest_changed[index] = np.count_nonzero(reference[valid, 0] != current[valid, 0]) / n_nonzero

    mean_overlap = np.mean(overlaps[:, valid], axis=1)
    return NeighbourStability(
        gammas=_read_only(gammas),
        top=top,
        mean_overlap=_read_only(mean_overlap),
        overlaps=_read_only(overlaps),
        nearest_changed=_read_only(nearest_changed),
        neighbours=_read_only(neighbours),
        reference_neighbours=_read_only(reference),
        singular_values=_read_only(singular_values),
        rank=rank,
        zero_items=_read_only(np.flatnonzero(zero).astype(np.int64)),
        block_size=block_size,
    )


# --------------------------------------------------------------------------- command line


class _InputError(Exception):
    """A problem with the command line's input, reported in one line with exit status 2."""


def _load_embeddings(path: Path) -> np.ndarray:
    if not path.exists():
        raise _InputError(f"{path}: no such file")
    if path.is_dir():
        raise _InputError(f"{path}: is a directory, expected a .npy file")
    try:
        with open(path, "rb") as handle:
            magic = handle.read(6)
    except OSError as error:
        raise _InputError(f"{path}: cannot be read ({error.strerror or error})") from error
    if magic[:4] == b"PK\x03\x04":
        raise _InputError(f"{path}: is an .npz archive; save the embeddings alone with numpy.save")
    if magic != b"\x93NUMPY":
        raise _InputError(f"{path}: is not a .npy file (no NumPy header); save the embeddings with numpy.save")
    try:
        loaded = np.load(path, allow_pickle=False)
    except Exception as error:  # noqa: BLE001 - any unreadable file is reported the same way
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise _InputError(f"{path}: cannot be read as a .npy array ({reason})") from error
    if loaded.ndim != 2:
        raise _InputError(f"{path}: expected a 2-D array (items x dimensions), got shape {loaded.shape}")
    kind = loaded.dtype
    if not (kind == np.dtype(bool) or np.issubdtype(kind, np.floating) or np.issubdtype(kind, np.integer)):
        raise _InputError(f"{path}: expected real numbers, got dtype {loaded.dtype}")
    if not np.all(np.isfinite(loaded)):
        count = int(np.count_nonzero(~np.isfinite(loaded)))
        raise _InputError(f"{path}: contains {count} non-finite value(s) (NaN or infinity)")
    return loaded


def _load_labels(path: Path, p: int) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _InputError(f"{path}: no such labels file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise _InputError(f"{path}: cannot be read as UTF-8 text ({error})") from error
    labels = text.splitlines()
    if len(labels) != p:
        raise _InputError(f"{path}: expected {p} labels (one per line, one per item), got {len(labels)}")
    return labels


def _plot(result: NeighbourStability, path: Path, title: str) -> None:
    """Mean overlap (and unchanged nearest neighbour) against gamma, in the book's style, with Agg."""
    import matplotlib as mpl
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from cossim.plotting import use_book_style

    order = np.argsort(result.gammas, kind="stable")
    with mpl.rc_context():
        use_book_style()
        figure = Figure(figsize=(6.4, 3.6))
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        axes.plot(result.gammas[order], result.mean_overlap[order], marker="o",
                  label=f"mean overlap of the top-{result.top} sets")
        axes.plot(result.gammas[order], 1.0 - result.nearest_changed[order], marker="s", linestyle="--",
                  label="fraction with the same nearest neighbour")
        axes.axvline(0.0, color="0.6", linewidth=0.8)
        axes.set_ylim(0.0, 1.03)
        axes.set_xlabel(r"$\gamma$ in $B_\gamma = B\,Q\,\Lambda^\gamma Q^\top$")
        axes.set_ylabel(r"agreement with $\gamma = 0$")
        axes.set_title(title)
        figure.legend(loc="outside lower center", ncols=2, frameon=False)
        figure.savefig(path)


def _report(result: NeighbourStability, source: str, k: int, labels: list[str] | None, least: int) -> str:
    p = result.overlaps.shape[1]
    lines = [
        f"Neighbour stability of {p} items x {k} dimensions from {source} (rank {result.rank}), "
        f"top {result.top} by cosine,",
        "under the gauges B -> B Q Lambda^gamma Q^T (B = P Lambda Q^T), which change no prediction of a",
        "model trained with a penalty on the product A B^T. Compared with gamma = 0 (B itself):",
        "",
        f"{'gamma':>8}  {'mean overlap':>12}  {'nearest neighbour changed':>25}",
    ]
    for gamma, overlap, changed in zip(result.gammas, result.mean_overlap, result.nearest_changed):
        lines.append(f"{gamma:8.2f}  {overlap:12.3f}  {100 * changed:24.1f}%")
    if result.zero_items.size:
        lines.append(f"{result.zero_items.size} item(s) with a zero embedding have no neighbours and are left out.")
    items = result.least_stable(least)
    if items.size:
        lines += ["", f"The {items.size} least stable items (overlap averaged over the gammas):"]
        overlap = result.item_overlap
        for item in items:
            name = labels[item] if labels is not None else f"item {item}"
            lines.append(f"{overlap[item]:8.3f}  {name}")
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m cossim.audit",
        description="Audit item embeddings: how many of each item's top cosine neighbours survive the "
        "gauges B -> B Q Lambda^gamma Q^T, which leave a product-penalty model's predictions unchanged.",
    )
    parser.add_argument("embeddings", metavar="EMBEDDINGS.npy", type=Path,
                        help="a 2-D array (items x dimensions) saved with numpy.save")
    parser.add_argument("--top", type=int, default=10, help="neighbours per item (default 10)")
    parser.add_argument("--labels", metavar="FILE", type=Path,
                        help="UTF-8 text file with one label per line, one line per item")
    parser.add_argument("--plot", metavar="OUT.png", type=Path, help="write a plot of the mean overlap against gamma")
    parser.add_argument("--least", metavar="N", type=int, default=10,
                        help="how many of the least stable items to list (default 10)")
    return parser


def main(argv=None) -> int:
    """Run the command line (``python -m cossim.audit --help``); return the exit status.

    0 on success; 2 for any error in the arguments or the input (one line on
    stderr, no traceback).
    """
    parser = _parser()
    try:
        arguments = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse has printed its usage and message (or the help)
        return int(exit_.code or 0)
    try:
        if arguments.least < 0:
            raise _InputError(f"--least must be >= 0, got {arguments.least}")
        B = _load_embeddings(arguments.embeddings)
        labels = None if arguments.labels is None else _load_labels(arguments.labels, B.shape[0])
        try:
            result = neighbour_stability(B, top=arguments.top)
        except ValueError as error:
            raise _InputError(f"{arguments.embeddings}: {error}".replace("top must", "--top must")) from error
        print(_report(result, arguments.embeddings.name, B.shape[1], labels, arguments.least))
        if arguments.plot is not None:
            try:
                _plot(result, arguments.plot, f"{B.shape[0]} items, {B.shape[1]} dimensions")
            except OSError as error:
                raise _InputError(f"{arguments.plot}: cannot write the plot ({error.strerror or error})") from error
            print(f"plot written to {arguments.plot}")
    except _InputError as error:
        print(f"cossim.audit: error: {' '.join(str(error).split())}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
