"""Timing of the complexity estimators (MEASURES.md §4).

    .venv/bin/python benchmarks/bench_complexity.py [--quick]
    .venv/bin/python benchmarks/bench_complexity.py --interval [--quick]
    .venv/bin/python benchmarks/bench_complexity.py --wide
    .venv/bin/python benchmarks/bench_complexity.py --multiword
    .venv/bin/python benchmarks/bench_complexity.py --many [--quick]

1. complexity_curve (10 scales, ``SCALES``) on 10^5 samples x 256 binary units:
   - structured: the on/off states of the second ReLU layer (256 units) of a random He-initialized
     network R^d -> 256 -> 256 on standard Gaussian inputs, d = 5 (inputs on a low-dimensional
     manifold) and d = 20;
   - a latent-variable spiking model: 256 Bernoulli neurons driven by 3 shared Gaussian latents;
   - uniform random words (every pair about 128 bits apart: the worst case, where nothing merges
     until large radii and every pair of the 10^5 distinct words has to be compared once).
   The peer is a plain implementation of the same rule (per-cluster loop against all survivors,
   one popcount row per cluster), timed on a 2,000-sample subset and checked for equality.
2. reconstruction_complexity up to k_max = 16 on 10^4 samples x 100 -> 100 units (a random
   two-layer ReLU map, so that e(k) needs many clusters), compared with scikit-learn's KMeans +
   Ridge doing the same cross-validation (test dependency).
3. ``--interval``: pattern_complexity's default call (``n_boot=100``, scale 0.1) first, then the
   same call with ``n_boot=0``, round-robin, at n = 10^4, 3 x 10^4 and 10^5 samples of 32 and 64
   units (independent Bernoulli units, rates uniform in [0.01, 0.1]; and the latent-variable
   spiking model with 64 units), with the log-log slope of each over n; at 2 x 10^4 x 64 also 10
   replicates merged from scratch (the former route, scaled to 100) and the check that the default
   call's replicates equal them. A first call on small data is timed before (the compiled merge
   is loaded once per process).
4. ``--wide``: pattern_complexity's default call and ``n_boot=0`` on layers wider than the number of
   samples or nearly: thresholded ReLU-like activations (8 shared Gaussian factors plus noise) of
   200 x 32,768 and 2,000 x 16,384 units, and 5,000 samples of 4,096 units around 30 prototype
   words (4% of bits flipped). At scale 0.1 the radius is 410-3,277 bits.
5. ``--small``: pattern_complexity's and unit_entropy's default calls against their ``n_boot=0``
   calls on small recordings, where the replicates' fixed costs show: 500 x 10, 2,000 x 20 and
   10,000 x 16 of Poisson counts (3 shared latents), independent Bernoulli(0.2) units and
   thresholded ReLU-like float32 activations; best of 7 rounds, run round-robin.
6. ``--many``: pattern_complexity's default call first, then ``n_boot=0`` (scale 0.1), where the distinct
   words are too many for every pair to fit the pair budget (the pass over every pair within a
   budgeted radius): Poisson counts (rates uniform in [0.05, 0.5]) of 50 units over 50,000 and
   200,000 samples, independent Bernoulli(0.05) units 50,000 x 100, ReLU-like float32 layers
   20,000 x 512 and 5,000 x 4,096; then complexity_curve's default call on the 200,000 counts.
   ``--quick`` leaves out the 200,000 samples. The compiled threads used are printed.
"""

from __future__ import annotations

import math
import sys
import time
import warnings

import numpy as np

import neurocomplex as nc
from neurocomplex.measures._leader import entropy_exp
from neurocomplex.stats.words import count_words, hamming

QUICK = "--quick" in sys.argv
N = 20_000 if QUICK else 100_000
# 10 distinct scales: 0 and radii round(geomspace(1, 128, 9)) = 1, 2, 3, 6, 11, 21, 38, 70, 128 of 256
# (the default grid of complexity_curve floors instead and has 9 distinct radii for 256 units).
SCALES = np.concatenate([[0.0], np.unique(np.round(np.geomspace(1, 128, 9)))]) / 256


def relu_states(d: int, n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    h = np.maximum(x @ (rng.normal(size=(d, 256)) * np.sqrt(2 / d)), 0)
    return ((h @ (rng.normal(size=(256, 256)) * np.sqrt(2 / 256))) > 0).astype(np.uint8)


def latent_spikes(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 3))
    logits = z @ rng.normal(size=(3, 256)) - 2.0
    return (rng.random((n, 256)) < 1 / (1 + np.exp(-logits))).astype(np.uint8)


def plain_curve(b: np.ndarray, radii: list[int]) -> list[float]:
    """The rule with a Python loop over clusters (one vectorized popcount row per cluster)."""
    words, counts = count_words(b)
    leaders, weights = words, counts.astype(np.int64)
    packed_rank = np.arange(len(weights))  # rows of count_words are in packed-value order
    out, r_done = {0: entropy_exp(weights)}, 0
    for r in range(1, max(radii) + 1):
        order = np.lexsort((packed_rank, -weights))
        leaders, weights, packed_rank = leaders[order], weights[order], packed_rank[order]
        surv_idx: list[int] = []
        new_w = weights.copy()
        for i in range(len(weights)):
            if surv_idx:
                d = hamming(leaders[surv_idx], leaders[i][None, :])
                hit = np.flatnonzero(d <= r)
                if hit.size:
                    new_w[surv_idx[hit[0]]] += weights[i]
                    continue
            surv_idx.append(i)
        leaders, weights, packed_rank = leaders[surv_idx], new_w[surv_idx], packed_rank[surv_idx]
        out[r] = entropy_exp(weights)
        r_done = r
    return [out[min(r, r_done)] for r in radii]


def bench_curve() -> list[str]:
    lines = []
    cases = {"relu_d5": relu_states(5, N), "relu_d20": relu_states(20, N), "latent_spiking": latent_spikes(N),
             "uniform": (np.random.default_rng(1).random((N, 256)) < 0.5).astype(np.uint8)}
    for name, b in cases.items():
        rec = nc.Recording.from_array(b, kind="binary")
        t = time.perf_counter()
        est = nc.complexity_curve(rec, scales=SCALES, n_boot=0)
        ours = time.perf_counter() - t
        sub = b[:2000]
        radii = sorted(set(np.floor(est.diagnostics["scales"] * 256 + 1e-9).astype(int).tolist()))
        t = time.perf_counter()
        ref = plain_curve(sub, radii)
        peer = time.perf_counter() - t
        t = time.perf_counter()
        sub_est = nc.complexity_curve(nc.Recording.from_array(sub, kind="binary"), scales=np.array(radii) / 256)
        ours_sub = time.perf_counter() - t
        same = np.allclose(sub_est.diagnostics["complexity"], ref, rtol=1e-12)
        curve = ", ".join(f"{c:.4g}" for c in est.diagnostics["complexity"])
        lines.append(f"| {name} | {N} x 256 | {est.diagnostics['n_distinct_words']} | {ours:.1f} s | "
                     f"{ours_sub:.2f} s vs {peer:.2f} s (x{peer / ours_sub:.0f}, equal: {same}) | "
                     f"{est.value:.3f} (R² {est.diagnostics['r2']:.2f}) | {curve} |")
        print(lines[-1], flush=True)
    return lines


def sk_recon(x: np.ndarray, y: np.ndarray, k_max: int, tol: float) -> list[float]:
    from sklearn.cluster import KMeans
    from sklearn.linear_model import Ridge

    folds = np.array_split(np.random.default_rng(0).permutation(len(x)), 5)
    ss = float(np.sum((y - y.mean(0)) ** 2))
    errs = []
    for k in range(1, k_max + 1):
        sse = 0.0
        for test in folds:
            train = np.setdiff1d(np.arange(len(x)), test)
            km = KMeans(k, n_init=1, random_state=0).fit(x[train])  # one k-means++ start, as ours
            lab, lab_te = km.labels_, km.predict(x[test])
            for j in range(k):
                te = test[lab_te == j]
                if te.size:
                    model = Ridge(alpha=1e-6 * (lab == j).sum()).fit(x[train][lab == j], y[train][lab == j])
                    sse += float(np.sum((y[te] - model.predict(x[te])) ** 2))
        errs.append(sse / ss)
        if errs[-1] <= tol:
            break
    return errs


def bench_recon() -> list[str]:
    rng = np.random.default_rng(0)
    n = 2_000 if QUICK else 10_000
    x = rng.normal(size=(n, 100))
    y = np.maximum(x @ (rng.normal(size=(100, 100)) / 10), 0) @ (rng.normal(size=(100, 100)) / 10)
    xr, yr = nc.Recording.from_array(x), nc.Recording.from_array(y)
    t = time.perf_counter()
    est = nc.reconstruction_complexity(xr, yr, tolerance=0.01, k_max=16, n_boot=100)
    ours = time.perf_counter() - t
    t = time.perf_counter()
    ref = sk_recon(x, y, 16, 0.01)
    peer = time.perf_counter() - t
    errs = est.diagnostics["errors"]
    line = (f"| reconstruction_complexity | {n} x 100 -> 100, k tried {len(errs)} | {ours:.1f} s | "
            f"sklearn KMeans+Ridge {peer:.1f} s (x{peer / ours:.1f}) | C_rec={est.value:.3g} | "
            f"e(1)={errs[0]:.3f} vs {ref[0]:.3f}, e(last)={errs[-1]:.3f} vs {ref[-1]:.3f} |")
    print(line, flush=True)
    return [line]


def _bernoulli(n: int, d: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.random((n, d)) < rng.uniform(0.01, 0.1, d)).astype(np.uint8)


def _latent(n: int, d: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, 3)) @ rng.normal(size=(3, d)) - 3.0
    return (rng.random((n, d)) < 1 / (1 + np.exp(-logits))).astype(np.uint8)


def bench_interval() -> None:
    import warnings

    from _timing import round_times

    from neurocomplex.measures._leader import leader_merge_curve
    from neurocomplex.measures._word_bootstrap import count_bootstrap

    warnings.simplefilter("ignore", nc.NeurocomplexWarning)
    # The first merge of a process loads the compiled merge (numba, from its cache on disk): once.
    t = time.perf_counter()
    nc.pattern_complexity(nc.Recording.from_array(_bernoulli(1000, 16), kind="binary"), n_boot=10)
    print(f"first call in this process (1,000 x 16, loads the compiled merge): {time.perf_counter() - t:.2f} s")
    sizes = [10_000, 30_000] if QUICK else [10_000, 30_000, 100_000]
    print("| data | n x d | distinct words | clusters | default (n_boot=100) | n_boot=0 | ratio (best) | "
          "ratio (median of rounds) |")
    print("|---|---|---|---|---|---|---|---|")
    for name, make, d in (("bernoulli", _bernoulli, 32), ("bernoulli", _bernoulli, 64), ("latent", _latent, 64)):
        slopes = []
        for n in sizes:
            rec = nc.Recording.from_array(make(n, d), kind="binary")
            times = round_times([lambda r=rec: nc.pattern_complexity(r), lambda r=rec: nc.pattern_complexity(r, n_boot=0)],
                                2 if n < 100_000 else 1)
            est = nc.pattern_complexity(rec, n_boot=0)
            best = np.nanmin(times, axis=0)
            slopes.append((n, best[0], best[1]))
            print(f"| {name} | {n} x {d} | {est.diagnostics['n_distinct_words']} | {est.diagnostics['n_clusters']} | "
                  f"{best[0]:.2f} s | {best[1]:.2f} s | {best[0] / best[1]:.2f} | "
                  f"{np.median(times[:, 0] / times[:, 1]):.2f} |", flush=True)
        ln = np.log([s[0] for s in slopes])
        print(f"| {name} {d} units: log-log slope over n | | | | {np.polyfit(ln, np.log([s[1] for s in slopes]), 1)[0]:.2f} | "
              f"{np.polyfit(ln, np.log([s[2] for s in slopes]), 1)[0]:.2f} | | |", flush=True)
    # The former route: every replicate merged from scratch (10 replicates, scaled to 100).
    b = _bernoulli(20_000, 64)
    rec = nc.Recording.from_array(b, kind="binary")
    words, counts = count_words(b)
    t = time.perf_counter()
    est = nc.pattern_complexity(rec, n_boot=100)
    t_default = time.perf_counter() - t
    t = time.perf_counter()
    old = count_bootstrap(lambda w: float(leader_merge_curve(words, w, 64, np.array([6]))[0][0]), counts, None, 10, 0)
    t_old = (time.perf_counter() - t) * 10
    same = np.array_equal(est.diagnostics["bootstrap_replicates"][:10], old)
    print(f"\n20000 x 64 bernoulli: default call {t_default:.1f} s; 100 replicates merged from scratch "
          f"(10 timed x 10) {t_old:.1f} s; the first 10 replicates identical: {same}")


def bench_multiword() -> None:
    """leader_merge_curve alone at radius n_units / 10 on words of 2-7 integers (100-400 units):
    10 Gaussian latents through a random map plus unit noise, each unit on above its 80th percentile."""
    from neurocomplex.measures._leader import leader_merge_curve

    rng = np.random.default_rng(0)
    print("| n x d | distinct words | integers per word | time (best of 3) | C |")
    print("|---|---|---|---|---|")
    for n, d in ((1000, 100), (2000, 200), (3000, 400), (4000, 300), (8000, 200), (20000, 128)):
        z = rng.standard_normal((n, 10)) @ rng.standard_normal((10, d)) + rng.standard_normal((n, d))
        words, counts = count_words((z > np.quantile(z, 0.8, axis=0)).astype(np.uint8))
        best = np.inf
        for _ in range(3):
            t = time.perf_counter()
            c = leader_merge_curve(words, counts, d, np.array([d // 10]))[0][0]
            best = min(best, time.perf_counter() - t)
        print(f"| {n} x {d} | {words.shape[0]} | {words.shape[1]} | {best * 1e3:.0f} ms | {c:.4f} |", flush=True)


def bench_wide() -> None:
    import warnings

    from _timing import round_times

    warnings.simplefilter("ignore", nc.NeurocomplexWarning)
    rng = np.random.default_rng(0)
    print("| data | n x d | distinct words | clusters | default (n_boot=100) | n_boot=0 | value | interval |")
    print("|---|---|---|---|---|---|---|---|")
    for kind, n, d in (("relu", 200, 32_768), ("relu", 2_000, 16_384), ("prototypes", 5_000, 4_096)):
        if kind == "relu":
            z = rng.standard_normal((n, 8)) @ rng.standard_normal((8, d)) + 2 * rng.standard_normal((n, d))
            rec = nc.Recording.from_array(np.maximum(z - 1.0, 0).astype(np.float32))
        else:
            protos = rng.random((30, d)) < 0.2
            flips = rng.random((n, d)) < 0.04
            rec = nc.Recording.from_array((protos[rng.integers(0, 30, n)] ^ flips).astype(np.uint8), kind="binary")
        times = round_times([lambda r=rec: nc.pattern_complexity(r), lambda r=rec: nc.pattern_complexity(r, n_boot=0)], 1)
        est = nc.pattern_complexity(rec)
        ci = "none" if est.ci is None else f"({est.ci[0]:.2f}, {est.ci[1]:.2f})"
        print(f"| {kind} | {n} x {d} | {est.diagnostics['n_distinct_words']} | {est.diagnostics['n_clusters']} | "
              f"{times[0, 0]:.2f} s | {times[0, 1]:.2f} s | {est.value:.2f} | {ci} |", flush=True)


def bench_many_words() -> None:
    import warnings

    from neurocomplex._threads import max_threads

    warnings.simplefilter("ignore", nc.NeurocomplexWarning)
    nc.pattern_complexity(nc.Recording.from_array(_bernoulli(1000, 16), kind="binary"), n_boot=10)  # loads the compiled code

    def poisson(n: int, d: int) -> nc.Recording:
        rng = np.random.default_rng(1)
        return nc.Recording.from_array(rng.poisson(rng.uniform(0.05, 0.5, d), (n, d)), kind="spike_counts")

    def relu(n: int, d: int) -> nc.Recording:
        rng = np.random.default_rng(1)
        z = rng.standard_normal((n, 8)) @ rng.standard_normal((8, d)) + rng.standard_normal((n, d))
        return nc.Recording.from_array(np.maximum(z, 0).astype(np.float32))

    def bernoulli(n: int, d: int) -> nc.Recording:
        rng = np.random.default_rng(1)
        return nc.Recording.from_array((rng.random((n, d)) < 0.05).astype(np.uint8), kind="binary")

    print(f"threads of the compiled passes: {max_threads()}")
    print("| data | n x d | distinct words | clusters | default (n_boot=100) | n_boot=0 | value | interval |")
    print("|---|---|---|---|---|---|---|---|")
    cases = [("Poisson counts", poisson, 50_000, 50), ("Poisson counts", poisson, 200_000, 50),
             ("Bernoulli 0.05", bernoulli, 50_000, 100), ("ReLU-like float32", relu, 20_000, 512),
             ("ReLU-like float32", relu, 5_000, 4_096)]
    for name, make, n, d in cases:
        if QUICK and n > 100_000:
            continue
        rec = make(n, d)
        t = time.perf_counter()
        full = nc.pattern_complexity(rec)
        t1 = time.perf_counter() - t
        t = time.perf_counter()
        est = nc.pattern_complexity(rec, n_boot=0)
        t0 = time.perf_counter() - t
        ci = "none" if full.ci is None else f"({full.ci[0]:.6g}, {full.ci[1]:.6g})"
        print(f"| {name} | {n:,} x {d:,} | {est.diagnostics['n_distinct_words']:,} | {est.diagnostics['n_clusters']:,} | "
              f"{t1:.2f} s | {t0:.2f} s | {est.value:.6g} | {ci} |", flush=True)
    if not QUICK:
        rec = poisson(200_000, 50)
        t = time.perf_counter()
        curve = nc.complexity_curve(rec)
        print(f"\ncomplexity_curve default, Poisson counts 200,000 x 50: {time.perf_counter() - t:.1f} s, "
              f"exponent {curve.value:.4f}")


def bench_small() -> None:
    """Default call against n_boot=0 on small recordings (section 5 of the docstring)."""
    rng = np.random.default_rng(0)

    def counts(n: int, d: int) -> np.ndarray:
        latent = rng.normal(size=(n, 3))
        return rng.poisson(np.exp(0.5 * latent @ rng.normal(size=(3, d)) - 1.0))

    def bernoulli(n: int, d: int) -> np.ndarray:
        return (rng.random((n, d)) < 0.2).astype(np.uint8)

    def relu(n: int, d: int) -> np.ndarray:
        latent = rng.normal(size=(n, 8))
        return np.maximum(latent @ rng.normal(size=(8, d)) + 0.3 * rng.normal(size=(n, d)), 0).astype(np.float32)

    print("| measure | data | size | distinct words | default (ms) | n_boot=0 (ms) | default / n_boot=0 |")
    print("|---|---|---|---|---|---|---|")
    for name in ("pattern_complexity", "unit_entropy"):
        func = getattr(nc, name)
        for kind, make in (("Poisson counts", counts), ("Bernoulli", bernoulli), ("ReLU float32", relu)):
            for n, d in ((500, 10), (2_000, 20), (10_000, 16)):
                rec = nc.Recording.from_array(make(n, d))
                func(rec)
                best = [math.inf, math.inf]
                for _ in range(7):
                    for k, kw in enumerate(({}, {"n_boot": 0})):
                        t = time.perf_counter()
                        func(rec, **kw)
                        best[k] = min(best[k], time.perf_counter() - t)
                words = nc.pattern_complexity(rec, n_boot=0).diagnostics["n_distinct_words"]
                print(f"| {name} | {kind} | {n:,} x {d} | {words:,} | {best[0] * 1e3:.1f} | {best[1] * 1e3:.1f} | "
                      f"{best[0] / best[1]:.2f} |", flush=True)


if __name__ == "__main__":
    if "--small" in sys.argv:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            bench_small()
        sys.exit(0)
    if "--wide" in sys.argv:
        bench_wide()
        sys.exit(0)
    if "--multiword" in sys.argv:
        bench_multiword()
        sys.exit(0)
    if "--many" in sys.argv:
        bench_many_words()
        sys.exit(0)
    if "--interval" in sys.argv:
        from threadpoolctl import threadpool_info

        print("BLAS:", sorted({(i["internal_api"], i.get("version"), i["num_threads"]) for i in threadpool_info()
                               if i["user_api"] == "blas"}))
        bench_interval()
        sys.exit(0)
    print("| data | size | distinct words | complexity_curve (10 scales) | 2,000-sample subset: ours vs plain loop | "
          "exponent | C(ε) at the scales |")
    print("|---|---|---|---|---|---|---|")
    bench_curve()
    bench_recon()
