"""The figures of a brain-versus-network report, made from a :class:`BrainVsNetwork` result.

One colour per population (area or layer) in every figure: the mapping is made once here and
passed to each plotting function.
"""

from __future__ import annotations

from typing import Any

__all__ = ["make_figures", "intervals_caption"]

_POINTS = ("Filled points are estimates with their 95% bootstrap intervals; where a basic interval lies beside "
           "an estimate biased by undersampling, the point is the bias-corrected estimate inside it and the raw "
           "estimate is an open marker; hatched grey points exceed what the number of samples can resolve "
           "(entropies above log2 of the number of samples: they come from the estimator's prior or bias "
           "correction, not from the data), with a dotted tick at that ceiling; a point ringed in dashed grey has no "
           "interval because its estimator withheld it (for example a pattern complexity limited by the number of "
           "samples, whose interval would lie beyond it; see the warnings column)")


def intervals_caption(table: Any, caption: str) -> str:
    """``caption``, plus a sentence naming the intervals that do not contain their value."""
    outside = table[(table["value"] < table["ci_low"]) | (table["value"] > table["ci_high"])]
    if outside.empty:
        return caption
    names = sorted({f"{m.replace('_', ' ')}" for m in outside["measure"]})
    return (f"{caption}. Intervals beside, not around, their value ({', '.join(names)}) are basic bootstrap "
            "intervals of an estimate biased by undersampling: resampling repeats samples and shifts it, and "
            "the interval, reflected about the estimate, lies on the other side, where the unbiased value "
            "is (see the warnings column)")


def make_figures(result: Any) -> dict[str, Any]:
    """Caption → Figure for the report of ``result`` (a :class:`BrainVsNetwork`)."""
    import matplotlib

    matplotlib.use("Agg")
    from neurocomplex.plotting import (
        plot_measures,
        plot_profiles,
        plot_similarity_map,
        plot_similarity_profile,
        recording_colors,
    )

    table = result.measures
    area_rows, layer_rows = table[table["recording"] == "area"], table[table["recording"] == "layer"]
    colors = recording_colors([*dict.fromkeys(area_rows["group"]), *dict.fromkeys(layer_rows["group"])])
    figures: dict[str, Any] = {}
    caption = intervals_caption(table, "Measures of each area and each layer (unmatched sizes)")
    figures[f"{caption}. {_POINTS}."] = plot_measures(table, colors=colors, color_by="group")[0].figure
    figures["Profiles over depth: each measure per layer (grey line, interval band) with the areas beside it "
            "(squares, dashed lines at their values); one colour per area and layer in every figure"] = (
        plot_profiles(layer_rows, area_rows, colors=colors)[0].figure)
    values = result.matched_values
    if values is not None and len(values):
        prov = result.matched.attrs.get("provenance", {})
        figures[f"Matched measures: every population subsampled to {prov.get('n_units')} units and "
                f"{prov.get('n_samples')} samples; binarized by {prov.get('binarize', 'one rule')}"] = (
            plot_measures(values, colors=colors, color_by="group")[0].figure)
    truth = result.truth
    for metric in dict.fromkeys(result.similarity["metric"]) if len(result.similarity) else ():
        sim = result.similarity[result.similarity["metric"] == metric]
        best = result.best_layers[result.best_layers["metric"] == metric]
        chosen = dict(zip(best["area"], best["best_layer"], strict=True))
        ax = plot_similarity_map(sim, best=chosen, truth=truth)
        figures[f"Layer-area similarity, {metric}, on the metric's full scale; each cell: the value with the "
                "digits its 95% interval justifies, and the interval (outlined: best layer of each area"
                + ("; star: the known answer)" if truth else ")")] = ax.figure
        ax = plot_similarity_profile(sim, best=chosen, colors=colors)
        figures[f"{metric} over depth: one line per area with its 95% interval band (ring: best layer)"] = ax.figure
    return figures
