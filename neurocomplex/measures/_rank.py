"""Rank correlations of RDM vectors: Spearman, Kendall's τ_a, exact ties, and their derivatives
with respect to the conditions' bootstrap weights."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from fractions import Fraction

import numpy as np

__all__ = ["spearman", "kendall_tau_a", "SortedVector", "RankPair", "merge_split_ties", "spearman_influence",
           "tau_a_influence", "smaller_before"]


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


def _starts_mask(s: np.ndarray) -> np.ndarray:
    """True where a sorted vector's value differs from the previous one (and at 0)."""
    new = np.empty(s.size, dtype=bool)
    new[:1] = True
    np.not_equal(s[1:], s[:-1], out=new[1:])
    return new


class SortedVector:
    """A vector's sort order and tie blocks (exact equality), reused by every use of its ranks."""

    def __init__(self, v: np.ndarray, order: np.ndarray | None = None) -> None:
        self.order = np.argsort(v) if order is None else order  # any order of ties: their ranks are averaged
        s = v[self.order]
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
    order = np.argsort(v)
    s = v[order]
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
        if moved:  # re-sort this run only: nothing outside it moved
            seg = slice(first[lo], stops[hi])
            inner = np.argsort(s[seg], kind="stable")
            s[seg], order[seg] = s[seg][inner], order[seg][inner]
            changed = True
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
    """For every position t, the number of earlier positions s < t with x[s] < x[t] (x: integers ≥ 0).

    Bottom-up merge sort: at each level, pairs of sorted runs are merged by one stable argsort of
    keys that put a right run's value before the equal values of its left run, so a right
    element's merged position, less its own rank in its run, is the number of strictly smaller
    values in the left run. O(n log² n) in a few dense vectorised passes per level (no binary
    search, no boolean indexing).

    Examples
    --------
    >>> smaller_before(np.array([3, 1, 2, 2, 0, 3])).tolist()
    [0, 0, 1, 1, 0, 4]
    """
    m = x.size
    out = np.zeros(m, dtype=np.int64)
    if m < 2:
        return out
    vals = 2 * x.astype(np.int64) + 1  # odd: a right element's key is its value's less one
    span = int(vals.max()) + 1
    idx, pos = np.arange(m), np.arange(m)
    cnt = np.zeros(m, dtype=np.int64)
    level = 0
    while (1 << level) < m:
        right = (pos >> level) & 1  # the right run of each pair of runs of length 2**level
        keys = (pos >> (level + 1)) * span
        keys += vals
        keys -= right
        o = np.argsort(keys, kind="stable")
        # a right element moved from position o[p] to p: p - (o[p] - 2**level) left values precede it
        step = pos - o
        step += 1 << level
        step *= right[o]
        cnt = cnt[o]
        cnt += step
        vals, idx = vals[o], idx[o]
        level += 1
    out[idx] = cnt
    return out


def tau_a_influence(sa: SortedVector, sb: SortedVector) -> tuple[float, np.ndarray]:
    """Kendall's τ_a and its derivative with respect to each entry's multiplicity at 1.

    With multiplicities w, τ_a = Q / P, Q = ½ Σ_{e≠f} w_e w_f sign(a_e − a_f) sign(b_e − b_f),
    P = W(W − 1)/2; ∂Q/∂w_f = q_f, entry f's concordant minus discordant count, written through
    the strict dominance count #{a_e < a_f, b_e < b_f} (:func:`smaller_before` in (a, b) order)
    and counts within tie blocks.
    """
    m = sa.order.size
    ra = np.empty(m, dtype=np.int64)
    ra[sa.order] = sa.block
    rb = np.empty(m, dtype=np.int64)
    rb[sb.order] = sb.block
    a_less = _in_order(sa, sa.starts[sa.block])
    a_size = _in_order(sa, sa.lengths[sa.block])
    b_less = _in_order(sb, sb.starts[sb.block])
    b_more = m - b_less - _in_order(sb, sb.lengths[sb.block])
    span = int(max(ra.max(), rb.max())) + 1
    key_ab, key_ba = ra * span + rb, rb * span + ra
    lex = np.argsort(key_ab)  # by a, then b; the order of exact ties in both does not matter here
    lo_ab, hi_ab = _run_bounds(key_ab, lex)
    el = lo_ab - a_less  # same a, smaller b
    eg = a_less + a_size - hi_ab  # same a, larger b
    le = _run_bounds(key_ba, np.argsort(key_ba))[0] - b_less  # smaller a, same b
    ll = np.empty(m, dtype=np.int64)
    ll[lex] = smaller_before(rb[lex])  # strictly smaller b before in (a, b) order
    ll -= el
    q = 4 * ll - 2 * a_less + 2 * le + b_more - b_less + el - eg
    pairs = m * (m - 1) / 2.0
    if pairs == 0:
        return float("nan"), np.zeros(m)
    tau = float(q.sum()) / (2.0 * pairs)
    return tau, (q - tau * (m - 0.5)) / pairs


def _in_order(sv: SortedVector, sorted_vals: np.ndarray) -> np.ndarray:
    out = np.empty(sorted_vals.size, dtype=sorted_vals.dtype)
    out[sv.order] = sorted_vals
    return out


def _run_bounds(keys: np.ndarray, order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each entry, the number of keys below it and the number at most it (``np.searchsorted``
    left and right of ``keys`` in its sorted self), from the sort ``order``: runs of equal keys."""
    s = keys[order]
    new = _starts_mask(s)
    starts = np.flatnonzero(new)
    run = np.cumsum(new) - 1
    lo, hi = np.empty(keys.size, dtype=np.int64), np.empty(keys.size, dtype=np.int64)
    lo[order] = starts[run]
    hi[order] = np.append(starts[1:], keys.size)[run]
    return lo, hi
