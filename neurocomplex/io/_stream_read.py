"""Reading a planned session window by window, and the statistics of one block.

Split from :mod:`neurocomplex.io.stream` (planning, sizes and the public functions live there):
:func:`windows` yields the binned counts (or series rows) of the windows of consecutive row
ranges, never crossing a range's end, on the session's own bin edges; :class:`BlockAccumulator`
feeds a window's rows to the statistics one block keeps.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from neurocomplex.errors import InvalidDataError
from neurocomplex.stats.covariance import integer_magnitude, small_integers

__all__: list[str] = []

# Windows of spikes fetched per read of a unit (at its mean rate).
_READ_AHEAD = 1.25


class _UnitCursor:
    """Per-unit read positions in ``units/spike_times``, with a read-ahead buffer per unit.

    Each read fetches about ``_READ_AHEAD`` windows of a unit's spikes (at its mean rate), so a
    session costs a few reads per unit per ``_READ_AHEAD`` windows; the buffers hold a few
    windows of spikes, not the session.
    """

    def __init__(self, ds: Any, starts: np.ndarray, stops: np.ndarray, t_from: float, span: float,
                 window: float, path: str, ids: np.ndarray) -> None:
        from neurocomplex.io.nwb import _search

        self.ds, self.stops, self.path, self.ids = ds, stops, path, ids
        # next dataset index to read, per unit
        self.pos = np.array([_search(ds, lo, hi, t_from) for lo, hi in zip(starts.tolist(), stops.tolist())],
                            dtype=np.int64)
        per_window = (stops - starts) * (window / max(span, window))
        self.guess = (_READ_AHEAD * 1.2 * per_window).astype(np.int64) + 64
        self.buffers: list[np.ndarray] = [np.zeros(0)] * int(self.pos.size)

    def _check_sorted(self, i: int, t: np.ndarray, before: float) -> None:
        if t.size and (t[0] < before or np.any(t[1:] < t[:-1])):
            raise InvalidDataError(
                f"{self.path!r}: spike times of unit {self.ids[i]} are not sorted (NWB requires sorted spike "
                "times), so they cannot be read window by window; load the file with nc.load, which reads such "
                "units whole."
            )

    def read_until(self, t_end: float) -> list[np.ndarray]:
        """Each unit's spikes before ``t_end`` not returned yet (the next window's spikes)."""
        trains = []
        for i in range(self.pos.size):
            buf = self.buffers[i]
            while (buf.size == 0 or buf[-1] < t_end) and self.pos[i] < self.stops[i]:
                cur = int(self.pos[i])
                more = np.asarray(self.ds[cur : min(int(self.stops[i]), cur + int(self.guess[i]))], dtype=np.float64)
                self._check_sorted(i, more, buf[-1] if buf.size else -np.inf)
                buf = np.concatenate((buf, more)) if buf.size else more
                self.pos[i] = cur + more.size
            k = int(np.searchsorted(buf, t_end, side="left"))
            trains.append(buf[:k])
            self.buffers[i] = buf[k:]
        return trains


def _open_units(f: Any, plan: Any, row: int) -> _UnitCursor:
    from neurocomplex.binning import _edges, _grid
    from neurocomplex.io.nwb import _unit_slices

    units = f["units"]
    starts, stops = _unit_slices(units)
    grid = _grid(plan.t_start, plan.bin_size)
    t_from = float(_edges(np.array([row]), plan.t_start, plan.bin_size, grid)[0]) if row else plan.t_start
    return _UnitCursor(units["spike_times"], starts, stops, t_from, plan.t_stop - plan.t_start,
                       plan.window_rows * plan.bin_size, plan.path, plan.unit_ids)


def _row_ranges(ranges: Sequence[tuple[int, int]], step: int) -> Iterator[tuple[int, int]]:
    for lo, hi in ranges:
        for row in range(lo, hi, step):
            yield row, min(row + step, hi)


def windows(f: Any, plan: Any, ranges: Sequence[tuple[int, int]]) -> Iterator[tuple[np.ndarray, int]]:
    """Yield ``(counts or rows, n_spikes)`` for the windows of the consecutive row ranges ``ranges``
    (``plan.window_rows`` rows each, the last of a range shorter); ``n_spikes`` is the sum of the
    window's counts (0 for a series)."""
    from neurocomplex.binning import _edges, _grid, bin_spike_times

    if not ranges:
        return
    if plan.source == "units":
        grid = _grid(plan.t_start, plan.bin_size)
        cursor = _open_units(f, plan, ranges[0][0])
        for row, end in _row_ranges(ranges, plan.window_rows):
            t0, t1 = _edges(np.array([row, end]), plan.t_start, plan.bin_size, grid)
            t1 = plan.t_stop if end == plan.n_samples else float(t1)
            trains = cursor.read_until(t1)
            counts = bin_spike_times(trains, plan.bin_size, float(t0), t1)
            if counts.shape[0] != end - row:  # the window grid and the session grid disagree: never silent
                raise InvalidDataError(f"{plan.path!r}: window [{t0}, {t1}) gave {counts.shape[0]} bins, expected "
                                       f"{end - row}; choose t_start on the grid of bin_size.")
            yield counts, sum(t.size for t in trains)
        return
    from neurocomplex.io.nwb import _in_units

    grp = f[plan.source]
    ds = grp["data"]
    row0 = plan.row0
    for row, end in _row_ranges(ranges, plan.window_rows):
        x = np.asarray(ds[row0 + row : row0 + end])
        if x.ndim == 1:
            x = x[:, None]
        if plan.in_units:  # the same operations, order and dtypes as nc.load, window by window
            x = _in_units(grp, ds, x, f"series {plan.source!r} in {plan.path!r}")
        if x.dtype.kind == "f" and not np.all(np.isfinite(x)):
            raise InvalidDataError(f"series {plan.source!r} of {plan.path!r} holds NaN or inf in rows "
                                   f"{row0 + row}..{row0 + end}.")
        yield x, 0


class _Covariance:
    """Covariance statistics of one block. Counts small enough that every partial sum of ``XᵀX``
    is an integer below 2**24 take a float32 product, which is then exact (twice as fast as
    float64); the block's integer Gram matrix and column sums are summed exactly and turned into
    a centred scatter once, at the end of the block."""

    def __init__(self, n_units: int) -> None:
        self.n_units = n_units
        self.acc: Any = None  # a CovarianceAccumulator, for rows that are not small integers
        self.gram = np.zeros((n_units, n_units))
        self.sums = np.zeros(n_units, dtype=np.int64)
        self.n = 0

    def add(self, x: np.ndarray) -> None:
        from neurocomplex.stats import CovarianceAccumulator

        n = x.shape[0]
        if small_integers(x):
            xf = x.astype(np.float32)
            self.gram += xf.T @ xf  # exact integers, summed exactly in float64 (< 2**53)
            self.sums += x.sum(axis=0, dtype=np.int64)
            self.n += n
        else:
            if self.acc is None:
                self.acc = CovarianceAccumulator(self.n_units)
            self.acc.update(x)

    def add_exact(self, xf: np.ndarray, sums: np.ndarray) -> None:
        """Rows of integers already in float32, with every partial sum of ``XᵀX`` below 2**24, and
        their column sums."""
        self.gram += xf.T @ xf
        self.sums += sums
        self.n += xf.shape[0]

    def result(self) -> Any:
        from neurocomplex.stats import CovarianceAccumulator

        if self.n == 0:
            return self.acc if self.acc is not None else CovarianceAccumulator(self.n_units)
        mean = self.sums / self.n
        part = CovarianceAccumulator.from_dict({"n_units": mean.size, "n_samples": self.n, "mean": mean,
                                                "scatter": self.gram - np.outer(self.sums, mean)})
        return part if self.acc is None or self.acc.n_samples == 0 else self.acc.merge(part)


def _row_statistics(values: np.ndarray, bits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's number of active units and its sum (integers: exact, the mean is sum / k) or mean
    (floats, as nc.mean_rate takes it)."""
    sums = (values.sum(axis=1, dtype=np.int64) if values.dtype.kind in "biu"
            else values.mean(axis=1, dtype=np.float64))
    return bits.sum(axis=1, dtype=np.int32), sums


def keyed_words(n_units: int) -> Any:
    """A WordCounts whose words carry one more 64-bit code, the index of the sub-block of consecutive
    samples they fall in (the last code, so that sorted rows are grouped by sub-block)."""
    from neurocomplex.stats import WordCounts

    return WordCounts(64 * (-(-n_units // 64) + 1))


class BlockAccumulator:
    """The statistics of one block, fed chunk by chunk with the rows' index in the session.

    ``covariance``: one accumulator over all units; ``activity``: per unit; ``words``: one
    WordCounts per group; ``samples``: per group and row, the number of active units and the sum
    (integers) or mean (floats) of the values, as the in-memory activation ratio and mean rate
    resample them; ``word_blocks``: per group and sub-block length ``m``, words keyed by the
    sub-block ``row // m`` they fall in (:func:`keyed_words`).
    """

    def __init__(self, n_units: int, groups: Mapping[str, np.ndarray], kinds: Sequence[str], threshold: float,
                 word_blocks: Sequence[int] = ()) -> None:
        from neurocomplex.stats import ActivityAccumulator, WordCounts

        self.n_units, self.groups, self.threshold = n_units, groups, threshold
        self.cov = _Covariance(n_units) if "covariance" in kinds else None
        self.act = ActivityAccumulator(n_units, threshold) if "activity" in kinds else None
        self.words = {g: WordCounts(idx.size) for g, idx in groups.items()} if "words" in kinds else {}
        self.keyed = ({(g, int(m)): keyed_words(idx.size) for g, idx in groups.items() for m in word_blocks}
                      if "words" in kinds else {})
        self.samples: dict[str, tuple[list[np.ndarray], list[np.ndarray]]] = (
            {g: ([], []) for g in groups} if "samples" in kinds else {})

    def _sub(self, a: np.ndarray, idx: np.ndarray) -> np.ndarray:
        return a if idx.size == self.n_units else a[:, idx]

    def add(self, x: np.ndarray, row: int) -> None:
        """Rows ``x`` of the session starting at its row ``row``."""
        from neurocomplex.stats.words import pack_words

        if self.cov is not None:
            self.cov.add(x)
        if self.act is not None:
            self.act.update(x)
        if not (self.words or self.samples):
            return
        active = x > self.threshold
        for g, idx in self.groups.items():
            bits = self._sub(active, idx)
            if self.words:
                self.words[g].update(bits)
            for (name, m), keyed in self.keyed.items():
                if name == g:
                    sub = (np.arange(row, row + x.shape[0], dtype=np.int64) // m).astype(np.uint64)
                    keyed.update_packed(np.hstack([pack_words(np.ascontiguousarray(bits)), sub[:, None]]))
            if self.samples:
                on, sums = self.samples[g]
                on_row, row_sums = _row_statistics(self._sub(x, idx), bits)
                on.append(on_row)
                sums.append(row_sums)

    def result(self) -> tuple[Any, Any, dict[str, Any], dict[tuple[str, int], Any], dict[str, tuple[np.ndarray, ...]]]:
        samples = {g: (np.concatenate(on) if on else np.zeros(0, np.int32),
                       np.concatenate(sums) if sums else np.zeros(0))
                   for g, (on, sums) in self.samples.items()}
        return (None if self.cov is None else self.cov.result(), self.act, self.words, self.keyed, samples)


def _segment_words(codes: np.ndarray, starts: np.ndarray, stops: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Distinct codes (sorted) and their counts in each row range ``[starts[j], stops[j])`` of 1-D codes.

    Codes of up to 32 bits are keyed by their range (the high 32 bits) and sorted once; wider codes
    are counted range by range.
    """
    from neurocomplex.stats.words import _unique_codes

    if codes.dtype.itemsize > 4:
        return [_unique_codes(codes[a:b], None, False)[:2] for a, b in zip(starts.tolist(), stops.tolist())]
    seg = np.repeat(np.arange(starts.size, dtype=np.uint64), stops - starts)
    distinct, counts, _ = _unique_codes((seg << np.uint64(32)) | codes[starts[0] : stops[-1]].astype(np.uint64),
                                        None, False)
    cut = np.searchsorted(distinct >> np.uint64(32), np.arange(starts.size + 1, dtype=np.uint64))
    low = (distinct & np.uint64(0xFFFFFFFF)).astype(codes.dtype)
    return [(low[a:b], counts[a:b]) for a, b in zip(cut[:-1].tolist(), cut[1:].tolist())]


def feed_segments(accs: Sequence[BlockAccumulator], x: np.ndarray, row: int, offsets: Sequence[int]) -> None:
    """Rows ``x`` of the session (its row ``row`` first) cut at ``offsets`` (``len(accs) + 1``
    increasing positions in ``x``, from 0 to ``len(x)``): rows ``offsets[j]:offsets[j + 1]`` go to
    ``accs[j]``, as ``accs[j].add`` would take them, with one pass over ``x`` per statistic instead of
    one per range (short blocks: the per-call costs dominated).
    """
    from neurocomplex.stats.words import _row_codes

    acc0 = accs[0]
    cuts = np.asarray(offsets, dtype=np.int64)
    starts, stops = cuts[:-1], cuts[1:]
    if acc0.keyed or np.any(stops == starts) or x.dtype.kind not in "biuf":
        for j, acc in enumerate(accs):
            acc.add(x[starts[j] : stops[j]], row + int(starts[j]))
        return
    lengths = stops - starts
    active = x > acc0.threshold if acc0.act is not None or acc0.words or acc0.samples else None
    top = integer_magnitude(x) if x.dtype.kind in "biu" else None
    # integers whose partial sums stay exact: column sums and sums of squares in int64, and the
    # Gram matrices from one float32 copy (exact below 2**24, as _Covariance.add takes them)
    exact = top is not None and top**2 * int(lengths.max()) ** 2 < 2**62
    sums = np.add.reduceat(x, starts, axis=0, dtype=np.int64) if exact else None
    if acc0.cov is not None:
        xf = x.astype(np.float32) if exact and top**2 * int(lengths.max()) < 2**24 else None
        for j, acc in enumerate(accs):
            if xf is None:
                acc.cov.add(x[starts[j] : stops[j]])
            else:
                acc.cov.add_exact(xf[starts[j] : stops[j]], sums[j])
    if acc0.act is not None:  # ActivityAccumulator.update of each range, in one pass
        if exact:  # m2 = (n Σx² − (Σx)²) / n, the numerator an exact integer
            squares = np.add.reduceat(np.square(x, dtype=np.int64), starts, axis=0)
            means = sums / lengths[:, None]
            m2 = (squares * lengths[:, None] - sums * sums) / lengths[:, None]
        else:
            means = np.add.reduceat(x, starts, axis=0, dtype=np.float64) / lengths[:, None]
            dev = x - np.repeat(means, lengths, axis=0)
            m2 = np.add.reduceat(dev * dev, starts, axis=0)
        on = np.add.reduceat(active, starts, axis=0, dtype=np.int64)
        for j, acc in enumerate(accs):
            acc.act._combine(int(lengths[j]), on[j], means[j], m2[j])
    if not (acc0.words or acc0.samples):
        return
    for g, idx in acc0.groups.items():
        bits = acc0._sub(active, idx)
        if acc0.words:
            if idx.size <= 64:
                for acc, (w, c) in zip(accs, _segment_words(_row_codes(bits), starts, stops)):
                    acc.words[g]._absorb(w.astype(np.uint64)[:, None], c)
            else:
                for j, acc in enumerate(accs):
                    acc.words[g].update(bits[starts[j] : stops[j]])
        if acc0.samples:
            on_row, row_sums = _row_statistics(acc0._sub(x, idx), bits)
            for j, acc in enumerate(accs):
                acc.samples[g][0].append(on_row[starts[j] : stops[j]])
                acc.samples[g][1].append(row_sums[starts[j] : stops[j]])
