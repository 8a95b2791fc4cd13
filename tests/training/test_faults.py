"""Faults a long training run meets (a kill, a full disk, damaged or changed files, links) and fuzzed inputs."""

import errno
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safetensors.torch import load_file

from conftest import ROOT, RUN_FILES, Interrupted, one_line_error, run_cli, snapshot, stop_after, train_small, wait_for
from latentwalk.data import datasets, mapped
from latentwalk.run import checkpoint, lock
from latentwalk.cli import build_parser, main
from latentwalk.errors import DataError, RunError
from latentwalk.training.fit import fit

def same_weights(a: Path, b: Path) -> bool:
    wa, wb = load_file(a / "weights.safetensors"), load_file(b / "weights.safetensors")
    return wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)


def one_line_exit_2(capsys, text: str, *args) -> str:
    """`latentwalk ARGS`, in this process, must stop with exit code 2 and one line on stderr holding `text`."""
    err = one_line_error(capsys, *args)
    assert text in err, err
    return err


# ---------------------------------------------------------------- kill -9, full disk

@pytest.mark.slow
def test_kill_during_an_epoch_then_resume(tmp_path, small_npz, capsys):
    args = ["train", "--data", small_npz, "--hidden", "64,32", "--batch-size", "8", "--epochs", "4",
            "--device", "cpu"]
    run = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "latentwalk", *map(str, args), "--out", str(run)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # epoch 1's checkpoint whole (weights are its last file): the process is now in epoch 2
    wait_for(lambda: (run / "weights.safetensors").exists() or proc.poll() is not None, 300, 0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = [m["epoch"] for m in checkpoint.read_metrics(run)]
    assert 1 <= len(done) < 4, done
    (run / ".weights.k1ll3d00.tmp.safetensors").write_bytes(b"half")  # as a kill in the middle of a write leaves
    checkpoint.load(run)                                  # the folder is whole: it loads
    code, _, err = run_cli(capsys, "train", "--resume", "--out", run)
    assert code == 0, err[-2000:]
    code, _, err = run_cli(capsys, *args, "--out", tmp_path / "whole")
    assert code == 0, err[-2000:]
    assert [m["epoch"] for m in checkpoint.read_metrics(run)] == [1, 2, 3, 4]
    assert same_weights(run, tmp_path / "whole")
    assert sorted(p.name for p in run.iterdir()) == sorted(RUN_FILES)          # the stale temp file is gone


def test_each_checkpoint_syncs_its_files_then_the_folder(tmp_path, small_npz, monkeypatch):
    """A spy on os.fsync and os.replace: each file is synced before its rename, and the run folder after the
    epoch's last rename (else a power loss could forget the renames)."""
    events = []
    fsync, replace = os.fsync, os.replace

    def spy_fsync(fd):
        target = Path(os.readlink(f"/proc/self/fd/{fd}"))
        events.append(("fsync", target.name if target != run else "FOLDER"))
        return fsync(fd)

    def spy_replace(src, dst):
        events.append(("rename", Path(dst).name))
        return replace(src, dst)

    run = tmp_path / "run"
    monkeypatch.setattr(os, "fsync", spy_fsync)
    monkeypatch.setattr(os, "replace", spy_replace)
    train_small(run, small_npz, epochs=2)
    ends = [i for i, e in enumerate(events) if e == ("fsync", "FOLDER")]
    assert len(ends) == 2                                            # one per epoch
    for start, end in zip([0] + [i + 1 for i in ends], ends):
        epoch = events[start:end + 1]
        renames = [e[1] for e in epoch if e[0] == "rename"]
        assert renames[-3:] == ["metrics.jsonl", "train_state.safetensors", "weights.safetensors"], epoch
        for name in renames[-3:]:                                   # its data synced before it is renamed
            i = epoch.index(("rename", name))
            assert epoch[i - 1][0] == "fsync" and epoch[i - 1][1].startswith(f".{name.split('.')[0]}."), epoch
        assert epoch[-2:] == [("rename", "weights.safetensors"), ("fsync", "FOLDER")], epoch


@pytest.mark.slow
def test_one_writer_per_run_folder(tmp_path, small_npz, capsys):
    """A second writer started while the first trains stops in one line naming the first; kill -9 of the
    holder frees the folder, and --resume then continues it."""
    args = ["train", "--data", small_npz, "--hidden", "64,32", "--batch-size", "8", "--epochs", "500",
            "--device", "cpu", "--out", tmp_path / "run"]
    run = tmp_path / "run"
    first = subprocess.Popen([sys.executable, "-m", "latentwalk", *map(str, args)], cwd=ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: (run / "metrics.jsonl").exists() or first.poll() is not None, 300, 0.01)
        assert first.poll() is None, "the first writer ended before the test could start a second"
        for again in (args, ["train", "--resume", "--out", run, "--epochs", "600"]):   # a new run, or a resume
            second = one_line_exit_2(capsys, f"{run} is being written by process {first.pid} (latentwalk train "
                                             f"--data", *again)
        assert "a run folder has one writer at a time" in second
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    assert (run / ".lock").exists()                       # left by the killed writer, but not locked any more
    code, _, err = run_cli(capsys, "train", "--resume", "--out", run, "--epochs", "2")
    assert code == 0, err[-2000:]
    assert not (run / ".lock").exists() and checkpoint.last_epoch(run) >= 2


def test_a_second_demo_on_the_same_folder_stops(tmp_path, capsys):
    # the folder's lock held as a writer holds it (flock locks belong to the open file: one held by this process
    # stops a second writer in this process too)
    with lock.writer(tmp_path / "demo"):
        one_line_exit_2(capsys, f"is being written by process {os.getpid()} (", "demo", "--quick", "--out",
                        tmp_path / "demo")
        assert list((tmp_path / "demo").iterdir()) == [tmp_path / "demo" / ".lock"]     # the demo wrote nothing


def test_a_failed_write_keeps_the_previous_checkpoint(tmp_path, small_npz, monkeypatch):
    run = tmp_path / "run"
    with pytest.raises(Interrupted):
        train_small(run, small_npz, epochs=2, log=stop_after(1))
    before = snapshot(run)
    real = checkpoint.save_file

    def disk_full(tensors, path, metadata=None):
        Path(path).write_bytes(b"\0" * 1000)             # half-written, then the disk is full
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(checkpoint, "save_file", disk_full)
    with pytest.raises(RunError, match="could not write the checkpoint of epoch 2 .No space left on device.; "
                                       "the files there are whole"):
        fit(run, resume=True, epochs=2, log=lambda s: None)
    after = snapshot(run)
    assert sorted(after) == sorted(before)                              # no temp file left
    for name in ("weights.safetensors", "train_state.safetensors"):
        assert after[name] == before[name]
    # metrics.jsonl is written first: its epoch-2 row lies past train_state's epoch and does not count
    assert [m["epoch"] for m in checkpoint.read_metrics(run)] == [1, 2]
    assert checkpoint.last_epoch(run) == 1 and [m["epoch"] for m in checkpoint.read_metrics(run, upto=1)] == [1]
    monkeypatch.setattr(checkpoint, "save_file", real)
    fit(run, resume=True, epochs=2, log=lambda s: None)
    assert [m["epoch"] for m in checkpoint.read_metrics(run)] == [1, 2]
    assert same_weights(run, train_small(tmp_path / "whole", small_npz, epochs=2))


# ---------------------------------------------------------------- damaged, changed and linked files

@pytest.mark.parametrize("name, damage, message", [
    ("weights.safetensors", lambda b: b[: len(b) // 2], "weights.safetensors: damaged"),
    ("weights.safetensors", lambda b: b"\xff" * 64, "weights.safetensors: damaged"),
    ("train_state.safetensors", lambda b: b[:100], "train_state.safetensors: damaged"),
    ("config.json", lambda b: b[:-20], "corrupt"),
    ("config.json", lambda b: b.replace(b'"latent_dim": 2', b'"latent_dim": -2'), "invalid"),
    ("config.json", lambda b: b.replace(b'"lr": ', b'"learning_rate": '), "unknown keys ['learning_rate']"),
])
def test_damaged_run_files(tmp_path, small_npz, capsys, name, damage, message):
    run = train_small(tmp_path / "run", small_npz, epochs=1)
    (run / name).write_bytes(damage((run / name).read_bytes()))
    before = snapshot(run)
    for args in (["evaluate", run, "--k", "2"], ["train", "--resume", "--out", run, "--epochs", "2"],
                 ["grid", run]):
        if name == "train_state.safetensors" and args[0] != "train":
            continue
        one_line_exit_2(capsys, message, *args)
        assert snapshot(run) == before                     # nothing overwritten, nothing added


def test_changed_converted_data_is_reported(tmp_path, small_npz, capsys):
    data = mapped.convert(small_npz, tmp_path / "conv")
    run = train_small(tmp_path / "run", data, epochs=1)
    images = data / "train_images.npy"
    raw = bytearray(images.read_bytes())
    raw[-1] ^= 0xFF
    images.write_bytes(bytes(raw))
    one_line_exit_2(capsys, "changed since this run started", "train", "--resume", "--out", run, "--epochs", "2")


def test_links_out_of_the_run_folder_are_refused(tmp_path, small_npz, capsys):
    run = train_small(tmp_path / "run", small_npz, epochs=1)
    outside = tmp_path / "elsewhere.safetensors"
    outside.write_bytes((run / "weights.safetensors").read_bytes())
    (run / "weights.safetensors").unlink()
    (run / "weights.safetensors").symlink_to(outside)
    with pytest.raises(RunError, match="is a symbolic link"):
        checkpoint.load(run)
    (run / "weights.safetensors").unlink()
    (run / "weights.safetensors").write_bytes(outside.read_bytes())
    (run / "metrics.jsonl").rename(tmp_path / "metrics.jsonl")
    (run / "metrics.jsonl").symlink_to(tmp_path / "metrics.jsonl")
    kept = (tmp_path / "metrics.jsonl").read_bytes()
    one_line_exit_2(capsys, "is a symbolic link", "train", "--resume", "--out", run, "--epochs", "2")
    assert (tmp_path / "metrics.jsonl").read_bytes() == kept


def test_nothing_is_unpickled_without_the_users_word():
    """Tensors are read as safetensors, or by torch.load with weights_only; the one pickle.load is pythae's
    pickled networks, reached only through --trust-pickle (tests/models/test_pythae.py)."""
    files = {p.name: p.read_text() for p in (ROOT / "src" / "latentwalk").rglob("*.py")}
    source = "\n".join(files.values())
    assert source.count("torch.load(") == len(re.findall(r"torch\.load\([^)\n]*weights_only=True\)", source)) > 0
    assert [name for name, text in files.items() if "import pickle" in text] == ["pythae_folder.py"]
    assert source.count("pickle.load(") == 1 and "allow_pickle=True" not in source
    assert source.count("np.load(") == source.count("allow_pickle=False") + source.count('mmap_mode="r"')


# ---------------------------------------------------------------- fuzz: IDX files, config.json, the command line

def idx(array: np.ndarray) -> bytes:
    return bytes([0, 0, 0x08, array.ndim]) + np.asarray(array.shape, ">u4").tobytes() + array.tobytes()


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64) | st.builds(lambda dims, cut, tail: idx(np.zeros(dims, np.uint8))[:cut] + tail,
                                          st.lists(st.integers(0, 5), min_size=1, max_size=4),
                                          st.integers(0, 200), st.binary(max_size=4)))
def test_fuzzed_idx_bytes_give_an_array_or_one_line(raw):
    try:
        array = datasets.parse_idx(raw, "fuzz")
    except DataError as e:
        assert "\n" not in str(e) and str(e).startswith("fuzz")
    else:
        assert isinstance(array, np.ndarray) and len(raw) == 4 + 4 * array.ndim + array.nbytes


JSON = st.recursive(st.none() | st.booleans() | st.integers(-2 ** 70, 2 ** 70) | st.floats() | st.text(max_size=10),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                                max_size=4), max_leaves=12)


@pytest.fixture(scope="module")
def valid_config(tmp_path_factory, small_npz):
    run = train_small(tmp_path_factory.mktemp("cfg") / "run", small_npz, epochs=1)
    return json.loads((run / "config.json").read_text())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzzed_config_gives_a_config_or_one_line(valid_config, tmp_path, data):
    cfg = json.loads(json.dumps(valid_config))
    section = data.draw(st.sampled_from(["model", "data", "train", None]))
    if section is None:
        cfg[data.draw(st.sampled_from(list(cfg)))] = data.draw(JSON)
    else:
        key = data.draw(st.sampled_from(list(cfg[section]) + ["extra"]))
        cfg[section][key] = data.draw(JSON)
    run = tmp_path / "run"
    run.mkdir(exist_ok=True)
    (run / "config.json").write_text(json.dumps(cfg, allow_nan=True))
    try:
        loaded = checkpoint.load_config(run)
    except RunError as e:
        assert "\n" not in str(e) and str(e).startswith(str(run / "config.json"))
    else:
        assert loaded.model.latent_dim >= 1 and loaded.train.batch_size >= 1


WORDS = ["train", "evaluate", "grid", "convert", "serve", "interpolate", "--out", "--latent-dim", "--epochs",
         "--hidden", "--size", "--lr", "--dims", "--steps", "--method", "--port", "--precision", "--resume", "--data",
         "-3", "0", "1e309", "nan", "200,x", "64x64", "vae", "", "--", "-h"]


PARSER = build_parser()         # one for every example (a parser parses any number of argument lists; 7 ms a build)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(argv=st.lists(st.sampled_from(WORDS) | st.text(max_size=8), max_size=8))
def test_fuzzed_argument_lists_parse_or_give_one_line(argv, capsys):
    try:
        PARSER.parse_args(argv)
    except SystemExit as e:
        err = capsys.readouterr().err
        assert e.code == 0 or (e.code == 2 and err.startswith("latentwalk: error: ") and err.count("\n") == 1), err


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(command=st.sampled_from(["train", "evaluate", "grid", "samples", "interpolate", "sphere-walk", "convert"]),
       extra=st.lists(st.sampled_from(WORDS[6:]) | st.text(max_size=6), max_size=6))
def test_fuzzed_commands_run_or_give_one_line(command, extra, tmp_path, capsys):
    nowhere = str(tmp_path / "no-such-run")
    argv = {"train": ["train", "--data", nowhere, "--out", str(tmp_path / "r")],
            "convert": ["convert", nowhere, str(tmp_path / "c")]}.get(command, [command, nowhere])
    try:
        main(argv + extra)
    except SystemExit as e:
        err = capsys.readouterr().err
        assert e.code == 0 or (e.code == 2 and err.count("\n") == 1 and err.startswith("latentwalk: error: ")), err
    assert not (tmp_path / "r").exists() and not (tmp_path / "c").exists()
