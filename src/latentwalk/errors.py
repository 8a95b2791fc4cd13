"""Errors a user can cause. Each message says what is wrong and what to do; the CLI prints it on one line.

A message names a parameter in backquotes: "`n` must be an integer >= 1". The library shows it as the Python
name (n must be …); the CLI shows the flag that sets it (--n must be …), so the same error reads right in a
notebook and in a terminal.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_PARAMETER = re.compile(r"`([A-Za-z_][A-Za-z0-9_]*)`")


class LatentwalkError(Exception):
    """Base class: the CLI prints the message and exits with code 2, no traceback."""

    def __str__(self) -> str:
        return _PARAMETER.sub(r"\1", super().__str__())

    def render(self, flag: Callable[[str], str | None]) -> str:
        """The message with each `parameter` shown as `flag(parameter)` (kept in backquotes where that is None)."""
        return _PARAMETER.sub(lambda m: flag(m[1]) or m[0], super().__str__())


class DataError(LatentwalkError):
    """A data set is missing, corrupt, or not what it claims to be."""


class RunError(LatentwalkError):
    """A run folder is missing, foreign, corrupt, or would be overwritten."""


class ConfigError(LatentwalkError):
    """An argument or configuration value is impossible."""


class TrainingDiverged(LatentwalkError):
    """The loss became NaN or infinite; the last good checkpoint is kept."""


def require(ok: bool, message: str) -> None:
    """Raise ConfigError(message) unless `ok`: the check every public entry point makes on its arguments."""
    if not ok:
        raise ConfigError(message)


def is_int(value) -> bool:
    """A true integer (bool excluded), as JSON and argument validation need."""
    return isinstance(value, int) and not isinstance(value, bool)


SEEDS = 2 ** 32           # numpy's and torch's generators take seeds in 0..2**32 - 1 everywhere


def require_seed(seed) -> None:
    """A random seed every generator takes: an integer in 0..2**32 - 1."""
    require(is_int(seed) and 0 <= seed < SEEDS, f"`seed` must be an integer in 0..{SEEDS - 1}, got {seed!r}")
