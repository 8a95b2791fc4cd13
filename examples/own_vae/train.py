"""Train own_vae.vae.VAE on MNIST: `python -m own_vae.train [--epochs 10] [--mnist FOLDER]`."""

import argparse
import gzip
import os
from pathlib import Path

import numpy as np
import torch

from .vae import VAE, WEIGHTS


def read_images(path: Path) -> torch.Tensor:
    """An MNIST IDX image file (gzip) -> float32 (n, 1, 28, 28) in [0, 1]."""
    raw = gzip.decompress(path.read_bytes())
    return torch.from_numpy(np.frombuffer(raw, np.uint8, offset=16).copy()).view(-1, 1, 28, 28).float() / 255


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--mnist", type=Path, default=Path(__file__).resolve().parents[2] / "src" / "latentwalk" / "data" / "mnist",
                   help="folder of the MNIST IDX files (default: the copy in this repository)")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--limit", type=int, help="train on the first N images only")
    args = p.parse_args()

    torch.manual_seed(0)
    x = read_images(args.mnist / "train-images-idx3-ubyte.gz")[:args.limit]
    model = VAE()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(1, args.epochs + 1):
        total = 0.0
        for idx in torch.randperm(len(x)).split(128):
            loss = model(x[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        print(f"epoch {epoch}: -ELBO {total / len(x):.2f} nats")
    tmp = WEIGHTS.with_suffix(".tmp")
    torch.save(model.state_dict(), tmp)
    os.replace(tmp, WEIGHTS)        # a killed run leaves the old weights whole
    print(f"wrote {WEIGHTS}")


if __name__ == "__main__":
    main()
