"""Coverage of the default intervals of the similarity estimators on data with a known population value.

    .venv/bin/python benchmarks/coverage_similarity.py                        # 100 data sets per case
    .venv/bin/python benchmarks/coverage_similarity.py --n-datasets 40 --estimators cka shape_distance

Model (Gaussian, population values exact): z ~ N(0, I_k) (k = 5 latents, unit signal variance
per unit), x = z A + σ ε_x,
y = z B + σ ε_y with unit-variance noise, A (k × p) and B (k × q) fixed, B = M A' with M a
random k × k mixing and A' drawn like A, so that x and y share a latent space without being
rotations of each other. Then Σ_xx = AᵀA + σ²I, Σ_yy = BᵀB + σ²I, Σ_xy = AᵀB, and

- CKA = ||Σ_xy||²_F / (||Σ_xx||_F ||Σ_yy||_F);
- shape distance = arccos(||Σ_xy||_* / √(tr Σ_xx tr Σ_yy));
- predictivity (y from x) = median over units j of the population multiple correlation
  √(Σ_yx Σ_xx⁻¹ Σ_xy)_jj / √(Σ_yy)_jj (no repeats, so no noise ceiling);
- RSA (correlation distance, Spearman) = the rank correlation of the two dissimilarities over
  independent pairs of samples, by Monte Carlo over ``--rsa-pairs`` pairs (not analytic: its
  error is printed).

For every case (noise sd σ = 1 and 3, n samples × p = q units) ``--n-datasets`` data sets are drawn; each estimator runs
with its default interval (95%), and the table gives the coverage (the share of intervals that
contain the population value; a missing interval counts as a miss), the 95% binomial band of a
calibrated interval for that many data sets, the mean estimate minus the population value, the
median width and the share of intervals that exclude their own estimate. Reference rows show the
forms that are no longer the default (plug-in CKA; the plug-in shape distance's basic interval).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

ESTIMATORS = ("cka", "shape_distance", "rsa", "predictivity")


def population(p: int, q: int, k: int, sigma: float, seed: int, rsa_pairs: int) -> dict:
    rng = np.random.default_rng(1000 + seed)
    a = rng.normal(size=(k, p)) / np.sqrt(k)
    mix = np.eye(k) + 0.8 * rng.normal(size=(k, k)) / np.sqrt(k)
    b = mix @ rng.normal(size=(k, q)) / np.sqrt(k)
    sxx, syy, sxy = a.T @ a + sigma**2 * np.eye(p), b.T @ b + sigma**2 * np.eye(q), a.T @ b
    truth = {
        "cka": float(np.linalg.norm(sxy) ** 2 / (np.linalg.norm(sxx) * np.linalg.norm(syy))),
        "shape_distance": float(np.arccos(np.linalg.svd(sxy, compute_uv=False).sum()
                                          / np.sqrt(np.trace(sxx) * np.trace(syy)))),
        "predictivity": float(np.median(np.sqrt(np.einsum("ij,ij->j", sxy, np.linalg.solve(sxx, sxy))
                                                / np.diag(syy)))),
    }
    truth["rsa"], truth["rsa_error"] = _population_rsa(a, b, sigma, rsa_pairs, rng)
    return {"a": a, "b": b, "sigma": sigma, "truth": truth}


def _population_rsa(a: np.ndarray, b: np.ndarray, sigma: float, pairs: int, rng) -> tuple[float, float]:
    """Spearman correlation of the correlation distances of x and y over independent pairs of
    samples, with a standard error from 10 batches."""
    from scipy.stats import rankdata

    def corr_distance(u, v):
        u = u - u.mean(1, keepdims=True)
        v = v - v.mean(1, keepdims=True)
        return 1.0 - np.einsum("ij,ij->i", u, v) / np.sqrt(np.einsum("ij,ij->i", u, u) * np.einsum("ij,ij->i", v, v))

    dx, dy = [], []
    for _ in range(0, pairs, 50_000):
        z1, z2 = rng.normal(size=(2, 50_000, a.shape[0]))
        x1, x2 = z1 @ a + sigma * rng.normal(size=(50_000, a.shape[1])), z2 @ a + sigma * rng.normal(
            size=(50_000, a.shape[1]))
        y1, y2 = z1 @ b + sigma * rng.normal(size=(50_000, b.shape[1])), z2 @ b + sigma * rng.normal(
            size=(50_000, b.shape[1]))
        dx.append(corr_distance(x1, x2))
        dy.append(corr_distance(y1, y2))
    dx, dy = np.concatenate(dx), np.concatenate(dy)
    batches = [np.corrcoef(rankdata(u), rankdata(v))[0, 1] for u, v in zip(np.array_split(dx, 10),
                                                                             np.array_split(dy, 10), strict=True)]
    return float(np.corrcoef(rankdata(dx), rankdata(dy))[0, 1]), float(np.std(batches) / np.sqrt(10))


def draw(model: dict, n: int, rng) -> tuple[np.ndarray, np.ndarray]:
    a, b, sigma = model["a"], model["b"], model["sigma"]
    z = rng.normal(size=(n, a.shape[0]))
    return z @ a + sigma * rng.normal(size=(n, a.shape[1])), z @ b + sigma * rng.normal(size=(n, b.shape[1]))


def _runs(nc, estimators):
    """Calls made once per data set: key -> (estimator name, function of (x, y) -> Estimate)."""
    runs = {name: (name, getattr(nc, name)) for name in estimators}
    if "cka" in estimators:
        runs["cka_plugin"] = ("cka", lambda x, y: nc.cka(x, y, debiased=False))
    return runs


def _rows(estimators):
    """Table rows: (label, run key, function of the Estimate -> (value, ci))."""
    default = lambda e: (e.value, e.ci)  # noqa: E731

    def basic(e):
        lo, hi = e.diagnostics["percentile_ci"]
        return e.value, (2 * e.value - hi, 2 * e.value - lo)

    rows = []
    for name in estimators:
        rows.append((f"{name} (default)", name, default))
        if name == "cka":
            rows.append(("cka, debiased=False (plug-in, not the default)", "cka_plugin", default))
        if name == "shape_distance":
            rows.append(("shape_distance, plug-in basic interval (previous default)", name, basic))
    return rows


def binomial_band(n: int, level: float = 0.95) -> tuple[float, float]:
    from scipy.stats import binom

    return binom.ppf(0.025, n, level) / n, binom.ppf(0.975, n, level) / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-datasets", type=int, default=100)
    parser.add_argument("--samples", type=int, nargs="+", default=[100, 300])
    parser.add_argument("--units", type=int, nargs="+", default=[40, 400])
    parser.add_argument("--estimators", nargs="+", default=list(ESTIMATORS), choices=ESTIMATORS)
    parser.add_argument("--latents", type=int, default=5)
    parser.add_argument("--sigma", type=float, nargs="+", default=[1.0, 3.0], help="noise sd (signal variance 1)")
    parser.add_argument("--rsa-pairs", type=int, default=1_000_000)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    from threadpoolctl import threadpool_limits

    import neurocomplex as nc

    lo_band, hi_band = binomial_band(args.n_datasets)
    print(f"# Coverage of 95% intervals: {args.n_datasets} data sets per case, k = {args.latents} latents; "
          f"a calibrated interval covers {lo_band:.0%}–{hi_band:.0%} of them (binomial 95%)", flush=True)
    with threadpool_limits(limits=args.threads, user_api="blas"):
        for sigma in args.sigma:
            for units in args.units:
                model = population(units, units, args.latents, sigma, 0,
                                   args.rsa_pairs if "rsa" in args.estimators else 0)
                for n in args.samples:
                    _case(nc, args, model, n, units, sigma)


def _case(nc, args, model, n, units, sigma) -> None:
    truth = model["truth"]
    rng = np.random.default_rng(n * 7919 + units)
    runs, rows = _runs(nc, args.estimators), _rows(args.estimators)
    stats = {label: {"hit": 0, "missing": 0, "vals": [], "widths": [], "excl": 0} for label, _, _ in rows}
    seconds = dict.fromkeys(runs, 0.0)
    for _ in range(args.n_datasets):
        x, y = draw(model, n, rng)
        rx, ry = nc.Recording.from_array(x), nc.Recording.from_array(y)
        ests = {}
        for key, (_, func) in runs.items():
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ests[key] = func(rx, ry)
            seconds[key] += time.perf_counter() - start
        for label, key, extract in rows:
            value, ci = extract(ests[key])
            row = stats[label]
            row["vals"].append(value)
            if ci is None:
                row["missing"] += 1
                continue
            row["hit"] += ci[0] <= truth[runs[key][0]] <= ci[1]
            row["excl"] += not ci[0] <= value <= ci[1]
            row["widths"].append(ci[1] - ci[0])
    print(f"\n## noise sd {sigma}, n = {n} samples, p = q = {units} units\n")
    print("| estimator | population value | coverage | mean estimate − population | median width "
          "| excludes own estimate | no interval | s per call |")
    print("|---|---|---|---|---|---|---|---|")
    for label, key, _ in rows:
        row, name = stats[label], runs[key][0]
        t = truth[name]
        t_txt = f"{t:.4f}" + (f" (± {truth['rsa_error']:.4f})" if name == "rsa" else "")
        width = f"{np.median(row['widths']):.4f}" if row["widths"] else "–"
        print(f"| {label} | {t_txt} | **{row['hit'] / args.n_datasets:.2f}** | "
              f"{np.mean(row['vals']) - t:+.4f} | {width} | {row['excl'] / args.n_datasets:.2f} | "
              f"{row['missing']} | {seconds[key] / args.n_datasets:.2f} |", flush=True)


if __name__ == "__main__":
    main()
