"""Build the book: execute every chapter (one per available core), then run Jupyter Book.

Usage (what `make book` and `make pdf` run)::

    python tools/build_book.py --builder html [--jobs N]   # execute afresh, then build the site
    python tools/build_book.py --builder pdflatex          # build the PDF from those executions

Jupyter Book executes notebooks while Sphinx reads them, one at a time, and Sphinx cannot read
this book in parallel (sphinx-proof's domain does not support merging parallel reads). So for the
HTML build this script first empties myst-nb's execution cache (`execute.cache` in
`_config.yml`), then executes every notebook page of `_toc.yml` itself, N at a time, exactly as
myst-nb would (myst-nb's own reader, jupyter-cache's own executor, the chapter's folder as working
directory, the timeout and error settings of `_config.yml`), and stores each executed notebook
in that cache. Sphinx then reads every page from the cache (`execute_notebooks: cache`) instead
of executing it, and the executed notebooks go to `_build/executed` for readers to download
(myst-nb's own copy in `_build/jupyter_execute` lacks the outputs when it reads from the cache).
Nothing is reused across builds: the cache holds only this build's executions,
and the PDF build that follows reads the same ones, so the PDF shows the site's very outputs.

Anything a cell writes to stderr still fails the build (myst-nb checks it when it renders the
page, `stderr_output: error`); a cell error fails it here, with the traceback. Per-chapter
execution times are printed, longest first.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools.book_pages import ROOT, notebook_sources  # noqa: E402

CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
CACHE = ROOT / CONFIG["execute"]["cache"]
# The executed notebooks, as readers download them from each page (`_ext/book_assets.py`).
EXECUTED = ROOT / "_build" / "executed"


def read_notebook(source: Path):
    """The notebook myst-nb reads from `source`: same reader, so the same cache key."""
    from myst_nb.core.config import NbParserConfig
    from myst_nb.core.read import create_nb_reader
    from myst_parser.config.main import MdParserConfig

    text = source.read_text(encoding="utf-8")
    reader = create_nb_reader(str(source), MdParserConfig(), NbParserConfig(), text)
    if reader is None:
        raise ValueError(f"{source} is not a notebook")
    return reader.read(text)


def execute(source: Path):
    """Execute the notebook of `source` as myst-nb does; return (source, notebook, seconds, error)."""
    from jupyter_cache.executors.utils import single_nb_execution
    from traitlets.config import Config

    notebook = read_notebook(source)
    with tempfile.TemporaryDirectory(prefix="cossim-kernel-") as sockets:
        # Unix sockets, not TCP ports: kernels started at the same moment by parallel workers
        # can pick the same free port (seen: "Address already in use" on the heartbeat).
        config = Config()
        config.KernelManager.transport = "ipc"
        config.KernelManager.ip = str(Path(sockets) / "kernel")
        result = single_nb_execution(
            notebook,
            cwd=str(source.parent),
            timeout=CONFIG["execute"]["timeout"],
            allow_errors=CONFIG["execute"]["allow_errors"],
            meta_override=True,
            config=config,
        )
    return source, notebook, result.time, result.exc_string if result.err is not None else None


def execute_all(jobs: int) -> dict[Path, float]:
    """Execute every notebook page into a fresh cache, `jobs` at a time; return the times."""
    import nbformat
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    shutil.rmtree(CACHE, ignore_errors=True)
    shutil.rmtree(EXECUTED, ignore_errors=True)
    cache = get_cache(str(CACHE))
    times, failures = {}, []
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for future in as_completed([pool.submit(execute, source) for source in notebook_sources()]):
            source, notebook, seconds, error = future.result()
            times[source] = seconds
            if error is not None:
                failures.append(f"{source.relative_to(ROOT)}:\n{error}")
                continue
            # Stored under the same key myst-nb computes when it reads the page.
            cache.cache_notebook_bundle(
                CacheBundleIn(notebook, str(source), data={"execution_seconds": seconds}),
                check_validity=False,
                overwrite=True,
            )
            target = EXECUTED / source.relative_to(ROOT).with_suffix(".ipynb")
            target.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(notebook, target)
    for source, seconds in sorted(times.items(), key=lambda item: -item[1]):
        print(f"executed {source.relative_to(ROOT)} in {seconds:.1f} s")
    if failures:
        print("A chapter failed to execute:", *failures, sep="\n\n", file=sys.stderr)
        raise SystemExit(1)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--builder", default="html", choices=["html", "pdflatex"])
    parser.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0)),
                        help="chapters executed at once (default: one per core this process may use)")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs must be >= 1, got {args.jobs}")
    if CONFIG["execute"]["execute_notebooks"] != "cache":
        parser.error("_config.yml must set execute.execute_notebooks: cache (this script fills the cache)")
    os.chdir(ROOT)
    if args.builder == "html":
        execute_all(args.jobs)
    elif not CACHE.is_dir():
        raise SystemExit("no executed notebooks to build the PDF from: run `make book` first")

    from jupyter_book.cli.main import main as jupyter_book

    try:
        jupyter_book(["build", ".", "--nitpick", "--warningiserror", "--keep-going", "--builder", args.builder])
    except SystemExit as exit:
        if exit.code:  # the build failed: a warning, a cell error or a LaTeX error
            raise
    check_nothing_executed_twice()
    return 0


def check_nothing_executed_twice() -> None:
    """Fail if Sphinx executed a page instead of reading it from this build's executions.

    myst-nb registers a notebook in the cache's project only when it finds no execution to
    reuse and runs it itself; this script never does. So an empty project means every page was
    read from the executions above, each chapter executed exactly once.
    """
    from jupyter_cache import get_cache

    executed_by_sphinx = get_cache(str(CACHE)).list_project_records()
    if executed_by_sphinx:
        names = ", ".join(record.uri for record in executed_by_sphinx)
        raise SystemExit(f"Sphinx executed {names} again: its cache key differs from tools/build_book.py's")


if __name__ == "__main__":
    sys.exit(main())
