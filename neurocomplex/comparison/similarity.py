"""Layer–area similarity map: every area against every layer, and each area's best layer.

:func:`similarity_matrix` runs one pair estimator (CKA, RSA, shape distance or predictivity) on
every (area, layer) pair and returns a tidy table. All pairs are bootstrapped with the same seed
over the same samples, so replicate ``r`` of every pair resamples the same stimuli; the layer
that matches an area best is then found in each replicate (tied layers share the replicate's
credit equally, so the result does not depend on the order of the layers; replicates where a
layer's value is undefined are counted, not dropped), and :func:`best_layers` summarizes that
distribution (how often each layer wins, and an interval on its depth).
"""

from __future__ import annotations

import inspect
import math
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from neurocomplex._progress import progress_bar
from neurocomplex._validation import check_choice, check_int
from neurocomplex.errors import InsufficientDataError, InvalidParameterError, NeurocomplexWarning
from neurocomplex.measures import get_estimator
from neurocomplex.measures._reliability import shared_predictors
from neurocomplex.recording import Recording
from neurocomplex.stats.shared_parts import shared_parts

__all__ = ["similarity_matrix", "best_layers", "shared_wins", "METRICS"]

METRICS = ("cka", "rsa", "shape_distance", "predictivity")
# Which way is "more similar" for each metric.
_HIGHER_IS_CLOSER = {"cka": True, "rsa": True, "shape_distance": False, "predictivity": True}
_COLUMNS = ["area", "layer", "metric", "value", "ci_low", "ci_high", "layer_index", "best_fraction",
            "undefined_replicates", "is_best", "n_samples", "n_units_area", "n_units_layer", "method", "warnings"]
# Columns of best_layers (undefined_replicates only where replicates were counted).
BEST_COLUMNS = ["area", "best_layer", "value", "ci_low", "ci_high", "best_fraction", "depth_ci_low", "depth_ci_high",
                "runner_up", "runner_up_fraction", "undefined_replicates"]


def _as_mapping(recs: Any, name: str) -> dict[str, Recording]:
    if isinstance(recs, Recording):
        return recs.by_group()
    if not isinstance(recs, Mapping) or not recs:
        raise InvalidParameterError(
            f"{name} must be a Recording (split by its groups) or a non-empty mapping name -> Recording, "
            f"got {type(recs).__name__}."
        )
    for key, rec in recs.items():
        if not isinstance(rec, Recording):
            raise InvalidParameterError(f"{name}[{key!r}] is a {type(rec).__name__}, not a Recording.")
    return {str(k): v for k, v in recs.items()}


def _pair_row(func: Any, area_map: Mapping[str, Recording], layer_map: Mapping[str, Recording], a: str, lay: str,
              metric: str, call: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    """One (area, layer) row of the table and its estimate (None, with the error in the row's
    ``"error"``, where the pair has no value, e.g. a layer constant over the stimuli)."""
    x, y = (layer_map[lay], area_map[a]) if metric == "predictivity" else (area_map[a], layer_map[lay])
    row = {"area": a, "layer": lay, "metric": metric, "layer_index": list(layer_map).index(lay),
           "n_samples": x.n_samples, "n_units_area": area_map[a].n_units, "n_units_layer": layer_map[lay].n_units}
    try:
        est = func(x, y, **call)
    except InsufficientDataError as err:
        return {**row, "value": math.nan, "ci_low": math.nan, "ci_high": math.nan, "method": metric,
                "warnings": f"undefined: {err}", "error": err}, None
    low, high = est.ci if est.ci is not None else (math.nan, math.nan)
    return {**row, "value": float(est.value), "ci_low": low, "ci_high": high, "n_samples": est.n_samples,
            "method": est.method, "warnings": " | ".join(est.warnings)}, est


def similarity_matrix(
    areas: Mapping[str, Recording] | Recording,
    layers: Mapping[str, Recording] | Recording,
    metric: str = "cka",
    n_boot: int = 200,
    seed: int | None = 0,
    progress: bool | None = None,
    **params: Any,
) -> Any:
    """Similarity of every area to every layer over the same stimuli, with each area's best layer.

    Parameters
    ----------
    areas : mapping of name -> Recording, or Recording
        Brain areas (a single Recording is split by its ``groups``).
    layers : mapping of name -> Recording, or Recording
        Network layers, in depth order (a single Recording is split by its ``groups``). Every
        Recording holds the same samples in the same order.
    metric : {"cka", "rsa", "shape_distance", "predictivity"}
        The pair estimator (``predictivity`` predicts each area from the layer).
    n_boot : int
        Bootstrap replicates over stimuli for the intervals and the best-layer distribution
        (``metric="cka"``: of the debiased CKA unless ``debiased=False`` is passed).
    seed : int or None
        Seed shared by every pair, so that their replicates resample the same stimuli.
    progress : bool, optional
        Progress bar over pairs; default on only in a terminal.
    **params
        Passed to the estimator (``debiased``, ``distance``, ``compare``, ``conditions``, ``alpha``,
        ...).

    Returns
    -------
    pandas.DataFrame
        One row per (area, layer): ``area``, ``layer``, ``metric``, ``value``, ``ci_low``,
        ``ci_high``, ``layer_index`` (position in ``layers``), ``best_fraction`` (share of the
        defined bootstrap replicates in which this layer is the area's closest, ties shared),
        ``undefined_replicates`` (replicates of this area where some layer's value is undefined,
        left out of ``best_fraction``), ``is_best`` (closest on the full data), ``n_samples``,
        ``n_units_area``, ``n_units_layer``, ``method``, ``warnings``.
        ``df.attrs`` holds ``metric``, ``higher_is_closer``, ``n_boot``, ``seed``, ``params`` and
        ``version`` (of neurocomplex).
        :func:`best_layers` turns it into one row per area.

    Raises
    ------
    InvalidParameterError
        Unknown metric, inputs that are not Recordings, Recordings over different samples.
    InsufficientDataError
        No (area, layer) pair has a value (e.g. too few conditions for the metric).

    Warns
    -----
    NeurocomplexWarning
        When some replicates of an area are undefined (a layer's value could not be computed on
        that resample), with their number.

    Notes
    -----
    "Closest" is the largest value for CKA, RSA and predictivity and the smallest for the shape
    distance. In replicate r, area a's best layers are argmax_l v_r(a, l); when k layers tie
    (equal values, as happen with rank statistics over few conditions), each gets 1/k of the
    replicate, so ``best_fraction`` does not depend on the order of ``layers``. A replicate where
    any layer's value is undefined (NaN) has no known winner: it is counted in
    ``undefined_replicates`` and left out of the denominator of ``best_fraction``. Pairs without
    an interval (fewer than 10 samples, see :func:`neurocomplex.cka`) get ``best_fraction`` NaN.
    A pair whose value is undefined on the full data (an ``InsufficientDataError``, e.g. a layer
    that is constant over the stimuli) is a row with NaN values whose ``warnings`` say why; it
    takes no part in its area's contest (the other layers' ``best_fraction`` sum to 1), and a
    warning lists such pairs. When no pair has a value, that error is raised.

    The table equals pair-by-pair calls of the estimator, value for value, but work that
    belongs to one recording is done once for all its pairs: RSA computes each recording's RDM
    (and, with repeated conditions, its split-half reliability) once, CKA each recording's sample
    Gram matrix when it takes that route (fewer samples than units), the shape distance each
    recording's centred data (reduced exactly to as many columns as samples when wider), keeping at
    most 1 GiB of them (or an eighth of the usable memory; beyond it the least recently used is
    computed again);
    predictivity decomposes each layer once per fold for all the areas it predicts.

    Examples
    --------
    >>> import numpy as np, neurocomplex as nc
    >>> rng = np.random.default_rng(0)
    >>> s = rng.normal(size=(60, 4))
    >>> layers = {"l1": nc.Recording.from_array(s @ rng.normal(size=(4, 8))),
    ...           "l2": nc.Recording.from_array(np.tanh(rng.normal(size=(60, 8))))}
    >>> areas = {"V1": nc.Recording.from_array(layers["l1"].data[:, :5] + 0.1 * rng.normal(size=(60, 5)))}
    >>> df = nc.similarity_matrix(areas, layers, n_boot=50)
    >>> df[["area", "layer", "is_best"]].values.tolist()
    [['V1', 'l1', True], ['V1', 'l2', False]]
    """
    import pandas as pd

    check_choice("metric", metric, METRICS)
    check_int("n_boot", n_boot, 0)
    area_map, layer_map = _as_mapping(areas, "areas"), _as_mapping(layers, "layers")
    spec = get_estimator(metric)
    accepted = inspect.signature(spec.func).parameters
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise InvalidParameterError(f"{metric} does not take {unknown}; its parameters: {list(accepted)[2:]}.")
    call = dict(params, n_boot=n_boot, seed=seed)
    if metric in ("cka", "shape_distance") and n_boot and "n_blocks" not in call and "block_size" not in call:
        # One number of blocks for every pair, so that replicate r draws the same stimuli everywhere.
        from neurocomplex.measures.similarity import default_n_blocks

        call["n_blocks"] = min(default_n_blocks(metric, r.n_samples, r.n_units, s.n_units)
                               for r in area_map.values() for s in layer_map.values())
        if call["n_blocks"] < 2:
            del call["n_blocks"]
    pairs = [(a, lay) for a in area_map for lay in layer_map]
    # layer by layer: predictivity fits each area on the layer, so a layer's areas in a row share its
    # folds' decompositions; the other metrics keep each recording's part (RSA its RDM, CKA its sample
    # Gram matrix, the shape distance its centred and narrowed data): areas stay while layers pass
    visit = [(a, lay) for lay in layer_map for a in area_map]
    rows_of, reps, failed = {}, {}, {}
    with shared_predictors() if metric == "predictivity" else shared_parts():
        for a, lay in progress_bar(visit, len(visit), progress, f"{metric} area x layer", "pair", min_total=4):
            rows_of[a, lay], est = _pair_row(spec.func, area_map, layer_map, a, lay, metric, call)
            if est is None:
                failed[a, lay] = rows_of[a, lay].pop("error")
            else:
                reps[a, lay] = np.asarray(est.diagnostics.get("replicates", np.empty(0)), dtype=float)
    rows = [rows_of[pair] for pair in pairs]
    failed = {pair: failed[pair] for pair in pairs if pair in failed}  # reported in table order
    if len(failed) == len(pairs):
        raise next(iter(failed.values()))  # nothing to compare: the metric does not apply to these samples
    if failed:
        warnings.warn(f"{metric}: undefined for {len(failed)} of {len(pairs)} (area, layer) pairs, left out of the "
                      f"best layers: {'; '.join(f'{a}/{lay}: {e}' for (a, lay), e in list(failed.items())[:3])}"
                      f"{' ...' if len(failed) > 3 else ''}", NeurocomplexWarning, stacklevel=2)
    df = pd.DataFrame(rows)
    sign = 1.0 if _HIGHER_IS_CLOSER[metric] else -1.0
    best_fraction = np.full(len(df), np.nan)
    undefined = np.zeros(len(df), dtype=np.int64)
    is_best = np.zeros(len(df), dtype=bool)
    for a in area_map:
        idx = np.flatnonzero(df["area"].to_numpy() == a)
        vals = sign * df["value"].to_numpy()[idx]
        defined = np.isfinite(vals)  # layers without a value take no part in the contest
        if not defined.any():
            continue
        is_best[idx[np.flatnonzero(defined)[np.argmax(vals[defined])]]] = True
        idx = idx[defined]
        mats = [reps[a, lay] for lay, ok in zip(layer_map, defined, strict=True) if ok]
        if n_boot and all(m.size == n_boot for m in mats):
            credit, n_undefined = shared_wins(sign * np.vstack(mats))
            undefined[idx] = n_undefined
            if n_undefined < n_boot:
                best_fraction[idx] = credit / (n_boot - n_undefined)
            if n_undefined:
                warnings.warn(
                    f"{metric}: {n_undefined} of {n_boot} bootstrap replicates of area {a!r} are undefined for at "
                    "least one layer (no known best layer there); best_fraction uses the other "
                    f"{n_boot - n_undefined} (column undefined_replicates).", NeurocomplexWarning, stacklevel=2)
    df["best_fraction"] = best_fraction
    df["undefined_replicates"] = undefined
    df["is_best"] = is_best
    df = df[_COLUMNS]
    from neurocomplex._version import __version__

    df.attrs.update(metric=metric, higher_is_closer=_HIGHER_IS_CLOSER[metric], n_boot=n_boot, seed=seed,
                    params={k: v for k, v in call.items() if k not in ("n_boot", "seed")},
                    version=__version__)
    return df


def shared_wins(values: np.ndarray) -> tuple[np.ndarray, int]:
    """Credit of each layer over replicates: ``values`` is layers × replicates, larger is closer.

    In each replicate where every value is defined, the k layers with the largest value get 1/k
    each (exact ties); replicates with any NaN are undefined.

    Returns
    -------
    credit : numpy.ndarray
        ``(layers,)`` summed credit (it sums to the number of defined replicates).
    n_undefined : int
        Replicates with an undefined value.

    Examples
    --------
    >>> credit, n_undefined = shared_wins(np.array([[1.0, 2.0, 0.5, np.nan], [1.0, 1.0, 0.7, 0.1]]))
    >>> credit.tolist(), n_undefined
    ([1.5, 1.5], 1)
    """
    defined = np.isfinite(values).all(axis=0)
    v = values[:, defined]
    if v.size == 0:
        return np.zeros(values.shape[0]), int((~defined).sum())
    top = v == v.max(axis=0, keepdims=True)
    return (top / top.sum(axis=0, keepdims=True)).sum(axis=1), int((~defined).sum())


def best_layers(table: Any, ci_level: float = 0.95) -> Any:
    """One row per area: its best layer and how sure the bootstrap over stimuli is of it.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`similarity_matrix`.
    ci_level : float
        Coverage of the interval on the best layer's depth, in (0, 1).

    Returns
    -------
    pandas.DataFrame
        Columns ``area``, ``best_layer`` (closest on the full data), ``value``, ``ci_low``,
        ``ci_high`` (its similarity and interval), ``best_fraction`` (share of replicates where it
        wins, ties shared), ``depth_ci_low``, ``depth_ci_high`` (``layer_index`` quantiles of the
        per-replicate best layer: an interval on where in depth the area matches),
        ``runner_up`` and ``runner_up_fraction`` (the layer winning most often among the others)
        and ``undefined_replicates`` (when the table has that column).

    Raises
    ------
    InvalidParameterError
        ``table`` is not a table of :func:`similarity_matrix`, an area has no row marked
        ``is_best`` (its values are all undefined, or the table was filtered), or ``ci_level`` is
        not in (0, 1).

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"area": ["V1", "V1"], "layer": ["l1", "l2"], "value": [0.9, 0.2],
    ...                   "ci_low": [0.8, 0.1], "ci_high": [0.95, 0.3], "layer_index": [0, 1],
    ...                   "best_fraction": [1.0, 0.0], "is_best": [True, False]})
    >>> best_layers(t)[["area", "best_layer", "best_fraction", "depth_ci_low", "depth_ci_high"]].values.tolist()
    [['V1', 'l1', 1.0, 0.0, 0.0]]
    """
    import pandas as pd

    need = {"area", "layer", "value", "ci_low", "ci_high", "layer_index", "best_fraction", "is_best"}
    if not hasattr(table, "columns") or not need <= set(table.columns):
        raise InvalidParameterError(f"best_layers needs the table of similarity_matrix (columns {sorted(need)}).")
    if isinstance(ci_level, bool) or not isinstance(ci_level, (int, float)) or not 0 < ci_level < 1:
        raise InvalidParameterError(f"ci_level must lie in (0, 1), got {ci_level!r}.")
    alpha = (1.0 - ci_level) / 2.0
    out = []
    for area, g in table.groupby("area", sort=False):
        g = g.sort_values("layer_index")
        marked = g[g["is_best"].astype(bool)]
        if marked.empty:
            raise InvalidParameterError(
                f"area {area!r} has no row with is_best=True (its values are all undefined, or the table was "
                "filtered): pass the whole table of similarity_matrix, with at least one defined value per area."
            )
        best = marked.iloc[0]
        frac = g["best_fraction"].to_numpy(dtype=float)
        # layers without a value (NaN in both value and best_fraction) never win a replicate
        frac = np.where(np.isnan(frac) & np.isnan(g["value"].to_numpy(dtype=float)), 0.0, frac)
        lo = hi = math.nan
        runner, runner_frac = None, math.nan
        if np.all(np.isfinite(frac)) and frac.sum() > 0:
            cdf = np.cumsum(frac) / frac.sum()
            depth = g["layer_index"].to_numpy()
            lo = float(depth[np.searchsorted(cdf, alpha - 1e-12)])
            hi = float(depth[min(np.searchsorted(cdf, 1.0 - alpha - 1e-12), depth.size - 1)])
            others = g[(g["layer"] != best["layer"]) & g["value"].notna()]
            if len(others):
                top = others.iloc[int(np.argmax(others["best_fraction"].to_numpy()))]
                runner, runner_frac = top["layer"], float(top["best_fraction"])
        row = {"area": area, "best_layer": best["layer"], "value": best["value"], "ci_low": best["ci_low"],
               "ci_high": best["ci_high"], "best_fraction": float(best["best_fraction"]),
               "depth_ci_low": lo, "depth_ci_high": hi, "runner_up": runner, "runner_up_fraction": runner_frac}
        if "undefined_replicates" in g.columns:
            row["undefined_replicates"] = int(g["undefined_replicates"].max())
        out.append(row)
    return pd.DataFrame(out)
