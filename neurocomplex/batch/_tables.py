"""The measure table of sessions: its columns, session names that travel, and provenance per row.

Every table of :func:`~neurocomplex.batch.measure_stream` and :func:`~neurocomplex.batch.measure_many`
has the columns :data:`COLUMNS`: the result (``session`` ... ``error``), the ``unit`` of each value,
and how it was made (bin size, source, window, binarization, bootstrap replicates, seed, blocks,
package version, time), as the CSV tables of the command line carry them, so that a table read on
its own, or concatenated with others, still says how it was made. Names are relative: the file
name, or the path below the folder common to all files.
"""

from __future__ import annotations

import datetime as _dt
import glob
import math
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePath
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import numpy as np

from neurocomplex.batch._rows import BASE_COLUMNS
from neurocomplex.errors import InvalidParameterError
from neurocomplex.io.remote import is_url, session_name

__all__ = ["COLUMNS", "PROVENANCE_COLUMNS", "expand_paths"]

PROVENANCE_COLUMNS = ["unit", "bin_size_s", "source", "t_start_s", "t_stop_s", "binarization", "n_boot", "seed",
                      "n_blocks", "neurocomplex_version", "created_utc"]
COLUMNS = [*BASE_COLUMNS, *PROVENANCE_COLUMNS]
_TEXT = ("session", "recording", "group", "measure", "method", "warnings", "error", "unit", "source", "binarization",
         "neurocomplex_version", "created_utc")
_FLOAT = ("value", "ci_low", "ci_high", "bin_size_s", "t_start_s", "t_stop_s")
_INT = ("n_samples", "n_units", "n_boot", "seed", "n_blocks")


# --------------------------------------------------------------------------- paths and names
def expand_paths(paths_or_globs: str | os.PathLike[str] | Sequence[str | os.PathLike[str]]) -> list[str]:
    """Files named by paths, folders (every ``.nwb`` below them) and glob patterns, sorted, once each.

    Parameters
    ----------
    paths_or_globs : path, glob pattern, or a sequence of them

    Returns
    -------
    list of str
        A path that does not exist is kept (its session then reports MissingFileError); an
        http(s) URL is kept as it is (a ``?`` of its query is not a glob pattern).

    Raises
    ------
    InvalidParameterError
        Nothing given, an entry that is not a path, or a folder or pattern that matches no ``.nwb`` file.

    Examples
    --------
    >>> expand_paths(["b.nwb", "a.nwb", "b.nwb"])
    ['a.nwb', 'b.nwb']
    >>> expand_paths("https://example.org/s.nwb?version=2")
    ['https://example.org/s.nwb?version=2']
    """
    if isinstance(paths_or_globs, bytes) or (not isinstance(paths_or_globs, (str, os.PathLike, Sequence))):
        raise InvalidParameterError(f"paths must be a path, a glob pattern or a list of them, got "
                                    f"{type(paths_or_globs).__name__}.")
    items = [paths_or_globs] if isinstance(paths_or_globs, (str, os.PathLike)) else list(paths_or_globs)
    if not items:
        raise InvalidParameterError("no files given: pass NWB paths, folders or glob patterns.")
    found: list[str] = []
    for item in items:
        if not isinstance(item, (str, os.PathLike)) or isinstance(item, bytes):
            raise InvalidParameterError(f"paths must be str or path-like, got {item!r} ({type(item).__name__}).")
        text = os.fspath(item)
        if not text or "\x00" in text:
            raise InvalidParameterError(f"{text!r} is not a path.")
        if is_url(text):  # read over HTTP: never a folder or a pattern
            matched = [text]
        elif Path(text).is_dir():
            matched = sorted(str(q) for q in Path(text).rglob("*.nwb") if q.is_file())
        elif glob.has_magic(text):
            matched = sorted(q for q in glob.glob(text, recursive=True) if not Path(q).is_dir())
        else:
            matched = [text]
        if not matched:
            raise InvalidParameterError(f"{text!r} matches no .nwb file (a folder is searched recursively; a pattern "
                                        "like 'data/sub-*/*.nwb' is expanded with glob).")
        found.extend(matched)
    return sorted(dict.fromkeys(found))


def _safe(name: str) -> str:
    """A session name from a URL, usable as a file name (``SESSION.csv``): odd characters as ``_``."""
    return re.sub(r"[^A-Za-z0-9._+-]", "_", name).strip(".") or "session"


def _session_name(path: str) -> str:
    """The file name without suffix (``.nwb``, ``.nwb.zarr``); for a URL its last path component
    (a DANDI asset's id)."""
    if is_url(path):
        return _safe(session_name(path))
    p = Path(path)
    return p.stem[:-4] if p.suffix.lower() == ".zarr" and p.stem.lower().endswith(".nwb") else p.stem


def _url_long_name(url: str) -> str:
    """Host and path of a URL without suffix, ``/`` as ``__`` (names that repeat are told apart so)."""
    parts = urlsplit(url)
    return _safe(re.sub(r"\.nwb$", "", f"{parts.netloc}{parts.path}".rstrip("/"), flags=re.IGNORECASE).replace("/", "__"))


def _session_names(paths: Sequence[str]) -> list[str]:
    """File names without suffix; where names repeat, paths below their common folder (``/`` as ``__``)
    for every local file and host and path for the URLs whose name repeats; a number where even those
    repeat.

    Examples
    --------
    >>> _session_names(["/d/a/s.nwb", "/d/b/s.nwb", "https://api.dandiarchive.org/api/assets/0a1b/download/"])
    ['a__s', 'b__s', '0a1b']
    """
    stems = [_session_name(p) for p in paths]
    if len(set(stems)) != len(stems):
        local = [p for p in paths if not is_url(p)]
        root = os.path.commonpath([os.path.dirname(os.path.abspath(p)) for p in local]) if local else ""
        repeated = {n for n in stems if stems.count(n) > 1}
        stems = [(_url_long_name(p) if n in repeated else n) if is_url(p) else
                 PurePath(os.path.splitext(os.path.relpath(os.path.abspath(p), root))[0]).as_posix().replace("/", "__")
                 for p, n in zip(paths, stems)]
    seen: dict[str, int] = {}
    out = []
    for name in stems:  # the same URL asked twice with other queries: s, s__2
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}__{seen[name]}")
    return out


def _public_url(url: str) -> str:
    """A URL without its query and fragment: a signed URL's query holds credentials that a shared table
    must not carry."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def recording_names(paths: Sequence[str], full_paths: bool = False) -> list[str]:
    """The ``recording`` column: each path below the folder common to all local files (``/``-separated),
    or the absolute path; a URL without its query (which may hold a signature).

    Examples
    --------
    >>> recording_names(["/data/a/s1.nwb", "/data/b/s2.nwb"])
    ['a/s1.nwb', 'b/s2.nwb']
    >>> recording_names(["/data/a/s1.nwb"])
    ['s1.nwb']
    >>> recording_names(["https://example.org/s1.nwb?X-Amz-Signature=abc", "/data/a/s2.nwb"])
    ['https://example.org/s1.nwb', 's2.nwb']
    """
    absolute = [p if is_url(p) else os.path.abspath(p) for p in paths]
    local = [p for p in absolute if not is_url(p)]
    if full_paths or not local:
        return [_public_url(p) if is_url(p) else p for p in absolute]
    root = os.path.commonpath([os.path.dirname(p) for p in local])
    return [_public_url(p) if is_url(p) else PurePath(os.path.relpath(p, root)).as_posix() for p in absolute]


# --------------------------------------------------------------------------- provenance of each row
def now_utc() -> str:
    return _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, (int, np.integer)):
        return int(value)
    return None


def _binarization(p: Mapping[str, Any]) -> str:
    if "threshold" not in p:
        return ""
    threshold = p["threshold"]
    return f"value > {threshold:g}" if isinstance(threshold, (int, float, np.number)) else f"value > {threshold}"


def annotate_rows(rows: list[dict[str, Any]], plan: Any, resolved: Mapping[str, Mapping[str, Any]],
                  request: Mapping[str, Any], created: str) -> list[dict[str, Any]]:
    """Add the unit and provenance fields to each row of one session (``plan`` None: the session failed).

    ``request`` holds the asked ``bin_size``, ``series`` and ``n_blocks`` (used where no plan says better).
    ``n_blocks`` is the number of blocks of the row's block bootstrap (a row's own ``n_blocks``;
    empty for an interval that resamples single rows or word counts, or no interval).
    """
    from neurocomplex._version import __version__
    from neurocomplex.report import measure_unit

    for r in rows:
        p = resolved.get(r.get("measure", ""), {})
        kind = None if plan is None else plan.kind
        step = (request["bin_size"] if request.get("series") is None else None) if plan is None else plan.bin_size
        r.update(
            unit=measure_unit(r["measure"], kind, step) if r.get("measure") else "",
            bin_size_s=math.nan if step is None else float(step),
            source=("units" if request.get("series") is None else str(request["series"]).strip("/")) if plan is None
            else plan.source,
            t_start_s=math.nan if plan is None or plan.t_start is None else float(plan.t_start),
            t_stop_s=math.nan if plan is None or plan.t_stop is None else float(plan.t_stop),
            binarization=_binarization(p),
            n_boot=_int_or_none(p.get("n_boot")),
            seed=_int_or_none(p.get("seed")),
            n_blocks=r.get("n_blocks") if "n_blocks" in r else request.get("n_blocks"),
            neurocomplex_version=__version__,
            created_utc=created,
        )
    return rows


def frame(rows: list[dict[str, Any]]) -> Any:
    import pandas as pd

    return pd.DataFrame(rows, columns=COLUMNS)


def tidy(frames: list[Any]) -> Any:
    """One table with the same dtypes whether sessions were computed now or read back from CSV."""
    import pandas as pd

    kept = [f for f in frames if len(f)]
    table = pd.concat(kept, ignore_index=True) if kept else frame([])
    table = table.reindex(columns=COLUMNS)
    for col in _TEXT:
        column = table[col].astype(object)
        table[col] = column.where(column.notna(), "").astype(str)
    for col in _FLOAT:
        table[col] = pd.to_numeric(table[col], errors="coerce").astype(np.float64)
    for col in _INT:
        table[col] = pd.to_numeric(table[col], errors="coerce").astype("Int64")
    return table


def parameters(measures: Any, by: Any, bin_size: float, params: Any, common: Mapping[str, Any],
               loader: Mapping[str, Any], memory_limit: int) -> dict[str, Any]:
    """What produced a table (``table.attrs["parameters"]``; stored by ``nc.write_results``, keys the cache)."""
    return {"measures": [measures] if isinstance(measures, str) else list(measures), "by": by, "bin_size": bin_size,
            "params": {k: dict(v) for k, v in dict(params or {}).items()}, **dict(common), **dict(loader),
            "memory_limit": memory_limit}
