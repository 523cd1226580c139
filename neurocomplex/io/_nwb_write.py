"""Writing Recordings to NWB files with pynwb (used by :meth:`Recording.to_nwb`).

The Recording becomes a TimeSeries ``activity`` in a processing module ``neurocomplex``, with a
``unit_table`` (unit id and group per column) and its interval tables, so that
:func:`neurocomplex.io.nwb.load_nwb` reads it back unchanged.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from neurocomplex.errors import InvalidParameterError, NeurocomplexWarning
from neurocomplex.recording import Recording

__all__ = ["write_nwb", "quiet_suffix_warning"]

# Name of the processing module and of the series that write_nwb creates.
_MODULE = "neurocomplex"
_SERIES = "activity"
_UNIT_TABLE = "unit_table"
_FORMAT_KEY = "neurocomplex_format"
_SUFFIXES = (".nwb",)


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


@contextlib.contextmanager
def quiet_suffix_warning() -> Iterator[None]:
    """pynwb's advice that the file name end in ``.nwb`` does not apply to the temporary file that is
    renamed to the ``.nwb`` target once complete (see :mod:`neurocomplex._atomic`)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The file path provided.*does not end in '.nwb'")
        yield


def _interval_table(name: str, df: Any) -> Any:
    """TimeIntervals with the table's start/stop times and its numeric and string columns."""
    from hdmf.common import ElementIdentifiers, VectorData
    from pynwb.epoch import TimeIntervals

    columns = [VectorData(name=c, description=f"{c} in seconds", data=np.asarray(df[c], dtype=np.float64))
               for c in ("start_time", "stop_time")]
    for col in [c for c in df.columns if c not in ("start_time", "stop_time")]:
        values = np.asarray(df[col])
        if values.dtype.kind in "biuf":
            data: Any = values
        elif all(isinstance(v, str) for v in values):
            data = [str(v) for v in values]
        else:  # mixed or nested objects have no NWB column type
            warnings.warn(f"interval table {name!r}: column {col!r} holds objects that are neither numbers nor "
                          "strings and is not written.", NeurocomplexWarning, stacklevel=3)
            continue
        columns.append(VectorData(name=str(col), description=f"column {col!r}", data=data))
    index = np.asarray(df.index)
    ids = index if index.dtype.kind in "iu" else np.arange(len(df))
    return TimeIntervals(name=name, description=f"interval table {name!r} of the Recording",
                         id=ElementIdentifiers(name="id", data=ids.astype(np.int64)), columns=columns)


def write_nwb(
    rec: Recording,
    path: str | os.PathLike[str],
    overwrite: bool = False,
    session_description: str = "neural population activity written by neurocomplex",
    identifier: str | None = None,
) -> None:
    """Write a Recording to an NWB file that :func:`load_nwb` reads back unchanged.

    Parameters
    ----------
    rec : Recording
        The Recording to write.
    path : str or path-like
        Output file (``.nwb``).
    overwrite : bool
        Replace an existing file (default False: refuse).
    session_description : str
        NWB ``session_description``.
    identifier : str, optional
        NWB ``identifier`` (default: a new UUID).

    Raises
    ------
    InvalidParameterError
        ``rec`` is not a Recording, the suffix is not ``.nwb``, or ``path`` exists and
        ``overwrite`` is False.
    OutputError
        ``path`` cannot be written (no space, read-only file system, permission, a part of the
        path is a regular file): the earlier file, if any, is unchanged and no partial file is left.

    Notes
    -----
    The file is written whole or not at all: into a temporary file beside ``path``, synced, then
    renamed over it (:mod:`neurocomplex._atomic`).

    Layout: processing module ``"neurocomplex"`` holds a TimeSeries ``"activity"`` with the data
    ``(n_samples, n_units)`` in its own dtype (``unit`` is ``"spikes per bin"`` for spike counts,
    ``"a.u."`` otherwise) and a DynamicTable ``"unit_table"`` with one row per unit (columns
    ``unit_id`` and ``group``). Times are ``starting_time`` + ``rate = 1 / bin_size`` when they are
    exactly ``times[0] + i * bin_size``, explicit ``timestamps`` otherwise (a Recording without
    times gets ``rate = 1``). The series' ``comments`` hold JSON with ``kind``, the exact
    ``bin_size``, how times are stored and the JSON-serialisable metadata. Interval tables become
    NWB TimeIntervals (``trials`` and ``epochs`` in their standard places) with their numeric and
    string columns (other columns are left out with a NeurocomplexWarning).

    References
    ----------
    Rübel O, Tritt A, Ly R, et al. (2022). The Neurodata Without Borders ecosystem for
    neurophysiological data science. eLife 11:e78362.

    Examples
    --------
    >>> import tempfile, os, numpy as np, neurocomplex as nc
    >>> path = os.path.join(tempfile.mkdtemp(), "acts.nwb")
    >>> write_nwb(nc.Recording.from_array(np.eye(3), kind="activations"), path)
    >>> nc.load(path).kind
    'activations'
    """

    from neurocomplex._checks import check_recording

    check_recording(rec, min_samples=1)
    if isinstance(path, bytes) or not isinstance(path, (str, os.PathLike)):
        raise InvalidParameterError(f"path must be a file path (str or path-like), got {type(path).__name__}.")
    p = Path(path)
    if p.suffix.lower() not in _SUFFIXES:
        raise InvalidParameterError(f"write_nwb writes .nwb files; got {str(p)!r} (suffix {p.suffix or '(none)'!r}).")
    if p.exists() and not overwrite:
        raise InvalidParameterError(f"{str(p)!r} already exists; pass overwrite=True to replace it.")
    if p.exists() and p.is_dir():
        raise InvalidParameterError(f"{str(p)!r} is a directory; give a file path.")

    import pynwb
    from hdmf.common import DynamicTable, VectorData

    start_time = datetime.now(UTC)
    stored = rec.metadata.get("session_start_time") if rec.metadata else None
    if isinstance(stored, str):
        try:
            start_time = datetime.fromisoformat(stored)
        except ValueError:
            pass
    if start_time.tzinfo is None:
        start_time = start_time.replace(tzinfo=UTC)
    nwb = pynwb.NWBFile(session_description=session_description, identifier=identifier or str(uuid.uuid4()),
                        session_start_time=start_time)

    bin_size = rec.bin_size
    times_mode: str | None = None
    timing: dict[str, Any] = {"starting_time": 0.0, "rate": 1.0}
    if rec.times is not None:
        regular = bin_size is not None and np.array_equal(rec.times, rec.times[0] + np.arange(rec.n_samples) * bin_size)
        if regular:
            times_mode, timing = "rate", {"starting_time": float(rec.times[0]), "rate": 1.0 / bin_size}
        else:
            times_mode, timing = "timestamps", {"timestamps": np.asarray(rec.times, dtype=np.float64)}
    skip = {"session_description", "identifier", "session_start_time", "nwb_version", "loader_options", "series"}
    metadata = {k: v for k, v in dict(rec.metadata).items() if k not in skip and _jsonable(v)}
    marker = {_FORMAT_KEY: 1, "kind": rec.kind, "bin_size": bin_size, "times": times_mode, "metadata": metadata}
    series = pynwb.TimeSeries(
        name=_SERIES, data=np.ascontiguousarray(rec.data),
        unit="spikes per bin" if rec.kind == "spike_counts" else "a.u.",
        description=f"Recording of kind {rec.kind!r}: samples x units; unit ids and groups in {_UNIT_TABLE!r}",
        comments=json.dumps(marker), **timing,
    )
    ids = rec.unit_ids
    id_values = ids.tolist() if ids.dtype.kind in "iub" else ids.astype(str).tolist()
    unit_table = DynamicTable(
        name=_UNIT_TABLE, description="one row per unit (column of the series 'activity')",
        columns=[VectorData(name="unit_id", description="unit id", data=id_values),
                 VectorData(name="group", description="group label (brain area, layer)", data=rec.groups.tolist())],
    )
    module = nwb.create_processing_module(name=_MODULE, description="population activity written by neurocomplex")
    module.add(series)
    module.add(unit_table)
    for name, df in dict(rec.intervals).items():
        if not (hasattr(df, "columns") and {"start_time", "stop_time"} <= set(df.columns)):
            continue
        clean = str(name).replace("/", "_")
        table = _interval_table(clean, df)
        if clean == "trials":
            nwb.trials = table
        elif clean == "epochs":
            nwb.epochs = table
        else:
            nwb.add_time_intervals(table)
    from neurocomplex._atomic import atomic_path

    with atomic_path(p, "NWB file") as tmp, quiet_suffix_warning(), pynwb.NWBHDF5IO(str(tmp), mode="w") as io:
        io.write(nwb)
