"""similarity_matrix's predictivity fits a layer's areas one after another and shares the layer's
per-fold decompositions between them: the table equals pair-by-pair calls exactly, each layer is
decomposed once per fold, and an entry serves only the same predictors and folds."""

from __future__ import annotations

import numpy as np
import pytest

import neurocomplex as nc
from neurocomplex.measures import _reliability as rel


def _populations(n=60, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 4))
    areas = {f"a{i}": nc.Recording.from_array(z @ rng.normal(size=(4, w)) + rng.normal(size=(n, w)))
             for i, w in enumerate((5, 8, 3))}
    layers = {"wide": nc.Recording.from_array((z @ rng.normal(size=(4, 90)) + rng.normal(size=(n, 90))).astype(np.float32)),
              "narrow": nc.Recording.from_array(z @ rng.normal(size=(4, 12)) + 0.5 * rng.normal(size=(n, 12)))}
    return areas, layers


@pytest.mark.parametrize("n_boot", [0, 50])
def test_shared_decompositions_give_the_pairwise_table(n_boot, monkeypatch):
    areas, layers = _populations()
    made = []
    real = rel.RidgeBasis.__init__

    def counting(self, x):
        made.append(x.shape)
        real(self, x)

    monkeypatch.setattr(rel.RidgeBasis, "__init__", counting)
    df = nc.similarity_matrix(areas, layers, metric="predictivity", n_boot=n_boot, progress=False)
    assert len(made) == 5 * len(layers)  # once per (layer, fold), not once per (area, layer, fold)
    made.clear()
    for _, row in df.iterrows():
        est = nc.predictivity(layers[row["layer"]], areas[row["area"]], n_boot=n_boot, seed=0)
        assert row["value"] == est.value
        if n_boot:
            assert (row["ci_low"], row["ci_high"]) == est.ci
    assert len(made) == 5 * len(df)  # outside the matrix nothing is shared
    assert list(df["area"]) == [a for a in areas for _ in layers]  # rows stay area by area


def test_an_entry_serves_only_its_own_predictors_and_folds():
    anchor, other = np.zeros(3), np.zeros(3)
    assert rel.predictors_for(anchor, ("k",), 2) is None  # nothing is kept outside the block
    with rel.shared_predictors():
        first = rel.predictors_for(anchor, ("k",), 2)
        assert first == [None, None]
        first[0] = "fold 0"
        assert rel.predictors_for(anchor, ("k",), 2) is first
        assert rel.predictors_for(anchor, ("other folds",), 2) is not first
        assert rel.predictors_for(anchor, ("k",), 2) is not first  # one entry: the last question asked
        assert rel.predictors_for(other, ("k",), 2)[0] is None  # equal contents, another object
    assert rel.predictors_for(anchor, ("k",), 2) is None
