"""Recording.labels (one row per sample) and Recording.spike_times (the source spikes)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import neurocomplex as nc
from neurocomplex.errors import InvalidDataError, InvalidParameterError


def _rec() -> nc.Recording:
    labels = pd.DataFrame({"stimulus": list("abcdef"), "trial": np.arange(6) * 10}, index=np.arange(100, 106))
    return nc.Recording.from_array(np.arange(18.0).reshape(6, 3), sampling_rate=10.0, groups=["A", "B", "A"],
                                   source="array").replace(labels=labels)


def test_labels_validated_and_detached() -> None:
    frame = pd.DataFrame({"stimulus": list("abcdef")})
    rec = nc.Recording.from_array(np.ones((6, 2))).replace(labels=frame)
    assert rec.labels.index.tolist() == list(range(6))
    frame.loc[0, "stimulus"] = "z"  # the Recording keeps its own copy
    assert rec.labels["stimulus"][0] == "a"
    as_mapping = nc.Recording.from_array(np.ones((2, 2))).replace(labels={"c": [1, 2]})
    assert as_mapping.labels["c"].tolist() == [1, 2]
    with pytest.raises(InvalidParameterError, match="line up"):
        nc.Recording.from_array(np.ones((5, 2))).replace(labels=frame)
    with pytest.raises(InvalidParameterError, match="DataFrame"):
        nc.Recording.from_array(np.ones((6, 2))).replace(labels=np.arange(6))
    assert nc.Recording.from_array(np.ones((2, 2))).labels is None
    direct = nc.Recording.from_array(np.ones((2, 2)), kind="responses", labels={"stimulus": ["s0", "s1"]})
    assert direct.labels["stimulus"].tolist() == ["s0", "s1"]
    with pytest.raises(InvalidParameterError, match="line up"):
        nc.Recording.from_array(np.ones((3, 2)), labels={"stimulus": ["s0", "s1"]})


def test_labels_follow_the_samples() -> None:
    rec = _rec()
    assert rec.labels.index.tolist() == list(range(6))  # reset to one row per sample
    sub = rec.restrict(0.2, 0.5)
    assert sub.labels["stimulus"].tolist() == ["c", "d", "e"]
    picked = rec.subsample(n_samples=3, seed=1)
    rows = [int(t * 10 + 0.5) for t in picked.times]
    assert picked.labels["stimulus"].tolist() == [list("abcdef")[r] for r in rows]
    assert rec.select(groups="A").labels.equals(rec.labels)
    assert rec.binarize(5.0).labels.equals(rec.labels)
    assert all(r.labels.equals(rec.labels) for r in rec.by_group().values())


def test_spike_times_kept_and_carried() -> None:
    trains = [[0.05, 0.31], [0.12], [0.2, 0.21, 0.22]]
    rec = nc.Recording.from_spike_times(trains, bin_size=0.1, groups=["A", "B", "A"])
    assert len(rec.spike_times) == 3
    for t, expected in zip(rec.spike_times, trains, strict=True):
        np.testing.assert_array_equal(t, expected)
        assert t.dtype == np.float64 and not t.flags.writeable
    sel = rec.select(groups="A")
    assert [t.tolist() for t in sel.spike_times] == [trains[0], trains[2]]
    assert [t.tolist() for t in rec.by_group()["B"].spike_times] == [trains[1]]
    # Operations on samples drop them: the bins are then the data.
    assert rec.restrict(0.0, 0.2).spike_times is None
    assert rec.subsample(n_samples=2).spike_times is None
    assert rec.binarize().spike_times is None
    assert nc.Recording.from_array(np.ones((2, 2))).spike_times is None


def test_spike_times_validated() -> None:
    rec = nc.Recording.from_spike_times([[0.1], [0.2]], bin_size=0.1)
    with pytest.raises(InvalidParameterError, match="one array per unit"):
        rec.replace(spike_times=([0.1],))
    with pytest.raises(InvalidDataError, match="not an array of numbers"):
        rec.replace(spike_times=(["x"], [0.2]))


def test_responses_kind() -> None:
    assert "responses" in nc.recording.KINDS
    resp = nc.Recording(data=np.array([[1.5, 2.0]]), kind="responses", unit_ids=None, groups=None)
    assert resp.kind == "responses" and resp.binarize(1.8).data.tolist() == [[0, 1]]
