"""Representational similarity of two populations over the same samples: CKA and shape distance.

Pair estimators ``nc.name(x, y, **params) -> Estimate`` (registered with ``input="pair"``):
:func:`cka` (linear centred kernel alignment; by default its debiased form) and
:func:`shape_distance` (angular Procrustes distance), both from per-block products of the two
populations (:mod:`neurocomplex.stats.pair_blocks`), or from the n × n sample Gram matrices when
there are fewer samples than units. The other pair estimators live beside this module:
:mod:`~neurocomplex.measures.rsa` (RDMs and their comparison) and
:mod:`~neurocomplex.measures.predictivity` (cross-validated ridge). Every interval comes from
replicates of a bootstrap over samples (over conditions for RSA): from per-block products here,
linearised from exact derivatives (RSA) or from exact delete-one refits (predictivity) beside. The
replicates are kept in ``diagnostics["replicates"]`` in draw order, so two calls with the same seed
and number of samples resample the same stimuli (which :func:`neurocomplex.similarity_matrix` uses
to find each area's best layer).

The default of each estimator is the form whose interval contains the population value at about
its nominal level (benchmarks/RESULTS_coverage_similarity.md): the debiased CKA, and for the
shape distance an interval that brackets the plug-in distance's bias.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from neurocomplex._validation import check_int
from neurocomplex.errors import InsufficientDataError, InvalidParameterError, NeurocomplexWarning
from neurocomplex.estimate import Estimate, check_bootstrap_params, register_estimator
from neurocomplex.measures._pairs import as_float, check_pair, finish
from neurocomplex.recording import Recording
from neurocomplex.stats import pair_blocks as pbk
from neurocomplex.stats.shared_parts import shared_part

__all__ = ["cka", "shape_distance"]

# Blocks of samples of the bootstrap over samples: the default number, and the fewest that make
# an interval worth reporting.
_DEFAULT_N_BLOCKS = 50
_MIN_BLOCKS = 10
# The bias (in CKA or in the shape cosine) above which a plug-in value is said to be dominated by it.
_BIAS_WARNING = 0.1


# --------------------------------------------------------------------------- blocks of samples
def default_n_blocks(metric: str, n: int, p: int, q: int) -> int:
    """Blocks of samples the bootstrap of ``metric`` uses by default on n × p against n × q data.

    CKA: 50 (at most n): its block products are formed by slabs within
    :data:`~neurocomplex.stats.pair_blocks.BLOCK_BUDGET`, whatever the widths. Shape distance:
    every replicate merges the p × q block products (at most n × n after the exact reduction of
    wide data), so as many blocks as fit in that budget, between 10 and 50.
    """
    n_b = _DEFAULT_N_BLOCKS
    if metric == "shape_distance":
        per_block = 8.0 * min(p, n) * min(q, n)
        n_b = int(min(_DEFAULT_N_BLOCKS, max(_MIN_BLOCKS, pbk.BLOCK_BUDGET // per_block)))
    return min(n_b, n)


def _blocks_for(n: int, n_boot: int, n_blocks: int | None, block_size: int | None, seed: int | None,
                default: int) -> tuple[list[np.ndarray], list[str]]:
    """Row blocks for a bootstrap from per-block products (one block when no interval is wanted)."""
    if n_boot == 0:
        return [np.arange(n)], []
    if block_size is not None:
        blocks = pbk.block_assignment(n, 0, block_size, seed)
    else:
        blocks = pbk.block_assignment(n, min(n_blocks or default, n), None, seed)
    if len(blocks) < _MIN_BLOCKS:
        note = (f"no interval: a bootstrap over samples from per-block products needs at least {_MIN_BLOCKS} "
                f"blocks of samples, and {len(blocks)} were available ({n} samples"
                f"{'' if block_size is None else f' in blocks of {block_size}'}); collect more samples, "
                f"{'use a smaller block_size, ' if block_size is not None else ''}or pass n_boot=0.")
        return [np.arange(n)], [note]
    return blocks, []


def _refuse_degenerate(n: int, need: int, why: str) -> None:
    if n < need:
        raise InsufficientDataError(f"x and y have {n} samples; {why} Pass at least {need} samples.")


# --------------------------------------------------------------------------- CKA
@register_estimator(family="similarity", input="pair", bounds=(-math.inf, math.inf),
                    invalid_params=({"n_blocks": 1}, {"block_size": 0}, {"debiased": "yes"}))
def cka(
    x: Recording,
    y: Recording,
    debiased: bool = True,
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
        True (default): the ratio of unbiased HSIC estimates (Song et al. 2012), whose interval
        contains the population CKA at about its nominal level. False: the plug-in CKA of
        Kornblith et al. (2019), biased upwards when there are few samples for the units (it is
        1 for any data with 2 samples), with a warning when that bias is large (Notes).
    n_boot : int
        Bootstrap replicates over samples for the interval (0: none).
    seed : int or None
        Seed of the grouping of samples into blocks and of the resampling.
    ci_level : float
        Coverage of the interval.
    n_blocks : int, optional
        Groups the samples are split into for the bootstrap (default 50, at most the number of
        samples; at least 10 for an interval, else none, with a warning). The block products are
        formed by slabs of at most 512 MiB, so the interval is kept at any width.
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
        ``value``: debiased, near [0, 1] (it can fall slightly outside with few samples); plug-in,
        in [0, 1]. ``method``: ``"linear_cka_debiased"`` or ``"linear_cka"``. ``diagnostics``:
        ``hsic_xy``, ``hsic_xx``, ``hsic_yy`` (of the reported form), ``plugin`` and ``debiased``
        (both values, whichever is reported), ``null_floor`` (the plug-in value expected for
        unrelated populations of these sizes, Notes), ``replicates`` (every bootstrap value in
        draw order, NaN where undefined), ``n_blocks``.

    Raises
    ------
    InvalidParameterError
        Not Recordings; different numbers of samples, sample times or sample labels; bad parameters
        or ``device``.
    MissingDependencyError
        ``device`` given without torch installed.
    InsufficientDataError
        Fewer than 4 samples (debiased: its HSIC divides by n − 3) or 3 (plug-in: with 2 samples
        the centred data have rank 1 and CKA is 1 whatever they are); a population with no
        variance.

    Notes
    -----
    With X (n × p, ``x``) and Y (n × q, ``y``) column-centred, the plug-in CKA is ||XᵀY||²_F /
    (||XᵀX||_F ||YᵀY||_F) (Kornblith et al. 2019), the sample version of the population
    ||Σ_xy||²_F / (||Σ_xx||_F ||Σ_yy||_F). Its numerator is biased upwards: averaged over random
    pairings of the samples of x and y (unrelated populations with the same marginals) it equals
    ``null_floor`` = √(PR_x PR_y) / (n − 1) times the denominator, with PR = (tr XᵀX)² / ||XᵀX||²_F the
    participation ratio of each side (exactly; e.g. 1 for n = 2, about 0.29 for 100 white
    samples of 40 units). ``debiased=False`` warns when ``null_floor`` exceeds 0.1. The debiased
    form replaces each ||AᵀB||²_F by the unbiased HSIC of Song et al. (2012), an unbiased estimate
    of ||Σ_ab||²_F at every n >= 4 (0 on average over random pairings of the samples);
    written through the same products plus the row norms (the zeroed Gram diagonals), it costs
    the same. CKA(X, XQs) = 1 for any orthogonal Q and scale s in both forms.

    The statistics come from the p × q, p × p and q × q products (in the data's precision:
    float32 products accumulated in float64), or, when that costs less (n < p + q with one block,
    n² < (n + B²)(p + q) with B blocks: fewer samples than units), from the n × n sample Gram
    matrices XXᵀ and YYᵀ, exactly. The bootstrap groups the samples into ``n_blocks`` random
    groups (or contiguous ``block_size`` runs), keeps per-group statistics, and evaluates every
    replicate (groups drawn with replacement) exactly from quadratic and cubic forms in the draw
    counts: the data are read once whatever ``n_boot`` is (with the Gram route, a replicate is a
    reweighting of the rows and columns of the full Gram matrices). In the debiased replicates
    the pairs of copies of one sample are left out with the diagonal (as RSA's bootstrap leaves
    out pairs of one condition), and the percentile interval is reported. Both populations are
    centred on their full-sample means first: a replicate weights pairs of samples unequally, and
    on uncentred data (spike counts) the kernel's mean would bias its unbiased HSIC (the interval
    of unrelated sparse counts then missed 0 in most data sets). The plug-in replicates
    repeat samples, which raises their bias further; the basic interval (reflected about the
    estimate) is reported, and it does not contain the population value when the plug-in bias
    exceeds the sampling error.

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
    check_pair(x, y, 1)
    n, p, q = x.n_samples, x.n_units, y.n_units
    if debiased:
        _refuse_degenerate(n, 4, "the debiased CKA (unbiased HSIC) divides by n − 3.")
    _refuse_degenerate(n, 3, "with 2 samples the centred data have rank 1 and the plug-in CKA is 1 for any data.")
    blocks, notes = _blocks_for(n, n_boot, n_blocks, block_size, seed, default_n_blocks("cka", n, p, q))
    if device is None:
        pb = pbk.pair_blocks(as_float(x), as_float(y), blocks, True, anchors=(x.data, y.data))
    else:
        from neurocomplex._backend.pair_blocks import pair_blocks_torch  # torch only when a device is asked for

        pb = pair_blocks_torch(as_float(x), as_float(y), blocks, True, device)
    ones = np.ones((1, pb.n_blocks))
    plug = _cka_terms(pb, ones, False)
    unb = _cka_terms(pb, ones, True) if n >= 4 else (np.full(1, math.nan),) * 3
    if not (plug[1][0] > 0 and plug[2][0] > 0):
        raise InsufficientDataError("x or y has no variance across samples: CKA is undefined.")
    if debiased and not (unb[1][0] > 0 and unb[2][0] > 0):
        raise InsufficientDataError(
            "the unbiased HSIC of x or y with itself is not positive (too few samples for the variance of one "
            "population to be estimated): the debiased CKA is undefined. Collect more samples, or pass "
            "debiased=False for the plug-in value."
        )
    values = {form: float(t[0][0] / np.sqrt(t[1][0] * t[2][0])) if t[1][0] > 0 and t[2][0] > 0 else math.nan
              for form, t in (("plugin", plug), ("debiased", unb))}
    floor = float(pbk.centred_trace(pb, "x", ones)[0] * pbk.centred_trace(pb, "y", ones)[0]
                  / ((n - 1) * np.sqrt(plug[1][0] * plug[2][0])))
    terms = unb if debiased else plug
    value = values["debiased" if debiased else "plugin"]
    if not debiased and floor > _BIAS_WARNING:
        notes.append(
            f"the plug-in CKA is dominated by its upward bias here: unrelated populations with these {n} samples "
            f"and effective widths would score {floor:.3g} on average (null_floor), and the value and its interval "
            f"do not estimate the population CKA; use debiased=True (the default), which gives {values['debiased']:.4g}."
        )
    reps = np.empty(0)
    if pb.n_blocks > 1:
        w = pbk.replicate_weights(pb.n_blocks, n_boot, seed)
        hxy, hxx, hyy = _cka_terms(pb, w, debiased, exclude_copies=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            reps = np.where((hxx > 0) & (hyy > 0), hxy / np.sqrt(np.abs(hxx * hyy)), np.nan)
    diagnostics: dict[str, Any] = {"hsic_xy": float(terms[0][0]), "hsic_xx": float(terms[1][0]),
                                   "hsic_yy": float(terms[2][0]), **values, "null_floor": floor,
                                   "replicates": reps, "n_blocks": pb.n_blocks}
    low, high = (-math.inf, math.inf) if debiased else (0.0, 1.0)
    ci, diagnostics, notes = finish(value, reps, ci_level, low, high, diagnostics, notes,
                                     "percentile" if debiased else "basic")
    return Estimate(value=value, ci=ci, method="linear_cka_debiased" if debiased else "linear_cka",
                    params={"debiased": debiased, "n_boot": n_boot, "seed": seed, "ci_level": ci_level,
                            "n_blocks": pb.n_blocks if pb.n_blocks > 1 else n_blocks, "block_size": block_size,
                            "device": None if device is None else str(device)},
                    n_samples=n, n_units=p + q, diagnostics=diagnostics, warnings=tuple(notes))


def _cka_terms(pb: pbk.PairBlocks, w: np.ndarray, debiased: bool, exclude_copies: bool = False
               ) -> tuple[np.ndarray, ...]:
    if debiased:
        return tuple(pbk.unbiased_hsic(pb, k, w, exclude_copies) for k in ("xy", "xx", "yy"))
    return tuple(pbk.centred_frobenius2(pb, k, w) for k in ("xy", "xx", "yy"))


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
        Bootstrap replicates over samples (0: no interval). Each costs the singular values of the
        p × q cross-product (at most n × n) and the singular pairs of the two halves' (at most
        n/2 × n/2: each half's products are taken in the span of its samples), through their
        Gram matrices (Notes).
    seed : int or None
        Seed of the grouping of samples into blocks (and halves) and of the resampling.
    ci_level : float
        Coverage of the interval.
    n_blocks, block_size : int, optional
        As in :func:`cka`. By default as many blocks (10 to 50) as hold their p × q products in
        512 MiB; a population with more units than samples is first reduced exactly to n
        columns, so the products are at most n × n.
    device : str or torch.device, optional
        With a torch device (``"cuda"``, ``"cuda:1"``, ``"cpu"``), the centred data are moved there
        once, the per-block products are computed there, and every replicate's p × q
        cross-products are merged and decomposed there (batched, float64); only the cosines come
        back, and the estimate and every bootstrap replicate agree with the numpy path to float
        rounding. Both populations must fit in the device's memory. None (default): numpy.

    Returns
    -------
    Estimate
        ``value`` in [0, π/2] radians: the plug-in distance (as netrep computes it), 0 when one
        population is a rotation (and scaling) of the other. ``ci``: the bias bracket (Notes).
        ``diagnostics``: ``cosine`` (plug-in), ``crossfit_cosine``, ``bias_bound`` (their
        difference), ``replicates`` (plug-in distances, draw order), ``crossfit_replicates``
        (cosines), ``percentile_ci`` (of the plug-in replicates), ``interval``, ``n_blocks``.

    Raises
    ------
    InvalidParameterError
        Not Recordings; different samples; bad parameters or ``device``.
    MissingDependencyError
        ``device`` given without torch installed.
    InsufficientDataError
        Fewer than 3 samples (with 2 the centred data have rank 1 and the distance is 0 for any
        data); a population with no variance.

    Notes
    -----
    X̃, Ỹ are ``x`` and ``y`` column-centred and scaled to unit Frobenius norm, zero-padded to the
    same width (padding changes nothing below). The distance is arccos max_Q tr(X̃ Q Ỹᵀ) over
    orthogonal Q, which equals arccos ||X̃ᵀỸ||_* (nuclear norm: the sum of singular values of the
    p × q cross-product) (Williams et al. 2021, Procrustes case α = 1). It is a metric on shapes.
    The population value is arccos of c = ||Σ_xy||_* / √(tr Σ_xx tr Σ_yy).

    The plug-in cosine ĉ is biased upwards (the nuclear norm is convex, so E||S_xy||_* >=
    ||Σ_xy||_*), by much when there are few samples for the units (about 0.2 with 100 samples of
    40 units, Gaussian data; 1 for unrelated populations with more units than samples), and the
    bootstrap cannot remove that bias. A cross-fitted cosine č is biased downwards: the samples
    are split into two halves (halves of the blocks), the alignment Q_1 learnt on one half is
    scored on the other, tr(Q_1ᵀ S_2), and the two directions are averaged; as Q_1 is independent
    of the second half, E tr(Q_1ᵀ S_2) = E tr(Q_1ᵀ Σ_xy) <= ||Σ_xy||_*. So E č <= c <= E ĉ (for the
    numerators; the common denominator adds only second-order terms). The
    reported interval is the hull of ĉ and č each widened by the bootstrap spread of its own
    replicates beyond their median (ĉ + q_{1−α/2} − median above, č − (median − q_{α/2})
    below), mapped through arccos: it contains the population distance with at least the nominal
    probability, contains the value, and is wide exactly where the data cannot tell the
    distance. With many samples both estimators converge and it becomes an ordinary interval.
    A warning says when ĉ − č exceeds 0.1 (the value is dominated by its bias).

    Each replicate (groups of samples drawn with replacement) is evaluated from per-group
    statistics: with G_b, s_x,b, s_y,b, t_x,b, t_y,b and n_b the product, column sums, sums of
    squares and size of group b of the centred data, a replicate drawing group b w_b times has
    N = Σ w_b n_b, u = Σ w_b s_x,b, v = Σ w_b s_y,b, the cross-product C = Σ w_b G_b − u vᵀ / N and
    cosine ||C||_* / √((Σ w_b t_x,b − |u|²/N)(Σ w_b t_y,b − |v|²/N)); the halves' C_h likewise.
    The estimate's nuclear norm and alignments come from SVDs; a replicate's from the eigenpairs
    of the smaller Gram matrix (C Cᵀ or Cᵀ C), 3–4 times faster on rectangular products and equal
    to about 1e-12, with the SVD wherever a singular value within the rank is below 1e-4 of the
    largest (where √λ loses accuracy); directly where the estimate's has one below 1e-3, or the
    first replicate fell back, and the matrix's size rather than the samples bounds the
    replicates' rank (square products of many units: their smallest singular values are near 0).
    The replicates are decomposed one per thread (the environment variable
    ``NEUROCOMPLEX_NUM_THREADS``, default the processors available up to 8) with BLAS on one
    thread meanwhile; the values do not depend on the number of threads.

    References
    ----------
    .. [1] A. H. Williams, E. Kunz, S. Kornblith, S. W. Linderman, "Generalized shape metrics on
       neural representations", NeurIPS (2021).
    .. [2] D. A. Pospisil, B. W. Larsen, S. E. Harvey, A. H. Williams, "Estimating shape distances
       on neural representations with limited samples", ICLR (2024).

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
    check_pair(x, y, 1)
    n, p, q = x.n_samples, x.n_units, y.n_units
    _refuse_degenerate(n, 3, "with 2 samples the centred data have rank 1 and the shape distance is 0 for any data.")
    blocks, notes = _blocks_for(n, n_boot, n_blocks, block_size, seed, default_n_blocks("shape_distance", n, p, q))
    with_interval = len(blocks) > 1
    if not with_interval:  # two halves, for the cross-fitted cosine
        blocks = ([np.arange(n // 2), np.arange(n // 2, n)] if block_size is not None
                  else pbk.block_assignment(n, 2, None, seed))
    half = np.arange(len(blocks)) < len(blocks) // 2
    xc, yc = _shape_data(x), _shape_data(y)
    draws = pbk.replicate_weights(len(blocks), n_boot, seed) if with_interval else np.empty((0, len(blocks)))
    weights = np.r_[np.ones((1, len(blocks))), draws]  # the estimate (every block once), then the replicates
    if device is None:
        cosines, xfit = pbk.shape_cosines(pbk.shape_blocks(xc, yc, blocks, half), weights, half, exact_rows=1)
    else:
        from neurocomplex._backend.pair_blocks import shape_cosines_torch  # torch only when asked for

        cosines, xfit = shape_cosines_torch(xc, yc, blocks, weights, half, device)
    cos, cos_x = float(cosines[0]), float(xfit[0])
    if not math.isfinite(cos):
        raise InsufficientDataError("x or y has no variance across samples: the shape distance is undefined.")
    value = float(np.arccos(np.clip(cos, -1.0, 1.0)))
    reps = np.arccos(np.clip(cosines[1:], -1.0, 1.0))
    ci = _bias_bracket(cos, cos_x, cosines[1:], xfit[1:], ci_level) if with_interval else None
    bound = cos - cos_x
    if not math.isfinite(cos_x):
        notes.append(
            f"the plug-in shape distance cannot be checked for bias with {n} samples (the cross-fitted cosine needs "
            "2 samples in each half); with this few samples it is dominated by its bias (0 for any data with 2)."
        )
    elif bound > _BIAS_WARNING:
        notes.append(
            f"the plug-in shape distance is dominated by its bias here: its cosine {cos:.3g} exceeds the "
            f"cross-fitted one {cos_x:.3g} by {bound:.3g} (too few samples for the units), so the distance "
            f"{value:.3g} may be too small by up to about {float(np.arccos(np.clip(cos_x, 0.0, 1.0))) - value:.2g} "
            "rad; the interval spans that bracket."
        )
    finite = reps[np.isfinite(reps)]
    alpha = (1.0 - ci_level) / 2.0
    pct = tuple(float(v) for v in np.quantile(finite, [alpha, 1.0 - alpha])) if finite.size >= 2 else None
    diagnostics: dict[str, Any] = {"cosine": cos, "crossfit_cosine": cos_x, "bias_bound": bound, "replicates": reps,
                                   "crossfit_replicates": xfit[1:], "percentile_ci": pct,
                                   "interval": "bias_bracket" if ci is not None else None,
                                   "n_blocks": len(blocks) if with_interval else 1}
    for msg in notes:
        warnings.warn(msg, NeurocomplexWarning, stacklevel=2)
    return Estimate(value=value, ci=ci, method="angular_procrustes",
                    params={"n_boot": n_boot, "seed": seed, "ci_level": ci_level,
                            "n_blocks": len(blocks) if with_interval else n_blocks, "block_size": block_size,
                            "device": None if device is None else str(device)},
                    n_samples=n, n_units=p + q, diagnostics=diagnostics, warnings=tuple(notes))


def _bias_bracket(cos: float, cos_x: float, reps: np.ndarray, reps_x: np.ndarray, ci_level: float
                  ) -> tuple[float, float] | None:
    """The distance interval of :func:`shape_distance`: the hull of the plug-in cosine widened upwards
    and the cross-fitted one downwards by their replicates' spreads beyond the median (each
    side also widened the other way, so that the hull holds both intervals), through arccos."""
    alpha = (1.0 - ci_level) / 2.0
    ends = []
    for centre, r in ((cos, reps), (cos_x, reps_x)):
        r = r[np.isfinite(r)]
        if r.size < 2 or not math.isfinite(centre):
            return None
        lo, med, hi = np.quantile(r, [alpha, 0.5, 1.0 - alpha])
        ends.append((centre - (med - lo), centre + (hi - med)))
    c_low = min(ends[0][0], ends[1][0])
    c_high = max(ends[0][1], ends[1][1])
    return (float(np.arccos(np.clip(c_high, 0.0, 1.0))), float(np.arccos(np.clip(c_low, 0.0, 1.0))))


def _shape_data(rec: Recording) -> np.ndarray:
    """The centred (and, when wider than long, exactly narrowed) data the shape statistics use;
    within ``nc.similarity_matrix`` computed once for all the recording's pairs."""
    return shared_part(rec.data, ("shape data",), lambda: pbk._shifted(_narrow(as_float(rec))),
                       lambda a: a.nbytes)


def _narrow(a: np.ndarray) -> np.ndarray:
    """``a`` with more units than samples replaced by XQ = Rᵀ (n × n) from the QR decomposition
    Xᵀ = QR: a right-orthogonal map, so every shape statistic (XXᵀ) is unchanged."""
    n, width = a.shape
    if width <= n:
        return a
    return np.linalg.qr(np.asarray(a, dtype=np.float64).T, mode="r").T
