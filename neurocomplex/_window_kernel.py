"""Spikes below each window edge, compiled (numba): the trial responses' counts from spike times.

:func:`edge_positions` is ``np.searchsorted(t, u, side="left")`` for a unit's sorted spike times
``t`` and the sorted window edges ``u``, by one merge of the two instead of a binary search per
edge: linear in the spikes within the span of the windows plus the edges, a few nanoseconds
each (a mispredicted branch at each edge), with no temporary arrays. Comparisons are exact float64 ``<``, as the search's.

Compiled on first use and cached on disk (numba's cache, written atomically); imported only when
trial responses are counted from spike times, so ``import neurocomplex`` does not load numba.
"""

from __future__ import annotations

import numpy as np
from numba import njit, types

__all__ = ["edge_positions", "read_only"]

# One signature, compiled once (each more costs time to load from the cache): read-only spike times
# (a Recording's trains are read-only; callers pass others as a read-only view), writeable
# C-contiguous edges and positions.
_SIGNATURE = types.void(types.Array(types.float64, 1, "C", readonly=True), types.Array(types.float64, 1, "C"),
                        types.Array(types.int64, 1, "C"))


@njit(_SIGNATURE, cache=True, nogil=True)
def edge_positions(t: np.ndarray, u: np.ndarray, out: np.ndarray) -> None:  # pragma: no cover - compiled
    """``out[k] = #{i : t[i] < u[k]}`` for ``t`` (read-only) and ``u`` sorted ascending (``u`` not
    empty)."""
    m = t.size
    lo, hi = 0, m  # the first spike at or after u[0] by bisection: spikes before the windows are skipped
    first = u[0]
    while lo < hi:
        mid = (lo + hi) >> 1
        if t[mid] < first:
            lo = mid + 1
        else:
            hi = mid
    i = lo
    for k in range(u.size):
        edge = u[k]
        while i < m and t[i] < edge:
            i += 1
        out[k] = i


def read_only(a: np.ndarray) -> np.ndarray:
    """``a`` as a read-only C-contiguous float64 array (a view where it already is one: no copy)."""
    view = np.ascontiguousarray(a, dtype=np.float64).view()
    view.flags.writeable = False
    return view
