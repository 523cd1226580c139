"""Per-block cross-products of two populations, merged exactly for any bootstrap weighting.

The rows (samples) are split into B blocks. For each pair of sides ``AB`` in ``xy, xx, yy`` the
block products ``G_b = A_bᵀ B_b`` (p × q, never the n × n Gram matrices) are reduced to a few
B × B and B × B × B arrays, so that for any block weights ``w`` (a bootstrap replicate draws
block ``b`` ``w_b`` times) the quantities CKA needs come out of quadratic and cubic forms in
``w``, exactly and without touching the data again:

- ``||Σ_b w_b G_b||²_F = wᵀ K w`` with ``K[b, c] = <G_b, G_c>``;
- ``s_A(w)ᵀ G(w) s_B(w) = Σ_bcd w_b w_c w_d T[b, c, d]`` with ``T[b, c, d] = s_A,cᵀ G_b s_B,d``
  (``s_A,c``: column sums of block c);
- ``|s_A(w)|² = wᵀ P_A w``.

The statistics are shift invariant, so the products are taken on the raw rows (no copy of the
data) and the centring happens in the formulas, which subtract the mean's share from ``||AᵀB||²``.
A side whose means are large enough for that subtraction to amplify rounding more than 16 times
(bound from its column means and total variance, one cheap pass) is centred first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["PairBlocks", "pair_blocks", "block_assignment", "replicate_weights", "max_blocks", "use_grams",
           "centring_shift"]

# Rows per product: float32 data are multiplied in float32 and accumulated in float64 per chunk.
_CHUNK_ROWS = 16384
_MAX_RHO = 3.0  # (1 + 3)² = 16: the most the centring in the formulas may amplify rounding
_F64_ROWS = 2048
_SIDES = ("xy", "xx", "yy")


@dataclass
class PairBlocks:
    """Reduced per-block statistics (see the module docstring); ``debiased`` adds the diagonals."""

    counts: np.ndarray               # (B,) rows per block
    K: dict[str, np.ndarray]         # (B, B) Frobenius inner products of block products
    T: dict[str, np.ndarray]         # (B, B, B) s_cᵀ G_b s_d
    P: dict[str, np.ndarray]         # "x", "y": (B, B) inner products of block column sums
    diag: dict[str, np.ndarray] | None = None  # per-block sums of row norms (debiased HSIC)
    cross: dict[str, np.ndarray] | None = None  # (B, B) s_A,c · Σ_b |b_i|² a_i terms

    @property
    def n_blocks(self) -> int:
        return int(self.counts.size)


def max_blocks(p: int, q: int, budget_bytes: float) -> int:
    """Most blocks whose p × q, p × p and q × q products fit in ``budget_bytes`` (float64)."""
    per_block = 8.0 * (p * q + p * p + q * q + 2 * (p + q))
    return int(budget_bytes // per_block)


def block_assignment(n_samples: int, n_blocks: int, block_size: int | None, seed: int | None) -> list[np.ndarray]:
    """Row indices of each block: contiguous runs of ``block_size`` samples (time series), or a
    seeded random partition into ``n_blocks`` groups of nearly equal size (exchangeable samples)."""
    if block_size is not None:
        starts = np.arange(0, n_samples, block_size)
        return [np.arange(s, min(s + block_size, n_samples)) for s in starts]
    if n_blocks <= 1:
        return [np.arange(n_samples)]
    order = np.random.default_rng([0 if seed is None else seed, 7]).permutation(n_samples)
    return [np.sort(part) for part in np.array_split(order, n_blocks)]


def replicate_weights(n_blocks: int, n_boot: int, seed: int | None) -> np.ndarray:
    """``(n_boot, n_blocks)`` draw counts: each replicate draws ``n_blocks`` blocks with replacement."""
    rng = np.random.default_rng(seed)
    return rng.multinomial(n_blocks, np.full(n_blocks, 1.0 / n_blocks), size=n_boot).astype(np.float64)


def _work(a: np.ndarray) -> np.ndarray:
    return a if a.dtype in (np.float32, np.float64) else a.astype(np.float64)


def _column_mean(a: np.ndarray) -> np.ndarray:
    from neurocomplex.stats.covariance import _column_sums

    return (_column_sums(a) if a.dtype == np.float32 else a.sum(axis=0)) / a.shape[0]


def _centred_work(a: np.ndarray) -> np.ndarray:
    a = _work(a)
    return np.subtract(a, _column_mean(a).astype(a.dtype), dtype=a.dtype)


def _product(a: np.ndarray, b: np.ndarray | None, out: np.ndarray | None = None) -> np.ndarray:
    """``aᵀ b`` (``aᵀ a`` when b is None: SYRK) in the data's precision, accumulated in float64."""
    shape = (a.shape[1], a.shape[1] if b is None else b.shape[1])
    if out is None:
        out = np.zeros(shape)
    else:
        out = out.reshape(shape)
        out[...] = 0.0
    for s in range(0, a.shape[0], _CHUNK_ROWS):
        ca = a[s : s + _CHUNK_ROWS]
        np.add(out, ca.T @ ca if b is None else ca.T @ b[s : s + _CHUNK_ROWS], out=out)
    return out



def pair_blocks(x: np.ndarray, y: np.ndarray, blocks: list[np.ndarray], debiased: bool) -> PairBlocks:
    """Per-block statistics of ``x`` (n × p) and ``y`` (n × q) for the given row blocks.

    From the p × q, p × p and q × q products when they are cheaper (n >= (pq + p²/2 + q²/2) /
    (p + q), roughly n >= (p + q) / 2), else from the n × n Gram matrices of the samples, whose
    blocks give the same reduced statistics exactly (fewer samples than units: the Gram matrices
    are the smaller objects).
    """
    xw, yw = _work(x), _work(y)
    shift_x, shift_y = centring_shift(xw), centring_shift(yw)
    xw = xw if shift_x is None else np.subtract(xw, shift_x, dtype=xw.dtype)
    yw = yw if shift_y is None else np.subtract(yw, shift_y, dtype=yw.dtype)
    if use_grams(*xw.shape, yw.shape[1]):
        return _pair_blocks_from_grams(xw, yw, blocks, debiased)
    return _pair_blocks(xw, yw, blocks, debiased)


def use_grams(n: int, p: int, q: int) -> bool:
    """Whether the n × n sample Gram matrices cost less than the unit products."""
    return n * (p + q) < p * q + (p * p + q * q) / 2


def _block_sums(a: np.ndarray, starts: np.ndarray, axis: int) -> np.ndarray:
    return np.add.reduceat(a, starts, axis=axis)


def _pair_blocks_from_grams(xc: np.ndarray, yc: np.ndarray, blocks: list[np.ndarray], debiased: bool) -> PairBlocks:
    """The statistics of :func:`_pair_blocks` from H_x = XXᵀ and H_y = YYᵀ (rows in block order):
    ``<G_b, G_c> = Σ_{i∈b, j∈c} H_a[i, j] H_b[i, j]``, ``s_A,c · a_i = Σ_{j∈c} H_a[i, j]``."""
    order = np.concatenate(blocks)
    counts = np.array([idx.size for idx in blocks], dtype=np.float64)
    starts = np.r_[0, np.cumsum(counts[:-1])].astype(np.int64)
    h = {}
    for name, a in (("x", xc), ("y", yc)):
        a64 = np.asarray(a[order], dtype=np.float64)
        h[name] = a64 @ a64.T
    z = {k: _block_sums(v, starts, 1) for k, v in h.items()}  # (n, B): a_i · s_A,c
    P = {k: _block_sums(v, starts, 0) for k, v in z.items()}  # (B, B): s_A,b · s_A,c
    K, T = {}, {}
    for key in _SIDES:
        a, b = key[0], key[1]
        K[key] = _block_sums(_block_sums(h[a] * h[b], starts, 0), starts, 1)
        # T[b, c, d] = Σ_{i∈b} (a_i · s_A,c)(b_i · s_B,d)
        T[key] = np.stack([z[a][s:e].T @ z[b][s:e] for s, e in zip(starts, np.r_[starts[1:], order.size],
                                                                          strict=True)])
    out = PairBlocks(counts=counts, K=K, T=T, P=P)
    if debiased:
        norms = {k: np.diagonal(v).copy() for k, v in h.items()}
        diag = {k: _block_sums(v, starts, 0) for k, v in norms.items()}
        cross = {}
        for key in _SIDES:
            a, b = key[0], key[1]
            diag[key] = _block_sums(norms[a] * norms[b], starts, 0)
            # [c, b]: s_A,c · Σ_{i∈b} |b_i|² a_i  +  s_B,c · Σ_{i∈b} |a_i|² b_i
            cross[key] = (_block_sums(z[a] * norms[b][:, None], starts, 0)
                          + _block_sums(z[b] * norms[a][:, None], starts, 0)).T
        out.diag, out.cross = diag, cross
    return out


def centring_shift(a: np.ndarray) -> np.ndarray | None:
    """The column means of the working array ``a`` (in its dtype) to subtract before the products,
    or None when the raw products are accurate enough.

    With column means m, total variance V = Σ_j var_j and rank r <= min(n, width), the raw
    ``||AᵀA||²`` exceeds the centred one by at most (1 + ρ)², ρ = (|m|² / V) √r; centre when ρ > 3.
    The torch path subtracts the same means (one cheap pass on the host), so both paths multiply
    the same numbers.
    """
    n, width = a.shape
    m = _column_mean(a)
    m2 = float(m @ m)
    total = float(np.vdot(a, a)) / n - m2
    if not total > 0 or (m2 / total) * math.sqrt(min(n, width)) > _MAX_RHO:
        return m.astype(a.dtype)
    return None


def _pair_blocks(xc: np.ndarray, yc: np.ndarray, blocks: list[np.ndarray], debiased: bool) -> PairBlocks:
    sides = _SIDES
    n_b = len(blocks)
    one = n_b == 1
    counts = np.array([idx.size for idx in blocks], dtype=np.float64)
    width = {"x": xc.shape[1], "y": yc.shape[1]}
    # each block's product is one row of a (B, p*q) array: K is then one SYRK, with no copy
    grams = {k: np.empty((n_b, width[k[0]] * width[k[1]])) for k in sides}
    sums = {"x": np.empty((n_b, xc.shape[1])), "y": np.empty((n_b, yc.shape[1]))}
    norms: dict[str, list[np.ndarray]] = {"x": [], "y": []}
    moments: dict[str, list[np.ndarray]] = {"x": [], "y": []}
    for b, idx in enumerate(blocks):
        xb = xc if one else xc[idx]
        yb = yc if one else yc[idx]
        sums["x"][b] = xb.sum(axis=0, dtype=np.float64)
        sums["y"][b] = yb.sum(axis=0, dtype=np.float64)
        _product(xb, yb, grams["xy"][b])
        _product(xb, None, grams["xx"][b])
        _product(yb, None, grams["yy"][b])
        if debiased:
            nx, ny, vxb, vyb = _row_norm_moments(xb, yb)
            norms["x"].append(nx)
            norms["y"].append(ny)
            moments["x"].append(vxb)
            moments["y"].append(vyb)
    K, T = {}, {}
    for key, flat in grams.items():
        K[key] = flat @ flat.T
        sa, sb = sums[key[0]], sums[key[1]]
        # T[b, c, d] = s_a,cᵀ G_b s_b,d
        T[key] = np.stack([sa @ g.reshape(sa.shape[1], sb.shape[1]) @ sb.T for g in flat])
    P = {k: v @ v.T for k, v in sums.items()}
    out = PairBlocks(counts=counts, K=K, T=T, P=P)
    if debiased:
        diag: dict[str, np.ndarray] = {}
        cross: dict[str, np.ndarray] = {}
        # moments[side][b] rows: Σ_i |x_i|² side_i and Σ_i |y_i|² side_i over block b
        mom = {k: np.stack(v) for k, v in moments.items()}
        weight_row = {"x": 0, "y": 1}
        for key in sides:
            a_name, b_name = key[0], key[1]
            diag[a_name] = np.array([n.sum() for n in norms[a_name]])
            diag[b_name] = np.array([n.sum() for n in norms[b_name]])
            # Σ_i |a_i|² |b_i|² per block
            diag[key] = np.array([(na * nb).sum() for na, nb in zip(norms[a_name], norms[b_name], strict=True)])
            # s_A(w) · Σ_i |b_i|² a_i  and  s_B(w) · Σ_i |a_i|² b_i, as (B, B) bilinear forms
            va = mom[a_name][:, weight_row[b_name]]
            vb = mom[b_name][:, weight_row[a_name]]
            cross[key] = sums[a_name] @ va.T + sums[b_name] @ vb.T
        out.diag, out.cross = diag, cross
    return out


def _row_norm_moments(xb: np.ndarray, yb: np.ndarray) -> tuple[np.ndarray, ...]:
    """Row norms |x_i|², |y_i|² and the moments Σ_i (|x_i|², |y_i|²) ⊗ x_i and ⊗ y_i, in float64
    over chunks of rows (no float64 copy of the whole block)."""
    n = xb.shape[0]
    nx, ny = np.empty(n), np.empty(n)
    vx, vy = np.zeros((2, xb.shape[1])), np.zeros((2, yb.shape[1]))
    for s in range(0, n, _F64_ROWS):
        cx = xb[s : s + _F64_ROWS].astype(np.float64, copy=False)
        cy = yb[s : s + _F64_ROWS].astype(np.float64, copy=False)
        nx[s : s + _F64_ROWS] = np.einsum("ij,ij->i", cx, cx)
        ny[s : s + _F64_ROWS] = np.einsum("ij,ij->i", cy, cy)
        w = np.stack([nx[s : s + _F64_ROWS], ny[s : s + _F64_ROWS]])
        vx += w @ cx
        vy += w @ cy
    return nx, ny, vx, vy


def _quad(m: np.ndarray, w: np.ndarray) -> np.ndarray:
    return np.einsum("rb,bc,rc->r", w, m, w)


def _cubic(t: np.ndarray, w: np.ndarray) -> np.ndarray:
    return np.einsum("rb,rc,rd,bcd->r", w, w, w, t, optimize=True)


def centred_frobenius2(pb: PairBlocks, key: str, w: np.ndarray) -> np.ndarray:
    """``||Σ_b w_b A_bᵀB_b − s_A s_Bᵀ / N||²_F`` (the centred product) for each row of ``w``."""
    n = w @ pb.counts
    return (_quad(pb.K[key], w) - 2.0 * _cubic(pb.T[key], w) / n
            + _quad(pb.P[key[0]], w) * _quad(pb.P[key[1]], w) / n**2)


def unbiased_hsic(pb: PairBlocks, key: str, w: np.ndarray, exclude_copies: bool = False) -> np.ndarray:
    """Unbiased HSIC (Song et al. 2012) of the linear kernels of sides ``key`` for each row of ``w``.

    With K̃, L̃ the linear Gram matrices with zeroed diagonals over the (replicated) rows,
    ``HSIC = [tr(K̃L̃) + 1ᵀK̃1 · 1ᵀL̃1 / ((N−1)(N−2)) − 2/(N−2) · 1ᵀK̃L̃1] / (N(N−3))``, each term
    written through the p × q products: ``tr(K̃L̃) = ||AᵀB||² − Σ|a_i|²|b_i|²``, ``1ᵀK̃1 =
    |s_A|² − Σ|a_i|²``, ``1ᵀK̃L̃1 = s_AᵀAᵀB s_B − s_A·Σ|b_i|²a_i − s_B·Σ|a_i|²b_i + Σ|a_i|²|b_i|²``.

    ``exclude_copies=True`` (bootstrap replicates) zeroes every pair of copies of one sample, not
    only the diagonal: a sample drawn c times then removes c² pairs, so the sums over its own
    pairs are weighted by ``w²`` (and ``w³`` in ``1ᵀK̃L̃1``) instead of ``w``. Copies of a sample are
    as alike as a sample with itself, and would otherwise bring back the bias the zeroed diagonal
    removes (badly so with more units than samples).
    """
    assert pb.diag is not None and pb.cross is not None
    n = w @ pb.counts
    a, b = key[0], key[1]
    w2 = w * w if exclude_copies else w
    w3 = w2 * w if exclude_copies else w
    tr_kl = _quad(pb.K[key], w) - w2 @ pb.diag[key]
    one_k = _quad(pb.P[a], w) - w2 @ pb.diag[a]
    one_l = _quad(pb.P[b], w) - w2 @ pb.diag[b]
    one_kl = _cubic(pb.T[key], w) - np.einsum("rc,cb,rb->r", w, pb.cross[key], w2) + w3 @ pb.diag[key]
    return (tr_kl + one_k * one_l / ((n - 1) * (n - 2)) - 2.0 * one_kl / (n - 2)) / (n * (n - 3))
