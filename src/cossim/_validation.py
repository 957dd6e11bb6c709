"""Input checks shared by the numerical modules.

Every public function of :mod:`cossim` rejects bad input with a ``ValueError``
that names the offending argument, instead of returning silent garbage.
"""

from __future__ import annotations

import numbers

import numpy as np


def as_array(value, name: str, what: str) -> np.ndarray:
    """``numpy.asarray(value)``, with a ``ValueError`` naming ``name`` (``"must be " + what``) if it fails."""
    try:
        return np.asarray(value)
    except Exception as error:  # ragged lists and the like
        raise ValueError(f"{name} must be {what}: {error}") from error


def as_matrix(value, name: str, *, finite: bool = True) -> np.ndarray:
    """Return ``value`` as a finite 2-D float array, or raise ``ValueError`` naming ``name``.

    With ``finite=False`` the finiteness check is left to the caller
    (:func:`check_finite`), who may get it for free from a pass it makes anyway.
    """
    array = as_array(value, name, "a 2-D array of numbers")
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
    if finite:
        check_finite(array, name)
    return array


def check_finite(array: np.ndarray, name: str) -> np.ndarray:
    """Return ``array`` if it holds no NaN or infinity, or raise ``ValueError`` naming ``name``."""
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite (it contains NaN or infinity)")
    return array


def as_vector(value, name: str) -> np.ndarray:
    """Return ``value`` as a finite, non-empty 1-D float array, or raise ``ValueError``."""
    array = as_array(value, name, "a 1-D array of numbers")
    if array.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array, got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} must not be empty")
    if array.dtype == bool or not (
        np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)
    ):
        raise ValueError(f"{name} must hold real numbers, got dtype {array.dtype}")
    return check_finite(array.astype(np.float64), name)


def check_rank(k, upper: int, name: str = "k") -> int:
    """Return ``k`` as an int in ``1..upper``, or raise ``ValueError`` naming ``name``."""
    if isinstance(k, bool) or not isinstance(k, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {k!r}")
    if not 1 <= int(k) <= upper:
        raise ValueError(f"{name} must lie in 1..{upper}, got {k}")
    return int(k)


def check_real(value, name: str) -> float:
    """Return ``value`` as a finite float, or raise ``ValueError`` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def check_nonnegative(value, name: str) -> float:
    """Return ``value`` as a finite float >= 0, or raise ``ValueError`` naming ``name``."""
    value = check_real(value, name)
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return value


def check_positive(value, name: str) -> float:
    """Return ``value`` as a finite float > 0, or raise ``ValueError`` naming ``name``."""
    value = check_nonnegative(value, name)
    if value == 0:
        raise ValueError(f"{name} must be > 0, got {value}")
    return value


def check_count(value, name: str, minimum: int = 1) -> int:
    """Return ``value`` as an int >= ``minimum``, or raise ``ValueError`` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if int(value) < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def check_choice(value, choices: tuple[str, ...], name: str) -> str:
    """Return ``value`` if it is one of the strings ``choices``, or raise ``ValueError`` naming ``name``."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def check_instance(value, cls: type, name: str):
    """Return ``value`` if it is an instance of ``cls``, or raise ``ValueError`` naming ``name``."""
    if not isinstance(value, cls):
        where = "cossim." if cls.__module__.startswith("cossim") else ""
        raise ValueError(f"{name} must be a {where}{cls.__name__}, got {type(value).__name__}")
    return value


def check_shape(array: np.ndarray, shape: tuple[int, ...], name: str) -> np.ndarray:
    """Return ``array`` if it has ``shape``, or raise ``ValueError`` naming ``name``."""
    if array.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, got {array.shape}")
    return array


def check_symmetric(value, name: str, what: str = "") -> np.ndarray:
    """A finite, square matrix that is symmetric to ``1e-10`` relative, returned exactly symmetric.

    ``what`` (e.g. ``" (X^T X)"``) is added to the messages, after the name.
    """
    matrix = as_matrix(value, name)
    if matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"{name} must be a square matrix{what}, got shape {matrix.shape}")
    scale = max(float(np.max(np.abs(matrix))), np.finfo(np.float64).tiny)
    if np.max(np.abs(matrix - matrix.T)) > 1e-10 * scale:
        raise ValueError(f"{name} must be symmetric{what}")
    return (matrix + matrix.T) / 2.0


def as_generator(seed, name: str = "seed") -> np.random.Generator:
    """Return a ``numpy.random.Generator`` from a non-negative int seed or a Generator.

    Every random draw of :mod:`cossim` goes through here, so that the same
    seed gives the same draw everywhere and no draw is left unseeded:
    ``None``, ``bool``, strings and negative integers are refused with a
    ``ValueError`` naming ``name``.

    Examples
    --------
    >>> int(as_generator(3).integers(10)) == int(as_generator(3).integers(10))
    True
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise ValueError(f"{name} must be a non-negative int or a numpy Generator, got {seed!r}")
    if int(seed) < 0:
        raise ValueError(f"{name} must be a non-negative int or a numpy Generator, got {seed}")
    return np.random.default_rng(int(seed))


def check_factor_pair(A, B, p: int, rows: str) -> tuple[np.ndarray, np.ndarray]:
    """Two finite ``(p, k)`` factors of the same shape; ``rows`` says what ``p`` counts (for messages)."""
    A = as_matrix(A, "A")
    B = as_matrix(B, "B")
    if A.shape[0] != p:
        raise ValueError(f"A must have {p} rows ({rows}), got shape {A.shape}")
    if B.shape != A.shape:
        raise ValueError(f"B must have the same shape as A {A.shape}, got shape {B.shape}")
    return A, B
