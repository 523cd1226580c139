"""Kendall counts against O(m²) brute force: ``smaller_before`` on every size class and value
pattern, and ``tau_a_influence`` on each route (no ties, ties in a only, in b only, in both), with
any order of tied entries, and with the fallbacks for very long vectors forced at small sizes."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from neurocomplex.measures import _rank
from neurocomplex.measures._rank import SortedVector, smaller_before, tau_a_influence

SIZES = [1, 2, 3, 7, 63, 64, 65, 127, 128, 129, 255, 256, 257, 1023, 1024, 1025]


def _brute_smaller_before(x: np.ndarray) -> np.ndarray:
    return ((x[None, :] < x[:, None]) & np.tri(x.size, k=-1, dtype=bool)).sum(axis=1)


def _patterns(m: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {"many ties": rng.integers(0, 3, m), "few ties": rng.integers(0, m, m), "all equal": np.full(m, 7),
            "increasing": np.arange(m), "decreasing": np.arange(m)[::-1].copy(), "permutation": rng.permutation(m),
            "floats": rng.standard_normal(m)}


@pytest.mark.parametrize("m", SIZES)
def test_smaller_before_against_brute_force(m):
    rng = np.random.default_rng(m)
    for name, x in _patterns(m, rng).items():
        np.testing.assert_array_equal(smaller_before(x), _brute_smaller_before(x), err_msg=name)


# routes of the permutation count: all bits partitioned (no row masks), short rows, rows of 64 (the
# layout of long vectors, here from 64 entries), popcount without numpy 2's bitwise_count, and the
# layout without positions (vectors over 2**21 entries)
ROUTES = [{"_ROW_BITS": 0, "_SHORT_ROW_BITS": 0}, {"_ROW_BITS": 2, "_SHORT_ROW_BITS": 2}, {"_LONG_ROWS": 64},
          {"_popcount": _rank._popcount_swar}, {"_KEY_BITS": 12}]
ROUTE_IDS = ["no-row-masks", "short-rows", "rows-of-64", "popcount-fallback", "no-positions"]


@pytest.mark.parametrize("route", ROUTES, ids=ROUTE_IDS)
def test_permutation_counts_on_every_route(route, monkeypatch):
    for attr, value in route.items():
        monkeypatch.setattr(_rank, attr, value)
    rng = np.random.default_rng(3)
    for m in [1, 2, 5, 64, 65, 200, 513]:
        for p in (rng.permutation(m), np.arange(m), np.arange(m)[::-1].copy()):
            np.testing.assert_array_equal(_rank._smaller_before_perm(p), _brute_smaller_before(p))


def test_popcount_fallback_matches_bitwise_count():
    rng = np.random.default_rng(5)
    x = rng.integers(0, 2**63, 1000, dtype=np.uint64) | (rng.integers(0, 2, 1000, dtype=np.uint64) << np.uint64(63))
    x[:3] = [0, 2**64 - 1, 2**63]
    expected = [bin(int(v)).count("1") for v in x]
    np.testing.assert_array_equal(_rank._popcount_swar(x, np.empty(x.size, dtype=np.uint8)), expected)


def _check_tau(a: np.ndarray, b: np.ndarray, rng: np.random.Generator) -> None:
    m = a.size
    sign = np.sign(a[:, None] - a[None, :]) * np.sign(b[:, None] - b[None, :])
    q = sign.sum(axis=1).astype(np.int64)
    pairs = m * (m - 1) / 2.0
    exact = float(Fraction(int(q.sum()) // 2, m * (m - 1) // 2))
    # ties in any order in the sort orders: nc.rsa hands in orders from its own sorts
    for sa, sb in [(SortedVector(a), SortedVector(b)),
                   (SortedVector(a, np.lexsort((rng.permutation(m), a))),
                    SortedVector(b, np.lexsort((rng.permutation(m), b))))]:
        tau, influence = tau_a_influence(sa, sb)
        assert tau == exact
        # the same integer q_f, so the same float operations give the same bits
        np.testing.assert_array_equal(influence, (q - tau * (m - 0.5)) / pairs)
        np.testing.assert_allclose(influence, (sign.sum(axis=1) - tau * (m - 0.5)) / pairs, atol=1e-14)


def _tau_cases(m: int, rng: np.random.Generator) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    x, y = rng.standard_normal(m), rng.standard_normal(m)
    ta, tb = rng.integers(0, 4, m).astype(float), rng.integers(0, 9, m).astype(float)
    return {"no ties": (x, x + y), "ties in a only": (ta, y), "ties in b only": (x, tb), "ties in both": (ta, tb),
            "exact duplicates": (ta[: m // 2].repeat(2)[:m], tb[: m // 2].repeat(2)[:m]),
            "a constant": (np.zeros(m), y), "b constant": (x, np.ones(m)), "identical": (ta, ta),
            "reversed": (x, -x), "a binary, b few": (rng.integers(0, 2, m).astype(float), np.round(y)),
            # b falls as a rises, with ties: one a block's smallest b equals the next block's largest
            "b falls with a": (ta, rng.integers(0, 2, m) - ta)}


@pytest.mark.parametrize("m", [2, 3, 64, 65, 300])
def test_tau_a_influence_against_brute_force(m):
    rng = np.random.default_rng(m)
    for name, (a, b) in _tau_cases(m, rng).items():
        try:
            _check_tau(a, b, rng)
        except AssertionError as err:
            raise AssertionError(f"{name} (m = {m})") from err


@pytest.mark.parametrize("route", ROUTES, ids=ROUTE_IDS)
def test_tau_a_influence_on_every_route(route, monkeypatch):
    # _KEY_BITS = 12 also sends the (a, b) sort to its argsort fallback
    for attr, value in route.items():
        monkeypatch.setattr(_rank, attr, value)
    rng = np.random.default_rng(8)
    for name, (a, b) in _tau_cases(257, rng).items():
        try:
            _check_tau(a, b, rng)
        except AssertionError as err:
            raise AssertionError(name) from err


def test_tau_a_influence_single_entry():
    tau, influence = tau_a_influence(SortedVector(np.array([1.0])), SortedVector(np.array([2.0])))
    assert np.isnan(tau) and influence.tolist() == [0.0]


def _sort_cases(rng: np.random.Generator) -> dict[str, np.ndarray]:
    n = 3 * _rank._PACKED_MIN
    halves = rng.random(n)
    halves[::64] = halves[1::64] * (1.0 + 4e-16)  # pairs a few ulp apart: equal leading bits, out of order
    zeros = rng.standard_normal(n)
    zeros[::3], zeros[1::3] = -0.0, 0.0
    return {
        "continuous": rng.standard_normal(n),
        "ties": np.round(rng.random(n) * 50.0) / 7.0,
        "ulp_pairs": halves,
        "signed_zeros": zeros,
        "float32": np.r_[rng.standard_normal(n // 2), np.zeros(n // 2)].astype(np.float32),
        "infinite": np.r_[np.inf, -np.inf, rng.random(n)],
        "all_close": 1.0 + rng.random(n) * 1e-12,  # one run of equal leading bits: the argsort instead
        "short": rng.random(100),
    }


@pytest.mark.parametrize("case", ["continuous", "ties", "ulp_pairs", "signed_zeros", "float32", "infinite",
                                  "all_close", "short"])
def test_sort_order_is_the_stable_argsort(case):
    v = _sort_cases(np.random.default_rng(5))[case]
    order, values = _rank.sort_order(v)
    want = np.argsort(v, kind="stable")
    np.testing.assert_array_equal(order, want)
    np.testing.assert_array_equal(values, v[want])
