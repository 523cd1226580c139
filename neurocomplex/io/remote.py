"""NWB files on the web: read an HDF5 NWB file over HTTP(S) lazily, fetching only the byte ranges
that the reader needs.

``nc.load(url)``, ``neurocomplex info URL``, ``neurocomplex analyze URL`` and the streaming reader
(``nc.measure_many`` over URLs) open a URL through :func:`open_url`: h5py reads the file through a
file-like object that fetches byte ranges with HTTP ``Range`` requests, so a window of a large
file costs the file's metadata, the unit index and the spikes of that window, not the whole file.

Why remfile (not fsspec): remfile is a file-like object written for h5py's access pattern (many
small metadata reads, then larger contiguous ones): it fetches in chunks of 100 KiB that grow while
reads are sequential, keeps them in memory, and can keep them in a folder on disk
(``cache=``). It needs only ``requests``. fsspec's HTTP file system is general (S3, GCS, ...), but
its default read-ahead cache is tuned for sequential reads and needs aiohttp; pynwb's
documentation finds remfile faster on NWB files. One more reason: remfile refuses a response that
is not the requested range, so a server that ignores ``Range`` never feeds h5py wrong bytes
(:func:`open_url` checks range support once, up front, and says so).

A DANDI asset's URL: each asset of a dandiset has an id (shown on the DANDI web page of the asset,
or by ``dandi ls``); its content is at ``https://api.dandiarchive.org/api/assets/<asset_id>/download/``,
which redirects to the file on S3. With the dandi client::

    from dandi.dandiapi import DandiAPIClient
    with DandiAPIClient() as client:
        asset = client.get_dandiset("000004", "draft").get_asset_by_path(
            "sub-P11HMH/sub-P11HMH_ses-20061101_ecephys+image.nwb")
        url = asset.get_content_url(follow_redirects=1, strip_query=True)
    rec = nc.load(url, bin_size=0.01)

:func:`open_url` follows the redirect once and reads from the final address. Nothing here reaches
the network except the URL given.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from neurocomplex.errors import CorruptFileError, InvalidParameterError, MissingDependencyError, MissingFileError

__all__ = ["is_url", "open_url", "remote_identity", "session_name"]

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
# Seconds to wait for the server to answer the first request.
_TIMEOUT = 30.0
# Smallest fetch (remfile's default is 100 KiB): the reader's probes into spike times are small
# and scattered, so smaller chunks fetch less; sequential reads still grow to larger requests.
_CHUNK = 16 * 1024


def is_url(source: Any) -> bool:
    """Whether ``source`` is an ``http://`` or ``https://`` URL (a string)."""
    return isinstance(source, str) and source[:8].lower().startswith(("http://", "https://"))


def session_name(url: str) -> str:
    """A short name for the file at ``url``: its last path component without ``.nwb``, or the DANDI
    asset id of an ``/assets/<id>/download/`` URL.

    Examples
    --------
    >>> session_name("https://example.org/data/sub-1_ses-2.nwb?x=1")
    'sub-1_ses-2'
    >>> session_name("https://api.dandiarchive.org/api/assets/0a1b2c3d-4e5f/download/")
    '0a1b2c3d-4e5f'
    """
    parts = [unquote(p) for p in urlsplit(url).path.split("/") if p]
    if len(parts) >= 2 and parts[-1] == "download" and parts[-3:-2] == ["assets"]:
        return parts[-2]
    name = parts[-1] if parts else urlsplit(url).netloc
    return re.sub(r"\.nwb$", "", name, flags=re.IGNORECASE)


def _requests() -> Any:
    try:
        import requests
    except ImportError as err:  # pragma: no cover - requests comes with remfile
        raise MissingDependencyError("reading NWB files over HTTP needs the 'remote' extra: "
                                     "`pip install neurocomplex[remote]` (remfile and requests).") from err
    return requests


def _probe(url: str) -> dict[str, Any]:
    """One ranged GET of the first bytes: the final address after redirects, the size, whether the
    server honours ``Range``, and the validators (ETag, Last-Modified) of the content."""
    requests = _requests()
    try:
        resp = requests.get(url, headers={"Range": "bytes=0-7"}, stream=True, timeout=_TIMEOUT, allow_redirects=True)
    except requests.RequestException as err:
        raise MissingFileError(f"cannot reach {url!r}: {type(err).__name__}: {err}. Check the URL and the network.") from err
    try:
        if resp.status_code in (404, 410):
            raise MissingFileError(f"{url!r}: the server answers {resp.status_code} {resp.reason} (no file there).")
        if resp.status_code in (401, 403):
            raise MissingFileError(f"{url!r}: the server answers {resp.status_code} {resp.reason}: the file is not "
                                   "public, or a signed URL has expired (ask for a new one).")
        if resp.status_code != 206:
            raise CorruptFileError(
                f"{url!r}: the server answered {resp.status_code} {resp.reason} to a byte-range request instead of "
                "206 Partial Content, so the file cannot be read lazily; download it and load the local copy."
            )
        total = resp.headers.get("Content-Range", "").rpartition("/")[2]
        if not total.isdigit():
            raise CorruptFileError(f"{url!r}: the server does not say the file's size (Content-Range "
                                   f"{resp.headers.get('Content-Range')!r}); download it and load the local copy.")
        head = resp.raw.read(8, decode_content=True)
        return {"url": resp.url, "size": int(total), "etag": resp.headers.get("ETag"),
                "last_modified": resp.headers.get("Last-Modified"), "head": head}
    finally:
        resp.close()


def remote_identity(url: str) -> dict[str, Any]:
    """What identifies the content at ``url`` without reading it: its size and the server's
    ``ETag`` and ``Last-Modified`` (None when not sent), with the final address after redirects.

    Meant for caches of results keyed by the input (the counterpart of a local file's size and
    modification time). One small ranged request.
    """
    info = _probe(url)
    return {"url": url, "resolved_url": info["url"], "size": info["size"], "etag": info["etag"],
            "last_modified": info["last_modified"]}


def _cache(cache: Any) -> Any:
    if cache is None:
        return None
    if isinstance(cache, bool) or not isinstance(cache, (str, os.PathLike)):
        raise InvalidParameterError(f"cache must be a folder path (str or path-like) for the downloaded chunks, or "
                                    f"None, got {cache!r}.")
    import remfile

    folder = Path(cache)
    if folder.exists() and not folder.is_dir():
        raise InvalidParameterError(f"cache={str(folder)!r} is a file; give a folder for the downloaded chunks.")
    folder.mkdir(parents=True, exist_ok=True)
    return remfile.DiskCache(str(folder))


@contextmanager
def open_url(url: str, cache: str | os.PathLike[str] | None = None,
             stats: dict[str, int] | None = None) -> Iterator[Any]:
    """Open the HDF5 NWB file at ``url`` read-only; yields an ``h5py.File`` that reads lazily.

    Parameters
    ----------
    url : str
        ``http://`` or ``https://`` address of an HDF5 NWB file (redirects are followed once). The
        server must honour ``Range`` requests (DANDI, S3, any static file server).
    cache : path, optional
        Folder that keeps the fetched chunks (100 KiB each, keyed by URL and offset), so a second
        read of the same parts fetches nothing. None: chunks are kept in memory while the file
        is open only. The cache trusts the URL to name fixed content (true of DANDI's
        content-addressed blobs); empty the folder if the file at a URL changes.
    stats : dict, optional
        Updated while reading: ``"requests"`` and ``"bytes_fetched"`` (bytes received).

    Raises
    ------
    MissingDependencyError
        remfile (the ``remote`` extra) is not installed.
    MissingFileError
        The server cannot be reached or has no file there (404, 403, ...).
    CorruptFileError
        The server ignores byte ranges, or the content is not HDF5.
    """
    try:
        import h5py
        import remfile
    except ImportError as err:
        raise MissingDependencyError(
            f"reading {url!r} over HTTP needs remfile: install the 'remote' extra with "
            "`pip install neurocomplex[remote]` (or `pip install remfile`)."
        ) from err
    disk = _cache(cache)
    info = _probe(url)
    counts = stats if stats is not None else {}
    counts.setdefault("requests", 0)
    counts.setdefault("bytes_fetched", 0)
    counts["size"] = info["size"]
    counts["requests"] += 1
    counts["bytes_fetched"] += len(info["head"])
    if info["head"] != _HDF5_SIGNATURE:
        raise CorruptFileError(
            f"{url!r} is not an HDF5 file (its first bytes are {info['head']!r}), so it is not an NWB 2.x HDF5 file; "
            "check that the URL points at the file itself (a DANDI asset: .../assets/<id>/download/)."
        )
    try:
        rf = remfile.File(info["url"], disk_cache=disk, _size=info["size"], _min_chunk_size=_CHUNK)
    except TypeError:  # pragma: no cover - a remfile without the size argument probes again
        rf = remfile.File(info["url"], disk_cache=disk)

    def count(resp: Any, *args: Any, **kwargs: Any) -> None:
        counts["requests"] += 1
        counts["bytes_fetched"] += int(resp.headers.get("Content-Length", 0) or 0)

    session = getattr(rf, "session", None)
    if session is not None:
        session.hooks["response"].append(count)
    try:
        f = h5py.File(rf, "r")
    except OSError as err:
        raise CorruptFileError(f"{url!r}: h5py cannot open the file read over HTTP ({err}); it is truncated or damaged.") from err
    try:
        yield f
    finally:
        f.close()
        rf.close()
