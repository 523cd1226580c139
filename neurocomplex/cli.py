"""The ``neurocomplex`` command.

Subcommands live in :data:`_COMMANDS`: each is one parser builder plus one function that runs it
and returns an exit code, so adding a command (``analyze``, ``demo``) is one entry. Errors of
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


_COMMANDS: dict[str, _Command] = {
    "info": _Command("describe what an NWB file holds and how it would load", _build_info, _run_info),
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
