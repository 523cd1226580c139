"""Layer-by-layer statistics of a network in one streaming pass, without keeping activations.

:func:`summarize` runs the model batch by batch (the hooks of :func:`neurocomplex.torch.record`)
and folds each layer's batch into mergeable sufficient statistics on the model's device:
covariance (for effective dimension and participation ratio), active counts (activation ratio)
and binary word counts (pattern entropy). The measures are then computed from those statistics
by the same functions that the estimators on full Recordings use, so the numbers agree with
``nc.effective_dimension(nc.torch.record(...)[layer])`` and friends.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from neurocomplex._backend.accumulate import TorchActivity, TorchCovariance, TorchWords
from neurocomplex._validation import check_choice, check_float
from neurocomplex.errors import InvalidDataError, InvalidParameterError
from neurocomplex.measures.from_stats import STATISTICS, measure_rows
from neurocomplex.torch.capture import _run_capture

__all__ = ["summarize", "STATISTICS", "layer_statistics"]

ENTROPY_METHODS = ("plugin", "miller_madow", "nsb")
_COLUMNS = ["layer", "measure", "value", "n_samples", "n_units", "method", "warnings"]


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


def layer_statistics(
    model: nn.Module,
    inputs: Any,
    layers: Any = None,
    stats: Sequence[str] | str = STATISTICS,
    batch_size: int = 1024,
    device: Any = None,
    threshold: float = 0.0,
    flatten: str = "units",
    progress: bool | None = None,
) -> dict[str, dict[str, Any]]:
    """The mergeable sufficient statistics of every layer, accumulated in one pass.

    Parameters are those of :func:`summarize`.

    Returns
    -------
    dict of str to dict
        Per layer key (execution order): ``"covariance"``
        (:class:`~neurocomplex.stats.CovarianceAccumulator`, when a dimension is requested),
        ``"activity"`` (:class:`~neurocomplex.stats.ActivityAccumulator`, for the activation
        ratio), ``"words"`` (:class:`~neurocomplex.stats.WordCounts`, for the pattern entropy),
        plus ``"n_samples"`` and ``"n_units"``. These can be merged with the statistics of other
        input sets (``acc.merge(other)``) before computing measures.

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
    threshold = check_float("threshold", threshold)  # type: ignore[assignment]
    need_cov = any(s in chosen for s in ("effective_dimension", "participation_ratio"))
    need_act = "activation_ratio" in chosen
    need_words = "pattern_entropy" in chosen
    accs: dict[str, dict[str, Any]] = {}
    checksums: dict[str, torch.Tensor] = {}

    def consume(key: str, x: torch.Tensor) -> None:
        if key not in accs:
            n_units, dev = int(x.shape[1]), x.device
            accs[key] = {}
            checksums[key] = torch.zeros((), dtype=torch.float64, device=dev)
            if need_cov:
                accs[key]["covariance"] = TorchCovariance(n_units, dev)
            if need_act:
                accs[key]["activity"] = TorchActivity(n_units, threshold, dev)
            if need_words:
                accs[key]["words"] = TorchWords(n_units, threshold)
        entry = accs[key]
        n_b = int(x.shape[0])
        # one reduction serves the statistics and the NaN/inf check (NaN and inf survive a sum),
        # which is read once at the end instead of synchronising the device every batch
        mean_b = x.mean(dim=0, dtype=torch.float64)
        checksums[key] += mean_b.sum()
        if need_cov or need_act:
            centred = x - mean_b.to(x.dtype)
        if need_cov:
            scatter_b = (centred.T @ centred).to(torch.float64)
            entry["covariance"].combine(n_b, mean_b, scatter_b)
        binary = x > threshold if (need_act or need_words) else None
        if need_act:
            m2_b = (torch.diagonal(scatter_b).clone() if need_cov
                    else (centred * centred).sum(dim=0, dtype=torch.float64))
            entry["activity"].combine(n_b, binary.sum(dim=0), mean_b, m2_b)
        if need_words:
            entry["words"].update(x, binary)

    infos, _, _ = _run_capture(model, inputs, layers, batch_size, device, flatten, progress, consume,
                               desc="streaming layer statistics")
    for key, check in checksums.items():
        if not bool(torch.isfinite(check)):
            raise InvalidDataError(
                f"layer {key!r} produced NaN or inf activations; no statistic of it would be meaningful. "
                "Check the model's weights and inputs."
            )
    out: dict[str, dict[str, Any]] = {}
    for info in infos:
        host: dict[str, Any] = {name: acc.to_stats() for name, acc in accs[info.key].items()}
        host["n_samples"] = int(next(iter(host.values())).n_samples)
        host["n_units"] = info.n_units
        out[info.key] = host
    return out


def summarize(
    model: nn.Module,
    inputs: Any,
    layers: Any = None,
    stats: Sequence[str] | str = STATISTICS,
    batch_size: int = 1024,
    device: Any = None,
    threshold: float = 0.0,
    entropy_method: str = "nsb",
    flatten: str = "units",
    progress: bool | None = None,
) -> Any:
    """Effective dimension, participation ratio, activation ratio and pattern entropy per layer, streaming.

    Parameters
    ----------
    model, inputs, layers, batch_size, device, flatten, progress
        As in :func:`neurocomplex.torch.record` (same layer selection, keys and flattening; the
        model is run in the mode it is in and left unchanged).
    stats : str or sequence of str
        Any of ``"effective_dimension"``, ``"participation_ratio"``, ``"activation_ratio"``,
        ``"pattern_entropy"``.
    threshold : float
        A unit is active (binary state 1) when its activation exceeds ``threshold`` (0: a ReLU that
        is on). Used by the activation ratio and the pattern entropy.
    entropy_method : {"nsb", "plugin", "miller_madow"}
        Estimator of the pattern entropy, in bits, alphabet size ``2**n_units``.

    Returns
    -------
    pandas.DataFrame
        One row per layer x statistic, columns ``layer, measure, value, n_samples, n_units,
        method, warnings``; layers in execution order. ``n_samples`` is the number of inputs
        (times the positions per input with ``flatten="channels"``). ``warnings`` holds the caveat
        also issued as a :class:`~neurocomplex.NeurocomplexWarning` (empty when none): a layer whose
        units are all constant has NaN dimensions; a layer whose binary words are all distinct has
        a pattern entropy that the data do not determine.

    Raises
    ------
    InvalidParameterError
        Unknown statistic, entropy method, layer; bad threshold or any parameter of ``record``.
    InvalidDataError
        NaN or inf activations, non-tensor layer outputs, outputs without a batch axis.
    InsufficientDataError
        Fewer than 2 samples for a dimension, no inputs.

    Notes
    -----
    Only statistics are kept: per layer of ``n_units`` units, the mean and ``n_units x n_units``
    centred scatter (float32 GEMM per batch on the model's device, float64 accumulation with the
    pairwise update of Chan, Golub & LeVeque 1979), per-unit active counts, and the distinct
    binary words with their counts. Memory is therefore bounded by ``n_units**2`` and the number of
    distinct words, not by the number of inputs. With ``lambda_i`` the eigenvalues of the
    covariance and ``p_i = lambda_i / sum_j lambda_j``, effective dimension is
    ``exp(-sum_i p_i log p_i)`` (order 1) and participation ratio ``(sum lambda)^2 / sum lambda^2``
    (order 2), after Janik & Witaszczyk (2020); activation ratio is the mean of ``x > threshold``
    over samples and units, after Yu & Zhang (2021); pattern entropy is the entropy of the rows of
    ``x > threshold``. The measures are computed by
    :func:`neurocomplex.measures.dimension.effective_dimension_from_eigenvalues` and
    :func:`neurocomplex.measures.entropy.entropy_from_counts`, the functions the full-Recording
    estimators use. Use :func:`layer_statistics` to get the (mergeable) statistics themselves.

    References
    ----------
    .. [1] R. A. Janik, P. Witaszczyk, "Complexity for deep neural networks and other
       characteristics of deep feature representations", arXiv:2006.04791 (2020).
    .. [2] Y. Yu, Y. Zhang, "Multi-layer perceptron trainability explained via variability",
       arXiv:2105.08911 (2021).
    .. [3] I. Nemenman, F. Shafee, W. Bialek, "Entropy and inference, revisited", NIPS (2002).
    .. [4] T. F. Chan, G. H. Golub, R. J. LeVeque, "Updating formulae and a pairwise algorithm for
       computing sample variances", Stanford CS report STAN-CS-79-773 (1979).

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
    import pandas as pd

    chosen = _check_stats(stats)
    check_choice("entropy_method", entropy_method, ENTROPY_METHODS)
    per_layer = layer_statistics(model, inputs, layers, chosen, batch_size, device, threshold, flatten, progress)
    rows = []
    for key, st in per_layer.items():
        rows.extend(measure_rows(key, st, chosen, entropy_method))
    return pd.DataFrame(rows, columns=_COLUMNS)
