"""Helpers of the similarity estimators: condition means, cross-validated ridge predictions,
weighted per-unit correlations and split-half reliabilities."""

from __future__ import annotations

import numpy as np

__all__ = ["average_by_condition", "random_half", "RidgeLoo", "ridge_predictions", "weighted_r", "half_r",
           "unit_reliability"]

# memory of the (n, q, alphas) leave-one-out residuals evaluated at once
_LOO_CHUNK_BYTES = 64 * 2**20


def average_by_condition(data: np.ndarray, codes: np.ndarray, n_cond: int) -> np.ndarray:
    """Mean pattern of each condition (rows in code order)."""
    sums, counts = sum_by_condition(data, codes, n_cond)
    return sums / counts[:, None]


def sum_by_condition(data: np.ndarray, codes: np.ndarray, n_cond: int) -> tuple[np.ndarray, np.ndarray]:
    """Summed pattern of each condition (rows in code order) and the number of samples in each."""
    order = np.argsort(codes, kind="stable")
    counts = np.bincount(codes, minlength=n_cond)
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    return np.add.reduceat(np.asarray(data, dtype=np.float64)[order], starts, axis=0), counts


class RidgeLoo:
    """Ridge regression with an unpenalised intercept, prepared for many penalties at once.

    ``x`` (n × p) and ``y`` (n × q) must be column-centred. One symmetric eigendecomposition gives
    an orthonormal basis U (n × r) of the column space of ``x`` and the squared singular values λ:
    of the n × n Gram matrix ``x xᵀ`` when p ≥ n, of ``xᵀ x`` otherwise. The hat matrix of the
    fit with intercept is 11ᵀ/n + U diag(λ/(λ+α)) Uᵀ, so every penalty costs O(n r q) after the
    decomposition: the leave-one-out residuals are e_i / (1 − h_ii) with the intercept's leverage
    1/n included in h_ii (exactly the held-out error of a refit without row i, intercept included).
    """

    def __init__(self, x: np.ndarray, y: np.ndarray) -> None:
        n, p = x.shape
        self.x, self.n = x, n
        self.gram = p >= n
        lam, vec = np.linalg.eigh(x @ x.T if self.gram else x.T @ x)
        keep = lam > max(lam[-1], 0.0) * max(n, p) * np.finfo(np.float64).eps  # rank: the rest is rounding
        self.lam = lam[keep]
        if self.gram:
            self.u = vec[:, keep]
        else:
            self.v = vec[:, keep]
            self.u = (x @ self.v) / np.sqrt(self.lam)
        self.y = y
        self.uty = self.u.T @ y

    def loo_errors(self, penalties: np.ndarray) -> np.ndarray:
        """Sum over rows and columns of the squared leave-one-out residuals, one per penalty."""
        n, q = self.y.shape
        shrink = self.lam[:, None] / (self.lam[:, None] + penalties[None, :])  # (r, A)
        lev = 1.0 / n + (self.u**2) @ shrink  # (n, A)
        errors = np.empty(penalties.size)
        step = max(1, int(_LOO_CHUNK_BYTES // max(8 * n * q, 1)))
        for lo in range(0, penalties.size, step):
            f = shrink[:, lo:lo + step]
            coef = (self.uty[:, :, None] * f[:, None, :]).reshape(self.lam.size, q * f.shape[1])
            fit = (self.u @ coef).reshape(n, q, f.shape[1])
            resid = (self.y[:, :, None] - fit) / (1.0 - lev[:, None, lo:lo + step])
            errors[lo:lo + step] = np.einsum("ijk,ijk->k", resid, resid)
        return errors

    def predict(self, x_new: np.ndarray, penalty: float) -> np.ndarray:
        """Predictions (without the intercept, i.e. centred) of the fit with this penalty at new rows."""
        if self.gram:
            return (x_new @ self.x.T) @ (self.u @ (self.uty / (self.lam + penalty)[:, None]))
        return (x_new @ self.v) @ (self.uty * (np.sqrt(self.lam) / (self.lam + penalty))[:, None])


def ridge_predictions(x: np.ndarray, y: np.ndarray, folds: list[np.ndarray], alphas: tuple[float, ...]
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Held-out ridge predictions of every column of y from x, one penalty per fold (shared by all
    columns) chosen by the smallest leave-one-out squared error on the training rows.

    Per fold, x is z-scored and y centred on the training rows; the penalty is α·n_train for
    α in ``alphas`` (the first of equal errors wins, as scikit-learn's RidgeCV).
    """
    n = x.shape[0]
    pred = np.empty_like(y)
    chosen = np.empty(len(folds))
    candidates = np.asarray(alphas, dtype=np.float64)
    for k, test in enumerate(folds):
        train = np.ones(n, dtype=bool)
        train[test] = False
        xtr = x[train]
        xm, xs = xtr.mean(axis=0), xtr.std(axis=0)
        xs[xs == 0] = np.inf  # constant units carry nothing
        ym = y[train].mean(axis=0)
        model = RidgeLoo((xtr - xm) / xs, y[train] - ym)
        best = int(np.argmin(model.loo_errors(candidates * xtr.shape[0])))
        pred[test] = model.predict((x[test] - xm) / xs, candidates[best] * xtr.shape[0]) + ym
        chosen[k] = candidates[best]
    return pred, chosen


def weighted_r(y: np.ndarray, yhat: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Per-unit Pearson r for each row of sample weights ``w`` (n_rep × n): (n_rep, q).

    A constant prediction of a varying unit scores 0 (it carries no signal); a constant unit NaN.
    """
    tot = w.sum(axis=1, keepdims=True)
    my, mp = (w @ y) / tot, (w @ yhat) / tot
    cov = (w @ (y * yhat)) / tot - my * mp
    vy = (w @ (y * y)) / tot - my**2
    vp = (w @ (yhat * yhat)) / tot - mp**2
    with np.errstate(invalid="ignore", divide="ignore"):
        r = cov / np.sqrt(vy * vp)
    r[(vp <= 1e-12 * np.maximum(vy, 1e-300)) & (vy > 0)] = 0.0
    r[~(vy > 0)] = np.nan
    return r


def half_r(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-column Pearson r of two halves, symmetric in them: 0 where exactly one half is constant
    (it reproduces none of the other's variation), NaN where both are."""
    const_a, const_b = np.ptp(a, axis=0) == 0, np.ptp(b, axis=0) == 0
    ac, bc = a - a.mean(axis=0), b - b.mean(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.einsum("ij,ij->j", ac, bc) / np.sqrt(np.einsum("ij,ij->j", ac, ac) * np.einsum("ij,ij->j", bc, bc))
    r[const_a ^ const_b] = 0.0
    r[const_a & const_b] = np.nan
    return np.clip(r, -1.0, 1.0)


def random_half(codes: np.ndarray, n_cond: int, rng: np.random.Generator) -> np.ndarray:
    """Mask of a random half of each condition's samples (the smaller half when the count is odd)."""
    half = np.zeros(codes.size, dtype=bool)
    for c in range(n_cond):
        idx = rng.permutation(np.flatnonzero(codes == c))
        half[idx[: idx.size // 2]] = True
    return half


def unit_reliability(data: np.ndarray, codes: np.ndarray, n_cond: int, n_halves: int,
                      rng: np.random.Generator) -> np.ndarray:
    """Per-unit Spearman–Brown corrected split-half correlation across conditions (mean r over splits).

    Symmetric in the two halves of every split (:func:`half_r`); NaN for a unit whose halves are
    constant in every split.
    """
    rs = []
    for _ in range(n_halves):
        half = random_half(codes, n_cond, rng)
        rs.append(half_r(average_by_condition(data[half], codes[half], n_cond),
                         average_by_condition(data[~half], codes[~half], n_cond)))
    stack = np.array(rs).reshape(len(rs), data.shape[1])
    finite = np.isfinite(stack)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(finite, stack, 0.0).sum(axis=0) / finite.sum(axis=0)  # NaN where no split is defined
        return 2 * r / (1 + r)
