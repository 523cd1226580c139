"""Matched comparison: measures of recordings of different sizes and kinds, made comparable.

Every entropy and dimension depends on the number of units and of samples, and "active" means
different things for spike counts and ReLU activations. :func:`compare` subsamples every
Recording repeatedly to the same number of units and samples, binarizes all of them by one
stated rule, and reports for each measure and each pair of Recordings the matched difference
with an interval and a permutation p-value, next to the unmatched values.
"""

from __future__ import annotations

import inspect
import itertools
import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from neurocomplex._progress import progress_bar
from neurocomplex._validation import check_choice, check_float, check_int
from neurocomplex.errors import InsufficientDataError, InvalidDataError, InvalidParameterError, NeurocomplexWarning
from neurocomplex.estimate import EstimatorSpec
from neurocomplex.measures import get_estimator
from neurocomplex.recording import Recording

__all__ = ["compare", "BINARIZE_RULES", "NULLS"]

BINARIZE_RULES = ("quantile", "zero", "none")
NULLS = ("draws", "rates", "none")
_MATCH = ("units", "samples")
_COLUMNS = ["measure", "a", "b", "value_a", "value_b", "difference", "ci_low", "ci_high", "p_value",
            "unmatched_a", "unmatched_b", "unmatched_difference", "moved_a", "moved_b", "n_units",
            "n_samples", "n_draws", "binarize", "null", "warnings"]


def _check_recordings(recordings: Any) -> dict[str, Recording]:
    if not isinstance(recordings, Mapping) or len(recordings) < 2:
        raise InvalidParameterError(
            "recordings must be a mapping of at least two names -> Recording (areas and layers together), "
            f"got {type(recordings).__name__}{' of length ' + str(len(recordings)) if hasattr(recordings, '__len__') else ''}."
        )
    for key, rec in recordings.items():
        if not isinstance(rec, Recording):
            raise InvalidParameterError(f"recordings[{key!r}] is a {type(rec).__name__}, not a Recording.")
    return {str(k): v for k, v in recordings.items()}


def _aligned(recs: Sequence[Recording]) -> bool:
    """Whether every Recording holds the same samples (same count and times), so rows are shared."""
    n = {r.n_samples for r in recs}
    if len(n) != 1:
        return False
    times = [r.times for r in recs]
    if all(t is None for t in times):
        return True
    if any(t is None for t in times):
        return False
    return all(np.allclose(t, times[0], rtol=0, atol=1e-9 * max(1.0, float(np.abs(times[0]).max()))) for t in times)


def _thresholds(rec: Recording, rule: str, activation: float) -> np.ndarray | None:
    if rule == "quantile":
        return np.quantile(np.asarray(rec.data, dtype=np.float64), 1.0 - activation, axis=0)
    if rule == "zero":
        return np.zeros(rec.n_units)
    return None


def _binarized(data: np.ndarray, thresholds: np.ndarray | None, kind: str) -> Recording:
    if thresholds is None:
        return Recording.from_array(data, kind=kind)
    return Recording.from_array((data > thresholds).astype(np.uint8), kind="binary")


def _estimate(spec: EstimatorSpec, rec: Recording, kwargs: Mapping[str, Any]) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NeurocomplexWarning)
        try:
            return float(spec.func(rec, **kwargs).value)
        except (InsufficientDataError, InvalidDataError, ArithmeticError):  # an unusable subsample
            return math.nan


def compare(
    recordings: Mapping[str, Recording],
    measures: str | Sequence[str],
    match: Sequence[str] = ("units", "samples"),
    n_draws: int = 30,
    fraction: float = 0.5,
    binarize: str = "quantile",
    activation: float = 0.2,
    null: str = "draws",
    n_null: int = 60,
    seed: int | None = 0,
    ci_level: float = 0.95,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    progress: bool | None = None,
) -> Any:
    """Matched differences of measures between every pair of Recordings, with intervals and p-values.

    Parameters
    ----------
    recordings : mapping of name -> Recording
        Areas and layers together (at least two).
    measures : str or sequence of str
        Registered single-Recording estimators (:func:`neurocomplex.list_estimators`).
    match : sequence of {"units", "samples"}
        What is equalized: every draw subsamples each Recording, without replacement, to the
        same number of units and/or samples (an empty tuple: no matching).
    n_draws : int
        Matched subsamples per Recording; the reported value is their mean.
    fraction : float
        Matched size as a fraction of the smallest Recording's (0.5: half its units and half its
        samples; 1.0: all of the smallest, whose draws then never vary). Below 1, every
        Recording's draws vary, which is what the interval and the ``"draws"`` p-value rest on.
    binarize : {"quantile", "zero", "none"}
        One rule for every Recording, applied before the estimators that work on the binary state:
        ``"quantile"``: unit u is active when above its own (1 − ``activation``) quantile over the
        Recording's samples, so spike counts and activations share an activation ratio (at most
        ``activation``: values tied at the threshold count as inactive); ``"zero"``: active above 0
        for both; ``"none"``: each estimator's own threshold. Other estimators get the raw values.
    activation : float
        Target fraction of active samples per unit for ``binarize="quantile"``, in (0, 1).
    null : {"draws", "rates", "none"}
        ``"draws"``: the difference is zero, tested against the spread of the per-draw
        differences (two-sided, normal approximation); ``"rates"``: a permutation null that keeps
        every unit's own activity (hence its rate and its binarization) and exchanges units
        between the two Recordings of a pair (its hypothesis: the units of a and b are
        exchangeable, as for two areas recorded together); ``"none"``: no p-value.
    n_null : int
        Permutations for ``null="rates"``.
    seed : int or None
        Seed of the subsampling and the permutations.
    ci_level : float
        Coverage of the interval over draws.
    params : mapping of measure name -> dict, optional
        Parameters for one estimator (``{"pattern_entropy": {"method": "plugin"}}``).
    progress : bool, optional
        Progress bar over draws; default on only in a terminal.

    Returns
    -------
    pandas.DataFrame
        One row per measure and pair (a, b): ``value_a``, ``value_b`` (matched: mean over draws),
        ``difference`` (value_a − value_b), ``ci_low``, ``ci_high`` (percentile interval of the
        per-draw differences), ``p_value``, ``unmatched_a``, ``unmatched_b`` (on all units and
        samples, binarized by the same rule), ``unmatched_difference``, ``moved_a``, ``moved_b``
        (matched − unmatched: how much matching moved each value), ``n_units``, ``n_samples``
        (matched sizes), ``n_draws``, ``binarize``, ``null``, ``warnings``. ``df.attrs``:
        ``provenance`` (rule, sizes, seed, package version, ...) and ``matched`` (records, one per Recording and
        measure: ``recording``, ``measure``, ``value``, ``ci_low``, ``ci_high``, ``unmatched``,
        ``moved``).

    Raises
    ------
    InvalidParameterError
        Fewer than two Recordings, unknown measure or option, ``null="rates"`` without matched
        sample counts.

    Notes
    -----
    Matched sizes: U = ⌊``fraction`` · min n_units⌋, S = ⌊``fraction`` · min n_samples⌋ over the
    Recordings (at least 1 unit and 2 samples). When every Recording
    holds the same samples (same count and times: the same stimuli or bins), each draw takes the
    same rows from all of them, so they stay aligned. The interval is the ``ci_level`` percentile
    interval of d_k = m(a_k) − m(b_k) over draws k: how much the difference moves from one matched
    subsample to another. Taking half of the smallest Recording's units and samples makes that
    spread estimate the sampling variability of a full-size value (half-sampling, the delete-d
    jackknife with d = n/2 [1]_), so the interval and the ``"draws"`` p-value, 2(1 − Φ(|d̄| / s_d))
    with s_d the standard deviation of the d_k, cover the choice of units and of samples. The
    p-value of the ``"rates"`` null is (1 + #{|d*_j| >= |d̄|}) /
    (1 + ``n_null``): for permutation j a draw's 2U units of a and b are pooled and split at
    random into two groups of U, and d*_j is the difference of the measure between the groups;
    d̄ is the mean over draws. The permuted differences are single-draw values, more variable
    than d̄, so the test errs on the conservative side. Pooling units of two Recordings needs
    their rows to match in number; with different activity scales (counts against activations),
    measures on raw values mix the scales, while binary measures after ``"quantile"`` do not.
    Two independently generated populations are not exchangeable unit by unit (each has its own
    latent drive), so ``"rates"`` rejects more often than its level between such populations;
    ``"draws"`` is the default for that reason.

    References
    ----------
    .. [1] J. Shao, C. F. J. Wu, "A general theory for jackknife variance estimation", Ann.
       Statist. 17(3) (1989).

    Examples
    --------
    >>> import numpy as np, neurocomplex as nc
    >>> rng = np.random.default_rng(0)
    >>> a = nc.Recording.from_array(rng.normal(size=(200, 30)) @ rng.normal(size=(30, 30)))
    >>> b = nc.Recording.from_array(rng.normal(size=(300, 2)) @ rng.normal(size=(2, 12)))
    >>> df = nc.compare({"a": a, "b": b}, "participation_ratio", n_draws=5, n_null=10)
    >>> bool(df.loc[0, "difference"] > 0), int(df.loc[0, "n_units"]), int(df.loc[0, "n_samples"])
    (True, 6, 100)
    """
    import pandas as pd

    from neurocomplex._version import __version__

    recs = _check_recordings(recordings)
    names = [measures] if isinstance(measures, str) else list(measures)
    if not names:
        raise InvalidParameterError("measures is empty; pass one or more estimator names.")
    specs = {}
    for m in names:
        spec = get_estimator(m)
        if spec.input != "recording":
            raise InvalidParameterError(f"{m!r} takes a {spec.input}, not one Recording; it cannot be compared here.")
        specs[m] = spec
    match = (match,) if isinstance(match, str) else tuple(match)
    for item in match:
        check_choice("match", item, _MATCH)
    n_draws = check_int("n_draws", n_draws, 2)
    fraction = check_float("fraction", fraction, 0.0, 1.0, low_open=True)
    check_choice("binarize", binarize, BINARIZE_RULES)
    activation = check_float("activation", activation, 0.0, 1.0, low_open=True, high_open=True)
    check_choice("null", null, NULLS)
    n_null = check_int("n_null", n_null, 1)
    check_float("ci_level", ci_level, 0.0, 1.0, low_open=True, high_open=True)
    params = dict(params or {})
    for m in params:
        if m not in specs:
            raise InvalidParameterError(f"params names {m!r}, which is not among the measures {names}.")

    all_recs = list(recs.values())
    n_units = max(1, int(fraction * min(r.n_units for r in all_recs))) if "units" in match else None
    n_samples = max(2, int(fraction * min(r.n_samples for r in all_recs))) if "samples" in match else None
    aligned = _aligned(all_recs)
    if null == "rates" and len({n_samples or r.n_samples for r in all_recs}) != 1:
        raise InvalidParameterError(
            "null='rates' pools the units of two Recordings, which needs the same number of samples: "
            "add 'samples' to match, or use null='none'."
        )
    thresholds = {k: _thresholds(r, binarize, activation) for k, r in recs.items()}
    kwargs = {}
    for m, spec in specs.items():
        sig = inspect.signature(spec.func).parameters
        kw = {k: v for k, v in {"n_boot": 0, "seed": seed}.items() if k in sig}
        kw.update(params.get(m, {}))
        kwargs[m] = kw

    def prepared(data: np.ndarray, th: np.ndarray | None, kind: str, m: str) -> Recording:
        if specs[m].binary:
            return _binarized(data, th, kind)
        return Recording.from_array(data, kind=kind)

    def value(data: np.ndarray, th: np.ndarray | None, kind: str, m: str) -> float:
        return _estimate(specs[m], prepared(data, th, kind, m), kwargs[m])

    unmatched = {(k, m): value(np.asarray(r.data), thresholds[k], _kind(r), m) for k, r in recs.items() for m in names}
    rng = np.random.default_rng(seed)
    draws: list[dict[str, tuple[np.ndarray, np.ndarray | None]]] = []
    values = {(k, m): np.empty(n_draws) for k in recs for m in names}
    for d in progress_bar(range(n_draws), n_draws, progress, "matched draws", "draw", min_total=5):
        shared_rows = (np.sort(rng.choice(all_recs[0].n_samples, n_samples, replace=False))
                       if aligned and n_samples is not None else None)
        this = {}
        for k, r in recs.items():
            rows = shared_rows
            if rows is None and n_samples is not None:
                rows = np.sort(rng.choice(r.n_samples, n_samples, replace=False))
            cols = np.sort(rng.choice(r.n_units, n_units, replace=False)) if n_units is not None else None
            data = np.asarray(r.data)
            data = data if rows is None else data[rows]
            data = data if cols is None else data[:, cols]
            th = thresholds[k] if thresholds[k] is None or cols is None else thresholds[k][cols]
            this[k] = (data, th)
            for m in names:
                values[k, m][d] = value(data, th, _kind(r), m)
        draws.append(this)

    alpha = (1.0 - ci_level) / 2.0
    rows_out, matched = [], []
    for k, r in recs.items():
        for m in names:
            v = values[k, m]
            ok = v[np.isfinite(v)]
            lo, hi = np.quantile(ok, [alpha, 1 - alpha]) if ok.size >= 2 else (math.nan, math.nan)
            mean = float(ok.mean()) if ok.size else math.nan
            matched.append({"recording": k, "measure": m, "value": mean, "ci_low": float(lo), "ci_high": float(hi),
                            "unmatched": unmatched[k, m], "moved": mean - unmatched[k, m],
                            "n_units": n_units or r.n_units, "n_samples": n_samples or r.n_samples})
    for a, b in itertools.combinations(recs, 2):
        kind_ab = _kind(recs[a]) if _kind(recs[a]) == _kind(recs[b]) else "rates"
        for m in names:
            diff = values[a, m] - values[b, m]
            ok = diff[np.isfinite(diff)]
            notes = []
            if ok.size < n_draws:
                notes.append(f"{n_draws - ok.size} of {n_draws} draws gave no value (unusable subsample).")
            mean = float(ok.mean()) if ok.size else math.nan
            lo, hi = np.quantile(ok, [alpha, 1 - alpha]) if ok.size >= 2 else (math.nan, math.nan)
            p = math.nan
            if null == "draws" and ok.size >= 2:
                sd = float(ok.std(ddof=1))
                if sd > 0:
                    p = math.erfc(abs(mean) / (sd * math.sqrt(2.0)))
                else:
                    notes.append("the draws do not vary (nothing was subsampled): no p-value from null='draws'; "
                                 "use fraction < 1 or null='rates'.")
            if null == "rates" and ok.size:
                nulls = _permutation_null(draws, a, b, m, n_null, kind_ab, value,
                                          np.random.default_rng([0 if seed is None else seed, len(rows_out), 11]))
                nulls = nulls[np.isfinite(nulls)]
                if nulls.size:
                    p = float((1 + np.sum(np.abs(nulls) >= abs(mean) - 1e-12)) / (1 + nulls.size))
            va, vb = float(np.nanmean(values[a, m])), float(np.nanmean(values[b, m]))
            rows_out.append({"measure": m, "a": a, "b": b, "value_a": va, "value_b": vb, "difference": mean,
                             "ci_low": float(lo), "ci_high": float(hi), "p_value": p,
                             "unmatched_a": unmatched[a, m], "unmatched_b": unmatched[b, m],
                             "unmatched_difference": unmatched[a, m] - unmatched[b, m],
                             "moved_a": va - unmatched[a, m], "moved_b": vb - unmatched[b, m],
                             "n_units": n_units if n_units is not None else math.nan,
                             "n_samples": n_samples if n_samples is not None else math.nan,
                             "n_draws": n_draws, "binarize": _rule_text(binarize, activation), "null": null,
                             "warnings": " | ".join(notes)})
    df = pd.DataFrame(rows_out, columns=_COLUMNS)
    df.attrs["provenance"] = {"match": list(match), "fraction": fraction, "n_units": n_units, "n_samples": n_samples,
                              "aligned_samples": aligned, "n_draws": n_draws,
                              "binarize": _rule_text(binarize, activation), "null": null, "n_null": n_null,
                              "seed": seed, "ci_level": ci_level, "params": {m: dict(kw) for m, kw in kwargs.items()},
                              "version": __version__}
    df.attrs["matched"] = matched
    return df


def _kind(rec: Recording) -> str:
    return rec.kind if rec.kind in ("spike_counts", "rates", "activations", "binary") else "rates"


def _rule_text(rule: str, activation: float) -> str:
    if rule == "quantile":
        return f"X > per-unit {1 - activation:g} quantile (activation ratio <= {activation:g})"
    if rule == "zero":
        return "X > 0"
    return "estimator default"


def _permutation_null(draws: list[dict[str, tuple[np.ndarray, np.ndarray | None]]], a: str, b: str, m: str,
                      n_null: int, kind: str, value: Any, rng: np.random.Generator) -> np.ndarray:
    """Differences of the measure between random halves of the pooled units of a and b."""
    out = np.empty(n_null)
    for j in range(n_null):
        da, ta = draws[j % len(draws)][a]
        db, tb = draws[j % len(draws)][b]
        pooled = np.hstack([da, db]).astype(np.float64, copy=False)
        th = None if ta is None or tb is None else np.concatenate([ta, tb])
        perm = rng.permutation(pooled.shape[1])
        g1, g2 = perm[: da.shape[1]], perm[da.shape[1]:]
        out[j] = (value(pooled[:, g1], None if th is None else th[g1], kind, m)
                  - value(pooled[:, g2], None if th is None else th[g2], kind, m))
    return out
