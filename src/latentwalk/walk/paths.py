"""Latent paths as arrays: every walk is a float64 array of shape (steps, d), endpoints included.

Pure math on numpy: nothing here knows about models, files or plotting, so any path a user writes goes
through the same decode, score and render code.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtri

from ..errors import is_int, require


def _check_steps(steps: int) -> None:
    require(is_int(steps) and steps >= 1, f"`steps` must be an integer >= 1, got {steps!r}")


def _check_extent(lo: float, hi: float) -> None:
    require(np.isfinite(lo) and np.isfinite(hi) and lo < hi, f"`extent` must be finite with min < max, got "
                                                              f"[{lo}, {hi}]")


def _t(steps: int) -> np.ndarray:
    _check_steps(steps)
    return np.linspace(0.0, 1.0, steps) if steps > 1 else np.zeros(1)


def _times(steps: int, t) -> np.ndarray:
    """(k, 1) times: `steps` evenly spaced over [0, 1], or the given `t` (any values, e.g. random ones)."""
    if t is None:
        return _t(steps)[:, None]
    t = np.asarray(t, dtype=np.float64).reshape(-1)
    require(t.size >= 1 and bool(np.isfinite(t).all()), "t must hold finite numbers")
    return t[:, None]


def _exact_ends(path: np.ndarray, t: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The path with its points at t = 0 and t = 1 set to a and b exactly (the formulas round there)."""
    path[t[:, 0] == 0], path[t[:, 0] == 1] = a, b
    return path


def _endpoints(a, b) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    require(a.ndim == 1 and a.shape == b.shape and a.size >= 1,
            f"endpoints must be two vectors of the same length, got shapes {a.shape} and {b.shape}")
    require(bool(np.isfinite(a).all() and np.isfinite(b).all()), "endpoints must be finite")
    return a, b


def _plane(axis1: np.ndarray, axis2: np.ndarray) -> np.ndarray:
    z1, z2 = np.meshgrid(axis1, axis2[::-1])
    return np.stack([z1.ravel(), z2.ravel()], axis=1)


def grid(n: int = 20, extent: tuple[float, float] = (-3.0, 3.0)) -> np.ndarray:
    """An n x n centred square grid over [min, max]^2, row by row from the top (z2 = max) down: (n*n, 2).

    Row-major from the top left, so `grid(n).reshape(n, n, 2)` lays out like the decoded mosaic: z1 grows
    to the right, z2 grows upwards.
    """
    require(is_int(n) and n >= 1, f"`n` must be an integer >= 1, got {n!r}")
    lo, hi = extent
    _check_extent(lo, hi)
    axis = np.linspace(lo, hi, n)
    return _plane(axis, axis)


def gaussian_grid(n: int = 20) -> np.ndarray:
    """The prior's inverse CDF over an n x n grid of the unit square (Kingma & Welling's manifold figures).

    Points are equally spaced in probability, not in z: denser near 0, where the prior's mass is.
    Same layout as `grid`.
    """
    require(is_int(n) and n >= 1, f"`n` must be an integer >= 1, got {n!r}")
    axis = ndtri((np.arange(n) + 0.5) / n)
    return _plane(axis, axis)


def spiral(steps: int = 300, turns: float = 1.5, scale: float = 0.2, offset: float = -2.0) -> np.ndarray:
    """The post's spiral: x(t) = (scale t + offset) sin t, y(t) = (scale t + offset) cos t, t in [0, 2 pi turns].

    The defaults give the post's curve (t in [0, 3 pi]), which unwinds inside [-2, 2]^2. Shape (steps, 2).
    """
    require(np.isfinite(turns) and turns > 0, f"turns must be > 0, got {turns!r}")
    t = _t(steps) * 2 * np.pi * turns
    r = scale * t + offset
    return np.stack([r * np.sin(t), r * np.cos(t)], axis=1)


def spiral_parameter(steps: int = 300, turns: float = 1.5) -> np.ndarray:
    """The t of each point of `spiral(steps, turns)`."""
    return _t(steps) * 2 * np.pi * turns


def to_cartesian(r, angles) -> np.ndarray:
    """Hyperspherical (r, theta_1..theta_(n-1)) to Cartesian x in R^n: (m,) and (m, n-1) -> (m, n).

    x_1 = r cos th_1; x_k = r sin th_1 … sin th_(k-1) cos th_k; x_n = r sin th_1 … sin th_(n-1).
    """
    angles = np.atleast_2d(np.asarray(angles, dtype=np.float64))
    r = np.broadcast_to(np.asarray(r, dtype=np.float64), angles.shape[:1])
    require(angles.shape[1] >= 1, "need at least one angle (n >= 2)")
    m, k = angles.shape
    sines = np.concatenate([np.ones((m, 1)), np.cumprod(np.sin(angles), axis=1)], axis=1)   # (m, n)
    cosines = np.concatenate([np.cos(angles), np.ones((m, 1))], axis=1)                      # (m, n)
    return r[:, None] * sines * cosines


def to_hyperspherical(x) -> tuple[np.ndarray, np.ndarray]:
    """Cartesian (m, n) to (r (m,), angles (m, n-1)); th_1..th_(n-2) in [0, pi], th_(n-1) in [0, 2 pi).

    The exact inverse of `to_cartesian` wherever the angles are defined (off the axes where a sine is 0).
    """
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    require(x.shape[1] >= 2, f"need points in R^n with n >= 2, got shape {x.shape}")
    # tail[:, k] = |x_(k+1:)|, the norm of the coordinates after k (computed from the end, stably)
    tail = np.sqrt(np.cumsum(x[:, ::-1] ** 2, axis=1)[:, ::-1])
    angles = np.arctan2(tail[:, 1:-1], x[:, :-2])                                         # (m, n-2) in [0, pi]
    last = np.mod(np.arctan2(x[:, -1], x[:, -2]), 2 * np.pi)
    last[last >= 2 * np.pi] = 0.0                       # -tiny mod 2 pi rounds up to 2 pi: keep [0, 2 pi)
    return tail[:, 0], np.concatenate([angles, last[:, None]], axis=1)


def sphere_walk(d: int, steps: int = 1000, loops: int = 20, radius: float | None = None) -> np.ndarray:
    """A walk over the sphere of radius sqrt(d) (the prior's typical shell) in R^d: (steps, d).

    theta_1..theta_(d-2) sweep once through [0, pi] together while theta_(d-1) turns `loops` times through
    2 pi: more loops, a denser mesh over the shell.
    """
    require(is_int(d) and d >= 2, f"a sphere walk needs d >= 2, got {d!r}")
    require(is_int(loops) and 1 <= loops <= 10_000, f"`loops` must be an integer in 1..10,000, got {loops!r}")
    radius = np.sqrt(d) if radius is None else radius
    require(np.isfinite(radius) and radius > 0, f"radius must be > 0, got {radius!r}")
    t = _t(steps)
    angles = np.empty((len(t), d - 1))
    angles[:, :-1] = np.pi * t[:, None]
    angles[:, -1] = 2 * np.pi * loops * t
    return to_cartesian(radius, angles)


def lerp(a, b, steps: int = 10, *, t=None) -> np.ndarray:
    """The chord a + t (b - a): for two points on a sphere it dips inside it (to |a| / sqrt(2) for orthogonal ones).

    Like slerp and nlerp: `steps` points with t evenly spaced over [0, 1], or, given `t`, one point per t."""
    a, b = _endpoints(a, b)
    t = _times(steps, t)
    return a + t * (b - a)


def _angle(a: np.ndarray, b: np.ndarray) -> float:
    """The angle between a and b, stable at 0 and pi: 2 atan2(|a^ - b^|, |a^ + b^|)."""
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0 or nb == 0:
        return 0.0
    ua, ub = a / na, b / nb
    return 2 * np.arctan2(np.linalg.norm(ua - ub), np.linalg.norm(ua + ub))


def _perpendicular(u: np.ndarray) -> np.ndarray:
    """A fixed unit vector orthogonal to u: the coordinate axis least aligned with u, orthogonalised."""
    e = np.zeros_like(u)
    e[np.argmin(np.abs(u))] = 1.0
    p = e - (e @ u) * u
    return p / np.linalg.norm(p)


def slerp(a, b, steps: int = 10, *, t=None) -> np.ndarray:
    """The arc a sin((1-t) W) / sin W + b sin(t W) / sin W, cos W = a.b / (|a| |b|); endpoints exact.

    Keeps the norm when |a| = |b|. Nearly parallel endpoints fall back to lerp (the limit as W -> 0).
    Opposite endpoints (W = pi) have no unique arc: this takes the half circle through the coordinate axis
    least aligned with a, with the norm going linearly from |a| to |b|.
    """
    a, b = _endpoints(a, b)
    t = _times(steps, t)
    omega = _angle(a, b)
    if np.sin(omega) < 1e-6 and omega < np.pi / 2 or a.size == 1:
        path = a + t * (b - a)
    elif np.sin(omega) < 1e-6:
        na, nb = np.linalg.norm(a), np.linalg.norm(b)
        u = a / na
        path = (np.cos(np.pi * t) * u + np.sin(np.pi * t) * _perpendicular(u)) * ((1 - t) * na + t * nb)
    else:
        path = (np.sin((1 - t) * omega) * a + np.sin(t * omega) * b) / np.sin(omega)
    return _exact_ends(path, t, a, b)


def nlerp(a, b, steps: int = 10, *, t=None) -> np.ndarray:
    """lerp, each point rescaled to the linearly interpolated norm (1 - t)|a| + t|b|: the chord lifted back."""
    a, b = _endpoints(a, b)
    t = _times(steps, t)
    chord = a + t * (b - a)
    target = (1 - t) * np.linalg.norm(a) + t * np.linalg.norm(b)
    length = np.linalg.norm(chord, axis=1, keepdims=True)
    degenerate = length[:, 0] < 1e-12 * max(1.0, float(target.max()))
    with np.errstate(invalid="ignore", divide="ignore"):
        path = chord * (target / length)
    if degenerate.any():                      # opposite endpoints: the chord passes through 0
        path[degenerate] = slerp(a, b, t=t)[degenerate]
    return _exact_ends(path, t, a, b)


INTERPOLATIONS = {"lerp": lerp, "slerp": slerp, "nlerp": nlerp}   # name -> f(a, b, steps, t=None) -> (steps, d)


def traverse(base, dim: int, values) -> np.ndarray:
    """Copies of `base` with coordinate `dim` set to each of `values`: one latent dimension swept alone."""
    base = np.asarray(base, dtype=np.float64)
    require(base.ndim == 1, f"base must be one latent vector, got shape {base.shape}")
    require(is_int(dim) and 0 <= dim < base.size, f"dim must be in 0..{base.size - 1}, got {dim!r}")
    values = np.asarray(values, dtype=np.float64)
    path = np.repeat(base[None], len(values), axis=0)
    path[:, dim] = values
    return path
