"""The time of a geodesic at its defaults, and the energy it reaches, against L-BFGS on the same problem.

Target: one geodesic (16 nodes, Adam, at most 500 steps) in <= 2 s for a 2-D and a 10-D MLP model on 2 cores.
Reference in the same run: torch's L-BFGS (strong Wolfe line search) on the same refined energy from the same
straight lines, with the same stop rule (relative change < 1e-4 for 3 steps) and up to 100 steps of at most 5
evaluations: how long it takes and how far it gets. Both keep each path's lowest energy; energies are
reported as a share of the straight line's.

    python benchmarks/geodesic_speed.py --run runs/demo/vae2 [--pairs 20]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from latentwalk.data import datasets
from latentwalk.run import checkpoint
from latentwalk.walk import core, geodesic


def lbfgs(decode, start: np.ndarray, steps: int = 100) -> np.ndarray:
    """The reference: L-BFGS (strong Wolfe line search, up to 5 evaluations a step) on the refined energy, the
    same stop rule, each path's best kept."""
    z0 = torch.as_tensor(start, dtype=torch.float32)
    inner = z0[:, 1:-1].clone().requires_grad_(True)
    path = lambda: torch.cat([z0[:, :1], inner, z0[:, -1:]], 1)          # noqa: E731
    optimizer = torch.optim.LBFGS([inner], lr=1, max_iter=5, history_size=10, line_search_fn="strong_wolfe")
    best = z0.clone()
    with torch.no_grad():
        best_energy = geodesic.energy(decode, geodesic.refine(best))
    previous, calm = float(best_energy.sum()), 0

    def closure():
        optimizer.zero_grad()
        total = geodesic.energy(decode, geodesic.refine(path())).sum()
        total.backward()
        return total

    for _ in range(steps):
        optimizer.step(closure)
        with torch.no_grad():
            current = path()
            e = geodesic.energy(decode, geodesic.refine(current))
        lower = e < best_energy
        best[lower], best_energy[lower] = current[lower], e[lower]
        total = float(e.sum())
        calm = calm + 1 if abs(previous - total) <= geodesic.TOL * previous else 0
        if calm >= geodesic.PATIENCE:
            break
        previous = total
    return best.double().numpy()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--run", type=Path, required=True)
    p.add_argument("--pairs", type=int, default=20)
    args = p.parse_args()
    model = checkpoint.load(args.run)
    decode = geodesic.image_map(model)
    ends = core.endpoints(model, "test", args.pairs, 0, datasets.load("mnist", "test")[0])
    s = np.linspace(0, 1, geodesic.NODES)[None, :, None]
    lines = (1 - s) * ends[:, :1] + s * ends[:, 1:]

    def energy(z):
        with torch.no_grad():
            return geodesic.energy(decode, geodesic.refine(torch.as_tensor(z, dtype=torch.float32))).numpy()

    base = energy(lines)
    single = []
    for k in range(min(5, args.pairs)):
        start = time.perf_counter()
        geodesic.solve(decode, lines[k:k + 1])
        single.append(time.perf_counter() - start)
    start = time.perf_counter()
    ours = energy(geodesic.solve(decode, lines)) / base
    together = time.perf_counter() - start
    start = time.perf_counter()
    reference = energy(lbfgs(decode, lines)) / base
    lbfgs_time = time.perf_counter() - start
    print(f"{args.run} (z = {model.latent_dim}), {args.pairs} pairs of encoded test images")
    print(f"one geodesic, median of {len(single)}            {np.median(single):6.2f} s  "
          f"{'PASS' if np.median(single) <= 2 else 'MISS'} (target <= 2 s)")
    print(f"{args.pairs} geodesics together, Adam (ours)       {together:6.2f} s  energy / lerp's: mean "
          f"{ours.mean():.3f}, max {ours.max():.3f}")
    print(f"{args.pairs} geodesics together, L-BFGS (reference) {lbfgs_time:6.2f} s  energy / lerp's: mean "
          f"{reference.mean():.3f}, max {reference.max():.3f}")
    print(f"time, L-BFGS / Adam: {lbfgs_time / together:.1f}x")


if __name__ == "__main__":
    main()
