r"""Symbolic derivations behind the book, done by sympy in view.

One core module and one module per subject; this package re-exports every
public name of each:

* :mod:`cossim.symbolic.core`: :class:`Step`, :class:`Derivation`, their
  rendering, the printer in the book's notation (:func:`book_latex`,
  :class:`CosSim`), the shared symbols and the cosine helpers;
* :mod:`cossim.symbolic.gauge`: ``chapters/gauge_freedom.md``;
* :mod:`cossim.symbolic.product_penalty`: ``chapters/product_penalty.md``;
* :mod:`cossim.symbolic.factor_penalty`: ``chapters/factor_penalty.md``;
* :mod:`cossim.symbolic.training`: ``chapters/training_dynamics.md``;
* :mod:`cossim.symbolic.deep`: ``chapters/deep_models.md``;
* :mod:`cossim.symbolic.audit`: ``chapters/audit.md``.

See :mod:`cossim.symbolic.core` for the house rule (a derivation solves, a
check verifies and can be fed a counter-example). Pure sympy: nothing here
imports numpy, matplotlib or the numerical modules of :mod:`cossim`.
"""

from cossim.symbolic.audit import AUDIT_GAMMA, audit_gauge_check, audit_gauge_spectrum
from cossim.symbolic.core import (
    LAMBDA,
    SIGMA,
    THETA,
    CosSim,
    Derivation,
    Step,
    book_latex,
    cosine,
    cosine_matrix,
    cross_cosine,
    rotation_matrix,
)
from cossim.symbolic.deep import relu_network_rescaling_check, relu_rescaling_check, weight_decay_unit_balance
from cossim.symbolic.factor_penalty import (
    factor_penalty_balance,
    factor_penalty_closed_form_check,
    factor_penalty_direction,
    factor_penalty_rotation_check,
    factor_penalty_vs_product_family,
    fixed_product_balance,
    weight_decay_direction,
)
from cossim.symbolic.gauge import (
    cosine_depends_on_scale,
    gauge_for_correlation,
    gauge_invariance_check,
    positive_vectors_cosine_range,
    two_vector_cosine_range,
)
from cossim.symbolic.product_penalty import (
    cosine_formula_check,
    full_rank_item_identity_check,
    full_rank_user_raw_check,
    low_rank_row_norms,
    product_penalty_completed_square,
    product_penalty_direction,
    symmetric_split_check,
)
from cossim.symbolic.training import (
    TRAINING_OBJECTIVES,
    balanced_minimizer_gauge,
    factor_penalty_rescaling_check,
    imbalance_conservation_check,
    imbalance_dynamics,
    imbalance_gauge_one_direction,
)

__all__ = [
    # core
    "LAMBDA",
    "SIGMA",
    "THETA",
    "CosSim",
    "Derivation",
    "Step",
    "book_latex",
    "cosine",
    "cosine_matrix",
    "cross_cosine",
    "rotation_matrix",
    # gauge
    "cosine_depends_on_scale",
    "gauge_for_correlation",
    "gauge_invariance_check",
    "positive_vectors_cosine_range",
    "two_vector_cosine_range",
    # product_penalty
    "cosine_formula_check",
    "full_rank_item_identity_check",
    "full_rank_user_raw_check",
    "low_rank_row_norms",
    "product_penalty_completed_square",
    "product_penalty_direction",
    "symmetric_split_check",
    # factor_penalty
    "factor_penalty_balance",
    "factor_penalty_closed_form_check",
    "factor_penalty_direction",
    "factor_penalty_rotation_check",
    "factor_penalty_vs_product_family",
    "fixed_product_balance",
    "weight_decay_direction",
    # training
    "TRAINING_OBJECTIVES",
    "balanced_minimizer_gauge",
    "factor_penalty_rescaling_check",
    "imbalance_conservation_check",
    "imbalance_dynamics",
    "imbalance_gauge_one_direction",
    # deep
    "relu_network_rescaling_check",
    "relu_rescaling_check",
    "weight_decay_unit_balance",
    # audit
    "AUDIT_GAMMA",
    "audit_gauge_check",
    "audit_gauge_spectrum",
]
