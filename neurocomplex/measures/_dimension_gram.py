"""The wide route of the linear dimension estimators: fewer samples than units.

The covariance ``S / (n − 1)`` (``d × d``) and the centred Gram matrix ``G / (n − 1)`` (``n × n``,
:mod:`neurocomplex.stats.gram`) have the same nonzero eigenvalues, so with ``n < d`` every
spectral quantity is computed from ``G``: ``n² d`` for the product and ``n³`` for the
eigendecomposition, instead of ``n d²`` and ``d³``. Replicates reweight the rows and columns of the
same ``G`` (no new pass over the data).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neurocomplex.errors import InsufficientDataError
from neurocomplex.measures._dimension_stats import (
    _noise_tolerance,
    _torch_function,
    _varying,
    _work_dtype,
    covariance_eigen,
    plan_groups,
)
from neurocomplex.recording import Recording
from neurocomplex.stats.covariance import float32_in_range
from neurocomplex.stats.gram import CentredGram, centred_gram

__all__ = ["gram_statistics", "wide_spectrum", "group_counts"]


def gram_statistics(arrays: tuple[np.ndarray, ...], device: Any, scale: np.ndarray | None = None,
                    variances: bool = False) -> CentredGram:
    """Centred Gram (and, for two arrays, cross-Gram) of the rows: numpy, or torch on ``device``."""
    y = arrays[1] if len(arrays) > 1 else None
    if device is None:
        return centred_gram(arrays[0], y, scale, variances)
    return _torch_function("centred_gram_torch")(arrays[0], device, y, scale, variances)


def any_varying(st: CentredGram, n_samples: int) -> bool:
    """Whether some unit varies: the total variance ``tr G / (n − 1)`` exceeds the rounding bound of
    constant columns (``Σ_u (n ε |m_u|)²``, as ``_varying`` per unit)."""
    if st.variance is not None:
        return bool(_varying(st.variance, st.mean, n_samples).any())
    bound = float(np.sum((n_samples * float(np.finfo(np.float64).eps) * np.abs(st.mean)) ** 2))
    return float(np.trace(st.gram)) / max(n_samples - 1.0, 1.0) > bound


def group_counts(n_samples: int, size: int) -> np.ndarray:
    """Rows of each jackknife group (``n_samples // size`` of ``size``), then the remainder, if any."""
    n_groups = n_samples // size
    rest = n_samples - n_groups * size
    return np.array([size] * n_groups + ([rest] if rest else []), dtype=np.float64)


def wide_spectrum(rec: Recording, standardize: bool, device: Any, vectors: bool,
                  messages: list[str]) -> dict[str, Any]:
    """The Gram route's spectrum of ``rec`` (``n_samples < n_units``).

    Returns ``gram`` (centred, of the standardised columns with ``standardize``), ``raw``
    (eigenvalues of the covariance, descending, ``keep.sum()`` of them: the Gram's ``n`` padded
    with zeros or cut at the zeros), ``eigen`` (eigenvalues and eigenvectors of ``gram``, with
    ``vectors``), ``keep`` (units used) and ``dtype``.
    """
    data = float32_in_range(rec.data)  # one pass: small beside the n × n products of n × d data
    n, d = data.shape
    dtype = _work_dtype(data)
    st = gram_statistics((data,), device, variances=standardize)
    if not any_varying(st, n):
        raise InsufficientDataError(
            f"all {d} units of the Recording are constant: the covariance is zero and no dimension is defined."
        )
    keep = np.ones(d, dtype=bool)
    if standardize:
        # A constant unit has no correlation; it is left out rather than making the matrix NaN.
        varying = _varying(st.variance, st.mean, n)
        keep = varying & (st.variance > _noise_tolerance(float(st.variance.max()), d, dtype))
        if not keep.all():
            dropped = rec.unit_ids[~keep]
            messages.append(
                f"standardize=True: {dropped.size} constant unit(s) left out of the correlation matrix "
                f"(unit ids {dropped[:10].tolist()}{' ...' if dropped.size > 10 else ''})."
            )
        scale = np.where(keep, 1.0 / np.sqrt(np.where(keep, st.variance, 1.0)), 0.0)
        st = gram_statistics((data,), device, scale)
    # the rounding floor of an n x n float Gram matrix: its size n sets it (see effective_dimension)
    lam_g, vecs = covariance_eigen(st.gram, vectors, dtype, n, gram=True)
    m = int(keep.sum())
    raw = np.zeros(m)
    k = min(m, n)
    raw[:k] = lam_g[:k] / (n - 1.0)
    return {"gram": st.gram, "raw": raw, "eigen": (lam_g, vecs) if vectors else None, "keep": keep,
            "dtype": dtype, "n_units": d, "size": n}


def jackknife_groups(n_samples: int, block_size: int | None) -> tuple[int, np.ndarray]:
    """(number of groups, rows of each block: the groups then the remainder) of the jackknife."""
    size = plan_groups(n_samples, block_size)
    return n_samples // size, group_counts(n_samples, size)


def gram_spectrum(gram: np.ndarray, cross: np.ndarray | None, n_rep: float, n_units: int) -> np.ndarray:
    """The covariance spectrum (``n_units`` values, descending rank order) from a centred Gram matrix.

    Without ``cross``: the eigenvalues of ``gram / (n_rep − 1)``, padded with zeros. With ``cross``
    (``Xc Ycᵀ`` of a second repeat, cvPCA): with ``a_n`` the eigenvectors of ``gram``,
    ``λ_n = a_nᵀ cross a_n / (n_rep − 1)``, which equals ``u_nᵀ C_XY u_n`` for the eigenvector
    ``u_n = Xcᵀ a_n / |Xcᵀ a_n|`` of the covariance of X (zeros beyond the Gram's size, where
    ``Xc u = 0``).
    """
    out = np.zeros(n_units)
    k = min(gram.shape[0], n_units)
    denom = max(n_rep - 1.0, 1.0)
    if cross is None:
        out[:k] = np.linalg.eigvalsh((gram + gram.T) * 0.5)[::-1][:k] / denom
        return out
    _, vecs = np.linalg.eigh((gram + gram.T) * 0.5)
    vecs = vecs[:, ::-1][:, :k]
    out[:k] = np.einsum("in,in->n", vecs, cross @ vecs) / denom
    return out


def replicate_gram_spectra(gram: np.ndarray, cross: np.ndarray | None, counts: np.ndarray, draws: np.ndarray,
                           n_units: int) -> Any:
    """Yield the spectrum of each replicate (block weights ``draws``) from the same Gram matrices."""
    from neurocomplex.stats.gram import weighted_gram

    rows = counts.astype(np.int64)
    for w in draws:
        sample_w = np.repeat(w, rows)
        k, _ = weighted_gram(gram, sample_w)
        k12 = None if cross is None else weighted_gram(cross, sample_w, cross=True)[0]
        yield gram_spectrum(k, k12, float(sample_w.sum()), n_units)

