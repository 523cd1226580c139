"""Reconstruction complexity: how many affine maps reproduce one population from another (MEASURES.md §4b).

The project's own definition after Janik & Witaszczyk (2020) (see :mod:`neurocomplex.measures.complexity`
for what their abstract asks of a complexity and what is known of it): partition the samples into k
clusters on the input population, fit one ridge-regularized affine map per cluster, and take the
smallest k whose held-out relative error reaches the tolerance; the complexity is the exponential
of the entropy of that partition, the effective number of affine maps. A linear map gives 1.

:func:`layer_complexity` puts it over the depth of a network (or a chain of areas), next to each
layer's :func:`~neurocomplex.measures.complexity.pattern_complexity`, in one table.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from neurocomplex._checks import check_recording, check_same_samples
from neurocomplex._validation import check_float, check_int
from neurocomplex.errors import (
    InsufficientDataError,
    InvalidParameterError,
    NeurocomplexWarning,
)
from neurocomplex.estimate import Estimate, interval_report, register_estimator
from neurocomplex.measures._leader import entropy_exp, fit_affine, kmeans, sq_dist
from neurocomplex.measures._word_bootstrap import count_bootstrap
from neurocomplex.measures.complexity import _check_common, _warn, pattern_complexity
from neurocomplex.recording import Recording

__all__ = ["reconstruction_complexity", "reconstruction_curve", "layer_complexity"]


# --------------------------------------------------------------------------- reconstruction complexity
def _folds(n: int, n_folds: int, shuffle: bool, seed: int | None) -> list[np.ndarray]:
    idx = np.random.default_rng(seed).permutation(n) if shuffle else np.arange(n)
    return np.array_split(idx, n_folds)


def _cv_error(x: np.ndarray, y: np.ndarray, k: int, folds: list[np.ndarray], ridge: float,
              seed: int | None, ss_tot: float, n_init: int) -> float:
    """Held-out relative error of k clusters on x, one affine map per cluster."""
    sse = 0.0
    n = x.shape[0]
    for f, test in enumerate(folds):
        train = np.setdiff1d(np.arange(n), test, assume_unique=True)
        rng = np.random.default_rng([0 if seed is None else seed, k, f])
        centers, labels = kmeans(x[train], k, rng, n_init=n_init)
        assign = sq_dist(x[test], centers).argmin(axis=1)
        for j in range(centers.shape[0]):
            tr = train[labels == j]
            te = test[assign == j]
            if te.size == 0:
                continue
            if tr.size == 0:  # cannot happen after re-seeding, kept for safety of the arithmetic
                sse += float(np.sum((y[te] - y[train].mean(axis=0)) ** 2))
                continue
            w, b = fit_affine(x[tr], y[tr], ridge)
            sse += float(np.sum((y[te] - (x[te] @ w + b)) ** 2))
    return sse / ss_tot


def _check_pair(x_rec: Recording, y_rec: Recording, n_folds: int) -> None:
    check_same_samples(x_rec, y_rec, ("x_rec", "y_rec"))
    if x_rec.n_samples < 2 * n_folds:
        raise InsufficientDataError(
            f"{x_rec.n_samples} samples are too few for {n_folds}-fold cross-validation (need >= {2 * n_folds})."
        )


def _prepare_pair(x_rec: Recording, y_rec: Recording, standardize: bool) -> tuple[np.ndarray, np.ndarray, float]:
    x = np.asarray(x_rec.data, dtype=np.float64)
    y = np.asarray(y_rec.data, dtype=np.float64)
    if standardize:
        sd = x.std(axis=0)
        x = (x - x.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    ss_tot = float(np.sum((y - y.mean(axis=0)) ** 2))
    if ss_tot <= 0:
        raise InsufficientDataError("y_rec is constant over samples: there is nothing to reconstruct.")
    return x, y, ss_tot


def _check_recon_params(k_max: int, ridge: float, n_folds: int, seed: Any) -> tuple[int, float, int]:
    k_max = check_int("k_max", k_max, 1)
    ridge = check_float("ridge", ridge, 0.0)
    n_folds = check_int("n_folds", n_folds, 2)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
        raise InvalidParameterError(f"seed must be an integer or None, got {seed!r}.")
    return k_max, ridge, n_folds


def _errors_until(x: np.ndarray, y: np.ndarray, k_max: int, tol: float, ridge: float, n_folds: int,
                  shuffle: bool, seed: int | None, ss_tot: float, n_init: int) -> np.ndarray:
    folds = _folds(x.shape[0], n_folds, shuffle, seed)
    errs = []
    for k in range(1, k_max + 1):
        errs.append(_cv_error(x, y, k, folds, ridge, seed, ss_tot, n_init))
        if errs[-1] <= tol:
            break
    return np.array(errs)


def _fractions(x: np.ndarray, k: int, seed: int | None, n_init: int) -> tuple[np.ndarray, np.ndarray]:
    _, labels = kmeans(x, k, np.random.default_rng([0 if seed is None else seed, k, -1 % 2**32]), n_init=n_init)
    return labels, np.bincount(labels) / labels.size


@register_estimator(
    family="complexity",
    input="pair",
    invalid_params=({"tolerance": 0.0}, {"k_max": 0}, {"n_folds": 1}, {"ridge": -1.0}),
    bounds=(1.0, math.inf),
)
def reconstruction_complexity(
    x_rec: Recording,
    y_rec: Recording,
    tolerance: float = 0.1,
    k_max: int = 16,
    ridge: float = 1e-6,
    n_folds: int = 5,
    seed: int | None = 0,
    standardize: bool = False,
    n_boot: int = 100,
    block_size: int | None = None,
    ci_level: float = 0.95,
    n_init: int = 1,
) -> Estimate:
    """Effective number of affine maps needed to reproduce ``y_rec`` from ``x_rec`` to a tolerance.

    Parameters
    ----------
    x_rec, y_rec : Recording
        Input and output populations over the same samples (a layer's input and output, a
        stimulus and a response, area A and area B).
    tolerance : float
        Relative held-out error ε (> 0) to reach.
    k_max : int
        Largest number of clusters tried.
    ridge : float
        Ridge penalty per sample on the weights of each affine map (>= 0; the intercept is not
        penalized).
    n_folds : int
        Folds of the cross-validation.
    seed : int or None
        Seed of k-means, of the fold assignment and of the bootstrap.
    standardize : bool
        z-score the units of ``x_rec`` before clustering and fitting (constant units are only
        centered). Off by default: clusters are formed in the data's own geometry.
    n_boot : int
        Bootstrap replicates for the interval (0: none).
    block_size : int, optional
        Block length for a block bootstrap.
    ci_level : float
        Coverage of the interval.
    n_init : int
        k-means++ starts per (fold, k); the partition with the lowest within-cluster sum of squares
        is kept. 1 (the default, as scikit-learn's KMeans with k-means++) is the fastest; more
        starts make e(k) less dependent on the seed.

    Returns
    -------
    Estimate
        ``value`` = C_rec(ε) in ``[1, k]``, or NaN when no ``k <= k_max`` reaches ε (with a
        warning). ``diagnostics``: ``errors`` (e(k) for k = 1, 2, ... as far as tried), ``k``
        (chosen), ``fractions`` (q), ``tolerance``.

    Raises
    ------
    InvalidParameterError
        Not Recordings; different numbers of samples or different sample times; bad parameters.
    InsufficientDataError
        Fewer than ``2 * n_folds`` samples; constant ``y_rec``.

    Notes
    -----
    The project's definition, after Janik & Witaszczyk (2020) [1]_: entropic, a measure of
    nonlinearity (one affine map suffices for a linear computation, which gives 1), a function of
    the scale ε, and usable between any two populations, biological or artificial.

    For ``k = 1, 2, ..., k_max``: k-means on X (k-means++ seeding; the best of ``n_init`` seeded runs, one by
    default as in scikit-learn's KMeans with k-means++),
    one ridge-regularized affine map ``Y ≈ X W_j + b_j`` per cluster ``j`` (minimizing
    ``||Y_j - X_j W_j - b_j||² + ridge * n_j * ||W_j||²``), and the held-out relative error
    ``e(k) = Σ_folds ||Y_test - Ŷ_test||² / ||Y - mean Y||²``, the clusters and maps fitted on the
    training folds and each test sample predicted by the map of its nearest centroid. ε is
    ``tolerance``; the chosen k is the smallest with ``e(k) <= ε``; k-means with that k on all
    samples gives the fractions ``q_j``, and ``C_rec(ε) = exp(-Σ_j q_j log q_j)``.
    Folds are contiguous blocks of samples when the Recordings have times (neighbouring time bins
    are dependent) and a seeded random partition otherwise. The interval is a percentile
    bootstrap of ``C_rec`` (cluster counts redrawn) given the chosen k (k is not resampled).

    References
    ----------
    .. [1] R. A. Janik, P. Witaszczyk, "Complexity for deep neural networks and other
       characteristics of deep feature representations", arXiv:2006.04791 (2020).

    Examples
    --------
    >>> import numpy as np, neurocomplex as nc
    >>> x = np.random.default_rng(0).uniform(-1, 1, size=(400, 1))
    >>> X = nc.Recording.from_array(x)
    >>> nc.reconstruction_complexity(X, nc.Recording.from_array(3 * x + 1), n_boot=0).value
    1.0
    >>> est = nc.reconstruction_complexity(X, nc.Recording.from_array(np.abs(x)), tolerance=0.01, n_boot=0)
    >>> est.diagnostics["k"], round(est.value, 1)
    (2, 2.0)
    """
    k_max, ridge, n_folds = _check_recon_params(k_max, ridge, n_folds, seed)
    tolerance = check_float("tolerance", tolerance, 0.0, low_open=True)
    _check_common(n_boot, seed, ci_level, block_size)
    _check_pair(x_rec, y_rec, n_folds)
    x, y, ss_tot = _prepare_pair(x_rec, y_rec, bool(standardize))
    shuffle = x_rec.times is None or y_rec.times is None
    n_init = check_int("n_init", n_init, 1)
    errs = _errors_until(x, y, k_max, tolerance, ridge, n_folds, shuffle, seed, ss_tot, n_init)
    caveats: list[str] = []
    params = {"tolerance": tolerance, "k_max": k_max, "ridge": ridge, "n_folds": n_folds, "seed": seed,
              "standardize": bool(standardize), "n_boot": n_boot, "block_size": block_size, "ci_level": ci_level,
              "n_init": n_init}
    diag: dict[str, Any] = {"errors": errs, "tolerance": tolerance, "n_units_y": y_rec.n_units}
    if errs[-1] > tolerance:
        _warn(f"reconstruction_complexity: no k <= k_max={k_max} reaches the relative error {tolerance:g} "
              f"(smallest e(k) = {errs.min():.4g}); the value is NaN. Raise k_max or the tolerance.", caveats)
        diag.update(k=None, fractions=np.empty(0))
        return Estimate(value=math.nan, ci=None, method="piecewise_affine_cv", params=params,
                        n_samples=x_rec.n_samples, n_units=x_rec.n_units, diagnostics=diag,
                        warnings=tuple(caveats))
    k = int(errs.size)
    labels, q = _fractions(x, k, seed, n_init)
    value = entropy_exp(q)

    reps = count_bootstrap(entropy_exp, np.bincount(labels, minlength=q.size), labels, n_boot, seed, block_size)
    ci, extra, notes = interval_report(reps, value, ci_level, "percentile")
    for note in notes:
        _warn(f"reconstruction_complexity: {note}", caveats)
    diag.update(k=k, fractions=q, bootstrap_replicates=reps, **(extra if n_boot else {}))
    return Estimate(value=value, ci=ci, method="piecewise_affine_cv", params=params, n_samples=x_rec.n_samples,
                    n_units=x_rec.n_units, diagnostics=diag, warnings=tuple(caveats))


def reconstruction_curve(
    x_rec: Recording,
    y_rec: Recording,
    tolerances: Sequence[float] = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5),
    k_max: int = 16,
    ridge: float = 1e-6,
    n_folds: int = 5,
    seed: int | None = 0,
    standardize: bool = False,
    n_init: int = 1,
) -> Any:
    """Reconstruction complexity at several tolerances, from one computation of e(k).

    Parameters
    ----------
    x_rec, y_rec : Recording
        As in :func:`reconstruction_complexity`.
    tolerances : sequence of float
        Relative errors ε (> 0).
    k_max, ridge, n_folds, seed, standardize, n_init
        As in :func:`reconstruction_complexity`.

    Returns
    -------
    pandas.DataFrame
        One row per tolerance: ``tolerance``, ``k`` (chosen; NA when unreachable), ``value``
        (C_rec, NaN when unreachable), ``error`` (e(k) at the chosen k). ``df.attrs["errors"]``
        holds e(k) for k = 1 .. as far as needed.

    Raises
    ------
    InvalidParameterError, InsufficientDataError
        As in :func:`reconstruction_complexity`.

    Notes
    -----
    e(k) is computed for increasing k until the smallest tolerance is reached (or ``k_max``);
    each tolerance then takes the smallest k with ``e(k) <= ε`` and
    ``C_rec(ε) = exp(-Σ_j q_j log q_j)``. Unreachable tolerances give NaN and one warning.

    References
    ----------
    .. [1] R. A. Janik, P. Witaszczyk, "Complexity for deep neural networks and other
       characteristics of deep feature representations", arXiv:2006.04791 (2020).

    Examples
    --------
    >>> import numpy as np, neurocomplex as nc
    >>> x = np.random.default_rng(0).uniform(-1, 1, size=(400, 1))
    >>> df = nc.reconstruction_curve(nc.Recording.from_array(x), nc.Recording.from_array(np.abs(x)),
    ...                              tolerances=[0.01, 1.5])
    >>> df["k"].tolist()
    [2, 1]
    """
    import pandas as pd

    k_max, ridge, n_folds = _check_recon_params(k_max, ridge, n_folds, seed)
    try:
        tols = np.asarray(tolerances, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as err:
        raise InvalidParameterError(f"tolerances must be positive numbers, got {tolerances!r}.") from err
    if tols.size == 0 or not np.all(np.isfinite(tols)) or np.any(tols <= 0):
        raise InvalidParameterError(f"tolerances must be a non-empty list of positive numbers, got {tolerances!r}.")
    _check_pair(x_rec, y_rec, n_folds)
    x, y, ss_tot = _prepare_pair(x_rec, y_rec, bool(standardize))
    shuffle = x_rec.times is None or y_rec.times is None
    n_init = check_int("n_init", n_init, 1)
    errs = _errors_until(x, y, k_max, float(tols.min()), ridge, n_folds, shuffle, seed, ss_tot, n_init)
    rows = []
    cache: dict[int, float] = {}
    for tol in tols.tolist():
        hit = np.flatnonzero(errs <= tol)
        if hit.size == 0:
            rows.append({"tolerance": tol, "k": pd.NA, "value": math.nan, "error": math.nan})
            continue
        k = int(hit[0]) + 1
        if k not in cache:
            cache[k] = entropy_exp(_fractions(x, k, seed, n_init)[1])
        rows.append({"tolerance": tol, "k": k, "value": cache[k], "error": float(errs[k - 1])})
    missing = [r["tolerance"] for r in rows if r["k"] is pd.NA]
    if missing:
        warnings.warn(f"reconstruction_curve: no k <= k_max={k_max} reaches the tolerances {missing} "
                      f"(smallest e(k) = {errs.min():.4g}); their values are NaN.", NeurocomplexWarning, stacklevel=2)
    df = pd.DataFrame(rows)
    df["k"] = df["k"].astype("Int64")
    df.attrs["errors"] = errs
    return df


# --------------------------------------------------------------------------- over depth
def layer_complexity(
    recordings_in_order: Mapping[str, Recording] | Sequence[Recording],
    scale: float = 0.1,
    tolerance: float = 0.1,
    threshold: float = 0.0,
    k_max: int = 16,
    ridge: float = 1e-6,
    n_folds: int = 5,
    n_boot: int = 0,
    seed: int | None = 0,
    standardize: bool = False,
) -> Any:
    """Complexity profile over depth: each layer's pattern complexity and each step's reconstruction complexity.

    Parameters
    ----------
    recordings_in_order : mapping of name -> Recording, or sequence of Recording
        Populations in processing order (input, layer 1, layer 2, ...; or a chain of areas), all
        over the same samples. A sequence is named ``"0"``, ``"1"``, ...
    scale : float
        Scale ε of :func:`pattern_complexity`.
    tolerance : float
        Tolerance ε of :func:`reconstruction_complexity`.
    threshold : float
        Binarization threshold of :func:`pattern_complexity`.
    k_max, ridge, n_folds, standardize
        Passed to :func:`reconstruction_complexity`.
    n_boot : int
        Bootstrap replicates of every estimate (0 by default, to keep the profile fast).
    seed : int or None
        Seed of every estimate.

    Returns
    -------
    pandas.DataFrame
        Tidy: one row per layer for ``pattern_complexity`` and one per consecutive pair for
        ``reconstruction_complexity`` (on the row of the later layer, ``from_layer`` names the
        earlier one). Columns: ``layer``, ``position`` (0 for the first), ``measure``, ``value``,
        ``ci_low``, ``ci_high``, ``n_samples``, ``n_units``, ``from_layer``, ``warnings``.

    Raises
    ------
    InvalidParameterError
        Empty input, entries that are not Recordings, or Recordings over different samples.

    Notes
    -----
    The project's definitions, after Janik & Witaszczyk (2020) [1]_ (complexity as a function of
    depth): see :func:`pattern_complexity` and :func:`reconstruction_complexity` for the formulas.
    ``n_units`` of a reconstruction row is that of the later layer.

    References
    ----------
    .. [1] R. A. Janik, P. Witaszczyk, "Complexity for deep neural networks and other
       characteristics of deep feature representations", arXiv:2006.04791 (2020).

    Examples
    --------
    >>> import numpy as np, neurocomplex as nc
    >>> x = np.random.default_rng(0).normal(size=(300, 3))
    >>> h = np.maximum(x @ np.random.default_rng(1).normal(size=(3, 8)), 0)
    >>> df = nc.layer_complexity({"input": nc.Recording.from_array(x), "relu": nc.Recording.from_array(h)})
    >>> df[["layer", "measure"]].values.tolist()
    [['input', 'pattern_complexity'], ['relu', 'pattern_complexity'], ['relu', 'reconstruction_complexity']]
    """
    import pandas as pd

    if isinstance(recordings_in_order, Mapping):
        items = [(str(k), v) for k, v in recordings_in_order.items()]
    elif isinstance(recordings_in_order, Sequence) and not isinstance(recordings_in_order, (str, bytes)):
        items = [(str(i), v) for i, v in enumerate(recordings_in_order)]
    else:
        raise InvalidParameterError(
            "recordings_in_order must be a mapping name -> Recording or a list of Recordings, got "
            f"{type(recordings_in_order).__name__}."
        )
    if not items:
        raise InvalidParameterError("recordings_in_order is empty: give at least one Recording.")
    for name, rec in items:
        check_recording(rec, f"recordings_in_order[{name!r}]", min_samples=2)
    n0 = items[0][1].n_samples
    for name, rec in items[1:]:
        if rec.n_samples != n0:
            raise InvalidParameterError(
                f"layer {name!r} has {rec.n_samples} samples but {items[0][0]!r} has {n0}: every layer must be "
                "recorded on the same inputs (samples)."
            )

    def row(name: str, pos: int, measure: str, est: Estimate, n_units: int, src: str | None) -> dict[str, Any]:
        low, high = est.ci if est.ci is not None else (math.nan, math.nan)
        return {"layer": name, "position": pos, "measure": measure, "value": float(est.value), "ci_low": low,
                "ci_high": high, "n_samples": est.n_samples, "n_units": n_units, "from_layer": src,
                "warnings": "; ".join(est.warnings)}

    rows = []
    for pos, (name, rec) in enumerate(items):
        est = pattern_complexity(rec, scale=scale, threshold=threshold, n_boot=n_boot, seed=seed)
        rows.append(row(name, pos, "pattern_complexity", est, rec.n_units, None))
        if pos > 0:
            prev_name, prev = items[pos - 1]
            est = reconstruction_complexity(prev, rec, tolerance=tolerance, k_max=k_max, ridge=ridge,
                                            n_folds=n_folds, seed=seed, standardize=standardize, n_boot=n_boot)
            rows.append(row(name, pos, "reconstruction_complexity", est, rec.n_units, prev_name))
    return pd.DataFrame(rows)
