"""Representational similarity analysis: dissimilarity matrices (RDMs) and their comparison.

:func:`rdm` returns a population's dissimilarity matrix over samples (or condition means);
:func:`rsa` compares the RDMs of two populations over the same samples by a rank correlation, with
an interval over conditions and, when conditions repeat, a split-half noise ceiling
(Kriegeskorte et al. 2008; the comparison as in rsatoolbox).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from neurocomplex._checks import check_recording
from neurocomplex._validation import check_choice, check_int
from neurocomplex.errors import (
    InsufficientDataError,
)
from neurocomplex.estimate import Estimate, check_bootstrap_params, register_estimator
from neurocomplex.measures._pairs import as_float, check_pair, condition_codes, finish
from neurocomplex.measures._rank import RankPair, kendall_tau_a, spearman
from neurocomplex.measures._reliability import (
    average_by_condition,
    random_half,
)
from neurocomplex.recording import Recording

__all__ = ["rsa", "rdm", "DISTANCES", "RDM_COMPARISONS"]

DISTANCES = ("correlation", "euclidean", "sqeuclidean")
RDM_COMPARISONS = ("spearman", "kendall_tau_a")


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
    data = as_float(rec)
    codes = condition_codes(rec, rec, conditions)
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
    check_pair(x, y, 3)
    codes = condition_codes(x, y, conditions)
    dx, dy = as_float(x), as_float(y)
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
    ci, diagnostics, notes = finish(value, reps, ci_level, -1.0, 1.0, diagnostics, notes)
    return Estimate(value=value, ci=ci, method=f"rsa_{distance}_{compare}",
                    params={"distance": distance, "compare": compare, "n_boot": n_boot, "seed": seed,
                            "ci_level": ci_level, "n_splits": n_splits,
                            "conditions": conditions if isinstance(conditions, str) or conditions is None else "array"},
                    n_samples=x.n_samples, n_units=x.n_units + y.n_units, diagnostics=diagnostics,
                    warnings=tuple(notes))
