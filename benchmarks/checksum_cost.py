"""What checking a run folder's checksums costs: the share of `latentwalk.load` (the weights) and of a
resume's `restore_state` (train_state: the weights and Adam's two moments) spent on the check, the CRC-32 of
each tensor (ours), and what a SHA-256 of the same bytes would cost instead (reference), in the same run, for
the demo's largest model and two larger MLPs. Target: the check a small share of loading.

Each model is a real run folder (1 epoch on 1,000 MNIST digits). Each time is the best of 20, warm (the files
in the page cache, as when a run is loaded again: the check is then the largest share it can be).

    python benchmarks/checksum_cost.py
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file

from latentwalk import DataConfig, ModelConfig, TrainConfig, fit
from latentwalk.data import datasets
from latentwalk.models.autoencoder import build
from latentwalk.run import checkpoint

MODELS = {"784-200-200-500 (the demo's vae500)": (200, 200), "784-1000-1000-500": (1000, 1000),
          "784-4000-4000-500": (4000, 4000)}


def best(fn, repeat: int = 20) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def checked_state(run: Path, cfg):
    model = build(cfg.model)
    optimizer = torch.optim.Adam(model.parameters())
    return checkpoint.restore_state(run, cfg, model, optimizer)


def sha256(tensors: dict[str, torch.Tensor]) -> str:
    digest = hashlib.sha256()
    for name in sorted(tensors):
        digest.update(tensors[name].contiguous().reshape(-1).view(torch.uint8).numpy())
    return digest.hexdigest()


def main() -> None:
    images, labels = datasets.load("mnist", "train")
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "digits.npz"
        np.savez(data, x=images[:1000, 0].numpy(), y=labels[:1000].numpy())
        print(f"{'model':38} {'MB':>6} {'load ms':>8} {'CRC ms':>7} {'share':>6} {'SHA ms':>7} {'resume ms':>9} "
              f"{'CRC ms':>7} {'share':>6} {'SHA ms':>7}")
        for name, hidden in MODELS.items():
            run = fit(Path(tmp) / str(hidden[0]), ModelConfig(latent_dim=500, hidden=hidden), DataConfig(str(data)),
                      TrainConfig(epochs=1, device="cpu"), log=lambda s: None, progress=False)
            cfg = checkpoint.load_config(run)
            mb = (run / checkpoint.WEIGHTS).stat().st_size / 1e6
            cells = []
            for load, file in ((lambda: checkpoint.load(run), checkpoint.WEIGHTS),
                               (lambda: checked_state(run, cfg), checkpoint.STATE)):
                tensors = load_file(run / file)
                total = best(load)
                crc, sha = best(lambda: checkpoint.tensor_checksums(tensors)), best(lambda: sha256(tensors))
                cells.append(f"{total * 1e3:9.1f} {crc * 1e3:7.1f} {crc / total:6.0%} {sha * 1e3:7.1f}")
            print(f"{name:38} {mb:6.1f} {cells[0][1:]} {cells[1]}")

if __name__ == "__main__":
    main()
