"""Errors and warnings raised by neurocomplex.

Every error is a :class:`NeurocomplexError`; the subclasses that describe bad
values also derive from :class:`ValueError` (or :class:`ImportError`) so code
that catches the builtin classes keeps working. Messages say what was wrong,
where (file, unit id, parameter) and what to do.
"""

from __future__ import annotations

__all__ = [
    "NeurocomplexError",
    "InvalidParameterError",
    "InvalidDataError",
    "InsufficientDataError",
    "UnsupportedSourceError",
    "MissingDependencyError",
    "CorruptFileError",
    "MissingFileError",
    "MissingTableError",
    "OutputError",
    "MemoryLimitError",
    "NeurocomplexWarning",
]


class NeurocomplexError(Exception):
    """Base class of every error raised by neurocomplex."""


class InvalidParameterError(NeurocomplexError, ValueError):
    """A parameter has a value the function cannot use (wrong type, range or shape)."""


class InvalidDataError(NeurocomplexError, ValueError):
    """Data are malformed: NaN or inf, wrong dimensionality, unsorted spike times, ..."""


class InsufficientDataError(NeurocomplexError, ValueError):
    """Data are well formed but too few (samples, units, variance) for the requested estimate."""


class UnsupportedSourceError(NeurocomplexError, TypeError):
    """`nc.load` was handed something no loader understands; the message lists what is supported."""


class MissingDependencyError(NeurocomplexError, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""


class CorruptFileError(NeurocomplexError, OSError):
    """A file is missing, truncated, or not in the format its name or content claims."""


class MissingFileError(NeurocomplexError, FileNotFoundError):
    """A path handed to a loader does not exist."""


class MissingTableError(NeurocomplexError, KeyError):
    """A file lacks the requested table or series; the message lists what it does contain."""

    def __str__(self) -> str:  # KeyError would otherwise repr() the message
        return str(self.args[0]) if self.args else ""


class OutputError(NeurocomplexError, OSError):
    """A file could not be written (no space left, read-only file system, permission denied, a
    path through a regular file); the message names the path and the cause. The earlier file, if
    any, is unchanged, and no partial file is left under the target's name."""


class MemoryLimitError(InvalidParameterError, MemoryError):
    """A computation would allocate more memory than the documented limit; refused before any
    allocation. The message gives the size and what to change (bin size, window, units, another
    route). Also a :class:`MemoryError`, so code that catches that keeps working."""


class NeurocomplexWarning(UserWarning):
    """Something was computed, but the user should know a caveat (bias, removed duplicates, ...)."""
