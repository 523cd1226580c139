"""Validation of a Recording's optional fields: per-sample labels and per-unit spike times.

Below :mod:`neurocomplex.recording`, which checks these fields at construction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from neurocomplex.errors import InvalidDataError, InvalidParameterError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["check_sample_labels", "check_spike_times"]


def check_sample_labels(labels: Any, n_samples: int, where: str) -> pd.DataFrame | None:
    """A copy of ``labels`` as a DataFrame with one row per sample and a fresh 0..n-1 index."""
    if labels is None:
        return None
    import pandas as pd

    if isinstance(labels, Mapping):
        try:
            labels = pd.DataFrame(dict(labels))
        except ValueError as err:
            raise InvalidParameterError(f"{where}: labels given as a mapping of columns do not form a table: "
                                        f"{err}.") from err
    if not isinstance(labels, pd.DataFrame):
        raise InvalidParameterError(
            f"{where}: labels must be a pandas DataFrame (one row per sample) or None, got "
            f"{type(labels).__name__}."
        )
    if len(labels) != n_samples:
        raise InvalidParameterError(
            f"{where}: labels have {len(labels)} rows but the data have {n_samples} samples; the labels "
            "must line up with the samples (one row per sample, in the same order)."
        )
    return labels.reset_index(drop=True).copy()


def check_spike_times(trains: Any, n_units: int, where: str) -> tuple[np.ndarray, ...] | None:
    """The source spike trains as a tuple of read-only float64 arrays, one per unit, each in time order
    (a train out of order is sorted once here, so that nothing downstream needs to check)."""
    if trains is None:
        return None
    if isinstance(trains, (str, bytes)) or not hasattr(trains, "__len__") or len(trains) != n_units:
        n = len(trains) if hasattr(trains, "__len__") else type(trains).__name__
        raise InvalidParameterError(
            f"{where}: spike_times must hold one array per unit ({n_units} units), got {n}."
        )
    out = []
    for i, t in enumerate(trains):
        try:
            arr = np.asarray(t, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError) as err:
            raise InvalidDataError(f"{where}: spike_times[{i}] is not an array of numbers: {err}") from err
        if arr.size > 1 and bool(np.any(arr[1:] < arr[:-1])):
            arr = np.sort(arr)
        view = arr.view()
        view.flags.writeable = False
        out.append(view)
    return tuple(out)
