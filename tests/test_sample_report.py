"""The report a newcomer gets on a fresh clone: the example's publish.yml points `report` at the
recorded month in sample/ (``report: {sample: sample}``), shown labelled as sample data until the
project has pulled engagement of its own. The figures the README's picture shows are computed here
by hand from the sample's snapshots; the picture itself (docs/report.png) is taken from this report
in headless Chromium (written when NEWSROOM_SCREENSHOTS=1 or when it is missing)."""
from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
from markupsafe import escape

from conftest import ROOT

LABEL = ("SAMPLE DATA: a recorded month from sample/, not this project's. This project has pulled no "
         "engagement yet; after `publish pull` the report shows its own.")
COLUMNS = ("views", "impressions", "likes", "shares", "replies", "clicks", "opens")
INTERACTIONS = ("likes", "shares", "replies", "quotes", "bookmarks", "clicks")


def fresh_clone(tmp: Path, *, sample: bool = True) -> Path:
    """What a clone holds of the embedded example (state/ is not in git)."""
    root = tmp / "clone"
    for name in ("content", "audience", *(("sample",) if sample else ())):
        shutil.copytree(ROOT / name, root / name, ignore=shutil.ignore_patterns(".cache"))
    shutil.copy(ROOT / "publish.yml", root / "publish.yml")
    return root


def by_hand() -> tuple[dict, dict]:
    """(totals, visits driven per channel): each entry's latest value of each metric in November,
    summed, straight from the sample's snapshot lines."""
    latest: dict[str, dict] = {}
    channel: dict[str, str] = {}
    lines = (ROOT / "sample/state/snapshots/2026-11.jsonl").read_text(encoding="utf-8").splitlines()
    for row in sorted((json.loads(line) for line in lines), key=lambda r: r["at"]):
        latest.setdefault(row["entry"], {}).update(row["metrics"])
        channel[row["entry"]] = row["channel"]
    totals = {k: sum(m.get(k, 0) for m in latest.values()) for k in COLUMNS}
    totals["interactions"] = sum(m.get(k, 0) for m in latest.values() for k in INTERACTIONS)
    visits: dict[str, int] = {}
    for entry, m in latest.items():
        if "visits" in m:
            visits[channel[entry]] = visits.get(channel[entry], 0) + m["visits"]
    return totals, visits


def test_a_fresh_clone_reports_the_sample_month_labelled(tmp_path, cli):
    root = fresh_clone(tmp_path)
    out = tmp_path / "report.html"
    assert cli(root, "report", "--format", "html", "-o", str(out)).exit_code == 0
    page = out.read_text(encoding="utf-8")
    totals, visits = by_hand()
    assert totals["views"] > 0 and totals["opens"] > 0 and totals["likes"] > 0  # a month with data in it
    # labelled in the page's title, on its first line, and in the site's own title
    assert "<title>SAMPLE DATA · Engagement report: Northwind Notes (sample data)</title>" in page
    assert f'<p class="sample" id="sample">{escape(LABEL)}</p><h1>Engagement report: ' in page
    assert "2026-11-01 00:00 – 2026-12-01 00:00 (Europe/Berlin)" in page  # the recorded month, not the last 30 days
    cards = dict(re.findall(r'<div class="card"><span>([a-z ]+)</span><b>([^<]+)</b>', page))
    for k in (*COLUMNS, "interactions"):
        assert cards[k] == f"{totals[k]:,}", k
    assert "no data yet" not in page.lower() and page.count("<svg") >= 8

    data = json.loads(cli(root, "report", "--format", "json").stdout)
    assert data["sample"] == LABEL
    assert {k: data["totals"][k] for k in (*COLUMNS, "interactions")} == totals
    assert {c["channel"]: c["visits"] for c in data["owned"]["by_channel"]} == visits
    assert cli(root, "report", "--format", "md").stdout.startswith(f"> **{LABEL}**\n\n# Engagement report: ")
    assert cli(root, "report").stdout.startswith(f"{LABEL}\n\nEngagement report: Northwind Notes (sample data)\n")
    # --since/--until as typed still apply to the sample
    week = json.loads(cli(root, "report", "--since", "2026-11-24", "--until", "2026-11-30", "--format", "json").stdout)
    assert week["sample"] == LABEL and week["period"]["since"] == "2026-11-23T23:00:00Z"
    # the sample is read, never written into the project's own state
    assert not (root / "state").exists() or not list((root / "state").rglob("*.jsonl"))


def test_the_projects_own_report_once_it_has_pulled_and_without_a_sample_folder(tmp_path, cli):
    from newsroom.state import FileStore

    root = fresh_clone(tmp_path)
    FileStore(root / "state").record_pull({"at": "2026-11-30T21:00:00Z", "event": "finished", "pull": "p1",
                                           "snapshots": 0, "failures": 0, "replies": 0, "mentions": 0})
    own = json.loads(cli(root, "report", "--format", "json").stdout)
    assert "sample" not in own and own["title"] == "Northwind Notes" and own["totals"]["posts"] == 0
    assert "SAMPLE" not in cli(root, "report", "--format", "html").stdout

    bare = fresh_clone(tmp_path / "bare", sample=False)  # `publish init --example` copies no sample/
    shown = json.loads(cli(bare, "report", "--format", "json").stdout)
    assert "sample" not in shown and shown["title"] == "Northwind Notes"


def test_a_sample_path_that_is_not_a_relative_folder_is_refused_by_check(tmp_path, cli):
    root = fresh_clone(tmp_path)
    text = (root / "publish.yml").read_text(encoding="utf-8").replace("  sample: sample", "  sample: /etc")
    (root / "publish.yml").write_text(text, encoding="utf-8")
    line = text.splitlines().index("  sample: /etc") + 1
    result = cli(root, "check", "--offline")
    assert f"publish.yml:{line}: report.sample: '/etc' is not a folder of this repository (a relative path)" \
        in result.output


@pytest.mark.browser
def test_the_readme_picture_is_this_report_in_chromium(tmp_path, cli):
    from bench.chromium import BINARY, Chromium

    if not BINARY.exists():
        pytest.skip(f"needs Chromium at {BINARY}")
    root = fresh_clone(tmp_path)
    out = tmp_path / "report.html"
    assert cli(root, "report", "--format", "html", "-o", str(out)).exit_code == 0
    totals, _ = by_hand()
    with Chromium() as browser:
        browser.viewport(1100, 2300)
        browser.open(out.as_uri())
        shown = browser.js("[...document.querySelectorAll('.card')].map(c => c.innerText.split('\\n'))"
                           ".map(([k, v]) => [k.trim(), v.trim()])")
        banner = browser.js("getComputedStyle(document.getElementById('sample')).display + '|' + "
                            "document.getElementById('sample').getBoundingClientRect().top")
        charts = browser.js("document.querySelectorAll('svg').length")
        shot = tmp_path / "report.png"
        browser.screenshot(shot)
    cards = dict(shown)
    assert [cards[k] for k in ("views", "likes", "clicks", "opens")] == \
        [f"{totals[k]:,}" for k in ("views", "likes", "clicks", "opens")]
    display, top = banner.split("|")
    assert display == "block" and float(top) < 60  # the first thing on the page
    assert charts >= 8
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 50_000
    target = ROOT / "docs" / "report.png"
    if os.environ.get("NEWSROOM_SCREENSHOTS") == "1" or not target.exists():
        shutil.copyfile(shot, target)
