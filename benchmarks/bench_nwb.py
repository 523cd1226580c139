"""Loading spike counts from an NWB file: nc.load vs pynwb + np.histogram, in the same run.

Usage: python benchmarks/bench_nwb.py [FILE.nwb] (default: the real human MTL recording in
../shared/data, if present). Prints the best-of-5 times and their ratio, and checks that both give
the same counts.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

import neurocomplex as nc

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "human_mtl_rutishauser_sub-4_ses-4.nwb"


def _pynwb_counts(path: Path, bin_size: float, t_start: float, t_stop: float) -> np.ndarray:
    from pynwb import NWBHDF5IO

    with NWBHDF5IO(str(path), "r") as io:
        units = io.read().units
        edges = t_start + np.arange(round((t_stop - t_start) / bin_size) + 1) * bin_size
        return np.stack([np.histogram(units.get_unit_spike_times(i), edges)[0] for i in range(len(units))], axis=1)


def _best(func, repeats: int = 5) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = func()
        times.append(time.perf_counter() - t)
    return min(times), out


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    if not path.exists():
        sys.exit(f"no NWB file at {path}")
    bin_size = 0.01
    rec = nc.load(path, bin_size=bin_size)
    t0, t1 = rec.times[0], rec.times[0] + rec.n_samples * bin_size
    for label, (a, b) in {"whole file": (t0, t1), "100 s window": (t0 + 100.0, t0 + 200.0)}.items():
        t_nc, ours = _best(lambda a=a, b=b: nc.load(path, bin_size=bin_size, t_start=a, t_stop=b))
        t_py, theirs = _best(lambda a=a, b=b: _pynwb_counts(path, bin_size, a, b))
        same = ours.data.sum() == theirs.sum()
        print(f"{label}: nc.load {t_nc * 1e3:.0f} ms, pynwb + histogram {t_py * 1e3:.0f} ms, "
              f"ratio {t_py / t_nc:.1f}x, same total count: {same}")


if __name__ == "__main__":
    main()
