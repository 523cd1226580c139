"""similarity_matrix over repeated conditions: RSA and predictivity with their noise ceilings.

    .venv/bin/python benchmarks/bench_similarity_conditions.py [--conditions 500] [--repeats 4]

Three float32 ReLU-like layers (16,384, 4,096 and 1,024 units) and two Poisson areas (300 and 100
units), all driven by 10 shared latents per condition, each condition shown ``--repeats`` times
(a ``stimulus_index`` label column). The default call of each metric over conditions, timed once;
the values are printed so that two versions can be compared.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

import neurocomplex as nc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conditions", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=4)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    stim = np.tile(np.arange(args.conditions), args.repeats)
    labels = pd.DataFrame({"stimulus_index": stim})
    z = rng.standard_normal((args.conditions, 10))[stim]
    layers = {f"L{i}": nc.Recording.from_array(
        np.maximum(z @ rng.standard_normal((10, p)) + rng.standard_normal((stim.size, p)), 0).astype(np.float32),
        labels=labels) for i, p in enumerate((16384, 4096, 1024))}
    areas = {f"A{i}": nc.Recording.from_array(
        rng.poisson(np.exp(0.3 * (z @ rng.standard_normal((10, q))) / np.sqrt(10))), kind="spike_counts",
        labels=labels) for i, q in enumerate((300, 100))}
    warnings.simplefilter("ignore", nc.NeurocomplexWarning)
    for metric in ("rsa", "predictivity"):
        t = time.perf_counter()
        table = nc.similarity_matrix(areas, layers, metric=metric, conditions="stimulus_index", progress=False)
        print(f"{metric}: {time.perf_counter() - t:.1f} s, values {table['value'].round(4).tolist()}", flush=True)


if __name__ == "__main__":
    main()
