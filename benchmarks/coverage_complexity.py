"""Coverage of pattern_complexity's default interval on populations whose C(ε) is known.

    .venv/bin/python benchmarks/coverage_complexity.py [--draws 100] [--quick]

Populations (MEASURES.md §4a):

* ``indep12`` / ``indep16``: independent Bernoulli units (12 units, rates uniform in [0.05, 0.5];
  16 units, rates in [0.02, 0.3]; fixed draws of the rates). The population value of C(ε) is the
  merge applied to the population itself: all ``2**n_units`` words weighted by their
  probabilities (as integers, probability x 2**50). For large N the sample merge equals it (no two
  population weights tie); a sample of 2 x 10^6 checks this.
* ``regimes32``: 4 prototype words of 32 units, 16 bits apart, weights 0.4, 0.3, 0.2, 0.1; each
  sample is its prototype with 0, 1 or 2 bits flipped (probabilities 0.6, 0.3, 0.1). From radius 2
  on every regime is one cluster led by its prototype, so C = exp(H) of the sample's regime
  fractions exactly and the population value is exp(H(weights)) = 3.59.
* ``regimes16``: 4 prototypes of 16 units (0000..., 11111111 00000000, 00000000 11111111,
  1010...) with each bit flipped independently with probability 0.08: noise reaches every
  word, so clusters do not coincide with regimes; population value by enumeration.

For each draw: the estimate and the default interval (``n_boot=100``, basic bootstrap clipped at 1)
at several radii from the same replicates (exactly what ``pattern_complexity`` returns at each
scale; checked on the first draw), the percentile interval, and, for comparison, the interval of
the shortcut that keeps the data's clusters and only redraws their weights ("fixed clusters").
Printed per case and radius: population value, mean and sd of the estimate, mean sd of the
replicates, coverage of the basic (default) and percentile intervals, the fraction of draws whose
basic interval excludes its own estimate (warned), and the fixed-clusters coverage and sd.
"""

from __future__ import annotations

import argparse
import math
import time
import warnings

import numpy as np

import neurocomplex as nc
from neurocomplex.estimate import interval_report
from neurocomplex.measures._leader import PairCache, entropy_exp, leader_merge_curve, replicate_curves
from neurocomplex.measures._word_bootstrap import replicate_counts
from neurocomplex.stats.words import count_words


def _all_words(n_units: int) -> tuple[np.ndarray, np.ndarray]:
    codes = np.arange(2**n_units, dtype=np.uint64)
    bits = ((codes[:, None] >> np.arange(n_units, dtype=np.uint64)) & np.uint64(1)).astype(np.uint8)
    return codes[:, None], bits


def _bernoulli(p: np.ndarray) -> np.ndarray:
    _, bits = _all_words(p.size)
    return np.prod(np.where(bits == 1, p, 1 - p), axis=1)


def _noisy_regimes(protos: np.ndarray, weights: np.ndarray, flip: float) -> np.ndarray:
    _, bits = _all_words(protos.shape[1])
    prob = np.zeros(bits.shape[0])
    for proto, wt in zip(protos, weights, strict=True):
        d = (bits != proto).sum(axis=1)
        prob += wt * flip**d * (1 - flip) ** (protos.shape[1] - d)
    return prob


def _population_value(prob: np.ndarray, radii: np.ndarray) -> np.ndarray:
    n_units = round(math.log2(prob.size))
    words, _ = _all_words(n_units)
    return leader_merge_curve(words, np.rint(prob * 2.0**50).astype(np.int64), n_units, radii)[0]


def _sampler_from(prob: np.ndarray):
    n_units = round(math.log2(prob.size))

    def draw(rng: np.random.Generator, n: int) -> np.ndarray:
        idx = rng.choice(prob.size, size=n, p=prob / prob.sum())
        return ((idx[:, None] >> np.arange(n_units)) & 1).astype(np.uint8)

    return draw


def _bounded_regimes(rng: np.random.Generator, n: int) -> np.ndarray:
    protos = np.zeros((4, 32), dtype=np.uint8)
    protos[1, :16] = 1
    protos[2, 16:] = 1
    protos[3, ::2] = 1
    b = protos[rng.choice(4, size=n, p=[0.4, 0.3, 0.2, 0.1])].copy()
    n_flip = rng.choice(3, size=n, p=[0.6, 0.3, 0.1])
    for k in (1, 2):
        rows = np.flatnonzero(n_flip >= k)
        b[rows, rng.integers(0, 32, size=rows.size)] ^= 1
    return b


def _one_draw(b: np.ndarray, radii: np.ndarray, seed: int) -> list[tuple]:
    n_units = b.shape[1]
    words, counts = count_words(b)
    cache = PairCache()
    values, _n, labels = leader_merge_curve(words, counts, n_units, radii, return_labels=True, cache=cache)
    batches = list(replicate_counts(counts, None, 100, seed))
    reps = np.concatenate([replicate_curves(words, batch, n_units, radii, cache) for batch in batches])
    rows = np.concatenate(batches)
    out = []
    for k in range(radii.size):
        basic, extra, notes = interval_report(reps[:, k], values[k], 0.95, "basic", 1.0)
        keep = labels[k] >= 0
        fixed = np.array([entropy_exp(np.bincount(labels[k][keep], weights=row[keep])) for row in rows])
        fixed_ci = interval_report(fixed, values[k], 0.95, "basic", 1.0)[0]
        out.append((values[k], basic, extra["percentile_ci"], bool(notes), float(np.std(reps[:, k])), fixed_ci,
                    float(np.std(fixed))))
    return out


def _case(name: str, draw, n: int, radii: np.ndarray, truth: np.ndarray, n_draws: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_units = draw(rng, 1).shape[1]
    rec = {k: [] for k in range(radii.size)}
    start = time.perf_counter()
    for d in range(n_draws):
        b = draw(rng, n)
        res = _one_draw(b, radii, d)
        if d == 0:  # the same interval as the estimator's own, scale by scale
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", nc.NeurocomplexWarning)
                for k, r in enumerate(radii.tolist()):
                    est = nc.pattern_complexity(nc.Recording.from_array(b, kind="binary"), scale=r / n_units,
                                                n_boot=100, seed=0)
                    assert est.value == res[k][0] and est.ci == res[k][1], (est.value, est.ci, res[k][:2])
        for k in range(radii.size):
            rec[k].append(res[k])
    for k, r in enumerate(radii.tolist()):
        t = truth[k]
        v = np.array([x[0] for x in rec[k]])
        cover = np.mean([x[1][0] <= t <= x[1][1] for x in rec[k]])
        pct = np.mean([x[2][0] <= t <= x[2][1] for x in rec[k]])
        warned = np.mean([x[3] for x in rec[k]])
        sd_boot = np.mean([x[4] for x in rec[k]])
        fixed = np.mean([x[5][0] <= t <= x[5][1] for x in rec[k]])
        sd_fixed = np.mean([x[6] for x in rec[k]])
        print(f"| {name} | {n} | {r} ({r / n_units:.3g}) | {t:.3f} | {v.mean():.3f} | {v.std():.3f} | {sd_boot:.3f} | "
              f"**{100 * cover:.0f}%** | {100 * pct:.0f}% | {100 * warned:.0f}% | {100 * fixed:.0f}% | {sd_fixed:.3f} |",
              flush=True)
    print(f"<!-- {name} N={n}: {n_draws} draws in {time.perf_counter() - start:.0f} s -->", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--draws", type=int, default=100)
    parser.add_argument("--quick", action="store_true", help="20 draws, the smaller samples only")
    args = parser.parse_args()
    n_draws = 20 if args.quick else args.draws
    warnings.simplefilter("ignore", nc.NeurocomplexWarning)

    p12 = np.random.default_rng(0).uniform(0.05, 0.5, 12)
    p16 = np.random.default_rng(3).uniform(0.02, 0.3, 16)
    protos16 = np.array([[0] * 16, [1] * 8 + [0] * 8, [0] * 8 + [1] * 8, [1, 0] * 8])
    prob = {"indep12": _bernoulli(p12), "indep16": _bernoulli(p16),
            "regimes16": _noisy_regimes(protos16, np.array([0.4, 0.3, 0.2, 0.1]), 0.08)}
    radii = {"indep12": np.array([0, 1, 3]), "indep16": np.array([0, 1, 2, 3]), "regimes16": np.array([1, 2, 3])}
    truths = {k: _population_value(prob[k], radii[k]) for k in prob}
    big = np.random.default_rng(9)
    for k in prob:  # the population value against one very large sample
        words, counts = count_words(_sampler_from(prob[k])(big, 2_000_000))
        large = leader_merge_curve(words, counts, round(math.log2(prob[k].size)), radii[k])[0]
        print(f"<!-- {k}: population C at radii {radii[k].tolist()}: {np.round(truths[k], 4).tolist()}; "
              f"2e6-sample estimate {np.round(large, 4).tolist()} -->")

    print("| population | N | radius (ε) | population C | mean estimate | sd of estimate | mean sd of replicates | "
          "basic (default) covers | percentile covers | warned | fixed clusters cover | fixed clusters sd |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    sizes = {"indep12": (2000, 20000), "indep16": (2000, 20000), "regimes16": (1000, 10000), "regimes32": (400, 4000)}
    for name in ("regimes32", "regimes16", "indep12", "indep16"):
        for n in sizes[name][:1] if args.quick else sizes[name]:
            if name == "regimes32":
                r32 = np.array([2, 3])
                t32 = np.full(2, math.exp(-float(np.sum(np.array([0.4, 0.3, 0.2, 0.1]) * np.log([0.4, 0.3, 0.2, 0.1])))))
                _case(name, _bounded_regimes, n, r32, t32, n_draws, 11)
            else:
                _case(name, _sampler_from(prob[name]), n, radii[name], truths[name], n_draws, 12)


if __name__ == "__main__":
    main()
