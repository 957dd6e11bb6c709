"""Tests of cossim._util, the shared kernels: each against a plain reference."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cossim._util import adam_update, read_only, shared_fraction, top_indices, unit_rows


@settings(max_examples=200, deadline=None)
@given(
    rows=st.integers(1, 6),
    cols=st.integers(1, 9),
    data=st.data(),
)
def test_top_indices_is_a_stable_sort_by_descending_key(rows, cols, data):
    # Few distinct values (and -inf), so that ties at the cut-off are common.
    values = st.sampled_from([-np.inf, 0.0, 0.5, 1.0, 2.0])
    keys = np.array(data.draw(st.lists(st.lists(values, min_size=cols, max_size=cols), min_size=rows, max_size=rows)))
    top = data.draw(st.integers(1, cols))
    reference = np.argsort(-keys, axis=1, kind="stable")[:, :top]
    np.testing.assert_array_equal(top_indices(keys, top), reference)


def test_unit_rows_survive_extreme_scales_and_flag_zero_rows():
    Y = np.array([[3e200, 4e200], [3e-200, -4e-200], [0.0, 0.0]])
    unit, zero = unit_rows(Y)
    np.testing.assert_allclose(unit[:2], [[0.6, 0.8], [0.6, -0.8]], rtol=1e-15)
    np.testing.assert_array_equal(unit[2], [0.0, 0.0])
    np.testing.assert_array_equal(zero, [False, False, True])


def test_adam_update_is_the_textbook_rule():
    rng = np.random.default_rng(3)
    theta, m, v = rng.standard_normal(4), np.zeros(4), np.zeros(4)
    expected, m_ref, v_ref = theta.copy(), np.zeros(4), np.zeros(4)
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    for t in range(1, 6):
        g = rng.standard_normal(4)
        adam_update(theta, g, m, v, t, lr, b1, b2, eps)
        m_ref = b1 * m_ref + (1 - b1) * g
        v_ref = b2 * v_ref + (1 - b2) * g * g
        expected = expected - lr * (m_ref / (1 - b1**t)) / (np.sqrt(v_ref / (1 - b2**t)) + eps)
        np.testing.assert_allclose(theta, expected, rtol=1e-14)


def test_read_only_arrays_refuse_writes():
    array = read_only(np.zeros(3))
    with pytest.raises(ValueError):
        array[0] = 1.0


def test_shared_fraction_matches_set_intersections():
    rng = np.random.default_rng(11)
    first = np.array([rng.permutation(30)[:6] for _ in range(50)])
    second = np.array([rng.permutation(30)[:6] for _ in range(50)])
    first[3] = -1
    second[7] = -1
    expected = [len(set(a) & set(b)) / 6 for a, b in zip(first.tolist(), second.tolist())]
    result = shared_fraction(first, second)
    assert np.isnan(result[3]) and np.isnan(result[7])
    keep = np.ones(50, dtype=bool)
    keep[[3, 7]] = False
    assert np.array_equal(result[keep], np.array(expected)[keep])
    assert 0 < np.nanmean(result) < 1   # the draws share some entries, not all
