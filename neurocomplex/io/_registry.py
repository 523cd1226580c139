"""The registry of loaders: each backend module of :mod:`neurocomplex.io` registers itself here.

Backends import this module, never the package's ``__init__``, which imports them in turn (so the
imports run one way).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

__all__ = ["register_loader"]


@dataclasses.dataclass(frozen=True)
class _Loader:
    name: str
    accepts: Callable[[Any], bool]
    load: Callable[..., Any]
    description: str


_LOADERS: dict[str, _Loader] = {}


def register_loader(name: str, accepts: Callable[[Any], bool], description: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: register ``func(source, **options) -> Recording`` for sources ``accepts`` says yes to.

    ``accepts`` must be cheap and must not import optional dependencies (inspect types by name).
    """

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        _LOADERS[name] = _Loader(name, accepts, func, description)
        return func

    return decorate
