"""Fail if the built site is missing its index or any page of `_toc.yml`.

A build can "succeed" and still leave an empty or partial site (a wrong root, a chapter dropped
from the toc by a typo); this check runs after every `make book`.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools.book_pages import ROOT, expected_html, notebook_sources  # noqa: E402


def main() -> int:
    missing = [path for path in expected_html() if not path.is_file() or path.stat().st_size == 0]
    notebooks = ROOT / "_build" / "html" / "_sources"
    missing_notebooks = [
        source for source in notebook_sources()
        if not (notebooks / source.relative_to(ROOT).with_suffix(".ipynb")).is_file()
    ]
    mathjax = ROOT / "_build" / "html" / "_static" / "mathjax" / "tex-chtml.js"
    problems = [f"missing page: {path.relative_to(ROOT)}" for path in missing]
    problems += [f"missing executed notebook for download: {source.relative_to(ROOT)}" for source in missing_notebooks]
    if not mathjax.is_file():
        problems.append("MathJax is not served from the site (_static/mathjax/tex-chtml.js missing)")
    if problems:
        print("The built site is incomplete:", *problems, sep="\n  ", file=sys.stderr)
        return 1
    print(f"site complete: {len(expected_html())} pages, {len(notebook_sources())} executed notebooks, local MathJax")
    return 0


if __name__ == "__main__":
    sys.exit(main())
