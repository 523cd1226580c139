"""Predictivity: cross-validated ridge regression of one population from another (as Brain-Score).

:func:`predictivity` fits each unit of ``y`` from ``x`` with a ridge penalty chosen per outer fold
by exact leave-one-out (intercept included) on the training rows, and reports the median held-out Pearson r over units,
divided by the split-half reliability ceiling of ``y`` when conditions repeat.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from neurocomplex._validation import check_float, check_int
from neurocomplex.errors import (
    InsufficientDataError,
    InvalidParameterError,
)
from neurocomplex.estimate import Estimate, check_bootstrap_params, register_estimator
from neurocomplex.measures._pairs import check_pair, condition_codes, draw_counts, finish
from neurocomplex.measures._reliability import (
    average_by_condition,
    ridge_predictions,
    unit_reliability,
    weighted_r,
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
        Bootstrap replicates over the held-out samples (conditions) for the percentile interval
        (0: none).
    seed : int or None
        Seed of the folds, the bootstrap and the split halves.
    ci_level : float
        Coverage of the percentile interval.
    n_halves : int
        Random split halves averaged for the reliability ceiling.

    Returns
    -------
    Estimate
        ``value``: the median over units of the held-out Pearson r, divided by the ceiling when
        repeats exist. ``diagnostics``: ``unit_r``, ``median_r``, ``ceiling`` (NaN without
        repeats), ``unit_reliability``, ``alphas`` (chosen per fold), ``replicates``.

    Raises
    ------
    InvalidParameterError
        Not Recordings; different samples or misaligned labels; bad parameters.
    InsufficientDataError
        Fewer than ``2 * n_splits`` samples (conditions); no unit of ``y`` varies.

    Notes
    -----
    For each fold, X (``x``) is z-scored and Y (``y``) centred on the n_train training samples,
    and the ridge fit with an unpenalised intercept, W = argmin ||Y − XW||² + α n_train ||W||²
    (α = ``alpha``), is solved from one symmetric eigendecomposition: of the n_train × n_train
    Gram matrix XXᵀ when the predictors are at least as many as the training samples, of XᵀX
    otherwise. Each candidate α then costs O(n_train r q) (r the rank of X): its leave-one-out
    residuals are e_i / (1 − h_ii) with the leverage h_ii = 1/n_train + x_iᵀ(XᵀX + α n_train I)⁻¹x_i,
    the first term the intercept's; this is exactly the error of refitting without row i, and
    the chosen α equals scikit-learn's ``RidgeCV(alphas=n_train * alpha, fit_intercept=True)``
    (leave-one-out, ``alpha_per_target=False``) fitted to the z-scored training rows. The held-out
    predictions of all folds are pooled and each unit's r is the Pearson correlation between its
    responses and their predictions. Ceiling (as Brain-Score reports it): the trials of every
    condition are split at random into halves, each unit's half-averaged responses are
    correlated across conditions (0 for a split in which one half is constant, whichever half
    it is; undefined when both are), averaged over ``n_halves`` splits and corrected by
    Spearman–Brown, r' = 2r / (1 + r); the ceiling is the median over units, and the value is
    median r / ceiling. The ceiled value is not capped and can exceed 1: the prediction pools
    all trials of a condition while the ceiling correlates half-averages, and units whose
    responses are mostly noise pull the median ceiling down more than the median r;
    ``diagnostics["median_r"]`` and ``diagnostics["ceiling"]`` give both parts.

    The interval is the percentile interval of the median r (divided by the ceiling) over
    replicates that resample the held-out samples (conditions) with replacement, the fitted
    maps kept: it covers how the score varies with the stimuli it is evaluated on, not the
    variability of the fits or of the ceiling. With fewer than 20 samples (conditions) every
    unit's r rests on so few values (standard error near 1/√n) that the estimate warns.

    References
    ----------
    .. [1] D. L. K. Yamins et al., "Performance-optimized hierarchical models predict neural
       responses in higher visual cortex", PNAS 111 (2014).
    .. [2] M. Schrimpf et al., "Brain-Score: which artificial neural network for object
       recognition is most brain-like?", bioRxiv 407007 (2018).
    .. [3] T. Hastie, R. Tibshirani, J. Friedman, "The Elements of Statistical Learning", 2nd ed.,
       Springer (2009), §7.10 (the leave-one-out shortcut of a linear smoother).

    Examples
    --------
    >>> import numpy as np, neurocomplex as nc
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 5))
    >>> Y = X @ rng.normal(size=(5, 3)) + 0.01 * rng.normal(size=(200, 3))
    >>> est = nc.predictivity(nc.Recording.from_array(X), nc.Recording.from_array(Y), n_boot=0)
    >>> est.value > 0.99
    True
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
    if n_rows < 2 * n_splits:
        raise InsufficientDataError(
            f"{n_rows} {'conditions' if codes is not None else 'samples'} are too few for {n_splits}-fold "
            f"cross-validation (need >= {2 * n_splits})."
        )
    if codes is None and x.times is not None:
        folds = np.array_split(np.arange(n_rows), n_splits)
    else:
        folds = np.array_split(np.random.default_rng([0 if seed is None else seed, 2]).permutation(n_rows), n_splits)
    pred, chosen = ridge_predictions(px, py, folds, alphas)
    unit_r = weighted_r(py, pred, np.ones((1, n_rows)))[0]
    if not np.any(np.isfinite(unit_r)):
        raise InsufficientDataError("no unit of y varies across samples: predictivity is undefined.")
    notes: list[str] = []
    if np.any(~np.isfinite(unit_r)):
        notes.append(f"{int((~np.isfinite(unit_r)).sum())} unit(s) of y are constant and left out of the median.")
    if n_rows < _FEW_ROWS:
        notes.append(f"only {n_rows} {'conditions' if codes is not None else 'samples'}: each unit's held-out "
                     f"correlation rests on {n_rows} values (standard error near 1/sqrt({n_rows}) = "
                     f"{1 / math.sqrt(n_rows):.2f}); use at least {_FEW_ROWS}.")
    median_r = float(np.nanmedian(unit_r))
    ceiling, reliability = math.nan, np.full(y.n_units, np.nan)
    if codes is not None:
        counts = np.bincount(codes[0], minlength=n_rows)
        if counts.min() >= 2:
            reliability = unit_reliability(dy, codes[0], n_rows, n_halves,
                                            np.random.default_rng([0 if seed is None else seed, 3]))
            ceiling = float(np.nanmedian(reliability)) if np.any(np.isfinite(reliability)) else math.nan
            if not ceiling > 0:
                notes.append("the split-half reliability of y is not positive: the score is not ceiled.")
        else:
            notes.append(f"{int((counts < 2).sum())} condition(s) have a single sample: no reliability ceiling.")
    scale = ceiling if ceiling > 0 else 1.0
    value = median_r / scale
    reps = np.empty(0)
    if n_boot:
        reps = np.nanmedian(weighted_r(py, pred, draw_counts(n_rows, n_boot, seed)), axis=1) / scale
    diagnostics: dict[str, Any] = {"unit_r": unit_r, "median_r": median_r, "ceiling": ceiling,
                                   "unit_reliability": reliability, "alphas": chosen, "replicates": reps}
    ci, diagnostics, notes = finish(value, reps, ci_level, -math.inf, math.inf, diagnostics, notes)
    return Estimate(value=value, ci=ci, method="ridge_predictivity" + ("_ceiled" if ceiling > 0 else ""),
                    params={"alpha": alpha, "n_splits": n_splits, "n_boot": n_boot, "seed": seed,
                            "ci_level": ci_level, "n_halves": n_halves,
                            "conditions": conditions if isinstance(conditions, str) or conditions is None else "array"},
                    n_samples=x.n_samples, n_units=x.n_units + y.n_units, diagnostics=diagnostics,
                    warnings=tuple(notes))


def _check_alphas(alpha: Any) -> tuple[float, ...]:
    if alpha is None:
        return _DEFAULT_ALPHAS
    values = alpha if isinstance(alpha, (tuple, list, np.ndarray)) else (alpha,)
    out = tuple(check_float("alpha", a, 0.0, low_open=True) for a in values)
    if not out:
        raise InvalidParameterError("alpha must be a positive number or a non-empty sequence of them.")
    return out  # type: ignore[return-value]
