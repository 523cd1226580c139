"""neurocomplex: complexity, entropy and dimension of neural populations, biological and artificial.

One data object (:class:`Recording`, samples x units) from NWB files, Neo objects, arrays or torch
activation hooks; one family of estimators that return an :class:`Estimate`.

>>> import numpy as np, neurocomplex as nc
>>> x = np.random.default_rng(0).normal(size=(500, 8)) * np.arange(8, 0, -1)  # unit variances 64, 49, ..., 1
>>> est = nc.participation_ratio(nc.Recording.from_array(x))
>>> round(est.value, 1), bool(est.ci[0] < est.value < est.ci[1])
(5.0, True)

Most names are imported on first use, so ``import neurocomplex`` stays fast and never imports
torch, neo or matplotlib; ``nc.torch`` is a subpackage imported on first access.
"""

from __future__ import annotations

import importlib
from typing import Any

from neurocomplex._version import __version__ as __version__
from neurocomplex.errors import (
    CorruptFileError,
    InsufficientDataError,
    InvalidDataError,
    InvalidParameterError,
    MemoryLimitError,
    MissingDependencyError,
    MissingFileError,
    MissingTableError,
    NeurocomplexError,
    NeurocomplexWarning,
    OutputError,
    UnsupportedSourceError,
)
from neurocomplex.estimate import Estimate, register_estimator
from neurocomplex.recording import Recording

# Modules that give a Recording its methods above recording.py (Recording.to_nwb,
# Recording.trial_responses) register them on import; both are light (no pynwb, no pandas).
from neurocomplex import io as _io  # noqa: F401  isort: skip
from neurocomplex import trials as _trials  # noqa: F401  isort: skip


# public name -> module that defines it (imported on first attribute access)
_LAZY = {
    "get_estimator": "neurocomplex.measures",
    "list_estimators": "neurocomplex.measures",
    "load": "neurocomplex.io",
    "measure": "neurocomplex.comparison.table",
    "scaling_curve": "neurocomplex.comparison.table",
    "surrogate": "neurocomplex.comparison.table",
    "compare": "neurocomplex.comparison.matching",
    "similarity_matrix": "neurocomplex.comparison.similarity",
    "best_layers": "neurocomplex.comparison.similarity",
    "brain_vs_network": "neurocomplex.comparison.brain_vs_network",
    "cka": "neurocomplex.measures.similarity",
    "rsa": "neurocomplex.measures.rsa",
    "rdm": "neurocomplex.measures.rsa",
    "shape_distance": "neurocomplex.measures.similarity",
    "predictivity": "neurocomplex.measures.predictivity",
    "measure_many": "neurocomplex.batch",
    "measure_stream": "neurocomplex.batch",
    "write_results": "neurocomplex.io.results",
    "write_nwb": "neurocomplex.io.nwb",
    "read_results": "neurocomplex.io.results",
    "summarize_array": "neurocomplex.measures.from_stats",
    "activation_ratio": "neurocomplex.measures.activity",
    "constant_fraction": "neurocomplex.measures.activity",
    "mean_rate": "neurocomplex.measures.activity",
    "population_sparseness": "neurocomplex.measures.activity",
    "unit_entropy": "neurocomplex.measures.entropy",
    "pattern_entropy": "neurocomplex.measures.entropy",
    "multi_information": "neurocomplex.measures.entropy",
    "pattern_entropy_from_blocks": "neurocomplex.measures.entropy",
    "effective_dimension_from_blocks": "neurocomplex.measures.dimension",
    "word_entropy": "neurocomplex.measures.temporal_entropy",
    "entropy_rate": "neurocomplex.measures.temporal_entropy",
    "effective_dimension": "neurocomplex.measures.dimension",
    "participation_ratio": "neurocomplex.measures.dimension",
    "spectrum_exponent": "neurocomplex.measures.spectrum",
    "twonn_dimension": "neurocomplex.measures.twonn",
    "pattern_complexity": "neurocomplex.measures.complexity",
    "complexity_curve": "neurocomplex.measures.complexity",
    "reconstruction_complexity": "neurocomplex.measures.reconstruction",
    "reconstruction_curve": "neurocomplex.measures.reconstruction",
    "layer_complexity": "neurocomplex.measures.reconstruction",
    "laps": "neurocomplex.measures.topology",
    "topological_entropy": "neurocomplex.measures.topology",
    "relu_entropy_bound": "neurocomplex.measures.topology",
    "lipschitz_estimate": "neurocomplex.measures.topology",
    "variability": "neurocomplex.measures.variability",
    "collapse_to_constants": "neurocomplex.measures.variability",
    "fit_power_law": "neurocomplex.measures.dynamics",
    "find_scaling_range": "neurocomplex.measures.dynamics",
}
_SUBPACKAGES = ("torch", "io", "stats", "measures", "plotting")

__all__ = [
    "Recording",
    "Estimate",
    "register_estimator",
    "NeurocomplexError",
    "InvalidParameterError",
    "InvalidDataError",
    "InsufficientDataError",
    "UnsupportedSourceError",
    "MissingDependencyError",
    "MissingFileError",
    "MissingTableError",
    "CorruptFileError",
    "OutputError",
    "MemoryLimitError",
    "NeurocomplexWarning",
    *_LAZY,
    "torch",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value  # later lookups skip __getattr__
        return value
    if name in _SUBPACKAGES:
        return importlib.import_module(f"neurocomplex.{name}")
    raise AttributeError(f"module 'neurocomplex' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
