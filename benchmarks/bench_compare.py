"""nc.compare's default matched comparison of a network layer and a brain area.

    .venv/bin/python benchmarks/bench_compare.py [--samples 4000] [--layer-units 3000] [--area-units 400]

A float32 ReLU-like layer (10 Gaussian latents through a random map plus unit noise, rectified)
and a Poisson area driven by the same latents, over the same samples. The default call of
``nc.compare`` (20 matched draws of half the samples and half the smaller population's units,
a bootstrap of 100 random half-samples with tests) on four measures, timed once; the table's
differences are printed so that two versions can be compared.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

import neurocomplex as nc

MEASURES = ["effective_dimension", "participation_ratio", "pattern_entropy", "pattern_complexity"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=4000)
    parser.add_argument("--layer-units", type=int, default=3000)
    parser.add_argument("--area-units", type=int, default=400)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    z = rng.standard_normal((args.samples, 10))
    layer = np.maximum(z @ rng.standard_normal((10, args.layer_units))
                       + rng.standard_normal((args.samples, args.layer_units)), 0).astype(np.float32)
    area = rng.poisson(np.exp(0.3 * (z @ rng.standard_normal((10, args.area_units))) / np.sqrt(10)))
    recs = {"layer": nc.Recording.from_array(layer), "area": nc.Recording.from_array(area, kind="spike_counts")}
    warnings.simplefilter("ignore", nc.NeurocomplexWarning)
    t = time.perf_counter()
    table = nc.compare(recs, MEASURES, progress=False)
    print(f"nc.compare default: {time.perf_counter() - t:.1f} s")
    print(table[["measure", "difference", "ci_low", "ci_high", "p_value"]].to_string(index=False))


if __name__ == "__main__":
    main()
