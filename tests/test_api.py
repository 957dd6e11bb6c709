"""The library's promises about its public names, checked once for every module.

The modules are discovered (``pkgutil``): every non-private module of ``cossim`` and of
``cossim.symbolic`` is checked, except those in ``LEFT_OUT``, each left out for a stated reason.

* Every name in a module's ``__all__`` is exported by the package (``cossim`` for the numerical
  modules, ``cossim.symbolic`` for the symbolic ones), and the package exports nothing else.
* Every public function is covered by the contract: bad input raises ``ValueError`` (or the
  documented exception) whose message names the offending argument. A new public function
  without an entry in ``CONTRACTS`` fails ``test_every_public_function_has_a_contract``.
* Backlinks are true: every ``chapters/X.md`` named in a public object's docstring is a chapter
  whose source uses the name; a public object that names no chapter says which public function
  or class uses it (``Used by``, ``Returned by``), and that one reaches a chapter.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

import cossim
import cossim.symbolic

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = {path.name: path.read_text(encoding="utf-8") for path in (ROOT / "chapters").glob("*.md")}

#: The non-private modules this file does not check, and why.
LEFT_OUT = {
    # The command line: its one function takes argv and reports bad input as exit status 2 with
    # a one-line message, not as ValueError; tests/test_cli.py checks every case.
    "cossim.cli": "the cossim-audit command",
    # Presentation, not the numerical library: chapters import these directly (they are not
    # re-exported by cossim), and they import matplotlib, or bokeh lazily, which the numerical
    # modules never do.
    "cossim.plotting": "the book's figures (matplotlib)",
    "cossim.interactive": "the explorers' Bokeh pages (bokeh, matplotlib)",
    # A package, not a module: its modules are discovered and checked one by one.
    "cossim.symbolic": "the symbolic layer's package",
}


def _discover(package) -> list[str]:
    """The non-private modules (and subpackages) directly inside ``package``."""
    return sorted(f"{package.__name__}.{info.name}" for info in pkgutil.iter_modules(package.__path__)
                  if not info.name.startswith("_"))


DISCOVERED = _discover(cossim) + _discover(cossim.symbolic)
MODULES = {name: (cossim.symbolic if name.startswith("cossim.symbolic.") else cossim)
           for name in DISCOVERED if name not in LEFT_OUT}


def public_names():
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            yield module_name, name, getattr(module, name)


PUBLIC = list(public_names())


def test_modules_are_discovered_and_only_the_listed_ones_left_out():
    assert sorted(set(LEFT_OUT) - set(DISCOVERED)) == []  # the list names no module that is gone
    for expected in ["cossim.explorers", "cossim.linalg", "cossim.models", "cossim.audit", "cossim.symbolic.core"]:
        assert expected in MODULES
    assert [name for name in MODULES if not hasattr(importlib.import_module(name), "__all__")] == []


# --------------------------------------------------------------------------- exports


def test_every_public_name_is_exported_by_its_package():
    missing = []
    for module_name, name, obj in PUBLIC:
        package = MODULES[module_name]
        if getattr(package, name, None) is not obj or name not in package.__all__:
            missing.append(f"{module_name}.{name}")
    assert missing == []


@pytest.mark.parametrize("package", [cossim, cossim.symbolic], ids=["cossim", "cossim.symbolic"])
def test_packages_export_only_module_names_once(package):
    from_modules = {name for module_name, name, _ in PUBLIC if MODULES[module_name] is package}
    exported = set(package.__all__) - {"__version__"}
    assert exported <= from_modules
    assert len(set(package.__all__)) == len(package.__all__)
    assert all(hasattr(package, name) for name in package.__all__)


# --------------------------------------------------------------------------- contracts


def _X():
    return np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0], [1.0, 1.0, 0.0], [1.0, 0.0, 0.0]])


def _f():
    return cossim.fit_product_penalty(_X(), 2, 0.5)


def _S():
    return cossim.cosine_similarity(np.arange(12.0).reshape(4, 3) + 1)


def _net():
    return cossim.init_relu_net((3, 2, 3), seed=0)


def _split():
    X = _X()
    test = np.zeros_like(X)
    test[0, 0], X[0, 0] = 1.0, 0.0
    return X, test


NAN = np.array([[np.nan, 1.0], [1.0, 1.0]])
sym = cossim.symbolic

#: name -> (a call with one bad argument, the exception, text the message must contain).
CONTRACTS = {
    # cossim.linalg
    "check_gram": (lambda: cossim.check_gram([[1.0, 2.0], [0.0, 1.0]]), ValueError, "G must be symmetric"),
    "gram_matrix": (lambda: cossim.gram_matrix(NAN), ValueError, "X must be finite"),
    "gram_spectrum": (lambda: cossim.gram_spectrum(np.eye(3), 4), ValueError, "k must lie"),
    "top_spectrum": (lambda: cossim.top_spectrum(_X(), 0), ValueError, "k must lie"),
    "top_svd": (lambda: cossim.top_svd(NAN, 1), ValueError, "X must be finite"),
    # cossim.models
    "effective_rank": (lambda: cossim.effective_rank([1.0, -1.0], 0.5), ValueError, "singular_values"),
    "factor_penalty_loss": (lambda: cossim.factor_penalty_loss(_X(), np.ones((3, 2)), np.ones((2, 2)), 1.0),
                            ValueError, "B must have the same shape"),
    "fit_factor_penalty": (lambda: cossim.fit_factor_penalty(_X(), 2, -1.0), ValueError, "lam must be >= 0"),
    "fit_product_penalty": (lambda: cossim.fit_product_penalty(_X(), 5, 1.0), ValueError, "k must lie"),
    "fit_weight_decay": (lambda: cossim.fit_weight_decay(_X(), 2, float("nan")), ValueError, "lam must be finite"),
    "gauge_for_item_cosines": (lambda: cossim.gauge_for_item_cosines(_f(), np.eye(2)), ValueError, "factorization"),
    "item_similarity": (lambda: cossim.item_similarity("f"), ValueError, "factorization must be"),
    "product_penalty_loss": (lambda: cossim.product_penalty_loss(_X(), np.ones((2, 2)), np.ones((2, 2)), 1.0),
                             ValueError, "A must have 3 rows"),
    "regauge": (lambda: cossim.regauge(_f(), [1.0, 0.0]), ValueError, "gauge must have nonzero"),
    "user_item_similarity": (lambda: cossim.user_item_similarity(_f(), np.ones((2, 5))), ValueError, "X must have 3"),
    "user_similarity": (lambda: cossim.user_similarity(None, _X()), ValueError, "factorization must be"),
    "weight_decay_loss": (lambda: cossim.weight_decay_loss(_X(), np.ones((3, 2)), np.ones((3, 2)), -1.0),
                          ValueError, "lam must be >= 0"),
    # cossim.similarity
    "cosine_similarity": (lambda: cossim.cosine_similarity(np.ones((2, 2)), np.ones((2, 3))), ValueError, "Z must"),
    # cossim.metrics
    "cluster_metrics": (lambda: cossim.cluster_metrics(_S(), [0, 0, 1], 1), ValueError, "clusters must"),
    "within_between_means": (lambda: cossim.within_between_means(_S(), [0, 1]), ValueError, "clusters must"),
    "nearest_neighbours": (lambda: cossim.nearest_neighbours(_S(), 4), ValueError, "top must lie"),
    "neighbour_overlap": (lambda: cossim.neighbour_overlap(_S(), np.eye(3), 1), ValueError, "S2 must"),
    # cossim.explorers
    "diagonal_factor_loss": (lambda: cossim.diagonal_factor_loss(-1.0, [1.0], [1.0], [1.0], 0.0), ValueError,
                             "frobenius2 must be >= 0"),
    "diagonal_product_loss": (lambda: cossim.diagonal_product_loss(1.0, [2.0, 1.0], [1.0, 1.0], [1.0], 0.0),
                              ValueError, "b must have shape"),
    "even_subsample": (lambda: cossim.even_subsample([0, 1, 2], [0, 1, 1], 0), ValueError, "max_items must be"),
    "factor_weights": (lambda: cossim.factor_weights([-1.0, 1.0], 0.0), ValueError, "sigma must be >= 0"),
    "film_explorer_data": (lambda: cossim.film_explorer_data(_X(), ["a", "b"], 1, 1.0), ValueError,
                           "labels must have one entry"),
    "film_neighbours": (lambda: cossim.film_neighbours(
        cossim.film_explorer_data(_X(), ["a", "b", "c"], 1, 1.0, min_ratings=1), 5, 0.5), ValueError,
        "film must be the column of a carried film"),
    "product_gauge_weights": (lambda: cossim.product_gauge_weights([0.5, 0.25], float("nan")), ValueError,
                              "gamma must be finite"),
    "simulation_explorer_data": (lambda: cossim.simulation_explorer_data(_X(), [0, 0, 1], [0, 1, 2], 2, -1.0, 1.0),
                                 ValueError, "lam_product must be >= 0"),
    "simulation_state": (lambda: cossim.simulation_state(None, 0.5, 1.0), ValueError,
                         "data must be a cossim.SimulationExplorerData"),
    # cossim.simulate
    "simulate_clustered_interactions": (lambda: cossim.simulate_clustered_interactions(10, 5, 2, seed=-1),
                                        ValueError, "seed must"),
    # cossim.datasets (missing files are FileNotFoundError, naming the file: documented)
    "default_data_dir": None,  # takes no input
    "load_movielens_100k": (lambda: cossim.load_movielens_100k(ROOT / "no-such-folder"), FileNotFoundError,
                            "no-such-folder"),
    "read_recbole_movies": (lambda: cossim.read_recbole_movies(ROOT / "no.inter", ROOT / "no.item"),
                            FileNotFoundError, "no."),
    # cossim.evaluation
    "label_jaccard": (lambda: cossim.label_jaccard([[1, 0]], [{"a"}, ["b"]]), ValueError, "labels must hold sets"),
    "recall_at_k": (lambda: cossim.recall_at_k(*_split(), np.ones((4, 3)), 0), ValueError, "top must lie"),
    "select_lambda": (lambda: cossim.select_lambda(cossim.fit_product_penalty, *_split(), [1.0], 9),
                      ValueError, "k must lie"),
    "shared_neighbours": (lambda: cossim.shared_neighbours([[1, 2]], [[1, 2, 3]]), ValueError, "second must"),
    "split_per_user": (lambda: cossim.split_per_user(_X(), 0.5, "seed"), ValueError, "seed must"),
    # cossim.remedies
    "cosine_model_loss_and_gradients": (lambda: cossim.cosine_model_loss_and_gradients(
        np.eye(3), np.ones((3, 2)), np.zeros((3, 2)), 1.0), ValueError, "B must have no zero rows"),
    "inverse_propensity_weights": (lambda: cossim.inverse_propensity_weights(_X(), -1.0), ValueError, "exponent"),
    "normalize_rows": (lambda: cossim.normalize_rows([[0.0, 0.0]]), ValueError, "B must have no zero rows"),
    "normalize_rows_vjp": (lambda: cossim.normalize_rows_vjp(np.ones((2, 2)), np.ones((3, 2))), ValueError,
                           "upstream must"),
    "projected_item_similarity": (lambda: cossim.projected_item_similarity(_f(), space="items"), ValueError,
                                  "space must be one of"),
    "sphere_gauge_directions": (lambda: cossim.sphere_gauge_directions([[0.0, 0.0]]), ValueError, "B must"),
    "sphere_regauge": (lambda: cossim.sphere_regauge(_f(), np.eye(2)), ValueError, "factorization must have rows"),
    "standardize_columns": (lambda: cossim.standardize_columns(np.ones((3, 2))), ValueError, "X has a constant"),
    "train_cosine_model": (lambda: cossim.train_cosine_model(np.eye(3), 2, 1.0, seed=True), ValueError, "seed must"),
    # cossim.training
    "factorization_loss_and_gradients": (lambda: cossim.factorization_loss_and_gradients(
        np.eye(3), np.ones((3, 2)), np.ones((3, 2)), 1.0, "both"), ValueError, "objective must be one of"),
    "train_factorization": (lambda: cossim.train_factorization(_X(), 2, 1.0, seed="a"), ValueError, "seed must"),
    "train_factorization_in_top_subspace": (
        lambda: cossim.train_factorization_in_top_subspace(cossim.GramDecomposition.from_data(_X()), 2, 1.0,
                                                           init=(np.ones((3, 2)),) * 2, optimizer="adam"),
        ValueError, "optimizer is not accepted"),
    # cossim.relu_net
    "balance_hidden_units": (lambda: cossim.balance_hidden_units(_net(), 2), ValueError, "layer must lie"),
    "hidden_representations": (lambda: cossim.hidden_representations(_net(), np.ones((2, 4))), ValueError,
                               "X must have 3 columns"),
    "init_relu_net": (lambda: cossim.init_relu_net((3, 2), seed=True), ValueError, "seed must"),
    "item_embeddings": (lambda: cossim.item_embeddings(_net(), side="middle"), ValueError, "side must"),
    "relu_net_forward": (lambda: cossim.relu_net_forward("net", np.ones((2, 3))), ValueError, "params must be"),
    "relu_net_loss": (lambda: cossim.relu_net_loss(_net(), np.ones((2, 3)), lam=-1.0), ValueError, "lam must"),
    "rescale_hidden_units": (lambda: cossim.rescale_hidden_units(_net(), 1, [1.0, -1.0]), ValueError, "d must"),
    "train_relu_net": (lambda: cossim.train_relu_net(np.ones((2, 3)), (2,), max_iter=-1), ValueError, "max_iter"),
    "unit_norms": (lambda: cossim.unit_norms(_net(), 0), ValueError, "layer must lie"),
    # cossim.symbolic.core
    "book_latex": (lambda: sym.book_latex(1, bogus=True), ValueError, "settings must"),
    "cosine": (lambda: sym.cosine([1, 2], [1, 2, 3]), ValueError, "x and y must"),
    "cosine_matrix": (lambda: sym.cosine_matrix([]), ValueError, "M must not be empty"),
    "cross_cosine": (lambda: sym.cross_cosine(sp.eye(2), sp.eye(3)), ValueError, "M and N must"),
    "rotation_matrix": (lambda: sym.rotation_matrix("theta"), ValueError, "theta must"),
    # cossim.symbolic.gauge
    "cosine_depends_on_scale": (lambda: sym.cosine_depends_on_scale(a=(1, 2, 3)), ValueError, "a and b must"),
    "gauge_for_correlation": (lambda: sym.gauge_for_correlation(sp.Matrix([[1, 2], [0, 1]])), ValueError,
                              "C must be symmetric"),
    "gauge_invariance_check": (lambda: sym.gauge_invariance_check(p=0), ValueError, "p must be"),
    "positive_vectors_cosine_range": None,  # takes no input
    "two_vector_cosine_range": (lambda: sym.two_vector_cosine_range(a=(0, 0)), ValueError, "a must not"),
    # cossim.symbolic.product_penalty
    "cosine_formula_check": (lambda: sym.cosine_formula_check("items"), ValueError, "kind must be"),
    "full_rank_item_identity_check": (lambda: sym.full_rank_item_identity_check(sp.eye(3)), ValueError, "D must"),
    "full_rank_user_raw_check": (lambda: sym.full_rank_user_raw_check(n=0), ValueError, "n must be"),
    "low_rank_row_norms": None,  # takes no input
    "product_penalty_completed_square": None,  # takes no input
    "product_penalty_direction": None,  # takes no input
    "symmetric_split_check": (lambda: sym.symmetric_split_check(s=(1, 2, 3)), ValueError, "s must have"),
    # cossim.symbolic.factor_penalty
    "factor_penalty_balance": None,  # takes no input
    "factor_penalty_closed_form_check": (lambda: sym.factor_penalty_closed_form_check(a_squared="x"), ValueError,
                                         "a_squared must"),
    "factor_penalty_direction": None,  # takes no input
    "train_two_sided_model": (lambda: cossim.train_two_sided_model(np.ones((3, 2)), 1, 0.0), ValueError, "tau must"),
    "two_sided_loss_and_gradients": (
        lambda: cossim.two_sided_loss_and_gradients(np.ones((3, 2)), np.ones((2, 1)), np.ones((2, 1)), np.inf),
        ValueError,
        "tau must",
    ),
    "factor_penalty_rotation_check": (lambda: sym.factor_penalty_rotation_check(sp.eye(3)), ValueError, "R must"),
    "factor_penalty_vs_product_family": None,  # takes no input
    "fixed_product_balance": None,  # takes no input
    "weight_decay_direction": None,  # takes no input
    # cossim.symbolic.training
    "balanced_minimizer_gauge": None,  # takes no input
    "factor_penalty_rescaling_check": (lambda: sym.factor_penalty_rescaling_check("q"), ValueError, "power must"),
    "imbalance_conservation_check": (lambda: sym.imbalance_conservation_check(n=0), ValueError, "n must be"),
    "imbalance_dynamics": (lambda: sym.imbalance_dynamics("both"), ValueError, "objective must be"),
    "imbalance_gauge_one_direction": None,  # takes no input
    # cossim.symbolic.deep
    "relu_network_rescaling_check": (lambda: sym.relu_network_rescaling_check(d=(1,)), ValueError, "d must have"),
    "relu_rescaling_check": (lambda: sym.relu_rescaling_check("d"), ValueError, "d must be"),
    "weight_decay_unit_balance": None,  # takes no input
    # cossim.symbolic.audit
    "audit_gauge_check": (lambda: sym.audit_gauge_check(p=0), ValueError, "p must be"),
    "audit_gauge_spectrum": None,  # takes no input
    # cossim.audit
    "neighbour_stability": (lambda: cossim.neighbour_stability(np.full((20, 3), np.nan)), ValueError, "B must be finite"),
    "gauge_free_items": (lambda: cossim.gauge_free_items(np.ones((4, 2)), np.ones((3, 3))), ValueError, "U must"),
    "audit_verdict": (lambda: cossim.audit_verdict("not a result"), ValueError, "result must"),
}

PUBLIC_FUNCTIONS = sorted({name for module_name, name, obj in PUBLIC
                           if inspect.isfunction(obj)})


def test_every_public_function_has_a_contract():
    assert sorted(set(PUBLIC_FUNCTIONS) - set(CONTRACTS)) == []
    stale = set(CONTRACTS) - set(PUBLIC_FUNCTIONS)
    assert sorted(stale) == []


@pytest.mark.parametrize("name", sorted(CONTRACTS))
def test_bad_input_raises_naming_the_argument(name):
    contract = CONTRACTS[name]
    function = getattr(cossim, name, None) or getattr(cossim.symbolic, name, None)
    assert function is not None, f"{name} is not exported"
    if contract is None:
        assert list(inspect.signature(function).parameters) == [], f"{name} takes input: give it a contract"
        return
    call, error, text = contract
    with pytest.raises(error) as caught:
        call()
    assert text in str(caught.value)


# --------------------------------------------------------------------------- backlinks


def _uses(chapter: str, name: str) -> bool:
    return re.search(r"(?<![\w])%s\b" % re.escape(name), CHAPTERS[chapter]) is not None


def _documented():
    for module_name, name, obj in PUBLIC:
        if inspect.isfunction(obj) or inspect.isclass(obj):
            yield module_name, name, inspect.getdoc(obj) or ""


DOCUMENTED = list(_documented())


@pytest.mark.parametrize("module_name, name, doc", DOCUMENTED, ids=[f"{m}.{n}" for m, n, _ in DOCUMENTED])
def test_every_named_chapter_uses_the_name(module_name, name, doc):
    named = sorted(set(re.findall(r"chapters/(\w+\.md)", doc)))
    assert [chapter for chapter in named if chapter not in CHAPTERS] == []
    assert [chapter for chapter in named if not _uses(chapter, name)] == [], (
        f"{module_name}.{name} names a chapter that does not use it")


def _reaches_a_chapter(name: str, seen: frozenset = frozenset()) -> bool:
    entry = next(((m, d) for m, n, d in DOCUMENTED if n == name), None)
    if entry is None or name in seen:
        return False
    _, doc = entry
    if re.search(r"chapters/\w+\.md", doc):
        return True
    users = re.findall(r"(?:Used by|Returned by)[^.]*", doc)
    named = {ref.split(".")[-1] for user in users for ref in re.findall(r":(?:func|class|meth):`([\w.]+)`", user)}
    return any(_reaches_a_chapter(other, seen | {name}) for other in named)


@pytest.mark.parametrize("module_name, name, doc", DOCUMENTED, ids=[f"{m}.{n}" for m, n, _ in DOCUMENTED])
def test_every_public_object_reaches_a_chapter(module_name, name, doc):
    assert _reaches_a_chapter(name), f"{module_name}.{name}: no chapter backlink and no 'Used by' that leads to one"
