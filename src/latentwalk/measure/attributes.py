"""Measured image properties and the attribute vectors they and the labels give a model's latent space.

    thickness   ink mass: the mean grey level of the image (thicker strokes hold more ink)
    slant       the shear of the ink from its second moments, μ11 / μ02 with y pointing up: > 0 leans right
                like "/", < 0 leans left

`vector(model, spec, images, labels)` reads a spec as `latentwalk arithmetic --vector` does: "3to8" (mean code
of the 8s minus mean code of the 3s), or a property name (top quartile minus bottom quartile).
"""

from __future__ import annotations

import re

import numpy as np
import torch

from ..errors import ConfigError, require
from ..models import Model
from ..models.autoencoder import codes
from ..walk import arithmetic

DIGITS = re.compile(r"(\d)to(\d)")


def _grey(images: np.ndarray | torch.Tensor) -> np.ndarray:
    x = torch.as_tensor(images)
    x = x.float() / 255 if x.dtype == torch.uint8 else x.float()
    return x.mean(1).numpy()                                   # (n, H, W)


def thickness(images: np.ndarray | torch.Tensor, batch: int = 10_000) -> np.ndarray:
    """The ink mass of each image (n, C, H, W): its mean grey level in [0, 1], (n,). A batch at a time (images
    read from disk, data/mapped.py, come into memory a slice at a time)."""
    return np.concatenate([_grey(images[k:k + batch]).mean((1, 2)) for k in range(0, len(images), batch)]
                          or [np.zeros(0)]).astype(np.float64)


def slant(images: np.ndarray | torch.Tensor, batch: int = 10_000) -> np.ndarray:
    """The shear of each image's ink, μ11 / μ02 of its intensity with y up (n,): the x shift per unit of height.
    Raw moments of each batch by one product with the pixel grid (no (n, H, W) temporaries)."""
    out = []
    for k in range(0, len(images), batch):
        g = _grey(images[k:k + batch]).astype(np.float64)
        h, w = g.shape[1:]
        y, x = np.mgrid[0:h, 0:w].astype(np.float64)
        y = h - 1 - y                                          # rows grow downward; moments want y up
        m = g.sum((1, 2)).clip(1e-12)
        raw = {name: np.einsum("nij,ij->n", g, grid) / m for name, grid in
               (("x", x), ("y", y), ("xy", x * y), ("yy", y * y))}
        out.append((raw["xy"] - raw["x"] * raw["y"]) / (raw["yy"] - raw["y"] ** 2).clip(1e-12))
    return np.concatenate(out) if out else np.zeros(0)


PROPERTIES = {"thickness": thickness, "slant": slant}


def vector(model: Model, spec: str, images: torch.Tensor, labels: torch.Tensor | None) -> np.ndarray:
    """The attribute vector `spec` ("3to8", "thickness", "slant") of the model's codes of `images`: (d,)."""
    digits = DIGITS.fullmatch(spec)
    if digits is None and spec not in PROPERTIES:
        raise ConfigError(f"unknown vector {spec!r}: use ATOB with two digits (e.g. 3to8), "
                          f"{' or '.join(PROPERTIES)}")
    mu = codes(model, images)[0].double().numpy()
    if digits is not None:
        require(labels is not None, f"`vector` {spec} needs labelled images; this data set has no labels")
        return arithmetic.label_vector(mu, labels.numpy(), int(digits[1]), int(digits[2]))
    return arithmetic.property_vector(mu, PROPERTIES[spec](images))
