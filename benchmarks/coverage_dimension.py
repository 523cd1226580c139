"""Coverage of the effective-dimension interval as a function of the number of bootstrap blocks.

    .venv/bin/python benchmarks/coverage_dimension.py               # 300 draws, about 30 s
    .venv/bin/python benchmarks/coverage_dimension.py --draws 1000

Gaussian data with a power-law spectrum (λ_k = 1/k, 40 units, 8,000 samples), the default call
(100 replicates) with 100, 64 and 50 blocks on the same draws. Prints, for each block count, how
often the 95% interval contains the mean of the estimates over all draws (the estimator's
expectation: the interval covers sampling variability, not the estimator's bias) and the
population value, the mean width against 3.92 × the sd of the estimates, and the mean bootstrap
sd. The standard error of a coverage over ``draws`` draws is about sqrt(0.95 · 0.05 / draws).
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=300)
    parser.add_argument("--blocks", type=int, nargs="+", default=[100, 64, 50])
    args = parser.parse_args()

    import neurocomplex as nc
    from neurocomplex.measures.dimension import effective_dimension_from_eigenvalues

    n_units, n_samples = 40, 8000
    spectrum = np.arange(1, n_units + 1) ** -1.0
    population = effective_dimension_from_eigenvalues(spectrum, 1.0)
    rng = np.random.default_rng(20261201)
    rows: dict[int, list[tuple[float, float, float, float]]] = {b: [] for b in args.blocks}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nc.NeurocomplexWarning)
        for draw in range(args.draws):
            rec = nc.Recording.from_array(rng.standard_normal((n_samples, n_units)) * np.sqrt(spectrum))
            for n_blocks in args.blocks:
                est = nc.effective_dimension(rec, block_size=-(-n_samples // n_blocks), seed=draw)
                rows[n_blocks].append((est.value, est.ci[0], est.ci[1], float(np.std(est.diagnostics["bootstrap"]))))
    se = np.sqrt(0.95 * 0.05 / args.draws)
    print(f"{args.draws} draws of {n_samples} x {n_units}, spectrum 1/k, population D = {population:.4f}; "
          f"standard error of a coverage {se:.3f}")
    print("| blocks | coverage of E[estimate] | coverage of population D | mean width | 3.92 × sd of estimates "
          "| mean bootstrap sd | sd of estimates |")
    print("|---|---|---|---|---|---|---|")
    for n_blocks, r in rows.items():
        a = np.array(r)
        centre = a[:, 0].mean()
        inside = np.mean((a[:, 1] <= centre) & (centre <= a[:, 2]))
        inside_pop = np.mean((a[:, 1] <= population) & (population <= a[:, 2]))
        print(f"| {n_blocks} | {inside:.3f} | {inside_pop:.3f} | {np.mean(a[:, 2] - a[:, 1]):.4f} | "
              f"{3.92 * a[:, 0].std():.4f} | {a[:, 3].mean():.4f} | {a[:, 0].std():.4f} |")


if __name__ == "__main__":
    main()
