"""Many sessions on dask.distributed: :func:`measure_many`."""

from __future__ import annotations

import math
import os
import sys
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from neurocomplex._validation import check_int
from neurocomplex.batch import _intervals
from neurocomplex.batch._rows import (
    _MEMORY_LIMIT,
    _TASK_CELLS,
    _check_measures,
    _session_rows,
    _threshold,
)
from neurocomplex.batch._stream import _PLAN_BLOCKS, check_common
from neurocomplex.batch._tables import (
    COLUMNS,
    _session_names,
    annotate_rows,
    expand_paths,
    frame,
    now_utc,
    parameters,
    recording_names,
    tidy,
)
from neurocomplex.errors import InvalidParameterError, NeurocomplexWarning

__all__ = ["measure_many"]


def _error_text(err: BaseException) -> str:
    return f"{type(err).__name__}: {err}"


def _plan_task(path: str, bin_size: float, loader: Mapping[str, Any], streamed: Mapping[str, Any],
               by: str | None, finish: Mapping[str, Any]) -> Any:
    """``(plan, words, None)``: the session's plan, its blocks cut where the estimators' bootstraps cut
    theirs, and the lengths of the word blocks; or the error's text.

    A session whose blocks are one task's work (``finish["task_cells"]``) is streamed and finished
    here too, ``finish`` holding the other keywords of :func:`_finish_task`: ``(plan, words, rows)``,
    one task instead of three (for short sessions the round trips cost as much as the work).
    """
    from neurocomplex.io.stream import check_stream_memory, plan_stream

    n_blocks = loader.get("n_blocks")
    try:
        plan = plan_stream(path, bin_size, **{**loader, "n_blocks": _PLAN_BLOCKS if n_blocks is None else n_blocks})
        plan = _intervals.prepare_plan(plan, streamed, by, n_blocks)
        if streamed:  # sizes before work: refuse what would not fit before any window is read
            check_stream_memory(plan, _intervals.kinds(streamed), by)
        words = _intervals.word_blocks(streamed, plan, n_blocks)
    except Exception as err:
        return _error_text(err)
    keywords = dict(finish)
    ranges, threshold = _split(plan, keywords.pop("task_cells")), keywords.pop("threshold")
    if len(ranges) > 1:
        return plan, words, None
    parts = [_blocks_task(plan, ranges[0], _intervals.kinds(streamed), threshold, by, words)] if streamed else []
    return plan, words, _finish_task(plan, parts, streamed, by=by, **keywords)


def _blocks_task(plan: Any, blocks: Sequence[int], kinds: Sequence[str], threshold: float, by: str | None,
                 word_blocks: Sequence[int]) -> Any:
    from neurocomplex.io.stream import stream_blocks

    try:
        return stream_blocks(plan, blocks, kinds, threshold, by, word_blocks=word_blocks)
    except Exception as err:
        return _error_text(err)


def _finish_task(plan: Any, parts: Sequence[Any], streamed: Mapping[str, Any], others: Sequence[str], by: str | None,
                 common: Mapping[str, Any], own: Mapping[str, Any], memory_limit: int, n_blocks: int | None) -> Any:
    for part in parts:
        if isinstance(part, str):
            return part
    blocks = [b for part in parts for b in part]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NeurocomplexWarning)  # the caveats stay in the warnings column
            return _session_rows(plan, blocks, streamed, others, by, common, own, memory_limit, n_blocks)
    except Exception as err:
        return _error_text(err)


def _split(plan: Any, task_cells: int) -> list[list[int]]:
    """Consecutive ranges of blocks, each about ``task_cells`` cells (bins x units)."""
    n_tasks = max(1, min(plan.n_blocks, -(-plan.n_samples * plan.n_units // task_cells)))
    return [r.tolist() for r in np.array_split(np.arange(plan.n_blocks), n_tasks)]


def _joined(parts: list[Any]) -> list[Any]:
    """Tables in order, each run of sessions given as rows (dicts) made one DataFrame: one
    construction for the run, not one per session (5 ms each, on the processor the workers use)."""
    out: list[Any] = []
    rows: list[dict[str, Any]] = []
    for part in parts:
        if isinstance(part, list):
            rows.extend(part)
            continue
        if rows:
            out.append(frame(rows))
            rows = []
        out.append(part)
    if rows:
        out.append(frame(rows))
    return out


def local_cluster(n_workers: int) -> Any:
    """A LocalCluster of ``n_workers`` processes of one thread each, whose workers allocate memory as a
    plain Python process does.

    dask starts its workers with ``MALLOC_TRIM_THRESHOLD_`` set (to return freed memory to the system
    sooner); setting it turns off glibc's adaptive mmap threshold, so every array above 128 KiB is a
    fresh mmap whose pages fault in again: the row bootstraps of the activation ratio and mean rate
    (a few MB per replicate) then took twice the time they take in a plain process. The variable is
    left unset here (dask's documented way: a ``None`` value), unless it is set in this process's
    environment. BLAS stays single-threaded (dask's ``OMP/MKL/OPENBLAS_NUM_THREADS=1``).

    The workers' statistical profiler (a stack sample of the running task every 10 ms) is off and
    the servers' event-loop tick is 1 s instead of 20 ms: idle, the cluster then takes about 6% of
    one processor instead of 18% (the client's process 3% instead of 7%, each worker 1.3% instead
    of 5.3%, measured with 2 workers), which on a machine of few processors is taken from the tasks.
    The dashboard's profile page stays empty.
    """
    import dask
    from dask.distributed import LocalCluster

    environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ", default={}) or {})
    environ["MALLOC_TRIM_THRESHOLD_"] = None
    quiet = {"distributed.nanny.pre-spawn-environ": environ, "distributed.worker.profile.enabled": False,
             "distributed.admin.tick.interval": "1s"}
    with dask.config.set(quiet):
        return LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=":0")


def _start_cluster(workers: int | None, n_files: int) -> tuple[Any, Any]:
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as err:
        from neurocomplex.errors import MissingDependencyError

        raise MissingDependencyError("measure_many runs on dask.distributed: pip install 'dask[distributed]'.") from err
    n = workers if workers is not None else max(1, min(n_files, os.cpu_count() or 1))
    try:
        cluster = local_cluster(n)
    except RuntimeError as err:
        # Worker processes re-import the caller's main module; that fails for code read from standard
        # input and for scripts without a main guard. Threads in this process still run every task.
        warnings.warn(
            f"dask could not start worker processes ({err}); running {n} worker threads in this process "
            "instead. For separate processes, call measure_many under `if __name__ == \"__main__\":` in a "
            "script file (or pass client=Client(...)).",
            NeurocomplexWarning,
            stacklevel=3,
        )
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=False, dashboard_address=":0")
    client = Client(cluster)
    print(f"dask dashboard: {cluster.dashboard_link} ({n} workers)", file=sys.stderr)
    return cluster, client


def _prepare_out(out: str | os.PathLike[str]) -> Path:
    """The results folder, created and proven writable before any work (a named error otherwise)."""
    from neurocomplex._atomic import output_error, prepare_target, write_bytes

    if isinstance(out, bytes) or not isinstance(out, (str, os.PathLike)):
        raise InvalidParameterError(f"out must be a folder path, got {type(out).__name__}.")
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise InvalidParameterError(f"out={os.fspath(out)!r} is a file, not a folder; give a folder for the results.")
    probe = prepare_target(folder / ".neurocomplex-write-test", "results folder")
    write_bytes(probe, b"neurocomplex\n", "results folder")
    try:
        probe.unlink()
    except OSError as err:
        raise output_error(folder, err, "results folder") from err
    return folder


def measure_many(
    paths_or_globs: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    measures: str | Sequence[str],
    by: str | None = "group",
    bin_size: float = 0.01,
    client: Any = None,
    out: str | os.PathLike[str] | None = None,
    progress: bool | None = None,
    *,
    workers: int | None = None,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    memory_limit: int = _MEMORY_LIMIT,
    task_cells: int = _TASK_CELLS,
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
    """The measure table of many NWB sessions, streamed, one dask.distributed task per file.

    Parameters
    ----------
    paths_or_globs : path, folder, glob pattern, URL, or a sequence of them
        NWB files; a folder means every ``.nwb`` below it (see :func:`expand_paths`); an http(s)
        URL is read lazily over HTTP (:mod:`neurocomplex.io.remote`; a DANDI asset's URL is
        ``https://api.dandiarchive.org/api/assets/<asset_id>/download/``).
    measures : str or sequence of str
        Registered estimators, as :func:`measure_stream` (streamed where possible).
    by : {"group", None}
        One row per group of units (brain area) and ``"all"``, or all units only.
    bin_size : float
        Bin width in seconds.
    client : dask.distributed.Client, optional
        Run on this client's cluster. Default: start a ``LocalCluster`` (``workers`` processes,
        one thread each), print its dashboard address, and close it at the end.
    out : str or path-like, optional
        Folder: each finished session is written there as ``SESSION.csv`` with ``SESSION.json``,
        the record of the parameters and of the input file it was computed from. A re-run with
        the same folder reuses a session only when everything asked is the same (measures, bin
        size, window, series, parameters, package version) and the input file is unchanged;
        anything else is computed again and replaces it, and a damaged file (cut, empty) is
        computed again with a NeurocomplexWarning. Sessions that failed are not written (and an
        earlier result of theirs is removed), so a re-run tries them again. Files are written atomically: a run that is killed, or that
        fills the disk, leaves complete sessions or none (a full disk stops the run with an
        OutputError).
    progress : bool, optional
        One progress bar over files (with the spikes read so far); default only in a terminal.
    workers : int, optional
        Processes of the LocalCluster (default: ``min(n_files, cpu count)``).
    params : mapping of measure name -> dict, optional
        Parameters for one estimator.
    memory_limit : int
        As :func:`measure_stream`.
    task_cells : int
        A session of more than this many cells (bins x units) is split into several tasks, each
        a range of bootstrap blocks, whose statistics are merged (default 10**8).
    t_start, t_stop, series, window, group_column, max_cells
        As :func:`neurocomplex.io.stream.plan_stream`, for every file.
    n_blocks : int, optional
        As :func:`measure_stream`: every streamed measure's block bootstrap then has blocks of
        ``ceil(n_samples / n_blocks)`` samples. Default: each estimator's own interval.
    full_paths : bool
        Put each file's absolute path in the ``recording`` column. Default: the path below the
        folder common to all files (the file name when they share one), so that the table, its
        CSVs and ``nc.write_results`` files name no folder of this machine. A URL is given
        without its query (a signed URL's query is a credential).
    cache : path, optional
        For URLs: a folder that keeps the fetched parts of each file, shared by the workers of
        this machine, so that a file is fetched once for planning, streaming and any measure
        loaded in memory, and a re-run fetches nothing again. Not part of what is asked (the
        values do not depend on it). Session names of URLs are their last path component (a
        DANDI asset's id), and with ``out`` a URL's session is reused while the server reports
        the same size, ``ETag`` and ``Last-Modified``.
    **estimator_params
        Passed to every estimator that accepts them (``n_boot``, ``seed``, ...).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COLUMNS` (those of :func:`measure_stream`) for each session, sessions in
        path order. A session that failed has one row whose ``error`` is ``"ErrorClass: message"``
        (CorruptFileError for a truncated file, MissingTableError for a file without Units table,
        MemoryLimitError or InvalidParameterError for a session too large to stream, KilledWorker
        when its worker died repeatedly, ...) and whose values are missing.
        ``table.attrs["parameters"]`` records the call's parameters (:func:`neurocomplex.write_results`
        stores them).

    Raises
    ------
    InvalidParameterError
        Bad measures or parameters, or paths that match nothing (before any work starts).
    OutputError
        ``out`` cannot be written (before any work starts), or a session's result could not be
        written (no space, ...): the run stops there; the sessions written so far are kept.
    MissingDependencyError
        dask.distributed is not installed.

    Notes
    -----
    Each file is planned from its sizes alone (bins, units, and the memory its statistics need,
    refused up front as :func:`neurocomplex.load` refuses), streamed by one task or, for long
    files, by several tasks over consecutive ranges of blocks, and finished by a task that merges
    the block statistics and computes the measures; only the statistics travel between workers.
    A file of at most ``task_cells`` cells is planned, streamed and finished by a single task.
    Input files are opened read-only.

    The LocalCluster started here leaves glibc's allocation thresholds at their defaults in the
    workers, turns the workers' statistical profiler off and ticks its event loops once a second
    (:func:`local_cluster`); with a cluster of your own, start it with
    ``dask.config.set({"distributed.nanny.pre-spawn-environ": {..., "MALLOC_TRIM_THRESHOLD_": None},
    "distributed.worker.profile.enabled": False, "distributed.admin.tick.interval": "1s"})``
    for the same speed (dask's default allocation threshold doubled the time of the row
    bootstraps; its profiler and 20 ms tick take about 12% of a processor, idle, with 2 workers).

    Examples
    --------
    >>> import neurocomplex as nc
    >>> table = nc.measure_many("data/*.nwb", ["effective_dimension"], workers=2)  # doctest: +SKIP
    """
    from neurocomplex.batch._cache import cache_key, input_identity, load_session

    bin_size, memory_limit = check_common(by, bin_size, memory_limit, n_blocks, max_cells, cache)
    task_cells = check_int("task_cells", task_cells, 1)
    if workers is not None:
        workers = check_int("workers", workers, 1)
    resolved, streamed, others, own = _check_measures(measures, params, estimator_params)
    _intervals.check_blocks(n_blocks, streamed)
    threshold = _threshold(streamed)
    paths = expand_paths(paths_or_globs)
    names = _session_names(paths)
    shown = recording_names(paths, full_paths)
    loader = {"t_start": t_start, "t_stop": t_stop, "series": series, "window": window, "n_blocks": n_blocks,
              "group_column": group_column}
    asked = parameters(measures, by, bin_size, params, estimator_params, loader, memory_limit)
    out_dir = None if out is None else _prepare_out(out)
    keys: list[str | None] = [None] * len(paths)
    frames: dict[int, Any] = {}
    todo = []
    for i, name in enumerate(names):
        if out_dir is not None:
            keys[i] = cache_key(asked, input_identity(paths[i]))
            done = load_session(out_dir, name, keys[i], COLUMNS)
            if done is not None:
                frames[i] = done.assign(session=name, recording=shown[i])
                continue
        todo.append(i)
    if todo:
        cluster = None
        if client is None:
            cluster, client = _start_cluster(workers, len(todo))
        try:
            job = _Job(client, paths, names, shown, keys, bin_size, {**loader, "max_cells": max_cells, "cache": cache},
                       resolved,
                       streamed, others, by, estimator_params, own, memory_limit, task_cells, threshold, out_dir)
            with warnings.catch_warnings():
                # The caveats stay in the warnings column. Tasks on a client of threads share this
                # process's filters, which their own catch_warnings blocks save and restore out of
                # order: ignored here too, none reaches the caller.
                warnings.simplefilter("ignore", NeurocomplexWarning)
                job.run(todo, frames, progress, len(paths) - len(todo))
        finally:
            if cluster is not None:
                client.close()
                cluster.close()
    table = tidy(_joined([frames[i] for i in range(len(paths))]))
    table.attrs["parameters"] = asked
    return table


class _Job:
    """The tasks of one measure_many call: plan -> blocks -> finish per file, rows collected as they finish."""

    def __init__(self, client: Any, paths: list[str], names: list[str], shown: list[str], keys: list[str | None],
                 bin_size: float, loader: Mapping[str, Any], resolved: Mapping[str, Any], streamed: Mapping[str, Any],
                 others: Sequence[str], by: str | None, common: Mapping[str, Any], own: Mapping[str, Any],
                 memory_limit: int, task_cells: int, threshold: float, out_dir: Path | None) -> None:
        self.client, self.paths, self.names, self.shown, self.keys = client, paths, names, shown, keys
        self.bin_size, self.loader, self.resolved, self.streamed, self.others = bin_size, loader, resolved, streamed, others
        self.by, self.common, self.own, self.memory_limit = by, common, own, memory_limit
        self.task_cells, self.threshold, self.out_dir = task_cells, threshold, out_dir
        self.kinds = _intervals.kinds(streamed)
        self.created = now_utc()
        self.request = {"bin_size": bin_size, "series": loader.get("series"), "n_blocks": loader.get("n_blocks")}

    def _rows(self, i: int, rows: list[dict[str, Any]], plan: Any) -> list[dict[str, Any]]:
        for r in rows:
            r.update(session=self.names[i], recording=self.shown[i])
        return annotate_rows(rows, plan, self.resolved, self.request, self.created)

    def _error(self, i: int, text: str) -> list[dict[str, Any]]:
        row = {"group": "", "measure": "", "value": math.nan, "ci_low": math.nan, "ci_high": math.nan,
               "n_samples": None, "n_units": None, "method": "", "warnings": "", "error": text}
        return self._rows(i, [row], None)

    def _failed(self, i: int, text: str, frames: dict[int, Any]) -> None:
        from neurocomplex.batch._cache import discard_session

        frames[i] = self._error(i, text)
        if self.out_dir is not None:  # not stored, so a re-run tries again; an older result of it goes
            discard_session(self.out_dir, self.names[i])

    def _finished(self, i: int, plan: Any, rows: Any, frames: dict[int, Any], spikes: list[int]) -> None:
        from neurocomplex.batch._cache import store_session

        if isinstance(rows, str):
            self._failed(i, rows, frames)
            return
        frames[i] = self._rows(i, rows, plan)  # made a table with the others' at the end
        if self.out_dir is not None:  # a full disk stops the run here, with the path and the cause
            frames[i] = frame(frames[i])
            store_session(self.out_dir, self.names[i], frames[i], self.keys[i])
        spikes[0] += plan.n_spikes

    def run(self, todo: list[int], frames: dict[int, Any], progress: bool | None, already: int) -> None:
        from dask.distributed import as_completed

        from neurocomplex._progress import progress_bar

        client = self.client
        finish = {"others": self.others, "common": self.common, "own": self.own, "memory_limit": self.memory_limit,
                  "n_blocks": self.loader.get("n_blocks"), "task_cells": self.task_cells, "threshold": self.threshold}
        plans = {client.submit(_plan_task, self.paths[i], self.bin_size, self.loader, self.streamed, self.by, finish,
                               pure=False): i for i in todo}
        finishing: dict[Any, tuple[int, Any]] = {}
        # each result travels with the news that its task finished (no round trip per file to fetch it)
        pending = as_completed(list(plans), with_results=True, raise_errors=False)
        spikes = [0]

        def result(fut: Any, value: Any) -> Any:
            if fut.status == "finished":
                return value
            try:
                return fut.result()
            except Exception as err:  # a worker that died repeatedly (KilledWorker), a cancelled task
                return _error_text(err)

        def events() -> Any:
            for fut, value in pending:
                if fut in plans:
                    i, planned = plans[fut], result(fut, value)
                    if isinstance(planned, str):
                        self._failed(i, planned, frames)
                        yield i
                        continue
                    plan, words, rows = planned
                    if rows is not None:  # planned, streamed and finished in one task
                        self._finished(i, plan, rows, frames, spikes)
                        yield i
                        continue
                    parts = ([client.submit(_blocks_task, plan, r, self.kinds, self.threshold, self.by, words,
                                            pure=False)
                              for r in _split(plan, self.task_cells)] if self.streamed else [])
                    fin = client.submit(_finish_task, plan, parts, self.streamed, self.others, self.by, self.common,
                                        self.own, self.memory_limit, self.loader.get("n_blocks"), pure=False)
                    finishing[fin] = (i, plan)
                    pending.add(fin)
                else:
                    i, plan = finishing.pop(fut)
                    self._finished(i, plan, result(fut, value), frames, spikes)
                    yield i

        bar = progress_bar(events(), len(todo), progress, "sessions", unit="file")
        try:
            for _ in bar:
                if hasattr(bar, "set_postfix_str"):
                    bar.set_postfix_str(f"{spikes[0]:,} spikes read" + (f", {already} already written" if already else ""))
        except BaseException:
            client.cancel(list(finishing) + list(plans))  # nothing more is computed for a run that stopped
            raise
