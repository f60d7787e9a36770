"""The blog's rendered files kept between builds (``.cache/site-<channel>/``), so a build without
the site folder (a CI run with ``.cache/`` restored, a deleted ``public/``) writes the files it
rendered before instead of rendering them again.

``pages.pack`` holds the bytes of rendered files one after another; ``pages.index`` maps each file's
path to ``[fingerprint, offset, size, crc32]``. A file is taken from the pack only when its
fingerprint (everything it is rendered from, the templates included: ``site.plan_outputs``) is the
same, the code and every template file are the same by content (a template's own includes, an
upgrade of this package), and its bytes are all there with the same checksum; anything else is
rendered again. A build
appends what it rendered and then writes the index of what it produced; when more than half of the
pack is no longer used, the pack is written afresh. Deleting the folder is always safe.
"""
from __future__ import annotations

import marshal
import os
import zlib
from pathlib import Path

from newsroom.atomic import write_atomic

INDEX = "pages.index"
PACK = "pages.pack"
FORMAT = 1
#: A pack is written afresh when it holds more than this many bytes beyond twice what is used.
SLACK = 1 << 20


class Pages:
    """The kept files of one build: ``get`` before rendering, ``put`` after, ``keep`` for a file the
    site already holds unchanged, ``save`` at the end (nothing is written for ``folder=None``)."""

    def __init__(self, folder: Path | str | None, signature: str = ""):
        self.folder = Path(folder) if folder else None
        self.signature = signature  # the code and the templates the files were rendered with
        self.index: dict[str, list] = {}
        self.kept: dict[str, list] = {}  # the next index: the files this build produced
        self._reader: int | None = None
        self._writer: int | None = None
        self._end = 0
        if self.folder is None:
            return
        try:
            data = marshal.loads((self.folder / INDEX).read_bytes())
            st = os.stat(self.folder / PACK)
            if (data["format"] == FORMAT and data["signature"] == signature and data["pack"][0] == st.st_ino
                    and data["pack"][1] <= st.st_size):
                self.index = data["pages"]
        except (OSError, EOFError, ValueError, TypeError, KeyError, IndexError):
            self.index = {}  # none yet, torn or foreign: every file is rendered

    def get(self, path: str, fingerprint: str) -> bytes | None:
        """The bytes kept for ``path`` if they were rendered from exactly ``fingerprint``."""
        held = self.index.get(path)
        if held is None or held[0] != fingerprint:
            return None
        _, offset, size, crc = held
        try:
            if self._reader is None:
                self._reader = os.open(self.folder / PACK, os.O_RDONLY)
            data = os.pread(self._reader, size, offset)
        except OSError:
            return None
        if len(data) != size or zlib.crc32(data) != crc:
            return None  # cut short or overwritten (a build that died, two at once): rendered again
        self.kept[path] = held
        return data

    def keep(self, path: str, fingerprint: str) -> None:
        """``path`` is on the site unchanged: what the pack holds of it stays."""
        held = self.index.get(path)
        if held is not None and held[0] == fingerprint:
            self.kept[path] = held

    def put(self, path: str, fingerprint: str, data: bytes) -> None:
        """Append a freshly rendered file to the pack."""
        if self.folder is None:
            return
        try:
            if self._writer is None:
                self.folder.mkdir(parents=True, exist_ok=True)
                self._writer = os.open(self.folder / PACK, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
                self._end = os.fstat(self._writer).st_size
            offset = self._end
            view = memoryview(data)
            while view:
                view = view[os.write(self._writer, view):]
            self._end += len(data)
        except OSError:
            return  # a cache that cannot be written only costs time
        self.kept[path] = [fingerprint, offset, len(data), zlib.crc32(data)]

    def save(self) -> None:
        """Write the index of this build's files (and the pack afresh when most of it is unused)."""
        self.close()
        if self.folder is None or (self.kept == self.index and self._end == 0):
            return
        try:
            pack = self.folder / PACK
            size = os.stat(pack).st_size
            used = sum(held[2] for held in self.kept.values())
            if size > 2 * used + SLACK:
                self._compact(pack)
                size = os.stat(pack).st_size
            write_atomic(self.folder / INDEX, marshal.dumps({"format": FORMAT, "signature": self.signature,
                                                             "pack": [os.stat(pack).st_ino, size], "pages": self.kept}))
        except OSError:
            pass

    def _compact(self, pack: Path) -> None:
        """The pack written afresh with only the files of the index, in one pass, then renamed into place."""
        tmp = pack.with_name(f".{PACK}.{os.getpid()}.tmp")
        kept: dict[str, list] = {}
        src = os.open(pack, os.O_RDONLY)
        try:
            dst = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                end = 0
                for path, (fingerprint, offset, size, crc) in sorted(self.kept.items(), key=lambda kv: kv[1][1]):
                    data = os.pread(src, size, offset)
                    if len(data) != size or zlib.crc32(data) != crc:
                        continue
                    view = memoryview(data)
                    while view:
                        view = view[os.write(dst, view):]
                    kept[path] = [fingerprint, end, size, crc]
                    end += size
            finally:
                os.close(dst)
            os.replace(tmp, pack)
        except BaseException:
            _unlink(tmp)
            raise
        finally:
            os.close(src)
        self.kept = kept

    def close(self) -> None:
        for fd in (self._reader, self._writer):
            if fd is not None:
                os.close(fd)
        self._reader = self._writer = None


def _unlink(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
