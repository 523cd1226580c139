"""trial_responses: spike counts in trial windows, against direct counts of the spike times."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import neurocomplex as nc
from neurocomplex.errors import InvalidDataError, InvalidParameterError, MissingTableError
from neurocomplex.trials import trial_responses

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "human_mtl_rutishauser_sub-4_ses-4.nwb"


def _direct_counts(trains: list[np.ndarray], w0: np.ndarray, w1: np.ndarray) -> np.ndarray:
    """Reference: a plain loop over trials and units counting t0 + a <= t < t0 + b."""
    out = np.zeros((w0.size, len(trains)))
    for i in range(w0.size):
        for j, t in enumerate(trains):
            out[i, j] = np.count_nonzero((t >= w0[i]) & (t < w1[i]))
    return out


# ----------------------------------------------------------------- the real recording
@pytest.fixture(scope="module")
def real():
    if not REAL.exists():
        pytest.skip(f"{REAL} not present")
    h5py = pytest.importorskip("h5py")
    with h5py.File(REAL, "r") as f:
        flat, index = f["units/spike_times"][:], f["units/spike_times_index"][:]
        ids = f["units/id"][:]
        tables = {name: {k: f[f"intervals/{name}/{k}"][:] for k in ("start_time", "stop_time")}
                  for name in f["intervals"]}
    trains = dict(zip(ids.tolist(), np.split(flat, index[:-1]), strict=True))
    return {"rec": nc.load(REAL, bin_size=0.1), "trains": trains, "tables": tables}


@pytest.mark.parametrize("table, window", [("encoding_table", (0.0, 1.0)), ("recognition_table", (0.2, 1.5)),
                                           ("timediscrimination_table", (0.0, 2.0))])
def test_counts_equal_direct_count_on_real_file(real, table, window) -> None:
    rec = real["rec"]
    resp = rec.trial_responses(table, window=window)
    t = real["tables"][table]
    trains = [real["trains"][u] for u in rec.unit_ids.tolist()]
    expected = _direct_counts(trains, t["start_time"] + window[0], t["start_time"] + window[1])
    assert resp.kind == "responses" and resp.data.shape == (t["start_time"].size, rec.n_units)
    np.testing.assert_array_equal(resp.data, expected)
    assert expected.sum() > 100  # real spikes were counted
    assert resp.metadata["response_source"] == "spike_times" and resp.metadata["unit"] == "spikes"
    np.testing.assert_array_equal(resp.groups, rec.groups)
    # The trial table's columns are the per-sample labels, NWB ids included.
    table_df = rec.intervals[table]
    assert list(resp.labels.columns) == ["id", *table_df.columns]
    np.testing.assert_array_equal(resp.labels["start_time"], t["start_time"])
    np.testing.assert_array_equal(resp.labels["id"], table_df.index.to_numpy())
    # rate = count / window length, in Hz
    rate = rec.trial_responses(table, window=window, statistic="rate")
    np.testing.assert_allclose(rate.data, expected / (window[1] - window[0]), rtol=1e-12)
    assert rate.metadata["unit"] == "Hz"


def test_average_per_condition_on_real_file(real) -> None:
    rec = real["rec"]
    per_trial = rec.trial_responses("encoding_table", window=(0.0, 1.0))
    avg = rec.trial_responses("encoding_table", window=(0.0, 1.0), average=True, by="stimCategory")
    cats = np.asarray(rec.intervals["encoding_table"]["stimCategory"])
    values = np.unique(cats)
    assert avg.labels["stimCategory"].tolist() == values.tolist()
    for row, c in enumerate(values):
        np.testing.assert_allclose(avg.data[row], per_trial.data[cats == c].mean(axis=0), rtol=1e-12)
        assert avg.labels["n_trials"][row] == np.count_nonzero(cats == c)
    assert avg.metadata["averaged_by"] == ["stimCategory"]


def test_window_longer_than_a_trial_on_real_file(real) -> None:
    with pytest.raises(InvalidParameterError, match="longer than trial"):
        real["rec"].trial_responses("recognition_table", window=(0.0, 2.0))  # trials last ~1.5 s


def test_bins_used_without_spike_times(real) -> None:
    """Without spike times the bins whose centre lies in the window are summed (bin-centre rule)."""
    rec = real["rec"]
    binned = rec.replace(spike_times=None)
    resp = binned.trial_responses("encoding_table", window=(0.0, 1.0))
    assert resp.metadata["response_source"] == "bins"
    starts = np.asarray(rec.intervals["encoding_table"]["start_time"])
    centres = rec.times + rec.bin_size / 2
    expected = np.stack([rec.data[(centres >= s) & (centres < s + 1.0)].sum(axis=0) for s in starts])
    np.testing.assert_array_equal(resp.data, expected)
    exact = rec.trial_responses("encoding_table", window=(0.0, 1.0)).data
    # Each window edge moves by at most half a bin: the totals stay close to the exact counts.
    assert abs(resp.data.sum() - exact.sum()) / exact.sum() < 0.05


# ----------------------------------------------------------------- a file written by pynwb
def test_pynwb_written_file(tmp_path) -> None:
    pynwb = pytest.importorskip("pynwb")
    rng = np.random.default_rng(7)
    trains = [np.sort(rng.uniform(0, 20, rng.integers(20, 200))) for _ in range(5)]
    nwb = pynwb.NWBFile(session_description="trial test", identifier="trials-1",
                        session_start_time=datetime(2024, 1, 1, tzinfo=UTC))
    for t in trains:
        nwb.add_unit(spike_times=t)
    nwb.add_trial_column(name="condition", description="condition label")
    starts = np.arange(0.5, 19.0, 1.5)
    for i, s in enumerate(starts):
        nwb.add_trial(start_time=float(s), stop_time=float(s + 1.2), condition=["a", "b", "c"][i % 3])
    path = tmp_path / "trials.nwb"
    with pynwb.NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    rec = nc.load(path, bin_size=0.25)
    resp = rec.trial_responses("trials", window=(0.1, 0.9))
    np.testing.assert_array_equal(resp.data, _direct_counts(trains, starts + 0.1, starts + 0.9))
    assert resp.labels["condition"].tolist() == [["a", "b", "c"][i % 3] for i in range(starts.size)]
    # One condition column: average=True needs no by=.
    avg = rec.trial_responses("trials", window=(0.1, 0.9), average=True, statistic="rate")
    assert avg.labels["condition"].tolist() == ["a", "b", "c"]
    assert list(avg.labels.columns) == ["condition", "n_trials"]  # start/stop times and ids vary
    direct = _direct_counts(trains, starts + 0.1, starts + 0.9) / 0.8
    np.testing.assert_allclose(avg.data[1], direct[1::3].mean(axis=0), rtol=1e-12)


# ----------------------------------------------------------------- small cases
def _small() -> tuple[nc.Recording, pd.DataFrame]:
    rec = nc.Recording.from_spike_times([[0.05, 0.1, 1.25, 2.0, 2.3], [1.1, 2.45]], bin_size=0.1, t_stop=3.0)
    trials = pd.DataFrame({"start_time": [0.0, 1.0, 2.0], "stop_time": [1.0, 2.0, 3.0],
                           "onset": [0.1, 1.2, 2.1], "stim": ["x", "y", "x"]})
    return rec, trials


def test_alignment_column_and_baseline_window() -> None:
    rec, trials = _small()
    resp = trial_responses(rec, trials, window=(-0.1, 0.3), align="onset")
    # windows [0.0, 0.4), [1.1, 1.5), [2.0, 2.4): a window may start before its alignment time
    np.testing.assert_array_equal(resp.data, [[2, 0], [1, 1], [2, 0]])
    assert resp.metadata["align"] == "onset"


def test_bin_path_equals_spike_path_for_bin_aligned_windows() -> None:
    rng = np.random.default_rng(3)
    trains = [np.sort(rng.uniform(0, 10, 300)) for _ in range(4)]
    rec = nc.Recording.from_spike_times(trains, bin_size=0.05, t_stop=10.0)
    trials = pd.DataFrame({"start_time": np.arange(0.0, 9.0, 1.0), "stop_time": np.arange(1.0, 10.0, 1.0)})
    exact = rec.trial_responses(trials, window=(0.2, 0.7))
    binned = rec.replace(spike_times=None).trial_responses(trials, window=(0.2, 0.7))
    np.testing.assert_array_equal(exact.data, binned.data)
    np.testing.assert_allclose(rec.replace(spike_times=None).trial_responses(trials, window=(0.2, 0.7),
                                                                              statistic="rate").data,
                               exact.data / 0.5, rtol=1e-12)


@pytest.mark.parametrize("block_bytes", [None, 8 * 30])
def test_bin_sums_for_long_overlapping_windows(monkeypatch, block_bytes) -> None:
    """Windows covering more rows than the Recording holds use a cumulative sum (in column blocks)."""
    import neurocomplex.trials as trials_module

    if block_bytes is not None:
        monkeypatch.setattr(trials_module, "_BLOCK_BYTES", block_bytes)
    rng = np.random.default_rng(5)
    counts = rng.poisson(2.0, size=(40, 7))
    rec = nc.Recording.from_array(counts, kind="spike_counts", sampling_rate=10.0)
    starts = np.arange(0.0, 2.0, 0.1)  # 20 windows of 20 bins each over 40 bins
    trials = pd.DataFrame({"start_time": starts, "stop_time": starts + 2.0})
    resp = rec.trial_responses(trials, window=(0.0, 2.0))
    expected = np.stack([counts[i:i + 20].sum(axis=0) for i in range(20)])
    np.testing.assert_array_equal(resp.data, expected)
    short = rec.trial_responses(trials, window=(0.0, 0.3))  # 20 x 3 rows <= 40: gathered rows
    np.testing.assert_array_equal(short.data, np.stack([counts[i:i + 3].sum(axis=0) for i in range(20)]))


def test_rates_and_activations() -> None:
    x = np.arange(40, dtype=float).reshape(20, 2)
    rates = nc.Recording.from_array(x, kind="rates", sampling_rate=10.0)
    trials = pd.DataFrame({"start_time": [0.0, 1.0], "stop_time": [1.0, 2.0]})
    r = rates.trial_responses(trials, window=(0.0, 0.5), statistic="rate")
    np.testing.assert_allclose(r.data, [x[0:5].mean(0), x[10:15].mean(0)])
    c = rates.trial_responses(trials, window=(0.0, 0.5), statistic="count")
    np.testing.assert_allclose(c.data, r.data * 0.5)
    acts = nc.Recording.from_array(x, kind="activations", sampling_rate=10.0)
    np.testing.assert_allclose(acts.trial_responses(trials, window=(0.0, 0.5), statistic="mean").data, r.data)
    with pytest.raises(InvalidParameterError, match="statistic='mean'"):
        acts.trial_responses(trials, window=(0.0, 0.5), statistic="count")


def test_window_as_long_as_the_trial() -> None:
    """stop_time - start_time rounds below the window length for most float times: still accepted."""
    starts = np.arange(1.0, 30.0, 0.35)
    trials = pd.DataFrame({"start_time": starts, "stop_time": starts + 0.3})
    assert np.any(trials["stop_time"] - trials["start_time"] < 0.3)
    trains = [np.sort(np.random.default_rng(2).uniform(0, 31, 400))]
    rec = nc.Recording.from_spike_times(trains, bin_size=0.01, t_stop=31.0)
    resp = rec.trial_responses(trials, window=(0.0, 0.3))
    np.testing.assert_array_equal(resp.data, _direct_counts(trains, starts, starts + 0.3))
    with pytest.raises(InvalidParameterError, match="longer than trial"):
        rec.trial_responses(trials, window=(0.0, 0.301))


def test_bad_inputs() -> None:
    rec, trials = _small()
    with pytest.raises(MissingTableError, match="no interval table named 'trials'"):
        rec.trial_responses("trials")
    with pytest.raises(InvalidParameterError, match="longer than trial"):
        rec.trial_responses(trials, window=(0.0, 1.5))
    with pytest.raises(InvalidParameterError, match="outside the recorded span"):
        rec.trial_responses(trials, window=(-0.5, 0.2))
    with pytest.raises(InvalidParameterError, match="start < stop"):
        rec.trial_responses(trials, window=(0.5, 0.1))
    with pytest.raises(InvalidParameterError, match="statistic"):
        rec.trial_responses(trials, statistic="median")
    with pytest.raises(InvalidParameterError, match="no 'cue' column"):
        rec.trial_responses(trials, align="cue")
    with pytest.raises(InvalidParameterError, match="needs by="):
        rec.trial_responses(trials, average=True)  # onset and stim are both candidates
    with pytest.raises(InvalidParameterError, match="not in the trial table"):
        rec.trial_responses(trials, average=True, by="colour")
    with pytest.raises(InvalidParameterError, match="DataFrame"):
        rec.trial_responses([[0.0, 1.0]])
    with pytest.raises(InvalidDataError, match="NaN"):
        rec.trial_responses(trials.assign(start_time=[0.0, np.nan, 2.0]))
    with pytest.raises(InvalidParameterError, match="no times"):
        nc.Recording.from_array(np.ones((3, 2))).trial_responses(trials)
    with pytest.raises(InvalidParameterError, match="holds no bin"):
        rec.replace(spike_times=None).trial_responses(trials, window=(0.0, 0.04))


def test_bins_must_cover_the_window() -> None:
    """Without spike times, a window past the recorded bins or across a gap left by restrict is refused."""
    rng = np.random.default_rng(4)
    rec = nc.Recording.from_spike_times([np.sort(rng.uniform(0, 10, 200))], bin_size=0.1, t_stop=10.0)
    trials = pd.DataFrame({"start_time": [1.0, 4.0, 7.0], "stop_time": [2.0, 5.0, 8.0]})
    kept = pd.DataFrame({"start_time": [0.5, 6.5], "stop_time": [2.5, 8.5]})
    gappy = rec.restrict(kept)  # drops the spike times: the bins are counted
    assert gappy.spike_times is None
    ok = gappy.trial_responses(trials.iloc[[0, 2]], window=(0.0, 1.0))
    np.testing.assert_array_equal(ok.data, rec.trial_responses(trials.iloc[[0, 2]], window=(0.0, 1.0)).data)
    with pytest.raises(InvalidParameterError, match="gap left by restrict"):
        gappy.trial_responses(trials, window=(0.0, 1.0))  # trial 1 lies in the gap
    early = rec.restrict(0.0, 4.5)
    with pytest.raises(InvalidParameterError, match="recorded span"):
        early.trial_responses(trials, window=(0.0, 1.0))  # trial 1 runs past 4.5 s, trial 2 lies beyond
    with pytest.raises(InvalidParameterError, match="1 trial windows"):
        rec.restrict(0.0, 7.5).trial_responses(trials, window=(0.0, 1.0))


def test_labels_that_do_not_line_up() -> None:
    rec, trials = _small()
    resp = rec.trial_responses(trials, window=(0.0, 0.5))
    with pytest.raises(InvalidParameterError, match="line up"):
        resp.replace(labels=trials.iloc[:2])


def test_input_table_not_modified() -> None:
    rec, trials = _small()
    before = trials.copy()
    resp = rec.trial_responses(trials, window=(0.0, 0.5), average=True, by="stim")
    pd.testing.assert_frame_equal(trials, before)
    assert resp.labels["stim"].tolist() == ["x", "y"]
    assert list(resp.labels.columns) == ["stim", "n_trials"]  # onset differs within "x"
    # A column constant within every condition (here the class of the stimulus) is kept.
    classes = rec.trial_responses(trials.assign(kind=["k1", "k2", "k1"], extra=[1.0, np.nan, 1.0]),
                                  window=(0.0, 0.5), average=True, by="stim")
    assert classes.labels["kind"].tolist() == ["k1", "k2"]
    assert classes.labels["extra"].iloc[0] == 1.0 and np.isnan(classes.labels["extra"].iloc[1])
    np.testing.assert_allclose(resp.data, [[2.0, 0.5], [1.0, 1.0]])


# ----------------------------------------------------------------- the acquisition clock
@pytest.mark.parametrize("rate, window_ticks, offset_s, float_sum_fails", [
    (30000, (0, 3000), 0.0, True), (30000, (1500, 7500), 0.0, True), (30000, (-3000, 15000), 3600.0, True),
    (20000, (-1000, 4000), 10.0, False), (32000, (2000, 8000), 86400.0, False),
])
def test_window_edges_exact_on_the_acquisition_clock(rate, window_ticks, offset_s, float_sum_fails) -> None:
    """Spikes and trials stamped on one clock: counts equal integer arithmetic on the ticks,
    including every spike that lies exactly on a window edge."""
    rng = np.random.default_rng(rate + window_ticks[0])
    base = int(offset_s * rate)
    n_trials, lo, hi = 300, *window_ticks
    starts = base + np.sort(rng.choice(np.arange(20_000, 20_000 + 25_000 * 2 * n_trials, 25_000), n_trials, replace=False))
    starts += rng.integers(0, 50, n_trials)
    # Each unit fires on every window edge and at random ticks around the trials.
    ticks = [np.unique(np.concatenate([starts + lo, starts + hi, starts + lo - 1, starts + hi - 1,
                                       rng.integers(starts[0] + lo - 10, starts[-1] + hi + 10, 2000)]))
             for _ in range(3)]
    trains = [t / rate for t in ticks]
    trials = pd.DataFrame({"start_time": starts / rate, "stop_time": (starts + 20_000) / rate})
    rec = nc.Recording.from_spike_times(trains, bin_size=0.01, t_start=(starts[0] + lo - 20) / rate,
                                        t_stop=(starts[-1] + hi + 20) / rate)
    window = (lo / rate, hi / rate)
    resp = rec.trial_responses(trials, window=window)
    expected = np.array([[np.count_nonzero((t >= s + lo) & (t < s + hi)) for t in ticks] for s in starts])
    np.testing.assert_array_equal(resp.data, expected)
    # The plain float edges put some of the edge spikes on the wrong side: the case is a real one.
    naive = _direct_counts(trains, trials["start_time"].to_numpy() + window[0], trials["start_time"].to_numpy() + window[1])
    assert np.any(naive != expected) == float_sum_fails


def test_last_trial_outside_span_message_shows_the_digits() -> None:
    """The refused window prints with the digits that show why it lies outside."""
    rec = nc.Recording.from_spike_times([[0.05, 39.85]], bin_size=0.1, t_start=0.0, t_stop=39.9)
    trials = pd.DataFrame({"start_time": [39.8], "stop_time": [39.9000001]})
    with pytest.raises(InvalidParameterError, match=r"\[0\.0, 39\.9\).*39\.9000001 s ends after the span"):
        rec.trial_responses(trials, window=(0.0, 0.1000001))
    # On the span's edge (a sum rounding an ulp past it) the window is inside.
    np.testing.assert_array_equal(rec.trial_responses(trials, window=(0.0, 39.9 - 39.8)).data, [[1.0]])


def test_average_defects_are_named() -> None:
    rec = nc.Recording.from_spike_times([[0.1, 1.2, 2.3], [1.1]], bin_size=0.1, t_stop=3.0)
    trials = pd.DataFrame({"start_time": [0.0, 1.0, 2.0], "stop_time": [1.0, 2.0, 3.0], "stim": ["a", "b", "a"],
                           "n_trials": [5, 5, 5]})
    with pytest.raises(InvalidParameterError, match="column 'n_trials'"):
        rec.trial_responses(trials, average=True, by="stim")
    trials = trials.drop(columns="n_trials")
    with pytest.raises(InvalidParameterError, match="average must be True or False"):
        rec.trial_responses(trials, average="yes", by="stim")
    with pytest.raises(InvalidParameterError, match=r"columns \[3\] are not in the trial table"):
        rec.trial_responses(trials, average=True, by=3)
    with pytest.raises(InvalidParameterError, match="by must be a column name"):
        rec.trial_responses(trials, average=True, by={"stim"})
    listed = trials.assign(cond=[[1, 2], [3], [4]])
    with pytest.raises(InvalidDataError, match="holds list values"):
        rec.trial_responses(listed, average=True, by="cond")
    # A list column beside the condition is left out of the condition table, not an error.
    resp = rec.trial_responses(listed, average=True, by="stim")
    assert resp.labels.columns.tolist() == ["stim", "n_trials"] and resp.labels["n_trials"].tolist() == [2, 1]
    np.testing.assert_array_equal(resp.data, [[1.0, 0.0], [1.0, 1.0]])
    # numpy's bool is a bool; a numeric column name works.
    numeric = trials.rename(columns={"stim": 7})
    assert rec.trial_responses(numeric, average=np.bool_(True), by=7).labels[7].tolist() == ["a", "b"]


def test_start_end_tables_are_interval_tables() -> None:
    """pynapple's IntervalSet.as_dataframe() names its columns start and end."""
    rec = nc.Recording.from_spike_times([[0.1, 1.2, 2.3], [1.1]], bin_size=0.1, t_stop=3.0)
    table = pd.DataFrame({"start": [0.0, 1.0], "end": [1.0, 2.0], "stim": ["a", "b"]})
    resp = rec.trial_responses(table, window=(0.0, 0.5))
    np.testing.assert_array_equal(resp.data, [[1.0, 0.0], [1.0, 1.0]])
    assert resp.labels.columns.tolist() == ["start_time", "stop_time", "stim"]
    np.testing.assert_array_equal(rec.restrict(table).times, np.arange(20) / 10)
