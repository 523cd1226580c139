"""Activity estimators: exact values on hand examples, Bernoulli ground truth, dead units."""

from __future__ import annotations

import math

import numpy as np
import pytest

import neurocomplex as nc


def test_activation_ratio_hand_example():
    x = np.array([[0.0, 1.0, -2.0], [2.0, 3.0, 0.0], [0.0, 0.5, 0.1], [0.0, 0.0, 0.0]])
    est = nc.activation_ratio(nc.Recording.from_array(x), n_boot=0)
    assert est.value == 5 / 12
    np.testing.assert_array_equal(est.diagnostics["per_unit"], [1 / 4, 3 / 4, 1 / 4])
    np.testing.assert_array_equal(est.diagnostics["per_sample"], [1 / 3, 2 / 3, 2 / 3, 0.0])
    assert est.ci is None
    assert nc.activation_ratio(nc.Recording.from_array(x), threshold=0.5, n_boot=0).value == 3 / 12
    assert nc.activation_ratio(nc.Recording.from_array(x), n_boot=0, chunk_rows=1).value == 5 / 12


def test_activation_ratio_on_bernoulli_units():
    rng = np.random.default_rng(0)
    p, n_samples, n_units = 0.3, 5000, 20
    rec = nc.Recording.from_array((rng.random((n_samples, n_units)) < p).astype(np.uint8), kind="binary")
    est = nc.activation_ratio(rec, n_boot=200)
    se = math.sqrt(p * (1 - p) / (n_samples * n_units))
    assert est.value == pytest.approx(p, abs=4 * se)
    assert est.ci[0] <= p <= est.ci[1]
    assert est.ci[1] - est.ci[0] == pytest.approx(2 * 1.96 * se, rel=0.25)
    np.testing.assert_allclose(est.diagnostics["per_unit"], p, atol=4 * math.sqrt(p * (1 - p) / n_samples))


def test_constant_fraction_detects_dead_relu_units():
    rng = np.random.default_rng(1)
    pre = rng.normal(size=(1000, 10))
    bias = np.zeros(10)
    dead = [2, 5, 7]
    bias[dead] = -100.0  # these ReLUs never turn on
    rec = nc.Recording.from_array(np.maximum(pre + bias, 0.0), kind="activations",
                                  unit_ids=[f"u{i}" for i in range(10)])
    est = nc.constant_fraction(rec)
    assert est.value == 0.3
    assert est.diagnostics["constant_indices"].tolist() == dead
    assert est.diagnostics["constant_units"].tolist() == ["u2", "u5", "u7"]
    assert est.diagnostics["median_variance"] == pytest.approx(np.median(np.var(np.maximum(pre + bias, 0), axis=0)))
    assert est.ci is None and not est.warnings


def test_constant_fraction_relative_threshold_and_rounding():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(500, 4)) * [1.0, 1.0, 1e-3, 1.0]
    x[:, 3] = 0.1  # a constant whose float mean may round
    rec = nc.Recording.from_array(x)
    assert nc.constant_fraction(rec, rtol=1e-3).diagnostics["constant_indices"].tolist() == [2, 3]
    assert nc.constant_fraction(rec, rtol=1e-8).diagnostics["constant_indices"].tolist() == [3]
    assert nc.constant_fraction(rec, rtol=0.0).value == 0.25


def test_constant_fraction_with_zero_median_variance_says_so():
    x = np.zeros((100, 4))
    x[:, 0] = np.arange(100) % 3
    with pytest.warns(nc.NeurocomplexWarning, match="median unit variance is 0"):
        est = nc.constant_fraction(nc.Recording.from_array(x))
    assert est.value == 0.75
    with pytest.warns(nc.NeurocomplexWarning, match="median unit variance is 0"):
        assert nc.constant_fraction(nc.Recording.from_array(np.full((10, 3), 0.1))).value == 1.0


def test_mean_rate_in_hz_for_spike_counts():
    rec = nc.Recording.from_spike_times([[0.01, 0.02, 0.15, 0.31], [0.05]], bin_size=0.1, t_stop=0.4)
    est = nc.mean_rate(rec, n_boot=0)
    np.testing.assert_allclose(est.diagnostics["per_unit"], [10.0, 2.5])  # 4 and 1 spikes in 0.4 s
    assert est.value == pytest.approx(6.25)
    assert est.diagnostics["unit"] == "Hz"
    rates = nc.Recording.from_array(np.array([[1.0, 3.0], [3.0, 5.0]]), sampling_rate=10.0)
    est = nc.mean_rate(rates, n_boot=0)
    assert est.diagnostics["unit"] == "per sample" and est.value == 3.0


def test_mean_rate_interval_on_poisson_counts():
    rng = np.random.default_rng(3)
    lam, bin_size, n = 0.2, 0.01, 20000
    rec = nc.Recording.from_array(rng.poisson(lam, size=(n, 5)), kind="spike_counts", sampling_rate=1 / bin_size)
    est = nc.mean_rate(rec, n_boot=200)
    se = math.sqrt(lam / (n * 5)) / bin_size
    assert est.value == pytest.approx(lam / bin_size, abs=4 * se)
    assert est.ci[0] <= lam / bin_size <= est.ci[1]


def test_population_sparseness_hand_examples():
    one_hot = nc.Recording.from_array(np.eye(5) * 3.0, kind="activations")
    assert nc.population_sparseness(one_hot, n_boot=0).value == 1.0
    uniform = nc.Recording.from_array(np.full((4, 6), 2.5))
    assert nc.population_sparseness(uniform, n_boot=0).value == 0.0
    # r = (1, 1, 0, 0): a = (1/2)^2 / (1/2) = 1/2, S = (1 - 1/2) / (1 - 1/4) = 2/3
    half = nc.Recording.from_array(np.array([[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0], [4.0, 0, 0, 0]]))
    est = nc.population_sparseness(half, n_boot=0)
    np.testing.assert_allclose(est.diagnostics["per_sample"], [2 / 3, np.nan, 1.0])
    assert est.value == pytest.approx(5 / 6)
    assert est.diagnostics["n_silent"] == 1


def test_population_sparseness_errors():
    with pytest.raises(nc.InvalidDataError, match="sample 1"):
        nc.population_sparseness(nc.Recording.from_array(np.array([[1.0, 2.0], [-1.0, 0.0]])))
    with pytest.raises(nc.InsufficientDataError, match="2 units"):
        nc.population_sparseness(nc.Recording.from_array(np.ones((5, 1))))
    with pytest.raises(nc.InsufficientDataError, match="silent"):
        nc.population_sparseness(nc.Recording.from_array(np.zeros((5, 3)), kind="spike_counts"))
    with pytest.warns(nc.NeurocomplexWarning, match="3 of 4 samples are silent"):
        nc.population_sparseness(nc.Recording.from_array(np.vstack([np.zeros((3, 3)), np.ones((1, 3))])), n_boot=0)


@pytest.mark.parametrize("name", ["activation_ratio", "constant_fraction", "mean_rate", "population_sparseness"])
def test_activity_errors(name):
    func = getattr(nc, name)
    rec = nc.Recording.from_array(np.random.default_rng(4).random((20, 3)))
    with pytest.raises(nc.InsufficientDataError):
        func(nc.Recording.from_array(np.ones((1, 3))))
    with pytest.raises(nc.InvalidParameterError):
        func(rec, chunk_rows=0)
    with pytest.raises(nc.InvalidParameterError, match="Recording"):
        func(np.ones((20, 3)))
    if name == "constant_fraction":
        for bad in (-1, "x", float("nan")):
            with pytest.raises(nc.InvalidParameterError):
                func(rec, rtol=bad)
    else:
        for bad in ({"n_boot": -1}, {"ci_level": 0.0}, {"block_size": 0}, {"seed": "x"}):
            with pytest.raises(nc.InvalidParameterError):
                func(rec, **bad)
    if name == "activation_ratio":
        with pytest.raises(nc.InvalidParameterError):
            func(rec, threshold=float("nan"))
