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
# # A convolutional network against a recording, end to end
#
# The comparison people actually make: a trained convolutional network with wide layers (here up
# to 16,384 units per layer, far more than the 300 trials) against the spiking responses of brain
# areas to the same images, with intervals on every number. One call, `nc.brain_vs_network`, runs
# the measures of every area and layer, the matched comparison and the layer–area similarity maps,
# and writes the report that `neurocomplex compare` writes.
#
# The recording is the project's bundled known-answer case (`data/comparison_case.nwb`): three
# simulated areas whose neurons are noisy spiking readouts of two layers of a small MLP, shown 150
# 8x8 digits twice each. Our CNN is a different network, so no layer of it is "the" answer; the
# question is which of its layers carries the geometry each area carries.

# %%
import os
import tempfile
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pandas as pd
import torch
from sklearn.datasets import load_digits
from torch import nn

import neurocomplex as nc
from neurocomplex._bundled import bundled_path
from neurocomplex.plotting import plot_similarity_map

OUT = Path(os.environ.get("NC_TUTORIAL_OUT") or tempfile.mkdtemp(prefix="nc_tutorial_"))
OUT.mkdir(parents=True, exist_ok=True)
pd.set_option("display.width", 160)
pd.set_option("display.max_columns", 12)
torch.set_num_threads(min(2, torch.get_num_threads()))
torch.manual_seed(0)

# %% [markdown]
# ## A residual CNN, trained for a few seconds
#
# The images are scikit-learn's 8x8 digits (pixels 0–16, scaled to [0, 1]); the network
# upsamples them to 16x16 and applies wide convolutions with a residual block, so that its
# feature maps have 64 channels × 256 positions = 16,384 units. We train it on the digits that
# were not shown in the recording (the shown ones are found by their pixels).

# %%
class Residual(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.relu(x + self.conv(x))


def cnn() -> nn.Module:
    return nn.Sequential(
        nn.Upsample(scale_factor=2), nn.Conv2d(1, 64, 3, padding=1), nn.ReLU(),   # 64 x 16 x 16
        Residual(64),                                                              # 64 x 16 x 16
        nn.MaxPool2d(2), nn.Conv2d(64, 32, 3, padding=1), nn.ReLU(),               # 32 x 8 x 8
        nn.Flatten(), nn.Linear(32 * 8 * 8, 10),
    )


digits = load_digits()
images = (digits.images / 16.0).astype(np.float32)
# the 150 digits the recording's trials showed (the same 8x8 images, pixels / 16), left out of training
shown = np.load(bundled_path("comparison_case_stimuli.npy"), allow_pickle=False).reshape(-1, 8, 8)
is_shown = (images.reshape(len(images), 1, -1) == shown.reshape(1, len(shown), -1)).all(axis=2).any(axis=1)
train = np.flatnonzero(~is_shown)
model = cnn()
opt = torch.optim.Adam(model.parameters(), lr=2e-3)
x_train = torch.from_numpy(images[train, None])
y_train = torch.from_numpy(digits.target[train])
start = time.perf_counter()
for _epoch in range(3):
    for batch in torch.randperm(len(train)).split(64):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x_train[batch]), y_train[batch]).backward()
        opt.step()
model.eval()
with torch.no_grad():
    held_out = torch.from_numpy(images[is_shown, None])
    accuracy = (model(held_out).argmax(1).numpy() == digits.target[is_shown]).mean()
print(f"trained on {train.size} digits in {time.perf_counter() - start:.1f} s; accuracy on the {is_shown.sum()} "
      f"shown digits (held out): {accuracy:.2f}")

# %% [markdown]
# ## Areas and layers on the same trials
#
# `trial_responses` counts each area's spikes in 0–0.5 s of every trial, exactly from the spike
# times; its labels say which image each trial showed (`stimulus_index`). `nc.torch.record` runs
# the network on the image of every trial (`labels=` carries the trial labels over), so row *i*
# is trial *i* on both sides. Each ReLU is a layer; its feature map is flattened to units.

# %%
rec = nc.load(bundled_path("comparison_case.nwb"), bin_size=0.01)
resp = rec.trial_responses("trials", window=(0.0, 0.5), statistic="count")
areas = resp.by_group()
rows = resp.labels["stimulus_index"].to_numpy()
layers = nc.torch.record(model, shown[rows][:, None], labels=resp.labels, progress=False)
layers.pop("output")
print({name: (a.n_samples, a.n_units) for name, a in areas.items()}, "areas (trials, units)")
print({name: (r.n_samples, r.n_units, str(r.data.dtype)) for name, r in layers.items()}, "layers")

# %% [markdown]
# ## The comparison in one call
#
# Defaults throughout: the measures (activation ratio, participation ratio, effective dimension,
# pattern entropy, pattern complexity) of every area and layer with their bootstrap intervals,
# the matched comparison, and CKA, RSA and predictivity maps with each area's best layer. The
# trials repeat the images, so RSA compares RDMs over the 150 images and predictivity is divided
# by each area's split-half reliability ceiling; the notes say so. Layers wider than the number of
# trials are handled through the trials × trials Gram matrix, which has the same nonzero spectrum.

# %%
start = time.perf_counter()
result = nc.brain_vs_network(areas, layers, progress=False)
print(f"brain_vs_network: {time.perf_counter() - start:.1f} s")
for note in result.notes:
    print("-", note)
print(result.best_layers[["metric", "area", "best_layer", "value", "ci_low", "ci_high", "best_fraction"]]
      .round(3).to_string(index=False))

# %% [markdown]
# The measures per layer, with their intervals (dimensions, bits, effective numbers):

# %%
table = result.measures
print(table[table["measure"].isin(["participation_ratio", "effective_dimension"])]
      [["recording", "group", "measure", "value", "ci_low", "ci_high", "unit"]].round(2).to_string(index=False))

# %% [markdown]
# ## Figures and the report
#
# `result.write_report(folder)` writes `report.html` (figures, tables, provenance) and one CSV per
# table. The similarity map on its own is `plot_similarity_map`:

# %%
report = result.write_report(OUT / "cnn_report")
print("report:", report)
cka = result.similarity[result.similarity["metric"] == "cka"]
best_cka = result.best_layers[result.best_layers["metric"] == "cka"]
ax = plot_similarity_map(cka, best=dict(zip(best_cka["area"], best_cka["best_layer"], strict=True)))
ax.figure.savefig(OUT / "cnn_similarity_cka.png", dpi=100, bbox_inches="tight")

# %% [markdown]
# ## What can and cannot be concluded
#
# - Each area's best CNN layer, with the share of bootstrap replicates (over images) in which it
#   wins: a statement about representational geometry on these 150 images. The simulated areas
#   read out an MLP's hidden layers, which carry digit identity increasingly with depth; a CNN
#   layer that carries the same geometry wins whatever its architecture.
# - Not that the area computes like the layer: similar geometry on one stimulus set is compatible
#   with different computations, and a different stimulus set can change the ranking.
# - The matched measures (same numbers of units and samples, one binarization rule) say how the
#   populations differ in structure; a difference that is not significant is not evidence of
#   similarity at these small matched sizes.
#
# From the shell, the same comparison with a weights file and the function that builds the network:
#
#     neurocomplex compare session.nwb --trials trials --window 0 0.5 \
#         --model cnn.pt --architecture my_networks.py:cnn --stimuli images/ --out report/
