"""A cache of loaded items, so a repository of 10,000 items is not parsed again on every command.

``.cache/items/NN.pickle`` map each item file to what loading it gave (the ``Item`` and its own
problems), keyed by the file's (mtime, size, inode), and by a hash of its bytes when those differ: a
fresh checkout (a CI job restoring .cache/) gives every file a new mtime and inode, and reading and
hashing a file costs a fraction of parsing it. The cache is valid only for the exact publish.yml and
the exact code that built it: any change there and every item is read again.

Files are spread over ``SHARDS`` files by a hash of their path, and only the shards whose files
changed are written again: one item edited in 10,000 rewrites a few hundred items' worth, not all.
Deleting the folder is always safe.

A shard holds its items without their bodies, then the bodies: most commands read no body (a run
that corrected one item, ``check`` with its renderings cached), and the bodies are nine tenths of
the bytes. An item's body is read from its shard when first asked for (``Item.__getattr__``),
through the file this load opened: a shard written again meanwhile (by this process, or another)
is a new file, so the body is the one that went with the item. Should that fail, the body is taken
from the item's file, provided it is still the revision the item was loaded from.
"""
from __future__ import annotations

import copyreg
import hashlib
import io
import os
import pickle
import sys
import threading
import zlib
from pathlib import Path

from .fingerprint import code_signature
from .gcpause import collector_paused
from .atomic import write_atomic
from .model import Item, digest_of, revision_of

VERSION = 6
FOLDER = Path(".cache") / "items"
OLD_FILE = Path(".cache") / "items.pickle"  # before the shards: removed by the first save
SHARDS = 32


def _code_signature() -> bytes:
    # channel types declare the option and override schemas items are validated with
    return f"{VERSION} {sys.version} {code_signature(('newsroom', 'channels'))}".encode()


def stat_key(st: os.stat_result) -> tuple:
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def content_key(raw: bytes) -> str:
    """A file's bytes, digested as revisions are (``model.digest_of``): for a file in UTF-8 with no
    byte order mark and no CR, its item's revision is its content key (``known_key``)."""
    return digest_of(raw)


def known_key(raw: bytes, item: Item | None) -> str:
    """``content_key(raw)``, taken from the item loaded from ``raw`` where its revision is the same
    digest of the same bytes (the text decoded from them encodes back to them): one hash a file."""
    if item is not None and not raw.startswith(b"\xef\xbb\xbf") and b"\r" not in raw:
        return item.revision
    return content_key(raw)


def shard_of(rel: str) -> int:
    return zlib.crc32(rel.encode("utf-8", "surrogatepass")) % SHARDS


def unchanged(shard: dict, before: dict) -> bool:
    """Whether a shard holds exactly what its file holds (the same keys, the very same objects)."""
    return shard.keys() == before.keys() and all(shard[k] is before[k] for k in shard)


class ItemCache:
    def __init__(self, root: Path, settings_bytes: bytes):
        self.root = Path(root)
        self.folder = self.root / FOLDER
        self.signature = hashlib.blake2b(_code_signature() + settings_bytes, digest_size=16).digest()
        self.entries: dict[str, tuple] = {}
        self.loaded: list[dict[str, tuple]] = [{} for _ in range(SHARDS)]  # what each shard file holds
        self.fresh: dict[str, tuple] = {}
        self.sources: list[_Bodies | None] = [None] * SHARDS  # each shard's bodies, read when first asked for
        with collector_paused():  # unpickling 10,000 items: the collector would walk them again and again
            for n in range(SHARDS):
                self._load(n)

    def _load(self, n: int) -> None:
        try:
            f = open(self.folder / f"{n:02d}.pickle", "rb")
        except OSError:
            return  # no shard: its files are read again
        try:
            # The signature is its own small record first: a stale shard is dropped without
            # unpickling its items (which would double the peak memory of a large project).
            if pickle.load(f) != self.signature:
                f.close()
                return
            shard = pickle.load(f)
            if not isinstance(shard, dict):
                f.close()
                return
        except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError, AttributeError, ImportError,
                IndexError, KeyError):
            f.close()
            return  # a shard from another version: its files are read again
        source = self.sources[n] = _Bodies(self.root, f, f.tell())
        for hit in shard.values():
            if hit[1] is not None:
                hit[1].__dict__["_body_source"] = source
        self.loaded[n] = shard
        self.entries.update(shard)

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
                if unchanged(shard, self.loaded[n]):
                    continue
                source = self.sources[n]
                if source is not None:  # its bodies before its file is replaced (Windows cannot replace an open file)
                    source.read()
                self.folder.mkdir(parents=True, exist_ok=True)
                write_atomic(self.folder / f"{n:02d}.pickle", _dumps(self.signature, shard))
                self.loaded[n] = shard
            (self.root / OLD_FILE).unlink(missing_ok=True)
        except OSError:
            pass  # a read-only checkout still works, only slower


def _dumps(signature: bytes, shard: dict[str, tuple]) -> bytes:
    """A shard's file: its signature, its entries with their items' bodies left out, then the bodies."""
    out = io.BytesIO()
    pickle.dump(signature, out, protocol=pickle.HIGHEST_PROTOCOL)
    _Pickler(out, protocol=pickle.HIGHEST_PROTOCOL).dump(shard)
    pickle.dump({rel: hit[1].body for rel, hit in shard.items() if hit[1] is not None}, out,
                protocol=pickle.HIGHEST_PROTOCOL)
    return out.getvalue()


class _Pickler(pickle.Pickler):
    def reducer_override(self, obj):
        if type(obj) is Item:  # without its body (the shard's last record has it) and without its source
            state = obj.__dict__.copy()  # a copy and two pops: a fifth of pickling 10,000 items less than a filter
            state.pop("body", None)
            state.pop("_body_source", None)
            return copyreg.__newobj__, (Item,), state
        return NotImplemented


class _Bodies:
    """The bodies of one shard's items, read from the shard's file (opened by the load) when the first
    of them is asked for."""

    def __init__(self, root: Path, f, offset: int):
        self.root, self.file, self.offset = root, f, offset
        self.bodies: dict[str, str] | None = None
        self.lock = threading.Lock()  # serve and the studio ask from more than one thread

    def read(self) -> dict[str, str]:
        with self.lock:
            if self.bodies is None:
                try:
                    # by position, not the file's offset: a forked render worker shares that offset
                    fd = self.file.fileno()
                    size = os.fstat(fd).st_size - self.offset
                    if hasattr(os, "pread"):
                        data = os.pread(fd, size, self.offset)
                    else:  # Windows, where no worker is forked
                        self.file.seek(self.offset)
                        data = self.file.read()
                    bodies = pickle.loads(data)
                    self.bodies = bodies if isinstance(bodies, dict) else {}
                except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError, AttributeError,
                        ImportError, IndexError, KeyError):
                    self.bodies = {}
                finally:
                    self.file.close()
            return self.bodies

    def body_of(self, item) -> str:
        body = self.read().get(item.path)
        return body if body is not None else _body_from_file(self.root, item)


def _body_from_file(root: Path, item) -> str:
    """The body of ``item`` from its file, which must still be the revision it was loaded from."""
    from . import yamlload

    try:
        text = yamlload.decode((root / item.path).read_bytes())
    except (OSError, UnicodeDecodeError):
        text = None
    if text is None or revision_of(text) != item.revision:
        raise RuntimeError(f"{item.path}: the item cache lost its body and the file has changed since it was "
                           "loaded; run the command again (delete .cache/items/ if this repeats)")
    return yamlload.split_front_matter(text).body
