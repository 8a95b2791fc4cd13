"""Decode latent paths in batches and put numbers on every point of them.

A walk is a path (steps, d), its decoded images (steps, C, H, W) and per-point scores:

    norm           |z|, to compare with the prior's typical shell sqrt(d)
    prior_logpdf   log N(z; 0, I)
    digit          the digit classifier's prediction for the decoded image
    confidence     its probability: near 1 for a clean digit, low for junk or blends
    entropy        of the prediction, in nats (0: certain, log 10 = 2.30: no idea)
    sharpness      variance of the image's Laplacian: high for crisp strokes, low for blur
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from . import atomic, classifier, geometry
from .models import AutoEncoder

_LAPLACIAN = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]]).view(1, 1, 3, 3)


@torch.no_grad()
def decode(model: AutoEncoder, path: np.ndarray | torch.Tensor, batch_size: int = 4096) -> np.ndarray:
    """Decode a path (steps, d) into images (steps, C, H, W), float32 in [0, 1]."""
    z = torch.as_tensor(np.asarray(path), dtype=torch.float32)
    out = [model.decode(z[i:i + batch_size]).cpu() for i in range(0, len(z), batch_size)]
    if len(out) <= 1:                                   # one batch (or none): no copy
        return out[0].numpy() if out else np.zeros((0, *model.config.image_shape), np.float32)
    return torch.cat(out).numpy()


@torch.no_grad()
def sharpness(images: np.ndarray) -> np.ndarray:
    """Variance of the Laplacian of each image (grey levels in [0, 1]): the standard focus measure."""
    x = torch.as_tensor(images, dtype=torch.float32).mean(1, keepdim=True)
    return F.conv2d(x, _LAPLACIAN).flatten(1).var(1).numpy()


@dataclass
class Walk:
    path: np.ndarray                 # (steps, d)
    images: np.ndarray               # (steps, C, H, W) in [0, 1]
    scores: dict[str, np.ndarray]    # each (steps,)


def score(path: np.ndarray, images: np.ndarray, judge: classifier.DigitNet | None) -> dict[str, np.ndarray]:
    """Per-point scores of a decoded path (the classifier's only when a judge is given)."""
    path = np.asarray(path, dtype=np.float64)
    scores = {"norm": np.linalg.norm(path, axis=1), "prior_logpdf": geometry.prior_logpdf(path)}
    if judge is not None:
        scores.update({k: v.numpy() for k, v in classifier.judge(judge, images).items()})
    scores["sharpness"] = sharpness(images)
    return scores


def walk(model: AutoEncoder, path: np.ndarray, judge: classifier.DigitNet | None = None) -> Walk:
    """Decode a path in batches and score every point."""
    images = decode(model, path)
    return Walk(np.asarray(path, dtype=np.float64), images, score(path, images, judge))


def write_scores(columns: dict[str, np.ndarray], csv_path: str | Path) -> list[Path]:
    """Write per-point scores (and the path's coordinates, if given as z0, z1 …) as CSV and JSON side by side."""
    csv_path = Path(csv_path)
    names = list(columns)
    rows = np.column_stack([np.asarray(columns[k], dtype=np.float64) for k in names])
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["step", *names])
    for i, row in enumerate(rows):
        w.writerow([i, *(int(v) if k == "digit" else f"{v:.6g}" for k, v in zip(names, row))])
    atomic.write_text(csv_path, buf.getvalue())
    json_path = csv_path.with_suffix(".json")
    atomic.write_text(json_path, json.dumps({k: np.asarray(v).tolist() for k, v in columns.items()}))
    return [csv_path, json_path]
