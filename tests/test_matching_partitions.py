"""nc.compare's replicates average over as many random unit partitions as its estimate, so that
they carry the estimate's Monte Carlo variance over unit subsets."""

from __future__ import annotations

import numpy as np

import neurocomplex as nc
from neurocomplex.comparison import matching


def _gain_poisson(rng: np.random.Generator, rates: np.ndarray, n_trials: int = 100) -> nc.Recording:
    gain = rng.gamma(4.0, 0.25, size=(n_trials, 1))  # a shared gain per trial (mean 1, sd 0.5)
    return nc.Recording.from_array(rng.poisson(rates * gain).astype(float), kind="spike_counts")


def test_a_replicate_keeps_each_unit_piece_as_long_as_the_estimate(monkeypatch):
    # 10 units matched to 5 (2 unit pieces), 100 samples to 50 (2 row pieces): the estimate's 4 draws
    # cross both; a replicate holds a random half (50 rows, one row piece), so its 4 draws are the 2
    # unit pieces of one partition, each twice, computed once.
    calls = []
    real = matching._one_draw

    def counted(x, th, kind, plan):
        calls.append(x.shape)
        return real(x, th, kind, plan)

    monkeypatch.setattr(matching, "_one_draw", counted)
    rng = np.random.default_rng(0)
    rates = rng.gamma(2.0, 1.5, size=10)
    recs = {"a": _gain_poisson(rng, rates), "b": _gain_poisson(rng, rates)}
    nc.compare(recs, ["participation_ratio"], n_draws=4, n_boot=40, seed=0, null="none")
    # per Recording: 1 unmatched call, 4 draws of the estimate, 2 distinct draws per replicate
    assert len(calls) == 2 * (1 + 4 + 2 * 40)
    assert calls.count((50, 5)) == 2 * (4 + 2 * 40)


def test_no_difference_with_several_draws_is_rejected_at_the_nominal_rate():
    """Ten heterogeneous units matched to five, 4 draws: before, the replicates averaged over twice
    as many unit partitions as the estimate, and this test rejected 17 and 16 of 120 at 5% for the
    participation ratio and the effective dimension (3 and 4 now; the mean rate 7)."""
    rates = np.random.default_rng([17, 10, 1]).gamma(2.0, 1.5, size=10)  # 0.4 to 5.4 spikes per trial
    p_values: dict[str, list[float]] = {"participation_ratio": [], "effective_dimension": [], "mean_rate": []}
    for s in range(120):
        rng = np.random.default_rng(3000 + s)
        df = nc.compare({"a": _gain_poisson(rng, rates), "b": _gain_poisson(rng, rates)}, list(p_values),
                        n_draws=4, n_boot=40, seed=s)
        for r in df.itertuples():
            p_values[r.measure].append(r.p_value)
    for m, p in p_values.items():
        rejected = int(np.sum(np.array(p) < 0.05))
        # exact size 2/41 = 4.9%: 1..15 of 120 holds 99.8% of Binomial(120, 0.049)
        assert 1 <= rejected <= 15, (m, rejected)
