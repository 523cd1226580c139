# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Brain areas next to network layers
#
# Put a brain area and a network layer side by side and say, with numbers that can be defended,
# where they agree and where they differ. Two kinds of comparison are possible, and they need
# different data:
#
# - **Measures** (entropy, dimension, complexity) describe one population at a time, so any two
#   populations can be compared, provided the comparison is *matched*: every entropy and
#   dimension grows with the number of units and of samples, and "active" means different things
#   for spike counts and ReLU activations. `nc.compare` subsamples every population to the same
#   numbers of units and samples, applies one binarization rule to all, and tests the differences
#   against a null.
# - **Representational similarity** (CKA, RSA, predictivity) asks whether two populations
#   respond alike *to the same stimuli*. It needs one row per stimulus on both sides.
#
# We take a real recording (35 single units of the human medial temporal lobe, Rutishauser lab)
# for the first kind, and the project's bundled known-answer case (simulated areas that read out
# layers of the bundled network, shown the network's own digit images) for the second.

# %%
import json
import os
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pandas as pd
import torch

import neurocomplex as nc
from neurocomplex._bundled import bundled_path
from neurocomplex.plotting import plot_measures, plot_profiles, plot_similarity_map
from neurocomplex.torch.models import load_demo_network

OUT = Path(os.environ.get("NC_TUTORIAL_OUT") or tempfile.mkdtemp(prefix="nc_tutorial_"))
OUT.mkdir(parents=True, exist_ok=True)
pd.set_option("display.width", 160)
pd.set_option("display.max_columns", 14)
torch.set_num_threads(min(2, torch.get_num_threads()))
SEED = 0

# %% [markdown]
# ## Responses to trials
#
# A brain recording is a time series; a network's activations are one row per input. To put them
# in one frame, `rec.trial_responses` turns the recording into one row per trial: each unit's
# spike count in a window after the trial starts (counted from the spike times, exactly). The
# human recording's `encoding_table` holds 90 trials in which a short video clip was shown; we
# count spikes in the first 2 s of each. Without that file (it lives outside the project, in
# `../shared/data`), the tutorial uses the bundled case's areas instead.

# %%
ROOT = Path(__file__).resolve().parents[1] if "__file__" in globals() else Path.cwd().parent
MTL = ROOT.parent / "shared" / "data" / "human_mtl_rutishauser_sub-4_ses-4.nwb"
CASE = bundled_path("comparison_case.nwb")
if MTL.exists():
    brain = nc.load(MTL, bin_size=0.01).trial_responses("encoding_table", window=(0.0, 2.0), statistic="count")
    source = "human MTL, encoding trials, spike counts in 0-2 s"
else:
    brain = nc.load(CASE, bin_size=0.01).trial_responses("trials", window=(0.0, 0.5), statistic="count")
    source = "bundled comparison case (the human MTL file is absent)"
areas = brain.by_group()
print(source)
print({name: (a.n_samples, a.n_units) for name, a in areas.items()}, "(trials, units)")

# %% [markdown]
# A Recording shows itself as a small table (in a notebook) or a one-line summary:

# %%
brain

# %% [markdown]
# ## The network's layers
#
# The bundled network is a small ReLU MLP (64 → 64 → 32 → 10) trained on 8x8 digits. We record
# its layers on the bundled digit stimuli: one row per image, one column per unit.

# %%
stimuli = np.load(bundled_path("comparison_case_stimuli.npy"), allow_pickle=False)
net = load_demo_network()
layers = nc.torch.record(net, stimuli, progress=False)
print({name: (r.n_samples, r.n_units) for name, r in layers.items()}, "(stimuli, units)")

# %% [markdown]
# ## Measures, unmatched and matched
#
# First the measures as they come: each population with all its units and samples, binarized
# at zero (a spike in the window; a positive activation). These numbers are not comparable
# across the two sides: the populations differ in size and the threshold means different things.

# %%
MEASURES = ["activation_ratio", "participation_ratio", "effective_dimension", "pattern_entropy"]
raw = pd.concat([
    nc.measure(areas, MEASURES, by=None, n_boot=50, seed=SEED).assign(side="area"),
    nc.measure(layers, MEASURES, by=None, n_boot=50, seed=SEED).assign(side="layer"),
], ignore_index=True)
raw = raw.assign(group=raw["recording"], recording=raw["side"])
print(raw[["side", "group", "measure", "value", "ci_low", "ci_high", "n_samples", "n_units"]].to_string(index=False))
axes = plot_measures(raw)
axes[0].figure.savefig(OUT / "measures_unmatched.png", dpi=100)
axes = plot_profiles(raw[raw.side == "layer"], raw[raw.side == "area"])
axes[0].figure.savefig(OUT / "profiles_over_depth.png", dpi=100)

# %% [markdown]
# Now matched: `nc.compare` draws, many times, the same number of units and of samples from every
# population (half of the smallest population's, so that the spread over draws estimates the
# sampling variability), binarizes every unit at its own quantile so that all populations share
# one activation ratio, and reports each pairwise difference with its interval over draws and a
# p-value (the rule is in `matched.attrs["provenance"]`). The `moved_a`/`moved_b` columns say how
# much matching changed each value: a lot, which is the point.

# %%
recordings = {**{f"area:{k}": v for k, v in areas.items()}, **{f"layer:{k}": v for k, v in layers.items()}}
matched = nc.compare(recordings, ["participation_ratio", "effective_dimension", "pattern_entropy"],
                     match=("units", "samples"), n_draws=20, seed=SEED)
print(matched.attrs["provenance"])
print(matched[["measure", "a", "b", "value_a", "value_b", "difference", "ci_low", "ci_high", "p_value",
               "moved_a", "moved_b"]].round(3).to_string(index=False))
values = pd.DataFrame(matched.attrs["matched"])
values = values.assign(group=values["recording"].str.partition(":")[2], recording=values["recording"].str.partition(":")[0])
axes = plot_measures(values)
axes[0].figure.savefig(OUT / "measures_matched.png", dpi=100)
prov = matched.attrs["provenance"]
print(f"matched at {prov['n_units']} units x {prov['n_samples']} samples; "
      f"{int((matched.p_value < 0.05).sum())} of {len(matched)} differences with p < 0.05 (uncorrected)")

# %% [markdown]
# ## Similarity needs shared stimuli
#
# CKA, RSA and predictivity compare the two populations' responses *stimulus by stimulus*. The
# human recording's clips were never shown to the network (and the network cannot watch videos),
# so there is nothing to pair: the similarity estimators refuse populations whose samples differ.

# %%
first_area = next(iter(areas))
try:
    nc.cka(areas[first_area], layers["relu1"], n_boot=0)
except nc.NeurocomplexError as err:
    print(f"{type(err).__name__}: {err}")

# %% [markdown]
# ## A similarity map where the stimuli are shared: the bundled known-answer case
#
# The bundled case (`data/make_comparison_case.py`) simulates three areas whose units are noisy
# spiking readouts of layers of the same network, each shown the digit images twice. Its trial
# table says which image each trial showed, so we can give the network the same image for each
# trial and compare area against layer. The truth is known: each area's best layer must be the one
# it was generated from.

# %%
truth = json.loads(bundled_path("comparison_case_truth.json").read_text())
case = nc.load(CASE, bin_size=0.01).trial_responses("trials", window=(0.0, 0.5), statistic="count")
shown = case.labels["stimulus_index"].to_numpy()
case_layers = nc.torch.record(net, stimuli[shown], progress=False)
case_areas = case.by_group()
sim = nc.similarity_matrix(case_areas, case_layers, metric="cka", n_boot=50, seed=SEED)
print(sim.to_string(index=False))
ax = plot_similarity_map(sim, truth=truth["area_layer"])
ax.figure.savefig(OUT / "similarity_map.png", dpi=100, bbox_inches="tight")
best = sim.loc[sim.groupby("area")["value"].idxmax(), ["area", "layer"]].set_index("area")["layer"].to_dict()
print("best layer:", best)
print("truth:     ", truth["area_layer"])
assert best == truth["area_layer"]

# %% [markdown]
# ## What can and cannot be concluded
#
# - **From the matched measures**, which of the populations is more or less varied (dimension,
#   entropy) once size and activity level are equalised, with an interval and a test. With the
#   human recording, a difference between an area and a layer says how the two differ in
#   *structure*, not that one computes like the other; the stimuli differ (video clips against
#   8x8 digits), so part of any difference is the stimuli's. Note how far matching moved every
#   value (`moved_a`, `moved_b`): the unmatched numbers mostly measured population size.
# - **Not from a non-significant difference**, that two populations are alike. In the human
#   recording the amygdala has 10 units and 90 trials, so every population is compared at 5 units
#   and 45 samples: the intervals are wide and the test has little power. Absence of a difference
#   there is absence of evidence.
# - **Not from the human recording**: which layer an area resembles. That needs the same stimuli
#   shown to both, which this recording does not have. The similarity map above is on the
#   simulated case, where it recovers the known answer; on real data it would need a network
#   shown the clips the patient saw.
# - **Even with shared stimuli**, a best-matching layer is a statement about representational
#   geometry on those stimuli, with its bootstrap interval over stimuli; a different stimulus set
#   can change the ranking, and similarity close to the noise ceiling is all that noisy spiking
#   data can show.
#
# The command line does all of this and writes a report:
#
#     neurocomplex compare session.nwb --trials trials --window 0 0.5 \
#         --model weights.pt --stimuli stimuli.npy --out report/
#     neurocomplex demo            # the bundled case, report in ./neurocomplex-demo/
