"""Each setting is declared once (settings.py): its flag, help, default and check reach the parser, the help,
config.json, validation and the resume message from the one field."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, fields

import pytest

from conftest import ROOT, one_line_error
from latentwalk.errors import ConfigError
from latentwalk.models import ModelConfig
from latentwalk.run.config import DataConfig, TrainConfig, TrainOptions
from latentwalk.settings import SettingsDiffer, arguments, check_unchanged, setting, typed
from latentwalk.training.fit import fit

# One interpreter runs the commands given as a JSON list of argvs (none pays a start-up of its own) and prints
# [exit code, stdout, stderr] of each as JSON.
DRIVER = """
import contextlib, io, json, sys
from latentwalk.cli import main
results = []
for argv in json.loads(sys.argv[1]):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(argv)
            code = 0
        except SystemExit as e:
            code = e.code
    results.append([code, out.getvalue(), err.getvalue()])
print(json.dumps(results))
"""
NEW_SETTING = '''    ema: float = setting(0.0, "--ema", "weight of a running average (default {default})",
                         check=non_negative_number)
'''


def test_every_flagged_setting_reaches_the_train_parser(capsys):
    from latentwalk.cli import build_parser

    train = build_parser()._subparsers._group_actions[0].choices["train"]
    flags = {s for a in train._actions for s in a.option_strings}
    for config in (ModelConfig, DataConfig, TrainConfig, TrainOptions):
        for arg in arguments(config):
            assert set(arg.flags) <= flags
    assert "(default 20)" in train.format_help() and "(default 128)" in train.format_help()


def test_library_errors_name_parameters_and_the_cli_names_flags(capsys, tmp_path):
    with pytest.raises(ConfigError, match=r"^batch_size must be an integer in 1\.\.1048576, got 0$"):
        TrainConfig(batch_size=0)
    with pytest.raises(ConfigError, match=r"^hidden must be integers in"):
        ModelConfig(hidden=(0,))
    err = one_line_error(capsys, "train", "--batch-size", "0", "--out", tmp_path / "r")
    assert "--batch-size must be an integer in 1..1048576, got 0" in err


def test_resume_differences_read_as_python_in_the_library_and_as_typed_on_the_cli(small_run):
    stored = (ModelConfig(latent_dim=4, hidden=(64, 32)), DataConfig("x.npz"))
    given = (ModelConfig(latent_dim=3, hidden=(64, 32)), DataConfig("x.npz", greyscale=False, size=(32, 32)))
    with pytest.raises(SettingsDiffer) as e:
        check_unchanged("runs/r", list(zip(given, stored)))
    assert str(e.value) == ("resume continues runs/r with its own settings, and latent_dim=3 differs from its "
                            "latent_dim=4; greyscale=False differs from its greyscale=None; size=(32, 32) differs "
                            "from its size=None: drop them or train a new run (only epochs may change)")
    flags = {"resume": "--resume", "epochs": "--epochs"}
    assert e.value.render(flags.get) == (
        "--resume continues runs/r with its own settings, and --latent-dim 3 differs from its --latent-dim 4; "
        "--rgb differs from its neither --greyscale nor --rgb; --size 32x32 differs from its no --size: drop them "
        "or train a new run (only --epochs may change)")
    # fit itself refuses, so a notebook gets the same check as the CLI, and nothing is written
    before = {p.name: p.read_bytes() for p in small_run.iterdir()}
    with pytest.raises(SettingsDiffer, match="hidden=\\(200, 200\\) differs from its hidden=\\(64, 32\\)"):
        fit(small_run, ModelConfig(latent_dim=4), resume=True, epochs=4)
    assert {p.name: p.read_bytes() for p in small_run.iterdir()} == before


def test_typed_writes_each_kind_of_value_as_a_user_types_it():
    f = {x.name: x for c in (ModelConfig, DataConfig) for x in fields(c)}
    assert typed(f["hidden"], (64, 32)) == "--hidden 64,32"
    assert typed(f["binarize"], True) == "--binarize" and typed(f["binarize"], False) == "no --binarize"
    assert typed(f["greyscale"], True) == "--greyscale" and typed(f["greyscale"], False) == "--rgb"
    assert typed(f["kind"], "ae") == "--model ae" and typed(f["name"], "mnist") == "--data mnist"


def test_a_setting_is_a_field_with_its_check():
    @dataclass(frozen=True)
    class Config:
        steps: int = setting(3, "--steps", "steps (default {default})", check=lambda v: None if v > 0 else
                             "must be > 0")

        def __post_init__(self):
            from latentwalk.settings import validate
            validate(self)

    (arg,) = arguments(Config)
    assert arg.flags == ("--steps",) and arg.options["help"] == "steps (default 3)" and arg.options["default"] is None
    with pytest.raises(ConfigError, match="^steps must be > 0, got 0$"):
        Config(0)


@pytest.mark.slow
def test_adding_a_training_setting_touches_one_place(tmp_path, small_npz):
    """A copy of the package with one field added to TrainConfig, and no other edit: the new flag is in `train
    --help` with its default, it lands in config.json, and a resume with another value names it as typed."""
    src = tmp_path / "src"
    shutil.copytree(ROOT / "src", src, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    config = src / "latentwalk" / "run" / "config.py"
    text = config.read_text()
    anchor = '    device: str = setting("auto"'
    assert text.count(anchor) == 1
    text = text.replace(anchor, NEW_SETTING + anchor)
    text = text.replace("from ..settings import boolean, integer,", "from ..settings import boolean, integer, "
                                                                   "non_negative_number,")
    config.write_text(text)
    run = tmp_path / "run"
    commands = [["train", "--help"],
                ["train", "--data", small_npz, "--hidden", "32", "--epochs", "1", "--batch-size", "64", "--device",
                 "cpu", "--ema", "0.5", "--out", run],
                ["train", "--resume", "--out", run, "--ema", "0.7", "--epochs", "2"],
                ["train", "--ema", "-1", "--out", tmp_path / "bad"]]
    p = subprocess.run([sys.executable, "-c", DRIVER, json.dumps([list(map(str, c)) for c in commands])],
                       capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(src)}, timeout=300)
    assert p.returncode == 0, p.stderr
    (_, help_text, _), trained, resumed, refused = json.loads(p.stdout.splitlines()[-1])
    assert "--ema EMA" in help_text and "weight of a running average (default 0)" in help_text
    assert trained[0] == 0, trained[2]
    assert json.loads((run / "config.json").read_text())["train"]["ema"] == 0.5
    assert resumed[0] == 2 and "--ema 0.7 differs from its --ema 0.5" in resumed[2], resumed[2]
    assert refused[0] == 2 and "--ema must be a finite number >= 0, got -1.0" in refused[2], refused[2]
