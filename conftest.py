"""Root test set-up, for the doctests of `src/cossim` (`tests/conftest.py` covers `tests/`).

The Examples section of `cossim.load_movielens_100k` reads the real data, which `make data`
fetches from the registry. Without it the doctest is skipped, with the command, as the MovieLens
tests in `tests/` are: `make test-lib` needs no network.
"""

import pytest

from cossim.datasets import MOVIELENS_100K_SHA256, default_data_dir


def pytest_collection_modifyitems(config, items):
    if all((default_data_dir() / name).is_file() for name in MOVIELENS_100K_SHA256):
        return
    skip = pytest.mark.skip(reason=f"MovieLens-100k not fetched into {default_data_dir()}; run `make data`")
    for item in items:
        if item.name.endswith("load_movielens_100k"):
            item.add_marker(skip)
