"""Laps and topological entropy: exact breakpoints and adaptive grid against plain dense sampling.

What users would otherwise do is evaluate f^n on a dense uniform grid and count the changes of
direction. This script measures, in one run, time and correctness of both on
(1) random ReLU networks R -> R clamped into [0, 1] (exact count vs a 2,000,001-point grid in torch),
(2) the logistic map at r = 4, whose laps(f^n) = 2^n are known (adaptive grid vs uniform grids).

Run: .venv/bin/python benchmarks/bench_topology.py
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch

import neurocomplex as nc


def clamped_net(seed: int, width: int = 8) -> torch.nn.Sequential:
    gen = torch.Generator().manual_seed(seed)
    first, hidden, out = torch.nn.Linear(1, width), torch.nn.Linear(width, width), torch.nn.Linear(width, 1)
    with torch.no_grad():
        first.weight.normal_(0.0, 4.0, generator=gen)
        first.bias.copy_(-first.weight[:, 0] * torch.rand(width, generator=gen))
        hidden.weight.normal_(0.0, math.sqrt(2.0 / width), generator=gen)
        hidden.bias.normal_(0.0, 0.5, generator=gen)
        out.weight.normal_(0.0, 2.0, generator=gen)
        out.bias.fill_(0.5)
    return torch.nn.Sequential(first, torch.nn.ReLU(), hidden, torch.nn.ReLU(), out, torch.nn.Hardtanh(0.0, 1.0))


def dense_laps_torch(net: torch.nn.Module, n: int, n_points: int) -> int:
    model = net.double()
    x = torch.linspace(0.0, 1.0, n_points, dtype=torch.float64).reshape(-1, 1)
    with torch.no_grad():
        for _ in range(n):
            x = model(x)
    d = np.diff(x.reshape(-1).numpy())
    s = np.sign(d[np.abs(d) > 1e-12])
    return int(np.count_nonzero(s[1:] != s[:-1])) + 1


def dense_laps_numpy(f, n: int, n_points: int) -> int:
    x = np.linspace(0.0, 1.0, n_points)
    for _ in range(n):
        x = f(x)
    d = np.diff(x)
    s = np.sign(d[np.abs(d) > 1e-8])
    return int(np.count_nonzero(s[1:] != s[:-1])) + 1


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def main() -> None:
    torch.set_num_threads(1)
    print("1) ReLU nets R -> R (8-8 hidden, clamped), laps(f^n): exact vs dense grid of 2,000,001 points")
    print(f"{'seed':>4} {'n':>2} {'exact':>7} {'dense':>7} {'t_exact (s)':>11} {'t_dense (s)':>11} {'ratio':>6}")
    for seed in (0, 1):
        net = clamped_net(seed)
        for n in (1, 2, 3, 4):
            exact, t_e = timed(lambda net=net, n=n: nc.laps(net, n=n))
            dense, t_d = timed(lambda net=net, n=n: dense_laps_torch(net, n, 2_000_001))
            print(f"{seed:>4} {n:>2} {exact:>7} {dense:>7} {t_e:>11.4f} {t_d:>11.4f} {t_d / t_e:>6.1f}")
    print("\n2) logistic map r = 4, laps(f^n) (truth 2^n): adaptive grid vs uniform grids")
    f = lambda x: 4.0 * x * (1.0 - x)  # noqa: E731
    print(f"{'n':>2} {'truth':>6} {'adaptive':>8} {'points':>8} {'t (s)':>7} {'uniform 1e6':>11} {'t (s)':>7} {'uniform 1e7':>11} {'t (s)':>7}")
    for n in (8, 10, 12, 14):
        adaptive, t_a = timed(lambda n=n: nc.laps(f, n=n))
        est = nc.topological_entropy(f, n_max=n)
        u6, t6 = timed(lambda n=n: dense_laps_numpy(f, n, 1_000_001))
        u7, t7 = timed(lambda n=n: dense_laps_numpy(f, n, 10_000_001))
        pts = est.diagnostics["grid_points"][-1]
        print(f"{n:>2} {2**n:>6} {adaptive:>8} {pts:>8} {t_a:>7.3f} {u6:>11} {t6:>7.3f} {u7:>11} {t7:>7.3f}")
    est, t = timed(lambda: nc.topological_entropy(f, n_max=12))
    print(f"\ntopological_entropy(logistic, n_max=12) = {est.value:.6f} (log 2 = {math.log(2):.6f}), "
          f"relative error {abs(est.value / math.log(2) - 1):.2e}, {t:.2f} s")


if __name__ == "__main__":
    main()
