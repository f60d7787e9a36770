"""`publish.py calendar`: agenda, week, month, filters, json, csv and the iCalendar feed read back by a real parser."""
import csv
import io
import json
from datetime import datetime, timedelta, timezone

import pytest

from conftest import BASE_SETTINGS, ROOT, item

UTC = timezone.utc
APPROVED = dict(status="approved", author="ana", approved_by="ben")
NOW = "2026-11-30T08:00Z"  # Monday 30 November, 09:00 in Berlin

SETTINGS = BASE_SETTINGS + """\
  newsletter:
    type: email
    from: news@news.test
    unsubscribe_url: https://news.test/u?t={token}
"""


def files():
    return {
        "content/launch.md": item("Launch; big, bold", publish_at="2026-12-01T09:00", campaign="launch",
                                  channels={"blog": {}, "mastodon": {"at": "+30m"}, "newsletter": {"at": "+1d"}},
                                  **APPROVED),
        "content/clash.md": item("Clash", publish_at="2026-12-01T09:30", campaign="launch", channels=["mastodon"],
                                 **APPROVED),
        "content/draft.md": item("Draft idea", status="draft", author="cleo", publish_at="2026-12-02T14:00",
                                 channels=["blog"]),
        "content/far.md": item("Far away", publish_at="2027-01-20T10:00", channels=["blog"], **APPROVED),
        "content/tokyo.md": item("東京 pop-up", publish_at="2026-12-03T10:00", timezone="Asia/Tokyo",
                                 channels=["mastodon"], **APPROVED),
    }


@pytest.fixture
def root(project):
    return project(files(), settings=SETTINGS)


def test_agenda_groups_by_day_for_two_weeks_by_default(cli, root):
    result = cli(root, "calendar", "--now", NOW)
    assert result.exit_code == 0
    out = result.output
    assert out.startswith("Calendar 2026-11-30 – 2026-12-14 (Europe/Berlin)\n")
    assert "Far away" not in out  # beyond 14 days
    tue = out.index("Tue 1 Dec 2026")
    assert tue < out.index("  09:00  blog        approved  Launch; big, bold") < out.index("Wed 2 Dec 2026")
    assert "  09:30  mastodon    approved  Launch; big, bold ! conflict" in out
    assert "  09:30  mastodon    approved  Clash ! conflict" in out
    assert "  02:00  mastodon    approved  東京 pop-up" in out  # 10:00 in Tokyo is 02:00 in Berlin
    assert "\x1b[" not in out  # piped: no colours


def test_colours_only_on_a_terminal(cli, root):
    from click.testing import CliRunner
    from publish import cli as group

    out = CliRunner().invoke(group, ["--root", str(root), "calendar", "--now", NOW], color=True).output
    assert "\x1b[32mapproved \x1b[0m" in out and "\x1b[33mdraft    \x1b[0m" in out
    assert "\x1b[31m\x1b[1m! conflict\x1b[0m" in out


def test_tz_override_moves_entries_across_days(cli, root):
    out = cli(root, "calendar", "--now", NOW, "--tz", "Asia/Tokyo").output
    assert "(Asia/Tokyo)" in out
    assert out.index("Thu 3 Dec 2026") < out.index("  10:00  mastodon    approved  東京 pop-up")


def test_week_and_month(cli, root):
    week = cli(root, "calendar", "--now", NOW, "--week").output
    assert week.startswith("Calendar 2026-11-30 – 2026-12-06")
    assert "Sun 6 Dec 2026\n  –" in week  # empty days are shown in the week view
    month = cli(root, "calendar", "--now", "2026-12-10T00:00Z", "--month").output.splitlines()
    assert month[0] == "December 2026 (Europe/Berlin)"
    assert month[1].split() == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    # Week of 30 November: Tue 1 has 3 entries and a conflict, Wed 2 has 2 and a draft that was due, Thu 3 has 1.
    cells = [month[2][i * 13:i * 13 + 12].rstrip() for i in range(7)]
    assert cells == ["", " 1 3 posts !", " 2 2 posts !", " 3 1 post", " 4", " 5", " 6"]


def test_filters(cli, root):
    def keys(*args):
        out = cli(root, "calendar", "--now", NOW, "--format", "json", *args).output
        return sorted(r["key"] for r in json.loads(out))

    assert keys("--channel", "mastodon") == ["clash/mastodon", "launch/mastodon", "tokyo/mastodon"]
    assert keys("--campaign", "launch", "--channel", "blog") == ["launch/blog"]
    assert keys("--status", "draft") == ["draft/blog"]
    assert keys("--author", "CLEO") == ["draft/blog"]
    assert keys("--since", "2026-12-02", "--until", "2026-12-03") == ["draft/blog", "launch/newsletter"]
    assert len(keys()) == 7  # json without a range: everything
    assert keys("--week") == ["clash/mastodon", "draft/blog", "launch/blog", "launch/mastodon", "launch/newsletter",
                              "tokyo/mastodon"]  # 30 November to 6 December


def test_json_and_csv_have_every_field(cli, root):
    from scheduler.views import FIELDS

    rows = json.loads(cli(root, "calendar", "--now", NOW, "--format", "json", "--channel", "newsletter").output)
    assert rows == [{
        "key": "launch/newsletter", "item_id": "launch", "slug": "launch", "path": "content/launch.md",
        "title": "Launch; big, bold", "channel": "newsletter", "type": "email", "at": "2026-12-02T08:00:00Z",
        "local": "2026-12-02T09:00+01:00", "date": "2026-12-02", "time": "09:00", "source": "offset",
        "state": "approved", "status": "approved", "enabled": True, "segment": None, "campaign": "launch",
        "author": "ana", "priority": 0, "tags": [], "approved_at": None, "expires_at": None, "flags": [], "notes": [],
        "after": ["blog (links to its page)"], "waiting": None}]
    text = cli(root, "calendar", "--now", NOW, "--format", "csv").output
    table = list(csv.DictReader(io.StringIO(text)))
    assert tuple(table[0]) == FIELDS and len(table) == 7
    clash = next(r for r in table if r["key"] == "clash/mastodon")
    assert clash["flags"] == "conflict" and clash["local"] == "2026-12-01T09:30+01:00" and clash["enabled"] == "true"


def test_ics_round_trip_every_event(cli, root):
    from icalendar import Calendar

    text = cli(root, "calendar", "--now", NOW, "--format", "ics").stdout_bytes.decode("utf-8")
    assert text.endswith("END:VCALENDAR\r\n") and "\n" not in text.replace("\r\n", "") and all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    cal = Calendar.from_ical(text)
    rows = json.loads(cli(root, "calendar", "--now", NOW, "--format", "json").output)
    events = {str(e["UID"]): e for e in cal.walk("VEVENT")}
    assert len(events) == len(rows) == 7
    from scheduler.ics import uid
    for r in rows:
        e = events[uid(r["key"], "https://news.test")]
        start = e.decoded("DTSTART")
        assert start == datetime.fromisoformat(r["at"].replace("Z", "+00:00"))
        assert start.utcoffset() == timedelta(0)
        assert e.decoded("DTEND") - start == timedelta(minutes=15)
        assert str(e["SUMMARY"]) == f"[{r['channel']}] {r['title']}"
        desc = str(e["DESCRIPTION"])
        assert f"Status: {r['state']}" in desc and f"Item: {r['path']}" in desc
        assert f"Campaign: {r['campaign'] or '-'}" in desc
        assert [str(c) for c in e["CATEGORIES"].cats] == [r["channel"], r["state"]]
    draft = events[uid("draft/blog", "https://news.test")]
    assert str(draft["STATUS"]) == "TENTATIVE"
    assert "Flags: conflict" in str(events[uid("clash/mastodon", "https://news.test")]["DESCRIPTION"])


def test_disabled_entries_are_marked_and_left_out_of_feeds(cli, project):
    from icalendar import Calendar

    root = project({"content/x.md": item("X", publish_at="2026-12-01T09:00",
                                         channels={"blog": {}, "mastodon": {"enabled": False}}, **APPROVED)},
                   settings=SETTINGS)
    assert "  09:00  mastodon  approved  X (disabled)" in cli(root, "calendar", "--now", NOW).output
    cal = Calendar.from_ical(cli(root, "calendar", "--now", NOW, "--format", "ics").stdout_bytes)
    assert [str(e["SUMMARY"]) for e in cal.walk("VEVENT")] == ["[blog] X"]


def test_ics_uid_is_stable_when_an_entry_moves(cli, project):
    from icalendar import Calendar

    a = project({"content/x.md": item("X", publish_at="2026-12-01T09:00", channels=["blog"], **APPROVED)}, settings=SETTINGS)
    b = project({"content/x.md": item("X", publish_at="2026-12-05T15:00", channels=["blog"], **APPROVED)}, settings=SETTINGS)
    ev = [next(iter(Calendar.from_ical(cli(r, "calendar", "--now", NOW, "--format", "ics").stdout_bytes).walk("VEVENT")))
          for r in (a, b)]
    assert ev[0]["UID"] == ev[1]["UID"]
    assert ev[0].decoded("DTSTART") != ev[1].decoded("DTSTART")


def test_ics_split_writes_one_feed_per_channel(cli, root):
    from icalendar import Calendar

    result = cli(root, "calendar", "--now", NOW, "--format", "ics", "--split", "channel")
    assert result.exit_code == 0
    assert "wrote public/calendar/mastodon.ics (3 entries)" in result.output
    folder = root / "public" / "calendar"
    assert sorted(p.name for p in folder.iterdir()) == ["blog.ics", "mastodon.ics", "newsletter.ics"]
    for name, n in (("blog", 3), ("mastodon", 3), ("newsletter", 1)):
        cal = Calendar.from_ical((folder / f"{name}.ics").read_bytes())
        events = list(cal.walk("VEVENT"))
        assert len(events) == n and all(str(e["SUMMARY"]).startswith(f"[{name}] ") for e in events)
        assert str(cal["X-WR-CALNAME"]) == f"Test Newsroom · {name}"


@pytest.mark.parametrize("args, message", [
    (("--tz", "Mars/Olympus"), "error: --tz: 'Mars/Olympus' is not a known timezone (use an IANA name such as Europe/Berlin or UTC)"),
    (("--since", "yesterday"), "error: --since: 'yesterday' is not a date (use 2026-11-27 or 2026-11-27T09:00)"),
    (("--now", "soon"), "error: --now: 'soon' is not a date-time (use 2026-11-27T09:00Z or 2026-11-27T09:00+01:00)"),
    (("--format", "md"), "error: --format md is the --diff output; add --diff REV"),
])
def test_bad_options_one_clear_message(cli, root, args, message):
    result = cli(root, "calendar", *args)
    assert result.exit_code == 2
    assert result.output.strip() == message


def test_example_project_calendar(cli):
    rows = json.loads(cli(ROOT, "calendar", "--now", "2026-11-16T00:00Z", "--format", "json").output)
    tokyo = [r for r in rows if r["slug"] == "tokyo-pop-up"]
    assert {(r["channel"], r["local"], r["source"]) for r in tokyo} == {
        ("bluesky", "2026-12-07T02:00+01:00", "publish_at"), ("x", "2026-12-07T02:00+01:00", "publish_at"),
        ("mastodon", "2026-12-07T09:30+01:00", "slot")}


@pytest.mark.parametrize("rules, message", [
    ("calendar:\n  timezone: Mars/Olympus\n",
     "publish.yml:17: calendar.timezone: 'Mars/Olympus' is not a known timezone (use an IANA name such as Europe/Berlin or UTC)"),
    ("calendar:\n  slots:\n    - days: weekdays\n      times: ['9am']\n",
     "publish.yml:19: calendar.slots[0].times[0]: '9am' is not a time of day (use HH:MM, e.g. 09:00)"),
    ("calendar:\n  blackout: [christmas]\n",
     "publish.yml:17: calendar.blackout[0]: blackout 'christmas' is not a date (use YYYY-MM-DD, e.g. 2026-11-27)"),
    ("calendar:\n  groups:\n    social: {channels: [mastodon, twitter], max_per_day: 2}\n",
     "publish.yml:18: calendar.groups.social.channels[1]: no channel named 'twitter' (channels: blog, mastodon, newsletter)"),
])
def test_bad_rules_stop_the_calendar_with_one_clear_message(cli, project, rules, message):
    root = project(files(), settings=SETTINGS + rules)
    for command in (("calendar",), ("plan",)):
        result = cli(root, *command, "--now", NOW)
        assert result.exit_code == 2
        assert result.output == f"error: {message}\npublish.yml has errors; fix them first " \
                                "(python publish.py check lists everything).\n"
