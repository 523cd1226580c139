"""mlp construction and initialisation; the bundled demo network."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from neurocomplex.errors import CorruptFileError, InvalidParameterError, MissingFileError
from neurocomplex.torch.models import (
    Abs,
    Identity,
    demo_network_path,
    init_gain,
    load_demo_network,
    load_demo_probe,
    mlp,
)


def test_shapes_names_and_activation_types() -> None:
    net = mlp([5, 7, 6, 3], activation="tanh", seed=1)
    names = [n for n, _ in net.named_children()]
    assert names == ["fc1", "tanh1", "fc2", "tanh2", "fc3"]
    assert [tuple(net.get_submodule(f"fc{k}").weight.shape) for k in (1, 2, 3)] == [(7, 5), (6, 7), (3, 6)]
    assert isinstance(net.tanh1, nn.Tanh) and isinstance(net.fc3, nn.Linear)
    assert net(torch.zeros(4, 5)).shape == (4, 3)
    assert net.fc1.weight.dtype == torch.float32
    for act, cls in [("relu", nn.ReLU), ("abs", Abs), ("leaky_relu", nn.LeakyReLU), ("linear", Identity)]:
        children = list(mlp([2, 3, 2], activation=act, seed=0).children())
        assert isinstance(children[1], cls) and len(children) == 3
    assert [n for n, _ in mlp([2, 3], seed=0).named_children()] == ["fc1"]  # no hidden layer: one Linear


def test_activations_compute_what_they_say() -> None:
    x = torch.linspace(-2, 2, 9)
    assert torch.equal(Abs()(x), x.abs())
    assert torch.equal(mlp([2, 2, 2], activation="leaky_relu", seed=0).leaky_relu1(x), torch.where(x > 0, x, 0.01 * x))
    lin = mlp([3, 4, 2], activation="linear", seed=0)
    # a linear network is one affine map: f(a + b) - f(0) = (f(a) - f(0)) + (f(b) - f(0))
    a, b, z = torch.randn(3), torch.randn(3), torch.zeros(3)
    assert torch.allclose(lin(a + b) - lin(z), (lin(a) - lin(z)) + (lin(b) - lin(z)), atol=1e-6)


def _pooled_std(net: nn.Sequential) -> list[tuple[float, int, int]]:
    return [(float(m.weight.detach().std()), m.in_features, m.out_features) for m in net if isinstance(m, nn.Linear)]


@pytest.mark.parametrize("activation, gain2", [("relu", 2.0), ("tanh", 25 / 9), ("abs", 1.0), ("linear", 1.0)])
def test_kaiming_weight_std(activation: str, gain2: float) -> None:
    net = mlp([400, 300, 200], activation=activation, seed=3)
    for std, fan_in, fan_out in _pooled_std(net):
        expected = math.sqrt(gain2 / fan_in)
        n = fan_in * fan_out
        # sample std of n normals: relative standard error 1/sqrt(2n); allow 5 of them
        assert abs(std / expected - 1) < 5 / math.sqrt(2 * n)
    assert init_gain(activation) ** 2 == pytest.approx(gain2)


def test_xavier_and_normal_std_and_bias() -> None:
    for std, fan_in, fan_out in _pooled_std(mlp([300, 200, 100], init="xavier", seed=0)):
        assert std == pytest.approx(math.sqrt(2 / (fan_in + fan_out)), rel=5 / math.sqrt(2 * fan_in * fan_out))
    net = mlp([300, 200, 100], init="normal", weight_std=1.5, bias_std=0.5, seed=0)
    for std, fan_in, fan_out in _pooled_std(net):
        assert std == pytest.approx(1.5 / math.sqrt(fan_in), rel=5 / math.sqrt(2 * fan_in * fan_out))
    biases = torch.cat([net.fc1.bias, net.fc2.bias])
    assert float(biases.detach().std()) == pytest.approx(0.5, rel=5 / math.sqrt(2 * 300))
    assert torch.count_nonzero(mlp([3, 4, 2], seed=0).fc1.bias) == 0
    assert mlp([3, 4, 2], bias=False, seed=0).fc1.bias is None


def test_seeded_and_global_rng_untouched() -> None:
    torch.manual_seed(123)
    state = torch.get_rng_state()
    a, b = mlp([6, 8, 2], seed=7), mlp([6, 8, 2], seed=7)
    c = mlp([6, 8, 2], seed=8)
    mlp([6, 8, 2])  # unseeded: fresh entropy, still not from the global generator
    assert torch.equal(torch.get_rng_state(), state)
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.equal(pa, pb)
    assert not torch.equal(a.fc1.weight, c.fc1.weight)


@pytest.mark.parametrize("kwargs", [
    {"widths": [3]}, {"widths": [3, 0, 2]}, {"widths": "34"}, {"widths": [3, 2.5]},
    {"widths": [3, 2], "activation": "gelu"}, {"widths": [3, 2], "init": "orthogonal"},
    {"widths": [3, 2], "init": "normal"}, {"widths": [3, 2], "weight_std": 1.0},
    {"widths": [3, 2], "bias_std": -1.0}, {"widths": [3, 2], "seed": -1}, {"widths": [3, 2], "bias": "yes"},
])
def test_invalid_parameters(kwargs: dict) -> None:
    with pytest.raises(InvalidParameterError):
        mlp(**kwargs)


def test_demo_network_accuracy_matches_recorded() -> None:
    if not demo_network_path().exists():
        pytest.skip("data/demo_network.pt not generated")
    net = load_demo_network()
    content = torch.load(demo_network_path(), weights_only=True)
    x, labels = load_demo_probe()
    assert x.shape == (500, 64) and x.dtype == torch.float32 and labels.shape == (500,)
    assert float(x.min()) >= 0.0 and float(x.max()) <= 1.0
    assert not net.training
    with torch.inference_mode():
        acc = float((net(x).argmax(dim=1) == labels).to(torch.float64).mean())
    assert acc == content["probe_accuracy"]
    assert acc > 0.9  # a trained classifier of 10 classes, far above chance (0.1)
    assert content["widths"] == [64, 64, 32, 10] and content["activation"] == "relu"


def test_demo_network_missing_or_corrupt(tmp_path) -> None:
    with pytest.raises(MissingFileError, match="make_demo_network"):
        load_demo_network(tmp_path / "absent.pt")
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a torch file")
    with pytest.raises(CorruptFileError):
        load_demo_network(bad)
    partial = tmp_path / "partial.pt"
    torch.save({"widths": [2, 2]}, partial)
    with pytest.raises(CorruptFileError, match="lacks"):
        load_demo_probe(partial)
    assert bad.read_bytes() == b"not a torch file"  # input left as it was
