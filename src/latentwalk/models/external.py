"""A model of your own: any object with a latent size and a decoder, walked like latentwalk's own.

The protocol (nothing to import or subclass; an `nn.Module` or any object will do):

    latent_dim: int              size of the codes
    decode(z) -> images          z: float32 tensor (n, latent_dim) -> tensor (n, C, H, W) in [0, 1], C = 1 or 3

and, where the model has them:

    encode(x) -> codes           x: float32 (n, C, H, W) in [0, 1] -> codes (n, latent_dim), or a pair
                                 (mean, log-variance) for a VAE (then the scatter ranks dimensions by KL and
                                 the posterior sampler draws from it)
    image_shape: (C, H, W)       checked against what decode returns (otherwise read from it)
    data: str                    the labelled images to encode, as `latentwalk train --data` names them:
                                 "mnist", "fashion-mnist", an .npz file or an image folder
    kind: str                    a short label for titles and tables, e.g. "VAE"
    device                       where decode wants its codes (default: where an nn.Module's parameters are)

An `nn.Module` is put in eval mode; any other object is used as it is (a wrapper puts its networks in eval
mode itself).

`--model-entry package.module:function` names a function that takes no arguments and returns such an object
(the current folder is importable, as with `python -m`). `External` checks it once on a probe batch and then
on every decode, so that a wrong shape, type or range is one line naming the entry point, never a figure of
garbage. Geodesics also need gradients through decode (no `torch.no_grad` inside it).
"""

from __future__ import annotations

import importlib
import numbers
import os
import sys

import torch
from torch import nn

from ..errors import ConfigError

PROBE = 2           # codes decoded (and their images encoded) to check a model when it is opened
TOLERANCE = 1e-4    # how far outside [0, 1] a decoded pixel may stray (rounding of a sigmoid)


class CapabilityError(ConfigError):
    """A command needs what a model does not offer (encode, data, a run folder)."""


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0]}" if text else type(e).__name__


class External:
    """An outside model behind the interface latentwalk's own models offer to the walks, the measures and the
    explorer: latent_dim, image_shape, kind, label, variational (encode gives a log-variance), decode, encode,
    encoder_outputs, sample, reconstruct, image_map. `name` says where it came from (an entry point, a
    folder) in every error."""

    def __init__(self, obj, name: str):
        self.obj, self.name = obj, name
        try:                          # the user's attributes may be properties that raise
            d, decode, encode = (getattr(obj, a, None) for a in ("latent_dim", "decode", "encode"))
            kind, declared, device = (getattr(obj, a, None) for a in ("kind", "image_shape", "device"))
        except Exception as e:
            raise ConfigError(f"{name}: reading its attributes raised {_first_line(e)}") from None
        if not callable(decode) or not isinstance(d, numbers.Integral) or isinstance(d, bool) or d < 1:
            raise ConfigError(f"{name} gave a {type(obj).__name__}, not a model: it needs an integer latent_dim "
                              f">= 1 and a method decode(z) (see 'Your own model' in the README)")
        if declared is not None and not (isinstance(declared, (tuple, list)) and len(declared) == 3
                                         and all(isinstance(s, numbers.Integral) for s in declared)):
            raise ConfigError(f"{name}: image_shape must be three integers (C, H, W), got {declared!r}")
        self.latent_dim = int(d)
        if isinstance(obj, nn.Module):
            obj.eval()                # an object that only holds modules must put them in eval mode itself
        params = list(obj.parameters()) if isinstance(obj, nn.Module) else []
        self.device = torch.device(device) if isinstance(device, (str, torch.device)) else \
            params[0].device if params else torch.device("cpu")
        self.kind = kind if isinstance(kind, str) and kind else "model"
        self.label = kind if isinstance(kind, str) and kind else name
        self.can_encode = callable(encode)
        self.image_shape: tuple[int, ...] | None = None
        z = torch.randn(PROBE, self.latent_dim, generator=torch.Generator().manual_seed(0))
        with torch.no_grad():
            probe = self._checked_images(self._call("decode", z.to(self.device)), PROBE)
        self.image_shape = tuple(probe.shape[1:])
        if declared is not None and tuple(declared) != self.image_shape:
            raise ConfigError(f"{name}: image_shape is {tuple(declared)} but decode(z) returns images of "
                              f"{self.image_shape}")
        # float16 / bfloat16 images cannot resolve the path length's step of 1e-4 (measure/ppl.py)
        self.precise = probe.dtype in (torch.float32, torch.float64)
        try:                          # a wrong encode is refused when a command uses it, not before a grid
            self.variational = self.can_encode and self.encoder_outputs(probe.float())[1] is not None
        except ConfigError:
            self.variational = False
        self._differentiable: bool | None = None

    @property
    def data(self) -> str | None:
        data = getattr(self.obj, "data", None)
        return os.fspath(data) if isinstance(data, (str, os.PathLike)) else None

    def _checked_images(self, x, n: int) -> torch.Tensor:
        if not isinstance(x, torch.Tensor):
            raise ConfigError(f"{self.name}: decode(z) returned a {type(x).__name__}; it must return a torch "
                              f"tensor of images (n, C, H, W) in [0, 1]")
        if x.ndim != 4 or len(x) != n or x.shape[1] not in (1, 3) or (self.image_shape is not None
                                                                      and tuple(x.shape[1:]) != self.image_shape):
            raise ConfigError(f"{self.name}: decode(z) of {n} codes returned shape {tuple(x.shape)}; it must return "
                              f"({n}, C, H, W) with C = 1 or 3" + (f", here {(n, *self.image_shape)}"
                                                                   if self.image_shape else ""))
        if not x.is_floating_point():
            raise ConfigError(f"{self.name}: decode(z) returned {x.dtype} images; it must return floats in [0, 1]")
        lo, hi = float(x.detach().min()), float(x.detach().max())
        if not (lo >= -TOLERANCE and hi <= 1 + TOLERANCE):      # NaN fails both
            raise ConfigError(f"{self.name}: decode(z) returned values in [{lo:.3g}, {hi:.3g}]; images must be in "
                              f"[0, 1] (for a tanh output, decode to (x + 1) / 2)")
        return x

    def _codes(self, z: torch.Tensor) -> torch.Tensor:
        z = torch.as_tensor(z, dtype=torch.float32)
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ConfigError(f"latent codes must have shape (n, {self.latent_dim}), got {tuple(z.shape)}")
        return z.to(self.device)

    def _call(self, method: str, arg: torch.Tensor):
        try:
            return getattr(self.obj, method)(arg)
        except Exception as e:      # the user's code: whatever it raises becomes one line naming it
            raise ConfigError(f"{self.name}: {method}() raised {_first_line(e)}") from None

    @torch.no_grad()
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Codes (n, d) -> images (n, C, H, W), float32 in [0, 1], checked."""
        z = self._codes(z)
        return self._checked_images(self._call("decode", z), len(z)).float().clamp(0, 1)

    @property
    def differentiable(self) -> bool:
        """Whether gradients flow from decode's images back to the codes (geodesics, the magnification)."""
        if self._differentiable is None:
            z = torch.zeros(PROBE, self.latent_dim, device=self.device, requires_grad=True)
            try:
                with torch.enable_grad():
                    x = self.obj.decode(z)
                    ok = isinstance(x, torch.Tensor) and x.requires_grad
                    if ok:
                        x.float().sum().backward()
                        ok = z.grad is not None and bool(torch.isfinite(z.grad).all())
            except Exception:           # decoding through numpy, say: not differentiable
                ok = False
            self._differentiable = ok
        return self._differentiable

    def image_map(self):
        """decode as a differentiable map (geodesics), float32, the model's parameters frozen."""
        if not self.differentiable:
            raise CapabilityError(f"geodesics need gradients through decode(z), and {self.name} decodes without "
                                  f"them (under torch.no_grad, detached or through numpy)")
        if isinstance(self.obj, nn.Module):
            for p in self.obj.parameters():
                p.requires_grad_(False)
        return lambda z: self._checked_images(self._call("decode", z.to(self.device)), len(z)).float()

    def encoder_outputs(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(codes, log-variance or None) of float images (n, C, H, W), checked."""
        if not self.can_encode:
            raise CapabilityError(f"{self.name} has no encode(x): place images in its latent space with a "
                                  f"model that has one")
        with torch.no_grad():
            out = self._call("encode", x.to(self.device))
        mu, logvar = out if isinstance(out, (tuple, list)) and len(out) == 2 else (out, None)
        want = (len(x), self.latent_dim)
        for what, t in (("codes", mu), ("log-variances", logvar)):
            if t is not None and (not isinstance(t, torch.Tensor) or tuple(t.shape) != want
                                  or not t.is_floating_point()):
                got = tuple(t.shape) if isinstance(t, torch.Tensor) else type(t).__name__
                raise ConfigError(f"{self.name}: encode(x) of {len(x)} images returned {what} of {got}; it must "
                                  f"return float codes {want}, or a pair (mean, log-variance) of them")
        return mu.float(), (logvar.float() if logvar is not None else None)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Images (n, C, H, W), float in [0, 1] or uint8 -> codes (n, d)."""
        x = torch.as_tensor(x)
        return self.encoder_outputs(x.float() / 255 if x.dtype == torch.uint8 else x.float())[0]

    def sample(self, n: int, seed: int | None = None) -> torch.Tensor:
        """Decode `n` draws from N(0, I)."""
        g = torch.Generator().manual_seed(seed) if seed is not None else None
        return self.decode(torch.randn(n, self.latent_dim, generator=g))

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))


def from_entry(spec: str) -> External:
    """Import `package.module:function`, call the function with no arguments, check what it returns."""
    module, sep, function = spec.partition(":")
    if not sep or not module or not function.isidentifier():
        raise ConfigError(f"`model_entry` takes package.module:function, got {spec!r}")
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())         # as `python -m` does: the user's own package, run from its folder
    try:
        imported = importlib.import_module(module)
    except (Exception, SystemExit) as e:
        raise ConfigError(f"{spec}: cannot import {module} ({_first_line(e)})") from None
    factory = getattr(imported, function, None)
    if factory is None:
        raise ConfigError(f"{spec}: module {module} has no {function}")
    if not callable(factory):
        raise ConfigError(f"{spec}: {function} is a {type(factory).__name__}, not a function")
    try:
        obj = factory()
    except (Exception, SystemExit) as e:        # sys.exit() in the user's function too: one line, not an exit
        raise ConfigError(f"{spec}: {function}() raised {_first_line(e)}") from None
    return External(obj, spec)
