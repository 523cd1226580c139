"""The two nearest neighbours of every point on a torch device, certified as on the host.

Row tiles of float32 squared distances ``‖x‖² + ‖y‖² − 2 x·y`` (one GEMM each, against all
points), the few nearest candidates and the next distance by ``topk``, the candidates' distances
recomputed exactly in float64, and the rounding bound of
:func:`neurocomplex.measures.twonn.two_nearest_distances` to prove that no other point is nearer;
rows it cannot prove are searched exactly (integer points of moderate norm have exact float32
distances, so their ties need no such search). Only the two distances per point come back.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from neurocomplex._backend.accumulate import full_float32, resolve_device

__all__ = ["two_nearest_torch"]

_EPS32 = 2.0**-24  # float32 unit roundoff
# Integer points shifted by their rounded mean with squared norms below this have exact float32
# distances (the host search's ``EXACT_SQUARED_NORM``, reasoned there).
_EXACT_SQUARED_NORM = 2.0**22
# Device memory for one tile of float32 distances (rows × all points).
_TILE_BYTES = 256 * 1024**2
_EXACT_ROWS = 2048  # candidates refined in float64 this many rows at a time


def two_nearest_torch(points: object, device: object, candidates: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Distances from each point to its nearest and second-nearest other point, found on ``device``.

    Parameters
    ----------
    points : array_like or torch.Tensor
        ``(n, d)`` points, ``n >= 3``; copied to the device in float64.
    device : str or torch.device
        Where to search (``"cuda"``, ``"cpu"``, ...).
    candidates : int
        Nearest candidates kept per row from the float32 distances.

    Returns
    -------
    r1, r2 : numpy.ndarray
        float64 Euclidean distances, ``r1 <= r2``; equal to the host search's to float64 rounding.

    Examples
    --------
    >>> pts = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 3.0], [5.0, 5.0]])
    >>> r1, r2 = two_nearest_torch(pts, "cpu")
    >>> r1.round(3).tolist(), r2.round(3).tolist()
    ([1.0, 1.0, 3.0, 5.385], [3.0, 3.162, 3.162, 6.403])
    """
    dev = resolve_device(device)
    x = points if isinstance(points, torch.Tensor) else torch.from_numpy(np.asarray(points, dtype=np.float64))
    x = x.to(device=dev, dtype=torch.float64)
    n, d = int(x.shape[0]), int(x.shape[1])
    mean = x.mean(dim=0)
    exact, scale = False, 1.0
    if bool(torch.equal(x, x.round())):  # integers: exact float32 distances where small (as the host search)
        shifted = x - mean.round()
        sq = (shifted * shifted).sum(dim=1)
        exact = float(sq.max()) < _EXACT_SQUARED_NORM
    if exact:
        x = shifted
    else:
        x = x - mean  # distances are translation invariant; centring shrinks rounding
        top = float(x.abs().max()) if x.numel() else 0.0
        scale = 1.0 if top == 0.0 else math.ldexp(1.0, -math.frexp(top)[1] + 1)
        x = x * scale  # exact, as the host's power_of_two_scale: float32 squares stay finite and normal
        sq = (x * x).sum(dim=1)
    x32, sq32 = x.to(torch.float32), sq.to(torch.float32)
    if exact:
        delta = torch.zeros_like(sq)
    else:
        norms = sq.sqrt()
        gamma = d * _EPS32 / (1.0 - d * _EPS32)
        delta = 2.0 * gamma * norms * norms.max() + 6.0 * _EPS32 * (sq + sq.max())
    k = min(candidates, n - 1)
    take = min(k + 1, n)  # the candidates, then the nearest point that is not one: the bound
    index = torch.empty((n, k), dtype=torch.int64, device=dev)
    bound = torch.full((n,), float("inf"), dtype=torch.float32, device=dev)
    tile = max(1, min(n, _TILE_BYTES // (4 * n)))
    with full_float32():
        for s in range(0, n, tile):
            t = min(tile, n - s)
            dist = (x32[s : s + t] * -2.0) @ x32.T  # −2 x·y: scaling by 2 is exact
            dist += sq32
            dist += sq32[s : s + t, None]
            local = torch.arange(t, device=dev)
            dist[local, local + s] = float("inf")  # never a point's own neighbour
            vals, idx = torch.topk(dist, take, dim=1, largest=False, sorted=True)
            index[s : s + t] = idx[:, :k]
            if take > k:
                bound[s : s + t] = vals[:, k]
    r = torch.empty((n, 2), dtype=torch.float64, device=dev)
    for s in range(0, n, _EXACT_ROWS):  # exact float64 squared distances of the candidates
        diff = x[s : s + _EXACT_ROWS, None, :] - x[index[s : s + _EXACT_ROWS]]
        r[s : s + _EXACT_ROWS] = torch.sort((diff * diff).sum(dim=2), dim=1).values[:, :2]
    for row in torch.nonzero(r[:, 1] > bound.to(torch.float64) - delta).flatten().tolist():  # not certified
        full = ((x - x[row]) ** 2).sum(dim=1)
        full[row] = float("inf")
        r[row] = torch.topk(full, 2, largest=False, sorted=True).values
    r = r.sqrt().cpu().numpy() / scale
    return r[:, 0], r[:, 1]
