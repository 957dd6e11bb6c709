# The Arbitrary Cosine: the two commands of the README, and a few helpers.
#   make book   create .venv, install the lock file and the package, build the executed book
#   make test   the same install, then every test (library, chapters, built site, browser)
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-from-lock
# pip's configuration on some machines names extra indexes that do not exist; keep its noise out.
PIP_QUIET := 2> >(grep -v "^WARNING: Location" >&2)

.PHONY: all install data book check-site test test-lib test-chapters test-site lint notebooks lock bench clean

all: book

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "Python 3.10+ is needed, found " + sys.version'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements.lock $(PIP_QUIET)
	$(BIN)/python -m pip install --quiet --no-deps --editable . $(PIP_QUIET)
	$(BIN)/python -m pip check
	touch $(STAMP)

install: $(STAMP)

# MovieLens-100k (Harper and Konstan 2015), never committed (its licence forbids redistribution):
# extracted from the PyPI wheel of recbole 1.2.1 (not installed), checksums verified; does nothing
# (and needs no network) when data/ml-100k already holds both files with the right checksums.
data: install
	$(BIN)/python tools/fetch_movielens.py

# Every chapter is executed afresh on every build (execute_notebooks: force in _config.yml).
book: install data
	rm -rf _build/html _build/jupyter_execute
	$(BIN)/jupyter-book build . --nitpick --warningiserror --keep-going
	$(BIN)/python tools/check_site.py

check-site: install
	$(BIN)/python tools/check_site.py

# All tests: the library, every chapter in a fresh kernel, and the built site (in a browser when
# chromium is installed). The site tests need the book, so this builds it first.
test: book
	$(BIN)/python -m pytest

test-lib: install data
	$(BIN)/python -m pytest -m "not slow and not chapters and not site and not browser and not pdf"

test-chapters: install
	$(BIN)/python -m pytest -m chapters

test-site: install
	$(BIN)/python -m pytest -m "site or browser"

# The linter (ruff, pinned in pyproject.toml's dev extra, configured there).
lint: install
	$(BIN)/ruff check src tests tools benchmarks _ext

# Executed notebooks of every chapter, for local use, in notebooks/ (git-ignored).
notebooks: install
	$(BIN)/python tools/notebooks.py --out notebooks

# Regenerate the lock file from pyproject.toml (needs the registry).
lock: install
	$(BIN)/uv pip compile pyproject.toml --all-extras --universal --python-version 3.10 \
		--generate-hashes --output-file requirements.lock

bench: install
	for script in benchmarks/bench_*.py; do echo "== $$script"; $(BIN)/python "$$script"; done

clean:
	rm -rf _build notebooks .pytest_cache .hypothesis
