"""The report is the same on every state backend: the files backend folds snapshot rows in Python, the
postgres backend asks the database (``StateStore.period_metrics``, ``newsroom/state/periods.py``). On
generated histories (several pulls of one post, ties, rows stored out of order, later rows with fewer
metrics, windows with no rows, days in a timezone with a DST change) both give the same answer, and
``publish report`` prints the same bytes."""
from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from newsroom.state import open_store
from newsroom.times import stamp

from test_report_numbers import ARGS, FILES, SETTINGS, build_history

BERLIN = ZoneInfo("Europe/Berlin")
START = datetime(2026, 3, 10, tzinfo=timezone.utc)
METRICS = ("likes", "shares", "replies", "views", "impressions", "clicks")


def generated_rows(rng: random.Random, entries: int = 12, pulls: int = 40) -> list[list[dict]]:
    """Batches of snapshot rows as pulls store them, with the awkward cases on purpose."""
    keys = [f"i{k}/{rng.choice(['mastodon', 'x', 'bluesky'])}" for k in range(entries)]
    totals = {key: {} for key in keys}
    batches = []
    for p in range(pulls):
        rows = []
        at = START + timedelta(hours=rng.choice([0, 1, 5, 11, 23]) + p * 13, minutes=rng.choice([0, 0, 30]))
        for key in rng.sample(keys, rng.randint(1, len(keys))):
            got = totals[key]
            for name in rng.sample(METRICS, rng.randint(0, 4)):  # sometimes fewer metrics, sometimes none
                got[name] = got.get(name, 0) + rng.randint(0, 9)
            when = at - timedelta(days=rng.randint(0, 3)) if rng.random() < 0.1 else at  # stored late
            row = {"at": stamp(when), "entry": key, "item": key.split("/")[0], "channel": key.split("/")[1],
                   "metrics": dict(got), "pull": f"p{p}", "slot": stamp(when)}
            rows.append(row)
            if rng.random() < 0.15:  # the same stamp again: a tie, the row stored later wins
                rows.append({**row, "metrics": {k: v + 1 for k, v in got.items()}, "slot": f"again-{p}"})
        batches.append(rows)
    return batches


def local_bounds(since: datetime, until: datetime) -> list[str]:
    """Where each Berlin day after the first starts, as the report computes them."""
    first = since.astimezone(BERLIN).date()
    last = (until - timedelta(microseconds=1)).astimezone(BERLIN).date()
    days = [first + timedelta(days=i) for i in range(1, (last - first).days + 1)]
    return [stamp(datetime(d.year, d.month, d.day, tzinfo=BERLIN)) for d in days]


@pytest.mark.parametrize("seed", range(3))
def test_both_backends_read_the_same_latest_values_of_generated_histories(tmp_path, pg_url, seed):
    rng = random.Random(seed)
    files = open_store(tmp_path, {"backend": "files", "path": "state"})
    postgres = open_store(tmp_path, {"backend": "postgres", "url": pg_url, "project": f"seed-{seed}"})
    for batch in generated_rows(rng):
        assert files.add_snapshots(batch) == postgres.add_snapshots(batch)
    windows = [(START + timedelta(days=7), timedelta(days=7)),  # across the DST change (29 March)
               (START + timedelta(days=14, hours=5), timedelta(days=3, hours=2)),
               (START + timedelta(days=2), timedelta(hours=6)),  # one day, no bound
               (START - timedelta(days=30), timedelta(days=5)),  # before every row: empty
               (START + timedelta(days=90), timedelta(days=30))]  # after every row: empty
    windows += [(START + timedelta(hours=rng.randint(0, 600)), timedelta(hours=rng.randint(1, 400)))
                for _ in range(6)]
    seen = 0
    for since, length in windows:
        until, prev_since = since + length, since - length
        args = (stamp(since), stamp(until), stamp(prev_since), local_bounds(since, until))
        expected = files.period_metrics(*args)
        assert postgres.period_metrics(*args) == expected, (since, length)
        seen += bool(expected[0])
    assert seen >= 5  # most windows hold rows: the comparison is not between two empty answers


@pytest.mark.parametrize("by", ["channel", "item", "tag"])
def test_publish_report_prints_the_same_on_postgres_as_on_files(cli, project, pg_url, monkeypatch, by):
    root = project(FILES, SETTINGS)
    build_history(root)
    extra = generated_rows(random.Random(7), entries=5, pulls=30)
    store = open_store(root, {"backend": "files", "path": "state"})
    for batch in extra:
        store.add_snapshots([{**r, "entry": f"{'abc'[int(r['entry'][1]) % 3]}/{r['channel']}"} for r in batch])
    wide = ("--since", "2026-03-12T00:00Z", "--until", "2026-04-02T00:00Z")
    asks = [(fmt, period) for fmt in ("json", "md") for period in (ARGS, wide)]
    on_files = [cli(root, "report", *period, "--by", by, "--format", fmt).output for fmt, period in asks]
    assert json.loads(on_files[1])["totals"]["posts"] >= 5  # the wide period holds the generated rows too

    monkeypatch.setenv("DATABASE_URL", pg_url)
    (root / "publish.yml").write_text(SETTINGS + "state:\n  backend: postgres\n  url: env:DATABASE_URL\n")
    moved = cli(root, "state", "import", str(root / "state"))
    assert moved.exit_code == 0, moved.output
    for (fmt, period), text in zip(asks, on_files):
        assert cli(root, "report", *period, "--by", by, "--format", fmt).output == text, (fmt, period)
