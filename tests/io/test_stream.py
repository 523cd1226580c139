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
                  "n_samples": int(table.n_samples.iloc[0]), "errors": table.error.tolist(),
                  "dimension_blocks": int(table.n_blocks.iloc[0])}))
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
    # the counts matrix alone would be 288000 x 500 float64 = 1,099 MiB; the stream holds the statistics the
    # estimators resample: the dimension's 64 blocks of 500 x 500 scatters (122 MiB; held again, stacked and
    # expanded, by the estimator), the rows' counts and sums (7 MiB), the words, and one window (16 MiB)
    assert out["dimension_blocks"] == 64
    blocks_mb = 64 * 500 * 500 * 8 / 2**20
    assert out["above_baseline_mb"] <= 3 * blocks_mb + 150, out


def test_long_session_equals_in_memory_on_a_window_that_fits(long_session):
    path, _ = long_session
    names = ["effective_dimension", "participation_ratio", "activation_ratio", "mean_rate", "constant_fraction",
             "pattern_entropy"]
    window = {"t_start": 3000.0, "t_stop": 3120.0}
    streamed = measure_stream(path, names, bin_size=0.01, window=7.37, n_boot=0, **window)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nc.NeurocomplexWarning)  # caveats: not compared here
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
        warnings.simplefilter("ignore", nc.NeurocomplexWarning)  # caveats: not compared here
        memory = nc.measure(nc.load(path, series=series), ["effective_dimension", "activation_ratio"], n_boot=0)
    np.testing.assert_allclose(table.value, memory.value, rtol=1e-6)
    assert table.group.tolist() == ["L1", "L1", "L2", "L2", "all", "all"]


def test_block_bootstrap_intervals_come_from_the_blocks(short_session):
    table = measure_stream(short_session, ["effective_dimension", "activation_ratio", "pattern_entropy"], by=None,
                           bin_size=0.01, n_boot=30, seed=1, method="plugin")
    again = measure_stream(short_session, ["effective_dimension", "activation_ratio", "pattern_entropy"], by=None,
                           bin_size=0.01, n_boot=30, seed=1, method="plugin")
    assert table.drop(columns="created_utc").equals(again.drop(columns="created_utc"))  # seeded
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


# --------------------------------------------------------------------------- the same numbers on every path
def _scaled_series(path: Path, dtype: type, **scaling: object) -> Path:
    """An ElectricalSeries (electrodes in CA1 and V1) stored as raw values with a conversion to its unit."""
    from datetime import UTC, datetime

    import pynwb
    from pynwb.ecephys import ElectricalSeries

    rng = np.random.default_rng(7)
    latent = rng.normal(size=(3000, 2))
    raw = (latent @ rng.normal(size=(2, 6)) * 40 + rng.normal(size=(3000, 6)) * 15 + 60).astype(dtype)
    nwb = pynwb.NWBFile(session_description="scaled", identifier=path.stem,
                        session_start_time=datetime(2024, 1, 1, tzinfo=UTC))
    device = nwb.create_device("probe")
    group = nwb.create_electrode_group("shank", description="shank", location="CA1", device=device)
    for i in range(6):
        nwb.add_electrode(group=group, location="CA1" if i < 3 else "V1")
    region = nwb.create_electrode_table_region(list(range(6)), "electrodes")
    nwb.add_acquisition(ElectricalSeries(name="es", data=raw, electrodes=region, rate=200.0, **scaling))
    with pynwb.NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    return path


SCALINGS = {
    "channel_conversion with signs": (np.int16, {"conversion": 0.5, "offset": -3.0,
                                                  "channel_conversion": [1.0, -2.0, 0.5, 3.0, -1.0, 0.25]}),
    "conversion and offset": (np.int16, {"conversion": 2.5e-3, "offset": 1.0}),
    "negative conversion": (np.int32, {"conversion": -1.0}),
    "float32 with channel_conversion": (np.float32, {"channel_conversion": [2.0, 1.0, 1.0, 0.5, -1.0, 4.0]}),
    "raw": (np.int16, {}),
}
# every streamed measure, with the parameters that make the streamed and the in-memory estimates the same quantity
STREAMED_CASES = {"effective_dimension": {}, "participation_ratio": {}, "activation_ratio": {}, "mean_rate": {},
                  "constant_fraction": {}, "pattern_entropy": {"method": "plugin"},
                  "pattern_complexity": {"scale": 0.0}}


@pytest.fixture(scope="module")
def scaled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("scaled")
    return {name: _scaled_series(root / f"s{i}.nwb", dtype, **scaling)
            for i, (name, (dtype, scaling)) in enumerate(SCALINGS.items())}


def _options(name: str) -> dict:
    """The measure's parameters, and no bootstrap where it has one."""
    own = STREAMED_CASES[name]
    return {"params": {name: own} if own else None, **({} if name == "constant_fraction" else {"n_boot": 0})}


def _in_memory(rec: nc.Recording, name: str) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nc.NeurocomplexWarning)  # caveats: not compared here
        return nc.measure(rec, [name], **_options(name)).value.to_numpy()


@pytest.mark.parametrize("scaling", list(SCALINGS))
@pytest.mark.parametrize("name", list(STREAMED_CASES))
def test_streamed_series_equal_the_loaded_series(scaled, scaling, name):
    # streamed values are converted as nc.load converts them: data * (conversion * channel_conversion) + offset
    path = scaled[scaling]
    table = measure_stream(path, [name], series="acquisition/es", **_options(name))
    rec = nc.load(path, series="acquisition/es")
    assert table.group.tolist() == ["CA1", "V1", "all"]
    np.testing.assert_allclose(table.value.to_numpy(), _in_memory(rec, name), rtol=1e-9, atol=1e-12)
    assert table.method.iloc[0] != "failed"


@pytest.mark.parametrize("name", list(STREAMED_CASES))
def test_streamed_units_equal_the_loaded_session(short_session, name):
    table = measure_stream(short_session, [name], bin_size=0.02, **_options(name))
    rec = nc.load(short_session, bin_size=0.02)
    np.testing.assert_allclose(table.value.to_numpy(), _in_memory(rec, name), rtol=1e-9, atol=1e-12)
    assert table.n_samples.tolist() == [rec.n_samples] * 3


def test_mean_rate_of_a_converted_series_has_the_sign_of_its_unit(scaled):
    table = measure_stream(scaled["negative conversion"], ["mean_rate"], series="acquisition/es", by=None, n_boot=0)
    assert table.value.iloc[0] < 0 and table.unit.iloc[0] == "per sample"


def test_sizes_are_refused_before_reading(tmp_path):
    from neurocomplex.io.stream import MAX_STREAM_CELLS, check_stream_memory, stream_memory

    path = tmp_path / "far.nwb"
    nc.Recording.from_spike_times([[0.0, 0.5], [0.25, 5000.0]], bin_size=0.5).to_nwb(path)
    series = "processing/neurocomplex/activity"
    plan = plan_stream(path, series=series, n_blocks=4)
    assert plan.n_samples * plan.n_units < MAX_STREAM_CELLS
    with pytest.raises(InvalidParameterError, match=r"10,001 rows x 2 units = 20,002 cells, more than max_cells=20,001"):
        plan_stream(path, series=series, max_cells=20_001)
    assert plan_stream(path, series=series, max_cells=20_002).n_samples == 10_001
    # memory: one n x n float64 scatter per block (+4), per group, plus windows (8 bytes a value of a series, one
    # for its binary state, 16 for the float copies of a chunk) and activity statistics; 24 bytes per row and
    # group for the rows' counts and sums
    assert plan.window_rows == plan.n_samples  # 10,001 x 2 values take less than 16 MiB: one window
    windows = (8 + 1) * plan.window_rows * 2 + 16 * plan.window_rows * 2
    assert stream_memory(plan, ["activity"]) == windows + plan.n_blocks * 4 * 8 * 2
    assert stream_memory(plan, ["covariance"]) - stream_memory(plan, ["activity"]) == (plan.n_blocks + 4) * 8 * 4
    assert stream_memory(plan, ["activity", "samples"]) - stream_memory(plan, ["activity"]) == 24 * 10_001
    check_stream_memory(plan, ["covariance"])  # fits


def test_memory_limit_from_the_environment(monkeypatch, tmp_path, short_session):
    from neurocomplex.errors import MemoryLimitError

    monkeypatch.setenv("NEUROCOMPLEX_MEMORY_LIMIT", "100KiB")
    with pytest.raises(MemoryLimitError, match=r"covariance of 30 units .*more than the memory limit of 100 KiB "
                                                r"\(NEUROCOMPLEX_MEMORY_LIMIT\)"):
        measure_stream(short_session, ["effective_dimension"], bin_size=0.1)
    monkeypatch.setenv("NEUROCOMPLEX_MEMORY_LIMIT", "1GiB")
    assert measure_stream(short_session, ["effective_dimension"], bin_size=0.1, n_boot=0).error.eq("").all()


def test_streamed_session_spans_what_the_file_records(tmp_path):
    # trials end 12.3 s after the last spike: nc.load's default window runs to the last trial's stop,
    # and so does the streamed session, bin for bin (the last bins are empty)
    from tests.io.test_nwb import _nwbfile, _write

    rng = np.random.default_rng(3)
    nwbfile = _nwbfile()
    for uid in range(6):
        nwbfile.add_unit(spike_times=np.sort(rng.uniform(0.51, 40.0, 300)), id=uid)
    for start in np.arange(1.0, 50.0, 5.0):
        nwbfile.add_trial(start_time=start, stop_time=start + 2.3)
    path = _write(nwbfile, tmp_path / "trials_after_spikes.nwb")
    rec = nc.load(path, bin_size=0.05)
    assert rec.metadata["t_stop"] == pytest.approx(48.3) and rec.metadata["t_stop_source"] != "the last spike"
    plan = plan_stream(path, bin_size=0.05, window=3.0)
    assert (plan.t_start, plan.t_stop, plan.n_samples) == (rec.metadata["t_start"], rec.metadata["t_stop"],
                                                             rec.n_samples)
    merged = merge_blocks(stream_blocks(plan, kinds=["activity", "words"], by=None))
    assert merged.n_samples == rec.n_samples and merged.activity.active.tolist() == (rec.data > 0).sum(0).tolist()
    words, counts = count_words(rec.data > 0)
    np.testing.assert_array_equal(merged.words["all"].words, words)
    np.testing.assert_array_equal(merged.words["all"].counts, counts)
    table = measure_stream(path, ["mean_rate", "activation_ratio"], bin_size=0.05, by=None, n_boot=0)
    np.testing.assert_allclose(table.value, [nc.mean_rate(rec, n_boot=0).value,
                                             nc.activation_ratio(rec, n_boot=0).value], rtol=1e-12)
    assert (table.t_stop_s == rec.metadata["t_stop"]).all() and (table.n_samples == rec.n_samples).all()


# --------------------------------------------------------------------------- the in-memory intervals
# every streamed measure with its default interval, and with the block bootstraps of block_size
INTERVAL_CASES = {
    "effective_dimension": [{}, {"block_size": 700}, {"order": 2.0, "n_boot": 40, "seed": 5}],
    "participation_ratio": [{}],
    "activation_ratio": [{}, {"block_size": 25, "seed": 2}],
    "mean_rate": [{}, {"block_size": 40}],
    "constant_fraction": [{}],
    "pattern_entropy": [{}, {"method": "plugin"}, {"method": "miller_madow", "block_size": 50},
                        {"block_size": 30, "seed": 4}],
    "pattern_complexity": [{"scale": 0.0}, {"scale": 0.0, "block_size": 60, "n_boot": 50}],
}
_ROW = ["group", "measure", "n_samples", "n_units", "method"]


def _same_rows(streamed, memory, rtol: float) -> None:
    assert streamed[_ROW].values.tolist() == memory[_ROW].values.tolist()
    for col in ("value", "ci_low", "ci_high"):
        np.testing.assert_allclose(streamed[col].to_numpy(), memory[col].to_numpy(), rtol=rtol, atol=1e-12,
                                   err_msg=col)
    assert streamed.ci_low.notna().all() == memory.ci_low.notna().all()


@pytest.mark.parametrize("name", list(INTERVAL_CASES))
def test_streamed_intervals_are_the_in_memory_intervals(short_session, name):
    # the same resampling of the same statistics: the streamed row is nc.measure's row, interval included
    rec = nc.load(short_session, bin_size=0.02)
    for own in INTERVAL_CASES[name]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", nc.NeurocomplexWarning)  # caveats: not compared here
            memory = nc.measure(rec, [name], params={name: own} if own else None, progress=False)
            table = measure_stream(short_session, [name], bin_size=0.02, params={name: own} if own else None)
        assert (table.error == "").all() and (table.method != "failed").all()
        _same_rows(table, memory, 1e-9 if name in ("effective_dimension", "participation_ratio") else 1e-12)
        if name != "constant_fraction":
            assert (table.ci_low < table.ci_high).all(), own


@pytest.mark.parametrize("scaling", ["channel_conversion with signs", "float32 with channel_conversion"])
def test_streamed_series_intervals_are_the_in_memory_intervals(scaled, scaling):
    names = ["effective_dimension", "activation_ratio", "mean_rate", "pattern_entropy"]
    rec = nc.load(scaled[scaling], series="acquisition/es")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nc.NeurocomplexWarning)  # caveats: not compared here
        memory = nc.measure(rec, names, n_boot=30, seed=1, progress=False)
        table = measure_stream(scaled[scaling], names, series="acquisition/es", n_boot=30, seed=1)
    key = ["group", "measure"]
    _same_rows(table.sort_values(key), memory.sort_values(key), 1e-9)


def test_n_blocks_is_block_size_for_every_streamed_measure(short_session):
    rec = nc.load(short_session, bin_size=0.02)
    names = ["effective_dimension", "activation_ratio", "pattern_entropy"]
    size = -(-rec.n_samples // 12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nc.NeurocomplexWarning)  # caveats: not compared here
        memory = nc.measure(rec, names, by=None, block_size=size, n_boot=30, progress=False)
        table = measure_stream(short_session, names, by=None, bin_size=0.02, n_blocks=12, n_boot=30)
    _same_rows(table, memory, 1e-9)
    assert table.n_blocks.tolist() == [12, 12, 12]
    default = measure_stream(short_session, names, by=None, bin_size=0.02, n_boot=30)
    assert default.n_blocks.tolist()[0] == 64 and default.n_blocks.isna().tolist()[1:] == [True, True]
    with pytest.raises(InvalidParameterError, match="n_blocks"):
        measure_stream(short_session, names, bin_size=0.02, n_blocks=12, block_size=100)


@pytest.mark.parametrize("seconds", [1.5, 0.4])
def test_few_samples_per_unit_take_the_in_memory_dimension(short_session, seconds):
    # with few samples per unit the in-memory interval is a grouped jackknife (the Gram route under 1):
    # such a session is measured in memory, so the row is nc.measure's
    from neurocomplex.measures.dimension import _jackknife

    rec = nc.load(short_session, bin_size=0.02, t_start=10.0, t_stop=10.0 + seconds)
    assert _jackknife(rec.n_samples, rec.n_units) and (rec.n_samples < rec.n_units) == (seconds < 0.6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nc.NeurocomplexWarning)  # caveats: not compared here
        memory = nc.measure(rec, ["effective_dimension"], progress=False)
        table = measure_stream(short_session, ["effective_dimension"], bin_size=0.02, t_start=10.0,
                               t_stop=10.0 + seconds)
    key = ["group", "measure"]
    _same_rows(table.sort_values(key), memory.sort_values(key), 1e-12)


def _block_fields(b):
    cov = b.covariance
    return (b.n_samples, b.n_spikes, cov.n_samples, cov.mean, cov.scatter, b.activity.n_samples, b.activity.active,
            b.activity.mean, b.activity.m2, {g: (w.words, w.counts) for g, w in b.words.items()},
            {g: s for g, s in b.samples.items()})


@pytest.mark.parametrize("source", ["units", "float32 series", "float64 series"])
def test_blocks_fed_together_equal_blocks_read_one_by_one(tmp_path, source):
    # Many short blocks in one window are fed in one pass per statistic; one block per call takes
    # each block's rows alone. Words of 70 units (wider than one 64-bit code) and of groups of 35
    # and 2 units (one code each) are counted both ways.
    rng = np.random.default_rng(3)
    groups = ["A"] * 35 + ["B"] * 33 + ["C"] * 2
    path = tmp_path / "s.nwb"
    if source == "units":
        counts = rng.poisson(0.3, size=(3000, 70)).astype(np.uint8)
        spikes = [np.repeat(np.arange(3000) * 0.01 + 0.005, counts[:, u]) for u in range(70)]
        nc.Recording.from_spike_times(spikes, bin_size=0.01, t_stop=30.0, groups=groups).to_nwb(path)
        plan = plan_stream(path, bin_size=0.01, n_blocks=64)
    else:
        dtype = np.float32 if source.startswith("float32") else np.float64
        x = (rng.normal(size=(3000, 70)) + 0.4).astype(dtype)
        nc.Recording.from_array(x, kind="activations", sampling_rate=100.0, groups=groups).to_nwb(path)
        plan = plan_stream(path, series="processing/neurocomplex/activity", n_blocks=64)
    kinds = ("covariance", "activity", "words", "samples")
    together = stream_blocks(plan, kinds=kinds)
    alone = [stream_blocks(plan, [b], kinds=kinds)[0] for b in range(plan.n_blocks)]
    assert len(together) == len(alone) == 64
    for a, b in zip(together, alone):
        fa, fb = _block_fields(a), _block_fields(b)
        assert fa[:3] == fb[:3] and fa[5] == fb[5]
        np.testing.assert_array_equal(fa[6], fb[6])
        for i in (3, 4, 7, 8):
            np.testing.assert_allclose(fa[i], fb[i], rtol=1e-12, atol=1e-12)
        for g in fa[9]:
            np.testing.assert_array_equal(fa[9][g][0], fb[9][g][0])
            np.testing.assert_array_equal(fa[9][g][1], fb[9][g][1])
            np.testing.assert_array_equal(fa[10][g][0], fb[10][g][0])
            np.testing.assert_array_equal(fa[10][g][1], fb[10][g][1])
    assert set(together[0].words) == {"A", "B", "C", "all"}


def test_block_statistics_of_signed_integers_with_large_negative_values_are_exact():
    # The float32 product of integer rows is exact only while every partial sum stays below 2**24:
    # the bound must use the largest magnitude, not the largest value (here 3, against -3,000).
    from neurocomplex.io._stream_read import BlockAccumulator, feed_segments

    x = np.random.default_rng(0).integers(-3000, 4, size=(400, 5)).astype(np.int32)
    kinds = ("covariance", "activity")
    alone = BlockAccumulator(5, {"all": np.arange(5)}, kinds, 0.0)
    alone.add(x[:100], 0)
    together = [BlockAccumulator(5, {"all": np.arange(5)}, kinds, 0.0) for _ in range(4)]
    feed_segments(together, x, 0, [0, 100, 200, 300, 400])
    for j, acc in enumerate([alone, *together]):
        rows = x[(j - 1) * 100 : j * 100] if j else x[:100]
        rows = rows.astype(np.float64)
        expected = (rows - rows.mean(axis=0)).T @ (rows - rows.mean(axis=0))
        np.testing.assert_allclose(acc.result()[0].scatter, expected, rtol=1e-12, atol=1e-6)
        np.testing.assert_allclose(acc.result()[1].m2, np.diag(expected), rtol=1e-12)
