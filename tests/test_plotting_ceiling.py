"""A value at the ceiling the samples set (every sample its own cluster) is marked, not drawn as measured."""

from __future__ import annotations

import pandas as pd
import pytest

pytest.importorskip("matplotlib")


def test_a_value_at_the_sample_ceiling_is_hatched():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from neurocomplex.plotting import plot_measures

    # 48 samples allow at most 48 clusters: C = 48 is a bound; 6 is measured
    t = pd.DataFrame({"group": ["area", "layer"], "measure": "pattern_complexity", "value": [48.0, 6.0],
                      "n_samples": [48, 48]})
    ax = plot_measures(t)[0]
    hatched = [c for c in ax.collections if c.get_hatch()]
    assert len(hatched) == 1 and hatched[0].get_offsets().tolist() == [[0.0, 48.0]]
    plt.close(ax.figure)


def _ringed(ax):
    return [c for c in ax.collections if not c.get_hatch() and len(c.get_facecolors()) == 0
            and c.get_linestyle() and c.get_linestyle()[0][1] is not None]


def test_a_point_whose_interval_was_withheld_is_ringed():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from neurocomplex.plotting import plot_measures, plot_profile

    nan = float("nan")
    t = pd.DataFrame({"group": ["area", "layer", "other"], "measure": "pattern_complexity",
                      "value": [266.0, 40.0, 30.0], "ci_low": [nan, 35.0, nan], "ci_high": [nan, 45.0, nan],
                      "n_samples": [300, 300, 300],
                      "warnings": ["pattern_complexity: ... so no interval is given (estimate 266)", "",
                                   "pattern_complexity: 250 clusters for 300 samples"]})
    ax = plot_measures(t)[0]
    ringed = _ringed(ax)
    # only the row whose warning says its interval was withheld; a warning alone does not ring
    assert len(ringed) == 1 and ringed[0].get_offsets().tolist() == [[0.0, 266.0]]
    assert ringed[0].get_label() == "interval withheld (see the warnings)"
    prof = plot_profile(t)
    assert [r.get_offsets().tolist() for r in _ringed(prof)] == [[[0.0, 266.0]]]
    plt.close("all")


def test_an_undersampled_complexity_without_interval_is_ringed_end_to_end():
    import warnings

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    import neurocomplex as nc
    from neurocomplex.plotting import plot_measures

    x = (np.random.default_rng(1).random((120, 16)) < 0.5).astype(np.uint8)
    with pytest.warns(nc.NeurocomplexWarning) as record:
        t = nc.measure(nc.Recording.from_array(x, kind="binary"), ["pattern_complexity"])
    assert any("no interval is given" in str(w.message) for w in record)
    assert any("undersampled" in str(w.message) for w in record)
    value = float(t["value"].iloc[0])
    assert 110 < value < 120 and np.isnan(t["ci_low"].iloc[0])  # below the ceiling of 120, no interval
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ax = plot_measures(t)[0]
    assert [r.get_offsets().tolist() for r in _ringed(ax)] == [[[0.0, value]]]
    assert not [c for c in ax.collections if c.get_hatch()]  # not at the ceiling
    plt.close(ax.figure)
