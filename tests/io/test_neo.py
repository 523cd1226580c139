"""Neo loader: unit conversion, containers, groups, AnalogSignal, errors; agreement with elephant."""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest

import neurocomplex as nc
from neurocomplex.errors import (
    InsufficientDataError,
    InvalidDataError,
    InvalidParameterError,
    MissingDependencyError,
    UnsupportedSourceError,
)

neo = pytest.importorskip("neo")
pq = pytest.importorskip("quantities")

from neurocomplex.io.neo import load_neo  # noqa: E402


def _random_times(rng: np.random.Generator, n_units: int = 5, duration: float = 3.0) -> list[np.ndarray]:
    return [np.sort(rng.uniform(0.0, duration, size=rng.integers(5, 60))) for _ in range(n_units)]


def _trains(times: list[np.ndarray], unit: str = "s", t_start: float = 0.0, t_stop: float = 3.0, **ann) -> list:
    scale = {"s": 1.0, "ms": 1e3}[unit]
    u = getattr(pq, unit)
    return [neo.SpikeTrain(t * scale * u, t_start=t_start * scale * u, t_stop=t_stop * scale * u, **ann)
            for t in times]


def test_seconds_and_milliseconds_give_identical_recordings(rng):
    times = _random_times(rng)
    rec_s = load_neo(_trains(times, "s"), bin_size=0.05)
    rec_ms = load_neo(_trains(times, "ms"), bin_size=0.05)
    ref = nc.Recording.from_spike_times(times, bin_size=0.05, t_start=0.0, t_stop=3.0)
    for rec in (rec_s, rec_ms):
        assert rec.kind == "spike_counts" and rec.n_samples == 60 and rec.n_units == 5
        np.testing.assert_array_equal(rec.data, ref.data)
        np.testing.assert_allclose(rec.times, ref.times, rtol=0, atol=1e-12)
        assert rec.unit_ids.tolist() == [0, 1, 2, 3, 4]
        assert rec.groups.tolist() == ["all"] * 5
    assert int(rec_s.data.sum()) == sum(t.size for t in times)


def test_common_window_and_explicit_window(rng):
    times = [np.array([0.55, 0.9, 1.7]), np.array([1.2, 2.45, 2.6])]
    trains = [neo.SpikeTrain(times[0] * pq.s, t_start=0.5 * pq.s, t_stop=2.0 * pq.s),
              neo.SpikeTrain(times[1] * pq.s, t_start=1.0 * pq.s, t_stop=3.0 * pq.s)]
    rec = load_neo(trains, bin_size=0.25)
    # common window: latest start 1.0 s, earliest stop 2.0 s -> bins 1.0, 1.25, 1.5, 1.75
    np.testing.assert_allclose(rec.times, [1.0, 1.25, 1.5, 1.75])
    np.testing.assert_array_equal(rec.data.T, [[0, 0, 1, 0], [1, 0, 0, 0]])
    # explicit window, given as a Quantity in ms; it reaches past each train's own window
    with pytest.warns(nc.NeurocomplexWarning, match="outside their own window"):
        rec2 = load_neo(trains, bin_size=0.5, t_start=500 * pq.ms, t_stop=3.0)
    np.testing.assert_allclose(rec2.times, [0.5, 1.0, 1.5, 2.0, 2.5])
    np.testing.assert_array_equal(rec2.data.T, [[2, 0, 1, 0, 0], [0, 1, 0, 1, 1]])
    assert rec2.metadata["warnings"] == (rec2.metadata["warnings"][0],)


def test_unit_ids_from_names_then_annotations(rng):
    times = _random_times(rng, n_units=3)
    named = _trains(times)
    for train, name in zip(named, ["a", "b", "c"]):
        train.name = name
    assert load_neo(named).unit_ids.tolist() == ["a", "b", "c"]
    annotated = _trains(times)
    for train, uid in zip(annotated, [7, 3, 11]):
        train.annotate(unit_id=uid)
    assert load_neo(annotated).unit_ids.tolist() == [7, 3, 11]
    repeated = _trains(times)  # names not unique -> fall back to 0..n-1
    for train in repeated:
        train.name = "same"
    assert load_neo(repeated).unit_ids.tolist() == [0, 1, 2]
    assert load_neo(repeated, unit_ids=["x", "y", "z"]).unit_ids.tolist() == ["x", "y", "z"]


def test_groups_from_annotations(rng):
    times = _random_times(rng, n_units=4)
    trains = _trains(times)
    for train, area, shank in zip(trains, ["CA1", "CA1", "CA3", "DG"], [0, 1, 1, 0]):
        train.annotate(brain_area=area, shank=shank)
    assert load_neo(trains).groups.tolist() == ["CA1", "CA1", "CA3", "DG"]
    assert load_neo(trains, group_key="shank").groups.tolist() == ["0", "1", "1", "0"]
    by_group = load_neo(trains).by_group()
    assert list(by_group) == ["CA1", "CA3", "DG"] and by_group["CA1"].n_units == 2
    # "group" wins over "brain_area" when both are present
    for train in trains:
        train.annotate(group="g")
    assert load_neo(trains).groups.tolist() == ["g"] * 4


def test_segment_and_block(rng):
    times = _random_times(rng)
    ref = load_neo(_trains(times), bin_size=0.1)
    seg = neo.Segment()
    seg.spiketrains.extend(_trains(times, "ms"))
    seg.epochs.append(neo.Epoch([0.5, 2.0] * pq.s, durations=[1.0, 0.5] * pq.s,
                                labels=np.array(["run", "rest"]), name="trials"))
    rec_seg = load_neo(seg, bin_size=0.1)
    np.testing.assert_array_equal(rec_seg.data, ref.data)
    trials = rec_seg.intervals["trials"]
    np.testing.assert_allclose(trials["start_time"], [0.5, 2.0])
    np.testing.assert_allclose(trials["stop_time"], [1.5, 2.5])
    assert trials["label"].tolist() == ["run", "rest"]
    assert rec_seg.restrict(0.5, 1.5).n_samples == 10

    block = neo.Block(name="session")
    block.segments.append(seg)
    np.testing.assert_array_equal(load_neo(block, bin_size=0.1).data, ref.data)
    # the same through the generic entry point
    np.testing.assert_array_equal(nc.load(block, bin_size=0.1).data, ref.data)
    np.testing.assert_array_equal(nc.load(_trains(times), bin_size=0.1).data, ref.data)


def test_multi_segment_block_requires_segment(rng):
    block = neo.Block(name="two")
    all_times = [_random_times(rng, n_units=2), _random_times(rng, n_units=2)]
    for times in all_times:
        seg = neo.Segment()
        seg.spiketrains.extend(_trains(times))
        block.segments.append(seg)
    with pytest.raises(InvalidParameterError, match="has 2 segments; pass segment="):
        load_neo(block)
    rec = load_neo(block, segment=1, bin_size=0.1)
    ref = nc.Recording.from_spike_times(all_times[1], bin_size=0.1, t_start=0.0, t_stop=3.0)
    np.testing.assert_array_equal(rec.data, ref.data)
    with pytest.raises(InvalidParameterError, match="not a valid index"):
        load_neo(block, segment=2)


def test_analogsignal_to_rates_in_ms_units():
    values = np.arange(24.0).reshape(8, 3)
    sig = neo.AnalogSignal(values, units="Hz", sampling_rate=2.0 * pq.kHz, t_start=250.0 * pq.ms,
                           array_annotations={"channel_names": np.array(["c0", "c1", "c2"]),
                                              "location": np.array(["V1", "V1", "LGN"])})
    rec = load_neo(sig)
    assert rec.kind == "rates" and rec.bin_size == pytest.approx(5e-4)
    np.testing.assert_array_equal(rec.data, values)
    np.testing.assert_allclose(rec.times, 0.25 + np.arange(8) * 5e-4)
    assert rec.unit_ids.tolist() == ["c0", "c1", "c2"]
    assert rec.groups.tolist() == ["V1", "V1", "LGN"]
    # window in seconds: samples whose time lies in [t_start, t_stop)
    sub = load_neo(sig, t_start=0.2508, t_stop=0.2522)
    np.testing.assert_allclose(sub.times, [0.251, 0.2515, 0.252])
    np.testing.assert_array_equal(sub.data, values[2:5])
    # a Segment holding only that signal
    seg = neo.Segment()
    seg.analogsignals.append(sig)
    np.testing.assert_array_equal(load_neo(seg).data, values)


def _two_signal_segment():
    seg = neo.Segment()
    for _ in range(2):
        seg.analogsignals.append(neo.AnalogSignal(np.zeros((4, 1)), units="mV", sampling_rate=1 * pq.kHz))
    return seg


def _disjoint_trains():
    return [neo.SpikeTrain([0.1] * pq.s, t_start=0 * pq.s, t_stop=1 * pq.s),
            neo.SpikeTrain([2.5] * pq.s, t_start=2 * pq.s, t_stop=3 * pq.s)]


def _ok_train():
    return neo.SpikeTrain([0.1, 0.5] * pq.s, t_stop=1 * pq.s)


@pytest.mark.parametrize(
    ("make", "options", "error", "fragment"),
    [
        (lambda: [], {}, InvalidDataError, "list of SpikeTrains is empty"),
        (lambda: [_ok_train(), np.array([0.2])], {}, InvalidDataError, "mixes SpikeTrains"),
        (_disjoint_trains, {}, InvalidDataError, "do not share a time window"),
        (lambda: [_ok_train()], {"t_start": 0.8, "t_stop": 0.5}, InvalidParameterError, "t_stop > t_start"),
        (lambda: [_ok_train()], {"t_start": 3 * pq.mV}, InvalidParameterError, "cannot convert it to seconds"),
        (lambda: [_ok_train()], {"bin_size": 0.0}, InvalidParameterError, "bin_size"),
        (lambda: [_ok_train()], {"segment": 0}, InvalidParameterError, "selects a segment of a neo.Block"),
        (lambda: [_ok_train()], {"group_key": "shank"}, InvalidParameterError, "no such annotation"),
        (lambda: neo.Block(), {}, InsufficientDataError, "has no segments"),
        (lambda: neo.Segment(), {}, InsufficientDataError, "neither spike trains nor an AnalogSignal"),
        (_two_signal_segment, {}, InvalidParameterError, "2 AnalogSignals"),
        (lambda: neo.Event([1.0] * pq.s), {}, UnsupportedSourceError, "Supported: neo.Block"),
    ],
)
def test_bad_inputs(make, options, error, fragment):
    with pytest.raises(error, match=fragment):
        load_neo(make(), **options)


def test_unsupported_neo_object_through_load():
    with pytest.raises(UnsupportedSourceError, match=r"neo\.Segment"):
        nc.load(neo.Event([1.0] * pq.s))


def test_missing_neo_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "neo", None)  # makes `import neo` raise ImportError
    with pytest.raises(MissingDependencyError, match=r"neurocomplex\[neo\]"):
        load_neo([object()])


def _elephant_counts(trains, bin_size):
    conversion = pytest.importorskip("elephant.conversion")
    with warnings.catch_warnings():
        # elephant warns about the spikes it discards at t_stop
        warnings.filterwarnings("ignore", message="Binning discarded", category=UserWarning, module="elephant")
        return conversion.BinnedSpikeTrain(trains, bin_size=bin_size * pq.s).to_array().T


@pytest.mark.parametrize("unit", ["s", "ms"])
def test_counts_agree_with_elephant(rng, unit):
    times = _random_times(rng, n_units=8, duration=3.0)
    trains = _trains(times, unit)
    ours = load_neo(trains, bin_size=0.02).data
    np.testing.assert_array_equal(ours, _elephant_counts(trains, 0.02))


def test_partial_last_bin_differs_from_elephant(rng):
    # Window 3 s, bin 0.4 s: elephant keeps 7 whole bins, we keep an 8th bin cut at t_stop.
    times = _random_times(rng, n_units=4, duration=3.0)
    trains = _trains(times)
    ours = load_neo(trains, bin_size=0.4)
    theirs = _elephant_counts(trains, 0.4)
    assert ours.n_samples == 8 and theirs.shape[0] == 7
    np.testing.assert_array_equal(ours.data[:7], theirs)
    assert ours.metadata["last_bin_fraction"] == pytest.approx(0.5)
    np.testing.assert_array_equal(ours.data[7], [np.sum(t >= 2.8) for t in times])


def test_spikes_on_bin_edges_go_to_the_later_bin_like_elephant():
    edges = np.round(np.arange(0.0, 1.0, 0.1), 10)
    trains = [neo.SpikeTrain(edges * pq.s, t_stop=1.0 * pq.s)]
    np.testing.assert_array_equal(load_neo(trains, bin_size=0.1).data[:, 0], np.ones(10))
    np.testing.assert_array_equal(_elephant_counts(trains, 0.1)[:, 0], np.ones(10))
