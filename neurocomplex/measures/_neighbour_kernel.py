"""The nearest candidates of every point from a tile of float32 distances, compiled (numba).

:func:`fold_tile` reads a tile of ``−2 x·y`` (one GEMM of a pair of row tiles), completes each
entry to the squared distance ``(−2 x·y + |y|²) + |x|²`` in float32, in that order (the order the
rounding bound of :func:`~neurocomplex.measures.twonn.two_nearest_distances` covers), and keeps
the ``k`` smallest per point with their indices, and the smallest distance of any point not kept.
One pass serves both the tile's rows and, for a tile off the diagonal, its columns: the numpy
version took about ten passes per tile (sums, minima of the rows and of the transposed tile,
``argmin`` per candidate, merges), which cost several times the GEMM below about 100 units.

Compiled on first use and cached on disk (numba's cache, written atomically); imported only for
large searches or where numba is loaded already (``twonn._compiled_fold``), so ``import
neurocomplex`` does not load numba.
"""

from __future__ import annotations

import numpy as np
from numba import njit, types

__all__ = ["fold_tile"]

_F32_2D = types.Array(types.float32, 2, "C")
_F32_1D = types.Array(types.float32, 1, "C")
# One signature, compiled once: the tile, the squared norms, the tile's first row and column, whether
# it is on the diagonal, and the running candidates, their indices and the bounds (all C-contiguous).
_SIGNATURE = types.void(_F32_2D, _F32_1D, types.int64, types.int64, types.boolean, _F32_2D,
                        types.Array(types.int64, 2, "C"), _F32_1D)


@njit(cache=True, nogil=True, inline="always")
def _offer(best: np.ndarray, index: np.ndarray, bound: np.ndarray, r: int, v: np.float32,
           j: int) -> None:  # pragma: no cover - compiled
    """Offer distance ``v < bound[r]`` to point ``j`` to the candidates of point ``r`` (kept sorted,
    ties in the order offered); what is not kept, or is pushed out, becomes ``bound[r]``."""
    k = best.shape[1]
    last = best[r, k - 1]
    if v >= last:
        bound[r] = v
        return
    bound[r] = min(bound[r], last)  # pushed out (inf while fewer than k were offered)
    p = k - 1
    while p > 0 and best[r, p - 1] > v:
        best[r, p] = best[r, p - 1]
        index[r, p] = index[r, p - 1]
        p -= 1
    best[r, p] = v
    index[r, p] = j


@njit(_SIGNATURE, cache=True, nogil=True)
def fold_tile(g: np.ndarray, sq: np.ndarray, first_row: int, first_col: int, diagonal: bool, best: np.ndarray,
              index: np.ndarray, bound: np.ndarray) -> None:  # pragma: no cover - compiled
    """Merge the tile ``g`` (``−2 x·y`` of rows ``first_row…`` against columns ``first_col…``) into the
    running candidates: of its rows and, off the diagonal (``diagonal`` False), of its columns
    (each pair of tiles is multiplied once). On the diagonal a point is never its own neighbour.

    ``bound`` (the smallest distance offered and not kept) is never below the ``k``-th candidate:
    every value it took was at least the ``k``-th candidate of its time, and those only decrease.
    So a distance changes anything only when below ``bound``: one comparison per row and column in
    the common case.
    """
    n_rows, n_cols = g.shape
    for i in range(n_rows):
        r = first_row + i
        s_r = sq[r]
        for j in range(n_cols):
            c = first_col + j
            v = (g[i, j] + sq[c]) + s_r
            if v < bound[r] and not (diagonal and c == r):
                _offer(best, index, bound, r, v, c)
            if not diagonal and v < bound[c]:
                _offer(best, index, bound, c, v, r)

