"""The pre-commit hook (.pre-commit-hooks.yaml, id newsroom-check), run as pre-commit runs it: its
entry with the staged files that match its ``files`` pattern appended, from the repository's top."""
from __future__ import annotations

import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import yaml

from conftest import ROOT, item

BIN = Path(sys.executable).parent


def run_hook(root: Path, changed: list[str]) -> subprocess.CompletedProcess:
    [hook] = [h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text()) if h["id"] == "newsroom-check"]
    assert hook["language"] == "python" and hook["pass_filenames"] is True
    files = [f for f in changed if re.search(hook["files"], f)]
    return subprocess.run([*shlex.split(hook["entry"]), *files], cwd=root, capture_output=True, text=True, timeout=60,
                          env={"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(root), "PYTHONPATH": str(ROOT)})


def test_the_hook_shows_the_changed_items_problems_and_fails_only_for_them(project):
    root = project({
        "content/ok.md": item("Fine", status="draft"),
        "content/broken.md": item("Broken", status="drafty"),
        "content/other.markdown": item("Also broken", status="approved"),
        "README.md": "not an item\n",
    })
    clean = run_hook(root, ["content/ok.md", "README.md"])
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert clean.stdout == "2 items checked: no problems\n"  # broken.md is not an item: its status is not one

    broken = run_hook(root, ["content/broken.md", "README.md"])
    assert broken.returncode == 1
    assert broken.stdout == ("Errors\n  content/broken.md:3: status: 'drafty' is not one of idea, draft, review, "
                             "approved, published, archived, withdrawn (did you mean 'draft'?)\n"
                             "2 items checked: 1 error, 0 warnings in 1 file\n")  # not other.markdown's error
    everything = run_hook(root, ["content/other.markdown"])
    assert everything.returncode == 1 and "content/other.markdown:3: approved_by: an approved item needs" \
        in everything.stdout


def test_the_hook_is_fast_enough_for_every_commit(project):
    files = {f"content/2026/{n:03d}.md": item(f"Item {n}", status="draft") for n in range(200)}
    root = project(files)
    run_hook(root, ["content/2026/000.md"])  # the first run fills the item cache
    start = time.monotonic()
    again = run_hook(root, ["content/2026/000.md"])
    took = time.monotonic() - start
    assert again.returncode == 0, again.stdout
    assert took < 10, f"the hook took {took:.1f} s on 200 items"
