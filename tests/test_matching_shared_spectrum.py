"""nc.compare computes one covariance spectrum per draw for every order read from it."""

from __future__ import annotations

import numpy as np
import pytest

import neurocomplex as nc


@pytest.fixture(scope="module")
def recs():
    rng = np.random.default_rng(5)
    return {"wide": nc.Recording.from_array(rng.normal(size=(60, 90)).astype(np.float32)),
            "tall": nc.Recording.from_array(rng.normal(size=(60, 12)) @ rng.normal(size=(12, 30))),
            "counts": nc.Recording.from_array(rng.poisson(2.0, size=(60, 40)), kind="spike_counts")}


def _values(recs, measures, params=None):
    table = nc.compare(recs, measures, n_draws=3, n_boot=40, seed=1, params=params, progress=False)
    return table.set_index(["measure", "a", "b"])[["value_a", "value_b", "ci_low", "ci_high", "p_value"]]


@pytest.mark.parametrize("params", [None, {"effective_dimension": {"order": 0.5, "standardize": True},
                                           "participation_ratio": {"standardize": True}},
                                    {"effective_dimension": {"standardize": True}}])
def test_orders_read_from_one_spectrum_equal_separate_calls(recs, params):
    both = _values(recs, ["effective_dimension", "participation_ratio"], params)
    for m in ("effective_dimension", "participation_ratio"):
        alone = _values(recs, [m], None if params is None else {m: params[m]} if m in params else None)
        np.testing.assert_array_equal(both.loc[m].to_numpy(), alone.loc[m].to_numpy())


def test_order_two_is_the_participation_ratio(recs):
    table = _values(recs, ["effective_dimension", "participation_ratio"], {"effective_dimension": {"order": 2}})
    np.testing.assert_array_equal(table.loc["effective_dimension"].to_numpy(),
                                  table.loc["participation_ratio"].to_numpy())
    assert np.isfinite(table.loc["participation_ratio"][["value_a", "value_b"]].to_numpy()).all()
