"""The book's two interactive explorers as Bokeh documents for a static page.

Used by the chapters only, never by the numerical modules (like
:mod:`cossim.plotting`, whose colour map it shares).  Bokeh is a dependency of
the book, not of the library, so it is imported when an explorer is built.

Each builder returns HTML for one cell output: a ``<div>`` that BokehJS fills,
the ``<script>`` of :func:`bokeh.embed.components` that carries the document
(data included) and no reference to a CDN, and a ``<noscript>`` note.  BokehJS
itself is served by the book's site: ``_ext/explorer_assets.py`` copies it from
the installed bokeh package and adds it to every page that contains
``data-cossim-explorer``.

The JavaScript of the callbacks does only what :mod:`cossim.explorers` does in
numpy: rescale the latent directions, normalise rows and take dot products
(as :func:`cossim.cosine_similarity`), and compute the readouts (the losses
from the spectrum, :func:`cossim.cluster_metrics`' within/between means and
AUC, the neighbours as :func:`cossim.nearest_neighbours` ranks them).
"""

from __future__ import annotations

import html
import math

import numpy as np

from cossim._validation import check_count, check_instance, check_rank
from cossim.explorers import REFERENCE_GAMMA, FilmExplorerData, SimulationExplorerData
from cossim.plotting import COSINE_CMAP

__all__ = ["EXPLORER_MARKER", "STATIC_CLASS", "cosine_palette", "film_explorer", "simulation_explorer"]

#: Attribute that marks a page holding an explorer (``_ext/explorer_assets.py`` looks for it).
EXPLORER_MARKER = "data-cossim-explorer"
#: Class of the static figure that stands in for an explorer without JavaScript (and in print).
STATIC_CLASS = "cossim-explorer-static"

# Shown to readers without JavaScript; with JavaScript the explorer replaces the static figure.
_NOSCRIPT = (
    f"<style>figure.{STATIC_CLASS} {{ display: none; }}</style>"
    f"<noscript><style>figure.{STATIC_CLASS} {{ display: block !important; }}</style>"
    "<p><em>This explorer needs JavaScript. The figure below shows it at three positions of its "
    "controls.</em></p></noscript>"
)

_TABLE_STYLE = """
:host { font-size: 0.9em; line-height: 1.35; }
table { border-collapse: collapse; margin-top: 0.3em; }
th, td { padding: 0.1em 0.6em; text-align: left; border-bottom: 1px solid #ddd; }
td.number, th.number { text-align: right; font-variant-numeric: tabular-nums; }
tr.new td { font-weight: bold; }
caption { text-align: left; caption-side: top; padding-bottom: 0.2em; }
"""

# ---------------------------------------------------------------------------------------------
# JavaScript shared by both explorers: the arithmetic of cossim.cosine_similarity, once more.
_JS_COMMON = r"""
// Rows of V (m x k, row-major) rescaled by w, then scaled to unit length as
// cossim.cosine_similarity does: divide by the largest |entry|, then by the norm.
function unitRows(V, m, k, w) {
  const U = new Float64Array(m * k);
  const zero = new Uint8Array(m);
  for (let i = 0; i < m; i++) {
    let scale = 0;
    for (let l = 0; l < k; l++) {
      const y = V[i * k + l] * w[l];
      U[i * k + l] = y;
      if (Math.abs(y) > scale) scale = Math.abs(y);
    }
    if (scale === 0) { zero[i] = 1; continue; }
    let norm2 = 0;
    for (let l = 0; l < k; l++) {
      const y = U[i * k + l] / scale;
      U[i * k + l] = y;
      norm2 += y * y;
    }
    const norm = Math.sqrt(norm2);
    for (let l = 0; l < k; l++) U[i * k + l] /= norm;
  }
  return {U: U, zero: zero};
}

// Cosine of unit rows i and j, clipped to [-1, 1]; NaN when either row is zero.
function cosine(rows, k, i, j) {
  if (rows.zero[i] || rows.zero[j]) return NaN;
  let dot = 0;
  for (let l = 0; l < k; l++) dot += rows.U[i * k + l] * rows.U[j * k + l];
  return Math.min(1, Math.max(-1, dot));
}

function fixed(x, digits) { return Number.isFinite(x) ? x.toFixed(digits) : "undefined"; }
function grouped(x, digits) {
  return x.toLocaleString("en-US", {minimumFractionDigits: digits, maximumFractionDigits: digits});
}
"""

_JS_SIMULATION = r"""
// All cosines of the shown items, their cluster scores, and the matrix for the heatmap.
function panel(V, m, k, w, clusters, image) {
  const rows = unitRows(V, m, k, w);
  const S = image;  // the heatmap's m x m array (row-major), filled in place
  for (let i = 0; i < m; i++) {
    S[i * m + i] = rows.zero[i] ? NaN : 1;
    for (let j = i + 1; j < m; j++) { const c = cosine(rows, k, i, j); S[i * m + j] = c; S[j * m + i] = c; }
  }
  // Pairs i < j, as cossim.cluster_metrics: means skip NaN, AUC with ties counted 1/2.
  let sumWithin = 0, sumBetween = 0;
  const within = [], between = [];
  for (let i = 0; i < m; i++) for (let j = i + 1; j < m; j++) {
    const c = S[i * m + j];
    if (Number.isNaN(c)) continue;
    if (clusters[i] === clusters[j]) { within.push(c); sumWithin += c; }
    else { between.push(c); sumBetween += c; }
  }
  const pos = Float64Array.from(within).sort(), neg = Float64Array.from(between).sort();
  let wins = 0, below = 0, notAbove = 0;  // twice the Mann-Whitney U statistic
  for (let i = 0; i < pos.length; i++) {
    while (below < neg.length && neg[below] < pos[i]) below++;
    if (notAbove < below) notAbove = below;
    while (notAbove < neg.length && neg[notAbove] <= pos[i]) notAbove++;
    wins += 2 * below + (notAbove - below);
  }
  const auc = (pos.length && neg.length) ? wins / (2 * pos.length * neg.length) : NaN;
  return {within: within.length ? sumWithin / within.length : NaN,
          between: between.length ? sumBetween / between.length : NaN, auc: auc};
}

// ||X - X A B^T||^2 for A = V_k dMat(a), B = V_k dMat(b): ||X||^2 - sum sigma^2 (2w - w^2), w = a b.
function residual(frobenius2, sigma, a, b) {
  let t = 0;
  for (let l = 0; l < sigma.length; l++) {
    const w = a[l] * b[l];
    t += sigma[l] * sigma[l] * (2 * w - w * w);
  }
  return frobenius2 - t;
}

function row(name, value, note) {
  return `<tr><th scope="row">${name}</th><td class="number" data-readout="${note}">${value}</td></tr>`;
}

const k = sigma.length, m = clusters.length;
const gamma = gamma_slider.value;
const lam2 = Math.pow(10, lambda_slider.value);

// Objective (1): the gauge family A = V_k dMat(s^(1 - gamma)), B = V_k dMat(s^gamma).
const a1 = new Float64Array(k), b1 = new Float64Array(k);
for (let l = 0; l < k; l++) { a1[l] = Math.pow(shrinkage[l], 1 - gamma); b1[l] = Math.pow(shrinkage[l], gamma); }
let product2 = 0;  // ||A B^T||^2 = sum (a b)^2
for (let l = 0; l < k; l++) product2 += (a1[l] * b1[l]) ** 2;
const loss1 = residual(frobenius2, sigma, a1, b1) + lam_product * product2;
const one = panel(V, m, k, b1, clusters, product_source.data.image[0]);
product_source.change.emit();

// Objective (2): A = V_k dMat(sqrt((sigma - lam)_+) / sigma), B = V_k dMat(sqrt((sigma - lam)_+)).
const a2 = new Float64Array(k), b2 = new Float64Array(k);
let kept = 0, penalty2 = 0;
for (let l = 0; l < k; l++) {
  b2[l] = Math.sqrt(Math.max(sigma[l] - lam2, 0));
  a2[l] = sigma[l] > 0 ? b2[l] / sigma[l] : 0;
  if (sigma[l] > lam2) kept++;
  penalty2 += sigma[l] * sigma[l] * a2[l] * a2[l] + b2[l] * b2[l];  // ||X A||^2 + ||B||^2
}
const loss2 = residual(frobenius2, sigma, a2, b2) + lam2 * penalty2;
const two = panel(V, m, k, b2, clusters, factor_source.data.image[0]);
factor_source.change.emit();

product_readout.text = `<table><caption>Objective (1), gauge &gamma; = ${fixed(gamma, 2)}</caption>`
  + row("loss (1)", grouped(loss1, 3), "loss")
  + row("mean cosine within clusters", fixed(one.within, 6), "within")
  + row("mean cosine between clusters", fixed(one.between, 6), "between")
  + row("same-cluster AUC", fixed(one.auc, 6), "auc") + "</table>";
factor_readout.text = `<table><caption>Objective (2), &lambda;<sub>2</sub> = ${grouped(lam2, 1)}</caption>`
  + row("loss (2)", grouped(loss2, 3), "loss")
  + row("kept directions", `${kept} of ${k}`, "kept")
  + row("mean cosine within clusters", fixed(two.within, 6), "within")
  + row("mean cosine between clusters", fixed(two.between, 6), "between")
  + row("same-cluster AUC", fixed(two.auc, 6), "auc") + "</table>";
"""

_JS_FILMS = r"""
function escapeHtml(text) {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

// The top nearest films of the film in row `film` among the m carried films: descending cosine,
// ties by ascending column of X (as cossim.nearest_neighbours), undefined cosines left out.
function neighbours(rows, m, k, film, top) {
  const found = [];
  for (let j = 0; j < m; j++) {
    if (j === film) continue;
    const c = cosine(rows, k, film, j);
    if (!Number.isNaN(c)) found.push([c, j]);
  }
  found.sort((x, y) => (y[0] - x[0]) || (columns[x[1]] - columns[y[1]]));
  return found.slice(0, top);
}

// The carried films' labels are the picker's completions, in the order of the rows of V.
const labels = picker.completions;
const k = sigma.length, m = labels.length;
const film = labels.indexOf(picker.value);
if (film >= 0) {
  const gamma = gamma_slider.value;
  // B = V_k dMat(s^gamma) with the shrinkage s = sigma^2 / (sigma^2 + lam_1) of objective (1).
  const w = new Float64Array(k), wRef = new Float64Array(k);
  for (let l = 0; l < k; l++) {
    const s = sigma[l] * sigma[l] / (sigma[l] * sigma[l] + lam_product);
    w[l] = Math.pow(s, gamma);
    wRef[l] = Math.pow(s, reference_gamma);
  }
  const list = neighbours(unitRows(V, m, k, w), m, k, film, top);
  const reference = new Set(neighbours(unitRows(V, m, k, wRef), m, k, film, top).map(x => x[1]));
  const shared = list.filter(x => reference.has(x[1])).length;
  let body = "";
  list.forEach((x, r) => {
    const isNew = !reference.has(x[1]);
    body += `<tr${isNew ? ' class="new"' : ""} data-column="${columns[x[1]]}"><td class="number">${r + 1}</td>`
      + `<td>${escapeHtml(labels[x[1]])}</td><td class="number">${ratings[x[1]]}</td>`
      + `<td class="number" data-readout="cosine">${fixed(x[0], 6)}</td>`
      + `<td>${isNew ? "new" : ""}</td></tr>`;
  });
  film_list.text = `<p data-readout="summary"><strong>${escapeHtml(labels[film])}</strong> `
    + `(${ratings[film]} ratings), gauge &gamma; = ${fixed(gamma, 2)}: `
    + `<span data-readout="shared">${shared}</span> of its ${top} nearest films are also among the ${top} `
    + `of the symmetric split (&gamma; = 1/2). Neighbours are searched among the ${m} films with at least `
    + `${min_ratings} ratings.</p>`
    + `<table><thead><tr><th class="number">#</th><th>nearest film</th><th class="number">ratings</th>`
    + `<th class="number">cosine</th><th>not in the split's list</th></tr></thead>`
    + `<tbody>${body}</tbody></table>`;
}
"""


def cosine_palette(n: int = 256) -> list[str]:
    """The book's cosine colour map (:data:`cossim.plotting.COSINE_CMAP`) as ``n`` hex colours.

    Used by :func:`simulation_explorer`: with a linear map from ``[-1, 1]`` it is centred at 0, as
    :func:`cossim.plotting.cosine_norm` is.

    Raises
    ------
    ValueError
        If ``n`` is not an integer of at least 2.
    """
    import matplotlib as mpl

    n = check_count(n, "n", minimum=2)
    colours = mpl.colormaps[COSINE_CMAP].resampled(n)(np.arange(n))  # the n colours of its lookup table
    return [mpl.colors.to_hex(colour) for colour in colours]


def _gauge_slider(gamma: float, width: int, name: str):
    """The slider of ``gamma`` in ``B = V_k dMat(s_i^gamma)``, 0 to 2 in steps of 0.05, starting at ``gamma``."""
    from bokeh.models import Slider

    if isinstance(gamma, bool) or not (
        isinstance(gamma, (int, float)) and 0.0 <= gamma <= 2.0 and math.isclose(gamma * 20, round(gamma * 20))
    ):
        raise ValueError(f"gamma must be a multiple of 0.05 in [0, 2], got {gamma!r}")
    return Slider(
        start=0.0, end=2.0, step=0.05, value=float(gamma), format="0.00", width=width, name=name,
        title="gauge γ in B = Vₖ dMat(sᵢᵞ)",
    )


def _embed(layout, callback, name: str, label: str) -> str:
    """HTML of a Bokeh layout whose ``callback`` also runs once the document is ready."""
    from bokeh.document import Document
    from bokeh.embed import components
    from bokeh.events import DocumentReady

    document = Document()
    document.add_root(layout)
    document.js_on_event(DocumentReady, callback)
    script, div = components(layout)
    if "cdn.bokeh.org" in script:  # components() never writes one; keep it that way
        raise RuntimeError("the explorer's script refers to a CDN")
    return (
        f'<div class="cossim-explorer" {EXPLORER_MARKER}="{name}" role="group" '
        f'aria-label="{html.escape(label)}">{div}</div>\n{script}\n{_NOSCRIPT}'
    )


def simulation_explorer(data: SimulationExplorerData, *, gamma: float = 0.5, size: int = 280) -> str:
    """The explorer of the paper's experiment: two heatmaps, a gauge slider and a lambda_2 slider.

    Used in ``chapters/simulation_explorer.md``.  Left: the item-item cosines
    of objective (1) in the gauge ``B = V_k dMat(s_i^gamma)``, ``0 <= gamma <= 2``,
    with its loss, within/between means and same-cluster AUC.  Right: the
    cosines of the minimiser of objective (2) at ``lam_2`` (log slider from 10
    to 1,000), with its loss and number of kept directions.

    Parameters
    ----------
    data : SimulationExplorerData
    gamma : float, default 0.5
        Where the gauge slider starts (0 to 2, a multiple of 0.05).
    size : int, default 280
        Width and height of each heatmap in pixels.

    Returns
    -------
    str
        HTML for a cell output (display it with ``IPython.display.HTML``).

    Raises
    ------
    ValueError
        If ``data`` is not a :class:`SimulationExplorerData`, or ``gamma`` or
        ``data.lam_factor`` lies outside the sliders' ranges.
    """
    from bokeh.layouts import column, row
    from bokeh.models import (
        ColorBar,
        ColumnDataSource,
        CustomJS,
        CustomJSTickFormatter,
        Div,
        LinearColorMapper,
        Range1d,
        Slider,
    )
    from bokeh.plotting import figure

    check_instance(data, SimulationExplorerData, "data")
    gamma_slider = _gauge_slider(gamma, size, "sim-gamma")
    if not 10.0 <= data.lam_factor <= 1000.0:
        raise ValueError(f"data.lam_factor must lie in [10, 1000] (the slider's range), got {data.lam_factor}")
    m = data.items.size
    mapper = LinearColorMapper(palette=cosine_palette(), low=-1.0, high=1.0, nan_color="#999999")

    def heatmap(title: str, label: str, source_name: str):
        # The callback fills the matrix once the page is ready (all NaN compresses to almost nothing).
        source = ColumnDataSource(data={"image": [np.full((m, m), np.nan)]}, name=source_name)
        plot = figure(
            frame_width=size, frame_height=size, title=title, x_range=Range1d(0, m), y_range=Range1d(m, 0),
            tools="", toolbar_location=None,
            html_attributes={"role": "img", "aria-label": label},
        )
        plot.image(image="image", x=0, y=0, dw=m, dh=m, source=source, color_mapper=mapper)
        plot.axis.visible = False
        plot.grid.visible = False
        return plot, source

    described = (
        f"Heatmap of the cosines between {m} simulated items, sorted by cluster and by falling "
        "popularity within a cluster; red is +1, white 0, blue -1. "
    )
    product_plot, product_source = heatmap(
        "objective (1): one model, gauge γ", described + "Objective (1) at the gauge chosen with the slider.",
        "sim-product-image",
    )
    factor_plot, factor_source = heatmap(
        "objective (2): its unique cosines at λ₂", described + "Objective (2) at the penalty chosen with the slider.",
        "sim-factor-image",
    )
    factor_plot.add_layout(ColorBar(color_mapper=mapper, width=12, title="cosine"), "right")
    lambda_slider = Slider(
        start=1.0, end=3.0, step=0.05, value=round(math.log10(data.lam_factor) * 20) / 20, width=size,
        name="sim-log-lambda", title="λ₂ (log scale)",
        format=CustomJSTickFormatter(code="return (10 ** tick).toFixed(1);"),
    )
    product_readout = Div(name="sim-product-readout", width=size, stylesheets=[_TABLE_STYLE])
    factor_readout = Div(name="sim-factor-readout", width=size, stylesheets=[_TABLE_STYLE])
    callback = CustomJS(
        name="sim-callback",
        args=dict(
            V=np.ascontiguousarray(data.V, dtype=np.float64).ravel(),
            sigma=data.sigma, shrinkage=data.shrinkage, clusters=data.clusters.astype(np.int32),
            frobenius2=data.frobenius2, lam_product=data.lam_product,
            gamma_slider=gamma_slider, lambda_slider=lambda_slider,
            product_source=product_source, factor_source=factor_source,
            product_readout=product_readout, factor_readout=factor_readout,
        ),
        code=_JS_COMMON + _JS_SIMULATION,
    )
    gamma_slider.js_on_change("value", callback)
    lambda_slider.js_on_change("value", callback)
    layout = row(
        column(gamma_slider, product_plot, product_readout),
        column(lambda_slider, factor_plot, factor_readout),
    )
    return _embed(
        layout, callback, "simulation",
        "Interactive explorer of the simulated experiment: a gauge slider for objective (1) and a "
        "penalty slider for objective (2), each with a heatmap of item-item cosines and readouts",
    )


def film_explorer(data: FilmExplorerData, *, film: int, gamma: float = 0.0, top: int = 10) -> str:
    """The film explorer: pick a film, move the gauge, read its nearest films.

    Used in ``chapters/movielens.md``.  A searchable picker over the films
    ``data`` carries (those with at least ``data.min_ratings`` ratings), a
    slider for ``gamma`` in ``B = V_k dMat(s_i^gamma)`` (0 to 2), and the
    ``top`` nearest films by cosine among the same films, each marked when it
    is not among the ``top`` of the symmetric split (``gamma = 1/2``), with
    the number the two lists share.

    Parameters
    ----------
    data : FilmExplorerData
    film : int
        The film shown first (keyword only): its column of ``X``, one of ``data.films``.
    gamma : float, default 0
        Where the slider starts (0 to 2, a multiple of 0.05).
    top : int, default 10
        Length of the list, ``1 <= top < m`` with ``m`` the number of carried films.

    Returns
    -------
    str
        HTML for a cell output, as :func:`simulation_explorer` returns; ``ValueError``
        for a bad ``data``, a ``film`` that is not carried, ``gamma`` off the slider
        or ``top`` out of range.
    """
    from bokeh.layouts import column, row
    from bokeh.models import AutocompleteInput, CustomJS, Div

    check_instance(data, FilmExplorerData, "data")
    first = data.row_of(film)
    gamma_slider = _gauge_slider(gamma, 280, "film-gamma")
    top = check_rank(top, data.films.size - 1, "top")
    # The picker's completions are the carried films' labels in the order of the rows of V: the
    # callback reads them from the picker, so the page carries the labels once.
    picker = AutocompleteInput(
        name="film-picker", title="Film (type part of its title, choose with the arrow keys and Enter)",
        completions=list(data.labels), value=data.labels[first],
        restrict=True, case_sensitive=False, search_strategy="includes", min_characters=2,
        max_completions=12, width=330,
    )
    film_list = Div(name="film-list", width=700, stylesheets=[_TABLE_STYLE])
    callback = CustomJS(
        name="film-callback",
        args=dict(
            V=np.ascontiguousarray(data.V, dtype=np.float32).ravel(),
            sigma=data.sigma, lam_product=data.lam, columns=data.films.astype(np.int32),
            ratings=data.ratings.astype(np.int32), min_ratings=data.min_ratings,
            reference_gamma=REFERENCE_GAMMA, top=top,
            picker=picker, gamma_slider=gamma_slider, film_list=film_list,
        ),
        code=_JS_COMMON + _JS_FILMS,
    )
    picker.js_on_change("value", callback)
    gamma_slider.js_on_change("value", callback)
    layout = column(row(picker, gamma_slider), film_list)
    return _embed(
        layout, callback, "films",
        "Interactive explorer of a film's nearest films: a searchable film picker, a gauge slider, "
        "and the list of the ten most cosine-similar films",
    )
