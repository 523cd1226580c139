"""Shared, seeded fixtures. Real recordings live in ../shared/data and tests skip without them."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
MTL_NWB = SHARED_DATA / "human_mtl_rutishauser_sub-4_ses-4.nwb"
HIPPOCAMPUS_MAT = SHARED_DATA / "hippocampus_lineartrack_31units_spikes.mat"
DEMO_NWB = Path(__file__).resolve().parents[1] / "data" / "demo_recording.nwb"


@pytest.fixture(autouse=True)
def _close_figures():
    """Tests keep the figures they draw open to inspect them; close them after each test, so the
    session never holds more than matplotlib warns about (20)."""
    yield
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        plt.close("all")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


@pytest.fixture(scope="session")
def mtl_nwb_path() -> Path:
    if not MTL_NWB.exists():
        pytest.skip(f"real recording not available: {MTL_NWB}")
    return MTL_NWB


@pytest.fixture(scope="session")
def hippocampus_mat_path() -> Path:
    if not HIPPOCAMPUS_MAT.exists():
        pytest.skip(f"real recording not available: {HIPPOCAMPUS_MAT}")
    return HIPPOCAMPUS_MAT


def read_mat_spike_times(path: Path) -> list[np.ndarray]:
    """Spike times (s) of every unit in the nelpy MatClust .mat file (nested struct array)."""
    import scipy.io

    out: list[np.ndarray] = []

    def walk(obj: object) -> None:
        if isinstance(obj, np.ndarray) and obj.dtype.names and "time" in obj.dtype.names:
            for item in obj.reshape(-1):
                t = np.asarray(item["time"], dtype=float).reshape(-1)
                if t.size:
                    out.append(t)
        elif isinstance(obj, np.ndarray) and obj.dtype == object:
            for item in obj.reshape(-1):
                walk(item)

    walk(scipy.io.loadmat(path)["spikes"])
    return out


@pytest.fixture(scope="session")
def hippocampus_spike_times(hippocampus_mat_path: Path) -> list[np.ndarray]:
    return read_mat_spike_times(hippocampus_mat_path)
