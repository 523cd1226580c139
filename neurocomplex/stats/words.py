"""Binary population words: bit-packing, counting by sorting, Hamming distances by popcount.

A word is one row of the binary state B (n_units bits). It is packed little-endian into
``ceil(n_units / 64)`` unsigned 64-bit integers: bit ``j`` of integer ``k`` is unit ``64*k + j``.
Counting sorts the packed rows; there is no Python loop over samples.

Up to 64 units a row is one integer, packed with :func:`numpy.packbits` and read as the narrowest
unsigned type that holds it (8, 16, 32 or 64 bits), so counting is one 1-D sort of those integers:
the cost of ``np.unique`` on the packed rows; up to 8 units, and up to 16 from 4,096 words, a
tally of every possible integer (``np.bincount``), with no sort. Wider words are hashed to one 64-bit key per row,
sorted once, and checked row by row against a representative of their key (a collision, which
the check would find, falls back to a lexicographic sort of the rows).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neurocomplex._validation import check_int
from neurocomplex.errors import InvalidDataError, InvalidParameterError

__all__ = ["pack_words", "unpack_words", "count_words", "count_packed", "hamming", "WordCounts"]

# Rows of a float matrix compared with 0 at a time: bounds the temporary boolean matrix to a few MB.
_PACK_CHUNK = 1 << 16
# Odd multipliers of the row hash of words wider than 64 bits (splitmix64 constants).
_MIX = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB))


def _packed_bytes(binary: np.ndarray, width: int) -> np.ndarray:
    """``(n_samples, width)`` uint8: the rows packed little-endian (nonzero = 1), zero-padded."""
    if binary.ndim != 2:
        raise InvalidDataError(f"binary states must be 2-D (n_samples, n_units), got shape {binary.shape}.")
    n_samples, n_units = binary.shape
    n_bytes = -(-n_units // 8)
    if binary.dtype == np.bool_ or np.issubdtype(binary.dtype, np.integer):
        # packbits sets a bit for every nonzero integer: no boolean copy of the data.
        packed = np.packbits(binary, axis=1, bitorder="little")
    else:
        packed = np.empty((n_samples, n_bytes), dtype=np.uint8)
        flag = np.empty((min(n_samples, _PACK_CHUNK), n_units), dtype=bool)
        for start in range(0, n_samples, _PACK_CHUNK):
            block = binary[start : start + _PACK_CHUNK]
            np.not_equal(block, 0, out=flag[: block.shape[0]])
            packed[start : start + _PACK_CHUNK] = np.packbits(flag[: block.shape[0]], axis=1, bitorder="little")
    if n_bytes == width:
        return np.ascontiguousarray(packed)  # packbits keeps the memory order of a Fortran-ordered input
    out = np.zeros((n_samples, width), dtype=np.uint8)
    out[:, :n_bytes] = packed
    return out


def _row_codes(binary: np.ndarray) -> np.ndarray:
    """Rows of at most 64 units as one unsigned integer each (bit ``j`` is unit ``j``), in the
    narrowest of 8, 16, 32 or 64 bits."""
    n_bytes = max(1, -(-binary.shape[1] // 8))
    width = 1 if n_bytes == 1 else 2 if n_bytes == 2 else 4 if n_bytes <= 4 else 8
    return _packed_bytes(binary, width).view(f"<u{width}").reshape(-1)


def pack_words(binary: np.ndarray) -> np.ndarray:
    """Pack the rows of a 0/1 (or boolean, or any: nonzero = 1) matrix into uint64 words.

    Parameters
    ----------
    binary : numpy.ndarray
        Shape ``(n_samples, n_units)``; nonzero entries are ones.

    Returns
    -------
    numpy.ndarray
        uint64 array of shape ``(n_samples, ceil(n_units / 64))``.

    Examples
    --------
    >>> pack_words(np.array([[1, 0, 1], [0, 1, 0]]))[:, 0]
    array([5, 2], dtype=uint64)
    """
    if binary.ndim != 2:
        raise InvalidDataError(f"binary states must be 2-D (n_samples, n_units), got shape {binary.shape}.")
    n_int = max(1, -(-binary.shape[1] // 64))
    if n_int == 1:
        return _row_codes(binary).astype(np.uint64)[:, None]
    return _packed_bytes(binary, 8 * n_int).view("<u8").astype(np.uint64, copy=False)


def unpack_words(packed: np.ndarray, n_units: int) -> np.ndarray:
    """Inverse of :func:`pack_words`: uint8 0/1 matrix of shape ``(n_words, n_units)``."""
    as_bytes = np.ascontiguousarray(packed, dtype="<u8").view(np.uint8).reshape(packed.shape[0], -1)
    return np.unpackbits(as_bytes, axis=1, count=n_units, bitorder="little")


def _unique_codes(codes: np.ndarray, weights: np.ndarray | None,
                  return_inverse: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Distinct values of a 1-D unsigned integer array (sorted), their counts (or summed weights)
    and, when asked for, the index of each element's value."""
    n = codes.size
    if weights is None and (codes.dtype.itemsize == 1 or (codes.dtype.itemsize == 2 and n >= 4096)):
        # Up to 16 units, a tally of every possible value instead of a sort; for 16-bit codes only
        # from 4,096 words, below which the sort is faster than a pass over the 65,536 tallies.
        tally = np.bincount(codes, minlength=1 << (8 * codes.dtype.itemsize))
        seen = np.flatnonzero(tally)
        inverse = None
        if return_inverse:
            rank = np.zeros(tally.size, dtype=np.intp)
            rank[seen] = np.arange(seen.size)
            inverse = rank[codes]
        return seen.astype(codes.dtype), tally[seen], inverse
    if not return_inverse and weights is None:  # one sort of the values alone
        srt = np.sort(codes)
        new = np.empty(n, dtype=bool)
        new[:1] = True
        np.not_equal(srt[1:], srt[:-1], out=new[1:])
        starts = np.flatnonzero(new)
        return srt[starts], np.diff(np.append(starts, n)), None
    if codes.dtype.itemsize <= 4 and n < 2**32:
        # Value and position in one 64-bit key: a plain sort (vectorized) instead of an argsort.
        key = codes.astype(np.uint64) << np.uint64(32)
        key |= np.arange(n, dtype=np.uint64)
        key.sort()
        srt = (key >> np.uint64(32)).astype(codes.dtype)
        order = (key & np.uint64(0xFFFFFFFF)).astype(np.intp)
    else:
        order = np.argsort(codes)
        srt = codes[order]
    new = np.empty(n, dtype=bool)
    new[:1] = True
    np.not_equal(srt[1:], srt[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    inverse = np.empty(n, dtype=np.intp)
    inverse[order] = np.cumsum(new) - 1
    if weights is None:
        counts = np.diff(np.append(starts, n))
    else:
        counts = np.add.reduceat(np.asarray(weights, dtype=np.int64)[order], starts)  # exact in int64
    return srt[starts], counts, inverse if return_inverse else None


def _row_hash(packed: np.ndarray) -> np.ndarray:
    h = packed[:, 0] * _MIX[0]
    for k in range(1, packed.shape[1]):
        h ^= h >> np.uint64(29)
        h = (h ^ packed[:, k]) * _MIX[k % 2 + 1]
    return h ^ (h >> np.uint64(32))


def _unique_rows(packed: np.ndarray, weights: np.ndarray | None, return_inverse: bool,
                 first_major: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Distinct rows of a uint64 matrix sorted lexicographically (``first_major``: the first column
    is the most significant; otherwise the last), their counts (or summed weights) and each row's
    index."""
    n, n_int = packed.shape
    if n == 0:
        return packed[:0], np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.intp) if return_inverse else None
    if n_int == 1:
        uniq, counts, inverse = _unique_codes(packed[:, 0], weights, return_inverse)
        return uniq[:, None], counts, inverse
    keys, _c, key_of = _unique_codes(_row_hash(packed), None, True)  # one sort of 64-bit keys
    rep = np.empty(keys.size, dtype=np.intp)
    rep[key_of] = np.arange(n)
    if np.array_equal(packed[rep[key_of]], packed):  # no two distinct rows share a key
        rows = packed[rep]
        order = np.lexsort(rows.T[::-1] if first_major else rows.T)
        rank = np.empty(order.size, dtype=np.intp)
        rank[order] = np.arange(order.size)
        inverse = rank[key_of]
        counts = np.zeros(order.size, dtype=np.int64)
        np.add.at(counts, inverse, 1 if weights is None else np.asarray(weights, dtype=np.int64))
        return rows[order], counts, inverse if return_inverse else None
    order = np.lexsort(packed.T[::-1] if first_major else packed.T)
    srt = packed[order]
    new = np.ones(n, dtype=bool)
    new[1:] = np.any(srt[1:] != srt[:-1], axis=1)
    inverse = np.empty(n, dtype=np.intp)
    inverse[order] = np.cumsum(new) - 1
    w = np.ones(n, dtype=np.int64) if weights is None else np.asarray(weights, dtype=np.int64)
    return srt[new], np.add.reduceat(w[order], np.flatnonzero(new)), inverse if return_inverse else None


def count_packed(packed: np.ndarray, return_inverse: bool = False,
                 first_major: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Distinct rows of packed words (uint64 ``(n, n_int)``), their counts and, with
    ``return_inverse``, each row's index among them (None otherwise); sorted as in
    :func:`count_words`.

    Examples
    --------
    >>> words, counts, inverse = count_packed(np.array([[5], [2], [5]], dtype=np.uint64), True)
    >>> words[:, 0].tolist(), counts.tolist(), inverse.tolist()
    ([2, 5], [1, 2], [1, 0, 1])
    """
    return _unique_rows(np.asarray(packed, dtype=np.uint64), None, return_inverse, first_major)


def _sorted_unique_rows(packed: np.ndarray, weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of a uint64 matrix (sorted lexicographically, last column most significant)
    with their total weights (counts when ``weights`` is None)."""
    words, counts, _ = _unique_rows(packed, weights, False, False)
    return words, counts


def count_words(binary: np.ndarray, return_inverse: bool = False,
                first_major: bool = False) -> tuple[np.ndarray, ...]:
    """Distinct words of a binary matrix and how often each occurs.

    Parameters
    ----------
    binary : numpy.ndarray
        ``(n_samples, n_units)``; nonzero entries are ones.
    return_inverse : bool
        Also return the index of each row's distinct word.
    first_major : bool
        Sort words wider than 64 bits with the first packed integer most significant (the order
        of the torch device paths) instead of the last; the same order up to 64 units.

    Returns
    -------
    words : numpy.ndarray
        uint64, shape ``(n_distinct, ceil(n_units / 64))``, sorted as unsigned integers (last
        packed integer most significant unless ``first_major``).
    counts : numpy.ndarray
        int64, shape ``(n_distinct,)``; sums to ``n_samples``.
    inverse : numpy.ndarray
        With ``return_inverse``: the row index in ``words`` of each sample's word.

    Notes
    -----
    Up to 64 units the words are counted as one integer per row (one 1-D sort, as ``np.unique``
    of the packed rows); the index of each row, when asked for, is a binary search of its integer
    among the distinct ones.

    Examples
    --------
    >>> words, counts = count_words(np.array([[1, 0], [1, 0], [0, 1]]))
    >>> words[:, 0].tolist(), counts.tolist()
    ([1, 2], [2, 1])
    """
    if binary.ndim != 2:
        raise InvalidDataError(f"binary states must be 2-D (n_samples, n_units), got shape {binary.shape}.")
    if binary.shape[1] <= 64:
        uniq, counts, inverse = _unique_codes(_row_codes(binary), None, return_inverse)
        words = uniq.astype(np.uint64)[:, None]
    else:
        words, counts, inverse = _unique_rows(pack_words(binary), None, return_inverse, first_major)
    return (words, counts, inverse) if return_inverse else (words, counts)


def hamming(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamming distances between packed words (broadcasting over leading axes), by popcount.

    Examples
    --------
    >>> hamming(np.array([[0b1011]], dtype=np.uint64), np.array([[0b0001]], dtype=np.uint64))
    array([2])
    """
    return np.bitwise_count(np.bitwise_xor(a, b)).sum(axis=-1, dtype=np.int64)


class WordCounts:
    """Mergeable counts of binary population words (a sufficient statistic for entropies).

    Update it chunk by chunk (NWB reads, torch batches, dask blocks) and merge the counts of
    different workers; the result is identical to counting all rows at once.

    Parameters
    ----------
    n_units : int
        Word length in bits.

    Examples
    --------
    >>> a, b = WordCounts(2), WordCounts(2)
    >>> a.update(np.array([[1, 0], [0, 1]]))
    >>> b.update(np.array([[1, 0]]))
    >>> merged = a.merge(b)
    >>> merged.n_samples, merged.counts.tolist()
    (3, [2, 1])
    """

    def __init__(self, n_units: int) -> None:
        self.n_units = check_int("n_units", n_units, 1)
        n_int = max(1, -(-self.n_units // 64))
        self.words = np.zeros((0, n_int), dtype=np.uint64)
        self.counts = np.zeros(0, dtype=np.int64)

    @property
    def n_samples(self) -> int:
        """Number of words counted so far."""
        return int(self.counts.sum())

    def _absorb(self, words: np.ndarray, counts: np.ndarray) -> None:
        if self.counts.size == 0:  # the first chunk's counts are already distinct and sorted
            self.words, self.counts = words, np.asarray(counts, dtype=np.int64)
            return
        both = np.concatenate([self.words, words])
        weights = np.concatenate([self.counts, counts])
        self.words, self.counts = _sorted_unique_rows(both, weights)

    def update(self, binary: np.ndarray) -> None:
        """Count the rows of a ``(n_chunk, n_units)`` 0/1 chunk."""
        binary = np.asarray(binary)
        if binary.ndim != 2 or binary.shape[1] != self.n_units:
            raise InvalidDataError(f"chunk has shape {binary.shape}, expected (n, {self.n_units}).")
        self._absorb(*count_words(binary))

    def update_packed(self, packed: np.ndarray) -> None:
        """Count rows that are already packed (uint64, shape ``(n_chunk, n_int)``)."""
        self._absorb(*_sorted_unique_rows(np.asarray(packed, dtype=np.uint64)))

    def merge(self, other: WordCounts) -> WordCounts:
        """A new WordCounts holding the counts of both."""
        if other.n_units != self.n_units:
            raise InvalidParameterError(f"cannot merge words of {self.n_units} and {other.n_units} units.")
        out = WordCounts(self.n_units)
        out.words, out.counts = self.words, self.counts
        out._absorb(other.words, other.counts)
        return out

    def __repr__(self) -> str:
        return f"WordCounts(n_units={self.n_units}, n_samples={self.n_samples}, n_distinct={self.counts.size})"

    def to_dict(self) -> dict[str, Any]:
        """Plain arrays (for saving or sending to another process)."""
        return {"n_units": self.n_units, "words": self.words, "counts": self.counts}
