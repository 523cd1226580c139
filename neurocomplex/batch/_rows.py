"""Rows of the measure table of one session, from streamed block statistics or the loaded session.

The estimators' defaults are resolved once per measure (:func:`_check_measures`); measures of
:data:`STREAMED` are computed from the statistics of the bootstrap blocks alone; the others load the
session with :func:`neurocomplex.load` when its matrix fits the memory limit.
"""

from __future__ import annotations

import inspect
import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from neurocomplex.errors import InvalidParameterError, NeurocomplexError, NeurocomplexWarning

__all__ = ["STREAMED", "BASE_COLUMNS"]

# Measures computed from streamed statistics (pattern_complexity only at scale 0).
STREAMED = ("effective_dimension", "participation_ratio", "activation_ratio", "mean_rate", "constant_fraction",
            "pattern_entropy", "pattern_complexity")
_NEEDS = {"effective_dimension": "covariance", "participation_ratio": "covariance", "activation_ratio": "activity",
          "mean_rate": "activity", "constant_fraction": "activity", "pattern_entropy": "words",
          "pattern_complexity": "words"}
BASE_COLUMNS = ["session", "recording", "group", "measure", "value", "ci_low", "ci_high", "n_samples", "n_units",
                "method", "warnings", "error"]
# Measures outside STREAMED load the session in memory when its matrix takes at most this much.
_MEMORY_LIMIT = 2**30
# A session with more cells (bins x units) than this is split into several tasks.
_TASK_CELLS = 10**8


# --------------------------------------------------------------------------- parameters
def _estimator_params(name: str, common: Mapping[str, Any], own: Mapping[str, Any]) -> dict[str, Any]:
    """The estimator's defaults, overridden by the common parameters it accepts and its own."""
    from neurocomplex.measures import get_estimator

    sig = inspect.signature(get_estimator(name).func).parameters
    out = {k: p.default for k, p in sig.items() if p.default is not inspect.Parameter.empty}
    out.update({k: v for k, v in common.items() if k in sig})
    out.update(own)
    return out


def _keywords(name: str) -> tuple[set[str], bool]:
    from neurocomplex.measures import get_estimator

    params = list(inspect.signature(get_estimator(name).func).parameters.values())[1:]
    return {p.name for p in params}, any(p.kind is p.VAR_KEYWORD for p in params)


def _check_keywords(names: Sequence[str], common: Mapping[str, Any], own: Mapping[str, Mapping[str, Any]]) -> None:
    """Refuse a keyword no requested measure takes (``n_bot=0`` must not run the default bootstrap)."""
    from neurocomplex._validation import did_you_mean

    taken = {n: _keywords(n) for n in names}
    everything = sorted(set().union(*(t[0] for t in taken.values())))
    if not any(t[1] for t in taken.values()):
        for key in common:
            if key not in everything:
                raise InvalidParameterError(
                    f"no requested measure ({', '.join(names)}) takes the keyword {key!r}; "
                    f"{did_you_mean(key, everything)}their keywords: {everything}."
                )
    for name, given in own.items():
        accepted, any_kw = taken[name]
        bad = [k for k in given if k not in accepted]
        if bad and not any_kw:
            raise InvalidParameterError(f"params[{name!r}]: {name} takes no keyword {bad[0]!r}; "
                                        f"{did_you_mean(bad[0], sorted(accepted))}its keywords: {sorted(accepted)}.")


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
                   series=None if units else plan.source, progress=False, cache=plan.cache)
    if rec.n_units == plan.n_units and not np.array_equal(rec.groups, plan.groups):
        rec = rec.replace(groups=plan.groups)  # the groups the streamed rows use (group_column)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NeurocomplexWarning)
        table = measure(rec, list(names), by=by, params={n: dict(own.get(n, {})) for n in names if own.get(n)},
                        errors="warn", progress=False, **common)
    return table.drop(columns=["recording"]).to_dict("records")


def _check_measures(measures: str | Sequence[str], params: Mapping[str, Mapping[str, Any]] | None,
                    common: Mapping[str, Any]) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]],
                                                        list[str], dict[str, Any]]:
    """Every measure's resolved parameters, the streamed ones, the others, and the per-measure params."""
    from neurocomplex.measures import get_estimator

    if isinstance(measures, (bytes, Mapping)) or not isinstance(measures, (str, Sequence)):
        raise InvalidParameterError(f"measures must be a name or a list of names, got {type(measures).__name__}.")
    bad = [m for m in ([measures] if isinstance(measures, str) else list(measures)) if not isinstance(m, str)]
    if bad:
        raise InvalidParameterError(f"measures must be names (str), got {bad[:3]!r}.")
    if params is not None and not isinstance(params, Mapping):
        raise InvalidParameterError(f"params must map measure names to dicts of parameters, got {type(params).__name__}.")
    if params is not None and any(not isinstance(v, Mapping) for v in params.values()):
        raise InvalidParameterError(f"params must map measure names to dicts of parameters, got {dict(params)!r}.")

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
    _check_keywords(names, common, own)
    resolved = {n: _estimator_params(n, common, own.get(n, {})) for n in names}
    streamed = {n: p for n, p in resolved.items() if _is_streamed(n, p)}
    others = [n for n in names if n not in streamed]
    return resolved, streamed, others, own


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
