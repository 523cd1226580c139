"""The tidy measure table, subsampling curves and surrogates: values checked, not just shapes."""

from __future__ import annotations

import math

import numpy as np
import pytest

import neurocomplex as nc


def _correlated_binary(rng, n=4000):
    """Units 0 and 1 are copies of one Bernoulli(0.3) unit; 2 and 3 are independent Bernoulli(0.3)."""
    a = rng.random(n) < 0.3
    b = rng.random((n, 2)) < 0.3
    return nc.Recording.from_array(np.column_stack([a, a, b]).astype(np.uint8), kind="binary",
                                   groups=["pair", "pair", "free", "free"])


def test_measure_per_measure_params_and_warn_mode(rng):
    rec = _correlated_binary(rng)
    table = nc.measure(rec, ["pattern_entropy", "activation_ratio"], by=None, n_boot=0,
                       params={"pattern_entropy": {"method": "plugin"}})
    row = table.set_index("measure").loc["pattern_entropy"]
    assert row.method == "plugin"
    assert row.value == pytest.approx(nc.pattern_entropy(rec, method="plugin", n_boot=0).value)
    assert len(table) == 2 and set(table.group) == {"all"}
    # one unusable group does not stop the table in warn mode; it becomes a NaN row with the reason
    recs = {"ok": nc.Recording.from_array(rng.normal(size=(300, 3))),
            "single": nc.Recording.from_array(rng.normal(size=(1, 3)))}
    with pytest.warns(UserWarning, match="single"):
        t = nc.measure(recs, ["participation_ratio"], by=None, errors="warn", n_boot=0)
    assert math.isfinite(t[t.recording == "ok"].iloc[0].value)
    bad = t[t.recording == "single"].iloc[0]
    assert math.isnan(bad.value) and bad.method == "failed" and bad.warnings
    with pytest.raises(nc.InvalidParameterError, match="params given for measures not requested"):
        nc.measure(rec, ["activation_ratio"], params={"pattern_entropy": {}})


def test_scaling_curve_shows_plugin_entropy_converging_to_the_truth(rng):
    n_units = 8
    p = rng.uniform(0.1, 0.4, size=n_units)
    truth = float(np.sum(-p * np.log2(p) - (1 - p) * np.log2(1 - p)))
    x = (rng.random((20000, n_units)) < p).astype(np.uint8)
    rec = nc.Recording.from_array(x, kind="binary")
    df = nc.scaling_curve(rec, "pattern_entropy", n_samples=[200, 2000, 20000], n_repeats=3, method="plugin")
    assert list(df.columns) == ["n_units", "n_samples", "repeat", "value", "method"]
    mean = df.groupby("n_samples")["value"].mean()
    bias = truth - mean
    # plug-in is biased low by about (K - 1) / (2 N ln 2) bits, less with more data
    assert bias[200] > bias[2000] + 0.2
    assert bias[2000] > 0.03
    assert abs(bias[20000]) < 0.05
    # the same seed gives the same subsamples
    again = nc.scaling_curve(rec, "pattern_entropy", n_samples=[200], n_repeats=3, method="plugin")
    np.testing.assert_array_equal(again.value, df[df.n_samples == 200].value)


def test_shuffle_time_keeps_rates_and_destroys_correlations(rng):
    rec = _correlated_binary(rng)
    sur = nc.surrogate(rec, "shuffle_time", seed=1)
    np.testing.assert_array_equal(np.sort(sur.data, axis=0), np.sort(rec.data, axis=0))  # same values per unit
    assert sur.metadata["surrogate"] == "shuffle_time"
    pair, pair_sur = rec.select(groups="pair"), sur.select(groups="pair")
    mi = nc.multi_information(pair, method="plugin", n_boot=0).value
    mi_sur = nc.multi_information(pair_sur, method="plugin", n_boot=0).value
    h = nc.unit_entropy(pair.select(units=[0]), n_boot=0).value
    assert mi == pytest.approx(h, rel=1e-9)  # two copies: I = H(unit)
    assert mi_sur < 0.01  # independent after shuffling
    np.testing.assert_array_equal(rec.data[:, 0], rec.data[:, 1])  # input untouched


def test_shuffle_units_keeps_each_sample_population_count(rng):
    rec = _correlated_binary(rng)
    sur = nc.surrogate(rec, "shuffle_units", seed=2)
    np.testing.assert_array_equal(sur.data.sum(axis=1), rec.data.sum(axis=1))
    assert not np.array_equal(sur.data, rec.data)
    with pytest.raises(nc.InvalidParameterError, match="method"):
        nc.surrogate(rec, "shuffle_everything")


def test_measure_rejects_keywords_no_measure_takes_and_empty_lists(rng):
    rec = _correlated_binary(rng)
    with pytest.raises(nc.InvalidParameterError, match=r"keyword 'n_bot'; did you mean 'n_boot'"):
        nc.measure(rec, ["pattern_entropy"], n_bot=0)
    with pytest.raises(nc.InvalidParameterError, match=r"pattern_entropy takes no keyword 'methd'.*did you mean 'method'"):
        nc.measure(rec, ["pattern_entropy"], params={"pattern_entropy": {"methd": "plugin"}})
    with pytest.raises(nc.InvalidParameterError, match="no measure requested"):
        nc.measure(rec, [])
    # a keyword taken by one requested measure is passed to it and not to the others
    table = nc.measure(rec, ["pattern_entropy", "activation_ratio"], by=None, n_boot=0, method="plugin")
    assert table.set_index("measure").loc["pattern_entropy"].method == "plugin"
    # n_boot=0 really turns the bootstrap off: no interval
    assert table.ci_low.isna().all()
