"""`latentwalk train`: its arguments are the settings of the run's configs (settings.py), declared there once."""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path

from ..command import Arg, Command
from ..models.autoencoder import ModelConfig
from ..run import checkpoint
from ..run.config import DataConfig, TrainConfig, TrainOptions
from ..settings import arguments, split
from .fit import fit

CONFIGS = (ModelConfig, DataConfig, TrainConfig, TrainOptions)


def train(out: Path, resume: bool, from_weights: bool, **settings) -> None:
    """Train a new run from the settings typed (defaults for the others), or continue one: then the settings
    typed must be the run's own (fit names any that differ), but for --epochs."""
    model, data, run, options = split(CONFIGS, settings)
    epochs = run.pop("epochs", None)
    if resume:
        stored = checkpoint.load_config(out)
        fit(out, replace(stored.model, **model), replace(stored.data, **data), replace(stored.train, **run),
            resume=True, from_weights=from_weights, epochs=epochs, options=TrainOptions(**options))
    else:
        fit(out, ModelConfig(**model), DataConfig(**data), TrainConfig(**run), from_weights=from_weights,
            epochs=epochs, options=TrainOptions(**options))
    if os.environ.get("RANK", "0") == "0":         # under torchrun, rank 0 speaks for all
        print(f"wrote {out}")
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        # All is written and the process group is gone. Skip the interpreter's teardown: there, gloo's
        # threads now and then abort a finished process (SIGABRT, "terminate called without an active
        # exception"), which torchrun would report as a failed run.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


TRAIN = Command("train", "train an AE or a VAE into a run folder", train, args=(
    Arg("--out", required=True, type=Path, help="run folder to create (or continue with --resume)"),
    Arg("--resume", action="store_true", help="continue the run in --out from its last finished epoch"),
    Arg("--from-weights", action="store_true", help="with --resume: continue from weights.safetensors with a fresh "
        "optimizer (for a run whose train_state.safetensors is missing or damaged)"),
    *(a for config in CONFIGS for a in arguments(config))))
COMMANDS = (TRAIN,)
