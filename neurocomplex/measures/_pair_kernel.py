"""Pairs of packed binary words within a range of Hamming distances, compiled (numba): the pairs of
one set of words within a radius that a budget of pairs allows (:func:`budget_pairs`), or every
pair of two sets within a range (:func:`cross_pairs`).

For each pair of rows the distance is the popcount of the rows' XOR, one integer of 64 units at a
time. The pairs come out row major (``i``, then ``j`` ascending). Both searches sum the distances
of a block of columns over their first ``_EARLY_INTS`` integers in one branch-free pass per
integer (vectorised) and finish only the columns still within the radius; words longer than that
stop counting once the distance exceeds it. Used by the leader merge
(:mod:`~neurocomplex.measures._leader`) for the pairs of an epoch and for the extra pairs of the
bootstrap replicates; :func:`distance_histogram` of a sample of rows sets the radius a budget
allows.

Compiled on first use and cached on disk (numba's cache, written atomically); imported only when
pairs are searched, so ``import neurocomplex`` does not load numba.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from neurocomplex.measures._leader_kernel import popcount

__all__ = ["budget_pairs", "cross_pairs", "distance_histogram"]

_EARLY_INTS = 8  # integers counted between checks against ``high`` (wider words only)
_BLOCK = 1024  # columns whose distances are summed before they are scanned


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
def distance_histogram(words: np.ndarray, rows: np.ndarray, high: int) -> np.ndarray:  # pragma: no cover - compiled
    """How many rows of ``words`` lie at each distance ``0 .. high`` from each of ``rows`` (summed;
    a row counts itself at 0)."""
    m, k = words.shape
    early = k > _EARLY_INTS
    hist = np.zeros(high + 1, dtype=np.int64)
    for r in rows:
        a = words[r]
        for j in range(m):
            d = _distance(a, words[j], high, early)
            if d <= high:
                hist[d] += 1
    return hist


@njit(cache=True, nogil=True)
def _lower_limit(out: np.ndarray, n: int, low: int, limit: int, keep: int) -> tuple[int, int]:  # pragma: no cover - compiled
    """The largest limit in ``low .. limit`` whose held pairs number at most ``keep`` (``low`` when
    none does), and the held pairs compacted to it: returns ``(limit, n)``."""
    hist = np.zeros(limit - low + 1, dtype=np.int64)
    for e in range(n):
        hist[out[2, e] - low] += 1
    new, total = low, 0
    for t in range(limit - low + 1):
        total += hist[t]
        if total > keep:
            break
        new = low + t
    kept = 0
    for e in range(n):
        if out[2, e] <= new:
            kept = _record(out, kept, out[0, e], out[1, e], out[2, e])
    return new, kept


# One explicit signature: called with a literal 0 (``j`` or ``n``) numba would compile it again
_ROW_PAIRS = "UniTuple(int64, 2)(uint64[::1], uint64[:, ::1], uint64[:, ::1], int64, int64, int64, int64, int32[:, ::1], int64, int64[::1], int64[::1])"


@njit(_ROW_PAIRS, cache=True, nogil=True)
def _row_pairs(a: np.ndarray, cols: np.ndarray, words: np.ndarray, i: int, j: int, low: int, limit: int,
               out: np.ndarray, n: int, buf: np.ndarray, at: np.ndarray) -> tuple[int, int]:  # pragma: no cover - compiled
    """Pairs (word ``a``, recorded as ``i``; rows ``j..`` of ``words``) with ``low <= d <= limit``,
    written into ``out`` from slot ``n`` until it is full.

    Returns ``(n, j)``: the next free slot and the first row not examined (``m`` when all are
    done). The distances of a block of rows over the first ``_EARLY_INTS`` integers are summed
    first from ``cols`` (those integers of ``words``, integer-major: one vectorised pass each, no
    branch); only the rows within ``limit`` there are scanned, and wider words finished one by
    one, stopped once past ``limit``.
    """
    k, m = words.shape[1], cols.shape[1]
    capacity = out.shape[1]
    while j < m:
        e = min(m, j + buf.size)
        x, row = a[0], cols[0]
        for t in range(j, e):
            buf[t - j] = popcount(x ^ row[t])
        for q in range(1, cols.shape[0]):
            x, row = a[q], cols[q]
            for t in range(j, e):
                buf[t - j] += popcount(x ^ row[t])
        hit = False
        for t in range(e - j):
            hit |= buf[t] <= limit
        if hit:
            c = 0
            for t in range(e - j):  # the columns within limit, without a branch per column
                at[c] = t
                c += buf[t] <= limit
            for h in range(c):
                t = j + at[h]
                d = buf[at[h]]
                for t0 in range(_EARLY_INTS, k, _EARLY_INTS):  # wider words: the rest, in steps
                    for q in range(t0, min(t0 + _EARLY_INTS, k)):
                        d += popcount(a[q] ^ words[t, q])
                    if d > limit:
                        break
                if d >= low and d <= limit:
                    if n == capacity:
                        return n, t
                    n = _record(out, n, i, t, d)
        j = e
    return n, m


@njit(cache=True, nogil=True)
def _doubled(out: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """``out`` copied into twice its columns. (An element loop: a 2-D slice assignment compiles a
    shape-mismatch message formatter, seconds of the first call.)"""
    grown = np.empty((3, 2 * out.shape[1]), dtype=np.int32)
    for r in range(3):
        for e in range(out.shape[1]):
            grown[r, e] = out[r, e]
    return grown


@njit(cache=True, nogil=True)
def budget_pairs(words: np.ndarray, low: int, limit: int, budget: int, first: int, stop: int
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:  # pragma: no cover - compiled
    """Pairs ``i < j`` of rows of ``words`` (uint64, C order), ``first <= i < stop``, with ``low <= d
    <= T``: ``T = limit``, lowered whenever more than ``budget`` pairs are held, to the largest value
    whose pairs held so far number at most ``budget // 2`` (never below ``low``, whose pairs are all
    kept).

    Returns ``(i, j, d, T)``: int32 arrays of the pairs, row major, and T.
    """
    m = words.shape[0]
    cols = np.ascontiguousarray(words[:, :_EARLY_INTS].T)
    out = np.empty((3, max(budget, 1)), dtype=np.int32)
    buf = np.empty(_BLOCK, dtype=np.int64)
    at = np.empty(_BLOCK, dtype=np.int64)
    n = 0
    for i in range(first, min(stop, m - 1)):
        j = i + 1
        while j < m:
            n, j = _row_pairs(words[i], cols, words, i, j, low, limit, out, n, buf, at)
            if j < m:  # full: lower T, and grow only if the pairs at ``low`` alone fill it
                limit, n = _lower_limit(out, n, low, limit, budget // 2)
                if n == out.shape[1]:
                    out = _doubled(out)
    return out[0, :n], out[1, :n], out[2, :n], limit


@njit(cache=True, nogil=True)
def cross_pairs(a: np.ndarray, b: np.ndarray, low: int, high: int
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:  # pragma: no cover - compiled
    """Pairs (row ``i`` of ``a``, row ``j`` of ``b``) with ``low <= d <= high``, ``i`` major.

    ``a`` and ``b`` are uint64 words of the same width (C order). Returns ``(i, j, d, n)``: int32
    arrays with room for every pair, whose first ``n`` entries are the pairs.
    """
    cols = np.ascontiguousarray(b[:, :_EARLY_INTS].T)
    out = np.empty((3, max(1, a.shape[0] * b.shape[0])), dtype=np.int32)
    buf = np.empty(_BLOCK, dtype=np.int64)
    at = np.empty(_BLOCK, dtype=np.int64)
    n = 0
    for i in range(a.shape[0]):
        n, _ = _row_pairs(a[i], cols, b, i, 0, low, high, out, n, buf, at)  # room for all: never full
    return out[0], out[1], out[2], n
