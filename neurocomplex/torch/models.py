"""Small networks to study: seeded multilayer perceptrons and the bundled demo network.

:func:`mlp` builds a ``torch.nn.Sequential`` with named layers (``fc1, relu1, fc2, relu2, ...,
fcL``) from a list of widths, initialised from its own ``torch.Generator`` so that building a
network never changes the global torch random state. :func:`load_demo_network` rebuilds the small
digits classifier stored in ``data/demo_network.pt`` (made by ``data/make_demo_network.py``).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from neurocomplex._validation import check_choice, check_float, check_int
from neurocomplex.errors import CorruptFileError, InvalidDataError, InvalidParameterError, MissingFileError

__all__ = ["Abs", "Identity", "mlp", "init_gain", "demo_network_path", "load_demo_network", "load_demo_probe",
           "load_model", "architecture_from_spec"]

ACTIVATIONS = ("relu", "abs", "tanh", "leaky_relu", "linear")
INITS = ("kaiming", "xavier", "normal")
LEAKY_SLOPE = 0.01  # torch's default negative slope


class Abs(nn.Module):
    """Elementwise absolute value, ``|x|``: a piecewise-linear activation with two pieces.

    Examples
    --------
    >>> Abs()(torch.tensor([-2.0, 0.5]))
    tensor([2.0000, 0.5000])
    """

    # capture treats modules carrying this flag as activation layers (see neurocomplex.torch.capture)
    is_activation = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.abs(x)


class Identity(nn.Identity):
    """The identity used as the "activation" of a deep linear network.

    Unlike a plain ``nn.Identity`` (often a placeholder), it counts as an activation layer for
    :func:`neurocomplex.torch.record`, so the hidden layers of a linear network are captured too.
    """

    is_activation = True


def _activation_module(activation: str) -> nn.Module:
    return {
        "relu": nn.ReLU,
        "abs": Abs,
        "tanh": nn.Tanh,
        "leaky_relu": lambda: nn.LeakyReLU(LEAKY_SLOPE),
        "linear": Identity,
    }[activation]()


def _activation_name(activation: str) -> str:
    return "identity" if activation == "linear" else activation


def init_gain(activation: str) -> float:
    """Second-moment-preserving gain of an activation (the factor in He/Kaiming initialisation).

    Parameters
    ----------
    activation : {"relu", "abs", "tanh", "leaky_relu", "linear"}

    Returns
    -------
    float
        ``sqrt(2)`` for ReLU, ``sqrt(2 / (1 + 0.01**2))`` for leaky ReLU, ``5/3`` for tanh (torch's
        ``calculate_gain``), 1 for ``abs`` (``E[|x|^2] = E[x^2]``: nothing to compensate) and linear.

    Examples
    --------
    >>> round(init_gain("relu") ** 2, 6)
    2.0
    """
    check_choice("activation", activation, ACTIVATIONS)
    if activation == "abs":
        return 1.0
    if activation == "leaky_relu":
        return nn.init.calculate_gain("leaky_relu", LEAKY_SLOPE)
    return nn.init.calculate_gain(activation)


def _check_widths(widths: Any) -> list[int]:
    if isinstance(widths, (str, bytes)) or not isinstance(widths, Sequence):
        raise InvalidParameterError(
            f"widths must be a sequence of layer sizes [d_in, h1, ..., d_out], got {widths!r}."
        )
    out = [check_int(f"widths[{i}]", w, minimum=1) for i, w in enumerate(widths)]
    if len(out) < 2:
        raise InvalidParameterError(
            f"widths needs at least an input and an output size ([d_in, d_out]), got {list(widths)!r}."
        )
    return out  # type: ignore[return-value]


def mlp(
    widths: Sequence[int],
    activation: str = "relu",
    init: str = "kaiming",
    weight_std: float | None = None,
    bias_std: float = 0.0,
    bias: bool = True,
    seed: int | None = None,
) -> nn.Sequential:
    """A fully connected network with named layers and a seeded, documented initialisation.

    Parameters
    ----------
    widths : sequence of int
        ``[d_in, h_1, ..., h_l, d_out]``: input size, hidden widths, output size.
    activation : {"relu", "abs", "tanh", "leaky_relu", "linear"}
        Applied after every hidden layer, not after the output layer. ``"abs"`` is ``|x|``
        (:class:`Abs`), ``"leaky_relu"`` has negative slope 0.01, ``"linear"`` is the identity
        (:class:`Identity`: a deep linear network whose hidden layers can still be captured).
    init : {"kaiming", "xavier", "normal"}
        Weight distribution, always a centred normal with standard deviation
        ``"kaiming"``: ``gain / sqrt(fan_in)`` with ``gain = init_gain(activation)`` (He et al.
        2015; ``sqrt(2)`` for ReLU), for every layer; ``"xavier"``: ``sqrt(2 / (fan_in + fan_out))``
        (Glorot & Bengio 2010, gain 1); ``"normal"``: ``weight_std / sqrt(fan_in)``.
    weight_std : float, optional
        Required with ``init="normal"`` (and only allowed there): the weight scale
        ``sigma_w`` in ``W_ij ~ N(0, sigma_w^2 / fan_in)``.
    bias_std : float
        Biases are drawn from ``N(0, bias_std^2)``; 0 (default) gives zero biases.
    bias : bool
        Whether the linear layers have biases.
    seed : int, optional
        Seed of the private ``torch.Generator`` used for every draw; the global torch random state
        is neither read nor changed. None draws a fresh seed from the operating system.

    Returns
    -------
    torch.nn.Sequential
        Float32 modules named ``fc1, <act>1, fc2, <act>2, ..., fc<L>`` where ``<act>`` is
        ``relu``, ``abs``, ``tanh``, ``leaky_relu`` or ``identity``, and ``L = len(widths) - 1``.

    Raises
    ------
    InvalidParameterError
        Fewer than two widths, a non-positive width, an unknown activation or init, ``weight_std``
        missing for ``init="normal"`` or given for another init, a negative ``bias_std``.

    Notes
    -----
    With ``fan_in = widths[k-1]`` and ``fan_out = widths[k]`` for layer ``k``, the weights of
    ``fc<k>`` are ``W ~ N(0, s_k^2)`` with ``s_k`` as listed under ``init``, and its biases
    ``b ~ N(0, bias_std^2)``. Layers are created with ``torch.nn.utils.skip_init`` so torch's
    default (global-RNG) initialisation never runs.

    References
    ----------
    .. [1] K. He, X. Zhang, S. Ren, J. Sun, "Delving deep into rectifiers", ICCV (2015).
    .. [2] X. Glorot, Y. Bengio, "Understanding the difficulty of training deep feedforward
       neural networks", AISTATS (2010).

    Examples
    --------
    >>> net = mlp([4, 8, 3], seed=0)
    >>> [name for name, _ in net.named_children()]
    ['fc1', 'relu1', 'fc2']
    >>> net(torch.zeros(2, 4)).shape
    torch.Size([2, 3])
    """
    sizes = _check_widths(widths)
    check_choice("activation", activation, ACTIVATIONS)
    check_choice("init", init, INITS)
    if init == "normal":
        if weight_std is None:
            raise InvalidParameterError("init='normal' needs weight_std (weights are N(0, weight_std^2 / fan_in)).")
        check_float("weight_std", weight_std, 0.0)
    elif weight_std is not None:
        raise InvalidParameterError(
            f"weight_std is used only with init='normal'; init={init!r} sets the scale itself. "
            "Pass init='normal' to choose the scale."
        )
    check_float("bias_std", bias_std, 0.0)
    if not isinstance(bias, (bool, np.bool_)):
        raise InvalidParameterError(f"bias must be True or False, got {bias!r}.")
    seed = check_int("seed", seed, minimum=0, allow_none=True)
    if seed is None:
        seed = int(np.random.SeedSequence().generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))
    gen = torch.Generator(device="cpu").manual_seed(seed)
    gain = init_gain(activation)
    layers: OrderedDict[str, nn.Module] = OrderedDict()
    n_layers = len(sizes) - 1
    for k in range(1, n_layers + 1):
        fan_in, fan_out = sizes[k - 1], sizes[k]
        linear = torch.nn.utils.skip_init(nn.Linear, fan_in, fan_out, bias=bool(bias))
        if init == "kaiming":
            std = gain / math.sqrt(fan_in)
        elif init == "xavier":
            std = math.sqrt(2.0 / (fan_in + fan_out))
        else:
            std = float(weight_std) / math.sqrt(fan_in)  # type: ignore[arg-type]
        with torch.no_grad():
            linear.weight.copy_(torch.randn(fan_out, fan_in, generator=gen) * std)
            if linear.bias is not None:
                linear.bias.copy_(torch.randn(fan_out, generator=gen) * float(bias_std))
        layers[f"fc{k}"] = linear
        if k < n_layers:
            layers[f"{_activation_name(activation)}{k}"] = _activation_module(activation)
    return nn.Sequential(layers)


# ------------------------------------------------------------------------------ demo network
_DEMO_KEYS = ("state_dict", "widths", "activation", "probe_inputs", "probe_labels", "probe_accuracy")


def demo_network_path() -> Path:
    """Where the bundled demo network lives (``data/demo_network.pt``, or inside an installed wheel)."""
    from neurocomplex._bundled import bundled_path

    return bundled_path("demo_network.pt")


def _load_demo_file(path: str | Path | None) -> dict[str, Any]:
    file = demo_network_path() if path is None else Path(path)
    if not file.exists():
        raise MissingFileError(
            f"demo network file not found: {file}. It is made by data/make_demo_network.py "
            "(python data/make_demo_network.py) in a source checkout; pass path= to use another copy."
        )
    try:
        content = torch.load(file, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many types for unreadable or unsafe files
        raise CorruptFileError(f"{file} is not a readable demo network file ({type(err).__name__}: {err}).") from err
    if not isinstance(content, dict) or any(k not in content for k in _DEMO_KEYS):
        have = sorted(content) if isinstance(content, dict) else type(content).__name__
        raise CorruptFileError(
            f"{file} lacks the demo network fields {list(_DEMO_KEYS)} (found {have}); "
            "regenerate it with data/make_demo_network.py."
        )
    return content


def load_demo_network(path: str | Path | None = None) -> nn.Sequential:
    """The bundled digits classifier: a trained 64-64-32-10 ReLU MLP, in eval mode.

    Parameters
    ----------
    path : str or Path, optional
        File written by ``data/make_demo_network.py``; default :func:`demo_network_path`.

    Returns
    -------
    torch.nn.Sequential
        Built with :func:`mlp` from the stored widths and activation, the trained weights loaded.
        Inputs are 8x8 digit images flattened to 64 pixels and divided by 16 (values in [0, 1]).

    Raises
    ------
    MissingFileError
        The file does not exist.
    CorruptFileError
        The file cannot be read safely (``torch.load(weights_only=True)``) or lacks fields.

    Examples
    --------
    >>> net = load_demo_network()
    >>> x, labels = load_demo_probe()
    >>> x.shape, [name for name, _ in net.named_children()]
    (torch.Size([500, 64]), ['fc1', 'relu1', 'fc2', 'relu2', 'fc3'])
    >>> float((net(x).argmax(1) == labels).float().mean()) > 0.9
    True
    """
    content = _load_demo_file(path)
    model = mlp([int(w) for w in content["widths"]], activation=str(content["activation"]), seed=0)
    try:
        model.load_state_dict(content["state_dict"])
    except (RuntimeError, KeyError) as err:
        raise CorruptFileError(f"the weights in {path or demo_network_path()} do not fit the stored architecture: {err}") from err
    return model.eval()


def load_demo_probe(path: str | Path | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The probe batch stored with the demo network: held-out digits and their labels.

    Parameters
    ----------
    path : str or Path, optional
        As in :func:`load_demo_network`.

    Returns
    -------
    inputs : torch.Tensor
        float32, shape ``(n_probe, 64)``, pixels divided by 16.
    labels : torch.Tensor
        int64, shape ``(n_probe,)``, digit classes 0-9.

    Raises
    ------
    MissingFileError, CorruptFileError
        As in :func:`load_demo_network`.
    """
    content = _load_demo_file(path)
    return content["probe_inputs"].to(torch.float32), content["probe_labels"].to(torch.int64)


def _read_weights(file: Path) -> Any:
    """``torch.load(weights_only=True)`` with named errors: absent, unreadable, or holding code."""
    import pickle

    if not file.is_file():
        raise MissingFileError(f"weights file not found: {file}.")
    try:
        return torch.load(file, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        import zipfile

        with open(file, "rb") as fh:
            pickled = fh.read(1) == b"\x80"  # torch's legacy format starts with a pickle
        if not (zipfile.is_zipfile(file) or pickled):
            raise CorruptFileError(f"{file} is not a torch weights file (neither torch's zip format nor a "
                                   f"pickle): {err}") from err
        raise InvalidDataError(
            f"{file} holds objects that cannot be loaded safely (weights_only=True), e.g. a whole model saved with "
            "torch.save(model); neurocomplex loads only state dicts: save model.state_dict() and pass the "
            f"architecture to load_model. ({err})"
        ) from err
    except Exception as err:  # torch raises many types for files that are not torch files
        raise CorruptFileError(f"{file} is not a readable torch weights file ({type(err).__name__}: {err}).") from err


def load_model(path: str | Path, architecture: Any = None) -> nn.Module:
    """A network from a weights file given by a user, loaded safely (never runs code from the file).

    Parameters
    ----------
    path : str or Path
        A file written by ``torch.save(model.state_dict(), path)``, or a dict holding
        ``"state_dict"`` (and, without ``architecture``, ``"widths"`` and ``"activation"`` as in
        the bundled ``demo_network.pt``).
    architecture : torch.nn.Module or callable, optional
        The network to load the weights into: a module, or a function of no arguments returning
        one. Default: an :func:`mlp` built from the file's ``widths`` and ``activation``.

    Returns
    -------
    torch.nn.Module
        The network with the weights loaded (strictly: every key must match), in eval mode, on
        the CPU.

    Raises
    ------
    MissingFileError
        No file at ``path``.
    CorruptFileError
        The file is not a torch file at all.
    InvalidDataError
        The file is not a state dict (a tensor, a list, a pickled model that ``weights_only=True``
        refuses), or its weights do not fit ``architecture`` (the message lists missing and
        unexpected keys or the first shape mismatch).
    InvalidParameterError
        No ``architecture`` and the file does not say which to build; ``architecture`` not a
        module or a function returning one.

    Notes
    -----
    ``torch.load(..., weights_only=True)`` unpickles only tensors and plain containers, so a
    weights file from an untrusted source cannot execute code.

    Examples
    --------
    >>> import tempfile, os, torch
    >>> net = mlp([4, 3, 2], seed=0)
    >>> path = os.path.join(tempfile.mkdtemp(), "w.pt")
    >>> torch.save(net.state_dict(), path)
    >>> again = load_model(path, architecture=lambda: mlp([4, 3, 2], seed=1))
    >>> bool(torch.equal(again.fc1.weight, net.fc1.weight))
    True
    """
    file = Path(path)
    content = _read_weights(file)
    state = content.get("state_dict", content) if isinstance(content, dict) else content
    if not isinstance(state, dict) or not state or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
    ):
        what = type(state).__name__ if not isinstance(state, dict) else (
            "an empty dict" if not state else f"a dict with keys {sorted(map(str, state))[:6]} not all tensors")
        raise InvalidDataError(
            f"{file} is not a state dict (parameter name -> tensor); it holds {what}. Save the weights with "
            "torch.save(model.state_dict(), path)."
        )
    if architecture is None:
        if not (isinstance(content, dict) and "widths" in content and "activation" in content):
            raise InvalidParameterError(
                f"{file} holds weights only; say which network they belong to: architecture= in Python (a torch "
                "module or a function returning one), --architecture FILE.py:FUNCTION on the command line."
            )
        model = mlp([int(w) for w in content["widths"]], activation=str(content["activation"]), seed=0)
    elif isinstance(architecture, nn.Module):
        model = architecture
    elif callable(architecture):
        model = architecture()
        if not isinstance(model, nn.Module):
            raise InvalidParameterError(f"architecture() returned {type(model).__name__}, not a torch module.")
    else:
        raise InvalidParameterError(
            f"architecture must be a torch module or a function returning one, got {type(architecture).__name__}."
        )
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as err:
        raise InvalidDataError(f"the weights in {file} do not fit the given architecture: {err}") from err
    return model.cpu().eval()


def architecture_from_spec(spec: str) -> Any:
    """The function named by ``"FILE.py:FUNCTION"`` or ``"package.module:FUNCTION"``.

    This imports and runs code: the file's module-level statements run when it is loaded, and the
    function runs when :func:`load_model` calls it. Give only code you trust (the weights file,
    unlike this, runs nothing).

    Parameters
    ----------
    spec : str
        ``path/to/file.py:function_name`` (a Python file) or ``package.module:function_name`` (an
        importable module); the function takes no arguments and returns a ``torch.nn.Module``.

    Returns
    -------
    callable
        The function (pass it to :func:`load_model` as ``architecture``).

    Raises
    ------
    InvalidParameterError
        ``spec`` without ``:FUNCTION``, a module or file that does not exist or fails to import
        (the message carries the error), or a name that is not a callable in it.

    Examples
    --------
    >>> build = architecture_from_spec("neurocomplex.torch.models:Abs")
    >>> build()
    Abs()
    """
    import importlib
    import importlib.util

    if not isinstance(spec, str) or spec.count(":") < 1 or not spec.rpartition(":")[2].isidentifier():
        raise InvalidParameterError(
            f"architecture {spec!r} must read FILE.py:FUNCTION or package.module:FUNCTION (a function of no "
            "arguments returning the torch.nn.Module the weights belong to)."
        )
    where, _, name = spec.rpartition(":")
    try:
        if where.endswith(".py"):
            path = Path(where).expanduser()
            if not path.is_file():
                raise InvalidParameterError(f"architecture file {path} does not exist.")
            module_spec = importlib.util.spec_from_file_location(f"_neurocomplex_architecture_{path.stem}", path)
            if module_spec is None or module_spec.loader is None:
                raise InvalidParameterError(f"architecture file {path} cannot be loaded as Python.")
            module = importlib.util.module_from_spec(module_spec)
            module_spec.loader.exec_module(module)
        else:
            module = importlib.import_module(where)
    except InvalidParameterError:
        raise
    except Exception as err:  # the user's code: any failure is reported, named, with its cause
        raise InvalidParameterError(f"architecture {spec!r}: importing {where} failed: "
                                    f"{type(err).__name__}: {err}") from err
    func = getattr(module, name, None)
    if not callable(func):
        raise InvalidParameterError(f"architecture {spec!r}: {where} has no function {name!r}.")
    return func

