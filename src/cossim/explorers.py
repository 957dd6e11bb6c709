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
:mod:`cossim.models` and :mod:`cossim.similarity`; none of them imports it.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

# Public names only: the library's module layout may change, its exported names stay.
from cossim import cluster_metrics, cosine_similarity, effective_rank, top_spectrum

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


def _as_matrix(value, name: str) -> np.ndarray:
    """``value`` as a finite, non-empty 2-D real array (floats kept as they are, others as float64)."""
    try:
        array = np.asarray(value)
        if not np.issubdtype(array.dtype, np.floating):
            array = array.astype(np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be a 2-D array of real numbers: {error}") from error
    if array.ndim != 2 or array.size == 0:
        raise ValueError(f"{name} must be a non-empty 2-D array, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite (it contains NaN or infinity)")
    return array


def _as_vector(value, name: str) -> np.ndarray:
    """``value`` as a finite, non-empty 1-D float64 array, or ``ValueError`` naming ``name``."""
    raw = np.asarray(value)
    if raw.dtype == bool:
        raise ValueError(f"{name} must hold real numbers, got booleans")
    try:
        array = raw.astype(np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be a 1-D array of real numbers: {error}") from error
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite (it contains NaN or infinity)")
    return array


def _check_nonnegative(value, name: str) -> float:
    """``value`` as a finite float ``>= 0``, or ``ValueError`` naming ``name``."""
    value = _check_real(value, name)
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return value


def _check_rank(k, upper: int, name: str = "k") -> int:
    """``k`` as an int in ``1..upper``, or ``ValueError`` naming ``name``."""
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or not 1 <= int(k) <= upper:
        raise ValueError(f"{name} must be an integer in 1..{upper}, got {k!r}")
    return int(k)


def _check_real(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def _check_shrinkage(shrinkage) -> np.ndarray:
    s = _as_vector(shrinkage, "shrinkage")
    if np.any(s <= 0) or np.any(s > 1):
        raise ValueError("shrinkage must lie in (0, 1] (s_i = sigma_i^2 / (sigma_i^2 + lam) of a nonzero sigma_i)")
    return s


def _check_sigma(sigma) -> np.ndarray:
    sigma = _as_vector(sigma, "sigma")
    if np.any(sigma < 0):
        raise ValueError("sigma must be >= 0")
    return sigma


def _check_weights(sigma, a, b) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    sigma = _check_sigma(sigma)
    a = _as_vector(a, "a")
    b = _as_vector(b, "b")
    for name, value in (("a", a), ("b", b)):
        if value.shape != sigma.shape:
            raise ValueError(f"{name} must have one entry per singular value ({sigma.size}), got {value.size}")
    return sigma, a, b


def _check_spectrum(X: np.ndarray, k: int, spectrum) -> tuple[np.ndarray, np.ndarray]:
    if spectrum is None:
        return top_spectrum(X, k)
    try:
        sigma, V = spectrum
    except (TypeError, ValueError) as error:
        raise ValueError("spectrum must be a pair (s, V) from top_spectrum(X, k)") from error
    sigma = _check_sigma(sigma)
    V = _as_matrix(V, "spectrum")
    if V.shape[0] != X.shape[1] or V.shape[1] != sigma.size or sigma.size < k:
        raise ValueError(
            f"spectrum does not fit X and k = {k}: V has shape {V.shape}, s has {sigma.size} values, "
            f"X has {X.shape[1]} columns"
        )
    return sigma[:k], V[:, :k]


def _positive_shrinkage(sigma: np.ndarray, lam: float) -> np.ndarray:
    if np.any(sigma <= 0):
        raise ValueError("X must have k nonzero singular values (the gauge family needs every s_i > 0)")
    return sigma**2 / (sigma**2 + lam)


# --------------------------------------------------------------------------- the two families


def product_gauge_weights(shrinkage, gamma: float) -> tuple[np.ndarray, np.ndarray]:
    """Diagonals of the gauge family of objective (1): ``A = V_k dMat(a)``, ``B = V_k dMat(b)``.

    Used in ``chapters/simulation_explorer.md`` (and, through
    :func:`film_neighbours`, ``chapters/movielens.md``):
    ``a_i = s_i^(1 - gamma)`` and ``b_i = s_i^gamma``, the
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
    gamma = _check_real(gamma, "gamma")
    return s ** (1.0 - gamma), s**gamma


def factor_weights(sigma, lam: float) -> tuple[np.ndarray, np.ndarray]:
    """Diagonals of the minimiser of objective (2): ``A = V_k dMat(a)``, ``B = V_k dMat(b)``.

    Used in ``chapters/simulation_explorer.md`` (through :func:`simulation_state`):
    ``b_i = sqrt((sigma_i - lam)_+)``
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

    Raises
    ------
    ValueError
        If ``sigma`` is not a finite 1-D array of nonnegative numbers, or
        ``lam`` is negative or not finite.
    """
    sigma = _check_sigma(sigma)
    lam = _check_nonnegative(lam, "lam")
    b = np.sqrt(np.maximum(sigma - lam, 0.0))
    a = np.zeros_like(b)
    np.divide(b, sigma, out=a, where=sigma > 0)
    return a, b


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
    frobenius2 = _check_nonnegative(frobenius2, "frobenius2")
    sigma, a, b = _check_weights(sigma, a, b)
    lam = _check_nonnegative(lam, "lam")
    w = a * b
    return float(frobenius2 - np.sum(sigma**2 * (2.0 * w - w * w)) + lam * np.sum(w * w))


def diagonal_factor_loss(frobenius2: float, sigma, a, b, lam: float) -> float:
    """Objective (2) of factors ``A = V_k dMat(a)``, ``B = V_k dMat(b)``, from the spectrum alone.

    Used in ``chapters/simulation_explorer.md`` (through :func:`simulation_state`);
    the page computes the same formula in JavaScript.  As in
    :func:`diagonal_product_loss`, with
    ``||X A||^2 = sum_i sigma_i^2 a_i^2`` and ``||B||^2 = sum_i b_i^2``.

    Parameters
    ----------
    frobenius2 : float
        ``||X||_F^2``, ``>= 0``.
    sigma : array_like, shape (k,)
        The top-k singular values of ``X``.
    a, b : array_like, shape (k,)
        The diagonals of the factors.
    lam : float
        ``lam_2 >= 0``.

    Returns
    -------
    float
        Equal, up to rounding, to :func:`cossim.factor_penalty_loss` of
        ``X, V_k dMat(a), V_k dMat(b), lam``.

    Raises
    ------
    ValueError
        As :func:`diagonal_product_loss`.
    """
    frobenius2 = _check_nonnegative(frobenius2, "frobenius2")
    sigma, a, b = _check_weights(sigma, a, b)
    lam = _check_nonnegative(lam, "lam")
    w = a * b
    fit = frobenius2 - np.sum(sigma**2 * (2.0 * w - w * w))
    return float(fit + lam * (np.sum(sigma**2 * a**2) + np.sum(b**2)))


# --------------------------------------------------------------------------- explorer 1: the paper's experiment


def even_subsample(order, clusters, max_items: int) -> np.ndarray:
    """At most ``max_items`` items, spread evenly over each cluster, in display order.

    Used in ``chapters/simulation_explorer.md`` (through
    :func:`simulation_explorer_data`) to show the paper's experiment at a size
    a browser redraws instantly.  Each cluster keeps a share of the
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
    if isinstance(max_items, bool) or not isinstance(max_items, numbers.Integral) or max_items < 1:
        raise ValueError(f"max_items must be a positive integer, got {max_items!r}")
    total = min(int(max_items), p)
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
    """What the page of the simulation explorer carries (see :func:`simulation_explorer_data`).

    Used in ``chapters/simulation_explorer.md``.

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
    X, clusters, order, k: int, lam_product: float, lam_factor: float, *, max_items: int = 250, spectrum=None
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
    spectrum : (s, V), optional, keyword only
        A precomputed :func:`cossim.top_spectrum` of ``X`` with at least k values.

    Returns
    -------
    SimulationExplorerData

    Raises
    ------
    ValueError
        For a bad ``X``, ``k``, penalties, ``order``, ``clusters``, ``max_items``
        or ``spectrum``, or if ``X`` has fewer than ``k`` nonzero singular values.
    """
    X = _as_matrix(X, "X")
    k = _check_rank(k, min(X.shape), "k")
    lam_product = _check_nonnegative(lam_product, "lam_product")
    lam_factor = _check_nonnegative(lam_factor, "lam_factor")
    if np.asarray(order).size != X.shape[1]:
        raise ValueError(f"order must list the {X.shape[1]} items of X, got {np.asarray(order).size}")
    items = even_subsample(order, clusters, max_items)
    sigma, V = _check_spectrum(X, k, spectrum)
    shrinkage = _positive_shrinkage(sigma, lam_product)
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

    Used in ``chapters/simulation_explorer.md`` (the static figure); returned
    by :func:`simulation_state`.  ``product_*`` describe objective (1) at
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
    if not isinstance(data, SimulationExplorerData):
        raise ValueError(f"data must be a SimulationExplorerData, got {type(data).__name__}")
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
    """What the page of the film explorer carries (see :func:`film_explorer_data`).

    Used in ``chapters/movielens.md``.

    Attributes
    ----------
    V : ndarray of float32, shape (p, k)
        ``V_k`` of every film, rounded to single precision (to halve the page).
    sigma : ndarray of float64, shape (k,)
        The top-k singular values of ``X``.
    lam : float
        ``lam_1`` of objective (1).
    labels : tuple of str, length p
        A unique label per film (duplicates of the catalogue get their id).
    ratings : ndarray of int64, shape (p,)
        Number of ratings (nonzero entries) of each film.
    picker : ndarray of int64
        The films one can pick (at least ``min_ratings`` ratings), ordered by label.
    """

    V: np.ndarray
    sigma: np.ndarray
    lam: float
    labels: tuple[str, ...]
    ratings: np.ndarray
    picker: np.ndarray

    @property
    def k(self) -> int:
        """Number of latent dimensions."""
        return self.V.shape[1]

    @property
    def shrinkage(self) -> np.ndarray:
        """``s_i = sigma_i^2 / (sigma_i^2 + lam)``, shape (k,)."""
        return self.sigma**2 / (self.sigma**2 + self.lam)


def film_explorer_data(
    X, labels, k: int, lam: float, *, ids=None, min_ratings: int = 20, spectrum=None
) -> FilmExplorerData:
    """The data of the film explorer: ``V_k`` of every film in single precision, the spectrum, labels.

    Used in ``chapters/movielens.md``.  The page computes the cosines of
    ``B = V_k dMat(s_i^gamma)`` in double precision from the single-precision
    ``V_k``: each entry carries a relative error below ``2^-24``, so each
    cosine differs from the double-precision one by less than about
    ``4 * 2^-24 < 2.4e-7`` (Cauchy-Schwarz on the perturbed inner product and
    norms), whatever the gauge.

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
        Films with at least this many ratings can be picked; every film can
        be a neighbour.
    spectrum : (s, V), optional, keyword only
        A precomputed :func:`cossim.top_spectrum` of ``X`` with at least k values.

    Returns
    -------
    FilmExplorerData

    Raises
    ------
    ValueError
        For a bad ``X``, ``k``, ``lam`` or ``spectrum``; ``labels`` or ``ids``
        of the wrong length; ``min_ratings`` not a positive integer or leaving
        no film to pick; or ``X`` with fewer than ``k`` nonzero singular values.
    """
    X = _as_matrix(X, "X")
    k = _check_rank(k, min(X.shape), "k")
    lam = _check_nonnegative(lam, "lam")
    p = X.shape[1]
    labels = [str(label) for label in labels]
    if len(labels) != p:
        raise ValueError(f"labels must have one entry per column of X ({p}), got {len(labels)}")
    ids = list(range(p)) if ids is None else [int(i) for i in ids]
    if len(ids) != p:
        raise ValueError(f"ids must have one entry per column of X ({p}), got {len(ids)}")
    if isinstance(min_ratings, bool) or not isinstance(min_ratings, numbers.Integral) or min_ratings < 1:
        raise ValueError(f"min_ratings must be a positive integer, got {min_ratings!r}")
    sigma, V = _check_spectrum(X, k, spectrum)
    _positive_shrinkage(sigma, lam)
    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    unique = tuple(label if counts[label] == 1 else f"{label} [id {ids[j]}]" for j, label in enumerate(labels))
    if len(set(unique)) != p:
        raise ValueError("ids must tell films with the same label apart")
    ratings = np.count_nonzero(X, axis=0).astype(np.int64)
    eligible = np.flatnonzero(ratings >= min_ratings)
    if eligible.size == 0:
        raise ValueError(f"min_ratings = {min_ratings} leaves no film to pick")
    picker = np.array(sorted(eligible, key=lambda j: (unique[j].casefold(), j)), dtype=np.int64)
    return FilmExplorerData(
        V=np.ascontiguousarray(V, dtype=np.float32),
        sigma=np.asarray(sigma, dtype=np.float64),
        lam=lam,
        labels=unique,
        ratings=ratings,
        picker=picker,
    )


def film_neighbours(data: FilmExplorerData, film: int, gamma: float, top: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """The ``top`` nearest films of ``film`` at ``gamma``, as the film explorer lists them.

    Used in ``chapters/movielens.md`` for the printed version of the explorer:
    cosines of the rows of ``B = V_k dMat(s_i^gamma)`` (double precision,
    from the single-precision ``V_k`` of ``data``), ranked as
    :func:`cossim.nearest_neighbours` ranks them.

    Parameters
    ----------
    data : FilmExplorerData
    film : int
        Column of the film, ``0 <= film < p``.
    gamma : float
        Position in the gauge family.
    top : int, default 10
        ``1 <= top <= p - 1``.

    Returns
    -------
    columns : ndarray of int64, shape (top,)
        The neighbours, most similar first.
    cosines : ndarray of float64, shape (top,)
        Their cosines with ``film``.

    Raises
    ------
    ValueError
        For a bad ``data``, ``film`` out of range, ``gamma`` not finite or
        ``top`` out of range.
    """
    if not isinstance(data, FilmExplorerData):
        raise ValueError(f"data must be a FilmExplorerData, got {type(data).__name__}")
    p = data.V.shape[0]
    if isinstance(film, bool) or not isinstance(film, numbers.Integral) or not 0 <= film < p:
        raise ValueError(f"film must be a column index in 0..{p - 1}, got {film!r}")
    top = _check_rank(top, p - 1, "top")
    _, b = product_gauge_weights(data.shrinkage, gamma)
    B = data.V.astype(np.float64) * b
    row = cosine_similarity(B[[film]], B)[0]
    candidates = np.flatnonzero(~np.isnan(row) & (np.arange(p) != film))
    if candidates.size < top:
        raise ValueError(f"film {film} has fewer than top = {top} films with a defined cosine")
    # Descending cosine, ties by ascending column, as cossim.nearest_neighbours orders them.
    columns = candidates[np.lexsort((candidates, -row[candidates]))[:top]]
    return columns.astype(np.int64), row[columns]
