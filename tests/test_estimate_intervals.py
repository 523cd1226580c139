"""interval_report: the reported bootstrap interval, its percentile counterpart, the bias, the warning."""

from __future__ import annotations

import math

import numpy as np
import pytest

from neurocomplex.errors import InvalidParameterError
from neurocomplex.estimate import interval_report


def test_basic_interval_of_a_biased_estimator_warns() -> None:
    rng = np.random.default_rng(0)
    reps = 10.0 - 0.2 + 0.01 * rng.standard_normal(400)  # replicates shifted 0.2 below the estimate
    ci, diag, msgs = interval_report(reps, 10.0, 0.95, "basic")
    q_lo, q_hi = np.quantile(reps, [0.025, 0.975])
    assert ci == pytest.approx((20.0 - q_hi, 20.0 - q_lo))
    assert ci[0] > 10.0  # the reflection moves the interval above the estimate
    assert diag["percentile_ci"] == pytest.approx((q_lo, q_hi))
    assert diag["bias"] == pytest.approx(reps.mean() - 10.0) and diag["bias"] < -0.19
    assert diag["interval"] == "basic"
    assert len(msgs) == 1 and "excludes the estimate 10" in msgs[0]
    assert "sampling variability only, not the estimator's bias" in msgs[0]


def test_unbiased_replicates_give_no_warning_and_both_intervals_agree() -> None:
    reps = np.random.default_rng(1).normal(5.0, 1.0, 4000)
    ci, diag, msgs = interval_report(reps, 5.0, 0.9, "basic")
    assert msgs == [] and abs(diag["bias"]) < 0.05
    assert ci == pytest.approx(diag["percentile_ci"], abs=0.1)
    assert ci == pytest.approx((5.0 - 1.645, 5.0 + 1.645), abs=0.1)
    pct, diag_p, _ = interval_report(reps, 5.0, 0.9, "percentile")
    assert pct == diag_p["percentile_ci"] and diag_p["interval"] == "percentile"


def test_clipping_non_finite_and_too_few_replicates() -> None:
    ci, diag, msgs = interval_report(np.array([0.1, 0.2, np.nan, 0.3]), 0.05, 0.5, "basic", low=0.0)
    # Quantiles 0.15 and 0.25: basic (0.1 - 0.25, 0.1 - 0.15) lies wholly below 0; clipped it would
    # be (0, 0), which says nothing about an estimate of 0.05, so no interval is reported.
    assert ci is None and diag["percentile_ci"] == pytest.approx((0.15, 0.25))
    assert diag["bias"] == pytest.approx(0.15)
    assert len(msgs) == 1 and "entirely beyond 0" in msgs[0] and "estimate 0.05" in msgs[0]
    # clipped at one end only: reported, with the exclusion said
    ci, diag, msgs = interval_report(np.array([0.0, 0.1, 0.4]), 0.1, 0.5, "basic", low=0.0)
    assert ci == pytest.approx((0.0, 0.15)) and msgs == []
    ci, diag, msgs = interval_report(np.array([1.0]), 1.0, 0.95)
    assert ci is None and diag["percentile_ci"] is None and diag["bias"] == 0.0 and msgs == []
    ci, diag, msgs = interval_report(np.empty(0), 1.0, 0.95)
    assert ci is None and math.isnan(diag["bias"]) and msgs == []
    with pytest.raises(InvalidParameterError):
        interval_report(np.array([1.0, 2.0]), 1.0, 0.95, "studentized")


def test_bootstrap_means_of_few_values_have_the_distribution_of_resampled_rows() -> None:
    from neurocomplex.estimate import bootstrap_indices, bootstrap_means

    rng = np.random.default_rng(0)
    x = rng.integers(0, 5, size=3000) / 4.0  # 5 distinct values: drawn as a multinomial
    fast = bootstrap_means(x, 4000, seed=0)
    rows = np.array([x[i].mean() for i in bootstrap_indices(x.size, 4000, 1)])
    sd = x.std() / math.sqrt(x.size)  # the exact sd of the mean of n rows drawn with replacement
    for reps in (fast, rows):  # the sd of an sd from 4,000 replicates is about 1.1 %
        assert abs(reps.mean() - x.mean()) < 4 * sd / math.sqrt(4000)
        assert abs(reps.std() / sd - 1.0) < 0.045
    assert fast.size == 4000 and np.unique(fast).size > 100
    assert np.array_equal(bootstrap_means(x, 50, seed=2), bootstrap_means(x, 50, seed=2))  # seeded


@pytest.mark.parametrize("block_size", [None, 7])
def test_bootstrap_means_resample_rows_where_values_are_many_or_blocks_are_drawn(block_size) -> None:
    from neurocomplex.estimate import bootstrap_ci, bootstrap_means

    x = np.random.default_rng(1).normal(size=500)
    if block_size is not None:
        x = np.round(x)  # few values, but blocks: rows are still drawn
    _, reps = bootstrap_ci(lambda idx: float(x[idx].mean()), x.size, 60, 3, block_size)
    np.testing.assert_array_equal(bootstrap_means(x, 60, seed=3, block_size=block_size), reps)


def test_linear_quantiles_are_numpy_quantiles_to_the_bit() -> None:
    from neurocomplex.estimate import linear_quantiles

    rng = np.random.default_rng(5)
    for trial in range(3000):
        n = int(rng.integers(1, 600))
        v = rng.normal(size=n) * 10.0 ** rng.uniform(-5, 5)
        if trial % 3 == 0:
            v = np.round(v, 1)  # ties
        qs = (0.025, 0.975) if trial % 2 else (float(rng.uniform()), 0.0, 1.0)
        assert linear_quantiles(v, qs) == tuple(float(q) for q in np.quantile(v, list(qs)))
