"""Brain areas against network layers in one call: measures, matched differences, similarity, best layers.

:func:`brain_vs_network` runs the whole comparison the toolkit exists for, on Recordings that hold
the same samples in the same order (trials or stimuli): every measure of every area and layer with
its interval (:func:`neurocomplex.measure`), the matched comparison of every pair
(:func:`neurocomplex.compare`), and for each similarity metric the layer–area map
(:func:`neurocomplex.similarity_matrix`) with each area's best layer
(:func:`neurocomplex.best_layers`). It returns a :class:`BrainVsNetwork` of tidy tables, which
writes the HTML report that ``neurocomplex compare`` writes.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from neurocomplex._progress import Steps
from neurocomplex._validation import check_int
from neurocomplex.errors import InsufficientDataError, InvalidParameterError, NeurocomplexWarning
from neurocomplex.recording import Recording

__all__ = ["brain_vs_network", "BrainVsNetwork", "DEFAULT_MEASURES", "DEFAULT_METRICS", "STIMULUS_COLUMNS",
           "find_condition_column"]

# The complexity and dimension profiles over depth, and the activity they depend on.
DEFAULT_MEASURES = ("activation_ratio", "participation_ratio", "effective_dimension", "pattern_entropy",
                    "pattern_complexity")
DEFAULT_METRICS = ("cka", "rsa", "predictivity")
# Label columns that say which stimulus (condition) a sample showed, in the order they are looked for.
STIMULUS_COLUMNS = ("stimulus_index", "stimulus", "image_index", "stim_index", "image_id", "condition")
# Metrics that take conditions: RDMs over condition means, split-half noise ceilings.
_CONDITION_METRICS = ("rsa", "predictivity")
# Estimator options for the many calls of the matched comparison (draws x replicates): the NSB
# entropy costs ~10 ms a call at demo size, Miller-Madow microseconds; both sides get the same.
_MATCHED_PARAMS = {"pattern_entropy": {"method": "miller_madow"}, "multi_information": {"method": "miller_madow"}}


@dataclasses.dataclass(frozen=True, repr=False)
class BrainVsNetwork:
    """The result of :func:`brain_vs_network`: tidy tables, notes and provenance.

    Attributes
    ----------
    measures : pandas.DataFrame
        One row per population × measure: ``recording`` ("area" or "layer"), ``group`` (its name),
        ``measure``, ``value``, ``ci_low``, ``ci_high``, ``unit``, ... (see :func:`neurocomplex.measure`).
    similarity : pandas.DataFrame
        One row per metric × area × layer (see :func:`neurocomplex.similarity_matrix`).
    best_layers : pandas.DataFrame
        One row per metric × area: its best layer and how often it wins over bootstrap replicates
        (see :func:`neurocomplex.best_layers`), with ``truth`` and ``correct`` when a truth was given.
    matched : pandas.DataFrame
        The matched differences of every pair (see :func:`neurocomplex.compare`); its per-population
        matched values are in ``matched_values``.
    matched_values : pandas.DataFrame
        Each population's measures after matching (one row per population × measure).
    notes : tuple of str
        What was compared and how (conditions, matching, tests), as the report shows it.
    provenance : dict
        Parameters of the run (measures, metrics, n_boot, n_draws, seed, conditions, version).
    truth : dict or None
        Area → the layer it is known to come from, when given.
    """

    measures: Any
    similarity: Any
    best_layers: Any
    matched: Any
    matched_values: Any
    notes: tuple[str, ...]
    provenance: dict[str, Any]
    truth: dict[str, str] | None = None

    def tables(self) -> dict[str, Any]:
        """Name → table, as the report writes them (one CSV each); empty tables are left out."""
        out = {"measures": self.measures, "matched": self.matched, "matched_values": self.matched_values}
        if len(self.similarity):
            for metric in self.similarity["metric"].unique():
                out[f"similarity_{metric}"] = self.similarity[self.similarity["metric"] == metric].reset_index(drop=True)
                out[f"best_layer_{metric}"] = self.best_layers[self.best_layers["metric"] == metric].reset_index(drop=True)
        return {k: v for k, v in out.items() if v is not None and len(v)}

    def figures(self) -> dict[str, Any]:
        """Caption → matplotlib Figure: measures, profiles over depth, matched values, similarity maps."""
        from neurocomplex.comparison._bvn_figures import make_figures

        return make_figures(self)

    def write_report(self, folder: str | Path, title: str | None = None, overwrite: bool = True) -> Path:
        """Write ``report.html`` with its CSV tables and ``provenance.json`` into ``folder``.

        The same report ``neurocomplex compare`` writes (see :func:`neurocomplex.report.write_report`):
        every file is written atomically, an earlier report's files in ``folder`` are replaced, and
        with ``overwrite=False`` a folder holding other files is refused before anything is written.
        Returns the path of ``report.html``.
        """
        import matplotlib.pyplot as plt

        from neurocomplex.report import write_report

        figures = self.figures()
        try:
            return write_report(folder, self.tables(), figures, self.provenance,
                                title=title or "neurocomplex: brain areas against network layers", notes=self.notes,
                                overwrite=overwrite)
        finally:
            for fig in figures.values():
                plt.close(fig)

    def _repr_html_(self) -> str:
        """For notebooks: each area's best layer per metric with its support, then the notes."""
        from html import escape

        cols = [c for c in ("metric", "area", "best_layer", "value", "ci_low", "ci_high", "best_fraction", "truth")
                if c in self.best_layers.columns]
        table = self.best_layers[cols].to_html(index=False, float_format=lambda v: f"{v:.3g}", border=0)
        n_areas = int((self.measures["recording"] == "area").groupby(self.measures["group"]).any().sum())
        n_layers = int((self.measures["recording"] == "layer").groupby(self.measures["group"]).any().sum())
        notes = "".join(f"<li>{escape(n)}</li>" for n in self.notes)
        return (f"<div><b>Brain vs network</b>: {n_areas} areas, {n_layers} layers, measures "
                f"{escape(', '.join(dict.fromkeys(self.measures['measure'])))}; .write_report(folder) for the "
                f"figures and tables.{table}<ul>{notes}</ul></div>")

    def __repr__(self) -> str:
        areas = sorted(self.measures.loc[self.measures["recording"] == "area", "group"].unique())
        layers = list(dict.fromkeys(self.measures.loc[self.measures["recording"] == "layer", "group"]))
        best = ", ".join(f"{r.metric}:{r.area}→{r.best_layer}" for r in self.best_layers.itertuples())
        return (f"BrainVsNetwork(areas={areas}, layers={layers}, measures={sorted(self.measures['measure'].unique())}, "
                f"best_layers=[{best}])")


# --------------------------------------------------------------------------- conditions
def find_condition_column(labels: Any) -> str | None:
    """The first of :data:`STIMULUS_COLUMNS` that ``labels`` has and whose values repeat, or None.

    Examples
    --------
    >>> import pandas as pd
    >>> find_condition_column(pd.DataFrame({"start_time": [0, 1, 2], "stimulus": ["a", "b", "a"]}))
    'stimulus'
    >>> find_condition_column(pd.DataFrame({"stimulus": ["a", "b", "c"]})) is None   # nothing repeats
    True
    """
    if labels is None:
        return None
    for column in STIMULUS_COLUMNS:
        if column in labels.columns:
            values = labels[column]
            if values.notna().all() and values.nunique() < len(values):
                return column
    return None


def _resolve_conditions(conditions: Any, recordings: Mapping[str, Recording]) -> tuple[Any, str]:
    """The ``conditions`` argument for RSA and predictivity, and a sentence saying what was done."""
    first = next(iter(recordings.values()))
    labels = first.labels
    if conditions is False:
        return None, ("Conditions not used (conditions=False): RSA over every sample, predictivity without a "
                      "noise ceiling.")
    if conditions is None:
        column = find_condition_column(labels)
        if column is None:
            return None, (f"No repeated condition column ({', '.join(STIMULUS_COLUMNS)}) in the samples' labels: RSA "
                          f"compares RDMs over all {first.n_samples} samples and predictivity has no noise ceiling.")
        conditions = column
    if isinstance(conditions, str):
        if labels is None or conditions not in labels.columns:
            have = [] if labels is None else list(labels.columns)
            raise InvalidParameterError(f"conditions={conditions!r} is not a label column of the recordings "
                                        f"(columns: {have or 'none'}).")
        n_cond = int(labels[conditions].nunique())
        what = f"the label column {conditions!r}"
    else:
        values = np.asarray(conditions)
        if values.shape != (first.n_samples,):
            raise InvalidParameterError(f"conditions must be a label column name, False, or one value per sample "
                                        f"({first.n_samples}); got shape {values.shape}.")
        n_cond = int(np.unique(values).size)
        what = "the given conditions"
    return conditions, (f"Conditions from {what} ({n_cond} conditions over {first.n_samples} samples): RSA compares "
                        "RDMs over condition means with a split-half noise ceiling; predictivity is divided by "
                        "the split-half reliability ceiling of each area.")


# --------------------------------------------------------------------------- steps
def _check_recordings(recs: Any, name: str) -> dict[str, Recording]:
    if isinstance(recs, Recording):
        return recs.by_group()
    if not isinstance(recs, Mapping) or not recs:
        raise InvalidParameterError(f"{name} must be a Recording (split by its groups) or a non-empty mapping name -> "
                                    f"Recording, got {type(recs).__name__}.")
    out = {}
    for key, rec in recs.items():
        if not isinstance(rec, Recording):
            raise InvalidParameterError(f"{name}[{key!r}] is a {type(rec).__name__}, not a Recording.")
        out[str(key)] = rec
    return out


def _measure_table(recordings: Mapping[str, Recording], side: str, measures: Sequence[str], n_boot: int,
                   seed: int) -> Any:
    from neurocomplex.comparison.table import measure
    from neurocomplex.report import add_units

    with warnings.catch_warnings():  # caveats stay in the table's warnings column
        warnings.simplefilter("ignore", NeurocomplexWarning)
        table = measure(dict(recordings), list(measures), by=None, n_boot=n_boot, seed=seed, errors="warn",
                        progress=False)
    # one row per population: its name is the group (area or layer), its side the recording
    table = add_units(table, dict(recordings))
    return table.assign(group=table["recording"]).assign(recording=side)


def _matched(recordings: Mapping[str, Recording], measures: Sequence[str], n_draws: int, seed: int,
             progress: bool | None, n_boot: int) -> tuple[Any, Any, list[str]]:
    """nc.compare on every pair: the pair table, the per-population matched values, and notes.

    The matched differences get their interval and p-value from the same ``n_boot`` replicates
    as every other interval; fewer than :func:`min_replicates` (40 at 95%) give intervals only.
    """
    import pandas as pd

    from neurocomplex.comparison._matching_stats import min_replicates
    from neurocomplex.comparison.matching import compare
    from neurocomplex.report import add_units

    # The quantile rule sets every unit's activation ratio, so comparing it after matching says nothing.
    chosen = [m for m in measures if m != "activation_ratio"]
    if not chosen:
        return pd.DataFrame(), pd.DataFrame(), [
            "No matched comparison: activation_ratio is fixed by the binarization rule; ask for other measures."]
    tested = n_boot >= min_replicates(0.95)
    matched = compare(dict(recordings), chosen, match=("units", "samples"), n_draws=n_draws, seed=seed,
                      n_boot=n_boot, null="bootstrap" if tested else "none",
                      params={m: p for m, p in _MATCHED_PARAMS.items() if m in chosen}, progress=progress)
    values = pd.DataFrame(matched.attrs.get("matched", []))
    if not values.empty:
        side, _, name = values["recording"].str.partition(":").values.T
        values = add_units(values.assign(recording=side, group=name))
    prov = matched.attrs.get("provenance", {})
    notes = []
    if prov.get("note"):
        notes.append(str(prov["note"]))
    if not tested:
        notes.append(f"Matched differences have no p-values: n_boot={n_boot} replicates are too few for a test at "
                     f"5% (at least {min_replicates(0.95)} are needed).")
    tested = matched["p_value"].notna() if "p_value" in matched.columns else pd.Series(False, index=matched.index)
    n_sig = int((matched.loc[tested, "p_value"] < 0.05).sum()) if tested.any() else 0
    notes.append(f"{n_sig} of {int(tested.sum())} tested matched differences have p < 0.05 (not corrected for "
                 f"the {int(tested.sum())} comparisons); {int((~tested).sum())} rows have no test (degenerate or "
                 "undefined: see their warnings). Entropies in the matched comparison: Miller-Madow estimator, bits.")
    return matched, values, notes


def _best_layers(sim: Any, truth: Mapping[str, str] | None) -> Any:
    from neurocomplex.comparison.similarity import best_layers

    best = best_layers(sim)
    if truth:
        best["truth"] = [truth.get(str(a), "") for a in best["area"]]
        best["correct"] = [str(layer) == t for layer, t in zip(best["best_layer"], best["truth"], strict=True)]
    return best


def run_comparison(areas: Mapping[str, Recording], layers: Mapping[str, Recording], *, measures: Sequence[str],
                   metrics: Sequence[str], conditions: Any, n_boot: int, n_draws: int, seed: int,
                   truth: Mapping[str, str] | None, steps: Steps, progress: bool | None) -> BrainVsNetwork:
    """The steps of :func:`brain_vs_network` (3 + one per metric), reported to ``steps``."""
    import pandas as pd

    from neurocomplex._version import __version__
    from neurocomplex.comparison.similarity import similarity_matrix

    cond, cond_note = _resolve_conditions(conditions, {**areas, **layers})
    steps(f"measures of {len(areas)} areas and {len(layers)} layers")
    table = pd.concat([_measure_table(areas, "area", measures, n_boot, seed),
                       _measure_table(layers, "layer", measures, n_boot, seed)], ignore_index=True)

    steps(f"matched comparison ({n_draws} draws)")
    both = {**{f"area:{k}": v for k, v in areas.items()}, **{f"layer:{k}": v for k, v in layers.items()}}
    matched, values, notes = _matched(both, measures, n_draws, seed, progress, n_boot)

    sims, bests = [], []
    for metric in metrics:
        steps(f"layer-area similarity ({metric})")
        params = {"conditions": cond} if cond is not None and metric in _CONDITION_METRICS else {}
        try:
            sim = similarity_matrix(dict(areas), dict(layers), metric=metric, n_boot=n_boot, seed=seed,
                                    progress=progress, **params)
        except InsufficientDataError as err:
            # The samples (or conditions) every pair shares cannot support this metric: the others still run.
            text = f"No {metric} map: {err}"
            notes.append(text)
            warnings.warn(f"nc.brain_vs_network: {text}", NeurocomplexWarning, stacklevel=3)
            continue
        sims.append(sim)
        bests.append(_best_layers(sim, truth).assign(metric=metric))
    steps("tables")
    from neurocomplex.comparison.similarity import _COLUMNS as SIMILARITY_COLUMNS
    from neurocomplex.comparison.similarity import BEST_COLUMNS

    # no metric asked (or none applied): empty tables that still have their columns
    similarity = pd.concat(sims, ignore_index=True) if sims else pd.DataFrame(columns=SIMILARITY_COLUMNS)
    best = pd.concat(bests, ignore_index=True) if bests else pd.DataFrame(columns=["metric", *BEST_COLUMNS])
    if len(best):
        best = best[["metric", *[c for c in best.columns if c != "metric"]]]
    provenance = {"measures": ", ".join(measures), "metrics": ", ".join(metrics), "n_boot": n_boot,
                  "n_draws": n_draws, "seed": seed,
                  "conditions": cond if isinstance(cond, str) else ("array" if cond is not None else "none"),
                  "neurocomplex_version": __version__}
    return BrainVsNetwork(measures=table, similarity=similarity, best_layers=best, matched=matched,
                          matched_values=values, notes=(cond_note, *notes), provenance=provenance,
                          truth=dict(truth) if truth else None)


def brain_vs_network(
    areas: Mapping[str, Recording] | Recording,
    layers: Mapping[str, Recording] | Recording,
    *,
    measures: Sequence[str] | None = None,
    metrics: Sequence[str] = DEFAULT_METRICS,
    conditions: Any = None,
    n_boot: int = 100,
    n_draws: int = 20,
    seed: int = 0,
    truth: Mapping[str, str] | None = None,
    out: str | Path | None = None,
    progress: bool | None = None,
) -> BrainVsNetwork:
    """Brain areas against a network's layers on the same samples: measures, matched differences, similarity.

    Parameters
    ----------
    areas : mapping of name -> Recording, or Recording
        Brain areas (a single Recording is split by its ``groups``): responses per trial or stimulus,
        e.g. ``rec.trial_responses(...).by_group()``.
    layers : mapping of name -> Recording, or Recording
        Network layers in depth order, on the same samples in the same order (e.g.
        ``nc.torch.record(model, stimuli, labels=resp)``).
    measures : sequence of str, optional
        Single-population measures (registered names). Default: activation_ratio,
        participation_ratio, effective_dimension, pattern_entropy, pattern_complexity.
    metrics : sequence of str
        Similarity metrics for the layer–area maps: any of "cka", "rsa", "shape_distance",
        "predictivity".
    conditions : str, array, False or None
        Which condition (stimulus) each sample showed, for RSA (RDMs over condition means) and
        predictivity (split-half reliability ceiling). None (default): the first label column of
        :data:`STIMULUS_COLUMNS` whose values repeat, if any; False: none.
    n_boot : int
        Bootstrap replicates of every interval and of the best-layer distribution.
    n_draws : int
        Matched subsampling draws of :func:`neurocomplex.compare`.
    seed : int
        Seed of every random step.
    truth : mapping of str -> str, optional
        Area → the layer it is known to come from (simulations): ``best_layers`` says whether each
        metric finds it.
    out : str or Path, optional
        Also write the report into this folder (:meth:`BrainVsNetwork.write_report`).
    progress : bool, optional
        A progress bar over the steps; by default only in a terminal or a notebook.

    Returns
    -------
    BrainVsNetwork
        ``.measures``, ``.similarity``, ``.best_layers``, ``.matched`` (tidy DataFrames),
        ``.notes``, ``.provenance`` and ``.write_report(folder)``.

    Raises
    ------
    InvalidParameterError
        Inputs that are not Recordings, an unknown measure or metric, an unknown conditions column,
        Recordings over different samples.

    Notes
    -----
    The measures are computed on each population as it is (unmatched sizes); the matched
    comparison subsamples every population to the same numbers of units and samples and binarizes
    all by one rule before comparing (see :func:`neurocomplex.compare`). A difference that is not
    significant is not evidence of similarity. Every similarity pair is bootstrapped with the same
    seed, so replicate r resamples the same stimuli everywhere and the best-layer distribution is
    a joint one.

    Examples
    --------
    >>> import numpy as np, neurocomplex as nc
    >>> rng = np.random.default_rng(0)
    >>> s = rng.normal(size=(80, 6))
    >>> layers = {"l1": nc.Recording.from_array(s @ rng.normal(size=(6, 20))),
    ...           "l2": nc.Recording.from_array(np.tanh(rng.normal(size=(80, 20))))}
    >>> counts = rng.poisson(np.exp(0.3 * layers["l1"].data[:, :10]))
    >>> areas = {"V1": nc.Recording.from_array(counts, kind="spike_counts")}
    >>> res = nc.brain_vs_network(areas, layers, measures=["participation_ratio"], metrics=["cka"],
    ...                           n_boot=20, n_draws=2)
    >>> res.best_layers[["metric", "area", "best_layer"]].values.tolist()
    [['cka', 'V1', 'l1']]
    """
    from neurocomplex.comparison.similarity import METRICS
    from neurocomplex.measures import get_estimator

    area_map, layer_map = _check_recordings(areas, "areas"), _check_recordings(layers, "layers")
    measures = list(DEFAULT_MEASURES if measures is None else measures)
    for name in measures:
        get_estimator(name)  # unknown names fail before any work
    metrics = list(metrics)
    for metric in metrics:
        if metric not in METRICS:
            raise InvalidParameterError(f"metric {metric!r} is not one of {METRICS}.")
    check_int("n_boot", n_boot, 0)
    check_int("n_draws", n_draws, 2)
    check_int("seed", seed, 0)
    if truth is not None:
        unknown = {str(a): str(x) for a, x in dict(truth).items()
                   if str(a) not in map(str, area_map) or str(x) not in map(str, layer_map)}
        if unknown:
            raise InvalidParameterError(f"truth names areas or layers that are not given: {unknown} "
                                        f"(areas {list(area_map)}, layers {list(layer_map)}).")
    steps = Steps(3 + len(metrics), progress, desc="brain vs network")
    try:
        result = run_comparison(area_map, layer_map, measures=measures, metrics=metrics, conditions=conditions,
                                n_boot=n_boot, n_draws=n_draws, seed=seed, truth=truth, steps=steps,
                                progress=False if progress is False else None)
    finally:
        steps.close()
    if out is not None:
        result.write_report(out)
    return result
