"""Effective dimension of a wide layer (more units than samples) against its floor, in one run.

    .venv/bin/python benchmarks/bench_wide.py                          # 500 x 16,384 float32
    .venv/bin/python benchmarks/bench_wide.py --n-samples 200 --n-units 4608 --threads 2

The floor is what any exact computation of the value must do: one float32 ``Xc @ Xc.T`` (``Xc``
centred beforehand, outside the timing) and ``np.linalg.eigvalsh`` of the ``n × n`` result. Three
kinds of activations: ReLU of correlated Gaussian inputs whose covariance has a power-law
spectrum (``k^-1``, like network layers), ReLU of white Gaussian inputs (a flat spectrum), and
Gaussian activity with a steeper spectrum (``k^-2`` on n/2 directions, plus white noise of sd
0.03; no ReLU), on which the perturbative
jackknife replicates pass their check (on the first two they do not, and every replicate is
exact). Methods run round-robin, the default call first;
prints best times, their ratios to the floor, the median of the ratios within each round, the
BLAS and its threads, which replicates the interval used, and the value against a float64
reference (the eigenvalues of the float64 Gram matrix of the same float32 values).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from _timing import round_times


def _activations(kind: str, n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    if kind == "decaying":  # Gaussian: spectrum k^-2 on n/2 directions in a random basis, plus white noise
        rank = n // 2
        basis = rng.standard_normal((rank, d), dtype=np.float32)
        z = rng.standard_normal((n, rank), dtype=np.float32) * (np.arange(1, rank + 1, dtype=np.float32) ** -1.0)
        return z @ basis + np.float32(0.03) * rng.standard_normal((n, d), dtype=np.float32) + np.float32(1.0)
    if kind == "white":
        return np.maximum(rng.standard_normal((n, d), dtype=np.float32) + np.float32(0.2), 0)
    # a power-law spectrum k^-1 in a random basis: z diag(k^-1/2) Qᵀ with Q from a few Householder-free
    # random rotations (a dense d x d QR would dominate the setup): low-rank mixing plus white noise
    rank = min(n, 256)
    basis = rng.standard_normal((rank, d), dtype=np.float32) / np.float32(np.sqrt(d))
    z = rng.standard_normal((n, rank), dtype=np.float32) * (np.arange(1, rank + 1, dtype=np.float32) ** -0.5)
    noise = np.float32(0.02) * rng.standard_normal((n, d), dtype=np.float32)
    return np.maximum(z @ basis * np.float32(np.sqrt(d)) + noise + np.float32(0.1), 0)


def _reference(x: np.ndarray, order: float = 1.0) -> float:
    from neurocomplex.measures.dimension import effective_dimension_from_eigenvalues

    x64 = x.astype(np.float64)
    xc = x64 - x64.mean(axis=0)
    lam = np.linalg.eigvalsh(xc @ xc.T)[::-1] / (x.shape[0] - 1)
    return effective_dimension_from_eigenvalues(np.where(lam > lam[0] * 1e-12, lam, 0.0), order)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=500)
    parser.add_argument("--n-units", type=int, default=16384)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (default 1)")
    args = parser.parse_args()
    import scipy.linalg  # noqa: F401  (every BLAS loaded before the limit is set)
    from threadpoolctl import threadpool_info, threadpool_limits

    import neurocomplex as nc

    with threadpool_limits(limits=args.threads, user_api="blas"):
        blas = {(i["internal_api"], i.get("version"), i["num_threads"]) for i in threadpool_info()
                if i["user_api"] == "blas"}
        print(f"BLAS: {sorted(blas)}; threads limited to {args.threads}")
        for kind in ("power_law", "white", "decaying"):
            _run(nc, kind, args)


def _run(nc, kind: str, args: argparse.Namespace) -> None:
    from neurocomplex.measures import dimension

    n, d = args.n_samples, args.n_units
    x = _activations(kind, n, d, np.random.default_rng(0))
    rec = nc.Recording.from_array(x)
    xc = x - x.mean(axis=0, dtype=np.float64).astype(np.float32)

    def default() -> object:
        return nc.effective_dimension(rec)

    def free() -> object:
        return nc.effective_dimension(rec, n_boot=0)

    def floor() -> object:
        return np.linalg.eigvalsh((xc @ xc.T).astype(np.float64))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nc.NeurocomplexWarning)
        default()  # warm up
        rounds = round_times([default, free, floor], args.repeats)
        est, est0 = default(), free()
        dimension._REPLICATES = "exact"
        start = time.perf_counter()
        exact = default()
        t_exact = time.perf_counter() - start
        dimension._REPLICATES = "auto"
    best = np.nanmin(rounds, axis=0)
    paired = np.median(rounds / rounds[:, 2:3], axis=0)
    ref = _reference(x)
    print(f"\n{kind} activations: {n} x {d} float32 ({x.nbytes / 2**20:.0f} MiB), repeats={args.repeats}")
    print("| method | time (s) | ratio to floor (best / paired median) |")
    print("|---|---|---|")
    print(f"| nc.effective_dimension(rec) (default, {est.diagnostics['interval']} interval, "
          f"{est.diagnostics['replicates']} replicates) | {best[0]:.4f} | {best[0] / best[2]:.2f} / {paired[0]:.2f} |")
    print(f"| nc.effective_dimension(rec, n_boot=0) | {best[1]:.4f} | {best[1] / best[2]:.2f} / {paired[1]:.2f} |")
    print(f"| floor: float32 Xc @ Xc.T + eigvalsh ({n} x {n}) | {best[2]:.4f} | 1.00 |")
    print(f"| the default call with exact replicates (timed once) | {t_exact:.4f} | {t_exact / best[2]:.2f} |")
    print(f"D = {est.value:.10f}, float64 reference {ref:.10f}, relative difference "
          f"{abs(est.value / ref - 1):.1e} (n_boot=0: {abs(est0.value / ref - 1):.1e})")
    print(f"interval {est.ci[0]:.4f}..{est.ci[1]:.4f} (exact replicates: {exact.ci[0]:.4f}..{exact.ci[1]:.4f}); "
          f"check error {est.diagnostics.get('replicate_check_error', float('nan')):.3f}; jackknife se "
          f"{est.diagnostics['jackknife_se']:.4g} (exact {exact.diagnostics['jackknife_se']:.4g})")


if __name__ == "__main__":
    main()
