"""The memory a capture or a streaming summary will need, worked out before the first batch.

One probe forward pass on two inputs gives every captured layer's width; from the widths, the
number of inputs and the statistics asked for, the plan chooses how each layer's spectrum is
accumulated (the ``d x d`` covariance, the exact ``n x n`` Gram of the kept rows, or a sketch), the
batch size when it is left open, and refuses, naming the layer, its size and the ways out, when
the total is above ``memory_limit``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from neurocomplex.errors import InvalidParameterError

__all__ = ["DEFAULT_MEMORY_LIMIT", "MAX_AUTO_BATCH", "LayerShape", "Plan", "check_memory_limit",
           "format_bytes", "plan_summary", "plan_record", "channel_shapes", "refuse_summary", "refuse_record",
           "SKETCH_SIZES"]

DEFAULT_MEMORY_LIMIT = 2 * 1024**3
MAX_AUTO_BATCH = 1024
# With batch_size=None, a batch holds at most this much activation (and never more than 1024 inputs).
_BATCH_TARGET = 256 * 1024**2
# Sketch sizes offered in a refusal, the largest that fits first.
SKETCH_SIZES = (4096, 2048, 1024, 512, 256)
_F64, _F32 = 8, 4
_GRAM_CHUNK = 2048  # units centred and multiplied at a time by the Gram route
_SKETCH_FLUSH = 1024  # projected rows gathered before one product (neurocomplex.torch._sketch.FLUSH_ROWS)


@dataclass(frozen=True)
class LayerShape:
    """What the probe saw of one captured layer."""

    key: str
    module_type: str
    output_shape: tuple[int, ...]  # per input, batch axis removed
    n_units: int
    n_positions: int  # samples per input
    out_elems: int  # elements per input of the raw output (what the forward pass allocates)
    itemsize: int  # bytes per element of the raw output
    tokens: bool = False  # a token sequence (batch, tokens, features)


@dataclass
class Plan:
    """Routes, batch size and the bytes each part needs."""

    routes: dict[str, str]
    batch_size: int
    total: float
    statistics: float
    per_input: float
    layers: dict[str, float] = field(default_factory=dict)


def check_memory_limit(memory_limit: Any) -> float | None:
    """``memory_limit`` as bytes (a number > 0), or None for no check.

    Examples
    --------
    >>> check_memory_limit(2**30), check_memory_limit(None)
    (1073741824.0, None)
    """
    if memory_limit is None:
        return None
    if isinstance(memory_limit, bool) or not isinstance(memory_limit, (int, float)):
        raise InvalidParameterError(
            f"memory_limit must be a number of bytes (e.g. 4 * 1024**3) or None (no check), got {memory_limit!r}."
        )
    value = float(memory_limit)
    if not math.isfinite(value) or value <= 0:
        raise InvalidParameterError(f"memory_limit must be a finite number of bytes > 0 or None, got {memory_limit!r}.")
    return value


def format_bytes(n: float) -> str:
    """Bytes in binary units.

    Examples
    --------
    >>> format_bytes(3 * 1024**3), format_bytes(512)
    ('3.0 GiB', '512 B')
    """
    for unit, size in (("TiB", 1024**4), ("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{int(n)} B"


def _covariance(d: int) -> tuple[float, float]:
    """(kept, transient) bytes: the float64 scatter; a batch's float32 product and its float64 copy
    (while accumulating) or the eigensolver's copy (at the end)."""
    return _F64 * d * d + 2 * _F64 * d, (_F32 + _F64) * d * d


def _gram(n_rows: int, d: int) -> tuple[float, float]:
    """(kept, transient): the float32 rows; the float64 Gram, its eigensolver copy and a centred chunk."""
    return _F32 * n_rows * d, 2 * _F64 * n_rows * n_rows + 2 * _F32 * n_rows * min(d, _GRAM_CHUNK)


def _sketch(k: int, d: int) -> tuple[float, float]:
    """(kept, transient): the k x k float64 scatter, the projected rows waiting for one product, the
    hash, signs and exact per-unit moments."""
    return _F64 * k * k + 2 * _F64 * k + 2 * _F32 * _SKETCH_FLUSH * k + 36 * d, (_F32 + _F64) * k * k


def _words(n_rows: int | None, d: int) -> float:
    # distinct packed words, the pending batch rows and the copies made while merging (worst case:
    # every word distinct)
    return 0.0 if n_rows is None else 4.0 * n_rows * math.ceil(d / 64) * _F64


def _route(shape: LayerShape, n_rows: int | None, sketch: int | None) -> tuple[str, float, float]:
    d = shape.n_units
    if sketch is not None and d > sketch:
        return ("sketch", *_sketch(sketch, d))
    cov = _covariance(d)
    if n_rows is not None and n_rows < d:
        gram = _gram(n_rows, d)
        if sum(gram) < sum(cov):
            return ("gram", *gram)
    return ("covariance", *cov)


def _consume_bytes(shape: LayerShape) -> float:
    # the float32 matrix (a copy for channels and tokens), the centred copy, the binary states and
    # the sketch's signed copy, per input
    return (3 * _F32 + 1) * shape.n_units * shape.n_positions


def plan_summary(shapes: Sequence[LayerShape], n_inputs: int | None, need: tuple[bool, bool, bool],
                 sketch: int | None, batch_size: int | None) -> Plan:
    """Routes and bytes of a streaming summary; ``need`` = (covariance, activity, words)."""
    need_cov, need_act, need_words = need
    routes: dict[str, str] = {}
    kept, transient, layers = 0.0, 0.0, {}
    for s in shapes:
        n_rows = None if n_inputs is None else n_inputs * s.n_positions
        layer_kept = layer_transient = 0.0
        if need_cov:
            routes[s.key], layer_kept, layer_transient = _route(s, n_rows, sketch)
        if need_act:
            layer_kept += 3 * _F64 * s.n_units
        if need_words:
            layer_kept += _words(n_rows, s.n_units)
        kept += layer_kept
        transient = max(transient, layer_transient)
        layers[s.key] = layer_kept + layer_transient
    per_input = sum(s.out_elems * s.itemsize for s in shapes) + max((_consume_bytes(s) for s in shapes), default=0)
    b = batch_size if batch_size is not None else _auto_batch(per_input)
    statistics = kept + transient
    return Plan(routes, b, statistics + b * per_input, statistics, per_input, layers)


def plan_record(shapes: Sequence[LayerShape], n_inputs: int | None, batch_size: int | None) -> Plan:
    """Bytes of a capture: every layer's float32 rows (and the finiteness check of the largest)."""
    per_input = sum(s.out_elems * s.itemsize + _F32 * s.n_units * s.n_positions for s in shapes)
    kept = 0.0 if n_inputs is None else sum(_F32 * n_inputs * s.n_units * s.n_positions for s in shapes)
    largest = 0.0 if n_inputs is None else max((n_inputs * s.n_units * s.n_positions for s in shapes), default=0)
    b = batch_size if batch_size is not None else _auto_batch(per_input)
    layers = {s.key: 0.0 if n_inputs is None else _F32 * n_inputs * s.n_units * s.n_positions for s in shapes}
    return Plan({}, b, kept + largest + b * per_input, kept + largest, per_input, layers)


def _auto_batch(per_input: float) -> int:
    return int(max(1, min(MAX_AUTO_BATCH, _BATCH_TARGET // max(per_input, 1.0))))


def channel_shapes(shapes: Sequence[LayerShape]) -> list[LayerShape]:
    """The shapes that ``flatten="channels"`` would give (feature maps only)."""
    out = []
    for s in shapes:
        if len(s.output_shape) >= 2 and not s.tokens:
            out.append(replace(s, n_units=s.output_shape[0], n_positions=math.prod(s.output_shape[1:])))
        else:
            out.append(s)
    return out


def refuse_summary(plan: Plan, limit: float, shapes: Sequence[LayerShape], n_inputs: int | None,
                   need: tuple[bool, bool, bool], sketch: int | None, batch_size: int | None,
                   flatten: str) -> InvalidParameterError:
    """The refusal: the layers that need most, and what each way out would need."""
    lines = [f"nc.torch.summarize would need about {format_bytes(plan.total)}, above memory_limit="
             f"{format_bytes(limit)} (estimated before the first batch, from one probe batch of 2 inputs"
             + (f" and {n_inputs:,} inputs" if n_inputs is not None else ", the number of inputs unknown") + "):"]
    worst = sorted(shapes, key=lambda s: -plan.layers.get(s.key, 0.0))[:3]
    for s in worst:
        n_rows = None if n_inputs is None else n_inputs * s.n_positions
        what = [f"layer {s.key!r} ({s.module_type}, output {s.output_shape} per input): {s.n_units:,} units"]
        if need[0]:
            route = plan.routes.get(s.key, "covariance")
            what.append(f"its {s.n_units:,} x {s.n_units:,} float64 covariance takes "
                        f"{format_bytes(_F64 * s.n_units**2)}")
            if n_rows is not None:
                what.append(f"the exact Gram route (its {n_rows:,} float32 rows and their Gram) "
                            f"{format_bytes(sum(_gram(n_rows, s.n_units)))}")
            if route == "sketch":
                what.append(f"the sketch {format_bytes(sum(_sketch(int(sketch or 0), s.n_units)))}")
        if need[2] and n_rows is not None:
            what.append(f"its binary words (pattern_entropy) up to {format_bytes(_words(n_rows, s.n_units))}")
        lines.append("  " + "; ".join(what) + ".")
    lines.append(f"  one batch of {plan.batch_size} inputs holds about {format_bytes(plan.batch_size * plan.per_input)} "
                 "of activations.")
    lines.append("Ways out (the total each would need):")
    fits: list[bool] = []
    feature_maps = flatten == "units" and any(len(s.output_shape) >= 2 and not s.tokens for s in shapes)
    if feature_maps:
        alt = plan_summary(channel_shapes(shapes), n_inputs, need, sketch, batch_size)
        fits.append(alt.total <= limit)
        lines.append(f"  - flatten=\"channels\" (channels are the units, positions are samples): about "
                     f"{format_bytes(alt.total)};")
    if any(len(s.output_shape) >= 2 and not s.tokens for s in shapes):
        lines.append("  - spatial pooling: record a pooling module (or add nn.AdaptiveAvgPool2d to the model and "
                     "record it) instead of the full feature map;")
    names = [s.key for s in shapes if s not in worst]
    lines.append(f"  - fewer layers: layers=[...] without {[s.key for s in worst]}"
                 + (f" (e.g. layers={names[:4]})" if names else "") + ";")
    best_k = None
    if need[0]:
        for k in SKETCH_SIZES:
            alt = plan_summary(shapes, n_inputs, need, k, batch_size)
            if alt.total <= limit or k == SKETCH_SIZES[-1]:
                best_k = k
                fits.append(alt.total <= limit)
                lines.append(f"  - sketch={k} (a seeded random projection of each wider layer to {k} dimensions): "
                             f"about {format_bytes(alt.total)}; the participation ratio is bias-corrected, the "
                             "effective dimension approximate (see Notes of nc.torch.summarize);")
                break
    if need[2]:
        alt = plan_summary(shapes, n_inputs, (need[0], need[1], False), sketch, batch_size)
        fits.append(alt.total <= limit)
        lines.append(f"  - stats without \"pattern_entropy\" (its distinct words are kept): about {format_bytes(alt.total)};")
    if batch_size is not None and plan.batch_size * plan.per_input > _BATCH_TARGET:
        lines.append("  - a smaller batch_size (or None, chosen to fit);")
    lines.append("  - fewer inputs, or a larger memory_limit (None: no check) if the machine has the memory.")
    if not any(fits) and need[2]:
        combos = []
        for k in SKETCH_SIZES if best_k is not None else ():
            combos.append((f"sketch={k} and stats without \"pattern_entropy\"",
                           plan_summary(shapes, n_inputs, (need[0], need[1], False), k, batch_size)))
        if feature_maps:
            combos.append(("flatten=\"channels\" and stats without \"pattern_entropy\"",
                           plan_summary(channel_shapes(shapes), n_inputs, (need[0], need[1], False), sketch,
                                        batch_size)))
        for what, alt in combos:
            if alt.total <= limit:
                lines.append(f"Together, {what} need about {format_bytes(alt.total)}, which fits.")
                break
    return InvalidParameterError("\n".join(lines))


def refuse_record(plan: Plan, limit: float, shapes: Sequence[LayerShape], n_inputs: int | None) -> InvalidParameterError:
    """The refusal of a capture whose activations would not fit."""
    worst = sorted(shapes, key=lambda s: -plan.layers.get(s.key, 0.0))[:3]
    what = "; ".join(f"{s.key!r} {s.n_units:,} units x {s.n_positions * (n_inputs or 0):,} rows = "
                     f"{format_bytes(plan.layers[s.key])}" for s in worst)
    ways = ["nc.torch.summarize (streamed statistics, never the activations)", "fewer layers (layers=[...])",
            "fewer inputs", "spatial pooling (record a pooling module)"]
    return InvalidParameterError(
        f"nc.torch.record would hold about {format_bytes(plan.total)} of float32 activations, above memory_limit="
        f"{format_bytes(limit)} (estimated before the first batch): {what}. Ways out: {'; '.join(ways)}; or a larger "
        "memory_limit (None: no check) if the machine has the memory."
    )
