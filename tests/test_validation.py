"""Tests of cossim._validation, the one toolkit of input checks."""

from __future__ import annotations

import numpy as np
import pytest

from cossim._validation import (
    as_generator,
    check_choice,
    check_count,
    check_factor_pair,
    check_instance,
    check_positive,
    check_shape,
    check_symmetric,
)


def test_as_generator_accepts_seeds_and_generators_only():
    rng = np.random.default_rng(5)
    assert as_generator(rng) is rng
    assert as_generator(7).integers(1000) == np.random.default_rng(7).integers(1000)
    for bad in (None, True, -1, 1.5, "a", np.random.SeedSequence(1)):
        with pytest.raises(ValueError, match="seed must be a non-negative int or a numpy Generator"):
            as_generator(bad)
    with pytest.raises(ValueError, match="rng must"):
        as_generator("a", "rng")


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: check_positive(0.0, "lr"), "lr must be > 0"),
        (lambda: check_positive(float("inf"), "lr"), "lr must be finite"),
        (lambda: check_count(0, "max_iter"), "max_iter must be >= 1"),
        (lambda: check_count(2.0, "max_iter", 0), "max_iter must be an integer"),
        (lambda: check_choice("sgd", ("gd", "adam"), "optimizer"), "optimizer must be one of"),
        (lambda: check_instance([1], tuple, "pair"), "pair must be a tuple, got list"),
        (lambda: check_shape(np.ones((2, 3)), (3, 2), "init"), r"init must have shape \(3, 2\)"),
        (lambda: check_symmetric([[1.0, 2.0], [0.0, 1.0]], "G", " (X^T X)"), r"G must be symmetric \(X\^T X\)"),
        (lambda: check_factor_pair(np.ones((3, 2)), np.ones((3, 1)), 3, "items"), "B must have the same shape"),
        (lambda: check_factor_pair(np.ones((2, 2)), np.ones((2, 2)), 3, "items"), r"A must have 3 rows \(items\)"),
    ],
)
def test_checks_name_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_checks_return_clean_values():
    assert check_count(np.int64(3), "n") == 3 and type(check_count(np.int64(3), "n")) is int
    assert check_positive(2, "lr") == 2.0
    S = check_symmetric([[1.0, 2.0], [2.0 + 1e-14, 1.0]], "S")
    assert np.array_equal(S, S.T)
