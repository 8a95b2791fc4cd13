"""The number format a model trains in: bfloat16 autocast where the hardware computes it natively, else float32.

"auto" (the default) takes bf16 on a CPU with AVX-512 BF16 or AMX instructions and on a CUDA GPU that supports
it, and float32 everywhere else: emulated bf16 is slower than float32, and MPS autocast is not worth its
risks here. Under autocast the matrix products run in bf16 while the weights, the optimizer state and the loss
(AutoEncoder.loss sums its terms in float32) stay float32. Measured on a 2-core Zen 4 (AVX-512 BF16): an epoch
of 784-200-200-10 at batch 128 takes 0.80 s in bf16 against 1.07 s in float32, and ends within 0.1 nats of it
after 20 epochs (benchmarks/RESULTS.md). Decoding for figures and every measure stays float32.
"""

from __future__ import annotations

import torch

from ..errors import ConfigError

DTYPES = {"float32": None, "bf16": torch.bfloat16, "fp16": torch.float16}


def native_bf16(device: torch.device) -> bool:
    """Whether `device` computes bfloat16 matrix products in hardware."""
    if device.type == "cuda":                  # Ampere and later; older GPUs only emulate it
        return torch.cuda.get_device_capability(device)[0] >= 8
    if device.type == "cpu":
        return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
    return False


def resolve(requested: str, device: torch.device) -> tuple[str, str | None]:
    """(the precision to train in, a line for the log when "auto" fell back to float32, else None), for one of
    run.config.PRECISIONS (checked by TrainOptions)."""
    if requested == "fp16" and device.type != "cuda":
        raise ConfigError("`precision` fp16 needs a CUDA GPU; on this device use bf16 or float32")
    if requested != "auto":
        return requested, None
    if native_bf16(device):
        return "bf16", None
    return "float32", f"this {device.type.upper()} has no native bfloat16: training in float32"
