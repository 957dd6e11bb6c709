"""Tests of the audit section of cossim.symbolic (chapters/audit.md).

Independent statements: the gauge ``M = Q Lambda^gamma Q^T`` evaluated with
numpy at random numbers (symmetric, positive definite, ``B M`` with singular
values ``Lambda^(1 + gamma)``, ``A M^{-T} (B M)^T = A B^T``), and the sympy
results compared with expressions typed here from the chapter's theorem.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from cossim.symbolic import AUDIT_GAMMA, THETA, audit_gauge_check, audit_gauge_spectrum


@pytest.fixture(scope="module")
def spectrum():
    return audit_gauge_spectrum()


def numeric(matrix, values) -> np.ndarray:
    return np.array(sp.Matrix(matrix).subs(values).evalf(), dtype=float)


# --------------------------------------------------------------------------- the spectrum


def test_spectrum_is_a_derivation_with_eight_steps(spectrum):
    assert spectrum.kind == "derivation"
    assert len(spectrum.steps) == 8
    assert "\\begin{aligned}" in spectrum.latex()


def test_gauge_is_symmetric_positive_definite_with_inverse(spectrum):
    assert spectrum["symmetry_residual"] == sp.zeros(2, 2)
    assert spectrum["offdiagonal"] == 0
    assert spectrum["positive_definite"] is True
    l1, l2 = spectrum["R"][0, 0], spectrum["R"][1, 1]
    gamma = spectrum["gamma"]
    assert spectrum["eigenvalues"] == (l1**gamma, l2**gamma)
    assert spectrum["inverse_product"] == sp.eye(2)


def test_singular_values_and_whitening_match_the_theorem(spectrum):
    l1, l2 = spectrum["R"][0, 0], spectrum["R"][1, 1]
    gamma = spectrum["gamma"]
    assert gamma == AUDIT_GAMMA
    for found, expected in zip(spectrum["singular_values"], (l1 ** (1 + gamma), l2 ** (1 + gamma))):
        assert sp.simplify(found - expected) == 0
    assert spectrum["gram_in_basis"] == sp.diag(l1 ** (2 * gamma + 2), l2 ** (2 * gamma + 2))
    assert spectrum["whitening_gamma"] == -1
    # At gamma = -1 the ratio of the singular values is exactly 1.
    assert sp.simplify(spectrum["ratio"].subs(gamma, -1)) == 1


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_symbolic_gauge_agrees_with_numpy(spectrum, seed):
    rng = np.random.default_rng(seed)
    l1, l2 = spectrum["R"][0, 0], spectrum["R"][1, 1]
    lambdas = np.sort(rng.uniform(0.2, 3.0, 2))[::-1]
    theta, gamma = rng.uniform(0, 2 * np.pi), rng.uniform(-1.5, 1.5)
    values = {l1: lambdas[0], l2: lambdas[1], THETA: theta, AUDIT_GAMMA: gamma}
    M = numeric(spectrum["M"], values)
    # numpy's own construction of B = P Lambda Q^T and M = Q Lambda^gamma Q^T.
    Q = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    assert np.allclose(M, Q @ np.diag(lambdas**gamma) @ Q.T)
    assert np.allclose(M, M.T)
    assert np.all(np.linalg.eigvalsh(M) > 0)
    P, _ = np.linalg.qr(rng.standard_normal((5, 2)))
    B = P @ np.diag(lambdas) @ Q.T
    A = rng.standard_normal((5, 2))
    # Descending order (for gamma < -1 the powers reverse the order of the lambdas).
    expected = np.sort(lambdas ** (1 + gamma))[::-1]
    assert np.allclose(np.linalg.svd(B @ M, compute_uv=False), expected)
    assert np.allclose((A @ np.linalg.inv(M).T) @ (B @ M).T, A @ B.T)
    whitened = B @ Q @ np.diag(lambdas**-1.0) @ Q.T
    assert np.allclose(whitened, P @ Q.T)
    assert np.allclose(np.linalg.svd(whitened, compute_uv=False), 1.0)


# --------------------------------------------------------------------------- the product


def test_check_holds_for_the_inverse_transpose():
    check = audit_gauge_check()
    assert check.kind == "check"
    assert check.holds is True
    assert check["residual"] == sp.zeros(2, 2)


def test_check_holds_for_more_items():
    check = audit_gauge_check(p=3)
    assert check.holds is True
    assert check["residual"].shape == (3, 3)


def test_check_fails_when_users_get_the_same_gauge(spectrum):
    # M is symmetric, so applying it to both sides multiplies by M^2, not by the identity.
    check = audit_gauge_check(spectrum["M"])
    assert check.holds is False
    gamma = spectrum["gamma"]
    assert check["residual"].subs(gamma, 0) == sp.zeros(2, 2)  # gamma = 0 is the identity


@pytest.mark.parametrize("bad", [sp.eye(3), [[1, 2, 3]]])
def test_check_rejects_a_badly_shaped_user_gauge(bad):
    with pytest.raises(ValueError, match="user_gauge"):
        audit_gauge_check(bad)


def test_check_rejects_a_bad_number_of_items():
    with pytest.raises(ValueError, match="p must be"):
        audit_gauge_check(p=0)
