"""Sufficient statistics accumulated in one pass, chunk by chunk, and merged across workers.

- :class:`CovarianceAccumulator`: count, mean, centred scatter (effective dimension, spectra).
- :class:`ActivityAccumulator`: per-unit active counts, mean, variance (activity measures).
- :class:`WordCounts`: distinct binary words and their counts (entropies, pattern complexity).
- :func:`accumulate` / :func:`summarize_array`: one pass over memmaps, HDF5 datasets and dask
  arrays (dask.distributed included) to these statistics and to the measures.

The chunked functions are imported on first use (they need the measures modules).
"""

import importlib
from typing import Any

from neurocomplex.stats.activity import ActivityAccumulator
from neurocomplex.stats.covariance import CovarianceAccumulator, covariance_from_array
from neurocomplex.stats.words import WordCounts, count_words, hamming, pack_words, unpack_words

__all__ = [
    "accumulate",
    "summarize_array",
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
    if name == "summarize_array":  # statistics -> measures lives above the statistics
        return getattr(importlib.import_module("neurocomplex.measures.from_stats"), name)
    raise AttributeError(f"module 'neurocomplex.stats' has no attribute {name!r}")
