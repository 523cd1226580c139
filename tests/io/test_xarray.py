"""xarray in and out: Recording -> DataArray -> Recording, on real xarray objects."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import neurocomplex as nc

xr = pytest.importorskip("xarray")


def _same(a: nc.Recording, b: nc.Recording) -> None:
    np.testing.assert_array_equal(a.data, b.data)
    assert a.data.dtype == b.data.dtype and a.kind == b.kind and a.bin_size == b.bin_size
    np.testing.assert_array_equal(a.unit_ids, b.unit_ids)
    np.testing.assert_array_equal(a.groups, b.groups)
    if a.times is None:
        assert b.times is None
    else:
        np.testing.assert_array_equal(a.times, b.times)


def test_time_series_round_trip():
    rec = nc.Recording.from_spike_times([[0.01, 0.5, 0.51], [0.3], [0.05]], bin_size=0.1, groups=["CA1", "CA3", "CA1"],
                                        unit_ids=[10, 11, 12])
    da = rec.to_xarray()
    assert da.dims == ("time", "unit")
    np.testing.assert_array_equal(da.coords["time"].values, rec.times)
    assert da.coords["unit"].values.tolist() == [10, 11, 12] and da.coords["group"].values.tolist() == ["CA1", "CA3", "CA1"]
    assert da.attrs["kind"] == "spike_counts" and da.attrs["bin_size"] == 0.1
    assert da.attrs["t_start"] == 0.0 and da.attrs["t_stop"] == pytest.approx(0.6)
    # xarray's own selection works on it, and the result loads too
    assert da.sel(unit=11).sum().item() == 1
    assert da.groupby("group").sum().sel(group="CA1").sum().item() == 4
    back = nc.load(da)
    _same(back, rec)
    assert back.metadata["t_stop"] == rec.metadata["t_stop"]
    _same(nc.load(da.transpose("unit", "time")), rec)  # dim order does not matter


def test_trial_responses_keep_their_labels():
    rec = nc.Recording.from_spike_times([[0.1, 1.2, 2.3, 2.4], [1.1]], bin_size=0.1, t_stop=3.0)
    trials = pd.DataFrame({"start_time": [0.0, 1.0, 2.0], "stop_time": [1.0, 2.0, 3.0], "stim": ["a", "b", "a"],
                           "unit": [5, 6, 7]})  # a label named like a dim keeps a prefix
    resp = rec.trial_responses(trials, window=(0.0, 0.5))
    da = resp.to_xarray()
    assert da.dims == ("sample", "unit") and "bin_size" not in da.attrs and da.attrs["unit"] == "spikes"
    assert da.coords["stim"].dims == ("sample",) and da.coords["stim"].values.tolist() == ["a", "b", "a"]
    assert da.coords["label_unit"].values.tolist() == [5, 6, 7]
    assert da.groupby("stim").mean().sel(stim="a").values.tolist() == [1.5, 0.0]
    back = nc.load(da)
    _same(back, resp)
    pd.testing.assert_frame_equal(back.labels, resp.labels)
    assert back.metadata["unit"] == "spikes"


def test_foreign_dataarrays():
    values = np.arange(12.0).reshape(4, 3)
    da = xr.DataArray(values, dims=("trial", "neuron"), coords={"neuron": ["n1", "n2", "n3"], "cond": ("trial", list("abab"))})
    rec = nc.load(da, kind="responses", unit_dim="neuron")
    np.testing.assert_array_equal(rec.data, values)
    assert rec.unit_ids.tolist() == ["n1", "n2", "n3"] and rec.labels["cond"].tolist() == list("abab")
    assert rec.times is None and rec.kind == "responses"
    with pytest.raises(nc.InvalidDataError, match="not 2-D"):
        nc.load(xr.DataArray(np.zeros((2, 2, 2)), dims=("a", "b", "c")))
    dates = xr.DataArray(values, dims=("time", "unit"), coords={"time": pd.date_range("2024-01-01", periods=4)})
    with pytest.raises(nc.InvalidDataError, match="seconds as numbers"):
        nc.load(dates)
    with pytest.raises(nc.InvalidParameterError, match="kind="):
        nc.load(da, kind="nonsense")
