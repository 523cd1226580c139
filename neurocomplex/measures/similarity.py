"""Representational similarity of two populations over the same samples (stimuli, trials, bins).

Pair estimators ``nc.name(x, y, **params) -> Estimate`` (registered with ``input="pair"``):
:func:`cka` (linear centred kernel alignment, and its debiased form), :func:`rsa` (comparison of
representational dissimilarity matrices), :func:`shape_distance` (angular Procrustes distance)
and :func:`predictivity` (cross-validated ridge regression). :func:`rdm` returns the
dissimilarity matrix itself. Every interval is a bootstrap over samples (over conditions for
RSA); the replicates are kept in ``diagnostics["replicates"]`` in draw order, so two calls with
the same seed and number of samples resample the same stimuli (which
:func:`neurocomplex.similarity_matrix` uses to find each area's best layer).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from neurocomplex._validation import check_choice, check_float, check_int, check_recording, check_same_samples
from neurocomplex.errors import (
    InsufficientDataError,
    InvalidParameterError,
    NeurocomplexWarning,
)
from neurocomplex.estimate import Estimate, check_bootstrap_params, interval_report, register_estimator
from neurocomplex.measures import _pair_blocks as pbk
from neurocomplex.measures._rank import RankPair, kendall_tau_a, spearman
from neurocomplex.measures._reliability import (
    average_by_condition,
    random_half,
    ridge_predictions,
    unit_reliability,
    weighted_r,
)
from neurocomplex.recording import Recording

__all__ = ["cka", "rsa", "rdm", "shape_distance", "predictivity", "DISTANCES", "RDM_COMPARISONS"]

DISTANCES = ("correlation", "euclidean", "sqeuclidean")
RDM_COMPARISONS = ("spearman", "kendall_tau_a")
# Per-block products kept for a bootstrap over samples (float64 bytes), and the fewest blocks
# that make an interval worth reporting.
_BLOCK_MEMORY = 512 * 1024**2
_DEFAULT_N_BLOCKS = 50
_MIN_BLOCKS = 10
_DEFAULT_ALPHAS = tuple(float(a) for a in np.logspace(-3, 3, 13))


# --------------------------------------------------------------------------- shared checks
def _labels(rec: Recording) -> Any:
    return getattr(rec, "labels", None)


def _check_pair(x: Any, y: Any, min_samples: int = 2) -> None:
    """Both Recordings, the same samples in the same order (count, times, shared label columns)."""
    check_same_samples(x, y)
    if x.n_samples < min_samples:
        raise InsufficientDataError(f"x and y have {x.n_samples} samples; this measure needs at least {min_samples}.")


def _float(rec: Recording) -> np.ndarray:
    d = rec.data
    return d if d.dtype in (np.float32, np.float64) else d.astype(np.float64)


def _condition_codes(x: Recording, y: Recording, conditions: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """Integer code per sample (conditions in sorted order) and the condition values, or None."""
    if conditions is None:
        return None
    if isinstance(conditions, str):
        table = _labels(y) if _labels(y) is not None and conditions in _labels(y).columns else _labels(x)
        if table is None or conditions not in table.columns:
            have = sorted(set(getattr(_labels(x), "columns", [])) | set(getattr(_labels(y), "columns", [])))
            raise InvalidParameterError(
                f"conditions={conditions!r} is not a label column of x or y (columns: {have or 'none'}); "
                "pass a column name of rec.labels or an array with one condition per sample."
            )
        values = np.asarray(table[conditions])
    else:
        values = np.asarray(conditions)
        if values.shape != (x.n_samples,):
            raise InvalidParameterError(
                f"conditions must hold one value per sample ({x.n_samples}), got shape {values.shape}."
            )
    try:
        uniq, codes = np.unique(values, return_inverse=True)
    except TypeError as err:
        raise InvalidParameterError(f"condition values cannot be sorted: {err}.") from err
    return codes.reshape(-1), uniq


def _finish(value: float, reps: np.ndarray, ci_level: float, low: float, high: float,
            diagnostics: dict[str, Any], notes: list[str], interval: str = "percentile"
            ) -> tuple[Any, dict[str, Any], list[str]]:
    ci, diag, msgs = interval_report(reps, value, ci_level, interval, low, high)
    diagnostics.update(diag)
    notes = notes + msgs
    for msg in notes:
        warnings.warn(msg, NeurocomplexWarning, stacklevel=3)
    return ci, diagnostics, notes


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
    _check_pair(x, y, 4 if debiased else 2)
    p, q = x.n_units, y.n_units
    blocks, notes = _blocks_for(x, n_boot, n_blocks, block_size, seed, cka_block_bytes(x.n_samples, p, q))
    if device is None:
        pb = pbk.pair_blocks(_float(x), _float(y), blocks, debiased)
    else:
        from neurocomplex.torch._pair_blocks import pair_blocks_torch  # torch only when a device is asked for

        pb = pair_blocks_torch(_float(x), _float(y), blocks, debiased, device)
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
    ci, diagnostics, notes = _finish(value, reps, ci_level, low, high, diagnostics, notes,
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
    _check_pair(x, y, 2)
    p, q = x.n_units, y.n_units
    n = x.n_samples
    blocks, notes = _blocks_for(x, n_boot, n_blocks, block_size, seed, 8.0 * min(p, n) * min(q, n))
    xc, yc = pbk._centred_work(_narrow(_float(x))), pbk._centred_work(_narrow(_float(y)))
    n_b = len(blocks)
    draws = pbk.replicate_weights(n_b, n_boot, seed) if n_b > 1 else np.empty((0, n_b))
    weights = np.r_[np.ones((1, n_b)), draws]  # the estimate (every block once), then the replicates
    if device is None:
        cosines = _shape_cosines(xc, yc, blocks, weights)
    else:
        from neurocomplex.torch._pair_blocks import shape_cosines_torch  # torch only when asked for

        cosines = shape_cosines_torch(xc, yc, blocks, weights, device)
    cos = float(cosines[0])
    if not math.isfinite(cos):
        raise InsufficientDataError("x or y has no variance across samples: the shape distance is undefined.")
    value = float(np.arccos(np.clip(cos, -1.0, 1.0)))
    reps = np.arccos(np.clip(cosines[1:], -1.0, 1.0))
    diagnostics: dict[str, Any] = {"cosine": cos, "replicates": reps, "n_blocks": len(blocks)}
    ci, diagnostics, notes = _finish(value, reps, ci_level, 0.0, math.pi / 2, diagnostics, notes, "basic")
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


# --------------------------------------------------------------------------- RDMs and RSA
def _rdm_matrix(patterns: np.ndarray, distance: str, where: str) -> np.ndarray:
    a = np.asarray(patterns, dtype=np.float64)
    if distance == "correlation":
        a = a - a.mean(axis=1, keepdims=True)
        norms = np.sqrt(np.einsum("ij,ij->i", a, a))
        flat = np.flatnonzero(norms == 0)
        if flat.size:
            raise InsufficientDataError(
                f"{where}: the pattern of sample (or condition) {int(flat[0])} is the same in every unit, so its "
                "correlation distance is undefined; drop it or use distance='euclidean'."
            )
        a /= norms[:, None]
        d = 1.0 - a @ a.T
    else:
        a = a - a.mean(axis=0)  # distances are translation invariant; centring limits cancellation
        sq = np.einsum("ij,ij->i", a, a)
        d = np.maximum(sq[:, None] + sq[None, :] - 2.0 * (a @ a.T), 0.0)
        d = np.sqrt(d) if distance == "euclidean" else d / a.shape[1]
    np.fill_diagonal(d, 0.0)
    return (d + d.T) * 0.5


def rdm(rec: Recording, distance: str = "correlation", conditions: Any = None) -> np.ndarray:
    """Representational dissimilarity matrix of a population's samples (or conditions).

    Parameters
    ----------
    rec : Recording
        Population; each row (sample) is one activity pattern.
    distance : {"correlation", "euclidean", "sqeuclidean"}
        ``"correlation"``: 1 − Pearson correlation between two patterns across units;
        ``"euclidean"``: the Euclidean distance; ``"sqeuclidean"``: the squared Euclidean distance
        divided by the number of units (what rsatoolbox calls ``"euclidean"``).
    conditions : str or array-like, optional
        A column of ``rec.labels`` or one value per sample: the patterns of each condition are
        averaged first (conditions in sorted order, as rsatoolbox's ``descriptor``).

    Returns
    -------
    numpy.ndarray
        float64 array (n_conditions, n_conditions), symmetric with a zero diagonal.

    Raises
    ------
    InvalidParameterError
        Not a Recording; unknown distance; conditions that do not match the samples.
    InsufficientDataError
        Fewer than 2 samples; a constant pattern with ``distance="correlation"``.

    Notes
    -----
    With P the (n × p) pattern matrix, ``"correlation"`` is 1 − P̂P̂ᵀ with each row of P̂ centred
    and scaled to unit norm: one n × n × p matrix product, the same values as rsatoolbox's
    ``calc_rdm(..., method="correlation")``.

    References
    ----------
    .. [1] N. Kriegeskorte, M. Mur, P. Bandettini, "Representational similarity analysis —
       connecting the branches of systems neuroscience", Front. Syst. Neurosci. 2:4 (2008).

    Examples
    --------
    >>> import numpy as np, neurocomplex as nc
    >>> rec = nc.Recording.from_array(np.array([[0.0, 0.0], [3.0, 4.0], [6.0, 8.0]]))
    >>> nc.rdm(rec, distance="euclidean")
    array([[ 0.,  5., 10.],
           [ 5.,  0.,  5.],
           [10.,  5.,  0.]])
    """
    check_recording(rec, "rec", min_samples=2)
    check_choice("distance", distance, DISTANCES)
    data = _float(rec)
    codes = _condition_codes(rec, rec, conditions)
    if codes is not None:
        data = average_by_condition(data, codes[0], codes[1].size)
        if codes[1].size < 2:
            raise InsufficientDataError("an RDM needs at least 2 conditions; all samples have the same condition.")
    return _rdm_matrix(data, distance, "rdm")


def _compare(a: np.ndarray, b: np.ndarray, method: str) -> float:
    return spearman(a, b) if method == "spearman" else kendall_tau_a(a, b)


def _split_half_reliability(data: np.ndarray, codes: np.ndarray, n_cond: int, distance: str, compare: str,
                            n_splits: int, rng: np.random.Generator) -> float:
    """Spearman–Brown corrected split-half consistency of a population's RDM (mean over splits)."""
    iu = np.triu_indices(n_cond, 1)
    rs = []
    for _ in range(n_splits):
        half = random_half(codes, n_cond, rng)
        try:
            ra = _rdm_matrix(average_by_condition(data[half], codes[half], n_cond), distance, "split half")[iu]
            rb = _rdm_matrix(average_by_condition(data[~half], codes[~half], n_cond), distance, "split half")[iu]
        except InsufficientDataError:
            continue
        rs.append(_compare(ra, rb, compare))
    r = float(np.nanmean(rs)) if rs else math.nan
    return 2 * r / (1 + r) if math.isfinite(r) and r > -1 else math.nan


@register_estimator(family="similarity", input="pair", bounds=(-1.0, 1.0),
                    invalid_params=({"distance": "cosine"}, {"compare": "pearson"}, {"n_splits": 0}))
def rsa(
    x: Recording,
    y: Recording,
    distance: str = "correlation",
    compare: str = "spearman",
    conditions: Any = None,
    n_boot: int = 200,
    seed: int | None = 0,
    ci_level: float = 0.95,
    n_splits: int = 20,
) -> Estimate:
    """Representational similarity: rank correlation between the RDMs of two populations.

    Parameters
    ----------
    x, y : Recording
        Populations over the same samples in the same order.
    distance : {"correlation", "euclidean", "sqeuclidean"}
        Dissimilarity of two patterns (see :func:`rdm`).
    compare : {"spearman", "kendall_tau_a"}
        Spearman's ρ (average ranks for ties) or Kendall's τ_a between the RDMs' upper triangles.
    conditions : str or array-like, optional
        A label column or one value per sample. Patterns are averaged per condition; when a
        condition has repeats, a split-half noise ceiling is computed.
    n_boot : int
        Bootstrap replicates over conditions (0: no interval).
    seed : int or None
        Seed of the bootstrap and of the split halves.
    ci_level : float
        Coverage of the percentile interval.
    n_splits : int
        Random split halves averaged for the noise ceiling.

    Returns
    -------
    Estimate
        ``value`` in [-1, 1]. ``diagnostics``: ``replicates``, ``n_conditions`` and, with repeats,
        ``reliability_x``, ``reliability_y``, ``noise_ceiling`` and ``normalized`` (value / ceiling).

    Raises
    ------
    InvalidParameterError
        Not Recordings; different samples or misaligned labels; bad parameters.
    InsufficientDataError
        Fewer than 3 conditions; a constant pattern (correlation distance); a constant RDM.

    Notes
    -----
    The value is ``compare`` between the upper triangles of ``rdm(x)`` and ``rdm(y)``; it equals
    rsatoolbox's ``compare(calc_rdm(x), calc_rdm(y), method="spearman" | "tau-a")``. The interval
    resamples conditions with replacement: a replicate keeps every pair of drawn conditions
    except pairs of the same condition (as rsatoolbox's pattern bootstrap), so the pair (i, j)
    enters c_i c_j times (c: draw counts); Spearman's ρ of that multiset is computed from the
    weights with ranks from one sort (O(n²) per replicate), τ_a on the expanded vectors.
    Noise ceiling (the project's choice, after Brain-Score's split-half consistency): for each
    population the trials of every condition are split at random into two halves, the two
    half-RDMs compared with ``compare``, averaged over ``n_splits`` splits, and corrected by
    Spearman–Brown, r' = 2r / (1 + r); the ceiling is √(r'_x r'_y) (a deterministic network seeing
    repeated stimuli has r' = 1).

    References
    ----------
    .. [1] N. Kriegeskorte, M. Mur, P. Bandettini, "Representational similarity analysis —
       connecting the branches of systems neuroscience", Front. Syst. Neurosci. 2:4 (2008).
    .. [2] H. Nili et al., "A toolbox for representational similarity analysis", PLoS Comput.
       Biol. 10(4): e1003553 (2014).

    Examples
    --------
    >>> import numpy as np, neurocomplex as nc
    >>> X = np.random.default_rng(0).normal(size=(20, 6))
    >>> nc.rsa(nc.Recording.from_array(X), nc.Recording.from_array(2 * X + 1), n_boot=0).value
    1.0
    """
    check_choice("distance", distance, DISTANCES)
    check_choice("compare", compare, RDM_COMPARISONS)
    check_bootstrap_params(n_boot, ci_level, None)
    check_int("n_splits", n_splits, 1)
    _check_pair(x, y, 3)
    codes = _condition_codes(x, y, conditions)
    dx, dy = _float(x), _float(y)
    notes: list[str] = []
    diagnostics: dict[str, Any] = {}
    if codes is not None:
        n_cond = codes[1].size
        if n_cond < 3:
            raise InsufficientDataError(f"RSA needs at least 3 conditions; there are {n_cond}.")
        px, py = average_by_condition(dx, codes[0], n_cond), average_by_condition(dy, codes[0], n_cond)
    else:
        n_cond, px, py = x.n_samples, dx, dy
    iu = np.triu_indices(n_cond, 1)
    vx, vy = _rdm_matrix(px, distance, "x")[iu], _rdm_matrix(py, distance, "y")[iu]
    ranks = RankPair(vx, vy) if compare == "spearman" else None
    ones = np.ones(vx.size)
    value = ranks.spearman(ones, ones) if ranks is not None else kendall_tau_a(vx, vy)
    if not math.isfinite(value):
        raise InsufficientDataError("one RDM is constant (all dissimilarities equal): the rank correlation is undefined.")
    reps = np.empty(0)
    if n_boot:
        rng = np.random.default_rng(seed)
        draws = rng.multinomial(n_cond, np.full(n_cond, 1.0 / n_cond), size=n_boot).astype(np.float64)
        if ranks is not None:
            # the pairs (i, j) listed in each RDM's sorted order, so weights need no big gather
            i_a, j_a = iu[0][ranks.sa.order].astype(np.int32), iu[1][ranks.sa.order].astype(np.int32)
            i_b, j_b = iu[0][ranks.sb.order].astype(np.int32), iu[1][ranks.sb.order].astype(np.int32)
            reps = np.array([ranks.spearman(np.take(c, i_a) * np.take(c, j_a), np.take(c, i_b) * np.take(c, j_b))
                             for c in draws])
        else:
            reps = np.array([kendall_tau_a(np.repeat(vx, (c[iu[0]] * c[iu[1]]).astype(np.int64)),
                                           np.repeat(vy, (c[iu[0]] * c[iu[1]]).astype(np.int64))) for c in draws])
    if codes is not None:
        counts = np.bincount(codes[0], minlength=n_cond)
        if counts.min() >= 2:
            rng_h = np.random.default_rng([0 if seed is None else seed, 1])
            rel_x = _split_half_reliability(dx, codes[0], n_cond, distance, compare, n_splits, rng_h)
            rel_y = _split_half_reliability(dy, codes[0], n_cond, distance, compare, n_splits, rng_h)
            ceiling = math.sqrt(rel_x * rel_y) if rel_x > 0 and rel_y > 0 else math.nan
            diagnostics.update(reliability_x=rel_x, reliability_y=rel_y, noise_ceiling=ceiling,
                               normalized=value / ceiling if ceiling > 0 else math.nan)
            if not ceiling > 0:
                notes.append("the split-half reliability of x or y is not positive: no noise ceiling.")
        else:
            notes.append(f"{int((counts < 2).sum())} condition(s) have a single sample: no split-half noise ceiling.")
    diagnostics.update(replicates=reps, n_conditions=n_cond)
    ci, diagnostics, notes = _finish(value, reps, ci_level, -1.0, 1.0, diagnostics, notes)
    return Estimate(value=value, ci=ci, method=f"rsa_{distance}_{compare}",
                    params={"distance": distance, "compare": compare, "n_boot": n_boot, "seed": seed,
                            "ci_level": ci_level, "n_splits": n_splits,
                            "conditions": conditions if isinstance(conditions, str) or conditions is None else "array"},
                    n_samples=x.n_samples, n_units=x.n_units + y.n_units, diagnostics=diagnostics,
                    warnings=tuple(notes))


# --------------------------------------------------------------------------- predictivity
@register_estimator(family="similarity", input="pair", bounds=(-math.inf, math.inf),
                    invalid_params=({"n_splits": 1}, {"alpha": -1.0}, {"n_halves": 0}))
def predictivity(
    x: Recording,
    y: Recording,
    alpha: float | tuple[float, ...] | None = None,
    n_splits: int = 5,
    conditions: Any = None,
    n_boot: int = 200,
    seed: int | None = 0,
    ci_level: float = 0.95,
    n_halves: int = 10,
) -> Estimate:
    """Cross-validated ridge predictivity of each unit of ``y`` from all units of ``x``.

    Parameters
    ----------
    x : Recording
        Predictor population (e.g. a network layer).
    y : Recording
        Predicted population (e.g. a brain area), over the same samples in the same order.
    alpha : float or tuple of float, optional
        Ridge penalty per sample on z-scored predictors, or candidates from which each fold picks
        the one with the smallest leave-one-out error on its training samples (default
        10⁻³ … 10³, 13 values).
    n_splits : int
        Folds of the cross-validation (contiguous when the Recordings have times, shuffled with
        ``seed`` otherwise).
    conditions : str or array-like, optional
        A label column or one value per sample: responses are averaged per condition before the
        regression, and with repeats the score is divided by the reliability ceiling of ``y``.
    n_boot : int
        Bootstrap replicates over the held-out samples (conditions) for the interval (0: none).
    seed : int or None
        Seed of the folds, the bootstrap and the split halves.
    ci_level : float
        Coverage of the percentile interval.
    n_halves : int
        Random split halves averaged for the reliability ceiling.

    Returns
    -------
    Estimate
        ``value``: the median over units of the held-out Pearson r, divided by the ceiling when
        repeats exist. ``diagnostics``: ``unit_r``, ``median_r``, ``ceiling`` (NaN without
        repeats), ``unit_reliability``, ``alphas`` (chosen per fold), ``replicates``.

    Raises
    ------
    InvalidParameterError
        Not Recordings; different samples or misaligned labels; bad parameters.
    InsufficientDataError
        Fewer than ``2 * n_splits`` samples (conditions); no unit of ``y`` varies.

    Notes
    -----
    For each fold, X (``x``) is z-scored and Y (``y``) centred on the training samples, and
    W = argmin ||Y − XW||² + α n_train ||W||² (α = ``alpha``) is solved through one SVD of X; the
    held-out predictions of all folds are pooled and each unit's r is the Pearson correlation
    between its responses and their predictions. Ceiling (as Brain-Score reports it): the trials
    of every condition are split at random into halves, each unit's half-averaged responses are
    correlated across conditions, averaged over ``n_halves`` splits and corrected by
    Spearman–Brown, r' = 2r / (1 + r); the ceiling is the median over units, and the value is
    median r / ceiling. The interval resamples the held-out samples given the fitted maps (the
    fits and the ceiling are not redone). The ceiled value is not capped and can exceed 1: the
    prediction pools all trials of a condition while the ceiling correlates half-averages, and
    units whose responses are mostly noise pull the median ceiling down more than the median r;
    ``diagnostics["median_r"]`` and ``diagnostics["ceiling"]`` give both parts.

    References
    ----------
    .. [1] D. L. K. Yamins et al., "Performance-optimized hierarchical models predict neural
       responses in higher visual cortex", PNAS 111 (2014).
    .. [2] M. Schrimpf et al., "Brain-Score: which artificial neural network for object
       recognition is most brain-like?", bioRxiv 407007 (2018).

    Examples
    --------
    >>> import numpy as np, neurocomplex as nc
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 5))
    >>> Y = X @ rng.normal(size=(5, 3)) + 0.01 * rng.normal(size=(200, 3))
    >>> est = nc.predictivity(nc.Recording.from_array(X), nc.Recording.from_array(Y), n_boot=0)
    >>> est.value > 0.99
    True
    """
    alphas = _check_alphas(alpha)
    check_int("n_splits", n_splits, 2)
    check_int("n_halves", n_halves, 1)
    check_bootstrap_params(n_boot, ci_level, None)
    _check_pair(x, y, 2)
    codes = _condition_codes(x, y, conditions)
    dx, dy = np.asarray(x.data, dtype=np.float64), np.asarray(y.data, dtype=np.float64)
    if codes is not None:
        n_rows = codes[1].size
        px, py = average_by_condition(dx, codes[0], n_rows), average_by_condition(dy, codes[0], n_rows)
    else:
        n_rows, px, py = x.n_samples, dx, dy
    if n_rows < 2 * n_splits:
        raise InsufficientDataError(
            f"{n_rows} {'conditions' if codes is not None else 'samples'} are too few for {n_splits}-fold "
            f"cross-validation (need >= {2 * n_splits})."
        )
    if codes is None and x.times is not None:
        folds = np.array_split(np.arange(n_rows), n_splits)
    else:
        folds = np.array_split(np.random.default_rng([0 if seed is None else seed, 2]).permutation(n_rows), n_splits)
    pred, chosen = ridge_predictions(px, py, folds, alphas)
    unit_r = weighted_r(py, pred, np.ones((1, n_rows)))[0]
    if not np.any(np.isfinite(unit_r)):
        raise InsufficientDataError("no unit of y varies across samples: predictivity is undefined.")
    notes: list[str] = []
    if np.any(~np.isfinite(unit_r)):
        notes.append(f"{int((~np.isfinite(unit_r)).sum())} unit(s) of y are constant and left out of the median.")
    median_r = float(np.nanmedian(unit_r))
    ceiling, reliability = math.nan, np.full(y.n_units, np.nan)
    if codes is not None:
        counts = np.bincount(codes[0], minlength=n_rows)
        if counts.min() >= 2:
            reliability = unit_reliability(dy, codes[0], n_rows, n_halves,
                                            np.random.default_rng([0 if seed is None else seed, 3]))
            ceiling = float(np.nanmedian(reliability)) if np.any(np.isfinite(reliability)) else math.nan
            if not ceiling > 0:
                notes.append("the split-half reliability of y is not positive: the score is not ceiled.")
        else:
            notes.append(f"{int((counts < 2).sum())} condition(s) have a single sample: no reliability ceiling.")
    scale = ceiling if ceiling > 0 else 1.0
    value = median_r / scale
    reps = np.empty(0)
    if n_boot:
        w = np.random.default_rng(seed).multinomial(n_rows, np.full(n_rows, 1.0 / n_rows), size=n_boot)
        reps = np.nanmedian(weighted_r(py, pred, w.astype(np.float64)), axis=1) / scale
    diagnostics: dict[str, Any] = {"unit_r": unit_r, "median_r": median_r, "ceiling": ceiling,
                                   "unit_reliability": reliability, "alphas": chosen, "replicates": reps}
    ci, diagnostics, notes = _finish(value, reps, ci_level, -math.inf, math.inf, diagnostics, notes)
    return Estimate(value=value, ci=ci, method="ridge_predictivity" + ("_ceiled" if ceiling > 0 else ""),
                    params={"alpha": alpha, "n_splits": n_splits, "n_boot": n_boot, "seed": seed,
                            "ci_level": ci_level, "n_halves": n_halves,
                            "conditions": conditions if isinstance(conditions, str) or conditions is None else "array"},
                    n_samples=x.n_samples, n_units=x.n_units + y.n_units, diagnostics=diagnostics,
                    warnings=tuple(notes))


def _check_alphas(alpha: Any) -> tuple[float, ...]:
    if alpha is None:
        return _DEFAULT_ALPHAS
    values = alpha if isinstance(alpha, (tuple, list, np.ndarray)) else (alpha,)
    out = tuple(check_float("alpha", a, 0.0, low_open=True) for a in values)
    if not out:
        raise InvalidParameterError("alpha must be a positive number or a non-empty sequence of them.")
    return out  # type: ignore[return-value]
