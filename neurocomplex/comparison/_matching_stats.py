"""The statistics under :func:`neurocomplex.compare`: one binarization rule, one bootstrap test.

- :func:`quantile_thresholds`: per-unit thresholds whose activation ratio is the one nearest a
  target that the unit's ties allow (never "nothing active" for a unit that varies).
- :func:`half_rows`: the rows of one half-sample replicate (a random half of the samples, or
  of blocks of consecutive samples for time bins), and its jackknife scale; :func:`resample_rows`:
  those of one bootstrap replicate (with replacement).
- :func:`bootstrap_test`: the interval and the two-sided p-value of a difference, both read from
  the same centred bootstrap distribution, so that "the interval excludes 0" and "p < 1 -
  ci_level" are one statement.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["quantile_thresholds", "resample_rows", "half_rows", "bootstrap_test", "min_replicates"]


def quantile_thresholds(data: np.ndarray, activation: float) -> np.ndarray:
    """Per-unit thresholds t_u (active: x > t_u) whose activation ratio is nearest ``activation``.

    Parameters
    ----------
    data : ndarray, shape (n_samples, n_units)
        Finite values.
    activation : float
        Target fraction of active samples per unit, in (0, 1).

    Returns
    -------
    ndarray, shape (n_units,)
        t_u is one of unit u's own values, below its maximum when the unit varies (so at least
        one sample is active and at least one, the minimum, is not); a constant unit gets its
        value (never active).

    Notes
    -----
    The candidate thresholds of unit u are its distinct values v below its maximum; threshold v
    activates r(v) = #{x_u > v} / n samples. The rule picks the v whose r(v) is nearest
    ``activation`` (ties: the smaller ratio). With distinct values this is the (1 −
    ``activation``) quantile, r = round(``activation`` · n) / n; with ties it is the achievable
    ratio nearest the target: a unit taking 4 equally frequent values (4 stimuli) is active for
    its top value, r = 0.25, where "above the 80th percentile" (the top value itself) would
    select nothing.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.repeat([[0.0], [1.0], [2.0], [3.0]], 5, axis=0)  # 4 values, 5 samples each
    >>> t = quantile_thresholds(x, 0.2)
    >>> float(t[0]), float(np.mean(x > t))
    (2.0, 0.25)
    >>> float(quantile_thresholds(np.arange(10.0)[:, None], 0.2)[0])  # distinct: 2 of 10 above
    7.0
    """
    x = np.asarray(data)
    if x.dtype not in (np.float32, np.float64):
        x = x.astype(np.float64)
    n = x.shape[0]
    target = activation * n
    # r(v) falls as v rises, so the nearest achievable count is one of two: that of a = the value
    # with at most ⌊target⌋ samples above it (a sorted column's row n − 1 − ⌊target⌋), and that of
    # b = the largest value below a, #{x ≥ a} > target. a is no candidate when it is the maximum,
    # b none when a is the minimum (both: a constant unit, which keeps its value).
    s = np.sort(x, axis=0)  # in the data's precision: the comparisons are exact, the sort cheaper
    a = s[n - 1 - min(int(target), n - 1)]
    n_above = np.count_nonzero(s > a, axis=0)
    n_below = np.count_nonzero(s < a, axis=0)
    b = s[np.maximum(n_below - 1, 0), np.arange(x.shape[1])]
    # rounding makes equidistant candidates (target a half-integer) compare equal; ties take a
    # (the higher threshold, the smaller ratio)
    d_a = np.where(a < s[n - 1], np.round(np.abs(n_above - target), 9), np.inf)
    d_b = np.where(n_below > 0, np.round(np.abs((n - n_below) - target), 9), np.inf)
    return np.where(d_b < d_a, b, a).astype(np.float64)


def resample_rows(rng: np.random.Generator, n: int, block_size: int | None) -> np.ndarray:
    """Row indices of one bootstrap replicate of ``n`` samples (with replacement).

    ``block_size`` None: n independent draws with replacement (samples exchangeable: trials,
    stimuli). Otherwise a moving-block bootstrap: blocks of ``block_size`` consecutive rows with
    random starts, concatenated and cut to n (Künsch 1989), for time bins whose neighbours
    are correlated.

    >>> import numpy as np
    >>> rows = resample_rows(np.random.default_rng(0), 10, 5)
    >>> rows.shape, bool(np.all(np.diff(rows[:5]) == 1))
    ((10,), True)
    """
    if block_size is None or block_size <= 1:
        return rng.integers(0, n, size=n)
    size = min(block_size, n)
    starts = rng.integers(0, n - size + 1, size=math.ceil(n / size))
    return (starts[:, None] + np.arange(size)).ravel()[:n]


def half_rows(rng: np.random.Generator, n: int, block_size: int | None) -> tuple[np.ndarray, float]:
    """Rows of one half-sample of ``n`` samples (without replacement), and its jackknife scale.

    The rows fall in g = ⌊n / ``block_size``⌋ consecutive blocks (single rows when
    ``block_size`` is None; the last block takes the remainder); h = ⌊g / 2⌋ blocks are kept at
    random. A statistic's deviations over half-samples, times √(h / (g − h)), have the variance
    of the statistic on all n samples: the delete-d jackknife with d = g − h [1]_.

    References
    ----------
    .. [1] J. Shao, C. F. J. Wu, "A general theory for jackknife variance estimation", Ann.
       Statist. 17(3) (1989).

    Examples
    --------
    >>> import numpy as np
    >>> rows, scale = half_rows(np.random.default_rng(0), 11, None)
    >>> len(rows), len(set(rows.tolist())), round(scale, 4)  # 5 of 11 kept, 6 deleted
    (5, 5, 0.9129)
    >>> rows, scale = half_rows(np.random.default_rng(0), 100, 10)
    >>> len(rows), scale, bool(np.all(np.diff(rows[:10]) == 1))
    (50, 1.0, True)
    """
    size = 1 if block_size is None else max(1, min(block_size, n))
    blocks = max(2, n // size)
    keep = blocks // 2
    chosen = np.sort(rng.choice(blocks, keep, replace=False))
    starts = chosen * size
    stops = np.where(chosen == blocks - 1, n, starts + size)
    rows = np.concatenate([np.arange(a, b) for a, b in zip(starts, stops, strict=True)])
    return rows, math.sqrt(keep / (blocks - keep))


def min_replicates(ci_level: float) -> int:
    """Fewest finite replicates for which :func:`bootstrap_test` can exclude 0 at ``ci_level``.

    >>> min_replicates(0.95)
    40
    """
    # j >= 1 in bootstrap_test needs alpha (B + 1) / 2 > 1
    return max(1, math.floor(round(2.0 / (1.0 - ci_level), 9)))


def bootstrap_test(estimate: float, replicates: np.ndarray, ci_level: float,
                   scale: float | None = None) -> tuple[float, float, float]:
    """Interval and two-sided p-value of a difference, from one centred bootstrap distribution.

    Parameters
    ----------
    estimate : float
        The observed difference D̂.
    replicates : ndarray
        Finite bootstrap replicates D*_b of the same statistic (b = 1 .. B).
    ci_level : float
        Coverage of the interval.
    scale : float, optional
        Magnitude of the values the statistic is computed from (for a difference, the larger
        of the two values; default: the largest of ``estimate`` and ``replicates``):
        deviations within 1e-9 of it are rounding, and count as ties.

    Returns
    -------
    ci_low, ci_high, p_value : float
        NaN when ``replicates`` is too small for the level (:func:`min_replicates`).

    Notes
    -----
    With e_b = D*_b − mean(D*) (the replicates centred on their own mean, which removes a shift
    that the resampling itself adds, such as the repeated rows of a bootstrap sample lowering a
    plug-in entropy), the null distribution of D̂ − δ is taken to be that of e. The p-value of
    δ is p(δ) = min(1, 2 (1 + c(δ)) / (B + 1)) with c(δ) = min(#{e_b ≤ D̂ − δ},
    #{e_b ≥ D̂ − δ}): twice the smaller tail, with the usual +1 so that p > 0 [1]_. The
    interval is the set of δ with p(δ) ≥ α = 1 − ``ci_level``, i.e. [D̂ − e_(B+1−j) − τ,
    D̂ − e_(j) + τ] with j = ⌈α (B + 1) / 2 − 1⌉, e_(k) the order statistics and τ = 1e-9 ·
    ``scale`` the rounding tolerance (the tails count e_b ≤ D̂ − δ + τ and e_b ≥ D̂ − δ − τ):
    the basic (pivotal) bootstrap interval [1]_. Both are computed from the same floating-point
    expressions, so 0 lies outside the interval exactly when p(0) < α, and the interval contains
    D̂ whenever the mean of the replicates lies between their tails. Replicates that differ only
    by rounding (two values both at an entropy's ceiling) give p = 1, not a spurious tail.

    References
    ----------
    .. [1] A. C. Davison, D. V. Hinkley, "Bootstrap Methods and their Application", Cambridge
       University Press (1997), sections 4.4 and 5.2.

    Examples
    --------
    >>> import numpy as np
    >>> reps = np.random.default_rng(0).normal(0.0, 1.0, size=999)
    >>> lo, hi, p = bootstrap_test(3.0, 3.0 + reps, 0.95)
    >>> bool(lo > 0) == bool(p < 0.05), round(p, 3) < 0.05
    (True, True)
    """
    reps = np.asarray(replicates, dtype=np.float64)
    b = reps.size
    alpha = 1.0 - ci_level
    j = math.ceil(round(alpha * (b + 1) / 2.0 - 1.0, 9))
    if b < min_replicates(ci_level) or j < 1:
        return math.nan, math.nan, math.nan
    # replicates that do not vary centre to exactly 0 (their float mean need not equal them)
    e = np.sort(reps - reps.mean()) if reps.min() < reps.max() else np.zeros(b)
    if scale is None:
        scale = max(abs(estimate), float(np.abs(reps).max()))
    tol = 1e-9 * abs(scale)
    # up[k] = D̂ − e_(k+1) + τ decreases with k, down[k] = D̂ − e_(k+1) − τ too: the tail counts and
    # the interval's ends are read from the same numbers, so they cannot disagree
    up, down = (estimate - e) + tol, (estimate - e) - tol
    tails = min(int(np.count_nonzero(up >= 0)), int(np.count_nonzero(down <= 0)))
    p = min(1.0, 2.0 * (1 + tails) / (b + 1))
    return float(down[b - j]), float(up[j - 1]), float(p)

