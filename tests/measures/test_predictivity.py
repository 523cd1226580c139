"""Ridge predictivity: the leave-one-out penalty choice against a brute-force refit and scikit-learn's
RidgeCV (p >= n and p < n), the held-out predictions, and a reliability ceiling symmetric in its halves."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import neurocomplex as nc
from neurocomplex.measures import _reliability as rel
from neurocomplex.measures.predictivity import _DEFAULT_ALPHAS

sklearn = pytest.importorskip("sklearn")
from sklearn.linear_model import Ridge, RidgeCV  # noqa: E402
from sklearn.model_selection import KFold  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402


def _rec(a, **kw):
    return nc.Recording.from_array(np.asarray(a, dtype=float), **kw)


def _wide(n, p, q, seed, noise=3.0):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 8))
    x = z @ rng.normal(size=(8, p)) + rng.normal(size=(n, p)) + 5.0  # offsets: the intercept matters
    y = z @ rng.normal(size=(8, q)) + noise * rng.normal(size=(n, q)) - 2.0
    return x, y


@pytest.mark.parametrize(("n", "p"), [(40, 120), (30, 30), (60, 12)])
def test_leave_one_out_errors_equal_brute_force_refits_with_intercept(n, p):
    x, y = _wide(n, p, 3, seed=n + p)
    penalties = np.logspace(-3, 3, 7) * n
    model = rel.RidgeLoo(x - x.mean(0), y - y.mean(0))
    brute = np.zeros(penalties.size)
    for k, pen in enumerate(penalties):
        for i in range(n):
            keep = np.arange(n) != i
            fit = Ridge(alpha=pen, fit_intercept=True, solver="svd").fit(x[keep], y[keep])
            brute[k] += float(((fit.predict(x[i:i + 1]) - y[i]) ** 2).sum())
    np.testing.assert_allclose(model.loo_errors(penalties), brute, rtol=1e-9)
    ridgecv = RidgeCV(alphas=penalties, fit_intercept=True, store_cv_results=True).fit(x, y)
    np.testing.assert_allclose(ridgecv.cv_results_.sum(axis=(0, 1)), brute, rtol=1e-9)
    # predictions of the chosen fit at new rows equal scikit-learn's
    best = penalties[int(np.argmin(brute))]
    assert ridgecv.alpha_ == best
    new = np.random.default_rng(1).normal(size=(5, p)) + 5.0
    mine = model.predict(new - x.mean(0), best) + y.mean(0)
    np.testing.assert_allclose(mine, Ridge(alpha=best).fit(x, y).predict(new), rtol=0, atol=1e-9)


@pytest.mark.parametrize(("n", "p"), [(100, 400), (100, 100), (200, 20)])
def test_predictivity_equals_a_ridgecv_pipeline_fold_by_fold(n, p):
    """Contiguous folds (samples with times): each fold's penalty and held-out predictions equal
    scikit-learn's RidgeCV (alphas × n_train, intercept, leave-one-out, alpha_per_target=False)
    on the training rows z-scored, so every unit's r equals the pipeline's."""
    x, y = _wide(n, p, 6, seed=p)
    est = nc.predictivity(_rec(x, sampling_rate=10.0), _rec(y, sampling_rate=10.0), n_boot=0)
    pred = np.empty_like(y)
    chosen = []
    for train, test in KFold(5).split(x):
        scaler = StandardScaler().fit(x[train])
        cv = RidgeCV(alphas=np.array(_DEFAULT_ALPHAS) * train.size, fit_intercept=True)
        cv.fit(scaler.transform(x[train]), y[train])
        pred[test] = cv.predict(scaler.transform(x[test]))
        chosen.append(cv.alpha_ / train.size)
    np.testing.assert_allclose(est.diagnostics["alphas"], chosen, rtol=1e-12)
    ref = [np.corrcoef(y[:, j], pred[:, j])[0, 1] for j in range(y.shape[1])]
    np.testing.assert_allclose(est.diagnostics["unit_r"], ref, rtol=0, atol=1e-9)
    assert est.value == pytest.approx(float(np.median(ref)), abs=1e-9)


def test_wide_predictors_no_longer_pick_the_smallest_penalty():
    """With more predictors than training rows and noisy targets, leaving out the intercept's
    leverage made every fold pick 1e-3; the exact leave-one-out picks a larger penalty."""
    x, y = _wide(60, 600, 10, seed=3, noise=6.0)
    est = nc.predictivity(_rec(x), _rec(y), n_boot=0)
    assert np.all(est.diagnostics["alphas"] > min(_DEFAULT_ALPHAS))


def test_exact_map_interval_and_few_samples_warning():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 10))
    w = rng.normal(size=(10, 6))
    exact = nc.predictivity(_rec(x), _rec(x @ w + 1.0), alpha=1e-6, n_boot=50)
    assert exact.value == pytest.approx(1.0, abs=1e-6)
    noisy = nc.predictivity(_rec(x), _rec(x @ w + 2.0 * rng.normal(size=(120, 6))))
    assert noisy.diagnostics["interval"] == "percentile"
    assert noisy.ci[0] <= noisy.value <= noisy.ci[1]
    with pytest.warns(nc.NeurocomplexWarning, match="only 12 samples"):
        few = nc.predictivity(_rec(x[:12]), _rec(x[:12] @ w), n_splits=3, n_boot=0)
    assert any("standard error" in m for m in few.warnings)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nc.predictivity(_rec(x[:20]), _rec(x[:20] @ w), n_boot=0)
    with pytest.raises(nc.InsufficientDataError, match="cross-validation"):
        nc.predictivity(_rec(x[:9]), _rec(x[:9] @ w))


# --------------------------------------------------------------------------- reliability ceiling
def test_half_correlation_is_symmetric_in_its_halves():
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(12, 5)), rng.normal(size=(12, 5))
    a[:, 1] = 0.0  # first half constant
    b[:, 2] = 3.0  # second half constant
    a[:, 3], b[:, 3] = 1.0, 2.0  # both constant
    ab, ba = rel.half_r(a, b), rel.half_r(b, a)
    np.testing.assert_array_equal(np.isnan(ab), np.isnan(ba))
    np.testing.assert_allclose(ab, ba, rtol=0, atol=1e-15)
    assert ab[1] == 0.0 and ab[2] == 0.0 and math.isnan(ab[3])
    for j in (0, 4):
        assert ab[j] == pytest.approx(np.corrcoef(a[:, j], b[:, j])[0, 1], abs=1e-12)


def test_reliability_ceiling_is_the_same_with_the_halves_swapped(monkeypatch):
    """Sparse units: in many splits one half-average is all zeros. Swapping every split's halves
    (the complement of a half is also a half with even counts) leaves the ceiling unchanged."""
    rng = np.random.default_rng(5)
    n_cond, n_rep = 30, 4
    cond = np.repeat(np.arange(n_cond), n_rep)
    rates = np.r_[np.full(6, 0.02), np.full(6, 0.3)] * np.exp(rng.normal(size=(n_cond, 12)))
    y = rng.poisson(rates[cond]).astype(float)
    x = rng.normal(size=(n_cond, 20))[cond]
    plain = nc.predictivity(_rec(x), _rec(y), conditions=cond, n_boot=0, n_halves=20)
    draw = rel.random_half
    monkeypatch.setattr(rel, "random_half", lambda *args: ~draw(*args))
    swapped = nc.predictivity(_rec(x), _rec(y), conditions=cond, n_boot=0, n_halves=20)
    np.testing.assert_allclose(swapped.diagnostics["unit_reliability"], plain.diagnostics["unit_reliability"],
                               rtol=0, atol=1e-12, equal_nan=True)
    assert swapped.diagnostics["ceiling"] == pytest.approx(plain.diagnostics["ceiling"], abs=1e-12)
    # the sparse units did meet constant halves (the case the symmetry is about)
    halves = [rel.half_r(rel.average_by_condition(y[h], cond[h], n_cond), rel.average_by_condition(y[~h], cond[~h], n_cond))
              for h in (draw(cond, n_cond, np.random.default_rng(s)) for s in range(20))]
    assert any(np.any(r[:6] == 0.0) for r in halves)


def test_ceiling_divides_the_median_r():
    rng = np.random.default_rng(0)
    cond = np.repeat(np.arange(60), 4)
    feat = rng.normal(size=(60, 8))
    brain = (feat @ rng.normal(size=(8, 5)))[cond] + 1.5 * rng.normal(size=(240, 5))
    est = nc.predictivity(_rec(feat[cond]), _rec(brain), conditions=cond, n_boot=0)
    assert 0 < est.diagnostics["ceiling"] < 1
    assert est.value == pytest.approx(est.diagnostics["median_r"] / est.diagnostics["ceiling"])
    assert est.value == pytest.approx(1.0, abs=0.15)


def test_constant_predictors_leave_only_the_intercept():
    """A predictor population without variance: every fold predicts its training mean (rank 0 fit)."""
    rng = np.random.default_rng(6)
    y = rng.normal(size=(50, 3))
    model = rel.RidgeLoo(np.zeros((40, 7)), y[:40] - y[:40].mean(0))
    # leave-one-out of the mean: residual e_i / (1 - 1/n)
    expected = float((((y[:40] - y[:40].mean(0)) / (1 - 1 / 40)) ** 2).sum())
    np.testing.assert_allclose(model.loo_errors(np.array([1.0, 10.0])), expected, rtol=1e-12)
    est = nc.predictivity(_rec(np.ones((50, 7))), _rec(y), n_boot=0)
    folds = np.array_split(np.random.default_rng([0, 2]).permutation(50), 5)
    pred = np.empty_like(y)
    for f in folds:
        pred[f] = np.delete(y, f, axis=0).mean(0)
    ref = [np.corrcoef(y[:, j], pred[:, j])[0, 1] for j in range(3)]
    np.testing.assert_allclose(est.diagnostics["unit_r"], ref, atol=1e-12)
