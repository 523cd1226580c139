"""measure_many against a plain loop of nc.load + nc.measure: the same table, on 1 and 2 workers.

Usage: python benchmarks/bench_many.py [--files 8] [--units 100] [--minutes 66] [--repeats 2] [--threads 1]

Generates ``--files`` sessions (``--units`` units, ``--minutes`` minutes, about 5 spikes/s per
unit: 2 M spikes a file at the defaults) with pynwb in a temporary folder, then, in the same run,
round-robin, ``--repeats`` times (the minimum is reported, and the ratio of each round):

- the peer: a serial loop ``nc.measure(nc.load(path, bin_size=0.01), MEASURES)`` in this process;
- ``nc.measure_many(paths, MEASURES, bin_size=0.01)`` on the LocalCluster it starts itself
  (``neurocomplex.batch._many.local_cluster``: worker processes of one thread each) of 1 and of 2
  workers, started once before the rounds and timed apart;
- all default calls (intervals included); the tables are checked equal to the loop's, values and
  intervals.

Then, once: the default call as a user writes it (``workers=2``, its own cluster start included),
and the per-file overhead on ``--files`` tiny sessions (4 units, 10 s, ``n_boot=0``).

dask runs its workers with single-threaded BLAS (``OPENBLAS_NUM_THREADS=1``); the loop runs in
this process with ``--threads`` BLAS threads (default 1, the same as the workers; 0 leaves the
library's default). On a shared, busy machine threaded BLAS spins and its timings are noise.
``--dask-malloc`` starts the clusters with dask's default ``MALLOC_TRIM_THRESHOLD_`` instead (for
the comparison in RESULTS.md).
Writes benchmarks/scaling_workers.png.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings
from contextlib import nullcontext
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MEASURES = ["effective_dimension", "activation_ratio", "pattern_entropy"]
_SAME = ["session", "group", "measure", "n_samples", "n_units", "method"]
_DASK_MALLOC = False


def _write(folder: Path, n_files: int, units: int, minutes: float) -> tuple[list[Path], int]:
    sys.path.insert(0, str(ROOT))
    from tests._sessions import write_session

    folder.mkdir(parents=True, exist_ok=True)
    paths, spikes = [], 0
    for i in range(n_files):
        path = folder / f"sub-{i:02d}.nwb"
        spikes += write_session(path, n_units=units, duration=minutes * 60.0, rate=5.0, seed=i)
        paths.append(path)
    return paths, spikes


def _loop(paths: list[Path], **kw: object) -> object:
    import pandas as pd

    import neurocomplex as nc

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tables = [nc.measure(nc.load(p, bin_size=0.01), MEASURES, progress=False, **kw).assign(session=p.stem)
                  for p in paths]
    return pd.concat(tables, ignore_index=True)


def _many(paths: list[Path], client: object, **kw: object) -> object:
    import neurocomplex as nc

    return nc.measure_many(paths, MEASURES, bin_size=0.01, client=client, progress=False, **kw)


def _compare(table: object, ref: object) -> str:
    """Largest relative difference of values and interval ends against the loop's table."""
    if table[_SAME].values.tolist() != ref[_SAME].values.tolist():
        return "DIFFERENT ROWS"
    worst = 0.0
    for col in ("value", "ci_low", "ci_high"):
        a, b = table[col].to_numpy(float), ref[col].to_numpy(float)
        if not np.array_equal(np.isnan(a), np.isnan(b)):
            return f"{col}: missing in one table"
        ok = ~np.isnan(a)
        worst = max(worst, float(np.max(np.abs(a[ok] - b[ok]) / np.maximum(np.abs(b[ok]), 1e-300), initial=0.0)))
    return f"values and intervals equal to {worst:.1e} relative"


def _cluster(workers: int, warm: list[Path]) -> tuple[object, object, float, float]:
    """The LocalCluster measure_many starts, its start time, and the time of a first call on tiny files
    (the imports in each worker)."""
    from dask.distributed import Client

    from neurocomplex.batch._many import local_cluster

    t0 = time.perf_counter()
    if _DASK_MALLOC:
        from dask.distributed import LocalCluster

        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0")
    else:
        cluster = local_cluster(workers)
    client = Client(cluster)
    client.wait_for_workers(workers)
    started = time.perf_counter() - t0
    t0 = time.perf_counter()
    _many(warm, client, n_boot=0)
    return cluster, client, started, time.perf_counter() - t0


def _blas(threads: int) -> object:
    import scipy.linalg  # noqa: F401  (load every BLAS before limiting them)
    from threadpoolctl import threadpool_info, threadpool_limits

    info = sorted({(i["internal_api"], i.get("version"), i["num_threads"]) for i in threadpool_info()
                   if i["user_api"] == "blas"})
    print(f"BLAS in this process: {info}; loop limited to {threads or 'the default number of'} thread(s); "
          "dask workers: OPENBLAS_NUM_THREADS=1")
    return threadpool_limits(threads, user_api="blas") if threads else nullcontext()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=8)
    ap.add_argument("--units", type=int, default=100)
    ap.add_argument("--minutes", type=float, default=66.0)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1, help="BLAS threads of the loop (0: the library's default)")
    ap.add_argument("--no-figure", action="store_true")
    ap.add_argument("--dask-malloc", action="store_true", help="workers with dask's MALLOC_TRIM_THRESHOLD_")
    args = ap.parse_args()
    global _DASK_MALLOC
    _DASK_MALLOC = args.dask_malloc

    with tempfile.TemporaryDirectory() as tmp, _blas(args.threads):
        paths, spikes = _write(Path(tmp) / "study", args.files, args.units, args.minutes)
        tiny, _ = _write(Path(tmp) / "tiny", args.files, 4, 10 / 60)
        _loop(tiny[:1], n_boot=0)  # imports in this process
        print(f"load average before: {os.getloadavg()[0]:.2f} (other processes share the {os.cpu_count()} cores)")
        print(f"{args.files} sessions of {args.units} units x {args.minutes:g} min ({spikes / args.files / 1e6:.2f} M "
              f"spikes each; 10 ms bins: {round(args.minutes * 6000):,} x {args.units}), measures {MEASURES}, "
              "default parameters (intervals included)")
        clusters = {w: _cluster(w, tiny[:w]) for w in (1, 2)}
        print("  cluster start (then a first call on tiny files: the imports in each worker): " + ", ".join(
            f"{w} worker(s) {c[2]:.1f} s (+ {c[3]:.1f} s)" for w, c in clusters.items()))
        runs = {"loop": lambda: _loop(paths), 1: lambda: _many(paths, clusters[1][1]),
                2: lambda: _many(paths, clusters[2][1])}
        times: dict[object, list[float]] = {k: [] for k in runs}
        tables: dict[object, object] = {}
        for r in range(args.repeats):
            for key, run in runs.items():
                t0 = time.perf_counter()
                tables[key] = run()
                times[key].append(time.perf_counter() - t0)
            print(f"  round {r + 1}: loop {times['loop'][-1]:.1f} s, measure_many 1 worker {times[1][-1]:.1f} s, "
                  f"2 workers {times[2][-1]:.1f} s; 1 worker / loop {times[1][-1] / times['loop'][-1]:.2f}, "
                  f"loop / 2 workers {times['loop'][-1] / times[2][-1]:.2f}")
        best = {k: min(v) for k, v in times.items()}
        print(f"  best of {args.repeats}: loop (nc.load + nc.measure) {best['loop']:.1f} s; measure_many 1 worker "
              f"{best[1]:.1f} s ({best[1] / best['loop']:.2f}x the loop); 2 workers {best[2]:.1f} s "
              f"({best['loop'] / best[2]:.2f}x faster than the loop, {best[1] / best[2]:.2f}x faster than 1 worker)")
        for w in (1, 2):
            print(f"  measure_many, {w} worker(s): {_compare(tables[w], tables['loop'])}")
        for cluster, client, *_ in clusters.values():
            client.close()
            cluster.close()

        import neurocomplex as nc

        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nc.measure_many(paths, MEASURES, bin_size=0.01, workers=2, progress=False)
        print(f"  the default call as written, nc.measure_many(paths, MEASURES, bin_size=0.01, workers=2), its "
              f"cluster start included: {time.perf_counter() - t0:.1f} s")

        cluster, client, *_ = _cluster(1, tiny[:1])
        t0 = time.perf_counter()
        _loop(tiny, n_boot=0)
        loop_tiny = time.perf_counter() - t0
        t0 = time.perf_counter()
        _many(tiny, client, n_boot=0)
        many_tiny = time.perf_counter() - t0
        client.close()
        cluster.close()
        print(f"  per-file time, {args.files} tiny sessions (4 units x 10 s, n_boot=0), 1 worker started and "
              f"warmed: measure_many {many_tiny / args.files * 1e3:.0f} ms, loop {loop_tiny / args.files * 1e3:.0f} ms")
        print(f"load average after: {os.getloadavg()[0]:.2f}")
        if not args.no_figure:
            _figure(best, args)


def _figure(best: dict[object, float], args: argparse.Namespace) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.6))
    ax.plot([1, 2], [best[1], best[2]], "o-", label="measure_many (LocalCluster)")
    ax.plot([1, 2], [best[1], best[1] / 2], "k:", label="ideal")
    ax.axhline(best["loop"], color="gray", ls="--", label="loop: nc.load + nc.measure")
    ax.set_xticks([1, 2])
    ax.set_xlabel("dask workers (1 thread each; shared 2-core machine)")
    ax.set_ylabel("time (s)")
    ax.set_title(f"{args.files} sessions, {args.units} units x {args.minutes:g} min, default intervals", fontsize=9)
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8)
    fig.tight_layout()
    out = ROOT / "benchmarks" / "scaling_workers.png"
    fig.savefig(out, dpi=120)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
