"""Layer 3d: the book as a student and an instructor read it (issue 11's checks).

From the built HTML: every chapter opens with its learning objectives and closes with what it
means; exercises say how hard they are and what kind of work they ask for, and hide their
solutions; a page shows at most 150 lines of code and no cell over 25 (cells whose input is
collapsed or removed do not count); every image says in words what it shows. In the browser, at
the 1280 px layout and at a 390 px phone width: nothing on any page is cut off (no element whose
content is wider than its box unless that box scrolls), and no figure is shrunk below its natural
size, so that the style's 9 pt minimum is what the reader sees.
"""

import re

import pytest

from tests.site_support import SITE, book_pages, main_content
from tools.book_pages import ROOT, notebook_sources, toc_entries
from tools.visible_code import HIDING_TAGS, MAX_CELL_LINES, MAX_PAGE_LINES

CHAPTERS = [entry for entry in toc_entries() if entry.startswith("chapters/")]
NOTEBOOK_PAGES = [str(source.relative_to(ROOT).with_suffix("")) for source in notebook_sources()]
STARS = re.compile(r"(?<!★)★{1,3}(?!★)")
EXERCISE_TYPES = ("proof", "calculation", "code", "judgement")


def article(entry):
    return main_content(SITE / f"{entry}.html")


def visible_code_cells(entry):
    """Line counts of the code inputs shown on a page (not collapsed, not removed)."""
    sizes = []
    for cell in article(entry).select("div.cell"):
        classes = set(cell.get("class", []))
        if classes & {f"tag_{tag}" for tag in HIDING_TAGS}:
            continue
        code = cell.select_one("div.cell_input pre")
        if code is None or code.find_parent("details") is not None:
            continue
        sizes.append(len(code.get_text().rstrip("\n").splitlines()))
    return sizes


@pytest.mark.site
@pytest.mark.parametrize("entry", NOTEBOOK_PAGES)
def test_visible_code_stays_within_the_targets(entry):
    sizes = visible_code_cells(entry)
    assert sum(sizes) <= MAX_PAGE_LINES, f"{entry}: {sum(sizes)} visible code lines"
    assert max(sizes, default=0) <= MAX_CELL_LINES, f"{entry}: a visible cell of {max(sizes)} lines"


@pytest.mark.site
def test_the_visible_code_count_can_fail():
    # The counter must see code on the pages that show it, or the test above proves nothing.
    assert sum(sum(visible_code_cells(entry)) for entry in NOTEBOOK_PAGES) > 0


@pytest.mark.site
@pytest.mark.parametrize("entry", CHAPTERS)
def test_every_chapter_opens_with_objectives_and_closes_with_what_it_means(entry):
    page = article(entry)
    objectives = [a for a in page.select("div.admonition") if a.select_one(".admonition-title")
                  and a.select_one(".admonition-title").get_text(strip=True) == "You will learn"]
    assert len(objectives) == 1, f"{entry}: no 'You will learn' box"
    assert 3 <= len(objectives[0].select("li")) <= 5, f"{entry}: the objectives box lists 3-5 objectives"
    headings = [re.sub(r"^[\d.]+\s*", "", h.get_text(" ", strip=True).rstrip("#").strip()) for h in page.select("h2")]
    assert "What this means" in headings, f"{entry}: no 'What this means' section"


@pytest.mark.site
@pytest.mark.parametrize("entry", CHAPTERS)
def test_exercises_state_difficulty_and_type_and_hide_their_solutions(entry):
    page = article(entry)
    for exercise in page.select("div.exercise"):
        title = exercise.select_one(".admonition-title").get_text(" ", strip=True)
        assert STARS.search(title), f"{entry}: {title!r} has no difficulty (one to three stars)"
        assert any(kind in title for kind in EXERCISE_TYPES), f"{entry}: {title!r} names no type"
    for solution in page.select("div.solution"):
        assert "dropdown" in solution.get("class", []), f"{entry}: a solution is shown by default"


@pytest.mark.site
def test_the_exercise_checks_can_fail():
    # The selectors must find the exercises and solutions, or the test above proves nothing.
    pages = [article(entry) for entry in CHAPTERS]
    assert sum(len(page.select("div.exercise")) for page in pages) >= len(CHAPTERS) - 1
    assert sum(len(page.select("div.solution")) for page in pages) >= len(CHAPTERS) - 1


@pytest.mark.site
@pytest.mark.parametrize("page", book_pages()[1:], ids=lambda p: str(p.relative_to(SITE)))
def test_every_image_says_what_it_shows(page):
    for image in main_content(page).select("img"):
        alt = (image.get("alt") or "").strip()
        assert len(alt) >= 20, f"{page.name}: alt text {alt!r} is too short"
        assert not re.search(r"\.(png|jpe?g|svg|gif)$|^[./_\w-]+$", alt), f"{page.name}: alt text is a file name: {alt!r}"


@pytest.mark.site
def test_no_capitalised_check_in_the_text():
    offenders = [entry for entry in toc_entries() if re.search(r"\bCHECK\b", article(entry).get_text(" "))]
    assert offenders == []


# ------------------------------------------------------------------------------ in the browser

# Content is cut off when a box that hides its overflow is too narrow for what it shows, or when
# it sticks out of the text column without a scrolling box around it (the page then clips it or
# scrolls sideways as a whole). Cells tagged full-width are meant to extend into the margin.
# MathJax's copy of each formula for screen readers (mjx-assistive-mml) is positioned off the
# layout and clipped to nothing; it is not content a reader sees, so it does not count.
CLIPPED = """() => {
  const article = document.querySelector('article') || document.querySelector('main');
  const columnRight = article.getBoundingClientRect().right;
  const scrolls = element => ['auto', 'scroll'].includes(getComputedStyle(element).overflowX);
  const shown = element => {
    const box = element.getBoundingClientRect();
    const style = getComputedStyle(element);
    return box.width > 0 && box.height > 0 && style.visibility !== 'hidden' && style.display !== 'none'
      && !element.closest('mjx-assistive-mml');
  };
  // Right edge of what `element` shows, not counting what scrolls inside a descendant.
  const contentRight = element => {
    let right = -Infinity;
    const walk = node => {
      for (const child of node.children) {
        if (!shown(child)) continue;
        right = Math.max(right, child.getBoundingClientRect().right);
        if (!scrolls(child)) walk(child);
      }
    };
    walk(element);
    return right;
  };
  const describe = (element, why) => `${element.tagName.toLowerCase()}.${[...element.classList].join('.')}: ` +
                                     `${why}: ` + (element.textContent || '').trim().slice(0, 60);
  const problems = [];
  for (const element of article.querySelectorAll('*')) {
    if (!shown(element) || element.closest('.tag_full-width')) continue;
    const style = getComputedStyle(element);
    const box = element.getBoundingClientRect();
    if (['hidden', 'clip'].includes(style.overflowX)) {
      const inner = box.left + element.clientLeft + element.clientWidth;
      const right = contentRight(element);
      if (right > inner + 1) problems.push(describe(element, `hides ${Math.round(right - inner)} px`));
    }
    if (box.right > columnRight + 1) {
      let ancestor = element.parentElement, inside = false;
      while (ancestor && ancestor !== article) {
        if (scrolls(ancestor)) { inside = true; break; }
        ancestor = ancestor.parentElement;
      }
      if (!inside) problems.push(describe(element, `sticks out ${Math.round(box.right - columnRight)} px`));
    }
  }
  return problems;
}"""

SHRUNK = """() => [...document.querySelectorAll('article img')]
  .filter(image => image.complete && image.naturalWidth > 0)
  .map(image => {
    const natural = parseFloat(image.style.width) || Number(image.getAttribute('width')) || image.naturalWidth;
    return [image.currentSrc.split('/').pop(), Math.round(image.getBoundingClientRect().width), natural];
  })
  .filter(([name, shown, natural]) => shown < 0.98 * natural)"""


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("page_file", book_pages()[1:], ids=lambda p: str(p.relative_to(SITE)))
def test_nothing_is_cut_off(browser, base_url, page_file, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        page.goto(base_url + page_file.relative_to(SITE).as_posix(), wait_until="load")
        if page.evaluate("() => document.querySelector('.math') !== null"):
            page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=20_000)
            page.evaluate("() => MathJax.startup.promise")
        clipped = page.evaluate(CLIPPED)
        shrunk = page.evaluate(SHRUNK) if width == 1280 else []
    finally:
        context.close()
    assert clipped == [], f"{page_file.name} at {width} px: content cut off"
    assert shrunk == [], f"{page_file.name} at {width} px: figures shown below their natural size"
