"""The shape-distance replicates' Gram route: nuclear norms and aligned traces from the eigenpairs
of the smaller Gram matrix equal the SVD's, on tall, wide and square matrices, at the rank
bound, and where a singular value is too small for the route (it then takes the SVD itself)."""

from __future__ import annotations

import numpy as np
import pytest

from neurocomplex.stats import pair_blocks as pbk


def _matrix(rows: int, cols: int, spectrum: np.ndarray, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    u = np.linalg.qr(rng.standard_normal((rows, spectrum.size)))[0]
    v = np.linalg.qr(rng.standard_normal((cols, spectrum.size)))[0]
    return (u * spectrum) @ v.T


@pytest.mark.parametrize(("rows", "cols"), [(40, 200), (200, 40), (60, 60), (1, 30)])
def test_nuclear_norm_equals_the_svd(rows, cols):
    k = min(rows, cols)
    c = _matrix(rows, cols, np.geomspace(10.0, 1e-3, k), seed=rows + cols)
    exact = np.linalg.svd(c, compute_uv=False).sum()
    assert pbk.nuclear_norm(c, k) == pytest.approx(exact, rel=1e-12)


def test_nuclear_norm_at_its_rank_bound_drops_only_rounding():
    """A centred cross-product of 11 distinct samples has rank 10: the route sums the top 10 (the
    rest are rounding, which the SVD adds at the 1e-16 level and the Gram route at 1e-8)."""
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((11, 30)), rng.standard_normal((11, 50))
    c = (x - x.mean(0)).T @ (y - y.mean(0))
    exact = np.linalg.svd(c, compute_uv=False).sum()
    assert pbk.nuclear_norm(c, 10) == pytest.approx(exact, rel=1e-12)
    # asked for more than the true rank, the zero singular values fail the accuracy test: SVD
    assert pbk.nuclear_norm(c, 11) == pytest.approx(exact, rel=1e-14)


def test_tiny_singular_values_take_the_svd():
    """Singular values spanning 1e-7 of the largest: their squares are below the eigensolver's
    rounding, so the Gram route would be off by about 1e-8 of σ_max each; the SVD is used."""
    s = np.r_[1.0, np.full(20, 1e-7)]
    c = _matrix(30, 90, s, seed=5)
    exact = np.linalg.svd(c, compute_uv=False).sum()
    assert pbk.nuclear_norm(c, s.size) == pytest.approx(exact, rel=1e-14)
    assert abs(np.sqrt(np.clip(np.linalg.eigvalsh(c @ c.T), 0, None)).sum() - exact) > 1e-9  # why


@pytest.mark.parametrize(("rows", "cols"), [(30, 120), (120, 30), (45, 45)])
@pytest.mark.parametrize("rank", [5, 30, 200])
def test_aligned_trace_gram_equals_the_svd(rows, cols, rank):
    k = min(rows, cols)
    fit = _matrix(rows, cols, np.geomspace(5.0, 1e-2, k), seed=rows)
    evaluation = fit + 0.5 * np.random.default_rng(rows + 1).standard_normal((rows, cols))
    floor = 1e-10 * np.linalg.norm(fit)
    exact = pbk.aligned_trace(fit, evaluation, rank, floor)
    assert pbk.aligned_trace_gram(fit, evaluation, rank, floor) == pytest.approx(exact, rel=1e-11)


def test_aligned_trace_gram_keeps_the_floor_and_falls_back_where_it_must():
    fit = _matrix(20, 60, np.r_[3.0, 2.0, 1.0, 1e-3], seed=9)
    evaluation = np.random.default_rng(10).standard_normal((20, 60))
    # a floor between the singular values: only those above it enter, as in the SVD version
    for floor in (0.5, 1.5, 2.5, 10.0):
        assert pbk.aligned_trace_gram(fit, evaluation, 4, floor) == pytest.approx(
            pbk.aligned_trace(fit, evaluation, 4, floor), rel=1e-11, abs=1e-14)
    # rank 4 asked for 6: the two zero singular values are not accurate through the Gram matrix,
    # and the SVD decides which side of a low floor they fall on
    low = 1e-12
    assert pbk.aligned_trace_gram(fit, evaluation, 6, low) == pbk.aligned_trace(fit, evaluation, 6, low)


def test_the_route_is_predicted_from_the_spectrum_with_a_margin():
    # the Gram route needs λ_k >= 1e-8 λ_1; replicates take the SVD directly below 1e-6
    assert not pbk.gram_route_fails(np.r_[1.0, 0.5, 1.01e-3], 3)
    assert pbk.gram_route_fails(np.r_[1.0, 0.5, 0.99e-3], 3)
    assert not pbk.gram_route_fails(np.r_[1.0, 0.5, 1e-9], 2)  # beyond the rank: not summed
    assert not pbk.gram_route_fails(np.zeros(3), 3)


def test_the_direct_svd_equals_the_gram_route():
    c = _matrix(40, 90, np.geomspace(10.0, 1e-2, 40), seed=4)
    evaluation = c + np.random.default_rng(5).standard_normal(c.shape)
    assert pbk.nuclear_norm(c, 40, svd=True) == pytest.approx(pbk.nuclear_norm(c, 40), rel=1e-12)
    assert pbk.aligned_trace_gram(c, evaluation, 40, 1e-9, svd=True) == pytest.approx(
        pbk.aligned_trace_gram(c, evaluation, 40, 1e-9), rel=1e-11)


def _shape_case(copies: bool, n: int = 600) -> tuple:
    rng = np.random.default_rng(8)
    x = rng.standard_normal((n, 40))
    y = x[:, :30] @ rng.standard_normal((30, 30)) + rng.standard_normal((n, 30))
    if copies:  # two equal columns: every cross-product has a zero singular value within its rank
        y[:, 1] = y[:, 0]
    blocks = pbk.block_assignment(n, 20, None, 0)
    half = np.arange(20) < 10
    sb = pbk.shape_blocks(x - x.mean(0), y - y.mean(0), blocks, half)
    weights = np.r_[np.ones((1, 20)), pbk.replicate_weights(20, 12, 0)]
    return sb, weights, half


@pytest.mark.parametrize("copies", [False, True])
def test_replicates_skip_the_gram_route_where_the_estimate_says_it_fails(monkeypatch, copies):
    sb, weights, half = _shape_case(copies)
    want = pbk.shape_cosines(sb, weights, half, exact_rows=weights.shape[0])  # every row by SVD
    calls = []
    top_eigen = pbk._top_eigen
    monkeypatch.setattr(pbk, "_top_eigen", lambda *a, **k: (calls.append(1), top_eigen(*a, **k))[1])
    got = pbk.shape_cosines(sb, weights, half, exact_rows=1)
    np.testing.assert_allclose(got, want, rtol=1e-11)
    # 12 replicates, each a nuclear norm and two aligned traces: all by the Gram route, or none
    assert len(calls) == (0 if copies else 36)


def test_replicates_do_not_depend_on_the_threads(monkeypatch):
    sb, weights, half = _shape_case(False)
    found = []
    for threads in ("1", "3"):
        monkeypatch.setenv("NEUROCOMPLEX_NUM_THREADS", threads)
        found.append(pbk.shape_cosines(sb, weights, half, exact_rows=1))
    np.testing.assert_array_equal(found[0], found[1])


def test_replicates_skip_the_gram_route_where_the_first_replicate_fell_back(monkeypatch):
    sb, weights, half = _shape_case(True)
    want = pbk.shape_cosines(sb, weights, half, exact_rows=weights.shape[0])
    monkeypatch.setattr(pbk, "gram_route_fails", lambda s, rank: False)  # the estimate's spectrum passes
    calls = []
    top_eigen = pbk._top_eigen
    monkeypatch.setattr(pbk, "_top_eigen", lambda *a, **k: (calls.append(1), top_eigen(*a, **k))[1])
    got = pbk.shape_cosines(sb, weights, half, exact_rows=1)
    np.testing.assert_allclose(got, want, rtol=1e-11)
    assert len(calls) == 3  # the first replicate's three tries, then the SVD for the other 11


def test_replicates_whose_rank_the_samples_bound_each_try_the_gram_route(monkeypatch):
    # 50 samples for 30 units: a replicate's rank bound is its distinct samples (about 63 %), so
    # neither the estimate nor the first replicate foretells the others' smallest singular values
    sb, weights, half = _shape_case(True, n=50)
    want = pbk.shape_cosines(sb, weights, half, exact_rows=weights.shape[0])
    calls = []
    top_eigen = pbk._top_eigen
    monkeypatch.setattr(pbk, "_top_eigen", lambda *a, **k: (calls.append(1), top_eigen(*a, **k))[1])
    got = pbk.shape_cosines(sb, weights, half, exact_rows=1)
    np.testing.assert_allclose(got, want, rtol=1e-10)
    assert len(calls) >= 11  # every later replicate tries at least its whole cross-product's Gram route
