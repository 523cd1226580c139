"""Bootstrap replicates of a word distribution drawn from its counts, never from the samples.

A resample of ``N`` samples drawn i.i.d. is a multinomial draw of ``N`` over the distinct words,
with probabilities their relative counts: :class:`WordTable` draws it from the ``K`` counts, in
``O(K)`` per replicate instead of ``O(N)``, or, where ``N <= 3 K`` (few samples per word), as ``N``
row indices, which costs less there. Entropies depend on a replicate only through its
"counts of counts" (how many words occur ``j`` times). When there are many distinct words, an
i.i.d. replicate is drawn as a Poisson bootstrap directly in that form: each word's count is
``Poisson(n_i)`` independently (the multinomial without the constraint that the total be exactly
``N``; Hanley & MacGibbon 2006), and the ``m_k`` words seen ``k`` times contribute a
``Multinomial(m_k, Poisson(k) probabilities)`` vector of counts of counts, so a replicate costs
``O(distinct count values)``, not ``O(K)``. Statistics that need each word's count (unit entropies,
complexities) get the Poisson counts word by word, or the exact multinomial as ``N`` row indices
where most words are seen once or twice (``N <= 2 K``), which costs less. For the plug-in and Miller–Madow entropies, which need
only ``sum c log c``, ``sum c`` and the number of words seen, the words seen at least
``_GAUSS_MIN_COUNT`` times (when there are at least ``_GAUSS_MIN_WORDS`` of them) contribute those
sums as one bivariate normal draw with their exact Poisson means and covariances: a sum of hundreds
or more independent terms, whose skewness (below ``0.35 / sqrt(words)``) moves the
quantiles of the replicates by far less than the Monte Carlo error of a few hundred replicates.

A block bootstrap keeps a sparse ``(block, word)`` table of counts, built once by one sort; a
replicate draws blocks with replacement and sums their rows (a sparse product).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import numpy as np
from scipy import sparse, special

__all__ = ["ReplicateBatch", "WordTable", "block_table", "count_bootstrap", "replicate_counts", "plugin_nats",
           "miller_madow_nats"]

# Up to this many distinct words an i.i.d. replicate is the exact multinomial over the words.
_MULTINOMIAL_MAX_DISTINCT = 4096
# A replicate's N samples drawn as N row indices (about 17 ns a row: the draw, the word of the row
# and its count) cost less than the multinomial's K sequential binomials (60-70 ns a word) when
# N <= 3 K, and less than K Poisson draws (about 45 ns a word) when N <= 2 K (measured on this
# project's 2-core machine, numpy 2.4); either way it is the exact multinomial.
_ROWS_PER_BINOMIAL = 3
_ROWS_PER_POISSON = 2
# From this many words each replicate's rows are tallied on their own (a table of K counts stays in
# cache; one tally of the whole batch, size x K counts, is written at random far beyond it).
_OWN_TALLY_WORDS = 1 << 13
# Replicate x word entries materialized at a time (bounds the memory of a batch to ~32 MB).
_BATCH_ENTRIES = 1 << 22
# Poisson(k) support kept for a count value k: k +- (_TAIL_SD sqrt(k) + _TAIL_SD) (tail mass < 1e-20).
_TAIL_SD = 10.0
# Words seen at least this often, when at least _GAUSS_MIN_WORDS of them, enter the sums of a
# Poisson replicate as one bivariate normal draw (see the module docstring).
_GAUSS_MIN_COUNT = 10.0
_GAUSS_MIN_WORDS = 100
# From this count on, the Poisson moments of c log c come from their expansion in 1/k.
_EXPANSION_MIN_COUNT = 100.0


class ReplicateBatch:
    """Replicates in counts-of-counts form: ``mult[r, j]`` words occur ``values[j]`` times in replicate
    ``r``, and ``direct[r, d]`` are further word counts, each for one word."""

    def __init__(self, values: np.ndarray, mult: np.ndarray, direct: np.ndarray,
                 sums: np.ndarray | None = None) -> None:
        self.values = values
        self.mult = mult
        self.direct = direct
        # (R, 3): sum c log c, sum c and the number of words of the words given only through sums.
        self.sums = np.zeros((direct.shape[0], 3)) if sums is None else sums

    @property
    def n_replicates(self) -> int:
        return int(self.direct.shape[0])

    def totals(self) -> np.ndarray:
        """Number of samples ``N*`` of each replicate."""
        # einsum, not a BLAS product: no thread pool to wake for a (replicates x values) product
        return np.einsum("ij,j->i", self.mult, self.values) + self.direct.sum(axis=1) + self.sums[:, 1]

    def n_observed(self) -> np.ndarray:
        """Number of distinct words seen in each replicate."""
        return self.mult[:, self.values > 0].sum(axis=1) + np.count_nonzero(self.direct, axis=1) + self.sums[:, 2]

    def sum_xlogx(self) -> np.ndarray:
        """``sum_i c_i log c_i`` of each replicate."""
        d = self.direct
        return (np.einsum("ij,j->i", self.mult, special.xlogy(self.values, self.values))
                + np.einsum("ij,ij->i", d, np.log(np.maximum(d, 1.0))) + self.sums[:, 0])

    def profile(self, r: int) -> tuple[np.ndarray, np.ndarray]:
        """Distinct positive counts of replicate ``r`` and how many words have each."""
        if np.any(self.sums[:, 2]):
            raise ValueError("a batch drawn with sums_only=True has no counts of counts")
        keep = (self.mult[r] > 0) & (self.values > 0)
        d = self.direct[r]
        d = d[d > 0]
        vals = np.concatenate([self.values[keep], d])
        weights = np.concatenate([self.mult[r, keep], np.ones(d.size)])
        uniq, where = np.unique(vals, return_inverse=True)
        return uniq.astype(np.float64), np.bincount(where, weights=weights, minlength=uniq.size)


def block_table(word_index: np.ndarray, block_index: np.ndarray, weights: np.ndarray | None,
                n_words: int, n_blocks: int) -> sparse.csr_matrix:
    """Sparse ``(n_blocks, n_words)`` table of counts from one entry per (block, word) occurrence."""
    key = block_index.astype(np.int64) * n_words + word_index.astype(np.int64)
    if weights is None:
        uniq, counts = np.unique(key, return_counts=True)  # one sort
    else:
        order = np.argsort(key, kind="stable")
        srt = key[order]
        starts = np.flatnonzero(np.r_[True, srt[1:] != srt[:-1]])
        uniq, counts = srt[starts], np.add.reduceat(np.asarray(weights, dtype=np.int64)[order], starts)
    return sparse.csr_matrix((counts.astype(np.float64), (uniq // n_words, uniq % n_words)),
                             shape=(n_blocks, n_words))


class WordTable:
    """Counts of the distinct words, and optionally their counts per block of consecutive samples.

    Parameters
    ----------
    counts : numpy.ndarray
        Count of each distinct word (positive integers).
    blocks : scipy.sparse.csr_matrix, optional
        ``(n_blocks, n_words)`` counts per block; replicates are then block-bootstrap draws.
    """

    def __init__(self, counts: np.ndarray, blocks: sparse.csr_matrix | None = None) -> None:
        self.counts = np.asarray(counts, dtype=np.float64)
        self.blocks = blocks
        self._poisson: dict[bool, tuple] | None = None

    @classmethod
    def from_inverse(cls, counts: np.ndarray, inverse: np.ndarray | None, block_size: int | None) -> WordTable:
        """Table of words whose per-sample distinct-word index is ``inverse`` (blocks of ``block_size``
        consecutive samples when given)."""
        if block_size is None or block_size <= 1 or inverse is None:
            return cls(counts)
        n = inverse.size
        n_blocks = -(-n // block_size)
        blocks = block_table(inverse, np.arange(n) // block_size, None, counts.size, n_blocks)
        return cls(counts, blocks)

    @staticmethod
    def dense_batch(counts: np.ndarray) -> ReplicateBatch:
        """A batch holding one count per word for each replicate (rows of ``counts``)."""
        counts = np.asarray(counts, dtype=np.float64)
        return ReplicateBatch(np.zeros(0), np.zeros((counts.shape[0], 0)), counts)

    @property
    def n_words(self) -> int:
        return int(self.counts.size)

    def batches(self, n_boot: int, seed: int | None, per_word: bool = False,
                sums_only: bool = False) -> Iterator[ReplicateBatch]:
        """Yield the ``n_boot`` replicates in batches (deterministic for a seed).

        With ``per_word`` every batch holds one count per distinct word (``direct``, aligned with the
        table's words); otherwise large i.i.d. tables give counts-of-counts batches (Poisson bootstrap),
        in which, with ``sums_only``, the often-seen words enter only through the sums used by
        :meth:`ReplicateBatch.sum_xlogx`, :meth:`~ReplicateBatch.totals` and
        :meth:`~ReplicateBatch.n_observed`.
        """
        rng = np.random.default_rng(seed)
        n_samples = float(self.counts.sum())
        if self.blocks is not None:
            yield from self._block_batches(n_boot, rng)
        elif self.n_words <= _MULTINOMIAL_MAX_DISTINCT and n_samples <= _ROWS_PER_BINOMIAL * self.n_words:
            yield from self._row_batches(n_boot, rng)
        elif self.n_words <= _MULTINOMIAL_MAX_DISTINCT:
            yield from self._multinomial_batches(n_boot, rng)
        elif per_word and n_samples <= _ROWS_PER_POISSON * self.n_words:  # most words seen once or twice
            yield from self._row_batches(n_boot, rng)
        elif per_word:  # the Poisson bootstrap, word by word (cheaper than the multinomial's binomials)
            for size in self._batch_sizes(n_boot, self.n_words):
                yield self.dense_batch(rng.poisson(self.counts, size=(size, self.n_words)))
        else:
            yield from self._poisson_batches(n_boot, rng, sums_only)

    def _batch_sizes(self, n_boot: int, width: int) -> Iterator[int]:
        step = max(1, _BATCH_ENTRIES // max(width, 1))
        for start in range(0, n_boot, step):
            yield min(step, n_boot - start)

    def _multinomial_batches(self, n_boot: int, rng: np.random.Generator) -> Iterator[ReplicateBatch]:
        n = round(float(self.counts.sum()))
        p = self.counts / self.counts.sum()
        for size in self._batch_sizes(n_boot, self.n_words):
            yield self.dense_batch(rng.multinomial(n, p, size=size))

    def _row_batches(self, n_boot: int, rng: np.random.Generator) -> Iterator[ReplicateBatch]:
        """The multinomial drawn as the samples themselves: ``N`` uniform row indices per replicate,
        each mapped to its word and counted (where ``N`` is small for the number of words)."""
        n, n_words = round(float(self.counts.sum())), self.n_words
        index = np.int32 if max(n, n_words) < 2**31 else np.int64
        word_of_row = np.repeat(np.arange(n_words, dtype=index), self.counts.astype(np.int64))
        for size in self._batch_sizes(n_boot, max(n, n_words)):
            keys = word_of_row[rng.integers(0, n, size=(size, n), dtype=index)]
            if n_words >= _OWN_TALLY_WORDS:  # one tally per replicate: a table that stays in cache
                counts = np.empty((size, n_words))
                for b in range(size):
                    counts[b] = np.bincount(keys[b], minlength=n_words)
                yield self.dense_batch(counts)
                continue
            keys += (np.arange(size, dtype=index) * n_words)[:, None]  # one count array for the batch
            yield self.dense_batch(np.bincount(keys.ravel(), minlength=size * n_words).reshape(size, n_words))

    def _block_batches(self, n_boot: int, rng: np.random.Generator) -> Iterator[ReplicateBatch]:
        blocks = self.blocks
        assert blocks is not None
        n_blocks = blocks.shape[0]
        table_t = blocks.T.tocsr()  # (n_words, n_blocks)
        for size in self._batch_sizes(n_boot, self.n_words):
            # How often each block is drawn when n_blocks blocks are drawn with replacement.
            weights = rng.multinomial(n_blocks, np.full(n_blocks, 1.0 / n_blocks), size=size).astype(np.float64)
            yield self.dense_batch(np.ascontiguousarray(np.asarray(table_t @ weights.T).T))

    def _poisson_setup(self, sums_only: bool) -> tuple:
        """Split the count values into those drawn as counts of counts (many words share the value:
        a multinomial over the Poisson support), those drawn word by word, and (``sums_only``) the
        often-seen words summarized by the mean and Cholesky factor of their sums."""
        key = bool(sums_only)
        if self._poisson is None:
            self._poisson = {}
        if key in self._poisson:
            return self._poisson[key]
        values, mult = np.unique(self.counts, return_counts=True)
        gauss = np.zeros(values.size, dtype=bool)
        if sums_only:
            gauss = values >= _GAUSS_MIN_COUNT
            if mult[gauss].sum() < _GAUSS_MIN_WORDS:
                gauss[:] = False
        half = np.ceil(_TAIL_SD * np.sqrt(values) + _TAIL_SD)
        lo = np.maximum(values - half, 0.0)
        width = (values + half - lo + 1).astype(np.int64)
        grouped = (mult > width) & ~gauss
        width_max = int(width[grouped].max()) if grouped.any() else 1
        grid = lo[grouped, None] + np.arange(width_max)[None, :]  # (G, S) support of each value
        pmf = _poisson_pmf(grid, values[grouped, None])
        pmf[np.arange(width_max)[None, :] >= width[grouped, None]] = 0.0
        pmf /= pmf.sum(axis=1, keepdims=True)
        # Most probable counts first: the sequential binomials of a multinomial stop once every
        # word is placed, so the improbable tail costs nothing.
        order = np.argsort(-pmf, axis=1, kind="stable")
        grid = np.take_along_axis(grid, order, axis=1)
        pmf = np.take_along_axis(pmf, order, axis=1)
        single = np.repeat(values[~grouped & ~gauss], mult[~grouped & ~gauss])
        mean, chol, _n = _poisson_sums_moments(values[gauss], mult[gauss], lo[gauss], width[gauss])
        n_gauss = float(np.dot(mult[gauss], -np.expm1(-values[gauss])))
        self._poisson[key] = (grid.ravel(), mult[grouped].astype(np.int64), pmf, single, mean, chol, n_gauss)
        return self._poisson[key]

    def _poisson_batches(self, n_boot: int, rng: np.random.Generator, sums_only: bool) -> Iterator[ReplicateBatch]:
        grid, group_mult, pmf, single, mean, chol, n_gauss = self._poisson_setup(sums_only)
        for size in self._batch_sizes(n_boot, grid.size + single.size):
            mult = rng.multinomial(group_mult, pmf, size=(size, group_mult.size)).reshape(size, -1)
            direct = rng.poisson(single, size=(size, single.size)).astype(np.float64)
            sums = None
            if n_gauss:
                sums = np.empty((size, 3))
                sums[:, :2] = mean + rng.standard_normal((size, 2)) @ chol.T
                sums[:, 2] = n_gauss  # expected number seen: P(Poisson(k >= 10) = 0) < 5e-5
            yield ReplicateBatch(grid, mult.astype(np.float64), direct, sums)


def _poisson_pmf(c: np.ndarray, k: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.exp(special.xlogy(c, k) - k - special.gammaln(c + 1.0))


def _poisson_sums_moments(values: np.ndarray, mult: np.ndarray, lo: np.ndarray,
                          width: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Mean and Cholesky factor of ``(sum c log c, sum c)`` over independent ``c ~ Poisson(k)``, ``mult[j]``
    words with ``k = values[j]``.

    Below ``_EXPANSION_MIN_COUNT`` the moments are exact sums over each Poisson support (centred at
    ``k`` for accuracy); above, the expansion in ``1/k`` of ``E[c log c] = k log k + 1/2 + 1/(12 k)``,
    ``Var[c log c] = k (log k + 1)^2 + 1/2`` and ``Cov(c log c, c) = k (log k + 1)``, whose errors there
    are below 1e-5 in the mean and 1e-5 relative in the variances.
    """
    if values.size == 0:
        return np.zeros(2), np.zeros((2, 2)), 0
    big = values >= _EXPANSION_MIN_COUNT
    kb, mb = values[big], mult[big]
    log1 = np.log(kb) + 1.0
    mean = np.array([np.dot(mb, special.xlogy(kb, kb) + 0.5 + 1.0 / (12.0 * kb)), np.dot(mb, kb)])
    cov_fd = np.dot(mb, kb * log1)
    cov = np.array([[np.dot(mb, kb * log1 * log1 + 0.5), cov_fd], [cov_fd, np.dot(mb, kb)]])
    values, mult, lo, width = values[~big], mult[~big], lo[~big], width[~big]
    if values.size:
        m_exact, c_exact = _exact_sums_moments(values, mult, lo, width)
        mean, cov = mean + m_exact, cov + c_exact
    return mean, np.linalg.cholesky(cov), int(mb.sum() + mult.sum())


def _exact_sums_moments(values: np.ndarray, mult: np.ndarray, lo: np.ndarray,
                        width: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    starts = np.concatenate([[0], np.cumsum(width)[:-1]])
    which = np.repeat(np.arange(values.size), width)
    c = lo[which] + (np.arange(which.size) - starts[which])
    k = values[which]
    pmf = _poisson_pmf(c, k)
    pmf /= np.bincount(which, weights=pmf)[which]
    f = special.xlogy(c, c) - special.xlogy(k, k)  # c log c - k log k
    d = c - k
    e_f = np.bincount(which, weights=pmf * f)
    var_f = np.bincount(which, weights=pmf * f * f) - e_f**2
    cov_fd = np.bincount(which, weights=pmf * f * d) - e_f * np.bincount(which, weights=pmf * d)
    mean = np.array([np.dot(mult, special.xlogy(values, values) + e_f), np.dot(mult, values)])
    cov = np.array([[np.dot(mult, var_f), np.dot(mult, cov_fd)], [np.dot(mult, cov_fd), np.dot(mult, values)]])
    return mean, cov


def replicate_counts(counts: np.ndarray, inverse: np.ndarray | None, n_boot: int, seed: int | None,
                     block_size: int | None = None) -> Iterator[np.ndarray]:
    """Label counts of ``n_boot`` bootstrap replicates of the samples, in batches (int64 rows, one
    column per label): multinomial draws over the labels' counts (each label's ``Poisson(n_i)``
    beyond 4096 labels) or, with ``block_size``, sums of the label counts of blocks of consecutive
    samples drawn with replacement. ``inverse`` is each sample's label (needed for blocks only)."""
    if n_boot == 0:
        return
    table = WordTable.from_inverse(np.asarray(counts), inverse, block_size)
    for batch in table.batches(n_boot, seed, per_word=True):
        yield np.rint(batch.direct).astype(np.int64)


def count_bootstrap(statistic: Callable[[np.ndarray], float], counts: np.ndarray, inverse: np.ndarray | None,
                    n_boot: int, seed: int | None, block_size: int | None = None) -> np.ndarray:
    """``statistic(replicate counts)`` on ``n_boot`` bootstrap replicates of the samples, drawn from the
    counts of their labels (distinct words, clusters) by :func:`replicate_counts`."""
    return np.array([statistic(row) for batch in replicate_counts(counts, inverse, n_boot, seed, block_size)
                     for row in batch], dtype=float)


def plugin_nats(batch: ReplicateBatch) -> np.ndarray:
    """Plug-in entropy (nats) of each replicate (nan for an empty replicate)."""
    n = batch.totals()
    with np.errstate(divide="ignore", invalid="ignore"):
        h = np.log(n) - batch.sum_xlogx() / n
    return np.where(n > 0, h, math.nan)


def miller_madow_nats(batch: ReplicateBatch) -> np.ndarray:
    """Miller–Madow entropy (nats) of each replicate."""
    n = batch.totals()
    with np.errstate(divide="ignore", invalid="ignore"):
        return plugin_nats(batch) + (batch.n_observed() - 1.0) / (2.0 * n)
