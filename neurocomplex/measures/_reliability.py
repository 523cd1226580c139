"""Helpers of the similarity estimators: condition means, cross-validated ridge predictions,
weighted per-unit correlations and split-half reliabilities."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["average_by_condition", "random_half", "ridge_predictions", "weighted_r", "unit_reliability"]


def average_by_condition(data: np.ndarray, codes: np.ndarray, n_cond: int) -> np.ndarray:
    """Mean pattern of each condition (rows in code order)."""
    order = np.argsort(codes, kind="stable")
    counts = np.bincount(codes, minlength=n_cond)
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    return np.add.reduceat(np.asarray(data, dtype=np.float64)[order], starts, axis=0) / counts[:, None]


def ridge_predictions(x: np.ndarray, y: np.ndarray, folds: list[np.ndarray], alphas: tuple[float, ...]
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Held-out ridge predictions of every column of y from x, one penalty per fold chosen by
    leave-one-out error on the training samples (closed form from one SVD)."""
    n = x.shape[0]
    pred = np.empty_like(y)
    chosen = np.empty(len(folds))
    for k, test in enumerate(folds):
        train = np.setdiff1d(np.arange(n), test, assume_unique=True)
        xm, xs = x[train].mean(axis=0), x[train].std(axis=0)
        xs[xs == 0] = np.inf  # constant units carry nothing
        xt = (x[train] - xm) / xs
        ym = y[train].mean(axis=0)
        yt = y[train] - ym
        u, s, vt = np.linalg.svd(xt, full_matrices=False)
        uty = u.T @ yt
        best, best_err = alphas[0], math.inf
        for a in alphas:
            shrink = s**2 / (s**2 + a * train.size)
            fit = u @ (shrink[:, None] * uty)
            lev = np.minimum((u**2) @ shrink, 1 - 1e-12)
            err = float(np.sum(((yt - fit) / (1 - lev)[:, None]) ** 2))
            if err < best_err:
                best, best_err = a, err
        coef = vt.T @ ((s / (s**2 + best * train.size))[:, None] * uty)
        pred[test] = ((x[test] - xm) / xs) @ coef + ym
        chosen[k] = best
    return pred, chosen


def weighted_r(y: np.ndarray, yhat: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Per-unit Pearson r for each row of sample weights ``w`` (n_rep × n): (n_rep, q)."""
    tot = w.sum(axis=1, keepdims=True)
    my, mp = (w @ y) / tot, (w @ yhat) / tot
    cov = (w @ (y * yhat)) / tot - my * mp
    vy = (w @ (y * y)) / tot - my**2
    vp = (w @ (yhat * yhat)) / tot - mp**2
    with np.errstate(invalid="ignore", divide="ignore"):
        r = cov / np.sqrt(vy * vp)
    r[(vp <= 1e-12 * np.maximum(vy, 1e-300)) & (vy > 0)] = 0.0  # a constant prediction carries no signal
    r[~(vy > 0)] = np.nan
    return r


def random_half(codes: np.ndarray, n_cond: int, rng: np.random.Generator) -> np.ndarray:
    """Mask of a random half of each condition's samples (the smaller half when the count is odd)."""
    half = np.zeros(codes.size, dtype=bool)
    for c in range(n_cond):
        idx = rng.permutation(np.flatnonzero(codes == c))
        half[idx[: idx.size // 2]] = True
    return half


def unit_reliability(data: np.ndarray, codes: np.ndarray, n_cond: int, n_halves: int,
                      rng: np.random.Generator) -> np.ndarray:
    """Per-unit Spearman–Brown corrected split-half correlation across conditions (mean r over splits)."""
    rs = []
    for _ in range(n_halves):
        half = random_half(codes, n_cond, rng)
        a, b = average_by_condition(data[half], codes[half], n_cond), average_by_condition(data[~half], codes[~half], n_cond)
        rs.append(weighted_r(a, b, np.ones((1, n_cond)))[0])
    r = np.nanmean(np.array(rs), axis=0) if rs else np.full(data.shape[1], np.nan)
    return 2 * r / (1 + r)
