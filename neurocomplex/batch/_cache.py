"""Session results on disk, reused only for exactly what was asked.

``measure_many(..., out=FOLDER)`` writes each finished session as ``FOLDER/SESSION.csv`` (the
session's rows, with their units and provenance) and ``FOLDER/SESSION.json``, the record of what
produced it: every parameter of the call (measures, bin size, window, series, n_boot, seed, the
per-measure parameters, the loader options), the package version, the identity of the input
file (size, modification time, and a SHA-256 of its first and last 64 KiB; for a URL its size,
``ETag`` and ``Last-Modified``) and the SHA-256 and row count of the CSV. A later run reuses a
session only when its record asks for exactly the same and the CSV is intact; any other
difference recomputes it; a CSV or record that is damaged (cut mid-row, header lost, empty, not
matching its checksum) is recomputed with a NeurocomplexWarning.
Both files are written atomically (:mod:`neurocomplex._atomic`), the record last.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from neurocomplex.errors import NeurocomplexWarning

__all__ = ["input_identity", "cache_key", "load_session", "store_session", "discard_session"]

_FORMAT = "neurocomplex session result"
_VERSION = 1
_ENDS = 64 * 1024


def _files(out_dir: Path, session: str) -> tuple[Path, Path]:
    return out_dir / f"{session}.csv", out_dir / f"{session}.json"


def input_identity(path: str) -> dict[str, Any] | None:
    """Size, modification time (ns) and a SHA-256 of the first and last 64 KiB; None when unreadable.

    For an http(s) URL: the URL, the size and the server's ``ETag`` and ``Last-Modified``
    (:func:`neurocomplex.io.remote.remote_identity`, one ranged request of 8 bytes); None when the
    server sends neither validator (nothing would tell a changed file at the same URL and size) or
    cannot be reached, so that the session is computed again. The address a redirect leads to is
    left out: DANDI redirects to a signed S3 URL that changes with every request.
    """
    from neurocomplex.io.remote import is_url

    if is_url(path):
        return _url_identity(path)
    try:
        st = os.stat(path)
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            digest.update(f.read(_ENDS))
            if st.st_size > 2 * _ENDS:
                f.seek(st.st_size - _ENDS)
            digest.update(f.read(_ENDS))
    except OSError:
        return None
    return {"size": int(st.st_size), "mtime_ns": int(st.st_mtime_ns), "ends_sha256": digest.hexdigest()}


def _url_identity(url: str) -> dict[str, Any] | None:
    from neurocomplex.errors import NeurocomplexError
    from neurocomplex.io.remote import remote_identity

    try:
        info = remote_identity(url)
    except NeurocomplexError:  # unreachable, or no range support: the session reports it when read
        return None
    if info["etag"] is None and info["last_modified"] is None:
        return None
    return {"url": url, "size": int(info["size"]), "etag": info["etag"], "last_modified": info["last_modified"]}


def _plain(value: Any) -> Any:
    """JSON-exact form of a parameter; TypeError for one with no exact form (then nothing is reused)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)) and not isinstance(value, np.bool_):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return v if math.isfinite(v) else repr(v)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"{type(value).__name__} has no exact JSON form")


def cache_key(parameters: Mapping[str, Any], identity: Mapping[str, Any] | None) -> str | None:
    """Canonical JSON of what was asked and of the input; None when it cannot be exact (never reused)."""
    from neurocomplex._version import __version__

    if identity is None:
        return None
    try:
        key = {"parameters": _plain(parameters), "input": _plain(identity), "neurocomplex_version": __version__}
    except TypeError:
        return None
    return json.dumps(key, sort_keys=True, separators=(",", ":"))


def _damaged(csv: Path, why: str) -> None:
    warnings.warn(f"the stored result {str(csv)!r} is damaged ({why}); the session is computed again and the file "
                  "replaced.", NeurocomplexWarning, stacklevel=4)


def load_session(out_dir: Path, session: str, key: str | None, columns: list[str]) -> Any:
    """The stored table of ``session`` when its record matches ``key`` and the CSV is intact, else None."""
    import pandas as pd

    csv, record_path = _files(out_dir, session)
    if not csv.is_file():
        return None
    try:
        data = csv.read_bytes()
    except OSError as err:
        _damaged(csv, f"it cannot be read: {err}")
        return None
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
        if not isinstance(record, dict) or record.get("format") != _FORMAT:
            raise ValueError("not a session record")
    except FileNotFoundError:
        _damaged(csv, f"its record {record_path.name} is missing, so what produced it is unknown")
        return None
    except (OSError, ValueError) as err:
        _damaged(csv, f"its record {record_path.name} cannot be read: {err}")
        return None
    if key is None or record.get("key") != key:
        return None  # asked for something else (or for the unknowable): computed again
    if not data:
        _damaged(csv, "it is empty (0 bytes)")
        return None
    if hashlib.sha256(data).hexdigest() != record.get("csv_sha256"):
        _damaged(csv, f"its content ({len(data)} bytes) differs from what was written ({record.get('csv_bytes')} "
                      "bytes): cut or changed since")
        return None
    try:
        table = pd.read_csv(io.BytesIO(data), keep_default_na=False, na_values=[""])
    except (ValueError, pd.errors.ParserError) as err:
        _damaged(csv, f"it cannot be parsed: {err}")
        return None
    if list(table.columns) != columns or len(table) != record.get("rows"):
        _damaged(csv, f"it has {len(table)} rows and columns {list(table.columns)[:4]}..., not the {record.get('rows')} "
                      "rows of a session table")
        return None
    return table


def store_session(out_dir: Path, session: str, table: Any, key: str | None) -> None:
    """Write the session's CSV, then its record; each atomically. The record goes last: a crash between
    leaves a CSV without record, which a later run recomputes (with a warning); a failed write of the
    record removes the CSV."""
    from neurocomplex._atomic import write_bytes, write_text

    csv, record_path = _files(out_dir, session)
    data = table.to_csv(index=False).encode("utf-8")
    try:
        record_path.unlink()  # the old record never vouches for the new CSV
    except FileNotFoundError:
        pass
    except OSError:  # left for write_text to report with the path and the cause
        pass
    write_bytes(csv, data, "session result (CSV)")
    record = {"format": _FORMAT, "version": _VERSION, "session": session, "key": key, "rows": len(table),
              "csv_sha256": hashlib.sha256(data).hexdigest(), "csv_bytes": len(data)}
    try:
        write_text(record_path, json.dumps(record, indent=1) + "\n", "session record (JSON)")
    except BaseException:  # a CSV without its record is never reused; remove it so that the folder stays clean
        csv.unlink(missing_ok=True)
        raise


def discard_session(out_dir: Path, session: str) -> None:
    """Remove a stored result that this run did not reuse and could not replace (the session failed now),
    so that the folder holds no result of another request beside this run's."""
    from neurocomplex._atomic import output_error

    for path in _files(out_dir, session)[::-1]:  # the record first: a CSV alone is never reused
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        except OSError as err:
            raise output_error(path, err, "earlier session result (removing)") from err
