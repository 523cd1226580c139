"""record() on the networks people compare with brains: transformers, recurrent and attention
modules, residual CNNs; outputs that are tuples, dicts or objects; token sequences; wide layers."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from neurocomplex.errors import InvalidDataError, InvalidParameterError
from neurocomplex.torch.capture import block_modules, record
from neurocomplex.torch.streaming import summarize


def _x(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def _encoder(batch_first: bool, seed: int = 0) -> nn.TransformerEncoder:
    torch.manual_seed(seed)
    layer = nn.TransformerEncoderLayer(16, 4, dim_feedforward=32, dropout=0.0, batch_first=batch_first)
    return nn.TransformerEncoder(layer, 3, enable_nested_tensor=False).eval()


class _SeqFirst(nn.Module):
    """Takes (batch, tokens, features), runs a sequence-first module, returns batch first."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(x.transpose(0, 1)).transpose(0, 1)


def _manual_layers(enc: nn.TransformerEncoder, x: torch.Tensor) -> list[torch.Tensor]:
    outs, h = [], x
    with torch.no_grad():
        for layer in enc.layers:
            h = layer(h)
            outs.append(h)
    return outs


def test_transformer_encoder_records_every_block_by_default() -> None:
    enc = _encoder(batch_first=True)
    x = _x(30, 7, 16)
    recs = record(enc, x, batch_size=8)
    assert list(recs) == ["layers.0", "layers.1", "layers.2", "output"]
    manual = _manual_layers(enc, x)
    for i, ref in enumerate(manual):
        rec = recs[f"layers.{i}"]
        np.testing.assert_allclose(rec.data, ref.mean(dim=1).numpy(), rtol=1e-5, atol=1e-5)
        assert rec.metadata["output_shape"] == (7, 16) and rec.metadata["tokens"] == "mean"
        assert rec.metadata["module_type"] == "TransformerEncoderLayer"
    np.testing.assert_allclose(recs["output"].data, manual[-1].mean(dim=1).numpy(), rtol=1e-5, atol=1e-5)


def test_token_modes_and_labels() -> None:
    enc = _encoder(batch_first=True, seed=1)
    x = _x(12, 5, 16, seed=1)
    ref = _manual_layers(enc, x)[1]
    labels = pd.DataFrame({"stimulus": np.arange(12) % 3})
    first = record(enc, x, layers=["layers.1"], tokens="first")["layers.1"]
    np.testing.assert_allclose(first.data, ref[:, 0].numpy(), rtol=1e-5, atol=1e-5)
    flat = record(enc, x, layers=["layers.1"], tokens="flatten")["layers.1"]
    np.testing.assert_allclose(flat.data, ref.reshape(12, -1).numpy(), rtol=1e-5, atol=1e-5)
    assert flat.unit_ids[:2].tolist() == ["t0_f0", "t0_f1"] and flat.unit_ids[-1] == "t4_f15"
    samples = record(enc, x, layers=["layers.1"], tokens="samples", labels=labels)["layers.1"]
    np.testing.assert_allclose(samples.data, ref.reshape(60, 16).numpy(), rtol=1e-5, atol=1e-5)
    assert samples.metadata["n_positions"] == 5 and samples.metadata["n_inputs"] == 12
    assert samples.labels["stimulus"].tolist() == np.repeat(np.arange(12) % 3, 5).tolist()
    assert samples.labels["token"].tolist() == np.tile(np.arange(5), 12).tolist()
    with pytest.raises(InvalidParameterError, match="tokens"):
        record(enc, x, tokens="last")


def test_sequence_first_modules_put_the_batch_first() -> None:
    # the same weights run batch-first and sequence-first give the same recordings
    a, b = _encoder(batch_first=True, seed=2), _encoder(batch_first=False, seed=2)
    b.load_state_dict(a.state_dict())
    x = _x(9, 6, 16, seed=2)
    first = record(a, x, layers=["layers.0", "layers.2"])
    wrapped = _SeqFirst(b).eval()
    second = record(wrapped, x, layers=["inner.layers.0", "inner.layers.2"])
    for key in ("layers.0", "layers.2"):
        np.testing.assert_allclose(second[f"inner.{key}"].data, first[key].data, rtol=1e-5, atol=1e-5)
        assert second[f"inner.{key}"].metadata["output_shape"] == (6, 16)


class _Recurrent(nn.Module):
    def __init__(self, batch_first: bool) -> None:
        super().__init__()
        torch.manual_seed(3)
        self.batch_first = batch_first
        self.lstm = nn.LSTM(4, 6, num_layers=2, batch_first=batch_first)
        self.head = nn.Linear(6, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        seq, _ = self.lstm(x if self.batch_first else x.transpose(0, 1))
        last = seq[:, -1] if self.batch_first else seq[-1]
        return self.head(last)


@pytest.mark.parametrize("batch_first", [True, False])
def test_lstm_output_hidden_and_cell_states(batch_first: bool) -> None:
    net = _Recurrent(batch_first).eval()
    x = _x(11, 8, 4, seed=4)
    with torch.no_grad():
        seq, (h, c) = net.lstm(x if batch_first else x.transpose(0, 1))
    seq = seq if batch_first else seq.transpose(0, 1)
    recs = record(net, x, layers=["lstm"])  # the first tensor: the output sequence, mean over time
    np.testing.assert_allclose(recs["lstm"].data, seq.mean(dim=1).numpy(), rtol=1e-5, atol=1e-6)
    last = record(net, x, layers=["lstm"], tokens="first", output=lambda out: out[0].flip(
        1 if batch_first else 0))["lstm"]
    np.testing.assert_allclose(last.data, seq[:, -1].numpy(), rtol=1e-5, atol=1e-6)
    # output=1 is (h_n, c_n), whose first tensor h_n is (layers, batch, hidden): its batch is found
    hidden = record(net, x, layers=["lstm"], output=1, tokens="flatten")["lstm"]
    np.testing.assert_allclose(hidden.data, h.transpose(0, 1).reshape(11, 12).numpy(), rtol=1e-5, atol=1e-6)
    cell = record(net, x, layers=["lstm"], output=(1, 1), tokens="first")["lstm"]
    np.testing.assert_allclose(cell.data, c[0].numpy(), rtol=1e-5, atol=1e-6)
    per_layer = record(net, x, layers=["lstm"], output={"lstm": (1, 0)}, tokens="samples")["lstm"]
    assert per_layer.data.shape == (22, 6) and per_layer.metadata["n_positions"] == 2


class _SelfAttention(nn.Module):
    def __init__(self, batch_first: bool) -> None:
        super().__init__()
        torch.manual_seed(5)
        self.batch_first = batch_first
        self.attn = nn.MultiheadAttention(8, 2, batch_first=batch_first)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q = x if self.batch_first else x.transpose(0, 1)
        out, _ = self.attn(q, q, q)
        return out if self.batch_first else out.transpose(0, 1)


@pytest.mark.parametrize("batch_first", [True, False])
def test_multihead_attention_output_and_weights(batch_first: bool) -> None:
    net = _SelfAttention(batch_first).eval()
    x = _x(10, 5, 8, seed=6)
    with torch.no_grad():
        q = x if batch_first else x.transpose(0, 1)
        out, weights = net.attn(q, q, q)
    out = out if batch_first else out.transpose(0, 1)
    recs = record(net, x, layers=["attn"], tokens="flatten")
    np.testing.assert_allclose(recs["attn"].data, out.reshape(10, -1).numpy(), rtol=1e-5, atol=1e-6)
    w = record(net, x, layers=["attn"], output=1, tokens="flatten")["attn"]  # (batch, target, source)
    np.testing.assert_allclose(w.data, weights.reshape(10, -1).numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(w.data.reshape(10, 5, 5).sum(-1), 1.0, rtol=1e-5)
    assert list(record(net, x)) == ["output"]  # no activation module, no repeated block


class _Block(nn.Module):
    """conv-bn-relu twice with an identity (or 1x1 projection) skip connection."""

    def __init__(self, c_in: int, c_out: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.relu = nn.ReLU(inplace=True)
        self.skip = (nn.Identity() if stride == 1 and c_in == c_out
                     else nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(h)) + self.skip(x))


class _ResNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(7)
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU())
        self.stage1 = nn.Sequential(_Block(8, 8), _Block(8, 8))
        self.stage2 = nn.Sequential(_Block(8, 16, stride=2), _Block(16, 16))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.pool(self.stage2(self.stage1(self.stem(x)))).flatten(1))


def _perturb_bn(net: nn.Module) -> None:
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.normal_(0, 0.1)
                m.running_var.uniform_(0.5, 1.5)


def test_residual_cnn_blocks_and_both_flatten_modes() -> None:
    net = _ResNet().eval()
    _perturb_bn(net)
    x = _x(20, 3, 12, 12, seed=8)
    recs = record(net, x)
    assert set(block_modules(net)) == {"stage1.0", "stage1.1", "stage2.0", "stage2.1"}
    keys = list(recs)
    # execution order: the stem's ReLU, then each block's ReLU (called twice) and the block itself
    assert keys[:4] == ["stem.2", "stage1.0.relu", "stage1.0.relu#2", "stage1.0"]
    assert keys[-1] == "output" and {"stage2.1", "stage2.1.relu#2"} <= set(keys)
    with torch.no_grad():
        h = net.stage1(net.stem(x))
        b20 = net.stage2[0](h)
    np.testing.assert_allclose(recs["stage1.1"].data, h.reshape(20, -1).numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(recs["stage2.0"].data, b20.reshape(20, -1).numpy(), rtol=1e-5, atol=1e-5)
    # the in-place ReLU ending each block is recorded before the skip's sum could change it: equal
    np.testing.assert_allclose(recs["stage2.0.relu#2"].data, recs["stage2.0"].data)
    assert recs["stage2.0"].unit_ids[:2].tolist() == ["c0_p0", "c0_p1"] and recs["stage2.0"].n_units == 16 * 36
    channels = record(net, x, layers=["stage2.0"], flatten="channels")["stage2.0"]
    np.testing.assert_allclose(channels.data, b20.permute(0, 2, 3, 1).reshape(-1, 16).numpy(), rtol=1e-5,
                               atol=1e-5)
    assert channels.metadata["n_positions"] == 36 and channels.metadata["tokens"] is None


def test_residual_cnn_summarized_from_the_gram_and_from_channels() -> None:
    net = _ResNet().eval()
    x = _x(60, 3, 12, 12, seed=9)
    keys = ["stage1.1", "stage2.1"]
    table = summarize(net, x, layers=keys, stats=["effective_dimension", "participation_ratio"], progress=False)
    recs = record(net, x, layers=keys)
    for row in table.itertuples():  # 60 inputs, 1,152 and 576 units: the exact Gram route
        data = recs[row.layer].data.astype(np.float64)
        c = data - data.mean(0)
        lam = np.linalg.eigvalsh(c @ c.T)[::-1] / 59
        lam = lam[lam > lam[0] * math.sqrt(data.shape[1]) * np.finfo(np.float32).eps]
        p = lam / lam.sum()
        ref = math.exp(-np.sum(p * np.log(p))) if row.measure == "effective_dimension" else 1 / np.sum(p**2)
        assert row.value == pytest.approx(ref, rel=1e-6), (row.layer, row.measure)
    per_channel = summarize(net, x, layers=keys, stats=["participation_ratio"], flatten="channels", progress=False)
    assert per_channel["n_units"].tolist() == [8, 16] and per_channel["n_samples"].tolist() == [60 * 144, 60 * 36]


@dataclass
class _Out:
    logits: torch.Tensor
    hidden: torch.Tensor


class _Heads(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(10)
        self.fc = nn.Linear(4, 6)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        h = self.fc(x)
        return {"hidden": h, "logits": h[:, :2] * 2.0}


class _Model(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.heads = _Heads()

    def forward(self, x: torch.Tensor) -> _Out:
        out = self.heads(x)
        return _Out(logits=out["logits"], hidden=out["hidden"])


def test_dict_and_dataclass_outputs() -> None:
    net = _Model()
    x = _x(15, 4, seed=11)
    with torch.no_grad():
        h = net.heads.fc(x)
    recs = record(net, x, layers=["heads", "output"])
    np.testing.assert_allclose(recs["heads"].data, h.numpy(), rtol=1e-6)  # the dict's first tensor
    np.testing.assert_allclose(recs["output"].data, 2 * h[:, :2].numpy(), rtol=1e-6)  # the dataclass's first
    picked = record(net, x, layers=["heads", "output"], output={"heads": "logits", "output": "hidden"})
    np.testing.assert_allclose(picked["heads"].data, 2 * h[:, :2].numpy(), rtol=1e-6)
    np.testing.assert_allclose(picked["output"].data, h.numpy(), rtol=1e-6)
    with pytest.raises(InvalidParameterError, match=r"output= names layers \['fc'\]"):
        record(net, x, layers=["heads"], output={"fc": 0})
    with pytest.raises(InvalidParameterError, match=r"output=1\.5 must be None"):
        record(net, x, layers=["heads"], output=1.5)
    with pytest.raises(InvalidParameterError, match=r"output='scores' does not select"):
        record(net, x, layers=["heads"], output="scores")
    with pytest.raises(InvalidDataError, match="with no tensor"):
        record(net, x, layers=["heads"], output=lambda out: None)


class _CausalSelfAttention(nn.Module):
    """A hand-written attention (functional softmax), as in nanoGPT."""

    def __init__(self, d: int) -> None:
        super().__init__()
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        return self.proj(F.scaled_dot_product_attention(q, k, v, is_causal=True))


class _GPTBlock(nn.Module):
    def __init__(self, d: int) -> None:
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.attn = _CausalSelfAttention(d)
        self.fc1, self.fc2 = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x))))


class _TinyGPT(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(12)
        self.embed = nn.Embedding(20, 8)
        self.blocks = nn.ModuleList([_GPTBlock(8) for _ in range(2)])
        self.head = nn.Linear(8, 20)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        h = self.embed(tokens)
        for block in self.blocks:
            h = block(h)
        return self.head(h)


def test_hand_written_transformer_with_functional_nonlinearities() -> None:
    net = _TinyGPT().eval()
    tokens = torch.randint(0, 20, (16, 6), generator=torch.Generator().manual_seed(13))
    recs = record(net, tokens)
    assert list(recs) == ["blocks.0", "blocks.1", "output"]
    with torch.no_grad():
        h = net.blocks[0](net.embed(tokens))
    np.testing.assert_allclose(recs["blocks.0"].data, h.mean(dim=1).numpy(), rtol=1e-5, atol=1e-6)
    assert recs["output"].n_units == 20  # logits averaged over tokens: the model holds sequence modules
    flat = record(net, tokens, layers=["blocks.0.fc1"], tokens="flatten")["blocks.0.fc1"]
    assert flat.n_units == 6 * 32  # inside a block that holds an attention: a token sequence
    as_maps = record(net, tokens, layers=["blocks.0"], token_layers=False)["blocks.0"]
    np.testing.assert_allclose(as_maps.data, h.reshape(16, -1).numpy(), rtol=1e-5, atol=1e-6)
    listed = record(net, tokens, layers=["blocks.0"], token_layers=["blocks.0"], tokens="first")["blocks.0"]
    np.testing.assert_allclose(listed.data, h[:, 0].numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(InvalidParameterError, match="token_layers"):
        record(net, tokens, layers=["blocks.0"], token_layers=["head"])


def test_conv1d_maps_are_not_token_sequences() -> None:
    net = nn.Sequential(nn.Conv1d(3, 5, 3, padding=1), nn.ReLU())
    x = _x(8, 3, 10, seed=14)
    rec = record(net, x, layers=["1"], flatten="channels")["1"]
    assert rec.n_units == 5 and rec.metadata["n_positions"] == 10 and rec.metadata["tokens"] is None


def test_wide_layers_are_recordable() -> None:
    # 100,352 float32 units per input (32 channels x 56 x 56)
    net = nn.Sequential(nn.Conv2d(3, 32, 3, padding=1), nn.ReLU())
    x = _x(40, 3, 56, 56, seed=15)
    rec = record(net, x, layers=["1"])["1"]
    assert rec.data.shape == (40, 100_352) and rec.data.dtype == np.float32
    assert rec.unit_ids[-1] == "c31_p3135"
    with torch.no_grad():
        ref = net(x).reshape(40, -1).numpy()
    np.testing.assert_array_equal(rec.data, ref)


def test_record_refuses_activations_above_the_memory_limit() -> None:
    net = nn.Sequential(nn.Linear(4, 50_000), nn.ReLU())
    x = _x(600, 4, seed=16)
    calls = []
    net.register_forward_pre_hook(lambda m, args: calls.append(args[0].shape[0]))
    with pytest.raises(InvalidParameterError, match=r"(?s)record would hold about [\d.]+ MiB.*'1' 50,000 units x 600 rows = 114\.4 MiB"):
        record(net, x, memory_limit=100 * 1024**2)
    assert calls == [2]  # the probe only
    assert record(net, x, memory_limit=None)["1"].data.shape == (600, 50_000)

    def batches():  # no length: checked as the batches arrive
        for i in range(6):
            yield x[i * 100 : (i + 1) * 100]

    with pytest.raises(InvalidParameterError, match="not known up front"):
        record(net, batches(), memory_limit=100 * 1024**2)
    with pytest.raises(InvalidParameterError, match="memory_limit"):
        record(net, x, memory_limit=-1)
