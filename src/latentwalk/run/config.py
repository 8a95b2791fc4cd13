"""The settings of a training run besides the model's: which data, and how to train on it."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import is_int, require
from ..models.autoencoder import ModelConfig


@dataclass(frozen=True)
class DataConfig:
    name: str = "mnist"                    # a named data set, an .npz file or an image folder
    binarize: bool = False                 # dynamic binarization: a fresh Bernoulli draw each time an image is used
    greyscale: bool | None = None          # True/False converts colour; None keeps the source's channels
    size: tuple[int, int] | None = None    # (H, W) resize
    fingerprint: str = ""                  # content hash of the training images, filled in when training starts

    def __post_init__(self):
        if self.size is not None:
            object.__setattr__(self, "size", tuple(self.size))
        require(isinstance(self.name, str) and self.name != "", "data must be a non-empty name or path")
        require(isinstance(self.binarize, bool), f"binarize must be true or false, got {self.binarize!r}")
        require(self.greyscale in (None, True, False), "greyscale must be true, false or null")
        require(self.size is None or (len(self.size) == 2 and all(is_int(s) and 1 <= s <= 4096 for s in self.size)),
               f"size must be two integers (H, W) in 1..4096, got {self.size!r}")
        require(isinstance(self.fingerprint, str), "fingerprint must be a string")


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 20
    batch_size: int = 128
    lr: float = 1e-3
    lr_schedule: str = "anneal"            # "anneal" | "constant" | "cosine": see lr_at
    kl_warmup: int = 0                     # epochs over which the KL weight rises linearly from 0 (0: no warm-up)
    seed: int = 0
    device: str = "auto"                   # "auto" (CUDA, then MPS, then CPU), "cpu", "cuda", "cuda:N", "mps"

    def __post_init__(self):
        require(is_int(self.epochs) and 1 <= self.epochs <= 100_000, f"epochs must be an integer in 1..100000, "
                                                                      f"got {self.epochs!r}")
        require(is_int(self.batch_size) and 1 <= self.batch_size <= 1 << 20,
               f"batch size must be a positive integer, got {self.batch_size!r}")
        require(isinstance(self.lr, (int, float)) and not isinstance(self.lr, bool) and math.isfinite(self.lr)
               and self.lr > 0, f"learning rate must be a finite number > 0, got {self.lr!r}")
        require(self.lr_schedule in ("constant", "anneal", "cosine"),
                f"lr schedule must be anneal, constant or cosine, got {self.lr_schedule!r}")
        require(is_int(self.kl_warmup) and 0 <= self.kl_warmup <= 100_000,
                f"KL warm-up must be an integer number of epochs in 0..100000, got {self.kl_warmup!r}")
        require(is_int(self.seed) and 0 <= self.seed < 2 ** 63, f"seed must be an integer >= 0, got {self.seed!r}")
        require(isinstance(self.device, str), f"device must be a string, got {self.device!r}")

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
class RunConfig:
    model: ModelConfig
    data: DataConfig
    train: TrainConfig
