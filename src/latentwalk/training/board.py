"""TensorBoard for a training run (`latentwalk train --tensorboard`): `tensorboard --logdir runs/` shows it.

Into `RUN/tensorboard/`, through torch's own SummaryWriter:

    scalars     every epoch, the numbers of its metrics.jsonl row: train/ and test/ −ELBO, reconstruction and
                KL; schedule/lr and schedule/kl_weight (β times the warm-up's factor); speed/samples_per_s
    images      on the first, every IMAGES_EVERY-th and the last epoch: test images above their reconstructions,
                and decoded prior samples of fixed codes (the same codes each time, so the grid shows learning)
    projector   after the last epoch: the codes of the first PROJECTED test images, with their labels and a
                sprite of the images, for the Embedding Projector

Every run opens the writer with `purge_step` at its first new epoch: events an interrupted run wrote past its
last checkpoint are dropped, so the curves continue without repeated steps. A run resumed where tensorboard is
not installed trains on without its logs, and says so.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch

from ..errors import ConfigError
from ..models.autoencoder import AutoEncoder

FOLDER = "tensorboard"
IMAGES_EVERY = 5
SHOWN = 8             # test images with their reconstructions
SAMPLES = 16          # decoded prior samples
PROJECTED = 1000      # test codes in the projector
ZOOM = 2              # TensorBoard shows an image at its own size: 28-pixel digits are too small to read
SCALARS = {"train/neg_elbo": "train_neg_elbo", "train/recon": "train_recon", "train/kl": "train_kl",
           "test/neg_elbo": "test_neg_elbo", "test/recon": "test_recon", "test/kl": "test_kl",
           "schedule/lr": "lr", "speed/samples_per_s": "samples_per_s"}


def available() -> bool:
    """Whether the tensorboard package (which torch's SummaryWriter needs) is installed."""
    return importlib.util.find_spec("tensorboard") is not None


def require() -> None:
    if not available():
        raise ConfigError("`tensorboard` needs the tensorboard package: pip install 'latentwalk[tensorboard]'")


def tile(images: torch.Tensor, columns: int, zoom: int = ZOOM) -> torch.Tensor:
    """(n, C, H, W) -> one image (C, rows H, columns W), each pixel `zoom` x `zoom`, with a white line between
    tiles. (torchvision's make_grid does this; it is not a dependency, and these few lines spare it.)"""
    images = images.repeat_interleave(zoom, 2).repeat_interleave(zoom, 3)
    n, c, h, w = images.shape
    rows = -(-n // columns)
    grid = torch.ones(c, rows * (h + 1) - 1, columns * (w + 1) - 1)
    for k, image in enumerate(images):
        r, q = divmod(k, columns)
        grid[:, r * (h + 1):r * (h + 1) + h, q * (w + 1):q * (w + 1) + w] = image
    return grid


class Board:
    """The TensorBoard writer of one run (rank 0 only)."""

    def __init__(self, run_dir: Path, start_epoch: int, test_x: torch.Tensor, test_y: torch.Tensor | None,
                 latent_dim: int):
        require()
        from torch.utils.tensorboard import SummaryWriter
        self.writer = SummaryWriter(str(run_dir / FOLDER), purge_step=start_epoch)
        self.test_x, self.test_y = test_x[:PROJECTED], (test_y[:PROJECTED] if test_y is not None else None)
        self.z = torch.randn(SAMPLES, latent_dim, generator=torch.Generator().manual_seed(0))

    def epoch(self, row: dict, beta: float, model: AutoEncoder, last: int) -> None:
        """Write an epoch's scalars (and, on the epochs that show them, its image grids)."""
        e = row["epoch"]
        for tag, key in SCALARS.items():
            self.writer.add_scalar(tag, row[key], e)
        self.writer.add_scalar("schedule/kl_weight", beta * row["kl_scale"], e)
        if e == 1 or e % IMAGES_EVERY == 0 or e == last:
            x = self.test_x[:SHOWN].float() / 255
            shown = torch.cat([x, model.reconstruct(x).cpu()])
            self.writer.add_image("reconstructions (top: test images)", tile(shown, SHOWN), e)
            self.writer.add_image("prior samples", tile(model.decode(self.z).cpu(), SAMPLES // 2), e)
        self.writer.flush()

    def project(self, model: AutoEncoder, epoch: int) -> None:
        """The test codes with their labels and images, for the Embedding Projector."""
        codes = model.encode(self.test_x).cpu()
        labels = self.test_y.tolist() if self.test_y is not None else None
        self.writer.add_embedding(codes, metadata=labels, label_img=self.test_x.float() / 255, global_step=epoch,
                                  tag="test codes")

    def close(self) -> None:
        self.writer.close()
