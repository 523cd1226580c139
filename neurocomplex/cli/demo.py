"""``neurocomplex demo``: the bundled recording and network, analysed with no download."""

from __future__ import annotations

import argparse

from neurocomplex.cli._common import DEFAULT_MEASURES, analyze, print_notes, print_table, write_csv

__all__ = ["build", "run"]


def build(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", metavar="DIR", default=None, help="write the tables as CSV into this folder")
    parser.add_argument("--n-boot", type=int, default=50, metavar="N",
                        help="bootstrap replicates for confidence intervals (default: 50)")


def run(args: argparse.Namespace) -> int:
    import json

    import neurocomplex as nc
    from neurocomplex._bundled import bundled_path

    path = bundled_path("demo_recording.nwb")
    # 0.5 s bins: long enough that the latent rate fluctuations, not Poisson counting noise,
    # dominate the covariance (at 0.1 s the noise adds ~20 dimensions to both areas)
    rec = nc.load(path, bin_size=0.5)
    table = analyze({"demo_recording": rec}, DEFAULT_MEASURES, "group", args.n_boot, 0)
    print_table(table, f"Bundled recording: {rec}")
    print_notes(table)
    truth = json.loads(bundled_path("demo_recording_truth.json").read_text())
    print("Known answer (from the generator, data/make_demo_recording.py):")
    for area, info in truth["areas"].items():
        print(f"  {area}: {info['n_latents']} latent variables; effective dimension of its firing rates "
              f"{info['rate_effective_dimension']['fine']['exp_entropy']:.3g}")
    print("  Spike counts add Poisson noise in every direction, so their effective dimension is larger than")
    print("  that of the rates; the ordering of the areas is what the counts must (and do) preserve.")
    print()
    write_csv(table, args.out, "demo_recording_measures")

    try:
        from neurocomplex.torch.models import load_demo_network, load_demo_probe
    except ImportError as err:  # torch is an optional extra
        print(f"(bundled network skipped: {err})")
        return 0
    model = load_demo_network()
    probes, _ = load_demo_probe()
    layers = nc.torch.record(model, probes, progress=False)
    net_table = analyze(layers, DEFAULT_MEASURES, None, args.n_boot, 0)
    print_table(net_table, f"Bundled network (a ReLU MLP on 8x8 digits), {len(probes)} probe inputs, per layer:")
    print_notes(net_table)
    write_csv(net_table, args.out, "demo_network_measures")
    return 0
