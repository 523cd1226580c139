"""nc.torch.summarize on wide conv layers: refused up front with default options, finished within
2 GB with a sketch, and the sketch's error against the exact value where the exact value is feasible.

Model: three 3x3 convolutions with 64 channels (3 -> 64 -> 64 -> 64, padding 1), each followed by a
ReLU, He-initialised with seed 0, in eval mode. Inputs: 10,000 images of 3 x 64 x 64 with the 1/f
amplitude spectrum of natural images (seeded), scaled to [0, 1], as one float32 tensor. Each ReLU
is a 64 x 64 x 64 feature map: 262,144 units.

Parts (each in its own process; peak memory is the process's peak resident set size, ``ru_maxrss``,
read at the end, and its increase over the resident size just before the call):

- ``default``: ``nc.torch.summarize(model, images)``: the default options. Expected: refused before
  the first batch; the time to the refusal and the message.
- ``sketch``: ``nc.torch.summarize(model, images, sketch=K, stats=(effective dimension,
  participation ratio, activation ratio))``: the documented option (the distinct binary words of the
  pattern entropy would take 1.2 GiB per layer, and all 10,000 words of 262,144 units are distinct).
- ``channels``: the other way out the refusal names, ``flatten="channels"`` (64 units, 40,960,000
  samples per layer: a different quantity, exact).
- ``gram``: the case that grew to 17 GB resident before: a 3 -> 16 -> 16-channel conv net (3x3,
  ReLUs) on 200 random images of 3 x 32 x 32 (16,384 units per layer), default options: the exact
  Gram route, against a float64 reference from the recorded layers.
- ``spectra``: prescribed spectra (1,500 Gaussian samples of 8,000 units whose population covariance
  has eigenvalues ``n^-alpha``, alpha = 0.7, 1, 1.5, 2, or 300 equal ones, in a random basis): the
  exact values (Gram route) against sketches of 512 to 4096 dimensions, ``--seeds`` projections each.
- ``error``: on the first ``--n-exact`` images, every layer's exact effective dimension and
  participation ratio (``summarize`` on the recorded layer, whose 1,000 rows take the exact Gram
  route) against sketches of the same rows (``--error-sketches`` sizes, ``--seeds`` projections
  each); the exact value on 10,000 images (a 10,000 x 10,000 Gram of 262,144-unit rows per layer)
  is not feasible on this machine.

Run: ``.venv/bin/python benchmarks/bench_summarize_wide.py [--n-images 10000] [--sketch 2048]
[--n-exact 1000] [--seeds 3] [--error-sketches 1024,2048,4096]
[--parts default,sketch,channels,error,spectra,gram]``
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

DIMS = ("effective_dimension", "participation_ratio")
LAYERS = ("1", "3", "5")


def _images(n: int, size: int = 64, seed: int = 0):
    """Images with a 1/f amplitude spectrum (natural-image statistics), shared across colour channels
    in part, scaled to [0, 1]."""
    import torch

    g = torch.Generator().manual_seed(seed)
    fy = torch.fft.fftfreq(size).reshape(-1, 1)
    fx = torch.fft.rfftfreq(size).reshape(1, -1)
    amplitude = 1.0 / torch.sqrt(fx**2 + fy**2).clamp(min=1.0 / size)
    out = torch.empty(n, 3, size, size)
    for start in range(0, n, 500):
        b = min(500, n - start)
        shared = torch.randn(b, 1, size, size // 2 + 1, dtype=torch.complex64, generator=g)
        own = torch.randn(b, 3, size, size // 2 + 1, dtype=torch.complex64, generator=g)
        img = torch.fft.irfft2((0.8 * shared + 0.6 * own) * amplitude, s=(size, size))
        lo = img.amin(dim=(1, 2, 3), keepdim=True)
        hi = img.amax(dim=(1, 2, 3), keepdim=True)
        out[start : start + b] = (img - lo) / (hi - lo)
    return out


def _model():
    import torch
    from torch import nn

    torch.manual_seed(0)
    layers = []
    for c_in in (3, 64, 64):
        conv = nn.Conv2d(c_in, 64, 3, padding=1)
        nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")
        nn.init.zeros_(conv.bias)
        layers += [conv, nn.ReLU()]
    return nn.Sequential(*layers).eval()


def _rss_mib() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _child(part: str, args: argparse.Namespace) -> dict:
    import warnings

    import neurocomplex as nc
    import neurocomplex.measures.dimension
    import neurocomplex.torch.streaming
    from neurocomplex.errors import InvalidParameterError

    warnings.simplefilter("ignore")
    if part == "spectra":
        return _spectra(args)
    if part == "gram":
        return _gram_case()
    model = _model()
    n = args.n_exact if part == "error" else args.n_images
    images = _images(n)
    import pandas  # noqa: F401

    base = _rss_mib()
    out: dict = {"part": part, "n_images": n, "baseline_rss_mib": base}
    t0 = time.perf_counter()
    if part == "default":
        try:
            nc.torch.summarize(model, images, progress=False)
            out["refused"] = False
        except InvalidParameterError as err:
            out["refused"] = True
            out["message"] = str(err)
    elif part in ("sketch", "channels"):
        opts = {"sketch": args.sketch} if part == "sketch" else {"flatten": "channels"}
        table = nc.torch.summarize(model, images, stats=(*DIMS, "activation_ratio"), progress=False, **opts)
        out["rows"] = table[["layer", "measure", "value", "n_samples", "n_units", "method",
                             "warnings"]].to_dict("records")
    else:
        from torch import nn

        out["layers"] = {}
        for key in LAYERS:
            acts = nc.torch.record(model, images, layers=[key], memory_limit=None)[key].data
            import torch

            x = torch.from_numpy(acts)
            exact = nc.torch.summarize(nn.Identity(), x, stats=DIMS, progress=False, memory_limit=None)
            sketches = {}
            for k in sorted({args.sketch, *(int(v) for v in args.error_sketches.split(",") if v)}):
                sketches[k] = [nc.torch.summarize(nn.Identity(), x, stats=DIMS, progress=False, sketch=k,
                                                  seed=seed)["value"].tolist() for seed in range(args.seeds)]
            out["layers"][key] = {"exact": exact["value"].tolist(), "method": exact["method"].tolist(),
                                  "sketch": sketches}
            del acts, x
    out["seconds"] = time.perf_counter() - t0
    out["peak_rss_mib"] = _peak_mib()
    out["peak_increase_mib"] = out["peak_rss_mib"] - base
    return out


def _gram_case() -> dict:
    import numpy as np
    import torch
    from torch import nn

    import neurocomplex as nc

    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 16, 3, padding=1), nn.ReLU()).eval()
    images = torch.rand(200, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    import pandas  # noqa: F401

    out: dict = {"part": "gram", "n_images": 200, "baseline_rss_mib": _rss_mib()}
    t0 = time.perf_counter()
    table = nc.torch.summarize(model, images, progress=False)
    out["seconds"] = time.perf_counter() - t0
    out["peak_rss_mib"] = _peak_mib()
    out["peak_increase_mib"] = out["peak_rss_mib"] - out["baseline_rss_mib"]
    out["rows"] = table[["layer", "measure", "value", "n_samples", "n_units", "method",
                         "warnings"]].to_dict("records")
    recs = nc.torch.record(model, images, layers=["1", "3"])
    worst = 0.0
    for row in out["rows"]:
        if row["layer"] not in recs or row["measure"] not in DIMS:
            continue
        data = recs[row["layer"]].data.astype(np.float64)
        c = data - data.mean(0)
        lam = np.linalg.eigvalsh(c @ c.T)[::-1]
        lam = lam[lam > lam[0] * math.sqrt(data.shape[1]) * np.finfo(np.float32).eps]
        p = lam / lam.sum()
        ref = math.exp(-np.sum(p * np.log(p))) if row["measure"] == "effective_dimension" else 1 / np.sum(p**2)
        worst = max(worst, abs(row["value"] / ref - 1))
    out["largest_relative_difference"] = worst
    return out


def _spectra(args: argparse.Namespace) -> dict:
    import torch
    from torch import nn

    import neurocomplex as nc

    n, d = 1500, 8000
    g = torch.Generator().manual_seed(0)
    cases = {f"power law alpha={a:g}": torch.arange(1, n + 1.0) ** -a for a in (0.7, 1.0, 1.5, 2.0)}
    cases["300 equal"] = torch.ones(300)
    out: dict = {"part": "spectra", "n_images": n, "baseline_rss_mib": _rss_mib(), "cases": {}}
    t0 = time.perf_counter()
    for name, lam in cases.items():
        z = torch.randn(n, lam.numel(), generator=g) * lam.sqrt()
        x = z @ torch.linalg.qr(torch.randn(d, lam.numel(), generator=g))[0].T
        exact = nc.torch.summarize(nn.Identity(), x, stats=DIMS, progress=False)["value"].tolist()
        per_k = {}
        for k in (512, 1024, 2048, 4096):
            per_k[k] = [nc.torch.summarize(nn.Identity(), x, stats=DIMS, progress=False, sketch=k,
                                           seed=seed)["value"].tolist() for seed in range(args.seeds)]
        out["cases"][name] = {"exact": exact, "sketch": per_k}
    out["seconds"] = time.perf_counter() - t0
    out["peak_rss_mib"] = _peak_mib()
    out["peak_increase_mib"] = out["peak_rss_mib"] - out["baseline_rss_mib"]
    return out


def _run(part: str, args: argparse.Namespace) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", part, "--n-images", str(args.n_images),
           "--sketch", str(args.sketch), "--n-exact", str(args.n_exact), "--seeds", str(args.seeds),
           "--error-sketches", args.error_sketches]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def _report(res: dict) -> None:
    part = res["part"]
    print(f"\n## {part}: {res['n_images']:,} images, {res['seconds']:.2f} s, peak RSS {res['peak_rss_mib']:.0f} MiB "
          f"(+{res['peak_increase_mib']:.0f} MiB over {res['baseline_rss_mib']:.0f} MiB before the call)")
    if part == "default":
        print("refused" if res["refused"] else "NOT refused")
        print(res.get("message", ""))
    elif part in ("sketch", "channels", "gram"):
        if part == "gram":
            print(f"  largest relative difference of the dimensions from a float64 reference: "
                  f"{res['largest_relative_difference']:.1e}")
        for r in res["rows"]:
            print(f"  {r['layer']:>6} {r['measure']:>20} {r['value']:12.5g}  n_samples {r['n_samples']:>10,}  "
                  f"n_units {r['n_units']:>7,}  {r['method']}")
            if r.get("warnings"):
                print(f"         warning: {r['warnings']}")
    elif part == "spectra":
        print(f"  {'spectrum':>22} {'exact D1':>9} {'exact PR':>9}  k: mean relative error of D1 / of PR "
              "(min .. max over projections)")
        for name, v in res["cases"].items():
            cells = []
            for k, runs in v["sketch"].items():
                e1 = [r[0] / v["exact"][0] - 1 for r in runs]
                e2 = [r[1] / v["exact"][1] - 1 for r in runs]
                cells.append(f"{k}: {sum(e1) / len(e1):+.3f} ({min(e1):+.3f}..{max(e1):+.3f}) / "
                             f"{sum(e2) / len(e2):+.3f} ({min(e2):+.3f}..{max(e2):+.3f})")
            print(f"  {name:>22} {v['exact'][0]:9.2f} {v['exact'][1]:9.2f}  " + "; ".join(cells))
    else:
        for key, v in res["layers"].items():
            for i, name in enumerate(DIMS):
                cells = []
                for k, runs in v["sketch"].items():
                    errs = [r[i] / v["exact"][i] - 1 for r in runs]
                    cells.append(f"k={k}: {sum(errs) / len(errs):+.3f} ({min(errs):+.3f}..{max(errs):+.3f})")
                print(f"  layer {key} {name:>20}: exact {v['exact'][i]:10.4f} ({v['method'][i]}); relative error "
                      "of the sketch, mean (min..max): " + "; ".join(cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-images", type=int, default=10_000)
    parser.add_argument("--sketch", type=int, default=2048)
    parser.add_argument("--n-exact", type=int, default=1000)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--error-sketches", default="1024,2048,4096",
                        help="sketch sizes compared with the exact values in the error part")
    parser.add_argument("--parts", default="default,sketch,channels,error,spectra,gram")
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.child, args)))
        return
    import torch

    print(f"3 x Conv2d(64, 3x3) + ReLU, 64 x 64 images, torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"CPU; sketch={args.sketch}")
    for part in args.parts.split(","):
        res = _run(part, args)
        _report(res)
        if part in ("sketch", "channels") and not math.isnan(res["peak_rss_mib"]):
            print(f"  within 2 GB peak RSS: {res['peak_rss_mib'] * 2**20 <= 2e9}")


if __name__ == "__main__":
    main()
