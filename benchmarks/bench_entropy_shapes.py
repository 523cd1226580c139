"""pattern_entropy on uint8 arrays passed without a kind, at several shapes, against the counting floor.

Independent Bernoulli units stored as uint8 0/1 and wrapped with ``Recording.from_array`` (kind
"rates", as users pass such arrays); default call (NSB with its interval) and ``n_boot=0`` against
``np.packbits`` + ``np.unique`` of one integer per row (``axis=0`` rows of bytes above 64 units),
best of 3, one BLAS thread:

    .venv/bin/python benchmarks/bench_entropy_shapes.py
"""

from __future__ import annotations

import time
import warnings

import numpy as np
from threadpoolctl import threadpool_limits

import neurocomplex as nc

SHAPES = [(10**6, 64, 0.05), (10**6, 16, 0.2), (10**6, 8, 0.5), (10**5, 200, 0.02), (3 * 10**6, 32, 0.05), (10**6, 128, 0.03)]


def _best(f, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return min(times)


def _floor(b: np.ndarray):
    packed = np.packbits(b, axis=1)
    if packed.shape[1] <= 8:
        wide = np.zeros((packed.shape[0], 8), np.uint8)
        wide[:, : packed.shape[1]] = packed
        return np.unique(wide.view(np.uint64).ravel(), return_counts=True)
    return np.unique(packed, axis=0, return_counts=True)


def main() -> None:
    warnings.simplefilter("ignore")
    rng = np.random.default_rng(0)
    print("| samples | units | p | default (s) | n_boot=0 (s) | floor (s) | default / floor | n_boot=0 / floor |")
    print("|---|---|---|---|---|---|---|---|")
    with threadpool_limits(1):
        for n, d, p in SHAPES:
            b = (rng.random((n, d)) < p).astype(np.uint8)
            rec = nc.Recording.from_array(b)
            nc.pattern_entropy(rec, n_boot=0)
            t_default = _best(lambda rec=rec: nc.pattern_entropy(rec))
            t_plain = _best(lambda rec=rec: nc.pattern_entropy(rec, n_boot=0))
            t_floor = _best(lambda b=b: _floor(b))
            print(f"| {n:,} | {d} | {p} | {t_default:.3f} | {t_plain:.3f} | {t_floor:.3f} | "
                  f"{t_default / t_floor:.2f} | {t_plain / t_floor:.2f} |", flush=True)


if __name__ == "__main__":
    main()
