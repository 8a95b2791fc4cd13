"""Quality of the post's VAEs (784-200-200-z) on dynamically binarized MNIST, in a fixed CPU-time budget.

For each z: time one epoch, train for as many epochs as fit in the rest of the budget (cosine learning rate
and a KL warm-up over the first tenth, both sized to that count), then report test -ELBO and the
importance-weighted NLL (IWAE-k) on all 10,000 test images.
Target (z = 50): NLL <= 88 nats within 20 CPU-minutes of training. Training runs on one thread, so
CPU-minutes are wall minutes; the evaluation (not part of the budget) uses every core.

    python benchmarks/quality.py                       # z = 2, 10, 50 with budgets 5, 5, 20 minutes
    python benchmarks/quality.py --z 50 --minutes 20 --k 5000
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch

from latentwalk.data import datasets
from latentwalk.run import checkpoint
from latentwalk.measure.evaluate import evaluate
from latentwalk.models import ModelConfig
from latentwalk.run.config import DataConfig, TrainConfig
from latentwalk.training.fit import fit


def run(z: int, minutes: float, k: int, out: Path, threads: int, schedule: str, warmup: float) -> dict:
    model = ModelConfig(kind="vae", latent_dim=z, hidden=(200, 200))
    data = DataConfig(name="mnist", binarize=True)

    def train(epochs: int) -> TrainConfig:
        return TrainConfig(epochs=epochs, batch_size=100, lr=1e-3, lr_schedule=schedule,
                           kl_warmup=round(warmup * epochs), seed=0, device="cpu")
    torch.set_num_threads(1)
    probe_s = 0.0
    if not (out / checkpoint.WEIGHTS).exists():      # a kept run from an earlier call is only evaluated
        with tempfile.TemporaryDirectory() as tmp:   # one epoch, timed, to size the schedule to the budget
            probe_s = checkpoint.read_metrics(fit(Path(tmp) / "probe", model, data, train(1),
                                                  log=lambda s: None))[0]["seconds"]
        fit(out, model, data, train(max(1, int((minutes * 60 - probe_s) / probe_s))), log=lambda s: None)
    rows = checkpoint.read_metrics(out)
    train_minutes = (probe_s + sum(r["seconds"] for r in rows)) / 60     # the probe counts against the budget
    test_x, _ = datasets.load("mnist", "test")
    torch.set_num_threads(threads)
    t1 = time.perf_counter()
    result = evaluate(checkpoint.load(out), test_x, k=k, binarize=True)
    return {"z": z, "lr_schedule": schedule, "kl_warmup": checkpoint.load_config(out).train.kl_warmup,
            "epochs": len(rows), "train_minutes": round(train_minutes, 2),
            "first_epoch_s": round(rows[0]["seconds"], 2), "last_epoch_s": round(rows[-1]["seconds"], 2),
            "test_neg_elbo": round(result["neg_elbo"], 2), f"nll_iwae_{k}": round(result["nll_iwae"], 2),
            "active_units": result["active_units"], "eval_minutes": round((time.perf_counter() - t1) / 60, 2)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--z", type=int, nargs="+", default=[2, 10, 50])
    p.add_argument("--minutes", type=float, nargs="+", default=[5, 5, 20], help="training budget per z")
    p.add_argument("--k", type=int, default=5000)
    p.add_argument("--lr-schedule", default="cosine", choices=["constant", "cosine"],
                   help="Adam 1e-3, constant or cosine-decayed to 0 over the budget (default cosine)")
    p.add_argument("--kl-warmup", type=float, default=0.1,
                   help="share of the epochs over which the KL weight rises from 0 to 1 (default 0.1)")
    p.add_argument("--keep", type=Path, help="keep the run folders here (an existing finished run is evaluated again)")
    args = p.parse_args()
    threads = torch.get_num_threads()
    minutes = args.minutes if len(args.minutes) == len(args.z) else args.minutes[:1] * len(args.z)
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        for z, m in zip(args.z, minutes):
            print(json.dumps(run(z, m, args.k, root / f"vae{z}", threads, args.lr_schedule,
                                 args.kl_warmup)), flush=True)


if __name__ == "__main__":
    main()
