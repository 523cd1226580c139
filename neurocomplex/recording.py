"""The Recording: one immutable matrix of population activity (samples x units).

A Recording is the only data object of neurocomplex. Rows are samples (time
bins of a recording, or inputs presented to a network); columns are units
(neurons, ROIs, artificial units). Every estimator takes a Recording.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

from neurocomplex._fields import check_sample_labels, check_spike_times
from neurocomplex.binning import (
    _bin_index,
    _bin_starts,
    _bin_trains,
    _check_trains_container,
    _edges,
    _grid,
    _grid_start,
    bin_spike_times,
)
from neurocomplex.errors import InsufficientDataError, InvalidDataError, InvalidParameterError, NeurocomplexError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["Recording", "KINDS", "bin_spike_times", "register_operation", "interval_table"]

KINDS = ("spike_counts", "rates", "activations", "binary", "responses")

# Rows checked at a time for NaN/inf, so validation never allocates a full boolean copy.
_CHECK_CHUNK = 1 << 16


# Methods of a Recording whose work lives above this module (trial alignment in trials.py, the
# NWB writer in io/): those modules register them when imported, and ``neurocomplex/__init__``
# imports both, so a Recording offers them while recording.py imports neither.
_OPERATIONS: dict[str, Callable[..., Any]] = {}


def register_operation(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: ``func(rec, *args, **kwargs)`` becomes the work behind the method ``Recording.<name>``."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        _OPERATIONS[name] = func
        return func

    return decorate


def _operation(name: str) -> Callable[..., Any]:
    try:
        return _OPERATIONS[name]
    except KeyError as err:  # only when neurocomplex/__init__ was bypassed
        raise NeurocomplexError(f"Recording.{name} is provided by a module that is not loaded: "
                                "import neurocomplex (the package) first.") from err


def _readonly(a: np.ndarray) -> np.ndarray:
    view = a.view()
    view.flags.writeable = False
    return view


def _check_finite(data: np.ndarray, where: str) -> None:
    if data.dtype.kind in "biu":
        return
    for start in range(0, data.shape[0], _CHECK_CHUNK):
        block = data[start : start + _CHECK_CHUNK]
        finite = np.isfinite(block)
        if not finite.all():
            row, col = np.argwhere(~finite)[0]
            bad = "NaN" if np.isnan(block[row, col]) else "inf"
            raise InvalidDataError(
                f"{where}: data contain {bad} (first at sample {start + row}, unit column {col}). "
                "neurocomplex never imputes values: drop or fill them explicitly first "
                "(e.g. rec.select(...) or np.nan_to_num on your array)."
            )


def _as_labels(values: Any, n: int, name: str, default: Sequence[Any] | None) -> np.ndarray:
    if values is None:
        if default is None:
            raise InvalidParameterError(f"{name} is required")
        values = default
    arr = np.asarray(values)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise InvalidParameterError(
            f"{name} has {arr.size} entries (shape {arr.shape}) but the data have {n} units: "
            f"give exactly one {name[:-1]} per unit (column)."
        )
    if arr.dtype.kind == "O":
        arr = arr.astype(str)
    return _readonly(arr)


def interval_table(obj: Any) -> pd.DataFrame | None:
    """``obj`` as a DataFrame with ``start_time`` and ``stop_time`` columns, or None if it is no interval table.

    Takes a DataFrame with ``start_time``/``stop_time`` (NWB's names, returned as is), a DataFrame
    with ``start``/``end`` (pynapple's ``IntervalSet.as_dataframe()``), or an interval set: an
    object with ``start`` and ``end`` arrays and an ``as_dataframe()`` method, such as pynapple's
    ``IntervalSet`` (its metadata columns are kept).
    """
    if hasattr(obj, "as_dataframe") and hasattr(obj, "start") and hasattr(obj, "end"):
        if isinstance(getattr(obj, "metadata_columns", None), (list, tuple)) and not obj.metadata_columns:
            # no metadata: the two columns directly (as_dataframe's concatenation costs about 1 ms)
            import pandas as pd

            return pd.DataFrame({"start_time": np.asarray(obj.start, dtype=np.float64),
                                 "stop_time": np.asarray(obj.end, dtype=np.float64)})
        obj = obj.as_dataframe()
    columns = getattr(obj, "columns", None)
    if columns is None or not hasattr(obj, "rename"):
        return None
    if "start_time" in columns and "stop_time" in columns:
        return obj
    if "start" in columns and "end" in columns and "start_time" not in columns and "stop_time" not in columns:
        return obj.rename(columns={"start": "start_time", "end": "stop_time"})
    return None


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Recording:
    """Population activity: a read-only matrix of shape ``(n_samples, n_units)``.

    Build one with :meth:`from_spike_times`, :meth:`from_array` or :func:`neurocomplex.load`
    rather than calling the constructor directly.

    Attributes
    ----------
    data : numpy.ndarray
        Read-only array ``(n_samples, n_units)``; rows are time bins or inputs, columns units.
    kind : str
        One of ``"spike_counts"``, ``"rates"``, ``"activations"``, ``"binary"``, ``"responses"``
        (one row per trial or condition, from :meth:`trial_responses`).
    unit_ids : numpy.ndarray
        One unique id per unit (NWB unit ids, neuron names, layer unit indices).
    groups : numpy.ndarray of str
        One label per unit: brain area, electrode location or network layer (``"all"`` by default).
    bin_size : float or None
        Seconds per sample for time series; None for samples that are not time bins.
    times : numpy.ndarray or None
        Start time in seconds of each sample (bins are ``[times[i], times[i] + bin_size)``).
    intervals : mapping of str to pandas.DataFrame
        Interval tables from the source (NWB trials, epochs, ...), each with ``start_time`` and
        ``stop_time`` columns in seconds, for use with :meth:`restrict`. Interval sets given here
        (pynapple ``IntervalSet``, or a DataFrame with ``start``/``end``) are stored as such tables.
    metadata : mapping
        Free-form provenance (loader options, layer module types, ...).
    source : str or None
        Where the data came from (a file path, ``"array"``, ``"torch:<layer>"``).
    labels : pandas.DataFrame or None
        One row per sample: what each sample is (trial number, stimulus, condition), e.g. the
        trial table's columns in a ``"responses"`` Recording. Kept through ``select``,
        ``restrict``, ``subsample`` and ``binarize`` (rows follow the samples).
    spike_times : tuple of numpy.ndarray or None
        The spike times (seconds, one read-only array per unit) the counts were binned from, set
        by :meth:`from_spike_times` so that :meth:`trial_responses` counts spikes exactly instead
        of rebinning. Kept by ``select``/``by_group`` (columns follow the units); dropped by
        operations on samples (``restrict``, ``subsample``, ``binarize``), after which the bins
        are used.
    """

    data: np.ndarray
    kind: str
    unit_ids: np.ndarray
    groups: np.ndarray
    bin_size: float | None = None
    times: np.ndarray | None = None
    intervals: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    metadata: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    source: str | None = None
    labels: Any = None
    spike_times: tuple[np.ndarray, ...] | None = None

    # ----------------------------------------------------------------- validation
    def __post_init__(self) -> None:
        where = f"Recording from {self.source}" if self.source else "Recording"
        data = self.data
        if not isinstance(data, np.ndarray):
            data = np.asarray(data)
        if data.ndim != 2:
            raise InvalidDataError(
                f"{where}: data must be 2-D (n_samples, n_units), got shape {data.shape}. "
                "For a single unit use X[:, None]; for conv feature maps flatten them first."
            )
        if data.dtype == np.bool_:
            data = data.view(np.uint8)
        if data.dtype.kind not in "biuf":
            raise InvalidDataError(f"{where}: data must be numeric, got dtype {data.dtype}.")
        if data.shape[0] < 1 or data.shape[1] < 1:
            raise InsufficientDataError(
                f"{where}: data have shape {data.shape}; at least one sample and one unit are needed."
            )
        if self.kind not in KINDS:
            raise InvalidParameterError(f"kind={self.kind!r} is not one of {KINDS}.")
        _check_finite(data, where)
        if self.kind in ("spike_counts", "binary"):
            if data.dtype.kind == "f" and np.any(data != np.floor(data)):
                raise InvalidDataError(f"{where}: kind={self.kind!r} needs integer values.")
            if data.dtype.kind in "if" and data.min() < 0:
                raise InvalidDataError(f"{where}: kind={self.kind!r} cannot hold negative values.")
        if self.kind == "binary" and data.max() > 1:
            raise InvalidDataError(f"{where}: kind='binary' holds only 0 and 1.")
        n_samples, n_units = data.shape
        unit_ids = _as_labels(self.unit_ids, n_units, "unit_ids", np.arange(n_units))
        if np.unique(unit_ids).size != n_units:
            values, counts = np.unique(unit_ids, return_counts=True)
            raise InvalidParameterError(
                f"{where}: unit_ids must be unique; repeated: {values[counts > 1][:5].tolist()}."
            )
        groups = _as_labels(self.groups, n_units, "groups", ["all"] * n_units).astype(str)
        bin_size = self.bin_size
        if bin_size is not None:
            bin_size = float(bin_size)
            if not np.isfinite(bin_size) or bin_size <= 0:
                raise InvalidParameterError(f"bin_size must be a positive number of seconds, got {self.bin_size!r}.")
        times = self.times
        if times is not None:
            times = np.asarray(times, dtype=np.float64)
            if times.shape != (n_samples,):
                raise InvalidParameterError(
                    f"{where}: times has shape {times.shape}, expected ({n_samples},) (one per sample)."
                )
            if not np.all(np.isfinite(times)) or np.any(times[1:] <= times[:-1]):  # no float diff copy
                raise InvalidDataError(f"{where}: times must be finite and strictly increasing.")
            times = _readonly(times)
        set_ = object.__setattr__
        set_(self, "data", _readonly(data))
        set_(self, "unit_ids", unit_ids)
        set_(self, "groups", _readonly(groups))
        set_(self, "bin_size", bin_size)
        set_(self, "times", times)
        tables = {k: (v if (t := interval_table(v)) is None else t) for k, v in dict(self.intervals).items()}
        set_(self, "intervals", MappingProxyType(tables))
        set_(self, "metadata", MappingProxyType(dict(self.metadata)))
        set_(self, "labels", check_sample_labels(self.labels, n_samples, where))
        set_(self, "spike_times", check_spike_times(self.spike_times, n_units, where))

    # ----------------------------------------------------------------- constructors
    @classmethod
    def from_spike_times(
        cls,
        spike_times: Sequence[Any] | Mapping[Any, Any],
        bin_size: float = 0.01,
        t_start: float | None = None,
        t_stop: float | None = None,
        unit_ids: Sequence[Any] | None = None,
        groups: Sequence[str] | None = None,
        *,
        intervals: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        source: str | None = None,
    ) -> Recording:
        """Bin spike trains into a spike-count Recording.

        Parameters
        ----------
        spike_times : sequence of array-like, or mapping unit id -> array-like
            Spike times in seconds, one array per unit. Objects with a ``t`` array of times (pynapple
            ``Ts``; a ``TsGroup`` is a mapping of them) give their times; ``nc.load(tsgroup)`` also
            takes its groups and time support.
        bin_size : float
            Bin width in seconds (> 0).
        t_start : float, optional
            Start of the first bin, seconds. Default: 0, or, when a spike comes before 0, the
            start of the bin on the grid of multiples of ``bin_size`` that holds the earliest
            spike, so that every spike is counted.
        t_stop : float, optional
            End of the window (exclusive). Default: the end of the bin that holds the last spike,
            so that every spike is counted and all bins are whole.
        unit_ids : sequence, optional
            One id per unit (default: the mapping's keys, or 0..n_units-1).
        groups : sequence of str, optional
            One label per unit (brain area, electrode location); default ``"all"``.

        Returns
        -------
        Recording
            ``kind="spike_counts"``, ``n_samples = ceil((t_stop - t_start) / bin_size)``.

        Raises
        ------
        InvalidParameterError
            ``bin_size`` not a positive finite number (``True`` is not a number of seconds);
            ``t_stop <= t_start``; a window and bin size whose counts matrix would not fit in
            memory (the message says how large it would be).
        InvalidDataError
            ``spike_times`` not a sequence of arrays (a number, None, a string, one flat list of
            numbers), NaN/inf spike times, or no units.

        Notes
        -----
        Bins are half-open, ``[t_start + k*bin_size, t_start + (k+1)*bin_size)``; a spike exactly
        on an edge belongs to the later bin, a spike at ``t_stop`` is not counted. Edges are
        exact at any session length (see :func:`bin_spike_times`): spikes stamped on a 30 kHz
        clock fall in the bins integer arithmetic on that clock gives. When the window
        is not a multiple of ``bin_size`` the last bin is cut at ``t_stop`` and
        ``metadata["last_bin_fraction"]`` says how much of a full bin it covers.

        Examples
        --------
        >>> import neurocomplex as nc
        >>> rec = nc.Recording.from_spike_times([[0.01, 0.02, 0.35], [0.2]], bin_size=0.1)
        >>> rec.data.T
        array([[2, 0, 0, 1],
               [0, 0, 1, 0]], dtype=uint8)
        >>> rec.times
        array([0. , 0.1, 0.2, 0.3])
        """
        if isinstance(spike_times, Mapping):
            if unit_ids is None:
                unit_ids = list(spike_times.keys())
            spike_times = list(spike_times.values())
        spike_times = _check_trains_container(spike_times)
        trains, lows, highs = [], [], []
        for i, st in enumerate(spike_times):
            if not isinstance(st, np.ndarray) and isinstance(getattr(st, "t", None), np.ndarray):
                st = st.t  # a time-indexed train (pynapple Ts/Tsd): its times, not its values
            try:
                t = np.asarray(st, dtype=np.float64).reshape(-1)
            except (TypeError, ValueError) as err:
                raise InvalidDataError(f"spike_times[{i}] is not an array of numbers: {err}") from err
            if t.size:  # NaN propagates to the extremes, inf is one: no temporary array needed
                low, high = float(t.min()), float(t.max())
                if not (np.isfinite(low) and np.isfinite(high)):
                    raise InvalidDataError(f"spike_times[{i}] contains NaN or inf; remove those spikes first.")
                lows.append(low)
                highs.append(high)
            trains.append(t)
        if not trains:
            raise InvalidDataError("spike_times is empty: at least one unit is needed.")
        from neurocomplex._validation import check_float

        bin_size = check_float("bin_size (seconds)", bin_size, 0.0, low_open=True)
        t_start = check_float("t_start", t_start, allow_none=True)
        t_stop = check_float("t_stop", t_stop, allow_none=True)
        if t_start is None:
            first = min(lows, default=0.0)
            t_start = 0.0 if first >= 0 else _grid_start(first, bin_size)
        grid = _grid(t_start, bin_size)
        if t_stop is None:
            # A whole number of bins whose last one holds the last spike.
            last = max(highs, default=t_start)
            k_last = _bin_index(np.array([max(last, t_start)]), t_start, bin_size, grid)[0]
            t_stop = float(_edges(np.array([k_last + 1]), t_start, bin_size, grid)[0])
        if t_stop <= t_start:
            raise InvalidParameterError(
                f"the window must have t_stop > t_start, got t_start={t_start}, t_stop={t_stop}."
            )
        counts, trains = _bin_trains(trains, bin_size, t_start, t_stop)  # trains now in time order
        n_bins = counts.shape[0]
        times = _bin_starts(n_bins, t_start, bin_size, grid)
        last_fraction = (t_stop - times[-1]) / bin_size
        meta = {"t_start": float(t_start), "t_stop": float(t_stop),
                "last_bin_fraction": float(min(1.0, last_fraction))}
        meta.update(metadata or {})
        return cls(
            data=counts,
            kind="spike_counts",
            unit_ids=unit_ids if unit_ids is not None else np.arange(len(trains)),
            groups=groups,
            bin_size=bin_size,
            times=times,
            intervals=intervals or {},
            metadata=meta,
            source=source,
            spike_times=tuple(trains),
        )

    @classmethod
    def from_array(
        cls,
        X: Any,
        kind: str = "rates",
        sampling_rate: float | None = None,
        unit_ids: Sequence[Any] | None = None,
        groups: Sequence[str] | None = None,
        *,
        t_start: float = 0.0,
        times: Sequence[float] | None = None,
        copy: bool = False,
        intervals: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        source: str | None = "array",
        labels: Any = None,
    ) -> Recording:
        """Wrap a 2-D array ``(n_samples, n_units)`` (numpy array, pandas DataFrame or torch tensor).

        Parameters
        ----------
        X : array-like, pandas.DataFrame or torch.Tensor
            Activity, samples in rows and units in columns. A DataFrame's columns become
            ``unit_ids`` and a numeric index becomes ``times``. A torch tensor is detached from
            autograd; a CPU tensor is wrapped without a copy, a GPU tensor is copied to host memory
            (estimators with ``device=`` move it back chunk by chunk).
        kind : str
            ``"rates"`` (default), ``"spike_counts"``, ``"activations"``, ``"binary"`` or
            ``"responses"`` (one row per trial or stimulus).
        sampling_rate : float, optional
            Samples per second; sets ``bin_size = 1 / sampling_rate`` and ``times``.
        unit_ids, groups : sequence, optional
            One id / label per column.
        times : sequence of float, optional
            Explicit sample times in seconds (strictly increasing).
        copy : bool
            By default the Recording holds a read-only *view* of ``X`` (no copy, for large
            arrays); changing ``X`` afterwards changes the Recording. Pass ``copy=True`` to detach.
        labels : pandas.DataFrame or mapping of columns, optional
            One row per sample describing it (stimulus, condition); kept as ``rec.labels``.

        Returns
        -------
        Recording

        Raises
        ------
        InvalidDataError
            X is not 2-D, not numeric, or holds NaN/inf.
        InvalidParameterError
            unit_ids/groups lengths differ from the number of columns; bad sampling_rate.

        Examples
        --------
        >>> import numpy as np, neurocomplex as nc
        >>> rec = nc.Recording.from_array(np.eye(3), kind="activations")
        >>> rec.n_samples, rec.n_units
        (3, 3)
        """
        try:
            import pandas as pd
        except ImportError:  # pragma: no cover - pandas is a core dependency
            pd = None
        if pd is not None and isinstance(X, pd.DataFrame):
            if unit_ids is None:
                unit_ids = np.asarray(X.columns)
            if times is None and sampling_rate is None and X.index.dtype.kind == "f":
                times = X.index.to_numpy(dtype=np.float64)
            X = X.to_numpy()
        if type(X).__module__.startswith("torch") and hasattr(X, "detach"):
            # a torch tensor: detached from autograd; a GPU tensor is copied to host memory (the
            # estimators' device= moves chunks back to a device when asked)
            X = X.detach()
            X = X.numpy() if X.device.type == "cpu" else X.cpu().numpy()
        try:
            arr = np.array(X, copy=True) if copy else np.asarray(X)
        except (TypeError, ValueError) as err:  # ragged rows, or objects numpy cannot stack
            raise InvalidDataError(
                f"X cannot be read as a 2-D array ({err}); rows must all have the same number of units "
                "(pad or trim them, or use nc.Recording.from_spike_times for spike trains of different lengths)."
            ) from err
        if arr.ndim != 2:
            raise InvalidDataError(
                f"X must be 2-D (n_samples, n_units), got shape {arr.shape}. "
                "For one unit use X[:, None]; for a batch of images flatten to (n, features)."
            )
        bin_size = None
        if sampling_rate is not None:
            from neurocomplex._validation import check_float

            rate = check_float("sampling_rate (samples per second)", sampling_rate, 0.0, low_open=True)
            bin_size = 1.0 / rate
            if times is None:
                times = t_start + np.arange(arr.shape[0]) * bin_size
        elif times is not None:
            t = np.asarray(times, dtype=np.float64)
            if t.size > 1:
                bin_size = float(np.median(np.diff(t)))
        return cls(
            data=arr,
            kind=kind,
            unit_ids=unit_ids,
            groups=groups,
            bin_size=bin_size,
            times=times,
            intervals=intervals or {},
            metadata=metadata or {},
            source=source,
            labels=labels,
        )

    # ----------------------------------------------------------------- properties
    @property
    def n_samples(self) -> int:
        """Number of samples (rows)."""
        return int(self.data.shape[0])

    @property
    def n_units(self) -> int:
        """Number of units (columns)."""
        return int(self.data.shape[1])

    @property
    def duration(self) -> float | None:
        """Seconds covered (``n_samples * bin_size``), or None when samples are not time bins."""
        return None if self.bin_size is None else self.n_samples * self.bin_size

    def replace(self, **changes: Any) -> Recording:
        """Return a copy with some fields replaced (validated again)."""
        return dataclasses.replace(self, **changes)

    # ----------------------------------------------------------------- operations
    def _take(self, rows: np.ndarray | slice | None = None, cols: np.ndarray | None = None,
              **changes: Any) -> Recording:
        data = self.data
        times = self.times
        if rows is not None:
            data = data[rows]
            times = None if times is None else times[rows]
        labels, trains = self.labels, self.spike_times
        if rows is not None:
            trains = None  # the spikes no longer describe exactly these samples
            if labels is not None:
                labels = labels.iloc[np.arange(self.n_samples)[rows]].reset_index(drop=True)
        unit_ids, groups = self.unit_ids, self.groups
        if cols is not None:
            data = data[:, cols]
            unit_ids, groups = unit_ids[cols], groups[cols]
            if trains is not None:
                trains = tuple(trains[i] for i in np.arange(self.n_units)[cols])
        fields = dict(data=data, unit_ids=unit_ids, groups=groups, times=times, labels=labels,
                      spike_times=trains)
        fields.update(changes)
        return dataclasses.replace(self, **fields)

    def select(self, units: Iterable[Any] | None = None, groups: str | Iterable[str] | None = None) -> Recording:
        """Keep some units, by id and/or by group label (order of the Recording is kept).

        Raises
        ------
        InvalidParameterError
            An id or group is not in the Recording (the message lists what is), or nothing is left.

        Examples
        --------
        >>> import numpy as np, neurocomplex as nc
        >>> rec = nc.Recording.from_array(np.ones((4, 3)), groups=["CA1", "CA3", "CA1"])
        >>> rec.select(groups="CA1").unit_ids
        array([0, 2])
        """
        keep = np.ones(self.n_units, dtype=bool)
        if units is not None:
            wanted = np.asarray(list(units) if not isinstance(units, np.ndarray) else units)
            missing = np.setdiff1d(wanted, self.unit_ids)
            if missing.size:
                raise InvalidParameterError(
                    f"units {missing[:5].tolist()} are not in this Recording (unit_ids: "
                    f"{self.unit_ids[:10].tolist()}{' ...' if self.n_units > 10 else ''})."
                )
            keep &= np.isin(self.unit_ids, wanted)
        if groups is not None:
            wanted_g = np.asarray([groups] if isinstance(groups, str) else list(groups), dtype=str)
            missing = np.setdiff1d(wanted_g, self.groups)
            if missing.size:
                raise InvalidParameterError(
                    f"groups {missing.tolist()} are not in this Recording (groups: {np.unique(self.groups).tolist()})."
                )
            keep &= np.isin(self.groups, wanted_g)
        if not keep.any():
            raise InvalidParameterError("the selection leaves no unit.")
        return self._take(cols=np.flatnonzero(keep))

    def restrict(self, start: Any, stop: float | None = None) -> Recording:
        """Keep the samples whose time lies in ``[start, stop)``, or in a table of intervals.

        Parameters
        ----------
        start : float, pandas.DataFrame, interval set or str
            Start time in seconds; or a DataFrame with ``start_time`` and ``stop_time`` columns
            (e.g. ``rec.intervals["trials"]``, or ``start``/``end`` columns), a pynapple
            ``IntervalSet``, or the name of one of ``rec.intervals`` (``"trials"``), in which case
            samples inside any interval are kept.
        stop : float
            End time in seconds (exclusive); not used with a DataFrame.

        Raises
        ------
        InvalidParameterError
            The Recording has no times, ``start`` is neither a number, an interval table nor the
            name of one of ``rec.intervals``, ``stop <= start``, or no sample is left.

        Examples
        --------
        >>> import numpy as np, pandas as pd, neurocomplex as nc
        >>> trials = pd.DataFrame({"start_time": [1.0], "stop_time": [3.0]})
        >>> rec = nc.Recording.from_array(np.ones((5, 1)), sampling_rate=1.0, intervals={"trials": trials})
        >>> rec.restrict("trials").times, rec.restrict(2.0, 4.0).times
        (array([1., 2.]), array([2., 3.]))
        """
        if self.times is None:
            raise InvalidParameterError(
                "this Recording has no times (its samples are not time bins); use subsample or "
                "index the data instead of restrict."
            )
        if isinstance(start, str):
            if start not in self.intervals:
                raise InvalidParameterError(
                    f"restrict({start!r}): this Recording has no interval table {start!r} (its tables: "
                    f"{sorted(self.intervals) or 'none'}); pass a table name of rec.intervals, a DataFrame with "
                    "start_time/stop_time columns, or start and stop times in seconds."
                )
            start = self.intervals[start]
        if (converted := interval_table(start)) is not None:
            start = converted
        if hasattr(start, "columns"):
            table = start
            for col in ("start_time", "stop_time"):
                if col not in table.columns:
                    raise InvalidParameterError(f"the interval table has no {col!r} column (columns: {list(table.columns)}).")
            starts = np.asarray(table["start_time"], dtype=np.float64)
            stops = np.asarray(table["stop_time"], dtype=np.float64)
            order = np.argsort(starts)
            starts, stops = starts[order], stops[order]
            # A sample is inside when the last interval starting at or before it has not ended.
            pos = np.searchsorted(starts, self.times, side="right") - 1
            keep = (pos >= 0) & (self.times < np.maximum.accumulate(stops)[np.maximum(pos, 0)])
            rows = np.flatnonzero(keep)
        else:
            if isinstance(start, bool) or not isinstance(start, (int, float, np.integer, np.floating)):
                raise InvalidParameterError(
                    f"restrict: start must be a time in seconds, an interval table (DataFrame with start_time and "
                    f"stop_time columns) or the name of one of rec.intervals ({sorted(self.intervals) or 'none'}), "
                    f"got {type(start).__name__}."
                )
            if stop is None:
                raise InvalidParameterError(
                    f"restrict({start!r}) needs a stop time: restrict(start, stop) in seconds, or pass an interval "
                    f"table or the name of one of rec.intervals ({sorted(self.intervals) or 'none'})."
                )
            if not stop > start:
                raise InvalidParameterError(f"restrict needs stop > start, got start={start}, stop={stop}.")
            lo, hi = np.searchsorted(self.times, [start, stop], side="left")
            rows = slice(int(lo), int(hi))
            if hi <= lo:
                rows = np.empty(0, dtype=np.int64)
        if isinstance(rows, np.ndarray) and rows.size == 0:
            raise InvalidParameterError(
                f"no sample lies in the requested window (recording spans {self.times[0]:.6g} to "
                f"{self.times[-1] + (self.bin_size or 0):.6g} s)."
            )
        return self._take(rows=rows)

    def binarize(self, threshold: float = 0.0) -> Recording:
        """Binary state ``B = 1[X > threshold]`` (a spike in the bin, a ReLU that is on).

        Examples
        --------
        >>> import numpy as np, neurocomplex as nc
        >>> nc.Recording.from_array(np.array([[0.0, 2.0], [-1.0, 0.5]])).binarize().data
        array([[0, 1],
               [0, 1]], dtype=uint8)
        """
        from neurocomplex._validation import check_float

        threshold = check_float("threshold", threshold)
        if self.kind == "binary" and threshold == 0:
            return self
        data = (self.data > threshold).view(np.uint8)
        meta = dict(self.metadata, binarize_threshold=float(threshold), binarized_from=self.kind)
        return dataclasses.replace(self, data=data, kind="binary", metadata=meta, spike_times=None)

    def subsample(self, n_units: int | None = None, n_samples: int | None = None, seed: int | None = 0) -> Recording:
        """Random subset of units and/or samples, without replacement (order kept).

        Raises
        ------
        InvalidParameterError
            Asking for more units or samples than there are, or fewer than one.
        """
        rng = np.random.default_rng(seed)
        cols = rows = None
        for name, n, total in (("n_units", n_units, self.n_units), ("n_samples", n_samples, self.n_samples)):
            if n is None:
                continue
            if int(n) != n or not 1 <= n <= total:
                raise InvalidParameterError(f"{name}={n!r} must be an integer in [1, {total}].")
        if n_units is not None:
            cols = np.sort(rng.choice(self.n_units, size=int(n_units), replace=False))
        if n_samples is not None:
            rows = np.sort(rng.choice(self.n_samples, size=int(n_samples), replace=False))
        return self._take(rows=rows, cols=cols)

    def by_group(self) -> dict[str, Recording]:
        """Split into one Recording per group label, in order of first appearance."""
        labels = list(dict.fromkeys(self.groups.tolist()))
        return {g: self._take(cols=np.flatnonzero(self.groups == g)) for g in labels}

    def to_dataframe(self) -> pd.DataFrame:
        """The data as a pandas DataFrame: columns are unit ids, index the times (or sample index).

        The groups are in ``df.attrs["groups"]`` (a dict unit id -> group).
        """
        import pandas as pd

        index = pd.Index(self.times, name="time") if self.times is not None else pd.RangeIndex(self.n_samples, name="sample")
        df = pd.DataFrame(np.array(self.data), index=index, columns=pd.Index(self.unit_ids, name="unit_id"))
        df.attrs["groups"] = dict(zip(self.unit_ids.tolist(), self.groups.tolist(), strict=True))
        df.attrs["kind"] = self.kind
        return df

    def to_nwb(self, path: Any, **options: Any) -> None:
        """Write this Recording to an NWB file: the same as :func:`neurocomplex.write_nwb`.

        The Recording knows no file format: :mod:`neurocomplex.io` registers the writer.
        """
        _operation("to_nwb")(self, path, **options)

    def to_xarray(self) -> Any:
        """This Recording as an ``xarray.DataArray`` with dims ``("time", "unit")`` (``("sample",
        "unit")`` without times), coordinates ``unit``, ``group`` and the label columns, and
        attributes ``kind`` and ``bin_size``; ``nc.load(da)`` gives it back. Needs xarray (the
        ``xarray`` extra); see :func:`neurocomplex.io.xarray.to_xarray`.
        """
        return _operation("to_xarray")(self)

    def to_pynapple(self) -> Any:
        """This Recording as a pynapple ``TsdFrame`` at its ``times`` (columns: unit ids, metadata
        ``group``). Needs pynapple (the ``pynapple`` extra); see
        :func:`neurocomplex.io.pynapple.to_pynapple`.
        """
        return _operation("to_pynapple")(self)

    def trial_responses(self, trials: Any, window: tuple[float, float] = (0.0, 0.5), statistic: str = "count",
                        average: bool = False, align: str = "start_time", by: Any = None) -> Recording:
        """One row per trial (or per condition): see :func:`neurocomplex.trials.trial_responses`.

        Examples
        --------
        >>> import neurocomplex as nc, pandas as pd
        >>> rec = nc.Recording.from_spike_times([[0.1, 0.2, 1.3], [1.1]], bin_size=0.1, t_stop=2.0)
        >>> trials = pd.DataFrame({"start_time": [0.0, 1.0], "stop_time": [1.0, 2.0]})
        >>> rec.trial_responses(trials, window=(0.0, 0.5)).data
        array([[2., 0.],
               [1., 1.]])
        """
        return _operation("trial_responses")(self, trials, window=window, statistic=statistic, average=average,
                               align=align, by=by)

    # ----------------------------------------------------------------- display
    def __repr__(self) -> str:
        parts = [f"kind={self.kind!r}", f"n_samples={self.n_samples}", f"n_units={self.n_units}"]
        if self.bin_size is not None:
            parts.append(f"bin_size={self.bin_size:g}s")
        labels, counts = np.unique(self.groups, return_counts=True)
        if not (labels.size == 1 and labels[0] == "all"):
            shown = ", ".join(f"{g}: {c}" for g, c in list(zip(labels, counts, strict=True))[:6])
            parts.append("groups={" + shown + (", ..." if labels.size > 6 else "") + "}")
        if self.source:
            parts.append(f"source={self.source!r}")
        return "Recording(" + ", ".join(parts) + ")"

    def _repr_html_(self) -> str:
        """A compact table for notebooks: kind, sizes, source, groups, bin size, time span."""
        from html import escape

        labels, counts = np.unique(self.groups, return_counts=True)
        groups = ", ".join(f"{g} ({c})" for g, c in list(zip(labels.tolist(), counts.tolist(), strict=True))[:8])
        rows = [("kind", self.kind), ("samples x units", f"{self.n_samples:,} x {self.n_units:,}"),
                ("groups", groups + (", ..." if labels.size > 8 else "")),
                ("bin size", "-" if self.bin_size is None else f"{self.bin_size:g} s")]
        if self.times is not None:
            end = self.times[-1] + (self.bin_size or 0.0)
            rows.append(("time span", f"{self.times[0]:.6g} to {end:.6g} s"))
        if self.labels is not None:
            rows.append(("sample labels", ", ".join(map(str, self.labels.columns))))
        if self.intervals:
            rows.append(("interval tables", ", ".join(f"{k} ({len(v)})" for k, v in self.intervals.items())))
        rows.append(("source", self.source or "-"))
        body = "".join(f"<tr><th style='text-align:left'>{escape(k)}</th><td style='text-align:left'>{escape(str(v))}"
                       "</td></tr>" for k, v in rows)
        return f"<table><caption style='text-align:left'><b>Recording</b></caption>{body}</table>"
