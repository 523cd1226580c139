"""Activity of a population: how often units are on, collapsed units, rates, sparseness.

All four estimators read the data once, chunk by chunk (per-unit statistics accumulated by
:class:`~neurocomplex.stats.ActivityAccumulator`, per-sample values computed chunk-wise), so a
Recording backed by a large array is never copied whole. Confidence intervals, where a value is
a mean over samples, come from a bootstrap of the per-sample values.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

from neurocomplex._checks import check_recording
from neurocomplex._validation import check_float, check_int
from neurocomplex.errors import InsufficientDataError, InvalidDataError, NeurocomplexWarning
from neurocomplex.estimate import (
    Estimate,
    bootstrap_means,
    check_bootstrap_params,
    interval_from_replicates,
    register_estimator,
)
from neurocomplex.recording import Recording
from neurocomplex.stats.activity import ActivityAccumulator
from neurocomplex.stats.covariance import DEFAULT_CHUNK_ROWS

__all__ = ["activation_ratio", "constant_fraction", "mean_rate", "population_sparseness"]


def _chunks(data: np.ndarray, chunk_rows: int) -> Iterator[np.ndarray]:
    for start in range(0, data.shape[0], chunk_rows):
        yield data[start : start + chunk_rows]


def _check_boot(n_boot: Any, seed: Any, block_size: Any, ci_level: Any) -> None:
    check_int("n_boot", n_boot, 0)
    check_bootstrap_params(n_boot, ci_level, block_size)
    if seed is not None:
        check_int("seed", seed)


def _mean_ci(per_sample: np.ndarray, n_boot: int, seed: Any, block_size: Any,
             ci_level: float) -> tuple[tuple[float, float] | None, np.ndarray]:
    """Percentile bootstrap interval of the mean of per-sample values (rows resampled; see
    :func:`~neurocomplex.estimate.bootstrap_means`)."""
    check_bootstrap_params(n_boot, ci_level, block_size)
    if n_boot == 0:
        return None, np.empty(0)
    reps = bootstrap_means(per_sample, n_boot, seed, block_size)
    return interval_from_replicates(reps, ci_level), reps


def _warn(messages: list[str]) -> tuple[str, ...]:
    for msg in messages:
        warnings.warn(msg, NeurocomplexWarning, stacklevel=3)
    return tuple(messages)


@register_estimator(family="activity", binary=True, bounds=(0.0, 1.0),
                    invalid_params=({"threshold": "x"}, {"chunk_rows": 0}))
def activation_ratio(rec: Recording, threshold: float = 0.0, n_boot: int = 100, seed: int | None = 0,
                     block_size: int | None = None, ci_level: float = 0.95,
                     chunk_rows: int = DEFAULT_CHUNK_ROWS) -> Estimate:
    """Fraction of unit-samples that are active, ``mean(X > threshold)``.

    Parameters
    ----------
    rec : Recording
        Activity X, shape ``(n_samples, n_units)``.
    threshold : float
        A unit is active in a sample when its value exceeds ``threshold`` (0: a spike in the bin,
        a ReLU that is on).
    n_boot : int
        Bootstrap replicates (rows resampled) for the interval; 0 = none. Each replicate's mean
        of ``per_sample`` is drawn as :func:`~neurocomplex.estimate.bootstrap_means` draws it (a
        multinomial over its few distinct values, the same distribution as resampling rows).
    seed : int or None
        Seed of the bootstrap.
    block_size : int, optional
        Block length in samples for a circular block bootstrap (time series).
    ci_level : float
        Coverage of the interval.
    chunk_rows : int
        Rows processed at a time.

    Returns
    -------
    Estimate
        ``value`` in [0, 1]; ``diagnostics``: ``per_unit`` (fraction of samples each unit is
        active), ``per_sample`` (fraction of units active in each sample), ``bootstrap``.

    Raises
    ------
    InvalidParameterError
        ``threshold`` not a finite number; bad bootstrap options or ``chunk_rows``.
    InsufficientDataError
        Fewer than 2 samples.

    Notes
    -----
    With B = 1[X > θ] (θ = ``threshold``), the value is ``(1 / (T N)) Σ_t Σ_i B_ti``
    (T = ``n_samples``, N = ``n_units``), the mean of ``per_sample`` and of ``per_unit``.

    References
    ----------
    .. [1] Y. Yu, Y. Zhang, "Variability of artificial neural networks", arXiv:2105.08911 (2021):
       activation ratio; the per-unit and per-sample breakdowns are the project's definition.

    Examples
    --------
    >>> import numpy as np, neurocomplex as nc
    >>> rec = nc.Recording.from_array(np.array([[0.0, 1.0], [2.0, 3.0], [0.0, 0.5]]))
    >>> est = nc.activation_ratio(rec, n_boot=0)
    >>> est.value, est.diagnostics["per_unit"].tolist()
    (0.6666666666666666, [0.3333333333333333, 1.0])
    """
    check_recording(rec)
    threshold = check_float("threshold", threshold)
    _check_boot(n_boot, seed, block_size, ci_level)
    chunk_rows = check_int("chunk_rows", chunk_rows, 1)
    acc = ActivityAccumulator(rec.n_units, threshold)
    per_sample = np.empty(rec.n_samples)
    start = 0
    for chunk in _chunks(rec.data, chunk_rows):
        per_sample[start : start + chunk.shape[0]] = (chunk > threshold).mean(axis=1)
        acc.update(chunk)
        start += chunk.shape[0]
    value = acc.activation_ratio()
    ci, reps = _mean_ci(per_sample, n_boot, seed, block_size, ci_level)
    return Estimate(
        value=value, ci=ci, method="activation_ratio",
        params={"threshold": threshold, "n_boot": n_boot, "seed": seed, "block_size": block_size,
                "ci_level": ci_level, "chunk_rows": chunk_rows},
        n_samples=rec.n_samples, n_units=rec.n_units,
        diagnostics={"per_unit": acc.active / rec.n_samples, "per_sample": per_sample, "bootstrap": reps},
    )


@register_estimator(family="activity", bounds=(0.0, 1.0),
                    invalid_params=({"rtol": -1}, {"rtol": "x"}, {"chunk_rows": 0}))
def constant_fraction(rec: Recording, rtol: float = 1e-3, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> Estimate:
    """Fraction of units collapsed to a constant (dead ReLUs, silent neurons).

    Parameters
    ----------
    rec : Recording
        Activity X, shape ``(n_samples, n_units)``.
    rtol : float
        A unit is constant when its variance over samples is at most ``rtol`` times the median
        unit variance (>= 0; 0 = exactly constant units only).
    chunk_rows : int
        Rows processed at a time.

    Returns
    -------
    Estimate
        ``value`` in [0, 1], no interval (a fraction of units, not a mean over samples);
        ``diagnostics``: ``constant_indices``, ``constant_units`` (their unit ids), ``variance``
        (per unit), ``median_variance``, ``threshold``.

    Raises
    ------
    InvalidParameterError
        ``rtol`` negative or not a number; bad ``chunk_rows``.
    InsufficientDataError
        Fewer than 2 samples.

    Notes
    -----
    With v_i the variance of unit i over samples and m = median_i v_i, unit i is constant when
    ``v_i <= rtol · m`` or when v_i is at the float rounding level of its mean
    (``v_i <= (T ε |mean_i|)²``, T = ``n_samples``, the rounding bound of a mean of T values, so
    a constant column whose mean rounds is still caught). When
    ``m = 0`` (at least half the units are exactly constant) the relative threshold degenerates
    to exact constancy; this is said in a warning.

    References
    ----------
    .. [1] Y. Yu, Y. Zhang, "Variability of artificial neural networks" / "Multi-layer perceptron
       trainability explained via variability", arXiv:2105.08911 (2021): collapse to constants;
       the median-relative threshold is the project's definition.

    Examples
    --------
    >>> import numpy as np, neurocomplex as nc
    >>> x = np.maximum(np.random.default_rng(0).normal(size=(100, 4)) - [0, 0, 0, 99], 0)
    >>> est = nc.constant_fraction(nc.Recording.from_array(x, kind="activations"))
    >>> est.value, est.diagnostics["constant_units"].tolist()
    (0.25, [3])
    """
    check_recording(rec)
    rtol = check_float("rtol", rtol, 0.0)
    chunk_rows = check_int("chunk_rows", chunk_rows, 1)
    acc = ActivityAccumulator(rec.n_units)
    for chunk in _chunks(rec.data, chunk_rows):
        acc.update(chunk)
    var = acc.variance()
    median = float(np.median(var))
    # A constant column whose float mean rounds gets a tiny variance; this bounds that rounding.
    rounding = (rec.n_samples * np.finfo(np.float64).eps * np.abs(acc.mean)) ** 2
    constant = (var <= rtol * median) | (var <= rounding)
    messages: list[str] = []
    if median <= 0 or not np.any(var > rounding):
        messages.append(
            f"the median unit variance is 0: at least half of the {rec.n_units} units are exactly constant, "
            "so only exactly constant units are counted (the threshold rtol x median is 0)."
        )
    idx = np.flatnonzero(constant)
    return Estimate(
        value=float(constant.mean()), ci=None, method="median_relative_variance",
        params={"rtol": rtol, "chunk_rows": chunk_rows},
        n_samples=rec.n_samples, n_units=rec.n_units,
        diagnostics={"constant_indices": idx, "constant_units": rec.unit_ids[idx], "variance": var,
                     "median_variance": median, "threshold": rtol * median},
        warnings=_warn(messages),
    )


@register_estimator(family="activity", bounds=(-math.inf, math.inf),
                    invalid_params=({"chunk_rows": 0}, {"seed": "x"}))
def mean_rate(rec: Recording, n_boot: int = 100, seed: int | None = 0, block_size: int | None = None,
              ci_level: float = 0.95, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> Estimate:
    """Mean activity of each unit and of the population; in Hz for binned spike counts.

    Parameters
    ----------
    rec : Recording
        Activity X. For ``kind="spike_counts"`` with a ``bin_size`` the rates are in spikes/s.
    n_boot, seed, block_size, ci_level, chunk_rows
        As in :func:`activation_ratio`.

    Returns
    -------
    Estimate
        ``value`` = population mean rate; ``diagnostics``: ``per_unit`` (rates), ``unit``
        (``"Hz"`` or ``"per sample"``), ``bootstrap``.

    Raises
    ------
    InvalidParameterError
        Bad bootstrap options or ``chunk_rows``.
    InsufficientDataError
        Fewer than 2 samples.

    Notes
    -----
    ``rate_i = (1 / T) Σ_t X_ti / bin_size`` for spike counts (T = ``n_samples``), otherwise
    without the division; ``value = (1 / N) Σ_i rate_i`` (N = ``n_units``). A last bin cut short
    by the end of the window counts as a whole bin.

    References
    ----------
    .. [1] Y. Yu, Y. Zhang, arXiv:2105.08911 (2021); a plain descriptive statistic, the project's
       definition.

    Examples
    --------
    >>> import neurocomplex as nc
    >>> rec = nc.Recording.from_spike_times([[0.01, 0.02, 0.15], [0.05]], bin_size=0.1, t_stop=0.2)
    >>> est = nc.mean_rate(rec, n_boot=0)
    >>> est.diagnostics["per_unit"].tolist(), est.value
    ([15.0, 5.0], 10.0)
    """
    check_recording(rec)
    _check_boot(n_boot, seed, block_size, ci_level)
    chunk_rows = check_int("chunk_rows", chunk_rows, 1)
    acc = ActivityAccumulator(rec.n_units)
    per_sample = np.empty(rec.n_samples)
    start = 0
    for chunk in _chunks(rec.data, chunk_rows):
        per_sample[start : start + chunk.shape[0]] = chunk.mean(axis=1, dtype=np.float64)
        acc.update(chunk)
        start += chunk.shape[0]
    in_hz = rec.kind == "spike_counts" and rec.bin_size is not None
    scale = 1.0 / rec.bin_size if in_hz else 1.0
    per_unit = acc.mean * scale
    ci, reps = _mean_ci(per_sample * scale, n_boot, seed, block_size, ci_level)
    return Estimate(
        value=float(per_unit.mean()), ci=ci, method="mean_rate",
        params={"n_boot": n_boot, "seed": seed, "block_size": block_size, "ci_level": ci_level,
                "chunk_rows": chunk_rows},
        n_samples=rec.n_samples, n_units=rec.n_units,
        diagnostics={"per_unit": per_unit, "unit": "Hz" if in_hz else "per sample", "bootstrap": reps},
    )


@register_estimator(family="activity", bounds=(0.0, 1.0), invalid_params=({"chunk_rows": 0}, {"n_boot": 1.5}))
def population_sparseness(rec: Recording, n_boot: int = 100, seed: int | None = 0, block_size: int | None = None,
                          ci_level: float = 0.95, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> Estimate:
    """Population sparseness of each sample (Treves–Rolls, Vinje–Gallant scaling), averaged.

    Parameters
    ----------
    rec : Recording
        Non-negative activity X (rates, counts, ReLU activations), at least 2 units.
    n_boot, seed, block_size, ci_level, chunk_rows
        As in :func:`activation_ratio`.

    Returns
    -------
    Estimate
        ``value`` in [0, 1]: 0 when every unit is equally active, 1 when one unit carries all the
        activity; ``diagnostics``: ``per_sample`` (NaN for silent samples), ``n_silent``,
        ``bootstrap``.

    Raises
    ------
    InvalidDataError
        Negative values (the measure is defined for non-negative rates: rectify or shift first).
    InsufficientDataError
        Fewer than 2 samples or 2 units; every sample silent.
    InvalidParameterError
        Bad bootstrap options or ``chunk_rows``.

    Notes
    -----
    For sample t with rates r_ti ≥ 0 over N = ``n_units`` units, the Treves–Rolls activity
    fraction is ``a_t = (Σ_i r_ti / N)² / (Σ_i r_ti² / N)``, in [1/N, 1], and the sparseness
    ``S_t = (1 − a_t) / (1 − 1/N)``, in [0, 1]. The value is the mean of S_t over the samples
    that are not silent (a silent sample, all r_ti = 0, has no defined a_t); a warning says when
    more than half the samples are silent.

    References
    ----------
    .. [1] A. Treves, E. T. Rolls, "What determines the capacity of autoassociative memories in
       the brain?", Network 2, 371–397 (1991).
    .. [2] W. E. Vinje, J. L. Gallant, "Sparse coding and decorrelation in primary visual cortex
       during natural vision", Science 287, 1273–1276 (2000).

    Examples
    --------
    >>> import numpy as np, neurocomplex as nc
    >>> one_hot = nc.Recording.from_array(np.eye(4), kind="activations")
    >>> nc.population_sparseness(one_hot, n_boot=0).value
    1.0
    >>> nc.population_sparseness(nc.Recording.from_array(np.ones((3, 4))), n_boot=0).value
    0.0
    """
    check_recording(rec)
    _check_boot(n_boot, seed, block_size, ci_level)
    chunk_rows = check_int("chunk_rows", chunk_rows, 1)
    n_units = rec.n_units
    if n_units < 2:
        raise InsufficientDataError("population sparseness needs at least 2 units; the Recording has 1.")
    per_sample = np.empty(rec.n_samples)
    start = 0
    for chunk in _chunks(rec.data, chunk_rows):
        x = chunk.astype(np.float64, copy=False)
        if x.min() < 0:
            row = start + int(np.flatnonzero((x < 0).any(axis=1))[0])
            raise InvalidDataError(
                f"population sparseness is defined for non-negative rates; sample {row} has negative values. "
                "Rectify (np.maximum(X, 0)) or shift the data first."
            )
        m1 = x.mean(axis=1)
        m2 = (x * x).mean(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            s = (1.0 - m1 * m1 / m2) / (1.0 - 1.0 / n_units)
        per_sample[start : start + x.shape[0]] = np.where(m2 > 0, np.clip(s, 0.0, 1.0), np.nan)
        start += x.shape[0]
    active = np.isfinite(per_sample)
    n_silent = int(rec.n_samples - active.sum())
    if n_silent == rec.n_samples:
        raise InsufficientDataError(f"all {rec.n_samples} samples are silent (every unit 0): sparseness is undefined.")
    messages: list[str] = []
    if n_silent > rec.n_samples / 2:
        messages.append(f"{n_silent} of {rec.n_samples} samples are silent and left out of the mean.")
    values = per_sample[active]
    ci, reps = _mean_ci(values, n_boot, seed, block_size, ci_level)
    return Estimate(
        value=float(values.mean()), ci=ci, method="treves_rolls_vinje_gallant",
        params={"n_boot": n_boot, "seed": seed, "block_size": block_size, "ci_level": ci_level,
                "chunk_rows": chunk_rows},
        n_samples=rec.n_samples, n_units=n_units,
        diagnostics={"per_sample": per_sample, "n_silent": n_silent, "bootstrap": reps},
        warnings=_warn(messages),
    )
