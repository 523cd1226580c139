"""nc.brain_vs_network: a planted area is found in a residual CNN; the result's tables and report."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import neurocomplex as nc

torch = pytest.importorskip("torch")
nn = torch.nn


class _Block(nn.Module):
    """conv-relu-conv plus the input, then relu: a residual block."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)
        self.relu2 = nn.ReLU()

    def forward(self, x):
        return self.relu2(x + self.conv2(self.relu1(self.conv1(x))))


def residual_cnn(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), _Block(4), nn.MaxPool2d(2), _Block(4),
        nn.Flatten(), nn.Linear(4 * 4 * 4, 10),
    ).eval()


def _case(n_stimuli: int = 40, n_repeats: int = 5, planted: str = "4.relu2", seed: int = 0):
    """Areas that are noisy Poisson readouts of one layer, on trials that repeat the stimuli."""
    rng = np.random.default_rng(seed)
    model = residual_cnn(seed)
    stimuli = rng.normal(size=(n_stimuli, 1, 8, 8)).astype(np.float32)
    layers = nc.torch.record(model, stimuli, progress=False)
    stimulus = np.repeat(np.arange(n_stimuli), n_repeats)
    rng.shuffle(stimulus)
    labels = pd.DataFrame({"stimulus_index": stimulus})
    # the planted area reads 40 random units of one layer (standardized), Poisson spike counts per trial
    src = layers[planted].data.astype(np.float64)
    src = src[:, src.std(axis=0) > 0]
    cols = rng.choice(src.shape[1], size=40, replace=False)
    z = (src[:, cols] - src[:, cols].mean(0)) / src[:, cols].std(0)
    counts = rng.poisson(np.exp(0.5 + 0.6 * z[stimulus]))
    area = nc.Recording.from_array(counts, kind="spike_counts", labels=labels)
    trial_layers = {k: nc.Recording.from_array(v.data[stimulus], kind="activations", labels=labels)
                    for k, v in layers.items() if k != "output"}
    return {"IT": area}, trial_layers, planted


@pytest.fixture(scope="module")
def result():
    areas, layers, planted = _case()
    res = nc.brain_vs_network(areas, layers, measures=["participation_ratio", "activation_ratio"],
                              metrics=("cka", "predictivity"), n_boot=30, n_draws=3, seed=0,
                              truth={"IT": planted})
    return res, planted, layers


def test_the_planted_layer_is_found_by_cka_and_predictivity(result):
    res, planted, _ = result
    best = res.best_layers.set_index("metric")
    assert best.loc["cka", "best_layer"] == planted
    assert best.loc["predictivity", "best_layer"] == planted
    assert res.best_layers["correct"].all()


def test_tables_are_tidy_and_complete(result):
    res, _, layers = result
    assert set(res.measures["recording"]) == {"area", "layer"}
    assert set(res.measures["group"]) == {"IT", *layers}
    assert set(res.measures["measure"]) == {"participation_ratio", "activation_ratio"}
    assert len(res.similarity) == 2 * len(layers) and set(res.similarity["metric"]) == {"cka", "predictivity"}
    assert list(res.best_layers["metric"]) == ["cka", "predictivity"]
    assert {"measure", "difference", "p_value"} <= set(res.matched.columns)
    assert set(res.tables()) >= {"measures", "matched", "similarity_cka", "best_layer_cka",
                                 "similarity_predictivity", "best_layer_predictivity"}
    assert "IT" in repr(res) and "cka:IT" in repr(res)


def test_repeated_stimuli_are_used_as_conditions_and_the_notes_say_so(result):
    res, _, _ = result
    assert res.provenance["conditions"] == "stimulus_index"
    assert "stimulus_index" in res.notes[0] and "40 conditions over 200 samples" in res.notes[0]
    pred = res.similarity[res.similarity["metric"] == "predictivity"]
    assert pred["method"].str.contains("ceiled").all()  # divided by the reliability ceiling


def test_conditions_false_and_unknown_column():
    areas, layers, _ = _case(n_stimuli=20, n_repeats=3)
    res = nc.brain_vs_network(areas, {k: layers[k] for k in list(layers)[:2]}, measures=["participation_ratio"],
                              metrics=("rsa",), conditions=False, n_boot=0, n_draws=2)
    assert res.provenance["conditions"] == "none" and "not used" in res.notes[0]
    with pytest.raises(nc.InvalidParameterError, match="not a label column"):
        nc.brain_vs_network(areas, layers, measures=["participation_ratio"], metrics=("rsa",),
                            conditions="orientation", n_boot=0, n_draws=2)


def test_bad_arguments_fail_before_any_work():
    areas, layers, _ = _case(n_stimuli=10, n_repeats=2)
    with pytest.raises(nc.InvalidParameterError, match="not one of"):
        nc.brain_vs_network(areas, layers, metrics=("cca",))
    with pytest.raises(nc.InvalidParameterError, match="no estimator"):
        nc.brain_vs_network(areas, layers, measures=["entropy_of_everything"])
    with pytest.raises(nc.InvalidParameterError, match="Recording"):
        nc.brain_vs_network({"IT": np.zeros((20, 3))}, layers)
    with pytest.raises(nc.InvalidParameterError, match="n_draws"):
        nc.brain_vs_network(areas, layers, n_draws=0)


def test_write_report_writes_the_report_and_its_tables(result, tmp_path):
    res, _, _ = result
    path = res.write_report(tmp_path / "report")
    names = {p.name for p in path.parent.iterdir()}
    assert {"report.html", "provenance.json", "measures.csv", "matched.csv", "similarity_cka.csv",
            "best_layer_cka.csv"} <= names
    html = path.read_text()
    assert "Layer-area similarity, cka" in html and "stimulus_index" in html
    back = pd.read_csv(path.parent / "best_layer_cka.csv")
    assert back["best_layer"].tolist() == res.best_layers.loc[res.best_layers["metric"] == "cka", "best_layer"].tolist()


def test_notebook_display(result):
    res, planted, _ = result
    html = res._repr_html_()
    assert "<table" in html and planted in html and "stimulus_index" in html
    est = nc.participation_ratio(res_rec := nc.Recording.from_array(np.eye(5)[np.arange(40) % 5]), n_boot=20)
    shown = est._repr_html_()
    assert "Estimate" in shown and f"{est.value:.6g}" in shown and "[" in shown
    assert "Recording" in res_rec._repr_html_()
