"""The one progress-bar policy: tqdm when asked, or by default only where someone is watching.

"Watching" is a terminal on stderr or a Jupyter kernel (stderr is not a terminal there, yet the
notebook shows ``tqdm.auto``'s widget); scripts piped to files and test runs stay quiet.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

__all__ = ["progress_bar", "watched", "Steps"]


def _in_notebook() -> bool:
    """True inside a Jupyter kernel (an IPython shell that is not the terminal one)."""
    shell_module = sys.modules.get("IPython")
    if shell_module is None or "ipykernel" not in sys.modules:
        return False
    try:
        shell = shell_module.get_ipython()
    except AttributeError:  # pragma: no cover - a partial IPython install
        return False
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def watched() -> bool:
    """Whether a default (``progress=None``) bar would be shown: a terminal or a notebook."""
    return sys.stderr.isatty() or _in_notebook()


def progress_bar(iterable: Iterable[Any], total: int | None, progress: bool | None, desc: str,
                 unit: str = "it", min_total: int = 0) -> Iterable[Any]:
    """Wrap ``iterable`` in a tqdm bar: always with ``progress=True``, never with ``False``; with
    ``None`` only when someone is watching (:func:`watched`) and there are at least ``min_total`` steps.

    ``tqdm.auto`` draws a widget in notebooks and text in terminals.
    """
    if progress is False:
        return iterable
    if progress is None and (not watched() or (total is not None and total < min_total)):
        return iterable
    return _tqdm()(iterable, total=total, desc=desc, unit=unit)


def _tqdm() -> Any:
    """``tqdm.auto``'s bar (a widget in notebooks) where the widgets exist, else the text bar
    (tqdm.auto would warn that IProgress is missing and fall back to it anyway)."""
    if _in_notebook():
        try:
            import ipywidgets  # noqa: F401
        except ImportError:
            from tqdm.std import tqdm

            return tqdm
    from tqdm.auto import tqdm

    return tqdm


class Steps:
    """Progress over the named steps of a long call: a tqdm bar where someone is watching (or with
    ``progress=True``); otherwise, with ``lines=True`` (the command line), one line per step on
    stderr; nothing with ``progress=False``."""

    def __init__(self, total: int, progress: bool | None = None, desc: str = "neurocomplex",
                 lines: bool = False) -> None:
        self.total, self.done = total, 0
        self.lines = lines and progress is not False
        self.bar = None
        if progress is True or (progress is None and watched()):
            self.bar = _tqdm()(total=total, desc=desc, unit="step", file=sys.stderr)

    def __call__(self, text: str) -> None:
        """Start the next step (the previous one is complete)."""
        if self.bar is not None:
            if self.done:
                self.bar.update(1)
            self.bar.set_postfix_str(text)
        elif self.lines:
            print(f"[{self.done + 1}/{self.total}] {text}", file=sys.stderr, flush=True)
        self.done += 1

    def close(self) -> None:
        if self.bar is not None:
            self.bar.update(self.total - self.bar.n)
            self.bar.close()
            self.bar = None
