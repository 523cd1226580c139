"""Training dynamics: power-law fits with model comparison, and scaling ranges (MEASURES.md §7).

Curves recorded over training (a layer's effective dimension, the size of the training response,
a loss) are often summarised by a power law y = A x^−β. :func:`fit_power_law` fits it in log space
over a stated range, gives a bootstrap interval for β, and says by how much (AIC) an exponential or
a stretched exponential would describe the same points better; :func:`find_scaling_range` finds
where in x a power law holds at all. This module does not import torch.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from neurocomplex._validation import check_float, check_int
from neurocomplex.errors import InsufficientDataError, InvalidDataError, InvalidParameterError, NeurocomplexWarning
from neurocomplex.estimate import Estimate, bootstrap_indices, check_bootstrap_params, register_estimator

__all__ = ["fit_power_law", "find_scaling_range"]

_MODELS = ("power_law", "exponential", "stretched_exponential")
# Exponents of the stretched exponential exp(−(x/τ)^γ) that are searched: γ → 0 would turn it
# into a power law (x^γ ≈ 1 + γ log x) and make the comparison meaningless.
_GAMMA_BOUNDS = (0.05, 3.0)
# Floor of the residual sum of squares (per point) so that exact data give a finite AIC.
_RSS_FLOOR = 1e-24


# --------------------------------------------------------------------------- input checks
def _as_series(x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    try:
        xa = np.asarray(x, dtype=float)
        ya = np.asarray(y, dtype=float)
    except (TypeError, ValueError) as err:
        raise InvalidDataError(f"x and y must be numeric 1-D arrays: {err}") from err
    if xa.ndim != 1 or ya.ndim != 1 or xa.shape != ya.shape:
        raise InvalidDataError(
            f"x and y must be 1-D arrays of the same length, got shapes {xa.shape} and {ya.shape}."
        )
    bad = ~(np.isfinite(xa) & np.isfinite(ya))
    if bad.any():
        raise InvalidDataError(
            f"x or y contain NaN or inf (first at index {int(np.argmax(bad))}); drop those points first."
        )
    return xa, ya


def _select_range(xa: np.ndarray, ya: np.ndarray, x_min: float | None, x_max: float | None,
                  min_points: int) -> tuple[np.ndarray, np.ndarray]:
    lo = -math.inf if x_min is None else x_min
    hi = math.inf if x_max is None else x_max
    if lo > hi:
        raise InvalidParameterError(f"x_min={x_min} is larger than x_max={x_max}.")
    keep = (xa >= lo) & (xa <= hi)
    xs, ys = xa[keep], ya[keep]
    if xs.size < min_points:
        raise InsufficientDataError(
            f"{xs.size} points lie in the range [{lo}, {hi}]; a power-law fit needs at least {min_points}: "
            "widen x_min/x_max or record more points."
        )
    if np.ptp(np.log(xs)) == 0:
        raise InsufficientDataError("all x values in the fitted range are equal; a slope needs distinct x.")
    order = np.argsort(xs, kind="stable")
    return xs[order], ys[order]


# --------------------------------------------------------------------------- model fits
def _ols(h: np.ndarray, ly: np.ndarray) -> tuple[float, float, float]:
    """Least squares ``ly ≈ a − b h``; returns (a, b, rss)."""
    hm, ym = h.mean(), ly.mean()
    dh = h - hm
    sxx = float(dh @ dh)
    b = -float(dh @ (ly - ym)) / sxx if sxx > 0 else 0.0
    a = ym + b * hm
    r = ly - (a - b * h)
    return a, b, float(r @ r)


def _basis(model: str, xt: np.ndarray, gamma: float = 1.0) -> np.ndarray:
    if model == "power_law":
        return np.log(xt)
    if model == "exponential":
        return xt
    return xt**gamma


def _log_model(model: str, theta: np.ndarray, xt: np.ndarray, offset: bool) -> np.ndarray:
    """log of the model at scaled x; theta = (a, b[, log γ][, c])."""
    gamma = math.exp(theta[2]) if model == "stretched_exponential" else 1.0
    core = theta[0] - theta[1] * _basis(model, xt, gamma)
    if not offset:
        return core
    with np.errstate(over="ignore"):
        m = np.exp(np.clip(core, -700, 700)) + theta[-1]
    # A non-positive model value has no log: a large finite residual steers the solver away.
    return np.log(np.where(m > 0, m, 1e-300))


def _fit_no_offset(model: str, xt: np.ndarray, ly: np.ndarray) -> tuple[np.ndarray, float]:
    if model != "stretched_exponential":
        a, b, rss = _ols(_basis(model, xt), ly)
        return np.array([a, b]), rss
    from scipy.optimize import minimize_scalar

    lo, hi = np.log(_GAMMA_BOUNDS)

    def profile(log_gamma: float) -> float:
        return _ols(xt ** math.exp(log_gamma), ly)[2]

    grid = np.linspace(lo, hi, 25)
    best = grid[int(np.argmin([profile(g) for g in grid]))]
    step = grid[1] - grid[0]
    res = minimize_scalar(profile, bounds=(max(lo, best - step), min(hi, best + step)), method="bounded",
                          options={"xatol": 1e-6})
    lg = float(res.x) if res.fun <= profile(best) else float(best)
    a, b, rss = _ols(xt ** math.exp(lg), ly)
    return np.array([a, b, lg]), rss


def _offset_starts(model: str, xt: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    """Starting points: the offset-free fit of log(y − c0) on a grid of offsets c0 below min(y)."""
    ymin, span = float(y.min()), float(np.ptp(y))
    grid = np.concatenate([[0.0], ymin * (1.0 - np.logspace(-3, -0.05, 12)), -span * np.array([0.1, 1.0])])
    starts = []
    for c0 in grid:
        if np.all(y - c0 > 0):
            theta, _ = _fit_no_offset(model, xt, np.log(y - c0))
            starts.append(np.append(theta, c0))
    return starts


def _jac_offset(model: str, theta: np.ndarray, xt: np.ndarray) -> np.ndarray:
    """Jacobian of the residual ly − log(exp(a − b h) + c) with respect to theta."""
    gamma = math.exp(theta[2]) if model == "stretched_exponential" else 1.0
    h = _basis(model, xt, gamma)
    with np.errstate(over="ignore"):
        e = np.exp(np.clip(theta[0] - theta[1] * h, -700, 700))
    m = e + theta[-1]
    m = np.where(m > 0, m, 1e-300)
    w = e / m
    cols = [w, -w * h]
    if model == "stretched_exponential":
        cols.append(-w * theta[1] * h * np.log(xt) * gamma)
    cols.append(1.0 / m)
    return -np.stack(cols, axis=1)


def _solve_offset(model: str, xt: np.ndarray, ly: np.ndarray, start: np.ndarray,
                  tol: float = 1e-12) -> tuple[np.ndarray, float]:
    from scipy.optimize import least_squares

    def resid(theta: np.ndarray) -> np.ndarray:
        return ly - _log_model(model, theta, xt, True)

    lower = np.full(start.size, -np.inf)
    upper = np.full(start.size, np.inf)
    if model == "stretched_exponential":
        lower[2], upper[2] = np.log(_GAMMA_BOUNDS)
    x0 = np.clip(start, lower + 1e-9, upper - 1e-9)
    res = least_squares(resid, x0, jac=lambda t: _jac_offset(model, t, xt), bounds=(lower, upper),
                        method="trf", x_scale="jac", xtol=tol, ftol=tol, gtol=tol, max_nfev=500)
    r = resid(res.x)
    return res.x, float(r @ r)


def _fit_model(model: str, xt: np.ndarray, y: np.ndarray, offset: bool) -> tuple[np.ndarray, float]:
    ly = np.log(y)
    if not offset:
        return _fit_no_offset(model, xt, ly)
    starts = _offset_starts(model, xt, y)
    # Score the starts by the true log residuals; refine the two best.
    scored = sorted(starts, key=lambda t: float(np.sum((ly - _log_model(model, t, xt, True)) ** 2)))
    fits = [_solve_offset(model, xt, ly, s) for s in scored[:2]]
    return min(fits, key=lambda f: f[1])


def _aic(rss: float, n: int, k: int) -> float:
    # Gaussian likelihood of the log residuals with the variance profiled out; +1 for the variance.
    return n * math.log(max(rss, n * _RSS_FLOOR) / n) + 2 * (k + 1)


def _power_params(theta: np.ndarray, x_ref: float, offset: bool) -> tuple[float, float, float]:
    beta = float(theta[1])
    amplitude = math.exp(theta[0]) * x_ref**beta
    return beta, amplitude, float(theta[-1]) if offset else 0.0


def _alt_params(model: str, theta: np.ndarray, x_ref: float, offset: bool) -> dict[str, float]:
    b = float(theta[1])
    gamma = math.exp(theta[2]) if model == "stretched_exponential" else 1.0
    # exp(a − b (x/x_ref)^γ) = A exp(−sign(b) (x/τ)^γ) with τ = x_ref |b|^(−1/γ)
    tau = x_ref * abs(b) ** (-1.0 / gamma) if b != 0 else math.inf
    out = {"A": math.exp(theta[0]), "tau": tau if b >= 0 else -tau, "c": float(theta[-1]) if offset else 0.0}
    if model == "stretched_exponential":
        out["gamma"] = gamma
    return out


# --------------------------------------------------------------------------- bootstrap
def _boot_slopes(lx: np.ndarray, ly: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    idx = np.stack(list(bootstrap_indices(lx.size, n_boot, seed)))
    bx, by = lx[idx], ly[idx]
    dx = bx - bx.mean(axis=1, keepdims=True)
    sxx = np.einsum("ij,ij->i", dx, dx)
    sxy = np.einsum("ij,ij->i", dx, by)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(sxx > 0, -sxy / sxx, np.nan)


def _boot_offset(xt: np.ndarray, y: np.ndarray, theta: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    """β of every pairs-bootstrap replicate of the offset power law, refitted all at once.

    A batched Levenberg–Marquardt on the log residuals, warm-started at the full-data fit
    (replicates are small perturbations of the data, so a few damped Gauss–Newton steps converge).
    """
    idx = np.stack(list(bootstrap_indices(xt.size, n_boot, seed)))
    h, ly = np.log(xt)[idx], np.log(y)[idx]                    # (n_boot, n)

    def resid_jac(th: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with np.errstate(over="ignore"):
            e = np.exp(np.clip(th[:, :1] - th[:, 1:2] * h, -700, 700))
        m = e + th[:, 2:3]
        pos = m > 0
        m = np.where(pos, m, 1e-300)
        r = ly - np.log(m)
        w = e / m
        jac = -np.stack([w, -w * h, 1.0 / m], axis=2)          # d r / d theta
        return r, jac

    th = np.repeat(theta[None, :], n_boot, axis=0)
    lam = np.full(n_boot, 1e-3)
    r, jac = resid_jac(th)
    cost = np.einsum("ij,ij->i", r, r)
    eye = np.eye(3)
    for _ in range(100):
        jtj = np.einsum("bni,bnj->bij", jac, jac)
        jtr = np.einsum("bni,bn->bi", jac, r)
        damp = jtj + lam[:, None, None] * (jtj * eye + 1e-12 * eye)
        try:
            step = -np.linalg.solve(damp, jtr[:, :, None])[:, :, 0]
        except np.linalg.LinAlgError:
            step = -np.einsum("bij,bj->bi", np.linalg.pinv(damp), jtr)
        trial = th + step
        r_new, jac_new = resid_jac(trial)
        cost_new = np.einsum("ij,ij->i", r_new, r_new)
        better = np.isfinite(cost_new) & (cost_new < cost)
        gain = np.where(better, (cost - cost_new) / np.maximum(cost, 1e-300), 0.0)
        th = np.where(better[:, None], trial, th)
        r = np.where(better[:, None], r_new, r)
        jac = np.where(better[:, None, None], jac_new, jac)
        cost = np.where(better, cost_new, cost)
        lam = np.where(better, lam / 3.0, lam * 4.0)
        if np.all((gain < 1e-12) | (lam > 1e12)):
            break
    beta = th[:, 1].copy()
    beta[np.ptp(h, axis=1) == 0] = np.nan
    return beta


# --------------------------------------------------------------------------- public API
@register_estimator(family="dynamics", input="series",
                    invalid_params=({"offset": "yes"}, {"x_min": 10.0, "x_max": 1.0}))
def fit_power_law(
    x: Any,
    y: Any,
    x_min: float | None = None,
    x_max: float | None = None,
    offset: bool = False,
    n_boot: int = 200,
    seed: int = 0,
    ci_level: float = 0.95,
) -> Estimate:
    """Fit y = A x^−β (+ c) in log space over a stated range, compared with exponential decays.

    Parameters
    ----------
    x : array_like, shape (n_points,)
        Positive abscissae (training steps, epochs, scales).
    y : array_like, shape (n_points,)
        Positive values of the curve at ``x``.
    x_min, x_max : float, optional
        Inclusive range of ``x`` that is fitted (default: all points).
    offset : bool
        Fit y = A x^−β + c (nonlinear least squares on log residuals) instead of y = A x^−β.
    n_boot : int
        Bootstrap replicates for the interval of β (0: no interval).
    seed : int
        Seed of the bootstrap.
    ci_level : float
        Coverage of the interval.

    Returns
    -------
    Estimate
        ``value`` = β, ``ci`` = bootstrap interval of β. ``diagnostics``: ``A``, ``c``,
        ``r_squared`` (of log y), ``x_range`` (smallest and largest x fitted), ``n_points``,
        ``decades`` (log10 span of the range), ``aic`` (per model), ``preferred`` (model of lowest
        AIC), ``delta_aic`` (AIC of the power law minus the lowest), ``exponential`` and
        ``stretched_exponential`` (their fitted parameters), ``log_residual_std``, ``replicates``,
        ``x`` and ``y`` (the data handed in, for plotting).

    Raises
    ------
    InvalidDataError
        x and y are not 1-D arrays of one length, contain NaN/inf, x <= 0 or y <= 0.
    InvalidParameterError
        Bad ``x_min``/``x_max``, ``offset``, ``n_boot``, ``seed`` or ``ci_level``.
    InsufficientDataError
        Fewer than 4 points in the range (5 with ``offset``), or a single x value.

    Notes
    -----
    With β = ``value``, A = ``diagnostics["A"]`` and c = ``diagnostics["c"]`` (0 without
    ``offset``), the model is y = A x^−β + c, fitted to the points with ``x_min <= x <= x_max`` by
    minimising Σ (log y − log(A x^−β + c))². Without offset this is ordinary least squares of
    log y on log x. With offset, scipy's ``least_squares`` starts from the best of the offset-free
    fits of log(y − c0) over a grid of offsets c0 below min(y). y must be positive in both cases,
    because the residuals are logarithmic.

    The interval of β is a case (pairs) bootstrap: the (x, y) points are resampled with
    replacement and refitted; its percentile interval is ``ci``. Resampling pairs, unlike
    resampling residuals, stays valid when the scatter changes along the curve.

    The alternatives are the exponential y = A e^(−x/τ) (+ c) and the stretched exponential
    y = A e^(−(x/τ)^γ) (+ c) with γ in [0.05, 3] (a negative τ in ``diagnostics`` means growth,
    e^(+(x/|τ|)^γ)). Every model is scored on the same points by
    AIC = n log(RSS/n) + 2(k + 1), the Gaussian likelihood of its log residuals with k fitted
    parameters plus the variance. When an alternative has the lowest AIC, a NeurocomplexWarning
    says that no power law holds over the range and by how much AIC; a difference below 2 means
    the data barely tell the models apart (Burnham & Anderson 2002).

    References
    ----------
    .. [1] R. A. Janik, P. Witaszczyk, "Complexity for deep neural networks and other
       characteristics of deep feature representations", arXiv:2006.04791 (2020) — power-law
       scaling during training; the fitting procedure is the project's definition.
    .. [2] K. Nakazato, "A simple theory for training response of deep neural networks",
       arXiv:2405.04074 (2024) — power-law-like aging of the training response.
    .. [3] K. P. Burnham, D. R. Anderson, "Model Selection and Multimodel Inference", Springer (2002).

    Examples
    --------
    >>> import numpy as np, neurocomplex as nc
    >>> t = np.logspace(0, 3, 30)
    >>> est = nc.fit_power_law(t, 5.0 * t**-0.7, n_boot=0)
    >>> round(est.value, 6), round(est.diagnostics["A"], 6), est.diagnostics["preferred"]
    (0.7, 5.0, 'power_law')
    """
    if not isinstance(offset, (bool, np.bool_)):
        raise InvalidParameterError(f"offset must be True or False, got {offset!r}.")
    x_min = check_float("x_min", x_min, allow_none=True)
    x_max = check_float("x_max", x_max, allow_none=True)
    n_boot = check_int("n_boot", n_boot, minimum=0)
    seed = check_int("seed", seed, minimum=0)
    check_bootstrap_params(n_boot, ci_level, None)
    if x_min is not None and x_max is not None and x_min > x_max:
        raise InvalidParameterError(f"x_min={x_min} is larger than x_max={x_max}; swap them.")
    xa, ya = _as_series(x, y)
    if np.any(xa <= 0):
        raise InvalidDataError(f"x must be positive for a power law (x[{int(np.argmax(xa <= 0))}] = "
                               f"{xa[xa <= 0][0]}); drop step 0 or shift x.")
    if np.any(ya <= 0):
        raise InvalidDataError(
            f"y must be positive: the fit uses log residuals (y[{int(np.argmax(ya <= 0))}] = {ya[ya <= 0][0]}); "
            "drop non-positive points or fit a transformed curve."
        )
    min_points = 5 if offset else 4
    xs, ys = _select_range(xa, ya, x_min, x_max, min_points)
    n = xs.size
    # Scale x by its geometric mean so that the optimiser sees numbers of order 1.
    x_ref = float(np.exp(np.mean(np.log(xs))))
    xt = xs / x_ref
    ly = np.log(ys)

    fits = {m: _fit_model(m, xt, ys, bool(offset)) for m in _MODELS}
    n_par = {"power_law": 2, "exponential": 2, "stretched_exponential": 3}
    aic = {m: _aic(fits[m][1], n, n_par[m] + int(offset)) for m in _MODELS}
    preferred = min(_MODELS, key=lambda m: (aic[m], _MODELS.index(m)))
    delta = aic["power_law"] - aic[preferred]

    theta, rss = fits["power_law"]
    beta, amplitude, c = _power_params(theta, x_ref, bool(offset))
    tss = float(np.sum((ly - ly.mean()) ** 2))
    r2 = 1.0 - rss / tss if tss > 0 else 1.0

    if n_boot:
        reps = (_boot_offset(xt, ys, theta, n_boot, seed) if offset
                else _boot_slopes(np.log(xt), ly, n_boot, seed))
        reps = reps[np.isfinite(reps)]
        # Pairs-bootstrap spread is that of the HC0 sandwich variance, low by n/(n − k) (k fitted
        # parameters); widen it about the estimate like the HC1 correction (MacKinnon & White 1985).
        k = 2 + int(offset)
        reps = beta + (reps - beta) * math.sqrt(n / (n - k))
    else:
        reps = np.empty(0)
    ci = None
    if reps.size >= 2:
        alpha = (1.0 - ci_level) / 2.0
        ci = tuple(float(q) for q in np.quantile(reps, [alpha, 1.0 - alpha]))

    notes: list[str] = []
    if preferred != "power_law":
        name = preferred.replace("_", " ")
        msg = (f"no power law holds over x in [{xs[0]:.4g}, {xs[-1]:.4g}]: the {name} fits the same "
               f"{n} points better by ΔAIC = {delta:.3g}")
        if delta < 2:
            msg += " (below 2: the data barely distinguish the two)"
        notes.append(msg + ".")
    for msg in notes:
        warnings.warn(msg, NeurocomplexWarning, stacklevel=2)

    diagnostics = {
        "A": amplitude,
        "c": c,
        "r_squared": r2,
        "x_range": (float(xs[0]), float(xs[-1])),
        "n_points": int(n),
        "decades": float(np.log10(xs[-1] / xs[0])),
        "aic": aic,
        "preferred": preferred,
        "delta_aic": float(delta),
        "exponential": _alt_params("exponential", fits["exponential"][0], x_ref, bool(offset)),
        "stretched_exponential": _alt_params("stretched_exponential", fits["stretched_exponential"][0],
                                             x_ref, bool(offset)),
        "log_residual_std": math.sqrt(rss / n),
        "replicates": reps,
        "x": xa.copy(),
        "y": ya.copy(),
    }
    params = {"x_min": x_min, "x_max": x_max, "offset": bool(offset), "n_boot": n_boot, "seed": seed,
              "ci_level": ci_level}
    return Estimate(value=beta, ci=ci, method="log_least_squares_offset" if offset else "log_least_squares",
                    params=params, n_samples=int(n), n_units=1, diagnostics=diagnostics, warnings=tuple(notes))


def _local_slopes(lx: np.ndarray, ly: np.ndarray, half_width: float) -> np.ndarray:
    """Slope of log y on log x over the points within ``half_width`` (natural log) of each point."""
    n = lx.size
    i = np.arange(n)
    lo = np.minimum(np.searchsorted(lx, lx - half_width, side="left"), np.maximum(i - 1, 0))
    hi = np.maximum(np.searchsorted(lx, lx + half_width, side="right"), np.minimum(i + 2, n))
    lo = np.clip(np.minimum(lo, hi - 3), 0, None)
    hi = np.clip(np.maximum(hi, lo + 3), None, n)
    c = [np.concatenate([[0.0], np.cumsum(v)]) for v in (np.ones(n), lx, ly, lx * lx, lx * ly)]
    cnt, sx, sy, sxx, sxy = (v[hi] - v[lo] for v in c)
    var = sxx - sx * sx / cnt
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(var > 0, (sxy - sx * sy / cnt) / var, np.nan)


def find_scaling_range(
    x: Any,
    y: Any,
    min_decades: float = 1.0,
    tolerance: float = 0.2,
    window_decades: float = 0.5,
    min_points: int = 5,
    n_boot: int = 200,
    seed: int = 0,
    ci_level: float = 0.95,
) -> Estimate:
    """The longest range of x over which y is a power law (its local log–log slope is stable).

    Parameters
    ----------
    x, y : array_like, shape (n_points,)
        Positive curve (as for :func:`fit_power_law`).
    min_decades : float
        Shortest acceptable range, in decades of x.
    tolerance : float
        Largest allowed difference between a local slope in the range and the slope fitted over
        the whole range (in units of the exponent β).
    window_decades : float
        Width, in decades of x, of the sliding window that measures the local slope. Noisy data
        need a wider window or a larger ``tolerance``.
    min_points : int
        Fewest points a range may hold (at least 4).
    n_boot, seed, ci_level
        Bootstrap of β over the range found (see :func:`fit_power_law`).

    Returns
    -------
    Estimate
        The :func:`fit_power_law` estimate over the range found (``value`` = β, ``ci``), with
        ``method="scaling_range"`` and extra ``diagnostics``: ``found`` (whether the range spans at
        least ``min_decades``), ``local_slopes`` and ``x_sorted`` (the slope at each point). When no
        range of ``min_decades`` exists, ``value`` is NaN, ``ci`` is None, the longest stable range
        and its slope are still reported (``x_range``, ``decades``, ``longest_beta``) and a
        NeurocomplexWarning says so.

    Raises
    ------
    InvalidDataError
        As :func:`fit_power_law` (shapes, NaN/inf, non-positive values).
    InvalidParameterError
        Non-positive ``min_decades``, ``tolerance`` or ``window_decades``; ``min_points`` < 4.
    InsufficientDataError
        Fewer than ``min_points`` points.

    Notes
    -----
    With s_k the local slope −d log y / d log x at point k (least squares over the points within
    ``window_decades``/2 of it) and β_ij the slope fitted over points i..j, a range i..j is stable
    when max_k |s_k − β_ij| <= ``tolerance`` for every k in i..j. Among the stable ranges with at
    least ``min_points`` points the one spanning most decades is returned. Local slopes near the
    ends of a true scaling range mix in the neighbouring regime, so the range found lies up to
    half a window inside the true one. This is the project's definition. Work and memory grow as
    n_points².

    References
    ----------
    .. [1] R. A. Janik, P. Witaszczyk, "Complexity for deep neural networks and other
       characteristics of deep feature representations", arXiv:2006.04791 (2020) — scaling
       exponents are reported where the curve is straight in log–log; the range criterion is the
       project's definition.

    Examples
    --------
    >>> import numpy as np, neurocomplex as nc
    >>> x = np.logspace(0, 5, 101)
    >>> y = np.where(x < 10, 10.0**-1.5, x**-1.5)          # flat below 10, then slope 1.5
    >>> est = nc.find_scaling_range(x, y, n_boot=0)
    >>> round(est.value, 3), est.diagnostics["x_range"][0] >= 10
    (1.5, True)
    """
    min_decades = check_float("min_decades", min_decades, 0.0, low_open=True)
    tolerance = check_float("tolerance", tolerance, 0.0, low_open=True)
    window_decades = check_float("window_decades", window_decades, 0.0, low_open=True)
    min_points = check_int("min_points", min_points, minimum=4)
    xa, ya = _as_series(x, y)
    if np.any(xa <= 0) or np.any(ya <= 0):
        raise InvalidDataError("x and y must be positive to measure log–log slopes; drop non-positive points.")
    if xa.size < min_points:
        raise InsufficientDataError(f"{xa.size} points; a scaling range needs at least {min_points}.")
    order = np.argsort(xa, kind="stable")
    lx, ly = np.log(xa[order]), np.log(ya[order])
    n = lx.size
    local = _local_slopes(lx, ly, 0.5 * window_decades * math.log(10))

    # Slopes of every contiguous range i..j from cumulative sums (n x n, vectorized).
    c = [np.concatenate([[0.0], np.cumsum(v)]) for v in (np.ones(n), lx, ly, lx * lx, lx * ly)]
    i, j = np.arange(n)[:, None], np.arange(n)[None, :]
    cnt, sx, sy, sxx, sxy = (v[j + 1] - v[i] for v in c)
    var = sxx - sx * sx / np.maximum(cnt, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        beta = np.where(var > 1e-300, -(sxy - sx * sy / np.maximum(cnt, 1)) / var, np.nan)
    s = np.where(np.isfinite(local), -local, np.nan)
    upper = np.where(j >= i, np.broadcast_to(np.nan_to_num(s, nan=np.inf), (n, n)), -np.inf)
    lower = np.where(j >= i, np.broadcast_to(np.nan_to_num(s, nan=-np.inf), (n, n)), np.inf)
    s_max = np.maximum.accumulate(upper, axis=1)
    s_min = np.minimum.accumulate(lower, axis=1)
    ok = (j >= i) & (cnt >= min_points) & np.isfinite(beta)
    ok &= (s_max - beta <= tolerance) & (beta - s_min <= tolerance)
    span = np.where(ok, lx[None, :] - lx[:, None], -np.inf)

    notes: list[str] = []
    if not np.isfinite(span.max()):
        msg = (f"no range of {min_points} or more points has a stable log–log slope (tolerance {tolerance}); "
               "no power law holds anywhere in these data at this tolerance.")
        warnings.warn(msg, NeurocomplexWarning, stacklevel=2)
        return Estimate(value=math.nan, ci=None, method="scaling_range",
                        params={"min_decades": min_decades, "tolerance": tolerance, "window_decades": window_decades,
                                "min_points": min_points, "n_boot": n_boot, "seed": seed, "ci_level": ci_level},
                        n_samples=int(n), n_units=1,
                        diagnostics={"found": False, "local_slopes": s, "x_sorted": np.exp(lx)}, warnings=(msg,))
    # Longest span; among equal spans, the one with more points.
    best = np.flatnonzero(span.ravel() == span.max())
    bi, bj = np.unravel_index(best[np.argmax(cnt.ravel()[best])], span.shape)
    x_lo, x_hi = float(np.exp(lx[bi])), float(np.exp(lx[bj]))
    decades = (lx[bj] - lx[bi]) / math.log(10)
    found = decades >= min_decades
    with warnings.catch_warnings():  # the AIC caveat of the sub-fit is repeated below if it applies
        warnings.simplefilter("ignore", NeurocomplexWarning)
        fit = fit_power_law(np.exp(lx), np.exp(ly), x_min=x_lo, x_max=x_hi, n_boot=n_boot if found else 0,
                            seed=seed, ci_level=ci_level)
    notes.extend(fit.warnings)
    if not found:
        notes.append(f"no scaling range of at least {min_decades} decades: the longest stable range is "
                     f"[{x_lo:.4g}, {x_hi:.4g}] ({decades:.2f} decades, slope {fit.value:.3g}); value is NaN.")
    for msg in notes:
        warnings.warn(msg, NeurocomplexWarning, stacklevel=2)
    diagnostics = dict(fit.diagnostics)
    diagnostics.update({"found": bool(found), "local_slopes": s, "x_sorted": np.exp(lx),
                        "longest_beta": fit.value})
    params = {"min_decades": min_decades, "tolerance": tolerance, "window_decades": window_decades,
              "min_points": min_points, "n_boot": n_boot, "seed": seed, "ci_level": ci_level}
    return Estimate(value=fit.value if found else math.nan, ci=fit.ci if found else None, method="scaling_range",
                    params=params, n_samples=fit.n_samples, n_units=1, diagnostics=diagnostics,
                    warnings=tuple(notes))

