"""The result of every estimator (`Estimate`), the estimator registry, and the bootstrap.

Estimators are plain functions ``nc.name(rec, **params) -> Estimate`` that join the registry with
:func:`register_estimator`, so that :func:`neurocomplex.measure` and the common contract tests
find them (through :func:`neurocomplex.measures.get_estimator`, which loads the estimator modules:
this module sits below them and imports none). Nothing is stored on objects; there is no ``fit``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

from neurocomplex.errors import InvalidParameterError

__all__ = [
    "Estimate",
    "EstimatorSpec",
    "register_estimator",
    "registered_estimators",
    "bootstrap_indices",
    "bootstrap_ci",
    "bootstrap_means",
    "bootstrap_means_of",
    "interval_from_replicates",
    "linear_quantiles",
    "interval_report",
]


@dataclasses.dataclass(frozen=True, repr=False)
class Estimate:
    """The value of an estimator with its uncertainty and provenance.

    Attributes
    ----------
    value : float
        The estimate (a number; per-unit or per-scale arrays go in ``diagnostics``).
    ci : tuple of float or None
        ``(low, high)`` confidence interval, or None when none was computed.
    method : str
        Name of the method (``"nsb"``, ``"plugin"``, ``"exp_spectral_entropy"``, ...).
    params : mapping
        The parameters that produced the value (including the seed and ``n_boot``).
    n_samples, n_units : int
        Size of the data the value was computed from.
    diagnostics : mapping
        Extra arrays and numbers (eigenvalues, per-unit values, curves, bootstrap replicates).
    warnings : tuple of str
        Caveats also issued as :class:`~neurocomplex.NeurocomplexWarning`.
    """

    value: float
    ci: tuple[float, float] | None = None
    method: str = ""
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    n_samples: int = 0
    n_units: int = 0
    diagnostics: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        if self.ci is not None:
            set_(self, "ci", (float(self.ci[0]), float(self.ci[1])))
        set_(self, "params", MappingProxyType(dict(self.params)))
        set_(self, "diagnostics", MappingProxyType(dict(self.diagnostics)))
        set_(self, "warnings", tuple(self.warnings))

    def __float__(self) -> float:
        return float(self.value)

    def to_dict(self) -> dict[str, Any]:
        """Flat dict: value, ci_low, ci_high, method, n_samples, n_units, params, warnings."""
        low, high = self.ci if self.ci is not None else (math.nan, math.nan)
        return {
            "value": self.value,
            "ci_low": low,
            "ci_high": high,
            "method": self.method,
            "n_samples": self.n_samples,
            "n_units": self.n_units,
            "params": dict(self.params),
            "warnings": list(self.warnings),
        }

    def to_series(self) -> Any:
        """The scalar fields as a pandas Series (params and diagnostics left out)."""
        import pandas as pd

        d = self.to_dict()
        d.pop("params")
        d["warnings"] = " | ".join(d["warnings"])
        return pd.Series(d)

    def _repr_html_(self) -> str:
        """A compact table for notebooks: value with its interval, method, sizes, warnings."""
        from html import escape

        value = f"{float(self.value):.6g}" if isinstance(self.value, (int, float, np.floating, np.integer)) else str(self.value)
        level = self.params.get("ci_level", 0.95) if self.ci is not None else None
        interval = "none" if self.ci is None else f"[{self.ci[0]:.4g}, {self.ci[1]:.4g}] ({float(level):.0%})"
        rows = [("value", value), ("interval", interval), ("method", self.method or "-"),
                ("samples x units", f"{self.n_samples:,} x {self.n_units:,}")]
        rows += [("warning", w) for w in self.warnings]
        body = "".join(f"<tr><th style='text-align:left'>{escape(k)}</th><td style='text-align:left'>{escape(v)}"
                       "</td></tr>" for k, v in rows)
        return f"<table><caption style='text-align:left'><b>Estimate</b></caption>{body}</table>"

    def __repr__(self) -> str:
        ci = "" if self.ci is None else f", ci=({self.ci[0]:.4g}, {self.ci[1]:.4g})"
        warn = f", warnings={len(self.warnings)}" if self.warnings else ""
        try:
            val = f"{float(self.value):.6g}"
        except (TypeError, ValueError):
            val = repr(self.value)
        return (f"Estimate(value={val}{ci}, method={self.method!r}, "
                f"n_samples={self.n_samples}, n_units={self.n_units}{warn})")


@dataclasses.dataclass(frozen=True)
class EstimatorSpec:
    """How an estimator is registered.

    Attributes
    ----------
    name : str
        Public name (``nc.<name>``, and the name used by :func:`neurocomplex.measure`).
    func : callable
        The estimator.
    family : str
        Section of MEASURES.md: activity, entropy, dimension, complexity, topology, variability,
        dynamics.
    input : str
        ``"recording"`` (one Recording, usable by ``nc.measure``), ``"pair"`` (two Recordings),
        ``"function"`` (a callable or network), or ``"series"`` (x, y arrays).
    binary : bool
        Whether the estimator works on the binary state B = 1[X > threshold].
    invalid_params : tuple of dict
        Parameter sets the estimator must reject with InvalidParameterError (contract tests).
    bounds : tuple of float
        ``(low, high)`` bounds every value must satisfy (``nan`` for "none").
    """

    name: str
    func: Callable[..., Estimate]
    family: str
    input: str = "recording"
    binary: bool = False
    invalid_params: tuple[Mapping[str, Any], ...] = ()
    bounds: tuple[float, float] = (-math.inf, math.inf)


_REGISTRY: dict[str, EstimatorSpec] = {}

def register_estimator(
    name: str | None = None,
    *,
    family: str,
    input: str = "recording",
    binary: bool = False,
    invalid_params: tuple[Mapping[str, Any], ...] = (),
    bounds: tuple[float, float] = (-math.inf, math.inf),
) -> Callable[[Callable[..., Estimate]], Callable[..., Estimate]]:
    """Decorator that adds an estimator function to the registry under ``name``."""

    def decorate(func: Callable[..., Estimate]) -> Callable[..., Estimate]:
        key = name or func.__name__
        _REGISTRY[key] = EstimatorSpec(key, func, family, input, binary, tuple(invalid_params), bounds)
        return func

    return decorate


def registered_estimators() -> Mapping[str, EstimatorSpec]:
    """The estimators registered so far (read-only). Lookups that first load every estimator
    module are :func:`neurocomplex.measures.get_estimator` and :func:`~neurocomplex.measures.list_estimators`."""
    return MappingProxyType(_REGISTRY)


# --------------------------------------------------------------------------- bootstrap
def bootstrap_indices(
    n_samples: int, n_boot: int, seed: int | None = 0, block_size: int | None = None
) -> Iterator[np.ndarray]:
    """Yield ``n_boot`` resampled row-index arrays of length ``n_samples``.

    With ``block_size`` (in samples) this is the circular block bootstrap (Politis & Romano
    1992): blocks of consecutive samples are drawn with replacement, so that the dependence
    between neighbouring time bins survives the resampling. Without it, rows are drawn i.i.d.
    """
    rng = np.random.default_rng(seed)
    if block_size is None or block_size <= 1:
        for _ in range(n_boot):
            yield rng.integers(0, n_samples, size=n_samples)
        return
    n_blocks = -(-n_samples // block_size)
    offsets = np.arange(block_size)
    for _ in range(n_boot):
        starts = rng.integers(0, n_samples, size=n_blocks)
        yield ((starts[:, None] + offsets[None, :]) % n_samples).reshape(-1)[:n_samples]


def check_bootstrap_params(n_boot: int, ci_level: float, block_size: int | None) -> None:
    """Raise InvalidParameterError for unusable bootstrap settings."""
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 0:
        raise InvalidParameterError(f"n_boot must be an integer >= 0 (0 = no interval), got {n_boot!r}.")
    if not (isinstance(ci_level, (int, float)) and 0 < ci_level < 1):
        raise InvalidParameterError(f"ci_level must lie in (0, 1), got {ci_level!r}.")
    if block_size is not None and (not isinstance(block_size, (int, np.integer)) or block_size < 1):
        raise InvalidParameterError(f"block_size must be a positive number of samples or None, got {block_size!r}.")


def bootstrap_ci(
    statistic: Callable[[np.ndarray], float],
    n_samples: int,
    n_boot: int = 200,
    seed: int | None = 0,
    block_size: int | None = None,
    ci_level: float = 0.95,
    interval: str = "percentile",
    estimate: float | None = None,
) -> tuple[tuple[float, float] | None, np.ndarray]:
    """Bootstrap confidence interval of ``statistic(row_indices)``.

    Parameters
    ----------
    statistic : callable
        Takes an array of row indices (a resample of the samples) and returns a float.
    n_samples : int
        Number of rows to resample.
    n_boot : int
        Number of bootstrap replicates; 0 returns ``(None, empty array)``.
    seed : int or None
        Seed of the resampling.
    block_size : int, optional
        Block length in samples for the circular block bootstrap (time series).
    ci_level : float
        Coverage of the interval.
    interval : {"percentile", "basic"}
        ``"percentile"``: the quantiles of the replicates. ``"basic"``: reflected about
        ``estimate``, ``(2*estimate - q_high, 2*estimate - q_low)``, which corrects a bias the
        resampling itself adds (resampled words are fewer and more repeated, so plug-in entropies
        of resamples are biased low).
    estimate : float, optional
        The point estimate on the full data; needed for ``interval="basic"``.

    Returns
    -------
    ci : tuple of float or None
        ``(low, high)``.
    replicates : numpy.ndarray
        The ``n_boot`` replicate values (non-finite ones dropped).
    """
    check_bootstrap_params(n_boot, ci_level, block_size)
    if n_boot == 0:
        return None, np.empty(0)
    if interval not in ("percentile", "basic"):
        raise InvalidParameterError(f"interval must be 'percentile' or 'basic', got {interval!r}.")
    if interval == "basic" and estimate is None:
        raise InvalidParameterError("interval='basic' needs the point estimate.")
    reps = np.array([statistic(idx) for idx in bootstrap_indices(n_samples, n_boot, seed, block_size)], dtype=float)
    reps = reps[np.isfinite(reps)]
    return interval_from_replicates(reps, ci_level, interval, estimate), reps


def _few_values(values: np.ndarray, block_size: int | None) -> tuple[np.ndarray, np.ndarray] | None:
    """The distinct values and their counts when rows are drawn one by one and the values take at
    most one in 16 distinct values (a multinomial draw over them then costs less than drawing rows)."""
    if (block_size is not None and block_size > 1) or values.size < 64:
        return None
    distinct, counts = np.unique(values, return_counts=True)
    return (distinct, counts) if 16 * distinct.size <= values.size else None


_DRAWN_ENTRIES = 1 << 20  # replicate x row indices drawn before their means are taken (8 MiB)


def bootstrap_means(values: np.ndarray, n_boot: int, seed: int | None = 0,
                    block_size: int | None = None) -> np.ndarray:
    """The means of ``n_boot`` bootstrap resamples of ``values`` (rows resampled, as
    :func:`bootstrap_indices` draws them), non-finite ones dropped.

    Where rows are drawn one by one and the values take few distinct values (activity counts:
    at most one in 16 rows holds a new value), each replicate's mean is drawn as
    ``Σ_v v N_v / n`` with ``N ~ Multinomial(n, f_v)`` (``f_v`` the fraction of rows holding ``v``):
    the distribution of the mean of ``n`` rows drawn with replacement, in a draw per distinct value
    instead of one per row. Otherwise the rows are drawn (:func:`bootstrap_indices`).

    Examples
    --------
    >>> x = np.repeat([0.0, 0.5, 1.0], [500, 300, 200])
    >>> reps = bootstrap_means(x, 200, seed=1)
    >>> reps.size, bool(abs(reps.mean() - x.mean()) < 0.01), bool(0.005 < reps.std() < 0.02)
    (200, True, True)
    """
    return bootstrap_means_of([values], n_boot, seed, block_size)[0]


def bootstrap_means_of(arrays: list[np.ndarray], n_boot: int, seed: int | None = 0,
                       block_size: int | None = None) -> list[np.ndarray]:
    """:func:`bootstrap_means` of each of several arrays of the same length, each as that call gives
    it; the arrays whose rows are drawn share one set of draws (they would draw the same rows)."""
    values = [np.asarray(v, dtype=np.float64) for v in arrays]
    reps: list[np.ndarray | None] = [None] * len(values)
    drawn = []
    for i, v in enumerate(values):
        few = _few_values(v, block_size)
        if few is None:
            drawn.append(i)
            continue
        distinct, counts = few
        draws = np.random.default_rng(seed).multinomial(v.size, counts / v.size, size=n_boot)
        reps[i] = (draws @ distinct) / v.size
    if drawn:
        n = values[drawn[0]].size
        means = np.empty((len(drawn), n_boot))
        rows = np.empty((max(1, min(n_boot, _DRAWN_ENTRIES // max(n, 1))), n), dtype=np.int64)
        draws = bootstrap_indices(n, n_boot, seed, block_size)
        for start in range(0, n_boot, rows.shape[0]):
            size = min(rows.shape[0], n_boot - start)
            for b in range(size):  # the draws of bootstrap_indices, a batch of replicates at a time
                rows[b] = next(draws)
            for k, i in enumerate(drawn):  # each row's mean as a 1-D mean of its draws: the same bits
                means[k, start : start + size] = values[i][rows[:size]].mean(axis=1)
        for k, i in enumerate(drawn):
            reps[i] = means[k]
    return [r[np.isfinite(r)] for r in reps]


def linear_quantiles(values: np.ndarray, quantiles: tuple[float, ...]) -> tuple[float, ...]:
    """``np.quantile(values, quantiles)`` (the default, linear method) for finite 1-D values, with
    the same arithmetic (so the same bits), without its per-call overhead (about 0.2 ms, as much as
    the whole interval of a small RSA).

    Examples
    --------
    >>> q = linear_quantiles(np.array([3.0, 1.0, 2.0, 10.0]), (0.25, 0.9))
    >>> q == tuple(np.quantile([3.0, 1.0, 2.0, 10.0], [0.25, 0.9]).tolist()), [round(v, 9) for v in q]
    (True, [1.75, 7.9])
    """
    s = np.sort(values)
    n = s.size
    out = []
    for q in quantiles:
        virtual = (n - 1) * q
        if virtual >= n - 1:
            out.append(float(s[-1]))
            continue
        if virtual < 0:
            out.append(float(s[0]))
            continue
        lo = math.floor(virtual)
        a, b, t = float(s[lo]), float(s[lo + 1]), virtual - lo
        diff = b - a
        out.append(b - diff * (1 - t) if t >= 0.5 else a + diff * t)
    return tuple(out)


def interval_from_replicates(
    replicates: np.ndarray,
    ci_level: float = 0.95,
    interval: str = "percentile",
    estimate: float | None = None,
    low: float = -math.inf,
    high: float = math.inf,
) -> tuple[float, float] | None:
    """Percentile or basic bootstrap interval from replicate values, clipped to ``[low, high]``.

    ``"basic"`` reflects the replicate quantiles about ``estimate``:
    ``(2*estimate - q_high, 2*estimate - q_low)``. Non-finite replicates are ignored; fewer than
    two finite replicates give None.

    Examples
    --------
    >>> interval_from_replicates(np.array([1.0, 2.0, 3.0]), 0.5)
    (1.5, 2.5)
    >>> interval_from_replicates(np.array([1.0, 2.0, 3.0]), 0.5, "basic", estimate=3.0)
    (3.5, 4.5)
    """
    reps = np.asarray(replicates, dtype=float)
    reps = reps[np.isfinite(reps)]
    if reps.size < 2:
        return None
    alpha = (1.0 - ci_level) / 2.0
    q_low, q_high = linear_quantiles(reps, (alpha, 1.0 - alpha))
    if interval == "basic":
        if estimate is None:
            raise InvalidParameterError("interval='basic' needs the point estimate.")
        q_low, q_high = 2.0 * estimate - q_high, 2.0 * estimate - q_low
    elif interval != "percentile":
        raise InvalidParameterError(f"interval must be 'percentile' or 'basic', got {interval!r}.")
    return float(np.clip(q_low, low, high)), float(np.clip(q_high, low, high))


def interval_report(
    replicates: np.ndarray,
    estimate: float,
    ci_level: float = 0.95,
    interval: str = "basic",
    low: float = -math.inf,
    high: float = math.inf,
) -> tuple[tuple[float, float] | None, dict[str, Any], list[str]]:
    """Bootstrap interval with what it does and does not cover: the shared reporting of estimators.

    Parameters
    ----------
    replicates : numpy.ndarray
        The estimator's values on bootstrap replicates (non-finite ones are ignored).
    estimate : float
        The point estimate on the full data.
    ci_level : float
        Coverage of the interval.
    interval : {"basic", "percentile"}
        Which interval is reported as ``ci`` (see :func:`interval_from_replicates`).
    low, high : float
        Bounds the interval is clipped to (0 for entropies, the number of units for dimensions).

    Returns
    -------
    ci : tuple of float or None
        The reported interval; None with fewer than two finite replicates, or when clipping put the
        whole interval on ``low`` or ``high`` while the estimate is elsewhere (a message says so).
    diagnostics : dict
        ``percentile_ci`` (the quantiles of the replicates, clipped; always given so that both
        intervals can be compared), ``bias`` (the bootstrap bias estimate ``mean(replicates) -
        estimate``; nan without replicates) and ``interval`` (the name of the reported one).
    warnings : list of str
        One sentence when the reported interval excludes the point estimate. The caller adds it
        to ``Estimate.warnings`` and issues it as a :class:`~neurocomplex.NeurocomplexWarning`.

    Notes
    -----
    A bootstrap interval describes sampling variability: how much the estimate would move on
    another sample of the same size. It does not cover the estimator's own bias. The basic
    interval ``(2 T - q_high, 2 T - q_low)`` (``T`` = ``estimate``, ``q`` the replicate quantiles)
    moves by the bootstrap bias ``mean(q) - T``; when that shift is larger than the half-width,
    the interval no longer contains ``T`` (typical of plug-in entropies of undersampled words)
    and neither interval should be read as covering the true value.

    Examples
    --------
    >>> ci, diag, msgs = interval_report(np.array([0.0, 1.0, 2.0]), 1.0, ci_level=0.5)
    >>> ci, diag["percentile_ci"], diag["bias"], msgs
    ((0.5, 1.5), (0.5, 1.5), 0.0, [])
    >>> ci, diag, msgs = interval_report(np.array([0.8, 0.9, 1.0]), 1.0, ci_level=0.5)
    >>> ci, round(diag["bias"], 6), len(msgs)
    ((1.05, 1.15), -0.1, 1)

    An interval clipped whole onto a bound the estimate is not at is not reported:

    >>> ci, diag, msgs = interval_report(np.array([0.5, 0.6, 0.7]), 0.9, ci_level=0.5, high=1.0)
    >>> ci, "entirely beyond 1" in msgs[0]
    (None, True)
    """
    reps = np.asarray(replicates, dtype=float)
    reps = reps[np.isfinite(reps)]
    ci = interval_from_replicates(reps, ci_level, interval, estimate, low, high)
    pct = ci if interval == "percentile" else interval_from_replicates(reps, ci_level, "percentile", None, low, high)
    bias = float(reps.mean() - estimate) if reps.size else math.nan
    diagnostics: dict[str, Any] = {"percentile_ci": pct, "bias": bias, "interval": interval}
    messages: list[str] = []
    bound = high if ci is not None and ci[0] >= high else low if ci is not None and ci[1] <= low else None
    if bound is not None and not math.isclose(estimate, bound, rel_tol=1e-9):
        # The whole interval was clipped onto a bound the estimate is not at: it says nothing.
        messages.append(
            f"the {ci_level:.0%} {interval} bootstrap interval lies entirely beyond {bound:.4g}, a bound the "
            f"value cannot cross, so no interval is given (estimate {estimate:.4g}; bootstrap bias estimate "
            f"{bias:+.3g}; percentile interval in diagnostics['percentile_ci'])."
        )
        return None, diagnostics, messages
    if ci is not None and not ci[0] <= estimate <= ci[1]:
        messages.append(
            f"the {ci_level:.0%} {interval} bootstrap interval ({ci[0]:.4g}, {ci[1]:.4g}) excludes the "
            f"estimate {estimate:.4g}: it covers sampling variability only, not the estimator's bias "
            f"(bootstrap bias estimate {bias:+.3g}; percentile interval in diagnostics['percentile_ci'])."
        )
    return ci, diagnostics, messages
