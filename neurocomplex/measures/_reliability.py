"""Helpers of the similarity estimators: condition means, cross-validated ridge predictions with
their held-out correlations and exact delete-one values, and split-half reliabilities."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, NamedTuple

import numpy as np

__all__ = ["average_by_condition", "sum_by_condition", "random_half", "RidgeBasis", "RidgeLoo", "FoldPredictors",
           "CrossValidated", "shared_predictors", "predictors_for",
           "cross_validated_r", "linear_replicates", "half_r", "unit_reliability"]

# memory of the (n, q, alphas) leave-one-out residuals, or of the held-out rows' smoother, evaluated at once
_LOO_CHUNK_BYTES = 64 * 2**20
_FLAT = 1e-12  # a sum of squares below this fraction of its unit's full-data one (or zero) is a constant


def average_by_condition(data: np.ndarray, codes: np.ndarray, n_cond: int) -> np.ndarray:
    """Mean pattern of each condition (rows in code order)."""
    sums, counts = sum_by_condition(data, codes, n_cond)
    return sums / counts[:, None]


def sum_by_condition(data: np.ndarray, codes: np.ndarray, n_cond: int) -> tuple[np.ndarray, np.ndarray]:
    """Summed pattern of each condition (rows in code order) and the number of samples in each."""
    order = np.argsort(codes, kind="stable")
    counts = np.bincount(codes, minlength=n_cond)
    if n_cond and counts.min() == counts.max() > 0:
        # As many samples in every condition: add the k-th sample of every condition at once, in
        # float64, without a float64 copy of the data (11x faster than reduceat on a float32 layer;
        # exact for float32 and integer data, float64 sums may differ from reduceat's in the last bit).
        grouped = np.asarray(data)[order].reshape(n_cond, counts[0], -1)
        sums = grouped[:, 0].astype(np.float64)
        for k in range(1, counts[0]):
            sums += grouped[:, k]
        return sums, counts
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    return np.add.reduceat(np.asarray(data, dtype=np.float64)[order], starts, axis=0), counts


class RidgeBasis:
    """The eigendecomposition behind :class:`RidgeLoo`, which depends on the predictors only.

    ``x`` (n × p, column-centred): an orthonormal basis U (n × r) of its column space and the
    squared singular values λ, from the n × n Gram matrix ``x xᵀ`` when p ≥ n, from ``xᵀ x``
    otherwise. Targets fitted on the same predictors (the areas a layer predicts) share it.
    """

    def __init__(self, x: np.ndarray) -> None:
        n, p = x.shape
        self.x, self.n = x, n
        gram = p >= n
        lam, vec = np.linalg.eigh(x @ x.T if gram else x.T @ x)
        keep = lam > max(lam[-1], 0.0) * max(n, p) * np.finfo(np.float64).eps  # rank: the rest is rounding
        self.lam = lam[keep]
        self.v: np.ndarray | None = None  # None: the Gram route
        if gram:
            self.u = vec[:, keep]
        else:
            self.v = vec[:, keep]
            self.u = (x @ self.v) / np.sqrt(self.lam)

    def projection(self, x_new: np.ndarray) -> np.ndarray:
        """New rows in the basis before any penalty: ``(x_new xᵀ) U`` (Gram) or ``x_new V``
        (n_new × r); a fit's centred predictions are this times a diagonal scaling times ``Uᵀ y``."""
        return (x_new @ self.x.T) @ self.u if self.v is None else x_new @ self.v

    def scale(self, penalty: float) -> np.ndarray:
        """The diagonal that turns :meth:`projection` into the smoother ``G = (proj · scale) Uᵀ``."""
        return 1.0 / (self.lam + penalty) if self.v is None else np.sqrt(self.lam) / (self.lam + penalty)


class RidgeLoo:
    """Ridge regression with an unpenalised intercept, prepared for many penalties at once.

    ``x`` (n × p) and ``y`` (n × q) must be column-centred; ``basis`` (:class:`RidgeBasis` of
    ``x``) is computed when not given. The hat matrix of the fit with intercept is
    11ᵀ/n + U diag(λ/(λ+α)) Uᵀ, so every penalty costs O(n r q) after the decomposition (O(n r²)
    when q > r): the leave-one-out residuals are e_i / (1 − h_ii) with the intercept's leverage
    1/n included in h_ii (exactly the held-out error of a refit without row i, intercept included).
    """

    def __init__(self, x: np.ndarray, y: np.ndarray, basis: RidgeBasis | None = None) -> None:
        self.basis = RidgeBasis(x) if basis is None else basis
        self.n, self.lam, self.u = self.basis.n, self.basis.lam, self.basis.u
        self.y = y
        self.uty = self.u.T @ y

    def loo_errors(self, penalties: np.ndarray) -> np.ndarray:
        """Sum over rows and columns of the squared leave-one-out residuals, one per penalty.

        With more than half as many columns as the rank (2q > r) the sums come from r × r
        statistics, O(n r²/2) per penalty instead of the O(n r q) of the residuals themselves: the
        residual row e_i = y⊥_i + Σ_k u_ik g_k c_k (g = 1 − f the penalty's shrinkage, c = Uᵀy)
        splits into the part of y outside the column space, which no penalty changes, and a part
        inside it, so with the leave-one-out weights w_i = (1 − h_ii)⁻² the sum is
        Σ w_i ‖y⊥_i‖² + 2 gᵀ (Σ_i w_i u_i ∘ P_i) + Σ_kl g_k g_l S_kl M_kl, P = y⊥ cᵀ, S = c cᵀ and
        M = Uᵀ diag(w) U (one SYRK per penalty). No term is a difference of y's own sums of
        squares, so even exact fits keep their precision (tested against refits to 1e-9).
        """
        n, q = self.y.shape
        r = self.lam.size
        shrink = self.lam[:, None] / (self.lam[:, None] + penalties[None, :])  # (r, A)
        lev = 1.0 / n + (self.u**2) @ shrink  # (n, A)
        errors = np.empty(penalties.size)
        if 2 * q > r:
            outside = self.y - self.u @ self.uty  # y⊥: what no fit reaches
            ss_out = np.einsum("ij,ij->i", outside, outside)
            u_cross = self.u * (outside @ self.uty.T)  # u_ik P_ik, (n, r)
            gram = self.uty @ self.uty.T  # S, (r, r)
            weights = (1.0 - lev) ** -2  # (n, A)
            for a in range(penalties.size):
                g = 1.0 - shrink[:, a]
                uw = self.u * np.sqrt(weights[:, a])[:, None]
                quad = float(g @ ((gram * (uw.T @ uw)) @ g))
                errors[a] = max(float(weights[:, a] @ ss_out) + 2.0 * float(g @ (weights[:, a] @ u_cross)) + quad,
                                0.0)
            return errors
        step = max(1, int(_LOO_CHUNK_BYTES // max(8 * n * q, 1)))
        for lo in range(0, penalties.size, step):
            f = shrink[:, lo:lo + step]
            coef = (self.uty[:, :, None] * f[:, None, :]).reshape(r, q * f.shape[1])
            fit = (self.u @ coef).reshape(n, q, f.shape[1])
            resid = (self.y[:, :, None] - fit) / (1.0 - lev[:, None, lo:lo + step])
            errors[lo:lo + step] = np.einsum("ijk,ijk->k", resid, resid)
        return errors

    def predict(self, x_new: np.ndarray, penalty: float) -> np.ndarray:
        """Predictions (without the intercept, i.e. centred) of the fit with this penalty at new rows."""
        return self.predict_projected(self.basis.projection(x_new), penalty)

    def predict_projected(self, proj: np.ndarray, penalty: float) -> np.ndarray:
        """:meth:`predict` from the new rows' :meth:`RidgeBasis.projection`."""
        return proj @ (self.uty * self.basis.scale(penalty)[:, None])

    def smoother(self, proj: np.ndarray, penalty: float) -> np.ndarray:
        """The weights G (new rows × training rows) of the centred predictions, ``G @ y``, from the
        new rows' :meth:`RidgeBasis.projection`; with the intercept the prediction at new row t
        is Σ_i (1/n + G_ti) y_i."""
        return (proj * self.basis.scale(penalty)) @ self.u.T

    def loo_residuals(self, penalty: float) -> np.ndarray:
        """Leave-one-out residuals e_i / (1 − h_ii) of the fit with this penalty (n × q)."""
        shrink = self.lam / (self.lam + penalty)
        resid = self.y - self.u @ (self.uty * shrink[:, None])
        return resid / (1.0 - (1.0 / self.n + (self.u**2) @ shrink))[:, None]


class CrossValidated(NamedTuple):
    """Held-out predictions and correlations of :func:`cross_validated_r`."""

    pred: np.ndarray  # (n, q) held-out predictions, each row by the fit of the fold that left it out
    alphas: np.ndarray  # (k,) penalty chosen per fold
    r: np.ndarray  # (q,) held-out correlation of each unit
    r_delete: np.ndarray | None  # (n, q) the same with row i deleted (None unless asked)


class FoldPredictors(NamedTuple):
    """What one fold's fit takes from the predictors alone: the decomposition of its standardised
    training rows and its standardised held-out rows in that basis (reusable for other targets)."""

    basis: RidgeBasis
    test_proj: np.ndarray  # (n_test, r)


_SHARED: ContextVar[dict[str, Any] | None] = ContextVar("neurocomplex_shared_predictors", default=None)


@contextmanager
def shared_predictors() -> Iterator[None]:
    """Within this block :func:`predictors_for` keeps the per-fold decompositions of the last
    predictors it was asked for, so that consecutive fits of other targets on the same predictors
    and folds reuse them (``nc.similarity_matrix`` fits a layer's areas one after another). One
    entry is kept: memory stays that of one fit."""
    token = _SHARED.set({})
    try:
        yield
    finally:
        _SHARED.reset(token)


def predictors_for(anchor: object, key: tuple[Any, ...], n_folds: int) -> list[FoldPredictors | None] | None:
    """The per-fold entries stored for predictors read from the object ``anchor`` (held by the
    store, so its identity cannot pass to another object meanwhile) for the question ``key``
    (everything that shapes the predictor rows and the folds), or a fresh list that replaces the
    entry kept before; None outside :func:`shared_predictors`."""
    store = _SHARED.get()
    if store is None:
        return None
    held = store.get("entry")
    if held is not None and held[0] is anchor and held[1] == key:
        return held[2]
    entries: list[FoldPredictors | None] = [None] * n_folds
    store["entry"] = (anchor, key, entries)
    return entries


def cross_validated_r(x: np.ndarray, y: np.ndarray, folds: list[np.ndarray], alphas: tuple[float, ...],
                      delete_one: bool = False, predictors: list[FoldPredictors | None] | None = None
                      ) -> CrossValidated:
    """Held-out ridge predictions of every column of y from x and each column's held-out correlation.

    Per fold, x is z-scored and y centred on the training rows and the penalty is α·n_train for
    the α in ``alphas`` with the smallest leave-one-out squared error on the training rows (one
    for all columns; the first of equal errors wins, as scikit-learn's RidgeCV). A column's
    correlation pools the held-out rows of all folds with the responses and the predictions
    centred on their fold's means: the folds' separate intercepts would otherwise add offsets
    between folds that anti-correlate with the folds' mean responses. A constant column is NaN;
    a varying column with constant predictions scores 0.

    ``delete_one`` adds, for every row i, each column's correlation after deleting row i from the
    data: from its held-out fold, and from the training rows of the k − 1 fits it entered, each of
    which is refitted exactly (Sherman–Morrison: the prediction at held-out row t moves by
    −H_ti e_i / (1 − h_ii), H_ti = 1/n_train + G_ti the smoother weight with the intercept) with the
    fold's penalty and predictor scales held. Costs, per fold, the sums of the n_test × n_train
    smoother (:func:`_smoother_sums`).

    ``predictors`` (one entry per fold, None where not yet computed) holds each fold's
    :class:`FoldPredictors`: entries given are used, missing ones are computed and stored, so
    that other targets of the same ``x`` and folds skip the decompositions.
    """
    n, q = y.shape
    pred, yc, pc = np.empty_like(y), np.empty_like(y), np.empty_like(y)
    chosen = np.empty(len(folds))
    candidates = np.asarray(alphas, dtype=np.float64)
    d_yp = np.zeros((n, q)) if delete_one else None  # change of Σ ỹ p̃ when row i leaves the training rows
    d_pp = np.zeros((n, q)) if delete_one else None  # change of Σ p̃²
    for k, test in enumerate(folds):
        train = np.ones(n, dtype=bool)
        train[test] = False
        fold = None if predictors is None else predictors[k]
        if fold is None:
            xtr = x[train]
            xm, xs = xtr.mean(axis=0), xtr.std(axis=0)
            xs[xs == 0] = np.inf  # constant units carry nothing
            basis = RidgeBasis((xtr - xm) / xs)
            fold = FoldPredictors(basis, basis.projection((x[test] - xm) / xs))
            if predictors is not None:
                predictors[k] = fold
        m = fold.basis.n
        ym = y[train].mean(axis=0)
        model = RidgeLoo(fold.basis.x, y[train] - ym, basis=fold.basis)
        best = int(np.argmin(model.loo_errors(candidates * m)))
        penalty = candidates[best] * m
        chosen[k] = candidates[best]
        yc[test] = y[test] - y[test].mean(axis=0)
        if d_yp is None or d_pp is None:
            pred[test] = model.predict_projected(fold.test_proj, penalty) + ym
            pc[test] = pred[test] - pred[test].mean(axis=0)
            continue
        fold_pred, gty, gtp, cg, cg2 = _smoother_sums(model, fold.test_proj, penalty, yc[test])
        pred[test] = fold_pred + ym
        mean_p = fold_pred.mean(axis=0)
        pc[test] = fold_pred - mean_p
        loo = model.loo_residuals(penalty)  # e_i / (1 - h_ii): how far row i moves its own fit
        rows = np.flatnonzero(train)
        # deleting training row i moves held-out row t by Δ_t = -H_ti loo_i; the fold-centred sums
        # change by Σ ỹ_t Δ_t and by 2 Σ p̃_t Δ_t + Σ Δ_t² - (Σ Δ_t)² / n_test (the 1/m of H cancels)
        d_yp[rows] -= loo * gty
        d_pp[rows] += -2.0 * loo * (gtp - cg[:, None] * mean_p) + loo**2 * (cg2 - cg**2 / test.size)[:, None]
    syy, spp, syp = (yc * yc).sum(axis=0), (pc * pc).sum(axis=0), (yc * pc).sum(axis=0)
    r = _correlation(syp, syy, spp, syy)
    r_delete = None
    if d_yp is not None and d_pp is not None:
        own = np.empty((n, 1))
        for test in folds:
            own[test] = test.size / (test.size - 1.0)  # a row leaving its fold also moves the fold's mean
        r_delete = _correlation(syp - own * yc * pc + d_yp, syy - own * yc**2, spp - own * pc**2 + d_pp, syy)
        r_delete[:, r == 0.0] = 0.0  # constant predictions stay constant when a row is deleted
    return CrossValidated(pred, chosen, r, r_delete)


def _smoother_sums(model: RidgeLoo, proj: np.ndarray, penalty: float, y_test: np.ndarray
                   ) -> tuple[np.ndarray, ...]:
    """For the smoother G = (proj · scale) Uᵀ (held-out rows × training rows) of one fold: the
    held-out predictions G y, Gᵀ ỹ (``y_test`` centred), Gᵀ p̃ (the predictions) and the column
    sums of G and of G².

    G is n_test × m. Every product also factors through the r-dimensional basis (G = P Uᵀ with
    P = proj · scale: Gᵀ ỹ = U (Pᵀ ỹ), the column sums of G² are the rows of U against Pᵀ P), which
    costs about m r (r + 2q) multiply-adds instead of n_test m (r + 2q); taken where
    r² + 2 r q < n_test (r + 2q), i.e. where the basis is narrow beside the held-out rows (3,000
    stimuli of 64 units: 7× fewer). Else G is formed in blocks of held-out rows.
    """
    u, m, q = model.u, model.u.shape[0], model.y.shape[1]
    r, n_test = u.shape[1], proj.shape[0]
    if r * r + 2 * r * q < n_test * (r + 2 * q):
        scaled = proj * model.basis.scale(penalty)  # P: G = P Uᵀ
        fold_pred = model.predict_projected(proj, penalty)  # G y, rounded as without the interval
        gty = u @ (scaled.T @ y_test)
        gtp = u @ (scaled.T @ fold_pred)
        cg = u @ scaled.sum(axis=0)
        cg2 = np.einsum("ij,ij->i", u @ (scaled.T @ scaled), u)
        return fold_pred, gty, gtp, cg, cg2
    gty, gtp = np.zeros((m, q)), np.zeros((m, q))
    cg, cg2 = np.zeros(m), np.zeros(m)
    fold_pred = np.empty((n_test, q))
    step = max(1, int(_LOO_CHUNK_BYTES // (8 * max(m, q))))
    for lo in range(0, n_test, step):
        g = model.smoother(proj[lo:lo + step], penalty)
        fold_pred[lo:lo + step] = g @ model.y
        gty += g.T @ y_test[lo:lo + step]
        gtp += g.T @ fold_pred[lo:lo + step]
        cg += g.sum(axis=0)
        cg2 += np.einsum("ij,ij->j", g, g)
    return fold_pred, gty, gtp, cg, cg2


def _correlation(cross: np.ndarray, ss_y: np.ndarray, ss_pred: np.ndarray, ss_y_full: np.ndarray) -> np.ndarray:
    """Held-out r from centred sums, clipped to [-1, 1]: NaN where the responses are constant (their
    sum of squares at most ``_FLAT`` × ``ss_y_full``, the full data's), 0 where only the predictions are."""
    with np.errstate(invalid="ignore", divide="ignore"):
        r = cross / np.sqrt(ss_y * ss_pred)
    flat_y = ~(ss_y > _FLAT * ss_y_full)
    r = np.where((ss_pred <= _FLAT * np.maximum(ss_y, 1e-300)) & ~flat_y, 0.0, r)
    return np.where(flat_y, np.nan, np.clip(r, -1.0, 1.0))


def linear_replicates(values: np.ndarray, deleted: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Bootstrap replicates of per-unit statistics, linearised from their delete-one values.

    ``values`` (q,), ``deleted`` (n, q) the values with each of n rows deleted, ``weights``
    (n_boot × n) the draw counts of the replicates. Replicate b of unit j is
    T_j + Σ_i (w_bi − 1) (T_j − T_j(−i)) √((n − 1)/n): the jackknife's influence values, scaled so
    that the replicates' variance equals the jackknife variance ((n − 1)/n) Σ_i (T(−i) − T̄(·))².
    A deletion that leaves a unit undefined (NaN) counts as no change; a NaN unit stays NaN.
    """
    n = deleted.shape[0]
    with np.errstate(invalid="ignore"):
        influence = np.where(np.isfinite(deleted), values - deleted, 0.0) * np.sqrt((n - 1) / n)
    return values + (weights - 1.0) @ influence


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
                     rng: np.random.Generator, delete_one: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
    """Per-unit Spearman–Brown corrected split-half correlation across conditions (mean r over splits).

    Symmetric in the two halves of every split (:func:`half_r`); NaN for a unit whose halves are
    constant in every split. ``delete_one`` adds the same with each condition deleted (n_cond × q;
    the same splits, the condition's row left out of both half-averages), else None.
    """
    q = data.shape[1]
    total, count = np.zeros(q), np.zeros(q)
    total_d, count_d = (np.zeros((n_cond, q)), np.zeros((n_cond, q))) if delete_one else (None, None)
    for _ in range(n_halves):
        half = random_half(codes, n_cond, rng)
        a = average_by_condition(data[half], codes[half], n_cond)
        b = average_by_condition(data[~half], codes[~half], n_cond)
        r = half_r(a, b)
        total += np.where(np.isfinite(r), r, 0.0)
        count += np.isfinite(r)
        if total_d is not None and count_d is not None:
            rd = _half_r_delete(a, b)
            total_d += np.where(np.isfinite(rd), rd, 0.0)
            count_d += np.isfinite(rd)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = total / count  # NaN where no split is defined
        rel = 2 * r / (1 + r)
        if total_d is None or count_d is None:
            return rel, None
        rd = total_d / count_d
        return rel, 2 * rd / (1 + rd)


def _half_r_delete(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """:func:`half_r` with each row (condition) deleted in turn: (n_cond × q)."""
    n = a.shape[0]
    const_a, const_b = np.ptp(a, axis=0) == 0, np.ptp(b, axis=0) == 0
    ac, bc = a - a.mean(axis=0), b - b.mean(axis=0)
    own = n / (n - 1.0)  # deleting a row also moves the mean
    saa, sbb = np.einsum("ij,ij->j", ac, ac), np.einsum("ij,ij->j", bc, bc)
    saa_d, sbb_d = saa - own * ac**2, sbb - own * bc**2
    sab_d = np.einsum("ij,ij->j", ac, bc) - own * ac * bc
    flat_a = const_a | (saa_d <= _FLAT * saa)
    flat_b = const_b | (sbb_d <= _FLAT * sbb)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = sab_d / np.sqrt(saa_d * sbb_d)
    r = np.where(flat_a ^ flat_b, 0.0, r)
    r = np.where(flat_a & flat_b, np.nan, r)
    return np.clip(r, -1.0, 1.0)
