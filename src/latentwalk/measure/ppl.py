"""Perceptual path length (Karras et al. 2019): how much the decoded image changes per step along a path.

For endpoints z0, z1 drawn from the prior and t ~ U(0, 1), the decodings at t and t + ε are compared on the
unit-normalised features of the digit classifier: PPL = E[ |f(t + ε) - f(t)|² / ε² ], squared as LPIPS is, so
that the value does not depend on ε. ε = 1e-4 in float32 (smaller steps lose float32's precision: measured,
ε = 1e-5 is off by half); the 1 % tails on each side are trimmed before the mean. A smooth path scores low,
one that jumps between digits or through blur scores high. `roughness` is the same quantity at each t of one
given path: the explorer draws it along the paths it shows.
"""

from __future__ import annotations

import numpy as np

from ..errors import is_int, require
from ..models.autoencoder import AutoEncoder
from ..walk import core, paths
from . import classifier

EPSILON = 1e-4
N = 10_000       # paths per method
TRIM = 0.01


def _feature_steps(model: AutoEncoder, net: classifier.DigitNet, method: str, ends, t: np.ndarray,
                   epsilon: float) -> np.ndarray:
    """|f(t + ε) - f(t)|² along `method` between each pair of `ends` (n, 2, d) at its t (n,)."""
    interpolate = paths.INTERPOLATIONS[core.check_methods([method])[0]]
    z = np.concatenate([interpolate(a, b, t=[s, s + epsilon]) for (a, b), s in zip(ends, t)])   # (2n, d)
    f = classifier.features(net, core.decode(model, z))
    f = f / f.norm(dim=1, keepdim=True).clamp_min(1e-12)
    return (f[0::2] - f[1::2]).square().sum(1).double().numpy()


def squared_steps(model: AutoEncoder, net: classifier.DigitNet, method: str, n: int = N,
                  epsilon: float = EPSILON, seed: int = 0) -> np.ndarray:
    """|f(t + ε) - f(t)|² of `n` random (z0, z1, t) along `method`: the raw squared feature distances (n,)."""
    require(is_int(n) and n >= 1, f"n must be an integer >= 1, got {n!r}")
    rng = np.random.default_rng(seed)
    ends = rng.standard_normal((n, 2, model.latent_dim))
    return _feature_steps(model, net, method, ends, rng.uniform(0.0, 1.0, n), epsilon)


def trimmed_mean(values: np.ndarray) -> float:
    """The mean without the TRIM tails on each side."""
    lo, hi = np.quantile(values, [TRIM, 1 - TRIM])
    return float(values[(values >= lo) & (values <= hi)].mean())


def path_length(model: AutoEncoder, net: classifier.DigitNet, method: str, n: int = N,
                epsilon: float = EPSILON, seed: int = 0) -> float:
    """The perceptual path length of `method` between prior samples (mean over `n` paths, tails trimmed)."""
    return trimmed_mean(squared_steps(model, net, method, n, epsilon, seed) / epsilon ** 2)


def roughness(model: AutoEncoder, net: classifier.DigitNet, a, b, method: str, t,
              epsilon: float = EPSILON) -> np.ndarray:
    """How fast the decoded image changes at each t of one path from a to b: |f(t + ε) - f(t)|² / ε², the
    quantity path_length averages over random paths. Its trimmed mean over evenly spaced t is this path's own
    path length, on the same scale as the model's."""
    t = np.asarray(t, dtype=np.float64).reshape(-1)
    ends = np.broadcast_to(np.stack([np.asarray(a, np.float64), np.asarray(b, np.float64)]), (len(t), 2, len(a)))
    return _feature_steps(model, net, method, ends, t, epsilon) / epsilon ** 2
