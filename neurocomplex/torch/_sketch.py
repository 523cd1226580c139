"""A streamed sketch of a wide layer's covariance: a seeded sparse random projection of its units.

Each unit ``i`` of a layer of ``d`` units is sent, with a random sign ``s_i``, to one of ``k``
buckets ``h(i)`` (a CountSketch; Charikar, Chen & Farach-Colton 2002; Clarkson & Woodruff 2013):
``y = x Φ`` with ``Φ[i, h(i)] = s_i``. The ``k x k`` covariance of ``y`` is ``S = Φᵀ C Φ``, accumulated
batch by batch like any covariance, in ``8 k²`` bytes whatever ``d`` is, and the projection costs
one pass over each batch (no ``d x k`` matrix is stored or multiplied). The exact per-unit means and
variances are kept beside it (``O(d)``), so the trace of ``C`` and the sum of its squared diagonal
are exact.

From ``S`` and the exact ``Q = Σ_i C_ii²``, the participation ratio ``(tr C)² / ||C||_F²`` is
estimated by the method of moments: over the draw of ``h`` and ``s``,
``E (tr S)² = (tr C)² + 2 (||C||_F² − Q) / k`` and
``E ||S||_F² = (1 + 1/k) ||C||_F² + (tr C)² / k − 2 Q / k``; solving the two for ``(tr C)²`` and
``||C||_F²`` with the observed ``(tr S)²`` and ``||S||_F²`` gives both with the same random gain
(a dominant direction's sketched norm), which cancels in their ratio. The effective dimension of
order 1 is that of the spectrum of ``S``: a random projection mixes the weak directions into a
floor, so it is biased unless ``k`` is well above it (see :func:`neurocomplex.torch.summarize`,
Notes, for measured errors).
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from neurocomplex._backend.accumulate import TorchCovariance, full_float32
from neurocomplex.errors import InvalidParameterError
from neurocomplex.stats import CovarianceAccumulator

__all__ = ["TorchSketch", "SketchedCovariance", "sketch_participation_ratio", "check_sketch", "layer_seed"]


def check_sketch(sketch: Any) -> int | None:
    """``sketch`` as a number of dimensions (an int >= 2) or None.

    Examples
    --------
    >>> check_sketch(2048), check_sketch(None)
    (2048, None)
    """
    if sketch is None:
        return None
    if isinstance(sketch, bool) or not isinstance(sketch, (int, np.integer)) or int(sketch) < 2:
        raise InvalidParameterError(
            f"sketch must be None (exact) or the number of dimensions of the random projection, an int >= 2 "
            f"(e.g. 2048), got {sketch!r}."
        )
    return int(sketch)


def layer_seed(seed: int, key: str) -> int:
    """One reproducible seed per (seed, layer key): layers get independent projections.

    Examples
    --------
    >>> layer_seed(0, "relu1") == layer_seed(0, "relu1") != layer_seed(0, "relu2")
    True
    """
    return (int(seed) * 1_000_003 + zlib.crc32(key.encode())) % (2**63)


# Projected rows gathered before one product is folded into the float64 scatter: the k x k update
# (a float64 copy, a sum and a rank-one correction) then runs once per this many rows, not per batch.
FLUSH_ROWS = 1024


def _projection(n_units: int, k: int, seed: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)  # drawn on the host: the same projection on every device
    bucket = torch.randint(0, k, (n_units,), generator=g)
    sign = torch.randint(0, 2, (n_units,), generator=g).to(torch.float32).mul_(2.0).sub_(1.0)
    return bucket.to(device), sign.to(device)


class TorchSketch:
    """Sketch of ``n_units`` columns to ``k`` dimensions, accumulated on ``device``.

    Examples
    --------
    >>> x = torch.randn(500, 40, generator=torch.Generator().manual_seed(0))
    >>> sk = TorchSketch(40, 40, seed=1, device=torch.device("cpu"))
    >>> sk.update(x[:200]); sk.update(x[200:])
    >>> host = sk.to_stats()
    >>> round(host.trace(), 6) == round(float(np.trace(np.cov(x.numpy().T))), 6)
    True
    """

    def __init__(self, n_units: int, k: int, seed: int, device: torch.device) -> None:
        self.n_units, self.k, self.seed = int(n_units), int(k), int(seed)
        self.bucket, self.sign = _projection(self.n_units, self.k, self.seed, device)
        self.projected = TorchCovariance(self.k, device)
        self._pending: list[tuple[int, torch.Tensor, torch.Tensor]] = []
        self._pending_rows = 0
        self.n_samples = 0
        self.mean = torch.zeros(self.n_units, dtype=torch.float64, device=device)
        self.m2 = torch.zeros(self.n_units, dtype=torch.float64, device=device)

    def project(self, x: torch.Tensor) -> torch.Tensor:
        """``x Φ``: every unit added, with its sign, to its bucket (float32, ``(rows, k)``)."""
        y = torch.zeros((x.shape[0], self.k), dtype=torch.float32, device=x.device)
        return y.index_add_(1, self.bucket, x * self.sign)

    def update(self, x: torch.Tensor) -> None:
        """Add the rows of a float32 ``(n_rows, n_units)`` tensor."""
        if x.shape[0] == 0:
            return
        mean_b = x.mean(dim=0, dtype=torch.float64)
        centred = x - mean_b.to(x.dtype)
        centred -= (centred.sum(dim=0, dtype=torch.float64) / x.shape[0]).to(x.dtype)  # about mean_b itself
        self.combine(int(x.shape[0]), mean_b, centred, (centred * centred).sum(dim=0, dtype=torch.float64))

    def combine(self, n_b: int, mean_b: torch.Tensor, centred: torch.Tensor, m2_b: torch.Tensor) -> None:
        """Add a batch given by its float64 mean, its centred rows and their per-unit sum of squares."""
        if n_b == 0:
            return
        mean_y = torch.zeros(self.k, dtype=torch.float64, device=mean_b.device)
        mean_y.index_add_(0, self.bucket, mean_b * self.sign.to(torch.float64))
        self._pending.append((n_b, mean_y, self.project(centred)))
        self._pending_rows += n_b
        if self._pending_rows >= FLUSH_ROWS:
            self._flush()
        n_a = self.n_samples
        n = n_a + n_b
        delta = mean_b - self.mean
        self.m2 += m2_b + delta**2 * (n_a * n_b / n)
        self.mean += delta * (n_b / n)
        self.n_samples = n

    def _flush(self) -> None:
        """Fold the pending batches into the scatter as one block: the sum of their own centred
        scatters (one float32 product) plus the spread of their means (Chan et al. 1979)."""
        if not self._pending:
            return
        counts = torch.tensor([p[0] for p in self._pending], dtype=torch.float64, device=self.mean.device)
        means = torch.stack([p[1] for p in self._pending])
        rows = torch.cat([p[2] for p in self._pending]) if len(self._pending) > 1 else self._pending[0][2]
        self._pending, self._pending_rows = [], 0
        n = float(counts.sum())
        mean = (counts @ means) / n
        with full_float32():
            scatter = (rows.T @ rows).to(torch.float64)
        del rows
        spread = (means - mean) * counts.sqrt()[:, None]
        scatter += spread.T @ spread
        self.projected.combine(int(n), mean, scatter)

    def to_stats(self) -> SketchedCovariance:
        """The host-side, mergeable sketch."""
        with torch.inference_mode():  # the statistics were made under it (the capture's forward)
            self._flush()
        return SketchedCovariance(self.n_units, self.k, self.seed, self.projected.to_stats(),
                                  self.mean.cpu().numpy(), self.m2.cpu().numpy(), self.n_samples)


@dataclass
class SketchedCovariance:
    """Host-side sketch: the ``k x k`` covariance of the projected units and the exact per-unit moments.

    Two sketches of the same layer (same ``n_units``, ``k`` and ``seed``) over different inputs
    merge into the sketch of all the inputs.
    """

    n_units: int
    k: int
    seed: int
    projected: CovarianceAccumulator
    mean: np.ndarray
    m2: np.ndarray
    n_samples: int

    def variances(self) -> np.ndarray:
        """Exact per-unit variances (``ddof=1``)."""
        return self.m2 / max(self.n_samples - 1, 1)

    def trace(self) -> float:
        """``tr C``, exact."""
        return float(self.variances().sum())

    def covariance(self) -> np.ndarray:
        """``S = Φᵀ C Φ`` (``k x k``, float64)."""
        return self.projected.covariance()

    def eigenvalues(self) -> np.ndarray:
        """Eigenvalues of ``S``, descending, tiny negatives clipped to 0."""
        lam = np.linalg.eigvalsh(self.covariance())[::-1]
        return np.clip(lam, 0.0, None)

    def participation_ratio(self) -> float:
        """Bias-corrected ``(tr C)² / ||C||_F²`` (see :func:`sketch_participation_ratio`)."""
        return sketch_participation_ratio(self.covariance(), float(np.sum(self.variances() ** 2)), self.k,
                                          min(self.n_samples - 1, self.n_units))

    def merge(self, other: SketchedCovariance) -> SketchedCovariance:
        """The sketch of both sets of inputs."""
        if (other.n_units, other.k, other.seed) != (self.n_units, self.k, self.seed):
            raise InvalidParameterError(
                f"cannot merge sketches of (n_units, k, seed) = {(self.n_units, self.k, self.seed)} and "
                f"{(other.n_units, other.k, other.seed)}: only sketches with the same projection merge."
            )
        n_a, n_b = self.n_samples, other.n_samples
        n = n_a + n_b
        delta = other.mean - self.mean
        m2 = self.m2 + other.m2 + delta**2 * (n_a * n_b / max(n, 1))
        mean = self.mean + delta * (n_b / max(n, 1))
        return SketchedCovariance(self.n_units, self.k, self.seed, self.projected.merge(other.projected), mean, m2, n)


def sketch_participation_ratio(s: np.ndarray, diag_sq: float, k: int, max_rank: int) -> float:
    """Participation ratio ``(tr C)² / ||C||_F²`` of a covariance known through its CountSketch.

    Parameters
    ----------
    s : numpy.ndarray
        ``S = Φᵀ C Φ`` (``k x k``).
    diag_sq : float
        ``Q = Σ_i C_ii²``, exact.
    k : int
        Sketch dimensions.
    max_rank : int
        ``min(n_samples - 1, n_units)``: the estimate is kept within ``[1, max_rank]``.

    Returns
    -------
    float
        NaN when ``S`` is zero.

    Notes
    -----
    With ``t = (tr S)²`` and ``F = ||S||_F²``: ``||C||_F² ≈ B = (F − t/k + 2Q(k − 1)/k²) /
    (1 + 1/k − 2/k²)`` and ``(tr C)² ≈ A = t − 2(B − Q)/k``, the solution of the two moment
    equations of the module docstring; the estimate is ``A / B``. Its relative spread over
    projections is about ``1.1 / sqrt(k)`` on the spectra of the tests (power laws and flat).

    Examples
    --------
    One unit of variance 1 and a sketch of ``k = 4`` dimensions: ``S`` is that unit's bucket, and
    the estimate is exact.

    >>> sketch_participation_ratio(np.diag([0.0, 1.0, 0.0, 0.0]), 1.0, 4, 1)
    1.0
    """
    t = float(np.trace(s)) ** 2
    if t <= 0:
        return math.nan
    frob = (float(np.sum(np.square(s))) - t / k + 2.0 * diag_sq * (k - 1) / k**2) / (1.0 + 1.0 / k - 2.0 / k**2)
    if frob <= 0:
        return math.nan
    square_trace = t - 2.0 * (frob - diag_sq) / k
    return float(min(max(square_trace / frob, 1.0), max(max_rank, 1)))
