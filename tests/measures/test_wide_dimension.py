"""Wide data (fewer samples than units): the dimension estimators through the centred Gram matrix
against the covariance route, float64 references, exact replicates and a prescribed spectrum."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import neurocomplex as nc
from neurocomplex.measures import _dimension_replicates as reps
from neurocomplex.measures import dimension, spectrum
from neurocomplex.measures._dimension_stats import _read_blocks, denoise_eigenvalues, jackknife_draws
from neurocomplex.measures._spectral_bootstrap import expand_blocks, expand_rows, expansion_dimensions
from neurocomplex.measures.dimension import effective_dimension_from_eigenvalues
from neurocomplex.stats.gram import centred_gram, weighted_gram


def _rec(x: np.ndarray) -> nc.Recording:
    return nc.Recording.from_array(x)


def _wide(n: int, d: int, seed: int, spectrum_fn=None, dtype=np.float64) -> np.ndarray:
    """Gaussian rows with covariance eigenvalues ``spectrum_fn(d)`` (e^(−k/10) by default), plus an offset."""
    rng = np.random.default_rng(seed)
    lam = np.exp(-np.arange(d) / 10.0) if spectrum_fn is None else spectrum_fn(d)
    return (rng.normal(size=(n, d)) * np.sqrt(lam) + 2.0).astype(dtype)


def _relu(n: int, d: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.maximum(rng.standard_normal((n, d), dtype=np.float32), 0)


def _quiet(func, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nc.NeurocomplexWarning)
        return func(*args, **kw)


# --------------------------------------------------------------------------- Gram = covariance
@pytest.mark.parametrize("order", [1, 2, 3, 0.5, math.inf])
def test_gram_and_covariance_routes_agree(order):
    x = _wide(60, 150, seed=1)
    est = _quiet(nc.effective_dimension, _rec(x), order=order, n_boot=0)
    assert est.diagnostics["route"] == "gram" and est.diagnostics["eigenvalues"].size == 150
    ref = np.linalg.eigvalsh(np.cov(x, rowvar=False))[::-1]
    lam = denoise_eigenvalues(np.clip(ref, 0, None), 150, np.dtype(np.float64))[0]
    assert est.value == pytest.approx(effective_dimension_from_eigenvalues(lam, order), rel=1e-10)
    np.testing.assert_allclose(est.diagnostics["eigenvalues"], lam, rtol=1e-10, atol=1e-12 * lam[0])
    assert est.diagnostics["rank"] == 59


def test_gram_replicates_equal_covariance_replicates():
    # any sample weighting of the Gram (jackknife 0/1, bootstrap 0, 1, 2, ...) has the spectrum of
    # the covariance merged from the same blocks with the same weights
    x = _wide(80, 200, seed=2)
    blocks = _read_blocks((x,), 8, 16384)
    gram = centred_gram(x).gram
    counts = blocks.counts
    keep = np.ones(200, bool)
    cov_source = reps.BlockSource(blocks, keep, False, 1.0, 200, np.dtype(np.float64), None)
    gram_source = reps.GramSource(gram, counts, 1.0, 200, np.dtype(np.float64), None)
    draws = np.vstack([jackknife_draws(10, 10), np.random.default_rng(0).multinomial(10, np.full(10, 0.1), 5)])
    for w in draws.astype(float):
        assert gram_source.exact(w) == pytest.approx(cov_source.exact(w), rel=1e-10)
        k, _ = weighted_gram(gram, np.repeat(w, 8))
        _, scatter = blocks.merged(w)
        top = np.linalg.eigvalsh(scatter)[::-1][: k.shape[0] - 1]
        np.testing.assert_allclose(np.linalg.eigvalsh(k)[::-1][: k.shape[0] - 1], top, rtol=1e-9,
                                   atol=1e-10 * top[0])
    np.testing.assert_allclose(gram_source.participation_ratios(draws), cov_source.participation_ratios(draws),
                               rtol=1e-10)
    # the second-order expansion in the Gram's eigenbasis is the covariance route's, term by term
    lam_g, u = np.linalg.eigh(gram)
    lam_g, u = lam_g[::-1][:79], u[:, ::-1][:, :79]
    lam_c, v = np.linalg.eigh(blocks.total)
    lam_c, v = lam_c[::-1][:79], v[:, ::-1][:, :79]
    a = expand_rows(u * np.sqrt(lam_g), counts, lam_g, 1.0)
    b = expand_blocks(counts, blocks.means, blocks.centres, blocks.grams, lam_c, v, 1.0)
    np.testing.assert_allclose(a.weights, b.weights, rtol=1e-8, atol=1e-10 * np.abs(b.weights).max())
    np.testing.assert_allclose(expansion_dimensions(a, draws), expansion_dimensions(b, draws), rtol=1e-10)


def test_wide_interval_is_the_exact_grouped_jackknife(monkeypatch):
    x = _wide(103, 300, seed=3)
    monkeypatch.setattr(dimension, "_REPLICATES", "exact")
    est = _quiet(nc.effective_dimension, _rec(x), n_boot=100)
    jack = est.diagnostics["jackknife"]
    assert est.diagnostics["interval"] == "jackknife" and jack.size == 10 and est.params["block_size"] == 10
    for g in (0, 4, 9):  # group g: rows 10g..10g+9; the 3 remainder rows stay in every replicate
        rows = np.r_[0 : 10 * g, 10 * (g + 1) : 103]
        ref = np.linalg.eigvalsh(np.cov(x[rows], rowvar=False))[::-1]
        lam = denoise_eigenvalues(np.clip(ref, 0, None), 300, np.dtype(np.float64))[0]
        assert jack[g] == pytest.approx(effective_dimension_from_eigenvalues(lam, 1.0), rel=1e-10)
    low, high = est.ci
    assert low < est.value < high


def test_exact_and_perturbative_jackknife_agree_in_the_wide_case(monkeypatch):
    # a decaying spectrum: the expansion in the Gram's eigenbasis passes its check; the replicates
    # differ from exact ones by a nearly common shift, so the jackknife se agrees within 10 %
    x = _wide(150, 500, seed=4, spectrum_fn=lambda d: np.arange(1, d + 1) ** -2.0)
    fast = _quiet(nc.effective_dimension, _rec(x), n_boot=100)
    monkeypatch.setattr(dimension, "_REPLICATES", "exact")
    exact = _quiet(nc.effective_dimension, _rec(x), n_boot=100)
    assert fast.diagnostics["replicates"] == "perturbative" and exact.diagnostics["replicates"] == "exact"
    assert fast.diagnostics["replicate_check_error"] <= reps.JACKKNIFE_TOLERANCE
    a, e = fast.diagnostics["jackknife"], exact.diagnostics["jackknife"]
    assert np.max(np.abs((a - a.mean()) - (e - e.mean()))) <= 0.1 * (e.max() - e.min())
    assert fast.diagnostics["jackknife_se"] == pytest.approx(exact.diagnostics["jackknife_se"], rel=0.1)
    assert fast.ci == pytest.approx(exact.ci, abs=0.1 * (exact.ci[1] - exact.ci[0]))
    # white data (flat spectra): the expansion's errors grow with the replicate (se 19 % too large
    # for the first), it fails its check and every replicate is exact
    monkeypatch.setattr(dimension, "_REPLICATES", "auto")
    for white in (_wide(100, 400, seed=5, spectrum_fn=np.ones), _relu(100, 400, seed=3)):
        flat = _quiet(nc.effective_dimension, _rec(white), n_boot=100)
        assert flat.diagnostics["replicates"] == "exact"
        assert flat.diagnostics["replicate_check_error"] > reps.JACKKNIFE_TOLERANCE


def test_participation_ratio_jackknife_is_exact_from_traces():
    x = _wide(90, 250, seed=6)
    est = _quiet(nc.participation_ratio, _rec(x), n_boot=100)
    assert est.diagnostics["replicates"] == "exact"
    rows = np.r_[9:90]
    ref = np.linalg.eigvalsh(np.cov(x[rows], rowvar=False))
    assert est.diagnostics["jackknife"][0] == pytest.approx(ref.sum() ** 2 / np.sum(ref**2), rel=1e-10)


# --------------------------------------------------------------------------- float32
@pytest.mark.parametrize("d", [1000, 2000, 4608])
def test_float32_relu_activations_never_raise_and_equal_float64(d):
    x = _relu(200, d, seed=d)
    est = _quiet(nc.effective_dimension, _rec(x))  # the default call, interval included
    assert est.ci is not None and est.diagnostics["route"] == "gram"
    x64 = x.astype(np.float64)
    xc = x64 - x64.mean(axis=0)
    lam = np.linalg.eigvalsh(xc @ xc.T)[::-1] / 199.0
    lam = np.where(lam > lam[0] * 1e-10, lam, 0.0)
    ref = effective_dimension_from_eigenvalues(lam, 1.0)
    assert est.value == pytest.approx(ref, rel=1e-6)
    for order in (2, math.inf):
        value = _quiet(nc.effective_dimension, _rec(x), order=order, n_boot=0).value
        assert value == pytest.approx(effective_dimension_from_eigenvalues(lam, order), rel=1e-6)


def test_float32_rounding_is_zero_but_a_non_psd_matrix_raises():
    from neurocomplex.measures.dimension import eigenvalues_from_covariance

    # a float32 low-rank covariance (rank 5 of 300 units, from 400 samples): rounding negatives are 0
    rng = np.random.default_rng(7)
    x = (rng.standard_normal((400, 5), dtype=np.float32) @ rng.standard_normal((5, 300), dtype=np.float32))
    est = _quiet(nc.effective_dimension, _rec(x), n_boot=20)
    assert est.diagnostics["rank"] == 5 and 1 <= est.value <= 5
    # genuinely non-PSD matrices still raise, in either precision
    for bad in (np.diag([1.0, 0.5, -0.1]), np.diag([1.0, 0.5, -1e-3]).astype(np.float32)):
        with pytest.raises(nc.InvalidDataError, match="not positive semi-definite"):
            eigenvalues_from_covariance(bad)
    # a float32 matrix's own rounding (10 sqrt(d) eps) is not an error; float64 keeps the 1e-6 floor
    assert eigenvalues_from_covariance(np.diag([1.0, 0.5, -2e-6]).astype(np.float32))[-1] == 0.0
    with pytest.raises(nc.InvalidDataError):
        eigenvalues_from_covariance(np.diag([1.0, 0.5, -2e-6]))


# --------------------------------------------------------------------------- known answer
def test_prescribed_sample_spectrum_gives_the_exact_dimension():
    # X = U diag(sqrt(s)) Vᵀ with orthonormal, centred U (n × r) and orthonormal V (d × r): the
    # sample covariance has eigenvalues s / (n − 1) exactly, whatever the route
    rng = np.random.default_rng(8)
    n, d, r = 120, 900, 40
    u, _ = np.linalg.qr(np.hstack([np.ones((n, 1)), rng.normal(size=(n, r))]))
    u = u[:, 1:]  # orthogonal to the all-ones vector: centred columns
    v, _ = np.linalg.qr(rng.normal(size=(d, r)))
    s = np.arange(1, r + 1) ** -1.5
    x = (u * np.sqrt(s)) @ v.T + 5.0
    for order in (1, 2, 0.5, math.inf):
        est = _quiet(nc.effective_dimension, _rec(x), order=order, n_boot=0)
        assert est.value == pytest.approx(effective_dimension_from_eigenvalues(s, order), rel=1e-9)
        assert est.diagnostics["rank"] == r
    est32 = _quiet(nc.effective_dimension, _rec(x.astype(np.float32)), n_boot=0)
    assert est32.value == pytest.approx(effective_dimension_from_eigenvalues(s, 1), rel=1e-5)


def test_standardize_uses_the_correlation_spectrum():
    x = _wide(70, 160, seed=9) * np.linspace(0.5, 4.0, 160)
    x[:, 7] = 3.0  # a constant unit is left out, with a warning
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*samples for 160 units", category=nc.NeurocomplexWarning)
        with pytest.warns(nc.NeurocomplexWarning, match="1 constant unit"):
            est = nc.effective_dimension(_rec(x), standardize=True, n_boot=20)
    keep = np.ones(160, bool)
    keep[7] = False
    ref = np.linalg.eigvalsh(np.corrcoef(x[:, keep], rowvar=False))
    lam = denoise_eigenvalues(np.clip(ref[::-1], 0, None), 160, np.dtype(np.float64))[0]
    assert est.value == pytest.approx(effective_dimension_from_eigenvalues(lam, 1), rel=1e-10)
    assert est.diagnostics["eigenvalues"].size == 159 and est.ci is not None


# --------------------------------------------------------------------------- spectrum exponent
@pytest.mark.parametrize("cross", [False, True])
def test_spectrum_exponent_on_wide_data_equals_the_covariance_route(cross):
    rng = np.random.default_rng(10)
    x = _wide(100, 240, seed=10, spectrum_fn=lambda d: np.arange(1, d + 1) ** -1.0)
    y = x + 0.2 * rng.normal(size=x.shape)
    arrays = (x, y) if cross else (x,)
    wide = spectrum._wide_route(arrays, 240, cross, 30, None, 16384, None)  # float64 data: float64 floors
    cov = spectrum._covariance_route(arrays, 240, cross, 30, wide[3], 16384, None)
    top = wide[0][0]
    np.testing.assert_allclose(wide[0][:99], cov[0][:99], rtol=1e-9, atol=1e-11 * top)
    assert wide[1] == cov[1] == 99
    for a, b in zip(wide[2], cov[2], strict=True):  # the same groups: the same replicate spectra
        np.testing.assert_allclose(a[:60], b[:60], rtol=1e-8, atol=1e-10 * top)
    est = nc.spectrum_exponent(_rec(x), repeat=_rec(y) if cross else None, n_boot=30, seed=5)
    assert est.diagnostics["route"] == "gram" and est.ci is not None
    lo, hi = est.params["rank_range"]
    assert est.value == pytest.approx(spectrum._fit_loglog(cov[0], lo, hi)[0], rel=1e-9)


# --------------------------------------------------------------------------- device
def test_device_path_equals_numpy_on_wide_data():
    pytest.importorskip("torch")
    for dtype, tol in ((np.float64, 1e-10), (np.float32, 1e-5)):
        x = _wide(90, 260, seed=11, dtype=dtype)
        for kw in ({"order": 1}, {"order": 2}, {"standardize": True}):
            ref = _quiet(nc.effective_dimension, _rec(x), n_boot=100, **kw)
            dev = _quiet(nc.effective_dimension, _rec(x), n_boot=100, device="cpu", **kw)
            assert dev.value == pytest.approx(ref.value, rel=tol)
            np.testing.assert_allclose(dev.diagnostics["jackknife"], ref.diagnostics["jackknife"], rtol=tol)
            assert dev.ci == pytest.approx(ref.ci, rel=tol)
            assert dev.params["device"] == "cpu" and dev.diagnostics["route"] == "gram"
        y = (x + np.random.default_rng(12).normal(size=x.shape) * 0.3).astype(dtype)
        for repeat in (None, _rec(y)):
            ref = _quiet(nc.spectrum_exponent, _rec(x), repeat=repeat, n_boot=20, seed=4)
            dev = _quiet(nc.spectrum_exponent, _rec(x), repeat=repeat, n_boot=20, seed=4, device="cpu")
            assert dev.value == pytest.approx(ref.value, rel=tol * 10)
            assert dev.ci == pytest.approx(ref.ci, rel=tol * 10)
