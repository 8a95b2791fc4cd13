"""Atomic file writes: write a temporary file beside the target, flush it to disk, then rename.

A reader (or a process that was killed half-way) sees either the old file or the new one, never a mix. A
rename is an entry of the folder, and POSIX keeps it only once the folder itself is synced: a writer whose
files must survive a power loss calls `sync_folder` after its renames (the run folder does, each epoch).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path


def _affixes(path: Path) -> tuple[str, str]:
    """Temporary names beside `path`: hidden, then ".tmp" and the real suffix, so that tools which pick a
    format by suffix (matplotlib, ffmpeg) still can."""
    return f".{path.stem}.", f".tmp{path.suffix}"


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces `path`, on error it is removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    prefix, suffix = _affixes(path)
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(tmp)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)          # mkstemp makes 0600; the result should read like any other file
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def sync_folder(folder: str | os.PathLike) -> None:
    """fsync a folder, so that the renames made in it are on disk (Linux and macOS; Windows has no such call)."""
    if os.name == "nt":
        return
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    except OSError as e:       # some file systems cannot sync a folder (EINVAL, EBADF): their renames are as durable
        if e.errno not in (errno.EINVAL, errno.EBADF):     # as they get, and training goes on
            raise
    finally:
        os.close(fd)


# What `atomic_path` names a temporary file: "." + stem + "." + mkstemp's 8 random characters + ".tmp" + suffix.
_TEMPORARY = re.compile(r"\..*\.[a-z0-9_]{8}\.tmp(\.[^.]+)?")


def leftovers(folder: str | os.PathLike) -> list[Path]:
    """The temporary files in `folder` that a process killed in the middle of a write left behind (whatever
    file each was to become)."""
    return sorted(p for p in Path(folder).iterdir()
                  if _TEMPORARY.fullmatch(p.name) and p.is_file() and not p.is_symlink())


def remove_leftovers(folder: str | os.PathLike) -> None:
    """Remove `leftovers(folder)`: call it only while no other process writes there (under run/lock.py's lock)."""
    for path in leftovers(folder):
        path.unlink(missing_ok=True)


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text(path: str | os.PathLike, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))
