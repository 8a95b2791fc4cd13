"""Errors a user can cause. Each message says what is wrong and what to do; the CLI prints it on one line."""


class LatentwalkError(Exception):
    """Base class: the CLI prints the message and exits with code 2, no traceback."""


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
