"""Coverage of the effective-dimension interval: by number of bootstrap blocks, and over shapes.

    .venv/bin/python benchmarks/coverage_dimension.py               # 300 draws, about 30 s
    .venv/bin/python benchmarks/coverage_dimension.py --draws 1000
    .venv/bin/python benchmarks/coverage_dimension.py --shapes --draws 200

Default: Gaussian data with a power-law spectrum (λ_k = 1/k, 40 units, 8,000 samples), the default
call (100 replicates) with 100, 64 and 50 blocks on the same draws.

``--shapes``: the default call on Gaussian data with prescribed covariance spectra (λ_k = 1/k,
e^(−k/10) and flat) at shapes from 3 to 200 samples per unit (block bootstrap, basic interval)
and below 3 and below 1 (wide: the Gram route and the grouped jackknife).

Prints how often the 95% interval contains the mean of the estimates over all draws (the
estimator's expectation at that shape) and the population value, the mean width against 3.92 ×
the sd of the estimates, and the interval in use. The standard error of a coverage over
``draws`` draws is about sqrt(0.95 · 0.05 / draws).
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np

SPECTRA = {
    "1/k": lambda d: np.arange(1, d + 1) ** -1.0,
    "exp(-k/10)": lambda d: np.exp(-np.arange(d) / 10.0),
    "flat": lambda d: np.ones(d),
}
# (n_samples, n_units): 200, 10, 3 samples per unit (bootstrap), 1.5 (jackknife, covariance
# route), 0.5 and 0.2 (wide: Gram route and jackknife)
SHAPES = [(8000, 40), (1000, 100), (300, 100), (150, 100), (200, 400), (100, 500)]


def _blocks(args: argparse.Namespace) -> None:
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


def _shapes(args: argparse.Namespace) -> None:
    import neurocomplex as nc
    from neurocomplex.measures.dimension import effective_dimension_from_eigenvalues

    se = np.sqrt(0.95 * 0.05 / args.draws)
    print(f"{args.draws} draws per row (Gaussian data, the prescribed spectrum in a random basis is not needed: "
          f"D is rotation invariant); standard error of a coverage {se:.3f}")
    print("| spectrum | n | d | samples per unit | interval, replicates | coverage of E[estimate] | "
          "coverage of population D | population D | E[estimate] | mean width / (3.92 × sd of estimates) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    rng = np.random.default_rng(20260601)
    for name, spectrum_fn in SPECTRA.items():
        for n, d in SHAPES:
            lam = spectrum_fn(d)
            population = effective_dimension_from_eigenvalues(lam, 1.0)
            rows, kinds = [], set()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", nc.NeurocomplexWarning)
                for draw in range(args.draws):
                    x = rng.standard_normal((n, d)) * np.sqrt(lam)
                    est = nc.effective_dimension(nc.Recording.from_array(x), seed=draw)
                    kinds.add(f"{est.diagnostics['interval']}, {est.diagnostics['replicates']}")
                    rows.append((est.value, *est.ci))
            a = np.array(rows)
            centre = a[:, 0].mean()
            inside = np.mean((a[:, 1] <= centre) & (centre <= a[:, 2]))
            inside_pop = np.mean((a[:, 1] <= population) & (population <= a[:, 2]))
            width = np.mean(a[:, 2] - a[:, 1]) / (3.92 * a[:, 0].std())
            print(f"| {name} | {n} | {d} | {n / d:g} | {'; '.join(sorted(kinds))} | {inside:.3f} | {inside_pop:.3f} | "
                  f"{population:.2f} | {centre:.2f} | {width:.2f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=300)
    parser.add_argument("--blocks", type=int, nargs="+", default=[100, 64, 50])
    parser.add_argument("--shapes", action="store_true", help="coverage over shapes and spectra instead")
    args = parser.parse_args()
    _shapes(args) if args.shapes else _blocks(args)


if __name__ == "__main__":
    main()
