"""NWB Zarr stores (written by hdmf-zarr) seen through the small part of h5py's interface that the
NWB reader uses, so that one reader serves both storage backends and a Zarr file loads exactly as
its HDF5 twin.

The NWB layout is the same in both backends: groups, datasets and attributes at the same paths.
What differs, and what this module hides:

- object references are JSON attributes ``{"zarr_dtype": "object", "value": {"path": ...}}``
  instead of HDF5 references; they become :class:`Ref` objects that :class:`ZarrGroup` resolves
  with ``f[ref]``, as ``h5py.File`` resolves its references;
- scalar datasets are stored as arrays of one element;
- strings are object arrays (``vlen-utf8``); datasets of references are object arrays whose codec
  may be ``pickle``, which this module never decodes (unpickling runs code): such a dataset reads
  as unavailable (:func:`readable`), and readers fall back to what else the file says.

``zarr`` is imported only when a store is opened (the ``zarr`` extra).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from neurocomplex.errors import MissingDependencyError

__all__: list[str] = []

# Codecs of object arrays that hold text, and of object arrays that can be decoded without running code.
_TEXT_CODECS = ("vlen-utf8", "vlen-bytes", "vlen2-utf8")
_SAFE_OBJECT_CODECS = ("json", "json2", "msgpack", "msgpack2")


def is_zarr_store(path: Path) -> bool:
    """A folder holding a Zarr group (format 2 ``.zgroup`` or format 3 ``zarr.json``)."""
    return path.is_dir() and ((path / ".zgroup").is_file() or (path / "zarr.json").is_file())


class Ref:
    """A reference to an object of the store, by its absolute path."""

    __slots__ = ("path",)

    def __init__(self, path: str) -> None:
        self.path = path

    def __repr__(self) -> str:
        return f"Ref({self.path!r})"


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and value.get("zarr_dtype") == "object" and isinstance(value.get("value"), dict):
        target = value["value"]
        if target.get("source", ".") in (".", None) and "path" in target:
            return Ref(str(target["path"]))
    return value


class _Attrs:
    """Read-only attributes with references decoded."""

    def __init__(self, attrs: Any) -> None:
        self._attrs = attrs

    def __contains__(self, key: str) -> bool:
        return key in self._attrs

    def __getitem__(self, key: str) -> Any:
        return _decode(self._attrs[key])

    def get(self, key: str, default: Any = None) -> Any:
        return self[key] if key in self._attrs else default

    def keys(self) -> Any:
        return self._attrs.keys()


class _Node:
    def __init__(self, obj: Any, root: ZarrGroup | None, name: str) -> None:
        self._obj = obj
        self._root = root if root is not None else self  # type: ignore[assignment]
        self.name = name

    @property
    def attrs(self) -> _Attrs:
        return _Attrs(self._obj.attrs)

    @property
    def parent(self) -> ZarrGroup:
        up = self.name.rsplit("/", 1)[0] or "/"
        return self._root if up == "/" else self._root[up]  # type: ignore[return-value]


def _filter_ids(arr: Any) -> list[str]:
    codecs = list(getattr(arr, "filters", None) or [])
    comp = getattr(arr, "compressor", None)
    if comp is not None:
        codecs.append(comp)
    out = []
    for codec in codecs:
        cid = getattr(codec, "codec_id", None)
        if cid is None and hasattr(codec, "get_config"):
            cid = codec.get_config().get("id")
        out.append(str(cid))
    return out


class ZarrDataset(_Node):
    """An array of the store: ``shape``, ``dtype``, ``attrs`` and numpy indexing, as an h5py Dataset."""

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self._obj.shape)

    @property
    def ndim(self) -> int:
        return len(self._obj.shape)

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(self._obj.dtype)

    @property
    def is_text(self) -> bool:
        """Holds strings (a text dtype, or an object array with a text codec)."""
        if self.dtype.kind in "US":
            return True
        return self.dtype.kind == "O" and any(c in _TEXT_CODECS for c in _filter_ids(self._obj))

    @property
    def is_reference(self) -> bool:
        """Holds object references (hdmf-zarr marks them ``zarr_dtype: object``)."""
        return self.dtype.kind == "O" and not self.is_text and self._obj.attrs.get("zarr_dtype") == "object"

    @property
    def readable(self) -> bool:
        """Can be decoded without unpickling (every array but object arrays with an unsafe codec)."""
        if self.dtype.kind != "O" or self.is_text:
            return True
        return any(c in _SAFE_OBJECT_CODECS for c in _filter_ids(self._obj))

    def __len__(self) -> int:
        return self.shape[0] if self.shape else 1

    def __getitem__(self, key: Any) -> Any:
        if not self.readable:
            raise ValueError(f"{self.name}: an object array stored with an unsafe codec (pickle) is never decoded")
        if isinstance(key, tuple) and key == ():
            out = self._obj[...]
        elif isinstance(key, np.ndarray) and key.dtype.kind in "iu":
            out = self._obj.get_orthogonal_selection(key) if key.size else np.empty(0, self.dtype)
        else:
            out = self._obj[key]
        if self.is_reference:
            out = np.asarray([_decode({"zarr_dtype": "object", "value": v}) for v in np.asarray(out).reshape(-1)],
                             dtype=object)
        return out

    def asstr(self) -> ZarrDataset:
        """Strings are already decoded (h5py's ``asstr()`` view)."""
        return self


class ZarrGroup(_Node):
    """A group of the store: membership, items by relative or absolute path or :class:`Ref`, ``attrs``,
    ``keys`` and ``visititems``, as an h5py Group."""

    def _wrap(self, obj: Any, name: str) -> ZarrGroup | ZarrDataset:
        cls = ZarrGroup if hasattr(obj, "group_keys") else ZarrDataset
        return cls(obj, self._root, name)

    def _path(self, key: Any) -> str:
        if isinstance(key, Ref):
            return key.path
        key = str(key)
        return key if key.startswith("/") else f"{self.name.rstrip('/')}/{key}"

    def __contains__(self, key: Any) -> bool:
        path = self._path(key).strip("/")
        if not path:
            return True
        try:
            return path in self._root._obj
        except (KeyError, ValueError, TypeError):
            return False

    def __getitem__(self, key: Any) -> ZarrGroup | ZarrDataset:
        path = self._path(key)
        stripped = path.strip("/")
        if not stripped:
            return self._root  # type: ignore[return-value]
        if stripped not in self._root._obj:
            raise KeyError(f"no object {path!r} in the Zarr store")
        return self._wrap(self._root._obj[stripped], "/" + stripped)

    def keys(self) -> list[str]:
        return sorted(self._obj.keys())

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def visititems(self, func: Callable[[str, Any], Any]) -> Any:
        """Call ``func(relative_name, node)`` on every member below, depth first in name order."""
        prefix = self.name.rstrip("/") + "/"

        def walk(group: ZarrGroup) -> Any:
            for key in group.keys():
                node = group[key]
                out = func(node.name[len(prefix):], node)
                if out is not None:
                    return out
                if isinstance(node, ZarrGroup):
                    out = walk(node)
                    if out is not None:
                        return out
            return None

        return walk(self)


def open_store(path: Path) -> ZarrGroup:
    """The root group of an NWB Zarr store, read-only."""
    try:
        import zarr
    except ImportError as err:
        raise MissingDependencyError(
            f"{str(path)!r} is a Zarr store; reading NWB Zarr needs the 'zarr' package: install it with "
            "`pip install neurocomplex[zarr]` (or `pip install hdmf-zarr`)."
        ) from err
    root = zarr.open_group(str(path), mode="r")
    return ZarrGroup(root, None, "/")
