"""From what a module returns to a ``(samples, units)`` matrix.

A captured module may return a tensor, a tuple (``nn.LSTM``: ``(output, (h, c))``;
``nn.MultiheadAttention``: ``(attn_output, weights)``), a dict or an output object. One tensor is
picked (the first, or the one ``output=`` names), its batch axis is put first (sequence modules
declared ``batch_first=False`` put it second), and it is made 2-D: token sequences ``(batch, tokens,
features)`` by the ``tokens`` rule, feature maps ``(batch, channels, *spatial)`` by the ``flatten``
rule of :func:`neurocomplex.torch.record`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from neurocomplex.errors import InvalidDataError, InvalidParameterError

__all__ = ["TOKEN_MODES", "DEFAULT_TOKENS", "LayerLayout", "is_sequence_module", "layouts", "pick_tensor",
           "batch_first", "to_matrix", "unit_ids", "check_output_spec"]

TOKEN_MODES = ("mean", "first", "flatten", "samples")
DEFAULT_TOKENS = "mean"
# Module types whose outputs are token sequences (batch, tokens, features), and the class-name
# suffix of hand-written attention modules (nanoGPT's CausalSelfAttention, timm's Attention, ...).
_SEQUENCE_TYPES: tuple[type[nn.Module], ...] = (
    nn.MultiheadAttention, nn.RNNBase, nn.TransformerEncoderLayer, nn.TransformerDecoderLayer,
    nn.TransformerEncoder, nn.TransformerDecoder, nn.Transformer, nn.Embedding,
)
_ATTENTION_SUFFIX = "Attention"
_MAX_DEPTH = 8  # nesting searched for the first tensor of an output


def is_sequence_module(module: nn.Module) -> bool:
    """True for attention, recurrent, transformer and embedding modules (their outputs are tokens).

    Examples
    --------
    >>> is_sequence_module(nn.LSTM(3, 4)), is_sequence_module(nn.Conv1d(3, 4, 1))
    (True, False)
    """
    return isinstance(module, _SEQUENCE_TYPES) or type(module).__name__.endswith(_ATTENTION_SUFFIX)


@dataclass(frozen=True)
class LayerLayout:
    """How one captured module's output becomes a matrix."""

    spec: Any  # what to pick from a non-tensor output (None: the first tensor)
    batch_first: bool | None  # the module's declaration (own or of its first submodule); None: none
    tokens: bool  # outputs with 3 or more axes are (batch, tokens, features)


def batch_first(module: nn.Module) -> bool | None:
    """The module's ``batch_first`` declaration, or that of its first submodule that has one.

    Examples
    --------
    >>> batch_first(nn.TransformerEncoderLayer(8, 2)), batch_first(nn.Linear(2, 2))
    (False, None)
    """
    for _, sub in module.named_modules():
        value = getattr(sub, "batch_first", None)
        if isinstance(value, bool):
            return value
    return None


def check_output_spec(output: Any, keys: Sequence[str]) -> Any:
    """Validate ``output=``: None, an index, a key, a path (tuple of those), a callable, or a
    mapping of layer name to one of those (every name one of ``keys``)."""
    def one(spec: Any, where: str) -> None:
        if spec is None or callable(spec) or (isinstance(spec, (int, str)) and not isinstance(spec, bool)):
            return
        if isinstance(spec, tuple) and spec and all(isinstance(s, (int, str)) and not isinstance(s, bool)
                                                    for s in spec):
            return
        raise InvalidParameterError(
            f"output={spec!r}{where} must be None (the first tensor), an index, a key or attribute name, a tuple of "
            f"those (a path into nested outputs) or a callable returning a tensor."
        )

    if isinstance(output, Mapping):
        unknown = [k for k in output if k not in keys]
        if unknown:
            raise InvalidParameterError(
                f"output= names layers {unknown} that are not captured; captured layers: {list(keys)}."
            )
        for k, spec in output.items():
            one(spec, f" (for layer {k!r})")
        return dict(output)
    one(output, "")
    return output


def layouts(model: nn.Module, names: Sequence[str], want_output: bool, output: Any, output_key: str,
            token_layers: Any) -> dict[str, LayerLayout]:
    """The layout of every captured module (by name; ``output_key`` for the model's output).

    A module's outputs are token sequences when ``token_layers`` says so (True: all, False: none,
    a list: those names) or, by default (None), when it is, contains or lies inside a non-root
    module that contains a sequence module (see :func:`is_sequence_module`); the model's output
    when the model contains one.
    """
    named = dict(model.named_modules())
    keys = list(names) + ([output_key] if want_output else [])
    specs = check_output_spec(output, keys)
    if token_layers is not None and not isinstance(token_layers, bool):
        if isinstance(token_layers, str):
            token_layers = [token_layers]
        unknown = [k for k in token_layers if k not in keys]
        if unknown:
            raise InvalidParameterError(
                f"token_layers names {unknown}, which are not captured; captured layers: {keys}."
            )
    has_seq = {n: any(is_sequence_module(s) for s in m.modules()) for n, m in named.items()}

    def tokens_of(name: str) -> bool:
        if isinstance(token_layers, bool):
            return token_layers
        if token_layers is not None:
            return name in token_layers
        if name == output_key and name not in named:
            return has_seq[""]
        parts = name.split(".")
        ancestors = [".".join(parts[:i]) for i in range(1, len(parts))]
        return has_seq[name] or any(has_seq[a] for a in ancestors)

    out = {}
    for name in keys:
        spec = specs.get(name) if isinstance(specs, dict) else specs
        module = model if name == output_key and name not in named else named[name]
        declared = None if module is model else batch_first(module)
        out[name] = LayerLayout(spec, declared, tokens_of(name))
    return out


def _first_tensor(out: Any, depth: int = 0) -> torch.Tensor | None:
    if isinstance(out, torch.Tensor):
        return out
    if depth >= _MAX_DEPTH:
        return None
    if isinstance(out, Mapping):
        items: Any = out.values()
    elif isinstance(out, (tuple, list)):
        items = out
    elif dataclasses.is_dataclass(out) and not isinstance(out, type):
        items = (getattr(out, f.name) for f in dataclasses.fields(out))
    else:
        return None
    for item in items:
        found = _first_tensor(item, depth + 1)
        if found is not None:
            return found
    return None


def _describe(out: Any, depth: int = 0) -> str:
    if isinstance(out, torch.Tensor):
        return f"Tensor{tuple(out.shape)}"
    if depth >= 2:
        return type(out).__name__
    if isinstance(out, Mapping):
        return "{" + ", ".join(f"{k!r}: {_describe(v, depth + 1)}" for k, v in list(out.items())[:6]) + "}"
    if isinstance(out, (tuple, list)):
        inner = ", ".join(_describe(v, depth + 1) for v in out[:6])
        return f"({inner})" if isinstance(out, tuple) else f"[{inner}]"
    return type(out).__name__


def _step(out: Any, item: int | str) -> Any:
    if isinstance(item, int):
        if isinstance(out, (tuple, list)):
            return out[item]
        if isinstance(out, Mapping):
            return list(out.values())[item]
        raise TypeError(f"{type(out).__name__} cannot be indexed by position")
    if isinstance(out, Mapping):
        return out[item]
    return getattr(out, item)


def pick_tensor(out: Any, spec: Any, key: str, module_type: str) -> torch.Tensor:
    """The tensor of ``out`` that ``spec`` names (None: the first tensor, depth first).

    Examples
    --------
    >>> t = (torch.zeros(2, 3), (torch.ones(1, 2, 4), torch.ones(1, 2, 4)))
    >>> tuple(pick_tensor(t, None, "lstm", "LSTM").shape), tuple(pick_tensor(t, 1, "lstm", "LSTM").shape)
    ((2, 3), (1, 2, 4))
    """
    if spec is None:
        found = _first_tensor(out)
    elif callable(spec):
        found = spec(out)
    else:
        found = out
        try:
            for item in spec if isinstance(spec, tuple) else (spec,):
                found = _step(found, item)
        except (IndexError, KeyError, AttributeError, TypeError) as err:
            raise InvalidParameterError(
                f"output={spec!r} does not select anything in what layer {key!r} ({module_type}) returns, "
                f"{_describe(out)}: {err}."
            ) from err
        if not isinstance(found, torch.Tensor):
            found = _first_tensor(found)
    if not isinstance(found, torch.Tensor):
        raise InvalidDataError(
            f"layer {key!r} ({module_type}) returned {_describe(out)}, with no tensor where output="
            f"{spec!r} looks; pass output= (an index, key, path or callable per layer) that selects a "
            "tensor, or leave the layer out of layers=."
        )
    return found


def _batch_axis_first(t: torch.Tensor, n_in: int, layout: LayerLayout, key: str, module_type: str,
                      axis: int | None) -> tuple[torch.Tensor, int]:
    """Move the batch axis first: axis 0, or axis 1 for modules that declare ``batch_first=False``
    (modules that declare either may hold the batch in the other of the two, as ``h_n`` does)."""
    if axis is None:
        order = [0] if layout.batch_first is None else ([1, 0] if layout.batch_first is False else [0, 1])
        axis = next((a for a in order if a < t.ndim and t.shape[a] == n_in), None)
    if axis is None or axis >= t.ndim or t.shape[axis] != n_in:
        raise InvalidDataError(
            f"layer {key!r} ({module_type}) returned shape {tuple(t.shape)} for a batch of {n_in} inputs: "
            "its first axis is not the batch axis"
            + ("" if layout.batch_first is None else " (nor, for this sequence module, its second)")
            + ", so its units cannot be told apart from samples."
        )
    return (t if axis == 0 else t.movedim(axis, 0)), axis


def to_matrix(t: torch.Tensor, n_in: int, layout: LayerLayout, flatten: str, tokens: str, key: str,
              module_type: str, axis: int | None = None) -> tuple[torch.Tensor, int, tuple[int, ...], int]:
    """``(samples, units)`` float32 view or copy of one output, the samples per input, the output's
    per-input shape (batch axis first) and the batch axis found in the raw output."""
    t, axis = _batch_axis_first(t, n_in, layout, key, module_type, axis)
    t = t.detach()
    shape = tuple(t.shape[1:])
    b = t.shape[0]
    if t.ndim == 1:
        return t.reshape(b, 1).to(torch.float32), 1, shape, axis
    if t.ndim == 2:
        return t.to(torch.float32), 1, shape, axis
    if layout.tokens:
        seq = t.reshape(b, t.shape[1], -1)
        if tokens == "mean":
            return seq.mean(dim=1, dtype=torch.float32), 1, shape, axis
        if tokens == "first":
            return seq[:, 0].to(torch.float32), 1, shape, axis
        if tokens == "flatten":
            return seq.reshape(b, -1).to(torch.float32), 1, shape, axis
        # samples: each token a sample, input-major rows
        return seq.reshape(b * seq.shape[1], seq.shape[2]).to(torch.float32), int(seq.shape[1]), shape, axis
    if flatten == "units":
        return t.reshape(b, -1).to(torch.float32), 1, shape, axis
    n_positions = math.prod(t.shape[2:])
    # (batch, C, *spatial) -> (batch, *spatial, C) -> (batch * positions, C): input-major rows
    return t.movedim(1, -1).reshape(b * n_positions, t.shape[1]).to(torch.float32), n_positions, shape, axis


def unit_ids(shape: tuple[int, ...], tokens_layout: bool, flatten: str, tokens: str, n_units: int) -> np.ndarray:
    """Unit ids: ``0..n-1``, ``c{channel}_p{position}`` for flattened feature maps, or
    ``t{token}_f{feature}`` for flattened token sequences.

    Examples
    --------
    >>> unit_ids((2, 3), True, "units", "flatten", 6).tolist()
    ['t0_f0', 't0_f1', 't0_f2', 't1_f0', 't1_f1', 't1_f2']
    """
    if len(shape) <= 1:
        return np.arange(n_units)
    if tokens_layout:
        if tokens != "flatten":
            return np.arange(n_units)
        first, second, prefix = shape[0], n_units // shape[0], ("t", "_f")
    else:
        if flatten == "channels":
            return np.arange(n_units)
        first, second, prefix = shape[0], math.prod(shape[1:]), ("c", "_p")
    a = np.char.add(prefix[0], np.repeat(np.arange(first), second).astype(str))
    b = np.char.add(prefix[1], np.tile(np.arange(second), first).astype(str))
    return np.char.add(a, b)

