"""Trial responses: ``rec.trial_responses(trials, window)`` against pynapple's ``TsGroup.count(ep=IntervalSet)``.

Usage: python benchmarks/bench_trials.py [--case allen|many|few|wide|all] [--repeats 5] [--quick]

Cases (spikes stamped on a 30 kHz clock, Poisson at 10 spikes/s per unit, trial starts on the same clock):

- ``allen``: 1,000 units, 200 trials of 2 s with 1 s between them (drifting gratings of the Allen Brain
  Observatory), window (0, 2) s;
- ``many``: 500 units, 10,000 trials of 0.25 s with 0.25 s between them, window (0, 0.25) s;
- ``few``: 20 units, 2,000 trials of 1 s with 1 s between them, window (0, 1) s;
- ``wide``: 3,000 units, 300 trials of 0.5 s with 0.5 s between them, window (0, 0.5) s.

Each unit also gets spikes exactly on window edges (the start tick of one trial in 20, the end tick of
another), so that both libraries answer the same edge question: neurocomplex counts ``t0 + 0 <= t <
t0 + window[1]`` on the acquisition clock (a spike on the start tick is in, one on the end tick out);
pynapple counts the closed interval ``[start, end]``, so its IntervalSet is given the window's start tick
and the float just below the end tick (``np.nextafter(end, -inf)``), which is the same half-open window
on the clock. The counts of both are checked to be identical (and the edge spikes to be counted as
stated) before any timing.

Timed: the default call a user makes on a spike-time Recording, ``rec.trial_responses(trials,
window=...)`` (``statistic="count"``; the Recording from ``Recording.from_spike_times`` at its default
10 ms bins, built beforehand), and ``group.count(ep=ep)`` on a ``TsGroup`` and ``IntervalSet`` built
beforehand. Both run round-robin in one process (pynapple's numba functions compiled by the check
before); reported are the best of ``--repeats`` rounds of each and their ratio, and the median of the
per-round ratios (rounds pair measurements taken seconds apart on a shared machine).
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import round_times

import neurocomplex as nc

CLOCK = 30_000  # ticks per second
RATE_HZ = 10.0
CASES = {  # units, trials, trial length (s), gap between trials (s), window (s)
    "allen": (1000, 200, 2.0, 1.0, (0.0, 2.0)),
    "many": (500, 10_000, 0.25, 0.25, (0.0, 0.25)),
    "few": (20, 2000, 1.0, 1.0, (0.0, 1.0)),
    "wide": (3000, 300, 0.5, 0.5, (0.0, 0.5)),
}


def make_case(n_units: int, n_trials: int, trial_s: float, gap_s: float, window: tuple[float, float],
              seed: int = 0):
    """Spike trains (seconds, sorted), the trial table, and the window edges in clock ticks."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    period = round((trial_s + gap_s) * CLOCK)
    start_ticks = CLOCK // 2 + period * np.arange(n_trials, dtype=np.int64)
    stop_ticks = start_ticks + round(trial_s * CLOCK)
    w0_ticks = start_ticks + round(window[0] * CLOCK)
    w1_ticks = start_ticks + round(window[1] * CLOCK)
    n_ticks = int(stop_ticks[-1] + CLOCK)
    trains = []
    for j in range(n_units):
        ticks = rng.integers(0, n_ticks, size=rng.poisson(RATE_HZ * n_ticks / CLOCK))
        on_start = w0_ticks[j % 20::20]  # a spike exactly on the start of one window in 20
        on_end = w1_ticks[(j + 7) % 20::20]  # and exactly on the end of another
        trains.append(np.sort(np.concatenate([ticks, on_start, on_end])) / CLOCK)
    trials = pd.DataFrame({"start_time": start_ticks / CLOCK, "stop_time": stop_ticks / CLOCK,
                           "stimulus": rng.integers(0, 8, n_trials)})
    return trains, trials, w0_ticks, w1_ticks, n_ticks / CLOCK


def _environment() -> None:
    import numba
    import pandas as pd
    import pynapple as nap
    from threadpoolctl import threadpool_info

    blas = sorted({(i["internal_api"], i.get("version"), i["num_threads"]) for i in threadpool_info()
                   if i["user_api"] == "blas"})
    print(f"neurocomplex {nc.__version__}, numpy {np.__version__}, pandas {pd.__version__}, pynapple "
          f"{nap.__version__}, numba {numba.__version__} (NUMBA_NUM_THREADS={numba.config.NUMBA_NUM_THREADS}); "
          f"BLAS {blas} (neither counter calls BLAS; both run on one thread); {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.2f}")


def run_case(name: str, repeats: int, quick: bool) -> dict[str, float]:
    import pynapple as nap

    n_units, n_trials, trial_s, gap_s, window = CASES[name]
    if quick:
        n_units, n_trials = max(n_units // 20, 5), max(n_trials // 20, 10)
    trains, trials, w0_ticks, w1_ticks, duration = make_case(n_units, n_trials, trial_s, gap_s, window)
    n_spikes = sum(t.size for t in trains)
    rec = nc.Recording.from_spike_times(trains, t_stop=duration)  # default 10 ms bins
    group = nap.TsGroup({j: nap.Ts(t=t) for j, t in enumerate(trains)}, time_support=nap.IntervalSet(0, duration))
    ends = np.nextafter(w1_ticks / CLOCK, -np.inf)  # [start, end] closed = [start, end_tick) on the clock
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pynapple may warn about float time precision
        ep = nap.IntervalSet(start=w0_ticks / CLOCK, end=ends)
    assert len(ep) == n_trials, "pynapple merged or dropped windows"

    ours = rec.trial_responses(trials, window=window).data
    theirs = np.asarray(group.count(ep=ep).values)
    direct = np.stack([np.searchsorted(np.round(t * CLOCK).astype(np.int64), w1_ticks)
                       - np.searchsorted(np.round(t * CLOCK).astype(np.int64), w0_ticks) for t in trains], axis=1)
    on_start = sum(np.isin(np.round(t * CLOCK), w0_ticks).sum() for t in trains)
    on_end = sum(np.isin(np.round(t * CLOCK), w1_ticks).sum() for t in trains)
    same = ours.shape == theirs.shape and np.array_equal(ours, theirs) and np.array_equal(ours, direct)
    print(f"\n[{name}] {n_units:,} units x {n_trials:,} trials ({trial_s:g} s, {gap_s:g} s apart), window "
          f"{window} s, {n_spikes:,} spikes over {duration:,.1f} s ({on_start:,} on a window start, {on_end:,} on a "
          f"window end)")
    print(f"  counts identical (nc, pynapple, integer ticks): {same}; {int(ours.sum()):,} spikes in windows")
    if not same:
        raise SystemExit("counts differ: no timing")

    calls = {
        "nc: rec.trial_responses(trials, window)": lambda: rec.trial_responses(trials, window=window),
        "pynapple: group.count(ep=IntervalSet)": lambda: group.count(ep=ep),
    }
    load0 = os.getloadavg()[0]
    times = round_times(list(calls.values()), repeats)
    best = times.min(axis=0)
    per_round = np.median(times[:, 0] / times[:, 1])
    for (label, _), t in zip(calls.items(), best, strict=True):
        print(f"  {label}: best {t * 1e3:.1f} ms of {repeats}")
    print(f"  ratio nc / pynapple: {best[0] / best[1]:.2f}x (best times), median of per-round ratios "
          f"{per_round:.2f}x (target <= 1); load average {load0:.2f} -> {os.getloadavg()[0]:.2f}")
    return {"nc": float(best[0]), "pynapple": float(best[1]), "ratio": float(best[0] / best[1])}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--case", choices=[*CASES, "all"], default="all")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="a twentieth of the units and trials (smoke run)")
    args = ap.parse_args()
    _environment()
    for name in CASES if args.case == "all" else [args.case]:
        run_case(name, max(args.repeats, 3), args.quick)


if __name__ == "__main__":
    main()
