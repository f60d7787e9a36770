"""A cache of loaded items, so a repository of 10,000 items is not parsed again on every command.

``.cache/items.pickle`` maps each item file to what loading it gave (the ``Item`` and its own
problems), keyed by the file's (mtime, size, inode), and by a hash of its bytes when those differ: a
fresh checkout (a CI job restoring .cache/) gives every file a new mtime and inode, and reading and
hashing a file costs a fraction of parsing it. The whole cache is valid only for the exact
publish.yml and the exact code that built it: any change there and every item is read again.
Deleting the folder is always safe.
"""
from __future__ import annotations

import hashlib
import os
import pickle
import sys
from pathlib import Path

from .fingerprint import code_signature
from .atomic import write_atomic

VERSION = 3
FILE = Path(".cache") / "items.pickle"


def _code_signature() -> bytes:
    # channel types declare the option and override schemas items are validated with
    return f"{VERSION} {sys.version} {code_signature(('newsroom', 'channels'))}".encode()


def stat_key(st: os.stat_result) -> tuple:
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def content_key(raw: bytes) -> bytes:
    return hashlib.blake2b(raw, digest_size=16).digest()


class ItemCache:
    def __init__(self, root: Path, settings_bytes: bytes):
        self.path = Path(root) / FILE
        self.signature = hashlib.blake2b(_code_signature() + settings_bytes, digest_size=16).digest()
        self.entries: dict[str, tuple] = {}
        self.fresh: dict[str, tuple] = {}
        try:
            with open(self.path, "rb") as f:
                # The signature is its own small record first: a stale cache is dropped without
                # unpickling its items (which would double the peak memory of a large project).
                if pickle.load(f) == self.signature:
                    self.entries = pickle.load(f)
        except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError, AttributeError, ImportError):
            pass  # no cache, or one from another version: read everything

    def get(self, rel: str, key: tuple):
        """(item, problems) when the file's stat key is the one cached."""
        hit = self.entries.get(rel)
        if hit is not None and hit[0] == key:
            self.fresh[rel] = hit
            return hit[1], hit[2]
        return None

    def knows(self, rel: str) -> bool:
        return rel in self.entries

    def get_by_content(self, rel: str, key: tuple, digest: bytes):
        """(item, problems) when the file's bytes are the ones cached (its stat key changed)."""
        hit = self.entries.get(rel)
        if hit is not None and hit[3] == digest:
            self.fresh[rel] = (key, hit[1], hit[2], digest)
            return hit[1], hit[2]
        return None

    def put(self, rel: str, key: tuple, item, problems: list, digest: bytes) -> None:
        self.fresh[rel] = (key, item, problems, digest)

    def save(self) -> None:
        """Keep only the files seen this time; write atomically, and only when something changed."""
        if self.fresh.keys() == self.entries.keys() and all(self.fresh[k] is self.entries[k] for k in self.fresh):
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(self.path, pickle.dumps(self.signature, protocol=pickle.HIGHEST_PROTOCOL)
                         + pickle.dumps(self.fresh, protocol=pickle.HIGHEST_PROTOCOL))
        except OSError:
            pass  # a read-only checkout still works, only slower
