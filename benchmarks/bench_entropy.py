"""Pattern entropy with its interval against the same call without it and against ``np.unique``.

Run: ``.venv/bin/python benchmarks/bench_entropy.py`` (prints times and same-run ratios; numbers in
benchmarks/RESULTS_entropy.md). Data: 10^6 samples of 32 independent Bernoulli units, rates uniform
in [0.01, 0.2]; then 32 units at p = 0.1 (true entropy 15.0 bits) for the interval report.
The default call (``n_boot=200``) is timed first, the interval-free call (``n_boot=0``) second.
``--coverage`` instead measures how often the default intervals cover the true entropy (independent
units, rates uniform in [0.05, 0.5], 40 draws per case).
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np

import neurocomplex as nc
from neurocomplex.measures.entropy import pattern_entropy_from_blocks
from neurocomplex.stats import WordCounts


def _best(func, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        func()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    warnings.simplefilter("ignore", nc.NeurocomplexWarning)
    rng = np.random.default_rng(0)
    n_samples, n_units = 10**6, 32
    p = rng.uniform(0.01, 0.2, n_units)
    data = (rng.random((n_samples, n_units)) < p).astype(np.uint8)
    rec = nc.Recording.from_array(data, kind="binary")
    print(f"{n_samples:.0e} x {n_units} binary, rates U[0.01, 0.2]: "
          f"{nc.pattern_entropy(rec, method='plugin', n_boot=0).diagnostics['n_distinct']} distinct words")
    timings = {}
    for method in ("plugin", "nsb"):
        # Interleaved (default first, then n_boot=0), best of 7 each: the ratio is robust to load.
        t_default, t_free = np.inf, np.inf
        for _ in range(7):
            t_default = min(t_default, _best(lambda m=method: nc.pattern_entropy(rec, method=m), 1))
            t_free = min(t_free, _best(lambda m=method: nc.pattern_entropy(rec, method=m, n_boot=0), 1))
        timings[method] = t_default
        print(f"  pattern_entropy {method:6s} default (n_boot=200) {t_default:.3f} s, n_boot=0 {t_free:.3f} s, "
              f"ratio {t_default / t_free:.2f}x", flush=True)
    for method in ("plugin", "nsb"):
        t_block = _best(lambda m=method: nc.pattern_entropy(rec, method=m, block_size=1000), 1)
        print(f"  pattern_entropy {method:6s} block_size=1000 (block bootstrap) {t_block:.3f} s", flush=True)
    t_unit = _best(lambda: nc.unit_entropy(rec), 1)
    t_unit_free = _best(lambda: nc.unit_entropy(rec, n_boot=0), 3)
    print(f"  unit_entropy default {t_unit:.3f} s, n_boot=0 {t_unit_free:.3f} s, ratio {t_unit / t_unit_free:.0f}x "
          "(replicates need each word's count)", flush=True)
    blocks = []
    for start in range(0, n_samples, 10_000):
        wc = WordCounts(n_units)
        wc.update(data[start : start + 10_000])
        blocks.append(wc)
    t_from = _best(lambda: pattern_entropy_from_blocks(blocks, method="plugin"), 1)
    print(f"  pattern_entropy_from_blocks plugin, 100 blocks of 10^4 samples: {t_from:.3f} s")
    t_unique = _best(lambda: np.unique(data, axis=0, return_counts=True), 1)
    print(f"  np.unique(B, axis=0, return_counts=True) {t_unique:.3f} s; default call faster by "
          f"plugin {t_unique / timings['plugin']:.0f}x, nsb {t_unique / timings['nsb']:.0f}x", flush=True)

    # The interval of a biased estimator: 32 independent units at p = 0.1.
    h = -(0.1 * np.log2(0.1) + 0.9 * np.log2(0.9))
    rec = nc.Recording.from_array((rng.random((n_samples, n_units)) < 0.1).astype(np.uint8), kind="binary")
    print(f"{n_samples:.0e} x {n_units} binary at p = 0.1, true entropy {n_units * h:.2f} bits:")
    for method in ("plugin", "nsb"):
        est = nc.pattern_entropy(rec, method=method)
        d = est.diagnostics
        pct = d.get("percentile_ci")
        extra = "" if pct is None else f", percentile ({pct[0]:.2f}, {pct[1]:.2f}), bootstrap bias {d['bias']:+.3f}"
        print(f"  {method:6s} {est.value:.2f} bits, {d['interval']} interval ({est.ci[0]:.2f}, {est.ci[1]:.2f})"
              f"{extra}; warnings: {' | '.join(est.warnings) or 'none'}")


def coverage(n_draws: int = 40) -> None:
    """Fraction of draws whose default interval covers the truth, and whose basic interval warns."""
    warnings.simplefilter("ignore", nc.NeurocomplexWarning)
    rng = np.random.default_rng(1)
    print("units x samples | plugin cover (warned) | miller_madow cover (warned) | nsb cover")
    for n_units, n_samples in ((6, 2000), (8, 2000), (10, 1000), (12, 2000), (16, 1000), (16, 100_000)):
        hits = {"plugin": 0, "miller_madow": 0, "nsb": 0}
        warned = {"plugin": 0, "miller_madow": 0, "nsb": 0}
        for d in range(n_draws):
            p = rng.uniform(0.05, 0.5, n_units)
            truth = float(-(p * np.log2(p) + (1 - p) * np.log2(1 - p)).sum())
            data = (rng.random((n_samples, n_units)) < p).astype(np.uint8)
            rec = nc.Recording.from_array(data, kind="binary")
            for m in hits:
                est = nc.pattern_entropy(rec, method=m, seed=d)
                hits[m] += est.ci[0] <= truth <= est.ci[1]
                warned[m] += bool(est.warnings)
        print(f"{n_units} x {n_samples} | " + " | ".join(
            f"{100 * hits[m] / n_draws:.0f}%" + ("" if m == "nsb" else f" ({100 * warned[m] / n_draws:.0f}%)")
            for m in hits), flush=True)


if __name__ == "__main__":
    coverage() if "--coverage" in sys.argv else main()
