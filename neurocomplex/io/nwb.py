"""NWB backend: read NWB 2.x files lazily with h5py, write Recordings with pynwb.

:func:`load_nwb` (used by ``nc.load("file.nwb")``) turns the Units table into spike counts, or a
TimeSeries / RoiResponseSeries into rates, reading from disk only what the window needs.
:func:`write_nwb` (used by :meth:`Recording.to_nwb`) writes a Recording so that it loads back
unchanged, and :func:`describe` (used by ``neurocomplex info``) summarises a file without reading
spikes. Files are always opened read-only and are never modified.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from neurocomplex.errors import InvalidParameterError, MissingTableError
from neurocomplex.io._nwb_obs import _apply_obs_intervals, _obs_intervals
from neurocomplex.io._nwb_open import _ZARR_SUFFIXES, _check_path, _open
from neurocomplex.io._nwb_read import (  # noqa: F401  (the streaming reader imports these from here)
    _column,
    _contents,
    _default_span,
    _default_start,
    _file_metadata,
    _first_last,
    _in_units,
    _load_series,
    _load_units,
    _marker,
    _read_intervals,
    _recorded_end,
    _scalar,
    _search,
    _series_paths,
    _series_rows,
    _series_units,
    _text,
    _unit_groups,
    _unit_slices,
    _written_series,
)
from neurocomplex.io._nwb_write import _SUFFIXES, write_nwb
from neurocomplex.io._registry import register_loader
from neurocomplex.io.remote import is_url
from neurocomplex.recording import Recording

__all__ = ["load_nwb", "write_nwb", "describe"]


# --------------------------------------------------------------------------- dispatch
def _accepts(source: Any) -> bool:
    if not isinstance(source, (str, os.PathLike)):
        return False
    if is_url(source) or Path(source).suffix.lower() in _SUFFIXES + _ZARR_SUFFIXES:
        return True
    # Other paths come here too (so that the error names the suffix) unless another loader wants them.
    from neurocomplex.io._registry import _LOADERS

    return not any(ld.accepts(source) for name, ld in _LOADERS.items() if name != "nwb")


# --------------------------------------------------------------------------- public API
def _check_params(bin_size: Any, t_start: Any, t_stop: Any) -> tuple[float, float | None, float | None]:
    from neurocomplex._validation import check_float

    b = check_float("bin_size", bin_size, 0.0, low_open=True)
    lo = check_float("t_start", t_start, allow_none=True)
    hi = check_float("t_stop", t_stop, allow_none=True)
    if lo is not None and hi is not None and hi <= lo:
        raise InvalidParameterError(f"the window needs t_stop > t_start, got t_start={t_start}, t_stop={t_stop}.")
    return b, lo, hi  # type: ignore[return-value]


@register_loader("nwb", _accepts, "path or http(s) URL of an .nwb file (NWB 2.x, HDF5), or an NWB Zarr store: "
                 "Units -> spike counts, series= -> rates")
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
    cache: str | os.PathLike[str] | None = None,
) -> Recording:
    """Load an NWB file as a Recording, reading from disk only what the window needs.

    Parameters
    ----------
    path : str, path-like or URL
        An ``.nwb`` file (NWB 2.x, HDF5); an NWB Zarr store (the folder hdmf-zarr writes,
        ``x.nwb.zarr``); or the ``http://``/``https://`` URL of an HDF5 NWB file (a DANDI asset:
        see :mod:`neurocomplex.io.remote`), read lazily with byte-range requests. It is opened
        read-only and never modified.
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
    cache : path, optional
        For a URL: a folder that keeps the fetched parts of the file, so that reading them again
        fetches nothing (see :func:`neurocomplex.io.remote.open_url`). Not used for local files.

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
    Remote files: only the byte ranges h5py asks for are fetched (the file's metadata, the unit
    index, the spikes inside the window), in chunks of 100 KiB that grow on sequential reads;
    ``metadata["remote"]`` holds the URL, the file size, the number of requests and the bytes
    fetched. Zarr stores are read through the same reader as HDF5 files, so both load the same
    Recording; datasets that hdmf-zarr stored with pickle (references to electrode groups) are
    never decoded, and the groups then come from the ``group_name`` column of the electrodes.

    Units: each unit's spikes sit in the ragged ``units/spike_times`` dataset, its slice given by
    ``spike_times_index``. For a window, the slice is searched (binary search on the dataset,
    spike times sorted within a unit as NWB requires) and only the spikes inside are read; then
    they are counted in bins ``[t_start + k * bin_size, t_start + (k + 1) * bin_size)`` as in
    :meth:`Recording.from_spike_times`. Default window: ``t_start`` is the start of the bin,
    on the grid of multiples of ``bin_size``, that holds the earliest spike (so bins line up with
    round times and with the trial tables), and ``t_stop`` the end of the session as the file
    records it: the first bin edge at or after the latest of the last spike, the latest
    ``stop_time`` of any interval table (trials, epochs, ...), the end of the Units'
    ``obs_intervals`` and the end of any time series; so every spike is counted and the last trial
    of a session lies inside the window. ``metadata["t_stop_source"]`` says which set it.

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
    ``electrode_group``; else ``"all"``. A unit whose label is empty (``""``) takes the next of
    these that names it, then its electrode group's name (``units/electrode_group``, or the
    ``group``/``group_name`` of its electrodes), else ``"unknown"``. ``metadata["group_source"]``
    says which was used (and which filled empty labels).

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
    remote: dict[str, Any] = {}
    options = {"bin_size": b, "t_start": lo, "t_stop": hi, "series": series,
               "units": None if units is None else list(np.asarray(list(units)).tolist()),
               "group_column": group_column, "respect_obs_intervals": respect_obs_intervals}
    with _open(p, cache=cache, stats=remote) as f:
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
    if remote:
        meta["remote"] = {"url": str(path), **remote}
    if target is None:
        meta["group_source"] = u["group_source"]
        meta["t_stop_source"] = u["stop_source"]
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
        from neurocomplex.binning import _grid, _n_bins

        # the default window of load_nwb, on the exact edges
        t0, t1, _ = _default_span(f, units_info["t_first"], units_info["t_last"], bin_size)
        n = _n_bins(t0, t1, bin_size, _grid(t0, bin_size))
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


def describe(path: str | os.PathLike[str], bin_size: float = 0.01,
             cache: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Summarise what an NWB file holds, without reading spike times.

    Parameters
    ----------
    path : str, path-like or URL
        An ``.nwb`` file, an NWB Zarr store, or the http(s) URL of an NWB file (as
        :func:`load_nwb`); opened read-only.
    bin_size : float
        Bin width used to say how the file would load.
    cache : path, optional
        For a URL: the folder of fetched parts, as in :func:`load_nwb`.

    Returns
    -------
    dict
        ``path``, ``file`` (session_description, identifier, session_start_time, nwb_version),
        ``units`` (None, or ``n_units``, ``n_spikes``, ``t_first``, ``t_last``, ``groups``: label ->
        count, ``group_source``), ``session_end`` (``t``, the end of the session as the file records
        it besides the spikes, or None, and ``source``, what records it), ``intervals`` (name ->
        ``n_rows``, ``columns``), ``series``
        (path -> ``neurodata_type``, ``shape``, ``dtype``, ``rate`` or ``n_timestamps``,
        ``t_first``, ``t_last``, ``unit``) and ``load``: the call ``nc.load(...)`` and the
        Recording it returns. For a URL, ``remote`` holds the file size, the requests made and the
        bytes fetched.

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
    remote: dict[str, Any] = {}
    with _open(p, cache=cache, stats=remote) as f:
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
                t0, rate = float(_scalar(grp["starting_time"][()])), float(grp["starting_time"].attrs["rate"])
                info.update(rate=rate, t_first=t0, t_last=t0 + (ds.shape[0] - 1) / rate if ds.shape[0] else None)
            series_info[key] = info
        out["series"] = series_info
        end, end_source = _recorded_end(f)
        out["session_end"] = {"t": end, "source": end_source if end is not None else None}
        out["load"] = _load_line(f, str(path), b, units_info, series_info)
    if remote:
        out["remote"] = remote
    return out
