"""Pairs of packed binary words within a range of Hamming distances, compiled (numba): every pair of
one set of words (:func:`close_pairs`), or of two (:func:`cross_pairs`).

For each pair of rows the distance is the popcount of the rows' XOR, one integer of 64 units at a
time. The pairs come out row major (``i``, then ``j`` ascending). Words longer than
``_EARLY_INTS`` integers stop counting once the distance exceeds ``high``: most pairs of wide
words are far apart, and their first integers tell. Used by the leader merge
(:mod:`~neurocomplex.measures._leader`) for the pairs of an epoch and for the extra pairs of the
bootstrap replicates.

Compiled on first use and cached on disk (numba's cache, written atomically); imported only when
pairs are searched, so ``import neurocomplex`` does not load numba.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from neurocomplex.measures._leader_kernel import popcount

__all__ = ["close_pairs", "cross_pairs"]

_EARLY_INTS = 8  # integers counted between checks against ``high`` (wider words only)


@njit(cache=True, nogil=True, inline="always")
def _distance(a: np.ndarray, b: np.ndarray, high: int, early: bool) -> int:  # pragma: no cover - compiled
    """Hamming distance of the rows ``a`` and ``b``; with ``early``, a value above ``high`` as soon as
    the distance is certain to exceed it (checked every ``_EARLY_INTS`` integers)."""
    k = a.size
    d = 0
    if not early:
        for t in range(k):
            d += popcount(a[t] ^ b[t])
        return d
    for t0 in range(0, k, _EARLY_INTS):
        for t in range(t0, min(t0 + _EARLY_INTS, k)):
            d += popcount(a[t] ^ b[t])
        if d > high:
            return d
    return d


@njit(cache=True, nogil=True, inline="always")
def _record(out: np.ndarray, n: int, i: int, j: int, d: int) -> int:  # pragma: no cover - compiled
    """Write pair ``n`` (rows of ``out``: i, j, d) and return the next free slot."""
    out[0, n] = i
    out[1, n] = j
    out[2, n] = d
    return n + 1


@njit(cache=True, nogil=True)
def close_pairs(words: np.ndarray, low: int, high: int, capacity: int
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:  # pragma: no cover - compiled
    """Pairs ``i < j`` of rows of ``words`` (uint64, C order) with ``low <= d <= high``.

    Returns ``(i, j, d, n)``: int32, int32 and int32 arrays of length ``capacity`` whose first ``n``
    entries are the pairs, row major; ``n`` is -1 when more than ``capacity`` pairs qualify (the
    arrays then hold the first ``capacity``).
    """
    m, k = words.shape
    early = k > _EARLY_INTS
    out = np.empty((3, capacity), dtype=np.int32)
    n = 0
    col = words[:, 0]
    for i in range(m - 1):
        a, x = words[i], col[i]
        for j in range(i + 1, m):
            # one integer per word: a tight loop over one column
            d = popcount(x ^ col[j]) if k == 1 else _distance(a, words[j], high, early)
            if d >= low and d <= high:
                if n == capacity:
                    return out[0], out[1], out[2], -1
                n = _record(out, n, i, j, d)
    return out[0], out[1], out[2], n


@njit(cache=True, nogil=True)
def cross_pairs(a: np.ndarray, b: np.ndarray, low: int, high: int
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:  # pragma: no cover - compiled
    """Pairs (row ``i`` of ``a``, row ``j`` of ``b``) with ``low <= d <= high``, ``i`` major.

    ``a`` and ``b`` are uint64 words of the same width (C order). Returns ``(i, j, d, n)`` as
    :func:`close_pairs` does, with room for every pair (``n`` is never -1).
    """
    early = a.shape[1] > _EARLY_INTS
    out = np.empty((3, a.shape[0] * b.shape[0]), dtype=np.int32)
    n = 0
    for i in range(a.shape[0]):
        x = a[i]
        for j in range(b.shape[0]):
            d = _distance(x, b[j], high, early)
            if d >= low and d <= high:
                n = _record(out, n, i, j, d)
    return out[0], out[1], out[2], n
