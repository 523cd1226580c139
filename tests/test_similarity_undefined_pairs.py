"""similarity_matrix with a pair that has no value: a NaN row that says why, the other layers compete."""

from __future__ import annotations

import numpy as np
import pytest

import neurocomplex as nc


@pytest.fixture(scope="module")
def case():
    rng = np.random.default_rng(0)
    s = rng.normal(size=(100, 5))
    areas = {name: nc.Recording.from_array(rng.poisson(np.exp(0.3 * s @ rng.normal(size=(5, 30)))), kind="spike_counts")
             for name in ("a", "b")}
    layers = {"l0": nc.Recording.from_array(s @ rng.normal(size=(5, 40))),
              "dead": nc.Recording.from_array(np.zeros((100, 500), np.float32)),  # a layer constant over stimuli
              "noise": nc.Recording.from_array(rng.normal(size=(100, 50)))}
    return areas, layers


@pytest.mark.parametrize("metric", ["cka", "rsa"])
def test_an_undefined_pair_is_a_nan_row_and_the_others_compete(case, metric):
    areas, layers = case
    with pytest.warns(nc.NeurocomplexWarning, match=f"{metric}: undefined for 2 of 6"):
        sim = nc.similarity_matrix(areas, layers, metric=metric, n_boot=40)
    dead = sim[sim.layer == "dead"]
    assert dead.value.isna().all() and dead.best_fraction.isna().all() and not dead.is_best.any()
    assert dead.warnings.str.startswith("undefined: ").all()
    alive = sim[sim.layer != "dead"]
    assert np.isfinite(alive.value).all()
    assert np.allclose(alive.groupby("area").best_fraction.sum(), 1.0)
    assert set(sim[sim.is_best].layer) == {"l0"}
    best = nc.best_layers(sim)
    assert best.best_layer.tolist() == ["l0", "l0"] and best.runner_up.tolist() == ["noise", "noise"]
    assert np.isfinite(best[["depth_ci_low", "depth_ci_high"]].to_numpy()).all()


def test_a_metric_undefined_for_every_pair_raises(case):
    areas, layers = case
    with pytest.raises(nc.InsufficientDataError, match="no variance"):
        nc.similarity_matrix(areas, {"dead": layers["dead"]}, metric="cka", n_boot=0)


def test_the_map_hatches_what_has_no_value(case):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    from neurocomplex.plotting import plot_similarity_map

    areas, layers = case
    with pytest.warns(nc.NeurocomplexWarning, match="undefined"):
        sim = nc.similarity_matrix(areas, layers, metric="cka", n_boot=20)
    ax = plot_similarity_map(sim)
    hatched = [p for p in ax.patches if p.get_hatch()]
    assert [p.get_xy() for p in hatched] == [(0.5, -0.5), (0.5, 0.5)]  # column "dead", both areas
    assert sum(t.get_text() == "undefined" for t in ax.texts) == 2
    import matplotlib.pyplot as plt

    plt.close(ax.figure)
