"""`latentwalk demo`: the whole post from models trained here, as one HTML report (demo.py)."""

from __future__ import annotations

from pathlib import Path

from ..command import Arg, Command


def demo(out: Path | None, quick: bool) -> None:
    """Train (or reuse) the post's models, build the report, print its path."""
    from .demo import run_demo

    out = out or Path("runs/demo-quick" if quick else "runs/demo")
    path = run_demo(out, quick, log=lambda s: print(s, flush=True))
    print(f"report: {path.resolve()}")


DEMO = Command("demo", "the whole post from models trained here, as one HTML report", demo, args=(
    Arg("--out", type=Path, help="folder for the runs and report.html (default runs/demo, runs/demo-quick with "
                                 "--quick)"),
    Arg("--quick", action="store_true", help="fewer epochs, frames and samples: same sections, ~30 s")))
COMMANDS = (DEMO,)
