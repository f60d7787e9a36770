"""A seeded corpus of realistic items for the benchmarks: ``generate(root, n, seed)``.

Front matter like a content team's (every status, campaigns, tags, segments, channel overrides,
naive and offset times) and bodies of 400-1,500 words with headings, lists, links and emphasis.
The same seed always gives the same bytes.

The benchmarks move what they would delete between measured runs into a trash folder
(``discard``), emptied when the benchmark ends: see ``discard`` for why.
"""
from __future__ import annotations

import atexit
import itertools
import os
import random
import shutil
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

SETTINGS = """\
site:
  title: Bench Newsroom
  url: https://bench.example
  description: A generated newsroom for benchmarks.
timezone: Europe/Berlin
segments:
  smb: Small businesses
  enterprise: Enterprise accounts
calendar:
  lead_time: 48h
channels:
  blog:
    type: blog
  newsletter:
    type: email
    from: "Bench <news@bench.example>"
    unsubscribe_url: "https://bench.example/unsubscribe?token={token}"
    grace: none
  mastodon:
    type: mastodon
    instance: https://mastodon.example
    token: env:BENCH_MASTODON_TOKEN
  bluesky:
    type: bluesky
    handle: bench.bsky.social
    app_password: env:BENCH_BLUESKY_PASSWORD
  linkedin:
    type: linkedin
    token: env:BENCH_LINKEDIN_TOKEN
    author: urn:li:organization:1
  devto:
    type: devto
    api_key: env:BENCH_DEVTO_KEY
  team-slack:
    type: slack
    webhook: env:BENCH_SLACK_WEBHOOK
state:
  path: state
"""

CHANNELS = ["blog", "newsletter", "mastodon", "bluesky", "linkedin", "devto", "team-slack"]
WORDS = ("order stock warehouse team customer release search offline sync report invoice pricing "
         "product shelf supplier delivery season forecast margin dashboard export import label barcode "
         "workflow approval editor calendar campaign newsletter audience feedback support roadmap "
         "integration webhook developer latency index cache queue retry budget growth churn").split()
AUTHORS = ["Maria Keller", "Jonas Brandt", "Lea Schmidt", "Omar Haddad", "Yuki Tanaka", "Priya Nair"]
CAMPAIGNS = ["autumn-release", "black-friday", "api-v2", "customer-stories", "webinars", "guides", None]
TAGS = ["release", "mobile", "search", "api", "guide", "inventory", "pricing", "events", "hiring", "security",
        "company", "customer-story"]
STATUSES = ["idea", "draft", "review", "approved", "approved", "approved", "published", "archived"]


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(6, 18))]
    if rng.random() < 0.15:
        i = rng.randrange(len(words))
        words[i] = f"[{words[i]}](https://docs.bench.example/{words[i]}?ref=blog)"
    if rng.random() < 0.15:
        i = rng.randrange(len(words))
        words[i] = f"**{words[i]}**"
    return " ".join(words).capitalize() + "."


def _plain_sentence(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 20))).capitalize() + "."


def _body(rng: random.Random) -> str:
    target = rng.randint(400, 1500)
    out, count = [], 0
    while count < target:
        kind = rng.random()
        if kind < 0.1:
            block = "## " + " ".join(rng.choice(WORDS) for _ in range(3)).capitalize()
        elif kind < 0.2:
            block = "\n".join(f"- {_sentence(rng)}" for _ in range(rng.randint(2, 5)))
        else:
            block = " ".join(_sentence(rng) for _ in range(rng.randint(2, 6)))
        out.append(block)
        count += len(block.split())
    return "\n\n".join(out) + "\n"


def _item(rng: random.Random, i: int, start: datetime, channels_per_item: int, days: int) -> tuple[str, str]:
    status = rng.choice(STATUSES)
    when = start + timedelta(hours=rng.randint(0, 24 * days), minutes=rng.choice([0, 15, 30, 45]))
    slug = f"{'-'.join(rng.choice(WORDS) for _ in range(3))}-{i}"
    author = rng.choice(AUTHORS)
    lines = ["---", f'title: "{" ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 9))).capitalize()} #{i}"',
             f"summary: \"{_plain_sentence(rng)}\"", f"status: {status}", f"author: {author}",
             f"reviewers: [{rng.choice(AUTHORS)}]"]
    if status in ("approved", "published", "archived"):
        approver = rng.choice([a for a in AUTHORS if a != author])
        lines.append(f"approved_by: {approver}")
    if rng.random() < 0.5:
        lines.append(f"publish_at: {when:%Y-%m-%dT%H:%M}")
    else:
        lines.append(f"publish_at: {when:%Y-%m-%dT%H:%M}+01:00")
    campaign = rng.choice(CAMPAIGNS)
    if campaign:
        lines.append(f"campaign: {campaign}")
    lines.append(f"tags: [{', '.join(rng.sample(TAGS, rng.randint(1, 4)))}]")
    if rng.random() < 0.2:
        lines.append(f"segments: [{rng.choice(['smb', 'enterprise'])}]")
    if rng.random() < 0.3:
        lines += [f"image: /images/{slug}.png", f"image_alt: A screenshot of the {rng.choice(WORDS)} screen"]
    chosen = ["blog"] + rng.sample(CHANNELS[1:], max(0, min(channels_per_item, len(CHANNELS)) - 1))
    lines.append("channels:")
    for name in chosen:
        r = rng.random()
        if r < 0.2 and name != "blog":
            lines.append(f"  {name}:\n    at: +{rng.choice([15, 30, 60, 120])}m")
        elif r < 0.25 and name in ("mastodon", "bluesky"):
            lines.append(f"  {name}:\n    thread: true")
        else:
            lines.append(f"  {name}: {{}}")
    lines.append("---")
    rel = f"content/{when:%Y}/{when:%m}/{slug}.md"
    return rel, "\n".join(lines) + "\n\n" + _body(rng)


HERE = Path(__file__).resolve().parent
TRASH = HERE / ".corpus" / ".trash"
EMPTIED = HERE / ".corpus" / ".trash-emptied"  # when the trash was last emptied
#: how long after a deletion creating files can still be slowed by it (see ``discard``)
SETTLE = 6 * 60
_count = itertools.count()
_registered = False


def discard(path: Path) -> None:
    """Move ``path`` (a folder or a file) into the benchmarks' trash instead of deleting it now, so
    that no run measured after it pays for the deletion. Outside ``bench/.corpus/`` (a test's corpus)
    it is deleted at once: nothing measured follows there.

    On ext4 without a journal (the build machine's disk), creating a file or folder skips each free
    inode of its group that was freed in the last minute, or in the last six while that inode's table
    block is dirty, and reads the inode's table entry to find out (``recently_deleted()`` in
    fs/ext4/ialloc.c). Deleting a 10,000-item run's site, caches and state (about 5,600 inodes) made
    each file and folder the next run created cost 0.3-1 ms of system time instead of about 40 µs:
    the next measured run, ours or a peer's, paid for the bench's own clean-up (seen here with
    ``perf record``: ``recently_deleted`` under ``ext4_mkdir`` and ``ext4_create``). A CI runner's
    fresh checkout deletes nothing before it builds."""
    global _registered
    path = Path(path)
    if not os.path.lexists(path):
        return
    try:
        path.resolve().relative_to(TRASH.parent)
    except ValueError:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
        return
    TRASH.mkdir(parents=True, exist_ok=True)
    os.rename(path, TRASH / f"{os.getpid()}-{next(_count)}-{path.name}")
    if not _registered:
        atexit.register(empty_trash)
        _registered = True


def empty_trash() -> None:
    """Delete what ``discard`` moved aside (when a benchmark has measured everything), and note when."""
    if not TRASH.exists():
        return
    print("emptying bench/.corpus/.trash …", file=sys.stderr, flush=True)
    shutil.rmtree(TRASH, ignore_errors=True)
    os.sync()
    EMPTIED.parent.mkdir(parents=True, exist_ok=True)
    EMPTIED.write_text(f"{time.time():.3f}\n", encoding="utf-8")


def settle_note() -> str | None:
    """A warning to print before measuring, when a benchmark emptied the trash only minutes ago."""
    try:
        ago = time.time() - float(EMPTIED.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not -60 < ago < SETTLE:  # ahead of now: a clock set back since; taken as just now
        return None
    ago = max(ago, 0.0)
    return (f"note: the benchmarks' trash was emptied {ago:.0f} s ago; on ext4 without a journal, files "
            f"created in the next {SETTLE - ago:.0f} s may cost more system time (bench/corpus.py, discard)")


def generate(root: Path, n: int, seed: int = 1, channels_per_item: int = 3, start: datetime | None = None,
             days: int = 120) -> Path:
    """Write publish.yml and ``n`` items under ``root`` (replacing what was there), their times over the
    ``days`` from ``start`` (naive, the corpus's timezone; default 2026-09-01 09:00). Returns ``root``."""
    root = Path(root)
    discard(root)
    (root / "content").mkdir(parents=True)
    (root / "publish.yml").write_text(SETTINGS, encoding="utf-8")
    rng = random.Random(seed)
    start = start or datetime(2026, 9, 1, 9, 0)
    made_dirs: set[Path] = set()
    for i in range(n):
        rel, text = _item(rng, i, start, channels_per_item, days)
        path = root / rel
        if path.parent not in made_dirs:
            path.parent.mkdir(parents=True, exist_ok=True)
            made_dirs.add(path.parent)
        path.write_text(text, encoding="utf-8")
    return root


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "bench/.corpus/1000")
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    generate(target, count)
    print(f"wrote {count} items to {target}")
