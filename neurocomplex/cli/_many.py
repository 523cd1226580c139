"""``neurocomplex analyze DIR_OR_GLOB --workers N``: many sessions on dask.distributed (nc.measure_many)."""

from __future__ import annotations

import argparse
import glob
import sys
from pathlib import Path

__all__ = ["add_arguments", "is_many", "run_many"]

_SHOWN = ["session", "group", "measure", "value", "ci_low", "ci_high", "n_samples", "n_units", "method"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options that only apply when FILE is a folder or a glob pattern."""
    parser.add_argument("--workers", type=int, default=None, metavar="N",
                        help="for a folder or glob: dask worker processes of the local cluster "
                             "(default: one per CPU, at most one per file)")
    parser.add_argument("--scheduler", metavar="ADDRESS", default=None,
                        help="for a folder or glob: run on this dask scheduler (e.g. tcp://host:8786) instead of "
                             "starting a local cluster")


def is_many(file: str) -> bool:
    """True when FILE names several sessions: a folder (not an NWB Zarr store) or a glob pattern (not a URL,
    whose query may hold ``?``)."""
    from neurocomplex.io import _zarr
    from neurocomplex.io.remote import is_url

    if is_url(file):
        return False
    return (Path(file).is_dir() and not _zarr.is_zarr_store(Path(file))) or glob.has_magic(file)


def run_many(args: argparse.Namespace) -> int:
    """Measure every session, print the table and the failed sessions; 1 when any session failed."""
    import pandas as pd

    from neurocomplex.batch import measure_many
    from neurocomplex.cli._common import DEFAULT_N_BOOT, check_out, print_notes
    from neurocomplex.errors import InvalidParameterError

    if args.workers is not None and args.workers < 1:
        raise InvalidParameterError(f"--workers must be at least 1, got {args.workers}.")
    if getattr(args, "trials", None) is not None:
        raise InvalidParameterError("--trials applies to one file; run analyze FILE --trials NAME per session.")
    check_out(args.out, ["all_sessions"])
    measures = list(dict.fromkeys(args.measures))
    n_boot = DEFAULT_N_BOOT if args.n_boot is None else args.n_boot  # as for one file
    from neurocomplex.batch._rows import _keywords

    takers = set().union(*(_keywords(m)[0] for m in measures))  # n_boot/seed only where some measure takes them
    common = {k: v for k, v in {"n_boot": n_boot, "seed": args.seed}.items() if k in takers}
    client = None
    if args.scheduler is not None:
        from dask.distributed import Client

        client = Client(args.scheduler)
    try:
        table = measure_many(args.file, measures, by=None if args.by == "none" else "group",
                             bin_size=args.bin_size, client=client, out=args.out, workers=args.workers,
                             series=args.series, t_start=args.t_start, t_stop=args.t_stop,
                             cache=args.cache, **common)
    finally:
        if client is not None:
            client.close()
    ok = table[table.error == ""]
    failed = table[table.error != ""]
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.max_rows", 1000,
                           "display.float_format", "{:.4g}".format):
        print(f"{table.session.nunique()} sessions, {len(failed)} failed")
        if len(ok):
            print(ok[_SHOWN].to_string(index=False))
        print()
    print_notes(ok)
    if args.out is not None:
        from neurocomplex._atomic import write_bytes

        path = Path(args.out) / "all_sessions.csv"
        write_bytes(path, table.to_csv(index=False).encode("utf-8"), "CSV table")
        print(f"wrote {path} (and one CSV per session in {args.out}, with a record of what produced it; a re-run "
              "with the same options reuses those)")
    for row in failed.itertuples():
        print(f"failed: {row.session} ({row.recording}): {row.error}", file=sys.stderr)
    return 1 if len(failed) else 0
