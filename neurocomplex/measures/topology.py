"""Topological entropy, laps and Lipschitz constants of maps of an interval (MEASURES.md §5).

For a continuous map f of an interval [a, b] into itself, ``laps(f^n)`` is the number of maximal
monotone pieces of its n-fold composition and the topological entropy is
h(f) = lim (1/n) log laps(f^n) (Misiurewicz & Szlenk 1980). Bu, Zhang & Luo (2020) use it to
measure how deep and wide a ReLU network must be to oscillate: h = O(l log m) for l layers of m
units. Any vectorised Python callable works (counted on an adaptively refined grid); a torch
network R -> R made of Linear layers and piecewise-linear activations is counted exactly from its
breakpoints (see :mod:`neurocomplex.measures._pwl`). Nothing here imports torch unless a torch
module is handed in.
"""

from __future__ import annotations

import collections
import copy
import math
import warnings
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from neurocomplex.errors import (
    InsufficientDataError,
    InvalidDataError,
    InvalidParameterError,
    NeurocomplexWarning,
)
from neurocomplex.estimate import Estimate, register_estimator
from neurocomplex.measures import _pwl

__all__ = ["laps", "topological_entropy", "relu_entropy_bound", "lipschitz_estimate"]

_INVALID = (
    {"n_max": 1},
    {"interval": (1.0, 0.0)},
    {"interval": (0.0, float("nan"))},
    {"grid": 2},
)


# --------------------------------------------------------------------------- parameters
def _check_interval(interval: Any) -> tuple[float, float]:
    try:
        a, b = (float(v) for v in interval)
    except (TypeError, ValueError) as err:
        raise InvalidParameterError(f"interval must be a pair (a, b) of numbers, got {interval!r}.") from err
    if not (math.isfinite(a) and math.isfinite(b) and a < b):
        raise InvalidParameterError(f"interval=({a}, {b}) must be finite with a < b.")
    return a, b


def _check_common(grid: Any, tol: Any, value_tol: Any, max_pieces: Any, max_points: Any) -> None:
    if isinstance(grid, bool) or not isinstance(grid, (int, np.integer)) or grid < 3:
        raise InvalidParameterError(f"grid (initial number of grid points) must be an integer >= 3, got {grid!r}.")
    for name, val in (("tol", tol), ("value_tol", value_tol)):
        if isinstance(val, bool) or not isinstance(val, (int, float)) or not 0 < val < 1e-2:
            raise InvalidParameterError(f"{name} must be a relative tolerance in (0, 0.01), got {val!r}.")
    for name, val in (("max_pieces", max_pieces), ("max_points", max_points)):
        if isinstance(val, bool) or not isinstance(val, (int, np.integer)) or val < 16:
            raise InvalidParameterError(f"{name} must be an integer >= 16, got {val!r}.")


def _resolve(f: Any, exact: bool | None, activations: Mapping[Any, Any] | None) -> tuple[str, Any]:
    """("net", PiecewiseLinearNet) for exact counting, else ("callable", vectorised function)."""
    if exact not in (None, True, False):
        raise InvalidParameterError(f"exact must be None (automatic), True or False, got {exact!r}.")
    if _pwl.is_torch_module(f):
        net = None
        if exact is not False:
            try:
                net = _pwl.parse_network(f, activations)
            except InvalidParameterError:
                if exact:
                    raise
        if net is not None:
            if net.n_in != 1 or net.n_out != 1:
                raise InvalidParameterError(
                    f"the network maps R^{net.n_in} to R^{net.n_out}; laps and topological entropy need a "
                    "map R -> R (one input, one output)."
                )
            return "net", net
        return "callable", _torch_callable(f)
    if exact:
        raise InvalidParameterError(
            "exact=True needs a torch network of Linear layers and piecewise-linear activations; "
            f"got {type(f).__name__}. Use exact=None to count a callable on a refined grid."
        )
    if not callable(f):
        raise InvalidParameterError(f"f must be a callable or a torch module, got {type(f).__name__}.")
    return "callable", f


def _torch_callable(module: Any) -> Callable[[np.ndarray], np.ndarray]:
    import torch

    model = copy.deepcopy(module).to(torch.float64)  # a copy: the user's model is never touched

    def fn(x: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            out = model(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float64)).reshape(-1, 1))
        if out.numel() != x.size:
            raise InvalidParameterError(f"the network maps R to R^{out.numel() // max(x.size, 1)}; a map R -> R is needed.")
        return out.reshape(-1).numpy()

    return fn


# --------------------------------------------------------------------------- grid counting
def _call(f: Callable[..., Any], x: np.ndarray) -> np.ndarray:
    try:
        out = np.asarray(f(x), dtype=np.float64)
        if out.size == x.size:
            return out.reshape(x.shape)
    except (TypeError, ValueError):
        pass
    # not vectorised: evaluate point by point
    try:
        return np.asarray(np.vectorize(f, otypes=[np.float64])(x), dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise InvalidParameterError(f"f could not be evaluated on an array of floats: {err}") from err


def _iterate(f: Callable[..., Any], x: np.ndarray, n: int, a: float, b: float, ytol: float) -> np.ndarray:
    """f^n(x), checking that f^1 .. f^(n-1) stay in [a, b] (excursions below ytol are clipped)."""
    y = x
    for k in range(n):
        prev, y = y, _call(f, y)
        if k == n - 1:
            break  # the last image may leave the interval: f^n is still defined on [a, b]
        bad = ~np.isfinite(y) | (y < a - ytol) | (y > b + ytol)
        if bad.any():
            i = int(np.argmax(bad))
            raise InvalidDataError(
                f"f maps x={float(prev.flat[i])!r} to {float(y.flat[i])!r} (application {k + 1} of {n}, starting "
                f"from x={float(x.flat[i])!r}), outside the interval [{a}, {b}]; f must map the interval into "
                "itself to be composed. Choose the interval it preserves, or rescale f onto it."
            )
        y = np.clip(y, a, b)
    if not np.all(np.isfinite(y)):
        i = int(np.argmax(~np.isfinite(y)))
        raise InvalidDataError(f"f^{n} is not finite at x={float(x.flat[i])!r} (value {float(y.flat[i])!r}).")
    return y


def _signs(d: np.ndarray, ytol: float) -> np.ndarray:
    return np.where(d > ytol, 1, np.where(d < -ytol, -1, 0))


def _turns(s: np.ndarray) -> int:
    """Number of changes of direction of a sign sequence (zeros, flat steps, skipped)."""
    nz = s[s != 0]
    return int(np.count_nonzero(nz[1:] != nz[:-1]))


def _refined_grid(fn: Callable[[np.ndarray], np.ndarray], a: float, b: float, grid: int, xtol: float,
                  ytol: float, max_points: int) -> tuple[np.ndarray, np.ndarray, bool]:
    """Sample fn on a uniform grid, then split (in eight) every step whose samples at its eighths are
    not monotone, recursively, down to steps of xtol. Returns x, fn(x), whether max_points stopped it."""
    x = np.linspace(a, b, int(grid))
    y = fn(x)
    tested = np.zeros(x.size - 1, dtype=bool)
    eighths = np.arange(1, 8) / 8.0
    while True:
        w = np.diff(x)
        idx = np.flatnonzero(~tested & (w > xtol))
        if idx.size == 0:
            return x, y, False
        if x.size + 7 * idx.size > max_points:
            return x, y, True
        xq = x[idx, None] + w[idx, None] * eighths
        yq = fn(xq.reshape(-1)).reshape(-1, 7)
        d = np.diff(np.column_stack([y[idx], yq, y[idx + 1]]), axis=1)
        split = ~(np.all(d >= -ytol, axis=1) | np.all(d <= ytol, axis=1))
        tested[idx] = True
        sidx = idx[split]
        tested[sidx] = False
        pos = np.repeat(sidx + 1, 7)
        x = np.insert(x, pos, xq[split].reshape(-1))
        y = np.insert(y, pos, yq[split].reshape(-1))
        tested = np.insert(tested, pos, False)


def _find_jumps(fn: Callable[[np.ndarray], np.ndarray], x: np.ndarray, y: np.ndarray, xtol: float,
                ytol: float) -> np.ndarray:
    """Indices of the steps of the refined grid across which fn jumps against its direction.

    Only steps where the direction changes can change the count, so the candidates are the steps
    rising (or falling) by more than ``ytol`` next to a step going the other way. Each is cut in
    eight again and again, following the sub-step with the largest rise, down to steps shorter
    than ``xtol / 64`` (at least four cuts): a continuous fn spreads its rise over the sub-steps (a
    smooth one gives each about 1/8), a jump keeps it whole. A candidate is a jump when the largest
    sub-step keeps at least half of its rise at every cut.
    """
    d = np.diff(y)
    s = _signs(d, ytol)
    nz = np.flatnonzero(s)
    turn = s[nz][1:] != s[nz][:-1]
    cand = np.union1d(nz[1:][turn], nz[:-1][turn])
    if cand.size == 0:
        return cand
    lo, hi, rise = x[cand], x[cand + 1], np.abs(d[cand])
    rows = np.arange(cand.size)
    jump = np.ones(cand.size, dtype=bool)
    cuts = np.arange(9) / 8.0
    n_cuts = max(4, math.ceil(math.log(float(np.max(hi - lo)) * 64 / xtol, 8)))
    for _ in range(n_cuts):
        xs = lo[:, None] + (hi - lo)[:, None] * cuts
        xs[:, -1] = hi
        sub = np.abs(np.diff(fn(xs.reshape(-1)).reshape(-1, 9), axis=1))
        k = np.argmax(sub, axis=1)
        jump &= sub[rows, k] >= 0.5 * rise
        lo, hi = xs[rows, k], xs[rows, k + 1]
    return cand[jump]


def _count_laps(d: np.ndarray, jump: np.ndarray, ytol: float) -> int:
    """Laps from the rises ``d`` of consecutive steps, ``jump`` marking the steps where f jumps.

    Without jumps: changes of direction + 1 (flat steps skipped). With jumps, a lap is a maximal
    piece on which f is monotone, the values at the jump points themselves left out (a single
    point is no lap): a jump in the lap's direction continues it, a jump against it ends it, and
    the next lap starts after the jump. Adjacent jump steps (an isolated point between them) count
    as one jump of their total rise.
    """
    if not jump.any():
        return _turns(_signs(d, ytol)) + 1
    first_of_run = jump & ~np.concatenate([[False], jump[:-1]])
    new_token = ~jump | first_of_run
    token = np.cumsum(new_token) - 1
    sign = _signs(np.bincount(token, weights=d), ytol)
    is_jump = jump[new_token]
    keep = np.ones(sign.size, dtype=bool)  # runs of continuous steps with one sign are one token
    keep[1:] = is_jump[1:] | is_jump[:-1] | (sign[1:] != sign[:-1])
    count, direction, open_lap = 0, 0, False
    for j, sg in zip(is_jump[keep].tolist(), sign[keep].tolist()):
        if not j and not open_lap:
            count, direction, open_lap = count + 1, sg, True
        elif not open_lap or sg == 0 or sg == direction:
            continue  # a jump before any lap, a flat step or a removable point, or the same direction
        elif direction == 0:
            direction = sg  # a lap flat so far takes the direction of its first rise
        elif j:
            open_lap = False  # a jump against the direction: the next lap starts after it
        else:
            count, direction = count + 1, sg
    return max(count, 1)


def _grid_laps(f: Callable[..., Any], a: float, b: float, n: int, grid: int, tol: float, value_tol: float,
               max_points: int) -> tuple[int, np.ndarray, np.ndarray, bool, np.ndarray]:
    """laps(f^n) on the refined grid, the grid, f^n on it, whether max_points stopped the refinement,
    and the midpoints of the steps where f^n jumps."""
    ytol = value_tol * (b - a)
    xtol = tol * (b - a)

    def fn(z: np.ndarray) -> np.ndarray:
        return _iterate(f, z, n, a, b, 1e-12 * (b - a))

    x, y, truncated = _refined_grid(fn, a, b, grid, xtol, ytol, max_points)
    jumps = _find_jumps(fn, x, y, xtol, ytol)
    mask = np.zeros(x.size - 1, dtype=bool)
    mask[jumps] = True
    return _count_laps(np.diff(y), mask, ytol), x, y, truncated, 0.5 * (x[jumps] + x[jumps + 1])


def _truncation_warning(n: int, max_points: int) -> str:
    return (f"grid refinement of f^{n} stopped at max_points={max_points} points; laps may be undercounted "
            "(raise max_points or lower n).")


def _jump_warning(n: int, where: np.ndarray) -> str:
    return (f"f^{n} is discontinuous: it jumps at {where.size} point(s), the first near x={float(where[0]):.6g}. "
            "Laps and topological entropy are defined for continuous maps (MEASURES.md §5); here a lap is a "
            "maximal monotone piece between jumps (a jump against a lap's direction ends it).")


# --------------------------------------------------------------------------- exact counting
def _exact_compositions(net: _pwl.PiecewiseLinearNet, a: float, b: float, n_max: int, rescale: bool,
                        tol: float, max_pieces: int) -> Iterator[_pwl.Segments]:
    """The affine pieces of f, f^2, ..., f^n_max on [a, b] (f = the net, rescaled if asked)."""
    seg = _pwl.initial_segments(np.zeros((1, 1)), np.ones((1, 1)), np.array([a]), np.array([b]))
    xtol = tol * (b - a)
    scale, shift = 1.0, 0.0
    for n in range(1, n_max + 1):
        seg = _pwl.propagate(net, seg, xtol, max_pieces)
        if n == 1 and (rescale or n_max > 1):
            ends = np.append(seg.A[:, 0] + seg.t_lo * seg.B[:, 0], seg.A[-1, 0] + seg.t_hi[-1] * seg.B[-1, 0])
            lo, hi = float(ends.min()), float(ends.max())
            if rescale:
                if hi - lo <= 1e-12 * max(abs(lo), abs(hi), 1.0):
                    raise InsufficientDataError(
                        f"the network is constant (= {lo:.6g}) on [{a}, {b}]; it cannot be rescaled onto the interval."
                    )
                scale = (b - a) / (hi - lo)
                shift = a - scale * lo
            else:
                outside = (ends < a - 1e-9 * (b - a)) | (ends > b + 1e-9 * (b - a))
                if outside.any():
                    bad = int(np.argmax(outside))
                    x_bad = np.append(seg.t_lo, seg.t_hi[-1])[bad]
                    raise InvalidDataError(
                        f"the network maps x={x_bad:.6g} to {ends[bad]:.6g}, outside the interval [{a}, {b}] (its "
                        f"range there is [{lo:.6g}, {hi:.6g}]); it must map the interval into itself to be composed. "
                        "Pass rescale=True to compose it with the increasing affine map of its range onto the interval."
                    )
        if rescale:
            seg = _pwl.Segments(seg.line, seg.t_lo, seg.t_hi, scale * seg.A + shift, scale * seg.B)
        seg = _pwl.merge_affine(seg)
        yield seg


def _segment_laps(seg: _pwl.Segments, ytol: float) -> int:
    rise = seg.B[:, 0] * (seg.t_hi - seg.t_lo)
    return _turns(_signs(rise, ytol)) + 1


def _single_kink_bound(net: _pwl.PiecewiseLinearNet) -> float | None:
    return relu_entropy_bound(net.hidden_widths) if net.max_kinks <= 1 else None


# --------------------------------------------------------------------------- public
def laps(
    f: Any,
    interval: tuple[float, float] = (0.0, 1.0),
    n: int = 1,
    grid: int = 4097,
    exact: bool | None = None,
    *,
    rescale: bool = False,
    tol: float = 1e-10,
    value_tol: float = 1e-8,
    max_pieces: int = 1_000_000,
    max_points: int = 4_000_000,
    activations: Mapping[Any, Any] | None = None,
) -> int:
    """Number of maximal monotone pieces (laps) of the n-fold composition f^n on an interval.

    Parameters
    ----------
    f : callable or torch.nn.Module
        A map of ``interval`` into itself: a Python callable (vectorised over numpy arrays, or
        evaluated point by point otherwise) or a torch network R -> R.
    interval : tuple of float
        ``(a, b)`` with a < b.
    n : int
        Number of compositions (f^1 = f).
    grid : int
        Number of points of the initial uniform grid (callables).
    exact : bool or None
        None: exact for torch networks made of Linear layers and piecewise-linear activations
        (ReLU, LeakyReLU, PReLU, |x| as a module named ``Abs``, Hardtanh/ReLU6, Identity), grid
        counting otherwise. True: require exact counting. False: always count on the grid.
    rescale : bool
        Networks only. False: the network must map ``interval`` into itself. True: f is the
        network followed by the increasing affine map that sends its range on ``interval`` onto
        ``interval``: f(x) = a + (b - a) (g(x) - min g) / (max g - min g).
    tol : float
        Relative resolution in x: breakpoints closer than ``tol * (b - a)`` are merged; the grid is
        refined down to steps of that length.
    value_tol : float
        Relative resolution in y: rises smaller than ``value_tol * (b - a)`` count as flat (laps
        of smaller amplitude than this, and floating-point noise, are not counted).
    max_pieces, max_points : int
        Memory limits of the exact and grid methods.
    activations : mapping, optional
        Extra piecewise-linear modules, see :func:`neurocomplex.measures._pwl.parse_network`.

    Returns
    -------
    int
        laps(f^n) >= 1.

    Warns
    -----
    NeurocomplexWarning
        f^n jumps (see Notes), or the grid refinement stopped at ``max_points``.

    Raises
    ------
    InvalidParameterError
        f is not callable, the interval is not a < b, n < 1, a network is not R -> R, or exact=True
        for something that cannot be counted exactly.
    InvalidDataError
        f sends a point of the interval outside it (the message names the point and the step).
    InsufficientDataError
        The exact representation would exceed ``max_pieces`` pieces.

    Notes
    -----
    Exact counting: the network is affine between breakpoints; the breakpoints of f are propagated
    layer by layer (each unit splits the pieces where its pre-activation crosses a kink), f^n is
    built by feeding the pieces of f^(n-1) through the network again, and laps are counted from
    the signs of the slopes (flat pieces do not end a lap).

    Grid counting (callables): f^n is sampled on a uniform grid of ``grid`` points; every step is
    then sampled at its eighths and, when these nine values are not monotone (to ``value_tol``),
    split into eight steps that are tested in turn, recursively, down to steps of
    ``tol * (b - a)``. Laps are the changes of direction of the final samples plus one (flat steps
    skipped). Guarantees: the count never exceeds the true number (each counted change of
    direction is real, up to rounding of f), and every lap that contains a whole step of the final
    grid with a rise above ``value_tol * (b - a)`` is counted — in particular every lap longer than
    twice the initial step (b - a) / (grid - 1). Shorter laps are counted when the test at the
    eighths exposes them; laps clustered far below the initial step can be missed (for the
    logistic map at r = 4, 4096 of 4096 laps at n = 12, 16292 of 16384 at n = 14 with the
    defaults). ``f`` is the map f and ``n`` the exponent n of laps(f^n).

    Discontinuous maps (callables only; networks of piecewise-linear activations are continuous).
    MEASURES.md §5 defines laps for continuous maps. A grid step where f^n changes direction is
    tested for a jump: it is cut in eight again and again down to ``tol * (b - a) / 64``; a rise
    that keeps at least half its size at every cut is a jump (a continuous rise spreads over the
    sub-steps). Each jump is reported in a NeurocomplexWarning, and is not counted as a lap of its
    own: a lap is then a maximal piece on which f^n is monotone, the values at the jump points left
    out (a single point is no lap). A jump in a lap's direction continues the lap; a jump against
    it ends the lap, and the next lap starts after the jump. So frac(3x) on [0, 1] has 3 laps (three
    increasing branches; the drops at 1/3, 2/3 and the value f(1) = 0 are no laps), and its n-th
    iterate frac(3^n x) has 3^n. Jumps in a lap's direction are not looked for (they do not change
    the count) and so are not reported.

    References
    ----------
    M. Misiurewicz, W. Szlenk, "Entropy of piecewise monotone mappings", Studia Math. 67 (1980).
    K. Bu, Y. Zhang, Q. Luo, "Depth-width trade-offs for neural networks via topological entropy",
    arXiv:2010.07587 (2020).

    Examples
    --------
    >>> import numpy as np, neurocomplex as nc
    >>> nc.laps(lambda x: 1 - np.abs(2 * x - 1), n=3)
    8
    >>> nc.laps(lambda x: x ** 2, n=5)
    1
    """
    a, b = _check_interval(interval)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise InvalidParameterError(f"n (number of compositions) must be an integer >= 1, got {n!r}.")
    _check_common(grid, tol, value_tol, max_pieces, max_points)
    kind, obj = _resolve(f, exact, activations)
    if kind == "net":
        # keep only the last composition, f^n
        seg = collections.deque(_exact_compositions(obj, a, b, int(n), bool(rescale), tol, max_pieces), maxlen=1)[0]
        return _segment_laps(seg, value_tol * (b - a))
    if rescale:
        raise InvalidParameterError(
            "rescale=True applies to piecewise-linear networks, whose range is known exactly; compose "
            "a callable with its rescaling yourself."
        )
    count, _, _, truncated, jumps = _grid_laps(obj, a, b, int(n), grid, tol, value_tol, max_points)
    if truncated:
        warnings.warn(_truncation_warning(int(n), max_points), NeurocomplexWarning, stacklevel=2)
    if jumps.size:
        warnings.warn(_jump_warning(int(n), jumps), NeurocomplexWarning, stacklevel=2)
    return count


@register_estimator(family="topology", input="function", invalid_params=_INVALID, bounds=(0.0, math.inf))
def topological_entropy(
    f: Any,
    interval: tuple[float, float] = (0.0, 1.0),
    n_max: int = 12,
    *,
    grid: int = 4097,
    exact: bool | None = None,
    rescale: bool = False,
    tol: float = 1e-10,
    value_tol: float = 1e-8,
    max_pieces: int = 1_000_000,
    max_points: int = 4_000_000,
    activations: Mapping[Any, Any] | None = None,
) -> Estimate:
    """Topological entropy of a map of an interval, from the growth of laps(f^n).

    Parameters
    ----------
    f : callable or torch.nn.Module
        A map of ``interval`` into itself, as in :func:`laps`.
    interval : tuple of float
        ``(a, b)`` with a < b.
    n_max : int
        Largest number of compositions (>= 2). For networks, counting stops earlier when f^n would
        need more than ``max_pieces`` pieces (with a warning).
    grid, exact, rescale, tol, value_tol, max_pieces, max_points, activations
        As in :func:`laps`.

    Returns
    -------
    Estimate
        ``value`` = h in nats (>= 0), ``ci`` None (the count is deterministic). ``diagnostics``:
        ``n`` and ``laps`` (per n), ``pieces`` (affine pieces of f^n, exact method) or
        ``grid_points`` (grid method), ``fit_n`` (the n used in the fit), ``slope`` (unclipped),
        ``intercept``, ``h_last`` = log(laps(f^N)) / N, ``method``, ``jumps`` (per n, the jumps
        of f^n found by :func:`laps`' test; 0 for networks, which are continuous), and for networks
        with single-kink activations ``bound`` = :func:`relu_entropy_bound` of their hidden widths.
        ``n_samples`` is the number of pieces or grid points at the largest n, ``n_units`` 1.
        ``warnings`` repeats the NeurocomplexWarnings raised (a discontinuous f, a grid stopped
        at ``max_points``, counting stopped at ``max_pieces``).

    Raises
    ------
    InvalidParameterError
        As in :func:`laps`, or n_max < 2.
    InvalidDataError
        f leaves the interval.
    InsufficientDataError
        Fewer than two compositions fit in ``max_pieces``.

    Notes
    -----
    h(f) = lim_{n -> inf} (1/n) log laps(f^n) (Misiurewicz & Szlenk 1980). Here h is the
    least-squares slope of log laps(f^n) against n over the larger n, n = ceil(N/2), ..., N, where N
    is the largest n computed (``n_max`` unless stopped by ``max_pieces``); the slope removes the
    constant factor that biases (1/n) log laps(f^n) at finite n. A negative slope (laps falling
    with n) is reported as 0. Since laps(f^(n+1)) <= laps(f^n) laps(f), every slope is at most
    log laps(f), and for networks of ReLU-type units at most :func:`relu_entropy_bound`.
    For a discontinuous f (a warning), laps are counted as in :func:`laps`' Notes; MEASURES.md
    defines h for continuous maps only, so the value is then outside its contract.

    References
    ----------
    M. Misiurewicz, W. Szlenk, "Entropy of piecewise monotone mappings", Studia Math. 67 (1980).
    K. Bu, Y. Zhang, Q. Luo, "Depth-width trade-offs for neural networks via topological entropy",
    arXiv:2010.07587 (2020).

    Examples
    --------
    >>> import numpy as np, neurocomplex as nc
    >>> est = nc.topological_entropy(lambda x: 1 - np.abs(2 * x - 1), n_max=6)
    >>> round(est.value, 4), est.diagnostics["laps"].tolist()
    (0.6931, [2, 4, 8, 16, 32, 64])
    """
    a, b = _check_interval(interval)
    if isinstance(n_max, bool) or not isinstance(n_max, (int, np.integer)) or n_max < 2:
        raise InvalidParameterError(f"n_max must be an integer >= 2 (a slope needs two n), got {n_max!r}.")
    _check_common(grid, tol, value_tol, max_pieces, max_points)
    kind, obj = _resolve(f, exact, activations)
    ytol = value_tol * (b - a)
    counts: list[int] = []
    sizes: list[int] = []
    notes: list[str] = []
    jumps: list[int] = []  # stays empty for networks: their activations are continuous
    diagnostics: dict[str, Any] = {}
    if kind == "net":
        if rescale not in (True, False):
            raise InvalidParameterError(f"rescale must be True or False, got {rescale!r}.")
        gen = _exact_compositions(obj, a, b, int(n_max), bool(rescale), tol, max_pieces)
        try:
            for seg in gen:
                counts.append(_segment_laps(seg, ytol))
                sizes.append(seg.n_pieces)
        except InsufficientDataError as err:
            if len(counts) < 2:
                raise InsufficientDataError(
                    f"f^{len(counts) + 1} already needs more than max_pieces={max_pieces} pieces; raise "
                    "max_pieces to fit a slope."
                ) from err
            notes.append(f"f^{len(counts) + 1} would need more than max_pieces={max_pieces} pieces; the "
                         f"slope is fitted up to n={len(counts)} instead of n_max={n_max}.")
        diagnostics["pieces"] = np.array(sizes)
        bound = _single_kink_bound(obj)
        if bound is not None:
            diagnostics["bound"] = bound
        method = "exact_breakpoints"
    else:
        if rescale:
            raise InvalidParameterError(
                "rescale=True applies to piecewise-linear networks, whose range is known exactly; compose "
                "a callable with its rescaling yourself."
            )
        for n in range(1, int(n_max) + 1):
            count, x, _, truncated, where = _grid_laps(obj, a, b, n, grid, tol, value_tol, max_points)
            counts.append(count)
            sizes.append(x.size)
            jumps.append(where.size)
            if truncated:
                notes.append(_truncation_warning(n, max_points))
            if where.size and not any(jumps[:-1]):  # one warning, at the first n that jumps
                notes.append(_jump_warning(n, where))
        diagnostics["grid_points"] = np.array(sizes)
        method = "adaptive_grid"
    n_done = len(counts)
    ns = np.arange(1, n_done + 1)
    log_laps = np.log(np.asarray(counts, dtype=np.float64))
    fit = ns >= math.ceil(n_done / 2)
    slope, intercept = np.polyfit(ns[fit], log_laps[fit], 1)
    for msg in notes:
        warnings.warn(msg, NeurocomplexWarning, stacklevel=2)
    diagnostics.update(
        n=ns, laps=np.asarray(counts), fit_n=ns[fit], slope=float(slope), intercept=float(intercept),
        h_last=float(log_laps[-1] / n_done), method=method, jumps=np.asarray(jumps or [0] * n_done),
    )
    return Estimate(
        value=max(float(slope), 0.0),
        ci=None,
        method=method,
        params=dict(interval=(a, b), n_max=int(n_max), grid=int(grid), exact=exact, rescale=bool(rescale),
                    tol=tol, value_tol=value_tol, max_pieces=int(max_pieces), max_points=int(max_points)),
        n_samples=int(sizes[-1]),
        n_units=1,
        diagnostics=diagnostics,
        warnings=tuple(notes),
    )


def relu_entropy_bound(widths: Any) -> float:
    """Structural upper bound on the topological entropy of a ReLU network R -> R.

    Parameters
    ----------
    widths : sequence of int or torch.nn.Module
        Hidden widths m_1, ..., m_l, or a network of Linear layers and one-kink activations
        (ReLU, LeakyReLU, PReLU, |x| as a module named ``Abs``) whose hidden widths are read from
        it: the width of each activation layer (an activation with no kink, such as Identity or
        LeakyReLU(1.0), is affine and adds none).

    Returns
    -------
    float
        sum_i log(2 m_i) in nats (0 for a network without hidden layer).

    Raises
    ------
    InvalidParameterError
        A width is not a positive integer; the module has no Linear layer; or the bound does not
        hold for the module: an activation with two kinks (Hardtanh, ReLU6) or one that is not
        piecewise linear (Tanh, ...). The message names it.

    Notes
    -----
    Pieces multiply across layers: a layer of m units with one kink each (ReLU, leaky ReLU, |x|)
    cuts each of the P pieces of its input at most once per unit, leaving at most (m + 1) P <= 2m P
    pieces; so f has at most prod_i 2 m_i pieces, laps(f^n) <= (prod_i 2 m_i)^n and
    h <= sum_i log(2 m_i), with m_i = ``widths[i]`` (MEASURES.md §5; Bu, Zhang & Luo (2020) state
    the order O(l log m) for l layers of m units). The bound does not hold for activations with
    two kinks (Hardtanh, ReLU6: up to (2m + 1) P pieces), nor for activations that are not
    piecewise linear, so a network with them is refused rather than given a number that is not
    a bound.

    References
    ----------
    K. Bu, Y. Zhang, Q. Luo, "Depth-width trade-offs for neural networks via topological entropy",
    arXiv:2010.07587 (2020).

    Examples
    --------
    >>> import neurocomplex as nc
    >>> round(nc.relu_entropy_bound([4, 4]), 4)
    4.1589
    """
    if _pwl.is_torch_module(widths):
        try:
            net = _pwl.parse_network(widths)
        except InvalidParameterError as err:
            raise InvalidParameterError(
                f"relu_entropy_bound covers networks of Linear layers and one-kink activations only: {err}"
            ) from err
        if net.max_kinks > 1:
            # a unit with k kinks may cut each piece k times: (k m + 1) P pieces, more than 2 m P
            raise InvalidParameterError(
                f"relu_entropy_bound does not hold for this network: it has activations with {net.max_kinks} kinks "
                f"(Hardtanh and ReLU6 have two), so a layer of m units may multiply the pieces by "
                f"{net.max_kinks}m + 1 > 2m. The bound covers one-kink activations (ReLU, LeakyReLU, PReLU, |x|); "
                "measure the entropy with nc.topological_entropy instead."
            )
        widths = net.hidden_widths
    try:
        values = list(widths)
    except TypeError as err:
        raise InvalidParameterError(f"widths must be a sequence of positive integers or a torch network, got {widths!r}.") from err
    for w in values:
        if isinstance(w, bool) or not isinstance(w, (int, np.integer)) or w < 1:
            raise InvalidParameterError(f"every hidden width must be a positive integer, got {w!r} in {values}.")
    return float(sum(math.log(2 * int(w)) for w in values))


def lipschitz_estimate(
    f: Any,
    interval: tuple[float, float] = (0.0, 1.0),
    grid: int = 4097,
    exact: bool | None = None,
    *,
    rescale: bool = False,
    tol: float = 1e-10,
    value_tol: float = 1e-8,
    max_pieces: int = 1_000_000,
    max_points: int = 4_000_000,
    activations: Mapping[Any, Any] | None = None,
) -> float:
    """Lipschitz constant L = max |f'| of a map on an interval.

    Parameters
    ----------
    f, interval, grid, exact, rescale, tol, value_tol, max_pieces, max_points, activations
        As in :func:`laps` (with n = 1). With ``rescale=True`` the constant is that of the rescaled
        map, the one whose entropy :func:`topological_entropy` measures.

    Returns
    -------
    float
        Exactly max |slope| over the affine pieces of a piecewise-linear network; for callables the
        largest difference quotient |f(x_{i+1}) - f(x_i)| / (x_{i+1} - x_i) on the refined grid of
        :func:`laps`, which is a lower bound of L that converges as the grid is refined.

    Raises
    ------
    InvalidParameterError, InvalidDataError
        As in :func:`laps`.

    Notes
    -----
    h(f) <= max(0, log L) for the topological entropy h (Misiurewicz & Szlenk 1980), the check
    MEASURES.md §5 asks for.

    References
    ----------
    M. Misiurewicz, W. Szlenk, "Entropy of piecewise monotone mappings", Studia Math. 67 (1980).
    K. Bu, Y. Zhang, Q. Luo, "Depth-width trade-offs for neural networks via topological entropy",
    arXiv:2010.07587 (2020).

    Examples
    --------
    >>> import numpy as np, neurocomplex as nc
    >>> round(nc.lipschitz_estimate(lambda x: 4 * x * (1 - x)), 3)
    4.0
    """
    a, b = _check_interval(interval)
    _check_common(grid, tol, value_tol, max_pieces, max_points)
    kind, obj = _resolve(f, exact, activations)
    if kind == "net":
        seg = next(_exact_compositions(obj, a, b, 1, bool(rescale), tol, max_pieces))
        return float(np.max(np.abs(seg.B[:, 0])))
    if rescale:
        raise InvalidParameterError(
            "rescale=True applies to piecewise-linear networks, whose range is known exactly; compose "
            "a callable with its rescaling yourself."
        )
    _, x, y, truncated, jumps = _grid_laps(obj, a, b, 1, grid, tol, value_tol, max_points)
    if truncated:
        warnings.warn(_truncation_warning(1, max_points), NeurocomplexWarning, stacklevel=2)
    if jumps.size:  # the difference quotient across a jump grows without bound as the grid is refined
        warnings.warn(_jump_warning(1, jumps) + " A discontinuous map has no finite Lipschitz constant.",
                      NeurocomplexWarning, stacklevel=2)
    return float(np.max(np.abs(np.diff(y)) / np.diff(x)))
