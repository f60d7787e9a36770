"""The conversation inbox: newest first, answered when our own account replied, age of the rest."""
from __future__ import annotations

import json
from datetime import datetime, timezone

from test_report_numbers import FILES, SETTINGS, build_history

NOW = datetime(2026, 3, 30, 12, 0, tzinfo=timezone.utc)


def test_answered_and_unanswered_with_ages(project):
    from newsroom.times import zone
    from reports import inbox

    store = build_history(project(FILES, SETTINGS))
    items = inbox.load(store)
    assert [(c.id, c.answered) for c in items] == [("r2", True), ("r1", True), ("r4", True), ("r3", False),
                                                    ("r5", False)]
    assert items[0].time_to_answer().total_seconds() == 1800
    text = inbox.render([c for c in items if not c.answered], NOW, zone("Europe/Berlin"))
    assert text.splitlines() == [
        "2026-03-25 10:00  reply   mastodon     @erin                UNANSWERED for 5d 3h",
        "    text r3",
        "    https://social.test/r3",
        "2026-03-20 10:00  reply   mastodon     @gina                UNANSWERED for 10d 3h",
        "    text r5",
        "    https://social.test/r5",
        "2 conversations, 2 unanswered"]
    full = inbox.render(items, NOW, zone("Europe/Berlin"))
    assert "2026-03-26 01:00  reply   x            @frank               answered after 4d 6h" in full
    assert "2026-03-29 10:00  reply   x            @dave                answered after 30m" in full


def test_cli_unanswered_json(project, cli):
    root = project(FILES, SETTINGS)
    build_history(root)
    rows = json.loads(cli(root, "inbox", "--unanswered", "--format", "json").output)
    assert [(r["id"], r["channel"], r["author"], r["answered"], r["at"]) for r in rows] == [
        ("r3", "mastodon", "@erin", False, "2026-03-25T09:00:00Z"),
        ("r5", "mastodon", "@gina", False, "2026-03-20T09:00:00Z")]
    assert all(r["age_seconds"] > 0 for r in rows)
    everything = json.loads(cli(root, "inbox", "--format", "json").output)
    r1 = next(r for r in everything if r["id"] == "r1")
    assert (r1["answered"], r1["answered_at"], r1["age_seconds"]) == (True, "2026-03-28T12:00:00Z", None)
