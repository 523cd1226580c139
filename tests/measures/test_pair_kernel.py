"""The compiled search for close pairs of packed words against every distance computed by numpy."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("numba")

from neurocomplex.measures._pair_kernel import close_pairs, cross_pairs


def _brute(words: np.ndarray, low: int, high: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    dist = np.bitwise_count(words[:, None, :] ^ words[None, :, :]).sum(axis=2)
    i, j = np.triu_indices(words.shape[0], 1)  # row major, as the kernel gives them
    d = dist[i, j]
    keep = (d >= low) & (d <= high)
    return i[keep], j[keep], d[keep]


@pytest.mark.parametrize("n_ints", [1, 3, 8, 9, 17])
def test_close_pairs_equal_every_distance(n_ints):
    rng = np.random.default_rng(n_ints)
    for _ in range(40):
        m = int(rng.integers(1, 60))
        density = rng.uniform(0.0, 0.5)
        bits = rng.random((m, 64 * n_ints)) < density
        bits[m // 2 :] = bits[: m - m // 2] ^ (rng.random((m - m // 2, 64 * n_ints)) < 0.02)  # close pairs
        words = np.packbits(bits, axis=1, bitorder="little").view(np.uint64).copy()
        low = int(rng.integers(0, 3))
        high = int(rng.integers(low, 40 * n_ints))
        i, j, d, n = close_pairs(words, low, high, max(1, m * (m - 1) // 2))
        ref = _brute(words, low, high)
        assert n == ref[0].size
        for got, want in zip((i[:n], j[:n], d[:n]), ref):
            np.testing.assert_array_equal(got, want)


def test_the_early_stop_keeps_a_pair_at_exactly_high_and_drops_one_above():
    # 17 integers: the count is checked after 8 and 16; the pairs' differences sit in the last one
    words = np.zeros((3, 17), dtype=np.uint64)
    words[0, :8] = np.uint64(1)  # 8 bits from row 2 in the first 8 integers: 8 <= high, counting goes on
    words[1, :8] = np.uint64(1)
    words[1, 16] = np.uint64(3)  # row 1: 2 more bits from row 0, in the last integer
    i, j, d, n = close_pairs(words, 1, 9, 3)
    # (0, 1): 2; (0, 2): 8; (1, 2): 8 + 2 = 10 > 9
    assert n == 2 and i[:n].tolist() == [0, 0] and j[:n].tolist() == [1, 2] and d[:n].tolist() == [2, 8]
    i, j, d, n = close_pairs(words, 1, 10, 3)
    assert n == 3 and d[:n].tolist() == [2, 8, 10]


def test_more_pairs_than_capacity_are_reported():
    words = np.zeros((4, 1), dtype=np.uint64)  # 6 pairs at distance 0
    assert close_pairs(words, 0, 0, 5)[3] == -1
    _, _, d, n = close_pairs(words, 0, 0, 6)
    assert n == 6 and d[:n].tolist() == [0] * 6


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
