"""Coverage of spectrum_exponent's default interval on data with a known power-law spectrum.

    .venv/bin/python benchmarks/coverage_spectrum.py [--draws 40]

Gaussian samples whose covariance has eigenvalues ``n^-alpha`` (n = 1..d) in a random rotated
basis, from 200 × 100 to 20,000 × 50 and 300 × 1,000 samples × units. For each case: the mean
and sd of the estimates over the draws, how often the default interval covers the mean estimate
(what it is built to cover), the population exponent, and its own estimate, and its mean width
against the ideal 2 × 1.96 × sd of the estimates. ``--bootstrap`` also computes the block-bootstrap
basic interval the estimator used before (100 replicates from 64 blocks, refitted the same ranks).
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np

import neurocomplex as nc
from neurocomplex.measures.spectrum import _fit_loglog

CASES = ((5000, 100, 1.0), (1000, 300, 1.0), (300, 1000, 1.0), (2000, 200, 2.0), (20000, 50, 1.0), (200, 100, 0.5))


def _gaussian(spectrum: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    d = spectrum.size
    q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    return (rng.normal(size=(n, d)) * np.sqrt(spectrum)) @ q.T


def _bootstrap_basic(x: np.ndarray, value: float, lo: int, hi: int, rng: np.random.Generator) -> tuple[float, float]:
    n, d = x.shape
    size = -(-n // 64)
    starts = np.arange(0, n, size)
    reps = []
    for _ in range(100):
        rows = np.concatenate([np.arange(s, min(s + size, n)) for s in rng.choice(starts, starts.size)])
        xb = x[rows] - x[rows].mean(axis=0)
        small = xb @ xb.T if n < d else xb.T @ xb
        lam = np.zeros(d)
        ev = np.linalg.eigvalsh(small)[::-1] / (rows.size - 1)
        lam[: min(d, ev.size)] = ev[:d]
        reps.append(_fit_loglog(lam, lo, hi)[0] if np.all(lam[lo - 1 : hi] > 0) else np.nan)
    q_lo, q_hi = np.nanquantile(reps, [0.025, 0.975])
    return 2 * value - q_hi, 2 * value - q_lo


def _rates(iv: np.ndarray, mean: float, alpha: float, values: np.ndarray) -> tuple[float, float, float]:
    """How often the intervals cover the mean estimate, the population exponent, their own estimate."""
    return (float(np.mean((iv[:, 0] <= mean) & (mean <= iv[:, 1]))),
            float(np.mean((iv[:, 0] <= alpha) & (alpha <= iv[:, 1]))),
            float(np.mean((iv[:, 0] <= values) & (values <= iv[:, 1]))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--draws", type=int, default=40)
    parser.add_argument("--bootstrap", action="store_true", help="also the former block-bootstrap interval")
    args = parser.parse_args()
    head = "| n | d | α | ranks | mean estimate | sd | covers mean estimate | covers α | contains own estimate | width / (3.92 sd) |"
    print(head + (" bootstrap: covers mean, α, own |" if args.bootstrap else ""))
    print("|---" * (head.count("|") - 1 + args.bootstrap) + "|")
    for n, d, alpha in CASES:
        rng = np.random.default_rng(1)
        spectrum = np.arange(1, d + 1) ** -alpha
        values, cis, boots = [], [], []
        for _ in range(args.draws):
            x = _gaussian(spectrum, n, rng)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", nc.NeurocomplexWarning)
                est = nc.spectrum_exponent(nc.Recording.from_array(x))
            values.append(est.value)
            cis.append(est.ci)
            lo, hi = est.params["rank_range"]
            if args.bootstrap:
                boots.append(_bootstrap_basic(x, est.value, lo, hi, rng))
        v, c = np.array(values), np.array(cis)
        mean = v.mean()

        cov_mean, cov_alpha, own = _rates(c, mean, alpha, v)
        line = (f"| {n} | {d} | {alpha:g} | {lo}..{hi} | {mean:.4f} | {v.std():.4f} | {cov_mean:.2f} | {cov_alpha:.2f} | "
                f"{own:.2f} | {np.mean(c[:, 1] - c[:, 0]) / (3.92 * v.std()):.2f} |")
        if args.bootstrap:
            b = _rates(np.array(boots), mean, alpha, v)
            line += f" {b[0]:.2f}, {b[1]:.2f}, {b[2]:.2f} |"
        print(line, flush=True)


if __name__ == "__main__":
    main()
