"""Laps, topological entropy, Lipschitz constants and the ReLU bound (MEASURES.md §5)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import neurocomplex as nc
from neurocomplex.errors import InsufficientDataError, InvalidDataError, InvalidParameterError

torch = pytest.importorskip("torch")

LOG2 = math.log(2.0)


def tent(x):
    return 1.0 - np.abs(2.0 * x - 1.0)


def logistic(x):
    return 4.0 * x * (1.0 - x)


def sawtooth(k: int):
    """Telgarsky's tent map as a ReLU net, t(x) = 2 relu(x) - 4 relu(x - 1/2), composed k times."""
    layers = []
    for _ in range(k):
        first, second = torch.nn.Linear(1, 2), torch.nn.Linear(2, 1)
        with torch.no_grad():
            first.weight.copy_(torch.tensor([[1.0], [1.0]]))
            first.bias.copy_(torch.tensor([0.0, -0.5]))
            second.weight.copy_(torch.tensor([[2.0, -4.0]]))
            second.bias.zero_()
        layers += [first, torch.nn.ReLU(), second]
    return torch.nn.Sequential(*layers)


def random_net(widths, seed, bias_std=1.0):
    gen = torch.Generator().manual_seed(seed)
    layers, fan_in = [], 1
    for width in widths:
        lin = torch.nn.Linear(fan_in, width)
        with torch.no_grad():
            lin.weight.normal_(0.0, math.sqrt(2.0 / fan_in), generator=gen)
            lin.bias.normal_(0.0, bias_std, generator=gen)
        layers += [lin, torch.nn.ReLU()]
        fan_in = width
    out = torch.nn.Linear(fan_in, 1)
    with torch.no_grad():
        out.weight.normal_(0.0, 2.0 / math.sqrt(fan_in), generator=gen)
        out.bias.fill_(0.5)
    layers.append(out)
    return torch.nn.Sequential(*layers)


def clamped_net(seed, width=8):
    """Random ReLU net with its first-layer kinks inside [0, 1], clamped into [0, 1] by a Hardtanh."""
    gen = torch.Generator().manual_seed(seed)
    first, hidden, out = torch.nn.Linear(1, width), torch.nn.Linear(width, width), torch.nn.Linear(width, 1)
    with torch.no_grad():
        first.weight.normal_(0.0, 4.0, generator=gen)
        first.bias.copy_(-first.weight[:, 0] * torch.rand(width, generator=gen))
        hidden.weight.normal_(0.0, math.sqrt(2.0 / width), generator=gen)
        hidden.bias.normal_(0.0, 0.5, generator=gen)
        out.weight.normal_(0.0, 2.0, generator=gen)
        out.bias.fill_(0.5)
    return torch.nn.Sequential(first, torch.nn.ReLU(), hidden, torch.nn.ReLU(), out, torch.nn.Hardtanh(0.0, 1.0))


def dense_laps(net, interval, n=1, n_points=200_001):
    """Reference count on a plain uniform grid, through torch in float64 (independent of the package)."""
    model = net.double()
    x = torch.linspace(*interval, n_points, dtype=torch.float64).reshape(-1, 1)
    with torch.no_grad():
        for _ in range(n):
            x = model(x)
    d = np.diff(x.reshape(-1).numpy())
    s = np.sign(d[np.abs(d) > 1e-12])
    return int(np.count_nonzero(s[1:] != s[:-1])) + 1


# --------------------------------------------------------------------------- callables
def test_tent_and_logistic_laps_are_powers_of_two():
    for n in range(1, 9):
        assert nc.laps(tent, n=n) == 2**n
        assert nc.laps(logistic, n=n) == 2**n


@pytest.mark.parametrize("f", [tent, logistic])
def test_chaotic_maps_have_entropy_log2(f):
    est = nc.topological_entropy(f, n_max=10)
    assert est.value == pytest.approx(LOG2, rel=0.02)
    assert est.diagnostics["fit_n"].tolist() == [5, 6, 7, 8, 9, 10]
    assert est.diagnostics["laps"][:6].tolist() == [2, 4, 8, 16, 32, 64]
    assert est.method == "adaptive_grid" and est.ci is None


@pytest.mark.parametrize("f", [lambda x: x**2, lambda x: 0.5 * x + 0.25, lambda x: 1.0 - x])
def test_monotone_maps_have_zero_entropy(f):
    est = nc.topological_entropy(f, n_max=6)
    assert est.diagnostics["laps"].tolist() == [1] * 6
    assert est.value == 0.0


def test_non_vectorised_callable_and_other_interval():
    # sin(pi x) is a full unimodal map of [0, 1]: laps(f^n) = 2^n; math.sin only takes scalars
    assert nc.laps(lambda x: math.sin(math.pi * x), n=3, grid=257) == 8
    # the tent map conjugated to [-1, 1]
    assert nc.laps(lambda x: 1.0 - 2.0 * np.abs(x), interval=(-1.0, 1.0), n=5) == 32


def test_lipschitz_of_callables():
    assert nc.lipschitz_estimate(tent) == pytest.approx(2.0, rel=1e-9)
    assert nc.lipschitz_estimate(logistic) == pytest.approx(4.0, rel=1e-3)
    assert nc.lipschitz_estimate(lambda x: 0.5 * x) == pytest.approx(0.5, rel=1e-9)


def frac3(x):
    """x -> 3x mod 1: three increasing branches, with downward jumps at 1/3, 2/3 and 1."""
    return np.mod(3.0 * x, 1.0)


def test_jumps_of_a_discontinuous_map_are_no_laps():
    # before: 6 and 54 (each drop counted as a decreasing lap), without a warning
    with pytest.warns(nc.NeurocomplexWarning, match=r"f\^1 is discontinuous: it jumps at 3 point\(s\), the first near "
                                                    r"x=0\.333"):
        assert nc.laps(frac3) == 3
    with pytest.warns(nc.NeurocomplexWarning, match=r"f\^3 is discontinuous: it jumps at 27 point"):
        assert nc.laps(frac3, n=3) == 27
    with pytest.warns(nc.NeurocomplexWarning, match="discontinuous"):
        est = nc.topological_entropy(frac3, n_max=6)
    assert est.diagnostics["laps"].tolist() == [3, 9, 27, 81, 243, 729]
    assert est.diagnostics["jumps"].tolist() == [3, 9, 27, 81, 243, 729]
    assert est.value == pytest.approx(math.log(3.0), abs=1e-12)
    assert len(est.warnings) == 1 and "f^1 is discontinuous" in est.warnings[0]
    with pytest.warns(nc.NeurocomplexWarning, match="no finite Lipschitz constant"):
        nc.lipschitz_estimate(frac3)


def test_a_jump_ends_a_lap_only_against_its_direction():
    cases = [
        (lambda x: np.where(x < 0.5, x, x - 0.4), 2),  # rise, drop, rise
        (lambda x: np.where(x < 0.5, x, 0.9 - x), 2),  # rise, drop, fall
        (lambda x: np.where(x < 0.5, 0.2, np.where(x < 0.7, 0.1, x)), 2),  # flat, drop, flat, rise
    ]
    for f, expected in cases:
        with pytest.warns(nc.NeurocomplexWarning, match="discontinuous"):
            assert nc.laps(f) == expected
    with warnings.catch_warnings():  # a jump in a lap's direction is not looked for: nothing to say
        warnings.simplefilter("error", nc.NeurocomplexWarning)
        assert nc.laps(lambda x: np.where(x < 0.5, 1.0 - x, 0.9 - x)) == 1  # fall, drop, fall: one piece
        assert nc.laps(lambda x: np.where(x < 0.5, x / 2, x / 2 + 0.5), n=3) == 1


def test_continuous_maps_raise_no_jump_warning():
    # steep turns (|sin(200 x)| has corners of slope +-200 at its zeros) are tested and pass as continuous
    with warnings.catch_warnings():
        warnings.simplefilter("error", nc.NeurocomplexWarning)
        assert nc.laps(tent, n=8) == 256
        assert nc.laps(logistic, n=12) == 4096
        assert nc.laps(lambda x: np.abs(np.sin(200.0 * x))) == 128
        est = nc.topological_entropy(tent, n_max=4)
    assert est.diagnostics["jumps"].tolist() == [0, 0, 0, 0]


# --------------------------------------------------------------------------- exact counting
def test_sawtooth_net_has_exactly_2_pow_k_laps_and_pieces():
    for k in range(1, 7):
        net = sawtooth(k)
        assert nc.laps(net) == 2**k
        est = nc.topological_entropy(net, n_max=2)
        assert est.diagnostics["pieces"][0] == 2**k  # affine pieces of the net itself
        assert est.diagnostics["laps"].tolist() == [2**k, 4**k]
        assert nc.lipschitz_estimate(net) == pytest.approx(2.0**k)
    assert nc.laps(sawtooth(4), exact=False) == 16  # grid method agrees
    # laps(t^k) = 2^k over depth k: the tent map's entropy log 2, from the family of nets
    ks = np.arange(1, 9)
    slope = np.polyfit(ks, np.log([nc.laps(sawtooth(int(k))) for k in ks]), 1)[0]
    assert slope == pytest.approx(LOG2, rel=1e-9)


@pytest.mark.parametrize("k", [1, 2])
def test_sawtooth_net_entropy(k):
    est = nc.topological_entropy(sawtooth(k), n_max=8 // k)
    assert est.method == "exact_breakpoints"
    assert est.value == pytest.approx(k * LOG2, rel=1e-9)  # h(t^k) = k h(t)
    assert est.value <= est.diagnostics["bound"]


def test_exact_laps_match_dense_grid():
    counts = []
    for widths in ([6], [8, 8], [4, 4, 4]):
        for seed in range(3):
            net = random_net(widths, seed)
            counts.append(nc.laps(net, interval=(-2.0, 2.0)))
            assert counts[-1] == dense_laps(net, (-2.0, 2.0))
    for seed in range(2):  # compositions, with flat (clamped) pieces
        net = clamped_net(seed)
        for n in (1, 2, 3):
            counts.append(nc.laps(net, n=n))
            assert counts[-1] == dense_laps(net, (0.0, 1.0), n=n)
    assert max(counts) >= 5


def test_random_relu_nets_respect_bounds():
    checked = 0
    for widths in ([4], [16], [4, 4], [8, 8], [4, 4, 4], [16, 16]):
        for seed in range(3):
            net = random_net(widths, seed)
            with warnings.catch_warnings():  # some nets stop early at max_pieces, with a warning
                warnings.simplefilter("ignore", nc.NeurocomplexWarning)
                est = nc.topological_entropy(net, interval=(-1.0, 1.0), rescale=True, n_max=8, max_pieces=100_000)
            lip = nc.lipschitz_estimate(net, interval=(-1.0, 1.0), rescale=True)
            bound = nc.relu_entropy_bound(widths)
            assert est.diagnostics["bound"] == pytest.approx(bound)
            assert 0.0 <= est.value <= bound
            assert est.value <= max(0.0, math.log(lip)) + 1e-9
            checked += est.value > 0
    assert checked >= 5  # the check is not vacuous: several nets do oscillate


def test_rescale_maps_range_onto_interval():
    lin = torch.nn.Sequential(torch.nn.Linear(1, 1))
    with torch.no_grad():
        lin[0].weight.fill_(3.0)
        lin[0].bias.fill_(5.0)
    # g(x) = 3x + 5 on [0, 1] rescaled onto [0, 1] is the identity: one lap, slope 1, entropy 0
    assert nc.lipschitz_estimate(lin, rescale=True) == pytest.approx(1.0)
    assert nc.topological_entropy(lin, rescale=True, n_max=4).value == 0.0
    with pytest.raises(InvalidDataError, match="outside the interval"):
        nc.topological_entropy(lin, n_max=4)


def test_network_is_not_modified_and_tanh_uses_grid():
    net = torch.nn.Sequential(torch.nn.Linear(1, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1))
    net.train()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    assert nc.laps(net, interval=(-1.0, 1.0)) == dense_laps(net, (-1.0, 1.0), n_points=100_001)
    with pytest.raises(InvalidParameterError, match="Tanh"):
        nc.laps(net, exact=True)
    relu = random_net([8], 0)
    relu_before = {k: v.clone() for k, v in relu.state_dict().items()}
    nc.topological_entropy(relu, interval=(-1.0, 1.0), rescale=True, n_max=3)
    assert net.training
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())
    assert all(torch.equal(relu_before[k], v) for k, v in relu.state_dict().items())


def test_abs_module_recognised_by_name():
    class Abs(torch.nn.Module):
        def forward(self, x):
            return x.abs()

    # |2x - 1| on [0, 1]: the reflected tent, 2 laps, exact
    net = torch.nn.Sequential(torch.nn.Linear(1, 1), Abs())
    with torch.no_grad():
        net[0].weight.fill_(2.0)
        net[0].bias.fill_(-1.0)
    assert nc.laps(net, exact=True) == 2
    assert nc.topological_entropy(net, n_max=6).value == pytest.approx(LOG2)


def test_max_pieces_stops_early_with_warning():
    with pytest.warns(nc.NeurocomplexWarning, match="max_pieces"):
        est = nc.topological_entropy(sawtooth(3), n_max=8, max_pieces=5_000)
    assert est.diagnostics["n"].tolist() == [1, 2, 3, 4]
    assert est.value == pytest.approx(3 * LOG2)
    assert est.warnings
    with pytest.raises(InsufficientDataError, match="max_pieces"):
        nc.topological_entropy(sawtooth(6), n_max=4, max_pieces=1_000)


# --------------------------------------------------------------------------- bound
def test_relu_entropy_bound():
    assert nc.relu_entropy_bound([4, 4]) == pytest.approx(2 * math.log(8))
    assert nc.relu_entropy_bound([]) == 0.0
    assert nc.relu_entropy_bound(random_net([3, 5], 0)) == pytest.approx(math.log(6) + math.log(10))
    for bad in ([0], [2.5], "ab", 3):
        with pytest.raises(InvalidParameterError):
            nc.relu_entropy_bound(bad)
    # an activation of slope 1 on both sides has no kink and adds no width
    unit_slope = torch.nn.Sequential(torch.nn.Linear(1, 4), torch.nn.ReLU(), torch.nn.Linear(4, 6),
                                     torch.nn.LeakyReLU(1.0), torch.nn.Linear(6, 1))
    assert nc.relu_entropy_bound(unit_slope) == pytest.approx(math.log(8))


def test_relu_entropy_bound_refuses_activations_it_does_not_cover():
    # before: Hardtanh net -> log 8 = 2.079 without a word, although its docstring says it does not hold
    for act in (torch.nn.Hardtanh(), torch.nn.ReLU6()):
        net = torch.nn.Sequential(torch.nn.Linear(1, 4), act, torch.nn.Linear(4, 1))
        with pytest.raises(InvalidParameterError, match=r"does not hold.*2 kinks.*Hardtanh and ReLU6"):
            nc.relu_entropy_bound(net)
    with pytest.raises(InvalidParameterError, match=r"one-kink activations only.*Tanh"):
        nc.relu_entropy_bound(torch.nn.Sequential(torch.nn.Linear(1, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1)))
    with pytest.raises(InvalidParameterError, match="no Linear layer"):
        nc.relu_entropy_bound(torch.nn.Sequential(torch.nn.ReLU()))
    # and topological_entropy leaves the bound out for such nets, as it always did
    est = nc.topological_entropy(clamped_net(0), n_max=3)
    assert "bound" not in est.diagnostics


# --------------------------------------------------------------------------- errors
def test_bad_parameters():
    with pytest.raises(InvalidParameterError, match="n_max"):
        nc.topological_entropy(tent, n_max=1)
    for interval in [(1.0, 0.0), (0.0, float("nan")), (0.0,), "ab"]:
        with pytest.raises(InvalidParameterError, match="interval"):
            nc.laps(tent, interval=interval)
    with pytest.raises(InvalidParameterError, match="callable"):
        nc.topological_entropy(42)
    with pytest.raises(InvalidParameterError, match="n "):
        nc.laps(tent, n=0)
    with pytest.raises(InvalidParameterError, match="exact=True"):
        nc.laps(tent, exact=True)
    with pytest.raises(InvalidParameterError, match="R -> R"):
        nc.laps(torch.nn.Sequential(torch.nn.Linear(2, 1)))
    with pytest.raises(InvalidParameterError, match="rescale"):
        nc.laps(tent, rescale=True)


def test_leaving_the_interval_is_named():
    with pytest.raises(InvalidDataError, match=r"maps x=0\.75 to 1\.5.*outside the interval"):
        nc.laps(lambda x: 2.0 * x, n=2, grid=5)
    with pytest.raises(InvalidDataError, match="outside the interval"):
        nc.topological_entropy(lambda x: x + 0.5, n_max=3)
    # f^1 alone need not map into the interval (nothing is composed)
    assert nc.laps(lambda x: 3.0 * x - 7.0) == 1


def test_registered_as_function_estimator():
    spec = nc.get_estimator("topological_entropy")
    assert spec.family == "topology" and spec.input == "function"
    for params in spec.invalid_params:
        with pytest.raises(InvalidParameterError):
            spec.func(tent, **params)
