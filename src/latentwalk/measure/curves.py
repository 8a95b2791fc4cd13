"""Numbers for whole paths as their decoded images see them: how long, how much energy, how jumpy, how smooth.

For each method and pair of endpoints (the same pairs for every method), the path is resampled densely
(DENSE points, t evenly spaced) so that a jump inside one coarse step of a figure is not hidden, and decoded:

    length          Σ |x_{i+1} - x_i|, the image-space length (pixel means in [0, 1], Euclidean)
    energy          (DENSE - 1) Σ |x_{i+1} - x_i|², the curve energy a geodesic minimises (geodesic.py)
    largest_step    max |x_{i+1} - x_i|: a jump shows here (a path at constant speed has length / (DENSE - 1))
    ppl             the path's own perceptual path length: the trimmed mean of ppl.local at ROUGH evenly spaced t
    midpoint        the digit classifier's confidence in the decoding at t = 1/2
"""

from __future__ import annotations

import numpy as np

from ..models import Model
from ..walk import core
from . import classifier, ppl

DENSE = 257       # 256 steps per path
ROUGH = 65        # t of each path's own path length
NUMBERS = ("length", "energy", "largest_step", "ppl", "midpoint")


def path_numbers(model: Model, digit_net: classifier.DigitNet, curve: core.Curve) -> dict[str, np.ndarray]:
    """Each of NUMBERS for each path of `curve`: {name: (pairs,)}."""
    pairs = len(curve.ends)
    z = curve.evenly(DENSE)
    x = core.decode(model, z.reshape(-1, z.shape[-1])).reshape(pairs, DENSE, -1)
    steps = np.linalg.norm(np.diff(x, axis=1), axis=2)                          # (pairs, DENSE - 1)
    local = ppl.local(model, digit_net, curve, np.tile(np.linspace(0.0, 1.0, ROUGH), (pairs, 1)))
    middle = x[:, DENSE // 2].reshape(pairs, *model.image_shape)
    return {"length": steps.sum(1), "energy": (DENSE - 1) * np.square(steps).sum(1), "largest_step": steps.max(1),
            "ppl": np.array([ppl.trimmed_mean(row) for row in local]),
            "midpoint": classifier.judge(digit_net, middle)["confidence"].numpy().astype(np.float64)}


def numbers(model: Model, digit_net: classifier.DigitNet,
            shapes: dict[str, core.Curve]) -> dict[str, dict[str, np.ndarray]]:
    """path_numbers of every method's curve (core.curves, the same pairs for all): {method: {name: (pairs,)}}."""
    return {m: path_numbers(model, digit_net, curve) for m, curve in shapes.items()}
