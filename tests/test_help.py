"""`--help` of latentwalk and of every command, compared with tests/golden/help.txt: a refactor of how commands
and settings are declared must not change what a user reads. After an intended change, regenerate the file with
`python tests/test_help.py` and review its diff."""

from __future__ import annotations

import contextlib
import io
import os
import sys
from pathlib import Path

GOLDEN = Path(__file__).parent / "golden" / "help.txt"
COMMANDS = ["train", "convert", "evaluate", "measure", "demo", "summary", "grid", "scatter", "samples", "traverse",
            "spiral", "sphere-walk", "interpolate", "arithmetic", "analogy", "geometry", "compare", "serve"]


def every_help() -> str:
    """The help text of `latentwalk` and of each command, at a fixed width, one section each."""
    from latentwalk.cli import main

    os.environ["COLUMNS"] = "100"         # argparse wraps to the terminal's width
    sections = []
    for argv in [[], *([c] for c in COMMANDS)]:
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
            main([*argv, "--help"])
        sections.append(f"=== latentwalk {' '.join(argv)} --help\n{out.getvalue()}")
    return "\n".join(sections)


def test_help_of_every_command_is_unchanged(monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    assert every_help() == GOLDEN.read_text()


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    GOLDEN.write_text(every_help())
    print(f"wrote {GOLDEN}")
