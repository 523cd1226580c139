"""GPU against CPU for the estimators that work from second-order statistics or word counts, in one run.

    .venv/bin/python benchmarks/bench_gpu.py                   # device "cuda" when available
    .venv/bin/python benchmarks/bench_gpu.py --device cuda:1 --n-samples 100000

Rows: ``effective_dimension`` (default call with its interval, then ``n_boot=0``) and
``spectrum_exponent`` (default call) on ``--n-samples x --n-units`` float32 activity;
``pattern_entropy`` (plug-in and NSB, default calls) on ``--words-samples x 32`` binary units;
``word_entropy`` and ``entropy_rate`` (default calls) on 8 of those units; ``cka``
and ``shape_distance`` (default calls) of two populations; ``pattern_complexity`` (``n_boot=0``)
of the binary units; ``twonn_dimension`` (default call) on ``--twonn-samples`` of the activity
rows; ``nc.torch.summarize`` of an MLP on ``--net-inputs`` inputs.
Each row runs the numpy path (``device=None``; the model on the CPU for summarize) and the torch
path on ``--device``, reports both best-of-``--repeats`` times, their ratio and the largest relative
difference of the values (target 1e-5). Without the device (no CUDA here, or none lent to the
run), the GPU rows are skipped with a message and only the CPU times are printed; ``--device cpu``
times the torch path on the CPU instead.
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable

import numpy as np


def _best(func: Callable[[], object], repeats: int, sync: Callable[[], None]) -> tuple[float, object]:
    best, out = np.inf, None
    for _ in range(repeats):
        gc.collect()
        sync()
        start = time.perf_counter()
        out = func()
        sync()
        best = min(best, time.perf_counter() - start)
    return best, out


def _value_and_ci(est: object) -> np.ndarray:
    return np.array([est.value, *(est.ci or ())])


def _device_available(device: str) -> tuple[bool, str]:
    try:
        import torch
    except ImportError:
        return False, "torch is not installed"
    try:
        torch.empty(1, device=torch.device(device))
    except (RuntimeError, AssertionError, TypeError) as err:
        return False, f"device {device!r} is not available here ({str(err).splitlines()[0]})"
    return True, torch.cuda.get_device_name(torch.device(device)) if device.startswith("cuda") else "torch on the CPU"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--n-samples", type=int, default=300_000)
    parser.add_argument("--n-units", type=int, default=512)
    parser.add_argument("--words-samples", type=int, default=1_000_000)
    parser.add_argument("--net-inputs", type=int, default=100_000)
    parser.add_argument("--twonn-samples", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    import warnings

    import torch

    warnings.simplefilter("ignore")  # caveats of the measures (e.g. distinct words) are not timings

    import neurocomplex as nc

    ok, what = _device_available(args.device)
    print(f"device {args.device!r}: {what if ok else 'SKIPPED: ' + what}; CPU threads {torch.get_num_threads()}")

    def sync() -> None:
        if ok and args.device.startswith("cuda"):
            torch.cuda.synchronize()

    rng = np.random.default_rng(0)
    n, d = args.n_samples, args.n_units
    mixing = (rng.standard_normal((d, d), dtype=np.float32) * (np.arange(1, d + 1, dtype=np.float32) ** -0.5)[:, None])
    rec = nc.Recording.from_array(rng.standard_normal((n, d), dtype=np.float32) @ mixing + np.float32(3.0))
    words = nc.Recording.from_array((rng.random((args.words_samples, 32)) < 0.1).astype(np.float32), kind="binary")
    rec_small = nc.Recording.from_array(np.tanh(rec.data[:, : d // 4]) + rng.standard_normal((n, d // 4), dtype=np.float32))
    cloud = nc.Recording.from_array(rec.data[: args.twonn_samples].astype(np.float64))
    words8 = nc.Recording.from_array(words.data[:, :8], kind="binary")
    net = nc.torch.mlp([64, 256, 256, 64], seed=0)
    inputs = torch.randn(args.net_inputs, 64, generator=torch.Generator().manual_seed(0))

    rows: list[tuple[str, Callable[[object], object], Callable[[object], np.ndarray]]] = [
        (f"effective_dimension, {n} x {d} float32, default (n_boot=100)",
         lambda dev: nc.effective_dimension(rec, device=dev), _value_and_ci),
        (f"effective_dimension, {n} x {d} float32, n_boot=0",
         lambda dev: nc.effective_dimension(rec, n_boot=0, device=dev), lambda e: np.array([e.value])),
        (f"spectrum_exponent, {n} x {d} float32, default (grouped jackknife, 10 exact refits)",
         lambda dev: nc.spectrum_exponent(rec, device=dev), _value_and_ci),
        (f"pattern_entropy plugin, {args.words_samples} x 32 binary, default",
         lambda dev: nc.pattern_entropy(words, method="plugin", device=dev), lambda e: np.array([e.value])),
        (f"pattern_entropy nsb, {args.words_samples} x 32 binary, default",
         lambda dev: nc.pattern_entropy(words, method="nsb", device=dev), lambda e: np.array([e.value])),
        (f"word_entropy nsb, length 4 words of 8 units, {args.words_samples} bins, default",
         lambda dev: nc.word_entropy(words8, length=4, device=dev), _value_and_ci),
        (f"entropy_rate nsb, 1 unit, words up to 8 bins, {args.words_samples} bins, default",
         lambda dev: nc.entropy_rate(words8, unit=0, device=dev), _value_and_ci),
        (f"cka, {n} x {d} against {n} x {d // 4} float32, default",
         lambda dev: nc.cka(rec, rec_small, device=dev), _value_and_ci),
        (f"shape_distance, {n} x {d} against {n} x {d // 4} float32, default",
         lambda dev: nc.shape_distance(rec, rec_small, device=dev), _value_and_ci),
        (f"pattern_complexity, {args.words_samples} x 32 binary, n_boot=0 (words counted on the device)",
         lambda dev: nc.pattern_complexity(words, n_boot=0, device=dev), _value_and_ci),
        (f"twonn_dimension, {args.twonn_samples} x {d} float64, default",
         lambda dev: nc.twonn_dimension(cloud, device=dev), _value_and_ci),
        (f"nc.torch.summarize, MLP 64-256-256-64, {args.net_inputs} inputs",
         lambda dev: nc.torch.summarize(net, inputs, device=dev, progress=False),
         lambda t: t["value"].to_numpy(dtype=float)),
    ]
    print("| computation | CPU (numpy) time (s) | device time (s) | CPU / device | max relative difference |")
    print("|---|---|---|---|---|")
    for name, run, values in rows:
        t_cpu, out_cpu = _best(lambda run=run: run(None), args.repeats, lambda: None)
        if not ok:
            print(f"| {name} | {t_cpu:.3f} | skipped (no device) | - | - |")
            continue
        run(args.device)  # warm up the device (kernels, allocator)
        t_dev, out_dev = _best(lambda run=run: run(args.device), args.repeats, sync)
        a, b = values(out_cpu), values(out_dev)
        finite = np.isfinite(a) & np.isfinite(b)
        diff = float(np.max(np.abs(a[finite] - b[finite]) / np.maximum(np.abs(a[finite]), 1e-300))) if finite.any() else np.nan
        print(f"| {name} | {t_cpu:.3f} | {t_dev:.3f} | {t_cpu / t_dev:.1f} | {diff:.1e} |")


if __name__ == "__main__":
    main()
