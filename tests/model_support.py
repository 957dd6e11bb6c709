"""Tables and small data shared by the library tests (imported by them; not a conftest)."""

import numpy as np

from cossim import (
    factor_penalty_loss,
    fit_factor_penalty,
    fit_product_penalty,
    fit_weight_decay,
    product_penalty_loss,
    weight_decay_loss,
)

#: The closed-form fit of each of the three objectives, by the name cossim.training uses.
FITS = {"product": fit_product_penalty, "factor": fit_factor_penalty, "weight_decay": fit_weight_decay}
#: The loss of each objective, evaluated on the data X.
LOSSES = {"product": product_penalty_loss, "factor": factor_penalty_loss, "weight_decay": weight_decay_loss}


def two_block_interactions(n: int, p: int, seed: int, *, every_row: bool = False):
    """A small 0/1 matrix: items in two blocks, each user prefers one (0.6 inside it, 0.1 outside).

    The first user has every item (no empty column); with ``every_row`` each user also gets one
    random item (no empty row)."""
    rng = np.random.default_rng(seed)
    block = np.repeat([0, 1], p // 2)
    preferred = rng.integers(0, 2, size=n)
    prob = np.where(block[None, :] == preferred[:, None], 0.6, 0.1)
    X = (rng.random((n, p)) < prob).astype(float)
    if every_row:
        X[np.arange(n), rng.integers(0, p, size=n)] = 1.0
    X[0] = 1.0
    return X
