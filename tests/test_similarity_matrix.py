"""Layer-area similarity map: tidy table, direct calls, best layer per area with its bootstrap support."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import neurocomplex as nc
from neurocomplex.comparison import best_layers


def _network_and_areas(n_stimuli: int = 150, seed: int = 0):
    """Three layers of a random ReLU network and two areas reading out layers 1 and 3 with noise."""
    rng = np.random.default_rng(seed)
    stim = rng.normal(size=(n_stimuli, 10))
    h1 = np.maximum(stim @ rng.normal(size=(10, 40)), 0)
    h2 = np.maximum(h1 @ rng.normal(size=(40, 40)) / 6, 0)
    h3 = np.maximum(h2 @ rng.normal(size=(40, 40)) / 6, 0)
    layers = {name: nc.Recording.from_array(h, kind="activations") for name, h in zip(("l1", "l2", "l3"), (h1, h2, h3),
                                                                                         strict=True)}
    areas = {
        "early": nc.Recording.from_array(h1[:, :25] + 0.3 * h1.std() * rng.normal(size=(n_stimuli, 25))),
        "late": nc.Recording.from_array(h3[:, :25] + 0.3 * h3.std() * rng.normal(size=(n_stimuli, 25))),
    }
    return areas, layers


@pytest.mark.parametrize("metric", ["cka", "rsa", "predictivity"])
def test_each_area_finds_the_layer_it_reads_out(metric):
    areas, layers = _network_and_areas()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nc.NeurocomplexWarning)
        df = nc.similarity_matrix(areas, layers, metric=metric, n_boot=50)
    assert list(df.columns[:6]) == ["area", "layer", "metric", "value", "ci_low", "ci_high"]
    assert len(df) == 6 and set(df.metric) == {metric}
    best = best_layers(df).set_index("area")
    assert best.loc["early", "best_layer"] == "l1"
    assert best.loc["late", "best_layer"] == "l3"
    for area in ("early", "late"):
        fractions = df[df.area == area].best_fraction
        assert fractions.sum() == pytest.approx(1.0)
        assert best.loc[area, "best_fraction"] >= 0.5
        assert best.loc[area, "depth_ci_low"] <= df[(df.area == area) & df.is_best].layer_index.iloc[0] \
            <= best.loc[area, "depth_ci_high"]
    assert df.attrs["metric"] == metric and df.attrs["n_boot"] == 50


@pytest.mark.filterwarnings("ignore:the plug-in shape distance is dominated")
def test_rows_equal_direct_calls_and_replicates_share_stimuli():
    areas, layers = _network_and_areas(n_stimuli=80)
    df = nc.similarity_matrix(areas, layers, metric="cka", n_boot=30, seed=3)
    row = df[(df.area == "late") & (df.layer == "l2")].iloc[0]
    direct = nc.cka(areas["late"], layers["l2"], n_boot=30, seed=3, n_blocks=df.attrs["params"]["n_blocks"])
    assert row.value == pytest.approx(direct.value, rel=1e-12)
    assert (row.ci_low, row.ci_high) == pytest.approx(direct.ci)
    assert row.n_units_area == 25 and row.n_units_layer == 40 and row.n_samples == 80
    # shape distance: smaller is closer
    sd = nc.similarity_matrix(areas, layers, metric="shape_distance", n_boot=0)
    for _area, g in sd.groupby("area"):
        assert g[g.is_best].value.iloc[0] == g.value.min()
        assert g.best_fraction.isna().all()
    # predictivity predicts the area from the layer
    pr = nc.similarity_matrix(areas, layers, metric="predictivity", n_boot=0, alpha=1.0)
    p = pr[(pr.area == "early") & (pr.layer == "l1")].value.iloc[0]
    assert p == pytest.approx(nc.predictivity(layers["l1"], areas["early"], n_boot=0, alpha=1.0).value)


def test_a_recording_is_split_by_its_groups():
    areas, layers = _network_and_areas(n_stimuli=60)
    both = np.hstack([areas["early"].data, areas["late"].data])
    rec = nc.Recording.from_array(both, groups=["V1"] * 25 + ["IT"] * 25)
    df = nc.similarity_matrix(rec, layers, metric="rsa", n_boot=0)
    assert list(dict.fromkeys(df.area)) == ["V1", "IT"]


def test_bad_input_raises_named_errors():
    areas, layers = _network_and_areas(n_stimuli=60)
    with pytest.raises(nc.InvalidParameterError, match="metric"):
        nc.similarity_matrix(areas, layers, metric="cca")
    with pytest.raises(nc.InvalidParameterError, match="does not take"):
        nc.similarity_matrix(areas, layers, metric="cka", distance="correlation")
    with pytest.raises(nc.InvalidParameterError, match="not a Recording"):
        nc.similarity_matrix({"a": np.zeros((60, 3))}, layers)
    short = {"a": areas["early"].subsample(n_samples=50)}
    with pytest.raises(nc.InvalidParameterError, match="samples"):
        nc.similarity_matrix(short, layers)
    with pytest.raises(nc.InvalidParameterError, match="similarity_matrix"):
        best_layers(pd.DataFrame({"area": ["a"]}))
    df = nc.similarity_matrix(areas, layers, metric="rsa", n_boot=10)
    for level in (2.0, -1.0, 0.0, 1.0, True):
        with pytest.raises(nc.InvalidParameterError, match="ci_level"):
            best_layers(df, ci_level=level)
    with pytest.raises(nc.InvalidParameterError, match="is_best"):
        best_layers(df[~df.is_best])


@pytest.mark.filterwarnings("ignore:the 95% percentile bootstrap interval")
def test_best_fraction_does_not_depend_on_the_order_of_the_layers():
    areas, layers = _network_and_areas(n_stimuli=40, seed=2)
    forward = nc.similarity_matrix(areas, layers, metric="cka", n_boot=60)
    backward = nc.similarity_matrix(areas, dict(reversed(list(layers.items()))), metric="cka", n_boot=60)
    a = forward.set_index(["area", "layer"]).best_fraction
    b = backward.set_index(["area", "layer"]).best_fraction
    pd.testing.assert_series_equal(a.sort_index(), b.sort_index())
    assert (forward.undefined_replicates == 0).all()
    # values that tie in every replicate (four copies of one layer) share the credit equally
    same = {f"copy{i}": layers["l2"] for i in range(4)}
    for metric in ("cka", "rsa"):
        ties = nc.similarity_matrix(areas, same, metric=metric, n_boot=30)
        np.testing.assert_array_equal(ties.best_fraction, 0.25)
        best = best_layers(ties).set_index("area")
        assert (best.best_fraction == 0.25).all() and (best.undefined_replicates == 0).all()


@pytest.mark.filterwarnings("ignore:the 95% basic bootstrap interval")
@pytest.mark.filterwarnings("ignore:the plug-in CKA is dominated")
def test_undefined_replicates_are_counted_and_reported():
    """A layer that varies in one stimulus only has no variance in the resamples that miss it."""
    areas, layers = _network_and_areas(n_stimuli=60, seed=3)
    spike = np.zeros((60, 5))
    spike[0] = [3.0, -1.0, 2.0, 0.5, 1.0]
    layers = {"l1": layers["l1"], "spike": nc.Recording.from_array(spike)}
    with pytest.warns(nc.NeurocomplexWarning, match="undefined for at least one layer"):
        df = nc.similarity_matrix(areas, layers, metric="cka", n_boot=50, debiased=False)
    spiky = nc.cka(areas["early"], layers["spike"], n_boot=50, n_blocks=df.attrs["params"]["n_blocks"], debiased=False)
    n_nan = int(np.isnan(spiky.diagnostics["replicates"]).sum())
    assert 0 < n_nan < 50
    rows = df[df.area == "early"]
    assert (rows.undefined_replicates == n_nan).all()
    assert rows.best_fraction.sum() == pytest.approx(1.0)  # over the defined replicates
    assert best_layers(df).set_index("area").loc["early", "undefined_replicates"] == n_nan
