"""Plotting functions return Axes with the expected artists and never show."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import neurocomplex as nc  # noqa: E402
from neurocomplex.plotting import (  # noqa: E402
    plot_measure_table,
    plot_measures,
    plot_monitor,
    plot_power_law,
    plot_profile,
    plot_profiles,
    plot_similarity_map,
)


@pytest.fixture(autouse=True)
def _no_show(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("plotting functions must not call plt.show()")

    monkeypatch.setattr(plt, "show", fail)
    yield
    plt.close("all")


def test_plot_power_law_draws_data_fit_and_range():
    x = np.logspace(0, 4, 40)
    y = 3 * x**-0.8
    est = nc.fit_power_law(x, y, x_min=10, x_max=1000, n_boot=20)
    ax = plot_power_law(est)
    data, fit = ax.lines
    np.testing.assert_array_equal(data.get_xdata(), x)
    fx, fy = fit.get_xdata(), fit.get_ydata()
    assert fx[0] == pytest.approx(est.diagnostics["x_range"][0]) and fx[-1] == pytest.approx(est.diagnostics["x_range"][1])
    np.testing.assert_allclose(fy, 3 * fx**-0.8, rtol=1e-8)
    assert len(ax.patches) == 1  # the shaded fitted range
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert "0.8" in ax.get_legend().get_texts()[1].get_text()


def test_plot_power_law_accepts_xy_and_an_existing_axes():
    fig, ax = plt.subplots()
    x = np.logspace(0, 2, 10)
    out = plot_power_law((x, x**-1.0), ax=ax)
    assert out is ax and out.figure is fig
    with pytest.raises(nc.InvalidParameterError):
        plot_power_law(nc.Estimate(value=1.0))


def test_plot_monitor_one_line_per_layer_log_steps():
    table = pd.DataFrame({
        "step": [0, 1, 10, 100] * 2, "layer": ["1"] * 4 + ["3"] * 4, "measure": "effective_dimension",
        "value": [5, 4, 3, 2, 6, 5, 4, 3.0], "ci_low": [4.5, 3.5, 2.5, 1.5, 5.5, 4.5, 3.5, 2.5],
        "ci_high": [5.5, 4.5, 3.5, 2.5, 6.5, 5.5, 4.5, 3.5],
    })
    ax = plot_monitor(table, "effective_dimension")
    assert [line.get_label() for line in ax.lines] == ["1", "3"]
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), [1, 10, 100])  # step 0 left out
    assert len(ax.collections) == 2 and ax.get_xscale() == "log"
    with pytest.raises(nc.InvalidParameterError, match="effective_dimension"):
        plot_monitor(table, "pattern_entropy")


# Units of unequal variance: a dimension below its ceiling, which its bootstrap interval covers
# (equal variances put the estimate at the ceiling, where the interval excludes it, with a warning).
_SCALES = np.array([3.0, 2.0, 1.5, 1.0, 0.7, 0.5])


def test_plot_measure_table_bars_with_error_bars():
    rng = np.random.default_rng(0)
    rec = nc.Recording.from_array(rng.normal(size=(300, 6)) * _SCALES, groups=["A", "A", "A", "B", "B", "B"])
    df = nc.measure(rec, ["participation_ratio"], n_boot=20)
    ax = plot_measure_table(df)
    assert len(ax.patches) == len(df)
    heights = [p.get_height() for p in ax.patches]
    np.testing.assert_allclose(heights, df.value.to_numpy())
    (cis,) = ax.collections  # the intervals, as drawn from the table
    segments = np.array(cis.get_segments())
    np.testing.assert_allclose(segments[:, :, 1], df[["ci_low", "ci_high"]].to_numpy())
    two = pd.concat([df, df.assign(measure="other")])
    with pytest.raises(nc.InvalidParameterError, match="plot_measures"):
        plot_measure_table(two)
    assert len(plot_measure_table(two, measure="other").patches) == len(df)


def _two_measure_table():
    rng = np.random.default_rng(1)
    recs = {"brain": nc.Recording.from_array(rng.normal(size=(200, 6)) * _SCALES, groups=["A"] * 3 + ["B"] * 3),
            "net": nc.Recording.from_array(rng.normal(size=(200, 4)) * _SCALES[:4])}
    return nc.measure(recs, ["participation_ratio", "effective_dimension"], n_boot=10)


def test_plot_measures_one_panel_per_measure_with_intervals():
    df = _two_measure_table().assign(unit="dimensions")
    axes = plot_measures(df, ncols=1)
    assert len(axes) == 2 and axes[0].figure is axes[1].figure
    for ax, name in zip(axes, ["participation_ratio", "effective_dimension"]):
        sub = df[df.measure == name]
        points, cis = ax.collections
        np.testing.assert_allclose(points.get_offsets()[:, 1], sub.value.to_numpy())
        np.testing.assert_allclose(np.array(cis.get_segments())[:, :, 1], sub[["ci_low", "ci_high"]].to_numpy())
        assert ax.get_ylabel() == "dimensions" and ax.get_title() == name.replace("_", " ")
        labels = [t.get_text() for t in ax.get_xticklabels()]
        assert labels == [f"{r} · {g}" for r, g in zip(sub.recording, sub.group)]
    # the two recordings get two colours
    colours = axes[0].collections[0].get_facecolors()
    assert len({tuple(c) for c in colours}) == 2
    # a chosen subset, drawn on given axes; a grid hides what it does not use
    _, given = plt.subplots(1, 2)
    out = plot_measures(df, measures="effective_dimension", axes=given)
    assert len(out) == 1 and out[0] is given[0]
    grid = plot_measures(df.assign(measure=np.where(df.index % 2, "x", df.measure)), ncols=2)
    assert all(ax.get_visible() for ax in grid)
    with pytest.raises(nc.InvalidParameterError, match="not in the table"):
        plot_measures(df, measures=["bogus"])
    with pytest.raises(nc.InvalidParameterError, match="2 are needed"):
        plot_measures(df, axes=[given[0]])


def test_plot_profile_line_band_and_areas_beside():
    df = _two_measure_table()
    layers = pd.DataFrame({"group": ["1", "3", "5"], "measure": "d", "value": [5.0, 3.0, 2.0],
                           "ci_low": [4.0, 2.0, 1.0], "ci_high": [6.0, 4.0, 3.0]})
    areas = pd.DataFrame({"group": ["V1", "IT"], "measure": "d", "value": [4.0, 2.5],
                          "ci_low": [3.5, 2.0], "ci_high": [4.5, 3.0]})
    ax = plot_profile(layers, areas=areas)
    profile = ax.lines[0]
    np.testing.assert_array_equal(profile.get_xdata(), [0, 1, 2])
    np.testing.assert_array_equal(profile.get_ydata(), [5, 3, 2])
    band = ax.collections[0].get_paths()[0].vertices
    assert band[:, 1].min() == 1.0 and band[:, 1].max() == 6.0
    # each area: a dashed reference at its value and a point with its CI, beside the layers
    dashed = [line for line in ax.lines if line.get_linestyle() == "--"]
    assert sorted(line.get_ydata()[0] for line in dashed) == [2.5, 4.0]
    cis = [np.array(c.get_segments())[0] for c in ax.collections[1:]]
    assert [tuple(seg[:, 1]) for seg in cis] == [(3.5, 4.5), (2.0, 3.0)]
    assert all(seg[0, 0] > 2 for seg in cis)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "3", "5", "V1", "IT"]
    with pytest.raises(nc.InvalidParameterError, match="plot_profiles"):
        plot_profile(df)
    with pytest.raises(nc.InvalidParameterError, match="no area rows"):
        plot_profile(layers, areas=areas.assign(measure="other"))
    axes = plot_profiles(df[df.recording == "net"], areas=df[df.recording == "brain"])
    assert [ax.get_title() for ax in axes] == ["participation ratio", "effective dimension"]
    assert all(len(ax.get_xticklabels()) == 1 + 3 for ax in axes)  # one layer ("all"), areas A, B, all


def test_plot_similarity_map_cells_best_and_truth():
    table = pd.DataFrame({"area": ["V1"] * 3 + ["IT"] * 3, "layer": ["1", "3", "5"] * 2,
                          "metric": "cka", "value": [0.9, 0.5, 0.2, 0.1, 0.4, 0.7]})
    ax = plot_similarity_map(table, truth={"V1": "1", "IT": "5"})
    np.testing.assert_array_equal(ax.images[0].get_array(), [[0.9, 0.5, 0.2], [0.1, 0.4, 0.7]])
    assert [p.get_xy() for p in ax.patches] == [(-0.5, -0.5), (1.5, 0.5)]  # best: V1 -> 1, IT -> 5
    star = next(line for line in ax.lines if line.get_marker() == "*")
    assert list(star.get_xdata()) == [0, 2] and list(star.get_ydata()) == [0.3, 1.3]
    assert [t.get_text() for t in ax.texts][:3] == ["0.90", "0.50", "0.20"]
    assert ax.figure.axes[-1].get_ylabel() == "cka"  # the colour bar names the metric
    # a distance: the smallest value is best; an explicit best table wins
    dist = plot_similarity_map(table.assign(metric="shape_distance"))
    assert [p.get_xy() for p in dist.patches] == [(1.5, -0.5), (-0.5, 0.5)]
    chosen = plot_similarity_map(table, best=pd.DataFrame({"area": ["V1", "IT"], "layer": ["3", "3"]}))
    assert [p.get_xy() for p in chosen.patches] == [(0.5, -0.5), (0.5, 0.5)]
    with pytest.raises(nc.InvalidParameterError, match="not in the table"):
        plot_similarity_map(table, truth={"V1": "7"})
    with pytest.raises(nc.InvalidParameterError, match="repeats"):
        plot_similarity_map(pd.concat([table, table]))


# --------------------------------------------------------------------------- the rules every figure follows
def test_an_interval_is_drawn_around_its_point():
    # a biased estimate whose basic interval lies beside it: the bias-corrected point inside, raw open
    t = pd.DataFrame({"group": ["a", "b"], "measure": "d", "value": [5.0, 2.0], "ci_low": [6.0, 1.0],
                      "ci_high": [8.0, 3.0], "bias": [-2.0, 0.1]})
    ax = plot_measures(t)[0]
    points, cis, raw = ax.collections[:3]
    np.testing.assert_allclose(points.get_offsets()[:, 1], [7.0, 2.0])
    segs = np.array(cis.get_segments())[:, :, 1]
    assert all(lo <= y <= hi for (lo, hi), y in zip(segs, points.get_offsets()[:, 1]))
    np.testing.assert_allclose(raw.get_offsets(), [[0.0, 5.0]])
    assert len(raw.get_facecolors()) == 0  # open marker
    prof = plot_profile(t)
    np.testing.assert_allclose(prof.lines[0].get_ydata(), [7.0, 2.0])


def test_values_the_samples_cannot_resolve_are_hatched():
    # 64 samples resolve at most log2(64) = 6 bits of pattern entropy; 9 bits comes from the prior
    t = pd.DataFrame({"group": ["a", "b"], "measure": "pattern_entropy", "value": [9.0, 4.0], "unit": "bits",
                      "n_samples": [64, 64]})
    ax = plot_measures(t)[0]
    hatched = [c for c in ax.collections if c.get_hatch()]
    assert len(hatched) == 1 and hatched[0].get_offsets().tolist() == [[0.0, 9.0]]
    ticks = [c for c in ax.collections if c.get_linestyle() and c.get_linestyle()[0][1] is not None]
    assert any(np.allclose(np.array(c.get_segments())[:, :, 1], 6.0) for c in ticks)


def test_one_colour_per_population_in_every_figure():
    from neurocomplex.plotting import plot_similarity_profile, recording_colors

    t = pd.DataFrame({"recording": ["area", "layer", "layer"], "group": ["V1", "l1", "l2"], "measure": "d",
                      "value": [1.0, 2.0, 3.0]})
    colors = recording_colors(["V1", "l1", "l2"])
    pts = plot_measures(t, colors=colors, color_by="group")[0].collections[0].get_facecolors()
    prof = plot_profile(t[t.recording == "layer"], areas=t[t.recording == "area"], colors=colors)
    area_marker = next(line for line in prof.lines if line.get_marker() == "s")
    sim = pd.DataFrame({"area": ["V1", "V1"], "layer": ["l1", "l2"], "metric": "cka", "value": [0.2, 0.3]})
    line = plot_similarity_profile(sim, colors=colors).lines[0]
    to_rgb = matplotlib.colors.to_rgb
    assert to_rgb(pts[0][:3]) == to_rgb(area_marker.get_color()) == to_rgb(line.get_color()) == to_rgb(colors["V1"])


def test_similarity_map_spans_the_metric_range_with_justified_digits():
    t = pd.DataFrame({"area": ["V1", "V1"], "layer": ["1", "2"], "metric": "rsa", "value": [0.5123, 0.5172],
                      "ci_low": [0.508, 0.3], "ci_high": [0.517, 0.7]})
    ax = plot_similarity_map(t)
    assert ax.images[0].get_clim() == (-1.0, 1.0)  # the metric's range, not 0.5123-0.5172
    assert [x.get_text() for x in ax.texts] == ["0.5123\n[0.5080, 0.5170]", "0.52\n[0.30, 0.70]"]


def test_a_rejected_power_law_is_not_drawn_as_a_fit():
    x = np.arange(1, 60, dtype=float)
    with pytest.warns(nc.NeurocomplexWarning, match="no power law holds over x in"):
        est = nc.fit_power_law(x, 3.0 * np.exp(-x / 8.0) + 1e-3, n_boot=0)
    assert est.diagnostics["preferred"] != "power_law"
    ax = plot_power_law(est)
    assert len(ax.lines) == 1  # the data only
    assert "rejected" in ax.get_legend().get_texts()[-1].get_text()


def test_metric_scales_widen_only_to_show_what_passes_them():
    from neurocomplex.plotting import plot_similarity_profile

    t = pd.DataFrame({"area": ["V1", "V1"], "layer": ["1", "2"], "metric": "predictivity", "value": [0.9, 1.03],
                      "ci_low": [0.8, 0.98], "ci_high": [1.0, 1.08]})  # a ceiled predictivity passes 1
    assert plot_similarity_map(t).images[0].get_clim() == (-1.0, 1.03)
    assert [float(v) for v in plot_similarity_profile(t).get_ylim()] == [-1.0, 1.08]


def test_plot_measures_gives_equal_values_a_readable_range_without_offset():
    # Three recordings at the same value up to rounding (a complexity of n_samples, exp of an
    # entropy): matplotlib alone would span 1000 ± 1e-9 and label the ticks "1e-9 + 1e3".
    t = pd.DataFrame({"group": ["a", "b", "c", "a", "b", "c"], "measure": ["pattern_complexity"] * 3 + ["d"] * 3,
                      "value": [1000.0, 1000.0 - 4e-12, 1000.0 + 2e-12, 1.0, 2.0, 3.0], "n_samples": 1000})
    flat, varied = plot_measures(t)
    flat.figure.canvas.draw()
    lo, hi = flat.get_ylim()
    assert (lo + hi) / 2 == pytest.approx(1000.0) and 90.0 < hi - lo < 120.0  # about ±5% around the values
    assert flat.yaxis.get_major_formatter().get_offset() == ""
    assert varied.get_ylim()[1] - varied.get_ylim()[0] < 3.0  # varied panels keep their own range
    plt.close("all")
