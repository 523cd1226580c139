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
result is double-centred in float64, which removes the rounding of the float32 means exactly and
makes the all-ones vector, which centring annihilates, an exact null vector rather than float32
noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurocomplex.errors import InvalidDataError
from neurocomplex.stats.covariance import _column_sums

__all__ = ["CentredGram", "centred_gram", "weighted_gram", "double_centre"]

# Values (rows × columns) centred and multiplied at a time: 4 Mi values, 16 MiB of float32.
_CHUNK_VALUES = 1 << 22


@dataclass
class CentredGram:
    """Sample-space statistics of ``X`` (``n × d``), in float64.

    ``gram`` is ``Xc Xcᵀ`` (``n × n``; with ``scale``, the Gram of ``Xc · diag(scale)``), ``cross`` is
    ``Xc Ycᵀ`` for a second array ``Y`` of the same rows (None without one), ``mean`` and
    ``variance`` (``ddof=1``, None unless asked for) are the column statistics of ``X``.
    """

    gram: np.ndarray
    cross: np.ndarray | None
    mean: np.ndarray
    variance: np.ndarray | None


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


def _sums(a: np.ndarray) -> np.ndarray:
    """float64 column sums: float32 GEMVs over blocks of rows (accurate and fast), else numpy's sum."""
    if a.dtype == np.float32:
        return _column_sums(a)
    return a.sum(axis=0, dtype=np.float64)


def _chunk(x: np.ndarray, start: int, stop: int, dtype: np.dtype,
           variances: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Columns ``start:stop`` of ``x`` centred on their means rounded to ``dtype`` (a new array), the
    float64 means and, with ``variances``, the float64 column variances (``ddof=1``)."""
    piece = np.asarray(x[:, start:stop])
    if piece.dtype.kind not in "fiub":
        raise InvalidDataError(f"columns {start}..{stop} are not numeric (dtype {piece.dtype}).")
    n = piece.shape[0]
    work = piece if piece.dtype == dtype else piece.astype(dtype)
    mean = _sums(work) / n
    centred = work - mean.astype(dtype)
    variance = None
    if variances:  # less the rounding of the mean: (Σ c² − n δ²) / (n − 1), δ the mean of c
        delta = _sums(centred) / n
        variance = (_sums(centred * centred) - n * delta**2) / max(n - 1, 1)
    return centred, mean, variance


def centred_gram(x: np.ndarray, y: np.ndarray | None = None, scale: np.ndarray | None = None,
                 variances: bool = False, chunk_values: int = _CHUNK_VALUES) -> CentredGram:
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
    variances : bool
        Also compute the column variances of ``x`` (otherwise ``variance`` is None).
    chunk_values : int
        Values (rows × columns) centred and multiplied at a time.

    Returns
    -------
    CentredGram
        ``gram`` (double-centred, symmetric), ``cross`` (double-centred, or None), the column
        ``mean`` and (with ``variances``) ``variance`` of ``x``.

    Notes
    -----
    Each chunk is centred on its mean rounded to the data's precision, so its columns keep a
    mean ``δ`` of the order of that rounding. The double centring ``P G P`` (``P = I − 11ᵀ/n``)
    removes it exactly: ``P (X − 1 m̃ᵀ) = X − 1 mᵀ`` whatever ``m̃``, so ``P G̃ P`` is the Gram
    matrix of the exactly centred data, and the all-ones vector is an exact null vector.

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
    mean = np.empty(d)
    variance = np.empty(d) if variances else None
    for start in range(0, d, width):
        stop = min(start + width, d)
        a, mean[start:stop], var = _chunk(x, start, stop, dtype, variances)
        if variance is not None:
            variance[start:stop] = np.maximum(var, 0.0)
        if scale is not None:
            a *= scale[start:stop].astype(dtype)
        gram += a @ a.T  # one SYRK in the data's precision, summed in float64
        if cross is not None:
            b = _chunk(y, start, stop, dtype, False)[0]
            cross += a @ b.T
    return CentredGram(double_centre(gram), None if cross is None else _centre_cross(cross), mean, variance)


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
