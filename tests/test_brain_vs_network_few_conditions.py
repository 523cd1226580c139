"""nc.brain_vs_network on 4 stimuli shown many times: the metrics the conditions cannot support are
left out with a note, the others run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import neurocomplex as nc


def test_four_conditions_skip_predictivity_and_keep_the_rest():
    rng = np.random.default_rng(0)
    stim = np.repeat(np.arange(4), 30)
    rng.shuffle(stim)
    labels = pd.DataFrame({"stimulus_index": stim})
    latent = rng.normal(size=(4, 10))[stim]
    layers = {f"l{i}": nc.Recording.from_array(np.maximum(latent @ rng.normal(size=(10, 300)), 0).astype(np.float32),
                                               labels=labels) for i in range(2)}
    rates = np.exp(0.1 * latent @ rng.normal(size=(10, 30)))
    areas = {"V1": nc.Recording.from_array(rng.poisson(rates), kind="spike_counts", labels=labels)}
    with pytest.warns(nc.NeurocomplexWarning, match="No predictivity map: 4 conditions are too few"), \
            pytest.warns(nc.NeurocomplexWarning, match="only 4 conditions"):
        res = nc.brain_vs_network(areas, layers, measures=["participation_ratio"], n_boot=40, n_draws=2,
                                  progress=False)
    assert set(res.similarity.metric) == {"cka", "rsa"} and set(res.best_layers.metric) == {"cka", "rsa"}
    assert any(note.startswith("No predictivity map: 4 conditions are too few") for note in res.notes)
    assert np.isfinite(res.similarity.value).all()


def _small_case():
    rng = np.random.default_rng(1)
    stim = np.repeat(np.arange(20), 3)
    labels = pd.DataFrame({"stimulus_index": stim})
    latent = rng.normal(size=(20, 5))[stim]
    layers = {f"l{i}": nc.Recording.from_array(latent @ rng.normal(size=(5, 30)), labels=labels) for i in range(2)}
    areas = {"V1": nc.Recording.from_array(rng.poisson(np.exp(0.2 * latent @ rng.normal(size=(5, 20)))),
                                           kind="spike_counts", labels=labels)}
    return areas, layers


def test_no_metric_gives_empty_tables_with_their_columns(tmp_path):
    areas, layers = _small_case()
    res = nc.brain_vs_network(areas, layers, measures=["participation_ratio"], metrics=(), n_boot=40, n_draws=2,
                              progress=False, out=tmp_path / "report")
    assert res.similarity.empty and {"area", "layer", "value", "best_fraction"} <= set(res.similarity.columns)
    assert res.best_layers.empty and {"metric", "area", "best_layer"} <= set(res.best_layers.columns)
    assert not res.measures.empty and (tmp_path / "report" / "report.html").exists()


def test_a_truth_naming_an_unknown_area_or_layer_is_refused():
    areas, layers = _small_case()
    with pytest.raises(nc.InvalidParameterError, match=r"truth names areas or layers that are not given: \{'V9'"):
        nc.brain_vs_network(areas, layers, truth={"V9": "l0"}, progress=False)
    with pytest.raises(nc.InvalidParameterError, match="'V1': 'l7'"):
        nc.brain_vs_network(areas, layers, truth={"V1": "l7"}, progress=False)
