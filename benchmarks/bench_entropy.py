"""Pattern entropy (default call first) against the word-counting floor ``np.packbits`` + 1-D
``np.unique``, measured in the same run, and against the same call without an interval.

Run: ``.venv/bin/python benchmarks/bench_entropy.py [--threads 1]`` (prints times and same-run
ratios; numbers in benchmarks/RESULTS_entropy.md). Data: 10^6 samples of independent Bernoulli
units, rates uniform in [0.01, 0.2], 32 units (the floor: bytes of ``packbits`` viewed as one uint32
per row, then ``np.unique(..., return_counts=True)``), 64 units (uint64 per row) and 128 units
(where the floor is ``np.unique`` of the two-uint64 rows with ``axis=0``); then 32 units at
p = 0.1 (true entropy 15.0 bits) for the interval report. Calls run round-robin (default call
first), best of 7; the ratio column is the best time over the floor's best time.
``--coverage`` instead measures how often the default intervals cover the true entropy
(independent units, rates uniform in [0.05, 0.5], 40 draws per case); ``--words`` times
``unit_entropy``'s default call against its ``n_boot=0`` call on data whose samples are nearly
all distinct words (Poisson counts 100,000 x 40 and 200,000 x 50, binary 20,000 x 100).
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
from _timing import best_times

import neurocomplex as nc
from neurocomplex.measures.entropy import pattern_entropy_from_blocks
from neurocomplex.stats import WordCounts, count_words


def _floor(data: np.ndarray):
    """Counting at the floor: packbits, then one integer per row (or rows of uint64) and np.unique."""
    packed = np.packbits(data, axis=1, bitorder="little")
    n_bytes = packed.shape[1]
    if n_bytes in (1, 2, 4, 8):
        return np.unique(packed.view(f"<u{n_bytes}")[:, 0], return_counts=True)
    return np.unique(packed.view("<u8"), axis=0, return_counts=True)


def _speed(n_samples: int, n_units: int, rng: np.random.Generator) -> None:
    data = (rng.random((n_samples, n_units)) < rng.uniform(0.01, 0.2, n_units)).astype(np.uint8)
    rec = nc.Recording.from_array(data, kind="binary")
    k = nc.pattern_entropy(rec, method="plugin", n_boot=0).diagnostics["n_distinct"]
    calls = {
        "pattern_entropy(rec) (default: NSB, posterior interval)": lambda: nc.pattern_entropy(rec),
        "pattern_entropy(rec, method='plugin') (basic bootstrap interval, 200 replicates)":
            lambda: nc.pattern_entropy(rec, method="plugin"),
        "pattern_entropy(rec, method='plugin', n_boot=0)": lambda: nc.pattern_entropy(rec, method="plugin", n_boot=0),
        "count_words(B)": lambda: count_words(data),
        "count_words(B, return_inverse=True)": lambda: count_words(data, return_inverse=True),
        "floor: packbits + np.unique": lambda: _floor(data),
    }
    times = best_times(list(calls.values()), 7)
    floor = times[-1]
    print(f"\n{n_samples:.0e} x {n_units} binary, rates U[0.01, 0.2]: {k} distinct words")
    print("| call | best time | / floor |\n|---|---|---|")
    for (name, _f), t in zip(calls.items(), times, strict=True):
        print(f"| `{name}` | {t * 1e3:.1f} ms | {t / floor:.2f}x |", flush=True)


def main() -> None:
    warnings.simplefilter("ignore", nc.NeurocomplexWarning)
    threads = int(sys.argv[sys.argv.index("--threads") + 1]) if "--threads" in sys.argv else None
    from threadpoolctl import threadpool_info, threadpool_limits

    with threadpool_limits(limits=threads, user_api="blas"):
        blas = sorted({(i["internal_api"], i.get("version"), i["num_threads"]) for i in threadpool_info()
                       if i["user_api"] == "blas"})
        print(f"BLAS: {blas}; numpy {np.__version__}")
        rng = np.random.default_rng(0)
        for n_units in (32, 64, 128):
            _speed(10**6, n_units, rng)
        _others(rng)


def _others(rng: np.random.Generator) -> None:
    n_samples, n_units = 10**6, 32
    data = (rng.random((n_samples, n_units)) < rng.uniform(0.01, 0.2, n_units)).astype(np.uint8)
    rec = nc.Recording.from_array(data, kind="binary")
    print()
    for method in ("plugin", "nsb"):
        (t_block,) = best_times([lambda m=method: nc.pattern_entropy(rec, method=m, block_size=1000)], 1)
        print(f"  pattern_entropy {method:6s} block_size=1000 (block bootstrap) {t_block:.3f} s", flush=True)
    t_unit, t_unit_free = best_times([lambda: nc.unit_entropy(rec), lambda: nc.unit_entropy(rec, n_boot=0)], [1, 3])
    print(f"  unit_entropy default {t_unit:.3f} s, n_boot=0 {t_unit_free:.3f} s, ratio {t_unit / t_unit_free:.0f}x "
          "(replicates need each word's count)", flush=True)
    blocks = []
    for start in range(0, n_samples, 10_000):
        wc = WordCounts(n_units)
        wc.update(data[start : start + 10_000])
        blocks.append(wc)
    (t_from,) = best_times([lambda: pattern_entropy_from_blocks(blocks, method="plugin")], 1)
    print(f"  pattern_entropy_from_blocks plugin, 100 blocks of 10^4 samples: {t_from:.3f} s")

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


def words(repeats: int = 5) -> None:
    """``unit_entropy``'s default call against its ``n_boot=0`` call where words are many (every
    sample nearly its own word: the replicates are drawn as rows), one BLAS thread."""
    from threadpoolctl import threadpool_limits

    warnings.simplefilter("ignore", nc.NeurocomplexWarning)
    rng = np.random.default_rng(0)

    def counts(n: int, d: int, rate: float, dtype: type) -> np.ndarray:
        return rng.poisson(rate * np.exp(0.5 * rng.normal(size=(n, 3)) @ rng.normal(size=(3, d)))).astype(dtype)

    cases = [("Poisson counts, int16", counts(100_000, 40, 0.2, np.int16)),
             ("Poisson counts, int64", counts(200_000, 50, 0.2, np.int64)),
             ("binary (bool)", counts(20_000, 100, 0.1, np.int64) > 0)]
    print("| data | size | distinct words | default (ms) | n_boot=0 (ms) | default / n_boot=0 |")
    print("|---|---|---|---|---|---|")
    with threadpool_limits(limits=1, user_api="blas"):
        for label, data in cases:
            rec = nc.Recording.from_array(data)
            k = nc.pattern_entropy(rec, n_boot=0).diagnostics["n_distinct"]
            t_def, t_free = best_times([lambda r=rec: nc.unit_entropy(r), lambda r=rec: nc.unit_entropy(r, n_boot=0)],
                                       repeats)
            print(f"| {label} | {data.shape[0]:,} x {data.shape[1]} | {k:,} | {t_def * 1e3:.0f} | {t_free * 1e3:.1f} "
                  f"| {t_def / t_free:.1f} |", flush=True)


if __name__ == "__main__":
    coverage() if "--coverage" in sys.argv else words() if "--words" in sys.argv else main()
