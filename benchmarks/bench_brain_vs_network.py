"""Time the default ``nc.brain_vs_network`` of a 4-layer CNN against 1,000 recorded units.

The case of the issue on real networks: a convolutional network whose layers have up to 32,768
units (32 channels x 32 x 32), recorded on the stimulus of each of 200 trials (100 stimuli shown
twice), against three areas of 1,000, 500 and 250 Poisson units that read out its layers.
Default measures, metrics and intervals; the time of each step is printed.

    ../.venv/bin/python bench_brain_vs_network.py            # from benchmarks/
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import time
import warnings

import numpy as np

import neurocomplex as nc


def _cnn():
    import torch
    from torch import nn

    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(),                   # 32 x 32 x 32 = 32,768 units
        nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(),                  # 32,768
        nn.MaxPool2d(2), nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(),  # 64 x 16 x 16 = 16,384
        nn.MaxPool2d(2), nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(),  # 64 x 8 x 8 = 4,096
    ).eval()


def case(n_stimuli: int = 100, n_repeats: int = 2, seed: int = 0):
    import pandas as pd

    rng = np.random.default_rng(seed)
    images = rng.normal(size=(n_stimuli, 3, 32, 32)).astype(np.float32)
    stimulus = np.tile(np.arange(n_stimuli), n_repeats)
    rng.shuffle(stimulus)
    labels = pd.DataFrame({"stimulus_index": stimulus})
    layers = nc.torch.record(_cnn(), images[stimulus], labels=labels, progress=False)
    layers.pop("output", None)  # the last ReLU itself
    areas = {}
    for name, layer, n_units in (("V1", "1", 1000), ("V2", "6", 500), ("V4", "9", 250)):
        src = layers[layer].data
        cols = rng.choice(src.shape[1], size=n_units, replace=False)
        z = src[:, cols].astype(np.float64)
        z = (z - z.mean(0)) / np.where(z.std(0) > 0, z.std(0), 1.0)
        areas[name] = nc.Recording.from_array(rng.poisson(np.exp(0.3 + 0.5 * z)), kind="spike_counts", labels=labels)
    return areas, layers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    import threadpoolctl

    print(f"python {platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} cores")
    for pool in threadpoolctl.threadpool_info():
        print(f"  {pool['internal_api']} {pool.get('version')}: {pool['num_threads']} threads")
    areas, layers = case()
    print({k: (v.n_samples, v.n_units) for k, v in areas.items()}, "areas")
    print({k: (v.n_samples, v.n_units, str(v.data.dtype)) for k, v in layers.items()}, "layers")
    from neurocomplex._progress import Steps
    from neurocomplex.comparison.brain_vs_network import DEFAULT_MEASURES, DEFAULT_METRICS, run_comparison

    class Timed(Steps):
        def __init__(self) -> None:
            super().__init__(0, progress=False)
            self.times: list[tuple[str, float]] = []
            self.start = time.perf_counter()

        def __call__(self, text: str) -> None:
            now = time.perf_counter()
            self.times.append((text, now))

    for r in range(args.repeats):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.perf_counter()
            public = nc.brain_vs_network(areas, layers, progress=False)  # the default call itself
            print(f"run {r}: nc.brain_vs_network(areas, layers) {time.perf_counter() - t0:.1f} s")
        steps = Timed()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.perf_counter()
            res = run_comparison(areas, layers, measures=DEFAULT_MEASURES, metrics=DEFAULT_METRICS, conditions=None,
                                 n_boot=100, n_draws=20, seed=0, truth=None, steps=steps, progress=False)
            total = time.perf_counter() - t0
        marks = [*steps.times, ("end", t0 + total)]
        print(f"run {r}: the same steps timed one by one (run_comparison with the defaults) {total:.1f} s")
        assert public.best_layers.equals(res.best_layers)
        for (text, t), (_, t_next) in itertools.pairwise(marks):
            print(f"  {t_next - t:7.1f} s  {text}")
    print(res.best_layers[["metric", "area", "best_layer", "best_fraction"]].to_string(index=False))


if __name__ == "__main__":
    main()
