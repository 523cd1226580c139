"""Rank correlations of RDM vectors: Spearman, Kendall's τ_a, and their condition-bootstrap forms."""

from __future__ import annotations

import numpy as np

__all__ = ["spearman", "kendall_tau_a", "weighted_spearman", "SortedVector"]


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of the average ranks (ties get their mean rank)."""
    from scipy.stats import rankdata

    ra = rankdata(a) - (a.size + 1) / 2.0
    rb = rankdata(b) - (b.size + 1) / 2.0
    den = np.sqrt(np.dot(ra, ra) * np.dot(rb, rb))
    return float(np.dot(ra, rb) / den) if den > 0 else float("nan")


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
        self.order = np.argsort(v, kind="stable")
        s = v[self.order]
        starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
        self.starts = starts
        self.lengths = np.diff(np.r_[starts, s.size])

    def midranks(self, w: np.ndarray) -> np.ndarray:
        """Average rank of each entry when entry i appears ``w[i]`` times (zero weight: unused)."""
        ws = w[self.order]
        block_w = np.add.reduceat(ws, self.starts)
        end = np.cumsum(block_w)
        mid = np.repeat(end - block_w + (block_w + 1.0) / 2.0, self.lengths)
        out = np.empty_like(mid)
        out[self.order] = mid
        return out


def weighted_spearman(sa: SortedVector, sb: SortedVector, w: np.ndarray) -> float:
    """Spearman correlation of the multiset in which entry i appears ``w[i]`` times.

    Equal to :func:`spearman` on the explicitly repeated vectors (the copies are ties, so each gets
    the mean rank of its tie block), in O(n) per call instead of a sort.
    """
    ra, rb = sa.midranks(w), sb.midranks(w)
    total = w.sum()
    ma, mb = (w @ ra) / total, (w @ rb) / total
    da, db = ra - ma, rb - mb
    den = np.sqrt((w @ (da * da)) * (w @ (db * db)))
    return float((w @ (da * db)) / den) if den > 0 else float("nan")
