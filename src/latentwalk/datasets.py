"""Data sets as uint8 tensors (the public name of `latentwalk.data.datasets`): `load(name_or_path, split)`."""

from .data.datasets import NAMED, cache_dir, download, fingerprint, load, to_float

__all__ = ["NAMED", "cache_dir", "download", "fingerprint", "load", "to_float"]
