"""What the live explorer asks of the runs it was started with: describe them, decode, interpolate, walk.

Plain library code (numpy in, JSON-ready values out); `server.py` puts HTTP in front of it. Models are
named at start-up and looked up by name only, so a request can reach nothing else. Every argument is
checked here, with the same one-line errors as the rest of the library, and every answer is bounded:

    MAX_BATCH       latent points decoded per request
    MAX_DIM         latent size a request may carry
    Z_LIMIT         largest |coordinate| (the prior puts mass within about 5 of 0)
    MAX_BYTES       pixels per answer (images travel as base64 uint8, not as JSON numbers)

Images travel as {"shape": [n, H, W, C], "pixels": base64 of uint8}: 64 MNIST digits are 50 KB, and the
page paints them straight into a canvas.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass, field

import numpy as np
import torch

from ..data import datasets
from ..errors import ConfigError, LatentwalkError, is_int, require
from ..measure import attributes, classifier, model_measures, ppl, samplers, stored
from ..measure.scores import scorers
from ..models import AutoEncoder, Model
from ..models.autoencoder import codes
from ..run import checkpoint
from ..run.model_source import Source, open_sources
from ..walk import core, paths

MAX_BATCH = 1024
MAX_DIM = 4096
MAX_STEPS = 1000
MAX_LOOPS = 100
Z_LIMIT = 1000.0
MAX_BYTES = 1 << 24
SCATTER = 2000            # encoded test images drawn on the latent plane
GALLERY_PER_LABEL = 3     # test images offered as interpolation endpoints, per label
SLIDERS = 10              # dimensions (largest KL first) given a slider
QUICK_N = 1000            # samples per row when the page asks to measure a model (`measure`'s default: 10,000)
QUICK_PATHS = 300         # prior paths per path length, likewise (default 10,000)
QUICK_GEODESICS = 30      # prior geodesics for its path length (default 100)


class UnknownModel(LatentwalkError):
    """A request named a model the server was not started with."""


def images_payload(images: np.ndarray) -> dict:
    """(n, C, H, W) floats in [0, 1] -> {"shape": [n, H, W, C], "pixels": base64 uint8}."""
    pixels = np.ascontiguousarray((np.clip(images, 0, 1) * 255 + 0.5).astype(np.uint8).transpose(0, 2, 3, 1))
    return {"shape": list(pixels.shape), "pixels": base64.b64encode(pixels.tobytes()).decode("ascii")}


def _floats(values: np.ndarray, digits: int = 4) -> list:
    return np.round(np.asarray(values, dtype=np.float64), digits).tolist()


@dataclass
class Entry:
    source: Source
    info: dict       # what the page is told about the model, JSON-ready
    vectors: dict[str, dict] = field(default_factory=dict)     # attribute vectors asked for, by spec

    @property
    def model(self) -> Model:
        return self.source.model


def _thumbnails(labels: torch.Tensor | None, n: int) -> np.ndarray:
    """The first GALLERY_PER_LABEL test images of each label, label by label (the first 30 without labels)."""
    if labels is None:
        return np.arange(min(n, 10 * GALLERY_PER_LABEL))
    labels = labels.numpy()
    return np.concatenate([np.flatnonzero(labels == k)[:GALLERY_PER_LABEL] for k in np.unique(labels)])


def measures(source: Source) -> dict:
    """The measures stored in the run folder of the weights served (loaded at start), for the model's card:
    {"record": ... or None, "error": ...}. An outside model has none until the page asks (kept in memory then)."""
    run = source.run
    try:
        return {"record": stored.read(run, source.model.weights_sha256) if run is not None else None, "error": None}
    except LatentwalkError as e:
        return {"record": None, "error": str(e)}


def describe(source: Source) -> dict:
    """Everything the page draws before its first request: the plane, the codes, the thumbnails, the KL order."""
    source.needs("the explorer", "encode", "data")
    model, run = source.model, source.run
    images, labels = source.test_data(SCATTER)
    mu, logvar = codes(model, images)
    order, weights, weight_name = core.ranked_dims(mu, logvar)
    plane = core.plane(order)       # d = 1: the line of z1 (drawn with y = 0)
    xy = mu[:, plane].numpy() if len(plane) == 2 else np.column_stack([mu[:, 0].numpy(), np.zeros(len(mu))])
    extent = float(max(4.0, 1.1 * np.quantile(np.abs(xy), 0.99)))
    pick = _thumbnails(labels, len(images))
    own = isinstance(model, AutoEncoder)
    metrics = checkpoint.read_metrics(run) if run is not None else []
    return {
        "name": source.name, "kind": model.kind, "label": model.label, "latent_dim": model.latent_dim,
        "image_shape": list(model.image_shape), "hidden": list(model.config.hidden) if own else None,
        "arch": model.config.arch if own else "its own", "epochs": len(metrics) if run is not None else None,
        "data": checkpoint.load_config(run).data.fingerprint if run is not None else
        datasets.fingerprint(source.train_data()[0]),          # the same data shows the same fingerprint
        "data_name": source.data_name,
        "test_neg_elbo": metrics[-1].get("test_neg_elbo") if metrics else None,
        "methods": list(core.methods_of(model)),
        "measures": measures(source), "plane": plane, "extent": round(extent, 2),
        "weights": {"name": weight_name, "dims": order[:SLIDERS], "values": _floats(weights[:SLIDERS])},
        "scatter": {"x": _floats(xy[:, 0], 3), "y": _floats(xy[:, 1], 3),
                    "labels": None if labels is None else labels.tolist()},
        "thumbnails": {**images_payload(images[pick].float().numpy() / 255),
                    "labels": None if labels is None else labels[pick].tolist(),
                    "codes": _floats(mu[pick].numpy())},
    }


class Backend:
    """The runs given at start-up, loaded once, and what the explorer's page asks of them."""

    def __init__(self, sources: list[Source | str | os.PathLike], digit_net: classifier.DigitNet | None = None,
                 log=print):
        """`sources`: opened models (run/model_source.py) or run folders."""
        require(len(sources) >= 1, "give at least one run folder or --model-entry")
        if not all(isinstance(s, Source) for s in sources):
            sources = open_sources(sources, [])
        self.digit_net = digit_net
        self.entries: dict[str, Entry] = {}
        for source in sources:
            log(f"{source.name}: {source.model.label} with z = {source.model.latent_dim}")
            self.entries[source.name] = Entry(source, describe(source))

    def describe(self) -> dict:
        return {"models": [e.info for e in self.entries.values()], "classifier": self.digit_net is not None,
                "limits": {"batch": MAX_BATCH, "steps": MAX_STEPS, "z": Z_LIMIT, "measure": QUICK_N}}

    def entry(self, name: str) -> Entry:
        if name not in self.entries:
            raise UnknownModel(f"no model named {name!r}; this server has {', '.join(map(repr, self.entries))}")
        return self.entries[name]

    def model(self, name: str) -> Model:
        return self.entry(name).model

    def _judged(self, model: Model) -> bool:
        return self.digit_net is not None and classifier.reads(model.image_shape)

    def _latent(self, model: Model, z, what: str, rows: bool) -> np.ndarray:
        d = model.latent_dim
        shape = "(n, {d})" if rows else "({d},)"
        try:
            z = np.asarray(z, dtype=np.float64)
        except (ValueError, TypeError):
            raise ConfigError(f"{what} must be numbers of shape {shape.format(d=d)}, all rows of the same length") \
                from None
        require(z.ndim == (2 if rows else 1) and z.shape[-1] == d and z.size > 0,
                f"{what} must have shape {shape.format(d=d)} for this model, got {list(z.shape)}")
        require(bool(np.isfinite(z).all()) and float(np.abs(z).max()) <= Z_LIMIT,
                f"{what} must hold finite numbers within ±{Z_LIMIT:g}")
        return z

    def _bounded(self, model: Model, n: int) -> None:
        size = n * int(np.prod(model.image_shape))
        require(size <= MAX_BYTES, f"{n} images of {model.image_shape} exceed {MAX_BYTES} pixels: "
                                   f"ask for fewer")

    def _walk(self, model: Model, path: np.ndarray, scores: bool) -> dict:
        self._bounded(model, len(path))
        w = core.walk(model, path, scorers(self.digit_net if scores and self._judged(model) else None))
        return {"images": images_payload(w.images),
                **{k: v.tolist() if k == "digit" else _floats(v) for k, v in w.scores.items()}}

    def decode(self, name: str, z, scores: bool = False) -> dict:
        """Decode latent points (n, d), each with its norm, prior density and sharpness; with `scores`, also the
        classifier's digit, confidence and entropy."""
        model = self.model(name)
        z = self._latent(model, z, "z", rows=True)
        require(len(z) <= MAX_BATCH, f"at most {MAX_BATCH} points per request, got {len(z)}")
        return self._walk(model, z, scores)

    def endpoints(self, name: str, seed: int) -> dict:
        """Two prior samples on the sqrt(d) shell from the walk core's seeded generator: seed 0 gives the first
        pair the report's interpolation figure walks."""
        model = self.model(name)
        require(is_int(seed) and 0 <= seed < 2 ** 32, f"seed must be an integer in 0..{2 ** 32 - 1}")
        a, b = core.prior_pairs(model.latent_dim, 1, seed)[0]
        return {"a": _floats(a, 6), "b": _floats(b, 6)}

    def interpolate(self, name: str, a, b, steps: int = 101, methods: list[str] | None = None) -> dict:
        """lerp, slerp, nlerp and the geodesic from a to b: decoded, with the norm and the classifier's scores
        per step, and the roughness at each step (ppl.local) with its trimmed mean, the path's own path length."""
        model = self.model(name)
        methods = core.methods_of(model) if methods is None else methods
        a, b = self._latent(model, a, "a", rows=False), self._latent(model, b, "b", rows=False)
        core.check_steps(steps, 2, MAX_STEPS)
        t = np.linspace(0, 1, steps)
        rows = {}
        for m, curve in core.curves(model, methods, np.stack([a, b])[None]).items():    # a geodesic solved once
            rows[m] = self._walk(model, curve.evenly(steps)[0], True)
            if self._judged(model):
                local = ppl.local(model, self.digit_net, curve, t[None])[0]
                rows[m].update(roughness=_floats(local), ppl=round(ppl.trimmed_mean(local), 4))
        return {"t": _floats(t), "sqrt_d": float(np.sqrt(model.latent_dim)), "rows": rows}

    def vector(self, name: str, spec: str) -> dict:
        """The attribute vector `spec` (3to8, thickness, slant) of a model, from the codes of its training
        images: computed on first request (a second or two), then kept."""
        entry = self.entry(name)
        require(isinstance(spec, str) and len(spec) <= 32, "vector must be a short name like 3to8 or thickness")
        if spec not in entry.vectors:
            images, labels = entry.source.train_data()
            v = attributes.vector(entry.model, spec, images, labels)
            entry.vectors[spec] = {"vector": _floats(v, 6), "norm": round(float(np.linalg.norm(v)), 4),
                                   "images": len(images)}
        return entry.vectors[spec]

    def measure(self, name: str) -> dict:
        """Measure a model now with small counts (QUICK_N samples per row, QUICK_PATHS paths) and return what its
        card shows: stored in its run folder as `latentwalk measure` does, or, for an outside model, kept in
        memory while the server runs."""
        entry = self.entry(name)
        require(self.digit_net is not None, "this explorer was started with --no-classifier: the measures need the "
                                        "digit classifier's features")
        source = entry.source
        n = min(QUICK_N, len(source.test_data()[0]))
        which = samplers.SAMPLERS if source.can_encode else ("prior",)
        rows = model_measures.measure(source, which, n=n, paths=QUICK_PATHS, geodesic_paths=QUICK_GEODESICS,
                             log=lambda s: None)
        sha = source.model.weights_sha256 if source.run is not None else ""
        if source.run is not None and checkpoint.weights_sha256(source.run) == sha:
            entry.info["measures"] = measures(source)           # stored in the run folder, as `measure` stores
        else:       # an outside model, or a run trained on since the server loaded it: the card keeps them
            counts = ppl.path_counts(QUICK_PATHS, QUICK_GEODESICS)
            lengths = {m: (v, counts[m]) for m, v in rows[-1]["ppl"].items()}
            entry.info["measures"] = {"record": stored.merged(entry.info["measures"]["record"], rows, lengths, sha),
                                      "error": None}
        return entry.info["measures"]

    def sphere_walk(self, name: str, steps: int = 300, loops: int = 10) -> dict:
        """A walk on the sqrt(d) sphere: decoded frames, norms, confidence and the first four coordinates."""
        model = self.model(name)
        d = model.latent_dim
        require(d >= 2, f"a sphere walk needs d >= 2; {name} has z = {d}")
        core.check_steps(steps, 2, MAX_STEPS)
        core.check_steps(loops, 1, MAX_LOOPS, "loops")
        path = paths.sphere_walk(d, steps, loops)
        return {"sqrt_d": float(np.sqrt(d)), "coords": _floats(path[:, :4]), **self._walk(model, path, True)}

