"""Loader for in-memory arrays: numpy arrays and pandas DataFrames (columns are units)."""

from __future__ import annotations

from typing import Any

import numpy as np

from neurocomplex.io._registry import register_loader
from neurocomplex.recording import Recording

__all__ = ["load_array"]


def _accepts(source: Any) -> bool:
    if isinstance(source, np.ndarray):
        return True
    module = type(source).__module__
    return module.startswith("pandas") and type(source).__name__ == "DataFrame"


@register_loader("arrays", _accepts, "numpy array or pandas DataFrame of shape (n_samples, n_units)")
def load_array(source: Any, **options: Any) -> Recording:
    """Wrap an array or DataFrame; options are those of :meth:`Recording.from_array`."""
    return Recording.from_array(source, **options)


load_array.__options_of__ = Recording.from_array  # type: ignore[attr-defined]  # the options nc.load checks
