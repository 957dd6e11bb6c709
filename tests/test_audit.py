"""Tests for cossim.audit: neighbour_stability against a brute-force reference (exact, tiled, sampled,
memory-mapped), gauge_free_items against the score matrix, the interval and the verdict.

The command line is tested in tests/test_cli.py."""

from __future__ import annotations

import dataclasses
import doctest
import math
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

import cossim
import cossim.audit
from cossim.audit import (
    DEFAULT_GAMMAS,
    FLAT_SPREAD,
    NeighbourStabilityResult,
    _default_block_size,  # private: its memory budget is tested here
    audit_verdict,
    gauge_free_items,
    neighbour_stability,
)

# --------------------------------------------------------------------------- brute-force reference

#: Cosines closer than this (but not equal) are a near-tie that rounding may decide either way.
NEAR_TIE = 1e-10


def _unit(E):
    return [row / math.sqrt(math.fsum(row * row)) if np.any(row != 0) else row for row in np.asarray(E)]


def _brute_ranking(E, zero):
    """For every nonzero item: all other nonzero items as (cosine, index), best first, ties by index.

    Cosines are correctly rounded sums (math.fsum) of the unit rows: no blocking, no float32, a
    full sort of every row of the full cosine matrix.
    """
    U = _unit(E)
    p = len(U)
    ranking = []
    for i in range(p):
        if zero[i]:
            ranking.append(None)
            continue
        pairs = [(math.fsum(U[i] * U[j]), j) for j in range(p) if j != i and not zero[j]]
        ranking.append(sorted(pairs, key=lambda pair: (-pair[0], pair[1])))
    return ranking


def _brute_force(B, top, gammas):
    """Neighbour lists under B and every B_gamma = B Q Lambda^gamma Q^T (gauge written out in full)."""
    B = np.asarray(B, dtype=float)
    p, k = B.shape
    _, s, Vt = np.linalg.svd(B, full_matrices=False)
    nonzero = s > max(p, k) * np.finfo(float).eps * s[0]
    zero = ~np.any(B != 0, axis=1)
    rankings = []
    for gamma in [0.0, *gammas]:
        weights = np.where(nonzero, np.where(nonzero, s, 1.0) ** gamma, 1.0)
        M = (Vt.T * weights) @ Vt + (np.eye(k) - Vt.T @ Vt)  # identity off the row space of B
        rankings.append(_brute_ranking(B if gamma == 0 else B @ M, zero))
    return rankings, zero


def _comparable(ranking, top, B):
    """False if the reference ranking of one item has a near-tie that decides its first top+1 places.

    Exact ties between identical rows of B are fine (both sides order them by index).
    """
    head = ranking[: top + 1]
    for (first, i), (second, j) in zip(head, head[1:]):
        gap = first - second
        if gap == 0 and np.array_equal(B[i], B[j]):
            continue
        if gap <= NEAR_TIE:
            return False
    return True


def _random_embeddings(rng, p, k, duplicates=False, zero_rows=0):
    B = rng.standard_normal((p, k)) * np.exp(-rng.uniform(0.0, 2.0) * np.arange(k))
    if duplicates:
        source = rng.integers(p)
        B[rng.choice(p, size=min(3, p), replace=False)] = B[source]
    if zero_rows:
        B[rng.choice(p, size=zero_rows, replace=False)] = 0.0
    return B


CASES = [
    # (seed, p, k, top, block_size, duplicates, zero_rows)
    (0, 7, 3, 2, 3, False, 0),
    (1, 23, 5, 4, 5, True, 0),
    (2, 40, 6, 10, 7, False, 2),
    (3, 31, 4, 30, 4, False, 0),
    (4, 50, 8, 1, 13, True, 1),
    (5, 29, 29, 5, None, False, 0),
    (6, 60, 3, 12, 1, True, 3),
    (7, 12, 20, 3, 100, False, 0),
]


@pytest.mark.parametrize(("seed", "p", "k", "top", "block_size", "duplicates", "zero_rows"), CASES)
def test_agrees_with_brute_force(seed, p, k, top, block_size, duplicates, zero_rows):
    rng = np.random.default_rng(seed)
    B = _random_embeddings(rng, p, k, duplicates, zero_rows)
    gammas = [-1.0, -0.5, 0.0, 0.3, 1.0, 2.0]
    result = neighbour_stability(B, top=top, gammas=gammas, block_size=block_size)
    rankings, zero = _brute_force(B, top, gammas)

    compared = 0
    for index, ranking in enumerate(rankings):
        got = result.reference_neighbours if index == 0 else result.neighbours[index - 1]
        for item in range(p):
            if zero[item]:
                assert np.all(got[item] == -1)
                continue
            if not _comparable(ranking[item], top, B):
                continue
            compared += 1
            assert got[item].tolist() == [j for _, j in ranking[item][:top]], (index, item)
    assert compared >= 0.6 * (len(gammas) + 1) * (p - zero_rows)

    # Overlaps and nearest-neighbour changes follow from the lists, exactly as defined.
    valid = ~zero
    for index in range(len(gammas)):
        current, reference = result.neighbours[index], result.reference_neighbours
        expected = [len(set(current[i]) & set(reference[i])) / top for i in np.flatnonzero(valid)]
        np.testing.assert_array_equal(result.overlaps[index, valid], expected)
        assert np.all(np.isnan(result.overlaps[index, zero]))
        assert result.mean_overlap[index] == pytest.approx(np.mean(expected), abs=1e-15)
        changed = np.mean(current[valid, 0] != reference[valid, 0])
        assert result.nearest_changed[index] == pytest.approx(changed, abs=1e-15)


def test_duplicates_tie_and_are_ordered_by_index():
    rng = np.random.default_rng(11)
    B = rng.standard_normal((9, 3))
    B[[2, 5, 7]] = B[4]  # items 2, 4, 5, 7 are one embedding
    for gammas in ([0.0], [-1.0], [0.7]):
        result = neighbour_stability(B, top=3, gammas=gammas, block_size=2)
        lists = result.neighbours[0]
        assert lists[4].tolist() == [2, 5, 7]  # cosine 1 with each copy: lowest indices first
        assert lists[2].tolist() == [4, 5, 7]
        assert lists[7].tolist() == [2, 4, 5]
        for other in (0, 1, 3, 6, 8):  # the copies tie for everyone else too: they come in index order
            copies = [j for j in lists[other] if j in (2, 4, 5, 7)]
            assert copies == sorted(copies)


def test_exact_ties_at_the_cut_off_take_the_lowest_indices():
    # Item 0 points between the axes; items 1-4 lie on the axes, two each: four exactly equal cosines.
    B = np.array(
        [[1.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 2.0, 0.0], [3.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    )
    result = neighbour_stability(B, top=3, gammas=[0.0], block_size=4)
    assert result.reference_neighbours[0].tolist() == [1, 2, 3]
    assert result.reference_neighbours[5].tolist() == [0, 1, 2]  # cosine 0 with all of 0-4
    # The same tie structure survives a scale of B, which changes no cosine.
    np.testing.assert_array_equal(neighbour_stability(1e-3 * B, top=3, gammas=[0.0]).reference_neighbours,
                                  result.reference_neighbours)


def test_massive_ties_are_ranked_in_bounded_groups(monkeypatch):
    # Every cosine is 1: each item's neighbours are the lowest other indices.  A tiny group limit
    # makes every block split its candidate search into many groups; the answer must not change.
    B = np.tile([[1.0, -2.0, 0.5]], (300, 1))
    expected = [[j for j in range(300) if j != i][:4] for i in range(300)]
    for limit in (cossim.audit._GROUP_ENTRIES, 1, 1000):
        monkeypatch.setattr(cossim.audit, "_GROUP_ENTRIES", limit)
        result = neighbour_stability(B, top=4, gammas=[-1.0, 1.0], block_size=64)
        assert result.reference_neighbours.tolist() == expected
        assert np.all(result.mean_overlap == 1.0)
    monkeypatch.undo()
    tracemalloc.start()
    try:
        neighbour_stability(np.tile([[1.0, 2.0]], (3000, 1)), top=3, gammas=[0.0], block_size=3000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < cossim.audit.MEMORY_BUDGET + 3000 * 3000 * 4 * 2


def test_block_size_never_changes_the_result():
    rng = np.random.default_rng(5)
    B = _random_embeddings(rng, 37, 6, duplicates=True, zero_rows=2)
    results = [neighbour_stability(B, top=5, block_size=size) for size in (1, 2, 6, 36, 37, 500, None)]
    for other in results[1:]:
        np.testing.assert_array_equal(other.neighbours, results[0].neighbours)
        np.testing.assert_array_equal(other.overlaps, results[0].overlaps)
    assert results[-1].block_size == _default_block_size(37) == 37
    assert results[-2].block_size == 37  # clipped to p


def test_gamma_zero_gives_overlap_one_and_the_reference_lists():
    rng = np.random.default_rng(2)
    B = _random_embeddings(rng, 80, 7)
    result = neighbour_stability(B, top=10)
    np.testing.assert_array_equal(result.gammas, DEFAULT_GAMMAS)
    zero_index = int(np.flatnonzero(result.gammas == 0.0)[0])
    assert result.mean_overlap[zero_index] == 1.0
    assert result.nearest_changed[zero_index] == 0.0
    assert np.all(result.overlaps[zero_index] == 1.0)
    np.testing.assert_array_equal(result.neighbours[zero_index], result.reference_neighbours)


def test_a_decaying_spectrum_changes_neighbours():
    rng = np.random.default_rng(8)
    B = _random_embeddings(rng, 200, 10)
    result = neighbour_stability(B, top=10, gammas=[-1.0, -0.5, 0.5, 1.0])
    assert np.all(result.mean_overlap < 1.0)
    assert np.all(result.nearest_changed > 0.0)
    # The further from gamma = 0, the more changes, on either side.
    assert result.mean_overlap[0] < result.mean_overlap[1]
    assert result.mean_overlap[3] < result.mean_overlap[2]


def test_docstring_example_whitening_changes_half_the_nearest_neighbours():
    B = np.array([[1.0, 2.0], [0.0, 4.0], [4.0, 2.0], [3.0, 3.0]])
    result = neighbour_stability(B, top=1, gammas=[-1.0, 0.0, 1.0])
    assert result.reference_neighbours.ravel().tolist() == [3, 0, 3, 0]
    assert result.neighbours[0].ravel().tolist() == [1, 0, 3, 2]
    np.testing.assert_array_equal(result.mean_overlap, [0.5, 1.0, 1.0])
    np.testing.assert_array_equal(result.nearest_changed, [0.5, 0.0, 0.0])


def test_doctests_of_the_module_pass():
    failures, attempted = doctest.testmod(cossim.audit, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert attempted > 0 and failures == 0


# --------------------------------------------------------------------------- properties


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    k=st.integers(1, 8),
    extra_items=st.integers(0, 30),
    scale=st.floats(1e-6, 1e6),
    top=st.integers(1, 5),
    zero_columns=st.integers(0, 2),
)
def test_orthogonal_columns_of_equal_length_make_every_gauge_trivial(seed, k, extra_items, scale, top, zero_columns):
    # B = scale * (orthonormal columns): every nonzero singular value equals `scale`, so
    # B Q Lambda^gamma Q^T = scale^gamma B and no cosine can move.  Extra zero columns lower the rank.
    rng = np.random.default_rng(seed)
    p = k + 1 + extra_items
    Q, _ = np.linalg.qr(rng.standard_normal((p, k)))
    B = np.hstack([scale * Q, np.zeros((p, zero_columns))])
    top = min(top, p - 1)
    result = neighbour_stability(B, top=top, gammas=[-1.0, -0.25, 0.5, 1.0, 3.0])
    np.testing.assert_array_equal(result.mean_overlap, 1.0)
    np.testing.assert_array_equal(result.nearest_changed, 0.0)
    assert result.rank == k


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), scale=st.floats(1e-100, 1e100))
def test_a_global_scale_changes_nothing(seed, scale):
    # Cosines ignore the scale of B, and scaling B scales every Lambda^gamma by a constant.
    rng = np.random.default_rng(seed)
    B = _random_embeddings(rng, 30, 4)
    first = neighbour_stability(B, top=4, gammas=[-1.0, 1.0])
    second = neighbour_stability(scale * B, top=4, gammas=[-1.0, 1.0])
    # Rounding may differ; the lists agree wherever they are not decided by a near-tie (here: all).
    np.testing.assert_array_equal(first.reference_neighbours, second.reference_neighbours)
    assert np.mean(first.neighbours == second.neighbours) > 0.99


def test_rank_deficient_embeddings_are_gauged_on_their_nonzero_part():
    # B2 = [B, B] has rank k and the same cosines as B under every gauge of the family
    # (B2 = P (sqrt(2) Lambda) Q2^T with Q2 = [Q; Q] / sqrt(2)): the zero singular values are skipped.
    rng = np.random.default_rng(4)
    B = _random_embeddings(rng, 40, 5)
    B2 = np.hstack([B, B])
    first = neighbour_stability(B, top=6, gammas=[-1.0, -0.5, 1.0])
    second = neighbour_stability(B2, top=6, gammas=[-1.0, -0.5, 1.0])
    assert second.rank == 5 and np.all(np.isfinite(second.mean_overlap))
    np.testing.assert_array_equal(first.neighbours, second.neighbours)
    np.testing.assert_allclose(second.singular_values[:5], np.sqrt(2) * first.singular_values, rtol=1e-12)


def test_extreme_gammas_stay_finite_and_quiet():
    rng = np.random.default_rng(9)
    B = _random_embeddings(rng, 50, 6) * np.array([1e6, 1e3, 1.0, 1e-3, 1e-6, 1e-9])
    result = neighbour_stability(B, top=5, gammas=[-80.0, -5.0, 5.0, 80.0])
    assert np.all((result.mean_overlap >= 0) & (result.mean_overlap <= 1))
    assert np.all(result.neighbours >= 0)


def test_zero_embeddings_have_no_neighbours_and_are_nobodys_neighbour():
    rng = np.random.default_rng(3)
    B = _random_embeddings(rng, 20, 4)
    B[[0, 7]] = 0.0
    result = neighbour_stability(B, top=5, gammas=[-1.0, 0.5])
    np.testing.assert_array_equal(result.zero_items, [0, 7])
    assert np.all(result.reference_neighbours[[0, 7]] == -1)
    assert np.all(result.neighbours[:, [0, 7]] == -1)
    assert not np.isin(result.neighbours[:, 1:7], [0, 7]).any()
    assert np.all(np.isnan(result.overlaps[:, [0, 7]]))
    assert np.all(np.isfinite(result.mean_overlap))
    np.testing.assert_allclose(result.mean_overlap, np.nanmean(result.overlaps, axis=1))
    assert set(result.least_stable(30).tolist()).isdisjoint({0, 7})
    assert result.least_stable(30).size == 18


def test_least_stable_orders_by_mean_overlap_then_index():
    rng = np.random.default_rng(12)
    result = neighbour_stability(_random_embeddings(rng, 60, 5), top=5)
    items = result.least_stable(60)
    keys = [(result.item_overlap[item], item) for item in items]
    assert keys == sorted(keys) and len(items) == 60
    np.testing.assert_allclose(result.item_overlap, result.overlaps.mean(axis=0))
    assert result.least_stable(0).size == 0
    with pytest.raises(ValueError, match="count"):
        result.least_stable(-1)


def test_the_result_is_frozen_and_read_only():
    result = neighbour_stability(_random_embeddings(np.random.default_rng(1), 10, 3), top=2)
    assert isinstance(result, NeighbourStabilityResult)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.top = 3
    for name in ("gammas", "mean_overlap", "overlaps", "nearest_changed", "neighbours", "reference_neighbours",
                 "items", "overlap_interval", "singular_values", "zero_items"):
        with pytest.raises(ValueError):
            getattr(result, name)[0] = 0


def test_memory_stays_far_below_the_full_cosine_matrix():
    p = 3000
    B = _random_embeddings(np.random.default_rng(0), p, 16)
    tracemalloc.start()
    try:
        neighbour_stability(B, top=10, gammas=[-1.0, 1.0], block_size=100)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 0.1 * p * p * 8, f"peak {peak / 1e6:.1f} MB"


def test_default_block_size_respects_the_memory_budget():
    for p in (2, 100, 20_000, 65_536, 65_537, 10**6):
        for queries in (None, 1, 2000):
            size = _default_block_size(p, queries)
            width = cossim.audit._tile_width(p, size)
            assert 1 <= size <= (p if queries is None else queries) and 1 <= width <= p
            assert size * width * cossim.audit._BYTES_PER_ENTRY <= cossim.audit.MEMORY_BUDGET
    assert cossim.audit._tile_width(20_000, _default_block_size(20_000)) == 20_000  # one tile: no merging
    assert _default_block_size(10**6, 2000) == 2000 and cossim.audit._tile_width(10**6, 2000) == 8388


def test_exported_from_the_package():
    assert cossim.neighbour_stability is neighbour_stability
    assert cossim.NeighbourStabilityResult is NeighbourStabilityResult
    assert cossim.gauge_free_items is gauge_free_items
    assert cossim.audit_verdict is audit_verdict


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"B": np.ones(5)}, "B"),
        ({"B": np.ones((2, 2, 2))}, "B"),
        ({"B": [[1.0, np.nan], [1.0, 2.0]]}, "B"),
        ({"B": [[1.0, np.inf], [1.0, 2.0]]}, "B"),
        ({"B": np.ones((0, 3))}, "B"),
        ({"B": [[1.0, 2.0]]}, "B"),
        ({"B": [["a", "b"], ["c", "d"]]}, "B"),
        ({"B": np.zeros((5, 2))}, "B"),
        ({"top": 0}, "top"),
        ({"top": 6}, "top"),
        ({"top": 2.0}, "top"),
        ({"top": True}, "top"),
        ({"gammas": []}, "gammas"),
        ({"gammas": [0.0, np.nan]}, "gammas"),
        ({"gammas": [[0.0, 1.0]]}, "gammas"),
        ({"gammas": 0.5}, "gammas"),
        ({"block_size": 0}, "block_size"),
        ({"block_size": -3}, "block_size"),
        ({"block_size": 2.5}, "block_size"),
        ({"block_size": True}, "block_size"),
    ],
)
def test_bad_arguments_raise_value_errors_naming_them(kwargs, name):
    arguments = {"B": np.random.default_rng(0).standard_normal((6, 3)), "top": 1, **kwargs}
    B = arguments.pop("B")
    with pytest.raises(ValueError, match=rf"^{name} "):
        neighbour_stability(B, **arguments)


def test_top_must_leave_room_beside_zero_items():
    B = np.eye(5)
    B[[1, 3]] = 0.0
    with pytest.raises(ValueError, match=r"^top must be at most 2 .*2 rows are zero"):
        neighbour_stability(B, top=3)
    assert neighbour_stability(B, top=2).reference_neighbours[0].tolist() == [2, 4]




# --------------------------------------------------------------------------- tiles, samples, memory maps


def _force_tiles(monkeypatch, block_size, width):
    """Make every block of `block_size` query rows see `width` items at a time."""
    monkeypatch.setattr(cossim.audit, "MEMORY_BUDGET", cossim.audit._BYTES_PER_ENTRY * block_size * width)


@pytest.mark.parametrize(("block_size", "width"), [(3, 1), (2, 5), (7, 9), (4, 40), (1, 23)])
def test_tiling_the_items_never_changes_the_result(monkeypatch, block_size, width):
    # Narrow tiles (down to one item, fewer than `top`) exercise the running lists and their merges.
    rng = np.random.default_rng(21)
    B = _random_embeddings(rng, 47, 6, duplicates=True, zero_rows=3)
    whole = neighbour_stability(B, top=5, gammas=[-1.0, 0.4, 1.0])
    _force_tiles(monkeypatch, block_size, width)
    tiled = neighbour_stability(B, top=5, gammas=[-1.0, 0.4, 1.0], block_size=block_size)
    assert tiled.tile_width == width < 47
    np.testing.assert_array_equal(tiled.neighbours, whole.neighbours)
    np.testing.assert_array_equal(tiled.reference_neighbours, whole.reference_neighbours)


@pytest.mark.parametrize("sample", [None, 20])
def test_tiles_with_all_maps_in_one_pass_give_the_same_result(monkeypatch, sample):
    # A generous budget but narrow tiles: every map shares each pass, queries read directly.
    rng = np.random.default_rng(20)
    B = _random_embeddings(rng, 47, 6, duplicates=True, zero_rows=3)
    users = rng.standard_normal((9, 6))
    whole = neighbour_stability(B, top=5, gammas=[-1.0, 0.4, 1.0], users=users, sample=sample)
    monkeypatch.setattr(cossim.audit, "_tile_width", lambda p, block_size: 6)
    tiled = neighbour_stability(B, top=5, gammas=[-1.0, 0.4, 1.0], users=users, sample=sample)
    assert tiled.tile_width == 6
    np.testing.assert_array_equal(tiled.neighbours, whole.neighbours)
    np.testing.assert_array_equal(tiled.gauge_free_neighbours, whole.gauge_free_neighbours)


def test_tiled_search_agrees_with_brute_force(monkeypatch):
    rng = np.random.default_rng(22)
    B = _random_embeddings(rng, 60, 5, duplicates=True, zero_rows=2)
    gammas = [-1.0, 0.5]
    _force_tiles(monkeypatch, 4, 8)
    result = neighbour_stability(B, top=6, gammas=gammas, block_size=4)
    rankings, zero = _brute_force(B, 6, gammas)
    compared = 0
    for index, ranking in enumerate(rankings):
        got = result.reference_neighbours if index == 0 else result.neighbours[index - 1]
        for item in np.flatnonzero(~zero):
            if _comparable(ranking[item], 6, B):
                compared += 1
                assert got[item].tolist() == [j for _, j in ranking[item][:6]], (index, item)
    assert compared >= 0.6 * 3 * 58


def test_duplicates_in_different_tiles_tie_and_are_ordered_by_index(monkeypatch):
    # Equal rows read in different tiles (at different positions in different products) must
    # still get bit-for-bit equal embeddings, or rounding would order the tie.
    rng = np.random.default_rng(23)
    B = rng.standard_normal((40, 7)) * np.arange(1, 8)
    copies = [3, 12, 21, 30, 39]
    B[copies] = B[17]
    _force_tiles(monkeypatch, 3, 6)
    for gammas in ([0.0], [-1.0], [0.8]):
        result = neighbour_stability(B, top=5, gammas=gammas, block_size=3)
        assert result.tile_width == 6
        lists = result.neighbours[0]
        assert lists[17].tolist() == copies  # cosine 1 with each copy: lowest indices first
        assert lists[3].tolist() == [12, 17, 21, 30, 39]
        for other in range(40):
            found = [j for j in lists[other] if j in copies + [17]]
            assert found == sorted(found)


def test_a_sample_gives_the_exact_lists_of_the_sampled_items():
    rng = np.random.default_rng(24)
    B = _random_embeddings(rng, 90, 6, duplicates=True, zero_rows=4)
    exact = neighbour_stability(B, top=7)
    sampled = neighbour_stability(B, top=7, sample=30, seed=5)
    assert sampled.mode == "sampled" and exact.mode == "exact"
    items = sampled.items
    assert items.size == 30 and np.all(np.diff(items) > 0)
    assert not np.isin(items, exact.zero_items).any()  # zero items are never drawn
    np.testing.assert_array_equal(sampled.neighbours, exact.neighbours[:, items])
    np.testing.assert_array_equal(sampled.reference_neighbours, exact.reference_neighbours[items])
    np.testing.assert_array_equal(sampled.overlaps, exact.overlaps[:, items])
    np.testing.assert_allclose(sampled.mean_overlap, exact.overlaps[:, items].mean(axis=1), rtol=1e-14)
    assert sampled.n_items == 90 and sampled.n_nonzero == exact.n_nonzero == 86


def test_the_interval_is_the_t_interval_with_the_finite_population_correction():
    rng = np.random.default_rng(25)
    B = _random_embeddings(rng, 120, 6)
    result = neighbour_stability(B, top=5, sample=40, seed=1)
    for index in range(result.gammas.size):
        values = result.overlaps[index]
        half = (scipy.stats.t.ppf(0.975, 39) * values.std(ddof=1) / math.sqrt(40)
                * math.sqrt((120 - 40) / (120 - 1)))
        np.testing.assert_allclose(result.overlap_interval[index], [values.mean() - half, values.mean() + half],
                                   rtol=1e-12, atol=1e-15)
    zero_index = int(np.flatnonzero(result.gammas == 0)[0])
    np.testing.assert_array_equal(result.overlap_interval[zero_index], [1.0, 1.0])
    # Exact mode estimates nothing: the interval is the mean itself.
    exact = neighbour_stability(B, top=5)
    np.testing.assert_array_equal(exact.overlap_interval, np.stack([exact.mean_overlap] * 2, axis=1))
    # Drawing every item is the census: a zero-width interval at the exact mean.
    census = neighbour_stability(B, top=5, sample=120, seed=2)
    np.testing.assert_allclose(census.overlap_interval[:, 0], exact.mean_overlap, rtol=1e-12)
    np.testing.assert_allclose(census.overlap_interval[:, 1], exact.mean_overlap, rtol=1e-12)


def test_the_seed_decides_the_sample():
    B = _random_embeddings(np.random.default_rng(26), 200, 5)
    first = neighbour_stability(B, top=3, gammas=[-1.0], sample=20, seed=7)
    again = neighbour_stability(B, top=3, gammas=[-1.0], sample=20, seed=np.random.default_rng(7))
    other = neighbour_stability(B, top=3, gammas=[-1.0], sample=20, seed=8)
    np.testing.assert_array_equal(first.items, again.items)
    assert not np.array_equal(first.items, other.items)
    for bad in (-1, 1.5, "a", None, True):
        with pytest.raises(ValueError, match="^seed "):
            neighbour_stability(B, top=3, sample=20, seed=bad)


def test_chosen_items_are_audited_against_all_items():
    rng = np.random.default_rng(27)
    B = _random_embeddings(rng, 50, 5, zero_rows=1)
    exact = neighbour_stability(B, top=4)
    chosen = neighbour_stability(B, top=4, items=[40, 3, 17])
    assert chosen.mode == "items"
    np.testing.assert_array_equal(chosen.items, [3, 17, 40])
    np.testing.assert_array_equal(chosen.neighbours, exact.neighbours[:, [3, 17, 40]])
    assert np.all(np.isnan(chosen.overlap_interval))
    assert chosen.position(17) == 1
    with pytest.raises(ValueError, match="item 5 was not audited"):
        chosen.position(5)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sample": 1}, r"^sample must lie in 2\.\.50"),
        ({"sample": 51}, r"^sample must lie in 2\.\.50"),
        ({"sample": 2.0}, r"^sample must be an integer"),
        ({"sample": 5, "items": [1]}, r"^sample and items cannot both"),
        ({"items": [1, 1]}, r"^items must be distinct"),
        ({"items": [50]}, r"^items must be distinct indices in 0\.\.49"),
        ({"items": [-1]}, r"^items must be distinct"),
        ({"items": []}, r"^items must be a non-empty"),
        ({"items": [0.5]}, r"^items must be a non-empty 1-D list of integer"),
        ({"users": np.ones((4, 3))}, r"^users must have 5 columns"),
        ({"users": np.ones(5)}, r"^users must be a 2-D array"),
        ({"users": [[1.0, 2.0, np.nan, 0.0, 0.0]]}, r"^users must be finite: row 0"),
        ({"users": np.zeros((3, 5))}, r"^users must leave at least top \+ 1 = 4 items"),
    ],
)
def test_bad_sampling_items_and_users_raise_value_errors_naming_them(kwargs, message):
    B = _random_embeddings(np.random.default_rng(28), 50, 5)
    with pytest.raises(ValueError, match=message):
        neighbour_stability(B, top=3, **kwargs)


def test_a_non_finite_row_is_named():
    B = _random_embeddings(np.random.default_rng(29), 30, 4)
    B[17, 2] = np.nan
    with pytest.raises(ValueError, match=r"^B must be finite: row 17 \(counting from 0\)"):
        neighbour_stability(B, top=3)


def test_a_memory_mapped_float32_file_gives_the_same_result(tmp_path, monkeypatch):
    rng = np.random.default_rng(30)
    B = _random_embeddings(rng, 80, 6, duplicates=True, zero_rows=2).astype(np.float32)
    np.save(tmp_path / "B.npy", B)
    mapped = np.load(tmp_path / "B.npy", mmap_mode="r")
    in_memory = neighbour_stability(B.astype(np.float64), top=6, sample=25, seed=3)
    _force_tiles(monkeypatch, 5, 11)
    from_disk = neighbour_stability(mapped, top=6, sample=25, seed=3, block_size=5)
    assert isinstance(mapped, np.memmap) and from_disk.tile_width == 11
    np.testing.assert_array_equal(from_disk.neighbours, in_memory.neighbours)
    np.testing.assert_array_equal(from_disk.overlap_interval, in_memory.overlap_interval)


def test_the_spectrum_is_that_of_an_svd():
    rng = np.random.default_rng(31)
    for p, k in ((200, 7), (5, 9), (9000, 3)):
        B = rng.standard_normal((p, k)) * np.logspace(0, -6, k)
        expected = np.linalg.svd(B, compute_uv=False)
        result = neighbour_stability(B, top=2, gammas=[1.0])
        np.testing.assert_allclose(result.singular_values, expected, rtol=1e-10, atol=1e-14 * expected[0])
        assert result.rank == min(p, k)


def test_spread_and_effective_rank_follow_their_definitions():
    rng = np.random.default_rng(32)
    B = _random_embeddings(rng, 60, 5)
    B2 = np.hstack([B, B])  # rank 5 of 10
    for M in (B, B2):
        result = neighbour_stability(M, top=3, gammas=[1.0])
        values = result.singular_values[:5]
        assert result.rank == 5
        assert result.spread == pytest.approx(values[0] / values[4], rel=1e-12)
        shares = values / values.sum()
        assert result.effective_rank == pytest.approx(math.exp(-np.sum(shares * np.log(shares))), rel=1e-12)
    equal = neighbour_stability(np.linalg.qr(rng.standard_normal((30, 4)))[0], top=3, gammas=[1.0])
    assert equal.spread == pytest.approx(1.0) and equal.effective_rank == pytest.approx(4.0)


def test_progress_is_reported_up_to_one():
    seen = []
    neighbour_stability(_random_embeddings(np.random.default_rng(33), 40, 4), top=3, progress=seen.append)
    assert seen and seen[-1] == 1.0 and all(0 < a <= b for a, b in zip(seen, seen[1:]))


# --------------------------------------------------------------------------- gauge-free neighbours


def _column_cosines(U, B):
    """Cosines between the columns of the score matrix U B^T, written out (independent formula)."""
    S = U @ B.T
    norms = np.linalg.norm(S, axis=0)
    return (S.T @ S) / np.outer(norms, norms)


def _model(rng, n=40, p=30, k=5):
    return rng.standard_normal((n, k)) * np.array([3.0, 2.0, 1.0, 0.5, 0.2]), rng.standard_normal((p, k))


def test_gauge_free_cosines_are_those_of_the_columns_of_the_scores():
    rng = np.random.default_rng(40)
    U, B = _model(rng)
    E = gauge_free_items(B, U)
    assert E.shape == (30, 5)
    np.testing.assert_allclose(cossim.cosine_similarity(E), _column_cosines(U, B), atol=1e-12)
    np.testing.assert_allclose(E @ E.T, B @ (U.T @ U) @ B.T, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gauge_free_items(B, user_gram=U.T @ U), E, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("seed", range(5))
def test_gauge_free_cosines_do_not_move_under_any_invertible_gauge(seed):
    rng = np.random.default_rng(41 + seed)
    U, B = _model(rng)
    reference = cossim.cosine_similarity(gauge_free_items(B, U))
    raw = cossim.cosine_similarity(B)
    for _ in range(5):
        M = rng.standard_normal((5, 5)) @ np.diag(np.exp(rng.uniform(-2, 2, 5)))  # invertible, badly scaled
        assert np.linalg.cond(M) < 1e6
        moved = cossim.cosine_similarity(gauge_free_items(B @ M, U @ np.linalg.inv(M).T))
        assert np.max(np.abs(moved - reference)) < 1e-8
        assert np.max(np.abs(cossim.cosine_similarity(B @ M) - raw)) > 1e-3  # the raw cosines do move


def test_gauge_free_items_with_a_rank_deficient_user_table():
    # Objective (2) keeps fewer directions than k: X A has zero columns, and so does B.
    rng = np.random.default_rng(42)
    U, B = _model(rng)
    U[:, 3:] = 0.0
    B[:, 3:] = 0.0
    E = gauge_free_items(B, U)
    assert E.shape == (30, 3)
    np.testing.assert_allclose(cossim.cosine_similarity(E), _column_cosines(U, B), atol=1e-12)
    # An item whose embedding lies where the users have no weight has no gauge-free similarity.
    B[4] = [0.0, 0.0, 0.0, 2.0, -1.0]
    E = gauge_free_items(B, U)
    assert np.all(E[4] == 0.0) and np.all(np.any(np.delete(E, 4, axis=0) != 0, axis=1))


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((np.ones((3, 2)),), {}, "exactly one of U and user_gram"),
        ((np.ones((3, 2)), np.ones((4, 2))), {"user_gram": np.eye(2)}, "exactly one of U and user_gram"),
        ((np.ones((3, 2)), np.ones((4, 3))), {}, "^U must have 2 columns"),
        ((np.ones((3, 2)),), {"user_gram": np.eye(3)}, "^user_gram must be 2 x 2"),
        ((np.ones((3, 2)),), {"user_gram": [[1.0, 1.0], [0.0, 1.0]]}, "^user_gram must be symmetric"),
        ((np.ones((3, 2)),), {"user_gram": [[1.0, 0.0], [0.0, -1.0]]}, "^user_gram must be positive semi"),
        ((np.ones(3), np.ones((4, 3))), {}, "^B must be a 2-D array"),
        ((np.ones((3, 2)), [[np.nan, 1.0]]), {}, "^U must be finite"),
    ],
)
def test_gauge_free_items_rejects_bad_input(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        gauge_free_items(*args, **kwargs)


def test_the_audit_finds_the_gauge_free_neighbours():
    rng = np.random.default_rng(43)
    U, B = _model(rng, n=60, p=70)
    result = neighbour_stability(B, top=6, gammas=[-1.0, 1.0], users=U)
    assert result.n_users == 60
    C = _column_cosines(U, B)
    np.fill_diagonal(C, -np.inf)
    checked = 0
    for item in range(70):
        order = np.lexsort((np.arange(70), -C[item]))
        gaps = -np.diff(C[item, order[:7]])
        if gaps.min() > 1e-10:
            checked += 1
            assert result.gauge_free_neighbours[item].tolist() == order[:6].tolist()
    assert checked > 60
    expected = [len(set(a) & set(b)) / 6 for a, b in zip(result.reference_neighbours, result.gauge_free_neighbours)]
    np.testing.assert_allclose(result.gauge_free_overlap, expected)
    assert result.mean_gauge_free_overlap == pytest.approx(np.mean(expected))
    # Another gauge of the same model: other raw lists, the same gauge-free lists.
    M = rng.standard_normal((5, 5))
    other = neighbour_stability(B @ M, top=6, gammas=[-1.0, 1.0], users=U @ np.linalg.inv(M).T)
    assert np.mean(other.gauge_free_neighbours == result.gauge_free_neighbours) > 0.99
    assert np.mean(other.reference_neighbours == result.reference_neighbours) < 0.9


def test_items_without_scores_have_no_gauge_free_neighbours():
    rng = np.random.default_rng(44)
    U, B = _model(rng)
    U[:, 4] = 0.0
    B[[2, 9]] = [0.0, 0.0, 0.0, 0.0, 1.0]  # every user scores these two 0
    result = neighbour_stability(B, top=4, gammas=[1.0], users=U, sample=20, seed=0)
    rows = np.isin(result.items, [2, 9])
    assert np.all(result.gauge_free_neighbours[rows] == -1)
    assert np.all(np.isnan(result.gauge_free_overlap[rows]))
    assert not np.isin(result.gauge_free_neighbours, [2, 9]).any()
    assert np.isfinite(result.mean_gauge_free_overlap)
    assert result.gauge_free_interval[0] <= result.mean_gauge_free_overlap <= result.gauge_free_interval[1]


# --------------------------------------------------------------------------- the verdict


def _clusters(rng, groups=6, size=12, k=6, spread=0.01):
    """Tight clusters of `size` items: every item's 11 nearest are its cluster, under any reweighting."""
    centres = rng.standard_normal((groups, k)) * np.array([8.0, 4.0, 2.0, 1.0, 0.5, 0.25])
    return np.repeat(centres, size, axis=0) + spread * rng.standard_normal((groups * size, k))


def test_the_verdict_names_the_row_of_the_reading_guide():
    rng = np.random.default_rng(50)
    stable = neighbour_stability(_clusters(rng), top=10)
    assert stable.spread >= FLAT_SPREAD and stable.mean_overlap.min() >= 0.9
    assert audit_verdict(stable)[0] == "stable"
    assert "no instability detected along this family" in audit_verdict(stable)[1]

    unstable = neighbour_stability(_random_embeddings(np.random.default_rng(8), 300, 10), top=10)
    assert unstable.mean_overlap.min() < 0.5 and audit_verdict(unstable)[0] == "unstable"

    Q, _ = np.linalg.qr(rng.standard_normal((300, 10)))
    flat = neighbour_stability(Q * np.linspace(1.0, 1.5, 10), top=10)
    assert flat.spread < FLAT_SPREAD and audit_verdict(flat)[0] == "flat"
    assert "--users" in audit_verdict(flat)[1]

    moderate = neighbour_stability(Q * np.linspace(1.0, 3.0, 10), top=10)
    assert 0.5 <= moderate.mean_overlap.min() < 0.9 and audit_verdict(moderate)[0] == "moderate"

    with_users = neighbour_stability(Q * np.linspace(1.0, 3.0, 10), top=10, users=rng.standard_normal((50, 10)))
    row, statement = audit_verdict(with_users)
    assert row == "gauge-free" and f"{with_users.mean_gauge_free_overlap:.3f}" in statement
    assert "'moderate'" in statement
    with pytest.raises(ValueError, match="^result must be"):
        audit_verdict("not a result")


def test_the_numeric_module_imports_no_plotting_and_no_command_line():
    code = ("import sys, cossim.audit; bad = [m for m in ('matplotlib', 'tqdm', 'cossim.cli', 'cossim.plotting') "
            "if m in sys.modules]; assert not bad, bad")
    done = subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
