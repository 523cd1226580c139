"""Parameter and data checks shared by the estimators (one message style everywhere)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from neurocomplex.errors import InsufficientDataError, InvalidParameterError

__all__ = ["check_recording", "check_int", "check_float", "check_choice"]


def check_recording(rec: Any, name: str = "rec", *, min_samples: int = 2, min_units: int = 1) -> Any:
    """Raise unless ``rec`` is a Recording with at least ``min_samples`` rows and ``min_units`` columns."""
    from neurocomplex.recording import Recording

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


def check_int(name: str, value: Any, minimum: int | None = None, maximum: int | None = None,
              allow_none: bool = False) -> int | None:
    """An integer within ``[minimum, maximum]``, else InvalidParameterError."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InvalidParameterError(f"{name} must be an integer, got {value!r}.")
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise InvalidParameterError(f"{name}={value} must lie in [{minimum}, {maximum}].")
    return int(value)


def check_float(name: str, value: Any, minimum: float = -math.inf, maximum: float = math.inf, *,
                low_open: bool = False, high_open: bool = False, allow_none: bool = False) -> float | None:
    """A finite float within the given (closed by default) range, else InvalidParameterError."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InvalidParameterError(f"{name} must be a number, got {value!r}.")
    v = float(value)
    bad = (not math.isfinite(v) or v < minimum or v > maximum
           or (low_open and v == minimum) or (high_open and v == maximum))
    if bad:
        lo, hi = "(" if low_open else "[", ")" if high_open else "]"
        raise InvalidParameterError(f"{name}={value!r} must be finite and lie in {lo}{minimum}, {maximum}{hi}.")
    return v


def check_choice(name: str, value: Any, choices: tuple[Any, ...]) -> Any:
    """One of ``choices``, else InvalidParameterError listing them."""
    if value not in choices:
        raise InvalidParameterError(f"{name}={value!r} is not one of {choices}.")
    return value


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


def did_you_mean(key: str, choices: Any) -> str:
    """``"did you mean 'x'? "`` for the choice closest to a misspelt ``key``, or ``""``.

    >>> did_you_mean("n_bot", ["n_boot", "seed"])
    "did you mean 'n_boot'? "
    """
    import difflib

    close = difflib.get_close_matches(key, list(choices), n=1)
    return f"did you mean {close[0]!r}? " if close else ""
