"""Variability (linear pieces along lines) and collapse to constants (MEASURES.md §6)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import neurocomplex as nc
from neurocomplex.errors import InsufficientDataError, InvalidDataError, InvalidParameterError

torch = pytest.importorskip("torch")


class Abs(torch.nn.Module):
    def forward(self, x):
        return x.abs()


def mlp(n_in, width, depth, act=torch.nn.ReLU, weight_std=None, seed=0):
    """``depth`` hidden layers of ``width`` units; weight_std scales N(0, weight_std^2 / fan_in) weights,
    biases keep torch's default initialisation."""
    gen = torch.Generator().manual_seed(seed)
    layers, fan_in = [], n_in
    for i in range(depth + 1):
        lin = torch.nn.Linear(fan_in, 1 if i == depth else width)
        with torch.no_grad():
            if weight_std is not None:
                lin.weight.normal_(0.0, weight_std / math.sqrt(fan_in), generator=gen)
            lin.bias.uniform_(-1 / math.sqrt(fan_in), 1 / math.sqrt(fan_in), generator=gen)
        layers.append(lin)
        if i < depth:
            layers.append(act())
        fan_in = width
    return torch.nn.Sequential(*layers)


def pattern_pieces(net, x0, x1, n_points=200_001):
    """Reference: activation-pattern changes along the segment on a fine grid (plain torch)."""
    t = torch.linspace(0.0, 1.0, n_points, dtype=torch.float64)[:, None]
    h = torch.as_tensor(x0, dtype=torch.float64) + t * torch.as_tensor(x1 - x0, dtype=torch.float64)
    states = []
    with torch.no_grad():
        for mod in net.double():
            if isinstance(mod, torch.nn.ReLU):
                states.append(h > 0)
            h = mod(h)
    pattern = torch.cat(states, dim=1).numpy()
    return int(np.any(pattern[1:] != pattern[:-1], axis=1).sum()) + 1


# --------------------------------------------------------------------------- variability
def test_linear_network_has_one_piece_per_line():
    for act in (torch.nn.Identity, None):
        layers = [torch.nn.Linear(3, 8), torch.nn.Linear(8, 8), torch.nn.Linear(8, 2)]
        if act is not None:
            layers = [layers[0], act(), layers[1], act(), layers[2]]
        est = nc.variability(torch.nn.Sequential(*layers), n_lines=30, n_draws=3)
        assert est.value == 1.0
        assert est.ci == (1.0, 1.0)
        assert np.all(est.diagnostics["pieces"] == 1)


@pytest.mark.parametrize("act", [lambda: torch.nn.LeakyReLU(1.0), lambda: torch.nn.PReLU(init=1.0)])
def test_unit_slope_leaky_units_are_linear(act):
    # slope 1 on both sides: the network is linear, so 1 piece per line (was 17.1 here: a kink
    # was counted wherever a pre-activation crossed 0, although the slope does not change there)
    net = torch.nn.Sequential(torch.nn.Linear(3, 16), act(), torch.nn.Linear(16, 16), act(), torch.nn.Linear(16, 2))
    est = nc.variability(net, n_lines=50, n_draws=5, n_boot=0)
    assert est.value == 1.0
    assert np.all(est.diagnostics["pieces"] == 1)
    assert np.all(est.diagnostics["output_pieces"] == 1)
    assert est.diagnostics["hidden_widths"] == []
    own = nc.variability(net, n_lines=50, inputs=np.random.default_rng(0).normal(size=(30, 3)), init=None)
    assert own.value == 1.0


def test_leaky_units_with_a_real_kink_switch_where_relu_units_do():
    # the kink at 0 stays when the slopes differ: with one hidden layer and the same weight draws,
    # the same pre-activations cross 0 at the same places as with ReLU
    relu = nc.variability(mlp(2, 16, 1), n_lines=20, n_draws=4, n_boot=0)
    leaky = nc.variability(mlp(2, 16, 1, act=lambda: torch.nn.LeakyReLU(0.1)), n_lines=20, n_draws=4, n_boot=0)
    assert relu.value > 3.0
    np.testing.assert_array_equal(leaky.diagnostics["pieces"], relu.diagnostics["pieces"])


def test_one_hidden_layer_counts_are_exact():
    # own weights (init=None), one segment between the two inputs: pieces = 1 + units whose
    # hyperplane w.x + b = 0 the segment crosses, t* = -(w.x0 + b) / (w.v) in (0, 1)
    net = mlp(3, 20, 1, seed=3)
    x = np.array([[-2.0, 1.0, 0.5], [1.5, -1.0, 2.0]])
    w, b = net[0].weight.detach().double().numpy(), net[0].bias.detach().double().numpy()
    t_cross = -(w @ x[0] + b) / (w @ (x[1] - x[0]))
    expected = 1 + int(np.sum((t_cross > 0) & (t_cross < 1)))
    est = nc.variability(net, n_lines=4, inputs=x, init=None, n_boot=0)
    assert expected > 3
    assert np.all(est.diagnostics["pieces"] == expected)
    assert est.diagnostics["lines"] == "pairs_of_inputs"


def test_deep_counts_match_fine_sampling():
    rng = np.random.default_rng(0)
    for depth, seed in ((2, 0), (3, 1), (4, 2)):
        net = mlp(2, 8, depth, seed=seed)
        x = rng.normal(size=(2, 2)) * 2.0
        est = nc.variability(net, n_lines=1, inputs=x, init=None, n_boot=0)
        assert est.value == pattern_pieces(net, x[0], x[1])


def test_pieces_grow_with_depth_at_kaiming_init():
    means = [nc.variability(mlp(4, 16, depth), n_lines=40, n_draws=8, n_boot=0).value for depth in (2, 4, 8)]
    assert means[0] * 1.3 < means[1]
    assert means[1] * 1.3 < means[2]


def test_abs_gives_more_pieces_than_relu():
    # same architecture and parameter count, the same weight draws (paired): |x| never silences a
    # unit, so it keeps more linear regions than ReLU in a deep narrow net (Yu & Zhang)
    relu = nc.variability(mlp(2, 4, 8), n_lines=20, n_draws=60, seed=0, n_boot=0)
    absn = nc.variability(mlp(2, 4, 8, act=Abs), n_lines=20, n_draws=60, seed=0, n_boot=0)
    assert absn.value > 1.5 * relu.value


def test_factory_model_untouched_and_deterministic():
    net = mlp(3, 8, 3)
    net.train()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    rng_state = torch.get_rng_state()
    a = nc.variability(net, n_lines=10, n_draws=4, seed=5)
    b = nc.variability(net, n_lines=10, n_draws=4, seed=5)
    assert a.value == b.value and a.ci == b.ci
    assert net.training
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())
    assert torch.equal(rng_state, torch.get_rng_state())
    seen = []

    def factory(seed):
        seen.append(seed)
        return mlp(3, 8, 3, seed=seed)

    est = nc.variability(factory, n_lines=10, n_draws=3, seed=7)
    assert seen == [7, 8, 9]
    assert est.diagnostics["pieces"].shape == (3, 10)
    assert est.ci[0] <= est.value <= est.ci[1]
    assert est.n_units == 24


def test_variability_bad_parameters():
    net = mlp(2, 4, 2)
    for params in ({"n_lines": 0}, {"n_draws": 0}, {"init": "orthogonal"}, {"n_lines": 2.5}):
        with pytest.raises(InvalidParameterError):
            nc.variability(net, **params)
    with pytest.raises(InvalidParameterError, match="factory"):
        nc.variability(42)
    with pytest.raises(InvalidParameterError, match="Tanh"):
        nc.variability(mlp(2, 4, 2, act=torch.nn.Tanh))
    with pytest.raises(InvalidDataError, match="features"):
        nc.variability(net, inputs=np.zeros((5, 3)))
    with pytest.raises(InsufficientDataError, match="distinct"):
        nc.variability(net, inputs=np.ones((5, 2)))
    spec = nc.get_estimator("variability")
    assert spec.family == "variability" and spec.input == "function"
    for params in spec.invalid_params:
        with pytest.raises(InvalidParameterError):
            spec.func(net, **params)


# --------------------------------------------------------------------------- collapse to constants
@pytest.mark.parametrize("act", [torch.nn.Tanh, torch.nn.ReLU])
def test_deep_small_init_collapses_and_shallow_does_not(act):
    x = torch.randn(200, 8, generator=torch.Generator().manual_seed(1))
    deep = mlp(8, 8, 20, act=act, weight_std=0.3)
    shallow = mlp(8, 8, 2, act=act, weight_std=math.sqrt(2.0))
    deep.train()
    before = {k: v.clone() for k, v in deep.state_dict().items()}
    rng_state = torch.get_rng_state()
    est = nc.collapse_to_constants(deep, x)
    assert est.diagnostics["collapsed"] and est.value < 1e-3
    assert len(est.diagnostics["ratios"]) == 21
    assert est.diagnostics["raw_product"] < 1e-12
    ok = nc.collapse_to_constants(shallow, x)
    assert not ok.diagnostics["collapsed"] and ok.value > 0.1
    assert deep.training
    assert all(torch.equal(before[k], v) for k, v in deep.state_dict().items())
    assert torch.equal(rng_state, torch.get_rng_state())


def test_raw_collapse_without_relative_collapse_warns():
    # tiny weights, zero biases: nearly linear and tiny, so the relative spread stays 1.26 (not
    # collapsed) while the output variance fell to 2.4e-23 of the input's
    x = torch.randn(200, 8, generator=torch.Generator().manual_seed(1))
    net = mlp(8, 8, 20, act=torch.nn.Tanh, weight_std=0.3)
    with torch.no_grad():
        for lin in net[::2]:
            lin.bias.zero_()
    with pytest.warns(nc.NeurocomplexWarning, match=r"raw_product < rtol\*\*2"):
        est = nc.collapse_to_constants(net, x)
    assert est.value == pytest.approx(1.2576, abs=1e-4)
    assert not est.diagnostics["collapsed"] and est.diagnostics["raw_collapsed"]
    assert est.diagnostics["raw_product"] == pytest.approx(2.381e-23, rel=1e-3)
    assert len(est.warnings) == 1 and "raw_product" in est.warnings[0]
    # relative and raw collapse together (biases kept), or neither: no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error", nc.NeurocomplexWarning)
        both = nc.collapse_to_constants(mlp(8, 8, 20, act=torch.nn.Tanh, weight_std=0.3), x)
        neither = nc.collapse_to_constants(mlp(8, 8, 2, act=torch.nn.Tanh, weight_std=math.sqrt(2.0)), x)
    assert both.diagnostics["collapsed"] and both.diagnostics["raw_collapsed"] and not both.warnings
    assert not neither.diagnostics["raw_collapsed"] and not neither.warnings


def test_ratio_is_one_for_scaled_orthogonal_layer():
    # W = c Q with Q orthogonal: V(Wx) = c^2 V(x) for any inputs, and the gain ||W||_F^2 / fan_in = c^2
    q, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(5, 5)))
    lin = torch.nn.Linear(5, 5)
    with torch.no_grad():
        lin.weight.copy_(torch.as_tensor(3.0 * q))
    x = np.random.default_rng(1).normal(size=(50, 5)) * np.array([1.0, 2.0, 0.1, 5.0, 1.0])
    est = nc.collapse_to_constants(torch.nn.Sequential(lin), x)
    assert est.diagnostics["raw_ratios"][0] == pytest.approx(9.0)
    assert est.diagnostics["ratios"][0] == pytest.approx(1.0)
    assert est.diagnostics["product"] == pytest.approx(1.0)
    h = x @ (3.0 * q).T + lin.bias.detach().numpy()
    spread = math.sqrt(h.var(axis=0).sum()) / np.linalg.norm(h, axis=1).mean()
    assert est.value == pytest.approx(spread)


def test_constant_output_is_flagged():
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    with torch.no_grad():
        net[2].weight.zero_()
    est = nc.collapse_to_constants(net, np.random.default_rng(0).normal(size=(20, 3)))
    assert est.value == 0.0 and est.diagnostics["collapsed"]


def test_collapse_bad_inputs():
    net = mlp(3, 4, 2)
    x = np.random.default_rng(0).normal(size=(10, 3))
    for rtol in (0.0, -1.0, 1.5, "a"):
        with pytest.raises(InvalidParameterError, match="rtol"):
            nc.collapse_to_constants(net, x, rtol=rtol)
    with pytest.raises(InsufficientDataError, match="identical"):
        nc.collapse_to_constants(net, np.ones((10, 3)))
    with pytest.raises(InsufficientDataError, match="two inputs"):
        nc.collapse_to_constants(net, x[:1])
    bad = x.copy()
    bad[4, 1] = np.nan
    with pytest.raises(InvalidDataError, match="row 4"):
        nc.collapse_to_constants(net, bad)
    with pytest.raises(InvalidParameterError, match="Sequential"):
        nc.collapse_to_constants(torch.nn.Linear(3, 1), x)
    with pytest.raises(InvalidDataError, match="block 0"):
        nc.collapse_to_constants(net, np.random.default_rng(1).normal(size=(10, 7)))
