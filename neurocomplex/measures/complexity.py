"""Complexity: how nonlinear a population's computation is, as a function of scale (MEASURES.md §4).

Two estimators, both the project's own definitions after Janik & Witaszczyk (2020), whose abstract
asks for a complexity that is *entropic*, that *quantifies the nonlinearity* of a computation, that
is *a function of scale* (or depth), and that *applies unchanged to biological neuronal systems*.
The paper's own formula is not known to the project; the definitions below are built to satisfy
those four requirements, and both equal 1 for a linear computation.

* :func:`pattern_complexity` (and :func:`complexity_curve`): the binary state of a population
  (which ReLUs are on; which neurons spiked) selects the affine piece of a ReLU network's map.
  The words are coarse-grained by nested leader merging over Hamming radii up to ``scale *
  n_units``; the complexity is the exponential of the entropy of the clusters, the effective number
  of regimes the data use at that scale.
* :func:`reconstruction_complexity` (and :func:`reconstruction_curve`), in
  :mod:`neurocomplex.measures.reconstruction`: the effective number of affine maps needed to
  predict one population from another, to a given held-out relative error; there too
  :func:`~neurocomplex.measures.reconstruction.layer_complexity`, both over depth.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from neurocomplex._checks import check_recording
from neurocomplex._validation import check_float
from neurocomplex.errors import (
    InsufficientDataError,
    InvalidParameterError,
    NeurocomplexWarning,
)
from neurocomplex.estimate import Estimate, check_bootstrap_params, interval_report, register_estimator
from neurocomplex.measures._leader import PairCache, leader_merge_curve, replicate_curves, replicate_group_size
from neurocomplex.measures._word_bootstrap import replicate_counts
from neurocomplex.recording import Recording
from neurocomplex.stats.words import count_words

__all__ = ["pattern_complexity", "complexity_curve"]

def _warn(msg: str, caveats: list[str]) -> None:
    warnings.warn(msg, NeurocomplexWarning, stacklevel=3)
    caveats.append(msg)


# --------------------------------------------------------------------------- words
def _distinct_words(rec: Recording, threshold: float, device: Any = None,
                    need_inverse: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Distinct packed words of ``1[X > threshold]`` sorted by packed value (last code most
    significant), their counts, and (``need_inverse``) the index of each sample's word; packed and
    counted on a torch ``device`` when one is given (the same words, counts and indices)."""
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.integer, np.floating)):
        raise InvalidParameterError(f"threshold must be a number, got {threshold!r}.")
    if not math.isfinite(float(threshold)):
        raise InvalidParameterError(f"threshold must be finite, got {threshold!r}.")
    if device is not None:
        return _device_words(rec, float(threshold), device)
    words, counts, *inverse = count_words(rec.binarize(float(threshold)).data, need_inverse)
    return words, counts, inverse[0] if inverse else None


def _device_words(rec: Recording, threshold: float, device: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from neurocomplex._backend.accumulate import count_words_torch  # MissingDependencyError without torch
    words, counts, inverse = count_words_torch(rec.data, threshold, device, return_inverse=True)
    if words.shape[1] > 1:  # the device sorts with the first code most significant; here the last is
        order = np.lexsort(words.T)
        rank = np.empty_like(order)
        rank[order] = np.arange(order.size)
        words, counts, inverse = words[order], counts[order], rank[inverse]
    return words, counts, inverse


def _replicates(words: np.ndarray, counts: np.ndarray, inverse: np.ndarray | None, n_units: int,
                radii: np.ndarray, cache: PairCache | None, n_boot: int, seed: Any,
                block_size: int | None) -> np.ndarray:
    """C at ``radii`` of ``n_boot`` bootstrap replicates, ``(n_boot, len(radii))``: word counts drawn
    from the data's word counts, merged together on the data's pair lists (``cache``); the same
    values as merging each replicate's words from scratch."""
    if n_boot == 0 or cache is None:
        return np.empty((0, len(radii)))
    # the draws come in batches bounded by their own memory; they are merged in groups as large as
    # the merge allows (each group finds the pairs of its epochs' extras once)
    size, groups = replicate_group_size(words.shape[0]), [[]]
    for batch in replicate_counts(counts, inverse, n_boot, seed, block_size):
        if sum(b.shape[0] for b in groups[-1]) >= size:
            groups.append([])
        groups[-1].append(batch)
    return np.concatenate([replicate_curves(words, np.concatenate(g), n_units, radii, cache) for g in groups])


def _radius(scale: float, n_units: int) -> int:
    # The small slack keeps e.g. 0.29 * 100 at radius 29 despite binary rounding.
    return math.floor(scale * n_units + 1e-9)


def _check_common(n_boot: int, seed: Any, ci_level: float, block_size: int | None) -> None:
    check_bootstrap_params(n_boot, ci_level, block_size)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
        raise InvalidParameterError(f"seed must be an integer or None, got {seed!r}.")


# --------------------------------------------------------------------------- pattern complexity
@register_estimator(
    family="complexity",
    binary=True,
    invalid_params=({"scale": -0.1}, {"scale": 1.5}, {"scale": "large"}),
    bounds=(1.0, math.inf),
)
def pattern_complexity(
    rec: Recording,
    scale: float = 0.1,
    threshold: float = 0.0,
    n_boot: int = 100,
    seed: int | None = 0,
    block_size: int | None = None,
    ci_level: float = 0.95,
    device: Any = None,
) -> Estimate:
    """Effective number of distinct activity regimes at a Hamming scale (nested leader merging).

    The binary state ``B = 1[X > threshold]`` of each sample is a word. Words are merged into
    clusters by nested leader merging over integer Hamming radii ``r = 0, 1, ..., R`` with
    ``R = floor(scale * n_units)``; the value is ``exp`` of the Shannon entropy of the cluster
    weights.

    Parameters
    ----------
    rec : Recording
        Any kind; it is binarized with ``threshold``.
    scale : float
        Scale ε in ``[0, 1]``: the largest merging radius as a fraction of ``n_units``.
    threshold : float
        A unit is on when its value exceeds this (0: a spike in the bin, a ReLU that is on).
    n_boot : int
        Bootstrap replicates over samples for the interval (0: none).
    seed : int or None
        Seed of the bootstrap.
    block_size : int, optional
        Block length in samples for a block bootstrap (time series with dependence).
    ci_level : float
        Coverage of the interval.
    device : str or torch.device, optional
        With a torch device (``"cuda"``, ``"cpu"``), the binary words are packed and counted there
        (only the distinct words, their counts and each sample's word index come back); the leader
        merging and the bootstrap run on the host from those, so the results are identical. None
        (default): numpy.

    Returns
    -------
    Estimate
        ``value`` = C(ε) >= 1; ``diagnostics``: ``radius``, ``n_clusters``, ``n_distinct_words``,
        ``entropy_nats`` (log C), ``bootstrap_replicates``.

    Raises
    ------
    InvalidParameterError
        ``rec`` is not a Recording; ``scale`` outside ``[0, 1]``; non-finite ``threshold``; bad
        bootstrap settings.
    InsufficientDataError
        Fewer than 2 samples.

    Notes
    -----
    The project's definition, after Janik & Witaszczyk (2020) [1]_, built to be entropic, to
    quantify nonlinearity (in a ReLU network the binary state of a sample selects the affine piece
    that maps it; a linear computation uses one piece and gives 1), to be a function of scale, and
    to apply unchanged to spike words of neurons.

    With ``q_k`` the fraction of samples in cluster ``k`` after radius ``R``,
    ``C(ε) = exp(-Σ_k q_k log q_k)``; ε is ``scale``, ``R = floor(scale * n_units)``.

    The merging rule (exact and deterministic): at radius 0 every distinct word is a cluster led
    by itself. At each radius ``r = 1..R`` the current clusters are taken in order of decreasing
    weight, ties by increasing packed value of the leader word (the packed value of a word is
    ``Σ_j B_j 2^j`` over units ``j`` in column order). In that order, a cluster merges into the
    first earlier cluster that has not merged at this radius and whose leader lies within Hamming
    distance ``r`` of its own leader; otherwise it stays. Weights and order are those at the start
    of the radius; a merged cluster's samples go to the cluster it joins, which keeps its leader.
    Every radius only merges clusters, so C is non-increasing in ε; ``C(0) = exp(H)`` with ``H``
    the plug-in pattern entropy in nats, and ``C(1) = 1``.

    Computation: distinct words with counts, Hamming distances by compiled popcount; after radius
    r the surviving leaders are pairwise more than r apart, so each radius only examines the alive
    leader pairs at distance exactly r (every pair of the alive leaders when they fit the pair
    budget, else exact matching on bit chunks where that compares fewer candidates, else one pass
    over every pair keeping those within the budget's radius), and the merges of one radius are
    decided by one compiled walk in merge order (numba: compiled on the first call after an
    install, about 10 s for the pair search and the merge together, and cached on disk; a new
    process loads them in about 1 s). The pass over every pair and the replicates' merges run on
    the processors available, at most 8 (the environment variable ``NEUROCOMPLEX_NUM_THREADS``
    sets the number); the results do not depend on it.

    The interval is a "basic" bootstrap interval (reflected about the estimate) clipped at 1:
    resampled data hold fewer distinct words and pick other leaders, which shifts resampled
    values, and the reflection corrects for that shift. Replicates are drawn from the distinct
    words' counts, not the samples (as for :func:`~neurocomplex.unit_entropy`), and each is merged
    exactly by the rule above (the same value as merging its words from scratch) without searching
    again for close pairs: a replicate's leaders are distinct words of the data, so the pairs it
    needs are those the data's merge found, plus those of the words the data had already merged,
    found by popcount; all replicates are merged together, radius by radius. ``diagnostics``
    holds ``percentile_ci`` and ``bias``, and a warning says when the interval excludes the
    estimate: it covers sampling variability, not bias. When most clusters hold one sample, C is
    limited by ``n_samples``; a warning says so. C never exceeds ``n_samples``, so the interval is
    clipped there, and when every sample is its own cluster (C = ``n_samples``) no interval is given.

    References
    ----------
    .. [1] R. A. Janik, P. Witaszczyk, "Complexity for deep neural networks and other
       characteristics of deep feature representations", arXiv:2006.04791 (2020).
    Examples
    --------
    >>> import numpy as np, neurocomplex as nc
    >>> B = np.array([[0, 0, 0, 0]] * 6 + [[1, 0, 0, 0]] * 2 + [[1, 1, 1, 1]] * 2)
    >>> rec = nc.Recording.from_array(B, kind="binary")
    >>> est = nc.pattern_complexity(rec, scale=0.0, n_boot=0)
    >>> bool(round(est.value, 4) == round(np.exp(-(0.6 * np.log(0.6) + 2 * 0.2 * np.log(0.2))), 4))
    True
    >>> nc.pattern_complexity(rec, scale=0.25, n_boot=0).diagnostics["n_clusters"]  # 1000 joins 0000
    2
    >>> nc.pattern_complexity(rec, scale=1.0, n_boot=0).value
    1.0
    """
    check_recording(rec, min_samples=2)
    scale = check_float("scale", scale, 0.0, 1.0)
    _check_common(n_boot, seed, ci_level, block_size)
    words, counts, inverse = _distinct_words(rec, threshold, device, need_inverse=n_boot > 0 and block_size is not None)
    radius = _radius(scale, rec.n_units)
    cache = PairCache() if n_boot > 0 else None  # the pair lists, kept for the replicates
    values, n_clusters = leader_merge_curve(words, counts, rec.n_units, np.array([radius]), cache=cache)
    value = float(values[0])
    caveats: list[str] = []
    if n_clusters[0] > 1 and n_clusters[0] > 0.5 * rec.n_samples:
        _warn(f"pattern_complexity: {int(n_clusters[0])} clusters for {rec.n_samples} samples at scale "
              f"{scale:g}: most clusters hold a single sample, so C is limited by n_samples "
              "(undersampled); use a larger scale, fewer units or more samples.", caveats)

    reps = _replicates(words, counts, inverse, rec.n_units, np.array([radius]), cache, n_boot, seed, block_size)[:, 0]
    # C <= n_samples (exp of the entropy of a split of n samples): an interval is clipped there
    ci, extra, notes = interval_report(reps, value, ci_level, "basic", 1.0, float(rec.n_samples))
    if reps.size and n_clusters[0] == rec.n_samples:
        # Every sample its own cluster: C sits at the ceiling the sample size sets, which bounds it from
        # below only; replicates (with repeated samples) fall under it and say nothing above it.
        ci, notes = None, []
        _warn(f"pattern_complexity: C = n_samples = {rec.n_samples} (every sample is its own cluster): the "
              "data bound C from below only, so no interval is given.", caveats)
    for note in notes:
        _warn(f"pattern_complexity: {note}", caveats)
    return Estimate(
        value=value,
        ci=ci,
        method="nested_leader_merging",
        params={"scale": scale, "threshold": float(threshold), "n_boot": n_boot, "seed": seed,
                "block_size": block_size, "ci_level": ci_level, "device": None if device is None else str(device)},
        n_samples=rec.n_samples,
        n_units=rec.n_units,
        diagnostics={"radius": radius, "n_clusters": int(n_clusters[0]), "n_distinct_words": int(words.shape[0]),
                     "entropy_nats": math.log(value), "bootstrap_replicates": reps, **(extra if n_boot else {})},
        warnings=tuple(caveats),
    )


def _default_radii(n_units: int) -> np.ndarray:
    top = max(1.0, n_units / 2.0)
    return np.unique(np.concatenate([[0], np.floor(np.geomspace(1.0, top, 9))]).astype(np.int64))


def _fit_loglog(radii: np.ndarray, curve: np.ndarray, n_units: int) -> tuple[float, float]:
    x = np.log(radii / n_units)
    y = np.log(curve)
    slope, intercept = np.polyfit(x, y, 1)
    resid = y - (slope * x + intercept)
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    r2 = 1.0 - float(np.sum(resid**2)) / ss_tot if ss_tot > 0 else 1.0
    return float(slope), r2


@register_estimator(
    family="complexity",
    binary=True,
    invalid_params=({"scales": [0.1, 2.0]}, {"scales": []}, {"fit_range": (0.5, 0.1)}, {"min_r2": 2.0}),
    bounds=(-math.inf, 0.0),
)
def complexity_curve(
    rec: Recording,
    scales: Sequence[float] | np.ndarray | None = None,
    threshold: float = 0.0,
    fit_range: tuple[float, float] | None = None,
    min_r2: float = 0.9,
    n_boot: int = 0,
    seed: int | None = 0,
    block_size: int | None = None,
    ci_level: float = 0.95,
    device: Any = None,
) -> Estimate:
    """Pattern complexity over a grid of scales, and its log–log scaling exponent.

    Parameters
    ----------
    rec : Recording
        Any kind; binarized with ``threshold``.
    scales : sequence of float, optional
        Scales ε in ``[0, 1]``. Default: 0 and about nine log-spaced scales from ``1 / n_units``
        to 0.5 (integer radii 1 .. n_units/2, duplicates removed); 0.5 is the mean distance of
        two independent fair words, where even unstructured words start to merge.
    threshold : float
        A unit is on when its value exceeds this.
    fit_range : tuple of float, optional
        ``(low, high)`` scales (inclusive) to fit; default: every scale with radius >= 1 up to and
        including the first at which C reaches 1.
    min_r2 : float
        Below this R² of the log–log fit a warning says the curve is not a power law.
    n_boot : int
        Bootstrap replicates of the whole curve for an interval on the exponent (0: none).
    seed, block_size, ci_level, device
        Bootstrap settings and device as in :func:`pattern_complexity`.

    Returns
    -------
    Estimate
        ``value`` = slope of ``log C`` against ``log ε`` (<= 0). ``diagnostics``: ``scales``,
        ``radii``, ``complexity`` (the curve), ``n_clusters``, ``fit_scales`` (the points fitted),
        ``fit_range``, ``r2``, ``intercept``-free fit details and ``bootstrap_replicates``.

    Raises
    ------
    InvalidParameterError
        Scales outside ``[0, 1]`` or empty; ``fit_range`` with ``low > high``; bad ``min_r2``.
    InsufficientDataError
        Fewer than two distinct radii >= 1 with C above 1 to fit (e.g. one single word).

    Notes
    -----
    The project's definition, after Janik & Witaszczyk (2020) [1]_ (complexity as a function of
    scale). The curve is computed in one pass over radii (nested merging reuses each radius's
    clusters). The fit is least squares of ``log C(ε)`` on ``log ε`` with ε taken as the radius
    actually used divided by ``n_units`` (scales that give the same radius give one point).
    ``ε = 0`` is never fitted (``log 0``); it is reported in the curve as ``exp(H_plugin)``.
    Points after the first ``C = 1`` (a flat floor, ``log C = 0``) are left out by default.
    With two points the R² is 1 by construction and a warning says so. The interval is a
    percentile bootstrap (word counts redrawn, same fitted radii, each replicate merged exactly on
    the data's pair lists as in :func:`pattern_complexity`); it covers sampling variability.

    References
    ----------
    .. [1] R. A. Janik, P. Witaszczyk, "Complexity for deep neural networks and other
       characteristics of deep feature representations", arXiv:2006.04791 (2020).
    Examples
    --------
    >>> import numpy as np, neurocomplex as nc
    >>> B = (np.random.default_rng(0).random((300, 12)) < 0.3).astype(int)
    >>> est = nc.complexity_curve(nc.Recording.from_array(B, kind="binary"))
    >>> est.value < 0, bool(np.all(np.diff(est.diagnostics["complexity"]) <= 0))
    (True, True)
    """
    check_recording(rec, min_samples=2)
    _check_common(n_boot, seed, ci_level, block_size)
    min_r2 = check_float("min_r2", min_r2, 0.0, 1.0)
    n_units = rec.n_units
    if scales is None:
        radii_all = _default_radii(n_units)
        scale_arr = radii_all / n_units
    else:
        try:
            scale_arr = np.asarray(scales, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError) as err:
            raise InvalidParameterError(f"scales must be numbers in [0, 1], got {scales!r}.") from err
        if scale_arr.size == 0 or not np.all(np.isfinite(scale_arr)) or scale_arr.min() < 0 or scale_arr.max() > 1:
            raise InvalidParameterError(f"scales must be a non-empty list of numbers in [0, 1], got {scales!r}.")
        scale_arr = np.sort(scale_arr)
        radii_all = np.array([_radius(float(s), n_units) for s in scale_arr], dtype=np.int64)
    if fit_range is not None:
        try:
            lo, hi = (float(v) for v in fit_range)
        except (TypeError, ValueError) as err:
            raise InvalidParameterError(f"fit_range must be (low, high) scales, got {fit_range!r}.") from err
        if not (0 <= lo <= hi <= 1):
            raise InvalidParameterError(f"fit_range must satisfy 0 <= low <= high <= 1, got {fit_range!r}.")
    words, counts, inverse = _distinct_words(rec, threshold, device, need_inverse=n_boot > 0 and block_size is not None)
    cache = PairCache() if n_boot > 0 else None
    curve, n_clusters = leader_merge_curve(words, counts, n_units, radii_all, cache=cache)

    uniq, first = np.unique(radii_all, return_index=True)
    use = uniq >= 1
    if fit_range is not None:
        eff = uniq / n_units
        use &= (eff >= lo - 1e-12) & (eff <= hi + 1e-12)
    else:
        at_one = np.flatnonzero(use & (curve[first] <= 1.0))
        if at_one.size:
            use &= uniq <= uniq[at_one[0]]
    fit_r = uniq[use]
    fit_c = curve[first][use]
    if fit_r.size < 2 or np.all(fit_c <= 1.0):
        raise InsufficientDataError(
            f"complexity_curve: only {fit_r.size} scale(s) with radius >= 1 to fit (curve "
            f"{np.round(curve, 4).tolist()} at radii {radii_all.tolist()}); the data hold too few distinct words "
            "or the scales are too coarse: give more or finer scales, or more units."
        )
    slope, r2 = _fit_loglog(fit_r, fit_c, n_units)
    caveats: list[str] = []
    if fit_r.size == 2:
        _warn("complexity_curve: the exponent is fitted on two points only, so its R² (1) says nothing "
              "about straightness; give more scales.", caveats)
    elif r2 < min_r2:
        _warn(f"complexity_curve: C(ε) is not straight in log–log over scales {fit_r[0] / n_units:.3g}–"
              f"{fit_r[-1] / n_units:.3g} (R² = {r2:.3f} < {min_r2}); the exponent {slope:.3g} is a "
              "summary of a curve that is not a power law. See diagnostics['complexity'].", caveats)

    curves = _replicates(words, counts, inverse, n_units, fit_r, cache, n_boot, seed, block_size)
    reps = np.array([_fit_loglog(fit_r, c, n_units)[0] for c in curves], dtype=float)
    ci, extra, notes = interval_report(reps, slope, ci_level, "percentile")
    for note in notes:
        _warn(f"complexity_curve: {note}", caveats)
    return Estimate(
        value=slope,
        ci=ci,
        method="nested_leader_merging_loglog",
        params={"scales": scale_arr.tolist(), "threshold": float(threshold), "fit_range": fit_range,
                "min_r2": min_r2, "n_boot": n_boot, "seed": seed, "block_size": block_size, "ci_level": ci_level,
                "device": None if device is None else str(device)},
        n_samples=rec.n_samples,
        n_units=n_units,
        diagnostics={"scales": scale_arr, "radii": radii_all, "complexity": curve, "n_clusters": n_clusters,
                     "fit_scales": fit_r / n_units, "fit_range": (float(fit_r[0] / n_units), float(fit_r[-1] / n_units)),
                     "r2": r2, "n_distinct_words": int(words.shape[0]), "bootstrap_replicates": reps,
                     **(extra if n_boot else {})},
        warnings=tuple(caveats),
    )
