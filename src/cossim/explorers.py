"""The data behind the book's two interactive explorers, and their numbers in numpy.

The explorers run in the reader's browser with no kernel: the page carries a
small, precomputed part of a fitted model, and JavaScript only rescales the
latent directions, normalises rows, takes dot products and computes the
readouts.  This module computes that part at build time, and computes every
number the page shows once more in numpy, for the printed (static) edition
and for the tests that compare the page with :mod:`cossim`.

Both explorers move along one-parameter families of diagonal factors with the
right singular vectors ``V_k`` of ``X``:

* objective (1), the gauge family ``A = V_k dMat(s_i^(1 - gamma))``,
  ``B = V_k dMat(s_i^gamma)`` with ``s_i = sigma_i^2 / (sigma_i^2 + lam_1)``:
  every member has ``A B^T = V_k dMat(s_i) V_k^T`` and is the
  :func:`cossim.regauge` of the symmetric split by ``D = dMat(s_i^(1/2 - gamma))``;
  ``gamma = 0`` is the paper's panel (b) ``B = V_k``, ``gamma = 1`` its panel
  (c) ``B = V_k dMat(s_i)``, ``gamma = 1/2`` the split;
* objective (2), its unique minimiser at each ``lam_2``:
  ``A = V_k dMat(sqrt((sigma_i - lam_2)_+) / sigma_i)``,
  ``B = V_k dMat(sqrt((sigma_i - lam_2)_+))``.

For factors of this form the losses need only the spectrum (see
:func:`diagonal_product_loss`), which is how the page computes them without
carrying ``X``.

No plotting library is imported here: the Bokeh pages are built by
:mod:`cossim.interactive`.

Import flow: this module imports :mod:`cossim.linalg`, :mod:`cossim.metrics`,
:mod:`cossim.models`, :mod:`cossim.similarity` and the shared checks of
:mod:`cossim._validation`; none of them imports it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from cossim._validation import (
    as_matrix,
    as_vector,
    check_count,
    check_instance,
    check_nonnegative,
    check_rank,
    check_real,
    check_shape,
)
from cossim.linalg import top_spectrum
from cossim.metrics import cluster_metrics
from cossim.models import effective_rank
from cossim.similarity import cosine_similarity

__all__ = [
    "REFERENCE_GAMMA",
    "FilmExplorerData",
    "SimulationExplorerData",
    "SimulationState",
    "diagonal_factor_loss",
    "diagonal_product_loss",
    "even_subsample",
    "factor_weights",
    "film_explorer_data",
    "film_neighbours",
    "product_gauge_weights",
    "simulation_explorer_data",
    "simulation_state",
]

#: The reference gauge of the film explorer: the symmetric split ``A = B = V_k dMat(s_i)^{1/2}``.
REFERENCE_GAMMA = 0.5


# --------------------------------------------------------------------------- input checks
# The general checks are the library's (cossim._validation); these add what only the explorers ask.


def _check_shrinkage(shrinkage) -> np.ndarray:
    s = as_vector(shrinkage, "shrinkage")
    if np.any(s <= 0) or np.any(s > 1):
        raise ValueError("shrinkage must lie in (0, 1] (s_i = sigma_i^2 / (sigma_i^2 + lam) of a nonzero sigma_i)")
    return s


def _check_sigma(sigma) -> np.ndarray:
    sigma = as_vector(sigma, "sigma")
    if np.any(sigma < 0):
        raise ValueError("sigma must be >= 0")
    return sigma


def _shrinkage(sigma: np.ndarray, lam: float) -> np.ndarray:
    """``s_i = sigma_i^2 / (sigma_i^2 + lam)``, or ``ValueError`` if some ``sigma_i`` is 0."""
    if np.any(sigma <= 0):
        raise ValueError("X must have k nonzero singular values (the gauge family needs every s_i > 0)")
    return sigma**2 / (sigma**2 + lam)


# --------------------------------------------------------------------------- the two families


def product_gauge_weights(shrinkage, gamma: float) -> tuple[np.ndarray, np.ndarray]:
    """Diagonals of the gauge family of objective (1): ``A = V_k dMat(a)``, ``B = V_k dMat(b)``.

    Used in ``chapters/simulation_explorer.md``; used by :func:`simulation_state`
    and :func:`film_neighbours` too.  ``a_i = s_i^(1 - gamma)`` and ``b_i = s_i^gamma``, the
    gauge ``D = dMat(s_i^(1/2 - gamma))`` of the symmetric split, so that
    ``a_i b_i = s_i`` for every ``gamma``.

    Parameters
    ----------
    shrinkage : array_like, shape (k,)
        ``s_i = sigma_i^2 / (sigma_i^2 + lam_1)``, each in ``(0, 1]``.
    gamma : float
        Position in the family; any finite number.

    Returns
    -------
    a, b : ndarray, shape (k,)

    Raises
    ------
    ValueError
        If ``shrinkage`` is not a finite 1-D array in ``(0, 1]`` or ``gamma``
        is not a finite real number.
    """
    s = _check_shrinkage(shrinkage)
    gamma = check_real(gamma, "gamma")
    return s ** (1.0 - gamma), s**gamma


def factor_weights(sigma, lam: float) -> tuple[np.ndarray, np.ndarray]:
    """Diagonals of the minimiser of objective (2): ``A = V_k dMat(a)``, ``B = V_k dMat(b)``.

    Used by :func:`simulation_state`: ``b_i = sqrt((sigma_i - lam)_+)``
    and ``a_i = b_i / sigma_i`` (0 where ``sigma_i = 0``), as in
    :func:`cossim.fit_factor_penalty`.

    Parameters
    ----------
    sigma : array_like, shape (k,)
        Singular values, ``>= 0``.
    lam : float
        ``lam_2 >= 0``.

    Returns
    -------
    a, b : ndarray, shape (k,)
        Zero in the directions with ``sigma_i <= lam``, which objective (2) drops.

    Raises
    ------
    ValueError
        If ``sigma`` is not a finite 1-D array of nonnegative numbers, or
        ``lam`` is negative or not finite.
    """
    sigma = _check_sigma(sigma)
    lam = check_nonnegative(lam, "lam")
    b = np.sqrt(np.maximum(sigma - lam, 0.0))
    a = np.zeros_like(b)
    np.divide(b, sigma, out=a, where=sigma > 0)
    return a, b


def _diagonal_fit(frobenius2, sigma, a, b, lam) -> tuple[float, np.ndarray, np.ndarray, np.ndarray, float]:
    """The checked inputs of the two diagonal losses, with their common term ``||X - X A B^T||^2`` first."""
    frobenius2 = check_nonnegative(frobenius2, "frobenius2")
    sigma = _check_sigma(sigma)
    a = check_shape(as_vector(a, "a"), sigma.shape, "a")
    b = check_shape(as_vector(b, "b"), sigma.shape, "b")
    lam = check_nonnegative(lam, "lam")
    w = a * b
    return float(frobenius2 - np.sum(sigma**2 * (2.0 * w - w * w))), sigma, a, b, lam


def diagonal_product_loss(frobenius2: float, sigma, a, b, lam: float) -> float:
    """Objective (1) of factors ``A = V_k dMat(a)``, ``B = V_k dMat(b)``, from the spectrum alone.

    Used in ``chapters/simulation_explorer.md``; the page computes the same
    formula in JavaScript.  With ``V_k`` the top-k right singular vectors of
    ``X`` (so ``V_k^T V_k = I`` and ``X V_k = U_k Sigma_k``) and
    ``w_i = a_i b_i``,

    ``||X - X A B^T||^2 = ||X||^2 - sum_i sigma_i^2 (2 w_i - w_i^2)`` and
    ``||A B^T||^2 = sum_i w_i^2``,

    so the loss depends on the factors only through the products ``w_i``:
    every gauge with the same product has the same loss.

    Parameters
    ----------
    frobenius2 : float
        ``||X||_F^2``, ``>= 0``.
    sigma : array_like, shape (k,)
        The top-k singular values of ``X``.
    a, b : array_like, shape (k,)
        The diagonals of the factors.
    lam : float
        ``lam_1 >= 0``.

    Returns
    -------
    float
        Equal, up to rounding, to :func:`cossim.product_penalty_loss` of
        ``X, V_k dMat(a), V_k dMat(b), lam``.

    Raises
    ------
    ValueError
        If ``frobenius2`` or ``lam`` is negative or not finite, or ``sigma``,
        ``a``, ``b`` are not finite 1-D arrays of one length.
    """
    fit, _, a, b, lam = _diagonal_fit(frobenius2, sigma, a, b, lam)
    return float(fit + lam * np.sum((a * b) ** 2))


def diagonal_factor_loss(frobenius2: float, sigma, a, b, lam: float) -> float:
    """Objective (2) of factors ``A = V_k dMat(a)``, ``B = V_k dMat(b)``, from the spectrum alone.

    Used by :func:`simulation_state`; the page of the simulation explorer
    computes the same formula in JavaScript.  As in
    :func:`diagonal_product_loss`, with
    ``||X A||^2 = sum_i sigma_i^2 a_i^2`` and ``||B||^2 = sum_i b_i^2``.

    Parameters
    ----------
    frobenius2, sigma, a, b
        As in :func:`diagonal_product_loss`.
    lam : float
        ``lam_2 >= 0``.

    Returns
    -------
    float
        :func:`cossim.factor_penalty_loss` of the same ``X``, factors and
        ``lam``, up to rounding.  Bad input raises ``ValueError`` as in
        :func:`diagonal_product_loss`.
    """
    fit, sigma, a, b, lam = _diagonal_fit(frobenius2, sigma, a, b, lam)
    return float(fit + lam * (np.sum(sigma**2 * a**2) + np.sum(b**2)))


# --------------------------------------------------------------------------- explorer 1: the paper's experiment


def even_subsample(order, clusters, max_items: int) -> np.ndarray:
    """At most ``max_items`` items, spread evenly over each cluster, in display order.

    Used by :func:`simulation_explorer_data`, to show the paper's experiment
    at a size a browser redraws instantly.  Each cluster keeps a share of the
    items proportional to its size (largest remainders decide the last ones);
    within a cluster the kept items are evenly spaced along ``order``, so the
    most popular item of each cluster is always kept.

    Parameters
    ----------
    order : array_like of int, shape (p,)
        A permutation of the items in display order, for example
        :meth:`cossim.SimulatedInteractions.item_order` (by cluster, then by
        falling popularity).
    clusters : array_like of int, shape (p,)
        Cluster label of each item (indexed by item, not by position in ``order``).
    max_items : int
        ``1 <= max_items``; all ``p`` items are kept when ``max_items >= p``.

    Returns
    -------
    ndarray of int64, shape (min(max_items, p),)
        Item indices, a subsequence of ``order``.

    Raises
    ------
    ValueError
        If ``order`` is not a permutation of ``0..p-1``, ``clusters`` has not
        ``p`` integer labels, or ``max_items`` is not a positive integer.
    """
    order = np.asarray(order)
    clusters = np.asarray(clusters)
    if order.ndim != 1 or order.size == 0 or not np.issubdtype(order.dtype, np.integer):
        raise ValueError("order must be a non-empty 1-D array of item indices")
    p = order.size
    if not np.array_equal(np.sort(order), np.arange(p)):
        raise ValueError("order must be a permutation of 0..p-1")
    if clusters.shape != (p,) or not np.issubdtype(clusters.dtype, np.integer):
        raise ValueError(f"clusters must hold one integer label per item ({p}), got shape {clusters.shape}")
    total = min(check_count(max_items, "max_items"), p)
    ordered = clusters[order]
    labels = list(dict.fromkeys(ordered.tolist()))  # clusters in display order
    sizes = np.array([np.count_nonzero(ordered == c) for c in labels])
    exact = sizes * total / p
    quota = np.floor(exact).astype(np.int64)
    remainder = exact - quota
    for index in np.argsort(-remainder, kind="stable")[: total - int(quota.sum())]:
        quota[index] += 1
    kept = []
    for label, count in zip(labels, quota):
        members = order[ordered == label]
        if count > 0:
            positions = np.round(np.linspace(0, members.size - 1, int(count))).astype(np.int64)
            kept.append(members[positions])
    return np.concatenate(kept).astype(np.int64)


@dataclass(frozen=True, eq=False)
class SimulationExplorerData:
    """What the page of the simulation explorer carries.

    Returned by :func:`simulation_explorer_data`.

    Attributes
    ----------
    items : ndarray of int64, shape (m,)
        The items shown, in display order (indices into the ``p`` items).
    clusters : ndarray of int64, shape (m,)
        Their clusters.
    V : ndarray of float64, shape (m, k)
        Their rows of ``V_k``, the top-k right singular vectors of ``X``.
    sigma : ndarray of float64, shape (k,)
        The top-k singular values of ``X``.
    shrinkage : ndarray of float64, shape (k,)
        ``s_i = sigma_i^2 / (sigma_i^2 + lam_product)``.
    frobenius2 : float
        ``||X||_F^2``.
    lam_product, lam_factor : float
        ``lam_1`` of objective (1); the starting ``lam_2`` of objective (2).
    n_items : int
        ``p``, the number of items of ``X``.
    """

    items: np.ndarray
    clusters: np.ndarray
    V: np.ndarray
    sigma: np.ndarray
    shrinkage: np.ndarray
    frobenius2: float
    lam_product: float
    lam_factor: float
    n_items: int

    @property
    def k(self) -> int:
        """Number of latent dimensions."""
        return self.V.shape[1]


def simulation_explorer_data(
    X, clusters, order, k: int, lam_product: float, lam_factor: float, *, max_items: int = 250
) -> SimulationExplorerData:
    """The data of the simulation explorer: the shown items' rows of ``V_k``, the spectrum, ``||X||^2``.

    Used in ``chapters/simulation_explorer.md``.  The item-item cosines of any
    factor ``B = V_k dMat(b)`` among the shown items depend only on their rows
    of ``V_k``, so the page needs ``m x k`` numbers, not ``X``.

    Parameters
    ----------
    X : array_like, shape (n, p)
        The interaction matrix.
    clusters : array_like of int, shape (p,)
        Cluster of each item.
    order : array_like of int, shape (p,)
        Display order of the items (see :func:`even_subsample`).
    k : int
        Number of latent dimensions, ``1 <= k <= min(n, p)``.
    lam_product : float
        ``lam_1 >= 0`` of objective (1).
    lam_factor : float
        ``lam_2 >= 0``, where the slider of objective (2) starts.
    max_items : int, default 250
        How many items to show at most (:func:`even_subsample`).

    Returns
    -------
    SimulationExplorerData

    Raises
    ------
    ValueError
        For a bad ``X``, ``k``, penalties, ``order``, ``clusters``, ``max_items``
        or if ``X`` has fewer than ``k`` nonzero singular values.
    """
    X = as_matrix(X, "X")
    k = check_rank(k, min(X.shape), "k")
    lam_product = check_nonnegative(lam_product, "lam_product")
    lam_factor = check_nonnegative(lam_factor, "lam_factor")
    if np.asarray(order).size != X.shape[1]:
        raise ValueError(f"order must list the {X.shape[1]} items of X, got {np.asarray(order).size}")
    items = even_subsample(order, clusters, max_items)
    sigma, V = top_spectrum(X, k)
    shrinkage = _shrinkage(sigma, lam_product)
    frobenius2 = float(np.sum(np.square(X, dtype=np.float64)))
    return SimulationExplorerData(
        items=items,
        clusters=np.asarray(clusters, dtype=np.int64)[items],
        V=np.ascontiguousarray(V[items], dtype=np.float64),
        sigma=np.asarray(sigma, dtype=np.float64),
        shrinkage=shrinkage,
        frobenius2=frobenius2,
        lam_product=lam_product,
        lam_factor=lam_factor,
        n_items=X.shape[1],
    )


@dataclass(frozen=True, eq=False)
class SimulationState:
    """Everything the simulation explorer shows at one position of its two sliders.

    Returned by :func:`simulation_state`.  ``product_*`` describe objective (1) at
    ``gamma``, ``factor_*`` objective (2) at ``lam``; ``*_cosines`` are
    ``(m, m)`` item-item cosines of the shown items, ``*_scores`` the tuple
    ``(within, between, AUC)`` of :func:`cossim.cluster_metrics` over them.
    """

    gamma: float
    lam: float
    product_cosines: np.ndarray
    product_loss: float
    product_scores: tuple[float, float, float]
    factor_cosines: np.ndarray
    factor_loss: float
    factor_scores: tuple[float, float, float]
    kept: int


def _scores(S: np.ndarray, clusters: np.ndarray) -> tuple[float, float, float]:
    m = cluster_metrics(S, clusters, 1)
    return m.within, m.between, m.auc


def simulation_state(data: SimulationExplorerData, gamma: float, lam: float) -> SimulationState:
    """The numbers the simulation explorer shows at ``gamma`` and ``lam_2 = lam``, in numpy.

    Used in ``chapters/simulation_explorer.md`` for the printed figure; the
    page computes the same in JavaScript, and the browser tests compare both
    with fits from :mod:`cossim`.

    Parameters
    ----------
    data : SimulationExplorerData
    gamma : float
        Position in the gauge family of objective (1).
    lam : float
        ``lam_2 >= 0`` of objective (2).

    Returns
    -------
    SimulationState

    Raises
    ------
    ValueError
        If ``data`` is not a :class:`SimulationExplorerData`, ``gamma`` is not
        finite or ``lam`` is negative or not finite.
    """
    check_instance(data, SimulationExplorerData, "data")
    a, b = product_gauge_weights(data.shrinkage, gamma)
    product_cosines = cosine_similarity(data.V * b)
    fa, fb = factor_weights(data.sigma, lam)
    factor_cosines = cosine_similarity(data.V * fb)
    return SimulationState(
        gamma=float(gamma),
        lam=float(lam),
        product_cosines=product_cosines,
        product_loss=diagonal_product_loss(data.frobenius2, data.sigma, a, b, data.lam_product),
        product_scores=_scores(product_cosines, data.clusters),
        factor_cosines=factor_cosines,
        factor_loss=diagonal_factor_loss(data.frobenius2, data.sigma, fa, fb, lam),
        factor_scores=_scores(factor_cosines, data.clusters),
        kept=effective_rank(data.sigma, lam),
    )


# --------------------------------------------------------------------------- explorer 2: a film's neighbours


@dataclass(frozen=True, eq=False)
class FilmExplorerData:
    """What the page of the film explorer carries.

    Returned by :func:`film_explorer_data`.  The page carries only the films
    with at least ``min_ratings`` ratings: they are the films one can pick and
    the films among which the neighbours are searched.

    Attributes
    ----------
    films : ndarray of int64, shape (m,)
        The carried films, as columns of ``X``, ordered by label (case-insensitive).
    V : ndarray of float32, shape (m, k)
        Their rows of ``V_k``, rounded to single precision (to halve the page).
    sigma : ndarray of float64, shape (k,)
        The top-k singular values of ``X``.
    lam : float
        ``lam_1`` of objective (1).
    labels : tuple of str, length m
        A unique label per carried film (a label the catalogue repeats gets the film's id).
    ratings : ndarray of int64, shape (m,)
        Number of ratings (nonzero entries of ``X``) of each carried film.
    min_ratings : int
        The least number of ratings of a carried film.
    n_films : int
        ``p``, the number of films (columns) of ``X``.
    """

    films: np.ndarray
    V: np.ndarray
    sigma: np.ndarray
    lam: float
    labels: tuple[str, ...]
    ratings: np.ndarray
    min_ratings: int
    n_films: int

    @property
    def k(self) -> int:
        """Number of latent dimensions."""
        return self.V.shape[1]

    @property
    def shrinkage(self) -> np.ndarray:
        """``s_i = sigma_i^2 / (sigma_i^2 + lam)``, shape (k,)."""
        return _shrinkage(self.sigma, self.lam)

    def row_of(self, film: int) -> int:
        """The row of ``film`` (a column of ``X``) in :attr:`films`, or ``ValueError`` naming ``film``."""
        film = check_count(film, "film", minimum=0)
        rows = np.flatnonzero(self.films == film)
        if rows.size != 1:
            raise ValueError(f"film must be the column of a carried film (one of data.films), got {film}")
        return int(rows[0])


def film_explorer_data(
    X, labels, k: int, lam: float, *, ids=None, min_ratings: int = 20
) -> FilmExplorerData:
    """The data of the film explorer: ``V_k`` in single precision, spectrum and labels of the rated films.

    Used in ``chapters/movielens.md``.  Only the films with at least
    ``min_ratings`` ratings are kept, for the picker and as the candidate
    neighbours: a page that carried every film would be heavier, and the
    rarely rated films are those whose neighbours the chapter trusts least.
    The page computes the cosines of ``B = V_k dMat(s_i^gamma)`` in double
    precision from the single-precision ``V_k``: each entry carries a
    relative error below ``2^-24``, so each cosine differs from the
    double-precision one by less than about ``4 * 2^-24 < 2.4e-7``
    (Cauchy-Schwarz on the perturbed inner product and norms), whatever the gauge.

    Parameters
    ----------
    X : array_like, shape (n, p)
        The interaction matrix (users by films).
    labels : sequence of str, length p
        A label per film, e.g. :attr:`cossim.MovieRatings.labels`.
    k : int
        Number of latent dimensions, ``1 <= k <= min(n, p)``.
    lam : float
        ``lam_1 >= 0`` of objective (1).
    ids : sequence of int, length p, optional
        Identifiers that tell films with the same label apart (e.g.
        :attr:`cossim.MovieRatings.movie_ids`); the column index if omitted.
    min_ratings : int, default 20
        The films with at least this many ratings are carried; at least two
        films must qualify.

    Returns
    -------
    FilmExplorerData

    Raises
    ------
    ValueError
        For a bad ``X``, ``k`` or ``lam``; ``labels`` or ``ids``
        of the wrong length, or ``ids`` that do not tell equal labels apart;
        ``min_ratings`` not a positive integer or leaving fewer than two
        films; or ``X`` with fewer than ``k`` nonzero singular values.
    """
    X = as_matrix(X, "X")
    k = check_rank(k, min(X.shape), "k")
    lam = check_nonnegative(lam, "lam")
    min_ratings = check_count(min_ratings, "min_ratings")
    p = X.shape[1]
    labels = [str(label) for label in labels]
    if len(labels) != p:
        raise ValueError(f"labels must have one entry per column of X ({p}), got {len(labels)}")
    ids = list(range(p)) if ids is None else [int(i) for i in ids]
    if len(ids) != p:
        raise ValueError(f"ids must have one entry per column of X ({p}), got {len(ids)}")
    sigma, V = top_spectrum(X, k)
    _shrinkage(sigma, lam)
    ratings = np.count_nonzero(X, axis=0).astype(np.int64)
    kept = np.flatnonzero(ratings >= min_ratings)
    if kept.size < 2:
        raise ValueError(f"min_ratings = {min_ratings} leaves {kept.size} film(s); a neighbour list needs two")
    counts = Counter(labels[j] for j in kept)
    unique = {j: f"{labels[j]} [id {ids[j]}]" if counts[labels[j]] > 1 else labels[j] for j in kept}
    if len(set(unique.values())) != kept.size:
        raise ValueError("ids must tell films with the same label apart")
    films = np.array(sorted(kept, key=lambda j: (unique[j].casefold(), j)), dtype=np.int64)
    return FilmExplorerData(
        films=films,
        V=np.ascontiguousarray(V[films], dtype=np.float32),
        sigma=np.asarray(sigma, dtype=np.float64),
        lam=lam,
        labels=tuple(unique[j] for j in films),
        ratings=ratings[films],
        min_ratings=min_ratings,
        n_films=p,
    )


def film_neighbours(data: FilmExplorerData, film: int, gamma: float, top: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """The ``top`` nearest films of ``film`` at ``gamma`` among the carried films, as the explorer lists them.

    Used in ``chapters/movielens.md`` for the printed version of the explorer:
    cosines of the rows of ``B = V_k dMat(s_i^gamma)`` (double precision,
    from the single-precision ``V_k`` of ``data``) among the films of
    ``data.films``, ranked as :func:`cossim.nearest_neighbours` ranks them
    (descending cosine, ties by ascending column of ``X``).

    Parameters
    ----------
    data : FilmExplorerData
    film : int
        Column of the film in ``X``, one of ``data.films``.
    gamma : float
        Position in the gauge family.
    top : int, default 10
        ``1 <= top <= m - 1``, with ``m`` the number of carried films.

    Returns
    -------
    columns : ndarray of int64, shape (top,)
        The neighbours (columns of ``X``), most similar first.
    cosines : ndarray of float64, shape (top,)
        Their cosines with ``film``.

    Raises
    ------
    ValueError
        For a bad ``data``, a ``film`` that is not carried, ``gamma`` not
        finite or ``top`` out of range.
    """
    check_instance(data, FilmExplorerData, "data")
    row = data.row_of(film)
    m = data.films.size
    top = check_rank(top, m - 1, "top")
    _, b = product_gauge_weights(data.shrinkage, gamma)
    B = data.V.astype(np.float64) * b
    cosines = cosine_similarity(B[[row]], B)[0]
    candidates = np.flatnonzero(~np.isnan(cosines) & (np.arange(m) != row))
    if candidates.size < top:
        raise ValueError(f"film {film} has fewer than top = {top} films with a defined cosine")
    # Descending cosine, ties by ascending column of X, as cossim.nearest_neighbours orders them.
    chosen = candidates[np.lexsort((data.films[candidates], -cosines[candidates]))[:top]]
    return data.films[chosen].astype(np.int64), cosines[chosen]
