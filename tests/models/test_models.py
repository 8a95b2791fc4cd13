import math

import pytest
import torch

from latentwalk.errors import ConfigError
from latentwalk.models.autoencoder import LOGVAR_RANGE, ModelConfig, build, kl_divergence


@pytest.mark.parametrize("kind", ["ae", "vae"])
@pytest.mark.parametrize("arch, shape", [("mlp", (1, 28, 28)), ("conv", (1, 28, 28)), ("conv", (3, 64, 64))])
def test_interface_shapes(kind, arch, shape):
    torch.manual_seed(0)
    m = build(ModelConfig(kind=kind, arch=arch, latent_dim=5, image_shape=shape, hidden=(32,))).eval()
    x = torch.rand(4, *shape)
    z = m.encode(x)
    assert z.shape == (4, 5)
    assert torch.equal(m.encode(x), z)                         # deterministic: the posterior mean
    out = m.decode(z)
    assert out.shape == (4, *shape) and 0 <= out.min() and out.max() <= 1
    assert m.reconstruct(x).shape == (4, *shape)
    assert torch.equal(m.sample(3, seed=1), m.sample(3, seed=1))
    assert m.encode((x * 255).to(torch.uint8)).shape == (4, 5)  # uint8 images are accepted as they are
    assert not z.requires_grad and not out.requires_grad        # plain tensors, ready for .numpy()


def test_wrong_shapes_are_clear_errors():
    m = build(ModelConfig(latent_dim=3))
    with pytest.raises(ConfigError, match=r"images must have shape \(n, 1, 28, 28\)"):
        m.encode(torch.rand(2, 784))
    with pytest.raises(ConfigError, match=r"latent codes must have shape \(n, 3\)"):
        m.decode(torch.rand(2, 2))


@pytest.mark.parametrize("kwargs, message", [
    ({"latent_dim": 0}, "^latent_dim must be an integer in 1..1048576, got 0$"),
    ({"latent_dim": 2.5}, "^latent_dim must be an integer"),
    ({"hidden": (200, 0)}, r"^hidden must be integers in 1..1048576, got \(200, 0\)$"),
    ({"hidden": 200}, "^hidden must be integers"),
    ({"kind": "gan"}, "^kind must be one of ae, vae, got 'gan'$"),
    ({"likelihood": "poisson"}, "^likelihood must be one of"),
    ({"beta": -1.0}, "^beta must be a finite number >= 0"),
    ({"beta": float("nan")}, "^beta must be"),
    ({"image_shape": (1, 28)}, "^image_shape must be 3 integers"),
])
def test_config_rejects_impossible_values(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        ModelConfig(**kwargs)


def test_closed_form_kl_matches_monte_carlo():
    torch.manual_seed(0)
    mu, logvar = torch.randn(3, 4, dtype=torch.float64), torch.randn(3, 4, dtype=torch.float64)
    std = (0.5 * logvar).exp()
    z = mu + std * torch.randn(200_000, 3, 4, dtype=torch.float64)
    log_q = (-0.5 * ((z - mu) / std) ** 2 - 0.5 * logvar - 0.5 * math.log(2 * math.pi)).sum(-1)
    log_p = (-0.5 * z ** 2 - 0.5 * math.log(2 * math.pi)).sum(-1)
    mc = (log_q - log_p).mean(0)
    torch.testing.assert_close(mc, kl_divergence(mu, logvar), atol=0.03, rtol=0.01)


def test_noise_is_drawn_per_sample():
    """The loss of a batch is the mean of each image's loss under its own noise row (not one shared draw)."""
    torch.manual_seed(0)
    m = build(ModelConfig(latent_dim=3, hidden=(16,))).double()
    x = torch.rand(1, 1, 28, 28, dtype=torch.float64).expand(2, -1, -1, -1)
    eps = torch.randn(2, 3, dtype=torch.float64)
    both = m.loss(x, eps).neg_elbo
    each = (m.loss(x[:1], eps[:1]).neg_elbo + m.loss(x[1:], eps[1:]).neg_elbo) / 2
    torch.testing.assert_close(both, each)
    assert not torch.isclose(m.loss(x[:1], eps[:1]).neg_elbo, m.loss(x[1:], eps[1:]).neg_elbo)


def test_loss_is_negative_elbo_in_nats_per_image():
    torch.manual_seed(0)
    m = build(ModelConfig(latent_dim=2, hidden=(8,), beta=0.5)).double()
    x = torch.bernoulli(torch.rand(5, 1, 28, 28, dtype=torch.float64))
    eps = torch.randn(5, 2, dtype=torch.float64)
    loss = m.loss(x, eps)
    mu, logvar = m.encoder_outputs(x)
    logits = m.decoder(mu + (0.5 * logvar).exp() * eps)
    p = torch.sigmoid(logits)
    recon = -(x * p.log() + (1 - x) * (1 - p).log()).sum((1, 2, 3)).mean()
    torch.testing.assert_close(loss.recon, recon)
    kl = kl_divergence(mu, logvar).mean()
    torch.testing.assert_close(loss.neg_elbo, recon + 0.5 * kl)
    torch.testing.assert_close(loss.objective(0.25), recon + 0.5 * 0.25 * kl)     # a KL warm-up's objective


def test_under_bf16_autocast_the_loss_is_summed_in_float32():
    torch.manual_seed(0)
    m = build(ModelConfig(latent_dim=10))
    x, eps = torch.rand(64, 1, 28, 28), torch.randn(64, 10)
    exact = m.loss(x, eps)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss = m.loss(x, eps)
    assert loss.recon.dtype == loss.kl.dtype == torch.float32
    # the products lose bits (0.001 nats here); summing the pixels' terms in bf16 would lose 0.14
    assert abs(loss.neg_elbo.item() - exact.neg_elbo.item()) < 0.02


def test_log_variance_is_kept_in_range():
    m = build(ModelConfig(latent_dim=2, hidden=(8,)))
    with torch.no_grad():
        m.encoder[1][-1].bias.fill_(1e4)
    _, logvar = m.encoder_outputs(torch.rand(2, 1, 28, 28))
    assert logvar.max().item() == LOGVAR_RANGE[1]
    assert torch.isfinite(m.loss(torch.rand(2, 1, 28, 28)).kl)
