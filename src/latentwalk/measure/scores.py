"""Per-image scores, as scorers for the walk core (`images -> {name: (n,) array}`).

    digit, confidence, entropy   the digit classifier's prediction, its probability, and the entropy of the
                                 prediction in nats (0: certain, log 10 = 2.30: no idea)
    sharpness                    variance of the image's Laplacian: high for crisp strokes, low for blur
"""

from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional as F

from . import classifier

CONFIDENT = 0.9   # a decoded image "is a digit" when the classifier gives it at least this probability
_LAPLACIAN = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]]).view(1, 1, 3, 3)


@torch.no_grad()
def sharpness(images: np.ndarray) -> dict[str, np.ndarray]:
    """Variance of the Laplacian of each image (grey levels in [0, 1]): the standard focus measure."""
    x = torch.as_tensor(images, dtype=torch.float32).mean(1, keepdim=True)
    return {"sharpness": F.conv2d(x, _LAPLACIAN).flatten(1).var(1).numpy()}


def scorers(digit_net: classifier.DigitNet | None) -> list:
    """The image scorers of every figure, report and explorer answer: the classifier's (when a classifier is
    given), then sharpness."""
    if digit_net is None:
        return [sharpness]
    return [lambda images: {k: v.numpy() for k, v in classifier.judge(digit_net, images).items()}, sharpness]


def confident_share(confidence: np.ndarray) -> float:
    """The share of images the classifier is sure of (confidence >= CONFIDENT)."""
    return float((np.asarray(confidence) >= CONFIDENT).mean())
