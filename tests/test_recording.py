"""Recording: construction, validation, operations, binning (values checked against numpy)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import neurocomplex as nc
from neurocomplex.recording import bin_spike_times


def test_from_array_basic_fields():
    x = np.arange(12.0).reshape(4, 3)
    rec = nc.Recording.from_array(x, kind="rates", sampling_rate=100.0, groups=["a", "b", "a"])
    assert rec.n_samples == 4 and rec.n_units == 3
    assert rec.bin_size == pytest.approx(0.01)
    np.testing.assert_allclose(rec.times, [0.0, 0.01, 0.02, 0.03])
    assert rec.unit_ids.tolist() == [0, 1, 2]
    assert rec.groups.tolist() == ["a", "b", "a"]
    assert repr(rec) == "Recording(kind='rates', n_samples=4, n_units=3, bin_size=0.01s, groups={a: 2, b: 1}, source='array')"


def test_data_is_read_only_and_input_untouched():
    x = np.ones((5, 2))
    rec = nc.Recording.from_array(x)
    with pytest.raises(ValueError):
        rec.data[0, 0] = 3.0
    assert x.flags.writeable  # the caller's array is not frozen
    with pytest.raises(AttributeError):
        rec.kind = "binary"  # frozen dataclass


def test_from_array_copy_detaches():
    x = np.ones((5, 2))
    rec = nc.Recording.from_array(x, copy=True)
    x[0, 0] = 7.0
    assert rec.data[0, 0] == 1.0


def test_dataframe_input_uses_columns_as_unit_ids():
    import pandas as pd

    df = pd.DataFrame({"n1": [0.0, 1.0], "n2": [2.0, 3.0]}, index=[0.5, 0.6])
    rec = nc.load(df)
    assert rec.unit_ids.tolist() == ["n1", "n2"]
    np.testing.assert_allclose(rec.times, [0.5, 0.6])
    np.testing.assert_array_equal(rec.data, df.to_numpy())
    back = rec.to_dataframe()
    np.testing.assert_array_equal(back.to_numpy(), df.to_numpy())
    assert back.columns.tolist() == ["n1", "n2"]


def test_binning_matches_numpy_histogram(rng):
    trains = [np.sort(rng.uniform(0, 10, size=n)) for n in (50, 0, 300, 7)]
    rec = nc.Recording.from_spike_times(trains, bin_size=0.1, t_start=0.0, t_stop=10.0)
    edges = np.linspace(0.0, 10.0, 101)
    for j, t in enumerate(trains):
        expected, _ = np.histogram(t, bins=edges)
        np.testing.assert_array_equal(rec.data[:, j], expected)
    assert rec.kind == "spike_counts" and rec.n_samples == 100


def test_bins_are_half_open_and_default_stop_counts_every_spike():
    rec = nc.Recording.from_spike_times([[0.0, 0.1, 0.2]], bin_size=0.1)
    # 0.1 and 0.2 fall on edges and go to the later bin; the last spike is counted.
    assert rec.data[:, 0].tolist() == [1, 1, 1]
    rec = nc.Recording.from_spike_times([[0.0, 0.1, 0.2]], bin_size=0.1, t_stop=0.2)
    assert rec.data[:, 0].tolist() == [1, 1]


def test_partial_last_bin_is_reported():
    rec = nc.Recording.from_spike_times([[0.0, 0.24]], bin_size=0.1, t_stop=0.25)
    assert rec.n_samples == 3
    assert rec.metadata["last_bin_fraction"] == pytest.approx(0.5)
    assert rec.data[:, 0].tolist() == [1, 0, 1]


def test_mapping_input_gives_unit_ids():
    rec = nc.Recording.from_spike_times({"u7": [0.1], "u9": [0.3]}, bin_size=0.1, t_stop=0.4)
    assert rec.unit_ids.tolist() == ["u7", "u9"]


def test_select_restrict_binarize_subsample_by_group():
    x = np.arange(40.0).reshape(10, 4)
    rec = nc.Recording.from_array(x, sampling_rate=10.0, groups=["A", "B", "A", "B"], unit_ids=[10, 11, 12, 13])
    sel = rec.select(groups="A")
    np.testing.assert_array_equal(sel.data, x[:, [0, 2]])
    assert sel.unit_ids.tolist() == [10, 12]
    assert rec.select(units=[13]).data[:, 0].tolist() == x[:, 3].tolist()
    r = rec.restrict(0.2, 0.5)
    np.testing.assert_array_equal(r.data, x[2:5])
    np.testing.assert_allclose(r.times, [0.2, 0.3, 0.4])
    b = nc.Recording.from_array(x - 20).binarize()
    assert b.kind == "binary"
    np.testing.assert_array_equal(b.data, (x - 20 > 0).astype(np.uint8))
    groups = rec.by_group()
    assert list(groups) == ["A", "B"] and groups["B"].unit_ids.tolist() == [11, 13]
    sub = rec.subsample(n_units=2, n_samples=5, seed=1)
    assert sub.data.shape == (5, 2)
    assert np.all(np.isin(sub.data, x))
    assert rec.subsample(n_units=2, seed=1).unit_ids.tolist() == rec.subsample(n_units=2, seed=1).unit_ids.tolist()


def test_restrict_to_interval_table():
    import pandas as pd

    rec = nc.Recording.from_array(np.arange(10.0)[:, None], sampling_rate=1.0)
    trials = pd.DataFrame({"start_time": [1.0, 6.0], "stop_time": [3.0, 7.5]})
    assert rec.restrict(trials).data[:, 0].tolist() == [1.0, 2.0, 6.0, 7.0]


@pytest.mark.parametrize(
    ("make", "error", "fragment"),
    [
        (lambda: nc.Recording.from_array(np.ones(5)), nc.InvalidDataError, "must be 2-D"),
        (lambda: nc.Recording.from_array(np.ones((2, 2, 2))), nc.InvalidDataError, "must be 2-D"),
        (lambda: nc.Recording.from_array(np.array([[1.0, np.nan]])), nc.InvalidDataError, "NaN"),
        (lambda: nc.Recording.from_array(np.array([[1.0, np.inf]])), nc.InvalidDataError, "inf"),
        (lambda: nc.Recording.from_array(np.ones((3, 2)), unit_ids=[1]), nc.InvalidParameterError, "unit_ids has 1"),
        (lambda: nc.Recording.from_array(np.ones((3, 2)), groups=["a"] * 3), nc.InvalidParameterError, "groups has 3"),
        (lambda: nc.Recording.from_array(np.ones((3, 2)), unit_ids=[1, 1]), nc.InvalidParameterError, "unique"),
        (lambda: nc.Recording.from_array(np.ones((3, 2)), kind="volts"), nc.InvalidParameterError, "kind="),
        (lambda: nc.Recording.from_array(-np.ones((3, 2)), kind="spike_counts"), nc.InvalidDataError, "negative"),
        (lambda: nc.Recording.from_array(np.ones((3, 2)), sampling_rate=0), nc.InvalidParameterError, "sampling_rate"),
        (lambda: nc.Recording.from_spike_times([[0.1]], bin_size=0), nc.InvalidParameterError, "bin_size"),
        (lambda: nc.Recording.from_spike_times([[0.1]], bin_size=-0.1), nc.InvalidParameterError, "bin_size"),
        (lambda: nc.Recording.from_spike_times([[0.1]], t_start=1.0, t_stop=0.5), nc.InvalidParameterError, "t_stop > t_start"),
        (lambda: nc.Recording.from_spike_times([[0.1, np.nan]]), nc.InvalidDataError, "NaN"),
        (lambda: nc.Recording.from_array(np.ones((3, 1)), times=[0.0, 2.0, 1.0]), nc.InvalidDataError, "increasing"),
        (lambda: nc.load(object()), nc.UnsupportedSourceError, "Supported sources"),
    ],
)
def test_bad_input_raises_named_error(make, error, fragment):
    with pytest.raises(error, match=fragment) as info:
        make()
    assert isinstance(info.value, nc.NeurocomplexError)


def test_restrict_errors():
    rec = nc.Recording.from_array(np.ones((5, 2)))
    with pytest.raises(nc.InvalidParameterError, match="no times"):
        rec.restrict(0, 1)
    rec = nc.Recording.from_array(np.ones((5, 2)), sampling_rate=1.0)
    with pytest.raises(nc.InvalidParameterError, match="stop > start"):
        rec.restrict(3, 1)
    with pytest.raises(nc.InvalidParameterError, match="no sample"):
        rec.restrict(10, 20)
    with pytest.raises(nc.InvalidParameterError, match="not in this Recording"):
        rec.select(units=[99])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.lists(st.floats(0, 50, allow_nan=False), max_size=40), min_size=1, max_size=6),
    st.sampled_from([0.001, 0.01, 0.37, 1.0, 5.0]),
)
def test_binning_conserves_spike_counts(trains, bin_size):
    rec = nc.Recording.from_spike_times(trains, bin_size=bin_size)
    assert rec.data.sum(axis=0).tolist() == [len(t) for t in trains]


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 30), st.integers(1, 6), st.integers(0, 2**16))
def test_operations_never_change_values(n_samples, n_units, seed):
    x = np.random.default_rng(seed).normal(size=(n_samples, n_units))
    rec = nc.Recording.from_array(x, sampling_rate=2.0)
    sub = rec.subsample(n_units=max(1, n_units // 2), n_samples=max(1, n_samples // 2), seed=seed)
    cols = np.searchsorted(rec.unit_ids, sub.unit_ids)
    rows = np.searchsorted(rec.times, sub.times)
    np.testing.assert_array_equal(sub.data, x[np.ix_(rows, cols)])
    r = rec.restrict(rec.times[0], rec.times[-1])
    np.testing.assert_array_equal(r.data, x[:-1])
    np.testing.assert_array_equal(rec.select(units=rec.unit_ids[:1]).data, x[:, :1])
    for derived in (sub, r, rec.binarize()):
        assert not derived.data.flags.writeable
    np.testing.assert_array_equal(rec.data, x)


def test_large_binning_memory_is_output_sized():
    """1,000 units x 1 hour at 1 ms: only the output matrix (uint8, 3.6 GB) is never built here;
    we check the scaling on 1,000 units x 60 s: peak memory above the output stays O(n_spikes)."""
    import tracemalloc

    rng = np.random.default_rng(0)
    trains = [np.sort(rng.uniform(0, 60, size=300)) for _ in range(1000)]
    tracemalloc.start()
    counts = bin_spike_times(trains, 0.001, 0.0, 60.0)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert counts.shape == (60000, 1000) and counts.dtype == np.uint8
    assert counts.sum() == 300 * 1000
    output = counts.nbytes
    assert peak < output + 64 * 300 * 1000  # output plus a few int64 per spike


def test_spike_on_an_edge_within_rounding_goes_to_the_later_bin():
    # 0.3 / 0.1 == 2.9999999999999996 in floating point; the spike still belongs to bin 3
    rec = nc.Recording.from_spike_times([np.arange(10) * 0.1], bin_size=0.1, t_stop=1.0)
    assert rec.data[:, 0].tolist() == [1] * 10


def test_binning_is_exact_on_a_30khz_clock_over_ten_hours():
    """Spikes at sample k of a 30 kHz clock, 1 ms bins: bin = k // 30 exactly, for 10 hours.
    Samples one before, on and one after every sampled edge are the hard cases."""
    rng = np.random.default_rng(0)
    j = rng.integers(1, 36_000_000 - 1, size=300_000)  # edges (ms) across 10 h
    k = np.sort(np.concatenate([30 * j - 1, 30 * j, 30 * j + 1, [0, 36_000 * 30_000 - 1]]))
    t = k / 30_000.0
    naive = np.floor(t / 0.001).astype(np.int64)
    assert np.any(naive != k // 30)  # the float quotient alone gets some of these wrong
    rec = nc.Recording.from_spike_times([t, t[::2]], bin_size=0.001, t_start=0.0, t_stop=36_000.0)
    assert rec.n_samples == 36_000_000
    np.testing.assert_array_equal(rec.data[:, 0], np.bincount(k // 30, minlength=36_000_000))
    np.testing.assert_array_equal(rec.data[:, 1], np.bincount(k[::2] // 30, minlength=36_000_000))
    # The default window ends with the bin of the last spike, whose edges are exact too.
    last = nc.Recording.from_spike_times([t[-5:]], bin_size=0.001)
    assert last.n_samples == 36_000_000 and last.times[-1] == 35_999.999


@pytest.mark.parametrize("bin_size", [0.001, 0.0025, 0.01, 0.1, 1 / 3])
def test_binning_matches_elephant_on_random_trains(bin_size):
    neo = pytest.importorskip("neo")
    pq = pytest.importorskip("quantities")
    from elephant.conversion import BinnedSpikeTrain

    rng = np.random.default_rng(7)
    # spikes on a 30 kHz clock (many on edges) and continuous ones
    trains = [np.sort(rng.integers(0, 60 * 30_000, size=2000)) / 30_000.0 for _ in range(4)]
    trains += [np.sort(rng.uniform(0, 60, size=500)) for _ in range(3)]
    rec = nc.Recording.from_spike_times(trains, bin_size=bin_size, t_start=0.0, t_stop=60.0)
    sts = [neo.SpikeTrain(t * pq.s, t_start=0 * pq.s, t_stop=60 * pq.s) for t in trains]
    expected = BinnedSpikeTrain(sts, bin_size=bin_size * pq.s, t_start=0 * pq.s, t_stop=60 * pq.s).to_array().T
    assert rec.data.shape == expected.shape
    np.testing.assert_array_equal(rec.data, expected)


def test_negative_spike_times_are_kept_by_the_default_window():
    rec = nc.Recording.from_spike_times([[-0.25, 0.05], [0.31]], bin_size=0.1)
    assert rec.metadata["t_start"] == -0.3
    assert rec.data.sum() == 3
    np.testing.assert_array_equal(rec.times, [-0.3, -0.2, -0.1, 0.0, 0.1, 0.2, 0.3])
    assert rec.data[:, 0].tolist() == [1, 0, 0, 1, 0, 0, 0]
    # an explicit window is obeyed
    assert nc.Recording.from_spike_times([[-0.25, 0.05]], bin_size=0.1, t_start=0.0).data.sum() == 1


def test_restrict_by_interval_name():
    import pandas as pd

    trials = pd.DataFrame({"start_time": [0.0, 3.0], "stop_time": [1.0, 4.0]})
    rec = nc.Recording.from_array(np.arange(5.0)[:, None], sampling_rate=1.0, intervals={"trials": trials})
    np.testing.assert_array_equal(rec.restrict("trials").data.ravel(), [0.0, 3.0])
    np.testing.assert_array_equal(rec.restrict("trials").data, rec.restrict(trials).data)


def test_counts_widen_beyond_uint8_only_when_needed():
    burst = np.full(300, 0.05)
    counts = bin_spike_times([burst, np.array([0.15])], 0.1, 0.0, 0.2)
    assert counts.dtype == np.uint16 and counts.tolist() == [[300, 0], [0, 1]]
    assert bin_spike_times([np.array([0.15])], 0.1, 0.0, 0.2).dtype == np.uint8
    with pytest.raises(nc.InvalidParameterError, match="cannot hold a count of 300"):
        bin_spike_times([burst], 0.1, 0.0, 0.2, dtype=np.uint8)


def _exact_bin(t: float, t_start: float, bin_size: float) -> int:
    """Bin of t by rational arithmetic: edge k is the float nearest t_start + k * bin_size exactly."""
    from fractions import Fraction

    b, s = Fraction(repr(bin_size)), Fraction(repr(t_start))
    k0 = int((Fraction(t) - s) // b)
    for k in (k0 - 1, k0, k0 + 1):
        if float(s + k * b) <= t < float(s + (k + 1) * b):
            return k
    raise AssertionError("no bin")  # pragma: no cover


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.one_of(st.integers(0, 10**9).map(lambda k: k / 30_000.0),
                       st.integers(0, 10**9).map(lambda k: k / 20_000.0),
                       st.floats(0.0, 40_000.0, allow_nan=False)), min_size=1, max_size=30),
    st.sampled_from([0.001, 0.0005, 0.01, 0.025, 0.1, 1 / 3, 0.7, 2.5]),
    st.sampled_from([0.0, 0.5, 0.3]),
)
def test_bin_index_equals_rational_arithmetic(times, bin_size, t_start):
    from neurocomplex.binning import _bin_index, _grid

    t = np.array([x for x in times if x >= t_start], dtype=np.float64)
    k = _bin_index(t, t_start, bin_size, _grid(t_start, bin_size))
    assert k.tolist() == [_exact_bin(x, t_start, bin_size) for x in t.tolist()]


def test_start_with_many_decimals_bins_like_elephant_grid():
    # a t_start such as 0.007858249999999999 has a 19-digit decimal denominator: no integer overflow
    t0 = 0.007858249999999999
    rec = nc.Recording.from_spike_times([np.array([t0, t0 + 0.05, t0 + 0.1, t0 + 0.25])], bin_size=0.1, t_start=t0)
    assert rec.data[:, 0].tolist() == [2, 1, 1]


def test_from_array_takes_torch_tensors():
    torch = pytest.importorskip("torch")
    t = torch.arange(12, dtype=torch.float32).reshape(4, 3).requires_grad_(True)
    rec = nc.Recording.from_array(t * 2)  # a tensor in an autograd graph: detached, not an error
    np.testing.assert_array_equal(rec.data, (np.arange(12, dtype=np.float32) * 2).reshape(4, 3))
    assert rec.data.dtype == np.float32
    plain = torch.ones(5, 2, dtype=torch.float64)
    rec = nc.Recording.from_array(plain)
    assert np.shares_memory(rec.data, plain.numpy())  # a CPU tensor is wrapped, not copied
    assert nc.effective_dimension(nc.Recording.from_array(torch.randn(500, 4)), n_boot=0).value > 3.5
    if torch.cuda.is_available():
        gpu = torch.randn(50, 3, device="cuda")
        np.testing.assert_array_equal(nc.Recording.from_array(gpu).data, gpu.cpu().numpy())


def test_repr_html_is_a_compact_table():
    import pandas as pd

    rec = nc.Recording.from_spike_times([[0.01, 0.5], [0.3]], bin_size=0.1, groups=["CA1", "<b>"],
                                        intervals={"trials": pd.DataFrame({"start_time": [0.0], "stop_time": [0.3]})},
                                        source="x.nwb")
    html = rec._repr_html_()
    assert html.startswith("<table>") and html.endswith("</table>")
    for text in ("spike_counts", "6 x 2", "CA1 (1)", "&lt;b&gt; (1)", "0.1 s", "0 to 0.6 s", "trials (1)", "x.nwb"):
        assert text in html, text
    resp = rec.trial_responses("trials", window=(0.0, 0.3))
    html = resp._repr_html_()
    assert "responses" in html and "time span" not in html and "sample labels" in html


def test_intervals_given_as_interval_sets_are_tables():
    """An object with start/end arrays and as_dataframe() (pynapple's IntervalSet interface), and a
    DataFrame with start/end columns, are stored as start_time/stop_time tables."""
    import pandas as pd

    class Intervals:  # the interface, without importing pynapple here
        start, end = np.array([0.0, 0.4]), np.array([0.2, 0.6])

        def as_dataframe(self):
            return pd.DataFrame({"start": self.start, "end": self.end, "stim": ["a", "b"]})

    rec = nc.Recording.from_array(np.ones((8, 1)), sampling_rate=10.0,
                                  intervals={"a": Intervals(), "b": pd.DataFrame({"start": [0.1], "end": [0.3]})})
    assert rec.intervals["a"].columns.tolist() == ["start_time", "stop_time", "stim"]
    assert rec.intervals["b"].columns.tolist() == ["start_time", "stop_time"]
    np.testing.assert_allclose(rec.restrict(Intervals()).times, [0.0, 0.1, 0.4, 0.5])
    np.testing.assert_allclose(rec.restrict("b").times, [0.1, 0.2])
