"""TrainingMonitor: leaves training bit-identical, and tabulates the scheduled measurements."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import neurocomplex as nc  # noqa: E402


def _model() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Linear(6, 24), torch.nn.BatchNorm1d(24), torch.nn.ReLU(), torch.nn.Dropout(0.3),
        torch.nn.Linear(24, 12), torch.nn.ReLU(), torch.nn.Linear(12, 3),
    )


def _train(monitor_kwargs: dict | None, n_steps: int = 40):
    """Train with a seeded data stream; the same seed with and without a monitor."""
    model = _model()
    g = torch.Generator().manual_seed(1)
    x = torch.randn(256, 6, generator=g)
    y = torch.randint(0, 3, (256,), generator=g)
    probes = torch.randn(64, 6, generator=g)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    mon = None if monitor_kwargs is None else nc.torch.TrainingMonitor(model, probes, **monitor_kwargs)
    torch.manual_seed(123)  # dropout masks and batch order come from the global generator
    model.train()
    if mon is not None:
        mon.step(0)
    for t in range(1, n_steps + 1):
        idx = torch.randint(0, 256, (32,))
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x[idx]), y[idx]).backward()
        opt.step()
        if mon is not None:
            mon.step(t)
    return model, opt, mon, torch.get_rng_state()


def test_monitor_does_not_change_training_bit_for_bit():
    plain, opt_plain, _, rng_plain = _train(None)
    kwargs = {"measures": ("effective_dimension", "activation_ratio"), "max_step": 40, "n_points": 10,
              "fragility_eps": 1e-2}
    watched, opt_watched, mon, rng_watched = _train(kwargs)
    for (name, a), b in zip(plain.state_dict().items(), watched.state_dict().values()):
        assert torch.equal(a, b), name  # parameters and BatchNorm buffers alike
    for pa, pb in zip(plain.parameters(), watched.parameters()):
        assert torch.equal(pa.grad, pb.grad)
        assert torch.equal(opt_plain.state[pa]["momentum_buffer"], opt_watched.state[pb]["momentum_buffer"])
    assert torch.equal(rng_plain, rng_watched)
    assert watched.training and all(m.training for m in watched.modules())
    assert torch.is_grad_enabled()

    table = mon.table
    assert list(table.columns) == ["step", "layer", "measure", "value", "ci_low", "ci_high", "warnings"]
    expected_steps = np.unique(np.concatenate([[0], np.round(np.geomspace(1, 40, 10)).astype(int)]))
    np.testing.assert_array_equal(np.sort(table.step.unique()), expected_steps)
    layers = {"2", "5", "output"}  # the ReLUs by module name, and the output
    assert set(table.layer) == layers | {"network"}
    per_step = table.groupby("step").size()
    assert (per_step == len(layers) * 2 + 1).all()
    frag = table[table.measure == "fragility"]
    assert (frag.layer == "network").all() and (frag.value > 0).all()
    assert mon.cost > 0


def test_monitor_values_match_direct_estimates_in_eval_mode():
    model = _model()
    probes = torch.randn(80, 6, generator=torch.Generator().manual_seed(4))
    mon = nc.torch.TrainingMonitor(model, probes, schedule=[0, 5], layers=["2"])
    model.train()
    assert mon.step(0) and not mon.step(1) and not mon.step(0)
    model.eval()
    rec = nc.torch.record(model, probes, layers=["2"], progress=False)["2"]
    direct = nc.effective_dimension(rec, n_boot=0).value
    row = mon.table.query("measure == 'effective_dimension'").iloc[0]
    assert row.value == pytest.approx(direct, rel=1e-12)
    assert np.isnan(row.ci_low)


def test_epoch_adapter_and_linear_schedule():
    model = _model().eval()
    probes = torch.randn(40, 6, generator=torch.Generator().manual_seed(5))
    mon = nc.torch.TrainingMonitor(model, probes, measures=["activation_ratio"], max_step=100, n_points=20)
    done = [mon.epoch(e, steps_per_epoch=10) for e in range(10)]
    # log-spaced steps crowd early epochs: every epoch holds one of them here
    assert sum(done) == len(mon.table.step.unique()) and mon.table.step.min() == 10
    lin = nc.torch.TrainingMonitor(model, probes, measures=["activation_ratio"], schedule="linear", every=25)
    assert [lin.step(t) for t in (0, 10, 25, 50, 51)] == [True, False, True, True, False]
    assert lin.epoch(0, steps_per_epoch=30)  # step 25 fell inside epoch 0
    assert sorted(lin.table.step.unique()) == [0, 25, 30, 50]


def test_estimator_errors_become_nan_rows_not_crashes():
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU())
    with torch.no_grad():
        model[0].weight.zero_()
        model[0].bias.fill_(-1.0)  # every ReLU dead: constant activity
    mon = nc.torch.TrainingMonitor(model, torch.randn(30, 3), measures=["effective_dimension"], schedule=[0])
    mon.step(0)
    row = mon.table.iloc[0]
    assert np.isnan(row.value) and "InsufficientDataError" in row.warnings


def test_bad_arguments():
    model = _model()
    x = torch.randn(10, 6)
    with pytest.raises(nc.InvalidParameterError, match="max_step"):
        nc.torch.TrainingMonitor(model, x)
    with pytest.raises(nc.InvalidParameterError, match="no estimator"):
        nc.torch.TrainingMonitor(model, x, measures=["nope"], max_step=10)
    with pytest.raises(nc.InvalidParameterError):
        nc.torch.TrainingMonitor(model, x, schedule="linear")
    with pytest.raises(nc.InvalidParameterError, match="series"):
        nc.torch.TrainingMonitor(model, x, measures=["fit_power_law"], max_step=10)
    with pytest.raises(nc.InvalidParameterError):
        nc.torch.TrainingMonitor(model, [1, 2, 3], max_step=10)
