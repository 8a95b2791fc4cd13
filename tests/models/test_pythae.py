"""pythae model folders: trained by pythae itself inside the test, opened by latentwalk without running any code
from the folder, and decoded exactly as pythae's own networks decode."""

import base64
import json
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch

pythae_models = pytest.importorskip("pythae.models")
from pythae.models.base.base_utils import ModelOutput  # noqa: E402
from pythae.models.nn import BaseDecoder, BaseEncoder  # noqa: E402

from conftest import ROOT, one_line_error, run_cli  # noqa: E402
from latentwalk.errors import ConfigError  # noqa: E402
from latentwalk.models import pythae_folder  # noqa: E402
from latentwalk.run.model_source import open_folder  # noqa: E402


def pythae_class(name: str):
    """pythae's model class and its config class, by the name model_config.json records."""
    config = getattr(pythae_models, f"{name}Config", None) or getattr(pythae_models, f"{name}_Config")
    return getattr(pythae_models, name), config


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A pythae VAE (z = 2, its default networks) trained for one epoch on 2,000 MNIST digits by pythae's own
    pipeline: examples/pythae_mnist.py, run as a user runs it."""
    out = tmp_path_factory.mktemp("pythae")
    p = subprocess.run([sys.executable, ROOT / "examples" / "pythae_mnist.py", "--epochs", "1", "--limit", "2000",
                        "--out", out], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    (folder,) = out.glob("*/final_model")
    return folder


@pytest.mark.slow
def test_a_trained_pythae_vae_decodes_as_pythae_does(trained):
    theirs = pythae_models.VAE.load_from_folder(str(trained)).eval()
    source = open_folder(trained)
    assert source.name == "final_model" and source.model.kind == "pythae VAE" and source.model.latent_dim == 2
    z = torch.randn(64, 2, generator=torch.Generator().manual_seed(1)) * 2
    with torch.no_grad():
        expected = theirs.decoder(z)["reconstruction"]
        assert torch.equal(source.model.decode(z), expected)
        x = torch.rand(16, 1, 28, 28, generator=torch.Generator().manual_seed(2))
        out = theirs.encoder(x)
        mu, logvar = source.model.encoder_outputs(x)
    assert torch.equal(mu, out["embedding"]) and torch.equal(logvar, out["log_covariance"])
    assert expected.std() > 0.01          # trained: not a constant image


@pytest.mark.slow
def test_commands_open_a_pythae_folder(capsys, trained, tmp_path):
    code, out, err = run_cli(capsys, "grid", trained, "--size", "4", "--out", tmp_path / "grid")
    assert code == 0 and (tmp_path / "grid" / "grid.png").stat().st_size > 1000, err
    assert "scatter needs labelled images to encode, and final_model names none: pass --data" in \
        one_line_error(capsys, "scatter", trained, "--out", tmp_path / "s")
    code, out, err = run_cli(capsys, "scatter", trained, "--data", "mnist", "--limit", "500", "--out", tmp_path / "s")
    assert code == 0 and (tmp_path / "s" / "scatter.png").is_file(), err
    assert f"{trained.parent} is a pythae training folder: give its model, {trained}" in \
        one_line_error(capsys, "grid", trained.parent, "--out", tmp_path / "x")
    assert sorted(p.name for p in trained.iterdir()) == ["environment.json", "model.pt", "model_config.json",
                                                         "training_config.json"]      # nothing written there


@pytest.mark.parametrize("name", pythae_folder.VAE_FAMILY + pythae_folder.AE_FAMILY)
def test_every_family_member_with_default_networks_opens(tmp_path, name):
    cls, config = pythae_class(name)
    torch.manual_seed(0)
    model = cls(config(input_dim=(1, 12, 10), latent_dim=3)).eval()
    model.save(str(tmp_path / "m"))
    source = open_folder(tmp_path / "m")
    z = torch.randn(5, 3)
    with torch.no_grad():
        assert torch.equal(source.model.decode(z), model.decoder(z)["reconstruction"])
        x = torch.rand(4, 1, 12, 10)
        assert torch.equal(source.model.encode(x), model.encoder(x)["embedding"])
    assert source.model.kind == f"pythae {name}" and source.model.variational == (name in pythae_folder.VAE_FAMILY)


class OwnEncoder(BaseEncoder):
    def __init__(self):
        super().__init__()
        self.net = torch.nn.Linear(784, 4)

    def forward(self, x):
        mu, logvar = self.net(x.flatten(1)).chunk(2, 1)
        return ModelOutput(embedding=mu, log_covariance=logvar)


class OwnDecoder(BaseDecoder):
    def __init__(self):
        super().__init__()
        self.net = torch.nn.Linear(2, 784)

    def forward(self, z):
        return ModelOutput(reconstruction=torch.sigmoid(self.net(z)).view(-1, 1, 28, 28))


def test_pickled_networks_open_only_when_trusted(capsys, tmp_path):
    torch.manual_seed(0)
    model = pythae_models.VAE(pythae_models.VAEConfig(input_dim=(1, 28, 28), latent_dim=2),
                              encoder=OwnEncoder(), decoder=OwnDecoder()).eval()
    model.save(str(tmp_path / "own"))
    err = one_line_error(capsys, "grid", tmp_path / "own", "--out", tmp_path / "figs")
    assert "holds pickled networks (encoder.pkl, decoder.pkl)" in err and "pass --trust-pickle only if you trust" in err
    assert not (tmp_path / "figs").exists()
    source = open_folder(tmp_path / "own", trust_pickle=True)
    z = torch.randn(6, 2)
    with torch.no_grad():
        assert torch.equal(source.model.decode(z), model.decoder(z)["reconstruction"])


class Payload:
    """A pickle that would write a file when unpickled: the proof that model.pt's code does not run."""
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


@pytest.mark.slow
def test_weights_are_read_without_running_code(capsys, trained, tmp_path):
    folder = tmp_path / "evil"
    folder.mkdir()
    (folder / "model_config.json").write_bytes((trained / "model_config.json").read_bytes())
    marker = tmp_path / "ran"
    with open(folder / "model.pt", "wb") as f:
        pickle.dump({"model_state_dict": Payload(marker)}, f, protocol=2)
    err = one_line_error(capsys, "grid", folder, "--out", tmp_path / "figs")
    assert "model.pt: holds something other than tensors (or is damaged)" in err
    assert "no code from a model folder is run" in err
    assert not marker.exists()


@pytest.mark.slow
@pytest.mark.parametrize("config, message", [
    ({"name": "VAMPConfig", "input_dim": [1, 28, 28], "latent_dim": 2},
     "a pythae VAMP; latentwalk opens the VAE family"),
    ({"name": "VAEConfig", "input_dim": [784], "latent_dim": 2}, "input_dim [784] is not images (C, H, W)"),
    ({"name": "VAEConfig", "input_dim": [1, 28, 28], "latent_dim": 2, "uses_default_decoder": False},
     "says the model has its own networks, but decoder.pkl is missing"),
])
def test_folders_latentwalk_cannot_open_say_why(capsys, trained, tmp_path, config, message):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "model.pt").write_bytes((trained / "model.pt").read_bytes())
    (folder / "model_config.json").write_text(json.dumps(config))
    assert message in one_line_error(capsys, "summary", folder, "--out", tmp_path / "figs")


@pytest.mark.slow
def test_a_pythae_model_is_served_beside_a_run(small_run, trained, digit_net):
    from latentwalk.explorer.backend import Backend
    from latentwalk.run.model_source import open_sources

    with pytest.raises(ConfigError, match="^data is for outside models"):
        open_sources([small_run], [], data="mnist")
    sources = open_sources([small_run, trained], [], data="mnist")      # --data: for the pythae model alone
    assert sources[0].data is None and sources[1].data == "mnist"
    backend = Backend(sources, digit_net, log=lambda s: None)
    names = [m["name"] for m in backend.describe()["models"]]
    assert names == ["vae", "final_model"]
    answer = backend.decode("final_model", [[0.0, 0.0], [1.0, -1.0]])
    pixels = np.frombuffer(base64.b64decode(answer["images"]["pixels"]), np.uint8)
    expected = sources[1].model.decode(torch.tensor([[0.0, 0.0], [1.0, -1.0]]))
    assert np.abs(pixels.reshape(2, 28, 28).astype(float) - expected.numpy()[:, 0] * 255).max() <= 0.5001
