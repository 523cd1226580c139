"""Allocation checks before work: refuse what would not fit, naming the size and the alternative.

Every estimator or reader that allocates in proportion to its input (an ``n x n`` matrix, one
scatter matrix per bootstrap block, a counts matrix) calls :func:`check_allocation` with the bytes it
is about to allocate, before allocating them. The limit is documented and the same everywhere:
:func:`memory_limit` is the environment variable ``NEUROCOMPLEX_MEMORY_LIMIT`` when set (bytes, or
a number with a unit: ``"8GiB"``, ``"500 MB"``), else 80% of the memory this process may use (the
machine's physical memory, or the container's limit when that is lower).
"""

from __future__ import annotations

import functools
import os
import re

from neurocomplex.errors import InvalidParameterError, MemoryLimitError

__all__ = ["MEMORY_FRACTION", "ENV_VAR", "available_memory", "memory_limit", "format_bytes", "check_allocation"]

# Fraction of the usable memory one allocation may take (the rest: the interpreter, the input, copies).
MEMORY_FRACTION = 0.8
ENV_VAR = "NEUROCOMPLEX_MEMORY_LIMIT"
_UNITS = {"": 1, "b": 1, "k": 10**3, "kb": 10**3, "kib": 2**10, "m": 10**6, "mb": 10**6, "mib": 2**20,
          "g": 10**9, "gb": 10**9, "gib": 2**30, "t": 10**12, "tb": 10**12, "tib": 2**40}
_CGROUP_FILES = ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes")


def available_memory() -> int:
    """Bytes this process may use: physical memory, or the container's (cgroup) limit when lower.

    Returns
    -------
    int

    Examples
    --------
    >>> available_memory() > 0
    True
    """
    return _machine_memory()


@functools.cache
def _machine_memory() -> int:
    # Read once per process: the checks run before every allocation, small ones included.
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        total = 2**40
    for name in _CGROUP_FILES:
        try:
            with open(name) as f:
                text = f.read().strip()
        except OSError:
            continue
        if text.isdigit() and 0 < int(text) < total:
            total = int(text)
    return int(total)


def _parse_bytes(text: str) -> int:
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][0-9]+)?)\s*([A-Za-z]*)\s*", text)
    unit = match.group(2).lower() if match else None
    if match is None or unit not in _UNITS or float(match.group(1)) <= 0:
        raise InvalidParameterError(
            f"{ENV_VAR}={text!r} is not a size; give bytes, or a number with a unit such as '8GiB' or '500MB'."
        )
    return int(float(match.group(1)) * _UNITS[unit])


def memory_limit() -> int:
    """The most bytes one allocation may take: ``NEUROCOMPLEX_MEMORY_LIMIT``, else 80% of :func:`available_memory`.

    Returns
    -------
    int

    Raises
    ------
    InvalidParameterError
        The environment variable is set to something that is not a size.

    Examples
    --------
    >>> import os
    >>> os.environ["NEUROCOMPLEX_MEMORY_LIMIT"] = "2GiB"
    >>> memory_limit()
    2147483648
    >>> del os.environ["NEUROCOMPLEX_MEMORY_LIMIT"]
    """
    text = os.environ.get(ENV_VAR)
    if text is not None and text.strip():
        return _parse_bytes(text)
    return int(MEMORY_FRACTION * available_memory())


def format_bytes(n: float) -> str:
    """``n`` bytes in binary units, e.g. ``'7.28 TiB'``.

    Examples
    --------
    >>> format_bytes(8 * 10**12), format_bytes(512)
    ('7.28 TiB', '512 B')
    """
    n = float(n)
    if n < 1024:
        return f"{int(n)} B"
    for unit in ("KiB", "MiB", "GiB", "TiB", "PiB"):
        n /= 1024
        if n < 1024 or unit == "PiB":
            return f"{n:.3g} {unit}" if n < 100 else f"{n:.0f} {unit}"
    return f"{n:.0f} PiB"  # pragma: no cover


def check_allocation(n_bytes: float, what: str, alternative: str, limit: int | None = None) -> None:
    """Refuse, before allocating, ``n_bytes`` above the memory limit.

    Parameters
    ----------
    n_bytes : float
        Bytes about to be allocated (a Python int or float: sizes beyond int64 are fine).
    what : str
        What the memory is for, e.g. ``"the 200000 x 200000 float64 distance matrix"``.
    alternative : str
        What the user can do instead, e.g. ``"use fewer samples (rec.subsample(n_samples=...))"``.
    limit : int, optional
        Bytes allowed (default :func:`memory_limit`).

    Raises
    ------
    MemoryLimitError
        ``n_bytes`` exceeds the limit; the message gives both sizes, the limit's source and the alternative.

    Notes
    -----
    The limit is the environment variable ``NEUROCOMPLEX_MEMORY_LIMIT`` (bytes or a size with a
    unit) when set, else :data:`MEMORY_FRACTION` (80%) of the memory this process may use.

    Examples
    --------
    >>> check_allocation(8 * 1000, "a small matrix", "nothing")
    >>> check_allocation(8 * 10**12, "the 10^6 x 10^6 covariance", "use fewer units.", limit=2**30)
    Traceback (most recent call last):
    ...
    neurocomplex.errors.MemoryLimitError: the 10^6 x 10^6 covariance needs 7.28 TiB, more than the memory limit of 1 GiB (set by the caller); use fewer units.
    """
    given = limit is not None
    if limit is None:
        limit = memory_limit()
    if not n_bytes <= limit:  # also refuses NaN
        source = ("set by the caller" if given else f"{ENV_VAR}" if os.environ.get(ENV_VAR, "").strip()
                  else f"80% of this machine's {format_bytes(available_memory())}; set {ENV_VAR} to change it")
        raise MemoryLimitError(f"{what} needs {format_bytes(n_bytes)}, more than the memory limit of "
                               f"{format_bytes(limit)} ({source}); {alternative}")
