"""The NWB reader's parts: small readers of datasets and tables, the Units table (groups, spikes in a
window, the default window), and time series (rows in a window, values in their unit).

They work on what :func:`neurocomplex.io._nwb_open._open` yields (an h5py File, local or over
HTTP, or the h5py-like view of a Zarr store). :mod:`neurocomplex.io.nwb` assembles them into
``load_nwb`` and ``describe``; :mod:`neurocomplex.io.stream` reads windows with them.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from neurocomplex._progress import progress_bar
from neurocomplex.errors import (
    CorruptFileError,
    InvalidDataError,
    InvalidParameterError,
    MissingTableError,
    NeurocomplexWarning,
)
from neurocomplex.io._nwb_open import _is_dataset, _is_group, _is_reference, _is_text, _readable
from neurocomplex.io._nwb_write import _FORMAT_KEY, _MODULE, _SERIES, _UNIT_TABLE

__all__: list[str] = []

# Below this many elements the rest of a search is done in memory (one read).
_SEARCH_BLOCK = 4096
# Elements read by one probe of the interpolation search (2 KiB of float64).
_PROBE = 256


# --------------------------------------------------------------------------- small readers (h5py or Zarr)
def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray) and value.size == 1:
        return _text(value.reshape(-1)[0])
    return str(value)


def _scalar_text(f: Any, name: str) -> str | None:
    return _text(f[name][()]) if name in f else None


def _scalar(value: Any) -> Any:
    """The one value of a scalar dataset (HDF5 scalar, or a Zarr array of one element)."""
    arr = np.asarray(value)
    return arr.reshape(-1)[0] if arr.ndim else arr[()]


def _is_simple(ds: Any) -> bool:
    """A 1-D column of numbers or strings (no references, compound types or matrices)."""
    if not _is_dataset(ds) or ds.ndim != 1:
        return False
    if _text(ds.attrs.get("neurodata_type", "")) in ("VectorIndex", "DynamicTableRegion", "ElementIdentifiers"):
        return False
    if _is_text(ds):
        return True
    return ds.dtype.names is None and ds.dtype.kind in "biuf" and not _is_reference(ds)


def _column(ds: Any) -> np.ndarray:
    if _is_text(ds):
        return np.asarray(ds.asstr()[()], dtype=str)
    return np.asarray(ds[()])


def _find_groups(f: Any, tops: tuple[str, ...], members: tuple[str, ...], any_of: tuple[str, ...]) -> dict[str, Any]:
    """Groups under ``tops`` holding all of ``members`` and at least one of ``any_of``, by path."""
    found: dict[str, Any] = {}

    def visit(name: str, obj: Any) -> None:
        if _is_group(obj) and all(m in obj for m in members) and any(m in obj for m in any_of):
            found[name] = obj

    for top in tops:
        if top in f:
            f[top].visititems(lambda n, o, top=top: visit(f"{top}/{n}", o))
    return found


def _series_paths(f: Any) -> dict[str, Any]:
    """Every TimeSeries-like group (a ``data`` dataset and ``timestamps`` or ``starting_time``)."""
    return _find_groups(f, ("acquisition", "processing", "stimulus", "analysis"), ("data",),
                        ("timestamps", "starting_time"))


def _table_paths(f: Any) -> dict[str, Any]:
    """Every table with ``start_time`` and ``stop_time`` columns (TimeIntervals and the like)."""
    found = _find_groups(f, ("intervals", "processing", "analysis", "acquisition", "stimulus", "general"),
                         ("start_time", "stop_time"), ("id",))
    return {k: v for k, v in found.items() if "colnames" in v.attrs}


def _read_intervals(f: Any) -> dict[str, Any]:
    """Interval tables as DataFrames indexed by ``id``; ragged and reference columns are left out."""
    import pandas as pd

    out: dict[str, Any] = {}
    for path, grp in _table_paths(f).items():
        name = path.rsplit("/", 1)[-1]
        if name in out:
            name = path
        colnames = [_text(c) for c in np.asarray(grp.attrs["colnames"]).reshape(-1)]
        cols: dict[str, np.ndarray] = {}
        for col in ["start_time", "stop_time", *colnames]:
            if col in cols or col not in grp or f"{col}_index" in grp or not _is_simple(grp[col]):
                continue
            cols[col] = _column(grp[col])
        n_rows = len(cols["start_time"]) if "start_time" in cols else 0
        index = _column(grp["id"]) if "id" in grp and grp["id"].shape == (n_rows,) else np.arange(n_rows)
        out[name] = pd.DataFrame(cols, index=pd.Index(index, name="id"))
    return out


def _file_metadata(f: Any) -> dict[str, Any]:
    return {
        "session_description": _scalar_text(f, "session_description"),
        "identifier": _scalar_text(f, "identifier"),
        "session_start_time": _scalar_text(f, "session_start_time"),
        "nwb_version": _text(f.attrs.get("nwb_version", "")) or None,
    }


# --------------------------------------------------------------------------- units table
def _unit_slices(units: Any) -> tuple[np.ndarray, np.ndarray]:
    """Start and stop offsets of each unit's spikes in ``units/spike_times``."""
    if "spike_times" not in units:
        raise MissingTableError("the Units table has no spike_times column, so there are no spikes to bin.")
    if "spike_times_index" in units:
        stops = np.asarray(units["spike_times_index"][()], dtype=np.int64)
    else:  # one spike per unit is stored without an index
        stops = np.arange(1, units["spike_times"].shape[0] + 1, dtype=np.int64)
    starts = np.concatenate(([0], stops[:-1]))
    return starts, stops


def _region_rows(obj: Any, name: str) -> list[np.ndarray] | None:
    """Rows of a (possibly ragged) DynamicTableRegion column ``name`` of a table, per table row."""
    if name not in obj:
        return None
    rows = np.asarray(obj[name][()], dtype=np.int64)
    if f"{name}_index" in obj:
        stops = np.asarray(obj[f"{name}_index"][()], dtype=np.int64)
        return np.split(rows, stops[:-1])
    return [rows[i : i + 1] for i in range(rows.size)]


def _join(labels: Sequence[str]) -> str:
    """Distinct non-empty labels joined with ``+``; ``""`` when there are none."""
    return "+".join(label for label in dict.fromkeys(labels) if label.strip())


def _electrode_table(f: Any, units: Any) -> Any:
    if "electrodes" not in units or "table" not in units["electrodes"].attrs:
        return None
    return f[units["electrodes"].attrs["table"]]


def _electrode_labels(f: Any, units: Any, column: str) -> np.ndarray | None:
    """A column of the electrodes table mapped onto units through ``units/electrodes``."""
    rows = _region_rows(units, "electrodes")
    table = None if rows is None else _electrode_table(f, units)
    if table is None or column not in table or not _is_simple(table[column]):
        return None
    values = _column(table[column]).astype(str)
    return np.array([_join(values[r].tolist()) for r in rows], dtype=str)


def _referenced(f: Any, ds: Any) -> list[Any] | None:
    """The objects a column of references points at; None when it holds no readable references
    (a Zarr column stored with pickle is never decoded)."""
    if not _readable(ds) or not _is_reference(ds):
        return None
    return [f[r] for r in np.asarray(ds[()], dtype=object).reshape(-1)]


def _group_label(grp: Any, what: str) -> str:
    return _text(grp.attrs.get("location", "")) if what == "location" else str(grp.name).rsplit("/", 1)[-1]


def _electrode_group_labels(f: Any, units: Any, what: str) -> np.ndarray | None:
    """Per unit, the ``location`` (``what="location"``) or the name (``"name"``) of its electrode
    group: from ``units/electrode_group``, else through its electrodes' ``group`` (references) or
    ``group_name`` column."""
    if "electrode_group" in units and (groups := _referenced(f, units["electrode_group"])) is not None:
        return np.array([_group_label(g, what) for g in groups], dtype=str)
    rows = _region_rows(units, "electrodes")
    table = None if rows is None else _electrode_table(f, units)
    if table is None:
        return None
    if "group" in table and (groups := _referenced(f, table["group"])) is not None:
        per_row = np.array([_group_label(g, what) for g in groups], dtype=str)
    elif "group_name" in table and _is_simple(table["group_name"]):
        names = _column(table["group_name"]).astype(str)
        if what == "name":
            per_row = names
        else:  # the group itself, next to the electrodes table (its references are not readable)
            home = str(table.parent.name).rstrip("/")
            per_row = np.array([_group_label(f[f"{home}/{n}"], what) if f"{home}/{n}" in f else "" for n in names],
                               dtype=str)
    else:
        return None
    return np.array([_join(per_row[r].tolist()) for r in rows], dtype=str)


def _unit_groups(f: Any, units: Any, group_column: str | None, path: Path) -> tuple[np.ndarray | None, str]:
    """Group label per unit and where it came from (see load_nwb Notes for the order)."""
    if group_column is not None:
        if group_column in units and _is_simple(units[group_column]) and f"{group_column}_index" not in units:
            return _column(units[group_column]).astype(str), f"units/{group_column}"
        labels = _electrode_labels(f, units, group_column)
        if labels is not None:
            return labels, f"electrodes/{group_column}"
        simple = [k for k in units if _is_simple(units[k]) and f"{k}_index" not in units and k != "id"]
        raise InvalidParameterError(
            f"group_column={group_column!r} is neither a column of the Units table of {str(path)!r} "
            f"(simple columns: {simple}) nor a column of its electrodes table."
        )
    groups, source, filled = None, "none", []
    for col in ("location", "brain_area"):
        if col in units and _is_simple(units[col]) and f"{col}_index" not in units:
            groups, source = _column(units[col]).astype(str), f"units/{col}"
            break
    # Units whose label is empty take the next source that names them.
    for name, get in (("electrodes/location", lambda: _electrode_labels(f, units, "location")),
                      ("electrode_group/location", lambda: _electrode_group_labels(f, units, "location")),
                      ("electrode_group/name", lambda: _electrode_group_labels(f, units, "name"))):
        empty = None if groups is None else np.char.str_len(np.char.strip(groups)) == 0
        if empty is not None and not empty.any():
            break
        labels = get()
        if labels is None:
            continue
        if groups is None:
            groups, source = labels, name
        else:
            fill = empty & (np.char.str_len(np.char.strip(labels)) > 0)
            if fill.any():
                groups = np.where(fill, labels, groups)
                filled.append(f"{name} for {int(fill.sum())}")
    if groups is None:
        return None, "none"
    groups = np.where(np.char.str_len(np.char.strip(groups)) == 0, "unknown", groups)
    return groups, source + (f" (empty labels filled: {', '.join(filled)})" if filled else "")


def _search(ds: Any, lo: int, hi: int, value: float) -> int:
    """First index in ``[lo, hi)`` of sorted ``ds`` whose value is >= ``value``.

    Interpolation search on the dataset: each probe reads ``_PROBE`` elements around the index
    that the values at the ends of the bracket predict (spike times grow about linearly with their
    index), which usually holds the answer; a probe that does not halve the bracket is followed by
    a bisection, so the number of probes stays O(log n). Few small reads matter most over HTTP,
    where each costs a request. The last ``_SEARCH_BLOCK`` elements are searched in memory.
    """
    if hi - lo <= _SEARCH_BLOCK:
        return lo + int(np.searchsorted(np.asarray(ds[lo:hi]), value, side="left"))
    x_a, x_b = float(ds[lo]), float(ds[hi - 1])
    if not x_a < value:
        return lo
    if x_b < value:
        return hi
    a, b = lo, hi - 1  # ds[a] < value <= ds[b]: the answer is in (a, b]
    width = max(1, min(_PROBE, _SEARCH_BLOCK))
    bisect = False
    while b - a - 1 > _SEARCH_BLOCK:
        n = b - a
        guess = (a + b) // 2 if bisect or not x_b > x_a else a + int((value - x_a) / (x_b - x_a) * n)
        g0 = min(max(guess - width // 2, a + 1), b - width)
        block = np.asarray(ds[g0 : g0 + width], dtype=np.float64)
        k = int(np.searchsorted(block, value, side="left"))
        if 0 < k < width:
            return g0 + k
        if k == 0:
            b, x_b = g0, float(block[0])
        else:
            a, x_a = g0 + width - 1, float(block[-1])
        bisect = (b - a) > n // 2
    return a + 1 + int(np.searchsorted(np.asarray(ds[a + 1 : b]), value, side="left"))


def _first_last(ds: Any, starts: np.ndarray, stops: np.ndarray) -> tuple[float, float] | None:
    """Earliest and latest spike over units from first/last elements only (spike times sorted per unit)."""
    nonempty = stops > starts
    if not nonempty.any():
        return None
    idx = np.unique(np.concatenate((starts[nonempty], stops[nonempty] - 1)))
    values = np.asarray(ds[idx], dtype=np.float64)  # one fancy read
    return float(values.min()), float(values.max())


def _default_start(first: float | None, bin_size: float) -> float:
    """Start of the bin, on the grid k * bin_size (exact edges), that holds the earliest spike."""
    from neurocomplex.binning import _grid_start

    return 0.0 if first is None else _grid_start(first, bin_size)


def _recorded_end(f: Any) -> tuple[float | None, str]:
    """The latest time the file records besides the spikes, and what records it: the latest stop of
    any interval table (trials, epochs, ...), of the Units' ``obs_intervals``, or the end of any time
    series (last timestamp, or ``starting_time + n / rate``). Small reads only: one column per
    table, one element per series."""
    best: tuple[float | None, str] = (None, "the last spike")

    def offer(value: Any, what: str) -> None:
        nonlocal best
        v = np.asarray(value, dtype=np.float64).reshape(-1)
        v = v[np.isfinite(v)]
        if v.size and (best[0] is None or float(v.max()) > best[0]):
            best = (float(v.max()), what)

    for path, grp in _table_paths(f).items():
        if _is_simple(grp["stop_time"]):
            offer(grp["stop_time"][()], f"the stop_time of {path}")
    if "units" in f and "obs_intervals" in f["units"] and _is_dataset(f["units"]["obs_intervals"]):
        offer(f["units"]["obs_intervals"][()], "the Units' obs_intervals")
    for path, grp in _series_paths(f).items():
        n = grp["data"].shape[0] if grp["data"].ndim else 0
        if not n:
            continue
        if "timestamps" in grp and _is_dataset(grp["timestamps"]) and grp["timestamps"].shape[0]:
            offer(grp["timestamps"][min(n, grp["timestamps"].shape[0]) - 1], f"the last timestamp of {path}")
        elif "starting_time" in grp:
            rate = float(grp["starting_time"].attrs.get("rate", np.nan))
            if rate > 0:
                offer(float(_scalar(grp["starting_time"][()])) + n / rate, f"the end of {path}")
    return best


def _default_stop(t_start: float, bin_size: float, last_spike: float | None, recorded: float | None) -> float:
    """End of the default window: the end of the bin holding the last spike, or, when the file
    records a later end of session, the first bin edge at or after it (a whole number of bins)."""
    from neurocomplex.binning import _bin_index, _edges, _grid, _n_bins

    grid = _grid(t_start, bin_size)
    last = t_start if last_spike is None else max(last_spike, t_start)
    k = int(_bin_index(np.array([last]), t_start, bin_size, grid)[0]) + 1
    if recorded is not None and recorded > t_start:
        k = max(k, _n_bins(t_start, recorded, bin_size, grid))
    return float(_edges(np.array([k]), t_start, bin_size, grid)[0])


def _default_span(f: Any, first: float | None, last: float | None, bin_size: float, t_start: float | None = None,
                  t_stop: float | None = None) -> tuple[float, float, str]:
    """The window :func:`load_nwb` reads when ``t_start``/``t_stop`` are None, from the first and
    last spike (None without spikes): ``(t_start, t_stop, what sets the stop)``."""
    start = _default_start(first, bin_size) if t_start is None else t_start
    if t_stop is not None:
        return start, t_stop, "t_stop"
    recorded, what = _recorded_end(f)
    stop = _default_stop(start, bin_size, last, recorded)
    return start, stop, what if recorded is not None and (last is None or recorded > last) else "the last spike"


def _read_trains(ds: Any, starts: np.ndarray, stops: np.ndarray, t_start: float | None, t_stop: float | None,
                 progress: bool | None) -> tuple[list[np.ndarray], list[int]]:
    """Each unit's spikes in ``[t_start, t_stop)``: binary search in its slice, then one slice read."""
    trains, unsorted = [], []
    for i, (lo, hi) in enumerate(progress_bar(zip(starts.tolist(), stops.tolist()), len(starts), progress, "reading units", unit="unit")):
        a = lo if t_start is None else _search(ds, lo, hi, t_start)
        b = hi if t_stop is None else _search(ds, a, hi, t_stop)
        t = np.asarray(ds[a:b], dtype=np.float64)
        if t.size > 1 and np.any(np.diff(t) < 0):  # unsorted unit: the search is void, read it whole
            t = np.asarray(ds[lo:hi], dtype=np.float64)
            unsorted.append(i)
        trains.append(t)
    return trains, unsorted


def _load_units(f: Any, path: Path, bin_size: float, t_start: float | None, t_stop: float | None,
                units_sel: Sequence[Any] | None, group_column: str | None, progress: bool | None) -> dict[str, Any]:
    units = f["units"]
    starts, stops = _unit_slices(units)
    ids = _column(units["id"]) if "id" in units else np.arange(starts.size)
    groups, group_source = _unit_groups(f, units, group_column, path)
    if units_sel is not None:
        wanted = np.asarray(list(units_sel))
        missing = np.setdiff1d(wanted, ids)
        if missing.size or wanted.size == 0:
            raise InvalidParameterError(
                f"units={list(units_sel)[:10]!r}: ids {missing[:10].tolist()} are not in the Units table of "
                f"{str(path)!r} (ids: {ids[:20].tolist()}{' ...' if ids.size > 20 else ''})."
            )
        keep = np.flatnonzero(np.isin(ids, wanted))
        starts, stops, ids = starts[keep], stops[keep], ids[keep]
        groups = None if groups is None else groups[keep]
    if ids.size == 0:
        raise InvalidDataError(f"the Units table of {str(path)!r} has no units.")
    ds = units["spike_times"]
    trains, unsorted = _read_trains(ds, starts, stops, t_start, t_stop, progress)
    if t_start is None:  # every spike before t_stop was read, so the earliest one is known
        firsts = [t.min() for t in trains if t.size]
        t_start = _default_start(min(firsts) if firsts else None, bin_size)
        if t_stop is not None and t_stop <= t_start:
            raise InvalidParameterError(
                f"t_stop={t_stop} is at or before the first spike bin of {str(path)!r} (starts at {t_start}); "
                "give a later t_stop or an explicit t_start."
            )
    if unsorted:
        warnings.warn(
            f"{str(path)!r}: spike times of units {ids[unsorted][:10].tolist()} are not sorted (NWB requires "
            "sorted spike times); those units were read whole and filtered in memory.",
            NeurocomplexWarning, stacklevel=3,
        )
        for i in unsorted:  # whole units were read: drop spikes outside the window here
            t = trains[i]
            trains[i] = t[(t >= t_start) & (t < (np.inf if t_stop is None else t_stop))]
    stop_source = "t_stop"
    if t_stop is None:  # every spike from t_start on was read, so the last one is known
        lasts = [t.max() for t in trains if t.size]
        _, t_stop, stop_source = _default_span(f, None, max(lasts) if lasts else None, bin_size, t_start)
    return {
        "trains": trains, "ids": ids, "groups": groups, "group_source": group_source,
        "t_start": t_start, "t_stop": t_stop, "stop_source": stop_source,
    }


# --------------------------------------------------------------------------- time series
def _table_of(f: Any, region: Any) -> Any:
    ref = region.attrs.get("table")
    return None if ref is None else f[ref]


def _series_units(f: Any, grp: Any, n_units: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Unit ids and groups of a series from its ``rois`` or ``electrodes`` region, else 0..n-1."""
    for region_name in ("rois", "electrodes"):
        if region_name not in grp or grp[region_name].ndim != 1 or grp[region_name].shape[0] != n_units:
            continue
        table = _table_of(f, grp[region_name])
        if table is None:
            continue
        rows = np.asarray(grp[region_name][()], dtype=np.int64)
        ids = _column(table["id"])[rows] if "id" in table else rows
        groups = None
        if "location" in table and _is_simple(table["location"]):
            groups = _column(table["location"]).astype(str)[rows]
        elif "imaging_plane" in table and "location" in table["imaging_plane"]:
            groups = np.array([_text(_scalar(table["imaging_plane"]["location"][()]))] * n_units)
        return ids, groups
    return np.arange(n_units), None


def _marker(grp: Any) -> dict[str, Any] | None:
    """The description write_nwb leaves in its series' ``comments``, or None for other series."""
    comments = _scalar_text(grp, "comments") if "comments" in grp else _text(grp.attrs.get("comments", ""))
    if not comments or _FORMAT_KEY not in comments:
        return None
    try:
        meta = json.loads(comments)
    except ValueError:
        return None
    return meta if isinstance(meta, dict) and _FORMAT_KEY in meta else None


def _series_rows(grp: Any, n_time: int, t_start: float | None, t_stop: float | None,
                 step: float | None, where: str) -> tuple[int, int, np.ndarray]:
    """Rows ``[lo, hi)`` inside the window and their times."""
    if "timestamps" in grp:
        ts = np.asarray(grp["timestamps"][()], dtype=np.float64)[:n_time]
        bad = np.flatnonzero(~(np.diff(ts) > 0))
        if bad.size or not np.all(np.isfinite(ts)):
            at = int(bad[0]) + 1 if bad.size else int(np.flatnonzero(~np.isfinite(ts))[0])
            raise InvalidDataError(
                f"{where}: timestamps are not finite and strictly increasing ({bad.size} repeats or "
                f"steps back, first at row {at}: {float(ts[at])!r}), so it is an event list, not a sampled signal; "
                "read it with h5py or pynwb directly."
            )
        lo = 0 if t_start is None else int(np.searchsorted(ts, t_start, side="left"))
        hi = ts.size if t_stop is None else int(np.searchsorted(ts, t_stop, side="left"))
        return lo, hi, ts[lo:hi]
    t0 = float(_scalar(grp["starting_time"][()]))
    rate = float(grp["starting_time"].attrs["rate"])
    if step is None:  # generic series: time of row i is t0 + i / rate
        lo = 0 if t_start is None else _first_row_at(t_start, t0, rate, n_time)
        hi = n_time if t_stop is None else _first_row_at(t_stop, t0, rate, n_time)
        return lo, hi, t0 + np.arange(lo, hi) / rate
    idx = np.arange(n_time)
    times = t0 + idx * step  # written by write_nwb: the exact grid of the Recording
    lo = 0 if t_start is None else int(np.searchsorted(times, t_start, side="left"))
    hi = n_time if t_stop is None else int(np.searchsorted(times, t_stop, side="left"))
    return lo, hi, times[lo:hi]


def _first_row_at(t: float, t0: float, rate: float, n_time: int) -> int:
    """First row whose time ``t0 + i / rate`` (computed as the returned times are) is >= ``t``."""
    i = int(np.clip(np.ceil((t - t0) * rate), 0, n_time))
    while i > 0 and t0 + (i - 1) / rate >= t:  # the float guess can be one row late or early
        i -= 1
    while i < n_time and t0 + i / rate < t:
        i += 1
    return i


def _load_series(f: Any, path: Path, series: str, t_start: float | None, t_stop: float | None) -> dict[str, Any]:
    key = series.strip("/")
    available = _series_paths(f)
    if key not in available:
        raise MissingTableError(
            f"{str(path)!r} has no time series at {series!r}. Series in the file: {sorted(available) or 'none'}."
        )
    grp = available[key]
    ds = grp["data"]
    if ds.ndim not in (1, 2) or ds.dtype.kind not in "biuf":
        raise InvalidDataError(
            f"series {key!r} in {str(path)!r} has data of shape {ds.shape} and dtype {ds.dtype}; only numeric "
            "1-D (n_samples,) or 2-D (n_samples, n_units) series can be loaded (image series are not supported)."
        )
    marker = _marker(grp)
    step = marker.get("bin_size") if marker else None
    lo, hi, times = _series_rows(grp, ds.shape[0], t_start, t_stop, step, f"series {key!r} in {str(path)!r}")
    if hi <= lo:
        raise InvalidParameterError(
            f"no sample of series {key!r} in {str(path)!r} lies in the window [{t_start}, {t_stop}); "
            "choose t_start/t_stop inside the series (see `neurocomplex info FILE`)."
        )
    data = np.asarray(ds[lo:hi])  # only the rows inside the window
    if data.ndim == 1:
        data = data[:, None]
    if marker is None:
        data = _in_units(grp, ds, data, f"series {key!r} in {str(path)!r}")
    out: dict[str, Any] = {"data": data, "times": times, "series": key}
    if marker is not None:
        table = grp.parent[_UNIT_TABLE] if _UNIT_TABLE in grp.parent else None
        if table is None or "unit_id" not in table or "group" not in table:
            raise CorruptFileError(f"{str(path)!r}: series {key!r} lacks its companion table {_UNIT_TABLE!r}.")
        out.update(ids=_column(table["unit_id"]), groups=_column(table["group"]).astype(str),
                   kind=marker["kind"], bin_size=marker.get("bin_size"), marker=marker)
        if marker.get("times") is None:
            out["times"] = None
    else:
        ids, groups = _series_units(f, grp, data.shape[1])
        bin_size = 1.0 / float(grp["starting_time"].attrs["rate"]) if "starting_time" in grp else None
        if bin_size is None and times.size > 1:
            bin_size = float(np.median(np.diff(times)))
        out.update(ids=ids, groups=groups, kind="rates", bin_size=bin_size, marker=None)
    return out


def _in_units(grp: Any, ds: Any, data: np.ndarray, where: str) -> np.ndarray:
    """Values in the series' unit: ``data * (conversion * channel_conversion) + offset``, the
    operations, order and dtypes of pynwb's ``TimeSeries.get_data_in_units``."""
    conversion = ds.attrs.get("conversion", 1.0)
    offset = ds.attrs.get("offset", 0.0)
    scale = conversion
    if "channel_conversion" in grp:
        channel = np.asarray(grp["channel_conversion"][()])
        if channel.ndim != 1 or channel.shape[0] not in (1, data.shape[1]):
            raise CorruptFileError(
                f"{where}: channel_conversion has shape {channel.shape} but the data have {data.shape[1]} channels."
            )
        scale = conversion * channel
    elif conversion == 1.0 and offset == 0.0:
        return data  # raw values are already in the series' unit (integers stay integers)
    return data * scale + offset


def _written_series(f: Any) -> str | None:
    path = f"processing/{_MODULE}/{_SERIES}"
    return path if path in f and _marker(f[path]) is not None else None


def _contents(f: Any) -> str:
    """One line listing what a file holds, for MissingTableError messages."""
    series = sorted(_series_paths(f))
    tables = sorted(_table_paths(f))
    return (f"Series (load with series=...): {series or 'none'}; interval tables: {tables or 'none'}; "
            f"top-level groups: {sorted(f.keys())}")
