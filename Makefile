# The Arbitrary Cosine: the two commands of the README, and a few helpers.
#   make book   create .venv, install the lock file and the package, build the executed book
#   make test   the same install, build the book afresh, then every test (library, built site,
#               browser, and the PDF edition when XeLaTeX is installed)
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-from-lock
# Written at the end of every successful `make book`. What the book build reads is listed below:
# when any of it is newer than the stamp, `make pdf` builds the book afresh first, so the PDF
# never shows outputs of older sources.
BOOK_STAMP := _build/.book-built
BOOK_INPUTS := $(filter-out README.md,$(wildcard *.md)) $(wildcard chapters/*.md _config.yml _toc.yml \
	references.bib _ext/*.py _latex/* _static/* tools/*.py) $(shell find src -name '*.py') requirements.lock

.PHONY: all install data book pdf check-site test test-lib test-chapters test-site lint notebooks lock bench clean

all: book

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "Python 3.10+ is needed, found " + sys.version'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --editable .
	$(BIN)/python -m pip check
	touch $(STAMP)

install: $(STAMP)

# MovieLens-100k (Harper and Konstan 2015), never committed (its licence forbids redistribution):
# extracted from the PyPI wheel of recbole 1.2.1 (not installed), checksums verified; does nothing
# (and needs no network) when data/ml-100k already holds both files with the right checksums.
data: install
	$(BIN)/python tools/fetch_movielens.py

# Every build starts from nothing: no HTML, no Sphinx environment, no executed notebook of an
# earlier build survives it, so a second `make book` does exactly what the first did. The
# chapters are executed one per available core (tools/build_book.py), then Sphinx builds the site.
book: install data
	rm -rf _build/html _build/jupyter_execute _build/executed _build/.doctrees _build/.jupyter_cache _build/latex _build/pdf $(BOOK_STAMP)
	$(BIN)/python tools/build_book.py --builder html
	$(BIN)/python tools/check_site.py
	touch $(BOOK_STAMP)

$(BOOK_STAMP): $(BOOK_INPUTS) | $(STAMP)
	$(MAKE) --no-print-directory book

# The PDF edition, from the executions of the last book build (none is repeated), written to
# _build/pdf and offered from the site's intro page. Needs XeLaTeX and latexmk: see the README.
pdf: $(BOOK_STAMP)
	$(BIN)/python tools/build_pdf.py

check-site: install
	$(BIN)/python tools/check_site.py

# Every test, each chapter executed once (by the book build): the library, the built site, the
# site in a browser (when chromium is installed) and the PDF (when XeLaTeX is installed; its
# tests skip otherwise, and say how to install it).
test: book
	if command -v xelatex >/dev/null && command -v latexmk >/dev/null; then \
		$(MAKE) --no-print-directory pdf; \
	else \
		echo "xelatex/latexmk not found: the PDF tests will skip (see the README for the Debian packages)"; \
	fi
	$(BIN)/python -m pytest -m "not chapters"

# Fast: no network (the MovieLens tests and doctest skip when the data are absent), no slow tests.
test-lib: install
	$(BIN)/python -m pytest -m "not slow and not chapters and not site and not browser and not pdf"

# Each chapter executed once more, in a fresh kernel from its own folder, outside the book build:
# for working on one chapter locally (the book build already executes every chapter).
test-chapters: install data
	$(BIN)/python -m pytest -m chapters

test-site: install
	$(BIN)/python -m pytest -m "site or browser or pdf"

# The linter (ruff, pinned in pyproject.toml's dev extra, configured there).
lint: install
	$(BIN)/ruff check src tests tools benchmarks _ext conftest.py

# Executed notebooks of every page, for local use, in notebooks/ (git-ignored): the ones the last
# book build executed (the same files each page offers for download), rebuilt first if stale.
notebooks: $(BOOK_STAMP)
	rm -rf notebooks
	cp -r _build/executed notebooks

# Regenerate the lock file from pyproject.toml (needs the registry). It runs uv, at the version the
# lock pins, from a venv of its own: the project's .venv may not match pyproject.toml yet (a
# dependency was just added), which is the reason to lock.
LOCK_VENV := _build/lock-venv
UV_VERSION = $(shell sed -n 's/^uv==\([^ ]*\).*/\1/p' requirements.lock)
lock:
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install --quiet "uv==$(UV_VERSION)"
	$(LOCK_VENV)/bin/uv pip compile pyproject.toml --all-extras --universal --python-version 3.10 \
		--generate-hashes --output-file requirements.lock

bench: install
	for script in benchmarks/bench_*.py; do echo "== $$script"; $(BIN)/python "$$script"; done

clean:
	rm -rf _build notebooks .pytest_cache .hypothesis
