"""Tests for cossim.simulate: the sampler against exact probabilities and the per-user loop, the generator."""

from __future__ import annotations

import itertools
import tracemalloc

import numpy as np
import pytest
from scipy import stats

from cossim import simulate as _simulate
from cossim.simulate import SimulatedInteractions, simulate_clustered_interactions

# The samplers behind simulate_clustered_interactions (private: no chapter calls them on their own).
sample_without_replacement = _simulate._sample_without_replacement
naive_sample_without_replacement = _simulate._naive_sample_without_replacement

# A small problem whose successive-sampling probabilities differ clearly from both wrong samplers
# below (with replacement, uniform); the last item has weight 0 and must never be drawn.
WEIGHTS = np.array([8.0, 5.0, 3.0, 2.0, 1.0, 1.0, 0.0])
COUNT = 3
#: |z| above this for any of the 6 + 15 inclusion frequencies fails a sampler (~1e-5 per statistic).
Z_LIMIT = 4.5


# --------------------------------------------------------------------------- exact reference


def _exact_inclusion(weights: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact P(i drawn) and P(i and j drawn) under successive sampling, by enumerating ordered draws."""
    p = weights.size
    single = np.zeros(p)
    pair = np.zeros((p, p))
    positive = np.flatnonzero(weights > 0)
    for sequence in itertools.permutations(positive, count):
        probability, remaining = 1.0, weights.sum()
        for item in sequence:
            probability *= weights[item] / remaining
            remaining -= weights[item]
        for item in sequence:
            single[item] += probability
        for i, j in itertools.combinations(sequence, 2):
            pair[i, j] += probability
            pair[j, i] += probability
    return single, pair


def _max_z(drawn: np.ndarray, weights: np.ndarray, count: int) -> float:
    """Largest |z| of the observed single and pair inclusion frequencies against the exact ones."""
    single, pair = _exact_inclusion(weights, count)
    rows = drawn.shape[0]
    positive = np.flatnonzero(weights > 0)
    observed_pair = (drawn.T.astype(np.int64) @ drawn.astype(np.int64)) / rows
    z = []
    for i in positive:
        z.append((drawn[:, i].mean() - single[i]) / np.sqrt(single[i] * (1 - single[i]) / rows))
    for i, j in itertools.combinations(positive, 2) if count >= 2 else ():
        z.append((observed_pair[i, j] - pair[i, j]) / np.sqrt(pair[i, j] * (1 - pair[i, j]) / rows))
    return float(np.max(np.abs(z)))


def _with_replacement(weights, counts, rng):
    """A wrong sampler: counts[u] draws WITH replacement (duplicates collapse)."""
    rng = np.random.default_rng(rng)
    weights = np.asarray(weights, dtype=float)
    drawn = np.zeros(weights.shape, dtype=bool)
    for u, k in enumerate(counts):
        drawn[u, rng.choice(weights.shape[1], size=k, replace=True, p=weights[u] / weights[u].sum())] = True
    return drawn


def _uniform(weights, counts, rng):
    """A wrong sampler: counts[u] distinct positive-weight items, uniformly."""
    rng = np.random.default_rng(rng)
    weights = np.asarray(weights, dtype=float)
    drawn = np.zeros(weights.shape, dtype=bool)
    for u, k in enumerate(counts):
        drawn[u, rng.choice(np.flatnonzero(weights[u] > 0), size=k, replace=False)] = True
    return drawn


# --------------------------------------------------------------------------- the sampler


def test_exact_reference_is_a_probability_model():
    single, pair = _exact_inclusion(WEIGHTS, COUNT)
    assert single.sum() == pytest.approx(COUNT)
    assert pair.sum() == pytest.approx(COUNT * (COUNT - 1))
    assert single[-1] == 0


@pytest.mark.parametrize(
    "sampler, rows",
    [(sample_without_replacement, 40_000), (naive_sample_without_replacement, 8_000)],
    ids=["gumbel", "loop"],
)
def test_samplers_match_exact_successive_sampling(sampler, rows):
    weights = np.tile(WEIGHTS, (rows, 1))
    drawn = sampler(weights, np.full(rows, COUNT), np.random.default_rng(20240308))
    assert drawn.dtype == bool and drawn.shape == weights.shape
    assert np.all(drawn.sum(axis=1) == COUNT)
    assert not drawn[:, -1].any()
    assert _max_z(drawn, WEIGHTS, COUNT) < Z_LIMIT


@pytest.mark.parametrize("wrong", [_with_replacement, _uniform], ids=["with replacement", "uniform"])
def test_the_statistical_check_rejects_wrong_samplers(wrong):
    rows = 8_000  # the smaller of the two sample sizes above: the check must still reject
    drawn = wrong(np.tile(WEIGHTS, (rows, 1)), np.full(rows, COUNT), 7)
    assert _max_z(drawn, WEIGHTS, COUNT) > 3 * Z_LIMIT


@pytest.mark.slow
def test_gumbel_and_loop_agree_with_each_other():
    rows = 8_000
    weights = np.tile(WEIGHTS, (rows, 1))
    fast = sample_without_replacement(weights, np.full(rows, COUNT), 11)
    slow = naive_sample_without_replacement(weights, np.full(rows, COUNT), 12)
    pooled = (fast.mean(axis=0) + slow.mean(axis=0)) / 2
    positive = WEIGHTS > 0
    z = (fast.mean(axis=0) - slow.mean(axis=0))[positive] / np.sqrt(
        pooled[positive] * (1 - pooled[positive]) * 2 / rows
    )
    assert np.max(np.abs(z)) < Z_LIMIT


def test_mixed_counts_in_one_call():
    """Rows with different counts (0, 1, ..., all positive items) in one block, shuffled."""
    rng = np.random.default_rng(3)
    positives = int(np.count_nonzero(WEIGHTS))
    counts = rng.permutation(np.repeat(np.arange(positives + 1), 6_000))
    weights = np.tile(WEIGHTS, (counts.size, 1))
    drawn = sample_without_replacement(weights, counts, rng)
    np.testing.assert_array_equal(drawn.sum(axis=1), counts)
    assert not drawn[:, -1].any()
    assert np.all(drawn[counts == positives, :-1])
    for count in range(1, positives):
        assert _max_z(drawn[counts == count], WEIGHTS, count) < Z_LIMIT


def test_rows_have_their_own_weights():
    weights = np.array([[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 2.0, 3.0], [1.0, 1.0, 1.0, 1.0]])
    drawn = sample_without_replacement(weights, [1, 2, 4], 0)
    np.testing.assert_array_equal(drawn, [[1, 0, 0, 0], [0, 0, 1, 1], [1, 1, 1, 1]])


def test_weights_spanning_hundreds_of_orders_of_magnitude():
    """Rows with a weight below 1e-290 of the row's largest take the log-space path: same distribution."""
    weights = np.array([2.0, 1e-300, 3.0, 1.0, 0.0])
    rows = 20_000
    drawn = sample_without_replacement(np.tile(weights, (rows, 1)), np.full(rows, 2), 1)
    assert not drawn[:, [1, 4]].any()
    assert _max_z(drawn, weights, 2) < Z_LIMIT
    # Only the tiny weight is left besides the zero: it must be drawn, never the zero-weight item.
    np.testing.assert_array_equal(sample_without_replacement([[1.0, 1e-320, 0.0]], [2], 0), [[1, 1, 0]])
    np.testing.assert_array_equal(sample_without_replacement([[1e300, 1e-30, 0.0, 0.0]], [2], 0), [[1, 1, 0, 0]])
    # A row of uniformly tiny weights is the same as its rescaled version.
    tiny = sample_without_replacement(np.tile([1e-310, 3e-310, 0.0], (rows, 1)), np.full(rows, 1), 2)
    assert abs(tiny[:, 1].mean() - 0.75) < Z_LIMIT * np.sqrt(0.75 * 0.25 / rows)


class _TiedClocks(np.random.Generator):
    """A generator whose exponential clocks all ring at once: every key of a row ties."""

    def standard_exponential(self, size=None, dtype=np.float64, method="zig", out=None):
        return np.ones(size)


def test_exact_ties_still_give_exactly_the_count():
    drawn = sample_without_replacement(np.ones((4, 6)), np.array([2, 0, 6, 5]), _TiedClocks(np.random.PCG64(0)))
    np.testing.assert_array_equal(drawn.sum(axis=1), [2, 0, 6, 5])


def test_sampler_is_deterministic_given_the_seed():
    rng = np.random.default_rng(0)
    weights = rng.random((50, 30))
    counts = rng.integers(0, 31, size=50)
    first = sample_without_replacement(weights, counts, 5)
    np.testing.assert_array_equal(first, sample_without_replacement(weights, counts, np.random.default_rng(5)))
    assert not np.array_equal(first, sample_without_replacement(weights, counts, 6))


def test_integer_weights_are_accepted():
    drawn = sample_without_replacement(np.array([[1, 2, 3]]), np.array([2]), 0)
    assert drawn.sum() == 2


@pytest.mark.parametrize("sampler", [sample_without_replacement, naive_sample_without_replacement])
@pytest.mark.parametrize(
    "weights, counts, rng, name",
    [
        ([1.0, 2.0], [1], 0, "weights"),
        ([[1.0, -2.0]], [1], 0, "weights"),
        ([[1.0, np.nan]], [1], 0, "weights"),
        ([[1.0, np.inf]], [1], 0, "weights"),
        ([[True, False]], [1], 0, "weights"),
        (np.ones((2, 0)), [0, 0], 0, "weights"),
        ([[1.0, 2.0]], [1, 1], 0, "counts"),
        ([[1.0, 2.0]], [1.0], 0, "counts"),
        ([[1.0, 2.0]], [-1], 0, "counts"),
        ([[1.0, 0.0]], [2], 0, "counts"),
        ([[1.0, 2.0]], [1], "seed", "seed"),
        ([[1.0, 2.0]], [1], True, "seed"),
    ],
)
def test_sampler_rejects_bad_input(sampler, weights, counts, rng, name):
    with pytest.raises(ValueError, match=name):
        sampler(weights, counts, rng)


# --------------------------------------------------------------------------- the generator


@pytest.fixture(scope="module")
def small() -> SimulatedInteractions:
    return simulate_clustered_interactions(3_000, 60, 4, seed=1)


def test_shapes_dtypes_and_consistency(small):
    n, p, C = 3_000, 60, 4
    assert small.X.shape == (n, p) and small.X.dtype == np.float32
    assert (small.n_users, small.n_items, small.n_clusters) == (n, p, C)
    assert set(np.unique(small.X)) <= {0.0, 1.0}
    np.testing.assert_array_equal(small.X.sum(axis=1), small.activity)
    assert small.clusters.dtype == np.int64 and small.clusters.min() >= 0 and small.clusters.max() < C
    assert small.cluster_sizes().sum() == p
    np.testing.assert_allclose(small.preferences.sum(axis=1), 1.0)
    np.testing.assert_array_equal(small.cluster_probabilities, np.full(C, 1 / C))
    assert np.all((small.exponents >= 0.25) & (small.exponents <= 1.5))
    assert np.all((small.activity >= 1) & (small.activity <= p))


def test_popularity_is_zipf_within_each_cluster(small):
    for c in range(small.n_clusters):
        members = small.clusters == c
        observed = np.sort(small.popularity[members])[::-1]
        expected = np.arange(1, members.sum() + 1.0) ** (-small.exponents[c])
        np.testing.assert_allclose(observed, expected, rtol=1e-15)


def test_arrays_are_read_only(small):
    for name in ("X", "clusters", "popularity", "cluster_probabilities", "exponents", "preferences", "activity"):
        with pytest.raises(ValueError):
            getattr(small, name)[0] = 0


def test_true_similarity_item_order_and_probabilities(small):
    truth = small.true_similarity()
    np.testing.assert_array_equal(truth, small.clusters[:, None] == small.clusters[None, :])
    order = small.item_order()
    np.testing.assert_array_equal(np.sort(order), np.arange(small.n_items))
    assert np.all(np.diff(small.clusters[order]) >= 0)
    for c in range(small.n_clusters):
        in_cluster = order[small.clusters[order] == c]
        assert np.all(np.diff(small.popularity[in_cluster]) <= 0)
    probabilities = small.interaction_probabilities([0, 5])
    for row, u in zip(probabilities, [0, 5]):
        weights = small.preferences[u, small.clusters] * small.popularity
        np.testing.assert_allclose(row, weights / weights.sum(), rtol=1e-14)
    assert small.interaction_probabilities().shape == (small.n_users, small.n_items)


def test_items_are_drawn_as_p_ui_says(small):
    """Column sums of X against the gumbel sampler's expectation, estimated by the loop sampler."""
    loop = simulate_clustered_interactions(3_000, 60, 4, seed=1, sampling="loop")
    np.testing.assert_array_equal(loop.activity, small.activity)  # same latent draws for the same seed
    np.testing.assert_array_equal(loop.preferences, small.preferences)
    fast, slow = small.X.sum(axis=0), loop.X.sum(axis=0)
    # Each column sum is a sum of independent Bernoullis: its variance is below its mean.
    assert np.all(np.abs(fast - slow) <= 5 * np.sqrt(fast + slow + 1))


def test_determinism_and_seeds():
    first = simulate_clustered_interactions(200, 30, 3, seed=4)
    second = simulate_clustered_interactions(200, 30, 3, seed=np.random.default_rng(4))
    np.testing.assert_array_equal(first.X, second.X)
    np.testing.assert_array_equal(first.popularity, second.popularity)
    assert not np.array_equal(first.X, simulate_clustered_interactions(200, 30, 3, seed=5).X)


def test_blocking_does_not_change_the_distribution_only_the_stream():
    a = simulate_clustered_interactions(500, 30, 3, seed=2, block_size=7)
    b = simulate_clustered_interactions(500, 30, 3, seed=2, block_size=10_000)
    np.testing.assert_array_equal(a.activity, b.activity)
    np.testing.assert_array_equal(a.X.sum(axis=1), b.X.sum(axis=1))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint8, bool])
def test_dtypes(dtype):
    data = simulate_clustered_interactions(100, 20, 2, dtype=dtype, seed=0)
    assert data.X.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(data.X.astype(int).sum(axis=1), data.activity)


def test_dirichlet_cluster_probabilities():
    data = simulate_clustered_interactions(50, 400, 6, cluster_concentration=1.0, seed=3)
    assert data.cluster_probabilities.sum() == pytest.approx(1.0)
    assert np.ptp(data.cluster_probabilities) > 0
    sizes = data.cluster_sizes()
    expected = 400 * data.cluster_probabilities
    assert np.all(np.abs(sizes - expected) <= 5 * np.sqrt(expected + 1))


def _power_pmf(low: int, high: int, a: float) -> np.ndarray:
    """P(k) for k = low..high under the default activity model (floor of a bounded power law)."""
    edges = np.arange(low, high + 2, dtype=float)
    if a == 1.0:
        cdf = np.log(edges)
    else:
        cdf = edges ** (1 - a)
    mass = np.diff(cdf)
    return mass / mass.sum()


@pytest.mark.parametrize("exponent", [0.5, 1.0, 1.7, 0.0])
def test_power_activity_has_the_stated_distribution(exponent):
    n_users, n_items, low = 40_000, 25, 3
    data = simulate_clustered_interactions(
        n_users, n_items, 1, activity_exponent=exponent, min_activity=low, seed=8, dtype=bool
    )
    observed = np.bincount(data.activity, minlength=n_items + 1)[low:]
    expected = n_users * _power_pmf(low, n_items, exponent)
    assert observed.sum() == n_users
    assert stats.chisquare(observed, expected).pvalue > 1e-4


def test_zipf_activity_is_a_power_law_in_the_users_rank():
    data = simulate_clustered_interactions(
        400, 100, 2, activity_model="zipf", activity_exponent=0.5, min_activity=2, seed=0, dtype=bool
    )
    ranks = np.arange(1, 401.0)
    expected = np.clip(np.rint(100 * ranks**-0.5), 2, 100)
    np.testing.assert_array_equal(np.sort(data.activity)[::-1], expected)


def test_activity_is_clipped_to_the_drawable_items():
    data = simulate_clustered_interactions(
        300, 30, 3, preference_concentration=1e-3, min_activity=25, max_activity=500, seed=0
    )
    weights = data.preferences[:, data.clusters] * data.popularity
    drawable = np.count_nonzero(weights > 0, axis=1)
    short = drawable < 25
    assert np.any(short)  # some users prefer a single cluster of about 10 items (the other p_uc are 0)
    assert np.all(data.activity <= drawable)
    np.testing.assert_array_equal(data.activity[short], drawable[short])
    np.testing.assert_array_equal(data.X.sum(axis=1), data.activity)
    assert data.activity.max() <= 30


def test_max_activity_above_n_items_is_clipped():
    data = simulate_clustered_interactions(200, 10, 2, min_activity=5, max_activity=10_000, seed=0)
    assert data.activity.max() == 10 and data.activity.min() >= 5


def test_no_preference_means_no_cluster_signal_in_the_weights():
    data = simulate_clustered_interactions(20, 30, 3, preference_concentration=np.inf, seed=0)
    np.testing.assert_array_equal(data.preferences, np.full((20, 3), 1 / 3))


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"n_users": 0}, "n_users"),
        ({"n_users": 2.5}, "n_users"),
        ({"n_items": -1}, "n_items"),
        ({"n_items": 3, "n_clusters": 4}, "n_clusters"),
        ({"n_clusters": 0}, "n_clusters"),
        ({"cluster_concentration": 0.0}, "cluster_concentration"),
        ({"cluster_concentration": -1.0}, "cluster_concentration"),
        ({"preference_concentration": float("nan")}, "preference_concentration"),
        ({"exponent_range": (-0.1, 1.0)}, "exponent_range"),
        ({"exponent_range": (1.5, 0.25)}, "exponent_range"),
        ({"exponent_range": (0.25, np.inf)}, "exponent_range"),
        ({"exponent_range": 0.5}, "exponent_range"),
        ({"activity_exponent": -0.5}, "activity_exponent"),
        ({"activity_model": "pareto"}, "activity_model"),
        ({"min_activity": 0}, "min_activity"),
        ({"n_items": 10, "n_clusters": 2, "min_activity": 11}, "min_activity"),
        ({"min_activity": 5, "max_activity": 4}, "max_activity"),
        ({"dtype": np.int32}, "dtype"),
        ({"dtype": "no such dtype"}, "dtype"),
        ({"sampling": "fast"}, "sampling"),
        ({"block_size": 0}, "block_size"),
        ({"seed": -1}, "seed"),
        ({"seed": "zero"}, "seed"),
    ],
)
def test_generator_rejects_bad_parameters(kwargs, name):
    arguments = {"n_users": 10, "n_items": 20, "n_clusters": 2} | kwargs
    with pytest.raises(ValueError, match=name):
        simulate_clustered_interactions(**arguments)


def test_paper_scale_memory_and_defaults():
    """The default (paper-size) draw: 20,000 x 1,000 float32, Python-allocated peak well under 1 GB."""
    tracemalloc.start()
    try:
        data = simulate_clustered_interactions()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert data.X.shape == (20_000, 1_000) and data.X.dtype == np.float32
    assert peak < 400e6, f"peak {peak / 1e6:.0f} MB"
    assert 300 < data.activity.mean() < 390  # mean of floor(Y), Y ~ y**-0.5 on [1, 1001): about 344
    np.testing.assert_array_equal(data.X.sum(axis=1), data.activity)
