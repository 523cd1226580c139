"""Effective dimension (default call with its interval, then without) against a bare float32 ``X.T @ X``
and scikit-learn PCA, in one run.

    .venv/bin/python benchmarks/bench_dimension.py                 # 300,000 x 512 float32
    .venv/bin/python benchmarks/bench_dimension.py --n-samples 50000 --n-units 256
    .venv/bin/python benchmarks/bench_dimension.py --sweep --units 64 256 1024 --samples 1000 10000 100000
    .venv/bin/python benchmarks/bench_dimension.py --counts
    .venv/bin/python benchmarks/bench_dimension.py --accuracy   # float32 data far from 0 only

``--sweep`` times the default call and ``n_boot=0`` over a grid of shapes (float32 data, the grid
points whose data exceed ``--max-gib`` skipped) against the floor ``X.T @ X`` + ``np.linalg.eigh``
of the ``d × d`` covariance, round-robin at each point, and prints the log-log slope of each
over ``n`` (at each ``d``) and over ``d`` (at each ``n``) next to the floor's.

``--counts`` times the default call and ``n_boot=0`` on Poisson spike counts (int64: 100,000 x 256,
396,000 x 100, 30,000 x 20) against the floor a user writes for counts, ``X.astype(float64)``,
``X.T @ X`` and ``np.linalg.eigh``, round-robin.

``--accuracy`` runs only the last part of the default run: float32 data with a mean offset from 3 to
3·10^7, the eigenvalues against float64 ``np.cov`` of the same array and the default call's interval
against that of the same values held in float64.

BLAS runs single-threaded by default (``--threads``), so that the ratios do not depend on how busy
the machine's other cores are. Prints the best-of-``--repeats`` wall time of each method (run
round-robin, the default call first), the ratios of best times and the median of the ratios within
each round, the peak memory above the input measured with
tracemalloc (numpy reports its allocations to it), the agreement of the eigenvalues with
scikit-learn's ``explained_variance_``, and the interval from exact replicates (timed once).
"""

from __future__ import annotations

import argparse
import gc
import time
import tracemalloc
from collections.abc import Callable

import numpy as np
from _timing import round_times


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
    """Effective dimension of float32 data with a growing mean, against a float64 reference; the
    default call's interval against that of the same values held in float64."""
    from neurocomplex.measures.dimension import effective_dimension_from_eigenvalues as from_eigenvalues

    rng = np.random.default_rng(1)
    n, d = 100_000, 64
    mixing = rng.standard_normal((d, d), dtype=np.float32) * (np.arange(1, d + 1, dtype=np.float32) ** -0.5)[:, None]
    z = rng.standard_normal((n, d), dtype=np.float32) @ mixing
    print(f"accuracy on {n} x {d} float32 data, mean offset added (reference: float64 np.cov of the same data)")
    print("| offset | D reference | D effective_dimension | D from PCA | max eigenvalue error / top, ours | PCA "
          "| default interval, ours | default interval of the same values in float64 |")
    print("|---|---|---|---|---|---|---|---|")
    for offset in (3.0, 100.0, 1000.0, 1e5, 1e6, 3e7):
        x = z + np.float32(offset)
        x64 = x.astype(np.float64)
        ref = np.linalg.eigvalsh(np.cov(x64, rowvar=False))[::-1]
        ours = nc.effective_dimension(nc.Recording.from_array(x), n_boot=0).diagnostics["eigenvalues"]
        ev = np.clip(pca_cls().fit(x).explained_variance_.astype(np.float64), 0, None)
        ci = nc.effective_dimension(nc.Recording.from_array(x)).ci
        ci64 = nc.effective_dimension(nc.Recording.from_array(x64 - offset)).ci
        print(f"| {offset:g} | {from_eigenvalues(ref):.4f} | {from_eigenvalues(ours):.4f} | {from_eigenvalues(ev):.4f} "
              f"| {np.abs(ours - ref).max() / ref[0]:.1e} | {np.abs(ev - ref).max() / ref[0]:.1e} "
              f"| ({ci[0]:.4f}, {ci[1]:.4f}) | ({ci64[0]:.4f}, {ci64[1]:.4f}) |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=300_000)
    parser.add_argument("--n-units", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--n-boot", type=int, default=100, help="replicates of the default call")
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS threads (default 1: on a shared, busy machine threaded BLAS timings are noise)")
    parser.add_argument("--sweep", action="store_true", help="time a grid of shapes instead")
    parser.add_argument("--counts", action="store_true", help="time integer spike counts instead")
    parser.add_argument("--accuracy", action="store_true", help="only the accuracy of float32 data far from 0")
    parser.add_argument("--units", type=int, nargs="+", default=[64, 256, 1024])
    parser.add_argument("--samples", type=int, nargs="+", default=[1000, 10_000, 100_000])
    parser.add_argument("--max-gib", type=float, default=4.0, help="largest data of the sweep (GiB)")
    args = parser.parse_args()
    # Load every BLAS first: threadpoolctl limits only the libraries loaded when it is entered, and
    # scipy's own OpenBLAS (loaded by scikit-learn) would otherwise keep idle threads spinning.
    import scipy.linalg  # noqa: F401
    import sklearn.decomposition  # noqa: F401
    from threadpoolctl import threadpool_info, threadpool_limits

    import neurocomplex  # noqa: F401

    with threadpool_limits(limits=args.threads, user_api="blas"):
        blas = sorted({(i["internal_api"], i.get("version"), i["num_threads"]) for i in threadpool_info()
                       if i["user_api"] == "blas"})
        print(f"BLAS: {blas}; threads limited to {args.threads}")
        if args.accuracy:
            from sklearn.decomposition import PCA

            import neurocomplex as nc

            _accuracy(nc, PCA)
        else:
            _sweep(args) if args.sweep else _counts(args) if args.counts else _run(args)


def _counts(args: argparse.Namespace) -> None:
    import warnings

    import neurocomplex as nc

    print("| int64 counts | default (s) | n_boot=0 (s) | floor (s) | default / floor | n_boot=0 / floor |")
    print("|---|---|---|---|---|---|")
    rng = np.random.default_rng(0)
    for n, d in ((100_000, 256), (396_000, 100), (30_000, 20)):
        latent = rng.normal(size=(n, 8))
        x = rng.poisson(np.exp(0.3 * latent @ rng.normal(size=(8, d)) - 1.0))
        rec = nc.Recording.from_array(x, kind="spike_counts")

        def floor(x=x) -> object:
            y = x.astype(np.float64)
            y -= y.mean(axis=0)
            return np.linalg.eigh(y.T @ y)

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            times = round_times([lambda rec=rec: nc.effective_dimension(rec),
                                 lambda rec=rec: nc.effective_dimension(rec, n_boot=0),
                                 floor], args.repeats)
        best = np.nanmin(times, axis=0)
        print(f"| {n:,} x {d} | {best[0]:.3f} | {best[1]:.3f} | {best[2]:.3f} | {best[0] / best[2]:.2f} | "
              f"{best[1] / best[2]:.2f} |", flush=True)


def _run(args: argparse.Namespace) -> None:

    from sklearn.decomposition import PCA

    import neurocomplex as nc
    from neurocomplex.measures import dimension
    from neurocomplex.stats.covariance import DEFAULT_CHUNK_ROWS

    n, d = args.n_samples, args.n_units
    rng = np.random.default_rng(0)
    # correlated float32 activity with a decaying spectrum and a nonzero mean
    mixing = (rng.standard_normal((d, d), dtype=np.float32) * (np.arange(1, d + 1, dtype=np.float32) ** -0.5)[:, None])
    x = rng.standard_normal((n, d), dtype=np.float32) @ mixing + np.float32(3.0)
    rec = nc.Recording.from_array(x)
    print(f"data: {n} x {d} float32 ({x.nbytes / 2**20:.0f} MiB), chunk_rows={DEFAULT_CHUNK_ROWS}, "
          f"repeats={args.repeats}, BLAS threads={args.threads}, n_boot={args.n_boot}")

    def default() -> object:
        return nc.effective_dimension(rec, n_boot=args.n_boot)

    def free() -> object:
        return nc.effective_dimension(rec, n_boot=0)

    def pca() -> object:
        return PCA().fit(x)

    def hundred() -> object:  # the same call with 100 blocks (block_size option)
        return nc.effective_dimension(rec, n_boot=args.n_boot, block_size=-(-n // 100))

    def ratio() -> object:  # order 2: exact replicates from traces and Frobenius norms
        return nc.participation_ratio(rec, n_boot=args.n_boot)

    def gram() -> object:
        return x.T @ x

    nc.effective_dimension(nc.Recording.from_array(x[:5000]))  # warm up (imports, BLAS threads)
    rounds = round_times([default, free, gram, pca, hundred, ratio], args.repeats)
    t_def, t_free, t_gram, t_pca, t_100, t_pr = rounds.min(axis=0)
    paired = np.median(rounds / rounds[:, 2:3], axis=0)  # ratios within each round
    est, boot, fitted = free(), default(), pca()
    ev = fitted.explained_variance_.astype(np.float64)
    rel = float(np.max(np.abs(est.diagnostics["eigenvalues"] - ev)) / ev[0])
    d_pca = nc.measures.dimension.effective_dimension_from_eigenvalues(ev, 1)
    m_def, m_free, m_pca = _peak_bytes(default), _peak_bytes(free), _peak_bytes(pca)
    n_blocks = -(-n // boot.params["block_size"])
    print(f"sklearn solver: {fitted._fit_svd_solver}")
    print("| method | time (s) | ratio to float32 X.T @ X | peak memory above input (MiB) |")
    print("|---|---|---|---|")
    print(f"| nc.effective_dimension(rec) (default: n_boot={args.n_boot}, {n_blocks} blocks) | {t_def:.3f} | "
          f"{t_def / t_gram:.2f} | {m_def / 2**20:.1f} |")
    print(f"| nc.effective_dimension(rec, n_boot=0) | {t_free:.3f} | {t_free / t_gram:.2f} | {m_free / 2**20:.1f} |")
    print(f"| float32 X.T @ X | {t_gram:.3f} | 1.00 | {d * d * 4 / 2**20:.1f} (output) |")
    print(f"| sklearn PCA().fit | {t_pca:.3f} | {t_pca / t_gram:.2f} | {m_pca / 2**20:.1f} |")
    print(f"| the default call with block_size=ceil(n/100) (100 blocks) | {t_100:.3f} | {t_100 / t_gram:.2f} | |")
    print(f"| nc.participation_ratio(rec) (default: exact replicates, traces and Frobenius norms) | {t_pr:.3f} | "
          f"{t_pr / t_gram:.2f} | |")
    print(f"default (with interval) / X.T@X: {t_def / t_gram:.2f} (target <= 2); "
          f"n_boot=0 / X.T@X: {t_free / t_gram:.2f} (target <= 1.2); n_boot=0 / PCA: {t_free / t_pca:.2f}")
    print(f"median of the ratios within each round: default {paired[0]:.2f}, n_boot=0 {paired[1]:.2f}, "
          f"PCA {paired[3]:.2f}, 100 blocks {paired[4]:.2f}, participation_ratio {paired[5]:.2f}")
    print(f"D = {est.value:.6f} (from PCA eigenvalues: {d_pca:.6f}); max |eigenvalue diff| / top = {rel:.2e}")
    # the same interval from exact replicates (one merge and eigendecomposition each), once
    dimension._REPLICATES = "exact"
    start = time.perf_counter()
    exact = nc.effective_dimension(rec, n_boot=args.n_boot)
    t_exact = time.perf_counter() - start
    dimension._REPLICATES = "auto"
    a, e = boot.diagnostics["bootstrap"], exact.diagnostics["bootstrap"]
    print(f"replicates: {boot.diagnostics['replicates']} (checked against exact: "
          f"{boot.diagnostics['replicate_check_error']:.1e} sd); 95% CI ({boot.ci[0]:.4f}, {boot.ci[1]:.4f})")
    print(f"exact replicates: {t_exact:.2f} s ({t_exact / t_gram:.1f}x X.T@X), 95% CI ({exact.ci[0]:.4f}, "
          f"{exact.ci[1]:.4f}); largest replicate difference {np.max(np.abs(a - e)) / e.std():.1e} sd, "
          f"CI ends differ by {max(abs(boot.ci[0] - exact.ci[0]), abs(boot.ci[1] - exact.ci[1])):.1e}")
    _accuracy(nc, PCA)


def _slope(x: list[float], t: list[float]) -> float:
    return float(np.polyfit(np.log(x), np.log(t), 1)[0]) if len(x) > 1 else float("nan")


def _time_point(nc, x: np.ndarray, args: argparse.Namespace) -> tuple[object, np.ndarray]:
    """The default call's estimate and the best times of default, n_boot=0, X.T@X and X.T@X + eigh."""
    import warnings

    rec = nc.Recording.from_array(x)

    def default() -> object:
        return nc.effective_dimension(rec, n_boot=args.n_boot)

    def free() -> object:
        return nc.effective_dimension(rec, n_boot=0)

    def gram() -> object:
        return x.T @ x

    def floor() -> object:
        return np.linalg.eigh((x.T @ x).astype(np.float64))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nc.NeurocomplexWarning)
        est = default()
        return est, np.nanmin(round_times([default, free, gram, floor], args.repeats), axis=0)


def _sweep(args: argparse.Namespace) -> None:
    """Default call, n_boot=0 and the floor over a grid of shapes, with log-log slopes."""
    import neurocomplex as nc

    rng = np.random.default_rng(0)
    times: dict[tuple[int, int], np.ndarray] = {}
    notes: dict[tuple[int, int], str] = {}
    print(f"sweep: repeats={args.repeats}, n_boot={args.n_boot}, float32 data with a k^-1/2-scaled random mixing")
    print("| d | n | default (s) | n_boot=0 (s) | X.T@X (s) | X.T@X + eigh (s) | default / floor | n_boot=0 / X.T@X "
          "| interval, replicates |")
    print("|---|---|---|---|---|---|---|---|---|")
    for d in args.units:
        mixing = rng.standard_normal((d, d), dtype=np.float32) * (np.arange(1, d + 1, dtype=np.float32) ** -0.5)[:, None]
        for n in args.samples:
            if n * d * 4 > args.max_gib * 2**30:
                continue
            x = np.empty((n, d), dtype=np.float32)
            for i in range(0, n, 65536):
                rows = min(65536, n - i)
                x[i : i + rows] = rng.standard_normal((rows, d), dtype=np.float32) @ mixing + np.float32(3.0)
            est, best = _time_point(nc, x, args)
            times[(d, n)] = best
            notes[(d, n)] = f"{est.diagnostics['interval']}, {est.diagnostics['replicates']}, {est.diagnostics['route']}"
            print(f"| {d} | {n} | {best[0]:.4f} | {best[1]:.4f} | {best[2]:.4f} | {best[3]:.4f} | "
                  f"{best[0] / best[3]:.2f} | {best[1] / best[2]:.2f} | {notes[(d, n)]} |", flush=True)
            del x
    print("\nlog-log slope of the time over n (at each d) and over d (at each n):")
    print("| over | at | default | n_boot=0 | floor (X.T@X + eigh) | X.T@X |")
    print("|---|---|---|---|---|---|")
    for d in args.units:
        ns = [n for n in args.samples if (d, n) in times]
        cols = [_slope(ns, [times[(d, n)][k] for n in ns]) for k in (0, 1, 3, 2)]
        print(f"| n | d = {d} | " + " | ".join(f"{c:.2f}" for c in cols) + " |")
    for n in args.samples:
        ds = [d for d in args.units if (d, n) in times]
        cols = [_slope(ds, [times[(d, n)][k] for d in ds]) for k in (0, 1, 3, 2)]
        print(f"| d | n = {n} | " + " | ".join(f"{c:.2f}" for c in cols) + " |")


if __name__ == "__main__":
    main()
