"""`latentwalk …`: the parser built from the commands each stage declares (command.py), and one rule for errors.

Errors a user can cause print one line and exit with code 2; nothing is overwritten. The library's messages
name Python parameters; here each is shown as the flag that sets it.
"""

from __future__ import annotations

import argparse
import os
import sys

from .command import Arg, Command
from .data.commands import COMMANDS as CONVERTING
from .errors import LatentwalkError
from .explorer.commands import COMMANDS as EXPLORING
from .figures.commands import COMMANDS as DRAWING
from .measure.commands import COMMANDS as MEASURING
from .report.commands import COMMANDS as REPORTING
from .run import model_source
from .training.commands import COMMANDS as TRAINING

EXAMPLES = """\
examples:
  latentwalk demo                                            # the whole post as runs/demo/report.html
  latentwalk train --model vae --latent-dim 2 --epochs 20 --out runs/vae2
  latentwalk train --resume --out runs/vae2 --epochs 30      # continue, or train longer
  torchrun --standalone --nproc_per_node 4 -m latentwalk train --out runs/vae2 --device cuda   # 4 GPUs
  latentwalk evaluate runs/vae2 --k 5000 --json
  latentwalk measure runs/demo/ae2 --sampler prior,gmm         # Fréchet distance, precision/recall, path length
  latentwalk convert photos/ data/photos64 --rgb --size 64   # once; then train --data data/photos64 --arch conv
  latentwalk grid runs/vae2 --size 20 --extent -3 3
  latentwalk spiral runs/vae2 --gif
  latentwalk sphere-walk runs/vae10 --loops 20
  latentwalk interpolate runs/vae500 --method lerp,slerp,nlerp --pairs 100
  latentwalk compare runs/ae2 runs/vae2
  latentwalk interpolate --model-entry mypkg.vae:load --method slerp --out figs/   # your own model
  latentwalk serve path/to/pythae/final_model --data mnist                         # a pythae model folder
  latentwalk geometry --out figures
  latentwalk serve runs/demo/ae2 runs/demo/vae2 runs/demo/vae10   # the live explorer: open the URL it prints
"""


def fail(message: str) -> None:
    """Print one line (newlines a user typed into an argument are shown as \\n) and exit with code 2.

    Under torchrun every process fails the same way; rank 0 alone says so."""
    if os.environ.get("RANK", "0") == "0":
        sys.stderr.write("latentwalk: error: " + str(message).replace("\r", "\\r").replace("\n", "\\n") + "\n")
    sys.exit(2)


class _Parser(argparse.ArgumentParser):
    def error(self, message):   # one line, exit code 2 (argparse's own code), no usage dump
        fail(f"{message} (see `{self.prog} --help`)")


COMMANDS: tuple[Command, ...] = (*TRAINING, *CONVERTING, *MEASURING, *REPORTING, *DRAWING, *EXPLORING)


def _arguments(command: Command) -> tuple[Arg, ...]:
    many = command.models == "many"
    return (*(model_source.arguments(many, command.models_help) if command.models else ()), *command.args)


def _add(parser: argparse.ArgumentParser, arg: Arg) -> None:
    if "helps" in arg.options:              # a pair of flags setting one value True or False
        group = parser.add_mutually_exclusive_group()
        first, second = arg.options["helps"]
        group.add_argument(arg.flags[0], dest=arg.dest, action="store_true", default=None, help=first)
        group.add_argument(arg.flags[1], dest=arg.dest, action="store_false", help=second)
    else:
        parser.add_argument(*arg.flags, **arg.options)


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command, built from the declarations in COMMANDS."""
    p = _Parser(prog="latentwalk", description="Train auto-encoders and VAEs and walk their latent spaces.",
                epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for command in COMMANDS:
        extra = {"epilog": EXAMPLES, "formatter_class": argparse.RawDescriptionHelpFormatter} \
            if command.name == "train" else {}
        c = sub.add_parser(command.name, help=command.help, **extra)
        for arg in _arguments(command):
            _add(c, arg)
    return p


def _flags(command: Command) -> dict[str, str]:
    """How the command's parameters are typed: each destination's flag (`n` -> --n, `origin` -> --from)."""
    return {arg.dest: arg.flag for arg in _arguments(command) if arg.flag}


def run(command: Command, arguments: dict) -> None:
    """Open the models the command walks (if any), then call it with its arguments as keywords."""
    if command.models:
        names = {arg.dest for arg in model_source.arguments(False, "")} | {"runs"}
        named = {k: arguments.pop(k) for k in list(arguments) if k in names}
        opened = model_source.open_for(command.name, command.needs, command.models == "many", **named)
        arguments["source" if command.models == "one" else "sources"] = opened if command.models == "many" \
            else opened[0]
    command.run(**arguments)


def main(argv: list[str] | None = None) -> None:
    arguments = vars(build_parser().parse_args(argv))
    name = arguments.pop("command")
    command = next(c for c in COMMANDS if c.name == name)
    try:
        run(command, arguments)
    except LatentwalkError as e:
        flags = _flags(command)
        fail(e.render(flags.get))
    except OSError as e:       # a full disk, a folder we may not write: what the system said, on one line
        fail(f"{e.strerror or e}" + (f" ({e.filename})" if e.filename else ""))
    except KeyboardInterrupt:
        sys.stderr.write("latentwalk: interrupted\n")
        sys.exit(130)
