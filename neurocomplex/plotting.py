"""Matplotlib figures of neurocomplex results. Estimators never plot; these functions never show or print.

matplotlib is imported inside each function (the ``plot`` extra), so ``import neurocomplex`` stays
light. Every function draws on ``ax`` when given, else on a new figure, and returns the Axes.

Every figure follows the same rules (:mod:`neurocomplex._figure_rules`): one colour per recording
(pass one ``colors`` mapping, :func:`recording_colors`, to every figure of a report); an interval
is drawn around its point (a biased estimate whose basic interval lies beside it is drawn at its
bias-corrected value, the raw estimate as an open marker); a value above what the samples can
resolve (an entropy above log2 of the number of samples) is drawn open and grey, and a point whose
interval the estimator withheld (its warnings say why) is ringed in dashed grey; similarity maps
use the metric's own range as their colour scale, and print the digits the intervals justify.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from neurocomplex._figure_rules import (
    METRIC_RANGES,
    corrected_points,
    justified,
    recording_colors,
)
from neurocomplex._plot_marks import draw_intervals, draw_marks, unit_of
from neurocomplex.errors import InvalidParameterError, MissingDependencyError
from neurocomplex.estimate import Estimate

__all__ = [
    "plot_power_law",
    "plot_monitor",
    "plot_measure_table",
    "plot_measures",
    "plot_profile",
    "plot_profiles",
    "plot_similarity_map",
    "plot_similarity_profile",
    "recording_colors",
]


def _axes(ax: Any) -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError as err:
        raise MissingDependencyError(
            "plotting needs matplotlib: pip install 'neurocomplex[plot]' (or matplotlib itself)."
        ) from err
    if ax is None:
        _, ax = plt.subplots(figsize=(5.0, 3.5), layout="constrained")
    return ax


def _columns(df: Any, needed: tuple[str, ...], what: str) -> None:
    missing = [c for c in needed if c not in getattr(df, "columns", ())]
    if missing:
        raise InvalidParameterError(f"{what} must be a DataFrame with columns {list(needed)}; missing {missing}.")


def _one_measure(df: Any, measure: str | None, what: str, several: str) -> tuple[str, Any]:
    """The rows of one measure of a tidy table (the only one when ``measure`` is None)."""
    _columns(df, ("group", "measure", "value"), what)
    names = list(dict.fromkeys(df["measure"]))
    if measure is None:
        if len(names) != 1:
            raise InvalidParameterError(
                f"the {what} table holds several measures {names}; pick one with measure=..., "
                f"or draw them all with {several}."
            )
        measure = names[0]
    sub = df[df["measure"] == measure]
    if sub.empty:
        raise InvalidParameterError(f"no rows for measure {measure!r} in {what}; the table holds {names}.")
    return measure, sub


def plot_power_law(estimate_or_xy: Estimate | tuple[Any, Any], ax: Any = None) -> Any:
    """Log–log plot of a curve with its power-law fit over the fitted range.

    Parameters
    ----------
    estimate_or_xy : Estimate or (x, y)
        A result of :func:`neurocomplex.fit_power_law` or :func:`neurocomplex.find_scaling_range`,
        or the data, which are then fitted with default settings.
    ax : matplotlib.axes.Axes, optional
        Where to draw.

    Returns
    -------
    matplotlib.axes.Axes
        With the data (points), the fit A x^−β + c over its range (line) and the range (shaded).
        When the fit's AIC prefers another model (``diagnostics["preferred"]``), no fit line is
        drawn: the range is shaded grey and labelled with the model that won and by how much.

    Raises
    ------
    MissingDependencyError
        matplotlib is not installed.
    InvalidParameterError
        An Estimate that does not come from a power-law fit.

    Examples
    --------
    >>> import numpy as np, matplotlib
    >>> matplotlib.use("Agg")
    >>> import neurocomplex as nc
    >>> from neurocomplex.plotting import plot_power_law
    >>> x = np.logspace(0, 3, 20)
    >>> ax = plot_power_law((x, 2 * x**-0.5))
    >>> len(ax.lines), ax.get_xscale()
    (2, 'log')
    """
    if isinstance(estimate_or_xy, Estimate):
        est = estimate_or_xy
    else:
        from neurocomplex.measures.dynamics import fit_power_law

        x, y = estimate_or_xy
        est = fit_power_law(x, y, n_boot=0)
    d = est.diagnostics
    if not all(k in d for k in ("x", "y", "A", "c", "x_range")):
        raise InvalidParameterError("plot_power_law needs an Estimate from nc.fit_power_law or nc.find_scaling_range.")
    ax = _axes(ax)
    x, y = np.asarray(d["x"]), np.asarray(d["y"])
    ax.plot(x, y, "o", ms=3, color="0.35", label="data")
    lo, hi = d["x_range"]
    preferred = d.get("preferred", "power_law")
    if preferred != "power_law":  # a rejected fit is not drawn as a fit: the data, and why
        ax.axvspan(lo, hi, color="0.5", alpha=0.08,
                   label=f"power law rejected here: {str(preferred).replace('_', ' ')} better by "
                         f"ΔAIC = {d.get('delta_aic', math.nan):.3g}")
    else:
        beta = d.get("longest_beta", est.value) if math.isnan(est.value) else est.value
        grid = np.geomspace(lo, hi, 100)
        ci = "" if est.ci is None else f" [{est.ci[0]:.3g}, {est.ci[1]:.3g}]"
        ax.plot(grid, d["A"] * grid**-beta + d["c"], "-", color="C3", lw=2, label=f"β = {beta:.3g}{ci}")
        ax.axvspan(lo, hi, color="C3", alpha=0.08, label="fitted range")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.legend(frameon=False, fontsize="small")
    return ax


def plot_monitor(table: Any, measure: str, ax: Any = None) -> Any:
    """One measure over training steps, one line per layer (log step axis).

    Parameters
    ----------
    table : pandas.DataFrame
        :attr:`neurocomplex.torch.TrainingMonitor.table` (columns step, layer, measure, value,
        ci_low, ci_high).
    measure : str
        Which measure to draw.
    ax : matplotlib.axes.Axes, optional
        Where to draw.

    Returns
    -------
    matplotlib.axes.Axes
        One line per layer; CIs shaded where present. Step 0 cannot sit on a log axis and is left
        out.

    Raises
    ------
    MissingDependencyError
        matplotlib is not installed.
    InvalidParameterError
        Missing columns, or ``measure`` not in the table (the message lists those that are).

    Examples
    --------
    >>> import pandas as pd, matplotlib
    >>> matplotlib.use("Agg")
    >>> from neurocomplex.plotting import plot_monitor
    >>> t = pd.DataFrame({"step": [1, 10, 1, 10], "layer": ["a", "a", "b", "b"], "measure": ["d"] * 4,
    ...                   "value": [3.0, 2.0, 4.0, 1.0], "ci_low": float("nan"), "ci_high": float("nan")})
    >>> [line.get_label() for line in plot_monitor(t, "d").lines]
    ['a', 'b']
    """
    _columns(table, ("step", "layer", "measure", "value"), "table")
    sub = table[(table["measure"] == measure) & (table["step"] > 0)]
    if sub.empty:
        raise InvalidParameterError(
            f"no rows for measure {measure!r} at steps > 0; measures in the table: {sorted(table['measure'].unique())}."
        )
    ax = _axes(ax)
    for i, (layer, rows) in enumerate(sub.groupby("layer", sort=False)):
        rows = rows.sort_values("step")
        ax.plot(rows["step"], rows["value"], "-o", ms=3, color=f"C{i % 10}", label=str(layer))
        if {"ci_low", "ci_high"} <= set(rows.columns) and np.isfinite(rows["ci_low"]).any():
            ax.fill_between(rows["step"], rows["ci_low"], rows["ci_high"], color=f"C{i % 10}", alpha=0.2)
    from neurocomplex.report import measure_unit

    unit = measure_unit(measure)
    ax.set_xscale("log")
    ax.set_xlabel("optimizer step")
    ax.set_ylabel(measure.replace("_", " ") + (f" ({unit})" if unit else ""))
    ax.legend(title="layer", frameon=False, fontsize="small")
    return ax


def plot_measure_table(df: Any, ax: Any = None, measure: str | None = None) -> Any:
    """Values of one measure per recording and group with their confidence intervals.

    Parameters
    ----------
    df : pandas.DataFrame
        The tidy table of :func:`neurocomplex.measure` (columns recording, group, measure, value,
        ci_low, ci_high).
    ax : matplotlib.axes.Axes, optional
        Where to draw.
    measure : str, optional
        Which measure, when the table holds several.

    Returns
    -------
    matplotlib.axes.Axes
        Bars (one per recording × group) and, where the table has them, the confidence intervals
        as vertical lines (one LineCollection).

    Raises
    ------
    MissingDependencyError
        matplotlib is not installed.
    InvalidParameterError
        Missing columns, an empty selection, or several measures and no ``measure``.

    Examples
    --------
    >>> import pandas as pd, matplotlib
    >>> matplotlib.use("Agg")
    >>> from neurocomplex.plotting import plot_measure_table
    >>> t = pd.DataFrame({"recording": ["r", "r"], "group": ["CA1", "CA3"], "measure": ["d", "d"],
    ...                   "value": [3.0, 2.0], "ci_low": [2.5, 1.5], "ci_high": [3.5, 2.5]})
    >>> ax = plot_measure_table(t)
    >>> len(ax.patches), [tick.get_text() for tick in ax.get_xticklabels()]
    (2, ['CA1', 'CA3'])
    """
    measure, sub = _one_measure(df, measure, "df", "plot_measures (one panel each)")
    ax = _axes(ax)
    several = "recording" in sub.columns and sub["recording"].nunique() > 1
    labels = [f"{r} · {g}" if several else str(g)
              for r, g in zip(sub["recording"] if "recording" in sub.columns else sub["group"], sub["group"])]
    pos = np.arange(len(sub))
    values = sub["value"].to_numpy(dtype=float)
    ax.bar(pos, values, color="C0", alpha=0.75)
    if {"ci_low", "ci_high"} <= set(sub.columns):
        low, high = sub["ci_low"].to_numpy(dtype=float), sub["ci_high"].to_numpy(dtype=float)
        has = np.isfinite(low) & np.isfinite(high)
        if has.any():
            # Drawn from low to high as given: a bootstrap interval need not contain the estimate.
            ax.vlines(pos[has], low[has], high[has], color="k", lw=1.5)
    ax.set_xticks(pos, labels, rotation=30 if len(pos) > 4 else 0, ha="right" if len(pos) > 4 else "center")
    ax.set_ylabel(measure.replace("_", " "))
    return ax


# --------------------------------------------------------------------------- several measures
def _label(measure: str, rows: Any) -> str:
    """Axis label of a measure, with its unit when the table has a ``unit`` column."""
    unit = unit_of(rows)
    return measure.replace("_", " ") + (f" ({unit})" if unit else "")


def _grid_axes(n: int, axes: Any, ncols: int, panel: tuple[float, float]) -> np.ndarray:
    """``n`` Axes: the given ones (checked) or a new grid; unused grid cells are hidden."""
    if axes is not None:
        flat = np.ravel(np.asarray(axes, dtype=object))
        if flat.size < n:
            raise InvalidParameterError(f"axes holds {flat.size} Axes; {n} are needed (one per measure).")
        return flat[:n]
    _axes(None)  # raises MissingDependencyError without matplotlib
    import matplotlib.pyplot as plt

    ncols = max(1, min(int(ncols), n))
    nrows = -(-n // ncols)
    _, grid = plt.subplots(nrows, ncols, figsize=(panel[0] * ncols, panel[1] * nrows),
                             layout="constrained", squeeze=False)
    flat = grid.ravel()
    for extra in flat[n:]:
        extra.set_visible(False)
    return flat[:n]


def _measure_names(df: Any, measures: Any) -> list[str]:
    present = list(dict.fromkeys(df["measure"]))
    if measures is None:
        return present
    wanted = [measures] if isinstance(measures, str) else list(measures)
    missing = [m for m in wanted if m not in present]
    if missing or not wanted:
        raise InvalidParameterError(f"measures {missing or wanted} are not in the table; it holds {present}.")
    return wanted


def _color_keys(df: Any, color_by: str | None) -> tuple[str, list[Any]]:
    """Which column names the colour of each row, and the keys in order of appearance."""
    if color_by is None:
        several = "recording" in df.columns and df["recording"].nunique() > 1
        color_by = "recording" if several else "group"
    if color_by not in df.columns:
        raise InvalidParameterError(f"color_by={color_by!r} is not a column of the table.")
    return color_by, [str(k) for k in dict.fromkeys(df[color_by])]


def plot_measures(df: Any, measures: Any = None, axes: Any = None, ncols: int = 3, *,
                  colors: dict[str, str] | None = None, color_by: str | None = None) -> np.ndarray:
    """Several measures at once: one panel per measure, a point per recording × group with its CI.

    Parameters
    ----------
    df : pandas.DataFrame
        A tidy table such as :func:`neurocomplex.measure` returns (columns group, measure, value;
        optional recording, ci_low, ci_high, bias, n_samples, and unit, which then labels the y
        axis).
    measures : str or sequence of str, optional
        Which measures, in panel order (default: all, in table order).
    axes : sequence of matplotlib.axes.Axes, optional
        Where to draw, one per measure; by default a new figure with ``ncols`` panels per row.
    ncols : int
        Panels per row of a new figure.
    colors : dict, optional
        Colour of each key of ``color_by`` (see :func:`recording_colors`); pass the same mapping
        to every figure so that a recording has one colour everywhere.
    color_by : str, optional
        The column whose value names a point's colour: by default ``recording`` when the table
        holds several recordings, else ``group``.

    Returns
    -------
    numpy.ndarray of matplotlib.axes.Axes
        One per measure. In each: the points (a PathCollection, first in ``ax.collections``) and
        the confidence intervals as vertical lines (a LineCollection, second) where the table has
        them. A point whose basic interval lies beside its estimate is drawn at the bias-corrected
        value ``value - bias`` inside its interval, the raw estimate as an open marker; a value
        at or above what the samples can resolve (an entropy of log2 n_samples bits or more, a
        complexity of n_samples) is drawn hatched grey with a dotted tick at that ceiling; a
        point whose interval its estimator withheld, saying so in the ``warnings`` column (a
        complexity limited by the number of samples: "no interval is given"), is ringed in dashed
        grey.

    Raises
    ------
    MissingDependencyError
        matplotlib is not installed.
    InvalidParameterError
        Missing columns, a measure not in the table, or too few ``axes``.

    Examples
    --------
    >>> import pandas as pd, matplotlib
    >>> matplotlib.use("Agg")
    >>> from neurocomplex.plotting import plot_measures
    >>> t = pd.DataFrame({"group": ["CA1", "CA3"] * 2, "measure": ["d", "d", "h", "h"],
    ...                   "value": [3.0, 2.0, 1.5, 1.0], "ci_low": [2.5, 1.5, 1.2, 0.8],
    ...                   "ci_high": [3.5, 2.5, 1.8, 1.2], "unit": ["", "", "bits", "bits"]})
    >>> axes = plot_measures(t)
    >>> [ax.get_ylabel() for ax in axes]  # the unit, or the measure when the table has none
    ['d', 'bits']
    """
    _columns(df, ("group", "measure", "value"), "df")
    names = _measure_names(df, measures)
    axs = _grid_axes(len(names), axes, ncols, (3.2, 2.8))
    key, keys = _color_keys(df, color_by)
    palette = recording_colors(keys, given=colors)
    several = "recording" in df.columns and df["recording"].nunique() > 1
    for ax, name in zip(axs, names):
        sub = df[df["measure"] == name]
        labels = [f"{r} · {g}" if several else str(g)
                  for r, g in zip(sub["recording"] if several else sub["group"], sub["group"])]
        pos = np.arange(len(sub), dtype=float)
        point_colors = [palette[str(k)] for k in sub[key]]
        point, _, _ = corrected_points(sub)
        ax.scatter(pos, point, c=point_colors, s=25, zorder=3)
        draw_intervals(ax, pos, sub, point_colors)
        draw_marks(ax, pos, sub, name, point_colors)
        ax.set_xticks(pos, labels, rotation=40 if len(pos) > 3 else 0, ha="right" if len(pos) > 3 else "center",
                      fontsize="small")
        ax.set_xlim(-0.6, len(pos) - 0.4)
        _readable_y(ax)
        ax.set_title(name.replace("_", " "), fontsize="medium")
        ax.set_ylabel(unit_of(sub) or name.replace("_", " "))  # the title names the measure
    return axs


def _readable_y(ax: Any) -> None:
    """Plain tick labels (no offset such as "1e-9 + 1e3"); a panel whose values are all equal
    gets a range of ±5% around them instead of matplotlib's ±1e-9 relative one."""
    lo, hi = ax.get_ylim()
    mid = (lo + hi) / 2.0
    if hi - lo < 1e-6 * max(1.0, abs(mid)):
        pad = 0.05 * max(abs(mid), 1.0)
        ax.set_ylim(mid - pad, mid + pad)
    ax.ticklabel_format(axis="y", useOffset=False)


# --------------------------------------------------------------------------- profiles over depth
def plot_profile(layers: Any, measure: str | None = None, areas: Any = None, ax: Any = None, *,
                 colors: dict[str, str] | None = None) -> Any:
    """One measure over the depth of a network, with brain areas beside it for comparison.

    Parameters
    ----------
    layers : pandas.DataFrame
        Tidy table with one row per layer (columns group, measure, value; optional ci_low, ci_high,
        unit), the layers in depth order as they appear in the table (``nc.measure`` on the dict
        of :func:`neurocomplex.torch.record` keeps that order).
    measure : str, optional
        Which measure, when the tables hold several.
    areas : pandas.DataFrame, optional
        The same columns, one row per brain area.
    ax : matplotlib.axes.Axes, optional
        Where to draw.
    colors : dict, optional
        Colour of each layer and area by name (see :func:`recording_colors`): the same mapping in
        every figure gives each population one colour.

    Returns
    -------
    matplotlib.axes.Axes
        The layers as a grey line at x = 0, 1, ... (first line in ``ax.lines``) with one marker per
        layer in its colour, and their CI as a band (a PolyCollection); the areas as points with
        CIs at the right of a dotted separator, each with a dashed horizontal line at its value
        across the profile so the layer closest to it can be read off. Points follow
        :func:`plot_measures`' rules: bias-corrected inside their interval (raw estimate open),
        values at or beyond what the samples resolve hatched grey, withheld intervals ringed.

    Raises
    ------
    MissingDependencyError
        matplotlib is not installed.
    InvalidParameterError
        Missing columns, several measures and no ``measure``, or a measure absent from a table.

    Examples
    --------
    >>> import pandas as pd, matplotlib
    >>> matplotlib.use("Agg")
    >>> from neurocomplex.plotting import plot_profile
    >>> net = pd.DataFrame({"group": ["1", "3", "5"], "measure": "d", "value": [5.0, 3.0, 2.0],
    ...                     "ci_low": [4.5, 2.5, 1.5], "ci_high": [5.5, 3.5, 2.5]})
    >>> brain = pd.DataFrame({"group": ["V1"], "measure": "d", "value": [4.0],
    ...                       "ci_low": [3.0], "ci_high": [4.6]})
    >>> ax = plot_profile(net, areas=brain)
    >>> ax.lines[0].get_ydata().tolist(), [t.get_text() for t in ax.get_xticklabels()]
    ([5.0, 3.0, 2.0], ['1', '3', '5', 'V1'])
    """
    measure, sub = _one_measure(layers, measure, "layers", "plot_profiles")
    ax = _axes(ax)
    names = [str(g) for g in sub["group"]]
    brain = None
    if areas is not None:
        _columns(areas, ("group", "measure", "value"), "areas")
        brain = areas[areas["measure"] == measure]
        if brain.empty:
            raise InvalidParameterError(
                f"no area rows for measure {measure!r}; the area table holds {list(dict.fromkeys(areas['measure']))}."
            )
    palette = recording_colors([*([str(g) for g in brain["group"]] if brain is not None else []), *names],
                               given=colors)
    depth = np.arange(len(sub), dtype=float)
    point, _, _ = corrected_points(sub)
    ax.plot(depth, point, "-", color="0.35", lw=1.5, label="layers")
    for x, v, name in zip(depth, point, names):
        ax.plot([x], [v], "o", ms=5, color=palette[name], linestyle="none")
    if {"ci_low", "ci_high"} <= set(sub.columns):
        low, high = sub["ci_low"].to_numpy(dtype=float), sub["ci_high"].to_numpy(dtype=float)
        if np.isfinite(low).any():
            ax.fill_between(depth, low, high, color="0.35", alpha=0.15, lw=0)
    draw_marks(ax, depth, sub, measure, [palette[n] for n in names])
    ticks, labels = list(depth), names
    if brain is not None:
        pos = len(sub) + 0.5 + np.arange(len(brain), dtype=float)
        ax.axvline(len(sub) - 0.25, color="0.6", ls=":", lw=1)
        brain_point, _, _ = corrected_points(brain)
        for i, (x, v) in enumerate(zip(pos, brain_point)):
            color = palette[str(brain["group"].iloc[i])]
            ax.axhline(v, color=color, ls="--", lw=0.8, alpha=0.7)
            ax.plot([x], [v], "s", ms=6, color=color)
            draw_intervals(ax, np.array([x]), brain.iloc[[i]], color)
        draw_marks(ax, pos, brain, measure, [palette[str(g)] for g in brain["group"]])
        ticks += list(pos)
        labels += [str(g) for g in brain["group"]]
    ax.set_xticks(ticks, labels, rotation=40 if len(ticks) > 5 else 0,
                  ha="right" if len(ticks) > 5 else "center", fontsize="small")
    ax.set_xlabel("layer (depth)  |  area" if areas is not None else "layer (depth)")
    ax.set_ylabel(_label(measure, sub))
    return ax


def plot_profiles(layers: Any, areas: Any = None, measures: Any = None, axes: Any = None,
                  ncols: int = 3, *, colors: dict[str, str] | None = None) -> np.ndarray:
    """:func:`plot_profile` for several measures at once, one panel each.

    Parameters
    ----------
    layers, areas : pandas.DataFrame
        As for :func:`plot_profile`; ``areas`` is optional.
    measures : str or sequence of str, optional
        Which measures, in panel order (default: all those of ``layers``).
    axes : sequence of matplotlib.axes.Axes, optional
        Where to draw, one per measure; by default a new figure with ``ncols`` panels per row.
    ncols : int
        Panels per row of a new figure.
    colors : dict, optional
        As for :func:`plot_profile`.

    Returns
    -------
    numpy.ndarray of matplotlib.axes.Axes
        One per measure.

    Raises
    ------
    MissingDependencyError
        matplotlib is not installed.
    InvalidParameterError
        As for :func:`plot_profile`, or too few ``axes``.

    Examples
    --------
    >>> import pandas as pd, matplotlib
    >>> matplotlib.use("Agg")
    >>> from neurocomplex.plotting import plot_profiles
    >>> net = pd.DataFrame({"group": ["1", "3"] * 2, "measure": ["d", "d", "h", "h"],
    ...                     "value": [5.0, 3.0, 2.0, 1.0]})
    >>> [ax.get_ylabel() for ax in plot_profiles(net)]
    ['d', 'h']
    """
    _columns(layers, ("group", "measure", "value"), "layers")
    names = _measure_names(layers, measures)
    axs = _grid_axes(len(names), axes, ncols, (3.6, 3.0))
    for ax, name in zip(axs, names):
        plot_profile(layers, name, areas, ax=ax, colors=colors)
        ax.set_title(name.replace("_", " "), fontsize="medium")
        ax.set_ylabel(unit_of(layers[layers["measure"] == name]) or name.replace("_", " "))
    return axs


def _metric_limits(metric: str, values: np.ndarray) -> tuple[float | None, float | None]:
    """The metric's range, widened only as far as the values go beyond it (a ceiled predictivity
    can pass 1): close values look close, and nothing drawn is cut off."""
    if metric not in METRIC_RANGES:
        return None, None
    lo, hi = METRIC_RANGES[metric]
    finite = np.asarray(values, dtype=float)[np.isfinite(values)]
    if finite.size:
        lo, hi = min(lo, float(finite.min())), max(hi, float(finite.max()))
    return lo, hi


# --------------------------------------------------------------------------- layer-area map
def plot_similarity_map(table: Any, ax: Any = None, best: Any = None, truth: Any = None,
                        higher_is_better: bool | None = None, annotate: bool = True) -> Any:
    """Heat map of a layer–area similarity table, the best layer of each area outlined.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`neurocomplex.similarity_matrix` output: columns area, layer, value (optional metric),
        one row per area × layer; rows and columns keep the table's order.
    ax : matplotlib.axes.Axes, optional
        Where to draw.
    best : mapping or pandas.DataFrame, optional
        The best layer of each area (area → layer, or a table with columns area and layer); by
        default the extreme value of each row.
    truth : mapping, optional
        A known answer (area → layer), marked with a white star in the lower part of its cell.
    higher_is_better : bool, optional
        Whether the best layer has the largest value; by default True except for a ``metric`` of
        ``"shape_distance"`` (a distance).
    annotate : bool
        Write each value in its cell, with the digits its interval justifies (two significant
        digits of the interval's width; two decimals without an interval) and, where the table
        has them, the interval below it.

    Returns
    -------
    matplotlib.axes.Axes
        One image (areas as rows, layers as columns) with a colour bar, a hatched square (Rectangle
        patch) over each pair without a value, one outlined square per area at its best layer, and
        the truth as star markers (a Line2D).
        The colour scale spans the metric's range (CKA 0 to 1, RSA and predictivity -1 to 1,
        shape distance 0 to π/2), never just the data's, so that close values look close.

    Raises
    ------
    MissingDependencyError
        matplotlib is not installed.
    InvalidParameterError
        Missing columns, a repeated area × layer pair, or a ``best``/``truth`` layer or area that
        is not in the table.

    Examples
    --------
    >>> import pandas as pd, matplotlib
    >>> matplotlib.use("Agg")
    >>> from neurocomplex.plotting import plot_similarity_map
    >>> t = pd.DataFrame({"area": ["V1", "V1", "IT", "IT"], "layer": ["1", "3"] * 2,
    ...                   "value": [0.9, 0.4, 0.3, 0.8]})
    >>> ax = plot_similarity_map(t)
    >>> ax.images[0].get_array().tolist(), [p.get_xy() for p in ax.patches]
    ([[0.9, 0.4], [0.3, 0.8]], [(-0.5, -0.5), (0.5, 0.5)])
    """
    _columns(table, ("area", "layer", "value"), "table")
    if table.duplicated(["area", "layer"]).any():
        raise InvalidParameterError("table repeats an area × layer pair; pass one metric at a time.")
    area_names = [str(a) for a in dict.fromkeys(table["area"])]
    layer_names = [str(x) for x in dict.fromkeys(table["layer"])]
    grid = (table.assign(area=table["area"].astype(str), layer=table["layer"].astype(str))
            .pivot(index="area", columns="layer", values="value")
            .reindex(index=area_names, columns=layer_names).to_numpy(dtype=float))
    if higher_is_better is None:
        metrics = set(table["metric"].astype(str)) if "metric" in table.columns else set()
        higher_is_better = "shape_distance" not in metrics
    if best is None:
        filled = np.where(np.isnan(grid), -np.inf if higher_is_better else np.inf, grid)
        chosen = dict(zip(area_names, np.array(layer_names)[(np.argmax if higher_is_better else np.argmin)(filled, axis=1)]))
    elif hasattr(best, "columns"):
        _columns(best, ("area", "layer"), "best")
        chosen = {str(a): str(x) for a, x in zip(best["area"], best["layer"])}
    else:
        chosen = {str(a): str(x) for a, x in dict(best).items()}
    ax = _axes(ax)
    import matplotlib.patches as mpatches

    metric = str(table["metric"].iloc[0]) if "metric" in table.columns and len(table) else "value"
    vmin, vmax = _metric_limits(metric, grid)
    image = ax.imshow(grid, cmap="viridis" if higher_is_better else "viridis_r", aspect="auto", vmin=vmin, vmax=vmax)
    ax.figure.colorbar(image, ax=ax, label=metric.replace("_", " "))
    cis = {}
    if {"ci_low", "ci_high"} <= set(table.columns):
        cis = {(str(a), str(x)): (lo, hi) for a, x, lo, hi in
               zip(table["area"], table["layer"], table["ci_low"], table["ci_high"], strict=True)}
    ax.set_xticks(range(len(layer_names)), layer_names, fontsize="small")
    ax.set_yticks(range(len(area_names)), area_names, fontsize="small")
    ax.set_xlabel("layer")
    ax.set_ylabel("area")
    if annotate and grid.size <= 400:
        lo_c, hi_c = image.get_clim()
        middle = 0.5 * (lo_c + hi_c)
        for (i, j), v in np.ndenumerate(grid):
            if np.isfinite(v):
                light = (v < middle) == higher_is_better
                low, high = (float(c) for c in cis.get((area_names[i], layer_names[j]), (math.nan, math.nan)))
                text = justified(v, low, high)
                if math.isfinite(low) and math.isfinite(high):
                    text += f"\n[{justified(low, low, high)}, {justified(high, low, high)}]"
                ax.text(j, i, text, ha="center", va="center", fontsize="x-small", color="w" if light else "k")
    undefined = np.argwhere(np.isnan(grid))
    for k, (i, j) in enumerate(undefined):
        # no value for this pair (e.g. a layer constant over the stimuli): hatched, never a colour
        ax.add_patch(mpatches.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, hatch="///", edgecolor="0.6", lw=0,
                                        label="undefined" if k == 0 else None))
        if annotate and grid.size <= 400:
            ax.text(j, i, "undefined", ha="center", va="center", fontsize="x-small", color="0.3")

    def where(mapping: Any, name: str) -> list[tuple[int, int]]:
        cells = []
        for area, layer in mapping.items():
            if area not in area_names or layer not in layer_names:
                raise InvalidParameterError(
                    f"{name} names area {area!r} / layer {layer!r}, not in the table "
                    f"(areas {area_names}, layers {layer_names})."
                )
            cells.append((area_names.index(area), layer_names.index(layer)))
        return cells

    for k, (i, j) in enumerate(where(chosen, "best")):
        ax.add_patch(mpatches.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="C3", lw=2.5,
                                        label="best layer" if k == 0 else None))
    if truth is not None:
        cells = where({str(a): str(x) for a, x in dict(truth).items()}, "truth")
        # in the lower part of the cell, clear of the value written in its centre
        ax.plot([j for _, j in cells], [i + 0.3 for i, _ in cells], "*", color="w", mec="k", mew=0.8, ms=11,
                linestyle="none", label="known answer")
    ax.legend(loc="upper left", bbox_to_anchor=(0.0, -0.12), ncol=2, frameon=False, fontsize="small")
    return ax


def plot_similarity_profile(table: Any, ax: Any = None, best: Any = None, *,
                            colors: dict[str, str] | None = None) -> Any:
    """Similarity over depth: one line per area across the layers, with its interval band.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`neurocomplex.similarity_matrix` output for one metric (columns area, layer, value;
        optional ci_low, ci_high, metric); layers in depth order as they appear.
    ax : matplotlib.axes.Axes, optional
        Where to draw.
    best : mapping, optional
        Area → best layer, marked with a ring on that area's line.
    colors : dict, optional
        Colour of each area (see :func:`recording_colors`).

    Returns
    -------
    matplotlib.axes.Axes
        One line per area (``ax.lines``, in table order) with a band for its intervals; the y axis
        spans the metric's range (CKA 0 to 1, RSA and predictivity -1 to 1, shape distance 0 to π/2).

    Raises
    ------
    MissingDependencyError
        matplotlib is not installed.
    InvalidParameterError
        Missing columns, or a repeated area × layer pair.

    Examples
    --------
    >>> import pandas as pd, matplotlib
    >>> matplotlib.use("Agg")
    >>> from neurocomplex.plotting import plot_similarity_profile
    >>> t = pd.DataFrame({"area": ["V1", "V1", "IT", "IT"], "layer": ["1", "3"] * 2, "metric": "cka",
    ...                   "value": [0.9, 0.4, 0.3, 0.8], "ci_low": [0.8, 0.3, 0.2, 0.7],
    ...                   "ci_high": [0.95, 0.5, 0.4, 0.9]})
    >>> ax = plot_similarity_profile(t)
    >>> [line.get_ydata().tolist() for line in ax.lines[:2]], [float(y) for y in ax.get_ylim()]
    ([[0.9, 0.4], [0.3, 0.8]], [0.0, 1.0])
    """
    _columns(table, ("area", "layer", "value"), "table")
    if table.duplicated(["area", "layer"]).any():
        raise InvalidParameterError("table repeats an area × layer pair; pass one metric at a time.")
    ax = _axes(ax)
    layer_names = [str(x) for x in dict.fromkeys(table["layer"])]
    area_names = [str(a) for a in dict.fromkeys(table["area"])]
    palette = recording_colors(area_names, given=colors)
    depth = {name: k for k, name in enumerate(layer_names)}
    for area in area_names:
        rows = table[table["area"].astype(str) == area]
        x = np.array([depth[str(v)] for v in rows["layer"]], dtype=float)
        ax.plot(x, rows["value"].to_numpy(dtype=float), "-o", ms=4, color=palette[area], label=area)
        if {"ci_low", "ci_high"} <= set(rows.columns) and np.isfinite(rows["ci_low"].to_numpy(dtype=float)).any():
            ax.fill_between(x, rows["ci_low"].to_numpy(dtype=float), rows["ci_high"].to_numpy(dtype=float),
                            color=palette[area], alpha=0.15, lw=0)
    if best is not None:
        for area, layer in dict(best).items():
            rows = table[(table["area"].astype(str) == str(area)) & (table["layer"].astype(str) == str(layer))]
            if len(rows):
                ax.plot([depth[str(layer)]], rows["value"].to_numpy(dtype=float), "o", ms=11, mfc="none",
                        mec=palette.get(str(area), "k"), mew=1.5, linestyle="none")
    metric = str(table["metric"].iloc[0]) if "metric" in table.columns and len(table) else "value"
    cols = [c for c in ("value", "ci_low", "ci_high") if c in table.columns]
    low, high = _metric_limits(metric, table[cols].to_numpy(dtype=float))
    if low is not None:
        ax.set_ylim(low, high)
    ax.set_xticks(range(len(layer_names)), layer_names, rotation=40 if len(layer_names) > 5 else 0,
                  ha="right" if len(layer_names) > 5 else "center", fontsize="small")
    ax.set_xlabel("layer (depth)")
    ax.set_ylabel(metric.replace("_", " "))
    ax.legend(title="area", frameon=False, fontsize="small")
    return ax

