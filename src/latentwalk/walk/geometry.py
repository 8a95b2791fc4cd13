"""High-dimensional geometry behind the post's sphere and norm figures (F4, F5, F11), in closed form.

Pure math on numpy and scipy.special: log-gamma keeps everything exact in log space, far past the point
where the volumes themselves underflow.
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln, xlogy

from ..errors import require


def _dims(n) -> np.ndarray:
    n = np.asarray(n, dtype=np.float64)
    require(bool(np.all(np.isfinite(n))) and bool(np.all(n >= 0)), "dimensions must be finite and >= 0")
    return n


def log_ball_volume(n) -> np.ndarray | float:
    """log V_n of the unit n-ball, V_n = pi^(n/2) / Gamma(n/2 + 1): exact for any n (10,000 and beyond)."""
    n = _dims(n)
    return 0.5 * n * np.log(np.pi) - gammaln(0.5 * n + 1)


def ball_volume(n) -> np.ndarray | float:
    """V_n of the unit n-ball: 2, pi, 4 pi / 3, pi^2 / 2, 8 pi^2 / 15 (the maximum) … then toward 0."""
    return np.exp(log_ball_volume(n))


def chi_mean(d) -> np.ndarray | float:
    """Mean norm of an N(0, I_d) sample: sqrt(2) Gamma((d+1)/2) / Gamma(d/2), about sqrt(d - 1/2)."""
    d = _dims(d)
    return np.sqrt(2.0) * np.exp(gammaln(0.5 * (d + 1)) - gammaln(0.5 * d))


def chi_std(d) -> np.ndarray | float:
    """Standard deviation of that norm: tends to 1/sqrt(2) as d grows (a thin shell)."""
    d = _dims(d)
    return np.sqrt(np.maximum(d - chi_mean(d) ** 2, 0.0))


def chi_logpdf(r, d) -> np.ndarray:
    """log density of the chi distribution with d degrees of freedom (the norm of N(0, I_d)) at r >= 0."""
    r, d = np.asarray(r, dtype=np.float64), _dims(d)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = xlogy(d - 1, r) - 0.5 * r ** 2 - (0.5 * d - 1) * np.log(2.0) - gammaln(0.5 * d)
    return np.where(r < 0, -np.inf, out)


def chi_pdf(r, d) -> np.ndarray:
    """Density of the norm of an N(0, I_d) sample at r."""
    return np.exp(chi_logpdf(r, d))


def shell_radius(d) -> np.ndarray | float:
    """The radius of the typical shell of N(0, I_d): sqrt(d), where sphere walks and slerp live."""
    return np.sqrt(_dims(d))


def prior_logpdf(z: np.ndarray) -> np.ndarray:
    """log N(z; 0, I) of each row of z (steps, d)."""
    z = np.asarray(z, dtype=np.float64)
    return -0.5 * np.sum(z ** 2, axis=-1) - 0.5 * z.shape[-1] * np.log(2 * np.pi)
