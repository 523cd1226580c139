"""``neurocomplex compare``: brain areas against a network's layers, or the areas of several files.

Two forms::

    neurocomplex compare FILE.nwb --trials NAME --window START STOP \\
        --model WEIGHTS.pt [--architecture FILE.py:FUNCTION | --widths 64 64 32 10] \\
        --stimuli STIMULI.npy|DIR --out DIR
    neurocomplex compare A.nwb B.nwb [--trials NAME --window START STOP] --out DIR

The first takes each brain area's responses in a window of every trial (``trial_responses``) and
the activations of every layer of the network to the stimulus shown in that trial (the trial
table's stimulus column indexes the stimuli), then writes: the measures of every area and layer
with their intervals, the matched comparison (``nc.compare``: same numbers of units and samples,
one binarization rule), the layer-area similarity maps (``nc.similarity_matrix``) with the best
layer of each area, figures, CSV tables and ``report.html`` (see :mod:`neurocomplex.report`). The
second compares the areas of several files (measures, matched differences; similarity only where
the files share their samples).

The pipeline is :func:`neurocomplex.brain_vs_network` (shared with ``neurocomplex demo``);
``--architecture FILE.py:FUNCTION`` loads the weights into any network (the file is code and runs).
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from neurocomplex._progress import Steps
from neurocomplex.comparison._bvn_figures import intervals_caption
from neurocomplex.comparison.brain_vs_network import (
    DEFAULT_MEASURES,
    DEFAULT_METRICS,
    _matched,
    _measure_table,
    run_comparison,
)
from neurocomplex.errors import (
    CorruptFileError,
    InvalidDataError,
    InvalidParameterError,
    MissingFileError,
    NeurocomplexError,
)

__all__ = ["COMPARE_MEASURES", "build", "run", "load_stimuli", "stimulus_rows", "network_responses"]

COMPARE_MEASURES = DEFAULT_MEASURES
COMPARE_METRICS = DEFAULT_METRICS
# Columns that index the stimuli array (integers), in the order they are looked for.
_STIMULUS_COLUMNS = ("stimulus_index", "stimulus", "image_index", "stim_index", "image_id")
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".gif")


# --------------------------------------------------------------------------- inputs
def load_stimuli(path: str | Path) -> np.ndarray:
    """The stimuli as a float32 array ``(n_stimuli, ...)``: an ``.npy`` file or a folder of images.

    A folder's images (png, jpg, bmp, tif, gif) are read in the sorted order of their file names
    (the stimulus index of a file is its position in that order) and must all have one shape.
    ``.npy`` files are read with ``allow_pickle=False``. One scaling rule for both: integer values
    (pixels) are divided by the largest value of their type (uint8: 255, uint16: 65,535), so the
    same images reach the network in [0, 1] whether they come as PNGs or as an array; floating-point
    values are passed as they are.

    Raises
    ------
    MissingFileError
        No such file or folder.
    InvalidParameterError
        Neither a ``.npy`` file nor a folder.
    InvalidDataError
        An object array, non-numeric or non-finite values, fewer than 2 dimensions, a folder
        without images or with images of different shapes.
    CorruptFileError
        A file that cannot be read as what its name says.
    """
    p = Path(path)
    if not p.exists():
        raise MissingFileError(f"stimuli {p} do not exist; give an .npy array or a folder of images.")
    if p.is_dir():
        files = sorted(f for f in p.iterdir() if f.suffix.lower() in _IMAGE_SUFFIXES)
        if not files:
            raise InvalidDataError(f"the folder {p} holds no image ({', '.join(_IMAGE_SUFFIXES)}).")
        from PIL import Image, UnidentifiedImageError

        images = []
        for f in files:
            try:
                with Image.open(f) as im:
                    images.append(np.asarray(im))
            except (UnidentifiedImageError, OSError) as err:
                raise CorruptFileError(f"{f} is not a readable image: {err}") from err
        shapes = {im.shape for im in images}
        if len(shapes) != 1:
            raise InvalidDataError(f"the images in {p} have different shapes {sorted(shapes)}; resize them to one shape.")
        arr = np.stack(images)
    elif p.suffix.lower() == ".npy":
        try:
            arr = np.load(p, allow_pickle=False)
        except ValueError as err:  # object arrays need pickle, which is refused
            raise InvalidDataError(f"{p} holds Python objects, not a numeric array; save a numeric array.") from err
        except OSError as err:
            raise CorruptFileError(f"{p} is not a readable .npy file: {err}") from err
    else:
        raise InvalidParameterError(f"stimuli {p} must be an .npy array or a folder of images.")
    if not np.issubdtype(arr.dtype, np.number) or arr.dtype == np.complex64 or np.iscomplexobj(arr):
        raise InvalidDataError(f"stimuli in {p} must be real numbers, got dtype {arr.dtype}.")
    if arr.ndim < 2 or arr.shape[0] == 0:
        raise InvalidDataError(f"stimuli in {p} must have shape (n_stimuli, ...), got {arr.shape}.")
    if arr.dtype == np.bool_:
        arr = arr.astype(np.float32)
    elif np.issubdtype(arr.dtype, np.integer):  # pixels: the one rule for arrays and images alike
        arr = arr.astype(np.float64) / float(np.iinfo(arr.dtype).max)
    arr = arr.astype(np.float32, copy=False)
    if not np.isfinite(arr).all():
        raise InvalidDataError(f"stimuli in {p} hold NaN or infinite values.")
    return arr


def stimulus_rows(labels: Any, n_stimuli: int, column: str | None = None) -> tuple[np.ndarray, str | None]:
    """Which stimulus each trial showed: the trial table's stimulus column, or trial order.

    Without ``column``, the first of ``stimulus_index``, ``stimulus``, ``image_index``,
    ``stim_index``, ``image_id`` that the table has is used; a table with none of them needs as
    many stimuli as trials (trial ``i`` showed stimulus ``i``).

    Raises
    ------
    InvalidParameterError
        ``column`` not in the table, or no stimulus column and a different number of stimuli.
    InvalidDataError
        Stimulus indices that are not integers in ``[0, n_stimuli)``.

    Examples
    --------
    >>> import pandas as pd
    >>> rows, column = stimulus_rows(pd.DataFrame({"stimulus_index": [2, 0, 2]}), n_stimuli=3)
    >>> rows.tolist(), column
    ([2, 0, 2], 'stimulus_index')
    """
    columns = [] if labels is None else list(labels.columns)
    if column is None:
        column = next((c for c in _STIMULUS_COLUMNS if c in columns), None)
    elif column not in columns:
        raise InvalidParameterError(f"the trial table has no column {column!r}; it has {columns}.")
    n_trials = 0 if labels is None else len(labels)
    if column is None:
        if n_stimuli != n_trials:
            raise InvalidParameterError(
                f"the trial table has no stimulus column ({', '.join(_STIMULUS_COLUMNS)}) and {n_trials} trials "
                f"but there are {n_stimuli} stimuli; name the column with --stimulus-column. Columns: {columns}."
            )
        return np.arange(n_trials), None
    values = np.asarray(labels[column])
    try:
        rows = values.astype(np.int64)
    except (TypeError, ValueError) as err:
        raise InvalidDataError(f"trial column {column!r} must hold stimulus indices (integers).") from err
    if not np.array_equal(rows, values) or rows.min(initial=0) < 0 or rows.max(initial=0) >= n_stimuli:
        raise InvalidDataError(
            f"trial column {column!r} must hold integers in [0, {n_stimuli}) indexing the {n_stimuli} stimuli; "
            f"it holds values from {values.min()} to {values.max()}."
        )
    return rows, column


def _model_input(model: Any, stimuli: np.ndarray) -> np.ndarray:
    """The stimuli in the layout the network's first layer takes.

    A first ``Linear`` layer on the number of values per stimulus gets them flattened; a first
    ``Conv2d`` with C input channels gets ``(n, C, H, W)``: grey images ``(n, H, W)`` gain their
    channel axis, and channel-last images ``(n, H, W, C)`` (as image files are read) are moved
    channel-first. Anything else is passed as it is.
    """
    import torch.nn as nn

    first = next((m for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d))), None)
    if isinstance(first, nn.Linear) and stimuli.ndim > 2 and first.in_features == int(np.prod(stimuli.shape[1:])):
        return stimuli.reshape(stimuli.shape[0], -1)
    if isinstance(first, nn.Conv2d):
        c = first.in_channels
        if stimuli.ndim == 3 and c == 1:
            return stimuli[:, None]
        if stimuli.ndim == 4 and stimuli.shape[1] != c and stimuli.shape[3] == c:
            return np.ascontiguousarray(stimuli.transpose(0, 3, 1, 2))
    return stimuli


def network_responses(model: Any, stimuli: np.ndarray, rows: np.ndarray, labels: Any,
                      progress: bool | None = None) -> dict[str, Any]:
    """Each layer's activations to the stimulus of every trial, one row per trial, with its labels."""
    import neurocomplex as nc

    shown = np.unique(rows)
    layers = nc.torch.record(model, _model_input(model, stimuli[shown]), progress=progress)
    where = np.searchsorted(shown, rows)
    return {name: dataclasses.replace(rec, data=rec.data[where], labels=labels, times=None, bin_size=None)
            for name, rec in layers.items()}


# --------------------------------------------------------------------------- command
def build(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", metavar="FILE", nargs="+", help="one NWB file (with --model) or several")
    parser.add_argument("--trials", metavar="NAME", default=None,
                        help="interval table whose trials give the responses (e.g. trials, epochs)")
    parser.add_argument("--window", nargs=2, type=float, metavar=("START", "STOP"), default=None,
                        help="response window in seconds relative to each trial's start (default: 0 0.5)")
    parser.add_argument("--t-start", type=float, default=None, metavar="SECONDS",
                        help="start of the session span to load (default: the start the file records)")
    parser.add_argument("--t-stop", type=float, default=None, metavar="SECONDS",
                        help="end of the session span to load (default: the end the file records)")
    parser.add_argument("--model", metavar="WEIGHTS.pt", default=None,
                        help="a torch state dict (loaded with weights_only=True: the weights file runs no code)")
    parser.add_argument("--architecture", metavar="FILE.py:FUNCTION", default=None,
                        help="the network the weights belong to: a function of no arguments returning the "
                             "torch.nn.Module, as FILE.py:FUNCTION or package.module:FUNCTION. WARNING: this is "
                             "code, and it runs: give only a file you trust. Without it, an MLP is built from "
                             "--widths or from the widths stored in the weights file")
    parser.add_argument("--widths", nargs="+", type=int, metavar="N", default=None,
                        help="layer widths of the MLP the weights belong to, for a file holding weights only "
                             "(default: the widths stored in the file, as in the bundled demo_network.pt)")
    parser.add_argument("--activation", default="relu", metavar="NAME",
                        help="activation of that MLP (default: relu)")
    parser.add_argument("--stimuli", metavar="STIMULI", default=None,
                        help="the stimuli shown: an .npy array (n_stimuli, ...) or a folder of images; integer "
                             "pixels are divided by their type's maximum (uint8: 255), floats passed as they are")
    parser.add_argument("--stimulus-column", metavar="NAME", default=None,
                        help="trial-table column indexing the stimuli (default: stimulus_index, stimulus, ...)")
    parser.add_argument("--conditions", metavar="NAME", default=None,
                        help="trial-table column of conditions for RSA and predictivity (RDMs over condition "
                             "means, split-half noise ceilings); default: the stimulus column when stimuli "
                             "repeat; 'none' to use every trial as its own condition")
    parser.add_argument("--bin-size", type=float, default=0.01, metavar="SECONDS",
                        help="bin width when no trial table is used (default: 0.01)")
    parser.add_argument("--measures", nargs="+", metavar="NAME", default=list(COMPARE_MEASURES),
                        help=f"measures to compare (default: {' '.join(COMPARE_MEASURES)})")
    parser.add_argument("--metrics", nargs="+", metavar="NAME", default=list(COMPARE_METRICS),
                        choices=("cka", "rsa", "shape_distance", "predictivity"),
                        help=f"similarity metrics for the layer-area maps (default: {' '.join(COMPARE_METRICS)})")
    parser.add_argument("--n-boot", type=int, default=100, metavar="N", help="bootstrap replicates (default: 100)")
    parser.add_argument("--n-draws", type=int, default=20, metavar="N",
                        help="matched subsampling draws (default: 20)")
    parser.add_argument("--seed", type=int, default=0, help="seed of every random step (default: 0)")
    parser.add_argument("--out", metavar="DIR", default="neurocomplex-compare",
                        help="folder for the CSV tables and report.html (default: ./neurocomplex-compare)")
    parser.add_argument("--overwrite", action="store_true",
                        help="write the report into a folder that holds files no earlier report wrote (they are "
                             "left as they are); an earlier report's own files are always replaced")
    parser.add_argument("--no-progress", action="store_true", help="print no progress")


def _check_args(args: argparse.Namespace) -> tuple[float, float]:
    if args.model is not None or args.stimuli is not None:
        if args.model is None or args.stimuli is None:
            raise InvalidParameterError("--model and --stimuli go together: the network and the stimuli it is shown.")
        if len(args.files) != 1:
            raise InvalidParameterError(f"with --model give one NWB file, got {len(args.files)}.")
        if args.trials is None:
            raise InvalidParameterError("with --model give --trials NAME: the trial table that says when each stimulus "
                                        "was shown.")
    elif len(args.files) < 2:
        raise InvalidParameterError("give two or more NWB files, or one NWB file with --model and --stimuli.")
    if args.architecture is not None and args.model is None:
        raise InvalidParameterError("--architecture needs --model: the weights to load into it.")
    if args.architecture is not None and args.widths is not None:
        raise InvalidParameterError("give --architecture or --widths, not both: both say which network the weights fit.")
    window = (0.0, 0.5) if args.window is None else (float(args.window[0]), float(args.window[1]))
    if args.window is not None and args.trials is None:
        raise InvalidParameterError("--window needs --trials NAME (the trials the window is relative to).")
    if not (np.isfinite(window).all() and window[1] > window[0]):
        raise InvalidParameterError(f"--window START STOP needs START < STOP, got {window[0]} {window[1]}.")
    for name in ("n_boot", "n_draws"):
        if getattr(args, name) < (0 if name == "n_boot" else 1):
            raise InvalidParameterError(f"--{name.replace('_', '-')} must be >= {0 if name == 'n_boot' else 1}.")
    return window


def _conditions(args: argparse.Namespace) -> Any:
    """--conditions: a column name, False for 'none', None for the default rule."""
    if args.conditions is None:
        return None
    return False if args.conditions.lower() == "none" else args.conditions


def _areas(path: str, args: argparse.Namespace, window: tuple[float, float]) -> tuple[Any, dict[str, Any]]:
    import neurocomplex as nc

    span = {k: v for k, v in (("t_start", args.t_start), ("t_stop", args.t_stop)) if v is not None}
    rec = nc.load(path, bin_size=args.bin_size, **span)
    if args.trials is not None:
        rec = rec.trial_responses(args.trials, window=window, statistic="count")
    return rec, rec.by_group()


def _model(args: argparse.Namespace) -> Any:
    try:
        from neurocomplex.torch.models import architecture_from_spec, load_model, mlp
    except ImportError as err:
        from neurocomplex.errors import MissingDependencyError

        raise MissingDependencyError("--model needs torch: pip install 'neurocomplex[torch]'.") from err
    if args.architecture is not None:
        return load_model(args.model, architecture=architecture_from_spec(args.architecture))
    widths, activation = args.widths, args.activation
    return load_model(args.model, architecture=None if widths is None else (lambda: mlp(widths, activation=activation)))


def run(args: argparse.Namespace) -> int:
    from neurocomplex.cli._common import check_out
    from neurocomplex.report import make_provenance, write_report

    window = _check_args(args)
    check_out(args.out, ["measures", "matched"])
    progress = False if args.no_progress else None
    if args.model is not None:
        steps = Steps(7 + len(args.metrics), progress, lines=True)
        steps(f"loading {args.files[0]}")
        rec, areas = _areas(args.files[0], args, window)
        steps(f"loading stimuli {args.stimuli} and model {args.model}")
        stimuli = load_stimuli(args.stimuli)
        model = _model(args)
        rows, column = stimulus_rows(rec.labels, len(stimuli), args.stimulus_column)
        steps(f"recording the network's layers on {np.unique(rows).size} stimuli")
        layers = network_responses(model, stimuli, rows, rec.labels, progress=progress)
        result = run_comparison(areas, layers, measures=args.measures, metrics=args.metrics,
                                conditions=_conditions(args), n_boot=args.n_boot, n_draws=args.n_draws,
                                seed=args.seed, truth=None, steps=steps, progress=progress)
        tables, figures, notes = result.tables(), result.figures(), list(result.notes)
        title = f"{Path(args.files[0]).name} against {Path(args.model).name}"
        extra = {"file": args.files[0], "model": args.model, "architecture": args.architecture,
                 "stimuli": args.stimuli, "stimulus_column": column, "conditions": result.provenance["conditions"]}
    else:
        steps = Steps(len(args.files) + 4, progress, lines=True)
        tables, figures, notes, extra = _files_vs_files(args, window, steps, progress)
        title = " against ".join(Path(f).name for f in args.files)
    steps(f"writing {args.out}")
    prov = make_provenance(
        bin_size=None if args.trials else args.bin_size,
        binarization=_binarization(tables.get("matched")),
        n_boot=args.n_boot, seed=args.seed, n_draws=args.n_draws, trials=args.trials,
        window_s=None if args.trials is None else f"{window[0]:g} to {window[1]:g}",
        response="spike count per trial window" if args.trials else "spike count per bin", **extra,
    )
    path = write_report(args.out, tables, figures, prov, title=title, notes=notes, overwrite=args.overwrite)
    _close(figures)
    steps.close()
    _print_summary(tables, notes)
    for name in tables:
        print(f"wrote {Path(args.out) / (name + '.csv')}")
    print(f"wrote {path}")
    return 0


def _print_summary(tables: Mapping[str, Any], notes: Sequence[str]) -> None:
    """What a reader looks for first: each area's best layer per metric, the matched differences
    whose interval excludes 0, and the run's notes (the report has everything)."""
    import pandas as pd

    from neurocomplex.cli._common import print_table

    best = [t for name, t in tables.items() if name.startswith("best_layer_")]
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.max_rows", 200,
                           "display.float_format", "{:.3g}".format):
        if best:
            print_table(pd.concat(best, ignore_index=True),
                        "Best layer of each area (best_fraction: share of bootstrap replicates in which it is best)",
                        ["metric", "area", "best_layer", "value", "ci_low", "ci_high", "best_fraction", "runner_up",
                         "runner_up_fraction"], digits=3)
        matched = tables.get("matched")
        if matched is not None and len(matched) and "ci_low" in matched.columns:
            has = matched["ci_low"].notna() & matched["ci_high"].notna()
            excludes = has & ((matched["ci_low"] > 0) | (matched["ci_high"] < 0))
            by = matched["measure"]
            counts = pd.DataFrame({"pairs": by.groupby(by, sort=False).size(),
                                   "with an interval": has.groupby(by, sort=False).sum(),
                                   "interval excludes 0": excludes.groupby(by, sort=False).sum()})
            print(f"Matched differences: {int(excludes.sum())} of the {int(has.sum())} intervals "
                  f"({len(matched)} pairs) exclude 0 (each at its own level, not corrected for the number of "
                  "pairs; rows in matched.csv)")
            print(counts.to_string())
            print()
    if notes:
        print("Notes:")
        for i, note in enumerate(notes, 1):
            print(f"  [{i}] {note}")
        print()


def _close(figures: Mapping[str, Any]) -> None:
    """Free the figures once they are in the report (main() may be called many times in one process)."""
    import matplotlib.pyplot as plt

    for fig in figures.values():
        plt.close(fig)


def _binarization(matched: Any) -> str:
    rule = getattr(matched, "attrs", {}).get("provenance", {}).get("binarize") if matched is not None else None
    base = "unmatched measures: count > 0 for spike counts, activation > 0 for network units"
    return f"{base}; matched comparison: {rule}" if rule else base


def _files_vs_files(args: argparse.Namespace, window: tuple[float, float], steps: Steps,
                    progress: bool | None) -> tuple[dict[str, Any], dict[str, Any], list[str], dict[str, Any]]:
    import matplotlib

    matplotlib.use("Agg")
    import pandas as pd

    import neurocomplex as nc
    from neurocomplex.plotting import plot_measures, plot_similarity_map

    per_file: dict[str, dict[str, Any]] = {}
    for path in args.files:
        steps(f"loading {path}")
        stem = Path(path).stem
        if stem in per_file:
            raise InvalidParameterError(f"two files named {stem}; give files with different names.")
        per_file[stem] = _areas(path, args, window)[1]
    steps("measures")
    table = pd.concat([_measure_table(areas, stem, args.measures, args.n_boot, args.seed)
                       for stem, areas in per_file.items()], ignore_index=True)
    tables: dict[str, Any] = {"measures": table}
    caption = intervals_caption(table, "Measures of each area of each file (95% bootstrap intervals; unmatched sizes)")
    figures: dict[str, Any] = {caption: plot_measures(table)[0].figure}
    steps(f"matched comparison ({args.n_draws} draws)")
    both = {f"{stem}:{a}": r for stem, areas in per_file.items() for a, r in areas.items()}
    matched, values, notes = _matched(both, args.measures, args.n_draws, args.seed, progress, args.n_boot)
    if len(matched):
        tables["matched"] = matched
    if len(values):
        tables["matched_values"] = values
        prov = matched.attrs.get("provenance", {})
        figures[f"Matched measures: every population subsampled to {prov.get('n_units')} units and "
                f"{prov.get('n_samples')} samples; binarized by {prov.get('binarize', 'one rule')}"] = (
            plot_measures(values)[0].figure)
    steps("similarity between files")
    stems = list(per_file)
    first, rest = per_file[stems[0]], {f"{s}:{a}": r for s in stems[1:] for a, r in per_file[s].items()}
    try:
        sim = nc.similarity_matrix(first, rest, metric=args.metrics[0], n_boot=args.n_boot, seed=args.seed,
                                   progress=progress)
    except NeurocomplexError as err:
        notes.append(f"No similarity map: the files do not share their samples ({err}). A similarity map needs the "
                     "same stimuli in the same order in every file.")
    else:
        tables[f"similarity_{args.metrics[0]}"] = sim
        figures[f"Similarity of the areas of {stems[0]} (rows) with the other files' areas ({args.metrics[0]})"] = (
            plot_similarity_map(sim).figure)
    return tables, figures, notes, {"files": ", ".join(args.files)}
