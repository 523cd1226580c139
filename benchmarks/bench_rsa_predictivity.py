"""RSA against rsatoolbox's point value, ridge predictivity against scikit-learn's RidgeCV.

    .venv/bin/python benchmarks/bench_rsa_predictivity.py                  # all rows, writes RESULTS_rsa_predictivity.md
    .venv/bin/python benchmarks/bench_rsa_predictivity.py --part rsa --repeats 5

Part ``rsa``: for each shape (conditions x units per population; real-valued patterns, and
Poisson spike counts, which take the exact integer route), ``nc.rsa(x, y)`` (the default call:
Spearman, correlation distance, its 200-replicate interval) then ``nc.rsa(x, y, n_boot=0)``
against rsatoolbox's ``calc_rdm`` of both datasets plus ``compare(method="spearman")``, which
computes the point value only; then the same with Kendall's tau-a (``--tau-shapes``). Part ``predictivity``: 1,000 stimuli x 2,000 units -> 200 units
(more predictors than training rows) and 2,000 x 300 -> 100 (fewer), ``nc.predictivity(x, y)``
(default call: 5 folds, 13 penalties, 200-replicate interval that includes the refits' variability)
then ``n_boot=0``, against ``cross_val_predict`` of scikit-learn's ``make_pipeline(StandardScaler(),
RidgeCV(alphas=13 penalties x n_train))`` on the same folds plus the per-unit correlations of the
held-out predictions centred per fold and their median (the same value, without an interval).
Times are the best of ``--repeats`` rounds run round-robin (every function
once per round, after one warm-up call; calls under 50 ms are repeated within a round and
averaged), ratios are taken within this run; the median of the per-round ratios is given too. BLAS is limited to ``--threads`` threads; the BLAS library and thread count are printed.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings
from importlib.metadata import version
from pathlib import Path

import numpy as np
from _timing import round_times

HERE = Path(__file__).resolve().parent
HOW = [
    "## How",
    "",
    "- RSA: each RDM is one Gram matrix (BLAS); integer data (the counts rows) take an exact integer",
    "  route, so equal dissimilarities stay equal (rsatoolbox's correlation RDM rounds some apart: the",
    "  small differences of the counts values above are those ties, ours being the exact tie-averaged",
    "  value). Spearman's ranks come from one argsort per RDM. The interval's 200 replicates are the",
    "  condition bootstrap linearised on Fisher's z scale: the derivative of the value with respect to",
    "  every condition's draw count comes exactly from suffix sums in each RDM's sorted order (the average",
    "  ranks are linear in the pair weights), after which a replicate is one dot product of length n. The",
    "  interval therefore costs a few passes over the n(n-1)/2 dissimilarities, not 200 re-rankings.",
    "- Predictivity: per fold one symmetric eigendecomposition (of the n_train x n_train Gram matrix when",
    "  units >= training rows, of X^T X otherwise); each of the 13 penalties then costs O(n_train r q) for",
    "  its exact leave-one-out errors (intercept leverage 1/n_train included), and only the chosen penalty",
    "  is used to predict the held-out rows. scikit-learn's RidgeCV also forms every penalty's",
    "  coefficients (units x targets each). The interval needs every sample's exact delete-one value (the",
    "  sample removed from its held-out fold and from the k - 1 fits it trained): from the same",
    "  decomposition, per fold the n_test x n_train smoother weights G and the products G^T Y and",
    "  G^T Y_hat (O(n_test n_train (r + 2q))), then the Sherman-Morrison update of the held-out",
    "  predictions' sums; no refit. The 200 replicates reweight those delete-one changes (one",
    "  n_boot x n by n x q product) and take the median over units.",
    "- Calls of a few milliseconds (100 x 100) move with the load of the shared machine: read the best-time",
    "  ratio with the per-round median next to it, and rerun on a quiet machine before drawing conclusions.",
]


def _blas() -> str:
    from threadpoolctl import threadpool_info

    blas = [f"{i['internal_api']} {i.get('version', '')} ({i['num_threads']} threads)" for i in threadpool_info()
            if i["user_api"] == "blas"]
    return ", ".join(blas) or "unknown"


def _timed(funcs: list, repeats: int) -> np.ndarray:
    """Round-robin times of each function (seconds per call); one untimed warm-up call each, and
    calls shorter than 50 ms repeated within a round so that a round times at least about 50 ms."""
    loops = []
    for func in funcs:
        start = time.perf_counter()
        func()
        loops.append(max(1, int(0.05 / max(time.perf_counter() - start, 1e-6))))
    wrapped = [lambda f=f, k=k: [f() for _ in range(k)] for f, k in zip(funcs, loops, strict=True)]
    return round_times(wrapped, repeats) / np.array(loops, dtype=float)


def _rows(times: np.ndarray, names: list[str], peer: int) -> list[str]:
    best = np.nanmin(times, axis=0)
    out = []
    for k, name in enumerate(names):
        ratio = best[k] / best[peer]
        per_round = float(np.nanmedian(times[:, k] / times[:, peer]))
        out.append(f"| {name} | {best[k]:.4f} | {ratio:.2f} | {per_round:.2f} |")
    return out


def _rsa_part(nc, args, lines: list[str]) -> None:
    import rsatoolbox
    from rsatoolbox.data import Dataset

    lines += ["", "## RSA: nc.rsa against rsatoolbox calc_rdm x 2 + compare (correlation distance)", "",
              "| data (conditions x units) | call | time (s) | ratio to rsatoolbox | median per-round ratio |",
              "|---|---|---|---|---|"]
    notes = []
    for kind, n, p, compare in [(*shape, "spearman") for shape in args.rsa_shapes] + [
            (*shape, "kendall_tau_a") for shape in args.tau_shapes]:
        rng = np.random.default_rng(n + p)
        z = rng.normal(size=(n, 5))
        if kind == "counts":
            x = rng.poisson(np.exp(0.4 * z @ rng.normal(size=(5, p)) - 0.5)).astype(float)
            y = rng.poisson(np.exp(0.4 * np.tanh(z @ rng.normal(size=(5, p))))).astype(float)
        else:
            x = z @ rng.normal(size=(5, p)) + 2.0 * rng.normal(size=(n, p))
            y = np.tanh(z @ rng.normal(size=(5, p))) + rng.normal(size=(n, p))
        x, y = x[(np.ptp(x, 1) > 0) & (np.ptp(y, 1) > 0)], y[(np.ptp(x, 1) > 0) & (np.ptp(y, 1) > 0)]
        rx, ry = nc.Recording.from_array(x), nc.Recording.from_array(y)
        out = {}

        method = "spearman" if compare == "spearman" else "tau-a"

        def default(rx=rx, ry=ry, out=out, compare=compare):
            out["default"] = nc.rsa(rx, ry, compare=compare)

        def no_boot(rx=rx, ry=ry, out=out, compare=compare):
            out["no_boot"] = nc.rsa(rx, ry, compare=compare, n_boot=0)

        def tool(x=x, y=y, out=out, method=method):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                r1 = rsatoolbox.rdm.calc_rdm(Dataset(x), method="correlation")
                r2 = rsatoolbox.rdm.calc_rdm(Dataset(y), method="correlation")
                out["tool"] = rsatoolbox.rdm.compare(r1, r2, method=method)[0, 0]

        times = _timed([default, no_boot, tool], args.repeats)
        label = f"{kind} {x.shape[0]:,} x {p:,}" + ("" if compare == "spearman" else ", Kendall's tau-a")
        arg = "" if compare == "spearman" else ', compare="kendall_tau_a"'
        names = [f"{label} | `nc.rsa(x, y{arg})` (default, 200 replicates)",
                 f"{label} | `nc.rsa(x, y{arg}, n_boot=0)`", f"{label} | rsatoolbox (point value)"]
        lines += _rows(times, names, 2)
        est = out["default"]
        notes.append(f"- {label}: value {est.value:.9f} (rsatoolbox {out['tool']:.9f}, difference "
                     f"{abs(est.value - out['tool']):.1e}), interval ({est.ci[0]:.4f}, {est.ci[1]:.4f})")
    lines += ["", *notes]


def _predictivity_part(nc, args, lines: list[str]) -> None:
    from sklearn.linear_model import RidgeCV
    from sklearn.model_selection import cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from neurocomplex.measures.predictivity import _DEFAULT_ALPHAS

    lines += ["", "## Predictivity: nc.predictivity against RidgeCV + cross_val_predict (same folds, same penalties)", "",
              "| data (stimuli x units -> units) | call | time (s) | ratio to scikit-learn | median per-round ratio |",
              "|---|---|---|---|---|"]
    notes = []
    for n, p, q in args.pred_shapes:
        rng = np.random.default_rng(n + p + q)
        z = rng.normal(size=(n, 20))
        x = z @ rng.normal(size=(20, p)) + 2.0 * rng.normal(size=(n, p))
        y = z @ rng.normal(size=(20, q)) + 4.0 * rng.normal(size=(n, q))
        rx, ry = nc.Recording.from_array(x), nc.Recording.from_array(y)
        folds = np.array_split(np.random.default_rng([0, 2]).permutation(n), 5)  # nc.predictivity's folds (seed 0)
        cv = [(np.setdiff1d(np.arange(n), f), f) for f in folds]
        n_train = n - folds[0].size
        out = {}

        def default(rx=rx, ry=ry, out=out):
            out["default"] = nc.predictivity(rx, ry)

        def no_boot(rx=rx, ry=ry, out=out):
            out["no_boot"] = nc.predictivity(rx, ry, n_boot=0)

        def sk(x=x, y=y, cv=cv, folds=folds, n_train=n_train, out=out):
            model = make_pipeline(StandardScaler(), RidgeCV(alphas=np.array(_DEFAULT_ALPHAS) * n_train))
            pred = cross_val_predict(model, x, y, cv=cv)
            yc, pc = y.copy(), pred.copy()
            for f in folds:  # centred on each held-out fold's means, as nc.predictivity's value
                yc[f] -= yc[f].mean(0)
                pc[f] -= pc[f].mean(0)
            out["sk"] = float(np.median((yc * pc).sum(0) / np.sqrt((yc * yc).sum(0) * (pc * pc).sum(0))))

        times = _timed([default, no_boot, sk], args.repeats)
        label = f"{n:,} x {p:,} -> {q:,}"
        names = [f"{label} | `nc.predictivity(x, y)` (default, 200 replicates)",
                 f"{label} | `nc.predictivity(x, y, n_boot=0)`", f"{label} | scikit-learn (no interval)"]
        lines += _rows(times, names, 2)
        est = out["default"]
        notes.append(f"- {label}: median r {est.value:.9f} (scikit-learn {out['sk']:.9f}, difference "
                     f"{abs(est.value - out['sk']):.1e}; folds of equal size {n_train} training rows: "
                     f"{len({f.size for f in folds}) == 1}), penalties per fold "
                     f"{', '.join(f'{a:g}' for a in est.diagnostics['alphas'])}, "
                     f"interval ({est.ci[0]:.4f}, {est.ci[1]:.4f})")
    lines += ["", *notes]


def _shapes(text: str, width: int) -> list[tuple]:
    out = []
    for item in text.split(","):
        parts = item.split(":")
        out.append(tuple(parts[0:1] + [int(v) for v in parts[1:]]) if width == 3 and not parts[0].isdigit()
                   else tuple(int(v) for v in parts))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("rsa", "predictivity", "all"), default="all")
    parser.add_argument("--rsa-shapes", default="real:100:100,real:500:500,real:1000:1000,real:1000:100,"
                                                "counts:300:50,counts:1000:200",
                        help="kind:conditions:units, comma separated (kind: real or counts)")
    parser.add_argument("--tau-shapes", default="real:500:500", help="shapes compared with Kendall's tau-a")
    parser.add_argument("--pred-shapes", default="1000:2000:200,2000:300:100", help="stimuli:units:targets, ...")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default=str(HERE / "RESULTS_rsa_predictivity.md"))
    args = parser.parse_args()
    args.rsa_shapes = _shapes(args.rsa_shapes, 3)
    args.tau_shapes = _shapes(args.tau_shapes, 3) if args.tau_shapes else []
    args.pred_shapes = _shapes(args.pred_shapes, 3)
    # every library that brings a BLAS is loaded before the limit, so that the limit reaches all of them
    import rsatoolbox  # noqa: F401
    import scipy
    import scipy.linalg
    import sklearn
    import sklearn.linear_model
    from threadpoolctl import threadpool_limits

    import neurocomplex as nc

    with threadpool_limits(limits=args.threads, user_api="blas"):

        lines = ["# RSA and predictivity: speed against their references", "",
                 f"Command: `.venv/bin/python benchmarks/bench_rsa_predictivity.py --part {args.part} "
                 f"--repeats {args.repeats} --threads {args.threads}`", "",
                 f"Machine: {platform.machine()}, {os.cpu_count()} CPU cores (shared: other processes may run; "
                 f"load average {os.getloadavg()[0]:.1f} at the start); BLAS: {_blas()}; numpy {np.__version__}, "
                 f"scipy {scipy.__version__}, scikit-learn {sklearn.__version__}, rsatoolbox {version('rsatoolbox')}. "
                 f"Times: best of {args.repeats} rounds run round-robin (after one warm-up call each; calls "
                 "under 50 ms repeated within a round and averaged); ratios within this run (ours / peer: below 1 "
                 "is faster)."]
        if args.part in ("rsa", "all"):
            _rsa_part(nc, args, lines)
        if args.part in ("predictivity", "all"):
            _predictivity_part(nc, args, lines)
        lines += ["", f"Load average at the end: {os.getloadavg()[0]:.1f}.", "", *HOW]
    text = "\n".join(lines) + "\n"
    print(text)
    Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
