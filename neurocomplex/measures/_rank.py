"""Rank correlations of RDM vectors: Spearman, Kendall's τ_a, and their condition-bootstrap forms."""

from __future__ import annotations

import numpy as np

__all__ = ["spearman", "kendall_tau_a", "SortedVector", "RankPair"]


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of the average ranks (ties get their mean rank)."""
    ones = np.ones(a.size)
    return RankPair(a, b).spearman(ones, ones)


def _tie_pairs(v: np.ndarray) -> int:
    _, counts = np.unique(v, return_counts=True)
    return int((counts * (counts - 1) // 2).sum())


def kendall_tau_a(a: np.ndarray, b: np.ndarray) -> float:
    """Kendall's τ_a = (concordant − discordant) / (n(n−1)/2), ties counted in neither.

    Computed in O(n log n) from scipy's τ_b: ``con − dis = τ_b √((n0 − t_a)(n0 − t_b))`` with
    ``n0 = n(n−1)/2`` and ``t_a``, ``t_b`` the tied pairs of each vector.
    """
    from scipy.stats import kendalltau

    n0 = a.size * (a.size - 1) // 2
    ta, tb = _tie_pairs(a), _tie_pairs(b)
    if n0 == 0 or ta == n0 or tb == n0:
        return float("nan")
    tau_b = kendalltau(a, b).statistic
    return float(np.clip(tau_b * np.sqrt(float(n0 - ta) * float(n0 - tb)) / n0, -1.0, 1.0))


class SortedVector:
    """A vector's sort order and tie blocks, reused by every bootstrap replicate."""

    def __init__(self, v: np.ndarray) -> None:
        self.order = np.argsort(v)
        s = v[self.order]
        tie = s[1:] == s[:-1]
        self.has_ties = bool(tie.any())
        if self.has_ties:
            self.starts = np.flatnonzero(np.r_[True, ~tie])
            self.lengths = np.diff(np.r_[self.starts, s.size])

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
