"""Figures of the post as functions: each takes arrays (or a model) and writes one image file."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .. import atomic  # noqa: E402


def mosaic(images: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Tile images (rows*cols, C, H, W) into one (rows*H, cols*W[, C]) array."""
    n, c, h, w = images.shape
    tiles = images.reshape(rows, cols, c, h, w).transpose(0, 3, 1, 4, 2).reshape(rows * h, cols * w, c)
    return tiles[..., 0] if c == 1 else tiles


def save(fig: plt.Figure, path: str | Path, dpi: int = 100) -> Path:
    """Write a figure atomically (the format follows the suffix) and close it."""
    path = Path(path)
    with atomic.atomic_path(path) as tmp:
        fig.savefig(tmp, format=path.suffix.lstrip(".") or "png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return path


def latent_grid(images: np.ndarray, n: int, extent: tuple[float, float], path: str | Path,
                labels: tuple[str, str] = ("$z_1$", "$z_2$"), title: str = "") -> Path:
    """F2: the decoded n x n grid of the latent plane as one mosaic, with axes in z units."""
    lo, hi = extent
    half = (hi - lo) / (n - 1) / 2 if n > 1 else 0.5
    fig, ax = plt.subplots(figsize=(8, 8))
    ax.imshow(mosaic(images, n, n), cmap="gray", vmin=0, vmax=1, extent=(lo - half, hi + half, lo - half, hi + half),
              interpolation="nearest")
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    if title:
        ax.set_title(title)
    return save(fig, path)
