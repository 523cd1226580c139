"""Rules every figure follows: one colour per recording, intervals drawn around their point,
values the data cannot support marked (beyond what the samples resolve, or an interval the estimator
withheld), digits the intervals justify, fixed metric scales.

Pure numpy/pandas (matplotlib is not imported here); :mod:`neurocomplex.plotting` applies them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = ["recording_colors", "corrected_points", "resolution_ceiling", "withheld_intervals", "justified",
           "METRIC_RANGES"]

# The range each similarity metric can take: the colour scale of a map spans it, never the data's.
METRIC_RANGES = {"cka": (0.0, 1.0), "rsa": (-1.0, 1.0), "predictivity": (-1.0, 1.0),
                 "shape_distance": (0.0, math.pi / 2)}

# How an estimator's warning says that it withheld the interval.
_WITHHELD = re.compile(r"\bno (confidence )?interval\b")

# tab10 without its grey (C7), so no recording looks like the neutral annotations.
_PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#17becf")


def recording_colors(names: Iterable[Any], *, given: dict[str, str] | None = None) -> dict[str, str]:
    """One colour per recording name, in order of first appearance; ``given`` ones are kept.

    Pass the same mapping to every figure of a report, so that an area or a layer has one colour
    everywhere.

    Examples
    --------
    >>> recording_colors(["V1", "relu1", "V1"])
    {'V1': '#1f77b4', 'relu1': '#ff7f0e'}
    """
    out = dict(given or {})
    for name in names:
        key = str(name)
        if key not in out:
            out[key] = _PALETTE[len(out) % len(_PALETTE)]
    return out


def corrected_points(rows: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Point to draw, whether it is bias-corrected, and the raw value, for each row.

    An interval must contain the point drawn with it. A basic bootstrap interval of an estimate
    biased by undersampling lies beside the raw estimate (it is centred on the bias-corrected
    value): there the point drawn is the bias-corrected estimate ``value - bias`` (``bias``: mean
    of the replicates minus the estimate) when it lies in the interval, and the raw estimate is
    drawn as an open marker. Elsewhere the point is the value itself.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"value": [5.0, 2.0], "ci_low": [6.0, 1.0], "ci_high": [8.0, 3.0], "bias": [-2.0, 0.1]})
    >>> point, corrected, raw = corrected_points(t)
    >>> point.tolist(), corrected.tolist()
    ([7.0, 2.0], [True, False])
    """
    value = rows["value"].to_numpy(dtype=float)
    if not {"ci_low", "ci_high"} <= set(rows.columns):
        return value.copy(), np.zeros(value.size, dtype=bool), value
    low, high = rows["ci_low"].to_numpy(dtype=float), rows["ci_high"].to_numpy(dtype=float)
    outside = np.isfinite(low) & np.isfinite(high) & ((value < low) | (value > high))
    bias = rows["bias"].to_numpy(dtype=float) if "bias" in rows.columns else np.full(value.size, np.nan)
    fixed = value - bias
    usable = outside & np.isfinite(fixed) & (fixed >= low) & (fixed <= high)
    return np.where(usable, fixed, value), usable, value


def resolution_ceiling(measure: str, unit: str, n_samples: Any) -> float:
    """The largest value ``n_samples`` samples can resolve, or inf where there is none.

    An entropy of the population's words in bits cannot be resolved above log2(n_samples) (every
    sample a distinct word); a value above it comes from the estimator's prior (NSB) or its bias
    correction, not from the data. An effective number of regimes cannot exceed n_samples.

    Examples
    --------
    >>> resolution_ceiling("pattern_entropy", "bits", 256)
    8.0
    >>> resolution_ceiling("participation_ratio", "dimensions", 256)
    inf
    """
    try:
        n = float(n_samples)
    except (TypeError, ValueError):
        return math.inf
    if not math.isfinite(n) or n < 1:
        return math.inf
    if measure in ("pattern_entropy", "multi_information") and unit == "bits":
        return math.log2(n)
    if measure in ("pattern_entropy", "multi_information") and unit == "nats":
        return math.log(n)
    if measure == "pattern_complexity":
        return n
    return math.inf


def withheld_intervals(rows: Any) -> np.ndarray:
    """Whether each row's interval was withheld by its estimator, for a reason it stated.

    A row of a table with interval columns whose interval is missing while its ``warnings`` say
    so (every estimator that withholds an interval says "no interval" or "no confidence
    interval" and why: for example a pattern complexity limited by the number of samples, whose
    basic interval would lie beyond it) is drawn without an interval; next to points that carry
    one it would look the most precise. Such points are marked. A missing interval the caller
    asked for (``n_boot=0``) is not.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"value": [266.0, 5.0, 3.0], "ci_low": [float("nan"), 4.0, float("nan")],
    ...                   "ci_high": [float("nan"), 6.0, float("nan")],
    ...                   "warnings": ["C is limited by n_samples ... so no interval is given", "", "few samples"]})
    >>> withheld_intervals(t).tolist()
    [True, False, False]
    """
    n = len(rows)
    if not {"ci_low", "ci_high", "warnings"} <= set(rows.columns):
        return np.zeros(n, dtype=bool)
    low, high = rows["ci_low"].to_numpy(dtype=float), rows["ci_high"].to_numpy(dtype=float)
    warned = np.array([isinstance(w, str) and _WITHHELD.search(w) is not None for w in rows["warnings"]], dtype=bool)
    return ~(np.isfinite(low) & np.isfinite(high)) & warned


def justified(value: float, low: float = math.nan, high: float = math.nan, default: int = 2) -> str:
    """``value`` with the digits its interval justifies: two significant digits of the interval's width.

    Examples
    --------
    >>> justified(0.51234, 0.508, 0.517)
    '0.5123'
    >>> justified(0.51234, 0.3, 0.7)
    '0.51'
    >>> justified(0.51234)
    '0.51'
    """
    if not math.isfinite(value):
        return "nan"
    width = high - low
    if not (math.isfinite(width) and width > 0):
        return f"{value:.{default}f}"
    decimals = max(0, min(6, 1 - math.floor(math.log10(width))))
    return f"{value:.{decimals}f}"
