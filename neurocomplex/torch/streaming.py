"""Layer-by-layer statistics of a network in one streaming pass, without keeping activations.

:func:`summarize` runs the model batch by batch (the hooks of :func:`neurocomplex.torch.record`)
and folds each layer's batch into mergeable sufficient statistics on the model's device:
second-order statistics (for effective dimension and participation ratio), active counts
(activation ratio) and binary word counts (pattern entropy). Before the first batch, one probe
forward pass sizes every layer and the memory each statistic will need is worked out: a layer's
spectrum comes from its ``d x d`` covariance, from the exact ``n x n`` Gram of its rows when there
are fewer inputs than units and that is smaller, or from a sketch when asked; a summary that would
not fit in ``memory_limit`` is refused, naming the layer and the ways out. The measures are then
computed by the functions that the estimators on full Recordings use, so the exact routes agree with
``nc.effective_dimension(nc.torch.record(...)[layer])`` and friends.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from neurocomplex._backend.accumulate import TorchActivity, TorchCovariance, TorchWords, full_float32
from neurocomplex._validation import check_choice, check_float, check_int
from neurocomplex.errors import InsufficientDataError, InvalidDataError, InvalidParameterError, NeurocomplexWarning
from neurocomplex.measures.from_stats import STATISTICS, measure_rows
from neurocomplex.torch._gram import TorchGramRows
from neurocomplex.torch._outputs import DEFAULT_TOKENS
from neurocomplex.torch._plan import (
    DEFAULT_MEMORY_LIMIT,
    LayerShape,
    Plan,
    check_memory_limit,
    format_bytes,
    plan_summary,
    refuse_summary,
)
from neurocomplex.torch._sketch import TorchSketch, check_sketch, layer_seed, sketch_participation_ratio
from neurocomplex.torch.capture import _run_capture

__all__ = ["summarize", "STATISTICS", "layer_statistics", "DEFAULT_MEMORY_LIMIT", "SKETCH_ACCURATE_RATIO"]

ENTROPY_METHODS = ("plugin", "miller_madow", "nsb")
_COLUMNS = ["layer", "measure", "value", "n_samples", "n_units", "method", "warnings"]
_DIMENSIONS = {"effective_dimension": 1.0, "participation_ratio": 2.0}
# The sketch's effective dimension is within the documented error when it is at most k / this.
SKETCH_ACCURATE_RATIO = 20


def _check_stats(stats: Any) -> tuple[str, ...]:
    if isinstance(stats, str):
        stats = (stats,)
    try:
        chosen = tuple(stats)
    except TypeError as err:
        raise InvalidParameterError(f"stats must be a name or a sequence of names from {STATISTICS}.") from err
    if not chosen:
        raise InvalidParameterError(f"stats is empty; choose from {STATISTICS}.")
    for s in chosen:
        check_choice("stats entry", s, STATISTICS)
    return tuple(dict.fromkeys(chosen))  # drop repeats, keep order


def _accumulate(model: nn.Module, inputs: Any, layers: Any, chosen: tuple[str, ...], batch_size: int | None,
                device: Any, threshold: float, flatten: str, progress: bool | None, memory_limit: Any,
                sketch: Any, seed: int, tokens: str, token_layers: Any,
                output: Any) -> tuple[list[Any], dict[str, dict[str, Any]]]:
    """Run the model once; every layer's torch-side statistics, in execution order."""
    threshold = check_float("threshold", threshold)  # type: ignore[assignment]
    limit = check_memory_limit(memory_limit)
    k = check_sketch(sketch)
    seed = check_int("seed", seed)  # type: ignore[assignment]
    need = (any(s in chosen for s in _DIMENSIONS), "activation_ratio" in chosen, "pattern_entropy" in chosen)
    need_cov, need_act, need_words = need
    accs: dict[str, dict[str, Any]] = {}
    checksums: dict[str, torch.Tensor] = {}
    state: dict[str, Any] = {"plan": None, "held": 0}

    def plan(shapes: list[LayerShape], n_inputs: int | None, size: int | None) -> int:
        p = plan_summary(shapes, n_inputs, need, k, size)
        if limit is not None and p.total > limit:
            raise refuse_summary(p, limit, shapes, n_inputs, need, k, size, flatten)
        state["plan"] = p
        return p.batch_size

    def create(key: str, n_units: int, dev: torch.device) -> dict[str, Any]:
        p: Plan | None = state["plan"]
        route = p.routes.get(key, "covariance") if p is not None else "covariance"
        entry: dict[str, Any] = {}
        if need_cov:
            if route == "sketch":
                entry["sketch"] = TorchSketch(n_units, int(k), layer_seed(seed, key), dev)
            elif route == "gram":
                entry["gram"] = TorchGramRows(n_units)
            else:
                entry["covariance"] = TorchCovariance(n_units, dev)
        if need_act:
            entry["activity"] = TorchActivity(n_units, threshold, dev)
        if need_words:
            entry["words"] = TorchWords(n_units, threshold)
        return entry

    def consume(key: str, x: torch.Tensor) -> None:
        if key not in accs:
            accs[key] = create(key, int(x.shape[1]), x.device)
            checksums[key] = torch.zeros((), dtype=torch.float64, device=x.device)
        entry = accs[key]
        n_b = int(x.shape[0])
        # one reduction serves the statistics and the NaN/inf check (NaN and inf survive a sum),
        # which is read once at the end instead of synchronising the device every batch
        mean_b = x.mean(dim=0, dtype=torch.float64)
        checksums[key] += mean_b.sum()
        m2_b = None
        if "covariance" in entry or "sketch" in entry or need_act:
            centred = x - mean_b.to(x.dtype)
            # the mean rounded to float32 is, far from zero (a large bias), off by as much as the
            # spread: the rows are moved by the mean of what is left, so that they are about mean_b
            centred -= (centred.sum(dim=0, dtype=torch.float64) / n_b).to(x.dtype)
        if "covariance" in entry:
            with full_float32():
                scatter_b = (centred.T @ centred).to(torch.float64)
            entry["covariance"].combine(n_b, mean_b, scatter_b)
            if need_act:
                m2_b = torch.diagonal(scatter_b).clone()
            del scatter_b
        if "sketch" in entry:
            m2_b = (centred * centred).sum(dim=0, dtype=torch.float64)
            entry["sketch"].combine(n_b, mean_b, centred, m2_b)
        if "gram" in entry:
            entry["gram"].update(x)
            state["held"] += x.numel() * 4
            if limit is not None and state["held"] > limit:
                raise InvalidParameterError(
                    f"the exact Gram route keeps {format_bytes(state['held'])} of rows by layer {key!r}'s batch "
                    f"{len(entry['gram'].rows)}, above memory_limit={format_bytes(limit)}: the inputs are more than "
                    "the plan was told. Pass sketch=, flatten=\"channels\", fewer layers or inputs with a known "
                    "length."
                )
        binary = x > threshold if (need_act or need_words) else None
        if need_act:
            if m2_b is None:
                m2_b = (centred * centred).sum(dim=0, dtype=torch.float64)
            entry["activity"].combine(n_b, binary.sum(dim=0), mean_b, m2_b)
        if need_words:
            entry["words"].update(x, binary)

    infos, _, _ = _run_capture(model, inputs, layers, batch_size, device, flatten, progress, consume,
                               desc="streaming layer statistics", tokens=tokens, token_layers=token_layers,
                               output=output, plan=plan)
    for key, check in checksums.items():
        if not bool(torch.isfinite(check)):
            raise InvalidDataError(
                f"layer {key!r} produced NaN or inf activations; no statistic of it would be meaningful. "
                "Check the model's weights and inputs."
            )
    return infos, accs


def layer_statistics(
    model: nn.Module,
    inputs: Any,
    layers: Any = None,
    stats: Sequence[str] | str = STATISTICS,
    batch_size: int | None = None,
    device: Any = None,
    threshold: float = 0.0,
    flatten: str = "units",
    progress: bool | None = None,
    *,
    memory_limit: float | None = DEFAULT_MEMORY_LIMIT,
    sketch: int | None = None,
    seed: int = 0,
    tokens: str = DEFAULT_TOKENS,
    token_layers: Sequence[str] | bool | None = None,
    output: Any = None,
) -> dict[str, dict[str, Any]]:
    """The mergeable sufficient statistics of every layer, accumulated in one pass.

    Parameters are those of :func:`summarize`.

    Returns
    -------
    dict of str to dict
        Per layer key (execution order), when a dimension is requested, one of:
        ``"covariance"`` (:class:`~neurocomplex.stats.CovarianceAccumulator`), ``"spectrum"``
        (the covariance eigenvalues from the exact Gram route, descending; not mergeable) or
        ``"sketch"`` (:class:`~neurocomplex.torch._sketch.SketchedCovariance`, mergeable with a
        sketch of the same layer, ``k`` and ``seed``), with ``"route"`` saying which; and
        ``"activity"`` (:class:`~neurocomplex.stats.ActivityAccumulator`, for the activation
        ratio), ``"words"`` (:class:`~neurocomplex.stats.WordCounts`, for the pattern entropy),
        plus ``"n_samples"`` and ``"n_units"``. Accumulators can be merged with the statistics of
        other input sets (``acc.merge(other)``) before computing measures. When the model's output
        is the very tensor a captured layer returned, ``"output"`` is that layer's dict.

    Raises
    ------
    Same as :func:`summarize`.

    Examples
    --------
    >>> import torch, neurocomplex as nc
    >>> net = nc.torch.mlp([3, 4, 2], seed=0)
    >>> st = layer_statistics(net, torch.randn(50, 3), stats=["activation_ratio"])
    >>> sorted(st["relu1"])
    ['activity', 'n_samples', 'n_units']
    """
    chosen = _check_stats(stats)
    infos, accs = _accumulate(model, inputs, layers, chosen, batch_size, device, threshold, flatten, progress,
                              memory_limit, sketch, seed, tokens, token_layers, output)
    out: dict[str, dict[str, Any]] = {}
    for info in infos:
        if info.alias_of is not None:  # the model's output is that layer's tensor: the same statistics
            out[info.key] = out[info.alias_of]
            continue
        entry = accs.pop(info.key)
        host: dict[str, Any] = {}
        for name, acc in entry.items():
            if name == "gram":
                host["n_samples"] = acc.n_samples
                host["spectrum"], host["route"] = acc.eigenvalues(), "gram"
            else:
                host[name] = acc.to_stats()
                if name in ("covariance", "sketch"):
                    host["route"] = name
        if "n_samples" not in host:
            host["n_samples"] = int(next(v for v in host.values() if hasattr(v, "n_samples")).n_samples)
        host["n_units"] = info.n_units
        out[info.key] = host
    return out


def _spectrum(key: str, entry: dict[str, Any]) -> tuple[np.ndarray | None, int]:
    """(covariance eigenvalues, or None for a layer with no variance; number of samples); frees the
    layer's second-order statistics."""
    if "covariance" in entry:
        acc = entry.pop("covariance")
        n = acc.n_samples
        if n < 2:
            raise InsufficientDataError(f"layer {key!r}: a covariance needs at least 2 samples, got {n}.")
        if not torch.any(torch.diagonal(acc.scatter) > 0):
            return None, n
        # the lower triangle only, in place of a symmetrised copy: one d x d copy inside the solver
        lam = torch.linalg.eigvalsh(acc.scatter, UPLO="L").flip(0).cpu().numpy() / (n - 1)
        return np.clip(lam, 0.0, None), n
    rows = entry.pop("gram")
    n = rows.n_samples
    if n < 2:
        raise InsufficientDataError(f"layer {key!r}: a covariance needs at least 2 samples, got {n}.")
    lam = rows.eigenvalues()
    return (lam if lam.size and lam[0] > 0 else None), n


def _dead(key: str, n_units: int) -> str:
    return (f"layer {key!r}: all {n_units} units are constant over the inputs (dead or saturated); its dimension is "
            "undefined and reported as NaN.")


def _dimension_rows(key: str, entry: dict[str, Any], chosen: tuple[str, ...], n_units: int) -> dict[str, dict[str, Any]]:
    """Rows of the dimension measures, from the layer's covariance, Gram rows or sketch."""
    from neurocomplex.measures.dimension import denoise_eigenvalues, effective_dimension_from_eigenvalues

    wanted = [m for m in chosen if m in _DIMENSIONS]
    rows: dict[str, dict[str, Any]] = {}
    note = ""
    if "sketch" in entry:
        sk = entry.pop("sketch").to_stats()
        n, k = sk.n_samples, sk.k
        if n < 2:
            raise InsufficientDataError(f"layer {key!r}: a covariance needs at least 2 samples, got {n}.")
        var = sk.variances()
        values: dict[str, float] = {}
        if not np.any(var > 0):
            note = _dead(key, n_units)
            warnings.warn(note, NeurocomplexWarning, stacklevel=4)
            values = {m: math.nan for m in wanted}
        else:
            s = sk.covariance()
            lam = denoise_eigenvalues(np.clip(np.linalg.eigvalsh(s)[::-1], 0.0, None), k, np.dtype(np.float32))[0]
            values["effective_dimension"] = effective_dimension_from_eigenvalues(lam, 1.0)
            values["participation_ratio"] = sketch_participation_ratio(s, float(np.sum(var**2)), k,
                                                                       min(n - 1, n_units))
            if "effective_dimension" in wanted and values["effective_dimension"] > k / SKETCH_ACCURATE_RATIO:
                note = (f"layer {key!r}: the effective dimension of its {k}-dimensional sketch, "
                        f"{values['effective_dimension']:.4g}, is above k/{SKETCH_ACCURATE_RATIO}; a sketch "
                        "underestimates it there (see the Notes of nc.torch.summarize): use a larger sketch=.")
                warnings.warn(note, NeurocomplexWarning, stacklevel=4)
        for m in wanted:
            base = "exp_spectral_entropy" if m == "effective_dimension" else "participation_ratio"
            rows[m] = {"value": values[m], "n_samples": n, "method": f"{base}_sketch{k}",
                       "warnings": note if (m == "effective_dimension" or math.isnan(values[m])) else ""}
        return rows
    lam, n = _spectrum(key, entry)
    if lam is None:
        note = _dead(key, n_units)
        warnings.warn(note, NeurocomplexWarning, stacklevel=4)
    else:
        # the same noise floor as nc.effective_dimension on the float32 recording of this layer
        lam = denoise_eigenvalues(lam, n_units, np.dtype(np.float32))[0]
    for m in wanted:
        value = math.nan if lam is None else float(effective_dimension_from_eigenvalues(lam, _DIMENSIONS[m]))
        base = "exp_spectral_entropy" if m == "effective_dimension" else "participation_ratio"
        rows[m] = {"value": value, "n_samples": n, "method": base, "warnings": note}
    return rows


def summarize(
    model: nn.Module,
    inputs: Any,
    layers: Any = None,
    stats: Sequence[str] | str = STATISTICS,
    batch_size: int | None = None,
    device: Any = None,
    threshold: float = 0.0,
    entropy_method: str = "nsb",
    flatten: str = "units",
    progress: bool | None = None,
    *,
    memory_limit: float | None = DEFAULT_MEMORY_LIMIT,
    sketch: int | None = None,
    seed: int = 0,
    tokens: str = DEFAULT_TOKENS,
    token_layers: Sequence[str] | bool | None = None,
    output: Any = None,
) -> Any:
    """Effective dimension, participation ratio, activation ratio and pattern entropy per layer, streaming.

    Parameters
    ----------
    model, inputs, layers, batch_size, device, flatten, progress, tokens, token_layers, output
        As in :func:`neurocomplex.torch.record` (same layer selection, keys, flattening, token
        and output rules; the model is run in the mode it is in and left unchanged).
    stats : str or sequence of str
        Any of ``"effective_dimension"``, ``"participation_ratio"``, ``"activation_ratio"``,
        ``"pattern_entropy"``.
    threshold : float
        A unit is active (binary state 1) when its activation exceeds ``threshold`` (0: a ReLU that
        is on). Used by the activation ratio and the pattern entropy.
    entropy_method : {"nsb", "plugin", "miller_madow"}
        Estimator of the pattern entropy, in bits, alphabet size ``2**n_units``.
    memory_limit : float or None
        Bytes the statistics and one batch's activations may take (default 2 GiB, not counting
        the model and the inputs). Worked out before the first batch from one probe forward pass
        on two inputs; above it, the call is refused with a message that names the layers that
        need most, their widths and bytes, and what each way out would need. None: no check.
    sketch : int, optional
        Dimensions ``k`` of a seeded random projection (CountSketch) of every layer wider than
        ``k``, whose dimensions are then estimated from ``8 k²`` bytes of statistics (see Notes).
        None (default): exact spectra only.
    seed : int
        Seed of the sketch's projections (one independent projection per layer).

    Returns
    -------
    pandas.DataFrame
        One row per layer x statistic, columns ``layer, measure, value, n_samples, n_units,
        method, warnings``; layers in execution order. ``n_samples`` is the number of inputs
        (times the positions per input with ``flatten="channels"``, or the tokens with
        ``tokens="samples"``). ``method`` ends in ``_sketch{k}`` for values from a sketch.
        ``warnings`` holds the caveat also issued as a :class:`~neurocomplex.NeurocomplexWarning`
        (empty when none): a layer whose units are all constant has NaN dimensions; a layer whose
        binary words are all distinct has a pattern entropy that the data do not determine; a
        sketch too small for the layer's effective dimension. When the model's output is the very
        tensor a captured layer returned, its rows repeat that layer's (computed once).

    Raises
    ------
    InvalidParameterError
        Unknown statistic, entropy method, layer; bad threshold, sketch, seed, memory_limit or any
        parameter of ``record``; statistics that would need more than ``memory_limit``.
    InvalidDataError
        NaN or inf activations, non-tensor layer outputs, outputs without a batch axis.
    InsufficientDataError
        Fewer than 2 samples for a dimension, no inputs.

    Notes
    -----
    Only statistics are kept. A layer's spectrum comes, for ``d = n_units`` units and ``n``
    samples, from whichever exact route needs less memory: the mean and ``d x d`` centred scatter
    (float32 GEMM per batch on the model's device, float64 accumulation with the pairwise update of
    Chan, Golub & LeVeque 1979; ``8 d²`` bytes), or, when the number of inputs is known and below
    ``d``, the layer's float32 rows and, at the end, their centred ``n x n`` Gram, which has the same
    nonzero eigenvalues (``4 n d + 16 n²`` bytes). Both give the values of the estimators on the
    recorded layer. Per-unit active counts and the distinct binary words with their counts are kept
    for the activation ratio and the pattern entropy. The plan assumes every word may be distinct.

    With ``lambda_i`` the eigenvalues of the covariance and ``p_i = lambda_i / sum_j lambda_j``,
    effective dimension is ``exp(-sum_i p_i log p_i)`` (order 1) and participation ratio
    ``(sum lambda)^2 / sum lambda^2`` (order 2), after Janik & Witaszczyk (2020); activation ratio
    is the mean of ``x > threshold`` over samples and units, after Yu & Zhang (2021); pattern
    entropy is the entropy of the rows of ``x > threshold``. The measures are computed by
    :func:`neurocomplex.measures.dimension.effective_dimension_from_eigenvalues` (after the same
    float32 noise floor as :func:`neurocomplex.effective_dimension`) and
    :func:`neurocomplex.measures.entropy.entropy_from_counts`.

    ``sketch=k`` sends each unit ``i`` of a wider layer, with a random sign, to one of ``k`` buckets
    (``S = Φᵀ C Φ``, ``k x k``), and keeps the exact per-unit variances. The participation ratio
    uses ``(tr C)²`` exactly and ``||C||_F²`` estimated without bias over the projection's draw,
    ``(||S||_F² − (tr C)²/k + 2 Σ C_ii²/k) / (1 + 1/k)``: its relative spread over projections is
    about ``1.1 / sqrt(k)``; the largest errors measured were 7% at ``k = 1024``, 5% at 2048 and 4%
    at 4096 on prescribed spectra, and 4%, 3% and 1% on the 262,144-unit layers of a CNN. The
    effective dimension is that of the spectrum of ``S``: a projection mixes weak directions into a
    floor, so it is biased low, by under 10% where it is at most ``k / 20`` (a warning says when it
    is not) on power-law spectra ``lambda_n ∝ n^-alpha``, ``alpha >= 1``, in the tests; more for
    flatter spectra and higher dimensions: 9% low for ``alpha = 0.7`` (D = 540) at ``k = 4096``,
    and 15-16% low at ``k = 2048`` (8% at 4096) on the CNN's layers with 1,000 inputs (D = 440 to
    513). Measurements: ``benchmarks/RESULTS_wide.md``.

    References
    ----------
    .. [1] R. A. Janik, P. Witaszczyk, "Complexity for deep neural networks and other
       characteristics of deep feature representations", arXiv:2006.04791 (2020).
    .. [2] Y. Yu, Y. Zhang, "Multi-layer perceptron trainability explained via variability",
       arXiv:2105.08911 (2021).
    .. [3] I. Nemenman, F. Shafee, W. Bialek, "Entropy and inference, revisited", NIPS (2002).
    .. [4] T. F. Chan, G. H. Golub, R. J. LeVeque, "Updating formulae and a pairwise algorithm for
       computing sample variances", Stanford CS report STAN-CS-79-773 (1979).
    .. [5] M. Charikar, K. Chen, M. Farach-Colton, "Finding frequent items in data streams", ICALP
       (2002); K. L. Clarkson, D. P. Woodruff, "Low rank approximation and regression in input
       sparsity time", STOC (2013).

    Examples
    --------
    >>> import torch, neurocomplex as nc
    >>> net = nc.torch.mlp([10, 32, 16, 3], seed=0)
    >>> x = torch.randn(2000, 10, generator=torch.Generator().manual_seed(0))
    >>> table = nc.torch.summarize(net, x, stats=["activation_ratio", "participation_ratio"])
    >>> table[["layer", "measure"]].values.tolist()[:2]
    [['relu1', 'activation_ratio'], ['relu1', 'participation_ratio']]
    >>> bool(table["value"].gt(0).all())
    True
    """
    chosen = _check_stats(stats)
    check_choice("entropy_method", entropy_method, ENTROPY_METHODS)
    infos, accs = _accumulate(model, inputs, layers, chosen, batch_size, device, threshold, flatten, progress,
                              memory_limit, sketch, seed, tokens, token_layers, output)
    import pandas as pd  # after the run: a refusal before the first batch does not wait for it
    rows: list[dict[str, Any]] = []
    done: dict[str, list[dict[str, Any]]] = {}
    for info in infos:
        if info.alias_of is not None:  # the model's output is that layer's tensor: the same values
            done[info.key] = [dict(row, layer=info.key) for row in done[info.alias_of]]
            rows.extend(done[info.key])
            continue
        entry = accs.pop(info.key)  # freed layer by layer: one layer's spectrum in memory at a time
        by_measure = _dimension_rows(info.key, entry, chosen, info.n_units) if any(
            m in _DIMENSIONS for m in chosen) else {}
        others = tuple(m for m in chosen if m not in _DIMENSIONS)
        if others:
            host = {name: acc.to_stats() for name, acc in entry.items()}
            host["n_samples"] = int(next(iter(host.values())).n_samples)
            host["n_units"] = info.n_units
            for row in measure_rows(info.key, host, others, entropy_method):
                by_measure[row["measure"]] = row
        done[info.key] = [{"layer": info.key, "measure": m, "value": by_measure[m]["value"],
                           "n_samples": by_measure[m]["n_samples"], "n_units": info.n_units,
                           "method": by_measure[m]["method"], "warnings": by_measure[m]["warnings"]} for m in chosen]
        rows.extend(done[info.key])
        del entry
    return pd.DataFrame(rows, columns=_COLUMNS)
