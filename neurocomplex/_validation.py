"""Parameter checks shared by every module (one message style everywhere).

The checks of Recordings handed to estimators live in :mod:`neurocomplex._checks`, above
:mod:`neurocomplex.recording`; this module sits below it and imports nothing but the errors.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from neurocomplex.errors import InvalidParameterError

__all__ = ["check_int", "check_float", "check_choice", "did_you_mean"]


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


def did_you_mean(key: str, choices: Any) -> str:
    """``"did you mean 'x'? "`` for the choice closest to a misspelt ``key``, or ``""``.

    >>> did_you_mean("n_bot", ["n_boot", "seed"])
    "did you mean 'n_boot'? "
    """
    import difflib

    close = difflib.get_close_matches(key, list(choices), n=1)
    return f"did you mean {close[0]!r}? " if close else ""
