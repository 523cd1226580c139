"""Opening an NWB source read-only: a local HDF5 file, an HDF5 file over HTTP(S), an NWB Zarr store.

The readers of :mod:`neurocomplex.io.nwb` and :mod:`neurocomplex.io.stream` work on what
:func:`_open` yields: an ``h5py.File`` (local, or over HTTP through :mod:`neurocomplex.io.remote`),
or the h5py-like view of a Zarr store (:mod:`neurocomplex.io._zarr`). The helpers below answer the
few questions whose answer depends on the backend (is this a group, text, references?).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from neurocomplex.errors import CorruptFileError, MissingFileError, NeurocomplexError, UnsupportedSourceError
from neurocomplex.io import _zarr
from neurocomplex.io._nwb_write import _SUFFIXES
from neurocomplex.io.remote import is_url, open_url

__all__: list[str] = []

# Suffixes of NWB Zarr stores (folders): ``x.nwb.zarr`` as hdmf-zarr names them, or ``x.zarr``.
_ZARR_SUFFIXES = (".zarr",)


def _check_path(path: Any) -> Path | str:
    """A local path (HDF5 file or Zarr folder) that exists, or an http(s) URL (checked when opened)."""
    if is_url(path):
        return str(path)
    p = Path(path)
    if p.is_dir():
        if _zarr.is_zarr_store(p):
            return p
        raise CorruptFileError(f"{str(p)!r} is a directory, neither an NWB HDF5 file nor an NWB Zarr store (no .zgroup "
                               "or zarr.json in it).")
    if p.suffix.lower() not in _SUFFIXES + _ZARR_SUFFIXES:
        raise UnsupportedSourceError(
            f"cannot load {str(p)!r}: files with suffix {p.suffix or '(none)'!r} are not supported. "
            "Supported: .nwb files (NWB 2.x, HDF5), NWB Zarr stores (folders, .nwb.zarr), and http(s) URLs of NWB "
            "files. Load other formats yourself and pass a numpy array, a pandas DataFrame, Neo or pynapple objects, "
            "or spike times to nc.Recording.from_spike_times."
        )
    if not p.exists():
        raise MissingFileError(f"NWB file not found: {str(p)!r} (check the path; relative paths start at {os.getcwd()!r}).")
    return p


@contextmanager
def _open_hdf5(path: Path) -> Iterator[Any]:
    import h5py

    try:
        is_hdf5 = h5py.is_hdf5(path)
    except OSError as err:
        raise CorruptFileError(f"cannot read {str(path)!r}: {err}") from err
    if not is_hdf5:
        raise CorruptFileError(
            f"{str(path)!r} is not an HDF5 file, so it is not an NWB 2.x file (NWB 1 / text are not supported; an NWB "
            "Zarr store is a folder); check that the download or copy finished and that the file is really NWB."
        )
    try:
        f = h5py.File(path, "r")
    except OSError as err:
        raise CorruptFileError(
            f"{str(path)!r} is an HDF5 file that cannot be opened ({err}); it is probably truncated or "
            "damaged: download or copy it again."
        ) from err
    try:
        yield f
    finally:
        f.close()


@contextmanager
def _open(path: Path | str, cache: Any = None, stats: dict[str, int] | None = None) -> Iterator[Any]:
    """Open read-only; any failure while reading becomes a CorruptFileError naming the source.

    ``cache`` and ``stats`` apply to URLs (see :func:`neurocomplex.io.remote.open_url`).
    """
    if isinstance(path, str) and is_url(path):
        opener = open_url(path, cache=cache, stats=stats)
    elif Path(path).is_dir():
        if not _zarr.is_zarr_store(Path(path)):
            raise CorruptFileError(f"{str(path)!r} is a directory, not an NWB HDF5 file or NWB Zarr store.")
        opener = _zarr_context(Path(path))
    else:
        opener = _open_hdf5(Path(path))
    with opener as f:
        try:
            yield f
        except NeurocomplexError:
            raise
        except (OSError, RuntimeError, KeyError, ValueError) as err:
            raise CorruptFileError(
                f"reading {str(path)!r} failed ({type(err).__name__}: {err}); the file is damaged or does not "
                "follow the NWB schema."
            ) from err


@contextmanager
def _zarr_context(path: Path) -> Iterator[Any]:
    try:
        root = _zarr.open_store(path)
    except NeurocomplexError:
        raise
    except Exception as err:  # zarr raises many kinds on a damaged store
        raise CorruptFileError(f"{str(path)!r} looks like a Zarr store but cannot be opened ({type(err).__name__}: "
                               f"{err}).") from err
    yield root


# --------------------------------------------------------------------------- backend questions
def _is_group(obj: Any) -> bool:
    import h5py

    return isinstance(obj, (h5py.Group, _zarr.ZarrGroup))


def _is_dataset(obj: Any) -> bool:
    import h5py

    return isinstance(obj, (h5py.Dataset, _zarr.ZarrDataset))


def _is_text(ds: Any) -> bool:
    if isinstance(ds, _zarr.ZarrDataset):
        return ds.is_text
    import h5py

    return h5py.check_string_dtype(ds.dtype) is not None


def _is_reference(ds: Any) -> bool:
    if isinstance(ds, _zarr.ZarrDataset):
        return ds.is_reference
    import h5py

    return h5py.check_ref_dtype(ds.dtype) is not None


def _readable(ds: Any) -> bool:
    """False for Zarr object arrays stored with pickle, which are never decoded."""
    return not isinstance(ds, _zarr.ZarrDataset) or ds.readable


def _object_name(f: Any, ref: Any) -> str:
    """Absolute path of the object a reference points at."""
    return str(f[ref].name)
