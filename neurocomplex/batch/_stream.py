"""One session, streamed in this process: :func:`measure_stream`."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from neurocomplex._validation import check_choice, check_float, check_int
from neurocomplex.batch import _intervals
from neurocomplex.batch._rows import _MEMORY_LIMIT, _check_measures, _session_rows, _threshold
from neurocomplex.batch._tables import _session_name, annotate_rows, frame, now_utc, parameters, recording_names, tidy

__all__ = ["measure_stream", "check_common"]

# Blocks a session is cut into where no estimator asks for its own (parallel tasks, window size).
_PLAN_BLOCKS = 20


def check_common(by: Any, bin_size: Any, memory_limit: Any, n_blocks: Any, max_cells: Any,
                 cache: Any = None) -> tuple[float, int]:
    """The checks shared by measure_stream and measure_many, before any file is opened."""
    from neurocomplex.errors import InvalidParameterError

    check_choice("by", by, ("group", None))
    if cache is not None and (isinstance(cache, (bool, bytes)) or not isinstance(cache, (str, os.PathLike))):
        raise InvalidParameterError(f"cache must be a folder path (str or path-like) for the fetched parts of URLs, "
                                    f"or None, got {cache!r}.")
    bin_size = check_float("bin_size (seconds)", bin_size, 0.0, low_open=True)
    memory_limit = check_int("memory_limit", memory_limit, 0)
    if n_blocks is not None:
        check_int("n_blocks", n_blocks, 1)
    if max_cells is not None:
        check_int("max_cells", max_cells, 1)
    return bin_size, memory_limit


def measure_stream(
    path: str | os.PathLike[str],
    measures: str | Sequence[str],
    by: str | None = "group",
    bin_size: float = 0.01,
    *,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    memory_limit: int = _MEMORY_LIMIT,
    t_start: float | None = None,
    t_stop: float | None = None,
    series: str | None = None,
    window: float | None = None,
    n_blocks: int | None = None,
    group_column: str | None = None,
    max_cells: int | None = None,
    full_paths: bool = False,
    cache: str | os.PathLike[str] | None = None,
    **estimator_params: Any,
) -> Any:
    """The measure table of one NWB file, streamed window by window in this process.

    Parameters
    ----------
    path : str, path-like or URL
        An ``.nwb`` file (opened read-only, never modified), an NWB Zarr store, or the http(s) URL
        of an NWB file (read lazily, :mod:`neurocomplex.io.remote`).
    measures : str or sequence of str
        Registered estimators. Those of :data:`STREAMED` (``pattern_complexity`` only with
        ``scale=0``) run on streamed statistics; any other is run by :func:`neurocomplex.measure`
        on the session loaded in memory when its matrix fits in ``memory_limit`` (see Notes).
    by : {"group", None}
        As :func:`neurocomplex.measure`: one row per group of units and ``"all"``, or all only.
    bin_size : float
        Bin width in seconds for the Units table.
    params : mapping of measure name -> dict, optional
        Parameters for one estimator.
    memory_limit : int
        Bytes the float64 matrix of a session may take for a measure that is not streamed.
    t_start, t_stop, series, window, group_column, max_cells
        As :func:`neurocomplex.io.stream.plan_stream`.
    n_blocks : int, optional
        Give every streamed measure the block bootstrap of ``block_size = ceil(n_samples /
        n_blocks)`` samples (as ``nc.measure(..., block_size=...)``; a ``block_size`` given beside
        it is refused). Default: each estimator's own interval (see Notes).
    full_paths : bool
        Put the absolute path in the ``recording`` column (default: the file name, so that a
        table shared elsewhere names no folder of this machine).
    cache : path, optional
        For a URL: a folder that keeps the fetched parts of the file (see
        :func:`neurocomplex.io.remote.open_url`).
    **estimator_params
        Passed to every estimator that accepts them (``n_boot``, ``seed``, ``threshold``, ...).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COLUMNS`: ``session`` (the file name without suffix), ``recording`` (the
        file name), ``group, measure, value, ci_low, ci_high, n_samples, n_units, method,
        warnings, error`` (empty), the ``unit`` of each value and the provenance of each row
        (``bin_size_s, source, t_start_s, t_stop_s, binarization, n_boot, seed, n_blocks,
        neurocomplex_version, created_utc``). ``table.attrs["parameters"]`` records the call.

    Raises
    ------
    NeurocomplexError
        The named errors of :func:`neurocomplex.io.stream.plan_stream` and
        :func:`neurocomplex.io.stream.stream_blocks` (MemoryLimitError when the statistics would
        not fit, before anything is read); InvalidParameterError for unknown measures or parameters.

    Notes
    -----
    Rows equal those of ``nc.measure(nc.load(path, bin_size), measures)`` with the same parameters,
    intervals included: counts, word counts and activity statistics exactly, spectra to rounding
    (1e-9 relative or better); a streamed series is converted to its unit (``conversion``,
    ``channel_conversion``, ``offset``) exactly as :func:`neurocomplex.load` converts it. Each
    interval is the in-memory estimator's own, computed from what the stream kept of the session
    (:mod:`neurocomplex.batch._intervals`): the dimension's block bootstrap over its blocks (the
    session's blocks are cut where the estimator cuts its own), the activation ratio's and mean
    rate's bootstrap over rows (the count and sum of each row are kept: 12 bytes per row and
    group), the entropies' resampling of the session's word counts (per block of ``block_size``
    samples when given). A dimension with few samples per unit (whose in-memory interval is a
    grouped jackknife) is computed on the session loaded in memory. A measure outside
    :data:`STREAMED` loads the session with :func:`neurocomplex.load` when ``n_samples * n_units *
    8 <= memory_limit`` (default 1 GiB); otherwise its row holds an InvalidParameterError in ``error``.

    Examples
    --------
    >>> import tempfile, os, neurocomplex as nc
    >>> path = os.path.join(tempfile.mkdtemp(), "s.nwb")
    >>> nc.Recording.from_spike_times([[0.01, 0.5, 0.55], [0.3, 0.31]], bin_size=0.1).to_nwb(path)
    >>> t = measure_stream(path, ["activation_ratio"], series="processing/neurocomplex/activity", n_boot=0)
    >>> t[["session", "recording", "measure", "value", "unit"]]
      session recording           measure  value      unit
    0       s      s.nwb  activation_ratio   0.25  fraction
    """
    from neurocomplex.io.stream import plan_stream, stream_blocks

    bin_size, memory_limit = check_common(by, bin_size, memory_limit, n_blocks, max_cells, cache)
    resolved, streamed, others, own = _check_measures(measures, params, estimator_params)
    _intervals.check_blocks(n_blocks, streamed)
    created = now_utc()
    plan = plan_stream(path, bin_size, t_start, t_stop, series, window, _PLAN_BLOCKS if n_blocks is None else n_blocks,
                       group_column, max_cells, cache)
    plan = _intervals.prepare_plan(plan, streamed, by, n_blocks)
    blocks = (stream_blocks(plan, None, _intervals.kinds(streamed), _threshold(streamed), by,
                            word_blocks=_intervals.word_blocks(streamed, plan, n_blocks)) if streamed else [])
    rows = _session_rows(plan, blocks, streamed, others, by, estimator_params, own, memory_limit, n_blocks)
    name = recording_names([os.fspath(path)], full_paths)[0]
    for r in rows:
        r.update(session=_session_name(os.fspath(path)), recording=name)
    request = {"bin_size": bin_size, "series": series, "n_blocks": n_blocks}
    table = tidy([frame(annotate_rows(rows, plan, resolved, request, created))])
    loader = {"t_start": t_start, "t_stop": t_stop, "series": series, "window": window, "n_blocks": n_blocks,
              "group_column": group_column}
    table.attrs["parameters"] = parameters(measures, by, bin_size, params, estimator_params, loader, memory_limit)
    return table
