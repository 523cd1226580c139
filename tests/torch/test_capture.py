"""record(): activations captured by hooks equal a forward pass computed by hand."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import neurocomplex as nc
from neurocomplex.errors import (
    InsufficientDataError,
    InvalidDataError,
    InvalidParameterError,
    UnsupportedSourceError,
)
from neurocomplex.torch.capture import activation_types, record
from neurocomplex.torch.models import mlp


def _x(n: int, d: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed))


def _no_hooks(model: nn.Module) -> bool:
    return all(not m._forward_hooks for m in model.modules())


def test_equals_manual_forward() -> None:
    net = mlp([6, 10, 8, 3], seed=0)
    x = _x(200, 6)
    recs = record(net, x)
    assert list(recs) == ["relu1", "relu2", "output"]
    with torch.no_grad():
        h1 = torch.relu(x @ net.fc1.weight.T + net.fc1.bias)
        h2 = torch.relu(h1 @ net.fc2.weight.T + net.fc2.bias)
        out = h2 @ net.fc3.weight.T + net.fc3.bias
    for key, ref in [("relu1", h1), ("relu2", h2), ("output", out)]:
        rec = recs[key]
        np.testing.assert_allclose(rec.data, ref.numpy(), rtol=1e-6, atol=1e-6)
        assert rec.data.dtype == np.float32 and rec.kind == "activations"
        assert rec.source == f"torch:{key}" and set(rec.groups) == {key}
        assert rec.unit_ids.tolist() == list(range(ref.shape[1]))
        assert rec.metadata["output_shape"] == (ref.shape[1],) and rec.metadata["n_inputs"] == 200
    assert recs["relu1"].metadata["module_type"] == "ReLU"
    assert recs["output"].metadata["module_type"] == "Sequential"
    assert _no_hooks(net)


def test_batch_size_does_not_change_values() -> None:
    net = mlp([6, 16, 4], seed=1)
    x = _x(1000, 6, seed=2)
    small, big = record(net, x, batch_size=7), record(net, x, batch_size=1000)
    for key in big:
        np.testing.assert_allclose(small[key].data, big[key].data, rtol=0, atol=1e-6)


def test_dataloader_and_numpy_inputs() -> None:
    net = mlp([5, 9, 2], seed=3)
    x = _x(100, 5)
    ref = record(net, x)
    loader = DataLoader(TensorDataset(x, torch.arange(100)), batch_size=16, shuffle=False)
    from_loader = record(net, loader)
    from_numpy = record(net, x.numpy().astype(np.float64), batch_size=33)  # float64 cast to the weights' dtype
    from_list = record(net, [x[:40], x[40:]])
    for key in ref:
        np.testing.assert_allclose(from_loader[key].data, ref[key].data, atol=1e-6)
        np.testing.assert_allclose(from_numpy[key].data, ref[key].data, atol=1e-6)
        np.testing.assert_allclose(from_list[key].data, ref[key].data, atol=1e-6)


def test_conv_feature_maps_both_flatten_modes() -> None:
    conv = nn.Conv2d(2, 3, kernel_size=3)
    net = nn.Sequential(conv, nn.ReLU())
    x = torch.randn(10, 2, 6, 5, generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        out = torch.relu(conv(x))  # (10, 3, 4, 3): 3 channels at 12 positions
    units = record(net, x, layers=["1"], batch_size=4)["1"]
    assert units.data.shape == (10, 36)
    np.testing.assert_allclose(units.data, out.reshape(10, 36).numpy(), atol=1e-6)
    # unit j = channel * 12 + position, position = row * 3 + column
    assert units.unit_ids[1 * 12 + 2 * 3 + 1] == "c1_p7"
    np.testing.assert_allclose(units.data[:, 1 * 12 + 7], out[:, 1, 2, 1].numpy(), atol=1e-6)
    assert units.metadata["output_shape"] == (3, 4, 3) and units.metadata["n_positions"] == 1
    chans = record(net, x, layers=["1"], batch_size=4, flatten="channels")["1"]
    assert chans.data.shape == (120, 3) and chans.unit_ids.tolist() == [0, 1, 2]
    # row i * 12 + p is input i at position p
    np.testing.assert_allclose(chans.data, out.permute(0, 2, 3, 1).reshape(120, 3).numpy(), atol=1e-6)
    np.testing.assert_allclose(chans.data[5 * 12 + 7], out[5, :, 2, 1].numpy(), atol=1e-6)
    assert chans.metadata["n_positions"] == 12 and chans.metadata["flatten"] == "channels"
    assert chans.n_samples == 10 * 12


def test_layer_selection_by_name_and_type() -> None:
    net = mlp([4, 6, 5, 2], seed=0)
    x = _x(30, 4)
    recs = record(net, x, layers=["fc2", nn.ReLU])
    assert list(recs) == ["relu1", "fc2", "relu2"]  # execution order, not argument order
    with torch.no_grad():
        np.testing.assert_allclose(recs["fc2"].data, net[:3](x).numpy(), atol=1e-6)
    assert list(record(net, x, layers="output")) == ["output"]
    assert list(record(net, x, layers=nn.Linear)) == ["fc1", "fc2", "fc3"]


def test_default_layers_cover_torch_activations() -> None:
    acts = [nn.GELU(), nn.Tanh(), nn.Sigmoid(), nn.ELU(), nn.SiLU(), nn.Softplus(), nn.LeakyReLU()]
    mods: list[nn.Module] = []
    for a in acts:
        mods += [nn.Linear(3, 3), a]
    net = nn.Sequential(*mods)
    recs = record(net, _x(8, 3))
    assert list(recs) == [str(2 * i + 1) for i in range(len(acts))] + ["output"]
    assert nn.MultiheadAttention not in activation_types()


def test_unknown_layer_lists_available_names() -> None:
    net = mlp([4, 6, 2], seed=0)
    with pytest.raises(InvalidParameterError, match=r"no layer called 'fc9'.*'fc1'.*'relu1'.*'fc2'"):
        record(net, _x(5, 4), layers=["fc9"])
    with pytest.raises(InvalidParameterError, match="no module of type Conv2d"):
        record(net, _x(5, 4), layers=[nn.Conv2d])
    with pytest.raises(InvalidParameterError):
        record(net, _x(5, 4), layers=[3])


class _Branchy(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 3)
        self.act = nn.ReLU()
        self.unused = nn.Tanh()
        self.fail = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.act(self.fc(x))
        if self.fail:
            raise RuntimeError("failure in the middle of forward")
        return self.act(h - 0.5)  # the same module called twice


def test_reused_module_never_run_and_hooks_after_errors() -> None:
    net = _Branchy()
    x = _x(20, 3)
    recs = record(net, x, layers=["act", "output"])
    assert list(recs) == ["act", "act#2", "output"]
    with torch.no_grad():
        h = torch.relu(net.fc(x))
    np.testing.assert_allclose(recs["act"].data, h.numpy(), atol=1e-6)
    np.testing.assert_allclose(recs["act#2"].data, torch.relu(h - 0.5).numpy(), atol=1e-6)
    with pytest.raises(InvalidParameterError, match="never ran"):
        record(net, x, layers=["unused"])
    assert _no_hooks(net)
    net.fail = True
    with pytest.raises(RuntimeError, match="middle of forward"):
        record(net, x, layers=["act", "fc"])
    assert _no_hooks(net)


class _Shapes(nn.Module):
    """Returns the shape of its input: no tensor to record."""

    def forward(self, x: torch.Tensor) -> tuple[int, ...]:
        return tuple(x.shape)


class _TupleOut(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(3, 4, batch_first=True)
        self.shapes = _Shapes()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.shapes(x)
        return self.lstm(x)[0][:, -1]


def test_non_tensor_output_and_bad_inputs() -> None:
    net = _TupleOut()
    with pytest.raises(InvalidDataError, match=r"'shapes' \(_Shapes\) returned \(int, int, int\), with no tensor"):
        record(net, torch.randn(6, 5, 3), layers=["shapes"])
    with pytest.raises(InvalidParameterError, match=r"output=5 does not select anything.*'lstm'"):
        record(net, torch.randn(6, 5, 3), layers=["lstm"], output=5)
    assert _no_hooks(net)
    assert record(net, torch.randn(6, 5, 3))["output"].data.shape == (6, 4)
    small = mlp([2, 3, 1], seed=0)
    with pytest.raises(UnsupportedSourceError):
        record(small, "not inputs")
    with pytest.raises(UnsupportedSourceError, match="batch 0"):
        record(small, [[1.0, 2.0]])
    with pytest.raises(InsufficientDataError):
        record(small, torch.empty(0, 2))
    with pytest.raises(InvalidParameterError):
        record(small, _x(4, 2), flatten="pixels")
    with pytest.raises(InvalidParameterError):
        record(small, _x(4, 2), batch_size=0)
    with pytest.raises(InvalidParameterError, match=r"model\.to"):
        record(small, _x(4, 2), device="cuda")
    bad = _x(4, 2)
    bad[1, 0] = float("nan")
    with pytest.raises(InvalidDataError, match="NaN"):
        record(small, bad)
    assert _no_hooks(small)


def test_model_mode_and_parameters_unchanged() -> None:
    net = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Dropout(0.5), nn.Linear(6, 2))
    with torch.no_grad():
        net[1].running_mean.fill_(0.3)
    net.train()
    net[3].eval()  # a mixed state must survive as it is
    state = {k: v.clone() for k, v in net.state_dict().items()}
    recs = record(net, _x(64, 4), batch_size=16)
    assert net.training and net[1].training and not net[3].training
    for k, v in net.state_dict().items():
        assert torch.equal(v, state[k]), k
    assert recs["2"].data.shape == (64, 6)
    net.eval()
    net[3].train()
    record(net, _x(8, 4))
    assert not net.training and net[3].training and not net[1].training
    for p in net.parameters():
        assert p.grad is None


def test_inplace_activation_does_not_alter_captured_layer() -> None:
    lin = nn.Linear(4, 5)
    net = nn.Sequential(lin, nn.ReLU(inplace=True))
    x = _x(50, 4)
    recs = record(net, x, layers=["0", "1"])
    with torch.no_grad():
        pre = lin(x)
    np.testing.assert_allclose(recs["0"].data, pre.numpy(), atol=1e-6)
    assert (recs["0"].data < 0).any()
    np.testing.assert_allclose(recs["1"].data, pre.clamp(min=0).numpy(), atol=1e-6)


def test_recordings_feed_estimators() -> None:
    net = mlp([8, 12, 2], seed=0)
    recs = nc.torch.record(net, _x(300, 8))
    r = recs["relu1"]
    assert r.binarize().data.mean() == pytest.approx(float((r.data > 0).mean()))
    assert r.select(units=[0, 1]).n_units == 2


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_gpu_capture_matches_cpu() -> None:
    net = mlp([6, 10, 3], seed=0)
    x = _x(300, 6)
    cpu = record(net, x)
    gpu_net = mlp([6, 10, 3], seed=0).cuda()
    gpu = record(gpu_net, x, batch_size=64)  # inputs moved batch by batch
    for key in cpu:
        np.testing.assert_allclose(gpu[key].data, cpu[key].data, atol=1e-4)
    assert next(gpu_net.parameters()).is_cuda


# ----------------------------------------------------------------- per-input labels
def test_labels_one_row_per_input() -> None:
    import pandas as pd

    net = mlp([4, 6, 3], seed=0)
    x = torch.randn(12, 4, generator=torch.Generator().manual_seed(0))
    table = pd.DataFrame({"stimulus": np.arange(12), "digit": np.arange(12) % 3}, index=np.arange(50, 62))
    recs = record(net, x, labels=table, batch_size=5)
    for rec in recs.values():
        assert rec.labels["stimulus"].tolist() == list(range(12))
        assert rec.labels["digit"].tolist() == (np.arange(12) % 3).tolist()
    plain = record(net, x, labels=torch.arange(12) % 2)
    assert plain["relu1"].labels["label"].tolist() == (np.arange(12) % 2).tolist()
    assert record(net, x)["relu1"].labels is None
    # The labels of a brain area's responses to the same stimuli carry over.
    area = nc.Recording.from_array(np.ones((12, 2)), kind="responses").replace(labels=table)
    assert record(net, x, labels=area)["output"].labels.equals(area.labels)


def test_labels_repeat_over_positions_with_channels() -> None:
    conv = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3, padding=1), torch.nn.ReLU())
    x = torch.randn(3, 1, 2, 2, generator=torch.Generator().manual_seed(1))
    recs = record(conv, x, flatten="channels", labels={"stimulus": ["a", "b", "c"]})
    labels = recs["1"].labels
    assert recs["1"].n_samples == 12 and len(labels) == 12
    assert labels["stimulus"].tolist() == ["a"] * 4 + ["b"] * 4 + ["c"] * 4
    assert labels["position"].tolist() == [0, 1, 2, 3] * 3


def test_labels_that_do_not_line_up() -> None:
    net = mlp([4, 6, 3], seed=0)
    x = torch.randn(12, 4, generator=torch.Generator().manual_seed(0))
    with pytest.raises(InvalidParameterError, match="line up"):
        record(net, x, labels=np.arange(11))
    batches = [x[:5], x[5:]]  # an iterable: the count is known only after the run
    with pytest.raises(InvalidParameterError, match="line up"):
        record(net, batches, labels=np.arange(13))
    with pytest.raises(InvalidParameterError, match="1-D"):
        record(net, x, labels=np.zeros((12, 2)))
