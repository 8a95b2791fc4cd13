"""latentwalk: train auto-encoders and VAEs, walk their latent spaces, and measure what you see.

    import latentwalk as lw
    lw.fit("runs/vae2", lw.ModelConfig(latent_dim=2), lw.DataConfig("mnist"), lw.TrainConfig(epochs=20))
    model = lw.load("runs/vae2")                            # a trained run folder, in eval mode
    images, labels = lw.datasets.load("mnist", split="test")
    z = model.encode(images[:8])                            # (8, d) posterior means
    walk = lw.walk_path(model, lw.paths.slerp(z[0].numpy(), z[1].numpy(), 10), lw.scorers(lw.classifier()))
    rows = lw.measure_model("runs/vae2", n=1000)            # Fréchet distance, precision/recall, path length

Every public name loads on first use, so `import latentwalk` imports neither matplotlib nor FastAPI; none is the
name of a subpackage (`latentwalk.walk`, `.measure`, `.figures` are the stages' folders). The package
follows the flow of the work, one folder per stage: data -> models -> training -> run (the run folder on disk)
-> walk -> measure -> figures -> report and explorer, with cli.py on top.

The public API:
"""

from __future__ import annotations

import importlib

from .errors import LatentwalkError
from .version import __version__

# name -> (module, attribute or None for the module itself, what it is)
_PUBLIC = {
    "fit": ("latentwalk.training.fit", "fit", "train a model into a run folder, or continue one (resume=True)"),
    "ModelConfig": ("latentwalk.models.autoencoder", "ModelConfig", "the network's settings (kind, latent_dim, …)"),
    "DataConfig": ("latentwalk.data.config", "DataConfig", "which images a run trains on"),
    "TrainConfig": ("latentwalk.run.config", "TrainConfig", "epochs, batch size, learning rate, seed"),
    "TrainOptions": ("latentwalk.run.config", "TrainOptions", "precision, compile, tensorboard: this machine's"),
    "load": ("latentwalk.run.checkpoint", "load", "a trained run folder as a model in eval mode"),
    "datasets": ("latentwalk.data.datasets", None, "data sets as uint8 tensors: datasets.load(name, split)"),
    "paths": ("latentwalk.walk.paths", None, "latent paths as (steps, d) arrays: grid, spiral, lerp, slerp, …"),
    "geometry": ("latentwalk.walk.geometry", None, "high-dimensional geometry in closed form"),
    "walk_path": ("latentwalk.walk.core", "walk", "decode a path and score every point: a Walk"),
    "Walk": ("latentwalk.walk.core", "Walk", "a decoded path: its points, images and scores"),
    "curves": ("latentwalk.walk.core", "curves", "lerp, slerp, nlerp and geodesic curves between endpoints"),
    "geodesic": ("latentwalk.walk.geodesic", None, "shortest paths under the decoder's metric"),
    "arithmetic": ("latentwalk.walk.arithmetic", None, "attribute vectors and analogies on codes"),
    "classifier": ("latentwalk.measure.classifier", "load", "the shipped MNIST digit classifier"),
    "scorers": ("latentwalk.measure.scores", "scorers", "the per-image scores a walk takes"),
    "evaluate": ("latentwalk.measure.evaluate", "evaluate", "test -ELBO, IWAE bound, active units"),
    "measure_model": ("latentwalk.measure.model_measures", "measure", "sample and path measures of a model, as rows"),
    "gallery": ("latentwalk.figures.gallery", None, "every figure of the post, as pictures in memory"),
    "serve": ("latentwalk.explorer.server", "serve", "the live explorer over run folders (needs FastAPI)"),
}

__doc__ += "\n".join(f"- `{name}`: {what}" for name, (_, _, what) in _PUBLIC.items()) + """
- `LatentwalkError`: the base of every error a user can cause (its message says what to do)
"""
__all__ = ["__version__", "LatentwalkError", *_PUBLIC]


def __getattr__(name: str):
    if name not in _PUBLIC:
        raise AttributeError(f"module 'latentwalk' has no attribute {name!r}")
    module, attribute, _ = _PUBLIC[name]
    value = importlib.import_module(module)
    value = value if attribute is None else getattr(value, attribute)
    globals()[name] = value             # loaded once
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))
