"""pythae model folders (`final_model/` of a pythae training: model_config.json + model.pt), opened without pythae.

pythae (Chadebec et al., "Pythae: Unifying Generative Autoencoders in Python", NeurIPS 2022) saves a model as
its config in JSON and its state dict in `model.pt`, plus `encoder.pkl`/`decoder.pkl` (cloudpickle) when
the networks are the user's own. The VAE and AE families trained with pythae's default networks are rebuilt
here from the config alone: an MLP encoder input -> 512 -> code (and log-variance) and an MLP decoder
code -> 512 -> input with a sigmoid, their parameters named as pythae names them, so that its state dict loads
strictly. The weights are read with `torch.load(weights_only=True)`: no code from the folder runs.
Pickled networks are code; they are unpickled only with `trust_pickle` (`--trust-pickle`), and then need
pythae installed, since they refer to its classes.
"""

from __future__ import annotations

import json
import math
import pickle
from pathlib import Path

import torch
from torch import nn

from .. import memory
from ..errors import RunError, is_int

CONFIG, WEIGHTS = "model_config.json", "model.pt"
HIDDEN = 512
# Models whose default networks are the MLPs above, whose prior is N(0, I) and whose code is the encoder's
# output itself (no flows, pseudo-inputs or quantizers after it): `kind` from model_config.json's "name".
VAE_FAMILY = ("VAE", "BetaVAE", "DisentangledBetaVAE", "BetaTCVAE", "IWAE", "CIWAE", "MIWAE", "PIWAE",
              "MSSSIM_VAE", "INFOVAE_MMD")
AE_FAMILY = ("AE", "WAE_MMD", "RAE_L2", "RAE_GP")


def is_pythae_folder(path: Path) -> bool:
    return (path / CONFIG).is_file() and (path / WEIGHTS).is_file()


class _Encoder(nn.Module):
    """pythae's default MLP encoder, parameter for parameter."""

    def __init__(self, pixels: int, latent_dim: int, variational: bool):
        super().__init__()
        self.layers = nn.ModuleList([nn.Sequential(nn.Linear(pixels, HIDDEN), nn.ReLU())])
        self.embedding = nn.Linear(HIDDEN, latent_dim)
        if variational:
            self.log_var = nn.Linear(HIDDEN, latent_dim)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        h = self.layers[0](x.flatten(1))
        out = {"embedding": self.embedding(h)}
        if hasattr(self, "log_var"):
            out["log_covariance"] = self.log_var(h)
        return out


class _Decoder(nn.Module):
    """pythae's default MLP decoder, parameter for parameter."""

    def __init__(self, latent_dim: int, pixels: int):
        super().__init__()
        self.layers = nn.ModuleList([nn.Sequential(nn.Linear(latent_dim, HIDDEN), nn.ReLU()),
                                     nn.Sequential(nn.Linear(HIDDEN, pixels), nn.Sigmoid())])

    def forward(self, z: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"reconstruction": self.layers[1](self.layers[0](z))}


class PythaeModel(nn.Module):
    """A pythae VAE or AE behind latentwalk's model protocol (models/external.py)."""

    def __init__(self, kind: str, image_shape: tuple[int, int, int], latent_dim: int,
                 encoder: nn.Module, decoder: nn.Module):
        super().__init__()
        self.kind, self.image_shape, self.latent_dim = f"pythae {kind}", image_shape, latent_dim
        self.encoder, self.decoder = encoder, decoder

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)["reconstruction"].reshape(len(z), *self.image_shape)

    def encode(self, x: torch.Tensor):
        out = self.encoder(x)
        return (out["embedding"], out["log_covariance"]) if "log_covariance" in out else out["embedding"]


def _config(folder: Path) -> tuple[str, tuple[int, int, int], int, list[str]]:
    """The model's kind, input shape, latent size, and the pickled networks of its own the folder holds."""
    path = folder / CONFIG
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        name = str(raw["name"]).removesuffix("Config").rstrip("_")
        shape, d = tuple(raw["input_dim"]), raw["latent_dim"]
        declared = [f"{net}.pkl" for net in ("encoder", "decoder") if not raw.get(f"uses_default_{net}", True)]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, RecursionError) as e:
        raise RunError(f"{path}: not a readable pythae model config ({type(e).__name__}: {e})") from None
    if name not in VAE_FAMILY + AE_FAMILY:
        raise RunError(f"{folder}: a pythae {name}; latentwalk opens the VAE family ({', '.join(VAE_FAMILY)}) and the "
                       f"AE family ({', '.join(AE_FAMILY)}), whose codes decode as they are under a N(0, I) prior")
    if len(shape) != 3 or not all(is_int(s) and s >= 1 for s in shape) or shape[0] not in (1, 3):
        raise RunError(f"{path}: input_dim {list(shape)} is not images (C, H, W) with C = 1 or 3")
    if not is_int(d) or d < 1:
        raise RunError(f"{path}: latent_dim must be an integer >= 1, got {d!r}")
    if not all(is_int(s) for s in shape):
        raise RunError(f"{path}: input_dim must be integers, got {list(shape)}")
    missing = [p for p in declared if not (folder / p).is_file()]
    if missing:
        raise RunError(f"{path} says the model has its own networks, but {', '.join(missing)} is missing")
    return name, shape, d, [p for p in ("encoder.pkl", "decoder.pkl") if (folder / p).exists()]


def _unpickle(folder: Path, name: str) -> nn.Module:
    try:
        with open(folder / name, "rb") as f:
            net = pickle.load(f)
    except ImportError as e:
        raise RunError(f"{folder / name}: unpickling it needs the module {e.name}: pip install pythae") from None
    except Exception as e:      # a broken pickle can raise almost anything
        raise RunError(f"{folder / name}: cannot be unpickled ({type(e).__name__}: {e})") from None
    if not isinstance(net, nn.Module):
        raise RunError(f"{folder / name}: holds a {type(net).__name__}, not a network")
    return net


def load(folder: str | Path, trust_pickle: bool = False) -> PythaeModel:
    """Rebuild the model saved in a pythae folder, its weights loaded strictly, in eval mode on the CPU."""
    folder = Path(folder)
    kind, shape, d, pickled = _config(folder)
    if pickled and not trust_pickle:
        raise RunError(f"{folder} holds pickled networks ({', '.join(pickled)}), and unpickling runs the code they "
                       f"carry: pass `trust_pickle` only if you trust the folder as you would a script you run")
    pixels, variational = math.prod(shape), kind in VAE_FAMILY
    defaults = {"encoder.pkl": lambda: _Encoder(pixels, d, variational), "decoder.pkl": lambda: _Decoder(d, pixels)}
    for name, make in defaults.items():       # the sizes model_config.json gives, checked before allocating
        if name not in pickled:
            memory.require_network_fits(make, f"{folder / CONFIG}: its {name[:-4]}", "is the file whole?")
    encoder, decoder = (_unpickle(folder, name) if name in pickled else make() for name, make in defaults.items())
    model = PythaeModel(kind, shape, d, encoder, decoder)
    try:
        state = torch.load(folder / WEIGHTS, map_location="cpu", weights_only=True)["model_state_dict"]
    except pickle.UnpicklingError:
        raise RunError(f"{folder / WEIGHTS}: holds something other than tensors (or is damaged), which "
                       f"torch.load(weights_only=True) refuses: no code from a model folder is run") from None
    except Exception as e:
        raise RunError(f"{folder / WEIGHTS}: not a pythae weights file with a model_state_dict "
                       f"({type(e).__name__}: {e})") from None
    try:
        model.load_state_dict(state)
    except Exception as e:
        raise RunError(f"{folder / WEIGHTS}: its weights do not fit a pythae {kind} with its default networks, "
                       f"input {shape} and z = {d} ({type(e).__name__}: {str(e).splitlines()[0]})") from None
    return model.eval()
