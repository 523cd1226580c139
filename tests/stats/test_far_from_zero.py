"""Float32 data far from zero (a large bias, raw fluorescence): their statistics equal those of the
same values held in float64.

Rounding a column mean of 3·10^7 to float32 moves it by up to 1, and float32 partial sums of such
values are off by as much: more than the spread of the data. Centring on that rounded mean alone
gave an effective dimension of 20.9 for data whose own was 26.5, and intervals that did not
contain their value.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import neurocomplex as nc
from neurocomplex.stats.covariance import CovarianceAccumulator, block_grams, projected_block_grams

OFFSETS = [1e6, 3e7]


def _layer(n: int, d: int, offset: float, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """ReLU-like float32 activations plus ``offset``, and the same values in float64 less it."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 10)) @ rng.normal(size=(10, d)) / np.sqrt(10) + 0.3 * rng.normal(size=(n, d))
    x32 = (np.maximum(z - 0.2, 0) + offset).astype(np.float32)
    return x32, x32.astype(np.float64) - offset


@pytest.mark.parametrize("offset", OFFSETS)
def test_covariance_of_float32_far_from_zero_is_that_of_its_values(offset):
    x32, x64 = _layer(3000, 64, offset)
    ref = np.cov(x64, rowvar=False)
    scale = float(np.mean(np.diag(ref)))
    acc = CovarianceAccumulator(64)
    acc.update(x32)
    assert np.abs(acc.covariance() - ref).max() <= 1e-6 * scale
    acc = CovarianceAccumulator(64)
    for s in range(0, 3000, 700):  # several chunks, merged
        acc.update(x32[s : s + 700])
    assert np.abs(acc.covariance() - ref).max() <= 1e-6 * scale
    np.testing.assert_allclose(acc.mean - offset, x64.mean(axis=0), atol=1e-6)
    for block_size in (47, 500):  # small blocks batched, larger ones one by one
        st = block_grams(x32, block_size)
        assert np.abs(st.total / 2999 - ref).max() <= 1e-6 * scale
        for b in (0, 3):
            rows = x64[b * block_size : (b + 1) * block_size]
            scatter = (st.grams[b].astype(np.float64)
                       - st.counts[b] * np.outer(st.means[b] - st.centres[b], st.means[b] - st.centres[b]))
            centred = rows - rows.mean(axis=0)
            assert np.abs(scatter - centred.T @ centred).max() <= 1e-5 * scale * block_size
    basis = np.linalg.eigh(ref)[1]
    st = projected_block_grams(x32, acc.mean, basis, 500)
    y = (x64 - x64.mean(axis=0)) @ basis  # about the mean itself, as the expansion assumes
    for b in (0, 5):
        assert np.abs(st.grams[b] - y[b * 500 : (b + 1) * 500].T @ y[b * 500 : (b + 1) * 500]).max() <= 1e-4 * scale * 500
        np.testing.assert_allclose(st.means[b], y[b * 500 : (b + 1) * 500].mean(axis=0), atol=1e-5)


@pytest.mark.parametrize("offset", OFFSETS)
@pytest.mark.parametrize("device", [None, "cpu"])
def test_spectral_measures_and_their_intervals_do_not_move_with_a_float32_offset(offset, device):
    if device is not None:
        pytest.importorskip("torch")
    x32, x64 = _layer(3000, 64, offset)
    for name in ("effective_dimension", "participation_ratio", "spectrum_exponent"):
        f = getattr(nc, name)
        got, ref = f(nc.Recording.from_array(x32), device=device), f(nc.Recording.from_array(x64))
        assert got.value == pytest.approx(ref.value, rel=1e-6), name
        assert got.ci == pytest.approx(ref.ci, rel=1e-5), name


@pytest.mark.parametrize("offset", OFFSETS)
def test_cka_interval_does_not_move_with_a_float32_offset(offset):
    pytest.importorskip("torch")
    x32, x64 = _layer(3000, 64, offset)
    other = _layer(3000, 40, 0.0, seed=4)[1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nc.NeurocomplexWarning)
        ref = nc.cka(nc.Recording.from_array(x64), nc.Recording.from_array(other))
        for device in (None, "cpu"):
            got = nc.cka(nc.Recording.from_array(x32), nc.Recording.from_array(other), device=device)
            assert got.value == pytest.approx(ref.value, rel=1e-5, abs=1e-7)
            assert got.ci == pytest.approx(ref.ci, rel=1e-4, abs=1e-6)


@pytest.mark.parametrize("scale", [1e-20, 1e19, 1e30])
def test_float32_data_of_extreme_magnitude_give_the_values_of_the_data_rescaled(scale):
    # Squares of float32 values of 1e19 overflow (the covariance read as "NaN or inf", CKA as
    # "no variance", TwoNN's distances as a regular lattice); those of 1e-20 fall below float32's
    # normal range. Such data are multiplied in float64, and TwoNN's points rescaled by a power of 2.
    x64 = _layer(1500, 48, 0.0)[1]
    other = _layer(1500, 20, 0.0, seed=5)[1]
    big = (x64 * scale).astype(np.float32)
    wide = _layer(150, 400, 0.0, seed=6)[1]  # fewer samples than units: the Gram route
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nc.NeurocomplexWarning)
        warnings.simplefilter("error", RuntimeWarning)  # no overflow along the way either
        for name in ("effective_dimension", "participation_ratio", "spectrum_exponent", "twonn_dimension"):
            f = getattr(nc, name)
            for data in (x64, wide):
                got = f(nc.Recording.from_array((data * scale).astype(np.float32)))
                ref = f(nc.Recording.from_array(data))
                assert got.value == pytest.approx(ref.value, rel=1e-5), name
                assert got.ci == pytest.approx(ref.ci, rel=1e-4), name
        got = nc.cka(nc.Recording.from_array(big), nc.Recording.from_array(other))
        ref = nc.cka(nc.Recording.from_array(x64), nc.Recording.from_array(other))
        assert got.value == pytest.approx(ref.value, rel=1e-5, abs=1e-7)
        assert got.ci == pytest.approx(ref.ci, rel=1e-4, abs=1e-6)


def test_twonn_of_float64_points_beyond_float32_range():
    from neurocomplex.measures.twonn import two_nearest_distances

    x64 = _layer(800, 40, 0.0)[1]
    r1, r2 = two_nearest_distances(x64)
    for scale in (1e-30, 1e150):
        for device in (None, "cpu") if __import__("importlib").util.find_spec("torch") else (None,):
            s1, s2 = two_nearest_distances(x64 * scale, device=device)
            np.testing.assert_allclose(s1 / scale, r1, rtol=1e-12)
            np.testing.assert_allclose(s2 / scale, r2, rtol=1e-12)


def test_streamed_nwb_series_far_from_zero_equal_the_in_memory_values(tmp_path):
    # Raw fluorescence sits on a baseline of 10^4-10^6. A float32 series written by pynwb and
    # streamed from the file gave D = 23.73 (interval 23.67-23.96) for data whose own is 23.50 at a
    # baseline of 5e5, and 28.2 for 33.7 at 3e7; in memory, 23.502 and 33.69.
    pytest.importorskip("pynwb")
    for offset in (5e5, 3e7):
        x32, x64 = _layer(6000, 48, offset)
        path = tmp_path / f"s{offset:g}.nwb"
        nc.write_nwb(nc.Recording.from_array(x32, kind="rates"), path)
        ref = nc.effective_dimension(nc.Recording.from_array(x64))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", nc.NeurocomplexWarning)
            table = nc.measure_stream(path, ["effective_dimension"])
            loaded = nc.effective_dimension(nc.load(path))
        row = table[(table.measure == "effective_dimension") & (table.group == "all")].iloc[0]
        assert row.value == pytest.approx(ref.value, rel=1e-6)
        assert (row.ci_low, row.ci_high) == pytest.approx(ref.ci, rel=1e-5)
        assert loaded.value == pytest.approx(ref.value, rel=1e-6)
        assert loaded.ci == pytest.approx(ref.ci, rel=1e-5)


def test_summarize_of_a_layer_with_a_large_bias_equals_its_captured_activations():
    # nc.torch.summarize centred each batch on its mean rounded to float32: with a bias of 5e5 the
    # layer's D came out 21.115 for activations whose own D is 21.024.
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(20, 64), torch.nn.ReLU(), torch.nn.Linear(64, 48))
    with torch.no_grad():
        model[2].bias += 5e5
    x = torch.randn(4000, 20)
    table = nc.torch.summarize(model, x, layers=["2"], batch_size=512, progress=False)
    with torch.no_grad():
        acts = model(x).numpy()
    ref = nc.effective_dimension(nc.Recording.from_array(acts.astype(np.float64) - 5e5), n_boot=0)
    got = table[table.measure == "effective_dimension"].value.iloc[0]
    assert got == pytest.approx(ref.value, rel=1e-6)


def test_torch_sketch_of_rows_on_a_large_baseline_keeps_their_trace():
    torch = pytest.importorskip("torch")
    from neurocomplex.torch._sketch import TorchSketch

    x = torch.randn(3000, 40, generator=torch.Generator().manual_seed(0)) * 0.5 + 5e5
    sketch = TorchSketch(40, 20, seed=1, device=torch.device("cpu"))
    for s in range(0, 3000, 500):
        sketch.update(x[s : s + 500])
    ref = np.cov(x.numpy().astype(np.float64).T)
    assert sketch.to_stats().trace() == pytest.approx(float(np.trace(ref)), rel=1e-7)
