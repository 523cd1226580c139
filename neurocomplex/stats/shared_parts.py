"""One recording's part of a pair statistic, kept for its other pairs within one multi-pair call.

``nc.similarity_matrix`` compares every area with every layer; a pair estimator whose work splits
into a part of each recording alone (RSA: the RDM and its sort order, and the split-half
reliability; CKA through the sample Gram matrices: a population's Gram matrix and its block sums;
the shape distance: the centred, narrowed data) asks :func:`shared_part` for it, and within
:func:`shared_parts` a recording's part is computed once for all its pairs instead of once per
pair. Outside that block nothing is kept.

An entry is keyed by the object its part was computed from (held by the entry, so its identity
cannot pass to another object meanwhile) and by everything else that shapes the part (the
question), so it serves only the exact question it stored. Entries are dropped least recently
used first beyond a budget of bytes: a matrix whose parts do not fit is computed as before.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

import numpy as np

from neurocomplex._memory import available_memory

__all__ = ["shared_parts", "shared_part", "nbytes_of", "DEFAULT_BUDGET"]

T = TypeVar("T")

# At most 1 GiB (or an eighth of the usable memory) of parts held at once.
DEFAULT_BUDGET = 2**30


class _Store:
    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.entries: OrderedDict[tuple[int, Hashable], tuple[object, Any, int]] = OrderedDict()
        self.held = 0
        self.hits = 0
        self.misses = 0


_STORE: ContextVar[_Store | None] = ContextVar("neurocomplex_shared_parts", default=None)


@contextmanager
def shared_parts(budget_bytes: int | None = None) -> Iterator[_Store]:
    """Keep the parts :func:`shared_part` computes within this block (at most ``budget_bytes``,
    default the smaller of 1 GiB and an eighth of the usable memory); yields the store, whose
    ``hits`` and ``misses`` count the requests."""
    budget = min(DEFAULT_BUDGET, available_memory() // 8) if budget_bytes is None else int(budget_bytes)
    token = _STORE.set(_Store(budget))
    try:
        yield _STORE.get()
    finally:
        _STORE.reset(token)


def shared_part(anchor: object, key: Hashable, make: Callable[[], T], size: Callable[[T], int]) -> T:
    """``make()``, or the part stored for ``anchor`` and ``key`` within :func:`shared_parts`.

    ``size(part)`` gives the bytes a new part holds; a part larger than the whole budget is not
    stored.
    """
    store = _STORE.get()
    if store is None:
        return make()
    ident = (id(anchor), key)
    held = store.entries.get(ident)
    if held is not None and held[0] is anchor:
        store.entries.move_to_end(ident)
        store.hits += 1
        return held[1]
    store.misses += 1
    part = make()
    nbytes = int(size(part))
    if nbytes > store.budget:
        return part
    while store.entries and store.held + nbytes > store.budget:
        store.held -= store.entries.popitem(last=False)[1][2]
    store.entries[ident] = (anchor, part, nbytes)
    store.held += nbytes
    return part


def nbytes_of(arrays: Iterable[np.ndarray]) -> int:
    """Bytes of the distinct arrays among ``arrays`` (an array listed twice counts once)."""
    seen: dict[int, int] = {}
    for a in arrays:
        seen[id(a)] = a.nbytes
    return sum(seen.values())
