#!/usr/bin/env python3
"""Benchmark: `calendar --format json` against `check` on one corpus of 10,000 items × 5 channels.

    python bench/calendar.py [--items 10000] [--runs 3]

Both commands run as a user runs them (a fresh interpreter each time), best of ``--runs``; the
figure that matters is the ratio (goal: calendar at most 1.5× check, which already plans the
calendar for its rules). The corpus comes from ``bench/corpus.py`` (seeded); until that module is
available a small seeded stand-in here writes the same shape.
"""
from __future__ import annotations

import argparse
import random
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
NOW = "2026-11-16T00:00Z"
GOAL = 1.5


def stand_in(root: Path, n: int, seed: int = 1, channels_per_item: int = 3) -> Path:
    """A seeded corpus of ``n`` items, the shape of bench/corpus.py's: used only when it is missing."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    (root / "publish.yml").write_text("""\
site: {title: Bench, url: https://bench.example}
timezone: Europe/Berlin
calendar:
  max_per_day: 40
  blackout: [2027-12-24..2027-12-26]
channels:
  blog: {type: blog}
  mastodon:
    type: mastodon
    instance: https://mastodon.example
    token: env:MASTODON_TOKEN
    slots: [{days: weekdays, times: ['09:30', '12:00', '15:00', '17:30']}]
  bluesky: {type: bluesky, handle: bench.bsky.social, app_password: env:BLUESKY_APP_PASSWORD}
  linkedin: {type: linkedin, token: env:LINKEDIN_TOKEN, author: 'urn:li:organization:1'}
  x: {type: x, token: env:X_USER_TOKEN}
  telegram: {type: telegram, token: env:TELEGRAM_BOT_TOKEN, chat_id: '@bench'}
""", encoding="utf-8")
    names = ["blog", "mastodon", "bluesky", "linkedin", "x", "telegram"]
    start = datetime(2026, 11, 1, 8, 0)
    for i in range(n):
        when = start + timedelta(minutes=15 * rng.randrange(0, 4 * 24 * 400))
        status = rng.choice(["approved"] * 6 + ["draft", "review", "idea"])
        chosen = rng.sample(names, channels_per_item)
        lines = [f"  {c}: {{at: next}}" if c == "mastodon" and rng.random() < 0.3 else f"  {c}: {{}}" for c in chosen]
        folder = root / "content" / f"{when:%Y}" / f"{when:%m}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"item-{i:05d}.md").write_text(
            f"---\ntitle: Bench item {i}\nstatus: {status}\nauthor: a{i % 7}\n"
            + ("approved_by: editor\n" if status == "approved" else "")
            + f"publish_at: {when:%Y-%m-%dT%H:%M}\npriority: {rng.randrange(3)}\ncampaign: c{i % 40}\n"
            + "channels:\n" + "\n".join(lines) + "\n---\n\nBody of the item.\n", encoding="utf-8")
    return root


def corpus(n: int) -> Path:
    root = HERE / ".corpus" / f"calendar-{n}"
    if (root / "publish.yml").exists():
        return root
    sys.path.insert(0, str(REPO))
    try:
        from bench.corpus import generate  # bench/corpus.py: generate(root, n, seed=1, channels_per_item=3)
    except ImportError:
        generate = stand_in
    return generate(root, n, seed=1, channels_per_item=5) or root


def timed(args: list[str], runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run([sys.executable, str(REPO / "publish.py"), *args], capture_output=True)
        elapsed = time.perf_counter() - started
        if done.returncode not in (0, 1):
            sys.exit(f"{' '.join(args)} failed:\n{done.stderr.decode()[-2000:]}")
        best = min(best, elapsed)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    opts = parser.parse_args()
    root = corpus(opts.items)
    base = ["--root", str(root)]
    check = timed([*base, "check", "--format", "json", "--now", NOW], opts.runs)
    cal = timed([*base, "calendar", "--format", "json", "--now", NOW], opts.runs)
    print(f"corpus: {opts.items} items × 5 channels ({root.relative_to(REPO)})")
    print(f"check --format json:    {check:6.2f} s (baseline)")
    print(f"calendar --format json: {cal:6.2f} s  ratio {cal / check:.2f}× check (goal ≤ {GOAL}×)"
          + ("" if cal / check <= GOAL else "  OVER GOAL"))


if __name__ == "__main__":
    main()
