"""Data sets larger than memory: converted once into uint8 .npy files, then read from disk batch by batch.

    latentwalk convert photos/ data/photos64 --rgb --size 64     # an image folder or an .npz, once
    latentwalk train --data data/photos64 --arch conv …         # any command that takes --data

The converted folder holds mapped.json (what it is), train_images.npy and test_images.npy (uint8,
(n, C, H, W), the plain NumPy format) and, when the source has labels, train_labels.npy and
test_labels.npy. Image folders are converted a chunk of files at a time, so the source never has to fit in
memory (an .npz is read whole: NumPy cannot stream its members).

Reading goes through a read-only memory map. Each batch gathers its rows and copies them out, then the
mapping's pages are dropped from the process (the kernel's page cache keeps them, so the next read of them
costs no disk access): the resident memory of a training run stays about one batch plus the model,
whatever the size of the data. (Dropping less often is not cheaper: each random row faults in its whole
neighbourhood, up to 64 KB, so a few hundred batches would map gigabytes.)
"""

from __future__ import annotations

import json
import mmap
import os
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import torch

from ..errors import DataError
from .config import DataConfig
from .files import SPLITS, folder_files, load_npz, read_images, require_plain, transform

INFO = "mapped.json"
CHUNK = 4096                  # images converted at a time


def is_mapped(path: str | os.PathLike) -> bool:
    return (Path(path) / INFO).is_file()


class MappedImages:
    """uint8 images (n, C, H, W) in a .npy file, read through a memory map; indexing gives torch tensors.

    Supports what training and evaluation ask of an image tensor: len, shape, indexing by a slice or an
    index tensor (a copy, in memory), and .to(device) (a no-op: the rows move to the device batch by batch).
    """

    def __init__(self, path: Path):
        self.path = path
        try:
            with open(path, "rb") as f:
                version = np.lib.format.read_magic(f)
                read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
                    np.lib.format.read_array_header_2_0
                shape, fortran, dtype = read_header(f)
                offset = f.tell()
                size = os.fstat(f.fileno()).st_size
                if dtype != np.uint8 or fortran or len(shape) != 4 or min(shape) < 0 or \
                        size != offset + int(np.prod(shape)):
                    raise ValueError(f"expected uint8 (n, C, H, W) in C order filling the file, got {dtype} "
                                     f"{shape}, {size - offset} bytes of data")
                self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError) as e:
            raise DataError(f"{path}: not a converted image file ({e}); convert the data again with "
                            f"`latentwalk convert`") from None
        self._array = np.frombuffer(self._map, np.uint8, int(np.prod(shape)), offset).reshape(shape)
        self.shape = torch.Size(shape)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, index) -> torch.Tensor:
        if isinstance(index, torch.Tensor):
            index = index.cpu().numpy()
        rows = self._array[index]
        if not rows.flags.owndata:       # a slice is a view of the map: copy it out (fancy indexing already did)
            rows = rows.copy()
        self._map.madvise(mmap.MADV_DONTNEED)
        return torch.from_numpy(rows)

    def to(self, device) -> MappedImages:
        return self


def load(path: str | os.PathLike, split: str) -> tuple[MappedImages, torch.Tensor | None]:
    """One split of a converted folder: images read from disk, labels (small) in memory."""
    path = Path(path)
    try:
        info = json.loads((path / INFO).read_text(encoding="utf-8"))
        if not isinstance(info, dict) or info.get("format") != 1:
            raise ValueError(f"unknown format {info.get('format')!r}")
    except (OSError, ValueError, RecursionError) as e:
        raise DataError(f"{path / INFO}: unreadable ({e}); convert the data again") from None
    images = MappedImages(path / f"{split}_images.npy")
    labels = None
    if info.get("labels"):
        try:
            labels = torch.from_numpy(np.load(path / f"{split}_labels.npy", allow_pickle=False).astype(np.int64))
        except (OSError, ValueError) as e:
            raise DataError(f"{path}: unreadable labels ({e}); convert the data again") from None
        if labels.shape != (len(images),):
            raise DataError(f"{path}: {len(labels)} labels for {len(images)} {split} images; convert the data again")
    return images, labels


def _write_split(out: Path, split: str, n: int, chunks: Iterable[tuple[np.ndarray, np.ndarray | None]]) -> tuple:
    """Append chunks of (uint8 (k, C, H, W), labels (k,) or None) to {split}_images.npy (+ _labels.npy)."""
    written, shape, labels = 0, None, []
    with open(out / f"{split}_images.npy", "wb") as f:
        for images, y in chunks:
            if shape is None:
                shape = images.shape[1:]
                np.lib.format.write_array_header_2_0(f, {"descr": "|u1", "fortran_order": False,
                                                         "shape": (n, *shape)})
            if images.shape[1:] != shape or images.dtype != np.uint8:
                raise DataError(f"{split} images differ in shape: {images.shape[1:]} after {shape}; pass --size "
                                f"and --greyscale or --rgb")
            f.write(np.ascontiguousarray(images).tobytes())
            written += len(images)
            if y is not None:
                labels.append(y)
    if written != n:
        raise DataError(f"{split}: expected {n} images, got {written}")
    if labels:
        np.save(out / f"{split}_labels.npy", np.concatenate(labels).astype(np.int64))
    return tuple(shape), bool(labels)


def write(out: str | os.PathLike, splits: dict[str, tuple[int, Iterable]], source: str) -> Path:
    """Write a converted folder from {split: (count, chunks)}; all or nothing (a temporary folder, renamed)."""
    out = Path(out)
    if out.exists():
        raise DataError(f"{out} already exists: choose another output folder or remove it")
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        shapes, labelled = {}, {}
        for split, (n, chunks) in splits.items():
            if n == 0:
                raise DataError(f"{source}: the {split} split holds no images")
            shapes[split], labelled[split] = _write_split(tmp, split, n, chunks)
        if len(set(shapes.values())) != 1 or len(set(labelled.values())) != 1:
            raise DataError(f"the splits differ: shapes {shapes}, labels {labelled}")
        info = {"format": 1, "source": source, "shape": list(shapes["train"]), "labels": labelled["train"],
                "count": {split: n for split, (n, _) in splits.items()}}
        (tmp / INFO).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def _folder_chunks(files: list[Path], labels: np.ndarray | None, greyscale: bool | None,
                   size: tuple[int, int] | None, where: str) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
    for i in range(0, len(files), CHUNK):
        images = read_images(files[i:i + CHUNK], greyscale, where)
        images = transform(torch.from_numpy(images), greyscale, size).numpy()
        yield images, (labels[i:i + CHUNK] if labels is not None else None)


def convert(source: str | os.PathLike, out: str | os.PathLike, greyscale: bool | None = None,
            size: tuple[int, int] | None = None) -> Path:
    """Convert an image folder (streamed) or an .npz file into a folder training reads from disk."""
    src = Path(source)
    DataConfig(str(src), greyscale=greyscale, size=size)       # training's own checks of the colour and size
    require_plain(src)
    splits = {}
    for split in SPLITS:
        if src.is_dir():
            files, labels = folder_files(src, split)
            splits[split] = (len(files), _folder_chunks(files, labels, greyscale, size, str(src)))
        elif src.suffix == ".npz" and src.is_file():
            images, labels = load_npz(src, split)
            images = transform(torch.from_numpy(images), greyscale, size).numpy()
            splits[split] = (len(images), [(images, labels)])
        else:
            raise DataError(f"{src}: convert takes an image folder or an .npz file")
    return write(out, splits, str(src))
