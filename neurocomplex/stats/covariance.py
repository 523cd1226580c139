"""Mergeable first- and second-order statistics (mean and covariance) accumulated chunk by chunk.

Each chunk's scatter matrix is computed with one GEMM in the chunk's dtype (float32 stays
float32: fast) and accumulated in float64; chunks and workers are combined with the pairwise update
of Chan, Golub & LeVeque (1979), which is exact and stable. A float64 chunk is centred on its own
mean first. A float32 chunk whose columns all have mean² <= 4 × variance is not copied: its
scatter is ``XᵀX − n·m·mᵀ`` with float64-accurate means, which costs at most a factor 5 of float32
rounding; any other float32 chunk is centred first, so data with large means stay exact (far
from zero, where the float32 mean itself is off by as much as the spread, the mean is then the
centre plus the mean of the centred rows). At most one chunk is
ever copied. An integer chunk (spike counts) is multiplied in float32 where that is exact (every
column's sum of squares below 2**24) and its scatter formed from the exact integer sums with one
rounding; larger integers go the float64 way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from neurocomplex._memory import check_allocation
from neurocomplex._validation import check_int
from neurocomplex.errors import InsufficientDataError, InvalidDataError, InvalidParameterError

__all__ = ["CovarianceAccumulator", "covariance_from_array", "BlockGrams", "block_grams", "projected_block_grams",
           "integer_magnitude", "small_integers", "float32_in_range"]

DEFAULT_CHUNK_ROWS = 16384
# Up to this many columns, the blocks of a chunk are multiplied in one batched call (the per-call
# overhead of many small SYRKs exceeds the batched GEMM's extra flops).
_BATCHED_COLUMNS = 128
# ... and block_grams batches blocks of at most this many cells: above, a block's product outweighs
# the per-block calls and the batched GEMM's twice the flops of a SYRK would cost more than it saves.
_BATCHED_BLOCK_CELLS = 1 << 14
# Float32 column sums are taken over blocks of this many rows (float32 GEMV, error ~ eps*sqrt(rows))
# and the block sums added in float64: accurate without a float64 pass over the data.
_SUM_ROWS = 1024
_FAST_MEAN_RATIO = 4.0  # rounding at most (1 + 4) times that of the centred product
_CENTRED_MEAN_RATIO = 1024.0  # centred float32 rows: the mean's error matters beyond (_far_from_zero)
_OUTER_ROWS = 64  # rows of a rank-1 update done at a time
_GROUP = 8  # block Grams summed in their own precision this many at a time (see block_grams)
_FLOAT32_LOW, _FLOAT32_HIGH = 2.0**-48, 2.0**48  # float32 data multiplied in float32 (float32_in_range)


def float32_in_range(x: Any) -> Any:
    """``x``, or a float64 copy of it where ``x`` is an in-memory float32 array whose largest
    magnitude is outside ``[2**-48, 2**48]``: beyond it float32 squares (summed over up to 10^9
    rows) overflow to inf, or fall below float32's normal range and lose their digits.

    Examples
    --------
    >>> float32_in_range(np.array([[1e19]], dtype=np.float32)).dtype, float32_in_range(np.ones((1, 1), np.float32)).dtype
    (dtype('float64'), dtype('float32'))
    """
    if not isinstance(x, np.ndarray) or x.dtype != np.float32 or x.size == 0:
        return x
    top = max(float(x.max()), -float(x.min()))
    if top == 0.0 or _FLOAT32_LOW <= top <= _FLOAT32_HIGH or not np.isfinite(top):
        return x
    return x.astype(np.float64)


def _column_sums(x: np.ndarray) -> np.ndarray:
    """float64 column sums of a float32 matrix, from float32 GEMVs over blocks of rows."""
    n, d = x.shape
    full = n - n % _SUM_ROWS
    sums = np.zeros(d)
    if full:
        blocks = x[:full].reshape(-1, _SUM_ROWS, d)
        sums += (np.ones(_SUM_ROWS, dtype=x.dtype) @ blocks).sum(axis=0, dtype=np.float64)
    if full < n:  # the remainder (< _SUM_ROWS rows) by one more GEMV, as accurate as the blocks
        sums += np.ones(n - full, dtype=x.dtype) @ x[full:]
    return sums


def integer_magnitude(x: np.ndarray) -> int:
    """The largest absolute value of integer (or boolean) rows, which bounds their products."""
    top = int(x.max())
    return max(top, -int(x.min())) if x.dtype.kind == "i" else top


def small_integers(x: np.ndarray) -> bool:
    """Whether ``x`` holds integers (or booleans) small enough for every partial sum of ``XᵀX`` to
    be an integer below 2**24 (``max|x|² · rows < 2**24``): a float32 product of them is exact."""
    return x.dtype.kind in "biu" and x.shape[0] > 0 and integer_magnitude(x) ** 2 * x.shape[0] < 2**24


def _exact_scatter(x: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Column sums and centred scatter of integer (or boolean) rows from a float32 product, or None
    where it may not be exact.

    The product is exact when every column's ``Σ x²`` is below 2**24: by Cauchy–Schwarz every
    partial sum of ``XᵀX`` is then an integer of magnitude below 2**24, and so is every partial sum
    of the column sums (``|x| <= x²`` for integers); a float32 diagonal below 2**24 is exact and
    says so (sums of non-negative integers round up past 2**24, never below). The scatter is then
    ``(n XᵀX − s sᵀ) / n`` in float64, whose numerator is an exact integer below 2**53: a single
    rounding. Twice as fast as the centred float64 product, and more accurate."""
    n = x.shape[0]
    xf = x.astype(np.float32)
    gram = xf.T @ xf
    if not float(np.diagonal(gram).max()) < 2**24:
        return None
    sums = (np.ones(n, dtype=np.float32) @ xf).astype(np.float64)
    scatter = gram.astype(np.float64)
    scatter *= n
    scatter -= np.multiply.outer(sums, sums)
    scatter /= n
    return sums, scatter


def _add_outer(a: np.ndarray, alpha: float, x: np.ndarray) -> None:
    """``a += alpha x xᵀ`` in place, by bands of rows: no ``d × d`` temporary. (numpy rather than
    scipy's BLAS ``dger``: loading a second OpenBLAS leaves its idle threads spinning.)"""
    scaled = alpha * x
    for start in range(0, a.shape[0], _OUTER_ROWS):
        a[start : start + _OUTER_ROWS] += np.multiply.outer(scaled[start : start + _OUTER_ROWS], x)


class CovarianceAccumulator:
    """Running count, mean and centred scatter matrix of ``n_units`` variables.

    Parameters
    ----------
    n_units : int
        Number of columns.

    Attributes
    ----------
    n_samples : int
    mean : numpy.ndarray, float64, shape ``(n_units,)``
    scatter : numpy.ndarray, float64, shape ``(n_units, n_units)``
        ``sum_t (x_t - mean)(x_t - mean)^T``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(1000, 3))
    >>> a, b = CovarianceAccumulator(3), CovarianceAccumulator(3)
    >>> a.update(x[:400]); b.update(x[400:])
    >>> bool(np.allclose(a.merge(b).covariance(), np.cov(x, rowvar=False)))
    True
    """

    def __init__(self, n_units: int) -> None:
        self.n_units = check_int("n_units", n_units, 1)
        check_allocation(8.0 * float(self.n_units) ** 2,
                         f"the {self.n_units} x {self.n_units} float64 scatter matrix",
                         "use fewer units, or, with fewer samples than units, the estimators' n x n Gram route "
                         "(nc.effective_dimension on the Recording; nc.torch.summarize(..., sketch=k) for layers)")
        self.n_samples = 0
        self.mean = np.zeros(self.n_units)
        self.scatter = np.zeros((self.n_units, self.n_units))
        self._centre = False  # a float32 chunk failed the raw product's check: centre the rest directly
        self._large_integers = False  # an integer chunk too large for an exact float32 product: float64

    def _combine(self, n_b: int, mean_b: np.ndarray, scatter_b: np.ndarray, shift: np.ndarray | None = None) -> None:
        """Add a block's statistics; with ``shift``, ``scatter_b`` is the block's product about
        ``mean_b − shift`` (the raw Gram ``XᵀX`` for ``shift = mean_b``), not about its mean."""
        n_a = self.n_samples
        n = n_a + n_b
        if n_b == 0:
            return
        delta = mean_b - self.mean
        np.add(self.scatter, scatter_b, out=self.scatter)  # float32 Gram cast on the fly, no copy
        if shift is not None:
            _add_outer(self.scatter, -float(n_b), shift)
        if n_a:
            _add_outer(self.scatter, n_a * n_b / n, delta)
        self.mean = self.mean + delta * (n_b / n)
        self.n_samples = n

    def update(self, chunk: np.ndarray) -> None:
        """Add the rows of ``chunk`` (shape ``(n_rows, n_units)``; any real dtype)."""
        x = np.asarray(chunk)
        if x.ndim != 2 or x.shape[1] != self.n_units:
            raise InvalidDataError(f"chunk has shape {x.shape}, expected (n, {self.n_units}).")
        if x.shape[0] == 0:
            return
        if x.dtype.kind in "biu" and not self._large_integers:
            exact = _exact_scatter(x)  # spike counts: an exact float32 product, one rounding in the scatter
            if exact is not None:
                self._combine(x.shape[0], exact[0] / x.shape[0], exact[1])
                return
            self._large_integers = True  # no more float32 products wasted on this data
        work = x if x.dtype in (np.float32, np.float64) else x.astype(np.float64)
        n_b = x.shape[0]
        if work.dtype == np.float32 and not self._centre:
            # Fast path: one SYRK on the raw chunk and accurate column sums, then XᵀX − n·m·mᵀ.
            # Its rounding error is that of the centred product inflated by (1 + mean²/variance),
            # so it is kept only when every column's mean² <= _FAST_MEAN_RATIO × variance (checked
            # exactly after the product; the variance so far, or the chunk's first rows, screen
            # out chunks that would fail, so those do not pay for a wasted product); otherwise the
            # chunk is centred first.
            mean_b = _column_sums(work) / n_b
            if self.n_samples > 1:
                screen = np.diagonal(self.scatter) / self.n_samples
            else:
                head = work[: min(n_b, _SUM_ROWS)] - mean_b.astype(work.dtype)  # a screen: float32 is enough
                screen = np.einsum("ij,ij->j", head, head) / head.shape[0]
            if np.all(mean_b**2 <= 2 * _FAST_MEAN_RATIO * screen):
                gram = work.T @ work
                variance = np.diagonal(gram) / n_b - mean_b**2
                if np.all(mean_b**2 <= _FAST_MEAN_RATIO * variance):
                    self._combine(n_b, mean_b, gram, shift=mean_b)
                    return
                self._centre = True  # the screen passed but the check did not: no more wasted products
        elif work.dtype == np.float32:
            mean_b = _column_sums(work) / n_b
        else:
            mean_b = work.mean(axis=0, dtype=np.float64)
        centre = mean_b.astype(work.dtype)
        centred = work - centre
        gram = centred.T @ centred  # one GEMM (SYRK) in the chunk's precision
        if work.dtype == np.float32 and _far_from_zero(mean_b, gram, n_b):
            residual = _column_sums(centred) / n_b
            self._combine(n_b, centre + residual, gram, shift=residual)
            return
        self._combine(n_b, mean_b, gram)

    def merge(self, other: CovarianceAccumulator) -> CovarianceAccumulator:
        """A new accumulator holding both sets of rows."""
        if other.n_units != self.n_units:
            raise InvalidParameterError(f"cannot merge statistics of {self.n_units} and {other.n_units} units.")
        out = CovarianceAccumulator(self.n_units)
        out.n_samples, out.mean, out.scatter = self.n_samples, self.mean.copy(), self.scatter.copy()
        out._combine(other.n_samples, other.mean, other.scatter)
        return out

    def covariance(self, ddof: int = 1) -> np.ndarray:
        """Covariance matrix (float64), ``scatter / (n_samples - ddof)``."""
        if self.n_samples <= ddof:
            raise InsufficientDataError(
                f"a covariance needs more than {ddof} samples; {self.n_samples} were accumulated."
            )
        return self.scatter / (self.n_samples - ddof)

    def to_dict(self) -> dict[str, Any]:
        """Plain arrays (for saving or sending to another process)."""
        return {"n_units": self.n_units, "n_samples": self.n_samples, "mean": self.mean, "scatter": self.scatter}

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> CovarianceAccumulator:
        """Rebuild an accumulator from :meth:`to_dict` output (or a torch/dask partial result)."""
        out = cls(int(state["n_units"]))
        out.n_samples = int(state["n_samples"])
        out.mean = np.asarray(state["mean"], dtype=np.float64).copy()
        out.scatter = np.asarray(state["scatter"], dtype=np.float64).copy()
        return out

    def __repr__(self) -> str:
        return f"CovarianceAccumulator(n_units={self.n_units}, n_samples={self.n_samples})"


def covariance_from_array(x: np.ndarray, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> CovarianceAccumulator:
    """Accumulate the covariance of a 2-D array (numpy, h5py dataset, memmap) chunk by chunk."""
    acc = CovarianceAccumulator(x.shape[1])
    for start in range(0, x.shape[0], chunk_rows):
        acc.update(x[start : start + chunk_rows])
    return acc


@dataclass
class BlockGrams:
    """Count, mean and Gram matrix of consecutive blocks of rows, about a per-block centre.

    Block ``b`` holds ``grams[b] = Σ_t (x_t − c_b)(x_t − c_b)ᵀ`` over its rows, with ``c_b =
    centres[b]`` (0 when the raw float32 product was accurate enough, the block's rounded mean
    otherwise), so its centred scatter is ``grams[b] − counts[b] (m_b − c_b)(m_b − c_b)ᵀ``.
    ``grams`` keeps the data's precision (float32 for float32 data); ``total`` is the centred
    scatter of all rows, accumulated in float64.
    """

    counts: np.ndarray
    means: np.ndarray
    centres: np.ndarray
    grams: np.ndarray
    total: np.ndarray


def block_grams(x: Any, block_size: int, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> BlockGrams:
    """Per-block statistics of a 2-D array in one pass: one SYRK per block, no copy of the data.

    Float32 blocks whose columns have mean² <= 4 × variance keep the raw product ``XᵀX`` (as
    :meth:`CovarianceAccumulator.update` does); blocks of integers keep the centred scatter that
    :meth:`CovarianceAccumulator.update` accumulates (exact float32 products where they are exact);
    other blocks, and all float64 data, are centred on their mean first. After the first block that needs
    centring, later blocks are centred directly rather than multiplied twice. Blocks longer than
    ``chunk_rows`` are read in pieces. Small whole blocks of in-memory float data (at most
    ``_BATCHED_COLUMNS`` columns and ``_BATCHED_BLOCK_CELLS`` cells) are taken by batched calls
    (:func:`_batched_blocks`).

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(size=(100, 3)).astype(np.float32) + 1
    >>> st = block_grams(x, 30)
    >>> st.counts.tolist(), st.grams.dtype
    ([30.0, 30.0, 30.0, 10.0], dtype('float32'))
    >>> bool(np.allclose(st.total / 99, np.cov(x.astype(np.float64), rowvar=False), rtol=1e-5, atol=1e-6))  # float32
    True
    """
    n_samples, d = x.shape
    starts = np.arange(0, n_samples, block_size)
    n_blocks = starts.size
    dtype = np.float32 if x.dtype == np.float32 else np.float64
    counts = (np.minimum(starts + block_size, n_samples) - starts).astype(np.float64)
    means = np.empty((n_blocks, d))
    centres = np.zeros((n_blocks, d))
    grams = np.empty((n_blocks, d, d), dtype=dtype)
    total = np.zeros((d, d))
    partial = np.zeros((d, d), dtype=dtype)
    centre_all = dtype == np.float64
    large = False
    first = 0
    if isinstance(x, np.ndarray) and x.dtype in (np.float32, np.float64) and d <= _BATCHED_COLUMNS \
            and block_size * d <= _BATCHED_BLOCK_CELLS and block_size <= chunk_rows:
        first = _batched_blocks(x, block_size, chunk_rows, means, centres, grams, total)
    for b in range(first, n_blocks):  # loop over blocks (about 100), never over samples
        start = int(starts[b])
        stop = start + int(counts[b])
        pieces = [np.asarray(x[i : min(i + chunk_rows, stop)]) for i in range(start, stop, chunk_rows)]
        if any(p.dtype.kind not in "fiub" for p in pieces):
            raise InvalidDataError(f"rows {start}..{stop} are not numeric (dtype {pieces[0].dtype}).")
        if pieces[0].dtype.kind in "biu":  # counts: the accumulator's exact float32 products where they are exact
            acc = CovarianceAccumulator(d)
            acc._large_integers = large  # a block too large for them: float64 for the next ones too
            for p in pieces:
                acc.update(p)
            large = acc._large_integers
            means[b] = centres[b] = acc.mean
            grams[b] = acc.scatter
        else:
            pieces = [p if p.dtype == dtype else p.astype(dtype) for p in pieces]
            sums = sum(_column_sums(p) if dtype == np.float32 else p.sum(axis=0, dtype=np.float64) for p in pieces)
            means[b] = sums / counts[b]
            raw = not centre_all
            if raw:
                _block_product(pieces, None, grams[b])
                variance = np.diagonal(grams[b]).astype(np.float64) / counts[b] - means[b] ** 2
                raw = bool(np.all(means[b] ** 2 <= _FAST_MEAN_RATIO * variance))
                centre_all = not raw
            if not raw:
                centre = means[b].astype(dtype)
                centres[b] = centre
                _block_product(pieces, centre, grams[b])
                if dtype == np.float32 and _far_from_zero(means[b], grams[b], counts[b]):
                    residual = sum(_column_sums(p - centre) for p in pieces)  # as CovarianceAccumulator.update
                    means[b] = centres[b] + residual / counts[b]
        # partial sums of _GROUP blocks in the data's precision (float32: rounding <= _GROUP eps, below
        # the SYRK's own) added to the float64 total once per group: a mixed-type add per block costs
        # 4 % of the pass
        if b % _GROUP == 0:
            partial[...] = grams[b]
        else:
            partial += grams[b]
        if b % _GROUP == _GROUP - 1 or b == n_blocks - 1:
            np.add(total, partial, out=total)
    # total = Σ grams − Σ n_b (m_b − c_b)(m_b − c_b)ᵀ + Σ n_b (m_b − m)(m_b − m)ᵀ (Chan et al.)
    mean = counts @ means / n_samples
    root = np.sqrt(counts)[:, None]
    shift, spread = root * (means - centres), root * (means - mean)
    total += spread.T @ spread - shift.T @ shift
    return BlockGrams(counts, means, centres, grams, (total + total.T) * 0.5)


def _batched_blocks(x: np.ndarray, block_size: int, chunk_rows: int, means: np.ndarray, centres: np.ndarray,
                    grams: np.ndarray, total: np.ndarray) -> int:
    """:func:`block_grams` of the whole blocks of float data with few columns, each statistic one
    batched call for the blocks of a chunk of rows (per block, a handful of numpy calls cost more
    than the products); fills the arrays' first rows, adds the blocks' products to ``total``,
    returns how many blocks. Temporaries are of one chunk.

    Float32 blocks keep their raw product where it passes :func:`block_grams`' check and are
    centred otherwise (each block on its own: the check is per block); float64 blocks are centred."""
    n_samples, d = x.shape
    whole = n_samples // block_size
    step = max(1, chunk_rows // block_size)
    for b0 in range(0, whole, step):
        b1 = min(whole, b0 + step)
        xb = x[b0 * block_size : b1 * block_size].reshape(b1 - b0, block_size, d)
        m = xb.sum(axis=1, dtype=np.float64) / block_size
        means[b0:b1] = m
        g = grams[b0:b1]
        raw = np.zeros(b1 - b0, dtype=bool)
        if x.dtype == np.float32:
            np.matmul(xb.transpose(0, 2, 1), xb, out=g)
            variance = np.einsum("bii->bi", g).astype(np.float64) / block_size - m**2
            raw = np.all(m**2 <= _FAST_MEAN_RATIO * variance, axis=1)
        redo = np.flatnonzero(~raw)
        if redo.size:
            c = m[redo].astype(x.dtype)
            centres[b0 + redo] = c
            centred = xb[redo] - c[:, None, :]
            g[redo] = np.matmul(centred.transpose(0, 2, 1), centred)
        total += g.sum(axis=0, dtype=np.float64)
    return whole


def _block_product(pieces: list[np.ndarray], centre: np.ndarray | None, out: np.ndarray) -> None:
    """``Σ (x − centre)ᵀ(x − centre)`` over the pieces of a block, written into ``out``."""
    for i, piece in enumerate(pieces):
        work = piece if centre is None else piece - centre
        if i == 0:
            np.matmul(work.T, work, out=out)
        else:
            out += work.T @ work


def _far_from_zero(mean: np.ndarray, gram: np.ndarray, rows: float) -> bool:
    """Whether float32 rows centred on their rounded float32-summed ``mean`` (``gram`` their product)
    need the mean of the centred rows for an accurate mean: when some column's mean² exceeds
    ``_CENTRED_MEAN_RATIO`` times its spread. The float32 sums are off by up to about
    ``1024 eps |mean|`` (blocks of 1,024 rows), which can be the spread itself (a mean of 10^6, a
    spread of 1); below the ratio that error moves the scatter by less than the product's own
    float32 rounding (at most ``(1024 eps · 32)² ≈ 4e-6`` of it)."""
    spread = np.diagonal(gram).astype(np.float64) / rows
    return not bool(np.all(mean**2 <= _CENTRED_MEAN_RATIO * spread))


def projected_block_grams(x: Any, mean: np.ndarray, basis: np.ndarray, block_size: int,
                          chunk_rows: int = DEFAULT_CHUNK_ROWS) -> BlockGrams:
    """Per-block statistics of the data centred on ``mean`` and projected on ``basis`` (``d × r``).

    Block ``b``'s Gram matrix is ``Y_bᵀ Y_b`` with ``Y = (X − mean) basis`` (centres 0: every block
    is about the full-data mean). One GEMM per chunk of rows and one SYRK per block (a batched
    product for few columns); ``total`` is left to the caller (``basis`` is usually the
    eigenbasis, where it is the diagonal of the eigenvalues) and returned as zeros.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(90, 4)).astype(np.float32)
    >>> basis = np.linalg.qr(rng.normal(size=(4, 4)))[0]
    >>> st = projected_block_grams(x, x.mean(axis=0, dtype=np.float64), basis, 30, chunk_rows=45)
    >>> y = (x.astype(np.float64) - x.mean(axis=0)) @ basis
    >>> bool(np.allclose(st.grams[1], y[30:60].T @ y[30:60], atol=1e-4)), st.counts.tolist()
    (True, [30.0, 30.0, 30.0])
    """
    n_samples = x.shape[0]
    r = basis.shape[1]
    dtype = np.float32 if x.dtype == np.float32 else np.float64
    v = np.ascontiguousarray(basis, dtype=dtype)
    centre = np.asarray(mean).astype(dtype)
    # a float32 centre is the mean rounded (by up to half a unit of the mean's magnitude, which for
    # data far from 0 can be the spread itself): the rows are centred on it exactly, then moved by
    # the rounding's projection, so that every block is about the mean itself
    correction = ((np.asarray(mean, dtype=np.float64) - centre) @ basis).astype(dtype)
    centre = (centre, correction if np.any(correction) else None)
    starts = np.arange(0, n_samples, block_size)
    n_blocks = starts.size
    counts = (np.minimum(starts + block_size, n_samples) - starts).astype(np.float64)
    sums = np.zeros((n_blocks, r))
    grams = np.empty((n_blocks, r, r), dtype=dtype)
    if block_size > chunk_rows:  # long blocks, read in pieces
        for b, start in enumerate(starts):
            stop = int(start + counts[b])
            for i in range(int(start), stop, chunk_rows):
                y = _projected(x, i, min(i + chunk_rows, stop), centre, v)
                sums[b] += y.sum(axis=0, dtype=np.float64)
                if i == start:
                    np.matmul(y.T, y, out=grams[b])  # SYRK: y.T and y share a buffer
                else:
                    grams[b] += y.T @ y
    else:  # whole blocks per chunk: one projection serves all of them
        per_chunk = chunk_rows // block_size
        for b0 in range(0, n_blocks, per_chunk):
            b1 = min(b0 + per_chunk, n_blocks)
            start = int(starts[b0])
            y = _projected(x, start, int(starts[b1 - 1] + counts[b1 - 1]), centre, v)
            whole = (b1 - b0) if counts[b1 - 1] == block_size else (b1 - b0 - 1)
            done = 0
            if whole and r <= _BATCHED_COLUMNS:  # many small products: one batched call
                yb = y[: whole * block_size].reshape(whole, block_size, r)
                np.matmul(yb.transpose(0, 2, 1), yb, out=grams[b0 : b0 + whole])
                sums[b0 : b0 + whole] = yb.sum(axis=1, dtype=np.float64)
                done = whole
            for b in range(b0 + done, b1):
                rows = y[int(starts[b]) - start : int(starts[b] + counts[b]) - start]
                np.matmul(rows.T, rows, out=grams[b])
                sums[b] = rows.sum(axis=0, dtype=np.float64)
    return BlockGrams(counts, sums / counts[:, None], np.zeros((n_blocks, r)), grams, np.zeros((r, r)))


def _projected(x: Any, start: int, stop: int, centre: tuple[np.ndarray, np.ndarray | None],
               basis: np.ndarray) -> np.ndarray:
    """``(x − c) basis − correction`` for rows ``start:stop``, ``centre = (c, correction)``."""
    piece = np.asarray(x[start:stop])
    if piece.dtype.kind not in "fiub":
        raise InvalidDataError(f"rows {start}..{stop} are not numeric (dtype {piece.dtype}).")
    c, correction = centre
    y = (piece.astype(c.dtype, copy=False) - c) @ basis
    if correction is not None:
        y -= correction
    return y
