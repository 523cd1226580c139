"""``neurocomplex analyze FILE``: the measure table of an NWB file, per brain area."""

from __future__ import annotations

import argparse

from neurocomplex.cli import _many
from neurocomplex.cli._common import (
    DEFAULT_MEASURES,
    DEFAULT_N_BOOT,
    analyze,
    check_out,
    non_negative_int,
    positive_float,
    print_notes,
    print_table,
    write_csv,
)

__all__ = ["build", "run"]


def build(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE",
                        help="an NWB file (.nwb), an NWB Zarr store, the http(s) URL of an NWB file (read lazily; a "
                             "DANDI asset: https://api.dandiarchive.org/api/assets/<asset_id>/download/), or a folder "
                             "or glob pattern of NWB files (streamed on dask)")
    parser.add_argument("--bin-size", type=positive_float, default=0.01, metavar="SECONDS",
                        help="bin width for spike counts (default: 0.01)")
    parser.add_argument("--t-start", type=float, default=None, metavar="SECONDS",
                        help="start of the window (default: the bin of the first spike)")
    parser.add_argument("--t-stop", type=float, default=None, metavar="SECONDS",
                        help="end of the window (default: the end of the session as the file records it: the latest "
                             "trial or interval stop, observation interval or series time, or the last spike)")
    parser.add_argument("--cache", default=None, metavar="FOLDER",
                        help="for a URL: keep the fetched parts of the file in FOLDER, so that later runs fetch "
                             "nothing again")
    parser.add_argument("--series", metavar="PATH", default=None,
                        help="load this TimeSeries / RoiResponseSeries instead of the Units table")
    parser.add_argument("--by", choices=("group", "none"), default="group",
                        help="one row per group of units (brain area) and one for all units (default), or all only")
    parser.add_argument("--measures", nargs="+", metavar="NAME", default=list(DEFAULT_MEASURES),
                        help=f"registered estimators to run (default: {' '.join(DEFAULT_MEASURES)})")
    parser.add_argument("--n-boot", type=non_negative_int, default=None, metavar="N",
                        help=f"bootstrap replicates for confidence intervals of every measure "
                             f"(0: none; default: {DEFAULT_N_BOOT})")
    parser.add_argument("--seed", type=int, default=0, help="seed of the bootstrap (default: 0)")
    parser.add_argument("--out", metavar="DIR", default=None, help="write the table as CSV into this folder")
    _many.add_arguments(parser)
    parser.add_argument("--trials", metavar="NAME", default=None,
                        help="analyze trial responses instead of bins: one sample per trial of this interval table "
                             "(e.g. trials, epochs), the spike count in --window")
    parser.add_argument("--window", nargs=2, type=float, metavar=("START", "STOP"), default=None,
                        help="response window in seconds relative to each trial's start (with --trials; "
                             "default: 0 0.5)")


def run(args: argparse.Namespace) -> int:
    if _many.is_many(args.file):
        return _many.run_many(args)
    import neurocomplex as nc
    from neurocomplex.batch._tables import _session_name, recording_names

    name = _session_name(args.file)  # a URL's last path component (a DANDI asset's id), without .nwb
    check_out(args.out, [f"{name}_measures"])
    if args.window is not None and args.trials is None:
        raise nc.InvalidParameterError("--window needs --trials NAME (the trials the window is relative to).")
    span = {k: v for k, v in (("t_start", args.t_start), ("t_stop", args.t_stop)) if v is not None}
    rec = nc.load(args.file, bin_size=args.bin_size, series=args.series, cache=args.cache, **span)
    if args.trials is not None:
        window = (0.0, 0.5) if args.window is None else (args.window[0], args.window[1])
        rec = rec.trial_responses(args.trials, window=window, statistic="count")
    table = analyze({name: rec}, args.measures, None if args.by == "none" else "group", args.n_boot, args.seed)
    print_table(table, f"{rec}")
    print_notes(table)
    if args.out is not None:
        from neurocomplex.report import annotate_table, make_provenance

        window_s = None if args.trials is None else f"{window[0]:g} to {window[1]:g}"
        prov = make_provenance(
            bin_size=None if args.trials is not None else args.bin_size, seed=args.seed,
            n_boot=args.n_boot if args.n_boot is not None else DEFAULT_N_BOOT,
            binarization="each estimator's default: value > 0 (a spike in the bin or trial window)",
            file=recording_names([args.file])[0], trials=args.trials, window_s=window_s,
            response="spike count per trial window" if args.trials is not None else "per bin")
        table = annotate_table(table, prov, {name: rec})
    write_csv(table, args.out, f"{name}_measures")
    return 0
