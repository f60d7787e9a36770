"""Moving a project's state between backends: ``publish state export FOLDER`` and ``publish state
import FOLDER``. The interchange is the files backend's own layout (JSON Lines, one stored row a
line, exactly as written), so an export is a ``state/`` folder a files project can use as it is, and
a team moves files → PostgreSQL → files without losing or changing a record.

Every backend offers the same five methods for this: ``export_lines(kind)`` and
``import_lines(kind, lines)`` for each kind in ``KINDS`` (the stored lines as they are, in the
order stored), ``credential_token()`` and ``set_credential_token(token)`` (the encrypted vault,
moved without being decrypted: no key is needed to move it), and ``counts()``.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable, Iterator

from ..atomic import write_atomic
from ..problems import Refusal

#: What is moved, in this order (credentials after them).
KINDS = ("ledger", "snapshots", "replies", "mentions", "feeds", "pulls")


class NotEmpty(Refusal):
    exit_code = 2


def transfer(source, target, *, target_name: str) -> dict[str, int]:
    """Copy every record of ``source`` into ``target``, which must hold none: how many of each kind.
    Refused (nothing written) when ``target`` holds anything, so an import never doubles a ledger."""
    held = {k: n for k, n in target.counts().items() if n}
    if held:
        said = ", ".join(f"{n} {k}" for k, n in held.items())
        raise NotEmpty(f"{target_name} already holds records ({said}): import only into an empty store "
                       "(a new state folder, or a project key with no rows in the database); nothing was written")
    moved = {kind: target.import_lines(kind, source.export_lines(kind)) for kind in KINDS}
    token = source.credential_token()
    if token:
        target.set_credential_token(token)
    moved["credentials"] = int(bool(token))
    return moved


def raw_lines(path: Path) -> Iterator[str]:
    """The complete lines of a JSON Lines file that hold a JSON object, exactly as written."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return
    for raw in data[:data.rfind(b"\n") + 1].decode("utf-8", errors="replace").split("\n"):
        if raw.strip():
            try:
                if isinstance(json.loads(raw), dict):
                    yield raw
            except ValueError:
                continue  # torn by a killed writer


class FileLines:
    """The files backend's side (``FileStore`` inherits it): its files' lines as they are."""

    def export_lines(self, kind: str) -> Iterator[str]:
        if kind == "ledger":
            yield from raw_lines(self.ledger_path)
        elif kind == "snapshots":
            for path in self.snapshot_files():
                yield from raw_lines(path)
        else:
            yield from raw_lines(self.folder / self.FILES[kind])

    def import_lines(self, kind: str, lines: Iterable[str]) -> int:
        lines = list(lines)
        if not lines:
            return 0
        with self.locked():
            if kind == "ledger":
                self._write(self.ledger_path, lines)
            elif kind == "snapshots":
                by_month: dict[str, list[str]] = {}
                for line in lines:
                    by_month.setdefault(json.loads(line)["at"][:7], []).append(line)
                self.snapshot_dir.mkdir(parents=True, exist_ok=True)
                for month, rows in sorted(by_month.items()):
                    self._write(self.snapshot_dir / f"{month}.jsonl", rows)
            else:
                self._write(self.folder / self.FILES[kind], lines)
        return len(lines)

    def credential_token(self) -> bytes:
        from ..credentials import FILE

        try:
            return (self.folder / FILE).read_bytes().strip()
        except FileNotFoundError:
            return b""

    def set_credential_token(self, token: bytes) -> None:
        from ..credentials import FILE

        self._prepare()
        write_atomic(self.folder / FILE, token + b"\n", mode=0o600, fsync=True)

    def counts(self) -> dict[str, int]:
        out = {kind: sum(1 for _ in self.export_lines(kind)) for kind in KINDS}
        out["credentials"] = int(bool(self.credential_token()))
        return out

    def describe(self) -> str:
        return f"files in {self.folder.name}/"
