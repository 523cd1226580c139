"""Real data: the nelpy hippocampus .mat spike times binned into a Recording (skips without the file)."""

from __future__ import annotations

import math

import numpy as np

import neurocomplex as nc


def test_hippocampus_mat_recording(hippocampus_spike_times):
    trains = hippocampus_spike_times
    first = min(float(t.min()) for t in trains)
    last = max(float(t.max()) for t in trains)
    n_spikes = sum(t.size for t in trains)
    assert len(trains) == 31 and n_spikes == 28_829  # the data README's numbers
    t_start = float(math.floor(first))
    rec = nc.Recording.from_spike_times(trains, bin_size=0.1, t_start=t_start)
    assert rec.n_units == 31 and rec.kind == "spike_counts"
    assert int(rec.data.sum(dtype=np.int64)) == 28_829  # every spike counted exactly once
    # per-unit totals, not just the grand total
    np.testing.assert_array_equal(rec.data.sum(axis=0, dtype=np.int64), [t.size for t in trains])
    # the span: ~4397 s to ~6365 s, whole 0.1 s bins, last bin holds the last spike
    assert t_start == 4397.0
    assert 6364.0 < last < 6366.0
    assert rec.times[0] == t_start
    assert rec.times[-1] <= last < rec.times[-1] + 0.1 + 1e-9
    assert rec.n_samples == math.floor((last - t_start) / 0.1) + 1
    # where the spikes fall: the bin of the first spike is counted in the first bins
    first_bin = int((first - t_start) // 0.1)
    assert rec.data[first_bin].sum() >= 1 and rec.data[:first_bin].sum() == 0
