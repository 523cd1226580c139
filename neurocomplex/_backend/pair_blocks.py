"""Per-block statistics of two populations (:class:`~neurocomplex.stats.pair_blocks.PairBlocks`)
computed on a torch device.

The data go to the device once; the per-block products (p × q, p × p, q × q, or the n × n sample
Gram matrices when there are fewer samples than units) and their reduction to the B × B and
B × B × B statistics happen there, and only those statistics come back to the host, as numpy. The
arithmetic is that of :func:`neurocomplex.stats.pair_blocks.pair_blocks`: float32 data are
multiplied in float32 over chunks of rows and accumulated in float64, the sample Gram matrices
are float64, and a side the host would centre first is centred by the same means
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
from neurocomplex.stats.pair_blocks import (
    _CHUNK_ROWS,
    _F64_ROWS,
    _SIDES,
    PairBlocks,
    _work,
    centring_shift,
    use_grams,
)

__all__ = ["pair_blocks_torch", "shape_cosines_torch"]

# Bytes of host data copied (and moved to the device) at a time.
_UPLOAD_BYTES = 64 * 1024**2
# Bytes of p × q float64 replicate matrices merged and decomposed at a time.
_REPLICATE_BYTES = 256 * 1024**2


def pair_blocks_torch(x: np.ndarray, y: np.ndarray, blocks: list[np.ndarray], debiased: bool,
                      device: object) -> PairBlocks:
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
        if use_grams(int(xt.shape[0]), int(xt.shape[1]), int(yt.shape[1])):
            return _from_grams(xt, yt, blocks, debiased)
        return _from_products(xt, yt, blocks, debiased)


def _upload(a: np.ndarray, dev: torch.device) -> torch.Tensor:
    """A device copy of ``a`` in its working precision (float32 or float64), moved by chunks of rows
    (:func:`_copy_rows`), centred there by the host's means when the host would centre it: the same
    elementwise subtraction, so the same numbers."""
    a = _work(a)
    shift = centring_shift(a)
    out = _copy_rows(a, dev)
    if shift is not None:
        out -= torch.from_numpy(shift).to(dev)
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


def _from_products(xt: torch.Tensor, yt: torch.Tensor, blocks: list[np.ndarray], debiased: bool) -> PairBlocks:
    """The unit-product route of the host's ``_pair_blocks``: per block the p × q, p × p and q × q
    products, one row each of a (B, width²) float64 array on the device."""
    dev, f64 = xt.device, torch.float64
    n_b = len(blocks)
    width = {"x": int(xt.shape[1]), "y": int(yt.shape[1])}
    data = {"x": xt, "y": yt}
    grams = {k: torch.empty((n_b, width[k[0]] * width[k[1]]), dtype=f64, device=dev) for k in _SIDES}
    sums = {k: torch.empty((n_b, w), dtype=f64, device=dev) for k, w in width.items()}
    norms: dict[str, list[torch.Tensor]] = {"x": [], "y": []}
    moments: dict[str, list[torch.Tensor]] = {"x": [], "y": []}
    for b, idx in enumerate(blocks):
        part = {k: _rows(v, idx) for k, v in data.items()}
        for k, v in part.items():
            sums[k][b] = v.sum(dim=0, dtype=f64)
        _product(part["x"], part["y"], grams["xy"][b].view(width["x"], width["y"]))
        _product(part["x"], None, grams["xx"][b].view(width["x"], width["x"]))
        _product(part["y"], None, grams["yy"][b].view(width["y"], width["y"]))
        if debiased:
            nx, ny, vx, vy = _row_norm_moments(part["x"], part["y"])
            norms["x"].append(nx)
            norms["y"].append(ny)
            moments["x"].append(vx)
            moments["y"].append(vy)
    K, T = {}, {}
    for key, flat in grams.items():
        K[key] = flat @ flat.T
        sa, sb = sums[key[0]], sums[key[1]]
        # T[b, c, d] = s_a,cᵀ G_b s_b,d
        gsb = flat.view(n_b, width[key[0]], width[key[1]]) @ sb.T  # (B, p_a, B)
        T[key] = torch.einsum("cp,bpd->bcd", sa, gsb)
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
                        device: object) -> np.ndarray:
    """Procrustes cosine ``||C(w)||_* / √(t_x(w) t_y(w))`` for each row of ``weights``, on ``device``.

    Parameters
    ----------
    x, y : numpy.ndarray
        The two populations over the same rows (n × p and n × q), float32 or float64, as the host
        multiplies them (centred, and narrowed to at most n columns).
    blocks : list of numpy.ndarray
        Sorted row indices of each block (:func:`~neurocomplex.stats.pair_blocks.block_assignment`).
    weights : numpy.ndarray
        ``(R, B)`` draw counts of the blocks (a row of ones: every block once).
    device : str or torch.device
        Where the products, the merges and the singular values are computed.

    Returns
    -------
    numpy.ndarray
        ``(R,)`` float64 cosines, NaN where ``t_x(w) t_y(w)`` is not positive.

    Raises
    ------
    InvalidParameterError
        A device torch does not know or cannot reach.

    Notes
    -----
    With G_b = X_bᵀY_b (p × q, float32 data multiplied in float32 and accumulated in float64 per
    chunk of rows, as the host does), s_x,b and s_y,b the block column sums, t_x,b and t_y,b the
    block sums of squares and n_b the block sizes, each replicate w has N = Σ w_b n_b,
    u = Σ w_b s_x,b, v = Σ w_b s_y,b, C(w) = Σ_b w_b G_b − u vᵀ / N (one batched contraction
    over the replicates), t_x(w) = Σ w_b t_x,b − |u|² / N and t_y(w) = Σ w_b t_y,b − |v|² / N. The singular values
    of C(w) come from batched ``torch.linalg.svdvals`` in float64, in batches of at most 256 MiB
    of matrices.

    Examples
    --------
    >>> from neurocomplex.stats import pair_blocks as pbk
    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.normal(size=(40, 3)), rng.normal(size=(40, 2))
    >>> xc, yc = x - x.mean(0), y - y.mean(0)
    >>> cos = shape_cosines_torch(xc, yc, [np.arange(40)], np.ones((1, 1)), "cpu")
    >>> nuclear = np.linalg.svd(xc.T @ yc, compute_uv=False).sum()
    >>> bool(np.isclose(cos[0], nuclear / (np.linalg.norm(xc) * np.linalg.norm(yc)), rtol=1e-12))
    True
    """
    dev = resolve_device(device)
    with full_float32():  # float32 products in float32, as on the host (no TF32)
        stats = _shape_block_stats(_copy_rows(x, dev), _copy_rows(y, dev), blocks)
    return _shape_cosines(*stats, np.array([idx.size for idx in blocks], dtype=np.float64), weights)


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


def _shape_cosines(grams: torch.Tensor, sx: torch.Tensor, sy: torch.Tensor, tx: torch.Tensor, ty: torch.Tensor,
                   counts: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The cosine of every row of ``weights`` from the block statistics, in batches of replicates."""
    dev, f64 = grams.device, torch.float64
    n_b, p, q = grams.shape
    flat = grams.reshape(n_b, p * q)
    sizes = torch.as_tensor(counts, dtype=f64, device=dev)
    group = max(1, _REPLICATE_BYTES // (8 * p * q))
    out = []
    for start in range(0, weights.shape[0], group):
        w = torch.as_tensor(weights[start : start + group], dtype=f64, device=dev)
        n = w @ sizes
        u, v = w @ sx, w @ sy
        cxy = (w @ flat).view(-1, p, q) - u[:, :, None] * v[:, None, :] / n[:, None, None]
        norm = (w @ tx - (u * u).sum(dim=1) / n) * (w @ ty - (v * v).sum(dim=1) / n)
        nuclear = torch.linalg.svdvals(cxy).sum(dim=1)
        cos = torch.where(norm > 0, nuclear / norm.clamp(min=torch.finfo(f64).tiny).sqrt(), math.nan)
        out.append(cos.cpu().numpy())
    return np.concatenate(out) if out else np.empty(0)
