"""Time to a good model: the training seconds our default recipe needs to come within 0.5 nats of the test
-ELBO the reference loop reaches after 10 epochs, timed in the same run.

The reference is train_speed.py's loop, unchanged: a per-sample Dataset and DataLoader, batch 128, Adam 1e-3,
float32 autograd. Ours is `latentwalk train`'s default recipe (TrainConfig's defaults, the precision "auto"
picks on this machine), and the same recipe in float32 to show what bf16 adds (or through torch.compile:
--ways). Both count only the seconds of their training steps; the test -ELBO after each epoch
(evaluate.neg_elbo, float32, the 10,000 test images, fixed noise) is computed between epochs and not timed.

    python benchmarks/time_to_quality.py                 # the post's three models and pytorch/examples' one
    python benchmarks/time_to_quality.py --models 784-400-20 --ways auto,auto+compile
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import torch

from latentwalk.data import datasets
from latentwalk.measure import evaluate
from latentwalk.models import ModelConfig
from latentwalk.run import checkpoint
from latentwalk.run.config import DataConfig, TrainConfig
from latentwalk.training import precision
from latentwalk.training.fit import fit
from train_speed import reference_training

MODELS = {"784-200-200-2": ((200, 200), 2), "784-200-200-10": ((200, 200), 10),
          "784-200-200-500": ((200, 200), 500), "784-400-20": ((400,), 20)}
REFERENCE_EPOCHS = 10
WITHIN = 0.5              # nats
TARGET, STRETCH = 3.0, 5.0


def reference(train_x, test_x, hidden, z) -> tuple[float, float]:
    """(seconds of 10 reference epochs, the test -ELBO after them)."""
    seconds = 0.0
    for model, s in reference_training(train_x, hidden, z, 128, REFERENCE_EPOCHS):
        seconds += s
    model.eval()
    return seconds, evaluate.neg_elbo(model, test_x)["neg_elbo"]


def ours(hidden, z, goal: float, way: str) -> dict:
    """Train the default recipe the `way` given (a precision, "+compile" for torch.compile); the seconds until
    the test -ELBO first reached `goal` (compiling included), and the end."""
    precision, _, compiled = way.partition("+")
    with tempfile.TemporaryDirectory() as tmp:
        fit(Path(tmp) / "run", ModelConfig(latent_dim=z, hidden=hidden), DataConfig("mnist"),
            TrainConfig(device="cpu"), log=lambda s: None, precision=precision, compile=compiled == "compile")
        rows = checkpoint.read_metrics(Path(tmp) / "run")
    elapsed, reached = 0.0, None
    for row in rows:
        elapsed += row["seconds"]
        if reached is None and row["test_neg_elbo"] <= goal:
            reached = (elapsed, row["epoch"], row["test_neg_elbo"])
    return {"reached": reached, "seconds": elapsed, "final": rows[-1]["test_neg_elbo"],
            "precision": rows[-1]["precision"]}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", default=",".join(MODELS), help="comma-separated, from " + ", ".join(MODELS))
    p.add_argument("--ways", default="auto,float32",
                   help="how to run our recipe, comma-separated: auto, float32 or bf16, each +compile or not "
                        "(default auto,float32)")
    args = p.parse_args()
    torch.set_flush_denormal(True)
    train_x, _ = datasets.load("mnist")
    test_x, _ = datasets.load("mnist", "test")
    recipe = TrainConfig()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; native bf16 on this CPU: "
          f"{precision.native_bf16(torch.device('cpu'))}")
    print(f"our recipe: {recipe.epochs} epochs, batch {recipe.batch_size}, Adam {recipe.lr:g}, lr schedule "
          f"{recipe.lr_schedule}; reference: {REFERENCE_EPOCHS} epochs, batch 128, Adam 1e-3, float32")
    print(f"{'model':<17}{'ref s':>7}{'ref -ELBO':>10}  {'ours':<13}{'reached at':>18}{'speed-up':>10}"
          f"{'full recipe':>20}  verdict")
    ways = args.ways.split(",")
    for name in args.models.split(","):
        hidden, z = MODELS[name]
        ref_s, ref_loss = reference(train_x, test_x, hidden, z)
        for way in ways:
            r = ours(hidden, z, ref_loss + WITHIN, way)
            if r["reached"] is None:
                reach, ratio, verdict = "never", 0.0, "MISS"
            else:
                s, epoch, loss = r["reached"]
                ratio = ref_s / s
                reach = f"{loss:.2f} @ {s:.1f} s (ep {epoch})"
                verdict = "STRETCH" if ratio >= STRETCH else "PASS" if ratio >= TARGET else "MISS"
            label = r["precision"] + ("+compile" if "compile" in way else "")
            print(f"{name:<17}{ref_s:>7.1f}{ref_loss:>10.2f}  {label:<13}{reach:>18}{ratio:>9.2f}x"
                  f"{r['final']:>10.2f} @ {r['seconds']:.1f} s  {verdict} (target >= {TARGET:g}x, "
                  f"stretch {STRETCH:g}x)", flush=True)


if __name__ == "__main__":
    main()
