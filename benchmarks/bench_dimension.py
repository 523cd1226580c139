"""Effective dimension against scikit-learn PCA and a bare float32 ``X.T @ X``, in one run.

    .venv/bin/python benchmarks/bench_dimension.py                 # 300,000 x 512 float32
    .venv/bin/python benchmarks/bench_dimension.py --n-samples 50000 --n-units 256

BLAS runs single-threaded by default (``--threads``), so that the ratios do not depend on how busy
the machine's other cores are. Prints the best-of-``--repeats`` wall time of each method (run round-robin), the ratios, the peak memory above the
input measured with tracemalloc (numpy reports its allocations to it), and the agreement of the
eigenvalues with scikit-learn's ``explained_variance_``.
"""

from __future__ import annotations

import argparse
import gc
import time
import tracemalloc
from collections.abc import Callable

import numpy as np


def _best_times(funcs: list[Callable[[], object]], repeats: int) -> list[float]:
    """Best wall time of each function, run round-robin so that all see the same machine load."""
    best = [np.inf] * len(funcs)
    for _ in range(repeats):
        for i, func in enumerate(funcs):
            gc.collect()
            start = time.perf_counter()
            func()
            best[i] = min(best[i], time.perf_counter() - start)
    return best


def _peak_bytes(func: Callable[[], object]) -> int:
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    func()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak - base


def _accuracy(nc, pca_cls) -> None:
    """Effective dimension of float32 data with a growing mean, against a float64 reference."""
    from neurocomplex.measures.dimension import effective_dimension_from_eigenvalues as from_eigenvalues

    rng = np.random.default_rng(1)
    n, d = 100_000, 64
    mixing = rng.standard_normal((d, d), dtype=np.float32) * (np.arange(1, d + 1, dtype=np.float32) ** -0.5)[:, None]
    z = rng.standard_normal((n, d), dtype=np.float32) @ mixing
    print(f"accuracy on {n} x {d} float32 data, mean offset added (reference: float64 np.cov of the same data)")
    print("| offset | D reference | D effective_dimension | D from PCA | max eigenvalue error / top, ours | PCA |")
    print("|---|---|---|---|---|---|")
    for offset in (3.0, 100.0, 1000.0):
        x = z + np.float32(offset)
        ref = np.linalg.eigvalsh(np.cov(x.astype(np.float64), rowvar=False))[::-1]
        ours = nc.effective_dimension(nc.Recording.from_array(x), n_boot=0).diagnostics["eigenvalues"]
        ev = np.clip(pca_cls().fit(x).explained_variance_.astype(np.float64), 0, None)
        print(f"| {offset:g} | {from_eigenvalues(ref):.4f} | {from_eigenvalues(ours):.4f} | {from_eigenvalues(ev):.4f} "
              f"| {np.abs(ours - ref).max() / ref[0]:.1e} | {np.abs(ev - ref).max() / ref[0]:.1e} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=300_000)
    parser.add_argument("--n-units", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--n-boot", type=int, default=100, help="also time one bootstrap run (0: skip)")
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS threads (default 1: on a shared, busy machine threaded BLAS timings are noise)")
    args = parser.parse_args()
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=args.threads, user_api="blas"):
        _run(args)


def _run(args: argparse.Namespace) -> None:

    from sklearn.decomposition import PCA

    import neurocomplex as nc
    from neurocomplex.stats.covariance import DEFAULT_CHUNK_ROWS

    n, d = args.n_samples, args.n_units
    rng = np.random.default_rng(0)
    # correlated float32 activity with a decaying spectrum and a nonzero mean
    mixing = (rng.standard_normal((d, d), dtype=np.float32) * (np.arange(1, d + 1, dtype=np.float32) ** -0.5)[:, None])
    x = rng.standard_normal((n, d), dtype=np.float32) @ mixing + np.float32(3.0)
    rec = nc.Recording.from_array(x)
    print(f"data: {n} x {d} float32 ({x.nbytes / 2**20:.0f} MiB), chunk_rows={DEFAULT_CHUNK_ROWS}, "
          f"repeats={args.repeats}, BLAS threads={args.threads}")

    def ours() -> object:
        return nc.effective_dimension(rec, n_boot=0)

    def pca() -> object:
        return PCA().fit(x)

    def gram() -> object:
        return x.T @ x

    ours()  # warm up (imports, BLAS threads)
    t_ours, t_pca, t_gram = _best_times([ours, pca, gram], args.repeats)
    est, fitted = ours(), pca()
    ev = fitted.explained_variance_.astype(np.float64)
    rel = float(np.max(np.abs(est.diagnostics["eigenvalues"] - ev)) / ev[0])
    d_pca = nc.measures.dimension.effective_dimension_from_eigenvalues(ev, 1)

    m_ours, m_pca = _peak_bytes(ours), _peak_bytes(pca)
    target = 2 * d * d * 8 + DEFAULT_CHUNK_ROWS * d * 4
    print(f"sklearn solver: {fitted._fit_svd_solver}")
    print("| method | time (s) | ratio to effective_dimension | peak memory above input (MiB) |")
    print("|---|---|---|---|")
    print(f"| nc.effective_dimension(n_boot=0) | {t_ours:.3f} | 1.00 | {m_ours / 2**20:.1f} |")
    print(f"| sklearn PCA().fit | {t_pca:.3f} | {t_pca / t_ours:.2f} | {m_pca / 2**20:.1f} |")
    print(f"| float32 X.T @ X | {t_gram:.3f} | {t_gram / t_ours:.2f} | {d * d * 4 / 2**20:.1f} (output) |")
    print(f"effective_dimension / X.T@X time: {t_ours / t_gram:.2f} (target <= 1.3)")
    print(f"effective_dimension / PCA time: {t_ours / t_pca:.2f} (target <= 1.0)")
    print(f"peak memory {m_ours / 2**20:.1f} MiB vs target 2*d^2*8 + one chunk = {target / 2**20:.1f} MiB; "
          f"input {x.nbytes / 2**20:.0f} MiB")
    print(f"D = {est.value:.6f} (from PCA eigenvalues: {d_pca:.6f}); max |eigenvalue diff| / top = {rel:.2e}")
    _accuracy(nc, PCA)
    if args.n_boot:
        start = time.perf_counter()
        boot = nc.effective_dimension(rec, n_boot=args.n_boot)
        t_boot = time.perf_counter() - start
        m_boot = _peak_bytes(lambda: nc.effective_dimension(rec, n_boot=args.n_boot))
        n_blocks = -(-n // boot.params["block_size"])
        print(f"with n_boot={args.n_boot} ({n_blocks} blocks of {boot.params['block_size']} samples): "
              f"{t_boot:.2f} s ({t_boot / t_ours:.1f}x n_boot=0), peak memory above input {m_boot / 2**20:.0f} MiB "
              f"(block statistics {n_blocks * d * d * 8 / 2**20:.0f} MiB); D = {boot.value:.4f}, "
              f"95% CI = ({boot.ci[0]:.4f}, {boot.ci[1]:.4f})")


if __name__ == "__main__":
    main()
