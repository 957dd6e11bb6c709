"""Input checks shared by the numerical modules.

Every public function of :mod:`cossim` rejects bad input with a ``ValueError``
that names the offending argument, instead of returning silent garbage.
"""

from __future__ import annotations

import numbers

import numpy as np


def as_matrix(value, name: str) -> np.ndarray:
    """Return ``value`` as a finite 2-D float array, or raise ``ValueError`` naming ``name``."""
    try:
        array = np.asarray(value)
    except Exception as error:  # ragged lists and the like
        raise ValueError(f"{name} must be a 2-D array of numbers: {error}") from error
    if array.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array, got {array.ndim} dimension(s) with shape {array.shape}")
    if array.dtype == bool:
        array = array.astype(np.float64)
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise ValueError(f"{name} must hold real numbers, got dtype {array.dtype}")
    if array.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {array.shape}")
    if not np.issubdtype(array.dtype, np.floating):
        array = array.astype(np.float64)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite (it contains NaN or infinity)")
    return array


def as_vector(value, name: str) -> np.ndarray:
    """Return ``value`` as a finite, non-empty 1-D float array, or raise ``ValueError``."""
    try:
        array = np.asarray(value)
    except Exception as error:
        raise ValueError(f"{name} must be a 1-D array of numbers: {error}") from error
    if array.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array, got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} must not be empty")
    if array.dtype == bool or not (
        np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)
    ):
        raise ValueError(f"{name} must hold real numbers, got dtype {array.dtype}")
    array = array.astype(np.float64)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite (it contains NaN or infinity)")
    return array


def check_rank(k, upper: int, name: str = "k") -> int:
    """Return ``k`` as an int in ``1..upper``, or raise ``ValueError`` naming ``name``."""
    if isinstance(k, bool) or not isinstance(k, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {k!r}")
    if not 1 <= int(k) <= upper:
        raise ValueError(f"{name} must lie in 1..{upper}, got {k}")
    return int(k)


def check_nonnegative(value, name: str) -> float:
    """Return ``value`` as a finite float >= 0, or raise ``ValueError`` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return value
