"""Matched comparison: matching removes size effects, identical populations are not told apart,
populations of different dimension are."""

from __future__ import annotations

import numpy as np
import pytest

import neurocomplex as nc


def _population(dim: int, n_samples: int = 300, n_units: int = 40, seed: int = 0) -> nc.Recording:
    """Activations driven by ``dim`` Gaussian latents plus private noise."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n_samples, dim))
    loading = rng.normal(size=(dim, n_units)) / np.sqrt(dim)
    return nc.Recording.from_array(latent @ loading + 0.3 * rng.normal(size=(n_samples, n_units)), kind="activations")


def test_same_population_at_different_sizes_differs_before_matching_and_not_after():
    big = _population(5, n_samples=800, n_units=120, seed=1)
    small = big.subsample(n_units=20, n_samples=200, seed=2)
    df = nc.compare({"big": big, "small": small}, ["effective_dimension", "pattern_entropy"], n_draws=30,
                    params={"pattern_entropy": {"method": "plugin"}}, seed=0)
    assert list(df["measure"]) == ["effective_dimension", "pattern_entropy"]
    for _, row in df.iterrows():
        # unmatched: the bigger recording has the larger dimension and entropy, far outside the matched interval
        assert row.unmatched_difference > 0
        assert not row.ci_low <= row.unmatched_difference <= row.ci_high
        # matched: no difference
        assert row.ci_low <= 0 <= row.ci_high
        assert row.p_value > 0.05
        assert abs(row.moved_a) > abs(row.moved_b)  # the big recording moved most
    assert int(df.loc[0, "n_units"]) == 10 and int(df.loc[0, "n_samples"]) == 100
    prov = df.attrs["provenance"]
    assert prov["n_units"] == 10 and prov["binarize"].startswith("X > per-unit 0.8 quantile")
    matched = {(r["recording"], r["measure"]): r for r in df.attrs["matched"]}
    row = df.iloc[0]
    assert matched["big", "effective_dimension"]["value"] == pytest.approx(row.value_a)
    assert matched["big", "effective_dimension"]["unmatched"] == pytest.approx(
        nc.effective_dimension(big, n_boot=0).value)


def test_identically_generated_populations_are_not_significant_in_most_seeds():
    p_values = []
    for s in range(20):
        a = _population(3, seed=2 * s + 100)
        b = _population(3, seed=2 * s + 101)
        df = nc.compare({"a": a, "b": b}, "effective_dimension", n_draws=20, seed=s)
        p_values.append(float(df.loc[0, "p_value"]))
    assert np.mean(np.array(p_values) >= 0.05) >= 0.9, p_values


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dimension_two_against_dimension_ten_is_significant(seed):
    a = _population(2, seed=10 + seed)
    b = _population(10, seed=20 + seed)
    df = nc.compare({"a": a, "b": b}, ["effective_dimension", "participation_ratio"], n_draws=20, seed=seed)
    for _, row in df.iterrows():
        assert row.difference < 0 and row.ci_high < 0
        assert row.p_value < 0.05


def test_quantile_binarization_gives_both_kinds_the_same_activation_ratio():
    rng = np.random.default_rng(0)
    counts = nc.Recording.from_array(rng.poisson(3.0, size=(400, 30)), kind="spike_counts")
    relu = nc.Recording.from_array(np.maximum(rng.normal(0.5, 1.0, size=(400, 50)), 0), kind="activations")
    df = nc.compare({"brain": counts, "layer": relu}, "activation_ratio", n_draws=10, activation=0.3)
    row = df.iloc[0]
    # ties at the threshold count as inactive, so counts sit at or below the target; ReLU values are distinct
    assert row.value_b == pytest.approx(0.3, abs=0.02)
    assert 0.15 < row.value_a <= 0.3 + 1e-9
    zero = nc.compare({"brain": counts, "layer": relu}, "activation_ratio", n_draws=10, binarize="zero").iloc[0]
    assert zero.value_a > 0.9 and zero.value_b == pytest.approx(np.mean(relu.data > 0), abs=0.05)
    assert zero.binarize == "X > 0"


def test_permutation_null_and_determinism():
    a, b = _population(2, seed=3), _population(10, seed=4)
    df1 = nc.compare({"a": a, "b": b}, "participation_ratio", n_draws=5, null="rates", n_null=30, seed=7)
    df2 = nc.compare({"a": a, "b": b}, "participation_ratio", n_draws=5, null="rates", n_null=30, seed=7)
    assert df1.equals(df2)
    assert df1.loc[0, "p_value"] < 0.1  # (1 + permutations reaching the observed difference) / 31
    none = nc.compare({"a": a, "b": b}, "participation_ratio", n_draws=5, null="none")
    assert np.isnan(none.loc[0, "p_value"])
    same_size = nc.compare({"a": a, "b": b}, "participation_ratio", n_draws=3, fraction=1.0)
    assert np.isnan(same_size.loc[0, "p_value"]) and "do not vary" in same_size.loc[0, "warnings"]
    three = nc.compare({"a": a, "b": b, "c": _population(3, seed=5)}, "participation_ratio", n_draws=3)
    assert list(zip(three.a, three.b, strict=True)) == [("a", "b"), ("a", "c"), ("b", "c")]


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
    with pytest.raises(nc.InvalidParameterError, match="samples"):
        nc.compare({"a": a, "b": b}, "participation_ratio", match=("units",), null="rates")
    for bad in ({"binarize": "median"}, {"null": "labels"}, {"n_draws": 1}, {"fraction": 0.0},
                {"activation": 1.0}, {"match": ("neurons",)}, {"params": {"effective_dimension": {}}},
                {"params": {"participation_ratio": {"ci_level": 2.0}}}):
        with pytest.raises(nc.InvalidParameterError):
            nc.compare({"a": a, "b": b}, "participation_ratio", **bad)
