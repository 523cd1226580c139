"""Exact propagation of straight input paths through piecewise-linear networks.

A network made of affine layers and piecewise-linear activations (ReLU, leaky ReLU, |x|,
Hardtanh, identity) is affine on each cell of a partition of its input space. Restricted to a
segment ``x(t) = x0 + t * v``, ``t`` in ``[t_lo, t_hi]``, it is a piecewise-affine function of the
scalar ``t``. This module computes that function exactly: every hidden representation is kept as
``A + t * B`` on each piece; an affine layer maps ``(A, B)`` linearly; an activation splits each
piece where a unit's pre-activation crosses one of the activation's kinks, then applies the
activation's slope and offset on each sub-piece. Everything is float64 and vectorised over
pieces, segments and units (the only Python loop is over layers).

Used by :mod:`neurocomplex.measures.topology` (laps and topological entropy of networks R -> R)
and :mod:`neurocomplex.measures.variability` (linear pieces along lines in input space).
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Mapping
from typing import Any

import numpy as np

from neurocomplex.errors import InsufficientDataError, InvalidParameterError

__all__ = [
    "Activation",
    "PiecewiseLinearNet",
    "Segments",
    "is_torch_module",
    "parse_network",
    "initial_segments",
    "propagate",
    "merge_affine",
    "SUPPORTED_MODULES",
]

SUPPORTED_MODULES = (
    "Linear, ReLU, LeakyReLU, PReLU (one slope), ReLU6, Hardtanh, Identity, Dropout (as identity), "
    "Flatten, nested Sequential, and any module whose class is named 'Abs' (computing |x|)"
)


@dataclasses.dataclass(frozen=True)
class Activation:
    """A continuous piecewise-linear scalar function applied unit-wise.

    ``kinks`` are the sorted breakpoints c_1 < ... < c_K; on region r (between c_r and c_{r+1},
    region 0 below c_1) the function is ``slopes[r] * z + offsets[r]``. Built with
    :meth:`from_kinks`, neighbouring slopes differ: a breakpoint where the slope does not change
    is dropped, so every kink is a real change of linear regime.
    """

    name: str
    kinks: np.ndarray
    slopes: np.ndarray
    offsets: np.ndarray

    @classmethod
    def from_kinks(cls, name: str, kinks: Any, slopes: Any, value_at_first_kink: float = 0.0) -> Activation:
        """Build from the kinks, the K + 1 slopes, and the value at the first kink (continuity).

        Kinks between two equal slopes are dropped (the function is affine across them).
        """
        c = np.asarray(kinks, dtype=np.float64).reshape(-1)
        s = np.asarray(slopes, dtype=np.float64).reshape(-1)
        if s.size != c.size + 1 or (c.size > 1 and np.any(np.diff(c) <= 0)) or not np.all(np.isfinite(c)):
            raise InvalidParameterError(
                f"activation {name!r}: need sorted finite kinks and one more slope than kinks, "
                f"got kinks={c.tolist()}, slopes={s.tolist()}."
            )
        if c.size == 0:
            return cls(name, c, s, np.array([float(value_at_first_kink)]))
        values = float(value_at_first_kink) + np.concatenate([[0.0], np.cumsum(s[1:-1] * np.diff(c))])
        offsets = np.empty_like(s)
        offsets[0] = values[0] - s[0] * c[0]
        offsets[1:] = values - s[1:] * c
        # a kink is only where the slope changes: LeakyReLU(1.0) or PReLU(init=1) is the identity,
        # and a "kink" with equal slopes on both sides would split pieces that are one affine map
        real = s[1:] != s[:-1]
        keep = np.concatenate([[True], real])
        return cls(name, c[real], s[keep], offsets[keep])


@dataclasses.dataclass(frozen=True)
class PiecewiseLinearNet:
    """A network as a list of ``("affine", W, b)`` and ``("act", Activation)`` layers (float64)."""

    layers: tuple[tuple[Any, ...], ...]
    n_in: int
    n_out: int

    @property
    def hidden_widths(self) -> list[int]:
        """Number of units of each activation layer."""
        widths, width = [], self.n_in
        for layer in self.layers:
            if layer[0] == "affine":
                width = layer[1].shape[0]
            elif layer[1].kinks.size:
                widths.append(width)
        return widths

    @property
    def max_kinks(self) -> int:
        """Largest number of kinks of any activation (1 for ReLU, |x|, leaky ReLU)."""
        return max((layer[1].kinks.size for layer in self.layers if layer[0] == "act"), default=0)

    def with_weights(self, weights: list[tuple[np.ndarray, np.ndarray]]) -> PiecewiseLinearNet:
        """The same architecture with new ``(W, b)`` for each affine layer, in order."""
        it = iter(weights)
        layers = tuple(("affine", *next(it)) if layer[0] == "affine" else layer for layer in self.layers)
        return PiecewiseLinearNet(layers, self.n_in, self.n_out)


@dataclasses.dataclass
class Segments:
    """Pieces of the path: piece k covers ``[t_lo[k], t_hi[k]]`` of path ``line[k]``, on which the
    current representation is ``A[k] + t * B[k]``. Pieces of one path are contiguous and ordered."""

    line: np.ndarray
    t_lo: np.ndarray
    t_hi: np.ndarray
    A: np.ndarray
    B: np.ndarray

    @property
    def n_pieces(self) -> int:
        return int(self.line.size)

    def pieces_per_line(self, n_lines: int) -> np.ndarray:
        return np.bincount(self.line, minlength=n_lines)


def is_torch_module(obj: Any) -> bool:
    """Whether ``obj`` is a ``torch.nn.Module`` (without importing torch when it is not loaded)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(obj, torch.nn.Module)


def _builtin_activation(kind: str) -> Activation:
    if kind == "relu":
        return Activation.from_kinks("relu", [0.0], [0.0, 1.0])
    if kind == "abs":
        return Activation.from_kinks("abs", [0.0], [-1.0, 1.0])
    if kind == "identity":
        return Activation.from_kinks("identity", [], [1.0])
    raise InvalidParameterError(f"unknown activation kind {kind!r}; use 'relu', 'abs', 'identity' "
                                "or a tuple (kinks, slopes, value_at_first_kink).")


def _flatten(module: Any, torch: Any) -> list[Any]:
    if isinstance(module, torch.nn.Sequential):
        out: list[Any] = []
        for child in module:
            out.extend(_flatten(child, torch))
        return out
    return [module]


def _user_activation(module: Any, activations: Mapping[Any, Any] | None) -> Activation | None:
    if not activations:
        return None
    for key in (type(module), type(module).__name__):
        if key in activations:
            spec = activations[key]
            if isinstance(spec, str):
                return _builtin_activation(spec)
            try:
                kinks, slopes, value = spec
            except (TypeError, ValueError) as err:
                raise InvalidParameterError(
                    f"activations[{key!r}] must be 'relu', 'abs', 'identity' or (kinks, slopes, "
                    f"value_at_first_kink), got {spec!r}."
                ) from err
            return Activation.from_kinks(type(module).__name__, kinks, slopes, value)
    return None


def parse_network(module: Any, activations: Mapping[Any, Any] | None = None) -> PiecewiseLinearNet:
    """Read a torch module made of Linear layers and piecewise-linear activations into float64.

    Parameters
    ----------
    module : torch.nn.Module
        An ``nn.Sequential`` (nested ones are flattened) or a single supported layer.
    activations : mapping, optional
        Extra activations: module class (or class name) -> ``"relu"``, ``"abs"``, ``"identity"``
        or ``(kinks, slopes, value_at_first_kink)``.

    Raises
    ------
    InvalidParameterError
        A module is not affine or piecewise linear (the message names it and lists what is
        supported), or the layer sizes do not chain.
    """
    import torch

    layers: list[tuple[Any, ...]] = []
    n_in: int | None = None
    width: int | None = None
    for i, mod in enumerate(_flatten(module, torch)):
        nn = torch.nn
        act = _user_activation(mod, activations)
        if act is not None:
            layers.append(("act", act))
        elif isinstance(mod, nn.Linear):
            w = mod.weight.detach().to("cpu", torch.float64).numpy().copy()
            b = (mod.bias.detach().to("cpu", torch.float64).numpy().copy() if mod.bias is not None
                 else np.zeros(w.shape[0]))
            if width is not None and w.shape[1] != width:
                raise InvalidParameterError(
                    f"module {i} ({mod}) takes {w.shape[1]} inputs but the previous layer gives {width}."
                )
            n_in = w.shape[1] if n_in is None else n_in
            width = w.shape[0]
            layers.append(("affine", w, b))
        elif isinstance(mod, nn.ReLU):
            layers.append(("act", _builtin_activation("relu")))
        elif isinstance(mod, nn.LeakyReLU):
            layers.append(("act", Activation.from_kinks("leaky_relu", [0.0], [mod.negative_slope, 1.0])))
        elif isinstance(mod, nn.PReLU) and mod.weight.numel() == 1:
            slope = float(mod.weight.detach().reshape(-1)[0])
            layers.append(("act", Activation.from_kinks("prelu", [0.0], [slope, 1.0])))
        elif isinstance(mod, nn.Hardtanh):  # ReLU6 is a Hardtanh(0, 6)
            lo, hi = float(mod.min_val), float(mod.max_val)
            layers.append(("act", Activation.from_kinks("hardtanh", [lo, hi], [0.0, 1.0, 0.0], lo)))
        elif type(mod).__name__ == "Abs":
            layers.append(("act", _builtin_activation("abs")))
        elif isinstance(mod, (nn.Identity, nn.Dropout, nn.Flatten)):
            continue
        else:
            raise InvalidParameterError(
                f"module {i} ({type(mod).__name__}) is not affine or piecewise linear, so the network "
                f"cannot be propagated exactly; supported: {SUPPORTED_MODULES}. Pass "
                "activations={YourClass: 'relu' | 'abs' | (kinks, slopes, value_at_first_kink)} for "
                "other piecewise-linear modules."
            )
    if n_in is None or width is None:
        raise InvalidParameterError(f"the network {type(module).__name__} has no Linear layer.")
    return PiecewiseLinearNet(tuple(layers), n_in, width)


def initial_segments(x0: np.ndarray, v: np.ndarray, t_lo: np.ndarray, t_hi: np.ndarray) -> Segments:
    """One piece per path ``x0[i] + t * v[i]``, ``t`` in ``[t_lo[i], t_hi[i]]``."""
    x0 = np.asarray(x0, dtype=np.float64)
    n = x0.shape[0]
    return Segments(np.arange(n), np.asarray(t_lo, np.float64).copy(), np.asarray(t_hi, np.float64).copy(),
                    x0.copy(), np.asarray(v, dtype=np.float64).copy())


def _apply_activation(seg: Segments, act: Activation, tol: float, max_pieces: int) -> Segments:
    if act.kinks.size == 0:
        return Segments(seg.line, seg.t_lo, seg.t_hi, act.slopes[0] * seg.A + act.offsets[0], act.slopes[0] * seg.B)
    A, B = seg.A, seg.B
    # where each unit's pre-activation A + t B meets each kink c: t = (c - A) / B
    with np.errstate(divide="ignore", invalid="ignore"):
        ts = (act.kinks[None, None, :] - A[..., None]) / B[..., None]
    lo = seg.t_lo[:, None, None]
    hi = seg.t_hi[:, None, None]
    inside = np.isfinite(ts) & (ts > lo + tol) & (ts < hi - tol)
    rows = np.nonzero(inside)[0]
    if rows.size + seg.n_pieces > max_pieces:
        raise InsufficientDataError(
            f"the path splits into more than max_pieces={max_pieces} pieces; raise max_pieces "
            "(memory grows with pieces x width) or use a smaller network or fewer compositions."
        )
    start_row = np.concatenate([np.arange(seg.n_pieces), rows])
    start_t = np.concatenate([seg.t_lo, ts[inside]])
    order = np.lexsort((start_t, start_row))
    r, t = start_row[order], start_t[order]
    # merge breakpoints of one piece closer than tol (several units switching at the same place)
    keep = np.ones(r.size, dtype=bool)
    keep[1:] = ~((r[1:] == r[:-1]) & (t[1:] - t[:-1] < tol))
    r, t = r[keep], t[keep]
    end = seg.t_hi[r].copy()
    same = r[1:] == r[:-1]
    end[:-1][same] = t[1:][same]
    mid = 0.5 * (t + end)
    A_p, B_p = A[r], B[r]
    z_mid = A_p + mid[:, None] * B_p
    # region of each unit on each new piece, read at its midpoint (robust to rounding at the ends)
    region = np.searchsorted(act.kinks, z_mid, side="right")
    s = act.slopes[region]
    return Segments(seg.line[r], t, end, s * A_p + act.offsets[region], s * B_p)


def propagate(net: PiecewiseLinearNet, seg: Segments, tol: float, max_pieces: int = 1_000_000) -> Segments:
    """Push the path pieces through every layer; returns the output pieces.

    Pieces are split wherever any hidden unit crosses a kink of its activation, so each returned
    piece is a cell of constant activation pattern along its path (breakpoints closer than ``tol``
    in ``t`` are merged).
    """
    for layer in net.layers:
        if layer[0] == "affine":
            _, w, b = layer
            seg = Segments(seg.line, seg.t_lo, seg.t_hi, seg.A @ w.T + b, seg.B @ w.T)
        else:
            seg = _apply_activation(seg, layer[1], tol, max_pieces)
    return seg


def merge_affine(seg: Segments, rtol: float = 1e-9) -> Segments:
    """Merge neighbouring pieces of a path on which the output is the same affine function.

    The output is continuous along the path, so neighbours with equal slope vectors ``B`` (to
    ``rtol`` of the largest slope) carry the same affine map.
    """
    if seg.n_pieces < 2:
        return seg
    scale = max(float(np.max(np.abs(seg.B))), np.finfo(float).tiny)
    same = (seg.line[1:] == seg.line[:-1]) & np.all(np.abs(seg.B[1:] - seg.B[:-1]) <= rtol * scale, axis=1)
    first = np.ones(seg.n_pieces, dtype=bool)
    first[1:] = ~same
    idx = np.nonzero(first)[0]
    last = np.append(idx[1:] - 1, seg.n_pieces - 1)
    return Segments(seg.line[idx], seg.t_lo[idx], seg.t_hi[last], seg.A[idx], seg.B[idx])
