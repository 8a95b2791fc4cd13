"""Latent paths as arrays: every walk is a float64 array of shape (steps, d), endpoints included.

Pure math on numpy: nothing here knows about models, files or plotting, so any path a user writes goes
through the same decode, score and render code.
"""

from __future__ import annotations

import numpy as np

from .errors import is_int, require


def _check_extent(lo: float, hi: float) -> None:
    require(np.isfinite(lo) and np.isfinite(hi) and lo < hi, f"extent must be finite with min < max, got [{lo}, {hi}]")


def grid(n: int = 20, extent: tuple[float, float] = (-3.0, 3.0)) -> np.ndarray:
    """An n x n centred square grid over [min, max]^2, row by row from the top (z2 = max) down: (n*n, 2).

    Row-major from the top left, so `grid(n).reshape(n, n, 2)` lays out like the decoded mosaic: z1 grows
    to the right, z2 grows upwards.
    """
    require(is_int(n) and n >= 1, f"grid size must be an integer >= 1, got {n!r}")
    lo, hi = extent
    _check_extent(lo, hi)
    axis = np.linspace(lo, hi, n)
    z1, z2 = np.meshgrid(axis, axis[::-1])
    return np.stack([z1.ravel(), z2.ravel()], axis=1)
