"""Entropy estimators on Recordings against analytic ground truth and hand computations."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest
from scipy import special, stats

import neurocomplex as nc
from neurocomplex.errors import InsufficientDataError, InvalidDataError, InvalidParameterError, NeurocomplexWarning
from neurocomplex.measures.entropy import entropy_from_counts, pattern_entropy_from_blocks, pattern_entropy_from_words
from neurocomplex.stats.words import WordCounts


def _h2(p: np.ndarray) -> np.ndarray:
    p = np.asarray(p, dtype=float)
    return -(p * np.log2(p) + (1 - p) * np.log2(1 - p))


def _bernoulli(rng: np.random.Generator, n_units: int, n_samples: int, low: float = 0.05,
               high: float = 0.5) -> tuple[nc.Recording, float]:
    p = rng.uniform(low, high, n_units)
    data = (rng.random((n_samples, n_units)) < p).astype(np.uint8)
    return nc.Recording.from_array(data, kind="binary"), float(_h2(p).sum())


# --------------------------------------------------------------------------- hand computations
def test_plugin_and_miller_madow_by_hand() -> None:
    # Words (1,0) x3 and (0,1) x1: H = -(3/4 log2 3/4 + 1/4 log2 1/4); Miller–Madow adds
    # (K_obs - 1)/(2N) = 1/8 nat = 0.125/ln 2 bits.
    plugin = -(0.75 * math.log2(0.75) + 0.25 * math.log2(0.25))
    rec = nc.Recording.from_array(np.array([[1, 0], [1, 0], [1, 0], [0, 1]]), kind="binary")
    assert nc.pattern_entropy(rec, method="plugin", n_boot=0).value == pytest.approx(plugin, abs=1e-12)
    mm = nc.pattern_entropy(rec, method="miller_madow", n_boot=0).value
    assert mm == pytest.approx(plugin + 0.125 / math.log(2), abs=1e-12)
    assert entropy_from_counts([3, 0, 1], method="miller_madow")[0] == pytest.approx(mm, abs=1e-12)
    assert entropy_from_counts([3, 1], method="plugin", base=math.e)[0] == pytest.approx(plugin * math.log(2))


def test_entropy_from_counts_matches_scipy(rng: np.random.Generator) -> None:
    counts = rng.integers(0, 50, size=40)
    assert entropy_from_counts(counts)[0] == pytest.approx(stats.entropy(counts, base=2), abs=1e-12)


def test_word_counts_entry_point() -> None:
    wc = WordCounts(3)
    wc.update(np.array([[1, 0, 0], [1, 0, 0], [0, 1, 1], [0, 0, 0]]))
    h, std = pattern_entropy_from_words(wc, method="nsb")
    assert h == pytest.approx(entropy_from_counts([2, 1, 1], 3, "nsb")[0])
    assert std is not None and std > 0


def test_unit_entropy_is_sum_of_binary_entropies(rng: np.random.Generator) -> None:
    data = (rng.random((1000, 6)) < [0.1, 0.2, 0.3, 0.5, 0.7, 0.9]).astype(float) * 3.0
    rec = nc.Recording.from_array(data, kind="rates", unit_ids=list("abcdef"))
    est = nc.unit_entropy(rec, n_boot=0)
    expected = _h2(data.astype(bool).mean(axis=0))
    np.testing.assert_allclose(est.diagnostics["unit_entropies"], expected, atol=1e-12)
    assert est.value == pytest.approx(expected.sum(), abs=1e-12)
    # The threshold defines the binary state.
    assert nc.unit_entropy(rec, threshold=5.0, n_boot=0).value == 0.0


@pytest.mark.parametrize("density", [0.02, 0.3])
def test_unit_ones_by_dense_and_sparse_bits_are_equal(monkeypatch, density: float) -> None:
    # 70 units (two integers per word) and slices of 3 words: both routes, over several slices,
    # give the same replicates, values and intervals (integer sums, exact in float64)
    from neurocomplex.measures import entropy

    r = np.random.default_rng(4)
    rec = nc.Recording.from_array((r.random((3000, 70)) < density).astype(np.uint8), kind="binary")
    monkeypatch.setattr(entropy, "_MAX_BITS_TABLE", 3 * 70)
    results = []
    for share in (10**9, 1):  # every word dense; no word dense (sparse)
        monkeypatch.setattr(entropy, "_DENSE_SHARE", share)
        for f in (nc.unit_entropy, nc.multi_information):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", NeurocomplexWarning)
                est = f(rec, n_boot=30)
            results.append((est.value, est.ci, est.diagnostics.get("bootstrap_replicates")))
    for dense, sparse_ in zip(results[:2], results[2:]):
        assert dense[0] == sparse_[0] and dense[1] == sparse_[1] and dense[1] is not None
    np.testing.assert_array_equal(results[0][2], results[2][2])  # unit_entropy's replicates


# --------------------------------------------------------------------------- accuracy
def test_well_sampled_all_methods_agree_with_truth(rng: np.random.Generator) -> None:
    rec, truth = _bernoulli(rng, 10, 50_000)
    for method in ("plugin", "miller_madow", "nsb"):
        assert abs(nc.pattern_entropy(rec, method=method, n_boot=0).value - truth) < 0.02


@pytest.mark.parametrize(("n_units", "n_samples"), [(8, 500), (12, 2000), (20, 50_000)])
def test_bias_corrections_beat_plugin(n_units: int, n_samples: int) -> None:
    rng = np.random.default_rng(n_units * 1000 + n_samples)
    err = {m: [] for m in ("plugin", "miller_madow", "nsb")}
    for _ in range(6):
        rec, truth = _bernoulli(rng, n_units, n_samples)
        for m in err:
            err[m].append(abs(nc.pattern_entropy(rec, method=m, n_boot=0).value - truth))
    assert np.mean(err["miller_madow"]) < np.mean(err["plugin"])
    assert np.mean(err["nsb"]) < np.mean(err["plugin"])


def test_confidence_intervals_cover_truth_when_well_sampled() -> None:
    # 6 units x 2,000 samples: every word is seen many times, so the interval should cover.
    # Measured elsewhere (30 draws, n_boot=100): at 8 x 2,000 plug-in 97%, NSB 97%; at 10 x 1,000
    # plug-in 3%, Miller–Madow 83%, NSB 87%; at 16 x 1,000 all fail (bias > interval).
    rng = np.random.default_rng(7)
    hits = {"plugin": 0, "nsb": 0}
    n_draws = 40
    for d in range(n_draws):
        rec, truth = _bernoulli(rng, 6, 2000)
        for m in hits:
            lo, hi = nc.pattern_entropy(rec, method=m, n_boot=100, seed=d).ci
            hits[m] += lo <= truth <= hi
    assert hits["plugin"] / n_draws >= 0.85
    assert hits["nsb"] / n_draws >= 0.85


# --------------------------------------------------------------------------- invariances
def test_unit_permutation_invariance(rng: np.random.Generator) -> None:
    rec, _ = _bernoulli(rng, 9, 800)
    perm = rng.permutation(9)
    shuffled = nc.Recording.from_array(np.asarray(rec.data)[:, perm], kind="binary")
    for m in ("plugin", "miller_madow", "nsb"):
        a = nc.pattern_entropy(rec, method=m, n_boot=0).value
        assert nc.pattern_entropy(shuffled, method=m, n_boot=0).value == pytest.approx(a, abs=1e-10)


def test_deterministic_and_input_untouched(rng: np.random.Generator) -> None:
    data = rng.normal(size=(500, 5))
    copy = data.copy()
    rec = nc.Recording.from_array(data)
    with warnings.catch_warnings():  # 5 units of 500 Gaussian samples: the interval may exclude the estimate
        warnings.simplefilter("ignore", NeurocomplexWarning)
        a = nc.pattern_entropy(rec, method="plugin", n_boot=50, seed=3)
        b = nc.pattern_entropy(rec, method="plugin", n_boot=50, seed=3)
    assert a.ci == b.ci and a.value == b.value
    np.testing.assert_array_equal(data, copy)
    assert a.params["seed"] == 3 and a.n_samples == 500 and a.n_units == 5


def test_base_changes_units(rng: np.random.Generator) -> None:
    rec, _ = _bernoulli(rng, 5, 600)
    bits = nc.pattern_entropy(rec, method="nsb", n_boot=0).value
    nats = nc.pattern_entropy(rec, method="nsb", n_boot=0, base=math.e).value
    assert nats == pytest.approx(bits * math.log(2), rel=1e-12)


# --------------------------------------------------------------------------- multi-information
def test_multi_information_of_independent_units_is_near_zero(rng: np.random.Generator) -> None:
    rec, _ = _bernoulli(rng, 6, 20_000)
    for m in ("plugin", "nsb"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NeurocomplexWarning)  # a slightly negative raw value is clipped
            est = nc.multi_information(rec, method=m, n_boot=0)
        assert est.value < 0.01 and abs(est.diagnostics["raw_value"]) < 0.01
    with warnings.catch_warnings():  # the plug-in bias of I is positive: the basic interval may exclude it
        warnings.simplefilter("ignore", NeurocomplexWarning)
        est = nc.multi_information(rec, method="plugin", n_boot=100)
    assert est.ci[0] == 0.0 or est.ci[0] < 0.01


def test_multi_information_of_duplicated_unit_is_its_entropy(rng: np.random.Generator) -> None:
    col = (rng.random(3000) < 0.3).astype(np.uint8)
    rec = nc.Recording.from_array(np.c_[col, col], kind="binary")
    expected = float(_h2(col.mean()))
    assert nc.multi_information(rec, method="plugin", n_boot=0).value == pytest.approx(expected, abs=1e-12)
    assert nc.multi_information(rec, method="nsb", n_boot=0).value == pytest.approx(expected, abs=0.01)


def test_negative_multi_information_is_clipped_with_warning() -> None:
    # Miller–Madow adds more to the 4-word pattern than to the 2-word units: negative raw value.
    rec = nc.Recording.from_array(np.array([[0, 0], [0, 1], [1, 0], [1, 1]] * 3), kind="binary")
    with pytest.warns(NeurocomplexWarning, match="negative"):
        est = nc.multi_information(rec, method="miller_madow", n_boot=0)
    assert est.value == 0.0 and est.diagnostics["raw_value"] < 0 and est.warnings


# --------------------------------------------------------------------------- time words
def test_word_entropy_and_rate_of_iid_train(rng: np.random.Generator) -> None:
    p = 0.2
    rec = nc.Recording.from_array((rng.random((40_000, 1)) < p).astype(np.uint8), kind="binary",
                                  sampling_rate=100.0)
    h = float(_h2(p))
    assert nc.word_entropy(rec, length=3, unit=0, method="nsb", n_boot=0).value == pytest.approx(3 * h, abs=0.03)
    est = nc.entropy_rate(rec, max_length=6, unit=0, method="nsb")
    assert est.value == pytest.approx(h, abs=0.02)
    assert est.diagnostics["rate_per_second"] == pytest.approx(est.value * 100.0)
    np.testing.assert_allclose(est.diagnostics["word_entropies"], h * np.arange(1, 7), atol=0.05)


def test_entropy_rate_of_periodic_train_vanishes() -> None:
    rec = nc.Recording.from_array(np.tile([1, 0, 0, 1, 0], 400)[:, None], kind="binary")
    est = nc.entropy_rate(rec, max_length=10, unit=0, method="plugin")
    assert abs(est.value) < 1e-3
    assert est.diagnostics["word_entropies"][-1] == pytest.approx(math.log2(5), abs=1e-3)


def test_entropy_rate_of_markov_chain(rng: np.random.Generator) -> None:
    # Binary Markov chain with P(1|0) = a, P(0|1) = b: rate = (b h(a) + a h(b)) / (a + b).
    a, b, n = 0.1, 0.4, 60_000
    # Holding times are geometric, alternating between the two states (starts in state 0).
    runs = np.empty(2 * n, dtype=np.int64)
    runs[0::2], runs[1::2] = rng.geometric(a, size=n), rng.geometric(b, size=n)
    x = np.repeat(np.tile(np.array([0, 1], dtype=np.uint8), n), runs)[:n]
    rate = (b * _h2(a) + a * _h2(b)) / (a + b)
    rec = nc.Recording.from_array(x[:, None], kind="binary")
    est = nc.entropy_rate(rec, max_length=4, unit=0, method="nsb")
    assert est.value == pytest.approx(rate, abs=0.015)
    cond = est.diagnostics["conditional_entropies"]
    assert cond[1:] == pytest.approx(np.full(3, rate), abs=0.02)


def test_population_words_longer_than_64_bits(rng: np.random.Generator) -> None:
    data = (rng.random((300, 40)) < 0.05).astype(np.uint8)
    rec = nc.Recording.from_array(data, kind="binary")
    length = 2  # 80-bit words
    windows = np.concatenate([data[:-1], data[1:]], axis=1)
    _, counts = np.unique(windows, axis=0, return_counts=True)
    est = nc.word_entropy(rec, length=length, method="plugin", n_boot=0)
    assert est.value == pytest.approx(stats.entropy(counts, base=2), abs=1e-12)
    assert est.n_samples == 299 and est.diagnostics["alphabet_size_log2"] == 80


def test_short_population_words_match_explicit_windows(rng: np.random.Generator) -> None:
    data = (rng.random((500, 3)) < 0.3).astype(np.uint8)
    rec = nc.Recording.from_array(data, kind="binary")
    windows = np.concatenate([data[:-2], data[1:-1], data[2:]], axis=1)
    _, counts = np.unique(windows, axis=0, return_counts=True)
    assert nc.word_entropy(rec, length=3, method="plugin", n_boot=0).value == pytest.approx(
        stats.entropy(counts, base=2), abs=1e-12)


# --------------------------------------------------------------------------- warnings and errors
def test_no_coincidence_warns() -> None:
    rec = nc.Recording.from_array(np.eye(16, dtype=np.uint8)[:10], kind="binary")
    with pytest.warns(NeurocomplexWarning, match="no coincidence"):
        est = nc.pattern_entropy(rec, method="nsb", n_boot=0)
    assert est.diagnostics["n_coincidences"] == 0 and est.warnings


def test_invalid_parameters_raise(rng: np.random.Generator) -> None:
    rec, _ = _bernoulli(rng, 3, 50)
    bad = [
        (nc.pattern_entropy, {"method": "bogus"}), (nc.pattern_entropy, {"base": 1.0}),
        (nc.pattern_entropy, {"threshold": math.nan}), (nc.pattern_entropy, {"n_boot": -1}),
        (nc.unit_entropy, {"ci_level": 2.0}), (nc.multi_information, {"base": 0}),
        (nc.word_entropy, {"length": 0}), (nc.word_entropy, {"unit": "missing"}),
        (nc.entropy_rate, {"max_length": 1}), (nc.entropy_rate, {"max_length": 4, "min_length": 4}),
    ]
    for func, kwargs in bad:
        with pytest.raises(InvalidParameterError):
            func(rec, **kwargs)
    with pytest.raises(InvalidParameterError):
        nc.pattern_entropy(np.zeros((4, 2)))
    with pytest.raises(InsufficientDataError):
        nc.word_entropy(nc.Recording.from_array(np.ones((3, 1)), kind="binary"), length=5)
    with pytest.raises(InvalidDataError):
        entropy_from_counts([1, -2, 3])
    with pytest.raises(InvalidDataError):
        entropy_from_counts([1.5, 2])
    with pytest.raises(InsufficientDataError):
        entropy_from_counts([0, 0])
    with pytest.raises(InvalidParameterError, match="alphabet_size_log2"):
        entropy_from_counts([1, 2], method="nsb")


def test_registered_with_the_entropy_family() -> None:
    for name in ("unit_entropy", "pattern_entropy", "multi_information", "word_entropy", "entropy_rate"):
        spec = nc.get_estimator(name)
        assert spec.family == "entropy" and spec.binary


def test_spike_count_recordings_use_spikes_as_ones() -> None:
    times = [np.array([0.005, 0.015, 0.0151]), np.array([0.025])]
    rec = nc.Recording.from_spike_times(times, bin_size=0.01, t_stop=0.04)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NeurocomplexWarning)
        est = nc.pattern_entropy(rec, method="plugin", n_boot=0)
    # bins: (1,0), (1,0) [two spikes], (0,1), (0,0) -> counts 2, 1, 1
    assert est.value == pytest.approx(1.5)


# --------------------------------------------------------------------------- intervals through the counts
def _old_sample_resampling_ci(data: np.ndarray, n_boot: int, seed: int, block_size: int | None = None):
    """The interval as computed before: plug-in on resampled rows (the samples themselves)."""
    from neurocomplex.estimate import bootstrap_ci

    _, inverse, counts = np.unique(data, axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.ravel()
    value = float(stats.entropy(counts, base=2))

    def stat(idx: np.ndarray) -> float:
        return float(stats.entropy(np.bincount(inverse[idx]), base=2))

    return bootstrap_ci(stat, data.shape[0], n_boot, seed, block_size, 0.95, "basic", value)


@pytest.mark.parametrize(("n_units", "n_samples"), [(6, 3000), (16, 20_000)])
def test_count_bootstrap_matches_sample_resampling_width(n_units: int, n_samples: int) -> None:
    # Both resample the same empirical distribution: the multinomial over the distinct words (6 units)
    # or the Poisson counts-of-counts (16 units: > 4096 distinct words) against resampled rows.
    rng = np.random.default_rng(n_units)
    rec, _ = _bernoulli(rng, n_units, n_samples)
    data = np.asarray(rec.data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NeurocomplexWarning)
        est = nc.pattern_entropy(rec, method="plugin", n_boot=400, seed=1)
    (old_lo, old_hi), old_reps = _old_sample_resampling_ci(data, 400, 2)
    new_reps = est.diagnostics["bootstrap_replicates"]
    assert est.diagnostics["n_distinct"] > (4096 if n_units == 16 else 0)
    assert np.std(new_reps) == pytest.approx(np.std(old_reps), rel=0.15)
    assert np.mean(new_reps) == pytest.approx(np.mean(old_reps), abs=0.3 * np.std(old_reps))
    assert est.ci[1] - est.ci[0] == pytest.approx(old_hi - old_lo, rel=0.2)


def test_block_bootstrap_of_counts_matches_sample_blocks(rng: np.random.Generator) -> None:
    # A slowly switching population (dependent samples): the block interval through the per-block
    # count tables has the width of the block interval over resampled rows, and both are wider
    # than the i.i.d. interval.
    n, n_units, block = 20_000, 5, 200
    state = np.repeat(rng.random(n // 100) < 0.5, 100)
    data = (rng.random((n, n_units)) < np.where(state[:, None], 0.4, 0.1)).astype(np.uint8)
    rec = nc.Recording.from_array(data, kind="binary")
    blk = nc.pattern_entropy(rec, method="plugin", n_boot=300, seed=0, block_size=block)
    iid = nc.pattern_entropy(rec, method="plugin", n_boot=300, seed=0)
    (old_lo, old_hi), _ = _old_sample_resampling_ci(data, 300, 5, block)
    assert blk.ci[1] - blk.ci[0] == pytest.approx(old_hi - old_lo, rel=0.25)
    assert blk.ci[1] - blk.ci[0] > 2 * (iid.ci[1] - iid.ci[0])


def test_biased_plugin_interval_says_what_it_covers() -> None:
    # The plug-in estimate of 24 independent units at p = 0.1 (truth 11.26 bits) from 20,000 samples is
    # biased low by far more than its sampling spread: the basic interval excludes the estimate and
    # the truth, and the estimate says so (at 10^6 x 32: estimate 14.29, interval (14.46, 14.48)).
    rng = np.random.default_rng(3)
    data = (rng.random((20_000, 24)) < 0.1).astype(np.uint8)
    truth = float(24 * _h2(0.1))
    rec = nc.Recording.from_array(data, kind="binary")
    with pytest.warns(NeurocomplexWarning, match="covers sampling variability only, not the estimator's bias"):
        est = nc.pattern_entropy(rec, method="plugin")
    lo, hi = est.ci
    assert est.value < lo and hi < truth
    assert est.diagnostics["interval"] == "basic"
    _p_lo, p_hi = est.diagnostics["percentile_ci"]
    assert p_hi < est.value  # the resamples are biased further down
    bias = est.diagnostics["bias"]
    assert bias == pytest.approx(np.mean(est.diagnostics["bootstrap_replicates"]) - est.value)
    assert bias < -(hi - lo)
    assert any("excludes the estimate" in w for w in est.warnings)
    # A well-sampled case has no such warning, but the same diagnostics.
    rec6, _ = _bernoulli(np.random.default_rng(4), 4, 5000)
    with warnings.catch_warnings():
        warnings.simplefilter("error", NeurocomplexWarning)
        ok = nc.pattern_entropy(rec6, method="plugin")
    assert ok.ci[0] <= ok.value <= ok.ci[1] and not ok.warnings
    assert "percentile_ci" in ok.diagnostics and abs(ok.diagnostics["bias"]) < 0.01


def test_count_bootstrap_is_deterministic_for_a_seed(rng: np.random.Generator) -> None:
    rec, _ = _bernoulli(rng, 16, 20_000)  # Poisson counts-of-counts path
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NeurocomplexWarning)
        for kw in ({}, {"block_size": 50}):
            a = nc.pattern_entropy(rec, method="miller_madow", n_boot=60, seed=11, **kw)
            b = nc.pattern_entropy(rec, method="miller_madow", n_boot=60, seed=11, **kw)
            c = nc.pattern_entropy(rec, method="miller_madow", n_boot=60, seed=12, **kw)
            assert a.ci == b.ci and a.ci != c.ci
            np.testing.assert_array_equal(a.diagnostics["bootstrap_replicates"], b.diagnostics["bootstrap_replicates"])


def test_unit_and_multi_information_intervals_through_counts(rng: np.random.Generator) -> None:
    rec, truth = _bernoulli(rng, 6, 5000)
    est = nc.unit_entropy(rec, n_boot=300, seed=0)
    # Sum of unit entropies: its sampling sd is sqrt(sum_u var(h_u)) with var(h_u) = p(1-p) log2((1-p)/p)^2 / N
    p = np.asarray(rec.data).mean(axis=0)
    sd = math.sqrt(float(np.sum(p * (1 - p) * np.log2((1 - p) / p) ** 2)) / 5000)
    assert np.std(est.diagnostics["bootstrap_replicates"]) == pytest.approx(sd, rel=0.15)
    assert est.ci[0] <= est.value <= est.ci[1]
    assert abs(est.value - truth) < 4 * sd
    blk = nc.unit_entropy(rec, n_boot=100, seed=0, block_size=100)
    assert blk.ci[0] < est.value < blk.ci[1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NeurocomplexWarning)
        mi = nc.multi_information(rec, method="plugin", n_boot=200, seed=0)
    assert mi.ci[0] >= 0.0 and mi.ci[1] < 0.05 and "bias" in mi.diagnostics
    # Two identical units: I = H(unit), with a bootstrap spread like that of one unit entropy.
    col = (rng.random(4000) < 0.3).astype(np.uint8)
    dup = nc.multi_information(nc.Recording.from_array(np.c_[col, col], kind="binary"), method="plugin",
                               n_boot=200, seed=0)
    assert dup.ci[0] < float(_h2(col.mean())) < dup.ci[1]


def test_entropy_rate_interval_through_counts(rng: np.random.Generator) -> None:
    x = (rng.random(20_000) < 0.2).astype(np.uint8)
    rec = nc.Recording.from_array(x[:, None], kind="binary")
    est = nc.entropy_rate(rec, max_length=4, unit=0, method="plugin", n_boot=100, seed=0)
    assert est.ci[0] < float(_h2(0.2)) < est.ci[1]
    assert est.ci[1] - est.ci[0] < 0.05
    blk = nc.entropy_rate(rec, max_length=4, unit=0, method="plugin", n_boot=100, seed=0, block_size=50)
    assert blk.ci is not None and blk.diagnostics["bootstrap_replicates"].size == 100


def test_entropy_rate_nsb_interval_covers_the_rate_of_known_answer_trains() -> None:
    """Two independent Bernoulli(0.2) units, 20,000 bins, words up to 6 bins (12 bits): the rate is
    2 h(0.2) at every length. NSB's replicates sit about 0.03 bits below its nearly unbiased estimate
    (a resampling artefact: repeated samples look like coincidences); the basic interval added that
    to the estimate and covered the rate in 0 of 40 draws. The interval now keeps the replicates'
    spread centred on the estimate (0.93 of 40 draws in the coverage run), with blocks of starts."""
    true = 2 * float(_h2(0.2))
    covered = 0
    for seed in range(4):
        x = (np.random.default_rng(100 + seed).random((20_000, 2)) < 0.2).astype(np.uint8)
        est = nc.entropy_rate(nc.Recording.from_array(x, kind="binary"), max_length=6, n_boot=50, seed=seed)
        assert est.diagnostics["interval"] == "percentile_centred"
        assert est.ci[0] < est.value < est.ci[1] and est.ci[1] - est.ci[0] < 0.06
        assert est.diagnostics["bias"] < -0.01  # the replicates' offset is reported, not added
        assert est.params["block_size"] == 60  # 10 word lengths of starts
        covered += est.ci[0] <= true <= est.ci[1]
    assert covered >= 3


def test_entropy_rate_interval_messages_use_the_estimate_units() -> None:
    """The plug-in's basic interval of undersampled words excludes its estimate; the message gives
    both in bits (they were in nats, beside an estimate in bits)."""
    x = (np.random.default_rng(4).poisson(0.2, size=(3000, 5)) > 0).astype(np.uint8)
    with pytest.warns(NeurocomplexWarning, match="excludes the estimate") as record:
        est = nc.entropy_rate(nc.Recording.from_array(x, kind="binary"), method="plugin", n_boot=50, seed=1)
    message = next(str(w.message) for w in record if "excludes the estimate" in str(w.message))
    assert f"excludes the estimate {est.value:.4g}" in message
    assert f"({est.ci[0]:.4g}, {est.ci[1]:.4g})" in message


# --------------------------------------------------------------------------- blocks of word counts
def test_pattern_entropy_from_blocks_equals_all_samples(rng: np.random.Generator) -> None:
    rec, _ = _bernoulli(rng, 70, 3000, 0.0, 0.05)  # 70 units: two packed integers per word
    data = np.asarray(rec.data)
    edges = [0, 400, 401, 1500, 3000]
    blocks = []
    for a, b in itertools.pairwise(edges):
        wc = WordCounts(70)
        wc.update(data[a:b])
        blocks.append(wc)
    for method in ("plugin", "miller_madow", "nsb"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NeurocomplexWarning)
            whole = nc.pattern_entropy(rec, method=method, n_boot=0)
            est = pattern_entropy_from_blocks(blocks, method=method, n_boot=50, seed=0)
        assert est.value == whole.value
        assert est.n_samples == 3000 and est.n_units == 70 and est.diagnostics["n_blocks"] == 4
        assert est.ci is not None and est.ci[0] <= est.ci[1]


def test_pattern_entropy_from_blocks_interval_matches_block_size(rng: np.random.Generator) -> None:
    # Equal blocks of consecutive samples: the same block bootstrap as pattern_entropy(block_size=...).
    rec, _ = _bernoulli(rng, 5, 10_000)
    data = np.asarray(rec.data)
    blocks = []
    for start in range(0, 10_000, 500):
        wc = WordCounts(5)
        wc.update(data[start : start + 500])
        blocks.append(wc)
    a = pattern_entropy_from_blocks(blocks, method="plugin", n_boot=200, seed=4)
    b = nc.pattern_entropy(rec, method="plugin", n_boot=200, seed=4, block_size=500)
    assert a.value == b.value
    np.testing.assert_allclose(np.sort(a.diagnostics["bootstrap_replicates"]),
                               np.sort(b.diagnostics["bootstrap_replicates"]), rtol=1e-12)
    nsb = pattern_entropy_from_blocks(blocks, method="nsb", n_boot=50, seed=4)
    assert nsb.ci[0] < nsb.value < nsb.ci[1] and nsb.diagnostics["interval"] == "posterior"


def test_pattern_entropy_from_blocks_rejects_bad_input() -> None:
    a, b = WordCounts(3), WordCounts(4)
    a.update(np.array([[1, 0, 0], [0, 1, 0]]))
    b.update(np.array([[1, 0, 0, 1]]))
    with pytest.raises(InvalidParameterError, match="same length"):
        pattern_entropy_from_blocks([a, b])
    with pytest.raises(InvalidParameterError, match="same length"):
        pattern_entropy_from_blocks([a], n_units=5, n_boot=0)
    with pytest.raises(InvalidParameterError):
        pattern_entropy_from_blocks([])
    with pytest.raises(InvalidParameterError):
        pattern_entropy_from_blocks([np.zeros((2, 3))])
    with pytest.raises(InsufficientDataError, match="two blocks"):
        pattern_entropy_from_blocks([a], method="plugin")
    with pytest.raises(InvalidParameterError):
        pattern_entropy_from_blocks([a, a], method="bogus")
    assert pattern_entropy_from_blocks([a], method="plugin", n_boot=0).value == 1.0


# --------------------------------------------------------------------------- a silent population
def test_silent_population_nsb_warns_that_the_value_is_the_priors() -> None:
    rec = nc.Recording.from_array(np.zeros((1000, 32), dtype=np.uint8), kind="binary")
    assert nc.pattern_entropy(rec, method="plugin").value == 0.0
    assert nc.pattern_entropy(rec, method="plugin").ci == (0.0, 0.0)
    with pytest.warns(NeurocomplexWarning, match="only one distinct word"):
        est = nc.pattern_entropy(rec, method="nsb", n_boot=0)
    assert 0.0 < est.value < 0.05 and est.warnings
    # The NSB posterior mean for one observed word shrinks as it is seen more often.
    big = nc.Recording.from_array(np.zeros((100_000, 32), dtype=np.uint8), kind="binary")
    with pytest.warns(NeurocomplexWarning, match="only one distinct word"):
        assert nc.pattern_entropy(big, method="nsb", n_boot=0).value < est.value


# --------------------------------------------------------------------------- words counted with torch
def _torch_devices() -> list:
    torch = pytest.importorskip("torch")
    cuda = pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device"))
    return ["cpu", cuda]


@pytest.mark.parametrize("device", _torch_devices())
@pytest.mark.parametrize(("n_units", "kind"), [(32, "binary"), (64, "binary"), (90, "rates")])
def test_device_counts_equal_numpy_counts(device: str, n_units: int, kind: str) -> None:
    from neurocomplex._backend.accumulate import count_words_torch
    from neurocomplex.measures.entropy import _distinct
    from neurocomplex.stats.words import pack_words

    rng = np.random.default_rng(n_units)
    data = (rng.random((5000, n_units)) < 0.08) * (rng.random((5000, n_units)) * 3.0)
    if kind == "binary":
        data = (data > 0).astype(np.uint8)
    data[:7] = 0  # a repeated word, and bit 63 set in some words (sign bit of the torch codes)
    data[7:20, n_units - 1] = 1.0
    thr = 0.5 if kind == "rates" else 0.0
    words, counts, inverse = count_words_torch(data, thr, device, return_inverse=True)
    ref_words, ref_counts, ref_inverse = _distinct(pack_words(data > thr), True)
    np.testing.assert_array_equal(words, ref_words)
    np.testing.assert_array_equal(counts, ref_counts)
    np.testing.assert_array_equal(inverse, ref_inverse)
    rec = nc.Recording.from_array(data, kind=kind)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NeurocomplexWarning)
        for func, kw in ((nc.pattern_entropy, {"method": "plugin", "block_size": 100}),
                         (nc.pattern_entropy, {"method": "nsb"}),
                         (nc.unit_entropy, {"method": "miller_madow"}),
                         (nc.multi_information, {"method": "plugin"})):
            a = func(rec, threshold=thr, n_boot=30, seed=0, device=device, **kw)
            b = func(rec, threshold=thr, n_boot=30, seed=0, **kw)
            assert a.value == b.value and a.ci == b.ci and a.params["device"] == device


def test_unknown_device_is_a_named_error(rng: np.random.Generator) -> None:
    pytest.importorskip("torch")
    rec, _ = _bernoulli(rng, 4, 100)
    with pytest.raises(InvalidParameterError, match="device"):
        nc.pattern_entropy(rec, device="no-such-device")


def test_gaussian_sums_of_often_seen_words_match_exact_poisson_replicates() -> None:
    # Plug-in replicates with the words seen >= 10 times summarized by their exact Poisson moments
    # against every word drawn: same mean, spread and quantiles within Monte Carlo error.
    from neurocomplex.measures._word_bootstrap import WordTable, plugin_nats
    from neurocomplex.measures.entropy import _setup

    rec, _ = _bernoulli(np.random.default_rng(9), 15, 200_000, 0.02, 0.3)
    _w, cts, _inv = _setup(rec, 0.0, False)
    assert cts.size > 4096 and np.sum(cts >= 10) >= 100  # the Poisson path, with summarized words
    table = WordTable(cts)
    n_boot = 3000
    exact = np.concatenate([plugin_nats(b) for b in table.batches(n_boot, 1)])
    approx = np.concatenate([plugin_nats(b) for b in table.batches(n_boot, 2, sums_only=True)])
    se = math.sqrt((exact.var() + approx.var()) / n_boot)
    assert abs(exact.mean() - approx.mean()) < 4 * se
    assert approx.std() == pytest.approx(exact.std(), rel=0.05)
    np.testing.assert_allclose(np.quantile(approx, [0.025, 0.975]), np.quantile(exact, [0.025, 0.975]),
                               atol=0.25 * exact.std())


def test_poisson_moments_expansion_matches_exact_sums() -> None:
    from neurocomplex.measures._word_bootstrap import _TAIL_SD, _exact_sums_moments, _poisson_sums_moments

    values = np.array([30.0, 45.0, 99.0, 100.0, 150.0, 1000.0, 20000.0])
    mult = np.array([3, 1, 2, 5, 1, 1, 2])
    half = np.ceil(_TAIL_SD * np.sqrt(values) + _TAIL_SD)
    lo = np.maximum(values - half, 0.0)
    width = (values + half - lo + 1).astype(np.int64)
    mean, chol, n_words = _poisson_sums_moments(values, mult, lo, width)
    exact_mean, exact_cov = _exact_sums_moments(values, mult, lo, width)
    assert n_words == 15
    np.testing.assert_allclose(mean, exact_mean, rtol=0, atol=1e-4)
    np.testing.assert_allclose(chol @ chol.T, exact_cov, rtol=1e-6)
    # E[c log c] of Poisson(45), by direct summation.
    c = np.arange(0, 200)
    pmf = stats.poisson.pmf(c, 45.0)
    one, _cov = _exact_sums_moments(np.array([45.0]), np.array([1]), np.array([0.0]), np.array([200]))
    assert one[0] == pytest.approx(float(np.dot(pmf, c * np.log(np.maximum(c, 1)))), rel=1e-12)
    assert _cov[0, 0] == pytest.approx(float(np.dot(pmf, (c * np.log(np.maximum(c, 1))) ** 2) - one[0] ** 2), rel=1e-9)


def test_unit_ones_by_slices_of_words_equal_the_full_table(monkeypatch: pytest.MonkeyPatch,
                                                            rng: np.random.Generator) -> None:
    import neurocomplex.measures.entropy as entropy_module

    rec, _ = _bernoulli(rng, 70, 3000)
    full = nc.unit_entropy(rec, n_boot=20, seed=1)
    monkeypatch.setattr(entropy_module, "_MAX_BITS_TABLE", 64)  # unpack one word at a time
    sliced = nc.unit_entropy(rec, n_boot=20, seed=1)
    assert sliced.value == pytest.approx(full.value, rel=1e-12)
    np.testing.assert_allclose(sliced.diagnostics["bootstrap_replicates"], full.diagnostics["bootstrap_replicates"],
                               rtol=1e-12)
    np.testing.assert_allclose(full.diagnostics["p_active"], np.asarray(rec.data).mean(axis=0), rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.bool_, np.int16])
def test_unsigned_and_boolean_arrays_are_counted_without_a_thresholded_copy(dtype) -> None:
    """Arrays passed without a kind ("rates") whose dtype cannot be negative are read as they are
    (nonzero = one at threshold 0); signed ones are compared with the threshold. Counts above 1
    are ones, and the words equal those of the thresholded booleans."""
    rng = np.random.default_rng(4)
    raw = rng.poisson(0.2, size=(3000, 5))
    if dtype is np.int16:
        raw = raw - (rng.random(raw.shape) < 0.1)  # some -1: below the threshold, not ones
    data = raw.astype(dtype)
    before = data.copy()
    rec = nc.Recording.from_array(data)
    ref = nc.Recording.from_array((raw > 0).astype(np.uint8), kind="binary")
    for fn in (nc.pattern_entropy, nc.entropy_rate):
        got, want = fn(rec, n_boot=20, seed=1), fn(ref, n_boot=20, seed=1)
        assert got.value == want.value and got.ci == want.ci
    np.testing.assert_array_equal(data, before)
    if dtype is np.bool_:
        return
    assert nc.pattern_entropy(rec, threshold=1, n_boot=0).value == nc.pattern_entropy(
        nc.Recording.from_array((raw > 1).astype(np.uint8), kind="binary"), n_boot=0).value


@pytest.mark.parametrize(("n_words", "n_samples"), [(300, 800), (6000, 9000)])
def test_row_draws_are_the_multinomial_over_the_words(n_words: int, n_samples: int) -> None:
    # Few samples per word: the replicates are drawn as N row indices (below 3 K with at most 4096
    # words, below 2 K beyond, where the Poisson bootstrap was drawn word by word). Every replicate
    # holds exactly N samples, and the counts have the multinomial's means and variances.
    from neurocomplex.measures import _word_bootstrap as wb

    rng = np.random.default_rng(n_words)
    counts = 1 + rng.multinomial(n_samples - n_words, np.full(n_words, 1.0 / n_words))
    assert n_samples <= (wb._ROWS_PER_BINOMIAL if n_words <= wb._MULTINOMIAL_MAX_DISTINCT else wb._ROWS_PER_POISSON) * n_words
    table = wb.WordTable(counts)
    reps = np.concatenate([b.direct for b in table.batches(2000, 5, per_word=True)])
    assert reps.shape == (2000, n_words)
    np.testing.assert_array_equal(reps.sum(axis=1), n_samples)
    p = counts / n_samples
    # per word, the mean over 2,000 replicates within 5 standard errors
    assert np.all(np.abs(reps.mean(axis=0) - counts) < 5 * np.sqrt(counts * (1 - p) / 2000) + 1e-12)
    # pooled over the words, the variance within 5% of N p (1 - p)
    assert reps.var(axis=0).sum() == pytest.approx(float(np.sum(counts * (1 - p))), rel=0.05)
    again = np.concatenate([b.direct for b in table.batches(2000, 5, per_word=True)])
    np.testing.assert_array_equal(reps, again)


def test_row_draws_tallied_per_replicate_and_ones_in_float32_are_those_of_the_whole_batch() -> None:
    # Beyond 8,192 words each replicate's rows are tallied on their own, and the ones per unit come
    # from a float32 product where the rows sum below 2**24: the same numbers as one tally of the
    # batch and the float64 product.
    from neurocomplex.measures import _word_bootstrap as wb
    from neurocomplex.measures.entropy import _UnitOnes
    from neurocomplex.stats.words import pack_words

    rng = np.random.default_rng(12)
    n_words = wb._OWN_TALLY_WORDS + 500
    counts = 1 + rng.multinomial(n_words // 2, np.full(n_words, 1.0 / n_words))
    table = wb.WordTable(counts)
    reps = np.concatenate([b.direct for b in table.batches(30, 3, per_word=True)])
    np.testing.assert_array_equal(reps.sum(axis=1), counts.sum())
    draws = np.random.default_rng(3)  # the same draws, tallied in one array
    word_of_row = np.repeat(np.arange(n_words, dtype=np.int32), counts)
    keys = word_of_row[draws.integers(0, counts.sum(), size=(30, counts.sum()), dtype=np.int32)]
    whole = np.bincount((keys + (np.arange(30, dtype=np.int32) * n_words)[:, None]).ravel(), minlength=30 * n_words)
    np.testing.assert_array_equal(reps, whole.reshape(30, n_words))
    bits = rng.random((n_words, 30)) < 0.4
    words = pack_words(bits)
    ones_of = _UnitOnes(words, 30)
    big = reps * 300.0  # rows summing to about 4e6: integers below 2**24, exact in float32
    expected = big @ bits.astype(np.float64)
    np.testing.assert_array_equal(ones_of(big), expected)
    assert ones_of._bits32 is None  # float64 without the rows' sums
    np.testing.assert_array_equal(ones_of(big, float(big.sum(axis=1).max())), expected)
    assert ones_of._bits32 is not None  # dense bits of one table: the float32 product


def test_unit_entropy_interval_with_few_samples_per_word_has_the_width_of_resampled_rows() -> None:
    # 12 correlated units, 1,500 samples: about one sample per word, the row-draw route. The interval
    # has the width of the bootstrap over resampled samples computed directly.
    rng = np.random.default_rng(8)
    latent = rng.normal(size=(1500, 1))
    data = (rng.random((1500, 12)) < 1 / (1 + np.exp(-(latent - 0.5)))).astype(np.uint8)
    est = nc.unit_entropy(nc.Recording.from_array(data, kind="binary"), n_boot=400, seed=0)

    def h_ind(d: np.ndarray) -> float:
        p = d.mean(axis=0)
        return float(np.sum(-special.xlogy(p, p) - special.xlogy(1 - p, 1 - p)) / np.log(2))

    direct = [h_ind(data[rng.integers(0, 1500, 1500)]) for _ in range(400)]
    assert np.std(est.diagnostics["bootstrap_replicates"]) == pytest.approx(np.std(direct), rel=0.15)
