"""The training loop: the whole data set in memory, shuffled index batches, a checkpoint after every epoch.

Speed comes from doing no per-sample Python work (one gather of uint8 rows per batch, converted to float on
the fly) and from bf16 autocast where the hardware has it (precision.py). Each epoch draws its shuffle, noise
and binarization from a generator seeded by (seed, epoch), so a resumed run replays exactly the epochs an
uninterrupted one would have run, and ends with the same weights.

Under torchrun (WORLD_SIZE > 1) the same loop runs in every process with DistributedDataParallel: each
rank draws the same batch, noise and binarization, computes the loss and gradient of its own slice of the
batch, and DDP averages the gradients (each slice's loss weighted by its share of the batch, so the step
equals the single-process one). Metrics are summed across ranks; rank 0 alone evaluates and writes the run
folder.
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import torch
from tqdm import tqdm

from .. import memory
from ..data import datasets
from ..errors import ConfigError, DataError, LatentwalkError, RunError, TrainingDiverged
from ..measure import evaluate
from ..models.autoencoder import ModelConfig, build, codes, parameter_count, training_bytes
from ..models.device import choose_device
from ..run import checkpoint, lock
from ..run.config import DataConfig, RunConfig, TrainConfig, TrainOptions
from ..settings import check_unchanged
from . import board
from . import precision as precisions

CHECK_EVERY = 50   # steps between loss checks (and progress-bar updates)

COLLAPSE_IMAGES = 1000    # test images whose codes say, after each epoch, whether any unit is still active


def epoch_generator(seed: int, epoch: int, device: torch.device) -> torch.Generator:
    return torch.Generator(device).manual_seed(seed * 1_000_003 + epoch)


def _load_data(cfg: DataConfig):
    """Training images, test images and test labels (or None)."""
    train_x, _ = datasets.load(cfg.name, "train", greyscale=cfg.greyscale, size=cfg.size)
    test_x, test_y = datasets.load(cfg.name, "test", greyscale=cfg.greyscale, size=cfg.size)
    return train_x, test_x, test_y


@contextlib.contextmanager
def _evaluating(net: torch.nn.Module):
    """The network in eval mode for the block, back in training mode after."""
    net.eval()
    try:
        yield
    finally:
        net.train()


@contextlib.contextmanager
def _flush_denormals():
    """Subnormal floats appear as training goes on and slow every CPU matmul; flush them while training."""
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(False)


def fit(out: str | Path, model: ModelConfig | None = None, data: DataConfig | None = None,
        train: TrainConfig | None = None, *, resume: bool = False, from_weights: bool = False,
        epochs: int | None = None, options: TrainOptions | None = None, log: Callable[[str], None] = print,
        **option_values) -> Path:
    """Train a model into the run folder `out` (or continue it with `resume`); return the folder.

    A new run refuses a folder that already holds files. With `resume`, the run goes on with its own settings:
    configs given that differ from them raise SettingsDiffer, which names each difference; only `epochs` (or
    `train.epochs`) may be raised. A NaN or infinite loss raises TrainingDiverged and leaves the last good
    checkpoint as it was; a run stopped before its first checkpoint leaves no folder behind.

    A resume never trains over a trained run from scratch: a run whose train_state is missing (or damaged) but
    whose weights are whole is refused unless `from_weights` asks to continue from the weights with a fresh
    optimizer (its metrics rows are kept); missing weights are written again from train_state.

    `options` (TrainOptions: precision, compile, tensorboard, progress; or the same as keywords, e.g.
    `precision="float32"`) are options of the machine, not of the run: each epoch records the precision it
    trained in in metrics.jsonl, and they may change on resume. A run that has TensorBoard logs goes on writing
    them when resumed.
    """
    out, notes = Path(out), []
    options = replace(options or TrainOptions(), **option_values)
    if from_weights and not resume:
        raise ConfigError("`from_weights` continues a run: pass `resume` too")
    if resume:
        cfg = checkpoint.load_config(out)
        given = [(g, s) for g, s in ((model, cfg.model), (data, cfg.data), (train, cfg.train)) if g is not None]
        check_unchanged(out, given)
        if epochs is None and train is not None:
            epochs = train.epochs
        if (out / checkpoint.WEIGHTS).exists() and not from_weights:
            checkpoint.load(out)           # a damaged weights file stops the run here, before it is replaced
        if epochs is not None and epochs != cfg.train.epochs:
            if cfg.train.lr_schedule != "constant":
                notes.append(f"the {cfg.train.lr_schedule} learning-rate schedule now spans {epochs} epochs instead "
                             f"of {cfg.train.epochs}: the epochs still to train follow it, the trained ones keep "
                             f"their rates")
            cfg = replace(cfg, train=replace(cfg.train, epochs=epochs))
    else:
        cfg = RunConfig(model or ModelConfig(), data or DataConfig(), train or TrainConfig())
        if epochs is not None:
            cfg = replace(cfg, train=replace(cfg.train, epochs=epochs))
    device = choose_device(cfg.train.device)
    used, fallback = precisions.resolve(options.precision, device)
    rank, world, owned = _ranks(device)
    if fallback:
        notes.append(fallback)
    if out.exists() and not out.is_dir():
        raise RunError(f"{out} already exists and is not a folder: choose another `out`")
    if options.tensorboard:
        board.require()                     # before anything is written
    logs = options.tensorboard or (out / board.FOLDER).is_dir()
    if logs and not options.tensorboard and not board.available():
        logs = False
        notes.append(f"{out / board.FOLDER} is not continued: the tensorboard package is not installed")
    created = not out.exists()
    try:
        with lock.writer(out) if rank == 0 else contextlib.nullcontext():      # rank 0 alone writes
            try:
                if rank == 0 and not resume and any(p.name != lock.LOCK for p in out.iterdir()):   # locked: no race
                    created = False
                    raise RunError(f"{out} already exists: pass `resume` to continue that run, or choose another "
                                   f"`out`")
                for note in notes if rank == 0 else ():
                    log(note)
                return _train(out, cfg, "weights" if from_weights else "state" if resume else None,
                              _rank_device(device, world), replace(options, precision=used, tensorboard=logs), rank,
                              world, log)
            except BaseException:       # still under the lock: no other writer can have taken the folder
                if rank == 0 and created and not (out / checkpoint.STATE).exists():
                    shutil.rmtree(out, ignore_errors=True)      # nothing worth keeping: leave no half-made run
                raise
    finally:
        if owned:
            torch.distributed.destroy_process_group()


def _train(out: Path, cfg: RunConfig, resume: str | None, device: torch.device, options: TrainOptions, rank: int,
           world: int, log) -> Path:
    """The loop of `fit`, with the precision resolved (options.precision names a dtype) and the ranks known;
    `resume` is None (a new run), "state" (from train_state) or "weights" (from the weights, a fresh optimizer)."""
    train_x, test_x, test_y = _load_data(cfg.data)
    if len(train_x) == 0 or len(test_x) == 0:
        raise DataError(f"{cfg.data.name}: the {'train' if len(train_x) == 0 else 'test'} split holds no images")
    fp = datasets.fingerprint(train_x)
    if resume and cfg.data.fingerprint and cfg.data.fingerprint != fp:
        raise RunError(f"the training data {cfg.data.name!r} changed since this run started (checksum mismatch); "
                       f"restore the original data or start a new run")
    if tuple(train_x.shape[1:]) != cfg.model.image_shape:
        if resume:
            raise RunError(f"{out}: the data's image shape {tuple(train_x.shape[1:])} differs from the run's "
                           f"{cfg.model.image_shape}")
        cfg = replace(cfg, model=replace(cfg.model, image_shape=tuple(train_x.shape[1:])))
    cfg = replace(cfg, data=replace(cfg.data, fingerprint=fp))
    bs, last = cfg.train.batch_size, len(train_x) % cfg.train.batch_size
    if world > 1 and bs < world:
        raise ConfigError(f"with {world} processes a batch needs at least {world} images; `batch_size` is {bs}")
    if world > 1 and 0 < last < world:
        raise ConfigError(f"with {world} processes every batch needs at least {world} images: `batch_size` {bs} "
                          f"leaves a last batch of {last}; pick another batch size")

    memory.require_fits(training_bytes(cfg.model, cfg.train.batch_size), f"training a model of "
                        f"{parameter_count(cfg.model):,} parameters in batches of {cfg.train.batch_size}",
                        "choose a smaller `latent_dim`, `hidden` or `batch_size`")
    torch.manual_seed(cfg.train.seed)
    net = build(cfg.model).to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=cfg.train.lr, fused=device.type in ("cpu", "cuda"))
    done, metrics, restored = _resume_from(out, cfg, resume, net, optimizer, log if rank == 0 else lambda _: None) \
        if resume else (0, [], False)
    start = done + 1
    _barrier(world)                        # every rank has read the folder before rank 0 writes to it

    def prepare():
        out.mkdir(parents=True, exist_ok=True)
        checkpoint.save_config(out, cfg)
        if restored:
            checkpoint.save_weights(out, cfg, net, done, metrics)
            log(f"{out}: wrote {checkpoint.WEIGHTS} again from {checkpoint.STATE} (epoch {done})")

    def test_numbers():
        with _evaluating(net):
            test = evaluate.neg_elbo(net, test_x, cfg.data.binarize)
            mu = codes(net, test_x[:COLLAPSE_IMAGES], cfg.data.binarize)[0]
        return [test["neg_elbo"], test["recon"], test["kl"], evaluate.active_units(mu)]

    train_x = train_x.to(device)
    step = _make_step(net, optimizer, world, device, precisions.DTYPES[options.precision], options.compile)
    _on_rank0(prepare, rank, world, device)
    if start > cfg.train.epochs and rank == 0:
        log(f"{out}: all {cfg.train.epochs} epochs are already done")
    shown = board.Board(out, start, test_x, test_y, cfg.model.latent_dim) if options.tensorboard and rank == 0 \
        else None
    warned = False                  # the collapse warning, once per run
    with _flush_denormals(), contextlib.closing(shown) if shown else contextlib.nullcontext():
        for epoch in range(start, cfg.train.epochs + 1):
            row = _epoch(net, optimizer, step, train_x, cfg, epoch, device, rank, world, options.progress)
            row.update(precision=options.precision, compile=options.compile)
            *numbers, active = _on_rank0(test_numbers, rank, world, device, 4)
            row.update(zip(("test_neg_elbo", "test_recon", "test_kl"), numbers))
            _check_finite(row, epoch, out, metrics)
            metrics.append(row)
            if shown:       # before the checkpoint: a resume drops events past it (purge_step), never misses one
                with _evaluating(net):
                    shown.epoch(row, cfg.model.beta, net, cfg.train.epochs)
                    if epoch == cfg.train.epochs:
                        shown.project(net, epoch)
            _on_rank0(lambda: checkpoint.save_state(out, cfg, net, optimizer, epoch, metrics), rank, world, device)
            if rank == 0:
                log(f"epoch {epoch}/{cfg.train.epochs}  train -ELBO {row['train_neg_elbo']:.2f}  "
                    f"test -ELBO {row['test_neg_elbo']:.2f}  (recon {row['test_recon']:.2f} + KL "
                    f"{row['test_kl']:.2f})  {row['seconds']:.1f} s  {row['samples_per_s']:,.0f} samples/s")
                if cfg.model.kind == "vae" and active == 0 and not warned:
                    warned = True
                    log(f"warning: no active units after epoch {epoch}: the codes of the test images do not vary "
                        f"with the image (test KL {row['test_kl']:.2f} nats), so they carry nothing of it; try a KL "
                        f"warm-up (--kl-warmup 3), a smaller --beta, or --likelihood gaussian")
    return out


def _resume_from(out: Path, cfg: RunConfig, source: str, net, optimizer, log) -> tuple[int, list[dict], bool]:
    """Load what a resume continues from: (epochs done, their metrics rows, whether the weights file must be
    written again from train_state). Refuses a resume that would train a trained run again from epoch 1."""
    state, weights = checkpoint.run_file(out, checkpoint.STATE), checkpoint.run_file(out, checkpoint.WEIGHTS)
    if source == "weights":
        done, metrics = checkpoint.load_weights(out, cfg, net)
        log(f"{out}: continuing from {checkpoint.WEIGHTS} (epoch {done}) with a fresh optimizer")
        return done, metrics, False
    if state.is_file():
        done, metrics = checkpoint.restore_state(out, cfg, net, optimizer)
        return done, metrics, not weights.is_file()
    rows = checkpoint.read_metrics(out)
    if weights.is_file() or rows:
        trained = f"weights of epoch {checkpoint.load_weights(out, cfg, net)[0]}" if weights.is_file() else \
            f"{len(rows)} rows of {checkpoint.METRICS}"
        raise RunError(f"{out}: no {checkpoint.STATE}, and resuming would train from epoch 1 over its {trained}; "
                       f"restore {checkpoint.STATE} from a copy, or continue from the weights with a fresh optimizer "
                       f"(`from_weights`)")
    return 0, [], False                    # stopped before its first checkpoint: nothing trained to keep


# -- several processes (torchrun) ----------------------------------------------------------------------------

def _ranks(device: torch.device) -> tuple[int, int, bool]:
    """(rank, world size, whether this call joined the process group): (0, 1, False) in one process."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return 0, 1, False
    if torch.distributed.is_initialized():
        return torch.distributed.get_rank(), world, False
    try:
        torch.distributed.init_process_group("nccl" if device.type == "cuda" else "gloo")
    except ValueError as e:
        raise ConfigError(f"WORLD_SIZE is {world} but this process was not started by torchrun ({e}); start it "
                          f"with torchrun, or unset WORLD_SIZE") from None
    return torch.distributed.get_rank(), world, True


def _rank_device(device: torch.device, world: int) -> torch.device:
    """One GPU per process: cuda:LOCAL_RANK."""
    if world > 1 and device.type == "cuda":
        if device.index is not None:
            raise ConfigError("under torchrun each process takes the GPU of its LOCAL_RANK: use `device` cuda, "
                              f"not {device}")
        local, count = int(os.environ.get("LOCAL_RANK", "0")), torch.cuda.device_count()
        if local >= count:
            raise ConfigError(f"process {local} has no GPU of its own: this machine has {count}; start at most "
                              f"{count} processes per machine (--nproc_per_node)")
        device = torch.device("cuda", local)
        torch.cuda.set_device(device)
    return device


def _barrier(world: int) -> None:
    if world > 1:
        torch.distributed.barrier()


def _sum_over_ranks(t: torch.Tensor, world: int) -> torch.Tensor:
    if world > 1:
        t = t.clone()
        torch.distributed.all_reduce(t)
    return t


def _on_rank0(fn, rank: int, world: int, device: torch.device, size: int = 0) -> list[float]:
    """Run fn on rank 0 alone and hand its `size` numbers to every rank (as a tensor: nothing is pickled).

    A LatentwalkError or OSError there is raised on every rank (elsewhere as a RunError with its message), so
    that no rank is left waiting in a collective for a process that has stopped.
    """
    if world == 1:
        result = fn()
        return list(result) if size else []
    values = torch.zeros(size, dtype=torch.float64, device=device)
    message = torch.zeros(1024, dtype=torch.uint8, device=device)
    error = None
    if rank == 0:
        try:
            result = fn()
            if size:
                values.copy_(torch.tensor(result, dtype=torch.float64))
        except (LatentwalkError, OSError) as e:
            error, raw = e, (str(e) or type(e).__name__).encode()[:1024]
            message[:len(raw)] = torch.tensor(list(raw), dtype=torch.uint8)
    torch.distributed.broadcast(values, 0)
    torch.distributed.broadcast(message, 0)
    if error is not None:
        raise error
    if message.any():
        raise RunError(bytes(message.cpu().tolist()).rstrip(b"\0").decode("utf-8", "replace"))
    return values.tolist()


def _make_step(net, optimizer, world: int, device: torch.device, amp: torch.dtype | None, compiled: bool):
    """step(x, eps, weight, kl_scale) -> Loss: loss, gradients and one optimizer step for this rank's slice of a
    batch, with the KL weight multiplied by `kl_scale` (the warm-up).

    The slice's loss is weighted by its share of the batch (`weight` = 1 in one process), so that DDP's
    average over ranks is the gradient of the whole batch's mean loss.
    """
    module = torch.nn.parallel.DistributedDataParallel(net) if world > 1 else net
    if compiled:
        module = torch.compile(module)
    scaler = torch.amp.GradScaler(device.type) if amp == torch.float16 else None

    def step(x, eps, weight, kl_scale):
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=amp or torch.float32, enabled=amp is not None):
            loss = module(x, eps)
        total = loss.objective(kl_scale) * weight
        if scaler is None:
            total.backward()
            optimizer.step()
        else:
            scaler.scale(total).backward()
            scaler.step(optimizer)
            scaler.update()
        return loss
    return step


def _check_finite(row: dict, epoch: int, out: Path, metrics: list[dict]) -> None:
    bad = [k for k, v in row.items() if isinstance(v, float) and not math.isfinite(v)]
    if bad:
        kept = f"the checkpoint of epoch {metrics[-1]['epoch']} in {out} is kept" if metrics else "nothing was saved"
        raise TrainingDiverged(f"the loss became {row[bad[0]]} in epoch {epoch} ({bad[0]}): training stopped and "
                               f"{kept}; lower the learning rate (`lr`) or check the data")


def _epoch(net, optimizer, step, train_x: torch.Tensor, cfg: RunConfig, epoch: int, device: torch.device,
           rank: int = 0, world: int = 1, progress: bool = True) -> dict:
    """One pass over the training set in shuffled batches; returns the epoch's metrics row."""
    n, bs, d = len(train_x), cfg.train.batch_size, cfg.model.latent_dim
    for group in optimizer.param_groups:
        group["lr"] = cfg.train.lr_at(epoch)
    g = epoch_generator(cfg.train.seed, epoch, device)
    order = torch.randperm(n, generator=g, device=device)
    sums = torch.zeros(2, dtype=torch.float64, device=device)          # reconstruction, KL (image-weighted)
    beta = cfg.model.beta                                               # -ELBO = recon + beta KL, warm-up or not
    net.train()
    t0 = time.perf_counter()
    steps = math.ceil(n / bs)
    bar = tqdm(total=steps, desc=f"epoch {epoch}", leave=False, disable=None if rank == 0 and progress else True,
               file=sys.stderr)
    for i in range(steps):
        idx = order[i * bs:(i + 1) * bs]
        x = datasets.to_float(train_x[idx].to(device), cfg.data.binarize, g)
        eps = torch.randn(len(idx), d, generator=g, device=device)
        lo, hi = rank * len(idx) // world, (rank + 1) * len(idx) // world      # this rank's slice
        loss = step(x[lo:hi], eps[lo:hi], (hi - lo) * world / len(idx), cfg.train.kl_scale_at(epoch - 1 + i / steps))
        sums += torch.stack([loss.recon, loss.kl]).detach().double() * (hi - lo)
        if (i + 1) % CHECK_EVERY == 0 or i + 1 == steps:
            seen = min((i + 1) * bs, n)
            recon, kl = (_sum_over_ranks(sums, world) / seen).tolist()
            total = recon + beta * kl
            if not math.isfinite(total):
                break   # reported by _check_finite with the epoch's row (every rank sees the same sum)
            bar.set_postfix_str(f"loss {total:.2f} recon {recon:.2f} KL {kl:.2f} "
                                f"{seen / (time.perf_counter() - t0):,.0f} samples/s", refresh=False)
        bar.update(1)
    bar.close()
    seconds = time.perf_counter() - t0
    recon, kl = (_sum_over_ranks(sums, world) / n).tolist()
    total = recon + beta * kl
    return {"epoch": epoch, "train_neg_elbo": total, "train_recon": recon, "train_kl": kl,
            "seconds": seconds, "samples_per_s": n / seconds, "lr": cfg.train.lr_at(epoch),
            "kl_scale": cfg.train.kl_scale_at(epoch)}
