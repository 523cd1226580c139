"""From accumulated statistics to measures (the last step of every streaming path).

The torch streaming summary, chunked NWB/HDF5 reads and dask arrays all end with per-source
statistics (:class:`~neurocomplex.stats.CovarianceAccumulator`,
:class:`~neurocomplex.stats.ActivityAccumulator`, :class:`~neurocomplex.stats.WordCounts`); this
module turns them into the same numbers the estimators give on full Recordings. It sits above the
statistics (stats/ never imports the estimators) and beside the estimators it shares functions with.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from neurocomplex._validation import check_choice
from neurocomplex.errors import InsufficientDataError, NeurocomplexWarning
from neurocomplex.stats.chunked import NEEDS, accumulate
from neurocomplex.stats.covariance import DEFAULT_CHUNK_ROWS

__all__ = ["STATISTICS", "measure_rows", "summarize_array"]

_COLUMNS = ["layer", "measure", "value", "n_samples", "n_units", "method", "warnings"]

STATISTICS = ("effective_dimension", "participation_ratio", "activation_ratio", "pattern_entropy")


def _dimension(key: str, st: dict[str, Any], order: int, cache: dict[str, Any]) -> float:
    # the same eigenvalues and noise floor as nc.effective_dimension on a Recording of this dtype
    # (float32 for network activations unless st["dtype"] says otherwise)
    from neurocomplex.measures._dimension_stats import (
        covariance_eigen,
        denoise_eigenvalues,
        effective_dimension_from_eigenvalues,
    )

    if "eigenvalues" not in cache:
        acc = st["covariance"]
        if acc.n_samples < 2:
            raise InsufficientDataError(f"layer {key!r}: a covariance needs at least 2 samples, got {acc.n_samples}.")
        cov = acc.covariance()
        if not np.any(np.diag(cov) > 0):
            cache["eigenvalues"] = None
        else:
            # rounding of the data's precision (float32 products) sets the floor for negative eigenvalues
            dtype = np.dtype(st.get("dtype", np.float32))
            lam = covariance_eigen(cov, False, dtype, acc.n_units)[0]
            cache["eigenvalues"] = denoise_eigenvalues(lam, acc.n_units, dtype)[0]
    if cache["eigenvalues"] is None:
        if "message" not in cache:
            cache["message"] = (f"layer {key!r}: all {st['n_units']} units are constant over the inputs (dead or "
                                "saturated); its dimension is undefined and reported as NaN.")
            warnings.warn(cache["message"], NeurocomplexWarning, stacklevel=4)
        return math.nan
    return float(effective_dimension_from_eigenvalues(cache["eigenvalues"], order))


def _undersampled(key: str, st: dict[str, Any]) -> str | None:
    n_samples, n_distinct = st["n_samples"], int(st["words"].counts.size)
    if n_samples < 2 or n_distinct < n_samples:
        return None
    return (f"layer {key!r}: all {n_samples} binary words of its {st['n_units']} units are distinct (no pattern "
            "repeats), so the data do not determine the pattern entropy: NSB returns a value set by its prior, "
            f"plug-in returns log2(n_samples) = {np.log2(n_samples):.3g} bits (a lower bound). Use more inputs "
            "or fewer units.")


def measure_rows(key: str, st: dict[str, Any], chosen: tuple[str, ...], entropy_method: str) -> list[dict[str, Any]]:
    """Rows ``{layer, measure, value, n_samples, n_units, method, warnings}`` computed from the statistics
    ``st`` (``"covariance"``, ``"activity"``, ``"words"``, ``"n_samples"``, ``"n_units"``) of one
    layer or array ``key``, by the functions the full-Recording estimators use."""
    from neurocomplex.measures.entropy import pattern_entropy_from_words

    rows = []
    cache: dict[str, Any] = {}
    for name in chosen:
        note = None
        if name == "effective_dimension":
            value, method = _dimension(key, st, 1, cache), "exp_spectral_entropy"
        elif name == "participation_ratio":
            value, method = _dimension(key, st, 2, cache), "participation_ratio"
        elif name == "activation_ratio":
            value, method = st["activity"].activation_ratio(), "activation_ratio"
        else:
            value, method = float(pattern_entropy_from_words(st["words"], entropy_method, 2.0)[0]), entropy_method
            note = _undersampled(key, st)
            if note:
                warnings.warn(note, NeurocomplexWarning, stacklevel=3)
        if name in ("effective_dimension", "participation_ratio") and math.isnan(value):
            note = cache["message"]
        rows.append({"layer": key, "measure": name, "value": value, "n_samples": st["n_samples"],
                     "n_units": st["n_units"], "method": method, "warnings": note or ""})
    return rows


def summarize_array(
    source: Any,
    measures: Sequence[str] = STATISTICS,
    threshold: float = 0.0,
    entropy_method: str = "nsb",
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    name: str = "array",
) -> Any:
    """Effective dimension, participation ratio, activation ratio and pattern entropy in one pass.

    The streaming counterpart of ``nc.measure`` for arrays that do not fit in memory (or that live
    on other machines as a dask array): only the statistics are ever held.

    Parameters
    ----------
    source : array-like
        As in :func:`accumulate`.
    measures : sequence of str
        Any of ``"effective_dimension"``, ``"participation_ratio"``, ``"activation_ratio"``,
        ``"pattern_entropy"``.
    threshold : float
        Binary state ``x > threshold`` for the activation ratio and the pattern entropy.
    entropy_method : {"nsb", "plugin", "miller_madow"}
    chunk_rows : int
    name : str
        Label of the source in the table's ``layer`` column.

    Returns
    -------
    pandas.DataFrame
        Columns ``layer, measure, value, n_samples, n_units, method, warnings``, as
        :func:`neurocomplex.torch.summarize`.

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(size=(2000, 5))
    >>> t = summarize_array(x, ["participation_ratio", "activation_ratio"])
    >>> round(float(t.value[1]), 2)
    0.5
    """
    import pandas as pd

    chosen = tuple(dict.fromkeys([measures] if isinstance(measures, str) else measures))
    for m in chosen:
        check_choice("measure", m, STATISTICS)
    check_choice("entropy_method", entropy_method, ("plugin", "miller_madow", "nsb"))
    st = accumulate(source, [NEEDS[m] for m in chosen], threshold, chunk_rows)
    return pd.DataFrame(measure_rows(name, st, chosen, entropy_method), columns=_COLUMNS)
