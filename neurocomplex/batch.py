"""Many sessions: the measure table of every NWB file of a study, streamed, on dask.distributed.

:func:`measure_stream` measures one file by streaming it (:mod:`neurocomplex.io.stream`): only
the statistics of the bootstrap blocks and one window are ever in memory. :func:`measure_many`
does this for many files at once, one dask.distributed task per file (and per range of blocks
for long files, whose statistics are then merged), on a LocalCluster it starts or on any Client
given, and returns one tidy table with a ``session`` and an ``error`` column. A file that fails
becomes a row naming its error; the others finish.
"""

from __future__ import annotations

import glob
import inspect
import math
import os
import sys
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from neurocomplex._validation import check_choice, check_float, check_int
from neurocomplex.errors import InvalidParameterError, NeurocomplexError, NeurocomplexWarning

__all__ = ["STREAMED", "COLUMNS", "measure_stream", "measure_many", "expand_paths"]

# Measures computed from streamed statistics (pattern_complexity only at scale 0).
STREAMED = ("effective_dimension", "participation_ratio", "activation_ratio", "mean_rate", "constant_fraction",
            "pattern_entropy", "pattern_complexity")
_NEEDS = {"effective_dimension": "covariance", "participation_ratio": "covariance", "activation_ratio": "activity",
          "mean_rate": "activity", "constant_fraction": "activity", "pattern_entropy": "words",
          "pattern_complexity": "words"}
COLUMNS = ["session", "recording", "group", "measure", "value", "ci_low", "ci_high", "n_samples", "n_units",
           "method", "warnings", "error"]
# Measures outside STREAMED load the session in memory when its matrix takes at most this much.
_MEMORY_LIMIT = 2**30
# A session with more cells (bins x units) than this is split into several tasks.
_TASK_CELLS = 10**8
_LOADER_KEYS = ("t_start", "t_stop", "series", "window", "n_blocks", "group_column")


# --------------------------------------------------------------------------- parameters
def _estimator_params(name: str, common: Mapping[str, Any], own: Mapping[str, Any]) -> dict[str, Any]:
    """The estimator's defaults, overridden by the common parameters it accepts and its own."""
    from neurocomplex.measures import get_estimator

    sig = inspect.signature(get_estimator(name).func).parameters
    out = {k: p.default for k, p in sig.items() if p.default is not inspect.Parameter.empty}
    out.update({k: v for k, v in common.items() if k in sig})
    out.update(own)
    return out


def _is_streamed(name: str, p: Mapping[str, Any]) -> bool:
    return name in STREAMED and (name != "pattern_complexity" or float(p.get("scale", 0.1)) == 0.0)


def _threshold(chosen: Mapping[str, Mapping[str, Any]]) -> float:
    values = {float(p.get("threshold", 0.0)) for n, p in chosen.items() if _NEEDS.get(n) in ("activity", "words")}
    if len(values) > 1:
        raise InvalidParameterError(f"streamed measures need one threshold; got {sorted(values)}. Run them separately.")
    return values.pop() if values else 0.0


# --------------------------------------------------------------------------- rows from block statistics
def _row(group: str, name: str, value: float, ci: Any, n_samples: int, n_units: int, method: str,
         notes: Sequence[str] = ()) -> dict[str, Any]:
    low, high = ci if ci is not None else (math.nan, math.nan)
    return {"group": group, "measure": name, "value": float(value), "ci_low": low, "ci_high": high,
            "n_samples": int(n_samples), "n_units": int(n_units), "method": method, "warnings": " | ".join(notes)}


def _sub_covariance(acc: Any, idx: np.ndarray, n_units: int) -> Any:
    from neurocomplex.stats import CovarianceAccumulator

    if idx.size == n_units:
        return acc
    return CovarianceAccumulator.from_dict({"n_units": idx.size, "n_samples": acc.n_samples, "mean": acc.mean[idx],
                                            "scatter": acc.scatter[np.ix_(idx, idx)]})


def _block_weights(n_blocks: int, n_boot: int, seed: Any) -> np.ndarray:
    """How often each block is drawn in each replicate (``n_boot x n_blocks``), blocks drawn with replacement."""
    rng = np.random.default_rng(seed)
    return rng.multinomial(n_blocks, np.full(n_blocks, 1.0 / n_blocks), size=n_boot).astype(np.float64)


def _ratio_ci(numer: np.ndarray, denom: np.ndarray, p: Mapping[str, Any]) -> tuple[Any, list[str]]:
    """Block-bootstrap percentile interval of ``sum(numer) / sum(denom)`` (one entry per block)."""
    from neurocomplex.estimate import interval_from_replicates

    n_boot = int(p.get("n_boot", 100))
    if n_boot == 0:
        return None, []
    if numer.size < 2:
        return None, ["a single block: no bootstrap interval (use a longer session or a smaller window)."]
    w = _block_weights(numer.size, n_boot, p.get("seed", 0))
    with np.errstate(invalid="ignore", divide="ignore"):
        reps = (w @ numer) / (w @ denom)
    return interval_from_replicates(reps, float(p.get("ci_level", 0.95))), []


def _dimension_row(group: str, name: str, blocks: list[Any], p: Mapping[str, Any], dtype: str) -> dict[str, Any]:
    from neurocomplex.measures.dimension import effective_dimension_from_blocks

    order = 2.0 if name == "participation_ratio" else p.get("order", 1.0)
    n_boot = int(p.get("n_boot", 100))
    notes = []
    if n_boot > 0 and sum(b.n_samples > 0 for b in blocks) < 2:
        n_boot, notes = 0, ["a single block: no bootstrap interval (use a longer session or a smaller window)."]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", NeurocomplexWarning)
        est = effective_dimension_from_blocks(blocks, order=order, n_boot=n_boot, seed=p.get("seed", 0),
                                              ci_level=p.get("ci_level", 0.95), dtype=np.dtype(dtype),
                                              standardize=p.get("standardize", False))
    notes += [m for m in est.warnings if m not in notes] + [str(w.message) for w in caught
                                                            if str(w.message) not in est.warnings]
    return _row(group, name, est.value, est.ci, est.n_samples, est.n_units, est.method, notes)


def _activity_row(group: str, name: str, blocks: list[Any], idx: np.ndarray, p: Mapping[str, Any],
                  plan: Any) -> dict[str, Any]:
    """Activation ratio, mean rate or constant fraction of units ``idx`` from per-block activity statistics."""
    from neurocomplex.errors import InsufficientDataError

    acts = [b.activity for b in blocks if b.activity.n_samples > 0]
    n = np.array([a.n_samples for a in acts], dtype=np.float64)
    total = float(n.sum())
    k = idx.size
    if name == "activation_ratio":
        active = np.array([a.active[idx].sum() for a in acts], dtype=np.float64)
        ci, notes = _ratio_ci(active, n * k, p)
        return _row(group, name, active.sum() / (total * k), ci, total, k, "activation_ratio", notes)
    if name == "mean_rate":
        in_hz = plan.kind == "spike_counts" and plan.bin_size is not None
        scale = 1.0 / plan.bin_size if in_hz else 1.0
        sums = np.array([a.mean[idx].sum() * a.n_samples for a in acts])  # per block: sum over rows and units
        ci, notes = _ratio_ci(sums * scale, n * k, p)
        merged = acts[0]
        for a in acts[1:]:
            merged = merged.merge(a)
        return _row(group, name, float((merged.mean[idx] * scale).mean()), ci, total, k, "mean_rate", notes)
    # constant_fraction, as nc.constant_fraction: variance <= rtol x median, or at the rounding level
    if total < 2:
        raise InsufficientDataError(f"constant_fraction needs at least 2 samples, got {int(total)}.")
    merged = acts[0]
    for a in acts[1:]:
        merged = merged.merge(a)
    var = merged.variance()[idx]
    median = float(np.median(var))
    rounding = (total * np.finfo(np.float64).eps * np.abs(merged.mean[idx])) ** 2
    constant = (var <= float(p.get("rtol", 1e-3)) * median) | (var <= rounding)
    notes = []
    if median <= 0 or not np.any(var > rounding):
        notes.append(f"the median unit variance is 0: at least half of the {k} units are exactly constant, so only "
                     "exactly constant units are counted (the threshold rtol x median is 0).")
    return _row(group, name, float(constant.mean()), None, total, k, "median_relative_variance", notes)


def _words_row(group: str, name: str, blocks: list[Any], p: Mapping[str, Any]) -> dict[str, Any]:
    from neurocomplex.measures.entropy import pattern_entropy_from_blocks

    counts = [b.words[group] for b in blocks]
    n_units = counts[0].n_units
    n_boot = int(p.get("n_boot", 200))
    notes = []
    if n_boot > 0 and sum(c.n_samples > 0 for c in counts) < 2:
        n_boot, notes = 0, ["a single block: no bootstrap interval (use a longer session or a smaller window)."]
    complexity = name == "pattern_complexity"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", NeurocomplexWarning)
        est = pattern_entropy_from_blocks(counts, method="plugin" if complexity else p.get("method", "nsb"),
                                          base=math.e if complexity else p.get("base", 2.0), n_boot=n_boot,
                                          seed=p.get("seed", 0), ci_level=p.get("ci_level", 0.95))
    notes += list(est.warnings) + [str(w.message) for w in caught if str(w.message) not in est.warnings]
    if not complexity:
        return _row(group, name, est.value, est.ci, est.n_samples, n_units, est.method, notes)
    # C(0) = exp(H) with H the plug-in entropy in nats; exp is monotone, so the interval maps too.
    ci = None if est.ci is None else (max(1.0, math.exp(est.ci[0])), math.exp(est.ci[1]))
    return _row(group, name, math.exp(est.value), ci, est.n_samples, n_units, "exp_plugin_entropy_scale_0", notes)


def _rows_from_blocks(plan: Any, blocks: list[Any], chosen: Mapping[str, Mapping[str, Any]],
                      by: str | None) -> list[dict[str, Any]]:
    """One row per group x streamed measure, computed from the block statistics alone."""
    rows = []
    covs: dict[str, list[Any]] = {}
    for group, idx in plan.group_units(by).items():
        for name, p in chosen.items():
            try:
                need = _NEEDS[name]
                if need == "covariance":
                    if group not in covs:
                        covs[group] = [_sub_covariance(b.covariance, idx, plan.n_units) for b in blocks]
                    row = _dimension_row(group, name, covs[group], p, plan.dtype)
                elif need == "activity":
                    row = _activity_row(group, name, blocks, idx, p, plan)
                else:
                    row = _words_row(group, name, blocks, p)
            except NeurocomplexError as err:  # one sparse group does not stop the table, as nc.measure(errors="warn")
                row = _row(group, name, math.nan, None, plan.n_samples, idx.size, "failed", [str(err)])
            rows.append(row)
    return rows


def _cells_bytes(plan: Any) -> int:
    return plan.n_samples * plan.n_units * 8


def _in_memory_rows(plan: Any, names: Sequence[str], by: str | None, common: Mapping[str, Any],
                    own: Mapping[str, Mapping[str, Any]], memory_limit: int) -> list[dict[str, Any]]:
    """Measures that need the whole matrix: loaded with nc.load when it fits, else a named error per measure."""
    need = _cells_bytes(plan)
    if need > memory_limit:
        msg = (f"InvalidParameterError: this measure needs the whole binned matrix in memory ({plan.n_samples} x "
               f"{plan.n_units} float64 = {need / 2**30:.2f} GiB > memory_limit = {memory_limit / 2**30:.2f} GiB); "
               f"raise memory_limit, use a larger bin_size or a shorter window, or choose streamed measures {STREAMED}.")
        return [{**_row("all", n, math.nan, None, plan.n_samples, plan.n_units, "not run"), "error": msg}
                for n in names]
    from neurocomplex.comparison.table import measure
    from neurocomplex.io.nwb import load_nwb

    units = plan.source == "units"
    rec = load_nwb(plan.path, bin_size=plan.bin_size if units else 0.01, t_start=plan.t_start, t_stop=plan.t_stop,
                   series=None if units else plan.source, progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NeurocomplexWarning)
        table = measure(rec, list(names), by=by, params={n: dict(own.get(n, {})) for n in names if own.get(n)},
                        errors="warn", progress=False, **common)
    return table.drop(columns=["recording"]).to_dict("records")


def _check_measures(measures: str | Sequence[str], params: Mapping[str, Mapping[str, Any]] | None,
                    common: Mapping[str, Any]) -> tuple[dict[str, dict[str, Any]], list[str], dict[str, Any]]:
    from neurocomplex.measures import get_estimator

    names = list(dict.fromkeys([measures] if isinstance(measures, str) else list(measures)))
    if not names:
        raise InvalidParameterError("measures is empty: name at least one estimator (nc.list_estimators()).")
    for name in names:
        if get_estimator(name).input != "recording":
            raise InvalidParameterError(f"{name!r} does not take one Recording; it cannot run on sessions.")
    own = {k: dict(v) for k, v in dict(params or {}).items()}
    unknown = set(own) - set(names)
    if unknown:
        raise InvalidParameterError(f"params given for measures not requested: {sorted(unknown)}.")
    resolved = {n: _estimator_params(n, common, own.get(n, {})) for n in names}
    streamed = {n: p for n, p in resolved.items() if _is_streamed(n, p)}
    others = [n for n in names if n not in streamed]
    return streamed, others, own


def _session_rows(plan: Any, blocks: list[Any], streamed: Mapping[str, Any], others: Sequence[str], by: str | None,
                  common: Mapping[str, Any], own: Mapping[str, Any], memory_limit: int) -> list[dict[str, Any]]:
    rows = _rows_from_blocks(plan, blocks, streamed, by) if streamed else []
    if others:
        rows += _in_memory_rows(plan, others, by, common, own, memory_limit)
    for r in rows:
        r.setdefault("error", "")
    return rows


def _parameters(measures: Any, by: Any, bin_size: float, params: Any, common: Mapping[str, Any],
                loader: Mapping[str, Any]) -> dict[str, Any]:
    """What produced a table (kept in ``table.attrs["parameters"]``; written by ``nc.write_results``)."""
    return {"measures": [measures] if isinstance(measures, str) else list(measures), "by": by, "bin_size": bin_size,
            "params": {k: dict(v) for k, v in dict(params or {}).items()}, **dict(common), **dict(loader)}


def _kinds(streamed: Mapping[str, Any]) -> list[str]:
    return sorted({_NEEDS[n] for n in streamed} | {"activity"})


def _session_name(path: str) -> str:
    return Path(path).stem


def _frame(rows: list[dict[str, Any]]) -> Any:
    import pandas as pd

    return pd.DataFrame(rows, columns=COLUMNS)


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
    n_blocks: int = 20,
    group_column: str | None = None,
    **estimator_params: Any,
) -> Any:
    """The measure table of one NWB file, streamed window by window in this process.

    Parameters
    ----------
    path : str or path-like
        An ``.nwb`` file (opened read-only, never modified).
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
    t_start, t_stop, series, window, n_blocks, group_column
        As :func:`neurocomplex.io.stream.plan_stream`.
    **estimator_params
        Passed to every estimator that accepts them (``n_boot``, ``seed``, ``threshold``, ...).

    Returns
    -------
    pandas.DataFrame
        Columns ``session, recording, group, measure, value, ci_low, ci_high, n_samples, n_units,
        method, warnings, error`` (``recording`` is the path, ``session`` the file name without
        suffix; ``error`` is empty).

    Raises
    ------
    NeurocomplexError
        The named errors of :func:`neurocomplex.io.stream.plan_stream` and
        :func:`neurocomplex.io.stream.stream_blocks`; InvalidParameterError for unknown measures
        or parameters.

    Notes
    -----
    Values equal those of ``nc.measure(nc.load(path, bin_size), measures)``: counts, word counts
    and activity statistics exactly, spectra to rounding (1e-6 relative or better). Intervals are
    block-bootstrap intervals over the ``n_blocks`` blocks of consecutive windows (the estimators'
    own block bootstraps on the statistics), so they differ from the in-memory intervals, which
    resample single bins or blocks of ``block_size`` bins. Pattern complexity at scale 0 is
    ``exp(H)``, ``H`` the plug-in pattern entropy in nats; its interval is the exponential of the
    entropy's. A measure outside :data:`STREAMED` loads the session with :func:`neurocomplex.load`
    when ``n_samples * n_units * 8 <= memory_limit`` (default 1 GiB); otherwise its row holds
    an InvalidParameterError in ``error``.

    Examples
    --------
    >>> import tempfile, os, neurocomplex as nc
    >>> path = os.path.join(tempfile.mkdtemp(), "s.nwb")
    >>> nc.Recording.from_spike_times([[0.01, 0.5, 0.55], [0.3, 0.31]], bin_size=0.1).to_nwb(path)
    >>> t = measure_stream(path, ["activation_ratio"], series="processing/neurocomplex/activity", n_boot=0)
    >>> t[["session", "measure", "value"]]
      session           measure  value
    0       s  activation_ratio   0.25
    """
    from neurocomplex.io.stream import plan_stream, stream_blocks

    check_choice("by", by, ("group", None))
    memory_limit = check_int("memory_limit", memory_limit, 0)
    streamed, others, own = _check_measures(measures, params, estimator_params)
    plan = plan_stream(path, bin_size, t_start, t_stop, series, window, n_blocks, group_column)
    blocks = stream_blocks(plan, None, _kinds(streamed), _threshold(streamed), by) if streamed else []
    rows = _session_rows(plan, blocks, streamed, others, by, estimator_params, own, memory_limit)
    for r in rows:
        r.update(session=_session_name(str(path)), recording=str(path))
    table = _frame(rows)
    table.attrs["parameters"] = _parameters(measures, by, bin_size, params, estimator_params,
                                            {"t_start": t_start, "t_stop": t_stop, "series": series, "window": window,
                                             "n_blocks": n_blocks, "group_column": group_column})
    return table


# --------------------------------------------------------------------------- many files
def expand_paths(paths_or_globs: str | os.PathLike[str] | Sequence[str | os.PathLike[str]]) -> list[str]:
    """Files named by paths, folders (every ``.nwb`` below them) and glob patterns, sorted, once each.

    Parameters
    ----------
    paths_or_globs : path, glob pattern, or a sequence of them

    Returns
    -------
    list of str
        A path that does not exist is kept (its session then reports MissingFileError).

    Raises
    ------
    InvalidParameterError
        Nothing given, or a folder or pattern that matches no ``.nwb`` file.

    Examples
    --------
    >>> expand_paths(["b.nwb", "a.nwb", "b.nwb"])
    ['a.nwb', 'b.nwb']
    """
    items = [paths_or_globs] if isinstance(paths_or_globs, (str, os.PathLike)) else list(paths_or_globs)
    if not items:
        raise InvalidParameterError("no files given: pass NWB paths, folders or glob patterns.")
    found: list[str] = []
    for item in items:
        text = os.fspath(item)
        if Path(text).is_dir():
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


def _session_names(paths: Sequence[str]) -> list[str]:
    """File names without suffix; paths relative to their common folder where names repeat."""
    stems = [_session_name(p) for p in paths]
    if len(set(stems)) == len(stems):
        return stems
    root = os.path.commonpath([os.path.abspath(p) for p in paths])
    return [os.path.splitext(os.path.relpath(os.path.abspath(p), root))[0].replace(os.sep, "__") for p in paths]


def _error_text(err: BaseException) -> str:
    return f"{type(err).__name__}: {err}"


def _plan_task(path: str, bin_size: float, loader: Mapping[str, Any]) -> Any:
    from neurocomplex.io.stream import plan_stream

    try:
        return plan_stream(path, bin_size, **loader)
    except Exception as err:
        return _error_text(err)


def _blocks_task(plan: Any, blocks: Sequence[int], kinds: Sequence[str], threshold: float, by: str | None) -> Any:
    from neurocomplex.io.stream import stream_blocks

    try:
        return stream_blocks(plan, blocks, kinds, threshold, by)
    except Exception as err:
        return _error_text(err)


def _finish_task(plan: Any, parts: Sequence[Any], streamed: Mapping[str, Any], others: Sequence[str], by: str | None,
                 common: Mapping[str, Any], own: Mapping[str, Any], memory_limit: int) -> Any:
    for part in parts:
        if isinstance(part, str):
            return part
    blocks = [b for part in parts for b in part]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NeurocomplexWarning)  # the caveats stay in the warnings column
            return _session_rows(plan, blocks, streamed, others, by, common, own, memory_limit)
    except Exception as err:
        return _error_text(err)


def _split(plan: Any, task_cells: int) -> list[list[int]]:
    """Consecutive ranges of blocks, each about ``task_cells`` cells (bins x units)."""
    n_tasks = max(1, min(plan.n_blocks, -(-plan.n_samples * plan.n_units // task_cells)))
    return [r.tolist() for r in np.array_split(np.arange(plan.n_blocks), n_tasks)]


def _start_cluster(workers: int | None, n_files: int) -> tuple[Any, Any]:
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as err:
        from neurocomplex.errors import MissingDependencyError

        raise MissingDependencyError("measure_many runs on dask.distributed: pip install 'dask[distributed]'.") from err
    n = workers if workers is not None else max(1, min(n_files, os.cpu_count() or 1))
    try:
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0")
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


def _out_file(out: Path, session: str) -> Path:
    return out / f"{session}.csv"


def _read_done(path: Path) -> Any:
    import pandas as pd

    return pd.read_csv(path, keep_default_na=False, na_values=[""])


def _tidy(frames: list[Any]) -> Any:
    """One table with the same dtypes whether sessions were computed now or read back from CSV."""
    import pandas as pd

    table = pd.concat([f for f in frames if len(f)], ignore_index=True) if any(len(f) for f in frames) else _frame([])
    table = table.reindex(columns=COLUMNS)
    for col in ("session", "recording", "group", "measure", "method", "warnings", "error"):
        column = table[col].astype(object)
        table[col] = column.where(column.notna(), "").astype(str)
    for col in ("value", "ci_low", "ci_high"):
        table[col] = table[col].astype(np.float64)
    for col in ("n_samples", "n_units"):
        table[col] = table[col].astype("Int64")
    return table


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
    n_blocks: int = 20,
    group_column: str | None = None,
    **estimator_params: Any,
) -> Any:
    """The measure table of many NWB sessions, streamed, one dask.distributed task per file.

    Parameters
    ----------
    paths_or_globs : path, folder, glob pattern, or a sequence of them
        NWB files; a folder means every ``.nwb`` below it (see :func:`expand_paths`).
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
        Folder: each finished session's table is written there as ``SESSION.csv``; a re-run with
        the same folder reads the sessions already written instead of computing them again.
        Sessions that failed are not written, so a re-run tries them again.
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
    t_start, t_stop, series, window, n_blocks, group_column
        As :func:`neurocomplex.io.stream.plan_stream`, for every file.
    **estimator_params
        Passed to every estimator that accepts them (``n_boot``, ``seed``, ...).

    Returns
    -------
    pandas.DataFrame
        Columns ``session, recording, group, measure, value, ci_low, ci_high, n_samples, n_units,
        method, warnings, error``: the rows of :func:`measure_stream` for each session, sessions in
        path order. A session that failed has one row whose ``error`` is ``"ErrorClass: message"``
        (CorruptFileError for a truncated file, MissingTableError for a file without Units table,
        ...) and whose other values are missing. ``table.attrs["parameters"]`` records the call's
        parameters (:func:`neurocomplex.write_results` stores them).

    Raises
    ------
    InvalidParameterError
        Bad measures or parameters, or paths that match nothing (before any work starts).
    MissingDependencyError
        dask.distributed is not installed.

    Notes
    -----
    Each file is planned (sizes only), streamed by one task or, for long files, by several tasks
    over consecutive ranges of blocks, and finished by a task that merges the block statistics
    and computes the measures; only the statistics travel between workers. Input files are
    opened read-only.

    Examples
    --------
    >>> import neurocomplex as nc
    >>> table = nc.measure_many("data/*.nwb", ["effective_dimension"], workers=2)  # doctest: +SKIP
    """
    check_choice("by", by, ("group", None))
    bin_size = check_float("bin_size (seconds)", bin_size, 0.0, low_open=True)
    memory_limit = check_int("memory_limit", memory_limit, 0)
    task_cells = check_int("task_cells", task_cells, 1)
    if workers is not None:
        workers = check_int("workers", workers, 1)
    streamed, others, own = _check_measures(measures, params, estimator_params)
    threshold = _threshold(streamed)
    kinds = _kinds(streamed)
    paths = expand_paths(paths_or_globs)
    names = _session_names(paths)
    loader = {"t_start": t_start, "t_stop": t_stop, "series": series, "window": window, "n_blocks": n_blocks,
              "group_column": group_column}
    out_dir = None if out is None else Path(out)
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    frames: dict[int, Any] = {}
    todo = []
    for i, name in enumerate(names):
        done = None if out_dir is None else _out_file(out_dir, name)
        if done is not None and done.is_file():
            frames[i] = _read_done(done)
        else:
            todo.append(i)
    if todo:
        cluster = None
        if client is None:
            cluster, client = _start_cluster(workers, len(todo))
        try:
            _run(client, todo, paths, names, frames, bin_size, loader, streamed, others, by, estimator_params, own,
                 memory_limit, task_cells, kinds, threshold, out_dir, progress, len(paths) - len(todo))
        finally:
            if cluster is not None:
                client.close()
                cluster.close()
    table = _tidy([frames[i] for i in range(len(paths))])
    table.attrs["parameters"] = _parameters(measures, by, bin_size, params, estimator_params, loader)
    return table


def _run(client: Any, todo: list[int], paths: list[str], names: list[str], frames: dict[int, Any], bin_size: float,
         loader: Mapping[str, Any], streamed: Mapping[str, Any], others: Sequence[str], by: str | None,
         common: Mapping[str, Any], own: Mapping[str, Any], memory_limit: int, task_cells: int, kinds: list[str],
         threshold: float, out_dir: Path | None, progress: bool | None, already: int) -> None:
    """Submit plan -> blocks -> finish tasks per file and collect each session's rows as it finishes."""
    from dask.distributed import as_completed

    from neurocomplex._progress import progress_bar

    def error_frame(i: int, text: str) -> Any:
        return _frame([{"session": names[i], "recording": paths[i], "group": "", "measure": "", "value": math.nan,
                        "ci_low": math.nan, "ci_high": math.nan, "n_samples": None, "n_units": None,
                        "method": "", "warnings": "", "error": text}])

    plans = {client.submit(_plan_task, paths[i], bin_size, loader, pure=False): i for i in todo}
    finishing: dict[Any, tuple[int, Any]] = {}
    pending = as_completed(list(plans))
    spikes = [0]

    def events() -> Any:
        for fut in pending:
            if fut in plans:
                i, plan = plans[fut], fut.result()
                if isinstance(plan, str):
                    frames[i] = error_frame(i, plan)
                    yield i
                    continue
                parts = ([client.submit(_blocks_task, plan, r, kinds, threshold, by, pure=False)
                          for r in _split(plan, task_cells)] if streamed else [])
                fin = client.submit(_finish_task, plan, parts, streamed, others, by, common, own, memory_limit,
                                    pure=False)
                finishing[fin] = (i, plan)
                pending.add(fin)
            else:
                i, plan = finishing.pop(fut)
                rows = fut.result()
                if isinstance(rows, str):
                    frames[i] = error_frame(i, rows)
                else:
                    for r in rows:
                        r.update(session=names[i], recording=paths[i])
                    frames[i] = _frame(rows)
                    if out_dir is not None:
                        frames[i].to_csv(_out_file(out_dir, names[i]), index=False)
                    spikes[0] += plan.n_spikes
                yield i

    bar = progress_bar(events(), len(todo), progress, "sessions", unit="file")
    for _ in bar:
        if hasattr(bar, "set_postfix_str"):
            bar.set_postfix_str(f"{spikes[0]:,} spikes read" + (f", {already} already written" if already else ""))
