"""Generated NWB sessions (spike times on a 30 kHz clock, areas, shared slow modulation), written fast."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np


def write_session(path: Path | str, n_units: int = 40, duration: float = 600.0, rate: float = 5.0, seed: int = 0,
                  locations: tuple[str, ...] = ("CA1", "V1")) -> int:
    """Write a Units table with pynwb; return the number of spikes.

    Rates follow three shared latent factors that change every 10 s (so units are correlated);
    spikes are drawn at once for all units (vectorized), rounded to a 30 kHz clock and written as
    one ragged column, which takes seconds for 10**7 spikes.
    """
    import pynwb
    from hdmf.common import ElementIdentifiers, VectorData, VectorIndex
    from pynwb.misc import Units

    rng = np.random.default_rng(seed)
    n_ep = int(duration // 10)
    latent = rng.gamma(4.0, 0.25, size=(n_ep, 3))
    loadings = rng.uniform(0, 1, size=(n_units, 3))
    ep_rate = rate * (latent @ loadings.T) / loadings.sum(axis=1)
    counts = rng.poisson(ep_rate * 10.0)
    unit = np.repeat(np.tile(np.arange(n_units), n_ep), counts.ravel())
    epoch = np.repeat(np.repeat(np.arange(n_ep), n_units), counts.ravel())
    t = np.round((epoch * 10.0 + rng.uniform(0, 10.0, size=epoch.size)) * 30000) / 30000
    t = t[np.lexsort((t, unit))]
    spike_times = VectorData(name="spike_times", description="spike times (s)", data=t)
    index = VectorIndex(name="spike_times_index", data=np.cumsum(counts.sum(axis=0)), target=spike_times)
    location = VectorData(name="location", description="brain area",
                          data=[locations[u % len(locations)] for u in range(n_units)])
    nwb = pynwb.NWBFile(session_description="generated session", identifier=f"generated-{seed}",
                        session_start_time=datetime(2024, 1, 1, tzinfo=UTC))
    nwb.units = Units(name="units", description="generated units",
                      id=ElementIdentifiers(name="id", data=np.arange(n_units)), columns=[spike_times, index, location])
    with pynwb.NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    return int(t.size)


def write_series_only(path: Path | str, seed: int = 0) -> None:
    """An NWB file with a TimeSeries in acquisition and no Units table."""
    import pynwb

    rng = np.random.default_rng(seed)
    nwb = pynwb.NWBFile(session_description="series only", identifier=f"series-{seed}",
                        session_start_time=datetime(2024, 1, 1, tzinfo=UTC))
    nwb.add_acquisition(pynwb.TimeSeries(name="lfp", data=rng.normal(size=(500, 4)), unit="V", rate=100.0,
                                         starting_time=0.0, description="signal"))
    with pynwb.NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
