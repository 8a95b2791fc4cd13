"""Train several runs at once, each in a worker process on its share of the cores (the demo's four models).

Small MLPs use a second core poorly: an epoch of the 784-200-200-10 VAE takes 0.80 s on two threads and
0.97 s on one, so two models trained side by side, one core each, finish about 1.6x sooner than one after
the other (benchmarks/RESULTS.md). The longest run starts first; when fewer runs are left than workers, the
ones still going take the freed cores at their next epoch (so the thread count of a run depends on timing;
on the machine of RESULTS.md the demo's models came out identical on one thread and on two). Each worker
prints its own lines, prefixed with its run's name, and dies with the process that started it, even when that
one is killed (`kill -9`): a later run then resumes from the last finished epoch. The first error (or
Ctrl-C) stops every run at its next epoch and is raised.
"""

from __future__ import annotations

import ctypes
import dataclasses
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import torch

from ..errors import RunError
from ..models.autoencoder import ModelConfig
from ..run import checkpoint
from ..run.config import DataConfig, TrainConfig
from ..training.fit import fit

_shared = {}        # in each worker: the parent's pid, unfinished runs, the stop flag, cores and workers


def cores() -> int:
    """The cores this process may run on (its affinity, where the system has one)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _start(parent: int, left, stop, n: int, workers: int) -> None:
    if sys.platform == "linux":                 # die with the parent, even when it is killed (PR_SET_PDEATHSIG)
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)
    _shared.update(parent=parent, left=left, stop=stop, cores=n, workers=workers)
    torch.set_num_threads(max(1, n // workers))


def _check(run: Path, model: ModelConfig, train: TrainConfig) -> None:
    """A run folder that already holds a run must hold this one (before any worker starts)."""
    if (run / checkpoint.CONFIG).exists():
        cfg = checkpoint.load_config(run)
        if cfg.model != dataclasses.replace(model, image_shape=cfg.model.image_shape) or cfg.train != train:
            raise RunError(f"{run} holds a run with other settings; remove it or choose another --out")


def _train_or_reuse(run: Path, model: ModelConfig, train: TrainConfig, data: DataConfig) -> None:
    """Train or resume one run (in a worker)."""
    def log(line: str) -> None:
        if os.getppid() != _shared["parent"]:          # the parent was killed: stop after the checkpoint just written
            os._exit(1)
        if _shared["stop"].value:
            raise RunError("stopped: another run failed or the demo was interrupted")
        with _shared["left"].get_lock():
            busy = min(_shared["workers"], _shared["left"].value)
        torch.set_num_threads(max(1, _shared["cores"] // max(1, busy)))
        print(f"{run.name}: {line}", flush=True)

    try:
        if (run / checkpoint.CONFIG).exists():
            log(f"resuming at epoch {checkpoint.last_epoch(run) + 1} of {train.epochs}")
            fit(run, resume=True, log=log, progress=False)
        else:
            log(f"training {'an AE' if model.kind == 'ae' else 'a VAE'} with z = {model.latent_dim} for "
                f"{train.epochs} epochs")
            fit(run, model, data, train, log=log, progress=False)
    finally:
        with _shared["left"].get_lock():
            _shared["left"].value -= 1


def train_all(runs: dict[Path, tuple[ModelConfig, TrainConfig, DataConfig]], log: Callable[[str], None] = print,
              cost: Callable[[ModelConfig], float] = lambda m: m.latent_dim) -> None:
    """Train (or resume, or reuse) each run folder with its settings, as many at once as there are cores;
    `cost` orders them, the largest first. The first error stops the runs not yet started and is raised."""
    for run, (model, train, _) in runs.items():
        _check(run, model, train)
    trained = [run for run, (_, train, _) in runs.items()
               if (run / checkpoint.CONFIG).exists() and checkpoint.last_epoch(run) >= train.epochs]
    for run in trained:                         # no worker (each one's start-up imports torch) for what is done
        log(f"{run.name}: reusing the trained model ({runs[run][1].epochs} epochs)")
    runs = {run: settings for run, settings in runs.items() if run not in trained}
    if not runs:
        return
    n = cores()
    workers = min(len(runs), n)
    log(f"training {len(runs)} model{'s' if len(runs) > 1 else ''}, {workers} at a time on {n} "
        f"core{'s' if n > 1 else ''}")
    context = multiprocessing.get_context("spawn")
    left, stop = context.Value("i", len(runs)), context.Value("b", 0)
    order = sorted(runs, key=lambda run: -cost(runs[run][0]))
    try:
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_start,
                                 initargs=(os.getpid(), left, stop, n, workers)) as pool:
            jobs = [pool.submit(_train_or_reuse, run, *runs[run]) for run in order]
            try:
                wait(jobs, return_when=FIRST_EXCEPTION)
                failed = next((job.exception() for job in jobs if job.done() and job.exception()), None)
                if failed is not None:
                    raise failed
            except BaseException:
                stop.value = 1                  # the runs still going stop at their next epoch
                pool.shutdown(cancel_futures=True)
                raise
    except BrokenProcessPool as e:
        raise RunError(f"a training worker died ({e}); run the demo again to resume from the last epochs "
                       f"saved") from None
