"""One-pass statistics of memmaps, HDF5 datasets and dask arrays equal the in-memory estimators."""

from __future__ import annotations

import numpy as np
import pytest

import neurocomplex as nc
from neurocomplex.measures.from_stats import summarize_array
from neurocomplex.stats import accumulate


def _data(rng, n=6000, d=12):
    latent = rng.normal(size=(n, 3))
    x = latent @ rng.normal(size=(3, d)) + 0.5 * rng.normal(size=(n, d))
    return np.maximum(x, 0.0)  # ReLU-like: exact zeros, so the binary state is meaningful


def _reference(x):
    rec = nc.Recording.from_array(x, kind="activations")
    return {
        "effective_dimension": nc.effective_dimension(rec, n_boot=0).value,
        "participation_ratio": nc.participation_ratio(rec, n_boot=0).value,
        "activation_ratio": nc.activation_ratio(rec, n_boot=0).value,
        "pattern_entropy": nc.pattern_entropy(rec, method="plugin", n_boot=0).value,
    }


def _values(table):
    return dict(zip(table.measure, table.value, strict=True))


def test_chunked_numpy_equals_in_memory_estimators(rng):
    x = _data(rng)
    got = _values(summarize_array(x, entropy_method="plugin", chunk_rows=777))
    for name, ref in _reference(x).items():
        assert got[name] == pytest.approx(ref, rel=1e-9), name


def test_hdf5_dataset_is_read_in_chunks_without_loading(rng, tmp_path):
    h5py = pytest.importorskip("h5py")
    x = _data(rng)
    path = tmp_path / "big.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("x", data=x, chunks=(500, x.shape[1]))
    with h5py.File(path, "r") as f:
        got = _values(summarize_array(f["x"], entropy_method="plugin", chunk_rows=1000))
    for name, ref in _reference(x).items():
        assert got[name] == pytest.approx(ref, rel=1e-9), name


def test_dask_array_with_distributed_client_equals_numpy(rng):
    da = pytest.importorskip("dask.array")
    distributed = pytest.importorskip("distributed")
    x = _data(rng)
    darr = da.from_array(x, chunks=(700, 5))  # column chunks are joined into whole rows
    with distributed.Client(processes=False, n_workers=2, threads_per_worker=1, dashboard_address=None):
        st = accumulate(darr, ["covariance", "activity", "words"])
    ref = accumulate(x, ["covariance", "activity", "words"])
    np.testing.assert_allclose(st["covariance"].covariance(), np.cov(x, rowvar=False), rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(st["activity"].active, ref["activity"].active)
    np.testing.assert_array_equal(st["words"].counts, ref["words"].counts)
    assert st["n_samples"] == x.shape[0]


def test_bad_sources_are_named_errors(rng):
    with pytest.raises(nc.InvalidParameterError, match="2-D"):
        accumulate(np.zeros(5))
    with pytest.raises(nc.InvalidParameterError, match="statistic"):
        accumulate(np.zeros((5, 2)), ["nope"])
    with pytest.raises(nc.InvalidDataError, match="NaN"):
        accumulate(np.array([[1.0, np.nan], [0.0, 1.0]]))
