"""The ``neurocomplex`` command.

Subcommands live in :data:`_COMMANDS`: each is one parser builder plus one function that runs it
and returns an exit code. ``info`` describes a file, ``analyze`` runs estimators on it per brain
area, ``demo`` analyzes the bundled recording and network. Errors of
neurocomplex are printed as ``neurocomplex: error: <message>`` with exit code 2, no traceback.
Heavy modules (pynwb, h5py) are imported only when a command needs them.

Examples
--------
>>> main(["--version"])  # doctest: +ELLIPSIS
neurocomplex ...
0
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

__all__ = ["main"]

_PROG = "neurocomplex"


class _Command(NamedTuple):
    help: str
    build: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


# --------------------------------------------------------------------------- info
def _build_info(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="an NWB file (.nwb)")
    parser.add_argument("--bin-size", type=float, default=0.01, metavar="SECONDS",
                        help="bin width used to say how the file would load (default: 0.01)")


def _fmt_time(value: float | None) -> str:
    return "-" if value is None else f"{value:.6g} s"


def _format_info(info: dict[str, Any]) -> str:
    """Readable text of :func:`neurocomplex.io.nwb.describe`'s dictionary."""
    lines = [f"file: {info['path']}"]
    meta = info.get("file") or {}
    for key in ("session_description", "identifier", "session_start_time", "nwb_version"):
        if meta.get(key):
            lines.append(f"  {key}: {meta[key]}")
    units = info.get("units")
    if units is None:
        lines.append("units: none (no Units table)")
    else:
        t0, t1 = units["t_first"], units["t_last"]
        duration = None if t0 is None else t1 - t0
        lines.append(f"units: {units['n_units']} units, {units['n_spikes']} spikes")
        lines.append(f"  spikes from {_fmt_time(t0)} to {_fmt_time(t1)} (duration {_fmt_time(duration)})")
        groups = ", ".join(f"{k}: {v}" for k, v in units["groups"].items())
        lines.append(f"  groups ({units['group_source']}): {groups}")
    intervals = info.get("intervals") or {}
    lines.append(f"interval tables: {len(intervals) or 'none'}")
    for name, table in intervals.items():
        lines.append(f"  {name}: {table['n_rows']} rows; columns: {', '.join(table['columns'])}")
    series = info.get("series") or {}
    lines.append(f"time series: {len(series) or 'none'}")
    for path, s in series.items():
        timing = (f"rate {s['rate']:g} Hz" if "rate" in s else f"{s['n_timestamps']} timestamps")
        span = f"{_fmt_time(s.get('t_first'))} to {_fmt_time(s.get('t_last'))}"
        shape = "x".join(str(n) for n in s["shape"])
        lines.append(f"  {path} ({s['neurodata_type'] or 'series'}): shape {shape} {s['dtype']}, {timing}, {span}")
    lines.append(f"load: {info['load']}")
    return "\n".join(lines)


def _run_info(args: argparse.Namespace) -> int:
    from neurocomplex.io.nwb import describe

    print(_format_info(describe(args.file, bin_size=args.bin_size)))
    return 0


# --------------------------------------------------------------------------- analyze
DEFAULT_MEASURES = (
    "activation_ratio",
    "effective_dimension",
    "participation_ratio",
    "pattern_entropy",
    "multi_information",
    "pattern_complexity",
)
_TABLE_COLUMNS = ["recording", "group", "measure", "value", "ci_low", "ci_high", "n_samples", "n_units", "method"]


def _build_analyze(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="an NWB file (.nwb)")
    parser.add_argument("--bin-size", type=float, default=0.01, metavar="SECONDS",
                        help="bin width for spike counts (default: 0.01)")
    parser.add_argument("--series", metavar="PATH", default=None,
                        help="load this TimeSeries / RoiResponseSeries instead of the Units table")
    parser.add_argument("--by", choices=("group", "none"), default="group",
                        help="one row per group of units (brain area) and one for all units (default), or all only")
    parser.add_argument("--measures", nargs="+", metavar="NAME", default=list(DEFAULT_MEASURES),
                        help=f"registered estimators to run (default: {' '.join(DEFAULT_MEASURES)})")
    parser.add_argument("--n-boot", type=int, default=100, metavar="N",
                        help="bootstrap replicates for confidence intervals (0: none; default: 100)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the bootstrap (default: 0)")
    parser.add_argument("--out", metavar="DIR", default=None, help="write the table as CSV into this folder")


def _print_table(table: Any, title: str) -> None:
    import pandas as pd

    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.max_rows", 500,
                           "display.float_format", "{:.4g}".format):
        print(title)
        print(table[[c for c in _TABLE_COLUMNS if c in table.columns]].to_string(index=False))
        print()


def _write_csv(table: Any, out: str | None, name: str) -> None:
    if out is None:
        return
    from pathlib import Path

    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.csv"
    table.to_csv(path, index=False)
    print(f"wrote {path}")


def _analyze(recordings: Any, measures: Sequence[str], by: str | None, n_boot: int, seed: int) -> Any:
    """The tidy table; caveats stay in its ``warnings`` column and are printed once by :func:`_print_notes`."""
    import warnings

    import neurocomplex as nc

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nc.NeurocomplexWarning)
        return nc.measure(recordings, list(measures), by=by, n_boot=n_boot, seed=seed, errors="warn", progress=False)


def _print_notes(table: Any) -> None:
    notes: dict[str, list[str]] = {}
    for row in table.itertuples():
        for note in filter(None, str(row.warnings).split(" | ")):
            notes.setdefault(note, []).append(f"{row.group}/{row.measure}")
    if not notes:
        return
    print("Notes:")
    for i, (note, where) in enumerate(notes.items(), 1):
        shown = ", ".join(where[:4]) + (f" and {len(where) - 4} more" if len(where) > 4 else "")
        print(f"  [{i}] {shown}: {note}")
    print("  Intervals are bootstrap intervals; for biased estimates they are bias-corrected ('basic') and can")
    print("  exclude the point estimate.")
    print()


def _run_analyze(args: argparse.Namespace) -> int:
    from pathlib import Path

    import neurocomplex as nc

    rec = nc.load(args.file, bin_size=args.bin_size, series=args.series)
    name = Path(args.file).stem
    table = _analyze({name: rec}, args.measures, None if args.by == "none" else "group", args.n_boot, args.seed)
    _print_table(table, f"{rec}")
    _print_notes(table)
    _write_csv(table, args.out, f"{name}_measures")
    return 0


# --------------------------------------------------------------------------- demo
def _build_demo(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", metavar="DIR", default=None, help="write the tables as CSV into this folder")
    parser.add_argument("--n-boot", type=int, default=50, metavar="N",
                        help="bootstrap replicates for confidence intervals (default: 50)")


def _run_demo(args: argparse.Namespace) -> int:
    import json

    import neurocomplex as nc
    from neurocomplex._bundled import bundled_path

    path = bundled_path("demo_recording.nwb")
    # 0.5 s bins: long enough that the latent rate fluctuations, not Poisson counting noise,
    # dominate the covariance (at 0.1 s the noise adds ~20 dimensions to both areas)
    rec = nc.load(path, bin_size=0.5)
    table = _analyze({"demo_recording": rec}, DEFAULT_MEASURES, "group", args.n_boot, 0)
    _print_table(table, f"Bundled recording: {rec}")
    _print_notes(table)
    truth = json.loads(bundled_path("demo_recording_truth.json").read_text())
    print("Known answer (from the generator, data/make_demo_recording.py):")
    for area, info in truth["areas"].items():
        print(f"  {area}: {info['n_latents']} latent variables; effective dimension of its firing rates "
              f"{info['rate_effective_dimension']['fine']['exp_entropy']:.3g}")
    print("  Spike counts add Poisson noise in every direction, so their effective dimension is larger than")
    print("  that of the rates; the ordering of the areas is what the counts must (and do) preserve.")
    print()
    _write_csv(table, args.out, "demo_recording_measures")

    try:
        from neurocomplex.torch.models import load_demo_network, load_demo_probe
    except ImportError as err:  # torch is an optional extra
        print(f"(bundled network skipped: {err})")
        return 0
    model = load_demo_network()
    probes, _ = load_demo_probe()
    layers = nc.torch.record(model, probes, progress=False)
    net_table = _analyze(layers, DEFAULT_MEASURES, None, args.n_boot, 0)
    _print_table(net_table, f"Bundled network (a ReLU MLP on 8x8 digits), {len(probes)} probe inputs, per layer:")
    _print_notes(net_table)
    _write_csv(net_table, args.out, "demo_network_measures")
    return 0


_COMMANDS: dict[str, _Command] = {
    "info": _Command("describe what an NWB file holds and how it would load", _build_info, _run_info),
    "analyze": _Command("run estimators on an NWB file, per brain area, and print/write the table",
                        _build_analyze, _run_analyze),
    "demo": _Command("analyze the bundled recording and network (no download needed)", _build_demo, _run_demo),
}


# --------------------------------------------------------------------------- entry point
def _parser() -> argparse.ArgumentParser:
    from neurocomplex import __version__

    parser = argparse.ArgumentParser(
        prog=_PROG,
        description="Entropy, dimension and complexity of neural populations, biological and artificial.",
    )
    parser.add_argument("--version", action="version", version=f"{_PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, cmd in _COMMANDS.items():
        cmd.build(sub.add_parser(name, help=cmd.help, description=cmd.help))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``neurocomplex`` command line; returns the exit code.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 2 on a usage error or a neurocomplex error (printed to stderr).
    """
    from neurocomplex.errors import NeurocomplexError

    parser = _parser()
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
    except SystemExit as stop:  # --help, --version and usage errors; keep main() callable from Python
        return int(stop.code or 0) if not isinstance(stop.code, str) else 2
    try:
        return _COMMANDS[args.command].run(args)
    except NeurocomplexError as err:
        print(f"{_PROG}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
