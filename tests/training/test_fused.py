"""The hand-written backward pass must give autograd's gradients exactly (to float64 rounding)."""

import pytest
import torch

from latentwalk.training import fused
from latentwalk.models import ModelConfig, build


@pytest.mark.parametrize("kind", ["vae", "ae"])
@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
@pytest.mark.parametrize("hidden", [(16, 8), (12,), ()])
@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_gradients_match_autograd(kind, likelihood, hidden, activation):
    torch.manual_seed(0)
    cfg = ModelConfig(kind=kind, likelihood=likelihood, latent_dim=3, hidden=hidden, beta=0.7, activation=activation)
    m = build(cfg).double()
    if kind == "vae":
        with torch.no_grad():     # push some log-variances outside the clamp range: their gradient must be 0
            m.encoder[1][-1].bias[3:5] = torch.tensor([40.0, -40.0], dtype=torch.float64)
    x = torch.rand(6, 1, 28, 28, dtype=torch.float64)
    eps = torch.randn(6, 3, dtype=torch.float64)
    ref = m.loss(x, eps)
    ref.neg_elbo.backward()
    expected = {k: p.grad.clone() for k, p in m.named_parameters()}
    m.zero_grad(set_to_none=True)
    got = fused.loss_and_grad(m, x, eps)
    for a, b in zip(ref[:2], got[:2]):
        torch.testing.assert_close(a.detach(), b, rtol=1e-10, atol=1e-10)
    for k, p in m.named_parameters():
        torch.testing.assert_close(p.grad, expected[k], rtol=1e-9, atol=1e-10, msg=k)


def test_only_mlp_uses_the_fused_path():
    assert fused.supports(build(ModelConfig()))
    assert not fused.supports(build(ModelConfig(arch="conv")))


def test_kl_scale_scales_the_kl_gradient():
    torch.manual_seed(0)
    m = build(ModelConfig(latent_dim=3, hidden=(16,), beta=0.7)).double()
    x, eps = torch.rand(5, 1, 28, 28, dtype=torch.float64), torch.randn(5, 3, dtype=torch.float64)
    ref = m.loss(x, eps)
    (ref.recon + 0.7 * 0.25 * ref.kl).backward()
    expected = {k: p.grad.clone() for k, p in m.named_parameters()}
    m.zero_grad(set_to_none=True)
    got = fused.loss_and_grad(m, x, eps, kl_scale=0.25)
    torch.testing.assert_close(got.objective(0.25), ref.objective(0.25).detach())
    for k, p in m.named_parameters():
        torch.testing.assert_close(p.grad, expected[k], rtol=1e-9, atol=1e-10, msg=k)
