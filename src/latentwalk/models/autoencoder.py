"""Auto-encoders and variational auto-encoders with MLP or convolutional encoder and decoder.

References: Kingma & Welling, "Auto-Encoding Variational Bayes" (2014) for the VAE and its closed-form KL;
Higgins et al., "beta-VAE" (2017) for the KL weight. The loss is the negative ELBO in nats per image:
summed over pixels and latent dimensions, averaged over the batch.

One interface for both kinds (after pythae): `encode(x)` gives the posterior mean (deterministic),
`decode(z)` pixel probabilities (or means) in [0, 1], `sample(n)`, `reconstruct(x)`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import NamedTuple

import torch
from torch import nn
from torch.nn import functional as F

from .. import memory
from ..data.datasets import batches
from ..errors import ConfigError
from ..settings import integer, integers, ints, joined, non_negative_number, setting, validate

LOGVAR_RANGE = (-16.0, 10.0)     # keeps exp(logvar) finite and its gradient alive in float32
LOG_SIGMA_RANGE = (-7.0, 2.0)    # the Gaussian likelihood's learned pixel noise, in log units
KINDS = ("ae", "vae")
ARCHS = ("mlp", "conv")
LIKELIHOODS = ("bernoulli", "gaussian")
ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh}   # between the dense layers (conv layers always use ReLU)


@dataclass(frozen=True)
class ModelConfig:
    """The network: which kind, its layers, its pixel model. Each field is a setting (settings.py): its flag,
    help and check are declared here, once."""
    kind: str = setting("vae", "--model", "kind of model (default {default})", choices=KINDS)
    arch: str = setting("mlp", "--arch", "encoder/decoder network (default {default})", choices=ARCHS)
    latent_dim: int = setting(2, "--latent-dim", "size of z (default {default})", check=integer(1, 1 << 20))
    hidden: tuple[int, ...] = setting((200, 200), "--hidden", "hidden layer sizes (default {default})",
                                      check=integers(1, 1 << 20), parse=ints, show=joined(","))
    image_shape: tuple[int, int, int] = setting((1, 28, 28), check=integers(1, 1 << 16, count=3),
                                                show=joined("x"), derived=True)   # (C, H, W): from the data
    likelihood: str = setting("bernoulli", "--likelihood", "pixel model (default {default})", choices=LIKELIHOODS)
    beta: float = setting(1.0, "--beta", "KL weight of a beta-VAE (default {default})", check=non_negative_number)
    activation: str = setting("relu", "--activation", "between the dense layers (default {default})",
                              choices=tuple(ACTIVATIONS))   # relu (the post) | tanh (Burda et al.'s likelihoods)

    def __post_init__(self):
        object.__setattr__(self, "hidden", tuple(self.hidden) if isinstance(self.hidden, list) else self.hidden)
        if isinstance(self.image_shape, list):
            object.__setattr__(self, "image_shape", tuple(self.image_shape))
        validate(self)

    def to_dict(self) -> dict:
        return asdict(self)


class Loss(NamedTuple):
    """The loss of a batch, per-image means in nats, summed in float32 (also under bf16 autocast)."""
    recon: torch.Tensor           # -log p(x | z)
    kl: torch.Tensor              # KL(q(z | x) || p(z)); zero for an AE
    beta: float                   # the KL weight of the model

    @property
    def neg_elbo(self) -> torch.Tensor:
        """recon + beta * KL: the negative ELBO (the reconstruction loss for an AE)."""
        return self.recon + self.beta * self.kl

    def objective(self, kl_scale: float = 1.0) -> torch.Tensor:
        """What training minimises: the negative ELBO with the KL weight scaled by `kl_scale` (a warm-up)."""
        return self.recon + self.beta * kl_scale * self.kl


def mlp(sizes: list[int], activation: str = "relu") -> nn.Sequential:
    """Linear layers with `activation` between them (none after the last)."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(ACTIVATIONS[activation]())
    return nn.Sequential(*layers)


def _conv_plan(h: int, w: int) -> int:
    """How many stride-2 halvings the conv net makes: while both sides stay even and >= 4, at most 4."""
    n = 0
    while n < 4 and h % 2 == 0 and w % 2 == 0 and h >= 8 and w >= 8:
        h, w, n = h // 2, w // 2, n + 1
    return n


class AutoEncoder(nn.Module):
    """Shared body of AE and VAE: encoder to `out_dim` numbers, decoder from `latent_dim` to pixel logits."""

    variational = False
    differentiable = True       # gradients flow through decode (geodesics); outside models are probed
    precise = True              # decodes in float32: fine enough for the path length's small steps

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        c, h, w = config.image_shape
        d, hidden, act = config.latent_dim, list(config.hidden), config.activation
        out = 2 * d if self.variational else d
        if config.arch == "mlp":
            self.encoder = nn.Sequential(nn.Flatten(), mlp([c * h * w, *hidden, out], act))
            self.decoder = nn.Sequential(mlp([d, *hidden[::-1], c * h * w], act), nn.Unflatten(1, (c, h, w)))
        else:
            n = _conv_plan(h, w)
            chans = [c] + [min(32 * 2 ** i, 256) for i in range(n)]
            fh, fw = h >> n, w >> n
            feat = chans[-1] * fh * fw
            down, up = [], []
            for a, b in zip(chans, chans[1:]):
                down += [nn.Conv2d(a, b, 4, 2, 1), nn.ReLU()]
            for a, b in zip(chans[::-1], chans[::-1][1:]):
                up += [nn.ReLU(), nn.ConvTranspose2d(a, b, 4, 2, 1)]
            self.encoder = nn.Sequential(*down, nn.Flatten(), mlp([feat, *hidden, out], act))
            self.decoder = nn.Sequential(mlp([d, *hidden[::-1], feat], act), nn.Unflatten(1, (chans[-1], fh, fw)), *up)
        if config.likelihood == "gaussian":
            self.log_sigma = nn.Parameter(torch.zeros(()))

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return self.config.image_shape

    @property
    def kind(self) -> str:
        return self.config.kind

    @property
    def label(self) -> str:
        """How titles name the model: AE or VAE."""
        return self.config.kind.upper()

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    # -- the public interface: inference helpers, without gradients (train through `loss`) ------------------

    @torch.no_grad()
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Images (n, C, H, W), float in [0, 1] or uint8 -> latent codes (n, d): the posterior mean for a VAE."""
        return self.encoder_outputs(self._as_input(x))[0]

    @torch.no_grad()
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Latent codes (n, d) -> pixel probabilities (Bernoulli) or means (Gaussian) (n, C, H, W) in [0, 1]."""
        return self.decoder(self._as_latent(z)).sigmoid_()

    def image_map(self):
        """decode as a differentiable map from codes to pixel means (geodesics), the decoder's parameters frozen."""
        for p in self.decoder.parameters():
            p.requires_grad_(False)
        return lambda z: self.decoder(z.to(self.device)).sigmoid()

    @torch.no_grad()
    def sample(self, n: int, seed: int | None = None) -> torch.Tensor:
        """Decode `n` draws from the prior N(0, I) (for an AE, the same draws: its codes need not follow them)."""
        g = torch.Generator().manual_seed(seed) if seed is not None else None
        return self.decode(torch.randn(n, self.latent_dim, generator=g).to(self.device))

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """Decode the codes of `x`: what the model keeps of each image."""
        return self.decode(self.encode(x))

    # -- training and likelihoods -----------------------------------------------------------------------------

    def forward(self, x: torch.Tensor, eps: torch.Tensor | None = None) -> "Loss":
        """The training loss (what DistributedDataParallel wraps): the same as `loss`."""
        return self.loss(x, eps)

    def encoder_outputs(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(mean, log-variance) of q(z|x); the log-variance is None for an AE."""
        return self.encoder(x), None

    def log_sigma_value(self) -> torch.Tensor:
        return self.log_sigma.clamp(*LOG_SIGMA_RANGE)

    def log_likelihood(self, x: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
        """log p(x | z) per image, summed over pixels: (..., C, H, W) -> (...)."""
        if self.config.likelihood == "bernoulli":   # x log sigmoid(l) + (1 - x) log sigmoid(-l) = x l - softplus(l)
            return (x * logits).flatten(-3).sum(-1) - F.softplus(logits, threshold=50).flatten(-3).sum(-1)
        log_sigma = self.log_sigma_value()
        ll = -0.5 * ((x - torch.sigmoid(logits)) / log_sigma.exp()) ** 2 - log_sigma - 0.5 * math.log(2 * math.pi)
        return ll.flatten(-3).sum(-1)

    def loss(self, x: torch.Tensor, eps: torch.Tensor | None = None) -> Loss:
        """The training loss on a float batch; `eps` is the VAE's standard-normal noise (drawn if None)."""
        mu, logvar = self.encoder_outputs(x)
        if logvar is None:
            z, kl = mu, _widened(mu).new_zeros(())
        else:
            if eps is None:
                eps = torch.randn_like(mu)
            z = mu + torch.exp(0.5 * logvar) * eps          # fresh noise for every sample
            kl = kl_divergence(mu, logvar).mean()
        recon = -self.log_likelihood(x, _widened(self.decoder(z))).mean()
        return Loss(recon, kl, self.config.beta)

    def _as_input(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.as_tensor(x)
        if x.dtype == torch.uint8:
            x = x.float() / 255
        if tuple(x.shape[1:]) != self.config.image_shape:
            raise ConfigError(f"images must have shape (n, {', '.join(map(str, self.config.image_shape))}), "
                              f"got {tuple(x.shape)}")
        return x.to(self.device, torch.float32)

    def _as_latent(self, z: torch.Tensor) -> torch.Tensor:
        z = torch.as_tensor(z, dtype=torch.float32)
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ConfigError(f"latent codes must have shape (n, {self.latent_dim}), got {tuple(z.shape)}")
        return z.to(self.device)


class AE(AutoEncoder):
    """A deterministic auto-encoder: x -> z -> x, trained on reconstruction alone."""


class VAE(AutoEncoder):
    """A VAE with Gaussian posterior N(mu(x), diag(exp(logvar(x)))) and prior N(0, I)."""

    variational = True

    def encoder_outputs(self, x):
        mu, logvar = _widened(self.encoder(x)).chunk(2, dim=1)
        return mu, logvar.clamp(*LOGVAR_RANGE)


def _widened(t: torch.Tensor) -> torch.Tensor:
    """A 16-bit tensor (from autocast) as float32, any other as it is: sums over 784 pixels need float32."""
    return t.float() if t.dtype in (torch.bfloat16, torch.float16) else t


def _kl_terms(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu_j, exp(logvar_j)) || N(0, 1)) of each entry, in closed form."""
    return 0.5 * (mu.square() + logvar.exp() - 1 - logvar)


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(q(z|x) || N(0, I)) per row, summed over dimensions."""
    return _kl_terms(mu, logvar).sum(-1)


def kl_per_dim(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Mean KL(q(z_j|x) || N(0, 1)) of each latent dimension j over the data: (d,)."""
    return _kl_terms(mu, logvar).mean(0)


@torch.no_grad()
def codes(model, images: torch.Tensor, binarize: bool = False,
          batch_size: int = 1000) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Posterior means (n, d) and log-variances (n, d) (None for an AE) of uint8 `images`, in batches: of
    latentwalk's models and of outside ones (models/external.py) alike."""
    mus, logvars = [], []
    for x in batches(images, binarize, batch_size):
        mu, logvar = model.encoder_outputs(x.to(model.device))
        mus.append(mu.cpu())
        logvars.append(logvar.cpu() if logvar is not None else None)
    return torch.cat(mus), (torch.cat(logvars) if logvars and logvars[0] is not None else None)


def _network(config: ModelConfig) -> AutoEncoder:
    return (VAE if config.kind == "vae" else AE)(config)


def parameter_count(config: ModelConfig) -> int:
    """How many parameters the model of `config` has (nothing allocated)."""
    return memory.parameter_count(lambda: _network(config))


def build(config: ModelConfig) -> AutoEncoder:
    """The model of `config`, its float32 parameters refused first if they would not fit in memory."""
    memory.require_network_fits(lambda: _network(config), "a model", "choose a smaller `latent_dim` or `hidden`")
    return _network(config)


def training_bytes(config: ModelConfig, batch_size: int) -> int:
    """About what training needs: parameters, gradients and Adam's two moments (float32), and a batch's
    activations through every layer kept for the backward pass."""
    widths = 2 * sum(config.hidden) + 3 * config.latent_dim + 2 * math.prod(config.image_shape)
    if config.arch == "conv":      # feature maps: each conv layer's channels at the image's size, at most
        widths += 2 * sum(config.hidden) * config.image_shape[1] * config.image_shape[2]
    return 16 * parameter_count(config) + 4 * 3 * batch_size * widths
