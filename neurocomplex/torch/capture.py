"""Networks as Recordings: capture layer activations with forward hooks, batch by batch.

:func:`record` runs a model over its inputs in batches (under ``torch.inference_mode``, on the
model's device) and returns one :class:`~neurocomplex.Recording` per layer, so every estimator of
neurocomplex applies to layer 3 of an MLP, a residual block of a CNN or a transformer block as it
does to a brain area. The hook machinery here is shared with :func:`neurocomplex.torch.summarize`,
which consumes each batch into streaming statistics instead of keeping it. Before the first batch,
one probe forward pass on two inputs sizes every layer, so that a capture that would not fit in
``memory_limit`` is refused up front.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
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
)
from neurocomplex.recording import Recording
from neurocomplex.torch._inputs import InputSource
from neurocomplex.torch._outputs import (
    DEFAULT_TOKENS,
    TOKEN_MODES,
    LayerLayout,
    layouts,
    pick_tensor,
    to_matrix,
    unit_ids,
)
from neurocomplex.torch._plan import (
    DEFAULT_MEMORY_LIMIT,
    LayerShape,
    check_memory_limit,
    format_bytes,
    plan_record,
    refuse_record,
)

__all__ = ["record", "activation_types", "block_modules", "FLATTEN_MODES", "TOKEN_MODES", "DEFAULT_MEMORY_LIMIT"]

FLATTEN_MODES = ("units", "channels")
OUTPUT_KEY = "output"
# Progress bars appear (on a terminal) only for runs longer than this many batches.
_PROGRESS_MIN_BATCHES = 10
_PROBE_INPUTS = 2


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


def _has_children(module: nn.Module) -> bool:
    return any(True for _ in module.children())


def block_modules(model: nn.Module) -> dict[str, nn.Module]:
    """The repeated blocks of a model: the children of every ``nn.ModuleList`` whose children are all
    of one class, and of every ``nn.Sequential`` of two or more children of one class that have
    submodules of their own (``layers.0``, ``layers.1``, ... of ``nn.TransformerEncoder``; the
    residual blocks of a ResNet stage).

    Examples
    --------
    >>> enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2), 2, enable_nested_tensor=False)
    >>> list(block_modules(enc))
    ['layers.0', 'layers.1']
    >>> block_modules(nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)))
    {}
    """
    found: dict[str, nn.Module] = {}
    for name, module in model.named_modules():
        kids = list(module.named_children())
        if not kids or len({type(c) for _, c in kids}) != 1:
            continue
        if isinstance(module, nn.ModuleList) or (
                isinstance(module, nn.Sequential) and len(kids) >= 2 and all(_has_children(c) for _, c in kids)):
            for child, sub in kids:
                found[f"{name}.{child}" if name else child] = sub
    return found


@dataclass
class _LayerInfo:
    """What a hook saw of one layer in the first batch."""

    key: str
    module_type: str
    output_shape: tuple[int, ...]  # per input, batch axis removed (before tokens or flatten apply)
    n_positions: int  # samples per input: 1, the spatial positions (channels) or the tokens (samples)
    n_units: int
    tokens: bool = False  # the output was read as (batch, tokens, features)
    alias_of: str | None = None  # the model's output is this captured layer's very tensor


def _resolve_layers(model: nn.Module, layers: Any) -> tuple[dict[str, nn.Module], bool]:
    """Map the ``layers`` argument to {module name: module} and whether the output is wanted."""
    named = dict(model.named_modules())
    if layers is None:
        types = activation_types()
        blocks = block_modules(model)
        return {n: m for n, m in named.items() if n and (_is_activation(m, types) or n in blocks)}, True
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
            elif item in named and item:
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


def _to_model_input(batch: Any, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    if isinstance(batch, np.ndarray):
        t = torch.from_numpy(np.ascontiguousarray(batch))
        if t.is_floating_point():  # float64 arrays would not match float32 weights
            t = t.to(dtype)
    else:
        t = batch
    return t.to(device, non_blocking=True)


Consumer = Callable[[str, torch.Tensor], None]
Planner = Callable[[list[LayerShape], "int | None", "int | None"], int]


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
    batch_size: int | None,
    device: Any,
    flatten: str,
    progress: bool | None,
    consume: Consumer,
    desc: str = "capturing activations",
    *,
    tokens: str = DEFAULT_TOKENS,
    token_layers: Any = None,
    output: Any = None,
    plan: Planner | None = None,
) -> tuple[list[_LayerInfo], int, torch.device]:
    """Run the model over ``inputs`` and hand every selected layer's 2-D batch to ``consume``.

    ``consume(key, x)`` is called inside the forward hook (before any later in-place operation can
    change the tensor) with ``x`` float32, shape ``(samples, units)``, on the compute device.
    ``plan(shapes, n_inputs, batch_size)``, when given, is called after a probe forward pass on the
    first two inputs and before the first batch, with every layer's :class:`LayerShape`; it may
    raise (a refusal) and returns the batch size to use. Returns the layers in execution order, the
    number of inputs, and the device used.
    """
    if not isinstance(model, nn.Module):
        raise InvalidParameterError(f"model must be a torch.nn.Module, got {type(model).__name__}.")
    if batch_size is not None:
        batch_size = check_int("batch_size", batch_size, minimum=1)  # type: ignore[assignment]
    check_choice("flatten", flatten, FLATTEN_MODES)
    check_choice("tokens", tokens, TOKEN_MODES)
    if progress not in (None, True, False):
        raise InvalidParameterError(f"progress must be None, True or False, got {progress!r}.")
    modules, want_output = _resolve_layers(model, layers)
    if not modules and not want_output:
        raise InvalidParameterError("no layers selected: pass layer names or module types in layers=.")
    lay = layouts(model, list(modules), want_output, output, OUTPUT_KEY, token_layers)
    dev, dtype = _resolve_device(model, device)
    source = InputSource(inputs)

    infos: dict[str, _LayerInfo] = {}
    shapes: dict[str, LayerShape] = {}
    axes: dict[str, int] = {}
    state: dict[str, Any] = {"batch": 0, "n_in": 0, "calls": {}, "seen": [], "last": {}, "mode": "run"}

    def alias(key: str, layout: LayerLayout, t: torch.Tensor) -> str | None:
        """The captured layer whose very tensor (and reading of it) the model's output is."""
        if key != OUTPUT_KEY or OUTPUT_KEY in modules:
            return None
        return next((k for k, (ref, lay_k) in state["last"].items() if ref() is t and lay_k == layout), None)

    def emit(key: str, layout: LayerLayout, module_type: str, out: Any) -> None:
        t = pick_tensor(out, layout.spec, key, module_type)
        same = alias(key, layout, t)
        if same is not None:  # no second copy of the same statistics: the output shares the layer's
            if state["mode"] == "probe":
                return
            if state["batch"] == 0:
                infos[key] = replace(infos[same], key=key, module_type=module_type, alias_of=same)
            elif infos[key].alias_of != same:
                raise InvalidDataError(f"the model's output was not the same tensor in every batch "
                                       f"(batch {state['batch']}); models whose outputs depend on the input "
                                       "cannot be captured batch by batch.")
            state["seen"].append(key)
            return
        if state["batch"] and key in infos and infos[key].alias_of is not None:
            raise InvalidDataError(f"the model's output was layer {infos[key].alias_of!r}'s tensor in the first "
                                   f"batch but not in batch {state['batch']}; models whose outputs depend on "
                                   "the input cannot be captured batch by batch.")
        state["last"][key] = (weakref.ref(t), layout)
        if t.ndim == 0:
            raise InvalidDataError(
                f"layer {key!r} ({module_type}) returned a scalar for a batch of {state['n_in']} inputs: it has "
                "no batch axis, so its units cannot be told apart from samples."
            )
        if t.is_complex():
            raise InvalidDataError(f"layer {key!r} ({module_type}) returned complex values; neurocomplex needs real ones.")
        x2d, n_positions, shape, axis = to_matrix(t, state["n_in"], layout, flatten, tokens, key, module_type,
                                                  axes.get(key))
        if state["mode"] == "probe":
            shapes[key] = LayerShape(key, module_type, shape, int(x2d.shape[1]), n_positions,
                                     t.numel() // max(state["n_in"], 1), t.element_size(), layout.tokens)
            return
        if state["batch"] == 0:
            infos[key] = _LayerInfo(key, module_type, shape, n_positions, int(x2d.shape[1]), layout.tokens)
            axes[key] = axis
        elif key not in infos:
            raise InvalidDataError(
                f"layer {key!r} ran in batch {state['batch']} but not in the first batch; models whose "
                "layers depend on the input cannot be captured batch by batch."
            )
        elif infos[key].output_shape != shape:
            raise InvalidDataError(
                f"layer {key!r} output shape changed from {infos[key].output_shape} (first batch) to "
                f"{shape} in batch {state['batch']}; give inputs of one shape."
            )
        state["seen"].append(key)
        consume(key, x2d)

    def make_hook(name: str) -> Callable[..., None]:
        layout = lay[name]

        def hook(module: nn.Module, args: Any, output: Any) -> None:
            if state["mode"] == "silent":
                return
            count = state["calls"].get(name, 0)
            state["calls"][name] = count + 1
            # a module called k times per forward gives the layers name, name#2, ..., name#k
            emit(name if count == 0 else f"{name}#{count + 1}", layout, type(module).__name__, output)

        return hook

    def forward(x: torch.Tensor) -> Any:
        state["n_in"] = int(x.shape[0])
        state["calls"] = {}
        state["seen"] = []
        state["last"] = {}
        try:
            out = model(x)
        except NeurocomplexError:
            raise
        except (RuntimeError, ValueError, IndexError) as err:
            state["mode"] = "silent"
            named = _input_error(model, x, err)
            if named is None:
                raise
            raise named from err
        if want_output:
            emit(OUTPUT_KEY, lay[OUTPUT_KEY], type(model).__name__, out)
        return out

    was_training = model.training
    saved_buffers = {}
    if was_training:  # batch norm in training mode updates running statistics: put them back after
        saved_buffers = {n: b.detach().clone() for n, b in model.named_buffers()}
    handles = [m.register_forward_hook(make_hook(n)) for n, m in modules.items()]
    expected: list[str] = []
    try:
        with torch.inference_mode():
            if plan is not None:
                head = source.head(_PROBE_INPUTS)
                if head is not None and head.ndim and head.shape[0]:
                    state["mode"] = "probe"
                    # the probe must not shift the random streams (dropout in training mode)
                    with torch.random.fork_rng(devices=[dev.index or 0] if dev.type == "cuda" else []):
                        forward(_to_model_input(head, dev, dtype))
                    state["mode"] = "run"
                    batch_size = plan(list(shapes.values()), source.n_inputs, source.fixed_batch or batch_size)
            batches, n_batches = source.batches(batch_size or 1024)
            for batch in progress_bar(batches, n_batches, progress, desc, unit="batch", min_total=_PROGRESS_MIN_BATCHES):
                x = _to_model_input(batch, dev, dtype)
                if x.ndim == 0:
                    raise InvalidDataError("a batch of inputs is a scalar; batches need the samples on the first axis.")
                if x.shape[0] == 0:
                    continue
                forward(x)
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
    batch_size: int | None = None,
    device: Any = None,
    flatten: str = "units",
    progress: bool | None = None,
    *,
    labels: Any = None,
    tokens: str = DEFAULT_TOKENS,
    token_layers: Sequence[str] | bool | None = None,
    output: Any = None,
    memory_limit: float | None = DEFAULT_MEMORY_LIMIT,
) -> dict[str, Recording]:
    """Capture the activations of a network's layers as Recordings (rows = inputs, columns = units).

    Parameters
    ----------
    model : torch.nn.Module
        Any module whose forward takes one batch tensor: MLPs, CNNs, residual networks, recurrent
        networks, transformers. It is run in the mode it is in (training or eval: neurocomplex does
        not call ``model.eval()``; call it yourself for deterministic dropout and batch norm) and is
        left unchanged: same mode, same parameters, and in training mode the batch-norm running
        statistics are restored after the run.
    inputs : torch.Tensor, numpy.ndarray, or iterable of batches
        Samples along the first axis; a DataLoader (or any iterable) of batches, of which each
        batch or its first element (``(x, y)`` pairs) is used. Floating numpy arrays are cast to
        the model's parameter dtype; tensors are only moved to the device.
    layers : None, str, nn.Module type, or a list of those
        None: every activation module (any class of ``torch.nn.modules.activation``: ReLU,
        LeakyReLU, GELU, Tanh, Sigmoid, ELU, SiLU, Softplus, ...; see :func:`activation_types`),
        every repeated block (the children of each ``ModuleList``/``Sequential`` of blocks, see
        :func:`block_modules`: ``layers.0``, ``layers.1``, ... of a transformer, whose
        nonlinearities are functional) and the model's output under the key ``"output"``.
        Otherwise module names as in ``model.named_modules()`` (dotted for nested modules;
        ``"output"`` for the model's output) and/or module classes (every module of that class).
    batch_size : int, optional
        Inputs per forward pass for tensor and array inputs (iterables keep their own batches).
        None (default): as many as keep one batch's activations near 256 MiB, at most 1024.
    device : str or torch.device, optional
        Where the forward passes run; default the device of the model's parameters (GPU when the
        model is there). Inputs are moved there batch by batch; the model is never moved.
    flatten : {"units", "channels"}
        How feature maps ``(C, *spatial)`` per input (outputs with more than one axis per input
        that are not token sequences) become a matrix. ``"units"``: every channel x position is a
        unit, one row per input (unit ``j = c * P + p`` for channel ``c`` and flat position
        ``p = h * W + w`` among ``P`` positions, i.e. ``out.reshape(n_inputs, -1)``).
        ``"channels"``: channels are the units and every (input, position) pair is a sample,
        input-major: row ``i * P + p`` is input ``i`` at position ``p``. The first axis after the
        batch is taken as the channel axis (torch's ``(N, C, ...)`` convention).
    progress : bool, optional
        Show a progress bar (tqdm; in notebooks too); None (default) shows one only on a terminal
        for more than 10 batches; False never.
    labels : pandas.DataFrame, mapping, 1-D array, tensor or Recording, optional
        What each input is (stimulus index, class, condition): one row per input, kept as every
        layer's per-sample ``labels`` (a 1-D array becomes a column ``"label"``; a Recording gives
        its own ``labels``, e.g. a brain area's trial responses to the same stimuli). When a layer
        has several samples per input (``flatten="channels"``, ``tokens="samples"``) each input's
        row is repeated and a ``position`` (or ``token``) column added.
    tokens : {"mean", "first", "flatten", "samples"}
        How token sequences ``(batch, tokens, features)`` become a matrix: ``"mean"`` (default:
        the features averaged over tokens, one row per input), ``"first"`` (the first token, e.g.
        a class token), ``"flatten"`` (every token x feature is a unit, ``t{token}_f{feature}``)
        or ``"samples"`` (every token is a sample, input-major, labels repeated).
    token_layers : None, bool or list of str
        Which outputs are token sequences. None (default): those of sequence modules (attention,
        recurrent, transformer layers, ``nn.Embedding``, modules whose class name ends in
        ``Attention``), of modules that contain one, and of modules inside a block that contains
        one; the model's output when the model contains one. True: every output with 3 or more
        axes; False: none; a list: those layer keys.
    output : None, int, str, tuple, callable, or dict of layer key to one of those
        Which tensor of a module that returns several (tuples, dicts, output objects) is
        recorded. None (default): the first tensor, depth first (``nn.LSTM``: the output sequence;
        ``nn.MultiheadAttention``: the attention output). An int or str picks an element, key or
        attribute (``output=1`` on ``nn.LSTM`` is ``(h_n, c_n)``, of which the first tensor,
        ``h_n``, is taken); a tuple is a path (``(1, 1)``: ``c_n``); a callable maps the output to
        a tensor. A dict gives one of these per layer key (others take the first tensor).
    memory_limit : float or None
        Bytes the captured activations and one batch's working copies may take (default 2 GiB,
        not counting the model and the inputs); computed before the first batch from one probe
        forward pass on two inputs and the number of inputs (iterables without a length are
        checked as the batches arrive). Above it, the call is refused with the layers that need
        most. None: no check.

    Returns
    -------
    dict of str to Recording
        One Recording per layer, keyed by module name in execution order (the order in which the
        layers finish their forward; ``"output"`` last). A module called k times per forward gives
        keys ``name``, ``name#2``, ..., ``name#k``. Each Recording has ``kind="activations"``
        (float32), ``groups`` the layer key for every unit, ``source="torch:<key>"``, and
        ``unit_ids`` ``0..n_units-1``, ``"c{channel}_p{position}"`` for feature maps with
        ``flatten="units"`` or ``"t{token}_f{feature}"`` for ``tokens="flatten"``. ``metadata``
        holds ``layer``, ``module_type``, ``output_shape`` (per input, batch axis first removed),
        ``flatten``, ``tokens`` (the mode, or None for outputs that are not token sequences),
        ``n_inputs`` and ``n_positions`` (samples per input). ``labels`` as given (None by default).
        When the model's output is the very tensor a captured layer returned (a ``Sequential``
        ending in a ReLU), ``"output"`` shares that layer's (read-only) array.

    Raises
    ------
    InvalidParameterError
        ``labels`` that do not line up with the inputs (another number of rows).
        Unknown layer name (the message lists the model's layers) or type, a layer that never runs
        in the forward pass, bad ``batch_size``/``flatten``/``tokens``/``output``/``progress``/
        ``device``/``memory_limit``; activations that would need more than ``memory_limit``.
    InvalidDataError
        A layer returns no tensor where ``output`` looks, or an output without a batch axis; NaN
        or inf activations; layers that run in some batches only.
    InsufficientDataError
        No inputs.
    UnsupportedSourceError
        ``inputs`` is not a tensor, an array or an iterable of batches.

    Notes
    -----
    Runs under ``torch.inference_mode`` (no autograd graph is built), with forward hooks that copy
    each layer's output as soon as it is computed, so later in-place operations (``ReLU(inplace=
    True)``) cannot change what was captured. Hooks are removed on every exit path, errors
    included. The batch axis of a module's output is its first axis; for modules that declare
    ``batch_first`` (``nn.LSTM``, ``nn.MultiheadAttention``, ``nn.TransformerEncoderLayer`` through
    its attention), it is the second when they declare ``batch_first=False`` and, for either
    declaration, the other of the two when the first does not have the batch's length (``h_n``).
    Activations are kept on the host as float32 (widths of ``10^5`` units are fine: 1,000 inputs x
    100,000 units is 381 MiB); for statistics of runs that would not fit, use
    :func:`neurocomplex.torch.summarize`, which never holds the activations.

    Examples
    --------
    >>> import torch, neurocomplex as nc
    >>> net = nc.torch.mlp([3, 5, 2], seed=0)
    >>> recs = nc.torch.record(net, torch.randn(100, 3, generator=torch.Generator().manual_seed(0)))
    >>> list(recs), recs["relu1"].data.shape, recs["relu1"].kind
    (['relu1', 'output'], (100, 5), 'activations')
    >>> enc = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(8, 2, batch_first=True), 2,
    ...                                   enable_nested_tensor=False).eval()
    >>> recs = nc.torch.record(enc, torch.randn(10, 5, 8))
    >>> {k: r.data.shape for k, r in recs.items()}
    {'layers.0': (10, 8), 'layers.1': (10, 8), 'output': (10, 8)}
    """
    limit = check_memory_limit(memory_limit)
    chunks: dict[str, list[np.ndarray]] = {}
    held = {"bytes": 0}

    def consume(key: str, x: torch.Tensor) -> None:
        arr = _to_numpy(x)
        held["bytes"] += arr.nbytes
        if limit is not None and held["bytes"] > limit:
            raise InvalidParameterError(
                f"nc.torch.record holds {format_bytes(held['bytes'])} of activations after {len(chunks.get(key, []))} "
                f"batches of layer {key!r}, above memory_limit={format_bytes(limit)} (the number of inputs was not "
                "known up front). Use nc.torch.summarize, fewer layers or inputs, or a larger memory_limit (None: no "
                "check)."
            )
        chunks.setdefault(key, []).append(arr)

    def plan(shapes: list[LayerShape], n_inputs: int | None, size: int | None) -> int:
        p = plan_record(shapes, n_inputs, size)
        if limit is not None and n_inputs is not None and p.total > limit:
            raise refuse_record(p, limit, shapes, n_inputs)
        return p.batch_size

    known = len(inputs) if isinstance(inputs, (torch.Tensor, np.ndarray)) else None
    table = _input_labels(labels, known)  # checked before the run when the inputs say how many
    infos, n_inputs, _ = _run_capture(model, inputs, layers, batch_size, device, flatten, progress, consume,
                                      tokens=tokens, token_layers=token_layers, output=output, plan=plan)
    table = _input_labels(table, n_inputs)
    out: dict[str, Recording] = {}
    held_data: dict[str, np.ndarray] = {}
    for info in infos:
        rows = table
        if table is not None and info.n_positions > 1:
            rows = table.loc[table.index.repeat(info.n_positions)].reset_index(drop=True)
            rows["token" if info.tokens else "position"] = np.tile(np.arange(info.n_positions), n_inputs)
        # the model's output that is a captured layer's tensor shares its (read-only) array
        data = held_data[info.alias_of] if info.alias_of else _assemble(chunks.pop(info.key))
        held_data[info.key] = data
        meta = {
            "layer": info.key,
            "module_type": info.module_type,
            "output_shape": info.output_shape,
            "flatten": flatten,
            "tokens": tokens if info.tokens else None,
            "n_inputs": n_inputs,
            "n_positions": info.n_positions,
        }
        out[info.key] = Recording(
            data=data,
            kind="activations",
            unit_ids=unit_ids(info.output_shape, info.tokens, flatten, tokens, info.n_units),
            groups=np.full(info.n_units, info.key),
            metadata=meta,
            source=f"torch:{info.key}",
            labels=rows,
        )
    return out
