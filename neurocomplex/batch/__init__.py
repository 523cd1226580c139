"""Many sessions: the measure table of every NWB file of a study, streamed, on dask.distributed.

:func:`measure_stream` measures one file by streaming it (:mod:`neurocomplex.io.stream`): only
the statistics the estimators need, their intervals included, and one window are ever in memory,
and each row equals ``nc.measure(nc.load(path), ...)``'s, interval included. :func:`measure_many`
does this for many files at once, one dask.distributed task per file (and per range of blocks
for long files, whose statistics are then merged), on a LocalCluster it starts or on any Client
given, and returns one tidy table with a ``session`` and an ``error`` column, the unit of each
value and the provenance of each row. A file that fails becomes a row naming its error; the
others finish. With ``out=``, finished sessions are stored with a record of what produced them
and reused only for exactly the same request (:mod:`neurocomplex.batch._cache`).

Files may be http(s) URLs (read lazily, :mod:`neurocomplex.io.remote`).

Modules: ``_intervals`` (streamed rows with the in-memory intervals), ``_rows`` (parameters, and
the rows of a session), ``_tables`` (columns, names, provenance), ``_cache`` (stored sessions),
``_stream`` (one session), ``_many`` (many sessions on dask).
"""

from __future__ import annotations

from neurocomplex.batch._many import measure_many
from neurocomplex.batch._rows import STREAMED
from neurocomplex.batch._stream import measure_stream
from neurocomplex.batch._tables import COLUMNS, PROVENANCE_COLUMNS, expand_paths

__all__ = ["STREAMED", "COLUMNS", "PROVENANCE_COLUMNS", "measure_stream", "measure_many", "expand_paths"]
