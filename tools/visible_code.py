"""Count the code a reader sees on each page: the inputs of code cells that are not hidden.

Usage::

    python tools/visible_code.py [chapters/x.md ...]     # every notebook page when none is given

A code cell's input is visible unless its tags remove it (`remove-input`, `remove-cell`) or
collapse it (`hide-input`, `hide-cell`). For each page the script prints the visible lines (blank
lines included, as the reader sees them), the longest visible cell, and whether the page meets the
book's targets: at most 150 visible lines per page, no visible cell over 25 lines. The site test
`tests/test_readability.py` counts the same from the built HTML.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools.book_pages import ROOT, notebook_sources  # noqa: E402

MAX_PAGE_LINES = 150
MAX_CELL_LINES = 25
HIDING_TAGS = {"remove-input", "remove-cell", "hide-input", "hide-cell"}


@dataclass(frozen=True)
class VisibleCode:
    page: str
    lines: int
    longest_cell: int
    cells: int

    @property
    def within_targets(self) -> bool:
        return self.lines <= MAX_PAGE_LINES and self.longest_cell <= MAX_CELL_LINES


def visible_code(source: Path) -> VisibleCode:
    """Visible code lines of one MyST notebook, read with jupytext as the build reads it."""
    import jupytext

    notebook = jupytext.read(source)
    sizes = [
        len(cell.source.rstrip("\n").splitlines())
        for cell in notebook.cells
        if cell.cell_type == "code" and not HIDING_TAGS & set(cell.metadata.get("tags", []))
    ]
    return VisibleCode(str(source.relative_to(ROOT)), sum(sizes), max(sizes, default=0), len(sizes))


def main(argv: list[str]) -> int:
    sources = [Path(arg).resolve() for arg in argv] or notebook_sources()
    results = [visible_code(source) for source in sources]
    for result in results:
        verdict = "ok" if result.within_targets else "OVER"
        print(f"{result.page:36} {result.lines:4} lines in {result.cells:3} visible cells, "
              f"longest {result.longest_cell:3}  {verdict}")
    return 0 if all(result.within_targets for result in results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
