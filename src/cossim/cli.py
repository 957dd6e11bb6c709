"""The audit's command line: ``cossim-audit EMBEDDINGS`` (or ``python -m cossim.audit EMBEDDINGS``).

Used in ``chapters/audit.md`` ("Running it on your own embeddings"), which
runs it on the MovieLens embeddings with and without ``--users``.

It reads item embeddings (``.npy``, memory-mapped; ``.npz``; or the
word2vec/GloVe text format ``label v1 v2 ...`` with or without its header
line), runs :func:`cossim.audit.neighbour_stability` and prints, in this
order: the spread of the singular values of ``B`` (a flat spectrum makes the
family look stable), the overlap table, the least stable (or the chosen)
items, with ``--users`` their gauge-free neighbours next to their raw-cosine
neighbours, and one verdict line naming the row of the chapter's reading
guide that applies (:func:`cossim.audit.audit_verdict`).  ``--json`` prints
the same as one JSON object.

Exit status: 0 for a completed audit, whatever its verdict; 2 for bad input or
options, with a one-line message on stderr (no traceback).  A progress bar
(``tqdm``) appears on stderr for runs longer than two seconds, unless
``--quiet`` is given or stderr is not a terminal.

Import flow: :mod:`numpy`, :mod:`cossim.audit`; :mod:`tqdm` when a progress bar
is shown, :mod:`matplotlib` and :mod:`cossim.plotting` only for ``--plot``.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np

from cossim.audit import (
    DEFAULT_GAMMAS,
    EXACT_LIMIT,
    FLAT_SPREAD,
    NeighbourStabilityResult,
    audit_verdict,
    neighbour_stability,
)

__all__ = ["DEFAULT_SAMPLE", "main"]

#: Query items audited by default when there are more than :data:`cossim.audit.EXACT_LIMIT` items.
DEFAULT_SAMPLE = 2000

PROG = "cossim-audit"

#: Width of a label in the side-by-side neighbour lists.
_LABEL_WIDTH = 34

#: Width of the report's sentences (the tables are narrower).
_TEXT_WIDTH = 78


def _wrap(text: str) -> list[str]:
    return textwrap.wrap(text, _TEXT_WIDTH, subsequent_indent="  ", break_on_hyphens=False)


class _InputError(Exception):
    """A problem with the command line's input, reported in one line with exit status 2."""


# --------------------------------------------------------------------------- reading tables


def _reason(error: BaseException) -> str:
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return text


def _check_npy_array(array, path: Path, what: str) -> np.ndarray:
    if array.ndim != 2:
        raise _InputError(f"{path}: expected a 2-D array ({what} x dimensions), got shape {array.shape}")
    kind = array.dtype
    if not (np.issubdtype(kind, np.bool_) or np.issubdtype(kind, np.floating) or np.issubdtype(kind, np.integer)):
        raise _InputError(f"{path}: expected real numbers, got dtype {kind}")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise _InputError(f"{path}: the array is empty (shape {array.shape})")
    return array


def _load_text(path: Path, what: str) -> tuple[np.ndarray, list[str]]:
    """The word2vec/GloVe text format: ``label v1 v2 ... vk`` per line, optionally a ``count k`` header."""
    try:
        handle = open(path, encoding="utf-8")
    except OSError as error:
        raise _InputError(f"{path}: cannot be read ({error.strerror or error})") from error
    labels: list[str] = []
    rows: list[np.ndarray] = []
    header = None
    k = None
    try:
        with handle:
            for number, line in enumerate(handle, start=1):
                parts = line.split()
                if not parts:
                    continue
                if number == 1 and len(parts) == 2 and all(part.isdigit() for part in parts):
                    header = (int(parts[0]), int(parts[1]))
                    k = header[1]
                    continue
                if len(parts) < 2:
                    raise _InputError(f"{path}: line {number}: expected a label and numbers, got {line.strip()!r}")
                if k is None:
                    k = len(parts) - 1
                if len(parts) - 1 != k:
                    raise _InputError(f"{path}: line {number}: expected {k} numbers after the label, got {len(parts) - 1}")
                try:
                    values = np.array(parts[1:], dtype=np.float32)
                except ValueError:
                    bad = next(part for part in parts[1:] if not _is_number(part))
                    raise _InputError(f"{path}: line {number}: not a number: {bad!r}") from None
                if not np.all(np.isfinite(values)):
                    raise _InputError(f"{path}: line {number}: contains NaN or infinity")
                labels.append(parts[0])
                rows.append(values)
    except UnicodeDecodeError as error:
        raise _InputError(f"{path}: is neither a .npy/.npz file nor UTF-8 text ({error.reason})") from error
    if not rows:
        raise _InputError(f"{path}: no {what} in the file (expected lines 'label v1 v2 ...')")
    if header is not None and header[0] != len(rows):
        raise _InputError(f"{path}: the header announces {header[0]} rows, the file has {len(rows)}")
    return np.vstack(rows), labels


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def load_table(path: Path, *, what: str = "items", array: str | None = None) -> tuple[np.ndarray, list[str] | None, str]:
    """Read a table of embeddings: ``(array, labels or None, format)``; ``_InputError`` for bad input.

    ``.npy`` is memory-mapped (read tile by tile later); ``.npz`` needs ``array``
    when it holds more than one array; anything else is read as word2vec/GloVe
    text (float32), whose first column gives the labels.
    """
    if not path.exists():
        raise _InputError(f"{path}: no such file")
    if path.is_dir():
        raise _InputError(f"{path}: is a directory, expected a file")
    try:
        with open(path, "rb") as handle:
            magic = handle.read(6)
    except OSError as error:
        raise _InputError(f"{path}: cannot be read ({error.strerror or error})") from error
    if not magic:
        raise _InputError(f"{path}: the file is empty")
    if magic == b"\x93NUMPY":
        if array is not None:
            raise _InputError(f"{path}: is a .npy file (one array); --array applies to .npz files only")
        try:
            loaded = np.load(path, mmap_mode="r", allow_pickle=False)
        except Exception as error:  # noqa: BLE001 - any unreadable file is reported the same way
            raise _InputError(f"{path}: cannot be read as a .npy array ({_reason(error)})") from error
        return _check_npy_array(loaded, path, what), None, "npy"
    if magic[:4] == b"PK\x03\x04":
        try:
            with open(path, "rb") as handle, np.load(handle, allow_pickle=False) as archive:
                names = list(archive.files)
                if array is None:
                    if len(names) != 1:
                        raise _InputError(f"{path}: holds {len(names)} arrays ({', '.join(names) or 'none'}); "
                                          "choose one with --array NAME")
                    array = names[0]
                if array not in names:
                    raise _InputError(f"{path}: has no array {array!r} (it has: {', '.join(names)})")
                loaded = archive[array]
        except _InputError:
            raise
        except (zipfile.BadZipFile, ValueError, OSError) as error:
            raise _InputError(f"{path}: cannot be read as a .npz archive ({_reason(error)})") from error
        return _check_npy_array(loaded, path, what), None, "npz"
    if array is not None:
        raise _InputError(f"{path}: is not a .npz archive; --array applies to .npz files only")
    values, labels = _load_text(path, what)
    return values, labels, "text"


def _load_labels(path: Path, p: int) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _InputError(f"{path}: no such labels file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise _InputError(f"{path}: cannot be read as UTF-8 text ({_reason(error)})") from error
    labels = text.splitlines()
    if len(labels) != p:
        raise _InputError(f"{path}: expected {p} labels (one per line, one per item), got {len(labels)}")
    return labels


def _parse_gammas(text: str) -> np.ndarray:
    try:
        values = np.array([float(part) for part in text.split(",")])
    except ValueError:
        raise _InputError(f"--gammas must be numbers separated by commas, got {text!r}") from None
    if not np.all(np.isfinite(values)):
        raise _InputError(f"--gammas must be finite numbers, got {text!r}")
    return values


def _resolve_items(requested: list[str], labels: list[str] | None, p: int) -> list[int]:
    """Each ``--item``: an exact label, else an item index in 0..p-1."""
    index_of = {} if labels is None else {label: i for i, label in reversed(list(enumerate(labels)))}
    items = []
    for text in requested:
        if text in index_of:
            items.append(index_of[text])
            continue
        try:
            value = int(text)
        except ValueError:
            raise _InputError(f"--item {text!r}: no item has this label") from None
        if not 0 <= value < p:
            raise _InputError(f"--item {text!r}: item indices lie in 0..{p - 1}")
        items.append(value)
    return list(dict.fromkeys(items))


# --------------------------------------------------------------------------- the report


def _name(item: int, labels: list[str] | None) -> str:
    return labels[item] if labels is not None else f"item {item}"


def _short(text: str, width: int = _LABEL_WIDTH) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def _spectrum_lines(result: NeighbourStabilityResult, k: int) -> list[str]:
    return _wrap(
        f"Spectrum of B: the largest singular value is {result.spread:.2f} times the smallest nonzero one "
        f"(rank {result.rank} of {k}); effective rank {result.effective_rank:.1f}. "
        f"A ratio below {FLAT_SPREAD:g} (a flat spectrum) leaves the gauges of the table below little room "
        "to move."
    )


def _table_lines(result: NeighbourStabilityResult) -> list[str]:
    sampled = result.mode == "sampled"
    lines = [
        *_wrap(f"Mean overlap of each item's top-{result.top} list under B_gamma = B Q R^gamma Q^T "
               "(B = P R Q^T) with its list under B (gamma = 0). These gauges change no score U B^T."),
        "",
        f"{'gamma':>8}  {'mean overlap':>12}  " + (f"{'95% interval':>15}  " if sampled else "")
        + f"{'nearest neighbour changed':>25}",
    ]
    for index, gamma in enumerate(result.gammas):
        low, high = result.overlap_interval[index]
        interval = f"  {low:6.3f} - {high:6.3f}" if sampled else ""
        lines.append(f"{gamma:8.2f}  {result.mean_overlap[index]:12.3f}{interval}  "
                     f"{100 * result.nearest_changed[index]:24.1f}%")
    if result.zero_items.size:
        lines.append(f"{result.zero_items.size} item(s) with a zero embedding have no neighbours and are left out.")
    return lines


def _listing_lines(result, labels, listed, chosen) -> list[str]:
    if not listed:
        return []
    overlap = result.item_overlap
    if chosen:
        title = "The chosen items" if len(listed) > 1 else "The chosen item"
    else:
        title = f"The {len(listed)} least stable items" if len(listed) > 1 else "The least stable item"
    lines = ["", f"{title} (overlap averaged over the gammas):"]
    for item in listed:
        value = overlap[result.position(item)]
        lines.append(f"{value:8.3f}  {_name(item, labels)}" if not np.isnan(value)
                     else f"{'-':>8}  {_name(item, labels)} (zero embedding)")
    return lines


def _gauge_free_lines(result, users_name, labels, listed) -> list[str]:
    low, high = result.gauge_free_interval
    interval = f" (95% interval {low:.3f} - {high:.3f})" if result.mode == "sampled" else ""
    lines = [
        "",
        *_wrap(f"Gauge-free neighbours, from the users' table {users_name} ({result.n_users:,} rows): cosines of "
               "the rows of B (U^T U)^(1/2), the same in every gauge. Each item's raw-cosine top-"
               f"{result.top} list shares on average {result.mean_gauge_free_overlap:.3f} of its gauge-free "
               f"list{interval}."),
    ]
    for item in listed:
        row = result.position(item)
        raw, free = result.reference_neighbours[row], result.gauge_free_neighbours[row]
        shared = result.gauge_free_overlap[row]
        lines.append("")
        if np.isnan(shared):
            lines.append(f"{_name(item, labels)}: no gauge-free neighbours (zero embedding or zero scores)")
            continue
        lines.append(f"{_name(item, labels)}: {round(shared * result.top)} of {result.top} shared")
        lines.append(f"{'':>4}  {'raw cosine':<{_LABEL_WIDTH}}  gauge-free")
        for rank, (first, second) in enumerate(zip(raw, free), start=1):
            left = _short(_name(first, labels))
            lines.append(f"{rank:>4}  {left:<{_LABEL_WIDTH}}  {_short(_name(second, labels))}")
    return lines


def _report(result, *, source, k, labels, listed, chosen, users_name, note, audited) -> str:
    p = result.n_items
    scope = {"exact": "every item audited",
             "sampled": f"a uniform sample of {audited:,} query items against all items",
             "items": f"{audited} chosen item(s) against all items"}[result.mode]
    lines = _wrap(f"Audit of {p:,} items x {k} dimensions from {source}: top {result.top} neighbours by cosine, "
                  f"{scope}.")
    if note:
        lines += _wrap(note)
    lines += ["", *_spectrum_lines(result, k), "", *_table_lines(result)]
    lines += _listing_lines(result, labels, listed, chosen)
    if result.gauge_free_neighbours is not None:
        lines += _gauge_free_lines(result, users_name, labels, listed)
    row, statement = audit_verdict(result)
    lines += ["", *_wrap(f"verdict [{row}]: {statement}")]
    return "\n".join(lines)


def _json_report(result, *, source, fmt, k, labels, listed, users_name, options, audited) -> str:
    import cossim

    def items_json(items):
        entries = []
        for item in items:
            row = result.position(item)
            entry = {"item": int(item), "label": None if labels is None else labels[item],
                     "overlap": _number(result.item_overlap[row]),
                     "neighbours": result.reference_neighbours[row].tolist()}
            if result.gauge_free_neighbours is not None:
                entry["gauge_free_neighbours"] = result.gauge_free_neighbours[row].tolist()
                entry["gauge_free_overlap"] = _number(result.gauge_free_overlap[row])
            entries.append(entry)
        return entries

    row, statement = audit_verdict(result)
    report = {
        "input": {"path": source, "format": fmt, "items": result.n_items, "dimensions": k},
        "options": options,
        "mode": result.mode,
        "audited_items": int(audited),
        "spectrum": {"singular_values": result.singular_values.tolist(), "rank": result.rank,
                     "spread": result.spread, "effective_rank": result.effective_rank},
        "gammas": [
            {"gamma": float(gamma), "mean_overlap": _number(result.mean_overlap[index]),
             "interval": [_number(value) for value in result.overlap_interval[index]],
             "nearest_neighbour_changed": _number(result.nearest_changed[index])}
            for index, gamma in enumerate(result.gammas)
        ],
        "zero_items": result.zero_items.tolist(),
        "listed_items": items_json(listed),
        "gauge_free": None if result.gauge_free_neighbours is None else {
            "users": users_name, "rows": result.n_users,
            "mean_overlap_with_raw": _number(result.mean_gauge_free_overlap),
            "interval": [_number(value) for value in result.gauge_free_interval],
        },
        "verdict": {"row": row, "statement": statement},
        "versions": {"cossim": cossim.__version__, "numpy": np.__version__, "python": platform.python_version()},
    }
    return json.dumps(report, indent=2, allow_nan=False)


def _number(value) -> float | None:
    value = float(value)
    return None if np.isnan(value) else value


def _plot(result: NeighbourStabilityResult, path: Path, title: str) -> None:
    """Mean overlap (with its interval when sampled) and the changed nearest neighbour against gamma."""
    import matplotlib as mpl
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from cossim.plotting import use_book_style

    order = np.argsort(result.gammas, kind="stable")
    gammas = result.gammas[order]
    with mpl.rc_context():
        use_book_style()
        figure = Figure(figsize=(6.4, 3.6))
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        axes.plot(gammas, result.mean_overlap[order], marker="o", label=f"mean overlap of the top-{result.top} lists")
        if result.mode == "sampled":
            low, high = result.overlap_interval[order].T
            axes.fill_between(gammas, low, high, alpha=0.25, label="95% interval")
        axes.plot(gammas, result.nearest_changed[order], marker="s", linestyle="--",
                  label="nearest neighbour changed")
        axes.axvline(0.0, color="0.6", linewidth=0.8)
        axes.set_ylim(0.0, 1.03)
        axes.set_xlabel(r"$\gamma$ in $B_\gamma = B\,Q\,R^\gamma Q^\top$")
        axes.set_ylabel(r"fraction of items")
        axes.set_title(title)
        figure.legend(loc="outside lower center", ncols=2, frameon=False)
        figure.savefig(path)


# --------------------------------------------------------------------------- the command


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Audit item embeddings: how many of each item's top cosine neighbours survive the "
        "gauges B -> B Q R^gamma Q^T, which change no score U B^T; with --users, the gauge-free "
        "neighbours. Exit status 0 for a completed audit (whatever its verdict), 2 for bad input.",
    )
    parser.add_argument("embeddings", metavar="EMBEDDINGS", type=Path,
                        help="items x dimensions: .npy (memory-mapped), .npz, or word2vec/GloVe text "
                             "('label v1 v2 ...', header line optional; the labels come from the first column)")
    parser.add_argument("--array", metavar="NAME", help="the array to read from an .npz file of several")
    parser.add_argument("--top", type=int, default=10, help="neighbours per item (default 10)")
    parser.add_argument("--gammas", metavar="G1,G2,...", help="the family's exponents (default -1,-0.75,...,1)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--sample", metavar="N", type=int,
                      help=f"audit N query items drawn uniformly without replacement, against all items, "
                           f"with 95%% intervals (default: every item up to {EXACT_LIMIT:,} items, "
                           f"else {DEFAULT_SAMPLE:,})")
    mode.add_argument("--exact", action="store_true", help=f"audit every item even above {EXACT_LIMIT:,}")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sample (default 0)")
    parser.add_argument("--users", metavar="USERS", type=Path,
                        help="the users' table U (scores U B^T; rows x the same dimensions; .npy, .npz or text): "
                             "also print the gauge-free neighbours")
    parser.add_argument("--users-array", metavar="NAME", help="the array to read from an .npz file of users")
    parser.add_argument("--labels", metavar="FILE", type=Path,
                        help="UTF-8 text file with one label per line, one line per item")
    parser.add_argument("--item", metavar="ITEM", action="append", default=[],
                        help="an item to list (its label, or its index from 0); repeatable; "
                             "default: the least stable items")
    parser.add_argument("--least", metavar="N", type=int,
                        help="how many of the least stable items to list (default 10; 3 with --users)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the text report")
    parser.add_argument("--plot", metavar="OUT.png", type=Path, help="write a plot of the overlaps against gamma")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def _progress_bar(quiet: bool):
    """A callback drawing a tqdm bar on stderr (shown after 2 s), or None when off; and its closer."""
    if quiet or not sys.stderr.isatty():
        return None, lambda: None
    from tqdm import tqdm

    bar = tqdm(total=1000, file=sys.stderr, delay=2.0, unit="", bar_format="{l_bar}{bar}| {elapsed}<{remaining}",
               desc="auditing", leave=False)

    def update(fraction: float) -> None:
        bar.update(max(0, int(round(1000 * fraction)) - bar.n))

    return update, bar.close


_ARGUMENT_NAMES = {"top": "--top", "sample": "--sample", "gammas": "--gammas", "seed": "--seed", "items": "--item"}


def _input_error(error: ValueError, embeddings: Path, users: Path | None) -> _InputError:
    """A ValueError of neighbour_stability as a one-line message naming the option or the file."""
    text = str(error)
    name, _, rest = text.partition(" ")
    if name == "B":
        return _InputError(f"{embeddings}: {rest}")
    if name == "users" and users is not None:
        return _InputError(f"{users}: {rest}")
    if name in _ARGUMENT_NAMES:
        return _InputError(f"{_ARGUMENT_NAMES[name]} {rest}")
    return _InputError(text)


def main(argv=None) -> int:
    """Run the command line (``cossim-audit --help``); return the exit status.

    0 for a completed audit, whatever its verdict; 2 for any error in the
    arguments or the input (one line on stderr, no traceback).
    """
    parser = _parser()
    try:
        arguments = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse has printed its usage and message (or the help)
        return int(exit_.code or 0)
    close = lambda: None  # noqa: E731
    try:
        if arguments.least is not None and arguments.least < 0:
            raise _InputError(f"--least must be >= 0, got {arguments.least}")
        gammas = DEFAULT_GAMMAS if arguments.gammas is None else _parse_gammas(arguments.gammas)
        B, labels, fmt = load_table(arguments.embeddings, what="items", array=arguments.array)
        p, k = B.shape
        if arguments.labels is not None:
            labels = _load_labels(arguments.labels, p)
        users = None
        if arguments.users is not None:
            users, _, _ = load_table(arguments.users, what="users", array=arguments.users_array)
            if users.shape[1] != k:
                raise _InputError(f"{arguments.users}: has {users.shape[1]} columns, the embeddings have {k} "
                                  "(both tables must use the same latent dimensions)")
        elif arguments.users_array is not None:
            raise _InputError("--users-array needs --users")
        chosen = _resolve_items(arguments.item, labels, p)

        note = ""
        sample = arguments.sample
        if sample is None and not arguments.exact and p > EXACT_LIMIT:
            sample = min(DEFAULT_SAMPLE, p)
            note = (f"More than {EXACT_LIMIT:,} items: auditing a sample of {sample:,} "
                    "(--sample N to change, --exact for all).")
        progress, close = _progress_bar(arguments.quiet)
        try:
            result = neighbour_stability(B, top=arguments.top, gammas=gammas, sample=sample, seed=arguments.seed,
                                         users=users, progress=progress)
            extra = None
            audited = set(result.items.tolist())
            missing = [item for item in chosen if item not in audited]
            if missing:  # sampled mode: the chosen items are audited on their own
                extra = neighbour_stability(B, top=arguments.top, gammas=gammas, items=missing, users=users)
        except ValueError as error:
            raise _input_error(error, arguments.embeddings, arguments.users) from error
        finally:
            close()

        least = arguments.least if arguments.least is not None else (3 if users is not None else 10)
        if chosen:
            listed, listed_result = chosen, (result if extra is None else _combine(result, extra))
        else:
            listed, listed_result = result.least_stable(least).tolist(), result
        users_name = None if arguments.users is None else arguments.users.name
        if arguments.json:
            options = {"top": result.top, "gammas": [float(g) for g in result.gammas], "sample": sample,
                       "seed": arguments.seed if sample is not None else None, "users": users_name}
            print(_json_report(listed_result, source=arguments.embeddings.name, fmt=fmt, k=k, labels=labels,
                               listed=listed, users_name=users_name, options=options,
                               audited=result.items.size))
        else:
            print(_report(listed_result, source=arguments.embeddings.name, k=k, labels=labels, listed=listed,
                          chosen=bool(chosen), users_name=users_name, note=note, audited=result.items.size))
        if arguments.plot is not None:
            try:
                _plot(result, arguments.plot, f"{p:,} items, {k} dimensions")
            except OSError as error:
                raise _InputError(f"{arguments.plot}: cannot write the plot ({error.strerror or error})") from error
            if not arguments.json:
                print(f"plot written to {arguments.plot}")
    except _InputError as error:
        close()
        print(f"{PROG}: error: {' '.join(str(error).split())}", file=sys.stderr)
        return 2
    return 0


def _combine(result: NeighbourStabilityResult, extra: NeighbourStabilityResult) -> NeighbourStabilityResult:
    """``result`` with the per-item rows of ``extra`` (items audited on their own) added, for listing only.

    The summary numbers (means, intervals, verdict) stay those of ``result``.
    """
    import dataclasses

    items = np.concatenate([result.items, extra.items])
    order = np.argsort(items, kind="stable")

    def join(first, second, axis):
        return None if first is None else np.take(np.concatenate([first, second], axis=axis), order, axis=axis)

    return dataclasses.replace(
        result,
        items=items[order],
        overlaps=join(result.overlaps, extra.overlaps, 1),
        neighbours=join(result.neighbours, extra.neighbours, 1),
        reference_neighbours=join(result.reference_neighbours, extra.reference_neighbours, 0),
        gauge_free_neighbours=join(result.gauge_free_neighbours, extra.gauge_free_neighbours, 0),
        gauge_free_overlap=join(result.gauge_free_overlap, extra.gauge_free_overlap, 0),
    )


if __name__ == "__main__":
    raise SystemExit(main())
