"""Tests for cossim.datasets (on a synthetic fixture, and on MovieLens-100k when fetched) and the fetch tool."""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

import cossim
from cossim import datasets
from cossim.datasets import (
    MOVIELENS_100K_SHA256,
    MovieRatings,
    default_data_dir,
    load_movielens_100k,
    read_recbole_movies,
)
from tools import fetch_movielens

FIXTURES = Path(__file__).resolve().parent / "data"
INTER = FIXTURES / "tiny.inter"
ITEM = FIXTURES / "tiny.item"
REAL = default_data_dir()
HAVE_REAL = all((REAL / name).is_file() for name in MOVIELENS_100K_SHA256)


# --------------------------------------------------------------------------- the synthetic fixture


@pytest.fixture(scope="module")
def tiny() -> MovieRatings:
    return read_recbole_movies(INTER, ITEM)


def test_fixture_shapes_and_ids(tiny):
    assert tiny.X.shape == (5, 6) and (tiny.n_users, tiny.n_items) == (5, 6)
    assert tiny.user_ids.tolist() == [3, 5, 7, 9, 11]  # ascending, whatever the file order
    assert tiny.movie_ids.tolist() == [10, 20, 30, 40, 50, 60]  # the .item file lists 30 before 20
    assert tiny.n_ratings == 11


def test_fixture_matrix_counts_every_rating_as_one(tiny):
    expected = np.zeros((5, 6))
    for user, movie in [(7, 10), (7, 20), (3, 10), (3, 30), (11, 40), (11, 50), (5, 20), (5, 30), (5, 40), (9, 50)]:
        expected[tiny.user_ids.tolist().index(user), tiny.movie_ids.tolist().index(movie)] = 1.0
    np.testing.assert_array_equal(tiny.X, expected)
    assert tiny.X.dtype == np.float64
    assert tiny.X[:, 5].sum() == 0  # movie 60 is never rated: a zero column
    # User 7 gave movie 20 one star and user 5 gave movie 40 one star: both still count.
    assert tiny.X[2, 1] == 1.0 and tiny.X[1, 3] == 1.0


def test_fixture_raw_ratings_keep_duplicates_and_order(tiny):
    assert tiny.rating_values.tolist() == [5, 1, 4, 2, 3, 5, 4.5, 3, 3, 1, 2]
    assert tiny.rating_timestamps.tolist() == [900000001 + i for i in range(11)]
    users = tiny.user_ids[tiny.rating_rows].tolist()
    movies = tiny.movie_ids[tiny.rating_columns].tolist()
    assert list(zip(users, movies))[:5] == [(7, 10), (7, 20), (3, 10), (3, 30), (3, 10)]  # (3, 10) twice
    assert tiny.X.sum() == 10  # the duplicate gives a single 1


def test_fixture_movie_metadata(tiny):
    assert tiny.titles == (
        "Alpha Centauri Blues", "Beta Testing, The", "Gamma Rays", "Delta Dawn (Reprise)", "Épsilon", "Zeta Unrated",
    )
    assert tiny.years == (1999, 2001, None, 1987, 2010, 2005)
    assert tiny.genres[0] == frozenset({"Drama", "Sci-Fi"})
    assert tiny.genres[3] == frozenset({"Musical", "Romance"})
    assert tiny.labels[0] == "Alpha Centauri Blues (1999)"
    assert tiny.labels[2] == "Gamma Rays"  # no year, no parentheses
    assert tiny.column_of("Épsilon") == 4
    assert tiny.column_of("Beta Testing, The", 2001) == 1
    with pytest.raises(ValueError, match="title must name exactly one movie"):
        tiny.column_of("Beta Testing, The", 1999)
    with pytest.raises(ValueError, match="matches 0"):
        tiny.column_of("Omega")


def test_result_is_frozen_and_read_only(tiny):
    with pytest.raises(dataclasses.FrozenInstanceError):
        tiny.X = None
    for name in ("X", "user_ids", "movie_ids", "rating_rows", "rating_columns", "rating_values", "rating_timestamps"):
        with pytest.raises(ValueError, match="read-only"):
            getattr(tiny, name)[0] = 0


def test_columns_are_found_by_name_not_position(tmp_path, tiny):
    def permute(source, target, order):
        lines = source.read_text(encoding="utf-8").splitlines()
        rows = [line.split("\t") for line in lines if line]
        target.write_text("".join("\t".join(row[i] for i in order) + "\n" for row in rows), encoding="utf-8")

    permute(INTER, tmp_path / "a.inter", [3, 1, 0, 2])
    permute(ITEM, tmp_path / "a.item", [2, 3, 0, 1])
    moved = read_recbole_movies(tmp_path / "a.inter", tmp_path / "a.item")
    np.testing.assert_array_equal(moved.X, tiny.X)
    assert moved.titles == tiny.titles and moved.years == tiny.years and moved.genres == tiny.genres


def test_windows_line_endings_are_accepted(tmp_path, tiny):
    for source in (INTER, ITEM):
        (tmp_path / source.name).write_bytes(source.read_bytes().replace(b"\n", b"\r\n"))
    again = read_recbole_movies(tmp_path / INTER.name, tmp_path / ITEM.name)
    np.testing.assert_array_equal(again.X, tiny.X)
    assert again.titles == tiny.titles


# --------------------------------------------------------------------------- broken files


def _broken(tmp_path, inter=None, item=None):
    """A copy of the fixture with one file's text replaced."""
    inter_path, item_path = tmp_path / "b.inter", tmp_path / "b.item"
    inter_path.write_text(inter if inter is not None else INTER.read_text(encoding="utf-8"), encoding="utf-8")
    item_path.write_text(item if item is not None else ITEM.read_text(encoding="utf-8"), encoding="utf-8")
    return inter_path, item_path


HEADER_INTER = "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
HEADER_ITEM = "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n"


@pytest.mark.parametrize(
    ("inter", "item", "message"),
    [
        ("user_id:token\titem_id:token\trating:float\n1\t10\t5\n", None, r"lacks the column\(s\) timestamp"),
        (None, "item_id:token\ttitle:token_seq\trelease_year:token\tclass:token_seq\n", "lacks the column"),
        (HEADER_INTER + "1\t10\t5\n", None, r"b\.inter, line 2: expected 4 tab-separated fields, got 3"),
        (HEADER_INTER + "1\t10\t5\t1\nx\t10\t5\t2\n", None, r"b\.inter, line 3: user_id must be an integer id"),
        (HEADER_INTER + "1\t10\tnan\t1\n", None, r"line 2: rating must be a finite number"),
        (HEADER_INTER + "1\t10\tfive\t1\n", None, r"line 2: rating must be a finite number, got 'five'"),
        (HEADER_INTER + "1\t10\t5\tinf\n", None, r"line 2: timestamp must be a finite number"),
        (HEADER_INTER + "1\t10\t5\t1\n2\t99\t5\t1\n", None, r"b\.inter, line 3: movie id 99 is not listed in"),
        (HEADER_INTER, None, "holds no rating"),
        ("", None, "is empty"),
        (None, HEADER_ITEM, "lists no movie"),
        (None, HEADER_ITEM + "10\tA\t1999\tDrama\n10\tB\t2000\tDrama\n", r"b\.item, line 3: movie id 10 is listed"),
        (None, HEADER_ITEM + "ten\tA\t1999\tDrama\n", r"line 2: item_id must be an integer id"),
    ],
)
def test_broken_files_raise_value_errors_naming_file_and_line(tmp_path, inter, item, message):
    inter_path, item_path = _broken(tmp_path, inter, item)
    with pytest.raises(ValueError, match=message):
        read_recbole_movies(inter_path, item_path)


def test_a_file_that_is_not_utf8_is_a_value_error(tmp_path):
    inter_path, item_path = _broken(tmp_path)
    item_path.write_bytes(ITEM.read_bytes().replace("É".encode(), b"\xc9"))  # Latin-1, not UTF-8
    with pytest.raises(ValueError, match="is not UTF-8 text"):
        read_recbole_movies(inter_path, item_path)


def test_a_missing_file_is_a_file_not_found_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_recbole_movies(tmp_path / "none.inter", ITEM)


# --------------------------------------------------------------------------- load_movielens_100k


def _as_movielens(folder: Path) -> Path:
    """The fixture under MovieLens' file names (so only the checksums differ)."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(INTER, folder / "ml-100k.inter")
    shutil.copy(ITEM, folder / "ml-100k.item")
    return folder


def test_missing_files_name_the_fetch_command(tmp_path, monkeypatch):
    monkeypatch.setenv("COSSIM_DATA_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"ml-100k\.inter not found; fetch the data with `make data`"):
        load_movielens_100k()
    with pytest.raises(FileNotFoundError, match=r"fetch_movielens\.py --dest .*elsewhere"):
        load_movielens_100k(tmp_path / "elsewhere")
    (tmp_path / "ml-100k").mkdir()
    (tmp_path / "ml-100k" / "ml-100k.inter").write_text("x")
    with pytest.raises(FileNotFoundError, match=r"ml-100k\.item not found"):
        load_movielens_100k()


def test_wrong_checksum_is_a_value_error_naming_the_fetch_command(tmp_path):
    folder = _as_movielens(tmp_path / "ml-100k")
    with pytest.raises(ValueError, match=r"has SHA-256 .* not the expected .*fetch it again\s+with `python tools/"):
        load_movielens_100k(folder)


def test_without_verification_other_files_in_the_format_load(tmp_path, tiny):
    folder = _as_movielens(tmp_path / "ml-100k")
    loaded = load_movielens_100k(folder, verify=False)
    np.testing.assert_array_equal(loaded.X, tiny.X)
    (folder / "ml-100k.inter").write_text(HEADER_INTER + "1\t10\t5\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"line 2: expected 4 .*to fetch MovieLens-100k again use"):
        load_movielens_100k(folder, verify=False)


def test_default_data_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("COSSIM_DATA_DIR", raising=False)
    root = Path(datasets.__file__).resolve().parents[2]
    assert default_data_dir() == root / "data" / "ml-100k"
    assert (root / "pyproject.toml").is_file()  # the repository root, in the editable install
    monkeypatch.setenv("COSSIM_DATA_DIR", str(tmp_path))
    assert default_data_dir() == tmp_path / "ml-100k"
    monkeypatch.setenv("COSSIM_DATA_DIR", "")
    assert default_data_dir() == root / "data" / "ml-100k"


def test_load_reads_the_environment_folder(monkeypatch, tmp_path, tiny):
    _as_movielens(tmp_path / "ml-100k")
    monkeypatch.setenv("COSSIM_DATA_DIR", str(tmp_path))
    np.testing.assert_array_equal(load_movielens_100k(verify=False).X, tiny.X)


def test_checksums_agree_with_the_fetch_tool():
    assert MOVIELENS_100K_SHA256 == fetch_movielens.FILE_SHA256


def test_exported_from_the_package():
    assert cossim.load_movielens_100k is load_movielens_100k
    assert cossim.MovieRatings is MovieRatings
    assert cossim.read_recbole_movies is read_recbole_movies


# --------------------------------------------------------------------------- the real data


needs_data = pytest.mark.skipif(
    not HAVE_REAL, reason=f"MovieLens-100k not fetched into {REAL}; run `make data` (python tools/fetch_movielens.py)"
)


@pytest.fixture(scope="module")
def movielens() -> MovieRatings:
    return load_movielens_100k()


@needs_data
def test_movielens_shapes_and_counts(movielens):
    assert movielens.X.shape == (943, 1682)
    assert movielens.n_ratings == 100_000
    assert movielens.X.sum() == 100_000  # no (user, movie) pair is rated twice
    assert movielens.user_ids.tolist() == list(range(1, 944))
    assert movielens.movie_ids.tolist() == list(range(1, 1683))
    assert np.all(movielens.X.sum(axis=0) >= 1)  # every movie rated at least once
    assert np.all(movielens.X.sum(axis=1) >= 20)  # every user rated at least 20 movies (MovieLens' rule)
    assert sorted(set(movielens.rating_values.tolist())) == [1, 2, 3, 4, 5]


@needs_data
def test_movielens_known_titles(movielens):
    star_wars = movielens.column_of("Star Wars")
    assert movielens.movie_ids[star_wars] == 50
    assert movielens.years[star_wars] == 1977
    assert movielens.labels[star_wars] == "Star Wars (1977)"
    assert "Star Wars (1977)" in movielens.labels
    assert movielens.genres[star_wars] == frozenset({"Action", "Adventure", "Romance", "Sci-Fi", "War"})
    assert movielens.labels[movielens.column_of("Toy Story")] == "Toy Story (1995)"
    assert movielens.X[:, star_wars].sum() == 583  # the most rated movie of MovieLens-100k
    assert star_wars == int(np.argmax(movielens.X.sum(axis=0)))


@needs_data
def test_movielens_damaged_entries_are_kept_without_a_year(movielens):
    assert [movielens.movie_ids[i] for i, year in enumerate(movielens.years) if year is None] == [267, 1412]
    assert movielens.titles[266] == "unkonwn"  # sic, in RecBole's copy
    assert movielens.genres[266] == frozenset({"unknown"})
    assert all(year is None or 1900 < year < 2000 for year in movielens.years)


# --------------------------------------------------------------------------- the fetch tool (offline)


def _fake_wheel(path: Path, contents: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in contents.items():
            archive.writestr(fetch_movielens.MEMBER_FOLDER + name, data)
        archive.writestr("recbole/dataset_example/ml-100k/ml-100k.kg", b"not wanted")


def test_fetch_extracts_only_the_two_files_and_checks_them(tmp_path, monkeypatch):
    contents = {"ml-100k.inter": INTER.read_bytes(), "ml-100k.item": ITEM.read_bytes()}
    wheel = tmp_path / "wheel" / fetch_movielens.WHEEL_NAME
    wheel.parent.mkdir()
    _fake_wheel(wheel, contents)
    monkeypatch.setattr(fetch_movielens, "WHEEL_SHA256", hashlib.sha256(wheel.read_bytes()).hexdigest())
    monkeypatch.setattr(
        fetch_movielens, "FILE_SHA256", {name: hashlib.sha256(data).hexdigest() for name, data in contents.items()}
    )
    calls = []

    def fake_download(folder, python):
        calls.append(folder)
        shutil.copy(wheel, folder / fetch_movielens.WHEEL_NAME)
        return folder / fetch_movielens.WHEEL_NAME

    monkeypatch.setattr(fetch_movielens, "download_wheel", fake_download)
    dest = tmp_path / "data" / "ml-100k"
    assert fetch_movielens.fetch(dest, log=lambda message: None) is True
    assert sorted(path.name for path in dest.iterdir()) == ["ml-100k.inter", "ml-100k.item"]
    assert (dest / "ml-100k.item").read_bytes() == ITEM.read_bytes()
    # Second run: the files are there with the right checksums, nothing is downloaded.
    assert fetch_movielens.fetch(dest, log=lambda message: None) is False
    assert len(calls) == 1
    # A damaged file is fetched again.
    (dest / "ml-100k.inter").write_bytes(b"damaged")
    assert fetch_movielens.fetch(dest, log=lambda message: None) is True
    assert (dest / "ml-100k.inter").read_bytes() == INTER.read_bytes()


def test_fetch_refuses_a_wheel_with_another_checksum(tmp_path):
    wheel = tmp_path / fetch_movielens.WHEEL_NAME
    _fake_wheel(wheel, {"ml-100k.inter": b"a", "ml-100k.item": b"b"})
    with pytest.raises(fetch_movielens.FetchError, match="refusing to use it"):
        fetch_movielens.extract(wheel, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_fetch_refuses_members_with_other_checksums(tmp_path, monkeypatch):
    wheel = tmp_path / fetch_movielens.WHEEL_NAME
    _fake_wheel(wheel, {"ml-100k.inter": b"a", "ml-100k.item": b"b"})
    monkeypatch.setattr(fetch_movielens, "WHEEL_SHA256", hashlib.sha256(wheel.read_bytes()).hexdigest())
    with pytest.raises(fetch_movielens.FetchError, match=r"ml-100k\.inter has SHA-256"):
        fetch_movielens.extract(wheel, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_fetch_main_reports_errors_in_one_line(tmp_path, monkeypatch, capsys):
    def failing(folder, python):
        raise fetch_movielens.FetchError("`pip download recbole==1.2.1` failed (exit status 1): no network")

    monkeypatch.setattr(fetch_movielens, "download_wheel", failing)
    assert fetch_movielens.main(["--dest", str(tmp_path / "x")]) == 1
    err = capsys.readouterr().err
    assert err == "fetch_movielens: error: `pip download recbole==1.2.1` failed (exit status 1): no network\n"


@needs_data
def test_fetch_main_does_nothing_when_the_data_are_there(tmp_path, monkeypatch, capsys):
    def no_network(folder, python):  # pragma: no cover - must not be called
        raise AssertionError("the network was used although the files were complete")

    monkeypatch.setattr(fetch_movielens, "download_wheel", no_network)
    for name in MOVIELENS_100K_SHA256:
        shutil.copy(REAL / name, tmp_path / name)
    assert fetch_movielens.main(["--dest", str(tmp_path)]) == 0
    assert "nothing to do" in capsys.readouterr().out


def test_fetch_default_destination_is_the_loaders_default(monkeypatch, tmp_path):
    monkeypatch.delenv("COSSIM_DATA_DIR", raising=False)
    assert fetch_movielens.default_destination() == default_data_dir()
    monkeypatch.setenv("COSSIM_DATA_DIR", str(tmp_path))
    assert fetch_movielens.default_destination() == default_data_dir() == tmp_path / "ml-100k"


def test_no_movielens_data_in_the_test_fixtures():
    # The fixture is synthetic: MovieLens may not be redistributed.
    for path in FIXTURES.iterdir():
        text = path.read_text(encoding="utf-8")
        assert "Star Wars" not in text and "Toy Story" not in text
