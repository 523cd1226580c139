"""Putting recordings side by side: tidy measure tables, scaling curves and surrogates.

The package is ``comparison`` (not ``compare``) so that it never shadows the function
:func:`neurocomplex.compare`: importing a submodule binds its name on the parent package.

- :mod:`~neurocomplex.comparison.table`: many recordings x many measures -> one tidy table
  (:func:`measure`), subsampling curves (:func:`scaling_curve`), surrogate data (:func:`surrogate`).
- :mod:`~neurocomplex.comparison.similarity`: every area against every layer
  (:func:`similarity_matrix`) and each area's best layer (:func:`best_layers`).
- :mod:`~neurocomplex.comparison.matching`: matched comparison of measures across recordings of
  different sizes and kinds (:func:`compare`).
"""

from neurocomplex.comparison.matching import compare
from neurocomplex.comparison.similarity import best_layers, similarity_matrix
from neurocomplex.comparison.table import measure, scaling_curve, surrogate

__all__ = ["measure", "scaling_curve", "surrogate", "similarity_matrix", "best_layers", "compare"]
