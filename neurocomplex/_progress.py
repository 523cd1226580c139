"""The one progress-bar policy: tqdm when asked, or by default only in a terminal on long work."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

__all__ = ["progress_bar"]


def progress_bar(iterable: Iterable[Any], total: int | None, progress: bool | None, desc: str,
                 unit: str = "it", min_total: int = 0) -> Iterable[Any]:
    """Wrap ``iterable`` in a tqdm bar: always with ``progress=True``, never with ``False``; with
    ``None`` only when stderr is a terminal and there are at least ``min_total`` steps."""
    if progress is False:
        return iterable
    if progress is None and (not sys.stderr.isatty() or (total is not None and total < min_total)):
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, unit=unit)
