"""Shared fixtures: small real data (slices of the bundled MNIST) and small trained runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from latentwalk import classifier, datasets
from latentwalk.models import ModelConfig
from latentwalk.runconfig import DataConfig, TrainConfig
from latentwalk.train import fit

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def mnist_train():
    return datasets.load("mnist", "train")


@pytest.fixture(scope="session")
def small_npz(tmp_path_factory, mnist_train) -> Path:
    """2,000 real MNIST digits with labels, as an npz data set (a tenth is held out as its test split)."""
    images, labels = mnist_train
    path = tmp_path_factory.mktemp("data") / "mnist2k.npz"
    np.savez(path, x=images[:2000, 0].numpy(), y=labels[:2000].numpy())
    return path


def train_small(out: Path, data: Path, epochs: int = 2, **model) -> Path:
    """A quick real training run on the small data set (seconds)."""
    cfg = {"latent_dim": 2, "hidden": (64, 32), **model}
    return fit(out, ModelConfig(**cfg), DataConfig(str(data)),
               TrainConfig(epochs=epochs, batch_size=64, seed=0, device="cpu"), log=lambda s: None)


@pytest.fixture(scope="session")
def small_run(tmp_path_factory, small_npz) -> Path:
    return train_small(tmp_path_factory.mktemp("runs") / "vae", small_npz, epochs=3, latent_dim=4)


@pytest.fixture(scope="session")
def cache(tmp_path_factory):
    """A cache folder of this test session's own: the classifier is trained there once."""
    path = tmp_path_factory.mktemp("cache")
    mp = pytest.MonkeyPatch()
    mp.setenv("LATENTWALK_CACHE", str(path))
    yield path
    mp.undo()


@pytest.fixture(scope="session")
def judge(cache):
    return classifier.load(cache, log=lambda s: None)
