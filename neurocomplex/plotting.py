"""Matplotlib figures of neurocomplex results. Estimators never plot; these functions never show or print.

matplotlib is imported inside each function (the ``plot`` extra), so ``import neurocomplex`` stays
light. Every function draws on ``ax`` when given, else on a new figure, and returns the Axes.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

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
    ax.set_xscale("log")
    ax.set_xlabel("optimizer step")
    ax.set_ylabel(measure.replace("_", " "))
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
def _unit(rows: Any) -> str:
    """The one unit of these rows (their ``unit`` column), or ``""``."""
    if "unit" not in getattr(rows, "columns", ()):
        return ""
    units = [u for u in dict.fromkeys(rows["unit"].astype(str)) if u and u != "nan"]
    return units[0] if len(units) == 1 else ""


def _label(measure: str, rows: Any) -> str:
    """Axis label of a measure, with its unit when the table has a ``unit`` column."""
    unit = _unit(rows)
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


def _intervals(ax: Any, pos: np.ndarray, rows: Any, color: Any) -> None:
    if {"ci_low", "ci_high"} <= set(rows.columns):
        low, high = rows["ci_low"].to_numpy(dtype=float), rows["ci_high"].to_numpy(dtype=float)
        has = np.isfinite(low) & np.isfinite(high)
        if has.any():
            # Drawn from low to high as given: a bootstrap interval need not contain the estimate.
            ax.vlines(pos[has], low[has], high[has], color=color, lw=1.5)


def plot_measures(df: Any, measures: Any = None, axes: Any = None, ncols: int = 3) -> np.ndarray:
    """Several measures at once: one panel per measure, a point per recording × group with its CI.

    Parameters
    ----------
    df : pandas.DataFrame
        A tidy table such as :func:`neurocomplex.measure` returns (columns group, measure, value;
        optional recording, ci_low, ci_high, and unit, which then labels the y axis).
    measures : str or sequence of str, optional
        Which measures, in panel order (default: all, in table order).
    axes : sequence of matplotlib.axes.Axes, optional
        Where to draw, one per measure; by default a new figure with ``ncols`` panels per row.
    ncols : int
        Panels per row of a new figure.

    Returns
    -------
    numpy.ndarray of matplotlib.axes.Axes
        One per measure. In each: the values as points (a PathCollection, first in
        ``ax.collections``) and the confidence intervals as vertical lines (a LineCollection, second)
        where the table has them; each recording has its own colour.

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
    recs = list(dict.fromkeys(df["recording"])) if "recording" in df.columns else [None]
    colors = {r: f"C{i % 10}" for i, r in enumerate(recs)}
    for ax, name in zip(axs, names):
        sub = df[df["measure"] == name]
        several = len(recs) > 1
        labels = [f"{r} · {g}" if several else str(g)
                  for r, g in zip(sub["recording"] if several else sub["group"], sub["group"])]
        pos = np.arange(len(sub), dtype=float)
        point_colors = [colors[r] for r in (sub["recording"] if "recording" in sub.columns else [None] * len(sub))]
        ax.scatter(pos, sub["value"].to_numpy(dtype=float), c=point_colors, s=25, zorder=3)
        _intervals(ax, pos, sub, point_colors)
        ax.set_xticks(pos, labels, rotation=40 if len(pos) > 3 else 0, ha="right" if len(pos) > 3 else "center",
                      fontsize="small")
        ax.set_xlim(-0.6, len(pos) - 0.4)
        ax.set_title(name.replace("_", " "), fontsize="medium")
        ax.set_ylabel(_unit(sub) or name.replace("_", " "))  # the title names the measure
    return axs


# --------------------------------------------------------------------------- profiles over depth
def plot_profile(layers: Any, measure: str | None = None, areas: Any = None, ax: Any = None) -> Any:
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

    Returns
    -------
    matplotlib.axes.Axes
        The layers as a line with markers at x = 0, 1, ... (first line in ``ax.lines``) and their
        CI as a band (a PolyCollection); the areas as points with CIs at the right of a dotted
        separator, each with a dashed horizontal line at its value across the profile so the
        layer closest to it can be read off.

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
    depth = np.arange(len(sub), dtype=float)
    ax.plot(depth, sub["value"].to_numpy(dtype=float), "-o", ms=4, color="C0", label="layers")
    if {"ci_low", "ci_high"} <= set(sub.columns):
        low, high = sub["ci_low"].to_numpy(dtype=float), sub["ci_high"].to_numpy(dtype=float)
        if np.isfinite(low).any():
            ax.fill_between(depth, low, high, color="C0", alpha=0.2, lw=0)
    ticks, labels = list(depth), [str(g) for g in sub["group"]]
    if areas is not None:
        _columns(areas, ("group", "measure", "value"), "areas")
        brain = areas[areas["measure"] == measure]
        if brain.empty:
            raise InvalidParameterError(
                f"no area rows for measure {measure!r}; the area table holds {list(dict.fromkeys(areas['measure']))}."
            )
        pos = len(sub) + 0.5 + np.arange(len(brain), dtype=float)
        ax.axvline(len(sub) - 0.25, color="0.6", ls=":", lw=1)
        for i, (x, v) in enumerate(zip(pos, brain["value"].to_numpy(dtype=float))):
            color = f"C{(i + 1) % 10}"
            ax.axhline(v, color=color, ls="--", lw=0.8, alpha=0.7)
            ax.plot([x], [v], "s", ms=6, color=color)
            _intervals(ax, np.array([x]), brain.iloc[[i]], color)
        ticks += list(pos)
        labels += [str(g) for g in brain["group"]]
    ax.set_xticks(ticks, labels, rotation=40 if len(ticks) > 5 else 0,
                  ha="right" if len(ticks) > 5 else "center", fontsize="small")
    ax.set_xlabel("layer (depth)  |  area" if areas is not None else "layer (depth)")
    ax.set_ylabel(_label(measure, sub))
    return ax


def plot_profiles(layers: Any, areas: Any = None, measures: Any = None, axes: Any = None,
                  ncols: int = 3) -> np.ndarray:
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
        plot_profile(layers, name, areas, ax=ax)
        ax.set_title(name.replace("_", " "), fontsize="medium")
        ax.set_ylabel(_unit(layers[layers["measure"] == name]) or name.replace("_", " "))
    return axs


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
        Write each value in its cell.

    Returns
    -------
    matplotlib.axes.Axes
        One image (areas as rows, layers as columns) with a colour bar, one outlined square
        (Rectangle patch) per area at its best layer, and the truth as star markers (a Line2D).

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

    image = ax.imshow(grid, cmap="viridis" if higher_is_better else "viridis_r", aspect="auto")
    metric = str(table["metric"].iloc[0]) if "metric" in table.columns and len(table) else "value"
    ax.figure.colorbar(image, ax=ax, label=metric.replace("_", " "))
    ax.set_xticks(range(len(layer_names)), layer_names, fontsize="small")
    ax.set_yticks(range(len(area_names)), area_names, fontsize="small")
    ax.set_xlabel("layer")
    ax.set_ylabel("area")
    if annotate and grid.size <= 400:
        middle = np.nanmean(grid) if np.isfinite(grid).any() else 0.0
        for (i, j), v in np.ndenumerate(grid):
            if np.isfinite(v):
                light = (v < middle) == higher_is_better
                ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize="x-small",
                        color="w" if light else "k")

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
