"""Representational similarity: linear CKA against a bare float32 ``X.T @ Y``, the layer-area map
against its own point values, RSA against rsatoolbox.

    .venv/bin/python benchmarks/bench_similarity.py                       # every part, full sizes
    .venv/bin/python benchmarks/bench_similarity.py --part cka --p 2048 --q 1024
    .venv/bin/python benchmarks/bench_similarity.py --part matrix
    .venv/bin/python benchmarks/bench_similarity.py --part rsa --n-conditions 500
    .venv/bin/python benchmarks/bench_similarity.py --part shape --repeats 1
    .venv/bin/python benchmarks/bench_similarity.py --part small --repeats 7

Part ``cka``: X is 10,000 x 4,096 and Y 10,000 x 512, float32. Times the default call
``nc.cka(x, y)`` (debiased, with its interval from 50 blocks of products formed by slabs within
512 MiB) first, then ``n_boot=0``, the plug-in form without interval, and one float32 ``X.T @ Y``
(the reference product), with ``X.T @ X`` for scale. Part ``matrix``: ``nc.similarity_matrix``
of 4 areas (50-400 units) x 8 layers (64-4,096 units, float32; ``--layer-widths``) on 500
stimuli (``--stimuli``), the default call (CKA, 200 replicates) first, then ``n_boot=0`` and a
plain numpy loop of the plug-in CKA values from each recording's centred Gram matrix
(``--matrix-metrics`` adds other metrics). Part ``rsa``: 1,000 conditions x 1,000 units per
population; ``nc.rsa`` (default call, then ``n_boot=0``) against rsatoolbox's ``calc_rdm`` of
both datasets plus ``compare``, for Spearman and Kendall's tau-a, with the largest difference of
the RDMs and of the compared values. Part ``shape``: ``nc.shape_distance`` of one layer against one
area at five shapes (5,000 x 512 vs 512 to 200 x 20,000 vs 100), default call then ``n_boot=0``. Part
``small``: ``nc.cka`` default call against ``n_boot=0`` for small populations (1,000 x 20 vs 20,
100 x 50 vs 50, 5,000 x 64 vs 64, 1,000 x 500 vs 10, 3,000 x 10 vs 400; a float32 side driven by
6 shared latents and a rectified float64 side). BLAS
runs single-threaded (``--threads``) so that the ratios
do not depend on the load of a shared machine; times are the best of ``--repeats`` round-robin runs.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
from _timing import best_times


def _cka_part(nc, args) -> None:
    rng = np.random.default_rng(0)
    n, p, q = args.n_samples, args.p, args.q
    latent = rng.standard_normal((n, 64), dtype=np.float32)
    x = latent @ rng.standard_normal((64, p), dtype=np.float32) + rng.standard_normal((n, p), dtype=np.float32)
    y = np.maximum(latent @ rng.standard_normal((64, q), dtype=np.float32), 0) + 0.5 * rng.standard_normal(
        (n, q), dtype=np.float32)
    rx, ry = nc.Recording.from_array(x), nc.Recording.from_array(y)
    ref = {}

    def default():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ref["default"] = nc.cka(rx, ry)
        ref["warnings"] = [str(w.message) for w in caught]

    def no_boot():
        ref["no_boot"] = nc.cka(rx, ry, n_boot=0)

    def plugin():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref["plugin"] = nc.cka(rx, ry, n_boot=0, debiased=False)

    names = ["nc.cka(x, y)  [default call: debiased, interval from 50 blocks]", "nc.cka(x, y, n_boot=0)",
             "nc.cka(x, y, n_boot=0, debiased=False)", "float32 X.T @ Y", "float32 X.T @ X"]
    funcs = [default, no_boot, plugin, lambda: x.T @ y, lambda: x.T @ x]
    times = best_times(funcs, args.repeats)
    print(f"\n## Linear CKA, {n:,} x {p:,} against {n:,} x {q:,} float32 ({args.threads} BLAS thread)\n")
    print("| method | time (s) | ratio to X.T @ Y | ratio to n_boot=0 |")
    print("|---|---|---|---|")
    for name, t in zip(names, times, strict=True):
        print(f"| {name} | {t:.3f} | {t / times[3]:.2f} | {t / times[1]:.2f} |")
    x64, y64 = x.astype(np.float64), y.astype(np.float64)
    x64 -= x64.mean(0)
    y64 -= y64.mean(0)
    exact = np.linalg.norm(x64.T @ y64) ** 2 / (np.linalg.norm(x64.T @ x64) * np.linalg.norm(y64.T @ y64))
    est, plug = ref["default"], ref["plugin"]
    print(f"\nDefault (debiased) CKA = {est.value:.9f}, interval {est.ci} from {est.diagnostics['n_blocks']} "
          f"blocks; plug-in {plug.value:.9f} (float64 reference {exact:.9f}, relative difference "
          f"{abs(plug.value - exact) / exact:.1e}); null_floor of the plug-in {est.diagnostics['null_floor']:.4f}")
    flops_ratio = 1 + (p * p + q * q) / (2 * p * q)
    print(f"Multiply-adds of the three products relative to X.T @ Y: 1 + (p² + q²) / (2pq) = {flops_ratio:.2f}")
    for msg in ref["warnings"]:
        print(f"warning of the default call: {msg}")


def _matrix_part(nc, args) -> None:
    rng = np.random.default_rng(2)
    n = args.stimuli
    latent = rng.standard_normal((n, 20))
    areas = {f"area{i}": nc.Recording.from_array(latent @ rng.standard_normal((20, w)) + rng.standard_normal((n, w)))
             for i, w in enumerate((50, 100, 200, 400))}
    layers = {}
    for i, w in enumerate(args.layer_widths):
        act = np.maximum(latent @ rng.standard_normal((20, w)), 0) + 0.5 * rng.standard_normal((n, w))
        layers[f"layer{i}"] = nc.Recording.from_array(act.astype(np.float32))

    def numpy_loop():  # each recording's centred Gram matrix once, then every pair
        grams = {}
        for name, rec in (*areas.items(), *layers.items()):
            xc = rec.data.astype(np.float64)
            xc -= xc.mean(0)
            grams[name] = xc @ xc.T
        return [np.vdot(grams[a], grams[lay]) / np.sqrt(np.vdot(grams[a], grams[a]) * np.vdot(grams[lay], grams[lay]))
                for a in areas for lay in layers]

    print(f"\n## similarity_matrix, 4 areas x {len(layers)} layers ({', '.join(map(str, args.layer_widths))} units) "
          f"on {n} stimuli ({args.threads} BLAS thread)\n")
    print("| call | time (s) | ratio to its n_boot=0 call |")
    print("|---|---|---|")
    for metric in args.matrix_metrics:
        def default(metric=metric):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                nc.similarity_matrix(areas, layers, metric=metric, progress=False)

        def no_boot(metric=metric):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                nc.similarity_matrix(areas, layers, metric=metric, n_boot=0, progress=False)

        funcs = [default, no_boot] + ([numpy_loop] if metric == "cka" else [])
        times = best_times(funcs, args.repeats if metric == "cka" else 1)
        print(f"| nc.similarity_matrix(metric={metric!r})  [default call] | {times[0]:.3f} | "
              f"**{times[0] / times[1]:.2f}** |")
        print(f"| nc.similarity_matrix(metric={metric!r}, n_boot=0) | {times[1]:.3f} | 1.00 |")
        if metric == "cka":
            print(f"| numpy loop of the {len(areas) * len(layers)} plug-in CKA values (each Gram matrix once) | "
                  f"{times[2]:.3f} | "
                  f"{times[2] / times[1]:.2f} |")


def _shape_part(nc, args) -> None:
    """shape_distance of one layer against one area at five shapes (each a ReLU float32 layer and
    Poisson counts sharing 8 latent dimensions), the default call first, then ``n_boot=0``."""
    from neurocomplex._threads import max_threads

    print(f"\n## shape_distance, one pair ({args.threads} BLAS thread for the estimate; the replicates' "
          f"decompositions on {max_threads()} threads with BLAS on one thread)\n")
    print("| stimuli x layer units vs area units | default (s) | n_boot=0 (s) | ratio | distance | interval |")
    print("|---|---|---|---|---|---|")
    for n, dl, da in ((5000, 512, 512), (500, 2000, 300), (3000, 64, 64), (200, 20000, 100), (2000, 4096, 200)):
        rng = np.random.default_rng(3)
        z = rng.standard_normal((n, 8))
        layer = np.maximum(z @ rng.standard_normal((8, dl)) + rng.standard_normal((n, dl)), 0).astype(np.float32)
        area = rng.poisson(np.exp(0.3 * z @ rng.standard_normal((8, da)) - 0.5))
        rx, ry = nc.Recording.from_array(layer), nc.Recording.from_array(area, kind="spike_counts")
        out = {}

        def default(rx=rx, ry=ry, out=out):
            out["default"] = nc.shape_distance(rx, ry)

        def no_boot(rx=rx, ry=ry):
            nc.shape_distance(rx, ry, n_boot=0)

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", nc.NeurocomplexWarning)
            times = best_times([default, no_boot], args.repeats)
        est = out["default"]
        print(f"| {n:,} x {dl:,} vs {da:,} | {times[0]:.2f} | {times[1]:.2f} | {times[0] / times[1]:.1f} | "
              f"{est.value:.4f} | ({est.ci[0]:.4f}, {est.ci[1]:.4f}) |", flush=True)


def _rsa_part(nc, args) -> None:
    import rsatoolbox
    from rsatoolbox.data import Dataset

    rng = np.random.default_rng(1)
    n, d = args.n_conditions, args.units
    shared = rng.standard_normal((n, 20))
    a = shared @ rng.standard_normal((20, d)) + rng.standard_normal((n, d))
    b = np.tanh(shared @ rng.standard_normal((20, d))) + rng.standard_normal((n, d))
    ra, rb = nc.Recording.from_array(a), nc.Recording.from_array(b)
    da, db = Dataset(a), Dataset(b)
    print(f"\n## RSA, {n:,} conditions x {d:,} units per population (correlation distance)\n")
    print("| compare | method | time (s) | ratio rsatoolbox / ours |")
    print("|---|---|---|---|")
    for ours, theirs in (("spearman", "spearman"), ("kendall_tau_a", "tau-a")):
        out: dict = {}

        def tool(out=out, theirs=theirs):
            r1 = rsatoolbox.rdm.calc_rdm(da, method="correlation")
            r2 = rsatoolbox.rdm.calc_rdm(db, method="correlation")
            out["tool"] = (r1, rsatoolbox.rdm.compare(r1, r2, method=theirs)[0, 0])

        def default(out=out, ours=ours):
            out["default"] = nc.rsa(ra, rb, compare=ours)

        def no_boot(out=out, ours=ours):
            out["no_boot"] = nc.rsa(ra, rb, compare=ours, n_boot=0)

        reps = args.repeats if ours == "spearman" else 1
        times = best_times([default, no_boot, tool], reps)
        label = {"spearman": "Spearman", "kendall_tau_a": "Kendall tau-a"}[ours]
        print(f"| {label} | nc.rsa default (n_boot=200) | {times[0]:.3f} | {times[2] / times[0]:.2f} |")
        print(f"| {label} | nc.rsa(n_boot=0) | {times[1]:.3f} | {times[2] / times[1]:.2f} |")
        print(f"| {label} | rsatoolbox calc_rdm x 2 + compare | {times[2]:.3f} | 1.00 |")
        rdm_diff = np.abs(nc.rdm(ra) - out["tool"][0].get_matrices()[0]).max()
        print(f"|  | max abs difference: RDM {rdm_diff:.1e}, value "
              f"{abs(out['no_boot'].value - out['tool'][1]):.1e} ({out['no_boot'].value:.9f}) | | |")


def _small_part(nc, args) -> None:
    rng = np.random.default_rng(0)
    print("\n| n x p vs q | default (ms) | n_boot=0 (ms) | default / n_boot=0 |\n|---|---|---|---|")
    for n, p, q in ((1_000, 20, 20), (100, 50, 50), (5_000, 64, 64), (1_000, 500, 10), (3_000, 10, 400)):
        z = rng.normal(size=(n, 6))
        x = nc.Recording.from_array((z @ rng.normal(size=(6, p)) + rng.normal(size=(n, p))).astype(np.float32))
        y = nc.Recording.from_array(np.maximum(z @ rng.normal(size=(6, q)) + rng.normal(size=(n, q)), 0))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            default, bare = best_times([lambda x=x, y=y: nc.cka(x, y), lambda x=x, y=y: nc.cka(x, y, n_boot=0)],
                                       args.repeats)
        print(f"| {n:,} x {p} vs {q} | {default * 1e3:.1f} | {bare * 1e3:.1f} | {default / bare:.1f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("cka", "matrix", "rsa", "shape", "small", "all"), default="all")
    parser.add_argument("--n-samples", type=int, default=10_000)
    parser.add_argument("--p", type=int, default=4_096)
    parser.add_argument("--q", type=int, default=512)
    parser.add_argument("--n-conditions", type=int, default=1_000)
    parser.add_argument("--units", type=int, default=1_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--stimuli", type=int, default=500, help="stimuli of the matrix part")
    parser.add_argument("--layer-widths", type=int, nargs="+", default=[64, 128, 256, 512, 1024, 2048, 4096, 1000],
                        help="units of each layer of the matrix part")
    parser.add_argument("--matrix-metrics", nargs="+", default=["cka"],
                        choices=("cka", "rsa", "shape_distance", "predictivity"))
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    from threadpoolctl import threadpool_limits

    import neurocomplex as nc

    with threadpool_limits(limits=args.threads, user_api="blas"):
        if args.part in ("cka", "all"):
            _cka_part(nc, args)
        if args.part in ("matrix", "all"):
            _matrix_part(nc, args)
        if args.part in ("rsa", "all"):
            _rsa_part(nc, args)
        if args.part in ("shape", "all"):
            _shape_part(nc, args)
        if args.part in ("small", "all"):
            _small_part(nc, args)


if __name__ == "__main__":
    main()
