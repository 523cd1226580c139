"""training_response against an actual SGD step, the NTK identity, and response_over_training."""

from __future__ import annotations

import copy

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import neurocomplex as nc  # noqa: E402


def _mlp(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(5, 16), torch.nn.Tanh(), torch.nn.Linear(16, 16),
                               torch.nn.ReLU(), torch.nn.Linear(16, 3)).double()


def _data(n: int = 32, seed: int = 1):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 5, generator=g, dtype=torch.float64)
    y = torch.randn(n, 3, generator=g, dtype=torch.float64)
    probes = torch.randn(10, 5, generator=g, dtype=torch.float64)
    return x, y, probes


def _snapshot(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def test_equals_the_finite_difference_of_a_real_sgd_step():
    model = _mlp()
    x, y, probes = _data()
    loss_fn = torch.nn.MSELoss()
    lr = 1e-3
    before = _snapshot(model)
    out = nc.torch.training_response(model, loss_fn, x, y, probes, lr)

    stepped = copy.deepcopy(model)
    opt = torch.optim.SGD(stepped.parameters(), lr=lr)
    opt.zero_grad()
    loss_fn(stepped(x), y).backward()
    opt.step()
    with torch.no_grad():
        expected = (stepped(probes) - model(probes)) / lr
    torch.testing.assert_close(out.response, expected, rtol=1e-5, atol=1e-10)
    assert out.response.shape == (10, 3)
    assert out.norm == pytest.approx(float(expected.norm()) / np.sqrt(10), rel=1e-5)
    torch.testing.assert_close(out.probe_norms, expected.norm(dim=1), rtol=1e-5, atol=1e-10)
    with torch.no_grad():
        assert out.loss == pytest.approx(float(loss_fn(model(x), y)))
    assert out.lr == lr and out.linearized is False
    # the model is untouched: same parameters, no .grad written, grad mode kept
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k])
    assert all(p.grad is None for p in model.parameters())
    assert torch.is_grad_enabled()


def test_linearized_response_is_first_order_and_close_for_small_lr():
    model = _mlp()
    x, y, probes = _data()
    lin = nc.torch.training_response(model, torch.nn.MSELoss(), x, y, probes, 1e-6, linearized=True)
    fin = nc.torch.training_response(model, torch.nn.MSELoss(), x, y, probes, 1e-6)
    torch.testing.assert_close(lin["response"], fin["response"], rtol=1e-4, atol=1e-8)


def test_linear_model_response_equals_minus_ntk_times_loss_gradient_exactly():
    torch.manual_seed(3)
    model = torch.nn.Linear(5, 3).double()
    x, y, probes = _data()
    loss_fn = torch.nn.MSELoss()
    out = nc.torch.training_response(model, loss_fn, x, y, probes, lr=0.5)  # large lr: still exact
    f = model(x).detach().requires_grad_(True)
    (dldf,) = torch.autograd.grad(loss_fn(f, y), f)
    ntk = nc.torch.empirical_ntk(model, probes, x, flatten=True)
    expected = -(ntk @ dldf.reshape(-1)).reshape(10, 3)
    torch.testing.assert_close(out["response"], expected, rtol=1e-12, atol=1e-12)
    lin = nc.torch.training_response(model, loss_fn, x, y, probes, lr=0.5, linearized=True)
    torch.testing.assert_close(lin["response"], expected, rtol=1e-12, atol=1e-12)


def test_ntk_of_a_linear_layer_is_analytic():
    model = torch.nn.Linear(4, 2).double()
    g = torch.Generator().manual_seed(0)
    x1 = torch.randn(3, 4, generator=g, dtype=torch.float64)
    x2 = torch.randn(5, 4, generator=g, dtype=torch.float64)
    ntk = nc.torch.empirical_ntk(model, x1, x2)
    assert ntk.shape == (3, 5, 2, 2)
    gram = x1 @ x2.T + 1.0  # weights contribute x1·x2, the bias 1, on the diagonal of the outputs
    torch.testing.assert_close(ntk, gram[:, :, None, None] * torch.eye(2, dtype=torch.float64))
    flat = nc.torch.empirical_ntk(model, x1, x2, flatten=True)
    assert flat.shape == (6, 10)
    assert flat[1 * 2 + 1, 4 * 2 + 1] == ntk[1, 4, 1, 1]


def test_batchnorm_buffers_and_rng_untouched_in_training_mode():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.BatchNorm1d(8), torch.nn.Dropout(0.3),
                                torch.nn.Linear(8, 3)).double().train()
    x, y, probes = _data()
    before = _snapshot(model)
    rng = torch.get_rng_state()
    nc.torch.training_response(model, torch.nn.MSELoss(), x, y, probes, 0.01)
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k]), k
    assert torch.equal(torch.get_rng_state(), rng)
    assert model.training


def test_bad_arguments():
    model = _mlp()
    x, y, probes = _data()
    with pytest.raises(nc.InvalidParameterError):
        nc.torch.training_response(model, torch.nn.MSELoss(), x, y, probes, lr=0.0)
    with pytest.raises(nc.InvalidParameterError):
        nc.torch.training_response("model", torch.nn.MSELoss(), x, y, probes, lr=0.1)
    with pytest.raises(nc.InvalidParameterError, match="scalar"):
        nc.torch.training_response(model, torch.nn.MSELoss(reduction="none"), x, y, probes, lr=0.1)


def test_response_over_training_records_log_steps_and_does_not_change_training():
    x, y, probes = _data(n=64)
    batches = [(x[i:i + 16], y[i:i + 16]) for i in range(0, 64, 16)]

    def train(model, measure: bool):
        opt = torch.optim.SGD(model.parameters(), lr=0.05)

        def step(m, batch):
            opt.zero_grad()
            torch.nn.functional.mse_loss(m(batch[0]), batch[1]).backward()
            opt.step()

        if measure:
            return nc.torch.response_over_training(model, torch.nn.MSELoss(), step, batches, probes,
                                                   steps=60, lr=0.05, n_points=12, n_boot=20)
        for t in range(60):
            step(model, batches[t % len(batches)])
        return None

    a, b = _mlp(), _mlp()
    out = train(a, True)
    train(b, False)
    for (k, v), w in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(v, w), k
    assert out["steps"][0] == 1 and out["steps"][-1] == 60
    assert np.all(np.diff(out["steps"]) > 0) and out["response_norm"].shape == out["steps"].shape
    assert out["fit"] is not None and out["fit"].n_samples == out["steps"].size
    assert out["cost"] > 0


def test_response_over_training_rejects_exhausted_iterator():
    model = _mlp()
    x, y, probes = _data()
    it = iter([(x, y)])
    with pytest.raises(nc.InvalidParameterError, match="re-iterable"):
        nc.torch.response_over_training(model, torch.nn.MSELoss(), lambda m, b: None, it, probes,
                                        steps=5, lr=0.1, n_boot=0)


def test_result_is_a_frozen_dataclass_readable_by_key():
    import dataclasses

    from neurocomplex.torch.response import TrainingResponse

    model = _mlp()
    x, y, probes = _data()
    out = nc.torch.training_response(model, torch.nn.MSELoss(), x, y, probes, 1e-3)
    assert isinstance(out, TrainingResponse)
    with pytest.raises(dataclasses.FrozenInstanceError):
        out.norm = 0.0
    assert out["response"] is out.response and out["norm"] == out.norm and out["loss"] == out.loss
    assert list(out) == list(out.keys()) == ["response", "norm", "probe_norms", "loss", "lr", "linearized"]
    assert "probe_norms" in out and "grad" not in out
    assert dict(out)["lr"] == 1e-3
    with pytest.raises(KeyError, match="fields"):
        out["grad"]
    assert "TrainingResponse(norm=" in repr(out)

