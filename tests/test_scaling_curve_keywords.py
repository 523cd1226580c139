"""nc.scaling_curve forwards only keywords its measure takes, by the same rule as nc.measure (issue 24)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import neurocomplex as nc
from neurocomplex.errors import InvalidParameterError


@pytest.fixture
def spikes():
    rng = np.random.default_rng(0)
    return nc.Recording.from_array((rng.random((500, 6)) < 0.3).astype(float))


def test_misspelt_keyword_is_rejected_with_a_hint(spikes):
    # before: bse=math.e was dropped (5.147 bits instead of nats), mehtod="plugin" ran NSB
    with pytest.raises(InvalidParameterError, match=r"scaling_curve: pattern_entropy takes no keyword 'bse'; "
                                                    r"did you mean 'base'\?"):
        nc.scaling_curve(spikes, "pattern_entropy", n_repeats=1, bse=math.e, method="plugin")
    with pytest.raises(InvalidParameterError, match=r"did you mean 'method'\?"):
        nc.scaling_curve(spikes, "pattern_entropy", n_repeats=1, mehtod="plugin")


def test_one_rule_for_measure_and_scaling_curve(spikes):
    messages = []
    for call in (lambda: nc.measure(spikes, "pattern_entropy", params={"pattern_entropy": {"bse": 2.0}}),
                 lambda: nc.scaling_curve(spikes, "pattern_entropy", bse=2.0)):
        with pytest.raises(InvalidParameterError) as info:
            call()
        messages.append(str(info.value))
    assert messages[0].startswith("nc.measure: pattern_entropy takes no keyword 'bse'")
    assert messages[1].startswith("nc.scaling_curve: pattern_entropy takes no keyword 'bse'")
    assert messages[0].split("; ", 1)[1] == messages[1].split("; ", 1)[1]


def test_correct_keywords_reach_the_estimator(spikes):
    bits = nc.pattern_entropy(spikes, method="plugin", n_boot=0).value
    df = nc.scaling_curve(spikes, "pattern_entropy", n_repeats=1, method="plugin", base=math.e)
    assert df["method"].tolist() == ["plugin"]
    assert df["value"].iloc[0] == pytest.approx(bits * math.log(2.0), rel=1e-12)


def test_n_boot_default_only_for_measures_that_take_it():
    rec = nc.Recording.from_array(np.random.default_rng(1).normal(size=(100, 4)))
    df = nc.scaling_curve(rec, "constant_fraction", n_repeats=2)  # takes no n_boot
    assert df["value"].tolist() == [0.0, 0.0]
    with pytest.raises(InvalidParameterError, match="constant_fraction takes no keyword 'n_boot'"):
        nc.scaling_curve(rec, "constant_fraction", n_boot=10)


def test_function_estimators_are_refused_before_any_work(spikes):
    with pytest.raises(InvalidParameterError, match=r"call nc\.topological_entropy directly"):
        nc.scaling_curve(spikes, "topological_entropy", n_max=3)
