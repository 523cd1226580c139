"""Sufficient statistics: packing round trip, counts vs np.unique, merging, covariance vs numpy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neurocomplex.errors import InvalidDataError
from neurocomplex.stats import CovarianceAccumulator, WordCounts, count_words, hamming, pack_words, unpack_words


@pytest.mark.parametrize("n_units", [1, 7, 63, 64, 65, 130])
def test_pack_unpack_round_trip_and_counts_match_unique(rng, n_units):
    b = (rng.random((500, n_units)) < 0.1).astype(np.uint8)
    packed = pack_words(b)
    assert packed.shape == (500, max(1, -(-n_units // 64)))
    np.testing.assert_array_equal(unpack_words(packed, n_units), b)
    words, counts = count_words(b)
    ref_rows, ref_counts = np.unique(b, axis=0, return_counts=True)
    assert counts.sum() == 500 and words.shape[0] == ref_rows.shape[0]
    # same multiset of (word, count)
    got = sorted(zip(map(tuple, unpack_words(words, n_units).tolist()), counts.tolist(), strict=True))
    ref = sorted(zip(map(tuple, ref_rows.tolist()), ref_counts.tolist(), strict=True))
    assert got == ref


def test_hamming_by_popcount(rng):
    b = (rng.random((50, 100)) < 0.5).astype(np.uint8)
    p = pack_words(b)
    d = hamming(p[:, None, :], p[None, :, :])
    ref = (b[:, None, :] != b[None, :, :]).sum(axis=-1)
    np.testing.assert_array_equal(d, ref)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 200), st.integers(1, 70), st.integers(0, 1000), st.integers(1, 5))
def test_word_counts_merge_equals_all_at_once(n, m, seed, n_parts):
    b = (np.random.default_rng(seed).random((n, m)) < 0.3).astype(np.uint8)
    parts = [WordCounts(m) for _ in range(n_parts)]
    for i, chunk in enumerate(np.array_split(b, n_parts)):
        parts[i].update(chunk)
    merged = parts[0]
    for p in parts[1:]:
        merged = merged.merge(p)
    words, counts = count_words(b)
    np.testing.assert_array_equal(merged.words, words)
    np.testing.assert_array_equal(merged.counts, counts)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_covariance_chunked_and_merged_equals_numpy(rng, dtype):
    x = (rng.normal(size=(3000, 20)) * np.linspace(1, 10, 20) + 1e3).astype(dtype)
    acc = CovarianceAccumulator(20)
    for chunk in np.array_split(x, 7):
        acc.update(chunk)
    other = CovarianceAccumulator(20)
    other.update(x[:1000])
    rest = CovarianceAccumulator(20)
    rest.update(x[1000:])
    ref = np.cov(x.astype(np.float64), rowvar=False)
    tol = 1e-10 if dtype == np.float64 else 2e-4
    np.testing.assert_allclose(acc.covariance(), ref, rtol=tol, atol=tol * np.abs(ref).max())
    np.testing.assert_allclose(other.merge(rest).covariance(), ref, rtol=tol, atol=tol * np.abs(ref).max())
    np.testing.assert_allclose(acc.mean, x.astype(np.float64).mean(axis=0), rtol=1e-6)


def test_activity_accumulator_merge_and_round_trip(rng):
    from neurocomplex.stats import ActivityAccumulator

    x = rng.normal(size=(500, 4))
    a, b = ActivityAccumulator(4), ActivityAccumulator(4)
    a.update(x[:123])
    b.update(x[123:])
    merged = ActivityAccumulator.from_dict(a.merge(b).to_dict())
    np.testing.assert_array_equal(merged.active, (x > 0).sum(axis=0))
    np.testing.assert_allclose(merged.variance(), x.var(axis=0), rtol=1e-12)
    assert merged.activation_ratio() == pytest.approx((x > 0).mean())


@pytest.mark.parametrize("offset", [0.0, 0.5, 2.0, 1e3])
def test_float32_covariance_is_accurate_with_and_without_centring(rng, offset):
    # offsets up to 2 (mean² <= 4 variance) take the uncentred fast path, 1e3 the centred one;
    # both must match the float64 covariance of the same float32 numbers to float32 rounding
    x = (rng.normal(size=(40000, 32)) * np.linspace(0.5, 2.0, 32) + offset).astype(np.float32)
    acc = CovarianceAccumulator(32)
    for chunk in np.array_split(x, 3):
        acc.update(chunk)
    ref = np.cov(x.astype(np.float64), rowvar=False)
    err = np.abs(acc.covariance() - ref).max() / np.abs(ref).max()
    assert err < 1e-6
    lam, lam_ref = np.linalg.eigvalsh(acc.covariance()), np.linalg.eigvalsh(ref)
    assert np.abs(lam - lam_ref).max() / lam_ref.max() < 1e-6


def test_a_chunk_that_fails_the_raw_product_check_centres_the_rest(rng):
    # mean² between 4 and 8 variances passes the screen but not the check: the first chunk's raw
    # product is discarded, and the later chunks are centred without trying it again
    x = (rng.normal(size=(30000, 16)) + 2.4).astype(np.float32)  # mean² = 5.8 variances
    acc = CovarianceAccumulator(16)
    first, *rest = np.array_split(x, 3)
    acc.update(first)
    assert acc._centre
    for chunk in rest:
        acc.update(chunk)
    ref = np.cov(x.astype(np.float64), rowvar=False)
    assert np.abs(acc.covariance() - ref).max() / np.abs(ref).max() < 1e-6
    small = CovarianceAccumulator(16)
    small.update((rng.normal(size=(1000, 16)) + 1.0).astype(np.float32))  # mean² = 1 variance: raw product
    assert not small._centre


def test_block_grams_match_float64_statistics_of_each_block():
    from neurocomplex.stats.covariance import block_grams

    rng = np.random.default_rng(60)
    base = rng.normal(size=(5000, 12)) @ rng.normal(size=(12, 12))
    # small means: raw products kept; a mean of 1e3: centred blocks; float64: always centred
    for x, dtype, raw in ((base + 1.0, np.float32, True), (base + 1e3, np.float32, False), (base + 1e3, np.float64, False)):
        data = x.astype(dtype)
        blk = block_grams(data, 700, chunk_rows=300)  # blocks longer than the chunks
        ref = data.astype(np.float64)
        assert blk.grams.dtype == dtype and blk.counts.tolist() == [700.0] * 7 + [100.0]
        assert bool(np.all(blk.centres == 0)) == raw
        tol = 1e-5 if dtype == np.float32 else 1e-12
        for b in range(8):
            rows = ref[700 * b : 700 * (b + 1)]
            scatter = blk.grams[b] - blk.counts[b] * np.outer(blk.means[b] - blk.centres[b], blk.means[b] - blk.centres[b])
            expected = (rows - rows.mean(0)).T @ (rows - rows.mean(0))
            np.testing.assert_allclose(blk.means[b], rows.mean(0), rtol=1e-6, atol=1e-6)
            np.testing.assert_allclose(scatter, expected, atol=tol * np.abs(expected).max() * (5 if raw else 1))
        full = np.cov(ref, rowvar=False) * (ref.shape[0] - 1)
        np.testing.assert_allclose(blk.total, full, atol=tol * np.abs(full).max())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_block_grams_of_few_columns_batched_equal_the_blocks_one_by_one(dtype, monkeypatch):
    # Whole blocks of in-memory float data with few columns are taken by batched calls; each block's
    # scatter, mean and the total equal those of the per-block loop (float32: blocks 3 and 4 have a
    # large mean, fail the raw product's check and are centred on their own).
    from neurocomplex.stats import covariance

    rng = np.random.default_rng(8)
    x = rng.normal(size=(1050, 6)) @ rng.normal(size=(6, 6))
    x[300:500] += 40.0
    x = x.astype(dtype)

    def scatters(st):
        shift = st.means - st.centres
        return st.grams.astype(np.float64) - st.counts[:, None, None] * shift[:, :, None] * shift[:, None, :]

    batched = covariance.block_grams(x, 100, chunk_rows=350)  # several chunks of blocks, a remainder block
    if dtype == np.float32:
        assert bool(np.all(batched.centres[[3, 4]] != 0)) and bool(np.all(batched.centres[[0, 1, 2, 5]] == 0))
    monkeypatch.setattr(covariance, "_BATCHED_COLUMNS", 0)
    loop = covariance.block_grams(x, 100, chunk_rows=350)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(batched.means, loop.means, rtol=tol, atol=tol)
    np.testing.assert_allclose(scatters(batched), scatters(loop), atol=tol * np.abs(scatters(loop)).max())
    np.testing.assert_allclose(batched.total, loop.total, atol=tol * np.abs(loop.total).max())
    ref = x.astype(np.float64)
    np.testing.assert_allclose(batched.total, np.cov(ref, rowvar=False) * 1049, rtol=tol, atol=tol * np.abs(batched.total).max())


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int64, np.uint8, np.bool_])
def test_small_integer_counts_give_the_exactly_rounded_scatter(dtype):
    # Counts whose columns have Σ x² below 2**24 (so that every partial sum of XᵀX and of the column
    # sums is an integer below 2**24) take a float32 product, which is then exact: the chunk's
    # scatter (n XᵀX − s sᵀ) / n is the exact rational rounded once. A few large counts (a heavy
    # tail: max² · rows far above 2**24) do not stop it.
    from neurocomplex.stats.covariance import block_grams

    rng = np.random.default_rng(7)
    low = -3 if np.issubdtype(dtype, np.signedinteger) else 0
    x = (rng.random((3000, 7)) < 0.4) if dtype is np.bool_ else rng.integers(low, 9, size=(3000, 7)).astype(dtype)
    if dtype is not np.bool_:
        x[rng.integers(0, 3000, 5), rng.integers(0, 7, 5)] = 100 if dtype in (np.int16, np.int64) else 90
    exact = x.astype(np.int64)
    s = exact.sum(axis=0)
    numer = 3000 * (exact.T @ exact) - np.outer(s, s)  # exact integers
    expected = numer.astype(np.float64) / 3000
    acc = CovarianceAccumulator(7)
    acc.update(x)
    np.testing.assert_array_equal(acc.scatter, expected)
    np.testing.assert_array_equal(acc.mean, s / 3000)
    blk = block_grams(x, 1000)
    for b in range(3):
        rows = exact[1000 * b : 1000 * (b + 1)]
        sb = rows.sum(axis=0)
        np.testing.assert_array_equal(blk.grams[b], (1000 * (rows.T @ rows) - np.outer(sb, sb)).astype(np.float64) / 1000)
        np.testing.assert_array_equal(blk.centres[b], blk.means[b])
    np.testing.assert_allclose(blk.total, expected, rtol=1e-13, atol=1e-12 * np.abs(expected).max())
    # large counts (Σ x² about 3000 x 75² > 2**24) take the centred float64 route: the same statistics
    big = rng.integers(60, 91, size=(3000, 4))
    acc = CovarianceAccumulator(4)
    acc.update(big)
    ref = big - big.mean(axis=0)
    np.testing.assert_allclose(acc.scatter, ref.T @ ref, rtol=1e-12)


@pytest.mark.parametrize(("n_units", "n_rows"), [(1, 2000), (9, 2000), (16, 2000), (16, 5000), (17, 2000),
                                                 (25, 2000), (33, 2000), (64, 2000), (65, 2000), (130, 2000),
                                                 (200, 2000)])
@pytest.mark.parametrize("first_major", [False, True])
def test_count_words_inverse_and_order(rng, n_units, n_rows, first_major):
    # Every layout: 1-byte integer rows (tallied), 2-byte ones (sorted below 4,096 rows, tallied from
    # there), 4 and 8-byte ones (sorted), and words wider than 64 bits (hashed rows).
    b = (rng.random((n_rows, n_units)) < 0.08).astype(np.uint8)
    words, counts, inverse = count_words(b, return_inverse=True, first_major=first_major)
    np.testing.assert_array_equal(words[inverse], pack_words(b))
    np.testing.assert_array_equal(np.bincount(inverse, minlength=counts.size), counts)
    major = words.T[::-1] if first_major else words.T  # lexsort's last key is the primary one
    np.testing.assert_array_equal(np.lexsort(major), np.arange(words.shape[0]))
    same, same_counts = count_words(b, first_major=first_major)
    np.testing.assert_array_equal(same, words)
    np.testing.assert_array_equal(same_counts, counts)


def test_words_of_floats_fortran_order_and_nonzero_integers(rng):
    x = rng.normal(size=(300, 40))
    ref = pack_words((x != 0).astype(np.uint8))
    np.testing.assert_array_equal(pack_words(x), ref)  # floats: compared with 0 chunk by chunk
    np.testing.assert_array_equal(pack_words(np.asfortranarray(x > 0)), pack_words((x > 0).astype(np.uint8)))
    counts_of_spikes = rng.integers(0, 4, size=(300, 70))  # counts > 1 are ones
    np.testing.assert_array_equal(pack_words(counts_of_spikes), pack_words((counts_of_spikes > 0).astype(np.uint8)))
    with pytest.raises(InvalidDataError):
        count_words(np.zeros(5))


def test_hash_collisions_fall_back_to_sorting_rows(rng, monkeypatch):
    from neurocomplex.stats import words as w

    b = (rng.random((1000, 130)) < 0.05).astype(np.uint8)
    ref_words, ref_counts = count_words(b)
    monkeypatch.setattr(w, "_row_hash", lambda packed: packed[:, 0] & np.uint64(3))  # many collisions
    words, counts, inverse = count_words(b, return_inverse=True)
    np.testing.assert_array_equal(words, ref_words)
    np.testing.assert_array_equal(counts, ref_counts)
    np.testing.assert_array_equal(words[inverse], pack_words(b))


def test_a_covariance_too_large_for_memory_is_refused_before_allocating():
    from neurocomplex.errors import MemoryLimitError

    with pytest.raises(MemoryLimitError, match=r"1000000 x 1000000 float64.*Gram route"):
        CovarianceAccumulator(1_000_000)
