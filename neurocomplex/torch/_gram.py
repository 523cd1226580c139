"""Exact spectra of wide layers over a bounded number of inputs: the ``n x n`` Gram of the kept rows.

With ``n`` rows and ``d > n`` units, the centred Gram ``Xc Xcᵀ`` has the nonzero eigenvalues of the
centred scatter ``Xcᵀ Xc``, in ``4 n d + 8 n²`` bytes instead of ``8 d²``. :class:`TorchGramRows`
keeps a layer's float32 rows batch by batch (on the model's device) and, at the end, forms the
Gram one chunk of units at a time (each chunk centred on the exact float64 mean, multiplied in
float32 and added in float64), then eigendecomposes it.
"""

from __future__ import annotations

import numpy as np
import torch

from neurocomplex._backend.accumulate import full_float32

__all__ = ["TorchGramRows"]

_UNIT_CHUNK = 2048


class TorchGramRows:
    """A layer's rows, kept until :meth:`eigenvalues` turns them into the covariance spectrum.

    Examples
    --------
    >>> x = torch.randn(30, 200, generator=torch.Generator().manual_seed(0))
    >>> rows = TorchGramRows(200)
    >>> rows.update(x[:10]); rows.update(x[10:])
    >>> lam = rows.eigenvalues()
    >>> ref = np.linalg.eigvalsh(np.cov(x.numpy().T.astype(np.float64)))[::-1][:29]
    >>> bool(np.allclose(lam[:29], ref, rtol=1e-4))
    True
    """

    def __init__(self, n_units: int) -> None:
        self.n_units = int(n_units)
        self.rows: list[torch.Tensor] = []
        self.n_samples = 0
        self.sums: torch.Tensor | None = None

    @property
    def nbytes(self) -> int:
        """Bytes held by the kept rows."""
        return sum(r.numel() * r.element_size() for r in self.rows)

    def update(self, x: torch.Tensor) -> None:
        """Keep the rows of a float32 ``(n_rows, n_units)`` tensor (copied: the hook's tensor may change)."""
        if x.shape[0] == 0:
            return
        sums = x.sum(dim=0, dtype=torch.float64)
        self.sums = sums if self.sums is None else self.sums + sums
        self.rows.append(x.clone(memory_format=torch.contiguous_format))
        self.n_samples += int(x.shape[0])

    def eigenvalues(self, ddof: int = 1) -> np.ndarray:
        """Eigenvalues of the covariance (descending, float64, ``min(n, d)`` of them); frees the rows."""
        n = self.n_samples
        dev = self.rows[0].device
        mean = self.sums / n  # type: ignore[operator]
        gram = torch.zeros((n, n), dtype=torch.float64, device=dev)
        with full_float32():
            for start in range(0, self.n_units, _UNIT_CHUNK):
                stop = min(start + _UNIT_CHUNK, self.n_units)
                centre = mean[start:stop]
                block = torch.cat([(r[:, start:stop].to(torch.float64) - centre).to(torch.float32) for r in self.rows])
                gram += (block @ block.T).to(torch.float64)
                del block
        self.rows = []
        lam = torch.linalg.eigvalsh(gram / max(n - ddof, 1)).flip(0)
        del gram
        return np.clip(lam.cpu().numpy()[: min(n, self.n_units)], 0.0, None)
