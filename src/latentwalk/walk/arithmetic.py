"""Latent arithmetic (White 2016, "Sampling Generative Networks"): attribute vectors and analogy grids.

    label_vector       mean code of the digits b minus mean code of the digits a: a positive scale moves an a
                       toward a b ("3to8")
    property_vector    mean code of the top quartile of a measured image property minus that of the bottom
                       quartile ("thickness", "slant": see measure/attributes.py)
    along              codes moved along a vector, one row of scales per code
    analogy            the J-diagram: corners A, B, C and B + C - A, the grid between them interpolated along
                       both axes (lerp or slerp)
"""

from __future__ import annotations

import numpy as np

from ..errors import is_int, require
from . import paths


def label_vector(codes: np.ndarray, labels: np.ndarray, a: int, b: int) -> np.ndarray:
    """Mean code of label b minus mean code of label a: (d,)."""
    present = set(np.unique(labels).tolist())
    missing = [k for k in (a, b) if k not in present]
    require(not missing, f"the data has no digit {', '.join(map(str, missing))}: it holds "
                         f"{', '.join(map(str, sorted(present)))}")
    require(a != b, f"a vector from {a} to {b} is zero: name two different digits")
    return codes[labels == b].mean(0) - codes[labels == a].mean(0)


def property_vector(codes: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Mean code of the images whose property is in its top quartile minus that of its bottom quartile: (d,)."""
    lo, hi = np.quantile(values, [0.25, 0.75])
    require(hi > lo, "the property does not vary over these images: no vector to take")
    return codes[values >= hi].mean(0) - codes[values <= lo].mean(0)


def check_scale(max_scale: float) -> float:
    """The largest scale an attribute vector is applied with, checked: a finite number > 0."""
    require(isinstance(max_scale, (int, float)) and bool(np.isfinite(max_scale)) and max_scale > 0,
            f"`max_scale` must be a finite number > 0, got {max_scale!r}")
    return float(max_scale)


def along(codes: np.ndarray, vector: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """Each code moved by each scale times the vector: (n, k, d) for codes (n, d) and k scales."""
    scales = np.asarray(scales, dtype=np.float64)
    require(bool(np.isfinite(scales).all()), "scales must be finite")
    return np.asarray(codes, np.float64)[:, None] + scales[None, :, None] * np.asarray(vector, np.float64)


def analogy(a: np.ndarray, b: np.ndarray, c: np.ndarray, size: int = 5, method: str = "lerp") -> np.ndarray:
    """The J-diagram (size, size, d): A top left, B top right, C bottom left, B + C - A bottom right; each row
    interpolates between its ends on the left and right edges, which interpolate down from the top corners."""
    require(is_int(size) and 2 <= size <= 32, f"`size` must be an integer in 2..32, got {size!r}")
    require(method in ("lerp", "slerp"), f"`method` must be lerp or slerp, got {method!r}")
    interpolate = paths.INTERPOLATIONS[method]
    d = np.asarray(b, np.float64) + np.asarray(c, np.float64) - np.asarray(a, np.float64)
    left, right = interpolate(a, c, size), interpolate(b, d, size)          # (size, d) each, top to bottom
    return np.stack([interpolate(l, r, size) for l, r in zip(left, right)])
