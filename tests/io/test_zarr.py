"""NWB Zarr: stores exported by hdmf-zarr from HDF5 files written with pynwb load as their HDF5 twins."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import neurocomplex as nc
from neurocomplex.io.nwb import describe
from tests.io.test_nwb import _nwbfile, _write, make_spike_times, write_units_file

pytest.importorskip("hdmf_zarr")


def _export(h5_path: Path) -> Path:
    """The Zarr twin of an HDF5 NWB file, as hdmf-zarr's documentation converts one."""
    from hdmf_zarr.nwb import NWBZarrIO
    from pynwb import NWBHDF5IO

    out = h5_path.with_suffix(".nwb.zarr")
    with NWBHDF5IO(str(h5_path), "r") as src, NWBZarrIO(str(out), mode="w") as dst:
        dst.export(src_io=src, write_args={"link_data": False})
    return out


def _same(a: nc.Recording, b: nc.Recording) -> None:
    np.testing.assert_array_equal(a.data, b.data)
    assert a.data.dtype == b.data.dtype and a.kind == b.kind and a.bin_size == b.bin_size
    np.testing.assert_array_equal(a.unit_ids, b.unit_ids)
    np.testing.assert_array_equal(a.groups, b.groups)
    np.testing.assert_array_equal(a.times, b.times)
    assert sorted(a.intervals) == sorted(b.intervals)
    for name in a.intervals:
        pd.testing.assert_frame_equal(a.intervals[name], b.intervals[name])
    for key in ("session_description", "identifier", "session_start_time", "group_source", "t_stop", "t_stop_source"):
        assert a.metadata.get(key) == b.metadata.get(key), key


@pytest.fixture(scope="module")
def twins(tmp_path_factory) -> tuple[Path, Path]:
    h5 = write_units_file(tmp_path_factory.mktemp("zarr") / "units.nwb", make_spike_times())
    return h5, _export(h5)


def test_units_and_intervals_load_as_the_hdf5_twin(twins):
    h5, zr = twins
    assert zr.is_dir()
    for options in ({"bin_size": 0.05}, {"bin_size": 0.01, "t_start": 2.0, "t_stop": 6.5}, {"units": [14, 11]}):
        a, b = nc.load(h5, **options), nc.load(zr, **options)
        _same(a, b)
        assert b.source == str(zr)
    rec = nc.load(zr, bin_size=0.05)
    assert rec.groups.tolist() == ["CA1", "V1", "CA1", "V1", "V1"]  # electrodes/location through the region
    assert rec.intervals["trials"]["condition"].tolist() == ["a", "b", "a"]
    np.testing.assert_array_equal(rec.trial_responses("trials", window=(0.0, 0.5)).data,
                                  nc.load(h5, bin_size=0.05).trial_responses("trials", window=(0.0, 0.5)).data)
    # the electrode group names come from the electrodes' group_name column (the references are pickled)
    np.testing.assert_array_equal(nc.load(zr, group_column="group_name").groups,
                                  nc.load(h5, group_column="group_name").groups)
    a, b = describe(h5), describe(zr)
    assert a["units"] == b["units"] and a["intervals"] == b["intervals"] and a["session_end"] == b["session_end"]
    assert a["load"].replace(str(h5), "X") == b["load"].replace(str(zr), "X")


def test_series_load_as_the_hdf5_twin(tmp_path):
    import pynwb

    rng = np.random.default_rng(3)
    nwbfile = _nwbfile()
    raw = rng.integers(-500, 500, size=(120, 3)).astype(np.int16)
    lfp = pynwb.TimeSeries(name="lfp", data=raw, unit="V", starting_time=1.5, rate=40.0, conversion=2e-6, offset=0.1)
    nwbfile.add_acquisition(lfp)
    stamps = np.cumsum(rng.uniform(0.01, 0.03, size=60))
    nwbfile.add_acquisition(pynwb.TimeSeries(name="speed", data=rng.normal(size=60), unit="m/s", timestamps=stamps))
    h5 = _write(nwbfile, tmp_path / "series.nwb")
    zr = _export(h5)
    for series, window in (("acquisition/lfp", {}), ("acquisition/lfp", {"t_start": 2.0, "t_stop": 3.0}),
                           ("acquisition/speed", {"t_start": float(stamps[10])})):
        _same(nc.load(h5, series=series, **window), nc.load(zr, series=series, **window))
    # and a Recording written by the toolkit, then exported
    rec = nc.Recording.from_spike_times([[0.01, 0.5, 0.51], [0.3]], bin_size=0.1, groups=["CA1", "CA3"])
    rec.to_nwb(tmp_path / "written.nwb")
    back = nc.load(_export(tmp_path / "written.nwb"))
    np.testing.assert_array_equal(back.data, rec.data)
    assert back.groups.tolist() == ["CA1", "CA3"] and back.kind == "spike_counts"


def test_bad_stores(tmp_path):
    plain = tmp_path / "folder.zarr"
    plain.mkdir()
    with pytest.raises(nc.CorruptFileError, match="neither an NWB HDF5 file nor an NWB Zarr store"):
        nc.load(plain)
    with pytest.raises(nc.MissingFileError):
        nc.load(tmp_path / "absent.nwb.zarr")
