"""Timing shared by the benchmark scripts (imported as ``_timing`` when a script runs from benchmarks/)."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Sequence

import numpy as np

__all__ = ["best_times"]


def best_times(funcs: Sequence[Callable[[], object]], repeats: int | Sequence[int]) -> list[float]:
    """Best wall time of each function, run round-robin so that all see the same machine load.

    ``repeats`` is one count for all, or one per function (slow peers run fewer times).
    """
    counts = [repeats] * len(funcs) if isinstance(repeats, int) else list(repeats)
    best = [np.inf] * len(funcs)
    for r in range(max(counts)):
        for i, func in enumerate(funcs):
            if r >= counts[i]:
                continue
            gc.collect()
            start = time.perf_counter()
            func()
            best[i] = min(best[i], time.perf_counter() - start)
    return best
