"""Statistics shared by the linear dimension estimators: block statistics, their bootstrap and
jackknife weights, and the checked eigenvalues of a covariance (or Gram) matrix with its rounding floor.

Nothing here is an estimator: :mod:`~neurocomplex.measures.dimension` and
:mod:`~neurocomplex.measures.spectrum` build on these.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from neurocomplex._validation import check_int
from neurocomplex.errors import InsufficientDataError, InvalidDataError, InvalidParameterError, NeurocomplexWarning
from neurocomplex.estimate import check_bootstrap_params
from neurocomplex.stats.covariance import CovarianceAccumulator, block_grams, covariance_from_array

# Blocks of the default block bootstrap, and the most memory their statistics may take. 64 blocks:
# the interval's coverage is the same as with 100 in simulation (benchmarks/RESULTS_dimension.md),
# the blocks are longer (more robust to slow drifts) and the expansion's per-block cost is lower.
_DEFAULT_N_BLOCKS = 64
_MIN_BLOCKS = 10
_BLOCK_MEMORY_LIMIT = 2 * 1024**3
# Groups of the default jackknife (fewer than 10 samples per unit: see plan_groups).
JACKKNIFE_GROUPS = 10
# Negative eigenvalues are rounding when above −max(_NEGATIVE_RTOL, _NEGATIVE_FACTOR · τ / λ_1) λ_1,
# τ the noise tolerance of the data's precision (_noise_tolerance); below that the matrix is not PSD.
_NEGATIVE_RTOL = 1e-6
_NEGATIVE_FACTOR = 10.0


def _check_order(order: Any) -> float:
    if isinstance(order, bool) or not isinstance(order, (int, float, np.integer, np.floating)):
        raise InvalidParameterError(f"order must be a number >= 0 or math.inf, got {order!r}.")
    value = float(order)
    if math.isnan(value) or value < 0:
        raise InvalidParameterError(f"order={order!r} must be >= 0 (1: Shannon, 2: participation ratio, inf).")
    return value


def effective_dimension_from_eigenvalues(eigenvalues: Any, order: float = 1.0) -> float:
    """Rényi effective dimension of a spectrum of non-negative eigenvalues.

    Parameters
    ----------
    eigenvalues : array-like
        Covariance eigenvalues (any order). Negative values within ``1e-6`` of the largest are
        rounding and treated as 0.
    order : float
        Rényi order: 1 (exponential of the spectral Shannon entropy), 2 (participation ratio),
        ``math.inf`` (``1 / max p``), any other value >= 0.

    Returns
    -------
    float
        ``D`` with ``1 <= D <= number of nonzero eigenvalues``.

    Raises
    ------
    InvalidParameterError
        ``order`` is negative, NaN or not a number.
    InvalidDataError
        Eigenvalues not 1-D, not finite, or clearly negative (not a covariance spectrum).
    InsufficientDataError
        All eigenvalues are zero (no variance).

    Notes
    -----
    With ``p_i = λ_i / Σ_j λ_j`` (λ = ``eigenvalues``, α = ``order``):
    ``D_1 = exp(−Σ p_i log p_i)``, ``D_α = (Σ p_i^α)^(1/(1−α))``, ``D_∞ = 1 / max_i p_i``.
    ``D_α`` is computed in log space relative to ``max p``, so large orders do not underflow.

    References
    ----------
    .. [1] R. A. Janik, P. Witaszczyk, "Complexity for deep neural networks and other
       characteristics of deep feature representations", arXiv:2006.04791 (2020); the Rényi
       family is the project's definition, after Janik & Witaszczyk (2020).

    Examples
    --------
    >>> effective_dimension_from_eigenvalues([1.0, 1.0, 1.0, 1.0], order=2)
    4.0
    >>> round(effective_dimension_from_eigenvalues([3.0, 1.0], order=2), 6)
    1.6
    """
    order = _check_order(order)
    lam = np.asarray(eigenvalues, dtype=np.float64)
    if lam.ndim != 1 or lam.size == 0:
        raise InvalidDataError(f"eigenvalues must be a non-empty 1-D array, got shape {lam.shape}.")
    if not np.all(np.isfinite(lam)):
        raise InvalidDataError("eigenvalues contain NaN or inf.")
    top = lam.max()
    if top <= 0:
        raise InsufficientDataError("all eigenvalues are zero: the data have no variance.")
    if lam.min() < -_NEGATIVE_RTOL * top:
        raise InvalidDataError(
            f"eigenvalue {lam.min():.3g} is negative (largest {top:.3g}): not a covariance spectrum."
        )
    p = lam[lam > 0] / lam[lam > 0].sum()
    k = p.size
    if order == 1.0:
        value = math.exp(float(-np.sum(p * np.log(p))))
    elif math.isinf(order):
        value = 1.0 / float(p.max())
    else:
        pmax = float(p.max())
        log_sum = order * math.log(pmax) + math.log(float(np.sum((p / pmax) ** order)))
        value = math.exp(log_sum / (1.0 - order))
    return float(min(max(value, 1.0), k))


def _noise_tolerance(top: float, n_units: int, dtype: np.dtype, gram: bool = False) -> float:
    """Eigenvalues below this are rounding: ``λ_1 m ε_64`` (float64), ``λ_1 sqrt(m) ε_32`` (float32
    covariance: its float32 products leave zero eigenvalues near 1e-7 λ_1) or ``λ_1 log2(m) ε_32``
    (float32 Gram matrix: centred chunks, measured rounding <= 0.5 ε_32 λ_1), m the matrix's size."""
    if dtype == np.float32:
        eps = float(np.finfo(np.float32).eps)
        return top * (max(1.0, math.log2(n_units)) if gram else math.sqrt(n_units)) * eps
    return top * n_units * float(np.finfo(np.float64).eps)


def denoise_eigenvalues(lam: np.ndarray, n_units: int, dtype: np.dtype,
                        gram: bool = False) -> tuple[np.ndarray, int, float]:
    """Set eigenvalues below the numerical noise floor of ``dtype`` to 0; returns (eigenvalues, rank, floor)."""
    tol = _noise_tolerance(float(lam[0]), n_units, dtype, gram)
    out = np.where(lam > tol, lam, 0.0)
    return out, int(np.count_nonzero(out)), tol


def negative_floor(top: float, n_units: int, dtype: np.dtype, gram: bool = False) -> float:
    """The most negative eigenvalue that is still rounding of a PSD matrix (a non-negative number):
    ``max(1e-6 λ_1, 10 τ)`` with ``τ`` the noise tolerance of data of ``dtype`` and ``n_units`` units.

    Examples
    --------
    >>> negative_floor(1.0, 100, np.dtype(np.float64))  # 1e-6: float64 rounding is far smaller
    1e-06
    >>> round(negative_floor(1.0, 100, np.dtype(np.float32)) / np.finfo(np.float32).eps)  # 10 sqrt(100)
    100
    """
    return max(_NEGATIVE_RTOL * top, _NEGATIVE_FACTOR * _noise_tolerance(top, n_units, dtype, gram))


def covariance_eigen(cov: Any, vectors: bool, dtype: np.dtype | None = None, n_units: int | None = None,
                     gram: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
    """Checked eigenvalues (descending, rounding negatives clipped to 0) and, if asked, eigenvectors.

    ``dtype`` is the precision of the data the matrix was accumulated from (default: the matrix's
    own) and ``n_units`` the matrix's size (default: its size); ``gram``: a centred Gram matrix.
    Together they set the rounding floor (:func:`negative_floor`) below which a negative
    eigenvalue means "not PSD".
    """
    c = np.asarray(cov)
    work = np.dtype(np.float32) if (dtype is None and c.dtype == np.float32) else np.dtype(dtype or np.float64)
    c = c.astype(np.float64, copy=False)
    if c.ndim != 2 or c.shape[0] != c.shape[1] or c.shape[0] == 0:
        raise InvalidDataError(f"a covariance matrix must be square and non-empty, got shape {c.shape}.")
    if not np.all(np.isfinite(c)):
        raise InvalidDataError("the matrix contains NaN or inf.")
    vecs = None
    if vectors:
        lam, vecs = np.linalg.eigh((c + c.T) * 0.5)
        lam, vecs = lam[::-1], vecs[:, ::-1]
    else:
        lam = np.linalg.eigvalsh((c + c.T) * 0.5)[::-1]
    check_psd(lam, c.shape[0] if n_units is None else n_units, work, gram)
    return np.clip(lam, 0.0, None), vecs


def check_psd(lam: np.ndarray, n_units: int, dtype: np.dtype, gram: bool = False) -> None:
    """Raise InvalidDataError when the smallest of ``lam`` (descending) is below the rounding floor."""
    top = max(float(lam[0]), 0.0)
    floor = negative_floor(top, n_units, dtype, gram)
    if lam[-1] < -floor or (top == 0 and lam[-1] < 0):
        raise InvalidDataError(
            f"the matrix has eigenvalue {lam[-1]:.3g} (largest {top:.3g}), below the rounding floor "
            f"{-floor:.3g} of {np.dtype(dtype).name} data: not positive semi-definite."
        )


# --------------------------------------------------------------------------- sufficient statistics
class _Blocks:
    """Count, mean and Gram matrix of consecutive blocks of samples, merged exactly on demand.

    Block ``b``'s scatter is ``grams[b] − counts[b] (m_b − c_b)(m_b − c_b)ᵀ`` (``c`` = ``centres``);
    ``total`` is the full-data scatter, in float64.
    """

    def __init__(self, counts: np.ndarray, means: np.ndarray, centres: np.ndarray, grams: np.ndarray,
                 total: np.ndarray | None = None) -> None:
        self.counts, self.means, self.centres, self.grams = counts, means, centres, grams
        self.total = self.merged(np.ones(counts.size))[1] if total is None else total

    def merged(self, weights: np.ndarray) -> tuple[float, np.ndarray]:
        """Total count and scatter of the blocks, block b taken ``weights[b]`` times (Chan et al.)."""
        w = weights * self.counts
        n = float(w.sum())
        mean = (w @ self.means) / n
        root = np.sqrt(w)[:, None]
        spread, shift = root * (self.means - mean), root * (self.means - self.centres)
        scatter = np.tensordot(weights.astype(self.grams.dtype), self.grams, axes=1).astype(np.float64)
        scatter += spread.T @ spread - shift.T @ shift
        return n, (scatter + scatter.T) * 0.5


def _read_blocks(arrays: tuple[np.ndarray, ...], block_size: int, chunk_rows: int) -> _Blocks:
    if len(arrays) == 1:
        st = block_grams(arrays[0], block_size, chunk_rows)
        return _Blocks(st.counts, st.means, st.centres, st.grams, st.total)
    n_samples = arrays[0].shape[0]
    n_cols = sum(a.shape[1] for a in arrays)
    starts = np.arange(0, n_samples, block_size)
    counts = np.minimum(starts + block_size, n_samples) - starts
    means = np.empty((starts.size, n_cols))
    scatters = np.empty((starts.size, n_cols, n_cols))
    for b, start in enumerate(starts):  # loop over blocks (about 100), never over samples
        acc = _accumulate(tuple(a[start : start + block_size] for a in arrays), chunk_rows)
        means[b], scatters[b] = acc.mean, acc.scatter
    return _Blocks(counts.astype(np.float64), means, means, scatters)


def _accumulate(arrays: tuple[np.ndarray, ...], chunk_rows: int) -> CovarianceAccumulator:
    if len(arrays) == 1:
        return covariance_from_array(arrays[0], chunk_rows)
    acc = CovarianceAccumulator(sum(a.shape[1] for a in arrays))
    for start in range(0, arrays[0].shape[0], chunk_rows):
        acc.update(np.hstack([a[start : start + chunk_rows] for a in arrays]))
    return acc


def _plan_blocks(n_samples: int, n_cols: int, block_size: int | None) -> int:
    """Block length for the bootstrap; raise when the blocks' statistics would not fit in memory."""
    per_block = n_cols * n_cols * 8
    if block_size is None:
        n_blocks = min(_DEFAULT_N_BLOCKS, n_samples, max(_MIN_BLOCKS, _BLOCK_MEMORY_LIMIT // per_block))
        block_size = -(-n_samples // n_blocks)
    n_blocks = -(-n_samples // block_size)
    if n_blocks < 2:
        raise InvalidParameterError(
            f"block_size={block_size} leaves a single block of the {n_samples} samples; the bootstrap "
            "needs several blocks: use a smaller block_size, or n_boot=0 for no interval."
        )
    if n_blocks * per_block > _BLOCK_MEMORY_LIMIT:
        raise InvalidParameterError(
            f"the bootstrap keeps one {n_cols}x{n_cols} scatter matrix per block: {n_blocks} blocks need "
            f"{n_blocks * per_block / 1024**3:.1f} GiB. Use a larger block_size or n_boot=0."
        )
    return int(block_size)


def _draws(n_blocks: int, n_boot: int, seed: int | None) -> np.ndarray:
    """Times each block is drawn in each replicate (``n_blocks`` draws with replacement)."""
    rng = np.random.default_rng(seed)
    return rng.multinomial(n_blocks, np.full(n_blocks, 1.0 / n_blocks), size=n_boot).astype(np.float64)


def plan_groups(n_samples: int, block_size: int | None) -> int:
    """Rows per jackknife group: ``n_samples // 10`` by default (at least 1). The groups are equal:
    ``n_samples // size`` of them, the remainder rows stay in every replicate (a statistic whose value
    moves with the number of samples, as D does with fewer samples than units, needs equal groups)."""
    size = max(1, n_samples // JACKKNIFE_GROUPS) if block_size is None else int(block_size)
    if n_samples // size < 2:
        raise InvalidParameterError(
            f"block_size={block_size} leaves fewer than 2 whole groups of the {n_samples} samples; the "
            "jackknife needs several: use a smaller block_size, or n_boot=0 for no interval."
        )
    return size


def jackknife_draws(n_groups: int, n_blocks: int) -> np.ndarray:
    """``(n_groups, n_blocks)`` weights of the delete-one-group replicates; blocks after the first
    ``n_groups`` (the remainder rows) keep weight 1 in every replicate.

    Examples
    --------
    >>> jackknife_draws(3, 4).tolist()
    [[0.0, 1.0, 1.0, 1.0], [1.0, 0.0, 1.0, 1.0], [1.0, 1.0, 0.0, 1.0]]
    """
    out = np.ones((n_groups, n_blocks))
    out[np.arange(n_groups), np.arange(n_groups)] = 0.0
    return out


def _warn(messages: list[str], stacklevel: int = 3) -> tuple[str, ...]:
    for msg in messages:
        warnings.warn(msg, NeurocomplexWarning, stacklevel=stacklevel)
    return tuple(messages)


def _varying(var: np.ndarray, mean: np.ndarray, n_samples: int) -> np.ndarray:
    # A constant column whose float mean rounds keeps a variance below this rounding bound.
    return var > (n_samples * float(np.finfo(np.float64).eps) * np.abs(mean)) ** 2


def _work_dtype(data: np.ndarray) -> np.dtype:
    return np.dtype(np.float32) if data.dtype == np.float32 else np.dtype(np.float64)


def _check_common(n_boot: int, seed: Any, block_size: Any, ci_level: Any, chunk_rows: Any) -> None:
    check_int("n_boot", n_boot, 0)
    check_bootstrap_params(n_boot, ci_level, block_size)
    check_int("chunk_rows", chunk_rows, 1)
    if seed is not None:
        check_int("seed", seed)



def _standardize(cov: np.ndarray, keep: np.ndarray) -> np.ndarray:
    sd = np.sqrt(np.diag(cov)[keep])
    return cov[np.ix_(keep, keep)] / np.outer(sd, sd)



def _torch_function(name: str) -> Any:
    """A function of neurocomplex._backend.accumulate, imported only when a device is asked for
    (importing neurocomplex._backend raises MissingDependencyError without torch)."""
    from neurocomplex._backend import accumulate

    return getattr(accumulate, name)


def _eigenvalues(cov: np.ndarray, device: Any, n_units: int | None = None, dtype: Any = None) -> np.ndarray:
    """Eigenvalues of a covariance matrix, descending: numpy, or torch on ``device``."""
    n_units = cov.shape[0] if n_units is None else n_units
    dtype = np.dtype(np.float64) if dtype is None else np.dtype(dtype)
    if device is None:
        return covariance_eigen(cov, False, dtype, n_units)[0]
    import torch

    if not np.all(np.isfinite(cov)):
        raise InvalidDataError("the covariance matrix contains NaN or inf.")
    dev = _torch_function("resolve_device")(device)
    lam = _torch_function("eigvalsh_torch")(torch.as_tensor(cov, dtype=torch.float64, device=dev))
    check_psd(lam, n_units, dtype)
    return np.clip(lam, 0.0, None)

