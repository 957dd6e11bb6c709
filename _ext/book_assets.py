"""Local Sphinx extension: make the built site self-contained and offer executed notebooks.

Three jobs, the first two about what a reader of the built site can use without the internet:

1. MathJax 3 is served from the site itself. Its files come from the registry wheel
   ``sphinx-mathjax-offline`` (installed from the lock file); they are copied into
   ``_static/mathjax`` and ``mathjax_path`` points there, so no page loads a CDN.
2. Every chapter page offers its *executed* notebook for download. ``tools/build_book.py``
   writes the executed ``.ipynb`` of each MyST notebook to ``_build/executed``; we copy it next
   to the page's sources and hand it to sphinx-book-theme's download button (which only
   does this by itself when a Binder launch button is configured).
3. The PDF edition numbers and links like the site:

   - the book's maths macros are defined once, as MathJax macros in ``_config.yml``, and turned
     into ``\\newcommand`` lines of the LaTeX preamble, so the two cannot drift apart;
   - theorems, figures and equations are numbered per chapter (``3.2``), as in the HTML, although
     Jupyter Book's LaTeX extension asks Sphinx for two levels (``3.1.2``);
   - a reference to an exercise in another chapter becomes a link with the exercise's number,
     as sphinx-exercise already does for one in the same chapter (it prints ``??`` otherwise).
4. The intro's chapter map shows reading times computed from the sources (MyST substitutions
   ``minutes_<chapter>``, ``minutes_core`` and ``minutes_all``), so they follow the text.
"""

from __future__ import annotations

import importlib.util
import math
import re
import shutil
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.transforms.post_transforms import SphinxPostTransform

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


def latex_macros(mathjax_macros: dict) -> str:
    """``\\newcommand`` lines for MathJax 3 macros given as ``name: body`` or ``name: [body, nargs]``.

    ``\\newcommand`` (not ``\\renewcommand``) on purpose: a name LaTeX already defines makes the
    PDF build fail instead of silently changing the meaning of that name.
    """
    lines = []
    for name, definition in mathjax_macros.items():
        if isinstance(definition, str):
            lines.append(f"\\newcommand{{\\{name}}}{{{definition}}}")
        elif isinstance(definition, list) and len(definition) == 2 and isinstance(definition[1], int):
            body, arguments = definition
            lines.append(f"\\newcommand{{\\{name}}}[{arguments}]{{{body}}}")
        else:
            raise ExtensionError(f"MathJax macro {name!r} has a form this extension cannot turn into LaTeX: {definition!r}")
    return "\n".join(lines)


def _define_macros_for_latex(app: Sphinx, config) -> None:
    macros = (config.mathjax3_config or {}).get("tex", {}).get("macros", {})
    elements = config.latex_elements
    definitions = "\n% The book's maths macros (from _config.yml)\n" + latex_macros(macros) + "\n"
    elements["preamble"] = elements.get("preamble", "") + definitions


def _number_theorems_per_chapter(app: Sphinx) -> None:
    # sphinx-jupyterbook-latex sets numfig_secnum_depth = 2 for books with parts (at
    # builder-inited, default priority). Sphinx uses that depth twice: to number theorems and
    # exercises while it reads (2 would print "Theorem 3.1.2", where the HTML shows "3.2"), and
    # in the LaTeX writer, where 2 is what makes LaTeX restart figure and equation numbers in
    # every chapter ("Fig. 3.1"). So: the HTML's depth while reading, 2 again for writing.
    if app.builder.format == "latex":
        app.config.numfig_secnum_depth = 1


def _number_figures_per_chapter_in_latex(app: Sphinx, doctree, docname: str) -> None:
    # The LaTeX builder resolves its one assembled document just before it creates the writer.
    if app.builder.format == "latex":
        app.config.numfig_secnum_depth = 2


class _ExerciseReferencesInLatex(SphinxPostTransform):
    """Give cross-chapter references to exercises the ``refid`` that sphinx-exercise handles."""

    default_priority = 21  # just before sphinx-exercise's ResolveLinkTextToSolutions (22)
    formats = ("latex",)

    def run(self, **kwargs) -> None:
        registry = getattr(self.env, "sphinx_exercise_registry", {})
        for node in self.document.findall(nodes.reference):
            label = node.get("refuri", "").partition("#")[2]
            if not node.get("refid") and label in registry:
                node["refid"] = label
                del node["refuri"]


#: The chapters a reader short of time reads (starred in the intro's map).
CORE_PATH = ("chapters/gauge_freedom", "chapters/simulation", "chapters/movielens", "chapters/takeaways")
WORDS_PER_MINUTE = 200
MINUTES_PER_FIGURE = 1
CODE_CELL = re.compile(r"^```\{code-cell\}.*?^```\s*$", re.MULTILINE | re.DOTALL)
FIGURE = re.compile(r"^\s*figure:\s*$|^```\{(?:glue:)?figure\}", re.MULTILINE)


def reading_minutes(text: str) -> int:
    """Minutes to read a MyST page: its prose at 200 words a minute and a minute per figure,
    rounded up to the next multiple of five (code cells are not prose; their figures count)."""
    if text.startswith("---"):
        text = text.split("---", 2)[2]
    figures = len(FIGURE.findall(text))
    words = len(re.findall(r"[A-Za-z0-9]+", CODE_CELL.sub(" ", text)))
    return 5 * max(1, math.ceil((words / WORDS_PER_MINUTE + MINUTES_PER_FIGURE * figures) / 5))


def _reading_times_as_substitutions(app: Sphinx, config) -> None:
    minutes = {}
    for source in sorted(Path(app.srcdir, "chapters").glob("*.md")):
        minutes[f"chapters/{source.stem}"] = reading_minutes(source.read_text(encoding="utf-8"))
    substitutions = dict(config.myst_substitutions or {})
    substitutions.update({f"minutes_{Path(page).name}": str(value) for page, value in minutes.items()})
    substitutions["minutes_core"] = str(sum(minutes[page] for page in CORE_PATH if page in minutes))
    substitutions["minutes_all"] = str(sum(minutes.values()))
    config.myst_substitutions = substitutions


def _copy_mathjax(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    target = Path(app.outdir) / "_static" / "mathjax"
    shutil.copytree(_mathjax_source(), target, dirs_exist_ok=True)


def _offer_executed_notebook(app: Sphinx, pagename: str, templatename, context, doctree) -> None:
    # Written by tools/build_book.py, which executes the chapters before Sphinx reads them.
    executed = Path(app.outdir).parent / "executed" / f"{pagename}.ipynb"
    if not executed.is_file():
        return
    destination = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    destination.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(executed, destination)
    context["ipynb_source"] = f"{pagename}.ipynb"


def setup(app: Sphinx) -> dict:
    _mathjax_source()  # fail at start-up, not after a long build
    app.connect("config-inited", _use_local_mathjax)
    app.connect("config-inited", _define_macros_for_latex)
    app.connect("config-inited", _reading_times_as_substitutions)
    app.connect("builder-inited", _number_theorems_per_chapter, priority=900)  # after the LaTeX extension
    app.connect("doctree-resolved", _number_figures_per_chapter_in_latex)
    app.add_post_transform(_ExerciseReferencesInLatex)
    # sphinx-book-theme builds its download buttons at priority 501: run before it.
    app.connect("html-page-context", _offer_executed_notebook, priority=400)
    app.connect("build-finished", _copy_mathjax)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
