"""cossim: the library behind *The Arbitrary Cosine*.

Small, tested numerical functions that the book's chapters call to confirm,
in numbers, what the sympy derivations show. Each public function names in
its docstring the chapter that uses it. Every module lists its public names
in ``__all__``; this package re-exports all of them (the symbolic layer from
:mod:`cossim.symbolic`, which is imported on its own).
"""

from cossim.audit import (
    DEFAULT_GAMMAS,
    EXACT_LIMIT,
    FLAT_SPREAD,
    STABLE_OVERLAP,
    UNSTABLE_OVERLAP,
    NeighbourStabilityResult,
    audit_verdict,
    gauge_free_items,
    neighbour_stability,
)
from cossim.datasets import (
    MOVIELENS_100K_SHA256,
    MovieRatings,
    default_data_dir,
    load_movielens_100k,
    read_recbole_movies,
)
from cossim.evaluation import (
    LambdaSelectionResult,
    label_jaccard,
    recall_at_k,
    select_lambda,
    shared_neighbours,
    split_per_user,
)
from cossim.explorers import (
    REFERENCE_GAMMA,
    FilmExplorerData,
    SimulationExplorerData,
    SimulationState,
    diagonal_factor_loss,
    diagonal_product_loss,
    even_subsample,
    factor_weights,
    film_explorer_data,
    film_neighbours,
    product_gauge_weights,
    simulation_explorer_data,
    simulation_state,
)
from cossim.linalg import check_gram, gram_matrix, gram_spectrum, top_spectrum, top_svd
from cossim.metrics import (
    ClusterMetricsResult,
    cluster_metrics,
    nearest_neighbours,
    neighbour_overlap,
    within_between_means,
)
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
from cossim.relu_net import (
    ReluNetParams,
    ReluNetResult,
    balance_hidden_units,
    hidden_representations,
    init_relu_net,
    item_embeddings,
    relu_net_forward,
    relu_net_loss,
    rescale_hidden_units,
    train_relu_net,
    unit_norms,
)
from cossim.remedies import (
    CosineModelResult,
    TwoSidedModelResult,
    cosine_model_loss_and_gradients,
    inverse_propensity_weights,
    normalize_rows,
    normalize_rows_vjp,
    projected_item_similarity,
    sphere_gauge_directions,
    sphere_regauge,
    standardize_columns,
    train_cosine_model,
    train_two_sided_model,
    two_sided_loss_and_gradients,
)
from cossim.similarity import cosine_similarity
from cossim.simulate import SimulatedInteractions, simulate_clustered_interactions
from cossim.training import (
    GramDecomposition,
    TrainingResult,
    factorization_loss_and_gradients,
    train_factorization,
    train_factorization_in_top_subspace,
)

__version__ = "0.1.0"

__all__ = [
    "__version__",
    # the truncated SVD and the Gram matrix: cossim.linalg
    "check_gram",
    "gram_matrix",
    "gram_spectrum",
    "top_spectrum",
    "top_svd",
    # the models and their cosines: cossim.models and cossim.similarity
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
    "user_item_similarity",
    "user_similarity",
    "weight_decay_loss",
    # the paper's experiment: cossim.simulate and cossim.metrics
    "ClusterMetricsResult",
    "SimulatedInteractions",
    "cluster_metrics",
    "nearest_neighbours",
    "neighbour_overlap",
    "within_between_means",
    "simulate_clustered_interactions",
    # training the factorization by gradient descent and Adam: cossim.training
    "GramDecomposition",
    "TrainingResult",
    "factorization_loss_and_gradients",
    "train_factorization",
    "train_factorization_in_top_subspace",
    # the remedies of the paper's section 3: cossim.remedies
    "CosineModelResult",
    "cosine_model_loss_and_gradients",
    "inverse_propensity_weights",
    "normalize_rows",
    "normalize_rows_vjp",
    "projected_item_similarity",
    "sphere_gauge_directions",
    "sphere_regauge",
    "standardize_columns",
    "train_cosine_model",
    "TwoSidedModelResult",
    "train_two_sided_model",
    "two_sided_loss_and_gradients",
    # a small ReLU autoencoder: cossim.relu_net
    "ReluNetParams",
    "ReluNetResult",
    "balance_hidden_units",
    "hidden_representations",
    "init_relu_net",
    "item_embeddings",
    "relu_net_forward",
    "relu_net_loss",
    "rescale_hidden_units",
    "train_relu_net",
    "unit_norms",
    # real data: cossim.datasets
    "MOVIELENS_100K_SHA256",
    "MovieRatings",
    "default_data_dir",
    "load_movielens_100k",
    "read_recbole_movies",
    # held-out evaluation for choosing lambda: cossim.evaluation
    "LambdaSelectionResult",
    "label_jaccard",
    "recall_at_k",
    "select_lambda",
    "shared_neighbours",
    "split_per_user",
    # the data and numbers of the interactive explorers: cossim.explorers
    "REFERENCE_GAMMA",
    "FilmExplorerData",
    "SimulationExplorerData",
    "SimulationState",
    "diagonal_factor_loss",
    "diagonal_product_loss",
    "even_subsample",
    "factor_weights",
    "film_explorer_data",
    "film_neighbours",
    "product_gauge_weights",
    "simulation_explorer_data",
    "simulation_state",
    # the gauge audit: cossim.audit (its command line is cossim.cli)
    "DEFAULT_GAMMAS",
    "EXACT_LIMIT",
    "FLAT_SPREAD",
    "STABLE_OVERLAP",
    "UNSTABLE_OVERLAP",
    "NeighbourStabilityResult",
    "audit_verdict",
    "gauge_free_items",
    "neighbour_stability",
]
