"""Local Sphinx extension: make the built site self-contained and offer executed notebooks.

Two jobs, both about what a reader of the built site can use without the internet:

1. MathJax 3 is served from the site itself. Its files come from the registry wheel
   ``sphinx-mathjax-offline`` (installed from the lock file); they are copied into
   ``_static/mathjax`` and ``mathjax_path`` points there, so no page loads a CDN.
2. Every chapter page offers its *executed* notebook for download. myst-nb writes the
   executed ``.ipynb`` of each MyST notebook to ``_build/jupyter_execute``; we copy it next
   to the page's sources and hand it to sphinx-book-theme's download button (which only
   does this by itself when a Binder launch button is configured).
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.errors import ExtensionError

MATHJAX_ENTRY = "mathjax/tex-chtml.js"


def _mathjax_source() -> Path:
    # The wheel installs a package directory whose name contains hyphens.
    spec = importlib.util.find_spec("sphinx-mathjax-offline")
    if spec is None or not spec.submodule_search_locations:
        raise ExtensionError(
            "MathJax files not found: install the lock file (`make book` does) so that "
            "the package sphinx-mathjax-offline is present"
        )
    source = Path(next(iter(spec.submodule_search_locations))) / "static" / "mathjax"
    if not (source / "tex-chtml.js").is_file():
        raise ExtensionError(f"MathJax entry point missing in {source}")
    return source


def _use_local_mathjax(app: Sphinx, config) -> None:
    config.mathjax_path = MATHJAX_ENTRY


def _copy_mathjax(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    target = Path(app.outdir) / "_static" / "mathjax"
    shutil.copytree(_mathjax_source(), target, dirs_exist_ok=True)


def _offer_executed_notebook(app: Sphinx, pagename: str, templatename, context, doctree) -> None:
    executed = Path(app.outdir).parent / "jupyter_execute" / f"{pagename}.ipynb"
    if not executed.is_file():
        return
    destination = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    destination.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(executed, destination)
    context["ipynb_source"] = f"{pagename}.ipynb"


def setup(app: Sphinx) -> dict:
    _mathjax_source()  # fail at start-up, not after a long build
    app.connect("config-inited", _use_local_mathjax)
    # sphinx-book-theme builds its download buttons at priority 501: run before it.
    app.connect("html-page-context", _offer_executed_notebook, priority=400)
    app.connect("build-finished", _copy_mathjax)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
