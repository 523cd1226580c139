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
