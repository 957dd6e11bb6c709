"""The paper's simulated data: clustered items, power-law popularity and activity, sampled users.

Section 4 of Steck, Ekanadham & Kallus (2024) generates a binary user-item
matrix ``X`` from a small generative model.  The paper states:

* ``n = 20,000`` users, ``p = 1,000`` items, ``C = 5`` clusters;
* item ``i`` is assigned to cluster ``c_i`` with probabilities ``p_c``;
* each cluster has a power-law exponent ``beta_c ~ Unif(0.25, 1.5)`` and the
  baseline popularity of item ``i`` is ``p_i = PowerLaw(beta_{c_i})``;
* each user ``u`` has cluster preferences ``p_uc`` and the user-item
  probabilities are ``p_ui = p_{u c_i} p_i / sum_j p_{u c_j} p_j``;
* user activity ``k_u ~ PowerLaw(0.5)``; user ``u`` draws ``k_u`` items without
  replacement with probabilities ``p_ui``; those entries of ``X`` are 1.

It leaves open the distribution of ``p_c`` and ``p_uc``, what ``PowerLaw``
means, and how ``k_u`` becomes an integer.  :func:`simulate_clustered_interactions`
makes every one of these choices a keyword argument with a stated default; its
docstring gives the reasons.

Sampling without replacement is vectorised with the Gumbel-top-k trick
(:func:`_sample_without_replacement`); :func:`_naive_sample_without_replacement`
is the plain per-user loop over ``numpy.random.Generator.choice`` that serves
as its reference in the tests and as the baseline in
``benchmarks/bench_figure1.py``.

Import flow: this module imports only :mod:`numpy` and
:mod:`cossim._validation`.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from cossim._validation import as_array, as_generator, check_count, check_rank

__all__ = ["SimulatedInteractions", "simulate_clustered_interactions"]

#: The dtypes ``X`` may be stored in: all hold 0/1 exactly and every cossim function accepts them.
_DATA_DTYPES = (np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.uint8), np.dtype(bool))

_ACTIVITY_MODELS = ("power", "zipf")
_SAMPLING_METHODS = ("gumbel", "loop")

#: Rows with a positive weight below this fraction of their largest weight get their keys in log space.
_TINY_RELATIVE_WEIGHT = 1e-290


# --------------------------------------------------------------------------- input checks


def _nonnegative_real(value, name: str, allow_inf: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if np.isnan(value) or (np.isinf(value) and not allow_inf):
        raise ValueError(f"{name} must be finite, got {value}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return value


def _concentration(value, name: str) -> float:
    value = _nonnegative_real(value, name, allow_inf=True)
    if value == 0:
        raise ValueError(f"{name} must be > 0 (np.inf means equal probabilities), got {value}")
    return value


def _check_weights(weights) -> np.ndarray:
    W = as_array(weights, "weights", "a 2-D array of numbers")
    if W.ndim != 2:
        raise ValueError(f"weights must be a 2-D array (users x items), got shape {W.shape}")
    if W.dtype == bool or not (np.issubdtype(W.dtype, np.floating) or np.issubdtype(W.dtype, np.integer)):
        raise ValueError(f"weights must hold real numbers, got dtype {W.dtype}")
    if W.shape[1] == 0:
        raise ValueError(f"weights must have at least one column (item), got shape {W.shape}")
    W = W.astype(np.float64, copy=False)
    if not np.all(np.isfinite(W)):
        raise ValueError("weights must be finite (they contain NaN or infinity)")
    if np.any(W < 0):
        raise ValueError("weights must be >= 0")
    return W


def _check_counts(counts, W: np.ndarray) -> np.ndarray:
    k = as_array(counts, "counts", "a 1-D array of integers")
    if k.ndim != 1 or k.shape[0] != W.shape[0]:
        raise ValueError(
            f"counts must be a 1-D array with one entry per row of weights ({W.shape[0]}), got shape {k.shape}"
        )
    if k.dtype == bool or not np.issubdtype(k.dtype, np.integer):
        raise ValueError(f"counts must hold integers, got dtype {k.dtype}")
    k = k.astype(np.int64)
    if np.any(k < 0):
        raise ValueError("counts must be >= 0")
    available = np.count_nonzero(W > 0, axis=1)
    too_many = np.flatnonzero(k > available)
    if too_many.size:
        row = int(too_many[0])
        raise ValueError(
            f"counts must not exceed the number of items with positive weight: row {row} asks for "
            f"{int(k[row])} items but only {int(available[row])} have positive weight"
        )
    return k


# --------------------------------------------------------------------------- sampling


def _sample_without_replacement(weights, counts, seed) -> np.ndarray:
    """Draw ``counts[u]`` distinct items for every row ``u``, proportionally to ``weights[u]``.

    The sampler of :func:`simulate_clustered_interactions`: it draws each
    simulated user's items as the paper prescribes, without replacement, with
    probabilities ``p_ui``.

    Parameters
    ----------
    weights : array_like, shape (b, p)
        Non-negative, finite weights, one row per user; they need not sum to 1
        (only their ratios within a row matter).  Items of weight 0 are never drawn.
    counts : array_like of int, shape (b,)
        Number of items to draw for each row, ``0 <= counts[u] <=`` the number of
        positive weights in row ``u``.
    seed : int or numpy.random.Generator
        Seed or generator; the same seed gives the same draw.

    Returns
    -------
    ndarray of bool, shape (b, p)
        ``True`` at the drawn items; row ``u`` has exactly ``counts[u]`` of them.

    Raises
    ------
    ValueError
        If ``weights`` is not a finite, non-negative 2-D real array, ``counts``
        is not an integer array of length ``b`` within the bounds above, or
        ``seed`` is not a seed or Generator.

    Notes
    -----
    **Distribution.**  The draw is *successive sampling*: the first item is
    drawn with probability ``w_i / sum(w)``, the next from the remaining items
    proportionally to their weights, and so on; the set of the first
    ``counts[u]`` items is returned.  This is what
    ``numpy.random.Generator.choice(p, size=k, replace=False, p=w/w.sum())``
    draws (see :func:`_naive_sample_without_replacement`).

    **Algorithm (Gumbel top-k).**  With independent Gumbel variables ``G_i``,
    the indices of the k largest ``log w_i + G_i`` are a successive-sampling
    draw of size k.  Since ``G_i = -log E_i`` with ``E_i`` standard
    exponential, and ``log`` is increasing, the same set is the k smallest
    ``E_i / w_i`` ("exponential clocks" of rates ``w_i``: the first k to ring);
    this form is used because it needs no logarithms (rows whose weights span
    more than 290 orders of magnitude do use them, to avoid overflow).  Rows
    are grouped by their count; one ``numpy.partition`` per group finds each
    row's ``counts[u]``-th smallest key, and the items with keys up to it are
    drawn (a row hit by an exact tie at that key, an event of probability
    about ``p**2 2**-53``, is redone with ``numpy.argpartition``, so every row
    has exactly ``counts[u]`` items).  The cost is one pass over the
    ``b x p`` keys plus the partitions; memory is a few arrays of that size,
    which callers bound by passing blocks of users.
    """
    W = _check_weights(weights)
    k = _check_counts(counts, W)
    rng = as_generator(seed)
    largest = W.max(axis=1, keepdims=True)
    # Scale each row to largest weight 1 (the draw depends only on ratios), so that E / w cannot
    # overflow; rows with a positive weight below 1e-290 of their largest use logarithms instead.
    log_rows = np.any((W > 0) & (W < _TINY_RELATIVE_WEIGHT * largest), axis=1)
    with np.errstate(under="ignore"):
        scaled = W / np.where(largest > 0, largest, 1.0)
    scaled[log_rows] = W[log_rows]  # unscaled: scaling could underflow their smallest weights to 0
    return _draw(scaled, k, rng, log_rows)


def _draw(W: np.ndarray, counts: np.ndarray, rng: np.random.Generator, log_rows: np.ndarray) -> np.ndarray:
    """The Gumbel-top-k draw of :func:`_sample_without_replacement`, on checked input.

    ``W`` has non-negative weights whose positive entries are large enough
    (above about 1e-300) for ``E / w`` not to overflow, except in the rows
    flagged by ``log_rows``, whose keys are computed as ``log E - log w``.
    """
    b, p = W.shape
    keys = rng.standard_exponential((b, p))
    clocks_of_log_rows = keys[log_rows]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # Weight 0 gives key +inf: never among the smallest, since counts <= positive weights.
        # E = 0 with weight 0 (probability 2**-53 per entry) gives NaN: never selected either.
        np.divide(keys, W, out=keys)
        if np.any(log_rows):
            keys[log_rows] = np.log(clocks_of_log_rows) - np.log(W[log_rows])
    # The counts[u]-th smallest key of each row, by one np.partition per distinct count.
    threshold = np.full(b, np.inf)
    order = np.argsort(counts, kind="stable")
    sorted_counts = counts[order]
    starts = np.flatnonzero(np.r_[True, sorted_counts[1:] != sorted_counts[:-1]])
    stops = np.r_[starts[1:], b]
    for start, stop in zip(starts, stops):
        count = int(sorted_counts[start])
        if 0 < count < p:
            rows = order[start:stop]
            threshold[rows] = np.partition(keys[rows], count - 1, axis=1)[:, count - 1]
    drawn = keys <= threshold[:, None]
    drawn[counts == 0] = False
    # An exact tie with the threshold (probability of order p**2 2**-53 per row) would draw too many.
    for row in np.flatnonzero(np.count_nonzero(drawn, axis=1) != counts):
        drawn[row] = False
        drawn[row, np.argpartition(keys[row], counts[row] - 1)[: counts[row]]] = True
    return drawn


def _naive_sample_without_replacement(weights, counts, seed) -> np.ndarray:
    """The per-user loop that :func:`_sample_without_replacement` replaces.

    The reference of the tests and of ``benchmarks/bench_figure1.py``
    (``simulate_clustered_interactions(sampling="loop")``): one call of
    ``numpy.random.Generator.choice(p, size=counts[u], replace=False,
    p=weights[u] / weights[u].sum())`` per row.

    Parameters
    ----------
    weights : array_like, shape (b, p)
        Non-negative, finite weights, one row per user.
    counts : array_like of int, shape (b,)
        Number of items to draw for each row (at most the number of positive weights).
    seed : int or numpy.random.Generator
        Seed or generator.

    Returns
    -------
    ndarray of bool, shape (b, p)
        ``True`` at the drawn items.  Same distribution as
        :func:`_sample_without_replacement`, different random stream.

    Raises
    ------
    ValueError
        As :func:`_sample_without_replacement`.
    """
    W = _check_weights(weights)
    k = _check_counts(counts, W)
    rng = as_generator(seed)
    b, p = W.shape
    drawn = np.zeros((b, p), dtype=bool)
    for u in range(b):
        if k[u] == 0:
            continue
        row = W[u] / W[u].sum()
        drawn[u, rng.choice(p, size=int(k[u]), replace=False, p=row)] = True
    return drawn


# --------------------------------------------------------------------------- the simulated data


@dataclass(frozen=True, eq=False)
class SimulatedInteractions:
    """A draw of the paper's simulated user-item data, with every latent quantity kept.

    Returned by :func:`simulate_clustered_interactions`; all arrays are read-only.

    Attributes
    ----------
    X : ndarray, shape (n_users, n_items)
        The 0/1 interaction matrix, in the dtype asked for (float32 by default).
    clusters : ndarray of int64, shape (n_items,)
        Cluster ``c_i`` of every item, in ``0 .. n_clusters - 1``.
    popularity : ndarray of float64, shape (n_items,)
        Baseline popularity ``p_i = rank_i ** (-beta_{c_i})``, where ``rank_i``
        is the item's popularity rank (1 = most popular) within its cluster; the
        most popular item of every cluster has ``p_i = 1``.
    cluster_probabilities : ndarray of float64, shape (n_clusters,)
        The ``p_c`` the items were assigned with.
    exponents : ndarray of float64, shape (n_clusters,)
        The power-law exponents ``beta_c``.
    preferences : ndarray of float64, shape (n_users, n_clusters)
        The users' cluster preferences ``p_uc`` (each row sums to 1).
    activity : ndarray of int64, shape (n_users,)
        The number of items ``k_u`` each user drew (the row sums of ``X``),
        after the clipping described in :func:`simulate_clustered_interactions`.
    """

    X: np.ndarray
    clusters: np.ndarray
    popularity: np.ndarray
    cluster_probabilities: np.ndarray
    exponents: np.ndarray
    preferences: np.ndarray
    activity: np.ndarray

    def __post_init__(self) -> None:
        for name in ("X", "clusters", "popularity", "cluster_probabilities", "exponents", "preferences", "activity"):
            array = np.asarray(getattr(self, name))
            array.setflags(write=False)
            object.__setattr__(self, name, array)

    @property
    def n_users(self) -> int:
        """Number of users (rows of ``X``)."""
        return self.X.shape[0]

    @property
    def n_items(self) -> int:
        """Number of items (columns of ``X``)."""
        return self.X.shape[1]

    @property
    def n_clusters(self) -> int:
        """Number of clusters ``C`` (some may be empty when ``n_items`` is small)."""
        return self.cluster_probabilities.shape[0]

    def cluster_sizes(self) -> np.ndarray:
        """Number of items in each cluster, shape (n_clusters,)."""
        return np.bincount(self.clusters, minlength=self.n_clusters)

    def true_similarity(self) -> np.ndarray:
        """The ground-truth item-item similarity: 1 within a cluster, 0 across.

        Returns
        -------
        ndarray of float64, shape (n_items, n_items)
            Symmetric, ones on the diagonal.  Computed on each call (8 MB at
            the paper's 1,000 items), not stored.
        """
        return np.equal.outer(self.clusters, self.clusters).astype(np.float64)

    def item_order(self) -> np.ndarray:
        """The paper's display order: by cluster, then by descending baseline popularity.

        Returns
        -------
        ndarray of int64, shape (n_items,)
            A permutation of the items; ``S[np.ix_(order, order)]`` is a
            similarity matrix laid out as in the paper's Figure 1.  Equal
            popularities keep index order.
        """
        return np.lexsort((np.arange(self.n_items), -self.popularity, self.clusters))

    def interaction_probabilities(self, users=None) -> np.ndarray:
        """The paper's ``p_ui = p_{u c_i} p_i / sum_j p_{u c_j} p_j`` for some users.

        Parameters
        ----------
        users : array_like of int or slice, optional
            Which users (rows); all of them if omitted (160 MB in float64 at
            the paper's size, so prefer a subset).

        Returns
        -------
        ndarray of float64, shape (len(users), n_items)
            Each row sums to 1: the probabilities of the first draw of that
            user.  A row is all zero only if the user prefers only empty clusters.
        """
        rows = self.preferences if users is None else self.preferences[users]
        rows = np.atleast_2d(rows)
        weights = rows[:, self.clusters] * self.popularity
        totals = weights.sum(axis=1, keepdims=True)
        return np.divide(weights, totals, out=np.zeros_like(weights), where=totals > 0)


def _draw_activity(
    rng: np.random.Generator, n_users: int, exponent: float, model: str, low: int, high: int
) -> np.ndarray:
    """Integer activities in ``low .. high`` (see :func:`simulate_clustered_interactions`)."""
    if model == "power":
        # floor(Y), Y with density proportional to y**(-exponent) on [low, high + 1): inverse CDF.
        u = rng.random(n_users)
        a, b = float(low), float(high + 1)
        if exponent == 1.0:
            y = a * (b / a) ** u
        else:
            e = 1.0 - exponent
            y = (a**e + u * (b**e - a**e)) ** (1.0 / e)
        k = np.floor(y)
    else:  # "zipf": activity proportional to (user rank) ** (-exponent), the most active user at `high`
        ranks = rng.permutation(n_users) + 1.0
        k = np.rint(high * ranks ** (-exponent))
    return np.clip(k, low, high).astype(np.int64)


def simulate_clustered_interactions(
    n_users: int = 20_000,
    n_items: int = 1_000,
    n_clusters: int = 5,
    *,
    cluster_concentration: float = np.inf,
    exponent_range: tuple[float, float] = (0.25, 1.5),
    preference_concentration: float = 1.0,
    activity_exponent: float = 0.5,
    activity_model: str = "power",
    min_activity: int = 1,
    max_activity: int | None = None,
    dtype=np.float32,
    sampling: str = "gumbel",
    block_size: int = 2048,
    seed=0,
) -> SimulatedInteractions:
    """Simulate the clustered, power-law interaction data of the paper's experiment.

    Used in ``chapters/simulation.md`` ("Reproducing the paper's experiment")
    to reproduce the paper's Figure 1 at full scale.

    The generative model (section 4 of the paper), with this function's choice
    for every point the paper leaves open:

    1. Cluster probabilities ``p_c``: equal (``1/C``) by default; for a finite
       ``cluster_concentration`` they are drawn from
       ``Dirichlet(cluster_concentration, ..., cluster_concentration)``.  Each
       item is assigned to a cluster independently with probabilities ``p_c``.
    2. Exponents ``beta_c ~ Unif(exponent_range)``, one per cluster.
    3. Baseline popularity ``p_i = rank_i ** (-beta_{c_i})``, where the ranks
       ``1 .. n_c`` within each cluster are a uniformly random permutation of its items.
    4. Cluster preferences ``p_u ~ Dirichlet(preference_concentration, ...)``,
       independently for every user (``np.inf``: every user ``1/C``).
    5. Activity ``k_u``, an integer in ``min_activity .. max_activity``
       (``activity_model``, below), then clipped to the number of items
       the user can draw: ``n_items``, or fewer if some ``p_uc`` is exactly 0
       (small concentrations produce such draws).
    6. ``p_ui = p_{u c_i} p_i / sum_j p_{u c_j} p_j``; user ``u`` draws ``k_u``
       distinct items by successive sampling with these probabilities
       (:func:`_sample_without_replacement`), and ``X[u, i] = 1`` for them.

    Parameters
    ----------
    n_users, n_items : int
        Size of ``X``; the paper's 20,000 x 1,000 by default.  Both >= 1.
    n_clusters : int
        Number of clusters ``C``, ``1 <= C <= n_items``; the paper's 5 by default.
    cluster_concentration : float, default ``np.inf``
        ``> 0``.  ``np.inf`` gives equal ``p_c = 1/C`` (the limit of the
        symmetric Dirichlet); a finite value draws ``p_c`` from the symmetric
        Dirichlet with that concentration (1.0: uniform over all probability
        vectors; at the paper's size that often gives a cluster of only a few
        items).  Default: the paper names ``p_c`` but gives no values, and
        equal probabilities add no assumption; the C clusters then all have
        about ``n_items / C`` items and all show in the figure.
    exponent_range : (float, float), default (0.25, 1.5)
        ``0 <= low <= high``, finite: the paper's ``beta_c ~ Unif(0.25, 1.5)``.
    preference_concentration : float, default 1.0
        ``> 0`` or ``np.inf``: the users' ``p_uc`` are drawn from the symmetric
        Dirichlet with this concentration.  Default 1.0, the uniform
        distribution over all preference vectors (the paper gives none).
        Smaller values make users stick to fewer clusters, so the clusters show
        more sharply in ``X``; ``np.inf`` removes every user preference.
    activity_exponent : float, default 0.5
        ``a >= 0`` in the paper's ``k_u ~ PowerLaw(0.5)``.
    activity_model : {"power", "zipf"}, default "power"
        How ``PowerLaw(a)`` becomes an integer activity.
        ``"power"``: ``k_u = floor(Y)`` with ``Y`` drawn from the density
        proportional to ``y ** (-a)`` on ``[min_activity, max_activity + 1)``,
        so ``P(k_u = k)`` is the density's mass on ``[k, k + 1)``.
        ``"zipf"``: ``k_u = round(max_activity * r_u ** (-a))``, clipped below
        at ``min_activity``, with ``r_u`` a uniformly random rank ``1 .. n_users``
        (a power law in the user's rank, as for item popularity).
        Default ``"power"``: the paper writes ``k_u ~ PowerLaw(0.5)``, a draw
        from a distribution; a power-law density with exponent below 1 is
        normalisable only on a bounded range, and the range a user's count can
        take is ``1 .. n_items``.  At the paper's size this gives a mean
        activity near 340 items; ``"zipf"`` gives a mean near 14 and a much
        smaller ``X`` (singular values about 15 times smaller), which changes
        what the paper's penalties do (see Notes).
    min_activity : int, default 1
        Smallest activity, ``1 <= min_activity <= n_items``.
    max_activity : int or None, default None (= ``n_items``)
        Largest activity, ``>= min_activity``.  Values above ``n_items`` are
        allowed; draws above ``n_items`` are then clipped to ``n_items`` (a user
        cannot draw more distinct items than exist).
    dtype : {numpy.float32, numpy.float64, numpy.uint8, bool}, default float32
        Storage of ``X``.  All hold 0/1 exactly and every cossim function
        accepts them; float32 is the default because it is half the memory of
        float64 (80 MB at the paper's size) and is what
        :func:`cossim.top_svd` computes the Gram matrix in anyway, so the
        fits on it are the fastest.
    sampling : {"gumbel", "loop"}, default "gumbel"
        ``"gumbel"``: :func:`_sample_without_replacement`, vectorised over a
        block of users.  ``"loop"``: :func:`_naive_sample_without_replacement`,
        one ``Generator.choice`` call per user (the slow reference; same
        distribution, different random stream).
    block_size : int, default 2048
        Users per block in the vectorised sampler; the sampler's temporary
        memory is a few ``block_size x n_items`` float64 arrays (16 MB each
        by default).
    seed : int or numpy.random.Generator, default 0
        The only source of randomness; the same seed gives the same data.

    Returns
    -------
    SimulatedInteractions
        ``X`` with the clusters, popularities, exponents, preferences and
        activities it was drawn from.

    Raises
    ------
    ValueError
        Naming the argument, for a size that is not a positive integer,
        ``n_clusters > n_items``, a concentration that is not positive, a
        negative or non-finite exponent, an inverted ``exponent_range``,
        activity bounds out of range, an unknown ``activity_model``, ``sampling``
        or ``dtype``, or a bad ``seed``.

    Notes
    -----
    **Popularity.**  ``PowerLaw(beta)`` for the popularity is read as Zipf's
    law within the cluster: popularity falls as ``rank ** (-beta)``, the
    usual description of item popularity in recommendation data (a straight
    line of slope ``-beta`` on a log-log rank plot).  It is bounded, so no
    single item can take all the mass even for ``beta = 0.25`` (a Pareto draw
    with tail index 0.25 would), and the exponents 0.25 to 1.5 then span
    catalogues from nearly flat to strongly head-heavy.  The most popular item
    of every cluster has ``p_i = 1``; so a cluster with more items and a
    smaller exponent carries more total baseline mass.  ``p_ui`` does not
    change if all ``p_i`` are multiplied by one constant.

    **Scale and the penalties.**  Objective (2) at the paper's ``lam = 100``
    keeps only the directions with singular value ``sigma_i > 100``, and the
    shrinkage of objective (1) at ``lam = 10,000`` is 1/2 exactly at
    ``sigma_i = 100``.  With the defaults and ``seed=0``, ``sigma_1`` is about
    2,160, ``sigma_50`` about 48, and 10 of the top 50 singular values exceed
    100 (seeds 1 and 2: 11 and 10), so (2) keeps 10 of the 50 directions.
    With ``activity_model="zipf"`` ``sigma_1`` is about 155 and only one
    exceeds 100, so (2) keeps a single direction and every item-item cosine
    of its embeddings is 1.  The default reading was chosen on the argument
    above, not to match the paper's figure; that it also gives the paper's
    penalties something to do is consistent with it, not a proof of it.

    **Clusters.**  With a finite ``cluster_concentration`` or a small
    ``n_items`` a cluster can be empty; ``n_clusters`` still counts it.

    Examples
    --------
    >>> data = simulate_clustered_interactions(200, 50, 3, seed=1)
    >>> data.X.shape, data.X.dtype
    ((200, 50), dtype('float32'))
    >>> bool((data.X.sum(axis=1) == data.activity).all())
    True
    """
    n_users = check_count(n_users, "n_users")
    n_items = check_count(n_items, "n_items")
    n_clusters = check_rank(n_clusters, n_items, "n_clusters")
    cluster_concentration = _concentration(cluster_concentration, "cluster_concentration")
    preference_concentration = _concentration(preference_concentration, "preference_concentration")
    try:
        low_beta, high_beta = exponent_range
    except (TypeError, ValueError) as error:
        raise ValueError(f"exponent_range must be a pair (low, high), got {exponent_range!r}") from error
    low_beta = _nonnegative_real(low_beta, "exponent_range")
    high_beta = _nonnegative_real(high_beta, "exponent_range")
    if low_beta > high_beta:
        raise ValueError(f"exponent_range must have low <= high, got {exponent_range!r}")
    activity_exponent = _nonnegative_real(activity_exponent, "activity_exponent")
    if activity_model not in _ACTIVITY_MODELS:
        raise ValueError(f"activity_model must be one of {_ACTIVITY_MODELS}, got {activity_model!r}")
    min_activity = check_count(min_activity, "min_activity")
    if min_activity > n_items:
        raise ValueError(f"min_activity must be <= n_items = {n_items}, got {min_activity}")
    if max_activity is None:
        max_activity = n_items
    max_activity = check_count(max_activity, "max_activity")
    if max_activity < min_activity:
        raise ValueError(f"max_activity must be >= min_activity = {min_activity}, got {max_activity}")
    try:
        dtype = np.dtype(dtype)
    except TypeError as error:
        raise ValueError(f"dtype must be one of float32, float64, uint8, bool, got {dtype!r}") from error
    if dtype not in _DATA_DTYPES:
        raise ValueError(f"dtype must be one of float32, float64, uint8, bool, got {dtype}")
    if sampling not in _SAMPLING_METHODS:
        raise ValueError(f"sampling must be one of {_SAMPLING_METHODS}, got {sampling!r}")
    block_size = check_count(block_size, "block_size")
    rng = as_generator(seed)

    # 1. clusters
    if np.isinf(cluster_concentration):
        cluster_probabilities = np.full(n_clusters, 1.0 / n_clusters)
    else:
        cluster_probabilities = rng.dirichlet(np.full(n_clusters, cluster_concentration))
    clusters = rng.choice(n_clusters, size=n_items, p=cluster_probabilities).astype(np.int64)

    # 2-3. exponents and Zipf popularity within each cluster
    exponents = rng.uniform(low_beta, high_beta, size=n_clusters)
    popularity = np.empty(n_items)
    for c in range(n_clusters):
        members = np.flatnonzero(clusters == c)
        ranks = rng.permutation(members.size) + 1.0
        popularity[members] = ranks ** (-exponents[c])

    # 4. user preferences
    if np.isinf(preference_concentration):
        preferences = np.full((n_users, n_clusters), 1.0 / n_clusters)
    else:
        preferences = rng.dirichlet(np.full(n_clusters, preference_concentration), size=n_users)

    # 5. activity (clipped to the drawable items in step 6)
    high = min(max_activity, n_items)
    activity = _draw_activity(rng, n_users, activity_exponent, activity_model, min_activity, high)

    # 6. the interactions, block by block
    # Users are visited in order of activity, so that each block holds few distinct counts
    # (the vectorised sampler makes one np.partition call per distinct count in a block).
    # Weights p_{u c_i} p_i are formed with each user's largest p_uc scaled to 1 (p_ui only
    # depends on ratios), so they lie in (0, 1] except where p_uc = 0; users whose smallest
    # positive weight could fall below ~1e-290 are drawn with logarithms (see _draw).
    relative = preferences / preferences.max(axis=1, keepdims=True)
    smallest_relative = np.where(relative > 0, relative, np.inf).min(axis=1)
    log_users = smallest_relative * popularity.min() < _TINY_RELATIVE_WEIGHT
    X = np.zeros((n_users, n_items), dtype=dtype)
    by_activity = np.argsort(activity, kind="stable")
    for start in range(0, n_users, block_size):
        users = by_activity[start : start + block_size]
        weights = relative[users][:, clusters] * popularity
        # A user can draw only items of positive weight (p_uc can be exactly 0 for small concentrations).
        activity[users] = np.minimum(activity[users], np.count_nonzero(weights > 0, axis=1))
        if sampling == "gumbel":
            X[users] = _draw(weights, activity[users], rng, log_users[users])
        else:
            X[users] = _naive_sample_without_replacement(weights, activity[users], rng)

    return SimulatedInteractions(
        X=X,
        clusters=clusters,
        popularity=popularity,
        cluster_probabilities=cluster_probabilities,
        exponents=exponents,
        preferences=preferences,
        activity=activity,
    )
