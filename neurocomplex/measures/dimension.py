"""Dimension of a population's activity: effective dimension and participation ratio.

The other estimators of the family live beside it: :mod:`~neurocomplex.measures.spectrum`
(spectrum exponent, which uses this module's accumulation) and :mod:`~neurocomplex.measures.twonn`.

The linear measures (effective dimension, participation ratio, spectrum exponent) need only the
spectrum of the covariance of X. With at least as many samples as units it is accumulated chunk by
chunk by :class:`~neurocomplex.stats.CovarianceAccumulator` (one GEMM per chunk in the data's own
precision, float64 accumulation, no copy of the whole matrix); with fewer samples than units, from
the ``n × n`` centred Gram matrix (:mod:`neurocomplex.stats.gram`), which has the same nonzero
eigenvalues. Their confidence intervals come from per-block sufficient statistics merged exactly
for each replicate (or from reweightings of the same Gram matrix), so the data are read once
whatever ``n_boot`` is: a block bootstrap with at least 10 samples per unit, a grouped jackknife
below (:mod:`~neurocomplex.measures._dimension_replicates`). TwoNN works on the points themselves.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from neurocomplex._checks import check_recording
from neurocomplex.errors import InsufficientDataError, InvalidParameterError
from neurocomplex.estimate import Estimate, interval_report, register_estimator
from neurocomplex.measures._dimension_stats import (  # noqa: F401  (shared with spectrum.py and the tests)
    _NEGATIVE_RTOL,
    _accumulate,
    _Blocks,
    _check_common,
    _check_order,
    _draws,
    _eigenvalues,
    _noise_tolerance,
    _plan_blocks,
    _read_blocks,
    _standardize,
    _torch_function,
    _varying,
    _warn,
    _work_dtype,
    covariance_eigen,
    denoise_eigenvalues,
    effective_dimension_from_eigenvalues,
    jackknife_draws,
    plan_groups,
)
from neurocomplex.recording import Recording
from neurocomplex.stats.covariance import (
    DEFAULT_CHUNK_ROWS,
    CovarianceAccumulator,
    projected_block_grams,
)

__all__ = [
    "effective_dimension",
    "effective_dimension_from_blocks",
    "participation_ratio",
    "effective_dimension_from_eigenvalues",
    "eigenvalues_from_covariance",
]

# The bootstrap needs at least this many samples per unit; below, the interval is a grouped
# jackknife: bootstrap replicates repeat samples, and a spectrum with not many more samples than
# directions loses directions to the repeats, so that the bootstrap distribution is centred far
# from the estimate. Measured (benchmarks/RESULTS_dimension.md): from 10 samples per unit the basic
# interval covers the population D in 93-100 % of draws; at 3, in 57-98 %; with fewer samples than
# units it covers neither the population value nor the estimate's expectation.
_BOOTSTRAP_SAMPLES_PER_UNIT = 10



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
        Not square, not finite, or not positive semi-definite: an eigenvalue below
        ``−max(1e-6, 10 τ) λ_1`` (see Notes).

    Notes
    -----
    The matrix is symmetrised, ``(C + C^T) / 2``, before :func:`numpy.linalg.eigvalsh`. Negative
    eigenvalues above ``−max(1e-6, 10 τ) λ_1`` are rounding and returned as 0, with ``τ`` the
    relative noise floor of the matrix's precision and size ``d``: ``d ε_64`` for float64,
    ``sqrt(d) ε_32`` for a float32 matrix (``λ_1`` the largest eigenvalue, ``ε`` the machine
    epsilon). Below that the matrix is not a covariance and the function raises.

    Examples
    --------
    >>> eigenvalues_from_covariance(np.diag([1.0, 3.0, 2.0]))
    array([3., 2., 1.])
    """
    return covariance_eigen(cov, vectors=False)[0]

# --------------------------------------------------------------------------- effective dimension
def _method_name(order: float) -> str:
    names = {1.0: "exp_spectral_entropy", 2.0: "participation_ratio", math.inf: "inverse_max_eigenvalue_fraction"}
    return names.get(order, f"renyi_spectral_{order:g}")


def _check_standardize(standardize: Any) -> bool:
    if not isinstance(standardize, (bool, np.bool_)):
        raise InvalidParameterError(f"standardize must be True or False, got {standardize!r}.")
    return bool(standardize)


def _jackknife(n_samples: int, n_units: int) -> bool:
    """Whether the interval is the grouped jackknife (fewer than 10 samples per unit) or the bootstrap."""
    return n_samples < _BOOTSTRAP_SAMPLES_PER_UNIT * n_units


def _effective_dimension(rec: Recording, order: float, standardize: bool, n_boot: int, seed: Any,
                         block_size: Any, ci_level: float, chunk_rows: int, device: Any = None) -> Estimate:
    check_recording(rec)
    order = _check_order(order)
    standardize = _check_standardize(standardize)
    _check_common(n_boot, seed, block_size, ci_level, chunk_rows)
    data, n_units, n = rec.data, rec.n_units, rec.n_samples
    params = {"order": order, "standardize": standardize, "n_boot": n_boot, "seed": seed,
              "block_size": block_size, "ci_level": ci_level, "chunk_rows": chunk_rows,
              "device": None if device is None else str(device)}
    jack = n_boot > 0 and _jackknife(n, n_units)
    if n < n_units:
        return _wide_estimate(rec, order, standardize, n_boot, block_size, ci_level, params, device)
    if n_boot > 0:
        if jack:
            block_size = plan_groups(n, block_size)
        block_size = _plan_blocks(n, n_units, block_size)
        params["block_size"] = block_size
    projected = n_boot > 0 and _projects(data, n_units, block_size, standardize, order)
    (data,), (cov, mean, blocks, _) = covariance_statistics((data,), n, n_boot, block_size, chunk_rows, device,
                                                            projected)
    return _dimension_estimate(cov, mean, blocks, n, rec.unit_ids, _work_dtype(data), order, standardize,
                               n_boot, seed, ci_level, params, device=device,
                               n_groups=n // block_size if jack else 0)


def covariance_statistics(arrays: tuple[Any, ...], n: int, n_boot: int, block_size: Any, chunk_rows: int,
                          device: Any, projected: bool = False) -> tuple[tuple[Any, ...], tuple[Any, Any, Any, Any]]:
    """``arrays`` as used (a float64 copy where their float32 squares left float32's range) and their
    joint covariance, mean, block statistics (with ``n_boot``: the blocks, what reads them in the
    eigenbasis with ``projected``, or the device's statistics) and the device's statistics.

    The range is read from the covariance computed in float32 (an overflow, or every variance below
    ``2**-96``: values below about ``2**-48``, whose squares are subnormal), so that data in range
    pay no extra pass for the check; data out of it are computed again in float64."""
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is found below, and computed again
        out = _covariance_statistics(arrays, n, n_boot, block_size, chunk_rows, device, projected)
    if not _float32_products_held(arrays, out[0]):
        arrays = tuple(a.astype(np.float64) for a in arrays)
        out = _covariance_statistics(arrays, n, n_boot, block_size, chunk_rows, device, projected)
    return arrays, out


def _covariance_statistics(arrays: tuple[Any, ...], n: int, n_boot: int, block_size: Any, chunk_rows: int,
                           device: Any, projected: bool) -> tuple[np.ndarray, np.ndarray, Any, Any]:
    if device is not None:
        stats = _torch_function("block_covariances_torch")(arrays, device, block_size if n_boot > 0 else None,
                                                            chunk_rows)
        return stats["total"].cpu().numpy() / (n - 1.0), stats["mean"], (stats if n_boot > 0 else None), stats
    if projected:
        acc = _accumulate(arrays, chunk_rows)
        return acc.covariance(), acc.mean, _Projection(arrays[0], block_size, chunk_rows), None
    if n_boot > 0:
        blocks = _read_blocks(arrays, block_size, chunk_rows)
        total = float(blocks.counts.sum())
        return blocks.total / (total - 1.0), blocks.counts @ blocks.means / total, blocks, None
    acc = _accumulate(arrays, chunk_rows)
    return acc.covariance(), acc.mean, None, None


def _float32_products_held(arrays: tuple[Any, ...], cov: np.ndarray) -> bool:
    """False where in-memory float32 data's squares left float32's range (see covariance_statistics)."""
    if not all(isinstance(a, np.ndarray) and a.dtype == np.float32 for a in arrays):
        return True
    diagonal = np.diagonal(cov)
    return bool(np.all(np.isfinite(diagonal)) and diagonal.max() >= 2.0**-96)


class _Projection:
    """Block statistics still to be read, in the eigenbasis of the full-data covariance."""

    def __init__(self, data: np.ndarray, block_size: int, chunk_rows: int) -> None:
        self.data, self.block_size, self.chunk_rows = data, block_size, chunk_rows

    def read(self, mean: np.ndarray, lam: np.ndarray, vecs: np.ndarray, dtype: np.dtype) -> _Blocks:
        """``lam``: the scatter's eigenvalues; the numerical zeros are left out of the projection
        (every sample has the same coordinate there, to rounding)."""
        r = max(1, int(np.count_nonzero(denoise_eigenvalues(lam, vecs.shape[0], dtype)[0])))
        st = projected_block_grams(self.data, mean, vecs[:, :r], self.block_size, self.chunk_rows)
        return _Blocks(st.counts, st.means, st.centres, st.grams, np.diag(lam[:r]))


def _projects(data: Any, n_units: int, block_size: int, standardize: bool, order: float) -> bool:
    """Whether the interval's block statistics are read in the eigenbasis (a second pass over
    in-memory data: ``Y = (X − m) V`` and a SYRK per block, about ``3 n d²``) rather than block by
    block in the units' basis (one pass, then about ``3 d³`` per block for the expansion): when
    ``n < B d`` with ``B`` blocks, and only for the expansion's orders (not standardized, not 2)."""
    from neurocomplex.measures._dimension_replicates import expandable

    if not isinstance(data, np.ndarray) or not expandable(standardize, order, _REPLICATES):
        return False
    n = data.shape[0]
    return n < -(-n // block_size) * n_units


def _wide_estimate(rec: Recording, order: float, standardize: bool, n_boot: int, block_size: Any,
                   ci_level: float, params: dict[str, Any], device: Any) -> Estimate:
    """The Gram route (fewer samples than units): spectrum, grouped-jackknife interval, Estimate."""
    from neurocomplex.measures._dimension_gram import jackknife_groups, wide_spectrum
    from neurocomplex.measures._dimension_replicates import GramSource, expandable

    messages: list[str] = []
    n_groups, counts = jackknife_groups(rec.n_samples, block_size) if n_boot > 0 else (0, None)
    vectors = n_boot > 0 and expandable(standardize, order, _REPLICATES)
    spec = wide_spectrum(rec, standardize, device, vectors, messages)
    source = None
    if n_boot > 0:
        params["block_size"] = int(counts[0])
        source = GramSource(spec["gram"], counts, order, spec["size"], spec["dtype"], spec["eigen"], spec["n_units"])
    return _finish(spec["raw"], source, n_groups, rec.n_samples, rec.unit_ids, spec["keep"], spec["dtype"],
                   order, standardize, 0, None, ci_level, params, messages, 6, route="gram", size=spec["size"])


def _device_replicates(stats: dict[str, Any], keep: np.ndarray, standardize: bool, order: float,
                       draws: np.ndarray, n_units: int, dtype: np.dtype) -> np.ndarray:
    """Exact replicates merged and eigendecomposed in batches on the statistics' device."""
    import torch

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
    return np.asarray(reps)


def _dimension_estimate(cov: np.ndarray, mean: np.ndarray, blocks: Any, n_samples: int,
                        unit_ids: np.ndarray, dtype: np.dtype, order: float, standardize: bool, n_boot: int,
                        seed: Any, ci_level: float, params: dict[str, Any], stacklevel: int = 5,
                        device: Any = None, n_groups: int = 0) -> Estimate:
    """The effective dimension, its interval and diagnostics from the covariance (and block statistics).

    ``n_groups > 0``: the interval is the grouped jackknife over the first ``n_groups`` blocks
    (the last block, if any, holds the remainder rows and stays in every replicate).
    """
    from neurocomplex.measures._dimension_replicates import BlockSource, expandable

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
    source: Any = None
    if isinstance(blocks, _Projection):
        from neurocomplex.measures._dimension_replicates import ProjectedSource

        raw, vecs = covariance_eigen(cov, True, dtype, n_units)
        scatter = raw * (n_samples - 1.0)
        source = ProjectedSource(blocks.read(mean, scatter, vecs, dtype), keep, standardize, order, n_units,
                                 dtype, (scatter, vecs))
    elif blocks is not None:
        host = blocks if device is None else _host_blocks(blocks)
        eigen = None
        if expandable(standardize, order, _REPLICATES):
            # the perturbative replicates need the eigenvectors: one eigh serves the estimate too
            raw, vecs = covariance_eigen(cov, True, dtype, n_units)
            eigen = (raw * (host.counts.sum() - 1.0), vecs)  # cov = scatter / (n − 1)
        else:
            raw = _eigenvalues(cov, device, n_units, dtype)
        batched = None
        if device is not None:  # exact replicates merged and eigendecomposed in batches on the device
            def batched(draws: np.ndarray) -> np.ndarray:
                return _device_replicates(blocks, keep, standardize, order, draws, n_units, dtype)
        source = BlockSource(host, keep, standardize, order, n_units, dtype, eigen, batched)
    else:
        raw = _eigenvalues(cov, device, n_units, dtype)
    return _finish(raw, source, n_groups, n_samples, unit_ids, keep, dtype, order, standardize, n_boot, seed,
                   ci_level, params, messages, stacklevel + 1)


def _host_blocks(stats: dict[str, Any]) -> _Blocks:
    """The device's block statistics as host arrays (each block's scatter is about its own mean)."""
    means = stats["means"].cpu().numpy()
    return _Blocks(np.asarray(stats["counts"], dtype=np.float64), means, means, stats["scatters"].cpu().numpy(),
                   stats["total"].cpu().numpy())


def _finish(raw: np.ndarray, source: Any, n_groups: int, n_samples: int, unit_ids: np.ndarray,
            keep: np.ndarray, dtype: np.dtype, order: float, standardize: bool, n_boot: int, seed: Any,
            ci_level: float, params: dict[str, Any], messages: list[str], stacklevel: int,
            route: str = "covariance", size: int | None = None) -> Estimate:
    """Value, interval (bootstrap or jackknife replicates of ``source``) and diagnostics; ``size``:
    of the matrix eigendecomposed, which sets the rounding floor (default: the number of units)."""
    from neurocomplex.measures._dimension_replicates import (
        bootstrap_replicates,
        jackknife_interval,
        jackknife_replicates,
    )

    n_units = unit_ids.size
    lam, rank, tol = denoise_eigenvalues(raw, n_units if size is None else size, dtype, gram=size is not None)
    value = effective_dimension_from_eigenvalues(lam, order)
    if n_samples <= n_units:
        messages.append(
            f"{n_samples} samples for {n_units} units: the sample covariance has rank at most "
            f"{n_samples - 1}, so the dimension is bounded by it; record more samples."
        )
    ci, reps, jack = None, np.empty(0), np.empty(0)
    boot_diag: dict[str, Any] = {"interval": "basic"}
    if source is not None and n_groups:
        jack = jackknife_replicates(source, n_groups, standardize, order, boot_diag, _REPLICATES)
        ci, report = jackknife_interval(jack, value, ci_level, 1.0, float(keep.sum()))
        boot_diag.update(report)
        if ci is None:
            messages.append("fewer than 2 jackknife replicates had variance: no confidence interval.")
    elif source is not None:
        reps = bootstrap_replicates(source, n_boot, seed, boot_diag, _REPLICATES, _N_CHECKED)
        ci, report, notes = interval_report(reps, value, ci_level, "basic", 1.0, float(keep.sum()))
        boot_diag.update(report)
        messages.extend(notes)
        if ci is None and not notes:  # (notes say when the interval was withheld for lying beyond a bound)
            messages.append("fewer than 2 bootstrap replicates had variance: no confidence interval.")
    p = lam / lam.sum()
    return Estimate(
        value=value, ci=ci, method=_method_name(order), params=params,
        n_samples=n_samples, n_units=n_units,
        diagnostics={"eigenvalues": lam, "p": p, "rank": rank, "noise_tolerance": tol, "route": route,
                     "units_used": unit_ids[keep], "bootstrap": reps, "jackknife": jack, **boot_diag},
        warnings=_warn(messages, stacklevel),
    )


# Which replicates the interval uses: "auto" (second-order perturbation where it applies, checked
# against exact ones), "exact" (one eigendecomposition per replicate) or "perturbative" (the same
# as "auto": kept for callers that name it).
_REPLICATES = "auto"
_N_CHECKED = 2  # bootstrap replicates also computed exactly to check the perturbative ones


def _exact_replicate(blocks: _Blocks, weights: np.ndarray, keep: np.ndarray, standardize: bool, order: float,
                     n_units: int, dtype: np.dtype) -> float:
    from neurocomplex.measures._dimension_replicates import BlockSource

    return BlockSource(blocks, keep, standardize, order, n_units, dtype, None).exact(weights)


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
        Replicates of the block bootstrap for the interval (at least 10 samples per unit); with
        fewer samples per unit any ``n_boot > 0`` gives the grouped jackknife (see Notes).
        0 = no interval (and no block statistics).
    seed : int or None
        Seed of the bootstrap.
    block_size : int, optional
        Samples per bootstrap block; default ``ceil(n_samples / 64)`` (about 64 blocks). For the
        jackknife, samples per group; default ``n_samples // 10`` (10 groups).
    ci_level : float
        Coverage of the interval.
    chunk_rows : int
        Rows read and multiplied at a time (the covariance route; the Gram route reads columns,
        4 Mi values at a time).
    device : str or torch.device, optional
        With a torch device (``"cuda"``, ``"cuda:1"``, ``"cpu"``), the covariance and the block
        statistics (or the Gram matrix) are accumulated there, chunk by chunk, the eigenvalues of the
        estimate are computed there, and so are exact replicates (batched); the replicates are those
        of the numpy path and the values agree with it to float rounding. None (default): numpy.

    Returns
    -------
    Estimate
        ``value = D``; ``diagnostics``: ``eigenvalues`` (descending, numerical noise set to 0),
        ``p`` (their fractions), ``rank`` (count of nonzero eigenvalues), ``noise_tolerance``,
        ``route`` (``"covariance"`` or ``"gram"``), ``units_used``, ``bootstrap`` (bootstrap
        replicates), ``jackknife`` (jackknife replicates; one of the two is empty),
        ``replicates`` (``"perturbative"`` or ``"exact"``), ``replicate_check_error``, ``interval``
        (``"basic"`` or ``"jackknife"``), ``bias``, ``percentile_ci`` (bootstrap) or
        ``jackknife_se``.

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
    ``1 <= D <= rank``.

    *Rounding.* Eigenvalues below ``noise_tolerance`` are numerical zeros and set to 0, relative to
    the largest eigenvalue λ_1 and scaled by the data's precision and the size m of the matrix
    eigendecomposed (``m = n_units`` for the covariance, ``n_samples`` for the Gram matrix below):
    ``λ_1 · m · ε_64`` for data other than float32; for float32 data, ``λ_1 · sqrt(m) · ε_32`` for
    the covariance (whose float32 products leave exact zeros near ``1e-8``–``1e-7 λ_1``) and
    ``λ_1 · log2(m) · ε_32`` for the Gram matrix (centred chunks: measured rounding at most
    ``0.5 ε_32 λ_1`` from 100 to 2,000 samples and up to 50,000 units, so eigenvalues from
    ``1e-6 λ_1`` are kept); rank-deficient data give ``D <= rank`` exactly. Negative eigenvalues down to ``−max(1e-6, 10 · noise_tolerance / λ_1) λ_1``
    are rounding of a positive semi-definite matrix (float32 activations with more units than
    samples never raise); a more negative one raises InvalidDataError.

    *Wide data.* With at least as many samples as units, the covariance is accumulated chunk by
    chunk (float32 data stay float32 in the GEMM, sums in float64); the whole matrix is never
    copied or centred. With fewer samples than units (n < d), the spectrum comes from the
    ``n × n`` centred Gram matrix ``G = Xc Xcᵀ``, whose nonzero eigenvalues are those of
    ``Xcᵀ Xc`` (so the value is the same): ``n² d`` for the product and ``n³`` for the
    eigendecomposition instead of ``n d²`` and ``d³``. Columns are centred on float64 means in
    chunks, the float32 products summed in float64 and ``G`` double-centred in float64, so the
    direction that centring removes is an exact zero. With ``standardize`` the columns are scaled
    by their standard deviations first; the replicates keep that scaling.

    *Interval with at least 10 samples per unit: block bootstrap.* The count, mean and Gram matrix
    of each block are kept in the data's precision (``n_blocks · d² · 4`` bytes for float32
    data), and a replicate draws ``n_blocks`` blocks with replacement. Its spectral sum
    ``Σ f(λ*)`` comes from the second-order (Daleckii–Krein) expansion in the full-data
    eigenbasis (module ``neurocomplex.measures._spectral_bootstrap``: one ``d³`` GEMM and the upper
    triangle of a second per block, once, then ``O(n_blocks²)`` per replicate; where there are
    fewer samples than ``n_blocks · d`` and the data are in memory, a second pass projects the
    samples on the eigenvectors instead, ``Y = (X − m) V``, and keeps each block's ``Yᵀ Y``: about
    ``3 n d²`` rather than ``3 n_blocks d³``, the same replicates to rounding); the first two
    replicates are also computed exactly, and all replicates are when those differ by more than
    0.25 bootstrap sd (root-mean-square errors measured at <= 0.03 sd at 10 samples per unit on
    decaying spectra, 0.08 on a flat one, so the interval's ends move by a few % of its width). For
    ``standardize=True`` and orders 0 and inf each replicate merges the blocks exactly (Chan,
    Golub & LeVeque 1979) and is eigendecomposed; for order 2 (the participation ratio) of the
    covariance the replicates are exact with no eigendecomposition: ``Σ λ* = tr S*`` and
    ``Σ λ*² = ||S*||²_F`` are quadratic in the block weights. The interval is the basic
    (reflected) bootstrap interval, clipped to ``[1, d]``: resampling repeats samples, which
    lowers D about as much as the estimator's own bias when that bias is ~ 1/n, so the interval
    is centred on a bias-corrected value: in simulation it covers the population D in 92–100 % of
    draws from 10 to 200 samples per unit, but not the estimate's expectation when the bias
    exceeds the sampling sd (benchmarks/RESULTS_dimension.md).
    A warning says when it excludes the estimate; ``diagnostics`` give the percentile interval
    and the bootstrap bias.

    *Interval with fewer than 10 samples per unit: grouped jackknife.* A bootstrap replicate then
    repeats so many samples that it loses directions the spectrum needs (below one sample per
    unit it lives in a subspace of about 0.63 n dimensions): its D is far below the estimate, and
    the basic interval covers neither the estimate's expectation nor the population value (at 3
    samples per unit it still covers the population D in only 57–98 % of draws). So the
    samples are cut into ``G`` equal consecutive groups (``n // 10`` samples each by default; the
    ``n mod G`` remainder rows stay in every replicate), replicate ``g`` leaves group ``g`` out,
    ``se² = (G − 1)/G · Σ_g (D_(g) − mean)²`` and the interval is ``D ± t_{G−1} se``, clipped to
    ``[1, d]``: it covers the estimate's expectation at this number of samples (sampling
    variability: 92–100 % of draws in simulation, from 1.5 to 0.2 samples per unit, 3–21 % wider
    than needed on decaying spectra and 30–55 % on flat ones), not the population D, which data
    with not many more samples than units do not determine. ``bias`` is the jackknife's
    ``(G − 1)(mean − D)``. Replicates come from the same second-order expansion (in the Gram's
    eigenbasis for wide data, where ``Xc V = U Λ^{1/2}`` gives the samples' coordinates with no
    pass over the data), whose error is nearly common to all replicates; the replicates with the
    smallest and largest values are computed exactly, the common error is added to all, and all
    are exact when the errors differ by more than 5 % of the replicates' range (white data).
    Exact replicates reweight the rows and columns of the same Gram matrix, or merge the block
    statistics. With at least as many samples as units and the data in memory, the groups'
    statistics are those of the samples projected on the eigenvectors (the second pass above:
    10 groups always hold fewer than ``10 d`` samples here).

    The sample D is biased low when ``n_samples`` is not much larger than ``n_units``: sample
    eigenvalues spread out (Marchenko–Pastur), most for flat spectra (about −PR/n_samples for D_2).

    References
    ----------
    .. [1] R. A. Janik, P. Witaszczyk, "Complexity for deep neural networks and other
       characteristics of deep feature representations", arXiv:2006.04791 (2020); the Rényi
       family of orders is the project's definition, after Janik & Witaszczyk (2020).
    .. [2] T. F. Chan, G. H. Golub, R. J. LeVeque, "Updating formulae and a pairwise algorithm for
       computing sample variances", Stanford CS report STAN-CS-79-773 (1979).
    .. [3] B. Efron, C. Stein, "The jackknife estimate of variance", Ann. Statist. 9, 586–596
       (1981).

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
