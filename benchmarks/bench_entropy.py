"""Pattern entropy against ``np.unique(B, axis=0, return_counts=True)`` on the same binary array.

Run: ``.venv/bin/python benchmarks/bench_entropy.py`` (prints times and ratios; numbers in
benchmarks/RESULTS_entropy.md). Data: independent Bernoulli units, rates uniform in [0.01, 0.2].
"""

from __future__ import annotations

import time

import numpy as np

import neurocomplex as nc


def _best(func, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        func()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    rng = np.random.default_rng(0)
    n_samples = 10**6
    for n_units, unique_too in ((32, True), (200, False)):
        p = rng.uniform(0.01, 0.2, n_units)
        data = (rng.random((n_samples, n_units)) < p).astype(np.uint8)
        rec = nc.Recording.from_array(data, kind="binary")
        line = f"{n_samples:.0e} samples x {n_units} units:"
        t_plugin = _best(lambda r=rec: nc.pattern_entropy(r, method="plugin", n_boot=0), 3)
        t_nsb = _best(lambda r=rec: nc.pattern_entropy(r, method="nsb", n_boot=0), 3)
        line += f" plugin {t_plugin:.3f} s, nsb {t_nsb:.3f} s"
        if unique_too:
            t_unique = _best(lambda d=data: np.unique(d, axis=0, return_counts=True), 1)
            line += (f", np.unique(axis=0) {t_unique:.3f} s; speed-up plugin {t_unique / t_plugin:.0f}x, "
                     f"nsb {t_unique / t_nsb:.0f}x")
        print(line, flush=True)
    # Bootstrap cost (200 replicates) on a typical recording size.
    p = rng.uniform(0.01, 0.2, 32)
    rec = nc.Recording.from_array((rng.random((10**5, 32)) < p).astype(np.uint8), kind="binary")
    t_boot = _best(lambda: nc.pattern_entropy(rec, method="plugin", n_boot=200), 1)
    print(f"1e+05 samples x 32 units, plugin with n_boot=200: {t_boot:.3f} s")


if __name__ == "__main__":
    main()
