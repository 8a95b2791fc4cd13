"""Every command-line error path: one line on stderr, exit code 2, nothing overwritten."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import ROOT, one_line_error, run_cli
from latentwalk.run import checkpoint


@pytest.mark.parametrize("argv, message", [
    (["train", "--latent-dim", "0", "--out", "{tmp}/r"], "--latent-dim must be an integer in 1..1048576, got 0"),
    (["train", "--data", "cifar", "--out", "{tmp}/r"], "unknown data set 'cifar'"),
    (["train", "--hidden", "200,x", "--out", "{tmp}/r"], "comma-separated integers"),
    (["train", "--size", "big", "--out", "{tmp}/r"], "expected a size like 28"),
    (["train", "--epochs", "0", "--out", "{tmp}/r"], "--epochs must be an integer in 1..100000, got 0"),
    (["train", "--batch-size", "-5", "--out", "{tmp}/r"], "--batch-size must be an integer in 1..1048576, got -5"),
    (["train", "--lr", "nan", "--out", "{tmp}/r"], "--lr must be a finite number > 0, got nan"),
    (["train", "--kl-warmup", "-1", "--out", "{tmp}/r"], "--kl-warmup must be an integer in 0..100000, got -1"),
    (["train", "--activation", "gelu", "--out", "{tmp}/r"], "invalid choice: 'gelu'"),
    (["train", "--model", "gan", "--out", "{tmp}/r"], "invalid choice: 'gan'"),
    (["train", "--device", "tpu", "--out", "{tmp}/r"], "unknown device 'tpu'"),
    (["train", "--resume", "--out", "{tmp}/none"], "no such run folder"),
    (["train"], "the following arguments are required: --out"),
    (["evaluate", "{tmp}/none"], "no such run folder"),
    (["evaluate", "{tmp}"], "not a latentwalk run folder"),
    (["grid", "{tmp}/none"], "no such run folder"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
])
def test_error_paths(capsys, tmp_path, argv, message):
    err = one_line_error(capsys, *[a.format(tmp=tmp_path) for a in argv])
    assert message in err
    assert not (tmp_path / "r").exists()


def test_resume_refuses_new_settings_named_as_typed(capsys, small_run):
    before = {p.name: p.read_bytes() for p in small_run.iterdir()}
    err = one_line_error(capsys, "train", "--resume", "--out", small_run, "--latent-dim", "3", "--model", "ae",
                         "--hidden", "64,16", "--binarize", "--batch-size", "64")     # the batch size is the run's
    assert "--latent-dim 3 differs from its --latent-dim 4" in err and "--model ae differs from its --model vae" in err
    assert "--hidden 64,16 differs from its --hidden 64,32" in err
    assert "--binarize differs from its no --binarize" in err
    assert "batch" not in err and err.rstrip().endswith("(only --epochs may change)")
    err = one_line_error(capsys, "train", "--resume", "--out", small_run, "--size", "32", "--rgb")
    assert "--size 32x32 differs from its no --size" in err and "--rgb differs from its neither --greyscale" in err
    assert {p.name: p.read_bytes() for p in small_run.iterdir()} == before


def test_resume_accepts_the_same_command_again(capsys, small_npz, tmp_path):
    """A user re-running the command that started the run, with --resume added and more epochs."""
    command = ["train", "--data", small_npz, "--hidden", "32", "--latent-dim", "2", "--model", "vae",
               "--batch-size", "64", "--seed", "0", "--device", "cpu", "--out", tmp_path / "run"]
    assert run_cli(capsys, *command, "--epochs", "1")[0] == 0
    respelled = [str(small_npz.parent / "." / small_npz.name) if a == small_npz else a for a in command]
    code, out, err = run_cli(capsys, *respelled, "--resume", "--epochs", "2")
    assert code == 0, err
    assert [m["epoch"] for m in checkpoint.read_metrics(tmp_path / "run")] == [1, 2]


def test_out_folder_is_never_overwritten(capsys, small_run):
    before = {p.name: p.read_bytes() for p in small_run.iterdir()}
    err = one_line_error(capsys, "train", "--out", small_run, "--epochs", "1")
    assert "already exists: pass --resume" in err
    assert {p.name: p.read_bytes() for p in small_run.iterdir()} == before


def test_evaluate_checks_its_numbers(capsys, small_run):
    assert "--limit must be >= 1" in one_line_error(capsys, "evaluate", small_run, "--limit", "0")
    assert "--k must be an integer in 1..100,000" in one_line_error(capsys, "evaluate", small_run, "--k", "0",
                                                                    "--limit", "5")


def test_corrupt_weights_via_cli(capsys, small_run, tmp_path):
    run = tmp_path / "copy"
    run.mkdir()
    for p in small_run.iterdir():
        (run / p.name).write_bytes(p.read_bytes())
    (run / "weights.safetensors").write_bytes(b"\x00" * 100)
    before = (run / "weights.safetensors").read_bytes()
    assert "weights.safetensors: damaged" in one_line_error(capsys, "evaluate", run)
    assert (run / "weights.safetensors").read_bytes() == before


def test_grid_of_a_4d_model_needs_dims(capsys, small_run):
    assert "a grid of a 4-D model needs --dims I J" in one_line_error(capsys, "grid", small_run)


def test_evaluate_json(capsys, small_run):
    code, out, _ = run_cli(capsys, "evaluate", small_run, "--k", "20", "--limit", "100", "--json")
    assert code == 0
    r = json.loads(out)
    assert {"neg_elbo", "nll_iwae", "k", "active_units", "kl_per_dim", "recon"} <= set(r)
    assert 0 < r["nll_iwae"] <= r["neg_elbo"] and r["k"] == 20


@pytest.mark.slow
def test_console_script_train_and_grid(tmp_path, small_npz):
    """The installed `latentwalk` command end to end, as a user runs it."""
    exe = [str(Path(sys.executable).parent / "latentwalk")]          # the console script of [project.scripts]
    run = tmp_path / "vae2"
    p = subprocess.run([*exe, "train", "--data", small_npz, "--epochs", "2", "--hidden", "64,32", "--out", run],
                       capture_output=True, text=True, cwd=ROOT)
    assert p.returncode == 0, p.stderr
    lines = [l for l in p.stdout.splitlines() if l.startswith("epoch")]
    assert len(lines) == 2 and "test -ELBO" in lines[0]        # one line per epoch when not a terminal
    p = subprocess.run([*exe, "grid", run, "--size", "10"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert f"wrote {run / 'figures' / 'grid.png'}" in p.stdout
    img = np.asarray(Image.open(run / "figures" / "grid.png").convert("L"))
    assert img.shape[0] > 400 and img.shape[1] > 400 and img.std() > 20   # a real mosaic, not blank
    p = subprocess.run([*exe, "evaluate", tmp_path / "missing"], capture_output=True, text=True)
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and "Traceback" not in p.stderr


def test_help_has_examples(capsys):
    code, out, _ = run_cli(capsys, "--help")
    assert code == 0 and "latentwalk train --model vae --latent-dim 2" in out
