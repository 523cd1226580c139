"""nc.compare's replicates average over as many random unit partitions as its estimate, so that
they carry the estimate's Monte Carlo variance over unit subsets (the calibration this restores is
tested in test_matching.py, test_no_difference_is_rejected_at_the_nominal_rate)."""

from __future__ import annotations

import numpy as np

import neurocomplex as nc
from neurocomplex.comparison import matching
from tests.test_matching import _gain_poisson


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
