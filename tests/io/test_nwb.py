"""NWB backend: files written with pynwb, values checked against numpy and raw h5py reads."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest

import neurocomplex as nc
from neurocomplex.io import _nwb_read as nwb_read
from neurocomplex.io.nwb import describe, load_nwb, write_nwb

LOCATIONS = ["CA1", "CA1", "V1", "V1"]  # one per electrode
UNIT_ELECTRODE = [0, 2, 1, 3, 2]  # electrode of each unit
UNIT_IDS = [10, 11, 12, 13, 14]


def _nwbfile():
    import pynwb

    return pynwb.NWBFile(session_description="test session", identifier="test-id",
                         session_start_time=datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC))


def _write(nwbfile, path: Path) -> Path:
    import pynwb

    with pynwb.NWBHDF5IO(str(path), mode="w") as io:
        io.write(nwbfile)
    return path


def make_spike_times(seed: int = 7) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    sizes = [300, 40, 0, 150, 1]  # includes an empty unit and a single-spike unit
    return [np.sort(rng.uniform(0.33, 9.87, size=n)) for n in sizes]


def write_units_file(path: Path, spike_times: list[np.ndarray], unit_column: bool = False) -> Path:
    """Units with electrodes in two locations, a trials table and one extra interval table."""
    from pynwb.epoch import TimeIntervals

    nwbfile = _nwbfile()
    device = nwbfile.create_device(name="probe")
    groups = {loc: nwbfile.create_electrode_group(name=f"shank_{loc}", description="shank", location=loc, device=device)
              for loc in dict.fromkeys(LOCATIONS)}
    for loc in LOCATIONS:
        nwbfile.add_electrode(group=groups[loc], location=loc)
    if unit_column:
        nwbfile.add_unit_column(name="brain_area", description="area")
    for uid, st, el in zip(UNIT_IDS, spike_times, UNIT_ELECTRODE):
        extra = {"brain_area": f"area{uid % 2}"} if unit_column else {}
        nwbfile.add_unit(spike_times=st, electrodes=[el], id=uid, **extra)
    nwbfile.add_trial_column(name="condition", description="condition label")
    for start, stop, cond in [(0.5, 1.5, "a"), (3.0, 4.0, "b"), (6.0, 7.5, "a")]:
        nwbfile.add_trial(start_time=start, stop_time=stop, condition=cond)
    sleep = TimeIntervals(name="sleep", description="sleep epochs")
    sleep.add_interval(start_time=8.0, stop_time=9.0)
    nwbfile.add_time_intervals(sleep)
    return _write(nwbfile, path)


def _sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _expected_counts(spike_times: list[np.ndarray], edges: np.ndarray) -> np.ndarray:
    return np.stack([np.histogram(st, bins=edges)[0] for st in spike_times], axis=1)


@pytest.fixture(scope="module")
def spikes() -> list[np.ndarray]:
    return make_spike_times()


@pytest.fixture(scope="module")
def units_path(tmp_path_factory, spikes) -> Path:
    return write_units_file(tmp_path_factory.mktemp("nwb") / "units.nwb", spikes)


# --------------------------------------------------------------------------- Units table
def test_units_counts_equal_histogram(units_path, spikes):
    rec = nc.load(units_path, bin_size=0.05)
    assert rec.kind == "spike_counts" and rec.bin_size == 0.05
    assert rec.unit_ids.tolist() == UNIT_IDS
    # default window: from the bin (grid k * bin_size) holding the first spike to the end of the bin of the last
    first = min(st.min() for st in spikes if st.size)
    last = max(st.max() for st in spikes if st.size)
    assert rec.times[0] == pytest.approx(np.floor(first / 0.05) * 0.05)
    assert rec.times[0] <= first < rec.times[0] + 0.05
    assert rec.times[-1] <= last < rec.times[-1] + 0.05
    edges = np.append(rec.times, rec.times[-1] + 0.05)
    np.testing.assert_array_equal(rec.data, _expected_counts(spikes, edges))
    assert rec.data.sum(axis=0).tolist() == [st.size for st in spikes]
    assert rec.source == str(units_path)
    assert rec.metadata["session_description"] == "test session"
    assert rec.metadata["identifier"] == "test-id"
    assert rec.metadata["session_start_time"].startswith("2024-01-02T03:04:05")


def test_units_groups_from_electrode_locations(units_path):
    rec = nc.load(units_path)
    assert rec.groups.tolist() == [LOCATIONS[e] for e in UNIT_ELECTRODE]
    assert rec.metadata["group_source"] == "electrodes/location"
    assert rec.select(groups="V1").unit_ids.tolist() == [11, 13, 14]


def test_units_group_column_and_selection(tmp_path, spikes):
    path = write_units_file(tmp_path / "col.nwb", spikes, unit_column=True)
    rec = nc.load(path)  # a unit-level brain_area column wins over electrode locations
    assert rec.groups.tolist() == [f"area{u % 2}" for u in UNIT_IDS]
    rec = nc.load(path, group_column="group_name", units=[14, 11])  # an electrodes-table column
    assert rec.unit_ids.tolist() == [11, 14]  # file order kept
    assert rec.groups.tolist() == ["shank_V1", "shank_V1"]
    with pytest.raises(nc.InvalidParameterError, match="group_column='nope'"):
        nc.load(path, group_column="nope")
    with pytest.raises(nc.InvalidParameterError, match=r"ids \[99\]"):
        nc.load(path, units=[10, 99])


def test_intervals_are_dataframes_usable_by_restrict(units_path):
    rec = nc.load(units_path, bin_size=0.1)
    assert set(rec.intervals) == {"trials", "sleep"}
    trials = rec.intervals["trials"]
    assert isinstance(trials, pd.DataFrame)
    assert trials["start_time"].tolist() == [0.5, 3.0, 6.0]
    assert trials["condition"].tolist() == ["a", "b", "a"]
    inside = rec.restrict(trials)
    # trial lengths 1.0 + 1.0 + 1.5 s at 0.1 s bins; bins start inside [start, stop)
    assert inside.n_samples == 10 + 10 + 15
    assert rec.intervals["sleep"].shape == (1, 2)


@pytest.mark.parametrize("search_block", [4, 4096])
def test_window_equals_slice_of_full_recording(units_path, spikes, monkeypatch, search_block):
    monkeypatch.setattr(nwb_read, "_SEARCH_BLOCK", search_block)  # 4: exercise the on-disk binary search
    full = nc.load(units_path, bin_size=0.05)
    part = nc.load(units_path, bin_size=0.05, t_start=2.0, t_stop=6.0)
    assert part.n_samples == 80
    np.testing.assert_allclose(part.times, 2.0 + 0.05 * np.arange(80), atol=1e-12)
    edges = 2.0 + 0.05 * np.arange(81)
    np.testing.assert_array_equal(part.data, _expected_counts(spikes, edges))
    sliced = full.restrict(2.0 - 1e-9, 6.0 - 1e-9)
    np.testing.assert_array_equal(part.data, sliced.data)
    # open-ended windows
    tail = nc.load(units_path, bin_size=0.05, t_start=5.0)
    assert tail.data.sum() == sum(int((st >= 5.0).sum()) for st in spikes)


def test_unsorted_unit_is_read_whole_with_warning(tmp_path, spikes, monkeypatch):
    monkeypatch.setattr(nwb_read, "_SEARCH_BLOCK", 4)
    shuffled = [st[::-1].copy() if i == 0 else st for i, st in enumerate(spikes)]
    path = write_units_file(tmp_path / "unsorted.nwb", shuffled)
    with pytest.warns(nc.NeurocomplexWarning, match=r"units \[10\] are not sorted"):
        rec = nc.load(path, bin_size=0.05, progress=True)
    edges = np.append(rec.times, rec.times[-1] + 0.05)
    np.testing.assert_array_equal(rec.data, _expected_counts(spikes, edges))


def test_written_series_window(tmp_path):
    rec = nc.Recording.from_array(np.arange(40.0).reshape(20, 2), sampling_rate=10.0, t_start=1.0)
    path = tmp_path / "rates.nwb"
    rec.to_nwb(path)
    part = nc.load(path, t_start=1.5, t_stop=2.0)
    _same(rec.restrict(1.5, 2.0), part)
    part = nc.load(path, series="processing/neurocomplex/activity", units=[1])
    np.testing.assert_array_equal(part.data[:, 0], rec.data[:, 1])


def test_describe_matches_load_without_changing_file(units_path, spikes):
    before = _sha256(units_path)
    info = describe(units_path, bin_size=0.05)
    rec = load_nwb(units_path, bin_size=0.05)
    assert _sha256(units_path) == before
    units = info["units"]
    assert units["n_units"] == 5 and units["n_spikes"] == sum(st.size for st in spikes)
    assert units["groups"] == {"CA1": 2, "V1": 3}
    assert units["t_first"] == min(st.min() for st in spikes if st.size)
    assert units["t_last"] == max(st.max() for st in spikes if st.size)
    assert info["intervals"]["trials"] == {"n_rows": 3, "columns": ["start_time", "stop_time", "condition"]}
    assert f"n_samples={rec.n_samples}, n_units=5" in info["load"]


# --------------------------------------------------------------------------- time series
def test_timeseries_rate_and_timestamps(tmp_path):
    import pynwb

    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 3))
    y = rng.normal(size=40)
    stamps = np.cumsum(rng.uniform(0.01, 0.03, size=40)) + 1.0
    nwbfile = _nwbfile()
    nwbfile.add_acquisition(pynwb.TimeSeries(name="lfp", data=x, unit="V", starting_time=2.0, rate=20.0))
    nwbfile.add_acquisition(pynwb.TimeSeries(name="speed", data=y, unit="m/s", timestamps=stamps))
    path = _write(nwbfile, tmp_path / "ts.nwb")

    rec = nc.load(path, series="acquisition/lfp")
    assert rec.kind == "rates" and rec.n_units == 3 and rec.bin_size == pytest.approx(0.05)
    np.testing.assert_array_equal(rec.data, x)
    np.testing.assert_allclose(rec.times, 2.0 + np.arange(50) / 20.0)
    assert rec.unit_ids.tolist() == [0, 1, 2]
    part = nc.load(path, series="/acquisition/lfp", t_start=2.5, t_stop=3.0)  # rows 10..19
    np.testing.assert_array_equal(part.data, x[10:20])

    rec = nc.load(path, series="acquisition/speed")
    np.testing.assert_array_equal(rec.data[:, 0], y)
    np.testing.assert_array_equal(rec.times, stamps)
    part = nc.load(path, series="acquisition/speed", t_start=stamps[5], t_stop=stamps[12])
    np.testing.assert_array_equal(part.times, stamps[5:12])
    with pytest.raises(nc.MissingTableError, match="no Units table"):
        nc.load(path)  # the message lists the series
    with pytest.raises(nc.MissingTableError, match="acquisition/lfp"):
        nc.load(path)


def test_roi_response_series_ids_and_location(tmp_path):
    from pynwb.ophys import ImageSegmentation, OpticalChannel, RoiResponseSeries

    nwbfile = _nwbfile()
    device = nwbfile.create_device(name="scope")
    channel = OpticalChannel(name="green", description="green", emission_lambda=520.0)
    plane = nwbfile.create_imaging_plane(name="plane", optical_channel=channel, description="plane", device=device,
                                         excitation_lambda=920.0, indicator="GCaMP6f", location="VISp", imaging_rate=30.0)
    seg = ImageSegmentation()
    ps = seg.create_plane_segmentation(name="cells", description="rois", imaging_plane=plane)
    for roi_id in (100, 101, 102, 103):
        ps.add_roi(id=roi_id, image_mask=np.ones((4, 4)))
    module = nwbfile.create_processing_module(name="ophys", description="ophys")
    module.add(seg)
    region = ps.create_roi_table_region(region=[1, 3], description="two cells")
    traces = np.random.default_rng(1).uniform(size=(30, 2)).astype(np.float32)
    module.add(RoiResponseSeries(name="dff", data=traces, rois=region, unit="a.u.", rate=30.0))
    path = _write(nwbfile, tmp_path / "ophys.nwb")

    rec = nc.load(path, series="processing/ophys/dff")
    np.testing.assert_array_equal(rec.data, traces)
    assert rec.unit_ids.tolist() == [101, 103]
    assert rec.groups.tolist() == ["VISp", "VISp"]
    np.testing.assert_allclose(rec.times, np.arange(30) / 30.0)


# --------------------------------------------------------------------------- write_nwb round trip
def _same(a, b) -> None:
    np.testing.assert_array_equal(a.data, b.data)
    assert a.data.dtype == b.data.dtype
    np.testing.assert_array_equal(a.unit_ids, b.unit_ids)
    np.testing.assert_array_equal(a.groups, b.groups)
    assert a.kind == b.kind and a.bin_size == b.bin_size
    if a.times is None:
        assert b.times is None
    else:
        np.testing.assert_array_equal(a.times, b.times)


@pytest.mark.parametrize("case", ["counts", "rates_irregular", "activations", "restricted"])
def test_to_nwb_round_trip(tmp_path, case):
    rng = np.random.default_rng(3)
    trials = pd.DataFrame({"start_time": [0.0, 0.4], "stop_time": [0.2, 0.6], "cond": ["x", "y"], "n": [1, 2]})
    if case == "counts":
        rec = nc.Recording.from_spike_times([rng.uniform(0, 1, 30), rng.uniform(0, 1, 5)], bin_size=0.1,
                                            unit_ids=["a", "b"], groups=["CA1", "CA3"], intervals={"trials": trials})
    elif case == "rates_irregular":
        rec = nc.Recording.from_array(rng.normal(size=(5, 3)), times=[0.0, 1.0, 3.0, 4.0, 7.5], groups=["x", "y", "x"])
    elif case == "activations":
        rec = nc.Recording.from_array(rng.normal(size=(6, 4)).astype(np.float32), kind="activations")
    else:
        rec = nc.Recording.from_array(rng.normal(size=(40, 2)), sampling_rate=30.0, t_start=1.5).restrict(1.7, 2.5)
    path = tmp_path / "rec.nwb"
    rec.to_nwb(path)
    back = nc.load(path)
    _same(rec, back)
    if case == "counts":
        pd.testing.assert_frame_equal(back.intervals["trials"], trials.rename_axis("id"))
        assert back.metadata["t_stop"] == rec.metadata["t_stop"]
    with pytest.raises(nc.InvalidParameterError, match="already exists"):
        rec.to_nwb(path)
    write_nwb(rec, path, overwrite=True)
    _same(rec, nc.load(path))
    nc.write_nwb(rec, tmp_path / "public.nwb")  # the public name of the same writer
    _same(rec, nc.load(tmp_path / "public.nwb"))


# --------------------------------------------------------------------------- errors
@pytest.fixture(scope="module")
def bad_files(tmp_path_factory, units_path) -> dict[str, Path]:
    import pynwb

    d = tmp_path_factory.mktemp("bad")
    text = d / "x.nwb"
    text.write_text("this is not an HDF5 file\n")
    truncated = d / "truncated.nwb"
    raw = units_path.read_bytes()
    truncated.write_bytes(raw[: len(raw) // 2])
    plain_h5 = d / "no_units.nwb"
    nwbfile = _nwbfile()
    nwbfile.add_acquisition(pynwb.TimeSeries(name="signal", data=np.zeros(5), unit="V", rate=1.0))
    _write(nwbfile, plain_h5)
    return {"text": text, "truncated": truncated, "no_units": plain_h5, "good": units_path,
            "missing": d / "missing.nwb", "mat": d / "data.mat", "csv": d / "data.csv"}


@pytest.mark.parametrize(
    ("file", "options", "error", "fragment"),
    [
        ("missing", {}, nc.MissingFileError, "not found: .*missing.nwb"),
        ("text", {}, nc.CorruptFileError, "x.nwb.* is not an HDF5 file"),
        ("truncated", {}, nc.CorruptFileError, "truncated.nwb.*truncated or damaged"),
        ("no_units", {}, nc.MissingTableError, "no_units.nwb.* has no Units table.*acquisition/signal"),
        ("good", {"series": "acquisition/nope"}, nc.MissingTableError, "units.nwb.* no time series at 'acquisition/nope'"),
        ("no_units", {"series": "acquisition/nope"}, nc.MissingTableError, r"Series in the file: \['acquisition/signal'\]"),
        ("good", {"bin_size": 0.0}, nc.InvalidParameterError, "bin_size=0.0"),
        ("good", {"bin_size": -1}, nc.InvalidParameterError, "bin_size=-1"),
        ("good", {"t_start": 2.0, "t_stop": 2.0}, nc.InvalidParameterError, "t_stop > t_start"),
        ("good", {"t_start": 5.0, "t_stop": 1.0}, nc.InvalidParameterError, "t_stop > t_start"),
        ("mat", {}, nc.UnsupportedSourceError, "data.mat.*suffix '.mat'"),
        ("csv", {}, nc.UnsupportedSourceError, "data.csv.*suffix '.csv'"),
    ],
)
def test_bad_inputs(bad_files, file, options, error, fragment):
    with pytest.raises(error, match=fragment):
        nc.load(bad_files[file], **options)
    with pytest.raises(nc.NeurocomplexError):
        load_nwb(str(bad_files[file]), **options)


def test_describe_errors_and_no_modification(bad_files):
    with pytest.raises(nc.CorruptFileError, match="truncated"):
        describe(bad_files["truncated"])
    with pytest.raises(nc.MissingFileError):
        describe(bad_files["missing"])
    before = _sha256(bad_files["no_units"])
    info = describe(bad_files["no_units"])
    assert info["units"] is None and "series='acquisition/signal'" in info["load"]
    nc.load(bad_files["no_units"], series="acquisition/signal")
    assert _sha256(bad_files["no_units"]) == before


# --------------------------------------------------------------------------- real recording
@pytest.fixture(scope="module")
def mtl(mtl_nwb_path):
    before = _sha256(mtl_nwb_path)
    rec = nc.load(mtl_nwb_path, bin_size=0.05)
    return rec, before


def test_real_mtl_units_counts(mtl, mtl_nwb_path):
    rec, before = mtl
    with h5py.File(mtl_nwb_path, "r") as f:
        index = f["units/spike_times_index"][()].astype(np.int64)
        spike_times = f["units/spike_times"][()]
        ids = f["units/id"][()]
    lengths = np.diff(np.concatenate(([0], index)))
    assert rec.n_units == 35 and lengths.size == 35
    assert rec.unit_ids.tolist() == ids.tolist()
    np.testing.assert_array_equal(rec.data.sum(axis=0), lengths)
    assert rec.data.sum() == 214278
    # one unit's counts against numpy directly
    edges = np.append(rec.times, rec.times[-1] + 0.05)
    unit = 7
    np.testing.assert_array_equal(rec.data[:, unit], np.histogram(spike_times[index[unit - 1]:index[unit]], edges)[0])
    info = describe(mtl_nwb_path, bin_size=0.05)
    assert info["units"]["n_spikes"] == 214278 and f"n_samples={rec.n_samples}, n_units=35" in info["load"]
    assert _sha256(mtl_nwb_path) == before


def test_real_mtl_groups_and_trial_tables(mtl, mtl_nwb_path):
    rec, _ = mtl
    with h5py.File(mtl_nwb_path, "r") as f:
        rows = f["units/electrodes"][()]
        locations = f["general/extracellular_ephys/electrodes/location"].asstr()[()]
        n_rows = {name: f[f"intervals/{name}/id"].shape[0] for name in f["intervals"]}
    assert rec.groups.tolist() == [locations[r] for r in rows]
    assert set(np.unique(rec.groups)) == {"amygdala_right", "hippocampus_right"}
    assert n_rows["encoding_table"] == 90
    for name, n in n_rows.items():
        assert len(rec.intervals[name]) == n
    assert rec.intervals["encoding_table"]["stimCategory"].size == 90
    encoding = rec.restrict(rec.intervals["encoding_table"])
    assert 0 < encoding.n_samples < rec.n_samples


def test_real_mtl_window_read(mtl, mtl_nwb_path):
    rec, _ = mtl
    part = nc.load(mtl_nwb_path, bin_size=0.05, t_start=100.0, t_stop=200.0)
    np.testing.assert_array_equal(part.data, rec.restrict(100.0 - 1e-9, 200.0 - 1e-9).data)


# --------------------------------------------------------------------------- as pynwb reads them
@pytest.mark.parametrize("channel_dtype", [np.float64, np.float32])
def test_electrical_series_in_units_equals_pynwb(tmp_path, channel_dtype):
    import pynwb
    from pynwb.testing.mock.ecephys import mock_ElectricalSeries

    rng = np.random.default_rng(3)
    raw = rng.integers(-2000, 2000, size=(400, 4)).astype(np.int16)
    nwbfile = _nwbfile()
    mock_ElectricalSeries(name="raw", data=raw, rate=1000.0, conversion=1.95e-7, offset=-0.0031,
                          channel_conversion=np.array([1.0, 2.0, 0.5, 3.3], dtype=channel_dtype), nwbfile=nwbfile)
    path = _write(nwbfile, tmp_path / "es.nwb")
    with pynwb.NWBHDF5IO(str(path), "r") as io:
        expected = io.read().acquisition["raw"].get_data_in_units()
    rec = nc.load(path, series="acquisition/raw")
    assert rec.data.dtype == expected.dtype
    np.testing.assert_array_equal(rec.data, expected)  # bit for bit
    part = nc.load(path, series="acquisition/raw", t_start=0.1, t_stop=0.2)
    np.testing.assert_array_equal(part.data, expected[100:200])
    # channel k really is scaled by channel_conversion[k]
    np.testing.assert_allclose(rec.data[:, 3], raw[:, 3] * 1.95e-7 * 3.3 - 0.0031, rtol=1e-6)


def test_mock_units_counts_equal_elephant(tmp_path):
    neo = pytest.importorskip("neo")
    pq = pytest.importorskip("quantities")
    import pynwb
    from elephant.conversion import BinnedSpikeTrain
    from pynwb.testing.mock.ecephys import mock_Units

    nwbfile = _nwbfile()
    mock_Units(num_units=50, max_spikes_per_unit=400, seed=0, nwbfile=nwbfile)
    path = _write(nwbfile, tmp_path / "mock_units.nwb")
    with pynwb.NWBHDF5IO(str(path), "r") as io:
        units = io.read().units
        trains = [np.asarray(units.get_unit_spike_times(i)) for i in range(len(units))]
    for bin_size in (0.001, 0.01):
        rec = nc.load(path, bin_size=bin_size)
        t0, t1 = rec.metadata["t_start"], rec.metadata["t_stop"]
        sts = [neo.SpikeTrain(t * pq.s, t_start=t0 * pq.s, t_stop=t1 * pq.s) for t in trains]
        expected = BinnedSpikeTrain(sts, bin_size=bin_size * pq.s, t_start=t0 * pq.s, t_stop=t1 * pq.s).to_array().T
        assert rec.data.sum() == sum(t.size for t in trains)
        np.testing.assert_array_equal(rec.data, expected)


def _obs_file(tmp_path, spikes):
    nwbfile = _nwbfile()
    obs = [[[0.0, 10.0]], [[0.0, 4.0], [6.0, 10.0]], [[2.0, 10.0]]]
    for uid, (st, iv) in enumerate(zip(spikes, obs)):
        nwbfile.add_unit(spike_times=st, obs_intervals=iv, id=uid)
    return _write(nwbfile, tmp_path / "obs.nwb")


def test_obs_intervals_warn_drop_or_ignore(tmp_path):
    spikes = [np.array([0.5, 1.5, 2.5, 7.0]), np.array([0.2, 5.0, 6.5]), np.array([1.0, 3.0, 9.5])]
    path = _obs_file(tmp_path, spikes)
    window = {"bin_size": 1.0, "t_start": 0.0, "t_stop": 10.0}
    # default: counted as given, with a warning that says how many spikes and seconds
    with pytest.warns(nc.NeurocomplexWarning, match=r"4.* unit-seconds .* 2 spikes lie outside"):
        rec = nc.load(path, **window)
    assert rec.data.sum() == 10 and rec.n_samples == 10
    # False: same numbers, no warning
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", nc.NeurocomplexWarning)
        plain = nc.load(path, respect_obs_intervals=False, **window)
    np.testing.assert_array_equal(plain.data, rec.data)
    # True: only bins observed for every unit (2-4 s and 6-10 s) are kept
    kept = nc.load(path, respect_obs_intervals=True, **window)
    np.testing.assert_array_equal(kept.times, [2.0, 3.0, 6.0, 7.0, 8.0, 9.0])
    np.testing.assert_array_equal(kept.data, rec.data[[2, 3, 6, 7, 8, 9]])
    assert kept.metadata["obs_intervals"] == {"respected": True, "bins_dropped": 4, "spikes_outside": 2}
    # units observed together: no bin dropped between 2 and 4 s
    assert nc.load(path, respect_obs_intervals=True, units=[0, 2], t_start=2.0, t_stop=4.0, bin_size=1.0).n_samples == 2
    with pytest.raises(nc.InsufficientDataError, match="obs_intervals of every selected unit"):
        nc.load(path, respect_obs_intervals=True, bin_size=1.0, t_start=4.0, t_stop=6.0)
    with pytest.raises(nc.InvalidParameterError, match="respect_obs_intervals must be"):
        nc.load(path, respect_obs_intervals="yes")


def test_obs_intervals_covering_the_window_are_silent(units_path):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", nc.NeurocomplexWarning)
        nc.load(units_path)  # no obs_intervals column: nothing to say


def test_unknown_load_option_names_the_close_match(units_path):
    with pytest.raises(nc.InvalidParameterError, match=r"takes no option 'bin_szie'; did you mean 'bin_size'"):
        nc.load(units_path, bin_szie=0.1)
    with pytest.raises(nc.InvalidParameterError, match="takes no option 'foo'"):
        nc.load(units_path, foo=1)
    with pytest.raises(nc.InvalidParameterError, match="did you mean 'sampling_rate'"):
        nc.load(np.zeros((3, 2)), sampling_rat=10.0)


def test_series_window_rows_are_exact_on_long_recordings():
    """Row i of a rate series is at t0 + i / rate; a window starting on a sample keeps that sample,
    also 10 hours into a 30 kHz recording, where the float quotient is off by ~1e-7 samples."""
    from neurocomplex.io._nwb_read import _first_row_at

    rng = np.random.default_rng(5)
    n_time = 36_000 * 30_000
    for t0 in (0.0, 12.345):
        rows = rng.integers(0, n_time, size=2000)
        times = t0 + rows / 30_000.0
        assert [_first_row_at(t, t0, 30_000.0, n_time) for t in times] == rows.tolist()
        after = np.nextafter(times, np.inf)  # just after a sample: the next row
        assert [_first_row_at(t, t0, 30_000.0, n_time) for t in after] == (rows + 1).tolist()


# --------------------------------------------------------------------------- the session's span
def _session_file(path: Path, spikes: list[np.ndarray], trials: list[tuple[float, float]],
                  series_end: float | None = None, obs_end: float | None = None) -> Path:
    import pynwb

    nwbfile = _nwbfile()
    for uid, st in enumerate(spikes):
        extra = {"obs_intervals": [[0.0, obs_end]]} if obs_end is not None else {}
        nwbfile.add_unit(spike_times=st, id=uid, **extra)
    for start, stop in trials:
        nwbfile.add_trial(start_time=start, stop_time=stop)
    if series_end is not None:  # a 100 Hz signal from 0 to series_end
        n = round(series_end * 100)
        nwbfile.add_acquisition(pynwb.TimeSeries(name="lfp", data=np.zeros(n), unit="V", rate=100.0, starting_time=0.0))
    return _write(nwbfile, path)


def test_default_stop_is_the_end_of_the_session(tmp_path):
    """The last trial ends after the last spike: the default window reaches the trial's end, so it is
    counted (before, the window ended at the last spike's bin and the trial was refused)."""
    spikes = [np.array([0.05, 10.0, 39.85]), np.array([1.0, 39.81])]
    path = _session_file(tmp_path / "s.nwb", spikes, [(0.0, 10.0), (39.85, 39.95)])
    rec = nc.load(path, bin_size=0.1)
    assert rec.metadata["t_stop"] == 40.0 and rec.n_samples == 400
    assert rec.metadata["t_stop_source"] == "the stop_time of intervals/trials"
    resp = rec.trial_responses("trials", window=(0.0, 0.1))
    np.testing.assert_array_equal(resp.data, [[1.0, 0.0], [1.0, 0.0]])
    # the summary says the same window
    assert "n_samples=400," in describe(path, bin_size=0.1)["load"]
    assert describe(path)["session_end"] == {"t": 39.95, "source": "the stop_time of intervals/trials"}
    # an explicit t_stop still wins, and the message shows the digits that put the trial outside
    short = nc.load(path, bin_size=0.1, t_stop=39.9)
    with pytest.raises(nc.InvalidParameterError, match=r"span \[0\.0, 39\.9\) s .*window 39\.85-39\.95 s ends after"):
        short.trial_responses("trials", window=(0.0, 0.1))


@pytest.mark.parametrize("series_end, obs_end, stop, source", [
    (45.0, None, 45.0, "the end of acquisition/lfp"),
    (None, 52.5, 52.5, "the Units' obs_intervals"),
    (None, None, 30.1, "the last spike"),  # trials end before the last spike
])
def test_default_stop_from_series_and_obs_intervals(tmp_path, series_end, obs_end, stop, source):
    spikes = [np.array([0.5, 30.05]), np.array([2.0])]
    path = _session_file(tmp_path / "s.nwb", spikes, [(1.0, 20.0)], series_end=series_end, obs_end=obs_end)
    rec = nc.load(path, bin_size=0.1, respect_obs_intervals=False)
    assert rec.metadata["t_stop"] == pytest.approx(stop, abs=1e-12) and rec.metadata["t_stop_source"] == source
    assert rec.n_samples == round((stop - 0.5) / 0.1)
    np.testing.assert_array_equal(rec.data.sum(axis=0), [2, 1])
    assert f"n_samples={rec.n_samples}," in describe(path, bin_size=0.1)["load"]


def test_empty_locations_fall_back_to_the_electrode_group(tmp_path):
    """Units whose location is "" take their electrodes' location, else their electrode group's
    location, else the electrode group's name; never a group named ""."""
    nwbfile = _nwbfile()
    device = nwbfile.create_device(name="probe")
    g_ca1 = nwbfile.create_electrode_group(name="shank0", description="s", location="CA1", device=device)
    g_tet = nwbfile.create_electrode_group(name="tetrode3", description="t", location="", device=device)
    nwbfile.add_electrode(group=g_ca1, location="x")  # electrode 0: emptied below, its group says CA1
    nwbfile.add_electrode(group=g_tet, location="x")  # electrode 1: emptied below, its group too: the group's name
    nwbfile.add_electrode(group=g_tet, location="CA3")  # electrode 2
    nwbfile.add_unit_column(name="location", description="where")
    for uid, (loc, el) in enumerate([("DG", 0), ("", 0), ("", 1), ("", 2), ("  ", 1)]):
        nwbfile.add_unit(spike_times=[0.1 * (uid + 1)], electrodes=[el], location=loc, id=uid)
    path = _write(nwbfile, tmp_path / "empty.nwb")
    with h5py.File(path, "r+") as f:  # pynwb refuses "" as an electrode location; other writers do not
        f["general/extracellular_ephys/electrodes/location"][:2] = ["", ""]
    rec = nc.load(path, bin_size=0.1)
    assert rec.groups.tolist() == ["DG", "CA1", "tetrode3", "CA3", "tetrode3"]
    assert rec.metadata["group_source"] == ("units/location (empty labels filled: electrodes/location for 1, "
                                            "electrode_group/location for 1, electrode_group/name for 2)")
    assert describe(path)["units"]["groups"] == {"CA1": 1, "CA3": 1, "DG": 1, "tetrode3": 2}
