"""Shared test set-up: make the build helpers in `tools/` importable, and the tables several test files use."""

import sys
from pathlib import Path

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

#: The closed-form fit of each of the three objectives, by the name cossim.training uses.
FITS = {"product": fit_product_penalty, "factor": fit_factor_penalty, "weight_decay": fit_weight_decay}
#: The loss of each objective, evaluated on the data X.
LOSSES = {"product": product_penalty_loss, "factor": factor_penalty_loss, "weight_decay": weight_decay_loss}
