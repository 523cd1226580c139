"""Entropy of time words: words of consecutive bins of one unit or of the population, and the rate.

``word_entropy`` estimates the entropy of words of ``length`` consecutive bins; ``entropy_rate`` is
the slope of that entropy in the word length. Both use the estimators of
:mod:`neurocomplex.measures.entropy` (plug-in, Miller–Madow, NSB) on bit-packed sliding windows,
packed and counted with numpy or, with ``device=``, with torch on that device.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy import sparse

from neurocomplex._checks import check_recording
from neurocomplex._validation import check_float, check_int
from neurocomplex.errors import InsufficientDataError, InvalidParameterError
from neurocomplex.estimate import Estimate, interval_report, register_estimator
from neurocomplex.measures._word_bootstrap import WordTable, block_table
from neurocomplex.measures.entropy import (
    _batch_stat,
    _binary_state,
    _blocked,
    _check_common,
    _distinct,
    _entropy_nats,
    _nsb_messages,
    _params,
    _table,
    _warn,
    _word_estimate,
)
from neurocomplex.recording import Recording
from neurocomplex.stats.words import pack_words

__all__ = ["word_entropy", "entropy_rate"]

# Windows packed at a time when words are longer than 64 bits (bounds the temporary bit matrix).
_WINDOW_CHUNK = 1 << 15


def _window_words(binary: np.ndarray, length: int) -> np.ndarray:
    """Packed words of ``length`` consecutive rows (bit ``l * n_units + u`` is unit ``u`` at lag ``l``)."""
    n, n_units = binary.shape
    n_windows = n - length + 1
    if length == 1:
        return pack_words(binary)
    if n_units * length <= 64:
        rows = pack_words(binary)[:, 0]
        codes = np.zeros(n_windows, dtype=np.uint64)
        for lag in range(length):  # loop over lags, not samples
            codes |= rows[lag : lag + n_windows] << np.uint64(lag * n_units)
        return codes[:, None]
    windows = sliding_window_view(binary, length, axis=0)  # (n_windows, n_units, length) view
    out = np.empty((n_windows, -(-n_units * length // 64)), dtype=np.uint64)
    for start in range(0, n_windows, _WINDOW_CHUNK):
        block = windows[start : start + _WINDOW_CHUNK].transpose(0, 2, 1).reshape(-1, length * n_units)
        out[start : start + _WINDOW_CHUNK] = pack_words(block)
    return out



def _unit_column(rec: Recording, unit: Any) -> int | None:
    """Column of one unit (by id), or None for the whole population."""
    check_recording(rec, min_samples=2)
    if unit is None:
        return None
    hits = np.flatnonzero(rec.unit_ids == unit)
    if hits.size != 1:
        raise InvalidParameterError(
            f"unit={unit!r} is not a unit id of this Recording (unit_ids: {rec.unit_ids[:10].tolist()}"
            f"{' ...' if rec.n_units > 10 else ''}); pass an id, or unit=None for the whole population."
        )
    return int(hits[0])


def _time_binary(rec: Recording, column: int | None, threshold: Any) -> np.ndarray:
    """Binary state of one column or of the population, as a 2-D array."""
    binary = _binary_state(rec, threshold)
    return binary if column is None else binary[:, column : column + 1]


def _device_words(rec: Recording, column: int | None, threshold: Any, device: Any, lengths: list[int],
                  block_size: int | None, prefixes: bool) -> Any:
    """Time words of each length counted on a torch device (see ``count_window_words_torch``)."""
    thr = check_float("threshold", threshold)
    from neurocomplex._backend.accumulate import count_window_words_torch  # torch only when a device is asked for

    x = rec.data if column is None else rec.data[:, column : column + 1]  # a view: no host copy
    return count_window_words_torch(x, thr, device, lengths, block_size, prefixes)


def _block_word_table(counts: np.ndarray, blocks: Any, n_starts: int, block_size: int | None) -> WordTable:
    """Word table from device-counted ``(block, word, count)`` entries (or the counts alone)."""
    if blocks is None:
        return WordTable(counts)
    block, word, count = blocks
    return WordTable(counts, block_table(word, block, count, counts.size, -(-n_starts // block_size)))


@register_estimator(family="entropy", binary=True, bounds=(0.0, math.inf),
                    invalid_params=({"length": 0}, {"method": "bogus"}, {"unit": "no such unit"}))
def word_entropy(rec: Recording, length: int = 1, unit: Any = None, method: str = "nsb", threshold: float = 0.0,
                 base: float = 2.0, n_boot: int = 200, seed: int | None = 0, block_size: int | None = None,
                 ci_level: float = 0.95, device: Any = None) -> Estimate:
    """Entropy of words made of ``length`` consecutive samples (time bins).

    Parameters
    ----------
    rec : Recording
        Activity over time (rows are consecutive bins).
    length : int
        Number of consecutive bins per word, >= 1.
    unit : unit id, optional
        Words of this unit only (``length`` bits); None: of the whole population
        (``length * n_units`` bits).
    method : {"nsb", "plugin", "miller_madow"}
        Estimator; NSB uses the alphabet of all ``2**bits`` words.
    threshold : float
        Activity threshold.
    base : float
        Base of the logarithm (2: bits).
    n_boot : int
        Bootstrap replicates for the confidence interval (0: no interval).
    seed : int or None
        Seed of the bootstrap.
    block_size : int, optional
        Block length of a block bootstrap over word start positions (consecutive blocks of starts,
        drawn with replacement). Overlapping words are dependent, so a block of at least
        ``length`` bins is advisable.
    ci_level : float
        Coverage of the interval.
    device : str or torch.device, optional
        With a torch device (``"cuda"``, ``"cuda:1"``, ``"cpu"``), the data travel there chunk by
        chunk, and the words are thresholded, packed and counted there (with the per-block counts
        a block bootstrap needs); only the distinct words and their counts come back, and the
        estimate and every bootstrap replicate are computed from them as without it (word counts
        are integers: the results are identical). None (default): numpy.

    Returns
    -------
    Estimate
        ``n_samples`` is the number of (overlapping) words, ``N - length + 1``; diagnostics and
        interval as in :func:`pattern_entropy` (basic bootstrap from the word counts for plug-in
        and Miller–Madow, NSB posterior interval; they cover sampling variability, not bias).

    Raises
    ------
    InvalidParameterError
        ``length`` not a positive integer, unknown unit id or method, bad base, bootstrap setting
        or ``device``.
    MissingDependencyError
        ``device`` given without torch installed.
    InsufficientDataError
        Fewer than ``length`` samples.

    Notes
    -----
    A word at time ``t`` is ``(B_t, B_{t+1}, ..., B_{t+L-1})`` with ``L`` = ``length``; all ``N - L + 1``
    overlapping windows are counted. Its entropy ``H(L)`` grows linearly with slope equal to the
    entropy rate once ``L`` exceeds the memory of the process (see :func:`entropy_rate`).

    References
    ----------
    .. [1] S. P. Strong, R. Koberle, R. R. de Ruyter van Steveninck, W. Bialek, "Entropy and
       information in neural spike trains", Phys. Rev. Lett. 80, 197 (1998).
    .. [2] I. Nemenman, F. Shafee, W. Bialek, "Entropy and inference, revisited", Advances in
       Neural Information Processing Systems 14 (2002).

    Examples
    --------
    >>> import numpy as np, neurocomplex as nc
    >>> rec = nc.Recording.from_array(np.tile([1, 0], 50)[:, None], kind="binary", sampling_rate=100.0)
    >>> nc.word_entropy(rec, length=3, unit=0, method="plugin", n_boot=0).value  # words 101 and 010
    1.0
    """
    length = check_int("length", length, 1)
    log_b = _check_common(method, base, n_boot, seed, block_size, ci_level)
    column = _unit_column(rec, unit)
    n_units = rec.n_units if column is None else 1
    if device is None:
        binary = _time_binary(rec, column, threshold)
    else:
        check_float("threshold", threshold)
    if rec.n_samples < length:
        raise InsufficientDataError(f"word_entropy: {rec.n_samples} samples cannot hold a word of length {length}.")
    blocked = _blocked(n_boot, block_size)
    if device is None:
        _words, counts, inverse = _distinct(_window_words(binary, length), blocked)
        table = _table(counts, inverse, n_boot, block_size)
    else:
        found = _device_words(rec, column, threshold, device, [length], block_size if blocked else None, False)
        counts = found.counts[0]
        table = _block_word_table(counts, found.blocks, rec.n_samples - length + 1, block_size)
    value, ci, diag, msgs = _word_estimate(table, float(length * n_units), method, log_b, n_boot, seed, ci_level,
                                           "word_entropy")
    params = _params(length=length, unit=unit, method=method, threshold=threshold, base=base, n_boot=n_boot,
                     seed=seed, block_size=block_size, ci_level=ci_level,
                     device=None if device is None else str(device))
    return Estimate(value=value, ci=ci, method=method, params=params, n_samples=int(counts.sum()),
                    n_units=n_units, diagnostics=diag, warnings=_warn(msgs))


def _prefix_tables(tables: list, n_common: int, n_boot: int, block_size: Any) -> tuple[WordTable, list[np.ndarray]]:
    """Table of the longest words over the ``n_common`` shared starts, and for every length the index
    of the word each distinct longest word starts with (from its first start)."""
    _w, c_max, inv_max = tables[-1]
    inv_max = inv_max[:n_common]
    first = np.full(c_max.size, -1, dtype=np.intp)
    first[inv_max[::-1]] = np.arange(n_common - 1, -1, -1)  # first start of each longest word
    table = _table(np.bincount(inv_max, minlength=c_max.size), inv_max, n_boot, block_size)
    return table, [inv[first] for _w, _c, inv in tables]


def _rate_interval(table: WordTable, prefixes: list[np.ndarray], sizes: list[int], lengths: np.ndarray,
                   fit: np.ndarray, method: str, n_units: int, n_boot: int, seed: Any, ci_level: float,
                   slope: float, log_b: float) -> tuple[Any, dict[str, Any], list[str], np.ndarray]:
    """Basic bootstrap interval of the fitted slope (nats), through the word counts; the interval,
    its diagnostics, messages and replicates in units of log(base) (``slope / log_b``).

    Resampling the start positions shared by all lengths is a draw from the counts of the distinct
    longest words in ``table`` (or a sum of their per-block counts); the counts of each shorter word,
    a prefix of the longest (``prefixes[k]``, one of ``sizes[k]`` words), follow by one sparse product.
    """
    k_max = table.n_words
    fitted = [k for k in range(lengths.size) if fit[k]]
    maps = [sparse.csr_matrix((np.ones(k_max), (np.arange(k_max), prefixes[k])), shape=(k_max, sizes[k]))
            for k in fitted]
    stats = [_batch_stat(method, float(lengths[k] * n_units)) for k in fitted]
    x = lengths[fit].astype(np.float64)
    reps = []
    for batch in table.batches(n_boot, seed, per_word=True):
        hs = np.stack([stat(WordTable.dense_batch(np.asarray((m.T @ batch.direct.T).T)))
                       for m, stat in zip(maps, stats)], axis=1)  # (R, n_fitted)
        reps.append(np.polyfit(x, hs.T, 1)[0])
    all_reps = np.concatenate(reps) / log_b
    value = slope / log_b
    if method != "nsb":
        return (*interval_report(all_reps, value, ci_level, "basic"), all_reps)
    # NSB's H(L) is nearly unbiased on the data, but a replicate repeats samples, and NSB reads the
    # repeats as coincidences: the replicates sit below the estimate by a resampling artefact, which
    # the basic interval would add to the estimate. The replicates' spread is kept, centred on it.
    finite = all_reps[np.isfinite(all_reps)]
    centre = float(np.median(finite)) if finite.size else math.nan
    ci, extra, notes = interval_report(all_reps + (value - centre), value, ci_level, "percentile")
    raw = interval_report(all_reps, value, ci_level, "percentile")[1]
    extra.update(percentile_ci=raw["percentile_ci"], bias=raw["bias"], interval="percentile_centred")
    return ci, extra, notes, all_reps


@register_estimator(family="entropy", binary=True,
                    invalid_params=({"max_length": 1}, {"min_length": 0}, {"method": "bogus"}))
def entropy_rate(rec: Recording, max_length: int = 8, unit: Any = None, method: str = "nsb",
                 min_length: int | None = None, threshold: float = 0.0, base: float = 2.0, n_boot: int = 0,
                 seed: int | None = 0, block_size: int | None = None, ci_level: float = 0.95,
                 device: Any = None) -> Estimate:
    """Entropy rate: the slope of the word entropy ``H(L)`` in the word length ``L``.

    Parameters
    ----------
    rec : Recording
        Activity over time (rows are consecutive bins).
    max_length : int
        Longest word, >= 2.
    unit : unit id, optional
        One unit's train; None: the whole population (words of ``L * n_units`` bits).
    method : {"nsb", "plugin", "miller_madow"}
        Estimator of each ``H(L)``.
    min_length : int, optional
        Shortest word of the fit; by default ``max(1, (max_length + 1) // 2)``, the upper half of the
        lengths, where ``H(L)`` has become linear for processes of memory below that.
    threshold : float
        Activity threshold.
    base : float
        Base of the logarithm (2: bits).
    n_boot : int
        Bootstrap replicates (0, the default: no interval; each replicate re-estimates every ``H(L)``).
    seed : int or None
        Seed of the bootstrap.
    block_size : int, optional
        Block length of a block bootstrap over word start positions (consecutive blocks, drawn
        with replacement). By default (with ``n_boot > 0``) 10 × ``max_length`` starts, at most a
        20th of them and at least ``max_length``: neighbouring starts share bins, and resampling
        single starts understated the variance.
    ci_level : float
        Coverage of the interval.
    device : str or torch.device, optional
        With a torch device (``"cuda"``, ``"cuda:1"``, ``"cpu"``), the data travel there chunk by
        chunk, and the words of every length are thresholded, packed and counted there (with the
        per-block counts and the prefix maps the interval needs); only the distinct words and
        their counts come back, and every ``H(L)`` and bootstrap replicate are computed from them
        as without it (word counts are integers: the results are identical). None (default): numpy.

    Returns
    -------
    Estimate
        ``value`` in units of ``log(base)`` per bin; ``diagnostics``: ``lengths``, ``word_entropies``
        (``H(L)``), ``conditional_entropies`` (``H(L) - H(L-1)``, with ``H(0) = 0``), ``fit_lengths``
        and ``rate_per_second`` (``value / bin_size``, None when the Recording has no bin size).
        Interval (``n_boot > 0``): bootstrap of the slope, every ``H(L)`` of a replicate from
        the same resampled blocks of start positions (drawn from the counts of the distinct longest
        words, as in :func:`~neurocomplex.unit_entropy`), with ``percentile_ci``, ``bias`` and
        ``interval`` in ``diagnostics``. Plug-in and Miller–Madow: the basic interval. NSB: the
        replicates' quantiles re-centred on the estimate (``"percentile_centred"``): a replicate
        repeats samples, which NSB reads as coincidences, so its replicates fall below its nearly
        unbiased estimate by a resampling artefact (``bias``) that the basic interval would add to
        the estimate (it then covered the rate of known-answer trains in none of 40 draws; centred,
        in 0.88–0.98). Either covers sampling variability, not the downward bias of undersampled
        long words.

    Raises
    ------
    InvalidParameterError
        ``max_length < 2``, ``min_length`` outside ``[1, max_length - 1]``, unknown unit id or method,
        bad ``device``.
    MissingDependencyError
        ``device`` given without torch installed.
    InsufficientDataError
        Fewer than ``max_length + 1`` samples.

    Notes
    -----
    ``h = dH(L)/dL``, fitted by least squares over ``L`` = ``min_length`` ... ``max_length``. For an
    i.i.d. train of firing probability ``p`` it is ``-p log p - (1-p) log(1-p)`` at every ``L``;
    for a Markov chain of order ``m`` ``H(L)`` is exactly linear from ``L = m``; for a periodic train
    it tends to 0. Undersampled long words bias ``H(L)`` low and so the slope low; NSB delays this.

    References
    ----------
    .. [1] S. P. Strong, R. Koberle, R. R. de Ruyter van Steveninck, W. Bialek, "Entropy and
       information in neural spike trains", Phys. Rev. Lett. 80, 197 (1998).
    .. [2] T. M. Cover, J. A. Thomas, Elements of Information Theory, 2nd ed., ch. 4 (2006).

    Examples
    --------
    >>> import numpy as np, neurocomplex as nc
    >>> rec = nc.Recording.from_array(np.tile([1, 1, 0], 200)[:, None], kind="binary")
    >>> round(nc.entropy_rate(rec, max_length=6, unit=0, method="plugin").value, 6)  # periodic: 0
    0.0
    """
    max_length = check_int("max_length", max_length, 2)
    if min_length is None:
        min_length = max(1, (max_length + 1) // 2)
    min_length = check_int("min_length", min_length, 1, max_length - 1)
    log_b = _check_common(method, base, n_boot, seed, block_size, ci_level)
    column = _unit_column(rec, unit)
    n_units = rec.n_units if column is None else 1
    if device is None:
        binary = _time_binary(rec, column, threshold)
    else:
        check_float("threshold", threshold)
    n = rec.n_samples
    if n < max_length + 1:
        raise InsufficientDataError(f"entropy_rate: {n} samples are too few for words up to length {max_length}.")
    lengths = np.arange(1, max_length + 1)
    n_common = n - max_length + 1  # start positions shared by all lengths
    if n_boot > 0 and block_size is None:
        # neighbouring starts share bins (their words overlap), so single starts resampled alone
        # understate the variance: blocks of 10 word lengths (at least 20 blocks, at least one length)
        block_size = max(max_length, min(10 * max_length, n_common // 20))
    if device is None:
        tables = [_distinct(_window_words(binary, int(length)), n_boot > 0) for length in lengths]
        all_counts = [counts for _w, counts, _inv in tables]
    else:
        found = _device_words(rec, column, threshold, device, lengths.tolist(),
                              block_size if _blocked(n_boot, block_size) else None, n_boot > 0)
        all_counts = found.counts
    h = np.empty(lengths.size)
    msgs: list[str] = []
    for k, (length, counts) in enumerate(zip(lengths, all_counts)):
        h[k], _std, post = _entropy_nats(counts.astype(np.float64), float(length * n_units), method)
        msgs += _nsb_messages(post, int(counts.sum()), f"entropy_rate (L={length})", int(counts.size))
    fit = lengths >= min_length
    slope = float(np.polyfit(lengths[fit], h[fit], 1)[0])
    ci = None
    diag: dict[str, Any] = {}
    if n_boot > 0:
        if device is None:
            table, prefixes = _prefix_tables(tables, n_common, n_boot, block_size)
        else:
            table, prefixes = _block_word_table(found.counts[-1], found.blocks, n_common, block_size), found.prefixes
        ci, extra, notes, reps = _rate_interval(table, prefixes, [c.size for c in all_counts], lengths, fit, method,
                                                n_units, n_boot, seed, ci_level, slope, log_b)
        diag.update(extra)
        diag["bootstrap_replicates"] = reps
        msgs += [f"entropy_rate: {note}" for note in notes]
    if slope < -1.0 / n:  # smaller negative slopes are edge effects of counting overlapping windows
        msgs.append(f"entropy_rate: the fitted slope is negative ({slope / log_b:.4g}); H(L) is flat within "
                    "sampling noise over the fitted lengths (a periodic or nearly deterministic train).")
    rate = slope / log_b
    diag.update(lengths=lengths, word_entropies=h / log_b, conditional_entropies=np.diff(h, prepend=0.0) / log_b,
                fit_lengths=lengths[fit],
                rate_per_second=None if rec.bin_size is None else rate / rec.bin_size)
    params = _params(max_length=max_length, unit=unit, method=method, min_length=min_length, threshold=threshold,
                     base=base, n_boot=n_boot, seed=seed, block_size=block_size, ci_level=ci_level,
                     device=None if device is None else str(device))
    return Estimate(value=rate, ci=ci, method=method, params=params, n_samples=n, n_units=n_units,
                    diagnostics=diag, warnings=_warn(msgs))
