"""TwoNN intrinsic dimension, with the two nearest neighbours found the way the dimension calls for.

In low dimension (``n_units <= 15``) a k-d tree (:class:`scipy.spatial.cKDTree`) finds neighbours
in ``O(n log n)``, its queries split over ``NEUROCOMPLEX_NUM_THREADS`` threads. In high dimension
a tree degenerates into a slow brute-force search, so the squared distances
``‖x‖² + ‖y‖² − 2 x·y`` are formed tile by tile with one float32 GEMM per pair of tiles (each
pair once: distances are symmetric), the few nearest candidates of the tile's rows and columns
kept by one compiled pass over it (:mod:`~neurocomplex.measures._neighbour_kernel`; for searches
of fewer than 16,384 points in a process without numba, by ``argmin`` passes instead: loading
numba would cost more), and their distances recomputed exactly in float64. A candidate set is
accepted only when a rounding bound of the float32 distances proves that no other point can be
nearer; rows that fail (near-ties within rounding) are searched again exactly. Integer points
(spike counts, binary states) of moderate norm have exact float32 distances, so their many ties
certify without that second search. The interval resamples the per-point ratios μ, never the
neighbour search.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from neurocomplex._checks import check_recording
from neurocomplex._validation import check_float, check_int
from neurocomplex.errors import InsufficientDataError, NeurocomplexWarning
from neurocomplex.estimate import Estimate, check_bootstrap_params, interval_from_replicates, register_estimator
from neurocomplex.recording import Recording

__all__ = ["twonn_dimension", "two_nearest_distances", "first_of_each_row", "power_of_two_scale"]

# Largest dimension searched with a k-d tree; above it, blocked GEMM distances.
TREE_MAX_DIM = 15
# Rows (and columns) of a tile of distances: 1 MiB of float32, small enough that transposing it
# stays in cache, large enough for an efficient GEMM.
_TILE_ROWS = 512
# Candidates kept per row from the float32 distances before the exact float64 recomputation.
_CANDIDATES = 4
_EPS32 = float(np.finfo(np.float32).eps) / 2  # unit roundoff
_EPS64 = float(np.finfo(np.float64).eps) / 2
_EXACT_BATCH = 1 << 23  # float64 distances per batch of the exact search (64 MB)
# Float64 differences formed at a time for the candidates' exact distances (4 MB).
_EXACT_ROWS = 1 << 19
# Squared norms (of integer points shifted by their rounded mean) below which every float32 step of
# a squared distance is an integer below 2**24, so exact: |2 x·y| <= 2 |x| |y| < 2**23 and
# |x - y|**2 < 4 * 2**22.
EXACT_SQUARED_NORM = 2.0**22
# Points from which the compiled fold is worth loading numba for (about 8 ns per pair in numpy, 3
# compiled: about 1 s saved at this size, the cost of loading numba in a new process).
_COMPILED_ROWS = 16_384


def two_nearest_distances(points: np.ndarray, method: str = "auto",
                          device: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Distances from each point to its nearest and second-nearest other point.

    Parameters
    ----------
    points : numpy.ndarray
        ``(n, d)`` array, ``n >= 3``.
    method : {"auto", "tree", "gemm"}
        ``"tree"``: k-d tree; ``"gemm"``: blocked float32 GEMM distances with exact float64
        refinement; ``"auto"``: the tree up to ``d = 15``, GEMM above.
    device : str or torch.device, optional
        Run the GEMM search on this torch device (row tiles against all points, candidates by
        ``topk``, the same exact refinement and certification). The tree always runs on the host.

    Returns
    -------
    r1, r2 : numpy.ndarray
        float64 Euclidean distances, ``r1 <= r2``.

    Notes
    -----
    The float32 squared distance ``D̃_ij`` of centred points differs from the exact ``D_ij`` by at
    most ``δ_i = 2 γ_d ‖x_i‖ max_j ‖x_j‖ + 6 u (‖x_i‖² + max_j ‖x_j‖²)`` (``u`` the float32 unit
    roundoff, ``γ_d = d u / (1 − d u)``, the bound on a length-``d`` dot product). With the
    ``K = 4`` smallest ``D̃_ij`` of row ``i`` recomputed exactly and ``t_i`` the ``(K+1)``-th
    smallest ``D̃_ij``, the second-smallest exact distance ``e_2`` is certified when
    ``e_2 <= t_i − δ_i``; otherwise the row is searched exactly over all points. Tiles of rows and
    columns are multiplied once per pair (the product of tile ``(I, J)`` serves the rows of both
    ``I`` and ``J``), half the flops of a row-block search.

    The centred points are first multiplied by the power of two that brings their largest
    coordinate to [1, 2) (exact; distances are divided by it at the end), so that the float32
    squares neither overflow (points of 1e19) nor lose digits below float32's normal range.
    Integer points are shifted by their rounded mean instead, which keeps them integers; where
    every squared norm is then below ``2**22``, every float32 step of ``D̃_ij`` is an integer
    below ``2**24``, so ``D̃_ij = D_ij`` and ``δ_i = 0``. Counts have many equal distances, which
    a positive ``δ_i`` would send to the exact search one row at a time (at 20,000 × 40 Poisson
    counts, a quarter of the rows).

    Examples
    --------
    >>> pts = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 3.0], [5.0, 5.0]])
    >>> r1, r2 = two_nearest_distances(pts, method="gemm")
    >>> r1.round(3).tolist(), r2.round(3).tolist()
    ([1.0, 1.0, 3.0, 5.385], [3.0, 3.162, 3.162, 6.403])
    """
    x = np.asarray(points, dtype=np.float64)
    if method == "tree" or (method == "auto" and x.shape[1] <= TREE_MAX_DIM):
        from scipy.spatial import cKDTree

        from neurocomplex._threads import max_threads

        dist, _ = cKDTree(x).query(x, k=3, workers=max_threads())  # queries split over threads: the same result
        return dist[:, 1], dist[:, 2]
    if device is not None:
        from neurocomplex._backend.neighbours import two_nearest_torch  # torch only when a device is asked for

        return two_nearest_torch(x, device, _CANDIDATES)
    return _gemm_two_nearest(x)


def first_of_each_row(x: np.ndarray) -> np.ndarray:
    """Indices of the first occurrence of each distinct row of the float64 array ``x``, in order.

    Each row gets one 64-bit key, ``Σ_j h(x_ij) c_j`` modulo ``2**64``, with ``h`` a mix of the
    value's bits (spike counts have theirs in the high half only) and fixed random odd ``c_j``
    (integer arithmetic: exact in any order, so equal rows get equal keys); a 1-D sort of
    the keys finds the groups. A group whose rows are not all equal (two different rows with the
    same key) sends the whole array to ``np.unique(x, axis=0)``, which is exact and several times
    slower (3.5 s at 10^6 x 8, 2.5 s at 20,000 x 1,000). ``-0.0`` and ``0.0`` differ here: add
    ``0.0`` first.

    Examples
    --------
    >>> first_of_each_row(np.array([[1.0, 2.0], [0.0, 0.0], [1.0, 2.0], [3.0, 0.0]])).tolist()
    [0, 1, 3]
    """
    n = x.shape[0]
    _, first, group = np.unique(_row_keys(x), return_index=True, return_inverse=True)  # first occurrences
    if first.size < n and not np.array_equal(x, x[first[group]]):
        _, first = np.unique(x, axis=0, return_index=True)
    return np.sort(first)


def _row_keys(x: np.ndarray) -> np.ndarray:
    """One uint64 key per row of ``x``: equal rows get equal keys (see :func:`first_of_each_row`)."""
    n, d = x.shape
    bits = np.ascontiguousarray(x, dtype=np.float64).view(np.uint64)
    weights = np.random.default_rng(0x7E0).integers(0, 2**63, size=d, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    key = np.empty(n, dtype=np.uint64)
    step = max(1, (1 << 20) // max(d, 1))
    for a in range(0, n, step):
        z = bits[a : a + step] ^ (bits[a : a + step] >> np.uint64(32))  # small integers: bits in the high half only
        z *= np.uint64(0xBF58476D1CE4E5B9)
        z ^= z >> np.uint64(29)
        z *= weights
        key[a : a + step] = z.sum(axis=1, dtype=np.uint64)  # wraps modulo 2**64
    return key


def integer_valued(x: np.ndarray) -> bool:
    """Whether every entry of the finite float array ``x`` is an integer (spike counts, binary states)."""
    return bool(np.array_equal(x, np.round(x)))


def _compiled_fold(n: int) -> Any:
    """The compiled fold of a tile (:func:`~neurocomplex.measures._neighbour_kernel.fold_tile`) where it
    pays: numba already loaded in this process, or ``n >= _COMPILED_ROWS``; else None (the numpy
    folds below). Loading numba and its cached kernel costs about 1 s once per process, more than
    the numpy folds of a search of fewer points. Both give the same candidates up to ties of the
    float32 distances, which the exact recomputation and certification resolve identically."""
    import sys

    if n < _COMPILED_ROWS and "numba" not in sys.modules:
        return None
    from neurocomplex.measures._neighbour_kernel import fold_tile

    return fold_tile


def _gemm_two_nearest(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n, d = x.shape
    mean = x.mean(axis=0)
    exact, scale = False, 1.0
    if integer_valued(x):  # distances are translation invariant; centring shrinks rounding
        shifted = x - np.round(mean)
        sq = np.einsum("ij,ij->i", shifted, shifted)
        exact = bool(sq.max() < EXACT_SQUARED_NORM)  # every float32 distance exact: ties certify
    if exact:
        x = shifted
    else:
        x = x - mean
        scale = power_of_two_scale(x)
        x *= scale  # exact: the float32 squares neither overflow (data of 1e19) nor go subnormal (1e-20)
        sq = np.einsum("ij,ij->i", x, x)
    x32, sq32 = x.astype(np.float32), sq.astype(np.float32)
    x32_m2 = x32 * np.float32(-2.0)  # exact (a power of two): the GEMM gives −2 x·y with no extra pass
    if exact:
        delta = np.zeros(n)
    else:
        norms = np.sqrt(sq)
        gamma = d * _EPS32 / (1.0 - d * _EPS32)
        delta = 2.0 * gamma * norms * norms.max() + 6.0 * _EPS32 * (sq + sq.max())
    k = min(_CANDIDATES, n - 1)
    best = np.full((n, k), np.inf, dtype=np.float32)  # running k smallest float32 distances per row
    index = np.zeros((n, k), dtype=np.int64)
    bound = np.full(n, np.inf, dtype=np.float32)  # smallest float32 distance of any other point
    tile = min(n, _TILE_ROWS)
    starts = range(0, n, tile)
    compiled = _compiled_fold(n)
    for a in starts:  # distances are symmetric: each pair of tiles is multiplied once
        rows = slice(a, min(a + tile, n))
        for b in starts:
            if b < a:
                continue
            cols = slice(b, min(b + tile, n))
            dist = x32_m2[rows] @ x32[cols].T  # the one GEMM of the tile pair
            if compiled is not None:  # folded into the candidates of its rows and columns in one pass
                compiled(dist, sq32, a, b, a == b, best, index, bound)
                continue
            dist += sq32[cols]
            dist += sq32[rows, None]
            if a == b:
                np.fill_diagonal(dist, np.inf)  # never a point's own neighbour
            else:  # the columns' nearest among these rows
                _fold_tile(dist.T, b, a, best, index, bound)
            _fold_tile(dist, a, b, best, index, bound)
    r = np.empty((n, 2))
    step = max(1, _EXACT_ROWS // (k * d))
    for a in range(0, n, step):  # exact float64 squared distances of the candidates, a few MB at a time
        diff = x[a : a + step, None, :] - x[index[a : a + step]]
        r[a : a + step] = np.sort(np.einsum("ijk,ijk->ij", diff, diff), axis=1)[:, :2]
    uncertified = np.flatnonzero(r[:, 1] > bound.astype(np.float64) - delta)
    if uncertified.size:  # search those rows exactly (ties of discrete data, points far from the mean)
        r[uncertified] = _exact_two_nearest(x, sq, uncertified)
    r = np.sqrt(r) / scale
    return r[:, 0], r[:, 1]


def power_of_two_scale(x: np.ndarray) -> float:
    """The power of two that brings the largest ``|x|`` of the finite array ``x`` to [1, 2) (1.0
    for zeros): multiplying by it is exact, and squares of the result stay within float32's
    normal range.

    Examples
    --------
    >>> power_of_two_scale(np.array([[3e19, -1.0]])), power_of_two_scale(np.array([[0.75]]))
    (5.421010862427522e-20, 2.0)
    """
    top = float(np.max(np.abs(x))) if x.size else 0.0
    return 1.0 if top == 0.0 else math.ldexp(1.0, -math.frexp(top)[1] + 1)


def _fold_tile(dist: np.ndarray, first: int, offset: int, best: np.ndarray, index: np.ndarray,
               bound: np.ndarray) -> None:
    """Merge a tile of distances (rows ``first`` onwards against columns ``offset`` onwards; ``dist``
    is left unchanged) into the running candidates of its rows.

    One ``min`` pass per row first: a row with nothing in the tile below its k-th candidate keeps
    its candidates, and the tile only lowers its ``bound``; after the first few tiles that is most
    rows, and only the others are folded candidate by candidate.
    """
    rows = slice(first, first + dist.shape[0])
    low = dist.min(axis=1)
    need = low < best[rows, -1]
    np.minimum(bound[rows], np.where(need, np.inf, low), out=bound[rows])
    sel = np.flatnonzero(need)
    if sel.size:
        _fold(dist[sel], first + sel, offset, best, index, bound)  # dist[sel] is a copy


def _fold(dist: np.ndarray, rows: np.ndarray, offset: int, best: np.ndarray, index: np.ndarray,
          bound: np.ndarray) -> None:
    """Merge the smallest distances of each row of ``dist`` (overwritten) into the running
    candidates of ``rows`` (indices).

    The row's k smallest come from k ``argmin`` passes (vectorised; several times faster than
    ``argpartition`` for small k); everything not kept lowers ``bound``, the smallest distance of a
    point that is not a candidate.
    """
    m, c = dist.shape
    k = best.shape[1]
    local = np.arange(m)
    take = min(k, c)
    vals = np.empty((m, take), dtype=np.float32)
    idx = np.empty((m, take), dtype=np.intp)
    for j in range(take):
        idx[:, j] = dist.argmin(axis=1)
        vals[:, j] = dist[local, idx[:, j]]
        dist[local, idx[:, j]] = np.inf
    if c > take:
        bound[rows] = np.minimum(bound[rows], dist.min(axis=1))
    merged_v = np.concatenate([best[rows], vals], axis=1)
    merged_i = np.concatenate([index[rows], idx + offset], axis=1)
    order = np.argsort(merged_v, axis=1, kind="stable")
    best[rows] = np.take_along_axis(merged_v, order[:, :k], axis=1)
    index[rows] = np.take_along_axis(merged_i, order[:, :k], axis=1)
    if merged_v.shape[1] > k:
        bound[rows] = np.minimum(bound[rows], np.take_along_axis(merged_v, order[:, k : k + 1], axis=1)[:, 0])


def _exact_two_nearest(x: np.ndarray, sq: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The two smallest exact squared distances from each of ``rows`` to the other points.

    A float64 GEMM of a batch of rows against all points bounds every distance to within ``e``
    (the rounding bound of ``|x|² + |y|² − 2 x·y``); the points within the second smallest bound
    ``+ 2e`` hold the two nearest, and only their differences are formed exactly.
    """
    n, d = x.shape
    norms = np.sqrt(sq)
    gamma = d * _EPS64 / (1.0 - d * _EPS64)
    err = 2.0 * gamma * norms * norms.max() + 6.0 * _EPS64 * (sq + sq.max())
    out = np.empty((rows.size, 2))
    step = max(1, _EXACT_BATCH // n)
    for a in range(0, rows.size, step):
        batch = rows[a : a + step]
        dist = x[batch] @ x.T
        dist *= -2.0
        dist += sq
        dist += sq[batch, None]
        dist[np.arange(batch.size), batch] = np.inf
        limit = np.partition(dist, 1, axis=1)[:, 1] + 2.0 * err[batch]
        for i, row in enumerate(batch.tolist()):
            cand = np.flatnonzero(dist[i] <= limit[i])
            diff = x[cand] - x[row]
            out[a + i] = np.partition(np.einsum("ij,ij->i", diff, diff), 1)[:2]
    return out


def _fit_terms(n: int, n_keep: int) -> np.ndarray:
    """``−log(1 − F_emp)`` at the ``n_keep`` smallest of ``n`` sorted ratios."""
    return -np.log1p(-np.arange(1, n_keep + 1) / n)


def _slope(x: np.ndarray, y: np.ndarray) -> float:
    sxx = float(x @ x)
    return float(x @ y) / sxx if sxx > 0 else math.nan


def _twonn_fit(mu_sorted: np.ndarray, n_keep: int) -> float:
    """Slope through the origin of −log(1 − F_emp) on log μ over the ``n_keep`` smallest μ."""
    return _slope(np.log(mu_sorted[:n_keep]), _fit_terms(mu_sorted.size, n_keep))


def _n_keep(n: int, discard_fraction: float) -> int:
    return min(int(n * (1.0 - discard_fraction)), n - 1)  # F_emp = 1 at the last point: log 0


def _bootstrap(mu: np.ndarray, order: np.ndarray, n_keep: int, n_boot: int, seed: Any,
               block_size: Any) -> np.ndarray:
    """Fit on resampled ratios (in sample order, so blocks are blocks of time): a replicate's
    sorted μ is the sorted μ repeated by its draw counts, O(N) with no sort. The logarithms and the
    fit's ordinates are the same for every replicate and computed once (the same values as
    :func:`_twonn_fit` on the repeated ratios)."""
    from neurocomplex.estimate import bootstrap_indices

    n = mu.size
    log_sorted = np.log(mu[order])
    y = _fit_terms(n, n_keep)
    reps = np.empty(n_boot)
    for b, idx in enumerate(bootstrap_indices(n, n_boot, seed, block_size)):
        reps[b] = _slope(np.repeat(log_sorted, np.bincount(idx, minlength=n)[order])[:n_keep], y)
    return reps


@register_estimator(family="dimension", bounds=(0.0, math.inf),
                    invalid_params=({"discard_fraction": 1.5}, {"discard_fraction": -0.1}, {"discard_fraction": "x"}))
def twonn_dimension(rec: Recording, discard_fraction: float = 0.1, n_boot: int = 100, seed: int | None = 0,
                    block_size: int | None = None, ci_level: float = 0.95, device: Any = None) -> Estimate:
    """Intrinsic dimension of the cloud of samples by TwoNN (two nearest neighbours).

    Parameters
    ----------
    rec : Recording
        The points: each sample is a point in ``n_units`` dimensions.
    discard_fraction : float
        Fraction in [0, 1) of the largest ratios μ left out of the fit (0.1 as in Facco et al.).
    n_boot : int
        Bootstrap replicates of the ratios μ for the interval; 0 = none.
    seed : int or None
        Seed of the bootstrap.
    block_size : int, optional
        Block bootstrap of the μ sequence (in sample order) instead of i.i.d. resampling.
    ci_level : float
        Coverage of the interval.
    device : str or torch.device, optional
        With a torch device (``"cuda"``, ``"cpu"``), the neighbour search of high-dimensional
        points (more than 15 units) runs there: float32 GEMM distances by row tiles, candidates by
        ``topk``, the same exact float64 refinement and rounding certificate, so the distances
        agree with the numpy search to float64 rounding. Low-dimensional points use the k-d tree
        on the host. None (default): numpy.

    Returns
    -------
    Estimate
        ``value = d``; ``diagnostics``: ``mu`` (per distinct point, in sample order),
        ``n_duplicates``, ``n_fit`` (points in the fit), ``mle`` (the maximum-likelihood
        estimate ``(N − 1) / Σ log μ`` on all points, a cross-check), ``neighbours`` (``"tree"``
        or ``"gemm"``), ``bootstrap``, ``interval`` (``"percentile"``).

    Raises
    ------
    InvalidParameterError
        ``discard_fraction`` outside [0, 1); bad bootstrap options or ``device``.
    MissingDependencyError
        ``device`` given without torch installed.
    InsufficientDataError
        Fewer than 3 distinct points, or all μ = 1 (points on a regular lattice).

    Notes
    -----
    For each point, r1 and r2 are the distances to its first and second nearest neighbours and
    ``μ = r2 / r1``. Under local uniformity μ is Pareto: ``F(μ) = 1 − μ^−d``, so
    ``−log(1 − F(μ)) = d log μ``. With the N ratios sorted, ``F_emp(μ_(i)) = i / N``; d is the
    least-squares slope through the origin over the smallest ``N (1 − discard_fraction)`` ratios
    (at most N − 1, as ``F_emp = 1`` has no logarithm). This is the variant of scikit-dimension's
    ``TwoNN`` (method ``"linear"``). Duplicate points (distance 0) are removed first, with a
    warning saying how many.

    Neighbours come from a k-d tree up to 15 dimensions and from blocked float32 GEMM distances
    with an exact, certified float64 refinement above (:func:`two_nearest_distances`). The
    percentile interval resamples the ratios μ (i.i.d., or in blocks with ``block_size``); each
    replicate costs O(N), as its sorted ratios are the sorted μ repeated by their draw counts. It
    covers the sampling variability of the fit, not the bias of TwoNN on curved or non-uniform
    data.

    References
    ----------
    .. [1] E. Facco, M. d'Errico, A. Rodriguez, A. Laio, "Estimating the intrinsic dimension of
       datasets by a minimal neighborhood information", Scientific Reports 7, 12140 (2017).

    Examples
    --------
    >>> import numpy as np, neurocomplex as nc
    >>> plane = np.random.default_rng(0).normal(size=(2000, 2)) @ np.eye(2, 6)
    >>> round(nc.twonn_dimension(nc.Recording.from_array(plane), n_boot=0).value)
    2
    """
    import warnings

    check_recording(rec)
    discard_fraction = check_float("discard_fraction", discard_fraction, 0.0, 1.0, high_open=True)
    check_int("n_boot", n_boot, 0)
    check_bootstrap_params(n_boot, ci_level, block_size)
    if seed is not None:
        check_int("seed", seed)
    points = np.asarray(rec.data, dtype=np.float64) + 0.0  # + 0.0 turns -0.0 into 0.0 so they deduplicate
    if device is not None:
        from neurocomplex._backend.accumulate import resolve_device

        resolve_device(device)  # torch there and a usable device, checked before any work
    # Duplicates go before the search: a k-d tree cannot split equal points, so a query among
    # many copies (spike counts, silent bins, dead ReLUs) scans them all, quadratically.
    first = first_of_each_row(points)
    n_duplicates = rec.n_samples - first.size
    if first.size < 3:
        raise InsufficientDataError(
            f"{first.size} distinct point(s) among {rec.n_samples} samples: TwoNN needs at least 3."
        )
    if n_duplicates:
        points = points[first]
    r1, r2 = two_nearest_distances(points, device=device)
    distinct = r1 > 0  # rows that differ by less than the float resolution of a distance
    r1, r2 = r1[distinct], r2[distinct]
    n_duplicates += int(np.count_nonzero(~distinct))
    messages: list[str] = []
    if n_duplicates:
        messages.append(f"{n_duplicates} duplicate sample(s) of {rec.n_samples} removed before TwoNN.")
    mu = r2 / r1
    order = np.argsort(mu, kind="stable")
    mu_sorted = mu[order]
    n_keep = _n_keep(mu.size, discard_fraction)
    value = _twonn_fit(mu_sorted, n_keep)
    if not math.isfinite(value) or value <= 0:
        raise InsufficientDataError(
            "every point has its first and second neighbours at the same distance (μ = 1: a regular "
            "lattice, e.g. small spike counts): TwoNN cannot tell the dimension; use continuous data."
        )
    ties = float(np.mean(mu == 1.0))
    if ties > 0.05:
        messages.append(f"{ties:.0%} of points have equidistant first and second neighbours (discrete data); "
                        "TwoNN assumes continuous, locally uniform points.")
    ci, reps = None, np.empty(0)
    if n_boot > 0:
        reps = _bootstrap(mu, order, n_keep, n_boot, seed, block_size)
        ci = interval_from_replicates(reps, ci_level, "percentile", None, 0.0)
    log_sum = float(np.log(mu).sum())
    mle = (mu.size - 1) / log_sum if log_sum > 0 else math.nan
    for msg in messages:
        warnings.warn(msg, NeurocomplexWarning, stacklevel=2)
    return Estimate(
        value=value, ci=ci, method="twonn",
        params={"discard_fraction": discard_fraction, "n_boot": n_boot, "seed": seed,
                "block_size": block_size, "ci_level": ci_level, "device": None if device is None else str(device)},
        n_samples=rec.n_samples, n_units=rec.n_units,
        diagnostics={"mu": mu, "n_duplicates": n_duplicates, "n_fit": n_keep, "mle": mle,
                     "neighbours": "tree" if points.shape[1] <= TREE_MAX_DIM else "gemm",
                     "bootstrap": reps, "interval": "percentile"},
        warnings=tuple(messages),
    )
