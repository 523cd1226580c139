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
