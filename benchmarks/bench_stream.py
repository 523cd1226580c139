"""Streaming effective dimension of a long NWB session: time and peak memory against the peers.

Usage: python benchmarks/bench_stream.py [--hours 2] [--units 500] [--bin-size 0.025] [--lengths 0.25 0.5 1 2]

A session of ``--units`` units and ``--hours`` hours (about 2.8 spikes/s per unit: 10**7 spikes
for 2 h x 500 units) is generated with pynwb in a temporary folder. Each path runs in its own
subprocess, whose peak resident memory above its baseline (after imports) is read from
/proc/self/status (VmHWM, reset at the baseline):

- streamed: ``measure_stream(path, ["effective_dimension"], n_boot=0)`` (neurocomplex.batch);
- in memory: ``nc.effective_dimension(nc.load(path, bin_size), n_boot=0)``;
- pynapple + numpy: spike times read with h5py into a ``TsGroup``, ``TsGroup.count(bin_size)``,
  ``np.cov`` and ``np.linalg.eigvalsh``, then exp(spectral entropy).

The three values are compared. With ``--lengths`` the streamed and in-memory paths also run on
sessions of those lengths (hours) and the figure benchmarks/scaling_memory.png (peak memory against
session length) is written.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_PRELUDE = """
import json, sys, time
import numpy as np, h5py, scipy.linalg, pandas, psutil
import neurocomplex as nc, neurocomplex.batch, neurocomplex.io.stream, neurocomplex.measures.dimension
import neurocomplex.comparison.table


def high_water():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024


base = psutil.Process().memory_info().rss
open("/proc/self/clear_refs", "w").write("5")
path, bin_size = sys.argv[1], float(sys.argv[2])
t0 = time.perf_counter()
"""

_CODE = {
    "streamed": """
value = float(neurocomplex.batch.measure_stream(path, ["effective_dimension"], by=None, bin_size=bin_size,
                                                n_boot=0).value.iloc[0])
""",
    "in memory": """
value = float(nc.effective_dimension(nc.load(path, bin_size=bin_size), n_boot=0).value)
""",
    "pynapple + numpy": """
import pynapple as nap
with h5py.File(path, "r") as f:
    times = f["units/spike_times"][()]
    stops = f["units/spike_times_index"][()]
starts = np.concatenate(([0], stops[:-1]))
group = nap.TsGroup({i: nap.Ts(times[a:b]) for i, (a, b) in enumerate(zip(starts, stops))})
del times
counts = np.asarray(group.count(bin_size))
lam = np.clip(np.linalg.eigvalsh(np.cov(counts.T)), 0, None)
p = lam / lam.sum()
p = p[p > 0]
value = float(np.exp(-(p * np.log(p)).sum()))
""",
}

_EPILOGUE = """
print(json.dumps({"seconds": time.perf_counter() - t0, "peak_mib": (high_water() - base) / 2**20, "value": value}))
"""


def _run(which: str, path: Path, bin_size: float) -> dict[str, float]:
    code = _PRELUDE + _CODE[which] + _EPILOGUE
    done = subprocess.run([sys.executable, "-c", code, str(path), str(bin_size)], capture_output=True, text=True,
                          cwd=ROOT, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{which} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _session(folder: Path, hours: float, units: int) -> tuple[Path, int]:
    sys.path.insert(0, str(ROOT))
    from tests._sessions import write_session

    path = folder / f"session_{hours:g}h.nwb"
    n = write_session(path, n_units=units, duration=hours * 3600.0, rate=2.8, seed=0)
    return path, n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, default=2.0)
    ap.add_argument("--units", type=int, default=500)
    ap.add_argument("--bin-size", type=float, default=0.025)
    ap.add_argument("--lengths", type=float, nargs="*", default=[])
    ap.add_argument("--no-pynapple", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path, n_spikes = _session(Path(tmp), args.hours, args.units)
        n_bins = round(args.hours * 3600 / args.bin_size)
        print(f"session: {args.hours:g} h, {args.units} units, {n_spikes:,} spikes, {args.bin_size:g} s bins "
              f"({n_bins:,} x {args.units}; float64 matrix {n_bins * args.units * 8 / 2**20:,.0f} MiB)")
        results = {}
        for which in ["streamed", "in memory"] + ([] if args.no_pynapple else ["pynapple + numpy"]):
            results[which] = r = _run(which, path, args.bin_size)
            print(f"  {which:17s} {r['seconds']:7.1f} s  peak {r['peak_mib']:8.1f} MiB above baseline  D = {r['value']:.6f}")
        s = results["streamed"]
        for which, r in results.items():
            if which != "streamed":
                print(f"  streamed vs {which}: time {s['seconds'] / r['seconds']:.2f}x, memory "
                      f"{r['peak_mib'] / s['peak_mib']:.1f}x less, |dD|/D = {abs(s['value'] - r['value']) / r['value']:.1e}")
        if args.lengths:
            rows = []
            for hours in args.lengths:
                p, n = (path, n_spikes) if hours == args.hours else _session(Path(tmp), hours, args.units)
                st = results["streamed"] if hours == args.hours else _run("streamed", p, args.bin_size)
                mem = results["in memory"] if hours == args.hours else _run("in memory", p, args.bin_size)
                rows.append((hours, n, st["peak_mib"], mem["peak_mib"], st["seconds"], mem["seconds"]))
                print(f"  {hours:5g} h ({n:>11,} spikes): streamed {st['peak_mib']:7.1f} MiB {st['seconds']:6.1f} s | "
                      f"in memory {mem['peak_mib']:7.1f} MiB {mem['seconds']:6.1f} s")
            _figure(rows, args)


def _figure(rows: list[tuple[float, int, float, float, float, float]], args: argparse.Namespace) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    hours = [r[0] for r in rows]
    fig, ax = plt.subplots(figsize=(5, 3.6))
    ax.plot(hours, [r[2] for r in rows], "o-", label="streamed (measure_stream)")
    ax.plot(hours, [r[3] for r in rows], "s-", label="in memory (nc.load + effective_dimension)")
    ax.set_xlabel("session length (hours)")
    ax.set_ylabel("peak memory above baseline (MiB)")
    ax.set_title(f"effective dimension, {args.units} units, {args.bin_size:g} s bins")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8)
    fig.tight_layout()
    out = ROOT / "benchmarks" / "scaling_memory.png"
    fig.savefig(out, dpi=120)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
