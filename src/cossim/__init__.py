"""cossim: the library behind *The Arbitrary Cosine*.

Small, tested numerical functions that the book's chapters call to confirm,
in numbers, what the sympy derivations show. Each public function names in
its docstring the chapter that derives it.
"""

from cossim.linalg import top_spectrum, top_svd
from cossim.models import (
    Factorization,
    effective_rank,
    factor_penalty_loss,
    fit_factor_penalty,
    fit_product_penalty,
    fit_weight_decay,
    gauge_for_item_cosines,
    item_similarity,
    product_penalty_loss,
    regauge,
    user_item_similarity,
    user_similarity,
    weight_decay_loss,
)
from cossim.similarity import cosine_similarity
from cossim.metrics import (
    ClusterMetrics,
    cluster_auc,
    cluster_metrics,
    nearest_neighbours,
    neighbour_overlap,
    precision_at_k,
    within_between_means,
)
from cossim.simulate import SimulatedInteractions, sample_without_replacement, simulate_clustered_interactions
from cossim.datasets import MovieRatings, load_movielens_100k, read_recbole_movies
from cossim.evaluation import (
    LambdaSelection,
    label_jaccard,
    recall_at_k,
    select_lambda,
    shared_neighbours,
    split_per_user,
)
from cossim.remedies import (
    CosineModelResult,
    cosine_model_loss_and_gradients,
    gram_matrix,
    gram_spectrum,
    inverse_propensity_weights,
    normalize_rows,
    normalize_rows_vjp,
    projected_item_similarity,
    sphere_gauge_directions,
    sphere_regauge,
    standardise_columns,
    train_cosine_model,
)


def __getattr__(name):
    # cossim.audit is also a command, `python -m cossim.audit`: importing it here would make runpy
    # warn that the module was imported before it ran, so its public names are loaded on first use.
    if name in ("NeighbourStability", "neighbour_stability"):
        import cossim.audit

        return getattr(cossim.audit, name)
    raise AttributeError(f"module 'cossim' has no attribute {name!r}")


from cossim.training import (  # noqa: E402  (kept next to its __all__ entries)
    GramDecomposition,
    TrainingResult,
    factorization_loss_and_gradients,
    train_factorization,
)
from cossim.training import train_factorization_in_top_subspace  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "__version__",
    # the remedies of the paper's section 3: cossim.remedies
    "CosineModelResult",
    "cosine_model_loss_and_gradients",
    "gram_matrix",
    "gram_spectrum",
    "inverse_propensity_weights",
    "normalize_rows",
    "normalize_rows_vjp",
    "projected_item_similarity",
    "sphere_gauge_directions",
    "sphere_regauge",
    "standardise_columns",
    "train_cosine_model",
    # held-out evaluation for choosing lambda: cossim.evaluation
    "LambdaSelection",
    "label_jaccard",
    "recall_at_k",
    "select_lambda",
    "shared_neighbours",
    "split_per_user",
    # training the factorization by gradient descent and Adam: cossim.training
    "GramDecomposition",
    "TrainingResult",
    "factorization_loss_and_gradients",
    "train_factorization",
    "train_factorization_in_top_subspace",
    # real data and the gauge audit: cossim.datasets and cossim.audit
    "MovieRatings",
    "NeighbourStability",
    "load_movielens_100k",
    "neighbour_stability",
    "read_recbole_movies",
    # the paper's experiment: cossim.simulate and cossim.metrics
    "ClusterMetrics",
    "SimulatedInteractions",
    "cluster_auc",
    "cluster_metrics",
    "nearest_neighbours",
    "neighbour_overlap",
    "precision_at_k",
    "sample_without_replacement",
    "simulate_clustered_interactions",
    "within_between_means",
    # the models
    "Factorization",
    "cosine_similarity",
    "effective_rank",
    "factor_penalty_loss",
    "fit_factor_penalty",
    "fit_product_penalty",
    "fit_weight_decay",
    "gauge_for_item_cosines",
    "item_similarity",
    "product_penalty_loss",
    "regauge",
    "top_spectrum",
    "top_svd",
    "user_item_similarity",
    "user_similarity",
    "weight_decay_loss",
]
