"""One writer per run folder: an OS lock on `RUN/.lock`, held while a process trains into the folder.

flock(2) locks belong to the open file: the kernel frees them when the process ends, however it ends (kill -9
included), so a lock is never stale. The file holds the holder's process id and command line, which a second
writer names in its one-line refusal; the holder removes it when it is done. Between a writer that has just
removed the file and one that opened it a moment before, the second sees that the file it locked is no longer
the folder's and takes the new one. Windows has no flock: there the folder is not locked.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from .. import atomic
from ..errors import RunError

try:
    import fcntl
except ImportError:        # Windows
    fcntl = None

LOCK = ".lock"


def _holder(fd: int) -> str:
    text = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip()
    pid, _, command = text.partition(" ")
    return f"process {pid} ({command})" if pid.isdigit() else "another process"


@contextlib.contextmanager
def writer(folder: str | os.PathLike) -> Iterator[None]:
    """Hold the folder's lock (creating the folder) for the block; a folder locked by another process is a
    RunError naming that process. Taking it removes the temporary files a writer killed mid-write left there."""
    folder = Path(folder)
    if fcntl is None:
        yield
        return
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise RunError(f"{folder} is being written by {holder}: a run folder has one writer at a time; wait for "
                           f"it to end, or stop it") from None
        except BaseException:
            os.close(fd)
            raise
        with contextlib.suppress(FileNotFoundError):
            if os.stat(path, follow_symlinks=False).st_ino == os.fstat(fd).st_ino:
                break
        os.close(fd)                # locked a file its last holder had just removed: take the folder's own
    try:
        os.ftruncate(fd, 0)
        program = "latentwalk" if "latentwalk" in sys.argv[0] else Path(sys.argv[0]).name
        os.pwrite(fd, f"{os.getpid()} {' '.join([program, *sys.argv[1:]])}\n".encode(), 0)
        atomic.remove_leftovers(folder)     # half-written by a writer killed mid-write: no one else writes now
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):   # still held: a writer that opened it sees it gone, retries
            if os.stat(path, follow_symlinks=False).st_ino == os.fstat(fd).st_ino:   # ours, not a newcomer's
                path.unlink()
        os.close(fd)
