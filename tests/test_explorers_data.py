"""cossim.explorers: the data the explorers' pages carry, and the numbers they show, in numpy.

Small random problems, so that every claim is checked against cossim's explicit computations
(the losses from X itself, the cosines of regauged fits, cluster_metrics, nearest_neighbours).
The pages themselves are checked in a browser by tests/test_explorers.py.
"""

import numpy as np
import pytest

from cossim import (
    cluster_metrics,
    effective_rank,
    factor_penalty_loss,
    fit_factor_penalty,
    fit_product_penalty,
    item_similarity,
    nearest_neighbours,
    product_penalty_loss,
    regauge,
    top_spectrum,
)
from cossim.explorers import (
    REFERENCE_GAMMA,
    FilmExplorerData,
    SimulationExplorerData,
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


def _data(seed=0, n=60, p=24):
    rng = np.random.default_rng(seed)
    return (rng.random((n, p)) < 0.3).astype(float)


# --------------------------------------------------------------------------- the two families


def test_gauge_weights_are_the_regauged_split_with_product_s():
    X = _data()
    k, lam = 6, 3.0
    sigma, V = top_spectrum(X, k)
    s = sigma**2 / (sigma**2 + lam)
    split = fit_product_penalty(X, k, lam)
    for gamma in [0.0, 0.3, 0.5, 1.0, 2.0, -0.5]:
        a, b = product_gauge_weights(s, gamma)
        member = regauge(split, s ** (0.5 - gamma))
        assert np.allclose(member.A, V * a) and np.allclose(member.B, V * b)
        assert np.allclose(a * b, s, rtol=1e-14)
    assert np.allclose(product_gauge_weights(s, 0.0)[1], 1.0)  # panel (b): B = V_k
    assert np.allclose(product_gauge_weights(s, 1.0)[1], s)  # panel (c): B = V_k dMat(s)


def test_factor_weights_are_the_minimiser_of_objective_two():
    X = _data(1)
    k = 8
    sigma, V = top_spectrum(X, k)
    for lam in [0.0, sigma[3], (sigma[2] + sigma[3]) / 2, sigma[0] * 2]:
        a, b = factor_weights(sigma, lam)
        fit = fit_factor_penalty(X, k, lam)
        assert np.allclose(fit.A, V * a) and np.allclose(fit.B, V * b)
        assert np.count_nonzero(b) == effective_rank(sigma, lam)


def test_factor_weights_handle_a_zero_singular_value():
    a, b = factor_weights(np.array([3.0, 1.0, 0.0]), 0.0)
    assert np.array_equal(b, [np.sqrt(3.0), 1.0, 0.0]) and a[-1] == 0.0


@pytest.mark.parametrize("gamma", [0.0, 0.5, 1.0, 1.7])
def test_diagonal_product_loss_equals_the_explicit_loss(gamma):
    X = _data(2)
    k, lam = 7, 5.0
    sigma, V = top_spectrum(X, k)
    s = sigma**2 / (sigma**2 + lam)
    a, b = product_gauge_weights(s, gamma)
    explicit = product_penalty_loss(X, V * a, V * b, lam)
    assert diagonal_product_loss(np.sum(X**2), sigma, a, b, lam) == pytest.approx(explicit, rel=1e-12)


def test_diagonal_losses_hold_for_any_diagonal_factors_not_only_minimisers():
    X = _data(3)
    k = 5
    sigma, V = top_spectrum(X, k)
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=k), rng.normal(size=k)
    frobenius2 = np.sum(X**2)
    assert diagonal_product_loss(frobenius2, sigma, a, b, 2.0) == pytest.approx(
        product_penalty_loss(X, V * a, V * b, 2.0), rel=1e-12
    )
    assert diagonal_factor_loss(frobenius2, sigma, a, b, 2.0) == pytest.approx(
        factor_penalty_loss(X, V * a, V * b, 2.0), rel=1e-12
    )


def test_diagonal_factor_loss_moves_with_lambda_and_matches_the_fit():
    X = _data(5)
    k = 6
    sigma, V = top_spectrum(X, k)
    losses = []
    for lam in [0.5, 1.0, 2.0]:
        a, b = factor_weights(sigma, lam)
        fit = fit_factor_penalty(X, k, lam)
        value = diagonal_factor_loss(np.sum(X**2), sigma, a, b, lam)
        assert value == pytest.approx(factor_penalty_loss(X, fit.A, fit.B, lam), rel=1e-12)
        losses.append(value)
    assert losses[0] < losses[1] < losses[2]


def test_loss_helpers_reject_bad_input():
    sigma = np.array([2.0, 1.0])
    with pytest.raises(ValueError, match="shrinkage"):
        product_gauge_weights([0.0, 0.5], 0.5)
    with pytest.raises(ValueError, match="gamma"):
        product_gauge_weights([0.9, 0.5], float("nan"))
    with pytest.raises(ValueError, match="lam"):
        factor_weights(sigma, -1.0)
    with pytest.raises(ValueError, match="sigma"):
        factor_weights([-1.0, 1.0], 0.0)
    with pytest.raises(ValueError, match="b must have"):
        diagonal_product_loss(1.0, sigma, [1.0, 1.0], [1.0], 0.0)
    with pytest.raises(ValueError, match="frobenius2"):
        diagonal_factor_loss(-1.0, sigma, [1.0, 1.0], [1.0, 1.0], 0.0)


# --------------------------------------------------------------------------- explorer 1


def test_even_subsample_keeps_proportions_order_and_the_head_of_each_cluster():
    clusters = np.repeat([2, 0, 1], [10, 7, 3])
    rng = np.random.default_rng(6)
    order = np.lexsort((rng.random(20), clusters))  # by cluster, some order within
    kept = even_subsample(order, clusters, 10)
    assert kept.size == 10
    position = np.empty_like(order)
    position[order] = np.arange(order.size)
    assert np.all(np.diff(position[kept]) > 0)  # a subsequence of order
    assert np.bincount(clusters[kept], minlength=3).tolist() == [4, 1, 5]  # 3.5, 1.5, 5: remainders
    for c in range(3):
        assert order[clusters[order] == c][0] in kept  # the first of every cluster is kept
    assert np.array_equal(even_subsample(order, clusters, 50), order)


def test_even_subsample_rejects_bad_input():
    with pytest.raises(ValueError, match="permutation"):
        even_subsample([0, 0, 1], [0, 0, 1], 2)
    with pytest.raises(ValueError, match="clusters"):
        even_subsample([0, 1, 2], [0, 1], 2)
    with pytest.raises(ValueError, match="max_items"):
        even_subsample([0, 1, 2], [0, 1, 1], 0)


def test_simulation_state_matches_cossim_fits_at_several_positions():
    X = _data(7, n=80, p=30)
    clusters = np.repeat([0, 1, 2], 10)
    order = np.arange(30)
    k, lam1 = 6, 4.0
    data = simulation_explorer_data(X, clusters, order, k, lam1, 1.0, max_items=15)
    assert isinstance(data, SimulationExplorerData) and data.items.size == 15 and data.k == k
    assert data.frobenius2 == pytest.approx(np.sum(X**2))
    split = fit_product_penalty(X, k, lam1)
    shown = np.ix_(data.items, data.items)
    for gamma, lam2 in [(0.0, 0.5), (0.5, 1.0), (1.0, 2.0)]:
        state = simulation_state(data, gamma, lam2)
        member = regauge(split, data.shrinkage ** (0.5 - gamma))
        S1 = item_similarity(member)[shown]
        assert np.allclose(state.product_cosines, S1, atol=1e-12)
        assert state.product_loss == pytest.approx(product_penalty_loss(X, member.A, member.B, lam1), rel=1e-12)
        m1 = cluster_metrics(S1, clusters[data.items], 1)
        assert np.allclose(state.product_scores, (m1.within, m1.between, m1.auc), atol=1e-12)
        fit = fit_factor_penalty(X, k, lam2)
        S2 = item_similarity(fit)[shown]
        assert np.allclose(state.factor_cosines, S2, atol=1e-12, equal_nan=True)
        assert state.factor_loss == pytest.approx(factor_penalty_loss(X, fit.A, fit.B, lam2), rel=1e-12)
        assert state.kept == effective_rank(data.sigma, lam2)


def test_simulation_explorer_data_rejects_bad_input():
    X = _data(8)
    clusters = np.zeros(24, dtype=int)
    with pytest.raises(ValueError, match="order"):
        simulation_explorer_data(X, clusters, np.arange(20), 3, 1.0, 1.0)
    with pytest.raises(ValueError, match="lam_product"):
        simulation_explorer_data(X, clusters, np.arange(24), 3, -1.0, 1.0)
    with pytest.raises(ValueError, match="k must"):
        simulation_explorer_data(X, clusters, np.arange(24), 0, 1.0, 1.0)
    with pytest.raises(ValueError, match="data must"):
        simulation_state(object(), 0.5, 1.0)


# --------------------------------------------------------------------------- explorer 2


def test_film_explorer_data_carries_the_rated_films_by_label_in_single_precision():
    X = _data(9, n=50, p=12)
    X[:, 3] = 0
    X[:2, 3] = 1  # two ratings: not carried at min_ratings = 5
    labels = [f"film {j}" for j in range(12)]
    labels[7] = "film 1"  # a duplicate label
    labels[5] = "film 3"  # the label of the film that is not carried: no id needed
    data = film_explorer_data(X, labels, 4, 2.0, ids=np.arange(12) + 100, min_ratings=5)
    assert isinstance(data, FilmExplorerData) and data.k == 4
    assert data.n_films == 12 and data.min_ratings == 5
    assert 3 not in data.films and sorted(data.films.tolist()) == [j for j in range(12) if j != 3]
    assert data.V.dtype == np.float32 and data.V.shape == (11, 4)
    label = dict(zip(data.films.tolist(), data.labels))
    assert len(set(data.labels)) == 11
    assert label[1] == "film 1 [id 101]" and label[7] == "film 1 [id 107]" and label[5] == "film 3"
    assert list(data.labels) == sorted(data.labels, key=str.casefold)
    counts = np.count_nonzero(X, axis=0)
    assert np.array_equal(data.ratings, counts[data.films]) and np.all(data.ratings >= 5)
    sigma, V = top_spectrum(X, 4)
    assert np.allclose(data.sigma, sigma) and data.lam == 2.0
    assert np.allclose(data.shrinkage, sigma**2 / (sigma**2 + 2.0))
    assert np.array_equal(data.V, V[data.films].astype(np.float32))
    assert all(data.row_of(int(j)) == row for row, j in enumerate(data.films))


def test_film_neighbours_match_cossim_within_the_single_precision_bound():
    rng = np.random.default_rng(10)
    X = (rng.random((200, 60)) < 0.2).astype(float)
    X[:, :20] *= rng.random((200, 20)) < 0.3  # twenty rarely rated films
    k, lam = 12, 4.0
    # Labels that sort in another order than the columns, so rows and columns differ.
    labels = [f"film {(7 * j) % 60}" for j in range(60)]
    split = fit_product_penalty(X, k, lam)
    counts = np.count_nonzero(X, axis=0)
    for min_ratings in [1, 25]:
        data = film_explorer_data(X, labels, k, lam, min_ratings=min_ratings)
        shelf = np.flatnonzero(counts >= min_ratings)
        assert np.array_equal(np.sort(data.films), shelf)
        if min_ratings > 1:
            assert 20 < shelf.size < 60  # some films are left out
        for gamma in [0.0, REFERENCE_GAMMA, 1.0, 2.0]:
            S = item_similarity(regauge(split, data.shrinkage ** (0.5 - gamma)))
            among = S[np.ix_(shelf, shelf)]
            expected = shelf[nearest_neighbours(among, 10)]  # cossim, over the same films
            for film in [shelf[0], shelf[len(shelf) // 2], shelf[-1]]:
                columns, cosines = film_neighbours(data, int(film), gamma, 10)
                assert set(columns) <= set(shelf.tolist()) and film not in columns
                assert np.abs(cosines - S[film, columns]).max() < 2.4e-7  # the docstring's bound
                assert np.all(np.diff(cosines) <= 0)
                # The same films, unless two cosines lie closer than the bound (then either order is right).
                row = np.searchsorted(shelf, film)
                if np.min(np.abs(np.diff(np.sort(np.delete(among[row], row))))) > 1e-6:
                    assert np.array_equal(columns, expected[row])


def test_film_explorer_rejects_bad_input():
    X = _data(11)
    labels = [str(j) for j in range(24)]
    with pytest.raises(ValueError, match="labels"):
        film_explorer_data(X, labels[:5], 3, 1.0)
    with pytest.raises(ValueError, match="min_ratings"):
        film_explorer_data(X, labels, 3, 1.0, min_ratings=10_000)
    with pytest.raises(ValueError, match="min_ratings"):
        film_explorer_data(X, labels, 3, 1.0, min_ratings=0)
    with pytest.raises(ValueError, match="ids must tell"):
        film_explorer_data(X, ["same"] * 24, 3, 1.0, ids=[1] * 24, min_ratings=1)
    data = film_explorer_data(X, labels, 3, 1.0, min_ratings=1)
    with pytest.raises(ValueError, match="film must"):
        film_neighbours(data, 24, 0.5)
    with pytest.raises(ValueError, match="film must"):
        film_neighbours(data, True, 0.5)
    with pytest.raises(ValueError, match="top"):
        film_neighbours(data, 0, 0.5, top=24)
    with pytest.raises(ValueError, match="data must"):
        film_neighbours(object(), 0, 0.5)
    counts = np.count_nonzero(X, axis=0)
    rare = int(np.argmin(counts))
    shelf = film_explorer_data(X, labels, 3, 1.0, min_ratings=int(counts[rare]) + 1)
    with pytest.raises(ValueError, match="film must be the column of a carried film"):
        film_neighbours(shelf, rare, 0.5)


# --------------------------------------------------------------------------- the pages' HTML (cossim.interactive)


def test_cosine_palette_is_the_books_colour_map_centred_at_zero():
    import matplotlib as mpl

    from cossim.interactive import cosine_palette
    from cossim.plotting import COSINE_CMAP, cosine_norm

    palette = cosine_palette(256)
    cmap = mpl.colormaps[COSINE_CMAP]
    assert len(palette) == 256
    # Bokeh maps [-1, 1] linearly onto the palette; matplotlib maps it through cosine_norm().
    for value in [-1.0, -0.5, 0.0, 0.3, 1.0]:
        index = min(int((value + 1) / 2 * 256), 255)
        assert palette[index] == mpl.colors.to_hex(cmap(float(cosine_norm()(value))))
    with pytest.raises(ValueError, match="n must"):
        cosine_palette(1)


def _small_simulation():
    X = _data(12, n=80, p=30)
    clusters = np.repeat([0, 1, 2], 10)
    return simulation_explorer_data(X, clusters, np.arange(30), 5, 4.0, 100.0, max_items=20)


def test_explorer_html_is_self_contained_and_marked_for_the_site():
    from cossim.interactive import EXPLORER_MARKER, STATIC_CLASS, film_explorer, simulation_explorer

    X = _data(13, n=60, p=20)
    films = film_explorer_data(X, [f"film {j}" for j in range(20)], 4, 2.0, min_ratings=1)
    for html in [simulation_explorer(_small_simulation()), film_explorer(films, film=int(films.films[0]))]:
        assert f'{EXPLORER_MARKER}="' in html
        assert "<noscript>" in html and STATIC_CLASS in html
        assert "http://" not in html and "https://" not in html and "cdn" not in html.lower()
        assert '"name":"CustomJS"' in html  # the callbacks travel inside the document


def test_explorer_builders_reject_bad_input():
    from cossim.interactive import film_explorer, simulation_explorer

    with pytest.raises(ValueError, match="gamma"):
        simulation_explorer(_small_simulation(), gamma=0.33)
    with pytest.raises(ValueError, match="data must"):
        simulation_explorer(object())
    X = _data(14, n=60, p=20)
    films = film_explorer_data(X, [f"film {j}" for j in range(20)], 4, 2.0, min_ratings=1)
    with pytest.raises(ValueError, match="film must"):
        film_explorer(films, film=99)
    with pytest.raises(ValueError, match="top"):
        film_explorer(films, film=int(films.films[0]), top=20)
    with pytest.raises(ValueError, match="gamma"):
        film_explorer(films, film=int(films.films[0]), gamma=True)
