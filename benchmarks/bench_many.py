"""measure_many over many NWB files: 1 against 2 workers, and the per-file overhead of the batch.

Usage: python benchmarks/bench_many.py [--files 16] [--units 100] [--minutes 20] [--workers 1 2]

Generates ``--files`` sessions (``--units`` units, ``--minutes`` minutes, about 5 spikes/s per
unit) with pynwb in a temporary folder, then, in the same run:

- ``measure_many`` (effective dimension, activation ratio, pattern entropy; 10 ms bins) on a
  LocalCluster of each number of workers (one thread each); the cluster start is timed apart;
- the same sessions one after the other with ``measure_stream`` in this process (no dask);
- the per-file overhead: ``measure_many`` on ``--files`` tiny sessions (4 units, 10 s) on one
  worker, divided by the number of files, against ``measure_stream`` on the same files.

Writes benchmarks/scaling_workers.png (time against number of workers, with the ideal line).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MEASURES = ["effective_dimension", "activation_ratio", "pattern_entropy"]


def _write(folder: Path, n_files: int, units: int, minutes: float) -> list[Path]:
    sys.path.insert(0, str(ROOT))
    from tests._sessions import write_session

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n_files):
        path = folder / f"sub-{i:02d}.nwb"
        write_session(path, n_units=units, duration=minutes * 60.0, rate=5.0, seed=i)
        paths.append(path)
    return paths


def _timed_many(paths: list[Path], workers: int, **kw: object) -> tuple[float, float, object]:
    from dask.distributed import Client, LocalCluster

    import neurocomplex as nc

    t0 = time.perf_counter()
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        client.wait_for_workers(workers)
        started = time.perf_counter() - t0
        t1 = time.perf_counter()
        table = nc.measure_many(paths, MEASURES, bin_size=0.01, client=client, progress=False, **kw)
        return started, time.perf_counter() - t1, table


def _timed_sequential(paths: list[Path], **kw: object) -> tuple[float, object]:
    import pandas as pd

    from neurocomplex.batch import measure_stream

    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tables = [measure_stream(p, MEASURES, bin_size=0.01, **kw) for p in paths]
    return time.perf_counter() - t0, pd.concat(tables, ignore_index=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=16)
    ap.add_argument("--units", type=int, default=100)
    ap.add_argument("--minutes", type=float, default=20.0)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = ap.parse_args()
    import numpy as np

    with tempfile.TemporaryDirectory() as tmp:
        paths = _write(Path(tmp) / "study", args.files, args.units, args.minutes)
        print(f"load average before: {os.getloadavg()[0]:.2f} (other processes on the {os.cpu_count()} cores)")
        print(f"{args.files} sessions of {args.units} units x {args.minutes:g} min (10 ms bins: "
              f"{round(args.minutes * 6000):,} x {args.units}), measures {MEASURES}, n_boot=100")
        seq, ref = _timed_sequential(paths, n_boot=100)
        print(f"  in this process, one after the other (measure_stream): {seq:6.1f} s")
        times = {}
        for w in args.workers:
            start, took, table = _timed_many(paths, w, n_boot=100)
            times[w] = took
            same = np.array_equal(table.value.to_numpy(), ref.value.to_numpy())
            print(f"  measure_many, {w} worker(s): {took:6.1f} s (+ {start:.1f} s cluster start); same values: {same}")
        base = times[min(times)]
        for w, t in times.items():
            print(f"    speed-up with {w} worker(s): {base / t:.2f}x")
        print(f"  one worker against in-process: {times[min(times)] / seq:.2f}x the time")
        tiny = _write(Path(tmp) / "tiny", args.files, 4, 10 / 60)
        seq_tiny, _ = _timed_sequential(tiny, n_boot=0)
        _, many_tiny, _ = _timed_many(tiny, 1, n_boot=0)
        print(f"  per-file overhead ({args.files} tiny files, 1 worker): measure_many {many_tiny / args.files * 1e3:.0f} ms "
              f"per file, measure_stream {seq_tiny / args.files * 1e3:.0f} ms per file")
        print(f"load average after: {os.getloadavg()[0]:.2f}")
        _figure(times, seq, args)


def _figure(times: dict[int, float], seq: float, args: argparse.Namespace) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    workers = sorted(times)
    fig, ax = plt.subplots(figsize=(5, 3.6))
    ax.plot(workers, [times[w] for w in workers], "o-", label="measure_many (LocalCluster)")
    ax.plot(workers, [times[workers[0]] * workers[0] / w for w in workers], "k:", label="ideal")
    ax.axhline(seq, color="gray", ls="--", label="one after the other, no dask")
    ax.set_xticks(workers)
    ax.set_xlabel("dask workers (1 thread each; 2-core machine)")
    ax.set_ylabel("time (s)")
    ax.set_title(f"{args.files} sessions, {args.units} units x {args.minutes:g} min")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8)
    fig.tight_layout()
    out = ROOT / "benchmarks" / "scaling_workers.png"
    fig.savefig(out, dpi=120)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
