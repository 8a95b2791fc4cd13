"""A command is declared once, beside the library function it runs: its name, its arguments, what it needs of a
model, and the function, called with the parsed arguments as keywords. cli.py builds the parser from these
declarations and turns errors into one line; nothing else lists the commands.

    GRID = Command("grid", "F2: decode a square grid …", _grid, models="one",
                   args=(Arg("--size", type=int, default=20, help="points per side (default 20)"), …))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Arg:
    """One argument: its flags (or a positional name) and argparse's keywords. Two flags with `helps` make a
    pair that sets one value True or False (`--greyscale` / `--rgb`)."""
    flags: tuple[str, ...]
    options: dict = field(default_factory=dict)

    def __init__(self, *flags: str, **options):
        object.__setattr__(self, "flags", flags)
        object.__setattr__(self, "options", options)

    @property
    def dest(self) -> str:
        return self.options.get("dest") or self.flags[0].lstrip("-").replace("-", "_")

    @property
    def flag(self) -> str | None:
        """How a user names it in a message: its first flag (none for a positional)."""
        return self.flags[0] if self.flags[0].startswith("-") else None


@dataclass(frozen=True)
class Command:
    """`latentwalk NAME …`. `run` gets every argument as a keyword; a command with `models` gets the opened
    models instead of the folders and entry points naming them: `source` ("one") or `sources` ("many"), each
    checked first for what the command `needs` of it ("encode", "data", "run": see run/model_source.py)."""
    name: str
    help: str
    run: Callable[..., None]
    args: tuple[Arg, ...] = ()
    models: str | None = None                  # None, "one" or "many"
    models_help: str = "a run folder made by `latentwalk train`"
    needs: tuple[str, ...] = ()
    epilog: str | None = None
