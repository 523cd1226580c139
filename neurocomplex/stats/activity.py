"""Mergeable per-unit activity statistics: how often each unit is active, its mean and variance."""

from __future__ import annotations

from typing import Any

import numpy as np

from neurocomplex._validation import check_int
from neurocomplex.errors import InsufficientDataError, InvalidDataError, InvalidParameterError

__all__ = ["ActivityAccumulator"]


class ActivityAccumulator:
    """Per-unit count of active samples (``x > threshold``), mean and centred sum of squares.

    Parameters
    ----------
    n_units : int
    threshold : float
        A unit is active in a sample when its value exceeds ``threshold``.

    Examples
    --------
    >>> acc = ActivityAccumulator(2)
    >>> acc.update(np.array([[0.0, 1.0], [2.0, 3.0]])); acc.update(np.array([[0.0, 0.5]]))
    >>> acc.active.tolist(), acc.activation_ratio()
    ([1, 3], 0.6666666666666666)
    """

    def __init__(self, n_units: int, threshold: float = 0.0) -> None:
        self.n_units = check_int("n_units", n_units, 1)
        self.threshold = float(threshold)
        self.n_samples = 0
        self.active = np.zeros(self.n_units, dtype=np.int64)
        self.mean = np.zeros(self.n_units)
        self.m2 = np.zeros(self.n_units)  # sum of squared deviations from the mean

    def _combine(self, n_b: int, active_b: np.ndarray, mean_b: np.ndarray, m2_b: np.ndarray) -> None:
        if n_b == 0:
            return
        n_a = self.n_samples
        n = n_a + n_b
        delta = mean_b - self.mean
        self.m2 = self.m2 + m2_b + delta**2 * (n_a * n_b / n)
        self.mean = self.mean + delta * (n_b / n)
        self.active = self.active + active_b
        self.n_samples = n

    def update(self, chunk: np.ndarray) -> None:
        """Add the rows of a ``(n_rows, n_units)`` chunk."""
        x = np.asarray(chunk)
        if x.ndim != 2 or x.shape[1] != self.n_units:
            raise InvalidDataError(f"chunk has shape {x.shape}, expected (n, {self.n_units}).")
        if x.shape[0] == 0:
            return
        mean_b = x.mean(axis=0, dtype=np.float64)
        m2_b = ((x - mean_b) ** 2).sum(axis=0, dtype=np.float64)
        self._combine(x.shape[0], (x > self.threshold).sum(axis=0), mean_b, m2_b)

    def merge(self, other: ActivityAccumulator) -> ActivityAccumulator:
        """A new accumulator holding both sets of rows."""
        if other.n_units != self.n_units or other.threshold != self.threshold:
            raise InvalidParameterError("cannot merge activity statistics of different units or thresholds.")
        out = ActivityAccumulator(self.n_units, self.threshold)
        out.n_samples, out.active, out.mean, out.m2 = self.n_samples, self.active.copy(), self.mean.copy(), self.m2.copy()
        out._combine(other.n_samples, other.active, other.mean, other.m2)
        return out

    def _need_samples(self) -> None:
        if self.n_samples == 0:
            raise InsufficientDataError("no samples were accumulated.")

    def activation_ratio(self) -> float:
        """Fraction of unit-samples that are active (the mean of B)."""
        self._need_samples()
        return float(self.active.sum() / (self.n_samples * self.n_units))

    def variance(self, ddof: int = 0) -> np.ndarray:
        """Per-unit variance over samples."""
        if self.n_samples <= ddof:
            raise InsufficientDataError(f"a variance needs more than {ddof} samples; got {self.n_samples}.")
        return self.m2 / (self.n_samples - ddof)

    def to_dict(self) -> dict[str, Any]:
        return {"n_units": self.n_units, "threshold": self.threshold, "n_samples": self.n_samples,
                "active": self.active, "mean": self.mean, "m2": self.m2}

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> ActivityAccumulator:
        """Rebuild an accumulator from :meth:`to_dict` output (or a torch/dask partial result)."""
        out = cls(int(state["n_units"]), float(state["threshold"]))
        out.n_samples = int(state["n_samples"])
        out.active = np.asarray(state["active"], dtype=np.int64).copy()
        out.mean = np.asarray(state["mean"], dtype=np.float64).copy()
        out.m2 = np.asarray(state["m2"], dtype=np.float64).copy()
        return out
