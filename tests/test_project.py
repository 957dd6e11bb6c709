"""The project's promises about itself: one version everywhere, MyST sources only."""

import re
import subprocess

import pytest
import yaml

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

import cossim
from tools.book_pages import ROOT, notebook_sources, source_of, toc_entries


def test_version_is_the_same_in_package_pyproject_and_citation():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert re.fullmatch(r"\d+\.\d+\.\d+", cossim.__version__)
    assert pyproject["project"]["version"] == cossim.__version__
    assert str(citation["version"]) == cossim.__version__


def test_citation_names_licence_date_and_the_paper():
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert citation["title"] == "The Arbitrary Cosine"
    assert citation["license"] == ["CC-BY-4.0", "MIT"]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(citation["date-released"]))
    paper = citation["references"][0]
    assert paper["doi"] == "10.1145/3589335.3651526"


def test_no_notebook_is_committed():
    try:
        tracked = subprocess.run(
            ["git", "ls-files", "*.ipynb"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    assert tracked == [], f"chapters are MyST .md only; committed notebooks: {tracked}"


def test_every_toc_entry_has_a_source_and_every_chapter_is_in_the_toc():
    entries = toc_entries()
    assert entries[0] == "intro"
    for entry in entries:
        assert source_of(entry).suffix == ".md"
    chapters = {str(path.relative_to(ROOT).with_suffix("")) for path in (ROOT / "chapters").glob("*.md")}
    assert chapters <= set(entries), f"chapters missing from _toc.yml: {sorted(chapters - set(entries))}"


def test_notebooks_declare_the_python3_kernel():
    for source in notebook_sources():
        front_matter = yaml.safe_load(source.read_text(encoding="utf-8").split("---", 2)[1])
        assert front_matter["kernelspec"]["name"] == "python3", source


def test_the_lock_pins_jupyter_book_1_and_sphinx_7():
    lock = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    assert re.search(r"^jupyter-book==1\.", lock, re.MULTILINE)
    assert re.search(r"^sphinx==7\.", lock, re.MULTILINE)
    assert "--hash=sha256:" in lock


def test_every_bibliography_entry_names_its_authors_in_full_and_links_arxiv():
    from pybtex.database import parse_file

    entries = parse_file(str(ROOT / "references.bib")).entries
    for key, entry in entries.items():
        authors = entry.persons.get("author", [])
        assert authors, f"{key}: no author"
        assert all(person.first_names and person.last_names for person in authors), f"{key}: an author without a given name"
        assert "arxiv:" not in entry.fields.get("note", "").lower(), f"{key}: an arXiv id in a note, not as eprint"
        if "eprint" in entry.fields:
            assert entry.fields.get("archiveprefix") == "arXiv", key
            assert re.fullmatch(r"\d{4}\.\d{4,5}", entry.fields["eprint"]), key


def test_the_intro_stars_the_core_path_that_the_reading_times_add_up():
    """The ★ chapters of the intro's map are the ones `minutes_core` sums (_ext/book_assets.py)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("book_assets", ROOT / "_ext" / "book_assets.py")
    book_assets = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(book_assets)
    starred = re.findall(r"\{doc\}`(chapters/\w+)` ★", (ROOT / "intro.md").read_text(encoding="utf-8"))
    assert starred and tuple(starred) == book_assets.CORE_PATH
