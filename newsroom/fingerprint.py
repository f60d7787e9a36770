"""What a cache depends on in the code itself: the modules' names, sizes and modification times.

Every cache under .cache/ (items, the no-op publish index, rendering) is thrown away when the code
that built it changes; they share this one way of telling.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

CODE_ROOT = Path(__file__).resolve().parent.parent


def code_signature(packages: tuple[str, ...]) -> str:
    """A hash of every ``*.py`` file of ``packages`` (folders under the project's code root)."""
    h = hashlib.blake2b(digest_size=16)
    for package in packages:
        for entry in sorted(os.scandir(CODE_ROOT / package), key=lambda e: e.name):
            if entry.name.endswith(".py"):
                st = entry.stat()
                h.update(f"{package}/{entry.name}\0{st.st_mtime_ns}\0{st.st_size}\n".encode())
    return h.hexdigest()
