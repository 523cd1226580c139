"""Make data/demo_network.pt: a small ReLU MLP trained on the 8x8 digits of scikit-learn.

Run from the repository root (scikit-learn is needed here only, not by the package)::

    python data/make_demo_network.py

What it does, deterministically on the CPU in a few seconds:

- data: ``sklearn.datasets.load_digits()`` (1,797 handwritten digits, 8x8 pixels with values
  0-16, from the UCI optical recognition of handwritten digits set), flattened to 64 inputs and
  divided by 16. A permutation with seed 0 puts 1,297 digits in the training set and 500 in the
  test set.
- network: ``neurocomplex.torch.mlp([64, 64, 32, 10], activation="relu", seed=0)`` (He/Kaiming
  normal initialisation), layers ``fc1, relu1, fc2, relu2, fc3``.
- training: Adam (learning rate 3e-3), cross-entropy, 60 epochs of mini-batches of 64 shuffled by a
  ``torch.Generator`` with seed 0, one CPU thread.
- the file (``torch.load(path, weights_only=True)``) holds ``state_dict``, ``widths``,
  ``activation``, ``probe_inputs`` (the 500 test digits, float32, pixels / 16), ``probe_labels``
  (int64), ``probe_accuracy`` (accuracy of the saved network on the probe batch, which is the whole
  test set), ``train_accuracy``, ``seed``, ``epochs`` and ``source``.

``neurocomplex.torch.models.load_demo_network()`` rebuilds the network from this file and
``load_demo_probe()`` returns the probe batch, so ``neurocomplex demo`` needs nothing else.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_digits

from neurocomplex.torch.models import mlp

OUT = Path(__file__).resolve().parent / "demo_network.pt"
SEED = 0
N_TEST = 500
WIDTHS = [64, 64, 32, 10]
EPOCHS = 60
BATCH = 64
LR = 3e-3


def _accuracy(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    with torch.inference_mode():
        return float((model(x).argmax(dim=1) == y).to(torch.float64).mean())


def main() -> None:
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    digits = load_digits()
    x = np.asarray(digits.data, dtype=np.float32) / 16.0
    y = np.asarray(digits.target, dtype=np.int64)
    order = np.random.default_rng(SEED).permutation(len(y))
    test, train = order[:N_TEST], order[N_TEST:]
    x_train, y_train = torch.from_numpy(x[train]), torch.from_numpy(y[train])
    x_test, y_test = torch.from_numpy(x[test]), torch.from_numpy(y[test])

    model = mlp(WIDTHS, activation="relu", seed=SEED)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    loss_fn = torch.nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(SEED)
    model.train()
    for _ in range(EPOCHS):
        perm = torch.randperm(len(y_train), generator=gen)
        for start in range(0, len(perm), BATCH):
            idx = perm[start : start + BATCH]
            opt.zero_grad()
            loss_fn(model(x_train[idx]), y_train[idx]).backward()
            opt.step()
    model.eval()
    content = {
        "state_dict": {k: v.detach().clone() for k, v in model.state_dict().items()},
        "widths": WIDTHS,
        "activation": "relu",
        "probe_inputs": x_test.clone(),
        "probe_labels": y_test.clone(),
        "probe_accuracy": _accuracy(model, x_test, y_test),
        "train_accuracy": _accuracy(model, x_train, y_train),
        "seed": SEED,
        "epochs": EPOCHS,
        "source": "sklearn.datasets.load_digits, pixels / 16; made by data/make_demo_network.py",
    }
    torch.save(content, OUT)
    print(f"wrote {OUT} ({OUT.stat().st_size / 1024:.0f} KiB): test accuracy {content['probe_accuracy']:.4f} "
          f"on {N_TEST} digits, train accuracy {content['train_accuracy']:.4f}")


if __name__ == "__main__":
    main()
