"""Dimension of a population's activity: effective dimension and participation ratio.

The other estimators of the family live beside it: :mod:`~neurocomplex.measures.spectrum`
(spectrum exponent, which uses this module's accumulation) and :mod:`~neurocomplex.measures.twonn`.

The linear measures (effective dimension, participation ratio, spectrum exponent) need only the
covariance of X, accumulated chunk by chunk by :class:`~neurocomplex.stats.CovarianceAccumulator`
(one GEMM per chunk in the data's own precision, float64 accumulation, no copy of the whole
matrix). Their confidence intervals come from a block bootstrap on per-block sufficient
statistics (count, mean, scatter), merged exactly for each replicate, so the data are read once
whatever ``n_boot`` is. TwoNN works on the points themselves (nearest neighbours).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from neurocomplex._checks import check_recording
from neurocomplex._validation import check_int
from neurocomplex.errors import (
    InsufficientDataError,
    InvalidDataError,
    InvalidParameterError,
    NeurocomplexWarning,
)
from neurocomplex.estimate import (
    Estimate,
    check_bootstrap_params,
    interval_report,
    register_estimator,
)
from neurocomplex.recording import Recording
from neurocomplex.stats.covariance import DEFAULT_CHUNK_ROWS, CovarianceAccumulator, block_grams, covariance_from_array

__all__ = [
    "effective_dimension",
    "effective_dimension_from_blocks",
    "participation_ratio",
    "effective_dimension_from_eigenvalues",
    "eigenvalues_from_covariance",
]

# Blocks of the default block bootstrap, and the most memory their statistics may take. 64 blocks:
# the interval's coverage is the same as with 100 in simulation (benchmarks/RESULTS_dimension.md),
# the blocks are longer (more robust to slow drifts) and the expansion's per-block cost is lower.
_DEFAULT_N_BLOCKS = 64
_MIN_BLOCKS = 10
_BLOCK_MEMORY_LIMIT = 2 * 1024**3
# Negative eigenvalues smaller than this fraction of the largest are rounding, clipped to 0.
_NEGATIVE_RTOL = 1e-6


# --------------------------------------------------------------------------- pure functions
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


def eigenvalues_from_covariance(cov: Any) -> np.ndarray:
    """Eigenvalues of a symmetric covariance matrix, descending, tiny negatives clipped to 0.

    Parameters
    ----------
    cov : array-like
        Square, finite, symmetric (up to rounding) positive semi-definite matrix.

    Returns
    -------
    numpy.ndarray
        float64 eigenvalues, largest first.

    Raises
    ------
    InvalidDataError
        Not square, not finite, or an eigenvalue more negative than ``1e-6`` of the largest.

    Notes
    -----
    The matrix is symmetrised, ``(C + C^T) / 2``, before :func:`numpy.linalg.eigvalsh`.

    Examples
    --------
    >>> eigenvalues_from_covariance(np.diag([1.0, 3.0, 2.0]))
    array([3., 2., 1.])
    """
    return _covariance_eigen(cov, vectors=False)[0]


def _covariance_eigen(cov: Any, vectors: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """Checked eigenvalues (descending, tiny negatives clipped to 0) and, if asked, eigenvectors (columns)."""
    c = np.asarray(cov, dtype=np.float64)
    if c.ndim != 2 or c.shape[0] != c.shape[1] or c.shape[0] == 0:
        raise InvalidDataError(f"a covariance matrix must be square and non-empty, got shape {c.shape}.")
    if not np.all(np.isfinite(c)):
        raise InvalidDataError("the covariance matrix contains NaN or inf.")
    vecs = None
    if vectors:
        lam, vecs = np.linalg.eigh((c + c.T) * 0.5)
        lam, vecs = lam[::-1], vecs[:, ::-1]
    else:
        lam = np.linalg.eigvalsh((c + c.T) * 0.5)[::-1]
    top = max(float(lam[0]), 0.0)
    if lam[-1] < -_NEGATIVE_RTOL * top or (top == 0 and lam[-1] < 0):
        raise InvalidDataError(
            f"the matrix has eigenvalue {lam[-1]:.3g} (largest {top:.3g}): not positive semi-definite."
        )
    return np.clip(lam, 0.0, None), vecs


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


def _replicate_scatters(blocks: _Blocks, n_boot: int, seed: int | None) -> Any:
    """Yield (n, scatter) of each block-bootstrap replicate (blocks drawn with replacement)."""
    for weights in _draws(blocks.counts.size, n_boot, seed):
        yield blocks.merged(weights)


def _noise_tolerance(top: float, n_units: int, dtype: np.dtype) -> float:
    # float32 GEMM rounding leaves eigenvalues near 1e-8 of the largest; float64 near 1e-15.
    if dtype == np.float32:
        return top * math.sqrt(n_units) * float(np.finfo(np.float32).eps)
    return top * n_units * float(np.finfo(np.float64).eps)


def denoise_eigenvalues(lam: np.ndarray, n_units: int, dtype: np.dtype) -> tuple[np.ndarray, int, float]:
    """Set eigenvalues below the numerical noise floor of ``dtype`` to 0; returns (eigenvalues, rank, floor)."""
    tol = _noise_tolerance(float(lam[0]), n_units, dtype)
    out = np.where(lam > tol, lam, 0.0)
    return out, int(np.count_nonzero(out)), tol


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


# --------------------------------------------------------------------------- effective dimension
def _standardize(cov: np.ndarray, keep: np.ndarray) -> np.ndarray:
    sd = np.sqrt(np.diag(cov)[keep])
    return cov[np.ix_(keep, keep)] / np.outer(sd, sd)


def _method_name(order: float) -> str:
    names = {1.0: "exp_spectral_entropy", 2.0: "participation_ratio", math.inf: "inverse_max_eigenvalue_fraction"}
    return names.get(order, f"renyi_spectral_{order:g}")


def _check_standardize(standardize: Any) -> bool:
    if not isinstance(standardize, (bool, np.bool_)):
        raise InvalidParameterError(f"standardize must be True or False, got {standardize!r}.")
    return bool(standardize)


def _effective_dimension(rec: Recording, order: float, standardize: bool, n_boot: int, seed: Any,
                         block_size: Any, ci_level: float, chunk_rows: int, device: Any = None) -> Estimate:
    check_recording(rec)
    order = _check_order(order)
    standardize = _check_standardize(standardize)
    _check_common(n_boot, seed, block_size, ci_level, chunk_rows)
    data, n_units = rec.data, rec.n_units
    blocks: Any = None
    if device is not None:
        block_grams_torch = _torch_function("block_covariances_torch")
        block_size = _plan_blocks(rec.n_samples, n_units, block_size) if n_boot > 0 else None
        stats = block_grams_torch(data, device, block_size, chunk_rows)
        cov, mean = stats["total"].cpu().numpy() / (rec.n_samples - 1.0), stats["mean"]
        blocks = stats if n_boot > 0 else None
    elif n_boot > 0:
        block_size = _plan_blocks(rec.n_samples, n_units, block_size)
        blocks = _read_blocks((data,), block_size, chunk_rows)
        n = float(blocks.counts.sum())
        cov, mean = blocks.total / (n - 1.0), blocks.counts @ blocks.means / n
    else:
        acc = covariance_from_array(data, chunk_rows)
        cov, mean = acc.covariance(), acc.mean
    params = {"order": order, "standardize": standardize, "n_boot": n_boot, "seed": seed,
              "block_size": block_size, "ci_level": ci_level, "chunk_rows": chunk_rows,
              "device": None if device is None else str(device)}
    return _dimension_estimate(cov, mean, blocks, rec.n_samples, rec.unit_ids, _work_dtype(data), order,
                               standardize, n_boot, seed, ci_level, params, device=device)


def _torch_function(name: str) -> Any:
    """A function of neurocomplex._backend.accumulate, imported only when a device is asked for
    (importing neurocomplex._backend raises MissingDependencyError without torch)."""
    from neurocomplex._backend import accumulate

    return getattr(accumulate, name)


def _eigenvalues(cov: np.ndarray, device: Any) -> np.ndarray:
    """Eigenvalues of a covariance matrix, descending: numpy, or torch on ``device``."""
    if device is None:
        return eigenvalues_from_covariance(cov)
    import torch

    if not np.all(np.isfinite(cov)):
        raise InvalidDataError("the covariance matrix contains NaN or inf.")
    dev = _torch_function("resolve_device")(device)
    lam = _torch_function("eigvalsh_torch")(torch.as_tensor(cov, dtype=torch.float64, device=dev))
    top = max(float(lam[0]), 0.0)
    if lam[-1] < -_NEGATIVE_RTOL * top:
        raise InvalidDataError(f"the matrix has eigenvalue {lam[-1]:.3g} (largest {top:.3g}): not positive semi-definite.")
    return np.clip(lam, 0.0, None)


def _device_replicates(stats: dict[str, Any], keep: np.ndarray, standardize: bool, order: float, n_boot: int,
                       seed: Any, n_units: int, dtype: np.dtype, diag: dict[str, Any]) -> np.ndarray:
    """Exact replicates merged and eigendecomposed in batches on the statistics' device."""
    import torch

    draws = _draws(stats["counts"].size, n_boot, seed)
    reps: list[float] = []
    index = torch.as_tensor(np.flatnonzero(keep), device=stats["scatters"].device)
    for covs in _torch_function("replicate_covariances_torch")(stats, draws):
        bad = np.zeros(covs.shape[0], dtype=bool)
        if standardize:
            covs = covs[:, index][:, :, index]
            sd = torch.diagonal(covs, dim1=1, dim2=2).clamp(min=0).sqrt()
            bad = (sd <= 0).any(dim=1).cpu().numpy()
            covs = covs / (sd[:, :, None] * sd[:, None, :]).clamp(min=np.finfo(np.float64).tiny)
        for lam, skip in zip(_torch_function("eigvalsh_torch")(covs), bad, strict=True):
            try:
                reps.append(math.nan if skip else effective_dimension_from_eigenvalues(
                    denoise_eigenvalues(np.clip(lam, 0.0, None), n_units, dtype)[0], order))
            except InsufficientDataError:
                reps.append(math.nan)
    diag["replicates"] = "exact"
    return np.asarray(reps)


def _dimension_estimate(cov: np.ndarray, mean: np.ndarray, blocks: Any, n_samples: int,
                        unit_ids: np.ndarray, dtype: np.dtype, order: float, standardize: bool, n_boot: int,
                        seed: Any, ci_level: float, params: dict[str, Any], stacklevel: int = 5,
                        device: Any = None) -> Estimate:
    """The effective dimension, its interval and diagnostics from the covariance (and block statistics)."""
    n_units = cov.shape[0]
    messages: list[str] = []
    var = np.diag(cov)
    varying = _varying(var, mean, n_samples)
    if not varying.any():
        raise InsufficientDataError(
            f"all {n_units} units of the Recording are constant: the covariance is zero and no dimension "
            "is defined."
        )
    keep = np.ones(n_units, dtype=bool)
    if standardize:
        # A constant unit has no correlation; it is left out rather than making the matrix NaN.
        keep = varying & (var > _noise_tolerance(float(var.max()), n_units, dtype))
        if not keep.all():
            dropped = unit_ids[~keep]
            messages.append(
                f"standardize=True: {dropped.size} constant unit(s) left out of the correlation matrix "
                f"(unit ids {dropped[:10].tolist()}{' ...' if dropped.size > 10 else ''})."
            )
        cov = _standardize(cov, keep)
    vecs = None
    if blocks is not None and device is None and _expandable(standardize, order):
        # the perturbative replicates need the eigenvectors: one eigh serves the estimate too
        raw, vecs = _covariance_eigen(cov, vectors=True)
    else:
        raw = _eigenvalues(cov, device)
    lam, rank, tol = denoise_eigenvalues(raw, n_units, dtype)
    value = effective_dimension_from_eigenvalues(lam, order)
    if n_samples <= n_units:
        messages.append(
            f"{n_samples} samples for {n_units} units: the sample covariance has rank at most "
            f"{n_samples - 1}, so the dimension is bounded by it; record more samples."
        )
    ci, reps = None, np.empty(0)
    boot_diag: dict[str, Any] = {"interval": "basic"}
    if blocks is not None:
        if device is None:
            eigen = None if vecs is None else (raw * (blocks.counts.sum() - 1.0), vecs)  # cov = scatter / (n − 1)
            reps = _replicates(blocks, keep, standardize, order, n_boot, seed, n_units, dtype, boot_diag, eigen)
        else:
            reps = _device_replicates(blocks, keep, standardize, order, n_boot, seed, n_units, dtype, boot_diag)
        ci, report, notes = interval_report(reps, value, ci_level, "basic", 1.0, float(keep.sum()))
        boot_diag.update(report)
        messages.extend(notes)
        if ci is None:
            messages.append("fewer than 2 bootstrap replicates had variance: no confidence interval.")
    p = lam / lam.sum()
    return Estimate(
        value=value, ci=ci, method=_method_name(order), params=params,
        n_samples=n_samples, n_units=n_units,
        diagnostics={"eigenvalues": lam, "p": p, "rank": rank, "noise_tolerance": tol,
                     "units_used": unit_ids[keep], "bootstrap": reps, **boot_diag},
        warnings=_warn(messages, stacklevel),
    )


# Which replicates the interval uses: "auto" (second-order perturbation where it applies, checked
# against exact ones), "exact" (one eigendecomposition per replicate) or "perturbative" (the
# expansion whenever the check passes, whatever the number of samples).
_REPLICATES = "auto"
_N_CHECKED = 2  # replicates also computed exactly to check the perturbative ones
# "auto" expands only with at least this many samples per nonzero eigenvalue: the remainder of
# the expansion, measured against exact replicates, is about 5 (rank / n_samples) bootstrap sd at
# worst (flat spectra, order 3), so <= 0.05 sd here.
_SAMPLES_PER_DIRECTION = 100


def _exact_replicate(blocks: _Blocks, weights: np.ndarray, keep: np.ndarray, standardize: bool, order: float,
                     n_units: int, dtype: np.dtype) -> float:
    n_rep, scatter_rep = blocks.merged(weights)
    c = scatter_rep / max(n_rep - 1.0, 1.0)
    if standardize:
        if np.any(np.diag(c)[keep] <= 0):
            return math.nan
        c = _standardize(c, keep)
    try:
        lam_rep = denoise_eigenvalues(eigenvalues_from_covariance(c), n_units, dtype)[0]
        return effective_dimension_from_eigenvalues(lam_rep, order)
    except InsufficientDataError:
        return math.nan


def _frobenius(standardize: bool, order: float) -> bool:
    """Whether the replicates come exactly from traces and Frobenius norms (order 2, covariance)."""
    return _REPLICATES != "exact" and not standardize and order == 2.0


def _expandable(standardize: bool, order: float) -> bool:
    """Whether the replicates may come from the second-order expansion (see _spectral_bootstrap)."""
    return (_REPLICATES != "exact" and not standardize and 0.0 < order < math.inf
            and not _frobenius(standardize, order) and (order == 1.0 or abs(order - 1.0) > 1e-3))


def _replicates(blocks: _Blocks, keep: np.ndarray, standardize: bool, order: float, n_boot: int,
                seed: Any, n_units: int, dtype: np.dtype, diag: dict[str, Any],
                eigen: tuple[np.ndarray, np.ndarray] | None) -> np.ndarray:
    """Effective dimension of each block-bootstrap replicate: perturbative where it applies, else exact.

    ``eigen``: eigenvalues (descending) and eigenvectors of ``blocks.total``; None when the
    expansion does not apply (:func:`_expandable`).
    """
    from neurocomplex.measures._spectral_bootstrap import (
        check_against_exact,
        participation_ratios,
        perturbative_dimensions,
    )

    draws = _draws(blocks.counts.size, n_boot, seed)
    if _frobenius(standardize, order):
        diag["replicates"] = "exact"
        return participation_ratios(blocks.counts, blocks.means, blocks.centres, blocks.grams, draws)
    perturbative = eigen is not None
    if perturbative:
        lam, vecs = eigen
        signal = lam > _noise_tolerance(float(lam[0]), n_units, dtype)
        perturbative = (_REPLICATES == "perturbative"
                        or blocks.counts.sum() >= _SAMPLES_PER_DIRECTION * np.count_nonzero(signal))
    if perturbative:
        approx = perturbative_dimensions(blocks.counts, blocks.means, blocks.centres, blocks.grams,
                                         lam[signal], vecs[:, signal], draws, order)
        checked = list(range(min(_N_CHECKED, n_boot)))
        exact = {i: _exact_replicate(blocks, draws[i], keep, standardize, order, n_units, dtype) for i in checked}
        ok, error = check_against_exact(approx, exact)
        diag["replicate_check_error"] = error  # largest |perturbative − exact| / sd of the replicates
        if ok:
            for i in np.flatnonzero(~np.isfinite(approx)):  # invalid expansions: exact instead
                exact[int(i)] = _exact_replicate(blocks, draws[i], keep, standardize, order, n_units, dtype)
            for i, v in exact.items():
                approx[i] = v
            diag["replicates"] = "perturbative"
            return approx
    diag["replicates"] = "exact"
    return np.array([_exact_replicate(blocks, w, keep, standardize, order, n_units, dtype) for w in draws])


def effective_dimension_from_blocks(blocks: Sequence[CovarianceAccumulator], order: float = 1.0, n_boot: int = 100,
                                    seed: int | None = 0, ci_level: float = 0.95, dtype: Any = np.float64,
                                    standardize: bool = False) -> Estimate:
    """Effective dimension of consecutive blocks of samples given by their covariance statistics.

    For data that arrive in pieces (a file read chunk by chunk, a stream): each block's count,
    mean and scatter is accumulated separately, and the estimate and its block-bootstrap interval
    come from those statistics alone.

    Parameters
    ----------
    blocks : sequence of CovarianceAccumulator
        The statistics of consecutive blocks of samples, all of the same units (at least two
        non-empty blocks when ``n_boot > 0``).
    order : float
        Rényi order, as in :func:`effective_dimension` (2: participation ratio).
    n_boot : int
        Bootstrap replicates; each draws the given blocks with replacement. 0 = no interval.
    seed : int or None
        Seed of the bootstrap.
    ci_level : float
        Coverage of the interval.
    dtype : numpy dtype
        Precision of the data the statistics were accumulated from; sets the numerical noise
        floor of the eigenvalues (``np.float32`` for float32 data, as in :func:`effective_dimension`).
    standardize : bool
        Use the correlation matrix instead of the covariance.

    Returns
    -------
    Estimate
        As :func:`effective_dimension`; ``value`` equals :func:`effective_dimension` on the
        concatenated samples, ``params["block_size"]`` is None (the blocks are given).

    Raises
    ------
    InvalidParameterError
        ``blocks`` empty or not accumulators of one number of units; bad ``order``, ``n_boot``,
        ``seed``, ``ci_level`` or ``standardize``; a single non-empty block with ``n_boot > 0``.
    InsufficientDataError
        Fewer than 2 samples in all, or every unit constant.

    Notes
    -----
    The blocks are merged exactly (Chan, Golub & LeVeque 1979) into the covariance whose
    eigenvalues give ``D`` (symbols as in :func:`effective_dimension`). A bootstrap replicate
    draws ``B`` blocks (``B = len(blocks)``) with replacement and merges them; blocks of unequal
    length are drawn with equal probability.

    References
    ----------
    .. [1] T. F. Chan, G. H. Golub, R. J. LeVeque, "Updating formulae and a pairwise algorithm for
       computing sample variances", Stanford CS report STAN-CS-79-773 (1979).

    Examples
    --------
    >>> import numpy as np
    >>> from neurocomplex.stats import covariance_from_array
    >>> x = np.random.default_rng(0).normal(size=(3000, 4)) * [2.0, 1.0, 1.0, 0.5]
    >>> parts = [covariance_from_array(x[i : i + 300]) for i in range(0, 3000, 300)]
    >>> est = effective_dimension_from_blocks(parts, order=2, n_boot=50)
    >>> bool(np.isclose(est.value, effective_dimension(Recording.from_array(x), order=2, n_boot=0).value))
    True
    """
    order = _check_order(order)
    standardize = _check_standardize(standardize)
    _check_common(n_boot, seed, None, ci_level, 1)
    try:
        parts = list(blocks)
    except TypeError as err:
        raise InvalidParameterError(f"blocks must be a sequence of CovarianceAccumulator, got {type(blocks).__name__}.") from err
    if not parts or not all(isinstance(b, CovarianceAccumulator) for b in parts):
        raise InvalidParameterError("blocks must be a non-empty sequence of CovarianceAccumulator "
                                    "(one per block of consecutive samples).")
    n_units = parts[0].n_units
    if any(b.n_units != n_units for b in parts):
        raise InvalidParameterError(f"blocks hold statistics of {sorted({b.n_units for b in parts})} units; "
                                    "all blocks must cover the same units.")
    parts = [b for b in parts if b.n_samples > 0]
    if n_boot > 0 and len(parts) < 2:
        raise InvalidParameterError(f"{len(parts)} non-empty block(s): the block bootstrap needs several; "
                                    "pass more blocks or n_boot=0 for no interval.")
    try:
        work = np.dtype(dtype)
    except TypeError as err:
        raise InvalidParameterError(f"dtype must be a numpy dtype (np.float32 or np.float64), got {dtype!r}.") from err
    counts = np.array([b.n_samples for b in parts], dtype=np.float64)
    if counts.sum() < 2:
        raise InsufficientDataError(f"{int(counts.sum())} sample(s) in all blocks: a covariance needs at least 2.")
    means = np.stack([b.mean for b in parts])
    stats = _Blocks(counts, means, means, np.stack([b.scatter for b in parts]))
    n, scatter = float(counts.sum()), stats.total
    params = {"order": order, "standardize": standardize, "n_boot": n_boot, "seed": seed,
              "block_size": None, "ci_level": ci_level, "n_blocks": counts.size}
    return _dimension_estimate(scatter / (n - 1.0), counts @ stats.means / n, stats if n_boot > 0 else None,
                               int(n), np.arange(n_units), np.dtype(np.float32) if work == np.float32
                               else np.dtype(np.float64), order, standardize, n_boot, seed, ci_level, params,
                               stacklevel=4)


@register_estimator(family="dimension", bounds=(1.0, math.inf),
                    invalid_params=({"order": -1}, {"order": "x"}, {"chunk_rows": 0}, {"standardize": "yes"}))
def effective_dimension(rec: Recording, order: float = 1.0, standardize: bool = False, n_boot: int = 100,
                        seed: int | None = 0, block_size: int | None = None, ci_level: float = 0.95,
                        chunk_rows: int = DEFAULT_CHUNK_ROWS, device: Any = None) -> Estimate:
    """Effective dimension of the covariance spectrum: the number of directions the activity uses.

    Parameters
    ----------
    rec : Recording
        Activity X, shape ``(n_samples, n_units)``; any kind.
    order : float
        Rényi order α: 1 (default, exponential of the spectral entropy), 2 (participation ratio),
        ``math.inf``, or any value >= 0.
    standardize : bool
        Use the correlation matrix instead of the covariance (each unit scaled to unit variance).
        Constant units are then left out, with a warning (their correlation is undefined).
    n_boot : int
        Block-bootstrap replicates for the interval; 0 = no interval (and no block statistics).
    seed : int or None
        Seed of the bootstrap.
    block_size : int, optional
        Samples per bootstrap block; default ``ceil(n_samples / 64)`` (about 64 blocks).
    ci_level : float
        Coverage of the interval.
    chunk_rows : int
        Rows read and multiplied at a time.
    device : str or torch.device, optional
        With a torch device (``"cuda"``, ``"cuda:1"``, ``"cpu"``), the covariance (and the block
        statistics) are accumulated there, chunk by chunk, and the eigenvalues of the estimate and
        of every bootstrap replicate are computed there (batched); the values agree with the
        numpy path to float rounding. None (default): numpy.

    Returns
    -------
    Estimate
        ``value = D``; ``diagnostics``: ``eigenvalues`` (descending, numerical noise set to 0),
        ``p`` (their fractions), ``rank`` (count of nonzero eigenvalues), ``noise_tolerance``,
        ``units_used``, ``bootstrap`` (replicates), ``replicates`` (``"perturbative"`` or
        ``"exact"``), ``replicate_check_error``, ``percentile_ci``, ``bias``, ``interval``.

    Raises
    ------
    InvalidParameterError
        Bad ``order``, ``standardize``, ``n_boot``, ``ci_level``, ``block_size``, ``chunk_rows`` or
        ``device``; blocks whose statistics would exceed 2 GiB.
    MissingDependencyError
        ``device`` given without torch installed.
    InsufficientDataError
        Fewer than 2 samples, or every unit constant.

    Notes
    -----
    λ_i are the eigenvalues of the covariance of X (centred; the correlation matrix when
    ``standardize``), p_i = λ_i / Σ λ_j and, with α = ``order``,
    ``D_1 = exp(−Σ p_i log p_i)``, ``D_α = (Σ p_i^α)^(1/(1−α))``, ``D_∞ = 1 / max p_i``;
    ``1 <= D <= rank``. Eigenvalues below ``noise_tolerance`` (``λ_1 · n_units · ε_64`` for data
    other than float32, ``λ_1 · sqrt(n_units) · ε_32`` for float32, whose GEMM rounding leaves
    exact zeros near ``1e-8 λ_1``) are numerical zeros and set to 0, so rank-deficient data give
    ``D <= rank`` exactly.

    The covariance is accumulated chunk by chunk (float32 data stay float32 in the GEMM, sums in
    float64); the whole matrix is never copied or centred. The interval is a non-overlapping block
    bootstrap: the count, mean and Gram matrix of each block are kept, in the data's precision
    (``n_blocks · n_units² · 4`` bytes for float32 data, 64 MiB for 64 blocks of 512 units), and a
    replicate draws ``n_blocks`` blocks with replacement. With at least 100 samples per nonzero
    eigenvalue, its spectral sum ``Σ f(λ*)`` comes from the second-order (Daleckii–Krein)
    expansion in the full-data eigenbasis (one ``n_units³`` GEMM and the upper triangle of a second
    per block, once; then ``O(n_blocks²)`` per replicate; module
    ``neurocomplex.measures._spectral_bootstrap``), whose error against exact
    replicates is measured at <= 0.05 bootstrap sd; the first two replicates are also computed
    exactly, and all replicates are when they differ by more than 0.1 sd. Otherwise (and for
    ``standardize=True`` or ``order`` 0 or inf), each replicate merges the blocks exactly (Chan,
    Golub & LeVeque 1979) and is eigendecomposed. For order 2 (the participation ratio) of the
    covariance, replicates are exact with no eigendecomposition: ``Σ λ* = tr S*`` and
    ``Σ λ*² = ||S*||²_F`` are quadratic in the block weights (Frobenius products of the block
    scatters, computed once). ``diagnostics["replicates"]`` says which.
    The interval is the basic (reflected) bootstrap interval, because resampling duplicates rows
    and lowers D; it is clipped to ``[1, n_units]``. It covers sampling variability, not the
    estimator's bias (below); ``diagnostics`` also give the percentile interval and the bootstrap
    bias, and a warning says when the basic interval excludes the estimate.

    The sample D is biased low when ``n_samples`` is not much larger than ``n_units``: sample
    eigenvalues spread out (Marchenko–Pastur), most for flat spectra (about −PR/n_samples for D_2).

    References
    ----------
    .. [1] R. A. Janik, P. Witaszczyk, "Complexity for deep neural networks and other
       characteristics of deep feature representations", arXiv:2006.04791 (2020); the Rényi
       family of orders is the project's definition, after Janik & Witaszczyk (2020).
    .. [2] T. F. Chan, G. H. Golub, R. J. LeVeque, "Updating formulae and a pairwise algorithm for
       computing sample variances", Stanford CS report STAN-CS-79-773 (1979).

    Examples
    --------
    >>> import numpy as np, neurocomplex as nc
    >>> x = np.random.default_rng(0).normal(size=(2000, 3)) * [1.0, 1.0, 1e-9]
    >>> round(nc.effective_dimension(nc.Recording.from_array(x), n_boot=0).value, 2)
    2.0
    """
    return _effective_dimension(rec, order, standardize, n_boot, seed, block_size, ci_level, chunk_rows, device)


@register_estimator(family="dimension", bounds=(1.0, math.inf),
                    invalid_params=({"chunk_rows": 0}, {"standardize": "yes"}, {"block_size": 0}))
def participation_ratio(rec: Recording, standardize: bool = False, n_boot: int = 100, seed: int | None = 0,
                        block_size: int | None = None, ci_level: float = 0.95,
                        chunk_rows: int = DEFAULT_CHUNK_ROWS, device: Any = None) -> Estimate:
    """Participation ratio ``(Σ λ)² / Σ λ²``: :func:`effective_dimension` of order 2.

    Parameters
    ----------
    rec : Recording
        Activity X, shape ``(n_samples, n_units)``.
    standardize, n_boot, seed, block_size, ci_level, chunk_rows, device
        As in :func:`effective_dimension`.

    Returns
    -------
    Estimate
        ``value = PR`` with the diagnostics of :func:`effective_dimension`.

    Raises
    ------
    InvalidParameterError
        Bad parameters.
    InsufficientDataError
        Fewer than 2 samples, or every unit constant.

    Notes
    -----
    With λ_i the covariance eigenvalues, ``PR = (Σ_i λ_i)² / Σ_i λ_i² = D_2``.

    References
    ----------
    .. [1] R. A. Janik, P. Witaszczyk, arXiv:2006.04791 (2020): effective dimension of feature
       representations; the participation ratio as its order-2 member is the project's definition.

    Examples
    --------
    >>> import numpy as np, neurocomplex as nc
    >>> x = np.random.default_rng(0).normal(size=(5000, 2)) * [3.0, 1.0]
    >>> round(nc.participation_ratio(nc.Recording.from_array(x), n_boot=0).value, 1)
    1.2
    """
    return _effective_dimension(rec, 2.0, standardize, n_boot, seed, block_size, ci_level, chunk_rows, device)
