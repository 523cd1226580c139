"""Pattern and reconstruction complexity (MEASURES.md §4): exact properties, a plain reference
implementation of the merging rule, analytic ground truths, networks and a real recording."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import neurocomplex as nc
from neurocomplex.measures import _leader
from neurocomplex.stats.words import count_words, unpack_words

# --------------------------------------------------------------------------- reference rule


def _reference_curve(binary: np.ndarray, max_radius: int) -> list[float]:
    """MEASURES.md §4a written plainly: loops over clusters, fine for tiny cases."""
    words, counts = np.unique(binary, axis=0, return_counts=True)
    value = [sum(int(b) << j for j, b in enumerate(w)) for w in words]
    clusters = [(value[i], words[i], int(counts[i])) for i in range(len(value))]

    def c_of(cl):
        q = np.array([c[2] for c in cl], dtype=float) / binary.shape[0]
        return math.exp(-float(np.sum(q * np.log(q))))

    out = [c_of(clusters)]
    for r in range(1, max_radius + 1):
        clusters.sort(key=lambda c: (-c[2], c[0]))  # heaviest first, ties by packed value
        survivors: list[list] = []
        for val, word, weight in clusters:
            for s in survivors:
                if int(np.sum(s[1] != word)) <= r:  # first earlier survivor within r
                    s[3] += weight
                    break
            else:
                survivors.append([val, word, weight, weight])
        clusters = [(s[0], s[1], s[3]) for s in survivors]
        out.append(c_of(clusters))
    return out


def _fast_curve(binary: np.ndarray) -> np.ndarray:
    words, counts = count_words(binary)
    n_units = binary.shape[1]
    return _leader.leader_merge_curve(words, counts, n_units, np.arange(n_units + 1))[0]


def _random_case(rng: np.random.Generator, max_units: int = 11, max_samples: int = 70) -> np.ndarray:
    n_units = int(rng.integers(2, max_units + 1))
    n_samples = int(rng.integers(1, max_samples + 1))
    p = rng.uniform(0.05, 0.6, size=n_units)
    return (rng.random((n_samples, n_units)) < p).astype(np.uint8)


def _binary(data: np.ndarray) -> nc.Recording:
    return nc.Recording.from_array(np.asarray(data, dtype=np.uint8), kind="binary")


def test_fast_kernel_equals_reference_rule_on_random_cases():
    rng = np.random.default_rng(2024)
    for _ in range(150):
        b = _random_case(rng)
        np.testing.assert_allclose(_fast_curve(b), _reference_curve(b, b.shape[1]), rtol=1e-12)


def test_direct_and_chunked_pair_generators_equal_the_reference_rule(monkeypatch):
    # Few leaders take every pair by popcount; without that route the chunk matching runs.
    rng = np.random.default_rng(11)
    cases = [_random_case(rng) for _ in range(40)]
    for direct in (1 << 21, 0):
        monkeypatch.setattr(_leader, "_DIRECT_SIZE", direct)
        monkeypatch.setattr(_leader, "_DIRECT_WORK", direct)
        for b in cases:
            np.testing.assert_allclose(_fast_curve(b), _reference_curve(b, b.shape[1]), rtol=1e-12)


def _reference_from_distances(dist: np.ndarray, counts: np.ndarray, radius: int) -> float:
    """The nested leader rule on a precomputed distance matrix (words in packed order, so the row
    index breaks weight ties), evaluated only at the radii where some distance lies."""
    clusters = [[i, int(c)] for i, c in enumerate(counts)]  # leader row, weight
    for r in np.unique(dist[(dist > 0) & (dist <= radius)]).tolist():
        clusters.sort(key=lambda c: (-c[1], c[0]))
        survivors: list[list[int]] = []
        for lead, weight in clusters:
            near = [s for s in survivors if dist[s[0], lead] <= r]
            if near:
                near[0][1] += weight
            else:
                survivors.append([lead, weight])
        clusters = survivors
    q = np.array([c[1] for c in clusters], dtype=float) / counts.sum()
    return math.exp(-float(np.sum(q * np.log(q))))


def test_few_words_of_a_wide_layer_take_every_pair_directly(monkeypatch):
    # 120 samples of 20,000 units at radius 2,000: chunk matching would need 2,001 chunks per pass.
    rng = np.random.default_rng(14)
    protos = rng.random((3, 20_000)) < 0.3
    flips = rng.random((120, 20_000)) < rng.uniform(0.01, 0.08, size=(120, 1))
    b = (protos[rng.integers(0, 3, size=120)] ^ flips).astype(np.uint8)
    b[30:40] = b[20:30]  # repeated words: weights that differ
    words, counts = count_words(b)
    monkeypatch.setattr(_leader, "_DIRECT_SIZE", 1 << 21)
    assert words.shape[0] ** 2 * words.shape[1] > _leader._DIRECT_SIZE  # taken directly only for the radius
    bits = unpack_words(words, 20_000).astype(np.float64)
    ones = bits.sum(axis=1)
    dist = np.rint(ones[:, None] + ones[None, :] - 2 * bits @ bits.T).astype(np.int64)
    chunked = []
    monkeypatch.setattr(_leader, "_pairs_by_chunks", lambda *a: chunked.append(a))
    for direct in (1 << 25, 0):  # every pair at once; the budgeted pass (radius >= 63: no chunk matching)
        monkeypatch.setattr(_leader, "_DIRECT_WORK", direct)
        for radius in (500, 2_000, 5_000):
            got = _leader.leader_merge_curve(words, counts, 20_000, np.array([radius]))[0][0]
            assert got == pytest.approx(_reference_from_distances(dist, counts, radius), rel=1e-12)
    assert not chunked
    assert 1.0 < _leader.leader_merge_curve(words, counts, 20_000, np.array([2_000]))[0][0] < 50.0


def test_after_an_empty_partial_chunk_pass_the_pass_over_every_pair_covers_the_rest(monkeypatch):
    # Far-apart words of 3 integers: a chunk pass covers the first radii and finds almost no pair,
    # so the next epoch counts every pair without probing chunks again; the curve is the rule's.
    rng = np.random.default_rng(15)
    z = rng.standard_normal((1500, 6)) @ rng.standard_normal((6, 150)) + rng.standard_normal((1500, 150))
    b = (z > np.quantile(z, 0.8, axis=0)).astype(np.uint8)
    words, counts = count_words(b)
    monkeypatch.setattr(_leader, "_DIRECT_SIZE", 0)
    calls = []
    inner = _leader._epoch_edges

    def recorded(*args):
        calls.append(args[-1])
        return inner(*args)

    monkeypatch.setattr(_leader, "_epoch_edges", recorded)
    bits = unpack_words(words, 150).astype(np.float64)
    ones = bits.sum(axis=1)
    dist = np.rint(ones[:, None] + ones[None, :] - 2 * bits @ bits.T).astype(np.int64)
    got = _leader.leader_merge_curve(words, counts, 150, np.array([15]))[0][0]
    assert got == pytest.approx(_reference_from_distances(dist, counts, 15), rel=1e-12)
    assert calls[0] is False and True in calls


@pytest.mark.parametrize("direct", [1 << 25, 0])
def test_distances_beyond_int16_do_not_wrap_into_the_radius(monkeypatch, direct):
    # Two words 65,636 bits apart: summed in 16 bits that distance wraps to 100, inside radius 1,000.
    monkeypatch.setattr(_leader, "_DIRECT_SIZE", direct)
    monkeypatch.setattr(_leader, "_DIRECT_WORK", direct)
    n_units = 70_000
    b = np.zeros((4, n_units), dtype=np.uint8)
    b[3, :65_636] = 1
    words, counts = count_words(b)
    c, n_clusters = _leader.leader_merge_curve(words, counts, n_units, np.array([1_000, 40_000]))
    assert n_clusters.tolist() == [2, 2]
    assert c[0] == pytest.approx(math.exp(-(0.75 * math.log(0.75) + 0.25 * math.log(0.25))), rel=1e-12)


def test_fast_kernel_equals_reference_on_long_words_and_every_pair_generator(monkeypatch):
    rng = np.random.default_rng(7)
    # 70 units: two uint64 per word; words are noisy copies of a few prototypes (many merges).
    protos = rng.random((4, 70)) < 0.5
    cases = []
    for _ in range(6):
        pick = protos[rng.integers(0, 4, size=40)]
        flips = rng.random((40, 70)) < rng.uniform(0.02, 0.2)
        cases.append((pick ^ flips).astype(np.uint8))
    expected = [_reference_curve(b, 40) for b in cases]
    for b, ref in zip(cases, expected):
        np.testing.assert_allclose(_fast_curve(b)[:41], ref, rtol=1e-12)
    # The budget forcing many epochs.
    monkeypatch.setattr(_leader, "_EDGE_BUDGET", 3)
    for b, ref in zip(cases, expected):
        np.testing.assert_allclose(_fast_curve(b)[:41], ref, rtol=1e-12)
    for _ in range(40):
        b = _random_case(rng)
        np.testing.assert_allclose(_fast_curve(b), _reference_curve(b, b.shape[1]), rtol=1e-12)


def test_the_budgeted_pass_over_every_pair_with_constant_units_matches_reference(monkeypatch):
    # No direct route and a budget of 40 pairs: chunk matching gives way to the pass over every
    # pair, whose radius the budget lowers (and whose buffer grows where one distance fills it).
    rng = np.random.default_rng(12)
    monkeypatch.setattr(_leader, "_EDGE_BUDGET", 40)
    monkeypatch.setattr(_leader, "_DIRECT_SIZE", 0)
    monkeypatch.setattr(_leader, "_DIRECT_WORK", 0)
    passes = []
    inner = _leader._pairs_by_popcount
    monkeypatch.setattr(_leader, "_pairs_by_popcount", lambda *a: passes.append(inner(*a)) or passes[-1])
    for _ in range(8):
        b = _random_case(rng, max_units=12, max_samples=90)
        b = np.concatenate([b, np.ones((b.shape[0], 3), np.uint8), np.zeros((b.shape[0], 2), np.uint8)], axis=1)
        np.testing.assert_allclose(_fast_curve(b), _reference_curve(b, b.shape[1]), rtol=1e-12)
    assert passes and any(p[3] < b.shape[1] - 1 for p in passes)  # some pass covered fewer radii


def test_chain_of_thermometer_words_matches_reference():
    # word k has its first k bits on: a chain in merge order, the worst case for the rounds
    n = 30
    b = np.tril(np.ones((n + 1, n), dtype=np.uint8), k=-1)
    np.testing.assert_allclose(_fast_curve(b), _reference_curve(b, n), rtol=1e-12)


def test_scale_zero_is_exp_plugin_entropy_and_scale_one_is_one(rng):
    b = (rng.random((500, 10)) < rng.uniform(0.1, 0.5, size=10)).astype(np.uint8)
    _, counts = np.unique(b, axis=0, return_counts=True)
    q = counts / counts.sum()
    h_nats = -float(np.sum(q * np.log(q)))
    rec = _binary(b)
    assert nc.pattern_complexity(rec, scale=0.0, n_boot=0).value == pytest.approx(math.exp(h_nats), rel=1e-12)
    assert nc.pattern_complexity(rec, scale=1.0, n_boot=0).value == 1.0


def test_non_increasing_in_scale_on_many_random_cases():
    rng = np.random.default_rng(99)
    for _ in range(60):
        b = _random_case(rng, max_units=14, max_samples=120)
        rec = _binary(b)
        scales = np.linspace(0, 1, 29)
        with warnings.catch_warnings():  # most of these tiny cases are undersampled, and say so
            warnings.simplefilter("ignore", nc.NeurocomplexWarning)
            values = [nc.pattern_complexity(rec, scale=s, n_boot=0).value for s in scales]
        assert np.all(np.diff(values) <= 1e-12), values


def test_invariant_to_unit_permutation_when_no_weights_tie():
    # Cluster weights that are distinct powers of two never tie (every sum of them is distinct),
    # so the order, hence the result, cannot depend on the column order used for tie-breaking.
    rng = np.random.default_rng(5)
    for _ in range(10):
        words = np.unique(rng.random((12, 9)) < 0.4, axis=0)
        b = np.repeat(words, 2 ** np.arange(len(words)), axis=0).astype(np.uint8)
        perm = rng.permutation(9)
        for scale in (0.0, 0.2, 0.4, 0.7):
            a = nc.pattern_complexity(_binary(b), scale=scale, n_boot=0).value
            p = nc.pattern_complexity(_binary(b[:, perm]), scale=scale, n_boot=0).value
            assert a == pytest.approx(p, rel=1e-12)


def test_independent_bernoulli_units_give_exp_true_entropy_at_scale_zero():
    rng = np.random.default_rng(11)
    p = rng.uniform(0.1, 0.5, size=8)
    b = (rng.random((20_000, 8)) < p).astype(np.uint8)
    h_true = float(np.sum(-(p * np.log(p) + (1 - p) * np.log(1 - p))))
    est = nc.pattern_complexity(_binary(b), scale=0.0, n_boot=30, seed=1)
    # plug-in bias at 256 words and 20,000 samples is about 255 / 40,000 nats: well within 2%
    assert est.value == pytest.approx(math.exp(h_true), rel=0.02)
    assert est.ci[0] <= math.exp(h_true) * 1.02 and est.ci[1] >= math.exp(h_true) * 0.98


def test_estimate_fields_bootstrap_and_validation(rng):
    rec = nc.Recording.from_array(rng.poisson(0.3, size=(300, 6)), kind="spike_counts")
    est = nc.pattern_complexity(rec, scale=0.2, n_boot=20, seed=3)
    assert est.diagnostics["radius"] == 1 and est.ci[0] <= est.ci[1] and est.ci[0] >= 1
    assert est == est and nc.pattern_complexity(rec, scale=0.2, n_boot=20, seed=3).ci == est.ci
    for bad in ({"scale": -0.1}, {"scale": 1.01}, {"threshold": math.nan}, {"n_boot": -1}):
        with pytest.raises(nc.InvalidParameterError):
            nc.pattern_complexity(rec, **bad)
    with pytest.raises(nc.InvalidParameterError, match="Recording"):
        nc.pattern_complexity(np.zeros((5, 2)))


def test_undersampled_words_warn():
    b = (np.random.default_rng(0).random((50, 40)) < 0.5).astype(np.uint8)
    with pytest.warns(nc.NeurocomplexWarning, match="undersampled"):
        est = nc.pattern_complexity(_binary(b), scale=0.0, n_boot=0)
    assert est.warnings


# --------------------------------------------------------------------------- complexity_curve


def test_complexity_curve_matches_pointwise_and_fits_a_known_power_law():
    rng = np.random.default_rng(3)
    b = (rng.random((400, 16)) < 0.3).astype(np.uint8)
    rec = _binary(b)
    with warnings.catch_warnings():  # 400 samples of 16 units: undersampled at small scales, and said so
        warnings.simplefilter("ignore", nc.NeurocomplexWarning)
        est = nc.complexity_curve(rec, scales=[0.0, 0.0625, 0.125, 0.25, 0.5], n_boot=5)
        points = [nc.pattern_complexity(rec, scale=s, n_boot=0).value for s in est.diagnostics["scales"]]
    curve = est.diagnostics["complexity"]
    for c, point in zip(curve, points, strict=True):
        assert c == pytest.approx(point, rel=1e-12)
    x, y = np.log(est.diagnostics["fit_scales"]), np.log(curve[1 : 1 + len(est.diagnostics["fit_scales"])])
    assert est.value == pytest.approx(np.polyfit(x, y, 1)[0], rel=1e-12)
    assert est.value <= 0 and 0 <= est.diagnostics["r2"] <= 1


def test_complexity_curve_warns_when_not_straight_and_rejects_too_little():
    b = np.array([[0, 0, 0, 0]] * 50 + [[1, 1, 1, 1]] * 50, dtype=np.uint8)
    with pytest.raises(nc.InsufficientDataError):
        nc.complexity_curve(_binary(b), scales=[0.0, 1.0])
    rng = np.random.default_rng(8)
    b = (rng.random((3000, 24)) < 0.5).astype(np.uint8)  # flat, then a cliff: not a power law
    with pytest.warns(nc.NeurocomplexWarning, match="not straight"):
        est = nc.complexity_curve(_binary(b))
    assert est.diagnostics["r2"] < 0.9 and est.warnings
    with pytest.raises(nc.InvalidParameterError):
        nc.complexity_curve(_binary(b), scales=[0.1, 1.2])


# --------------------------------------------------------------------------- networks (torch)


def test_always_on_relu_network_has_complexity_one_at_every_scale():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 32), torch.nn.ReLU(), torch.nn.Linear(32, 32), torch.nn.ReLU())
    with torch.no_grad():
        for layer in (net[0], net[2]):
            layer.bias.fill_(50.0)  # every pre-activation is positive for these inputs
        h = net(torch.randn(500, 4)).numpy()
    rec = nc.Recording.from_array(h, kind="activations")
    for scale in (0.0, 0.05, 0.3, 1.0):
        assert nc.pattern_complexity(rec, scale=scale, n_boot=0).value == 1.0


def test_cumulative_relu_state_complexity_grows_with_depth():
    torch = pytest.importorskip("torch")
    torch.manual_seed(1)
    width, depth = 8, 4
    layers = []
    for i in range(depth):
        lin = torch.nn.Linear(2 if i == 0 else width, width)
        torch.nn.init.kaiming_normal_(lin.weight, nonlinearity="relu")
        torch.nn.init.normal_(lin.bias, std=0.5)
        layers.append(lin)
    x = torch.randn(4000, 2)
    states = []
    with torch.no_grad():
        h = x
        for lin in layers:
            pre = lin(h)
            states.append((pre > 0).numpy())
            h = torch.relu(pre)
    values = []
    for l_ in range(1, depth + 1):
        cumulative = np.concatenate(states[:l_], axis=1).astype(np.uint8)
        values.append(nc.pattern_complexity(_binary(cumulative), scale=0.0, n_boot=0).value)
    # Layer 1: 8 lines cut the plane into at most 1 + 8 + 28 = 37 regions, so C <= 37.
    assert 2 < values[0] <= 37
    # Adding layers refines the partition: C at scale 0 can only grow, and it does.
    assert np.all(np.diff(values) >= -1e-12)
    assert values[-1] > 1.5 * values[0]


# --------------------------------------------------------------------------- reconstruction complexity


def _rec(a: np.ndarray) -> nc.Recording:
    return nc.Recording.from_array(np.asarray(a, dtype=float))


def _triangle(x: np.ndarray, k: int) -> np.ndarray:
    """k affine pieces of equal length on [0, 1], alternating slopes +k and -k."""
    t = (x * k) % 2.0
    return np.where(t < 1.0, t, 2.0 - t)


def _plain_kmeans(x: np.ndarray, k: int, rng: np.random.Generator, n_init: int = 3,
                  max_iter: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """k-means++ seeding and Lloyd's iterations written plainly: every center recomputed from a
    sequential sum of its rows at every iteration."""
    n = x.shape[0]
    best = None
    for _ in range(n_init):
        centers = [x[rng.integers(n)]]
        d2 = _leader.sq_dist(x, centers[0][None, :])[:, 0]
        for _ in range(1, k):
            if d2.sum() <= 0:
                break
            pick = int(np.searchsorted(np.cumsum(d2), rng.random() * d2.sum(), side="right"))
            centers.append(x[min(pick, n - 1)])
            d2 = np.minimum(d2, _leader.sq_dist(x, centers[-1][None, :])[:, 0])
        c = np.array(centers)
        labels = np.full(n, -1)
        for _ in range(max_iter):
            new = ((c * c).sum(axis=1)[None, :] - 2.0 * (x @ c.T)).argmin(axis=1)
            if np.array_equal(new, labels):
                break
            labels = new
            sums = np.zeros_like(c)
            for i in range(n):
                sums[labels[i]] += x[i]
            sizes = np.bincount(labels, minlength=c.shape[0])
            empty = sizes == 0
            c = np.where(empty[:, None], c, sums / np.maximum(sizes, 1)[:, None])
            if empty.any():
                far = np.argsort(_leader.sq_dist(x, c)[np.arange(n), labels])[::-1][: int(empty.sum())]
                c[empty] = x[far]
        inertia = float(_leader.sq_dist(x, c)[np.arange(n), labels].sum())
        if best is None or inertia < best[0]:
            best = (inertia, c, labels)
    return best[1], best[2]


@pytest.mark.parametrize("n_init", [1, 3])
def test_kmeans_equals_plain_lloyd_bit_for_bit(n_init):
    # The kernel recomputes only the centers whose members changed; the result must be identical
    # to recomputing every center, including with duplicate rows (empty clusters, re-seeding).
    rng = np.random.default_rng(31)
    for trial in range(30):
        n, d, k = int(rng.integers(5, 150)), int(rng.integers(1, 6)), int(rng.integers(1, 9))
        if trial % 2:
            x = rng.integers(0, 3, size=(n, d)).astype(float)
        else:
            x = rng.normal(size=(n, d))
        seed = int(rng.integers(2**31))
        c0, l0 = _plain_kmeans(x, k, np.random.default_rng(seed), n_init=n_init)
        c1, l1 = _leader.kmeans(x, k, np.random.default_rng(seed), n_init=n_init)
        assert np.array_equal(c0, c1) and np.array_equal(l0, l1)


def test_affine_map_has_reconstruction_complexity_one():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(600, 3))
    y = x @ rng.normal(size=(3, 4)) + rng.normal(size=4)
    for tol in (0.01, 0.1):
        est = nc.reconstruction_complexity(_rec(x), _rec(y), tolerance=tol, n_boot=10)
        assert est.value == 1.0 and est.diagnostics["k"] == 1
        assert est.diagnostics["errors"][0] < 1e-8


@pytest.mark.parametrize("k", [2, 4])
def test_piecewise_affine_1d_map_needs_k_pieces(k):
    x = np.random.default_rng(k).uniform(0, 1, size=(2000, 1))
    est = nc.reconstruction_complexity(_rec(x), _rec(_triangle(x, k)), tolerance=0.01, n_boot=0)
    errors = est.diagnostics["errors"]
    # k-means on a uniform 1-D input finds the k equal intervals, which are the pieces: e(k) ~ 0,
    # and with fewer clusters at least one kink stays inside a cluster.
    assert errors[-1] < 0.01 and np.all(errors[:-1] > 0.05)
    assert est.diagnostics["k"] == k
    # equal masses up to sampling: C within 3% below k (q_j = 1/k +- 0.01 gives C > 0.99 k)
    assert 0.97 * k <= est.value <= k + 1e-9


def test_piecewise_affine_2d_map():
    rng = np.random.default_rng(4)
    # elongated along x1, so that k-means with 2 clusters splits at x1 = 0, where the kink is
    x = np.column_stack([rng.uniform(-2, 2, 3000), rng.uniform(-0.5, 0.5, 3000)])
    y = np.column_stack([np.abs(x[:, 0]) + 0.5 * x[:, 1], x[:, 1] - x[:, 0]])
    est = nc.reconstruction_complexity(_rec(x), _rec(y), tolerance=0.01, n_boot=0)
    assert est.diagnostics["k"] == 2 and 1.95 <= est.value <= 2.0 + 1e-9
    df = nc.reconstruction_curve(_rec(x), _rec(y), tolerances=[0.01, 5.0])
    assert df["k"].tolist() == [2, 1] and df["value"].iloc[0] == pytest.approx(est.value)


def test_unreachable_tolerance_gives_nan_and_warning():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(300, 2)), rng.normal(size=(300, 2))  # Y independent of X
    with pytest.warns(nc.NeurocomplexWarning, match="no k"):
        est = nc.reconstruction_complexity(_rec(x), _rec(y), tolerance=0.01, k_max=3)
    assert math.isnan(est.value) and len(est.diagnostics["errors"]) == 3 and est.warnings


def test_pair_mismatch_is_rejected():
    x = nc.Recording.from_array(np.random.default_rng(0).normal(size=(100, 2)), sampling_rate=10.0)
    with pytest.raises(nc.InvalidParameterError, match="samples"):
        nc.reconstruction_complexity(x, _rec(np.zeros((99, 2)) + np.arange(99)[:, None]))
    shifted = nc.Recording.from_array(np.random.default_rng(1).normal(size=(100, 2)), sampling_rate=10.0, t_start=5.0)
    with pytest.raises(nc.InvalidParameterError, match="times"):
        nc.reconstruction_complexity(x, shifted)
    for bad in ({"tolerance": 0.0}, {"k_max": 0}, {"n_folds": 1}, {"ridge": -1.0}):
        with pytest.raises(nc.InvalidParameterError):
            nc.reconstruction_complexity(x, x, **bad)


def test_layer_complexity_table():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(400, 3))
    h1 = np.maximum(x @ rng.normal(size=(3, 10)), 0)
    h2 = np.maximum(h1 @ rng.normal(size=(10, 10)), 0)
    df = nc.layer_complexity([_rec(x), _rec(h1), _rec(h2)], scale=0.1, tolerance=0.1)
    assert len(df) == 5 and set(df.measure) == {"pattern_complexity", "reconstruction_complexity"}
    row = df[(df.layer == "2") & (df.measure == "reconstruction_complexity")].iloc[0]
    assert row.from_layer == "1"
    direct = nc.reconstruction_complexity(_rec(h1), _rec(h2), tolerance=0.1, n_boot=0)
    assert row.value == pytest.approx(direct.value) if not math.isnan(direct.value) else math.isnan(row.value)
    with pytest.raises(nc.InvalidParameterError):
        nc.layer_complexity([_rec(x), _rec(h1[:10])])


# --------------------------------------------------------------------------- real recording


def _mtl_by_area(path) -> dict[str, nc.Recording]:
    h5py = pytest.importorskip("h5py")
    with h5py.File(path, "r") as f:
        times = f["units/spike_times"][:]
        index = f["units/spike_times_index"][:]
        electrode = f["units/electrodes"][:]
        locations = f["general/extracellular_ephys/electrodes/location"][:].astype(str)
    trains = np.split(times, index[:-1])
    t0 = min(t.min() for t in trains if t.size)
    rec = nc.Recording.from_spike_times(trains, bin_size=0.1, t_start=float(t0), groups=locations[electrode])
    return rec.by_group()


def test_real_mtl_recording_per_area(mtl_nwb_path):
    areas = _mtl_by_area(mtl_nwb_path)
    assert len(areas) >= 2
    names = list(areas)
    for name in names:
        rec = areas[name].restrict(areas[name].times[0], areas[name].times[0] + 600.0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", nc.NeurocomplexWarning)
            est = nc.pattern_complexity(rec, scale=0.2, n_boot=10)
        assert math.isfinite(est.value) and 1 <= est.value <= rec.n_samples
    a = areas[names[0]].restrict(areas[names[0]].times[0], areas[names[0]].times[0] + 600.0)
    b = areas[names[1]].restrict(areas[names[1]].times[0], areas[names[1]].times[0] + 600.0)
    est = nc.reconstruction_complexity(a, b, tolerance=0.999, k_max=4, n_boot=0)
    assert math.isfinite(est.value) and 1 <= est.value <= 4
    assert np.all(np.isfinite(est.diagnostics["errors"]))


def test_bootstrap_through_word_counts_reports_its_interval():
    # At scale 0, C = exp(plug-in entropy): the replicates are those of the plug-in entropy drawn from
    # the same word counts with the same seed, and the interval comes with its percentile
    # counterpart and bootstrap bias.
    rng = np.random.default_rng(5)
    b = (rng.random((3000, 8)) < 0.2).astype(np.uint8)
    est = nc.pattern_complexity(_binary(b), scale=0.0, n_boot=50, seed=2)
    ent = nc.pattern_entropy(_binary(b), method="plugin", n_boot=50, seed=2)
    np.testing.assert_allclose(est.diagnostics["bootstrap_replicates"],
                               np.exp(ent.diagnostics["bootstrap_replicates"] * math.log(2)), rtol=1e-10)
    assert est.diagnostics["bias"] == pytest.approx(np.mean(est.diagnostics["bootstrap_replicates"]) - est.value)
    lo, hi = est.diagnostics["percentile_ci"]
    assert lo < hi and est.ci[0] >= 1.0
    blk = nc.pattern_complexity(_binary(b), scale=0.0, n_boot=50, seed=2, block_size=100)
    assert blk.ci is not None and blk.diagnostics["bootstrap_replicates"].size == 50


# --------------------------------------------------------------------------- device (torch)
def _structured_words(n_units: int, seed: int) -> nc.Recording:
    rng = np.random.default_rng(seed)
    x = (rng.random((3000, n_units)) < 0.15).astype(np.float32)
    x[:, :5] = x[:, 5:10]  # correlated units: fewer distinct words than samples
    return nc.Recording.from_array(x, kind="binary")


@pytest.mark.parametrize("n_units", [12, 70, 130])  # one, two and three 64-bit codes per word
def test_complexity_device_path_equals_numpy(n_units):
    pytest.importorskip("torch")
    from neurocomplex.measures.complexity import _distinct_words

    rec = _structured_words(n_units, n_units)
    ref, dev = _distinct_words(rec, 0.0), _distinct_words(rec, 0.0, device="cpu")
    for a, b in zip(ref, dev, strict=True):  # the same words in the same order, counts and indices
        np.testing.assert_array_equal(a, b)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nc.NeurocomplexWarning)
        a = nc.pattern_complexity(rec, n_boot=20, block_size=100)
        b = nc.pattern_complexity(rec, n_boot=20, block_size=100, device="cpu")
        c = nc.complexity_curve(rec, n_boot=2)
        d = nc.complexity_curve(rec, n_boot=2, device="cpu")
    assert b.value == a.value and b.ci == a.ci and b.params["device"] == "cpu"
    np.testing.assert_array_equal(b.diagnostics["bootstrap_replicates"], a.diagnostics["bootstrap_replicates"])
    assert d.value == c.value
    np.testing.assert_array_equal(d.diagnostics["complexity"], c.diagnostics["complexity"])
    with pytest.raises(nc.InvalidParameterError):
        nc.pattern_complexity(rec, device="no-such-device")


@pytest.mark.skipif(not __import__("importlib").util.find_spec("torch"), reason="needs torch")
def test_complexity_device_path_on_cuda():
    import torch

    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    rec = _structured_words(130, 7)

    def run(device):  # nearly every word is its own cluster (undersampled, at the bound): said on both paths
        with (pytest.warns(nc.NeurocomplexWarning, match="clusters for 3000 samples at scale 0.1: most clusters"),
              pytest.warns(nc.NeurocomplexWarning, match="basic bootstrap interval .* excludes the estimate")):
            return nc.pattern_complexity(rec, n_boot=10, device=device)

    a, b = run(None), run("cuda")
    assert b.value == a.value and b.ci == a.ci
