"""pattern_complexity at the ceiling the sample size sets: no interval above what n samples allow."""

from __future__ import annotations

import numpy as np
import pytest

import neurocomplex as nc


def test_every_sample_its_own_cluster_gives_no_interval():
    rng = np.random.default_rng(0)
    rec = nc.Recording.from_array((rng.random((200, 80)) < 0.5).astype(np.uint8), kind="binary")
    with pytest.warns(nc.NeurocomplexWarning, match="every sample is its own cluster"), \
            pytest.warns(nc.NeurocomplexWarning, match="most clusters hold a single sample"):
        est = nc.pattern_complexity(rec)
    assert est.value == pytest.approx(200.0) and est.ci is None
    assert est.diagnostics["n_clusters"] == 200
    # the replicates exist (and lie below the ceiling), only the interval is withheld
    reps = est.diagnostics["bootstrap_replicates"]
    assert reps.size == 100 and np.all(reps <= 200.0 + 1e-9)


def test_interval_never_exceeds_the_number_of_samples():
    rng = np.random.default_rng(1)
    # 60 samples of 40 units: 59 distinct words, the basic interval reflected above the estimate
    b = (rng.random((60, 40)) < 0.5).astype(np.uint8)
    b[1] = b[0]
    with pytest.warns(nc.NeurocomplexWarning):
        est = nc.pattern_complexity(nc.Recording.from_array(b, kind="binary"), scale=0.0)
    assert est.diagnostics["n_clusters"] == 59
    low, high = est.diagnostics["percentile_ci"]
    assert 1.0 <= low <= high <= 60.0
    # reflected, the basic interval lies wholly above 60: clipped it would be (60, 60), so none is given
    assert est.ci is None and any("entirely beyond 60" in w for w in est.warnings)


def test_an_interval_clipped_whole_onto_the_ceiling_is_not_reported():
    # 270 clusters of 300 samples: the replicates (about 160) reflect the basic interval far above
    # n_samples, so clipping would leave (300, 300), an interval that excludes the estimate and says
    # nothing; none is given, and the percentile interval stays in the diagnostics
    rng = np.random.default_rng(0)
    b = (rng.random((300, 64)) < 0.5).astype(np.uint8)
    b[:30] = b[30:60]
    with pytest.warns(nc.NeurocomplexWarning, match="entirely beyond 300"), \
            pytest.warns(nc.NeurocomplexWarning, match="most clusters hold a single sample"):
        est = nc.pattern_complexity(nc.Recording.from_array(b, kind="binary"))
    assert est.diagnostics["n_clusters"] == 270 and est.ci is None
    low, high = est.diagnostics["percentile_ci"]
    assert low < high < est.value < 300.0
