"""Real data for the book: MovieLens-100k, read from files fetched once, never committed.

The book's last chapters ask whether the neighbours that cosine similarity
finds among real movies survive a change of gauge.  The data are the
MovieLens-100k ratings (Harper and Konstan 2015, ``harper2015movielens`` in
``references.bib``): 100,000 ratings of 1,682 movies by 943 users.  Their
licence forbids redistribution, so the repository does not contain them:
``make data`` (that is, ``python tools/fetch_movielens.py``) downloads the
wheel of the PyPI package ``recbole==1.2.1`` with pip, which ships a copy in
RecBole's "atomic file" format, and extracts only the two files used here into
``data/ml-100k/`` (git-ignored).  RecBole itself is never installed.

**Where the files are looked for.**  :func:`load_movielens_100k` reads the
folder given as ``data_dir``; without it, ``$COSSIM_DATA_DIR/ml-100k`` when the
environment variable ``COSSIM_DATA_DIR`` is set (it names the data root, the
folder that holds ``ml-100k/``), else ``data/ml-100k`` at the root of the
repository, found relative to this source file (that works for the editable
install the book uses; for any other install set ``COSSIM_DATA_DIR``).

**The file format** (RecBole atomic files: UTF-8, tab-separated, a header line
of ``name:type`` fields; columns are found by name, not position):

* ``ml-100k.inter``: ``user_id:token  item_id:token  rating:float  timestamp:float``,
  one line per rating (ratings are the integers 1 to 5; timestamps are Unix seconds);
* ``ml-100k.item``: ``item_id:token  movie_title:token_seq  release_year:token  class:token_seq``,
  one line per movie.  RecBole has split the original title "Star Wars (1977)"
  into the title "Star Wars" and the year "1977"; the genres are separated by
  single spaces ("Action Adventure Romance Sci-Fi War").

Two entries of the ``.item`` file are damaged in RecBole's copy, and are kept
as they are except for the year: movie 267 has title and year "unkonwn" (sic;
it is "unknown" in the original data), and movie 1412 has the year "V" (the
original title ends in "(1995) (V)", for video).  A year is an ``int`` when the
field is four digits and ``None`` otherwise, so both years are ``None``.  The
genre "unknown" (of movies 267 and 1373) is kept as a genre, as MovieLens has it.

Import flow: this module imports only :mod:`numpy`, :mod:`cossim._util` and the standard library.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cossim._util import read_only

__all__ = [
    "MOVIELENS_100K_SHA256",
    "MovieRatings",
    "default_data_dir",
    "load_movielens_100k",
    "read_recbole_movies",
]

#: SHA-256 of the two files as shipped in the wheel ``recbole-1.2.1-py3-none-any.whl``
#: (the same constants are hard-coded in ``tools/fetch_movielens.py``; a test checks they agree).
MOVIELENS_100K_SHA256 = {
    "ml-100k.inter": "4edb74e2a81178c2ba9ff381495f754f996c4aea351b1272ca36b43da0935eff",
    "ml-100k.item": "51d7cdf777ce5c0f5b32c1d947a4a81fe07d75e78abbe761e0cd4d0756064532",
}

#: The environment variable that names the data root (the folder holding ``ml-100k/``).
DATA_DIR_VARIABLE = "COSSIM_DATA_DIR"

_INTER_COLUMNS = ("user_id", "item_id", "rating", "timestamp")
_ITEM_COLUMNS = ("item_id", "movie_title", "release_year", "class")
_YEAR = re.compile(r"[0-9]{4}")


@dataclass(frozen=True)
class MovieRatings:
    """Ratings of movies by users, and what is known about the movies.

    Returned by :func:`load_movielens_100k` and :func:`read_recbole_movies`.
    Arrays are read-only.

    Attributes
    ----------
    X : ndarray of float64, shape (n_users, n_items)
        The implicit-feedback matrix of the book: ``X[u, i] = 1`` when user
        ``u`` rated movie ``i`` at all, whatever the rating (a rating of 1 star
        counts as 1, like 5 stars: the book models *who watched what*, as the
        paper's binary ``X`` does), else 0.
    user_ids : ndarray of int64, shape (n_users,)
        The user id of each row, ascending.  Only users with at least one
        rating appear.
    movie_ids : ndarray of int64, shape (n_items,)
        The movie id of each column, ascending.  Every movie of the ``.item``
        file appears, rated or not (an unrated movie is a zero column).
    titles : tuple of str, length n_items
        Titles without the year, as in the ``.item`` file ("Star Wars").
    years : tuple of (int or None), length n_items
        Release years; ``None`` where the file has no four-digit year.
    genres : tuple of frozenset of str, length n_items
        Genres of each movie (MovieLens' 19, including "unknown").
    rating_rows, rating_columns : ndarray of int64, shape (n_ratings,)
        Row (user) and column (movie) index in ``X`` of each rating, in file order.
    rating_values : ndarray of float64, shape (n_ratings,)
        The ratings themselves (1 to 5 stars in MovieLens).
    rating_timestamps : ndarray of float64, shape (n_ratings,)
        When each rating was given (Unix seconds).
    """

    X: np.ndarray
    user_ids: np.ndarray
    movie_ids: np.ndarray
    titles: tuple[str, ...]
    years: tuple[int | None, ...]
    genres: tuple[frozenset[str], ...]
    rating_rows: np.ndarray
    rating_columns: np.ndarray
    rating_values: np.ndarray
    rating_timestamps: np.ndarray

    @property
    def n_users(self) -> int:
        """Number of rows of ``X``."""
        return int(self.X.shape[0])

    @property
    def n_items(self) -> int:
        """Number of columns of ``X``."""
        return int(self.X.shape[1])

    @property
    def n_ratings(self) -> int:
        """Number of rating lines read (duplicates, if any, counted each time)."""
        return int(self.rating_values.shape[0])

    @property
    def labels(self) -> tuple[str, ...]:
        """One label per movie, "Title (Year)" as MovieLens writes it, or the bare title without a year."""
        return tuple(
            title if year is None else f"{title} ({year})" for title, year in zip(self.titles, self.years)
        )

    def column_of(self, title: str, year: int | None = None) -> int:
        """The column of ``X`` of the movie with this title (and year, if given).

        Raises ``ValueError`` if no movie or more than one matches (22 titles
        occur twice in MovieLens-100k; give the year, or use ``movie_ids``).
        """
        matches = [
            column
            for column, (t, y) in enumerate(zip(self.titles, self.years))
            if t == title and (year is None or y == year)
        ]
        if len(matches) != 1:
            what = f"{title!r}" + ("" if year is None else f" ({year})")
            raise ValueError(f"title must name exactly one movie: {what} matches {len(matches)}")
        return matches[0]


# --------------------------------------------------------------------------- locating the files


def _repository_root() -> Path:
    """The folder two levels above the package, the repository root in an editable (src/) install."""
    return Path(__file__).resolve().parent.parent.parent


def default_data_dir() -> Path:
    """The folder :func:`load_movielens_100k` reads when no ``data_dir`` is given.

    Used by :func:`load_movielens_100k`.

    ``$COSSIM_DATA_DIR/ml-100k`` if the environment variable ``COSSIM_DATA_DIR``
    is set (and not empty), else ``data/ml-100k`` at the repository root
    (located from this source file, ``src/cossim/datasets.py``).
    ``tools/fetch_movielens.py`` writes to the same folder by default.
    """
    root = os.environ.get(DATA_DIR_VARIABLE)
    if root:
        return Path(root) / "ml-100k"
    return _repository_root() / "data" / "ml-100k"


def _fetch_command(folder: Path | None) -> str:
    """The command that fetches the files into ``folder`` (None: the default folder)."""
    if folder is None:
        return "`make data` (or `python tools/fetch_movielens.py`)"
    return f"`python tools/fetch_movielens.py --dest {folder}`"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# --------------------------------------------------------------------------- parsing


def _read_lines(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8-sig")  # UTF-8, with or without a byte-order mark
    except FileNotFoundError:  # stays a FileNotFoundError (the clause below is for other OSErrors)
        raise
    except UnicodeDecodeError as error:
        raise ValueError(f"{path} is not UTF-8 text ({error})") from error
    except OSError as error:
        raise ValueError(f"{path} cannot be read ({error})") from error
    return text.splitlines()


def _read_atomic(path: Path, required: tuple[str, ...]) -> tuple[dict[str, int], list[tuple[int, list[str]]]]:
    """Parse a RecBole atomic file: the column index of each required field, and the data lines.

    Every data line is returned as ``(line number, fields)``; blank lines are
    skipped; a line with the wrong number of fields is an error.
    """
    lines = _read_lines(path)
    if not lines:
        raise ValueError(f"{path} is empty")
    header = lines[0].split("\t")
    names = [field.split(":", 1)[0] for field in header]
    missing = [name for name in required if name not in names]
    if missing:
        raise ValueError(
            f"{path} is not in the expected format: its header line {lines[0]!r} lacks the "
            f"column(s) {', '.join(missing)}"
        )
    columns = {name: names.index(name) for name in required}
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != len(header):
            raise ValueError(
                f"{path}, line {number}: expected {len(header)} tab-separated fields, got {len(fields)}"
            )
        rows.append((number, fields))
    return columns, rows


def _integer(value: str, path: Path, number: int, name: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{path}, line {number}: {name} must be an integer id, got {value!r}") from None


def _column(rows: list[tuple[int, list[str]]], index: int, dtype, path: Path, name: str) -> np.ndarray:
    """One column of the data lines as an array of ``dtype`` (int64 ids or finite float64 numbers).

    Converted in one numpy call; only if that fails (or gives a non-finite
    number) are the lines checked one by one, to name the first bad one.
    """
    texts = [fields[index].strip() for _, fields in rows]
    try:
        array = np.array(texts).astype(dtype)
    except (ValueError, OverflowError):
        array = None
    if array is not None and (dtype is np.int64 or np.all(np.isfinite(array))):
        return array
    for number, text in zip((number for number, _ in rows), texts):
        if dtype is np.int64:
            _integer(text, path, number, name)
        else:
            try:
                value = float(text)
            except ValueError:
                value = float("nan")
            if not np.isfinite(value):
                raise ValueError(f"{path}, line {number}: {name} must be a finite number, got {text!r}")
    raise ValueError(f"{path}: the column {name} cannot be read as {np.dtype(dtype).name}")  # pragma: no cover


def read_recbole_movies(inter_path, item_path) -> MovieRatings:
    """Read a pair of RecBole atomic files (ratings and movies) into :class:`MovieRatings`.

    Used by :func:`load_movielens_100k`, and by the tests on a small synthetic
    pair in the same format.  No checksum is verified here.

    Parameters
    ----------
    inter_path : str or path
        The ``.inter`` file: columns ``user_id``, ``item_id``, ``rating``,
        ``timestamp`` (found by name in the ``name:type`` header; other
        columns are ignored).
    item_path : str or path
        The ``.item`` file: columns ``item_id``, ``movie_title``,
        ``release_year``, ``class`` (the genres, separated by spaces).

    Returns
    -------
    MovieRatings
        Rows are the users of the ``.inter`` file in ascending id order,
        columns the movies of the ``.item`` file in ascending id order.  A
        (user, movie) pair rated twice gives one 1 in ``X`` (and two entries
        in the rating arrays).

    Raises
    ------
    FileNotFoundError
        If a file does not exist.
    ValueError
        If a file is not UTF-8, lacks a required column, has a line with
        the wrong number of fields, a non-integer id, a non-finite rating or
        timestamp, a movie id listed twice in the ``.item`` file, a rating of
        a movie that the ``.item`` file does not list, or no rating at all.
        The message names the file and, where it applies, the line.
    """
    inter_path, item_path = Path(inter_path), Path(item_path)
    item_columns, item_rows = _read_atomic(item_path, _ITEM_COLUMNS)
    inter_columns, inter_rows = _read_atomic(inter_path, _INTER_COLUMNS)

    movies = []
    for number, fields in item_rows:
        movie_id = _integer(fields[item_columns["item_id"]], item_path, number, "item_id")
        year_field = fields[item_columns["release_year"]].strip()
        year = int(year_field) if _YEAR.fullmatch(year_field) else None
        genres = frozenset(fields[item_columns["class"]].split())
        movies.append((movie_id, fields[item_columns["movie_title"]], year, genres, number))
    movies.sort(key=lambda movie: movie[0])
    for previous, current in zip(movies, movies[1:]):
        if previous[0] == current[0]:
            raise ValueError(f"{item_path}, line {current[4]}: movie id {current[0]} is listed twice")
    if not movies:
        raise ValueError(f"{item_path} lists no movie")

    n_ratings = len(inter_rows)
    if n_ratings == 0:
        raise ValueError(f"{inter_path} holds no rating")
    users = _column(inter_rows, inter_columns["user_id"], np.int64, inter_path, "user_id")
    rated = _column(inter_rows, inter_columns["item_id"], np.int64, inter_path, "item_id")
    values = _column(inter_rows, inter_columns["rating"], np.float64, inter_path, "rating")
    timestamps = _column(inter_rows, inter_columns["timestamp"], np.float64, inter_path, "timestamp")
    movie_ids = np.array([movie[0] for movie in movies], dtype=np.int64)
    columns = np.searchsorted(movie_ids, rated).astype(np.int64)
    found = movie_ids[np.minimum(columns, movie_ids.size - 1)]
    unknown = np.flatnonzero((columns == movie_ids.size) | (found != rated))
    if unknown.size:
        number = inter_rows[unknown[0]][0]
        raise ValueError(f"{inter_path}, line {number}: movie id {rated[unknown[0]]} is not listed in {item_path}")

    user_ids, rows = np.unique(users, return_inverse=True)
    rows = rows.reshape(-1).astype(np.int64)
    X = np.zeros((user_ids.size, len(movies)), dtype=np.float64)
    X[rows, columns] = 1.0
    return MovieRatings(
        X=read_only(X),
        user_ids=read_only(user_ids.astype(np.int64)),
        movie_ids=read_only(movie_ids),
        titles=tuple(movie[1] for movie in movies),
        years=tuple(movie[2] for movie in movies),
        genres=tuple(movie[3] for movie in movies),
        rating_rows=read_only(rows),
        rating_columns=read_only(columns),
        rating_values=read_only(values),
        rating_timestamps=read_only(timestamps),
    )


# --------------------------------------------------------------------------- MovieLens-100k


def load_movielens_100k(data_dir=None, *, verify: bool = True) -> MovieRatings:
    """MovieLens-100k (Harper and Konstan 2015): 100,000 ratings of 1,682 movies by 943 users.

    Used in ``chapters/movielens.md`` and ``chapters/audit.md``, where the
    neighbour audit of :mod:`cossim.audit` is run on the item embeddings of a
    model fitted to ``X``.  The files are not part of the repository (the licence forbids
    redistribution); ``make data`` fetches them (see the module docstring).

    Parameters
    ----------
    data_dir : str or path, optional
        The folder holding ``ml-100k.inter`` and ``ml-100k.item``.  Default:
        :func:`default_data_dir` (``$COSSIM_DATA_DIR/ml-100k``, else
        ``data/ml-100k`` at the repository root).
    verify : bool, default True
        Check the SHA-256 of both files against :data:`MOVIELENS_100K_SHA256`
        before parsing (a few milliseconds).  Turn off only to read other
        files in the same format.

    Returns
    -------
    MovieRatings
        ``X`` of shape (943, 1682), 0/1: ``X[u, i] = 1`` when user ``u`` rated
        movie ``i``, with any number of stars; 100,000 ratings, no pair
        rated twice, every movie rated at least once.

    Raises
    ------
    FileNotFoundError
        If a file is missing; the message names it and the command that fetches it.
    ValueError
        If a file's checksum differs (a corrupt or different file; the message
        says how to fetch it again) or, with ``verify=False``, it cannot be parsed.

    Examples
    --------
    >>> movies = load_movielens_100k()
    >>> movies.X.shape, movies.labels[movies.column_of("Star Wars")]
    ((943, 1682), 'Star Wars (1977)')
    """
    folder = default_data_dir() if data_dir is None else Path(data_dir)
    paths = {name: folder / name for name in MOVIELENS_100K_SHA256}
    fetch = _fetch_command(None if data_dir is None else folder)
    for path in paths.values():
        if not path.is_file():
            raise FileNotFoundError(f"MovieLens-100k file {path} not found; fetch the data with {fetch}")
    if verify:
        for name, path in paths.items():
            found = _sha256(path)
            if found != MOVIELENS_100K_SHA256[name]:
                raise ValueError(
                    f"{path} has SHA-256 {found}, not the expected {MOVIELENS_100K_SHA256[name]}: the file "
                    f"is corrupt or not RecBole 1.2.1's copy of MovieLens-100k; delete it and fetch it again "
                    f"with {fetch}"
                )
    try:
        return read_recbole_movies(paths["ml-100k.inter"], paths["ml-100k.item"])
    except ValueError as error:
        raise ValueError(f"{error}; to fetch MovieLens-100k again use {fetch}") from error
