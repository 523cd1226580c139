"""One pass over data larger than memory: numpy memmaps, HDF5/NWB datasets and dask arrays.

:func:`accumulate` reads a ``(n_samples, n_units)`` array chunk by chunk and returns the mergeable
statistics (covariance, activity counts, binary word counts);
:func:`neurocomplex.measures.from_stats.summarize_array` turns them into the measures, with the
numbers that the estimators give on the whole array in memory. A dask array
is reduced by dask itself (one task per row block, then a tree of merges), so the same call runs on
a laptop's threads or across a ``dask.distributed`` cluster when a ``Client`` is active.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from neurocomplex._validation import check_choice, check_float, check_int
from neurocomplex.errors import InsufficientDataError, InvalidDataError, InvalidParameterError
from neurocomplex.stats.activity import ActivityAccumulator
from neurocomplex.stats.covariance import DEFAULT_CHUNK_ROWS, CovarianceAccumulator
from neurocomplex.stats.words import WordCounts

__all__ = ["accumulate", "STATISTIC_KINDS", "NEEDS"]

STATISTIC_KINDS = ("covariance", "activity", "words")
NEEDS = {  # statistic each streamed measure is computed from
    "effective_dimension": "covariance", "participation_ratio": "covariance",
          "activation_ratio": "activity", "pattern_entropy": "words"}


def _is_dask(x: Any) -> bool:
    return type(x).__module__.startswith("dask") and hasattr(x, "to_delayed")


def _block_stats(block: np.ndarray, kinds: tuple[str, ...], threshold: float) -> dict[str, Any]:
    block = np.asarray(block)
    if block.dtype.kind == "f" and not np.isfinite(block).all():
        raise InvalidDataError("the array contains NaN or inf; no statistic of it would be meaningful.")
    out: dict[str, Any] = {}
    n_units = block.shape[1]
    if "covariance" in kinds:
        out["covariance"] = CovarianceAccumulator(n_units)
        out["covariance"].update(block)
    if "activity" in kinds:
        out["activity"] = ActivityAccumulator(n_units, threshold)
        out["activity"].update(block)
    if "words" in kinds:
        out["words"] = WordCounts(n_units)
        out["words"].update(block > threshold)
    return out


def _merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    return {k: a[k].merge(b[k]) for k in a}


def _tree_merge(parts: list[Any], merge: Any) -> Any:
    while len(parts) > 1:  # pairwise: depth log2(n_blocks), balanced work per level
        parts = [merge(parts[i], parts[i + 1]) if i + 1 < len(parts) else parts[i] for i in range(0, len(parts), 2)]
    return parts[0]


def accumulate(
    source: Any,
    statistics: Sequence[str] = STATISTIC_KINDS,
    threshold: float = 0.0,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> dict[str, Any]:
    """Accumulate mergeable statistics of a 2-D array in one pass, chunk by chunk.

    Parameters
    ----------
    source : array-like
        Shape ``(n_samples, n_units)``: a numpy array or memmap, an h5py dataset (e.g. an NWB
        TimeSeries' ``data``), a Recording, or a dask array (reduced by dask, with the active
        scheduler or ``dask.distributed`` client).
    statistics : sequence of str
        Any of ``"covariance"``, ``"activity"``, ``"words"`` (binary words ``x > threshold``).
    threshold : float
        Activity threshold for ``"activity"`` and ``"words"``.
    chunk_rows : int
        Rows read at a time (numpy/h5py); a dask array keeps its own row chunks.

    Returns
    -------
    dict
        ``{"covariance": CovarianceAccumulator, "activity": ActivityAccumulator,
        "words": WordCounts}`` (those requested), plus ``"n_samples"``, ``"n_units"``, ``"dtype"``.

    Raises
    ------
    InvalidParameterError
        Unknown statistic, bad threshold or chunk size, a source that is not 2-D.
    InvalidDataError
        NaN or inf values.
    InsufficientDataError
        No rows.

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(size=(1000, 4))
    >>> st = accumulate(x, ["covariance"], chunk_rows=300)
    >>> bool(np.allclose(st["covariance"].covariance(), np.cov(x, rowvar=False)))
    True
    """
    from neurocomplex.recording import Recording

    kinds = tuple(dict.fromkeys([statistics] if isinstance(statistics, str) else statistics))
    if not kinds:
        raise InvalidParameterError(f"statistics is empty; choose from {STATISTIC_KINDS}.")
    for k in kinds:
        check_choice("statistic", k, STATISTIC_KINDS)
    threshold = float(check_float("threshold", threshold))
    chunk_rows = int(check_int("chunk_rows", chunk_rows, 1))
    if isinstance(source, Recording):
        source = source.data
    shape = getattr(source, "shape", None)
    if shape is None:
        source = np.asarray(source)
        shape = source.shape
    if len(shape) != 2:
        raise InvalidParameterError(f"the source must be 2-D (n_samples, n_units), got shape {tuple(shape)}.")
    if shape[0] < 1:
        raise InsufficientDataError("the source has no rows.")
    if _is_dask(source):
        import dask

        blocks = source.rechunk({1: -1}).to_delayed().reshape(-1)  # whole rows in every block
        parts = [dask.delayed(_block_stats)(b, kinds, threshold) for b in blocks]
        merged = _tree_merge(parts, dask.delayed(_merge)).compute()
    else:
        merged = None
        for start in range(0, shape[0], chunk_rows):
            part = _block_stats(source[start : start + chunk_rows], kinds, threshold)
            merged = part if merged is None else _merge(merged, part)
    merged["n_samples"] = int(shape[0])
    merged["n_units"] = int(shape[1])
    merged["dtype"] = np.dtype(source.dtype) if np.dtype(source.dtype).kind == "f" else np.dtype(np.float64)
    return merged
