"""Tests of the two-sided sphere model in cossim.remedies (chapters/remedies.md, "Remedies, measured").

The model predicts ``tau N(X A) N(B)^T``: users and items both normalised, every score ``tau``
times a user-item cosine.
"""

import numpy as np
import pytest

import cossim
from cossim import (
    Factorization,
    TwoSidedModelResult,
    fit_product_penalty,
    normalize_rows,
    remedies,
    sphere_gauge_directions,
    train_two_sided_model,
    two_sided_loss_and_gradients,
)
from tests.model_support import two_block_interactions


@pytest.fixture(scope="module")
def data():
    """A small 0/1 matrix with two blocks of items (80 users, 12 items), no empty row or column."""
    return two_block_interactions(80, 12, seed=5, every_row=True)


def loss_directly(X, A, B, tau):
    return float(np.sum((X - tau * normalize_rows(X @ A) @ normalize_rows(B).T) ** 2))


def central_difference(f, x, direction, h=1e-6):
    return (f(x + h * direction) - f(x - h * direction)) / (2 * h)


def test_names_are_exported_and_name_the_chapter():
    for name in ("TwoSidedModelResult", "train_two_sided_model", "two_sided_loss_and_gradients"):
        assert name in cossim.__all__ and name in remedies.__all__
        assert getattr(cossim, name) is getattr(remedies, name)
        assert "chapters/remedies.md" in getattr(remedies, name).__doc__


# --------------------------------------------------------------------------- the loss and its gradients


def test_loss_is_the_squared_error_of_the_scaled_cosines(data):
    rng = np.random.default_rng(0)
    A, B = rng.standard_normal((12, 3)), rng.standard_normal((12, 3))
    loss, *_ = two_sided_loss_and_gradients(data, A, B, 1.7)
    assert np.isclose(loss, loss_directly(data, A, B, 1.7), rtol=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_gradients_match_finite_differences(data, seed):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((12, 4))
    B = rng.standard_normal((12, 4)) * rng.uniform(0.3, 3.0, size=(12, 1))
    tau = float(rng.uniform(0.5, 3.0))
    loss, grad_A, grad_B, grad_tau = two_sided_loss_and_gradients(data, A, B, tau)
    scale = max(abs(loss), 1.0)
    for _ in range(3):
        dA, dB = rng.standard_normal(A.shape), rng.standard_normal(B.shape)
        numeric_A = central_difference(lambda M: loss_directly(data, M, B, tau), A, dA)
        numeric_B = central_difference(lambda M: loss_directly(data, A, M, tau), B, dB)
        assert abs(numeric_A - np.sum(grad_A * dA)) < 1e-6 * scale
        assert abs(numeric_B - np.sum(grad_B * dB)) < 1e-6 * scale
    numeric_tau = central_difference(lambda t: loss_directly(data, A, B, t), tau, 1.0)
    assert abs(numeric_tau - grad_tau) < 1e-6 * scale


def test_gradients_see_no_scale_and_the_best_tau_zeroes_its_gradient(data):
    rng = np.random.default_rng(1)
    A, B = rng.standard_normal((12, 3)), rng.standard_normal((12, 3))
    loss, grad_A, grad_B, _ = two_sided_loss_and_gradients(data, A, B, 2.0)
    # The loss is unchanged by A -> c A (c > 0) and by scaling a row of B: the gradients are
    # orthogonal to those directions, and the loss at the scaled point is the same.
    assert abs(np.sum(grad_A * A)) < 1e-9 * np.linalg.norm(grad_A) * np.linalg.norm(A)
    assert np.allclose(np.einsum("ij,ij->i", grad_B, B), 0.0, atol=1e-9 * np.abs(grad_B).max())
    scaled = two_sided_loss_and_gradients(data, 3.0 * A, B * rng.uniform(0.5, 2.0, (12, 1)), 2.0)[0]
    assert np.isclose(scaled, loss, rtol=1e-12)
    # A rotation of the latent space changes nothing either.
    R = np.linalg.qr(rng.standard_normal((3, 3)))[0]
    assert np.isclose(two_sided_loss_and_gradients(data, A @ R, B @ R, 2.0)[0], loss, rtol=1e-12)
    # tau = <X, U Y^T> / ||U Y^T||^2 minimises over tau.
    U, Y = normalize_rows(data @ A), normalize_rows(B)
    best = float(np.sum(data * (U @ Y.T)) / np.sum((U @ Y.T) ** 2))
    assert abs(two_sided_loss_and_gradients(data, A, B, best)[3]) < 1e-9 * np.sum(data**2)


def test_loss_rejects_bad_input(data):
    A = np.ones((12, 2))
    A[:, 1] = np.arange(12.0)
    B = A.copy()
    with pytest.raises(ValueError, match="X"):
        two_sided_loss_and_gradients(np.ones(12), A, B, 1.0)
    with pytest.raises(ValueError, match="X must have no zero rows"):
        two_sided_loss_and_gradients(np.vstack([data, np.zeros(12)]), A, B, 1.0)
    with pytest.raises(ValueError, match="A must have 12 rows"):
        two_sided_loss_and_gradients(data, A[:5], B, 1.0)
    with pytest.raises(ValueError, match="B must have the same shape"):
        two_sided_loss_and_gradients(data, A, B[:, :1], 1.0)
    with pytest.raises(ValueError, match="B must have no zero rows"):
        two_sided_loss_and_gradients(data, A, np.vstack([B[:-1], np.zeros(2)]), 1.0)
    with pytest.raises(ValueError, match="A must give every user a direction"):
        two_sided_loss_and_gradients(data, np.zeros((12, 2)), B, 1.0)
    with pytest.raises(ValueError, match="A"):
        two_sided_loss_and_gradients(data, np.full((12, 2), np.nan), B, 1.0)
    for tau in (np.inf, np.nan, "1", True, None):
        with pytest.raises(ValueError, match="tau"):
            two_sided_loss_and_gradients(data, A, B, tau)


# --------------------------------------------------------------------------- training


@pytest.fixture(scope="module")
def trained(data):
    return train_two_sided_model(data, 3, 1.0, seed=0, tol=1e-8)


def test_training_converges_to_a_stationary_point(data, trained):
    run = trained
    assert isinstance(run, TwoSidedModelResult)
    assert run.converged and run.n_iter < 20_000
    assert run.tau == 1.0
    # Unit rows on both sides, the users' from the returned encoder.
    assert np.allclose(np.linalg.norm(run.item_embeddings, axis=1), 1.0)
    assert np.allclose(run.user_embeddings, normalize_rows(data @ run.A))
    assert np.isclose(np.linalg.norm(data @ run.A, axis=1).mean(), 1.0)
    # The reported loss and gradient are those of the returned point.
    loss, grad_A, grad_B, _ = two_sided_loss_and_gradients(data, run.A, run.item_embeddings, 1.0)
    assert np.isclose(run.loss, loss, rtol=1e-12)
    norm2 = np.sum(data**2)
    assert np.max(np.abs(grad_A)) / norm2 <= 1e-8 and np.max(np.abs(grad_B)) / norm2 <= 1e-8
    assert np.isclose(run.grad_norm, np.sqrt(np.sum(grad_A**2) + np.sum(grad_B**2)) / norm2)
    # The loss fell, and the history starts at the start and ends at the result.
    assert run.loss_history[-1] == pytest.approx(run.loss, rel=1e-9)
    assert run.loss_history[-1] < run.loss_history[0]
    assert run.loss_history.shape == (run.n_iter + 1,)
    assert not run.loss_history.flags.writeable


def test_a_converged_point_beats_small_perturbations(data, trained):
    rng = np.random.default_rng(2)
    for _ in range(5):
        A = trained.A + 1e-3 * rng.standard_normal(trained.A.shape)
        B = trained.item_embeddings + 1e-3 * rng.standard_normal(trained.A.shape)
        assert loss_directly(data, A, B, 1.0) >= trained.loss - 1e-9 * np.sum(data**2)


def test_no_free_direction_is_left_with_enough_users(trained):
    # n = 80 >= k (k + 1) / 2 = 6: only rotations keep both sides on the sphere.
    stacked = np.vstack([trained.user_embeddings, trained.item_embeddings])
    assert sphere_gauge_directions(stacked).shape[0] == 0
    # With k = 5, k (k + 1) / 2 = 15 exceeds the 12 items: the items alone keep free directions.
    assert sphere_gauge_directions(np.random.default_rng(0).standard_normal((12, 5))).shape[0] >= 15 - 12


def test_training_is_deterministic_and_starts_where_it_is_told(data, trained):
    again = train_two_sided_model(data, 3, 1.0, seed=0, tol=1e-8)
    assert np.array_equal(again.item_embeddings, trained.item_embeddings)
    assert np.array_equal(again.loss_history, trained.loss_history)
    generator = train_two_sided_model(data, 3, 1.0, seed=np.random.default_rng(0), tol=1e-8)
    assert np.array_equal(generator.item_embeddings, trained.item_embeddings)
    start = fit_product_penalty(data, 3, 1.0)
    one_step = train_two_sided_model(data, 3, 1.0, init=start, max_iter=1)
    expected = loss_directly(data, start.A, start.B, 1.0)
    assert one_step.loss_history[0] == pytest.approx(expected, rel=1e-12)


def test_a_run_cut_short_is_not_converged(data):
    run = train_two_sided_model(data, 3, 1.0, seed=0, max_iter=2)
    assert not run.converged
    assert run.n_iter <= 2


def test_training_rejects_bad_input(data):
    good = Factorization(np.ones((12, 2)) + np.eye(12, 2), np.ones((12, 2)) + np.eye(12, 2))
    with pytest.raises(ValueError, match="X must have no zero rows"):
        train_two_sided_model(np.vstack([data, np.zeros(12)]), 2, 1.0)
    with pytest.raises(ValueError, match="X"):
        train_two_sided_model([[1.0, np.nan]], 1, 1.0)
    for k in (0, 13, 2.0, True):
        with pytest.raises(ValueError, match="k"):
            train_two_sided_model(data, k, 1.0)
    for tau in (0.0, -1.0, np.inf, np.nan, "1", True):
        with pytest.raises(ValueError, match="tau"):
            train_two_sided_model(data, 2, tau)
    with pytest.raises(ValueError, match="init must have factors of shape"):
        train_two_sided_model(data, 3, 1.0, init=good)
    with pytest.raises(ValueError, match="init must be a cossim.Factorization"):
        train_two_sided_model(data, 2, 1.0, init=np.ones((12, 2)))
    with pytest.raises(ValueError, match="init must have no zero rows"):
        train_two_sided_model(data, 2, 1.0, init=Factorization(good.A, np.zeros((12, 2))))
    with pytest.raises(ValueError, match="init must give every user a direction"):
        train_two_sided_model(data, 2, 1.0, init=Factorization(np.zeros((12, 2)), good.B))
    for max_iter in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="max_iter"):
            train_two_sided_model(data, 2, 1.0, max_iter=max_iter)
    for tol in (0.0, -1e-9, np.nan, np.inf, "1e-9", True):
        with pytest.raises(ValueError, match="tol"):
            train_two_sided_model(data, 2, 1.0, tol=tol)
    for seed in (-1, "0", 1.5, True, None):
        with pytest.raises(ValueError, match="seed"):
            train_two_sided_model(data, 2, 1.0, seed=seed)
