"""Binning in groups of units whose flat indices are sorted and written together: the counts equal a
per-unit histogram whatever the grouping, the repeat rate and the widening of the output."""

from __future__ import annotations

import numpy as np
import pytest

from neurocomplex import binning
from neurocomplex.binning import bin_spike_times
from neurocomplex.errors import InvalidParameterError


def _trains() -> list[np.ndarray]:
    rng = np.random.default_rng(3)
    trains = [np.sort(rng.integers(0, 30_000 * 2, size=n)) / 30_000.0 for n in (40, 0, 75, 12, 300)]
    trains[2] = trains[2][::-1].copy()  # out of order: sorted first
    trains.append(np.full(400, 0.5005))  # 400 spikes in one bin: widens uint8 in a later group
    trains.append(np.concatenate([trains[0], [-1.0, 2.5]]))  # spikes outside the window
    trains.append(np.repeat(np.arange(0.0, 2.0, 0.01), 3))  # every spike repeats a bin: run lengths
    return trains


def _histogram(trains: list[np.ndarray], bin_size: float, t_stop: float) -> np.ndarray:
    edges = np.round(np.arange(0, round(t_stop / bin_size) + 1) * bin_size, 12)
    return np.stack([np.histogram(t[(t >= 0) & (t < t_stop)], edges)[0] for t in trains], axis=1)


@pytest.mark.parametrize("cells_per_spike", [8, 10**9])  # this data: grouped and sorted; unit by unit
@pytest.mark.parametrize("group_spikes", [1, 50, 400, 1 << 22])
def test_counts_equal_a_histogram_for_any_grouping(group_spikes, cells_per_spike, monkeypatch):
    monkeypatch.setattr(binning, "_GROUP_SPIKES", group_spikes)
    monkeypatch.setattr(binning, "_SPARSE_CELLS_PER_SPIKE", cells_per_spike)
    trains = _trains()
    counts = bin_spike_times(trains, 0.001, 0.0, 2.0)
    assert counts.dtype == np.uint16  # the largest count, 400, needs it
    np.testing.assert_array_equal(counts, _histogram(trains, 0.001, 2.0))
    small = bin_spike_times(trains[:5], 0.001, 0.0, 2.0)
    assert small.dtype == np.uint8
    np.testing.assert_array_equal(small, _histogram(trains[:5], 0.001, 2.0))


def test_a_dtype_too_small_names_the_unit(monkeypatch):
    monkeypatch.setattr(binning, "_GROUP_SPIKES", 50)
    with pytest.raises(InvalidParameterError, match=r"cannot hold a count of 400 \(unit 5\)"):
        bin_spike_times(_trains(), 0.001, 0.0, 2.0, dtype=np.uint8)
    floats = bin_spike_times(_trains(), 0.001, 0.0, 2.0, dtype=np.float32)
    assert floats.dtype == np.float32 and floats[:, 5].max() == 400
