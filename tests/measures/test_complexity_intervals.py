"""Pattern-complexity intervals: replicates merged together on the data's pair lists equal replicates
merged from scratch, and the interval covers known answers (MEASURES.md §4a)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import neurocomplex as nc
from neurocomplex.measures import _leader
from neurocomplex.measures._word_bootstrap import count_bootstrap
from neurocomplex.stats.words import count_words


def _binary(data: np.ndarray) -> nc.Recording:
    return nc.Recording.from_array(np.asarray(data, dtype=np.uint8), kind="binary")


def _from_scratch(words, weights, n_units, radii):
    return _leader.leader_merge_curve(words, weights, n_units, np.asarray(radii))[0]


def _check_replicates(b: np.ndarray, radii: np.ndarray, rng: np.random.Generator) -> int:
    """replicate_curves against one merge per replicate; returns the number of epochs used."""
    n_units = b.shape[1]
    words, counts = count_words(b)
    cache = _leader.PairCache()
    value = _leader.leader_merge_curve(words, counts, n_units, radii, cache=cache)[0]
    np.testing.assert_array_equal(value, _from_scratch(words, counts, n_units, radii))  # recording changes nothing
    reps = np.array([rng.multinomial(counts.sum(), counts / counts.sum()) if k % 2 else rng.poisson(counts)
                     for k in range(6)] + [np.zeros_like(counts)])  # one replicate with no word at all
    got = _leader.replicate_curves(words, reps, n_units, radii, cache)
    for row, expected in zip(reps, got, strict=True):
        np.testing.assert_array_equal(expected, _from_scratch(words, row, n_units, radii))
    return len(cache.epochs)


def test_replicates_on_recorded_pairs_equal_merges_from_scratch(monkeypatch):
    # Small edge budgets force several epochs, so replicates need the pairs of words the data had
    # merged ("extras"); groups of two replicates exercise the batching.
    rng = np.random.default_rng(0)
    several = 0
    for budget, nodes in ((8_000_000, 1 << 23), (40, 1 << 23), (150, 40)):
        monkeypatch.setattr(_leader, "_EDGE_BUDGET", budget)
        monkeypatch.setattr(_leader, "_REPLICATE_NODES", nodes)
        for _ in range(25):
            n_units = int(rng.integers(2, 18))
            b = (rng.random((int(rng.integers(2, 300)), n_units)) < rng.uniform(0.05, 0.6, n_units)).astype(np.uint8)
            several += _check_replicates(b, np.unique(rng.integers(0, n_units + 2, size=4)), rng) > 1
    assert several >= 20  # the multi-epoch route was taken


def test_replicates_of_wide_words_and_full_curves():
    # Words of two and three 64-bit integers (popcount over several integers), every radius.
    rng = np.random.default_rng(1)
    for n_units in (70, 130):
        b = (rng.random((400, n_units)) < 0.03).astype(np.uint8)
        b[:, :8] = b[:, 8:16]
        _check_replicates(b, np.arange(0, 12), rng)


@pytest.mark.parametrize("n_threads", [2, 3])
def test_replicates_merged_in_threads_equal_one_thread(monkeypatch, n_threads):
    # 150 replicates: three groups of 64 (the last partial) split over the threads
    rng = np.random.default_rng(3)
    b = (rng.random((3_000, 24)) < rng.uniform(0.05, 0.3, 24)).astype(np.uint8)
    words, counts = count_words(b)
    radii = np.array([1, 2, 4, 6])
    reps = rng.multinomial(counts.sum(), counts / counts.sum(), size=150)
    cache = _leader.PairCache()
    _leader.leader_merge_curve(words, counts, 24, radii, cache=cache)
    single = _leader.replicate_curves(words, reps, 24, radii, cache)
    monkeypatch.setenv("NEUROCOMPLEX_NUM_THREADS", str(n_threads))
    monkeypatch.setattr(_leader, "_MERGE_PER_THREAD", 1)
    threaded = _leader.replicate_curves(words, reps, 24, radii, cache)
    np.testing.assert_array_equal(threaded, single)
    for row, expected in zip(reps[::37], threaded[::37], strict=True):
        np.testing.assert_array_equal(expected, _from_scratch(words, row, 24, radii))


@pytest.mark.parametrize("block_size", [None, 50])
def test_pattern_complexity_interval_equals_exact_replicates(block_size):
    # The replicates reported are those of merging each resampled word table from scratch, with the
    # same draws (same seed): only the route changed.
    from neurocomplex.measures.complexity import _distinct_words

    rng = np.random.default_rng(2)
    x = (rng.random((3000, 20)) < rng.uniform(0.05, 0.3, 20)).astype(np.uint8)
    x[:, :4] = x[:, 4:8]
    rec = _binary(x)
    words, counts, inverse = _distinct_words(rec, 0.0)
    for scale in (0.0, 0.1, 0.25):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", nc.NeurocomplexWarning)
            est = nc.pattern_complexity(rec, scale=scale, n_boot=40, seed=3, block_size=block_size)
            again = nc.pattern_complexity(rec, scale=scale, n_boot=40, seed=3, block_size=block_size)
        radius = math.floor(scale * 20 + 1e-9)
        exact = count_bootstrap(lambda w, r=radius: float(_from_scratch(words, w, 20, [r])[0]),
                                counts, inverse, 40, 3, block_size)
        np.testing.assert_array_equal(est.diagnostics["bootstrap_replicates"], exact)
        assert again.ci == est.ci and again.value == est.value


def test_complexity_curve_interval_equals_exact_replicates():
    from neurocomplex.measures.complexity import _distinct_words, _fit_loglog

    rng = np.random.default_rng(4)
    rec = _binary((rng.random((1500, 16)) < 0.25).astype(np.uint8))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nc.NeurocomplexWarning)
        est = nc.complexity_curve(rec, n_boot=15, seed=1)
    fit_r = np.round(est.diagnostics["fit_scales"] * 16).astype(np.int64)
    words, counts, inverse = _distinct_words(rec, 0.0)
    exact = count_bootstrap(lambda w: _fit_loglog(fit_r, _from_scratch(words, w, 16, fit_r), 16)[0],
                            counts, inverse, 15, 1)
    np.testing.assert_allclose(est.diagnostics["bootstrap_replicates"], exact, rtol=0, atol=0)


# --------------------------------------------------------------------------- known answers
def _regimes(rng: np.random.Generator, n: int, weights: np.ndarray) -> np.ndarray:
    """Words of 32 units from 4 prototypes 16 bits apart, each sample with at most 2 flipped bits."""
    protos = np.zeros((4, 32), dtype=np.uint8)
    protos[1, :16] = 1
    protos[2, 16:] = 1
    protos[3, ::2] = 1
    which = rng.choice(4, size=n, p=weights)
    b = protos[which].copy()
    n_flip = rng.choice(3, size=n, p=[0.6, 0.3, 0.1])
    for k in (1, 2):
        rows = np.flatnonzero(n_flip >= k)
        b[rows, rng.integers(0, 32, size=rows.size)] ^= 1
    return b, which


def test_regimes_give_exp_entropy_of_their_fractions_and_the_interval_covers_it():
    # With every sample within 2 bits of its prototype and prototypes 16 bits apart, from radius 2
    # (scale 2/32) each regime is exactly one cluster led by its prototype: C = exp(H) of the
    # fractions of samples in each regime, and the population value is exp(H(weights)).
    weights = np.array([0.4, 0.3, 0.2, 0.1])
    truth = math.exp(-float(np.sum(weights * np.log(weights))))
    rng = np.random.default_rng(5)
    covered = 0
    n_draws = 40
    for d in range(n_draws):
        b, which = _regimes(rng, 400, weights)
        q = np.bincount(which, minlength=4) / which.size
        est = nc.pattern_complexity(_binary(b), scale=0.1, n_boot=100, seed=d)  # radius 3
        assert est.value == pytest.approx(math.exp(-float(np.sum(q[q > 0] * np.log(q[q > 0])))), rel=1e-12)
        assert est.diagnostics["n_clusters"] == 4
        covered += est.ci[0] <= truth <= est.ci[1]
    # The basic interval of exp(plug-in entropy) of 4 well-sampled categories: about 93% in the
    # coverage benchmark (benchmarks/RESULTS_complexity.md); 34 of 40 is its 5% lower tail.
    assert covered >= 34


def test_independent_units_interval_covers_population_value_at_scale_zero():
    # At scale 0, C = exp(plug-in H); with 6 units well sampled it covers exp(H_true).
    rng = np.random.default_rng(6)
    p = np.array([0.1, 0.2, 0.3, 0.4, 0.15, 0.25])
    truth = math.exp(float(-(p * np.log(p) + (1 - p) * np.log(1 - p)).sum()))
    covered = 0
    for d in range(30):
        est = nc.pattern_complexity(_binary(rng.random((3000, 6)) < p), scale=0.0, n_boot=100, seed=d)
        covered += est.ci[0] <= truth <= est.ci[1]
    assert covered >= 25


def test_entropy_of_each_row_equals_the_row_alone_and_the_plain_formula() -> None:
    # The replicates' snapshots take every row at once; the data's merge takes its one row. Both
    # through entropy_exps, each row's value depends only on the row, bit for bit.
    rng = np.random.default_rng(2)
    for shape, top in (((37, 1001), 5), ((5, 8), 10**7), ((64, 3), 1)):
        w = rng.integers(0, top + 1, size=shape) * (rng.random(shape) < 0.6)
        batch = _leader.entropy_exps(w)
        for b in range(shape[0]):
            assert _leader.entropy_exps(w[b : b + 1])[0] == batch[b]
            assert batch[b] == pytest.approx(_leader.entropy_exp(w[b]), rel=1e-13)
    assert _leader.entropy_exps(np.array([[0, 4, 0], [0, 0, 0]])).tolist() == [1.0, 1.0]
