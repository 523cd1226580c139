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

__all__ = ["plot_power_law", "plot_monitor", "plot_measure_table"]


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
    _columns(df, ("group", "measure", "value"), "df")
    names = list(dict.fromkeys(df["measure"]))
    if measure is None:
        if len(names) != 1:
            raise InvalidParameterError(f"the table holds several measures {names}; pick one with measure=...")
        measure = names[0]
    sub = df[df["measure"] == measure]
    if sub.empty:
        raise InvalidParameterError(f"no rows for measure {measure!r}; the table holds {names}.")
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
