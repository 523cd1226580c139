"""The centred Gram matrix of the samples: the spectrum of wide data (more units than samples).

For ``X`` of shape ``(n, d)`` with column means ``m``, ``Xc = X − 1 mᵀ``, the ``n × n`` Gram matrix
``G = Xc Xcᵀ`` and the ``d × d`` scatter ``S = Xcᵀ Xc`` have the same nonzero eigenvalues. When
``n < d``, ``G`` costs ``n² d`` instead of ``n d²`` and its eigendecomposition ``n³`` instead of
``d³``. A bootstrap or jackknife replicate that weights sample ``i`` by ``w_i`` has scatter
``S* = Xcᵀ (W − w wᵀ / Σw) Xc`` (``W = diag(w)``; the replicate's weighted mean moves with ``w``),
whose nonzero spectrum is that of ``K(w) = M G Mᵀ`` with ``M = W^{1/2} (I − 1 wᵀ / Σw)``: a reweighting
of the rows and columns of the same ``G``, with no new pass over the data.

Columns are read in chunks; each chunk is centred on its float64 mean in the data's precision and
multiplied with one GEMM (float32 data stay float32), and the products are summed in float64. The
rounding left by centring on a float32 mean is removed exactly (a rank-2 correction), and the
result is double-centred in float64, so the direction of the all-ones vector, which centring
annihilates, is an exact null vector rather than float32 noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurocomplex.errors import InvalidDataError

__all__ = ["CentredGram", "centred_gram", "weighted_gram", "double_centre"]

# Values (rows × columns) centred and multiplied at a time: 4 Mi values, 16 MiB of float32.
_CHUNK_VALUES = 1 << 22


@dataclass
class CentredGram:
    """Sample-space statistics of ``X`` (``n × d``), in float64.

    ``gram`` is ``Xc Xcᵀ`` (``n × n``; with ``scale``, the Gram of ``Xc · diag(scale)``), ``cross`` is
    ``Xc Ycᵀ`` for a second array ``Y`` of the same rows (None without one), ``mean`` and
    ``variance`` (``ddof=1``) are the column statistics of ``X`` (and ``Y``, concatenated).
    """

    gram: np.ndarray
    cross: np.ndarray | None
    mean: np.ndarray
    variance: np.ndarray


def double_centre(g: np.ndarray) -> np.ndarray:
    """``(I − 11ᵀ/n) G (I − 11ᵀ/n)``, symmetrised, in float64 (a new array).

    Examples
    --------
    >>> g = double_centre(np.array([[2.0, 1.0], [1.0, 2.0]]))
    >>> g.tolist(), g.sum(axis=0).tolist()
    ([[0.5, -0.5], [-0.5, 0.5]], [0.0, 0.0])
    """
    g = np.asarray(g, dtype=np.float64)
    row = g.mean(axis=0)
    out = g - row[None, :] - row[:, None] + row.mean()
    return (out + out.T) * 0.5


def _chunk(x: np.ndarray, start: int, stop: int, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Columns ``start:stop`` of ``x`` centred in ``dtype`` (a new array), their float64 means and
    the float64 means of the centred values (the rounding of the float32 mean, ``δ``)."""
    piece = np.asarray(x[:, start:stop])
    if piece.dtype.kind not in "fiub":
        raise InvalidDataError(f"columns {start}..{stop} are not numeric (dtype {piece.dtype}).")
    mean = piece.sum(axis=0, dtype=np.float64) / piece.shape[0]
    centred = piece.astype(dtype, copy=True) if piece.dtype != dtype else piece.copy()
    centred -= mean.astype(dtype)
    residual = centred.sum(axis=0, dtype=np.float64) / piece.shape[0]
    return centred, mean, residual


def _product(a: np.ndarray, b: np.ndarray | None, delta_a: np.ndarray, delta_b: np.ndarray | None) -> np.ndarray:
    """``(A − 1 δ_aᵀ)(B − 1 δ_bᵀ)ᵀ`` in float64 from the float-precision product ``A Bᵀ``."""
    if b is None:
        prod = (a @ a.T).astype(np.float64)
        u = a.astype(np.float64) @ delta_a
        prod -= u[:, None] + u[None, :]
        prod += float(delta_a @ delta_a)
        return prod
    prod = (a @ b.T).astype(np.float64)
    prod -= (a.astype(np.float64) @ delta_b)[:, None]
    prod -= (b.astype(np.float64) @ delta_a)[None, :]
    prod += float(delta_a @ delta_b)
    return prod


def centred_gram(x: np.ndarray, y: np.ndarray | None = None, scale: np.ndarray | None = None,
                 chunk_values: int = _CHUNK_VALUES) -> CentredGram:
    """The centred Gram matrix of the rows of ``x`` (and their cross-Gram with ``y``), column chunk by chunk.

    Parameters
    ----------
    x : numpy.ndarray
        ``(n, d)`` data, any real dtype (float32 stays float32 in the products).
    y : numpy.ndarray, optional
        ``(n, d)`` second array of the same rows and columns (a repeat): ``cross = Xc Ycᵀ``.
    scale : numpy.ndarray, optional
        ``(d,)`` factors applied to the centred columns of ``x`` before the product (1/sd for a
        correlation spectrum; 0 leaves a column out).
    chunk_values : int
        Values (rows × columns) centred and multiplied at a time.

    Returns
    -------
    CentredGram
        ``gram`` (double-centred, symmetric), ``cross`` (double-centred, or None), and the column
        ``mean`` and ``variance`` of ``x``.

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(size=(5, 40)).astype(np.float32) + 3
    >>> st = centred_gram(x, chunk_values=60)
    >>> xc = x.astype(np.float64) - x.astype(np.float64).mean(axis=0)
    >>> bool(np.allclose(st.gram, xc @ xc.T, rtol=1e-5, atol=1e-4))
    True
    >>> lam = np.linalg.eigvalsh(st.gram)[::-1][:4]
    >>> bool(np.allclose(lam, np.linalg.eigvalsh(xc.T @ xc)[::-1][:4], rtol=1e-5))
    True
    """
    n, d = x.shape
    arrays = (x,) if y is None else (x, y)
    dtype = np.dtype(np.float32) if all(a.dtype == np.float32 for a in arrays) else np.dtype(np.float64)
    width = max(1, int(chunk_values) // max(n, 1))
    gram = np.zeros((n, n))
    cross = None if y is None else np.zeros((n, n))
    mean, variance = np.empty(d), np.empty(d)
    for start in range(0, d, width):
        stop = min(start + width, d)
        a, mean[start:stop], delta = _chunk(x, start, stop, dtype)
        variance[start:stop] = (np.einsum("ij,ij->j", a, a, dtype=np.float64) - n * delta**2) / max(n - 1, 1)
        if scale is not None:
            s = scale[start:stop]
            a *= s.astype(dtype)
            delta = delta * s
        gram += _product(a, None, delta, None)
        if y is not None:
            b, _, delta_b = _chunk(y, start, stop, dtype)
            cross += _product(a, b, delta, delta_b)
    return CentredGram(double_centre(gram), None if cross is None else _centre_cross(cross), mean,
                       np.maximum(variance, 0.0))


def _centre_cross(c: np.ndarray) -> np.ndarray:
    row, col = c.mean(axis=0), c.mean(axis=1)
    return c - row[None, :] - col[:, None] + row.mean()


def weighted_gram(g: np.ndarray, w: np.ndarray, cross: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The Gram matrix of a replicate that weights sample ``i`` by ``w_i``, on its drawn samples.

    Parameters
    ----------
    g : numpy.ndarray
        ``(n, n)`` centred Gram matrix (or cross-Gram, with ``cross=True``).
    w : numpy.ndarray
        ``(n,)`` non-negative weights (times each sample is drawn), not all zero.
    cross : bool
        ``g`` is a cross-Gram ``Xc Ycᵀ``: the same reweighting, no symmetrisation.

    Returns
    -------
    k : numpy.ndarray
        ``M G Mᵀ`` with ``M = W^{1/2} (I − 1 wᵀ/Σw)`` restricted to the samples with ``w_i > 0``;
        its nonzero eigenvalues are those of the replicate's scatter ``Xcᵀ (W − w wᵀ/Σw) Xc``.
    kept : numpy.ndarray
        Indices of the samples with ``w_i > 0``.

    Notes
    -----
    ``P = I − 1 wᵀ/Σw`` recentres the rows on the replicate's weighted mean: ``P Xc`` has rows
    ``x_i − m*``. Then ``Pᵀ W P = W − w wᵀ/Σw``, so ``(W^{1/2} P Xc)ᵀ (W^{1/2} P Xc)`` is the
    replicate's scatter and ``(W^{1/2} P Xc)(W^{1/2} P Xc)ᵀ = W^{1/2} P G Pᵀ W^{1/2}`` shares its
    nonzero spectrum. Rows of ``P G Pᵀ`` with ``w_i = 0`` are multiplied by 0 and dropped.

    Examples
    --------
    >>> x = np.random.default_rng(1).normal(size=(6, 20))
    >>> xc = x - x.mean(axis=0)
    >>> w = np.array([2.0, 0.0, 1.0, 1.0, 0.0, 2.0])
    >>> k, kept = weighted_gram(xc @ xc.T, w)
    >>> m = w @ x / w.sum()
    >>> scatter = (x - m).T @ ((x - m) * w[:, None])
    >>> bool(np.allclose(np.linalg.eigvalsh(k)[::-1][:3], np.linalg.eigvalsh(scatter)[::-1][:3]))
    True
    """
    kept = np.flatnonzero(w > 0)
    wk = w[kept].astype(np.float64)
    sub = g[np.ix_(kept, kept)]
    total = wk.sum()
    left = sub @ wk / total  # G P^T's correction: (G w)/Σw on the kept samples
    right = wk @ sub / total
    centre = float(wk @ sub @ wk) / total**2
    k = sub - left[:, None] - right[None, :] + centre
    root = np.sqrt(wk)
    k = root[:, None] * k * root[None, :]
    if not cross:
        k = (k + k.T) * 0.5
    return k, kept
