"""Torch device kernels of the estimators: accumulation, pair products and neighbour search.

The compute backend below :mod:`neurocomplex.measures`: an estimator called with ``device=``
imports the kernel it needs from here inside that call, so ``import neurocomplex`` never imports
torch. Networks as sources of Recordings (capture, streaming summaries, training observables) live
in :mod:`neurocomplex.torch`, which may use these kernels; nothing here imports an estimator.

- :mod:`~neurocomplex._backend.accumulate`: covariance, activity and word counts on a device,
  handed over to the mergeable host statistics of :mod:`neurocomplex.stats`.
- :mod:`~neurocomplex._backend.pair_blocks`: per-block products of two populations (CKA, shape
  distance), the device twin of :mod:`neurocomplex.stats.pair_blocks`.
- :mod:`~neurocomplex._backend.neighbours`: the two-nearest-neighbour search of TwoNN.
"""

from neurocomplex.errors import MissingDependencyError

try:
    import torch as _torch  # noqa: F401
except ImportError as err:  # pragma: no cover - depends on the install
    raise MissingDependencyError(
        "device= needs PyTorch: pip install 'neurocomplex[torch]' (or torch itself)."
    ) from err

__all__: list[str] = []
