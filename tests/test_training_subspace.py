"""Tests for cossim.train_factorization_in_top_subspace (chapters/training_dynamics.md).

The claim: gradient descent from a start inside the span of the top k eigenvectors of X^T X stays
there, so running it on the k x k block gives the same iterates as the full run, up to rounding.
"""

from __future__ import annotations

import numpy as np
import pytest

from cossim import (
    Factorization,
    GramDecomposition,
    train_factorization,
    train_factorization_in_top_subspace,
)


def _gram(seed: int = 3, n: int = 40, p: int = 9) -> GramDecomposition:
    X = np.random.default_rng(seed).standard_normal((n, p))
    return GramDecomposition.from_data(X)


def _start(gram: GramDecomposition, k: int, seed: int = 5):
    rng = np.random.default_rng(seed)
    V = gram.eigenvectors[:, :k]
    return V @ rng.standard_normal((k, k)) * 0.6, V @ rng.standard_normal((k, k)) * 0.4


@pytest.mark.parametrize("objective", ["product", "factor", "weight_decay"])
def test_same_iterates_as_the_full_run(objective):
    gram = _gram()
    k = 3
    sigma = np.sqrt(gram.eigenvalues)
    lam = 0.3 * sigma[1] if objective == "factor" else 0.3 * sigma[1] ** 2
    init = _start(gram, k)
    options = dict(tol=1e-7, max_iter=20_000, record_every=7)
    full = train_factorization(gram, k, lam, objective, init=init, **options)
    small = train_factorization_in_top_subspace(gram, k, lam, objective, init=init, **options)
    assert full.converged and small.converged
    assert small.n_iter == full.n_iter and np.isclose(small.lr, full.lr, rtol=1e-12, atol=0)
    np.testing.assert_array_equal(small.record_iterations, full.record_iterations)
    np.testing.assert_allclose(small.loss_history, full.loss_history, rtol=1e-10)
    np.testing.assert_allclose(small.grad_norm_history, full.grad_norm_history, rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(small.imbalance_history, full.imbalance_history, rtol=1e-7, atol=1e-12)
    scale = np.abs(full.factorization.A).max()
    np.testing.assert_allclose(small.factorization.A, full.factorization.A, atol=1e-9 * scale)
    np.testing.assert_allclose(small.factorization.B, full.factorization.B, atol=1e-9 * scale)


def test_callback_sees_the_factors_in_the_item_basis():
    gram = _gram()
    init = _start(gram, 2)
    seen = []
    train_factorization_in_top_subspace(gram, 2, 1.0, init=init, max_iter=5, record_every=2,
                                        callback=lambda i, A, B: seen.append((i, A.shape, A.flags.writeable)))
    assert seen == [(0, (9, 2), False), (2, (9, 2), False), (4, (9, 2), False), (5, (9, 2), False)]


def test_accepts_a_factorization_and_returns_the_item_basis():
    gram = _gram()
    A0, B0 = _start(gram, 2)
    result = train_factorization_in_top_subspace(gram, 2, 1.0, init=Factorization(A0, B0), max_iter=0)
    np.testing.assert_allclose(result.factorization.A, A0, atol=1e-12)
    np.testing.assert_allclose(result.factorization.B, B0, atol=1e-12)


@pytest.mark.parametrize(
    "gram_of, kwargs, name",
    [
        (lambda g: np.eye(9), {}, "gram"),
        (lambda g: g, {"k": 0}, "k"),
        (lambda g: g, {"k": 10}, "k"),
        (lambda g: g, {"init": (np.ones((9, 2)), np.ones((9, 2)))}, "init"),
        (lambda g: g, {"init": (np.ones((8, 2)), np.ones((8, 2)))}, "init"),
        (lambda g: g, {"optimizer": "adam"}, "optimizer"),
        (lambda g: g, {"seed": 1}, "seed"),
        (lambda g: g, {"init_scale": 0.1}, "init_scale"),
        (lambda g: g, {"callback": 3}, "callback"),
        (lambda g: g, {"lam": -1.0}, "lam"),
    ],
)
def test_rejects_bad_input_naming_the_argument(gram_of, kwargs, name):
    gram = _gram()
    arguments = {"k": 2, "lam": 1.0, "init": _start(gram, 2)}
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=name):
        train_factorization_in_top_subspace(gram_of(gram), **arguments)
