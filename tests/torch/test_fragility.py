"""fragility of linear maps (analytic) and its side-effect freedom."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import neurocomplex as nc  # noqa: E402


def test_squared_form_converges_to_frobenius_norm_over_input_dim():
    g = torch.Generator().manual_seed(0)
    d_in, d_out = 12, 5
    lin = torch.nn.Linear(d_in, d_out, bias=True).double()
    with torch.no_grad():
        lin.weight.copy_(torch.randn(d_out, d_in, generator=g, dtype=torch.float64))
    inputs = torch.randn(50, d_in, generator=g, dtype=torch.float64)
    est = nc.torch.fragility(lin, inputs, eps=1e-3, n_directions=64, seed=1)
    expected = float((lin.weight.detach()**2).sum()) / d_in  # E ||W u||^2 over unit u = ||W||_F^2 / d_in
    sem = est.diagnostics["squared_sem"]
    assert abs(est.diagnostics["squared"] - expected) < 4 * sem
    assert sem < 0.05 * expected
    # Jensen: mean ratio below the root of the mean squared ratio; and between the extreme singular values
    s = torch.linalg.svdvals(lin.weight.detach())
    assert float(s.min()) <= est.value <= np.sqrt(est.diagnostics["squared"]) <= float(s.max())
    assert est.n_samples == 50 and est.n_units == d_out


def test_orthogonal_map_has_fragility_one_exactly():
    q, _ = torch.linalg.qr(torch.randn(6, 6, generator=torch.Generator().manual_seed(2), dtype=torch.float64))
    lin = torch.nn.Linear(6, 6, bias=False).double()
    with torch.no_grad():
        lin.weight.copy_(3.0 * q)
    est = nc.torch.fragility(lin, torch.randn(7, 6, dtype=torch.float64), n_directions=5)
    assert est.value == pytest.approx(3.0, rel=1e-9)
    assert est.diagnostics["squared"] == pytest.approx(9.0, rel=1e-9)


def test_no_side_effects_and_deterministic():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU(),
                                torch.nn.Dropout(0.5), torch.nn.Linear(8, 2)).train()
    x = torch.randn(20, 4)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    rng = torch.get_rng_state()
    a = nc.torch.fragility(model, x, eps=1e-2, seed=3, n_boot=20)
    b = nc.torch.fragility(model, x, eps=1e-2, seed=3, n_boot=20)
    assert torch.equal(torch.get_rng_state(), rng)
    assert a.value == b.value and a.ci == b.ci and a.ci[0] <= a.value <= a.ci[1]
    assert model.training and model[1].training
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k]), k
    assert torch.is_grad_enabled()


def test_bad_arguments():
    lin = torch.nn.Linear(3, 2)
    x = torch.zeros(4, 3)
    with pytest.raises(nc.InvalidParameterError):
        nc.torch.fragility(lin, x, eps=0.0)
    with pytest.raises(nc.InvalidParameterError):
        nc.torch.fragility(lin, x, n_directions=0)
    with pytest.raises(nc.InvalidDataError):
        nc.torch.fragility(lin, torch.full((4, 3), float("nan")))
    with pytest.raises(nc.InsufficientDataError):
        nc.torch.fragility(lin, torch.zeros(0, 3))
