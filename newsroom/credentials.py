"""Credentials a run may change, kept encrypted in the state store (``state/credentials``).

Most secrets come from the environment and never touch a file (DESIGN rule 6). The exception is
what a run must *change* to keep working: OAuth access tokens that expire within hours and the
refresh tokens that renew them, which X replaces on every use. Those live here, so the next run
(on this machine or in CI, after a ``git pull``) finds the newest ones.

- **Encrypted, authenticated**: the whole file is one Fernet token (AES-128-CBC + HMAC-SHA256,
  from ``cryptography``), so it is never clear text and a changed byte is refused, not misread.
  The key comes from the environment variable ``NEWSROOM_KEY`` (make one with ``publish auth key``).
- **Never printed**: ``Credential`` hides its values from ``repr``; errors name the variable and
  the file, never a value.
- **Updated under the ledger's lock**: ``Vault.update`` reads the file fresh, lets the caller
  change one channel's record (refreshing a token with the platform while the lock is held) and
  writes it back atomically before the lock is let go. Two runs that race for a refresh therefore
  take turns: the second finds the token the first got and uses it, instead of spending a refresh
  token the platform has already rotated away.
"""
from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, ContextManager, Mapping
from .atomic import write_atomic

KEY_VARIABLE = "NEWSROOM_KEY"
FILE = "credentials"
FORMAT = 1


class CredentialError(Exception):
    """The credential store cannot be used (no key, a wrong key, a damaged file): stops the command."""


#: Said beside a new key: where it goes and what it opens.
NEW_KEY_ADVICE = (f"Keep it as {KEY_VARIABLE} in your shell and as a CI secret (gh secret set {KEY_VARIABLE}); "
                  "whoever has it can read state/credentials.")


def new_key() -> str:
    """A fresh key for ``NEWSROOM_KEY``: 32 random bytes, URL-safe base64 (Fernet's format)."""
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode("ascii")


@dataclass
class Credential:
    """One channel's OAuth tokens. Values are kept out of ``repr`` so a stray print shows none."""

    access_token: str = field(default="", repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    expires_at: datetime | None = None  # when the access token lapses (None: it does not)
    refresh_expires_at: datetime | None = None  # when the refresh token lapses (LinkedIn: a year)
    scopes: tuple[str, ...] = ()
    obtained_at: datetime | None = None
    account: str | None = None  # who authorized it (a handle or id), shown in status
    extra: dict = field(default_factory=dict, repr=False)  # e.g. a registered app's client id/secret

    def as_dict(self) -> dict:
        def t(v):
            return v.isoformat() if v else None

        return {"access_token": self.access_token, "refresh_token": self.refresh_token,
                "expires_at": t(self.expires_at), "refresh_expires_at": t(self.refresh_expires_at),
                "scopes": list(self.scopes), "obtained_at": t(self.obtained_at), "account": self.account,
                "extra": dict(self.extra)}

    @classmethod
    def from_dict(cls, d: Mapping) -> Credential:
        def t(v):
            if not v:
                return None
            parsed = datetime.fromisoformat(v)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)

        return cls(access_token=d.get("access_token") or "", refresh_token=d.get("refresh_token"),
                   expires_at=t(d.get("expires_at")), refresh_expires_at=t(d.get("refresh_expires_at")),
                   scopes=tuple(d.get("scopes") or ()), obtained_at=t(d.get("obtained_at")),
                   account=d.get("account"), extra=dict(d.get("extra") or {}))

    def expires_within(self, now: datetime, seconds: float) -> bool:
        return self.expires_at is not None and (self.expires_at - now).total_seconds() <= seconds


class Vault:
    """The encrypted ``state/credentials`` file: channel name → ``Credential``.

    ``lock`` is the state store's own lock (``FileStore.locked``), so credentials and the ledger are
    changed under one lock. ``label`` is how errors name the file (``state/credentials``).
    """

    def __init__(self, path: Path, key: str | None, lock: Callable[[], ContextManager], *, label: str | None = None):
        self.path = Path(path)
        self._key = key or None
        self._lock = lock
        self.label = label or str(path)
        self._fernet = None

    # -- the key ------------------------------------------------------------------------------
    def _cipher(self, *, writing: bool):
        if self._fernet is not None:
            return self._fernet
        if not self._key:
            if writing:
                raise CredentialError(f"{KEY_VARIABLE} is not set: {self.label} is kept encrypted with it. Make a key "
                                      f"with `publish auth key`, set it in this shell and as a CI secret "
                                      f"(gh secret set {KEY_VARIABLE}), then try again")
            raise CredentialError(f"{self.label} is encrypted and {KEY_VARIABLE} is not set: set {KEY_VARIABLE} to "
                                  f"the key it was written with (in CI: gh secret set {KEY_VARIABLE})")
        from cryptography.fernet import Fernet

        try:
            self._fernet = Fernet(self._key.strip().encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            raise CredentialError(f"{KEY_VARIABLE} is not a valid key (32 bytes in URL-safe base64): make one with "
                                  "`publish auth key`") from None
        return self._fernet

    def check_writable(self) -> None:
        """Raise ``CredentialError`` now when a write would fail for want of a usable key."""
        self._cipher(writing=True)

    # -- reading ------------------------------------------------------------------------------
    @property
    def exists(self) -> bool:
        return self.path.exists()

    def _read_token(self) -> bytes:
        """The stored Fernet token (b"" when there is none); a backend that keeps it elsewhere
        (``newsroom/state/postgres.py``) overrides this and ``_write_token``."""
        try:
            return self.path.read_bytes().strip()
        except FileNotFoundError:
            return b""

    def _write_token(self, token: bytes) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # a reader sees the old file or the new one, never half of either
        write_atomic(self.path, token + b"\n", mode=0o600, fsync=True)

    def _load(self) -> dict[str, dict]:
        token = self._read_token()
        if not token:
            return {}
        from cryptography.fernet import InvalidToken

        cipher = self._cipher(writing=False)
        try:
            data = json.loads(cipher.decrypt(token))
        except InvalidToken:
            raise CredentialError(f"{self.label} cannot be decrypted with {KEY_VARIABLE}: the key is not the one it "
                                  f"was written with, or the file was changed (a merge conflict?). Set "
                                  f"{KEY_VARIABLE} to the right key, or restore the file from git") from None
        except ValueError:
            raise CredentialError(f"{self.label} decrypts to something that is not a credential store; restore it "
                                  "from git") from None
        if not isinstance(data, dict) or not isinstance(data.get("channels"), dict):
            raise CredentialError(f"{self.label} decrypts to something that is not a credential store; restore it "
                                  "from git")
        return data["channels"]

    def all(self) -> dict[str, Credential]:
        return {name: Credential.from_dict(d) for name, d in self._load().items()}

    def get(self, name: str) -> Credential | None:
        found = self._load().get(name)
        return Credential.from_dict(found) if found is not None else None

    # -- writing ------------------------------------------------------------------------------
    def _save(self, channels: dict[str, dict]) -> None:
        cipher = self._cipher(writing=True)
        token = cipher.encrypt(json.dumps({"format": FORMAT, "channels": channels}, sort_keys=True).encode("utf-8"))
        self._write_token(token)

    def update(self, name: str, change: Callable[[Credential | None], Credential | None]) -> Credential | None:
        """Under the store's lock: read ``name``'s record fresh, ``change`` it, write it back.

        ``change`` gets the current record (None when there is none) and returns the record to keep,
        the same object to keep it unchanged, or None to leave the store as it is. It may talk to
        the platform: the lock is held, so a racing run waits and then sees the result."""
        with self._lock():
            channels = self._load()
            current = Credential.from_dict(channels[name]) if name in channels else None
            new = change(current)
            if new is None or new is current:
                return current
            channels[name] = new.as_dict()
            self._save(channels)
            return new

    def put(self, name: str, credential: Credential) -> None:
        self.update(name, lambda _old: credential)

    def remove(self, name: str) -> bool:
        with self._lock():
            channels = self._load()
            if name not in channels:
                return False
            del channels[name]
            self._save(channels)
            return True


def open_vault(folder: Path, env: Mapping[str, str], lock: Callable[[], ContextManager] | None = None, *,
               label: str | None = None) -> Vault:
    """The vault in the state folder ``folder``, keyed from ``env``; ``lock`` defaults to none (reads)."""
    return Vault(Path(folder) / FILE, env.get(KEY_VARIABLE), lock or contextlib.nullcontext,
                 label=label or f"{Path(folder).name}/{FILE}")
