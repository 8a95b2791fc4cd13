"""A small MNIST digit classifier: the judge of decoded images (which digit, how sure, how confused).

Trained once on the bundled MNIST (three epochs, one to two minutes on two CPU cores; 98.9% test
accuracy) and cached as safetensors in the cache folder; retrained when the file is missing or damaged.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn
from torch.nn import functional as F

from .. import atomic
from ..data import datasets

FILE = "mnist-classifier-v2.safetensors"
IMAGE_SHAPE = (1, 28, 28)     # what it was trained on: its verdicts mean something for images of this shape
SEED = 0
EPOCHS = 3


class DigitNet(nn.Module):
    """Two conv layers and two dense ones: (n, 1, 28, 28) in [0, 1] -> (n, 10) logits."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1)    # (n, 32, 28, 28) -> pool -> 14
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)   # (n, 64, 14, 14) -> pool -> 7
        self.fc1 = nn.Linear(64 * 7 * 7, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc2(F.relu(self.fc1(x.flatten(1))))


def _train(log) -> DigitNet:
    torch.manual_seed(SEED)
    images, labels = datasets.load("mnist", "train")
    net = DigitNet()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    schedule = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.3)
    g = torch.Generator().manual_seed(SEED)
    for epoch in range(EPOCHS):
        order = torch.randperm(len(images), generator=g)
        for i in range(0, len(images), 64):
            idx = order[i:i + 64]
            loss = F.cross_entropy(net(datasets.to_float(images[idx])), labels[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        schedule.step()
        log(f"digit classifier: epoch {epoch + 1}/{EPOCHS} done")
    return net.eval()


@torch.no_grad()
def accuracy(net: DigitNet, images: torch.Tensor, labels: torch.Tensor) -> float:
    correct = sum((net(datasets.to_float(images[i:i + 2000])).argmax(1) == labels[i:i + 2000]).sum().item()
                  for i in range(0, len(images), 2000))
    return correct / len(images)


def load(directory: str | os.PathLike | None = None, log=print) -> DigitNet:
    """The cached classifier, training (and caching) it first if it is missing or unreadable."""
    path = Path(directory if directory is not None else datasets.cache_dir()) / FILE
    net = DigitNet()
    if path.is_file():
        try:
            net.load_state_dict(load_file(path))
            return net.eval()
        except (SafetensorError, OSError, RuntimeError, KeyError):
            log(f"{path} is unreadable: training the digit classifier again")
    else:
        log(f"training the digit classifier once (cached in {path})")
    net = _train(log)
    with atomic.atomic_path(path) as tmp:
        save_file({k: v.contiguous() for k, v in net.state_dict().items()}, tmp)
    return net


@torch.no_grad()
def judge(net: DigitNet, images: torch.Tensor | np.ndarray) -> dict[str, torch.Tensor]:
    """Per image: the predicted digit, its probability (confidence) and the entropy of the prediction (nats)."""
    x = torch.as_tensor(images, dtype=torch.float32)
    if tuple(x.shape[1:]) != (1, 28, 28):
        x = F.interpolate(x.mean(1, keepdim=True), size=(28, 28), mode="bilinear", antialias=True)
    log_p = torch.cat([F.log_softmax(net(x[i:i + 2000]), dim=1) for i in range(0, len(x), 2000)]) \
        if len(x) else torch.zeros(0, 10)
    p = log_p.exp()
    confidence, digit = p.max(1)
    return {"digit": digit, "confidence": confidence, "entropy": -(p * log_p).sum(1)}
