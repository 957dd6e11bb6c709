"""Benchmark: the paper's whole experiment (its Figure 1) at full scale, against a naive baseline.

Run from the repository root::

    .venv/bin/python benchmarks/bench_figure1.py [--repeats 3]

**What is measured.**  One run of the experiment of section 4 of the paper at
its size: simulate ``X`` (20,000 users x 1,000 items, the defaults of
:func:`cossim.simulate.simulate_clustered_interactions`, seed 0), fit objective
(1) at ``lam = 10,000`` and objective (2) at ``lam = 100`` with ``k = 50``,
form the five item-item cosine matrices of the figure (the ground truth; the
solution of (1) in the three gauges with item embeddings ``B = V_k``,
``B = V_k dMat(s_i)`` and ``B = V_k dMat(sqrt(sigma_i s_i))``; the solution
of (2)) and score each with :func:`cossim.metrics.cluster_metrics`.

* **Fast path** (the library as a chapter would use it): the vectorised
  Gumbel-top-k sampler; ``fit_product_penalty`` once (the symmetric split
  ``A = B = V_k dMat(s)^{1/2}``) and ``regauge`` with the three diagonal
  gauges ``D = s^{1/2}``, ``s^{-1/2}``, ``sigma^{-1/2}`` (so ``B D^{-1}`` is
  as listed); ``fit_factor_penalty``; ``item_similarity``;
  ``cluster_metrics``.  Both fits share one truncated decomposition,
  :func:`cossim.top_spectrum` (``sigma`` and ``V_k`` without ``U``), passed
  as ``spectrum=``.
* **Naive baseline**: the per-user loop over ``Generator.choice(replace=False,
  p=...)`` (``sampling="loop"``, same latent draws, so the same activities);
  ``numpy.linalg.svd`` of ``X`` in float64 once per objective and the closed
  forms written out; the same ``cosine_similarity``; metrics by plain loops
  (per-item sort for precision@10, ``scipy.stats.mannwhitneyu`` for the AUC).
  The baseline fits, cosines and metrics run on the fast path's ``X`` so that
  their results can be compared with the fast path's; the comparison is printed.

**How.**  Every run is a separate Python process (``subprocess``), so that
each reports its own peak memory: the fast path runs ``--repeats`` times (the
timings on this shared machine are noisy: min, median and max are printed),
then once more under ``tracemalloc``, then the baseline once.  With
``--blas-threads N`` the runs get ``OPENBLAS_NUM_THREADS = OMP_NUM_THREADS = N``
(by default the environment is inherited unchanged): when other processes
keep the cores busy, two OpenBLAS threads that wait for each other make the
eigendecomposition in ``top_svd`` vary several-fold, one thread much less.  Times are
wall-clock (``time.perf_counter``), with the process CPU time beside them.
Memory is reported two ways: ``tracemalloc`` peak = the largest total of
Python-tracked allocations (numpy arrays included) during the stages, from the
separate tracemalloc run; ``ru_maxrss`` = the whole process's peak resident
set (interpreter, libraries and BLAS buffers included), from
``resource.getrusage``, with its value right after the imports beside it.

**Targets**, printed as PASS or MISS (a measurement, never a failure): the
fast experiment below 3 s (median wall time), at least 5 times faster than the
baseline, peak memory below 1 GB (10**9 bytes) by both measures.  The BLAS
threading environment (``OPENBLAS_CORETYPE``, ...) is reported, not changed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc

import numpy as np

SEED = 0
RANK = 50
LAM_PRODUCT = 10_000.0
LAM_FACTOR = 100.0
NEIGHBOURS = 10
TARGET_SECONDS = 3.0
TARGET_SPEEDUP = 5.0
TARGET_BYTES = 1e9
PANELS = ("truth", "B = V_k", "B = V_k dMat(s)", "B = V_k dMat(sqrt(sigma s))", "objective (2)")
STAGES = ("generate X", "fit (1) + 3 gauges", "fit (2)", "5 cosine matrices", "5 x metrics")


def _rss_bytes() -> int:
    """Peak resident set size of this process so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class _Clock:
    """Wall and CPU time of consecutive stages."""

    def __init__(self) -> None:
        self.stages: dict[str, tuple[float, float]] = {}

    def run(self, name: str, function):
        wall, cpu = time.perf_counter(), time.process_time()
        result = function()
        self.stages[name] = (time.perf_counter() - wall, time.process_time() - cpu)
        return result


# --------------------------------------------------------------------------- the fast path


def _fast(trace: bool) -> dict:
    from cossim import fit_factor_penalty, fit_product_penalty, item_similarity, regauge, top_spectrum, top_svd
    from cossim.metrics import cluster_metrics
    from cossim.simulate import simulate_clustered_interactions

    rss_after_imports = _rss_bytes()
    if trace:
        tracemalloc.start()
    clock = _Clock()

    data = clock.run("generate X", lambda: simulate_clustered_interactions(seed=SEED))
    X = data.X

    def fit_product():
        spectrum = top_spectrum(X, RANK)  # shared with fit (2), so its cost is counted here
        sigma = spectrum[0]
        symmetric = fit_product_penalty(X, RANK, LAM_PRODUCT, spectrum=spectrum)  # A = B = V_k dMat(s)^(1/2)
        s = sigma**2 / (sigma**2 + LAM_PRODUCT)
        gauges = (np.sqrt(s), 1.0 / np.sqrt(s), 1.0 / np.sqrt(sigma))  # B D^-1 = V_k, V_k s, V_k sqrt(sigma s)
        return [regauge(symmetric, d) for d in gauges], spectrum

    gauged, spectrum = clock.run("fit (1) + 3 gauges", fit_product)
    sigma = spectrum[0]
    factor = clock.run("fit (2)", lambda: fit_factor_penalty(X, RANK, LAM_FACTOR, spectrum=spectrum))
    cosines = clock.run(
        "5 cosine matrices",
        lambda: [data.true_similarity()] + [item_similarity(f) for f in gauged] + [item_similarity(factor)],
    )
    metrics = clock.run("5 x metrics", lambda: [cluster_metrics(S, data.clusters, NEIGHBOURS) for S in cosines])

    traced_peak = None
    if trace:
        traced_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    peak_rss = _rss_bytes()

    # Untimed extras: the cost of a full truncated SVD with U, and facts about X.
    start = time.perf_counter()
    top_svd(X, RANK)
    one_svd = time.perf_counter() - start
    return {
        "stages": clock.stages,
        "rss_after_imports": rss_after_imports,
        "peak_rss": peak_rss,
        "traced_peak": traced_peak,
        "one_top_svd": one_svd,
        "sigma": sigma.tolist(),
        "kept_by_objective_2": int(np.count_nonzero(np.any(factor.B != 0, axis=0))),
        "X": {
            "dtype": str(X.dtype),
            "nbytes": int(X.nbytes),
            "ones": int(data.activity.sum()),
            "mean_activity": float(data.activity.mean()),
            "median_activity": float(np.median(data.activity)),
            "empty_items": int(np.count_nonzero(X.sum(axis=0) == 0)),
            "cluster_sizes": data.cluster_sizes().tolist(),
            "exponents": data.exponents.round(3).tolist(),
        },
        "metrics": [
            {"within": m.within, "between": m.between, "auc": m.auc, "precision": m.precision,
             "undefined_pairs": m.n_undefined_pairs, "excluded_items": m.n_excluded_items}
            for m in metrics
        ],
    }


# --------------------------------------------------------------------------- the naive baseline


def _naive_metrics(S: np.ndarray, clusters: np.ndarray) -> dict:
    from scipy.stats import mannwhitneyu

    p = S.shape[0]
    i, j = np.triu_indices(p, 1)
    scores, same = S[i, j], clusters[i] == clusters[j]
    hits = 0
    for item in range(p):
        ranked = sorted((j for j in range(p) if j != item), key=lambda j: (-S[item, j], j))[:NEIGHBOURS]
        hits += sum(clusters[j] == clusters[item] for j in ranked)
    auc = mannwhitneyu(scores[same], scores[~same]).statistic / (same.sum() * (~same).sum())
    return {"within": float(scores[same].mean()), "between": float(scores[~same].mean()), "auc": float(auc),
            "precision": hits / (p * NEIGHBOURS)}


def _naive() -> dict:
    from cossim import cosine_similarity
    from cossim.simulate import simulate_clustered_interactions

    rss_after_imports = _rss_bytes()
    clock = _Clock()
    slow_data = clock.run("generate X", lambda: simulate_clustered_interactions(seed=SEED, sampling="loop"))
    # The remaining stages work on the fast path's X (untimed), so their results can be compared.
    data = simulate_clustered_interactions(seed=SEED)
    X = data.X.astype(np.float64)

    def fit_product():
        _, sigma, Vt = np.linalg.svd(X, full_matrices=False)
        V, sigma = Vt[:RANK].T, sigma[:RANK]
        s = sigma**2 / (sigma**2 + LAM_PRODUCT)
        return [V, V * s, V * np.sqrt(sigma * s)]

    gauged = clock.run("fit (1) + 3 gauges", fit_product)

    def fit_factor():
        _, sigma, Vt = np.linalg.svd(X, full_matrices=False)
        return Vt[:RANK].T * np.sqrt(np.maximum(sigma[:RANK] - LAM_FACTOR, 0.0))

    factor = clock.run("fit (2)", fit_factor)
    cosines = clock.run(
        "5 cosine matrices",
        lambda: [data.true_similarity()] + [cosine_similarity(B) for B in gauged] + [cosine_similarity(factor)],
    )
    metrics = clock.run("5 x metrics", lambda: [_naive_metrics(S, data.clusters) for S in cosines])

    # The loop sampler draws from the same p_ui: compare item frequencies with the fast X (untimed).
    fast_counts, slow_counts = data.X.sum(axis=0), slow_data.X.sum(axis=0)
    z = (fast_counts - slow_counts) / np.sqrt(fast_counts + slow_counts + 1.0)
    return {
        "stages": clock.stages,
        "rss_after_imports": rss_after_imports,
        "peak_rss": _rss_bytes(),
        "metrics": metrics,
        "same_activities": bool(np.array_equal(data.activity, slow_data.activity)),
        "item_frequency_max_z": float(np.max(np.abs(z))),
    }


# --------------------------------------------------------------------------- the report


def _child(mode: str, blas_threads: int | None) -> dict:
    command = [sys.executable, os.path.abspath(__file__), "--child", mode]
    environment = dict(os.environ)
    if blas_threads is not None:
        environment["OPENBLAS_NUM_THREADS"] = environment["OMP_NUM_THREADS"] = str(blas_threads)
    completed = subprocess.run(command, capture_output=True, text=True, check=True, env=environment)
    return json.loads(completed.stdout.strip().splitlines()[-1])


def _mb(value: float) -> str:
    return f"{value / 1e6:7.0f} MB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="fast-path runs, each in its own process")
    parser.add_argument(
        "--blas-threads",
        type=int,
        default=None,
        help="set OPENBLAS_NUM_THREADS and OMP_NUM_THREADS for the measured runs (default: inherit); "
        "on a busy shared machine 1 thread gives steadier timings than oversubscribed BLAS threads",
    )
    parser.add_argument("--child", choices=("fast", "fast-traced", "naive"), help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.repeats < 1:
        parser.error("--repeats must be >= 1")
    if arguments.child:
        result = {"fast": lambda: _fast(False), "fast-traced": lambda: _fast(True), "naive": _naive}[arguments.child]()
        print(json.dumps(result))
        return 0

    for variable in ("OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        print(f"{variable} = {os.environ.get(variable, '(unset)')}")
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"numpy {np.__version__}, cpus available: {len(os.sched_getaffinity(0))}, load average {load}")
    print(f"experiment: 20,000 x 1,000, k = {RANK}, lam (1) = {LAM_PRODUCT:g}, lam (2) = {LAM_FACTOR:g}, "
          f"seed {SEED}, precision@{NEIGHBOURS}")

    if arguments.blas_threads is not None:
        print(f"measured runs use OPENBLAS_NUM_THREADS = OMP_NUM_THREADS = {arguments.blas_threads} (--blas-threads)")
    fast_runs = [_child("fast", arguments.blas_threads) for _ in range(arguments.repeats)]
    traced = _child("fast-traced", arguments.blas_threads)
    naive = _child("naive", arguments.blas_threads)
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"load average after the runs: {load}")

    first = fast_runs[0]
    facts = first["X"]
    sigma = np.array(first["sigma"])
    print()
    print(f"X: {facts['dtype']}, {facts['nbytes'] / 1e6:.0f} MB, {facts['ones']:,} ones "
          f"(density {facts['ones'] / 2e7:.3f}), activity mean {facts['mean_activity']:.1f} "
          f"median {facts['median_activity']:.0f}, items never drawn: {facts['empty_items']}")
    print(f"   cluster sizes {facts['cluster_sizes']}, exponents beta_c {facts['exponents']}")
    print(f"singular values: sigma_1 = {sigma[0]:.0f}, sigma_2..5 = {np.round(sigma[1:5]).astype(int).tolist()}, "
          f"sigma_50 = {sigma[-1]:.1f}; {np.count_nonzero(sigma > 100)} of 50 exceed 100, "
          f"so objective (2) at lam = 100 keeps {first['kept_by_objective_2']} directions")

    print()
    print(f"{'stage':<22}{'fast wall (min-med-max)':>26}{'fast cpu':>10}"
          f"{'naive wall':>12}{'naive cpu':>11}{'naive/fast':>12}")
    totals = [sum(run["stages"][stage][0] for stage in STAGES) for run in fast_runs]
    for stage in STAGES:
        walls = [run["stages"][stage][0] for run in fast_runs]
        median = statistics.median(walls)
        naive_wall, naive_cpu = naive["stages"][stage]
        print(f"{stage:<22}{min(walls):8.3f} {median:7.3f} {max(walls):7.3f} s"
              f"{first['stages'][stage][1]:9.2f}s{naive_wall:11.2f}s{naive_cpu:10.2f}s{naive_wall / median:11.1f}x")
    naive_total = sum(naive["stages"][stage][0] for stage in STAGES)
    median_total = statistics.median(totals)
    speedup = naive_total / median_total
    print(f"{'total':<22}{min(totals):8.3f} {median_total:7.3f} {max(totals):7.3f} s{'':10}"
          f"{naive_total:11.2f}s{'':11}{speedup:11.1f}x")
    print(f"for comparison, one top_svd(X, 50) call with U: "
          f"{statistics.median(run['one_top_svd'] for run in fast_runs):.3f} s")

    print()
    print("memory (each run its own process):")
    peak_rss = max(run["peak_rss"] for run in fast_runs)
    print(f"  fast, ru_maxrss (whole process peak):          {_mb(peak_rss)}"
          f"   (after imports: {_mb(first['rss_after_imports'])})")
    print(f"  fast, tracemalloc peak (Python allocations):   {_mb(traced['traced_peak'])}")
    print(f"  naive, ru_maxrss (whole process peak):         {_mb(naive['peak_rss'])}"
          f"   (after imports: {_mb(naive['rss_after_imports'])})")

    print()
    print(f"{'panel':<30}{'within':>8}{'between':>9}{'AUC':>8}{'P@10':>7}{'NaN pairs':>11}   |fast - naive| max")
    differences = []
    for name, fast_metrics, naive_metrics in zip(PANELS, first["metrics"], naive["metrics"]):
        difference = max(
            abs(fast_metrics[key] - naive_metrics[key]) for key in ("within", "between", "auc", "precision")
        )
        differences.append(difference)
        print(f"{name:<30}{fast_metrics['within']:8.3f}{fast_metrics['between']:9.3f}{fast_metrics['auc']:8.3f}"
              f"{fast_metrics['precision']:7.3f}{fast_metrics['undefined_pairs']:11d}   {difference:.1e}")
    print(f"loop sampler: same activities {naive['same_activities']}, item frequencies vs the fast X: "
          f"max |z| = {naive['item_frequency_max_z']:.2f} (1,000 items)")

    print()
    checks = [
        (f"fast experiment < {TARGET_SECONDS:g} s (median {median_total:.2f} s, "
         f"range {min(totals):.2f}-{max(totals):.2f} s)", median_total < TARGET_SECONDS),
        (f"speed-up >= {TARGET_SPEEDUP:g}x (naive {naive_total:.1f} s / fast median {median_total:.2f} s = "
         f"{speedup:.1f}x)", speedup >= TARGET_SPEEDUP),
        (f"peak memory < 1 GB (ru_maxrss {peak_rss / 1e6:.0f} MB, tracemalloc {traced['traced_peak'] / 1e6:.0f} MB)",
         peak_rss < TARGET_BYTES and traced["traced_peak"] < TARGET_BYTES),
        (f"fast and naive metrics agree (max difference {max(differences):.1e} < 1e-6)", max(differences) < 1e-6),
    ]
    for label, met in checks:
        print(f"{'PASS' if met else 'MISS'}  {label}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
