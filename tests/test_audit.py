"""Tests for cossim.audit: neighbour_stability against a brute-force reference, and the command line."""

from __future__ import annotations

import dataclasses
import doctest
import math
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cossim
import cossim.audit
from cossim.audit import DEFAULT_GAMMAS, NeighbourStability, default_block_size, main, neighbour_stability

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
    assert results[-1].block_size == default_block_size(37) == 37
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
    assert isinstance(result, NeighbourStability)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.top = 3
    for name in ("gammas", "mean_overlap", "overlaps", "nearest_changed", "neighbours", "reference_neighbours"):
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
    for p in (2, 100, 20_000, 10**6):
        size = default_block_size(p)
        assert 1 <= size <= p
        assert size == 1 or size * p * cossim.audit._BYTES_PER_ENTRY <= cossim.audit.MEMORY_BUDGET


def test_exported_from_the_package():
    assert cossim.neighbour_stability is neighbour_stability
    assert cossim.NeighbourStability is NeighbourStability


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
    arguments = {"B": np.random.default_rng(0).standard_normal((6, 3)), "top": 2, **kwargs}
    B = arguments.pop("B")
    with pytest.raises(ValueError, match=rf"^{name} "):
        neighbour_stability(B, **arguments)


def test_top_must_leave_room_beside_zero_items():
    B = np.eye(5)
    B[[1, 3]] = 0.0
    with pytest.raises(ValueError, match=r"^top must be at most 2 .*2 rows are zero"):
        neighbour_stability(B, top=3)
    assert neighbour_stability(B, top=2).reference_neighbours[0].tolist() == [2, 4]


# --------------------------------------------------------------------------- command line


@pytest.fixture
def embeddings(tmp_path):
    path = tmp_path / "items.npy"
    np.save(path, _random_embeddings(np.random.default_rng(0), 120, 8))
    return path


@pytest.fixture
def labels(tmp_path):
    path = tmp_path / "labels.txt"
    path.write_text("".join(f"Film número {i}\n" for i in range(120)), encoding="utf-8")
    return path


def test_main_prints_the_report(embeddings, capsys):
    assert main([str(embeddings), "--top", "5"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert "Neighbour stability of 120 items x 8 dimensions from items.npy (rank 8), top 5" in out
    result = neighbour_stability(np.load(embeddings), top=5)
    for gamma, overlap, changed in zip(result.gammas, result.mean_overlap, result.nearest_changed):
        assert f"{gamma:8.2f}  {overlap:12.3f}  {100 * changed:24.1f}%" in out
    assert "The 10 least stable items" in out
    first = result.least_stable(1)[0]
    assert f"item {first}" in out


def test_main_uses_labels_and_writes_the_plot(embeddings, labels, tmp_path, capsys):
    plot = tmp_path / "overlap.png"
    assert main([str(embeddings), "--labels", str(labels), "--plot", str(plot), "--least", "3"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    result = neighbour_stability(np.load(embeddings))
    for item in result.least_stable(3):
        assert f"Film número {item}" in out
    assert "The 3 least stable items" in out
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"plot written to {plot}" in out


def test_main_leaves_matplotlib_settings_alone(embeddings, tmp_path):
    import matplotlib as mpl

    before = dict(mpl.rcParams)
    assert main([str(embeddings), "--plot", str(tmp_path / "out.png")]) == 0
    assert dict(mpl.rcParams) == before


def _bad_inputs(tmp_path):
    cases = {}
    cases["missing"] = (tmp_path / "nowhere.npy", "no such file")
    np.save(tmp_path / "flat.npy", np.ones(7))
    cases["one-dimensional"] = (tmp_path / "flat.npy", "expected a 2-D array")
    with_nan = np.ones((4, 3))
    with_nan[1, 2] = np.nan
    np.save(tmp_path / "nan.npy", with_nan)
    cases["nan"] = (tmp_path / "nan.npy", "non-finite")
    with_inf = np.ones((4, 3))
    with_inf[0, 0] = -np.inf
    np.save(tmp_path / "inf.npy", with_inf)
    cases["inf"] = (tmp_path / "inf.npy", "non-finite")
    (tmp_path / "text.npy").write_text("not an array\n")
    cases["not npy"] = (tmp_path / "text.npy", "not a .npy file")
    np.savez(tmp_path / "archive.npz", B=np.ones((3, 3)))
    cases["npz"] = (tmp_path / "archive.npz", ".npz archive")
    np.save(tmp_path / "objects.npy", np.array([{}], dtype=object))
    cases["objects"] = (tmp_path / "objects.npy", "cannot be read")
    cases["directory"] = (tmp_path, "is a directory")
    return cases


def test_main_reports_bad_input_in_one_line_with_status_2(tmp_path, capsys):
    for case, (path, message) in _bad_inputs(tmp_path).items():
        assert main([str(path)]) == 2, case
        out, err = capsys.readouterr()
        assert out == "", case
        assert err.count("\n") == 1 and err.startswith("cossim.audit: error: "), (case, err)
        assert message in err, (case, err)
        assert "Traceback" not in err


def test_main_reports_bad_options_with_status_2(embeddings, labels, tmp_path, capsys):
    short = tmp_path / "short.txt"
    short.write_text("one\ntwo\n", encoding="utf-8")
    cases = [
        ([str(embeddings), "--top", "120"], "--top must lie in 1..119"),
        ([str(embeddings), "--top", "0"], "--top must lie in 1..119"),
        ([str(embeddings), "--labels", str(short)], "expected 120 labels"),
        ([str(embeddings), "--labels", str(tmp_path / "none.txt")], "no such labels file"),
        ([str(embeddings), "--least", "-1"], "--least must be >= 0"),
        ([str(embeddings), "--plot", str(tmp_path / "no" / "such" / "dir.png")], "cannot write the plot"),
    ]
    for argv, message in cases:
        assert main(argv) == 2, argv
        out, err = capsys.readouterr()
        assert err.startswith("cossim.audit: error: ") and err.count("\n") == 1, err
        assert message in err, err
    assert main([str(embeddings), "--top", "many"]) == 2  # argparse's own message and usage
    assert "invalid int value" in capsys.readouterr().err
    assert main([]) == 2
    capsys.readouterr()
    assert main(["--help"]) == 0
    assert "EMBEDDINGS.npy" in capsys.readouterr().out


def test_command_line_as_a_subprocess(embeddings, labels, tmp_path):
    plot = tmp_path / "plot.png"
    command = [sys.executable, "-m", "cossim.audit", str(embeddings), "--labels", str(labels), "--plot", str(plot)]
    done = subprocess.run(command, capture_output=True, text=True, encoding="utf-8", timeout=120,
                          env={"PYTHONIOENCODING": "utf-8", **_environment()})
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert "mean overlap" in done.stdout and "Film número" in done.stdout
    assert plot.is_file() and plot.read_bytes()[:4] == b"\x89PNG"

    missing = subprocess.run([sys.executable, "-m", "cossim.audit", str(tmp_path / "absent.npy")],
                             capture_output=True, text=True, timeout=120, env=_environment())
    assert missing.returncode == 2
    assert missing.stdout == ""
    assert missing.stderr == f"cossim.audit: error: {tmp_path / 'absent.npy'}: no such file\n"


def _environment():
    import os

    return {key: value for key, value in os.environ.items() if key != "PYTHONWARNINGS"} | {"PYTHONWARNINGS": "error"}


def test_importing_the_package_does_not_import_the_command():
    # Otherwise `python -m cossim.audit` would run a module that is already imported (runpy warns).
    code = "import sys, cossim; assert 'cossim.audit' not in sys.modules; cossim.neighbour_stability"
    done = subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
