"""Sufficient statistics accumulated in one pass, chunk by chunk, and merged across workers.

- :class:`CovarianceAccumulator`: count, mean, centred scatter (effective dimension, spectra).
- :class:`ActivityAccumulator`: per-unit active counts, mean, variance (activity measures).
- :class:`WordCounts`: distinct binary words and their counts (entropies, pattern complexity).
"""

from neurocomplex.stats.activity import ActivityAccumulator
from neurocomplex.stats.covariance import CovarianceAccumulator, covariance_from_array
from neurocomplex.stats.words import WordCounts, count_words, hamming, pack_words, unpack_words

__all__ = [
    "ActivityAccumulator",
    "CovarianceAccumulator",
    "covariance_from_array",
    "WordCounts",
    "count_words",
    "hamming",
    "pack_words",
    "unpack_words",
]
