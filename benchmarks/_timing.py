"""Timing shared by the benchmark scripts (imported as ``_timing`` when a script runs from benchmarks/)."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Sequence

import numpy as np

__all__ = ["best_times", "round_times"]


def round_times(funcs: Sequence[Callable[[], object]], repeats: int | Sequence[int]) -> np.ndarray:
    """Wall time of each function in each round, ``(rounds, functions)``; NaN where a function ran fewer times.

    The functions run round-robin, so that all see the same machine load; the ratio of two
    functions within a round pairs measurements taken seconds apart, which cancels slow changes of
    load that a ratio of best times does not.
    """
    counts = [repeats] * len(funcs) if isinstance(repeats, int) else list(repeats)
    out = np.full((max(counts), len(funcs)), np.nan)
    for r in range(max(counts)):
        for i, func in enumerate(funcs):
            if r >= counts[i]:
                continue
            gc.collect()
            start = time.perf_counter()
            func()
            out[r, i] = time.perf_counter() - start
    return out


def best_times(funcs: Sequence[Callable[[], object]], repeats: int | Sequence[int]) -> list[float]:
    """Best wall time of each function, run round-robin (see :func:`round_times`).

    ``repeats`` is one count for all, or one per function (slow peers run fewer times).
    """
    return [float(t) for t in np.nanmin(round_times(funcs, repeats), axis=0)]
