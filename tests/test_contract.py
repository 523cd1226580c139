"""The contract every registered estimator keeps (parametrized over the registry).

Returns an Estimate with a finite value inside its declared bounds; deterministic for a seed;
leaves the Recording untouched; rejects invalid parameters with InvalidParameterError; reports
unusable data with InsufficientDataError (never a NaN, never a raw numpy error); gives the same
value whatever backend the Recording came from (numpy array, NWB file, Neo objects).
"""

from __future__ import annotations

import inspect
import math
import warnings

import numpy as np
import pytest

import neurocomplex as nc
from neurocomplex.measures import get_estimator

RECORDING_ESTIMATORS = nc.list_estimators("recording")
PAIR_ESTIMATORS = nc.list_estimators("pair")


def _population(n_samples: int = 400, n_units: int = 6, seed: int = 7) -> nc.Recording:
    """Correlated Poisson spike counts: a shared latent drive plus private noise."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n_samples, 2))
    loading = rng.normal(size=(2, n_units))
    rates = np.exp(0.6 * latent @ loading - 0.7)
    counts = rng.poisson(rates)
    return nc.Recording.from_array(counts, kind="spike_counts", sampling_rate=100.0,
                                   groups=["A"] * (n_units // 2) + ["B"] * (n_units - n_units // 2))


def _kwargs(func, **wanted):
    sig = inspect.signature(func).parameters
    return {k: v for k, v in wanted.items() if k in sig}


def _run(name: str, rec: nc.Recording, **extra):
    spec = get_estimator(name)
    kwargs = _kwargs(spec.func, seed=0, n_boot=20, **extra)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nc.NeurocomplexWarning)
        return spec.func(rec, **kwargs)


def test_registry_holds_the_public_estimators():
    expected = {"activation_ratio", "constant_fraction", "unit_entropy", "pattern_entropy",
                "multi_information", "effective_dimension", "participation_ratio",
                "spectrum_exponent", "twonn_dimension", "pattern_complexity"}
    assert expected <= set(RECORDING_ESTIMATORS)
    for name in nc.list_estimators(None):
        assert getattr(nc, name, None) is get_estimator(name).func


@pytest.mark.parametrize("name", RECORDING_ESTIMATORS)
def test_returns_estimate_within_bounds_and_deterministic(name):
    rec = _population()
    before = np.array(rec.data)
    est = _run(name, rec)
    again = _run(name, rec)
    assert isinstance(est, nc.Estimate)
    assert math.isfinite(est.value), f"{name} returned {est.value}"
    low, high = get_estimator(name).bounds
    assert low - 1e-9 <= est.value <= high + 1e-9, f"{name}={est.value} outside {low, high}"
    assert est.value == again.value and est.ci == again.ci
    assert est.n_samples == rec.n_samples and est.n_units == rec.n_units
    assert est.method
    if est.ci is not None:
        assert est.ci[0] <= est.ci[1]
    np.testing.assert_array_equal(rec.data, before)
    assert not rec.data.flags.writeable


@pytest.mark.parametrize("name", RECORDING_ESTIMATORS)
def test_rejects_invalid_parameters(name):
    spec = get_estimator(name)
    rec = _population()
    sig = inspect.signature(spec.func).parameters
    cases = list(spec.invalid_params)
    if "n_boot" in sig:
        cases.append({"n_boot": -1})
    if "ci_level" in sig:
        cases.append({"ci_level": 1.5})
    if "threshold" in sig:
        cases.append({"threshold": float("nan")})
    assert cases, f"{name} declares no invalid parameter example"
    for bad in cases:
        with pytest.raises(nc.InvalidParameterError):
            spec.func(rec, **bad)


@pytest.mark.parametrize("name", RECORDING_ESTIMATORS)
def test_rejects_non_recording_input(name):
    with pytest.raises(nc.InvalidParameterError, match="Recording"):
        get_estimator(name).func(np.zeros((10, 3)))


@pytest.mark.parametrize("name", RECORDING_ESTIMATORS)
def test_unusable_data_raise_insufficient_data_never_nan(name):
    one_sample = nc.Recording.from_array(np.ones((1, 4)), kind="spike_counts")
    with pytest.raises(nc.InsufficientDataError):
        _run(name, one_sample)
    constant = nc.Recording.from_array(np.zeros((200, 4)), kind="spike_counts")
    try:
        est = _run(name, constant)
    except nc.InsufficientDataError:
        return
    assert math.isfinite(est.value), f"{name} returned {est.value} on constant data instead of raising"


@pytest.mark.parametrize("name", RECORDING_ESTIMATORS)
def test_same_value_from_nwb_backed_recording(name, tmp_path):
    pytest.importorskip("neurocomplex.io.nwb")
    rec = _population()
    path = tmp_path / "rec.nwb"
    rec.to_nwb(path)
    loaded = nc.load(path)
    np.testing.assert_array_equal(loaded.data, rec.data)
    assert _run(name, loaded).value == pytest.approx(_run(name, rec).value, rel=1e-12, abs=1e-12)


def test_same_value_from_neo_and_from_spike_times():
    neo = pytest.importorskip("neo")
    pq = pytest.importorskip("quantities")
    pytest.importorskip("neurocomplex.io.neo")
    rng = np.random.default_rng(3)
    trains = [np.sort(rng.uniform(0, 20, size=n)) for n in (80, 120, 40, 200)]
    direct = nc.Recording.from_spike_times(trains, bin_size=0.05, t_start=0.0, t_stop=20.0)
    neo_trains = [neo.SpikeTrain(t * 1000 * pq.ms, t_start=0 * pq.ms, t_stop=20000 * pq.ms) for t in trains]
    via_neo = nc.load(neo_trains, bin_size=0.05)
    for name in ("pattern_entropy", "effective_dimension", "activation_ratio"):
        assert _run(name, via_neo).value == pytest.approx(_run(name, direct).value, rel=1e-12)


def _pair_population(n_samples: int = 120) -> tuple[nc.Recording, nc.Recording]:
    """Two populations over the same samples: rates, and a slightly noisy nonlinear readout of them."""
    rng = np.random.default_rng(11)
    rates = np.exp(0.6 * rng.normal(size=(n_samples, 2)) @ rng.normal(size=(2, 6)) - 0.7)
    y = np.tanh(rates @ rng.normal(size=(6, 4)) / 3) + 0.01 * rng.normal(size=(n_samples, 4))
    return nc.Recording.from_array(rates, kind="rates"), nc.Recording.from_array(y, kind="activations")


def _run_pair(name: str, x: nc.Recording, y: nc.Recording, **extra):
    spec = get_estimator(name)
    kwargs = _kwargs(spec.func, seed=0, n_boot=20, **extra)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nc.NeurocomplexWarning)
        return spec.func(x, y, **kwargs)


def test_registry_holds_the_pair_estimators():
    assert {"cka", "rsa", "shape_distance", "predictivity"} <= set(PAIR_ESTIMATORS)
    assert all(get_estimator(n).family == "similarity" for n in ("cka", "rsa", "shape_distance", "predictivity"))


@pytest.mark.parametrize("name", PAIR_ESTIMATORS)
def test_pair_estimate_within_bounds_deterministic_and_inputs_untouched(name):
    x, y = _pair_population()
    before = (np.array(x.data), np.array(y.data))
    est = _run_pair(name, x, y)
    again = _run_pair(name, x, y)
    assert isinstance(est, nc.Estimate)
    assert math.isfinite(est.value), f"{name} returned {est.value}"
    low, high = get_estimator(name).bounds
    assert low - 1e-9 <= est.value <= high + 1e-9, f"{name}={est.value} outside {low, high}"
    assert est.value == again.value and est.ci == again.ci
    assert est.n_samples == x.n_samples and est.method
    if est.ci is not None:
        assert est.ci[0] <= est.ci[1]
    np.testing.assert_array_equal(x.data, before[0])
    np.testing.assert_array_equal(y.data, before[1])
    assert not x.data.flags.writeable and not y.data.flags.writeable


@pytest.mark.parametrize("name", PAIR_ESTIMATORS)
def test_pair_estimators_reject_invalid_parameters_and_inputs(name):
    spec = get_estimator(name)
    x, y = _pair_population()
    sig = inspect.signature(spec.func).parameters
    cases = list(spec.invalid_params)
    if "n_boot" in sig:
        cases.append({"n_boot": -1})
    if "ci_level" in sig:
        cases.append({"ci_level": 1.5})
    assert cases, f"{name} declares no invalid parameter example"
    for bad in cases:
        with pytest.raises(nc.InvalidParameterError):
            spec.func(x, y, **bad)
    with pytest.raises(nc.InvalidParameterError, match="Recording"):
        spec.func(np.zeros((10, 3)), y)
    with pytest.raises(nc.InvalidParameterError, match="samples"):
        spec.func(x, _pair_population(n_samples=100)[1])


def test_measure_table_is_tidy_and_matches_direct_calls():
    rec = _population()
    names = ["activation_ratio", "participation_ratio"]
    table = nc.measure({"r1": rec}, names, n_boot=0)
    assert list(table.columns[:4]) == ["recording", "group", "measure", "value"]
    assert len(table) == 3 * len(names)  # groups A, B and all
    row = table[(table.group == "A") & (table.measure == "participation_ratio")].iloc[0]
    assert row.value == pytest.approx(nc.participation_ratio(rec.select(groups="A"), n_boot=0).value)
    assert row.n_units == 3
    with pytest.raises(nc.InvalidParameterError, match="no estimator"):
        nc.measure(rec, ["not_a_measure"])


def _device_estimators() -> list[str]:
    return [n for n in nc.list_estimators(None) if "device" in inspect.signature(get_estimator(n).func).parameters]


def test_device_estimators_are_the_covariance_word_and_neighbour_ones():
    assert set(_device_estimators()) == {
        "effective_dimension", "participation_ratio", "spectrum_exponent", "twonn_dimension", "pattern_entropy",
        "unit_entropy", "multi_information", "word_entropy", "entropy_rate", "pattern_complexity",
        "complexity_curve", "cka", "shape_distance"}


@pytest.mark.parametrize("name", _device_estimators())
def test_device_path_agrees_and_rejects_a_bad_device(name):
    # the torch path (here on the CPU) gives the numpy path's value and interval; a device torch cannot
    # use is an InvalidParameterError, whatever the estimator
    pytest.importorskip("torch")
    spec = get_estimator(name)
    if spec.input == "pair":
        x, y = _pair_population()
        ref, dev = _run_pair(name, x, y), _run_pair(name, x, y, device="cpu")
        args: tuple = (x, y)
    else:
        rec = _population(n_samples=600, n_units=20) if name == "twonn_dimension" else _population()
        ref, dev = _run(name, rec), _run(name, rec, device="cpu")
        args = (rec,)
    assert dev.value == pytest.approx(ref.value, rel=1e-5, abs=1e-12)
    assert (dev.ci is None) == (ref.ci is None)
    if ref.ci is not None:
        assert dev.ci == pytest.approx(ref.ci, rel=1e-5, abs=1e-12)
    assert dev.params["device"] == "cpu"
    for bad in ("no-such-device", 12.5):
        with pytest.raises(nc.InvalidParameterError, match="device"):
            spec.func(*args, device=bad)


def test_device_without_torch_is_a_missing_dependency():
    # in a fresh interpreter where torch cannot be imported, every device= estimator names the extra
    import subprocess
    import sys

    script = f"""
import importlib.abc, sys
class NoTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] == "torch":
            raise ImportError("no torch here")
sys.meta_path.insert(0, NoTorch())
import numpy as np, neurocomplex as nc
from neurocomplex.measures import get_estimator
rng = np.random.default_rng(0)
rec = nc.Recording.from_array(rng.normal(size=(200, 20)))
for name in {_device_estimators()!r}:
    spec = get_estimator(name)
    args = (rec, rec) if spec.input == "pair" else (rec,)
    try:
        spec.func(*args, device="cuda")
    except nc.MissingDependencyError as err:
        assert "pip install" in str(err), (name, err)
    else:
        raise AssertionError(name + " ran without torch")
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
