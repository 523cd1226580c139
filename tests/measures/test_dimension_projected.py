"""The interval's block statistics read in the eigenbasis (a second pass over in-memory data)
give the same replicates as the blocks read in the units' basis."""

from __future__ import annotations

import numpy as np
import pytest

import neurocomplex as nc
from neurocomplex.measures import dimension
from neurocomplex.measures._spectral_bootstrap import expand_blocks, expand_projected
from neurocomplex.stats.covariance import block_grams, projected_block_grams


def _data(n: int, d: int, dtype: type, seed: int = 0, offset: float = 3.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(d, d)) / np.sqrt(np.arange(1, d + 1))[:, None]
    return (rng.normal(size=(n, d)) @ mixing + offset).astype(dtype)


def _replicates(est: nc.Estimate) -> np.ndarray:
    d = est.diagnostics
    return d["bootstrap"] if d["bootstrap"].size else d["jackknife"]


@pytest.mark.parametrize("block_size, chunk_rows, d", [(30, 100, 5), (30, 45, 200), (70, 32, 6), (25, 1000, 7)])
def test_projected_block_grams_equal_the_projected_rows(block_size, chunk_rows, d):
    # blocks grouped in chunks (batched and one by one), blocks longer than a chunk, a short last block
    x = _data(310, d, np.float64)
    mean = x.mean(axis=0)
    basis = np.linalg.qr(np.random.default_rng(1).normal(size=(d, d)))[0][:, : d - 1]
    st = projected_block_grams(x, mean, basis, block_size, chunk_rows)
    y = (x - mean) @ basis
    starts = range(0, 310, block_size)
    assert st.counts.tolist() == [float(min(block_size, 310 - s)) for s in starts]
    for b, s in enumerate(starts):
        yb = y[s : s + block_size]
        np.testing.assert_allclose(st.grams[b], yb.T @ yb, rtol=1e-12, atol=1e-10)
        np.testing.assert_allclose(st.means[b], yb.mean(axis=0), rtol=1e-12, atol=1e-12)
    assert not st.centres.any()


@pytest.mark.parametrize("order", [1.0, 0.5, 3.0])
def test_projected_expansion_equals_the_block_expansion(order):
    x = _data(400, 12, np.float64, seed=3)
    st = block_grams(x, 40)
    scatter = st.total
    lam, vecs = np.linalg.eigh(scatter)
    lam, vecs = lam[::-1], vecs[:, ::-1]
    a = expand_blocks(st.counts, st.means, st.centres, st.grams, lam, vecs, order)
    pr = projected_block_grams(x, st.counts @ st.means / st.counts.sum(), vecs, 40)
    b = expand_projected(pr.counts, pr.means, pr.grams, lam, order)
    np.testing.assert_allclose(b.diag, a.diag, atol=1e-10)
    np.testing.assert_allclose(b.weights, a.weights, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(b.spread, a.spread, atol=1e-10)


@pytest.mark.parametrize("n, d, order", [(800, 40, 1.0), (300, 60, 1.0), (900, 30, 0.5), (1200, 25, 3.0)])
def test_projected_route_gives_the_block_routes_interval(n, d, order, monkeypatch):
    # bootstrap (n >= 10 d) and grouped jackknife (n < 10 d), float64: equal to rounding
    rec = nc.Recording.from_array(_data(n, d, np.float64, seed=n))
    assert dimension._projects(rec.data, d, -(-n // 64) if n >= 10 * d else n // 10, False, order)
    projected = nc.effective_dimension(rec, order=order, n_boot=50, seed=4)
    monkeypatch.setattr(dimension, "_projects", lambda *args: False)
    blocks = nc.effective_dimension(rec, order=order, n_boot=50, seed=4)
    assert projected.diagnostics["replicates"] == blocks.diagnostics["replicates"] == "perturbative"
    np.testing.assert_allclose(projected.value, blocks.value, rtol=1e-12)
    np.testing.assert_allclose(_replicates(projected), _replicates(blocks), rtol=1e-9)
    np.testing.assert_allclose(projected.ci, blocks.ci, rtol=1e-9)


def test_projected_route_float32_and_rank_deficient(monkeypatch):
    # float32 activations of rank 20 in 50 units: the null directions are left out of the projection
    rng = np.random.default_rng(7)
    x = (rng.normal(size=(2000, 20)) @ rng.normal(size=(20, 50)) + 10.0).astype(np.float32)
    rec = nc.Recording.from_array(x)
    projected = nc.effective_dimension(rec, n_boot=40, seed=1)
    monkeypatch.setattr(dimension, "_projects", lambda *args: False)
    blocks = nc.effective_dimension(rec, n_boot=40, seed=1)
    assert projected.diagnostics["rank"] == blocks.diagnostics["rank"] == 20
    np.testing.assert_allclose(projected.value, blocks.value, rtol=1e-5)
    spread = np.std(_replicates(blocks))
    assert np.max(np.abs(_replicates(projected) - _replicates(blocks))) < 1e-3 * spread


def test_projected_route_is_taken_only_where_it_is_cheaper():
    x = np.zeros((5000, 10))
    assert not dimension._projects(x, 10, 79, False, 1.0)  # n >= B d: the block route
    assert dimension._projects(x, 100, 79, False, 1.0)
    assert not dimension._projects(x, 100, 79, False, 2.0)  # order 2: exact replicates from traces
    assert not dimension._projects(x, 100, 79, True, 1.0)  # standardized: no expansion
