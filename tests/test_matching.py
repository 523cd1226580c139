"""Matched comparison: matching removes size effects, one tie-aware binarization rule, degenerate
binarizations refused, and a p-value and an interval from one bootstrap that agree and are calibrated."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

import neurocomplex as nc
from neurocomplex.comparison._matching_stats import bootstrap_test, min_replicates, quantile_thresholds, resample_rows


def _population(dim: int, n_samples: int = 300, n_units: int = 40, seed: int = 0) -> nc.Recording:
    """Activations driven by ``dim`` Gaussian latents plus private noise."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n_samples, dim))
    loading = rng.normal(size=(dim, n_units)) / np.sqrt(dim)
    return nc.Recording.from_array(latent @ loading + 0.3 * rng.normal(size=(n_samples, n_units)), kind="activations")


def _gain_poisson(rng: np.random.Generator, rates: np.ndarray, n_trials: int = 100) -> nc.Recording:
    """Spike counts of units with fixed ``rates`` under a shared Gamma gain (mean 1, sd 0.5) per trial."""
    gain = rng.gamma(4.0, 0.25, size=(n_trials, 1))
    return nc.Recording.from_array(rng.poisson(rates * gain).astype(float), kind="spike_counts")


def _stimulus_layer(n_units: int = 12, repeats: int = 50, seed: int = 0) -> nc.Recording:
    """A layer shown 4 distinct stimuli, ``repeats`` times each: 4 values per unit, 25% of samples each."""
    rng = np.random.default_rng(seed)
    responses = np.maximum(rng.normal(size=(4, n_units)), 0) + rng.uniform(0.1, 1.0, size=(4, n_units))
    return nc.Recording.from_array(np.repeat(responses, repeats, axis=0), kind="activations")


# --------------------------------------------------------------------------- the binarization rule
def test_quantile_thresholds_give_the_achievable_ratio_nearest_the_target():
    rng = np.random.default_rng(0)
    for n, levels, target in [(40, 3, 0.2), (200, 4, 0.2), (57, 9, 0.3), (100, 2, 0.2), (30, 30, 0.1)]:
        x = rng.integers(0, levels, size=(n, 25)).astype(float)
        x[:, 0] = 1.0  # a constant unit: never active
        t = quantile_thresholds(x, target)
        for u in range(x.shape[1]):
            values = np.unique(x[:, u])
            candidates = values[:-1]  # thresholds below the maximum: something active, the minimum not
            if candidates.size == 0:
                assert t[u] == values[0] and not np.any(x[:, u] > t[u])
                continue
            ratios = np.array([np.mean(x[:, u] > v) for v in candidates])
            best = np.min(np.abs(ratios - target))
            chosen = np.mean(x[:, u] > t[u])
            assert t[u] in candidates
            assert abs(chosen - target) == pytest.approx(best, abs=1e-12)
            # ties between two candidates go to the smaller ratio
            assert chosen == pytest.approx(np.min(ratios[np.isclose(np.abs(ratios - target), best)]))
    # distinct values: the (1 - target) quantile, round(target * n) samples above it
    x = rng.normal(size=(400, 30))
    np.testing.assert_array_equal(np.sum(x > quantile_thresholds(x, 0.2), axis=0), 80)


def _nearest_ratio_threshold(column: np.ndarray, target: float) -> float:
    """The rule by brute force: every distinct value below the maximum, nearest ratio, ties smaller."""
    values = np.unique(column)
    if values.size == 1:
        return float(values[0])
    ratios = np.array([np.mean(column > v) for v in values[:-1]])
    gaps = np.round(np.abs(ratios - target) * column.size, 9)
    return float(values[:-1][gaps == gaps.min()].max())


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.uint8])
def test_quantile_thresholds_match_the_rule_at_every_dtype_and_size(dtype):
    rng = np.random.default_rng(3)
    for trial in range(300):
        n = int(rng.integers(2, 50))
        kind = trial % 3
        if kind == 0:  # ReLU-like: many exact zeros
            x = np.maximum(rng.normal(size=(n, 4)), 0) * 3
        elif kind == 1:  # counts with ties
            x = rng.poisson(rng.uniform(0.1, 3.0), size=(n, 4))
        else:  # 4 stimuli repeated
            x = np.repeat(rng.integers(0, 5, size=(4, 4)), -(-n // 4), axis=0)[:n]
        x = x.astype(dtype)
        target = float(rng.choice([0.1, 0.2, 0.25, 0.5, 0.9, rng.uniform(0.01, 0.99)]))
        t = quantile_thresholds(x, target)
        assert t.dtype == np.float64
        expected = [_nearest_ratio_threshold(x[:, u].astype(np.float64), target) for u in range(4)]
        np.testing.assert_array_equal(t, expected)


def test_four_distinct_stimuli_are_not_degenerate_under_the_quantile_rule():
    layer = _stimulus_layer(seed=1)
    np.testing.assert_allclose(np.mean(layer.data > quantile_thresholds(layer.data, 0.2), axis=0), 0.25)
    # the old rule, "above the 80th percentile", selects nothing on these data
    assert not np.any(layer.data > np.quantile(layer.data, 0.8, axis=0))
    other = _stimulus_layer(seed=2)
    df = nc.compare({"relu1": layer, "relu2": other}, ["activation_ratio", "pattern_entropy"], n_draws=3, n_boot=40,
                    params={"pattern_entropy": {"method": "plugin"}})
    assert not df.degenerate.any() and (df.warnings == "").all()
    ratio, entropy = df.iloc[0], df.iloc[1]
    assert ratio.unmatched_a == pytest.approx(0.25) and ratio.unmatched_b == pytest.approx(0.25)
    # 4 stimuli: at most 4 distinct patterns, at least 1 bit when each unit is on for one of them
    assert 1.0 <= entropy.value_a <= 2.0 + 1e-9 and 1.0 <= entropy.value_b <= 2.0 + 1e-9
    assert np.isfinite(entropy.p_value)


def test_quantile_binarization_gives_both_kinds_the_nearest_activation_ratio():
    rng = np.random.default_rng(0)
    counts = nc.Recording.from_array(rng.poisson(3.0, size=(400, 30)), kind="spike_counts")
    relu = nc.Recording.from_array(np.maximum(rng.normal(0.5, 1.0, size=(400, 50)), 0), kind="activations")
    df = nc.compare({"brain": counts, "layer": relu}, "activation_ratio", n_draws=10, n_boot=40, activation=0.3)
    row = df.iloc[0]
    # ReLU values above 0 are distinct: exactly the target; Poisson(3) allows P(X > 3) = 0.353 or
    # P(X > 4) = 0.185, and 0.353 is nearer 0.3
    assert row.unmatched_b == pytest.approx(0.3, abs=1e-9)
    assert row.value_a == pytest.approx(stats.poisson.sf(3, 3.0), abs=0.03)
    zero = nc.compare({"brain": counts, "layer": relu}, "activation_ratio", n_draws=10, n_boot=40,
                      binarize="zero").iloc[0]
    assert zero.value_a > 0.9 and zero.value_b == pytest.approx(np.mean(relu.data > 0), abs=0.05)
    assert zero.binarize == "X > 0"


# --------------------------------------------------------------------------- degenerate binarizations
def test_a_binarization_with_nothing_or_everything_active_is_degenerate_warned_and_untested():
    rng = np.random.default_rng(3)
    sigmoid = nc.Recording.from_array(1 / (1 + np.exp(-rng.normal(size=(200, 12)))), kind="activations")
    relu = nc.Recording.from_array(np.maximum(rng.normal(size=(200, 12)), 0), kind="activations")
    with pytest.warns(nc.NeurocomplexWarning, match="'sigmoid' has no active or no inactive"):
        df = nc.compare({"sigmoid": sigmoid, "relu": relu}, ["pattern_entropy", "participation_ratio"],
                        binarize="zero", n_draws=3, n_boot=40, params={"pattern_entropy": {"method": "plugin"}})
    entropy, pr = df.iloc[0], df.iloc[1]
    assert entropy.degenerate and entropy.value_a == pytest.approx(0.0, abs=1e-12)  # everything active: one pattern
    assert math.isnan(entropy.p_value) and math.isnan(entropy.ci_low) and math.isnan(entropy.ci_high)
    assert "degenerate" in entropy.warnings and "'sigmoid'" in entropy.warnings
    # the raw-value measure is unaffected by the binarization
    assert not pr.degenerate and 0 <= pr.p_value <= 1 and pr.warnings == ""
    # the estimator's own threshold (X > 0) with binarize="none": the same verdict
    with pytest.warns(nc.NeurocomplexWarning, match="degenerate"):
        none = nc.compare({"sigmoid": sigmoid, "relu": relu}, "pattern_entropy", binarize="none", n_draws=2, n_boot=40,
                          params={"pattern_entropy": {"method": "plugin"}})
    assert none.degenerate.all() and none.p_value.isna().all()
    # constant units only: the quantile rule marks nothing active
    flat = nc.Recording.from_array(np.tile(rng.normal(size=12), (200, 1)), kind="activations")
    with pytest.warns(nc.NeurocomplexWarning, match="'flat'"):
        q = nc.compare({"flat": flat, "relu": relu}, "pattern_complexity", n_draws=2, n_boot=40)
    assert q.degenerate.all() and q.value_a.iloc[0] == pytest.approx(1.0) and q.p_value.isna().all()
    assert not q.attrs["matched"][1]["degenerate"] and q.attrs["matched"][0]["degenerate"]


# --------------------------------------------------------------------------- interval and p-value
def test_bootstrap_test_is_the_inverted_test_of_its_interval():
    rng = np.random.default_rng(5)
    for _ in range(300):
        b = int(rng.integers(40, 300))
        level = float(rng.choice([0.8, 0.9, 0.95, 0.99]))
        reps = rng.standard_t(4, size=b) * rng.uniform(0.1, 3) + rng.normal()
        est = float(rng.normal(0, 2))
        lo, hi, p = bootstrap_test(est, reps, level)
        if b < min_replicates(level):
            assert math.isnan(p)
            continue
        assert (p < round(1 - level, 12)) == (not lo <= 0 <= hi)
        e = reps - reps.mean()
        # brute force: the interval is the set of shifts delta the test does not reject
        for delta in np.linspace(lo - 1, hi + 1, 41):
            c = min(np.sum(e <= est - delta), np.sum(e >= est - delta))
            accepted = min(1.0, 2 * (1 + c) / (b + 1)) >= round(1 - level, 12)
            assert accepted == (lo <= delta <= hi)
    assert min_replicates(0.95) == 40 and min_replicates(0.9) == 20
    # replicates without spread: the interval is the estimate alone (within rounding), 0 rejected at the smallest p
    lo, hi, p = bootstrap_test(0.3, np.full(50, 0.3), 0.95)
    assert lo == pytest.approx(0.3, abs=1e-9) and hi == pytest.approx(0.3, abs=1e-9) and p == 2 / 51
    assert bootstrap_test(0.0, np.full(50, 0.1), 0.95)[2] == 1.0
    # replicates that differ only by rounding, around an estimate of 0 (two values at one ceiling): no tail
    rounding = 6.35 * (1 + np.random.default_rng(1).integers(-2, 3, size=80) * np.finfo(float).eps) - 6.35
    lo, hi, p = bootstrap_test(0.0, rounding, 0.95, scale=6.35)
    assert p == 1.0 and lo <= 0 <= hi and hi - lo < 1e-7


def test_interval_and_p_value_never_disagree_in_compare():
    rows = []
    for s in range(6):
        a, b = _population(2, n_samples=120, n_units=12, seed=40 + s), _population(2 + s % 3, n_samples=90,
                                                                                    n_units=10, seed=50 + s)
        for level in (0.9, 0.95):
            df = nc.compare({"a": a, "b": b}, ["participation_ratio", "mean_rate", "pattern_entropy"], n_draws=2,
                            n_boot=60, ci_level=level, seed=s, params={"pattern_entropy": {"method": "miller_madow"}})
            rows += [(r.p_value < round(1 - level, 12), not r.ci_low <= 0 <= r.ci_high, r) for r in df.itertuples()]
    assert all(sig == excluded for sig, excluded, _ in rows)
    assert 0 < sum(sig for sig, _, _ in rows) < len(rows)  # both verdicts occur
    assert all(r.ci_low <= r.difference <= r.ci_high for _, _, r in rows)  # every interval holds its point


def test_aligned_recordings_are_resampled_together():
    a = _population(3, n_samples=150, n_units=20, seed=8)
    copy = nc.Recording.from_array(np.array(a.data), kind="activations")
    df = nc.compare({"a": a, "copy": copy}, ["participation_ratio", "pattern_entropy"], n_draws=3, n_boot=40,
                    fraction=1.0, params={"pattern_entropy": {"method": "plugin"}})
    # the same rows and all units in every draw and replicate: every replicate difference is 0
    assert (df.difference == 0).all() and (df.p_value == 1.0).all()
    np.testing.assert_allclose(df[["ci_low", "ci_high"]], 0.0, atol=1e-8)
    assert df.attrs["provenance"]["alignment_groups"] == [["a", "copy"]]


# --------------------------------------------------------------------------- calibration and power
@pytest.mark.parametrize(("n_draws", "rate_seed", "measures", "first_seed"), [
    (1, 0, ["participation_ratio", "mean_rate"], 1000),
    # 10 units matched to 5 in 4 draws: before replicates kept the estimate's unit partitions, they drew
    # twice as many as the estimate, and this case rejected 17 and 16 of 120 for the two dimensions
    (4, [17, 10, 1], ["participation_ratio", "effective_dimension", "mean_rate"], 3000),
])
def test_no_difference_is_rejected_at_the_nominal_rate(n_draws, rate_seed, measures, first_seed):
    """Two independent recordings of the same units (fixed rates, shared gain): p uniform, 5% rejected."""
    rates = np.random.default_rng(rate_seed).gamma(2.0, 1.5, size=10)
    p_values: dict[str, list[float]] = {m: [] for m in measures}
    for s in range(120):
        rng = np.random.default_rng(first_seed + s)
        df = nc.compare({"a": _gain_poisson(rng, rates), "b": _gain_poisson(rng, rates)}, list(p_values),
                        n_draws=n_draws, n_boot=40, seed=s)
        for r in df.itertuples():
            p_values[r.measure].append(r.p_value)
    for m, p in p_values.items():
        rejected = int(np.sum(np.array(p) < 0.05))
        # the test's exact size with 40 replicates is 2/41 = 4.9%: 1..15 of 120 holds 99.8% of Binomial(120, 0.049)
        assert 1 <= rejected <= 15, (m, rejected)
        assert 0.35 < np.median(p) < 0.65, (m, np.median(p))  # the old normal approximation had a median of 0.83


def test_doubled_rates_are_detected():
    rates = np.random.default_rng(1).gamma(2.0, 1.5, size=10)
    hits = {"participation_ratio": 0, "mean_rate": 0}
    for s in range(20):
        rng = np.random.default_rng(2000 + s)
        df = nc.compare({"a": _gain_poisson(rng, rates), "b": _gain_poisson(rng, 2 * rates)}, list(hits),
                        n_draws=3, n_boot=40, seed=s)
        for r in df.itertuples():
            hits[r.measure] += r.p_value < 0.05 and r.difference * (1 if r.measure == "participation_ratio" else -1) > 0
    # doubling the rates under a shared gain makes the shared variance dominate: a lower dimension
    assert hits["mean_rate"] == 20 and hits["participation_ratio"] >= 6, hits


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dimension_two_against_dimension_ten_is_significant(seed):
    a = _population(2, seed=10 + seed)
    b = _population(10, seed=20 + seed)
    df = nc.compare({"a": a, "b": b}, ["effective_dimension", "participation_ratio"], n_draws=10, n_boot=40,
                    seed=seed)
    for _, row in df.iterrows():
        assert row.difference < 0 and row.ci_high < 0
        assert row.p_value < 0.05


# --------------------------------------------------------------------------- sizes, notes and tables
def _same_units(n_samples: int, seed: int, n_units: int = 40) -> nc.Recording:
    """The process of ``_population(3, seed=0)``'s units (same loadings), with fresh latents and noise."""
    loading = np.random.default_rng(0).normal(size=(3, n_units)) / np.sqrt(3)
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n_samples, 3)) @ loading + 0.3 * rng.normal(size=(n_samples, n_units))
    return nc.Recording.from_array(x, kind="activations")


def test_the_same_units_at_different_sample_counts_differ_before_matching_and_not_after():
    big, small = _same_units(1000, seed=1), _same_units(150, seed=2)
    df = nc.compare({"big": big, "small": small}, ["pattern_entropy", "effective_dimension"], n_draws=10, n_boot=40,
                    params={"pattern_entropy": {"method": "plugin"}}, seed=0)
    entropy = df.iloc[0]
    # unmatched: the plug-in entropy of 1000 samples exceeds that of 150 (its bias shrinks with samples)
    assert entropy.unmatched_difference > 1.0
    assert not entropy.ci_low <= entropy.unmatched_difference <= entropy.ci_high
    assert entropy.moved_a < -1.0 and abs(entropy.moved_a) > abs(entropy.moved_b)  # the big one moved most
    # matched to 75 samples and 20 units: the same process, no difference
    for row in df.itertuples():
        assert row.ci_low <= 0 <= row.ci_high and row.p_value >= 0.05, row
    assert df.loc[0, "subsampled"] == ("big: 20 of 40 units, 75 of 1000 samples; "
                                       "small: 20 of 40 units, 75 of 150 samples")


def test_a_subset_of_units_is_matched_to_the_size_of_the_smaller_recording():
    big = _population(5, n_samples=800, n_units=120, seed=1)
    small = big.subsample(n_units=20, n_samples=200, seed=2)
    df = nc.compare({"big": big, "small": small}, ["effective_dimension", "pattern_entropy"], n_draws=20, n_boot=40,
                    params={"pattern_entropy": {"method": "plugin"}}, seed=0)
    assert list(df["measure"]) == ["effective_dimension", "pattern_entropy"]
    for _, row in df.iterrows():
        # unmatched: the bigger recording has the larger dimension and entropy, far outside the matched interval;
        # matched, what is left is the difference between these 20 units and the average 10 of the 120
        assert row.unmatched_difference > 0
        assert not row.ci_low <= row.unmatched_difference <= row.ci_high
        assert abs(row.difference) < 0.4 * row.unmatched_difference
        assert abs(row.moved_a) > abs(row.moved_b)  # the big recording moved most
    assert int(df.loc[0, "n_units"]) == 10 and int(df.loc[0, "n_samples"]) == 100
    assert df.loc[0, "subsampled"] == ("big: 10 of 120 units, 100 of 800 samples; "
                                       "small: 10 of 20 units, 100 of 200 samples")
    assert df.loc[0, ["n_units_a", "n_units_b", "n_samples_a", "n_samples_b"]].tolist() == [120, 20, 800, 200]
    assert "nothing was subsampled" not in " ".join(df.warnings)
    prov = df.attrs["provenance"]
    assert prov["n_units"] == 10
    assert prov["binarize"].startswith("X > per-unit threshold with activation ratio nearest 0.2")
    assert prov["subsampled"] == {"big": "10 of 120 units, 100 of 800 samples",
                                  "small": "10 of 20 units, 100 of 200 samples"}
    assert "big: 10 of 120 units, 100 of 800 samples" in prov["note"]
    assert "units recorded are held fixed" in prov["note"]
    matched = {(r["recording"], r["measure"]): r for r in df.attrs["matched"]}
    row = df.iloc[0]
    assert matched["big", "effective_dimension"]["value"] == pytest.approx(row.value_a)
    assert matched["big", "effective_dimension"]["n_units_recorded"] == 120
    assert matched["big", "effective_dimension"]["unmatched"] == pytest.approx(
        nc.effective_dimension(big, n_boot=0).value)
    m = matched["small", "pattern_entropy"]
    assert m["ci_low"] <= m["value"] <= m["ci_high"]


def test_notes_say_nothing_was_subsampled_only_when_true():
    a, b = _population(2, n_samples=100, n_units=10, seed=3), _population(3, n_samples=100, n_units=10, seed=4)
    full = nc.compare({"a": a, "b": b}, "participation_ratio", n_draws=3, n_boot=40, fraction=1.0)
    assert "nothing was subsampled" in full.loc[0, "warnings"]
    assert full.attrs["provenance"]["subsampled_text"] == "nothing was subsampled"
    assert full.loc[0, "subsampled"] == "a: all 10 units, all 100 samples; b: all 10 units, all 100 samples"
    assert 0 <= full.loc[0, "p_value"] <= 1  # the bootstrap still varies
    none = nc.compare({"a": a, "b": b}, "participation_ratio", match=(), n_draws=3, n_boot=40)
    assert "nothing was subsampled" in none.loc[0, "warnings"]
    assert none.loc[0, "value_a"] == pytest.approx(none.loc[0, "unmatched_a"])
    c = _population(3, n_samples=160, n_units=10, seed=5)
    part = nc.compare({"a": a, "c": c}, "participation_ratio", n_draws=3, n_boot=40, fraction=1.0)
    assert "nothing was subsampled" not in part.loc[0, "warnings"]
    assert part.loc[0, "subsampled"] == "a: all 10 units, all 100 samples; c: all 10 units, 100 of 160 samples"


def test_determinism_null_none_and_pairs():
    a, b = _population(2, seed=3), _population(10, seed=4)
    df1 = nc.compare({"a": a, "b": b}, "participation_ratio", n_draws=3, n_boot=40, seed=7)
    df2 = nc.compare({"a": a, "b": b}, "participation_ratio", n_draws=3, n_boot=40, seed=7)
    assert df1.equals(df2)
    none = nc.compare({"a": a, "b": b}, "participation_ratio", n_draws=3, n_boot=40, null="none")
    assert np.isnan(none.loc[0, "p_value"]) and np.isfinite(none.loc[0, "ci_low"])
    bare = nc.compare({"a": a, "b": b}, "participation_ratio", n_draws=3, n_boot=0, null="none")
    assert bare[["ci_low", "ci_high", "p_value"]].isna().all().all() and bare.loc[0, "n_replicates"] == 0
    few = nc.compare({"a": a, "b": b}, "participation_ratio", n_draws=2, n_boot=20, null="none")
    assert few[["ci_low", "ci_high", "p_value"]].isna().all().all()
    assert "too few for a 0.95 interval (at least 40)" in few.loc[0, "warnings"]
    three = nc.compare({"a": a, "b": b, "c": _population(3, seed=5)}, "participation_ratio", n_draws=2, n_boot=40)
    assert list(zip(three.a, three.b, strict=True)) == [("a", "b"), ("a", "c"), ("b", "c")]
    assert list(three.columns[:20]) == ["measure", "a", "b", "value_a", "value_b", "difference", "ci_low", "ci_high",
                                        "p_value", "unmatched_a", "unmatched_b", "unmatched_difference", "moved_a",
                                        "moved_b", "n_units", "n_samples", "n_draws", "binarize", "null", "warnings"]


def test_unit_pieces_of_replicates_are_the_same_from_either_memory_order():
    # C order takes a replicate's rows and a unit piece's columns by one flat gather; other orders
    # by np.ix_: the same matched values and tests (the unmatched float32 covariance of the whole
    # layer rounds differently with the memory order, so those columns are left out)
    rng = np.random.default_rng(11)
    wide = np.maximum(rng.normal(size=(120, 40)), 0).astype(np.float32)
    area = rng.poisson(1.5, size=(120, 12))
    tables = []
    for order in ("C", "F"):
        recs = {"layer": nc.Recording.from_array(np.asarray(wide, order=order)),
                "area": nc.Recording.from_array(np.asarray(area, order=order), kind="spike_counts")}
        assert recs["layer"].data.flags.c_contiguous == (order == "C")
        tables.append(nc.compare(recs, ["participation_ratio", "pattern_entropy"], n_draws=3, n_boot=40, seed=2))
    matched = ["value_a", "value_b", "difference", "ci_low", "ci_high", "p_value"]
    assert tables[0][matched].equals(tables[1][matched])
    assert tables[0]["p_value"].notna().all()


def test_resample_rows_blocks_and_independent_draws():
    rng = np.random.default_rng(0)
    rows = resample_rows(rng, 103, 10)
    assert rows.shape == (103,) and rows.min() >= 0 and rows.max() < 103
    starts = rows[::10]
    for k, s in enumerate(starts):  # each block is a run of consecutive rows
        np.testing.assert_array_equal(rows[10 * k: 10 * k + 10], np.arange(s, s + 10)[: len(rows[10 * k: 10 * k + 10])])
    iid = resample_rows(rng, 50, None)
    assert iid.shape == (50,) and len(np.unique(iid)) < 50  # with replacement
    a, b = _population(2, n_samples=120, n_units=8, seed=1), _population(2, n_samples=120, n_units=8, seed=2)
    df = nc.compare({"a": a, "b": b}, "mean_rate", n_draws=2, n_boot=40, block_size=12)
    assert df.attrs["provenance"]["resampled"].endswith("in blocks of 12; units fixed")


# --------------------------------------------------------------------------- bad input
def test_bad_input_raises_named_errors():
    a, b = _population(2, seed=3), _population(3, n_samples=200, seed=4)
    with pytest.raises(nc.InvalidParameterError, match="at least two"):
        nc.compare({"a": a}, "participation_ratio")
    with pytest.raises(nc.InvalidParameterError, match="not a Recording"):
        nc.compare({"a": a, "b": np.zeros((3, 3))}, "participation_ratio")
    with pytest.raises(nc.InvalidParameterError, match="no estimator"):
        nc.compare({"a": a, "b": b}, "not_a_measure")
    with pytest.raises(nc.InvalidParameterError, match="pair"):
        nc.compare({"a": a, "b": b}, "cka")
    with pytest.raises(nc.InvalidParameterError, match="order of samples in time"):
        nc.compare({"a": a, "b": b}, "word_entropy")
    with pytest.raises(nc.InvalidParameterError, match=r"takes no keyword 'methd'.*did you mean 'method'"):
        nc.compare({"a": a, "b": b}, "pattern_entropy", params={"pattern_entropy": {"methd": "plugin"}})
    with pytest.raises(nc.InvalidParameterError, match="not calibrated"):
        nc.compare({"a": a, "b": b}, "participation_ratio", null="draws")
    with pytest.raises(nc.InvalidParameterError, match="at least 40"):
        nc.compare({"a": a, "b": b}, "participation_ratio", n_boot=10)
    one = nc.Recording.from_array(np.ones((1, 5)))
    with pytest.raises(nc.InsufficientDataError, match="at least 2"):
        nc.compare({"a": a, "one": one}, "participation_ratio")
    for seed in ("abc", 1.5, -1):
        with pytest.raises(nc.InvalidParameterError, match="seed"):
            nc.compare({"a": a, "b": b}, "participation_ratio", seed=seed)
    for bad in ({"binarize": "median"}, {"null": "labels"}, {"null": "rates"}, {"n_draws": 0}, {"fraction": 0.0},
                {"activation": 1.0}, {"match": ("neurons",)}, {"params": {"effective_dimension": {}}},
                {"params": {"participation_ratio": {"ci_level": 2.0}}}, {"params": [1, 2]},
                {"params": {"participation_ratio": 3}}, {"ci_level": 1.5}, {"block_size": 0}, {"n_boot": "x"}):
        with pytest.raises(nc.InvalidParameterError):
            nc.compare({"a": a, "b": b}, "participation_ratio", **{"n_boot": 40, **bad})


def test_balanced_draws_remove_the_monte_carlo_noise_of_a_mean():
    rng = np.random.default_rng(9)
    a = nc.Recording.from_array(rng.poisson(rng.gamma(2.0, 1.5, size=10), size=(100, 10)).astype(float),
                                kind="spike_counts")
    b = nc.Recording.from_array(rng.poisson(2.0, size=(100, 10)).astype(float), kind="spike_counts")
    # 2 row pieces x 2 unit pieces: every 4 draws cover every sample of every unit once
    for n_draws in (4, 8):
        row = nc.compare({"a": a, "b": b}, "mean_rate", n_draws=n_draws, n_boot=40, seed=n_draws).iloc[0]
        assert row.value_a == pytest.approx(row.unmatched_a, rel=1e-12)
        assert row.value_b == pytest.approx(row.unmatched_b, rel=1e-12)


def test_pattern_entropies_at_their_sample_ceiling_are_not_tested():
    # 100 units matched to 50 units and 50 samples: every pattern differs, the plug-in entropy is log2(50)
    a, b = _population(20, n_samples=100, n_units=100, seed=1), _population(20, n_samples=100, n_units=100, seed=2)
    with pytest.warns(nc.NeurocomplexWarning, match=r"pattern_entropy \(a, b\)"):
        df = nc.compare({"a": a, "b": b}, ["pattern_entropy", "participation_ratio"], n_draws=2, n_boot=40,
                        params={"pattern_entropy": {"method": "plugin"}})
    entropy, pr = df.iloc[0], df.iloc[1]
    assert entropy.value_a == pytest.approx(np.log2(50)) and entropy.value_b == pytest.approx(np.log2(50))
    assert entropy.degenerate and math.isnan(entropy.p_value) and "same ceiling" in entropy.warnings
    assert not pr.degenerate and 0 <= pr.p_value <= 1
    # 50 units on 50 samples: the dimension is limited by the samples, and the row says so
    assert "50 units on 50 samples" in pr.warnings and "50 units on 50 samples" not in entropy.warnings
    assert all(r["at_ceiling"] for r in df.attrs["matched"] if r["measure"] == "pattern_entropy")
    # one at the ceiling, one below it: tested, and said
    low = _stimulus_layer(n_units=100, repeats=25, seed=3)  # 4 patterns
    one = nc.compare({"a": a, "low": low}, "pattern_entropy", n_draws=2, n_boot=40,
                     params={"pattern_entropy": {"method": "plugin"}}).iloc[0]
    assert not one.degenerate and one.value_b <= 2 + 1e-9 and one.p_value < 0.05
    assert "'a' has as many distinct patterns as samples" in one.warnings and "of 'low' has" not in one.warnings


def test_half_samples_and_bootstrap_replicates():
    from neurocomplex.comparison._matching_stats import half_rows

    rng = np.random.default_rng(0)
    for n, block in [(100, None), (101, None), (120, 10), (125, 10)]:
        rows, scale = half_rows(rng, n, block)
        blocks = n if block is None else n // block
        assert len(set(rows.tolist())) == len(rows) and rows.min() >= 0 and rows.max() < n
        assert scale == pytest.approx(np.sqrt((blocks // 2) / (blocks - blocks // 2)))
    a, b = _population(2, n_samples=120, n_units=12, seed=1), _population(2, n_samples=90, n_units=12, seed=2)
    half = nc.compare({"a": a, "b": b}, "participation_ratio", n_draws=3, n_boot=40)
    boot = nc.compare({"a": a, "b": b}, "participation_ratio", n_draws=3, n_boot=40, resample="bootstrap")
    # the same estimate; intervals of the same order from either resampling
    assert half.loc[0, "difference"] == boot.loc[0, "difference"]
    w_half, w_boot = np.ptp(half.loc[0, ["ci_low", "ci_high"]]), np.ptp(boot.loc[0, ["ci_low", "ci_high"]])
    assert 0.5 < w_half / w_boot < 2.0
    assert half.attrs["provenance"]["resampled"].startswith("a random half of the samples")
    assert boot.attrs["provenance"]["resampled"].startswith("the samples of each Recording with replacement")
    with pytest.raises(nc.InvalidParameterError, match="resample"):
        nc.compare({"a": a, "b": b}, "participation_ratio", n_boot=40, resample="jackknife")
