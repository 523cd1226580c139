"""Fragility: how strongly a network's output moves under small random input perturbations (MEASURES.md §7)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import nn

from neurocomplex._validation import check_float, check_int
from neurocomplex.errors import InsufficientDataError, InvalidDataError, InvalidParameterError
from neurocomplex.estimate import Estimate, check_bootstrap_params

__all__ = ["fragility"]

# Perturbed inputs evaluated per forward pass (bounds memory for large probe sets).
_CHUNK = 4096


def _modes(model: nn.Module) -> list[tuple[nn.Module, bool]]:
    return [(m, m.training) for m in model.modules()]


def _restore_modes(saved: list[tuple[nn.Module, bool]]) -> None:
    for module, training in saved:
        module.training = training


def fragility(
    model: nn.Module,
    inputs: Any,
    eps: float = 1e-3,
    n_directions: int = 16,
    seed: int = 0,
    n_boot: int = 0,
    ci_level: float = 0.95,
) -> Estimate:
    """Mean output change per unit input change under small random isotropic perturbations.

    Parameters
    ----------
    model : torch.nn.Module
        The network f. Evaluated in eval mode under ``torch.no_grad``; its train/eval modes,
        parameters and buffers are the same afterwards.
    inputs : torch.Tensor or numpy.ndarray
        Inputs x, shape ``(n_inputs, ...)``; each is perturbed in its full flattened input space.
    eps : float
        Norm ||δ|| of every perturbation. In float32 keep it well above 1e-5 relative to the
        input scale (round-off).
    n_directions : int
        Random directions per input.
    seed : int
        Seed of a local ``torch.Generator`` (the global generators are never used).
    n_boot : int
        Bootstrap replicates over inputs for the interval (0: none).
    ci_level : float
        Coverage of the interval.

    Returns
    -------
    Estimate
        ``value`` = mean over inputs and directions of ||f(x + δ) − f(x)|| / ||δ||.
        ``diagnostics``: ``squared`` (mean of ||f(x + δ) − f(x)||² / ||δ||²), ``per_input``
        (mean ratio per input, numpy), ``sem`` (standard error of the value over inputs),
        ``squared_sem``, ``eps``, ``n_directions``, ``input_dim``, ``output_dim``.
        ``n_samples`` is the number of inputs, ``n_units`` the output dimension.

    Raises
    ------
    InvalidParameterError
        ``model`` is not a module, bad ``eps``, ``n_directions``, ``seed``, ``n_boot`` or ``ci_level``.
    InvalidDataError
        ``inputs`` contain NaN or inf, or are not a tensor/array with a batch axis.
    InsufficientDataError
        No inputs.

    Notes
    -----
    fragility = E_x E_δ ||f(x + δ) − f(x)|| / ||δ||, with x the rows of ``inputs``, δ uniform on
    the sphere of radius ε = ``eps`` in the flattened input space (a normalised Gaussian draw),
    and ``n_directions`` draws per input. For small ε this is the mean of ||J(x) u|| over unit
    directions u, and the squared form is E||J u||² = ||J(x)||_F² / d_in exactly (d_in the input
    dimension): a local, direction-averaged Lipschitz constant. The definition is the project's,
    after Nakazato (2024), who relates fragility to the training response.

    References
    ----------
    .. [1] K. Nakazato, "A simple theory for training response of deep neural networks",
       arXiv:2405.04074 (2024).

    Examples
    --------
    >>> import torch, neurocomplex as nc
    >>> lin = torch.nn.Linear(4, 4, bias=False)
    >>> with torch.no_grad():
    ...     _ = lin.weight.copy_(2.0 * torch.eye(4))     # doubles every direction
    >>> est = nc.torch.fragility(lin, torch.zeros(10, 4))
    >>> round(est.value, 4), round(est.diagnostics["squared"], 4)
    (2.0, 4.0)
    """
    if not isinstance(model, nn.Module):
        raise InvalidParameterError(f"model must be a torch.nn.Module, got {type(model).__name__}.")
    eps = check_float("eps", eps, 0.0, low_open=True)
    n_directions = check_int("n_directions", n_directions, minimum=1)
    seed = check_int("seed", seed, minimum=0)
    check_bootstrap_params(n_boot, ci_level, None)
    if isinstance(inputs, np.ndarray):
        inputs = torch.from_numpy(inputs)
    if not isinstance(inputs, torch.Tensor) or inputs.ndim < 2:
        raise InvalidDataError(
            "inputs must be a tensor or array of shape (n_inputs, ...) with a batch axis; "
            f"got {type(inputs).__name__}{'' if not hasattr(inputs, 'shape') else tuple(inputs.shape)}."
        )
    if inputs.shape[0] == 0:
        raise InsufficientDataError("inputs hold no samples; fragility needs at least one input.")
    param = next(iter(list(model.parameters()) + list(model.buffers())), None)
    device = param.device if param is not None else inputs.device
    dtype = param.dtype if param is not None and param.is_floating_point() else torch.float32
    x = inputs.to(device=device, dtype=dtype)
    if not torch.isfinite(x).all():
        raise InvalidDataError("inputs contain NaN or inf; fragility needs finite inputs.")
    n, shape = x.shape[0], tuple(x.shape[1:])
    d_in = math.prod(shape)

    # Directions are drawn on the CPU from a local generator, so results do not depend on the device.
    gen = torch.Generator().manual_seed(seed)
    delta = torch.randn(n, n_directions, d_in, generator=gen, dtype=torch.float64)
    delta = delta / torch.linalg.vector_norm(delta, dim=2, keepdim=True) * eps
    delta = delta.to(device=device, dtype=dtype)
    true_norm = torch.linalg.vector_norm(delta.double(), dim=2)  # ||δ|| after the cast

    saved = _modes(model)
    try:
        model.eval()
        with torch.no_grad():
            base = model(x).reshape(n, -1)
            perturbed = (x.reshape(n, 1, d_in) + delta).reshape(n * n_directions, *shape)
            outs = [model(perturbed[i: i + _CHUNK]).reshape(-1, base.shape[1])
                    for i in range(0, perturbed.shape[0], _CHUNK)]
            out = torch.cat(outs).reshape(n, n_directions, -1)
            change = torch.linalg.vector_norm((out - base[:, None, :]).double(), dim=2)
    finally:
        _restore_modes(saved)
    ratio = (change / true_norm).cpu().numpy()
    per_input = ratio.mean(axis=1)
    per_input_sq = (ratio**2).mean(axis=1)
    value = float(per_input.mean())
    squared = float(per_input_sq.mean())

    def sem(values: np.ndarray) -> float:
        # Inputs are the independent units; with a single input, the spread over its directions.
        v = values.mean(axis=1) if n > 1 else values[0]
        return float(v.std(ddof=1) / math.sqrt(v.size)) if v.size > 1 else math.nan

    ci = None
    if n_boot:
        from neurocomplex.estimate import bootstrap_ci

        ci, _ = bootstrap_ci(lambda idx: float(per_input[idx].mean()), n, n_boot=n_boot, seed=seed,
                             ci_level=ci_level)
    diagnostics = {
        "squared": squared,
        "per_input": per_input,
        "sem": sem(ratio),
        "squared_sem": sem(ratio**2),
        "eps": eps,
        "n_directions": n_directions,
        "input_dim": d_in,
        "output_dim": int(base.shape[1]),
    }
    params = {"eps": eps, "n_directions": n_directions, "seed": seed, "n_boot": n_boot, "ci_level": ci_level}
    return Estimate(value=value, ci=ci, method="random_isotropic", params=params, n_samples=n,
                    n_units=int(base.shape[1]), diagnostics=diagnostics)
