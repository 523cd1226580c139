"""Entropy of neural populations: single units, population words, multi-information.

Time words and the entropy rate are in :mod:`neurocomplex.measures.temporal_entropy`.

Every estimator reads the binary state ``B = 1[X > threshold]`` of a Recording. Population words
(rows of ``B``, or windows of consecutive rows) are bit-packed into 64-bit integers and counted by
sorting. Intervals are computed from the word counts, never by resampling the samples again: an
i.i.d. bootstrap replicate is a draw over the distinct words' counts, a block bootstrap sums
per-block count tables (see :mod:`neurocomplex.measures._word_bootstrap`). Three methods estimate the entropy of the word distribution:
``"plugin"`` (maximum likelihood), ``"miller_madow"`` (plug-in plus ``(K_obs - 1) / (2 N)`` nats)
and ``"nsb"`` (Nemenman, Shafee & Bialek 2002, on the alphabet of all ``2**bits`` words; see
:mod:`neurocomplex.measures._nsb`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy import sparse, special

from neurocomplex._checks import check_recording
from neurocomplex._validation import check_choice, check_float, check_int
from neurocomplex.errors import InsufficientDataError, InvalidDataError, InvalidParameterError, NeurocomplexWarning
from neurocomplex.estimate import Estimate, check_bootstrap_params, interval_report, register_estimator
from neurocomplex.measures._nsb import NSBPosterior, nsb_posterior, nsb_posterior_from_profile
from neurocomplex.measures._word_bootstrap import (
    ReplicateBatch,
    WordTable,
    block_table,
    miller_madow_nats,
    plugin_nats,
)
from neurocomplex.recording import Recording
from neurocomplex.stats.words import WordCounts, count_packed, count_words, unpack_words

__all__ = [
    "METHODS",
    "entropy_from_counts",
    "pattern_entropy_from_words",
    "pattern_entropy_from_blocks",
    "unit_entropy",
    "pattern_entropy",
    "multi_information",
]

METHODS = ("plugin", "miller_madow", "nsb")

# Distinct words x units bits unpacked at a time (the sparse bit matrix of the words, or a dense slice).
_MAX_BITS_TABLE = 1 << 23
# Words with at least one unit in this many on are multiplied as dense bits (a BLAS product is about
# 30x faster per multiply-add than a sparse one here).
_DENSE_SHARE = 32

_REFERENCES = """
    References
    ----------
    .. [1] I. Nemenman, F. Shafee, W. Bialek, "Entropy and inference, revisited", Advances in
       Neural Information Processing Systems 14 (2002).
    .. [2] I. Nemenman, W. Bialek, R. de Ruyter van Steveninck, "Entropy and information in neural
       spike trains: progress on the sampling problem", Phys. Rev. E 69, 056111 (2004).
    .. [3] G. A. Miller, "Note on the bias of information estimates", in Information Theory in
       Psychology (1955).
"""


# --------------------------------------------------------------------------- core on counts
def _log_base(base: Any) -> float:
    b = check_float("base", base, 0.0, low_open=True)
    if b == 1.0:
        raise InvalidParameterError("base=1 has no logarithm; use 2 (bits), e (nats) or 10.")
    return math.log(b)


def _check_counts(counts: Any) -> np.ndarray:
    try:
        arr = np.asarray(counts, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise InvalidDataError(f"counts must be a 1-D array of non-negative integers, got {type(counts).__name__}.") from err
    if arr.ndim != 1:
        raise InvalidDataError(f"counts must be 1-D (one count per distinct word), got shape {arr.shape}.")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0) or np.any(arr != np.floor(arr)):
        raise InvalidDataError("counts must be finite non-negative integers (how often each word occurred).")
    arr = arr[arr > 0]
    if arr.size == 0:
        raise InsufficientDataError("counts hold no observation (all are zero); an entropy needs at least one sample.")
    return arr


def _plugin_nats(counts: np.ndarray) -> float:
    n = counts.sum()
    # einsum, not np.dot: a threaded BLAS dot costs milliseconds on a busy machine, this microseconds
    return float(math.log(n) - np.einsum("i,i->", counts, np.log(counts)) / n)


def _entropy_nats(counts: np.ndarray, alphabet_size_log2: float | None,
                  method: str) -> tuple[float, float | None, NSBPosterior | None]:
    """Entropy in nats of positive ``counts``; the NSB posterior std and summary when method is nsb."""
    if method == "plugin":
        return _plugin_nats(counts), None, None
    if method == "miller_madow":
        return _plugin_nats(counts) + (counts.size - 1) / (2.0 * counts.sum()), None, None
    post = nsb_posterior(counts, alphabet_size_log2)
    return post.mean, post.std, post


def entropy_from_counts(counts: Any, alphabet_size_log2: float | None = None, method: str = "plugin",
                        base: float = 2.0) -> tuple[float, float | None]:
    """Entropy of a discrete distribution from the counts of its observed outcomes.

    Parameters
    ----------
    counts : array_like of int
        How often each distinct observed word occurred (zeros are allowed and ignored).
    alphabet_size_log2 : float, optional
        ``log2`` of the alphabet size ``K`` (the word length in bits for binary words). Required by
        ``"nsb"``; ``K`` itself is never formed, so ``2**1000`` words are fine.
    method : {"plugin", "miller_madow", "nsb"}
        Estimator.
    base : float
        Base of the logarithm (2: bits).

    Returns
    -------
    entropy : float
        The estimate, in units of ``log(base)``.
    std : float or None
        NSB posterior standard deviation (same units); None for the other methods.

    Raises
    ------
    InvalidParameterError
        Unknown method, bad base, NSB without ``alphabet_size_log2`` or with more distinct words
        than the alphabet holds.
    InvalidDataError
        Counts that are negative, non-integer or not 1-D.
    InsufficientDataError
        No positive count.

    Notes
    -----
    With ``n_i`` the counts, ``N = sum n_i`` and ``K_obs`` the number of positive counts:
    plug-in ``H = log N - (1/N) sum n_i log n_i``; Miller–Madow ``H + (K_obs - 1) / (2 N)``;
    NSB the posterior mean under the prior of [1]_ that is flat in the expected entropy.
    """
    method = check_choice("method", method, METHODS)
    log_b = _log_base(base)
    arr = _check_counts(counts)
    if method == "nsb":
        if alphabet_size_log2 is None:
            raise InvalidParameterError("method='nsb' needs alphabet_size_log2 (log2 of the number of possible words).")
        check_float("alphabet_size_log2", alphabet_size_log2, 0.0)
    value, std, _post = _entropy_nats(arr, alphabet_size_log2, method)
    return value / log_b, (None if std is None else std / log_b)


entropy_from_counts.__doc__ = (entropy_from_counts.__doc__ or "") + _REFERENCES + """
    Examples
    --------
    >>> h, _ = entropy_from_counts([2, 1, 1], method="plugin")
    >>> round(h, 4)  # -(1/2 log2 1/2 + 2 * 1/4 log2 1/4)
    1.5
    >>> h, std = entropy_from_counts([2, 1, 1], alphabet_size_log2=2, method="nsb")
    >>> 1.0 < h < 2.0 and std > 0
    True
"""


def pattern_entropy_from_words(word_counts: WordCounts, method: str = "nsb", base: float = 2.0) -> tuple[float, float | None]:
    """Entropy of accumulated population words (a :class:`~neurocomplex.stats.WordCounts`).

    The alphabet is ``2**word_counts.n_units``; see :func:`entropy_from_counts`.

    Examples
    --------
    >>> wc = WordCounts(3)
    >>> wc.update(np.array([[1, 0, 0], [1, 0, 0], [0, 1, 1], [0, 0, 0]]))
    >>> pattern_entropy_from_words(wc, method="plugin")[0]
    1.5
    """
    if not isinstance(word_counts, WordCounts):
        raise InvalidParameterError(f"word_counts must be a neurocomplex.stats.WordCounts, got {type(word_counts).__name__}.")
    return entropy_from_counts(word_counts.counts, word_counts.n_units, method, base)


def pattern_entropy_from_blocks(block_counts: Sequence[WordCounts], method: str = "nsb", base: float = 2.0,
                                n_boot: int = 200, seed: int | None = 0, ci_level: float = 0.95,
                                n_units: int | None = None) -> Estimate:
    """Pattern entropy of words counted block by block, with a block-bootstrap interval.

    Each block holds the words of a stretch of consecutive samples (a chunk of a streamed file, a
    trial, a batch), counted in a :class:`~neurocomplex.stats.WordCounts`. The value equals
    :func:`pattern_entropy` on all the samples together; a bootstrap replicate draws as many
    blocks as there are, with replacement, and sums their counts, so the dependence between samples
    within a block survives the resampling.

    Parameters
    ----------
    block_counts : sequence of WordCounts
        Word counts of each block, all of the same word length.
    method : {"nsb", "plugin", "miller_madow"}
        Estimator; NSB uses the alphabet of all ``2**n_units`` words.
    base : float
        Base of the logarithm (2: bits).
    n_boot : int
        Bootstrap replicates (0: no interval).
    seed : int or None
        Seed of the bootstrap.
    ci_level : float
        Coverage of the interval.
    n_units : int, optional
        Word length in bits; checked against the blocks when given.

    Returns
    -------
    Estimate
        Diagnostics as in :func:`pattern_entropy`, plus ``n_blocks``. Interval: for plug-in and
        Miller–Madow the basic block-bootstrap interval; for NSB the posterior mean ``+- z`` times the
        larger of the posterior standard deviation and the block-bootstrap standard deviation. Both
        cover sampling variability, not the estimator's bias.

    Raises
    ------
    InvalidParameterError
        Blocks that are not WordCounts or differ in word length, ``n_units`` that disagrees, unknown
        method, bad base or bootstrap setting.
    InsufficientDataError
        Fewer than two samples in all, or fewer than two blocks when an interval is asked for.

    Notes
    -----
    With ``c_{b,i}`` the count of distinct word ``i`` in block ``b``, the counts are
    ``n_i = sum_b c_{b,i}`` and a replicate's are ``sum_b w_b c_{b,i}``, ``w`` the multinomial number
    of times each block is drawn (``sum_b w_b`` = the number of blocks). The ``(block, word)`` table
    is sparse and built with one sort; a replicate is one sparse product.

    Examples
    --------
    >>> import numpy as np
    >>> a, b = WordCounts(2), WordCounts(2)
    >>> a.update(np.array([[0, 0], [0, 0]])); b.update(np.array([[1, 0], [1, 1]]))
    >>> pattern_entropy_from_blocks([a, b], method="plugin", n_boot=0).value
    1.5
    """
    log_b = _check_common(method, base, n_boot, seed, None, ci_level)
    blocks = list(block_counts) if not isinstance(block_counts, WordCounts) else [block_counts]
    if not blocks or not all(isinstance(b, WordCounts) for b in blocks):
        raise InvalidParameterError("block_counts must be a non-empty sequence of neurocomplex.stats.WordCounts "
                                    "(one per block of consecutive samples).")
    widths = {b.n_units for b in blocks}
    if len(widths) != 1 or (n_units is not None and check_int("n_units", n_units, 1) not in widths):
        raise InvalidParameterError(f"all blocks must count words of the same length; got word lengths "
                                    f"{sorted(widths)}{'' if n_units is None else f' and n_units={n_units}'}.")
    bits = widths.pop()
    sizes = np.array([b.counts.size for b in blocks])
    words = np.concatenate([b.words for b in blocks])
    weights = np.concatenate([b.counts for b in blocks]).astype(np.int64)
    n = int(weights.sum())
    if n < 2:
        raise InsufficientDataError(f"pattern_entropy_from_blocks: {n} sample(s) in all; an entropy needs at least two.")
    if n_boot > 0 and len(blocks) < 2:
        raise InsufficientDataError("a block bootstrap needs at least two blocks; pass n_boot=0 for no interval.")
    _w, _rows, inverse = _distinct(words, True)
    assert inverse is not None
    counts = np.bincount(inverse, weights=weights).astype(np.int64)
    table = WordTable(counts, block_table(inverse, np.repeat(np.arange(len(blocks)), sizes), weights,
                                          counts.size, len(blocks)) if n_boot > 0 else None)
    value, ci, diag, msgs = _word_estimate(table, float(bits), method, log_b, n_boot, seed, ci_level,
                                           "pattern_entropy_from_blocks")
    diag["n_blocks"] = len(blocks)
    params = _params(method=method, base=base, n_boot=n_boot, seed=seed, ci_level=ci_level, n_blocks=len(blocks))
    return Estimate(value=value, ci=ci, method=method, params=params, n_samples=n, n_units=bits,
                    diagnostics=diag, warnings=_warn(msgs))


# --------------------------------------------------------------------------- words of a Recording
def _binary_state(rec: Recording, threshold: Any) -> np.ndarray:
    """``B = 1[X > threshold]`` as a 2-D array whose nonzero entries are the ones (no copy for binary data)."""
    thr = check_float("threshold", threshold)
    unsigned = isinstance(rec.data, np.ndarray) and rec.data.dtype.kind in "ub"
    if thr == 0.0 and (unsigned or rec.kind in ("binary", "spike_counts")):
        return rec.data  # non-negative integers (or booleans): nonzero is exactly > 0, no copy
    return rec.data > thr


def _distinct(packed: np.ndarray, need_inverse: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Distinct packed words (first code most significant, the order of the device paths), their
    counts and (optionally) each sample's distinct-word index."""
    return count_packed(packed, need_inverse, first_major=True)


def _check_common(method: Any, base: Any, n_boot: Any, seed: Any, block_size: Any, ci_level: Any) -> float:
    check_choice("method", method, METHODS)
    check_int("n_boot", n_boot, 0)
    check_bootstrap_params(n_boot, ci_level, block_size)
    if seed is not None:
        check_int("seed", seed)
    return _log_base(base)


def _warn(messages: list[str]) -> tuple[str, ...]:
    for msg in messages:
        warnings.warn(msg, NeurocomplexWarning, stacklevel=3)
    return tuple(messages)


def _batch_stat(method: str, bits: float) -> Callable[[ReplicateBatch], np.ndarray]:
    """Entropy (nats) of every replicate of a batch; NSB from each replicate's counts of counts."""
    if method == "plugin":
        return plugin_nats
    if method == "miller_madow":
        return miller_madow_nats

    def nsb(batch: ReplicateBatch) -> np.ndarray:
        out = np.full(batch.n_replicates, math.nan)
        for r in range(batch.n_replicates):
            values, mult = batch.profile(r)
            if values.size:
                out[r] = nsb_posterior_from_profile(values, mult, bits).mean
        return out

    return nsb


def _replicates(table: WordTable, stat: Callable[[ReplicateBatch], np.ndarray], n_boot: int, seed: Any,
                sums_only: bool = False) -> np.ndarray:
    batches = table.batches(n_boot, seed, sums_only=sums_only)
    return np.concatenate([stat(batch) for batch in batches] or [np.empty(0)])


def _nsb_messages(post: NSBPosterior | None, n_words: int, what: str, n_distinct: int = 0) -> list[str]:
    if post is None:
        return []
    if n_distinct == 1 and n_words > 1:
        return [f"{what}: only one distinct word was observed ({n_words} times), so the plug-in entropy is 0; "
                f"the NSB value {post.mean / math.log(2.0):.3g} bits is the posterior mean that the prior keeps "
                "for the unseen words of the alphabet, not variability seen in the data."]
    if post.n_coincidences > 0:
        return []
    return [f"{what}: all {n_words} words are distinct (no coincidence), so the NSB estimate is set by the "
            "prior, not the data, and grows with the alphabet size; only log2(n_samples) is supported by "
            "the data (a lower bound). Use fewer units, shorter words or more samples."]


def _word_estimate(table: WordTable, bits: float, method: str, log_b: float, n_boot: int, seed: Any,
                   ci_level: float, what: str) -> tuple[float, Any, dict, list]:
    """Value (in base units), CI, diagnostics and warnings for one word distribution."""
    cts = table.counts
    value, _std, post = _entropy_nats(cts, bits, method)
    n = round(float(cts.sum()))
    diag: dict[str, Any] = {
        "n_distinct": int(cts.size),
        "n_coincidences": n - int(cts.size),
        "plugin": _plugin_nats(cts) / log_b,
        "alphabet_size_log2": float(bits),
    }
    msgs = _nsb_messages(post, n, what, int(cts.size))
    if post is not None:
        diag.update(nsb_std=post.std / log_b, nsb_kappa_peak=post.kappa_peak,
                    nsb_log10_beta_peak=post.log_beta_peak / math.log(10.0), nsb_xi_peak=post.xi_peak / log_b)
    ci = None
    if n_boot > 0 and post is not None:
        # Posterior credible interval; with blocks its spread is at least the block-bootstrap spread
        # (the posterior assumes independent samples, a block bootstrap sees dependent time bins).
        spread = post.std
        if table.blocks is not None:
            reps = _replicates(table, _batch_stat("nsb", bits), n_boot, seed) / log_b
            diag.update(interval_report(reps, value / log_b, ci_level, "percentile", 0.0)[1])
            diag["bootstrap_replicates"] = reps
            finite = reps[np.isfinite(reps)]
            if finite.size > 1:
                spread = max(spread, float(np.std(finite, ddof=1)) * log_b)
        z = float(special.ndtri(0.5 + ci_level / 2.0))
        ci = (max(value - z * spread, 0.0) / log_b, (value + z * spread) / log_b)
        diag["interval"] = "posterior"
    elif n_boot > 0:
        reps = _replicates(table, _batch_stat(method, bits), n_boot, seed, sums_only=True) / log_b
        ci, extra, notes = interval_report(reps, value / log_b, ci_level, "basic", 0.0)
        diag.update(extra)
        diag["bootstrap_replicates"] = reps
        msgs += [f"{what}: {note}" for note in notes]
    return value / log_b, ci, diag, msgs


def _unit_entropies_nats(ones: np.ndarray, n: Any, method: str, with_std: bool = False) -> Any:
    """Entropy (nats) of each unit's binary column from its number of ones out of ``n`` samples
    (and the NSB posterior std, zeros for the other methods, with ``with_std``)."""
    ones = np.asarray(ones, dtype=np.float64)
    p = ones / n
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -(np.where(p > 0, p * np.log(p), 0.0) + np.where(p < 1, (1 - p) * np.log1p(-p), 0.0))
    if method == "miller_madow":
        h = h + ((ones > 0) & (ones < n)) / (2.0 * n)
    elif method == "nsb":
        # Units with the same number of ones share one NSB integral (loop over distinct counts only).
        values, where = np.unique(ones, return_inverse=True)
        posts = [nsb_posterior(np.array([v, n - v]), 1.0) for v in values]
        h = np.array([p.mean for p in posts])[where]
        if with_std:
            return h, np.array([p.std for p in posts])[where]
    return (h, np.zeros_like(h)) if with_std else h


def _unit_replicates(ones_of: _UnitOnes, batch: ReplicateBatch, method: str) -> tuple[np.ndarray, np.ndarray]:
    """Sum of the unit entropies (nats) of each replicate of a per-word batch, and the ones per unit."""
    n = batch.totals()
    ones = ones_of(batch.direct, float(n.max(initial=0.0)))  # per-word batches hold integer counts
    if method != "nsb":
        return _unit_entropies_nats(ones, n[:, None], method).sum(axis=1), ones
    return np.array([_unit_entropies_nats(o, m, method).sum() for o, m in zip(ones, n)]), ones


class _UnitOnes:
    """Number of ones of each unit, from counts of the distinct words (one row per replicate).

    Words with at least 1 unit in ``_DENSE_SHARE`` on are multiplied as dense float64 bits, a
    bounded slice of words at a time (one BLAS product per slice: 8x faster than a sparse product
    on 200,000 words of 50 units, 30% of them on); sparser words are kept as a sparse
    ``(n_units, n_words)`` matrix, whose product costs ``O(ones x replicates)``. The sums are
    integers, exact in float64 either way; dense bits of at most the bytes of one slice are
    unpacked once as float32 and multiplied in float32 where that is exact (rows summing below
    2**24).
    """

    def __init__(self, words: np.ndarray, n_units: int) -> None:
        self._words, self._n_units = words, n_units
        self._step = max(1, _MAX_BITS_TABLE // n_units)
        ones = int(np.bitwise_count(words).sum(dtype=np.int64))
        self._bits_t = None
        self._bits32: np.ndarray | None = None  # unpacked at the first float32 product (replicates)
        self._one_table = words.shape[0] * n_units <= 2 * _MAX_BITS_TABLE  # the bytes of one float64 slice
        if ones * _DENSE_SHARE >= words.shape[0] * n_units:
            return
        units, cols = [], []
        for s in range(0, words.shape[0], self._step):
            w, u = np.nonzero(unpack_words(words[s : s + self._step], n_units))
            cols.append(w + s)
            units.append(u)
        u_all, w_all = np.concatenate(units), np.concatenate(cols)
        self._bits_t = sparse.csr_matrix((np.ones(u_all.size), (u_all, w_all)), shape=(n_units, words.shape[0]))

    def __call__(self, word_counts: np.ndarray, largest_total: float | None = None) -> np.ndarray:
        """Ones per unit for each row of integer ``word_counts``; ``largest_total``, the largest row
        sum when known, lets rows summing below 2**24 take the float32 product: every partial sum
        is then an integer below 2**24, so it is exact (and half the time of float64)."""
        counts = np.atleast_2d(np.asarray(word_counts, dtype=np.float64))
        if self._bits_t is not None:
            return np.ascontiguousarray(np.asarray(self._bits_t @ np.ascontiguousarray(counts.T)).T)  # C order, as below
        if self._one_table and largest_total is not None and largest_total < 2**24:
            if self._bits32 is None:
                self._bits32 = unpack_words(self._words, self._n_units).astype(np.float32)
            return (counts.astype(np.float32) @ self._bits32).astype(np.float64)
        out = np.zeros((counts.shape[0], self._n_units))
        for s in range(0, self._words.shape[0], self._step):
            out += counts[:, s : s + self._step] @ unpack_words(self._words[s : s + self._step], self._n_units).astype(np.float64)
        return out


def _setup(rec: Recording, threshold: Any, need_inverse: bool,
           device: Any = None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Distinct packed words of ``B``, their counts and (optionally) each sample's word index."""
    check_recording(rec, min_samples=2)
    if device is None:
        # Up to 64 units one integer per row and one 1-D sort: the cost of np.unique on packbits.
        words, counts, *inverse = count_words(_binary_state(rec, threshold), need_inverse, first_major=True)
        return words, counts, inverse[0] if inverse else None
    from neurocomplex._backend.accumulate import count_words_torch  # torch only when a device is asked for

    thr = check_float("threshold", threshold)
    return count_words_torch(rec.data, thr, device, need_inverse)


def _table(counts: np.ndarray, inverse: np.ndarray | None, n_boot: int, block_size: Any) -> WordTable:
    return WordTable.from_inverse(counts, inverse if n_boot > 0 else None, block_size)


def _blocked(n_boot: int, block_size: Any) -> bool:
    return n_boot > 0 and block_size is not None and block_size > 1


def _params(**kw: Any) -> dict[str, Any]:
    return dict(kw)


@register_estimator(family="entropy", binary=True, bounds=(0.0, math.inf),
                    invalid_params=({"method": "bogus"}, {"base": 1.0}, {"threshold": math.nan}, {"n_boot": -1}))
def unit_entropy(rec: Recording, threshold: float = 0.0, base: float = 2.0, method: str = "plugin",
                 n_boot: int = 200, seed: int | None = 0, block_size: int | None = None,
                 ci_level: float = 0.95, device: Any = None) -> Estimate:
    """Sum of the single-unit binary entropies, ``H_ind`` (the entropy of the independent model).

    Parameters
    ----------
    rec : Recording
        Population activity; each unit's binary state is ``B = 1[X > threshold]``.
    threshold : float
        Activity threshold (0: a spike in the bin, a ReLU that is on).
    base : float
        Base of the logarithm (2: bits).
    method : {"plugin", "miller_madow", "nsb"}
        Estimator of each unit's entropy (alphabet of 2 states).
    n_boot : int
        Bootstrap replicates for the confidence interval (0: no interval).
    seed : int or None
        Seed of the bootstrap.
    block_size : int, optional
        Block length (samples) of a block bootstrap, for time series: the samples are cut into
        consecutive blocks of this length, which are drawn with replacement.
    ci_level : float
        Coverage of the interval.
    device : str or torch.device, optional
        With a torch device (``"cpu"``, ``"cuda"``), the binary words are packed and counted there
        with torch; the estimate and its interval are then computed from the counts as without it.

    Returns
    -------
    Estimate
        ``value`` = ``H_ind`` = sum of the unit entropies; ``diagnostics["unit_entropies"]`` the
        per-unit values aligned with ``rec.unit_ids``; ``diagnostics["p_active"]`` the fraction of
        samples each unit is active. Interval (when ``n_boot > 0``): the basic bootstrap interval
        ``(2 H - q_high, 2 H - q_low)``, ``q`` the quantiles of the replicates, each drawn from the
        distinct words' counts (multinomial; Poisson per word beyond 4096 distinct words unless
        most words are seen once or twice, where the multinomial is drawn as rows; sums of
        drawn blocks' counts with ``block_size``); it covers sampling
        variability, not the estimator's bias. ``diagnostics["percentile_ci"]`` is the percentile
        interval ``(q_low, q_high)`` and ``diagnostics["bias"]`` the bootstrap bias estimate
        ``mean(replicates) - H``; when the basic interval excludes ``H`` a warning says so.

    Raises
    ------
    InvalidParameterError
        Unknown method, bad base, threshold or bootstrap setting; ``rec`` not a Recording.

    Notes
    -----
    With ``p_u`` the fraction of samples where unit ``u`` (a column of ``rec``) exceeds
    ``threshold``: ``h_u = -p_u log p_u - (1 - p_u) log(1 - p_u)`` and ``H_ind = sum_u h_u``
    (plug-in); Miller–Madow adds ``1 / (2 N)`` nats per unit seen in both states; NSB uses the
    2-word alphabet. ``N`` is ``rec.n_samples``.

    References
    ----------
    .. [1] C. E. Shannon, "A mathematical theory of communication", Bell Syst. Tech. J. 27 (1948).
    .. [2] G. A. Miller, "Note on the bias of information estimates", in Information Theory in
       Psychology (1955).
    .. [3] I. Nemenman, F. Shafee, W. Bialek, "Entropy and inference, revisited", Advances in
       Neural Information Processing Systems 14 (2002).

    Examples
    --------
    >>> import numpy as np, neurocomplex as nc
    >>> rec = nc.Recording.from_array(np.array([[1, 0], [0, 0], [1, 0], [0, 1]]), kind="binary")
    >>> est = nc.unit_entropy(rec, n_boot=0)
    >>> round(est.value, 4), est.diagnostics["unit_entropies"].round(4).tolist()
    (1.8113, [1.0, 0.8113])
    """
    log_b = _check_common(method, base, n_boot, seed, block_size, ci_level)
    words, counts, inverse = _setup(rec, threshold, _blocked(n_boot, block_size), device)
    n = rec.n_samples
    ones_of = _UnitOnes(words, rec.n_units)
    ones = ones_of(counts)[0]
    per_unit = _unit_entropies_nats(ones, n, method)
    value = float(per_unit.sum())
    diag: dict[str, Any] = {"unit_entropies": per_unit / log_b, "p_active": ones / n}
    ci, msgs = None, []
    if n_boot > 0:
        table = _table(counts, inverse, n_boot, block_size)
        reps = np.concatenate([_unit_replicates(ones_of, batch, method)[0]
                               for batch in table.batches(n_boot, seed, per_word=True)]) / log_b
        ci, extra, notes = interval_report(reps, value / log_b, ci_level, "basic", 0.0)
        diag.update(extra)
        diag["bootstrap_replicates"] = reps
        msgs = [f"unit_entropy: {note}" for note in notes]
    params = _params(threshold=threshold, base=base, method=method, n_boot=n_boot, seed=seed,
                     block_size=block_size, ci_level=ci_level, device=device)
    return Estimate(value=value / log_b, ci=ci, method=method, params=params, n_samples=n,
                    n_units=rec.n_units, diagnostics=diag, warnings=_warn(msgs))


@register_estimator(family="entropy", binary=True, bounds=(0.0, math.inf),
                    invalid_params=({"method": "bogus"}, {"base": 0.0}, {"threshold": math.inf},
                                    {"n_boot": -1}, {"ci_level": 1.5}))
def pattern_entropy(rec: Recording, method: str = "nsb", threshold: float = 0.0, base: float = 2.0,
                    n_boot: int = 200, seed: int | None = 0, block_size: int | None = None,
                    ci_level: float = 0.95, device: Any = None) -> Estimate:
    """Entropy of the distribution of population words (the rows of ``B = 1[X > threshold]``).

    Parameters
    ----------
    rec : Recording
        Population activity, ``n_units`` columns: words of ``n_units`` bits.
    method : {"nsb", "plugin", "miller_madow"}
        Estimator; NSB uses the alphabet of all ``2**n_units`` words.
    threshold : float
        Activity threshold.
    base : float
        Base of the logarithm (2: bits).
    n_boot : int
        Bootstrap replicates for the confidence interval (0: no interval).
    seed : int or None
        Seed of the bootstrap.
    block_size : int, optional
        Block length (samples) of a block bootstrap, for time series: the samples are cut into
        consecutive blocks of this length, which are drawn with replacement.
    ci_level : float
        Coverage of the interval.
    device : str or torch.device, optional
        With a torch device (``"cpu"``, ``"cuda"``), the binary words are packed and counted there
        with torch; the estimate and its interval are then computed from the counts as without it.

    Returns
    -------
    Estimate
        ``diagnostics``: ``n_distinct`` words, ``n_coincidences`` (``N - n_distinct``), the
        ``plugin`` value, and for NSB ``nsb_std`` (posterior standard deviation),
        ``nsb_kappa_peak`` and ``nsb_log10_beta_peak`` (where the posterior over the Dirichlet
        concentration peaks, as ``K * beta`` and ``log10 beta``) and ``nsb_xi_peak`` (the prior
        expected entropy there). ``diagnostics["interval"]`` names the interval reported.
        Interval (when ``n_boot > 0``): for plug-in and Miller–Madow the basic bootstrap interval
        ``(2 H - q_high, 2 H - q_low)``, ``q`` the quantiles of the estimator on the replicates (it
        corrects the downward shift that resampling itself adds), with the percentile interval in
        ``diagnostics["percentile_ci"]`` and the bootstrap bias ``mean(replicates) - H`` in
        ``diagnostics["bias"]``. Replicates are drawn from the word counts: a multinomial over the
        distinct words, or with more than 4096 distinct words the Poisson bootstrap in
        counts-of-counts form; with ``block_size``, sums of the counts of drawn blocks. For NSB the
        posterior credible interval ``mean +- z * std`` (a bootstrap of NSB, whose resamples shift
        more than its bias, covers worse); with ``block_size`` the spread is the larger of the
        posterior std and the block-bootstrap std. Every interval covers sampling variability, not
        the estimator's bias: under severe undersampling it can exclude the truth, and the basic
        interval the estimate itself (a warning says so then).

    Raises
    ------
    InvalidParameterError
        Unknown method, bad base, threshold or bootstrap setting; ``rec`` not a Recording.

    Notes
    -----
    With ``n_i`` the count of distinct word ``i``, ``N`` = ``rec.n_samples`` and ``K_obs`` the number
    of distinct words: plug-in ``H = log N - (1/N) sum n_i log n_i``; Miller–Madow
    ``H + (K_obs - 1) / (2 N)``; NSB the posterior mean of the entropy under the mixture of
    symmetric Dirichlet priors of concentration ``beta``, weighted so that the prior expected
    entropy ``xi(beta) = psi(K beta + 1) - psi(beta + 1)`` is uniform, with ``K = 2**n_units``
    [1]_ [2]_. NSB is far less biased than plug-in when words are undersampled, but not unbiased:
    on independent units it still underestimates when ``N`` is much smaller than ``2**H``. When no
    word occurs twice the NSB value is set by the prior (a warning says so). When a single word
    is observed (a silent population) the plug-in value is 0 and the NSB value is small but
    positive: with ``K = 2**n_units`` possible words the posterior keeps a little probability for
    the unseen ones, shrinking as that word is seen more often (a warning says so).

    References
    ----------
    .. [1] I. Nemenman, F. Shafee, W. Bialek, "Entropy and inference, revisited", Advances in
       Neural Information Processing Systems 14 (2002).
    .. [2] I. Nemenman, W. Bialek, R. de Ruyter van Steveninck, "Entropy and information in neural
       spike trains: progress on the sampling problem", Phys. Rev. E 69, 056111 (2004).
    .. [3] G. A. Miller, "Note on the bias of information estimates", in Information Theory in
       Psychology (1955).

    Examples
    --------
    >>> import numpy as np, neurocomplex as nc
    >>> X = np.array([[0, 0], [0, 0], [1, 0], [1, 1]])
    >>> nc.pattern_entropy(nc.Recording.from_array(X, kind="binary"), method="plugin", n_boot=0).value
    1.5
    """
    log_b = _check_common(method, base, n_boot, seed, block_size, ci_level)
    _words, counts, inverse = _setup(rec, threshold, _blocked(n_boot, block_size), device)
    value, ci, diag, msgs = _word_estimate(_table(counts, inverse, n_boot, block_size), float(rec.n_units), method,
                                           log_b, n_boot, seed, ci_level, "pattern_entropy")
    params = _params(method=method, threshold=threshold, base=base, n_boot=n_boot, seed=seed,
                     block_size=block_size, ci_level=ci_level, device=device)
    return Estimate(value=value, ci=ci, method=method, params=params, n_samples=rec.n_samples,
                    n_units=rec.n_units, diagnostics=diag, warnings=_warn(msgs))


@register_estimator(family="entropy", binary=True, bounds=(0.0, math.inf),
                    invalid_params=({"method": "bogus"}, {"base": -2.0}, {"n_boot": 1.5}))
def multi_information(rec: Recording, method: str = "nsb", threshold: float = 0.0, base: float = 2.0,
                      n_boot: int = 200, seed: int | None = 0, block_size: int | None = None,
                      ci_level: float = 0.95, device: Any = None) -> Estimate:
    """Multi-information (total correlation) ``H_ind - H_pattern`` of the units' binary states.

    Parameters
    ----------
    rec : Recording
        Population activity.
    method : {"nsb", "plugin", "miller_madow"}
        Estimator used for both the unit entropies (2-word alphabets) and the pattern entropy
        (``2**n_units`` words).
    threshold : float
        Activity threshold.
    base : float
        Base of the logarithm (2: bits).
    n_boot : int
        Bootstrap replicates for the confidence interval (0: no interval).
    seed : int or None
        Seed of the bootstrap.
    block_size : int, optional
        Block length (samples) of a block bootstrap, for time series: the samples are cut into
        consecutive blocks of this length, which are drawn with replacement.
    ci_level : float
        Coverage of the interval.
    device : str or torch.device, optional
        With a torch device (``"cpu"``, ``"cuda"``), the binary words are packed and counted there
        with torch; the estimate and its interval are then computed from the counts as without it.

    Returns
    -------
    Estimate
        ``value`` >= 0; ``diagnostics``: ``independent_entropy`` (``H_ind``), ``pattern_entropy``,
        ``raw_value`` (before clipping) and the pattern-entropy diagnostics. Interval (when
        ``n_boot > 0``): for plug-in and Miller–Madow the basic bootstrap interval of the
        difference (both parts from the same replicates, drawn from the distinct words' counts
        as in :func:`unit_entropy`), with ``percentile_ci`` and ``bias`` in ``diagnostics`` and a warning when it
        excludes the estimate; for NSB ``raw +- z * sqrt(std_pattern^2 + sum std_unit^2)`` from the
        posterior standard deviations (conservative: the two parts covary), clipped at 0. Both
        cover sampling variability, not the estimators' bias.

    Raises
    ------
    InvalidParameterError
        Unknown method, bad base, threshold or bootstrap setting; ``rec`` not a Recording.

    Notes
    -----
    ``I = sum_u H(B_u) - H(B_1, ..., B_n)`` with ``B_u`` the binary column of unit ``u``; it is 0 for
    independent units and ``H(B_1)`` for two identical units. Sampling bias makes the estimate of
    ``I`` positive on independent units with plug-in (the pattern entropy is biased low far more
    than the unit entropies); the estimate is clipped at 0 with a warning when it is negative.

    References
    ----------
    .. [1] S. Watanabe, "Information theoretical analysis of multivariate correlation", IBM J. Res.
       Dev. 4 (1960).
    .. [2] I. Nemenman, F. Shafee, W. Bialek, "Entropy and inference, revisited", Advances in
       Neural Information Processing Systems 14 (2002).

    Examples
    --------
    >>> import numpy as np, neurocomplex as nc
    >>> X = np.array([[0, 0], [1, 1], [0, 0], [1, 1]])  # two identical units
    >>> nc.multi_information(nc.Recording.from_array(X, kind="binary"), method="plugin", n_boot=0).value
    1.0
    """
    log_b = _check_common(method, base, n_boot, seed, block_size, ci_level)
    words, counts, inverse = _setup(rec, threshold, _blocked(n_boot, block_size), device)
    n = rec.n_samples
    ones_of = _UnitOnes(words, rec.n_units)
    bits = float(rec.n_units)
    cts = counts.astype(np.float64)
    ones = ones_of(cts)[0]
    h_ind = float(_unit_entropies_nats(ones, n, method).sum())
    h_pat, _std, post = _entropy_nats(cts, bits, method)
    raw = h_ind - h_pat
    msgs = _nsb_messages(post, n, "multi_information", int(cts.size))
    if raw < 0:
        msgs.append(f"multi_information: the estimate {raw / log_b:.4g} is negative (H_ind < H_pattern by "
                    f"{-raw / log_b:.4g}, in units of log {base}); reported as 0. This happens on nearly "
                    "independent units through sampling noise.")
    diag: dict[str, Any] = {"independent_entropy": h_ind / log_b, "pattern_entropy": h_pat / log_b,
                            "raw_value": raw / log_b, "n_distinct": int(counts.size),
                            "n_coincidences": n - int(counts.size)}
    if post is not None:
        diag.update(nsb_std=post.std / log_b, nsb_kappa_peak=post.kappa_peak,
                    nsb_log10_beta_peak=post.log_beta_peak / math.log(10.0))
    ci = None
    if n_boot > 0 and post is not None:
        # Posterior spreads added as if independent: conservative, since H_ind and H_pattern covary.
        _h, unit_std = _unit_entropies_nats(ones, n, method, True)
        spread = math.sqrt(post.std**2 + float(np.sum(unit_std**2)))
        z = float(special.ndtri(0.5 + ci_level / 2.0))
        ci = (max(raw - z * spread, 0.0) / log_b, max(raw + z * spread, 0.0) / log_b)
        diag["interval"] = "posterior"
    elif n_boot > 0:
        pattern_stat = _batch_stat(method, bits)
        table = _table(counts, inverse, n_boot, block_size)
        reps = np.concatenate([_unit_replicates(ones_of, batch, method)[0] - pattern_stat(batch)
                               for batch in table.batches(n_boot, seed, per_word=True)]) / log_b
        ci, extra, notes = interval_report(reps, raw / log_b, ci_level, "basic", 0.0)
        diag.update(extra)
        diag["bootstrap_replicates"] = reps
        msgs += [f"multi_information: {note}" for note in notes]
    params = _params(method=method, threshold=threshold, base=base, n_boot=n_boot, seed=seed,
                     block_size=block_size, ci_level=ci_level, device=device)
    return Estimate(value=max(raw, 0.0) / log_b, ci=ci, method=method, params=params, n_samples=n,
                    n_units=rec.n_units, diagnostics=diag, warnings=_warn(msgs))
