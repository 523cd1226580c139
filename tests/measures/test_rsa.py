"""RDMs and RSA: exact ties on integer and binary data (against exact rational arithmetic and
rsatoolbox), identical ranks for the two Euclidean forms, the linearised condition bootstrap,
warnings for few conditions and a split-half ceiling symmetric in its halves."""

from __future__ import annotations

import math
import warnings
from fractions import Fraction

import numpy as np
import pytest
from scipy.spatial.distance import pdist
from scipy.stats import spearmanr

import neurocomplex as nc
from neurocomplex.measures import rsa as rsa_module
from neurocomplex.measures._rank import (
    RankPair,
    SortedVector,
    kendall_tau_a,
    smaller_before,
    spearman_influence,
    tau_a_influence,
)

rsatoolbox = pytest.importorskip("rsatoolbox")
from rsatoolbox.data import Dataset  # noqa: E402

TOL = 1e-12  # agreement with rsatoolbox and with the exact references


def _rec(a, **kw):
    return nc.Recording.from_array(np.asarray(a, dtype=float), **kw)


def _varying(a, n):
    return a[np.ptp(a, axis=1) > 0][:n]


def _data(kind, seed):
    rng = np.random.default_rng(seed)
    if kind == "counts":  # sparse spike counts: many equal dissimilarities
        return _varying(rng.poisson(0.8, size=(90, 10)).astype(float), 40)
    if kind == "binary":
        return _varying((rng.random((90, 12)) < 0.3).astype(float), 40)
    return rng.normal(size=(40, 10))


# --------------------------------------------------------------------------- exact references
def _exact_keys(a, distance, counts=None):
    """Exact rational key of every pair (upper triangle), ordered as the true dissimilarities."""
    s = [[int(v) for v in row] for row in np.asarray(a)]
    k = [1] * len(s) if counts is None else [int(c) for c in counts]
    p, keys = len(s[0]), []
    for i in range(len(s)):
        for j in range(i + 1, len(s)):
            if distance == "correlation":
                si, sj = sum(s[i]), sum(s[j])
                num = p * sum(u * v for u, v in zip(s[i], s[j], strict=True)) - si * sj
                di = p * sum(u * u for u in s[i]) - si * si
                dj = p * sum(v * v for v in s[j]) - sj * sj
                keys.append(Fraction(-num * abs(num), di * dj))
            else:
                keys.append(Fraction(sum((k[j] * u - k[i] * v) ** 2 for u, v in zip(s[i], s[j], strict=True)),
                                     (k[i] * k[j]) ** 2))
    return keys


def _dense(keys):
    levels = {v: r for r, v in enumerate(sorted(set(keys)))}
    return np.array([levels[v] for v in keys], dtype=float)


def _tau_a_brute(a, b):
    i, j = np.triu_indices(a.size, 1)
    return float(np.sum(np.sign(a[i] - a[j]) * np.sign(b[i] - b[j])) / i.size)


def _upper(m):
    return m[np.triu_indices(m.shape[0], 1)]


def _toolbox_rdm(a, distance, descriptor=None):
    obs = {"cond": descriptor} if descriptor is not None else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        rdm = rsatoolbox.rdm.calc_rdm(Dataset(a, obs_descriptors=obs), descriptor=None if descriptor is None else "cond",
                                      method="correlation" if distance == "correlation" else "euclidean")
    vec = rdm.get_vectors()[0]
    return np.sqrt(vec * a.shape[1]) if distance == "euclidean" else vec


# --------------------------------------------------------------------------- RDMs
@pytest.mark.parametrize("kind", ["counts", "binary"])
@pytest.mark.parametrize("distance", ["correlation", "euclidean", "sqeuclidean"])
def test_rdm_keeps_exact_ties_and_equals_rsatoolbox(kind, distance):
    a = _data(kind, seed=1)
    mine = _upper(nc.rdm(_rec(a), distance=distance))
    exact = _dense(_exact_keys(a, distance))
    # the same equality classes and the same order as the exact dissimilarities
    _, ours = np.unique(mine, return_inverse=True)
    np.testing.assert_array_equal(ours, exact)
    np.testing.assert_allclose(mine, _toolbox_rdm(a, distance), rtol=0, atol=TOL * max(1.0, mine.max()))


def test_rdm_of_integer_condition_means_with_unequal_counts_is_exact():
    rng = np.random.default_rng(2)
    cond = np.r_[np.repeat(np.arange(12), 3), np.arange(12), np.arange(6)]  # 5, 4 and 3 trials per condition
    counts = rng.poisson(0.9, size=(cond.size, 8)).astype(float)
    sums = np.array([counts[cond == c].sum(axis=0) for c in range(12)])
    k = np.bincount(cond)
    for distance in ("correlation", "sqeuclidean"):
        mine = _upper(nc.rdm(_rec(counts), distance=distance, conditions=cond))
        _, ours = np.unique(mine, return_inverse=True)
        np.testing.assert_array_equal(ours, _dense(_exact_keys(sums, distance, k)))
        np.testing.assert_allclose(mine, _toolbox_rdm(counts, distance, cond), rtol=0, atol=TOL * max(1.0, mine.max()))


def test_rdm_of_real_data_equals_rsatoolbox_and_copies_are_exact_ties():
    a = _data("gauss", seed=3)
    for distance in ("correlation", "euclidean", "sqeuclidean"):
        mine = nc.rdm(_rec(a), distance=distance)
        np.testing.assert_allclose(_upper(mine), _toolbox_rdm(a, distance), rtol=0, atol=1e-12 * max(1.0, mine.max()))
        assert np.array_equal(mine, mine.T) and np.all(np.diag(mine) == 0)
    # repeated float patterns (a network shown the same stimuli): zero between copies, equal to the rest
    reps = np.tile(a[:5] * np.pi, (6, 1))
    m = nc.rdm(_rec(reps), distance="euclidean")
    same = np.arange(30)[:, None] % 5 == np.arange(30)[None, :] % 5
    assert np.all(m[same] == 0.0)
    for i in range(5):
        for j in range(5):
            block = m[i::5, j::5]
            assert np.all(block == block[0, 0])


# --------------------------------------------------------------------------- RSA
@pytest.mark.parametrize(("kind_x", "kind_y"), [("counts", "binary"), ("counts", "counts"), ("gauss", "binary")])
@pytest.mark.parametrize("distance", ["correlation", "euclidean", "sqeuclidean"])
@pytest.mark.parametrize(("compare", "method"), [("spearman", "spearman"), ("kendall_tau_a", "tau-a")])
def test_rsa_equals_exact_ranks_and_rsatoolbox(kind_x, kind_y, distance, compare, method):
    x, y = _data(kind_x, seed=4), _data(kind_y, seed=5)
    est = nc.rsa(_rec(x), _rec(y), distance=distance, compare=compare, n_boot=0)
    # rsatoolbox's comparison of the same dissimilarities
    vx, vy = _upper(nc.rdm(_rec(x), distance=distance)), _upper(nc.rdm(_rec(y), distance=distance))
    theirs = rsatoolbox.rdm.compare(rsatoolbox.rdm.RDMs(vx[None]), rsatoolbox.rdm.RDMs(vy[None]), method=method)[0, 0]
    assert est.value == pytest.approx(theirs, abs=TOL)
    # ranks averaged over exact ties
    if kind_x != "gauss":
        ex = _dense(_exact_keys(x, distance))
        ey = _dense(_exact_keys(y, distance)) if kind_y != "gauss" else _dense(list(vy))
        ref = spearmanr(ex, ey).statistic if compare == "spearman" else _tau_a_brute(ex, ey)
        assert est.value == pytest.approx(ref, abs=TOL)
    # rsatoolbox from the raw data: its Euclidean RDMs of integers are exact as well
    if distance != "correlation" and kind_x != "gauss" and kind_y != "gauss":
        tx, ty = (rsatoolbox.rdm.calc_rdm(Dataset(a), method="euclidean") for a in (x, y))
        assert est.value == pytest.approx(rsatoolbox.rdm.compare(tx, ty, method=method)[0, 0], abs=TOL)


def test_rsatoolbox_correlation_rdm_splits_ties_that_rsa_keeps():
    """The case the exact route exists for: rsatoolbox's correlation RDM of spike counts rounds
    equal dissimilarities apart, which moves its Spearman value; ours equals the exact one."""
    x, y = _data("counts", seed=4), _data("binary", seed=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        tx, ty = (rsatoolbox.rdm.calc_rdm(Dataset(a), method="correlation") for a in (x, y))
    assert np.unique(tx.get_vectors()).size > len(set(_exact_keys(x, "correlation")))
    exact = spearmanr(_dense(_exact_keys(x, "correlation")), _dense(_exact_keys(y, "correlation"))).statistic
    assert nc.rsa(_rec(x), _rec(y), n_boot=0).value == pytest.approx(exact, abs=TOL)
    assert abs(rsatoolbox.rdm.compare(tx, ty, method="spearman")[0, 0] - exact) > 1e-6


@pytest.mark.parametrize("kind", ["counts", "gauss"])
def test_euclidean_and_sqeuclidean_give_identical_values(kind):
    x, y = _data(kind, seed=6), _data("counts", seed=7)
    for compare in ("spearman", "kendall_tau_a"):
        a = nc.rsa(_rec(x), _rec(y), distance="euclidean", compare=compare, n_boot=20)
        b = nc.rsa(_rec(x), _rec(y), distance="sqeuclidean", compare=compare, n_boot=20)
        assert a.value == b.value and a.ci == b.ci


def test_repeated_float_patterns_are_ranked_as_exact_ties():
    rng = np.random.default_rng(8)
    proto = rng.normal(size=(5, 30)).astype(np.float32)  # a layer shown 5 stimuli, 8 trials each
    net = np.tile(proto, (8, 1))
    brain = rng.poisson(2.0, size=(40, 15)).astype(float)
    est = nc.rsa(_rec(net), _rec(brain), distance="euclidean", n_boot=0)
    ref_net = pdist(net.astype(np.float64), "sqeuclidean")  # copies: bit-identical differences
    ref = spearmanr(ref_net, _dense(_exact_keys(brain, "sqeuclidean"))).statistic
    assert est.value == pytest.approx(ref, abs=TOL)


# --------------------------------------------------------------------------- sizes and warnings
def test_few_conditions_warn_and_two_are_refused():
    rng = np.random.default_rng(9)
    for n in (3, 4, 5):
        x, y = rng.normal(size=(n, 6)), rng.normal(size=(n, 6))
        with pytest.warns(nc.NeurocomplexWarning, match=f"only {n} conditions"):
            est = nc.rsa(_rec(x), _rec(y), n_boot=0)
        assert any("handful of conditions" in m for m in est.warnings)
    x, y = rng.normal(size=(6, 6)), rng.normal(size=(6, 6))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not nc.rsa(_rec(x), _rec(y)).warnings
    with pytest.raises(nc.InsufficientDataError, match="at least 3"):
        nc.rsa(_rec(x[:2]), _rec(y[:2]))
    cond = np.repeat([0, 1], 3)  # 6 samples of 2 conditions: one dissimilarity
    with pytest.raises(nc.InsufficientDataError, match="at least 3 conditions"):
        nc.rsa(_rec(x), _rec(y), conditions=cond)
    cond = np.repeat([0, 1, 2, 3], 2)  # 4 orientations, 2 trials each
    proto = rng.normal(size=(4, 6))
    x8, y8 = proto[cond] + 0.1 * rng.normal(size=(8, 6)), np.exp(proto[cond]) + 0.1 * rng.normal(size=(8, 6))
    with pytest.warns(nc.NeurocomplexWarning, match="only 4 conditions"):
        nc.rsa(_rec(x8), _rec(y8), conditions=cond, n_boot=0)


def test_identical_rdms_give_one_with_a_degenerate_interval():
    z = np.random.default_rng(10).normal(size=(10, 3))
    for compare in ("spearman", "kendall_tau_a"):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            est = nc.rsa(_rec(z), _rec(5 * z + 1), compare=compare, n_boot=50)
        assert est.value == pytest.approx(1.0) and est.ci == pytest.approx((1.0, 1.0))


def test_constant_rdm_and_constant_pattern_raise():
    x = np.random.default_rng(11).normal(size=(8, 4))
    with pytest.raises(nc.InsufficientDataError, match="constant"):
        nc.rsa(_rec(x), _rec(np.eye(8)), distance="euclidean")  # every distance √2
    with pytest.raises(nc.InsufficientDataError, match="same in every unit"):
        nc.rsa(_rec(x), _rec(np.c_[np.ones(8), np.ones(8)]))


# --------------------------------------------------------------------------- the interval
def _weighted(value_fn, n, c):
    i, j = np.triu_indices(n, 1)
    return value_fn(c[i] * c[j])


@pytest.mark.parametrize("compare", ["spearman", "kendall_tau_a"])
def test_replicates_are_the_linearised_condition_bootstrap(compare):
    """Replicate b = tanh(atanh(v) + Σ_i (c_bi − 1) ∂v/∂c_i / (1 − v²)), the derivatives checked
    against finite differences of the exactly reweighted statistic (pair (i, j) weighted c_i c_j)."""
    n = 14
    x, y = _data("counts", seed=12)[:n], _data("binary", seed=13)[:n]
    est = nc.rsa(_rec(x), _rec(y), compare=compare, n_boot=300, seed=3)
    vx, vy = _upper(nc.rdm(_rec(x))), _upper(nc.rdm(_rec(y)))
    if compare == "spearman":
        ranks = RankPair(vx, vy)

        def stat(w):
            return ranks.spearman(w[ranks.sa.order], w[ranks.sb.order])
    else:
        i, j = np.triu_indices(vx.size, 1)
        sign = np.sign(vx[i] - vx[j]) * np.sign(vy[i] - vy[j])

        def stat(w):
            tot = w.sum()
            return float(np.sum(w[i] * w[j] * sign) / (tot * (tot - 1) / 2))
    eps = 1e-6
    grad = np.array([(_weighted(stat, n, 1 + eps * e) - _weighted(stat, n, 1 - eps * e)) / (2 * eps)
                     for e in np.eye(n)])
    v = est.value
    assert _weighted(stat, n, np.ones(n)) == pytest.approx(v, abs=TOL)
    idx = np.random.default_rng(3).integers(0, n, size=(300, n))  # n conditions drawn with replacement
    draws = np.array([np.bincount(row, minlength=n) for row in idx])
    expected = np.tanh(np.arctanh(v) + (draws - 1) @ grad / (1 - v * v))
    np.testing.assert_allclose(est.diagnostics["replicates"], expected, rtol=0, atol=1e-7)
    assert est.diagnostics["interval"] == "percentile" and est.ci[0] <= v <= est.ci[1]


def test_linearised_replicates_spread_like_the_exact_condition_bootstrap():
    rng = np.random.default_rng(14)
    n = 60
    z = rng.normal(size=(n, 3))
    x = z @ rng.normal(size=(3, 20)) + rng.normal(size=(n, 20))
    y = np.tanh(z @ rng.normal(size=(3, 20))) + rng.normal(size=(n, 20))
    est = nc.rsa(_rec(x), _rec(y), distance="euclidean", n_boot=400)
    ranks = RankPair(_upper(nc.rdm(_rec(x), "euclidean")), _upper(nc.rdm(_rec(y), "euclidean")))
    i, j = np.triu_indices(n, 1)
    exact = []
    for c in rng.multinomial(n, np.full(n, 1 / n), size=400).astype(float):
        w = c[i] * c[j]
        exact.append(ranks.spearman(w[ranks.sa.order], w[ranks.sb.order]))
    ratio = np.std(est.diagnostics["replicates"]) / np.std(exact)
    assert 0.8 < ratio < 1.2


def test_replicates_pair_across_calls_with_the_same_seed():
    """The same seed draws the same conditions, so replicates of two layers are paired."""
    rng = np.random.default_rng(15)
    x, y1, y2 = rng.normal(size=(30, 5)), rng.normal(size=(30, 5)), rng.normal(size=(30, 5))
    a, b = nc.rsa(_rec(x), _rec(y1), seed=7), nc.rsa(_rec(x), _rec(y1), seed=7)
    np.testing.assert_array_equal(a.diagnostics["replicates"], b.diagnostics["replicates"])
    c = nc.rsa(_rec(x), _rec(y2), seed=7)
    assert not np.array_equal(a.diagnostics["replicates"], c.diagnostics["replicates"])


# --------------------------------------------------------------------------- rank helpers
def test_rank_helpers_against_brute_force():
    rng = np.random.default_rng(16)
    for m, ka, kb in [(35, 4, 5), (50, 1000, 1000), (44, 2, 60)]:
        a, b = rng.integers(0, ka, m).astype(float), rng.integers(0, kb, m).astype(float)
        v = rng.integers(0, 6, m)
        np.testing.assert_array_equal(smaller_before(v), [(v[:t] < v[t]).sum() for t in range(m)])
        sa, sb = SortedVector(a), SortedVector(b)
        assert spearman_influence(sa, sb)[0] == pytest.approx(spearmanr(a, b).statistic, abs=TOL)
        tau, influence = tau_a_influence(sa, sb)
        assert tau == pytest.approx(_tau_a_brute(a, b), abs=TOL)
        # the derivative in each entry's multiplicity: (q_f − τ (m − ½)) / P, q_f its concordant
        # minus discordant count against every other entry
        sign = np.sign(a[:, None] - a[None, :]) * np.sign(b[:, None] - b[None, :])
        pairs = m * (m - 1) / 2
        np.testing.assert_allclose(influence, (sign.sum(axis=1) - tau * (m - 0.5)) / pairs, atol=1e-14)
        assert kendall_tau_a(a, b) == pytest.approx(_tau_a_brute(a, b), abs=TOL)
    for size, k in [(1, 3), (2, 2), (1000, 7), (1537, 5000)]:  # one element, many levels, ragged last runs
        v = rng.integers(0, k, size)
        below = (v[None, :] < v[:, None]) & np.tri(size, k=-1, dtype=bool)
        np.testing.assert_array_equal(smaller_before(v), below.sum(axis=1))


def test_tau_a_is_the_exact_ratio_on_both_routes():
    # kendall_tau_a (scipy's tau_b, rounded back to con − dis) and tau_a_influence (integer counts)
    # give the same float, so nc.rsa's value does not depend on n_boot
    from fractions import Fraction

    rng = np.random.default_rng(21)
    for m, ka, kb in [(30, 3, 4), (400, 400, 400), (3000, 2, 9)]:
        a, b = rng.integers(0, ka, m).astype(float), rng.integers(0, kb, m).astype(float)
        exact = Fraction(int(np.sum(np.sign(a[:, None] - a) * np.sign(b[:, None] - b))) // 2, m * (m - 1) // 2)
        assert kendall_tau_a(a, b) == tau_a_influence(SortedVector(a), SortedVector(b))[0] == float(exact)
    x, y = rng.poisson(2.0, size=(40, 6)).astype(float), rng.poisson(2.0, size=(40, 9)).astype(float)
    with_ci = nc.rsa(_rec(x), _rec(y), compare="kendall_tau_a", seed=1)
    without = nc.rsa(_rec(x), _rec(y), compare="kendall_tau_a", n_boot=0)
    assert with_ci.value == without.value and with_ci.ci is not None


# --------------------------------------------------------------------------- noise ceiling
def test_split_half_comparison_is_symmetric():
    n = 6
    vals = np.arange(15.0)
    flat = rsa_module._Rdm(n, np.ones(15), np.ones(15))
    ramp = rsa_module._Rdm(n, vals, vals)
    for method in ("spearman", "kendall_tau_a"):
        assert rsa_module._half_compare(flat, ramp, method) == rsa_module._half_compare(ramp, flat, method) == 0.0
        assert math.isnan(rsa_module._half_compare(flat, flat, method))


def test_noise_ceiling_is_the_same_with_the_halves_swapped(monkeypatch):
    rng = np.random.default_rng(17)
    n_cond, n_rep = 12, 4
    cond = np.repeat(np.arange(n_cond), n_rep)
    brain = rng.poisson(0.6 * np.exp(rng.normal(size=(n_cond, 10)))[cond]).astype(float)
    net = rng.normal(size=(n_cond, 20))[cond]
    plain = nc.rsa(_rec(net), _rec(brain), conditions=cond, n_boot=0, distance="euclidean")
    draw = rsa_module.random_half
    monkeypatch.setattr(rsa_module, "random_half", lambda *args: ~draw(*args))
    swapped = nc.rsa(_rec(net), _rec(brain), conditions=cond, n_boot=0, distance="euclidean")
    for key in ("reliability_x", "reliability_y", "noise_ceiling"):
        assert swapped.diagnostics[key] == pytest.approx(plain.diagnostics[key], abs=1e-12)
    assert plain.diagnostics["reliability_x"] == pytest.approx(1.0)


def test_real_spike_counts_keep_exact_ties(mtl_nwb_path):
    """Human MTL units, spike counts per recognition trial (1 s): the correlation RDM's equal
    dissimilarities are those of exact rational arithmetic (rsatoolbox rounds some apart)."""
    rec = nc.load(mtl_nwb_path, bin_size=0.1)
    counts = np.asarray(rec.trial_responses("recognition_table", window=(0.0, 1.0)).data, dtype=float)
    keep = (np.ptp(counts[:, :17], axis=1) > 0) & (np.ptp(counts[:, 17:], axis=1) > 0)
    x, y = counts[keep, :17], counts[keep, 17:]
    mine = _upper(nc.rdm(_rec(x)))
    exact_x = _dense(_exact_keys(x, "correlation"))
    np.testing.assert_array_equal(np.unique(mine, return_inverse=True)[1], exact_x)
    np.testing.assert_allclose(mine, _toolbox_rdm(x, "correlation"), rtol=0, atol=TOL)
    ref = spearmanr(exact_x, _dense(_exact_keys(y, "correlation"))).statistic
    assert nc.rsa(_rec(x), _rec(y), n_boot=0).value == pytest.approx(ref, abs=TOL)


def test_rdm_too_large_for_memory_is_refused_before_allocating():
    rec = nc.Recording.from_array(np.random.default_rng(0).normal(size=(200_000, 2)))
    with pytest.raises(nc.MemoryLimitError, match=r"200000 x 200000.*average the trials by condition"):
        nc.rdm(rec)


def test_a_deterministic_population_has_ceiling_one_without_splitting(monkeypatch):
    # a network layer shown each stimulus twice gives the same pattern twice: its split-half
    # consistency is exactly 1, so the ceiling is the area's alone, and no half-RDM is formed for it
    rng = np.random.default_rng(3)
    codes = np.repeat(np.arange(12), 2)
    layer = rng.normal(size=(12, 500))[codes]
    area = rng.poisson(np.exp(0.5 * layer[:, :20]))
    calls = []
    original = rsa_module._rdm
    monkeypatch.setattr(rsa_module, "_rdm", lambda sums, *a: calls.append(sums.shape[1]) or original(sums, *a))
    est = nc.rsa(nc.Recording.from_array(area, kind="spike_counts"), nc.Recording.from_array(layer),
                 conditions=codes, n_boot=0, n_splits=5)
    assert est.diagnostics["reliability_y"] == 1.0
    assert 500 not in calls[2:]  # after the two full RDMs, only the area's halves were formed
    assert est.diagnostics["noise_ceiling"] == pytest.approx(math.sqrt(est.diagnostics["reliability_x"]))


@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.float64])
@pytest.mark.parametrize("repeats", [[2] * 30, [4] * 30, [3] * 29 + [5]])
def test_condition_sums_equal_a_plain_loop(dtype, repeats):
    # Balanced designs (every condition the same number of samples) add the k-th samples at once;
    # unbalanced ones go through reduceat: both equal a loop over conditions in float64.
    from neurocomplex.measures._reliability import sum_by_condition

    rng = np.random.default_rng(sum(repeats))
    codes = np.repeat(np.arange(30), repeats)
    rng.shuffle(codes)
    data = (rng.normal(size=(codes.size, 17)) * 50).astype(dtype)
    sums, counts = sum_by_condition(data, codes, 30)
    expected = np.stack([data[codes == c].astype(np.float64).sum(axis=0) for c in range(30)])
    assert sums.dtype == np.float64 and counts.tolist() == repeats
    if dtype == np.float64:
        np.testing.assert_allclose(sums, expected, rtol=1e-13, atol=1e-11)
    else:  # float32 and integer samples add exactly in float64
        np.testing.assert_array_equal(sums, expected)


def test_copies_of_wide_patterns_are_found_beyond_the_probed_columns():
    # 200 units: rows are first compared on 64 columns. Rows 0 and 1 are copies (distance exactly
    # 0); rows 2 and 3 agree on the probed columns and differ elsewhere (not copies).
    from neurocomplex.measures.rsa import _PROBE_COLUMNS, _float_rdm

    rng = np.random.default_rng(5)
    x = rng.normal(size=(12, 200))
    x[1] = x[0]
    probed = np.linspace(0, 199, _PROBE_COLUMNS).astype(int)
    x[3] = x[2] + 0.5
    x[3, probed] = x[2, probed]
    for distance, metric in (("correlation", "correlation"), ("euclidean", "euclidean")):
        rdm = _float_rdm(x, distance, "test")
        np.testing.assert_allclose(rdm.key if distance == "correlation" else np.sqrt(rdm.key), pdist(x, metric),
                                   rtol=1e-10, atol=1e-12)
        square = np.zeros((12, 12))
        square[np.triu_indices(12, 1)] = rdm.key
        assert square[0, 1] == 0.0 and square[2, 3] > 0.0


def test_merge_split_ties_merges_split_ties_and_restores_the_exact_order():
    from neurocomplex.measures._rank import merge_split_ties

    third = 1.0 / 3.0
    # entries 0 and 2 are one exact value split by rounding; entries 1 and 3 are rounded out of their
    # exact order (the true value of 3 is below that of 1); entry 4 is far from every other
    v = np.array([third, 0.5 + 2e-16, np.nextafter(third, 1.0), 0.5, 0.9])
    exact = [Fraction(1, 3), Fraction(1, 2) - Fraction(1, 10**17), Fraction(1, 3), Fraction(1, 2), Fraction(9, 10)]
    out, order = merge_split_ties(v, 1e-12, lambda idx: [exact[i] for i in idx])
    assert out[0] == out[2] and out[0] in (v[0], v[2])  # one value for the exact tie
    assert out[1] < out[3]  # the exact order (1 below 3), not the rounded one
    assert out[4] == v[4]
    assert np.all(np.diff(out[order]) >= 0)  # ``order`` sorts the output
    assert sorted(order.tolist()) == list(range(5))
    assert out[1] == v[3] and out[3] == v[1]  # the two values swapped between them
    # nothing close: returned unchanged
    same, order2 = merge_split_ties(np.array([0.1, 0.3, 0.2]), 1e-12, lambda idx: [exact[i] for i in idx])
    assert same.tolist() == [0.1, 0.3, 0.2] and order2.tolist() == [0, 2, 1]


def test_an_upper_triangle_entry_has_the_row_and_column_of_triu_indices():
    # the exact tie check finds each entry's pair from its position alone (exact integer square root)
    for n in (2, 3, 4, 7, 50, 301, 2_000):
        i, j = np.triu_indices(n, 1)
        got = np.array([rsa_module._upper_pair(e, n) for e in range(i.size)])
        np.testing.assert_array_equal(got[:, 0], i)
        np.testing.assert_array_equal(got[:, 1], j)
    n = 100_000  # a large matrix: the first two rows and the last two
    last = n * (n - 1) // 2 - 1
    assert [rsa_module._upper_pair(e, n) for e in (0, n - 2, n - 1, last - 1, last)] == [
        (0, 1), (0, n - 1), (1, 2), (n - 3, n - 1), (n - 2, n - 1)]
