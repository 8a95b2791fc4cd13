"""latentwalk: train auto-encoders and VAEs, walk their latent spaces, and measure what you see.

    import latentwalk
    model = latentwalk.load("runs/vae2")                  # a trained run folder
    images, labels = latentwalk.datasets.load("mnist", split="test")
    z = model.encode(images[:8])                          # (8, d) posterior means
    x = model.decode(z)                                   # (8, 1, 28, 28) pixel probabilities
    path = latentwalk.paths.slerp(z[0].numpy(), z[1].numpy(), steps=10)   # (10, d)
"""

__version__ = "0.1.0"

from . import datasets, geometry, paths  # noqa: E402
from .checkpoint import load  # noqa: E402
from .errors import LatentwalkError  # noqa: E402

__all__ = ["__version__", "datasets", "geometry", "paths", "load", "LatentwalkError"]
