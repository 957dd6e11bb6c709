"""Shared test set-up: make the build helpers in `tools/` importable, the tables several test files
use, and the browser fixtures of the site tests (test_browser, test_explorers, test_readability)."""

import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from cossim import (  # noqa: E402  (after the path set-up above, which `tools` imports need)
    factor_penalty_loss,
    fit_factor_penalty,
    fit_product_penalty,
    fit_weight_decay,
    product_penalty_loss,
    weight_decay_loss,
)
from tests.site_support import SITE, serve  # noqa: E402


def two_block_interactions(n: int, p: int, seed: int, *, every_row: bool = False):
    """A small 0/1 matrix: items in two blocks, each user prefers one (0.6 inside it, 0.1 outside).

    The first user has every item (no empty column); with ``every_row`` each user also gets one
    random item (no empty row)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    block = np.repeat([0, 1], p // 2)
    preferred = rng.integers(0, 2, size=n)
    prob = np.where(block[None, :] == preferred[:, None], 0.6, 0.1)
    X = (rng.random((n, p)) < prob).astype(float)
    if every_row:
        X[np.arange(n), rng.integers(0, p, size=n)] = 1.0
    X[0] = 1.0
    return X


CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
# Flags for a root, offline machine: no sandbox, and no background calls to Google's services.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        message = "chromium not found: install it with `apt-get update && apt-get install -y chromium`"
        if os.environ.get("COSSIM_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    if not (SITE / "index.html").is_file():
        pytest.fail("the book is not built: run `make book` (or `make test`, which builds it first)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def base_url():
    with serve(SITE) as url:
        yield url


#: The closed-form fit of each of the three objectives, by the name cossim.training uses.
FITS = {"product": fit_product_penalty, "factor": fit_factor_penalty, "weight_decay": fit_weight_decay}
#: The loss of each objective, evaluated on the data X.
LOSSES = {"product": product_penalty_loss, "factor": factor_penalty_loss, "weight_decay": weight_decay_loss}
