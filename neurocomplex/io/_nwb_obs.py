"""Observation intervals of NWB Units: warn about unobserved time, or keep only observed bins."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np

from neurocomplex.errors import InsufficientDataError, NeurocomplexWarning
from neurocomplex.recording import Recording

__all__: list[str] = []


def _obs_intervals(units: Any, all_ids: np.ndarray, ids: np.ndarray) -> list[np.ndarray] | None:
    """Each kept unit's observation intervals, merged and sorted, shape ``(n, 2)``; None without the column."""
    if "obs_intervals" not in units:
        return None
    flat = np.asarray(units["obs_intervals"][()], dtype=np.float64).reshape(-1, 2)
    if "obs_intervals_index" in units:
        stops = np.asarray(units["obs_intervals_index"][()], dtype=np.int64)
    else:
        stops = np.arange(1, flat.shape[0] + 1, dtype=np.int64)
    per_unit = np.split(flat, stops[:-1]) if stops.size else []
    row = {v: i for i, v in enumerate(all_ids.tolist())}
    out = []
    for uid in ids.tolist():
        iv = per_unit[row[uid]] if row[uid] < len(per_unit) else np.empty((0, 2))
        iv = iv[np.argsort(iv[:, 0], kind="stable")]
        merged: list[list[float]] = []
        for a, b in iv.tolist():
            if merged and a <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], b)
            elif b > a:
                merged.append([a, b])
        out.append(np.array(merged, dtype=np.float64).reshape(-1, 2))
    return out


def _inside(iv: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Whether each span ``[lo, hi)`` lies inside one of the merged intervals ``iv``."""
    pos = np.searchsorted(iv[:, 0], lo, side="right") - 1
    return (pos >= 0) & (hi <= iv[np.maximum(pos, 0), 1]) if iv.size else np.zeros(lo.shape, dtype=bool)


def _unobserved_seconds(iv: np.ndarray, t0: float, t1: float) -> float:
    covered = np.clip(iv[:, 1], t0, t1) - np.clip(iv[:, 0], t0, t1) if iv.size else np.zeros(1)
    return float((t1 - t0) - covered.sum())


def _apply_obs_intervals(rec: Recording, trains: list[np.ndarray], obs: list[np.ndarray],
                         respect: bool | None, path: Path) -> Recording:
    """Warn about (None) or drop (True) the bins some unit was not observed in; see load_nwb."""
    t0, t1 = rec.metadata["t_start"], rec.metadata["t_stop"]
    outside = [int(np.sum(~_inside(iv, t, t))) for iv, t in zip(obs, trains, strict=True)]
    unobserved = np.array([_unobserved_seconds(iv, t0, t1) for iv in obs])
    if respect:
        starts = rec.times
        stops = np.append(starts[1:], t1)
        keep = np.ones(rec.n_samples, dtype=bool)
        for iv in obs:
            keep &= _inside(iv, starts, stops)
        if not keep.any():
            raise InsufficientDataError(
                f"{str(path)!r}: no bin of [{t0:g}, {t1:g}) s lies inside the obs_intervals of every selected unit; "
                "select units observed at the same time (units=...) or use respect_obs_intervals=False."
            )
        meta = dict(rec.metadata, obs_intervals={"respected": True, "bins_dropped": int((~keep).sum()),
                                                 "spikes_outside": int(sum(outside))})
        return rec._take(rows=np.flatnonzero(keep), metadata=meta)
    bad = np.flatnonzero((unobserved > 0) | (np.array(outside) > 0))
    if respect is None and bad.size:
        warnings.warn(
            f"{str(path)!r}: obs_intervals do not cover the window [{t0:g}, {t1:g}) s for {bad.size} of "
            f"{rec.n_units} units (e.g. {rec.unit_ids[bad][:5].tolist()}): {float(unobserved.sum()):.6g} unit-seconds "
            f"are unobserved (at most {float(unobserved.max()):.6g} s for one unit) and counted as silence, and "
            f"{int(sum(outside))} spikes lie outside their unit's obs_intervals and are counted. Pass "
            "respect_obs_intervals=True to keep only the bins every unit was observed in, or False to ignore "
            "obs_intervals.",
            NeurocomplexWarning, stacklevel=3,
        )
    return rec
