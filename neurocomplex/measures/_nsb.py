"""The Nemenman–Shafee–Bialek (NSB) entropy estimator, from the counts of the observed words only.

The NSB prior is an infinite mixture of symmetric Dirichlet priors of concentration ``beta`` on an
alphabet of ``K`` words, mixed so that the prior expected entropy ``xi(beta) = E[S | beta]`` is
uniform on ``[0, log K]``. Every quantity needed (the evidence, the posterior mean and second
moment of the entropy at fixed ``beta``) depends on the counts of the observed words and on ``K``
only through closed forms, so the ``K - K_obs`` unobserved words are never enumerated and ``K`` is
handled through ``log K`` (it may be ``2**1000``).

The integral over ``beta`` is done in ``t = log(kappa)`` with ``kappa = K * beta`` (the total
pseudo-count): the posterior peak is found on a coarse grid and refined by Brent's method, the
range where the log-posterior lies within ``_LOG_DROP`` nats of the peak is bracketed by root
finding, and the three integrals (normalization, first and second moment) are done on that range
with composite Gauss–Legendre quadrature of the posterior shifted by its maximum. Sums over
observed words are sums over the distinct count values weighted by their multiplicities (at most
about ``sqrt(2 N)`` terms).
"""

from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np
from scipy import special

from neurocomplex.errors import InvalidParameterError

__all__ = ["NSBPosterior", "count_profile", "nsb_posterior", "nsb_posterior_from_profile", "dirichlet_entropy_moments"]

# The log-posterior range integrated: contributions below exp(-_LOG_DROP) of the peak are dropped.
_LOG_DROP = 40.0
# Composite Gauss–Legendre rule: panel edges (fractions of each side of the peak) x nodes per panel.
_PANEL_EDGES = np.array([0.0, 1.0, 3.0, 7.0, 15.0]) / 15.0
_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(24)
# log(kappa) search range: below, the posterior decays like kappa**(K_obs - 1) (or kappa); above,
# like 1/beta once the prior has saturated, so _LOG_DROP nats past log(K * N) suffice.
_T_MIN = -60.0
# Peak and range search: repeated zooms of a small vectorized grid (each shrinks the bracket 8x).
_N_ZOOM = 6
_ZOOM_POINTS = 17
# Above this kappa = exp(t) overflows; only the no-coincidence case has posterior mass there.
_T_MAX = 700.0


@dataclasses.dataclass(frozen=True)
class NSBPosterior:
    """Posterior summary of the NSB estimator (entropies in nats).

    Attributes
    ----------
    mean : float
        Posterior mean of the entropy (the NSB estimate), nats.
    std : float
        Posterior standard deviation of the entropy, nats.
    kappa_peak : float
        ``K * beta`` at the maximum of the posterior over ``log(kappa)``.
    log_beta_peak : float
        Natural log of the concentration ``beta`` per word at the peak.
    xi_peak : float
        Prior expected entropy ``xi(beta)`` at the peak, nats.
    n_coincidences : int
        ``N - K_obs``; NSB is undetermined by the data when it is 0.
    """

    mean: float
    std: float
    kappa_peak: float
    log_beta_peak: float
    xi_peak: float
    n_coincidences: int


def count_profile(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct positive count values and how many words have each ("counts of counts").

    Examples
    --------
    >>> values, mult = count_profile(np.array([3, 1, 0, 1, 3, 3]))
    >>> values.tolist(), mult.tolist()
    ([1.0, 3.0], [2.0, 3.0])
    """
    counts = np.asarray(counts)
    counts = counts[counts > 0]
    values, mult = np.unique(counts, return_counts=True)
    return values.astype(np.float64), mult.astype(np.float64)


def _stirling_corr(x: np.ndarray) -> np.ndarray:
    """``log Gamma(x) - [(x - 1/2) log x - x + log(2 pi)/2]`` for ``x >= 10`` (error < 1e-13)."""
    inv = 1.0 / x
    inv2 = inv * inv
    return inv * (1.0 / 12.0 - inv2 * (1.0 / 360.0 - inv2 * (1.0 / 1260.0 - inv2 / 1680.0)))


def _lgamma_ratio(x: np.ndarray, n: np.ndarray | float) -> np.ndarray:
    """``log Gamma(x + n) - log Gamma(x)`` for ``x > 0, n >= 0``, without the cancellation of two
    huge ``gammaln`` values when ``x`` is large."""
    x, n = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(n, dtype=np.float64))
    big = x >= 10.0
    if not big.any():
        return special.gammaln(x + n) - special.gammaln(x)
    out = np.empty(x.shape)
    xs, ns = x[~big], n[~big]
    out[~big] = special.gammaln(xs + ns) - special.gammaln(xs)
    xb, nb = x[big], n[big]
    out[big] = ((xb - 0.5) * np.log1p(nb / xb) + nb * np.log(xb + nb) - nb
                + _stirling_corr(xb + nb) - _stirling_corr(xb))
    return out


_SHIFTS = np.arange(10.0)


def _trigamma(x: np.ndarray) -> np.ndarray:
    """``psi1(x)`` for ``x > 0``: recurrence up to ``x >= 10``, then the asymptotic series (faster than
    ``scipy.special.polygamma``, which goes through the Hurwitz zeta function)."""
    y = np.array(x, dtype=np.float64, copy=True)
    acc = np.zeros_like(y)
    small = y < 10.0
    if small.any():  # psi1(x) = sum_{k<10} 1/(x+k)^2 + psi1(x+10), all ten terms at once
        xs = y[small]
        shifted = xs[:, None] + _SHIFTS
        acc[small] = np.sum(1.0 / (shifted * shifted), axis=1)
        y[small] = xs + 10.0
    inv = 1.0 / y
    inv2 = inv * inv
    return acc + inv * (1.0 + inv * (0.5 + inv * (1.0 / 6.0 - inv2 * (1.0 / 30.0 - inv2 * (1.0 / 42.0 - inv2 / 30.0)))))


def _one_minus_x_trigamma(x: np.ndarray) -> np.ndarray:
    """``1 - x psi1(x + 1)``, by its asymptotic series for ``x >= 10`` (no cancellation)."""
    x = np.asarray(x, dtype=np.float64)
    out = np.empty(x.shape)
    big = x >= 10.0
    xs = x[~big]
    out[~big] = 1.0 - xs * _trigamma(xs + 1.0)
    inv = 1.0 / x[big]
    inv2 = inv * inv
    out[big] = inv * (0.5 - inv * (1.0 / 6.0 - inv2 * (1.0 / 30.0 - inv2 * (1.0 / 42.0 - inv2 / 30.0))))
    return out


class _Profile:
    """Sufficient statistics of the counts for the NSB integrals."""

    def __init__(self, values: np.ndarray, mult: np.ndarray, log_k: float) -> None:
        self.values = values[None, :]  # (1, J), broadcast against a (G, 1) grid
        self.mult = mult[None, :]
        self.n = float(np.dot(values, mult))
        self.k_obs = float(mult.sum())
        self.log_k = log_k
        # Fraction of the alphabet never observed, (K - K_obs) / K, without forming K.
        self.unseen = -math.expm1(math.log(self.k_obs) - log_k) if self.k_obs > 0 else 1.0

    def log_posterior(self, t: np.ndarray) -> np.ndarray:
        """Log posterior density over ``t = log(kappa)`` up to a constant."""
        t = np.asarray(t, dtype=np.float64)[:, None]
        kappa = np.exp(t)
        beta = np.exp(t - self.log_k)
        # log Gamma(kappa)/Gamma(N+kappa) + sum_i log Gamma(n_i+beta)/Gamma(beta), with
        # Gamma(n+beta)/Gamma(beta) = beta Gamma(n+beta)/Gamma(1+beta) (stable as beta -> 0); the
        # constant -K_obs log K is dropped.
        log_ev = (self.k_obs * t - _lgamma_ratio(kappa, self.n)
                  + np.sum(self.mult * _lgamma_ratio(1.0 + beta, self.values - 1.0), axis=1, keepdims=True))
        # d xi / d t = kappa psi1(kappa+1) - beta psi1(beta+1) = g(beta) - g(kappa)
        dxi = _one_minus_x_trigamma(beta) - _one_minus_x_trigamma(kappa)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = log_ev + np.where(dxi > 0, np.log(np.where(dxi > 0, dxi, 1.0)), -np.inf)
        out = out[:, 0]
        return np.where(np.isfinite(out), out, -np.inf)

    def moments(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``E[S | beta]`` and ``E[S^2 | beta]`` (nats) at each ``t = log(kappa)``."""
        t = np.asarray(t, dtype=np.float64)[:, None]
        kappa = np.exp(t)
        beta = np.exp(t - self.log_k)
        return dirichlet_entropy_moments(self.values, self.mult, kappa, beta, self.n, self.unseen)


def dirichlet_entropy_moments(values: np.ndarray, mult: np.ndarray, kappa: np.ndarray, beta: np.ndarray,
                              n: float, unseen: float) -> tuple[np.ndarray, np.ndarray]:
    """Posterior mean and second moment of the entropy (nats) under a symmetric Dirichlet prior.

    Parameters
    ----------
    values, mult : numpy.ndarray
        Distinct positive counts and their multiplicities (broadcast against ``kappa``).
    kappa, beta : numpy.ndarray
        Total pseudo-count ``K * beta`` and per-word concentration ``beta`` (same shape).
    n : float
        Number of samples ``N``.
    unseen : float
        ``(K - K_obs) / K``: the unobserved words enter only through ``(K - K_obs) * beta``.

    Returns
    -------
    first, second : numpy.ndarray
        ``E[S | n, beta]`` and ``E[S^2 | n, beta]``, reduced over the last axis.

    Notes
    -----
    With posterior Dirichlet parameters ``a_i = n_i + beta`` and ``A = N + kappa`` (Wolpert & Wolf
    1995; Nemenman, Shafee & Bialek 2002):
    ``E[S] = psi(A+1) - sum_i a_i/A psi(a_i+1)`` and
    ``E[S^2] = [sum_{i != j} a_i a_j ((psi(a_i+1)-psi(A+2))(psi(a_j+1)-psi(A+2)) - psi1(A+2))
    + sum_i a_i (a_i+1) ((psi(a_i+2)-psi(A+2))^2 + psi1(a_i+2) - psi1(A+2))] / (A (A+1))``.
    The ``i != j`` sum is written as ``U^2 - sum u_i^2 - psi1(A+2) (A^2 - sum a_i^2)`` with
    ``u_i = a_i (psi(a_i+1) - psi(A+2))``, so every sum runs over distinct counts plus one closed-form
    term for the unobserved words.
    """
    a = values + beta
    big_a = n + kappa
    inv_a = 1.0 / big_a
    fa = a * inv_a  # posterior mean probability of each observed word
    f0 = kappa * unseen * inv_a  # total posterior mean probability of the unobserved words
    b_a = beta * inv_a
    dig_a1 = special.digamma(a + 1.0)
    dig_b1 = special.digamma(beta + 1.0)
    first = special.digamma(big_a + 1.0) - (np.sum(mult * fa * dig_a1, axis=-1, keepdims=True) + f0 * dig_b1)
    # Second moment, every sum divided by A^2 so that nothing overflows when kappa is huge.
    d2 = special.digamma(big_a + 2.0)
    t2 = _trigamma(big_a + 2.0)
    du = dig_a1 - d2
    du0 = dig_b1 - d2
    u_sum = np.sum(mult * fa * du, axis=-1, keepdims=True) + f0 * du0  # U / A
    u2_sum = np.sum(mult * fa * fa * du * du, axis=-1, keepdims=True) + f0 * b_a * du0 * du0
    a2_sum = np.sum(mult * fa * fa, axis=-1, keepdims=True) + f0 * b_a
    off = u_sum * u_sum - u2_sum - t2 * (1.0 - a2_sum)
    diag = (np.sum(mult * fa * (fa + inv_a) * ((special.digamma(a + 2.0) - d2) ** 2 + _trigamma(a + 2.0) - t2),
                   axis=-1, keepdims=True)
            + f0 * (b_a + inv_a) * ((special.digamma(beta + 2.0) - d2) ** 2 + _trigamma(beta + 2.0) - t2))
    second = (off + diag) * (big_a / (big_a + 1.0))
    return first[..., 0], second[..., 0]


def _zoom_peak(prof: _Profile, lo: float, hi: float) -> tuple[float, float]:
    """Maximum of the (unimodal) log-posterior on ``[lo, hi]`` by repeated vectorized grid zooms."""
    best_t, best_f = lo, -math.inf
    for _ in range(_N_ZOOM):
        ts = np.linspace(lo, hi, _ZOOM_POINTS)
        fs = prof.log_posterior(ts)
        j = int(np.argmax(fs))
        if fs[j] >= best_f:
            best_t, best_f = float(ts[j]), float(fs[j])
        lo, hi = ts[max(j - 1, 0)], ts[min(j + 1, ts.size - 1)]
    return best_t, best_f


def _zoom_crossing(prof: _Profile, level: float, inside: float, outside: float) -> float:
    """A ``t`` near where the log-posterior crosses ``level`` between ``inside`` (above) and ``outside``
    (below), on the outside of the crossing so the integration range is never cut short."""
    for _ in range(_N_ZOOM):
        ts = np.linspace(inside, outside, _ZOOM_POINTS)
        below = np.flatnonzero(prof.log_posterior(ts) < level)
        k = int(below[0]) if below.size else ts.size - 1
        inside, outside = float(ts[max(k - 1, 0)]), float(ts[k])
    return outside


def nsb_posterior(counts: np.ndarray, alphabet_size_log2: float) -> NSBPosterior:
    """NSB posterior mean and standard deviation of the entropy (nats) from word counts.

    Parameters
    ----------
    counts : numpy.ndarray
        Counts of the distinct observed words (zeros are ignored), integers >= 0.
    alphabet_size_log2 : float
        ``log2`` of the alphabet size ``K`` (``n_units`` for words of ``n_units`` bits).

    Returns
    -------
    NSBPosterior

    Raises
    ------
    InvalidParameterError
        More distinct words than the alphabet holds, or no positive count.

    Notes
    -----
    The posterior over ``beta`` is ``P(beta | n) ∝ d xi / d beta * Gamma(kappa) / Gamma(N + kappa) *
    prod_i Gamma(n_i + beta) / Gamma(beta)`` with ``kappa = K beta`` and
    ``xi(beta) = psi(kappa + 1) - psi(beta + 1)`` (Nemenman, Shafee & Bialek 2002). The estimate is
    ``int E[S | n, beta] P(beta | n) d beta``; the posterior variance is
    ``int E[S^2 | n, beta] P(beta | n) d beta - estimate^2``.

    References
    ----------
    .. [1] I. Nemenman, F. Shafee, W. Bialek, "Entropy and inference, revisited", NIPS 14 (2002).
    .. [2] I. Nemenman, W. Bialek, R. de Ruyter van Steveninck, "Entropy and information in neural
       spike trains: progress on the sampling problem", Phys. Rev. E 69, 056111 (2004).

    Examples
    --------
    >>> post = nsb_posterior(np.array([5, 3, 2, 1, 1]), alphabet_size_log2=3)
    >>> 0 < post.mean < np.log(8) and post.std > 0
    True
    """
    values, mult = count_profile(counts)
    return nsb_posterior_from_profile(values, mult, alphabet_size_log2)


def nsb_posterior_from_profile(values: np.ndarray, mult: np.ndarray, alphabet_size_log2: float) -> NSBPosterior:
    """:func:`nsb_posterior` from the counts of counts: ``mult[j]`` words were seen ``values[j]`` times.

    NSB depends on the counts only through this profile, so the cost is ``O(len(values))`` (at most
    about ``sqrt(2 N)`` distinct values), whatever the number of distinct words.

    Examples
    --------
    >>> a = nsb_posterior_from_profile(np.array([1.0, 3.0]), np.array([2.0, 1.0]), 4)
    >>> b = nsb_posterior(np.array([3, 1, 1]), 4)
    >>> abs(a.mean - b.mean) < 1e-12
    True
    """
    values = np.asarray(values, dtype=np.float64)
    mult = np.asarray(mult, dtype=np.float64)
    keep = (values > 0) & (mult > 0)
    values, mult = values[keep], mult[keep]
    if values.size == 0:
        raise InvalidParameterError("NSB needs at least one positive count; all counts are zero.")
    log_k = float(alphabet_size_log2) * math.log(2.0)
    k_obs = float(mult.sum())
    if math.log(k_obs) > log_k + 1e-9:
        raise InvalidParameterError(
            f"{int(k_obs)} distinct words were observed but the alphabet holds only "
            f"2**{alphabet_size_log2} words; pass the right alphabet_size_log2 (the word length in bits)."
        )
    n = float(np.dot(values, mult))
    if log_k == 0.0:  # a one-word alphabet: the entropy is 0 with certainty
        return NSBPosterior(0.0, 0.0, math.nan, math.nan, 0.0, int(n - k_obs))
    return _posterior_of(values.tobytes(), mult.tobytes(), log_k)


@functools.lru_cache(maxsize=512)
def _posterior_of(values_bytes: bytes, mult_bytes: bytes, log_k: float) -> NSBPosterior:
    """The NSB posterior of one exact profile (float64 bytes) and alphabet: many draws and replicates
    share a profile (every word seen once, say), and the posterior is a pure function of it."""
    values, mult = np.frombuffer(values_bytes), np.frombuffer(mult_bytes)
    k_obs = float(mult.sum())
    n = float(np.dot(values, mult))
    prof = _Profile(values, mult, log_k)
    t_max = min(log_k + math.log(n + 1.0) + _LOG_DROP, _T_MAX)
    grid = np.linspace(_T_MIN, t_max, max(64, int(t_max - _T_MIN) + 1))
    lp = prof.log_posterior(grid)
    i = int(np.argmax(lp))
    t_peak, f_peak = _zoom_peak(prof, float(grid[max(i - 1, 0)]), float(grid[min(i + 1, grid.size - 1)]))
    level = f_peak - _LOG_DROP
    below = np.flatnonzero(lp < level)
    left, right = below[below < i], below[below > i]
    a = _zoom_crossing(prof, level, t_peak, float(grid[left[-1]])) if left.size else float(grid[0])
    b = _zoom_crossing(prof, level, t_peak, float(grid[right[0]])) if right.size else float(grid[-1])
    # Composite Gauss–Legendre on [a, b]: panels widen geometrically away from the peak, which sits on
    # a panel edge, so both a narrow peak and a long tail are resolved.
    frac = _PANEL_EDGES
    edges = np.unique(np.concatenate([t_peak - (t_peak - a) * frac[::-1], t_peak + (b - t_peak) * frac]))
    half = np.diff(edges)[:, None] / 2.0
    mid = (edges[:-1] + edges[1:])[:, None] / 2.0
    nodes = (mid + half * _GL_NODES[None, :]).ravel()
    weights = (half * _GL_WEIGHTS[None, :]).ravel()
    lp_nodes = prof.log_posterior(nodes)
    w = weights * np.exp(lp_nodes - max(f_peak, float(lp_nodes.max())))
    first, second = prof.moments(nodes)
    z = w.sum()
    mean = float(np.dot(w, first) / z)
    var = float(np.dot(w, second) / z) - mean * mean
    kappa_peak = math.exp(t_peak)
    beta_peak = math.exp(t_peak - log_k)
    xi_peak = float(special.digamma(kappa_peak + 1.0) - special.digamma(beta_peak + 1.0))
    return NSBPosterior(mean=mean, std=math.sqrt(max(var, 0.0)), kappa_peak=kappa_peak,
                        log_beta_peak=t_peak - log_k, xi_peak=xi_peak, n_coincidences=round(n - k_obs))
