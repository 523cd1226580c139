"""Predictivity: cross-validated ridge regression of one population from another (as Brain-Score).

:func:`predictivity` fits each unit of ``y`` from ``x`` with a ridge penalty chosen per outer fold
by exact leave-one-out (intercept included) on the training rows, and reports the median held-out
Pearson r over units, divided by the split-half reliability ceiling of ``y`` when conditions
repeat. The value estimates the expected held-out correlation of a map fitted to as many samples
as the folds train on; its interval includes the variability of the fitted maps.
"""

from __future__ import annotations

import math
import warnings
from statistics import NormalDist
from typing import Any

import numpy as np

from neurocomplex._validation import check_float, check_int
from neurocomplex.errors import (
    InsufficientDataError,
    InvalidParameterError,
    NeurocomplexWarning,
)
from neurocomplex.estimate import Estimate, check_bootstrap_params, interval_from_replicates, register_estimator
from neurocomplex.measures._pairs import check_pair, condition_codes, draw_counts
from neurocomplex.measures._reliability import (
    average_by_condition,
    cross_validated_r,
    linear_replicates,
    predictors_for,
    unit_reliability,
)
from neurocomplex.recording import Recording

__all__ = ["predictivity"]

_DEFAULT_ALPHAS = tuple(float(a) for a in np.logspace(-3, 3, 13))
_FEW_ROWS = 20  # fewer samples (conditions) than this: every unit's r is dominated by a handful of values


# --------------------------------------------------------------------------- predictivity
@register_estimator(family="similarity", input="pair", bounds=(-math.inf, math.inf),
                    invalid_params=({"n_splits": 1}, {"alpha": -1.0}, {"n_halves": 0}))
def predictivity(
    x: Recording,
    y: Recording,
    alpha: float | tuple[float, ...] | None = None,
    n_splits: int = 5,
    conditions: Any = None,
    n_boot: int = 200,
    seed: int | None = 0,
    ci_level: float = 0.95,
    n_halves: int = 10,
) -> Estimate:
    """Cross-validated ridge predictivity of each unit of ``y`` from all units of ``x``.

    Parameters
    ----------
    x : Recording
        Predictor population (e.g. a network layer).
    y : Recording
        Predicted population (e.g. a brain area), over the same samples in the same order.
    alpha : float or tuple of float, optional
        Ridge penalty per training sample on z-scored predictors, or candidates from which each
        fold picks the one with the smallest leave-one-out squared error on its training samples,
        summed over all units of ``y`` (one penalty per fold for all units; default 10⁻³ … 10³,
        13 values).
    n_splits : int
        Folds of the cross-validation (contiguous when the Recordings have times, shuffled with
        ``seed`` otherwise).
    conditions : str or array-like, optional
        A label column or one value per sample: responses are averaged per condition before the
        regression, and with repeats the score is divided by the reliability ceiling of ``y``.
    n_boot : int
        Bootstrap replicates over the samples (conditions) for the interval's standard error
        (0: no interval).
    seed : int or None
        Seed of the folds, the bootstrap and the split halves.
    ci_level : float
        Coverage of the interval.
    n_halves : int
        Random split halves averaged for the reliability ceiling.

    Returns
    -------
    Estimate
        ``value``: the median over units of the held-out Pearson r, divided by the ceiling when
        repeats exist. ``ci``: the normal interval ``value ± z se``. ``diagnostics``: ``unit_r``,
        ``median_r``, ``ceiling`` (NaN without repeats), ``unit_reliability``, ``alphas`` (chosen
        per fold), ``replicates``, ``se``, ``percentile_ci`` (the replicates' quantiles, for
        reference), ``bias`` (mean of the replicates minus the value), ``interval`` ("normal").

    Raises
    ------
    InvalidParameterError
        Not Recordings; different samples or misaligned labels; bad parameters.
    InsufficientDataError
        Fewer than ``2 * n_splits`` samples (conditions); no unit of ``y`` varies.

    Notes
    -----
    **Fit.** For each of the k = ``n_splits`` folds, X (``x``) is z-scored and Y (``y``) centred
    on the m training samples, and the ridge fit with an unpenalised intercept,
    W = argmin ||Y − XW||² + α m ||W||² (α = ``alpha``), is solved from one symmetric
    eigendecomposition: of the m × m Gram matrix XXᵀ when the predictors are at least as many as
    the training samples, of XᵀX otherwise. Each candidate α then costs O(m r q) (r the rank of X,
    q the units of ``y``): its leave-one-out residuals are e_i / (1 − h_ii) with the leverage
    h_ii = 1/m + x_iᵀ(XᵀX + α m I)⁻¹x_i, the first term the intercept's; this is exactly the error
    of refitting without row i, and the chosen α equals scikit-learn's
    ``RidgeCV(alphas=m * alpha, fit_intercept=True)`` (leave-one-out, ``alpha_per_target=False``)
    fitted to the z-scored training rows; the held-out predictions are that fit's.

    **Value.** Unit j's r pools the held-out samples of all folds, with its responses y_tj and
    predictions ŷ_tj centred on their fold's means:
    r_j = Σ_f Σ_{t∈f} (y_tj − ȳ_fj)(ŷ_tj − ŷ̄_fj) / √(Σ (y_tj − ȳ_fj)² Σ (ŷ_tj − ŷ̄_fj)²).
    Without the fold centring, each fold's intercept (its training mean) moves against its
    held-out mean, which biases a pooled r down (by up to 0.09 in the benchmark, on weak signals
    where the offsets rival the predictions' spread; a map that predicts only the training mean
    would score below 0); with it, a constant prediction scores 0. The value is the median over units
    of r_j. It estimates θ(m), **the expected held-out correlation at this training size**:
    θ(m) = E_T[median_j corr(y_j, ŷ_j^T(x))], the population correlation between a new sample's
    response and the prediction of a map ŷ^T fitted by this procedure (z-scoring, intercept,
    penalty chosen by leave-one-out) to a training set T of m = n − n/k independent samples
    (conditions), averaged over training sets. It is not the correlation an infinitely large
    training set would reach: that is higher (in the Gaussian benchmark below by 0.01–0.14, most
    with many predictors, few samples and weak signal), and θ(m) grows with n, so values from data
    sets of different sizes (or different ``n_splits``) are not comparable, while two predictor
    populations on the same samples are.

    **Interval.** The normal interval value ± z se (z the normal quantile of ``ci_level``), se the
    standard deviation of ``n_boot`` bootstrap replicates of the median over units. Each replicate
    reweights the samples (conditions) with multinomial draw counts w_i, and moves each unit's r
    by Σ_i (w_i − 1) (r_j − r_j(−i)) √((n − 1)/n), the jackknife's linearisation, from the exact
    delete-one values r_j(−i): deleting sample i removes it from its held-out fold and from the
    training rows of the k − 1 maps it entered, each refitted exactly (Sherman–Morrison: the
    prediction at held-out row t moves by −H_ti e_i / (1 − h_ii), H_ti = 1/m + x_tᵀ(XᵀX + α m I)⁻¹x_i),
    the fold's penalty and predictor scales held. The interval therefore covers the variability
    of the fitted maps as well as that of the samples they are evaluated on; it does not cover
    the choice of the penalty (held per fold), and it treats samples as independent (with time
    series, correlated neighbours make it too narrow). The normal form is used because the median
    over units is not a smooth statistic: the replicates' spread estimates the value's standard
    error (0.97–1.24 times the spread of the values over data sets in the benchmark), while their
    quantiles are shifted by adding the replicate noise to already noisy units (the
    ``percentile_ci`` and ``bias`` diagnostics). With a ceiling, each replicate also moves every unit's reliability by
    its delete-one values (the condition left out of both half-averages of every split) and divides
    by the replicate's ceiling, so the interval includes the ceiling's variability.

    **Coverage** (benchmarks/coverage_similarity.py, Gaussian latent model, 100 data sets per
    case, θ(m) by simulation over 1,000 training sets): the 95% interval of the default call
    contains θ(m) in 0.91–0.97 of data sets at n = 100 and 300 samples, 40 and 400 units per
    population, noise sd 1 and 3 (0.90–0.99 for a calibrated interval); the mean value is within
    0.009 of θ(m). Ceiled, with 100 and 300 conditions × 4 repeats (40 units), the interval
    contains θ(m) of the condition means divided by the median population reliability in
    0.96–0.98. The previous default (r of the folds' predictions pooled without centring, a
    bootstrap of the evaluation samples with the maps held) covered θ(m) in 0.25–0.92.

    **Ceiling** (as Brain-Score reports it): the trials of every condition are split at random
    into halves, each unit's half-averaged responses are correlated across conditions (0 for a
    split in which one half is constant, whichever half it is; undefined when both are), averaged
    over ``n_halves`` splits and corrected by Spearman–Brown, r' = 2r / (1 + r); the ceiling is
    the median over units, and the value is median r / ceiling. The ceiled value is not capped and
    can exceed 1: the prediction pools all trials of a condition while the ceiling correlates
    half-averages, and units whose responses are mostly noise pull the median ceiling down more
    than the median r; ``diagnostics["median_r"]`` and ``diagnostics["ceiling"]`` give both
    parts. A model that predicts the true condition means exactly reaches r = √ρ (ρ the
    reliability of a condition mean), so the ceiled value of a perfect model is about 1/√ρ, not 1:
    values between 1 and 1/√ρ are expected of good models. A value whose interval lies above 1/√ρ
    is warned: no prediction of the condition means reaches it, so x likely carries y's own trial
    noise (without an interval, ``n_boot=0``, sampling noise cannot be told apart: no warning).
    The ceiled value estimates θ(m) of the condition means divided by the median over units of the
    population reliability of a condition mean (what the Spearman–Brown corrected split-half
    correlation estimates). With fewer than 20 samples (conditions) every unit's r rests on so few
    values (standard error near 1/√n) that the estimate warns.

    Cost: per fold one eigendecomposition (r its rank), then for each penalty the leave-one-out
    errors in O(m r q), or O(m r²/2) from the basis's weighted Gram matrix where 2q > r. The
    interval adds, per fold, the sums of the n_test × m smoother weights (O(n_test m (r + 2q)), or
    O(m r (r + 2q)) through the basis where r² + 2rq < n_test (r + 2q)) and then n_boot × n × q for
    the replicates; no refit.

    References
    ----------
    .. [1] D. L. K. Yamins et al., "Performance-optimized hierarchical models predict neural
       responses in higher visual cortex", PNAS 111 (2014).
    .. [2] M. Schrimpf et al., "Brain-Score: which artificial neural network for object
       recognition is most brain-like?", bioRxiv 407007 (2018).
    .. [3] T. Hastie, R. Tibshirani, J. Friedman, "The Elements of Statistical Learning", 2nd ed.,
       Springer (2009), §7.10 (the leave-one-out shortcut of a linear smoother).
    .. [4] S. Bates, T. Hastie, R. Tibshirani, "Cross-validation: what does it estimate and how
       well does it do it?", J. Am. Stat. Assoc. 119 (2024) (cross-validation estimates the
       expected performance at the training size, and intervals from the held-out errors alone
       undercover).
    .. [5] B. Efron, C. Stein, "The jackknife estimate of variance", Ann. Statist. 9 (1981).

    Examples
    --------
    >>> import numpy as np, neurocomplex as nc
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 5))
    >>> Y = X @ rng.normal(size=(5, 3)) + 0.01 * rng.normal(size=(200, 3))
    >>> est = nc.predictivity(nc.Recording.from_array(X), nc.Recording.from_array(Y))
    >>> est.value > 0.99, est.ci[0] < est.value < est.ci[1], est.diagnostics["interval"]
    (True, True, 'normal')
    """
    alphas = _check_alphas(alpha)
    check_int("n_splits", n_splits, 2)
    check_int("n_halves", n_halves, 1)
    check_bootstrap_params(n_boot, ci_level, None)
    check_pair(x, y, 2)
    codes = condition_codes(x, y, conditions)
    dx, dy = np.asarray(x.data, dtype=np.float64), np.asarray(y.data, dtype=np.float64)
    if codes is not None:
        n_rows = codes[1].size
        px, py = average_by_condition(dx, codes[0], n_rows), average_by_condition(dy, codes[0], n_rows)
    else:
        n_rows, px, py = x.n_samples, dx, dy
    what = "conditions" if codes is not None else "samples"
    if n_rows < 2 * n_splits:
        raise InsufficientDataError(
            f"{n_rows} {what} are too few for {n_splits}-fold cross-validation (need >= {2 * n_splits})."
        )
    if codes is None and x.times is not None:
        folds = np.array_split(np.arange(n_rows), n_splits)
    else:
        folds = np.array_split(np.random.default_rng([0 if seed is None else seed, 2]).permutation(n_rows), n_splits)
    # inside nc.similarity_matrix, the next area fitted on this layer reuses its folds' decompositions
    shared = predictors_for(x.data, (tuple(f.tobytes() for f in folds), None if codes is None else codes[0].tobytes()),
                            len(folds))
    cv = cross_validated_r(px, py, folds, alphas, delete_one=n_boot > 0, predictors=shared)
    unit_r = cv.r
    if not np.any(np.isfinite(unit_r)):
        raise InsufficientDataError(f"no unit of y varies across the {what} within the held-out folds: "
                                    "predictivity is undefined.")
    notes: list[str] = []
    if np.any(~np.isfinite(unit_r)):
        notes.append(f"{int((~np.isfinite(unit_r)).sum())} unit(s) of y are constant within the held-out folds "
                     "and left out of the median.")
    if n_rows < _FEW_ROWS:
        notes.append(f"only {n_rows} {what}: each unit's held-out correlation rests on {n_rows} values "
                     f"(standard error near 1/sqrt({n_rows}) = {1 / math.sqrt(n_rows):.2f}); use at least {_FEW_ROWS}.")
    median_r = float(np.nanmedian(unit_r))
    ceiling, reliability, rel_delete = math.nan, np.full(y.n_units, np.nan), None
    if codes is not None:
        counts = np.bincount(codes[0], minlength=n_rows)
        if counts.min() >= 2:
            reliability, rel_delete = unit_reliability(dy, codes[0], n_rows, n_halves,
                                                       np.random.default_rng([0 if seed is None else seed, 3]),
                                                       delete_one=n_boot > 0)
            ceiling = float(np.nanmedian(reliability)) if np.any(np.isfinite(reliability)) else math.nan
            if not ceiling > 0:
                notes.append("the split-half reliability of y is not positive: the score is not ceiled.")
        else:
            notes.append(f"{int((counts < 2).sum())} condition(s) have a single sample: no reliability ceiling.")
    ceiled = ceiling > 0
    value = median_r / (ceiling if ceiled else 1.0)
    diagnostics: dict[str, Any] = {"unit_r": unit_r, "median_r": median_r, "ceiling": ceiling,
                                   "unit_reliability": reliability, "alphas": cv.alphas}
    ci = None
    reps = np.empty(0)
    if n_boot and cv.r_delete is not None:
        weights = draw_counts(n_rows, n_boot, seed)
        reps = np.nanmedian(linear_replicates(unit_r, cv.r_delete, weights), axis=1)
        if ceiled and rel_delete is not None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # replicates where every reliability is undefined
                ceilings = np.nanmedian(linear_replicates(reliability, rel_delete, weights), axis=1)
            reps = np.where(ceilings > 0, reps / ceilings, np.nan)
        ci, interval_diag = _normal_interval(value, reps, ci_level)
        diagnostics.update(interval_diag)
    diagnostics["replicates"] = reps
    bound = 1.0 / math.sqrt(ceiling) if ceiled else math.inf  # the score of the true condition means
    if ci is not None and ci[0] > bound:  # beyond sampling error: without an interval there is no telling
        notes.append(_above_bound(value, median_r, ceiling))
    for msg in notes:
        warnings.warn(msg, NeurocomplexWarning, stacklevel=2)
    return Estimate(value=value, ci=ci, method="ridge_predictivity" + ("_ceiled" if ceiled else ""),
                    params={"alpha": alpha, "n_splits": n_splits, "n_boot": n_boot, "seed": seed,
                            "ci_level": ci_level, "n_halves": n_halves,
                            "conditions": conditions if isinstance(conditions, str) or conditions is None else "array"},
                    n_samples=x.n_samples, n_units=x.n_units + y.n_units, diagnostics=diagnostics,
                    warnings=tuple(notes))


def _above_bound(value: float, median_r: float, ceiling: float) -> str:
    """The warning for a ceiled score whose interval lies above that of the true condition means, 1/√ceiling."""
    return (f"the ceiled predictivity {value:.3g} and its interval exceed 1/sqrt({ceiling:.3g}) = "
            f"{1.0 / math.sqrt(ceiling):.3g}, the score of a model that predicts y's true condition means: the "
            f"median held-out r ({median_r:.3g}) is above the square root of the median reliability of y's "
            "condition means, which no prediction of the condition means reaches. x may carry y's own "
            "trial-to-trial noise (the same trials, or responses computed from them), or noisy units lower the "
            "median reliability more than the median r (diagnostics['unit_r'] and diagnostics['unit_reliability']).")


def _normal_interval(value: float, reps: np.ndarray, ci_level: float
                     ) -> tuple[tuple[float, float] | None, dict[str, Any]]:
    """value ± z se from the replicates' standard deviation, with the percentile interval and the
    replicates' mean shift for reference."""
    finite = reps[np.isfinite(reps)]
    diag: dict[str, Any] = {"se": math.nan, "percentile_ci": interval_from_replicates(finite, ci_level),
                            "bias": float(finite.mean() - value) if finite.size else math.nan, "interval": "normal"}
    if finite.size < 2:
        return None, diag
    se = float(np.std(finite, ddof=1))
    half = NormalDist().inv_cdf(0.5 + ci_level / 2.0) * se
    diag["se"] = se
    return (value - half, value + half), diag


def _check_alphas(alpha: Any) -> tuple[float, ...]:
    if alpha is None:
        return _DEFAULT_ALPHAS
    values = alpha if isinstance(alpha, (tuple, list, np.ndarray)) else (alpha,)
    out = tuple(check_float("alpha", a, 0.0, low_open=True) for a in values)
    if not out:
        raise InvalidParameterError("alpha must be a positive number or a non-empty sequence of them.")
    return out  # type: ignore[return-value]
