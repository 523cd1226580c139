"""Rank correlations of RDM vectors: Spearman, Kendall's τ_a, exact ties, and their derivatives
with respect to the conditions' bootstrap weights."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence
from fractions import Fraction

import numpy as np

__all__ = ["spearman", "kendall_tau_a", "SortedVector", "RankPair", "merge_split_ties", "spearman_influence",
           "tau_a_influence", "smaller_before", "sort_order"]


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of the average ranks (ties get their mean rank)."""
    return spearman_influence(SortedVector(a), SortedVector(b), gradient=False)[0]


def _tie_pairs(v: np.ndarray) -> int:
    _, counts = np.unique(v, return_counts=True)
    return int((counts * (counts - 1) // 2).sum())


# Below this many pairs, con − dis is recovered exactly from scipy's τ_b: its relative rounding (a
# few ulp, under 1e-15) times |con − dis| < 2^44 stays far below 0.5.
_EXACT_PAIRS = 2**44


def kendall_tau_a(a: np.ndarray, b: np.ndarray) -> float:
    """Kendall's τ_a = (concordant − discordant) / (n(n−1)/2), ties counted in neither.

    Computed in O(n log n) from scipy's τ_b: ``con − dis = τ_b √((n0 − t_a)(n0 − t_b))`` with
    ``n0 = n(n−1)/2`` and ``t_a``, ``t_b`` the tied pairs of each vector, rounded to the integer it
    is (below 2^44 pairs: 5.9 million dissimilarities), so the result is the exact ratio
    ``(con − dis) / n0``.

    Examples
    --------
    >>> kendall_tau_a(np.array([1.0, 2.0, 3.0, 3.0]), np.array([1.0, 3.0, 2.0, 4.0]))  # (4 − 1) / 6
    0.5
    """
    from scipy.stats import kendalltau

    n0 = a.size * (a.size - 1) // 2
    ta, tb = _tie_pairs(a), _tie_pairs(b)
    if n0 == 0 or ta == n0 or tb == n0:
        return float("nan")
    tau_b = kendalltau(a, b).statistic
    s = tau_b * math.sqrt(float(n0 - ta) * float(n0 - tb))
    if n0 < _EXACT_PAIRS:
        # con − dis is an integer and tau_b's relative rounding (a few 1e-16) is far below 1/n0 here:
        # rounding recovers it, so τ_a is the exact ratio, equal to tau_a_influence's to the bit
        s = float(round(s))
    return float(np.clip(s / n0, -1.0, 1.0))


_PACKED_MIN = 2048  # from this many entries the packed sort below beats np.argsort (measured: 0.44x at 4,186)


def sort_order(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.argsort(v, kind="stable")`` of a 1-D float array without NaN (−0 and 0 as equal), and
    ``v`` in that order; several times faster than the argsort on long vectors.

    np.sort of integers is vectorized, np.argsort is not (8–10× slower on millions of entries). The
    float64 values are mapped to unsigned integers in the same order, their lowest bits replaced by
    the entry's position, and the keys sorted: the positions come out sorted by the values'
    leading bits (at least 64 − 27 of them up to 10^8 entries), ties of those by position. Entries
    whose leading bits agree but whose values do not (closer than about 2^-37 relative) may then
    be out of order; they are found by comparing neighbours and re-sorted within their runs.

    Examples
    --------
    >>> sort_order(np.array([0.5, -1.0, 0.5, -0.0, 0.0, 2.0]))[0].tolist()
    [1, 3, 4, 0, 2, 5]
    """
    m = v.size
    if m < _PACKED_MIN or v.dtype.kind != "f" or np.isnan(v).any():
        order = np.argsort(v, kind="stable")
        return order, v[order]
    key = (np.asarray(v, dtype=np.float64) + 0.0).view(np.uint64)  # a copy, −0 made 0
    # order-preserving map onto unsigned integers: negatives' bits all flipped, positives' sign bit set
    flip = key >> np.uint64(63)
    flip *= np.uint64(0x7FFFFFFFFFFFFFFF)
    flip |= np.uint64(1 << 63)
    key ^= flip
    pos_bits = (m - 1).bit_length()
    low = np.uint64((1 << pos_bits) - 1)
    key &= ~low
    key |= np.arange(m, dtype=np.uint64)
    key.sort()
    run = key >> np.uint64(pos_bits)
    order = np.bitwise_and(key, low, out=key).view(np.intp)
    vals = v[order]
    wrong = np.flatnonzero(vals[1:] < vals[:-1])
    if wrong.size:  # re-sort the runs of equal leading bits that hold a descent, by value, then position
        starts = np.flatnonzero(np.r_[True, run[1:] != run[:-1]])
        bad = np.unique(np.searchsorted(starts, wrong, side="right") - 1)
        lengths = np.append(starts[1:], m)[bad] - starts[bad]
        if lengths.sum() > m // 8:
            order = np.argsort(v, kind="stable")
            return order, v[order]
        at = np.repeat(starts[bad] - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
        sub = order[at]
        inner = np.lexsort((sub, vals[at], np.repeat(np.arange(bad.size), lengths)))
        order[at], vals[at] = sub[inner], vals[at][inner]
    return order, vals


def _starts_mask(s: np.ndarray) -> np.ndarray:
    """True where a sorted vector's value differs from the previous one (and at 0)."""
    new = np.empty(s.size, dtype=bool)
    new[:1] = True
    np.not_equal(s[1:], s[:-1], out=new[1:])
    return new


class SortedVector:
    """A vector's sort order and tie blocks (exact equality), reused by every use of its ranks."""

    def __init__(self, v: np.ndarray, order: np.ndarray | None = None, sorted_v: np.ndarray | None = None) -> None:
        if order is None:  # any order of ties would do: their ranks are averaged
            self.order, s = sort_order(v)
        else:
            self.order, s = order, v[order] if sorted_v is None else sorted_v
        new = _starts_mask(s)
        self.starts = np.flatnonzero(new)
        self.lengths = np.diff(self.starts, append=s.size)
        self.has_ties = self.starts.size < s.size
        self.block = np.cumsum(new) - 1 if self.has_ties else np.arange(s.size)  # tie block of each sorted position

    def _per_block(self, sorted_vals: np.ndarray) -> np.ndarray:
        return np.add.reduceat(sorted_vals, self.starts) if self.has_ties else sorted_vals

    def _to_entries(self, block_vals: np.ndarray) -> np.ndarray:
        return block_vals[self.block] if self.has_ties else block_vals

    def unsort(self, sorted_vals: np.ndarray) -> np.ndarray:
        """Values given in sorted order, back in the vector's own order."""
        out = np.empty(self.order.size, dtype=sorted_vals.dtype)
        out[self.order] = sorted_vals
        return out

    def sorted_ranks(self) -> np.ndarray:
        """Average ranks (1-based) in sorted order."""
        return self._to_entries(self.starts + (self.lengths + 1) * 0.5)

    def ranks(self) -> np.ndarray:
        """Average ranks (1-based) in the vector's own order."""
        return self.unsort(self.sorted_ranks())

    def sorted_above(self, sorted_vals: np.ndarray) -> np.ndarray:
        """In sorted order, Σ_e K(f, e) vals_e for every f, K(f, e) = [v_e > v_f] + ½ [v_e = v_f]
        (f itself included), from values given in sorted order."""
        bsum = self._per_block(sorted_vals)
        out = np.cumsum(bsum)
        np.subtract(out[-1], out, out=out)  # the later blocks' sum, from one forward pass
        out += 0.5 * bsum
        return self._to_entries(out)

    def above(self, vals: np.ndarray) -> np.ndarray:
        """:meth:`sorted_above` of values given (and returned) in the vector's own order."""
        return self.unsort(self.sorted_above(vals[self.order]))

    def midranks(self, ws: np.ndarray) -> np.ndarray:
        """Average ranks, in sorted order, when the i-th smallest entry appears ``ws[i]`` times."""
        if not self.has_ties:
            r = np.cumsum(ws)
            r -= 0.5 * ws
            r += 0.5
            return r
        block_w = np.add.reduceat(ws, self.starts)
        block_end = np.cumsum(block_w)
        return np.repeat(block_end - (block_w - 1.0) * 0.5, self.lengths)


class RankPair:
    """Two vectors prepared for Spearman correlations of weighted multisets of their entries.

    Entry i of both vectors appears ``w[i]`` times; the copies are ties. Each call costs a few
    passes over the vectors (no sort): the ranks come from cumulative weights in each vector's
    own sorted order, and one precomputed permutation aligns the two.
    """

    def __init__(self, a: np.ndarray, b: np.ndarray) -> None:
        self.sa, self.sb = SortedVector(a), SortedVector(b)
        inverse_b = np.empty_like(self.sb.order)
        inverse_b[self.sb.order] = np.arange(b.size)
        self.b_in_a = inverse_b[self.sa.order]  # position in b's sorted order of a's k-th smallest

    def spearman(self, w_in_a: np.ndarray, w_in_b: np.ndarray) -> float:
        """ρ with weights given in a's and in b's sorted order (the same weights, permuted)."""
        ra, rb = self.sa.midranks(w_in_a), self.sb.midranks(w_in_b)
        total = float(w_in_a.sum())
        mean = (total + 1.0) * 0.5  # the mean rank of a multiset of ``total`` entries
        wra = w_in_a * ra
        # einsum, not BLAS ddot: a threaded ddot on a busy machine is many times slower here
        sxy = float(np.einsum("i,i->", wra, np.take(rb, self.b_in_a))) - total * mean * mean
        sxx = float(np.einsum("i,i->", wra, ra)) - total * mean * mean
        syy = float(np.einsum("i,i->", w_in_b * rb, rb)) - total * mean * mean
        den = np.sqrt(sxx * syy) if sxx > 0 and syy > 0 else 0.0
        return float(sxy / den) if den > 0 else float("nan")


# --------------------------------------------------------------------------- exact ties
def merge_split_ties(v: np.ndarray, tol: float, exact_key: Callable[[np.ndarray], Sequence[Fraction]]
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Values whose floating-point rounding split an exact tie, made equal again; and their sort order.

    Distinct values of ``v`` closer than ``tol`` (far above the rounding of their computation)
    are checked exactly: ``exact_key(indices)`` returns, for entries of ``v``, exact numbers
    ordered as the true values. Entries with equal keys get one value; within a run of close
    values the values are reassigned in the order of the keys, so that order is exact too.
    Costs one sort plus Python work per close value only.
    """
    order, s = sort_order(v)
    first = np.flatnonzero(_starts_mask(s))
    vals = s[first]
    close = np.flatnonzero(np.diff(vals) <= tol)
    if close.size == 0:
        return v, order
    stops = np.append(first[1:], s.size)
    breaks = np.flatnonzero(np.diff(close) > 1)
    changed = False
    for lo, hi in zip(np.r_[close[0], close[breaks + 1]], np.r_[close[breaks], close[-1]] + 1, strict=True):
        keys = list(exact_key(order[first[lo:hi + 1]]))
        ranked = sorted(range(len(keys)), key=keys.__getitem__)
        target = np.empty(len(keys))
        for pos, k in enumerate(ranked):
            same = pos > 0 and keys[k] == keys[ranked[pos - 1]]
            target[k] = target[ranked[pos - 1]] if same else vals[lo + pos]
        moved = False
        for k, t in enumerate(target):
            if t != vals[lo + k]:
                s[first[lo + k]:stops[lo + k]] = t
                moved = True
        if moved:
            changed = True
            if np.any(target[1:] < target[:-1]):  # the exact order differs: re-sort this run only
                seg = slice(first[lo], stops[hi])
                inner = np.argsort(s[seg], kind="stable")
                s[seg], order[seg] = s[seg][inner], order[seg][inner]
    if not changed:
        return v, order
    out = np.empty_like(v)
    out[order] = s
    return out, order


# --------------------------------------------------------------------------- influence on bootstrap weights
def spearman_influence(sa: SortedVector, sb: SortedVector, gradient: bool = True) -> tuple[float, np.ndarray]:
    """Spearman's ρ and its derivative with respect to each entry's multiplicity at 1.

    With entry e present w_e times, the average ranks are linear in the weights,
    R(e) = Σ_f w_f K(f, e) + ½ (K as in :meth:`SortedVector.sorted_above`), so every derivative
    of ρ = S_ab / √(S_aa S_bb), S_ab = Σ w R_a R_b − W μ², μ = (W + 1)/2, comes from suffix sums
    in each vector's sorted order: O(n) after the sorts.
    """
    ra_s, rb_s = sa.sorted_ranks(), sb.sorted_ranks()
    ra, rb = sa.unsort(ra_s), sb.unsort(rb_s)
    m = float(ra.size)
    mu = (m + 1.0) * 0.5
    ca, cb = ra - mu, rb - mu
    # einsum, not BLAS ddot: a threaded ddot on a busy machine is many times slower here
    sab, saa, sbb = (float(np.einsum("i,i->", u, v)) for u, v in ((ca, cb), (ca, ca), (cb, cb)))
    if not (saa > 0 and sbb > 0):
        return float("nan"), np.zeros(ra.size)
    root = np.sqrt(saa * sbb)
    rho = float(np.clip(sab / root, -1.0, 1.0))
    if not gradient:
        return rho, np.empty(0)
    rb_in_a, ra_in_b = rb[sa.order], ra[sb.order]
    # dS_ab/dw = R_a R_b + Σ K_a R_b + Σ K_b R_a − k, dS_aa/dw = R_a² + 2 Σ K_a R_a − k, k = d(W μ²)/dW
    part_a = ra_s * rb_in_a
    part_a += sa.sorted_above(rb_in_a)
    part_a *= 1.0 / root
    part_a -= (0.5 * rho / saa) * (ra_s * ra_s + 2.0 * sa.sorted_above(ra_s))
    part_b = sb.sorted_above(ra_in_b)
    part_b *= 1.0 / root
    part_b -= (0.5 * rho / sbb) * (rb_s * rb_s + 2.0 * sb.sorted_above(rb_s))
    k = (m + 1.0) * (3.0 * m + 1.0) * 0.25
    out = sa.unsort(part_a)
    out += sb.unsort(part_b)
    out += k * (0.5 * rho * (1.0 / saa + 1.0 / sbb) - 1.0 / root)
    return rho, out


def smaller_before(x: np.ndarray) -> np.ndarray:
    """For every position t, the number of earlier positions s < t with x[s] < x[t].

    One stable sort ranks the entries by value, equal values latest first (an earlier equal value
    then ranks above, so it is not counted); :func:`_smaller_before_perm` counts on those ranks.

    Examples
    --------
    >>> smaller_before(np.array([3, 1, 2, 2, 0, 3])).tolist()
    [0, 0, 1, 1, 0, 4]
    """
    m = x.size
    if m < 2:
        return np.zeros(m, dtype=np.int64)
    order = np.argsort(x[::-1], kind="stable")
    perm = np.empty(m, dtype=np.int64)
    perm[m - 1 - order] = np.arange(m)
    return _smaller_before_perm(perm)


_KEY_BITS = 63  # packed int64 keys stay non-negative
# The last levels count within rows of 2**6 values (one uint64 mask of the values seen per row: 64
# steps over size / 64 rows); below 2**17 entries the steps' per-call cost dominates, and rows of 2**3
# (8 steps, three more levels) are faster: 1.1 against 2.6 ms for the 4,186 pairs of 92 conditions.
_ROW_BITS = 6
_SHORT_ROW_BITS = 3
_LONG_ROWS = 1 << 17
_LITTLE_ENDIAN = sys.byteorder == "little"


def _popcount_swar(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Set bits of each uint64, into ``out`` (uint8): ``np.bitwise_count`` for numpy < 2."""
    c1, c2, c4 = np.uint64(0x5555555555555555), np.uint64(0x3333333333333333), np.uint64(0x0F0F0F0F0F0F0F0F)
    x = x - ((x >> np.uint64(1)) & c1)
    x = (x & c2) + ((x >> np.uint64(2)) & c2)
    x = (x + (x >> np.uint64(4))) & c4
    return np.right_shift(x * np.uint64(0x0101010101010101), np.uint64(56), out=out, casting="unsafe")


_popcount = getattr(np, "bitwise_count", None) or _popcount_swar


def _smaller_before_perm(p: np.ndarray) -> np.ndarray:
    """:func:`smaller_before` of a permutation ``p`` of 0 … m − 1, in O(m log m) dense passes, no sort.

    :func:`_wavelet_counts` pads to a power of two; where over 1/8 of that would be padding, the
    values below the largest power of two H < m (exactly H of them: no padding) and those from H up
    are counted apart, the latter adding the earlier entries below H, all smaller.
    """
    m = p.size
    if m <= 64 or 8 * m >= 7 << (m - 1).bit_length():
        return _wavelet_counts(p)
    low = 1 << ((m - 1).bit_length() - 1)
    is_high = p >= low
    high = np.flatnonzero(is_high)
    np.logical_not(is_high, out=is_high)
    rest = np.flatnonzero(is_high)
    out = np.empty(m, dtype=np.int64)
    out[rest] = _wavelet_counts(p[rest])
    counts = _smaller_before_perm(p[high] - low)
    counts += high
    counts -= np.arange(high.size, dtype=np.int64)
    out[high] = counts
    return out


def _wavelet_counts(p: np.ndarray) -> np.ndarray:
    """:func:`_smaller_before_perm`, padded to a power of two.

    A wavelet matrix over the values' bits, highest first. Before bit l the entries lie in aligned
    rows of 2^(l+1), each holding the values that share their bits above l, in their original
    order; each row is split stably into its values with bit l clear, then set (all rows' clear
    ones first, so the next rows are aligned again). An entry with bit l set gains the clear ones
    before it in its row: over all bits, each earlier smaller value is counted once, at the highest
    bit where the two differ. Padded with the values m … 2^L − 1 (at the end, where they count for
    no entry), every row is full, so a row's start and its number of clear bits are arithmetic and
    a level is two ``flatnonzero`` and two ``take`` (a sorting pass per level costs several times
    more). The last six bits are counted within rows of 64 from a bit mask of the values seen.
    Each entry's count travels in one int64 with its value and, when that fits (3L ≤ 63 bits, up
    to 2^21 entries), its position, which then places the counts without a gather.
    """
    m = p.size
    if m == 0:
        return np.zeros(0, dtype=np.int64)
    bits = max((m - 1).bit_length(), 1)
    size = 1 << bits
    with_pos = 3 * bits <= _KEY_BITS
    vshift = 2 * bits if with_pos else bits  # count in bits [0, L), position in [L, 2L), value above
    pack = np.empty(size, dtype=np.int64)
    np.left_shift(p, vshift, out=pack[:m], dtype=np.int64)
    pack[m:] = np.arange(m, size, dtype=np.int64) << vshift
    if with_pos:
        pack |= np.arange(size, dtype=np.int64) << bits
    low_bits = min(bits, _ROW_BITS if size >= _LONG_ROWS else _SHORT_ROW_BITS)
    half = size >> 1
    new = np.empty_like(pack)
    bit_set = np.empty(size, dtype=bool)
    for level in range(bits - 1, low_bits - 1, -1):
        b = vshift + level
        byte = pack.view(np.uint8)[(b >> 3 if _LITTLE_ENDIAN else 7 - (b >> 3))::8]
        np.not_equal(np.bitwise_and(byte, 1 << (b & 7)), 0, out=bit_set)
        ones = np.flatnonzero(bit_set)
        upper = new[half:]
        np.take(pack, ones, out=upper, mode="clip")  # mode="clip": no buffered bounds check
        # the c-th set bit of row r, at i, has i − r·2^(l+1) − c clear bits before it in its row
        in_rows = ones.reshape(-1, 1 << level)
        in_rows -= np.arange(0, size, 2 << level, dtype=np.int64)[:, None]
        in_rows -= np.arange(1 << level, dtype=np.int64)
        upper += ones
        np.logical_not(bit_set, out=bit_set)
        np.take(pack, np.flatnonzero(bit_set), out=new[:half], mode="clip")
        pack, new = new, pack
    width = 1 << low_bits
    rows = size >> low_bits
    low = ((pack >> vshift) & (width - 1)).astype(np.uint8).reshape(rows, width).T.copy()
    seen, below = np.zeros(rows, dtype=np.uint64), np.empty(rows, dtype=np.uint64)
    counts = np.empty((width, rows), dtype=np.uint8)
    one = np.uint64(1)
    for i in range(width):
        bit = np.left_shift(one, low[i], dtype=np.uint64)
        np.subtract(bit, one, out=below)
        below &= seen
        _popcount(below, out=counts[i])
        seen |= bit
    in_rows = pack.reshape(rows, width)
    in_rows += counts.T
    mask = size - 1
    out = np.empty(size, dtype=np.int64)
    if with_pos:
        out[(pack >> bits) & mask] = pack & mask
        return out[:m]
    out[pack >> bits] = pack & mask
    return out[p]


def tau_a_influence(sa: SortedVector, sb: SortedVector) -> tuple[float, np.ndarray]:
    """Kendall's τ_a and its derivative with respect to each entry's multiplicity at 1.

    With multiplicities w, τ_a = Q / P, Q = ½ Σ_{e≠f} w_e w_f sign(a_e − a_f) sign(b_e − b_f),
    P = W(W − 1)/2; ∂Q/∂w_f = q_f, entry f's concordant minus discordant count. With p_f its
    position by a ascending then b descending, π_f its position by b ascending then a descending
    (entries tied in both in opposite orders), the entries before f in both orders are exactly
    those with a_e < a_f and b_e < b_f (:func:`_smaller_before_perm` of π in p's order), and
    q_f = 4 #{a_e < a_f, b_e < b_f} − 2 π_f − 2 p_f + m − 2 + (a ties) + (b ties) − (a and b ties),
    the tie counts including f. Without ties, the sort orders are the vectors' own: no sort.
    """
    m = sa.order.size
    if m < 2:
        return float("nan"), np.zeros(m)
    pos = np.arange(m, dtype=np.int64)
    rb = _in_order(sb, sb.block.astype(np.int64, copy=False))  # b's tie block of each entry (its rank without ties)
    nb = sb.starts.size
    if sa.has_ties:
        order, rb_p = _a_up_b_down(_in_order(sa, sa.block.astype(np.int64, copy=False)), rb, sa.starts.size, nb)
    else:
        order = sa.order
        rb_p = rb[order]
    pos_bits = (m - 1).bit_length()
    if sb.has_ties:
        key = rb_p << pos_bits
        key |= m - 1 - pos  # b ascending, then later in ``order`` first
        key.sort()
        pi = np.empty(m, dtype=np.int64)
        pi[m - 1 - (key & ((1 << pos_bits) - 1))] = pos
    else:
        pi = rb_p
    q = _smaller_before_perm(pi)
    q *= 4
    twice = pi + pos
    twice *= 2
    q -= twice
    both_tied = sa.has_ties and sb.has_ties
    q += m - 2 + (not sa.has_ties) + (not sb.has_ties) - (not both_tied)  # the tie sizes of 1, not added below
    if sa.has_ties:
        q += sa.lengths[sa.block]  # ``order`` sorts a as ``sa.order`` does: the same blocks
    if sb.has_ties:
        q += sb.lengths[rb_p]
    if both_tied:  # runs tied in a and b: in ``order``, equal b within an a block
        new = _starts_mask(rb_p)
        new[sa.starts] = True
        both = np.diff(np.flatnonzero(new), append=m)
        q -= np.repeat(both, both)
    pairs = m * (m - 1) / 2.0
    tau = float(q.sum()) / (2.0 * pairs)
    out = np.empty(m)
    out[order] = (q - tau * (m - 0.5)) / pairs
    return tau, out


def _a_up_b_down(ra: np.ndarray, rb: np.ndarray, na: int, nb: int) -> tuple[np.ndarray, np.ndarray]:
    """The entries by a's block ascending, then b's descending (ties in both: any order); their b blocks.

    One ``np.sort`` of packed (a, b, entry) keys where they fit in 63 bits (several times faster
    than an argsort), else an argsort of (a, b) keys.
    """
    m = ra.size
    pos_bits, b_bits = (m - 1).bit_length(), (nb - 1).bit_length()
    if (na - 1).bit_length() + b_bits + pos_bits <= _KEY_BITS:
        key = ra << (b_bits + pos_bits)
        key |= (nb - 1 - rb) << pos_bits
        key |= np.arange(m, dtype=np.int64)
        key.sort()
        return key & ((1 << pos_bits) - 1), nb - 1 - ((key >> pos_bits) & ((1 << b_bits) - 1))
    order = np.argsort(ra * nb + (nb - 1 - rb))
    return order, rb[order]


def _in_order(sv: SortedVector, sorted_vals: np.ndarray) -> np.ndarray:
    out = np.empty(sorted_vals.size, dtype=sorted_vals.dtype)
    out[sv.order] = sorted_vals
    return out
