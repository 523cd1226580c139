"""Rows of the measure table of one session, from streamed block statistics or the loaded session.

The estimators' defaults are resolved once per measure (:func:`_check_measures`); measures of
:data:`STREAMED` are computed from the streamed statistics with the in-memory estimators' own
intervals (:mod:`neurocomplex.batch._intervals`); the others load the session with
:func:`neurocomplex.load` when its matrix fits the memory limit.
"""

from __future__ import annotations

import inspect
import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from neurocomplex.batch._intervals import NEEDS, _row, dimension_in_memory, rows_from_blocks
from neurocomplex.errors import InvalidParameterError, NeurocomplexWarning

__all__ = ["STREAMED", "BASE_COLUMNS"]

# Measures computed from streamed statistics (pattern_complexity only at scale 0).
STREAMED = ("effective_dimension", "participation_ratio", "activation_ratio", "mean_rate", "constant_fraction",
            "pattern_entropy", "pattern_complexity")
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
    values = {float(p.get("threshold", 0.0)) for n, p in chosen.items() if NEEDS.get(n) in ("activity", "words")}
    if len(values) > 1:
        raise InvalidParameterError(f"streamed measures need one threshold; got {sorted(values)}. Run them separately.")
    return values.pop() if values else 0.0


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
                  common: Mapping[str, Any], own: Mapping[str, Any], memory_limit: int,
                  n_blocks: int | None = None) -> list[dict[str, Any]]:
    """The session's rows in the order of the measures asked, streamed measures first.

    A dimension whose in-memory interval is not a block bootstrap (few samples per unit)
    is measured on the session loaded in memory (:func:`dimension_in_memory`).
    """
    loaded = [n for n, p in streamed.items() if dimension_in_memory(plan, p, n)]
    kept = {n: p for n, p in streamed.items() if n not in loaded}
    rows = rows_from_blocks(plan, blocks, kept, by, n_blocks) if kept else []
    if others or loaded:
        if n_blocks is not None:  # the block length n_blocks gives the streamed measures, for these too
            own = {**own, **{n: {**own.get(n, {}), "block_size": -(-plan.n_samples // n_blocks)} for n in loaded}}
        rows += _in_memory_rows(plan, [*loaded, *others], by, common, own, memory_limit)
    for r in rows:
        r.setdefault("error", "")
    return rows


def _parameters(measures: Any, by: Any, bin_size: float, params: Any, common: Mapping[str, Any],
                loader: Mapping[str, Any]) -> dict[str, Any]:
    """What produced a table (kept in ``table.attrs["parameters"]``; written by ``nc.write_results``)."""
    return {"measures": [measures] if isinstance(measures, str) else list(measures), "by": by, "bin_size": bin_size,
            "params": {k: dict(v) for k, v in dict(params or {}).items()}, **dict(common), **dict(loader)}



