"""What a cache depends on in the code itself: the modules' names and contents.

Every cache under .cache/ (items, the no-op publish index, rendering, kept posts) is thrown away when
the code that built it changes; they share this one way of telling. Contents, not modification
times: a CI job checks the repository out afresh each run (every file gets a new mtime) and restores
.cache/ from the last run, which only helps when unchanged code is seen as unchanged.
"""
from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path

CODE_ROOT = Path(__file__).resolve().parent.parent


def code_signature(packages: tuple[str, ...]) -> str:
    """A hash of every ``*.py`` file of ``packages`` (folders under the project's code root), by
    name and content."""
    h = hashlib.blake2b(digest_size=16)
    for package in packages:
        h.update(_package_digest(package))
    return h.hexdigest()


@lru_cache(maxsize=None)
def _package_digest(package: str) -> bytes:
    """One package's modules by name and content, read once per process (the caches ask for the
    same packages in their own combinations)."""
    h = hashlib.blake2b(digest_size=16)
    base = CODE_ROOT / package
    for folder, dirs, files in os.walk(base):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")  # sub-packages too (channels/blog/), in order
        for name in sorted(files):
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                with open(path, "rb") as fh:
                    data = fh.read()
                h.update(f"{package}/{Path(path).relative_to(base).as_posix()}\0{len(data)}\0".encode())
                h.update(data)
    return h.digest()


def files_signature(folders) -> str:
    """A hash of every file under ``folders`` by relative path and content (templates)."""
    h = hashlib.blake2b(digest_size=16)
    for folder in folders:
        folder = Path(folder)
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                data = path.read_bytes()
                h.update(f"{folder.name}/{path.relative_to(folder).as_posix()}\0{len(data)}\0".encode())
                h.update(data)
    return h.hexdigest()
