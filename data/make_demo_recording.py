"""Generate the bundled demo recording: data/demo_recording.nwb and data/demo_recording_truth.json.

A simulated 10-minute session with 60 units in two areas, written as an NWB 2 file with pynwb:

* ``area_A``: 30 units driven by 2 smooth latent variables (low dimensional);
* ``area_B``: 30 units driven by 10 latent variables (higher dimensional).

Model (fixed seed, so the files are reproducible bit for bit in their spike times):

1. Latents: independent Ornstein-Uhlenbeck processes ``z_k(t)`` with unit stationary variance and
   time constant ``LATENT_TAU`` seconds, sampled exactly on a fine grid of ``FINE_DT`` seconds
   (the AR(1) recursion ``z[t] = a z[t-1] + sqrt(1 - a**2) e[t]``, ``a = exp(-FINE_DT / tau)``,
   run by ``scipy.signal.lfilter``).
2. Drive: ``x_i(t) = b_i + sum_k W_ik z_k(t)`` with Gaussian loadings ``W`` scaled by
   ``DRIVE_GAIN / sqrt(n_latents)`` so that every unit's drive has the same variance whatever the
   number of latents, and offsets ``b_i`` drawn per unit.
3. Rates: ``r_i(t) = RATE_MIN + (RATE_MAX - RATE_MIN) * sigmoid(x_i(t))``, so 2-20 Hz.
4. Spikes: an inhomogeneous Poisson process with rate constant within each fine bin: a Poisson
   count per fine bin and unit, then each spike placed uniformly at random within its bin
   (exact for a piecewise-constant rate; vectorized, no loop over spikes).

The truth file records the seed, the number of latents per area and the ground-truth effective
dimension of each area's *rate* covariance: ``exp`` of the spectral Shannon entropy of the
eigenvalues (order 1) and the participation ratio ``(sum lambda)**2 / sum lambda**2`` (order 2),
for the rates at the fine resolution and averaged into 0.05 s and 0.1 s bins. For reference it
also holds the same two numbers for the binned spike counts at 0.1 s (Poisson noise raises them).

Trials: 120 consecutive 5 s trials with a ``stimulus`` label ("left"/"right") drawn at random;
the labels do not drive the rates (they are there to exercise interval tables).

Run from the project root::

    .venv/bin/python data/make_demo_recording.py            # writes into data/
    .venv/bin/python data/make_demo_recording.py --output-dir /tmp/demo
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "SEED",
    "AREAS",
    "simulate",
    "effective_dimensions",
    "bin_mean",
    "write_nwb",
    "main",
]

SEED = 20240611
DURATION = 600.0  # seconds
FINE_DT = 0.005  # seconds; rates are constant within a fine bin
LATENT_TAU = 1.0  # seconds, OU time constant of every latent
RATE_MIN, RATE_MAX = 2.0, 20.0  # Hz
DRIVE_GAIN = 2.5  # standard deviation of each unit's latent drive (before the sigmoid)
TRIAL_DURATION = 5.0  # seconds
TRUTH_BIN_SIZES = (0.05, 0.1)  # seconds
# area name -> (number of units, number of latents)
AREAS: dict[str, tuple[int, int]] = {"area_A": (30, 2), "area_B": (30, 10)}

DATA_DIR = Path(__file__).resolve().parent
NWB_NAME = "demo_recording.nwb"
TRUTH_NAME = "demo_recording_truth.json"


def _ou_latents(rng: np.random.Generator, n_steps: int, n_latents: int) -> np.ndarray:
    """Exact OU sample path on the fine grid, unit stationary variance, shape (n_steps, n_latents)."""
    from scipy.signal import lfilter

    a = np.exp(-FINE_DT / LATENT_TAU)
    noise = rng.standard_normal((n_steps, n_latents))
    start = rng.standard_normal(n_latents)  # stationary initial state
    z, _ = lfilter([np.sqrt(1.0 - a**2)], [1.0, -a], noise, axis=0, zi=(a * start)[None, :])
    return z


def simulate(seed: int = SEED) -> dict[str, Any]:
    """Draw latents, rates and spike times of the demo session.

    Parameters
    ----------
    seed : int
        Seed of ``numpy.random.SeedSequence``; each area and the spikes get their own child stream.

    Returns
    -------
    dict
        ``rates`` (n_fine_bins, n_units) in Hz, ``spike_times`` (list of sorted float64 arrays,
        seconds), ``areas`` (one label per unit), ``latents`` (dict area -> array), ``trials``
        (dict with ``start_time``, ``stop_time``, ``stimulus``).
    """
    children = np.random.SeedSequence(seed).spawn(len(AREAS) + 2)
    n_steps = round(DURATION / FINE_DT)
    rates, areas, latents = [], [], {}
    for child, (area, (n_units, n_latents)) in zip(children, AREAS.items(), strict=False):
        rng = np.random.default_rng(child)
        z = _ou_latents(rng, n_steps, n_latents)
        loadings = rng.standard_normal((n_units, n_latents)) * (DRIVE_GAIN / np.sqrt(n_latents))
        offsets = rng.normal(-0.5, 0.5, size=n_units)
        drive = offsets + z @ loadings.T
        rates.append(RATE_MIN + (RATE_MAX - RATE_MIN) / (1.0 + np.exp(-drive)))
        areas += [area] * n_units
        latents[area] = z
    rate = np.concatenate(rates, axis=1)

    # Poisson count per fine bin and unit, then uniform jitter within the bin.
    rng = np.random.default_rng(children[-2])
    counts = rng.poisson(rate * FINE_DT)
    step, unit = np.nonzero(counts)
    reps = counts[step, unit]
    step, unit = np.repeat(step, reps), np.repeat(unit, reps)
    times = (step + rng.random(step.size)) * FINE_DT
    order = np.lexsort((times, unit))
    times, unit = times[order], unit[order]
    bounds = np.searchsorted(unit, np.arange(1, rate.shape[1]))
    spike_times = np.split(times, bounds)

    rng = np.random.default_rng(children[-1])
    starts = np.arange(0.0, DURATION, TRIAL_DURATION)
    trials = {"start_time": starts, "stop_time": starts + TRIAL_DURATION,
              "stimulus": rng.choice(np.array(["left", "right"]), size=starts.size)}
    return {"rates": rate, "spike_times": spike_times, "areas": np.array(areas), "latents": latents,
            "trials": trials}


def bin_mean(x: np.ndarray, factor: int) -> np.ndarray:
    """Average consecutive groups of ``factor`` rows (drops an incomplete last group)."""
    n = (x.shape[0] // factor) * factor
    return x[:n].reshape(n // factor, factor, *x.shape[1:]).mean(axis=1)


def effective_dimensions(samples: np.ndarray) -> dict[str, float]:
    """Effective dimension of the covariance of ``samples`` (n_samples, n_units), orders 1 and 2.

    ``exp_entropy = exp(-sum p log p)`` and ``participation_ratio = (sum l)**2 / sum l**2`` with
    ``l`` the covariance eigenvalues (negatives from rounding set to 0) and ``p = l / sum l``.
    """
    lam = np.clip(np.linalg.eigvalsh(np.cov(samples, rowvar=False)), 0.0, None)
    p = lam / lam.sum()
    nz = p[p > 0]
    return {"exp_entropy": float(np.exp(-np.sum(nz * np.log(nz)))),
            "participation_ratio": float(lam.sum() ** 2 / np.sum(lam**2))}


def _counts(spike_times: list[np.ndarray], bin_size: float) -> np.ndarray:
    n_bins = round(DURATION / bin_size)
    return np.stack([np.histogram(t, bins=n_bins, range=(0.0, DURATION))[0] for t in spike_times], axis=1)


def _truth(sim: dict[str, Any], seed: int) -> dict[str, Any]:
    out: dict[str, Any] = {
        "seed": seed,
        "duration_s": DURATION,
        "fine_dt_s": FINE_DT,
        "latent_tau_s": LATENT_TAU,
        "rate_range_hz": [RATE_MIN, RATE_MAX],
        "drive_gain": DRIVE_GAIN,
        "n_spikes": int(sum(t.size for t in sim["spike_times"])),
        "areas": {},
    }
    for area, (n_units, n_latents) in AREAS.items():
        cols = sim["areas"] == area
        rates = sim["rates"][:, cols]
        spikes = [t for t, keep in zip(sim["spike_times"], cols, strict=True) if keep]
        rate_dims = {"fine": effective_dimensions(rates)}
        for bin_size in TRUTH_BIN_SIZES:
            rate_dims[f"{bin_size:g}s"] = effective_dimensions(bin_mean(rates, round(bin_size / FINE_DT)))
        out["areas"][area] = {
            "n_units": n_units,
            "n_latents": n_latents,
            "mean_rate_hz": float(rates.mean()),
            "rate_effective_dimension": rate_dims,
            "spike_count_effective_dimension": {"0.1s": effective_dimensions(_counts(spikes, 0.1))},
        }
    return out


def _units_table(sim: dict[str, Any], electrodes: Any, groups: dict[str, Any]) -> Any:
    """The Units table built from whole columns (numpy arrays), not unit by unit.

    Adding units one at a time makes hdmf convert ~350,000 spike times element by element on
    write (seconds); whole-column arrays are written in one go. One electrode per unit.
    """
    from hdmf.common import DynamicTableRegion, VectorData, VectorIndex
    from pynwb.misc import Units

    trains, areas = sim["spike_times"], [str(a) for a in sim["areas"]]
    n_units = len(trains)
    spike_times = VectorData(name="spike_times", description="the spike times for each unit in seconds",
                             data=np.concatenate(trains))
    obs = VectorData(name="obs_intervals", description="the observation intervals for each unit",
                     data=np.tile([[0.0, DURATION]], (n_units, 1)))
    region = DynamicTableRegion(name="electrodes", description="the electrode of each unit",
                                data=np.arange(n_units), table=electrodes)
    columns = [
        spike_times,
        VectorIndex(name="spike_times_index", data=np.cumsum([t.size for t in trains]), target=spike_times),
        obs,
        VectorIndex(name="obs_intervals_index", data=np.arange(1, n_units + 1), target=obs),
        region,
        VectorIndex(name="electrodes_index", data=np.arange(1, n_units + 1), target=region),
        VectorData(name="electrode_group", description="the electrode group of each unit",
                   data=[groups[a] for a in areas]),
        VectorData(name="area", description="Simulated area of the unit (also its electrode location).",
                   data=areas),
    ]
    return Units(name="units", id=np.arange(n_units), columns=columns,
                 description="Simulated single units; spike times in seconds.")


def write_nwb(sim: dict[str, Any], path: Path, seed: int) -> None:
    """Write the simulated session as an NWB 2 file (electrodes, units, trials, metadata)."""
    from pynwb import NWBHDF5IO, NWBFile
    from pynwb.file import Subject

    start = datetime(2024, 6, 11, 9, 0, 0, tzinfo=UTC)
    nwb = NWBFile(
        session_description="Simulated 10-minute recording of 60 units in two areas driven by latent "
                            "variables: area_A by 2 latents, area_B by 10 (neurocomplex demo data).",
        identifier=f"neurocomplex-demo-recording-seed-{seed}",
        session_start_time=start,
        file_create_date=start,  # fixed so that regenerating gives the same metadata
        session_id="demo",
        experimenter=["neurocomplex developers"],
        lab="neurocomplex",
        institution="neurocomplex",
        experiment_description="Inhomogeneous Poisson spikes from a latent-variable model with "
                               f"Ornstein-Uhlenbeck latents; generated by data/make_demo_recording.py "
                               f"with seed {seed}.",
        keywords=["simulation", "latent variables", "dimensionality", "demo"],
        subject=Subject(subject_id="simulated-1", description="Simulated population; no animal was recorded."),
    )
    device = nwb.create_device(name="simulated_probe", description="Simulated silicon probe, one shank per area.")
    groups = {
        area: nwb.create_electrode_group(name=f"shank_{area}", description=f"Simulated shank in {area}.",
                                         location=area, device=device)
        for area in AREAS
    }
    for i, area in enumerate(sim["areas"]):
        nwb.add_electrode(location=str(area), group=groups[str(area)], x=0.0, y=float(20 * i), z=0.0,
                          filtering="none (simulated)")
    nwb.units = _units_table(sim, nwb.electrodes, groups)
    nwb.add_trial_column(name="stimulus", description="Stimulus label, drawn at random; it does not drive the rates.")
    trials = sim["trials"]
    for t0, t1, stim in zip(trials["start_time"], trials["stop_time"], trials["stimulus"], strict=True):
        nwb.add_trial(start_time=float(t0), stop_time=float(t1), stimulus=str(stim))
    with NWBHDF5IO(str(path), mode="w") as io:
        io.write(nwb)


def main(output_dir: str | Path | None = None, seed: int = SEED) -> dict[str, Any]:
    """Simulate the session and write ``demo_recording.nwb`` and ``demo_recording_truth.json``.

    Parameters
    ----------
    output_dir : str or Path, optional
        Folder for the two files (created if needed); default: the folder of this script (data/).
    seed : int
        Seed of the simulation.

    Returns
    -------
    dict
        The truth written to the JSON file, plus ``"nwb_path"`` and ``"truth_path"``.
    """
    out = Path(output_dir) if output_dir is not None else DATA_DIR
    out.mkdir(parents=True, exist_ok=True)
    sim = simulate(seed)
    truth = _truth(sim, seed)
    nwb_path, truth_path = out / NWB_NAME, out / TRUTH_NAME
    write_nwb(sim, nwb_path, seed)
    truth_path.write_text(json.dumps(truth, indent=2) + "\n")
    return {**truth, "nwb_path": str(nwb_path), "truth_path": str(truth_path)}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output-dir", default=None, help="folder for the files (default: data/)")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    result = main(args.output_dir, args.seed)
    size = Path(result["nwb_path"]).stat().st_size / 1e6
    print(f"wrote {result['nwb_path']} ({size:.2f} MB, {result['n_spikes']} spikes) and {result['truth_path']}")
    for area, info in result["areas"].items():
        rate = info["rate_effective_dimension"]["0.1s"]
        cnt = info["spike_count_effective_dimension"]["0.1s"]
        print(f"{area}: {info['n_latents']} latents, rate ED(0.1 s) exp-entropy {rate['exp_entropy']:.2f} "
              f"PR {rate['participation_ratio']:.2f}; counts exp-entropy {cnt['exp_entropy']:.2f} "
              f"PR {cnt['participation_ratio']:.2f}")
