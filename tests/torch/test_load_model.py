"""load_model: a user's weights file loaded safely, with named errors for what is not a state dict."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from neurocomplex.errors import CorruptFileError, InvalidDataError, InvalidParameterError, MissingFileError  # noqa: E402
from neurocomplex.torch.models import demo_network_path, load_demo_network, load_model, mlp  # noqa: E402


def test_state_dict_round_trip(tmp_path) -> None:
    net = mlp([5, 7, 3], activation="tanh", seed=3)
    path = tmp_path / "w.pt"
    torch.save(net.state_dict(), path)
    loaded = load_model(path, architecture=lambda: mlp([5, 7, 3], activation="tanh", seed=99))
    x = torch.randn(11, 5, generator=torch.Generator().manual_seed(0))
    assert not loaded.training
    assert torch.equal(loaded(x), net.eval()(x))
    # A module instance works too, and a dict with "state_dict" (plus the demo fields) needs no architecture.
    assert torch.equal(load_model(path, architecture=mlp([5, 7, 3], activation="tanh"))(x), net(x))
    torch.save({"state_dict": net.state_dict(), "widths": [5, 7, 3], "activation": "tanh"}, tmp_path / "d.pt")
    assert torch.equal(load_model(tmp_path / "d.pt")(x), net(x))


def test_demo_file_loads_as_demo_network() -> None:
    if not demo_network_path().exists():
        pytest.skip("data/demo_network.pt not generated")
    x = torch.rand(4, 64, generator=torch.Generator().manual_seed(1))
    assert torch.equal(load_model(demo_network_path())(x), load_demo_network()(x))


def test_not_a_state_dict(tmp_path) -> None:
    tensor = tmp_path / "tensor.pt"
    torch.save(torch.zeros(3), tensor)
    with pytest.raises(InvalidDataError, match="not a state dict"):
        load_model(tensor, architecture=mlp([2, 2]))
    listed = tmp_path / "list.pt"
    torch.save([torch.zeros(2)], listed)
    with pytest.raises(InvalidDataError, match="not a state dict"):
        load_model(listed, architecture=mlp([2, 2]))
    mixed = tmp_path / "mixed.pt"
    torch.save({"a": 1, "b": "x"}, mixed)
    with pytest.raises(InvalidDataError, match="not a state dict"):
        load_model(mixed, architecture=mlp([2, 2]))
    whole = tmp_path / "whole.pt"
    torch.save(mlp([2, 2]), whole)  # a pickled module: refused by weights_only, never executed
    with pytest.raises(InvalidDataError, match="cannot be loaded safely"):
        load_model(whole, architecture=mlp([2, 2]))


def test_other_bad_inputs(tmp_path) -> None:
    with pytest.raises(MissingFileError):
        load_model(tmp_path / "absent.pt", architecture=mlp([2, 2]))
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a torch file")
    with pytest.raises(CorruptFileError):
        load_model(junk, architecture=mlp([2, 2]))
    assert junk.read_bytes() == b"not a torch file"
    path = tmp_path / "w.pt"
    torch.save(mlp([4, 3, 2]).state_dict(), path)
    with pytest.raises(InvalidParameterError, match="architecture="):
        load_model(path)
    with pytest.raises(InvalidDataError, match="do not fit"):
        load_model(path, architecture=mlp([4, 5, 2]))
    with pytest.raises(InvalidParameterError, match="torch module"):
        load_model(path, architecture="mlp")
