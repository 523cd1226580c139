"""Generate the bundled brain-versus-network case: data/comparison_case.nwb, its stimuli and its truth.

A simulated session whose "brain areas" are noisy spiking readouts of chosen layers of the bundled
digits network (``data/demo_network.pt``, a 64-64-32-10 ReLU MLP), shown the network's own 8x8
digit images, so that a comparison of areas with layers has a known answer: area -> layer.

Model (fixed seed; regenerating gives identical spike times):

1. Stimuli: ``N_PER_DIGIT`` held-out digits of each class 0-9 from the network's probe batch
   (``load_demo_probe``), chosen at random, in a random order: ``stimulus_index`` 0..n-1.
2. Layer activations ``A_L`` (stimuli x units, ReLU outputs >= 0) of ``relu1`` (64 units) and
   ``relu2`` (32 units) from ``nc.torch.record(net, stimuli)``.
3. Area ``a`` reads out layer ``L_a`` one neuron per layer unit, in a random order (a random
   permutation ``pi_a``): neuron ``i`` fires at ``r_i = MIN_RATE + s_a * A_L[:, pi_a(i)]`` Hz during
   the stimulus, with one gain ``s_a`` per area chosen so that the area's mean rate is
   ``MEAN_RATE``. The readout is linear with one gain and one offset for the whole area, so the
   stimulus-by-stimulus geometry of the rates is the layer's exactly (Euclidean distances up to
   the factor ``s_a``, hence linear CKA = 1; correlation distances unchanged), and every neuron is
   an exact linear function of its layer alone: between an area and its layer there is only
   Poisson noise.
4. Trials: every stimulus shown ``N_REPEATS`` times in a random order, each for ``STIM_DURATION``
   seconds (the trial, ``start_time`` to ``stop_time``), separated by ``ITI`` seconds. Spikes: a
   Poisson number ``~ Poisson(r * STIM_DURATION)`` per trial and neuron placed uniformly in the
   trial, plus a homogeneous background of ``BACKGROUND_RATE`` Hz over the whole session.

Why these choices: the network's output layer is a linear function of ``relu2``
(``output = W3 relu2 + b3``), so an area read out from it would be predicted at least as well
from ``relu2`` by any linear (ridge) model: predictivity cannot single it out, and the case has
no output area. A dense random mixing of the layer's units keeps either the Euclidean or the
correlation geometry of the layer but not both, and spreads each neuron over the variance the
layers share; a one-to-one readout keeps both geometries and makes each neuron depend on its own
layer's units, so CKA, RSA (correlation or Euclidean RDMs) and ridge predictivity all find
area -> layer (checked over 8 seeds in development, and on the bundled file by
``tests/test_comparison_case.py``).

Two areas (``area_2`` and ``area_2b``) are generated identically from the same layer (``relu2``),
each with its own draws of permutation and spikes: a comparison of their measures must find no
difference.

The truth file records the seed, the layer of each area, the parameters above and the stimulus
indices into the probe batch. The stimuli are also written beside the file as
``comparison_case_stimuli.npy`` (float32, ``(n_stimuli, 64)``, pixels / 16, as the network takes
them) and stored in the NWB file as an ImageSeries ``stimulus_template/digits`` (8x8 images).

Run from the project root::

    .venv/bin/python data/make_comparison_case.py             # writes into data/
    .venv/bin/python data/make_comparison_case.py --output-dir /tmp/case
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["SEED", "AREAS", "simulate", "write_nwb", "main"]

SEED = 20261201
# area -> layer of the bundled network it reads out
AREAS = {"area_1": "relu1", "area_2": "relu2", "area_2b": "relu2"}
N_PER_DIGIT = 15  # stimuli per digit class (150 stimuli)
N_REPEATS = 2
STIM_DURATION = 0.5  # seconds, one trial
ITI = 0.2  # seconds between trials
T_FIRST = 1.0  # seconds, start of the first trial
MEAN_RATE = 8.0  # Hz, mean over stimuli and units of an area during the stimulus
MIN_RATE = 0.5  # Hz, the lowest stimulus-driven rate
BACKGROUND_RATE = 0.5  # Hz
DATA_DIR = Path(__file__).resolve().parent
NWB_NAME = "comparison_case.nwb"
STIMULI_NAME = "comparison_case_stimuli.npy"
TRUTH_NAME = "comparison_case_truth.json"


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)


def layer_activations(stimuli: np.ndarray) -> dict[str, np.ndarray]:
    """Activations of the bundled network's layers (relu1, relu2, output) for the stimuli, float64."""
    import torch

    import neurocomplex as nc
    from neurocomplex.torch.models import load_demo_network

    net = load_demo_network()
    recs = nc.torch.record(net, torch.as_tensor(stimuli, dtype=torch.float32))
    return {k: np.asarray(r.data, dtype=np.float64) for k, r in recs.items()}


def simulate(seed: int = SEED) -> dict[str, Any]:
    """Draw the stimuli, the rates of every area and the spike times (no file written).

    Returns
    -------
    dict
        ``stimuli`` (n, 64) float32, ``probe_index`` and ``digit`` per stimulus, ``rates`` per area
        (n, units of the layer) Hz, ``spike_times`` (list of arrays, all units, area by area), ``areas`` (one
        area name per unit), ``trials`` (dict of arrays: start_time, stop_time, stimulus_index,
        digit), ``duration`` seconds.
    """
    from neurocomplex.torch.models import load_demo_probe

    root = np.random.SeedSequence(seed)
    s_stim, s_order, s_spikes, *s_areas = root.spawn(3 + len(AREAS))
    probe, labels = load_demo_probe()
    probe, labels = probe.numpy(), labels.numpy()
    rng = np.random.default_rng(s_stim)
    chosen = np.concatenate([rng.choice(np.flatnonzero(labels == d), N_PER_DIGIT, replace=False) for d in range(10)])
    chosen = chosen[rng.permutation(chosen.size)]
    stimuli = probe[chosen].astype(np.float32)
    acts = layer_activations(stimuli)
    n_stim = stimuli.shape[0]

    rates: dict[str, np.ndarray] = {}
    for (area, layer), ss in zip(AREAS.items(), s_areas, strict=True):
        a = acts[layer][:, np.random.default_rng(ss).permutation(acts[layer].shape[1])]  # one unit per layer unit
        rates[area] = MIN_RATE + (MEAN_RATE - MIN_RATE) * a / a.mean()

    order = np.random.default_rng(s_order).permutation(np.repeat(np.arange(n_stim), N_REPEATS))
    n_trials = order.size
    start = T_FIRST + np.arange(n_trials) * (STIM_DURATION + ITI)
    stop = start + STIM_DURATION
    duration = round(float(stop[-1] + T_FIRST), 6)  # a decimal end: the obs_intervals cover the bins exactly

    rng = np.random.default_rng(s_spikes)
    trains, areas = [], []
    for area in AREAS:
        lam = rates[area][order] * STIM_DURATION  # (n_trials, n_units) expected counts
        counts = rng.poisson(lam)
        for j in range(lam.shape[1]):
            driven = np.repeat(start, counts[:, j]) + STIM_DURATION * rng.random(int(counts[:, j].sum()))
            background = rng.uniform(0.0, duration, rng.poisson(BACKGROUND_RATE * duration))
            trains.append(np.sort(np.concatenate([driven, background])))
            areas.append(area)
    trials = {"start_time": start, "stop_time": stop, "stimulus_index": order,
              "digit": labels[chosen][order].astype(np.int64)}
    return {"stimuli": stimuli, "probe_index": chosen, "digit": labels[chosen].astype(np.int64), "rates": rates,
            "spike_times": trains, "areas": areas, "trials": trials, "duration": duration}


def _units_table(sim: dict[str, Any], electrodes: Any, groups: dict[str, Any]) -> Any:
    """The Units table from whole columns (fast to write), one electrode per unit."""
    from hdmf.common import DynamicTableRegion, VectorData, VectorIndex
    from pynwb.misc import Units

    trains, areas = sim["spike_times"], list(sim["areas"])
    n_units = len(trains)
    spike_times = VectorData(name="spike_times", description="the spike times for each unit in seconds",
                             data=np.concatenate(trains))
    obs = VectorData(name="obs_intervals", description="the observation intervals for each unit",
                     data=np.tile([[0.0, sim["duration"]]], (n_units, 1)))
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
        VectorData(name="area", description="Simulated area of the unit (also its electrode location).", data=areas),
    ]
    return Units(name="units", id=np.arange(n_units), columns=columns,
                 description="Simulated single units reading out layers of a network; spike times in seconds.")


def write_nwb(sim: dict[str, Any], path: Path, seed: int) -> None:
    """Write the session as an NWB 2 file (electrodes, units, trials, stimuli, metadata)."""
    from pynwb import NWBHDF5IO, NWBFile
    from pynwb.file import Subject
    from pynwb.image import ImageSeries

    start = datetime(2026, 12, 1, 9, 0, 0, tzinfo=UTC)
    nwb = NWBFile(
        session_description="Simulated recording of three areas whose units are noisy spiking readouts of layers of "
                            "the bundled digits network, shown 8x8 digits (neurocomplex comparison case).",
        identifier=f"neurocomplex-comparison-case-seed-{seed}",
        session_start_time=start,
        file_create_date=start,  # fixed so that regenerating gives the same metadata
        session_id="comparison-case",
        experimenter=["neurocomplex developers"],
        lab="neurocomplex",
        institution="neurocomplex",
        experiment_description="Poisson spikes; each neuron's rate is a linear function of one unit of its layer; "
                               f"area -> layer {AREAS}; generated by data/make_comparison_case.py with seed {seed}.",
        keywords=["simulation", "representational similarity", "network comparison", "demo"],
        subject=Subject(subject_id="simulated-2", description="Simulated population; no animal was recorded."),
    )
    device = nwb.create_device(name="simulated_probe", description="Simulated probe, one shank per area.")
    groups = {area: nwb.create_electrode_group(name=f"shank_{area}", description=f"Simulated shank in {area}.",
                                               location=area, device=device) for area in AREAS}
    for i, area in enumerate(sim["areas"]):
        nwb.add_electrode(location=area, group=groups[area], x=0.0, y=float(20 * i), z=0.0,
                          filtering="none (simulated)")
    nwb.units = _units_table(sim, nwb.electrodes, groups)
    nwb.add_trial_column(name="stimulus_index", description="Row of the stimuli (comparison_case_stimuli.npy, and "
                                                            "stimulus_template/digits) shown in the trial.")
    nwb.add_trial_column(name="digit", description="Digit class (0-9) of the stimulus.")
    t = sim["trials"]
    for t0, t1, s, d in zip(t["start_time"], t["stop_time"], t["stimulus_index"], t["digit"], strict=True):
        nwb.add_trial(start_time=float(t0), stop_time=float(t1), stimulus_index=int(s), digit=int(d))
    images = sim["stimuli"].reshape(-1, 8, 8)
    nwb.add_stimulus_template(ImageSeries(
        name="digits", data=images, unit="pixel intensity / 16", rate=1.0, starting_time=0.0,
        description="The 8x8 digit images (scikit-learn digits, pixels / 16), one per stimulus_index; the "
                    "series index is the stimulus index, not time.",
    ))
    with NWBHDF5IO(str(path), mode="w") as io:
        io.write(nwb)


def _truth(sim: dict[str, Any], seed: int) -> dict[str, Any]:
    return {
        "seed": seed,
        "area_layer": dict(AREAS),
        "identical_areas": ["area_2", "area_2b"],
        "n_units": {area: int(r.shape[1]) for area, r in sim["rates"].items()},
        "n_stimuli": int(sim["stimuli"].shape[0]),
        "n_repeats": N_REPEATS,
        "n_trials": int(sim["trials"]["start_time"].size),
        "trial_table": "trials",
        "window": [0.0, STIM_DURATION],
        "stimulus_column": "stimulus_index",
        "network": "demo_network.pt",
        "layers_read_out": sorted(set(AREAS.values())),
        "candidate_layers": ["relu1", "relu2", "output"],  # what nc.torch.record captures by default
        "model": {"mean_rate_hz": MEAN_RATE, "min_rate_hz": MIN_RATE,
                  "background_rate_hz": BACKGROUND_RATE, "iti_s": ITI},
        "probe_index": sim["probe_index"].tolist(),
        "n_spikes": int(sum(t.size for t in sim["spike_times"])),
    }


def main(output_dir: str | Path | None = None, seed: int = SEED) -> dict[str, Any]:
    """Simulate and write ``comparison_case.nwb``, ``comparison_case_stimuli.npy`` and the truth JSON.

    Returns
    -------
    dict
        The truth written to the JSON file, plus the three paths.
    """
    out = Path(output_dir) if output_dir is not None else DATA_DIR
    out.mkdir(parents=True, exist_ok=True)
    sim = simulate(seed)
    truth = _truth(sim, seed)
    paths = {"nwb_path": out / NWB_NAME, "stimuli_path": out / STIMULI_NAME, "truth_path": out / TRUTH_NAME}
    write_nwb(sim, paths["nwb_path"], seed)
    np.save(paths["stimuli_path"], sim["stimuli"])
    paths["truth_path"].write_text(json.dumps(truth, indent=2) + "\n")
    return {**truth, **{k: str(v) for k, v in paths.items()}}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output-dir", default=None, help="folder for the files (default: data/)")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    result = main(args.output_dir, args.seed)
    size = Path(result["nwb_path"]).stat().st_size / 1e6
    print(f"wrote {result['nwb_path']} ({size:.2f} MB, {result['n_spikes']} spikes), {result['stimuli_path']} "
          f"and {result['truth_path']}")
