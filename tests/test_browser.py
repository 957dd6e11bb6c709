"""Layer 3b: every page of the built site in a real headless browser (Debian's chromium).

From a server on 127.0.0.1, each page must: load without console errors or uncaught exceptions,
request nothing outside the local server, typeset every piece of mathematics with MathJax (no
MathJax error boxes, e.g. from an unknown macro), and load every image it shows.

Where chromium is absent these tests skip and say how to install it; CI installs it and sets
COSSIM_REQUIRE_BROWSER=1, which turns that skip into a failure.
"""

import pytest

from tests.site_support import SITE, book_pages, has_math, parse
from tools.book_pages import ROOT, toc_entries

pytestmark = pytest.mark.browser

PAGES = book_pages()
ROOT_PAGE = f"{toc_entries()[0]}.html"


@pytest.mark.parametrize("page_file", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_page_renders_offline_with_mathematics_and_images(browser, base_url, page_file):
    relative = page_file.relative_to(SITE).as_posix()
    context = browser.new_context()
    page = context.new_page()
    outside, console_errors, page_errors, failed = [], [], [], []

    def guard(route):
        if route.request.url.startswith(base_url) or route.request.url.startswith("data:"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    page.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    page.on("requestfailed", lambda request: failed.append(f"{request.url}: {request.failure}"))
    try:
        page.goto(base_url + relative, wait_until="load")
        if relative == "index.html":
            # The site's entry point redirects to the book's root page; check where it lands.
            page.wait_for_url(base_url + ROOT_PAGE, timeout=10_000)
            page.wait_for_load_state("load")
            page_file = SITE / ROOT_PAGE
            relative = ROOT_PAGE
        expects_math = has_math(parse(page_file))
        if expects_math:
            page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=20_000)
            page.evaluate("() => MathJax.startup.promise")
            typeset = page.locator("mjx-container").count()
            untypeset = page.evaluate(
                "() => [...document.querySelectorAll('.math')].filter(e => !e.querySelector('mjx-container')).length"
            )
            assert typeset > 0, f"{relative}: no MathJax output"
            assert untypeset == 0, f"{relative}: {untypeset} math elements were not typeset"
            assert page.locator("mjx-merror").count() == 0, f"{relative}: MathJax reported an error"
        # The static figures that stand in for the explorers are hidden and lazy when JavaScript runs, so
        # never fetched; tests/test_explorers.py checks that they load without JavaScript.
        images = page.evaluate(
            "() => [...document.querySelectorAll('main img')].filter(i => !i.closest('figure.cossim-explorer-static'))"
            ".map(i => [i.currentSrc, i.complete && i.naturalWidth > 0])"
        )
        broken = [src for src, loaded in images if not loaded]
        assert broken == [], f"{relative}: images not loaded: {broken}"
    finally:
        context.close()
    assert outside == [], f"{relative} requested resources outside the site: {outside}"
    assert failed == [], f"{relative}: failed requests: {failed}"
    assert console_errors == [], f"{relative}: console errors: {console_errors}"
    assert page_errors == [], f"{relative}: uncaught exceptions: {page_errors}"
