"""xarray in and out: ``rec.to_xarray()`` and ``nc.load(data_array)``.

A Recording becomes a ``DataArray`` of dims ``("time", "unit")`` (``("sample", "unit")`` when its
samples have no times: trial responses, network activations), with coordinates for the unit ids,
the groups (``group`` on the unit dim), the per-sample labels (one coordinate per label column on
the sample dim) and attributes for the kind, bin size, source and unit. ``nc.load`` of such a
DataArray gives the Recording back. xarray is an optional dependency (the ``xarray`` extra),
imported only by :func:`to_xarray`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neurocomplex.errors import InvalidDataError, MissingDependencyError
from neurocomplex.io._registry import register_loader
from neurocomplex.recording import Recording

__all__ = ["to_xarray", "load_xarray"]

# Prefix of a label coordinate whose column name clashes with a dimension or ``group``.
_LABEL_PREFIX = "label_"
_RESERVED = ("time", "sample", "unit", "group")


def _accepts(source: Any) -> bool:
    cls = type(source)
    return cls.__module__.startswith("xarray") and cls.__name__ == "DataArray"


def to_xarray(rec: Recording) -> Any:
    """The Recording as an ``xarray.DataArray`` (see the module docstring for the layout).

    Raises
    ------
    MissingDependencyError
        xarray is not installed (the ``xarray`` extra).

    Notes
    -----
    Interval tables and spike times are not carried (a DataArray has no place for tables); the
    attributes hold ``kind``, ``bin_size`` (absent when None), ``source`` and, when known, the
    ``unit`` of the values and the window ``t_start``/``t_stop``.
    """
    try:
        import xarray as xr
    except ImportError as err:
        raise MissingDependencyError("rec.to_xarray() needs xarray: `pip install neurocomplex[xarray]`.") from err
    sample_dim = "time" if rec.times is not None else "sample"
    coords: dict[str, Any] = {"unit": np.asarray(rec.unit_ids), "group": ("unit", np.asarray(rec.groups))}
    coords[sample_dim] = np.asarray(rec.times) if rec.times is not None else np.arange(rec.n_samples)
    if rec.labels is not None:
        for col in rec.labels.columns:
            name = str(col)
            key = f"{_LABEL_PREFIX}{name}" if name in _RESERVED or name.startswith(_LABEL_PREFIX) else name
            coords[key] = (sample_dim, rec.labels[col].to_numpy())
    attrs: dict[str, Any] = {"kind": rec.kind}
    if rec.bin_size is not None:
        attrs["bin_size"] = float(rec.bin_size)
    if rec.source is not None:
        attrs["source"] = rec.source
    for key in ("unit", "t_start", "t_stop"):
        value = rec.metadata.get(key)
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            attrs[key] = value
    return xr.DataArray(np.asarray(rec.data), dims=(sample_dim, "unit"), coords=coords, attrs=attrs)


@register_loader("xarray", _accepts, "xarray DataArray with dims (time|sample, unit), as rec.to_xarray() writes")
def load_xarray(source: Any, kind: str | None = None, unit_dim: str = "unit") -> Recording:
    """A Recording from a 2-D ``xarray.DataArray``.

    Parameters
    ----------
    source : xarray.DataArray
        Two dims: ``unit_dim`` (the units) and one sample dim. A ``time`` sample dim gives the
        Recording's ``times`` (and ``bin_size`` from the ``bin_size`` attribute, else the median
        step). A ``group`` coordinate on the unit dim gives the groups; other coordinates on the
        sample dim become the per-sample ``labels`` (a ``label_`` prefix added by
        :func:`to_xarray` is removed).
    kind : str, optional
        The Recording's kind; default the ``kind`` attribute, else ``"rates"``.
    unit_dim : str
        Name of the unit dim (default ``"unit"``); a DataArray without it takes its second dim.

    Returns
    -------
    Recording

    Raises
    ------
    InvalidDataError
        Not 2-D, non-numeric values, or a time coordinate that is not seconds.
    InvalidParameterError
        A kind the Recording does not know, labels or groups that do not line up.

    Examples
    --------
    >>> import numpy as np, neurocomplex as nc
    >>> rec = nc.Recording.from_array(np.arange(6.0).reshape(3, 2), sampling_rate=10.0, groups=["V1", "V2"])
    >>> da = rec.to_xarray()
    >>> da.dims, da.coords["group"].values.tolist(), da.attrs["kind"]
    (('time', 'unit'), ['V1', 'V2'], 'rates')
    >>> back = nc.load(da)
    >>> np.array_equal(back.data, rec.data), back.bin_size
    (True, 0.1)
    """
    if source.ndim != 2:
        raise InvalidDataError(f"a DataArray of dims {source.dims} is not 2-D: select or stack it to (samples, units) "
                               "first (e.g. da.stack(unit=('channel', 'cell'))).")
    dims = list(source.dims)
    if unit_dim not in dims:
        unit_dim = dims[1]
    sample_dim = dims[0] if dims[1] == unit_dim else dims[1]
    da = source.transpose(sample_dim, unit_dim)
    attrs = dict(da.attrs)
    kind = kind if kind is not None else str(attrs.get("kind", "rates"))
    unit_ids = np.asarray(da.coords[unit_dim].values) if unit_dim in da.coords else None
    groups = None
    labels: dict[str, Any] = {}
    for name, coord in da.coords.items():
        if name in (unit_dim, sample_dim) or coord.ndim != 1:
            continue
        if coord.dims == (unit_dim,) and name == "group":
            groups = np.asarray(coord.values).astype(str)
        elif coord.dims == (sample_dim,):
            key = str(name)
            labels[key[len(_LABEL_PREFIX):] if key.startswith(_LABEL_PREFIX) else key] = np.asarray(coord.values)
    times = None
    if sample_dim == "time" and "time" in da.coords:
        times = np.asarray(da.coords["time"].values)
        if times.dtype.kind not in "iuf":
            raise InvalidDataError(f"the time coordinate has dtype {times.dtype}; seconds as numbers are needed (convert "
                                   "datetimes with (t - t[0]) / np.timedelta64(1, 's')).")
    metadata = {k: attrs[k] for k in ("unit", "t_start", "t_stop") if k in attrs}
    import pandas as pd

    rec = Recording.from_array(np.asarray(da.values), kind=kind, times=times, unit_ids=unit_ids, groups=groups,
                               labels=pd.DataFrame(labels) if labels else None, metadata=metadata,
                               source=attrs.get("source", "xarray"))
    if "bin_size" in attrs and rec.bin_size != attrs["bin_size"]:
        rec = rec.replace(bin_size=float(attrs["bin_size"]))
    return rec
