"""Per-block cross-products of two populations, merged exactly for any bootstrap weighting.

The rows (samples) are split into B blocks. For each pair of sides ``AB`` in ``xy, xx, yy`` the
block products ``G_b = A_bᵀ B_b`` (p × q) are reduced to a few B × B and B × B × B arrays, so
that for any block weights ``w`` (a bootstrap replicate draws block ``b`` ``w_b`` times) the
quantities CKA needs come out of quadratic and cubic forms in ``w``, exactly and without touching
the data again:

- ``||Σ_b w_b G_b||²_F = wᵀ K w`` with ``K[b, c] = <G_b, G_c>``;
- ``s_A(w)ᵀ G(w) s_B(w) = Σ_bcd w_b w_c w_d T[b, c, d]`` with ``T[b, c, d] = s_A,cᵀ G_b s_B,d``
  (``s_A,c``: column sums of block c);
- ``|s_A(w)|² = wᵀ P_A w``.

With few samples per block (4n < B², :func:`keep_row_factors`) T is not formed: its cubic form
is evaluated from the (n, B) row factors ``a_i · s_A,c`` as ``Σ_i w_{b(i)} (Σ_c w_c a_i · s_A,c)
(Σ_d w_d b_i · s_B,d)``, 2nB multiply-adds per replicate instead of B³.

Two routes give the same arrays. With fewer samples than units (more precisely, when it costs
less, :func:`use_grams`) they come from the n × n sample Gram matrices ``AAᵀ``:
``<G_b, G_c> = Σ_{i∈b, j∈c} (a_i·a_j)(b_i·b_j)``, so a replicate is a reweighting of the rows and
columns of the full Gram matrices, with no new pass over the data. Otherwise they come from the
unit products, computed by slabs of columns for all blocks at once so that at most ``budget_bytes``
of block products are held whatever the widths (the data are read once per slab; the
multiply-adds are those of the three products), and only K needs them: T comes from the n × B
products of the rows with the block sums.

Each side is centred on its full-sample column means first (one copy). The estimate would be
shift invariant without it (its formulas subtract each replicate's own means), but a bootstrap
replicate weights pairs of samples unequally (a block drawn twice, with the pairs of copies of one
sample left out), and a kernel with a large mean then biases the replicates' unbiased HSIC: on
sparse spike counts (Poisson 0.5, 300 samples) the interval of the debiased CKA of unrelated
populations contained 0 in 17% of data sets, and adding 0.5 to Gaussian data moved it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from neurocomplex._threads import blas_on_one_thread, map_in_threads, max_threads
from neurocomplex.stats.covariance import _column_sums, float32_in_range
from neurocomplex.stats.shared_parts import shared_part

__all__ = ["PairBlocks", "pair_blocks", "block_assignment", "replicate_weights", "use_grams", "centring_shift",
           "ShapeBlocks", "shape_blocks", "shape_cosines", "aligned_trace", "aligned_trace_gram", "nuclear_norm",
           "centred_frobenius2", "unbiased_hsic", "centred_trace", "keep_row_factors", "BLOCK_BUDGET",
           "gram_route_fails"]

# Rows per product: float32 data are multiplied in float32 and accumulated in float64 per chunk.
_CHUNK_ROWS = 16384
_F64_ROWS = 2048
_SIDES = ("xy", "xx", "yy")
# Cells of float32 data centred at a time to find the residual of the rounded mean (4 MB).
_SHIFT_CELLS = 1 << 20
# Data of at most this many bytes (both sides, as float64) are centred into block order before the
# per-block statistics (each block then a slice: no gather per block and product).
_GATHER_BYTES = 64 * 1024**2
# Bytes of block products (or Gram rows) held at a time.
BLOCK_BUDGET = 512 * 1024**2
# Singular values of a half's cross-product below this share of √(t_x t_y) are rounding.
_ALIGN_RTOL = 1e-10
# Eigenvalues of a Gram matrix at least this share of the largest give accurate singular values
# (√λ to about 1e-12) and eigenvectors; below it the replicates' Gram route falls back to the SVD.
_EIG_RTOL = 1e-8
# Bytes of replicate cross-products merged at a time (one GEMM over the blocks per group).
_SHAPE_MERGE_BYTES = 256 * 1024**2


@dataclass
class PairBlocks:
    """Reduced per-block statistics (see the module docstring); ``debiased`` adds the diagonals."""

    counts: np.ndarray               # (B,) rows per block
    K: dict[str, np.ndarray]         # (B, B) Frobenius inner products of block products
    T: dict[str, np.ndarray]         # (B, B, B) s_cᵀ G_b s_d; empty when ``Z`` stands for it
    P: dict[str, np.ndarray]         # "x", "y": (B, B) inner products of block column sums
    diag: dict[str, np.ndarray] | None = None  # per-block sums of row norms (debiased HSIC)
    cross: dict[str, np.ndarray] | None = None  # (B, B) s_A,c · Σ_b |b_i|² a_i terms
    Z: dict[str, np.ndarray] | None = None  # "x", "y": (n, B) a_i · s_A,c, kept instead of T (few rows)
    labels: np.ndarray | None = None  # (n,) block of each row of Z

    @property
    def n_blocks(self) -> int:
        return int(self.counts.size)

    def cubic(self, key: str, w: np.ndarray) -> np.ndarray:
        """``Σ_bcd w_b w_c w_d T[key][b, c, d]`` for each row of ``w``: from T, or from the rows'
        factors ``Σ_i w_{b(i)} (Z_A[i] · w)(Z_B[i] · w)`` when Z is kept (n·B instead of B³ per
        replicate)."""
        if self.Z is None:
            return _cubic(self.T[key], w)
        u = self.Z[key[0]] @ w.T  # (n, R)
        v = u if key[0] == key[1] else self.Z[key[1]] @ w.T
        u = u * v
        u *= w[:, self.labels].T
        return u.sum(axis=0)


def keep_row_factors(n: int, n_blocks: int) -> bool:
    """Whether the cubic forms are cheaper from the (n, B) row factors than from the B × B × B
    arrays: 2nB multiply-adds per replicate against B³, but the row factors' products are skinny
    (inner dimension B) and their (n, replicates) temporaries leave the cache, so they win only
    below 4n < B² (measured with 200 replicates of 50 blocks: 0.63 against 1.23 ms a form at
    n = 500, 4.7 against 1.3 ms at n = 1,000)."""
    return n_blocks > 1 and 4 * n < n_blocks * n_blocks


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
    return float32_in_range(a) if a.dtype in (np.float32, np.float64) else a.astype(np.float64)


def _column_mean(a: np.ndarray) -> np.ndarray:
    return (_column_sums(a) if a.dtype == np.float32 else a.sum(axis=0)) / a.shape[0]


def _product(a: np.ndarray, b: np.ndarray | None, out: np.ndarray | None = None) -> np.ndarray:
    """``aᵀ b`` (``aᵀ a`` when b is None: SYRK) in the data's precision, accumulated in float64."""
    shape = (a.shape[1], a.shape[1] if b is None else b.shape[1])
    out = np.empty(shape) if out is None else out.reshape(shape)
    if a.shape[0] == 0:
        out[...] = 0.0
    for s in range(0, a.shape[0], _CHUNK_ROWS):
        ca = a[s : s + _CHUNK_ROWS]
        cb = ca if b is None else b[s : s + _CHUNK_ROWS]
        if s == 0 and ca.dtype == cb.dtype == np.float64:
            np.matmul(ca.T, cb, out=out)  # straight into the output: no temporary
        elif s == 0:
            out[...] = ca.T @ cb
        else:
            out += ca.T @ cb
    return out


def _sum_products(a: np.ndarray, s: np.ndarray) -> np.ndarray:
    """``a @ sᵀ`` in float64 over chunks of rows (``a``: n × width in its dtype, ``s``: B × width)."""
    out = np.empty((a.shape[0], s.shape[0]))
    for r in range(0, a.shape[0], _F64_ROWS):
        out[r : r + _F64_ROWS] = a[r : r + _F64_ROWS].astype(np.float64, copy=False) @ s.T
    return out


def pair_blocks(x: np.ndarray, y: np.ndarray, blocks: list[np.ndarray], debiased: bool,
                budget_bytes: float | None = None, anchors: tuple[object, object] | None = None) -> PairBlocks:
    """Per-block statistics of ``x`` (n × p) and ``y`` (n × q) for the given row blocks.

    From the n × n sample Gram matrices when :func:`use_grams` says they cost less (fewer samples
    than units, or many blocks for few samples), else from the unit products by slabs of at most
    ``budget_bytes`` (default :data:`BLOCK_BUDGET`, 512 MiB; see the module docstring); both give
    the same statistics. ``anchors``: the objects ``x`` and ``y`` are computed from (a Recording's
    data), under which each side's Gram matrix is kept within
    :func:`~neurocomplex.stats.shared_parts.shared_parts` for its other pairs.
    """
    budget_bytes = BLOCK_BUDGET if budget_bytes is None else budget_bytes
    if use_grams(x.shape[0], x.shape[1], y.shape[1], len(blocks)):  # shifts each side only if not kept
        return _pair_blocks_from_grams(x, y, blocks, debiased, budget_bytes, anchors)
    return _pair_blocks(x, y, blocks, debiased, budget_bytes)


def _shifted(a: np.ndarray, order: np.ndarray | None = None) -> np.ndarray:
    """The working array of ``a`` less its column means (:func:`centring_shift`), its rows taken in
    ``order`` when given (one copy either way)."""
    a = _work(a)
    centre, residual = centring_shift(a)
    if order is None:
        rows = np.subtract(a, centre, dtype=a.dtype)
    else:
        rows = a[order]
        rows -= centre
    if residual is not None:
        rows -= residual
    return rows


def use_grams(n: int, p: int, q: int, n_blocks: int = 1) -> bool:
    """Whether the n × n sample Gram matrices cost fewer multiply-adds than the unit products.

    Gram route: two SYRKs, n²(p + q)/2. Unit route: XᵀY, XᵀX and YᵀY, n(pq + p²/2 + q²/2) =
    n(p + q)²/2, plus, with B > 1 blocks, the B × B inner products of the block products, about
    B²(p + q)²/2. So the Gram route is taken when n < p + q (one block) or n² < (n + B²)(p + q).
    """
    extra = n_blocks * n_blocks if n_blocks > 1 else 0
    return n * n < (n + extra) * (p + q)


def _block_sums(a: np.ndarray, starts: np.ndarray, axis: int) -> np.ndarray:
    return np.add.reduceat(a, starts, axis=axis)


@dataclass
class _GramSide:
    """One population's part of the Gram route (rows in block order): H = AAᵀ, the rows' block
    sums z, the row norms and <G_b, G_c> of its own block products."""

    h: np.ndarray      # (n, n)
    z: np.ndarray      # (n, B): a_i · s_A,c
    norms: np.ndarray  # (n,): |a_i|²
    k_self: np.ndarray  # (B, B)

    @property
    def nbytes(self) -> int:
        return self.h.nbytes + self.z.nbytes + self.norms.nbytes + self.k_self.nbytes


def _gram_side(a: np.ndarray, order: np.ndarray, starts: np.ndarray) -> _GramSide:
    v = np.asarray(_shifted(a, order), dtype=np.float64)
    h = v @ v.T
    return _GramSide(h=h, z=_block_sums(h, starts, 1), norms=np.diagonal(h).copy(),
                     k_self=_block_sums(_block_sums(h * h, starts, 1), starts, 0))


def _pair_blocks_from_grams(xc: np.ndarray, yc: np.ndarray, blocks: list[np.ndarray], debiased: bool,
                            budget_bytes: float | None = None, anchors: tuple[object, object] | None = None
                            ) -> PairBlocks:
    """The statistics of :func:`_pair_blocks` from H_x = XXᵀ and H_y = YYᵀ (rows in block order):
    ``<G_b, G_c> = Σ_{i∈b, j∈c} H_a[i, j] H_b[i, j]``, ``s_A,c · a_i = Σ_{j∈c} H_a[i, j]``.

    When the Gram matrices fit in ``budget_bytes`` each side's part is formed whole (one SYRK) and,
    given the objects ``anchors`` the sides were read from, kept within
    :func:`~neurocomplex.stats.shared_parts.shared_parts` for the side's other pairs; otherwise
    they are formed by bands of rows, each reduced over blocks of columns before the next. Each
    side is centred first (:func:`centring_shift`; inside the kept part: a side found in the
    store is not read again).
    """
    budget_bytes = BLOCK_BUDGET if budget_bytes is None else budget_bytes
    order = np.concatenate(blocks)
    n, n_b = order.size, len(blocks)
    counts = np.array([idx.size for idx in blocks], dtype=np.float64)
    starts = np.r_[0, np.cumsum(counts[:-1])].astype(np.int64)
    labels = np.repeat(np.arange(n_b), counts.astype(np.int64))
    band = max(1, int(budget_bytes // (8 * 3 * n)))
    if band >= n:
        key = ("gram side", order.tobytes(), starts.tobytes())
        side = {name: (_gram_side(a, order, starts) if anchors is None else
                       shared_part(anchor, key, lambda a=a: _gram_side(a, order, starts), lambda part: part.nbytes))
                for name, a, anchor in zip("xy", (xc, yc), anchors or (None, None), strict=True)}
        z = {k: v.z for k, v in side.items()}
        norms = {k: v.norms for k, v in side.items()}
        K = {"xx": side["x"].k_self, "yy": side["y"].k_self,
             "xy": _block_sums(_block_sums(side["x"].h * side["y"].h, starts, 1), starts, 0)}
    else:
        a64 = {name: np.asarray(_shifted(a, order), dtype=np.float64) for name, a in (("x", xc), ("y", yc))}
        z = {k: np.empty((n, n_b)) for k in a64}  # a_i · s_A,c
        norms = {k: np.empty(n) for k in a64}     # |a_i|²
        K = {key: np.zeros((n_b, n_b)) for key in _SIDES}
        for s in range(0, n, band):
            e = min(n, s + band)
            h = {k: v[s:e] @ v.T for k, v in a64.items()}
            for k, v in h.items():
                z[k][s:e] = _block_sums(v, starts, 1)
                norms[k][s:e] = v[np.arange(e - s), np.arange(s, e)]
            for key in _SIDES:
                np.add.at(K[key], labels[s:e], _block_sums(h[key[0]] * h[key[1]], starts, 1))
    P = {k: _block_sums(v, starts, 0) for k, v in z.items()}  # (B, B): s_A,b · s_A,c
    ends = np.r_[starts[1:], n]
    if keep_row_factors(n, n_b):
        out = PairBlocks(counts=counts, K=K, T={}, P=P, Z=z, labels=labels)
    else:  # T[b, c, d] = Σ_{i∈b} (a_i · s_A,c)(b_i · s_B,d)
        T = {key: np.stack([z[key[0]][s:e].T @ z[key[1]][s:e] for s, e in zip(starts, ends, strict=True)])
             for key in _SIDES}
        out = PairBlocks(counts=counts, K=K, T=T, P=P)
    if debiased:
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


def centring_shift(a: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """``(centre, residual)`` in the dtype of the working array ``a``: subtracting ``centre`` and
    then ``residual`` (if not None) centres ``a`` on its column means (the module docstring says
    why). The torch path subtracts the same two (computed here, on the host), so both paths
    multiply the same numbers.

    ``centre`` is the column mean rounded to ``a``'s dtype. For float32 data far from 0 that
    rounding (up to half a unit of the mean's magnitude: 1 at a mean of 3·10^7), and the float32
    partial sums of the mean itself, can be as large as the spread; ``residual`` is then the mean
    of ``a − centre``, taken from those small values and so accurate to the spread.

    Examples
    --------
    >>> a = (np.array([[0.25], [0.75], [1.5]]) + 3e7).astype(np.float32)  # a mean of 3e7 + 2/3
    >>> centre, residual = centring_shift(a)
    >>> float(centre[0]) - 3e7, float(residual[0])  # 3e7 + 2/3 rounds to 3e7; the data: 3e7, 3e7, 3e7 + 2
    (0.0, 0.6666666865348816)
    """
    centre = _column_mean(a).astype(a.dtype)
    if a.dtype != np.float32:
        return centre, None
    sums = np.zeros(a.shape[1])
    step = max(1, _SHIFT_CELLS // max(1, a.shape[1]))
    for s in range(0, a.shape[0], step):  # a bounded temporary
        sums += _column_sums(np.subtract(a[s : s + step], centre, dtype=a.dtype))
    residual = (sums / a.shape[0]).astype(a.dtype)
    return centre, (residual if np.any(residual) else None)


def slab_width(n_blocks: int, rows: int, cols: int, budget_bytes: float) -> int:
    """Columns per slab so that ``n_blocks`` float64 blocks of ``rows`` × slab fit in the budget."""
    return int(min(cols, max(1, budget_bytes // (8.0 * n_blocks * max(rows, 1)))))


def _pair_blocks(xc: np.ndarray, yc: np.ndarray, blocks: list[np.ndarray], debiased: bool,
                 budget_bytes: float | None = None) -> PairBlocks:
    """The statistics from the unit products. K by slabs of columns: for a slab ``[s, e)`` of side B
    every block's ``A_bᵀ B_b[:, s:e]`` is formed (for ``AᵀA`` only the rows ``< e``: the rows ``< s``
    stand for their mirror images too), its inner products added to K, and dropped. T and P need
    no block product: ``T[b, c, d] = Σ_{i∈b} (a_i · s_A,c)(b_i · s_B,d)`` from the n × B array of
    the rows' products with the block sums.

    Data of at most ``_GATHER_BYTES`` are centred into block order (the one copy centring makes
    anyway), so that every block is a slice (its sums, moments and products need no gather); larger
    data are read block by block (each block gathered in turn: no second copy of the whole)."""
    budget_bytes = BLOCK_BUDGET if budget_bytes is None else budget_bytes
    n_b = len(blocks)
    counts = np.array([idx.size for idx in blocks], dtype=np.float64)
    if n_b > 1 and 8 * (xc.size + yc.size) <= _GATHER_BYTES:  # rows in block order: slices
        order = np.concatenate(blocks)
        xc, yc = _shifted(xc, order), _shifted(yc, order)
        ends = np.cumsum(counts).astype(np.int64)
        parts: list[Any] = [slice(int(e - c), int(e)) for e, c in zip(ends, counts.astype(np.int64), strict=True)]
    else:
        xc, yc = _shifted(xc), _shifted(yc)
        parts = [slice(None)] if n_b == 1 else list(blocks)
    data = {"x": xc, "y": yc}
    sums, norms_all, moments = _moments_by_block(data, parts, debiased)
    K = {key: np.zeros((n_b, n_b)) for key in _SIDES}
    for key in _SIDES:
        a_name, b_name = key[0], key[1]
        sym = a_name == b_name
        a, b = data[a_name], data[b_name]
        width = b.shape[1]
        slab = slab_width(n_b, a.shape[1], width, budget_bytes)
        for s in range(0, width, slab):
            e = min(width, s + slab)
            rows = e if sym else a.shape[1]
            g = np.empty((n_b, rows, e - s))
            for i, part in enumerate(parts):
                ab = a[part]
                bb = ab if sym else b[part]
                if sym and s == 0 and e == width:
                    _product(ab, None, g[i])
                else:
                    _product(ab[:, :rows], bb[:, s:e], g[i])
            _add_slab(K[key], g, s, sym)
    z = {k: _sum_products(v, sums[k]) for k, v in data.items()}  # (n, B): a_i · s_A,c
    P = {k: v @ v.T for k, v in sums.items()}
    if keep_row_factors(xc.shape[0], n_b):
        labels = np.empty(xc.shape[0], dtype=np.int64)
        for b, part in enumerate(parts):
            labels[part] = b
        out = PairBlocks(counts=counts, K=K, T={}, P=P, Z=z, labels=labels)
    else:
        T = {key: np.stack([z[key[0]][part].T @ z[key[1]][part] for part in parts]) for key in _SIDES}
        out = PairBlocks(counts=counts, K=K, T=T, P=P)
    if debiased:
        diag: dict[str, np.ndarray] = {}
        cross: dict[str, np.ndarray] = {}
        weight_row = {"x": 0, "y": 1}
        for key in _SIDES:
            a_name, b_name = key[0], key[1]
            diag[a_name] = norms_all[a_name]
            diag[b_name] = norms_all[b_name]
            diag[key] = norms_all[key]  # Σ_i |a_i|² |b_i|² per block
            # s_A(w) · Σ_i |b_i|² a_i  and  s_B(w) · Σ_i |a_i|² b_i, as (B, B) bilinear forms
            va = moments[a_name][:, weight_row[b_name]]
            vb = moments[b_name][:, weight_row[a_name]]
            cross[key] = sums[a_name] @ va.T + sums[b_name] @ vb.T
        out.diag, out.cross = diag, cross
    return out


def _moments_by_block(data: dict[str, np.ndarray], parts: list[Any], debiased: bool
                      ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Per block (``parts``: slices or row indices): column sums; with ``debiased`` the sums of
    |x_i|², |y_i|², of the products for ``"xx"``, ``"yy"``, ``"xy"``, and the moments
    Σ_i (|x_i|², |y_i|²) ⊗ side_i (``(B, 2, width)``)."""
    xc, yc = data["x"], data["y"]
    n_b = len(parts)
    sums = {k: np.empty((n_b, v.shape[1])) for k, v in data.items()}
    norms: dict[str, np.ndarray] = {k: np.empty(n_b) for k in ("x", "y", "xx", "yy", "xy")}
    moments = {k: np.empty((n_b, 2, v.shape[1])) for k, v in data.items()}
    for b, part in enumerate(parts):
        xb, yb = xc[part], yc[part]
        sums["x"][b] = xb.sum(axis=0, dtype=np.float64)
        sums["y"][b] = yb.sum(axis=0, dtype=np.float64)
        if debiased:
            nx, ny, moments["x"][b], moments["y"][b] = _row_norm_moments(xb, yb)
            norms["x"][b], norms["y"][b] = nx.sum(), ny.sum()
            norms["xx"][b], norms["yy"][b], norms["xy"][b] = (nx * nx).sum(), (ny * ny).sum(), (nx * ny).sum()
    return sums, norms, moments


def _add_slab(k: np.ndarray, g: np.ndarray, s: int, sym: bool) -> None:
    """Add the inner products of a slab ``g[b] = G_b[:rows, s:e]`` of every block product to K (in
    place). Symmetric products (``rows = e``): the rows ``< s`` also stand for their mirror
    entries, so they count twice; the diagonal square ``[s, e)`` counts once."""
    n_b = g.shape[0]
    if not sym:
        flat = g.reshape(n_b, -1)
        k += flat @ flat.T
        return
    square = g[:, s:].reshape(n_b, -1)
    k += square @ square.T
    if s:
        low = g[:, :s].reshape(n_b, -1)
        k += 2.0 * (low @ low.T)


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
    """``w_r m w_rᵀ`` for each row (one GEMM)."""
    return np.einsum("rb,rb->r", w @ m, w)


def _cubic(t: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``Σ_bcd w_b w_c w_d t[b, c, d]`` for each row of ``w``: one GEMM over the first index, then
    batched matrix-vector products (BLAS throughout; einsum's loops were 100 times slower)."""
    n_b = t.shape[0]
    first = (w @ t.reshape(n_b, n_b * n_b)).reshape(-1, n_b, n_b)
    return np.einsum("rc,rc->r", np.matmul(first, w[:, :, None])[:, :, 0], w)


def centred_trace(pb: PairBlocks, side: str, w: np.ndarray) -> np.ndarray:
    """``Σ_i |a_i − ā|²`` (the trace of the centred ``AᵀA``) of side ``"x"`` or ``"y"`` for each row
    of ``w``; needs the row norms (``debiased=True``)."""
    assert pb.diag is not None
    return w @ pb.diag[side] - _quad(pb.P[side], w) / (w @ pb.counts)


def centred_frobenius2(pb: PairBlocks, key: str, w: np.ndarray) -> np.ndarray:
    """``||Σ_b w_b A_bᵀB_b − s_A s_Bᵀ / N||²_F`` (the centred product) for each row of ``w``."""
    n = w @ pb.counts
    return (_quad(pb.K[key], w) - 2.0 * pb.cubic(key, w) / n
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
    one_kl = pb.cubic(key, w) - np.einsum("rb,rb->r", w @ pb.cross[key], w2) + w3 @ pb.diag[key]
    return (tr_kl + one_k * one_l / ((n - 1) * (n - 2)) - 2.0 * one_kl / (n - 2)) / (n * (n - 3))


# --------------------------------------------------------------------------- Procrustes shape cosines
@dataclass
class ShapeBlocks:
    """Per-block statistics of two centred populations for the Procrustes cosines.

    ``halves[h]`` holds, for half h of the blocks, every block's product and column sums projected
    onto the span of that half's samples (``E_xᵀ G_b E_y``, ``s_x,b E_x``, ``s_y,b E_y``, with E an
    orthonormal basis of the half's rows of x, of y; the identity on a side with no more units
    than the half has samples): the half's cross-product lives in those spans, so its singular
    pairs, and the other half's cross-product seen through them, come from matrices of at most
    the half's size.
    """

    grams: np.ndarray   # (B, p, q) block products X_bᵀ Y_b
    sx: np.ndarray      # (B, p) block column sums of x
    sy: np.ndarray      # (B, q)
    tx: np.ndarray      # (B,) block sums of squares of x
    ty: np.ndarray      # (B,)
    counts: np.ndarray  # (B,) rows per block
    halves: tuple[tuple[np.ndarray, np.ndarray, np.ndarray], ...] = ()


def half_basis(a: np.ndarray) -> np.ndarray | None:
    """Orthonormal basis (width × n_h) of the span of the rows ``a`` (n_h × width) of one half, or
    None (the identity) when the half has at least as many rows as ``a`` has columns."""
    if a.shape[0] >= a.shape[1]:
        return None
    return np.linalg.qr(np.asarray(a, dtype=np.float64).T, mode="reduced")[0]


def shape_blocks(xc: np.ndarray, yc: np.ndarray, blocks: list[np.ndarray], half: np.ndarray) -> ShapeBlocks:
    """The block products, column sums and sums of squares of ``xc`` and ``yc`` (float64), and their
    projections on the spans of each half (``half``: booleans over the blocks, True for the first)."""
    grams = np.empty((len(blocks), xc.shape[1], yc.shape[1]))
    for b, i in enumerate(blocks):
        _product(xc[i], yc[i], out=grams[b])
    out = ShapeBlocks(
        grams=grams,
        sx=np.stack([xc[i].sum(axis=0, dtype=np.float64) for i in blocks]),
        sy=np.stack([yc[i].sum(axis=0, dtype=np.float64) for i in blocks]),
        tx=np.array([np.einsum("ij,ij->", xc[i], xc[i], dtype=np.float64) for i in blocks]),
        ty=np.array([np.einsum("ij,ij->", yc[i], yc[i], dtype=np.float64) for i in blocks]),
        counts=np.array([i.size for i in blocks], dtype=np.float64))
    halves = []
    for mask in (half, ~half):
        rows = np.concatenate([blocks[b] for b in np.flatnonzero(mask)] or [np.empty(0, dtype=np.int64)])
        ex, ey = half_basis(xc[rows]), half_basis(yc[rows])
        if ex is None and ey is None:
            halves.append((out.grams, out.sx, out.sy))
            continue
        # the data projected once (n × n_h), then every block's product in the spans: B·n_b·p'·q'
        # multiply-adds instead of B·p·q·q' for projecting the block products themselves
        xe = xc if ex is None else np.asarray(xc, dtype=np.float64) @ ex
        ye = yc if ey is None else np.asarray(yc, dtype=np.float64) @ ey
        g = np.empty((len(blocks), xe.shape[1], ye.shape[1]))
        for b, i in enumerate(blocks):
            _product(xe[i], ye[i], out=g[b])
        halves.append((g,
                       out.sx if ex is None else np.stack([xe[i].sum(axis=0) for i in blocks]),
                       out.sy if ey is None else np.stack([ye[i].sum(axis=0) for i in blocks])))
    out.halves = tuple(halves)
    return out


def _top_eigen(c: np.ndarray, k: int, vectors: bool) -> tuple[np.ndarray, np.ndarray | None, bool]:
    """The ``k`` largest eigenvalues (descending) of the smaller Gram matrix of ``c`` (``c cᵀ`` when
    it has no more rows than columns, else ``cᵀ c``), their eigenvectors if asked, and whether the
    singular values √λ they give are accurate: every one of the k at least ``_EIG_RTOL`` of the
    largest (the eigenvalues' rounding is about d·eps·λ_max, so √λ is then good to about 1e-12)."""
    g = c @ c.T if c.shape[0] <= c.shape[1] else c.T @ c
    if vectors:
        lam, vec = np.linalg.eigh(g)
        lam, vec = lam[::-1][:k], vec[:, ::-1][:, :k]
    else:
        lam, vec = np.linalg.eigvalsh(g)[::-1][:k], None
    return lam, vec, bool(lam.size and lam[0] > 0 and lam[-1] >= _EIG_RTOL * lam[0])


def gram_route_fails(s: np.ndarray, rank: int) -> bool:
    """Whether a cross-product with singular values ``s`` (descending) would send the Gram route of
    :func:`nuclear_norm` and :func:`aligned_trace_gram` to the SVD, with a margin of 100 in λ: a
    bootstrap replicate of it is then decomposed by the SVD directly (its Gram route's
    eigendecomposition would be thrown away)."""
    k = min(rank, s.size)
    return bool(k > 0 and s[0] > 0 and s[k - 1] ** 2 < 100.0 * _EIG_RTOL * s[0] ** 2)


def nuclear_norm(c: np.ndarray, rank: int, svd: bool = False) -> float:
    """Sum of the singular values of ``c``, whose rank is at most ``rank``: the square roots of the
    top eigenvalues of its smaller Gram matrix (a SYRK and a symmetric eigensolver, 3–4 times
    faster than the SVD of a rectangular matrix), or the SVD where a singular value within the rank
    is too small for its square root to be accurate (or with ``svd``)."""
    return _nuclear_norm(c, rank, svd)[0]


def _nuclear_norm(c: np.ndarray, rank: int, svd: bool) -> tuple[float, bool]:
    """:func:`nuclear_norm` and whether it took the SVD."""
    k = min(rank, *c.shape)
    if k <= 0:
        return 0.0, svd
    if not svd:
        lam, _, accurate = _top_eigen(c, k, vectors=False)
        if accurate:
            return float(np.sqrt(lam).sum()), False
    return float(np.linalg.svd(c, compute_uv=False).sum()), True


def aligned_trace_gram(c_fit: np.ndarray, c_eval: np.ndarray, rank: int, floor: float, svd: bool = False) -> float:
    """:func:`aligned_trace` from the eigenpairs of the smaller Gram matrix of ``c_fit``: with
    ``c_fit c_fitᵀ = U Λ Uᵀ``, ``v_i = c_fitᵀ u_i / σ_i`` and ``u_iᵀ c_eval v_i = (c_evalᵀ u_i)·(c_fitᵀ
    u_i) / σ_i`` (symmetrically from ``c_fitᵀ c_fit``). Falls back to the SVD where any singular
    value within the rank is below ``√_EIG_RTOL`` of the largest (its eigenvector, and which side of
    the floor it lies on, are then not accurate); with ``svd``, the SVD directly."""
    return _aligned_trace_gram(c_fit, c_eval, rank, floor, svd)[0]


def _aligned_trace_gram(c_fit: np.ndarray, c_eval: np.ndarray, rank: int, floor: float, svd: bool
                        ) -> tuple[float, bool]:
    """:func:`aligned_trace_gram` and whether it took the SVD."""
    k = min(rank, *c_fit.shape)
    if k <= 0:
        return 0.0, svd
    if not svd:
        lam, vec, accurate = _top_eigen(c_fit, k, vectors=True)
        svd = not accurate  # some singular value within the rank is too small to place against the floor
    if svd:
        return aligned_trace(c_fit, c_eval, rank, floor), True
    sigma = np.sqrt(lam)
    keep = int(np.count_nonzero(sigma > floor))
    if keep == 0:
        return 0.0, False
    assert vec is not None
    vec = vec[:, :keep]
    if c_fit.shape[0] <= c_fit.shape[1]:
        a, b = c_fit.T @ vec, c_eval.T @ vec
    else:
        a, b = c_fit @ vec, c_eval @ vec
    return float(np.einsum("ij,ij->j", a, b) @ (1.0 / sigma[:keep])), False


def aligned_trace(c_fit: np.ndarray, c_eval: np.ndarray, rank: int, floor: float) -> float:
    """``tr(Qᵀ c_eval)`` with Q = Σ_i u_i v_iᵀ over the top singular pairs of ``c_fit`` (at most
    ``rank``, and only singular values above ``floor``): the alignment learnt on one half of the
    samples, evaluated on the other. Directions below the floor (1e-10 of the scale of the data)
    are rounding, whose singular vectors are arbitrary."""
    return _aligned_trace_svd(c_fit, c_eval, rank, floor)[0]


def _aligned_trace_svd(c_fit: np.ndarray, c_eval: np.ndarray, rank: int, floor: float) -> tuple[float, np.ndarray]:
    """:func:`aligned_trace` and the singular values of ``c_fit``."""
    u, s, vt = np.linalg.svd(c_fit, full_matrices=False)
    keep = int(np.count_nonzero(s[: max(rank, 0)] > floor))
    return float(np.einsum("ij,ij->", u[:, :keep], c_eval @ vt[:keep].T)), s


def _merged(g: np.ndarray, sx: np.ndarray, sy: np.ndarray, w: np.ndarray, n: np.ndarray) -> np.ndarray:
    """``Σ_b w_b g_b − u vᵀ / n`` for each row of ``w`` (one GEMM over the blocks; no centring term
    where n = 0), as an ``(R, d1, d2)`` array."""
    n_b, d1, d2 = g.shape
    c = (w @ g.reshape(n_b, d1 * d2)).reshape(-1, d1, d2)
    share = np.divide(1.0, n, out=np.zeros_like(n), where=n > 0)
    u, v = (w @ sx) * share[:, None], w @ sy
    for r in range(c.shape[0]):  # one d1 × d2 temporary at a time (in cache), not two of (R, d1, d2)
        c[r] -= np.multiply.outer(u[r], v[r])
    return c


def shape_cosines(sb: ShapeBlocks, weights: np.ndarray, half: np.ndarray, exact_rows: int = 0
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Plug-in and cross-fitted Procrustes cosines for each row of block weights ``weights``.

    With C_h(w) = Σ_{b∈h} w_b G_b − u_h v_hᵀ / N_h the centred cross-product of half h of the
    blocks (``half``: True for the first), C(w) that of all of them and t_x(w), t_y(w) the centred
    sums of squares, the plug-in cosine is ||C||_* / √(t_x t_y), and the cross-fitted cosine is
    ½ [tr(Q_1ᵀ C_2) / (N_2 − 1) + tr(Q_2ᵀ C_1) / (N_1 − 1)] (N − 1) / √(t_x t_y), Q_h the partial
    isometry of C_h (:func:`aligned_trace`: rank at most the distinct samples of the half less
    one, singular values above 1e-10 √(t_x t_y)), computed in the half's spans
    (:class:`ShapeBlocks`). NaN where a side has no variance or a half has fewer than 2 samples.

    The first ``exact_rows`` rows (the estimate) are decomposed by SVD; the others (replicates) by
    the eigenpairs of the smaller Gram matrices (:func:`nuclear_norm`, :func:`aligned_trace_gram`),
    which agree with the SVD to about 1e-12 and fall back to it where they would not. Where the
    matrix's size, not the distinct samples, bounds the replicates' rank, a cross-product whose
    exact row has singular values that would make that route fall back
    (:func:`gram_route_fails`), or whose first replicate (decomposed before the others) fell back,
    is decomposed by the SVD directly in the other replicates. The replicates' decompositions run
    one per thread (:func:`~neurocomplex._threads.max_threads`) with BLAS on one thread; the
    values do not depend on the number of threads.
    """
    cos = np.full(weights.shape[0], math.nan)
    xfit = np.full(weights.shape[0], math.nan)
    p, q = sb.grams.shape[1:]
    masks = (half, ~half)
    group = max(1, int(_SHAPE_MERGE_BYTES // (8 * 3 * p * q)))
    routes = (False, False, False)  # the SVD directly for the replicates' (whole, first half, second half)
    # A row's spectrum foretells the others' only where their rank bound is the matrix's size, not
    # their distinct samples (a replicate holds about 63 % of them): where the samples bound it,
    # every replicate's smallest singular values differ, and the Gram route is tried on each.
    rows_of = (float(sb.counts.sum()), float(sb.counts[half].sum()), float(sb.counts[~half].sum()))
    sizes = ((p, q), sb.halves[0][0].shape[1:], sb.halves[1][0].shape[1:])
    foretold = tuple(min(size) < 0.5 * m for size, m in zip(sizes, rows_of, strict=True))
    for start in range(0, weights.shape[0], group):
        w = weights[start : start + group]
        wh = [np.where(m, w, 0.0) for m in masks]
        nh = [v @ sb.counts for v in wh]
        n = nh[0] + nh[1]
        u, v = w @ sb.sx, w @ sb.sy
        norm = (w @ sb.tx - np.einsum("ij,ij->i", u, u) / n) * (w @ sb.ty - np.einsum("ij,ij->i", v, v) / n)
        full = _merged(sb.grams, sb.sx, sb.sy, w, n)
        own = [_merged(*sb.halves[h], wh[h], nh[h]) for h in (0, 1)]  # C_h in its own spans
        other = [_merged(*sb.halves[h], wh[1 - h], nh[1 - h]) for h in (0, 1)]  # the other half's C there
        rows = [(start + i < exact_rows, w[i], (nh[0][i], nh[1][i]), n[i], norm[i], full[i], (own[0][i], own[1][i]),
                 (other[0][i], other[1][i])) for i in range(w.shape[0])]
        # one replicate's decompositions per thread, BLAS on one thread (whatever the threads, the
        # same single-threaded LAPACK: the values do not depend on their number); first, in turn,
        # the exact rows and one replicate, whose spectra and fallbacks say where the other
        # replicates' Gram route would fall back to the SVD (it then takes the SVD directly)
        with blas_on_one_thread():
            found = []
            while len(found) < len(rows) and start + len(found) <= exact_rows:  # row exact_rows: the first replicate
                *values, routes = _row_cosines(sb, masks, rows[len(found)], routes)
                found.append(values)
            routes = (routes[0] and foretold[0], routes[1] and foretold[1], routes[2] and foretold[2])
            found += map_in_threads(partial(_row_replicate, sb, masks, routes), rows[len(found):], max_threads())
        cos[start : start + w.shape[0]], xfit[start : start + w.shape[0]] = np.array(found).T
    return cos, xfit


def _row_replicate(sb: ShapeBlocks, masks: tuple[np.ndarray, np.ndarray], routes: tuple[bool, bool, bool], row: tuple
                   ) -> tuple[float, float]:
    return _row_cosines(sb, masks, row, routes)[:2]


def _row_cosines(sb: ShapeBlocks, masks: tuple[np.ndarray, np.ndarray], row: tuple, routes: tuple[bool, bool, bool]
                 ) -> tuple[float, float, tuple[bool, bool, bool]]:
    """The plug-in and cross-fitted cosines of one row of :func:`shape_cosines` (NaN where
    undefined) and which of its three cross-products (whole, first half, second half) took the SVD
    or, for an exact row (by SVD), would make a replicate's Gram route fall back to it
    (:func:`gram_route_fails`). A True in ``routes`` takes the SVD directly."""
    exact, w, nh, n, norm, full, own, other = row
    if not norm > 0:
        return math.nan, math.nan, routes
    p, q = full.shape
    root = math.sqrt(norm)
    rank = int(min(p, q, float(sb.counts[w > 0].sum()) - 1))
    found = list(routes)
    if exact:
        s = np.linalg.svd(full, compute_uv=False)
        cos = s.sum() / root
        found[0] = gram_route_fails(s, rank)
    else:
        nuclear, found[0] = _nuclear_norm(full, rank, routes[0])
        cos = nuclear / root
    if min(nh) < 2:
        return cos, math.nan, (found[0], found[1], found[2])
    traces = []
    for h in (0, 1):
        k = int(min(p, q, float(sb.counts[masks[h] & (w > 0)].sum()) - 1))
        floor = _ALIGN_RTOL * root
        if exact:
            trace, s = _aligned_trace_svd(own[h], other[h], k, floor)
            found[1 + h] = gram_route_fails(s, k)
        else:
            trace, found[1 + h] = _aligned_trace_gram(own[h], other[h], k, floor, routes[1 + h])
        traces.append(trace / (nh[1 - h] - 1))
    return cos, 0.5 * (traces[0] + traces[1]) * (n - 1) / root, (found[0], found[1], found[2])
