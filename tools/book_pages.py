"""The pages the book must have, read from `_toc.yml`.

Shared by `tools/check_site.py` (run after every build) and the site tests, so both agree on
what a complete site is.
"""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
SOURCE_SUFFIXES = (".md", ".ipynb", ".rst")


def toc_entries(root: Path = ROOT) -> list[str]:
    """Document names (without suffix) listed in `_toc.yml`, the root first."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    entries = [toc["root"]]

    def walk(items):
        for item in items or []:
            if "file" in item:
                entries.append(item["file"])
            walk(item.get("sections"))
            walk(item.get("chapters"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return [str(Path(entry).with_suffix("")) if entry.endswith(SOURCE_SUFFIXES) else entry for entry in entries]


def source_of(entry: str, root: Path = ROOT) -> Path:
    """The source file of a toc entry."""
    for suffix in SOURCE_SUFFIXES:
        candidate = root / f"{entry}{suffix}"
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"no source file for toc entry {entry!r}")


def is_notebook(path: Path) -> bool:
    """A MyST Markdown notebook declares a kernel in its front matter."""
    text = path.read_text(encoding="utf-8")
    return text.startswith("---") and "kernelspec:" in text.split("---", 2)[1]


def notebook_sources(root: Path = ROOT) -> list[Path]:
    """Every toc entry that executes code, in toc order."""
    return [source_of(entry, root) for entry in toc_entries(root) if is_notebook(source_of(entry, root))]


def expected_html(root: Path = ROOT) -> list[Path]:
    """One HTML page per toc entry, plus the site's index.html."""
    html = root / "_build" / "html"
    return [html / "index.html"] + [html / f"{entry}.html" for entry in toc_entries(root)]
