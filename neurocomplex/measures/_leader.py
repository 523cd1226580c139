"""Clustering kernels of the complexity measures: nested leader merging of binary words over integer
Hamming radii (pattern complexity), and seeded k-means with per-cluster affine fits (reconstruction
complexity).

The rule (MEASURES.md §4a, the project's definition): at radius 0 every distinct word is a cluster
led by itself. At each radius r = 1, 2, ... the current clusters are ordered by weight (heaviest
first), ties by the leader's packed value (smallest first); in that order a cluster merges into the
first earlier cluster that has not itself merged at this radius ("survivor") and whose leader is
within Hamming distance r of its own leader; otherwise it survives. Weights and order are those at
the start of the radius; a merged cluster's weight goes to the survivor, which keeps its leader.

How it is computed without a per-word loop with per-pair work:

* Leaders only ever disappear, and after radius r the surviving leaders are pairwise more than r
  apart (two survivors within r would have merged). So at radius r the only pairs that matter are
  the alive leader pairs at distance exactly r.
* Those pairs come from an edge list of all alive pairs with distance in ``[r, T]``, computed once
  per "epoch" and reused for every radius up to ``T``, by a compiled popcount
  (:mod:`~neurocomplex.measures._pair_kernel`): every pair of the alive leaders, all radii at once,
  where they fit the budget and are moderate in number; else exact matching on bit chunks
  (pigeonhole: two words within distance T agree exactly on at least one of T + 1 disjoint chunks,
  so only words sharing a chunk value are compared), or, when that would compare more candidates
  than there are pairs to count, one pass over every pair that keeps those within ``T`` (the
  distances of a block of words over their first 512 units summed without a branch, wider words
  finished only while within ``T``). ``T`` is as large as a fixed edge budget allows. Only the
  alive leaders take part, so once most clusters have merged the later epochs are cheap.
* At one radius, "survives / merges" is the lexicographically first maximal independent set of the
  distance-r graph in merge order (a cluster with a surviving earlier neighbour merges, any other
  survives); each merged cluster joins its first surviving earlier neighbour. It is decided by a
  compiled walk over the pairs (:mod:`~neurocomplex.measures._leader_kernel`): sequential in
  merge order by nature, it takes a vectorized version one pass over every pair per level of
  dependencies.
* Bootstrap replicates (:func:`replicate_curves`) reweight the data's distinct words, so they
  reuse the data's pair lists (:class:`PairCache`): all replicates advance radius by radius
  together, each pair list filtered by one bit per replicate, and only the pairs of words that the
  data had merged but some replicate keeps are computed again (by popcount). Each replicate's
  result equals its merge from scratch.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from scipy import sparse

from neurocomplex._threads import map_in_threads, max_threads
from neurocomplex.stats.words import unpack_words

__all__ = ["PairCache", "leader_merge_curve", "replicate_curves", "replicate_group_size", "entropy_exp", "entropy_exps", "kmeans", "sq_dist", "fit_affine"]

_EDGE_BUDGET = 8_000_000  # alive pairs kept in one epoch (int32, int32, int16: ~80 MB)
# Every pair of leaders is taken by a compiled popcount (all radii at once) up to leaders^2 x 64-bit
# integers of _DIRECT_SIZE, or of _DIRECT_WORK where chunk matching would need _MANY_CHUNKS chunks or
# more (radius T: T + 1 chunks), when every pair fits the edge budget; beyond, by chunk matching below
# _MANY_CHUNKS chunks while it compares fewer candidates than the pass over every pair costs, and by
# that pass (within a budgeted T) from there. Measured (one epoch, 1 thread), every pair at once
# against chunk matching or float32 tile products: 2,000 words of 200 units 7 ms against 9-22 ms;
# 3,000 x 4,096 0.10 against 0.72 s; 2,000 x 16,384 0.17 against 1.7 s; chunk matching stays a little
# ahead for many one-integer words at small radii (3,500 x 64: 13 against 9 ms, but covering radii
# 1-4 where the pairs cover 1-6). The budgeted pass against those products: 50,000 words of 50 units
# 1.2-2.2 against 2.6-3.9 s, 20,000 x 1,000 1.7 against 4.2 s, 5,000 x 16,384 2.7 against 6.6 s.
_DIRECT_SIZE = 1 << 27
_DIRECT_WORK = 1 << 31
_MANY_CHUNKS = 64
_PAIRS_PER_THREAD = 1 << 24  # a thread of the pass over every pair has at least this many pairs
_MERGE_PER_THREAD = 1 << 18  # (pair, replicate) entries of a thread of the replicates' merge, at least


def entropy_exp(weights: np.ndarray) -> float:
    """``exp(-sum q log q)`` of the normalized positive ``weights`` (Shannon, nats)."""
    w = np.asarray(weights, dtype=np.float64)
    w = w[w > 0]
    if w.size <= 1:
        return 1.0
    q = w / w.sum()
    return float(math.exp(-np.sum(q * np.log(q))))


def entropy_exps(w: np.ndarray) -> np.ndarray:
    """``exp(H)`` of each row of non-negative integer weights ``w`` (2-D; zeros take no part),
    ``H = log S − Σ w log w / S`` with ``S = Σ w``: :func:`entropy_exp` of each row to rounding. Each
    row's value depends only on that row (the merges of the data and of its replicates agree bit for
    bit), and ``w log w`` comes from a table of the integers up to the largest weight, not a
    logarithm per entry. (A merged word's weight is 0: the rows are the alive clusters' weights.)"""
    total = w.sum(axis=1)  # integers: exact
    top = int(w.max()) if w.size else 0
    if top <= 4 * w.size + 64:
        k = np.arange(1, top + 1, dtype=np.float64)
        table = np.concatenate([[0.0], k * np.log(k)])
        xlogx = table[w].sum(axis=1)
    else:  # a few very large weights: the logarithms directly
        xlogx = (w * np.log(np.maximum(w, 1))).sum(axis=1)
    many = np.count_nonzero(w, axis=1) > 1
    return np.array([math.exp(math.log(s) - x / s) if m else 1.0
                     for s, x, m in zip(total.tolist(), xlogx.tolist(), many.tolist(), strict=True)])


# --------------------------------------------------------------------------- pair generators
def _pairs_by_popcount(sub: np.ndarray, low: int, high: int, budget: int,
                       seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """All pairs (i < j) of rows of ``sub`` with ``low <= d <= T`` for the largest ``T <= high`` the budget allows.

    ``T`` is first set from the distances of a random sample of rows to all rows (the expected
    number of pairs within half the budget); the compiled pass over every pair
    (:func:`~neurocomplex.measures._pair_kernel.budget_pairs`) lowers it whenever the pairs it
    holds exceed the budget. Returns ``(i, j, d, T)``.
    """
    from neurocomplex.measures._pair_kernel import budget_pairs, distance_histogram

    m = sub.shape[0]
    words = np.ascontiguousarray(sub, dtype=np.uint64)
    sample = np.random.default_rng(seed).choice(m, size=min(m, 256), replace=False)
    limit = _budget_radius(distance_histogram(words, sample, high)[low:], m / (2.0 * sample.size), low, budget)
    # Rows split into parts of equal pair counts, one thread each (the compiled pass releases the
    # GIL); each part holds its share of the budget and the lowest radius of the parts is kept, so
    # the pairs do not depend on the threads' timing.
    n_parts = max(1, min(max_threads(), (m * (m - 1) // 2) // _PAIRS_PER_THREAD))
    bounds = _row_parts(m, n_parts)
    parts = map_in_threads(lambda ab: budget_pairs(words, low, limit, max(1, budget // n_parts), *ab),
                           itertools.pairwise(bounds), n_parts)
    limit = min(int(p[3]) for p in parts)
    keep = [p[2] <= limit for p in parts]
    i, j, d = (np.concatenate([p[c][k] for p, k in zip(parts, keep)]) for c in range(3))
    return i, j, d.astype(_dist_type(high)), limit


def _row_parts(m: int, n_parts: int) -> np.ndarray:
    """Row bounds of ``n_parts`` parts holding about equal numbers of pairs ``i < j`` of ``m`` rows
    (row ``i`` holds ``m - 1 - i``)."""
    before = np.cumsum(np.arange(m - 1, -1, -1, dtype=np.int64))  # pairs of rows 0..i
    cuts = np.searchsorted(before, before[-1] * np.arange(1, n_parts) / n_parts)
    return np.concatenate([[0], cuts + 1, [m]]).astype(np.int64)


def _chunk_keys(bits: np.ndarray, n_chunks: int, salt: np.ndarray) -> list[np.ndarray]:
    """A 64-bit key per row for each of ``n_chunks`` disjoint bit ranges (equal keys ⇔ equal chunks,
    up to hash collisions, which only add candidates that the distance check removes)."""
    n_units = bits.shape[1]
    edges = np.linspace(0, n_units, n_chunks + 1).round().astype(int)
    out = []
    for a, b in itertools.pairwise(edges):
        out.append(bits[:, a:b].astype(np.uint64) @ salt[a:b])
    return out


def _runs(sorted_keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    new = np.ones(sorted_keys.size, dtype=bool)
    new[1:] = sorted_keys[1:] != sorted_keys[:-1]
    starts = np.flatnonzero(new)
    sizes = np.diff(np.append(starts, sorted_keys.size))
    return starts, sizes


def _n_candidates(keys: list[np.ndarray]) -> int:
    total = 0
    for k in keys:
        _, sizes = _runs(np.sort(k))
        total += int(np.sum(sizes * (sizes - 1) // 2))
    return total


def _pairs_by_chunks(words: np.ndarray, keys: list[np.ndarray], limit: int) -> tuple[np.ndarray, ...]:
    """Pairs (i < j) of rows sharing at least one chunk key, with Hamming distance <= ``limit``."""
    found_i, found_j, found_d = [], [], []
    for k in keys:
        order = np.argsort(k, kind="stable")
        starts, sizes = _runs(k[order])
        # position p in a run of end e pairs with positions p+1 .. e-1
        run_end = np.repeat(starts + sizes, sizes)
        pos = np.arange(k.size)
        n_after = run_end - pos - 1
        total = int(n_after.sum())
        if total == 0:
            continue
        first = np.repeat(pos, n_after)
        offset = np.arange(total) - np.repeat(np.cumsum(n_after) - n_after, n_after)
        second = first + 1 + offset
        a, b = order[first], order[second]
        d = np.bitwise_count(words[a] ^ words[b]).sum(axis=1, dtype=np.int64)
        close = d <= limit
        lo, hi = np.minimum(a[close], b[close]), np.maximum(a[close], b[close])
        found_i.append(lo)
        found_j.append(hi)
        found_d.append(d[close])
    if not found_i:
        e = np.zeros(0, dtype=np.int32)
        return e, e, e.astype(_dist_type(limit))
    i, j, d = np.concatenate(found_i), np.concatenate(found_j), np.concatenate(found_d)
    key = i.astype(np.int64) * words.shape[0] + j
    _, first = np.unique(key, return_index=True)  # a pair can share several chunks
    return i[first].astype(np.int32), j[first].astype(np.int32), d[first].astype(_dist_type(limit))


def _dist_type(high: int) -> type:
    """Distances up to ``high`` as int16 (sorted by radix) unless they need more bits."""
    return np.int16 if high < 2**15 else np.int32


def _direct_pairs(sub: np.ndarray, low: int, high: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair (i < j) of rows with ``low <= d <= high`` by popcount, i major and j minor
    (compiled: :func:`~neurocomplex.measures._pair_kernel.budget_pairs` with room for every pair;
    the caller bounds the rows so that every pair fits in the edge budget)."""
    from neurocomplex.measures._pair_kernel import budget_pairs  # numba only when pairs are searched

    m = sub.shape[0]
    i, j, d, _ = budget_pairs(np.ascontiguousarray(sub, dtype=np.uint64), low, high, max(1, m * (m - 1) // 2), 0, m)
    return i, j, d.astype(_dist_type(high))


def _epoch_edges(words: np.ndarray, alive_idx: np.ndarray, n_units: int, low: int, high: int,
                 salt: np.ndarray, no_chunks: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Edges among the alive leaders with ``low <= d <= T`` (word indices, sorted by d), and T.

    ``no_chunks``: skip chunk matching (a chunk pass just covered part of the radii and found
    almost no pair, so the leaders left are as many and probing again would pick the popcount
    pass)."""
    sub = words[alive_idx]
    m = sub.shape[0]
    work = _DIRECT_SIZE if high + 1 < _MANY_CHUNKS else _DIRECT_WORK
    if m * m * sub.shape[1] <= work and m * (m - 1) // 2 <= _EDGE_BUDGET:
        # Few leaders (a matched subsample, a late epoch, few samples of a wide layer): every pair
        # by popcount, all radii at once.
        i, j, d = _direct_pairs(sub, low, high)
        order = np.argsort(d, kind="stable")
        return alive_idx[i[order]], alive_idx[j[order]], d[order], high
    # The popcount pass over every pair in units of one candidate check of chunk matching (which
    # gathers and compares both words): about 1 ns a pair of one-integer words and 0.6 ns more per
    # further integer of the first 8, against 30 ns a candidate and 10 ns more per further integer
    # (measured on 20,000-50,000 words of 50-1,000 units).
    k = sub.shape[1]
    popcount_cost = 0.5 * m * m * (1.0 + 0.6 * (min(k, 8) - 1)) / (30.0 + 10.0 * (k - 1))
    best = None
    # Radius T needs T + 1 chunks. From _MANY_CHUNKS on, chunks of about n_units / (T + 1) bits
    # collide on most pairs of sparse words, and probing them costs more than the pairs themselves.
    probe = high + 1 < _MANY_CHUNKS and not no_chunks
    bits = unpack_words(sub, n_units) if probe else None
    t = low
    while probe and t <= high:
        keys = _chunk_keys(bits, t + 1, salt)
        n_cand = _n_candidates(keys)
        if n_cand > min(_EDGE_BUDGET, popcount_cost):
            break
        best = (t, keys)
        if t == high:
            break
        t = min(high, low + 2 * (t - low) + 1)
    if best is not None:
        limit, keys = best
        i, j, d = _pairs_by_chunks(sub, keys, limit)
    else:
        i, j, d, limit = _pairs_by_popcount(sub, low, high, _EDGE_BUDGET)
    order = np.argsort(d, kind="stable")
    return alive_idx[i[order]], alive_idx[j[order]], d[order], limit


# --------------------------------------------------------------------------- pair lists kept for replicates
_EXTRA_BLOCK = 1 << 22  # (extra leader, leader) pairs per compiled call, with room for each (12 bytes)
_REPLICATE_NODES = 1 << 23  # replicates x words merged together (an int64 weight and a flag each)


class PairCache:
    """The pair lists ("epochs") of one merge, kept for merges of the same words with other weights.

    :func:`leader_merge_curve` given a cache records, for each epoch, the radius it starts at, the
    leaders alive then (its members), the largest radius ``T`` it covers and every pair of members
    at distance ``low .. T``; :func:`replicate_curves` reads them.
    """

    def __init__(self) -> None:
        self.epochs: dict[int, tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}

    def edges(self, words: np.ndarray, alive: np.ndarray, n_units: int, low: int, high: int,
              salt: np.ndarray, no_chunks: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        """Every pair of alive leaders with ``low <= d <= T``, sorted by d, and T (recorded)."""
        u, v, d, limit = _epoch_edges(words, np.flatnonzero(alive), n_units, low, high, salt, no_chunks)
        self.epochs[low] = (limit, alive.copy(), u.astype(np.int32), v.astype(np.int32), d)
        return u, v, d, limit


def _extra_pairs(words: np.ndarray, extra: np.ndarray, others: np.ndarray, low: int,
                 high: int, budget: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Pairs (extra word, word of ``others``) at distance ``low .. high`` by a compiled popcount
    (:func:`~neurocomplex.measures._pair_kernel.cross_pairs`), each pair once (``others`` may hold
    extras too); None as soon as they exceed ``budget`` pairs.

    Only words whose weights (numbers of ones) p and q allow it are compared:
    ``|p - q| <= d <= p + q``, and ``d = p + q - 2 |a ∧ b|`` has the parity of ``p + q``, so a
    single distance needs q of one parity. For sparse words this leaves a fraction of the pairs.
    """
    from neurocomplex.measures._pair_kernel import cross_pairs  # numba only when pairs are searched

    is_extra = np.zeros(words.shape[0], dtype=bool)
    is_extra[extra] = True
    weight_extra = np.bitwise_count(words[extra]).sum(axis=1, dtype=np.int64)
    weight_others = np.bitwise_count(words[others]).sum(axis=1, dtype=np.int64)
    order = np.argsort(weight_others, kind="stable")
    by_weight, sorted_weight = others[order], weight_others[order]
    top = int(sorted_weight[-1]) if sorted_weight.size else 0
    bounds = np.searchsorted(sorted_weight, np.arange(top + 2))
    found_u, found_v, found_d = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)], [np.zeros(0, _dist_type(high))]
    n_found = 0
    for p in np.unique(weight_extra).tolist():
        qs = [q for q in range(max(0, p - high), min(top, p + high) + 1)
              if p + q >= low and (low != high or (p + q - low) % 2 == 0)]
        cand = np.concatenate([by_weight[bounds[q]:bounds[q + 1]] for q in qs] or [np.zeros(0, np.int64)])
        if cand.size == 0:
            continue
        rows_of_weight = extra[weight_extra == p]
        step = max(1, _EXTRA_BLOCK // max(1, cand.size))  # room for every pair of a block of rows
        other = np.ascontiguousarray(words[cand], dtype=np.uint64)
        for s in range(0, rows_of_weight.size, step):
            rows = rows_of_weight[s : s + step]
            a, b, dist, n = cross_pairs(np.ascontiguousarray(words[rows], dtype=np.uint64), other, low, high)
            a, b, dist = a[:n], b[:n], dist[:n]
            i, j = rows[a], cand[b]
            keep = ~is_extra[j] | (i < j)  # a pair of two extras is found from both ends: keep it once
            found_u.append(i[keep])
            found_v.append(j[keep])
            found_d.append(dist[keep].astype(_dist_type(high)))
            n_found += int(keep.sum())
            if budget is not None and n_found > budget:
                return None
    return np.concatenate(found_u), np.concatenate(found_v), np.concatenate(found_d)


def _extra_limit(words: np.ndarray, extra: np.ndarray, others: np.ndarray, low: int, high: int, budget: int) -> int:
    """The largest ``T <= high`` (at least ``low``) whose extra pairs at distance ``low .. T`` are
    expected within half ``budget``, from the distances of a sample of the extras to ``others``."""
    if extra.size == 0 or high <= low:
        return low
    from neurocomplex.measures._pair_kernel import distance_histogram

    sample = extra[np.random.default_rng(0).choice(extra.size, size=min(extra.size, 256), replace=False)]
    # the extras are among ``others`` (both sorted): the sample's rows there
    rows = np.searchsorted(others, sample)
    counts = distance_histogram(np.ascontiguousarray(words[others], dtype=np.uint64), rows, high)[low:]
    return _budget_radius(counts, extra.size / sample.size, low, budget)


def _budget_radius(counts: np.ndarray, scale: float, low: int, budget: int) -> int:
    """The largest radius ``T >= low`` whose pairs, expected as ``scale`` times the sampled counts
    at distances ``low, low + 1, ...`` (``counts``), number at most half ``budget`` (``low`` when
    none does)."""
    fits = np.flatnonzero(np.cumsum(counts) * scale <= 0.5 * budget)
    return low + int(fits[-1]) if fits.size else low


def _by_radius(u: np.ndarray, v: np.ndarray, d: np.ndarray, low: int, high: int) -> dict[int, tuple]:
    """Pairs grouped by distance ``low .. high`` (``d`` sorted)."""
    cuts = np.searchsorted(d, np.arange(low, high + 2))
    return {low + k: (u[a:b], v[a:b]) for k, (a, b) in enumerate(itertools.pairwise(cuts)) if b > a}


def replicate_curves(words: np.ndarray, replicate_weights: np.ndarray, n_units: int, radii: np.ndarray,
                     cache: PairCache) -> np.ndarray:
    """:func:`leader_merge_curve` of each row of ``replicate_weights``, all merged together.

    A bootstrap replicate reweights the distinct words of the data (some to zero), so its leaders
    at every radius are distinct words of the data. The replicates advance radius by radius
    together; at the start of each epoch of the data's merge (``cache``), the pairs they need are
    the recorded pairs of members plus those of the words alive in some replicate that the data
    had already merged ("extras"), with the other words alive in some replicate, at distance
    ``low .. T``: computed once for all replicates by popcount. Every replicate's alive leaders
    are then among these words, so it merges on every pair of its leaders at each radius: each
    row's result equals ``leader_merge_curve(words, row, n_units, radii)[0]`` exactly. Epochs the
    data never needed (it reached one cluster first) are computed on the replicates' leaders.
    Each radius is one compiled merge of every replicate on its alive pairs
    (:func:`~neurocomplex.measures._leader_kernel.merge_radius`), in groups of at most
    ``_REPLICATE_NODES`` words × replicates.

    Returns
    -------
    numpy.ndarray
        ``(n_replicates, len(radii))``: C of each replicate at each radius.
    """
    weights = np.asarray(replicate_weights, dtype=np.int64)
    n_words = words.shape[0]
    step = replicate_group_size(n_words)
    return np.concatenate([_replicate_group(words, weights[s : s + step], n_units, np.asarray(radii, np.int64), cache)
                           for s in range(0, weights.shape[0], step)] or [np.zeros((0, len(radii)))])


def replicate_group_size(n_words: int) -> int:
    """Replicates merged together by :func:`replicate_curves` (at most ``_REPLICATE_NODES`` nodes);
    callers that draw replicates in smaller batches pass this many at once, so the extras' pairs of
    each epoch are found once for all of them."""
    return max(1, _REPLICATE_NODES // max(n_words, 1))


def _replicate_group(words: np.ndarray, weights: np.ndarray, n_units: int, radii: np.ndarray,
                     cache: PairCache) -> np.ndarray:
    n_rep = weights.shape[0]
    w = np.array(weights, dtype=np.int64)  # merged in place
    alive = w > 0
    targets = sorted(set(radii.tolist()))
    results: dict[int, np.ndarray] = {}

    def snapshot() -> np.ndarray:
        return entropy_exps(w)

    salt = np.random.default_rng(0x5EED).integers(1, 2**63, size=n_units, dtype=np.uint64) | np.uint64(1)
    r_max = max([r for r in targets if r < n_units], default=0)
    if 0 in targets:
        results[0] = snapshot()
    pairs: dict[int, tuple] = {}
    extra_pairs: dict[int, tuple] | None = None
    extra_covered = 0
    members: np.ndarray | None = None
    covered = 0
    r = 0
    while r < r_max and np.any(alive.sum(axis=1) > 1):
        r += 1
        if r > covered:
            extra_pairs = None
            if r in cache.epochs:
                covered, members, u, v, d = cache.epochs[r]
                pairs = _by_radius(u, v, d, r, covered)
                # The "extras" (alive in some replicate, merged in the data at the start of the epoch)
                # only ever fall in number, so their pairs at every radius of the epoch are found now,
                # once, when they fit the edge budget (else radius by radius below).
                present = alive.any(axis=0)
                extra, others = np.flatnonzero(present & ~members), np.flatnonzero(present)
                extra_covered = _extra_limit(words, extra, others, r, covered, _EDGE_BUDGET)
                found = _extra_pairs(words, extra, others, r, extra_covered, 2 * _EDGE_BUDGET)
                if found is not None:
                    order = np.argsort(found[2], kind="stable")
                    extra_pairs = _by_radius(found[0][order], found[1][order], found[2][order], r, extra_covered)
            else:  # pairs among the words alive in some replicate (closer pairs of different replicates too)
                members = None
                u, v, d, covered = _epoch_edges(words, np.flatnonzero(alive.any(axis=0)), n_units, r, r_max, salt)
                pairs = _by_radius(u, v, d, r, covered)
        u, v = pairs.pop(r, (np.zeros(0, np.int32), np.zeros(0, np.int32)))
        if extra_pairs is not None and r <= extra_covered:
            eu, ev = extra_pairs.pop(r, (np.zeros(0, np.int64), np.zeros(0, np.int64)))
            u, v = np.concatenate([u, eu]), np.concatenate([v, ev])
        elif members is not None:
            # Pairs at distance r of the extras, recomputed at each radius: their number falls as they merge.
            present = alive.any(axis=0)
            extra = np.flatnonzero(present & ~members)
            if extra.size:
                eu, ev, _ed = _extra_pairs(words, extra, np.flatnonzero(present), r, r)
                u, v = np.concatenate([u, eu]), np.concatenate([v, ev])
        if u.size:
            _merge_replicates(u, v, w, alive)
        if r in targets:
            results[r] = snapshot()
    final = snapshot() if any(t not in results and t < n_units for t in targets) else None
    out = np.ones((n_rep, radii.size))  # C = 1 from radius n_units on
    for k, t in enumerate(radii.tolist()):
        if t < n_units:  # radii after which nothing merged keep the final clusters
            out[:, k] = results.get(t, final)
    return out


def _merge_replicates(u: np.ndarray, v: np.ndarray, w: np.ndarray, alive: np.ndarray) -> None:
    """One radius of merging in every replicate (rows of ``w`` and ``alive``, updated in place) on
    the pairs ``(u, v)`` of words at this radius's distance.

    Replicates are independent: with many pairs, their rows go in equal parts to one thread each
    (the compiled merge releases the GIL)."""
    from neurocomplex.measures._leader_kernel import merge_radius

    u, v = u.astype(np.int64, copy=False), v.astype(np.int64, copy=False)
    n_rep = w.shape[0]
    n_parts = max(1, min(max_threads(), n_rep, (u.size * n_rep) // _MERGE_PER_THREAD))
    step = -(-n_rep // n_parts)
    map_in_threads(lambda s: merge_radius(u, v, w[s : s + step], alive[s : s + step],
                                          np.full(w.shape[1], -1, dtype=np.int64)), range(0, n_rep, step), n_parts)


def leader_merge_curve(words: np.ndarray, weights: np.ndarray, n_units: int, radii: np.ndarray,
                       return_labels: bool = False, cache: PairCache | None = None) -> tuple[np.ndarray, ...]:
    """Complexity ``exp(H)`` of the cluster weights after nested merging up to each radius.

    Parameters
    ----------
    words : numpy.ndarray
        Packed distinct words, uint64 ``(n_words, n_int)``, sorted by packed value (as
        :func:`neurocomplex.stats.count_words` returns them), so a word's row index is its
        tie-breaking rank.
    weights : numpy.ndarray
        Count of each word (zeros allowed: such words take no part).
    n_units : int
        Word length in bits.
    radii : numpy.ndarray
        Non-negative integer radii at which to report (any order).
    return_labels : bool
        Also return the cluster of every word at each requested radius.
    cache : PairCache, optional
        Keeps this merge's pair lists, for :func:`replicate_curves`.

    Returns
    -------
    complexity : numpy.ndarray
        ``C`` at each requested radius.
    n_clusters : numpy.ndarray
        Number of clusters at each requested radius.
    labels : numpy.ndarray
        With ``return_labels``: int64 ``(len(radii), n_words)``, the row index of the leader word of
        each word's cluster at each radius (-1 for words of zero weight).
    """
    radii = np.asarray(radii, dtype=np.int64)
    n_words = words.shape[0]
    from neurocomplex.measures._leader_kernel import merge_radius  # numba: loaded by the first merge only

    w = np.asarray(weights, dtype=np.int64).copy()
    alive = w > 0
    target = np.full(n_words, -1, dtype=np.int64)  # the merge's scratch: the survivor a word merged into
    # leader[i]: the leader word of word i's cluster (kept only when labels are asked for)
    leader = np.where(alive, np.arange(n_words), -1) if return_labels else None
    targets = sorted(set(radii.tolist()))
    results: dict[int, tuple[float, int, np.ndarray | None]] = {}

    def snapshot() -> tuple[float, int, np.ndarray | None]:
        return float(entropy_exps(w[None])[0]), int(alive.sum()), None if leader is None else leader.copy()

    salt = np.random.default_rng(0x5EED).integers(1, 2**63, size=n_units, dtype=np.uint64) | np.uint64(1)
    r_max = max([r for r in targets if r < n_units], default=0)
    edge_u = edge_v = np.zeros(0, dtype=np.int64)
    edge_d = np.zeros(0, dtype=np.int16)
    covered = 0  # edges hold every alive pair with distance in (covered_from, covered]
    r = 0
    if 0 in targets:
        results[0] = snapshot()
    while r < r_max and alive.sum() > 1:
        r += 1
        if r > covered:
            # words of several integers: after a partial epoch that found almost no pair, every pair
            no_chunks = words.shape[1] > 1 and 0 < covered < r_max and edge_d.size * 16 < alive.sum()
            if cache is None:
                edge_u, edge_v, edge_d, covered = _epoch_edges(words, np.flatnonzero(alive), n_units, r, r_max, salt,
                                                               no_chunks)
            else:
                edge_u, edge_v, edge_d, covered = cache.edges(words, alive, n_units, r, r_max, salt, no_chunks)
            if edge_d.size and int(edge_d[0]) > r:
                r = int(edge_d[0])  # radii before the closest alive pair change nothing
            elif edge_d.size == 0:
                r = covered
            for t in targets:
                if t < r and t not in results and t > 0:
                    results[t] = snapshot()
        lo, hi = np.searchsorted(edge_d, [r, r + 1])
        u, v = edge_u[lo:hi], edge_v[lo:hi]  # the merge skips pairs with an end merged earlier
        if u.size and merge_radius(u.astype(np.int64, copy=False), v.astype(np.int64, copy=False), w[None],
                                   alive[None], target):
            merged = np.flatnonzero(target >= 0)
            into = target[merged]
            target[merged] = -1
            if leader is not None:  # survivors never merge at the same radius: one step of relabelling
                step = np.arange(n_words)
                step[merged] = into
                has = leader >= 0
                leader[has] = step[leader[has]]
        if r in targets:
            results[r] = snapshot()
    if any(t >= n_units for t in targets) and alive.any():
        # Every leader lies within n_units of every other: all clusters join the first in merge order.
        alive_idx = np.flatnonzero(alive)
        head = alive_idx[np.lexsort((alive_idx, -w[alive_idx]))[0]]
        last = None if leader is None else np.where(leader >= 0, head, -1)
        results.update({t: (1.0, 1, last) for t in targets if t >= n_units})
    for t in targets:
        if t not in results:  # radii past the point where one cluster (or nothing new) remains
            results[t] = snapshot()
    out_c = np.array([results[rad][0] for rad in radii.tolist()], dtype=np.float64)
    out_n = np.array([results[rad][1] for rad in radii.tolist()], dtype=np.int64)
    if not return_labels:
        return out_c, out_n
    labels = np.stack([results[rad][2] for rad in radii.tolist()]) if radii.size else np.zeros((0, n_words), np.int64)
    return out_c, out_n, labels


# --------------------------------------------------------------------------- k-means and affine maps
def sq_dist(x: np.ndarray, centers: np.ndarray, x_sq: np.ndarray | None = None) -> np.ndarray:
    """Squared Euclidean distances ``(n_rows, n_centers)``; ``x_sq`` = row sums of ``x * x`` if known."""
    if x_sq is None:
        x_sq = (x * x).sum(axis=1)
    d2 = x_sq[:, None] - 2.0 * (x @ centers.T) + (centers * centers).sum(axis=1)[None, :]
    return np.maximum(d2, 0.0)


def _cluster_sums(x: np.ndarray, labels: np.ndarray, sizes: np.ndarray, clusters: np.ndarray) -> np.ndarray:
    """Sums of the rows of ``x`` in each of ``clusters``, each added sequentially in row order.

    A sparse 0/1 matrix in CSR form whose column indices run in row order makes every sum the
    sequential sum over the cluster's rows, so a cluster whose members did not change gets the
    same sum again, bit for bit.
    """
    n_centers = sizes.size
    row_of = np.full(n_centers, -1, dtype=np.int16 if n_centers < 2**15 else np.int64)
    row_of[clusters] = np.arange(clusters.size)
    rows = row_of[labels]
    members = np.flatnonzero(rows >= 0)
    # stable, so the rows of each cluster stay in row order (a radix sort for int16 keys)
    order = members[np.argsort(rows[members], kind="stable")]
    indptr = np.zeros(clusters.size + 1, dtype=np.int64)
    np.cumsum(sizes[clusters], out=indptr[1:])
    onehot = sparse.csr_matrix((np.ones(order.size), order, indptr), shape=(clusters.size, x.shape[0]))
    return onehot @ x


def kmeans(x: np.ndarray, k: int, rng: np.random.Generator, n_init: int = 1,
           max_iter: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """Lloyd's k-means with k-means++ seeding (Arthur & Vassilvitskii 2007); best of ``n_init``.

    Returns ``(centers, labels)``; fewer than ``k`` centers when ``x`` has fewer distinct rows.
    Each iteration recomputes only the centers of clusters whose members changed (the others
    would come out identical).
    """
    n = x.shape[0]
    x_sq = (x * x).sum(axis=1)
    best: tuple[float, np.ndarray, np.ndarray] | None = None
    for _ in range(n_init):
        centers = [x[rng.integers(n)]]
        d2 = sq_dist(x, centers[0][None, :], x_sq)[:, 0]
        for _ in range(1, k):
            total = d2.sum()
            if total <= 0:  # every row already coincides with a center
                break
            pick = int(np.searchsorted(np.cumsum(d2), rng.random() * total, side="right"))
            centers.append(x[min(pick, n - 1)])
            d2 = np.minimum(d2, sq_dist(x, centers[-1][None, :], x_sq)[:, 0])
        c = np.array(centers)
        n_c = c.shape[0]
        labels = np.full(n, -1)
        for _ in range(max_iter):
            # |x|² is the same for every center, so the argmin needs only |c|² - 2 x.c
            score = x @ c.T
            np.multiply(score, 2.0, out=score)
            np.subtract((c * c).sum(axis=1)[None, :], score, out=score)
            new = score.argmin(axis=1)
            if np.array_equal(new, labels):
                break
            if labels[0] < 0:
                changed = np.arange(n_c)
            else:
                moved = new != labels
                changed = np.flatnonzero(np.bincount(np.concatenate([labels[moved], new[moved]]), minlength=n_c))
            labels = new
            sizes = np.bincount(labels, minlength=n_c)
            changed = changed[sizes[changed] > 0]
            if changed.size:
                c[changed] = _cluster_sums(x, labels, sizes, changed) / sizes[changed][:, None]
            empty = sizes == 0
            if empty.any():  # re-seed empty clusters at the rows farthest from their centers
                far = np.argsort(sq_dist(x, c, x_sq)[np.arange(n), labels])[::-1][: int(empty.sum())]
                c[empty] = x[far]
        inertia = float(sq_dist(x, c, x_sq)[np.arange(n), labels].sum())
        if best is None or inertia < best[0]:
            best = (inertia, c, labels)
    return best[1], best[2]


def fit_affine(x: np.ndarray, y: np.ndarray, ridge: float) -> tuple[np.ndarray, np.ndarray]:
    """Ridge-regularized affine map (intercept not penalized): returns ``(weights, intercept)``."""
    mx, my = x.mean(axis=0), y.mean(axis=0)
    xc, yc = x - mx, y - my
    gram = xc.T @ xc
    gram[np.diag_indices_from(gram)] += ridge * x.shape[0]
    try:
        w = np.linalg.solve(gram, xc.T @ yc)
    except np.linalg.LinAlgError:  # ridge = 0 with collinear units
        w = np.linalg.lstsq(xc, yc, rcond=None)[0]
    return w, my - mx @ w
