"""Sizes checked before they are allocated. Many machines have no swap: an allocation past the memory left
kills the process (or stalls the machine) instead of raising, so a request whose estimate exceeds half of the
memory available now is refused, in one line that gives the estimate."""

from __future__ import annotations

from collections.abc import Callable

import psutil
import torch

from .errors import ConfigError


def available() -> int:
    """Bytes of memory available to a new allocation now (without swapping)."""
    return psutil.virtual_memory().available


def _gb(n: float) -> str:
    return f"{n / 1e9:,.1f} GB" if n >= 1e8 else f"{n / 1e6:,.0f} MB"


def require_fits(nbytes: float, what: str, fix: str) -> None:
    """Refuse (ConfigError) `what`, estimated at `nbytes`, when it exceeds half of the available memory; `fix`
    says what to change."""
    left = available()
    if nbytes > left / 2:
        raise ConfigError(f"{what} needs about {_gb(nbytes)} of memory, more than half of the {_gb(left)} "
                          f"available: {fix}")


def parameter_count(make: Callable[[], torch.nn.Module]) -> int:
    """How many parameters the network `make()` builds has, counted on torch's meta device (nothing allocated)."""
    with torch.device("meta"):
        return sum(p.numel() for p in make().parameters())


def require_network_fits(make: Callable[[], torch.nn.Module], what: str, fix: str) -> int:
    """Refuse a network whose float32 parameters would not fit (`require_fits`); return its parameter count."""
    count = parameter_count(make)
    require_fits(4 * count, f"{what} of {count:,} parameters", fix)
    return count
