"""The inputs of a capture: a tensor, an array or an iterable of batches, with what is known up front.

:class:`InputSource` gives the first rows before any batch is consumed (for the probe forward pass
that sizes every layer), the number of inputs when it can be known without reading them, and the
batches themselves.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import numpy as np
import torch

from neurocomplex.errors import InsufficientDataError, InvalidDataError, UnsupportedSourceError

__all__ = ["InputSource"]


def _batch_tensor(batch: Any, i: int) -> Any:
    if isinstance(batch, (tuple, list)):  # (inputs, targets, ...) as DataLoaders yield
        if not batch:
            raise InvalidDataError(f"batch {i} of inputs is empty.")
        batch = batch[0]
    if not isinstance(batch, (torch.Tensor, np.ndarray)):
        raise UnsupportedSourceError(
            f"batch {i} of inputs is a {type(batch).__name__}; each batch (or its first element) "
            "must be a torch.Tensor or numpy array."
        )
    return batch


def _loader_length(inputs: Any) -> int | None:
    """Inputs a torch DataLoader will yield, from its sampler (None when it cannot tell)."""
    sampler, size = getattr(inputs, "sampler", None), getattr(inputs, "batch_size", None)
    if sampler is None or not isinstance(size, int):
        return None
    try:
        n = len(sampler)
    except TypeError:
        return None
    return (n // size) * size if getattr(inputs, "drop_last", False) else n


class InputSource:
    """Batches of ``inputs`` and what is known of them before the first is consumed.

    Examples
    --------
    >>> src = InputSource(np.zeros((10, 3)))
    >>> src.n_inputs, src.head(2).shape
    (10, (2, 3))
    >>> batches, n = src.batches(4)
    >>> n, [b.shape[0] for b in batches]
    (3, [4, 4, 2])
    """

    def __init__(self, inputs: Any) -> None:
        self._array: Any = None
        self._first: Any = None
        self._iterator: Iterator[Any] | None = None
        self.n_inputs: int | None = None
        self._n_batches: int | None = None
        if isinstance(inputs, (torch.Tensor, np.ndarray)):
            if inputs.ndim == 0:
                raise InvalidDataError("inputs is a scalar; give a batch with the samples along the first axis.")
            self.n_inputs = int(inputs.shape[0])
            if self.n_inputs == 0:
                raise InsufficientDataError("inputs holds no samples (first axis has length 0).")
            self._array = inputs
            return
        if isinstance(inputs, (str, bytes, Mapping)) or not isinstance(inputs, Iterable):
            raise UnsupportedSourceError(
                f"inputs must be a torch.Tensor, a numpy array, or a DataLoader / iterable of batches; got "
                f"{type(inputs).__name__}."
            )
        try:
            self._n_batches = len(inputs)  # type: ignore[arg-type]
        except TypeError:
            self._n_batches = None
        if isinstance(inputs, (list, tuple)):
            self.n_inputs = sum(int(_batch_tensor(b, i).shape[0]) if _batch_tensor(b, i).ndim else 0
                                for i, b in enumerate(inputs))
        else:
            self.n_inputs = _loader_length(inputs)
        self._iterator = iter(inputs)

    def head(self, k: int) -> Any:
        """The first ``k`` inputs (or fewer), without consuming any batch. None when there are none."""
        if self._array is not None:
            return self._array[:k]
        if self._first is None:
            try:
                self._first = _batch_tensor(next(self._iterator), 0)  # type: ignore[arg-type]
            except StopIteration:
                return None
            if self.n_inputs is None and self._n_batches is not None and self._first.ndim:
                # a sized iterable without a sampler: its batches are taken as the first one's size
                self.n_inputs = self._n_batches * int(self._first.shape[0])
        if self._first.ndim == 0:
            return self._first
        return self._first[:k]

    @property
    def fixed_batch(self) -> int | None:
        """The first batch's size for iterables (their batches are their own); None for arrays."""
        if self._first is None or not self._first.ndim:
            return None
        return int(self._first.shape[0])

    def batches(self, batch_size: int) -> tuple[Iterator[Any], int | None]:
        """The batches (``batch_size`` inputs each for tensors and arrays) and how many, if known."""
        if self._array is not None:
            n = self.n_inputs or 0
            array = self._array
            return (array[s : s + batch_size] for s in range(0, n, batch_size)), math.ceil(n / batch_size)
        rest = (_batch_tensor(b, i) for i, b in enumerate(self._iterator, start=1 if self._first is not None else 0))
        head = [] if self._first is None else [self._first]
        return itertools.chain(head, rest), self._n_batches
