"""Pieces shared by the commands: the default measures, the printed table, CSV output, notes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["DEFAULT_MEASURES", "DEFAULT_N_BOOT", "analyze", "check_out", "non_negative_int",
           "positive_float", "print_notes", "print_table", "write_csv"]

DEFAULT_MEASURES = (
    "activation_ratio",
    "effective_dimension",
    "participation_ratio",
    "pattern_entropy",
    "multi_information",
    "pattern_complexity",
)
DEFAULT_N_BOOT = 100
_TABLE_COLUMNS = ["recording", "group", "measure", "value", "ci_low", "ci_high", "n_samples", "n_units", "method"]


def print_table(table: Any, title: str, columns: Sequence[str] = tuple(_TABLE_COLUMNS), digits: int = 4) -> None:
    """Print ``title`` and the ``columns`` of ``table`` that it has, floats to ``digits`` significant digits."""
    import pandas as pd

    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.max_rows", 500,
                           "display.float_format", f"{{:.{digits}g}}".format):
        print(title)
        print(table[[c for c in columns if c in table.columns]].to_string(index=False))
        print()


def non_negative_int(text: str) -> int:
    """argparse type: an integer >= 0 (a usage error, exit code 2, otherwise)."""
    import argparse

    try:
        value = int(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from err
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative; give 0 (no interval) or more replicates")
    return value


def positive_float(text: str) -> float:
    """argparse type: a finite number > 0."""
    import argparse
    import math

    try:
        value = float(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from err
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text} must be a positive number of seconds")
    return value


def check_out(out: str | None, names: Sequence[str]) -> None:
    """Fail before any computation when ``--out`` cannot receive the CSV files ``names``."""
    if out is None:
        return
    import os
    from pathlib import Path

    from neurocomplex.errors import InvalidParameterError

    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise InvalidParameterError(f"--out {out!r} is a file, not a folder; give a folder for the CSV tables.")
    existing = folder
    while not existing.exists():  # the nearest folder that exists must let us create the rest
        existing = existing.parent
    if not existing.is_dir():
        raise InvalidParameterError(f"--out {out!r}: {str(existing)!r} is a file, so the folder cannot be created.")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise InvalidParameterError(f"--out {out!r}: {str(existing)!r} is not writable; choose another folder.")
    for name in names:
        target = folder / f"{name}.csv"
        if target.exists() and (target.is_dir() or not os.access(target, os.W_OK)):
            raise InvalidParameterError(f"--out {out!r}: {str(target)!r} exists and cannot be overwritten.")


def write_csv(table: Any, out: str | None, name: str) -> None:
    """Write ``OUT/NAME.csv`` atomically (complete or not at all; OutputError with the cause)."""
    if out is None:
        return
    from pathlib import Path

    from neurocomplex._atomic import write_bytes

    path = Path(out) / f"{name}.csv"
    write_bytes(path, table.to_csv(index=False).encode("utf-8"), "CSV table")
    print(f"wrote {path}")


def analyze(recordings: Any, measures: Sequence[str], by: str | None, n_boot: int | None, seed: int) -> Any:
    """The tidy table; caveats stay in its ``warnings`` column and are printed once by :func:`print_notes`.

    One measure at a time: a progress bar over the measures when stderr is a terminal, else one
    line per measure on stderr with its time, and a last line naming the slowest. ``n_boot=None``
    means :data:`DEFAULT_N_BOOT` replicates for every measure that takes them.
    """
    import sys
    import time
    import warnings

    import pandas as pd

    import neurocomplex as nc
    from neurocomplex._progress import progress_bar
    from neurocomplex.comparison.table import _accepted

    names = list(measures)
    for name in names:
        nc.get_estimator(name)  # unknown names fail before any work
    tty = sys.stderr.isatty()
    parts, times = [], {}
    for i, name in enumerate(progress_bar(names, len(names), None if tty else False, "measures", unit="measure")):
        taken, _ = _accepted(name)
        boot = n_boot if n_boot is not None else DEFAULT_N_BOOT
        options = {k: v for k, v in {"n_boot": boot, "seed": seed}.items() if k in taken}
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", nc.NeurocomplexWarning)
            parts.append(nc.measure(recordings, [name], by=by, errors="warn", progress=False, **options))
        times[name] = time.perf_counter() - start
        if not tty:
            print(f"[{i + 1}/{len(names)}] {name}: {times[name]:.1f} s", file=sys.stderr, flush=True)
    total = sum(times.values())
    if len(times) > 1 and total > 1.0:
        slowest = max(times, key=times.__getitem__)
        print(f"{total:.1f} s in all; slowest: {slowest} ({times[slowest]:.1f} s)", file=sys.stderr, flush=True)
    table = pd.concat(parts, ignore_index=True)
    # rows as nc.measure orders them: recording, then group, then measure
    order = {k: i for i, k in enumerate(dict.fromkeys(zip(table.recording, table.group, strict=True)))}
    key = [order[(r, g)] * len(names) + names.index(m) for r, g, m in zip(table.recording, table.group, table.measure, strict=True)]
    return table.iloc[sorted(range(len(table)), key=key.__getitem__)].reset_index(drop=True)


def print_notes(table: Any) -> None:
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
