"""TrainingMonitor: per-layer observables on a fixed probe batch at scheduled optimizer steps (MEASURES.md §7).

The monitor is called from the user's own training loop. At scheduled steps it captures each
layer's activations on a fixed probe batch (:func:`neurocomplex.torch.record`), runs registered
estimators on them and, optionally, the network's fragility. It never changes the training run:
see :class:`TrainingMonitor` for what is saved and restored.
"""

from __future__ import annotations

import inspect
import math
import random
import time
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from neurocomplex._validation import check_choice, check_float, check_int
from neurocomplex.errors import InvalidParameterError, NeurocomplexError
from neurocomplex.estimate import Estimate
from neurocomplex.measures import get_estimator

__all__ = ["TrainingMonitor"]

_COLUMNS = ["step", "layer", "measure", "value", "ci_low", "ci_high", "warnings"]


class _TrainingState:
    """Everything a measurement could disturb: module modes, grad mode, random generators."""

    def __init__(self, model: nn.Module) -> None:
        self.modes = [(m, m.training) for m in model.modules()]
        self.grad = torch.is_grad_enabled()
        self.cpu_rng = torch.get_rng_state()
        cuda = torch.cuda.is_available() and torch.cuda.is_initialized()
        self.cuda_rng = torch.cuda.get_rng_state_all() if cuda else None
        self.np_rng = np.random.get_state()  # noqa: NPY002 - the global state is what must survive
        self.py_rng = random.getstate()

    def restore(self) -> None:
        for module, training in self.modes:
            module.training = training
        torch.set_grad_enabled(self.grad)
        torch.set_rng_state(self.cpu_rng)
        if self.cuda_rng is not None:
            torch.cuda.set_rng_state_all(self.cuda_rng)
        np.random.set_state(self.np_rng)  # noqa: NPY002
        random.setstate(self.py_rng)


class TrainingMonitor:
    """Track per-layer measures of a network on a fixed probe batch over training.

    Parameters
    ----------
    model : torch.nn.Module
        The network being trained.
    probe_inputs : torch.Tensor or numpy.ndarray
        Fixed batch of inputs on which every measurement is made (copied once).
    measures : sequence of str
        Names of registered Recording estimators (:func:`neurocomplex.list_estimators`), e.g.
        ``"effective_dimension"``, ``"activation_ratio"``, ``"pattern_complexity"``.
    layers : None, str, module type or list of those
        Layers to capture, as in :func:`neurocomplex.torch.record` (default: every activation
        module and the output).
    schedule : {"log", "linear"} or sequence of int
        ``"log"``: step 0 and ``n_points`` log-spaced steps from 1 to ``max_step`` (rounded, with
        duplicates removed, so early training is sampled densely). ``"linear"``: every ``every``
        steps (0 included), up to ``max_step`` when given. A sequence: exactly those steps.
    n_points : int
        Number of log-spaced steps (``schedule="log"``).
    max_step : int, optional
        Last step of the schedule; required for ``"log"``.
    every : int, optional
        Spacing of ``schedule="linear"``.
    fragility_eps : float, optional
        When given, also measure :func:`neurocomplex.torch.fragility` of the whole network with
        perturbations of this norm (rows with layer ``"network"``, measure ``"fragility"``).
    fragility_directions : int
        Random directions per probe input for the fragility.
    measure_params : mapping of measure name -> dict, optional
        Extra parameters for an estimator, e.g. ``{"pattern_complexity": {"scale": 0.1}}``.
        By default each estimator gets ``n_boot=0`` (no interval) and ``seed=0`` where its
        signature accepts them.
    progress : bool
        Show a tqdm bar that advances at each measurement.

    Attributes
    ----------
    table : pandas.DataFrame
        Tidy table, one row per (step, layer, measure): columns step, layer, measure, value,
        ci_low, ci_high, warnings.
    cost : float
        Seconds spent measuring so far.
    schedule : numpy.ndarray or None
        The scheduled steps (None for an open-ended linear schedule).

    Raises
    ------
    InvalidParameterError
        Unknown or non-Recording measure names, bad schedule parameters, a model that is not a
        module, probe inputs that are not a tensor or array.

    Notes
    -----
    Call ``monitor.step(t)`` after optimizer step t (``t`` = number of steps taken, so call
    ``monitor.step(0)`` before training to record the initial network). It returns at once unless
    ``t`` is scheduled. For a plain epoch loop, call ``monitor.epoch(e, steps_per_epoch)`` at the
    end of epoch ``e`` (from 0): it measures once, labelled with step ``(e + 1) * steps_per_epoch``,
    if any scheduled step fell inside that epoch; for finer resolution early in training call
    ``step`` inside the batch loop instead.

    A measurement does not change the training run. It saves and restores the train/eval mode of
    every submodule, the grad mode, and the states of the torch CPU and CUDA random generators
    (and of numpy's and Python's global generators). The model is put in eval mode while it is
    measured, so Dropout draws no random masks and BatchNorm neither uses batch statistics nor
    updates its running statistics; the measures therefore describe the network as it would be
    evaluated. Parameters, buffers and ``.grad`` fields are never written; capture runs under
    ``torch.inference_mode``. Estimator errors (e.g. a layer whose units are all dead) become NaN
    rows with the reason in ``warnings``; estimator warnings are recorded there too, not re-issued.

    The observables are those of MEASURES.md §1–§4 per layer, following the programme of
    Janik & Witaszczyk (2020) (effective dimension and complexity over training) and Nakazato
    (2024) (feature-space reduction, fragility).

    References
    ----------
    .. [1] R. A. Janik, P. Witaszczyk, "Complexity for deep neural networks and other
       characteristics of deep feature representations", arXiv:2006.04791 (2020).
    .. [2] K. Nakazato, "A simple theory for training response of deep neural networks",
       arXiv:2405.04074 (2024).

    Examples
    --------
    >>> import torch, neurocomplex as nc
    >>> g = torch.Generator().manual_seed(0)
    >>> net = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))
    >>> x = torch.randn(200, 4, generator=g)
    >>> mon = nc.torch.TrainingMonitor(net, x[:100], max_step=20, n_points=5)
    >>> opt = torch.optim.SGD(net.parameters(), lr=0.1)
    >>> mon.step(0)
    True
    >>> for t in range(1, 21):
    ...     opt.zero_grad(); net(x).pow(2).mean().backward(); opt.step()
    ...     _ = mon.step(t)
    >>> mon.schedule.tolist()
    [0, 1, 2, 4, 9, 20]
    >>> sorted(mon.table.layer.unique()), sorted(mon.table.measure.unique())
    (['1', 'output'], ['activation_ratio', 'effective_dimension'])
    """

    def __init__(
        self,
        model: nn.Module,
        probe_inputs: Any,
        measures: Sequence[str] = ("effective_dimension", "activation_ratio"),
        layers: Any = None,
        schedule: str | Iterable[int] = "log",
        n_points: int = 40,
        max_step: int | None = None,
        every: int | None = None,
        fragility_eps: float | None = None,
        fragility_directions: int = 8,
        measure_params: Mapping[str, Mapping[str, Any]] | None = None,
        progress: bool = False,
    ) -> None:
        if not isinstance(model, nn.Module):
            raise InvalidParameterError(f"model must be a torch.nn.Module, got {type(model).__name__}.")
        if isinstance(probe_inputs, np.ndarray):
            probe_inputs = torch.from_numpy(probe_inputs)
        if not isinstance(probe_inputs, torch.Tensor):
            raise InvalidParameterError(
                f"probe_inputs must be a tensor or numpy array, got {type(probe_inputs).__name__}."
            )
        if isinstance(measures, str):
            measures = (measures,)
        self._specs = {}
        for name in measures:
            spec = get_estimator(name)
            if spec.input != "recording":
                raise InvalidParameterError(
                    f"measure {name!r} does not take a Recording (it takes a {spec.input}); "
                    "the monitor runs Recording estimators on each layer."
                )
            self._specs[name] = spec
        self.model = model
        self.probe_inputs = probe_inputs.detach().clone()
        self.measures = tuple(measures)
        self.layers = layers
        self.fragility_eps = check_float("fragility_eps", fragility_eps, 0.0, low_open=True, allow_none=True)
        self.fragility_directions = check_int("fragility_directions", fragility_directions, minimum=1)
        self.measure_params = {k: dict(v) for k, v in (measure_params or {}).items()}
        unknown = set(self.measure_params) - set(self.measures)
        if unknown:
            raise InvalidParameterError(f"measure_params names measures that are not monitored: {sorted(unknown)}.")
        self.progress = bool(progress)
        self._every: int | None = None
        self._max_step = check_int("max_step", max_step, minimum=1, allow_none=True)
        if isinstance(schedule, str):
            check_choice("schedule", schedule, ("log", "linear"))
            if schedule == "log":
                if self._max_step is None:
                    raise InvalidParameterError("schedule='log' needs max_step (the last step of training).")
                if every is not None:
                    raise InvalidParameterError("every applies to schedule='linear'; drop it or switch schedule.")
                n_points = check_int("n_points", n_points, minimum=1)
                log = np.round(np.geomspace(1, self._max_step, n_points)).astype(int)
                self.schedule: np.ndarray | None = np.unique(np.concatenate([[0], log]))
            else:
                self._every = check_int("every", every, minimum=1)
                self.schedule = (None if self._max_step is None
                                 else np.arange(0, self._max_step + 1, self._every))
        else:
            try:
                steps = np.unique(np.asarray(list(schedule), dtype=np.int64))
            except (TypeError, ValueError) as err:
                raise InvalidParameterError(f"schedule must be 'log', 'linear' or a list of ints: {err}") from err
            if steps.size == 0 or steps[0] < 0:
                raise InvalidParameterError("an explicit schedule needs at least one step, all >= 0.")
            self.schedule = steps
        self._scheduled = set() if self.schedule is None else set(self.schedule.tolist())
        self._done: set[int] = set()
        self._rows: list[dict[str, Any]] = []
        self.cost = 0.0
        self._bar = None

    # ------------------------------------------------------------------ scheduling
    def is_scheduled(self, step_index: int) -> bool:
        """Whether ``step_index`` is on the schedule (and not measured yet)."""
        if step_index in self._done:
            return False
        if self._every is not None:
            return step_index % self._every == 0 and (self._max_step is None or step_index <= self._max_step)
        return step_index in self._scheduled

    def step(self, step_index: int) -> bool:
        """Measure if ``step_index`` (optimizer steps taken so far) is scheduled; True if it measured."""
        if not self.is_scheduled(step_index):
            return False
        self.measure(step_index)
        return True

    def epoch(self, epoch_index: int, steps_per_epoch: int) -> bool:
        """Call at the end of epoch ``epoch_index`` (from 0); measures if a scheduled step fell in it.

        The measurement is labelled with step ``(epoch_index + 1) * steps_per_epoch``.
        """
        epoch_index = check_int("epoch_index", epoch_index, minimum=0)
        steps_per_epoch = check_int("steps_per_epoch", steps_per_epoch, minimum=1)
        start, end = epoch_index * steps_per_epoch, (epoch_index + 1) * steps_per_epoch
        if end in self._done:
            return False
        if self._every is not None:
            due = (end // self._every) > (start // self._every) and (self._max_step is None or start < self._max_step)
        else:
            due = any(start < s <= end for s in self._scheduled)
        if due:
            self.measure(end)
        return due

    # ------------------------------------------------------------------ measuring
    def _kwargs(self, name: str) -> dict[str, Any]:
        sig = inspect.signature(self._specs[name].func).parameters
        kwargs = {k: v for k, v in (("n_boot", 0), ("seed", 0)) if k in sig}
        kwargs.update(self.measure_params.get(name, {}))
        return kwargs

    def _add(self, step: int, layer: str, name: str, run: Any) -> None:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                est: Estimate | None = run()
                reason = None
            except NeurocomplexError as err:
                est, reason = None, f"{type(err).__name__}: {err}"
        notes = [str(w.message) for w in caught]
        if est is None:
            self._rows.append({"step": step, "layer": layer, "measure": name, "value": math.nan,
                               "ci_low": math.nan, "ci_high": math.nan, "warnings": " | ".join([*notes, reason])})
            return
        low, high = est.ci if est.ci is not None else (math.nan, math.nan)
        notes = list(dict.fromkeys([*est.warnings, *notes]))
        self._rows.append({"step": step, "layer": layer, "measure": name, "value": float(est.value),
                           "ci_low": low, "ci_high": high, "warnings": " | ".join(notes)})

    def measure(self, step_index: int) -> None:
        """Measure now, whatever the schedule, and label the rows with ``step_index``."""
        from neurocomplex.torch.capture import record
        from neurocomplex.torch.perturbation import fragility

        step_index = check_int("step_index", step_index, minimum=0)
        start = time.perf_counter()
        state = _TrainingState(self.model)
        try:
            self.model.eval()  # no dropout draws, no batch-norm statistics updates
            recs = record(self.model, self.probe_inputs, layers=self.layers, progress=False)
            for layer, rec in recs.items():
                for name, spec in self._specs.items():
                    kwargs = self._kwargs(name)
                    self._add(step_index, layer, name, lambda spec=spec, rec=rec, kw=kwargs: spec.func(rec, **kw))
            if self.fragility_eps is not None:
                self._add(step_index, "network", "fragility",
                          lambda: fragility(self.model, self.probe_inputs, eps=self.fragility_eps,
                                            n_directions=self.fragility_directions, seed=0))
        finally:
            state.restore()
        self._done.add(step_index)
        self.cost += time.perf_counter() - start
        if self.progress:
            if self._bar is None:
                from tqdm.auto import tqdm

                total = None if self.schedule is None else len(self.schedule)
                self._bar = tqdm(total=total, desc="monitor", unit="measurement")
            self._bar.update(1)

    @property
    def table(self) -> Any:
        """Tidy DataFrame: step, layer, measure, value, ci_low, ci_high, warnings."""
        import pandas as pd

        return pd.DataFrame(self._rows, columns=_COLUMNS)

    def __repr__(self) -> str:
        n = len(self._done)
        return (f"TrainingMonitor(measures={list(self.measures)}, measurements={n}, "
                f"cost={self.cost:.3g} s)")
