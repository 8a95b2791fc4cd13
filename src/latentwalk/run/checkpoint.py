"""The run folder: everything needed to rebuild, resume and inspect a training run, written atomically.

    config.json             model, data and training settings, the data fingerprint, the package version
    weights.safetensors     the model's parameters (what `latentwalk.load` reads)
    train_state.safetensors parameters and optimizer moments together, for an exact --resume
    metrics.jsonl           one JSON object per finished epoch
    gmm.safetensors         written by `latentwalk measure` (measure/samplers.py, measure/stored.py), each
    measures.json           with the SHA-256 of the weights it was made from

Each file is replaced in one rename (see atomic.py). A checkpoint writes metrics.jsonl, then train_state, then
the weights; train_state is the authority on how far training got (rows of metrics past its epoch are dropped on
resume), so a process killed between two writes resumes from a consistent state. Nothing is
ever unpickled: tensors are safetensors, settings are JSON checked field by field.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from .. import atomic
from ..data import datasets
from ..errors import ConfigError, RunError
from ..models.autoencoder import AutoEncoder, ModelConfig, build
from ..version import __version__
from .config import DataConfig, RunConfig, TrainConfig

CONFIG, WEIGHTS, STATE, METRICS = "config.json", "weights.safetensors", "train_state.safetensors", "metrics.jsonl"


def run_file(run_dir: str | os.PathLike, name: str) -> Path:
    """A file of a run folder. Links are refused: a run folder cannot send the tool to read elsewhere."""
    path = Path(run_dir) / name
    if path.is_symlink():
        raise RunError(f"{path} is a symbolic link; a run folder must hold its own files (copy the file in)")
    return path


def _from_dict(cls, d, where: str):
    if not isinstance(d, dict):
        raise ConfigError(f"{where} must be a JSON object")
    names = {f.name for f in dataclasses.fields(cls)}
    unknown, missing = set(d) - names, names - set(d)
    if unknown or missing:
        raise ConfigError(f"{where}: unknown keys {sorted(unknown)}, missing keys {sorted(missing)}")
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}
    return cls(**values)


def config_to_json(cfg: RunConfig) -> str:
    return json.dumps({"latentwalk_version": __version__, "model": cfg.model.to_dict(),
                       "data": dataclasses.asdict(cfg.data), "train": dataclasses.asdict(cfg.train)}, indent=2)


def save_config(run_dir: Path, cfg: RunConfig) -> None:
    atomic.write_text(Path(run_dir) / CONFIG, config_to_json(cfg) + "\n")


def load_config(run_dir: str | os.PathLike) -> RunConfig:
    """Read and validate config.json: known keys only, right types and ranges, before anything is built."""
    run_dir = Path(run_dir)
    path = run_file(run_dir, CONFIG)
    if not run_dir.is_dir():
        raise RunError(f"{run_dir}: no such run folder; train one with `latentwalk train --out {run_dir}`")
    if not path.is_file():
        raise RunError(f"{run_dir}: not a latentwalk run folder (no {CONFIG})")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(raw, dict) or set(raw) != {"latentwalk_version", "model", "data", "train"}:
            raise ConfigError("expected the keys latentwalk_version, model, data, train")
        return RunConfig(_from_dict(ModelConfig, raw["model"], "model"),
                         _from_dict(DataConfig, raw["data"], "data"),
                         _from_dict(TrainConfig, raw["train"], "train"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise RunError(f"{path}: corrupt ({e}); restore it or train a new run") from None
    except (ConfigError, TypeError) as e:
        raise RunError(f"{path}: invalid ({e}); restore it or train a new run") from None


def _read_tensors(path: Path) -> tuple[dict[str, torch.Tensor], int]:
    """Tensors and the epoch recorded in a safetensors file."""
    if not path.is_file():
        raise RunError(f"{path.parent}: no {path.name}: the run has not finished an epoch; continue it with "
                       f"`latentwalk train --resume --out {path.parent}`")
    try:
        with safe_open(path, framework="pt") as f:
            epoch = int((f.metadata() or {}).get("epoch", "-1"))
        tensors = load_file(path)
    except (SafetensorError, OSError, ValueError) as e:
        raise RunError(f"{path}: corrupt weights file ({e}); restore it or train a new run") from None
    return tensors, epoch


def _load_params(model: AutoEncoder, tensors: dict[str, torch.Tensor], path: Path) -> None:
    own = model.state_dict()
    if set(tensors) != set(own) or any(tensors[k].shape != v.shape for k, v in own.items()):
        raise RunError(f"{path}: its tensors do not match the model in config.json; the folder is inconsistent")
    if not all(torch.isfinite(t).all() for t in tensors.values()):
        raise RunError(f"{path}: holds NaN or infinite values; restore it or train a new run")
    model.load_state_dict(tensors)


def load(run_dir: str | os.PathLike, device: str | torch.device = "cpu") -> AutoEncoder:
    """Rebuild a trained model from its run folder, in eval mode."""
    run_dir = Path(run_dir)
    cfg = load_config(run_dir)
    model = build(cfg.model)
    path = run_file(run_dir, WEIGHTS)
    tensors, _ = _read_tensors(path)
    _load_params(model, tensors, path)
    return model.to(device).eval()


def save_state(run_dir: Path, model: AutoEncoder, optimizer: torch.optim.Optimizer, epoch: int,
               metrics: list[dict]) -> None:
    """Checkpoint a finished epoch: metrics, then train_state, then weights (each atomic), then sync the folder."""
    params = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    opt = {f"optimizer.{i}.{k}": v.detach().cpu().contiguous()
           for i, s in optimizer.state_dict()["state"].items() for k, v in s.items()}
    meta = {"epoch": str(epoch)}
    try:
        # metrics first: rows past train_state's epoch are ignored on resume, so no order of failures loses one
        atomic.write_text(run_dir / METRICS, "".join(json.dumps(m) + "\n" for m in metrics))
        with atomic.atomic_path(run_dir / STATE) as tmp:
            save_file({**{f"model.{k}": v for k, v in params.items()}, **opt}, tmp, metadata=meta)
        with atomic.atomic_path(run_dir / WEIGHTS) as tmp:
            save_file(params, tmp, metadata=meta)
        atomic.sync_folder(run_dir)      # the three renames survive a power loss only once the folder is synced
    except OSError as e:       # a full disk, a lost mount: the files already there are whole (atomic writes)
        raise RunError(f"{run_dir}: could not write the checkpoint of epoch {epoch} ({e.strerror or e}); the "
                       f"files there are whole and `resume` continues from the last one written: fix the cause, "
                       f"then continue with `resume`") from None


def restore_state(run_dir: Path, model: AutoEncoder, optimizer: torch.optim.Optimizer) -> tuple[int, list[dict]]:
    """Load train_state into model and optimizer; return the last finished epoch and its metrics rows."""
    path = run_file(run_dir, STATE)
    tensors, epoch = _read_tensors(path)
    _load_params(model, {k[6:]: v for k, v in tensors.items() if k.startswith("model.")}, path)
    device = next(model.parameters()).device
    sd = optimizer.state_dict()
    state: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in tensors.items():
        if key.startswith("optimizer."):
            _, index, name = key.split(".", 2)
            state.setdefault(int(index), {})[name] = value.to(device)
    try:
        optimizer.load_state_dict({"state": state, "param_groups": sd["param_groups"]})
    except (ValueError, KeyError, RuntimeError) as e:
        raise RunError(f"{path}: optimizer state does not fit the model ({e}); the folder is inconsistent") from None
    return epoch, read_metrics(run_dir, upto=epoch)


def weights_sha256(run_dir: str | os.PathLike) -> str:
    """The SHA-256 of the run's weights file: what a result derived from the weights (a fitted mixture, stored
    measures) records, so that it is known stale once training goes on."""
    return hashlib.sha256(run_file(run_dir, WEIGHTS).read_bytes()).hexdigest()


def last_epoch(run_dir: str | os.PathLike) -> int:
    """How many epochs a run has finished: train_state's epoch (0 before the first), what --resume continues
    from. metrics.jsonl may hold a row past it, written just before a kill."""
    path = run_file(run_dir, STATE)
    return _read_tensors(path)[1] if path.is_file() else 0


def read_metrics(run_dir: str | os.PathLike, upto: int | None = None) -> list[dict]:
    """The metrics rows of finished epochs (those after `upto` belong to an interrupted checkpoint)."""
    path = run_file(run_dir, METRICS)
    if not path.exists():
        return []
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        try:
            row = json.loads(line)
            epoch = int(row["epoch"])
        except (json.JSONDecodeError, KeyError, TypeError, ValueError, OverflowError):
            raise RunError(f"{path}: line {n} is corrupt; delete the line or the file") from None
        if upto is None or epoch <= upto:
            rows.append(row)
    return rows


def _split(run_dir: str | os.PathLike, split: str) -> tuple[torch.Tensor, torch.Tensor | None]:
    data = load_config(run_dir).data
    return datasets.load(data.name, split, greyscale=data.greyscale, size=data.size)


def train_data(run_dir: str | os.PathLike) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The training split of the data a run was trained on, and its labels if any."""
    return _split(run_dir, "train")


def test_data(run_dir: str | os.PathLike, limit: int | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The test split of the data a run was trained on (its first `limit` images), and its labels if any."""
    if limit is not None and limit < 1:
        raise ConfigError(f"`limit` must be >= 1, got {limit}")
    images, labels = _split(run_dir, "test")
    if limit is None:                  # data read from disk stays there (evaluation reads it in batches)
        return images, labels
    return images[:limit], (labels[:limit] if labels is not None else None)
