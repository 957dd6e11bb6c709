"""Tests of cossim.relu_net, the ReLU autoencoder of chapters/deep_models.md.

Independent references: central finite differences for the gradient, a
direct numpy forward pass for the outputs, and the cosine similarity of
cossim.similarity for the embeddings.
"""

from __future__ import annotations

import numpy as np
import pytest

from cossim import cosine_similarity
from cossim import relu_net as rn


def random_net(sizes, seed=0, bias_scale=0.3):
    """A network with nonzero random biases, so that no pre-activation sits at a kink."""
    rng = np.random.default_rng(seed)
    base = rn.init_relu_net(sizes, seed=seed)
    biases = [rng.normal(scale=bias_scale, size=b.shape) for b in base.biases]
    return rn.ReluNetParams(base.weights, biases)


def binary_data(n=40, p=9, seed=1, density=0.4):
    rng = np.random.default_rng(seed)
    return (rng.random((n, p)) < density).astype(float)


def direct_forward(params, X):
    h = X
    for W, b in zip(params.weights[:-1], params.biases[:-1]):
        h = np.maximum(h @ W + b, 0.0)
    return h @ params.weights[-1] + params.biases[-1]


def finite_difference_gradient(params, X, Y, lam, h=1e-6):
    """Central differences of :func:`rn.relu_net_loss` for every parameter."""
    grads = []
    arrays = [*params.weights, *params.biases]
    for k, A in enumerate(arrays):
        G = np.zeros_like(A)
        for idx in np.ndindex(A.shape):
            for sign in (+1, -1):
                changed = [M.copy() for M in arrays]
                changed[k][idx] += sign * h
                L = len(params.weights)
                value = rn.relu_net_loss(rn.ReluNetParams(changed[:L], changed[L:]), X, Y, lam)
                G[idx] += sign * value / (2 * h)
        grads.append(G)
    return grads


# --------------------------------------------------------------------------- forward and loss


def test_forward_matches_a_direct_computation():
    X = binary_data()
    net = random_net((9, 5, 4, 9))
    assert np.allclose(rn.relu_net_forward(net, X), direct_forward(net, X), atol=1e-12)


@pytest.mark.parametrize("sizes", [(9, 5, 9), (9, 6, 4, 9)])
@pytest.mark.parametrize("targets", ["autoencoder", "other"])
def test_fast_loss_equals_the_direct_loss(sizes, targets):
    X = binary_data()
    Y = None if targets == "autoencoder" else np.random.default_rng(3).normal(size=(X.shape[0], sizes[-1]))
    net = random_net(sizes)
    value, _ = rn._loss_and_gradients(net, X, Y, lam=0.2)
    assert value == pytest.approx(rn.relu_net_loss(net, X, Y, lam=0.2), rel=1e-12)
    residual = direct_forward(net, X) - (X if Y is None else Y)
    penalty = sum(np.sum(M**2) for M in (*net.weights, *net.biases))
    assert rn.relu_net_loss(net, X, Y, 0.2) == pytest.approx(np.sum(residual**2) / X.shape[0] + 0.2 * penalty, rel=1e-12)


@pytest.mark.parametrize("sizes", [(9, 5, 9), (9, 6, 4, 9), (9, 3, 4)])
@pytest.mark.parametrize("lam", [0.0, 0.3])
def test_gradients_match_finite_differences(sizes, lam):
    X = binary_data()
    Y = None if sizes[-1] == sizes[0] else np.random.default_rng(5).normal(size=(X.shape[0], sizes[-1]))
    net = random_net(sizes, seed=2)
    _, grad = rn._loss_and_gradients(net, X, Y, lam)
    numeric = finite_difference_gradient(net, X, Y, lam)
    for analytic, approx in zip([*grad.weights, *grad.biases], numeric):
        assert np.allclose(analytic, approx, rtol=1e-5, atol=1e-7)


def test_gradients_without_the_backward_pass():
    net = random_net((9, 5, 9))
    value, grad = rn._loss_and_gradients(net, binary_data(), gradients=False)
    assert grad is None and value > 0


# --------------------------------------------------------------------------- the symmetry


@pytest.mark.parametrize("sizes,layer", [((9, 6, 9), 1), ((9, 6, 5, 9), 1), ((9, 6, 5, 9), 2)])
def test_rescaling_preserves_outputs_and_changes_hidden_cosines(sizes, layer):
    X = binary_data()
    net = random_net(sizes, seed=4)
    d = np.exp(np.random.default_rng(6).uniform(-1.5, 1.5, size=sizes[layer]))
    scaled = rn.rescale_hidden_units(net, layer, d)
    assert np.max(np.abs(rn.relu_net_forward(scaled, X) - rn.relu_net_forward(net, X))) < 1e-10
    # The hidden layer itself is multiplied by diag(d) ...
    H, H_scaled = rn.hidden_representations(net, X, layer), rn.hidden_representations(scaled, X, layer)
    assert np.allclose(H_scaled, H * d, rtol=1e-12, atol=1e-12)
    # ... so its cosines move, while the unpenalised loss stays where it was.
    users = [u for u in range(X.shape[0]) if np.any(H[u] > 0)]
    change = np.abs(cosine_similarity(H_scaled[users]) - cosine_similarity(H[users])).max()
    assert change > 1e-2
    assert rn.relu_net_loss(scaled, X) == pytest.approx(rn.relu_net_loss(net, X), rel=1e-12)
    if layer == 1:
        items, items_scaled = rn.item_embeddings(net), rn.item_embeddings(scaled)
        assert np.allclose(items_scaled, items * d)
        assert np.abs(cosine_similarity(items_scaled) - cosine_similarity(items)).max() > 1e-2


def test_rescaling_by_a_scalar_and_the_input_is_not_modified():
    net = random_net((9, 5, 9))
    before = [W.copy() for W in net.weights]
    scaled = rn.rescale_hidden_units(net, 1, 3.0)
    assert np.allclose(scaled.weights[0], 3.0 * net.weights[0])
    assert np.allclose(scaled.biases[0], 3.0 * net.biases[0])
    assert np.allclose(scaled.weights[1], net.weights[1] / 3.0)
    assert all(np.array_equal(a, b) for a, b in zip(before, net.weights))
    # A rescaling by 1 changes nothing; cosines of the item embeddings are blind to a common factor.
    assert np.allclose(
        cosine_similarity(rn.item_embeddings(scaled)), cosine_similarity(rn.item_embeddings(net))
    )


def test_negative_factor_would_change_the_function():
    # Why rescale_hidden_units refuses d <= 0: flipping a unit's sign is not a symmetry.
    X = binary_data()
    net = random_net((9, 5, 9))
    W1, W2 = net.weights
    b1, b2 = net.biases
    d = np.array([-1.0, 1, 1, 1, 1])
    flipped = rn.ReluNetParams((W1 * d, W2 / d[:, None]), (b1 * d, b2))
    assert np.max(np.abs(rn.relu_net_forward(flipped, X) - rn.relu_net_forward(net, X))) > 1e-3
    with pytest.raises(ValueError, match="d must be finite and > 0"):
        rn.rescale_hidden_units(net, 1, d)


def test_unit_norms_and_balance():
    X = binary_data()
    net = random_net((9, 6, 9), seed=7)
    incoming, outgoing = rn.unit_norms(net, 1)
    assert np.allclose(incoming, np.sum(net.weights[0] ** 2, axis=0) + net.biases[0] ** 2)
    assert np.allclose(outgoing, np.sum(net.weights[1] ** 2, axis=1))
    balanced = rn.balance_hidden_units(net, 1)
    a, b = rn.unit_norms(balanced, 1)
    assert np.allclose(a, b, rtol=1e-12)
    assert np.allclose(a, np.sqrt(incoming * outgoing), rtol=1e-12)
    assert np.max(np.abs(rn.relu_net_forward(balanced, X) - rn.relu_net_forward(net, X))) < 1e-10
    # The balanced point has the smallest penalty on the orbit, so the smallest regularised loss.
    lam = 0.5
    for d in (0.5, 0.9, 1.1, 2.0):
        other = rn.rescale_hidden_units(balanced, 1, d)
        assert rn.relu_net_loss(other, X, lam=lam) > rn.relu_net_loss(balanced, X, lam=lam)


def test_balance_leaves_units_with_a_zero_norm_alone():
    net = random_net((9, 4, 9))
    W2 = net.weights[1].copy()
    W2[0] = 0.0  # unit 0 has no outgoing weights
    net = rn.ReluNetParams((net.weights[0], W2), net.biases)
    balanced = rn.balance_hidden_units(net, 1)
    assert np.array_equal(balanced.weights[0][:, 0], net.weights[0][:, 0])


def test_item_embeddings_sides():
    net = random_net((9, 5, 9))
    assert np.array_equal(rn.item_embeddings(net), net.weights[0])
    assert np.array_equal(rn.item_embeddings(net, "output"), net.weights[1].T)
    with pytest.raises(ValueError, match="side"):
        rn.item_embeddings(net, "middle")


# --------------------------------------------------------------------------- training


def test_training_reduces_the_loss_with_both_optimizers():
    X = binary_data(n=60, p=10)
    for optimizer, lr in (("adam", 1e-2), ("gd", 2e-2)):
        result = rn.train_relu_net(X, (6,), 0.01, max_iter=200, lr=lr, optimizer=optimizer, seed=0)
        assert result.loss_history.shape == (201,)
        assert result.loss_history[-1] < 0.7 * result.loss_history[0]
        assert result.loss_history[-1] == pytest.approx(rn.relu_net_loss(result.params, X, lam=0.01), rel=1e-10)
        assert result.optimizer == optimizer and result.lam == 0.01


def test_training_is_deterministic_and_depends_on_the_seed():
    X = binary_data(n=50, p=8)
    runs = [rn.train_relu_net(X, (5,), 0.0, max_iter=30, seed=s) for s in (3, 3, 4)]
    for A, B in zip(runs[0].params.weights, runs[1].params.weights):
        assert np.array_equal(A, B)
    assert not np.array_equal(runs[0].params.weights[0], runs[2].params.weights[0])
    assert np.array_equal(runs[0].loss_history, runs[1].loss_history)


def test_default_start_has_the_popularity_baseline_as_output_bias():
    X = binary_data(n=50, p=8)
    result = rn.train_relu_net(X, (5,), max_iter=0)
    assert np.allclose(result.params.biases[-1], X.mean(axis=0))
    assert np.all(result.params.biases[0] == 0)


@pytest.mark.slow
def test_weight_decay_balances_the_units_and_plain_training_does_not():
    X = binary_data(n=80, p=10, seed=9)
    kwargs = dict(hidden=(6,), max_iter=1500, lr=2e-2, lr_end=1e-4, seed=0, init_scale=0.5)
    decayed = rn.train_relu_net(X, lam=0.05, **kwargs).params
    plain = rn.train_relu_net(X, lam=0.0, **kwargs).params

    def imbalance(net):
        a, b = rn.unit_norms(net, 1)
        live = (a + b) > 1e-3 * np.max(a + b)
        return np.max(np.abs(a - b)[live] / (a + b)[live])

    assert imbalance(decayed) < 0.02
    assert imbalance(plain) > 0.1


def test_training_with_targets_and_from_init():
    X = binary_data(n=30, p=6)
    Y = np.random.default_rng(0).normal(size=(30, 2))
    start = rn.init_relu_net((6, 4, 2), seed=1)
    result = rn.train_relu_net(X, Y=Y, init=start, max_iter=50, lr=1e-2)
    assert result.params.layer_sizes == (6, 4, 2)
    assert result.loss_history[-1] < result.loss_history[0]


def test_divergence_raises():
    X = binary_data()
    with pytest.raises(RuntimeError, match="diverged"):
        rn.train_relu_net(X, (5,), optimizer="gd", lr=1e3, max_iter=50, init_scale=3.0)


# --------------------------------------------------------------------------- validation


def test_params_validation():
    W1, W2 = np.ones((3, 2)), np.ones((2, 3))
    assert rn.ReluNetParams((W1, W2), (np.zeros(2), np.zeros(3))).layer_sizes == (3, 2, 3)
    with pytest.raises(ValueError, match="weights must chain"):
        rn.ReluNetParams((W1, np.ones((3, 3))), (np.zeros(2), np.zeros(3)))
    with pytest.raises(ValueError, match="biases"):
        rn.ReluNetParams((W1, W2), (np.zeros(3), np.zeros(3)))
    with pytest.raises(ValueError, match="biases"):
        rn.ReluNetParams((W1, W2), (np.zeros(2),))
    with pytest.raises(ValueError, match="weights"):
        rn.ReluNetParams((), ())
    with pytest.raises(ValueError, match="weights"):
        rn.ReluNetParams((np.full((3, 2), np.nan), W2), (np.zeros(2), np.zeros(3)))
    net = rn.ReluNetParams((W1, W2), (np.zeros(2), np.zeros(3)))
    assert net.n_hidden == 1 and net.n_parameters() == 6 + 2 + 6 + 3
    with pytest.raises(ValueError):
        net.weights[0][0, 0] = 5.0  # read-only


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda net, X: rn.relu_net_forward("net", X), "params"),
        (lambda net, X: rn.relu_net_forward(net, X[:, :4]), "X must have 9 columns"),
        (lambda net, X: rn.relu_net_loss(net, X, np.ones((3, 9))), "Y must have shape"),
        (lambda net, X: rn.relu_net_loss(net, X, lam=-1.0), "lam"),
        (lambda net, X: rn.rescale_hidden_units(net, 0, 2.0), "layer"),
        (lambda net, X: rn.rescale_hidden_units(net, 2, 2.0), "layer"),
        (lambda net, X: rn.rescale_hidden_units(net, True, 2.0), "layer"),
        (lambda net, X: rn.rescale_hidden_units(net, 1, np.ones(3)), "d must be a scalar or have shape"),
        (lambda net, X: rn.rescale_hidden_units(net, 1, 0.0), "d must be finite and > 0"),
        (lambda net, X: rn.rescale_hidden_units(net, 1, np.inf), "d must be finite and > 0"),
        (lambda net, X: rn.unit_norms(net, 5), "layer"),
        (lambda net, X: rn.hidden_representations(net, X, 2), "layer"),
        (lambda net, X: rn.train_relu_net(X, (5,), optimizer="sgd"), "optimizer"),
        (lambda net, X: rn.train_relu_net(X, (5,), max_iter=-1), "max_iter"),
        (lambda net, X: rn.train_relu_net(X, (5,), lr=0.0), "lr"),
        (lambda net, X: rn.train_relu_net(X, (5,), lr_end=-1.0), "lr_end"),
        (lambda net, X: rn.train_relu_net(X, ()), "hidden"),
        (lambda net, X: rn.train_relu_net(X, (0,)), "hidden"),
        (lambda net, X: rn.train_relu_net(X, (5,), init_scale=0.0), "init_scale"),
        (lambda net, X: rn.train_relu_net(X, (5,), beta1=1.0), "beta1"),
        (lambda net, X: rn.train_relu_net(X, (5,), eps=0.0), "eps"),
        (lambda net, X: rn.train_relu_net(X, init="net"), "init"),
        (lambda net, X: rn.train_relu_net(X[:, :4], init=net), "init must take 4 inputs"),
        (lambda net, X: rn.train_relu_net(X, (5,), lam=-0.1), "lam"),
        (lambda net, X: rn.init_relu_net((9,)), "layer_sizes"),
        (lambda net, X: rn.init_relu_net((9, 0, 9)), "layer_sizes"),
        (lambda net, X: rn.init_relu_net((9, 3, 9), output_bias=np.ones(2)), "output_bias"),
        (lambda net, X: rn._loss_and_gradients(rn.init_relu_net((9, 3, 2)), X), "Y must be given"),
    ],
)
def test_bad_arguments_raise_value_errors_naming_them(call, match):
    net = random_net((9, 5, 9))
    with pytest.raises(ValueError, match=match):
        call(net, binary_data())
