"""Stimulus-aligned responses: one row per trial (or per condition), one column per unit.

:func:`trial_responses` turns a time-resolved Recording and an interval table (NWB trials or
epochs, any DataFrame with ``start_time``/``stop_time``) into a Recording of kind
``"responses"`` whose per-sample ``labels`` are the trial table's columns. It counts spikes from
the spike times when the Recording was binned from spikes (exact, whatever the bin size), and
from the bins otherwise. The helpers that validate the per-sample labels and spike-time fields of
:class:`~neurocomplex.recording.Recording` live here too, so that ``recording.py`` stays small.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from neurocomplex.errors import InvalidDataError, InvalidParameterError, MissingTableError
from neurocomplex.recording import Recording, interval_table, register_operation

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["trial_responses", "STATISTICS"]

STATISTICS = ("count", "rate", "mean")

# Memory of one column block of the cumulative sum over bins (float64).
_BLOCK_BYTES = 64 * 1024**2
# Kinds whose bins hold events (spike counts, on/off states) that add up over a window.
_COUNT_KINDS = ("spike_counts", "binary")


# ----------------------------------------------------------------- trial tables
def _resolve_table(rec: Recording, trials: Any) -> tuple[pd.DataFrame, str | None]:
    import pandas as pd

    if isinstance(trials, str):
        if trials not in rec.intervals:
            raise MissingTableError(
                f"no interval table named {trials!r} in this Recording (tables: {sorted(rec.intervals)}); "
                "pass one of those names or a DataFrame with start_time and stop_time columns."
            )
        return rec.intervals[trials], trials
    converted = interval_table(trials)
    if converted is not None:
        return converted, None
    if not isinstance(trials, pd.DataFrame):
        raise InvalidParameterError(
            f"trials must be a pandas DataFrame with start_time and stop_time columns, a pynapple IntervalSet, or "
            f"the name of a table in rec.intervals ({sorted(rec.intervals)}), got {type(trials).__name__}."
        )
    return trials, None


def _fmt(seconds: float) -> str:
    """A time with every digit that tells it apart from its neighbours (``39.900000000000006``)."""
    return repr(float(seconds))


def _edge_tolerance(t0: np.ndarray, offset: float) -> np.ndarray:
    """How far a spike on the same clock as ``t0`` may lie from the float edge ``t0 + offset`` and
    still be exactly on it: the rounding of ``t0``, ``offset``, their sum and the spike (each at
    most half an ulp), bounded by 4 ulps of the largest magnitude."""
    return 4.0 * np.finfo(np.float64).eps * (np.abs(t0) + abs(offset) + np.abs(t0 + offset))


def _column(table: pd.DataFrame, name: str, what: str) -> np.ndarray:
    if name not in table.columns:
        raise InvalidParameterError(f"the trial table has no {name!r} column ({what}); columns: {list(table.columns)}.")
    try:
        values = np.asarray(table[name], dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise InvalidDataError(f"trial table column {name!r} is not numeric (seconds): {err}") from err
    if not np.all(np.isfinite(values)):
        bad = np.flatnonzero(~np.isfinite(values))[:5].tolist()
        raise InvalidDataError(f"trial table column {name!r} has NaN or inf (rows {bad}); drop those trials first.")
    return values


def _check_window(window: Any) -> tuple[float, float]:
    try:
        lo, hi = (float(w) for w in window)
    except (TypeError, ValueError) as err:
        raise InvalidParameterError(f"window must be two numbers (start, stop) in seconds, got {window!r}.") from err
    if not (np.isfinite(lo) and np.isfinite(hi)) or hi <= lo:
        raise InvalidParameterError(f"window must be finite with start < stop (seconds), got {window!r}.")
    return lo, hi


def _labels_of(table: pd.DataFrame) -> pd.DataFrame:
    """The trial table's columns, with a named index (NWB ``id``) kept as a column."""
    named = table.index.name is not None and table.index.name not in table.columns
    return table.reset_index(drop=not named)


# ----------------------------------------------------------------- counting
# Units counted into one block before it is copied into the (trials, units) output, so that the
# output is written in contiguous runs rather than one column (a stride of a row) per unit.
_UNIT_BLOCK = 64


def _from_spikes(trains: Sequence[np.ndarray], w0: np.ndarray, w1: np.ndarray) -> np.ndarray:
    """Spikes of each unit in ``[w0, w1)``, exactly, shape ``(windows, units)``.

    The window edges are sorted once (``u``, distinct). A unit's count in a window is the number of
    its spikes below the end minus those below the start; those numbers, for every edge, come from
    one compiled merge of the unit's sorted spikes with the edges
    (:func:`~neurocomplex._window_kernel.edge_positions`: linear in the spikes within the span of
    the windows plus the edges). A Recording's trains are in time order (its construction sorts
    them), so none is checked here. Units go in blocks whose counts are written together.
    """
    from neurocomplex._window_kernel import edge_positions, read_only  # numba: loaded by the first count only

    n_win, n_units = w0.size, len(trains)
    u, inverse = np.unique(np.concatenate([w0, w1]), return_inverse=True)
    ia, ib = inverse[:n_win], inverse[n_win:]
    n = u.size
    # u = start, end, start, end, ... in the windows' own order: slices, not gathers
    interleaved = n == 2 * n_win and bool(np.all(ia == np.arange(0, n, 2))) and bool(np.all(ib == ia + 1))
    u = np.ascontiguousarray(u, dtype=np.float64)
    out = np.empty((n_win, n_units), dtype=np.float64)
    pos = np.empty((min(_UNIT_BLOCK, n_units), n), dtype=np.int64)
    for j0 in range(0, n_units, _UNIT_BLOCK):
        j1 = min(j0 + _UNIT_BLOCK, n_units)
        for j in range(j0, j1):
            edge_positions(read_only(trains[j]), u, pos[j - j0])
        block = pos[: j1 - j0]
        rows = np.subtract(block[:, 1::2], block[:, 0::2]) if interleaved else np.subtract(block[:, ib], block[:, ia])
        out[:, j0:j1] = rows.T
    return out


def _bin_rows(rec: Recording, w0: np.ndarray, w1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and one-past-last bin of each window: the bins whose centre lies in ``[w0, w1)``."""
    centres = np.asarray(rec.times) + 0.5 * float(rec.bin_size)
    return np.searchsorted(centres, w0, side="left"), np.searchsorted(centres, w1, side="left")


def _check_covered(rec: Recording, w0: np.ndarray, w1: np.ndarray, first: np.ndarray, last: np.ndarray) -> None:
    """Every window lies on consecutive bins: none past the ends, none across a gap left by restrict."""
    times, b = np.asarray(rec.times), float(rec.bin_size)
    empty = last <= first
    f, lst = np.minimum(first, times.size - 1), np.maximum(last - 1, 0)
    tol = 1e-6 * b
    bad = empty | (times[f] > w0 + b / 2 + tol) | (times[lst] + 1.5 * b < w1 - tol)
    bad |= np.abs((times[lst] - times[f]) - (lst - f) * b) > tol * (1 + lst - f)  # a gap inside the window
    if np.any(bad):
        i = int(np.flatnonzero(bad)[0])
        what = ("holds no bin centre: use a window longer than one bin" if empty[i] and w1[i] - w0[i] < b else
                "is not covered by consecutive bins of this Recording (it runs past the recorded span "
                f"{_fmt(times[0])}-{_fmt(times[-1] + b)} s or across a gap left by restrict): drop those trials or use the "
                "whole recording")
        raise InvalidParameterError(
            f"{int(bad.sum())} trial windows cannot be counted from the bins (first: trial {i}, window "
            f"{_fmt(w0[i])}-{_fmt(w1[i])} s, bin_size={b:g} s): the window {what}."
        )


def _from_bins(rec: Recording, first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """Sum of the bins ``first:last`` of every window.

    Short windows (fewer summed rows than bins in the Recording) add one gathered row per offset;
    long ones take differences of a cumulative sum, in column blocks of at most ``_BLOCK_BYTES``.
    """
    data = rec.data
    n_win, n_units = first.size, rec.n_units
    width = last - first
    out = np.zeros((n_win, n_units), dtype=np.float64)
    if int(width.sum()) <= data.shape[0]:
        for k in range(int(width.max())):
            live = np.flatnonzero(width > k)
            out[live] += data[first[live] + k]
        return out
    step = max(1, _BLOCK_BYTES // (8 * (data.shape[0] + 1)))
    for start in range(0, n_units, step):
        block = np.asarray(data[:, start:start + step], dtype=np.float64)
        cum = np.zeros((block.shape[0] + 1, block.shape[1]))
        np.cumsum(block, axis=0, out=cum[1:])
        out[:, start:start + step] = cum[last] - cum[first]
    return out


def _average(data: np.ndarray, labels: pd.DataFrame, by: Any, table_cols: Sequence[str],
             time_cols: set[str]) -> tuple[np.ndarray, pd.DataFrame, list[str]]:
    if by is None:
        candidates = [c for c in table_cols if c not in time_cols and c != "id"]
        if len(candidates) != 1:
            raise InvalidParameterError(
                "average=True needs by= (the column or columns that define a condition); the trial table has "
                f"{len(candidates)} candidate columns: {candidates}."
            )
        by = candidates
    if isinstance(by, (list, tuple)):
        keys = list(by)
    elif isinstance(by, str) or not hasattr(by, "__iter__"):
        keys = [by]  # one column name (a DataFrame's columns may be numbers)
    else:
        raise InvalidParameterError(f"by must be a column name or a list of column names, got {type(by).__name__}.")
    try:
        missing = [k for k in keys if k not in labels.columns]
    except TypeError as err:  # an unhashable name, e.g. a list inside the list
        raise InvalidParameterError(f"by={by!r}: column names must be strings or numbers ({err}).") from err
    if missing or not keys:
        raise InvalidParameterError(f"by={by!r}: columns {missing} are not in the trial table ({list(labels.columns)}).")
    if "n_trials" in labels.columns:
        raise InvalidParameterError(
            "the trial table has a column 'n_trials', which average=True adds (the number of trials of each "
            "condition); rename or drop that column first."
        )
    for key in keys:
        bad = [type(v).__name__ for v in labels[key] if not isinstance(v, Hashable)]
        if bad:
            raise InvalidDataError(
                f"by={key!r}: the condition column holds {bad[0]} values ({len(bad)} rows), which cannot label a "
                "condition; convert them to strings or tuples first (e.g. table[col].map(tuple))."
            )
    groups = labels.groupby(keys, sort=True, dropna=False).indices
    conds = list(groups)
    out = np.stack([data[groups[c]].mean(axis=0) for c in conds])
    import pandas as pd

    rows = [c if isinstance(c, tuple) else (c,) for c in conds]
    table = pd.DataFrame(rows, columns=keys)
    # Columns constant within every condition (e.g. the digit of a stimulus index) describe it too.
    first = [groups[c][0] for c in conds]
    for col in labels.columns:
        if col in keys or col in time_cols or col == "id":
            continue
        per_trial = labels[col]
        at_first = per_trial.iloc[np.concatenate([np.full(len(groups[c]), f) for c, f in zip(conds, first, strict=True)])]
        members = per_trial.iloc[np.concatenate([groups[c] for c in conds])]
        try:
            same = np.asarray(members.to_numpy() == at_first.to_numpy(), dtype=bool)
        except (TypeError, ValueError):  # values numpy cannot compare one by one (arrays in cells)
            continue
        same |= members.isna().to_numpy() & at_first.isna().to_numpy()
        if same.shape == (len(members),) and same.all():
            table[col] = per_trial.iloc[first].to_numpy()
    table["n_trials"] = [len(groups[c]) for c in conds]
    return out, table, keys


@register_operation("trial_responses")
def trial_responses(
    rec: Recording,
    trials: Any,
    window: tuple[float, float] = (0.0, 0.5),
    statistic: str = "count",
    average: bool = False,
    align: str = "start_time",
    by: str | Sequence[str] | None = None,
) -> Recording:
    """Stimulus-aligned responses: one row per trial (or per condition), one column per unit.

    Parameters
    ----------
    rec : Recording
        Time-resolved activity: binned from spike times (:meth:`Recording.from_spike_times`,
        ``nc.load`` of an NWB Units table) or any Recording with ``times`` and ``bin_size``.
    trials : pandas.DataFrame, interval set or str
        An interval table with ``start_time`` and ``stop_time`` columns in seconds (one row per
        trial, other columns describing it; ``start``/``end`` are taken too), a pynapple
        ``IntervalSet`` (its metadata columns describe the trials), or the name of a table in
        ``rec.intervals`` (``"trials"``, ``"epochs"``, ``"encoding_table"``, ...).
    window : (float, float)
        Response window ``[t0 + window[0], t0 + window[1])`` in seconds, relative to each trial's
        alignment time ``t0``. It may start before ``t0`` (a baseline) but may not be longer than
        any trial.
    statistic : {"count", "rate", "mean"}
        ``"count"``: spikes in the window. ``"rate"``: spikes per second, count divided by the
        window length (for binned data, by the length of the bins used). ``"mean"``: mean of the
        binned values over the window (any kind, e.g. calcium ``"rates"``). For a ``"rates"``
        Recording (Hz), ``"rate"`` is the mean rate and ``"count"`` the expected count (mean
        rate times the length of the bins used).
    average : bool
        Average the trials of each condition (the groups of ``by``): one row per condition. The
        table may then not have a column ``n_trials`` (the count this adds).
    align : str
        Column of the table holding each trial's alignment time ``t0`` (default ``start_time``;
        e.g. a stimulus onset column).
    by : str or sequence of str, optional
        Columns that define a condition, for ``average=True``. Default: the table's one column
        other than times and ids; an error lists the candidates when there are several.

    Returns
    -------
    Recording
        ``kind="responses"``, ``data`` float64 of shape ``(n_trials, n_units)`` (or
        ``(n_conditions, n_units)``), the units of ``rec``; ``labels`` holds the trial table's
        columns (a named index such as NWB ``id`` becomes a column), or with ``average=True``
        the ``by`` columns, the other columns that are constant within every condition (such as
        the class of a stimulus index) and ``n_trials``, conditions in sorted order. ``times`` and
        ``bin_size`` are None (rows are trials, not time bins). ``metadata`` records the window,
        alignment, statistic, unit (``"spikes"``, ``"Hz"`` or the source's), the table name and
        whether spike times or bins were counted (``response_source``).

    Raises
    ------
    MissingTableError
        ``trials`` names a table that ``rec.intervals`` does not hold (the message lists them).
    InvalidParameterError
        A window longer than a trial (the message names the shortest trial), a window outside the
        recorded span, covering no bin or lying across a gap between bins, a bad ``window``/``statistic``/``align``/``by``, a
        Recording without times, ``"count"``/``"rate"`` on non-spiking data, ``average`` not a
        bool, ``average=True`` on a table that has an ``n_trials`` column.
    InvalidDataError
        Non-numeric or NaN times in the table; a condition column holding lists or other
        unhashable values.

    Notes
    -----
    With spike times (kept by :meth:`Recording.from_spike_times` in ``rec.spike_times``), the
    count of unit ``j`` in trial ``i`` is the number of spikes ``t`` with
    ``t0_i + window[0] <= t < t0_i + window[1]``, exact whatever the bin size. Window edges follow
    the acquisition clock as the bins of :func:`~neurocomplex.binning.bin_spike_times` do: with
    trial times and spikes stamped on one clock (``t = i / rate``), a spike ``k`` ticks after a trial
    start is in the window exactly when integer arithmetic on the ticks says so. The float
    ``t0_i + window[0]`` cannot promise that alone (``t0_i`` and the offset are already rounded,
    so the sum can land an ulp past the spike that lies exactly on the edge: 4-10% of such spikes
    on a 30 kHz clock), so a spike within ``4 * eps * (|t0_i| + |offset| + |edge|)`` (``eps`` the
    float64 machine epsilon; about 2e-10 s an hour into a session) of an edge counts as on it: in
    the window at its start, out of it at its end. Clock ticks are many orders of magnitude wider,
    so no two ticks are confused. Otherwise the
    bins are used: bin ``k`` (``[times[k], times[k] + bin_size)``) belongs to a window when its
    centre ``times[k] + bin_size / 2`` lies in the window, so each window edge is rounded to the
    nearest bin edge (an error of at most half a bin per edge; none when the window is aligned
    with the bins). Every window must lie in the recorded span ``[t_start, t_stop)`` of ``rec``
    and, when bins are counted, on consecutive bins (not across a gap left by ``restrict``), else
    its count would silently miss spikes; such windows raise.

    Computation (spike times): each unit's spikes are merged once with the sorted window edges by
    a compiled kernel (numba: compiled on the first call after an install, about 2 s, and cached
    on disk; the first call of a process loads numba, about 1 s), linear in the spikes within the
    windows' span plus the edges.

    Examples
    --------
    >>> import neurocomplex as nc, pandas as pd
    >>> rec = nc.Recording.from_spike_times([[0.1, 0.2, 1.3, 2.1], [1.1, 2.2]], bin_size=0.1, t_stop=3.0)
    >>> trials = pd.DataFrame({"start_time": [0.0, 1.0, 2.0], "stop_time": [1.0, 2.0, 3.0],
    ...                        "stimulus": ["a", "b", "a"]})
    >>> resp = trial_responses(rec, trials, window=(0.0, 0.5))
    >>> resp.kind, resp.data.tolist()
    ('responses', [[2.0, 0.0], [1.0, 1.0], [1.0, 1.0]])
    >>> trial_responses(rec, trials, window=(0.0, 0.5), statistic="rate", average=True).data.tolist()
    [[3.0, 1.0], [2.0, 2.0]]
    """
    if not isinstance(rec, Recording):
        raise InvalidParameterError(f"rec must be a Recording, got {type(rec).__name__}.")
    if statistic not in STATISTICS:
        raise InvalidParameterError(f"statistic={statistic!r} is not one of {STATISTICS}.")
    if not isinstance(average, (bool, np.bool_)):
        raise InvalidParameterError(f"average must be True or False, got {average!r} ({type(average).__name__}).")
    lo, hi = _check_window(window)
    table, name = _resolve_table(rec, trials)
    if len(table) == 0:
        raise InvalidParameterError(f"the trial table{f' {name!r}' if name else ''} has no rows.")
    start = _column(table, "start_time", "trial starts, seconds")
    stop = _column(table, "stop_time", "trial ends, seconds")
    t0 = _column(table, align, "the alignment time given by align=")
    length = hi - lo
    dur = stop - start
    # A window as long as the trial is fine: stop - start may lose a few ulps of the times.
    short = dur < length - 1e-9 * np.maximum(1.0, np.abs(stop))
    if np.any(short):
        i = int(np.argmin(dur))
        raise InvalidParameterError(
            f"window {window!r} is {length:g} s long, longer than trial {i} "
            f"({_fmt(start[i])}-{_fmt(stop[i])} s, {dur[i]:.17g} s; {int(np.sum(short))} trials are shorter than the "
            "window). Use a window no longer than the shortest trial, or drop the short trials."
        )
    w0, w1 = t0 + lo, t0 + hi
    if rec.times is None or rec.bin_size is None:
        raise InvalidParameterError(
            f"this Recording (kind={rec.kind!r}) has no times, so trial windows cannot be placed on it; "
            "trial_responses needs a time-resolved Recording (nc.load, from_spike_times, from_array with "
            "sampling_rate)."
        )
    unit = rec.metadata.get("unit", "a.u.")
    if rec.spike_times is not None and statistic != "mean":
        # The spikes are exact inside the window they were binned over (from_spike_times' t_start, t_stop).
        span0 = float(rec.metadata.get("t_start", rec.times[0]))
        span1 = float(rec.metadata.get("t_stop", rec.times[-1] + rec.bin_size))
        tol0, tol1 = _edge_tolerance(t0, lo), _edge_tolerance(t0, hi)
        outside = (w0 < span0 - tol0) | (w1 > span1 + tol1)
        if np.any(outside):
            i = int(np.flatnonzero(outside)[0])
            side = "starts before" if w0[i] < span0 - tol0[i] else "ends after"
            raise InvalidParameterError(
                f"{int(outside.sum())} trial windows fall outside the recorded span [{_fmt(span0)}, {_fmt(span1)}) s "
                f"(first: trial {i}, window {_fmt(w0[i])}-{_fmt(w1[i])} s {side} the span); their counts would be "
                "wrong. Load the whole session (or pass t_start/t_stop to nc.load that cover the trials) or drop "
                "those trials."
            )
        # A spike exactly on an edge on the acquisition clock is on it however t0 + offset rounded.
        counts = _from_spikes(rec.spike_times, w0 - tol0, w1 - tol1)
        covered = np.full(w0.size, length)
        source = "spike_times"
        unit = "spikes"
    else:
        first, last = _bin_rows(rec, w0, w1)
        _check_covered(rec, w0, w1, first, last)
        counts = _from_bins(rec, first, last)
        covered = (last - first) * float(rec.bin_size)
        source = "bins"
        if rec.kind in _COUNT_KINDS:
            unit = "spikes"
    if statistic == "mean":
        values = counts / (last - first)[:, None]
        unit = "spikes per bin" if rec.kind in _COUNT_KINDS else unit
    elif rec.kind in _COUNT_KINDS or source == "spike_times":
        values = counts if statistic == "count" else counts / covered[:, None]
        unit = "spikes" if statistic == "count" else "Hz"
    elif rec.kind == "rates":
        mean_rate = counts / (last - first)[:, None]
        values = mean_rate if statistic == "rate" else mean_rate * covered[:, None]
        unit = "Hz" if statistic == "rate" else "spikes"
    else:
        raise InvalidParameterError(
            f"statistic={statistic!r} needs spikes (kind 'spike_counts' or 'binary') or rates; this Recording "
            f"has kind={rec.kind!r}: use statistic='mean'."
        )
    labels = _labels_of(table)
    meta = {
        "trial_window": (lo, hi), "align": align, "statistic": statistic, "unit": unit,
        "trial_table": name, "response_source": source, "source_kind": rec.kind,
        "source_bin_size": rec.bin_size, "n_trials": len(table),
    }
    if average:
        values, labels, meta["averaged_by"] = _average(values, labels, by, list(table.columns),
                                                       {"start_time", "stop_time", align})
    return Recording(
        data=values, kind="responses", unit_ids=rec.unit_ids, groups=rec.groups,
        metadata={**dict(rec.metadata), **meta}, source=rec.source, labels=labels,
    )
