"""Writing a file whole or not at all, and never leaving the temporary file behind.

Every cache, stamp and page of a site already there is written to a temporary file beside its
target and renamed into place (``os.replace`` is atomic on POSIX): a reader sees the old file or the
new one, never half of either. (A new site is built whole in a folder of its own and renamed into
place: ``channels/blog/site.py``.)
When the write fails (a full disk, a read-only folder) the temporary file is removed before the
error goes on, so failed runs do not pile up ``.tmp`` files.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path


def write_atomic(path: str | os.PathLike, data: bytes, *, mode: int | None = None, fsync: bool = False) -> None:
    """Write ``data`` to ``path`` atomically; on failure nothing is left but the old file, if any."""
    target = os.fspath(path)
    directory, name = os.path.split(target)
    # the process and the thread: two threads of one process (serve's runs, re-plans and pulls) must
    # not write, and rename away, one temporary file
    tmp = os.path.join(directory, f".{name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644 if mode is None else mode)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            if fsync:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def leftovers(folder: str | os.PathLike) -> list[Path]:
    """Temporary files of ``write_atomic`` under ``folder`` (for tests and cleanup)."""
    return sorted(p for p in Path(folder).rglob(".*.tmp") if p.is_file())
