"""Loader for Neo objects: Block, Segment, list of SpikeTrains, AnalogSignal.

Spike trains are binned into a ``kind="spike_counts"`` Recording with
:meth:`Recording.from_spike_times`; an AnalogSignal becomes a ``kind="rates"`` Recording
with :meth:`Recording.from_array`. Neo is an optional dependency (the ``neo`` extra) and is
imported only when one of these functions runs.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from neurocomplex._validation import check_float
from neurocomplex.errors import (
    InsufficientDataError,
    InvalidDataError,
    InvalidParameterError,
    MissingDependencyError,
    NeurocomplexWarning,
    UnsupportedSourceError,
)
from neurocomplex.io._registry import register_loader
from neurocomplex.recording import Recording

__all__ = ["load_neo"]

_SUPPORTED = (
    "neo.Block (one segment, or segment=<index>), neo.Segment (its spike trains, or its single "
    "AnalogSignal), a list or tuple of neo.SpikeTrain, neo.AnalogSignal"
)
# Annotation keys tried, in order, for unit ids and for group labels.
_ID_KEYS = ("unit_id", "id")
_GROUP_KEYS = ("group", "brain_area", "location", "area")
# Array-annotation keys of an AnalogSignal that name its channels.
_CHANNEL_KEYS = ("channel_names", "channel_ids")


def _is_neo(obj: Any, name: str | None = None) -> bool:
    cls = type(obj)
    return cls.__module__.startswith("neo") and (name is None or cls.__name__ == name)


def _accepts(source: Any) -> bool:
    if _is_neo(source):
        return True
    # A list that holds any SpikeTrain goes to this loader, so that mixed lists get a clear error.
    return isinstance(source, (list, tuple)) and any(_is_neo(item, "SpikeTrain") for item in source)


def _import_neo() -> Any:
    try:
        import neo
    except ImportError as err:
        raise MissingDependencyError(
            "loading Neo objects needs the 'neo' package; install it with "
            "`pip install neurocomplex[neo]` (or `pip install neo quantities`)."
        ) from err
    return neo


def _seconds(value: Any, what: str) -> float:
    """A time in seconds from a python number (seconds) or a quantities Quantity (any time unit)."""
    if hasattr(value, "rescale"):
        try:
            value = float(value.rescale("s").magnitude)
        except (ValueError, TypeError) as err:
            raise InvalidParameterError(f"{what}={value!r} is not a single time (cannot convert it to seconds).") from err
    return float(check_float(what, value))  # type: ignore[arg-type]


def _train_seconds(train: Any, index: int) -> tuple[np.ndarray, float, float]:
    """Spike times, t_start and t_stop of one SpikeTrain, converted to seconds."""
    try:
        times = np.asarray(train.times.rescale("s").magnitude, dtype=np.float64).reshape(-1)
        start = float(train.t_start.rescale("s").magnitude)
        stop = float(train.t_stop.rescale("s").magnitude)
    except ValueError as err:
        raise InvalidDataError(
            f"SpikeTrain {index} (name={train.name!r}) has units {train.units.dimensionality} that are "
            "not a time; build it with time units (s, ms, ...)."
        ) from err
    return times, start, stop


def _unique_labels(values: list[Any]) -> bool:
    if any(v is None for v in values):
        return False
    try:
        return len({str(v) for v in values}) == len(values)
    except TypeError:
        return False


def _unit_ids_from(trains: Sequence[Any]) -> list[Any] | None:
    names = [t.name for t in trains]
    if _unique_labels(names):
        return [str(n) for n in names]
    for key in _ID_KEYS:
        values = [t.annotations.get(key) for t in trains]
        if _unique_labels(values):
            return values
    return None


def _groups_from(annotations: list[dict[str, Any]], group_key: str | None, what: str) -> list[str] | None:
    if group_key is not None:
        missing = [i for i, ann in enumerate(annotations) if group_key not in ann]
        if missing:
            keys = sorted({k for ann in annotations for k in ann})
            raise InvalidParameterError(
                f"group_key={group_key!r}: {what} {missing[:5]} have no such annotation; "
                f"annotations present: {keys or 'none'}. Pass one of those, or group_key=None."
            )
        return [str(ann[group_key]) for ann in annotations]
    for key in _GROUP_KEYS:
        if annotations and all(key in ann for ann in annotations):
            return [str(ann[key]) for ann in annotations]
    return None


def _epochs_as_intervals(segment: Any) -> dict[str, Any]:
    """Neo Epochs of a segment as interval tables (``start_time``, ``stop_time``, ``label``)."""
    import pandas as pd

    out: dict[str, Any] = {}
    for i, epoch in enumerate(getattr(segment, "epochs", None) or []):
        start = np.asarray(epoch.times.rescale("s").magnitude, dtype=np.float64).reshape(-1)
        duration = np.asarray(epoch.durations.rescale("s").magnitude, dtype=np.float64).reshape(-1)
        table = pd.DataFrame({"start_time": start, "stop_time": start + duration,
                              "label": np.asarray(epoch.labels).astype(str).reshape(-1)})
        out[str(epoch.name) if epoch.name and str(epoch.name) not in out else f"epoch_{i}"] = table
    return out


def _from_spiketrains(
    trains: Sequence[Any],
    bin_size: float,
    t_start: Any,
    t_stop: Any,
    group_key: str | None,
    unit_ids: Sequence[Any] | None,
    intervals: dict[str, Any],
    source: str,
) -> Recording:
    converted = [_train_seconds(train, i) for i, train in enumerate(trains)]
    spike_times = [c[0] for c in converted]
    starts = np.array([c[1] for c in converted])
    stops = np.array([c[2] for c in converted])
    common_start, common_stop = float(starts.max()), float(stops.min())
    start = common_start if t_start is None else _seconds(t_start, "t_start")
    stop = common_stop if t_stop is None else _seconds(t_stop, "t_stop")
    if stop <= start:
        if t_start is None and t_stop is None:
            raise InvalidDataError(
                f"the SpikeTrains do not share a time window: the latest t_start is {common_start:g} s "
                f"(SpikeTrain {int(starts.argmax())}) and the earliest t_stop is {common_stop:g} s "
                f"(SpikeTrain {int(stops.argmin())}). Pass t_start= and t_stop= (seconds) explicitly."
            )
        raise InvalidParameterError(
            f"the window must have t_stop > t_start, got t_start={start:g} s and t_stop={stop:g} s "
            f"(the SpikeTrains span {common_start:g} to {common_stop:g} s)."
        )
    if unit_ids is None:
        unit_ids = _unit_ids_from(trains)
    groups = _groups_from([dict(t.annotations) for t in trains], group_key, "SpikeTrains")
    meta: dict[str, Any] = {"loader": "neo", "neo_t_start": common_start, "neo_t_stop": common_stop}
    outside = np.flatnonzero((start < starts) | (stop > stops))
    if outside.size:
        # Zero counts there are "not recorded", not silence; say so rather than hide it.
        msg = (f"the window [{start:g}, {stop:g}) s reaches outside their own window for {outside.size} "
               f"SpikeTrain(s) (first: SpikeTrain {int(outside[0])}, [{starts[outside[0]]:g}, "
               f"{stops[outside[0]]:g}) s); bins there count as zero spikes.")
        warnings.warn(msg, NeurocomplexWarning, stacklevel=3)
        meta["warnings"] = (msg,)
    return Recording.from_spike_times(
        spike_times, bin_size=bin_size, t_start=start, t_stop=stop, unit_ids=unit_ids, groups=groups,
        intervals=intervals, metadata=meta, source=source,
    )


def _from_analogsignal(
    signal: Any,
    t_start: Any,
    t_stop: Any,
    group_key: str | None,
    unit_ids: Sequence[Any] | None,
    intervals: dict[str, Any],
    source: str,
) -> Recording:
    rate = float(signal.sampling_rate.rescale("Hz").magnitude)
    first = float(signal.t_start.rescale("s").magnitude)
    data = np.asarray(signal.magnitude)
    if data.ndim == 1:
        data = data[:, None]
    times = first + np.arange(data.shape[0]) / rate
    if t_start is not None or t_stop is not None:
        lo = -np.inf if t_start is None else _seconds(t_start, "t_start")
        hi = np.inf if t_stop is None else _seconds(t_stop, "t_stop")
        keep = (times >= lo) & (times < hi)
        if not keep.any():
            raise InvalidParameterError(
                f"no sample of the AnalogSignal lies in [t_start, t_stop) = [{lo:g}, {hi:g}) s; "
                f"it spans {times[0]:g} to {times[-1] + 1 / rate:g} s."
            )
        rows = np.flatnonzero(keep)
        data, first = data[rows[0] : rows[-1] + 1], float(times[rows[0]])
    array_ann = dict(getattr(signal, "array_annotations", {}) or {})
    if unit_ids is None:
        for key in _CHANNEL_KEYS:
            values = array_ann.get(key)
            if values is not None and len(values) == data.shape[1] and _unique_labels(list(values)):
                unit_ids = np.asarray(values)
                break
    per_channel = [{k: v[j] for k, v in array_ann.items() if len(v) == data.shape[1]} for j in range(data.shape[1])]
    groups = _groups_from(per_channel, group_key, "channels")
    meta = {"loader": "neo", "signal_units": str(signal.units.dimensionality), "signal_name": signal.name}
    return Recording.from_array(
        data, kind="rates", sampling_rate=rate, t_start=first, unit_ids=unit_ids, groups=groups,
        intervals=intervals, metadata=meta, source=source,
    )


def _unsupported(obj: Any) -> UnsupportedSourceError:
    return UnsupportedSourceError(
        f"cannot load a {type(obj).__module__}.{type(obj).__name__} with the Neo loader. "
        f"Supported: {_SUPPORTED}."
    )


@register_loader("neo", _accepts, _SUPPORTED)
def load_neo(
    obj: Any,
    bin_size: float = 0.01,
    t_start: Any = None,
    t_stop: Any = None,
    segment: int | None = None,
    group_key: str | None = None,
    unit_ids: Sequence[Any] | None = None,
) -> Recording:
    """Load Neo spike trains (binned into counts) or an AnalogSignal (rates) as a Recording.

    Parameters
    ----------
    obj : neo.Block, neo.Segment, list of neo.SpikeTrain, or neo.AnalogSignal
        The data. A Block contributes one of its segments; a Segment its spike trains (or, when
        it has none, its only AnalogSignal).
    bin_size : float
        Bin width in seconds for spike trains (> 0). Not used for an AnalogSignal, whose samples
        are kept at its own sampling rate.
    t_start, t_stop : float or quantities.Quantity, optional
        Window ``[t_start, t_stop)``; floats are seconds, Quantities may be in any time unit.
        Default: the window common to all spike trains (the latest ``t_start`` and the earliest
        ``t_stop``), or the whole AnalogSignal.
    segment : int, optional
        Index of the segment of a Block to load; required when the Block has several segments.
    group_key : str, optional
        Annotation (SpikeTrain ``annotations``, or AnalogSignal ``array_annotations``) that holds
        each unit's group. Default: the first of ``"group"``, ``"brain_area"``, ``"location"``,
        ``"area"`` that every unit has, else ``"all"``.
    unit_ids : sequence, optional
        One id per unit. Default: the SpikeTrains' names, else their ``"unit_id"`` or ``"id"``
        annotation (the first that is present and unique), else ``0..n_units-1``; for an
        AnalogSignal its ``"channel_names"`` or ``"channel_ids"`` array annotation.

    Returns
    -------
    Recording
        ``kind="spike_counts"`` with ``n_samples = ceil((t_stop - t_start) / bin_size)`` for spike
        trains; ``kind="rates"`` with ``bin_size = 1 / sampling_rate`` for an AnalogSignal. Neo
        Epochs of the segment become ``intervals`` (``start_time``, ``stop_time``, ``label``).

    Raises
    ------
    MissingDependencyError
        The ``neo`` package is not installed (``pip install neurocomplex[neo]``).
    UnsupportedSourceError
        A Neo object of another type (the message lists what is supported).
    InvalidDataError
        An empty list, a list mixing SpikeTrains with other objects, spike trains without a
        common window, or spike trains whose units are not times.
    InsufficientDataError
        A Segment with neither spike trains nor an AnalogSignal; a Block without segments.
    InvalidParameterError
        A Block with several segments and no ``segment=``; ``segment`` out of range or given for
        something that is not a Block; a bad ``bin_size``, window or ``group_key``.

    Notes
    -----
    Times are converted to seconds with ``quantities`` (``rescale("s")``), so trains in ms and in
    s give identical Recordings. Bins are half-open, ``[t_start + k*bin_size,
    t_start + (k+1)*bin_size)``, as in :meth:`Recording.from_spike_times`: a spike on an edge
    belongs to the later bin, a spike at ``t_stop`` is not counted, and a last partial bin is kept
    (cut at ``t_stop``). Elephant's ``BinnedSpikeTrain`` instead drops a last partial bin.

    References
    ----------
    Garcia S, Guarino D, Jaillet F, et al. (2014). Neo: an object model for handling
    electrophysiology data in multiple formats. Frontiers in Neuroinformatics 8:10.

    Examples
    --------
    >>> import neo, quantities as pq
    >>> trains = [neo.SpikeTrain([5, 12, 35] * pq.ms, t_stop=40 * pq.ms, name="n1",
    ...                          brain_area="CA1"),
    ...           neo.SpikeTrain([21] * pq.ms, t_stop=40 * pq.ms, name="n2", brain_area="CA3")]
    >>> rec = load_neo(trains, bin_size=0.01)
    >>> rec.data.T
    array([[1, 1, 0, 1],
           [0, 0, 1, 0]], dtype=uint8)
    >>> rec.unit_ids.tolist(), rec.groups.tolist()
    (['n1', 'n2'], ['CA1', 'CA3'])
    """
    neo = _import_neo()
    bin_size = check_float("bin_size", bin_size, 0.0, low_open=True)  # type: ignore[assignment]
    if group_key is not None and not isinstance(group_key, str):
        raise InvalidParameterError(f"group_key must be an annotation name (str), got {group_key!r}.")
    if segment is not None and not isinstance(obj, neo.Block):
        raise InvalidParameterError(
            f"segment={segment!r} selects a segment of a neo.Block, but a {type(obj).__name__} was given; "
            "drop segment=."
        )
    intervals: dict[str, Any] = {}
    source = f"neo:{type(obj).__name__}"

    if isinstance(obj, neo.Block):
        n_segments = len(obj.segments)
        if n_segments == 0:
            raise InsufficientDataError(f"the neo.Block {obj.name!r} has no segments: nothing to load.")
        if segment is None:
            if n_segments > 1:
                raise InvalidParameterError(
                    f"the neo.Block {obj.name!r} has {n_segments} segments; pass segment=<index> "
                    f"(0 to {n_segments - 1}) to choose one, e.g. load_neo(block, segment=0)."
                )
            segment = 0
        if isinstance(segment, bool) or not isinstance(segment, (int, np.integer)) or not 0 <= segment < n_segments:
            raise InvalidParameterError(
                f"segment={segment!r} is not a valid index: the neo.Block has {n_segments} segments "
                f"(0 to {n_segments - 1})."
            )
        obj = obj.segments[int(segment)]
        source = f"neo:Block[segment={int(segment)}]"

    if isinstance(obj, neo.Segment):
        intervals = _epochs_as_intervals(obj)
        if len(obj.spiketrains):
            obj = list(obj.spiketrains)
        elif len(obj.analogsignals) == 1:
            obj = obj.analogsignals[0]
        elif len(obj.analogsignals) > 1:
            raise InvalidParameterError(
                f"the neo.Segment has no spike trains and {len(obj.analogsignals)} AnalogSignals; "
                "pass the one to load, e.g. load_neo(segment.analogsignals[0])."
            )
        else:
            raise InsufficientDataError(
                f"the neo.Segment {obj.name!r} has neither spike trains nor an AnalogSignal: nothing to load."
            )

    if isinstance(obj, neo.SpikeTrain):
        obj = [obj]
    if isinstance(obj, (list, tuple)):
        if not obj:
            raise InvalidDataError("the list of SpikeTrains is empty: at least one unit is needed.")
        others = [i for i, item in enumerate(obj) if not isinstance(item, neo.SpikeTrain)]
        if others:
            i = others[0]
            raise InvalidDataError(
                f"the list mixes SpikeTrains with other objects: item {i} is a "
                f"{type(obj[i]).__module__}.{type(obj[i]).__name__}. Pass only neo.SpikeTrain objects "
                "(or plain arrays of spike times to Recording.from_spike_times)."
            )
        return _from_spiketrains(obj, bin_size, t_start, t_stop, group_key, unit_ids, intervals, source)
    if isinstance(obj, neo.AnalogSignal):
        return _from_analogsignal(obj, t_start, t_stop, group_key, unit_ids, intervals, source)
    raise _unsupported(obj)
