"""pull then report --format html on the example project against loopback platforms, looked at in
headless Chromium: the page renders its charts and figures, and a screenshot is a real page. (The
README's picture, docs/report.png, is the sample month's report: tests/test_sample_report.py.)"""
from __future__ import annotations

import random
import shutil
import struct
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

import loopback
from conftest import ROOT

CHROMIUM = "/usr/bin/chromium"
SOCIAL = ("mastodon", "bluesky", "linkedin", "x")


def example_project(tmp: Path, servers: dict[str, str]) -> Path:
    root = tmp / "example"
    shutil.copytree(ROOT / "content", root / "content")
    shutil.copytree(ROOT / "audience", root / "audience")
    settings = yaml.safe_load((ROOT / "publish.yml").read_text(encoding="utf-8"))
    for name, url in servers.items():
        settings["channels"][name] = {"type": "loopback", "server": url, "token": "env:LOOP_TOKEN",
                                      "account": "@northwind"}
    (root / "publish.yml").write_text(yaml.safe_dump(settings, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return root


@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed")
def test_pull_then_html_report_in_chromium(tmp_path, monkeypatch, cli):
    from newsroom.state import FileStore
    from scheduler.project import load_project as load
    from reports.pull import pull
    from newsroom.state import open_store

    loopback.register(monkeypatch)
    rng = random.Random(7)
    platforms = {name: loopback.Platform() for name in SOCIAL}
    for p in platforms.values():
        p.__enter__()
    try:
        root = example_project(tmp_path, {n: p.url for n, p in platforms.items()})
        project = load(root)
        now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
        start = now - timedelta(days=14)
        events, posts = [], []
        for n, item in enumerate(sorted(project.items, key=lambda i: i.id)):
            for channel in item.channels:
                if channel not in platforms:
                    continue
                at = start + timedelta(days=rng.uniform(0, 12), hours=rng.choice([-3, 0, 2, 5]))
                rid = f"{channel[:2]}{n}"
                events.append({"event": "delivered", "entry": f"{item.id}/{channel}", "at": at.isoformat(),
                               "revision": item.revision,
                               "receipt": {"remote_id": rid, "url": f"https://{channel}.example/@northwind/{rid}",
                                           "at": at.isoformat(), "parts": [], "data": {}}})
                posts.append((channel, rid, at, rng.uniform(0.5, 3)))
        FileStore(root / "state").append(events)
        for channel, rid, at, pull_ in posts:
            for k in range(rng.randint(1, 4)):
                rid_r = f"{rid}-r{k}"
                when = at + timedelta(hours=rng.uniform(1, 30))
                platforms[channel].replies.append({"id": rid_r, "in_reply_to": rid, "author": f"@reader{k}",
                                                   "text": "Great news!", "at": when.isoformat()})
                if rng.random() < 0.6:
                    platforms[channel].replies.append({"id": rid_r + "-a", "in_reply_to": rid_r,
                                                       "author": "@northwind", "text": "Thank you!",
                                                       "at": (when + timedelta(hours=rng.uniform(0.2, 9))).isoformat()})
        store = open_store(root, project.settings.state)
        env = {"LOOP_TOKEN": "sekret"}
        t = start
        while t <= now:  # a pull every 6 hours for two weeks, the numbers growing between them
            for channel, rid, at, pull_ in posts:
                age = max(0.0, (t - at).total_seconds() / 3600)
                grow = 1 - 0.5 ** (age / 12)
                platforms[channel].metrics[rid] = {
                    "favourites": int(60 * pull_ * grow), "reblogs": int(14 * pull_ * grow),
                    "replies": int(5 * pull_ * grow), "impressions": int(2400 * pull_ * grow) if channel in ("x", "linkedin") else None}
            pull(project, store, env=env, now=t, feeds=False, sleep=lambda s: None)
            t += timedelta(hours=6)
    finally:
        for p in platforms.values():
            p.__exit__()

    out = tmp_path / "report.html"
    result = cli(root, "report", "--since", "14d", "--format", "html", "--output", str(out), env=env)
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert "<script" not in page and "cdn" not in page.lower()
    assert page.count("<svg") >= 3 and "trend-interactions" in page

    # Chromium prints the DOM after layout: the SVG charts are there, every figure rendered.
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'chromium'}", "--hide-scrollbars"]
    dom = subprocess.run([CHROMIUM, *flags, "--dump-dom", out.as_uri()], capture_output=True, text=True, timeout=90)
    assert "Engagement report: Northwind Notes" in dom.stdout
    assert dom.stdout.count("data-cell=") == 7 * 24 * len(SOCIAL)

    shot = tmp_path / "report.png"
    subprocess.run([CHROMIUM, *flags, f"--screenshot={shot}", "--window-size=1200,2200", out.as_uri()],
                   capture_output=True, timeout=90)
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1200, 2200) and len(data) > 50_000  # a real page, not a blank one
