"""Layer 3c: the PDF edition (`make pdf`, which `make test` runs when XeLaTeX is installed).

The PDF must hold the whole book as the site shows it: every chapter, every numbered theorem,
proposition and exercise under the number the HTML gives it, at least as many images as the site
has figures, no unresolved reference (LaTeX prints `??`) and no maths macro that reached the text
undefined. The site's intro page links to it.

Where XeLaTeX is absent these tests skip and say what to install; CI installs it and sets
COSSIM_REQUIRE_PDF=1, which turns that skip into a failure.
"""

import os
import re
import shutil
import subprocess

import pytest
import yaml

from tests.site_support import SITE, parse
from tools.book_pages import ROOT, expected_html, toc_entries
from tools.build_pdf import PDF, PDF_LINK_SHOWN, PDF_NAME

pytestmark = pytest.mark.pdf

INSTALL_HINT = (
    "apt-get install -y texlive-xetex texlive-latex-extra texlive-fonts-recommended latexmk "
    "fonts-freefont-otf poppler-utils"
)
# Numbered blocks of sphinx-proof and sphinx-exercise as the HTML titles them ("Theorem 3.2"), and
# figures as their captions number them ("Fig. 3.1").
NUMBERED = re.compile(
    r"\b(Theorem|Proposition|Lemma|Corollary|Definition|Remark|Example|Exercise|Fig\.) (\d+(?:\.\d+)+)"
)


@pytest.fixture(scope="module")
def pdf_text():
    missing = [tool for tool in ("xelatex", "latexmk", "pdftotext", "pdfimages") if shutil.which(tool) is None]
    if missing:
        message = f"{', '.join(missing)} not found: install with `{INSTALL_HINT}`"
        if os.environ.get("COSSIM_REQUIRE_PDF") == "1":
            pytest.fail(message)
        pytest.skip(message)
    if not PDF.is_file():
        pytest.fail(f"{PDF.relative_to(ROOT)} is missing: run `make pdf` (after `make book`)")
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(PDF), "-"], capture_output=True, text=True, check=True).stdout
    # Undo line-end hyphenation and line breaks, so that phrases can be searched for.
    return re.sub(r"\s+", " ", re.sub(r"(\w)-\n(\w)", r"\1\2", text))


def html_main(page):
    soup = parse(page)
    return soup.find("main") or soup


def chapter_titles():
    titles = []
    for page in expected_html()[1:]:
        heading = html_main(page).find("h1")
        for number in heading.select(".section-number, .headerlink"):
            number.decompose()
        titles.append(re.sub(r"\s+", " ", heading.get_text(" ", strip=True)))
    return titles


def test_every_chapter_title_is_in_the_pdf(pdf_text):
    missing = [title for title in chapter_titles() if title not in pdf_text]
    assert missing == []


def test_every_numbered_theorem_exercise_and_figure_keeps_its_html_number(pdf_text):
    html_text = " ".join(html_main(page).get_text(" ") for page in expected_html()[1:])
    shown = {f"{kind} {number}" for kind, number in NUMBERED.findall(html_text)}
    assert shown, "the HTML shows no numbered theorem or exercise: the pattern is out of date"
    in_pdf = {f"{kind} {number}" for kind, number in NUMBERED.findall(pdf_text)}
    assert sorted(shown - in_pdf) == []


def test_every_numbered_equation_keeps_its_html_number(pdf_text):
    numbers = {eqno.get_text(strip=True) for page in expected_html()[1:] for eqno in html_main(page).select("span.eqno")}
    numbers = {re.sub(r"[^\d.()]", "", number) for number in numbers}
    assert numbers, "the HTML shows no numbered equation: the selector is out of date"
    assert sorted(number for number in numbers if number not in pdf_text) == []


def test_no_reference_is_left_unresolved(pdf_text):
    assert "??" not in pdf_text


def test_no_maths_macro_reaches_the_text_undefined(pdf_text):
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    macros = config["sphinx"]["config"]["mathjax3_config"]["tex"]["macros"]
    raw = sorted({match for name in macros for match in re.findall(rf"\\{name}(?![A-Za-z])", pdf_text)})
    assert raw == []


def test_the_pdf_has_an_image_for_every_figure_of_the_site(pdf_text):
    figures = sum(len(html_main(page).find_all("figure")) for page in expected_html()[1:])
    listing = subprocess.run(["pdfimages", "-list", str(PDF)], capture_output=True, text=True, check=True).stdout
    images = [line for line in listing.splitlines()[2:] if line.split()[2:3] == ["image"]]
    assert figures > 0
    assert len(images) >= figures


def test_the_intro_page_links_to_the_pdf(pdf_text):
    intro = SITE / f"{toc_entries()[0]}.html"
    html = intro.read_text(encoding="utf-8")
    assert PDF_LINK_SHOWN in html, "the PDF link on the intro page is still hidden"
    link = parse(intro).select_one("#pdf-edition a")
    assert link is not None and link.get("href") == PDF_NAME
    assert (SITE / PDF_NAME).read_bytes() == PDF.read_bytes()


def test_no_character_is_missing_from_the_fonts(pdf_text):
    # XeLaTeX drops a character its font lacks and only says so in the log.
    log = (ROOT / "_build" / "latex" / PDF.with_suffix(".log").name).read_text(encoding="utf-8", errors="replace")
    assert re.findall(r"Missing character: There is no (\S+)", log) == []
