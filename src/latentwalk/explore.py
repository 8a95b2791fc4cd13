"""Decode latent paths in batches: one forward pass per batch, never one per point."""

from __future__ import annotations

import numpy as np
import torch

from .models import AutoEncoder


@torch.no_grad()
def decode(model: AutoEncoder, path: np.ndarray | torch.Tensor, batch_size: int = 4096) -> np.ndarray:
    """Decode a path (steps, d) into images (steps, C, H, W), float32 in [0, 1]."""
    z = torch.as_tensor(np.asarray(path), dtype=torch.float32)
    out = [model.decode(z[i:i + batch_size]).cpu() for i in range(0, len(z), batch_size)]
    return torch.cat(out).numpy() if out else np.zeros((0, *model.config.image_shape), np.float32)
