"""Calibration and power of nc.compare's matched test: rejection under no difference, power against changes.

    .venv/bin/python benchmarks/calibration_matching.py --quick      # 40 data sets a cell, 10 units: ~2 CPU min
    .venv/bin/python benchmarks/calibration_matching.py              # the tables of RESULTS_matching.md: ~1 CPU h

Each data set is two independent Recordings of ``--trials`` trials, compared by ``nc.compare`` with
its default matching (half the smaller Recording's units and samples), ``--n-draws`` matched draws
and ``--n-boot`` bootstrap replicates. The exact size of the bootstrap test is 2j / (B + 1) (4.94%
at 5% for B = 80, 9.9% at 10%), which is what a calibrated test rejects under no difference.

Models (units fixed within a model: the rates, thresholds and loadings are drawn once per
number of units; trials are new in every Recording):

- poisson: spike counts, unit u with rate λ_u ~ Gamma(2, 1.5) times a gain shared by the units
  of a trial, g_t ~ Gamma(4, 1/4) (mean 1, sd 0.5): correlated counts.
- bernoulli: binary states, P(unit u on in trial t) = σ(logit p_u + s z_t), p_u ~ U(0.05, 0.25),
  z_t ~ N(0, 1) shared, s = 1.
- gaussian: activations z_t L + ε_t, z_t ~ N(0, I_3), L ~ N(0, 1/3) (3 × units), ε ~ N(0, 1).

No difference: both Recordings from the same model with the same units. ``new units`` (a second
table): each Recording draws its own units (rates, loadings), so the populations differ by which
units were recorded; the test holds the recorded units fixed and is not built for that
question. Power: "doubled rate" (λ_u or p_u times 2 in the second Recording) and "correlation
change" (s = 1 -> 2, or L times 1.5: the shared variance from 50% to 69%).

Rejection rates come with their binomial standard error sqrt(r (1 - r) / n).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

MEASURES = ["participation_ratio", "effective_dimension", "pattern_entropy", "mean_rate"]
PARAMS = {"pattern_entropy": {"method": "miller_madow"}}
MODEL_ID = {"poisson": 1, "bernoulli": 2, "gaussian": 3}
EFFECT_ID = {None: 0, "doubled rate": 1, "correlation change": 2}


def _units(model: str, n_units: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The fixed parameters of one population's units."""
    if model == "poisson":
        return {"rates": rng.gamma(2.0, 1.5, size=n_units)}
    if model == "bernoulli":
        return {"p": rng.uniform(0.05, 0.25, size=n_units)}
    return {"loading": rng.normal(size=(3, n_units)) / np.sqrt(3.0)}


def _record(model: str, units: dict[str, np.ndarray], n_trials: int, rng: np.random.Generator,
            effect: str | None = None) -> object:
    """One Recording of ``n_trials`` trials of the population ``units`` (with ``effect`` applied)."""
    import neurocomplex as nc

    if model == "poisson":
        rates = units["rates"] * (2.0 if effect == "doubled rate" else 1.0)
        gain = rng.gamma(4.0, 0.25, size=(n_trials, 1))
        return nc.Recording.from_array(rng.poisson(rates * gain).astype(float), kind="spike_counts")
    if model == "bernoulli":
        p = np.minimum(units["p"] * (2.0 if effect == "doubled rate" else 1.0), 0.95)
        s = 2.0 if effect == "correlation change" else 1.0
        drive = np.log(p / (1 - p)) + s * rng.normal(size=(n_trials, 1))
        on = rng.random((n_trials, p.size)) < 1 / (1 + np.exp(-drive))
        return nc.Recording.from_array(on.astype(np.uint8), kind="binary")
    loading = units["loading"] * (1.5 if effect == "correlation change" else 1.0)
    x = rng.normal(size=(n_trials, 3)) @ loading + rng.normal(size=(n_trials, loading.shape[1]))
    return nc.Recording.from_array(x, kind="activations")


def _p_values(model: str, n_units: int, n_sets: int, n_trials: int, n_draws: int | None, n_boot: int | None,
              effect: str | None = None, new_units: bool = False, resample: str = "half") -> dict[str, np.ndarray]:
    """p-values of ``n_sets`` data sets for every measure, and the signs of the differences."""
    import neurocomplex as nc

    fixed = _units(model, n_units, np.random.default_rng([17, n_units, MODEL_ID[model]]))
    out: dict[str, list[float]] = {m: [] for m in MEASURES}
    for i in range(n_sets):
        rng = np.random.default_rng([n_units, i, MODEL_ID[model], EFFECT_ID[effect], int(new_units)])
        ua = _units(model, n_units, rng) if new_units else fixed
        ub = _units(model, n_units, rng) if new_units else fixed
        recs = {"a": _record(model, ua, n_trials, rng), "b": _record(model, ub, n_trials, rng, effect)}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", nc.NeurocomplexWarning)
            sizes = {} if n_draws is None or n_boot is None else {"n_draws": n_draws, "n_boot": n_boot}
            df = nc.compare(recs, MEASURES, seed=i, params=PARAMS, resample=resample, **sizes)
        for row in df.itertuples():
            out[row.measure].append(row.p_value)
    return {m: np.array(v) for m, v in out.items()}


def _rate(p: np.ndarray, level: float) -> str:
    ok = p[np.isfinite(p)]
    if not ok.size:
        return "untested"  # degenerate rows: an entropy at its sample ceiling in both Recordings
    r = float(np.mean(ok < level))
    return f"{100 * r:.1f} ± {100 * np.sqrt(r * (1 - r) / max(ok.size, 1)):.1f}"


def _table(title: str, cells: list[tuple[str, int, dict[str, np.ndarray]]], levels: tuple[float, ...],
           median: bool) -> None:
    print(f"\n{title}\n")
    head = "| model | units | measure | " + " | ".join(f"% p < {lv:g}" for lv in levels) + (
        " | median p |" if median else " |")
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for label, n_units, p in cells:
        for m in MEASURES:
            rates = " | ".join(_rate(p[m], lv) for lv in levels)
            tail = (f" | {np.nanmedian(p[m]):.2f} |" if np.isfinite(p[m]).any() else " | |") if median else " |"
            print(f"| {label} | {n_units} | {m} | {rates}{tail}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, nargs="+", default=[10, 30, 100])
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--n-null", type=int, default=200, help="data sets per cell under no difference")
    parser.add_argument("--n-power", type=int, default=60, help="data sets per cell with a difference")
    parser.add_argument("--n-new", type=int, default=60, help="data sets per cell with new units")
    parser.add_argument("--n-draws", type=int, default=4)
    parser.add_argument("--n-boot", type=int, default=80)
    parser.add_argument("--n-default", type=int, default=100,
                        help="data sets of the default call (n_draws=20, n_boot=200), poisson, 10 units")
    parser.add_argument("--quick", action="store_true", help="10 units, 40 data sets a cell")
    args = parser.parse_args()
    if args.quick:
        args.units, args.n_null, args.n_power, args.n_new, args.n_default = [10], 40, 40, 40, 0

    start = time.perf_counter()
    print(f"nc.compare(..., n_draws={args.n_draws}, n_boot={args.n_boot}), {args.trials} trials per Recording, "
          f"matched to half the units and {args.trials // 2} trials; measures {', '.join(MEASURES)} "
          "(pattern_entropy: Miller-Madow, quantile binarization)")
    runs: list[tuple[str, str, str | None, bool, int]] = []
    for model in ("poisson", "bernoulli", "gaussian"):
        runs.append(("null", model, None, False, args.n_null))
    for model, effect in (("poisson", "doubled rate"), ("bernoulli", "doubled rate"),
                          ("bernoulli", "correlation change"), ("gaussian", "correlation change")):
        runs.append(("power", model, effect, False, args.n_power))
    for model in ("poisson", "gaussian"):
        runs.append(("new", model, None, True, args.n_new))
    tables: dict[str, list[tuple[str, int, dict[str, np.ndarray]]]] = {"null": [], "power": [], "new": []}
    for kind, model, effect, new, n_sets in runs:
        for n_units in args.units:
            label = model if effect is None else f"{model}, {effect}"
            p = _p_values(model, n_units, n_sets, args.trials, args.n_draws, args.n_boot, effect, new)
            tables[kind].append((label, n_units, p))
    _table(f"No difference ({args.n_null} data sets a cell): rejection rate, %", tables["null"], (0.05, 0.10), True)
    _table(f"Power ({args.n_power} data sets a cell): rejection rate at p < 0.05, %", tables["power"], (0.05,), True)
    _table(f"New units in each Recording ({args.n_new} data sets a cell): rejection rate, %", tables["new"],
           (0.05,), True)
    if args.n_default:
        default = _p_values("poisson", 10, args.n_default, args.trials, None, None)
        _table(f"The default call, nc.compare(recs, measures) (n_draws=20, n_boot=200: exact size 4.98%), "
               f"{args.n_default} data sets, no difference", [("poisson", 10, default)], (0.05, 0.10), True)
    print(f"\n{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
