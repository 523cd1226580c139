"""Block-bootstrap replicates of spectral trace functions without one eigendecomposition per replicate.

A replicate's scatter matrix is ``S* = Σ_b w_b S'_b − n* (m* − m)(m* − m)ᵀ`` (block ``b`` drawn
``w_b`` times, ``S'_b`` its scatter about the full-data mean ``m``, ``n*`` and ``m*`` the
replicate's count and mean). In the eigenbasis ``V`` of the full-data scatter ``S = V Λ Vᵀ`` it is
``A* = Vᵀ S* V = Λ(n*/n) + Σ_b w_b P̃_b − ...`` with ``P̃_b = Vᵀ S'_b V − (n_b/n) Λ``, whose
diagonal and off-diagonal parts are linear in the weights. A spectral trace function
``tr f(A*) = Σ_k f(λ*_k)`` then follows from its second-order (Daleckii–Krein) expansion about
the diagonal ``a`` of ``A*``:

    tr f(A*) ≈ Σ_k f(a_k) + Σ_{j<k} (A*_jk)² f'[λ_j, λ_k],

where ``f'[x, y] = (f'(x) − f'(y)) / (x − y)`` is the divided difference of ``f'`` (the limit
``f''(x)`` when ``x = y``). The quadratic form is ``(w − 1)ᵀ W (w − 1)`` with the ``B × B``
matrix ``W_bc = Σ_{j<k} P̃_b[jk] P̃_c[jk] f'[λ_j, λ_k]``, computed once. The expansion needs no
eigengap: the divided difference stays finite for equal eigenvalues, so a flat (degenerate)
spectrum is as accurate as a decaying one. The first-order term alone (the diagonal) is biased
upwards by Schur concavity (the diagonal of a symmetric matrix is majorised by its eigenvalues),
by up to several bootstrap standard deviations for flat spectra; the second-order term removes
that. What is left is third order in the block fluctuations (and the off-diagonal part of the
rank-one mean term, of relative order ``1/sqrt(n)`` of the second-order term).

The cost is one GEMM per block (``S'_b V``) and the upper triangle of a second (``Vᵀ (S'_b V)``, by
row panels), plus ``B² r²/2`` for ``W``, against one merge of the block statistics and one
eigendecomposition per replicate for the exact bootstrap.

Order 2 needs no expansion: ``tr S*`` and ``||S*||²_F`` are quadratic in the weights, so
:func:`participation_ratios` gives exact replicates from the Frobenius products of the blocks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["divided_difference", "Expansion", "expand_blocks", "expand_projected", "expand_rows", "expansion_dimensions",
           "perturbative_dimensions", "participation_ratios", "check_against_exact", "CHECK_TOLERANCE"]

# Tolerance of the exact check: the perturbative replicates are kept when those checked against
# an exact eigendecomposition differ by at most this fraction of the replicates' spread. Measured
# root-mean-square errors are <= 0.07 sd down to 3 samples per unit on decaying spectra (0.16 on a
# flat one), so the interval's ends move by a few % of its width at most.
CHECK_TOLERANCE = 0.25
# Rows of the panels that tile the upper triangle of the projected blocks (64: efficient GEMMs,
# about 0.56 of the full product's flops for 512 units).
_PANEL_ROWS = 64


def divided_difference(lam: np.ndarray, order: float) -> np.ndarray:
    """``f'[λ_j, λ_k]`` for ``f(x) = x log x`` (order 1) or ``x^order``; λ > 0, zero diagonal.

    Examples
    --------
    >>> divided_difference(np.array([1.0, 2.0]), 2.0)
    array([[0., 2.],
           [2., 0.]])
    >>> round(float(divided_difference(np.array([1.0, np.e]), 1.0)[0, 1]), 6)  # (1 - 0) / (e - 1)
    0.581977
    """
    out = _divided_block(lam, lam, order)
    np.fill_diagonal(out, 0.0)
    return out


def _divided_block(rows: np.ndarray, cols: np.ndarray, order: float) -> np.ndarray:
    """``f'[x, y]`` for ``x`` in ``rows`` and ``y`` in ``cols`` (all > 0), a ``len(rows) × len(cols)`` block."""
    log_ratio = np.subtract.outer(np.log(rows), np.log(cols))
    small = np.abs(log_ratio) < 1e-8
    log_ratio[small] = 1.0  # any nonzero value: replaced below
    denom = np.expm1(log_ratio)
    if order == 1.0:
        # (log x − log y) / (x − y) = L / (y (e^L − 1)), L = log(x / y); 1 / y at L = 0
        out = log_ratio / denom
        out /= cols
        out[small] = np.broadcast_to(1.0 / cols, out.shape)[small]
    else:
        # α (x^(α−1) − y^(α−1)) / (x − y) = α y^(α−2) (e^((α−1)L) − 1) / (e^L − 1)
        out = np.expm1((order - 1.0) * log_ratio) / denom
        out[small] = order - 1.0
        out *= order * cols ** (order - 2.0)
    return out


def _trace_dimension(a: np.ndarray, second: np.ndarray, order: float) -> np.ndarray:
    """D of each replicate (rows of ``a``) from its diagonal and second-order trace term."""
    total = a.sum(axis=1)
    if order == 1.0:
        f = np.sum(a * np.log(a), axis=1) + second
        return np.exp(np.log(total) - f / total)
    power = np.sum(a**order, axis=1) + second
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.exp((np.log(power) - order * np.log(total)) / (1.0 - order))


def _upper_panels(r: int) -> list[tuple[int, int, int]]:
    """(first row, rows, offset) of the row panels that tile the upper triangle of an ``r × r``
    matrix: panel ``i`` holds rows ``s:s + h`` and columns ``s:r``, stored row-major at ``offset``."""
    panels, offset = [], 0
    for s in range(0, r, _PANEL_ROWS):
        h = min(_PANEL_ROWS, r - s)
        panels.append((s, h, offset))
        offset += h * (r - s)
    return panels


def _panel_length(r: int) -> int:
    s, h, offset = _upper_panels(r)[-1]
    return offset + h * (r - s)


@dataclass
class Expansion:
    """The second-order expansion of ``tr f`` of a replicate's scatter, for any block weights.

    ``lam``: the full-data eigenvalues over the largest (``λ / λ_1``, > 0); ``diag``: ``(B, r)``
    diagonals of ``P̃_b = Vᵀ S'_b V / λ_1 − (n_b / n) Λ / λ_1``; ``spread``: ``(B, r)``
    ``Vᵀ (m_b − m) / sqrt(λ_1)``; ``weights``: the ``B × B`` matrix ``W`` of the quadratic term;
    ``counts``: samples per block; ``order``: the Rényi order.
    """

    counts: np.ndarray
    lam: np.ndarray
    diag: np.ndarray
    spread: np.ndarray
    weights: np.ndarray
    order: float


def _root_panels(lam_n: np.ndarray, order: float, dtype: np.dtype) -> tuple[np.ndarray, float]:
    """sqrt|f'[λ_j, λ_k]| on the upper-triangle panels (halved on their diagonal squares, 0 on the
    diagonal) and the sign of ``f'[·,·]`` (that of order·(order − 1), positive for order 1):
    ``W = sign · Z Zᵀ``. Each panel's block is computed on its own (half the matrix, in cache)."""
    r = lam_n.size
    root = np.empty(_panel_length(r), dtype=dtype)
    for s, h, offset in _upper_panels(r):
        sub = np.abs(_divided_block(lam_n[s : s + h], lam_n[s:], order))
        sub[:, :h] *= 0.5
        sub[np.arange(h), np.arange(h)] = 0.0
        np.sqrt(sub, out=sub)
        root[offset : offset + h * (r - s)] = sub.reshape(-1)
    return root, (-1.0 if order < 1.0 else 1.0)


def expand_blocks(counts: np.ndarray, means: np.ndarray, centres: np.ndarray, grams: np.ndarray,
                  lam: np.ndarray, vecs: np.ndarray, order: float) -> Expansion:
    """The expansion from per-block Gram matrices (``d × d``) and the full-data eigenbasis.

    Parameters
    ----------
    counts, means, centres, grams
        Block statistics (see :class:`neurocomplex.stats.covariance.BlockGrams`): block ``b``'s
        scatter is ``grams[b] − counts[b] (m_b − c_b)(m_b − c_b)ᵀ``.
    lam, vecs
        Eigenvalues (> 0, the numerical zeros already left out) and eigenvectors (columns) of the
        full-data scatter matrix.
    order : float
        Rényi order, finite and > 0.

    Notes
    -----
    ``W`` needs each ``P̃_b[jk]`` once per pair ``j < k``, so only the upper triangle of
    ``Vᵀ (S'_b V)`` is formed, by row panels (about 0.56 of the second GEMM); entries of the
    panels' diagonal squares appear twice (``jk`` and ``kj``) and carry half the weight.
    """
    n_blocks = grams.shape[0]
    r = lam.size
    n = counts.sum()
    scale = float(lam[0])
    lam_n = lam / scale
    mean = counts @ means / n
    vecs64 = vecs / math.sqrt(scale)  # projections come out in units of the top eigenvalue
    shift = (means - centres) @ vecs64  # (B, r)
    spread = (means - mean) @ vecs64
    dtype = grams.dtype
    v_work = np.ascontiguousarray(vecs64, dtype=dtype)
    d = grams.shape[1]
    # Two extra columns of Vᵀ and rows of G_b V carry the rank-2 correction to the full-data mean
    # through the panel products: [Vᵀ | n_b ŝ, −n_b ĉ] [G_b V; ŝᵀ; ĉᵀ] = Vᵀ G_b V + n_b (ŝ ŝᵀ − ĉ ĉᵀ).
    v_rows = np.empty((r, d + 2), dtype=dtype)
    v_rows[:, :d] = v_work.T
    m = np.empty((d + 2, r), dtype=dtype)
    panels = _upper_panels(r)
    root, sign = _root_panels(lam_n, order, dtype)
    packed = np.empty((n_blocks, root.size), dtype=dtype)
    diag = np.empty((n_blocks, r))
    for b in range(n_blocks):
        np.matmul(grams[b], v_work, out=m[:d])
        m[d], m[d + 1] = spread[b], shift[b]
        v_rows[:, d], v_rows[:, d + 1] = counts[b] * spread[b], -counts[b] * shift[b]
        row = packed[b]
        for s, h, offset in panels:
            out = row[offset : offset + h * (r - s)].reshape(h, r - s)
            np.matmul(v_rows[s : s + h], m[:, s:], out=out)
            diag[b, s : s + h] = np.diagonal(out)
        row *= root  # while the row is in cache
    diag -= counts[:, None] / n * lam_n  # P̃_b: less the block's share of Λ
    z = packed @ packed.T
    weights = sign * (z.astype(np.float64) + z.T.astype(np.float64)) * 0.5
    return Expansion(counts, lam_n, diag, spread, weights, order)


def expand_projected(counts: np.ndarray, means: np.ndarray, grams: np.ndarray, lam: np.ndarray,
                     order: float) -> Expansion:
    """The expansion from block statistics already in the full-data eigenbasis.

    ``grams[b]`` is ``Y_bᵀ Y_b`` with ``Y = (X − m) V`` (about the full-data mean, ``r × r``; see
    :func:`neurocomplex.stats.covariance.projected_block_grams`) and ``means[b]`` the block's mean of
    ``Y``; ``lam`` the eigenvalues (> 0, descending) of the full-data scatter. Block ``b``'s
    projected scatter about the full-data mean is then ``grams[b]`` itself: no product with ``V``
    per block, so the cost is one pass over the upper triangles and ``B² r²`` for ``W``.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> x = rng.normal(size=(60, 5)) * [3.0, 2.0, 1.5, 1.0, 0.5]; x -= x.mean(axis=0)
    >>> lam, vecs = np.linalg.eigh(x.T @ x); lam, vecs = lam[::-1], vecs[:, ::-1]
    >>> y = x @ vecs
    >>> counts = np.full(3, 20.0)
    >>> grams = np.stack([y[i : i + 20].T @ y[i : i + 20] for i in range(0, 60, 20)])
    >>> means = np.stack([y[i : i + 20].mean(axis=0) for i in range(0, 60, 20)])
    >>> a = expand_projected(counts, means, grams, lam, 1.0)
    >>> b = expand_rows(y, counts, lam, 1.0)
    >>> bool(np.allclose(a.weights, b.weights) and np.allclose(a.diag, b.diag))
    True
    """
    n_blocks, r = means.shape
    n = counts.sum()
    scale = float(lam[0])
    lam_n = lam / scale
    spread = (means - counts @ means / n) / math.sqrt(scale)
    dtype = grams.dtype
    root, sign = _root_panels(lam_n, order, dtype)
    root *= dtype.type(1.0 / scale)  # the panels come out in units of the top eigenvalue
    packed = np.empty((n_blocks, root.size), dtype=dtype)
    diag = np.einsum("bii->bi", grams).astype(np.float64) / scale
    for s, h, offset in _upper_panels(r):  # every block at once, panel by panel
        width = h * (r - s)
        np.multiply(grams[:, s : s + h, s:], root[offset : offset + width].reshape(h, r - s),
                    out=packed[:, offset : offset + width].reshape(n_blocks, h, r - s))
    diag -= counts[:, None] / n * lam_n
    z = packed @ packed.T
    weights = sign * (z.astype(np.float64) + z.T.astype(np.float64)) * 0.5
    return Expansion(counts, lam_n, diag, spread, weights, order)


def expand_rows(rows: np.ndarray, counts: np.ndarray, lam: np.ndarray, order: float) -> Expansion:
    """The expansion from the samples in the eigenbasis: ``rows`` is ``Xc V`` (``n × r``, centred on
    the full-data mean), consecutive blocks of ``counts`` rows, ``lam`` the eigenvalues (> 0).

    For the Gram route, ``Xc V = U Λ^{1/2}`` with ``U`` the eigenvectors of ``G = Xc Xcᵀ``: the
    rows come from the Gram's eigendecomposition with no pass over the data, and block ``b``'s
    projected scatter is ``P_b = Y_bᵀ Y_b`` (``Y_b`` its rows), formed by the same row panels.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(40, 6)); x -= x.mean(axis=0)
    >>> lam, vecs = np.linalg.eigh(x.T @ x)
    >>> counts = np.full(4, 10.0)
    >>> grams = np.stack([x[i : i + 10].T @ x[i : i + 10] for i in range(0, 40, 10)])
    >>> a = expand_rows(x @ vecs, counts, lam, 1.0)
    >>> b = expand_blocks(counts, np.zeros((4, 6)) + [x[i : i + 10].mean(axis=0) for i in range(0, 40, 10)],
    ...                   np.zeros((4, 6)), grams, lam, vecs, 1.0)
    >>> bool(np.allclose(a.weights, b.weights) and np.allclose(a.diag, b.diag))
    True
    """
    r = lam.size
    n = counts.sum()
    scale = float(lam[0])
    lam_n = lam / scale
    y = np.ascontiguousarray(rows, dtype=np.float64) / math.sqrt(scale)
    edges = np.concatenate([[0], np.cumsum(counts).astype(np.int64)])
    n_blocks = counts.size
    spread = np.stack([y[edges[b] : edges[b + 1]].mean(axis=0) for b in range(n_blocks)])
    diag = np.stack([np.einsum("ij,ij->j", y[edges[b] : edges[b + 1]], y[edges[b] : edges[b + 1]])
                     for b in range(n_blocks)])
    root, sign = _root_panels(lam_n, order, np.dtype(np.float64))
    weights = np.zeros((n_blocks, n_blocks))
    for s, h, offset in _upper_panels(r):
        width = h * (r - s)
        scaled = root[offset : offset + width]
        panel = np.empty((n_blocks, width))
        for b in range(n_blocks):
            yb = y[edges[b] : edges[b + 1]]
            np.multiply((yb[:, s : s + h].T @ yb[:, s:]).reshape(-1), scaled, out=panel[b])
        weights += panel @ panel.T
    diag -= counts[:, None] / n * lam_n
    return Expansion(counts, lam_n, diag, spread, sign * (weights + weights.T) * 0.5, order)


def expansion_dimensions(expansion: Expansion, draws: np.ndarray, second_order: bool = True) -> np.ndarray:
    """Effective dimension of each replicate (rows of ``draws``: the weight of each block).

    NaN where a diagonal entry of the replicate is not positive (the caller computes those
    replicates exactly); clipped to ``[1, r]``.
    """
    e = expansion
    n = e.counts.sum()
    dw = draws - 1.0
    u = draws * e.counts
    n_rep = u.sum(axis=1)
    a = (n_rep / n)[:, None] * e.lam + dw @ e.diag - (u @ e.spread) ** 2 / n_rep[:, None]
    second = np.sum((dw @ e.weights) * dw, axis=1) if second_order else np.zeros(draws.shape[0])
    out = np.full(draws.shape[0], math.nan)
    ok = np.all(a > 0, axis=1)
    if ok.any():
        out[ok] = _trace_dimension(a[ok], second[ok], e.order)
    return np.clip(out, 1.0, e.lam.size)


def perturbative_dimensions(counts: np.ndarray, means: np.ndarray, centres: np.ndarray, grams: np.ndarray,
                            lam: np.ndarray, vecs: np.ndarray, draws: np.ndarray, order: float) -> np.ndarray:
    """Effective dimension of each block-bootstrap replicate by second-order perturbation.

    Parameters
    ----------
    counts, means, centres, grams, lam, vecs, order
        As in :func:`expand_blocks`.
    draws : numpy.ndarray
        ``(n_boot, n_blocks)`` times each block is drawn in each replicate.

    Returns
    -------
    numpy.ndarray
        One value per replicate; NaN where a diagonal entry is not positive (the caller computes
        those replicates exactly).
    """
    return expansion_dimensions(expand_blocks(counts, means, centres, grams, lam, vecs, order), draws)


def participation_ratios(counts: np.ndarray, means: np.ndarray, centres: np.ndarray, grams: np.ndarray,
                         draws: np.ndarray) -> np.ndarray:
    """Exact participation ratio ``(Σ λ)² / Σ λ²`` of each block-bootstrap replicate, with no
    eigendecomposition: ``Σ λ = tr S*`` and ``Σ λ² = ||S*||²_F``, which are quadratic in the weights.

    Parameters
    ----------
    counts, means, centres, grams, draws
        As in :func:`perturbative_dimensions`.

    Returns
    -------
    numpy.ndarray
        One value per replicate (NaN where a replicate has no variance).

    Notes
    -----
    With ``S'_b`` block ``b``'s scatter about the full-data mean ``m`` and ``δ = m* − m`` the shift
    of the replicate's mean, ``S* = A − n* δ δᵀ`` with ``A = Σ_b w_b S'_b``, so
    ``tr S* = Σ_b w_b tr S'_b − n* |δ|²`` and
    ``||S*||²_F = wᵀ K w − 2 n* Σ_b w_b δᵀ S'_b δ + n*² |δ|⁴``, ``K_bc = <S'_b, S'_c>_F``. The
    Frobenius norm is invariant under rotation, so this is exact (to rounding), unlike the
    expansion other orders need. ``S'_b`` is formed by bands of rows (the raw products are centred
    first: their Frobenius products would cancel catastrophically), never all at once.
    """
    n_blocks, d, _ = grams.shape
    n = counts.sum()
    mean = counts @ means / n
    spread, shift = means - mean, means - centres  # S'_b = G_b + n_b (s sᵀ − h hᵀ)
    u = draws * counts
    n_rep = u.sum(axis=1)
    delta = (u @ spread) / n_rep[:, None]  # (R, d): m* − m of each replicate
    trace = (np.einsum("bii->b", grams, dtype=np.float64)
             + counts * (np.einsum("bj,bj->b", spread, spread) - np.einsum("bj,bj->b", shift, shift)))
    gram_k = np.zeros((n_blocks, n_blocks))
    quad = np.zeros((n_blocks, draws.shape[0]))  # δ_iᵀ S'_b δ_i
    dtype = grams.dtype
    delta_w = delta.T.astype(dtype)  # (d, R)
    root = np.sqrt(counts)[:, None]
    # the rank-2 correction as one batched product: [√n s, √n h] [√n s, −√n h]ᵀ, (B, d, 2) @ (B, 2, d)
    left = np.stack([root * spread, root * shift], axis=2).astype(dtype)
    right = np.stack([root * spread, -root * shift], axis=1).astype(dtype)
    for r0 in range(0, d, _PANEL_ROWS):
        r1 = min(r0 + _PANEL_ROWS, d)
        band = left[:, r0:r1] @ right  # (B, h, d)
        band += grams[:, r0:r1, :]
        flat = band.reshape(n_blocks, -1)
        gram_k += flat @ flat.T
        quad += np.einsum("bhr,rh->br", band @ delta_w, delta[:, r0:r1], dtype=np.float64)
    gram_k = (gram_k + gram_k.T) * 0.5
    total = draws @ trace - n_rep * np.einsum("rj,rj->r", delta, delta)
    frob = (np.einsum("rb,bc,rc->r", draws, gram_k, draws) - 2.0 * n_rep * np.einsum("rb,br->r", draws, quad)
            + n_rep**2 * np.einsum("rj,rj->r", delta, delta) ** 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where((frob > 0) & (total > 0), total**2 / frob, math.nan)
    return np.clip(out, 1.0, d)


def check_against_exact(approx: np.ndarray, exact: dict[int, float]) -> tuple[bool, float]:
    """Whether the checked replicates agree within ``CHECK_TOLERANCE`` of the replicates' spread."""
    finite = approx[np.isfinite(approx)]
    spread = float(finite.std()) if finite.size > 1 else 0.0
    errors = [abs(approx[i] - v) for i, v in exact.items() if math.isfinite(v)]
    if not errors or not all(math.isfinite(e) for e in errors):
        return False, math.inf
    worst = max(errors)
    scale = spread if spread > 0 else abs(float(np.nanmedian(approx))) * 1e-9
    return worst <= CHECK_TOLERANCE * scale, worst / scale if scale > 0 else math.inf
