"""Measure tables back into NWB: a DynamicTable in the ``neurocomplex`` processing module.

:func:`write_results` writes a tidy table (from ``nc.measure``, ``nc.measure_many``, ...) into a
new NWB file, or into a copy of the session it came from, with the parameters and the package
version beside it; :func:`read_results` reads it back with pynwb. The source file is never
opened for writing.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import re
import shutil
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from neurocomplex.errors import CorruptFileError, InvalidParameterError, MissingTableError, UnsupportedSourceError

__all__ = ["write_results", "read_results", "RESULTS_MODULE", "encode_parameters", "decode_parameters"]

RESULTS_MODULE = "neurocomplex"
_TABLE = "measures"
_PARAMETERS = "measure_parameters"
_DESCRIPTIONS = {
    "session": "session (file name without suffix)", "recording": "recording the row was measured on",
    "group": "group of units (brain area, layer); 'all' for every unit", "measure": "estimator name",
    "value": "estimate", "ci_low": "lower end of the bootstrap interval (NaN: none)",
    "ci_high": "upper end of the bootstrap interval (NaN: none)", "n_samples": "samples (time bins) used",
    "n_units": "units used", "method": "estimation method", "warnings": "caveats of the estimate, joined with ' | '",
    "error": "error class and message when the session failed (empty otherwise)",
    "unit": "unit of the value (bits, dimensions, Hz, ...)", "bin_size_s": "bin size in seconds (NaN: no binning)",
    "source": "what was read: 'units' (the Units table) or the path of the series",
    "t_start_s": "start of the analysed window in seconds", "t_stop_s": "end of the analysed window in seconds",
    "binarization": "rule turning values into binary words ('' when the measure uses none)",
    "n_boot": "bootstrap replicates of the interval", "seed": "seed of the bootstrap",
    "n_blocks": "bootstrap blocks of the streamed session", "neurocomplex_version": "package version",
    "created_utc": "when the row was computed (UTC)",
}
# Characters of parameter names escaped in the 'parameter' column (a '/' separates nested names).
_ESCAPES = (("~", "~0"), ("/", "~1"), ("[", "~2"), ("{", "~3"), ("}", "~4"))
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def _column(name: str, series: Any) -> Any:
    """A pynwb column: numbers as float64/int64/bool (missing -> NaN), everything else as text."""
    from hdmf.common import VectorData

    values = series.to_numpy()
    kind = series.dtype.kind if hasattr(series.dtype, "kind") else "O"
    if kind == "b":
        data: Any = values.astype(bool)
    elif kind in "iu" and not series.isna().any():
        data = values.astype(np.int64)
    elif kind in "iuf" or (series.dtype.name in ("Int64", "Float64")):
        data = series.astype("float64").to_numpy(na_value=math.nan)
    else:
        data = ["" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v) for v in values]
    return VectorData(name=str(name), description=_DESCRIPTIONS.get(str(name), f"column {name!r} of the measure table"),
                      data=data)


def _free(name: str, taken: Any) -> str:
    out, i = name, 1
    while out in taken:
        i += 1
        out = f"{name}_{i}"
    return out


# --------------------------------------------------------------------------- parameters as rows
def _plain(value: Any) -> Any:
    """JSON form of a parameter value (numpy scalars and arrays as numbers and lists, others as text)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in (sorted(value, key=str) if isinstance(value, (set, frozenset)) else value)]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return str(value)


def _holds_mapping(value: Any) -> bool:
    if isinstance(value, dict):
        return True
    return isinstance(value, list) and any(_holds_mapping(v) for v in value)


def _name(path: list[Any]) -> str:
    parts = []
    for part in path:
        if isinstance(part, int):
            parts.append(f"[{part}]")
            continue
        for char, code in _ESCAPES:
            part = part.replace(char, code)
        parts.append(part)
    return "/".join(parts)


def _dumps(value: Any) -> str:
    # braces inside strings written as \u escapes: no value reads as a dictionary (nwbinspector), json.loads is exact
    text = json.dumps(value, sort_keys=True)
    return _STRING.sub(lambda m: m.group(0).replace("{", "\\u007b").replace("}", "\\u007d"), text)


def _flatten(value: Any, path: list[Any], out: list[tuple[str, str]]) -> None:
    if isinstance(value, dict) and value:
        for k, v in value.items():
            _flatten(v, [*path, k], out)
    elif isinstance(value, list) and _holds_mapping(value):
        for i, v in enumerate(value):
            _flatten(v, [*path, i], out)
    else:
        out.append((_name(path), _dumps(value)))


def encode_parameters(parameters: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Parameters as ``(name, JSON value)`` rows, nested dictionaries unpacked into one row per leaf.

    Parameters
    ----------
    parameters : mapping
        Any parameters; numpy values become numbers and lists, other objects their text.

    Returns
    -------
    list of (str, str)
        ``name`` joins nested keys with ``/`` (list positions as ``[i]``; ``~ / [ { }`` in keys
        written ``~0 ~1 ~2 ~3 ~4``); ``value`` is JSON with every brace inside a string written as
        a ``\\u`` escape, so no value holds a dictionary: nwbinspector's check for dictionaries in
        table cells passes, and :func:`decode_parameters` restores the mapping exactly.

    Examples
    --------
    >>> encode_parameters({"bin_size": 0.01, "params": {"pattern_entropy": {"method": "plugin"}}})
    [('bin_size', '0.01'), ('params/pattern_entropy/method', '"plugin"')]
    """
    out: list[tuple[str, str]] = []
    for key, value in _plain(dict(parameters)).items():
        _flatten(value, [key], out)
    return out


def _part(text: str) -> Any:
    match = re.fullmatch(r"\[(\d+)\]", text)
    if match:
        return int(match.group(1))
    for char, code in reversed(_ESCAPES):
        text = text.replace(code, char)
    return text


def decode_parameters(names: Any, values: Any) -> dict[str, Any]:
    """The mapping :func:`encode_parameters` wrote, from its ``name`` and ``value`` columns.

    Examples
    --------
    >>> rows = encode_parameters({"by": None, "params": {"a": {"x": [1, 2]}}, "windows": [{"t": 0.5}]})
    >>> decode_parameters(*zip(*rows))
    {'by': None, 'params': {'a': {'x': [1, 2]}}, 'windows': [{'t': 0.5}]}
    """
    out: dict[str, Any] = {}
    for name, text in zip(names, values, strict=True):
        try:
            value = json.loads(text)
        except (TypeError, ValueError):
            value = text  # not JSON (written by another tool): kept as text
        parts = [_part(p) for p in str(name).split("/")]
        node: Any = out
        for here, nxt in itertools.pairwise(parts):
            empty: Any = [] if isinstance(nxt, int) else {}
            if isinstance(node, list):
                while len(node) <= here:
                    node.append(None)
                if node[here] is None:
                    node[here] = empty
                node = node[here]
            else:
                node = node.setdefault(here, empty)
        last = parts[-1]
        if isinstance(node, list):
            while len(node) <= last:
                node.append(None)
            node[last] = value
        else:
            node[last] = value
    return out


def _tables(table: Any, parameters: Mapping[str, Any] | None, taken: Any = ()) -> tuple[Any, Any]:
    from hdmf.common import DynamicTable, VectorData

    from neurocomplex._version import __version__ as version

    measures = DynamicTable(
        name=_free(_TABLE, taken), description=f"measure table computed by neurocomplex {version}; one row per recording x group "
                                 "x measure (parameters in 'measure_parameters')",
        columns=[_column(c, table[c]) for c in table.columns],
    )
    params = {"neurocomplex_version": version, **dict(table.attrs.get("parameters", {}) or {}), **dict(parameters or {})}
    rows = encode_parameters(params)
    keys, values = [k for k, _ in rows], [v for _, v in rows]
    par = DynamicTable(
        name=_free(_PARAMETERS, taken), description="parameters of the measure table (values as JSON; nested "
        "parameters one row each, names joined with '/') and the package version",
        columns=[VectorData(name="parameter", description="parameter name ('/' joins nested names)", data=keys),
                 VectorData(name="value", description="parameter value, JSON", data=values)],
    )
    return measures, par


def _subject(subject: Any) -> Any:
    from pynwb.file import Subject

    if subject is None or isinstance(subject, Subject):
        return subject
    if not isinstance(subject, Mapping):
        raise InvalidParameterError(f"subject must be a pynwb Subject or a mapping of its fields, got {type(subject).__name__}.")
    try:
        return Subject(**{str(k): v for k, v in subject.items()})
    except (TypeError, ValueError) as err:
        raise InvalidParameterError(f"subject: {err} (fields: subject_id, species, sex, age, description, ...).") from err


def _check_table(table: Any) -> None:
    import pandas as pd

    if not isinstance(table, pd.DataFrame):
        raise InvalidParameterError(f"write_results takes a pandas DataFrame (a measure table), got {type(table).__name__}.")
    if table.shape[1] == 0 or len(table) == 0:
        raise InvalidParameterError(f"the measure table is empty ({table.shape[0]} rows, {table.shape[1]} columns); "
                                    "nothing to write.")
    bad = [c for c in table.columns if not isinstance(c, str) or not c or "/" in c]
    if bad or len(set(table.columns)) != table.shape[1]:
        raise InvalidParameterError(f"column names must be distinct non-empty strings without '/': got {bad or list(table.columns)}.")


def _check_parameters(table: Any, parameters: Any) -> dict[str, Any]:
    if parameters is not None and not isinstance(parameters, Mapping):
        raise InvalidParameterError(f"parameters must be a mapping of names to values (a dict), got "
                                    f"{type(parameters).__name__} {parameters!r:.80}.")
    stored = table.attrs.get("parameters")
    if stored is not None and not isinstance(stored, Mapping):
        raise InvalidParameterError(f"table.attrs['parameters'] must be a mapping (a dict), got {type(stored).__name__}.")
    return {str(k): v for k, v in dict(parameters or {}).items()}


def write_results(
    table: Any,
    path: str | os.PathLike[str],
    source: str | os.PathLike[str] | None = None,
    parameters: Mapping[str, Any] | None = None,
    overwrite: bool = False,
    session_description: str = "measure table computed by neurocomplex",
    subject: Any = None,
) -> Path:
    """Write a measure table into an NWB file, as a DynamicTable of the ``neurocomplex`` module.

    Parameters
    ----------
    table : pandas.DataFrame
        A tidy table (``nc.measure``, ``nc.measure_many``); every column is written (numbers as
        numbers, missing values as NaN, the rest as text).
    path : str or path-like
        The ``.nwb`` file to create.
    source : str or path-like, optional
        The session the table was measured on, a local NWB HDF5 file: ``path`` becomes a copy of
        it with the table added. The source itself is only read (copied byte for byte), never
        modified. A URL or an NWB Zarr store is refused (UnsupportedSourceError).
    parameters : mapping, optional
        Parameters to record (bin size, n_boot, ...), added to ``table.attrs["parameters"]``.
    overwrite : bool
        Replace an existing ``path`` (default: refuse).
    session_description : str
        NWB ``session_description`` of a new file (not used with ``source``).
    subject : pynwb.file.Subject or mapping, optional
        Subject of a new file, e.g. ``{"subject_id": "mouse-12", "species": "Mus musculus",
        "sex": "F", "age": "P90D"}`` (not used with ``source``, whose subject is kept). NWB and
        nwbinspector expect one; without it nwbinspector reports the subject as missing (a
        table over several subjects has no single one, and none is invented).

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    InvalidParameterError
        Not a DataFrame, an empty table, bad column names, ``parameters`` not a mapping, ``path``
        exists (without ``overwrite``), is ``source`` or a hard link to it, or does not end in ``.nwb``.
    OutputError
        ``path`` cannot be written (no space, read-only file system, permission, a part of the
        path is a regular file); the message names the path and the cause.
    MissingFileError, CorruptFileError
        ``source`` missing or not a readable NWB file.
    UnsupportedSourceError
        ``source`` is not a local file: an http(s) URL or an NWB Zarr store (a folder).

    Notes
    -----
    The file is written whole or not at all: into a temporary file beside ``path`` (for
    ``source``: a copy of it, then extended), synced and renamed over ``path``; a failure leaves
    the earlier ``path`` (or none), never a truncated copy that looks like an NWB file. A
    ``path`` that is a hard link gets a new file; the other names of the old one keep it.

    Layout: processing module ``"neurocomplex"`` (created, or reused when the copy already has
    one) holds DynamicTable ``"measures"`` (one column per table column, described) and
    DynamicTable ``"measure_parameters"`` (``parameter``, ``value`` as JSON, see
    :func:`encode_parameters`: nested parameters one row per leaf, names joined with ``/``; the
    first row is ``neurocomplex_version``). When the module already holds tables of these names,
    ``_2``, ``_3``, ... is appended. pynwb reads the file back (:func:`read_results`, which
    restores the parameters) and nwbinspector reports nothing above BEST_PRACTICE_SUGGESTION
    for a new file with a ``subject``, whatever the parameters.

    References
    ----------
    Rübel O, Tritt A, Ly R, et al. (2022). The Neurodata Without Borders ecosystem for
    neurophysiological data science. eLife 11:e78362.

    Examples
    --------
    >>> import tempfile, os, numpy as np, neurocomplex as nc
    >>> rec = nc.Recording.from_array(np.random.default_rng(0).normal(size=(200, 4)))
    >>> table = nc.measure(rec, ["participation_ratio"], n_boot=0)
    >>> path = write_results(table, os.path.join(tempfile.mkdtemp(), "results.nwb"), parameters={"n_boot": 0})
    >>> read_results(path)[["measure", "n_units"]]
                   measure  n_units
    id
    0  participation_ratio        4
    """
    from neurocomplex._atomic import atomic_path, is_write_failure
    from neurocomplex.io._nwb_write import quiet_suffix_warning as _quiet

    _check_table(table)
    parameters = _check_parameters(table, parameters)
    if not isinstance(session_description, str) or not session_description.strip():
        raise InvalidParameterError(f"session_description must be non-empty text, got {session_description!r}.")
    if isinstance(path, bytes) or not isinstance(path, (str, os.PathLike)):
        raise InvalidParameterError(f"path must be a file path, got {type(path).__name__}.")
    out = Path(path)
    if out.suffix.lower() != ".nwb":
        raise InvalidParameterError(f"write_results writes .nwb files; got {str(out)!r}.")
    if out.is_dir():
        raise InvalidParameterError(f"{str(out)!r} is a directory; give a file path.")
    if out.exists() and not overwrite:
        raise InvalidParameterError(f"{str(out)!r} already exists; pass overwrite=True to replace it.")
    nwb_subject = _subject(subject) if source is None else None
    import pynwb

    if source is None:
        measures, par = _tables(table, parameters)
        nwb = pynwb.NWBFile(session_description=session_description, identifier=str(uuid.uuid4()),
                            session_start_time=datetime.now(UTC), subject=nwb_subject)
        nwb.create_processing_module(name=RESULTS_MODULE, description="results computed by neurocomplex")
        nwb.processing[RESULTS_MODULE].add(measures)
        nwb.processing[RESULTS_MODULE].add(par)
        with atomic_path(out, "NWB results file") as tmp, _quiet(), pynwb.NWBHDF5IO(str(tmp), mode="w") as io:
            io.write(nwb)
        return out
    from neurocomplex.io.nwb import _check_path, _open

    src = _check_path(source)
    if not isinstance(src, Path) or src.is_dir():  # a URL, or an NWB Zarr store (a folder)
        what = "an http(s) URL" if not isinstance(src, Path) else "an NWB Zarr store (a folder)"
        raise UnsupportedSourceError(
            f"source={str(source)!r} is {what}; write_results copies a local NWB HDF5 file (.nwb) and adds the "
            "table to the copy. Download the file (or export the Zarr store to HDF5 with hdmf-zarr's "
            "NWBZarrIO.export) and pass the local copy, or write a new file with source=None."
        )
    if src.resolve() == out.resolve() or (out.exists() and os.path.samefile(src, out)):
        raise InvalidParameterError(f"path and source are the same file ({str(out)!r}, the same path or a hard link "
                                    "to it); the source is never modified: give a new path.")
    with _open(src):  # a readable HDF5 file, or a named error before anything is copied
        pass
    with atomic_path(out, "NWB results file") as tmp:
        shutil.copyfile(src, tmp)
        try:
            with _quiet(), pynwb.NWBHDF5IO(str(tmp), mode="a") as io:
                nwb = io.read()
                if RESULTS_MODULE not in nwb.processing:
                    nwb.create_processing_module(name=RESULTS_MODULE, description="results computed by neurocomplex")
                module = nwb.processing[RESULTS_MODULE]
                for t in _tables(table, parameters, set(module.data_interfaces)):
                    module.add(t)
                io.write(nwb)
        except Exception as err:
            if is_write_failure(err):  # the disk, not the file: an OutputError with the cause
                raise
            raise CorruptFileError(f"could not add the table to a copy of {str(src)!r} ({type(err).__name__}: "
                                   f"{err}); pynwb cannot read or extend that file. Write a new file instead "
                                   "(source=None).") from err
    return out


def read_results(path: str | os.PathLike[str], name: str = _TABLE) -> Any:
    """Read a table written by :func:`write_results` with pynwb.

    Parameters
    ----------
    path : str or path-like
        An NWB file.
    name : str
        ``"measures"`` (default) or ``"measure_parameters"`` (or a suffixed name).

    Returns
    -------
    pandas.DataFrame
        Indexed by the table's ``id``. The measures table has the parameters it was written with
        in ``table.attrs["parameters"]`` (nested as they were given, with ``neurocomplex_version``).

    Raises
    ------
    MissingFileError, CorruptFileError
        As :func:`neurocomplex.load`.
    MissingTableError
        No such table in the ``neurocomplex`` module.

    Examples
    --------
    See :func:`write_results`.
    """
    from neurocomplex.io.nwb import _check_path, _open

    p = _check_path(path)
    with _open(p):
        pass
    import pynwb

    with pynwb.NWBHDF5IO(str(p), mode="r") as io:
        nwb = io.read()
        module = nwb.processing.get(RESULTS_MODULE)
        if module is None or name not in module.data_interfaces:
            have = [] if module is None else sorted(module.data_interfaces)
            raise MissingTableError(f"{str(p)!r} has no table {name!r} in processing module {RESULTS_MODULE!r} "
                                    f"(tables there: {have}).")
        table = module[name].to_dataframe()
        if name.startswith(_PARAMETERS):
            return table
        partner = _PARAMETERS + name[len(_TABLE):] if name.startswith(_TABLE) else None
        if partner in module.data_interfaces:
            par = module[partner].to_dataframe()
            if {"parameter", "value"} <= set(par.columns):
                table.attrs["parameters"] = decode_parameters(par["parameter"].tolist(), par["value"].tolist())
        return table
