"""NWB backend: read NWB 2.x files lazily with h5py, write Recordings with pynwb.

:func:`load_nwb` (used by ``nc.load("file.nwb")``) turns the Units table into spike counts, or a
TimeSeries / RoiResponseSeries into rates, reading from disk only what the window needs.
:func:`write_nwb` (used by :meth:`Recording.to_nwb`) writes a Recording so that it loads back
unchanged, and :func:`describe` (used by ``neurocomplex info``) summarises a file without reading
spikes. Files are always opened read-only and are never modified.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from neurocomplex._progress import progress_bar
from neurocomplex.errors import (
    CorruptFileError,
    InvalidDataError,
    InvalidParameterError,
    MissingFileError,
    MissingTableError,
    NeurocomplexError,
    NeurocomplexWarning,
    UnsupportedSourceError,
)
from neurocomplex.io._nwb_obs import _apply_obs_intervals, _obs_intervals
from neurocomplex.io._nwb_write import _FORMAT_KEY, _MODULE, _SERIES, _SUFFIXES, _UNIT_TABLE, write_nwb
from neurocomplex.io._registry import register_loader
from neurocomplex.recording import Recording

__all__ = ["load_nwb", "write_nwb", "describe"]

# Below this many elements the rest of a binary search is done in memory (one read).
_SEARCH_BLOCK = 4096


# --------------------------------------------------------------------------- dispatch
def _accepts(source: Any) -> bool:
    if not isinstance(source, (str, os.PathLike)):
        return False
    if Path(source).suffix.lower() in _SUFFIXES:
        return True
    # Other paths come here too (so that the error names the suffix) unless another loader wants them.
    from neurocomplex.io._registry import _LOADERS

    return not any(ld.accepts(source) for name, ld in _LOADERS.items() if name != "nwb")


def _check_path(path: Any) -> Path:
    p = Path(path)
    if p.suffix.lower() not in _SUFFIXES:
        raise UnsupportedSourceError(
            f"cannot load {str(p)!r}: files with suffix {p.suffix or '(none)'!r} are not supported. "
            "Supported files: .nwb (NWB 2.x, HDF5). Load other formats yourself and pass a numpy array, "
            "a pandas DataFrame, Neo objects, or spike times to nc.Recording.from_spike_times."
        )
    if not p.exists():
        raise MissingFileError(f"NWB file not found: {str(p)!r} (check the path; relative paths start at {os.getcwd()!r}).")
    return p


@contextmanager
def _open(path: Path) -> Iterator[Any]:
    """Open read-only; any HDF5 failure while reading becomes a CorruptFileError naming the file."""
    import h5py

    if path.is_dir():
        raise CorruptFileError(f"{str(path)!r} is a directory, not an NWB HDF5 file (NWB Zarr stores are not supported).")
    try:
        is_hdf5 = h5py.is_hdf5(path)
    except OSError as err:
        raise CorruptFileError(f"cannot read {str(path)!r}: {err}") from err
    if not is_hdf5:
        raise CorruptFileError(
            f"{str(path)!r} is not an HDF5 file, so it is not an NWB 2.x file (NWB 1 / Zarr / text are not "
            "supported); check that the download or copy finished and that the file is really NWB."
        )
    try:
        f = h5py.File(path, "r")
    except OSError as err:
        raise CorruptFileError(
            f"{str(path)!r} is an HDF5 file that cannot be opened ({err}); it is probably truncated or "
            "damaged: download or copy it again."
        ) from err
    try:
        yield f
    except NeurocomplexError:
        raise
    except (OSError, RuntimeError, KeyError, ValueError) as err:
        raise CorruptFileError(
            f"reading {str(path)!r} failed ({type(err).__name__}: {err}); the file is damaged or does not "
            "follow the NWB schema."
        ) from err
    finally:
        f.close()


# --------------------------------------------------------------------------- small h5py readers
def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray) and value.size == 1:
        return _text(value.reshape(-1)[0])
    return str(value)


def _scalar_text(f: Any, name: str) -> str | None:
    return _text(f[name][()]) if name in f else None


def _is_simple(ds: Any) -> bool:
    """A 1-D column of numbers or strings (no references, compound types or matrices)."""
    import h5py

    if not isinstance(ds, h5py.Dataset) or ds.ndim != 1:
        return False
    if _text(ds.attrs.get("neurodata_type", "")) in ("VectorIndex", "DynamicTableRegion", "ElementIdentifiers"):
        return False
    if h5py.check_string_dtype(ds.dtype) is not None:
        return True
    return ds.dtype.names is None and ds.dtype.kind in "biuf" and h5py.check_ref_dtype(ds.dtype) is None


def _column(ds: Any) -> np.ndarray:
    import h5py

    if h5py.check_string_dtype(ds.dtype) is not None:
        return np.asarray(ds.asstr()[()], dtype=str)
    return np.asarray(ds[()])


def _find_groups(f: Any, tops: tuple[str, ...], members: tuple[str, ...], any_of: tuple[str, ...]) -> dict[str, Any]:
    """Groups under ``tops`` holding all of ``members`` and at least one of ``any_of``, by path."""
    import h5py

    found: dict[str, Any] = {}

    def visit(name: str, obj: Any) -> None:
        if isinstance(obj, h5py.Group) and all(m in obj for m in members) and any(m in obj for m in any_of):
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
    unique = list(dict.fromkeys(labels))
    return "+".join(unique) if unique else "unknown"


def _electrode_labels(f: Any, units: Any, column: str) -> np.ndarray | None:
    """A column of the electrodes table mapped onto units through ``units/electrodes``."""
    rows = _region_rows(units, "electrodes")
    if rows is None:
        return None
    table = f[units["electrodes"].attrs["table"]] if "table" in units["electrodes"].attrs else None
    if table is None or column not in table or not _is_simple(table[column]):
        return None
    values = _column(table[column]).astype(str)
    return np.array([_join(values[r].tolist()) for r in rows], dtype=str)


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
    for col in ("location", "brain_area"):
        if col in units and _is_simple(units[col]) and f"{col}_index" not in units:
            return _column(units[col]).astype(str), f"units/{col}"
    labels = _electrode_labels(f, units, "location")
    if labels is not None:
        return labels, "electrodes/location"
    if "electrode_group" in units:
        refs = units["electrode_group"][()]
        return np.array([_text(f[r].attrs.get("location", "unknown")) for r in refs], dtype=str), "electrode_group/location"
    return None, "none"


def _search(ds: Any, lo: int, hi: int, value: float) -> int:
    """First index in ``[lo, hi)`` of sorted ``ds`` whose value is >= ``value`` (probes, then one read)."""
    while hi - lo > _SEARCH_BLOCK:
        mid = (lo + hi) // 2
        if ds[mid] < value:
            lo = mid + 1
        else:
            hi = mid
    return lo + int(np.searchsorted(ds[lo:hi], value, side="left"))


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
    return {
        "trains": trains, "ids": ids, "groups": groups, "group_source": group_source,
        "t_start": t_start, "t_stop": t_stop,
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
            groups = np.array([_text(table["imaging_plane"]["location"][()])] * n_units)
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
    t0 = float(grp["starting_time"][()])
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


# --------------------------------------------------------------------------- public API
def _check_params(bin_size: Any, t_start: Any, t_stop: Any) -> tuple[float, float | None, float | None]:
    from neurocomplex._validation import check_float

    b = check_float("bin_size", bin_size, 0.0, low_open=True)
    lo = check_float("t_start", t_start, allow_none=True)
    hi = check_float("t_stop", t_stop, allow_none=True)
    if lo is not None and hi is not None and hi <= lo:
        raise InvalidParameterError(f"the window needs t_stop > t_start, got t_start={t_start}, t_stop={t_stop}.")
    return b, lo, hi  # type: ignore[return-value]


@register_loader("nwb", _accepts, "path to an .nwb file (NWB 2.x, HDF5): Units -> spike counts, series= -> rates")
def load_nwb(
    path: str | os.PathLike[str],
    bin_size: float = 0.01,
    t_start: float | None = None,
    t_stop: float | None = None,
    series: str | None = None,
    units: Sequence[Any] | None = None,
    group_column: str | None = None,
    progress: bool | None = None,
    respect_obs_intervals: bool | None = None,
) -> Recording:
    """Load an NWB file as a Recording, reading from disk only what the window needs.

    Parameters
    ----------
    path : str or path-like
        An ``.nwb`` file (NWB 2.x, HDF5). It is opened read-only and never modified.
    bin_size : float
        Bin width in seconds for spike counts (> 0). Not used for ``series``, whose samples keep
        their own timing.
    t_start, t_stop : float, optional
        Window ``[t_start, t_stop)`` in seconds (file time). Default: see Notes.
    series : str, optional
        Path of a TimeSeries in the file (``"acquisition/foo"``,
        ``"processing/ophys/Fluorescence/RoiResponseSeries"``) to load instead of the Units table.
    units : sequence, optional
        Ids (the Units table's ``id``) of the units to keep; default all.
    group_column : str, optional
        Column of the Units table (or of the electrodes table, through each unit's electrodes)
        that labels the units' groups; default: see Notes.
    progress : bool, optional
        Show a progress bar over units (default: only when stderr is a terminal).
    respect_obs_intervals : bool, optional
        How the Units table's ``obs_intervals`` (when present) are used. None (default): spikes
        are counted over the whole window, and a warning says how many spikes lie outside their
        unit's intervals and how many seconds are unobserved. True: only the bins that lie
        entirely inside the intervals of *every* loaded unit are kept (see Notes). False:
        intervals are ignored, without a warning.

    Returns
    -------
    Recording
        From the Units table: ``kind="spike_counts"``, ``unit_ids`` the table's ids. From a series:
        ``kind="rates"`` (values in the series' unit, as ``get_data_in_units()``: see Notes), ``unit_ids`` the
        ROI / electrode table ids when the series references one, else ``0..n_units-1``. A file
        written by :func:`write_nwb` loads back as the Recording written. ``intervals`` holds
        every table with ``start_time``/``stop_time`` (trials, epochs, other TimeIntervals) as a
        DataFrame of its simple columns; ``source`` is the path; ``metadata`` holds
        ``session_description``, ``identifier``, ``session_start_time`` and ``loader_options``.

    Raises
    ------
    MissingFileError
        ``path`` does not exist.
    UnsupportedSourceError
        The suffix is not ``.nwb``.
    CorruptFileError
        Not an HDF5 file, or a truncated / damaged one.
    MissingTableError
        No Units table (and no ``series`` given), or no series at ``series``; the message lists
        what the file contains.
    InvalidParameterError
        ``bin_size <= 0``, ``t_stop <= t_start``, unknown ``units`` or ``group_column``, or a
        window with no sample of the series.
    InvalidDataError
        A series that is not 1-D/2-D numeric, or whose timestamps are not strictly increasing.
    InsufficientDataError
        ``respect_obs_intervals=True`` and no bin is observed for every unit.

    Warns
    -----
    NeurocomplexWarning
        A unit whose spike times are found unsorted; it is read whole and filtered in memory.
        ``obs_intervals`` that do not cover the window (``respect_obs_intervals=None``).

    Notes
    -----
    Units: each unit's spikes sit in the ragged ``units/spike_times`` dataset, its slice given by
    ``spike_times_index``. For a window, the slice is searched (binary search on the dataset,
    spike times sorted within a unit as NWB requires) and only the spikes inside are read; then
    they are counted in bins ``[t_start + k * bin_size, t_start + (k + 1) * bin_size)`` as in
    :meth:`Recording.from_spike_times`. Default window: ``t_start`` is the start of the bin,
    on the grid of multiples of ``bin_size``, that holds the earliest spike (so bins line up with
    round times and with the trial tables), and ``t_stop`` the end of the bin that holds the last
    spike, so every spike is counted.

    Observation intervals: an unobserved stretch is not silence, but a Recording is a full matrix
    (no NaN, no per-unit mask), so ``respect_obs_intervals=True`` keeps the bins observed for all
    units and drops the others, for all units; spikes in dropped bins are not counted.
    ``times`` then has gaps (``metadata["obs_intervals"]`` says how many bins were dropped):
    estimators that treat rows as samples (entropies of patterns, dimensions) are unaffected,
    while those that use temporal order (time words, block bootstrap) join the bins on either
    side of a gap. Select units recorded together (``units=``) to keep more bins.

    Series: values are ``data * (conversion * channel_conversion) + offset``, as pynwb's
    ``get_data_in_units()`` computes them; integer data without any scaling stay integers.

    Groups, in order of preference: ``group_column``; a ``location`` or ``brain_area`` column of
    the Units table; the ``location`` of each unit's electrodes (``units/electrodes`` -> electrodes
    table, several distinct locations joined with ``"+"``); the ``location`` of its
    ``electrode_group``; else ``"all"``. ``metadata["group_source"]`` says which was used.

    References
    ----------
    Rübel O, Tritt A, Ly R, et al. (2022). The Neurodata Without Borders ecosystem for
    neurophysiological data science. eLife 11:e78362.

    Examples
    --------
    >>> import tempfile, os, numpy as np, neurocomplex as nc
    >>> rec = nc.Recording.from_spike_times([[0.01, 0.5], [0.3]], bin_size=0.1, groups=["CA1", "CA3"])
    >>> path = os.path.join(tempfile.mkdtemp(), "rec.nwb")
    >>> rec.to_nwb(path)
    >>> back = nc.load(path)
    >>> np.array_equal(back.data, rec.data), back.groups.tolist()
    (True, ['CA1', 'CA3'])
    """
    b, lo, hi = _check_params(bin_size, t_start, t_stop)
    if respect_obs_intervals not in (None, True, False):
        raise InvalidParameterError(
            f"respect_obs_intervals must be None (warn), True (keep observed bins) or False (ignore), "
            f"got {respect_obs_intervals!r}."
        )
    p = _check_path(path)
    options = {"bin_size": b, "t_start": lo, "t_stop": hi, "series": series,
               "units": None if units is None else list(np.asarray(list(units)).tolist()),
               "group_column": group_column, "respect_obs_intervals": respect_obs_intervals}
    with _open(p) as f:
        meta = _file_metadata(f)
        intervals = _read_intervals(f)
        target = series if series is not None else (None if "units" in f else _written_series(f))
        if target is None and "units" not in f:
            raise MissingTableError(f"{str(p)!r} has no Units table (no spikes to bin). {_contents(f)}.")
        if target is not None:
            s = _load_series(f, p, target, lo, hi)
        else:
            u = _load_units(f, p, b, lo, hi, units, group_column, progress)
            obs = None
            if respect_obs_intervals is not False:
                all_ids = _column(f["units"]["id"]) if "id" in f["units"] else np.arange(u["ids"].size)
                obs = _obs_intervals(f["units"], all_ids, u["ids"])
    meta["loader_options"] = options
    if target is None:
        meta["group_source"] = u["group_source"]
        rec = Recording.from_spike_times(
            u["trains"], bin_size=b, t_start=u["t_start"], t_stop=u["t_stop"], unit_ids=u["ids"],
            groups=u["groups"], intervals=intervals, metadata=meta, source=str(path),
        )
        return rec if obs is None else _apply_obs_intervals(rec, u["trains"], obs, respect_obs_intervals, p)
    if s["marker"] is not None:
        meta = {**s["marker"].get("metadata", {}), **meta}
    meta["series"] = s["series"]
    ids, groups = s["ids"], s["groups"]
    if units is not None:
        wanted = np.asarray(list(units))
        missing = np.setdiff1d(wanted, ids)
        if missing.size or wanted.size == 0:
            raise InvalidParameterError(f"units: ids {missing[:10].tolist()} are not in series {s['series']!r} of "
                                        f"{str(p)!r} (ids: {ids[:20].tolist()}).")
        keep = np.isin(ids, wanted)
        s["data"], ids, groups = s["data"][:, keep], ids[keep], None if groups is None else groups[keep]
    return Recording(
        data=s["data"], kind=s["kind"], unit_ids=ids, groups=groups, bin_size=s["bin_size"], times=s["times"],
        intervals=intervals, metadata=meta, source=str(path),
    )


def _load_line(f: Any, path: str, bin_size: float, units_info: dict[str, Any] | None,
               series_info: dict[str, Any]) -> str:
    """``nc.load(...) -> Recording(...)`` as load_nwb would return it, from sizes only."""
    written = _written_series(f)
    if units_info is not None:
        from neurocomplex.binning import _bin_index, _grid

        t0 = _default_start(units_info["t_first"], bin_size)
        last = units_info["t_last"] if units_info["t_last"] is not None else t0
        # the bin of the last spike on the exact edges, as Recording.from_spike_times with t_stop=None
        n = int(_bin_index(np.array([max(last, t0)]), t0, bin_size, _grid(t0, bin_size))[0]) + 1
        groups = list(units_info["groups"].items())
        shown = "" if [g for g, _ in groups] == ["all"] else ", groups={" + ", ".join(f"{g}: {c}" for g, c in groups[:6]) + "}"
        return (f"nc.load({path!r}, bin_size={bin_size:g}) -> Recording(kind='spike_counts', n_samples={n}, "
                f"n_units={units_info['n_units']}, bin_size={bin_size:g}s{shown})")
    if written is not None:
        shape = f[written]["data"].shape
        return (f"nc.load({path!r}) -> Recording(kind={(_marker(f[written]) or {}).get('kind')!r}, "
                f"n_samples={shape[0]}, n_units={shape[1] if len(shape) > 1 else 1})")
    if series_info:
        return f"no Units table: load a series, e.g. nc.load({path!r}, series={next(iter(series_info))!r})"
    return "nothing to load: no Units table and no time series"


def describe(path: str | os.PathLike[str], bin_size: float = 0.01) -> dict[str, Any]:
    """Summarise what an NWB file holds, without reading spike times.

    Parameters
    ----------
    path : str or path-like
        An ``.nwb`` file; opened read-only.
    bin_size : float
        Bin width used to say how the file would load.

    Returns
    -------
    dict
        ``path``, ``file`` (session_description, identifier, session_start_time, nwb_version),
        ``units`` (None, or ``n_units``, ``n_spikes``, ``t_first``, ``t_last``, ``groups``: label ->
        count, ``group_source``), ``intervals`` (name -> ``n_rows``, ``columns``), ``series``
        (path -> ``neurodata_type``, ``shape``, ``dtype``, ``rate`` or ``n_timestamps``,
        ``t_first``, ``t_last``, ``unit``) and ``load``: the call ``nc.load(...)`` and the
        Recording it returns.

    Raises
    ------
    MissingFileError, UnsupportedSourceError, CorruptFileError, InvalidParameterError
        As :func:`load_nwb`.

    Notes
    -----
    Only sizes, the first and last spike of each unit and small tables are read, so this is fast
    on any file; ``n_samples`` is that of the default window of :func:`load_nwb` (spike times
    sorted within each unit).

    Examples
    --------
    >>> import tempfile, os, neurocomplex as nc
    >>> path = os.path.join(tempfile.mkdtemp(), "rec.nwb")
    >>> nc.Recording.from_spike_times([[0.01, 0.5], [0.3]], bin_size=0.1).to_nwb(path)
    >>> describe(path)["series"]["processing/neurocomplex/activity"]["shape"]
    (6, 2)
    """
    b, _, _ = _check_params(bin_size, None, None)
    p = _check_path(path)
    out: dict[str, Any] = {"path": str(path)}
    with _open(p) as f:
        out["file"] = _file_metadata(f)
        units_info = None
        if "units" in f:
            units = f["units"]
            starts, stops = _unit_slices(units)
            groups, source = _unit_groups(f, units, None, p)
            ends = _first_last(units["spike_times"], starts, stops)
            labels, counts = np.unique(groups if groups is not None else np.full(starts.size, "all"), return_counts=True)
            units_info = {
                "n_units": int(starts.size), "n_spikes": int(stops[-1]) if stops.size else 0,
                "t_first": None if ends is None else ends[0], "t_last": None if ends is None else ends[1],
                "groups": dict(zip(labels.tolist(), counts.tolist())), "group_source": source,
            }
        out["units"] = units_info
        out["intervals"] = {
            name: {"n_rows": len(df), "columns": list(df.columns)} for name, df in _read_intervals(f).items()
        }
        series_info: dict[str, Any] = {}
        for key, grp in sorted(_series_paths(f).items()):
            ds = grp["data"]
            info: dict[str, Any] = {"neurodata_type": _text(grp.attrs.get("neurodata_type", "")), "shape": tuple(ds.shape),
                                    "dtype": str(ds.dtype), "unit": _text(ds.attrs.get("unit", ""))}
            if "timestamps" in grp:
                ts = grp["timestamps"]
                info["n_timestamps"] = int(ts.shape[0])
                info["t_first"] = float(ts[0]) if ts.shape[0] else None
                info["t_last"] = float(ts[-1]) if ts.shape[0] else None
            else:
                t0, rate = float(grp["starting_time"][()]), float(grp["starting_time"].attrs["rate"])
                info.update(rate=rate, t_first=t0, t_last=t0 + (ds.shape[0] - 1) / rate if ds.shape[0] else None)
            series_info[key] = info
        out["series"] = series_info
        out["load"] = _load_line(f, str(path), b, units_info, series_info)
    return out
