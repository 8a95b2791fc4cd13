"""The walk core: every path of every figure, of the report and of the explorer is decoded and scored here.

A walk is a path (steps, d), its decoded images (steps, C, H, W) and per-point scores (each (steps,)):

    norm           |z|, to compare with the prior's typical shell sqrt(d)
    prior_logpdf   log N(z; 0, I)
    …              whatever the scorers passed in add (the digit classifier's verdict, sharpness, …)

Scorers are callables `images -> {name: (steps,) array}`, passed in by the caller: the core knows latent
geometry, not what makes an image good, and it never imports a classifier or trains anything.
This module is also the one place for the choices every adapter shares: the endpoints of an interpolation
(encoded test images or prior samples, one seeded generator), the plane shown for a model with d > 2,
the interpolation methods and the step checks.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from ..errors import is_int, require, require_seed
from ..models import Model
from ..models.autoencoder import codes, kl_per_dim
from . import geodesic, geometry, paths

Scorer = Callable[[np.ndarray], dict[str, np.ndarray]]    # images (n, C, H, W) in [0, 1] -> {score: (n,)}
CLOSED_FORM = tuple(paths.INTERPOLATIONS)                   # lerp, slerp, nlerp: paths of the endpoints alone
METHODS = (*CLOSED_FORM, "geodesic")                        # and the decoder's shortest path (geodesic.py)
MAX_PAIRS = 1000          # endpoint pairs: 1,000 of all four methods on the demo's z = 500 VAE took 4 min 54 s (2 cores)


@dataclass(frozen=True)
class Walk:
    path: np.ndarray                 # (steps, d) float64
    images: np.ndarray               # (steps, C, H, W) float32 in [0, 1]
    scores: dict[str, np.ndarray]    # each (steps,)

    def _repr_png_(self, shown: int = 12, zoom: int = 2) -> bytes:
        """Jupyter's view of a walk: `shown` of its images, evenly spaced from start to end, in a row."""
        pick = np.unique(np.linspace(0, len(self.images) - 1, min(shown, len(self.images))).round().astype(int))
        row = np.concatenate([np.pad(self.images[i], ((0, 0), (0, 0), (0, 1)), constant_values=1) for i in pick], 2)
        pixels = (np.clip(row, 0, 1) * 255 + 0.5).astype(np.uint8).transpose(1, 2, 0).repeat(zoom, 0).repeat(zoom, 1)
        buf = io.BytesIO()
        Image.fromarray(pixels[..., 0] if pixels.shape[2] == 1 else pixels).save(buf, format="PNG")
        return buf.getvalue()


@torch.no_grad()
def decode(model: Model, path: np.ndarray | torch.Tensor, batch_size: int = 4096) -> np.ndarray:
    """Decode a path (steps, d) into images (steps, C, H, W), float32 in [0, 1]."""
    z = torch.as_tensor(np.asarray(path), dtype=torch.float32)
    out = [model.decode(z[i:i + batch_size]).cpu() for i in range(0, len(z), batch_size)]
    if len(out) <= 1:                                   # one batch (or none): no copy
        return out[0].numpy() if out else np.zeros((0, *model.image_shape), np.float32)
    return torch.cat(out).numpy()


def walk(model: Model, path: np.ndarray, scorers: Sequence[Scorer] = ()) -> Walk:
    """Decode a path in batches and score every point: its latent norm and prior density, then each scorer's."""
    path = np.asarray(path, dtype=np.float64)
    images = decode(model, path)
    scores = {"norm": np.linalg.norm(path, axis=1), "prior_logpdf": geometry.prior_logpdf(path)}
    for scorer in scorers:
        scores.update(scorer(images))
    return Walk(path, images, scores)


# --------------------------------------------------------------------------- checks shared by every adapter

def check_steps(steps: int, low: int, high: int, name: str = "steps") -> None:
    require(is_int(steps) and low <= steps <= high, f"`{name}` must be an integer in {low}..{high}, got {steps!r}")


def methods_of(model: Model) -> tuple[str, ...]:
    """The interpolation methods a model can walk: all, or the closed forms where decode has no gradients."""
    return METHODS if model.differentiable else CLOSED_FORM


def check_methods(methods: Sequence[str]) -> list[str]:
    """The interpolation methods asked for, each once, in the order given."""
    unknown = [m for m in methods if m not in METHODS]
    require(len(methods) > 0 and not unknown, f"unknown method {', '.join(map(str, unknown)) or '(none)'}: use "
                                               f"{', '.join(METHODS)} (comma-separated)")
    return list(dict.fromkeys(methods))


# --------------------------------------------------------------------------- endpoints and interpolations

def prior_pairs(d: int, pairs: int, seed: int) -> np.ndarray:
    """(pairs, 2, d) prior samples rescaled onto the sqrt(d) shell, where the prior's mass lies."""
    z = np.random.default_rng(seed).standard_normal((pairs, 2, d))
    return z / np.linalg.norm(z, axis=-1, keepdims=True).clip(1e-12) * np.sqrt(d)


def endpoints(model: Model, origin: str, pairs: int, seed: int,
              images: torch.Tensor | None = None) -> np.ndarray:
    """(pairs, 2, d) endpoints: prior samples on the sqrt(d) shell, or the codes of random test images."""
    require(is_int(pairs) and 1 <= pairs <= MAX_PAIRS, f"`pairs` must be an integer in 1..{MAX_PAIRS:,}, got "
                                                       f"{pairs!r}")
    require_seed(seed)
    require(origin in ("prior", "test"), f"`origin` must be prior or test, got {origin!r}")
    d = model.latent_dim
    if origin == "prior":
        return prior_pairs(d, pairs, seed)
    require(images is not None and len(images) >= 2, "encoding test endpoints needs test images")
    idx = np.random.default_rng(seed).choice(len(images), size=(pairs, 2), replace=len(images) < 2 * pairs)
    return codes(model, images[idx.ravel()])[0].numpy().astype(np.float64).reshape(pairs, 2, d)


@dataclass(frozen=True)
class Curve:
    """One method's paths between pairs of endpoints, readable at any times: `curve(t)` with t (pairs, k) gives
    (pairs, k, d). A geodesic keeps the nodes it was solved for, so reading it again costs no optimisation."""
    method: str
    ends: np.ndarray                 # (pairs, 2, d)
    nodes: np.ndarray | None = None  # (pairs, K, d) for a geodesic

    def __call__(self, t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, dtype=np.float64)
        require(t.ndim == 2 and len(t) == len(self.ends),
                f"times must have shape ({len(self.ends)}, k), got {list(t.shape)}")
        if self.nodes is not None:
            return geodesic.at(self.nodes, t)
        return np.stack([paths.INTERPOLATIONS[self.method](a, b, t=s) for (a, b), s in zip(self.ends, t)])

    def evenly(self, steps: int) -> np.ndarray:
        """`steps` evenly spaced points of each path, t = 0 … 1 (endpoints exact): (pairs, steps, d)."""
        return self(np.tile(np.linspace(0.0, 1.0, steps), (len(self.ends), 1)))


def curves(model: Model, methods: Sequence[str], ends: np.ndarray) -> dict[str, Curve]:
    """Each method's paths between each pair of `ends` (pairs, 2, d). Geodesics are solved here, once for all
    pairs; every reading after (walks, path numbers, path lengths) shares them."""
    ends = np.asarray(ends, dtype=np.float64)
    require(ends.ndim == 3 and ends.shape[1] == 2, f"endpoints must have shape (pairs, 2, d), got {list(ends.shape)}")
    return {m: Curve(m, ends, geodesic.geodesics(model, ends) if m == "geodesic" else None)
            for m in check_methods(methods)}


def interpolations(model: Model, shapes: dict[str, Curve], steps: int,
                   scorers: Sequence[Scorer] = ()) -> dict[str, list[Walk]]:
    """Each curve's walks at `steps` evenly spaced t: {method: [Walk of (steps, d)] per pair}.

    All pairs of a method are decoded and scored as one batch, then cut back into one walk per pair."""
    check_steps(steps, 2, 1_000_000)
    out = {}
    for m, curve in shapes.items():
        path = curve.evenly(steps).reshape(-1, model.latent_dim)                   # (pairs * steps, d)
        w = walk(model, path, scorers)
        out[m] = [Walk(w.path[k:k + steps], w.images[k:k + steps], {s: v[k:k + steps] for s, v in w.scores.items()})
                  for k in range(0, len(path), steps)]
    return out


# --------------------------------------------------------------------------- the plane of a model with d > 2

def ranked_dims(mu: torch.Tensor, logvar: torch.Tensor | None) -> tuple[list[int], np.ndarray, str]:
    """Latent dimensions by what they carry over a set of codes (`codes(model, images)`), largest first: the
    mean KL of a VAE, the population variance of an AE's codes. Returns (order, weights in that order, name)."""
    weight = kl_per_dim(mu, logvar) if logvar is not None else mu.var(0, unbiased=False)
    order = torch.argsort(weight, descending=True).tolist()
    return order, weight[order].numpy(), ("KL" if logvar is not None else "variance")


def plane(order: list[int]) -> list[int]:
    """The two dimensions shown as a plane (the two largest of `order`, in index order; d = 1: the one)."""
    return sorted(order[:2])
