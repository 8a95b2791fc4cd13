"""Perceptual path length (Karras et al. 2019): how much the decoded image changes per step along a path.

For endpoints z0, z1 drawn from the prior and t ~ U(0, 1), the decodings at t and t + ε are compared on the
unit-normalised features of the digit classifier: PPL = E[ |f(t + ε) - f(t)|² / ε² ], squared as LPIPS is, so
that the value does not depend on ε. ε = 1e-4 in float32 (smaller steps lose float32's precision: measured,
ε = 1e-5 is off by half); the 1 % tails on each side are trimmed before the mean. A smooth path scores low,
one that jumps between digits or through blur scores high. `local` is the same quantity at given times of given
paths: the explorer draws it along the paths it shows, and each path's trimmed mean is that path's own length.
"""

from __future__ import annotations

import numpy as np

from ..errors import is_int, require
from ..models import Model
from ..walk import core
from . import classifier

EPSILON = 1e-4
N = 10_000       # paths per closed-form method
GEODESIC_N = 100 # geodesics: each is an optimisation (5 s for 100, benchmarks/RESULTS.md)
TRIM = 0.01


def _feature_steps(model: Model, digit_net: classifier.DigitNet, z: np.ndarray) -> np.ndarray:
    """|f(z1) - f(z0)|² on unit-normalised features for each pair of points z (n, 2, d): (n,)."""
    f = classifier.features(digit_net, core.decode(model, z.reshape(-1, z.shape[-1])))
    f = f / f.norm(dim=1, keepdim=True).clamp_min(1e-12)
    return (f[0::2] - f[1::2]).square().sum(1).double().numpy()


def local(model: Model, digit_net: classifier.DigitNet, curve: core.Curve, t: np.ndarray,
          epsilon: float = EPSILON) -> np.ndarray:
    """|f(t + ε) - f(t)|² / ε² at times t (pairs, k) of the paths `curve`: how fast each decoded image changes
    there, (pairs, k)."""
    t = np.minimum(np.asarray(t, dtype=np.float64), 1 - epsilon)          # t + ε stays on the path
    z = curve(np.stack([t, t + epsilon], -1).reshape(len(t), -1))         # (pairs, 2k, d)
    return _feature_steps(model, digit_net, z.reshape(-1, 2, z.shape[-1])).reshape(t.shape) / epsilon ** 2


def squared_steps(model: Model, digit_net: classifier.DigitNet, method: str, n: int = N,
                  epsilon: float = EPSILON, seed: int = 0) -> np.ndarray:
    """|f(t + ε) - f(t)|² of `n` random (z0, z1, t) along `method`: the raw squared feature distances (n,)."""
    require(is_int(n) and n >= 1, f"n must be an integer >= 1, got {n!r}")
    rng = np.random.default_rng(seed)
    ends = rng.standard_normal((n, 2, model.latent_dim))
    t = rng.uniform(0.0, 1.0, (n, 1))
    return local(model, digit_net, core.curves(model, [method], ends)[method], t, epsilon)[:, 0] * epsilon ** 2


def trimmed_mean(values: np.ndarray) -> float:
    """The mean without the TRIM tails on each side."""
    lo, hi = np.quantile(values, [TRIM, 1 - TRIM])
    return float(values[(values >= lo) & (values <= hi)].mean())


def path_counts(paths: int = N, geodesics: int = GEODESIC_N) -> dict[str, int]:
    """How many prior paths each method's path length averages: `paths` for the closed forms, `geodesics` for the
    geodesic (each one an optimisation)."""
    return {m: geodesics if m == "geodesic" else paths for m in core.METHODS}


def path_length(model: Model, digit_net: classifier.DigitNet, method: str, n: int = N,
                epsilon: float = EPSILON, seed: int = 0) -> float:
    """The perceptual path length of `method` between prior samples (mean over `n` paths, tails trimmed)."""
    return trimmed_mean(squared_steps(model, digit_net, method, n, epsilon, seed) / epsilon ** 2)

