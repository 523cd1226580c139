"""The figures of a brain-versus-network report, made from a :class:`BrainVsNetwork` result."""

from __future__ import annotations

from typing import Any

__all__ = ["make_figures", "intervals_caption"]


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
    from neurocomplex.plotting import plot_measures, plot_profiles, plot_similarity_map

    table = result.measures
    figures: dict[str, Any] = {}
    caption = intervals_caption(table, "Measures of each area and each layer (95% bootstrap intervals; unmatched sizes)")
    figures[caption] = plot_measures(table)[0].figure
    area_rows, layer_rows = table[table["recording"] == "area"], table[table["recording"] == "layer"]
    figures["Profiles over depth: each measure per layer (line, interval band) with the areas beside it "
            "(squares, dashed lines at their values)"] = plot_profiles(layer_rows, area_rows)[0].figure
    values = result.matched_values
    if values is not None and len(values):
        prov = result.matched.attrs.get("provenance", {})
        figures[f"Matched measures: every population subsampled to {prov.get('n_units')} units and "
                f"{prov.get('n_samples')} samples; binarized by {prov.get('binarize', 'one rule')}"] = (
            plot_measures(values)[0].figure)
    truth = result.truth
    for metric in dict.fromkeys(result.similarity["metric"]) if len(result.similarity) else ():
        sim = result.similarity[result.similarity["metric"] == metric]
        best = result.best_layers[result.best_layers["metric"] == metric]
        ax = plot_similarity_map(sim, best=dict(zip(best["area"], best["best_layer"], strict=True)), truth=truth,
                                 higher_is_better=sim.attrs.get("higher_is_closer"))
        figures[f"Layer-area similarity, {metric} (outlined: best layer of each area"
                + ("; star: the known answer)" if truth else ")")] = ax.figure
    return figures
