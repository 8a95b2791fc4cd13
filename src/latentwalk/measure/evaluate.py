"""How good is a trained model: test -ELBO, the importance-weighted bound, KL per dimension, active units.

All numbers are positive nats per image. The importance-weighted bound (Burda, Grosse & Salakhutdinov,
"Importance Weighted Autoencoders", 2016) with k samples is a tighter bound on -log p(x) than the ELBO:
nll_iwae <= neg_elbo for every k >= 1, and it approaches the true negative log-likelihood as k grows.
"""

from __future__ import annotations

import math
import time

import torch

from ..data.datasets import TEST_SEED, batches
from ..errors import ConfigError, is_int, require
from ..models.autoencoder import AutoEncoder, codes, kl_per_dim

@torch.no_grad()
def neg_elbo(model: AutoEncoder, images: torch.Tensor, binarize: bool = False, batch_size: int = 1000) -> dict:
    """Mean -ELBO with its reconstruction and KL parts (for an AE: reconstruction only, KL 0)."""
    g = torch.Generator().manual_seed(TEST_SEED + 1)
    total = recon = kl = 0.0
    for x in batches(images, binarize, batch_size):
        x = x.to(model.device)
        eps = torch.randn(len(x), model.latent_dim, generator=g).to(model.device)
        loss = model.loss(x, eps)
        total += loss.neg_elbo.item() * len(x)
        recon += loss.recon.item() * len(x)
        kl += loss.kl.item() * len(x)
    n = len(images)
    return {"neg_elbo": total / n, "recon": recon / n, "kl": kl / n}


@torch.no_grad()
def nll_iwae(model: AutoEncoder, images: torch.Tensor, k: int = 5000, binarize: bool = False,
             max_rows: int = 32768) -> float:
    """-log p(x) estimated with k importance samples per image, averaged over images.

    Samples are drawn in chunks of at most `max_rows` decoder rows and folded into a running log-sum-exp,
    so memory stays bounded for any k. Time is bounded too: once the first chunk is done, the whole is
    estimated from it, and refused (ConfigError) when the estimate passes MAX_SECONDS on this machine.
    """
    require(model.variational, "the importance-weighted bound needs a VAE (an AE has no posterior)")
    require(is_int(k) and 1 <= k <= MAX_K, f"`k` must be an integer in 1..{MAX_K:,}, got {k!r}")
    g = torch.Generator().manual_seed(TEST_SEED + 2)
    started, timed = time.perf_counter(), False
    log_norm = 0.5 * math.log(2 * math.pi) * model.latent_dim
    total = 0.0
    per_batch = max(1, min(1000, max_rows))
    for x in batches(images, binarize, per_batch):
        x = x.to(model.device)
        b = len(x)
        mu, logvar = model.encoder_outputs(x)                    # (b, d)
        std = (0.5 * logvar).exp()
        acc = torch.full((b,), -math.inf, device=model.device)
        chunk = max(1, max_rows // b)
        for start in range(0, k, chunk):
            kc = min(chunk, k - start)
            eps = torch.randn(kc, b, model.latent_dim, generator=g).to(model.device)
            z = mu + std * eps                                   # (kc, b, d)
            logits = model.decoder(z.reshape(kc * b, -1)).reshape(kc, b, *x.shape[1:])
            log_px = model.log_likelihood(x, logits)             # (kc, b)
            log_pz = -0.5 * z.square().sum(-1) - log_norm
            log_qz = -0.5 * eps.square().sum(-1) - 0.5 * logvar.sum(-1) - log_norm
            acc = torch.logaddexp(acc, torch.logsumexp(log_px + log_pz - log_qz, dim=0))
            if not timed:                                        # the first chunk: the time of the whole
                timed, took = True, time.perf_counter() - started
                _check_time(took / (kc * b) * k * len(images), took, kc * b, k, len(images))
        total += -(acc - math.log(k)).sum().item()
    return total / len(images)


ACTIVE = 0.01   # a dimension is active when the variance of its posterior mean over the data exceeds this

MAX_K = 100_000                # importance samples per image
MAX_SECONDS = 600              # the longest an importance bound may take (estimated from its first chunk)


def _check_time(estimate: float, took: float, done: int, k: int, n: int) -> None:
    require(estimate <= MAX_SECONDS, f"the importance bound would take about {estimate / 60:,.0f} min here ({k:,} "
                                     f"samples for each of {n:,} images; the first {done:,} took {took:.1f} s), "
                                     f"past its {MAX_SECONDS // 60} min limit: lower `k` or `limit`")


def active_dims(mu: torch.Tensor, threshold: float = ACTIVE) -> torch.Tensor:
    """The dimensions whose posterior mean varies with x: Cov_x(E_q[z_j]) > threshold (Burda et al. 2016)."""
    return torch.nonzero(mu.var(0, unbiased=False) > threshold).flatten()


def active_units(mu: torch.Tensor, threshold: float = ACTIVE) -> int:
    """How many dimensions are active (see active_dims)."""
    return len(active_dims(mu, threshold))


def evaluate(model: AutoEncoder, images: torch.Tensor, k: int = 5000, binarize: bool = False) -> dict:
    """All the numbers for `latentwalk evaluate`, as plain JSON-ready values."""
    if len(images) == 0:
        raise ConfigError("no test images to evaluate on")
    result = {"model": model.config.kind, "latent_dim": model.latent_dim, "images": len(images)}
    result.update(neg_elbo(model, images, binarize))
    mu, logvar = codes(model, images, binarize)
    result["active_units"] = active_units(mu)
    if model.variational:
        result["k"] = k
        result["nll_iwae"] = nll_iwae(model, images, k, binarize)
        result["kl_per_dim"] = kl_per_dim(mu, logvar).tolist()
    else:
        result["k"], result["nll_iwae"], result["kl_per_dim"] = None, None, None
    return result
