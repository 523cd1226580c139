"""pynapple objects in and out: ``nc.load(TsGroup | Tsd | TsdFrame)`` and ``rec.to_pynapple()``.

A ``TsGroup`` (spike trains) is binned into spike counts exactly as
:meth:`~neurocomplex.Recording.from_spike_times` bins the same spike times; its metadata columns
give the groups and its ``time_support`` the default window. A ``Tsd``/``TsdFrame`` (rates,
calcium traces, activations) keeps its time index. pynapple is an optional dependency (the
``pynapple`` extra): it is imported only by :func:`to_pynapple`; reading takes the objects'
public attributes (``t``, ``values``, ``columns``, ``metadata``, ``time_support``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from neurocomplex.errors import InvalidParameterError, MissingDependencyError, UnsupportedSourceError
from neurocomplex.io._registry import register_loader
from neurocomplex.recording import Recording, interval_table

__all__ = ["load_pynapple", "to_pynapple"]

# Metadata columns tried, in order, for the units' groups.
_GROUP_COLUMNS = ("location", "brain_area", "area", "region", "group", "group_name")
_SERIES = ("Tsd", "TsdFrame")


def _kind_of(source: Any) -> str | None:
    cls = type(source)
    return cls.__name__ if cls.__module__.startswith("pynapple") else None


def _accepts(source: Any) -> bool:
    return _kind_of(source) is not None


def _labels(values: Any) -> np.ndarray:
    out = [v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in np.asarray(values).tolist()]
    return np.asarray(out, dtype=str)


def _groups(meta: Any, group_column: str | None, n: int) -> tuple[np.ndarray | None, str]:
    """Groups from a metadata table (rows = units), and the column they came from."""
    columns = [] if meta is None else list(meta.columns)
    if group_column is not None:
        if group_column not in columns:
            raise InvalidParameterError(f"group_column={group_column!r} is not a metadata column (columns: {columns}).")
        return _labels(meta[group_column]), group_column
    for col in _GROUP_COLUMNS:
        if col in columns and len(meta) == n:
            return _labels(meta[col]), col
    return None, "none"


def _support(obj: Any) -> np.ndarray:
    ts = getattr(obj, "time_support", None)
    if ts is None or len(ts) == 0:
        return np.empty((0, 2))
    return np.column_stack([np.asarray(ts.start, dtype=np.float64), np.asarray(ts.end, dtype=np.float64)])


def _tables(intervals: Mapping[str, Any] | None) -> dict[str, Any]:
    out = {}
    for name, table in dict(intervals or {}).items():
        converted = interval_table(table)
        if converted is None:
            raise InvalidParameterError(f"intervals[{name!r}] is not an IntervalSet or a table with start_time/stop_time "
                                        f"(or start/end) columns, got {type(table).__name__}.")
        out[str(name)] = converted
    return out


def _load_group(source: Any, bin_size: float, t_start: float | None, t_stop: float | None,
                units: Sequence[Any] | None, group_column: str | None, intervals: dict[str, Any]) -> Recording:
    ids = np.asarray(list(source.keys()))
    trains = [np.asarray(source[k].t, dtype=np.float64) for k in ids.tolist()]
    meta = getattr(source, "metadata", None)
    groups, column = _groups(meta, group_column, ids.size)
    if units is not None:
        wanted = list(units)
        missing = [u for u in wanted if u not in set(ids.tolist())]
        if missing or not wanted:
            raise InvalidParameterError(f"units={wanted[:10]!r}: ids {missing[:10]} are not in the TsGroup "
                                        f"(ids: {ids[:20].tolist()}).")
        keep = np.flatnonzero(np.isin(ids, wanted))
        ids, trains = ids[keep], [trains[i] for i in keep]
        groups = None if groups is None else groups[keep]
    support = _support(source)
    lo = float(support[0, 0]) if t_start is None and support.size else t_start
    hi = float(support[-1, 1]) if t_stop is None and support.size else t_stop
    if t_stop is None and hi is not None and any(t.size and t.max() >= hi for t in trains):
        hi = None  # a support is closed: a spike at its end is counted, in the bin that holds it
    rec = Recording.from_spike_times(
        trains, bin_size=bin_size, t_start=lo, t_stop=hi, unit_ids=ids, groups=groups, intervals=intervals,
        metadata={"group_source": f"metadata/{column}" if groups is not None else "none",
                  "time_support": support.tolist()}, source="pynapple:TsGroup",
    )
    if support.shape[0] > 1 and t_start is None and t_stop is None:
        # Epochs with gaps: keep the bins that lie inside the support (the gaps are not recorded).
        starts, stops = rec.times, np.append(rec.times[1:], rec.metadata["t_stop"])
        pos = np.searchsorted(support[:, 0], starts, side="right") - 1
        keep = (pos >= 0) & (stops <= support[np.maximum(pos, 0), 1])
        rec = rec._take(rows=np.flatnonzero(keep), metadata={**rec.metadata, "bins_outside_support": int((~keep).sum())})
    return rec


def _load_series(source: Any, kind: str, t_start: float | None, t_stop: float | None, units: Sequence[Any] | None,
                 group_column: str | None, intervals: dict[str, Any]) -> Recording:
    times = np.asarray(source.t, dtype=np.float64)
    data = np.asarray(source.values)
    data = data[:, None] if data.ndim == 1 else data
    if data.ndim != 2:
        raise UnsupportedSourceError(f"a pynapple {type(source).__name__} of shape {data.shape} is not 1-D or 2-D; "
                                     "reshape it to (time, units) first.")
    columns = np.asarray(getattr(source, "columns", np.arange(data.shape[1])))
    meta = getattr(source, "metadata", None) if _kind_of(source) == "TsdFrame" else None
    groups, column = _groups(meta, group_column, data.shape[1])
    keep = np.ones(times.size, dtype=bool)
    if t_start is not None:
        keep &= times >= t_start
    if t_stop is not None:
        keep &= times < t_stop
    if not keep.any():
        raise InvalidParameterError(f"no sample of the {type(source).__name__} lies in [{t_start}, {t_stop}).")
    rec = Recording.from_array(
        data[keep], kind=kind, times=times[keep], unit_ids=columns, groups=groups, intervals=intervals,
        metadata={"group_source": f"metadata/{column}" if groups is not None else "none",
                  "time_support": _support(source).tolist()}, source=f"pynapple:{type(source).__name__}",
    )
    return rec if units is None else rec.select(units=units)


@register_loader("pynapple", _accepts, "pynapple TsGroup (spike trains -> counts), Tsd/TsdFrame (rates, activations)")
def load_pynapple(
    source: Any,
    bin_size: float = 0.01,
    t_start: float | None = None,
    t_stop: float | None = None,
    kind: str = "rates",
    units: Sequence[Any] | None = None,
    group_column: str | None = None,
    intervals: Mapping[str, Any] | None = None,
) -> Recording:
    """A Recording from a pynapple object.

    Parameters
    ----------
    source : pynapple.TsGroup, Tsd or TsdFrame
        Spike trains (``TsGroup``: one ``Ts`` per unit, keyed by unit id), or a time series of
        one (``Tsd``) or several (``TsdFrame``: columns are units) signals.
    bin_size : float
        Bin width in seconds for a ``TsGroup`` (> 0); not used for a ``Tsd``/``TsdFrame``, whose
        samples keep their own times.
    t_start, t_stop : float, optional
        Window ``[t_start, t_stop)`` in seconds. Default: the object's ``time_support`` (from the
        start of its first epoch to the end of its last; pynapple's supports are closed, so when a
        spike lies at the end, the window ends with the bin that holds it).
    kind : str
        Kind of a ``Tsd``/``TsdFrame`` (``"rates"``, ``"activations"``, ...); a ``TsGroup`` gives
        ``"spike_counts"``.
    units : sequence, optional
        Ids (TsGroup keys, TsdFrame columns) of the units to keep.
    group_column : str, optional
        Metadata column that labels the units' groups. Default: the first of ``location``,
        ``brain_area``, ``area``, ``region``, ``group``, ``group_name`` present, else ``"all"``.
    intervals : mapping of str to IntervalSet or DataFrame, optional
        Interval tables for :meth:`Recording.restrict` and :meth:`Recording.trial_responses`
        (pynapple's ``IntervalSet``, with its metadata columns, or DataFrames).

    Returns
    -------
    Recording
        From a ``TsGroup``: counts equal to :meth:`Recording.from_spike_times` on the same spike
        times and window; ``spike_times`` kept, so trial responses count spikes exactly. From a
        ``Tsd``/``TsdFrame``: the values with their ``times``. ``metadata["time_support"]`` holds
        the support's epochs.

    Raises
    ------
    UnsupportedSourceError
        Another pynapple object (``IntervalSet``, ``TsdTensor``, ``Ts``), or more than 2-D data.
    InvalidParameterError
        Unknown ``units`` or ``group_column``, a window with no sample, a bad ``bin_size``.

    Notes
    -----
    A ``TsGroup`` whose support has several epochs, loaded with the default window, keeps only
    the bins that lie inside an epoch (``metadata["bins_outside_support"]`` counts the others), as
    time outside the support was not recorded; ``times`` then has gaps.

    Examples
    --------
    >>> import numpy as np, pynapple as nap, neurocomplex as nc
    >>> spikes = nap.TsGroup({1: nap.Ts(t=[0.05, 0.3]), 2: nap.Ts(t=[0.2, 0.25])},
    ...                      time_support=nap.IntervalSet(0, 0.4), metadata={"location": ["CA1", "CA3"]})
    >>> rec = nc.load(spikes, bin_size=0.1)
    >>> rec.data.T, rec.groups.tolist()
    (array([[1, 0, 0, 1],
           [0, 0, 2, 0]], dtype=uint8), ['CA1', 'CA3'])
    """
    name = _kind_of(source)
    tables = _tables(intervals)
    if name == "TsGroup":
        return _load_group(source, bin_size, t_start, t_stop, units, group_column, tables)
    if name in _SERIES:
        return _load_series(source, kind, t_start, t_stop, units, group_column, tables)
    hint = ("pass it as intervals={'trials': iset} or to rec.restrict / rec.trial_responses" if name == "IntervalSet"
            else "select a TsGroup, Tsd or TsdFrame")
    raise UnsupportedSourceError(f"nc.load takes a pynapple TsGroup, Tsd or TsdFrame, not a {name}: {hint}.")


def to_pynapple(rec: Recording) -> Any:
    """The Recording as a pynapple ``TsdFrame``: rows at ``rec.times``, columns the unit ids, the
    groups as the ``group`` metadata column, the time support ``[t_start, t_stop)`` of the data.

    Raises
    ------
    MissingDependencyError
        pynapple is not installed (the ``pynapple`` extra).
    InvalidParameterError
        The Recording has no times (trial responses, network activations): use ``to_xarray`` or
        ``to_dataframe``.
    """
    if rec.times is None:
        raise InvalidParameterError(
            f"this Recording (kind={rec.kind!r}) has no times, so it is not a pynapple time series; use "
            "rec.to_xarray() or rec.to_dataframe() instead."
        )
    try:
        import pynapple as nap
    except ImportError as err:
        raise MissingDependencyError("rec.to_pynapple() needs pynapple: `pip install neurocomplex[pynapple]`.") from err
    times = np.asarray(rec.times)
    step = rec.bin_size or 0.0
    start = float(rec.metadata.get("t_start", times[0]))
    stop = float(rec.metadata.get("t_stop", times[-1] + step))
    # One epoch per run of consecutive bins, so gaps left by restrict stay outside the support.
    breaks = np.flatnonzero(np.diff(times) > 1.5 * step) if step else np.empty(0, dtype=int)
    starts = np.concatenate(([min(start, times[0])], times[breaks + 1]))
    ends = np.concatenate((times[breaks] + step, [max(stop, times[-1] + step) if step else times[-1]]))
    support = nap.IntervalSet(start=starts, end=ends)
    columns = rec.unit_ids.tolist()
    return nap.TsdFrame(t=times, d=np.asarray(rec.data), columns=columns, time_support=support,
                        metadata={"group": rec.groups.tolist()})
