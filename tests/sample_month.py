"""Record ``sample/state``: one month of engagement for the sample newsroom, captured from loopback
stand-ins (``python tests/sample_month.py``; the same seed gives the same month).

The sample's publish.yml is copied to a scratch folder with each service's address replaced by a
loopback server (listmonk, Mastodon, a webhook receiver, Plausible). Each item is published by
``publish.py publish`` at its time; every evening ``publish.py pull`` stores what the servers say,
and between two pulls the servers' counters grow as readers would (opens and clicks on the
campaigns, favourites and boosts on the posts, page views and tagged visits in the analytics). The
scratch folder's ``state/`` then replaces ``sample/state``. Nothing leaves this machine.
"""
from __future__ import annotations

import math
import random
import shutil
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SAMPLE = ROOT / "sample"
MONTH = (datetime(2026, 11, 1, tzinfo=timezone.utc), datetime(2026, 12, 1, tzinfo=timezone.utc))
SEED = 2026_11

#: item → (publish time UTC, how much attention it gets)
ITEMS = {"welcome": (datetime(2026, 11, 3, 8, 0, tzinfo=timezone.utc), 0.8),
         "autumn-release": (datetime(2026, 11, 10, 8, 0, tzinfo=timezone.utc), 1.6),
         "fjord-bikes": (datetime(2026, 11, 13, 9, 0, tzinfo=timezone.utc), 0.7),
         "webinar": (datetime(2026, 11, 17, 8, 0, tzinfo=timezone.utc), 1.0),
         "black-friday": (datetime(2026, 11, 24, 7, 0, tzinfo=timezone.utc), 1.9)}
LIST_SIZE = {2: 1800, 3: 420, 1: 2200}  # listmonk list id → subscribers


def _decay(days: float) -> float:
    return math.exp(-days / 2.5)


def pull_at(root: Path, env: dict, now: datetime) -> None:
    """``publish.py pull`` as of ``now`` (the command reads the real clock; the month needs its own)."""
    from newsroom.state import store_of
    from reports.pull import pull
    from scheduler.project import load_project

    project = load_project(root)
    result = pull(project, store_of(project), env=env, now=now, clock=lambda: now, feeds=False, sleep=lambda s: None)
    if result.failures:
        raise SystemExit(f"pull at {now}: {result.failures}")


def record(out: Path = SAMPLE / "state", seed: int = SEED, sample: Path = SAMPLE) -> Path:
    sys.path.insert(0, str(HERE))
    from click.testing import CliRunner

    from hookserver import HookServer
    from publish import cli
    from servers.listmonk import ListmonkServer
    from servers.mastodon import MastodonServer
    from servers.plausible import PlausibleServer

    rng = random.Random(seed)
    runner = CliRunner()
    with tempfile.TemporaryDirectory() as scratch, ListmonkServer() as lists, MastodonServer() as masto, \
            HookServer() as hook, PlausibleServer(site="news.northwind.example", hourly_limit=10_000) as plausible:
        root = Path(scratch)
        shutil.copytree(sample / "content", root / "content")
        settings = (sample / "publish.yml").read_text(encoding="utf-8")
        settings = (settings.replace("https://lists.northwind.example", lists.url)
                    .replace("https://mastodon.social", masto.url)
                    .replace("    token: env:PLAUSIBLE_API_KEY", f"    token: env:PLAUSIBLE_API_KEY\n    url: {plausible.url}"))
        (root / "publish.yml").write_text(settings, encoding="utf-8")
        env = {"LISTMONK_TOKEN": lists.token, "MASTODON_TOKEN": masto.token, "PARTNER_WEBHOOK_URL": hook.url,
               "PARTNER_WEBHOOK_SECRET": "sample-secret", "PLAUSIBLE_API_KEY": plausible.key,
               "GITHUB_STEP_SUMMARY": ""}

        def run(*args):
            result = runner.invoke(cli, ["--root", str(root), *args], env=env, catch_exceptions=False)
            if result.exit_code not in (0, 1):
                raise SystemExit(f"publish.py {' '.join(args)} failed:\n{result.output}")
            return result

        published: dict[str, datetime] = {}
        campaigns: dict[int, dict] = {}  # listmonk campaign id → cumulative figures
        statuses: dict[str, tuple[str, float]] = {}  # mastodon status id → (item, weight)
        visitor = 0
        day = MONTH[0]
        while day < MONTH[1]:
            for slug, (at, _) in ITEMS.items():
                if day <= at < day + timedelta(days=1):
                    run("publish", "--now", (at + timedelta(minutes=5)).isoformat())
                    published[slug] = at
                    for cid, c in lists.campaigns.items():
                        if cid not in campaigns:
                            campaigns[cid] = {"item": slug, "list": c["lists"][0]["id"], "at": at}
                    for sid, s in masto.statuses.items():
                        if sid not in statuses:
                            statuses[sid] = (slug, ITEMS[slug][1])
            evening = day + timedelta(hours=21)
            for slug, at in published.items():  # a day of readers for each item out so far
                weight = ITEMS[slug][1]
                age = (evening - at).total_seconds() / 86400
                share = _decay(max(0.0, age - 1)) - _decay(age) if age > 1 else 1 - _decay(age)
                path = f"/{slug}"
                for source, medium, base in (("mastodon", "social", 70), ("newsletter", "email", 110),
                                             ("partner", "webhook", 25), ("", "", 160)):
                    if source == "partner" and slug not in ("autumn-release", "webinar"):
                        continue
                    if source == "newsletter" and slug == "fjord-bikes":
                        continue
                    n = int(base * weight * share * rng.uniform(0.8, 1.2))
                    for _ in range(n):
                        visitor += 1
                        when = min(evening - timedelta(minutes=1), at + timedelta(hours=rng.uniform(0, max(1, age * 24))))
                        pages = [path] + (["/pricing"] if rng.random() < 0.25 else [])
                        campaign = {"welcome": "launch"}.get(slug, slug if slug != "fjord-bikes" else "")
                        plausible.visit(when, pages, visitor=f"v{rng.randrange(1400)}", visit=f"s{visitor}",
                                        utm_source=source, utm_medium=medium,
                                        utm_campaign=campaign if source else "")
            for cid, c in campaigns.items():  # opens and clicks arrive mostly in the first two days
                age = (evening - c["at"]).total_seconds() / 86400
                size = LIST_SIZE[c["list"]]
                weight = ITEMS[c["item"]][1] * (1.25 if c["list"] == 3 else 1.0)  # enterprise reads more
                done = 1 - _decay(age * 1.6)
                lists.finish(cid, sent=size, views=int(size * min(0.7, 0.3 * weight) * done),
                             clicks=int(size * min(0.12, 0.045 * weight) * done), bounces=int(size * 0.006))
            for sid, (slug, weight) in statuses.items():
                age = (evening - published[slug]).total_seconds() / 86400
                done = 1 - _decay(age)
                s = masto.statuses[sid]
                s["favourites_count"] = int(60 * weight * done)
                s["reblogs_count"] = int(18 * weight * done)
                s["replies_count"] = int(5 * weight * done)
            pull_at(root, env, evening)
            day += timedelta(days=1)
        if out.exists():
            shutil.rmtree(out)
        shutil.copytree(root / "state", out)
        # the stand-ins answer with their own host names: show the sample's
        ledger = out / "ledger.jsonl"
        ledger.write_text(ledger.read_text(encoding="utf-8").replace("https://mastodon.test/", "https://mastodon.social/"),
                          encoding="utf-8")
    return out


if __name__ == "__main__":
    print(f"recorded {record()}")
