"""Data sets from files: an .npz archive or a folder of images, as uint8 (n, C, H, W) arrays, and the colour and
size transforms every source goes through. Sources without a test split of their own hold out a fixed tenth.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import torch

from ..errors import DataError

SPLITS = ("train", "test")
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp"}


def _held_out(n: int) -> np.ndarray:
    """A fixed tenth of the indices (at least one) for sources without their own test split."""
    rng = np.random.default_rng(0)
    mask = np.zeros(n, dtype=bool)
    mask[rng.permutation(n)[: max(1, n // 10)]] = True
    return mask


def _pick_split(images: np.ndarray, labels: np.ndarray | None, split: str):
    if len(images) < 2:
        raise DataError(f"need at least 2 images to hold out a test split, found {len(images)}")
    mask = _held_out(len(images))
    keep = mask if split == "test" else ~mask
    return images[keep], (labels[keep] if labels is not None else None)


def _as_nchw_uint8(x: np.ndarray, name: str) -> np.ndarray:
    if x.ndim == 3:
        x = x[:, None]
    elif x.ndim == 4 and x.shape[-1] in (1, 3, 4) and x.shape[1] not in (1, 3, 4):
        x = x.transpose(0, 3, 1, 2)
    if x.ndim != 4 or x.shape[1] not in (1, 3, 4):
        raise DataError(f"{name}: images must have shape (n, H, W), (n, H, W, C) or (n, C, H, W) with C in 1, 3, 4; "
                        f"got {x.shape}")
    if x.dtype == np.uint8:
        return np.ascontiguousarray(x)
    if np.issubdtype(x.dtype, np.floating):
        if not np.isfinite(x).all() or x.min() < 0 or x.max() > 1:
            raise DataError(f"{name}: float images must be finite and within [0, 1]")
        return np.round(x * 255).astype(np.uint8)
    raise DataError(f"{name}: images must be uint8 or float in [0, 1], got {x.dtype}")


def load_npz(path: Path, split: str):
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except (OSError, ValueError, EOFError, zlib.error) as e:
        raise DataError(f"{path}: not a readable .npz file ({e or type(e).__name__})") from None
    if f"x_{split}" in arrays:
        x, y, whole = arrays[f"x_{split}"], arrays.get(f"y_{split}"), False
    elif "x" in arrays:
        x, y, whole = arrays["x"], arrays.get("y"), True
    else:
        raise DataError(f"{path}: needs an array 'x' (and optional 'y'), or 'x_train'/'x_test'; found "
                        f"{', '.join(arrays) or 'nothing'}")
    x = _as_nchw_uint8(x, str(path))
    if y is not None:
        if y.ndim != 1 or len(y) != len(x) or not np.issubdtype(y.dtype, np.integer):
            raise DataError(f"{path}: labels 'y' must be integers of shape ({len(x)},), got {y.dtype} {y.shape}")
        y = y.astype(np.int64)
    return _pick_split(x, y, split) if whole else (x, y)


def require_plain(path: Path) -> None:
    """Refuse what is neither a folder nor a regular file (a FIFO blocks its reader for ever, a device reads
    without end); what does not exist is left to the caller's own message."""
    if path.exists() and not (path.is_dir() or path.is_file()):
        raise DataError(f"{path} is not a regular file (a FIFO, socket or device): data must be plain files; "
                        f"remove it")


def folder_files(path: Path, split: str) -> tuple[list[Path], np.ndarray | None]:
    """The image files of one split of a folder, and their labels (one subfolder per label), in a fixed order."""
    if (path / "train").is_dir() and (path / "test").is_dir():
        path, whole = path / split, False
    else:
        whole = True
    classes = sorted(p.name for p in path.iterdir() if p.is_dir())
    groups = [(i, path / c) for i, c in enumerate(classes)] or [(None, path)]
    files, labels = [], []
    for label, folder in groups:
        for f in sorted(folder.iterdir()):
            if f.suffix.lower() in IMAGE_SUFFIXES:
                require_plain(f)
                files.append(f)
                labels.append(label)
    if not files:
        raise DataError(f"{path}: no images ({', '.join(sorted(IMAGE_SUFFIXES))}) found")
    y = np.asarray(labels, dtype=np.int64) if groups[0][0] is not None else None
    if whole:
        if len(files) < 2:
            raise DataError(f"need at least 2 images to hold out a test split, found {len(files)}")
        keep = _held_out(len(files))
        keep = keep if split == "test" else ~keep
        files, y = [f for f, k in zip(files, keep) if k], (y[keep] if y is not None else None)
    return files, y


def read_images(files: list[Path], greyscale: bool | None, where: str) -> np.ndarray:
    """Decode image files into one uint8 (n, C, H, W) array (they must agree in size and colour)."""
    from PIL import Image, UnidentifiedImageError

    mode = "L" if greyscale else "RGB"
    arrays = []
    for f in files:
        try:
            with Image.open(f) as im:
                im = im.convert(mode if greyscale is not None else ("L" if im.mode in ("L", "1", "P") else "RGB"))
                arrays.append(np.asarray(im))
        except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as e:
            raise DataError(f"{f}: not a readable image ({e})") from None
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        raise DataError(f"{where}: images differ in size or colour ({len(shapes)} kinds); pass a size (--size) "
                        f"and --greyscale or --rgb")
    return _as_nchw_uint8(np.stack(arrays), where)


def load_folder(path: Path, split: str, greyscale: bool | None):
    files, labels = folder_files(path, split)
    return read_images(files, greyscale, str(path)), labels



def transform(x: torch.Tensor, greyscale: bool | None, size: tuple[int, int] | None) -> torch.Tensor:
    """Convert colour (greyscale True/False) and resize uint8 images (n, C, H, W); None keeps them as they are."""
    if greyscale is True and x.shape[1] != 1:
        weights = torch.tensor([0.299, 0.587, 0.114], dtype=torch.float32)[: x.shape[1]].view(1, -1, 1, 1)
        x = (x[:, :3].float() * weights).sum(1, keepdim=True).round().clamp(0, 255).to(torch.uint8)
    elif greyscale is False and x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1).contiguous()
    if x.shape[1] == 4:
        x = x[:, :3].contiguous()
    if size is not None and tuple(x.shape[2:]) != tuple(size):
        out = torch.empty((x.shape[0], x.shape[1], *size), dtype=torch.uint8)
        for i in range(0, len(x), 4096):   # bounded float memory
            chunk = torch.nn.functional.interpolate(x[i:i + 4096].float(), size=size, mode="bilinear",
                                                    antialias=True, align_corners=False)
            out[i:i + 4096] = chunk.round().clamp(0, 255).to(torch.uint8)
        x = out
    return x
