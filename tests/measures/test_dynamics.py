"""fit_power_law and find_scaling_range against synthetic curves with known exponents and ranges."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import neurocomplex as nc


def _noisy_power_law(beta: float, seed: int, n: int = 40, offset: float = 0.0, sigma: float = 0.1):
    rng = np.random.default_rng(seed)
    x = np.logspace(0, 4, n)
    y = (3.0 * x**-beta + offset) * np.exp(sigma * rng.normal(size=n))  # multiplicative log-normal noise
    return x, y


def test_exact_power_law_is_recovered_exactly():
    x = np.logspace(-1, 3, 25)
    est = nc.fit_power_law(x, 2.5 * x**-1.3, n_boot=0)
    assert est.value == pytest.approx(1.3, abs=1e-10)
    assert est.diagnostics["A"] == pytest.approx(2.5, rel=1e-10)
    assert est.diagnostics["r_squared"] == pytest.approx(1.0, abs=1e-12)
    assert est.diagnostics["preferred"] == "power_law"
    assert est.ci is None and est.method == "log_least_squares"


def test_slope_matches_scipy_linregress_on_the_stated_range():
    from scipy.stats import linregress

    x, y = _noisy_power_law(0.8, seed=3)
    est = nc.fit_power_law(x, y, x_min=5.0, x_max=2000.0, n_boot=0)
    keep = (x >= 5) & (x <= 2000)
    ref = linregress(np.log(x[keep]), np.log(y[keep]))
    assert est.value == pytest.approx(-ref.slope, rel=1e-12)
    assert est.diagnostics["r_squared"] == pytest.approx(ref.rvalue**2, rel=1e-10)
    assert est.diagnostics["n_points"] == keep.sum()
    assert est.diagnostics["x_range"] == (x[keep][0], x[keep][-1])


@pytest.mark.parametrize("beta", [0.5, 1.0, 2.0])
def test_bootstrap_interval_covers_beta_without_offset(beta):
    n_seeds = 100
    hits = rejected = 0
    for seed in range(n_seeds):
        x, y = _noisy_power_law(beta, seed)
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always", nc.NeurocomplexWarning)
            est = nc.fit_power_law(x, y, n_boot=100, seed=seed)
        assert all("no power law holds" in str(w.message) for w in seen)
        rejected += len(seen) > 0
        hits += est.ci[0] <= beta <= est.ci[1]
    assert hits >= 0.9 * n_seeds
    assert rejected <= 0.05 * n_seeds  # a true power law is seldom taken for an alternative


@pytest.mark.parametrize("beta", [0.5, 1.0, 2.0])
def test_bootstrap_interval_covers_beta_with_offset(beta):
    n_seeds = 30
    hits = 0
    offsets = []
    for seed in range(n_seeds):
        x, y = _noisy_power_law(beta, seed, n=60, offset=3e-3)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", nc.NeurocomplexWarning)
            est = nc.fit_power_law(x, y, offset=True, n_boot=100, seed=seed)
        hits += est.ci[0] <= beta <= est.ci[1]
        offsets.append(est.diagnostics["c"])
    assert hits >= 0.9 * n_seeds
    assert np.median(offsets) == pytest.approx(3e-3, rel=0.2)


def test_offset_fit_is_exact_on_noise_free_data():
    x = np.logspace(0, 4, 30)
    est = nc.fit_power_law(x, 2.0 * x**-1.5 + 0.01, offset=True, n_boot=0)
    assert est.value == pytest.approx(1.5, rel=1e-6)
    assert est.diagnostics["A"] == pytest.approx(2.0, rel=1e-6)
    assert est.diagnostics["c"] == pytest.approx(0.01, rel=1e-6)


def test_exponential_data_prefer_the_exponential_and_warn():
    rng = np.random.default_rng(0)
    x = np.linspace(1, 200, 60)
    y = 4.0 * np.exp(-x / 30.0) * np.exp(0.05 * rng.normal(size=x.size))
    with pytest.warns(nc.NeurocomplexWarning, match="no power law holds.*ΔAIC"):
        est = nc.fit_power_law(x, y, n_boot=0)
    d = est.diagnostics
    assert d["preferred"] in ("exponential", "stretched_exponential")
    assert d["aic"]["exponential"] < d["aic"]["power_law"] - 10
    assert d["exponential"]["tau"] == pytest.approx(30.0, rel=0.05)
    assert est.warnings and "AIC" in est.warnings[0]


def test_stretched_exponential_parameters_are_recovered():
    x = np.linspace(1, 300, 80)
    with pytest.warns(nc.NeurocomplexWarning):
        est = nc.fit_power_law(x, 2.0 * np.exp(-((x / 40.0) ** 0.5)), n_boot=0)
    st = est.diagnostics["stretched_exponential"]
    assert est.diagnostics["preferred"] == "stretched_exponential"
    assert st["gamma"] == pytest.approx(0.5, rel=1e-4)
    assert st["tau"] == pytest.approx(40.0, rel=1e-3)


def test_power_law_data_do_not_warn():
    x, y = _noisy_power_law(1.0, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", nc.NeurocomplexWarning)
        est = nc.fit_power_law(x, y, n_boot=10)
    assert est.diagnostics["preferred"] == "power_law"
    assert est.diagnostics["delta_aic"] == 0.0


def test_deterministic_and_inputs_untouched():
    x, y = _noisy_power_law(1.0, seed=2)
    x0, y0 = x.copy(), y.copy()
    a = nc.fit_power_law(x, y, n_boot=50, seed=4)
    b = nc.fit_power_law(x, y, n_boot=50, seed=4)
    assert a.value == b.value and a.ci == b.ci
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(y, y0)


@pytest.mark.parametrize(
    ("x", "y", "kwargs", "error"),
    [
        ([1, 2, 3, 4, 5], [1, 2, 3, 4], {}, nc.InvalidDataError),
        ([1, 2, 3, np.nan, 5], [1, 2, 3, 4, 5], {}, nc.InvalidDataError),
        ([0, 2, 3, 4, 5], [1, 2, 3, 4, 5], {}, nc.InvalidDataError),
        ([1, 2, 3, 4, 5], [1, -2, 3, 4, 5], {}, nc.InvalidDataError),
        ([1, 2, 3], [3, 2, 1], {}, nc.InsufficientDataError),
        ([1, 2, 3, 4, 5, 6], [6, 5, 4, 3, 2, 1], {"x_min": 4.0}, nc.InsufficientDataError),
        ([2, 2, 2, 2, 2], [1, 2, 3, 4, 5], {}, nc.InsufficientDataError),
        ([1, 2, 3, 4, 5], [5, 4, 3, 2, 1], {"x_min": 4.0, "x_max": 2.0}, nc.InvalidParameterError),
        ([1, 2, 3, 4, 5], [5, 4, 3, 2, 1], {"n_boot": -1}, nc.InvalidParameterError),
        ([1, 2, 3, 4, 5], [5, 4, 3, 2, 1], {"ci_level": 1.5}, nc.InvalidParameterError),
        ([1, 2, 3, 4, 5], [5, 4, 3, 2, 1], {"offset": "yes"}, nc.InvalidParameterError),
    ],
)
def test_bad_input_raises_named_errors(x, y, kwargs, error):
    with pytest.raises(error):
        nc.fit_power_law(x, y, **kwargs)


def test_registered_as_series_estimator():
    spec = nc.get_estimator("fit_power_law")
    assert spec.func is nc.fit_power_law and spec.input == "series" and spec.family == "dynamics"


@pytest.mark.parametrize("beta", [0.7, 1.5])
def test_find_scaling_range_recovers_the_true_range(beta):
    rng = np.random.default_rng(5)
    x = np.logspace(0, 5, 121)
    pure = np.where(x < 10, 10.0**-beta, x**-beta)                         # flat below 10
    y = pure * np.where(x > 1e4, np.exp(-(x - 1e4) / 1e4), 1.0)             # exponential cutoff above 1e4
    y = y * np.exp(0.03 * rng.normal(size=x.size))
    est = nc.find_scaling_range(x, y, n_boot=50)
    lo, hi = np.log10(est.diagnostics["x_range"])
    assert est.diagnostics["found"]
    assert 1.0 <= lo <= 1.3 and 3.7 <= hi <= 4.05
    assert est.value == pytest.approx(beta, abs=0.02)
    assert est.ci[0] <= beta <= est.ci[1]


def test_find_scaling_range_says_when_no_range_exists():
    x = np.linspace(1, 100, 80)
    with (pytest.warns(nc.NeurocomplexWarning, match="no scaling range of at least 1.0 decades"),
          pytest.warns(nc.NeurocomplexWarning, match="no power law holds over x in .* the exponential fits")):
        est = nc.find_scaling_range(x, np.exp(-x / 10.0), n_boot=0)
    assert math.isnan(est.value) and est.ci is None
    assert not est.diagnostics["found"]
    assert est.diagnostics["decades"] < 1.0


def test_find_scaling_range_rejects_bad_parameters():
    x = np.logspace(0, 2, 20)
    with pytest.raises(nc.InvalidParameterError):
        nc.find_scaling_range(x, x**-1.0, tolerance=0.0)
    with pytest.raises(nc.InvalidParameterError):
        nc.find_scaling_range(x, x**-1.0, min_points=2)
    with pytest.raises(nc.InvalidDataError):
        nc.find_scaling_range(x, -x)
