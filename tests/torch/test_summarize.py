"""summarize(): streaming statistics agree with the estimators on fully recorded layers."""

from __future__ import annotations

import math
import tracemalloc
from collections.abc import Iterator

import numpy as np
import pytest
import torch
from torch import nn

import neurocomplex as nc
from neurocomplex.errors import InvalidDataError, InvalidParameterError, NeurocomplexWarning
from neurocomplex.stats import count_words
from neurocomplex.torch.capture import record
from neurocomplex.torch.models import mlp
from neurocomplex.torch.streaming import STATISTICS, layer_statistics, summarize


def _x(n: int, d: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed))


def _materialized(rec: nc.Recording, measure: str, entropy_method: str) -> float:
    if measure == "effective_dimension":
        return nc.effective_dimension(rec, n_boot=0).value
    if measure == "participation_ratio":
        return nc.participation_ratio(rec, n_boot=0).value
    if measure == "activation_ratio":
        return nc.activation_ratio(rec, n_boot=0).value
    return nc.pattern_entropy(rec, method=entropy_method, n_boot=0).value


@pytest.mark.parametrize("entropy_method", ["nsb", "plugin"])
def test_agrees_with_materialized_estimates(entropy_method: str) -> None:
    net = mlp([12, 24, 16, 6], seed=0, bias_std=0.1)
    x = _x(3000, 12)
    table = summarize(net, x, batch_size=256, entropy_method=entropy_method)
    recs = record(net, x)
    assert list(table.columns) == ["layer", "measure", "value", "n_samples", "n_units", "method", "warnings"]
    assert table["layer"].unique().tolist() == list(recs) == ["relu1", "relu2", "output"]
    assert len(table) == 3 * len(STATISTICS)
    for row in table.itertuples():
        ref = _materialized(recs[row.layer], row.measure, entropy_method)
        assert row.value == pytest.approx(ref, rel=1e-6, abs=1e-12), (row.layer, row.measure)
        assert row.n_samples == 3000 and row.n_units == recs[row.layer].n_units


def test_conv_channels_mode_agrees() -> None:
    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Conv2d(4, 3, 3), nn.Tanh())
    x = torch.randn(40, 1, 7, 7, generator=torch.Generator().manual_seed(1))
    table = summarize(net, x, layers=[nn.ReLU, "3"], batch_size=16, flatten="channels", entropy_method="plugin")
    recs = record(net, x, layers=[nn.ReLU, "3"], flatten="channels")
    for row in table.itertuples():
        ref = _materialized(recs[row.layer], row.measure, "plugin")
        assert row.value == pytest.approx(ref, rel=1e-6), (row.layer, row.measure)
    assert set(table["n_samples"]) == {40 * 25, 40 * 9}


def test_statistics_are_exact_and_mergeable() -> None:
    net = mlp([5, 9, 3], seed=2)
    x = _x(600, 5, seed=3)
    whole = layer_statistics(net, x, batch_size=64)
    halves = [layer_statistics(net, part, batch_size=50) for part in (x[:250], x[250:])]
    h = record(net, x)["relu1"].data.astype(np.float64)
    st = whole["relu1"]
    np.testing.assert_allclose(st["covariance"].covariance(), np.cov(h, rowvar=False), rtol=1e-5, atol=1e-7)
    words, counts = count_words(h > 0)
    np.testing.assert_array_equal(st["words"].words, words)
    np.testing.assert_array_equal(st["words"].counts, counts)
    np.testing.assert_array_equal(st["activity"].active, (h > 0).sum(axis=0))
    merged_cov = halves[0]["relu1"]["covariance"].merge(halves[1]["relu1"]["covariance"])
    np.testing.assert_allclose(merged_cov.scatter, st["covariance"].scatter, rtol=1e-6, atol=1e-6)
    merged_words = halves[0]["relu1"]["words"].merge(halves[1]["relu1"]["words"])
    np.testing.assert_array_equal(merged_words.counts, counts)


@pytest.mark.parametrize("n_units", [1, 63, 64, 65, 150])
def test_device_word_packing_matches_numpy(n_units: int) -> None:
    from neurocomplex._backend.accumulate import _pack_on_device, pack_words_torch
    from neurocomplex.stats import pack_words

    binary = torch.rand(300, n_units, generator=torch.Generator().manual_seed(n_units)) > 0.5
    ref = pack_words(binary.numpy())
    np.testing.assert_array_equal(_pack_on_device(binary), ref)  # the accelerator route, run on the CPU
    np.testing.assert_array_equal(pack_words_torch(binary[:, :].T.contiguous().T), ref)


def test_threshold_changes_binary_state() -> None:
    net = mlp([4, 10, 2], seed=0)
    x = _x(500, 4)
    h = record(net, x)["relu1"].data
    table = summarize(net, x, layers=["relu1"], stats="activation_ratio", threshold=0.5)
    assert table["value"].item() == pytest.approx(float((h > 0.5).mean()), rel=1e-12)


def _batches(n: int, d: int, batch: int) -> Iterator[torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    for start in range(0, n, batch):
        yield torch.randn(min(batch, n - start), d, generator=gen)


def _peak(fn) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_peak_memory_bounded_by_statistics_not_samples() -> None:
    # Narrow layers: at most 2**10 distinct words, so every statistic has a size fixed by the model.
    net = mlp([16, 10, 8, 4], seed=0)

    def stream(n: int) -> None:
        summarize(net, _batches(n, 16, 1000), entropy_method="plugin")

    def materialize(n: int) -> None:
        record(net, _batches(n, 16, 1000))

    stream(2000)  # warm up caches and lazy imports
    small, large = _peak(lambda: stream(10_000)), _peak(lambda: stream(20_000))
    rec_small, rec_large = _peak(lambda: materialize(10_000)), _peak(lambda: materialize(20_000))
    # the materialized path grows with n (22 float32 units per sample): the measurement sees it
    assert rec_large > 1.8 * rec_small and rec_large > 20_000 * 22 * 4
    # streaming: doubling the samples leaves the peak within 25% + 256 KiB, far below the activations
    assert large < 1.25 * small + 256 * 1024
    assert large < 0.25 * rec_large


def test_dead_layer_is_nan_with_warning() -> None:
    net = mlp([3, 6, 2], seed=0)
    with torch.no_grad():
        net.fc1.bias.fill_(-100.0)  # every ReLU off for these inputs
    with pytest.warns(NeurocomplexWarning, match="constant"):
        table = summarize(net, _x(200, 3), layers=["relu1"], entropy_method="plugin")
    values = dict(zip(table["measure"], table["value"]))
    assert "constant" in table.set_index("measure").loc["effective_dimension", "warnings"]
    assert math.isnan(values["effective_dimension"]) and math.isnan(values["participation_ratio"])
    assert values["activation_ratio"] == 0.0 and values["pattern_entropy"] == 0.0


def test_undersampled_words_warn() -> None:
    net = mlp([20, 40, 2], seed=0)
    with pytest.warns(NeurocomplexWarning, match="all 300 binary words of its 40 units are distinct"):
        table = summarize(net, _x(300, 20), layers=["relu1"], stats="pattern_entropy", entropy_method="plugin")
    assert table["value"].item() == pytest.approx(math.log2(300))  # plug-in with no repeated word
    assert "distinct" in table["warnings"].item()


def test_invalid_parameters_and_data() -> None:
    net = mlp([3, 4, 2], seed=0)
    x = _x(20, 3)
    with pytest.raises(InvalidParameterError, match="stats"):
        summarize(net, x, stats=["entropy"])
    with pytest.raises(InvalidParameterError):
        summarize(net, x, stats=[])
    with pytest.raises(InvalidParameterError, match="entropy_method"):
        summarize(net, x, entropy_method="ml")
    with pytest.raises(InvalidParameterError, match="threshold"):
        summarize(net, x, threshold=float("nan"))
    with pytest.raises(InvalidParameterError, match="no layer called"):
        summarize(net, x, layers=["nope"])
    with torch.no_grad():
        net.fc1.weight[0, 0] = float("inf")
    with pytest.raises(InvalidDataError, match=r"'relu1'.*NaN or inf"):
        summarize(net, x)
    assert all(not m._forward_hooks for m in net.modules())


def test_public_name_is_the_function() -> None:
    table = nc.torch.summarize(mlp([3, 4, 2], seed=0), _x(50, 3), stats="activation_ratio")
    assert table["measure"].tolist() == ["activation_ratio", "activation_ratio"]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_gpu_streaming_matches_cpu() -> None:
    x = _x(4000, 12)
    cpu = summarize(mlp([12, 32, 5], seed=0), x, entropy_method="plugin")
    gpu = summarize(mlp([12, 32, 5], seed=0).cuda(), x, batch_size=512, entropy_method="plugin")
    np.testing.assert_allclose(gpu["value"].to_numpy(), cpu["value"].to_numpy(), rtol=1e-4)


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(
    not torch.cuda.is_available(), reason="needs a CUDA device"))])
def test_streaming_agrees_with_device_estimators(device: str) -> None:
    # the same activations (recorded from the model on the device) through the streaming statistics
    # and through the estimators' torch path on that device: equal to float rounding
    net = mlp([12, 32, 16, 5], seed=1, bias_std=0.1).to(device)
    x = _x(5000, 12)
    table = summarize(net, x, batch_size=700, stats=["effective_dimension", "participation_ratio"])
    recs = record(net, x)
    for row in table.itertuples():
        func = nc.effective_dimension if row.measure == "effective_dimension" else nc.participation_ratio
        on_device = func(recs[row.layer], n_boot=0, device=device).value
        assert row.value == pytest.approx(on_device, rel=1e-5), (row.layer, row.measure)
        assert on_device == pytest.approx(func(recs[row.layer], n_boot=0).value, rel=1e-5)


def _wide_conv() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 16, 3, padding=1), nn.ReLU()).eval()


def test_wide_conv_layers_use_the_exact_gram_route() -> None:
    # the case that grew to 17 GB: 16,384 units per layer on 200 images. Its rows and 200 x 200
    # Gram take a few MiB and give the values of the estimators on the recorded layers
    net = _wide_conv()
    x = torch.rand(200, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    stats = layer_statistics(net, x, layers=["3"], stats=["participation_ratio"], progress=False)["3"]
    assert stats["route"] == "gram" and stats["spectrum"].shape == (200,) and stats["n_units"] == 16_384
    table = summarize(net, x, layers=["1", "3"], stats=["effective_dimension", "participation_ratio",
                                                        "activation_ratio"], progress=False)
    recs = record(net, x, layers=["1", "3"])
    for row in table.itertuples():
        data = recs[row.layer].data.astype(np.float64)
        if row.measure == "activation_ratio":
            assert row.value == pytest.approx(float((data > 0).mean()), rel=1e-12)
            continue
        c = data - data.mean(0)
        lam = np.linalg.eigvalsh(c @ c.T)[::-1] / 199
        lam = lam[lam > lam[0] * math.sqrt(16_384) * np.finfo(np.float32).eps]
        p = lam / lam.sum()
        ref = math.exp(-np.sum(p * np.log(p))) if row.measure == "effective_dimension" else 1 / np.sum(p**2)
        assert row.value == pytest.approx(ref, rel=1e-6), (row.layer, row.measure)


def test_refused_before_the_first_batch_naming_layer_size_and_ways_out() -> None:
    # 64 x 64 x 64 feature maps (262,144 units, from a 4-input linear map) on 2,000 inputs: no exact
    # route fits in the default 2 GiB, and the refusal comes after one probe of 2 inputs
    net = nn.Sequential(nn.Linear(4, 4096), nn.Unflatten(1, (1, 64, 64)), nn.Conv2d(1, 64, 3, padding=1), nn.ReLU())
    x = _x(2000, 4)
    calls = []
    net.register_forward_pre_hook(lambda m, args: calls.append(args[0].shape[0]))
    with pytest.raises(InvalidParameterError) as err:
        summarize(net, x, layers=["3"])
    msg = str(err.value)
    assert calls == [2]
    assert "above memory_limit=2.0 GiB" in msg and "2,000 inputs" in msg
    assert "layer '3' (ReLU, output (64, 64, 64) per input): 262,144 units" in msg
    assert "262,144 x 262,144 float64 covariance takes 512.0 GiB" in msg
    for way in ('flatten="channels"', "spatial pooling", "fewer layers", "sketch=", 'without "pattern_entropy"'):
        assert way in msg, way
    # the fixes it names fit: channels as units, or the sketch it proposes
    table = summarize(net, x, layers=["3"], flatten="channels", stats=["participation_ratio"], progress=False)
    assert table["n_units"].item() == 64 and table["n_samples"].item() == 2000 * 4096
    assert summarize(net, x, layers=["3"], stats=["participation_ratio"], sketch=512, progress=False)[
        "method"].item() == "participation_ratio_sketch512"


def test_memory_limit_and_batch_size() -> None:
    net = mlp([6, 40, 3], seed=0)
    x = _x(500, 6)
    with pytest.raises(InvalidParameterError, match=r"(?s)above memory_limit=1\.0 KiB.*'relu1'"):
        summarize(net, x, memory_limit=1024)
    for bad in (0, -5, float("nan"), "2GB", True):
        with pytest.raises(InvalidParameterError, match="memory_limit"):
            summarize(net, x, memory_limit=bad)
    # None: no check; the values do not depend on the batch size chosen
    free = summarize(net, x, memory_limit=None, entropy_method="plugin", progress=False)
    small = summarize(net, x, batch_size=7, entropy_method="plugin", progress=False)
    np.testing.assert_allclose(free["value"].to_numpy(), small["value"].to_numpy(), rtol=1e-6)


def test_progress_bar_shown_when_asked(capsys: pytest.CaptureFixture[str]) -> None:
    summarize(mlp([3, 4, 2], seed=0), _x(40, 3), stats="activation_ratio", batch_size=10, progress=True)
    assert "streaming layer statistics" in capsys.readouterr().err
    summarize(mlp([3, 4, 2], seed=0), _x(40, 3), stats="activation_ratio", batch_size=10, progress=False)
    assert capsys.readouterr().err == ""


def test_token_outputs_streamed_as_recorded() -> None:
    torch.manual_seed(3)
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True), 2,
                                enable_nested_tensor=False).eval()
    x = torch.randn(300, 5, 8, generator=torch.Generator().manual_seed(4))
    for tokens in ("mean", "samples"):
        table = summarize(enc, x, stats=["participation_ratio"], tokens=tokens, progress=False)
        recs = record(enc, x, tokens=tokens)
        assert table["layer"].tolist() == list(recs) == ["layers.0", "layers.1", "output"]
        for row in table.itertuples():
            assert row.value == pytest.approx(nc.participation_ratio(recs[row.layer], n_boot=0).value, rel=1e-6)
            assert row.n_samples == (300 if tokens == "mean" else 1500)


def test_output_that_is_a_captured_layer_is_computed_once() -> None:
    net = nn.Sequential(nn.Linear(5, 30), nn.ReLU(), nn.Linear(30, 20), nn.ReLU())
    x = _x(400, 5)
    recs = record(net, x)
    assert list(recs) == ["1", "3", "output"]
    assert np.shares_memory(recs["output"].data, recs["3"].data) and recs["output"].metadata["module_type"] == "Sequential"
    stats = layer_statistics(net, x, progress=False)
    assert stats["output"] is stats["3"]
    table = summarize(net, x, entropy_method="plugin", progress=False)
    by_layer = {k: t["value"].tolist() for k, t in table.groupby("layer", sort=False)}
    assert list(by_layer) == ["1", "3", "output"] and by_layer["output"] == by_layer["3"]
    # a different reading of the same tensor is not shared
    picked = record(net, x, tokens="first", layers=["3", "output"], output={"output": lambda t: t * 2})
    np.testing.assert_allclose(picked["output"].data, 2 * picked["3"].data)


def test_million_unit_layer_is_refused_not_a_memory_error() -> None:
    net = nn.Sequential(nn.Linear(4, 1_000_000), nn.ReLU())
    x = _x(3000, 4)
    with pytest.raises(InvalidParameterError, match=r"(?s)'1' \(ReLU.*1,000,000 units.*7\.3 TiB.*sketch="):
        summarize(net, x, layers=["1"])
    with pytest.raises(InvalidParameterError, match=r"(?s)record would hold.*'1' 1,000,000 units x 3,000 rows"):
        record(net, x, layers=["1"])
