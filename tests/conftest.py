"""Shared fixtures: small real data (slices of the bundled MNIST) and small trained runs."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

# OpenMP threads that wait at a barrier sleep instead of spinning (set before torch loads libgomp; the processes
# the tests start inherit it). On two cores shared with other work a spinning thread holds a core the other one
# needs: 150 steps of a geodesic (z = 500) took 11.6 s spinning and 6.0 s sleeping with one core busy elsewhere,
# 13.6 and 6.8 s with both busy, 3.4 and 4.7 s on an idle machine.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import pytest

from latentwalk.cli import main
from latentwalk.data import datasets
from latentwalk.measure import classifier
from latentwalk.models import ModelConfig
from latentwalk.run.config import DataConfig, TrainConfig
from latentwalk.training.fit import fit

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"       # Debian's (Playwright cannot download its own browser here)
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    """Run `latentwalk ARGV` in this process: (exit code, stdout, stderr)."""
    try:
        main(list(map(str, argv)))
        code = 0
    except SystemExit as e:
        code = e.code
    out = capsys.readouterr()
    return code, out.out, out.err


def one_line_error(capsys, *argv) -> str:
    """Run a command that must fail: exit code 2 and exactly one line on stderr, which is returned."""
    code, _, err = run_cli(capsys, *argv)
    assert code == 2, err
    assert err.startswith("latentwalk: error: ") and err.count("\n") == 1, err
    return err


RUN_FILES = ["config.json", "metrics.jsonl", "train_state.safetensors", "weights.safetensors"]


def snapshot(run: Path) -> dict[str, bytes]:
    """Every file of a run folder, by name: compared before and after to show nothing was written."""
    return {p.name: p.read_bytes() for p in sorted(run.iterdir())}


@contextlib.contextmanager
def deadline(seconds: int):
    """A command run in this process that goes on past `seconds` is interrupted as Ctrl-C would (a server that
    started stops too): its exit code 130 then fails the test instead of a hang holding the suite."""
    previous = signal.signal(signal.SIGALRM, lambda *_: os.kill(os.getpid(), signal.SIGINT))
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def wait_for(condition: Callable[[], object], timeout: float, poll: float = 0.05) -> None:
    """Poll `condition` until it holds or `timeout` seconds pass (then the caller's own asserts say what is wrong)."""
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(poll)


def children(pid: int) -> list[int]:
    """The process ids whose parent is `pid` (Linux: read from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue                                      # ended while we read
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    """Whether process `pid` still runs (a zombie, dead but not yet reaped, does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def start_serve(*args, cwd: Path = ROOT) -> tuple[subprocess.Popen, str]:
    """`latentwalk serve ARGS` in a process of its own, from `cwd`: the process and the URL it prints (with its
    ?token=, which `split_url` separates)."""
    proc = subprocess.Popen([sys.executable, "-m", "latentwalk", "serve", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, cwd=cwd)
    timer = threading.Timer(120, proc.kill)          # a server that never prints its URL fails the test
    timer.start()
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if line.startswith("latentwalk explorer: "):
            timer.cancel()
            return proc, line.split()[2]
    timer.cancel()
    raise AssertionError(f"no URL printed: {''.join(lines)[-2000:]}")


def split_url(url: str) -> tuple[str, str]:
    """The printed URL's base (ending in "/") and its token."""
    base, _, token = url.partition("?token=")
    return base, token


def stop(proc, sig) -> str:
    proc.send_signal(sig)
    out, _ = proc.communicate(timeout=20)
    return out


@pytest.fixture(scope="session")
def mnist_train():
    return datasets.load("mnist", "train")


@pytest.fixture(scope="session")
def small_npz(tmp_path_factory, mnist_train) -> Path:
    """2,000 real MNIST digits with labels, as an npz data set (a tenth is held out as its test split)."""
    images, labels = mnist_train
    path = tmp_path_factory.mktemp("data") / "mnist2k.npz"
    np.savez(path, x=images[:2000, 0].numpy(), y=labels[:2000].numpy())
    return path


def train_small(out: Path, data: Path, epochs: int = 2, compile: bool = False, precision: str = "auto",
                log=lambda s: None, tensorboard: bool = False, batch_size: int = 64, **model) -> Path:
    """A quick real training run on the small data set (seconds)."""
    cfg = {"latent_dim": 2, "hidden": (64, 32), **model}
    return fit(out, ModelConfig(**cfg), DataConfig(str(data)),
               TrainConfig(epochs=epochs, batch_size=batch_size, seed=0, device="cpu"), log=log, compile=compile,
               precision=precision, tensorboard=tensorboard)


class Interrupted(Exception):
    pass


def stop_after(epoch: int):
    """A log for fit that interrupts the run once epoch `epoch` is saved (as Ctrl-C would then)."""
    def log(line: str) -> None:
        if line.startswith(f"epoch {epoch}/"):
            raise Interrupted(line)
    return log


@pytest.fixture(scope="session")
def small_run(tmp_path_factory, small_npz) -> Path:
    return train_small(tmp_path_factory.mktemp("runs") / "vae", small_npz, epochs=3, latent_dim=4)


@pytest.fixture(scope="session")
def digit_net():
    return classifier.load()
