"""Checks and helpers shared by the pair estimators (similarity, rsa, predictivity)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from neurocomplex._checks import check_same_samples
from neurocomplex.errors import (
    InsufficientDataError,
    InvalidParameterError,
    NeurocomplexWarning,
)
from neurocomplex.estimate import interval_report
from neurocomplex.recording import Recording

__all__ = ["check_pair", "condition_codes", "finish", "as_float", "draw_counts"]


def _labels(rec: Recording) -> Any:
    return getattr(rec, "labels", None)


def check_pair(x: Any, y: Any, min_samples: int = 2) -> None:
    """Both Recordings, the same samples in the same order (count, times, shared label columns)."""
    check_same_samples(x, y)
    if x.n_samples < min_samples:
        raise InsufficientDataError(f"x and y have {x.n_samples} samples; this measure needs at least {min_samples}.")


def draw_counts(n: int, n_boot: int, seed: int | None) -> np.ndarray:
    """Bootstrap draw counts (n_boot × n, float64): how often each of n samples is drawn when n are
    drawn with replacement (multinomial, from n_boot × n uniform indices: faster than numpy's
    multinomial sampler)."""
    idx = np.random.default_rng(seed).integers(0, n, size=(n_boot, n))
    idx += np.arange(n_boot)[:, None] * n
    return np.bincount(idx.ravel(), minlength=n_boot * n).reshape(n_boot, n).astype(np.float64)


def as_float(rec: Recording) -> np.ndarray:
    d = rec.data
    return d if d.dtype in (np.float32, np.float64) else d.astype(np.float64)


def condition_codes(x: Recording, y: Recording, conditions: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """Integer code per sample (conditions in sorted order) and the condition values, or None."""
    if conditions is None:
        return None
    if isinstance(conditions, str):
        table = _labels(y) if _labels(y) is not None and conditions in _labels(y).columns else _labels(x)
        if table is None or conditions not in table.columns:
            have = sorted(set(getattr(_labels(x), "columns", [])) | set(getattr(_labels(y), "columns", [])))
            raise InvalidParameterError(
                f"conditions={conditions!r} is not a label column of x or y (columns: {have or 'none'}); "
                "pass a column name of rec.labels or an array with one condition per sample."
            )
        values = np.asarray(table[conditions])
    else:
        values = np.asarray(conditions)
        if values.shape != (x.n_samples,):
            raise InvalidParameterError(
                f"conditions must hold one value per sample ({x.n_samples}), got shape {values.shape}."
            )
    try:
        uniq, codes = np.unique(values, return_inverse=True)
    except TypeError as err:
        raise InvalidParameterError(f"condition values cannot be sorted: {err}.") from err
    return codes.reshape(-1), uniq


def finish(value: float, reps: np.ndarray, ci_level: float, low: float, high: float,
            diagnostics: dict[str, Any], notes: list[str], interval: str = "percentile"
            ) -> tuple[Any, dict[str, Any], list[str]]:
    ci, diag, msgs = interval_report(reps, value, ci_level, interval, low, high)
    diagnostics.update(diag)
    notes = notes + msgs
    for msg in notes:
        warnings.warn(msg, NeurocomplexWarning, stacklevel=3)
    return ci, diagnostics, notes

