"""Measure tables back into NWB: a DynamicTable in the ``neurocomplex`` processing module.

:func:`write_results` writes a tidy table (from ``nc.measure``, ``nc.measure_many``, ...) into a
new NWB file, or into a copy of the session it came from, with the parameters and the package
version beside it; :func:`read_results` reads it back with pynwb. The source file is never
opened for writing.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from neurocomplex.errors import CorruptFileError, InvalidParameterError, MissingTableError

__all__ = ["write_results", "read_results", "RESULTS_MODULE"]

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
}


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


def _tables(table: Any, parameters: Mapping[str, Any] | None, taken: Any = ()) -> tuple[Any, Any]:
    from hdmf.common import DynamicTable, VectorData

    from neurocomplex._version import __version__ as version

    measures = DynamicTable(
        name=_free(_TABLE, taken), description=f"measure table computed by neurocomplex {version}; one row per recording x group "
                                 "x measure (parameters in 'measure_parameters')",
        columns=[_column(c, table[c]) for c in table.columns],
    )
    params = {"neurocomplex_version": version, **dict(table.attrs.get("parameters", {}) or {}), **dict(parameters or {})}
    keys = list(params)
    values = [json.dumps(params[k], default=str, sort_keys=True) for k in keys]
    par = DynamicTable(
        name=_free(_PARAMETERS, taken), description="parameters of the measure table (values as JSON) and the package version",
        columns=[VectorData(name="parameter", description="parameter name", data=keys),
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
        The session the table was measured on: ``path`` becomes a copy of it with the table
        added. The source itself is only read (copied byte for byte), never modified.
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
        Not a DataFrame, an empty table, bad column names, ``path`` exists (without
        ``overwrite``), equals ``source``, or does not end in ``.nwb``.
    MissingFileError, CorruptFileError
        ``source`` missing or not a readable NWB file (``path`` is then removed).

    Notes
    -----
    Layout: processing module ``"neurocomplex"`` (created, or reused when the copy already has
    one) holds DynamicTable ``"measures"`` (one column per table column, described) and
    DynamicTable ``"measure_parameters"`` (``parameter``, ``value`` as JSON; the first row is
    ``neurocomplex_version``). When the module already holds tables of these names, ``_2``,
    ``_3``, ... is appended. pynwb reads the file back (:func:`read_results`) and nwbinspector
    reports nothing above BEST_PRACTICE_SUGGESTION for a new file with a ``subject``.

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
    _check_table(table)
    out = Path(path)
    if out.suffix.lower() != ".nwb":
        raise InvalidParameterError(f"write_results writes .nwb files; got {str(out)!r}.")
    if out.exists() and not overwrite:
        raise InvalidParameterError(f"{str(out)!r} already exists; pass overwrite=True to replace it.")
    if out.is_dir():
        raise InvalidParameterError(f"{str(out)!r} is a directory; give a file path.")
    import pynwb

    out.parent.mkdir(parents=True, exist_ok=True)
    if source is None:
        measures, par = _tables(table, parameters)
        nwb = pynwb.NWBFile(session_description=session_description, identifier=str(uuid.uuid4()),
                            session_start_time=datetime.now(UTC), subject=_subject(subject))
        nwb.create_processing_module(name=RESULTS_MODULE, description="results computed by neurocomplex")
        nwb.processing[RESULTS_MODULE].add(measures)
        nwb.processing[RESULTS_MODULE].add(par)
        with pynwb.NWBHDF5IO(str(out), mode="w") as io:
            io.write(nwb)
        return out
    from neurocomplex.io.nwb import _check_path, _open

    src = _check_path(source)
    if src.resolve() == out.resolve():
        raise InvalidParameterError(f"path and source are the same file ({str(out)!r}); the source is never modified: "
                                    "give a new path.")
    with _open(src):  # a readable HDF5 file, or a named error before anything is copied
        pass
    shutil.copyfile(src, out)
    try:
        with pynwb.NWBHDF5IO(str(out), mode="a") as io:
            nwb = io.read()
            if RESULTS_MODULE not in nwb.processing:
                nwb.create_processing_module(name=RESULTS_MODULE, description="results computed by neurocomplex")
            module = nwb.processing[RESULTS_MODULE]
            for t in _tables(table, parameters, set(module.data_interfaces)):
                module.add(t)
            io.write(nwb)
    except Exception as err:
        out.unlink(missing_ok=True)
        raise CorruptFileError(f"could not add the table to a copy of {str(src)!r} ({type(err).__name__}: {err}); "
                               "pynwb cannot read or extend that file. Write a new file instead (source=None).") from err
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
        Indexed by the table's ``id``.

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
        return module[name].to_dataframe()
