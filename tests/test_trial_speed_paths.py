"""The fast counting paths of trial_responses and of spike binning give the same integers as direct counts.

trial_responses counts a unit by one compiled merge of its spikes with the window edges; binning
writes ones and increments repeated bins, or run-length counts. Each is compared with a brute-force
count, on random trains with spikes exactly on window edges and bin edges (a 30 kHz clock),
unsorted trains, overlapping and touching windows, and crowded edges.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import neurocomplex as nc
import neurocomplex.trials as trials_mod
from neurocomplex.binning import _bin_trains, bin_spike_times

CLOCK = 30_000


def _direct(trains, w0, w1):
    """Brute force: every spike against every window, with the tolerance rule applied as documented."""
    return np.array([[np.count_nonzero((t >= a) & (t < b)) for t in trains] for a, b in zip(w0, w1, strict=True)],
                    dtype=np.float64)


def _case(rng, n_units, n_trials, overlap=False, unsorted=False):
    """Trains on a 30 kHz clock with spikes on window edges; window starts on the same clock."""
    period = 9000 if not overlap else 3000  # 0.3 s between trial starts; windows of 0.2 s or 0.5 s
    starts = 1500 + period * np.arange(n_trials) + rng.integers(0, 300, n_trials)
    length = 6000 if not overlap else 15000
    n_ticks = int(starts[-1] + length + CLOCK)
    trains = []
    for j in range(n_units):
        ticks = rng.integers(0, n_ticks, rng.integers(0, 400))
        edges = np.concatenate([starts[j % 3::3], (starts + length)[(j + 1) % 3::3]])
        t = np.concatenate([ticks, edges, edges[:3]]) / CLOCK  # some spikes twice at one time
        trains.append(rng.permutation(t) if unsorted else np.sort(t))
    table = pd.DataFrame({"start_time": starts / CLOCK, "stop_time": (starts + length) / CLOCK})
    return trains, table, length / CLOCK, n_ticks / CLOCK


def _expected(trains, table, window):
    t0 = table["start_time"].to_numpy()
    lo, hi = window
    tol0 = trials_mod._edge_tolerance(t0, lo)
    tol1 = trials_mod._edge_tolerance(t0, hi)
    return _direct(trains, t0 + lo - tol0, t0 + hi - tol1)


@pytest.mark.parametrize("overlap", [False, True])
@pytest.mark.parametrize("unsorted", [False, True])
def test_counts_equal_direct_count(overlap, unsorted):
    rng = np.random.default_rng(hash((overlap, unsorted)) % 2**32)
    trains, table, length, stop = _case(rng, 7, 60, overlap=overlap, unsorted=unsorted)
    if unsorted:  # a trial table not in time order: rows stay in the table's order
        table = table.iloc[rng.permutation(len(table))].reset_index(drop=True)
    rec = nc.Recording.from_spike_times(trains, bin_size=0.01, t_stop=stop)
    window = (0.0, length)
    got = rec.trial_responses(table, window=window).data
    want = _expected(trains, table, window)
    np.testing.assert_array_equal(got, want)
    # Spikes exactly on edges are in the window at its start and out of it at its end.
    starts = np.round(table["start_time"].to_numpy() * CLOCK).astype(np.int64)
    ticks0 = np.round(np.sort(trains[0]) * CLOCK).astype(np.int64)
    on_start = np.isin(starts, ticks0)
    assert on_start.sum() >= 15
    exact = [np.count_nonzero((ticks0 >= s) & (ticks0 < s + round(length * CLOCK))) for s in starts]
    np.testing.assert_array_equal(got[:, 0], exact)


def test_touching_windows_and_crowded_edges_count_exactly():
    """Windows that touch (an end equal to the next start), edges crowded 1 ms apart, spikes on the
    edges, an empty train and one with every spike before the windows."""
    rng = np.random.default_rng(5)
    starts_ticks = np.sort(np.concatenate([rng.integers(0, 60 * CLOCK, 40), 1000 + 30 * np.arange(20)]))
    starts_ticks = np.unique(starts_ticks)
    w0 = starts_ticks / CLOCK
    w1 = np.append(w0[1:], w0[-1] + 0.01)  # each window ends where the next starts
    trains = [np.sort(np.concatenate([rng.integers(0, 61 * CLOCK, 2000), starts_ticks[::2]]) / CLOCK)
              for _ in range(5)]
    trains += [np.empty(0), np.sort(rng.uniform(-5.0, w0[0] - 1e-9, 50))]
    got = trials_mod._from_spikes(trains, w0, w1)
    np.testing.assert_array_equal(got, _direct(trains, w0, w1))


def test_edge_positions_match_searchsorted_on_float_times():
    """The merge gives #{t < u} exactly, for times on no clock, equal to edges and one ulp either side."""
    from neurocomplex._window_kernel import edge_positions, read_only

    rng = np.random.default_rng(11)
    u = np.unique(np.concatenate([np.sort(rng.uniform(10, 5000, 3000)), np.nextafter(np.linspace(10, 5000, 50), 0)]))
    t = np.sort(np.concatenate([rng.uniform(0, 6000, 20000), u[1:-1], np.nextafter(u[1:-1], -np.inf),
                                np.nextafter(u[1:-1], np.inf), u[5:9]]))
    for train in (t, t[t < u[0]], t[t > u[-1]], t[:1], np.empty(0)):
        out = np.empty(u.size, dtype=np.int64)
        edge_positions(read_only(train), u, out)
        np.testing.assert_array_equal(out, np.searchsorted(train, u, side="left"))


def test_every_recording_holds_its_spike_trains_in_time_order():
    rng = np.random.default_rng(2)
    trains = [np.sort(rng.uniform(0, 10, 50)), rng.uniform(0, 10, 50)]  # the second is not sorted
    rec = nc.Recording.from_spike_times(trains, bin_size=0.1)
    assert all(np.all(np.diff(t) >= 0) for t in rec.spike_times)  # stored in time order
    np.testing.assert_array_equal(np.sort(trains[1]), rec.spike_times[1])
    sub = rec.select([0])
    assert np.all(np.diff(sub.spike_times[0]) >= 0)
    # A Recording built directly with unsorted spike times holds them sorted and counts them correctly.
    direct = nc.Recording(data=rec.data, kind="spike_counts", unit_ids=[0, 1], groups=["a", "a"],
                          bin_size=0.1, times=rec.times, metadata=dict(rec.metadata),
                          spike_times=(trains[1][::-1].copy(), trains[0]))
    table = pd.DataFrame({"start_time": [0.0, 2.0, 5.0], "stop_time": [1.0, 3.0, 6.0]})
    assert np.all(np.diff(direct.spike_times[0]) >= 0)
    got = direct.trial_responses(table, window=(0.0, 1.0)).data
    np.testing.assert_array_equal(got[:, 0], [np.count_nonzero((trains[1] >= a) & (trains[1] < a + 1))
                                              for a in (0.0, 2.0, 5.0)])


@pytest.mark.parametrize("bin_size", [0.001, 0.05, 1.0])  # ones + increments, and run-length counts
@pytest.mark.parametrize("unsorted", [False, True])
def test_binning_paths_equal_histogram_on_the_clock(bin_size, unsorted):
    rng = np.random.default_rng(int(bin_size * 1000) + unsorted)
    trains = []
    for _ in range(6):
        ticks = np.concatenate([rng.integers(-3000, 40 * CLOCK, 600), np.arange(0, 40 * CLOCK, round(bin_size * CLOCK))])
        t = ticks / CLOCK
        trains.append(rng.permutation(t) if unsorted else np.sort(t))
    t_start, t_stop = 0.0, 39.5
    got, ordered = _bin_trains(trains, bin_size, t_start, t_stop)
    per_bin = round(bin_size * CLOCK)
    n_bins = int(np.ceil(round(t_stop * CLOCK) / per_bin))
    for j, t in enumerate(trains):
        ticks = np.round(t * CLOCK).astype(np.int64)
        ticks = ticks[(ticks >= 0) & (ticks < round(t_stop * CLOCK))]
        want = np.bincount(ticks // per_bin, minlength=n_bins)
        np.testing.assert_array_equal(got[:, j], want)
        np.testing.assert_array_equal(ordered[j], np.sort(t))
        assert ordered[j] is t or unsorted
    np.testing.assert_array_equal(bin_spike_times(trains, bin_size, t_start, t_stop), got)


def test_binning_widens_on_repeats_and_refuses_small_dtype():
    t = np.full(300, 0.5)  # 300 spikes in one bin: more than uint8 holds
    out = bin_spike_times([t, np.array([0.1, 0.1, 0.2])], 0.1, 0.0, 1.0)
    assert out.dtype == np.uint16 and out[5, 0] == 300 and out[1, 1] == 2 and out[2, 1] == 1
    with pytest.raises(nc.errors.InvalidParameterError, match="cannot hold a count of 300"):
        bin_spike_times([t], 0.1, 0.0, 1.0, dtype=np.uint8)
    few = np.concatenate([np.arange(1000) * 0.01, [0.5] * 3])  # a few repeats among many single bins
    out = bin_spike_times([few], 0.01, 0.0, 10.0)
    assert out.sum() == 1003 and out[50, 0] == 4


@pytest.mark.parametrize(("t_start", "bin_size", "n_bins"),
                         [(0.0, 0.001, 100_000), (-0.3, 0.1, 1000), (12.345, 0.025, 5000), (1e9, 0.001, 100)])
def test_bin_starts_equal_exact_edges(t_start, bin_size, n_bins):
    from neurocomplex.binning import _bin_starts, _edges, _grid

    grid = _grid(t_start, bin_size)
    np.testing.assert_array_equal(_bin_starts(n_bins, t_start, bin_size, grid),
                                  _edges(np.arange(n_bins), t_start, bin_size, grid))
