"""Representational similarity of two populations over the same samples: CKA and shape distance.

Pair estimators ``nc.name(x, y, **params) -> Estimate`` (registered with ``input="pair"``):
:func:`cka` (linear centred kernel alignment, and its debiased form) and :func:`shape_distance`
(angular Procrustes distance), both from per-block products of the two populations
(:mod:`neurocomplex.stats.pair_blocks`). The other pair estimators live beside this module:
:mod:`~neurocomplex.measures.rsa` (RDMs and their comparison) and
:mod:`~neurocomplex.measures.predictivity` (cross-validated ridge). Every interval is a bootstrap
over samples (over conditions for RSA); the replicates are kept in ``diagnostics["replicates"]``
in draw order, so two calls with the same seed and number of samples resample the same stimuli
(which :func:`neurocomplex.similarity_matrix` uses to find each area's best layer).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from neurocomplex._validation import check_int
from neurocomplex.errors import (
    InsufficientDataError,
    InvalidParameterError,
)
from neurocomplex.estimate import Estimate, check_bootstrap_params, register_estimator
from neurocomplex.measures._pairs import as_float, check_pair, finish
from neurocomplex.recording import Recording
from neurocomplex.stats import pair_blocks as pbk

__all__ = ["cka", "shape_distance"]

# Per-block products kept for a bootstrap over samples (float64 bytes), and the fewest blocks
# that make an interval worth reporting.
_BLOCK_MEMORY = 512 * 1024**2
_DEFAULT_N_BLOCKS = 50
_MIN_BLOCKS = 10


# --------------------------------------------------------------------------- blocks of samples
def _blocks_for(x: Recording, n_boot: int, n_blocks: int | None, block_size: int | None, seed: int | None,
                per_block_bytes: float) -> tuple[list[np.ndarray], list[str]]:
    """Row blocks for a bootstrap from per-block products (one block when no interval is wanted)."""
    n = x.n_samples
    if n_boot == 0:
        return [np.arange(n)], []
    if block_size is not None:
        blocks = pbk.block_assignment(n, 0, block_size, seed)
    else:
        fit = int(_BLOCK_MEMORY // per_block_bytes)
        blocks = pbk.block_assignment(n, min(n_blocks or min(_DEFAULT_N_BLOCKS, fit), n), None, seed)
    if len(blocks) < _MIN_BLOCKS:
        note = (f"no interval: a bootstrap over samples from per-block products needs at least {_MIN_BLOCKS} "
                f"blocks of samples, and {len(blocks)} were available ({n} samples, "
                f"{per_block_bytes / 2**20:.1f} MiB of products per block, {_BLOCK_MEMORY // 2**20} MiB allowed "
                "by default); pass n_blocks (>= 10) to use more memory, or n_boot=0.")
        return [np.arange(n)], [note]
    return blocks, []


# --------------------------------------------------------------------------- CKA
@register_estimator(family="similarity", input="pair", bounds=(-math.inf, math.inf),
                    invalid_params=({"n_blocks": 1}, {"block_size": 0}, {"debiased": "yes"}))
def cka(
    x: Recording,
    y: Recording,
    debiased: bool = False,
    n_boot: int = 200,
    seed: int | None = 0,
    ci_level: float = 0.95,
    n_blocks: int | None = None,
    block_size: int | None = None,
    device: Any = None,
) -> Estimate:
    """Linear centred kernel alignment of two populations over the same samples.

    Parameters
    ----------
    x, y : Recording
        Populations over the same samples in the same order (n × p and n × q).
    debiased : bool
        Use the unbiased HSIC estimator (Song et al. 2012) instead of the plug-in one.
    n_boot : int
        Bootstrap replicates over samples for the interval (0: none).
    seed : int or None
        Seed of the grouping of samples into blocks and of the resampling.
    ci_level : float
        Coverage of the percentile interval.
    n_blocks : int, optional
        Groups the samples are split into for the bootstrap (default 50, fewer when the per-block
        products would exceed 512 MiB; at least 10 for an interval, else none, with a warning:
        more samples than units and p² ≳ 50 MiB, e.g. 10,000 × 4,096).
    block_size : int, optional
        Contiguous blocks of this many samples instead of random groups (time series).
    device : str or torch.device, optional
        With a torch device (``"cuda"``, ``"cuda:1"``, ``"cpu"``), the data are moved there once
        and the per-block products (or sample Gram matrices) and their reduction to the block
        statistics run there; only those statistics (B × B and B × B × B arrays) come back, and the
        estimate and every bootstrap replicate agree with the numpy path to float rounding. Both
        populations must fit in the device's memory. None (default): numpy.

    Returns
    -------
    Estimate
        ``value`` in [0, 1] (debiased: near [0, 1], can fall slightly outside with few samples).
        ``diagnostics``: ``hsic_xy``, ``hsic_xx``, ``hsic_yy``, ``replicates`` (every bootstrap
        value in draw order, NaN where undefined), ``n_blocks``.

    Raises
    ------
    InvalidParameterError
        Not Recordings; different numbers of samples, sample times or sample labels; bad parameters
        or ``device``.
    MissingDependencyError
        ``device`` given without torch installed.
    InsufficientDataError
        Fewer than 2 samples (4 when debiased); a population with no variance.

    Notes
    -----
    With X (n × p, ``x``) and Y (n × q, ``y``) column-centred, CKA = ||XᵀY||²_F / (||XᵀX||_F
    ||YᵀY||_F) (Kornblith et al. 2019), computed from the p × q, p × p and q × q products in the
    data's precision (float32 data: float32 products accumulated in float64), never from the
    n × n Gram matrices when there are more samples than that (n >= (pq + p²/2 + q²/2) / (p + q),
    about the mean width). Its cost is n(pq + p²/2 + q²/2) multiply-adds: the self terms cost
    more than XᵀY when p or q exceeds the other. With fewer samples, the same statistics come
    from the n × n Gram matrices XXᵀ and YYᵀ (n²(p + q) multiply-adds). ``debiased=True`` replaces each HSIC by the unbiased
    estimator of Song et al. (2012), written through the same products plus the row norms (the
    zeroed Gram diagonals), so it costs the same. The bootstrap groups the samples into
    ``n_blocks`` random groups (or contiguous ``block_size`` runs), keeps per-group products, and
    evaluates every replicate (groups drawn with replacement) exactly from quadratic and cubic
    forms in the draw counts: the data are read once whatever ``n_boot`` is. Resamples repeat
    samples, which biases the plug-in CKA upwards, so the plug-in interval is the basic bootstrap
    interval (reflected about the estimate; the percentile one is in ``diagnostics``); in the
    debiased replicates the pairs of copies of one sample are left out with the diagonal (as
    RSA's bootstrap leaves out pairs of one condition), and the percentile interval is reported.
    With many more units than samples the plug-in value is itself strongly biased upwards and its
    interval can exclude it (a warning says so): prefer ``debiased=True`` there.

    References
    ----------
    .. [1] S. Kornblith, M. Norouzi, H. Lee, G. Hinton, "Similarity of neural network
       representations revisited", ICML (2019).
    .. [2] L. Song, A. Smola, A. Gretton, J. Bedo, K. Borgwardt, "Feature selection via dependence
       maximization", JMLR 13 (2012).

    Examples
    --------
    >>> import numpy as np, neurocomplex as nc
    >>> X = np.random.default_rng(0).normal(size=(100, 5))
    >>> Q, _ = np.linalg.qr(np.random.default_rng(1).normal(size=(5, 5)))
    >>> x, y = nc.Recording.from_array(X), nc.Recording.from_array(3 * X @ Q)
    >>> round(nc.cka(x, y, n_boot=0).value, 10)
    1.0
    """
    if not isinstance(debiased, bool):
        raise InvalidParameterError(f"debiased must be True or False, got {debiased!r}.")
    check_bootstrap_params(n_boot, ci_level, block_size)
    check_int("n_blocks", n_blocks, 2, allow_none=True)
    check_pair(x, y, 4 if debiased else 2)
    p, q = x.n_units, y.n_units
    blocks, notes = _blocks_for(x, n_boot, n_blocks, block_size, seed, cka_block_bytes(x.n_samples, p, q))
    if device is None:
        pb = pbk.pair_blocks(as_float(x), as_float(y), blocks, debiased)
    else:
        from neurocomplex._backend.pair_blocks import pair_blocks_torch  # torch only when a device is asked for

        pb = pair_blocks_torch(as_float(x), as_float(y), blocks, debiased, device)
    ones = np.ones((1, pb.n_blocks))
    terms = _cka_terms(pb, ones, debiased)
    if not (terms[1][0] > 0 and terms[2][0] > 0):
        raise InsufficientDataError(
            "x or y has no variance across samples (or, debiased, too little to estimate it): CKA is undefined."
        )
    value = float(terms[0][0] / np.sqrt(terms[1][0] * terms[2][0]))
    reps = np.empty(0)
    if pb.n_blocks > 1:
        w = pbk.replicate_weights(pb.n_blocks, n_boot, seed)
        hxy, hxx, hyy = _cka_terms(pb, w, debiased, exclude_copies=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            reps = np.where((hxx > 0) & (hyy > 0), hxy / np.sqrt(np.abs(hxx * hyy)), np.nan)
    diagnostics: dict[str, Any] = {"hsic_xy": float(terms[0][0]), "hsic_xx": float(terms[1][0]),
                                   "hsic_yy": float(terms[2][0]), "replicates": reps, "n_blocks": pb.n_blocks}
    low, high = (-math.inf, math.inf) if debiased else (0.0, 1.0)
    ci, diagnostics, notes = finish(value, reps, ci_level, low, high, diagnostics, notes,
                                     "percentile" if debiased else "basic")
    return Estimate(value=value, ci=ci, method="linear_cka_debiased" if debiased else "linear_cka",
                    params={"debiased": debiased, "n_boot": n_boot, "seed": seed, "ci_level": ci_level,
                            "n_blocks": pb.n_blocks if pb.n_blocks > 1 else n_blocks, "block_size": block_size,
                            "device": None if device is None else str(device)},
                    n_samples=x.n_samples, n_units=p + q, diagnostics=diagnostics, warnings=tuple(notes))


def cka_block_bytes(n: int, p: int, q: int) -> float:
    """Memory each bootstrap block of :func:`cka` keeps (its products; nothing per block when the
    statistics come from the n × n sample Gram matrices)."""
    return 1.0 if pbk.use_grams(n, p, q) else 8.0 * (p * q + p * p + q * q)


def _cka_terms(pb: pbk.PairBlocks, w: np.ndarray, debiased: bool, exclude_copies: bool = False
               ) -> tuple[np.ndarray, ...]:
    if debiased:
        return tuple(pbk.unbiased_hsic(pb, k, w, exclude_copies) for k in ("xy", "xx", "yy"))
    fxy = pbk.centred_frobenius2(pb, "xy", w)
    return fxy, pbk.centred_frobenius2(pb, "xx", w), pbk.centred_frobenius2(pb, "yy", w)


# --------------------------------------------------------------------------- shape distance
@register_estimator(family="similarity", input="pair", bounds=(0.0, math.pi / 2),
                    invalid_params=({"n_blocks": 1}, {"block_size": 0}))
def shape_distance(
    x: Recording,
    y: Recording,
    n_boot: int = 100,
    seed: int | None = 0,
    ci_level: float = 0.95,
    n_blocks: int | None = None,
    block_size: int | None = None,
    device: Any = None,
) -> Estimate:
    """Angular Procrustes shape distance between two populations over the same samples.

    Parameters
    ----------
    x, y : Recording
        Populations over the same samples in the same order.
    n_boot : int
        Bootstrap replicates over samples (0: no interval). Each costs one SVD of a p × q matrix.
    seed : int or None
        Seed of the grouping of samples into blocks and of the resampling.
    ci_level : float
        Coverage of the percentile interval.
    n_blocks, block_size : int, optional
        As in :func:`cka` (per-block products are p × q only; a population with more units than
        samples is first reduced exactly to n columns, so they are at most n × n).
    device : str or torch.device, optional
        With a torch device (``"cuda"``, ``"cuda:1"``, ``"cpu"``), the centred data are moved there
        once, the per-block products are computed there, and every replicate's p × q
        cross-product is merged and its singular values computed there (batched, float64); only
        the cosines come back, and the estimate and every bootstrap replicate agree with the numpy
        path to float rounding. Both populations must fit in the device's memory. None (default):
        numpy.

    Returns
    -------
    Estimate
        ``value`` in [0, π/2] radians: 0 when one population is a rotation (and scaling) of the
        other. ``diagnostics``: ``cosine`` (the nuclear norm), ``replicates``, ``n_blocks``.

    Raises
    ------
    InvalidParameterError
        Not Recordings; different samples; bad parameters or ``device``.
    MissingDependencyError
        ``device`` given without torch installed.
    InsufficientDataError
        Fewer than 2 samples; a population with no variance.

    Notes
    -----
    X̃, Ỹ are ``x`` and ``y`` column-centred and scaled to unit Frobenius norm, zero-padded to the
    same width (padding changes nothing below). The distance is arccos max_Q tr(X̃ Q Ỹᵀ) over
    orthogonal Q, which equals arccos ||X̃ᵀỸ||_* (nuclear norm: the sum of singular values of the
    p × q cross-product) (Williams et al. 2021, Procrustes case α = 1). It is a metric on shapes.
    The interval is the basic bootstrap interval over groups of samples (resamples repeat samples,
    which shrinks the distance; reflecting about the estimate corrects that shift), computed
    from per-group p × q products as in :func:`cka`: with G_b, s_x,b, s_y,b, t_x,b, t_y,b and n_b
    the product, column sums, sums of squares and size of group b of the centred data, a
    replicate drawing group b w_b times has N = Σ w_b n_b, u = Σ w_b s_x,b, v = Σ w_b s_y,b, the
    cross-product C = Σ w_b G_b − u vᵀ / N and cosine ||C||_* / √((Σ w_b t_x,b − |u|²/N)
    (Σ w_b t_y,b − |v|²/N)). With ``device``, those statistics and the replicates' singular
    values (batched) are computed on the device.

    References
    ----------
    .. [1] A. H. Williams, E. Kunz, S. Kornblith, S. W. Linderman, "Generalized shape metrics on
       neural representations", NeurIPS (2021).

    Examples
    --------
    >>> import numpy as np, neurocomplex as nc
    >>> X = np.random.default_rng(0).normal(size=(50, 3))
    >>> Q, _ = np.linalg.qr(np.random.default_rng(1).normal(size=(3, 3)))
    >>> d = nc.shape_distance(nc.Recording.from_array(X), nc.Recording.from_array(2 * X @ Q + 1), n_boot=0)
    >>> round(d.value, 6)
    0.0
    """
    check_bootstrap_params(n_boot, ci_level, block_size)
    check_int("n_blocks", n_blocks, 2, allow_none=True)
    check_pair(x, y, 2)
    p, q = x.n_units, y.n_units
    n = x.n_samples
    blocks, notes = _blocks_for(x, n_boot, n_blocks, block_size, seed, 8.0 * min(p, n) * min(q, n))
    xc, yc = pbk._centred_work(_narrow(as_float(x))), pbk._centred_work(_narrow(as_float(y)))
    n_b = len(blocks)
    draws = pbk.replicate_weights(n_b, n_boot, seed) if n_b > 1 else np.empty((0, n_b))
    weights = np.r_[np.ones((1, n_b)), draws]  # the estimate (every block once), then the replicates
    if device is None:
        cosines = _shape_cosines(xc, yc, blocks, weights)
    else:
        from neurocomplex._backend.pair_blocks import shape_cosines_torch  # torch only when asked for

        cosines = shape_cosines_torch(xc, yc, blocks, weights, device)
    cos = float(cosines[0])
    if not math.isfinite(cos):
        raise InsufficientDataError("x or y has no variance across samples: the shape distance is undefined.")
    value = float(np.arccos(np.clip(cos, -1.0, 1.0)))
    reps = np.arccos(np.clip(cosines[1:], -1.0, 1.0))
    diagnostics: dict[str, Any] = {"cosine": cos, "replicates": reps, "n_blocks": len(blocks)}
    ci, diagnostics, notes = finish(value, reps, ci_level, 0.0, math.pi / 2, diagnostics, notes, "basic")
    return Estimate(value=value, ci=ci, method="angular_procrustes",
                    params={"n_boot": n_boot, "seed": seed, "ci_level": ci_level,
                            "n_blocks": len(blocks) if len(blocks) > 1 else n_blocks, "block_size": block_size,
                            "device": None if device is None else str(device)},
                    n_samples=x.n_samples, n_units=p + q, diagnostics=diagnostics, warnings=tuple(notes))


def _shape_cosines(xc: np.ndarray, yc: np.ndarray, blocks: list[np.ndarray], weights: np.ndarray) -> np.ndarray:
    """Cosine ``||C(w)||_* / sqrt(t_x(w) t_y(w))`` of each row of block weights ``weights`` (NaN
    where a side has no variance), from per-block products, column sums and sums of squares."""
    grams = np.stack([pbk._product(xc[i], yc[i]) for i in blocks])
    sx = np.stack([xc[i].sum(axis=0, dtype=np.float64) for i in blocks])
    sy = np.stack([yc[i].sum(axis=0, dtype=np.float64) for i in blocks])
    tx = np.array([np.einsum("ij,ij->", xc[i], xc[i], dtype=np.float64) for i in blocks])
    ty = np.array([np.einsum("ij,ij->", yc[i], yc[i], dtype=np.float64) for i in blocks])
    counts = np.array([i.size for i in blocks], dtype=np.float64)
    out = np.full(weights.shape[0], math.nan)
    for r, w in enumerate(weights):
        n = w @ counts
        a, b = w @ sx, w @ sy
        norm = (w @ tx - a @ a / n) * (w @ ty - b @ b / n)
        if norm > 0:
            cxy = np.tensordot(w, grams, axes=1) - np.outer(a, b) / n
            out[r] = np.linalg.svd(cxy, compute_uv=False).sum() / math.sqrt(norm)
    return out


def _narrow(a: np.ndarray) -> np.ndarray:
    """``a`` with more units than samples replaced by XQ = Rᵀ (n × n) from the QR decomposition
    Xᵀ = QR: a right-orthogonal map, so every shape statistic (XXᵀ) is unchanged."""
    n, width = a.shape
    if width <= n:
        return a
    return np.linalg.qr(np.asarray(a, dtype=np.float64).T, mode="r").T
