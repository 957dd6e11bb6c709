"""Tests of cossim.remedies (chapters/remedies.md, "Remedies, measured")."""

import numpy as np
import pytest

import cossim
from cossim.linalg import gram_matrix, gram_spectrum
from cossim.remedies import (
    CosineModelResult,
    cosine_model_loss_and_gradients,
    inverse_propensity_weights,
    normalize_rows,
    normalize_rows_vjp,
    projected_item_similarity,
    sphere_gauge_directions,
    sphere_regauge,
    standardize_columns,
    train_cosine_model,
)
from tests.model_support import two_block_interactions

# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def small_data():
    """A small 0/1 matrix with two blocks of items (60 users, 10 items)."""
    return two_block_interactions(60, 10, seed=3)


def random_matrix(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape)


def central_difference(f, x, direction, h=1e-6):
    return (f(x + h * direction) - f(x - h * direction)) / (2 * h)


# --------------------------------------------------------------------------- the public names


# --------------------------------------------------------------------------- row normalisation


def test_normalize_rows_gives_unit_rows_in_the_same_directions():
    B = random_matrix((7, 3), 0)
    N = normalize_rows(B)
    assert np.allclose(np.linalg.norm(N, axis=1), 1.0)
    assert np.allclose(N * np.linalg.norm(B, axis=1)[:, None], B)


def test_normalize_rows_rejects_a_zero_row():
    with pytest.raises(ValueError, match="B must have no zero rows"):
        normalize_rows([[1.0, 0.0], [0.0, 0.0]])
    with pytest.raises(ValueError, match="B"):
        normalize_rows([1.0, 2.0])


@pytest.mark.parametrize("seed", range(5))
def test_normalize_rows_vjp_matches_finite_differences(seed):
    rng = np.random.default_rng(seed)
    B = rng.standard_normal((6, 4)) * rng.uniform(0.2, 5.0, size=(6, 1))
    C = rng.standard_normal((6, 4))

    def scalar(M):
        return float(np.sum(C * normalize_rows(M)))

    grad = normalize_rows_vjp(B, C)
    for _ in range(3):
        direction = rng.standard_normal(B.shape)
        assert np.isclose(central_difference(scalar, B, direction), np.sum(grad * direction), rtol=1e-6, atol=1e-9)


def test_normalize_rows_vjp_is_tangent_and_ignores_radial_scaling():
    rng = np.random.default_rng(1)
    B = rng.standard_normal((5, 3))
    U = rng.standard_normal((5, 3))
    grad = normalize_rows_vjp(B, U)
    assert np.allclose(np.einsum("ij,ij->i", grad, B), 0.0, atol=1e-12)
    # an upstream gradient along the rows themselves has no effect
    assert np.allclose(normalize_rows_vjp(B, normalize_rows(B) * 3.0), 0.0, atol=1e-12)


def test_normalize_rows_vjp_rejects_bad_input():
    with pytest.raises(ValueError, match="upstream"):
        normalize_rows_vjp(np.ones((3, 2)), np.ones((3, 3)))
    with pytest.raises(ValueError, match="B must have no zero rows"):
        normalize_rows_vjp(np.zeros((2, 2)), np.ones((2, 2)))


# --------------------------------------------------------------------------- the sphere model


def test_sphere_loss_is_objective_one_of_the_normalised_factors(small_data):
    X = small_data
    G = X.T @ X
    A = random_matrix((10, 3), 1) * 0.3
    B = random_matrix((10, 3), 2)
    loss, _, _ = cosine_model_loss_and_gradients(G, A, B, 2.5)
    expected = cossim.product_penalty_loss(X, A, normalize_rows(B), 2.5)
    assert np.isclose(loss, expected, rtol=1e-10)


@pytest.mark.parametrize("lam", [0.0, 3.0])
def test_sphere_gradients_match_finite_differences(small_data, lam):
    X = small_data
    G = X.T @ X
    rng = np.random.default_rng(4)
    A = rng.standard_normal((10, 3)) * 0.3
    B = rng.standard_normal((10, 3))
    _, grad_A, grad_B = cosine_model_loss_and_gradients(G, A, B, lam)
    for _ in range(3):
        dA = rng.standard_normal(A.shape)
        dB = rng.standard_normal(B.shape)
        fd_A = central_difference(lambda M: cosine_model_loss_and_gradients(G, M, B, lam)[0], A, dA)
        fd_B = central_difference(lambda M: cosine_model_loss_and_gradients(G, A, M, lam)[0], B, dB)
        assert np.isclose(fd_A, np.sum(grad_A * dA), rtol=1e-6, atol=1e-6)
        assert np.isclose(fd_B, np.sum(grad_B * dB), rtol=1e-6, atol=1e-6)


def test_sphere_loss_rejects_bad_input(small_data):
    G = small_data.T @ small_data
    A = np.ones((10, 2))
    with pytest.raises(ValueError, match="G must be a square"):
        cosine_model_loss_and_gradients(np.ones((10, 3)), A, A, 1.0)
    with pytest.raises(ValueError, match="G must be symmetric"):
        cosine_model_loss_and_gradients(np.triu(np.ones((10, 10))), A, A, 1.0)
    with pytest.raises(ValueError, match="A must have 10 rows"):
        cosine_model_loss_and_gradients(G, np.ones((9, 2)), A, 1.0)
    with pytest.raises(ValueError, match="B must have the same shape"):
        cosine_model_loss_and_gradients(G, A, np.ones((10, 3)), 1.0)
    with pytest.raises(ValueError, match="lam"):
        cosine_model_loss_and_gradients(G, A, A, -1.0)
    B = A.copy()
    B[4] = 0.0
    with pytest.raises(ValueError, match="B must have no zero rows"):
        cosine_model_loss_and_gradients(G, A, B, 1.0)


@pytest.fixture(scope="module")
def trained(small_data):
    # k = 5 on 10 items: k (k + 1) / 2 = 15 > 10, and the sphere can reach the optimum of (1).
    G = gram_matrix(small_data)
    return G, train_cosine_model(G, 5, 4.0, seed=0, max_iter=400)


def test_training_decreases_the_loss_and_ends_at_a_stationary_point(small_data, trained):
    G, result = trained
    assert isinstance(result, CosineModelResult)
    history = result.loss_history
    assert history.shape == (result.n_iter + 1,)
    assert np.all(np.diff(history) <= 1e-9 * history[0])
    f = result.factorization
    assert np.allclose(np.linalg.norm(f.B, axis=1), 1.0)
    loss, grad_A, grad_B = cosine_model_loss_and_gradients(G, f.A, f.B, 4.0)
    assert np.isclose(loss, result.loss, rtol=1e-10)
    assert np.isclose(np.linalg.norm(grad_B), result.grad_norm, rtol=1e-6, atol=1e-9)
    assert np.linalg.norm(grad_A) < 1e-8 * np.trace(G)
    assert result.grad_norm < 1e-4 * np.trace(G)
    # the constraint can only cost: objective (1) without it is a lower bound, reached here
    closed = cossim.fit_product_penalty(small_data, 5, 4.0)
    bound = cossim.product_penalty_loss(small_data, closed.A, closed.B, 4.0)
    assert bound - 1e-9 * bound <= result.loss <= bound + 1e-6 * bound


@pytest.mark.slow
def test_training_is_deterministic_and_accepts_an_initial_point(small_data, trained):
    G, result = trained
    again = train_cosine_model(G, 5, 4.0, seed=0, max_iter=400)
    assert np.array_equal(again.factorization.B, result.factorization.B)
    closed = cossim.fit_product_penalty(small_data, 5, 4.0)
    from_closed = train_cosine_model(G, 5, 4.0, init=closed, max_iter=50)
    assert from_closed.loss_history[0] >= from_closed.loss - 1e-9


def test_training_rejects_bad_input(trained):
    G, _ = trained
    with pytest.raises(ValueError, match="lam must be > 0"):
        train_cosine_model(G, 3, 0.0)
    with pytest.raises(ValueError, match="k"):
        train_cosine_model(G, 11, 1.0)
    with pytest.raises(ValueError, match="init must have shape"):
        train_cosine_model(G, 3, 1.0, init=np.ones((10, 2)))
    bad_init = np.ones((10, 3))
    bad_init[2] = 0.0
    with pytest.raises(ValueError, match="init must have no zero rows"):
        train_cosine_model(G, 3, 1.0, init=bad_init)
    with pytest.raises(ValueError, match="max_iter"):
        train_cosine_model(G, 3, 1.0, max_iter=0)
    with pytest.raises(ValueError, match="tol"):
        train_cosine_model(G, 3, 1.0, tol=0.0)
    with pytest.raises(ValueError, match="seed"):
        train_cosine_model(G, 3, 1.0, seed=True)
    with pytest.raises(ValueError, match="seed"):
        train_cosine_model(G, 3, 1.0, seed=-1)


# --------------------------------------------------------------------------- the freedom left on the sphere


def test_sphere_gauge_directions_count_and_constraint():
    p, k = 6, 4  # k (k + 1) / 2 = 10 > 6: at least 4 directions
    Y = normalize_rows(random_matrix((p, k), 5))
    directions = sphere_gauge_directions(Y)
    assert directions.shape[0] >= k * (k + 1) // 2 - p
    assert directions.shape[1:] == (k, k)
    for Delta in directions:
        assert np.allclose(Delta, Delta.T)
        assert np.allclose(np.einsum("ij,jk,ik->i", Y, Delta, Y), 0.0, atol=1e-12)
    flat = directions.reshape(directions.shape[0], -1)
    assert np.allclose(flat @ flat.T, np.eye(directions.shape[0]), atol=1e-12)


def test_no_sphere_gauge_directions_when_there_are_enough_items():
    Y = normalize_rows(random_matrix((12, 3), 6))  # k (k + 1) / 2 = 6 <= 12
    assert sphere_gauge_directions(Y).shape == (0, 3, 3)


def test_sphere_regauge_keeps_the_product_and_the_sphere_but_not_the_cosines(small_data):
    G = gram_matrix(small_data)
    result = train_cosine_model(G, 5, 4.0, seed=1, max_iter=200)  # 15 > 10: free directions
    f = result.factorization
    directions = sphere_gauge_directions(f.B)
    assert directions.shape[0] >= 5
    Delta = directions[0]
    t = 0.5 / np.max(np.abs(np.linalg.eigvalsh(Delta)))
    M = np.eye(5) + t * Delta
    g = sphere_regauge(f, M)
    assert np.allclose(np.linalg.norm(g.B, axis=1), 1.0)
    assert np.allclose(g.A @ g.B.T, f.A @ f.B.T, atol=1e-12)
    loss = cosine_model_loss_and_gradients(G, g.A, g.B, 4.0)[0]
    assert np.isclose(loss, result.loss, rtol=1e-10)
    cosines = cossim.item_similarity(g)
    assert np.allclose(cosines, f.B @ M @ f.B.T)
    assert np.max(np.abs(cosines - cossim.item_similarity(f))) > 1e-3


def test_sphere_regauge_rejects_bad_input():
    Y = normalize_rows(random_matrix((6, 4), 7))
    f = cossim.Factorization(random_matrix((6, 4), 8), Y)
    with pytest.raises(ValueError, match="factorization must be a cossim.Factorization"):
        sphere_regauge((Y, Y), np.eye(4))
    with pytest.raises(ValueError, match="factorization must have rows of unit length"):
        sphere_regauge(cossim.Factorization(Y, 2 * Y), np.eye(4))
    with pytest.raises(ValueError, match=r"M must have shape \(4, 4\)"):
        sphere_regauge(f, np.eye(3))
    with pytest.raises(ValueError, match="M must be symmetric"):
        sphere_regauge(f, np.eye(4) + np.triu(np.ones((4, 4)), 1))
    with pytest.raises(ValueError, match="M must be positive definite"):
        sphere_regauge(f, -np.eye(4))
    with pytest.raises(ValueError, match="M must keep the rows on the sphere"):
        sphere_regauge(f, 2 * np.eye(4))


# --------------------------------------------------------------------------- projecting back


@pytest.mark.parametrize("space", ["weights", "predictions"])
def test_projected_similarity_is_the_same_for_every_gauge(small_data, space):
    X = small_data
    f = cossim.fit_product_penalty(X, 4, 3.0)
    rng = np.random.default_rng(9)
    reference = projected_item_similarity(f, X, space)
    for gauge in (np.exp(rng.uniform(-2, 2, size=4)), rng.standard_normal((4, 4))):
        other = projected_item_similarity(cossim.regauge(f, gauge), X, space)
        assert np.max(np.abs(other - reference)) < 1e-10
    # ... while the embedding cosines do change
    changed = cossim.item_similarity(cossim.regauge(f, np.exp(rng.uniform(-2, 2, size=4))))
    assert np.max(np.abs(changed - cossim.item_similarity(f))) > 1e-2


def test_projected_similarity_is_the_cosine_of_the_columns(small_data):
    X = small_data
    f = cossim.fit_factor_penalty(X, 4, 1.0)
    W = f.A @ f.B.T
    assert np.allclose(projected_item_similarity(f), cossim.cosine_similarity(W.T))
    by_data = projected_item_similarity(f, X, "predictions")
    assert np.allclose(by_data, cossim.cosine_similarity((X @ W).T))
    assert np.allclose(projected_item_similarity(f, space="predictions", gram=X.T @ X), by_data)


def test_projected_similarity_marks_zero_columns_nan():
    f = cossim.Factorization(np.eye(3)[:, :2], np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]))
    S = projected_item_similarity(f)
    assert np.isnan(S[2]).all() and np.isnan(S[:, 2]).all()
    assert np.allclose(S[:2, :2], np.eye(2))


def test_projected_similarity_rejects_bad_input(small_data):
    f = cossim.fit_product_penalty(small_data, 3, 1.0)
    with pytest.raises(ValueError, match="space must be one of"):
        projected_item_similarity(f, small_data, "embeddings")
    with pytest.raises(ValueError, match="X \\(or gram\\) is needed"):
        projected_item_similarity(f, space="predictions")
    with pytest.raises(ValueError, match="X must have 10 columns"):
        projected_item_similarity(f, small_data[:, :5], "predictions")
    with pytest.raises(ValueError, match="gram must be 10 x 10"):
        projected_item_similarity(f, space="predictions", gram=np.eye(4))
    with pytest.raises(ValueError, match="factorization must be a cossim.Factorization"):
        projected_item_similarity((f.A, f.B))


# --------------------------------------------------------------------------- post-hoc normalisation


def test_post_hoc_row_normalisation_still_depends_on_the_gauge(small_data):
    f = cossim.fit_product_penalty(small_data, 4, 3.0)
    rng = np.random.default_rng(10)
    d1, d2 = np.exp(rng.uniform(-2, 2, size=(2, 4)))
    Y1 = normalize_rows(cossim.regauge(f, d1).B)
    Y2 = normalize_rows(cossim.regauge(f, d2).B)
    # normalising the rows does not change their cosines ...
    assert np.allclose(Y1 @ Y1.T, cossim.item_similarity(cossim.regauge(f, d1)))
    # ... so the normalised embeddings of two gauges disagree as much as before
    assert np.max(np.abs(Y1 @ Y1.T - Y2 @ Y2.T)) > 1e-2


# --------------------------------------------------------------------------- normalising before learning


def test_standardise_columns_on_a_small_input():
    X = np.array([[0.0, 1.0, 5.0], [2.0, 3.0, 5.5], [4.0, 2.0, 6.0]])
    Z = standardize_columns(X)
    assert np.allclose(Z.mean(axis=0), 0.0)
    assert np.allclose(Z.var(axis=0), 1.0)
    assert np.allclose(Z[:, 0], [-np.sqrt(1.5), 0.0, np.sqrt(1.5)])
    R = standardize_columns(X, centre=False)
    assert np.allclose(np.mean(R**2, axis=0), 1.0)
    P = standardize_columns(X, preserve_norm=True)
    assert np.isclose(np.linalg.norm(P), np.linalg.norm(X))
    assert np.allclose(P / P.std(axis=0), Z)


def test_standardise_columns_rejects_bad_input():
    with pytest.raises(ValueError, match="X has a constant column \\(column 1\\)"):
        standardize_columns([[1.0, 2.0], [3.0, 2.0]])
    with pytest.raises(ValueError, match="X has a zero column"):
        standardize_columns([[1.0, 0.0], [3.0, 0.0]], centre=False)
    with pytest.raises(ValueError, match="at least 2 rows"):
        standardize_columns([[1.0, 2.0]])
    with pytest.raises(ValueError, match="X must be finite"):
        standardize_columns([[np.nan, 1.0], [1.0, 2.0]])


def test_inverse_propensity_weights_on_a_small_input():
    X = np.array([[1.0, 1.0, 0.0], [1.0, 0.0, 1.0], [1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    w = inverse_propensity_weights(X, 1.0, preserve_norm=False)
    assert np.allclose(w, [1.0, 4.0, 4.0])  # popularity 4, 1, 1, relative to the largest
    assert np.allclose((X * w).sum(axis=0), (X * w).sum(axis=0)[0])  # exponent 1 equalises the sums
    half = inverse_propensity_weights(X, 0.5, preserve_norm=False)
    assert np.allclose(np.linalg.norm(X * half, axis=0), 1.0 * np.linalg.norm(X * half, axis=0)[0])
    kept = inverse_propensity_weights(X, 0.75)
    assert np.isclose(np.linalg.norm(X * kept), np.linalg.norm(X))
    assert np.allclose(inverse_propensity_weights(X, 0.0), 1.0)


def test_inverse_propensity_weights_refuse_an_exponent_that_overflows():
    X = np.zeros((1000, 2))
    X[:, 0] = 1.0
    X[0, 1] = 1.0                      # popularities 1,000 and 1: weights 1 and 1000**exponent
    assert np.isclose(inverse_propensity_weights(X, 100.0, preserve_norm=False)[1], 1e300)
    with pytest.raises(ValueError, match="exponent 120.0 is too large"):
        inverse_propensity_weights(X, 120.0)


def test_inverse_propensity_weights_reject_bad_input():
    with pytest.raises(ValueError, match="X must be non-negative"):
        inverse_propensity_weights([[1.0, -1.0], [1.0, 1.0]], 0.5)
    with pytest.raises(ValueError, match="X has a column with sum 0 \\(column 1\\)"):
        inverse_propensity_weights([[1.0, 0.0], [1.0, 0.0]], 0.5)
    with pytest.raises(ValueError, match="exponent"):
        inverse_propensity_weights([[1.0, 1.0]], -0.5)
    with pytest.raises(ValueError, match="exponent"):
        inverse_propensity_weights([[1.0, 1.0]], np.inf)


def test_gram_matrix_and_gram_spectrum_agree_with_the_data(small_data):
    X = small_data
    G = gram_matrix(X)
    assert np.array_equal(G, X.T @ X)
    s, V = gram_spectrum(G, 4)
    s_ref, V_ref = cossim.top_spectrum(X, 4)
    assert np.allclose(s, s_ref)
    assert np.allclose(V, V_ref)
    # a fit from the spectrum of a column-scaled Gram matrix is the fit of the scaled data
    w = inverse_propensity_weights(X, 0.5)
    spectrum = gram_spectrum(w[:, None] * G * w, 4)
    fit = cossim.fit_product_penalty(X * w, 4, 2.0, spectrum=spectrum)
    direct = cossim.fit_product_penalty(X * w, 4, 2.0)
    assert np.allclose(fit.A @ fit.B.T, direct.A @ direct.B.T)
    with pytest.raises(ValueError, match="k"):
        gram_spectrum(G, 11)
    with pytest.raises(ValueError, match="G must be symmetric"):
        gram_spectrum(np.triu(np.ones((3, 3))), 1)
