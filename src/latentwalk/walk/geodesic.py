"""Geodesics under the decoder's metric: the shortest paths between two codes as the decoded images see them.

The decoder g pulls the distance between images back onto the latent space (Arvanitidis, Hansen, Hauberg 2018;
Shao, Kumar, Fletcher 2018): a path is as long as the path its decoded images trace. A discrete path
z_0 … z_{K-1} with fixed endpoints has the curve energy

    E = (K - 1) Σ_i |g(z_{i+1}) - g(z_i)|²      (the integral of the squared image speed at t = i / (K - 1))

whose minimisers are shortest paths walked at constant image speed. A path is its NODES points joined by
straight segments, and its energy is taken on that polyline at REFINE points per segment: with the nodes
alone, the optimiser learns to straddle the places where the decoder changes fast (measured on the demo's
2-D VAE with 32 nodes: a dense resampling found 7 of 40 paths above the straight line's energy, up to 1.65x;
with 16 nodes refined 4 times, none, and it is faster). `solve` starts from the straight line (or a given
curve) and minimises that energy over the inner nodes of all paths at once with torch's Adam, until the
relative change of the total energy stays below TOL for PATIENCE steps, or ITERATIONS steps pass. Each path
keeps the lowest-energy curve seen, so none ends above its start. Measured against torch's L-BFGS with a
strong Wolfe line search on the same energy and stop rule (benchmarks/geodesic_speed.py): the same energies
(within 0.01 of the straight line's on average; Adam lower on the AE and the 500-D VAE) in a half to a third
of the time. The defaults take 0.07–0.26 s for one pair of the demo's four models, 0.8–2.4 s for 20 pairs
together, on two CPU cores; a progress bar appears on stderr when a solve runs past a second.

Between its nodes a geodesic is a straight segment: `at` reads it at any t in [0, 1] (t = 0 and 1 are the
endpoints, exactly), which is how figures resample it to their steps and the path length samples it.
No latent-geometry library is used: stochman (0.3.0, its latest release, a source distribution that also
brings networkx) would need the decoder wrapped in its manifold classes for what is an energy of three lines
and torch's own optimiser here.
"""

from __future__ import annotations

import contextlib
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from contextvars import ContextVar

import numpy as np
import torch
from tqdm import tqdm

from ..errors import is_int, require
from ..models import Model

NODES = 16
REFINE = 4
LR = 0.05           # Adam's step, in latent units
ITERATIONS = 500
TOL = 1e-4
PATIENCE = 3
MAX_SECONDS = 600   # the longest a solve may take: estimated from its first step, times the steps it may take

Decoder = Callable[[torch.Tensor], torch.Tensor]      # codes (n, d) -> images (n, ...), differentiable
_unwanted: ContextVar[Callable[[], bool]] = ContextVar("unwanted", default=lambda: False)


class Stopped(Exception):
    """A solve given up between two steps because its answer is no longer wanted (`unless_unwanted`)."""


@contextlib.contextmanager
def unless_unwanted(unwanted: Callable[[], bool]) -> Iterator[None]:
    """Within the block (in this thread), every solve checks `unwanted()` before each step and raises Stopped
    once it holds: the explorer's interpolation that a newer pick replaced stops solving."""
    token = _unwanted.set(unwanted)
    try:
        yield
    finally:
        _unwanted.reset(token)


def energy(decode: Decoder, z: torch.Tensor) -> torch.Tensor:
    """The curve energy of each discrete path of z (p, K, d): (p,)."""
    p, k, d = z.shape
    x = decode(z.reshape(p * k, d)).reshape(p, k, -1)
    return (k - 1) * (x[:, 1:] - x[:, :-1]).square().sum((1, 2))


def refine(z: torch.Tensor, times: int = REFINE) -> torch.Tensor:
    """The polylines z (p, K, d) at `times` evenly spaced points per segment: (p, (K - 1) times + 1, d)."""
    p, k, d = z.shape
    w = torch.linspace(0, 1, times + 1, dtype=z.dtype)[:-1][None, None, :, None]
    inner = z[:, :-1, None] * (1 - w) + z[:, 1:, None] * w
    return torch.cat([inner.reshape(p, (k - 1) * times, d), z[:, -1:]], 1)


def solve(decode: Decoder, start: np.ndarray, iterations: int = ITERATIONS, tol: float = TOL) -> np.ndarray:
    """Minimise the energy of the paths `start` (p, K, d), endpoints fixed: the geodesics (p, K, d), float64. A
    solve whose first step, times `iterations`, passes MAX_SECONDS on this machine is refused (ConfigError)."""
    start = np.asarray(start, dtype=np.float64)
    require(start.ndim == 3 and start.shape[1] >= 2, f"a geodesic needs paths of shape (p, K >= 2, d), got "
                                                     f"{list(start.shape)}")
    require(is_int(iterations) and iterations >= 0, f"iterations must be an integer >= 0, got {iterations!r}")
    z0 = torch.as_tensor(start, dtype=torch.float32)
    if z0.shape[1] == 2 or iterations == 0:
        return start.copy()
    ends = z0[:, :1], z0[:, -1:]
    inner = z0[:, 1:-1].clone().requires_grad_(True)
    path = lambda: torch.cat([ends[0], inner, ends[1]], 1)       # noqa: E731
    best = z0.clone()
    with torch.no_grad():
        best_energy = energy(decode, refine(best))
    optimizer = torch.optim.Adam([inner], lr=LR)
    previous, calm, started = None, 0, time.perf_counter()
    with tqdm(total=iterations, desc="geodesic", unit="step", delay=1.0, file=sys.stderr, disable=None) as bar:
        for step in range(iterations):
            if _unwanted.get()():
                raise Stopped("a newer request replaced this geodesic")
            if step == 1:
                took = time.perf_counter() - started
                require(took * iterations <= MAX_SECONDS,
                        f"{len(start)} geodesic(s) would take up to {took * iterations / 60:,.0f} min here (one step "
                        f"of all of them took {took:.1f} s, and a solve takes up to {iterations} steps), past the "
                        f"{MAX_SECONDS // 60} min limit: ask for fewer pairs")
            optimizer.zero_grad()
            e = energy(decode, refine(path()))
            e.sum().backward()
            with torch.no_grad():
                lower = e < best_energy
                best[lower], best_energy[lower] = path()[lower], e[lower]
            optimizer.step()
            total = float(e.detach().sum())
            bar.update()
            bar.set_postfix_str(f"energy {total:.4g}")
            calm = calm + 1 if previous is not None and abs(previous - total) <= tol * abs(previous) else 0
            if calm >= PATIENCE or not np.isfinite(total):
                break
            previous = total
    out = best.double().numpy()
    out[:, 0], out[:, -1] = start[:, 0], start[:, -1]                 # exact, not float32-rounded
    return out


def at(nodes: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Points of the polylines `nodes` (p, K, d) at times t (p, k), node i at t = i / (K - 1): (p, k, d)."""
    p, k = nodes.shape[:2]
    s = np.clip(np.asarray(t, dtype=np.float64), 0.0, 1.0) * (k - 1)
    i = np.minimum(np.floor(s).astype(int), k - 2)
    w = (s - i)[..., None]
    rows = np.arange(p)[:, None]
    return (1 - w) * nodes[rows, i] + w * nodes[rows, i + 1]


def geodesics(model: Model, ends: np.ndarray, nodes: int = NODES, iterations: int = ITERATIONS) -> np.ndarray:
    """The geodesic polylines (p, nodes, d) between each pair of `ends` (p, 2, d), started from straight lines."""
    require(is_int(nodes) and nodes >= 3, f"a geodesic needs at least 3 nodes, got {nodes!r}")
    ends = np.asarray(ends, dtype=np.float64)
    s = np.linspace(0.0, 1.0, nodes)[None, :, None]
    line = (1 - s) * ends[:, :1] + s * ends[:, 1:]                  # endpoints exact
    return solve(model.image_map(), line, iterations)


def magnification(model: Model, z: np.ndarray, batch_size: int = 2048) -> np.ndarray:
    """sqrt det(JᵀJ) of the decoder at each code of z (n, d), J = ∂ image / ∂ z: how much the decoder stretches
    a small patch of latent space, the volume element of its pull-back metric (n,). J's d columns come from d
    forward-mode products, batched over the codes."""
    z = torch.as_tensor(np.asarray(z), dtype=torch.float32)
    require(z.ndim == 2 and z.shape[1] == model.latent_dim, f"codes must have shape (n, {model.latent_dim}), "
                                                            f"got {list(z.shape)}")
    decode, basis, out = model.image_map(), torch.eye(z.shape[1]), []
    flat = lambda v: decode(v).flatten(1)                               # noqa: E731
    for chunk in z.split(batch_size):
        with warnings.catch_warnings():     # forward mode scripts torch's own decompositions once, with a warning
            warnings.filterwarnings("ignore", "`torch.jit.script` is deprecated", DeprecationWarning)
            columns = [torch.func.jvp(flat, (chunk,), (e.expand_as(chunk),))[1] for e in basis]
        jac = torch.stack(columns, 2)                                       # (n, pixels, d)
        out.append(torch.linalg.det(jac.transpose(1, 2) @ jac).clamp_min(0).sqrt().detach())
    return torch.cat(out).double().numpy() if out else np.zeros(0)
