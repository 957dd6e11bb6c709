"""Benchmark: cossim.neighbour_stability at p = 20,000 items (exact) and p = 1,000,000 (sampled).

Run from the repository root::

    .venv/bin/python benchmarks/bench_audit.py [--blas-threads N]            # p = 20,000, exact
    .venv/bin/python benchmarks/bench_audit.py --large [--blas-threads N]    # p = 1,000,000, sampled

The default run is described first; ``--large`` at the end ("The large case").

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

**The large case** (``--large``).  A catalogue of ``p = 1,000,000`` items,
``k = 64``, float32: ``B = G diag(1, 1/2, ..., 1/64) V^T`` (``G`` standard
normal, ``V`` random orthogonal, seed 20240308; the singular values of ``B``
are close to ``sqrt(p) / i``), written to a temporary ``.npy`` file in blocks.
The command itself runs on it, as a user would run it, in a child process::

    python -m cossim.audit B.npy --sample 2000 --quiet --json

(9 gammas, top 10: 2,000 query items drawn uniformly without replacement,
each ranked against all 1,000,000 items, the file memory-mapped).  Measured:
the child's wall-clock time, and its peak resident set size from
``os.wait4`` (``ru_maxrss`` of that child alone: the interpreter, the
libraries, the pages of the mapped file it has touched and every array).
The exact computation (every item a query) is not run: its cost is predicted
two ways, from this run (the search is linear in the number of queries: time
times ``p / 2,000``) and from an exact run at ``p = 20,000`` measured here
(quadratic in ``p``: time times ``(p / 20,000)^2``).

Then the coverage of the sampled interval: at ``p = 20,000`` (the default
case's embeddings) the exact mean overlap per gamma is computed once, and the
sampled audit (``sample=2000``) is run with seeds 0 to 19; for each gamma the
script counts the seeds whose 95 % interval contains the exact mean.

**Targets** of the large case: under 120 s wall-clock and under 2 GB peak RSS
on a 2-core machine, and for every gamma at least 19 of the 20 intervals
cover the exact mean.  For a true 95 % interval the chance of 19 or 20
covers out of 20 is only 0.74 per gamma, so a MISS of this last target by a
seed or two is not by itself evidence of a wrong interval: the script prints,
per gamma, the probability that a true 95 % interval covers as rarely, and
the pooled coverage; ``--seeds N`` runs more seeds (the target is then 95 %
of them for every gamma).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
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

P_LARGE = 1_000_000
SAMPLE = 2000
SEEDS = 20
TARGET_LARGE_SECONDS = 120.0
TARGET_LARGE_BYTES = 2 * 10**9  # 2 GB


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
    parser.add_argument("--large", action="store_true",
                        help="the large case: p = 1,000,000 sampled, and the coverage of the interval")
    parser.add_argument("--seeds", type=int, default=SEEDS, metavar="N",
                        help=f"seeds for the coverage check of --large (default {SEEDS}; the target is "
                             "at least 95%% of them, rounded up, for every gamma)")
    arguments = parser.parse_args()
    if arguments.child:
        child(arguments.child[0], int(arguments.child[1]))
        return 0
    if arguments.large:
        return large(arguments.blas_threads, arguments.seeds)

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


# --------------------------------------------------------------------------- the large case


def write_large(path: str, p: int = P_LARGE, block: int = 100_000) -> None:
    """The large case's embeddings, float32, written to ``path`` in blocks (never all in memory)."""
    from numpy.lib.format import open_memmap

    rng = np.random.default_rng(SEED)
    V, _ = np.linalg.qr(rng.standard_normal((K, K)))
    scales = 1.0 / np.arange(1, K + 1)
    out = open_memmap(path, mode="w+", dtype=np.float32, shape=(p, K))
    for start in range(0, p, block):
        rows = min(block, p - start)
        out[start : start + rows] = ((rng.standard_normal((rows, K)) * scales) @ V.T).astype(np.float32)
    out.flush()
    del out


def run_command(arguments: list[str], blas_threads: int | None) -> tuple[dict, float, int]:
    """Run ``python -m cossim.audit ARGUMENTS --json``; return its report, wall time and peak RSS (bytes)."""
    environment = dict(os.environ)
    if blas_threads is not None:
        environment["OPENBLAS_NUM_THREADS"] = environment["OMP_NUM_THREADS"] = str(blas_threads)
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        wall = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-m", "cossim.audit", *arguments, "--json", "--quiet"],
                                   stdout=out, stderr=err, env=environment)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - wall
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if process.returncode != 0:
            raise SystemExit(f"the command failed ({process.returncode}):\n{err.read()}")
        report = json.loads(out.read())
        report["cpu_seconds"] = usage.ru_utime + usage.ru_stime
        return report, wall, usage.ru_maxrss * 1024  # Linux: kilobytes


def coverage(seeds: int = SEEDS) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Per gamma: the exact mean overlap at p = 20,000, and how many sampled intervals cover it."""
    from cossim.audit import neighbour_stability

    B = embeddings(P_FULL)
    start = time.perf_counter()
    exact = neighbour_stability(B, top=TOP)
    exact_seconds = time.perf_counter() - start
    covered = np.zeros(exact.gammas.size, dtype=int)
    for seed in range(seeds):
        sampled = neighbour_stability(B, top=TOP, sample=SAMPLE, seed=seed)
        low, high = sampled.overlap_interval.T
        covered += (low <= exact.mean_overlap) & (exact.mean_overlap <= high)
    return exact.gammas, exact.mean_overlap, covered, exact_seconds


def large(blas_threads: int | None, seeds: int = SEEDS) -> int:
    threads = blas_threads
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        value = str(threads) if threads is not None else os.environ.get(variable)
        print(f"{variable} = {value or '(unset)'}")
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"numpy {np.__version__}, cpus available: {len(os.sched_getaffinity(0))}, load average {load}")
    print(f"data: B = G diag(1/i) V^T, p = {P_LARGE:,}, k = {K}, float32, seed {SEED}; "
          f"9 gammas in [-1, 1], top {TOP}, --sample {SAMPLE}")
    print()

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "B.npy")
        write_large(path)
        print(f"python -m cossim.audit B.npy --sample {SAMPLE} --json --quiet "
              f"({os.path.getsize(path) / 2**20:.0f} MiB file, memory-mapped)")
        report, wall, peak = run_command([path, "--sample", str(SAMPLE)], threads)
    print(f"  {wall:.1f} s wall-clock ({report['cpu_seconds']:.1f} s CPU), peak RSS {peak / 2**20:.0f} MiB")
    print(f"  spread {report['spectrum']['spread']:.1f}, effective rank {report['spectrum']['effective_rank']:.1f}; "
          f"verdict [{report['verdict']['row']}]")
    for entry in report["gammas"]:
        low, high = entry["interval"]
        print(f"  gamma {entry['gamma']:5.2f}: mean overlap {entry['mean_overlap']:.3f} "
              f"(95% interval {low:.3f} - {high:.3f})")
    print()

    from scipy.stats import binom

    print(f"coverage at p = {P_FULL:,}: exact mean once, then --sample {SAMPLE} with seeds 0..{seeds - 1}")
    gammas, exact_mean, covered, exact_seconds = coverage(seeds)
    for gamma, mean, count in zip(gammas, exact_mean, covered):
        chance = binom.cdf(count, seeds, 0.95)
        print(f"  gamma {gamma:5.2f}: exact mean {mean:.4f}, covered by {count} of {seeds} intervals "
              f"(a true 95% interval covers this often or less with probability {chance:.2f})")
    nontrivial = gammas != 0
    pooled = covered[nontrivial].sum() / (seeds * np.count_nonzero(nontrivial))
    print(f"  pooled over the {np.count_nonzero(nontrivial)} gammas other than 0: {100 * pooled:.1f} % covered "
          "(the gammas share their samples, so these counts are correlated)")
    print()

    per_query = wall * P_LARGE / SAMPLE
    quadratic = exact_seconds * (P_LARGE / P_FULL) ** 2
    print(f"the exact computation at p = {P_LARGE:,} (every item a query), predicted:")
    print(f"  from this run, x p / {SAMPLE:,}: {per_query / 3600:.1f} h; from the exact run at "
          f"p = {P_FULL:,} ({exact_seconds:.1f} s), x (p / {P_FULL:,})^2: {quadratic / 3600:.1f} h")
    print(f"  sampled / exact (the smaller prediction): 1 / {min(per_query, quadratic) / wall:,.0f}")
    print()
    time_ok = wall < TARGET_LARGE_SECONDS
    memory_ok = peak < TARGET_LARGE_BYTES
    coverage_ok = bool(np.all(covered >= seeds - seeds // 20))
    print(f"time     p = {P_LARGE:,}: {wall:.1f} s  (target < {TARGET_LARGE_SECONDS:g} s)  "
          f"{'PASS' if time_ok else 'MISS'}")
    print(f"memory   p = {P_LARGE:,}: {peak / 1e9:.2f} GB peak RSS  (target < 2 GB)  "
          f"{'PASS' if memory_ok else 'MISS'}")
    print(f"coverage p = {P_FULL:,}: worst gamma {covered.min()} of {seeds}  (target >= {seeds - seeds // 20} of "
          f"{seeds} for every gamma)  {'PASS' if coverage_ok else 'MISS'}")
    print("PASS" if time_ok and memory_ok and coverage_ok else "MISS")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
