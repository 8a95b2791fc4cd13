import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

import latentwalk
from latentwalk.run import checkpoint
from latentwalk.errors import ConfigError, RunError, TrainingDiverged
from latentwalk.models import ModelConfig
from latentwalk.run.config import DataConfig, TrainConfig
from latentwalk.training import precision as precisions
from latentwalk.models.device import choose_device
from latentwalk.training.fit import fit

from conftest import Interrupted, stop_after, train_small


def weights(run):
    return load_file(run / "weights.safetensors")


def test_run_folder_contents(small_run):
    assert sorted(p.name for p in small_run.iterdir()) == sorted(
        ["config.json", "weights.safetensors", "train_state.safetensors", "metrics.jsonl"])
    cfg = json.loads((small_run / "config.json").read_text())
    assert cfg["latentwalk_version"] == latentwalk.__version__
    assert cfg["model"]["image_shape"] == [1, 28, 28] and cfg["train"]["seed"] == 0
    assert len(cfg["data"]["fingerprint"]) == 32
    rows = checkpoint.read_metrics(small_run)
    assert [r["epoch"] for r in rows] == [1, 2, 3]
    for r in rows:
        assert {"epoch", "train_neg_elbo", "test_neg_elbo", "train_recon", "train_kl", "test_recon", "test_kl",
                "seconds"} <= set(r)
        assert r["test_neg_elbo"] == pytest.approx(r["test_recon"] + r["test_kl"])
    assert rows[-1]["train_neg_elbo"] < rows[0]["train_neg_elbo"] < 550   # learning, in nats per image
    assert not list(small_run.glob("*.tmp")) and not list(small_run.glob(".*"))


def test_load_gives_a_model_in_eval_mode(small_run):
    model = latentwalk.load(small_run)
    assert not model.training and model.latent_dim == 4
    x, _ = latentwalk.datasets.load("mnist", "test")
    assert model.reconstruct(x[:3]).shape == (3, 1, 28, 28)


def test_same_seed_same_weights(tmp_path, small_npz):
    a = train_small(tmp_path / "a", small_npz, epochs=1)
    b = train_small(tmp_path / "b", small_npz, epochs=1)
    wa, wb = weights(a), weights(b)
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


@pytest.mark.parametrize("precision", ["auto", "float32"])     # auto: bf16 on a CPU that has it
def test_resume_ends_with_the_same_weights(tmp_path, small_npz, precision):
    whole = train_small(tmp_path / "whole", small_npz, epochs=5, precision=precision)
    with pytest.raises(Interrupted):
        train_small(tmp_path / "part", small_npz, epochs=5, precision=precision, log=stop_after(2))
    assert checkpoint.last_epoch(tmp_path / "part") == 2
    fit(tmp_path / "part", resume=True, log=lambda s: None, precision=precision)
    wa, wb = weights(whole), weights(tmp_path / "part")
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    # train_state too, bit for bit: parameters and both of Adam's moments (subnormals are flushed as they appear
    # in training, _flush_denormals, so a restored moment is what the straight run held)
    sa, sb = (load_file(run / "train_state.safetensors") for run in (whole, tmp_path / "part"))
    assert sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)
    rows_whole, rows_part = checkpoint.read_metrics(whole), checkpoint.read_metrics(tmp_path / "part")
    assert [r["train_neg_elbo"] for r in rows_whole] == [r["train_neg_elbo"] for r in rows_part]
    assert [r["lr"] for r in rows_whole] == pytest.approx([1e-3, 1e-3, 1e-3, 1e-3, 0.5e-3])   # the annealed tail
    assert {r["precision"] for r in rows_whole} == {precisions.resolve(precision, torch.device("cpu"))[0]}


def test_cosine_schedule_resumes_exactly(tmp_path, small_npz):
    def run(out, epochs):
        return fit(out, ModelConfig(latent_dim=2, hidden=(32,)), DataConfig(str(small_npz)),
                   TrainConfig(epochs=epochs, batch_size=64, lr_schedule="cosine", device="cpu"), log=lambda s: None)
    whole = run(tmp_path / "whole", 3)
    part = run(tmp_path / "part", 1)            # resumed to 3 epochs: the schedule follows the new total
    lines = []
    fit(part, resume=True, epochs=3, log=lines.append)
    assert lines[0] == "the cosine learning-rate schedule now spans 3 epochs instead of 1: the epochs still to " \
                       "train follow it, the trained ones keep their rates"
    lrs = [r["lr"] for r in checkpoint.read_metrics(whole)]
    assert lrs == pytest.approx([1e-3, 0.75e-3, 0.25e-3])
    assert [r["lr"] for r in checkpoint.read_metrics(part)][1:] == lrs[1:]


def test_kl_warmup_rises_linearly_reports_the_elbo_and_resumes_exactly(tmp_path, small_npz):
    def run(out, epochs, warmup):
        return fit(out, ModelConfig(latent_dim=2, hidden=(32,)), DataConfig(str(small_npz)),
                   TrainConfig(epochs=epochs, batch_size=64, kl_warmup=warmup, lr_schedule="constant", device="cpu"), log=lambda s: None)
    whole, plain = run(tmp_path / "whole", 3, 2), run(tmp_path / "plain", 3, 0)
    part = run(tmp_path / "part", 1, 2)             # resumed to 3 epochs: a constant rate is the same either way
    fit(part, resume=True, epochs=3, log=lambda s: None)
    rows = checkpoint.read_metrics(whole)
    assert [r["kl_scale"] for r in rows] == [0.5, 1.0, 1.0]
    assert [r["kl_scale"] for r in checkpoint.read_metrics(plain)] == [1.0, 1.0, 1.0]
    for r in rows:                                  # the -ELBO is reported, not the warm-up's objective
        assert r["train_neg_elbo"] == pytest.approx(r["train_recon"] + r["train_kl"])
    w, wp, wr = weights(whole), weights(plain), weights(part)
    assert all(torch.equal(w[k], wr[k]) for k in w)
    assert not all(torch.equal(w[k], wp[k]) for k in w)
    # a weaker KL at the start leaves the posteriors wider apart from the prior early on
    assert rows[0]["train_kl"] > checkpoint.read_metrics(plain)[0]["train_kl"]


def test_warmup_and_activation_settings_are_checked():
    with pytest.raises(ConfigError, match="^kl_warmup must be an integer in 0..100000, got -1$"):
        TrainConfig(kl_warmup=-1)
    with pytest.raises(ConfigError, match="activation must be one of relu, tanh"):
        ModelConfig(activation="gelu")
    assert TrainConfig(kl_warmup=4).kl_scale_at(1) == 0.25 and TrainConfig().kl_scale_at(0) == 1.0


def test_resume_after_an_interrupted_checkpoint(tmp_path, small_npz):
    """Killed between writing train_state and metrics: resume trusts train_state and drops later rows."""
    run = tmp_path / "run"
    with pytest.raises(Interrupted):
        train_small(run, small_npz, epochs=3, log=stop_after(2))
    rows = checkpoint.read_metrics(run)
    stale = dict(rows[-1], epoch=3)                  # a row past train_state's epoch, as a kill can leave
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows + [stale]))
    fit(run, resume=True, log=lambda s: None)
    after = checkpoint.read_metrics(run)
    assert [r["epoch"] for r in after] == [1, 2, 3] and after[2]["train_neg_elbo"] != stale["train_neg_elbo"]
    clean = checkpoint.read_metrics(train_small(tmp_path / "clean", small_npz, epochs=3))
    assert after[2]["train_neg_elbo"] == pytest.approx(clean[2]["train_neg_elbo"], rel=1e-6)   # epoch 3 trained


def test_conv_vae_trains_through_autograd(tmp_path, small_npz):
    run = train_small(tmp_path / "conv", small_npz, epochs=2, arch="conv", hidden=(64,))
    rows = checkpoint.read_metrics(run)
    assert rows[1]["train_neg_elbo"] < rows[0]["train_neg_elbo"]


def test_existing_folder_is_not_overwritten(tmp_path, small_npz):
    out = tmp_path / "taken"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(RunError, match="already exists: pass resume to continue that run, or choose another out"):
        train_small(out, small_npz)
    assert (out / "notes.txt").read_text() == "mine" and len(list(out.iterdir())) == 1


def test_nan_from_the_start_leaves_no_folder(tmp_path, small_npz):
    out = tmp_path / "nan"
    with pytest.raises(TrainingDiverged, match="nothing was saved; lower the learning rate"):
        fit(out, ModelConfig(latent_dim=2, hidden=(32,)), DataConfig(str(small_npz)),
            TrainConfig(epochs=2, lr=1e30, device="cpu"), log=lambda s: None)
    assert not out.exists()


def test_nan_keeps_the_last_good_checkpoint(tmp_path, small_npz):
    run = train_small(tmp_path / "run", small_npz, epochs=1)
    state = load_file(run / "train_state.safetensors")
    state["model.encoder.1.0.bias"] = torch.full_like(state["model.encoder.1.0.bias"], 1e30)
    save_file(state, run / "train_state.safetensors", metadata={"epoch": "1"})
    files = ["weights.safetensors", "train_state.safetensors", "metrics.jsonl"]
    before = {f: (run / f).read_bytes() for f in files}
    with pytest.raises(TrainingDiverged, match="in epoch 2 .*the checkpoint of epoch 1 .* is kept"):
        fit(run, resume=True, epochs=2, log=lambda s: None)
    assert {f: (run / f).read_bytes() for f in files} == before     # only config.json records the new target
    assert checkpoint.load_config(run).train.epochs == 2


def test_changed_training_data_is_reported(tmp_path, small_npz, mnist_train):
    data = tmp_path / "d.npz"
    data.write_bytes(small_npz.read_bytes())
    run = train_small(tmp_path / "run", data, epochs=1)
    x = np.load(data)["x"].copy()
    x[0, 0, 0] ^= 1
    np.savez(data, x=x, y=np.load(data)["y"])
    with pytest.raises(RunError, match="changed since this run started"):
        fit(run, resume=True, epochs=2, log=lambda s: None)


@pytest.mark.parametrize("content, message", [
    ("{not json", "corrupt"),
    ('{"latentwalk_version": "0", "model": {}, "data": {}, "train": {}}', "invalid"),
    ("[]", "invalid"),
])
def test_corrupt_config_is_a_clear_error(small_run, tmp_path, content, message):
    run = tmp_path / "copy"
    run.mkdir()
    for p in small_run.iterdir():
        (run / p.name).write_bytes(p.read_bytes())
    (run / "config.json").write_text(content)
    with pytest.raises(RunError, match=message):
        latentwalk.load(run)


def test_config_with_wrong_types_is_rejected(small_run, tmp_path):
    cfg = json.loads((small_run / "config.json").read_text())
    for section, key, value in [("model", "latent_dim", "4"), ("train", "lr", -1), ("model", "hidden", [0]),
                                ("data", "size", [28]), ("train", "epochs", True)]:
        bad = json.loads(json.dumps(cfg))
        bad[section][key] = value
        run = tmp_path / f"{section}-{key}"
        run.mkdir()
        (run / "config.json").write_text(json.dumps(bad))
        with pytest.raises(RunError, match="invalid"):
            checkpoint.load_config(run)


def test_corrupt_weights_is_a_clear_error(small_run, tmp_path):
    run = tmp_path / "copy"
    run.mkdir()
    for p in small_run.iterdir():
        (run / p.name).write_bytes(p.read_bytes())
    data = (run / "weights.safetensors").read_bytes()
    (run / "weights.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(RunError, match="weights.safetensors: damaged"):
        latentwalk.load(run)


def test_missing_and_foreign_run_folders(tmp_path):
    with pytest.raises(RunError, match="no such run folder"):
        latentwalk.load(tmp_path / "nope")
    with pytest.raises(RunError, match="not a latentwalk run folder"):
        latentwalk.load(tmp_path)


def test_devices():
    assert choose_device("cpu").type == "cpu"
    assert choose_device("auto").type in ("cpu", "cuda", "mps")
    with pytest.raises(ConfigError, match="unknown device"):
        choose_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="CUDA is not available"):
            choose_device("cuda")


def test_a_collapsed_posterior_is_said_once(tmp_path, small_npz):
    """A VAE whose codes carry nothing (KL weight 50: every unit inactive) gets one warning naming remedies."""
    lines = []
    train_small(tmp_path / "collapsed", small_npz, epochs=2, latent_dim=4, beta=50.0, log=lines.append)
    warnings = [line for line in lines if line.startswith("warning: ")]
    assert len(warnings) == 1, lines
    assert warnings[0].startswith("warning: no active units after epoch 1: the codes of the test images do not vary "
                                  "with the image")
    assert "--kl-warmup 3" in warnings[0] and "--beta" in warnings[0]
    lines.clear()
    train_small(tmp_path / "healthy", small_npz, epochs=1, latent_dim=4, log=lines.append)
    assert not [line for line in lines if line.startswith("warning: ")], lines
