"""Your own model through `--model-entry`: the protocol's checks (one line naming the entry point) and the
commands that need what a model lacks (one line, exit 2). The models are small real torch modules written
into a user's folder by the test; the example VAE of examples/ has its own test (test_own_vae.py)."""

import json
import textwrap

import numpy as np
import pytest
import torch

from conftest import one_line_error, run_cli
from latentwalk.models.external import External
from latentwalk.run.model_source import open_entry

MODELS = '''
import numpy as np
import torch
from torch import nn


class Decoder(nn.Module):
    """A real (untrained) decoder: z -> sigmoid(linear) images of `shape`; optionally an encoder."""
    def __init__(self, d=2, shape=(1, 28, 28), encode=True, scale=1.0, offset=0.0):
        super().__init__()
        torch.manual_seed(0)
        self.latent_dim, self.shape, self.scale, self.offset = d, shape, scale, offset
        self.net = nn.Linear(d, int(np.prod(shape)))
        if encode:
            self.enc = nn.Linear(int(np.prod(shape)), d)
            self.encode = lambda x: self.enc(x.flatten(1))

    def decode(self, z):
        return self.offset + self.scale * torch.sigmoid(self.net(z)).view(-1, *self.shape)


class NoGrad(Decoder):
    @torch.no_grad()
    def decode(self, z):
        return super().decode(z)


class WrongEncode(Decoder):
    def __init__(self):
        super().__init__()
        self.encode = lambda x: torch.zeros(len(x), 3)


def good(): return Decoder()
def decode_only(): return Decoder(encode=False)
def no_grad(): return NoGrad()
def colour(): return Decoder(shape=(3, 8, 8))
def raises(): raise RuntimeError("no weights in checkpoints/")
def wrong_type(): return {"latent_dim": 2}
def flat(): m = Decoder(); m.decode = lambda z: torch.sigmoid(m.net(z)); return m
def tanh_range(): return Decoder(scale=2.0, offset=-1.0)
def nans(): return Decoder(scale=float("nan"))
def numpy_out(): m = Decoder(); m.decode = lambda z: np.zeros((len(z), 1, 28, 28)); return m
def wrong_encode(): return WrongEncode()
def declared_wrong(): m = Decoder(); m.image_shape = (1, 32, 32); return m
def shape_int(): m = Decoder(); m.image_shape = 784; return m
def exits(): raise SystemExit("bye")
def half(): m = Decoder(); m.decode = lambda z: Decoder.decode(m, z).half(); return m
def expanded(): m = Decoder(); m.decode = lambda z: torch.full((1, 1, 1, 1), 0.5).expand(len(z), 1, 28, 28); return m
'''


@pytest.fixture
def user(tmp_path, monkeypatch):
    """A user's folder with a module of models in it, as the current folder (importable, as with python -m)."""
    (tmp_path / "lw_user_models.py").write_text(textwrap.dedent(MODELS))
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def entry(name: str) -> str:
    return f"lw_user_models:{name}"


@pytest.mark.parametrize("name, message", [
    ("raises", "lw_user_models:raises: raises() raised RuntimeError: no weights in checkpoints/"),
    ("wrong_type", "lw_user_models:wrong_type gave a dict, not a model: it needs an integer latent_dim"),
    ("flat", "lw_user_models:flat: decode(z) of 2 codes returned shape (2, 784); it must return (2, C, H, W)"),
    ("tanh_range", "lw_user_models:tanh_range: decode(z) returned values in [-0."),
    ("nans", "lw_user_models:nans: decode(z) returned values in [nan, nan]; images must be in [0, 1]"),
    ("numpy_out", "lw_user_models:numpy_out: decode(z) returned a ndarray; it must return a torch tensor"),
    ("declared_wrong", "lw_user_models:declared_wrong: image_shape is (1, 32, 32) but decode(z) returns images "
                       "of (1, 28, 28)"),
    ("missing", "lw_user_models:missing: module lw_user_models has no missing"),
    ("shape_int", "lw_user_models:shape_int: image_shape must be three integers (C, H, W), got 784"),
    ("exits", "lw_user_models:exits: exits() raised SystemExit: bye"),
])
def test_a_bad_entry_point_is_one_line_naming_it(capsys, user, name, message):
    err = one_line_error(capsys, "grid", "--model-entry", entry(name), "--out", user / "figs")
    assert message in err
    assert not (user / "figs").exists()


def test_a_wrong_encode_is_refused_where_it_is_used(capsys, user):
    """decode-only commands still run; the first command that encodes names the entry point and what is wrong."""
    code, _, err = run_cli(capsys, "grid", "--model-entry", entry("wrong_encode"), "--size", "3", "--out", user / "g")
    assert code == 0, err
    err = one_line_error(capsys, "scatter", "--model-entry", entry("wrong_encode"), "--data", "mnist",
                         "--out", user / "s")
    assert "lw_user_models:wrong_encode: encode(x) of 1000 images returned codes of (1000, 3); it must return " \
           "float codes (1000, 2)" in err
    assert not (user / "s").exists()


def test_entry_point_spelling_and_imports(capsys, user):
    assert "--model-entry takes package.module:function, got 'lw_user_models.good'" in \
        one_line_error(capsys, "grid", "--model-entry", "lw_user_models.good")
    assert "cannot import no_such_pkg.vae (ModuleNotFoundError: No module named 'no_such_pkg')" in \
        one_line_error(capsys, "grid", "--model-entry", "no_such_pkg.vae:load")
    assert "give one folder or one --model-entry: `grid` walks one model" in \
        one_line_error(capsys, "grid", user, "--model-entry", entry("good"))
    assert "give one folder or one --model-entry" in \
        one_line_error(capsys, "grid", "--model-entry", entry("good"), "--model-entry", entry("decode_only"))
    assert "give a run folder (or a pythae model folder), or --model-entry" in one_line_error(capsys, "grid")
    (user / "lw_broken.py").write_text("import torch\nx = torch.this_does_not_exist\ndef load(): pass\n")
    assert "lw_broken:load: cannot import lw_broken (AttributeError: module 'torch' has no attribute" in \
        one_line_error(capsys, "grid", "--model-entry", "lw_broken:load")


def test_a_model_is_walked_through_its_own_decode(capsys, user):
    """What latentwalk decodes is exactly what the model's decode gives; a decode-only model draws its grid."""
    source = open_entry(entry("decode_only"))
    assert isinstance(source.model, External) and source.model.image_shape == (1, 28, 28)
    z = torch.randn(7, 2)
    assert torch.equal(source.model.decode(z), source.model.obj.decode(z))
    code, out, err = run_cli(capsys, "grid", "--model-entry", entry("decode_only"), "--size", "5",
                             "--out", user / "figs")
    assert code == 0, err
    table = json.loads((user / "figs" / "grid.json").read_text())
    expected = source.model.obj.decode(torch.tensor(np.stack([table["z1"], table["z2"]], 1), dtype=torch.float32))
    assert len(table["z1"]) == 25 and np.isfinite(table["sharpness"]).all()
    assert table["sharpness"] == pytest.approx(
        torch.nn.functional.conv2d(expected.detach(), torch.tensor([[[[0., 1, 0], [1, -4, 1], [0, 1, 0]]]]))
        .flatten(1).var(1).tolist(), rel=1e-4)


@pytest.mark.parametrize("argv, message", [
    (["scatter", "--model-entry", entry("decode_only"), "--data", "mnist"],
     "scatter needs encode(x), and lw_user_models:decode_only has none"),
    (["scatter", "--model-entry", entry("good")],
     "scatter needs labelled images to encode, and lw_user_models:good names none: pass --data"),
    (["interpolate", "--model-entry", entry("decode_only"), "--from", "test", "--data", "mnist"],
     "interpolate --from test needs encode(x)"),
    (["interpolate", "--model-entry", entry("no_grad"), "--method", "geodesic", "--no-classifier"],
     "geodesics need gradients through decode(z), and lw_user_models:no_grad decodes without them"),
    (["measure", "--model-entry", entry("decode_only"), "--data", "mnist"],
     "--sampler gmm,posterior (prior alone does not) needs encode(x)"),
    (["measure", "--model-entry", entry("colour"), "--data", "mnist", "--sampler", "prior"],
     "mnist holds 1x28x28 images and lw_user_models:colour decodes 3x8x8"),
    (["evaluate", "--model-entry", entry("good")],
     "evaluate needs a latentwalk run folder, and lw_user_models:good is not one"),
    (["serve", "--model-entry", entry("decode_only"), "--data", "mnist", "--port", "0"],
     "the explorer needs encode(x)"),
    (["compare", "--model-entry", entry("good"), "--model-entry", entry("colour"), "--data", "mnist"],
     "compare scores prior samples with the digit classifier, which reads 1x28x28 images; lw_user_models:colour"),
])
def test_a_command_needing_what_a_model_lacks_says_so(capsys, user, argv, message):
    assert message in one_line_error(capsys, *argv, *(["--out", user / "figs"] if argv[0] not in
                                                      ("measure", "evaluate", "serve") else []))
    assert not (user / "figs").exists()


def test_measures_refuse_images_the_feature_network_cannot_read(capsys, user):
    rng = np.random.default_rng(0)
    np.savez(user / "colour.npz", x=rng.integers(0, 256, (200, 8, 8, 3), dtype=np.uint8),
             y=rng.integers(0, 10, 200))
    err = one_line_error(capsys, "measure", "--model-entry", entry("colour"), "--data", user / "colour.npz",
                         "--sampler", "prior", "--n", "10")
    assert "the feature network reads 1x28x28 grey digits; " in err and "holds 3x8x8 images" in err


@pytest.mark.slow
def test_models_without_gradients_or_float32_are_walked_with_what_they_can(capsys, user):
    """decode under torch.no_grad: no geodesic (measure leaves it out and says so; the explorer offers the
    closed forms); 16-bit images: no path length; an expanded (read-only) tensor decodes untouched."""
    code, out, err = run_cli(capsys, "measure", "--model-entry", entry("no_grad"), "--data", "mnist", "--sampler",
                             "prior", "--n", "100", "--paths", "100", "--geodesic-paths", "10", "--json")
    assert code == 0, err
    assert "geodesic path length left out: it needs gradients through decode(z)" in err
    rows = [json.loads(line) for line in out.splitlines()]
    assert set(rows[-1]["ppl"]) == {"lerp", "slerp", "nlerp"}
    code, out, err = run_cli(capsys, "interpolate", "--model-entry", entry("no_grad"), "--data", "mnist",
                             "--method", "lerp", "--out", user / "i")
    assert code == 0 and (user / "i" / "interpolate.png").is_file()
    assert not (user / "i" / "interpolate_plane.png").exists()      # its shading needs the decoder's Jacobian

    from latentwalk.explorer.backend import Backend
    backend = Backend([open_entry(entry("no_grad"), "mnist")], None, log=lambda s: None)
    assert backend.describe()["models"][0]["methods"] == ["lerp", "slerp", "nlerp"]
    assert set(backend.interpolate(entry("no_grad"), [0.0, 1.0], [1.0, 0.0], steps=5)["rows"]) == \
        {"lerp", "slerp", "nlerp"}

    code, out, err = run_cli(capsys, "measure", "--model-entry", entry("half"), "--data", "mnist", "--sampler",
                             "prior", "--n", "100", "--paths", "100", "--geodesic-paths", "10")
    assert code == 0 and "path length left out: decode gives 16-bit images" in err and "path length over" not in out
    source = open_entry(entry("expanded"))
    assert torch.equal(source.model.decode(torch.zeros(3, 2)), torch.full((3, 1, 28, 28), 0.5))
