"""Loaders: each backend module registers itself; :func:`load` dispatches on the source.

Backends: ``nwb`` (NWB files read lazily with h5py: local HDF5, http(s) URLs read by byte ranges,
NWB Zarr stores), ``neo`` (Neo Block, Segment, list of SpikeTrains, AnalogSignal), ``arrays``
(numpy arrays and pandas DataFrames), ``pynapple`` (TsGroup, Tsd, TsdFrame) and ``xarray``
(DataArray). Writers and converters: :func:`~neurocomplex.io.nwb.write_nwb` (also
``Recording.to_nwb``), ``Recording.to_xarray`` and ``Recording.to_pynapple``, all registered here,
so that the Recording itself knows no file format; :func:`~neurocomplex.io.results.write_results`.
"""

from __future__ import annotations

import importlib
from typing import Any

from neurocomplex.errors import InvalidParameterError, UnsupportedSourceError
from neurocomplex.io._registry import _LOADERS, _Loader, register_loader
from neurocomplex.recording import register_operation

__all__ = ["load", "register_loader", "list_loaders"]

_BACKENDS = ("neurocomplex.io.nwb", "neurocomplex.io.neo", "neurocomplex.io.arrays", "neurocomplex.io.pynapple",
             "neurocomplex.io.xarray")


def _load_backends() -> None:
    for mod in _BACKENDS:
        try:
            importlib.import_module(mod)
        except ModuleNotFoundError as err:
            if err.name != mod:
                raise


def _check_options(loader: _Loader, options: dict[str, Any]) -> None:
    """Reject options the loader's signature does not name, naming the closest one it does."""
    import inspect

    from neurocomplex._validation import did_you_mean

    func = getattr(loader.load, "__options_of__", loader.load)
    params = list(inspect.signature(func).parameters.values())
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return
    names = [p.name for p in params[1:] if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    for key in options:
        if key not in names:
            hint = did_you_mean(key, names)
            raise InvalidParameterError(
                f"nc.load: the {loader.name} loader takes no option {key!r}; {hint}its options are {names}."
            )


@register_operation("to_nwb")
def _to_nwb(rec: Any, path: Any, **options: Any) -> None:
    """The work behind ``Recording.to_nwb``: :func:`neurocomplex.io.nwb.write_nwb`, imported when
    called so that ``import neurocomplex`` does not import pynwb."""
    from neurocomplex.io.nwb import write_nwb

    write_nwb(rec, path, **options)


@register_operation("to_xarray")
def _to_xarray(rec: Any) -> Any:
    """The work behind ``Recording.to_xarray``: :func:`neurocomplex.io.xarray.to_xarray`."""
    from neurocomplex.io.xarray import to_xarray

    return to_xarray(rec)


@register_operation("to_pynapple")
def _to_pynapple(rec: Any) -> Any:
    """The work behind ``Recording.to_pynapple``: :func:`neurocomplex.io.pynapple.to_pynapple`."""
    from neurocomplex.io.pynapple import to_pynapple

    return to_pynapple(rec)


def list_loaders() -> dict[str, str]:
    """Registered loaders: name -> what they accept."""
    _load_backends()
    return {k: v.description for k, v in _LOADERS.items()}


def load(source: Any, **options: Any) -> Any:
    """Load a Recording from a file or an in-memory object.

    Parameters
    ----------
    source : path, URL, neo, pynapple or xarray object, numpy array or pandas DataFrame
        An ``.nwb`` file, NWB Zarr store or http(s) URL of an NWB file (Units table -> spike
        counts; a TimeSeries by ``series=`` path -> rates), a Neo Block / Segment / list of
        SpikeTrains / AnalogSignal, a pynapple TsGroup / Tsd / TsdFrame, an xarray DataArray, or
        a 2-D array.
    **options
        Passed to the backend's loader (``bin_size``, ``t_start``, ``t_stop``, ``series``, ...).

    Returns
    -------
    Recording

    Raises
    ------
    UnsupportedSourceError
        No loader accepts ``source``; the message lists what is supported.
    InvalidParameterError
        An option the chosen loader does not take (the message names the closest one it takes).
    MissingFileError, CorruptFileError, MissingTableError
        From the file backends.

    Examples
    --------
    >>> import numpy as np, neurocomplex as nc
    >>> nc.load(np.zeros((10, 4)), kind="activations")
    Recording(kind='activations', n_samples=10, n_units=4, source='array')
    """
    _load_backends()
    for loader in _LOADERS.values():
        if loader.accepts(source):
            _check_options(loader, options)
            return loader.load(source, **options)
    supported = "; ".join(f"{k}: {v.description}" for k, v in _LOADERS.items())
    raise UnsupportedSourceError(
        f"cannot load a {type(source).__module__}.{type(source).__name__}. Supported sources: {supported}."
    )
