"""A self-contained HTML report of a comparison, with its tables written beside it as CSV.

The report is one HTML file with no external assets: figures are embedded as base64 PNG, styles
inline, every piece of text escaped. Each table is also written as ``<name>.csv`` in the same
folder, and every table, CSV and report carries its units (a ``unit`` column for measure tables)
and its provenance (bin size, binarization rule, bootstrap replicates, seed, package version):
the provenance fields are repeated as constant columns of each CSV, so that a CSV read on its own,
or concatenated with others, still says how it was made.

matplotlib and pandas are imported inside the functions.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from neurocomplex.errors import InvalidParameterError

__all__ = ["MEASURE_UNITS", "add_units", "annotate_table", "measure_unit", "make_provenance", "write_report"]

# Unit of each registered measure at its default parameters (entropies: base 2).
MEASURE_UNITS: dict[str, str] = {
    "activation_ratio": "fraction",
    "constant_fraction": "fraction",
    "mean_rate": "per sample",
    "population_sparseness": "dimensionless",
    "unit_entropy": "bits",
    "pattern_entropy": "bits",
    "multi_information": "bits",
    "word_entropy": "bits",
    "entropy_rate": "bits per bin",
    "effective_dimension": "dimensions",
    "participation_ratio": "dimensions",
    "twonn_dimension": "dimensions",
    "spectrum_exponent": "dimensionless",
    "pattern_complexity": "effective number",
    "complexity_curve": "effective number",
    "reconstruction_complexity": "effective number",
    "cka": "dimensionless",
    "rsa": "correlation",
    "shape_distance": "radians",
    "predictivity": "correlation",
}

# For a measure not listed above: the unit its family reports in.
_FAMILY_UNITS = {"entropy": "bits", "dimension": "dimensions", "complexity": "effective number",
                 "activity": "fraction", "similarity": "dimensionless"}

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:2em auto;
max-width:1100px;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.25em;border-bottom:1px solid #ddd;padding-bottom:.2em;
margin-top:1.8em}h3{font-size:1.05em;margin-bottom:.3em}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0 1em}
th,td{border:1px solid #ddd;padding:.25em .55em;text-align:right;white-space:nowrap}
th{background:#f3f3f3}td.text,th.text{text-align:left}td.text{white-space:normal;min-width:6em;max-width:36em}
figure{margin:1em 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.9em;color:#444;margin-top:.3em}
.scroll{overflow-x:auto}.note{font-size:.9em;color:#444}
dl.prov{display:grid;grid-template-columns:max-content auto;gap:.15em 1em;font-size:.9em}
dl.prov dt{font-weight:600}dl.prov dd{margin:0}
"""
_MAX_HTML_ROWS = 300


def measure_unit(measure: str, kind: str | None = None, bin_size: float | None = None) -> str:
    """Unit of a measure's value at default parameters.

    Parameters
    ----------
    measure : str
        A registered measure name.
    kind : str, optional
        The Recording's kind: ``mean_rate`` of binned spike counts is in Hz.
    bin_size : float, optional
        The Recording's bin size in seconds (``mean_rate`` is in Hz only when it is known).

    Returns
    -------
    str
        ``"bits"`` for entropies (base 2, the default), ``"Hz"``, ``"dimensions"``, ...: from
        :data:`MEASURE_UNITS`, else from the estimator's family; ``""`` for a name that is not a
        registered measure.

    Examples
    --------
    >>> measure_unit("pattern_entropy"), measure_unit("mean_rate", "spike_counts", 0.01)
    ('bits', 'Hz')
    """
    if measure == "mean_rate" and kind == "spike_counts" and bin_size:
        return "Hz"
    if measure in MEASURE_UNITS:
        return MEASURE_UNITS[measure]
    from neurocomplex.measures import get_estimator

    try:
        return _FAMILY_UNITS.get(get_estimator(measure).family, "")
    except InvalidParameterError:  # not a registered measure
        return ""


def add_units(table: Any, recordings: Mapping[str, Any] | None = None) -> Any:
    """The table with a ``unit`` column (one per row, from its ``measure`` or ``metric``), unless it has one.

    Parameters
    ----------
    table : pandas.DataFrame
        A tidy table with a ``measure`` column, or a ``metric`` column (similarity tables); tables
        with neither are returned unchanged.
    recordings : mapping of str to Recording, optional
        The recordings by the names in the table's ``recording`` column, whose kind and bin size
        decide the unit of ``mean_rate``.

    Returns
    -------
    pandas.DataFrame
        A new table.

    Examples
    --------
    >>> import pandas as pd
    >>> add_units(pd.DataFrame({"measure": ["pattern_entropy", "cka"]}))["unit"].tolist()
    ['bits', 'dimensionless']
    """
    columns = getattr(table, "columns", ())
    key = "measure" if "measure" in columns else ("metric" if "metric" in columns else None)
    if key is None or "unit" in columns:
        return table
    recordings = recordings or {}
    names = table["recording"] if "recording" in table.columns else [None] * len(table)
    units = []
    for name, m in zip(names, table[key]):
        rec = recordings.get(name)
        units.append(measure_unit(str(m), getattr(rec, "kind", None), getattr(rec, "bin_size", None)))
    return table.assign(unit=units)


def make_provenance(*, bin_size: float | None = None, binarization: str | None = None,
                    n_boot: int | None = None, seed: int | None = None, **extra: Any) -> dict[str, Any]:
    """The provenance fields every output carries, with the package version and the time (UTC).

    Parameters
    ----------
    bin_size : float, optional
        Bin size in seconds (``bin_size_s``); None when there was no binning.
    binarization : str, optional
        The threshold or binarization rule, in words.
    n_boot : int, optional
        Bootstrap replicates of the confidence intervals.
    seed : int, optional
        Seed of every random step.
    **extra
        Further fields (file names, window, trial table, model file, ...), kept in order.

    Returns
    -------
    dict
        ``bin_size_s``, ``binarization``, ``n_boot``, ``seed``, the extra fields,
        ``neurocomplex_version`` and ``created_utc``.

    Examples
    --------
    >>> p = make_provenance(bin_size=0.01, binarization="count > 0", n_boot=100, seed=0)
    >>> list(p)[:4], "neurocomplex_version" in p
    (['bin_size_s', 'binarization', 'n_boot', 'seed'], True)
    """
    from neurocomplex._version import __version__

    out: dict[str, Any] = {"bin_size_s": bin_size, "binarization": binarization, "n_boot": n_boot, "seed": seed}
    out.update(extra)
    out["neurocomplex_version"] = __version__
    out["created_utc"] = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return out


def annotate_table(table: Any, provenance: Mapping[str, Any], recordings: Mapping[str, Any] | None = None,
                   name: str = "table") -> Any:
    """The table as written to CSV: a ``unit`` column (measure tables) and the provenance as columns.

    Parameters
    ----------
    table : pandas.DataFrame
        Any tidy table.
    provenance : mapping
        Fields such as :func:`make_provenance` returns; each becomes a constant column (None as an
        empty string). A column the table already has is kept when it holds that value everywhere.
    recordings : mapping of str to Recording, optional
        Passed to :func:`add_units`.
    name : str
        The table's name, for the error message.

    Returns
    -------
    pandas.DataFrame
        A new table.

    Raises
    ------
    InvalidParameterError
        A provenance field names a column of the table that holds other values.

    Examples
    --------
    >>> import pandas as pd
    >>> t = annotate_table(pd.DataFrame({"measure": ["effective_dimension"], "value": [3.0]}), {"seed": 0})
    >>> t.columns.tolist()
    ['measure', 'value', 'unit', 'seed']
    """
    clash = [k for k in provenance if k in table.columns and not (table[k].astype(str) == str(provenance[k])).all()]
    if clash:
        raise InvalidParameterError(
            f"provenance fields {clash} clash with columns of table {name!r} holding other values; rename them."
        )
    extra = {str(k): "" if v is None else v for k, v in provenance.items() if k not in table.columns}
    return add_units(table, recordings).assign(**extra)


def _csv_name(name: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._")
    if not stem:
        raise InvalidParameterError(f"table name {name!r} gives an empty file name; use letters or digits.")
    return f"{stem}.csv"


def _figure_png(figure: Any) -> bytes:
    if isinstance(figure, (bytes, bytearray)):
        if not bytes(figure[:8]) == b"\x89PNG\r\n\x1a\n":
            raise InvalidParameterError("a figure given as bytes must be a PNG image.")
        return bytes(figure)
    if not hasattr(figure, "savefig"):
        figure = getattr(figure, "figure", None)  # an Axes, or an array of Axes
        if figure is None:
            raise InvalidParameterError("figures must be matplotlib Figures (or Axes, or PNG bytes).")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return buffer.getvalue()


def _format_cell(value: Any) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return f"{value:.4g}"
    return str(value)


def _table_html(table: Any) -> str:
    import pandas as pd

    shown = table.head(_MAX_HTML_ROWS)
    text_cols = {c for c in shown.columns if not pd.api.types.is_numeric_dtype(shown[c])}
    head = "".join(f'<th class="{"text" if c in text_cols else "num"}">{html.escape(str(c))}</th>'
                   for c in shown.columns)
    rows = []
    for values in shown.itertuples(index=False, name=None):
        cells = "".join(f'<td class="{"text" if c in text_cols else "num"}">{html.escape(_format_cell(v))}</td>'
                        for c, v in zip(shown.columns, values))
        rows.append(f"<tr>{cells}</tr>")
    more = ""
    if len(table) > _MAX_HTML_ROWS:
        more = f'<p class="note">First {_MAX_HTML_ROWS} of {len(table)} rows; the CSV holds them all.</p>'
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>{more}'


_MANIFEST = ".neurocomplex_report.json"
# What a report writes: only such names are ever removed as an earlier report's files.
_REPORT_FILE = re.compile(r"(?:[A-Za-z0-9_][A-Za-z0-9_.-]*\.csv|report\.html|provenance\.json)")


def _earlier_files(folder: Path) -> list[str]:
    """Files an earlier report listed in the folder's manifest (names of report files only)."""
    try:
        data = json.loads((folder / _MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    names = data.get("files", []) if isinstance(data, dict) else []
    return [n for n in names if isinstance(n, str) and _REPORT_FILE.fullmatch(n) and (folder / n).is_file()]


def _prepare_folder(folder: Path, ours: Sequence[str], overwrite: bool) -> list[str]:
    """Check the folder before anything is written; return the files an earlier report left there."""
    from neurocomplex._atomic import prepare_target

    if folder.exists() and not folder.is_dir():
        raise InvalidParameterError(f"{str(folder)!r} is a file, not a folder; give a folder for the report.")
    prepare_target(folder / _MANIFEST, "report folder")  # creates the folder, or a named error
    earlier = _earlier_files(folder)
    foreign = sorted(p.name for p in folder.iterdir() if p.name not in {_MANIFEST, *earlier, *ours})
    if foreign and not overwrite:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        raise InvalidParameterError(
            f"{str(folder)!r} holds files that no earlier report wrote ({shown}); write the report into a new or "
            "empty folder, or allow it beside them (overwrite=True, or --overwrite on the command line)."
        )
    return earlier


def _write_manifest(folder: Path, names: Sequence[str]) -> None:
    from neurocomplex._atomic import write_text
    from neurocomplex._version import __version__

    record = {"generator": f"neurocomplex {__version__} write_report", "files": list(names)}
    write_text(folder / _MANIFEST, json.dumps(record, indent=1) + "\n", "report manifest")


def write_report(
    folder: str | Path,
    tables: Mapping[str, Any],
    figures: Mapping[str, Any],
    provenance: Mapping[str, Any],
    title: str = "neurocomplex report",
    notes: Sequence[str] = (),
    recordings: Mapping[str, Any] | None = None,
    overwrite: bool = True,
) -> Path:
    """Write ``report.html``, one CSV per table and ``provenance.json`` into ``folder``.

    Parameters
    ----------
    folder : str or Path
        Output folder (created if needed). The files an earlier report wrote there (listed in its
        manifest, ``.neurocomplex_report.json``) are replaced or removed, so the folder holds this
        report's files only, and no CSV of an earlier run lies beside it.
    tables : mapping of str to pandas.DataFrame
        Name → table. Each is written as ``<name>.csv`` (the name reduced to letters, digits, ``_``,
        ``.`` and ``-``) with a ``unit`` column added to measure tables (see :func:`add_units`) and
        the provenance fields as constant columns, and shown in the report (up to 300 rows) with a
        link to its CSV.
    figures : mapping of str to matplotlib Figure, Axes or PNG bytes
        Caption → figure, embedded as base64 PNG in that order.
    provenance : mapping
        Fields such as :func:`make_provenance` returns, listed at the top of the report and in
        every CSV.
    title : str
        The report's title.
    notes : sequence of str
        Paragraphs shown under the title (what was compared, what can and cannot be concluded).
    recordings : mapping of str to Recording, optional
        Passed to :func:`add_units`.
    overwrite : bool
        What to do when ``folder`` holds files that no earlier report wrote (the user's own, or
        a report of a version without manifest): True (default) writes the report beside them
        and leaves them alone; False refuses before writing anything (the command line's
        ``compare --out`` without ``--overwrite``).

    Returns
    -------
    pathlib.Path
        The path of ``report.html``.

    Raises
    ------
    InvalidParameterError
        No table and no figure, a table that is not a DataFrame, a provenance key naming a table
        column that holds other values, two tables with the same file name, a figure that is not a
        Figure, Axes or PNG, ``folder`` is a file, or (``overwrite=False``) ``folder`` holds files
        that no earlier report wrote.
    OutputError
        A file cannot be written (no space, read-only, permission): the files written so far are
        complete, none is partial, and the manifest still lists them for the next run.

    Notes
    -----
    Every file is written atomically (a temporary file, synced, renamed into place). The
    manifest is written first with the files of both reports, so that a run stopped midway still
    lets the next one remove what either wrote, then again with this report's files.

    All text (title, notes, captions, table names and cells, provenance) is HTML-escaped, so names
    taken from files (units, areas, layers) cannot inject markup. The file needs no network: it
    opens the same offline.

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> t = pd.DataFrame({"group": ["CA1"], "measure": ["pattern_entropy"], "value": [3.2]})
    >>> path = write_report(tempfile.mkdtemp(), {"measures": t}, {}, make_provenance(seed=0))
    >>> sorted(p.name for p in path.parent.iterdir())
    ['.neurocomplex_report.json', 'measures.csv', 'provenance.json', 'report.html']
    >>> row = pd.read_csv(path.parent / "measures.csv").iloc[0]
    >>> row["unit"], int(row["seed"])
    ('bits', 0)
    """
    import pandas as pd

    from neurocomplex._atomic import write_bytes, write_text

    if not tables and not figures:
        raise InvalidParameterError("write_report needs at least one table or figure.")
    if isinstance(folder, bytes) or not isinstance(folder, (str, os.PathLike)):
        raise InvalidParameterError(f"folder must be a folder path, got {type(folder).__name__}.")
    folder = Path(folder)
    prov = {str(k): v for k, v in provenance.items()}
    files: dict[str, str] = {}
    prepared, annotated_tables = {}, {}
    for name, table in tables.items():
        if not isinstance(table, pd.DataFrame):
            raise InvalidParameterError(f"table {name!r} must be a pandas DataFrame, got {type(table).__name__}.")
        annotated = annotate_table(table, prov, recordings, str(name))  # checks clashes before any file is written
        csv = _csv_name(str(name))
        other = next((k for k, v in files.items() if v == csv), None)
        if other is not None:
            raise InvalidParameterError(f"tables {other!r} and {name!r} both map to the same file {csv}; rename one.")
        files[name] = csv
        prepared[name] = add_units(table, recordings)
        annotated_tables[name] = annotated
    images = {str(caption): base64.b64encode(_figure_png(fig)).decode("ascii") for caption, fig in figures.items()}
    if not isinstance(overwrite, bool):
        raise InvalidParameterError(f"overwrite must be True or False, got {overwrite!r}.")

    ours = [*files.values(), "report.html", "provenance.json"]
    earlier = _prepare_folder(folder, ours, overwrite)
    _write_manifest(folder, sorted(set(earlier) | set(ours)))
    for stale in sorted(set(earlier) - set(ours)):  # an earlier report's tables that this one does not have
        try:
            (folder / stale).unlink()
        except FileNotFoundError:
            pass
        except OSError as err:
            from neurocomplex._atomic import output_error

            raise output_error(folder / stale, err, "earlier report file (removing)") from err
    for name, table in annotated_tables.items():
        write_bytes(folder / files[name], table.to_csv(index=False).encode("utf-8"), "CSV table")

    esc = html.escape
    parts = [f"<h1>{esc(title)}</h1>"]
    parts += [f"<p>{esc(str(n))}</p>" for n in notes]
    # a field that does not apply (no binning for trial counts, ...) says so instead of staying blank
    prov_items = "".join(f"<dt>{esc(k)}</dt><dd>{esc('none' if v is None else str(v))}</dd>" for k, v in prov.items())
    parts.append(f'<h2>Provenance</h2><dl class="prov">{prov_items}</dl>')
    units_used = sorted({u for t in prepared.values() if "unit" in t.columns for u in t["unit"].astype(str) if u})
    if units_used:
        parts.append(f'<p class="note">Units in these tables: {esc(", ".join(units_used))}. '
                     "Entropies are in bits (logarithm base 2); mean rates of binned spike counts in Hz.</p>")
    if images:
        parts.append("<h2>Figures</h2>")
        for caption, data in images.items():
            parts.append(f'<figure><img src="data:image/png;base64,{data}" alt="{esc(caption, quote=True)}">'
                         f"<figcaption>{esc(caption)}</figcaption></figure>")
    if prepared:
        parts.append("<h2>Tables</h2>")
        for name, table in prepared.items():
            parts.append(f'<h3>{esc(str(name))} <a href="{esc(files[name], quote=True)}">'
                         f"({esc(files[name])})</a></h3>{_table_html(table)}")
    document = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                f"<meta name=\"generator\" content=\"neurocomplex {esc(str(prov.get('neurocomplex_version', '')))}\">"
                f"<title>{esc(title)}</title><style>{_CSS}</style></head><body>\n"
                + "\n".join(parts) + "\n</body></html>\n")
    path = folder / "report.html"
    write_text(path, document, "HTML report")
    write_text(folder / "provenance.json", json.dumps(prov, indent=2, default=str) + "\n", "provenance (JSON)")
    _write_manifest(folder, sorted(ours))
    return path
