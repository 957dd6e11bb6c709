"""Helpers for the tests of the built site: its pages, and a local server for the browser."""

from __future__ import annotations

import functools
import http.server
import re
import threading
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

from bs4 import BeautifulSoup

from tools.book_pages import ROOT, expected_html

SITE = ROOT / "_build" / "html"

# Attributes through which a page makes the browser fetch something (plain <a href> links do not).
RESOURCE_ATTRIBUTES = {
    "script": ["src"],
    "link": ["href"],
    "img": ["src", "srcset"],
    "iframe": ["src"],
    "source": ["src", "srcset"],
    "video": ["src", "poster"],
    "audio": ["src"],
    "embed": ["src"],
    "object": ["data"],
    "track": ["src"],
}


def book_pages() -> list[Path]:
    return expected_html()


def parse(page: Path) -> BeautifulSoup:
    return BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")


def main_content(page: Path):
    """The text of a page: its ``article`` (no navigation or sidebars), or the whole page."""
    soup = parse(page)
    return soup.select_one("article") or soup


def is_external(url: str) -> bool:
    parsed = urlparse(url.strip())
    return parsed.scheme in {"http", "https"} or url.strip().startswith("//")


def external_resources(soup: BeautifulSoup) -> list[str]:
    """URLs outside the site that the page would load (scripts, styles, images, frames, fonts)."""
    found = []
    for tag, attributes in RESOURCE_ATTRIBUTES.items():
        for element in soup.find_all(tag):
            for attribute in attributes:
                value = element.get(attribute)
                if not value:
                    continue
                if tag == "link" and not set(element.get("rel", [])) & {
                    "stylesheet", "icon", "preload", "prefetch", "modulepreload", "manifest", "shortcut"
                }:
                    continue  # e.g. rel="canonical" is metadata, not a fetch
                candidates = [part.strip().split(" ")[0] for part in value.split(",")] if "srcset" in attribute else [value]
                found += [url for url in candidates if is_external(url)]
    for element in soup.find_all(style=True):
        if "url(http" in element["style"].replace(" ", "") or "url(//" in element["style"].replace(" ", ""):
            found.append(element["style"])
    for style in soup.find_all("style"):
        text = style.get_text()
        if "@import" in text and ("http" in text or "//" in text):
            found.append(text)
    return found


# Sphinx marks unresolved references and parse problems with the first classes; myst-nb marks
# cell errors and stderr output with the others.
PROBLEM_CLASSES = ["system-message", "problematic", "traceback", "stderr", "output_error", "error"]
PROBLEM_TEXT = re.compile(
    r"Traceback \(most recent call last\)|\bWarning:|RuntimeWarning|DeprecationWarning|UserWarning"
)


def page_problems(soup: BeautifulSoup) -> list[str]:
    """Error, traceback and warning output shown in a page's main content."""
    main = soup.find("main") or soup
    problems = [
        f"{name}: {element.get_text(' ', strip=True)[:200]}"
        for name in PROBLEM_CLASSES
        for element in main.find_all(class_=name)
    ]
    outputs = " ".join(element.get_text(" ") for element in main.select(".cell_output, .output"))
    problems += [f"output text: {match}" for match in PROBLEM_TEXT.findall(outputs)]
    return problems


def has_math(soup: BeautifulSoup) -> bool:
    return bool(soup.select(".math"))


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - signature from the base class
        pass


@contextmanager
def serve(directory: Path):
    """Serve `directory` on a free port of 127.0.0.1; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
