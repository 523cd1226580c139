"""The ``neurocomplex`` command.

Subcommands live in :data:`_COMMANDS`, one module each (``info.py``, ``analyze.py``, ``demo.py``):
a ``build(parser)`` and a ``run(args) -> exit code``, imported only when that command runs. ``info`` describes a file, ``analyze`` runs estimators on it per brain
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
import importlib
import sys
from collections.abc import Sequence
from typing import Any, NamedTuple

__all__ = ["main"]

_PROG = "neurocomplex"


class _Command(NamedTuple):
    help: str
    module: str  # neurocomplex.cli.<module> defines build(parser) and run(args) -> int


_COMMANDS: dict[str, _Command] = {
    "info": _Command("describe what an NWB file holds and how it would load", "info"),
    "analyze": _Command("run estimators on an NWB file, per brain area, and print/write the table", "analyze"),
    "demo": _Command("analyze the bundled recording and network (no download needed)", "demo"),
    "compare": _Command("compare brain areas with a network's layers (or the areas of several files); "
                        "CSV tables and an HTML report", "compare"),
}


def _module(cmd: _Command) -> Any:
    return importlib.import_module(f"neurocomplex.cli.{cmd.module}")


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
        _module(cmd).build(sub.add_parser(name, help=cmd.help, description=cmd.help))
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
        0 on success; 2 on a usage error, a neurocomplex error, a file-system error or running out
        of memory (one line on stderr, no traceback); 130 when interrupted.
    """
    from neurocomplex.errors import NeurocomplexError

    parser = _parser()
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
    except SystemExit as stop:  # --help, --version and usage errors; keep main() callable from Python
        return int(stop.code or 0) if not isinstance(stop.code, str) else 2
    try:
        return _module(_COMMANDS[args.command]).run(args)
    except NeurocomplexError as err:
        print(f"{_PROG}: error: {err}", file=sys.stderr)
        return 2
    except MemoryError:
        print(f"{_PROG}: error: out of memory; use a larger --bin-size or fewer units/measures.", file=sys.stderr)
        return 2
    except OSError as err:  # the file system refused a read or write (permissions, disk full)
        print(f"{_PROG}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{_PROG}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
