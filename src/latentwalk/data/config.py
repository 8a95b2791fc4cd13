"""Which images a run trains on, and how they are read: a setting each (settings.py)."""

from __future__ import annotations

from dataclasses import dataclass

from ..settings import (boolean, image_size, integers, joined, non_empty_text, optional, optional_boolean, same_path,
                        setting, text, validate)


@dataclass(frozen=True)
class DataConfig:
    """Which images a run trains on, and how they are read. Each field is a setting (settings.py)."""
    name: str = setting("mnist", "--data", "mnist (default), fashion-mnist, an .npz file or an image folder",
                        check=non_empty_text, same=same_path, metavar="DATA")
    binarize: bool = setting(False, "--binarize", "dynamic binarization of the pixels", check=boolean)
    greyscale: bool | None = setting(None, ("--greyscale", "--rgb"), ("convert to grey", "convert to RGB"),
                                     check=optional_boolean)        # None keeps the source's channels
    size: tuple[int, int] | None = setting(None, "--size", "resize images, e.g. 32 or 64x64", parse=image_size,
                                           show=joined("x"), check=optional(integers(1, 4096, count=2)))
    fingerprint: str = setting("", check=text, derived=True)   # content hash of the training images, at the start

    def __post_init__(self):
        if isinstance(self.size, list):
            object.__setattr__(self, "size", tuple(self.size))
        validate(self)
