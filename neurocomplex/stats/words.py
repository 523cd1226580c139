"""Binary population words: bit-packing, counting by sorting, Hamming distances by popcount.

A word is one row of the binary state B (n_units bits). It is packed little-endian into
``ceil(n_units / 64)`` unsigned 64-bit integers: bit ``j`` of integer ``k`` is unit ``64*k + j``.
Counting sorts the packed rows; there is no Python loop over samples.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neurocomplex._validation import check_int
from neurocomplex.errors import InvalidDataError, InvalidParameterError

__all__ = ["pack_words", "unpack_words", "count_words", "hamming", "WordCounts"]

# Rows packed at a time: bounds the temporary boolean matrix to a few MB.
_PACK_CHUNK = 1 << 16


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
    n_samples, n_units = binary.shape
    n_int = max(1, -(-n_units // 64))
    out = np.zeros((n_samples, n_int * 8), dtype=np.uint8)
    n_bytes = -(-n_units // 8)
    for start in range(0, n_samples, _PACK_CHUNK):
        block = binary[start : start + _PACK_CHUNK]
        bits = block.astype(bool, copy=False) if block.dtype != np.bool_ else block
        out[start : start + _PACK_CHUNK, :n_bytes] = np.packbits(bits, axis=1, bitorder="little")
    return out.view("<u8").astype(np.uint64, copy=False)


def unpack_words(packed: np.ndarray, n_units: int) -> np.ndarray:
    """Inverse of :func:`pack_words`: uint8 0/1 matrix of shape ``(n_words, n_units)``."""
    as_bytes = np.ascontiguousarray(packed, dtype="<u8").view(np.uint8).reshape(packed.shape[0], -1)
    return np.unpackbits(as_bytes, axis=1, count=n_units, bitorder="little")


def _sorted_unique_rows(packed: np.ndarray, weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of a uint64 matrix (sorted lexicographically, last column most significant)
    with their total weights (counts when ``weights`` is None)."""
    n = packed.shape[0]
    if n == 0:
        return packed[:0], np.zeros(0, dtype=np.int64)
    w = np.ones(n, dtype=np.int64) if weights is None else np.asarray(weights, dtype=np.int64)
    if packed.shape[1] == 1:
        order = np.argsort(packed[:, 0], kind="stable")
    else:
        order = np.lexsort(packed.T)  # last key (highest word) is the primary sort key
    srt = packed[order]
    new = np.ones(n, dtype=bool)
    new[1:] = np.any(srt[1:] != srt[:-1], axis=1)
    starts = np.flatnonzero(new)
    return srt[starts], np.add.reduceat(w[order], starts)


def count_words(binary: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct words of a binary matrix and how often each occurs.

    Returns
    -------
    words : numpy.ndarray
        uint64, shape ``(n_distinct, ceil(n_units / 64))``, sorted.
    counts : numpy.ndarray
        int64, shape ``(n_distinct,)``; sums to ``n_samples``.

    Examples
    --------
    >>> words, counts = count_words(np.array([[1, 0], [1, 0], [0, 1]]))
    >>> words[:, 0].tolist(), counts.tolist()
    ([1, 2], [2, 1])
    """
    return _sorted_unique_rows(pack_words(binary))


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
