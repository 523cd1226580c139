"""Coverage of the default CKA and shape-distance intervals on Gaussian data with an exact population value.

Small versions of benchmarks/coverage_similarity.py (same model): 40 data sets per case, and a
95% interval must contain the population value in at least 34 of them (a calibrated interval
does so with probability 0.986; the seeds are fixed, so the test is deterministic). The same data
show that the forms the defaults replaced do not cover (with weak signal, noise sd 3, the plug-in
CKA's interval excludes the population value and its own estimate), so the test can tell the
two apart. BLAS runs on one thread: many small decompositions are much slower threaded on a
loaded machine.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import neurocomplex as nc

N_DATASETS = 40
MIN_HITS = 34  # binom(40, 0.95).cdf(33) = 0.014


@pytest.fixture(autouse=True)
def _one_blas_thread():
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _model(units: int, k: int = 5, sigma: float = 1.0, seed: int = 0):
    """x = z A + σ ε, y = z B + σ ε (z: k standard normal latents); the population CKA and shape distance."""
    rng = np.random.default_rng(1000 + seed)
    a = rng.normal(size=(k, units)) / math.sqrt(k)
    b = (np.eye(k) + 0.8 * rng.normal(size=(k, k)) / math.sqrt(k)) @ rng.normal(size=(k, units)) / math.sqrt(k)
    sxx, syy, sxy = a.T @ a + sigma**2 * np.eye(units), b.T @ b + sigma**2 * np.eye(units), a.T @ b
    cka = np.linalg.norm(sxy) ** 2 / (np.linalg.norm(sxx) * np.linalg.norm(syy))
    shape = math.acos(np.linalg.svd(sxy, compute_uv=False).sum() / math.sqrt(np.trace(sxx) * np.trace(syy)))
    return a, b, sigma, {"cka": cka, "shape_distance": shape}


def _datasets(units: int, n: int, count: int, sigma: float = 1.0):
    a, b, sigma, truth = _model(units, sigma=sigma)
    rng = np.random.default_rng(n * 7919 + units)
    for _ in range(count):
        z = rng.normal(size=(n, a.shape[0]))
        x = z @ a + sigma * rng.normal(size=(n, units))
        y = z @ b + sigma * rng.normal(size=(n, units))
        yield nc.Recording.from_array(x), nc.Recording.from_array(y), truth


def _covers(ci, value) -> bool:
    return ci is not None and ci[0] <= value <= ci[1]


@pytest.mark.parametrize(("units", "sigma"), [(40, 1.0), (400, 1.0), (40, 3.0), (400, 3.0)])
def test_default_cka_interval_covers_and_the_plugin_does_not(units, sigma):
    hits, plugin_hits, plugin_excludes = 0, 0, 0
    for x, y, truth in _datasets(units, 100, N_DATASETS, sigma):
        est = nc.cka(x, y, n_boot=100)
        assert est.method == "linear_cka_debiased" and est.ci[0] <= est.value <= est.ci[1]
        hits += _covers(est.ci, truth["cka"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", nc.NeurocomplexWarning)
            plug = nc.cka(x, y, n_boot=100, debiased=False)
        plugin_hits += _covers(plug.ci, truth["cka"])
        plugin_excludes += not plug.ci[0] <= plug.value <= plug.ci[1]
    assert hits >= MIN_HITS, f"debiased CKA covered {hits} of {N_DATASETS}"
    if sigma > 1:  # weak signal: the plug-in's basic interval misses, and excludes its own estimate
        assert plugin_hits <= 4 and plugin_excludes >= N_DATASETS - 4


@pytest.mark.parametrize("sigma", [1.0, 3.0])
def test_default_shape_interval_covers_and_the_plugin_basic_interval_does_not(sigma):
    hits, basic_hits = 0, 0
    for x, y, truth in _datasets(40, 100, N_DATASETS, sigma):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", nc.NeurocomplexWarning)  # the bias warning fires here, as it should
            est = nc.shape_distance(x, y, n_boot=60)
        assert est.ci[0] <= est.value <= est.ci[1]
        hits += _covers(est.ci, truth["shape_distance"])
        lo, hi = est.diagnostics["percentile_ci"]
        basic_hits += _covers((2 * est.value - hi, 2 * est.value - lo), truth["shape_distance"])
    assert hits >= MIN_HITS, f"shape distance covered {hits} of {N_DATASETS}"
    assert basic_hits <= 4


def test_shape_interval_covers_with_more_units_than_samples():
    """Wide data (400 units, 100 samples), fewer data sets: the plug-in is far off, the bracket holds."""
    hits = 0
    count = 15
    for x, y, truth in _datasets(400, 100, count):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", nc.NeurocomplexWarning)
            est = nc.shape_distance(x, y, n_boot=40)
        assert est.value < truth["shape_distance"] - 0.3  # the plug-in distance is biased low by much
        hits += _covers(est.ci, truth["shape_distance"])
    assert hits >= count - 1
