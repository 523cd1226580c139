"""The bundled demo recording: valid NWB, readable, reproducible, and its ground truth holds."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import pytest

import neurocomplex as nc

DATA = Path(__file__).resolve().parents[1] / "data"
NWB_PATH = DATA / "demo_recording.nwb"
TRUTH_PATH = DATA / "demo_recording_truth.json"
SCRIPT = DATA / "make_demo_recording.py"

pynwb = pytest.importorskip("pynwb")


def _script():
    spec = importlib.util.spec_from_file_location("make_demo_recording", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _read(path: Path) -> dict:
    """Spike times, electrode location per unit, trials and metadata, read with pynwb."""
    with pynwb.NWBHDF5IO(str(path), mode="r") as io:
        nwb = io.read()
        units = nwb.units
        index = np.asarray(units.spike_times_index.data[:])
        spikes = np.asarray(units.spike_times.data[:])
        trains = np.split(spikes, index[:-1])
        electrode_rows = np.asarray(units.electrodes.data[:])
        locations = np.asarray(nwb.electrodes["location"].data[:]).astype(str)[electrode_rows]
        trials = nwb.trials.to_dataframe()
        return {"trains": trains, "locations": locations, "trials": trials, "ids": np.asarray(units.id.data[:]),
                "identifier": nwb.identifier, "start": nwb.session_start_time,
                "description": nwb.session_description}


@pytest.fixture(scope="module")
def bundled() -> dict:
    if not NWB_PATH.exists():
        pytest.skip(f"bundled recording missing: {NWB_PATH}")
    return _read(NWB_PATH)


@pytest.fixture(scope="module")
def truth() -> dict:
    return json.loads(TRUTH_PATH.read_text())


def _ed(cov: np.ndarray) -> tuple[float, float]:
    """(exp spectral entropy, participation ratio) of a covariance matrix."""
    lam = np.clip(np.linalg.eigvalsh(cov), 0.0, None)
    p = lam[lam > 0] / lam.sum()
    return float(np.exp(-np.sum(p * np.log(p)))), float(lam.sum() ** 2 / np.sum(lam**2))


def test_passes_the_nwb_validator():
    assert NWB_PATH.stat().st_size < 5e6
    errors = pynwb.validate(path=str(NWB_PATH))
    assert list(errors) == []


def test_reads_with_pynwb_and_is_not_modified(bundled, truth):
    digest = hashlib.sha256(NWB_PATH.read_bytes()).hexdigest()
    assert len(bundled["trains"]) == 60
    labels, counts = np.unique(bundled["locations"], return_counts=True)
    assert labels.tolist() == ["area_A", "area_B"] and counts.tolist() == [30, 30]
    trials = bundled["trials"]
    assert len(trials) == 120 and set(trials["stimulus"]) == {"left", "right"}
    np.testing.assert_allclose(trials["stop_time"] - trials["start_time"], 5.0)
    assert trials["start_time"].iloc[0] == 0.0 and trials["stop_time"].iloc[-1] == 600.0
    for t in bundled["trains"]:
        assert t.dtype == np.float64 and np.all(np.diff(t) >= 0)
        assert t[0] >= 0.0 and t[-1] < 600.0
        assert 2.0 <= t.size / 600.0 <= 20.0  # rates stay within 2-20 Hz
    assert sum(t.size for t in bundled["trains"]) == truth["n_spikes"]
    assert bundled["start"].tzinfo is not None and "area_A" in bundled["description"]
    assert hashlib.sha256(NWB_PATH.read_bytes()).hexdigest() == digest


def _assert_same_truth(new, old, where="truth"):
    if isinstance(old, dict):
        assert isinstance(new, dict) and new.keys() == old.keys(), where
        for key in old:
            _assert_same_truth(new[key], old[key], f"{where}[{key!r}]")
    elif isinstance(old, list):
        assert isinstance(new, list) and len(new) == len(old), where
        for i, (a, b) in enumerate(zip(new, old, strict=True)):
            _assert_same_truth(a, b, f"{where}[{i}]")
    elif isinstance(old, float):
        assert isinstance(new, float) and math.isclose(new, old, rel_tol=1e-12, abs_tol=1e-15), (where, new, old)
    else:
        assert new == old, where


def test_regenerating_gives_identical_spikes_and_truth(bundled, truth, tmp_path):
    result = _script().main(tmp_path)
    again = _read(tmp_path / "demo_recording.nwb")
    assert len(again["trains"]) == len(bundled["trains"])
    for new, old in zip(again["trains"], bundled["trains"], strict=True):
        np.testing.assert_array_equal(new, old)
    np.testing.assert_array_equal(again["locations"], bundled["locations"])
    assert again["trials"]["stimulus"].tolist() == bundled["trials"]["stimulus"].tolist()
    assert again["identifier"] == bundled["identifier"]
    # spikes are bit-identical; the truth's measures come from BLAS and LAPACK, whose last bits follow
    # the CPU's kernels
    _assert_same_truth(json.loads((tmp_path / "demo_recording_truth.json").read_text()), truth)
    assert result["seed"] == truth["seed"] == _script().SEED


def _counts_by_area(bundled) -> dict[str, np.ndarray]:
    rec = nc.Recording.from_spike_times(bundled["trains"], bin_size=0.1, t_start=0.0, t_stop=600.0,
                                        groups=bundled["locations"])
    return {area: np.asarray(sub.data, dtype=np.float64) for area, sub in rec.by_group().items()}


def test_counts_are_higher_dimensional_in_area_b(bundled, truth):
    counts = _counts_by_area(bundled)
    assert counts["area_A"].shape == (6000, 30)
    # binning through Recording agrees with numpy's histogram
    hist = np.histogram(bundled["trains"][0], bins=6000, range=(0.0, 600.0))[0]
    np.testing.assert_array_equal(counts["area_A"][:, 0], hist)
    ent_a, pr_a = _ed(np.cov(counts["area_A"], rowvar=False))
    ent_b, pr_b = _ed(np.cov(counts["area_B"], rowvar=False))
    assert pr_b > 1.3 * pr_a and ent_b > ent_a + 2.0
    stored = {a: truth["areas"][a]["spike_count_effective_dimension"]["0.1s"] for a in ("area_A", "area_B")}
    assert stored["area_A"]["participation_ratio"] == pytest.approx(pr_a, rel=1e-9)
    assert stored["area_B"]["exp_entropy"] == pytest.approx(ent_b, rel=1e-9)


def test_rate_truth_matches_noise_corrected_count_covariance(bundled, truth):
    # For Poisson spikes, Cov(counts) = Cov(integrated rate) + diag(mean count): removing the
    # diagonal Poisson term estimates the rate covariance from the file's spikes alone.
    counts = _counts_by_area(bundled)
    for area, expected_latents in (("area_A", 2), ("area_B", 10)):
        c = counts[area]
        _, pr = _ed(np.cov(c, rowvar=False) - np.diag(c.mean(axis=0)))
        rate_truth = truth["areas"][area]["rate_effective_dimension"]
        assert truth["areas"][area]["n_latents"] == expected_latents
        assert pr == pytest.approx(rate_truth["0.1s"]["participation_ratio"], rel=0.2)
        # Rényi dimensions do not increase with the order: PR (order 2) <= exp-entropy (order 1)
        for dims in rate_truth.values():
            assert 1.0 <= dims["participation_ratio"] <= dims["exp_entropy"] <= 30.0
    a = truth["areas"]["area_A"]["rate_effective_dimension"]["fine"]
    b = truth["areas"]["area_B"]["rate_effective_dimension"]["fine"]
    assert 1.5 < a["participation_ratio"] < 3.0 and 6.0 < b["participation_ratio"] < 11.0
