"""The two interactive explorers of the built site, driven in headless chromium.

For each explorer: the page loads with no console error and no request leaving the local server
(and also from the folder, as file://); moving its controls (through Bokeh's document model, and
once through the keyboard) changes the heatmaps or lists and the readouts; objective (1)'s loss
readout stays identical while objective (2)'s moves; and every number the page shows, read from
the rendered page, agrees with cossim's own fits to 1e-6 (the film explorer's over the films with at
least 20 ratings, which it carries). Each page adds less than 3 MB: BokehJS, the explorer's output,
and its static stand-in figure only if the browser fetches it, which with JavaScript it must not.

Needs the built book; uses the browser fixtures of tests/conftest.py (which skip where
chromium is absent, and fail under COSSIM_REQUIRE_BROWSER=1).
"""

from __future__ import annotations

import inspect
import re

import numpy as np
import pytest

from cossim import (
    cluster_metrics,
    effective_rank,
    factor_penalty_loss,
    fit_factor_penalty,
    fit_product_penalty,
    item_similarity,
    load_movielens_100k,
    nearest_neighbours,
    product_penalty_loss,
    regauge,
    simulate_clustered_interactions,
    top_spectrum,
)
from cossim.explorers import even_subsample
from tests.site_support import SITE

pytestmark = pytest.mark.browser

SIMULATION_PAGE = "chapters/simulation_explorer.html"
FILMS_PAGE = "chapters/movielens.html"
TOLERANCE = 1e-6
MIN_RATINGS = 20  # the film explorer's films: those with at least this many ratings (issue 14)


# --------------------------------------------------------------------------- page helpers


def _open(browser, url: str, allowed_prefix: str):
    """A page at `url` that records console errors, exceptions and requests outside `allowed_prefix`."""
    context = browser.new_context(viewport={"width": 1100, "height": 1400})
    page = context.new_page()
    problems = {"outside": [], "console": [], "exceptions": [], "failed": []}

    def guard(route):
        if route.request.url.startswith(allowed_prefix) or route.request.url.startswith("data:"):
            route.continue_()
        else:
            problems["outside"].append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    page.on("console", lambda m: problems["console"].append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems["exceptions"].append(str(error)))
    page.on("requestfailed", lambda r: problems["failed"].append(f"{r.url}: {r.failure}"))
    page.goto(url, wait_until="load")
    page.wait_for_function("() => window.Bokeh && Bokeh.documents && Bokeh.documents.length > 0", timeout=20_000)
    return context, page, problems


def _no_problems(problems):
    assert problems == {"outside": [], "console": [], "exceptions": [], "failed": []}


def _set(page, name: str, value) -> None:
    """Set a widget's value through Bokeh's document model (its callbacks run on the change)."""
    page.evaluate("([n, v]) => { Bokeh.documents[0].get_model_by_name(n).value = v; }", [name, value])


def _value(page, name: str):
    return page.evaluate("n => Bokeh.documents[0].get_model_by_name(n).value", name)


def _texts(page, selector: str) -> list[str]:
    """Inner texts of the rendered elements (Playwright's CSS reaches into Bokeh's shadow roots)."""
    return [text.strip() for text in page.locator(selector).all_inner_texts()]


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def _image(page, name: str) -> np.ndarray:
    values = page.evaluate(
        "n => Array.from(Bokeh.documents[0].get_model_by_name(n).data.image[0], x => Number.isNaN(x) ? null : x)",
        name,
    )
    flat = np.array([np.nan if v is None else v for v in values], dtype=float)
    side = int(round(np.sqrt(flat.size)))
    return flat.reshape(side, side)


def _wait_for_text(page, selector: str, pattern: str) -> None:
    """Wait until a rendered element matching `selector` shows text matching `pattern`."""
    page.locator(selector).filter(has_text=re.compile(pattern)).first.wait_for(state="attached", timeout=10_000)


# --------------------------------------------------------------------------- cossim's side


@pytest.fixture(scope="module")
def simulation():
    """The simulation chapter's data and fits, from cossim alone."""
    seed = inspect.signature(simulate_clustered_interactions).parameters["seed"].default
    data = simulate_clustered_interactions(seed=seed)
    spectrum = top_spectrum(data.X, 50)
    split = fit_product_penalty(data.X, 50, 10_000.0, spectrum=spectrum)
    items = even_subsample(data.item_order(), data.clusters, 250)
    return data, spectrum, split, items


def _page_model(page) -> tuple[int, float, int, int]:
    """What the film explorer's page declares: k, lambda_1, the least number of ratings, the films carried."""
    return tuple(page.evaluate(
        """() => { const a = Bokeh.documents[0].get_model_by_name('film-callback').args;
                  const get = n => a instanceof Map ? a.get(n) : a[n];
                  return [get('sigma').length, get('lam_product'), get('min_ratings'),
                          get('columns').length]; }"""
    ))


@pytest.fixture(scope="module")
def movies():
    return load_movielens_100k()


def _films(movies, page):
    """The film explorer's model, fitted by cossim with the k and lambda_1 the page declares, and its films.

    The films are computed here from the data (at least MIN_RATINGS ratings), not read from the page;
    the page must declare that many films and that threshold.
    """
    rank, lam, min_ratings, carried = _page_model(page)
    shelf = np.flatnonzero(np.count_nonzero(movies.X, axis=0) >= MIN_RATINGS)
    assert (min_ratings, carried) == (MIN_RATINGS, shelf.size)
    split = fit_product_penalty(movies.X, rank, lam)
    sigma = top_spectrum(movies.X, rank)[0]
    return movies, split, sigma**2 / (sigma**2 + lam), rank, lam, shelf


# --------------------------------------------------------------------------- explorer 1


def _simulation_readouts(page):
    """(objective (1) values, objective (2) values), each a dict, as the page shows them."""
    keys = ["loss", "within", "between", "auc"]
    shown = {key: _texts(page, f"td[data-readout='{key}']") for key in keys}
    assert all(len(values) == 2 for values in shown.values()), shown
    kept = _texts(page, "td[data-readout='kept']")
    one = {key: shown[key][0] for key in keys}
    two = {key: shown[key][1] for key in keys} | {"kept": kept[0]}
    return one, two


def test_simulation_explorer_loads_offline_and_replaces_its_static_figure(browser, base_url):
    context, page, problems = _open(browser, base_url + SIMULATION_PAGE, base_url)
    try:
        _wait_for_text(page, "caption", "gauge")
        scripts = page.evaluate("() => [...document.scripts].map(s => s.src).filter(s => s)")
        assert any(re.search(r"/_static/bokeh-[\d.]+/bokeh\.min\.js$", s) for s in scripts)
        assert any(re.search(r"/_static/bokeh-[\d.]+/bokeh-widgets\.min\.js$", s) for s in scripts)
        assert not any("cdn" in s for s in scripts)
        # With JavaScript the explorer stands in place of the static figure.
        assert page.locator("figure.cossim-explorer-static").evaluate("e => getComputedStyle(e).display") == "none"
        labels = page.locator("[role='img'][aria-label]").evaluate_all("es => es.map(e => e.getAttribute('aria-label'))")
        heatmaps = [label for label in labels if "Heatmap" in label]
        assert len(heatmaps) == 2
        for label in heatmaps:
            assert len(label) >= 20 and len(label.split()) >= 5 and not re.search(r"\.(png|svg|jpg)\b", label)
    finally:
        context.close()
    _no_problems(problems)


def test_simulation_explorer_numbers_are_cossims_at_three_positions(browser, base_url, simulation):
    data, spectrum, split, items = simulation
    s = spectrum[0] ** 2 / (spectrum[0] ** 2 + 10_000.0)
    shown = np.ix_(items, items)
    clusters = data.clusters[items]
    context, page, problems = _open(browser, base_url + SIMULATION_PAGE, base_url)
    seen = []
    try:
        for gamma, log_lam in [(0.0, 1.5), (0.5, 2.0), (1.0, 2.5)]:
            _set(page, "sim-gamma", gamma)
            _set(page, "sim-log-lambda", log_lam)
            _wait_for_text(page, "caption", rf"γ = {gamma:.2f}")
            _wait_for_text(page, "caption", rf"= {10 ** log_lam:,.1f}")
            one, two = _simulation_readouts(page)
            product_image = _image(page, "sim-product-image")
            factor_image = _image(page, "sim-factor-image")

            member = regauge(split, s ** (0.5 - gamma))
            expected = item_similarity(member)[shown]
            assert np.abs(product_image - expected).max() < TOLERANCE
            m = cluster_metrics(expected, clusters, 1)
            for key, value in [("within", m.within), ("between", m.between), ("auc", m.auc)]:
                assert abs(_number(one[key]) - value) < TOLERANCE, (gamma, key)
            loss = product_penalty_loss(data.X, member.A, member.B, 10_000.0)
            assert abs(_number(one["loss"]) - loss) < TOLERANCE * loss

            lam = 10.0**log_lam
            fit = fit_factor_penalty(data.X, 50, lam, spectrum=spectrum)
            expected = item_similarity(fit)[shown]
            assert np.abs(factor_image - expected).max() < TOLERANCE
            m = cluster_metrics(expected, clusters, 1)
            for key, value in [("within", m.within), ("between", m.between), ("auc", m.auc)]:
                assert abs(_number(two[key]) - value) < TOLERANCE, (lam, key)
            loss = factor_penalty_loss(data.X, fit.A, fit.B, lam)
            assert abs(_number(two["loss"]) - loss) < TOLERANCE * loss
            assert two["kept"] == f"{effective_rank(spectrum[0], lam)} of 50"
            seen.append((one, two, product_image, factor_image))
    finally:
        context.close()
    _no_problems(problems)
    # Objective (1): one loss, to every digit shown; the pictures and the scores move.
    assert len({one["loss"] for one, _, _, _ in seen}) == 1
    for key in ["within", "between", "auc"]:
        assert len({one[key] for one, _, _, _ in seen}) == 3
    assert min(np.abs(seen[i][2] - seen[j][2]).max() for i, j in [(0, 1), (1, 2), (0, 2)]) > 0.05
    # Objective (2): its loss moves with lambda_2, and so do its cosines.
    assert len({two["loss"] for _, two, _, _ in seen}) == 3
    assert min(np.abs(seen[i][3] - seen[j][3]).max() for i, j in [(0, 1), (1, 2), (0, 2)]) > 0.05


def test_simulation_loss_readout_is_identical_at_every_slider_position(browser, base_url):
    context, page, problems = _open(browser, base_url + SIMULATION_PAGE, base_url)
    try:
        losses = set()
        for step in range(41):
            gamma = round(step * 0.05, 2)
            _set(page, "sim-gamma", gamma)
            _wait_for_text(page, "caption", rf"γ = {gamma:.2f}")
            losses.add(_simulation_readouts(page)[0]["loss"])
    finally:
        context.close()
    _no_problems(problems)
    assert len(losses) == 1


def test_simulation_slider_works_with_the_keyboard(browser, base_url):
    context, page, problems = _open(browser, base_url + SIMULATION_PAGE, base_url)
    try:
        _wait_for_text(page, "caption", "γ = 0.50")
        handle = page.locator(".noUi-handle").first
        handle.focus()
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
        assert _value(page, "sim-gamma") == pytest.approx(0.6)
        _wait_for_text(page, "caption", "γ = 0.60")
        page.keyboard.press("ArrowLeft")
        assert _value(page, "sim-gamma") == pytest.approx(0.55)
    finally:
        context.close()
    _no_problems(problems)


# --------------------------------------------------------------------------- explorer 2


def _film_list(page):
    """The listed films (columns), their shown cosines, the 'new' marks and the shared count."""
    page.locator("tr[data-column]").first.wait_for(state="attached", timeout=10_000)
    columns = [int(c) for c in page.locator("tr[data-column]").evaluate_all("rs => rs.map(r => r.dataset.column)")]
    cosines = [_number(t) for t in _texts(page, "td[data-readout='cosine']")]
    new = [row.endswith("new") for row in _texts(page, "tr[data-column]")]
    shared = int(_texts(page, "span[data-readout='shared']")[0])
    return columns, cosines, new, shared


def _expected_list(films, column, gamma):
    """cossim's cosines (every film) and the ten nearest films of `column` among the explorer's films."""
    movies, split, shrinkage, _, _, shelf = films
    S = item_similarity(regauge(split, shrinkage ** (0.5 - gamma)))
    row = int(np.searchsorted(shelf, column))
    assert shelf[row] == column
    return S, shelf[nearest_neighbours(S[np.ix_(shelf, shelf)], 10)[row]]


def _check_list(films, column, gamma, shown):
    columns, cosines, new, shared = shown
    S, expected = _expected_list(films, column, gamma)
    _, reference = _expected_list(films, column, 0.5)
    assert len(columns) == 10 and set(columns) <= set(films[-1].tolist())
    # Every shown cosine is cossim's cosine of that pair, to 1e-6.
    assert np.abs(np.array(cosines) - S[column, columns]).max() < TOLERANCE
    # The same films as cossim lists, except where two cosines lie within the tolerance.
    tenth = S[column, expected[-1]]
    for j in set(columns) ^ set(expected):
        assert abs(S[column, j] - tenth) < TOLERANCE
    assert new == [j not in set(reference) for j in columns]
    assert shared == len(set(columns) & set(reference))


def test_film_explorer_loads_offline(browser, base_url):
    context, page, problems = _open(browser, base_url + FILMS_PAGE, base_url)
    try:
        _wait_for_text(page, "p[data-readout='summary']", "Star Wars")
        assert page.locator("figure.cossim-explorer-static").evaluate("e => getComputedStyle(e).display") == "none"
    finally:
        context.close()
    _no_problems(problems)


def test_film_explorer_lists_are_cossims_at_three_gauges_and_the_picker_changes_them(browser, base_url, movies):
    star_wars, fargo = movies.column_of("Star Wars", 1977), movies.column_of("Fargo", 1996)
    context, page, problems = _open(browser, base_url + FILMS_PAGE, base_url)
    lists = []
    try:
        films = _films(movies, page)
        assert films[3] >= 1 and films[4] > 0
        for gamma in [0.0, 0.5, 1.0]:
            _set(page, "film-gamma", gamma)
            _wait_for_text(page, "p[data-readout='summary']", rf"Star Wars.*γ = {gamma:.2f}")
            shown = _film_list(page)
            _check_list(films, star_wars, gamma, shown)
            lists.append(shown[0])
        assert lists[0] != lists[1] and lists[1] != lists[2]
        _set(page, "film-picker", movies.labels[fargo])
        _wait_for_text(page, "p[data-readout='summary']", r"Fargo \(1996\)")
        shown = _film_list(page)
        assert shown[0] != lists[2]
        _check_list(films, fargo, 1.0, shown)
    finally:
        context.close()
    _no_problems(problems)


def test_film_picker_works_with_the_keyboard(browser, base_url):
    context, page, problems = _open(browser, base_url + FILMS_PAGE, base_url)
    try:
        _wait_for_text(page, "p[data-readout='summary']", "Star Wars")
        before = _film_list(page)[0]
        field = page.locator("input[type='text']").first
        field.click()
        field.fill("")
        field.press_sequentially("toy sto")
        page.keyboard.press("ArrowDown")
        page.keyboard.press("Enter")
        page.wait_for_function(
            "() => Bokeh.documents[0].get_model_by_name('film-picker').value.startsWith('Toy Story')", timeout=10_000
        )
        _wait_for_text(page, "p[data-readout='summary']", "Toy Story")
        assert _film_list(page)[0] != before
    finally:
        context.close()
    _no_problems(problems)


# --------------------------------------------------------------------------- from the folder


@pytest.mark.parametrize("relative, ready", [(SIMULATION_PAGE, ("caption", "gauge")),
                                             (FILMS_PAGE, ("p[data-readout='summary']", "Star Wars"))])
def test_explorers_work_from_the_folder_opened_as_file_urls(browser, relative, ready):
    url = (SITE / relative).as_uri()
    context, page, problems = _open(browser, url, "file://")
    try:
        _wait_for_text(page, *ready)
    finally:
        context.close()
    _no_problems(problems)


# --------------------------------------------------------------------------- page weight


def _static_image_urls(page) -> list[str]:
    """Absolute URLs of the images of the static figures that stand in for the explorers."""
    return page.locator("figure.cossim-explorer-static img").evaluate_all("es => es.map(e => e.src)")


def _requests_after_reading_to_the_end(browser, url: str, *, javascript: bool = True):
    """Load `url` and scroll through the whole page as a reader would.

    Returns the URLs requested, and for the static figures: their image URLs, CSS display and whether loaded.
    """
    context = browser.new_context(viewport={"width": 1100, "height": 1400}, java_script_enabled=javascript)
    page = context.new_page()
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    try:
        page.goto(url, wait_until="load")
        if javascript:
            page.wait_for_function("() => window.Bokeh && Bokeh.documents && Bokeh.documents.length > 0",
                                   timeout=20_000)
        height = page.evaluate("() => document.documentElement.scrollHeight")
        for y in range(0, height + 1400, 700):
            page.mouse.wheel(0, 700)
        page.wait_for_timeout(500)
        page.wait_for_load_state("networkidle")
        assert page.evaluate("() => window.scrollY + window.innerHeight >= document.documentElement.scrollHeight - 2")
        images = _static_image_urls(page)
        displayed = page.locator("figure.cossim-explorer-static").evaluate_all(
            "es => es.map(e => getComputedStyle(e).display)")
        loaded = page.locator("figure.cossim-explorer-static img").evaluate_all(
            "es => es.map(e => e.complete && e.naturalWidth > 0)")
    finally:
        context.close()
    return requested, images, displayed, loaded


@pytest.mark.parametrize("relative", [SIMULATION_PAGE, FILMS_PAGE])
def test_hidden_static_figure_costs_no_download_with_javascript(browser, base_url, relative):
    requested, images, displayed, loaded = _requests_after_reading_to_the_end(browser, base_url + relative)
    assert len(images) == 1 and displayed == ["none"] and loaded == [False]
    assert images[0] not in requested
    assert any("/_static/bokeh-" in url for url in requested)  # the page did load its explorer
    # Without JavaScript the figure stands in for the explorer, and is fetched and shown.
    requested, images, displayed, loaded = _requests_after_reading_to_the_end(browser, base_url + relative,
                                                                              javascript=False)
    assert displayed == ["block"] and images[0] in requested and loaded == [True]


def _added_weight(browser, base_url: str, relative: str) -> int:
    """Bytes a page loads because of its explorer, with JavaScript on: BokehJS, the explorer's output
    (the cell output that holds the Bokeh document and its data), and the static figure if the browser
    fetches it (after scrolling through the whole page)."""
    from bs4 import BeautifulSoup

    page = SITE / relative
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    scripts = [(page.parent / s["src"]).resolve() for s in soup.find_all("script", src=True) if "/bokeh-" in s["src"]]
    assert len(scripts) == 2
    output = soup.find("div", attrs={"data-cossim-explorer": True}).find_parent("div", class_="output")
    figure = soup.find("figure", class_="cossim-explorer-static")
    image = (page.parent / figure.find("img")["src"]).resolve()
    requested, images, _, _ = _requests_after_reading_to_the_end(browser, base_url + relative)
    fetched = [url for url in images if url in requested]
    assert all(url.endswith("/_images/" + image.name) for url in images)
    weight = sum(p.stat().st_size for p in scripts) + len(str(output).encode())
    return weight + (image.stat().st_size if fetched else 0)


def test_simulation_explorer_adds_less_than_3_mb(browser, base_url):
    assert _added_weight(browser, base_url, SIMULATION_PAGE) < 3_000_000


def test_film_explorer_adds_less_than_3_mb(browser, base_url):
    assert _added_weight(browser, base_url, FILMS_PAGE) < 3_000_000
