"""Streaming NWB: accumulate statistics window by window, never holding the binned matrix.

A session is read in time windows: the spikes of every unit inside ``[t_w, t_(w+1))`` (the
ragged ``units/spike_times`` dataset, read unit by unit from a cursor), binned with
:func:`neurocomplex.recording.bin_spike_times`, and fed to the mergeable accumulators of
:mod:`neurocomplex.stats`; or the rows of a TimeSeries in windows of rows. Consecutive windows
form blocks; each block keeps its own statistics, so the block bootstrap of the estimators runs
on the statistics alone. Memory is the statistics of the blocks plus one window, whatever the
session length.

:func:`plan_stream` reads only sizes and the first/last spike of each unit; :func:`stream_blocks`
accumulates a range of blocks (one task of a distributed run); :func:`stream_statistics` does both
for a whole session in this process.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from neurocomplex.errors import InvalidDataError, InvalidParameterError, MissingTableError

__all__ = ["KINDS", "MAX_STREAM_CELLS", "BlockStats", "StreamPlan", "check_stream_memory", "check_stream_work",
           "merge_blocks", "merge_words", "plan_stream", "stream_blocks", "stream_memory", "stream_statistics"]

KINDS = ("covariance", "activity", "words", "samples")
# What is kept when kinds are not given: the per-row samples (O(n_samples) memory) only when asked for.
_DEFAULT_KINDS = ("covariance", "activity", "words")
# Default window: one window's counts (a byte each; 8 per value of a series) take at most this much.
_WINDOW_BYTES = 16 * 2**20
# Rows of a window are fed to the accumulators in chunks whose float64 copy takes at most this much.
_CHUNK_BYTES = 16 * 2**20
# Default number of bootstrap blocks (each holds an n_units x n_units scatter when covariances are kept).
_N_BLOCKS = 20
# The most bins x units one session is streamed over by default. The accumulators handle from about
# 0.5 (words and covariances of 40 units) to 20 (activity alone) million cells per second on one core,
# so 10**11 cells take one to many hours; more is almost always a bin size or a clock mistake (a spike
# stamped at 1e12 s), refused before anything is read. A day at 1 ms bins of 1,000 units is 8.6e10.
MAX_STREAM_CELLS = 10**11


@dataclasses.dataclass(frozen=True)
class StreamPlan:
    """Where and how a session is streamed: the window grid, the blocks and the units.

    Attributes
    ----------
    path : str
        The NWB file.
    source : str
        ``"units"`` (the Units table) or the path of the TimeSeries.
    kind : str
        ``"spike_counts"`` for the Units table; the kind of the series otherwise.
    bin_size : float or None
        Bin width (seconds) of the counts or sampling step of the series.
    t_start, t_stop : float or None
        The window of the session, as :func:`neurocomplex.load` chooses it (for a series: the time
        of its first row in the window, and the ``t_stop`` asked for, None for the end).
    n_samples : int
        Bins (rows) of the whole session.
    window_rows : int
        Bins (rows) per window; every window but the last holds exactly this many.
    windows_per_block : int
        Consecutive windows per bootstrap block.
    unit_ids, groups : numpy.ndarray
        Id and group label of each unit (``"all"`` when the file has none).
    group_source : str
        Where the groups came from (as ``Recording.metadata["group_source"]``).
    n_spikes : int
        Spikes stored in the Units table (0 for a series).
    dtype : str
        Precision of the data (sets the eigenvalue noise floor of the dimension estimators).
    row0 : int
        First row of the series inside the window (0 for the Units table).
    in_units : bool
        Whether the series' values are converted to its unit as :func:`neurocomplex.load` does
        (``data * (conversion * channel_conversion) + offset``, pynwb's ``get_data_in_units``);
        False for the Units table and for series written by ``write_nwb`` (stored as they are).
    cache : str or None
        For a file read over HTTP(S): the folder that keeps its fetched parts
        (:func:`neurocomplex.io.remote.open_url`); None for local files or no cache.
    edges : tuple of int or None
        Row boundaries of the blocks (``0 = e_0 < e_1 < ... = n_samples``): ``n_blocks`` equal
        parts from :func:`plan_stream`, or where :meth:`with_edges` cuts them; None (a given
        ``window``): blocks of ``windows_per_block`` whole windows.
    """

    path: str
    source: str
    kind: str
    bin_size: float | None
    t_start: float | None
    t_stop: float | None
    n_samples: int
    window_rows: int
    windows_per_block: int
    unit_ids: np.ndarray
    groups: np.ndarray
    group_source: str
    n_spikes: int
    dtype: str = "float64"
    row0: int = 0
    in_units: bool = False
    cache: str | None = None
    edges: tuple[int, ...] | None = None

    @property
    def n_units(self) -> int:
        return int(self.unit_ids.size)

    @property
    def n_windows(self) -> int:
        return -(-self.n_samples // self.window_rows)

    @property
    def n_blocks(self) -> int:
        if self.edges is not None:
            return len(self.edges) - 1
        return -(-self.n_windows // self.windows_per_block)

    def block_rows(self, block: int) -> tuple[int, int]:
        """First and last-plus-one row of ``block``."""
        if self.edges is not None:
            return self.edges[block], self.edges[block + 1]
        rows = self.window_rows * self.windows_per_block
        return block * rows, min((block + 1) * rows, self.n_samples)

    def with_edges(self, edges: Sequence[int]) -> StreamPlan:
        """The same plan with blocks cut at the rows ``edges`` (the first 0, the last ``n_samples``,
        increasing): the blocks a block bootstrap of given block length needs. Windows are read
        as before; the rows of a window that spans a block's end go to each block in turn."""
        cut = tuple(int(e) for e in edges)
        if len(cut) < 2 or cut[0] != 0 or cut[-1] != self.n_samples or any(b <= a for a, b in itertools.pairwise(cut)):
            raise InvalidParameterError(f"edges must increase from 0 to n_samples={self.n_samples}, got "
                                        f"{list(cut)[:6]}{' ...' if len(cut) > 6 else ''}.")
        return dataclasses.replace(self, edges=cut)

    def group_units(self, by: str | None) -> dict[str, np.ndarray]:
        """Unit indices of each group, as ``nc.measure`` splits a Recording: the groups and ``"all"``
        when there are several groups, the single group's label otherwise, ``"all"`` for ``by=None``."""
        labels = list(dict.fromkeys(self.groups.tolist()))
        if by is None or len(labels) <= 1:
            return {(labels[0] if by is not None and labels else "all"): np.arange(self.n_units)}
        out = {g: np.flatnonzero(self.groups == g) for g in labels}
        out["all"] = np.arange(self.n_units)
        return out


@dataclasses.dataclass
class BlockStats:
    """Statistics of one block of consecutive rows.

    ``covariance`` covers all units (groups take sub-matrices); ``activity`` all units;
    ``words`` one :class:`~neurocomplex.stats.WordCounts` per group key; ``keyed_words`` per
    ``(group, m)`` the words keyed by their sub-block of ``m`` samples (the last 64-bit code of each
    word is ``row // m``); ``samples`` per group the number of active units in each row and the
    sum (integer data) or mean (floats) of each row.
    """

    index: int
    n_samples: int
    n_spikes: int
    covariance: Any | None
    activity: Any | None
    words: dict[str, Any]
    keyed_words: dict[tuple[str, int], Any] = dataclasses.field(default_factory=dict)
    samples: dict[str, tuple[np.ndarray, np.ndarray]] = dataclasses.field(default_factory=dict)


# --------------------------------------------------------------------------- planning
def _window_rows(window: float | None, step: float | None, n_units: int, itemsize: int) -> int:
    if window is None:
        return max(1, _WINDOW_BYTES // (itemsize * n_units))
    from neurocomplex._validation import check_float

    w = check_float("window (seconds)", window, 0.0, low_open=True)
    if step is None:
        return max(1, round(w))
    return max(1, round(w / step))


def _units_plan(f: Any, p: Path, bin_size: float, t_start: float | None, t_stop: float | None,
                group_column: str | None) -> dict[str, Any]:
    from neurocomplex.binning import _grid, _n_bins
    from neurocomplex.io.nwb import _column, _default_span, _first_last, _unit_groups, _unit_slices

    units = f["units"]
    starts, stops = _unit_slices(units)
    ids = _column(units["id"]) if "id" in units else np.arange(stops.size)
    if stops.size == 0 or ids.size == 0:  # (an empty index gives one start and no stop)
        raise InvalidDataError(f"the Units table of {str(p)!r} has no units.")
    groups, source = _unit_groups(f, units, group_column, p)
    ds = units["spike_times"]
    ends = _first_last(ds, starts, stops)
    if ends is not None and not (np.isfinite(ends[0]) and np.isfinite(ends[1])):
        raise InvalidDataError(f"the spike times of {str(p)!r} hold NaN or inf; they cannot be binned.")
    # The span nc.load gives: from the bin of the first spike to the end of the session as the file
    # records it (trials, intervals, series), or the bin of the last spike when that is later.
    first, last = (None, None) if ends is None else (float(ends[0]), float(ends[1]))
    t_start, t_stop, _ = _default_span(f, first, last, bin_size, t_start, t_stop)
    grid = _grid(t_start, bin_size)
    if t_stop <= t_start:
        raise InvalidParameterError(f"the window of {str(p)!r} needs t_stop > t_start, got t_start={t_start}, "
                                    f"t_stop={t_stop}.")
    return {"ids": ids, "groups": groups, "group_source": source, "t_start": float(t_start), "t_stop": float(t_stop),
            "n_samples": _n_bins(t_start, t_stop, bin_size, grid), "n_spikes": int(stops[-1]) if stops.size else 0,
            "kind": "spike_counts", "bin_size": bin_size, "dtype": "float64"}


def _series_plan(f: Any, p: Path, series: str, t_start: float | None, t_stop: float | None) -> dict[str, Any]:
    from neurocomplex.io._nwb_write import _UNIT_TABLE
    from neurocomplex.io.nwb import _column, _in_units, _marker, _series_paths, _series_rows, _series_units

    key = series.strip("/")
    available = _series_paths(f)
    if key not in available:
        raise MissingTableError(f"{str(p)!r} has no time series at {series!r}. Series in the file: "
                                f"{sorted(available) or 'none'}.")
    grp = available[key]
    ds = grp["data"]
    if ds.ndim not in (1, 2) or ds.dtype.kind not in "biuf":
        raise InvalidDataError(f"series {key!r} in {str(p)!r} has data of shape {ds.shape} and dtype {ds.dtype}; "
                               "only numeric 1-D or 2-D series can be streamed.")
    n_units = 1 if ds.ndim == 1 else int(ds.shape[1])
    marker = _marker(grp)
    step = marker.get("bin_size") if marker else None
    lo, hi, times = _series_rows(grp, ds.shape[0], t_start, t_stop, step, f"series {key!r} in {str(p)!r}")
    if hi <= lo:
        raise InvalidParameterError(f"no sample of series {key!r} in {str(p)!r} lies in [{t_start}, {t_stop}).")
    if marker is not None:
        table = grp.parent[_UNIT_TABLE]
        ids, groups, kind = _column(table["unit_id"]), _column(table["group"]).astype(str), marker["kind"]
        bin_size = marker.get("bin_size")
    else:
        ids, groups = _series_units(f, grp, n_units)
        kind = "rates"
        bin_size = 1.0 / float(grp["starting_time"].attrs["rate"]) if "starting_time" in grp else (
            float(np.median(np.diff(times))) if times.size > 1 else None)
    # the dtype of the values as nc.load gives them: one row converted as every window will be
    probe = np.asarray(ds[lo : lo + 1])
    probe = probe[:, None] if probe.ndim == 1 else probe
    if marker is None:
        probe = _in_units(grp, ds, probe, f"series {key!r} in {str(p)!r}")
    return {"ids": ids, "groups": groups, "group_source": "series", "t_start": float(times[0]),
            "t_stop": t_stop, "n_samples": hi - lo, "row0": lo, "n_spikes": 0, "kind": kind, "bin_size": bin_size,
            "dtype": "float32" if probe.dtype == np.float32 else "float64", "in_units": marker is None}


def plan_stream(
    path: str | os.PathLike[str],
    bin_size: float = 0.01,
    t_start: float | None = None,
    t_stop: float | None = None,
    series: str | None = None,
    window: float | None = None,
    n_blocks: int = _N_BLOCKS,
    group_column: str | None = None,
    max_cells: int | None = None,
    cache: str | os.PathLike[str] | None = None,
) -> StreamPlan:
    """Plan the streaming of one session: its window, the window grid and the bootstrap blocks.

    Parameters
    ----------
    path : str, path-like or URL
        An ``.nwb`` file, an NWB Zarr store or the http(s) URL of an NWB file, opened read-only.
    bin_size : float
        Bin width in seconds for the Units table (> 0).
    t_start, t_stop : float, optional
        Window of the session; defaults as :func:`neurocomplex.load`: from the bin, on the grid
        of multiples of ``bin_size``, holding the first spike, to the end of the session as the
        file records it (the latest stop of its trials and other intervals, its observation
        intervals or the end of its series) or the end of the bin of the last spike when that
        is later, a whole number of bins.
    series : str, optional
        Stream this TimeSeries (rows) instead of the Units table.
    window : float, optional
        Seconds per read window (rounded to whole bins, so the windows' bin edges are those of
        the whole session). Default: the window whose counts take 16 MiB (one byte per count;
        8 bytes per value of a series).
    n_blocks : int
        Blocks of consecutive rows, each with its own statistics (the units of a distributed
        run's tasks, and of a block bootstrap): ``n_blocks`` equal parts of the session by default
        (fewer when there are fewer rows), whole windows each with a given ``window`` (fewer when
        there are fewer windows). :meth:`StreamPlan.with_edges` cuts them elsewhere.
    group_column : str, optional
        As in :func:`neurocomplex.load`.
    max_cells : int, optional
        Refuse a session of more bins x units than this (default :data:`MAX_STREAM_CELLS`), before
        anything is read; see :func:`check_stream_work`.
    cache : path, optional
        For a URL: a folder that keeps the fetched parts of the file, so that reading it again
        (the blocks, on any worker of this machine) fetches nothing twice. Kept in the plan.

    Returns
    -------
    StreamPlan

    Raises
    ------
    MissingFileError, UnsupportedSourceError, CorruptFileError
        As :func:`neurocomplex.load`.
    MissingTableError
        No Units table (and no ``series``), or no series at ``series``.
    InvalidParameterError, InvalidDataError
        Bad window parameters; a Units table without units; more than ``max_cells`` bins x units
        (a last spike at 1e12 s at 1 ms bins is refused here, from the sizes alone).

    Examples
    --------
    >>> import tempfile, os, neurocomplex as nc
    >>> path = os.path.join(tempfile.mkdtemp(), "s.nwb")
    >>> nc.Recording.from_spike_times([[0.01, 0.5], [0.3]], bin_size=0.1).to_nwb(path)
    >>> plan = plan_stream(path, series="processing/neurocomplex/activity", window=0.2)
    >>> plan.n_samples, plan.window_rows, plan.n_windows
    (6, 2, 3)
    """
    from neurocomplex._validation import check_int
    from neurocomplex.io.nwb import _check_params, _check_path, _contents, _open, _written_series

    b, lo, hi = _check_params(bin_size, t_start, t_stop)
    n_blocks = check_int("n_blocks", n_blocks, 1)
    p = _check_path(path)
    if cache is not None and (isinstance(cache, (bool, bytes)) or not isinstance(cache, (str, os.PathLike))):
        raise InvalidParameterError(f"cache must be a folder path (str or path-like) or None, got {cache!r}.")
    with _open(p, cache=cache) as f:
        target = series if series is not None else (None if "units" in f else _written_series(f))
        if target is None and "units" not in f:
            raise MissingTableError(f"{str(p)!r} has no Units table (no spikes to bin). {_contents(f)}.")
        info = _series_plan(f, p, target, lo, hi) if target is not None else _units_plan(f, p, b, lo, hi, group_column)
    step = info["bin_size"]
    n_units = int(np.asarray(info["ids"]).size)
    n_samples = int(info["n_samples"])
    rows = min(_window_rows(window, step, n_units, 1 if target is None else 8), max(1, n_samples))
    n_windows = -(-n_samples // rows)
    # Default windows are as long as their memory allows (fewer, longer reads), and the blocks n_blocks
    # equal parts whatever the windows; with a given window, blocks are whole windows.
    edges = None
    if window is None and n_samples > 0:
        size = -(-n_samples // min(n_blocks, n_samples))
        edges = (*range(0, n_samples, size), n_samples)
    groups = info["groups"] if info["groups"] is not None else np.full(n_units, "all")
    plan = StreamPlan(
        path=str(path), source="units" if target is None else target.strip("/"), kind=info["kind"],
        bin_size=step, t_start=info["t_start"], t_stop=info["t_stop"], n_samples=n_samples,
        window_rows=rows, windows_per_block=-(-n_windows // min(n_blocks, n_windows)),
        unit_ids=np.asarray(info["ids"]), groups=np.asarray(groups).astype(str), group_source=info["group_source"],
        n_spikes=info["n_spikes"], dtype=info["dtype"], row0=int(info.get("row0", 0)),
        in_units=bool(info.get("in_units", False)), cache=None if cache is None else os.fspath(cache), edges=edges,
    )
    check_stream_work(plan, max_cells)
    return plan


# --------------------------------------------------------------------------- sizes before work
def check_stream_work(plan: StreamPlan, max_cells: int | None = None) -> None:
    """Refuse a session of more than ``max_cells`` bins x units before any of it is read.

    Parameters
    ----------
    plan : StreamPlan
    max_cells : int, optional
        Default :data:`MAX_STREAM_CELLS` (``10**11``).

    Raises
    ------
    InvalidParameterError
        Too many cells; the message gives the window, the bins, the units and what to change.

    Examples
    --------
    >>> import tempfile, os, neurocomplex as nc
    >>> path = os.path.join(tempfile.mkdtemp(), "s.nwb")
    >>> nc.Recording.from_spike_times([[0.01, 5000.0]], bin_size=1.0).to_nwb(path)
    >>> plan_stream(path, series="processing/neurocomplex/activity", max_cells=1000)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    neurocomplex.errors.InvalidParameterError: ...5,001 rows x 1 units = 5,001 cells, more than max_cells=1,000...
    """
    from neurocomplex._validation import check_int

    limit = MAX_STREAM_CELLS if max_cells is None else check_int("max_cells", max_cells, 1)
    cells = plan.n_samples * plan.n_units
    if cells <= limit:
        return
    if plan.source == "units":
        what = (f"binning [{plan.t_start:g}, {plan.t_stop:g}) s at bin_size={plan.bin_size!r} gives "
                f"{plan.n_samples:,} bins x {plan.n_units:,} units = {cells:,} cells")
        fix = "use a larger bin_size or a shorter window (t_start/t_stop)"
    else:
        what = f"series {plan.source!r} has {plan.n_samples:,} rows x {plan.n_units:,} units = {cells:,} cells"
        fix = "use a shorter window (t_start/t_stop)"
    raise InvalidParameterError(
        f"{plan.path!r}: {what}, more than max_cells={limit:,} (streaming that many takes hours); {fix}, or pass a larger "
        "max_cells to stream it anyway."
    )


def stream_memory(plan: StreamPlan, kinds: Sequence[str] = _DEFAULT_KINDS, by: str | None = "group") -> int:
    """Bytes that streaming ``plan`` for ``kinds`` holds at once, from the sizes alone.

    Parameters
    ----------
    plan : StreamPlan
    kinds : sequence of {"covariance", "activity", "words", "samples"}
    by : {"group", None}

    Returns
    -------
    int
        One window of values (a byte per count, 8 per value of a series, and a byte for its
        binary state) and the float copies of one chunk of it, the statistics of every block (an
        ``n_units x n_units`` float64 scatter per block and per group when covariances are kept,
        and four more for the accumulation and the estimate), the activity statistics, and with
        "samples" 24 bytes per row and group (a count and a sum, and their concatenation). Word
        counts, which grow with the distinct words seen, are not included.

    Examples
    --------
    >>> import tempfile, os, neurocomplex as nc
    >>> path = os.path.join(tempfile.mkdtemp(), "s.nwb")
    >>> nc.Recording.from_spike_times([[0.01, 0.5], [0.3]], bin_size=0.1).to_nwb(path)
    >>> plan = plan_stream(path, series="processing/neurocomplex/activity")
    >>> stream_memory(plan, ["activity"]) < stream_memory(plan, ["covariance"])
    True
    """
    n = plan.n_units
    itemsize = 1 if plan.source == "units" else 8
    total = (itemsize + 1) * plan.window_rows * n + 16 * min(plan.window_rows, max(1, _CHUNK_BYTES // (8 * n))) * n
    total += plan.n_blocks * 4 * 8 * n
    if "covariance" in kinds:
        sizes = [idx.size for idx in plan.group_units(by).values()]
        total += (plan.n_blocks + 4) * 8 * sum(k * k for k in sizes)
    if "samples" in kinds:
        total += 24 * plan.n_samples * len(plan.group_units(by))
    return int(total)


def check_stream_memory(plan: StreamPlan, kinds: Sequence[str] = _DEFAULT_KINDS, by: str | None = "group") -> None:
    """Refuse, before reading, a session whose statistics would not fit in memory (:func:`stream_memory`).

    Parameters
    ----------
    plan : StreamPlan
    kinds : sequence of {"covariance", "activity", "words"}
    by : {"group", None}

    Raises
    ------
    MemoryLimitError
        More than :func:`neurocomplex._memory.memory_limit`; the message names the size of one
        scatter matrix and what to change.
    """
    from neurocomplex._memory import check_allocation, format_bytes

    need = stream_memory(plan, kinds, by)
    n = plan.n_units
    if "covariance" in kinds:
        what = (f"{plan.path!r}: streaming the covariance of {n:,} units in {plan.n_blocks} blocks (one {n:,} x {n:,} "
                f"float64 scatter matrix, {format_bytes(8 * n * n)}, per block and per group)")
        alternative = ("select fewer units (group_column, or a file with a subset), use fewer n_blocks, or choose "
                       "measures that need no covariance (activation_ratio, mean_rate, constant_fraction, "
                       "pattern_entropy).")
    else:
        what = f"{plan.path!r}: streaming {n:,} units in windows of {plan.window_rows:,} rows"
        alternative = "use a shorter window or fewer units."
    check_allocation(need, what, alternative)


# --------------------------------------------------------------------------- streaming
def stream_blocks(
    plan: StreamPlan,
    blocks: Sequence[int] | None = None,
    kinds: Sequence[str] = _DEFAULT_KINDS,
    threshold: float = 0.0,
    by: str | None = "group",
    on_window: Callable[[int, int], None] | None = None,
    word_blocks: Sequence[int] = (),
) -> list[BlockStats]:
    """Accumulate the statistics of some blocks of a planned session.

    Parameters
    ----------
    plan : StreamPlan
        From :func:`plan_stream`.
    blocks : sequence of int, optional
        Consecutive block indices to read (one task of a distributed run); default all.
    kinds : sequence of {"covariance", "activity", "words", "samples"}
        Statistics to keep (covariance: dimensions and spectra; activity: activation ratio, rates,
        constant units; words: pattern entropy and complexity at scale 0; samples: the number of
        active units and the sum or mean of every row, per group, which the bootstrap of the
        activation ratio and the mean rate resamples).
    threshold : float
        A unit is active (bit 1 of the word, counted by the activation ratio) when above it.
    by : {"group", None}
        Word counts and samples per group of :meth:`StreamPlan.group_units`.
    on_window : callable, optional
        Called as ``on_window(n_rows, n_spikes)`` after each window (progress).
    word_blocks : sequence of int
        With "words": also count the words of each group keyed by their sub-block of ``m``
        consecutive samples of the session, for each ``m`` (the block bootstrap of the entropies
        with ``block_size=m``).

    Returns
    -------
    list of BlockStats

    Raises
    ------
    CorruptFileError
        The file cannot be read (truncated, damaged).
    InvalidDataError
        Unsorted spike times, NaN/inf values.
    MemoryLimitError
        The statistics of the session would not fit in memory (:func:`check_stream_memory`);
        refused before anything is read.

    Notes
    -----
    Exactness: window ``w`` covers bins ``[r + w m, r + (w + 1) m)`` of the session (``r`` the first
    row of the first block read, ``m`` = ``plan.window_rows``), cut at the last block's end; its
    edges are the session's edges ``t_start + k * bin_size``, so every
    spike lands in the bin :func:`neurocomplex.load` gives it and the counts, words and activity
    statistics equal those of the in-memory Recording exactly. Covariances are merged with the
    pairwise update of Chan, Golub & LeVeque (1979) and agree to rounding.

    Examples
    --------
    >>> import tempfile, os, numpy as np, neurocomplex as nc
    >>> path = os.path.join(tempfile.mkdtemp(), "s.nwb")
    >>> nc.Recording.from_spike_times([[0.01, 0.5, 0.55], [0.3]], bin_size=0.1).to_nwb(path)
    >>> plan = plan_stream(path, series="processing/neurocomplex/activity", window=0.2, n_blocks=3)
    >>> [(b.n_samples, b.activity.active.tolist()) for b in stream_blocks(plan)]
    [(2, [1, 0]), (2, [0, 1]), (2, [1, 0])]
    """
    from neurocomplex._validation import check_float, check_int
    from neurocomplex.io._stream_read import BlockAccumulator, windows
    from neurocomplex.io.nwb import _check_path, _open

    kinds = tuple(kinds)
    word_blocks = tuple(check_int("word_blocks", m, 1) for m in word_blocks)
    for k in kinds:
        if k not in KINDS:
            raise InvalidParameterError(f"kinds: {k!r} is not one of {KINDS}.")
    threshold = check_float("threshold", threshold)
    chosen = list(range(plan.n_blocks)) if blocks is None else sorted(int(b) for b in blocks)
    if any(b < 0 or b >= plan.n_blocks for b in chosen):
        raise InvalidParameterError(f"blocks must lie in 0..{plan.n_blocks - 1}, got {chosen}.")
    if any(b - a != 1 for a, b in itertools.pairwise(chosen)):
        raise InvalidParameterError(f"blocks must be consecutive, got {chosen}.")
    groups = plan.group_units(by)
    chunk = max(1, _CHUNK_BYTES // (8 * plan.n_units))
    out: list[BlockStats] = []
    if not chosen:
        return out
    check_stream_memory(plan, kinds, by)
    p = _check_path(plan.path)
    bounds = [plan.block_rows(b) for b in chosen]
    with _open(p, cache=plan.cache) as f:
        # Windows run over the blocks' rows regardless of where blocks end (fewer, longer reads); the
        # rows of a window go to the block they belong to, and so do their spikes (the sum of the counts).
        reader = windows(f, plan, [(bounds[0][0], bounds[-1][1])])
        k = 0
        acc = BlockAccumulator(plan.n_units, groups, kinds, threshold, word_blocks)
        n_spikes, row = 0, bounds[0][0]
        for window, spikes in reader:
            # the window's rows cut into pieces of at most `chunk` rows (float copies of a chunk only)
            # and at the blocks' ends; each piece's ranges are fed in one pass
            at, first_row = 0, row
            piece: list[tuple[Any, int, int]] = []
            done: list[tuple[int, Any, int]] = []
            while at < window.shape[0]:
                take = min(window.shape[0] - at, bounds[k][1] - row)
                if spikes:
                    n_spikes += spikes if take == window.shape[0] else int(window[at : at + take].sum(dtype=np.int64))
                for c in range(at, at + take, chunk):
                    stop = min(c + chunk, at + take)
                    if piece and stop - piece[0][1] > chunk:
                        _feed(window, first_row, piece)
                        piece = []
                    piece.append((acc, c, stop))
                at, row = at + take, row + take
                if row == bounds[k][1]:  # the block is complete
                    done.append((k, acc, n_spikes))
                    k, n_spikes = k + 1, 0
                    if k < len(chosen):
                        acc = BlockAccumulator(plan.n_units, groups, kinds, threshold, word_blocks)
            if piece:
                _feed(window, first_row, piece)
            out.extend(BlockStats(chosen[j], bounds[j][1] - bounds[j][0], n, *a.result()) for j, a, n in done)
            if on_window is not None:
                on_window(window.shape[0], spikes)
            del window
    return out


def _feed(window: np.ndarray, row: int, piece: list[tuple[Any, int, int]]) -> None:
    """Rows ``[lo, hi)`` of the window (its first row is the session's row ``row``) to each accumulator."""
    from neurocomplex.io._stream_read import feed_segments

    lo = piece[0][1]
    if len(piece) == 1:
        piece[0][0].add(window[lo : piece[0][2]], row + lo)
        return
    feed_segments([a for a, _, _ in piece], window[lo : piece[-1][2]], row + lo,
                  [p[1] - lo for p in piece] + [piece[-1][2] - lo])


def stream_statistics(
    path: str | os.PathLike[str],
    bin_size: float = 0.01,
    kinds: Sequence[str] = _DEFAULT_KINDS,
    threshold: float = 0.0,
    by: str | None = "group",
    t_start: float | None = None,
    t_stop: float | None = None,
    series: str | None = None,
    window: float | None = None,
    n_blocks: int = _N_BLOCKS,
    group_column: str | None = None,
    max_cells: int | None = None,
    cache: str | os.PathLike[str] | None = None,
) -> tuple[StreamPlan, list[BlockStats]]:
    """Plan and stream a whole session in this process: :func:`plan_stream` then :func:`stream_blocks`.

    Parameters
    ----------
    path, bin_size, t_start, t_stop, series, window, n_blocks, group_column, max_cells, cache
        As in :func:`plan_stream`.
    kinds, threshold, by
        As in :func:`stream_blocks`.

    Returns
    -------
    plan : StreamPlan
    blocks : list of BlockStats

    Raises
    ------
    As :func:`plan_stream` and :func:`stream_blocks`.

    Examples
    --------
    >>> import tempfile, os, neurocomplex as nc
    >>> path = os.path.join(tempfile.mkdtemp(), "s.nwb")
    >>> nc.Recording.from_spike_times([[0.01, 0.5, 0.55], [0.3]], bin_size=0.1).to_nwb(path)
    >>> plan, blocks = stream_statistics(path, series="processing/neurocomplex/activity", kinds=["words"])
    >>> sum(b.words["all"].n_samples for b in blocks) == plan.n_samples == 6
    True
    """
    plan = plan_stream(path, bin_size, t_start, t_stop, series, window, n_blocks, group_column, max_cells, cache)
    return plan, stream_blocks(plan, None, kinds, threshold, by)


def merge_blocks(blocks: Sequence[BlockStats]) -> BlockStats:
    """One BlockStats holding all of ``blocks`` (exact merges)."""
    if not blocks:
        raise InvalidParameterError("merge_blocks needs at least one block.")
    cov, act = blocks[0].covariance, blocks[0].activity
    for b in blocks[1:]:
        cov = None if cov is None else cov.merge(b.covariance)
        act = None if act is None else act.merge(b.activity)
    words = {g: merge_words([b.words[g] for b in blocks]) for g in blocks[0].words}
    keyed = {k: merge_words([b.keyed_words[k] for b in blocks]) for k in blocks[0].keyed_words}
    samples = {g: (np.concatenate([b.samples[g][0] for b in blocks]), np.concatenate([b.samples[g][1] for b in blocks]))
               for g in blocks[0].samples}
    return BlockStats(-1, sum(b.n_samples for b in blocks), sum(b.n_spikes for b in blocks), cov, act, words, keyed,
                      samples)


def merge_words(counts: Sequence[Any]) -> Any:
    """One WordCounts of all of ``counts``: the distinct words of all parts found by one sort, their
    counts summed exactly (the same words and counts as merging them one by one, in one pass).

    Examples
    --------
    >>> from neurocomplex.stats import WordCounts
    >>> parts = [WordCounts(2) for _ in range(3)]
    >>> for p, rows in zip(parts, ([[1, 0]], [[0, 1], [1, 0]], [[1, 0]])):
    ...     p.update(np.array(rows))
    >>> merge_words(parts).counts.tolist()
    [3, 1]
    """
    from neurocomplex.stats import WordCounts
    from neurocomplex.stats.words import count_packed

    parts = list(counts)
    if not parts:
        raise InvalidParameterError("merge_words needs at least one WordCounts.")
    if len({w.n_units for w in parts}) != 1:
        raise InvalidParameterError(f"cannot merge words of {sorted({w.n_units for w in parts})} units.")
    out = WordCounts(parts[0].n_units)
    if len(parts) == 1:
        out.words, out.counts = parts[0].words, parts[0].counts
        return out
    words, index = count_packed(np.concatenate([w.words for w in parts]), True)[::2]
    # sorted as WordCounts sorts (last code most significant); bincount sums counts below 2**53 exactly
    out.words = words
    out.counts = np.bincount(index, weights=np.concatenate([w.counts for w in parts]),
                             minlength=words.shape[0]).astype(np.int64)
    return out

