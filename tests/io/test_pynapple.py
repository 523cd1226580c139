"""pynapple objects in and out, on real pynapple objects (a real NWB file read by pynapple included)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import neurocomplex as nc

nap = pytest.importorskip("pynapple")

REAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "human_mtl_rutishauser_sub-4_ses-4.nwb"


@pytest.fixture(scope="module")
def mtl():
    if not REAL.exists():
        pytest.skip(f"{REAL} not present")
    with warnings.catch_warnings():  # pynwb checks the file's stimulus OpticalSeries, which holds no frames
        warnings.filterwarnings("ignore", message="OpticalSeries 'StimulusPresentation_encoding'",
                                category=UserWarning, module="pynwb")
        data = nap.load_file(str(REAL))
        return {"units": data["units"], "encoding": data["encoding_table"]}


def test_real_tsgroup_counts_equal_from_spike_times(mtl):
    units = mtl["units"]
    rec = nc.load(units, bin_size=0.1)
    trains = [np.asarray(units[k].t) for k in units.keys()]
    ref = nc.Recording.from_spike_times(trains, bin_size=0.1, t_start=rec.metadata["t_start"],
                                        t_stop=rec.metadata["t_stop"])
    np.testing.assert_array_equal(rec.data, ref.data)
    np.testing.assert_array_equal(rec.times, ref.times)
    # the time support is the window; its end holds the last spike, which is counted
    support = units.time_support
    assert rec.metadata["t_start"] == float(support.start[0])
    assert rec.data.sum() == sum(t.size for t in trains) == 214_278
    # groups from the location metadata column (bytes in this file), the same as the NWB reader's
    assert rec.metadata["group_source"] == "metadata/location"
    np.testing.assert_array_equal(rec.groups, nc.load(REAL, bin_size=0.1).groups)
    np.testing.assert_array_equal(rec.unit_ids, np.asarray(list(units.keys())))
    # Recording.from_spike_times takes the TsGroup itself
    direct = nc.Recording.from_spike_times(units, bin_size=0.1, t_start=rec.metadata["t_start"],
                                           t_stop=rec.metadata["t_stop"])
    np.testing.assert_array_equal(direct.data, rec.data)
    np.testing.assert_array_equal(direct.unit_ids, rec.unit_ids)


def test_real_intervalset_trials(mtl):
    """An IntervalSet (with its metadata columns) wherever intervals are taken."""
    iset = mtl["encoding"]
    rec = nc.load(mtl["units"], bin_size=0.1, intervals={"encoding": iset})
    from_nwb = nc.load(REAL, bin_size=0.1)
    resp = rec.trial_responses(iset, window=(0.0, 1.0))
    expected = from_nwb.trial_responses("encoding_table", window=(0.0, 1.0))
    np.testing.assert_array_equal(resp.data, expected.data)
    assert "stimCategory" in resp.labels.columns and resp.labels["stimCategory"].tolist() == \
        expected.labels["stimCategory"].tolist()
    np.testing.assert_array_equal(rec.trial_responses("encoding", window=(0.0, 1.0)).data, resp.data)
    # restrict to the trials equals restricting with the NWB table, on the same bins
    table = from_nwb.intervals["encoding_table"]
    np.testing.assert_array_equal(rec.restrict(iset).data, rec.restrict(table).data)
    assert rec.restrict(iset).n_samples > 0


def test_tsgroup_groups_window_and_epochs():
    group = nap.TsGroup({3: nap.Ts(t=[0.05, 0.35, 2.15]), 7: nap.Ts(t=[0.2, 2.05])},
                        time_support=nap.IntervalSet(start=[0.0, 2.0], end=[0.4, 2.2]), metadata={"area": ["V1", "LM"]})
    rec = nc.load(group, bin_size=0.1)
    # bins inside the two epochs only (the 1.6 s between them were not recorded)
    np.testing.assert_allclose(rec.times, [0.0, 0.1, 0.2, 0.3, 2.0, 2.1])
    np.testing.assert_array_equal(rec.data, [[1, 0], [0, 0], [0, 1], [1, 0], [0, 1], [1, 0]])
    assert rec.groups.tolist() == ["V1", "LM"] and rec.unit_ids.tolist() == [3, 7]
    assert rec.metadata["bins_outside_support"] == 16
    # an explicit window keeps every bin
    whole = nc.load(group, bin_size=0.1, t_start=0.0, t_stop=2.2, units=[7])
    assert whole.n_samples == 22 and whole.unit_ids.tolist() == [7] and whole.data.sum() == 2
    assert nc.load(group, bin_size=0.1, group_column="rate").groups.tolist() == [str(r) for r in group.metadata["rate"]]
    with pytest.raises(nc.InvalidParameterError, match="group_column='nope'"):
        nc.load(group, group_column="nope")
    with pytest.raises(nc.InvalidParameterError, match=r"ids \[9\]"):
        nc.load(group, units=[9])


def test_tsdframe_rates_and_trials():
    rng = np.random.default_rng(4)
    t = np.arange(200) * 0.05 + 1.0
    values = rng.normal(size=(200, 3))
    frame = nap.TsdFrame(t=t, d=values, columns=["a", "b", "c"], metadata={"location": ["CA1", "CA1", "CA3"]})
    rec = nc.load(frame)
    assert rec.kind == "rates" and rec.bin_size == pytest.approx(0.05)
    np.testing.assert_array_equal(rec.data, values)
    np.testing.assert_array_equal(rec.times, t)
    assert rec.unit_ids.tolist() == ["a", "b", "c"] and rec.groups.tolist() == ["CA1", "CA1", "CA3"]
    trials = nap.IntervalSet(start=[2.0, 5.0], end=[3.0, 6.0], metadata={"stim": ["x", "y"]})
    resp = rec.trial_responses(trials, window=(0.0, 0.5), statistic="mean")
    np.testing.assert_allclose(resp.data, [values[20:30].mean(axis=0), values[80:90].mean(axis=0)])
    assert resp.labels["stim"].tolist() == ["x", "y"]
    part = nc.load(frame, t_start=2.0, t_stop=3.0, kind="activations", units=["c"])
    np.testing.assert_array_equal(part.data, values[20:40, 2:])
    single = nc.load(nap.Tsd(t=t, d=values[:, 0]))
    assert single.n_units == 1 and single.unit_ids.tolist() == [0]
    np.testing.assert_array_equal(single.data[:, 0], values[:, 0])


def test_to_pynapple_round_trip():
    rec = nc.Recording.from_spike_times([[0.01, 0.5, 0.51], [0.3]], bin_size=0.1, groups=["CA1", "CA3"],
                                        unit_ids=[4, 9])
    frame = rec.to_pynapple()
    assert type(frame).__name__ == "TsdFrame"
    np.testing.assert_array_equal(frame.t, rec.times)
    np.testing.assert_array_equal(frame.values, rec.data)
    assert list(frame.columns) == [4, 9] and frame.metadata["group"].tolist() == ["CA1", "CA3"]
    np.testing.assert_allclose([frame.time_support.start[0], frame.time_support.end[-1]], [0.0, 0.6])
    back = nc.load(frame, kind="spike_counts", group_column="group")
    np.testing.assert_array_equal(back.data, rec.data)
    np.testing.assert_array_equal(back.groups, rec.groups)
    gapped = rec.restrict(pd.DataFrame({"start_time": [0.0, 0.4], "stop_time": [0.2, 0.6]})).to_pynapple()
    np.testing.assert_allclose(np.column_stack([gapped.time_support.start, gapped.time_support.end]),
                               [[0.0, 0.2], [0.4, 0.6]])
    responses = rec.trial_responses(pd.DataFrame({"start_time": [0.0], "stop_time": [0.5]}), window=(0.0, 0.5))
    with pytest.raises(nc.InvalidParameterError, match="no times"):
        responses.to_pynapple()


def test_unsupported_pynapple_objects():
    with pytest.raises(nc.UnsupportedSourceError, match="not a IntervalSet: pass it as intervals="):
        nc.load(nap.IntervalSet(0, 1))
    with pytest.raises(nc.UnsupportedSourceError, match="TsdTensor"):
        nc.load(nap.TsdTensor(t=np.arange(3.0), d=np.zeros((3, 2, 2))))
    with pytest.raises(nc.InvalidParameterError, match="takes no option 'series'"):
        nc.load(nap.TsGroup({1: nap.Ts(t=[0.1, 0.2])}, time_support=nap.IntervalSet(0, 1)), series="x")


def test_intervalset_without_metadata_gives_the_table_of_its_dataframe():
    # Without metadata the table is built from start/end directly (as_dataframe's concatenation
    # cost about 1 ms a call): the same frame, and the same trial responses.
    from neurocomplex.recording import interval_table

    starts = np.arange(6) * 3.0 + 0.25
    iset = nap.IntervalSet(start=starts, end=starts + 1.0)
    expected = iset.as_dataframe().rename(columns={"start": "start_time", "end": "stop_time"})
    pd.testing.assert_frame_equal(interval_table(iset), expected)
    rng = np.random.default_rng(3)
    rec = nc.Recording.from_spike_times([np.sort(rng.uniform(0, 20, 80)) for _ in range(4)], bin_size=0.01,
                                        t_stop=20.0)
    np.testing.assert_array_equal(rec.trial_responses(iset).data, rec.trial_responses(expected).data)
