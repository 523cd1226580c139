"""Estimators, one module per family of MEASURES: activity, entropy (and temporal_entropy),
dimension, complexity, topology, variability, dynamics. Their public functions are re-exported
as ``nc.<name>`` and registered for ``nc.measure``."""

__all__: list[str] = []
