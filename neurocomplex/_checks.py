"""Checks of the Recordings handed to estimators (one message style everywhere).

Above :mod:`neurocomplex.recording` (it needs the class); the parameter checks, which the Recording
itself uses, stay below it in :mod:`neurocomplex._validation`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neurocomplex.errors import InsufficientDataError, InvalidParameterError
from neurocomplex.recording import Recording

__all__ = ["check_recording", "check_same_samples"]


def check_recording(rec: Any, name: str = "rec", *, min_samples: int = 2, min_units: int = 1) -> Any:
    """Raise unless ``rec`` is a Recording with at least ``min_samples`` rows and ``min_units`` columns."""
    if not isinstance(rec, Recording):
        raise InvalidParameterError(
            f"{name} must be a neurocomplex Recording, got {type(rec).__name__}; "
            "wrap arrays with nc.Recording.from_array(X) or load files with nc.load(path)."
        )
    if rec.n_samples < min_samples:
        raise InsufficientDataError(f"{name} has {rec.n_samples} samples; at least {min_samples} are needed.")
    if rec.n_units < min_units:
        raise InsufficientDataError(f"{name} has {rec.n_units} units; at least {min_units} are needed.")
    return rec


def check_same_samples(x: Any, y: Any, names: tuple[str, str] = ("x", "y")) -> None:
    """Two Recordings hold the same samples in the same order: count, times and shared label columns."""
    nx, ny = names
    check_recording(x, nx, min_samples=1)
    check_recording(y, ny, min_samples=1)
    if x.n_samples != y.n_samples:
        raise InvalidParameterError(
            f"{nx} has {x.n_samples} samples but {ny} has {y.n_samples}: the two Recordings must hold the same "
            "samples (the same stimuli, trials or time bins) in the same order; select the shared trials of "
            "each first (e.g. rec.trial_responses(trials) with one trial table)."
        )
    if x.times is not None and y.times is not None:
        scale = max(1.0, float(np.max(np.abs(x.times))))
        if not np.allclose(x.times, y.times, rtol=0, atol=1e-9 * scale):
            raise InvalidParameterError(
                f"{nx} and {ny} have different sample times: bin both from the same window (same t_start, "
                "t_stop, bin_size) so that row i is the same bin in both."
            )
    lx, ly = getattr(x, "labels", None), getattr(y, "labels", None)
    if lx is None or ly is None:
        return
    for col in [c for c in lx.columns if c in ly.columns]:
        a, b = lx[col].reset_index(drop=True), ly[col].reset_index(drop=True)
        bad = ~((a == b) | (a.isna() & b.isna()))
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise InvalidParameterError(
                f"the sample labels of {nx} and {ny} do not line up: column {col!r} differs at sample {row} "
                f"({a.iloc[row]!r} vs {b.iloc[row]!r}); put both Recordings' samples in the same order "
                "(the same trials or stimuli) before comparing them."
            )
