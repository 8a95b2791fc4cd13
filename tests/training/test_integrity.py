"""A run folder detects its own damage: each checkpoint file carries checksums (run/checkpoint.py), each
damaged or missing file is one line naming it and what to do, and nothing is retrained, overwritten or
evaluated from damaged weights. The one command each message names mends the folder."""

import contextlib
import json
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from conftest import RUN_FILES, deadline, one_line_error, run_cli, snapshot, train_small
from latentwalk import atomic
from latentwalk.errors import RunError
from latentwalk.run import checkpoint

@pytest.fixture(scope="module")
def trained(tmp_path_factory, small_npz) -> Path:
    """A run of 3 epochs: the folder each test damages a copy of."""
    return train_small(tmp_path_factory.mktemp("integrity") / "run", small_npz, epochs=3)


@pytest.fixture
def run(trained, tmp_path) -> Path:
    copy = tmp_path / "run"
    shutil.copytree(trained, copy)
    return copy


def same_file(path: Path, original: bytes) -> bool:
    """A safetensors file holds what `original` held: the same tensors and metadata (safetensors writes the
    metadata's keys in no fixed order)."""
    copy = path.with_name("original.safetensors")
    copy.write_bytes(original)
    try:
        a, b = load_file(path), load_file(copy)
        return checkpoint._header(path) == checkpoint._header(copy) and a.keys() == b.keys() \
            and all(torch.equal(a[k], b[k]) for k in a)
    finally:
        copy.unlink()


def flip_bit(path: Path, offset: int) -> None:
    """One bit of the file flipped, counted from its end when `offset` < 0 (a safetensors file's data comes last)."""
    raw = bytearray(path.read_bytes())
    raw[offset] ^= 0x40
    path.write_bytes(bytes(raw))


def refused_everywhere(capsys, run: Path, message: str, commands=("evaluate", "serve", "resume")) -> None:
    """Each command stops with one line holding `message` (its parts between "*"), and the folder is left byte
    for byte as it was."""
    before = snapshot(run)
    argv = {"evaluate": ["evaluate", run, "--k", "2", "--limit", "50"],
            "serve": ["serve", run, "--port", "0"],
            "resume": ["train", "--resume", "--out", run, "--epochs", "4"]}
    for command in commands:
        with deadline(120):
            err = one_line_error(capsys, *argv[command])
        assert all(part in err for part in message.split("*")), (command, err)
        assert snapshot(run) == before, command


def test_each_checkpoint_file_records_its_checksums(trained):
    cfg = checkpoint.load_config(trained)
    for name in ("weights.safetensors", "train_state.safetensors"):
        meta = checkpoint._header(trained / name)
        assert meta["epoch"] == "3" and meta["metrics_rows"] == "3"
        assert json.loads(meta["tensors_crc32"]) == checkpoint.tensor_checksums(load_file(trained / name))
        assert meta["settings_sha256"] == checkpoint.settings_sha256(cfg)


def test_a_flipped_bit_in_the_weights(run, capsys):
    original = (run / "weights.safetensors").read_bytes()
    flip_bit(run / "weights.safetensors", -5)
    refused_everywhere(capsys, run, f"{run / 'weights.safetensors'}: damaged (tensor * differs from its "
                       f"recorded checksum); train_state.safetensors holds the weights: delete weights.safetensors "
                       f"and run `latentwalk train --resume --out {run}`, which writes it again")
    (run / "weights.safetensors").unlink()                      # as the message says
    code, out, err = run_cli(capsys, "train", "--resume", "--out", run)
    assert code == 0, err
    assert "wrote weights.safetensors again from train_state.safetensors (epoch 3)" in out
    assert same_file(run / "weights.safetensors", original)


def test_missing_weights_are_written_again_from_train_state(run, capsys):
    original = snapshot(run)
    (run / "weights.safetensors").unlink()
    err = one_line_error(capsys, "evaluate", run, "--k", "2")
    assert err == (f"latentwalk: error: {run}: no weights.safetensors, but train_state.safetensors holds the weights "
                   f"of epoch 3: `latentwalk train --resume --out {run}` writes them again\n")
    code, _, err = run_cli(capsys, "train", "--resume", "--out", run)      # all 3 epochs done: only the restore
    assert code == 0, err
    after = snapshot(run)
    assert sorted(after) == sorted(original)
    assert all(after[k] == original[k] for k in RUN_FILES if k != "weights.safetensors")
    assert same_file(run / "weights.safetensors", original["weights.safetensors"])


def test_a_flipped_bit_in_train_state(run, capsys, trained):
    flip_bit(run / "train_state.safetensors", -5)
    refused_everywhere(capsys, run, f"{run / 'train_state.safetensors'}: damaged (tensor * differs from its "
                       f"recorded checksum); restore it from a copy, or continue from the weights with a "
                       f"fresh optimizer: `latentwalk train --resume --from-weights --out {run}`", ["resume"])
    code, _, err = run_cli(capsys, "evaluate", run, "--k", "2", "--limit", "50")     # the weights are whole
    assert code == 0, err
    code, out, err = run_cli(capsys, "train", "--resume", "--from-weights", "--out", run, "--epochs", "4")
    assert code == 0, err
    assert f"{run}: continuing from weights.safetensors (epoch 3) with a fresh optimizer" in out
    rows = checkpoint.read_metrics(run)
    assert rows[:3] == checkpoint.read_metrics(trained) and [r["epoch"] for r in rows] == [1, 2, 3, 4]


def test_resume_without_train_state_loses_nothing(run, capsys, trained):
    """A trained run whose train_state is gone was trained again from epoch 1 over its weights and metrics."""
    (run / "train_state.safetensors").unlink()
    refused_everywhere(capsys, run, f"{run}: no train_state.safetensors, and resuming would train from epoch 1 over "
                       f"its weights of epoch 3; restore train_state.safetensors from a copy, or continue from the "
                       f"weights with a fresh optimizer (--from-weights)", ["resume"])
    code, _, err = run_cli(capsys, "train", "--resume", "--from-weights", "--out", run, "--epochs", "5")
    assert code == 0, err
    rows = checkpoint.read_metrics(run)
    assert rows[:3] == checkpoint.read_metrics(trained) and [r["epoch"] for r in rows] == [1, 2, 3, 4, 5]
    assert checkpoint.last_epoch(run) == 5


def test_metrics_without_weights_or_state_are_not_overwritten(run, capsys):
    (run / "train_state.safetensors").unlink()
    (run / "weights.safetensors").unlink()
    refused_everywhere(capsys, run, "no train_state.safetensors, and resuming would train from epoch 1 over its 3 "
                       "rows of metrics.jsonl", ["resume"])


@pytest.mark.parametrize("old, new", [(b'"epoch": 2, "train_neg_elbo": 2', b'"epoch": 2, "train_neg_elbo": 3')])
def test_a_changed_row_of_metrics(run, capsys, old, new):
    text = (run / "metrics.jsonl").read_bytes()
    assert old in text
    (run / "metrics.jsonl").write_bytes(text.replace(old, new))
    refused_everywhere(capsys, run, f"{run / 'metrics.jsonl'}: damaged (its first 3 rows differ from the checksum "
                       f"train_state.safetensors recorded); restore it from a copy", ["serve", "resume"])


def test_a_changed_setting_in_config(run, capsys):
    """A valid config.json with another learning rate: the weights were not trained with it."""
    text = (run / "config.json").read_text()
    assert '"lr": 0.001' in text
    (run / "config.json").write_text(text.replace('"lr": 0.001', '"lr": 0.003'))
    refused_everywhere(capsys, run, f"{run / 'config.json'}: its settings are not those weights.safetensors was "
                       f"trained with (damaged or edited); restore it from a copy")


def test_raising_the_epochs_is_not_a_change_of_settings(run):
    import latentwalk
    from latentwalk.training.fit import fit

    fit(run, resume=True, epochs=4, log=lambda s: None)
    assert checkpoint.load_config(run).train.epochs == 4 and checkpoint.last_epoch(run) == 4
    latentwalk.load(run)


def test_every_bit_flip_in_the_weights_is_caught(trained, tmp_path):
    """A flip anywhere in the file, header included: an error, never weights loaded as if whole."""
    size = (trained / "weights.safetensors").stat().st_size
    run = tmp_path / "run"
    shutil.copytree(trained, run)
    original = (run / "weights.safetensors").read_bytes()
    caught = 0
    for offset in range(0, size, max(1, size // 300)):
        (run / "weights.safetensors").write_bytes(original)
        flip_bit(run / "weights.safetensors", offset)
        try:
            checkpoint.load(run)
        except RunError:
            caught += 1
            continue
        # a flip the file format itself absorbs (JSON whitespace of the header): the tensors must be the very same
        loaded = load_file(run / "weights.safetensors")
        whole = load_file(trained / "weights.safetensors")
        assert all(torch.equal(loaded[k], whole[k]) for k in whole), offset
    assert caught >= 290


def test_temporary_files_of_every_kind_go_when_the_run_is_next_written(run):
    from latentwalk.training.fit import fit

    names = [".weights.k1ll3d00.tmp.safetensors", ".metrics.abc_1234.tmp.jsonl", ".measures.zz99zz99.tmp.json",
             ".gmm.q1w2e3r4.tmp.safetensors", ".config.00000000.tmp.json"]
    for name in names:
        (run / name).write_bytes(b"half")
    (run / "notes.tmp.txt").write_text("the user's own")            # not a name the atomic writer gives
    assert [p.name for p in atomic.leftovers(run)] == sorted(names)
    fit(run, resume=True, log=lambda s: None)
    assert sorted(p.name for p in run.iterdir()) == sorted(RUN_FILES + ["notes.tmp.txt"])


@pytest.fixture
def small_disk(tmp_path):
    """A real 2 MB tmpfs (mounting needs root: skipped elsewhere)."""
    import subprocess

    mount = tmp_path / "disk"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True).returncode:
        pytest.skip("mounting a tmpfs needs root")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_a_full_disk_is_one_line_and_keeps_the_last_checkpoint(small_disk, small_npz, capsys):
    """A 784-64-32-2 VAE's checkpoint takes 1.6 MB: the first fits, the second (written beside it) does not."""
    run = small_disk / "run"
    err = one_line_error(capsys, "train", "--data", small_npz, "--hidden", "64,32", "--epochs", "3", "--batch-size",
                         "64", "--device", "cpu", "--out", run)
    assert f"{run}: could not write the checkpoint of epoch 2 (" in err and "the files there are whole" in err, err
    assert checkpoint.last_epoch(run) == 1 and checkpoint.load(run).weights_sha256
    assert sorted(p.name for p in run.iterdir()) == [".lock", *RUN_FILES] or \
        sorted(p.name for p in run.iterdir()) == RUN_FILES                          # no temporary file left


def test_a_write_error_of_the_tensor_library_is_one_line(run, monkeypatch):
    """safetensors raises its own error type for a failed write (not OSError): the same one line."""
    from safetensors import SafetensorError

    from latentwalk.training.fit import fit

    before = snapshot(run)

    def failing(tensors, path, metadata=None):
        Path(path).write_bytes(b"\0" * 100)
        raise SafetensorError("Error while serializing: IoError(No space left on device)")

    monkeypatch.setattr(checkpoint, "save_file", failing)
    with pytest.raises(RunError, match=r"could not write the checkpoint of epoch 4 \(Error while serializing"):
        fit(run, resume=True, epochs=4, log=lambda s: None)
    after = snapshot(run)
    assert {k: after[k] for k in ("weights.safetensors", "train_state.safetensors")} == \
        {k: before[k] for k in ("weights.safetensors", "train_state.safetensors")}
    assert sorted(after) == sorted(before)                          # no temporary file left


@pytest.mark.parametrize("name, commands, message", [
    ("config.json", ("evaluate", "serve", "resume"), "not a latentwalk run folder (no config.json)"),
    ("metrics.jsonl", ("serve", "resume"), "metrics.jsonl: missing, though train_state.safetensors records 3 rows"),
    ("train_state.safetensors", ("resume",), "no train_state.safetensors, and resuming would train from epoch 1"),
    ("weights.safetensors", ("evaluate", "serve"), "no weights.safetensors, but train_state.safetensors holds"),
])
def test_each_file_missing(run, capsys, name, commands, message):
    (run / name).unlink()
    refused_everywhere(capsys, run, message, commands)


@pytest.mark.parametrize("name", ["metrics.jsonl", "config.json", "weights.safetensors", "train_state.safetensors"])
def test_each_file_truncated(run, capsys, name):
    """Cut in the middle, as a copy that stopped half-way leaves a file."""
    (run / name).write_bytes((run / name).read_bytes()[: (run / name).stat().st_size // 2])
    commands = {"metrics.jsonl": ("serve", "resume"), "train_state.safetensors": ("resume",)}.get(
        name, ("evaluate", "serve", "resume"))
    refused_everywhere(capsys, run, f"{run / name}: ", commands)


def test_figures_and_videos_on_a_full_disk(small_disk, small_run, capsys):
    """matplotlib's and the video writer's failures to write are one line too, and leave no temporary file."""
    with open(small_disk / "filler", "wb") as f:                # the disk full
        with contextlib.suppress(OSError):
            while True:
                f.write(b"\0" * 65536)
                f.flush()
    for command in (["grid", small_run, "--dims", "0", "1"], ["sphere-walk", small_run, "--steps", "30",
                                                              "--no-classifier"]):
        err = one_line_error(capsys, *command, "--out", small_disk / "figures")
        assert "No space left on device" in err, err
    assert [p.name for p in small_disk.rglob("*") if p.is_file()] == ["filler"]
