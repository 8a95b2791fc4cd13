"""The settings of a training run: the model's (models/), the data's (data/), how to train, and how this machine
trains (not stored with the run)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..data.config import DataConfig
from ..models.autoencoder import ModelConfig
from ..settings import boolean, integer, positive_number, setting, text, validate

PRECISIONS = ("auto", "float32", "bf16", "fp16")      # see training/precision.py
LR_SCHEDULES = ("anneal", "constant", "cosine")


@dataclass(frozen=True)
class TrainConfig:
    """How a run trains: epochs, batches, the optimiser's schedule, the seed. Each field is a setting."""
    epochs: int = setting(20, "--epochs", "passes over the training set (default {default})",
                          check=integer(1, 100_000))
    batch_size: int = setting(128, "--batch-size", "images per step (default {default})", check=integer(1, 1 << 20))
    lr: float = setting(1e-3, "--lr", "Adam learning rate (default {default})", check=positive_number)
    lr_schedule: str = setting("anneal", "--lr-schedule", "anneal (default: constant, then down linearly over the "
                               "last fifth of the epochs), constant, or cosine: from --lr down to 0 over the epochs",
                               choices=LR_SCHEDULES)
    kl_warmup: int = setting(0, "--kl-warmup", "raise the KL weight linearly from 0 over the first EPOCHS epochs "
                             "(default {default}: none)", check=integer(0, 100_000), metavar="EPOCHS")
    seed: int = setting(0, "--seed", "seed of initialisation, shuffling and noise (default {default})",
                        check=integer(0, 2 ** 63 - 1))
    device: str = setting("auto", "--device", "auto (default), cpu, cuda, cuda:N or mps", check=text)

    def __post_init__(self):
        validate(self)

    def lr_at(self, epoch: int) -> float:
        """The learning rate of a (1-based) epoch: a function of the epoch alone, so resume replays it.

        "anneal" holds `lr`, then steps it down linearly over the last fifth of the epochs (to lr/(k+1) in the
        last of k); "cosine" falls from `lr` to 0 over all of them. Measured on the post's VAEs (20 epochs,
        batch 128, benchmarks/RESULTS.md): the annealed tail ends 0.3-1.0 nats below a constant rate, while a
        cosine over the whole run ends above it (the rate falls before these models have finished learning).
        """
        if self.lr_schedule == "constant":
            return self.lr
        if self.lr_schedule == "anneal":
            tail = math.ceil(self.epochs / 5)
            return self.lr * min(1.0, (self.epochs + 1 - epoch) / (tail + 1))
        return self.lr * 0.5 * (1 + math.cos(math.pi * (epoch - 1) / self.epochs))

    def kl_scale_at(self, epochs_done: float) -> float:
        """The factor on the KL weight after `epochs_done` (fractional) epochs: a linear warm-up from 0 to 1
        (Bowman et al. 2016, Sonderby et al. 2016), which keeps more latent units active."""
        return 1.0 if self.kl_warmup == 0 else min(1.0, epochs_done / self.kl_warmup)


@dataclass(frozen=True)
class TrainOptions:
    """How this process trains: options of the machine, not of the run (not in config.json; each may change on
    resume). Each epoch records the precision it trained in."""
    precision: str = setting("auto", "--precision", "auto (default): bf16 autocast where the hardware computes it "
                             "natively, else float32; fp16 needs a GPU", choices=PRECISIONS)
    compile: bool = setting(False, "--compile", "train through torch.compile", check=boolean)
    tensorboard: bool = setting(False, "--tensorboard", "log scalars, image grids and the test codes to "
                                "OUT/tensorboard (see them with `tensorboard --logdir runs/`); a resumed run that "
                                "has them goes on logging", check=boolean)
    progress: bool = setting(True, check=boolean)      # a progress bar for each epoch

    def __post_init__(self):
        validate(self)


@dataclass(frozen=True)
class RunConfig:
    model: ModelConfig
    data: DataConfig
    train: TrainConfig
