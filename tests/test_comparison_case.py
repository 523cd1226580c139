"""The bundled brain-versus-network case: reproducible, and its known answer (area -> layer) is found."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

import neurocomplex as nc
from neurocomplex._bundled import comparison_case_paths

torch = pytest.importorskip("torch")
pytest.importorskip("pynwb")

DATA = Path(__file__).resolve().parents[1] / "data"


def _generator():
    spec = importlib.util.spec_from_file_location("make_comparison_case", DATA / "make_comparison_case.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def case():
    try:
        paths = comparison_case_paths()
    except nc.MissingFileError:
        pytest.skip("data/comparison_case.nwb not generated")
    truth = json.loads(paths["truth"].read_text())
    rec = nc.load(paths["nwb"], bin_size=0.05)
    resp = rec.trial_responses(truth["trial_table"], window=tuple(truth["window"]), average=True,
                               by=truth["stimulus_column"])
    stimuli = np.load(paths["stimuli"])
    from neurocomplex.torch.models import load_demo_network

    layers = nc.torch.record(load_demo_network(), torch.as_tensor(stimuli))
    return {"paths": paths, "truth": truth, "rec": rec, "areas": resp.by_group(), "layers": layers,
            "stimuli": stimuli}


def test_regenerating_gives_identical_data(case, tmp_path) -> None:
    import h5py

    gen = _generator()
    truth = case["truth"]
    sim = gen.simulate(truth["seed"])
    np.testing.assert_array_equal(sim["stimuli"], case["stimuli"])
    with h5py.File(case["paths"]["nwb"], "r") as f:
        flat, index = f["units/spike_times"][:], f["units/spike_times_index"][:]
        trials = {k: f[f"intervals/trials/{k}"][:] for k in ("start_time", "stop_time", "stimulus_index", "digit")}
        images = f["stimulus/templates/digits/data"][:]
    stored = np.split(flat, index[:-1])
    assert len(stored) == len(sim["spike_times"]) == sum(truth["n_units"].values())
    for a, b in zip(stored, sim["spike_times"], strict=True):
        np.testing.assert_array_equal(a, b)
    for key, values in trials.items():
        np.testing.assert_array_equal(values, sim["trials"][key])
    np.testing.assert_array_equal(images, sim["stimuli"].reshape(-1, 8, 8))
    # The whole pipeline again, into a fresh folder: the same truth file.
    out = gen.main(tmp_path, truth["seed"])
    assert json.loads(Path(out["truth_path"]).read_text()) == truth
    assert truth["n_spikes"] == flat.size


def test_rates_keep_the_layer_geometry(case) -> None:
    """Before the spikes, each area's rates are an affine copy of its layer: linear CKA exactly 1."""
    gen = _generator()
    sim = gen.simulate(case["truth"]["seed"])
    for area, layer in case["truth"]["area_layer"].items():
        x = np.asarray(case["layers"][layer].data, dtype=np.float64)
        est = nc.cka(nc.Recording.from_array(sim["rates"][area]), nc.Recording.from_array(x), n_boot=0)
        assert est.value == pytest.approx(1.0, abs=1e-9)


def test_file_contents(case) -> None:
    truth, rec, areas = case["truth"], case["rec"], case["areas"]
    assert sorted(areas) == sorted(truth["area_layer"])
    for area, resp in areas.items():
        layer = case["layers"][truth["area_layer"][area]]
        assert resp.kind == "responses" and resp.n_samples == truth["n_stimuli"] == layer.n_samples
        assert resp.n_units == layer.n_units == truth["n_units"][area]
        np.testing.assert_array_equal(resp.labels["stimulus_index"], np.arange(truth["n_stimuli"]))
        assert (resp.labels["n_trials"] == truth["n_repeats"]).all()
    digits = rec.intervals["trials"].groupby("stimulus_index")["digit"].first()
    assert np.bincount(digits.to_numpy(), minlength=10).tolist() == [15] * 10


# ----------------------------------------------------------------- the known answer
def _cka(x: np.ndarray, y: np.ndarray) -> float:
    x, y = x - x.mean(0), y - y.mean(0)
    return float(np.linalg.norm(x.T @ y) ** 2 / (np.linalg.norm(x.T @ x) * np.linalg.norm(y.T @ y)))


def _rsa(x: np.ndarray, y: np.ndarray) -> float:
    from scipy.stats import spearmanr

    iu = np.triu_indices(x.shape[0], 1)
    return float(spearmanr(1 - np.corrcoef(x)[iu], 1 - np.corrcoef(y)[iu])[0])


def _ridge(x: np.ndarray, y: np.ndarray, alphas=(1e-3, 1e-2, 0.1, 1.0, 10.0), k: int = 5) -> float:
    """Mean over units of the correlation of 5-fold cross-validated ridge predictions (best alpha)."""
    folds = np.array_split(np.random.default_rng(0).permutation(x.shape[0]), k)
    best = -np.inf
    for a in alphas:
        pred = np.empty_like(y)
        for f in folds:
            train = np.setdiff1d(np.arange(x.shape[0]), f)
            mx, my = x[train].mean(0), y[train].mean(0)
            g = (x[train] - mx).T @ (x[train] - mx)
            w = np.linalg.solve(g + a * np.trace(g) / g.shape[0] * np.eye(g.shape[0]), (x[train] - mx).T @ (y[train] - my))
            pred[f] = (x[f] - mx) @ w + my
        live = y.std(0) > 0
        best = max(best, float(np.mean([np.corrcoef(pred[:, j], y[:, j])[0, 1] for j in np.flatnonzero(live)])))
    return best


@pytest.mark.parametrize("score", [_cka, _rsa, _ridge], ids=["cka", "rsa", "ridge"])
def test_known_answer_direct(case, score) -> None:
    """Direct numpy formulas: every area's best layer is the one it was generated from."""
    for area, layer in case["truth"]["area_layer"].items():
        y = np.asarray(case["areas"][area].data)
        values = {name: score(np.asarray(rec.data, dtype=np.float64), y) for name, rec in case["layers"].items()}
        assert max(values, key=values.get) == layer, (area, values)


@pytest.mark.parametrize("metric", ["cka", "rsa", "predictivity"])
def test_known_answer_estimators(case, metric) -> None:
    """nc.cka, nc.rsa and nc.predictivity find area -> layer on the bundled file."""
    fn = getattr(nc, metric)
    for area, layer in case["truth"]["area_layer"].items():
        y = case["areas"][area]
        values = {name: fn(rec, y, n_boot=0).value for name, rec in case["layers"].items()}
        assert max(values, key=values.get) == layer, (area, values)
