"""Local Sphinx extension: serve BokehJS from the built site, on the pages with an explorer.

The book's two interactive explorers (``chapters/simulation_explorer.md`` and the last section
of ``chapters/movielens.md``) are Bokeh documents embedded in a cell output by
``cossim.interactive``: the output carries the document and its data, never a script from a
CDN. The JavaScript library that renders them, BokehJS, comes from the installed ``bokeh``
package (pinned in the lock file, so the library and the Python side that wrote the document
are the same version):

1. at the end of an HTML build its two bundles (core and widgets) are copied into
   ``_static/bokeh-<version>/``, as ``book_assets`` does for MathJax;
2. each page whose body contains the explorers' marker gets ``<script>`` tags for them, with
   relative paths, so the site works from a server and from a folder opened as ``file://``.
   Pages without an explorer load nothing more.

The static figure that stands in for an explorer in print and without JavaScript (a figure of
class ``cossim-explorer-static``, hidden by the explorer's output when JavaScript runs) gets
``loading="lazy"`` on its image: a browser running scripts fetches a lazy image only when it
comes near the viewport, which a ``display: none`` image never does, so the hidden figure costs
no download; without scripts, lazy loading is off (HTML standard) and the figure loads as usual.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError

# Written by cossim.interactive around every explorer (its EXPLORER_MARKER); spelled out here so
# that the build does not import the library.
MARKER = "data-cossim-explorer"
# cossim.interactive's STATIC_CLASS: the figure that stands in for an explorer.
STATIC_CLASS = "cossim-explorer-static"
BUNDLES = ("bokeh", "bokeh-widgets")


def _bokeh() -> tuple[str, Path]:
    """The installed bokeh's version and the folder of its minified bundles."""
    try:
        import bokeh
        from bokeh.util.paths import bokehjs_path
    except ImportError as error:
        raise ExtensionError(
            "bokeh not found: install the lock file (`make book` does) for the book's explorers"
        ) from error
    folder = Path(bokehjs_path()) / "js"
    missing = [name for name in BUNDLES if not (folder / f"{name}.min.js").is_file()]
    if missing:
        raise ExtensionError(f"BokehJS bundles missing in {folder}: {missing}")
    return bokeh.__version__, folder


def _target(version: str) -> str:
    return f"bokeh-{version}"


def _add_bokehjs(app: Sphinx, pagename: str, templatename, context, doctree) -> None:
    if MARKER not in (context.get("body") or ""):
        return
    version, _ = _bokeh()
    for name in BUNDLES:
        # Added during html-page-context, a script goes into this page only.
        app.add_js_file(f"{_target(version)}/{name}.min.js")


def _lazy_static_figures(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    if app.builder.format != "html":
        return
    for figure in doctree.findall(nodes.figure):
        if STATIC_CLASS in figure["classes"]:
            for image in figure.findall(nodes.image):
                image["loading"] = "lazy"  # written as <img loading="lazy"> by the HTML5 writer


def _copy_bokehjs(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    version, folder = _bokeh()
    target = Path(app.outdir) / "_static" / _target(version)
    target.mkdir(parents=True, exist_ok=True)
    for name in BUNDLES:
        shutil.copy2(folder / f"{name}.min.js", target / f"{name}.min.js")


def setup(app: Sphinx) -> dict:
    _bokeh()  # fail at start-up, not after a long build
    app.connect("html-page-context", _add_bokehjs)
    app.connect("doctree-resolved", _lazy_static_figures)
    app.connect("build-finished", _copy_bokehjs)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
