"""Threads of the toolkit's own parallel loops: the compiled pair searches and merges of the
complexity measures (numba kernels that release the GIL and call no BLAS), and the shape
distance's per-replicate decompositions (LAPACK, with BLAS held to one thread meanwhile).

:func:`max_threads` is the environment variable ``NEUROCOMPLEX_NUM_THREADS`` when set (a positive
integer), else the processors this process may run on, at most 8. The work is cut into fixed
parts whose results are put together in order, so no result depends on the number of threads.
Elsewhere BLAS keeps its own thread setting (``threadpoolctl``, ``OPENBLAS_NUM_THREADS``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from neurocomplex.errors import InvalidParameterError

__all__ = ["ENV_VAR", "max_threads", "map_in_threads", "blas_on_one_thread"]

ENV_VAR = "NEUROCOMPLEX_NUM_THREADS"
_DEFAULT_MAX = 8


def max_threads() -> int:
    """``NEUROCOMPLEX_NUM_THREADS`` when set, else the processors available (at most 8).

    Examples
    --------
    >>> import os
    >>> os.environ["NEUROCOMPLEX_NUM_THREADS"] = "1"
    >>> max_threads()
    1
    >>> del os.environ["NEUROCOMPLEX_NUM_THREADS"]
    """
    given = os.environ.get(ENV_VAR, "").strip()
    if given:
        try:
            n = int(given)
        except ValueError:
            n = 0
        if n < 1:
            raise InvalidParameterError(f"{ENV_VAR}={given!r}: expected a positive integer (threads).")
        return n
    try:
        available = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        available = os.cpu_count() or 1
    return max(1, min(available, _DEFAULT_MAX))


def map_in_threads(func: Callable[[Any], Any], items: Iterable[Any], n_threads: int) -> list[Any]:
    """``[func(item) for item in items]``, on ``n_threads`` threads when more than one: for compiled
    work that releases the GIL, or LAPACK calls inside :func:`blas_on_one_thread` (with BLAS on its
    own threads as well, the threads contend: per-replicate decompositions of the shape distance
    were measured 15-27% slower than one at a time)."""
    items = list(items)
    if n_threads <= 1 or len(items) <= 1:
        return [func(item) for item in items]
    with ThreadPoolExecutor(min(n_threads, len(items))) as pool:
        return list(pool.map(func, items))


@contextmanager
def blas_on_one_thread() -> Iterator[None]:
    """BLAS (and so LAPACK) limited to one thread within the block, process-wide (threadpoolctl).

    Many independent decompositions of a few hundred rows gain little from BLAS threads (an SVD of
    512 × 512 with its vectors: 118 ms on 2 threads, 127 ms on 1) but almost their number from
    one decomposition per thread (61 ms each, two at a time on 2 processors). Whatever the number
    of threads, each decomposition then runs the same single-threaded code, so its rounding does
    not depend on it.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield
