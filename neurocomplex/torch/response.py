"""Training response, empirical neural tangent kernel, and the aging of the response (MEASURES.md §7).

The training response R(x', x) is how much one gradient step on a batch x moves the network's
output at probe inputs x'. It is computed functionally with ``torch.func``: the model's
parameters, buffers, gradients and grad mode are never touched.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, grad, jacrev, jvp, vmap

from neurocomplex._validation import check_float, check_int
from neurocomplex.errors import InvalidParameterError, NeurocomplexError, NeurocomplexWarning

__all__ = ["training_response", "TrainingResponse", "empirical_ntk", "response_over_training"]


@dataclasses.dataclass(frozen=True, repr=False)
class TrainingResponse:
    """Result of :func:`training_response`: the response of the probe outputs to one step.

    Attributes
    ----------
    response : torch.Tensor
        ``(n_probes, out_dim)``: R(x', x), outputs flattened per probe.
    norm : float
        ||R||_F / sqrt(n_probes): root-mean-square over probes of the per-probe norms.
    probe_norms : torch.Tensor
        ``(n_probes,)``: ||R(x'_i, x)|| per probe.
    loss : float
        L on the batch ``x`` before the step.
    lr : float
        The learning rate of the step.
    linearized : bool
        Whether the first-order (NTK) response was computed.

    Notes
    -----
    Also readable as a mapping, ``out["response"]``, ``out["norm"]``, ... (the form earlier
    versions returned), with ``keys()``, ``in`` and iteration over the field names.
    """

    response: torch.Tensor
    norm: float
    probe_norms: torch.Tensor
    loss: float
    lr: float
    linearized: bool

    def __getitem__(self, key: str) -> Any:
        if key not in self.keys():
            raise KeyError(f"{key!r} is not a field of TrainingResponse (fields: {list(self.keys())}).")
        return getattr(self, key)

    def keys(self) -> tuple[str, ...]:
        """The field names, as a mapping's keys."""
        return tuple(f.name for f in dataclasses.fields(self))

    def __contains__(self, key: object) -> bool:
        return key in self.keys()

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __repr__(self) -> str:
        kind = "linearized" if self.linearized else "finite step"
        return (f"TrainingResponse(norm={self.norm:.6g}, loss={self.loss:.6g}, lr={self.lr:g}, {kind}, "
                f"response shape {tuple(self.response.shape)})")


def _check_model(model: Any) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise InvalidParameterError(f"model must be a torch.nn.Module, got {type(model).__name__}.")
    if not any(p.requires_grad for p in model.parameters()):
        raise InvalidParameterError("model has no trainable parameters (requires_grad=True): nothing responds.")
    return model


def _state(model: nn.Module) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """Trainable params; frozen params and buffers (both detached, never written)."""
    trainable = {n: p.detach() for n, p in model.named_parameters() if p.requires_grad}
    frozen = {n: p.detach() for n, p in model.named_parameters() if not p.requires_grad}
    frozen.update({n: b.detach() for n, b in model.named_buffers()})
    return trainable, frozen


def _fresh(frozen: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    # BatchNorm in train mode updates its running statistics in place: give every call its own
    # copies, made inside the transformed function so that torch.func allows the mutation.
    return {n: t.clone() for n, t in frozen.items()}


def _as_tensor(value: Any, name: str, like: torch.Tensor | None) -> torch.Tensor:
    if isinstance(value, np.ndarray):
        value = torch.from_numpy(value)
    if not isinstance(value, torch.Tensor):
        raise InvalidParameterError(f"{name} must be a torch.Tensor (or numpy array), got {type(value).__name__}.")
    if like is not None:
        value = value.to(device=like.device, dtype=like.dtype if value.is_floating_point() else value.dtype)
    return value


def _reference(model: nn.Module) -> torch.Tensor:
    return next(p for p in model.parameters() if p.requires_grad)


def training_response(
    model: nn.Module,
    loss_fn: Callable[[torch.Tensor, Any], torch.Tensor],
    x: Any,
    y: Any,
    probes: Any,
    lr: float,
    linearized: bool = False,
) -> TrainingResponse:
    """Change of the outputs at probe inputs caused by one gradient step on a batch, per unit lr.

    Parameters
    ----------
    model : torch.nn.Module
        The network f_θ. Left untouched: parameters, buffers, ``.grad`` fields, train/eval mode
        and the global random number generators are the same afterwards.
    loss_fn : callable
        ``loss_fn(outputs, y) -> scalar tensor`` (e.g. ``torch.nn.MSELoss()``).
    x : torch.Tensor
        The training batch the step is taken on.
    y : torch.Tensor or any
        Targets for ``x``, passed to ``loss_fn``.
    probes : torch.Tensor
        Inputs x' at which the response is read, shape ``(n_probes, ...)``.
    lr : float
        Learning rate η of the (plain gradient descent) step.
    linearized : bool
        Return the first-order response −Θ(x', x) ∂L/∂f instead of the finite step.

    Returns
    -------
    TrainingResponse
        A frozen dataclass: ``response``, tensor ``(n_probes, out_dim)`` (outputs flattened per
        probe); ``norm``, float, ||R||_F / sqrt(n_probes) (root-mean-square over probes of the
        per-probe norms); ``probe_norms``, tensor ``(n_probes,)``; ``loss``, float, L on ``x``;
        ``lr``; ``linearized``. Fields are also readable by key (``out["response"]``).

    Raises
    ------
    InvalidParameterError
        ``model`` is not a module or has no trainable parameter; ``lr`` not positive and finite;
        ``x`` or ``probes`` not tensors; ``loss_fn`` does not return a scalar.

    Notes
    -----
    R(x', x) = [f_θ'(x') − f_θ(x')] / η with θ' = θ − η ∇_θ L(f_θ(x), y): θ are the trainable
    parameters of ``model``, η = ``lr``, x = ``x``, x' = ``probes``, L = ``loss_fn``. To first
    order in η, R = −J(x') J(x)^T ∂L/∂f = −Θ(x', x) ∂L/∂f with Θ the empirical neural tangent
    kernel (:func:`empirical_ntk`); ``linearized=True`` computes this as a Jacobian–vector
    product J(x') ∇_θ L, without forming Θ. For a model linear in its parameters the two agree
    exactly.

    Everything is computed with ``torch.func.functional_call`` on detached parameters. The model
    runs in its current mode: with Dropout or BatchNorm in training mode the step uses
    training-mode outputs (batch statistics; dropout masks drawn from a forked generator, so the
    global state is not advanced), and BatchNorm running statistics are updated on copies only.
    Call ``model.eval()`` first for a deterministic response.

    References
    ----------
    .. [1] K. Nakazato, "A simple theory for training response of deep neural networks",
       arXiv:2405.04074 (2024).
    .. [2] K. Nakazato, "The training response law explains how deep neural networks learn",
       arXiv:2204.07291 (2022).

    Examples
    --------
    >>> import torch, neurocomplex as nc
    >>> lin = torch.nn.Linear(2, 1, bias=False)
    >>> with torch.no_grad():
    ...     _ = lin.weight.fill_(1.0)
    >>> x, y = torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0]])
    >>> out = nc.torch.training_response(lin, torch.nn.MSELoss(), x, y, torch.tensor([[1.0, 1.0]]), lr=0.1)
    >>> round(float(out.response[0, 0]), 4)       # dL/dw = (2, 0): probe output drops by 0.2 per unit lr
    -2.0
    >>> out["norm"] == out.norm                     # also readable by key
    True
    """
    model = _check_model(model)
    lr = check_float("lr", lr, 0.0, low_open=True)
    ref = _reference(model)
    x = _as_tensor(x, "x", ref)
    probes = _as_tensor(probes, "probes", ref)
    if isinstance(y, (torch.Tensor, np.ndarray)):
        y = _as_tensor(y, "y", ref)
    params, frozen = _state(model)

    def f(p: dict[str, torch.Tensor], inp: torch.Tensor) -> torch.Tensor:
        return functional_call(model, {**p, **_fresh(frozen)}, (inp,))

    def loss_of(p: dict[str, torch.Tensor]) -> torch.Tensor:
        loss = loss_fn(f(p, x), y)
        if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
            raise InvalidParameterError("loss_fn(outputs, y) must return a scalar tensor (use reduction='mean').")
        return loss.reshape(())

    devices = [ref.device] if ref.device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices), torch.enable_grad():
        grads = grad(loss_of)(params)
        with torch.no_grad():
            loss_value = float(loss_of(params))
        if linearized:
            tangents = {n: -g for n, g in grads.items()}
            _, resp = jvp(lambda p: f(p, probes), (params,), (tangents,))
        else:
            stepped = {n: p - lr * grads[n] for n, p in params.items()}
            with torch.no_grad():
                resp = (f(stepped, probes) - f(params, probes)) / lr
    resp = resp.detach().reshape(resp.shape[0], -1)
    probe_norms = torch.linalg.vector_norm(resp, dim=1)
    norm = float(torch.linalg.vector_norm(resp)) / math.sqrt(max(resp.shape[0], 1))
    return TrainingResponse(response=resp, norm=norm, probe_norms=probe_norms, loss=loss_value, lr=lr,
                            linearized=bool(linearized))


def empirical_ntk(model: nn.Module, x1: Any, x2: Any, flatten: bool = False) -> torch.Tensor:
    """Empirical neural tangent kernel Θ(x1, x2) = J(x1) J(x2)^T of a network at its current parameters.

    Parameters
    ----------
    model : torch.nn.Module
        The network; untouched. Outputs are computed one input at a time, so a model whose output
        for one input depends on the rest of the batch (BatchNorm in training mode) must be in
        eval mode.
    x1 : torch.Tensor
        Inputs, shape ``(n1, ...)``.
    x2 : torch.Tensor
        Inputs, shape ``(n2, ...)``.
    flatten : bool
        Return the ``(n1 * out_dim, n2 * out_dim)`` matrix (row ``i * out_dim + a``) instead of
        the ``(n1, n2, out_dim, out_dim)`` tensor.

    Returns
    -------
    torch.Tensor
        Θ[i, j, a, b] = Σ_θ ∂f_a(x1_i)/∂θ · ∂f_b(x2_j)/∂θ, summed over all trainable parameters.

    Raises
    ------
    InvalidParameterError
        ``model`` is not a module with trainable parameters, or inputs are not tensors.

    Notes
    -----
    J(x) = ∂f_θ(x)/∂θ over the trainable parameters θ, per input, from ``torch.func.jacrev``
    vectorised with ``vmap``; memory grows as (n1 + n2) × out_dim × n_parameters. With it,
    :func:`training_response` satisfies R(x', x) ≈ −Θ(x', x) ∂L/∂f(x) to first order in lr.

    References
    ----------
    .. [1] A. Jacot, F. Gabriel, C. Hongler, "Neural tangent kernel: convergence and
       generalization in neural networks", NeurIPS (2018).
    .. [2] K. Nakazato, "A simple theory for training response of deep neural networks",
       arXiv:2405.04074 (2024).

    Examples
    --------
    >>> import torch, neurocomplex as nc
    >>> lin = torch.nn.Linear(3, 2)
    >>> x = torch.eye(3)
    >>> ntk = nc.torch.empirical_ntk(lin, x, x)       # linear map: Θ = (x1·x2 + 1) I
    >>> tuple(ntk.shape), float(ntk[0, 0, 0, 0]), float(ntk[0, 1, 0, 0]), float(ntk[0, 0, 0, 1])
    ((3, 3, 2, 2), 2.0, 1.0, 0.0)
    """
    model = _check_model(model)
    ref = _reference(model)
    x1 = _as_tensor(x1, "x1", ref)
    x2 = _as_tensor(x2, "x2", ref)
    params, frozen = _state(model)

    def f_one(p: dict[str, torch.Tensor], xi: torch.Tensor) -> torch.Tensor:
        return functional_call(model, {**p, **frozen}, (xi.unsqueeze(0),)).reshape(-1)

    with torch.enable_grad():
        j1 = vmap(jacrev(f_one), (None, 0))(params, x1)
        j2 = vmap(jacrev(f_one), (None, 0))(params, x2)
    ntk = sum(torch.einsum("iaP,jbP->ijab", j1[n].flatten(2), j2[n].flatten(2)) for n in params)
    ntk = ntk.detach()
    if flatten:
        n1, n2, a, b = ntk.shape
        return ntk.permute(0, 2, 1, 3).reshape(n1 * a, n2 * b)
    return ntk


def _log_steps(n_steps: int, n_points: int) -> np.ndarray:
    return np.unique(np.round(np.geomspace(1, n_steps, n_points)).astype(int))


def response_over_training(
    model: nn.Module,
    loss_fn: Callable[[torch.Tensor, Any], torch.Tensor],
    train_step: Callable[[nn.Module, Any], Any],
    data: Iterable[Any],
    probes: Any,
    steps: int = 1000,
    lr: float = 0.01,
    n_points: int = 20,
    reference: Sequence[Any] | None = None,
    fit_from: int = 1,
    n_boot: int = 200,
    seed: int = 0,
) -> dict[str, Any]:
    """Run a training loop and record the size of the training response at log-spaced steps (aging).

    Parameters
    ----------
    model : torch.nn.Module
        The network being trained (by ``train_step``).
    loss_fn : callable
        ``loss_fn(outputs, y) -> scalar`` defining the response (usually the training loss).
    train_step : callable
        ``train_step(model, batch)`` takes one optimizer step on ``batch`` (your own code:
        forward, loss, backward, ``optimizer.step()``); its return value is ignored.
    data : iterable
        Batches handed to ``train_step``; restarted when exhausted (a DataLoader starts a new
        epoch), so ``steps`` may exceed its length.
    probes : torch.Tensor
        Probe inputs x' at which the response is read (fixed over training).
    steps : int
        Number of optimizer steps to run.
    lr : float
        Learning rate η in the definition of R (use your optimizer's learning rate).
    n_points : int
        Number of log-spaced steps at which R is measured (duplicates after rounding dropped).
    reference : (x, y), optional
        Fixed batch the response step is taken on; default the first batch of ``data`` (each
        batch as ``(x, y)``). Keeping it fixed makes the curve show the aging of the network, not
        the variation between batches.
    fit_from : int
        First step included in the power-law fit.
    n_boot, seed
        Bootstrap of the aging exponent (:func:`neurocomplex.fit_power_law`).

    Returns
    -------
    dict
        ``steps`` (int array, the number of optimizer steps taken before each measurement),
        ``response_norm`` (|R| at those steps, see :func:`training_response`), ``loss`` (L on the
        reference batch), ``fit`` (the :func:`~neurocomplex.fit_power_law` Estimate of |R| against
        step from ``fit_from`` on, or None with the reason in ``fit_error``), ``cost`` (seconds
        spent measuring).

    Raises
    ------
    InvalidParameterError
        Bad ``steps``, ``lr``, ``n_points`` or ``fit_from``; ``data`` is empty; a batch is not
        an ``(x, y)`` pair when ``reference`` is not given.

    Notes
    -----
    The aging exponent is β in |R(t)| ≈ A t^−β over optimizer steps t (Nakazato 2024): β ≈ 0 is a
    constant response, β > 0 a response that weakens as training proceeds. Measuring uses
    :func:`training_response`, which leaves the model, its gradients and the random number
    generators as they were, so the training run is the one you would get without measuring.

    References
    ----------
    .. [1] K. Nakazato, "A simple theory for training response of deep neural networks",
       arXiv:2405.04074 (2024).

    Examples
    --------
    >>> import torch, neurocomplex as nc
    >>> g = torch.Generator().manual_seed(0)
    >>> x = torch.randn(64, 3, generator=g); y = x @ torch.tensor([[1.0], [-2.0], [0.5]])
    >>> net = torch.nn.Linear(3, 1)
    >>> with torch.no_grad():
    ...     _ = net.weight.zero_(), net.bias.zero_()
    >>> opt = torch.optim.SGD(net.parameters(), lr=0.05)
    >>> def step(model, batch):
    ...     opt.zero_grad(); torch.nn.functional.mse_loss(model(batch[0]), batch[1]).backward(); opt.step()
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as seen:
    ...     warnings.simplefilter("always")
    ...     out = nc.torch.response_over_training(net, torch.nn.MSELoss(), step, [(x, y)], x[:8],
    ...                                           steps=50, lr=0.05, n_points=10, n_boot=0)
    >>> [str(w.message)[:25] for w in seen]      # the fit says that no power law holds
    ['no power law holds over x']
    >>> out["steps"][:4].tolist(), bool(out["response_norm"][-1] < out["response_norm"][0])
    ([1, 2, 4, 6], True)
    >>> out["fit"].diagnostics["preferred"]      # a linear model converges exponentially: no aging law
    'stretched_exponential'
    """
    model = _check_model(model)
    steps = check_int("steps", steps, minimum=1)
    lr = check_float("lr", lr, 0.0, low_open=True)
    n_points = check_int("n_points", n_points, minimum=2)
    fit_from = check_int("fit_from", fit_from, minimum=1)
    if not callable(train_step):
        raise InvalidParameterError("train_step must be a callable train_step(model, batch).")
    schedule = _log_steps(steps, n_points)
    wanted = set(schedule.tolist())

    def batches() -> Any:
        while True:
            got = False
            for batch in data:
                got = True
                yield batch
            if not got:  # empty, or a one-shot iterator that ran out
                raise InvalidParameterError(
                    "data yielded no (more) batches before `steps` were taken; hand a re-iterable of "
                    "batches (a list or a DataLoader) or lower `steps`."
                )

    stream = batches()
    first_batch = next(stream)
    if reference is None:
        if not (isinstance(first_batch, Sequence) and len(first_batch) >= 2):
            raise InvalidParameterError("batches are not (x, y) pairs: pass reference=(x, y) explicitly.")
        reference = first_batch
    ref_x, ref_y = reference[0], reference[1]
    stream = itertools.chain([first_batch], stream)

    measured, norms, losses, cost = [], [], [], 0.0
    for t in range(1, steps + 1):
        train_step(model, next(stream))
        if t in wanted:
            start = time.perf_counter()
            out = training_response(model, loss_fn, ref_x, ref_y, probes, lr)
            cost += time.perf_counter() - start
            measured.append(t)
            norms.append(out.norm)
            losses.append(out.loss)
    steps_arr, norm_arr = np.asarray(measured), np.asarray(norms)
    keep = (steps_arr >= fit_from) & (norm_arr > 0)
    fit, fit_error = None, None
    from neurocomplex.measures.dynamics import fit_power_law

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", NeurocomplexWarning)
            fit = fit_power_law(steps_arr[keep], norm_arr[keep], n_boot=n_boot, seed=seed)
        for w in caught:  # re-issue the AIC caveat from here
            warnings.warn(str(w.message), NeurocomplexWarning, stacklevel=2)
    except NeurocomplexError as err:
        fit_error = str(err)
    return {"steps": steps_arr, "response_norm": norm_arr, "loss": np.asarray(losses), "fit": fit,
            "fit_error": fit_error, "cost": cost}
