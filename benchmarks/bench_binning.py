"""Spike binning: nc.Recording.from_spike_times vs Elephant's BinnedSpikeTrain, in the same run.

200 units x 30 minutes at 1 ms bins, 3.6 million spikes stamped on a 30 kHz clock (10 spikes/s per
unit). Times are the best of ``REPEATS`` interleaved rounds; peak memory is the tracemalloc peak of one more call
(numpy and scipy report their buffers to tracemalloc). Elephant gets neo SpikeTrains built
beforehand and returns its default sparse matrix; the counts of both are checked to be equal.

Usage: python benchmarks/bench_binning.py [--quick]   (--quick: 20 units, for a smoke run)
"""

from __future__ import annotations

import logging
import sys
import time
import tracemalloc
import warnings

import numpy as np

import neurocomplex as nc
from neurocomplex.recording import bin_spike_times

REPEATS = 7
DURATION = 1800.0
RATE_HZ = 10.0
BIN = 0.001


def _trains(n_units: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    n = int(DURATION * RATE_HZ)
    return [np.sort(rng.integers(0, int(DURATION * 30_000), size=n)) / 30_000.0 for _ in range(n_units)]


def _best(calls: dict) -> dict[str, float]:
    """Best time of each call over REPEATS rounds; rounds interleave the calls, so load from other
    processes on the machine falls on all of them alike."""
    times: dict[str, list[float]] = {k: [] for k in calls}
    for _ in range(REPEATS):
        for label, func in calls.items():
            t = time.perf_counter()
            out = func()
            times[label].append(time.perf_counter() - t)
            del out
    return {k: min(v) for k, v in times.items()}


def _peak(func) -> float:
    tracemalloc.start()
    out = func()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del out
    return peak / 1e9


def main() -> None:
    import neo
    import quantities as pq
    from elephant.conversion import BinnedSpikeTrain

    warnings.simplefilter("ignore")
    logging.disable(logging.WARNING)  # Elephant logs each spike it moves across an edge
    n_units = 20 if "--quick" in sys.argv else 200
    trains = _trains(n_units)
    n_spikes = sum(t.size for t in trains)
    sts = [neo.SpikeTrain(t * pq.s, t_start=0 * pq.s, t_stop=DURATION * pq.s) for t in trains]
    calls = {
        "nc default: Recording.from_spike_times(trains, bin_size=0.001, t_stop=1800)":
            lambda: nc.Recording.from_spike_times(trains, bin_size=BIN, t_stop=DURATION),
        "nc counts only: bin_spike_times(trains, 0.001, 0, 1800) (no Recording checks)":
            lambda: bin_spike_times(trains, BIN, 0.0, DURATION),
        "Elephant: BinnedSpikeTrain(spiketrains, 1 ms), sparse":
            lambda: BinnedSpikeTrain(sts, bin_size=BIN * pq.s, t_start=0 * pq.s, t_stop=DURATION * pq.s),
    }
    print(f"{n_units} units x {DURATION:.0f} s at {BIN * 1e3:g} ms bins, {n_spikes:,} spikes on a 30 kHz clock; "
          f"best of {REPEATS} interleaved rounds")
    results = {}
    best = _best(calls)
    for label, func in calls.items():
        peak = _peak(func)
        results[label] = (best[label], peak, func() if label.startswith(("nc default", "Elephant")) else None)
        print(f"  {label}: {best[label]:.3f} s, peak {peak:.3f} GB")
    (t_el, _, binned) = results["Elephant: BinnedSpikeTrain(spiketrains, 1 ms), sparse"]
    for label in list(calls)[:2]:
        t, peak, _ = results[label]
        print(f"  {label.split(':')[0]}: time ratio to Elephant {t / t_el:.2f}x (target <= 1.2x), "
              f"peak {peak:.3f} GB (target <= 0.4 GB)")
    import scipy.sparse

    ours = scipy.sparse.csr_matrix(results[next(iter(calls))][2].data.T.astype(np.int64))
    theirs = binned.sparse_matrix.astype(np.int64)
    same = ours.shape == theirs.shape and (ours != theirs).nnz == 0
    print(f"  counts identical to Elephant's: {same} (shape {ours.shape}, {ours.sum():,} spikes)")


if __name__ == "__main__":
    main()
