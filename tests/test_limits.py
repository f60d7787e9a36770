"""One bad input never stops the others: YAML alias bombs and oversized documents, named pipes and
link loops under content/, a read-only state folder and a full disk. Each gives one clear message,
no traceback, no hang, and leaves no temporary file."""
from __future__ import annotations

import json
import os
import re
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, item

SETTINGS = """\
site:
  title: Test Newsroom
  url: https://news.test
timezone: UTC
channels:
  blog:
    type: blog
calendar:
  severity:  # many items at one time: the calendar's rules are tested elsewhere
    conflict: warning
    max_per_day: warning
"""
BOMB = "---\ntitle: Laughs\nstatus: draft\n" + "a: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]\n" + "".join(
    f"{b}: &{b} [{', '.join(f'*{a}' for _ in range(9))}]\n" for a, b in zip("abcdefgh", "bcdefghi")) + "---\nBody.\n"


def approved(title: str) -> str:
    return item(title, status="approved", approved_by="editor", author="writer", publish_at="2026-11-20T09:00",
                channels=["blog"])


def run(root: Path, *args: str, timeout: float = 60, preexec=None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("CI", None)
    return subprocess.run([sys.executable, str(ROOT / "publish.py"), "--root", str(root), *args], cwd=root,
                          env=env, capture_output=True, text=True, timeout=timeout, preexec_fn=preexec)


def temporary_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.name.endswith(".tmp"))


def test_an_alias_bomb_is_refused_at_its_file_quickly_and_the_others_load(cli, project):
    root = project({"content/bomb.md": BOMB, "content/fine.md": item("Fine")}, settings=SETTINGS)
    started = time.monotonic()
    result = cli(root, "check", "--format", "json")
    assert time.monotonic() - started < 10
    report = json.loads(result.output)
    assert [(p["path"], p["line"], p["message"]) for p in report["errors"]] == [
        ("content/bomb.md", 4, "YAML: holds more than 100,000 values once its aliases (*name) are expanded; write "
                               "the values out instead of repeating anchors")]
    assert report["errors"][0]["line"] == 4  # where the expansion ran over: the anchor it repeats


def test_a_huge_front_matter_is_refused_with_its_size(cli, project):
    big = "---\ntitle: Big\nstatus: draft\nsummary: \"" + "x" * (1 << 20) + "\"\n---\nBody.\n"
    root = project({"content/big.md": big, "content/fine.md": item("Fine")}, settings=SETTINGS)
    report = json.loads(cli(root, "check", "--format", "json").output)
    assert [(p["path"], p["line"], p["message"]) for p in report["errors"]] == [
        ("content/big.md", 2, "YAML: is 1.0 MB; at most 1 MB of YAML is read (keep long text in the body)")]


def test_named_pipes_and_link_loops_under_content_are_skipped_with_a_note(project):
    root = project({"content/fine.md": approved("Fine")}, settings=SETTINGS)
    os.mkfifo(root / "content" / "pipe.md")
    os.symlink("..", root / "content" / "loop")
    os.symlink("self.md", root / "content" / "self.md")
    checked = run(root, "check", "--format", "json", timeout=30)
    warnings = [(p["path"], p["message"]) for p in json.loads(checked.stdout)["warnings"]]
    assert warnings == [
        ("content/loop", "is a link to a folder; not followed (a link can loop): move the items into content/"),
        ("content/pipe.md", "is a named pipe (FIFO), not a file; skipped"),
        ("content/self.md", "is a link that cannot be followed (Too many levels of symbolic links); skipped"),
    ]
    published = run(root, "publish", "--now", "2026-11-20T09:05:00Z", timeout=30)
    assert published.returncode == 0, published.stderr
    assert published.stdout.splitlines()[0] == "delivered  content/fine.md → blog  https://news.test/fine/"
    assert "Traceback" not in published.stderr


def read_only(folder: Path, command: list[str]) -> list[str]:
    """``command`` run with ``folder`` mounted read-only in a mount namespace of its own (as a CI
    runner's checkout or a mounted volume can be); root writes through file modes, not through this."""
    flags = "-m" if os.geteuid() == 0 else "-rm"
    script = f'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" "$1" && shift && exec "$@"'
    return ["unshare", flags, "sh", "-c", script, "sh", str(folder), *command]


def can_mount_read_only(tmp: Path) -> bool:
    probe = tmp / "probe"
    probe.mkdir()
    try:
        done = subprocess.run(read_only(probe, ["touch", str(probe / "x")]), capture_output=True, text=True)
    except OSError:
        return False
    return "Read-only file system" in done.stderr


def test_a_read_only_state_folder_gives_one_clear_message_and_no_temporary_files(project, tmp_path):
    if not can_mount_read_only(tmp_path):
        pytest.skip("this machine allows no mount namespace (unshare -m)")
    root = project({"content/a.md": approved("A"), "content/b.md": approved("B")}, settings=SETTINGS)
    first = run(root, "publish", "--now", "2026-11-20T08:00:00Z")  # creates state/ (nothing due yet)
    assert first.returncode == 0, first.stderr
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("CI", None)
    result = subprocess.run(read_only(root / "state", [sys.executable, str(ROOT / "publish.py"), "--root", str(root),
                                                       "publish", "--now", "2026-11-20T09:05:00Z"]),
                            cwd=root, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr == (f"error: cannot write to the state folder {root / 'state'}: Read-only file system. "
                             "Nothing more is sent; make it writable or free disk space, then run publish again "
                             "(what this run claimed is reconciled then)\n")
    assert "delivered" not in result.stdout
    assert temporary_files(root) == []
    again = run(root, "publish", "--now", "2026-11-20T09:10:00Z")  # writable again: both go out
    assert again.returncode == 0 and again.stdout.count("delivered  ") == 2, again.stdout + again.stderr


def test_a_full_disk_stops_the_run_with_one_message_records_nothing_false_and_leaves_no_temporary_files(project):
    root = project({f"content/item{i}.md": approved(f"Item {i}") for i in range(30)}, settings=SETTINGS)
    assert run(root, "publish", "--now", "2026-11-20T08:00:00Z").returncode == 0

    def small_disk():  # every file may grow to 6 kB, then writes fail as on a full disk (EFBIG, not a kill)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (6000, 6000))

    result = run(root, "publish", "--now", "2026-11-20T09:05:00Z", preexec=small_disk)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    # the kernel says "File too large" for this limit; a disk that is really full says "No space left on device"
    assert re.fullmatch(f"error: cannot write to the state folder {re.escape(str(root / 'state'))}: "
                        r"(File too large|No space left on device)\. Nothing more is sent; make it writable or free "
                        r"disk space, then run publish again \(what this run claimed is reconciled then\)\n",
                        result.stderr), result.stderr
    assert temporary_files(root) == []
    ledger = [json.loads(line) for line in (root / "state" / "ledger.jsonl").read_text().splitlines()
              if line.startswith("{") and line.endswith("}")]
    delivered = {e["item"] for e in ledger if e["event"] == "delivered"}
    for slug in delivered:  # nothing recorded delivered whose page is not there
        assert (root / "public" / slug / "index.html").is_file()

    again = run(root, "publish", "--now", "2026-11-20T09:10:00Z")  # space again: everything goes out
    assert again.returncode == 0, again.stdout + again.stderr
    assert all((root / "public" / f"item{i}" / "index.html").is_file() for i in range(30))
