"""Streaming NWB: window-by-window statistics equal the in-memory path, in bounded memory."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import neurocomplex as nc
from neurocomplex.batch import measure_stream
from neurocomplex.errors import InvalidDataError, InvalidParameterError, MissingFileError, MissingTableError
from neurocomplex.io.stream import merge_blocks, plan_stream, stream_blocks
from neurocomplex.stats import count_words
from tests._sessions import write_series_only, write_session

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def long_session(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """2 hours, 500 units, about 10**7 spikes on a 30 kHz clock."""
    path = tmp_path_factory.mktemp("long") / "two_hours.nwb"
    n_spikes = write_session(path, n_units=500, duration=7200.0, rate=2.8, seed=0)
    return path, n_spikes


@pytest.fixture(scope="module")
def short_session(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("short") / "short.nwb"
    write_session(path, n_units=30, duration=300.0, rate=8.0, seed=4)
    return path


_MEMORY_SCRIPT = """
import json, sys
import psutil
import numpy as np, h5py, scipy.linalg, pandas
import neurocomplex, neurocomplex.batch, neurocomplex.io.stream, neurocomplex.measures.dimension
import neurocomplex.measures.entropy, neurocomplex.comparison.table


def high_water():  # peak resident memory of this process (VmHWM), in bytes
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024


base = psutil.Process().memory_info().rss
# a child's high-water mark can start at its parent's (fork); reset it to the current RSS
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")
assert high_water() < base + 50 * 2**20
table = neurocomplex.batch.measure_stream(sys.argv[1], ["effective_dimension", "activation_ratio", "mean_rate",
                                          "pattern_entropy"], by=None, bin_size=0.025, n_boot=10)
print(json.dumps({"above_baseline_mb": (high_water() - base) / 2**20, "values": table.value.tolist(),
                  "n_samples": int(table.n_samples.iloc[0]), "errors": table.error.tolist()}))
"""


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="peak memory is read from Linux /proc")
def test_two_hour_session_streams_in_bounded_memory(long_session):
    path, n_spikes = long_session
    assert 0.9e7 < n_spikes < 1.1e7
    done = subprocess.run([sys.executable, "-c", _MEMORY_SCRIPT, str(path)], capture_output=True, text=True,
                          timeout=300, cwd=ROOT, check=True)
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["n_samples"] == 288_000  # 7200 s in 25 ms bins
    assert out["errors"] == ["", "", "", ""]
    assert np.all(np.isfinite(out["values"]))
    # the counts matrix alone would be 288000 x 500 float64 = 1.1 GB
    assert out["above_baseline_mb"] <= 300, out


def test_long_session_equals_in_memory_on_a_window_that_fits(long_session):
    path, _ = long_session
    names = ["effective_dimension", "participation_ratio", "activation_ratio", "mean_rate", "constant_fraction",
             "pattern_entropy"]
    window = {"t_start": 3000.0, "t_stop": 3120.0}
    streamed = measure_stream(path, names, bin_size=0.01, window=7.37, n_boot=0, **window)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rec = nc.load(path, bin_size=0.01, **window)
        memory = nc.measure(rec, names, n_boot=0)
    assert streamed.group.tolist() == memory.group.tolist() and streamed.measure.tolist() == memory.measure.tolist()
    assert streamed.n_samples.tolist() == memory.n_samples.tolist() == [12_000] * len(memory)
    spectral = streamed.measure.isin(["effective_dimension", "participation_ratio"])
    np.testing.assert_allclose(streamed.value[spectral], memory.value[spectral], rtol=1e-6)
    # counts are exact, so the activity and word statistics are identical; means agree to rounding
    exact = streamed.measure.isin(["activation_ratio", "pattern_entropy", "constant_fraction"])
    assert streamed.value[exact].tolist() == memory.value[exact].tolist()
    np.testing.assert_allclose(streamed.value, memory.value, rtol=1e-6)
    plan = plan_stream(path, bin_size=0.01, window=7.37, n_blocks=6, **window)
    blocks = stream_blocks(plan, kinds=["activity", "words"], by=None)
    merged = merge_blocks(blocks)
    assert [b.n_samples for b in blocks] == [2211] * 5 + [945]  # 17 windows of 737 bins, 3 per block
    np.testing.assert_array_equal(merged.activity.active, (rec.data > 0).sum(axis=0))
    words, counts = count_words(rec.data > 0)
    np.testing.assert_array_equal(merged.words["all"].words, words)
    np.testing.assert_array_equal(merged.words["all"].counts, counts)
    assert sum(b.n_spikes for b in blocks) == int(rec.data.sum())


@pytest.mark.parametrize("t_start", [None, 0.0123, 17.5])
def test_window_grid_matches_the_session_grid(short_session, t_start):
    plan = plan_stream(short_session, bin_size=0.004, t_start=t_start, window=1.0, n_blocks=7)
    rec = nc.load(short_session, bin_size=0.004, t_start=t_start)
    assert (plan.t_start, plan.t_stop, plan.n_samples) == (rec.metadata["t_start"], rec.metadata["t_stop"], rec.n_samples)
    merged = merge_blocks(stream_blocks(plan, kinds=["covariance", "activity", "words"]))
    np.testing.assert_array_equal(merged.activity.active, (rec.data > 0).sum(axis=0))
    np.testing.assert_allclose(merged.activity.mean, rec.data.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(merged.covariance.covariance(), np.cov(rec.data.astype(float).T), rtol=1e-9, atol=1e-15)
    for group, idx in plan.group_units("group").items():
        words, counts = count_words(rec.data[:, idx] > 0)
        np.testing.assert_array_equal(merged.words[group].counts, counts)
        np.testing.assert_array_equal(merged.words[group].words, words)


def test_time_series_rows_stream_like_the_loaded_series(tmp_path):
    x = np.random.default_rng(2).normal(size=(1000, 6)).astype(np.float32) @ np.diag([3, 2, 1, 1, 0.5, 0.1]).astype(np.float32)
    path = tmp_path / "acts.nwb"
    nc.Recording.from_array(x, kind="activations", sampling_rate=50.0, groups=["L1"] * 3 + ["L2"] * 3).to_nwb(path)
    series = "processing/neurocomplex/activity"
    plan = plan_stream(path, series=series, window=0.9, n_blocks=4)
    assert (plan.kind, plan.dtype, plan.n_samples, plan.window_rows) == ("activations", "float32", 1000, 45)
    table = measure_stream(path, ["effective_dimension", "activation_ratio"], series=series, window=0.9, n_boot=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        memory = nc.measure(nc.load(path, series=series), ["effective_dimension", "activation_ratio"], n_boot=0)
    np.testing.assert_allclose(table.value, memory.value, rtol=1e-6)
    assert table.group.tolist() == ["L1", "L1", "L2", "L2", "all", "all"]


def test_block_bootstrap_intervals_come_from_the_blocks(short_session):
    table = measure_stream(short_session, ["effective_dimension", "activation_ratio", "pattern_entropy"], by=None,
                           bin_size=0.01, n_boot=30, seed=1, method="plugin")
    again = measure_stream(short_session, ["effective_dimension", "activation_ratio", "pattern_entropy"], by=None,
                           bin_size=0.01, n_boot=30, seed=1, method="plugin")
    assert table.equals(again)  # seeded
    assert (table.ci_low < table.ci_high).all()
    assert (table.ci_low[1] <= table.value[1] <= table.ci_high[1])


def test_named_errors(tmp_path, short_session):
    with pytest.raises(MissingFileError):
        plan_stream(tmp_path / "absent.nwb")
    write_series_only(tmp_path / "series.nwb")
    with pytest.raises(MissingTableError, match="no Units table"):
        plan_stream(tmp_path / "series.nwb")
    with pytest.raises(InvalidParameterError, match="blocks must lie"):
        stream_blocks(plan_stream(short_session, n_blocks=3), blocks=[5])
    with pytest.raises(InvalidParameterError, match="kinds"):
        stream_blocks(plan_stream(short_session), kinds=["spectrum"])
    from datetime import UTC, datetime

    import pynwb

    nwb = pynwb.NWBFile(session_description="unsorted", identifier="u", session_start_time=datetime(2024, 1, 1, tzinfo=UTC))
    nwb.add_unit(spike_times=np.linspace(0, 100, 300))
    nwb.add_unit(spike_times=np.r_[np.linspace(0, 50, 200), np.linspace(10, 20, 20)])
    with pynwb.NWBHDF5IO(str(tmp_path / "unsorted.nwb"), "w") as io:
        io.write(nwb)
    with pytest.raises(InvalidDataError, match="unit 1 are not sorted"):
        stream_blocks(plan_stream(tmp_path / "unsorted.nwb", window=5.0))


def test_series_window_and_measures_loaded_in_memory_see_the_same_rows(tmp_path):
    x = np.random.default_rng(5).gamma(2.0, size=(600, 5))
    path = tmp_path / "rates.nwb"
    nc.Recording.from_array(x, sampling_rate=100.0).to_nwb(path)
    series = "processing/neurocomplex/activity"
    kw = {"series": series, "t_start": 1.0, "t_stop": 4.5, "n_boot": 0}
    table = measure_stream(path, ["participation_ratio", "population_sparseness"], by=None, **kw)
    rec = nc.load(path, series=series, t_start=1.0, t_stop=4.5)
    assert rec.n_samples == 350 and table.n_samples.tolist() == [350, 350]
    np.testing.assert_allclose(table.value[0], nc.participation_ratio(rec, n_boot=0).value, rtol=1e-9)
    assert table.value[1] == nc.population_sparseness(rec, n_boot=0).value  # loaded in memory: same rows
