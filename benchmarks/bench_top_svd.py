"""Benchmark: cossim.top_svd against numpy.linalg.svd on the paper's data size.

Run from the repository root::

    .venv/bin/python benchmarks/bench_top_svd.py

Data: a 20,000 x 1,000 random 0/1 matrix (users x items, the size of the
paper's experiment), each entry 1 independently with probability 0.05,
drawn from ``numpy.random.default_rng(20240308)`` and stored as float64 (the
dtype both functions work in).  Rank k = 50, as in the paper.  Each function
is timed with ``time.perf_counter``; the two are run alternately, ``REPEATS``
rounds, so that both see the same machine conditions, and the best time of
each is kept.  Both run in the same process on the same array.  The load
average is printed because on a shared machine it moves the numbers.

Target: ``top_svd`` at least 8 times faster than the full thin SVD, with the
top-50 singular values agreeing to a relative difference below 1e-6.  The
script prints PASS or MISS against that target; it never fails on speed (this
is a measurement, not a test).  The BLAS threading environment
(``OPENBLAS_CORETYPE``, ``OMP_NUM_THREADS``, ...) is reported, not changed.
"""

from __future__ import annotations

import os
import time

import numpy as np

from cossim import top_svd

N_USERS = 20_000
N_ITEMS = 1_000
DENSITY = 0.05
RANK = 50
SEED = 20240308
REPEATS = 3
TARGET_SPEEDUP = 8.0
TARGET_RELATIVE_DIFFERENCE = 1e-6


def timed(function) -> tuple[float, object]:
    """Return the wall-clock time of one call and its result."""
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def best_times(first, second, repeats: int = REPEATS) -> tuple[float, object, float, object]:
    """Run ``first`` and ``second`` alternately; return the best time and last result of each."""
    best_first = best_second = np.inf
    result_first = result_second = None
    for _ in range(repeats):
        elapsed, result_first = timed(first)
        best_first = min(best_first, elapsed)
        elapsed, result_second = timed(second)
        best_second = min(best_second, elapsed)
    return best_first, result_first, best_second, result_second


def main() -> int:
    rng = np.random.default_rng(SEED)
    X = (rng.random((N_USERS, N_ITEMS)) < DENSITY).astype(np.float64)

    for variable in ("OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        print(f"{variable} = {os.environ.get(variable, '(unset)')}")
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"numpy {np.__version__}, cpus available: {len(os.sched_getaffinity(0))}, load average {load}")
    print(
        f"data: {N_USERS} x {N_ITEMS} random 0/1, density {DENSITY} "
        f"(observed {X.mean():.4f}), seed {SEED}, k = {RANK}, best of {REPEATS} alternating rounds"
    )

    time_top, (_, s_top, _), time_full, (_, s_full, _) = best_times(
        lambda: top_svd(X, RANK), lambda: np.linalg.svd(X, full_matrices=False)
    )

    s_reference = s_full[:RANK]
    relative_difference = float(np.max(np.abs(s_top - s_reference) / s_reference))
    speedup = time_full / time_top

    print(f"top_svd(X, {RANK}):                        {time_top:8.3f} s")
    print(f"numpy.linalg.svd(X, full_matrices=False): {time_full:8.3f} s")
    print(f"speed-up (svd / top_svd):                 {speedup:8.1f} x   (target >= {TARGET_SPEEDUP:g} x)")
    print(
        f"largest relative difference, top-{RANK} singular values: "
        f"{relative_difference:.2e}   (target < {TARGET_RELATIVE_DIFFERENCE:g})"
    )
    met = speedup >= TARGET_SPEEDUP and relative_difference < TARGET_RELATIVE_DIFFERENCE
    print("PASS" if met else "MISS")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
