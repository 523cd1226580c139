"""Sufficient statistics accumulated in one pass, chunk by chunk, and merged across workers.

- :class:`CovarianceAccumulator`: count, mean, centred scatter (effective dimension, spectra).
- :class:`ActivityAccumulator`: per-unit active counts, mean, variance (activity measures).
- :class:`WordCounts`: distinct binary words and their counts (entropies, pattern complexity).
- :mod:`~neurocomplex.stats.pair_blocks`: per-block products of two populations, merged exactly
  for any bootstrap weighting (CKA, shape distance).
- :mod:`~neurocomplex.stats.shared_parts`: one recording's part of a pair statistic, kept for its
  other pairs within one multi-pair call (``nc.similarity_matrix``).
- :func:`accumulate`: one pass over memmaps, HDF5 datasets and dask arrays (dask.distributed
  included) to these statistics; :func:`neurocomplex.summarize_array` turns them into measures.

Statistics know no estimator: nothing here imports :mod:`neurocomplex.measures` or a network
module. :func:`accumulate` is imported on first use (it brings in the chunked readers).
"""

import importlib
from typing import Any

from neurocomplex.stats.activity import ActivityAccumulator
from neurocomplex.stats.covariance import CovarianceAccumulator, covariance_from_array
from neurocomplex.stats.words import WordCounts, count_words, hamming, pack_words, unpack_words

__all__ = [
    "accumulate",
    "ActivityAccumulator",
    "CovarianceAccumulator",
    "covariance_from_array",
    "WordCounts",
    "count_words",
    "hamming",
    "pack_words",
    "unpack_words",
]


def __getattr__(name: str) -> Any:
    if name == "accumulate":
        return getattr(importlib.import_module("neurocomplex.stats.chunked"), name)
    raise AttributeError(f"module 'neurocomplex.stats' has no attribute {name!r}")
