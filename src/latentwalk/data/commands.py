"""`latentwalk convert`: an image folder or an .npz, converted once into a folder read from disk (mapped.py)."""

from __future__ import annotations

from pathlib import Path

from ..command import Arg, Command
from ..settings import arguments
from .config import DataConfig
from .mapped import convert, load


def convert_folder(source: Path, out: Path, greyscale: bool | None, size: tuple[int, int] | None) -> None:
    """Convert, then print what the folder holds."""
    out = convert(source, out, greyscale, size)
    splits = {split: load(out, split)[0] for split in ("train", "test")}
    counts = {split: len(images) for split, images in splits.items()}
    c, h, w = splits["train"].shape[1:]
    size = sum(f.stat().st_size for f in out.iterdir())
    print(f"wrote {out}: {counts['train']:,} train + {counts['test']:,} test images of {c}x{h}x{w} "
          f"({size / 1e6:,.1f} MB)")


CONVERT = Command("convert", "convert an image folder or .npz once into a folder read from disk", convert_folder,
                  args=(Arg("source", type=Path, help="an image folder (one subfolder per label) or an .npz file"),
                        Arg("out", type=Path, help="the folder to write; then train with --data OUT"),
                        *(a for a in arguments(DataConfig) if a.dest in ("greyscale", "size"))))
COMMANDS = (CONVERT,)
