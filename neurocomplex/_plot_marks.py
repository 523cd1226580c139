"""The marks of the figure rules (:mod:`neurocomplex._figure_rules`) drawn on a given Axes:
intervals around their points, raw estimates beside bias-corrected points, values beyond what
the samples resolve, and points whose interval the estimator withheld.

matplotlib is not imported here: the functions only call methods of the Axes they are given.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neurocomplex._figure_rules import corrected_points, resolution_ceiling, withheld_intervals

__all__ = ["unit_of", "draw_intervals", "draw_marks"]


def unit_of(rows: Any) -> str:
    """The one unit of these rows (their ``unit`` column), or ``""``."""
    if "unit" not in getattr(rows, "columns", ()):
        return ""
    units = [u for u in dict.fromkeys(rows["unit"].astype(str)) if u and u != "nan"]
    return units[0] if len(units) == 1 else ""


def draw_intervals(ax: Any, pos: np.ndarray, rows: Any, color: Any) -> None:
    """Each row's interval as a vertical line at ``pos`` in its colour (rows without one: none)."""
    if {"ci_low", "ci_high"} <= set(rows.columns):
        low, high = rows["ci_low"].to_numpy(dtype=float), rows["ci_high"].to_numpy(dtype=float)
        has = np.isfinite(low) & np.isfinite(high)
        if has.any():
            ax.vlines(pos[has], low[has], high[has], color=np.asarray(color, dtype=object)[has]
                      if not isinstance(color, str) else color, lw=1.5)


def draw_marks(ax: Any, pos: np.ndarray, rows: Any, measure: str, colors: Any) -> list[str]:
    """Open markers at raw estimates whose point was bias-corrected; hatched grey markers and a
    dotted tick at the ceiling for values the samples cannot resolve; a dashed grey ring around a
    point whose interval its estimator withheld (with a warning). Returns what was marked."""
    point, corrected, raw = corrected_points(rows)
    marked = []
    cols = np.asarray(colors, dtype=object) if not isinstance(colors, str) else np.full(len(rows), colors, dtype=object)
    if corrected.any():
        ax.scatter(pos[corrected], raw[corrected], facecolors="none", edgecolors=list(cols[corrected]), s=30,
                   zorder=4, label="raw estimate (biased)")
        marked.append("bias-corrected")
    if "n_samples" in rows.columns:
        unit = unit_of(rows)
        ceiling = np.array([resolution_ceiling(measure, unit, n) for n in rows["n_samples"]])
        # at the ceiling (every sample a distinct word, or its own cluster) the value is a bound only
        over = np.isfinite(ceiling) & (np.maximum(point, raw) >= ceiling * (1.0 - 1e-9))
        if over.any():
            ax.scatter(pos[over], point[over], marker="o", s=45, facecolors="white",
                       edgecolors="0.45", hatch="////", zorder=5, label="at or beyond what the samples resolve")
            ax.hlines(ceiling[over], pos[over] - 0.3, pos[over] + 0.3, colors="0.45", linestyles=":", lw=1.2)
            marked.append("unresolvable")
    else:
        over = np.zeros(len(rows), dtype=bool)
    ringed = withheld_intervals(rows) & ~over & np.isfinite(point)
    if ringed.any():
        ax.scatter(pos[ringed], point[ringed], marker="o", s=110, facecolors="none", edgecolors="0.45",
                   linestyles="--", linewidths=1.2, zorder=4, label="interval withheld (see the warnings)")
        marked.append("interval withheld")
    return marked
