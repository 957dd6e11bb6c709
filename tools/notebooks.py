"""Write the executed notebook of every chapter, for readers who run the book locally.

Each MyST Markdown source listed in `_toc.yml` is converted with jupytext and executed top to
bottom in a fresh kernel, with the chapter's own folder as working directory (as the book
build does). Usage: `python tools/notebooks.py --out notebooks` (what `make notebooks` runs).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import jupytext
from nbclient import NotebookClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools.book_pages import ROOT, notebook_sources  # noqa: E402


def execute(source: Path, timeout: int = 600):
    """Return the notebook of `source`, executed in a fresh kernel from its own folder."""
    notebook = jupytext.read(source)
    client = NotebookClient(
        notebook, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(source.parent)}}
    )
    client.execute()
    return notebook


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "notebooks", help="folder to write the .ipynb files to")
    args = parser.parse_args(argv)
    for source in notebook_sources():
        target = args.out / source.relative_to(ROOT).with_suffix(".ipynb")
        target.parent.mkdir(parents=True, exist_ok=True)
        jupytext.write(execute(source), target)
        print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
