"""TwoNN intrinsic dimension against scikit-dimension and brute-force GEMM neighbour searches, in one run.

    .venv/bin/python benchmarks/bench_twonn.py                       # 20,000 x 512 float64
    .venv/bin/python benchmarks/bench_twonn.py --n-samples 5000 --skdim-repeats 1
    .venv/bin/python benchmarks/bench_twonn.py --counts --n-samples 100000 --n-units 40   # spike counts

Rows (default call first): ``nc.twonn_dimension(rec)`` (with its 100-replicate interval) against
``skdim.id.TwoNN().fit(x)``, with the two values compared; then the interval-free
``nc.twonn_dimension(rec, n_boot=0)`` against two brute-force two-nearest-neighbour searches of
the same points: numpy (blocked float64 GEMM distances and ``np.argpartition``) and scikit-learn
(``NearestNeighbors(algorithm="brute")``). Times are best-of-``--repeats`` wall times, run
round-robin; BLAS threads are limited to ``--threads`` (default 1) for every method.

``--counts``: Poisson spike counts (int16, a few shared latent rates, ``--rate`` spikes per bin on
average), with their duplicate rows and ties: the default call against scikit-dimension on the
distinct rows (``np.unique(x, axis=0)`` timed with it: with duplicates its ratios are infinite).
"""

from __future__ import annotations

import argparse

import numpy as np
from _timing import best_times


def _numpy_brute_force(x: np.ndarray, block_bytes: int = 64 * 1024**2) -> tuple[np.ndarray, np.ndarray]:
    """Two nearest other points of every row: blocked float64 GEMM distances and argpartition."""
    n = x.shape[0]
    sq = np.einsum("ij,ij->i", x, x)
    rows = max(1, block_bytes // (8 * n))
    r = np.empty((n, 2))
    for start in range(0, n, rows):
        stop = min(start + rows, n)
        dist = sq[start:stop, None] + sq[None, :] - 2.0 * (x[start:stop] @ x.T)
        dist[np.arange(stop - start), np.arange(start, stop)] = np.inf
        part = np.partition(dist, 1, axis=1)[:, :2]
        r[start:stop] = np.sqrt(np.clip(np.sort(part, axis=1), 0, None))
    return r[:, 0], r[:, 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=20_000)
    parser.add_argument("--n-units", type=int, default=512)
    parser.add_argument("--latent", type=int, default=10, help="dimension of the curved manifold")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skdim-repeats", type=int, default=1, help="scikit-dimension takes tens of seconds")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--counts", action="store_true", help="time Poisson spike counts instead")
    parser.add_argument("--rate", type=float, default=0.2, help="mean count per bin (--counts)")
    args = parser.parse_args()
    # Load every BLAS first: threadpoolctl limits only the libraries loaded when it is entered.
    import scipy.linalg  # noqa: F401
    import skdim  # noqa: F401
    import sklearn.neighbors  # noqa: F401
    from threadpoolctl import threadpool_limits

    import neurocomplex  # noqa: F401

    with threadpool_limits(limits=args.threads, user_api="blas"):
        (_run_counts if args.counts else _run)(args)


def _run_counts(args: argparse.Namespace) -> None:
    import skdim

    import neurocomplex as nc

    rng = np.random.default_rng(0)
    n, d = args.n_samples, args.n_units
    rates = np.exp(0.5 * rng.standard_normal((n, 3)) @ rng.standard_normal((3, d)))
    x = rng.poisson(args.rate * rates).astype(np.int16)
    rec = nc.Recording.from_array(x)
    n_distinct = np.unique(x, axis=0).shape[0]
    print(f"data: {n} x {d} Poisson counts (int16, mean {x.mean():.2f} per bin, {n_distinct} distinct rows); "
          f"BLAS threads={args.threads}; best of {args.repeats} (scikit-dimension: {args.skdim_repeats})")

    def ours_default() -> object:
        return nc.twonn_dimension(rec)

    def skdim_twonn() -> object:
        return skdim.id.TwoNN().fit(np.unique(x.astype(np.float64), axis=0))

    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_def, t_sk = best_times([ours_default, skdim_twonn], [args.repeats, args.skdim_repeats])
        est, ref = ours_default(), skdim_twonn().dimension_
    print("| method | time (s) | ratio |")
    print("|---|---|---|")
    print(f"| nc.twonn_dimension(rec) (default, 100-replicate interval) | {t_def:.2f} | 1.00 |")
    print(f"| np.unique(x, axis=0) + skdim.id.TwoNN().fit | {t_sk:.2f} | {t_sk / t_def:.1f}x slower |")
    print(f"values: ours {est.value:.10f} (95% CI {est.ci[0]:.4f}, {est.ci[1]:.4f}; "
          f"{est.diagnostics['n_duplicates']} duplicates removed), scikit-dimension {ref:.10f}, "
          f"relative difference {abs(est.value - ref) / ref:.1e}; neighbours: {est.diagnostics['neighbours']}")


def _run(args: argparse.Namespace) -> None:
    import skdim
    from sklearn.neighbors import NearestNeighbors

    import neurocomplex as nc
    from neurocomplex.measures.twonn import two_nearest_distances

    rng = np.random.default_rng(0)
    n, d = args.n_samples, args.n_units
    # a curved manifold of dimension `latent` in `n_units` dimensions, plus a little noise
    z = rng.standard_normal((n, args.latent))
    x = np.tanh(z @ rng.standard_normal((args.latent, d)) / np.sqrt(args.latent))
    x += 1e-3 * rng.standard_normal((n, d))
    rec = nc.Recording.from_array(x)
    print(f"data: {n} x {d} float64, a {args.latent}-dimensional curved manifold plus noise of sd 1e-3; "
          f"BLAS threads={args.threads}; best of {args.repeats} (scikit-dimension: {args.skdim_repeats})")

    def ours_default() -> object:
        return nc.twonn_dimension(rec)

    def ours_free() -> object:
        return nc.twonn_dimension(rec, n_boot=0)

    def skdim_twonn() -> object:
        return skdim.id.TwoNN().fit(x)

    def numpy_brute() -> object:
        return _numpy_brute_force(x)

    def sklearn_brute() -> object:
        return NearestNeighbors(n_neighbors=3, algorithm="brute").fit(x).kneighbors(x)

    small = nc.Recording.from_array(x[:500])  # warm up: imports, BLAS threads
    nc.twonn_dimension(small)
    skdim.id.TwoNN().fit(x[:500])
    funcs = [ours_default, skdim_twonn, ours_free, numpy_brute, sklearn_brute]
    reps = [args.repeats, args.skdim_repeats, args.repeats, args.repeats, args.repeats]
    t_def, t_sk, t_free, t_np, t_skl = best_times(funcs, reps)
    est, ref = ours_default(), skdim_twonn().dimension_
    r1, r2 = two_nearest_distances(x)
    b1, b2 = _numpy_brute_force(x)
    print("| method | time (s) | ratio |")
    print("|---|---|---|")
    print(f"| nc.twonn_dimension(rec) (default, 100-replicate interval) | {t_def:.2f} | 1.00 |")
    print(f"| skdim.id.TwoNN().fit(x) | {t_sk:.2f} | {t_sk / t_def:.1f}x slower |")
    print(f"| nc.twonn_dimension(rec, n_boot=0) | {t_free:.2f} | 1.00 |")
    print(f"| numpy brute force (float64 GEMM + partition) | {t_np:.2f} | {t_np / t_free:.2f}x ours |")
    print(f"| sklearn NearestNeighbors(algorithm='brute') | {t_skl:.2f} | {t_skl / t_free:.2f}x ours |")
    print(f"default TwoNN speed-up over scikit-dimension: {t_sk / t_def:.1f}x (target >= 5)")
    print(f"interval-free TwoNN / numpy brute force: {t_free / t_np:.2f}, / sklearn brute: {t_free / t_skl:.2f} "
          "(target <= 1)")
    print(f"values: ours {est.value:.10f} (95% CI {est.ci[0]:.4f}, {est.ci[1]:.4f}), scikit-dimension {ref:.10f}, "
          f"relative difference {abs(est.value - ref) / ref:.1e}; neighbours: {est.diagnostics['neighbours']}")
    print(f"neighbour distances against the float64 brute force: max relative difference "
          f"{max(np.max(np.abs(r1 - b1) / b1), np.max(np.abs(r2 - b2) / b2)):.1e}")


if __name__ == "__main__":
    main()
