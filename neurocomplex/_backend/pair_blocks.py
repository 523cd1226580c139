"""Per-block statistics of two populations (:class:`~neurocomplex.stats.pair_blocks.PairBlocks`)
computed on a torch device.

The data go to the device once; the per-block products (p × q, p × p, q × q, or the n × n sample
Gram matrices when there are fewer samples than units) and their reduction to the B × B and
B × B × B statistics happen there, and only those statistics come back to the host, as numpy. The
arithmetic is that of :func:`neurocomplex.stats.pair_blocks.pair_blocks`: float32 data are
multiplied in float32 over chunks of rows and accumulated in float64, the sample Gram matrices
are float64, and each side is centred by the host's means
(:func:`~neurocomplex.stats.pair_blocks.centring_shift`, one cheap pass on the host), so both
paths multiply the same numbers and the statistics, every CKA value and every bootstrap replicate
agree with the host's to float rounding.

:func:`shape_cosines_torch` does the same for the Procrustes shape distance: per-block p × q
products, column sums and sums of squares on the device, then every replicate's re-centred p × q
cross-product merged by one batched contraction and its singular values by batched SVDs, in
float64; only the cosines come back.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import torch

from neurocomplex._backend.accumulate import full_float32, resolve_device
from neurocomplex.stats import pair_blocks as pbk
from neurocomplex.stats.pair_blocks import (
    _ALIGN_RTOL,
    _CHUNK_ROWS,
    _F64_ROWS,
    _SIDES,
    PairBlocks,
    _work,
    centring_shift,
    slab_width,
    use_grams,
)

__all__ = ["pair_blocks_torch", "shape_cosines_torch"]

# Bytes of host data copied (and moved to the device) at a time.
_UPLOAD_BYTES = 64 * 1024**2
# Bytes of p × q float64 replicate matrices merged and decomposed at a time.
_REPLICATE_BYTES = 256 * 1024**2


def pair_blocks_torch(x: np.ndarray, y: np.ndarray, blocks: list[np.ndarray], debiased: bool,
                      device: object, budget_bytes: float | None = None) -> PairBlocks:
    """Per-block statistics of ``x`` (n × p) and ``y`` (n × q) for the given row blocks, on ``device``.

    Parameters
    ----------
    x, y : numpy.ndarray
        The two populations over the same rows (float32 stays float32 in the products; other
        dtypes are taken as float64).
    blocks : list of numpy.ndarray
        Sorted row indices of each block (:func:`~neurocomplex.stats.pair_blocks.block_assignment`).
    debiased : bool
        Also compute the row-norm terms of the unbiased HSIC (``diag`` and ``cross``).
    device : str or torch.device
        Where the products and reductions run (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ...).
    budget_bytes : float, optional
        Most bytes of block products held on the device at a time (the unit route forms them by
        slabs of columns, as the host does); default
        :data:`~neurocomplex.stats.pair_blocks.BLOCK_BUDGET`.

    Returns
    -------
    PairBlocks
        The statistics :func:`~neurocomplex.stats.pair_blocks.pair_blocks` returns, as float64
        numpy arrays.

    Raises
    ------
    InvalidParameterError
        A device torch does not know or cannot reach.

    Examples
    --------
    >>> from neurocomplex.stats import pair_blocks as pbk
    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.normal(size=(40, 3)), rng.normal(size=(40, 2))
    >>> blocks = pbk.block_assignment(40, 4, None, 0)
    >>> on_device = pair_blocks_torch(x, y, blocks, False, "cpu")
    >>> bool(np.allclose(on_device.K["xy"], pbk.pair_blocks(x, y, blocks, False).K["xy"], rtol=1e-12))
    True
    """
    dev = resolve_device(device)
    xt, yt = _upload(x, dev), _upload(y, dev)
    with full_float32():  # float32 products in float32, as on the host (no TF32)
        if use_grams(int(xt.shape[0]), int(xt.shape[1]), int(yt.shape[1]), len(blocks)):
            return _from_grams(xt, yt, blocks, debiased)
        return _from_products(xt, yt, blocks, debiased, pbk.BLOCK_BUDGET if budget_bytes is None else budget_bytes)


def _upload(a: np.ndarray, dev: torch.device) -> torch.Tensor:
    """A device copy of ``a`` in its working precision (float32 or float64), moved by chunks of rows
    (:func:`_copy_rows`), centred there by the host's means: the same elementwise subtractions, so
    the same numbers."""
    a = _work(a)
    out = _copy_rows(a, dev)
    centre, residual = centring_shift(a)
    out -= torch.from_numpy(centre).to(dev)
    if residual is not None:
        out -= torch.from_numpy(residual).to(dev)
    return out


def _copy_rows(a: np.ndarray, dev: torch.device) -> torch.Tensor:
    """A device copy of the float32 or float64 array ``a``, moved by chunks of rows (host copies, as
    arrays may be read-only)."""
    n, width = a.shape
    out = torch.empty((n, width), dtype=torch.float32 if a.dtype == np.float32 else torch.float64, device=dev)
    rows = max(1, _UPLOAD_BYTES // max(1, width * a.itemsize))
    for s in range(0, n, rows):
        out[s : s + rows].copy_(torch.from_numpy(np.array(a[s : s + rows])))
    return out


def _rows(t: torch.Tensor, idx: np.ndarray) -> torch.Tensor:
    """The rows ``idx`` of ``t``: a view for a contiguous run, else a gathered copy."""
    if idx.size and int(idx[-1]) - int(idx[0]) + 1 == idx.size and bool(np.all(np.diff(idx) == 1)):
        return t[int(idx[0]) : int(idx[-1]) + 1]
    return t.index_select(0, torch.as_tensor(idx, dtype=torch.int64, device=t.device))


def _product(a: torch.Tensor, b: torch.Tensor | None, out: torch.Tensor) -> None:
    """``out = aᵀ b`` (``aᵀ a`` when b is None) in the data's precision, accumulated in float64 per
    chunk of rows; a float32 side meeting a float64 one is promoted (as numpy does)."""
    if b is not None and a.dtype != b.dtype:
        a, b = a.to(torch.float64), b.to(torch.float64)
    out.zero_()
    for s in range(0, a.shape[0], _CHUNK_ROWS):
        ca = a[s : s + _CHUNK_ROWS]
        out += ca.T @ (ca if b is None else b[s : s + _CHUNK_ROWS])


def _row_norm_moments(xb: torch.Tensor, yb: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Row norms |x_i|², |y_i|² and the moments Σ_i (|x_i|², |y_i|²) ⊗ x_i and ⊗ y_i, in float64
    over chunks of rows."""
    n, dev = xb.shape[0], xb.device
    nx = torch.empty(n, dtype=torch.float64, device=dev)
    ny = torch.empty(n, dtype=torch.float64, device=dev)
    vx = torch.zeros((2, xb.shape[1]), dtype=torch.float64, device=dev)
    vy = torch.zeros((2, yb.shape[1]), dtype=torch.float64, device=dev)
    for s in range(0, n, _F64_ROWS):
        cx, cy = xb[s : s + _F64_ROWS].to(torch.float64), yb[s : s + _F64_ROWS].to(torch.float64)
        nx[s : s + _F64_ROWS] = (cx * cx).sum(dim=1)
        ny[s : s + _F64_ROWS] = (cy * cy).sum(dim=1)
        w = torch.stack([nx[s : s + _F64_ROWS], ny[s : s + _F64_ROWS]])
        vx += w @ cx
        vy += w @ cy
    return nx, ny, vx, vy


def _host(d: dict[str, torch.Tensor]) -> dict[str, np.ndarray]:
    return {k: v.cpu().numpy() for k, v in d.items()}


def _from_products(xt: torch.Tensor, yt: torch.Tensor, blocks: list[np.ndarray], debiased: bool,
                   budget_bytes: float) -> PairBlocks:
    """The unit-product route of the host's ``_pair_blocks``: for each slab of columns of side B,
    every block's ``A_bᵀ B_b[:, s:e]`` (for ``AᵀA`` only the rows ``< e``) in float64 on the device,
    added to K and dropped, so that at most ``budget_bytes`` of block products are held; T from
    the rows' products with the block sums."""
    dev, f64 = xt.device, torch.float64
    n_b = len(blocks)
    data = {"x": xt, "y": yt}
    width = {k: int(v.shape[1]) for k, v in data.items()}
    sums = {k: torch.empty((n_b, w), dtype=f64, device=dev) for k, w in width.items()}
    norms: dict[str, list[torch.Tensor]] = {"x": [], "y": []}
    moments: dict[str, list[torch.Tensor]] = {"x": [], "y": []}
    for b, idx in enumerate(blocks):
        part = {k: _rows(v, idx) for k, v in data.items()}
        for k, v in part.items():
            sums[k][b] = v.sum(dim=0, dtype=f64)
        if debiased:
            nx, ny, vx, vy = _row_norm_moments(part["x"], part["y"])
            norms["x"].append(nx)
            norms["y"].append(ny)
            moments["x"].append(vx)
            moments["y"].append(vy)
    K = {key: torch.zeros((n_b, n_b), dtype=f64, device=dev) for key in _SIDES}
    for key in _SIDES:
        a_name, b_name = key[0], key[1]
        sym = a_name == b_name
        a, b = data[a_name], data[b_name]
        cols = width[b_name]
        slab = slab_width(n_b, width[a_name], cols, budget_bytes)
        for s in range(0, cols, slab):
            e = min(cols, s + slab)
            rows = e if sym else width[a_name]
            g = torch.empty((n_b, rows, e - s), dtype=f64, device=dev)
            for i, idx in enumerate(blocks):
                ab = _rows(a, idx)
                bb = ab if sym else _rows(b, idx)
                if sym and s == 0 and e == cols:
                    _product(ab, None, g[i])
                else:
                    _product(ab[:, :rows], bb[:, s:e], g[i])
            _add_slab(K[key], g, s, sym)
    z = {k: _sum_products(v, sums[k]) for k, v in data.items()}  # (n, B): a_i · s_A,c
    T = {}
    for key in _SIDES:
        T[key] = torch.stack([_rows(z[key[0]], idx).T @ _rows(z[key[1]], idx) for idx in blocks])
    P = {k: v @ v.T for k, v in sums.items()}
    out = PairBlocks(counts=np.array([idx.size for idx in blocks], dtype=np.float64),
                     K=_host(K), T=_host(T), P=_host(P))
    if debiased:
        diag: dict[str, torch.Tensor] = {k: torch.stack([v.sum() for v in norms[k]]) for k in ("x", "y")}
        cross: dict[str, torch.Tensor] = {}
        mom = {k: torch.stack(v) for k, v in moments.items()}  # (B, 2, width): weighted by |x|², |y|²
        weight_row = {"x": 0, "y": 1}
        for key in _SIDES:
            a, b = key[0], key[1]
            diag[key] = torch.stack([(na * nb).sum() for na, nb in zip(norms[a], norms[b], strict=True)])
            va = mom[a][:, weight_row[b]]
            vb = mom[b][:, weight_row[a]]
            cross[key] = sums[a] @ va.T + sums[b] @ vb.T
        out.diag, out.cross = _host(diag), _host(cross)
    return out


def _add_slab(k: torch.Tensor, g: torch.Tensor, s: int, sym: bool) -> None:
    """The host's ``_add_slab`` on the device (in place)."""
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


def _sum_products(a: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    """``a @ sᵀ`` in float64 over chunks of rows (the host's ``_sum_products``)."""
    out = torch.empty((a.shape[0], s.shape[0]), dtype=torch.float64, device=a.device)
    for r in range(0, a.shape[0], _F64_ROWS):
        out[r : r + _F64_ROWS] = a[r : r + _F64_ROWS].to(torch.float64) @ s.T
    return out


def _from_grams(xt: torch.Tensor, yt: torch.Tensor, blocks: list[np.ndarray], debiased: bool) -> PairBlocks:
    """The sample-Gram route of the host's ``_pair_blocks_from_grams``: H_a = AAᵀ in float64 with the
    rows in block order, reduced over blocks by products with the (n, B) block indicator."""
    dev, f64 = xt.device, torch.float64
    order = torch.as_tensor(np.concatenate(blocks), dtype=torch.int64, device=dev)
    sizes = [int(idx.size) for idx in blocks]
    labels = torch.repeat_interleave(torch.arange(len(blocks), device=dev), torch.as_tensor(sizes, device=dev))
    onehot = torch.nn.functional.one_hot(labels, len(blocks)).to(f64)  # (n, B)
    h = {}
    for name, t in (("x", xt), ("y", yt)):
        a64 = t.index_select(0, order).to(f64)
        h[name] = a64 @ a64.T
    z = {k: v @ onehot for k, v in h.items()}  # (n, B): a_i · s_A,c
    P = {k: onehot.T @ v for k, v in z.items()}  # (B, B): s_A,b · s_A,c
    bounds = np.r_[0, np.cumsum(sizes)]
    K, T = {}, {}
    for key in _SIDES:
        a, b = key[0], key[1]
        K[key] = onehot.T @ (h[a] * h[b]) @ onehot
        # T[b, c, d] = Σ_{i∈b} (a_i · s_A,c)(b_i · s_B,d)
        T[key] = torch.stack([z[a][s:e].T @ z[b][s:e] for s, e in itertools.pairwise(bounds)])
    out = PairBlocks(counts=np.array(sizes, dtype=np.float64), K=_host(K), T=_host(T), P=_host(P))
    if debiased:
        norms = {k: torch.diagonal(v) for k, v in h.items()}
        diag = {k: onehot.T @ v for k, v in norms.items()}
        cross = {}
        for key in _SIDES:
            a, b = key[0], key[1]
            diag[key] = onehot.T @ (norms[a] * norms[b])
            # [c, b]: s_A,c · Σ_{i∈b} |b_i|² a_i  +  s_B,c · Σ_{i∈b} |a_i|² b_i
            cross[key] = (onehot.T @ (z[a] * norms[b][:, None]) + onehot.T @ (z[b] * norms[a][:, None])).T
        out.diag, out.cross = _host(diag), _host(cross)
    return out


def shape_cosines_torch(x: np.ndarray, y: np.ndarray, blocks: list[np.ndarray], weights: np.ndarray,
                        half: np.ndarray, device: object) -> tuple[np.ndarray, np.ndarray]:
    """Plug-in and cross-fitted Procrustes cosines for each row of ``weights``, on ``device``.

    Parameters
    ----------
    x, y : numpy.ndarray
        The two populations over the same rows (n × p and n × q), float32 or float64, as the host
        multiplies them (centred, and narrowed to at most n columns).
    blocks : list of numpy.ndarray
        Sorted row indices of each block (:func:`~neurocomplex.stats.pair_blocks.block_assignment`).
    weights : numpy.ndarray
        ``(R, B)`` draw counts of the blocks (a row of ones: every block once).
    half : numpy.ndarray
        ``(B,)`` booleans: the blocks of the first half (for the cross-fitted cosine).
    device : str or torch.device
        Where the products, the merges and the singular values are computed.

    Returns
    -------
    cos, crossfit : numpy.ndarray
        ``(R,)`` float64 cosines as :func:`neurocomplex.stats.pair_blocks.shape_cosines` defines
        them, NaN where undefined.

    Raises
    ------
    InvalidParameterError
        A device torch does not know or cannot reach.

    Notes
    -----
    With G_b = X_bᵀY_b (p × q, float32 data multiplied in float32 and accumulated in float64 per
    chunk of rows, as the host does), s_x,b and s_y,b the block column sums, t_x,b and t_y,b the
    block sums of squares and n_b the block sizes, each replicate w and half h has N_h = Σ_{b∈h} w_b n_b,
    u_h = Σ_{b∈h} w_b s_x,b, v_h likewise and C_h(w) = Σ_{b∈h} w_b G_b − u_h v_hᵀ / N_h (one batched
    contraction over the replicates); C(w) is the same over all blocks. The singular values of
    C(w) come from batched ``torch.linalg.svdvals`` and the halves' singular pairs from batched
    ``torch.linalg.svd``, in float64, in batches of at most 256 MiB of matrices; each half's
    products are first projected on the span of its samples, as on the host
    (:class:`~neurocomplex.stats.pair_blocks.ShapeBlocks`).

    Examples
    --------
    >>> from neurocomplex.stats import pair_blocks as pbk
    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.normal(size=(40, 3)), rng.normal(size=(40, 2))
    >>> xc, yc = x - x.mean(0), y - y.mean(0)
    >>> blocks, half = pbk.block_assignment(40, 2, None, 0), np.array([True, False])
    >>> cos, crossfit = shape_cosines_torch(xc, yc, blocks, np.ones((1, 2)), half, "cpu")
    >>> nuclear = np.linalg.svd(xc.T @ yc, compute_uv=False).sum()
    >>> bool(np.isclose(cos[0], nuclear / (np.linalg.norm(xc) * np.linalg.norm(yc)), rtol=1e-12))
    True
    >>> host = pbk.shape_cosines(pbk.shape_blocks(xc, yc, blocks, half), np.ones((1, 2)), half)[1]
    >>> bool(np.isclose(crossfit[0], host[0], rtol=1e-10))
    True
    """
    dev = resolve_device(device)
    half = np.asarray(half, dtype=bool)
    with full_float32():  # float32 products in float32, as on the host (no TF32)
        xt, yt = _copy_rows(x, dev), _copy_rows(y, dev)
        stats = _shape_block_stats(xt, yt, blocks)
        halves = tuple(_half_projection(xt, yt, blocks, mask, *stats[:3]) for mask in (half, ~half))
    return _shape_cosines(*stats, np.array([idx.size for idx in blocks], dtype=np.float64), weights, half,
                          halves)


def _sum_squares(a: torch.Tensor) -> torch.Tensor:
    """Σ a_ij² in float64 over chunks of rows (no float64 copy of the whole block)."""
    total = torch.zeros((), dtype=torch.float64, device=a.device)
    for s in range(0, a.shape[0], _F64_ROWS):
        c = a[s : s + _F64_ROWS].to(torch.float64)
        total += (c * c).sum()
    return total


def _shape_block_stats(xt: torch.Tensor, yt: torch.Tensor, blocks: list[np.ndarray]) -> tuple[torch.Tensor, ...]:
    """Per block: the p × q product, the column sums of both sides and their sums of squares (float64)."""
    dev, f64 = xt.device, torch.float64
    n_b, p, q = len(blocks), int(xt.shape[1]), int(yt.shape[1])
    grams = torch.empty((n_b, p, q), dtype=f64, device=dev)
    sx = torch.empty((n_b, p), dtype=f64, device=dev)
    sy = torch.empty((n_b, q), dtype=f64, device=dev)
    tx = torch.empty(n_b, dtype=f64, device=dev)
    ty = torch.empty(n_b, dtype=f64, device=dev)
    for b, idx in enumerate(blocks):
        xb, yb = _rows(xt, idx), _rows(yt, idx)
        _product(xb, yb, grams[b])
        sx[b], sy[b] = xb.sum(dim=0, dtype=f64), yb.sum(dim=0, dtype=f64)
        tx[b], ty[b] = _sum_squares(xb), _sum_squares(yb)
    return grams, sx, sy, tx, ty


def _half_projection(xt: torch.Tensor, yt: torch.Tensor, blocks: list[np.ndarray], mask: np.ndarray,
                     grams: torch.Tensor, sx: torch.Tensor, sy: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """The host's per-half projection (:func:`~neurocomplex.stats.pair_blocks.half_basis`): the block
    products and sums on the span of the half's rows of x and of y (unchanged on a side with no more
    units than the half has rows)."""
    chosen = [blocks[b] for b in np.flatnonzero(mask)]
    rows = np.concatenate(chosen) if chosen else np.empty(0, dtype=np.int64)
    bases = []
    for t in (xt, yt):
        part = t.index_select(0, torch.as_tensor(rows, dtype=torch.int64, device=t.device)).to(torch.float64)
        bases.append(None if part.shape[0] >= part.shape[1] else torch.linalg.qr(part.T, mode="reduced")[0])
    ex, ey = bases
    g = grams if ex is None else torch.matmul(ex.T, grams)
    g = g if ey is None else torch.matmul(g, ey)
    return g, sx if ex is None else sx @ ex, sy if ey is None else sy @ ey


def _centred(g: torch.Tensor, sx: torch.Tensor, sy: torch.Tensor, w: torch.Tensor, share: torch.Tensor
             ) -> torch.Tensor:
    """``Σ_b w_b g_b − u vᵀ · share`` for a batch of weights (share = 1/N, 0 where N = 0)."""
    n_b, d1, d2 = g.shape
    u, v = w @ sx, w @ sy
    return (w @ g.reshape(n_b, d1 * d2)).view(-1, d1, d2) - u[:, :, None] * v[:, None, :] * share[:, None, None]


def _shape_cosines(grams: torch.Tensor, sx: torch.Tensor, sy: torch.Tensor, tx: torch.Tensor, ty: torch.Tensor,
                   counts: np.ndarray, weights: np.ndarray, half: np.ndarray,
                   halves: tuple[tuple[torch.Tensor, ...], ...]) -> tuple[np.ndarray, np.ndarray]:
    """Both cosines of every row of ``weights`` from the block statistics, in batches of replicates."""
    dev, f64 = grams.device, torch.float64
    p, q = grams.shape[1:]
    sizes = torch.as_tensor(counts, dtype=f64, device=dev)
    masks = [torch.as_tensor(m, dtype=f64, device=dev) for m in (half, ~half)]
    group = max(1, _REPLICATE_BYTES // (8 * p * q * 6))  # C, the halves' products, their singular vectors
    cos_out, fit_out = [], []
    for start in range(0, weights.shape[0], group):
        w = torch.as_tensor(weights[start : start + group], dtype=f64, device=dev)
        wh = [w * m for m in masks]
        nh = [v @ sizes for v in wh]
        share = [torch.where(v > 0, 1.0 / v.clamp(min=1.0), 0.0) for v in nh]
        n = nh[0] + nh[1]
        u, v = w @ sx, w @ sy
        norm = (w @ tx - (u * u).sum(dim=1) / n) * (w @ ty - (v * v).sum(dim=1) / n)
        root = norm.clamp(min=torch.finfo(f64).tiny).sqrt()
        full = _centred(grams, sx, sy, w, 1.0 / n)
        cos = torch.where(norm > 0, torch.linalg.svdvals(full).sum(dim=1) / root, math.nan)
        floor = _ALIGN_RTOL * root
        traces = []
        for h in (0, 1):
            g, hsx, hsy = halves[h]
            own = _centred(g, hsx, hsy, wh[h], share[h])
            other = _centred(g, hsx, hsy, wh[1 - h], share[1 - h])
            rank = torch.clamp(torch.minimum(((wh[h] > 0).to(f64) @ sizes) - 1,
                                             torch.tensor(float(min(p, q)), device=dev)), min=0)
            traces.append(_aligned_traces(own, other, rank, floor) / (nh[1 - h] - 1).clamp(min=1.0))
        fit = 0.5 * (traces[0] + traces[1]) * (n - 1) / root
        fit = torch.where((norm > 0) & (nh[0] >= 2) & (nh[1] >= 2), fit, math.nan)
        cos_out.append(cos.cpu().numpy())
        fit_out.append(fit.cpu().numpy())
    if not cos_out:
        return np.empty(0), np.empty(0)
    return np.concatenate(cos_out), np.concatenate(fit_out)


def _aligned_traces(c_fit: torch.Tensor, c_eval: torch.Tensor, rank: torch.Tensor, floor: torch.Tensor
                    ) -> torch.Tensor:
    """The host's ``aligned_trace`` for a batch: tr(Qᵀ c_eval) with Q the partial isometry of the
    top singular pairs of ``c_fit`` (at most ``rank``, and above ``floor``)."""
    u, s, vh = torch.linalg.svd(c_fit, full_matrices=False)
    index = torch.arange(s.shape[1], device=s.device, dtype=s.dtype)
    keep = (index[None, :] < rank[:, None]) & (s > floor[:, None])
    per_pair = (u * (c_eval @ vh.mT)).sum(dim=1)  # u_iᵀ c_eval v_i
    return (per_pair * keep).sum(dim=1)
