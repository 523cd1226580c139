"""Plotting functions return Axes with the expected artists and never show."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import neurocomplex as nc  # noqa: E402
from neurocomplex.plotting import plot_measure_table, plot_monitor, plot_power_law  # noqa: E402


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


def test_plot_measure_table_bars_with_error_bars():
    rng = np.random.default_rng(0)
    rec = nc.Recording.from_array(rng.normal(size=(300, 6)), groups=["A", "A", "A", "B", "B", "B"])
    df = nc.measure(rec, ["participation_ratio"], n_boot=20)
    ax = plot_measure_table(df)
    assert len(ax.patches) == len(df)
    heights = [p.get_height() for p in ax.patches]
    np.testing.assert_allclose(heights, df.value.to_numpy())
    (cis,) = ax.collections  # the intervals, as drawn from the table
    segments = np.array(cis.get_segments())
    np.testing.assert_allclose(segments[:, :, 1], df[["ci_low", "ci_high"]].to_numpy())
    two = pd.concat([df, df.assign(measure="other")])
    with pytest.raises(nc.InvalidParameterError, match="several measures"):
        plot_measure_table(two)
    assert len(plot_measure_table(two, measure="other").patches) == len(df)
