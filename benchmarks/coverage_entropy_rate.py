"""Coverage of entropy_rate's bootstrap interval on trains of known entropy rate.

Independent Bernoulli units (rate ``units * h(p)`` bits per bin at every word length), several
sizes, word lengths and firing probabilities; each cell draws ``--draws`` data sets and reports
the mean estimate, its spread across draws, the share of intervals that contain the true rate, and
the mean interval width against the ideal ``3.92 × sd`` of the estimates. Run per method:

    .venv/bin/python benchmarks/coverage_entropy_rate.py --method nsb
    .venv/bin/python benchmarks/coverage_entropy_rate.py --method plugin
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np

import neurocomplex as nc

CELLS = [  # units, samples, max_length, firing probability
    (1, 3000, 8, 0.2), (2, 20_000, 6, 0.2), (3, 20_000, 4, 0.1), (3, 5000, 4, 0.2), (1, 3000, 4, 0.05)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--method", default="nsb", choices=("nsb", "plugin", "miller_madow"))
    ap.add_argument("--draws", type=int, default=40)
    ap.add_argument("--n-boot", type=int, default=100)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    print("| method | units | n | max_length | p | true rate (bits) | mean estimate | sd | coverage | "
          "width / (3.92 sd) |\n|---|---|---|---|---|---|---|---|---|---|")
    for units, n, length, p in CELLS:
        true = units * -(p * np.log2(p) + (1 - p) * np.log2(1 - p))
        values, widths, covered, with_ci = [], [], 0, 0
        for s in range(args.draws):
            x = (np.random.default_rng(100 + s).random((n, units)) < p).astype(np.uint8)
            est = nc.entropy_rate(nc.Recording.from_array(x, kind="binary"), max_length=length,
                                  n_boot=args.n_boot, seed=s, method=args.method)
            values.append(est.value)
            if est.ci is not None:
                with_ci += 1
                widths.append(est.ci[1] - est.ci[0])
                covered += est.ci[0] <= true <= est.ci[1]
        sd = float(np.std(values))
        print(f"| {args.method} | {units} | {n} | {length} | {p} | {true:.4f} | {np.mean(values):.4f} | {sd:.4f} | "
              f"{covered / max(with_ci, 1):.2f} of {with_ci} | {np.mean(widths) / (3.92 * sd):.2f} |", flush=True)


if __name__ == "__main__":
    main()
