"""A hand-written forward and backward pass for MLP auto-encoders: the training hot path.

For the small MLPs of the post, a training step on the CPU is dominated by per-operation overhead, not by
the matrix products: autograd records and replays ~3x more operations than the math needs. This module
computes the loss and the exact gradients of `AutoEncoder.loss` with a dozen fused matrix and elementwise
calls per layer pair (checked against autograd in tests/training/test_fused.py), then leaves them in `p.grad` for
any torch optimizer.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..models.autoencoder import LOG_SIGMA_RANGE, LOGVAR_RANGE, AutoEncoder, Loss


# activation -> (in place on the layer's output, its backward from the gradient and that output)
_ACTIVATIONS = {
    "relu": (torch.Tensor.relu_, lambda g, a: torch.ops.aten.threshold_backward(g, a, 0)),
    "tanh": (torch.Tensor.tanh_, torch.ops.aten.tanh_backward),
}


def supports(model: AutoEncoder) -> bool:
    return model.config.arch == "mlp" and model.config.activation in _ACTIVATIONS


def _linears(module: nn.Module) -> list[nn.Linear]:
    return [m for m in module.modules() if isinstance(m, nn.Linear)]


def _forward(layers: list[nn.Linear], a: torch.Tensor, act) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Run Linear layers with the activation `act` between them; return the output and every layer's input
    (what the backward pass needs: each activation's derivative is a function of its output)."""
    inputs = []
    for i, lin in enumerate(layers):
        inputs.append(a)
        a = torch.addmm(lin.bias, a, lin.weight.t())        # (B, out)
        if i < len(layers) - 1:
            a = act(a)
    return a, inputs


def _backward(layers: list[nn.Linear], inputs: list[torch.Tensor], g: torch.Tensor, input_grad: bool, act_backward):
    """Backpropagate `g` (gradient of the output) through the layers, writing weight and bias gradients."""
    for i in reversed(range(len(layers))):
        lin, a = layers[i], inputs[i]
        lin.weight.grad = g.t().mm(a).to(lin.weight.dtype)                       # (out, in)
        lin.bias.grad = g.sum(0).to(lin.bias.dtype)
        if i > 0 or input_grad:
            g = g.mm(lin.weight)                                # (B, in)
            if i > 0:                                           # through the activation that produced `a`
                g = act_backward(g, a)
    return g


@torch.no_grad()
def loss_and_grad(model: AutoEncoder, x: torch.Tensor, eps: torch.Tensor | None, kl_scale: float = 1.0) -> Loss:
    """The loss of `model.loss(x, eps)` and its gradient, stored in each parameter's `.grad`; `kl_scale`
    multiplies the KL weight (a warm-up)."""
    cfg = model.config
    n, d = x.shape[0], cfg.latent_dim
    x = x.reshape(n, -1)                                        # (B, C*H*W)
    enc, dec = _linears(model.encoder), _linears(model.decoder)
    act, act_backward = _ACTIVATIONS[cfg.activation]

    out, enc_inputs = _forward(enc, x, act)
    if model.variational:
        mu, logvar_raw = out[:, :d], out[:, d:]                 # (B, d) each
        logvar = logvar_raw.clamp(*LOGVAR_RANGE)
        std = (0.5 * logvar).exp_()
        z = torch.addcmul(mu, std, eps)
    else:
        z = out
    logits, dec_inputs = _forward(dec, z, act)                 # (B, C*H*W)

    p = torch.sigmoid(logits)
    if cfg.likelihood == "bernoulli":
        recon = torch.nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="sum") / n
        g = (p - x).div_(n)
    else:
        log_sigma = model.log_sigma_value()
        inv_var = torch.exp(-2 * log_sigma)
        r = p - x
        r2 = r.square().sum()
        pixels = x.numel()
        recon = (0.5 * inv_var * r2 + pixels * (log_sigma + 0.5 * math.log(2 * math.pi))) / n
        g = r.mul_(p * (1 - p)).mul_(inv_var / n)
        in_range = (model.log_sigma > LOG_SIGMA_RANGE[0]) & (model.log_sigma < LOG_SIGMA_RANGE[1])
        model.log_sigma.grad = (pixels - inv_var * r2) / n * in_range
    g = _backward(dec, dec_inputs, g, input_grad=True, act_backward=act_backward)   # (B, d): d loss / d z

    if model.variational:
        beta = cfg.beta * kl_scale
        var = logvar.exp()
        kl = 0.5 * (mu.square() + var - 1 - logvar).sum() / n
        dmu = g + mu * (beta / n)
        dlogvar = (g * eps * 0.5 * std + (var - 1) * (0.5 * beta / n))
        dlogvar = dlogvar * ((logvar_raw > LOGVAR_RANGE[0]) & (logvar_raw < LOGVAR_RANGE[1]))
        g = torch.cat([dmu, dlogvar], dim=1)
    else:
        kl = recon.new_zeros(())
    _backward(enc, enc_inputs, g, input_grad=False, act_backward=act_backward)
    return Loss(recon, kl, cfg.beta)
