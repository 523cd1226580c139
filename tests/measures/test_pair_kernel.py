"""The compiled search for close pairs of packed words against every distance computed by numpy."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

pytest.importorskip("numba")

from neurocomplex.measures._pair_kernel import budget_pairs, cross_pairs, distance_histogram


def _brute(words: np.ndarray, low: int, high: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    dist = np.bitwise_count(words[:, None, :] ^ words[None, :, :]).sum(axis=2)
    i, j = np.triu_indices(words.shape[0], 1)  # row major, as the kernel gives them
    d = dist[i, j]
    keep = (d >= low) & (d <= high)
    return i[keep], j[keep], d[keep]


def _packed(bits: np.ndarray) -> np.ndarray:
    return np.packbits(bits, axis=1, bitorder="little").view(np.uint64).copy()


def _words_with_close_pairs(rng: np.random.Generator, m: int, n_ints: int) -> np.ndarray:
    bits = rng.random((m, 64 * n_ints)) < rng.uniform(0.0, 0.5)
    bits[m // 2 :] = bits[: m - m // 2] ^ (rng.random((m - m // 2, 64 * n_ints)) < 0.02)  # close pairs
    return _packed(bits)


@pytest.mark.parametrize("n_ints", [1, 3, 8, 9, 17])
def test_budget_pairs_with_room_for_every_pair_equal_every_distance(n_ints):
    # blocks of 1,024 columns: m up to 1,500 crosses a block boundary within a row
    rng = np.random.default_rng(n_ints)
    for trial in range(30):
        m = int(rng.integers(1, 60)) if trial < 27 else int(rng.integers(1_030, 1_500))
        words = _words_with_close_pairs(rng, m, n_ints)
        low = int(rng.integers(0, 3))
        high = int(rng.integers(low, 40 * n_ints))
        i, j, d, limit = budget_pairs(words, low, high, max(1, m * (m - 1) // 2), 0, m)
        assert limit == high
        for got, want in zip((i, j, d), _brute(words, low, high)):
            np.testing.assert_array_equal(got, want)


def test_the_early_stop_keeps_a_pair_at_exactly_high_and_drops_one_above():
    # 17 integers: the count is checked after 8 and 16; the pairs' differences sit in the last one
    words = np.zeros((3, 17), dtype=np.uint64)
    words[0, :8] = np.uint64(1)  # 8 bits from row 2 in the first 8 integers: 8 <= high, counting goes on
    words[1, :8] = np.uint64(1)
    words[1, 16] = np.uint64(3)  # row 1: 2 more bits from row 0, in the last integer
    i, j, d, _ = budget_pairs(words, 1, 9, 3, 0, 3)
    # (0, 1): 2; (0, 2): 8; (1, 2): 8 + 2 = 10 > 9
    assert i.tolist() == [0, 0] and j.tolist() == [1, 2] and d.tolist() == [2, 8]
    i, j, d, _ = budget_pairs(words, 1, 10, 3, 0, 3)
    assert d.tolist() == [2, 8, 10]


@pytest.mark.parametrize("n_ints", [1, 2, 12])
def test_budget_pairs_lower_the_radius_to_what_the_budget_holds(n_ints):
    rng = np.random.default_rng(50 + n_ints)
    for _ in range(20):
        m = int(rng.integers(20, 1_200))
        words = _words_with_close_pairs(rng, m, n_ints)
        dist = np.bitwise_count(words[:, None, :] ^ words[None, :, :]).sum(axis=2)[np.triu_indices(m, 1)]
        low = int(rng.integers(0, 3))
        high = int(rng.integers(low, 40 * n_ints))
        per_radius = np.bincount(dist[(dist >= low) & (dist <= high)] - low, minlength=high - low + 1)
        budget = max(2, int(rng.integers(1, max(2, per_radius.sum() + 1))))
        i, j, d, limit = budget_pairs(words, low, high, budget, 0, m)
        assert low <= limit <= high
        # every pair within the final radius, nothing beyond it
        for got, want in zip((i, j, d), _brute(words, low, limit)):
            np.testing.assert_array_equal(got, want)
        # the radius is lowered only as far as needed: one more would not fit the budget (the
        # pairs at ``low`` are all kept even beyond it)
        assert limit == high or per_radius[: limit - low + 2].sum() > budget // 2
        assert d.size <= budget or limit == low


def test_pairs_at_the_lowest_distance_beyond_the_budget_are_all_kept():
    words = np.zeros((40, 1), dtype=np.uint64)  # 780 pairs at distance 0
    words[20:] = np.uint64(1)  # ... and 400 at distance 1
    i, j, d, limit = budget_pairs(words, 0, 1, 16, 0, 40)
    assert limit == 0 and d.size == 2 * 190 and not d.any()
    np.testing.assert_array_equal(np.stack([i, j]), np.stack(_brute(words, 0, 0)[:2]))


def test_the_row_scan_is_compiled_once_for_every_caller():
    # called with literal zeros (``j``, ``n``), numba would compile a version for each: seconds of
    # the first call after an install
    from neurocomplex.measures._leader_kernel import _merge_row
    from neurocomplex.measures._pair_kernel import _row_pairs

    words = np.arange(12, dtype=np.uint64).reshape(6, 2)
    budget_pairs(words, 0, 3, 4, 0, 6)
    cross_pairs(words, words, 0, 3)
    assert len(_row_pairs.signatures) == 1 and len(_merge_row.signatures) == 1


def test_distance_histogram_counts_every_row_from_the_sample():
    rng = np.random.default_rng(9)
    for n_ints in (1, 10):
        words = _words_with_close_pairs(rng, 80, n_ints)
        rows = rng.choice(80, size=12, replace=False)
        high = 30 * n_ints
        dist = np.bitwise_count(words[rows][:, None, :] ^ words[None, :, :]).sum(axis=2)
        want = np.bincount(dist[dist <= high], minlength=high + 1)
        np.testing.assert_array_equal(distance_histogram(words, rows, high), want)


@pytest.mark.parametrize("n_ints", [1, 4, 9])
def test_cross_pairs_equal_every_distance_between_two_sets(n_ints):
    rng = np.random.default_rng(100 + n_ints)
    for _ in range(30):
        ma, mb = int(rng.integers(1, 40)), int(rng.integers(1, 40))
        a_bits = rng.random((ma, 64 * n_ints)) < rng.uniform(0.0, 0.5)
        b_bits = a_bits[rng.integers(0, ma, size=mb)] ^ (rng.random((mb, 64 * n_ints)) < rng.uniform(0.0, 0.3))
        a = np.packbits(a_bits, axis=1, bitorder="little").view(np.uint64).copy()
        b = np.packbits(b_bits, axis=1, bitorder="little").view(np.uint64).copy()
        low = int(rng.integers(0, 3))
        high = int(rng.integers(low, 30 * n_ints))
        i, j, d, n = cross_pairs(a, b, low, high)
        dist = np.bitwise_count(a[:, None, :] ^ b[None, :, :]).sum(axis=2)
        ri, rj = np.nonzero((dist >= low) & (dist <= high))  # row major, as the kernel gives them
        assert n == ri.size
        np.testing.assert_array_equal(i[:n], ri)
        np.testing.assert_array_equal(j[:n], rj)
        np.testing.assert_array_equal(d[:n], dist[ri, rj])


@pytest.mark.parametrize("n_parts", [2, 3])
def test_the_pass_split_over_threads_gives_every_pair_within_its_radius(monkeypatch, n_parts):
    from neurocomplex.measures import _leader

    monkeypatch.setenv("NEUROCOMPLEX_NUM_THREADS", str(n_parts))
    monkeypatch.setattr(_leader, "_PAIRS_PER_THREAD", 1)
    rng = np.random.default_rng(70 + n_parts)
    for n_ints, budget in ((1, 10**6), (2, 300), (10, 50)):
        words = _words_with_close_pairs(rng, 400, n_ints)
        i, j, d, limit = _leader._pairs_by_popcount(words, 1, 30 * n_ints, budget)
        for got, want in zip((i, j, d), _brute(words, 1, limit)):
            np.testing.assert_array_equal(got, want)  # row major across the parts too


def test_row_parts_hold_about_equal_numbers_of_pairs():
    from neurocomplex.measures._leader import _row_parts

    for m, n_parts in ((10, 2), (1_000, 3), (100_001, 8)):
        bounds = _row_parts(m, n_parts)
        assert bounds[0] == 0 and bounds[-1] == m and np.all(np.diff(bounds) > 0)
        rows = np.arange(m)
        pairs = [int((m - 1 - rows[a:b]).sum()) for a, b in itertools.pairwise(bounds)]
        assert max(pairs) - min(pairs) <= m


def test_threads_follow_the_environment(monkeypatch):
    import neurocomplex as nc
    from neurocomplex._threads import max_threads

    monkeypatch.setenv("NEUROCOMPLEX_NUM_THREADS", "3")
    assert max_threads() == 3
    monkeypatch.delenv("NEUROCOMPLEX_NUM_THREADS")
    assert 1 <= max_threads() <= 8
    for bad in ("0", "-2", "two"):
        monkeypatch.setenv("NEUROCOMPLEX_NUM_THREADS", bad)
        with pytest.raises(nc.InvalidParameterError, match="NEUROCOMPLEX_NUM_THREADS"):
            max_threads()
