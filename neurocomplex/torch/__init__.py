"""neurocomplex.torch: networks as sources of Recordings, and observables of training.

Imported on first access of ``nc.torch``: activation capture, streaming summaries of layers, the
training monitor, the training response and fragility. It holds networks only; the device kernels
that estimators run with ``device=`` live in :mod:`neurocomplex._backend`, below the estimators.
Elsewhere torch is imported only inside functions that are handed a torch object or a device
(the topology and variability measures, ``device=``), so ``import neurocomplex`` never imports it.
"""

from __future__ import annotations

import importlib
from typing import Any

from neurocomplex.errors import MissingDependencyError

try:
    import torch as _torch  # noqa: F401
except ImportError as err:  # pragma: no cover - depends on the install
    raise MissingDependencyError(
        "neurocomplex.torch needs PyTorch: pip install 'neurocomplex[torch]' (or torch itself)."
    ) from err

_LAZY = {
    "record": "neurocomplex.torch.capture",
    "summarize": "neurocomplex.torch.streaming",
    "mlp": "neurocomplex.torch.models",
    "load_model": "neurocomplex.torch.models",
    "training_response": "neurocomplex.torch.response",
    "TrainingResponse": "neurocomplex.torch.response",
    "response_over_training": "neurocomplex.torch.response",
    "empirical_ntk": "neurocomplex.torch.response",
    "TrainingMonitor": "neurocomplex.torch.monitor",
    "fragility": "neurocomplex.torch.perturbation",
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'neurocomplex.torch' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
