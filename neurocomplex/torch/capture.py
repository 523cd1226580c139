"""Networks as Recordings: capture layer activations with forward hooks, batch by batch.

:func:`record` runs a model over its inputs in batches (under ``torch.inference_mode``, on the
model's device) and returns one :class:`~neurocomplex.Recording` per layer, so every estimator of
neurocomplex applies to layer 3 of an MLP as it does to a brain area. The hook machinery here is
shared with :func:`neurocomplex.torch.summarize`, which consumes each batch into streaming
statistics instead of keeping it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from neurocomplex._progress import progress_bar
from neurocomplex._validation import check_choice, check_int
from neurocomplex.errors import (
    InsufficientDataError,
    InvalidDataError,
    InvalidParameterError,
    NeurocomplexError,
    UnsupportedSourceError,
)
from neurocomplex.recording import Recording

__all__ = ["record", "activation_types", "FLATTEN_MODES"]

FLATTEN_MODES = ("units", "channels")
OUTPUT_KEY = "output"
# Progress bars appear (on a terminal) only for runs longer than this many batches.
_PROGRESS_MIN_BATCHES = 10


def activation_types() -> tuple[type[nn.Module], ...]:
    """Module classes captured by default: every class of ``torch.nn.modules.activation``.

    ``MultiheadAttention`` is left out (it returns a tuple, not an activation tensor). Modules
    whose class sets ``is_activation = True`` (neurocomplex's ``Abs`` and ``Identity``) are
    captured as well.

    Examples
    --------
    >>> nn.ReLU in activation_types() and nn.GELU in activation_types()
    True
    """
    import torch.nn.modules.activation as act

    found = []
    for name in dir(act):
        obj = getattr(act, name)
        if (isinstance(obj, type) and issubclass(obj, nn.Module) and obj is not nn.Module
                and obj.__module__ == act.__name__ and obj is not nn.MultiheadAttention):
            found.append(obj)
    return tuple(found)


def _is_activation(module: nn.Module, types: tuple[type[nn.Module], ...]) -> bool:
    return isinstance(module, types) or bool(getattr(type(module), "is_activation", False))


@dataclass
class _LayerInfo:
    """What a hook saw of one layer in the first batch."""

    key: str
    module_type: str
    output_shape: tuple[int, ...]  # per input, without the batch dimension
    n_positions: int  # samples per input: 1, or the spatial positions with flatten="channels"
    n_units: int


def _resolve_layers(model: nn.Module, layers: Any) -> tuple[dict[str, nn.Module], bool]:
    """Map the ``layers`` argument to {module name: module} and whether the output is wanted."""
    named = dict(model.named_modules())
    if layers is None:
        types = activation_types()
        return {n: m for n, m in named.items() if n and _is_activation(m, types)}, True
    if isinstance(layers, (str, type)):
        layers = [layers]
    if not isinstance(layers, Iterable):
        raise InvalidParameterError(
            f"layers must be None, a module name, a module type, or a list of those; got {layers!r}."
        )
    chosen: dict[str, nn.Module] = {}
    want_output = False
    available = [n for n in named if n]
    for item in layers:
        if isinstance(item, str):
            if item == OUTPUT_KEY and OUTPUT_KEY not in named:
                want_output = True
            elif item in named:
                chosen[item] = named[item]
            else:
                raise InvalidParameterError(
                    f"no layer called {item!r} in the model. Layers (names from model.named_modules()): "
                    f"{available[:60]}{' ...' if len(available) > 60 else ''}; or 'output' for the model's output."
                )
        elif isinstance(item, type) and issubclass(item, nn.Module):
            hits = {n: m for n, m in named.items() if n and isinstance(m, item)}
            if not hits:
                present = sorted({type(m).__name__ for n, m in named.items() if n})
                raise InvalidParameterError(
                    f"the model has no module of type {item.__name__}; its module types are {present}."
                )
            chosen.update(hits)
        else:
            raise InvalidParameterError(
                f"layers entries must be module names (str) or nn.Module subclasses, got {item!r}."
            )
    # keep the model's own module order; execution order is fixed by the hooks later
    return {n: m for n, m in named.items() if n in chosen}, want_output


def _model_device_dtype(model: nn.Module) -> tuple[torch.device, torch.dtype]:
    device, dtype = torch.device("cpu"), torch.float32
    for i, t in enumerate(list(model.parameters()) + list(model.buffers())):
        if i == 0:
            device = t.device
        if t.is_floating_point():
            return device, t.dtype
    return device, dtype


def _resolve_device(model: nn.Module, device: Any) -> tuple[torch.device, torch.dtype]:
    model_device, dtype = _model_device_dtype(model)
    if device is None:
        return model_device, dtype
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise InvalidParameterError(f"device={device!r} is not a torch device ('cpu', 'cuda', 'cuda:1', ...).") from err
    has_state = any(True for _ in model.parameters()) or any(True for _ in model.buffers())
    if has_state and dev.type != model_device.type:
        raise InvalidParameterError(
            f"device={device!r} but the model's parameters are on {model_device}; the model is never moved "
            f"by neurocomplex: call model.to({str(dev)!r}) first, or leave device=None."
        )
    return dev, dtype


def _iter_batches(inputs: Any, batch_size: int) -> tuple[Iterator[Any], int | None]:
    """Batches of ``inputs`` and their number (None when unknown)."""
    if isinstance(inputs, (torch.Tensor, np.ndarray)):
        if inputs.ndim == 0:
            raise InvalidDataError("inputs is a scalar; give a batch with the samples along the first axis.")
        n = int(inputs.shape[0])
        if n == 0:
            raise InsufficientDataError("inputs holds no samples (first axis has length 0).")
        return (inputs[s : s + batch_size] for s in range(0, n, batch_size)), math.ceil(n / batch_size)
    if isinstance(inputs, (str, bytes, Mapping)) or not isinstance(inputs, Iterable):
        raise UnsupportedSourceError(
            f"inputs must be a torch.Tensor, a numpy array, or a DataLoader / iterable of batches; got "
            f"{type(inputs).__name__}."
        )
    try:
        n_batches = len(inputs)  # type: ignore[arg-type]
    except TypeError:
        n_batches = None

    def gen() -> Iterator[Any]:
        for i, batch in enumerate(inputs):
            if isinstance(batch, (tuple, list)):  # (inputs, targets, ...) as DataLoaders yield
                if not batch:
                    raise InvalidDataError(f"batch {i} of inputs is empty.")
                batch = batch[0]
            if not isinstance(batch, (torch.Tensor, np.ndarray)):
                raise UnsupportedSourceError(
                    f"batch {i} of inputs is a {type(batch).__name__}; each batch (or its first element) "
                    "must be a torch.Tensor or numpy array."
                )
            yield batch

    return gen(), n_batches


def _to_model_input(batch: Any, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    if isinstance(batch, np.ndarray):
        t = torch.from_numpy(np.ascontiguousarray(batch))
        if t.is_floating_point():  # float64 arrays would not match float32 weights
            t = t.to(dtype)
    else:
        t = batch
    return t.to(device, non_blocking=True)


def _flatten(out: torch.Tensor, flatten: str) -> tuple[torch.Tensor, int]:
    """(batch, ...) output -> 2-D (samples, units) and the number of positions per input."""
    b = out.shape[0]
    if out.ndim == 1:
        return out.reshape(b, 1), 1
    if out.ndim == 2 or flatten == "units":
        return out.reshape(b, -1), 1
    n_channels = out.shape[1]
    n_positions = math.prod(out.shape[2:])
    # (batch, C, *spatial) -> (batch, *spatial, C) -> (batch * positions, C): input-major rows
    return out.movedim(1, -1).reshape(b * n_positions, n_channels), n_positions


Consumer = Callable[[str, torch.Tensor], None]


def _input_error(model: nn.Module, x: torch.Tensor, err: Exception) -> InvalidDataError | None:
    """Name the layer that rejected the inputs and the shapes involved, by running once more with
    a pre-hook on every module (only after a failure, so the normal path has no extra hooks).
    None when the failure is in the model's own code rather than in one of its layers."""
    entered: list[tuple[str, nn.Module, tuple[int, ...] | None]] = []

    def pre(name: str) -> Callable[..., None]:
        def hook(module: nn.Module, args: Any) -> None:
            first = args[0] if args else None
            entered.append((name, module, tuple(first.shape) if isinstance(first, torch.Tensor) else None))

        return hook

    def post(module: nn.Module, args: Any, output: Any) -> None:
        if entered and entered[-1][1] is module:
            entered.pop()  # finished: the failing module is the innermost one still open

    named = [(n, m) for n, m in model.named_modules() if n]
    handles = [m.register_forward_pre_hook(pre(n)) for n, m in named]
    handles += [m.register_forward_hook(post) for _, m in named]
    try:
        with torch.inference_mode():
            model(x)
    except Exception:  # the same failure again; only where it happens matters
        pass
    finally:
        for h in handles:
            h.remove()
    if not entered:
        return None
    name, module, shape = entered[-1]
    expects = ""
    if hasattr(module, "in_features"):
        expects = f" and expects (batch, ..., {module.in_features})"
    elif hasattr(module, "in_channels"):
        expects = f" and expects (batch, {module.in_channels}, ...)"
    where = f"layer {name!r} ({type(module).__name__}), which received shape {shape}{expects}"
    return InvalidDataError(
        f"inputs of shape {tuple(x.shape)} (batch of {x.shape[0]}) failed in {where}: {type(err).__name__}: "
        f"{str(err).splitlines()[0] if str(err) else ''}. Give inputs shaped as the model expects, samples on "
        "the first axis."
    )


def _run_capture(
    model: nn.Module,
    inputs: Any,
    layers: Any,
    batch_size: int,
    device: Any,
    flatten: str,
    progress: bool | None,
    consume: Consumer,
    desc: str = "capturing activations",
) -> tuple[list[_LayerInfo], int, torch.device]:
    """Run the model over ``inputs`` and hand every selected layer's 2-D batch to ``consume``.

    ``consume(key, x)`` is called inside the forward hook (before any later in-place operation can
    change the tensor) with ``x`` float32, shape ``(samples, units)``, on the compute device.
    Returns the layers in execution order, the number of inputs, and the device used.
    """
    if not isinstance(model, nn.Module):
        raise InvalidParameterError(f"model must be a torch.nn.Module, got {type(model).__name__}.")
    batch_size = check_int("batch_size", batch_size, minimum=1)  # type: ignore[assignment]
    check_choice("flatten", flatten, FLATTEN_MODES)
    if progress not in (None, True, False):
        raise InvalidParameterError(f"progress must be None, True or False, got {progress!r}.")
    modules, want_output = _resolve_layers(model, layers)
    if not modules and not want_output:
        raise InvalidParameterError("no layers selected: pass layer names or module types in layers=.")
    dev, dtype = _resolve_device(model, device)
    batches, n_batches = _iter_batches(inputs, batch_size)

    infos: dict[str, _LayerInfo] = {}
    state = {"batch": 0, "n_in": 0, "calls": {}, "seen": []}

    def emit(key: str, module_type: str, out: Any) -> None:
        if not isinstance(out, torch.Tensor):
            raise InvalidDataError(
                f"layer {key!r} ({module_type}) returned a {type(out).__name__}, not a tensor; record one "
                "of its submodules that returns a tensor, or leave it out of layers=."
            )
        if out.ndim == 0 or out.shape[0] != state["n_in"]:
            raise InvalidDataError(
                f"layer {key!r} ({module_type}) returned shape {tuple(out.shape)} for a batch of {state['n_in']} "
                "inputs: its first axis is not the batch axis, so its units cannot be told apart from samples."
            )
        if out.is_complex():
            raise InvalidDataError(f"layer {key!r} ({module_type}) returned complex values; neurocomplex needs real ones.")
        x2d, n_positions = _flatten(out.detach(), flatten)
        x2d = x2d.to(torch.float32)
        if state["batch"] == 0:
            infos[key] = _LayerInfo(key, module_type, tuple(out.shape[1:]), n_positions, int(x2d.shape[1]))
        elif key not in infos:
            raise InvalidDataError(
                f"layer {key!r} ran in batch {state['batch']} but not in the first batch; models whose "
                "layers depend on the input cannot be captured batch by batch."
            )
        elif infos[key].output_shape != tuple(out.shape[1:]):
            raise InvalidDataError(
                f"layer {key!r} output shape changed from {infos[key].output_shape} (first batch) to "
                f"{tuple(out.shape[1:])} in batch {state['batch']}; give inputs of one shape."
            )
        state["seen"].append(key)
        consume(key, x2d)

    def make_hook(name: str) -> Callable[..., None]:
        def hook(module: nn.Module, args: Any, output: Any) -> None:
            if state.get("probing"):
                return
            count = state["calls"].get(name, 0)
            state["calls"][name] = count + 1
            # a module called k times per forward gives the layers name, name#2, ..., name#k
            emit(name if count == 0 else f"{name}#{count + 1}", type(module).__name__, output)

        return hook

    was_training = model.training
    saved_buffers = {}
    if was_training:  # batch norm in training mode updates running statistics: put them back after
        saved_buffers = {n: b.detach().clone() for n, b in model.named_buffers()}
    handles = [m.register_forward_hook(make_hook(n)) for n, m in modules.items()]
    expected: list[str] = []
    try:
        with torch.inference_mode():
            for batch in progress_bar(batches, n_batches, progress, desc, unit="batch", min_total=_PROGRESS_MIN_BATCHES):
                x = _to_model_input(batch, dev, dtype)
                if x.ndim == 0:
                    raise InvalidDataError("a batch of inputs is a scalar; batches need the samples on the first axis.")
                if x.shape[0] == 0:
                    continue
                state["n_in"] = int(x.shape[0])
                state["calls"] = {}
                state["seen"] = []
                try:
                    out = model(x)
                except NeurocomplexError:
                    raise
                except (RuntimeError, ValueError, IndexError) as err:
                    state["probing"] = True
                    named = _input_error(model, x, err)
                    if named is None:
                        raise
                    raise named from err
                if want_output:
                    emit(OUTPUT_KEY, type(model).__name__, out)
                if state["batch"] == 0:
                    expected = list(state["seen"])
                    missing = [n for n in modules if n not in state["calls"]]
                    if missing:
                        raise InvalidParameterError(
                            f"layers {missing} exist in the model but never ran in its forward pass; "
                            "choose layers that the forward pass uses."
                        )
                elif sorted(state["seen"]) != sorted(expected):
                    gone = sorted(set(expected) - set(state["seen"]))
                    raise InvalidDataError(
                        f"layers {gone} ran in the first batch but not in batch {state['batch']}; models whose "
                        "layers depend on the input cannot be captured batch by batch."
                    )
                state["batch"] += 1
                state["n_total"] = state.get("n_total", 0) + state["n_in"]
    finally:
        for h in handles:
            h.remove()
        if saved_buffers:
            with torch.no_grad():
                for n, b in model.named_buffers():
                    if n in saved_buffers:
                        b.copy_(saved_buffers[n])
    if state["batch"] == 0:
        raise InsufficientDataError("inputs yielded no samples; nothing was captured.")
    return [infos[k] for k in expected], int(state["n_total"]), dev


def _to_numpy(x: torch.Tensor) -> np.ndarray:
    """A float32 numpy copy that later in-place operations on ``x`` cannot change."""
    host = x.to("cpu")
    arr = host.numpy()
    return arr.copy() if host.data_ptr() == x.data_ptr() else arr


def _assemble(chunks: list[np.ndarray]) -> np.ndarray:
    """Concatenate while freeing chunks, so the peak stays near one copy of the data."""
    if len(chunks) == 1:
        return chunks.pop()
    out = np.empty((sum(c.shape[0] for c in chunks), chunks[0].shape[1]), dtype=np.float32)
    pos = 0
    chunks.reverse()
    while chunks:
        c = chunks.pop()
        out[pos : pos + c.shape[0]] = c
        pos += c.shape[0]
    return out


def _unit_ids(info: _LayerInfo, flatten: str) -> np.ndarray:
    shape = info.output_shape
    if len(shape) <= 1 or flatten == "channels":
        return np.arange(info.n_units)
    n_channels, n_positions = shape[0], math.prod(shape[1:])
    return np.array([f"c{c}_p{p}" for c in range(n_channels) for p in range(n_positions)])


def _input_labels(labels: Any, n_inputs: int | None) -> Any:
    """``labels`` as a DataFrame with one row per input, checked against the number of inputs."""
    if labels is None:
        return None
    import pandas as pd

    if isinstance(labels, Recording):
        if labels.labels is None:
            raise InvalidParameterError("labels: the Recording given has no labels (rec.labels is None).")
        labels = labels.labels
    if isinstance(labels, torch.Tensor):
        labels = labels.detach().cpu().numpy()
    if not isinstance(labels, (pd.DataFrame, Mapping)):
        values = np.asarray(labels)
        if values.ndim != 1:
            raise InvalidParameterError(f"labels must be a DataFrame, a mapping of columns or one value per input "
                                        f"(1-D), got shape {values.shape}.")
        labels = {"label": values}
    try:
        table = pd.DataFrame(labels).reset_index(drop=True)
    except ValueError as err:
        raise InvalidParameterError(f"labels do not form a table: {err}.") from err
    if n_inputs is not None and len(table) != n_inputs:
        raise InvalidParameterError(
            f"labels have {len(table)} rows but there are {n_inputs} inputs; the labels must line up with the "
            "inputs (one row per input, in the same order)."
        )
    return table


def record(
    model: nn.Module,
    inputs: Any,
    layers: Sequence[str | type[nn.Module]] | str | type[nn.Module] | None = None,
    batch_size: int = 1024,
    device: Any = None,
    flatten: str = "units",
    progress: bool | None = None,
    *,
    labels: Any = None,
) -> dict[str, Recording]:
    """Capture the activations of a network's layers as Recordings (rows = inputs, columns = units).

    Parameters
    ----------
    model : torch.nn.Module
        Any module whose forward takes one batch tensor. It is run in the mode it is in (training or
        eval: neurocomplex does not call ``model.eval()``; call it yourself for deterministic
        dropout and batch norm) and is left unchanged: same mode, same parameters, and in training
        mode the batch-norm running statistics are restored after the run.
    inputs : torch.Tensor, numpy.ndarray, or iterable of batches
        Samples along the first axis; a DataLoader (or any iterable) of batches, of which each
        batch or its first element (``(x, y)`` pairs) is used. Floating numpy arrays are cast to
        the model's parameter dtype; tensors are only moved to the device.
    layers : None, str, nn.Module type, or a list of those
        None: every activation module (any class of ``torch.nn.modules.activation``: ReLU,
        LeakyReLU, GELU, Tanh, Sigmoid, ELU, SiLU, Softplus, ...; see :func:`activation_types`)
        and the model's output under the key ``"output"``. Otherwise module names as in
        ``model.named_modules()`` (``"output"`` for the model's output) and/or module classes
        (every module of that class).
    batch_size : int
        Inputs per forward pass for tensor and array inputs (iterables keep their own batches).
    device : str or torch.device, optional
        Where the forward passes run; default the device of the model's parameters (GPU when the
        model is there). Inputs are moved there batch by batch; the model is never moved.
    flatten : {"units", "channels"}
        How outputs with more than one axis per input (conv feature maps ``(C, H, W)``) become a
        matrix. ``"units"``: every channel x position is a unit, one row per input (unit ``j =
        c * P + p`` for channel ``c`` and flat position ``p = h * W + w`` among ``P`` positions,
        i.e. ``out.reshape(n_inputs, -1)``). ``"channels"``: channels are the units and every
        (input, position) pair is a sample, input-major: row ``i * P + p`` is input ``i`` at
        position ``p``. The first axis after the batch is taken as the channel axis (torch's
        ``(N, C, ...)`` convention). 2-D outputs ``(N, units)`` are the same in both modes.
    progress : bool, optional
        Show a tqdm bar; None (default) shows one only on a terminal for more than 10 batches.
    labels : pandas.DataFrame, mapping, 1-D array, tensor or Recording, optional
        What each input is (stimulus index, class, condition): one row per input, kept as every
        layer's per-sample ``labels`` (a 1-D array becomes a column ``"label"``; a Recording gives
        its own ``labels``, e.g. a brain area's trial responses to the same stimuli). With
        ``flatten="channels"`` each input's row is repeated for its positions and a ``position``
        column added.

    Returns
    -------
    dict of str to Recording
        One Recording per layer, keyed by module name in execution order (the order in which the
        layers finish their forward; ``"output"`` last). A module called k times per forward gives
        keys ``name``, ``name#2``, ..., ``name#k``. Each Recording has ``kind="activations"``
        (float32), ``groups`` the layer key for every unit, ``source="torch:<key>"``, and
        ``unit_ids`` ``0..n_units-1`` for vector outputs and with ``flatten="channels"``, or
        ``"c{channel}_p{position}"`` for feature maps with ``flatten="units"``. ``metadata`` holds
        ``layer``, ``module_type``, ``output_shape`` (per input), ``flatten``, ``n_inputs`` and
        ``n_positions`` (samples per input). ``labels`` as given (None by default).

    Raises
    ------
    InvalidParameterError
        ``labels`` that do not line up with the inputs (another number of rows).
        Unknown layer name (the message lists the model's layers) or type, a layer that never runs
        in the forward pass, bad ``batch_size``/``flatten``/``progress``/``device``.
    InvalidDataError
        A layer returns something other than a tensor, or an output whose first axis is not the
        batch; NaN or inf activations; layers that run in some batches only.
    InsufficientDataError
        No inputs.
    UnsupportedSourceError
        ``inputs`` is not a tensor, an array or an iterable of batches.

    Notes
    -----
    Runs under ``torch.inference_mode`` (no autograd graph is built), with forward hooks that copy
    each layer's output as soon as it is computed, so later in-place operations (``ReLU(inplace=
    True)``) cannot change what was captured. Hooks are removed on every exit path, errors
    included. Activations are kept on the host as float32; for statistics of large runs that never
    hold all activations use :func:`neurocomplex.torch.summarize`.

    Examples
    --------
    >>> import torch, neurocomplex as nc
    >>> net = nc.torch.mlp([3, 5, 2], seed=0)
    >>> recs = nc.torch.record(net, torch.randn(100, 3, generator=torch.Generator().manual_seed(0)))
    >>> list(recs), recs["relu1"].data.shape, recs["relu1"].kind
    (['relu1', 'output'], (100, 5), 'activations')
    """
    chunks: dict[str, list[np.ndarray]] = {}

    def consume(key: str, x: torch.Tensor) -> None:
        chunks.setdefault(key, []).append(_to_numpy(x))

    known = len(inputs) if isinstance(inputs, (torch.Tensor, np.ndarray)) else None
    table = _input_labels(labels, known)  # checked before the run when the inputs say how many
    infos, n_inputs, _ = _run_capture(model, inputs, layers, batch_size, device, flatten, progress, consume)
    table = _input_labels(table, n_inputs)
    out: dict[str, Recording] = {}
    for info in infos:
        rows = table
        if table is not None and info.n_positions > 1:
            rows = table.loc[table.index.repeat(info.n_positions)].reset_index(drop=True)
            rows["position"] = np.tile(np.arange(info.n_positions), n_inputs)
        data = _assemble(chunks.pop(info.key))
        meta = {
            "layer": info.key,
            "module_type": info.module_type,
            "output_shape": info.output_shape,
            "flatten": flatten,
            "n_inputs": n_inputs,
            "n_positions": info.n_positions,
        }
        out[info.key] = Recording(
            data=data,
            kind="activations",
            unit_ids=_unit_ids(info, flatten),
            groups=np.full(info.n_units, info.key),
            metadata=meta,
            source=f"torch:{info.key}",
            labels=rows,
        )
    return out
