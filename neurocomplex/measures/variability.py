"""Landscape variability and collapse to constants of networks (MEASURES.md §6).

Yu & Zhang (arXiv:2105.08911) relate the trainability of multi-layer perceptrons to the
*variability* of the function they compute at random weights (how often it changes its linear
regime along a path in input space) and to its *collapse to constants* (C2C) with depth. The two
observables below are the project's definitions after Yu & Zhang (2021); see the Notes of each.
Linear pieces are counted exactly by :mod:`neurocomplex.measures._pwl`. torch is imported only
when a network is handed in.
"""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from neurocomplex.errors import (
    InsufficientDataError,
    InvalidDataError,
    InvalidParameterError,
    NeurocomplexWarning,
)
from neurocomplex.estimate import Estimate, bootstrap_ci, check_bootstrap_params, register_estimator
from neurocomplex.measures import _pwl

__all__ = ["variability", "collapse_to_constants"]

_INITS = ("kaiming", "xavier", "lecun", None)


def _check_count(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise InvalidParameterError(f"{name} must be a positive integer, got {value!r}.")
    return int(value)


def _to_numpy(x: Any, name: str, keep_shape: bool = False) -> np.ndarray:
    if _pwl.is_torch_module(x):
        raise InvalidParameterError(f"{name} must be an array of inputs, got a torch module.")
    if hasattr(x, "detach"):  # torch tensor
        x = x.detach().to("cpu").double().numpy()
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise InvalidDataError(f"{name} must be a numeric array of shape (n_inputs, ...): {err}") from err
    if arr.ndim < 2:
        raise InvalidDataError(f"{name} must have shape (n_inputs, n_features), got shape {arr.shape}.")
    flat = arr.reshape(arr.shape[0], -1)
    if not np.all(np.isfinite(flat)):
        row = int(np.argmax(~np.all(np.isfinite(flat), axis=1)))
        raise InvalidDataError(f"{name} contains NaN or inf (first in input row {row}); remove or impute those rows.")
    return arr if keep_shape else flat


def _redraw(net: _pwl.PiecewiseLinearNet, init: str, rng: np.random.Generator) -> _pwl.PiecewiseLinearNet:
    """The same architecture with Gaussian weights of the named scale and zero biases."""
    weights = []
    for layer in net.layers:
        if layer[0] != "affine":
            continue
        fan_out, fan_in = layer[1].shape
        var = {"kaiming": 2.0 / fan_in, "xavier": 2.0 / (fan_in + fan_out), "lecun": 1.0 / fan_in}[init]
        weights.append((rng.normal(0.0, math.sqrt(var), size=(fan_out, fan_in)), np.zeros(fan_out)))
    return net.with_weights(weights)


def _draw_nets(model_or_factory: Any, n_draws: int, init: str | None, seed: int,
               activations: Mapping[Any, Any] | None) -> list[_pwl.PiecewiseLinearNet]:
    if _pwl.is_torch_module(model_or_factory):
        base = _pwl.parse_network(model_or_factory, activations)
        if init is None:
            return [base]
        children = np.random.SeedSequence(seed).spawn(n_draws)
        return [_redraw(base, init, np.random.default_rng(child)) for child in children]
    if not callable(model_or_factory):
        raise InvalidParameterError(
            "model_or_factory must be a torch network or a callable factory(seed) -> network, got "
            f"{type(model_or_factory).__name__}."
        )
    nets = []
    for d in range(n_draws):
        model = model_or_factory(seed + d)
        if not _pwl.is_torch_module(model):
            raise InvalidParameterError(
                f"factory({seed + d}) returned {type(model).__name__}, not a torch network."
            )
        nets.append(_pwl.parse_network(model, activations))
    return nets


def _lines(n_lines: int, n_in: int, inputs: Any, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, str]:
    """Start points and directions of the segments x0 + t v, t in [0, 1]."""
    if inputs is not None:
        x = np.unique(_to_numpy(inputs, "inputs"), axis=0)
        if x.shape[1] != n_in:
            raise InvalidDataError(f"inputs have {x.shape[1]} features but the network takes {n_in}.")
        if x.shape[0] < 2:
            raise InsufficientDataError("inputs need at least two distinct rows to draw lines through pairs of them.")
        i = rng.integers(0, x.shape[0], size=n_lines)
        j = (i + rng.integers(1, x.shape[0], size=n_lines)) % x.shape[0]  # j != i
        return x[i], x[j] - x[i], "pairs_of_inputs"
    if n_in == 1:
        return np.full((n_lines, 1), -1.0), np.full((n_lines, 1), 2.0), "unit_sphere_chords"
    ends = rng.normal(size=(2, n_lines, n_in))
    ends /= np.linalg.norm(ends, axis=2, keepdims=True)
    return ends[0], ends[1] - ends[0], "unit_sphere_chords"


@register_estimator(
    family="variability",
    input="function",
    invalid_params=({"n_lines": 0}, {"n_draws": 0}, {"init": "orthogonal"}, {"n_boot": -1}),
    bounds=(1.0, math.inf),
)
def variability(
    model_or_factory: Any,
    n_lines: int = 100,
    n_draws: int = 10,
    inputs: Any = None,
    init: str | None = "kaiming",
    seed: int = 0,
    *,
    n_boot: int = 200,
    ci_level: float = 0.95,
    tol: float = 1e-9,
    max_pieces: int = 2_000_000,
    activations: Mapping[Any, Any] | None = None,
) -> Estimate:
    """Mean number of linear pieces of a network along random segments, over weight draws.

    Parameters
    ----------
    model_or_factory : torch.nn.Module or callable
        A network of Linear layers and piecewise-linear activations (ReLU, LeakyReLU, PReLU,
        Hardtanh, |x| as a module named ``Abs``, Identity), or a factory ``factory(seed) -> network``
        called with ``seed, seed + 1, ..., seed + n_draws - 1``.
    n_lines : int
        Number of random segments per weight draw (the same segments for every draw).
    n_draws : int
        Number of weight draws.
    inputs : array-like, optional
        ``(n_inputs, n_features)`` data: each segment joins two distinct random rows. Without it,
        each segment joins two independent uniform points of the unit sphere (a random chord of
        the unit ball).
    init : {"kaiming", "xavier", "lecun", None}
        For a module: its weights are redrawn for each draw, Gaussian with variance 2/fan_in
        ("kaiming", He et al. 2015), 2/(fan_in + fan_out) ("xavier") or 1/fan_in ("lecun"), biases
        0 (on float64 copies: the module is never modified). None: the module's own weights
        (trained, say), one draw, whatever ``n_draws`` is. Ignored for a factory.
    seed : int
        Seed of the segments and of the weight draws.
    n_boot, ci_level : int, float
        Bootstrap replicates (0: no interval) and coverage; draws are resampled (segments when
        there is a single draw).
    tol : float
        Breakpoints closer than ``tol`` (in the segment parameter t in [0, 1]) are merged.
    max_pieces : int
        Memory limit on the number of pieces held at once.
    activations : mapping, optional
        Extra piecewise-linear modules, as in :func:`neurocomplex.laps`.

    Returns
    -------
    Estimate
        ``value``: mean number of pieces per segment (>= 1). ``diagnostics``: ``pieces``
        (n_draws x n_lines counts), ``per_draw_mean``, ``std``, ``quantiles`` (5, 25, 50, 75, 95 %),
        ``output_pieces`` (n_draws x n_lines affine pieces of the output, neighbours with the same
        map merged), ``hidden_widths``, ``lines`` ("pairs_of_inputs" or "unit_sphere_chords").
        ``n_samples`` = n_draws x n_lines, ``n_units`` = number of hidden units.

    Raises
    ------
    InvalidParameterError
        Bad counts or init, a non-callable, or a network that is not piecewise linear.
    InvalidDataError
        ``inputs`` malformed or of the wrong width.
    InsufficientDataError
        Fewer than two distinct inputs, or more than ``max_pieces`` pieces.

    Notes
    -----
    The project's definition after Yu & Zhang (2021): for a segment x(t) = x0 + t v, t in [0, 1],
    the number of pieces is 1 + the number of points t where some hidden unit's pre-activation
    crosses a kink of its activation, i.e. the number of cells of constant activation pattern
    that the segment crosses (pieces of the vector-valued map, all units and outputs together).
    A kink is a point where the activation's slope changes: LeakyReLU(1.0) or PReLU with slope 1
    is the identity, has none, and adds no pieces.
    Counts are exact: pre-activations are affine in t on each piece and are split at their zero
    crossings layer by layer. The value is the mean over ``n_lines`` segments and ``n_draws`` draws.
    A linear network has exactly 1 piece per segment.

    References
    ----------
    Y. Yu, Y. Zhang, "Variability of artificial neural networks" / "Multi-layer perceptron
    trainability explained via variability", arXiv:2105.08911.
    K. He, X. Zhang, S. Ren, J. Sun, "Delving deep into rectifiers", ICCV (2015).

    Examples
    --------
    >>> import torch, neurocomplex as nc
    >>> net = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
    >>> est = nc.variability(net, n_lines=20, n_draws=3, n_boot=0)
    >>> 1.0 <= est.value <= 9.0, est.diagnostics["pieces"].shape
    (True, (3, 20))
    """
    n_lines = _check_count("n_lines", n_lines)
    n_draws = _check_count("n_draws", n_draws)
    if init not in _INITS:
        raise InvalidParameterError(f"init={init!r} is not one of {_INITS}.")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise InvalidParameterError(f"seed must be an integer, got {seed!r}.")
    check_bootstrap_params(n_boot, ci_level, None)
    if not (isinstance(tol, (int, float)) and 0 < tol < 1e-2):
        raise InvalidParameterError(f"tol must lie in (0, 0.01), got {tol!r}.")
    _check_count("max_pieces", max_pieces)
    nets = _draw_nets(model_or_factory, n_draws, init, int(seed), activations)
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 1]))
    x0, v, line_kind = _lines(n_lines, nets[0].n_in, inputs, rng)
    pieces = np.empty((len(nets), n_lines), dtype=np.int64)
    out_pieces = np.empty_like(pieces)
    for d, net in enumerate(nets):
        if net.n_in != x0.shape[1]:
            raise InvalidParameterError(f"draw {d} has {net.n_in} inputs, draw 0 has {x0.shape[1]}.")
        seg = _pwl.initial_segments(x0, v, np.zeros(n_lines), np.ones(n_lines))
        seg = _pwl.propagate(net, seg, float(tol), int(max_pieces))
        pieces[d] = seg.pieces_per_line(n_lines)
        out_pieces[d] = _pwl.merge_affine(seg).pieces_per_line(n_lines)
    per_draw = pieces.mean(axis=1)
    value = float(pieces.mean())
    if len(nets) > 1:
        ci, reps = bootstrap_ci(lambda idx: float(per_draw[idx].mean()), len(nets), n_boot, seed, ci_level=ci_level)
    else:
        ci, reps = bootstrap_ci(lambda idx: float(pieces[0, idx].mean()), n_lines, n_boot, seed, ci_level=ci_level)
    return Estimate(
        value=value,
        ci=ci,
        method="exact_breakpoints",
        params=dict(n_lines=n_lines, n_draws=len(nets), inputs=None if inputs is None else "given", init=init,
                    seed=int(seed), n_boot=int(n_boot), ci_level=float(ci_level), tol=float(tol),
                    max_pieces=int(max_pieces)),
        n_samples=int(pieces.size),
        n_units=int(sum(nets[0].hidden_widths)),
        diagnostics=dict(
            pieces=pieces, per_draw_mean=per_draw, std=float(pieces.std()),
            quantiles=np.quantile(pieces, [0.05, 0.25, 0.5, 0.75, 0.95]), output_pieces=out_pieces,
            hidden_widths=nets[0].hidden_widths, lines=line_kind, bootstrap=reps,
        ),
    )


# --------------------------------------------------------------------------- collapse to constants
def _blocks(model: Any, torch: Any) -> list[tuple[Any, list[Any]]]:
    """Split a Sequential at its Linear layers: (the Linear or None, the modules of the block)."""
    if not isinstance(model, torch.nn.Sequential):
        raise InvalidParameterError(
            f"collapse_to_constants needs a torch.nn.Sequential (its layers are read in order), got "
            f"{type(model).__name__}."
        )
    blocks: list[tuple[Any, list[Any]]] = []
    for mod in _pwl._flatten(model, torch):
        if isinstance(mod, torch.nn.Linear):
            blocks.append((mod, [mod]))
        elif blocks:
            blocks[-1][1].append(mod)
        else:
            blocks.append((None, [mod]))
    if not any(lin is not None for lin, _ in blocks):
        raise InvalidParameterError("the network has no Linear layer.")
    return blocks


def _total_variance(h: np.ndarray) -> float:
    return float(np.sum(np.var(h, axis=0)))


@register_estimator(
    family="variability",
    input="function",
    invalid_params=({"rtol": 0.0}, {"rtol": -1.0}, {"rtol": 1.5}),
    bounds=(0.0, math.inf),
)
def collapse_to_constants(model: Any, inputs: Any, rtol: float = 1e-3) -> Estimate:
    """Whether a network maps all inputs to nearly the same output, and where the spread is lost.

    Parameters
    ----------
    model : torch.nn.Sequential
        The network (nested Sequentials are flattened). It is evaluated on a float64 copy in eval
        mode, under ``torch.inference_mode``; the model itself (weights, mode, buffers) and the
        global random state are left untouched.
    inputs : array-like or torch.Tensor
        ``(n_inputs, ...)`` inputs, at least two distinct ones.
    rtol : float
        The network is flagged as collapsed when the relative spread of its output is below rtol,
        and raw-collapsed when its output's across-input standard deviation is below rtol times
        its input's (``raw_product`` < rtol**2).

    Returns
    -------
    Estimate
        ``value``: relative spread of the output, sqrt(V(h_L)) / mean_i ||h_L(x_i)|| (0 for a
        constant output). ``diagnostics``: ``collapsed`` (value < rtol), ``raw_collapsed``
        (``raw_product`` < rtol**2), ``ratios`` (per block, normalised), ``raw_ratios``, ``gains``,
        ``product`` (of the normalised ratios over depth), ``raw_product`` (V(h_L) / V(x)), ``total_variance`` and ``relative_spread`` per block
        (index 0 = the inputs), ``blocks`` (the module names of each block).
        ``n_samples`` = n_inputs, ``n_units`` = output width. ``warnings`` repeats the
        NeurocomplexWarnings raised.

    Warns
    -----
    NeurocomplexWarning
        The output is raw-collapsed but not collapsed (see Notes), or a block's output is
        exactly constant.

    Raises
    ------
    InvalidParameterError
        rtol outside (0, 1), a model that is not a Sequential with a Linear layer.
    InvalidDataError
        Malformed inputs (NaN, wrong shape) or a network that produces non-finite values.
    InsufficientDataError
        Fewer than two inputs or inputs with zero variance.

    Notes
    -----
    The project's definitions after Yu & Zhang (2021). A block is a Linear layer with the modules
    that follow it up to the next Linear layer (activations, dropout, normalisation); modules
    before the first Linear form a block of their own with gain 1. For block j with input h_{j-1}
    and output h_j (rows = inputs), V(h) = trace of the covariance across inputs = sum over units
    of the variance. The layer's own scale is the gain g_j = ||W_j||_F^2 / fan_in, the factor by
    which its weights W_j would multiply V for isotropic inputs; the normalised ratio is
    r_j = V(h_j) / (g_j V(h_{j-1})) (``ratios``): below 1 when the activation or the anisotropy of
    the layer's input loses spread beyond what the weight scale explains. ``product`` =
    prod_j r_j. ``raw_ratios`` are V(h_j) / V(h_{j-1}) and their product V(h_L) / V(x).
    Collapse (C2C): sqrt(V(h_L)) < rtol * mean_i ||h_L(x_i)||, with rtol = ``rtol``.

    Relative and raw collapse. C2C is relative: the output's spread compared with the output's
    own size. It is blind to a network that shrinks everything: a deep tanh network with tiny
    weights and zero biases is nearly linear with a tiny output, so its relative spread stays near
    that of its inputs (about 1, not collapsed) while V(h_L) / V(x) (``raw_product``) falls by
    about the gain g_j at every layer. Raw collapse is the latter: sqrt(V(h_L) / V(x)) < rtol, i.e.
    ``raw_product`` < rtol**2. Since V(h) is half the mean squared distance between the rows of h,
    it says that the root-mean-square distance between the outputs of two inputs is below rtol
    times that between the inputs. When the raw product collapses and the relative spread does
    not, the estimate warns (NeurocomplexWarning, also in ``warnings``); ``value`` and
    ``collapsed`` stay the relative ones. V sums over units, so an output much narrower than the
    input lowers ``raw_product`` by up to the ratio of the widths.

    References
    ----------
    Y. Yu, Y. Zhang, "Variability of artificial neural networks" / "Multi-layer perceptron
    trainability explained via variability", arXiv:2105.08911.

    Examples
    --------
    >>> import torch, neurocomplex as nc
    >>> _ = torch.manual_seed(0)
    >>> net = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))
    >>> est = nc.collapse_to_constants(net, torch.randn(64, 4))
    >>> bool(est.diagnostics["collapsed"]), len(est.diagnostics["ratios"])
    (False, 2)
    """
    if isinstance(rtol, bool) or not isinstance(rtol, (int, float)) or not 0 < rtol < 1:
        raise InvalidParameterError(f"rtol must lie in (0, 1), got {rtol!r}.")
    if not _pwl.is_torch_module(model):
        raise InvalidParameterError(f"model must be a torch.nn.Sequential, got {type(model).__name__}.")
    import torch

    raw = _to_numpy(inputs, "inputs", keep_shape=True)
    n_inputs = raw.shape[0]
    if n_inputs < 2:
        raise InsufficientDataError(f"inputs has {n_inputs} rows; at least two inputs are needed.")
    x_t = torch.from_numpy(raw.copy())
    h = raw.reshape(n_inputs, -1)
    v_in = _total_variance(h)
    if v_in <= 0:
        raise InsufficientDataError("all inputs are identical (zero variance); pass varied inputs.")
    work = copy.deepcopy(model).to(torch.float64).eval()  # eval: dropout off, batch-norm statistics frozen
    blocks = _blocks(work, torch)
    variances, spreads = [v_in], [math.sqrt(v_in) / float(np.mean(np.linalg.norm(h, axis=1)))]
    gains, names = [], []
    current = x_t
    with torch.inference_mode():
        for j, (linear, mods) in enumerate(blocks):
            try:
                for mod in mods:
                    current = mod(current)
            except RuntimeError as err:
                raise InvalidDataError(f"block {j} ({[type(m).__name__ for m in mods]}) failed on the inputs: {err}") from err
            out = current.reshape(n_inputs, -1).numpy()
            if not np.all(np.isfinite(out)):
                raise InvalidDataError(f"block {j} ({[type(m).__name__ for m in mods]}) produced NaN or inf.")
            w = None if linear is None else linear.weight.numpy()
            gains.append(1.0 if w is None else float(np.sum(w**2) / w.shape[1]))
            names.append([type(m).__name__ for m in mods])
            v = _total_variance(out)
            norm = float(np.mean(np.linalg.norm(out, axis=1)))
            variances.append(v)
            spreads.append(0.0 if v == 0 else math.sqrt(v) / norm)
    var = np.array(variances)
    g = np.array(gains)
    with np.errstate(divide="ignore", invalid="ignore"):
        raw = np.where(var[:-1] > 0, var[1:] / var[:-1], np.nan)
        ratios = np.where(g > 0, raw / g, np.nan)
    raw_product = float(var[-1] / var[0])
    product = raw_product / float(np.prod(g)) if np.all(g > 0) else math.nan
    value = spreads[-1]
    collapsed = bool(value < rtol)
    # raw collapse: every input difference shrunk below rtol of its size (variances: rtol**2)
    raw_collapsed = bool(raw_product < rtol**2)
    notes = []
    if np.any(var[1:-1] == 0):
        j = int(np.argmax(var[1:-1] == 0)) + 1
        notes.append(f"block {j - 1} output is exactly constant across inputs; the ratios after it are undefined (NaN).")
    if raw_collapsed and not collapsed:
        notes.append(
            f"the output's across-input variance is {raw_product:.3g} times the input's (raw_product < rtol**2 = "
            f"{rtol**2:.3g}): the network shrinks the differences between inputs by a factor "
            f"{math.sqrt(raw_product):.3g}, yet its relative spread {value:.3g} is not below rtol={rtol:g}, so it is "
            "not flagged as collapsed (the output is small but not constant relative to its own size, as for a deep "
            "net of tiny weights and zero biases). See diagnostics['raw_product'] and the Notes."
        )
    for msg in notes:
        warnings.warn(msg, NeurocomplexWarning, stacklevel=2)
    return Estimate(
        value=float(value),
        ci=None,
        method="relative_spread",
        params=dict(rtol=float(rtol)),
        n_samples=n_inputs,
        n_units=int(out.shape[1]),
        diagnostics=dict(
            collapsed=collapsed, raw_collapsed=raw_collapsed, ratios=ratios, raw_ratios=raw, gains=g,
            product=product, raw_product=raw_product, total_variance=var, relative_spread=np.array(spreads),
            blocks=names,
        ),
        warnings=tuple(notes),
    )

