"""Samples per second of one MNIST training epoch: latentwalk's trainer against a typical PyTorch loop.

The reference is written the way most PyTorch code is: a per-sample `Dataset` that turns each uint8 image
into a float tensor, a `DataLoader` with shuffle=True, the same model trained through autograd on the same
loss, and Adam with its default settings. Ours is `latentwalk.training.fit.fit` itself (the epoch time it records).
Reference, ours and the floor run back to back in each repeat, and the medians of the per-repeat ratios
are reported: on a shared machine the speed drifts by 2x over minutes, ratios of neighbours much less.

The floor is the time the epoch's matrix products alone take at this machine's measured rate: the
forward, weight-gradient and input-gradient GEMM of every layer at the batch size, timed in isolation.

The step table times one training step each way it can be computed, on the same batches: autograd eager and
through torch.compile, each in float32 and under bf16 autocast, in seconds per 60,000 images at batch 128
(torch.compile's first step, its compilation, is timed apart). A hand-written backward pass was measured
beside them in commit 51c4325 and removed: it won by less than 1.2x in bf16 (benchmarks/RESULTS.md).

    python benchmarks/train_speed.py            # three configurations, 5 repeats each, then the step table
    python benchmarks/train_speed.py --repeats 1
    python benchmarks/train_speed.py --steps-only
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader, Dataset

from latentwalk.data import datasets
from latentwalk.run import checkpoint
from latentwalk.models import ModelConfig, build
from latentwalk.run.config import DataConfig, TrainConfig
from latentwalk.training.fit import fit

CONFIGS = [((200, 200), 2, 128), ((200, 200), 2, 32), ((400,), 20, 128)]   # hidden, z, batch
TARGETS = {128: 3.0, 32: 1.8}    # speed-up over the reference
FLOOR_FACTOR = 2.0               # ours within this factor of the floor, at batch 128


class PerSampleMNIST(Dataset):
    def __init__(self, images: torch.Tensor):
        self.images = images

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        return self.images[i].float() / 255.0


def reference_training(images: torch.Tensor, hidden, z: int, batch: int, epochs: int):
    """Yield (model, seconds) after each epoch of the reference loop: the time of that epoch's steps alone."""
    torch.manual_seed(0)
    model = build(ModelConfig(latent_dim=z, hidden=hidden))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loader = DataLoader(PerSampleMNIST(images), batch_size=batch, shuffle=True)
    for _ in range(epochs):
        model.train()
        t0 = time.perf_counter()
        for x in loader:
            opt.zero_grad()
            loss = model.loss(x)
            loss.neg_elbo.backward()
            opt.step()
        yield model, time.perf_counter() - t0


def reference_epoch(images: torch.Tensor, hidden, z: int, batch: int) -> float:
    return next(reference_training(images, hidden, z, batch, 1))[1]


def our_epoch(hidden, z: int, batch: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "run"
        fit(run, ModelConfig(latent_dim=z, hidden=hidden), DataConfig("mnist"),
            TrainConfig(epochs=1, batch_size=batch, device="cpu"), log=lambda s: None)
        return checkpoint.read_metrics(run)[0]["seconds"]


def floor_epoch(n: int, hidden, z: int, batch: int, reps: int = 200) -> tuple[float, float]:
    """(seconds of matrix products per epoch, GFLOP/s) for the model's GEMM shapes at this batch size."""
    sizes = [784, *hidden, 2 * z] + [z, *hidden[::-1], 784]
    layers = [(a, b) for a, b in zip(sizes, sizes[1:]) if (a, b) != (2 * z, z)]
    gemms = []
    for i, (a, b) in enumerate(layers):
        x, w, g = torch.randn(batch, a), torch.randn(b, a), torch.randn(batch, b)
        gemms.append((lambda x=x, w=w: x.mm(w.t()), 2 * batch * a * b))          # forward
        gemms.append((lambda x=x, g=g: g.t().mm(x), 2 * batch * a * b))          # weight gradient
        if i > 0:
            gemms.append((lambda w=w, g=g: g.mm(w), 2 * batch * a * b))          # input gradient
    for f, _ in gemms:
        f()
    t0 = time.perf_counter()
    for _ in range(reps):
        for f, _ in gemms:
            f()
    per_step = (time.perf_counter() - t0) / reps
    flops = sum(fl for _, fl in gemms)
    steps = -(-n // batch)
    return per_step * steps, flops / per_step / 1e9


def label(hidden, z: int) -> str:
    return "784-" + "-".join(map(str, hidden)) + f"-{z}"


def step_kinds(net, opt):
    """name -> step(x, eps): the ways one step can be computed."""
    def autograd(module, dtype):
        def step(x, eps):
            opt.zero_grad(set_to_none=True)
            with torch.autocast("cpu", dtype=dtype or torch.float32, enabled=dtype is not None):
                loss = module(x, eps)
            loss.objective().backward()
            opt.step()
        return step

    compiled = torch.compile(net)
    return {"eager float32": autograd(net, None), "eager bf16": autograd(net, torch.bfloat16),
            "compile float32": autograd(compiled, None), "compile bf16": autograd(compiled, torch.bfloat16)}


def step_table(images: torch.Tensor, repeats: int, batch: int = 128, steps: int = 100) -> None:
    x_all = images[:steps * batch].float().div(255).reshape(steps, batch, *images.shape[1:])
    print(f"\nseconds per 60,000 images, batch {batch}, median of {repeats} (compile: first step apart)")
    for hidden, z in [((200, 200), 10), ((200, 200), 500), ((400,), 20)]:
        torch.manual_seed(0)
        net = build(ModelConfig(latent_dim=z, hidden=hidden))
        opt = torch.optim.Adam(net.parameters(), lr=1e-3, fused=True)
        eps = torch.randn(steps, batch, z)
        times: dict[str, list[float]] = {}
        first: dict[str, float] = {}
        kinds = step_kinds(net, opt)
        for _ in range(repeats):
            for name, step in kinds.items():
                t0 = time.perf_counter()
                step(x_all[0], eps[0])
                first.setdefault(name, time.perf_counter() - t0)
                t0 = time.perf_counter()
                for i in range(1, steps):
                    step(x_all[i], eps[i])
                times.setdefault(name, []).append((time.perf_counter() - t0) / ((steps - 1) * batch) * 60_000)
        name = label(hidden, z)
        cells = "  ".join(f"{k} {statistics.median(v):.2f}" + (f" (+{first[k]:.1f} s)" if "compile" in k else "")
                          for k, v in times.items())
        print(f"{name}: {cells}", flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--steps-only", action="store_true", help="only the step table")
    args = p.parse_args()
    torch.set_flush_denormal(True)
    images, _ = datasets.load("mnist")
    if not args.steps_only:
        epoch_table(images, args.repeats)
    step_table(images, args.repeats)


def epoch_table(images: torch.Tensor, repeats: int) -> None:
    n = len(images)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {n} training images")
    print(f"{'model':<18}{'batch':>6}{'reference s':>13}{'ours s':>9}{'floor s':>9}{'GFLOP/s':>9}"
          f"{'samples/s':>11}{'speed-up':>10}{'x floor':>9}  verdict")
    for hidden, z, batch in CONFIGS:
        rows = []
        for _ in range(repeats):
            r, o, (f, rate) = reference_epoch(images, hidden, z, batch), our_epoch(hidden, z, batch), \
                floor_epoch(n, hidden, z, batch)
            rows.append((r, o, f, rate, r / o, o / f))
        r, o, f, rate, speedup, over_floor = (statistics.median(col) for col in zip(*rows))
        ok = speedup >= TARGETS[batch] and (batch != 128 or over_floor <= FLOOR_FACTOR)
        name = label(hidden, z)
        print(f"{name:<18}{batch:>6}{r:>13.2f}{o:>9.2f}{f:>9.2f}{rate:>9.0f}{n / o:>11,.0f}{speedup:>9.2f}x"
              f"{over_floor:>8.2f}x  {'PASS' if ok else 'MISS'} (target >= {TARGETS[batch]}x"
              f"{', <= 2x floor' if batch == 128 else ''})", flush=True)


if __name__ == "__main__":
    main()
