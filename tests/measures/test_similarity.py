"""Representational similarity: CKA, RSA/RDMs, shape distance and predictivity against known values,
direct implementations and rsatoolbox."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

import neurocomplex as nc
from neurocomplex.measures._rank import RankPair, kendall_tau_a, spearman
from neurocomplex.stats import pair_blocks as pbk


def _rec(a, **kw):
    return nc.Recording.from_array(np.asarray(a, dtype=float), **kw)


def _pair(n=80, p=9, q=6, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, p))
    y = np.tanh(x[:, :4] @ rng.normal(size=(4, q))) + 0.5 * rng.normal(size=(n, q))
    return x, y


def _orthogonal(d, seed):
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(d, d)))
    return q


# --------------------------------------------------------------------------- direct references
def _cka_direct(x, y):
    xc, yc = x - x.mean(0), y - y.mean(0)
    return np.linalg.norm(xc.T @ yc) ** 2 / (np.linalg.norm(xc.T @ xc) * np.linalg.norm(yc.T @ yc))


def _hsic_unbiased(k, lm):
    """Song et al. (2012) eq. 5 on n x n Gram matrices (the reference the product form must match)."""
    n = k.shape[0]
    k, lm = k.copy(), lm.copy()
    np.fill_diagonal(k, 0.0)
    np.fill_diagonal(lm, 0.0)
    one = np.ones(n)
    return (np.trace(k @ lm) + (one @ k @ one) * (one @ lm @ one) / ((n - 1) * (n - 2))
            - 2.0 / (n - 2) * (one @ k @ lm @ one)) / (n * (n - 3))


def _cka_debiased_direct(x, y):
    k, lm = x @ x.T, y @ y.T
    return _hsic_unbiased(k, lm) / math.sqrt(_hsic_unbiased(k, k) * _hsic_unbiased(lm, lm))


# --------------------------------------------------------------------------- CKA
@pytest.mark.filterwarnings("ignore:the plug-in CKA is dominated")
def test_cka_matches_formula_and_is_invariant():
    x, y = _pair()
    est = nc.cka(_rec(x), _rec(y), n_boot=0, debiased=False)
    assert est.value == pytest.approx(_cka_direct(x, y), rel=1e-12)
    assert est.method == "linear_cka" and est.diagnostics["plugin"] == est.value
    q = _orthogonal(9, 3)
    for debiased in (False, True):
        ref = nc.cka(_rec(x), _rec(y), n_boot=0, debiased=debiased).value
        assert nc.cka(_rec(2.5 * x @ q + 7.0), _rec(y), n_boot=0, debiased=debiased).value == pytest.approx(ref, rel=1e-10)
        assert nc.cka(_rec(x), _rec(x), n_boot=0, debiased=debiased).value == pytest.approx(1.0, abs=1e-12)
        assert nc.cka(_rec(x), _rec(0.1 * x @ q), n_boot=0, debiased=debiased).value == pytest.approx(1.0, abs=1e-12)
        assert nc.cka(_rec(y), _rec(x), n_boot=0, debiased=debiased).value == pytest.approx(ref, rel=1e-12)


def test_cka_default_is_the_debiased_form():
    x, y = _pair()
    est = nc.cka(_rec(x), _rec(y), n_boot=0)
    assert est.method == "linear_cka_debiased" and est.params["debiased"] is True
    assert est.value == pytest.approx(_cka_debiased_direct(x, y), rel=1e-10)
    assert est.diagnostics["debiased"] == est.value
    assert est.diagnostics["plugin"] == pytest.approx(_cka_direct(x, y), rel=1e-12)


@pytest.mark.filterwarnings("ignore:the plug-in CKA is dominated")
def test_cka_hand_computable_cases():
    # One unit each: CKA = corr(x, y)². x = (1, 2, 3, 4) centred is (-1.5, -0.5, 0.5, 1.5), |x|² = 5;
    # y = x² = (1, 4, 9, 16) centred is (-6.5, -3.5, 1.5, 8.5), |y|² = 129; x·y = 25.
    x = np.array([[1.0], [2.0], [3.0], [4.0]])
    assert nc.cka(_rec(x), _rec(x**2), n_boot=0, debiased=False).value == pytest.approx(25.0**2 / (5.0 * 129.0), rel=1e-14)
    # Two orthogonal unit vectors in two independent coordinates: CKA = 0.
    a = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
    b = np.array([[1.0], [-1.0], [0.0], [0.0]])
    c = np.array([[0.0], [0.0], [1.0], [-1.0]])
    assert nc.cka(_rec(b), _rec(c), n_boot=0, debiased=False).value == pytest.approx(0.0, abs=1e-15)
    # a = [b c] with isotropic covariance: ||aᵀb||² = 4, ||aᵀa|| = sqrt(2·2²) = 2·sqrt2, ||bᵀb|| = 2.
    assert nc.cka(_rec(a), _rec(b), n_boot=0, debiased=False).value == pytest.approx(4.0 / (2 * math.sqrt(2) * 2), rel=1e-14)


def test_debiased_cka_matches_direct_gram_implementation():
    x, y = _pair(n=40, p=6, q=5, seed=4)
    est = nc.cka(_rec(x), _rec(y), debiased=True, n_boot=0)
    assert est.value == pytest.approx(_cka_debiased_direct(x, y), rel=1e-10)
    assert est.value < nc.cka(_rec(x), _rec(y), n_boot=0, debiased=False).value  # the plug-in is biased upwards
    # independent populations: debiased CKA near 0, plug-in clearly above (and it says so)
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(60, 30)), rng.normal(size=(60, 30))
    assert abs(nc.cka(_rec(a), _rec(b), n_boot=0).value) < 0.05
    with pytest.warns(nc.NeurocomplexWarning, match="dominated by its upward bias"):
        plug = nc.cka(_rec(a), _rec(b), n_boot=0, debiased=False)
    assert plug.value > 0.3


def test_plugin_null_floor_is_the_mean_over_random_pairings():
    """null_floor = sqrt(PR_x PR_y) / (n - 1) is exactly the plug-in CKA averaged over permutations of y's samples."""
    rng = np.random.default_rng(11)
    x = rng.normal(size=(7, 3)) * [3.0, 1.0, 0.5]
    y = rng.normal(size=(7, 2))
    est = nc.cka(_rec(x), _rec(y), n_boot=0)
    import itertools

    mean = np.mean([_cka_direct(x, y[list(perm)]) for perm in itertools.permutations(range(7))])
    assert est.diagnostics["null_floor"] == pytest.approx(mean, rel=1e-10)
    xc = x - x.mean(0)
    yc = y - y.mean(0)
    pr = [np.trace(c) ** 2 / np.sum(c * c) for c in (xc.T @ xc, yc.T @ yc)]
    assert est.diagnostics["null_floor"] == pytest.approx(math.sqrt(pr[0] * pr[1]) / 6, rel=1e-12)


def test_degenerate_sizes_are_refused_and_few_samples_warn():
    rng = np.random.default_rng(1)
    x2, y2 = _rec(rng.normal(size=(2, 50))), _rec(rng.normal(size=(2, 50)))
    for func, kw in ((nc.cka, {}), (nc.cka, {"debiased": False}), (nc.shape_distance, {})):
        with pytest.raises(nc.InsufficientDataError, match="2 samples"):
            func(x2, y2, n_boot=0, **kw)
    x3, y3 = _rec(rng.normal(size=(3, 1000))), _rec(rng.normal(size=(3, 1000)))
    with pytest.raises(nc.InsufficientDataError, match="n − 3"):
        nc.cka(x3, y3, n_boot=0)
    with pytest.warns(nc.NeurocomplexWarning, match="dominated by its upward bias"):
        assert nc.cka(x3, y3, n_boot=0, debiased=False).value > 0.9  # unrelated data, plug-in near 1
    with pytest.warns(nc.NeurocomplexWarning, match="dominated by its bias"):
        nc.shape_distance(x3, y3, n_boot=0)
    # 3 x 100,000 random data: the plug-in CKA is 1 - 5e-7 and warns; the default refuses
    big = rng.normal(size=(3, 100_000)).astype(np.float32)
    with pytest.warns(nc.NeurocomplexWarning, match="null_floor"):
        est = nc.cka(_rec(big), _rec(rng.normal(size=(3, 100_000))), n_boot=0, debiased=False)
    assert est.diagnostics["null_floor"] > 0.99


@pytest.mark.parametrize("debiased", [False, True])
def test_cka_bootstrap_replicates_equal_recomputation_on_resampled_rows(debiased):
    x, y = _pair(n=50, seed=2)
    blocks = pbk.block_assignment(50, 10, None, 0)
    pb = pbk.pair_blocks(x, y, blocks, debiased)
    for w in pbk.replicate_weights(10, 4, 9):
        rows = np.concatenate([np.tile(b, int(c)) for b, c in zip(blocks, w, strict=True) if c > 0])
        if debiased:
            h = [pbk.unbiased_hsic(pb, k, w[None])[0] for k in ("xy", "xx", "yy")]
            expected = _cka_debiased_direct(x[rows], y[rows])
        else:
            h = [pbk.centred_frobenius2(pb, k, w[None])[0] for k in ("xy", "xx", "yy")]
            expected = _cka_direct(x[rows], y[rows])
        assert h[0] / math.sqrt(h[1] * h[2]) == pytest.approx(expected, rel=1e-9)


def test_cka_interval_contains_value_and_float32_agrees():
    x, y = _pair(n=400, seed=5)
    est = nc.cka(_rec(x), _rec(y), n_boot=100, seed=1)
    assert est.ci[0] <= est.value <= est.ci[1]
    assert est.diagnostics["replicates"].shape == (100,)
    assert est.diagnostics["n_blocks"] == 50
    x32 = nc.Recording.from_array(x.astype(np.float32))
    y32 = nc.Recording.from_array(y.astype(np.float32))
    assert nc.cka(x32, y32, n_boot=0).value == pytest.approx(est.value, rel=1e-5)
    # contiguous blocks for time series
    est_t = nc.cka(_rec(x), _rec(y), n_boot=50, block_size=20)
    assert est_t.diagnostics["n_blocks"] == 20 and est_t.ci is not None


def test_debiased_replicates_leave_out_pairs_of_copies():
    # a replicate is the unbiased HSIC of the resampled rows, pairs of copies left out, of the data
    # centred on their full-sample means (without the centring it would depend on an offset)
    x, y = _pair(n=36, p=5, q=4, seed=8)
    blocks = pbk.block_assignment(36, 12, None, 0)
    pb = pbk.pair_blocks(x + 1.5, y - 0.7, blocks, True)
    x, y = x - x.mean(axis=0), y - y.mean(axis=0)
    for w in pbk.replicate_weights(12, 3, 4):
        rows = np.concatenate([np.tile(b, int(c)) for b, c in zip(blocks, w, strict=True) if c > 0])
        same = rows[:, None] == rows[None, :]  # copies of one sample, the diagonal included

        def hsic(a, b, same=same):
            k, lm = a @ a.T, b @ b.T
            k[same], lm[same] = 0.0, 0.0
            n, one = k.shape[0], np.ones(k.shape[0])
            return (np.trace(k @ lm) + (one @ k @ one) * (one @ lm @ one) / ((n - 1) * (n - 2))
                    - 2.0 / (n - 2) * (one @ k @ lm @ one)) / (n * (n - 3))

        for key, (a, b) in {"xy": (x, y), "xx": (x, x), "yy": (y, y)}.items():
            got = pbk.unbiased_hsic(pb, key, w[None], exclude_copies=True)[0]
            assert got == pytest.approx(hsic(a[rows], b[rows]), rel=1e-9)


def test_debiased_interval_is_not_dragged_by_copies_with_many_units():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 600))
    y = np.maximum(x[:, :30] @ rng.normal(size=(30, 200)), 0)
    est = nc.cka(_rec(x), _rec(y), debiased=True, n_boot=100)
    assert est.ci[0] <= est.value <= est.ci[1]
    null = nc.cka(_rec(x), _rec(rng.normal(size=(120, 300))), debiased=True, n_boot=100)
    assert null.ci[0] <= 0.0 <= null.ci[1]


@pytest.mark.parametrize("debiased", [False, True])
def test_sample_gram_route_equals_unit_products(debiased):
    rng = np.random.default_rng(4)
    for n, p, q in ((60, 7, 5), (30, 50, 40), (80, 33, 17)):
        x, y = rng.normal(size=(n, p)) + 2.0, rng.normal(size=(n, q)) - 1.0
        blocks = pbk.block_assignment(n, 10, None, 0)
        w = np.r_[np.ones((1, 10)), pbk.replicate_weights(10, 5, 1)]
        a = pbk._pair_blocks(x, y, blocks, debiased)
        stat = pbk.unbiased_hsic if debiased else pbk.centred_frobenius2
        # the Gram route, whole or by bands of rows, and the unit route by slabs of a few columns
        for b in (pbk._pair_blocks_from_grams(x, y, blocks, debiased),
                  pbk._pair_blocks_from_grams(x, y, blocks, debiased, budget_bytes=8 * 3 * n * 7),
                  pbk._pair_blocks(x, y, blocks, debiased, budget_bytes=8 * 10 * max(p, q) * 3)):
            for key in ("xy", "xx", "yy"):
                np.testing.assert_allclose(stat(b, key, w), stat(a, key, w), rtol=1e-10)
    assert pbk.use_grams(100, 4096, 512) and not pbk.use_grams(10_000, 4096, 512)
    assert pbk.use_grams(500, 300, 200, n_blocks=50) and not pbk.use_grams(500, 300, 200)


@pytest.mark.parametrize("build", ["grams", "units"])
def test_cubic_forms_from_row_factors_equal_the_block_arrays(build, monkeypatch):
    # few samples per block keep the (n, B) row factors instead of the B × B × B arrays
    rng = np.random.default_rng(9)
    n, n_b = 90, 30
    x, y = rng.normal(size=(n, 12)) + 1.0, np.tanh(rng.normal(size=(n, 7)))
    blocks = pbk.block_assignment(n, n_b, None, 2)
    w = np.r_[np.ones((1, n_b)), pbk.replicate_weights(n_b, 7, 3)]
    make = pbk._pair_blocks_from_grams if build == "grams" else pbk._pair_blocks
    factors = make(x, y, blocks, True)
    assert factors.Z is not None and not factors.T
    assert pbk.keep_row_factors(100, 50) and not pbk.keep_row_factors(2000, 50) and not pbk.keep_row_factors(1, 1)
    monkeypatch.setattr(pbk, "keep_row_factors", lambda n, n_blocks: False)
    arrays = make(x, y, blocks, True)
    assert arrays.Z is None and arrays.T["xy"].shape == (n_b, n_b, n_b)
    for key in ("xy", "xx", "yy"):
        expected = arrays.cubic(key, w)  # near 0 where the side was centred first: rounding of its scale
        np.testing.assert_allclose(factors.cubic(key, w), expected, rtol=1e-12, atol=1e-12 * np.abs(expected).max())
        for excl in (False, True):
            np.testing.assert_allclose(pbk.unbiased_hsic(factors, key, w, excl), pbk.unbiased_hsic(arrays, key, w, excl),
                                       rtol=1e-11)
        np.testing.assert_allclose(pbk.centred_frobenius2(factors, key, w), pbk.centred_frobenius2(arrays, key, w),
                                   rtol=1e-11)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_block_statistics_of_data_put_in_block_order_equal_those_read_block_by_block(dtype, monkeypatch):
    # Small data are copied into block order (each block a slice; sums, row norms and moments in one
    # pass for all blocks); large data are gathered block by block. Both give the same statistics.
    rng = np.random.default_rng(4)
    n, n_b = 700, 25
    x = (rng.normal(size=(n, 9)) + 2.0).astype(dtype)
    y = np.maximum(rng.normal(size=(n, 6)), 0).astype(dtype)
    blocks = pbk.block_assignment(n, n_b, None, 5)
    w = np.r_[np.ones((1, n_b)), pbk.replicate_weights(n_b, 9, 1)]
    ordered = pbk._pair_blocks(x, y, blocks, True)
    monkeypatch.setattr(pbk, "_GATHER_BYTES", 0)
    by_block = pbk._pair_blocks(x, y, blocks, True)
    for field in ("K", "P", "T", "diag", "cross"):
        for key, value in getattr(by_block, field).items():
            np.testing.assert_allclose(getattr(ordered, field)[key], value, rtol=1e-12, atol=1e-9 * np.abs(value).max())
    for key in ("xy", "xx", "yy"):
        for excl in (False, True):
            np.testing.assert_allclose(pbk.unbiased_hsic(ordered, key, w, excl), pbk.unbiased_hsic(by_block, key, w, excl),
                                       rtol=1e-11)
    assert pbk.keep_row_factors(600, 50) and not pbk.keep_row_factors(700, 50)  # 4n < B²


def test_wide_layers_go_through_the_gram_matrices_with_the_same_values():
    rng = np.random.default_rng(12)
    x = rng.normal(size=(40, 500))
    y = np.tanh(x[:, :30] @ rng.normal(size=(30, 300)) / 5) + 0.3 * rng.normal(size=(40, 300))
    with (pytest.warns(nc.NeurocomplexWarning, match="the plug-in CKA is dominated by its upward bias"),
          pytest.warns(nc.NeurocomplexWarning, match="the 95% basic bootstrap interval .* excludes the estimate")):
        plug_in = nc.cka(_rec(x), _rec(y), n_boot=30, debiased=False)  # 40 samples of 500 and 300 units
    for debiased, est in ((False, plug_in), (True, nc.cka(_rec(x), _rec(y), n_boot=30, debiased=True))):
        ref = _cka_debiased_direct(x - x.mean(0), y - y.mean(0)) if debiased else _cka_direct(x, y)
        assert est.value == pytest.approx(ref, rel=1e-10)
    blocks = pbk.block_assignment(40, 40, None, 0)
    w = pbk.replicate_weights(40, 8, 3)
    grams = pbk._pair_blocks_from_grams(x, y, blocks, True)
    units = pbk._pair_blocks(x, y, blocks, True)
    for key in ("xy", "xx", "yy"):
        np.testing.assert_allclose(pbk.unbiased_hsic(grams, key, w, True), pbk.unbiased_hsic(units, key, w, True),
                                   rtol=1e-10)
    # float32 wide random data never raise
    for width in (1000, 4608):
        a = np.maximum(rng.normal(size=(200, width)), 0).astype(np.float32)
        b = np.maximum(rng.normal(size=(200, width // 2)), 0).astype(np.float32)
        assert np.isfinite(nc.cka(_rec_raw(a), _rec_raw(b), n_boot=20).value)
        with pytest.warns(nc.NeurocomplexWarning, match="the plug-in shape distance is dominated by its bias"):
            assert np.isfinite(nc.shape_distance(_rec_raw(a), _rec_raw(b), n_boot=5).value)


def _rec_raw(a):
    return nc.Recording.from_array(a)


def test_cka_with_fewer_stimuli_than_units_has_an_interval_at_any_width(monkeypatch):
    monkeypatch.setattr(pbk, "BLOCK_BUDGET", 10_000)  # no room for any per-block product
    rng = np.random.default_rng(5)
    x = rng.normal(size=(40, 300))
    y = np.tanh(x[:, :20] @ rng.normal(size=(20, 200)) / 4)
    est = nc.cka(_rec(x), _rec(y), n_boot=40, debiased=True)
    assert est.value == pytest.approx(_cka_debiased_direct(x - x.mean(0), y - y.mean(0)), rel=1e-9)
    assert est.ci is not None and est.diagnostics["n_blocks"] == 40


def test_cka_interval_is_kept_within_any_memory_budget(monkeypatch):
    """More samples than units: the block products are formed by slabs, never dropped for memory."""
    x, y = _pair(n=300, p=40, q=25, seed=1)
    ref = nc.cka(_rec(x), _rec(y), n_boot=50)
    monkeypatch.setattr(pbk, "BLOCK_BUDGET", 8 * 50 * 40 * 2)  # two columns of 50 blocks at a time
    est = nc.cka(_rec(x), _rec(y), n_boot=50)
    assert est.diagnostics["n_blocks"] == 50 and est.ci is not None
    assert est.value == pytest.approx(ref.value, rel=1e-12)
    np.testing.assert_allclose(est.diagnostics["replicates"], ref.diagnostics["replicates"], rtol=1e-10)


def test_too_few_samples_for_an_interval_warn():
    x, y = _pair(n=8, seed=1)
    with pytest.warns(nc.NeurocomplexWarning, match="no interval"):
        est = nc.cka(_rec(x), _rec(y), n_boot=50)
    assert est.ci is None and est.value == pytest.approx(_cka_debiased_direct(x, y), rel=1e-10)


# --------------------------------------------------------------------------- CKA on a torch device
def _device_pair(n, p, q, dtype, seed):
    """Correlated populations, x far from zero-mean (the host centres it first), y not."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, p)) + 40.0
    y = np.tanh((x[:, :4] - 40.0) @ rng.normal(size=(4, q))) + 0.5 * rng.normal(size=(n, q)) + 0.1
    return nc.Recording.from_array(x.astype(dtype)), nc.Recording.from_array(y.astype(dtype))


def _assert_cka_agrees(ref, dev, tol):
    assert dev.value == pytest.approx(ref.value, rel=tol)
    for key in ("hsic_xy", "hsic_xx", "hsic_yy", "plugin", "debiased", "null_floor"):
        assert dev.diagnostics[key] == pytest.approx(ref.diagnostics[key], rel=tol)
    assert dev.diagnostics["n_blocks"] == ref.diagnostics["n_blocks"]
    reps, ref_reps = dev.diagnostics["replicates"], ref.diagnostics["replicates"]
    assert reps.shape == ref_reps.shape
    np.testing.assert_array_equal(np.isnan(reps), np.isnan(ref_reps))
    np.testing.assert_allclose(reps, ref_reps, rtol=tol, atol=0.0)
    assert (dev.ci is None) == (ref.ci is None)
    if ref.ci is not None:
        assert dev.ci == pytest.approx(ref.ci, rel=tol)


@pytest.mark.filterwarnings("ignore:the 95% basic bootstrap interval")
@pytest.mark.filterwarnings("ignore:the plug-in CKA is dominated")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cka_device_path_agrees_with_numpy(dtype):
    pytest.importorskip("torch")
    tol = 1e-5 if dtype == np.float32 else 1e-10
    # (n, p, q): more samples than units (unit products), fewer (sample Gram matrices)
    for n, p, q in ((600, 9, 6), (48, 70, 50)):
        assert pbk.use_grams(n, p, q) == (n < p)
        x, y = _device_pair(n, p, q, dtype, seed=n)
        for debiased in (False, True):
            for blocking in ({"n_boot": 0}, {"n_boot": 40, "seed": 3}, {"n_boot": 40, "seed": 3, "block_size": 4}):
                ref = nc.cka(x, y, debiased=debiased, **blocking)
                dev = nc.cka(x, y, debiased=debiased, device="cpu", **blocking)
                _assert_cka_agrees(ref, dev, tol)
                assert dev.params["device"] == "cpu" and ref.params["device"] is None
                if blocking["n_boot"]:
                    assert dev.ci is not None and np.isfinite(dev.diagnostics["replicates"]).all()
    # a float32 side meeting a float64 one: the HSIC terms of every replicate from the statistics
    from neurocomplex._backend.pair_blocks import pair_blocks_torch

    x, y = _device_pair(300, 7, 5, dtype, seed=1)
    blocks = pbk.block_assignment(300, 12, None, 0)
    w = np.r_[np.ones((1, 12)), pbk.replicate_weights(12, 20, 5)]
    ref = pbk.pair_blocks(x.data, y.data.astype(np.float64), blocks, True)
    got = pair_blocks_torch(x.data, y.data.astype(np.float64), blocks, True, "cpu")
    np.testing.assert_array_equal(got.counts, ref.counts)
    for key in ("xy", "xx", "yy"):
        np.testing.assert_allclose(pbk.centred_frobenius2(got, key, w), pbk.centred_frobenius2(ref, key, w), rtol=tol)
        np.testing.assert_allclose(pbk.unbiased_hsic(got, key, w, True), pbk.unbiased_hsic(ref, key, w, True), rtol=tol)
    if dtype == np.float64:  # no centring shift between the paths: the raw statistics agree too
        for name in ("K", "T", "P", "diag", "cross"):
            for key, value in getattr(ref, name).items():
                np.testing.assert_allclose(getattr(got, name)[key], value, rtol=1e-9, atol=0.0)


def test_cka_device_centres_exactly_as_the_host_does():
    torch = pytest.importorskip("torch")
    from neurocomplex._backend.pair_blocks import _upload

    rng = np.random.default_rng(7)
    base = rng.normal(size=(500, 16))
    for dtype in (np.float32, np.float64, np.int64):
        for offset in (0.0, 0.2, 0.4, 0.8, 5.0, 1e3):
            a = np.round(base * 10) + offset if dtype == np.int64 else base + offset
            a = a.astype(dtype)
            host = pbk._shifted(a)
            t = _upload(a, torch.device("cpu"))
            assert t.numpy().dtype == host.dtype
            np.testing.assert_array_equal(t.numpy(), host)  # the same numbers, bit for bit


def test_cka_interval_does_not_depend_on_an_offset_and_covers_zero_for_unrelated_counts():
    # A replicate weights pairs of samples unequally (blocks drawn twice, pairs of copies left out):
    # on uncentred data its unbiased HSIC was biased by the kernel's mean, so adding 0.5 to the data
    # moved the interval, and for unrelated sparse counts the interval held 0 in 17% of data sets.
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(300, 20)), rng.normal(size=(300, 30))
    ref = nc.cka(_rec(a), _rec(b))
    for offset in (0.5, 3.0):
        moved = nc.cka(_rec(a + offset), _rec(b - offset))
        assert moved.value == pytest.approx(ref.value, abs=1e-12)
        np.testing.assert_allclose(moved.ci, ref.ci, atol=1e-10)
    covered = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nc.NeurocomplexWarning)
        for _ in range(40):
            est = nc.cka(_rec(rng.poisson(0.5, (300, 20))), _rec(rng.poisson(0.5, (300, 30))), n_boot=100)
            covered += est.ci[0] <= 0.0 <= est.ci[1]
    assert covered >= 34  # 95% intervals of the true value 0: at least 34 of 40 (binomial, p > 0.99)


@pytest.mark.filterwarnings("ignore:the 95% basic bootstrap interval")
@pytest.mark.filterwarnings("ignore:the plug-in CKA is dominated")
@pytest.mark.skipif(not __import__("importlib").util.find_spec("torch"), reason="needs torch")
def test_cka_device_path_on_cuda():
    import torch

    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    for dtype, tol in ((np.float32, 1e-5), (np.float64, 1e-10)):
        for n, p, q in ((20000, 256, 128), (300, 2000, 1500)):  # unit products, sample Gram matrices
            x, y = _device_pair(n, p, q, dtype, seed=p)
            for debiased in (False, True):
                for blocking in ({"n_boot": 50, "seed": 2}, {"n_boot": 50, "seed": 2, "block_size": n // 25}):
                    ref = nc.cka(x, y, debiased=debiased, **blocking)
                    dev = nc.cka(x, y, debiased=debiased, device="cuda", **blocking)
                    _assert_cka_agrees(ref, dev, tol)
                    assert dev.params["device"] == "cuda"


# --------------------------------------------------------------------------- shape distance
@pytest.mark.filterwarnings("ignore:the plug-in shape distance is dominated")
def test_shape_distance_matches_procrustes_and_is_a_rotation_invariant():
    from scipy.linalg import orthogonal_procrustes

    x, y = _pair(n=70, p=8, q=5, seed=6)
    xc = x - x.mean(0)
    yc = np.c_[y - y.mean(0), np.zeros((70, 3))]  # zero-padded to equal width
    xc, yc = xc / np.linalg.norm(xc), yc / np.linalg.norm(yc)
    r, _ = orthogonal_procrustes(xc, yc)
    expected = math.acos(float(np.sum((xc @ r) * yc)))
    est = nc.shape_distance(_rec(x), _rec(y), n_boot=30)
    assert est.value == pytest.approx(expected, rel=1e-10)
    assert est.ci is not None and 0 <= est.ci[0] <= est.value <= est.ci[1] <= math.pi / 2
    q = _orthogonal(8, 1)
    assert nc.shape_distance(_rec(x), _rec(3 * x @ q - 2), n_boot=0).value == pytest.approx(0.0, abs=1e-6)
    assert nc.shape_distance(_rec(y), _rec(x), n_boot=0).value == pytest.approx(est.value, rel=1e-10)
    # more units than samples: reduced exactly to n columns first
    rng = np.random.default_rng(0)
    wide, other = rng.normal(size=(30, 200)), rng.normal(size=(30, 120))
    wc, oc = wide - wide.mean(0), other - other.mean(0)
    cos = np.linalg.svd(wc.T @ oc, compute_uv=False).sum() / (np.linalg.norm(wc) * np.linalg.norm(oc))
    d = nc.shape_distance(_rec(wide), _rec(other), n_boot=20)
    assert d.value == pytest.approx(math.acos(cos), rel=1e-10) and d.ci is not None


# --------------------------------------------------------------------------- shape distance on a torch device
def _assert_shape_agrees(ref, dev, tol, device="cpu"):
    assert dev.value == pytest.approx(ref.value, rel=tol)
    for key in ("cosine", "crossfit_cosine"):
        assert dev.diagnostics[key] == pytest.approx(ref.diagnostics[key], rel=tol, abs=tol)
    assert dev.diagnostics["n_blocks"] == ref.diagnostics["n_blocks"]
    for key in ("replicates", "crossfit_replicates"):
        reps, ref_reps = dev.diagnostics[key], ref.diagnostics[key]
        assert reps.shape == ref_reps.shape
        np.testing.assert_array_equal(np.isnan(reps), np.isnan(ref_reps))
        np.testing.assert_allclose(reps, ref_reps, rtol=tol, atol=tol if key == "crossfit_replicates" else 0.0)
    assert (dev.ci is None) == (ref.ci is None)
    if ref.ci is not None:
        assert dev.ci == pytest.approx(ref.ci, rel=tol)
    assert len(dev.warnings) == len(ref.warnings)
    assert dev.params["device"] == device and ref.params["device"] is None
    assert {k: v for k, v in dev.params.items() if k != "device"} == \
        {k: v for k, v in ref.params.items() if k != "device"}


def _shape_cosine_direct(x, y):
    xc, yc = x - x.mean(0), y - y.mean(0)
    return np.linalg.svd(xc.T @ yc, compute_uv=False).sum() / (np.linalg.norm(xc) * np.linalg.norm(yc))


@pytest.mark.filterwarnings("ignore:the plug-in shape distance is dominated")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_shape_distance_device_path_agrees_with_numpy(dtype, monkeypatch):
    pytest.importorskip("torch")
    from neurocomplex._backend import pair_blocks as tpb

    tol = 1e-5 if dtype == np.float32 else 1e-10
    # (n, p, q): more samples than units; more units than samples on both sides, and on one side
    # (x narrowed to n float64 columns meets a float32 y)
    for n, p, q in ((600, 9, 6), (48, 70, 50), (48, 70, 30)):
        x, y = _device_pair(n, p, q, dtype, seed=n + q)
        for blocking in ({"n_boot": 0}, {"n_boot": 40, "seed": 3}, {"n_boot": 40, "seed": 3, "block_size": 4},
                         {"n_boot": 30, "seed": 1, "n_blocks": 12}):
            ref = nc.shape_distance(x, y, **blocking)
            dev = nc.shape_distance(x, y, device="cpu", **blocking)
            _assert_shape_agrees(ref, dev, tol)
            assert 0.1 < ref.value < 1.5  # a distance whose relative agreement means something
            if blocking["n_boot"]:
                assert dev.ci is not None and np.isfinite(dev.diagnostics["replicates"]).all()
                assert dev.diagnostics["replicates"].size == blocking["n_boot"]
            else:
                assert dev.ci is None and dev.diagnostics["replicates"].size == 0
                assert np.isfinite(dev.diagnostics["crossfit_cosine"])
    # replicates split over several device batches come back in draw order
    x, y = _device_pair(300, 7, 5, dtype, seed=2)
    ref = nc.shape_distance(x, y, n_boot=25, seed=4)
    monkeypatch.setattr(tpb, "_REPLICATE_BYTES", 8 * 7 * 5 * 6 * 3)
    _assert_shape_agrees(ref, nc.shape_distance(x, y, n_boot=25, seed=4, device="cpu"), tol)
    # too few blocks for an interval: the same warning and no interval on both paths
    with pytest.warns(nc.NeurocomplexWarning, match="no interval"):
        ref = nc.shape_distance(x, y, n_boot=20, block_size=100)
    with pytest.warns(nc.NeurocomplexWarning, match="no interval"):
        dev = nc.shape_distance(x, y, n_boot=20, block_size=100, device="cpu")
    _assert_shape_agrees(ref, dev, tol)


def _crossfit_direct(x, y, rows1, rows2):
    """Cross-fitted cosine from explicit rows: the partial isometry of one half scored on the other."""
    def centred(rows):
        xa, ya = x[rows] - x[rows].mean(0), y[rows] - y[rows].mean(0)
        return xa.T @ ya

    def aligned(c_fit, c_eval, distinct):
        u, s, vt = np.linalg.svd(c_fit, full_matrices=False)
        keep = min(distinct - 1, s.size)
        keep = int(np.sum(s[:keep] > 1e-10 * np.linalg.norm(xc) * np.linalg.norm(yc)))
        return np.trace(u[:, :keep].T @ c_eval @ vt[:keep].T)

    rows = np.r_[rows1, rows2]
    xc, yc = x[rows] - x[rows].mean(0), y[rows] - y[rows].mean(0)
    c1, c2 = centred(rows1), centred(rows2)
    n1, n2, n = rows1.size, rows2.size, rows.size
    d1, d2 = np.unique(rows1).size, np.unique(rows2).size
    return (0.5 * (aligned(c1, c2, d1) / (n2 - 1) + aligned(c2, c1, d2) / (n1 - 1)) * (n - 1)
            / (np.linalg.norm(xc) * np.linalg.norm(yc)))


@pytest.mark.parametrize("device", [None, "cpu"])
@pytest.mark.parametrize(("n", "p", "q"), [(90, 6, 4), (90, 70, 50)])  # halves of 42 rows: wide halves projected
def test_shape_replicates_equal_resampled_rows(device, n, p, q):
    if device is not None:
        pytest.importorskip("torch")
    from neurocomplex._backend.pair_blocks import shape_cosines_torch

    x, y = _pair(n=n, p=p, q=q, seed=8)
    xc, yc = x - x.mean(0), y - y.mean(0)
    blocks = pbk.block_assignment(90, 15, None, 2)
    half = np.arange(15) < 7
    draws = pbk.replicate_weights(15, 12, 6)
    if device is None:
        cos, fit = pbk.shape_cosines(pbk.shape_blocks(xc, yc, blocks, half), draws, half)
    else:
        cos, fit = shape_cosines_torch(xc, yc, blocks, draws, half, device)
    for w, c, f in zip(draws, cos, fit, strict=True):
        tiled = [np.tile(blocks[b], int(k)) for b, k in enumerate(w)]
        rows1, rows2 = np.concatenate(tiled[:7]), np.concatenate(tiled[7:])
        rows = np.r_[rows1, rows2]
        assert c == pytest.approx(_shape_cosine_direct(x[rows], y[rows]), rel=1e-10)
        assert f == pytest.approx(_crossfit_direct(x, y, rows1, rows2), rel=1e-9)
    if p < n / 2:
        est = nc.shape_distance(_rec(x), _rec(y), n_boot=12, seed=6, n_blocks=15, device=device)
    else:  # 70 and 50 units in halves of 42 rows: the plug-in cosine is biased upward, and said so
        with pytest.warns(nc.NeurocomplexWarning, match="the plug-in shape distance is dominated by its bias"):
            est = nc.shape_distance(_rec(x), _rec(y), n_boot=12, seed=6, n_blocks=15, device=device)
    assert est.diagnostics["cosine"] == pytest.approx(_shape_cosine_direct(x, y), rel=1e-12)
    order = pbk.block_assignment(90, 15, None, 6)  # the estimate's halves: its first 7 blocks and the rest
    rows1, rows2 = np.concatenate(order[:7]), np.concatenate(order[7:])
    assert est.diagnostics["crossfit_cosine"] == pytest.approx(_crossfit_direct(x, y, rows1, rows2), rel=1e-9)


def test_shape_interval_brackets_the_bias():
    """More units than samples: the plug-in cosine is far above the population one, the cross-fitted one
    below it; the interval holds both, its value, and the population distance."""
    rng = np.random.default_rng(3)
    k, p, n, sigma = 5, 200, 80, 1.0
    a, b = rng.normal(size=(k, p)) / np.sqrt(k), rng.normal(size=(k, p)) / np.sqrt(k)
    sxy = a.T @ b
    truth = math.acos(np.linalg.svd(sxy, compute_uv=False).sum()
                      / math.sqrt(np.trace(a.T @ a + sigma**2 * np.eye(p)) * np.trace(b.T @ b + sigma**2 * np.eye(p))))
    z = rng.normal(size=(n, k))
    x, y = z @ a + sigma * rng.normal(size=(n, p)), z @ b + sigma * rng.normal(size=(n, p))
    with pytest.warns(nc.NeurocomplexWarning, match="dominated by its bias"):
        est = nc.shape_distance(_rec(x), _rec(y))
    d = est.diagnostics
    assert math.cos(est.value) == pytest.approx(d["cosine"]) and d["cosine"] > math.cos(truth) > d["crossfit_cosine"]
    assert est.ci[0] <= est.value < truth <= est.ci[1]
    assert est.ci[1] >= math.acos(max(d["crossfit_cosine"], 0.0))
    assert d["interval"] == "bias_bracket" and d["bias_bound"] == pytest.approx(d["cosine"] - d["crossfit_cosine"])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_shape_distance_device_nan_replicates_where_a_resample_has_no_variance(dtype):
    pytest.importorskip("torch")
    # x varies only through sample 0 (integers: the centred sums are exact), so every replicate that
    # misses its block has no variance in x and an undefined cosine, on both paths
    rng = np.random.default_rng(5)
    xa = np.zeros((40, 3))
    xa[0] = [40.0, 80.0, -40.0]
    x, y = nc.Recording.from_array(xa.astype(dtype)), nc.Recording.from_array(rng.normal(size=(40, 4)).astype(dtype))
    with pytest.warns(nc.NeurocomplexWarning, match="the plug-in shape distance is dominated by its bias"):
        ref = nc.shape_distance(x, y, n_boot=60, seed=0, block_size=4)
    with pytest.warns(nc.NeurocomplexWarning, match="the plug-in shape distance is dominated by its bias"):
        dev = nc.shape_distance(x, y, n_boot=60, seed=0, block_size=4, device="cpu")
    assert 0 < np.isnan(ref.diagnostics["replicates"]).sum() < 60
    _assert_shape_agrees(ref, dev, 1e-5 if dtype == np.float32 else 1e-10)


@pytest.mark.filterwarnings("ignore:the 95% basic bootstrap interval")
@pytest.mark.filterwarnings("ignore:the plug-in shape distance is dominated")  # 300 samples of 2000 units, host too
@pytest.mark.skipif(not __import__("importlib").util.find_spec("torch"), reason="needs torch")
def test_shape_distance_device_path_on_cuda():
    import torch

    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    for dtype, tol in ((np.float32, 1e-5), (np.float64, 1e-10)):
        for n, p, q in ((20000, 256, 128), (300, 2000, 1500)):  # unit products; narrowed to n columns
            x, y = _device_pair(n, p, q, dtype, seed=p)
            for blocking in ({"n_boot": 50, "seed": 2}, {"n_boot": 50, "seed": 2, "block_size": n // 25}):
                ref = nc.shape_distance(x, y, **blocking)
                dev = nc.shape_distance(x, y, device="cuda", **blocking)
                _assert_shape_agrees(ref, dev, tol, device="cuda")


# --------------------------------------------------------------------------- RDMs and RSA
rsatoolbox = pytest.importorskip("rsatoolbox")


def _rsatoolbox_rdm(a, method, descriptor=None):
    from rsatoolbox.data import Dataset

    obs = {"cond": descriptor} if descriptor is not None else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return rsatoolbox.rdm.calc_rdm(Dataset(a, obs_descriptors=obs), method=method,
                                       descriptor="cond" if descriptor is not None else None)


@pytest.mark.parametrize(("ours", "theirs"), [("correlation", "correlation"), ("sqeuclidean", "euclidean")])
def test_rdm_equals_rsatoolbox(ours, theirs):
    x, _ = _pair(n=30, seed=7)
    mine = nc.rdm(_rec(x), distance=ours)
    ref = _rsatoolbox_rdm(x, theirs).get_matrices()[0]
    np.testing.assert_allclose(mine, ref, rtol=0, atol=1e-8 * max(1.0, np.abs(ref).max()))
    assert np.allclose(mine, mine.T) and np.all(np.diag(mine) == 0)
    eu = nc.rdm(_rec(x), distance="euclidean")
    np.testing.assert_allclose(eu, np.sqrt(ref * x.shape[1]) if ours == "sqeuclidean" else eu, rtol=1e-8, atol=1e-8)


def test_rdm_of_conditions_averages_like_rsatoolbox():
    rng = np.random.default_rng(8)
    x = rng.normal(size=(24, 7))
    cond = np.repeat([3, 1, 2, 0, 5, 4], 4)
    mine = nc.rdm(_rec(x), conditions=cond)
    ref = _rsatoolbox_rdm(x, "correlation", cond).get_matrices()[0]
    np.testing.assert_allclose(mine, ref, atol=1e-8)


@pytest.mark.parametrize(("distance", "theirs"), [("correlation", "correlation"), ("sqeuclidean", "euclidean"),
                                                  ("euclidean", "euclidean")])
@pytest.mark.parametrize(("compare", "method"), [("spearman", "spearman"), ("kendall_tau_a", "tau-a")])
def test_rsa_equals_rsatoolbox_compare(distance, theirs, compare, method):
    x, y = _pair(n=40, seed=9)
    est = nc.rsa(_rec(x), _rec(y), distance=distance, compare=compare, n_boot=0)
    ref = rsatoolbox.rdm.compare(_rsatoolbox_rdm(x, theirs), _rsatoolbox_rdm(y, theirs), method=method)[0, 0]
    assert est.value == pytest.approx(ref, abs=1e-8)


def test_rank_correlations_with_ties_match_scipy():
    from scipy.stats import spearmanr

    rng = np.random.default_rng(1)
    a, b = rng.integers(0, 5, 200).astype(float), rng.integers(0, 4, 200).astype(float)
    assert spearman(a, b) == pytest.approx(spearmanr(a, b).statistic, abs=1e-12)
    # τ_a by brute force over pairs
    i, j = np.triu_indices(200, 1)
    brute = np.sum(np.sign(a[i] - a[j]) * np.sign(b[i] - b[j])) / i.size
    assert kendall_tau_a(a, b) == pytest.approx(brute, abs=1e-12)


def test_condition_bootstrap_spearman_equals_explicit_resample():
    rng = np.random.default_rng(2)
    n = 12
    vx, vy = rng.normal(size=n * (n - 1) // 2), rng.normal(size=n * (n - 1) // 2)
    vy[:5] = vy[5]  # ties
    iu = np.triu_indices(n, 1)
    mx, my = np.zeros((n, n)), np.zeros((n, n))
    mx[iu], my[iu] = vx, vy
    mx, my = mx + mx.T, my + my.T
    ranks = RankPair(vx, vy)
    for _ in range(5):
        draw = rng.integers(0, n, n)
        c = np.bincount(draw, minlength=n).astype(float)
        k, m = np.triu_indices(n, 1)
        keep = draw[k] != draw[m]  # pairs of the same condition are left out (rsatoolbox's pattern bootstrap)
        ex = spearman(mx[draw[k], draw[m]][keep], my[draw[k], draw[m]][keep])
        w = c[iu[0]] * c[iu[1]]
        assert ranks.spearman(w[ranks.sa.order], w[ranks.sb.order]) == pytest.approx(ex, abs=1e-12)


def test_rsa_known_values_interval_and_noise_ceiling():
    rng = np.random.default_rng(3)
    n_cond, n_rep = 15, 4
    proto = rng.normal(size=(n_cond, 20))
    cond = np.repeat(np.arange(n_cond), n_rep)
    brain = proto[cond] + 0.8 * rng.normal(size=(cond.size, 20))
    net = proto[cond] @ rng.normal(size=(20, 30))  # deterministic: repeats are identical
    labels = pd.DataFrame({"stimulus": cond})
    x, y = _rec(net), _rec(brain)
    est = nc.rsa(x, y, conditions=cond, n_boot=100)
    assert est.diagnostics["n_conditions"] == n_cond
    assert est.diagnostics["reliability_x"] == pytest.approx(1.0)
    assert 0 < est.diagnostics["reliability_y"] < 1
    assert est.diagnostics["noise_ceiling"] == pytest.approx(math.sqrt(est.diagnostics["reliability_y"]))
    assert est.ci[0] <= est.value <= est.ci[1]
    assert est.value > 0.3
    # conditions by label column gives the same
    if hasattr(x, "labels"):
        xl, yl = x.replace(labels=labels), y.replace(labels=labels)
        assert nc.rsa(xl, yl, conditions="stimulus", n_boot=0).value == pytest.approx(est.value)
    # identical RDMs: 1, and every replicate of the condition bootstrap too (a resampled copy of a
    # condition is the same condition, not a tie that pulls τ_a below 1), so the interval is (1, 1)
    z = rng.normal(size=(10, 3))
    assert nc.rsa(_rec(z), _rec(5 * z), n_boot=0).value == pytest.approx(1.0)
    tau = nc.rsa(_rec(z), _rec(z), compare="kendall_tau_a", n_boot=20)
    assert tau.value == pytest.approx(1.0) and tau.ci == pytest.approx((1.0, 1.0))
    assert not [w for w in tau.warnings if "excludes the estimate" in w]


# --------------------------------------------------------------------------- predictivity
def test_predictivity_recovers_a_linear_map_and_ceiling():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 10))
    w = rng.normal(size=(10, 6))
    exact = nc.predictivity(_rec(x), _rec(x @ w), alpha=1e-6, n_boot=50)
    assert exact.value == pytest.approx(1.0, abs=1e-6)
    noisy = nc.predictivity(_rec(x), _rec(x @ w + 2.0 * rng.normal(size=(300, 6))), n_boot=50)
    sd_signal = np.std(x @ w, axis=0)
    expected_r = np.median(sd_signal / np.sqrt(sd_signal**2 + 4.0))
    assert noisy.value == pytest.approx(expected_r, abs=0.05)
    assert noisy.ci[0] <= noisy.value <= noisy.ci[1]
    unrelated = nc.predictivity(_rec(x), _rec(rng.normal(size=(300, 6))), n_boot=0)
    assert abs(unrelated.value) < 0.15
    # repeats: the score is divided by the Spearman-Brown split-half reliability of y
    cond = np.repeat(np.arange(60), 4)
    feat = rng.normal(size=(60, 8))
    signal = feat @ rng.normal(size=(8, 5))
    brain = signal[cond] + 1.5 * rng.normal(size=(240, 5))
    est = nc.predictivity(_rec(feat[cond]), _rec(brain), conditions=cond, n_boot=0, alpha=1e-3)
    assert 0 < est.diagnostics["ceiling"] < 1
    assert est.value == pytest.approx(est.diagnostics["median_r"] / est.diagnostics["ceiling"])
    assert est.value == pytest.approx(1.0, abs=0.15)  # noise-free map: ceiled score near 1


# --------------------------------------------------------------------------- bad input
PAIR = [nc.cka, nc.rsa, nc.shape_distance, nc.predictivity]


@pytest.mark.parametrize("func", PAIR)
def test_pair_estimators_reject_mismatched_samples_and_labels(func):
    x, y = _pair(n=40)
    with pytest.raises(nc.InvalidParameterError, match="samples"):
        func(_rec(x), _rec(y[:30]))
    with pytest.raises(nc.InvalidParameterError, match="Recording"):
        func(x, _rec(y))
    with pytest.raises(nc.InvalidParameterError, match="sample times"):
        func(_rec(x, sampling_rate=10.0), nc.Recording.from_array(y, sampling_rate=20.0))
    rx = _rec(x)
    if hasattr(rx, "labels"):
        la = pd.DataFrame({"stimulus": np.arange(40)})
        lb = pd.DataFrame({"stimulus": np.r_[np.arange(1, 40), 0]})
        with pytest.raises(nc.InvalidParameterError, match="do not line up"):
            func(rx.replace(labels=la), _rec(y).replace(labels=lb))


def test_bad_parameters_and_degenerate_data_raise_named_errors():
    x, y = _pair(n=40)
    with pytest.raises(nc.InvalidParameterError, match="distance"):
        nc.rdm(_rec(x), distance="cosine")
    with pytest.raises(nc.InvalidParameterError, match="conditions"):
        nc.rsa(_rec(x), _rec(y), conditions=np.arange(5))
    with pytest.raises(nc.InvalidParameterError, match="label column"):
        nc.rsa(_rec(x), _rec(y), conditions="stimulus")
    with pytest.raises(nc.InsufficientDataError, match="no variance"):
        nc.cka(_rec(np.ones((40, 3))), _rec(y))
    with pytest.raises(nc.InsufficientDataError, match="same in every unit"):
        nc.rdm(_rec(np.c_[np.ones(5), np.ones(5)]))
    with pytest.raises(nc.InsufficientDataError, match="cross-validation"):
        nc.predictivity(_rec(x[:6]), _rec(y[:6]))
    with pytest.raises(nc.InvalidParameterError, match="alpha"):
        nc.predictivity(_rec(x), _rec(y), alpha=0.0)
