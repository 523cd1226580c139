"""Effective dimension, participation ratio, spectrum exponent and TwoNN against analytic truth,
scikit-learn and scikit-dimension."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest
from scipy import integrate

import neurocomplex as nc
from neurocomplex.measures.dimension import effective_dimension_from_eigenvalues, eigenvalues_from_covariance


def _gaussian(spectrum: np.ndarray, n_samples: int, seed: int, dtype=np.float64) -> np.ndarray:
    """Gaussian samples whose covariance has eigenvalues ``spectrum``, in a random rotated basis."""
    rng = np.random.default_rng(seed)
    d = spectrum.size
    q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    return ((rng.normal(size=(n_samples, d)) * np.sqrt(spectrum)) @ q.T).astype(dtype)


def _rec(x: np.ndarray) -> nc.Recording:
    return nc.Recording.from_array(x)


# --------------------------------------------------------------------------- the pure formula
def test_formula_on_hand_spectra():
    for order in (0.5, 1, 2, 3, math.inf):
        assert effective_dimension_from_eigenvalues(np.full(7, 2.5), order) == pytest.approx(7.0, rel=1e-12)
    lam = np.array([3.0, 1.0])
    p = lam / lam.sum()
    assert effective_dimension_from_eigenvalues(lam, 1) == pytest.approx(math.exp(-(p * np.log(p)).sum()))
    assert effective_dimension_from_eigenvalues(lam, 2) == pytest.approx(1.6)  # (3+1)^2 / (9+1)
    assert effective_dimension_from_eigenvalues(lam, 3) == pytest.approx((p**3).sum() ** (-1 / 2))
    assert effective_dimension_from_eigenvalues(lam, math.inf) == pytest.approx(4 / 3)
    # orders approach the limits continuously; large orders do not overflow
    assert effective_dimension_from_eigenvalues(lam, 1 + 1e-7) == pytest.approx(
        effective_dimension_from_eigenvalues(lam, 1), rel=1e-6)
    assert effective_dimension_from_eigenvalues(lam, 1e6) == pytest.approx(4 / 3, rel=1e-5)
    assert effective_dimension_from_eigenvalues([5.0, 0.0, -1e-12], 1) == 1.0


def test_formula_errors():
    with pytest.raises(nc.InvalidParameterError):
        effective_dimension_from_eigenvalues([1.0, 2.0], -1)
    with pytest.raises(nc.InvalidParameterError):
        effective_dimension_from_eigenvalues([1.0, 2.0], "x")
    with pytest.raises(nc.InvalidDataError, match="negative"):
        effective_dimension_from_eigenvalues([1.0, -0.5], 1)
    with pytest.raises(nc.InsufficientDataError):
        effective_dimension_from_eigenvalues([0.0, 0.0], 1)
    with pytest.raises(nc.InvalidDataError):
        eigenvalues_from_covariance(np.ones((2, 3)))
    with pytest.raises(nc.InvalidDataError, match="semi-definite"):
        eigenvalues_from_covariance(np.array([[1.0, 0.0], [0.0, -1.0]]))


# --------------------------------------------------------------------------- convergence and bias
def test_sample_estimate_converges_to_population_value():
    # Exponential spectrum (scale 10 ranks): participation ratio 20 << n_samples, so the
    # Marchenko-Pastur bias, about -PR/n_samples = -0.5 %, and the sampling spread (sd 0.3 %
    # for orders 1-3, 1.3 % for order inf, measured over 10 draws) are both well inside 2 %.
    d = 200
    spectrum = np.exp(-np.arange(d) / 10.0)
    errors: dict[float, list[float]] = {o: [] for o in (1, 2, 3, math.inf)}
    for seed in range(3):
        rec = _rec(_gaussian(spectrum, 20 * d, seed))
        for order in errors:
            true = effective_dimension_from_eigenvalues(spectrum, order)
            errors[order].append(nc.effective_dimension(rec, order=order, n_boot=0).value / true - 1)
    for order in (1, 2, 3):
        assert max(abs(e) for e in errors[order]) < 0.02, (order, errors[order])
    assert abs(np.mean(errors[math.inf])) < 0.02, errors[math.inf]


def test_flat_spectrum_bias_matches_marchenko_pastur():
    # For a flat spectrum the sample eigenvalues follow Marchenko-Pastur with ratio g = d / n:
    # E[PR] / d = 1 / (1 + g) and D_1 / d = exp(-E[x log x]); the estimator shows exactly that bias.
    d, n = 200, 4000
    g = d / n
    a, b = (1 - math.sqrt(g)) ** 2, (1 + math.sqrt(g)) ** 2

    def density(x):
        return math.sqrt((b - x) * (x - a)) / (2 * math.pi * g * x)

    xlogx = integrate.quad(lambda x: x * math.log(x) * density(x), a, b)[0]
    rec = _rec(_gaussian(np.ones(d), n, seed=1))
    assert nc.effective_dimension(rec, order=2, n_boot=0).value / d == pytest.approx(1 / (1 + g), abs=0.005)
    assert nc.effective_dimension(rec, order=1, n_boot=0).value / d == pytest.approx(math.exp(-xlogx), abs=0.005)


# --------------------------------------------------------------------------- invariances and bounds
def test_invariances_exact():
    rng = np.random.default_rng(3)
    x = _gaussian(np.exp(-np.arange(12) / 3.0), 500, seed=3)
    q, _ = np.linalg.qr(rng.normal(size=(12, 12)))
    perm = rng.permutation(12)
    for order in (1, 2, math.inf):
        base = nc.effective_dimension(_rec(x), order=order, n_boot=0).value
        for other in (x[:, perm], x @ q, 37.5 * x, x + 1e3):
            value = nc.effective_dimension(_rec(other), order=order, n_boot=0).value
            assert value == pytest.approx(base, rel=1e-10, abs=0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_bounds_and_rank(dtype):
    rng = np.random.default_rng(4)
    full = rng.normal(size=(300, 20)).astype(dtype)
    low_rank = (rng.normal(size=(300, 5)) @ rng.normal(size=(5, 20))).astype(dtype) + 2
    rank_one = np.outer(rng.normal(size=300), rng.normal(size=20)).astype(dtype)
    for x, rank in ((full, 20), (low_rank, 5), (rank_one, 1)):
        for order in (0.5, 1, 2, 4, math.inf):
            est = nc.effective_dimension(_rec(x), order=order, n_boot=0)
            assert est.diagnostics["rank"] == rank
            assert 1.0 <= est.value <= rank
            if rank == 1:
                assert est.value == 1.0
    # fewer samples than units: bounded by n_samples - 1, with a warning
    with pytest.warns(nc.NeurocomplexWarning, match="rank at most 9"):
        est = nc.effective_dimension(_rec(full[:10]), n_boot=0)
    assert est.diagnostics["rank"] == 9 and est.value <= 9


def test_eigenvalues_agree_with_sklearn_and_numpy():
    from sklearn.decomposition import PCA

    x = _gaussian(np.arange(1, 31) ** -1.0, 2000, seed=5) + 5.0
    est = nc.effective_dimension(_rec(x), n_boot=0, chunk_rows=77)  # many uneven chunks
    ref = PCA().fit(x).explained_variance_
    np.testing.assert_allclose(est.diagnostics["eigenvalues"], ref, rtol=1e-6)
    np.testing.assert_allclose(est.diagnostics["eigenvalues"], np.linalg.eigvalsh(np.cov(x, rowvar=False))[::-1],
                               rtol=1e-9)
    assert est.diagnostics["p"].sum() == pytest.approx(1.0)
    # the bootstrap path merges per-block statistics instead: same value
    with_boot = nc.effective_dimension(_rec(x), n_boot=5, chunk_rows=77)
    assert with_boot.value == pytest.approx(est.value, rel=1e-12)
    # float32 data go through a float32 GEMM: eigenvalues to float32 accuracy
    est32 = nc.effective_dimension(_rec(x.astype(np.float32)), n_boot=0)
    np.testing.assert_allclose(est32.diagnostics["eigenvalues"], est.diagnostics["eigenvalues"], rtol=1e-4)


def test_spike_counts_and_participation_ratio():
    rng = np.random.default_rng(6)
    counts = rng.poisson(np.exp(rng.normal(size=(2000, 1)) @ rng.normal(size=(1, 8)) * 0.5), size=(2000, 8))
    rec = nc.Recording.from_array(counts, kind="spike_counts")
    pr = nc.participation_ratio(rec, n_boot=0)
    lam = np.linalg.eigvalsh(np.cov(counts.astype(float), rowvar=False))
    assert pr.value == pytest.approx(lam.sum() ** 2 / (lam**2).sum(), rel=1e-10)
    assert pr.value == nc.effective_dimension(rec, order=2, n_boot=0).value
    assert pr.method == "participation_ratio"


def test_standardize_uses_correlation_matrix_and_drops_constant_units():
    rng = np.random.default_rng(7)
    x = _gaussian(np.exp(-np.arange(6) / 2.0), 1000, seed=7) * rng.uniform(0.1, 10, size=6)
    est = nc.effective_dimension(_rec(x), standardize=True, n_boot=0)
    lam = np.linalg.eigvalsh(np.corrcoef(x, rowvar=False))
    assert est.value == pytest.approx(effective_dimension_from_eigenvalues(lam, 1), rel=1e-10)
    with_constant = np.hstack([x, np.full((1000, 1), 3.0)])
    with pytest.warns(nc.NeurocomplexWarning, match="1 constant unit"):
        est_c = nc.effective_dimension(_rec(with_constant), standardize=True, n_boot=0)
    assert est_c.value == pytest.approx(est.value, rel=1e-10)
    assert est_c.diagnostics["units_used"].tolist() == [0, 1, 2, 3, 4, 5]


@pytest.mark.parametrize("replicates", ["perturbative", "exact"])
def test_bootstrap_interval_covers_population_value(replicates, monkeypatch):
    # the same coverage whether the replicates come from the second-order expansion or from one
    # eigendecomposition each (20 samples per unit: "auto" would use exact replicates here)
    from neurocomplex.measures import dimension

    monkeypatch.setattr(dimension, "_REPLICATES", replicates)
    d, n = 50, 1000
    spectrum = np.exp(-np.arange(d) / 5.0)
    true = effective_dimension_from_eigenvalues(spectrum, 1)
    hits = 0
    for seed in range(5):
        est = nc.effective_dimension(_rec(_gaussian(spectrum, n, seed + 10)), n_boot=60, seed=seed)
        assert est.diagnostics["replicates"] == replicates
        low, high = est.ci
        assert low < est.value < high
        hits += low <= true <= high
    assert hits >= 4
    # deterministic for a seed; an explicit block size works
    rec = _rec(_gaussian(spectrum, n, 0))
    assert nc.effective_dimension(rec, n_boot=20, seed=3).ci == nc.effective_dimension(rec, n_boot=20, seed=3).ci
    assert nc.effective_dimension(rec, n_boot=20, block_size=50).diagnostics["bootstrap"].size == 20


def test_effective_dimension_errors():
    rng = np.random.default_rng(8)
    rec = _rec(rng.normal(size=(50, 4)))
    for bad in ({"order": -1}, {"order": "x"}, {"order": float("nan")}, {"n_boot": -1}, {"ci_level": 1.5},
                {"block_size": 0}, {"block_size": 50}, {"chunk_rows": 0}, {"standardize": "yes"}):
        with pytest.raises(nc.InvalidParameterError):
            nc.effective_dimension(rec, **bad)
    with pytest.raises(nc.InsufficientDataError, match="constant"):
        nc.effective_dimension(_rec(np.ones((50, 4))))
    with pytest.raises(nc.InsufficientDataError):
        nc.effective_dimension(_rec(np.ones((1, 4))))
    with pytest.raises(nc.InvalidParameterError, match="Recording"):
        nc.effective_dimension(rng.normal(size=(50, 4)))


# --------------------------------------------------------------------------- spectrum exponent
@pytest.mark.parametrize("alpha", [1.0, 2.0])
def test_spectrum_exponent_recovers_power_law(alpha):
    # ranks 2..50 of 100 units, 5,000 samples: measured errors <= 0.011 over 3 draws
    spectrum = np.arange(1, 101) ** -alpha
    est = nc.spectrum_exponent(_rec(_gaussian(spectrum, 5000, seed=int(alpha))), n_boot=20)
    assert est.value == pytest.approx(alpha, abs=0.02)
    assert est.diagnostics["rank_range"] == (2, 50)
    assert est.diagnostics["r_squared"] > 0.999
    assert est.ci[0] < est.value < est.ci[1]


def test_spectrum_exponent_interval_is_the_grouped_jackknife_of_refits():
    # Each replicate leaves out one of 10 groups of consecutive rows (the remainder rows stay) and
    # refits the same ranks: the same numbers as refitting on the rows kept, and t_9 * se around α.
    from scipy import stats

    from neurocomplex.measures.spectrum import _fit_loglog

    x = _gaussian(np.arange(1, 31) ** -1.0, 1005, seed=31)
    est = nc.spectrum_exponent(_rec(x))
    lo, hi = est.diagnostics["rank_range"]
    reps = []
    for g in range(10):
        kept = np.delete(x, np.arange(100 * g, 100 * (g + 1)), axis=0)
        lam = np.linalg.eigvalsh(np.cov(kept, rowvar=False))[::-1]
        reps.append(_fit_loglog(lam, lo, hi)[0])
    np.testing.assert_allclose(est.diagnostics["jackknife"], reps, rtol=1e-9)
    se = np.sqrt(0.9 * np.sum((np.array(reps) - np.mean(reps)) ** 2))
    half = stats.t.ppf(0.975, 9) * se
    assert est.ci == pytest.approx((est.value - half, est.value + half), rel=1e-9)
    assert est.diagnostics["interval"] == "jackknife" and est.diagnostics["jackknife_se"] == pytest.approx(se)


@pytest.mark.parametrize(("n", "d"), [(1000, 300), (300, 1000)])
def test_spectrum_exponent_interval_covers_its_expectation_with_few_samples_per_unit(n, d):
    # A block bootstrap covered the mean estimate in none of 20 draws here (its replicates repeat
    # samples, which steepens or flattens the fitted tail): it missed even its own estimate.
    values, intervals = [], []
    for seed in range(12):
        est = nc.spectrum_exponent(_rec(_gaussian(np.arange(1, d + 1) ** -1.0, n, seed=100 + seed)))
        values.append(est.value)
        intervals.append(est.ci)
    lo, hi = np.array(intervals).T
    assert np.all((lo < values) & (np.array(values) < hi))
    assert np.mean((lo <= np.mean(values)) & (np.mean(values) <= hi)) >= 9 / 12


def test_cross_validated_pca_removes_independent_noise():
    rng = np.random.default_rng(9)
    d, n = 100, 4000
    signal = _gaussian(np.arange(1, d + 1) ** -1.0, n, seed=9)
    # noise variance 0.09 per unit swamps signal eigenvalues beyond rank ~11
    x1 = signal + 0.3 * rng.normal(size=(n, d))
    x2 = signal + 0.3 * rng.normal(size=(n, d))
    plain = nc.spectrum_exponent(_rec(x1), n_boot=0)
    cv = nc.spectrum_exponent(_rec(x1), repeat=_rec(x2), n_boot=10)
    assert plain.value < 0.6  # the noise floor flattens the spectrum
    assert cv.value == pytest.approx(1.0, abs=0.05)
    assert cv.method == "cvpca_power_law" and cv.ci is not None
    # cvPCA eigenvalues are u^T C12 u with u the eigenvectors of the first repeat
    c = np.cov(np.hstack([x1, x2]), rowvar=False)
    _, u = np.linalg.eigh(c[:d, :d])
    u = u[:, ::-1]
    np.testing.assert_allclose(cv.diagnostics["eigenvalues"][:20], np.diag(u.T @ c[:d, d:] @ u)[:20], rtol=1e-8)


def test_spectrum_exponent_rank_range_and_errors():
    x = _gaussian(np.arange(1, 21) ** -1.0, 2000, seed=11)
    est = nc.spectrum_exponent(_rec(x), rank_range=(1, 15), n_boot=0)
    lam = est.diagnostics["eigenvalues"][:15]
    slope = np.polyfit(np.log(np.arange(1, 16)), np.log(lam), 1)[0]
    assert est.value == pytest.approx(-slope, rel=1e-10)
    for bad in ({"rank_range": (0, 3)}, {"rank_range": (3, 4)}, {"rank_range": (1, 21)}, {"rank_range": "x"},
                {"repeat": "x"}, {"repeat": _rec(x[:100])}):
        with pytest.raises(nc.InvalidParameterError):
            nc.spectrum_exponent(_rec(x), n_boot=0, **bad)
    rank_two = _rec(np.outer(np.arange(100.0), np.ones(6)) + np.outer(np.sin(np.arange(100.0)), np.arange(6.0)))
    with pytest.raises(nc.InsufficientDataError):
        nc.spectrum_exponent(rank_two, n_boot=0)
    with pytest.raises(nc.InsufficientDataError):
        nc.spectrum_exponent(rank_two, rank_range=(1, 4), n_boot=0)


# --------------------------------------------------------------------------- TwoNN
def _embed(points: np.ndarray, ambient: int, rng: np.random.Generator) -> np.ndarray:
    q, _ = np.linalg.qr(rng.normal(size=(ambient, ambient)))
    return np.hstack([points, np.zeros((points.shape[0], ambient - points.shape[1]))]) @ q.T


def test_twonn_agrees_with_scikit_dimension():
    skdim = pytest.importorskip("skdim")
    rng = np.random.default_rng(12)
    for x in (rng.normal(size=(1500, 3)), _embed(rng.uniform(size=(1500, 4)), 30, rng)):
        for fraction in (0.1, 0.3):
            ours = nc.twonn_dimension(_rec(x), discard_fraction=fraction, n_boot=0).value
            ref = skdim.id.TwoNN(discard_fraction=fraction).fit(x).dimension_
            assert ours == pytest.approx(ref, rel=1e-6)


def test_twonn_recovers_manifold_dimensions():
    # Spreads measured over 8 draws: sphere and swiss roll sd 1.2-1.5 % (10,000 points),
    # 5-D Gaussian sd 0.9 % (5,000 points): 5 % is over 3 sd from the truth.
    from sklearn.datasets import make_swiss_roll

    rng = np.random.default_rng(13)
    v = rng.normal(size=(10000, 3))
    sphere = _embed(v / np.linalg.norm(v, axis=1, keepdims=True), 10, rng)
    roll, _ = make_swiss_roll(10000, random_state=13)
    linear = _embed(rng.normal(size=(5000, 5)), 50, rng)
    for x, dim in ((sphere, 2), (roll, 2), (linear, 5)):
        est = nc.twonn_dimension(_rec(x), n_boot=30)
        assert est.value == pytest.approx(dim, rel=0.05)
        assert est.ci[0] < est.value < est.ci[1]
        assert est.diagnostics["mle"] == pytest.approx(dim, rel=0.05)


def test_twonn_removes_duplicates_with_warning():
    rng = np.random.default_rng(14)
    x = rng.normal(size=(400, 3))
    doubled = np.vstack([x, x[:25], -0.0 * x[:1] + x[:1]])
    with pytest.warns(nc.NeurocomplexWarning, match="26 duplicate"):
        est = nc.twonn_dimension(_rec(doubled), n_boot=0)
    assert est.diagnostics["n_duplicates"] == 26
    assert "26 duplicate" in est.warnings[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert est.value == nc.twonn_dimension(_rec(x), n_boot=0).value


def test_twonn_errors():
    rec = _rec(np.random.default_rng(15).normal(size=(100, 3)))
    for bad in ({"discard_fraction": 1.5}, {"discard_fraction": 1.0}, {"discard_fraction": -0.1},
                {"discard_fraction": "x"}, {"n_boot": -1}):
        with pytest.raises(nc.InvalidParameterError):
            nc.twonn_dimension(rec, **bad)
    with pytest.raises(nc.InsufficientDataError, match="2 distinct point"):
        nc.twonn_dimension(_rec(np.vstack([np.zeros((50, 2)), np.ones((50, 2))])))
    lattice = np.stack(np.meshgrid(np.arange(10.0), np.arange(10.0)), -1).reshape(-1, 2)
    with pytest.raises(nc.InsufficientDataError, match="lattice"):
        nc.twonn_dimension(_rec(lattice))


def test_constant_data_with_rounding_mean_is_insufficient():
    # a float64 constant column's mean can round, leaving a variance of ~1e-34 rather than 0
    x = np.full((300, 3), 0.1) + np.array([0.0, 1e-3, 7.0])
    for func in (nc.effective_dimension, nc.spectrum_exponent):
        with pytest.raises(nc.InsufficientDataError, match="constant"):
            func(_rec(x), n_boot=0)
        with pytest.raises(nc.InsufficientDataError, match="constant"):
            func(_rec(x), n_boot=5)


# --------------------------------------------------------------------------- from block statistics
def test_effective_dimension_from_blocks_matches_the_concatenated_samples():
    from neurocomplex.measures.dimension import effective_dimension_from_blocks
    from neurocomplex.stats import covariance_from_array

    x = _gaussian(np.exp(-np.arange(20) / 4.0), 3000, seed=21) + 2.0
    edges = [0, 250, 900, 1000, 1700, 2400, 3000]  # unequal blocks
    parts = [covariance_from_array(x[a:b]) for a, b in itertools.pairwise(edges)]
    for order in (1, 2, math.inf):
        est = effective_dimension_from_blocks(parts, order=order, n_boot=40, seed=1)
        ref = nc.effective_dimension(_rec(x), order=order, n_boot=0)
        assert est.value == pytest.approx(ref.value, rel=1e-10)
        np.testing.assert_allclose(est.diagnostics["eigenvalues"], ref.diagnostics["eigenvalues"], rtol=1e-9)
        assert est.n_samples == 3000 and est.params["n_blocks"] == 6
        assert est.ci[0] <= est.value <= est.ci[1]
        assert est.diagnostics["bootstrap"].size == 40
    # equal blocks drawn with replacement: the same replicates as the estimator's own block bootstrap
    equal = [covariance_from_array(x[i : i + 300]) for i in range(0, 3000, 300)]
    own = nc.effective_dimension(_rec(x), n_boot=30, seed=4, block_size=300)
    given = effective_dimension_from_blocks(equal, n_boot=30, seed=4)
    np.testing.assert_allclose(given.diagnostics["bootstrap"], own.diagnostics["bootstrap"], rtol=1e-9)
    assert given.ci == pytest.approx(own.ci, rel=1e-9)
    pr = effective_dimension_from_blocks(equal, order=2, n_boot=0)
    assert pr.value == pytest.approx(nc.participation_ratio(_rec(x), n_boot=0).value, rel=1e-10) and pr.ci is None
    std = effective_dimension_from_blocks(equal, standardize=True, n_boot=0)
    assert std.value == pytest.approx(nc.effective_dimension(_rec(x), standardize=True, n_boot=0).value, rel=1e-10)


def test_effective_dimension_from_blocks_errors():
    from neurocomplex.measures.dimension import effective_dimension_from_blocks
    from neurocomplex.stats import CovarianceAccumulator, covariance_from_array

    x = np.random.default_rng(22).normal(size=(100, 3))
    parts = [covariance_from_array(x[:50]), covariance_from_array(x[50:])]
    for bad in ([], [np.eye(3)], [parts[0], covariance_from_array(x[:, :2])], 3):
        with pytest.raises(nc.InvalidParameterError):
            effective_dimension_from_blocks(bad)
    with pytest.raises(nc.InvalidParameterError, match="several"):
        effective_dimension_from_blocks([parts[0], CovarianceAccumulator(3)])
    for bad_kw in ({"order": -1}, {"n_boot": -1}, {"ci_level": 2.0}, {"standardize": 1}, {"dtype": "nope"}):
        with pytest.raises(nc.InvalidParameterError):
            effective_dimension_from_blocks(parts, **bad_kw)
    with pytest.raises(nc.InsufficientDataError):
        effective_dimension_from_blocks([covariance_from_array(x[:1])], n_boot=0)


# --------------------------------------------------------------------------- perturbative replicates
def _both(x: np.ndarray, monkeypatch, mode: str = "perturbative", **kw):
    from neurocomplex.measures import dimension

    monkeypatch.setattr(dimension, "_REPLICATES", mode)
    fast = nc.effective_dimension(_rec(x), **kw)
    monkeypatch.setattr(dimension, "_REPLICATES", "exact")
    exact = nc.effective_dimension(_rec(x), **kw)
    monkeypatch.setattr(dimension, "_REPLICATES", "auto")
    return fast, exact


@pytest.mark.parametrize("order", [1, 2, 3, 0.5])
@pytest.mark.parametrize("case", ["decaying", "power_law", "flat", "float32_offset", "float32_panels"])
def test_perturbative_replicates_match_exact_ones(order, case, monkeypatch):
    # Measured over these cases: the second-order replicates differ from exact eigendecompositions
    # by at most 0.06 of the replicates' sd (first order alone: up to 9 sd on a flat spectrum,
    # which has no eigengap at all); the intervals agree to a few % of their width.
    spectra = {"decaying": (np.exp(-np.arange(50) / 5.0), 1000, np.float64, 0.0),
               "power_law": (np.arange(1, 41) ** -1.0, 4000, np.float64, 0.0),
               "flat": (np.ones(40), 8000, np.float64, 0.0),
               "float32_offset": (np.arange(1, 41) ** -1.0, 4000, np.float32, 2.0),
               # 150 units: three row panels of the projected blocks, the last one partial; a mean
               # small enough for the raw (uncentred) float32 block products, so the rank-2 mean
               # correction is exercised
               "float32_panels": (np.arange(1, 151) ** -1.0, 15000, np.float32, 0.2)}
    spectrum, n, dtype, offset = spectra[case]
    x = (_gaussian(spectrum, n, seed=31) + offset).astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nc.NeurocomplexWarning)
        fast, exact = _both(x, monkeypatch, order=order, n_boot=40, seed=2)
    assert fast.value == pytest.approx(exact.value, rel=1e-12)  # eigh against eigvalsh: rounding only
    a, e = fast.diagnostics["bootstrap"], exact.diagnostics["bootstrap"]
    if order == 2:  # traces and Frobenius norms: exact, no expansion and no check needed
        assert fast.diagnostics["replicates"] == "exact" and "replicate_check_error" not in fast.diagnostics
        np.testing.assert_allclose(a, e, rtol=1e-6 if dtype == np.float32 else 1e-12)
        assert fast.ci == pytest.approx(exact.ci, rel=1e-6 if dtype == np.float32 else 1e-12)
        return
    assert fast.diagnostics["replicates"] == "perturbative" and exact.diagnostics["replicates"] == "exact"
    assert np.max(np.abs(a - e)) <= 0.1 * e.std(), (np.max(np.abs(a - e)) / e.std())
    width = exact.ci[1] - exact.ci[0]
    assert fast.ci == pytest.approx(exact.ci, abs=0.05 * width)
    # the first two replicates are computed exactly as a check
    np.testing.assert_allclose(a[:2], e[:2], rtol=1e-9)
    assert fast.diagnostics["replicate_check_error"] <= 0.1


def test_perturbative_bootstrap_at_ten_samples_per_unit(monkeypatch):
    # 10 samples per unit (the fewest the bootstrap takes): the expansion's replicates (checked on
    # two exact ones) stay within the check's tolerance of exact eigendecompositions, and the
    # interval's ends within 5 % of its width
    few = _gaussian(np.exp(-np.arange(80) / 8.0), 800, seed=34)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nc.NeurocomplexWarning)
        fast, exact = _both(few, monkeypatch, mode="auto", n_boot=40)
    assert fast.diagnostics["replicates"] == "perturbative" and fast.diagnostics["interval"] == "basic"
    e = exact.diagnostics["bootstrap"]
    errors = np.abs(fast.diagnostics["bootstrap"] - e) / e.std()
    assert errors.max() <= 0.25 and np.sqrt(np.mean(errors**2)) <= 0.1
    assert fast.ci == pytest.approx(exact.ci, abs=0.05 * (exact.ci[1] - exact.ci[0]))


def test_below_ten_samples_per_unit_the_interval_is_a_grouped_jackknife(monkeypatch):
    # 2.5 samples per unit: 10 equal groups of 20 samples (the remainder rows stay in every
    # replicate), each replicate leaves one out; se² = (G − 1)/G Σ (D_(g) − mean)², t quantile
    from scipy import stats

    from neurocomplex.measures import dimension

    x = _gaussian(np.exp(-np.arange(80) / 8.0), 205, seed=35)
    monkeypatch.setattr(dimension, "_REPLICATES", "exact")
    est = nc.effective_dimension(_rec(x), n_boot=100)
    assert est.diagnostics["interval"] == "jackknife" and est.params["block_size"] == 20
    jack = est.diagnostics["jackknife"]
    assert jack.size == 10 and est.diagnostics["bootstrap"].size == 0
    for g in (0, 9):  # each replicate is D of the data without its group
        rows = np.r_[0 : 20 * g, 20 * (g + 1) : 205]
        assert jack[g] == pytest.approx(nc.effective_dimension(_rec(x[rows]), n_boot=0).value, rel=1e-10)
    se = math.sqrt(9 / 10 * np.sum((jack - jack.mean()) ** 2))
    half = stats.t.ppf(0.975, 9) * se
    assert est.ci == pytest.approx((est.value - half, est.value + half), rel=1e-12)
    assert est.diagnostics["bias"] == pytest.approx(9 * (jack.mean() - est.value), rel=1e-12)
    # the expansion gives the same interval (its errors are mostly common to all replicates)
    monkeypatch.setattr(dimension, "_REPLICATES", "auto")
    fast = nc.effective_dimension(_rec(x), n_boot=100)
    assert fast.diagnostics["replicates"] == "perturbative"
    assert fast.diagnostics["jackknife_se"] == pytest.approx(est.diagnostics["jackknife_se"], rel=0.1)


def test_first_order_alone_would_be_biased_on_a_flat_spectrum():
    # Schur concavity: the diagonal of a symmetric matrix is majorised by its eigenvalues, so
    # D(diagonal) >= D(eigenvalues); on a flat spectrum that bias is several bootstrap sd, which is
    # why the second-order term is kept.
    from neurocomplex.measures import _spectral_bootstrap as sb
    from neurocomplex.measures.dimension import _draws, _exact_replicate, _read_blocks

    x = _gaussian(np.ones(60), 6000, seed=32)
    blocks = _read_blocks((x,), 60, 16384)
    lam, vecs = np.linalg.eigh(blocks.total)
    draws = _draws(100, 30, 0)
    second = sb.perturbative_dimensions(blocks.counts, blocks.means, blocks.centres, blocks.grams, lam, vecs, draws, 1.0)
    keep = np.ones(60, bool)
    exact = np.array([_exact_replicate(blocks, w, keep, False, 1.0, 60, np.dtype(np.float64)) for w in draws])
    diag = []
    for w in draws:
        _, scatter = blocks.merged(w)
        diag.append(effective_dimension_from_eigenvalues(np.diag(vecs.T @ scatter @ vecs), 1.0))
    assert np.all(np.array(diag) >= exact - 1e-9)
    assert np.mean(np.array(diag) - exact) > 3 * exact.std()
    assert np.max(np.abs(second - exact)) < 0.1 * exact.std()


def test_failed_check_falls_back_to_exact_replicates(monkeypatch):
    from neurocomplex.measures import _spectral_bootstrap as sb

    x = _gaussian(np.exp(-np.arange(30) / 5.0), 1500, seed=33)
    monkeypatch.setattr(sb, "CHECK_TOLERANCE", 0.0)  # no perturbative replicate can pass
    fast, exact = _both(x, monkeypatch, n_boot=20)
    assert fast.diagnostics["replicates"] == "exact" and fast.diagnostics["replicate_check_error"] > 0
    # the same replicates; the fallback's are eigendecomposed in the eigenbasis (the projected
    # blocks of tests/measures/test_dimension_projected.py), so equal to rounding
    np.testing.assert_allclose(fast.diagnostics["bootstrap"], exact.diagnostics["bootstrap"], rtol=1e-10)
    # standardize and order inf always use exact replicates
    assert nc.effective_dimension(_rec(x), standardize=True, n_boot=5).diagnostics["replicates"] == "exact"
    assert nc.effective_dimension(_rec(x), order=math.inf, n_boot=5).diagnostics["replicates"] == "exact"


def test_divided_difference_against_derivatives():
    from neurocomplex.measures._spectral_bootstrap import divided_difference

    lam = np.array([3.0, 1.0, 1.0 + 1e-12, 0.2])
    for order, fprime in ((1.0, np.log), (2.0, lambda v: 2 * v), (3.0, lambda v: 3 * v**2), (0.5, lambda v: 0.5 / np.sqrt(v))):
        dd = divided_difference(lam, order)
        assert dd[0, 3] == pytest.approx((fprime(3.0) - fprime(0.2)) / 2.8, rel=1e-12)
        assert dd[3, 0] == pytest.approx(dd[0, 3], rel=1e-14) and dd[0, 0] == 0.0
        # equal eigenvalues: the derivative of f', finite (no eigengap needed)
        h = 1e-6
        assert dd[1, 2] == pytest.approx((fprime(1.0 + h) - fprime(1.0 - h)) / (2 * h), rel=1e-6)


# --------------------------------------------------------------------------- neighbour search
def test_gemm_neighbours_equal_the_tree_and_certify_near_ties(monkeypatch):
    from scipy.spatial import cKDTree

    from neurocomplex.measures import twonn
    from neurocomplex.measures.twonn import two_nearest_distances

    rng = np.random.default_rng(40)
    cases = [rng.normal(size=(700, 40)),
             _embed(rng.uniform(size=(600, 3)), 64, rng) + 1e3,  # large offset: rounding of |x|^2
             np.vstack([rng.normal(size=(300, 20)), rng.normal(size=(1, 20)) + np.zeros((1, 20))])]
    # exact near-ties: a point with two neighbours at the same distance, and points on a grid
    grid = np.stack(np.meshgrid(np.arange(6.0), np.arange(6.0), np.arange(3.0)), -1).reshape(-1, 3)
    cases.append(np.hstack([grid, np.zeros((grid.shape[0], 17))]) @ np.linalg.qr(rng.normal(size=(20, 20)))[0])
    cases.append(_far_cluster(rng))
    for x in cases:
        ref, _ = cKDTree(x).query(x, k=3)
        r1, r2 = two_nearest_distances(x, method="gemm")
        np.testing.assert_allclose(r1, ref[:, 1], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(r2, ref[:, 2], rtol=1e-12, atol=1e-12)
    # several tiles (each pair multiplied once, folded into both its rows and its columns)
    monkeypatch.setattr(twonn, "_TILE_ROWS", 97)  # tiles of 97 rows, a ragged last one
    for x in (cases[0], cases[3]):
        ref, _ = cKDTree(x).query(x, k=3)
        r1, r2 = two_nearest_distances(x, method="gemm")
        np.testing.assert_allclose(np.column_stack([r1, r2]), ref[:, 1:], rtol=1e-12, atol=1e-12)
    tiny = rng.normal(size=(3, 30))  # n - 1 = 2 candidates only
    ref, _ = cKDTree(tiny).query(tiny, k=3)
    np.testing.assert_allclose(np.column_stack(two_nearest_distances(tiny, method="gemm")), ref[:, 1:], rtol=1e-12)
    # uncertified rows (ties of spike counts, the grid, the far cluster) searched exactly in
    # batches of a few rows: the float64 products only choose which differences are formed
    counts = rng.poisson(0.5, size=(800, 30)).astype(np.float64)
    monkeypatch.setattr(twonn, "_EXACT_BATCH", 2000)
    for x in (counts, cases[3], cases[4]):
        ref, _ = cKDTree(x).query(x, k=3)
        np.testing.assert_allclose(np.column_stack(two_nearest_distances(x, method="gemm")), ref[:, 1:],
                                   rtol=1e-12, atol=1e-12)


def test_compiled_and_numpy_folds_give_the_same_neighbours(monkeypatch):
    # The compiled fold (large searches, or numba loaded) and the numpy folds keep the same
    # candidates up to float32 ties, which the exact recomputation resolves: identical distances.
    from neurocomplex.measures import twonn
    from neurocomplex.measures._neighbour_kernel import fold_tile

    rng = np.random.default_rng(41)
    grid = np.stack(np.meshgrid(np.arange(6.0), np.arange(6.0), np.arange(3.0)), -1).reshape(-1, 3)
    cases = [rng.normal(size=(700, 40)), rng.poisson(0.5, size=(800, 30)).astype(np.float64), _far_cluster(rng),
             np.hstack([grid, np.zeros((grid.shape[0], 17))]) @ np.linalg.qr(rng.normal(size=(20, 20)))[0]]
    monkeypatch.setattr(twonn, "_TILE_ROWS", 97)  # several tiles, a ragged last one
    for x in cases:
        monkeypatch.setattr(twonn, "_compiled_fold", lambda n: fold_tile)
        compiled = np.column_stack(twonn.two_nearest_distances(x, method="gemm"))
        monkeypatch.setattr(twonn, "_compiled_fold", lambda n: None)
        plain = np.column_stack(twonn.two_nearest_distances(x, method="gemm"))
        np.testing.assert_array_equal(compiled, plain)


def _far_cluster(rng: np.random.Generator) -> np.ndarray:
    """A tight cluster far from the mean: its float32 distances are rounding noise, so its rows
    cannot be certified and must be searched exactly."""
    far = 1e3 * np.eye(1, 40) + 1e-2 * rng.normal(size=(20, 40))
    return np.vstack([rng.normal(size=(500, 40)), far])


def test_integer_points_have_exact_distances_and_their_ties_need_no_exact_search(monkeypatch):
    # Spike counts are integers with many equal distances. Shifted by their rounded mean they stay
    # integers, and below squared norms of 2**22 every float32 distance is exact: every tie
    # certifies, and the row-by-row exact search (a quarter of the rows of 20,000 x 40 counts,
    # which took 113 s at 100,000 x 40) is never entered.
    pytest.importorskip("torch")
    from scipy.spatial import cKDTree

    from neurocomplex._backend import neighbours as _neighbours
    from neurocomplex.measures import twonn

    rng = np.random.default_rng(44)
    latent = np.exp(0.5 * rng.normal(size=(900, 3)) @ rng.normal(size=(3, 30)))
    counts = rng.poisson(0.3 * latent).astype(np.float64)
    cases = [counts, counts + 1000.0, rng.integers(-3, 4, size=(700, 24)).astype(np.float64),
             (rng.random((600, 50)) < 0.2).astype(np.float64)]
    searched: list[int] = []
    exact = twonn._exact_two_nearest

    def spy(x, sq, rows):
        searched.append(rows.size)
        return exact(x, sq, rows)

    monkeypatch.setattr(twonn, "_exact_two_nearest", spy)
    monkeypatch.setattr(twonn, "_TILE_ROWS", 97)  # several tiles, a ragged last one
    for x in cases:
        assert twonn.integer_valued(x)
        ref, _ = cKDTree(x).query(x, k=3)
        for device in (None, "cpu"):
            got = np.column_stack(twonn.two_nearest_distances(x, method="gemm", device=device))
            np.testing.assert_allclose(got, ref[:, 1:], rtol=1e-12, atol=1e-12)
    assert searched == []
    # larger integers: the rounding bound again, and its exact search of the near-ties
    wide = counts * 1000.0
    ref, _ = cKDTree(wide).query(wide, k=3)
    np.testing.assert_allclose(np.column_stack(twonn.two_nearest_distances(wide, method="gemm")), ref[:, 1:],
                               rtol=1e-12)
    assert sum(searched) > 0
    assert not twonn.integer_valued(counts + 0.5)
    monkeypatch.setattr(_neighbours, "_EXACT_SQUARED_NORM", 0.0)  # the device's bound route: same distances
    np.testing.assert_allclose(np.column_stack(twonn.two_nearest_distances(counts, method="gemm", device="cpu")),
                               cKDTree(counts).query(counts, k=3)[0][:, 1:], rtol=1e-12, atol=1e-12)


def test_duplicates_are_removed_before_the_search_as_numpy_unique_finds_them(monkeypatch):
    # A k-d tree cannot split equal points: before, 10^6 x 8 spike counts (92% duplicates) did not
    # finish in minutes; they are removed before any search now.
    from neurocomplex.measures import twonn

    rng = np.random.default_rng(45)
    latent = np.exp(0.5 * rng.normal(size=(20_000, 3)) @ rng.normal(size=(3, 8)))
    counts = rng.poisson(0.5 * latent).astype(np.float64)
    cases = [counts, (rng.random((3000, 40)) < 0.1).astype(np.float64), rng.normal(size=(500, 3)),
             np.vstack([rng.normal(size=(50, 200))] * 3), np.zeros((4, 2))]
    for x in cases:
        expected = np.sort(np.unique(x, axis=0, return_index=True)[1])
        np.testing.assert_array_equal(twonn.first_of_each_row(x), expected)
    # two different rows with the same key: the exact fallback
    monkeypatch.setattr(twonn, "_row_keys", lambda x: np.zeros(x.shape[0], dtype=np.uint64))
    np.testing.assert_array_equal(twonn.first_of_each_row(counts), np.sort(np.unique(counts, axis=0,
                                                                                      return_index=True)[1]))
    monkeypatch.undo()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nc.NeurocomplexWarning)
        big = np.vstack([counts] * 10)  # 200,000 points, 4 in 5 of the distinct ones repeated
        est = nc.twonn_dimension(_rec(big), n_boot=20)
        ref = nc.twonn_dimension(_rec(counts[np.sort(np.unique(counts, axis=0, return_index=True)[1])]), n_boot=20)
    assert est.diagnostics["n_duplicates"] == big.shape[0] - ref.n_samples
    assert est.value == ref.value and est.ci == ref.ci
    with pytest.raises(nc.InsufficientDataError, match="2 distinct point"):
        nc.twonn_dimension(_rec(np.repeat(np.eye(2), 5, axis=0)))


def test_twonn_device_search_equals_the_tree(monkeypatch):
    pytest.importorskip("torch")
    from scipy.spatial import cKDTree

    from neurocomplex._backend import neighbours as _neighbours
    from neurocomplex.measures.twonn import two_nearest_distances

    rng = np.random.default_rng(42)
    grid = np.stack(np.meshgrid(np.arange(6.0), np.arange(6.0), np.arange(3.0)), -1).reshape(-1, 3)
    cases = [rng.normal(size=(700, 40)),
             _embed(rng.uniform(size=(600, 3)), 64, rng) + 1e3,  # large offset: rounding of |x|^2
             # exact ties on a grid: rows the float32 bound cannot certify are searched exactly
             np.hstack([grid, np.zeros((grid.shape[0], 17))]) @ np.linalg.qr(rng.normal(size=(20, 20)))[0],
             rng.normal(size=(3, 30)),  # n - 1 = 2 candidates only, no bound
             _far_cluster(rng)]
    monkeypatch.setattr(_neighbours, "_TILE_BYTES", 4 * 700 * 97)  # tiles of about 97 rows
    for x in cases:
        ref, _ = cKDTree(x).query(x, k=3)
        r1, r2 = two_nearest_distances(x, method="gemm", device="cpu")
        np.testing.assert_allclose(np.column_stack([r1, r2]), ref[:, 1:], rtol=1e-12, atol=1e-12)
    x = _embed(rng.normal(size=(1500, 6)), 80, rng) + 0.01 * rng.normal(size=(1500, 80))
    x[7] = x[3]  # a duplicate: removed and searched again, on the device too
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nc.NeurocomplexWarning)
        ref = nc.twonn_dimension(_rec(x), n_boot=30)
        dev = nc.twonn_dimension(_rec(x), n_boot=30, device="cpu")
    assert dev.value == pytest.approx(ref.value, rel=1e-12)
    assert dev.ci == pytest.approx(ref.ci, rel=1e-12)
    assert dev.diagnostics["n_duplicates"] == ref.diagnostics["n_duplicates"] == 1
    assert dev.params["device"] == "cpu" and ref.params["device"] is None
    with pytest.raises(nc.InvalidParameterError):
        nc.twonn_dimension(_rec(x), device="no-such-device")


@pytest.mark.skipif(not __import__("importlib").util.find_spec("torch"), reason="needs torch")
def test_twonn_device_search_on_cuda():
    import torch

    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    rng = np.random.default_rng(43)
    x = _embed(rng.normal(size=(5000, 8)), 256, rng) + 0.01 * rng.normal(size=(5000, 256)) + 10.0
    ref = nc.twonn_dimension(_rec(x), n_boot=20)
    dev = nc.twonn_dimension(_rec(x), n_boot=20, device="cuda")
    assert dev.value == pytest.approx(ref.value, rel=1e-12)
    assert dev.ci == pytest.approx(ref.ci, rel=1e-12)


def test_twonn_high_dimension_uses_gemm_and_agrees_with_scikit_dimension():
    skdim = pytest.importorskip("skdim")
    rng = np.random.default_rng(41)
    x = _embed(rng.normal(size=(2000, 6)), 100, rng) + 0.01 * rng.normal(size=(2000, 100))
    est = nc.twonn_dimension(_rec(x), n_boot=50)
    assert est.diagnostics["neighbours"] == "gemm"
    assert est.value == pytest.approx(skdim.id.TwoNN().fit(x).dimension_, rel=1e-9)
    assert est.ci[0] < est.value < est.ci[1]
    # the bootstrap resamples the ratios: the same replicates as refitting resampled mu directly
    from neurocomplex.estimate import bootstrap_indices
    from neurocomplex.measures.twonn import _n_keep, _twonn_fit

    mu = est.diagnostics["mu"]
    idx = next(iter(bootstrap_indices(mu.size, 1, 0, None)))
    direct = _twonn_fit(np.sort(mu[idx]), _n_keep(mu.size, 0.1))
    assert est.diagnostics["bootstrap"][0] == pytest.approx(direct, rel=1e-12)


# --------------------------------------------------------------------------- device (torch)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_device_path_agrees_with_numpy(dtype, monkeypatch):
    pytest.importorskip("torch")
    from neurocomplex.measures import dimension

    x = (_gaussian(np.exp(-np.arange(30) / 6.0), 3000, seed=50) + 1.5).astype(dtype)
    rec = _rec(x)
    for kw in ({"order": 1}, {"order": 2}, {"order": math.inf}, {"standardize": True}):
        ref = nc.effective_dimension(rec, n_boot=0, **kw)
        dev = nc.effective_dimension(rec, n_boot=0, device="cpu", chunk_rows=700, **kw)
        assert dev.value == pytest.approx(ref.value, rel=1e-5 if dtype == np.float32 else 1e-10)
        np.testing.assert_allclose(dev.diagnostics["eigenvalues"], ref.diagnostics["eigenvalues"],
                                   rtol=1e-4, atol=1e-6 * ref.diagnostics["eigenvalues"][0])
        assert dev.params["device"] == "cpu"
    # the interval: the device merges and eigendecomposes every replicate (batched), as numpy's exact path
    monkeypatch.setattr(dimension, "_REPLICATES", "exact")
    ref = nc.effective_dimension(rec, n_boot=30, seed=3)
    dev = nc.effective_dimension(rec, n_boot=30, seed=3, device="cpu")
    np.testing.assert_allclose(dev.diagnostics["bootstrap"], ref.diagnostics["bootstrap"], rtol=1e-5)
    assert dev.ci == pytest.approx(ref.ci, rel=1e-5)
    pr = nc.participation_ratio(rec, n_boot=10, device="cpu", standardize=True)
    assert pr.value == pytest.approx(nc.participation_ratio(rec, n_boot=0, standardize=True).value, rel=1e-5)
    with pytest.raises(nc.InvalidParameterError):
        nc.effective_dimension(rec, device="no-such-device")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_spectrum_exponent_device_path_agrees_with_numpy(dtype):
    pytest.importorskip("torch")
    rng = np.random.default_rng(52)
    x = (_gaussian(np.arange(1, 41) ** -1.0, 5000, seed=52) + 1.0).astype(dtype)
    y = (x + 0.3 * rng.normal(size=x.shape)).astype(dtype)
    tol = 1e-5 if dtype == np.float32 else 1e-10
    for repeat in (None, _rec(y)):  # plain PCA and cvPCA (the joint covariance of both repeats)
        ref = nc.spectrum_exponent(_rec(x), repeat=repeat, n_boot=20, seed=4)
        dev = nc.spectrum_exponent(_rec(x), repeat=repeat, n_boot=20, seed=4, device="cpu", chunk_rows=700)
        assert dev.value == pytest.approx(ref.value, rel=tol)
        np.testing.assert_allclose(dev.diagnostics["eigenvalues"][:20], ref.diagnostics["eigenvalues"][:20], rtol=tol * 10)
        np.testing.assert_allclose(dev.diagnostics["jackknife"], ref.diagnostics["jackknife"], rtol=tol)
        assert dev.ci == pytest.approx(ref.ci, rel=tol)
        assert dev.params["device"] == "cpu"
        free = nc.spectrum_exponent(_rec(x), repeat=repeat, n_boot=0, device="cpu")
        assert free.value == pytest.approx(ref.value, rel=tol) and free.ci is None
    with pytest.raises(nc.InvalidParameterError):
        nc.spectrum_exponent(_rec(x), device="no-such-device")


def test_device_paths_keep_the_users_matmul_precision():
    # the device paths multiply in full float32 (no TF32) and restore what the user had set
    torch = pytest.importorskip("torch")
    x = _gaussian(np.exp(-np.arange(30) / 6.0), 2000, seed=54).astype(np.float32)
    before = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision("high")
    try:
        nc.effective_dimension(_rec(x), n_boot=5, device="cpu")
        nc.cka(_rec(x), _rec(x[:, :10]), n_boot=5, device="cpu")
        nc.twonn_dimension(_rec(x), n_boot=0, device="cpu")
        assert torch.get_float32_matmul_precision() == "high"
    finally:
        torch.set_float32_matmul_precision(before)


@pytest.mark.skipif(not __import__("importlib").util.find_spec("torch"), reason="needs torch")
def test_device_path_on_cuda():
    import torch

    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    x = (_gaussian(np.exp(-np.arange(64) / 10.0), 20000, seed=51) + 3.0).astype(np.float32)
    rec = _rec(x)
    for kw in ({"order": 1, "n_boot": 0}, {"order": 2, "n_boot": 20}, {"standardize": True, "n_boot": 20}):
        ref = nc.effective_dimension(rec, **kw)
        dev = nc.effective_dimension(rec, device="cuda", **kw)
        assert dev.value == pytest.approx(ref.value, rel=1e-5)
        if kw["n_boot"]:
            assert dev.ci == pytest.approx(ref.ci, rel=1e-3)
    for repeat in (None, _rec(x + np.float32(0.5) * np.random.default_rng(53).standard_normal(x.shape, dtype=np.float32))):
        # an exponential spectrum, which no power law fits: said on the host and on the device
        with pytest.warns(nc.NeurocomplexWarning, match="the spectrum is not a straight line in log-log"):
            ref = nc.spectrum_exponent(rec, repeat=repeat, n_boot=20)
        with pytest.warns(nc.NeurocomplexWarning, match="the spectrum is not a straight line in log-log"):
            dev = nc.spectrum_exponent(rec, repeat=repeat, n_boot=20, device="cuda")
        assert dev.value == pytest.approx(ref.value, rel=1e-5)
        assert dev.ci == pytest.approx(ref.ci, rel=1e-3)
