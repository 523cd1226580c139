"""Spike times to counts on an exact grid of bins, at any session length.

Bin ``k`` is ``[edge_k, edge_(k+1))`` with ``edge_k`` the float nearest the exact value
``t_start + k * bin_size`` (``bin_size`` read as the decimal it prints as: ``0.001`` is one
millisecond), so spikes stamped on an acquisition clock fall in the bin that integer arithmetic on
that clock gives, however far into the session. :func:`bin_spike_times` is the vectorized counter
used by :meth:`neurocomplex.Recording.from_spike_times`, the NWB loader and the streaming reader.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from neurocomplex.errors import InvalidDataError, InvalidParameterError

__all__ = ["bin_spike_times"]


# A counts matrix larger than this fraction of the machine's memory is refused before allocation.
_MAX_FRACTION_OF_RAM = 0.8
# Above this fraction of spikes sharing a bin with the previous one, counts are run-length encoded
# instead of written as ones and incremented where bins repeat.
_REPEAT_FRACTION = 0.125
# Units are binned in groups of at most this many spikes: their flat indices (int32, 16 MB) are
# sorted together so that the output is written in memory order, once per group.
_GROUP_SPIKES = 1 << 22
# ... when the output has more than this many cells per spike (below, each unit is written alone).
_SPARSE_CELLS_PER_SPIKE = 8

def _grid(t_start: float, bin_size: float) -> tuple[int, int, int] | None:
    """Integers ``(a, p, q)`` with edge ``k`` = ``(a + k * p) / q`` exactly, or None.

    ``bin_size`` is taken as the decimal number it prints as (``0.001`` is 1/1000, not the binary
    float just above it); ``t_start`` as a whole number of bins when it is the float of one (a
    grid start), else as the decimal it prints as. None when the integers are too large for
    float64 arithmetic to stay exact.
    """
    from fractions import Fraction
    from math import lcm

    b = Fraction(repr(float(bin_size)))
    ratio = t_start / bin_size
    if not np.isfinite(ratio) or abs(ratio) >= 2**53:
        return None
    m = round(ratio)
    s = m * b if float(m * b) == t_start else Fraction(repr(float(t_start)))
    q = lcm(s.denominator, b.denominator)  # Python ints: a decimal t_start can have a huge denominator
    a, p = int(s * q), int(b * q)
    if q >= 2**53 or p >= 2**53 or abs(a) >= 2**53:
        return None
    return a, p, q


def _edges(k: np.ndarray, t_start: float, bin_size: float, grid: tuple[int, int, int] | None) -> np.ndarray:
    """Bin edges ``t_start + k * bin_size`` as the float nearest the exact value (see _grid)."""
    k = np.asarray(k, dtype=np.int64)
    edges = k.astype(np.float64)  # one buffer, worked on in place
    if grid is not None:
        top = abs(grid[0]) + grid[1] * max(abs(int(k.max(initial=0))), abs(int(k.min(initial=0))))
        if top < 2**53:
            return _on_grid(edges, grid)
    edges *= bin_size  # beyond 2**53: within an ulp of the exact edge
    edges += t_start
    return edges


def _bin_starts(n_bins: int, t_start: float, bin_size: float, grid: tuple[int, int, int] | None) -> np.ndarray:
    """``_edges(np.arange(n_bins), ...)`` without the integer array: the start of every bin."""
    if grid is not None and abs(grid[0]) + grid[1] * max(n_bins - 1, 0) < 2**53:
        return _on_grid(np.arange(n_bins, dtype=np.float64), grid)
    return _edges(np.arange(n_bins), t_start, bin_size, grid)


def _on_grid(k: np.ndarray, grid: tuple[int, int, int]) -> np.ndarray:
    """``(a + k p) / q`` in place on float64 ``k``: below 2**53 the numerator and q are exact, so the
    one division rounds once (the float nearest the exact edge)."""
    a, p, q = grid
    if p != 1:
        k *= p
    if a:
        k += a
    k /= q
    return k


def _bin_index(t: np.ndarray, t_start: float, bin_size: float, grid: tuple[int, int, int] | None,
               in_order: bool = False) -> np.ndarray:
    """Index ``k`` with ``edge_k <= t < edge_(k+1)`` for every time, by exact comparison with the edges
    (``in_order``: the times are sorted, so their extremes are the ends)."""
    pos = np.subtract(t, t_start)
    pos /= bin_size
    k_float = np.floor(pos)
    pos -= k_float  # exact: the position inside the bin, in [0, 1)
    # The float quotient is within a few ulps of the exact one (rounding of t - t_start, of the
    # division, and of bin_size vs its decimal value), so only spikes that close to an edge can be
    # in another bin than floor() says; those are decided by comparing with the exact edges.
    if not t.size:
        span = 0.0
    elif in_order:
        span = (max(abs(float(t[0])), abs(float(t[-1]))) + abs(t_start)) / bin_size
    else:
        span = (max(abs(float(t.min())), abs(float(t.max()))) + abs(t_start)) / bin_size
    eps = 1e-12 + 8 * 2.0**-52 * span
    pos -= 0.5
    np.abs(pos, out=pos)  # distance from the middle of the bin: near an edge when close to 1/2
    todo = np.flatnonzero(pos > 0.5 - eps)
    k = k_float.astype(np.int64)
    for _ in range(4):  # the float guess is off by at most one bin; recheck only what moved
        kk, tt = k[todo], t[todo]
        low = tt < _edges(kk, t_start, bin_size, grid)
        high = tt >= _edges(kk + 1, t_start, bin_size, grid)
        moved = low | high
        if not moved.any():
            break
        todo = todo[moved]
        k[todo] += high[moved].astype(np.int64) - low[moved]
    return k


def _n_bins(t_start: float, t_stop: float, bin_size: float, grid: tuple[int, int, int] | None) -> int:
    """Smallest ``n`` with ``edge_n >= t_stop``: the number of bins of the window."""
    n = max(int(np.ceil((t_stop - t_start) / bin_size)), 1)
    for _ in range(4):
        e = _edges(np.array([n - 1, n]), t_start, bin_size, grid)
        if n > 1 and e[0] >= t_stop:
            n -= 1
        elif e[1] < t_stop:
            n += 1
        else:
            break
    return n


def _format_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    return f"{n:.1f} PiB"  # pragma: no cover


def _check_size(n_bins: int, n_units: int, bin_size: float, t_start: float, t_stop: float) -> None:
    """Refuse a counts matrix larger than this machine's memory before allocating it."""
    import os

    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        ram = 2**40
    need = n_bins * n_units  # at least one byte per cell
    if need > _MAX_FRACTION_OF_RAM * ram:
        raise InvalidParameterError(
            f"binning [{t_start:g}, {t_stop:g}) s at bin_size={bin_size!r} gives {n_bins:,} bins x {n_units} units, "
            f"a counts matrix of at least {_format_bytes(need)}, more than this machine's memory "
            f"({_format_bytes(ram)}). Use a larger bin_size (seconds, e.g. 0.001 for 1 ms) or a shorter window "
            "(t_start/t_stop)."
        )


def _grid_start(first: float, bin_size: float) -> float:
    """Start of the bin, on the grid of multiples of ``bin_size`` (exact edges), holding time ``first``.

    Examples
    --------
    >>> _grid_start(-0.25, 0.1), _grid_start(0.3, 0.1)
    (-0.3, 0.3)
    """
    grid = _grid(0.0, bin_size)
    k = _bin_index(np.array([float(first)]), 0.0, bin_size, grid)
    return float(_edges(k, 0.0, bin_size, grid)[0])


def _check_trains_container(spike_times: Any) -> Any:
    """Spike times must be a sequence of per-unit arrays, not a number, None, text or one flat train."""
    what = type(spike_times).__name__
    hint = ("give one array of spike times (seconds) per unit, e.g. [times_unit0, times_unit1], "
            "or a dict unit id -> times")
    if spike_times is None or isinstance(spike_times, (str, bytes, int, float, np.number)) or not hasattr(
        spike_times, "__iter__"
    ):
        raise InvalidDataError(f"spike_times must be a sequence of arrays, one per unit, got {what} "
                               f"{spike_times!r:.60}; {hint}.")
    if isinstance(spike_times, np.ndarray):
        if spike_times.ndim == 1 and spike_times.dtype.kind in "biuf" and spike_times.size:
            raise InvalidDataError(f"spike_times is one flat array of {spike_times.size} numbers, not one array "
                                   f"per unit; for a single unit pass [times]. {hint}.")
        return spike_times
    items = list(spike_times)
    if len(items) and all(isinstance(x, (int, float, np.number)) and not isinstance(x, bool) for x in items):
        raise InvalidDataError(f"spike_times is one flat list of {len(items)} numbers, not one array per unit; "
                               f"for a single unit pass [times]. {hint}.")
    return items


def bin_spike_times(
    spike_times: Sequence[np.ndarray],
    bin_size: float,
    t_start: float,
    t_stop: float,
    dtype: np.dtype | None = None,
) -> np.ndarray:
    """Count spikes of each unit in bins ``[t_start + k*bin_size, t_start + (k+1)*bin_size)``.

    Parameters
    ----------
    spike_times : sequence of 1-D arrays
        Spike times in seconds (finite), one array per unit (need not be sorted).
    bin_size : float
        Bin width in seconds, > 0.
    t_start, t_stop : float
        Window ``[t_start, t_stop)``; spikes outside it are not counted.
    dtype : numpy dtype, optional
        Output dtype; by default the smallest unsigned integer that holds the largest count.

    Returns
    -------
    numpy.ndarray
        Counts, shape ``(n_bins, n_units)`` with ``n_bins = ceil((t_stop - t_start) / bin_size)``
        (the smallest ``n`` whose edge ``n`` is at or after ``t_stop``). The last bin is cut at
        ``t_stop`` when the window is not a multiple of ``bin_size``.

    Raises
    ------
    InvalidParameterError
        The counts matrix would not fit in this machine's memory (the message says how large it
        would be); checked before anything is allocated.

    Notes
    -----
    Exact at any session length: edge ``k`` is the float nearest the exact number
    ``t_start + k * bin_size``, with ``bin_size`` read as the decimal it prints as (``0.001`` is
    one millisecond, not the binary float above it) and ``t_start`` as a whole number of bins
    when it is one. A spike at time ``t`` is in bin ``k`` iff ``edge_k <= t < edge_(k+1)``,
    decided by comparing ``t`` with both edges (the float guess ``floor((t - t_start) /
    bin_size)`` is corrected by one bin where the comparison says so). Spikes stamped on an
    acquisition clock, ``t = i / rate``, are thus binned as integer arithmetic on that clock
    bins them, whatever the session length. Edges are computed as ``(a + k p) / q`` with
    integers ``a, p, q``; when ``a + k p`` exceeds ``2**53`` they fall back to
    ``t_start + k * bin_size`` in float (within one ulp of the exact edge).

    Vectorized: a few passes per unit (no Python loop over spikes). A train in time order (checked
    in one pass; a train out of order is sorted first) is cut to the window by two binary searches.
    Where the output is sparse (more than 8 cells per spike), the flat output indices of a group of
    units (at most 4 M spikes, int32) are sorted together and written in memory order; otherwise
    unit by unit. Each bin holding a spike gets a one and one more for each repeat of the bin (or,
    when more than an eighth of the spikes repeat a bin, the run-length counts). Memory is the
    output matrix plus about 16 MB of indices. The output widens from uint8 only when a count
    needs it.

    Examples
    --------
    >>> bin_spike_times([np.array([0.0, 0.05, 0.1]), np.array([0.15])], 0.1, 0.0, 0.2)
    array([[2, 0],
           [1, 1]], dtype=uint8)
    >>> bin_spike_times([np.array([0.3])], 0.1, 0.0, 0.4).ravel()  # 0.3 / 0.1 = 2.9999999999999996
    array([0, 0, 0, 1], dtype=uint8)
    """
    return _bin_trains(spike_times, bin_size, t_start, t_stop, dtype)[0]


def _bin_trains(
    spike_times: Sequence[Any], bin_size: float, t_start: float, t_stop: float, dtype: np.dtype | None = None,
) -> tuple[np.ndarray, list[np.ndarray]]:
    """:func:`bin_spike_times`, and each unit's spike times in time order (the array given when it was
    sorted, else a sorted copy of it)."""
    n_units = len(spike_times)
    t_start, t_stop, bin_size = float(t_start), float(t_stop), float(bin_size)
    grid = _grid(t_start, bin_size)
    n_bins = _n_bins(t_start, t_stop, bin_size, grid)
    _check_size(n_bins, n_units, bin_size, t_start, t_stop)
    window = np.array([t_start, t_stop])
    ordered, cuts = [], []
    flag = np.empty(0, dtype=bool)
    for times in spike_times:  # loop over units only, never over spikes
        t = np.asarray(times, dtype=np.float64)
        if t.size > flag.size:
            flag = np.empty(t.size, dtype=bool)
        if t.size > 1 and np.less(t[1:], t[:-1], out=flag[:t.size - 1]).any():
            t = np.sort(t)
        ordered.append(t)
        lo, hi = np.searchsorted(t, window, side="left")  # [t_start, t_stop)
        cuts.append((int(lo), int(max(lo, hi))))
    # The output starts as uint8 (or the dtype asked for) and widens only when a count needs it.
    out = np.zeros((n_bins, n_units), dtype=np.uint8 if dtype is None else dtype)
    index_type = np.int32 if n_bins * n_units < 2**31 else np.int64
    # Sparse output (few spikes per cell): a unit's spikes each land on their own cache line, so the
    # units of a group are sorted together and written in memory order. Dense output: unit by unit
    # (each unit's indices are already in order; sorting more would cost more than it saves).
    n_spikes = sum(hi - lo for lo, hi in cuts)
    budget = _GROUP_SPIKES if n_spikes * _SPARSE_CELLS_PER_SPIKE < n_bins * n_units else 0
    unit = 0
    while unit < n_units:  # groups of units of at most `budget` spikes (at least one unit)
        stop, size = unit + 1, cuts[unit][1] - cuts[unit][0]
        while stop < n_units and size + cuts[stop][1] - cuts[stop][0] <= budget:
            size += cuts[stop][1] - cuts[stop][0]
            stop += 1
        flat = np.empty(size, dtype=index_type)
        pos = 0
        for u in range(unit, stop):
            lo, hi = cuts[u]
            if hi > lo:
                idx = _bin_index(ordered[u][lo:hi], t_start, bin_size, grid, in_order=True)
                np.clip(idx, 0, n_bins - 1, out=idx)  # t < t_stop <= edge_n already; clip guards the fallback
                idx *= n_units
                idx += u
                flat[pos : pos + idx.size] = idx
                pos += idx.size
        out = _add_counts(out, flat, n_units, dtype, presorted=stop == unit + 1)
        unit = stop
    return out, ordered


def _add_counts(out: np.ndarray, flat: np.ndarray, n_units: int, dtype: np.dtype | None,
                presorted: bool = False) -> np.ndarray:
    """Write the counts of the flat indices ``flat`` (repeats allowed) into ``out``, whose cells they
    address are still 0 (each group of units has its own columns); widen ``out`` if a count needs it.

    The indices are sorted first (in place), so the scatter walks the output once in memory order,
    instead of once per unit with one cache line per spike (``presorted``: one unit's indices,
    already in order)."""
    if flat.size == 0:
        return out
    if not presorted:
        flat.sort()
    repeat = np.flatnonzero(flat[1:] == flat[:-1])  # spikes in the bin of the spike before them
    few = repeat.size <= _REPEAT_FRACTION * flat.size
    starts = counts = None
    if few:  # ones, then one more for each repeat: the largest count is 1 + the longest run of repeats
        top = 1 + (int(np.diff(np.flatnonzero(np.diff(repeat, prepend=-2, append=-2) != 1)).max())
                   if repeat.size else 0)
    else:
        starts = np.flatnonzero(np.diff(flat, prepend=-1))  # first spike of each run of one bin
        counts = np.diff(np.append(starts, flat.size))
        top = int(counts.max())
    if out.dtype.kind in "iu" and top > np.iinfo(out.dtype).max:
        if dtype is not None:
            if starts is None:
                starts = np.flatnonzero(np.diff(flat, prepend=-1))
            where = int(flat[starts[int(np.argmax(np.diff(np.append(starts, flat.size))))]])
            raise InvalidParameterError(f"dtype={np.dtype(dtype).name} cannot hold a count of {top} "
                                        f"(unit {where % n_units}).")
        out = out.astype(np.min_scalar_type(top))
    target = out.reshape(-1)
    if few:
        target[flat] = 1
        if repeat.size:
            np.add.at(target, flat[repeat + 1], 1)
    else:
        target[flat[starts]] = counts
    return out
