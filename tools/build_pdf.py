"""Build the PDF edition from the executions of the last HTML build, and offer it in the site.

Usage (what `make pdf` runs, after `make book`)::

    python tools/build_pdf.py

Runs Jupyter Book's LaTeX builder (`--builder pdflatex`: XeLaTeX through latexmk, strict like the
HTML build) through `tools/build_book.py`, which reads every chapter from the execution cache the
HTML build filled, so no chapter is executed again and the PDF shows the site's outputs. The PDF
is copied to `_build/pdf/the-arbitrary-cosine.pdf` and into the HTML site, whose intro page then
shows its link (see `offer_in_site`).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools.book_pages import ROOT, toc_entries  # noqa: E402

PDF_NAME = "the-arbitrary-cosine.pdf"
BUILT = ROOT / "_build" / "latex" / PDF_NAME
PDF = ROOT / "_build" / "pdf" / PDF_NAME
# The intro page holds this element, hidden, inside an `{only} html` block; once the PDF sits in
# the site, the attribute is removed so that the link shows.
PDF_LINK_MARKER = '<p id="pdf-edition" hidden>'
PDF_LINK_SHOWN = '<p id="pdf-edition">'


def offer_in_site(site: Path = ROOT / "_build" / "html") -> Path:
    """Copy the PDF into the HTML site and reveal the intro page's link to it."""
    page = site / f"{toc_entries()[0]}.html"
    html = page.read_text(encoding="utf-8")
    # Hidden after `make book`, already shown after an earlier `make pdf`: one of the two, once.
    if html.count(PDF_LINK_MARKER) + html.count(PDF_LINK_SHOWN) != 1:
        raise SystemExit(f"{page} must contain {PDF_LINK_MARKER!r} exactly once")
    shutil.copy2(PDF, site / PDF_NAME)
    page.write_text(html.replace(PDF_LINK_MARKER, PDF_LINK_SHOWN), encoding="utf-8")
    return page


def main() -> int:
    shutil.rmtree(ROOT / "_build" / "latex", ignore_errors=True)
    subprocess.run([sys.executable, str(ROOT / "tools" / "build_book.py"), "--builder", "pdflatex"], check=True)
    if not BUILT.is_file():
        raise SystemExit(f"the LaTeX build wrote no {BUILT.relative_to(ROOT)}")
    PDF.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(BUILT, PDF)
    offer_in_site()
    print(f"wrote {PDF.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
