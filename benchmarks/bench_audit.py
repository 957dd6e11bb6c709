"""Benchmark: cossim.neighbour_stability at p = 20,000 items, against the naive full-matrix method.

Run from the repository root::

    .venv/bin/python benchmarks/bench_audit.py [--blas-threads N]

**Data.**  Item embeddings ``B = G diag(1/i) V^T`` (``p x k``, ``k = 64``):
``G`` standard normal, the column scales ``1, 1/2, ..., 1/64`` (a decaying
spectrum, as learned embeddings have), ``V`` a random orthogonal ``k x k``
matrix; all from ``numpy.random.default_rng(20240308)``.  The audit runs the
default 9 gammas (``-1, -0.75, ..., 1``) with ``top = 10``.

**What is measured.**

* The blocked method, :func:`cossim.neighbour_stability` with its default
  block size, at ``p = 20,000``: wall-clock time, process CPU time, and peak
  memory two ways: the peak of memory traced by ``tracemalloc`` (numpy's
  array buffers and Python objects allocated during the call) and the peak
  resident set size of the whole process (``ru_maxrss``, which also counts
  the interpreter, numpy, OpenBLAS and the input array).
* The naive method cannot run at ``p = 20,000`` on a machine of this size:
  one ``p x p`` float64 cosine matrix is 3.2 GB, and its full argsort another
  3.2 GB.  So both methods run at ``p = 5,000`` (same seed, first 5,000 rows
  of the same construction), where the naive one needs a few hundred MB, and
  the ratio of their times is reported there.  "Naive" means: for each gamma,
  form ``B_gamma = B Q Lambda^gamma Q^T`` explicitly, compute the whole ``p x p``
  cosine matrix at once with :func:`cossim.cosine_similarity`, and sort every
  row in full (``argsort``, stable, so ties go to the lower index); one gamma
  at a time (all nine matrices at once would need nine times the memory).
  Its neighbour lists are compared with the blocked method's.

Every run is a separate Python process (``subprocess``) so that each reports
its own ``ru_maxrss``; ``tracemalloc`` is on during every run of both
methods, so their times are measured under the same conditions.  The machine's load
average is printed, because on a shared machine it moves the wall-clock
times (the CPU time moves less).  The BLAS threading environment is reported
and, by default, not changed; ``--blas-threads N`` sets
``OPENBLAS_NUM_THREADS = OMP_NUM_THREADS = N`` for every run.  When other
processes keep the cores busy, OpenBLAS's two threads wait for each other and
one thread is often faster (measured on this machine at a load average of 7:
15 s with one thread, 36 s with two).

**Targets** (for the blocked method at ``p = 20,000``): under 30 s wall-clock
on this 2-core machine, and peak memory under 1 GB (``ru_maxrss``, the
stricter of the two).  The script prints PASS or MISS for each; it never
fails on them (this is a measurement, not a test).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc

import numpy as np

SEED = 20240308
P_FULL = 20_000
P_SMALL = 5_000
K = 64
TOP = 10
TARGET_SECONDS = 30.0
TARGET_BYTES = 1 << 30  # 1 GiB


def embeddings(p: int) -> np.ndarray:
    """The benchmark's embeddings: the first p rows of the P_FULL x K construction (seeded)."""
    rng = np.random.default_rng(SEED)
    G = rng.standard_normal((P_FULL, K))
    V, _ = np.linalg.qr(rng.standard_normal((K, K)))
    return ((G[:p] / np.arange(1, K + 1)) @ V.T).copy()


def naive(B: np.ndarray, top: int, gammas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean overlaps and neighbour lists from full p x p cosine matrices, one gamma at a time."""
    from cossim import cosine_similarity

    _, s, Vt = np.linalg.svd(B, full_matrices=False)

    def lists(E):
        S = cosine_similarity(E)
        np.fill_diagonal(S, -np.inf)
        return np.argsort(-S, axis=1, kind="stable")[:, :top]

    reference = lists(B)
    means, all_lists = [], []
    for gamma in gammas:
        current = reference if gamma == 0 else lists(B @ ((Vt.T * s**gamma) @ Vt))
        shared = [len(set(a) & set(b)) for a, b in zip(reference.tolist(), current.tolist())]
        means.append(np.mean(shared) / top)
        all_lists.append(current)
    return np.array(means), np.array(all_lists)


def child(method: str, p: int) -> None:
    """Run one measurement in this process and print it as one JSON line."""
    from cossim.audit import DEFAULT_GAMMAS, neighbour_stability

    B = embeddings(p)
    tracemalloc.start()
    wall, cpu = time.perf_counter(), time.process_time()
    if method == "blocked":
        result = neighbour_stability(B, top=TOP)
        means, lists = result.mean_overlap, result.neighbours
        extra = {"block_size": result.block_size}
    else:
        means, lists = naive(B, TOP, DEFAULT_GAMMAS)
        extra = {}
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    np.save(os.environ["BENCH_AUDIT_LISTS"], lists)
    print(json.dumps({
        "method": method, "p": p, "wall": wall, "cpu": cpu, "traced_peak": traced_peak,
        "maxrss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,  # Linux: kilobytes
        "mean_overlap": [float(value) for value in means], **extra,
    }))


def run(method: str, p: int, lists_path: str, blas_threads: int | None) -> dict:
    command = [sys.executable, __file__, "--child", method, str(p)]
    environment = {**os.environ, "BENCH_AUDIT_LISTS": lists_path}
    if blas_threads is not None:
        environment["OPENBLAS_NUM_THREADS"] = environment["OMP_NUM_THREADS"] = str(blas_threads)
    done = subprocess.run(command, capture_output=True, text=True, env=environment)
    if done.returncode != 0:
        raise SystemExit(f"{method} at p = {p} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def describe(result: dict) -> str:
    extra = f", block_size {result['block_size']}" if "block_size" in result else ""
    return (
        f"{result['method']:>7} p = {result['p']:>6,}: {result['wall']:7.2f} s wall, {result['cpu']:7.2f} s CPU, "
        f"peak traced {result['traced_peak'] / 2**20:7.1f} MiB, peak RSS {result['maxrss'] / 2**20:7.1f} MiB{extra}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=2, metavar=("METHOD", "P"), help=argparse.SUPPRESS)
    parser.add_argument("--blas-threads", type=int, default=None, metavar="N",
                        help="run every measurement with OPENBLAS_NUM_THREADS = OMP_NUM_THREADS = N "
                             "(default: the environment, unchanged)")
    arguments = parser.parse_args()
    if arguments.child:
        child(arguments.child[0], int(arguments.child[1]))
        return 0

    import tempfile

    threads = arguments.blas_threads
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        value = str(threads) if threads is not None and variable != "MKL_NUM_THREADS" else os.environ.get(variable)
        print(f"{variable} = {value or '(unset)'}")
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"numpy {np.__version__}, cpus available: {len(os.sched_getaffinity(0))}, load average {load}")
    print(f"data: B = G diag(1/i) V^T, k = {K}, seed {SEED}; 9 gammas in [-1, 1], top {TOP}")
    print()

    with tempfile.TemporaryDirectory() as folder:
        paths = {name: os.path.join(folder, f"{name}.npy") for name in ("full", "small_blocked", "small_naive")}
        full = run("blocked", P_FULL, paths["full"], threads)
        print(describe(full))
        small_blocked = run("blocked", P_SMALL, paths["small_blocked"], threads)
        print(describe(small_blocked))
        small_naive = run("naive", P_SMALL, paths["small_naive"], threads)
        print(describe(small_naive))
        lists_blocked, lists_naive = np.load(paths["small_blocked"]), np.load(paths["small_naive"])

    same_lists = float(np.mean(np.all(lists_blocked == lists_naive, axis=2)))
    difference = float(np.max(np.abs(np.subtract(small_blocked["mean_overlap"], small_naive["mean_overlap"]))))
    print()
    speedup = small_naive["wall"] / small_blocked["wall"]
    print(f"at p = {P_SMALL:,}: naive / blocked wall-clock time = {speedup:.1f} x, "
          f"peak RSS naive / blocked = {small_naive['maxrss'] / small_blocked['maxrss']:.1f} x")
    print(f"at p = {P_SMALL:,}: identical neighbour lists (item, gamma): {100 * same_lists:.3f} %, "
          f"largest difference of a mean overlap: {difference:.1e}")
    print(f"at p = {P_FULL:,} (blocked only; naive would need > 6 GB): mean overlap per gamma "
          + " ".join(f"{value:.3f}" for value in full["mean_overlap"]))
    print()
    time_ok = full["wall"] < TARGET_SECONDS
    memory_ok = full["maxrss"] < TARGET_BYTES
    verdict = "PASS" if time_ok else "MISS"
    print(f"time   p = {P_FULL:,}: {full['wall']:.1f} s  (target < {TARGET_SECONDS:g} s)  {verdict}")
    print(f"memory p = {P_FULL:,}: {full['maxrss'] / 2**20:.0f} MiB peak RSS, {full['traced_peak'] / 2**20:.0f} MiB "
          f"traced  (target < 1024 MiB)  {'PASS' if memory_ok else 'MISS'}")
    print("PASS" if time_ok and memory_ok else "MISS")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
