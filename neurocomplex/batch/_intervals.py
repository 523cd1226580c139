"""Streamed rows with the in-memory estimators' intervals: the same resampling of the same statistics.

A streamed session keeps, besides the value's statistics, what each estimator's own interval
resamples, so that a row of :func:`~neurocomplex.batch.measure_stream` equals the row of
``nc.measure(nc.load(path), ...)`` with the same parameters, interval included:

- effective dimension, participation ratio: the block bootstrap of :func:`neurocomplex.effective_dimension`
  (its blocks of ``block_size`` samples, 64 by default, and its draws); the session's blocks are cut
  at those rows (:func:`prepare_plan`) and each block's covariance is merged from them. With few
  samples per unit (below the estimator's threshold, ``dimension._jackknife``) the in-memory
  interval is a grouped jackknife (or the Gram route with fewer samples than units); such a
  session's matrix is smaller than its streamed block statistics (64 blocks of ``n_units²``) and
  the measure is run on it in memory (:func:`dimension_in_memory`).
- activation ratio, mean rate: the bootstrap of the rows' means; each row's count of active units
  and sum are kept per group (``kinds`` "samples": 12 bytes per row and group).
- pattern entropy: the word counts of the whole session (NSB posterior interval, or the plug-in
  and Miller–Madow bootstrap over the distinct words' counts); with ``block_size`` the words are
  also counted per block of that many samples.
- pattern complexity at scale 0: the leader merge at radius 0 of the same words and of the same
  replicate counts.

With ``n_blocks`` given, every streamed measure takes ``block_size = ceil(n_samples / n_blocks)``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from neurocomplex.errors import InvalidParameterError, NeurocomplexError, NeurocomplexWarning

__all__ = ["NEEDS", "block_size", "check_blocks", "kinds", "prepare_plan", "dimension_in_memory", "word_blocks",
           "rows_from_blocks"]

NEEDS = {"effective_dimension": "covariance", "participation_ratio": "covariance", "activation_ratio": "activity",
         "mean_rate": "activity", "constant_fraction": "activity", "pattern_entropy": "words",
         "pattern_complexity": "words"}
_RESAMPLED_ROWS = ("activation_ratio", "mean_rate")


def _n_boot(name: str, p: Mapping[str, Any]) -> int:
    return int(p.get("n_boot", 0)) if name != "constant_fraction" else 0


def block_size(p: Mapping[str, Any], plan: Any, n_blocks: int | None) -> int | None:
    """The ``block_size`` the in-memory call is given: the measure's own, or ``ceil(n / n_blocks)``."""
    if n_blocks is not None:
        return -(-plan.n_samples // int(n_blocks))
    value = p.get("block_size")
    return None if value is None else int(value)


def check_blocks(n_blocks: int | None, streamed: Mapping[str, Mapping[str, Any]]) -> None:
    """``n_blocks`` sets every streamed measure's block length: refuse a ``block_size`` given beside it."""
    given = sorted(n for n, p in streamed.items() if p.get("block_size") is not None)
    if n_blocks is not None and given:
        raise InvalidParameterError(f"n_blocks={n_blocks} sets the block length of every streamed measure, and "
                                    f"block_size is given for {given}; pass one of them.")


def kinds(streamed: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The statistics the streamed measures need (activity always: it also counts samples)."""
    out = {NEEDS[n] for n in streamed} | {"activity"}
    if any(n in _RESAMPLED_ROWS and _n_boot(n, p) > 0 for n, p in streamed.items()):
        out.add("samples")
    return sorted(out)


def word_blocks(streamed: Mapping[str, Mapping[str, Any]], plan: Any, n_blocks: int | None) -> list[int]:
    """Block lengths (> 1) of the word measures' block bootstraps: words are also counted per such block."""
    sizes = {block_size(p, plan, n_blocks) for n, p in streamed.items() if NEEDS[n] == "words" and _n_boot(n, p) > 0}
    return sorted(s for s in sizes if s is not None and s > 1)


def dimension_in_memory(plan: Any, p: Mapping[str, Any], name: str) -> bool:
    """Whether the in-memory interval of a dimension is not a block bootstrap (few samples per unit: a
    grouped jackknife, or the Gram route): then the session is measured in memory."""
    from neurocomplex.measures.dimension import _jackknife

    return NEEDS.get(name) == "covariance" and _n_boot(name, p) > 0 and _jackknife(plan.n_samples, plan.n_units)


def _dimension_block(n_samples: int, n_units: int, p: Mapping[str, Any], plan: Any, n_blocks: int | None) -> int:
    from neurocomplex.measures._dimension_stats import _plan_blocks

    return _plan_blocks(n_samples, n_units, block_size(p, plan, n_blocks))


def prepare_plan(plan: Any, streamed: Mapping[str, Mapping[str, Any]], by: str | None, n_blocks: int | None) -> Any:
    """The plan with its blocks cut at the rows where the dimension bootstraps cut theirs (every group's);
    unchanged when no streamed dimension has an interval."""
    edges: set[int] = set()
    for name, p in streamed.items():
        if NEEDS[name] != "covariance" or _n_boot(name, p) == 0 or dimension_in_memory(plan, p, name):
            continue
        for idx in plan.group_units(by).values():
            try:
                size = _dimension_block(plan.n_samples, idx.size, p, plan, n_blocks)
            except NeurocomplexError:  # the row reports it, as the in-memory call raises it
                continue
            edges.update(range(0, plan.n_samples, size))
    if not edges:
        return plan
    return plan.with_edges(sorted(edges | {plan.n_samples}))


# --------------------------------------------------------------------------- rows
def _row(group: str, name: str, value: float, ci: Any, n_samples: int, n_units: int, method: str,
         notes: Sequence[str] = (), n_blocks: int | None = None) -> dict[str, Any]:
    low, high = ci if ci is not None else (math.nan, math.nan)
    return {"group": group, "measure": name, "value": float(value), "ci_low": low, "ci_high": high,
            "n_samples": int(n_samples), "n_units": int(n_units), "method": method, "warnings": " | ".join(notes),
            "n_blocks": n_blocks}


def _caught(caught: Sequence[Any], notes: list[str]) -> list[str]:
    return notes + [str(w.message) for w in caught if str(w.message) not in notes]


def _merged(accs: Sequence[Any]) -> Any:
    out = accs[0]
    for a in accs[1:]:
        out = out.merge(a)
    return out


def _dimension_row(group: str, name: str, covs: list[Any], p: Mapping[str, Any], plan: Any,
                   n_blocks: int | None) -> dict[str, Any]:
    """Merge the session's blocks into the in-memory bootstrap's blocks, then its estimate."""
    from neurocomplex.measures.dimension import effective_dimension_from_blocks

    order = 2.0 if name == "participation_ratio" else p.get("order", 1.0)
    n_boot = _n_boot(name, p)
    k = covs[0].n_units
    blocks, count = covs, None
    if n_boot > 0:
        size = _dimension_block(plan.n_samples, k, p, plan, n_blocks)
        starts = np.array([plan.block_rows(b)[0] for b in range(plan.n_blocks)]) // size
        blocks = [_merged([c for c, s in zip(covs, starts) if s == j]) for j in range(int(starts[-1]) + 1)]
        count = len(blocks)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", NeurocomplexWarning)
        est = effective_dimension_from_blocks(blocks, order=order, n_boot=n_boot, seed=p.get("seed", 0),
                                              ci_level=p.get("ci_level", 0.95), dtype=np.dtype(plan.dtype),
                                              standardize=p.get("standardize", False))
    notes = _caught(caught, list(est.warnings))
    return _row(group, name, est.value, est.ci, est.n_samples, est.n_units, est.method, notes, count)


def _per_row(group: str, name: str, merged: Any, k: int, plan: Any) -> np.ndarray:
    """The per-row values whose mean nc.activation_ratio / nc.mean_rate resample."""
    on, sums = merged.samples[group]
    per_row = (on / k) if name == "activation_ratio" else (sums / k if sums.dtype.kind in "iu" else sums)
    if name == "mean_rate" and plan.kind == "spike_counts" and plan.bin_size is not None:
        per_row = per_row * (1.0 / plan.bin_size)
    return per_row


def _row_bootstrap_cis(jobs: Mapping[tuple[str, str], tuple[np.ndarray, int, Any, int | None, float]]
                       ) -> dict[tuple[str, str], Any]:
    """The intervals nc.activation_ratio / nc.mean_rate give (:func:`~neurocomplex.estimate.bootstrap_means`)
    for every ``(group, measure) -> (per_row, n_boot, seed, block_size, ci_level)``, the jobs that
    would draw the same rows (the groups of a session: same seed, same length) drawing them once."""
    from neurocomplex.estimate import bootstrap_means_of, check_bootstrap_params, interval_from_replicates

    shared: dict[tuple[Any, ...], list[tuple[str, str]]] = {}
    for key, (per_row, n_boot, seed, size, ci_level) in jobs.items():
        check_bootstrap_params(n_boot, ci_level, size)
        shared.setdefault((per_row.size, n_boot, seed, size), []).append(key)
    out = {}
    for (_n, n_boot, seed, size), keys in shared.items():
        for key, reps in zip(keys, bootstrap_means_of([jobs[k][0] for k in keys], n_boot, seed, size)):
            out[key] = interval_from_replicates(reps, jobs[key][4])
    return out


def _activity_row(group: str, name: str, merged: Any, idx: np.ndarray, p: Mapping[str, Any],
                  plan: Any, n_blocks: int | None, cis: Mapping[tuple[str, str], Any] | None = None) -> dict[str, Any]:
    """Activation ratio, mean rate or constant fraction of units ``idx``, with the in-memory intervals
    (``cis``: the row bootstraps' intervals when computed already, by :func:`_row_bootstrap_cis`)."""
    from neurocomplex.errors import InsufficientDataError

    act = merged.activity
    total, k = act.n_samples, idx.size
    n_boot, size = _n_boot(name, p), block_size(p, plan, n_blocks)
    count = None if n_boot == 0 or size is None or size <= 1 else -(-total // size)
    if name in _RESAMPLED_ROWS:
        ci = None
        if n_boot > 0:  # nc.activation_ratio / nc.mean_rate: the bootstrap of the rows' means
            if cis is not None and (group, name) in cis:
                ci = cis[(group, name)]
            else:
                job = (_per_row(group, name, merged, k, plan), n_boot, p.get("seed", 0), size, p.get("ci_level", 0.95))
                ci = _row_bootstrap_cis({(group, name): job})[(group, name)]
        if name == "activation_ratio":
            value = act.active[idx].sum() / (total * k)
        else:
            scale = 1.0 / plan.bin_size if plan.kind == "spike_counts" and plan.bin_size is not None else 1.0
            value = float((act.mean[idx] * scale).mean())
        return _row(group, name, value, ci, total, k, name, (), count)
    # constant_fraction, as nc.constant_fraction: variance <= rtol x median, or at the rounding level
    if total < 2:
        raise InsufficientDataError(f"constant_fraction needs at least 2 samples, got {int(total)}.")
    var = act.variance()[idx]
    median = float(np.median(var))
    rounding = (total * np.finfo(np.float64).eps * np.abs(act.mean[idx])) ** 2
    constant = (var <= float(p.get("rtol", 1e-3)) * median) | (var <= rounding)
    notes = []
    if median <= 0 or not np.any(var > rounding):
        notes.append(f"the median unit variance is 0: at least half of the {k} units are exactly constant, so only "
                     "exactly constant units are counted (the threshold rtol x median is 0).")
    return _row(group, name, float(constant.mean()), None, total, k, "median_relative_variance", notes)


def _positions(words: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Row of ``words`` (distinct rows) equal to each row of ``keys`` (all present): one sort and a search
    over the rows as opaque byte strings."""
    as_bytes = np.dtype((np.void, words.dtype.itemsize * words.shape[1]))
    table = np.ascontiguousarray(words).view(as_bytes).ravel()
    order = np.argsort(table)
    return order[np.searchsorted(table[order], np.ascontiguousarray(keys).view(as_bytes).ravel())]


def _word_table(merged: Any, group: str, size: int | None, first_major: bool) -> tuple[np.ndarray, Any, int]:
    """Distinct words of a group (ordered as the in-memory estimator orders them), a WordTable of their
    counts (per block of ``size`` samples when given, as ``WordTable.from_inverse``), and the blocks."""
    from neurocomplex.measures._word_bootstrap import WordTable, block_table

    wc = merged.words[group]
    words, counts = wc.words, wc.counts
    if first_major and words.shape[1] > 1:  # nc.pattern_entropy sorts with the first code most significant
        order = np.lexsort(words.T[::-1])
        words, counts = words[order], counts[order]
    if size is None or size <= 1:
        return words, WordTable(counts), 0
    keyed = merged.keyed_words[(group, size)]
    keys, sub = keyed.words[:, :-1], keyed.words[:, -1].astype(np.int64)
    index = _positions(words, keys)
    n_sub = -(-wc.n_samples // size)
    return words, WordTable(counts, block_table(index, sub, keyed.counts, counts.size, n_sub)), n_sub


def _entropy_row(group: str, merged: Any, p: Mapping[str, Any], plan: Any, n_blocks: int | None) -> dict[str, Any]:
    """nc.pattern_entropy's value and interval from the session's word counts."""
    from neurocomplex.errors import InsufficientDataError
    from neurocomplex.measures.entropy import _check_common, _word_estimate

    method, n_boot, size = p.get("method", "nsb"), _n_boot("pattern_entropy", p), block_size(p, plan, n_blocks)
    log_b = _check_common(method, p.get("base", 2.0), n_boot, p.get("seed", 0), size, p.get("ci_level", 0.95))
    wc = merged.words[group]
    if wc.n_samples < 2:
        raise InsufficientDataError(f"pattern_entropy needs at least 2 samples, got {wc.n_samples}.")
    _words, table, n_sub = _word_table(merged, group, size if n_boot > 0 else None, True)
    value, ci, _diag, msgs = _word_estimate(table, float(wc.n_units), method, log_b, n_boot, p.get("seed", 0),
                                            p.get("ci_level", 0.95), "pattern_entropy")
    return _row(group, "pattern_entropy", value, ci, wc.n_samples, wc.n_units, method, msgs, n_sub or None)


def _complexity_row(group: str, merged: Any, p: Mapping[str, Any], plan: Any, n_blocks: int | None) -> dict[str, Any]:
    """nc.pattern_complexity at scale 0 (radius 0) and its basic interval, from the session's word counts."""
    from neurocomplex.estimate import interval_report
    from neurocomplex.measures._leader import leader_merge_curve

    n_boot, size = _n_boot("pattern_complexity", p), block_size(p, plan, n_blocks)
    wc = merged.words[group]
    words, table, n_sub = _word_table(merged, group, size if n_boot > 0 else None, False)
    radius = np.array([0])

    def merge(weights: np.ndarray) -> float:
        return float(leader_merge_curve(words, weights, wc.n_units, radius)[0][0])

    values, n_clusters = leader_merge_curve(words, table.counts.astype(np.int64), wc.n_units, radius)
    value = float(values[0])
    notes = []
    if n_clusters[0] > 1 and n_clusters[0] > 0.5 * wc.n_samples:
        notes.append(f"pattern_complexity: {int(n_clusters[0])} clusters for {wc.n_samples} samples at scale 0: most "
                     "clusters hold a single sample, so C is limited by n_samples (undersampled); use a larger scale, "
                     "fewer units or more samples.")
    # count_bootstrap's replicates: per-word counts of each replicate (multinomial, Poisson or block sums)
    reps = np.array([merge(np.rint(row).astype(np.int64)) for batch in table.batches(n_boot, p.get("seed", 0),
                                                                                     per_word=True)
                     for row in batch.direct], dtype=float) if n_boot > 0 else np.empty(0)
    ci, _extra, caveats = interval_report(reps, value, p.get("ci_level", 0.95), "basic", 1.0)
    notes += [f"pattern_complexity: {c}" for c in caveats]
    return _row(group, "pattern_complexity", value, ci, wc.n_samples, wc.n_units, "nested_leader_merging", notes,
                n_sub or None)


def _sub_covariance(acc: Any, idx: np.ndarray, n_units: int) -> Any:
    from neurocomplex.stats import CovarianceAccumulator

    if idx.size == n_units:
        return acc
    return CovarianceAccumulator.from_dict({"n_units": idx.size, "n_samples": acc.n_samples, "mean": acc.mean[idx],
                                            "scatter": acc.scatter[np.ix_(idx, idx)]})


def rows_from_blocks(plan: Any, blocks: list[Any], chosen: Mapping[str, Mapping[str, Any]], by: str | None,
                     n_blocks: int | None = None) -> list[dict[str, Any]]:
    """One row per group x streamed measure, computed from the block statistics alone."""
    from neurocomplex.io.stream import merge_blocks

    merged = merge_blocks(blocks)
    rows = []
    covs: dict[str, list[Any]] = {}
    jobs = {(group, name): (_per_row(group, name, merged, idx.size, plan), _n_boot(name, p), p.get("seed", 0),
                            block_size(p, plan, n_blocks), p.get("ci_level", 0.95))
            for group, idx in plan.group_units(by).items() for name, p in chosen.items()
            if name in _RESAMPLED_ROWS and _n_boot(name, p) > 0 and merged.activity.n_samples > 0}
    try:
        cis = _row_bootstrap_cis(jobs)
    except NeurocomplexError:  # a bad parameter: each row reports it, as nc.measure(errors="warn")
        cis = {}
    for group, idx in plan.group_units(by).items():
        for name, p in chosen.items():
            try:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always", NeurocomplexWarning)
                    if NEEDS[name] == "covariance":
                        if group not in covs:
                            covs[group] = [_sub_covariance(b.covariance, idx, plan.n_units) for b in blocks]
                        row = _dimension_row(group, name, covs[group], p, plan, n_blocks)
                    elif NEEDS[name] == "activity":
                        row = _activity_row(group, name, merged, idx, p, plan, n_blocks, cis)
                    elif name == "pattern_entropy":
                        row = _entropy_row(group, merged, p, plan, n_blocks)
                    else:
                        row = _complexity_row(group, merged, p, plan, n_blocks)
                notes = [m for m in row["warnings"].split(" | ") if m]
                row["warnings"] = " | ".join(_caught(caught, notes))
            except NeurocomplexError as err:  # one sparse group does not stop the table, as nc.measure(errors="warn")
                row = _row(group, name, math.nan, None, plan.n_samples, idx.size, "failed", [str(err)])
            rows.append(row)
    return rows
