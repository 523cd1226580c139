"""Timing of the complexity estimators (MEASURES.md §4).

    .venv/bin/python benchmarks/bench_complexity.py [--quick]

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
"""

from __future__ import annotations

import sys
import time

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


if __name__ == "__main__":
    print("| data | size | distinct words | complexity_curve (10 scales) | 2,000-sample subset: ours vs plain loop | "
          "exponent | C(ε) at the scales |")
    print("|---|---|---|---|---|---|---|")
    bench_curve()
    bench_recon()
