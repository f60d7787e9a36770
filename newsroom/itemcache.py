"""A cache of loaded items, so a repository of 10,000 items is not parsed again on every command.

``.cache/items/NN.pickle`` map each item file to what loading it gave (the ``Item`` and its own
problems), keyed by the file's (mtime, size, inode), and by a hash of its bytes when those differ: a
fresh checkout (a CI job restoring .cache/) gives every file a new mtime and inode, and reading and
hashing a file costs a fraction of parsing it. The cache is valid only for the exact publish.yml and
the exact code that built it: any change there and every item is read again.

Files are spread over ``SHARDS`` files by a hash of their path, and only the shards whose files
changed are written again: one item edited in 10,000 rewrites a few hundred items' worth, not all.
Deleting the folder is always safe.
"""
from __future__ import annotations

import hashlib
import os
import pickle
import sys
import zlib
from pathlib import Path

from .fingerprint import code_signature
from .gcpause import collector_paused
from .atomic import write_atomic

VERSION = 4
FOLDER = Path(".cache") / "items"
OLD_FILE = Path(".cache") / "items.pickle"  # before the shards: removed by the first save
SHARDS = 32


def _code_signature() -> bytes:
    # channel types declare the option and override schemas items are validated with
    return f"{VERSION} {sys.version} {code_signature(('newsroom', 'channels'))}".encode()


def stat_key(st: os.stat_result) -> tuple:
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def content_key(raw: bytes) -> bytes:
    return hashlib.blake2b(raw, digest_size=16).digest()


def shard_of(rel: str) -> int:
    return zlib.crc32(rel.encode("utf-8", "surrogatepass")) % SHARDS


class ItemCache:
    def __init__(self, root: Path, settings_bytes: bytes):
        self.root = Path(root)
        self.folder = self.root / FOLDER
        self.signature = hashlib.blake2b(_code_signature() + settings_bytes, digest_size=16).digest()
        self.entries: dict[str, tuple] = {}
        self.loaded: list[dict[str, tuple]] = [{} for _ in range(SHARDS)]  # what each shard file holds
        self.fresh: dict[str, tuple] = {}
        with collector_paused():  # unpickling 10,000 items: the collector would walk them again and again
            for n in range(SHARDS):
                self._load(n)

    def _load(self, n: int) -> None:
        try:
            with open(self.folder / f"{n:02d}.pickle", "rb") as f:
                # The signature is its own small record first: a stale shard is dropped without
                # unpickling its items (which would double the peak memory of a large project).
                if pickle.load(f) == self.signature:
                    shard = pickle.load(f)
                    if isinstance(shard, dict):
                        self.loaded[n] = shard
                        self.entries.update(shard)
        except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError, AttributeError, ImportError,
                IndexError, KeyError):
            pass  # no shard, or one from another version: its files are read again

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
        """Keep only the files seen this time; write atomically each shard that changed, only those."""
        shards: list[dict[str, tuple]] = [{} for _ in range(SHARDS)]
        for rel, hit in self.fresh.items():
            shards[shard_of(rel)][rel] = hit
        try:
            for n, shard in enumerate(shards):
                before = self.loaded[n]
                if shard.keys() == before.keys() and all(shard[k] is before[k] for k in shard):
                    continue
                self.folder.mkdir(parents=True, exist_ok=True)
                write_atomic(self.folder / f"{n:02d}.pickle",
                             pickle.dumps(self.signature, protocol=pickle.HIGHEST_PROTOCOL)
                             + pickle.dumps(shard, protocol=pickle.HIGHEST_PROTOCOL))
                self.loaded[n] = shard
            (self.root / OLD_FILE).unlink(missing_ok=True)
        except OSError:
            pass  # a read-only checkout still works, only slower
