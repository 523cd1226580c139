"""Estimators, one module per family of MEASURES: activity, entropy (and temporal_entropy),
dimension (with spectrum and twonn), complexity (pattern) and reconstruction, topology,
variability, dynamics; for pairs similarity (CKA, shape distance), rsa and predictivity. Their public functions are re-exported as
``nc.<name>`` and registered for ``nc.measure``.

:func:`get_estimator` and :func:`list_estimators` look estimators up, importing every estimator
module of this package on first use (so ``import neurocomplex`` stays fast); the registry itself
is :func:`neurocomplex.estimate.register_estimator`, below these modules.
"""

from __future__ import annotations

import importlib

from neurocomplex.errors import InvalidParameterError
from neurocomplex.estimate import EstimatorSpec, registered_estimators

__all__ = ["get_estimator", "list_estimators"]

# Modules whose import registers the estimators.
_ESTIMATOR_MODULES = (
    "neurocomplex.measures.activity",
    "neurocomplex.measures.entropy",
    "neurocomplex.measures.temporal_entropy",
    "neurocomplex.measures.dimension",
    "neurocomplex.measures.spectrum",
    "neurocomplex.measures.twonn",
    "neurocomplex.measures.complexity",
    "neurocomplex.measures.reconstruction",
    "neurocomplex.measures.topology",
    "neurocomplex.measures.variability",
    "neurocomplex.measures.dynamics",
    "neurocomplex.measures.similarity",
    "neurocomplex.measures.rsa",
    "neurocomplex.measures.predictivity",
)


def _load_all() -> None:
    for mod in _ESTIMATOR_MODULES:
        importlib.import_module(mod)


def get_estimator(name: str) -> EstimatorSpec:
    """The registered estimator called ``name``.

    Raises
    ------
    InvalidParameterError
        No estimator has that name (the message lists those that exist).

    Examples
    --------
    >>> get_estimator("participation_ratio").family
    'dimension'
    """
    registry = registered_estimators()
    if name not in registry:
        _load_all()
    try:
        return registry[name]
    except KeyError as err:
        raise InvalidParameterError(
            f"no estimator called {name!r}; registered: {sorted(registry)}."
        ) from err


def list_estimators(input: str | None = "recording") -> list[str]:
    """Names of the registered estimators (those taking ``input``; all with ``input=None``)."""
    _load_all()
    return sorted(k for k, s in registered_estimators().items() if input is None or s.input == input)
