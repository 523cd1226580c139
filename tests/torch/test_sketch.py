"""The sketch route of summarize: its moments, its accuracy on prescribed spectra, merging, memory."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from neurocomplex.errors import InvalidParameterError, NeurocomplexWarning
from neurocomplex.torch._plan import DEFAULT_MEMORY_LIMIT
from neurocomplex.torch._sketch import TorchSketch, check_sketch, sketch_participation_ratio
from neurocomplex.torch.streaming import SKETCH_ACCURATE_RATIO, layer_statistics, summarize

DIMS = ["effective_dimension", "participation_ratio"]


def _prescribed(n: int, d: int, spectrum: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """n samples of d units whose population covariance has eigenvalues ``spectrum`` in a random basis."""
    g = torch.Generator().manual_seed(seed)
    r = spectrum.numel()
    z = torch.randn(n, r, generator=g) * spectrum.sqrt()
    basis = torch.linalg.qr(torch.randn(d, r, generator=g))[0]
    return z @ basis.T


def _exact(x: torch.Tensor) -> tuple[float, float]:
    """Effective dimension and participation ratio of the sample covariance, in float64 from the Gram,
    with the float32 noise floor of nc.effective_dimension (eigenvalues below the largest times
    sqrt(n_units) float32 epsilons are rounding)."""
    xc = x.double() - x.double().mean(0)
    lam = np.linalg.eigvalsh((xc @ xc.T).numpy())
    lam = lam[lam > lam.max() * math.sqrt(x.shape[1]) * np.finfo(np.float32).eps]
    p = lam / lam.sum()
    return math.exp(-np.sum(p * np.log(p))), lam.sum() ** 2 / np.sum(lam**2)


def test_moment_identities_over_projections() -> None:
    # E (tr S)^2 and E ||S||_F^2 over the draw of the hash and signs, against the closed forms the
    # estimator inverts; 400 projections of one 40-unit covariance into k = 8 buckets
    x = _prescribed(200, 40, torch.arange(1, 11.0) ** -1.0, seed=3)
    c = np.cov(x.numpy().T.astype(np.float64))
    tr, frob, q, k = np.trace(c), np.sum(c**2), np.sum(np.diag(c) ** 2), 8
    t2, f = [], []
    for seed in range(400):
        sk = TorchSketch(40, k, seed, torch.device("cpu"))
        sk.update(x)
        s = sk.to_stats().covariance()
        t2.append(np.trace(s) ** 2)
        f.append(np.sum(s**2))
    expect_t2 = tr**2 + 2 * (frob - q) / k
    expect_f = (1 + 1 / k) * frob + tr**2 / k - 2 * q / k
    assert np.mean(t2) == pytest.approx(expect_t2, rel=4 * np.std(t2) / np.sqrt(400) / expect_t2)
    assert np.mean(f) == pytest.approx(expect_f, rel=4 * np.std(f) / np.sqrt(400) / expect_f)
    # and the variances are exact
    host = sk.to_stats()
    np.testing.assert_allclose(host.variances(), np.diag(c), rtol=1e-5)


def test_projection_is_exact_on_the_projected_data() -> None:
    x = _prescribed(300, 50, torch.ones(50), seed=1)
    sk = TorchSketch(50, 7, 11, torch.device("cpu"))
    sk.update(x[:120])
    sk.update(x[120:])
    phi = np.zeros((50, 7))
    phi[np.arange(50), sk.bucket.numpy()] = sk.sign.numpy()
    y = x.double().numpy() @ phi
    np.testing.assert_allclose(sk.to_stats().covariance(), np.cov(y.T), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize(("alpha", "k"), [(1.25, 1024), (1.5, 1024), (2.0, 256)])
def test_error_within_documented_bound_on_power_laws(alpha: float, k: int) -> None:
    # the documented accuracy: participation ratio within 3 x 1.1 / sqrt(k); effective dimension
    # within 10% where the sketch's value is at most k / 20 (the warning says when it is not)
    n, d = 1000, 8000
    x = _prescribed(n, d, torch.arange(1, n + 1.0) ** -alpha, seed=int(alpha * 10))
    d1, pr = _exact(x)
    net = nn.Identity()
    exact = summarize(net, x, stats=DIMS, progress=False)
    assert exact["value"].tolist() == pytest.approx([d1, pr], rel=1e-5)  # the exact Gram route
    assert exact["method"].tolist() == ["exp_spectral_entropy", "participation_ratio"]
    table = summarize(net, x, stats=DIMS, progress=False, sketch=k, seed=0)
    est_d1, est_pr = table["value"].tolist()
    assert table["method"].tolist() == [f"exp_spectral_entropy_sketch{k}", f"participation_ratio_sketch{k}"]
    assert abs(est_pr / pr - 1) < 3 * 1.1 / math.sqrt(k)
    assert est_d1 <= k / SKETCH_ACCURATE_RATIO
    assert abs(est_d1 / d1 - 1) < 0.10
    assert (table["warnings"] == "").all()


def test_small_sketch_warns_and_underestimates() -> None:
    n, d, k = 800, 6000, 64
    x = _prescribed(n, d, torch.arange(1, n + 1.0) ** -0.8, seed=2)
    d1, pr = _exact(x)
    with pytest.warns(NeurocomplexWarning, match=r"above k/20.*larger sketch="):
        table = summarize(nn.Identity(), x, stats=DIMS, progress=False, sketch=k)
    est_d1, est_pr = table["value"].tolist()
    assert est_d1 < 0.6 * d1  # a 64-dimensional projection cannot hold a spectrum this flat
    assert "larger sketch" in table["warnings"].iloc[0]
    assert abs(est_pr / pr - 1) < 3 * 1.1 / math.sqrt(k)  # the corrected ratio still holds


def test_sketches_merge_across_input_sets_and_are_seeded() -> None:
    x = _prescribed(600, 300, torch.arange(1, 301.0) ** -1.0, seed=4)
    net = nn.Identity()
    whole = layer_statistics(net, x, stats=DIMS, sketch=32, seed=5, progress=False)["output"]
    parts = [layer_statistics(net, p, stats=DIMS, sketch=32, seed=5, progress=False)["output"]
             for p in (x[:250], x[250:])]
    assert whole["route"] == "sketch"
    merged = parts[0]["sketch"].merge(parts[1]["sketch"])
    np.testing.assert_allclose(merged.covariance(), whole["sketch"].covariance(), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(merged.variances(), whole["sketch"].variances(), rtol=1e-6)
    assert merged.participation_ratio() == pytest.approx(whole["sketch"].participation_ratio(), rel=1e-6)
    other = layer_statistics(net, x, stats=DIMS, sketch=32, seed=6, progress=False)["output"]["sketch"]
    assert not np.allclose(other.covariance(), whole["sketch"].covariance())
    with pytest.raises(InvalidParameterError, match="same projection"):
        whole["sketch"].merge(other)


def test_sketch_parameter_checked_and_narrow_layers_stay_exact() -> None:
    x = torch.randn(100, 20, generator=torch.Generator().manual_seed(0))
    for bad in (1, 0, 2.5, True, "big"):
        with pytest.raises(InvalidParameterError, match="sketch"):
            summarize(nn.Identity(), x, stats=DIMS, sketch=bad)
    assert check_sketch(np.int64(16)) == 16
    # a layer no wider than k is not projected: the exact value
    table = summarize(nn.Identity(), x, stats=DIMS, sketch=64, progress=False)
    assert table["method"].tolist() == ["exp_spectral_entropy", "participation_ratio"]


def test_participation_ratio_estimate_edge_cases() -> None:
    assert math.isnan(sketch_participation_ratio(np.zeros((3, 3)), 0.0, 3, 5))
    # a single dominant unit: exact whatever the bucket
    s = np.zeros((4, 4))
    s[2, 2] = 9.0
    assert sketch_participation_ratio(s, 81.0, 4, 10) == 1.0


def test_200k_unit_layer_summarized_within_the_memory_limit() -> None:
    # 3,000 inputs of a 200,000-unit layer: neither its covariance (298 GiB) nor its rows (2.2 GiB,
    # for the exact Gram) fit in the default 2 GiB; a 1024-dimensional sketch does. The layer is
    # linear in 16 inputs, so its exact spectrum is that of a 16 x 16 matrix.
    d, n_in = 200_000, 16
    net = nn.Sequential(nn.Linear(n_in, d))
    with torch.no_grad():
        net[0].weight.normal_(generator=torch.Generator().manual_seed(0))
        net[0].weight.mul_(torch.arange(1, n_in + 1.0) ** -0.75)  # a decaying spectrum
    x = torch.randn(3000, n_in, generator=torch.Generator().manual_seed(1))
    calls = []
    net.register_forward_pre_hook(lambda m, args: calls.append(args[0].shape[0]))
    with pytest.raises(InvalidParameterError, match=r"(?s)'0' \(Linear.*200,000 units.*sketch=4096") as err:
        summarize(net, x, layers=["0"], stats=DIMS)
    assert calls == [2]  # refused after the probe, before the first batch
    assert "200,000 x 200,000 float64 covariance takes 298.0 GiB" in str(err.value)
    assert "exact Gram route (its 3,000 float32 rows and their Gram) 2.4 GiB" in str(err.value)
    calls.clear()
    k = 1024
    table = summarize(net, x, layers=["0"], stats=DIMS, sketch=k, progress=False)
    assert sum(calls[1:]) == 3000 and calls[0] == 2
    # exact: the nonzero spectrum of cov(x W^T) is that of Sx^1/2 W^T W Sx^1/2 (16 x 16, float64)
    w = net[0].weight.detach().double()
    sx = torch.cov(x.double().T)
    root = torch.linalg.cholesky(sx)
    lam = torch.linalg.eigvalsh(root.T @ (w.T @ w) @ root).numpy()
    p = lam / lam.sum()
    d1, pr = math.exp(-np.sum(p * np.log(p))), lam.sum() ** 2 / np.sum(lam**2)
    est_d1, est_pr = table["value"].tolist()
    assert abs(est_pr / pr - 1) < 3 * 1.1 / math.sqrt(k)
    assert abs(est_d1 / d1 - 1) < 0.10
    assert (table["warnings"] == "").all() and (table["n_units"] == d).all()
    assert DEFAULT_MEMORY_LIMIT == 2 * 1024**3
