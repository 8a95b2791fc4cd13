"""Bad input, tried as a careless or hostile user would: every case is one line on stderr and exit code 2, within a
time limit (a hang fails the case), run in this process. Absurd sizes are refused before anything is allocated,
special files (FIFOs) are refused unread, and damaged run files name themselves.

Each case: (its id, the arguments — "{run}", "{npz}" and the like name the fixtures below — and a piece of the
line it must print)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import deadline, one_line_error

BIG = "1000000000"
TRAIN = ["train", "--data", "{npz}", "--epochs", "1", "--device", "cpu", "--out", "{new}"]


def train(*extra: str) -> list[str]:
    return [*TRAIN, *extra]


CASES = [
    # -- train: sizes, numbers, choices
    ("latent-dim 1e9", train("--latent-dim", BIG), "--latent-dim must be an integer in"),
    ("hidden 1e9", train("--hidden", BIG), "--hidden must be integers in"),
    ("latent-dim 1e6 hidden 1e6", train("--latent-dim", "1000000", "--hidden", "1000000"), "memory"),
    ("hidden 1e5 x2", train("--hidden", "100000,100000"), "memory"),
    ("conv hidden 1e6", train("--arch", "conv", "--hidden", "1000000"), "memory"),
    ("latent-dim 0", train("--latent-dim", "0"), "--latent-dim must be"),
    ("latent-dim -1", train("--latent-dim", "-1"), "--latent-dim"),
    ("latent-dim x", train("--latent-dim", "x"), "--latent-dim"),
    ("latent-dim 2.5", train("--latent-dim", "2.5"), "--latent-dim"),
    ("hidden 0", train("--hidden", "0"), "--hidden"),
    ("hidden empty", train("--hidden", ""), "--hidden"),
    ("hidden 64,,32", train("--hidden", "64,,32"), "--hidden"),
    ("hidden -64", train("--hidden", "-64"), "--hidden"),
    ("batch 0", train("--batch-size", "0"), "--batch-size"),
    ("batch 1e7", train("--batch-size", "10000000"), "--batch-size"),
    ("epochs 0", train("--epochs", "0"), "--epochs"),
    ("epochs -5", train("--epochs", "-5"), "--epochs"),
    ("epochs 1e9", train("--epochs", BIG), "--epochs"),
    ("lr 0", train("--lr", "0"), "--lr"),
    ("lr -1", train("--lr", "-1"), "--lr"),
    ("lr nan", train("--lr", "nan"), "--lr"),
    ("lr inf", train("--lr", "inf"), "--lr"),
    ("lr 1e309", train("--lr", "1e309"), "--lr"),
    ("lr x", train("--lr", "x"), "--lr"),
    ("beta -1", train("--beta", "-1"), "--beta"),
    ("beta nan", train("--beta", "nan"), "--beta"),
    ("kl-warmup -1", train("--kl-warmup", "-1"), "--kl-warmup"),
    ("kl-warmup 1e9", train("--kl-warmup", BIG), "--kl-warmup"),
    ("seed -1", train("--seed", "-1"), "--seed"),
    ("seed 2^64", train("--seed", str(2 ** 64)), "--seed"),
    ("size 0", train("--size", "0"), "--size"),
    ("size 5000", train("--size", "5000"), "--size"),
    ("size 64x", train("--size", "64x"), "--size"),
    ("size x", train("--size", "x"), "--size"),
    ("precision fp16 on cpu", train("--precision", "fp16"), "fp16"),
    ("precision fp8", train("--precision", "fp8"), "--precision"),
    ("device cuda", train("--device", "cuda"), "CUDA is not available on this machine"),
    ("device tpu", train("--device", "tpu"), "unknown device 'tpu'"),
    ("model gan", train("--model", "gan"), "--model"),
    ("activation gelu", train("--activation", "gelu"), "--activation"),
    ("likelihood poisson", train("--likelihood", "poisson"), "--likelihood"),
    ("lr-schedule step", train("--lr-schedule", "step"), "--lr-schedule"),
    ("from-weights alone", train("--from-weights"), "--from-weights continues a run: pass --resume too"),
    ("no --out", ["train", "--data", "{npz}"], "--out"),
    ("out is a file", [*TRAIN[:-1], "{file}"], "not a folder"),
    ("out exists", [*TRAIN[:-1], "{run}"], "already exists"),
    ("resume nowhere", ["train", "--resume", "--out", "{nowhere}"], "no such run folder"),
    ("resume other latent-dim", ["train", "--resume", "--out", "{run}", "--latent-dim", "3"], "differs from its"),
    ("resume other lr", ["train", "--resume", "--out", "{run}", "--lr", "0.1"], "differs from its"),
    ("resume fewer epochs", ["train", "--resume", "--out", "{run}", "--epochs", "0"], "--epochs"),
    # -- train: data
    ("data nowhere", train("--data", "{nowhere}.npz"), "nowhere"),
    ("data 0-byte npz", train("--data", "{empty_npz}"), "empty.npz"),
    ("data text as npz", train("--data", "{text_npz}"), "text.npz"),
    ("data npz without x", train("--data", "{npz_no_x}"), "no_x.npz"),
    ("data npz of strings", train("--data", "{npz_strings}"), "strings.npz"),
    ("data npz 1-D", train("--data", "{npz_1d}"), "one_d.npz"),
    ("data npz 1 image", train("--data", "{npz_tiny}"), "need at least 2 images to hold out a test split"),
    ("data FIFO npz", train("--data", "{fifo_npz}"), "not a regular file"),
    ("data folder with a FIFO png", train("--data", "{fifo_images}"), "not a regular file"),
    ("data empty folder", train("--data", "{empty_dir}"), "empty_dir"),
    ("data folder of text", train("--data", "{text_images}"), "x.png"),
    ("data unknown name", train("--data", "imagenet"), "imagenet"),
    # -- config.json of a run, read by evaluate (resume reads it the same way)
    ("config latent_dim 1e9", ["evaluate", "{cfg_latent_big}"], "config.json: invalid (latent_dim must be"),
    ("config hidden 1e9", ["evaluate", "{cfg_hidden_big}"], "config.json: invalid (hidden must be"),
    ("config sizes past memory", ["evaluate", "{cfg_huge}"], "of memory, more than half of the"),
    ("config sizes past memory resume", ["train", "--resume", "--out", "{cfg_huge}"], "of memory"),
    ("config latent_dim true", ["evaluate", "{cfg_latent_true}"], "config.json: invalid"),
    ("config latent_dim string", ["evaluate", "{cfg_latent_str}"], "config.json: invalid"),
    ("config nested 100k", ["evaluate", "{cfg_nested}"], "config.json"),
    ("config not JSON", ["evaluate", "{cfg_not_json}"], "config.json: corrupt"),
    ("config not UTF-8", ["evaluate", "{cfg_latin1}"], "config.json: corrupt"),
    ("config a list", ["evaluate", "{cfg_list}"], "config.json: invalid"),
    ("config missing key", ["evaluate", "{cfg_missing}"], "missing keys"),
    ("config unknown key", ["evaluate", "{cfg_unknown}"], "unknown keys"),
    ("config FIFO", ["evaluate", "{cfg_fifo}"], "not a regular file"),
    ("config a folder", ["evaluate", "{cfg_folder}"], "config.json"),
    ("config resume nested", ["train", "--resume", "--out", "{cfg_nested}"], "config.json"),
    # -- run files
    ("metrics not UTF-8 serve", ["serve", "{metrics_latin1}", "--port", "0"], "metrics.jsonl"),
    ("metrics not UTF-8 resume", ["train", "--resume", "--out", "{metrics_latin1}", "--epochs", "3"],
     "metrics.jsonl"),
    ("metrics FIFO serve", ["serve", "{metrics_fifo}", "--port", "0"], "not a regular file"),
    ("metrics FIFO resume", ["train", "--resume", "--out", "{metrics_fifo}", "--epochs", "3"],
     "not a regular file"),
    ("weights FIFO evaluate", ["evaluate", "{weights_fifo}"], "not a regular file"),
    ("weights FIFO resume", ["train", "--resume", "--out", "{weights_fifo}", "--epochs", "3"], "not a regular file"),
    ("state FIFO resume", ["train", "--resume", "--out", "{state_fifo}", "--epochs", "3"], "not a regular file"),
    ("weights empty", ["evaluate", "{weights_empty}"], "weights.safetensors: damaged"),
    ("weights truncated", ["evaluate", "{weights_half}"], "weights.safetensors: damaged"),
    ("measures FIFO", ["measure", "{measures_fifo}", "--n", "50", "--paths", "100", "--geodesic-paths", "10"],
     "not a regular file"),
    ("gmm FIFO", ["measure", "{gmm_fifo}", "--sampler", "gmm", "--n", "50", "--paths", "100",
                  "--geodesic-paths", "10"], "not a regular file"),
    # -- convert
    ("convert size 0", ["convert", "{npz}", "{new}", "--size", "0"], "--size"),
    ("convert size 5000", ["convert", "{npz}", "{new}", "--size", "5000"], "--size"),
    ("convert size -3", ["convert", "{npz}", "{new}", "--size", "-3"], "--size"),
    ("convert 0-byte npz", ["convert", "{empty_npz}", "{new}"], "empty.npz"),
    ("convert FIFO npz", ["convert", "{fifo_npz}", "{new}"], "not a regular file"),
    ("convert folder with a FIFO", ["convert", "{fifo_images}", "{new}"], "not a regular file"),
    ("convert nowhere", ["convert", "{nowhere}", "{new}"], "nowhere"),
    ("convert into a run", ["convert", "{npz}", "{run}"], "already"),
    ("convert into a file", ["convert", "{npz}", "{file}"], "file"),
    # -- evaluate
    ("evaluate k 0", ["evaluate", "{run}", "--k", "0"], "--k"),
    ("evaluate k 1e9", ["evaluate", "{run}", "--k", BIG], "--k"),
    ("evaluate k -1", ["evaluate", "{run}", "--k", "-1"], "--k"),
    ("evaluate limit 0", ["evaluate", "{run}", "--limit", "0"], "--limit"),
    ("evaluate limit -5", ["evaluate", "{run}", "--limit", "-5"], "--limit"),
    ("evaluate nowhere", ["evaluate", "{nowhere}"], "no such run folder"),
    ("evaluate a file", ["evaluate", "{file}"], "file"),
    ("evaluate empty folder", ["evaluate", "{empty_dir}"], "not a latentwalk run folder"),
    ("evaluate device cuda", ["evaluate", "{run}", "--device", "cuda"], "CUDA is not available"),
    ("evaluate no run", ["evaluate"], "run"),
    ("evaluate two sources", ["evaluate", "{run}", "--model-entry", "x:y"], "--model-entry"),
    ("evaluate entry nowhere", ["evaluate", "--model-entry", "no_such_module:load"], "no_such_module"),
    ("evaluate entry bad form", ["evaluate", "--model-entry", "nocolon"], "package.module:function"),
    # -- measure
    ("measure seed -1", ["measure", "{run}", "--n", "50", "--seed", "-1"], "--seed"),
    ("measure seed 2^40", ["measure", "{run}", "--n", "50", "--seed", str(2 ** 40)], "--seed"),
    ("measure n 0", ["measure", "{run}", "--n", "0"], "--n"),
    ("measure n 1e9", ["measure", "{run}", "--n", BIG], "--n"),
    ("measure paths 0", ["measure", "{run}", "--n", "50", "--paths", "0"], "--paths"),
    ("measure paths 1e12", ["measure", "{run}", "--n", "50", "--paths", "1000000000000"], "--paths"),
    ("measure geodesic-paths 0", ["measure", "{run}", "--n", "50", "--geodesic-paths", "0"], "--geodesic-paths"),
    ("measure geodesic-paths 1e9", ["measure", "{run}", "--n", "50", "--geodesic-paths", BIG], "--geodesic-paths"),
    ("measure sampler foo", ["measure", "{run}", "--sampler", "foo"], "foo"),
    ("measure sampler empty", ["measure", "{run}", "--sampler", ""], "sampler"),
    # -- grid, scatter, samples, traverse
    ("grid size 1e6", ["grid", "{run}", "--dims", "0", "1", "--size", "1000000"], "--size"),
    ("grid size 0", ["grid", "{run}", "--dims", "0", "1", "--size", "0"], "--size"),
    ("grid size -1", ["grid", "{run}", "--dims", "0", "1", "--size", "-1"], "--size"),
    ("grid extent reversed", ["grid", "{run}", "--dims", "0", "1", "--extent", "3", "-3"], "--extent"),
    ("grid extent nan", ["grid", "{run}", "--dims", "0", "1", "--extent", "nan", "nan"], "--extent"),
    ("grid extent 1e309", ["grid", "{run}", "--dims", "0", "1", "--extent", "-1e309", "1e309"], "--extent"),
    ("grid dims equal", ["grid", "{run}", "--dims", "0", "0"], "--dims"),
    ("grid dims 9 of 4", ["grid", "{run}", "--dims", "0", "9"], "--dims"),
    ("grid dims -1", ["grid", "{run}", "--dims", "-1", "0"], "--dims"),
    ("grid fix nan", ["grid", "{run}", "--dims", "0", "1", "--fix", "nan"], "--fix"),
    ("scatter limit 0", ["scatter", "{run}", "--limit", "0"], "--limit"),
    ("scatter limit -1", ["scatter", "{run}", "--limit", "-1"], "--limit"),
    ("scatter dims equal", ["scatter", "{run}", "--dims", "1", "1"], "--dims"),
    ("samples n 0", ["samples", "{run}", "--n", "0"], "--n"),
    ("samples n 1e9", ["samples", "{run}", "--n", BIG], "--n"),
    ("samples seed -1", ["samples", "{run}", "--seed", "-1"], "--seed"),
    ("traverse steps 0", ["traverse", "{run}", "--steps", "0"], "--steps"),
    ("traverse steps 1e9", ["traverse", "{run}", "--steps", BIG], "--steps"),
    ("traverse span -1", ["traverse", "{run}", "--span", "-1"], "--span"),
    ("traverse span nan", ["traverse", "{run}", "--span", "nan"], "--span"),
    # -- videos
    ("spiral steps 1e8", ["spiral", "{run}", "--steps", "100000000"], "--steps"),
    ("spiral steps 0", ["spiral", "{run}", "--steps", "0"], "--steps"),
    ("spiral fps 0", ["spiral", "{run}", "--fps", "0"], "--fps"),
    ("spiral fps 1e6", ["spiral", "{run}", "--fps", "1000000"], "--fps"),
    ("sphere-walk steps 1e8", ["sphere-walk", "{run}", "--steps", "100000000"], "--steps"),
    ("sphere-walk loops 0", ["sphere-walk", "{run}", "--loops", "0"], "--loops"),
    ("sphere-walk loops 1e9", ["sphere-walk", "{run}", "--loops", BIG], "--loops"),
    # -- interpolate
    ("interpolate pairs 1e9", ["interpolate", "{run}", "--pairs", BIG], "--pairs"),
    ("interpolate pairs 0", ["interpolate", "{run}", "--pairs", "0"], "--pairs"),
    ("interpolate steps 1e9", ["interpolate", "{run}", "--steps", BIG], "--steps"),
    ("interpolate steps 1", ["interpolate", "{run}", "--steps", "1"], "--steps"),
    ("interpolate seed -1", ["interpolate", "{run}", "--seed", "-1"], "--seed"),
    ("interpolate method foo", ["interpolate", "{run}", "--method", "foo"], "foo"),
    ("interpolate from foo", ["interpolate", "{run}", "--from", "foo"], "--from"),
    # -- arithmetic and analogy
    ("arithmetic vector foo", ["arithmetic", "{run}", "--vector", "foo"], "foo"),
    ("arithmetic vector 3to3", ["arithmetic", "{run}", "--vector", "3to3"], "a vector from 3 to 3 is zero"),
    ("arithmetic vector 3to99", ["arithmetic", "{run}", "--vector", "3to99"], "99"),
    ("arithmetic max-scale nan", ["arithmetic", "{run}", "--vector", "3to8", "--max-scale", "nan"],
     "--max-scale"),
    ("arithmetic steps 1e9", ["arithmetic", "{run}", "--vector", "3to8", "--steps", BIG], "--steps"),
    ("arithmetic n 0", ["arithmetic", "{run}", "--vector", "3to8", "--n", "0"], "--n"),
    ("analogy size 1e6", ["analogy", "{run}", "--size", "1000000"], "--size"),
    ("analogy corners foo", ["analogy", "{run}", "--corners", "foo"], "--corners"),
    ("analogy method foo", ["analogy", "{run}", "--method", "foo"], "foo"),
    # -- compare, geometry, serve
    ("compare one run", ["compare", "{run}"], "two"),
    ("compare n 1e9", ["compare", "{run}", "{run_copy}", "--n", BIG], "--n"),
    ("compare the same run twice", ["compare", "{run}", "{run}"], "the same folder is given twice"),
    ("geometry dims 0", ["geometry", "--dims", "0"], "--dims"),
    ("geometry dims 1e9", ["geometry", "--dims", BIG], "--dims"),
    ("serve port -1", ["serve", "{run}", "--port", "-1"], "--port"),
    ("serve port 70000", ["serve", "{run}", "--port", "70000"], "--port"),
    ("serve nowhere", ["serve", "{nowhere}"], "no such run folder"),
    ("serve nothing", ["serve"], "run"),
    ("serve host unknown", ["serve", "{run}", "--host", "no-such-host.invalid"], "no-such-host.invalid"),
    # -- the command line itself
    ("no command", [], "command"),
    ("unknown command", ["fly"], "fly"),
    ("unknown flag", ["grid", "{run}", "--colour", "red"], "--colour"),
]


@pytest.fixture(scope="module")
def places(tmp_path_factory, small_npz, small_run) -> dict[str, Path]:
    """What the cases name: real runs and data, damaged copies and special files."""
    root = tmp_path_factory.mktemp("bad")
    images = np.load(small_npz)["x"]
    p = {"npz": small_npz, "run": small_run, "nowhere": root / "nowhere", "empty_dir": root / "empty_dir"}
    p["empty_dir"].mkdir()
    p.update(file=root / "a_file.txt", empty_npz=root / "empty.npz", text_npz=root / "text.npz")
    p["file"].write_text("not a folder")
    p["empty_npz"].write_bytes(b"")
    p["text_npz"].write_text("hello")
    np.savez(p.setdefault("npz_no_x", root / "no_x.npz"), images=images[:100])
    np.savez(p.setdefault("npz_strings", root / "strings.npz"), x=np.array(["a"] * 100))
    np.savez(p.setdefault("npz_1d", root / "one_d.npz"), x=np.arange(100, dtype=np.uint8))
    np.savez(p.setdefault("npz_tiny", root / "tiny.npz"), x=images[:1])
    os.mkfifo(p.setdefault("fifo_npz", root / "fifo.npz"))
    for folder, bad in (("fifo_images", os.mkfifo), ("text_images", lambda path: path.write_text("not a png"))):
        (root / folder / "a").mkdir(parents=True)
        for i in range(5):
            Image.fromarray(images[i]).save(root / folder / "a" / f"{i}.png")
        bad(root / folder / "a" / "x.png")
        p[folder] = root / folder

    def damaged(name: str, change) -> None:
        run = root / name
        shutil.copytree(small_run, run)
        change(run)
        p[name] = run

    def config(edit):
        def change(run):
            cfg = json.loads((run / "config.json").read_text())
            edit(cfg)
            (run / "config.json").write_text(json.dumps(cfg))
        return change

    def fifo(name):
        def change(run):
            (run / name).unlink(missing_ok=True)
            os.mkfifo(run / name)
        return change

    damaged("cfg_huge", config(lambda c: c["model"].update(latent_dim=1 << 20, hidden=[1 << 20, 1 << 20])))
    damaged("run_copy", lambda run: None)
    damaged("cfg_latent_big", config(lambda c: c["model"].update(latent_dim=10 ** 9)))
    damaged("cfg_hidden_big", config(lambda c: c["model"].update(hidden=[10 ** 9])))
    damaged("cfg_latent_true", config(lambda c: c["model"].update(latent_dim=True)))
    damaged("cfg_latent_str", config(lambda c: c["model"].update(latent_dim="2")))
    damaged("cfg_list", lambda run: (run / "config.json").write_text("[1, 2]"))
    damaged("cfg_missing", config(lambda c: c["train"].pop("lr")))
    damaged("cfg_unknown", config(lambda c: c["train"].update(momentum=0.9)))
    damaged("cfg_nested", lambda run: (run / "config.json").write_text("[" * 100_000 + "]" * 100_000))
    damaged("cfg_not_json", lambda run: (run / "config.json").write_text("{model: vae"))
    damaged("cfg_latin1", lambda run: (run / "config.json").write_bytes('{"model": "é"}'.encode("latin-1")))
    damaged("cfg_fifo", fifo("config.json"))
    damaged("cfg_folder", lambda run: ((run / "config.json").unlink(), (run / "config.json").mkdir()))
    damaged("metrics_latin1", lambda run: (run / "metrics.jsonl").write_bytes(b'{"epoch": 1, "x": "\xe9"}\n'))
    damaged("metrics_fifo", fifo("metrics.jsonl"))
    damaged("weights_fifo", fifo("weights.safetensors"))
    damaged("state_fifo", fifo("train_state.safetensors"))
    damaged("measures_fifo", fifo("measures.json"))
    damaged("gmm_fifo", fifo("gmm.safetensors"))
    damaged("weights_empty", lambda run: (run / "weights.safetensors").write_bytes(b""))
    damaged("weights_half", lambda run: (run / "weights.safetensors").write_bytes(
        (run / "weights.safetensors").read_bytes()[:3000]))
    return p


def test_there_are_at_least_150_cases():
    assert len(CASES) >= 150 and len({c[0] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("argv, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_one_line_and_exit_2(argv, expected, places, tmp_path, capsys):
    named = {**places, "new": tmp_path / "new"}
    argv = [a.format(**named) for a in argv]
    before = sorted(p.name for p in places["run"].iterdir())
    with deadline(60):
        err = one_line_error(capsys, *argv)
    assert expected in err, err
    assert not (tmp_path / "new").exists()                      # nothing half-made
    assert sorted(p.name for p in places["run"].iterdir()) == before


def test_the_importance_bound_is_refused_past_its_time(small_run):
    """An importance bound estimated (from its first chunk) to take past 10 min here is refused, not started."""
    import torch

    from latentwalk import load
    from latentwalk.errors import ConfigError
    from latentwalk.measure import evaluate

    images = torch.zeros(20_000, 1, 28, 28, dtype=torch.uint8)       # 2e9 decodes: hours, for any model
    with pytest.raises(ConfigError, match=r"^the importance bound would take about [\d,]+ min here \(100,000 samples "
                                          r"for each of 20,000 images; the first 32,[\d,]+ took .* past its 10 min "
                                          r"limit: lower k or limit$"):
        evaluate.nll_iwae(load(small_run), images, 100_000)


def test_a_run_on_converted_data_is_walked_and_measured(tmp_path, small_npz, capsys):
    """Images read from disk (`latentwalk convert`) reach the thickness vector and the measures in slices: these
    were a TypeError (and an HTTP 500 in the explorer)."""
    from conftest import run_cli, train_small
    from latentwalk.data import mapped

    run = train_small(tmp_path / "run", mapped.convert(small_npz, tmp_path / "converted"), epochs=1)
    code, out, err = run_cli(capsys, "arithmetic", run, "--vector", "thickness", "--no-classifier")
    assert code == 0 and "mean thickness of the decoded digits" in out, err
    code, out, err = run_cli(capsys, "measure", run, "--sampler", "prior", "--n", "100", "--paths", "100",
                             "--geodesic-paths", "10")
    assert code == 0 and "prior" in out, err
