"""word_entropy and entropy_rate with device=: time words packed and counted with torch."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import neurocomplex as nc
from neurocomplex.errors import InvalidParameterError, NeurocomplexWarning

torch = pytest.importorskip("torch")

from neurocomplex._backend import accumulate as _accumulate  # noqa: E402
from neurocomplex.measures.entropy import _distinct  # noqa: E402
from neurocomplex.measures.temporal_entropy import _window_words  # noqa: E402

# Rows sent to the device at a time in these tests: the data span several chunks, so windows
# straddle chunk boundaries.
_CHUNK = 700


def _cuda() -> str:
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    return "cuda"


def _trains(n: int, n_units: int, seed: int, kind: str = "binary") -> np.ndarray:
    """Binary trains with memory (a unit tends to repeat its last state), some rows all on."""
    rng = np.random.default_rng(seed)
    flips = rng.random((n, n_units)) < 0.3
    state = np.cumsum(flips, axis=0) % 2
    state[50:80] = 1  # every bit set, the top bit of a 64-bit code included
    state[80:90] = 0
    if kind == "binary":
        return state.astype(np.uint8)
    return (state * rng.uniform(0.2, 3.0, size=(n, n_units))).astype(np.float32)  # rates above 0.5 are active


def _same(dev: nc.Estimate, ref: nc.Estimate) -> None:
    assert dev.value == ref.value
    assert dev.ci == ref.ci
    assert dev.n_samples == ref.n_samples and dev.n_units == ref.n_units
    for key, val in ref.diagnostics.items():
        if isinstance(val, np.ndarray):
            np.testing.assert_array_equal(dev.diagnostics[key], val, err_msg=key)
        else:
            assert dev.diagnostics[key] == val, key
    assert dev.params == {**ref.params, "device": dev.params["device"]}


def _quiet(func, *args, **kw) -> nc.Estimate:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NeurocomplexWarning)
        return func(*args, **kw)


@pytest.mark.parametrize("n_units", [1, 5, 13, 64, 65, 130])
def test_window_word_counts_equal_numpy(n_units: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_accumulate, "_COUNT_CHUNK", 97)
    x = _trains(1000, n_units, seed=n_units)
    lengths = [1, 2, 3, 7] if n_units < 64 else [1, 2, 3]
    res = _accumulate.count_window_words_torch(x, 0.0, "cpu", lengths, block_size=40, prefixes=True)
    refs = [_distinct(_window_words(x > 0, length), True) for length in lengths]
    inv_max = refs[-1][2]
    first = np.full(refs[-1][1].size, -1)
    first[inv_max[::-1]] = np.arange(inv_max.size - 1, -1, -1)
    for i, (words, counts, inverse) in enumerate(refs):
        np.testing.assert_array_equal(res.words[i], words)
        np.testing.assert_array_equal(res.counts[i], counts)
        np.testing.assert_array_equal(res.prefixes[i], inverse[first])
    pairs, pair_counts = np.unique(np.arange(inv_max.size) // 40 * refs[-1][1].size + inv_max, return_counts=True)
    np.testing.assert_array_equal(res.blocks[0], pairs // refs[-1][1].size)
    np.testing.assert_array_equal(res.blocks[1], pairs % refs[-1][1].size)
    np.testing.assert_array_equal(res.blocks[2], pair_counts)
    plain = _accumulate.count_window_words_torch(x, 0.0, "cpu", [3, 1])
    assert plain.blocks is None and plain.prefixes is None
    np.testing.assert_array_equal(plain.counts[0], refs[2][1])
    with pytest.raises(InvalidParameterError, match="lengths"):
        _accumulate.count_window_words_torch(x, 0.0, "cpu", [0, 2])
    with pytest.raises(InvalidParameterError, match="lengths"):
        _accumulate.count_window_words_torch(x[:3], 0.0, "cpu", [4])


CASES = [
    {"length": 1, "method": "plugin"},
    {"length": 4, "method": "plugin", "block_size": 50},
    {"length": 3, "method": "miller_madow"},
    {"length": 5, "method": "miller_madow", "block_size": 25},
    {"length": 3, "method": "nsb", "n_boot": 20},
    {"length": 2, "method": "nsb", "n_boot": 20, "block_size": 40},
]


@pytest.mark.parametrize("kw", CASES)
@pytest.mark.parametrize("unit", [None, 2])
def test_word_entropy_device_agrees_with_numpy(kw: dict, unit, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_accumulate, "_COUNT_CHUNK", _CHUNK)
    rec = nc.Recording.from_array(_trains(3000, 6, seed=1), kind="binary")
    args = {"n_boot": 60, "seed": 5, **kw}
    ref = _quiet(nc.word_entropy, rec, unit=unit, **args)
    dev = _quiet(nc.word_entropy, rec, unit=unit, device="cpu", **args)
    _same(dev, ref)
    assert dev.params["device"] == "cpu" and ref.params["device"] is None
    assert ref.ci is not None and dev.n_samples == 3000 - kw["length"] + 1
    if kw["method"] != "nsb" or "block_size" in kw:
        assert dev.diagnostics["bootstrap_replicates"].size == args["n_boot"]


def test_word_entropy_device_on_words_of_several_codes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Population words of 3 x 30 and 2 x 70 bits (two and three 64-bit codes), from float rates."""
    monkeypatch.setattr(_accumulate, "_COUNT_CHUNK", _CHUNK)
    for n_units, length in ((30, 3), (70, 2)):
        rec = nc.Recording.from_array(_trains(2500, n_units, seed=n_units, kind="rates"), kind="rates")
        for kw in ({"method": "plugin", "block_size": 30}, {"method": "miller_madow"}):
            ref = _quiet(nc.word_entropy, rec, length=length, threshold=0.5, n_boot=40, seed=1, **kw)
            _same(_quiet(nc.word_entropy, rec, length=length, threshold=0.5, n_boot=40, seed=1, device="cpu", **kw),
                  ref)


@pytest.mark.parametrize("kw", [
    {"method": "plugin", "n_boot": 50},
    {"method": "plugin", "n_boot": 50, "block_size": 60},
    {"method": "miller_madow", "n_boot": 0, "min_length": 2},
    {"method": "nsb", "n_boot": 10, "block_size": 100},
])
@pytest.mark.parametrize("unit", [None, 4])
def test_entropy_rate_device_agrees_with_numpy(kw: dict, unit, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_accumulate, "_COUNT_CHUNK", _CHUNK)
    rec = nc.Recording.from_array(_trains(3000, 5, seed=2), kind="binary", sampling_rate=100.0)
    max_length = 4 if unit is None else 8
    ref = _quiet(nc.entropy_rate, rec, max_length=max_length, unit=unit, seed=3, **kw)
    dev = _quiet(nc.entropy_rate, rec, max_length=max_length, unit=unit, seed=3, device="cpu", **kw)
    _same(dev, ref)
    assert dev.diagnostics["word_entropies"].size == max_length
    assert (ref.ci is None) == (kw["n_boot"] == 0)


def test_entropy_rate_device_on_words_of_several_codes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_accumulate, "_COUNT_CHUNK", _CHUNK)
    rec = nc.Recording.from_array(_trains(2000, 40, seed=4), kind="binary")
    ref = _quiet(nc.entropy_rate, rec, max_length=3, method="plugin", n_boot=30, block_size=50)
    _same(_quiet(nc.entropy_rate, rec, max_length=3, method="plugin", n_boot=30, block_size=50, device="cpu"), ref)


def test_device_path_on_cuda() -> None:
    device = _cuda()
    rec = nc.Recording.from_array(_trains(200_000, 8, seed=6), kind="binary")
    rates = nc.Recording.from_array(_trains(50_000, 70, seed=7, kind="rates"), kind="rates")
    for unit, length in ((None, 1), (None, 4), (3, 12)):
        for kw in ({"method": "plugin", "block_size": 500}, {"method": "nsb"}):
            ref = _quiet(nc.word_entropy, rec, length=length, unit=unit, n_boot=30, **kw)
            _same(_quiet(nc.word_entropy, rec, length=length, unit=unit, n_boot=30, device=device, **kw), ref)
    ref = _quiet(nc.word_entropy, rates, length=2, threshold=0.5, method="miller_madow", n_boot=30, block_size=200)
    _same(_quiet(nc.word_entropy, rates, length=2, threshold=0.5, method="miller_madow", n_boot=30, block_size=200,
                 device=device), ref)
    for unit, max_length in ((None, 3), (0, 10)):
        for kw in ({"n_boot": 30}, {"n_boot": 30, "block_size": 1000}):
            ref = _quiet(nc.entropy_rate, rec, max_length=max_length, unit=unit, method="plugin", **kw)
            _same(_quiet(nc.entropy_rate, rec, max_length=max_length, unit=unit, method="plugin", device=device,
                         **kw), ref)


def test_bad_device_is_a_named_error() -> None:
    rec = nc.Recording.from_array(_trains(200, 3, seed=8), kind="binary")
    with pytest.raises(InvalidParameterError, match="device"):
        nc.word_entropy(rec, length=2, device="no-such-device")
    with pytest.raises(InvalidParameterError, match="device"):
        nc.entropy_rate(rec, max_length=3, device="no-such-device")
    with pytest.raises(InvalidParameterError, match="threshold"):
        nc.word_entropy(rec, length=2, threshold=float("inf"), device="cpu")
