"""Pieces shared by the commands: the default measures, the printed table, CSV output, notes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["DEFAULT_MEASURES", "analyze", "print_notes", "print_table", "write_csv"]

DEFAULT_MEASURES = (
    "activation_ratio",
    "effective_dimension",
    "participation_ratio",
    "pattern_entropy",
    "multi_information",
    "pattern_complexity",
)
_TABLE_COLUMNS = ["recording", "group", "measure", "value", "ci_low", "ci_high", "n_samples", "n_units", "method"]


def print_table(table: Any, title: str) -> None:
    import pandas as pd

    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.max_rows", 500,
                           "display.float_format", "{:.4g}".format):
        print(title)
        print(table[[c for c in _TABLE_COLUMNS if c in table.columns]].to_string(index=False))
        print()


def write_csv(table: Any, out: str | None, name: str) -> None:
    if out is None:
        return
    from pathlib import Path

    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.csv"
    table.to_csv(path, index=False)
    print(f"wrote {path}")


def analyze(recordings: Any, measures: Sequence[str], by: str | None, n_boot: int, seed: int) -> Any:
    """The tidy table; caveats stay in its ``warnings`` column and are printed once by :func:`print_notes`."""
    import warnings

    import neurocomplex as nc

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nc.NeurocomplexWarning)
        return nc.measure(recordings, list(measures), by=by, n_boot=n_boot, seed=seed, errors="warn", progress=False)


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
