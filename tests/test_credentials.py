"""The encrypted credential store: never clear text, clear errors naming NEWSROOM_KEY, and updates
that two processes make at once both survive (the store's lock)."""
from __future__ import annotations

import multiprocessing
from datetime import datetime, timedelta, timezone

import pytest

from newsroom.credentials import Credential, CredentialError, new_key
from newsroom.state import FileStore

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)


def cred(n: int = 1) -> Credential:
    return Credential(access_token=f"access-secret-{n}", refresh_token=f"refresh-secret-{n}",
                      expires_at=NOW + timedelta(hours=2), scopes=("tweet.write", "offline.access"),
                      obtained_at=NOW, account="@newsroom")


def test_round_trip_and_no_clear_text(tmp_path):
    env = {"NEWSROOM_KEY": new_key()}
    vault = FileStore(tmp_path / "state").credentials(env)
    vault.put("x", cred())
    raw = (tmp_path / "state" / "credentials").read_bytes()
    for secret in (b"access-secret-1", b"refresh-secret-1", b"tweet.write", b"newsroom"):
        assert secret not in raw
    got = FileStore(tmp_path / "state").credentials(env).get("x")
    assert got == cred()
    assert got.expires_at == NOW + timedelta(hours=2)
    assert "secret" not in repr(got)


def test_missing_key_names_the_variable(tmp_path):
    FileStore(tmp_path / "state").credentials({"NEWSROOM_KEY": new_key()}).put("x", cred())
    vault = FileStore(tmp_path / "state").credentials({})
    with pytest.raises(CredentialError) as exc:
        vault.get("x")
    assert str(exc.value) == ("state/credentials is encrypted and NEWSROOM_KEY is not set: set NEWSROOM_KEY to the "
                              "key it was written with (in CI: gh secret set NEWSROOM_KEY)")
    with pytest.raises(CredentialError) as exc:
        FileStore(tmp_path / "other").credentials({}).put("x", cred())
    assert str(exc.value) == ("NEWSROOM_KEY is not set: other/credentials is kept encrypted with it. Make a key with "
                              "`publish auth key`, set it in this shell and as a CI secret (gh secret set "
                              "NEWSROOM_KEY), then try again")


def test_no_file_reads_as_empty_without_a_key(tmp_path):
    assert FileStore(tmp_path / "state").credentials({}).get("x") is None


def test_wrong_key_and_changed_file_are_refused(tmp_path):
    FileStore(tmp_path / "state").credentials({"NEWSROOM_KEY": new_key()}).put("x", cred())
    message = ("state/credentials cannot be decrypted with NEWSROOM_KEY: the key is not the one it was written with, "
               "or the file was changed (a merge conflict?). Set NEWSROOM_KEY to the right key, or restore the file "
               "from git")
    with pytest.raises(CredentialError) as exc:
        FileStore(tmp_path / "state").credentials({"NEWSROOM_KEY": new_key()}).get("x")
    assert str(exc.value) == message
    key = new_key()
    FileStore(tmp_path / "s2").credentials({"NEWSROOM_KEY": key}).put("x", cred())
    path = tmp_path / "s2" / "credentials"
    data = bytearray(path.read_bytes())
    data[40] = ord("A") if data[40] != ord("A") else ord("B")  # one flipped character
    path.write_bytes(bytes(data))
    with pytest.raises(CredentialError) as exc:
        FileStore(tmp_path / "s2").credentials({"NEWSROOM_KEY": key}).get("x")
    assert str(exc.value) == message.replace("state/", "s2/")


def test_malformed_key(tmp_path):
    with pytest.raises(CredentialError) as exc:
        FileStore(tmp_path / "state").credentials({"NEWSROOM_KEY": "hunter2"}).put("x", cred())
    assert str(exc.value) == ("NEWSROOM_KEY is not a valid key (32 bytes in URL-safe base64): make one with "
                              "`publish auth key`")
    assert "hunter2" not in str(exc.value)


def _bump(folder, key, name, times):
    vault = FileStore(folder).credentials({"NEWSROOM_KEY": key})
    for _ in range(times):
        def change(old):
            n = int(old.access_token) if old else 0
            return Credential(access_token=str(n + 1))
        vault.update(name, change)


def test_two_processes_updating_at_once_lose_nothing(tmp_path):
    key = new_key()
    folder = tmp_path / "state"
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_bump, args=(folder, key, name, 25)) for name in ("x", "x", "linkedin")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    vault = FileStore(folder).credentials({"NEWSROOM_KEY": key})
    assert vault.get("x").access_token == "50"  # every read-change-write of both processes kept
    assert vault.get("linkedin").access_token == "25"
