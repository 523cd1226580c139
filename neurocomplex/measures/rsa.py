"""Representational similarity analysis: dissimilarity matrices (RDMs) and their comparison.

:func:`rdm` returns a population's dissimilarity matrix over samples (or condition means);
:func:`rsa` compares the RDMs of two populations over the same samples by a rank correlation, with
an interval over conditions and, when conditions repeat, a split-half noise ceiling
(Kriegeskorte et al. 2008; the comparison as in rsatoolbox). Equal dissimilarities stay equal:
integer-valued data (spike counts, binary words) and their condition means are compared in exact
integer arithmetic, so that the ranks average exactly the tied dissimilarities.
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache
from typing import Any

import numpy as np

from neurocomplex._checks import check_recording
from neurocomplex._memory import check_allocation
from neurocomplex._validation import check_choice, check_int
from neurocomplex.errors import (
    InsufficientDataError,
)
from neurocomplex.estimate import Estimate, check_bootstrap_params, register_estimator
from neurocomplex.measures._pairs import as_float, check_pair, condition_codes, draw_counts, finish
from neurocomplex.measures._rank import (
    SortedVector,
    merge_split_ties,
    sort_order,
    spearman_influence,
    tau_a_influence,
)
from neurocomplex.measures._reliability import random_half, sum_by_condition
from neurocomplex.recording import Recording
from neurocomplex.stats.shared_parts import nbytes_of, shared_part

__all__ = ["rsa", "rdm", "DISTANCES", "RDM_COMPARISONS"]

DISTANCES = ("correlation", "euclidean", "sqeuclidean")
RDM_COMPARISONS = ("spearman", "kendall_tau_a")
FEW_CONDITIONS = 6  # below this, a rank correlation of RDMs rests on a handful of conditions: warned
_EXACT = 2.0**53  # float64 holds every integer below this exactly
_TIE_TOL = 1e-12  # correlation distances closer than this are checked for an exact tie (rounding: ~1e-15)


# --------------------------------------------------------------------------- RDMs
class _Rdm:
    """Upper triangle (np.triu_indices order) of an RDM: the dissimilarities, a key with the same
    order and exact ties (the squared distance for both Euclidean forms), and the key's sort order."""

    def __init__(self, n: int, values: np.ndarray, key: np.ndarray, order: np.ndarray | None = None) -> None:
        self.n, self.values, self.key = n, values, key
        self.order, self.sorted_key = sort_order(key) if order is None else (order, None)

    def sorted_vector(self) -> SortedVector:
        return SortedVector(self.key, self.order, self.sorted_key)

    def matrix(self) -> np.ndarray:
        out = np.zeros((self.n, self.n))
        out[_upper(self.n)] = self.values
        return out + out.T


@lru_cache(maxsize=8)
def _upper(n: int) -> np.ndarray:
    """Mask of the upper triangle above the diagonal: its entries in row-major (np.triu_indices) order."""
    mask = np.triu(np.ones((n, n), dtype=bool), 1)
    mask.flags.writeable = False
    return mask


def _upper_pair(e: int, n: int) -> tuple[int, int]:
    """Row and column of upper-triangle entry ``e`` (in the order of :func:`_upper`) of an
    ``n × n`` matrix, from its position alone (exact integers: row i starts at entry
    i (2n − i − 1) / 2).

    Examples
    --------
    >>> [_upper_pair(e, 4) for e in range(6)]
    [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]
    """
    k = n * (n - 1) // 2 - 1 - e  # counted from the end, where the rows hold 1, 2, ... entries
    i = n - 2 - (math.isqrt(8 * k + 1) - 1) // 2
    return i, e - i * (2 * n - i - 1) // 2 + i + 1


def _row_sums(per_pair: np.ndarray, n: int) -> np.ndarray:
    """Σ_j over the pairs (i, j) containing each i of values given in upper-triangle order."""
    full = np.zeros((n, n))
    full[_upper(n)] = per_pair
    return full.sum(axis=0) + full.sum(axis=1)


def _constant_pattern(where: str, index: int) -> InsufficientDataError:
    return InsufficientDataError(
        f"{where}: the pattern of sample (or condition) {index} is the same in every unit, so its "
        "correlation distance is undefined; drop it or use distance='euclidean'."
    )


def _integer_route(sums: np.ndarray, counts: np.ndarray | None, distance: str) -> bool:
    """True when the patterns are integer sums whose products stay exact in float64 and int64."""
    p = sums.shape[1]
    amax = float(np.abs(sums).max()) if sums.size else 0.0
    kmax = float(counts.max()) if counts is not None else 1.0
    gram = p * amax * amax  # bounds every partial sum of the Gram matrix
    if distance == "correlation":
        fits = gram < _EXACT and p * gram < 2.0**61
    else:
        fits = 4.0 * kmax * kmax * gram < _EXACT and kmax**4 * p < _EXACT
    return bool(fits and np.array_equal(sums, np.rint(sums)))


def _integer_rdm(sums: np.ndarray, counts: np.ndarray | None, distance: str, where: str) -> _Rdm:
    """Exact RDM of integer sums (patterns sums / counts): every product in exact integer arithmetic,
    one rounding at the end, so that equal distances are bit-identical."""
    n, p = sums.shape
    up = _upper(n)
    gram = np.rint(sums @ sums.T).astype(np.int64)  # exact: every partial sum is an integer below 2**53
    if distance == "correlation":  # scale-free per pattern: sums and means correlate alike
        tot = np.rint(sums.sum(axis=1)).astype(np.int64)
        dev = p * np.diagonal(gram) - tot * tot  # p² × the variance of each pattern
        flat = np.flatnonzero(dev == 0)
        if flat.size:
            raise _constant_pattern(where, int(flat[0]))
        gram *= p
        gram -= np.multiply.outer(tot, tot)  # p² × the covariances of the patterns
        num = gram[up]
        devf = dev.astype(np.float64)
        values = 1.0 - num / np.sqrt(np.multiply.outer(devf, devf)[up])  # products commute: equal pairs, equal bits

        def exact_key(idx: np.ndarray) -> list[Fraction]:  # −sign(r) r², increasing with the distance
            keys = []
            for e in idx.tolist():
                a, b = _upper_pair(e, n)
                keys.append(Fraction(-int(num[e]) * abs(int(num[e])), int(dev[a]) * int(dev[b])))
            return keys

        values, order = merge_split_ties(values, _TIE_TOL, exact_key)
        return _Rdm(n, values, values, order)
    sq = np.diagonal(gram).copy()
    if counts is None or np.all(counts == counts[0]):
        scale = 1.0 if counts is None else float(counts[0]) ** 2
        gram *= -2
        gram += sq[:, None]
        gram += sq[None, :]  # squared distances of the sums
        num = gram[up].astype(np.float64)
        key, per_unit = (num, num / p) if scale == 1.0 else (num / scale, num / (scale * p))
    else:
        k = counts.astype(np.int64)
        num = (np.multiply.outer(sq, k * k).T + np.multiply.outer(sq, k * k) - 2 * np.multiply.outer(k, k) * gram)[up]
        den = np.multiply.outer(k * k, k * k)[up]  # ‖k_j S_i − k_i S_j‖² / (k_i k_j)² is the squared distance
        key, per_unit = num / den, num / (den * p)  # one rounding of an exact ratio each
    return _Rdm(n, np.sqrt(key) if distance == "euclidean" else per_unit, key)


_PROBE_COLUMNS = 64  # columns on which rows are first compared for copies


def _unique_rows(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Representative row of each distinct pattern and every row's representative (bitwise, −0 = 0)."""
    n, p = a.shape
    # Equal rows have equal projections (the same products in the same order), so rows whose
    # projections on fixed weights all differ are distinct: one product and a sort of n numbers.
    weights = 1.0 + np.modf(np.arange(1, p + 1) * 0.6180339887498949)[0]
    if np.unique(a @ weights).size == n:
        return np.arange(n), np.arange(n)
    if p > _PROBE_COLUMNS:  # rows already distinct on a few columns are distinct: no sort of whole rows
        probe = np.ascontiguousarray(a[:, np.linspace(0, p - 1, _PROBE_COLUMNS).astype(np.intp)] + 0.0)
        if np.unique(probe.view(np.dtype((np.void, probe.dtype.itemsize * _PROBE_COLUMNS))).ravel()).size == n:
            return np.arange(n), np.arange(n)
    a = np.ascontiguousarray(a + 0.0)
    rows = a.view(np.dtype((np.void, a.dtype.itemsize * a.shape[1]))).ravel()
    _, first, inverse = np.unique(rows, return_index=True, return_inverse=True)
    return first, inverse.reshape(-1)


def _float_rdm(patterns: np.ndarray, distance: str, where: str) -> _Rdm:
    """RDM of real-valued patterns through one Gram matrix; repeated patterns are computed once, so
    their distances are exact ties (zero between copies)."""
    n, p = patterns.shape
    first, inverse = _unique_rows(patterns)
    copies = first.size < n
    a = patterns[first] if copies else patterns
    if distance == "correlation":
        a = a - a.mean(axis=1, keepdims=True)
        norms = np.sqrt(np.einsum("ij,ij->i", a, a))
        flat = np.flatnonzero(norms == 0)
        if flat.size:
            raise _constant_pattern(where, int(np.flatnonzero(inverse == flat[0])[0]) if copies else int(flat[0]))
        a /= norms[:, None]
        key = a @ a.T
        np.subtract(1.0, key, out=key)
    else:
        a = a - a.mean(axis=0)  # distances are translation invariant; centring limits cancellation
        sq = np.einsum("ij,ij->i", a, a)
        key = a @ a.T
        key *= -2.0
        key += sq[:, None]
        key += sq[None, :]
        np.maximum(key, 0.0, out=key)
    if copies:  # copies share every distance (one triangle of the product for both), zero between them
        key = np.triu(key, 1)
        key += key.T
        key = key[np.ix_(inverse, inverse)]
    key = key[_upper(n)]
    if distance == "correlation":
        return _Rdm(n, key, key)
    return _Rdm(n, np.sqrt(key) if distance == "euclidean" else key / p, key)


def _rdm(sums: np.ndarray, counts: np.ndarray | None, distance: str, where: str) -> _Rdm:
    """The RDM of the patterns ``sums / counts`` (``sums`` itself when ``counts`` is None)."""
    n = sums.shape[0]
    # the products, the distances and the full matrix: three n x n float64 arrays at once
    check_allocation(3 * 8 * float(n) ** 2, f"the {n} x {n} dissimilarity matrices of {where}",
                     "use fewer samples (rec.subsample(n_samples=...)) or average the trials by condition "
                     "(conditions=...)")
    if _integer_route(sums, counts, distance):
        return _integer_rdm(sums, counts, distance, where)
    return _float_rdm(sums if counts is None else sums / counts[:, None], distance, where)


def _patterns(rec: Recording, codes: np.ndarray | None, n_cond: int) -> tuple[np.ndarray, np.ndarray | None]:
    data = np.asarray(rec.data, dtype=np.float64)
    return (data, None) if codes is None else sum_by_condition(data, codes, n_cond)


def _rdm_order(rec: Recording, codes: np.ndarray | None, n_cond: int, distance: str, where: str) -> SortedVector:
    """The sort order and tie blocks of a recording's RDM (all that the rank comparisons read; the
    dissimilarities themselves are not kept); within ``nc.similarity_matrix`` computed once for all
    the recording's pairs (:func:`~neurocomplex.stats.shared_parts.shared_part`)."""

    def make() -> SortedVector:
        r = _rdm(*_patterns(rec, codes, n_cond), distance, where)
        return r.sorted_vector()

    def size(sv: SortedVector) -> int:
        return nbytes_of([sv.order, sv.starts, sv.lengths, sv.block])

    key = ("rdm", distance, n_cond, None if codes is None else codes.tobytes())
    return shared_part(rec.data, key, make, size)


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
    and scaled to unit norm, the same values as rsatoolbox's ``calc_rdm(..., method="correlation")``.
    Equal dissimilarities are bit-identical whenever the data are integer-valued (spike counts,
    binary words; condition means of them, computed from the integer sums and counts): the Gram
    matrix of integers is exact in float64 below 2⁵³, the squared distances and the correlation's
    numerator p·(SSᵀ)ᵢⱼ − sᵢsⱼ and variances are exact integers, and each dissimilarity is rounded
    once at the end; correlation distances of different integer triples that round apart but are
    equal (the same r² = N²/(DᵢDⱼ)) are made equal after an exact rational check. For other data
    the same Gram formulas are used in floating point, and repeated patterns are computed once
    (distance exactly 0 between copies, equal distances to every other pattern).

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
    codes = condition_codes(rec, rec, conditions)
    n_cond = rec.n_samples if codes is None else codes[1].size
    if n_cond < 2:
        raise InsufficientDataError("an RDM needs at least 2 conditions; all samples have the same condition.")
    sums, counts = _patterns(rec, None if codes is None else codes[0], n_cond)
    return _rdm(sums, counts, distance, "rdm").matrix()


def _compare(a: _Rdm, b: _Rdm, method: str) -> float:
    """``method`` between two RDMs, neither constant."""
    sa, sb = a.sorted_vector(), b.sorted_vector()
    if method == "spearman":
        return spearman_influence(sa, sb, gradient=False)[0]
    return tau_a_influence(sa, sb)[0]


def _half_compare(a: _Rdm, b: _Rdm, method: str) -> float:
    """Rank correlation of two half-RDMs, symmetric in them: 0 where exactly one is constant."""
    const_a, const_b = bool(np.ptp(a.key) == 0), bool(np.ptp(b.key) == 0)
    if const_a or const_b:
        return math.nan if const_a and const_b else 0.0
    return _compare(a, b, method)


def _repeats_identical(data: np.ndarray, codes: np.ndarray, n_cond: int) -> bool:
    """Whether every sample equals the first sample of its condition, exactly."""
    first = np.full(n_cond, -1, dtype=np.int64)
    first[codes[::-1]] = np.arange(codes.size)[::-1]  # the last write wins: each condition's first sample
    return bool(np.array_equal(data, data[first[codes]]))


def _split_half_reliability(data: np.ndarray, codes: np.ndarray, n_cond: int, distance: str, compare: str,
                            n_splits: int, rng: np.random.Generator) -> float:
    """Spearman–Brown corrected split-half consistency of a population's RDM (mean over splits).

    A population whose repeats of every condition are identical (a deterministic network shown
    the same stimulus again) has identical half-RDMs in every split: its consistency is 1, found
    without forming the halves (which for a wide layer means many large products).
    """
    if _repeats_identical(data, codes, n_cond):
        return 1.0
    rs = []
    for _ in range(n_splits):
        half = random_half(codes, n_cond, rng)
        try:
            ra = _rdm(*sum_by_condition(data[half], codes[half], n_cond), distance, "split half")
            rb = _rdm(*sum_by_condition(data[~half], codes[~half], n_cond), distance, "split half")
        except InsufficientDataError:
            continue
        rs.append(_half_compare(ra, rb, compare))
    rs = [r for r in rs if math.isfinite(r)]
    r = float(np.mean(rs)) if rs else math.nan
    return 2 * r / (1 + r) if math.isfinite(r) and r > -1 else math.nan


def _replicates(value: float, influence: np.ndarray, n_cond: int, n_boot: int, seed: int | None) -> np.ndarray:
    """Condition-bootstrap replicates of a rank correlation, linearised on Fisher's z scale.

    ``influence[i]`` is the derivative of the correlation with respect to condition i's draw
    count at the full sample; replicate b is tanh(atanh(value) + Σ_i (c_bi − 1) influence[i] /
    (1 − value²)) for the draw counts c_b of n conditions drawn with replacement.
    """
    draws = draw_counts(n_cond, n_boot, seed)
    if not 1.0 - abs(value) > 1e-12:  # ±1 is the extreme: no first-order change
        return np.full(n_boot, value)
    shift = np.einsum("bi,i->b", draws - 1.0, influence)
    return np.tanh(math.atanh(value) + shift / (1.0 - value * value))


def _reliability(rec: Recording, codes: np.ndarray, n_cond: int, distance: str, compare: str, n_splits: int,
                 seed: int | None) -> float:
    """A recording's split-half reliability, from its own stream of halves (the same for every
    recording with the same seed and conditions), so it does not depend on the other side of the
    pair; within ``nc.similarity_matrix`` computed once for all the recording's pairs."""

    def make() -> float:
        rng = np.random.default_rng([0 if seed is None else seed, 1])
        return _split_half_reliability(as_float(rec), codes, n_cond, distance, compare, n_splits, rng)

    key = ("reliability", distance, compare, n_splits, seed, n_cond, codes.tobytes())
    return shared_part(rec.data, key, make, lambda _: 0)


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
        Dissimilarity of two patterns (see :func:`rdm`). ``"euclidean"`` and ``"sqeuclidean"``
        order the pairs identically, so they give the same value.
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
        ``warnings`` says when fewer than 6 conditions enter the comparison.

    Raises
    ------
    InvalidParameterError
        Not Recordings; different samples or misaligned labels; bad parameters.
    InsufficientDataError
        Fewer than 3 samples or conditions (2 give a single dissimilarity); a constant pattern
        (correlation distance); a constant RDM.

    Notes
    -----
    Symbols: n conditions (the samples when ``conditions`` is None), c_i the number of times
    condition i is drawn in a bootstrap replicate, ``value`` the estimate.
    The value is ``compare`` between the upper triangles of ``rdm(x)`` and ``rdm(y)``, ranks
    averaged over exact ties (see :func:`rdm` for when ties are exact); it equals rsatoolbox's
    ``compare(calc_rdm(x), calc_rdm(y), method="spearman" | "tau-a")`` on the same dissimilarities.
    Fewer than 6 conditions (at most 10 dissimilarities, each condition in 2/n of them) warn:
    the value then rests on a handful of conditions and moves in large steps with each.

    The interval is a percentile interval over ``n_boot`` replicates that resample the
    conditions with replacement (multinomial draw counts c, a condition drawn c_i times weighs
    its pairs by c_i c_j, pairs of a condition with itself left out, as rsatoolbox's pattern
    bootstrap); it covers the sampling variability of the conditions (stimuli), not the trial
    noise within them. Each replicate is the first-order (infinitesimal-jackknife) expansion of
    that bootstrap on Fisher's z scale, z* = atanh(value) + Σ_i (c_i − 1) ∂value/∂c_i / (1 − value²),
    value* = tanh(z*): the average ranks are linear in the pair weights, so the derivatives
    ∂value/∂c_i for all conditions come exactly from suffix sums in each RDM's sorted order
    (Spearman) or from per-pair concordance counts (τ_a), and a replicate costs O(n) instead of a
    re-ranking of all n(n−1)/2 pairs. The shifts have mean zero, so the interval is centred near
    the value on the z scale and contains it.

    Noise ceiling (the project's choice, after Brain-Score's split-half consistency): for each
    population the trials of every condition are split at random into two halves, the two
    half-RDMs compared with ``compare`` (0 when exactly one half-RDM is constant, whichever it
    is; the split is left out when both are), averaged over ``n_splits`` splits and corrected by
    Spearman–Brown, r' = 2r / (1 + r); the ceiling is √(r'_x r'_y) (a deterministic network seeing
    repeated stimuli has r' = 1). Both populations are split by the same seeded sequence of
    halves, so a population's r' does not depend on the population it is compared with.

    References
    ----------
    .. [1] N. Kriegeskorte, M. Mur, P. Bandettini, "Representational similarity analysis —
       connecting the branches of systems neuroscience", Front. Syst. Neurosci. 2:4 (2008).
    .. [2] H. Nili et al., "A toolbox for representational similarity analysis", PLoS Comput.
       Biol. 10(4): e1003553 (2014).
    .. [3] B. Efron, "The Jackknife, the Bootstrap and Other Resampling Plans", SIAM (1982),
       ch. 6 (the infinitesimal jackknife and the linear bootstrap).

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
    notes: list[str] = []
    diagnostics: dict[str, Any] = {}
    n_cond = x.n_samples if codes is None else codes[1].size
    if n_cond < 3:
        raise InsufficientDataError(f"RSA needs at least 3 conditions (2 give a single dissimilarity); there are "
                                    f"{n_cond}.")
    if n_cond < FEW_CONDITIONS:
        notes.append(f"only {n_cond} conditions ({n_cond * (n_cond - 1) // 2} dissimilarities): the rank "
                     f"correlation rests on a handful of conditions; use at least {FEW_CONDITIONS}.")
    cx = None if codes is None else codes[0]
    sa, sb = _rdm_order(x, cx, n_cond, distance, "x"), _rdm_order(y, cx, n_cond, distance, "y")
    if compare == "spearman":
        value, per_pair = spearman_influence(sa, sb, gradient=n_boot > 0)
    elif sa.starts.size > 1 and sb.starts.size > 1:  # neither RDM constant
        # the exact ratio (kendall_tau_a's to the bit below 2^44 pairs), from counts that need no sort
        # without ties: faster than scipy's τ_b even when the derivatives are not needed
        value, per_pair = tau_a_influence(sa, sb)
    else:  # a constant RDM: no rank correlation
        value, per_pair = math.nan, np.empty(0)
    if not math.isfinite(value):
        raise InsufficientDataError("one RDM is constant (all dissimilarities equal): the rank correlation is undefined.")
    reps = np.empty(0)
    if n_boot:
        influence = _row_sums(per_pair, n_cond)
        reps = _replicates(value, influence, n_cond, n_boot, seed)
    if codes is not None:
        counts = np.bincount(codes[0], minlength=n_cond)
        if counts.min() >= 2:
            rel_x, rel_y = (_reliability(rec, codes[0], n_cond, distance, compare, n_splits, seed) for rec in (x, y))
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
