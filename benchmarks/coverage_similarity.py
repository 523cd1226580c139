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
- predictivity (y from x; no repeats, so no noise ceiling) = θ(m), the expected held-out
  correlation at the folds' training size m = n − n/5: θ(m) = E_T[median_j corr(y_j, x w_j^T)],
  w^T the map that scikit-learn's StandardScaler + RidgeCV (the same 13 penalties × m,
  leave-one-out, one penalty for all units) fits to a fresh training set T of m samples, the
  correlation exact from the population covariances,
  (Σ_yx w_j) / √((Σ_yy)_jj w_jᵀ Σ_xx w_j), averaged over ``--truth-fits`` training sets (its
  Monte-Carlo error is printed). Reference rows: the same default intervals against the
  asymptotic value (the median population multiple correlation √(Σ_yx Σ_xx⁻¹ Σ_xy)_jj / √(Σ_yy)_jj,
  which a finite training set does not reach), and the previous default (r of the pooled
  held-out predictions, percentile bootstrap of the evaluation samples with the maps fixed).
  Ceiled cases (repeated conditions, ``--ceiling-conditions``): θ(m) of the condition means
  divided by the median population reliability of a condition mean;
- RSA (correlation distance, Spearman) = the rank correlation of the two dissimilarities over
  independent pairs of samples, by Monte Carlo over ``--rsa-pairs`` pairs (not analytic: its
  error is printed).

For every case (noise sd σ = 1 and 3, n samples × p = q units) ``--n-datasets`` data sets are drawn; each estimator runs
with its default interval (95%), and the table gives the coverage (the share of intervals that
contain the population value; a missing interval counts as a miss), the 95% binomial band of a
calibrated interval for that many data sets, the mean estimate minus the population value, the
median width and the share of intervals that exclude their own estimate. Reference rows show the
forms that are no longer the default (plug-in CKA; the plug-in shape distance's basic interval;
predictivity's previous interval and the asymptotic value).
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
        "predictivity_asymptotic": float(np.median(np.sqrt(np.einsum("ij,ij->j", sxy, np.linalg.solve(sxx, sxy))
                                                           / np.diag(syy)))),
    }
    truth["rsa"], truth["rsa_error"] = (_population_rsa(a, b, sigma, rsa_pairs, rng) if rsa_pairs
                                        else (float("nan"), float("nan")))  # RSA not run
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


def predictivity_at_training_size(model: dict, m: int, fits: int, seed: int) -> tuple[float, float]:
    """θ(m) = E_T[median_j corr(y_j, x w_j^T)] over ``fits`` fresh training sets of m samples, the
    maps fitted by scikit-learn (StandardScaler + RidgeCV with nc.predictivity's penalties × m),
    the correlations exact; with the Monte-Carlo standard error of the mean."""
    from sklearn.linear_model import RidgeCV
    from sklearn.preprocessing import StandardScaler

    from neurocomplex.measures.predictivity import _DEFAULT_ALPHAS

    a, b, sigma = model["a"], model["b"], model["sigma"]
    sxx, sxy = a.T @ a + sigma**2 * np.eye(a.shape[1]), a.T @ b
    var_y = np.einsum("ij,ij->j", b, b) + sigma**2
    rng = np.random.default_rng([seed, m])
    medians = np.empty(fits)
    for f in range(fits):
        x, y = draw(model, m, rng)
        scaler = StandardScaler().fit(x)
        ridge = RidgeCV(alphas=np.array(_DEFAULT_ALPHAS) * m).fit(scaler.transform(x), y)
        w = ridge.coef_.T / scaler.scale_[:, None]  # the map in the units of x
        medians[f] = np.median(np.einsum("ij,ij->j", sxy, w) / np.sqrt(var_y * np.einsum("ij,ij->j", w, sxx @ w)))
    return float(medians.mean()), float(medians.std(ddof=1) / np.sqrt(fits))


class _Interval:
    """The value and interval of a reference computation (what the rows read from an Estimate)."""

    def __init__(self, value: float, ci: tuple[float, float]) -> None:
        self.value, self.ci = value, ci


def previous_predictivity(x, y, n_boot: int = 200, seed: int = 0) -> _Interval:
    """nc.predictivity's previous default: median r of the pooled held-out predictions (not centred
    per fold), with the percentile interval of a bootstrap of the evaluation samples, the fitted
    maps held (same folds, penalties and draws as nc.predictivity)."""
    from neurocomplex.measures._pairs import draw_counts
    from neurocomplex.measures._reliability import cross_validated_r
    from neurocomplex.measures.predictivity import _DEFAULT_ALPHAS

    x, y = np.asarray(x.data, dtype=float), np.asarray(y.data, dtype=float)
    n = x.shape[0]
    folds = np.array_split(np.random.default_rng([seed, 2]).permutation(n), 5)
    pred = cross_validated_r(x, y, folds, _DEFAULT_ALPHAS).pred

    def median_r(w):
        tot = w.sum(axis=1, keepdims=True)
        my, mp = (w @ y) / tot, (w @ pred) / tot
        cov = (w @ (y * pred)) / tot - my * mp
        return np.median(cov / np.sqrt(((w @ (y * y)) / tot - my**2) * ((w @ (pred * pred)) / tot - mp**2)), axis=1)

    reps = median_r(draw_counts(n, n_boot, seed))
    lo, hi = np.quantile(reps, [0.025, 0.975])
    return _Interval(float(median_r(np.ones((1, n)))[0]), (float(lo), float(hi)))


def draw(model: dict, n: int, rng) -> tuple[np.ndarray, np.ndarray]:
    a, b, sigma = model["a"], model["b"], model["sigma"]
    z = rng.normal(size=(n, a.shape[0]))
    return z @ a + sigma * rng.normal(size=(n, a.shape[1])), z @ b + sigma * rng.normal(size=(n, b.shape[1]))


def _runs(nc, estimators):
    """Calls made once per data set: key -> (estimator name, function of (x, y) -> Estimate)."""
    runs = {name: (name, getattr(nc, name)) for name in estimators}
    if "cka" in estimators:
        runs["cka_plugin"] = ("cka", lambda x, y: nc.cka(x, y, debiased=False))
    if "predictivity" in estimators:
        runs["predictivity_previous"] = ("predictivity", previous_predictivity)
    return runs


def _rows(estimators):
    """Table rows: (label, run key, function of the Estimate -> (value, ci), population value's key)."""
    default = lambda e: (e.value, e.ci)  # noqa: E731

    def basic(e):
        lo, hi = e.diagnostics["percentile_ci"]
        return e.value, (2 * e.value - hi, 2 * e.value - lo)

    rows = []
    for name in estimators:
        rows.append((f"{name} (default)", name, default, name))
        if name == "cka":
            rows.append(("cka, debiased=False (plug-in, not the default)", "cka_plugin", default, "cka"))
        if name == "shape_distance":
            rows.append(("shape_distance, plug-in basic interval (previous default)", name, basic, name))
        if name == "predictivity":
            rows.append(("predictivity (default) against the asymptotic correlation (not its estimand)", name,
                         default, "predictivity_asymptotic"))
            rows.append(("predictivity, pooled r with evaluation bootstrap (previous default)",
                         "predictivity_previous", default, name))
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
    parser.add_argument("--truth-fits", type=int, default=1000,
                        help="training sets averaged for predictivity's population value θ(m)")
    parser.add_argument("--ceiling-conditions", type=int, nargs="+", default=[100, 300],
                        help="conditions of predictivity's ceiled cases (0: none)")
    parser.add_argument("--ceiling-sigma", type=float, nargs="+", default=[1.0, 2.0],
                        help="trial noise sd of the ceiled cases")
    parser.add_argument("--ceiling-only", action="store_true", help="run only predictivity's ceiled cases")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    from threadpoolctl import threadpool_limits

    import neurocomplex as nc

    lo_band, hi_band = binomial_band(args.n_datasets)
    print(f"# Coverage of 95% intervals: {args.n_datasets} data sets per case, k = {args.latents} latents; "
          f"a calibrated interval covers {lo_band:.0%}–{hi_band:.0%} of them (binomial 95%)", flush=True)
    with threadpool_limits(limits=args.threads, user_api="blas"):
        for sigma in [] if args.ceiling_only else args.sigma:
            for units in args.units:
                model = population(units, units, args.latents, sigma, 0,
                                   args.rsa_pairs if "rsa" in args.estimators else 0)
                for n in args.samples:
                    _case(nc, args, model, n, units, sigma)
        if "predictivity" in args.estimators and any(args.ceiling_conditions):
            _ceiled_cases(nc, args)


def _ceiled_cases(nc, args, units: int = 40, repeats: int = 4) -> None:
    """Predictivity with repeated conditions: x the features of each condition (the same on its
    repeats), y = z B + σ ε per trial, ``repeats`` trials per condition. The population value is
    θ(m) of the condition means (x against z B + (σ/√repeats) ε, whose correlations are those of
    z B√repeats + σ ε) divided by the median over units of the reliability of a condition mean,
    V_j / (V_j + σ²/repeats) with V_j = (BᵀB)_jj, which the Spearman–Brown corrected split-half
    correlation estimates."""
    print(f"\n## predictivity with a reliability ceiling: {units} units, {repeats} repeats per condition\n", flush=True)
    print("| noise sd, conditions | θ(m) | median reliability | population value | coverage | "
          "mean estimate − population | sd of the values | mean se | median width |")
    print("|---|---|---|---|---|---|---|---|---|")
    for sigma in args.ceiling_sigma:
        model = population(units, units, args.latents, sigma, 0, 0)
        b = model["b"]
        var_signal = np.einsum("ij,ij->j", b, b)
        ceiling = float(np.median(var_signal / (var_signal + sigma**2 / repeats)))
        for n_cond in args.ceiling_conditions:
            theta, _ = predictivity_at_training_size(dict(model, b=b * np.sqrt(repeats)), n_cond - n_cond // 5,
                                                     args.truth_fits, seed=7)
            target = theta / ceiling
            rng = np.random.default_rng(n_cond * 7919 + units + 1)
            cond = np.repeat(np.arange(n_cond), repeats)
            hits, values, ses, widths = 0, [], [], []
            for _ in range(args.n_datasets):
                z = rng.normal(size=(n_cond, model["a"].shape[0]))
                x = z @ model["a"] + sigma * rng.normal(size=(n_cond, units))
                y = (z @ b)[cond] + sigma * rng.normal(size=(cond.size, units))
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    est = nc.predictivity(nc.Recording.from_array(x[cond]), nc.Recording.from_array(y),
                                          conditions=cond)
                hits += est.ci[0] <= target <= est.ci[1]
                values.append(est.value)
                ses.append(est.diagnostics["se"])
                widths.append(est.ci[1] - est.ci[0])
            print(f"| {sigma:g}, {n_cond} × {repeats} | {theta:.4f} | {ceiling:.4f} | {target:.4f} | "
                  f"**{hits / args.n_datasets:.2f}** | {np.mean(values) - target:+.4f} | {np.std(values, ddof=1):.4f} | "
                  f"{np.mean(ses):.4f} | {np.median(widths):.4f} |", flush=True)


def _case(nc, args, model, n, units, sigma) -> None:
    truth = dict(model["truth"])
    if "predictivity" in args.estimators:
        truth["predictivity"], truth["predictivity_error"] = predictivity_at_training_size(
            model, n - n // 5, args.truth_fits, seed=7)
    rng = np.random.default_rng(n * 7919 + units)
    runs, rows = _runs(nc, args.estimators), _rows(args.estimators)
    stats = {label: {"hit": 0, "missing": 0, "vals": [], "widths": [], "excl": 0} for label, *_ in rows}
    ses = []
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
        if "predictivity" in ests:
            ses.append(ests["predictivity"].diagnostics["se"])
        for label, key, extract, truth_key in rows:
            value, ci = extract(ests[key])
            row = stats[label]
            row["vals"].append(value)
            if ci is None:
                row["missing"] += 1
                continue
            row["hit"] += ci[0] <= truth[truth_key] <= ci[1]
            row["excl"] += not ci[0] <= value <= ci[1]
            row["widths"].append(ci[1] - ci[0])
    print(f"\n## noise sd {sigma}, n = {n} samples, p = q = {units} units\n")
    print("| estimator | population value | coverage | mean estimate − population | median width "
          "| excludes own estimate | no interval | s per call |")
    print("|---|---|---|---|---|---|---|---|")
    for label, key, _, name in rows:
        row = stats[label]
        t = truth[name]
        error = {"rsa": "rsa_error", "predictivity": "predictivity_error"}.get(name)
        t_txt = f"{t:.4f}" + (f" (± {truth[error]:.4f})" if error else "")
        width = f"{np.median(row['widths']):.4f}" if row["widths"] else "–"
        print(f"| {label} | {t_txt} | **{row['hit'] / args.n_datasets:.2f}** | "
              f"{np.mean(row['vals']) - t:+.4f} | {width} | {row['excl'] / args.n_datasets:.2f} | "
              f"{row['missing']} | {seconds[key] / args.n_datasets:.2f} |", flush=True)
    if ses:
        vals = stats["predictivity (default)"]["vals"]
        print(f"\npredictivity: standard deviation of the values over the data sets {np.std(vals, ddof=1):.4f}, "
              f"mean interval se {np.mean(ses):.4f} (ratio {np.mean(ses) / np.std(vals, ddof=1):.2f}); "
              f"θ(m) at m = {n - n // 5} training samples, asymptotic value {truth['predictivity_asymptotic']:.4f}",
              flush=True)


if __name__ == "__main__":
    main()
