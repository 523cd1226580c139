"""One radius of leader merging, compiled (numba): every replicate's merge on the pairs at that radius.

The rule (MEASURES.md §4a, :func:`~neurocomplex.measures._leader.leader_merge_curve`): at radius r the
alive clusters are visited heaviest first (ties: the smaller word index); a cluster with no
earlier neighbour within r that survives survives, and any other merges into its earliest
surviving neighbour. Every merge of a radius reads the weights of its start.

The decision is sequential in merge order, which vectorized passes can only follow in rounds
(one pass over all pairs per level of the dependency graph); here it is one memoised depth-first
walk per replicate over the pairs alive in it, each pair visited a bounded number of times and no
sort: a cluster merges exactly when one of its earlier neighbours survives, so a cluster's fate
is found from its earlier neighbours' fates, computed first, and its earliest surviving
neighbour in the same scan.

Compiled on first use and cached on disk (numba's cache, written atomically); imported only by
the merges, so ``import neurocomplex`` does not load numba.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

__all__ = ["merge_radius", "popcount"]


def _bit_intrinsic(name: str, *extra: object):  # type: ignore[no-untyped-def]
    """A numba intrinsic ``uint64 -> int64`` calling LLVM's ``name`` (ctpop, cttz: one instruction)."""

    @intrinsic
    def bits(typingctx, x):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
        if x != types.uint64:
            return None

        def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
            fn = builder.module.declare_intrinsic(name, [ir.IntType(64)] + [ir.IntType(1)] * len(extra))
            return builder.call(fn, [args[0], *(ir.Constant(ir.IntType(1), e) for e in extra)])

        return types.int64(types.uint64), codegen

    return bits


popcount = _bit_intrinsic("llvm.ctpop")  # also the pair search's (_pair_kernel)
_lowest_bit = _bit_intrinsic("llvm.cttz", 0)  # index of the lowest set bit (x != 0)


@njit(cache=True, nogil=True)
def _earlier(a: int, b: int, wa: int, wb: int) -> bool:
    """Whether word ``a`` (weight ``wa``) comes before ``b`` in merge order."""
    return (wa > wb) | ((wa == wb) & (a < b))  # no branch: the order of most pairs is unpredictable


@njit(cache=True, nogil=True)
def merge_radius(u: np.ndarray, v: np.ndarray, w: np.ndarray, alive: np.ndarray, target: np.ndarray) -> int:  # pragma: no cover - compiled
    """Merge every row of ``w``/``alive`` (replicates × words, updated in place) on the pairs ``(u, v)``.

    Pairs with a dead end in a replicate are skipped there (ends alive at the radius's start). The
    replicates go in groups of 64: one bit per replicate first finds the pairs alive in some
    replicate of the group; each replicate then takes its own from those without a branch per
    pair, or, where a pair is alive in fewer than 1/8 of the group's replicates, from the set bits. ``target`` (int64, one per word, all -1) is scratch, left holding the last row's result:
    the survivor each word merged into, -1 for the others. Returns the number of merges in all rows.
    """
    n_rep, n_words = w.shape
    n_pairs = u.size
    n64 = (n_rep + 63) // 64
    bits = np.zeros((n_words, n64), dtype=np.uint64)
    for b in range(n_rep):
        word, bit = b >> 6, np.uint64(1) << np.uint64(b & 63)
        for i in range(n_words):
            if alive[b, i]:
                bits[i, word] |= bit
    live_i = np.empty(n_pairs, dtype=np.int32)  # the pairs alive in some replicate of a group of 64
    live_j = np.empty(n_pairs, dtype=np.int32)
    start = np.zeros(n_words + 1, dtype=np.int32)  # incoming pairs of each later word (CSR)
    fill = np.zeros(n_words, dtype=np.int32)
    src = np.empty(n_pairs, dtype=np.int32)
    keep_e = np.empty(n_pairs, dtype=np.int32)  # a row's alive pairs: earlier end, later end
    keep_l = np.empty(n_pairs, dtype=np.int32)
    status = np.zeros(n_words, dtype=np.int8)  # 0 not yet known, 1 survives, 2 merges
    stack = np.empty(n_words, dtype=np.int32)  # the depth-first walk (depth < n_words: pairs point forward)
    cursor = np.empty(n_words, dtype=np.int32)
    best_at = np.empty(n_words, dtype=np.int32)  # the earliest surviving neighbour found so far, per depth
    total = 0
    live_x = np.empty(n_pairs, dtype=np.uint64)
    end_i = np.empty(0, dtype=np.int32)  # sparse groups: each replicate's pairs, one after another
    end_j = np.empty(0, dtype=np.int32)
    offset = np.zeros(65, dtype=np.int64)
    for word in range(n64):
        m = 0
        entries = 0
        for e in range(n_pairs):
            i, j = u[e], v[e]
            x = bits[i, word] & bits[j, word] if i != j else np.uint64(0)  # a word is no pair
            live_i[m], live_j[m], live_x[m] = i, j, x
            m += x != 0
            entries += popcount(x)
        first_rep, n_in = 64 * word, min(64, n_rep - 64 * word)
        if entries * 8 < m * n_in:
            # sparse (a pair alive in few replicates): the pairs of each replicate from the set bits
            offset[:] = 0
            for q in range(m):
                x = live_x[q]
                while x:
                    offset[_lowest_bit(x) + 1] += 1
                    x &= x - np.uint64(1)
            for b in range(64):
                offset[b + 1] += offset[b]
            if entries > end_i.size:
                end_i, end_j = np.empty(entries, dtype=np.int32), np.empty(entries, dtype=np.int32)
            put = offset[:64].copy()
            for q in range(m):
                x = live_x[q]
                while x:
                    b = _lowest_bit(x)
                    end_i[put[b]], end_j[put[b]] = live_i[q], live_j[q]
                    put[b] += 1
                    x &= x - np.uint64(1)
            for bb in range(n_in):
                b, k = first_rep + bb, offset[bb + 1] - offset[bb]
                wb = w[b]
                for q in range(k):
                    i, j = end_i[offset[bb] + q], end_j[offset[bb] + q]
                    first = _earlier(i, j, wb[i], wb[j])
                    keep_e[q] = i if first else j
                    keep_l[q] = j if first else i
                if k:
                    total += _merge_row(keep_e, keep_l, k, wb, alive[b], start, fill, src, status, stack, cursor,
                                        best_at, target, b == n_rep - 1)
            continue
        for b in range(first_rep, first_rep + n_in):
            wb, ab = w[b], alive[b]
            k = 0
            for q in range(m):  # branch-free: every pair written, the index moved on alive ones
                i, j = live_i[q], live_j[q]
                first = _earlier(i, j, wb[i], wb[j])
                keep_e[k] = i if first else j
                keep_l[k] = j if first else i
                k += ab[i] & ab[j]
            if k:
                total += _merge_row(keep_e, keep_l, k, wb, ab, start, fill, src, status, stack, cursor, best_at, target,
                                    b == n_rep - 1)
    return total


# One explicit signature: called with a literal 0 (``k``) numba would compile it again
_MERGE_ROW = "int64(int32[::1], int32[::1], int64, int64[::1], boolean[::1], int32[::1], int32[::1], int32[::1], int8[::1], int32[::1], int32[::1], int32[::1], int64[::1], boolean)"


@njit(_MERGE_ROW, cache=True, nogil=True)
def _merge_row(keep_e: np.ndarray, keep_l: np.ndarray, k: int, wb: np.ndarray, ab: np.ndarray, start: np.ndarray,
               fill: np.ndarray, src: np.ndarray, status: np.ndarray, stack: np.ndarray, cursor: np.ndarray,
               best_at: np.ndarray, target: np.ndarray, last: bool) -> int:  # pragma: no cover - compiled
    """One replicate's merge on its ``k`` alive pairs (earlier end, later end); scratch reset after."""
    for e in range(k):
        start[keep_l[e] + 1] += 1
    n_words = wb.size
    for i in range(n_words):
        start[i + 1] += start[i]
    for e in range(k):
        node = keep_l[e]
        src[start[node] + fill[node]] = keep_e[e]
        fill[node] += 1
    # fates of the later ends, each from its earlier neighbours' (a word with none survives); a
    # merging word goes into its earliest surviving neighbour (weights of the radius's start)
    for e in range(k):
        root = keep_l[e]
        if status[root] != 0:
            continue
        depth = 0
        stack[0], cursor[0], best_at[0] = root, start[root], -1
        while depth >= 0:
            node, pos, best = stack[depth], cursor[depth], best_at[depth]
            end = start[node + 1]
            while pos < end:
                prev = src[pos]
                s = status[prev]
                if s == 0:
                    if start[prev + 1] == start[prev]:
                        s = 1  # no earlier neighbour: survives
                        status[prev] = 1
                    else:
                        break  # decide this neighbour first
                if s == 1 and (best < 0 or _earlier(prev, best, wb[prev], wb[best])):
                    best = prev
                pos += 1
            if pos < end:
                cursor[depth], best_at[depth] = pos, best
                depth += 1
                stack[depth], cursor[depth], best_at[depth] = src[pos], start[src[pos]], -1
                continue
            if best >= 0:
                status[node], target[node] = 2, best
            else:
                status[node] = 1
            depth -= 1
    merged = 0
    for e in range(k):
        node = keep_l[e]
        if target[node] >= 0 and ab[node]:
            wb[target[node]] += wb[node]
            wb[node] = 0
            ab[node] = False
            merged += 1
    start[:] = 0
    for e in range(k):
        node = keep_l[e]
        status[keep_e[e]] = 0
        status[node] = 0
        fill[node] = 0
        if not last:
            target[node] = -1
    return merged
