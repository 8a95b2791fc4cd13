"""Train the digit classifier that latentwalk ships as its digit_net and feature network, and write its weights.

    python tools/train_feature_net.py          # writes src/latentwalk/measure/mnist_digitnet.safetensors

Seeded (0), three epochs of Adam on the bundled MNIST training set, about a minute on two CPU cores. It prints
the file's SHA-256 and the test accuracy: put both into src/latentwalk/measure/classifier.py (SHA256,
TEST_ACCURACY), so that every measure names the network it was computed with. The same machine gives the same
bytes; another machine (other kernels) may give other bytes and a slightly different network, which is why
the package ships the file instead of training it where it runs.
"""

import argparse
import hashlib
from pathlib import Path

import torch
from safetensors.torch import save
from torch.nn import functional as F

from latentwalk import atomic
from latentwalk.data import datasets
from latentwalk.measure import classifier


def train(epochs: int, limit: int | None, log=print) -> classifier.DigitNet:
    torch.manual_seed(0)
    images, labels = datasets.load("mnist", "train")
    images, labels = images[:limit], labels[:limit]
    net = classifier.DigitNet()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    schedule = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.3)
    g = torch.Generator().manual_seed(0)
    for epoch in range(epochs):
        order = torch.randperm(len(images), generator=g)
        for i in range(0, len(images), 64):
            idx = order[i:i + 64]
            loss = F.cross_entropy(net(datasets.to_float(images[idx])), labels[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        schedule.step()
        log(f"epoch {epoch + 1}/{epochs} done")
    return net.eval()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--limit", type=int, help="train on the first N training images only (a quick check)")
    p.add_argument("--out", type=Path, default=classifier.FILE)
    args = p.parse_args()
    net = train(args.epochs, args.limit)
    data = save({k: v.contiguous() for k, v in net.state_dict().items()})
    atomic.write_bytes(args.out, data)
    images, labels = datasets.load("mnist", "test")
    print(f"wrote {args.out}")
    print(f'SHA256 = "{hashlib.sha256(data).hexdigest()}"')
    print(f"TEST_ACCURACY = {classifier.accuracy(net, images, labels):.4f}")


if __name__ == "__main__":
    main()
