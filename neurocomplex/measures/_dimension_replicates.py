"""Replicates of the effective dimension for its interval: a block bootstrap or a grouped jackknife.

Both evaluate ``D`` on reweighted data: the bootstrap draws blocks with replacement (weights
0, 1, 2, ...), the jackknife leaves one group of samples out (weight 0) at a time. A replicate is
computed exactly (the reweighted covariance or Gram matrix, eigendecomposed) or from the
second-order expansion of :mod:`~neurocomplex.measures._spectral_bootstrap` in the full-data
eigenbasis (no eigendecomposition per replicate), checked against exact replicates.

The sources of replicates are the block statistics of the covariance route
(:class:`~neurocomplex.measures._dimension_stats._Blocks`) and the centred Gram matrix of the
wide route (:class:`GramSource`); both answer ``exact(weights)``, ``participation_ratios(draws)``
and ``expansion(order)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import special

from neurocomplex.errors import InsufficientDataError
from neurocomplex.measures._dimension_stats import (
    _Blocks,
    _draws,
    _standardize,
    covariance_eigen,
    denoise_eigenvalues,
    effective_dimension_from_eigenvalues,
    jackknife_draws,
)
from neurocomplex.stats.gram import weighted_gram

__all__ = ["BlockSource", "ProjectedSource", "GramSource", "bootstrap_replicates", "jackknife_replicates", "jackknife_interval",
           "JACKKNIFE_TOLERANCE"]

# The perturbative jackknife is kept when, on the two replicates checked exactly (those with the
# smallest and the largest approximate value), the difference of their errors is at most this
# fraction of the difference of their values: the jackknife se is then within about this fraction
# (errors that grow linearly with the replicate's value scale the se by 1 + slope). Measured on
# decaying spectra: slopes 0.00-0.045 and se within 5 %; white data: 0.1-1.2 (then all exact).
JACKKNIFE_TOLERANCE = 0.05


def frobenius(standardize: bool, order: float, mode: str) -> bool:
    """Whether the replicates come exactly from traces and Frobenius norms (order 2, covariance);
    ``mode``: ``"auto"``/``"perturbative"`` or ``"exact"`` (one eigendecomposition per replicate)."""
    return mode != "exact" and not standardize and order == 2.0


def expandable(standardize: bool, order: float, mode: str) -> bool:
    """Whether the replicates may come from the second-order expansion (see _spectral_bootstrap)."""
    return (mode != "exact" and not standardize and 0.0 < order < math.inf
            and not frobenius(standardize, order, mode) and (order == 1.0 or abs(order - 1.0) > 1e-3))


def _dimension_of(lam: np.ndarray, order: float, n_units: int, dtype: np.dtype, gram: bool = False) -> float:
    try:
        return effective_dimension_from_eigenvalues(denoise_eigenvalues(lam, n_units, dtype, gram)[0], order)
    except InsufficientDataError:
        return math.nan


class BlockSource:
    """Replicates from per-block covariance statistics (the covariance route)."""

    def __init__(self, blocks: _Blocks, keep: np.ndarray, standardize: bool, order: float, n_units: int,
                 dtype: np.dtype, eigen: tuple[np.ndarray, np.ndarray] | None,
                 exact_many: Callable[[np.ndarray], np.ndarray] | None = None) -> None:
        self.blocks, self.keep, self.standardize, self.order = blocks, keep, standardize, order
        self.n_units, self.dtype, self.eigen = n_units, dtype, eigen
        self.n_blocks = blocks.counts.size
        self._exact_many = exact_many

    def exact_many(self, draws: np.ndarray) -> np.ndarray:
        """Exact replicates of all rows of ``draws`` (batched on a device when one was given)."""
        if self._exact_many is not None:
            return self._exact_many(draws)
        return np.array([self.exact(w) for w in draws])

    def exact(self, weights: np.ndarray) -> float:
        n_rep, scatter_rep = self.blocks.merged(weights)
        c = scatter_rep / max(n_rep - 1.0, 1.0)
        if self.standardize:
            if np.any(np.diag(c)[self.keep] <= 0):
                return math.nan
            c = _standardize(c, self.keep)
        return _dimension_of(covariance_eigen(c, False, self.dtype, self.n_units)[0], self.order, self.n_units,
                             self.dtype)

    def participation_ratios(self, draws: np.ndarray) -> np.ndarray:
        from neurocomplex.measures._spectral_bootstrap import participation_ratios

        b = self.blocks
        return participation_ratios(b.counts, b.means, b.centres, b.grams, draws)

    def expansion(self) -> Any:
        from neurocomplex.measures._spectral_bootstrap import expand_blocks

        if self.eigen is None:
            return None
        lam, vecs = self.eigen
        signal = denoise_eigenvalues(lam, self.n_units, self.dtype)[0] > 0  # numerical zeros left out
        if np.count_nonzero(signal) < 2:
            return None
        b = self.blocks
        return expand_blocks(b.counts, b.means, b.centres, b.grams, lam[signal], vecs[:, signal], self.order)


class ProjectedSource(BlockSource):
    """Replicates from block statistics in the full-data eigenbasis (the covariance route with the
    samples projected once: cheaper than ``B`` products with the eigenvectors when ``n < B d``).

    Eigenvalues and Frobenius norms do not change under the rotation, so :meth:`exact` is the
    block source's; the expansion needs no product with the eigenvectors.
    """

    def expansion(self) -> Any:
        from neurocomplex.measures._spectral_bootstrap import expand_projected

        b = self.blocks
        r = b.grams.shape[1]  # the projection kept the eigenvectors above the rounding floor only
        if r < 2:
            return None
        return expand_projected(b.counts, b.means, b.grams, self.eigen[0][:r], self.order)


class GramSource:
    """Replicates from the centred Gram matrix ``G = Xc Xcᵀ`` of the wide route.

    ``counts``: rows of each consecutive block (the jackknife's groups, then the remainder);
    ``size``: ``G``'s size (its rounding floor); ``n_units``: the bound of D (default ``size``);
    ``lam``/``vecs``: eigenvalues (descending, in scatter units) and eigenvectors of ``G``, or
    None when no expansion is wanted.
    """

    def __init__(self, gram: np.ndarray, counts: np.ndarray, order: float, size: int, dtype: np.dtype,
                 eigen: tuple[np.ndarray, np.ndarray] | None, n_units: int | None = None) -> None:
        self.gram, self.counts, self.order = gram, counts, order
        self.size, self.dtype, self.eigen = size, dtype, eigen  # size (n) sets the rounding floor
        self.n_units = size if n_units is None else n_units  # the upper bound of D
        self.n_blocks = counts.size

    def exact_many(self, draws: np.ndarray) -> np.ndarray:
        return np.array([self.exact(w) for w in draws])

    def _weighted(self, weights: np.ndarray) -> np.ndarray:
        return weighted_gram(self.gram, np.repeat(weights, self.counts.astype(np.int64)))[0]

    def exact(self, weights: np.ndarray) -> float:
        k = self._weighted(weights)
        return _dimension_of(covariance_eigen(k, False, self.dtype, self.size, gram=True)[0], self.order,
                             self.size, self.dtype, gram=True)

    def participation_ratios(self, draws: np.ndarray) -> np.ndarray:
        out = np.empty(draws.shape[0])
        for i, w in enumerate(draws):  # tr K and ||K||_F: no eigendecomposition
            k = self._weighted(w)
            total, frob = float(np.trace(k)), float(np.sum(k * k))
            out[i] = total**2 / frob if frob > 0 and total > 0 else math.nan
        return np.clip(out, 1.0, self.n_units)

    def expansion(self) -> Any:
        from neurocomplex.measures._spectral_bootstrap import expand_rows

        if self.eigen is None:
            return None
        lam, vecs = self.eigen
        rank = int(np.count_nonzero(denoise_eigenvalues(lam, self.size, self.dtype, gram=True)[0]))
        if rank < 2:
            return None
        rows = vecs[:, :rank] * np.sqrt(lam[:rank])  # Xc V = U Λ^{1/2}: the samples in the eigenbasis
        return expand_rows(rows, self.counts, lam[:rank], self.order)


def bootstrap_replicates(source: BlockSource, n_boot: int, seed: Any, diag: dict[str, Any], mode: str = "auto",
                         n_checked: int = 2) -> np.ndarray:
    """Block-bootstrap replicates: exact from traces (order 2), else the expansion checked against
    exact replicates (all exact when the check fails or the expansion does not apply)."""
    from neurocomplex.measures._spectral_bootstrap import check_against_exact, expansion_dimensions

    draws = _draws(source.n_blocks, n_boot, seed)
    if frobenius(source.standardize, source.order, mode):
        diag["replicates"] = "exact"
        return source.participation_ratios(draws)
    expansion = source.expansion() if expandable(source.standardize, source.order, mode) else None
    if expansion is not None:
        approx = expansion_dimensions(expansion, draws)
        exact = {i: source.exact(draws[i]) for i in range(min(n_checked, n_boot))}
        ok, error = check_against_exact(approx, exact)
        diag["replicate_check_error"] = error  # largest |perturbative − exact| / sd of the replicates
        if ok:
            for i in np.flatnonzero(~np.isfinite(approx)):  # invalid expansions: exact instead
                exact[int(i)] = source.exact(draws[i])
            for i, v in exact.items():
                approx[i] = v
            diag["replicates"] = "perturbative"
            return approx
    diag["replicates"] = "exact"
    return source.exact_many(draws)


def jackknife_replicates(source: BlockSource | GramSource, n_groups: int, standardize: bool, order: float,
                         diag: dict[str, Any], mode: str = "auto") -> np.ndarray:
    """Delete-one-group replicates: exact from traces (order 2), else the expansion checked on its two
    extreme replicates (all exact when the check fails or the expansion does not apply).

    The expansion's error is mostly common to all jackknife replicates (each leaves out the same
    number of samples), which does not change their spread: the check compares the errors of the
    replicates with the smallest and the largest approximate value, and the common error measured
    on them is added to every replicate.
    """
    draws = jackknife_draws(n_groups, source.n_blocks)
    if frobenius(standardize, order, mode):
        diag["replicates"] = "exact"
        return source.participation_ratios(draws)
    expansion = source.expansion() if expandable(standardize, order, mode) else None
    known: dict[int, float] = {}
    if expansion is not None:
        from neurocomplex.measures._spectral_bootstrap import expansion_dimensions

        approx = expansion_dimensions(expansion, draws)
        finite = np.flatnonzero(np.isfinite(approx))
        if finite.size >= 2:
            lo, hi = int(finite[np.argmin(approx[finite])]), int(finite[np.argmax(approx[finite])])
            known = {lo: source.exact(draws[lo]), hi: source.exact(draws[hi])}
            e_lo, e_hi = known[lo] - approx[lo], known[hi] - approx[hi]
            spread = float(approx[hi] - approx[lo])
            slope = abs(e_hi - e_lo) / spread if spread > 0 else (0.0 if e_hi == e_lo else math.inf)
            diag["replicate_check_error"] = slope
            if slope <= JACKKNIFE_TOLERANCE:
                values = approx + 0.5 * (e_lo + e_hi)
                for i in np.flatnonzero(~np.isfinite(approx)):
                    values[i] = source.exact(draws[i])
                diag["replicates"] = "perturbative"
                return values
    diag["replicates"] = "exact"
    if not known:
        return source.exact_many(draws)
    rest = [i for i in range(draws.shape[0]) if i not in known]
    values = np.empty(draws.shape[0])
    values[rest] = source.exact_many(draws[rest])
    for i, v in known.items():
        values[i] = v
    return values


def jackknife_interval(values: np.ndarray, estimate: float, ci_level: float, low: float,
                       high: float) -> tuple[tuple[float, float] | None, dict[str, Any]]:
    """The grouped-jackknife interval ``D ± t_{G−1} · se`` and its diagnostics.

    ``se² = (G − 1)/G · Σ_g (D_(g) − mean)²`` over the ``G`` finite replicates; the interval is
    centred on the estimate and clipped to ``[low, high]``. ``bias`` is the jackknife's estimate
    ``(G − 1)(mean − D)``, which the interval does not include.

    Examples
    --------
    >>> ci, diag = jackknife_interval(np.array([9.0, 10.0, 11.0]), 10.0, 0.95, 1.0, 100.0)
    >>> round(diag["jackknife_se"], 6), [round(c, 3) for c in ci]
    (1.154701, [5.032, 14.968])
    """
    reps = np.asarray(values, dtype=float)
    reps = reps[np.isfinite(reps)]
    diag: dict[str, Any] = {"interval": "jackknife", "percentile_ci": None}
    if reps.size < 2:
        diag.update({"bias": math.nan, "jackknife_se": math.nan})
        return None, diag
    g = reps.size
    se = math.sqrt((g - 1) / g * float(np.sum((reps - reps.mean()) ** 2)))
    half = float(special.stdtrit(g - 1, 0.5 + ci_level / 2.0)) * se  # Student's t quantile
    diag.update({"bias": (g - 1) * float(reps.mean() - estimate), "jackknife_se": se})
    return (max(low, estimate - half), min(high, estimate + half)), diag
