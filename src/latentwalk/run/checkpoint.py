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

Every file of a checkpoint is verifiable. Each safetensors file records in its header the CRC-32 of each of its
tensors, and the SHA-256 of the metrics rows written with it and of the run's settings (all of config.json but
the epoch count, which a resume may raise); loading checks each, so a flipped bit or a file from another run is a one-line error
naming the file and what to do, never weights silently evaluated or trained on. Runs written before the
checksums load unchecked. Checking costs a CRC of the tensors read: `benchmarks/checksum_cost.py`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import zlib
from collections.abc import Callable
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load as load_bytes
from safetensors.torch import load_file, save_file

from .. import atomic
from ..data import datasets
from ..errors import ConfigError, RunError
from ..models.autoencoder import AutoEncoder, ModelConfig, build
from ..version import __version__
from .config import DataConfig, RunConfig, TrainConfig

CONFIG, WEIGHTS, STATE, METRICS = "config.json", "weights.safetensors", "train_state.safetensors", "metrics.jsonl"


def run_file(run_dir: str | os.PathLike, name: str) -> Path:
    """A file of a run folder. Links are refused: a run folder cannot send the tool to read elsewhere; and so is
    anything there but a plain file (a FIFO would block its reader for ever, a device read without end)."""
    path = Path(run_dir) / name
    if path.is_symlink():
        raise RunError(f"{path} is a symbolic link; a run folder must hold its own files (copy the file in)")
    if path.exists() and not (path.is_file() or path.is_dir()):
        raise RunError(f"{path} is not a regular file (a FIFO, socket or device); a run folder holds plain files: "
                       f"remove it")
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
    except RecursionError:
        raise RunError(f"{path}: corrupt (nested too deep); restore it or train a new run") from None
    except (ConfigError, TypeError) as e:
        raise RunError(f"{path}: invalid ({e}); restore it or train a new run") from None


def tensor_checksums(tensors: dict[str, torch.Tensor]) -> dict[str, str]:
    """The CRC-32 of each named tensor's dtype, shape and bytes. A CRC, not a SHA-256: it catches every burst of
    damage up to 32 bits and all but 1 in 4e9 of the others, at 3.4 times the speed (6.7 against 2.0 GB/s on an
    AMD EPYC Zen 4): on a 177 MB model the CRC-32 takes 25 ms, a SHA-256 86 ms (`benchmarks/checksum_cost.py`).
    `load` pays a SHA-256 of the file's bytes all the same, for another end: the identity its results carry."""
    sums = {}
    for name, t in tensors.items():
        t = t.detach().cpu().contiguous()
        head = zlib.crc32(f"{t.dtype}|{tuple(t.shape)}".encode())
        sums[name] = f"{zlib.crc32(t.reshape(-1).view(torch.uint8).numpy(), head):08x}"
    return dict(sorted(sums.items()))


def settings_sha256(cfg: RunConfig) -> str:
    """The SHA-256 of a run's settings, all but the epoch count (which a resume may raise)."""
    train = dataclasses.asdict(cfg.train)
    del train["epochs"]
    return hashlib.sha256(json.dumps({"model": cfg.model.to_dict(), "data": dataclasses.asdict(cfg.data),
                                      "train": train}, sort_keys=True).encode()).hexdigest()


def _fix(path: Path) -> str:
    """What to do about a damaged or missing checkpoint file: the one command that mends it, where there is one."""
    run, other = path.parent, path.parent / (STATE if path.name == WEIGHTS else WEIGHTS)
    if path.name == WEIGHTS and other.is_file():
        return (f"train_state.safetensors holds the weights: delete {path.name} and run `latentwalk train --resume "
                f"--out {run}`, which writes it again")
    if path.name == STATE and other.is_file():
        return (f"restore it from a copy, or continue from the weights with a fresh optimizer: `latentwalk train "
                f"--resume --from-weights --out {run}`")
    return "restore it from a copy or train a new run"


def _header(path: Path) -> dict[str, str]:
    """The metadata of a safetensors file (its header alone is read)."""
    try:
        with safe_open(path, framework="pt") as f:
            return f.metadata() or {}
    except (SafetensorError, OSError, ValueError) as e:
        raise RunError(f"{path}: damaged ({e}); {_fix(path)}") from None


def _read_tensors(path: Path, sha256: bool = False) -> tuple[dict[str, torch.Tensor], dict[str, str], str]:
    """Tensors, metadata and (with `sha256`) the SHA-256 of the bytes of a checkpoint file, its tensors checked
    against the checksums written with them."""
    if not path.is_file():
        raise RunError(f"{path.parent}: no {path.name}: the run has not finished an epoch; continue it with "
                       f"`latentwalk train --resume --out {path.parent}`")
    digest = ""
    try:
        if sha256:       # the bytes read once: their hash names these very tensors, even if the file is replaced
            raw = path.read_bytes()
            tensors, digest = load_bytes(raw), hashlib.sha256(raw).hexdigest()
            # the metadata of the same bytes: an 8-byte little-endian length, then a JSON header whose
            # "__metadata__" maps strings to strings
            meta = json.loads(raw[8:8 + int.from_bytes(raw[:8], "little")]).get("__metadata__") or {}
        else:            # read under the folder's lock (a resume) or by no writer's side: no hash needed
            meta, tensors = _header(path), load_file(path)
        int(meta.get("epoch", "-1"))
    except (SafetensorError, OSError, ValueError) as e:
        raise RunError(f"{path}: damaged ({e}); {_fix(path)}") from None
    if "tensors_crc32" in meta:
        try:
            recorded = json.loads(meta["tensors_crc32"])
        except json.JSONDecodeError:
            recorded = None
        recorded = recorded if isinstance(recorded, dict) else {}
        sums = tensor_checksums(tensors)
        bad = sorted(set(sums) ^ set(recorded)) or [k for k in sums if sums[k] != recorded[k]]
        if bad:
            which = f"tensor {bad[0]} differs from its" if len(bad) == 1 else \
                f"tensors {bad[0]} and {len(bad) - 1} more differ from their"
            raise RunError(f"{path}: damaged ({which} recorded checksum); {_fix(path)}")
    return tensors, meta, digest


def _check_settings(meta: dict[str, str], cfg: RunConfig, path: Path) -> None:
    if "settings_sha256" in meta and meta["settings_sha256"] != settings_sha256(cfg):
        raise RunError(f"{path.parent / CONFIG}: its settings are not those {path.name} was trained with (damaged "
                       f"or edited); restore it from a copy")


def _load_params(model: AutoEncoder, tensors: dict[str, torch.Tensor], path: Path) -> None:
    own = model.state_dict()
    if set(tensors) != set(own) or any(tensors[k].shape != v.shape for k, v in own.items()):
        raise RunError(f"{path}: its tensors do not match the model in config.json; the folder is inconsistent")
    if not all(torch.isfinite(t).all() for t in tensors.values()):
        raise RunError(f"{path}: holds NaN or infinite values; restore it or train a new run")
    model.load_state_dict(tensors)


def load(run_dir: str | os.PathLike, device: str | torch.device = "cpu") -> AutoEncoder:
    """Rebuild a trained model from its run folder, in eval mode (its weights checked against their checksums).
    Its `weights_sha256` is the SHA-256 of the bytes it was loaded from: what a result computed with it records
    (a mixture, stored measures), whatever the run folder holds by then."""
    run_dir = Path(run_dir)
    cfg = load_config(run_dir)
    model = build(cfg.model)
    path = run_file(run_dir, WEIGHTS)
    if not path.is_file() and run_file(run_dir, STATE).is_file():
        raise RunError(f"{run_dir}: no {WEIGHTS}, but {STATE} holds the weights of epoch {last_epoch(run_dir)}: "
                       f"`latentwalk train --resume --out {run_dir}` writes them again")
    tensors, meta, model.weights_sha256 = _read_tensors(path, sha256=True)
    _check_settings(meta, cfg, path)
    _load_params(model, tensors, path)
    return model.to(device).eval()


def load_weights(run_dir: Path, cfg: RunConfig, model: AutoEncoder) -> tuple[int, list[dict]]:
    """Load the weights file into `model` (to continue from it with a fresh optimizer); return its epoch and the
    metrics rows up to it."""
    path = run_file(run_dir, WEIGHTS)
    tensors, meta, _ = _read_tensors(path)
    _check_settings(meta, cfg, path)
    _load_params(model, tensors, path)
    epoch = int(meta.get("epoch", "-1"))
    if epoch < 1:
        raise RunError(f"{path}: records no epoch (written by another tool?); train a new run")
    return epoch, read_metrics(run_dir, upto=epoch, against=WEIGHTS)


def _metadata(cfg: RunConfig, tensors: dict[str, torch.Tensor], epoch: int, metrics_text: str,
              rows: int) -> dict[str, str]:
    return {"epoch": str(epoch), "tensors_crc32": json.dumps(tensor_checksums(tensors), separators=(",", ":")),
            "metrics_rows": str(rows),
            "metrics_sha256": hashlib.sha256(metrics_text.encode("utf-8")).hexdigest(),
            "settings_sha256": settings_sha256(cfg)}


def _write(run_dir: Path, epoch: int, write: Callable[[], None]) -> None:
    try:
        write()
        atomic.sync_folder(run_dir)      # the renames survive a power loss only once the folder is synced
    except (OSError, SafetensorError) as e:  # a full disk, a lost mount: the files already there are whole (atomic)
        reason = e.strerror if isinstance(e, OSError) and e.strerror else e
        raise RunError(f"{run_dir}: could not write the checkpoint of epoch {epoch} ({reason}); the files there "
                       f"are whole and `resume` continues from the last one written: fix the cause, then continue "
                       f"with `resume`") from None


def _metrics_text(metrics: list[dict]) -> str:
    return "".join(json.dumps(m) + "\n" for m in metrics)


def _params(model: AutoEncoder) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}


def save_state(run_dir: Path, cfg: RunConfig, model: AutoEncoder, optimizer: torch.optim.Optimizer, epoch: int,
               metrics: list[dict]) -> None:
    """Checkpoint a finished epoch: metrics, then train_state, then weights (each atomic, each safetensors file
    with its checksums), then sync the folder."""
    params = _params(model)
    opt = {f"optimizer.{i}.{k}": v.detach().cpu().contiguous()
           for i, s in optimizer.state_dict()["state"].items() for k, v in s.items()}
    state = {**{f"model.{k}": v for k, v in params.items()}, **opt}
    text = _metrics_text(metrics)

    def write():
        # metrics first: rows past train_state's epoch are ignored on resume, so no order of failures loses one
        atomic.write_text(run_dir / METRICS, text)
        with atomic.atomic_path(run_dir / STATE) as tmp:
            save_file(state, tmp, metadata=_metadata(cfg, state, epoch, text, len(metrics)))
        with atomic.atomic_path(run_dir / WEIGHTS) as tmp:
            save_file(params, tmp, metadata=_metadata(cfg, params, epoch, text, len(metrics)))
    _write(run_dir, epoch, write)


def save_weights(run_dir: Path, cfg: RunConfig, model: AutoEncoder, epoch: int, metrics: list[dict]) -> None:
    """Write the weights file alone (restored from train_state, which holds the same parameters)."""
    params = _params(model)

    def write():
        with atomic.atomic_path(run_dir / WEIGHTS) as tmp:
            save_file(params, tmp, metadata=_metadata(cfg, params, epoch, _metrics_text(metrics), len(metrics)))
    _write(run_dir, epoch, write)


def restore_state(run_dir: Path, cfg: RunConfig, model: AutoEncoder,
                  optimizer: torch.optim.Optimizer) -> tuple[int, list[dict]]:
    """Load train_state into model and optimizer; return the last finished epoch and its metrics rows."""
    path = run_file(run_dir, STATE)
    tensors, meta, _ = _read_tensors(path)
    _check_settings(meta, cfg, path)
    epoch = int(meta.get("epoch", "-1"))
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
    return epoch, read_metrics(run_dir, upto=epoch, against=STATE)


def weights_sha256(run_dir: str | os.PathLike) -> str:
    """The SHA-256 of the run's weights file as it is now: a stored result is of these weights when it records
    this hash (a result records the hash of the bytes its model was loaded from: `load`)."""
    return hashlib.sha256(run_file(run_dir, WEIGHTS).read_bytes()).hexdigest()


def last_epoch(run_dir: str | os.PathLike) -> int:
    """How many epochs a run has finished: train_state's epoch (0 before the first), what --resume continues
    from. metrics.jsonl may hold a row past it, written just before a kill."""
    path = run_file(run_dir, STATE)
    if not path.is_file():
        return 0
    try:
        return int(_header(path).get("epoch", "-1"))
    except ValueError:
        raise RunError(f"{path}: damaged (its epoch is not a number); {_fix(path)}") from None


def read_metrics(run_dir: str | os.PathLike, upto: int | None = None, against: str | None = None) -> list[dict]:
    """The metrics rows of finished epochs (those after `upto` belong to an interrupted checkpoint), checked
    against the checksum of the rows that the checkpoint file `against` recorded (default: train_state, or the
    weights when there is no train_state)."""
    path = run_file(run_dir, METRICS)
    against = against or (STATE if run_file(run_dir, STATE).is_file() else WEIGHTS)
    checkpoint_file = run_file(run_dir, against)
    meta = _header(checkpoint_file) if checkpoint_file.is_file() else {}
    recorded = int(meta.get("metrics_rows", "0")) if meta.get("metrics_rows", "0").isdigit() else -1
    if not path.is_file():
        if recorded:
            raise RunError(f"{path}: missing, though {against} records {recorded} rows of it; restore it from a copy")
        return []
    lines = path.read_bytes().splitlines(keepends=True)
    if "metrics_sha256" in meta and (recorded < 0 or hashlib.sha256(b"".join(lines[:recorded])).hexdigest()
                                     != meta["metrics_sha256"]):
        raise RunError(f"{path}: damaged (its first {recorded} rows differ from the checksum {against} recorded); "
                       f"restore it from a copy")
    rows = []
    for n, line in enumerate(lines, 1):
        try:
            row = json.loads(line.decode("utf-8"))
            epoch = int(row["epoch"])
        except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError, OverflowError,
                RecursionError):
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
