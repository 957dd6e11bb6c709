"""Layer 2: every notebook page of the book runs top to bottom in a fresh kernel.

Not part of `make test`: the book build already executes every page once, in a fresh kernel
from its own folder (`tools/build_book.py`), fails on any cell error or stderr output, and the
site tests check the executed notebook each page offers. This second, standalone execution
(`make test-chapters`) is for working on a chapter locally, without building the book.

Each notebook page listed in `_toc.yml` is executed from its own folder by the build's own
function (`tools/build_book.execute`: myst-nb's reader, jupyter-cache's executor). An error in any cell fails
the test; so does anything written to stderr (a warning in a chapter is a defect).
"""

import pytest

from tools.book_pages import ROOT, notebook_sources
from tools.build_book import execute

pytestmark = pytest.mark.chapters

SOURCES = notebook_sources()


@pytest.mark.parametrize("source", SOURCES, ids=[str(s.relative_to(ROOT)) for s in SOURCES])
def test_chapter_runs_in_a_fresh_kernel(source):
    _, notebook, _, error = execute(source)
    assert error is None, f"{source.name} failed:\n{error}"
    stderr = [
        output.get("text", "")
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.get("output_type") == "stream" and output.get("name") == "stderr"
    ]
    assert stderr == [], f"{source.name} wrote to stderr: {stderr}"
    assert any(cell.cell_type == "code" and cell.get("outputs") is not None for cell in notebook.cells)
