"""write_results: measure tables into NWB files that pynwb reads back and nwbinspector accepts."""

from __future__ import annotations

import hashlib
import json
import math

import numpy as np
import pandas as pd
import pytest

import neurocomplex as nc
from neurocomplex.errors import CorruptFileError, InvalidParameterError, MissingTableError
from neurocomplex.io.results import read_results, write_results


def _table() -> pd.DataFrame:
    return pd.DataFrame({
        "session": ["s1", "s1", "s2"], "group": ["CA1", "all", ""], "measure": ["effective_dimension"] * 2 + [""],
        "value": [3.25, 7.5, math.nan], "ci_low": [3.0, math.nan, math.nan], "ci_high": [3.5, math.nan, math.nan],
        "n_samples": pd.array([1000, 1000, None], dtype="Int64"), "n_units": [10, 20, 0],
        "warnings": ["", "few samples | flat", ""], "error": ["", "", "CorruptFileError: truncated"],
    })


def _inspect(path) -> list:
    from nwbinspector import Importance, inspect_nwbfile

    return [m for m in inspect_nwbfile(nwbfile_path=str(path))
            if m.importance.value > Importance.BEST_PRACTICE_SUGGESTION.value]


def test_round_trip_through_pynwb_and_nwbinspector_clean(tmp_path):
    table = _table()
    table.attrs["parameters"] = {"bin_size": 0.02, "measures": ["effective_dimension"]}
    subject = {"subject_id": "mouse-1", "species": "Mus musculus", "sex": "F", "age": "P90D"}
    path = write_results(table, tmp_path / "results.nwb", parameters={"n_boot": 20}, subject=subject)
    back = read_results(path)
    assert list(back.columns) == list(table.columns)
    for col in ("session", "group", "measure", "warnings", "error"):
        assert back[col].tolist() == table[col].tolist()
    np.testing.assert_array_equal(back.value.to_numpy(), table.value.to_numpy())
    np.testing.assert_array_equal(back.ci_low.to_numpy(), table.ci_low.to_numpy())
    np.testing.assert_array_equal(back.n_samples.to_numpy(), [1000.0, 1000.0, np.nan])  # missing -> NaN
    assert back.n_units.tolist() == [10, 20, 0] and back.n_units.dtype.kind == "i"
    params = read_results(path, "measure_parameters")
    got = dict(zip(params.parameter, (json.loads(v) for v in params.value)))
    assert got == {"neurocomplex_version": nc.__version__, "bin_size": 0.02,
                   "measures": ["effective_dimension"], "n_boot": 20}
    assert _inspect(path) == []
    bare = write_results(table, tmp_path / "bare.nwb")  # no subject: the one thing nwbinspector asks for
    assert [m.message for m in _inspect(bare)] == ["Subject is missing."]


def test_copy_of_the_source_gets_the_table_and_the_source_is_untouched(tmp_path):
    rec = nc.Recording.from_spike_times([[0.01, 0.5, 0.52], [0.3, 0.7]], bin_size=0.1, groups=["A", "B"])
    src = tmp_path / "session.nwb"
    rec.to_nwb(src)  # has a 'neurocomplex' module already (the written activity)
    digest = hashlib.sha256(src.read_bytes()).hexdigest()
    table = nc.measure(nc.load(src), ["activation_ratio"], n_boot=0)
    out = write_results(table, tmp_path / "with_results.nwb", source=src)
    out2 = write_results(table, tmp_path / "twice.nwb", source=out)  # existing tables: suffixed names
    assert hashlib.sha256(src.read_bytes()).hexdigest() == digest
    back = read_results(out)
    np.testing.assert_array_equal(back.value.to_numpy(), table.value.to_numpy())
    assert back.group.tolist() == ["A", "B", "all"]
    assert read_results(out2, "measures_2").value.tolist() == table.value.tolist()
    loaded = nc.load(out)  # the copy still loads as the session it was
    np.testing.assert_array_equal(loaded.data, rec.data)


def test_bad_input(tmp_path):
    table = _table()
    with pytest.raises(InvalidParameterError, match="DataFrame"):
        write_results(table.to_dict(), tmp_path / "x.nwb")
    with pytest.raises(InvalidParameterError, match="empty"):
        write_results(table.iloc[:0], tmp_path / "x.nwb")
    with pytest.raises(InvalidParameterError, match="subject"):
        write_results(table, tmp_path / "x.nwb", subject={"subject_id": "m1", "colour": "brown"})  # not a Subject field
    with pytest.raises(InvalidParameterError, match=r"\.nwb"):
        write_results(table, tmp_path / "x.csv")
    path = write_results(table, tmp_path / "x.nwb")
    with pytest.raises(InvalidParameterError, match="already exists"):
        write_results(table, path)
    write_results(table.iloc[:1], path, overwrite=True)
    assert len(read_results(path)) == 1
    with pytest.raises(InvalidParameterError, match="same file"):
        write_results(table, path, source=path, overwrite=True)
    bad = tmp_path / "broken.nwb"
    bad.write_bytes(b"not hdf5")
    with pytest.raises(CorruptFileError):
        write_results(table, tmp_path / "y.nwb", source=bad)
    assert not (tmp_path / "y.nwb").exists()
    with pytest.raises(MissingTableError, match="no table 'other'"):
        read_results(path, "other")


def test_read_results_restores_the_parameters(tmp_path):
    table = _table()
    table.attrs["parameters"] = {"measures": ["effective_dimension"], "by": None,
                                 "params": {"pattern_entropy": {"method": "plugin", "base": 2.0}}}
    path = write_results(table, tmp_path / "r.nwb", parameters={"n_boot": 0})
    back = read_results(path)
    assert back.attrs["parameters"] == {"neurocomplex_version": nc.__version__, **table.attrs["parameters"],
                                        "n_boot": 0}
    rows = read_results(path, "measure_parameters")  # nested parameters: one row per leaf, names joined by '/'
    assert "params/pattern_entropy/method" in rows.parameter.tolist()
    assert not any("{" in v for v in rows.value)


def test_a_failed_copy_leaves_the_earlier_file(tmp_path):
    path = write_results(_table(), tmp_path / "r.nwb")
    before = path.read_bytes()
    bad = tmp_path / "broken.nwb"
    bad.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 100)  # an HDF5 signature, then nothing
    with pytest.raises(CorruptFileError):
        write_results(_table(), path, source=bad, overwrite=True)
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["broken.nwb", "r.nwb"]


def test_source_must_be_a_local_hdf5_file(tmp_path):
    # a URL or an NWB Zarr store cannot be copied byte for byte: refused by name, before anything is written
    from neurocomplex.errors import UnsupportedSourceError

    store = tmp_path / "session.nwb.zarr"
    store.mkdir()
    (store / ".zgroup").write_text('{"zarr_format": 2}')
    for source, what in (("https://example.org/data/s.nwb", "URL"), (store, "Zarr store")):
        with pytest.raises(UnsupportedSourceError, match=what):
            write_results(_table(), tmp_path / "r.nwb", source=source)
        assert not (tmp_path / "r.nwb").exists()
