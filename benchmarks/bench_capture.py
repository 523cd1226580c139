"""Streaming layer statistics (nc.torch.summarize) against the naive capture-then-compute approach.

Model: a 784-512-512-512-10 ReLU MLP with He-initialised random weights; 50,000 random inputs
(uniform in [0, 1], like pixel intensities). Statistics of every ReLU layer and the output:
effective dimension, participation ratio, activation ratio and NSB pattern entropy.

- streaming: ``nc.torch.summarize(model, x, batch_size=1024)``: per-batch covariance, active counts
  and packed word counts; activations are never kept.
- naive: forward hooks that append each batch's output to a list, ``torch.cat``, then the same
  statistics from the full matrices (``np.cov`` in float64 + ``np.linalg.eigvalsh``; ``(h > 0).mean()``;
  ``np.unique(..., axis=0)`` on the binary rows + the same NSB estimator).

Each approach runs in its own process; peak memory is the process's peak resident set size
(``ru_maxrss``) minus its resident size just before the run (after model and inputs exist).

Run: ``.venv/bin/python benchmarks/bench_capture.py [--n-samples 50000] [--repeats 1]``
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

WIDTHS = [784, 512, 512, 512, 10]
BATCH = 1024


def _setup(n_samples: int):
    import torch

    # imported before the baseline is taken, so that both approaches pay only for their own work
    import neurocomplex.measures.dimension
    import neurocomplex.measures.entropy
    import neurocomplex.torch.streaming  # noqa: F401
    from neurocomplex.torch.models import mlp

    model = mlp(WIDTHS, seed=0).eval()
    x = torch.rand(n_samples, WIDTHS[0], generator=torch.Generator().manual_seed(0))
    return model, x


def _streaming(model, x) -> dict[str, dict[str, float]]:
    from neurocomplex.torch.streaming import summarize

    table = summarize(model, x, batch_size=BATCH, progress=False)
    out: dict[str, dict[str, float]] = {}
    for row in table.itertuples():
        out.setdefault(row.layer, {})[row.measure] = float(row.value)
    return out


def _naive(model, x) -> dict[str, dict[str, float]]:
    import torch

    from neurocomplex.measures.entropy import entropy_from_counts

    stores: dict[str, list] = {}
    names = [n for n, m in model.named_modules() if isinstance(m, torch.nn.ReLU)]
    handles = []
    for name in names:
        stores[name] = []
        handles.append(model.get_submodule(name).register_forward_hook(
            lambda mod, args, out, name=name: stores[name].append(out.detach().clone())))
    stores["output"] = []
    try:
        with torch.no_grad():
            for start in range(0, x.shape[0], BATCH):
                stores["output"].append(model(x[start : start + BATCH]))
    finally:
        for h in handles:
            h.remove()
    out: dict[str, dict[str, float]] = {}
    for name, chunks in stores.items():
        h = torch.cat(chunks).numpy()
        chunks.clear()
        lam = np.clip(np.linalg.eigvalsh(np.cov(h, rowvar=False))[::-1], 0, None)
        p = lam / lam.sum()
        nz = p[p > 0]
        binary = h > 0
        _, counts = np.unique(np.packbits(binary, axis=1), axis=0, return_counts=True)
        out[name] = {
            "effective_dimension": float(np.exp(-(nz * np.log(nz)).sum())),
            "participation_ratio": float(lam.sum() ** 2 / (lam**2).sum()),
            "activation_ratio": float(binary.mean()),
            "pattern_entropy": float(entropy_from_counts(counts, h.shape[1], "nsb", 2.0)[0]),
        }
    return out


def _child(approach: str, n_samples: int) -> None:
    import psutil
    import torch

    torch.set_num_threads(max(1, torch.get_num_threads()))
    model, x = _setup(n_samples)
    base_kib = psutil.Process().memory_info().rss / 1024
    t0 = time.perf_counter()
    values = (_streaming if approach == "streaming" else _naive)(model, x)
    seconds = time.perf_counter() - t0
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(json.dumps({"seconds": seconds, "peak_mib": max(peak_kib - base_kib, 0) / 1024, "values": values}))


def _run(approach: str, n_samples: int) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", approach, "--n-samples", str(n_samples)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--child", choices=["streaming", "naive"])
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.n_samples)
        return
    import torch

    print(f"model {'-'.join(map(str, WIDTHS))} ReLU, {args.n_samples} inputs, batch {BATCH}, "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU")
    results = {}
    for approach in ("streaming", "naive"):
        runs = [_run(approach, args.n_samples) for _ in range(args.repeats)]
        results[approach] = {
            "seconds": min(r["seconds"] for r in runs),
            "peak_mib": min(r["peak_mib"] for r in runs),
            "values": runs[0]["values"],
        }
        print(f"{approach:>9}: {results[approach]['seconds']:7.2f} s   peak +{results[approach]['peak_mib']:8.1f} MiB")
    s, n = results["streaming"], results["naive"]
    print(f"ratio naive/streaming: time {n['seconds'] / s['seconds']:.2f}x, "
          f"peak memory {n['peak_mib'] / max(s['peak_mib'], 1e-9):.1f}x")
    worst = 0.0
    print(f"{'layer':>8} {'measure':>20} {'streaming':>12} {'naive':>12} {'rel. diff':>10}")
    for layer, measures in s["values"].items():
        for name, value in measures.items():
            ref = n["values"][layer][name]
            rel = abs(value - ref) / max(abs(ref), 1e-300)
            worst = max(worst, rel if math.isfinite(rel) else math.inf)
            print(f"{layer:>8} {name:>20} {value:12.6g} {ref:12.6g} {rel:10.2e}")
    print(f"largest relative difference: {worst:.2e}")


if __name__ == "__main__":
    main()
