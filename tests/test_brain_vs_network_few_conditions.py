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
