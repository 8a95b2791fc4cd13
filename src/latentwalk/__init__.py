"""latentwalk: train auto-encoders and VAEs, walk their latent spaces, and measure what you see.

    import latentwalk
    model = latentwalk.load("runs/vae2")                  # a trained run folder
    images, labels = latentwalk.datasets.load("mnist", split="test")
    z = model.encode(images[:8])                          # (8, d) posterior means
    x = model.decode(z)                                   # (8, 1, 28, 28) pixel probabilities
    path = latentwalk.paths.slerp(z[0].numpy(), z[1].numpy(), steps=10)   # (10, d)

The package follows the flow of the work, one folder per stage: data -> models -> training -> run (the run
folder on disk) -> walk -> measure -> figures -> report and explorer, with cli.py on top.
"""

from . import datasets, geometry, paths
from .errors import LatentwalkError
from .run.checkpoint import load
from .version import __version__

__all__ = ["__version__", "datasets", "geometry", "paths", "load", "LatentwalkError"]
