"""Torch-side streaming statistics that hand over to the mergeable ones in :mod:`neurocomplex.stats`.

Each accumulator updates on the compute device (GPU included) batch by batch and converts, at the
end, into its torch-free counterpart (:class:`~neurocomplex.stats.CovarianceAccumulator`,
:class:`~neurocomplex.stats.ActivityAccumulator`, :class:`~neurocomplex.stats.WordCounts`), which
can then be merged with the statistics of other chunks, workers or files.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import NamedTuple

import numpy as np
import torch

from neurocomplex.stats import ActivityAccumulator, CovarianceAccumulator, WordCounts, pack_words
from neurocomplex.stats.gram import CentredGram, double_centre

__all__ = ["TorchCovariance", "TorchActivity", "TorchWords", "pack_words_torch", "count_words_torch",
           "count_window_words_torch", "WindowWordCounts", "full_float32", "centred_gram_torch"]

# Flush buffered words into the sorted counts once this many rows are waiting (or more than
# are already counted), so the cost of merging stays amortised O(n log n).
_WORD_FLUSH_ROWS = 1 << 13
_BYTE_WEIGHTS_CACHE: dict[torch.device, torch.Tensor] = {}


@contextmanager
def full_float32() -> Iterator[None]:
    """float32 matmuls in full float32 within the block (TF32 off, whatever the user set): the
    statistics must agree with the host's float32 products, and the rounding bounds of the
    neighbour search assume float32 rounding. The previous setting is restored on exit.

    Examples
    --------
    >>> torch.set_float32_matmul_precision("high")
    >>> with full_float32():
    ...     torch.get_float32_matmul_precision()
    'highest'
    >>> torch.get_float32_matmul_precision()
    'high'
    >>> torch.set_float32_matmul_precision("highest")
    """
    precision = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision("highest")
    try:
        yield
    finally:
        torch.set_float32_matmul_precision(precision)


class TorchCovariance:
    """Count, mean and centred scatter of ``n_units`` columns, kept on ``device`` in float64.

    Each batch is centred on its own mean (rounded to its dtype; the rounding's residual is then
    taken out of the product exactly) and its scatter computed with one float32 GEMM on the
    device, then combined in float64 with the pairwise update of Chan, Golub & LeVeque (1979),
    exactly as :class:`~neurocomplex.stats.CovarianceAccumulator` does on the host.

    Examples
    --------
    >>> x = torch.randn(300, 4, generator=torch.Generator().manual_seed(0))
    >>> acc = TorchCovariance(4, torch.device("cpu"))
    >>> acc.update(x[:100]); acc.update(x[100:])
    >>> bool(np.allclose(acc.to_stats().covariance(), np.cov(x.numpy().T), atol=1e-6))
    True
    """

    def __init__(self, n_units: int, device: torch.device) -> None:
        self.n_units = int(n_units)
        self.n_samples = 0
        self.mean = torch.zeros(self.n_units, dtype=torch.float64, device=device)
        self.scatter = torch.zeros(self.n_units, self.n_units, dtype=torch.float64, device=device)

    def update(self, x: torch.Tensor) -> None:
        """Add the rows of a float32 ``(n_rows, n_units)`` tensor."""
        if x.shape[0] == 0:
            return
        mean_b = x.mean(dim=0, dtype=torch.float64)
        centred = x - mean_b.to(x.dtype)
        with full_float32():
            scatter_b = (centred.T @ centred).to(torch.float64)
        # the product is about the rounded mean (for float32 far from 0, as far from the mean as
        # the spread itself): moved to the mean exactly
        residual = centred.sum(dim=0, dtype=torch.float64) / x.shape[0]
        scatter_b.addr_(residual, residual, alpha=-float(x.shape[0]))
        self.combine(int(x.shape[0]), mean_b, scatter_b)

    def combine(self, n_b: int, mean_b: torch.Tensor, scatter_b: torch.Tensor) -> None:
        """Add a block given by its count, float64 mean and centred scatter (Chan et al. 1979)."""
        if n_b == 0:
            return
        n_a = self.n_samples
        n = n_a + n_b
        delta = mean_b - self.mean
        self.scatter.add_(scatter_b)
        if n_a:
            self.scatter.addr_(delta, delta, alpha=n_a * n_b / n)  # in place: no n_units^2 temporary
        self.mean.add_(delta, alpha=n_b / n)
        self.n_samples = n

    def to_stats(self) -> CovarianceAccumulator:
        """The host-side, mergeable accumulator (float64 numpy arrays)."""
        return CovarianceAccumulator.from_dict({
            "n_units": self.n_units,
            "n_samples": self.n_samples,
            "mean": self.mean.cpu().numpy(),
            "scatter": self.scatter.cpu().numpy(),
        })


class TorchActivity:
    """Per-unit active counts (``x > threshold``), mean and centred sum of squares on ``device``.

    Examples
    --------
    >>> acc = TorchActivity(2, 0.0, torch.device("cpu"))
    >>> acc.update(torch.tensor([[0.0, 1.0], [2.0, 3.0], [0.0, 0.5]]))
    >>> acc.to_stats().activation_ratio()
    0.6666666666666666
    """

    def __init__(self, n_units: int, threshold: float, device: torch.device) -> None:
        self.n_units = int(n_units)
        self.threshold = float(threshold)
        self.n_samples = 0
        self.active = torch.zeros(self.n_units, dtype=torch.int64, device=device)
        self.mean = torch.zeros(self.n_units, dtype=torch.float64, device=device)
        self.m2 = torch.zeros(self.n_units, dtype=torch.float64, device=device)

    def update(self, x: torch.Tensor, binary: torch.Tensor | None = None) -> None:
        """Add the rows of ``x``; ``binary`` (``x > threshold``) may be passed when already computed."""
        if x.shape[0] == 0:
            return
        b = x > self.threshold if binary is None else binary
        mean_b = x.mean(dim=0, dtype=torch.float64)
        centred = x.to(torch.float64) - mean_b  # float64: the rounded mean would be off by up to the spread
        self.combine(int(x.shape[0]), b.sum(dim=0), mean_b, (centred * centred).sum(dim=0))

    def combine(self, n_b: int, active_b: torch.Tensor, mean_b: torch.Tensor, m2_b: torch.Tensor) -> None:
        """Add a block given by its count, active counts, float64 mean and centred sum of squares."""
        if n_b == 0:
            return
        n_a = self.n_samples
        n = n_a + n_b
        delta = mean_b - self.mean
        self.m2 += m2_b + delta**2 * (n_a * n_b / n)
        self.mean += delta * (n_b / n)
        self.active += active_b
        self.n_samples = n

    def to_stats(self) -> ActivityAccumulator:
        """The host-side, mergeable accumulator."""
        return ActivityAccumulator.from_dict({
            "n_units": self.n_units, "threshold": self.threshold, "n_samples": self.n_samples,
            "active": self.active.cpu().numpy(), "mean": self.mean.cpu().numpy(), "m2": self.m2.cpu().numpy(),
        })


def _byte_weights(device: torch.device) -> torch.Tensor:
    if device not in _BYTE_WEIGHTS_CACHE:
        _BYTE_WEIGHTS_CACHE[device] = torch.tensor([1, 2, 4, 8, 16, 32, 64, 128], dtype=torch.uint8, device=device)
    return _BYTE_WEIGHTS_CACHE[device]


def pack_words_torch(binary: torch.Tensor) -> np.ndarray:
    """Pack the rows of a boolean ``(n_rows, n_units)`` tensor into uint64 words on its device.

    The layout is that of :func:`neurocomplex.stats.pack_words` (bit ``j`` of integer ``k`` is
    unit ``64*k + j``). On an accelerator, bits are summed into bytes on the device, so only
    ``n_rows * ceil(n_units / 64) * 8`` bytes travel to the host; CPU tensors go to
    :func:`~neurocomplex.stats.pack_words` directly.

    Examples
    --------
    >>> pack_words_torch(torch.tensor([[True, False, True], [False, True, False]]))[:, 0]
    array([5, 2], dtype=uint64)
    """
    if binary.device.type == "cpu":  # nothing to transfer: numpy's packbits is the fastest route
        return pack_words(binary.numpy())
    return _pack_on_device(binary)


def _pack_on_device(binary: torch.Tensor) -> np.ndarray:
    """Sum the bits into bytes where the tensor lives, then view the bytes as little-endian uint64."""
    n_rows, n_units = binary.shape
    n_int = max(1, -(-n_units // 64))
    bits = binary.to(torch.uint8)
    pad = n_int * 64 - n_units
    if pad:
        bits = torch.nn.functional.pad(bits, (0, pad))
    as_bytes = (bits.view(n_rows, n_int * 8, 8) * _byte_weights(bits.device)).sum(dim=-1, dtype=torch.uint8)
    host = as_bytes.cpu().numpy()
    return np.ascontiguousarray(host).view("<u8").astype(np.uint64, copy=False).reshape(n_rows, n_int)


class TorchWords:
    """Counts of binary words ``x > threshold``: packed on the device, counted on the host.

    Examples
    --------
    >>> acc = TorchWords(2, 0.0)
    >>> acc.update(torch.tensor([[1.0, 0.0], [0.5, -1.0], [0.0, 2.0]]))
    >>> acc.to_stats().counts.tolist()
    [2, 1]
    """

    def __init__(self, n_units: int, threshold: float) -> None:
        self.n_units = int(n_units)
        self.threshold = float(threshold)
        self._counts = WordCounts(self.n_units)
        self._pending: list[np.ndarray] = []
        self._n_pending = 0

    def update(self, x: torch.Tensor, binary: torch.Tensor | None = None) -> None:
        """Add the words of ``x`` (rows); ``binary`` may be passed when already computed."""
        b = x > self.threshold if binary is None else binary
        packed = pack_words_torch(b)
        self._pending.append(packed)
        self._n_pending += packed.shape[0]
        if self._n_pending >= max(_WORD_FLUSH_ROWS, self._counts.counts.size):
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            self._counts.update_packed(np.concatenate(self._pending))
            self._pending, self._n_pending = [], 0

    def to_stats(self) -> WordCounts:
        """The host-side, mergeable word counts."""
        self._flush()
        return self._counts


# Rows thresholded and packed at a time by count_words_torch (bounds the int64 bit matrix to 32 MB).
_COUNT_CHUNK = 1 << 16


def count_words_torch(x: object, threshold: float, device: object,
                      return_inverse: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Distinct binary words of ``x > threshold`` and their counts, packed and counted on ``device``.

    Rows are thresholded and packed into int64 codes (64 units per code, bit ``j`` of code ``k`` is
    unit ``64*k + j``, as :func:`neurocomplex.stats.pack_words`) and counted with ``torch.unique``
    on the device; only the distinct words, their counts (and, when asked, each row's word index)
    come back to the host.

    Parameters
    ----------
    x : array_like or torch.Tensor
        ``(n_rows, n_units)`` activity; moved to ``device`` chunk by chunk.
    threshold : float
        A unit is active where ``x > threshold``.
    device : str or torch.device
        Where to pack and count (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ...).
    return_inverse : bool
        Also return the index of each row's distinct word.

    Returns
    -------
    words : numpy.ndarray
        uint64, ``(n_distinct, ceil(n_units / 64))``, sorted as unsigned integers with the first
        code most significant (the order of the numpy path of the entropy estimators).
    counts : numpy.ndarray
        int64 count of each word.
    inverse : numpy.ndarray or None
        Distinct-word index of each row (with ``return_inverse``).

    Raises
    ------
    InvalidParameterError
        A device torch does not know or cannot reach.

    Examples
    --------
    >>> words, counts, _ = count_words_torch(np.array([[1, 0], [1, 0], [0, 1]]), 0.0, "cpu")
    >>> words[:, 0].tolist(), counts.tolist()
    ([1, 2], [2, 1])
    """
    dev = resolve_device(device)
    words, counts, inverse = _count_codes(_pack_rows(x, threshold, dev), return_inverse)
    return words, counts, None if inverse is None else inverse.cpu().numpy()


def _pack_rows(x: object, threshold: float, dev: torch.device) -> torch.Tensor:
    """Rows of ``x > threshold`` packed into int64 codes on ``dev``, ``(n_rows, ceil(n_units / 64))``.

    ``x`` travels to the device ``_COUNT_CHUNK`` rows at a time; bit ``j`` of code ``k`` is unit
    ``64*k + j`` (the layout of :func:`neurocomplex.stats.pack_words`, read as signed integers).
    """
    xt = x if isinstance(x, torch.Tensor) else np.asarray(x)
    n_rows, n_units = int(xt.shape[0]), int(xt.shape[1])
    n_int = max(1, -(-n_units // 64))
    # 1 << 63 wraps to the int64 minimum: a sum of distinct powers of two is still the bit pattern.
    weights = torch.bitwise_left_shift(torch.ones(64, dtype=torch.int64, device=dev),
                                       torch.arange(64, dtype=torch.int64, device=dev))
    codes = torch.empty((n_rows, n_int), dtype=torch.int64, device=dev)
    for start in range(0, n_rows, _COUNT_CHUNK):
        chunk = xt[start : start + _COUNT_CHUNK]
        if not isinstance(chunk, torch.Tensor):  # a host copy of the chunk (arrays may be read-only)
            chunk = torch.from_numpy(np.array(chunk))
        bits = (chunk.to(dev) > threshold).to(torch.int64)
        if n_int * 64 > n_units:
            bits = torch.nn.functional.pad(bits, (0, n_int * 64 - n_units))
        codes[start : start + _COUNT_CHUNK] = (bits.view(-1, n_int, 64) * weights).sum(dim=-1)
    return codes


def _count_codes(codes: torch.Tensor,
                 return_inverse: bool) -> tuple[np.ndarray, np.ndarray, torch.Tensor | None]:
    """Distinct rows of an int64 code matrix on its device, in the host's unsigned order.

    Returns the distinct words (uint64, sorted as unsigned integers, first code most significant),
    their int64 counts and, with ``return_inverse``, each row's distinct-word index as an int64
    tensor on the device.
    """
    n_int = codes.shape[1]
    if n_int == 1:
        uniq, inv, cnt = torch.unique(codes[:, 0], sorted=True, return_inverse=True, return_counts=True)
        uniq = uniq[:, None]
    else:
        uniq, inv, cnt = torch.unique(codes, dim=0, sorted=True, return_inverse=True, return_counts=True)
    words = np.ascontiguousarray(uniq.cpu().numpy()).view(np.uint64)
    # Signed order on the device; the host order is unsigned, first code most significant.
    order = np.argsort(words[:, 0], kind="stable") if n_int == 1 else np.lexsort(words.T[::-1])
    counts = cnt.cpu().numpy().astype(np.int64)[order]
    inverse = None
    if return_inverse:
        rank = np.empty(order.size, dtype=np.int64)
        rank[order] = np.arange(order.size)
        inverse = torch.from_numpy(rank).to(codes.device)[inv]
    return words[order], counts, inverse



class WindowWordCounts(NamedTuple):
    """Distinct time words of each length, and what the bootstrap intervals need (see
    :func:`count_window_words_torch`)."""

    words: list[np.ndarray]
    counts: list[np.ndarray]
    blocks: tuple[np.ndarray, np.ndarray, np.ndarray] | None
    prefixes: list[np.ndarray] | None


def _window_codes(rows: torch.Tensor, n_units: int, length: int) -> torch.Tensor:
    """Codes of the windows of ``length`` consecutive packed rows: bit ``lag * n_units + u`` is unit
    ``u`` at ``lag``, bit ``j`` of code ``k`` is word bit ``64*k + j`` (as :func:`pack_words` of the
    flattened window).

    Each row code is shifted to its place in the window's codes, a shift per (lag, row code, word
    code) it overlaps, so no window is ever unpacked into bits.
    """
    n_windows = rows.shape[0] - length + 1
    n_int = -(-length * n_units // 64)
    out = torch.zeros((n_int, n_windows), dtype=torch.int64, device=rows.device)
    for lag in range(length):
        for j in range(rows.shape[1]):
            src = rows[lag : lag + n_windows, j]
            offset = lag * n_units + 64 * j  # word bit of this row code's bit 0
            width = min(64, n_units - 64 * j)
            for k in range(offset // 64, (offset + width - 1) // 64 + 1):
                shift = offset - 64 * k
                if shift >= 0:  # bits shifted past bit 63 belong to code k + 1
                    out[k] |= src << shift if shift else src
                else:  # the high bits of the row code; mask so that a sign bit does not spread
                    out[k] |= (src >> -shift) & ((1 << (64 + shift)) - 1)
    return out.T


def count_window_words_torch(x: object, threshold: float, device: object, lengths: Sequence[int],
                             block_size: int | None = None, prefixes: bool = False) -> WindowWordCounts:
    """Distinct words of ``L`` consecutive rows of ``x > threshold`` (for each ``L`` in ``lengths``),
    packed and counted on ``device``.

    Rows travel to the device a chunk at a time and are packed there into int64 codes; the codes of
    every window (rows ``t, ..., t + L - 1``, windows overlapping across chunks included) are built
    from the packed rows by shifts and counted with ``torch.unique``. Only the distinct words, their
    counts and, when asked, the block table and prefix maps below come back to the host.

    Parameters
    ----------
    x : array_like or torch.Tensor
        ``(n_rows, n_units)`` activity, ``n_rows >= max(lengths)``.
    threshold : float
        A unit is active where ``x > threshold``.
    device : str or torch.device
        Where to pack and count.
    lengths : sequence of int
        Word lengths (rows per window), each >= 1.
    block_size : int, optional
        Also count the longest words per block of ``block_size`` consecutive window starts.
    prefixes : bool
        Also map each distinct longest word to the distinct word of every length that it starts with.

    Returns
    -------
    WindowWordCounts
        ``words[i]`` (uint64, ``(n_distinct, ceil(L * n_units / 64))``, bit ``lag * n_units + u`` is
        unit ``u`` at ``lag``, sorted as unsigned integers with the first code most significant) and
        ``counts[i]`` (int64) for ``lengths[i]``; ``blocks``: ``(block, word, count)`` of every
        (block, longest word) pair seen, sorted by block then word (None without ``block_size``);
        ``prefixes[i]``: for each distinct longest word, the index of its first ``lengths[i]`` rows
        among the words of that length (None unless ``prefixes``).

    Raises
    ------
    InvalidParameterError
        A device torch does not know or cannot reach; a length below 1 or above ``n_rows``.

    Examples
    --------
    >>> res = count_window_words_torch(np.array([[1], [0], [1], [0], [1]]), 0.0, "cpu", [1, 3])
    >>> [w[:, 0].tolist() for w in res.words], [c.tolist() for c in res.counts]
    ([[0, 1], [2, 5]], [[2, 3], [1, 2]])
    """
    from neurocomplex.errors import InvalidParameterError

    dev = resolve_device(device)
    xt = x if isinstance(x, torch.Tensor) else np.asarray(x)
    n_rows, n_units = int(xt.shape[0]), int(xt.shape[1])
    distinct = sorted({int(length) for length in lengths}, reverse=True)  # the longest first
    if not distinct or distinct[-1] < 1 or distinct[0] > n_rows:
        raise InvalidParameterError(f"word lengths must lie in [1, {n_rows}] (the rows), got {list(lengths)}.")
    rows = _pack_rows(xt, threshold, dev)
    found: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray | None]] = {}
    blocks, first = None, None
    for length in distinct:
        need_inverse = prefixes or (length == distinct[0] and block_size is not None)
        words, counts, inv = _count_codes(_window_codes(rows, n_units, length), need_inverse)
        if length == distinct[0]:
            starts = torch.arange(inv.shape[0], device=dev) if need_inverse else None
            if block_size is not None:
                key = torch.div(starts, int(block_size), rounding_mode="floor") * counts.size + inv
                pairs, pair_counts = torch.unique(key, sorted=True, return_counts=True)
                pairs = pairs.cpu().numpy()
                blocks = (pairs // counts.size, pairs % counts.size, pair_counts.cpu().numpy().astype(np.int64))
            if prefixes:  # the first start of each distinct longest word
                first = torch.full((counts.size,), inv.shape[0], dtype=torch.int64, device=dev)
                first.scatter_reduce_(0, inv, starts, reduce="amin")
        found[length] = (words, counts, inv[first].cpu().numpy() if prefixes else None)
        del inv
    chosen = [found[int(length)] for length in lengths]
    return WindowWordCounts([c[0] for c in chosen], [c[1] for c in chosen], blocks,
                            [c[2] for c in chosen] if prefixes else None)



def resolve_device(device: object) -> torch.device:
    """``torch.device(device)``, checked to be reachable; InvalidParameterError otherwise.

    Examples
    --------
    >>> resolve_device("cpu")
    device(type='cpu')
    """
    from neurocomplex.errors import InvalidParameterError

    try:
        dev = torch.device(device)
        torch.empty(0, device=dev)
    except (RuntimeError, TypeError, AssertionError) as err:
        raise InvalidParameterError(f"device={device!r} is not a usable torch device here ({err}); "
                                    "pass 'cpu', an available 'cuda:<i>', or None for numpy.") from err
    return dev


def block_covariances_torch(x: object, device: object, block_size: int | None,
                            chunk_rows: int) -> dict[str, object]:
    """Count, mean and centred scatter of consecutive blocks of rows, accumulated on ``device``.

    Each chunk of at most ``chunk_rows`` rows is moved to the device and folded into its block's
    :class:`TorchCovariance` (float32 data stay float32 in the GEMM, statistics in float64).
    ``x`` may be a tuple of arrays with the same rows: their columns are joined chunk by chunk on
    the device (the joint covariance, e.g. of two repeats), never on the host.

    Returns
    -------
    dict
        ``counts`` (numpy float64, per block), ``means`` (``(B, d)``) and ``scatters``
        (``(B, d, d)``) as float64 tensors on the device, ``total`` (the merged scatter, a tensor)
        and ``mean`` (numpy). ``block_size=None`` gives one block.

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(size=(100, 3))
    >>> st = block_covariances_torch(x, "cpu", 30, 16)
    >>> st["counts"].tolist(), bool(np.allclose(st["total"].numpy() / 99, np.cov(x, rowvar=False)))
    ([30.0, 30.0, 30.0, 10.0], True)
    """
    dev = resolve_device(device)
    arrays = [a if isinstance(a, torch.Tensor) else np.asarray(a) for a in (x if isinstance(x, tuple) else (x,))]
    n, d = int(arrays[0].shape[0]), sum(int(a.shape[1]) for a in arrays)
    size = n if block_size is None else int(block_size)
    float32 = all(a.dtype == (torch.float32 if isinstance(a, torch.Tensor) else np.float32) for a in arrays)
    work = torch.float32 if float32 else torch.float64

    def to_device(a: object, i: int, j: int) -> torch.Tensor:
        chunk = a[i:j]
        if not isinstance(chunk, torch.Tensor):  # a host copy (arrays may be read-only)
            chunk = torch.from_numpy(np.array(chunk))
        return chunk.to(device=dev, dtype=work)

    blocks = []
    for start in range(0, n, size):
        acc = TorchCovariance(d, dev)
        for i in range(start, min(start + size, n), chunk_rows):
            j = min(i + chunk_rows, start + size, n)
            parts = [to_device(a, i, j) for a in arrays]
            acc.update(parts[0] if len(parts) == 1 else torch.cat(parts, dim=1))
        blocks.append(acc)
    counts = np.array([b.n_samples for b in blocks], dtype=np.float64)
    means = torch.stack([b.mean for b in blocks])
    scatters = torch.stack([b.scatter for b in blocks])
    w = torch.as_tensor(counts, dtype=torch.float64, device=dev)
    mean = (w @ means) / n
    spread = (means - mean) * w.sqrt()[:, None]
    total = scatters.sum(dim=0) + spread.T @ spread  # Chan et al.: within plus between blocks
    return {"counts": counts, "means": means, "scatters": scatters, "total": (total + total.T) * 0.5,
            "mean": mean.cpu().numpy()}


def eigvalsh_torch(matrices: torch.Tensor) -> np.ndarray:
    """Eigenvalues of symmetric float64 matrices (one, or a batch) on their device, descending, as numpy."""
    sym = (matrices + matrices.transpose(-1, -2)) * 0.5
    return torch.linalg.eigvalsh(sym).flip(-1).cpu().numpy()


def spectra_torch(covs: torch.Tensor, n_units: int, cross: bool) -> np.ndarray:
    """Spectra of a batch of covariance matrices on their device, descending rank order, as numpy.

    ``cross=False``: the eigenvalues of the first ``n_units`` × ``n_units`` block. ``cross=True``
    (matrices of two repeats, ``2 n_units`` square): ``u_nᵀ C₁₂ u_n`` with ``u_n`` the eigenvectors
    of ``C₁₁`` (cross-validated PCA), as :func:`neurocomplex.spectrum_exponent` computes on the host.
    """
    c11 = covs[..., :n_units, :n_units]
    if not cross:
        return eigvalsh_torch(c11)
    _, vecs = torch.linalg.eigh((c11 + c11.transpose(-1, -2)) * 0.5)
    vecs = vecs.flip(-1)
    shared = covs[..., :n_units, n_units:] @ vecs
    return (vecs * shared).sum(dim=-2).cpu().numpy()


# Bootstrap replicates merged and eigendecomposed at a time (bounds device memory to ~64 MiB of matrices).
_REPLICATE_BYTES = 64 * 1024**2


def replicate_covariances_torch(stats: dict[str, object], draws: np.ndarray) -> object:
    """Yield the covariance matrices of block-bootstrap replicates, a batch at a time, on the device.

    ``draws[i, b]`` is how many times replicate ``i`` takes block ``b``; each replicate's scatter is
    merged exactly (within-block scatters plus the between-block term about its own mean).
    """
    means, scatters = stats["means"], stats["scatters"]
    dev = scatters.device
    d = scatters.shape[-1]
    counts = torch.as_tensor(stats["counts"], dtype=torch.float64, device=dev)
    group = max(1, _REPLICATE_BYTES // (d * d * 8))
    for start in range(0, draws.shape[0], group):
        w = torch.as_tensor(draws[start : start + group], dtype=torch.float64, device=dev)
        u = w * counts
        n_rep = u.sum(dim=1)
        scatter = torch.einsum("gb,bij->gij", w, scatters)
        mean = (u @ means) / n_rep[:, None]
        dev_ = (means[None, :, :] - mean[:, None, :]) * u.sqrt()[:, :, None]
        scatter += dev_.transpose(1, 2) @ dev_
        yield scatter / (n_rep - 1.0).clamp(min=1.0)[:, None, None]


# Values (rows × columns) moved to the device and multiplied at a time by centred_gram_torch.
_GRAM_CHUNK_VALUES = 1 << 22


def centred_gram_torch(x: object, device: object, y: object = None, scale: np.ndarray | None = None,
                       variances: bool = False, chunk_values: int = _GRAM_CHUNK_VALUES) -> CentredGram:
    """:func:`neurocomplex.stats.gram.centred_gram` with the products on ``device``.

    Column chunks travel to the device, are centred there on their float64 means in the data's
    precision (float32 stays float32, TF32 off) and multiplied; the products, with the same
    rank-2 correction of the rounded means, are summed in float64 on the device. Only the ``n × n``
    results and the column statistics come back.

    Examples
    --------
    >>> from neurocomplex.stats.gram import centred_gram
    >>> x = np.random.default_rng(0).normal(size=(6, 50))
    >>> bool(np.allclose(centred_gram_torch(x, "cpu", chunk_values=100).gram, centred_gram(x).gram))
    True
    """
    dev = resolve_device(device)
    arrays = [a if isinstance(a, torch.Tensor) else np.asarray(a) for a in ((x,) if y is None else (x, y))]
    n, d = int(arrays[0].shape[0]), int(arrays[0].shape[1])
    float32 = all(a.dtype == (torch.float32 if isinstance(a, torch.Tensor) else np.float32) for a in arrays)
    work = torch.float32 if float32 else torch.float64
    width = max(1, int(chunk_values) // max(n, 1))
    gram = torch.zeros((n, n), dtype=torch.float64, device=dev)
    cross = None if y is None else torch.zeros((n, n), dtype=torch.float64, device=dev)
    mean, variance = np.empty(d), np.empty(d)
    factors = None if scale is None else torch.as_tensor(np.asarray(scale, dtype=np.float64), device=dev)

    def chunk(a: object, i: int, j: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        piece = a[:, i:j]
        if not isinstance(piece, torch.Tensor):  # a host copy (arrays may be read-only)
            piece = torch.from_numpy(np.array(piece))
        piece = piece.to(device=dev)
        m = piece.sum(dim=0, dtype=torch.float64) / n
        centred = piece.to(work) - m.to(work)
        return centred, m, centred.sum(dim=0, dtype=torch.float64) / n

    def product(a: torch.Tensor, b: torch.Tensor, da: torch.Tensor, db: torch.Tensor) -> torch.Tensor:
        with full_float32():
            prod = (a @ b.T).to(torch.float64)
        prod -= (a.to(torch.float64) @ db)[:, None]
        prod -= (b.to(torch.float64) @ da)[None, :]
        return prod + da @ db

    for start in range(0, d, width):
        stop = min(start + width, d)
        a, m, delta = chunk(arrays[0], start, stop)
        mean[start:stop] = m.cpu().numpy()
        var = ((a.to(torch.float64) ** 2).sum(dim=0) - n * delta**2) / max(n - 1, 1)
        variance[start:stop] = var.cpu().numpy()
        if factors is not None:
            f = factors[start:stop]
            a = a * f.to(work)
            delta = delta * f
        gram += product(a, a, delta, delta)
        if cross is not None:
            b, _, delta_b = chunk(arrays[1], start, stop)
            cross += product(a, b, delta, delta_b)
    c = None
    if cross is not None:
        c = cross.cpu().numpy()
        c = c - c.mean(axis=0)[None, :] - c.mean(axis=1)[:, None] + c.mean()
    return CentredGram(double_centre(gram.cpu().numpy()), c, mean, np.maximum(variance, 0.0) if variances else None)
