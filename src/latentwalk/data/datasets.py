"""Data sets as uint8 tensors in memory: MNIST (bundled), Fashion-MNIST (downloaded), npz files and image folders.

Every source ends as `(images, labels)`: images a uint8 tensor (n, C, H, W), labels int64 (n,) or None.
Images stay uint8 until a training batch is taken (`to_float`), so 60,000 MNIST digits cost 47 MB.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
import struct
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from .. import atomic
from ..errors import DataError
from . import mapped
from .files import SPLITS, load_folder, load_npz, require_plain, transform

# The bundled copy of MNIST ships inside the package (a checkout, an installed wheel): mnist/ beside this file;
# LATENTWALK_DATA points elsewhere.
BUNDLE_DIR = Path(os.environ.get("LATENTWALK_DATA", Path(__file__).resolve().parent))

# IDX type codes (third byte of the magic number) -> big-endian numpy dtype.
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}



def cache_dir() -> Path:
    """Where downloads go: $LATENTWALK_CACHE, else ~/.cache/latentwalk."""
    return Path(os.environ.get("LATENTWALK_CACHE", "~/.cache/latentwalk")).expanduser()


# --------------------------------------------------------------------------- IDX

def parse_idx(raw: bytes, name: str = "IDX data") -> np.ndarray:
    """Parse the bytes of an (uncompressed) IDX file, checking magic number, dimensions and length."""
    if len(raw) < 4:
        raise DataError(f"{name}: {len(raw)} bytes is too short for an IDX header; the file is truncated")
    if raw[0:2] != b"\x00\x00" or raw[2] not in _IDX_DTYPES or raw[3] == 0:
        magic = int.from_bytes(raw[:4], "big")
        raise DataError(f"{name}: not an IDX file (magic number {magic:#010x}, expected 0x000008NN, e.g. 2051 "
                        f"for images or 2049 for labels)")
    dtype, ndim = np.dtype(_IDX_DTYPES[raw[2]]), raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{name}: truncated inside its header ({len(raw)} of {header} bytes)")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    expected = header + int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        what = "truncated" if len(raw) < expected else "longer than its header says"
        raise DataError(f"{name}: {len(raw)} bytes but its header {tuple(dims)} needs {expected}: the file is "
                        f"{what}; replace it with a good copy")
    return np.frombuffer(bytearray(raw), dtype=dtype, offset=header).reshape(dims).astype(dtype.newbyteorder("="))


def read_bytes(path: Path) -> bytes:
    """The content of a file, gunzipped when it is gzip data; corrupt gzip streams become DataError."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except OSError as e:
        raise DataError(f"{path}: cannot read ({e.strerror})") from None
    if data[:2] != b"\x1f\x8b":        # the gzip magic number (an IDX file starts with two zero bytes)
        return data
    try:
        return gzip.decompress(data)
    except (EOFError, OSError, zlib.error) as e:
        raise DataError(f"{path}: corrupt or truncated gzip file ({e}); replace it with a good copy") from None


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (plain or .gz) into a numpy array."""
    path = Path(path)
    return parse_idx(read_bytes(path), name=str(path))


# --------------------------------------------------------------------------- named data sets

@dataclass(frozen=True)
class Checksum:
    algo: str           # hashlib name
    hexdigest: str
    of_content: bool    # True: of the gunzipped IDX bytes (any recompression passes); False: of the file as served

    def verified_content(self, path: Path) -> bytes:
        """The file's (gunzipped) content, after checking it against this checksum."""
        content = read_bytes(path)
        hashed = content if self.of_content else path.read_bytes()
        if hashlib.new(self.algo, hashed).hexdigest() != self.hexdigest:
            raise DataError(f"{path}: {self.algo} checksum mismatch: the file was changed or damaged; replace it "
                            f"with the original (or delete it to download again)")
        return content


@dataclass(frozen=True)
class NamedDataset:
    name: str
    mirrors: tuple[str, ...]
    checksums: dict[str, Checksum]   # file name -> checksum
    bundled: bool                    # a copy ships in BUNDLE_DIR/<name>

    @staticmethod
    def files(split: str) -> tuple[str, str]:
        prefix = "train" if split == "train" else "t10k"
        return f"{prefix}-images-idx3-ubyte.gz", f"{prefix}-labels-idx1-ubyte.gz"


_MNIST_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
NAMED = {
    # SHA-256 of the uncompressed originals (mnist/README.md beside this file): the bundle is recompressed, the mirrors' is not.
    "mnist": NamedDataset(
        "mnist",
        ("https://ossci-datasets.s3.amazonaws.com/mnist/", "https://storage.googleapis.com/cvdf-datasets/mnist/"),
        {f: Checksum("sha256", h, True) for f, h in zip(_MNIST_FILES, (
            "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"))},
        bundled=True),
    # MD5 of the .gz files as published by Zalando Research.
    "fashion-mnist": NamedDataset(
        "fashion-mnist",
        ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
        {f: Checksum("md5", h, False) for f, h in zip(_MNIST_FILES, (
            "8d4fb7e6c68d591d4c3dfef9ec88bf0d", "25c81989df183df01b3e8a0aad5dffbe",
            "bef4ecab320f06d8554ea6380940ec79", "bb300cfdad3c16e7a12a480ee83cd310"))},
        bundled=False),
}


def download(name: str, directory: str | os.PathLike | None = None,
             mirrors: tuple[str, ...] | list[str] | None = None) -> Path:
    """Fetch a named data set's four IDX files into `directory/<name>` (default: the cache), verified.

    Each file is streamed to a temporary file, checked against its published checksum and only then renamed
    into place, so an interrupted or corrupt download never leaves a file that looks good.
    """
    ds = _named(name)
    target = Path(directory if directory is not None else cache_dir()) / ds.name
    for fname, checksum in ds.checksums.items():
        dest = target / fname
        if dest.exists():
            continue
        errors = []
        for base in mirrors or ds.mirrors:
            url = base.rstrip("/") + "/" + fname
            try:
                with atomic.atomic_path(dest) as tmp:
                    _fetch(url, tmp)
                    checksum.verified_content(tmp)
                break
            except (OSError, urllib.error.URLError, DataError) as e:
                errors.append(f"{url}: {getattr(e, 'reason', e)}")
        else:
            raise DataError(f"could not download {ds.name} file {fname} ({'; '.join(errors)}); offline, copy the "
                            f"four files {', '.join(_MNIST_FILES)} into {target}")
    return target


def _fetch(url: str, dest: Path) -> None:
    with urllib.request.urlopen(url, timeout=30) as response, open(dest, "wb") as out:
        total = int(response.headers.get("Content-Length") or 0) or None
        with tqdm(total=total, unit="B", unit_scale=True, desc=url.rsplit("/", 1)[-1], disable=None) as bar:
            while chunk := response.read(1 << 16):
                out.write(chunk)
                bar.update(len(chunk))


def _named(name: str) -> NamedDataset:
    if name not in NAMED:
        raise DataError(f"unknown data set {name!r}: use one of {', '.join(NAMED)}, an .npz file or an image folder")
    return NAMED[name]


def _named_dir(ds: NamedDataset, directory: str | os.PathLike | None) -> Path:
    """The bundle when present (and no other folder is asked for), else the cache, downloading if needed."""
    bundle = BUNDLE_DIR / ds.name
    if directory is None and ds.bundled and all((bundle / f).exists() for f in ds.checksums):
        return bundle
    return download(ds.name, directory)


@functools.lru_cache(maxsize=8)
def _load_named(name: str, split: str, directory: str | None) -> tuple[torch.Tensor, torch.Tensor]:
    ds = _named(name)
    folder = _named_dir(ds, directory)
    image_file, label_file = ds.files(split)
    arrays = []
    for fname in (image_file, label_file):
        path = folder / fname
        arrays.append(parse_idx(ds.checksums[fname].verified_content(path), name=str(path)))
    images, labels = arrays
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise DataError(f"{folder}: {split} images {images.shape} and labels {labels.shape} do not match")
    return torch.from_numpy(images.astype(np.uint8)).unsqueeze(1), torch.from_numpy(labels.astype(np.int64))


# --------------------------------------------------------------------------- the public loader

def load(name_or_path: str | os.PathLike, split: str = "train", *, greyscale: bool | None = None,
         size: tuple[int, int] | None = None, directory: str | os.PathLike | None = None
         ) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Load a data set as (uint8 images (n, C, H, W), int64 labels (n,) or None).

    `name_or_path`: "mnist" (the bundled copy), "fashion-mnist" (downloaded once into the cache), an .npz file
    with `x` [and `y`] or `x_train`/`x_test` [and `y_train`/`y_test`], or a folder of images (one subfolder per
    label gives labels; `train/` and `test/` subfolders give the splits). Sources without their own test split
    hold out a fixed tenth. `greyscale` True/False converts colour; `size` (H, W) resizes. `directory` makes a
    named data set load (or download) from that folder instead of the bundle.
    """
    if split not in SPLITS:
        raise DataError(f"unknown split {split!r}: use 'train' or 'test'")
    if size is not None and (len(size) != 2 or min(size) < 1):
        raise DataError(f"size must be two positive integers (H, W), got {size}")
    key = str(name_or_path)
    if key in NAMED:
        images, labels = _load_named(key, split, None if directory is None else str(directory))
    else:
        path = Path(name_or_path)
        require_plain(path)
        if path.is_dir() and mapped.is_mapped(path):
            images, labels = mapped.load(path, split)
            c, h, w = images.shape[1:]
            if (greyscale is True and c != 1) or (greyscale is False and c != 3) or (size and size != (h, w)):
                raise DataError(f"{path} holds {c}x{h}x{w} images, converted once: convert the source again "
                                f"with the colour and size you want")
            return images, labels
        if path.suffix == ".npz" and path.is_file():
            x, y = load_npz(path, split)
        elif path.is_dir():
            x, y = load_folder(path, split, greyscale)
        else:
            _named(key)   # raises: unknown name
        images, labels = torch.from_numpy(x), (torch.from_numpy(y) if y is not None else None)
    return transform(images, greyscale, size), labels


def fingerprint(images: torch.Tensor) -> str:
    """A short content hash of a data set, recorded in each run so a changed data set is noticed.

    Hashed a chunk at a time, so a data set read from disk (mapped.MappedImages) is never all in memory.
    """
    h = hashlib.blake2b(digest_size=16)
    for i in range(0, len(images), 8192):
        h.update(images[i:i + 8192].contiguous().numpy().tobytes())
    return h.hexdigest()


TEST_SEED = 1234   # the fixed binarization and noise of evaluation, so numbers are comparable across runs


def batches(images: torch.Tensor, binarize: bool, batch_size: int = 1000, seed: int = TEST_SEED):
    """Float batches of `images`, binarized with a fixed draw when asked (the same draw on every call)."""
    g = torch.Generator().manual_seed(seed)
    for i in range(0, len(images), batch_size):
        yield to_float(images[i:i + batch_size], binarize, g)


def to_float(batch: torch.Tensor, binarize: bool = False, generator: torch.Generator | None = None) -> torch.Tensor:
    """uint8 images -> float32 in [0, 1]; with `binarize`, a fresh Bernoulli draw per pixel (dynamic binarization)."""
    x = batch.to(torch.float32).div_(255.0)
    return torch.bernoulli(x, generator=generator) if binarize else x
