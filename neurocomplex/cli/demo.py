"""``neurocomplex demo``: the bundled data analysed with no download, ending in a brain-vs-network comparison.

Three parts: the measure table of the bundled recording (two areas of known dimension), that of
the bundled network's layers, and the comparison of the bundled known-answer case (simulated
areas that are noisy spiking readouts of the network's layers, shown the network's own digit
images): each area against each layer, the best layer of each area found by each similarity
metric next to the truth, and the matched comparison of the measures. The figures, CSV tables
and ``report.html`` go to ``--out`` (default ``./neurocomplex-demo``).
"""

from __future__ import annotations

import argparse
import sys

from neurocomplex.cli._common import DEFAULT_MEASURES, analyze, check_out, print_notes, print_table, write_csv
from neurocomplex.report import annotate_table, make_provenance

__all__ = ["build", "run"]

_DEMO_METRICS = ("cka", "predictivity")
_ZERO_RULE = "each estimator's default: value > 0 (a spike in the bin; a positive activation)"


def build(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", metavar="DIR", default="neurocomplex-demo",
                        help="folder for the CSV tables, figures and report.html (default: ./neurocomplex-demo)")
    parser.add_argument("--n-boot", type=int, default=50, metavar="N",
                        help="bootstrap replicates for confidence intervals (default: 50)")
    parser.add_argument("--no-progress", action="store_true", help="print no progress")


def _recording_part(args: argparse.Namespace) -> None:
    import json

    import neurocomplex as nc
    from neurocomplex._bundled import bundled_path

    path = bundled_path("demo_recording.nwb")
    # 0.5 s bins: long enough that the latent rate fluctuations, not Poisson counting noise,
    # dominate the covariance (at 0.1 s the noise adds ~20 dimensions to both areas)
    rec = nc.load(path, bin_size=0.5)
    table = analyze({"demo_recording": rec}, DEFAULT_MEASURES, "group", args.n_boot, 0)
    print_table(table, f"1. Bundled recording: {rec}")
    print_notes(table)
    truth = json.loads(bundled_path("demo_recording_truth.json").read_text())
    print("Known answer (from the generator, data/make_demo_recording.py):")
    for area, info in truth["areas"].items():
        print(f"  {area}: {info['n_latents']} latent variables; effective dimension of its firing rates "
              f"{info['rate_effective_dimension']['fine']['exp_entropy']:.3g}")
    print("  Spike counts add Poisson noise in every direction, so their effective dimension is larger than")
    print("  that of the rates; the ordering of the areas is what the counts must (and do) preserve.")
    print()
    prov = make_provenance(bin_size=0.5, binarization=_ZERO_RULE, n_boot=args.n_boot, seed=0,
                           file="demo_recording.nwb (bundled)")
    write_csv(annotate_table(table, prov, {"demo_recording": rec}), args.out, "demo_recording_measures")


def _network_part(args: argparse.Namespace) -> None:
    import neurocomplex as nc
    from neurocomplex.torch.models import load_demo_network, load_demo_probe

    model = load_demo_network()
    probes, _ = load_demo_probe()
    layers = nc.torch.record(model, probes, progress=False)
    net_table = analyze(layers, DEFAULT_MEASURES, None, args.n_boot, 0)
    print_table(net_table, f"2. Bundled network (a ReLU MLP on 8x8 digits), {len(probes)} probe inputs, per layer:")
    print_notes(net_table)
    prov = make_provenance(binarization=_ZERO_RULE, n_boot=args.n_boot, seed=0, model="demo_network.pt (bundled)",
                           inputs=f"{len(probes)} probe digits")
    write_csv(annotate_table(net_table, prov, layers), args.out, "demo_network_measures")


def _comparison_part(args: argparse.Namespace) -> None:
    import json

    import numpy as np

    import neurocomplex as nc
    from neurocomplex._bundled import bundled_path
    from neurocomplex._progress import Steps
    from neurocomplex.cli.compare import COMPARE_MEASURES, _close, network_responses, stimulus_rows
    from neurocomplex.comparison.brain_vs_network import run_comparison
    from neurocomplex.report import write_report
    from neurocomplex.torch.models import load_demo_network

    truth = json.loads(bundled_path("comparison_case_truth.json").read_text())
    steps = Steps(6 + len(_DEMO_METRICS), False if args.no_progress else None, desc="demo", lines=True)
    steps("loading the bundled comparison case")
    window = (float(truth["window"][0]), float(truth["window"][1]))
    rec = nc.load(bundled_path("comparison_case.nwb"), bin_size=0.01)
    responses = rec.trial_responses(truth.get("trial_table", "trials"), window=window, statistic="count")
    stimuli = np.load(bundled_path("comparison_case_stimuli.npy"), allow_pickle=False)
    steps("recording the network's layers on the stimuli shown")
    rows, column = stimulus_rows(responses.labels, len(stimuli), truth.get("stimulus_column"))
    layers = network_responses(load_demo_network(), stimuli, rows, responses.labels, progress=False)
    areas = responses.by_group()
    answer = {str(a): str(layer) for a, layer in truth["area_layer"].items()}
    result = run_comparison(areas, layers, measures=COMPARE_MEASURES, metrics=_DEMO_METRICS, conditions=None,
                            n_boot=args.n_boot, n_draws=20, seed=0, truth=answer, steps=steps, progress=False)
    tables, figures, notes = result.tables(), result.figures(), list(result.notes)

    print(f"3. Brain against network: {len(areas)} simulated areas ({responses.n_samples} trials, spike counts in "
          f"{window[0]:g}-{window[1]:g} s) against the {len(layers)} layers of the bundled network on the same "
          "stimuli.")
    print("   Each area is a noisy spiking readout of one layer (data/make_comparison_case.py): the known answer.")
    print()
    best = result.best_layers
    shown = [c for c in ("metric", "area", "best_layer", "value", "ci_low", "ci_high", "best_fraction", "truth",
                         "correct") if c in best.columns]
    _print_plain(best[shown], "Best layer of each area, by each similarity metric, against the truth:")
    n_right = int(best["correct"].sum()) if "correct" in best.columns else 0
    print(f"   {n_right} of {len(best)} (metric, area) pairs find the layer the area was generated from.")
    print()
    matched = tables["matched"]
    cols = [c for c in ("measure", "a", "b", "difference", "ci_low", "ci_high", "p_value", "significant")
            if c in matched.columns]
    pairs = matched
    if {"a", "b"} <= set(matched.columns):
        pairs = matched[matched["a"].str.startswith("area:") & matched["b"].str.startswith("area:")]
    _print_plain(pairs[cols] if cols else pairs, "Matched comparison of the areas (same units and samples, "
                      "one binarization rule):")
    identical = truth.get("identical_areas")
    if identical:
        print(f"   {identical[0]} and {identical[1]} were generated identically: their differences should not be "
              "significant.")
        print()
    steps(f"writing {args.out}")
    prov = make_provenance(bin_size=None, binarization=_rule(matched), n_boot=args.n_boot, seed=0, n_draws=20,
                           file="comparison_case.nwb (bundled)", trials=truth.get("trial_table", "trials"),
                           window_s=f"{window[0]:g} to {window[1]:g}", stimulus_column=column,
                           model="demo_network.pt (bundled)", generator_seed=truth.get("seed"))
    notes = [
        "The bundled known-answer case: simulated brain areas whose units are noisy spiking readouts of chosen "
        f"layers of the bundled network ({', '.join(f'{a} from {layer}' for a, layer in answer.items())}), "
        "shown the network's own 8x8 digit images. A comparison must find each area's layer.",
        *notes,
    ]
    path = write_report(args.out, tables, figures, prov, title="neurocomplex demo: brain areas against network "
                        "layers", notes=notes)
    _close(figures)
    steps.close()
    print(f"wrote {path} (open it in a browser) and the CSV tables beside it")


def _rule(matched: object) -> str:
    from neurocomplex.cli.compare import _binarization

    return _binarization(matched)


def _print_plain(table: object, title: str) -> None:
    import pandas as pd

    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.max_rows", 200,
                           "display.float_format", "{:.4g}".format):
        print(title)
        print(table.to_string(index=False))  # type: ignore[attr-defined]
        print()


def run(args: argparse.Namespace) -> int:
    check_out(args.out, ["demo_recording_measures", "demo_network_measures", "measures", "matched"])
    _recording_part(args)
    try:
        import torch  # noqa: F401
    except ImportError as err:  # torch is an optional extra
        print(f"(bundled network and comparison skipped: {err})", file=sys.stderr)
        return 0
    _network_part(args)
    _comparison_part(args)
    return 0
