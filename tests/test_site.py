"""Layer 3a: the rendered site, read as HTML.

Needs the built book (`make test` builds it first). Every page of the table of contents exists;
no page shows an error, a traceback, a warning or a Sphinx problem marker; no page makes the
browser fetch anything from outside the site.
"""

import re

import pytest

from tests.site_support import SITE, book_pages, external_resources, page_problems, parse
from tools.book_pages import ROOT

pytestmark = pytest.mark.site

PAGES = book_pages()
IDS = [str(page.relative_to(ROOT)) for page in PAGES]



@pytest.fixture(scope="module", autouse=True)
def _site_is_built():
    if not (SITE / "index.html").is_file():
        pytest.fail("the book is not built: run `make book` (or `make test`, which builds it first)")


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_page_exists_and_is_not_empty(page):
    assert page.is_file(), f"missing page {page}"
    soup = parse(page)
    assert soup.find("article") is not None or page.name == "index.html"


@pytest.mark.parametrize("page", PAGES[1:], ids=IDS[1:])
def test_page_shows_no_error_or_warning(page):
    assert page_problems(parse(page)) == []


@pytest.mark.parametrize("page", sorted(SITE.rglob("*.html")), ids=lambda p: str(p.relative_to(SITE)))
def test_no_page_loads_anything_from_outside_the_site(page):
    assert external_resources(parse(page)) == []


def test_stylesheets_load_nothing_from_outside():
    offenders = []
    for sheet in SITE.rglob("*.css"):
        for url in re.findall(r"url\(\s*['\"]?([^'\")]+)", sheet.read_text(encoding="utf-8", errors="replace")):
            if url.startswith(("http:", "https:", "//")):
                offenders.append(f"{sheet.relative_to(SITE)}: {url}")
        if re.search(r"@import\s+(url\()?['\"]?(https?:)?//", sheet.read_text(encoding="utf-8", errors="replace")):
            offenders.append(f"{sheet.relative_to(SITE)}: @import")
    assert offenders == []


def test_mathjax_is_served_by_the_site_with_the_book_macros():
    pages = [parse(page) for page in PAGES[1:]]
    scripts = {script.get("src") for soup in pages for script in soup.find_all("script") if script.get("src")}
    assert "_static/mathjax/tex-chtml.js" in {src.split("?")[0].lstrip("./") for src in scripts}
    assert (SITE / "_static" / "mathjax" / "tex-chtml.js").is_file()
    config = " ".join(script.get_text() for soup in pages for script in soup.find_all("script"))
    for macro in ("cosSim", "dMat"):
        assert macro in config


def test_every_notebook_page_offers_its_executed_notebook():
    import json

    from tools.book_pages import notebook_sources

    for source in notebook_sources():
        relative = source.relative_to(ROOT).with_suffix("")
        page = parse(SITE / f"{relative}.html")
        links = {a.get("href") for a in page.find_all("a")}
        assert any(link and link.endswith(f"_sources/{relative}.ipynb") for link in links), relative
        notebook = json.loads((SITE / "_sources" / f"{relative}.ipynb").read_text(encoding="utf-8"))
        executed = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
        assert executed and all(cell.get("execution_count") for cell in executed), f"{relative}: not executed"
        outputs = [output for cell in executed for output in cell.get("outputs", [])]
        assert outputs, f"{relative}: the offered notebook has no outputs"
        assert not [o for o in outputs if o["output_type"] == "error" or o.get("name") == "stderr"], relative
