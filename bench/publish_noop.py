"""Bench: a no-op ``publish`` (nothing due) on 10,000 items with a ledger of 100,000 events.

Goals (issue 8): under 1 second, and at most 0.3× a full ``check`` of the same repository, so a
15-minute cron costs nothing. Times are wall-clock times of ``python publish.py …`` processes
(interpreter start included), the median of several runs after one run that fills the caches.

    python bench/publish_noop.py [--items 10000] [--events 100000] [--runs 5]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
NOW = datetime(2026, 11, 23, 17, 0, tzinfo=timezone.utc)
CHANNELS = ("blog", "mastodon", "bluesky")

SETTINGS = """\
site:
  title: Bench Newsroom
  url: https://bench.example
timezone: UTC
channels:
  blog:
    type: blog
  mastodon:
    type: mastodon
    instance: https://mastodon.example
    token: env:MASTODON_TOKEN
  bluesky:
    type: bluesky
    handle: bench.bsky.social
    app_password: env:BLUESKY_APP_PASSWORD
"""


def generate(root: Path, n: int, events: int, seed: int = 1) -> Path:
    """``n`` approved items, 80% in the past (delivered in the ledger) and 20% ahead; ``events`` ledger lines."""
    rng = random.Random(seed)
    if root.exists():
        shutil.rmtree(root)
    (root / "content").mkdir(parents=True)
    (root / "publish.yml").write_text(SETTINGS, encoding="utf-8")
    past: list[tuple[str, str, str]] = []  # (id, path, revision)
    for k in range(n):
        ahead = k % 5 == 0
        at = NOW + timedelta(hours=1 + rng.randrange(24 * 60)) if ahead else NOW - timedelta(hours=1 + rng.randrange(24 * 300))
        rel = f"content/{at:%Y}/{at:%m}/item-{k:05d}.md"
        text = (f"---\ntitle: \"Item {k}\"\nstatus: approved\nauthor: writer\napproved_by: editor\n"
                f"publish_at: {at:%Y-%m-%dT%H:%M}\nsummary: \"Summary of item {k}\"\ntags: [bench, t{k % 17}]\n"
                f"channels: [{', '.join(CHANNELS)}]\n---\n"
                + "\n\n".join(f"Paragraph {p} of item {k}. " * 4 for p in range(3)) + "\n")
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        if not ahead:
            past.append((f"item-{k:05d}", rel, hashlib.blake2b(text.encode(), digest_size=8).hexdigest()))
    lines: list[str] = []

    def add(**e):
        lines.append(json.dumps(e, sort_keys=True, separators=(",", ":")))

    at = (NOW - timedelta(days=1)).isoformat()
    retries = max(0, (events - 3 * len(past) * len(CHANNELS)) // 2)
    for i, (item, rel, rev) in enumerate(past):
        for c in CHANNELS:
            base = {"entry": f"{item}/{c}", "item": item, "channel": c, "path": rel, "revision": rev, "run": "bench",
                    "at": at}
            if retries > 0:
                add(event="claimed", **base)
                add(event="failed", error="HTTP 503: Service Unavailable", retryable=True, **base)
                retries -= 1
            add(event="claimed", **base)
            add(event="progress", name="tries", value=1, **base)
            add(event="delivered", receipt={"remote_id": f"{i}-{c}", "url": f"https://{c}.example/{i}",
                                            "at": at, "parts": [], "data": {}}, **base)
    (root / "state").mkdir()
    (root / "state" / "ledger.jsonl").write_text("\n".join(lines[:events]) + "\n", encoding="utf-8")
    return root


def timed(root: Path, *args: str) -> tuple[float, subprocess.CompletedProcess]:
    env = {"PATH": "/usr/bin:/bin", "MASTODON_TOKEN": "x", "BLUESKY_APP_PASSWORD": "x"}
    start = time.perf_counter()
    done = subprocess.run([sys.executable, str(ROOT / "publish.py"), "--root", str(root), *args], env=env,
                          capture_output=True, text=True)
    return time.perf_counter() - start, done


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=10_000)
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    root = HERE / ".corpus" / "publish-noop"
    t0 = time.perf_counter()
    generate(root, args.items, args.events)
    events = sum(1 for _ in open(root / "state" / "ledger.jsonl"))
    print(f"corpus: {args.items} items, {events} ledger events ({time.perf_counter() - t0:.1f}s to generate)")

    now = NOW.isoformat()
    cold, first = timed(root, "publish", "--now", now)
    if not first.stdout.startswith("Nothing due"):
        sys.exit(f"the corpus is not a no-op: {first.stdout[:500]}{first.stderr[:500]}")
    print(f"first publish (fills .cache/): {cold:.2f}s")
    noop = []
    for _ in range(args.runs):
        t, done = timed(root, "publish", "--now", now)
        assert done.returncode == 0 and done.stdout.startswith("Nothing due"), done.stdout + done.stderr
        noop.append(t)
    checks = []
    for _ in range(max(1, args.runs // 2)):
        t, done = timed(root, "check")
        checks.append(t)
    t_noop, t_check = statistics.median(noop), statistics.median(checks)
    ratio = t_noop / t_check
    print(f"no-op publish: {t_noop:.3f}s (median of {len(noop)}; goal < 1 s: {'met' if t_noop < 1 else 'NOT met'})")
    print(f"full check:    {t_check:.3f}s (median of {len(checks)})")
    print(f"ratio no-op publish / check: {ratio:.3f} (goal ≤ 0.3: {'met' if ratio <= 0.3 else 'NOT met'})")

    # The ledger alone: a fresh fold of every event, and the cached fold after one more line.
    sys.path.insert(0, str(ROOT))
    from newsroom.state import FileStore

    cache = root / ".cache" / "bench-fold"
    shutil.rmtree(cache, ignore_errors=True)
    t = time.perf_counter()
    FileStore(root / "state", cache_dir=cache).entries()
    fresh = time.perf_counter() - t
    t = time.perf_counter()
    FileStore(root / "state", cache_dir=cache).entries()
    warm = time.perf_counter() - t
    print(f"ledger fold of {events} events: {fresh:.2f}s fresh, {warm:.2f}s from the cache")


if __name__ == "__main__":
    main()
