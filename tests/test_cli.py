"""Tests for the audit's command line (cossim.cli): reading tables, the report, JSON, exit codes.

Every bad input named in the audit issue has a test here: an empty file, a 1-D array, NaN rows,
labels of the wrong length, --sample larger than p, a non-numeric text row (exit 2, one line on
stderr, no traceback).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import cossim
import cossim.cli
from cossim.audit import audit_verdict, neighbour_stability
from cossim.cli import main


def _random_embeddings(rng, p, k):
    return rng.standard_normal((p, k)) * np.exp(-0.4 * np.arange(k))


@pytest.fixture
def items(tmp_path):
    path = tmp_path / "items.npy"
    np.save(path, _random_embeddings(np.random.default_rng(0), 120, 8))
    return path


@pytest.fixture
def users(tmp_path):
    path = tmp_path / "users.npy"
    np.save(path, np.random.default_rng(1).standard_normal((40, 8)))
    return path


@pytest.fixture
def labels(tmp_path):
    path = tmp_path / "labels.txt"
    path.write_text("".join(f"Film número {i}\n" for i in range(120)), encoding="utf-8")
    return path


def _run(capsys, *argv):
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


# --------------------------------------------------------------------------- the report


def test_the_report_gives_spectrum_table_items_and_verdict_in_that_order(items, capsys):
    status, out, err = _run(capsys, items, "--top", "5")
    assert status == 0 and err == ""
    result = neighbour_stability(np.load(items), top=5)
    order = [out.index(marker) for marker in ("Spectrum of B", "Mean overlap of each item", "least stable items",
                                              "verdict [")]
    assert order == sorted(order)
    assert f"{result.spread:.2f} times the smallest" in out
    assert f"effective rank {result.effective_rank:.1f}" in out
    for gamma, overlap, changed in zip(result.gammas, result.mean_overlap, result.nearest_changed):
        assert f"{gamma:8.2f}  {overlap:12.3f}  {100 * changed:24.1f}%" in out
    row, _ = audit_verdict(result)
    assert f"verdict [{row}]:" in out
    assert f"item {result.least_stable(1)[0]}" in out
    assert all(len(line) <= 80 for line in out.splitlines())


def test_labels_name_the_items(items, labels, capsys):
    status, out, _ = _run(capsys, items, "--labels", labels, "--least", "3")
    assert status == 0
    for item in neighbour_stability(np.load(items)).least_stable(3):
        assert f"Film número {item}" in out
    assert "The 3 least stable items" in out


def test_users_print_gauge_free_lists_next_to_raw_ones(items, users, labels, capsys):
    status, out, err = _run(capsys, items, "--users", users, "--labels", labels, "--item", "Film número 7",
                            "--item", "11")
    assert status == 0 and err == ""
    result = neighbour_stability(np.load(items), users=np.load(users))
    assert f"shares on average {result.mean_gauge_free_overlap:.3f}" in out
    for item in (7, 11):
        shared = round(result.gauge_free_overlap[item] * 10)
        assert f"Film número {item}: {shared} of 10 shared" in out
        for rank, (raw, free) in enumerate(zip(result.reference_neighbours[item], result.gauge_free_neighbours[item]),
                                           start=1):
            assert f"{rank:>4}  {'Film número ' + str(raw):<34}  Film número {free}" in out
    assert "verdict [gauge-free]:" in out


def test_users_list_the_three_least_stable_items_by_default(items, users, capsys):
    status, out, _ = _run(capsys, items, "--users", users)
    assert status == 0
    assert "The 3 least stable items" in out and out.count(" of 10 shared") == 3


def test_json_holds_every_number_the_verdict_and_the_versions(items, users, capsys):
    status, out, err = _run(capsys, items, "--json", "--users", users, "--gammas=-1,0,0.5", "--top", "4")
    assert status == 0 and err == ""
    report = json.loads(out)
    result = neighbour_stability(np.load(items), top=4, gammas=[-1.0, 0.0, 0.5], users=np.load(users))
    assert [entry["gamma"] for entry in report["gammas"]] == [-1.0, 0.0, 0.5]
    assert [entry["mean_overlap"] for entry in report["gammas"]] == result.mean_overlap.tolist()
    assert [entry["nearest_neighbour_changed"] for entry in report["gammas"]] == result.nearest_changed.tolist()
    assert report["spectrum"]["singular_values"] == result.singular_values.tolist()
    assert report["spectrum"]["spread"] == result.spread
    assert report["gauge_free"]["mean_overlap_with_raw"] == result.mean_gauge_free_overlap
    assert report["verdict"]["row"] == "gauge-free" and report["verdict"]["statement"] == audit_verdict(result)[1]
    assert report["versions"]["cossim"] == cossim.__version__ and report["versions"]["numpy"] == np.__version__
    assert report["mode"] == "exact" and report["input"]["items"] == 120 and report["input"]["dimensions"] == 8
    listed = report["listed_items"]
    assert len(listed) == 3 and all(len(entry["gauge_free_neighbours"]) == 4 for entry in listed)


def test_a_sample_prints_intervals_and_large_inputs_are_sampled_by_default(items, capsys, monkeypatch):
    status, out, _ = _run(capsys, items, "--sample", "50", "--seed", "3")
    assert status == 0
    result = neighbour_stability(np.load(items), sample=50, seed=3)
    assert "95% interval" in out and "a uniform sample of 50 query items" in out
    low, high = result.overlap_interval[0]
    assert f"{low:6.3f} - {high:6.3f}" in out
    monkeypatch.setattr(cossim.cli, "EXACT_LIMIT", 100)
    monkeypatch.setattr(cossim.cli, "DEFAULT_SAMPLE", 30)
    status, out, _ = _run(capsys, items)
    assert status == 0 and "More than 100 items: auditing a sample of 30" in out
    status, out, _ = _run(capsys, items, "--exact")
    assert status == 0 and "every item audited" in out


def test_chosen_items_outside_the_sample_are_still_listed(items, labels, capsys):
    sampled = neighbour_stability(np.load(items), sample=20, seed=0)
    outside = next(item for item in range(120) if item not in set(sampled.items.tolist()))
    status, out, _ = _run(capsys, items, "--sample", "20", "--labels", labels, "--item", str(outside))
    assert status == 0
    alone = neighbour_stability(np.load(items), items=[outside])
    assert f"{alone.item_overlap[0]:8.3f}  Film número {outside}" in out
    assert f"{sampled.mean_overlap[0]:12.3f}" in out  # the table is the sample's


def test_npz_and_text_inputs(tmp_path, capsys):
    rng = np.random.default_rng(5)
    B = _random_embeddings(rng, 60, 5).astype(np.float32)
    words = [f"w{i}" for i in range(60)]
    expected = neighbour_stability(B, top=4)
    np.savez(tmp_path / "one.npz", items=B)
    np.savez(tmp_path / "two.npz", items=B, users=rng.standard_normal((9, 5)))
    body = "".join(f"{word} " + " ".join(repr(float(v)) for v in row) + "\n" for word, row in zip(words, B))
    (tmp_path / "plain.txt").write_text(body, encoding="utf-8")
    (tmp_path / "header.vec").write_text("60 5\n" + body, encoding="utf-8")
    runs = [["one.npz"], ["two.npz", "--array", "items", "--users", tmp_path / "two.npz", "--users-array", "users"],
            ["plain.txt"], ["header.vec"]]
    for argv in runs:
        status, out, err = _run(capsys, *[tmp_path / argv[0], *argv[1:]], "--top", "4", "--json")
        assert status == 0, err
        report = json.loads(out)
        assert [entry["mean_overlap"] for entry in report["gammas"]] == expected.mean_overlap.tolist(), argv
        if argv[0].endswith((".txt", ".vec")):
            assert report["input"]["format"] == "text"
            assert report["listed_items"][0]["label"] == words[report["listed_items"][0]["item"]]


def test_the_plot_is_written_and_leaves_matplotlib_settings_alone(items, tmp_path, capsys):
    import matplotlib as mpl

    before = dict(mpl.rcParams)
    plot = tmp_path / "overlap.png"
    status, out, _ = _run(capsys, items, "--plot", plot, "--sample", "30")
    assert status == 0 and f"plot written to {plot}" in out
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert dict(mpl.rcParams) == before


# --------------------------------------------------------------------------- bad input: exit 2, one line


def _bad_inputs(tmp_path):
    cases = {}
    cases["missing"] = (tmp_path / "nowhere.npy", "no such file")
    cases["directory"] = (tmp_path, "is a directory")
    (tmp_path / "empty.npy").write_bytes(b"")
    cases["empty file"] = (tmp_path / "empty.npy", "the file is empty")
    np.save(tmp_path / "flat.npy", np.ones(7))
    cases["one-dimensional"] = (tmp_path / "flat.npy", "expected a 2-D array (items x dimensions), got shape (7,)")
    np.save(tmp_path / "no_rows.npy", np.ones((0, 3)))
    cases["no rows"] = (tmp_path / "no_rows.npy", "the array is empty")
    with_nan = np.random.default_rng(0).standard_normal((20, 3))
    with_nan[2, 1] = np.nan
    np.save(tmp_path / "nan.npy", with_nan)
    cases["NaN row"] = (tmp_path / "nan.npy", "must be finite: row 2 (counting from 0) contains NaN")
    with_inf = np.random.default_rng(1).standard_normal((20, 3))
    with_inf[0, 0] = -np.inf
    np.save(tmp_path / "inf.npy", with_inf)
    cases["inf row"] = (tmp_path / "inf.npy", "row 0 (counting from 0) contains NaN or infinity")
    np.save(tmp_path / "objects.npy", np.array([{}], dtype=object))
    cases["objects"] = (tmp_path / "objects.npy", "cannot be read as a .npy array")
    np.save(tmp_path / "strings.npy", np.array([["a", "b"], ["c", "d"]]))
    cases["strings"] = (tmp_path / "strings.npy", "expected real numbers")
    np.savez(tmp_path / "several.npz", a=np.ones((3, 3)), b=np.ones((3, 3)))
    cases["npz of several"] = (tmp_path / "several.npz", "holds 2 arrays (a, b); choose one with --array NAME")
    (tmp_path / "broken.npz").write_bytes(b"PK\x03\x04 not really a zip")
    cases["broken npz"] = (tmp_path / "broken.npz", "cannot be read as a .npz archive")
    (tmp_path / "words.txt").write_text("a 1 2\nb 3 x\nc 5 6\n", encoding="utf-8")
    cases["non-numeric text row"] = (tmp_path / "words.txt", "line 2: not a number: 'x'")
    (tmp_path / "ragged.txt").write_text("a 1 2\nb 3\n", encoding="utf-8")
    cases["ragged text"] = (tmp_path / "ragged.txt", "line 2: expected 2 numbers after the label, got 1")
    (tmp_path / "label_only.txt").write_text("5 2\nlonely\n", encoding="utf-8")
    cases["label only"] = (tmp_path / "label_only.txt", "line 2: expected a label and numbers")
    (tmp_path / "short.vec").write_text("3 2\na 1 2\nb 3 4\n", encoding="utf-8")
    cases["header count"] = (tmp_path / "short.vec", "the header announces 3 rows, the file has 2")
    (tmp_path / "blank.txt").write_text("\n\n", encoding="utf-8")
    cases["blank text"] = (tmp_path / "blank.txt", "no items in the file")
    (tmp_path / "binary.bin").write_bytes(b"\xff\xfe\x00garbage")
    cases["binary"] = (tmp_path / "binary.bin", "is neither a .npy/.npz file nor UTF-8 text")
    (tmp_path / "nan.txt").write_text("a 1 2\nb nan 3\n" + "c 1 1\n" * 20, encoding="utf-8")
    cases["NaN text row"] = (tmp_path / "nan.txt", "line 2: contains NaN or infinity")
    np.save(tmp_path / "zeros.npy", np.zeros((20, 2)))
    cases["all zero"] = (tmp_path / "zeros.npy", "must have at least 2 nonzero rows")
    return cases


def _assert_one_line_error(status, out, err, message):
    assert status == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("cossim-audit: error: "), err
    assert message in err, err
    assert "Traceback" not in err


def test_bad_files_exit_2_with_one_line(tmp_path, capsys):
    for case, (path, message) in _bad_inputs(tmp_path).items():
        status, out, err = _run(capsys, path)
        try:
            _assert_one_line_error(status, out, err, message)
        except AssertionError as error:
            raise AssertionError(f"{case}: {error}") from error


def test_bad_options_exit_2_with_one_line(items, users, labels, tmp_path, capsys):
    short = tmp_path / "short.txt"
    short.write_text("one\ntwo\n", encoding="utf-8")
    np.save(tmp_path / "narrow_users.npy", np.ones((5, 3)))
    cases = [
        ([items, "--labels", short], "expected 120 labels (one per line, one per item), got 2"),
        ([items, "--labels", tmp_path / "none.txt"], "no such labels file"),
        ([items, "--sample", "121"], "--sample must lie in 2..120"),
        ([items, "--sample", "1"], "--sample must lie in 2..120"),
        ([items, "--top", "120"], "--top must lie in 1..119"),
        ([items, "--top", "0"], "--top must lie in 1..119"),
        ([items, "--least", "-1"], "--least must be >= 0"),
        ([items, "--gammas", "1,x"], "--gammas must be numbers separated by commas"),
        ([items, "--gammas", "1,nan"], "--gammas must be finite numbers"),
        ([items, "--seed", "-4", "--sample", "10"], "--seed must be a non-negative int"),
        ([items, "--item", "Film 7"], "--item 'Film 7': no item has this label"),
        ([items, "--item", "120"], "--item '120': item indices lie in 0..119"),
        ([items, "--users", tmp_path / "narrow_users.npy"], "has 3 columns, the embeddings have 8"),
        ([items, "--users", tmp_path / "absent.npy"], "absent.npy: no such file"),
        ([items, "--users-array", "u"], "--users-array needs --users"),
        ([items, "--array", "x"], "--array applies to .npz files only"),
        ([items, "--plot", tmp_path / "no" / "such" / "dir.png"], "cannot write the plot"),
    ]
    for argv, message in cases:
        status, out, err = _run(capsys, *argv)
        if "--plot" in [str(a) for a in argv]:  # the report is printed before the plot fails
            out = ""
        try:
            _assert_one_line_error(status, out, err, message)
        except AssertionError as error:
            raise AssertionError(f"{argv}: {error}") from error


def test_argparse_errors_and_help(items, capsys):
    status, _, err = _run(capsys, items, "--top", "many")
    assert status == 2 and "invalid int value" in err
    status, _, err = _run(capsys, items, "--sample", "5", "--exact")
    assert status == 2 and "not allowed with argument" in err
    assert main([]) == 2
    capsys.readouterr()
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "EMBEDDINGS" in out and "--users" in out and "--sample" in out


# --------------------------------------------------------------------------- as a program


def _environment(**extra):
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONWARNINGS"}
    return environment | {"PYTHONWARNINGS": "error", "PYTHONIOENCODING": "utf-8", **extra}


@pytest.mark.parametrize("command", [[sys.executable, "-m", "cossim.audit"],
                                     [str(Path(sys.executable).parent / "cossim-audit")]])
def test_the_installed_command_and_python_m_run_quietly(command, items, labels, tmp_path):
    # `make install` installs the package with its script: a missing one is a failure.
    assert Path(command[0]).exists(), f"{command[0]} is not installed: run `make install`"
    done = subprocess.run([*command, str(items), "--labels", str(labels)], capture_output=True, text=True,
                          encoding="utf-8", timeout=120, env=_environment())
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # no warning (runpy), and no progress bar when stderr is not a terminal
    assert "Mean overlap" in done.stdout and "Film número" in done.stdout and "verdict [" in done.stdout

    missing = subprocess.run([*command, str(tmp_path / "absent.npy")], capture_output=True, text=True,
                             timeout=120, env=_environment())
    assert missing.returncode == 2 and missing.stdout == ""
    assert missing.stderr == f"cossim-audit: error: {tmp_path / 'absent.npy'}: no such file\n"


def test_the_progress_bar_is_off_when_quiet_or_not_a_terminal(monkeypatch):
    class Terminal:
        def __init__(self):
            self.written = []

        def isatty(self):
            return True

        def write(self, text):
            self.written.append(text)

        def flush(self):
            pass

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    update, close = cossim.cli._progress_bar(quiet=False)
    assert update is not None
    update(0.5)
    update(1.0)
    close()
    assert cossim.cli._progress_bar(quiet=True)[0] is None
    monkeypatch.setattr(terminal, "isatty", lambda: False)
    assert cossim.cli._progress_bar(quiet=False)[0] is None
