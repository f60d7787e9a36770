"""The files backend of the state store: append-only JSON Lines, torn lines, the cached fold, git union merges."""
from __future__ import annotations

import json
import subprocess

from newsroom.state import FileStore, entry_key


def ev(kind, entry="a/social", **kw):
    return {"event": kind, "entry": entry, "at": "2026-11-20T09:00:00+00:00", "revision": "r1", **kw}


def test_events_are_one_sorted_line_each_and_a_torn_line_is_skipped(tmp_path):
    store = FileStore(tmp_path / "state")
    store.append([ev("claimed", run="x")])
    with open(store.ledger_path, "a") as f:
        f.write('{"event": "delivered", "entry": "a/soc')  # a writer killed mid-line
    assert [e["event"] for e in store.events()] == ["claimed"]
    store.append([ev("failed", error="HTTP 500", retryable=True)])
    lines = store.ledger_path.read_text().splitlines()
    assert lines[0] == '{"at":"2026-11-20T09:00:00+00:00","entry":"a/social","event":"claimed","revision":"r1","run":"x"}'
    assert lines[2].startswith('{"at"')  # the next event starts on a fresh line
    assert [e["event"] for e in store.events()] == ["claimed", "failed"]
    st = FileStore(tmp_path / "state").entries()["a/social"]
    assert (st.state, st.error, st.retryable, st.attempts) == ("failed", "HTTP 500", True, 1)


def test_the_cached_fold_reads_only_new_lines_and_refolds_a_rewritten_ledger(tmp_path):
    cache = tmp_path / ".cache"
    FileStore(tmp_path / "state", cache_dir=cache).append([ev("claimed", run="x")])
    assert FileStore(tmp_path / "state", cache_dir=cache).entries()["a/social"].state == "claimed"
    assert (cache / "ledger-fold.marshal").exists()
    FileStore(tmp_path / "state").append([ev("delivered", receipt={"remote_id": "9", "url": "u"})])
    st = FileStore(tmp_path / "state", cache_dir=cache).entries()["a/social"]
    assert (st.state, st.receipt["remote_id"]) == ("delivered", "9")
    # Not an append (a checkout of an older ledger): the fold starts again.
    path = tmp_path / "state" / "ledger.jsonl"
    path.write_text(json.dumps(ev("claimed", entry="b/social", run="y")) + "\n")
    entries = FileStore(tmp_path / "state", cache_dir=cache).entries()
    assert list(entries) == ["b/social"]


def test_a_claim_is_refused_when_the_fresh_ledger_says_no(tmp_path):
    store = FileStore(tmp_path / "state")
    def free(st):
        return st.state == "pending"
    assert store.claim("a/social", ev("claimed", run="one"), free) is True
    assert FileStore(tmp_path / "state").claim("a/social", ev("claimed", run="two"), free) is False
    assert [e["run"] for e in store.events()] == ["one"]


def test_a_run_is_alive_while_it_holds_its_lock(tmp_path):
    store = FileStore(tmp_path / "state")
    with store.run_lock("run-1"):
        assert FileStore(tmp_path / "state").run_alive("run-1") is True
    assert store.run_alive("run-1") is False
    assert store.run_alive("never-ran") is False


def test_entry_keys_are_item_identity_and_channel():
    assert entry_key("launch", "mastodon") == "launch/mastodon"


def test_two_branches_appending_to_the_ledger_merge_without_conflict(tmp_path):
    def git(*args):
        return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=tmp_path,
                              check=True, capture_output=True, text=True)

    git("init", "-q", "-b", "main")
    store = FileStore(tmp_path / "state")
    store.append([ev("claimed", run="base")])
    git("add", "-A")
    git("commit", "-qm", "base")
    git("checkout", "-qb", "other")
    store.append([ev("delivered", entry="a/social", run="ci")])
    git("commit", "-qam", "ci run")
    git("checkout", "-q", "main")
    store.append([ev("claimed", entry="b/blog", run="laptop")])
    git("commit", "-qam", "laptop run")
    git("merge", "-q", "--no-edit", "other")  # raises on a conflict
    runs = sorted(e["run"] for e in FileStore(tmp_path / "state").events())
    assert runs == ["base", "ci", "laptop"]
    assert (tmp_path / "state" / ".gitignore").read_text() == ".lock\n.runs/\n"
