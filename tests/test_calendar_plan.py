"""Planning: times from overrides, offsets and queue slots; DST; several timezones; every calendar rule."""
import json
from datetime import datetime, timezone

from conftest import BASE_SETTINGS, item

UTC = timezone.utc
APPROVED = dict(status="approved", author="ana", approved_by="ben")


def planned(root, now):
    from scheduler.project import load_project as load
    from scheduler.plan import plan

    return plan(load(root), now=now)


def times_of(entries, channel=None):
    return [(e.item.slug, e.channel, e.at.strftime("%Y-%m-%dT%H:%MZ") if e.at else None, e.source)
            for e in entries if channel is None or e.channel == channel]


def with_calendar(text):
    return BASE_SETTINGS + text


def test_daily_slot_across_the_autumn_change_keeps_local_time(project):
    settings = with_calendar("calendar:\n  slots:\n    - days: daily\n      times: ['09:00']\n")
    files = {f"content/q{i}.md": item(f"Q{i}", approved_at=f"2026-10-20T1{i}:00", channels={"blog": {"at": "next"}},
                                      **APPROVED) for i in range(3)}
    root = project(files, settings=settings)
    entries = planned(root, datetime(2026, 10, 23, 12, tzinfo=UTC))
    # 09:00 Berlin is 07:00Z in summer time and 08:00Z once clocks go back on 25 October.
    assert times_of(entries) == [("q0", "blog", "2026-10-24T07:00Z", "slot"), ("q1", "blog", "2026-10-25T08:00Z", "slot"),
                                 ("q2", "blog", "2026-10-26T08:00Z", "slot")]


def test_slot_that_does_not_exist_on_the_spring_change_is_skipped(project):
    from newsroom.model import Rules, Slot
    from newsroom.times import zone
    from scheduler.plan import slot_times
    from datetime import time

    rules = Rules(slots=(Slot(frozenset(range(7)), time(2, 30)),))
    got = slot_times(rules, zone("Europe/Berlin"), datetime(2026, 3, 28, tzinfo=UTC), 3)
    assert [t.isoformat() for t in got] == ["2026-03-28T01:30:00+00:00", "2026-03-30T00:30:00+00:00"]
    # 02:30 happens twice when clocks go back: the slot is taken once, at its first occurrence (summer time).
    got = slot_times(rules, zone("Europe/Berlin"), datetime(2026, 10, 25, tzinfo=UTC), 1)
    assert [t.isoformat() for t in got] == ["2026-10-25T00:30:00+00:00"]


def test_entry_at_0230_on_the_change_day_lands_on_its_day(project, cli):
    root = project({
        "content/autumn.md": item("Autumn", publish_at="2026-10-25T02:30+01:00", channels=["blog"], **APPROVED),
        "content/spring.md": item("Spring", publish_at="2026-03-29T03:30", channels=["blog"], **APPROVED),
    })
    entries = planned(root, datetime(2026, 1, 1, tzinfo=UTC))
    assert times_of(entries) == [("spring", "blog", "2026-03-29T01:30Z", "publish_at"),
                                 ("autumn", "blog", "2026-10-25T01:30Z", "publish_at")]
    rows = json.loads(cli(root, "calendar", "--format", "json", "--since", "2026-01-01", "--until", "2026-12-31",
                          "--now", "2026-01-01T00:00Z").output)
    assert [(r["slug"], r["local"]) for r in rows] == [("spring", "2026-03-29T03:30+02:00"),
                                                      ("autumn", "2026-10-25T02:30+01:00")]


def test_items_in_different_timezones_share_one_calendar(project, cli):
    root = project({
        "content/tokyo.md": item("Tokyo", publish_at="2026-12-07T10:00", timezone="Asia/Tokyo", channels=["blog"], **APPROVED),
        "content/berlin.md": item("Berlin", publish_at="2026-12-07T09:00", channels=["blog"], **APPROVED),
        "content/ny.md": item("New York", publish_at="2026-12-06T20:00", timezone="America/New_York", channels=["blog"],
                              **APPROVED),
    })
    entries = planned(root, datetime(2026, 12, 1, tzinfo=UTC))
    assert sorted(times_of(entries), key=lambda r: r[2]) == times_of(entries)
    got = {e.item.slug: e.at.isoformat() for e in entries}
    assert got == {"tokyo": "2026-12-07T01:00:00+00:00", "ny": "2026-12-07T01:00:00+00:00",
                   "berlin": "2026-12-07T08:00:00+00:00"}
    # Tokyo 10:00 and New York 20:00 the evening before are the same instant: a conflict on the blog.
    assert {e.item.slug for e in entries if "conflict" in e.flags} == {"tokyo", "ny"}
    out = cli(root, "calendar", "--now", "2026-12-01T00:00Z", "--tz", "Asia/Tokyo").output
    assert "Mon 7 Dec 2026" in out and "10:00" in out
    out = cli(root, "calendar", "--now", "2026-12-01T00:00Z").output
    assert "02:00" in out and "09:00" in out  # Berlin


QUEUE_SETTINGS = with_calendar("""\
calendar:
  slots:
    - days: weekdays
      times: ['09:00', '13:00']
""")


def queue_files():
    return {
        "content/low.md": item("Low", priority=0, approved_at="2026-11-01T10:00", channels={"mastodon": {"at": "next"}}, **APPROVED),
        "content/early.md": item("Early", priority=0, approved_at="2026-11-01T09:00", channels=["mastodon"], **APPROVED),
        "content/urgent.md": item("Urgent", priority=5, approved_at="2026-11-02T09:00", channels={"mastodon": {"at": "next"}}, **APPROVED),
        "content/a-tie.md": item("Tie A", priority=0, channels={"mastodon": {"at": "next"}}, **APPROVED),
        "content/b-tie.md": item("Tie B", priority=0, channels={"mastodon": {"at": "next"}}, **APPROVED),
        "content/draft.md": item("Draft", status="draft", channels={"mastodon": {"at": "next"}}),
        "content/fixed.md": item("Fixed", publish_at="2026-11-23T09:00", channels=["mastodon"], **APPROVED),
    }


def test_queue_order_is_priority_then_approval_then_path_and_stable(project):
    now = datetime(2026, 11, 21, 12, tzinfo=UTC)  # a Saturday: the queue starts on Monday
    first = times_of(planned(project(queue_files(), settings=QUEUE_SETTINGS), now))
    by = {slug: at for slug, _, at, _ in first}
    assert by == {"fixed": "2026-11-23T08:00Z", "urgent": "2026-11-23T12:00Z", "early": "2026-11-24T08:00Z",
                  "low": "2026-11-24T12:00Z", "a-tie": "2026-11-25T08:00Z", "b-tie": "2026-11-25T12:00Z",
                  "draft": None}
    # Files written in another order, planned again: the same plan.
    again = dict(reversed(list(queue_files().items())))
    assert times_of(planned(project(again, settings=QUEUE_SETTINGS), now)) == first
    # One more item (no approval time, last by path) joins the end of the queue; nobody ahead of it moves.
    more = {**queue_files(), "content/z-late.md": item("Late", channels={"mastodon": {"at": "next"}}, **APPROVED)}
    later = {slug: at for slug, _, at, _ in times_of(planned(project(more, settings=QUEUE_SETTINGS), now))}
    assert later == {**by, "z-late": "2026-11-26T08:00Z"}
    # A higher priority one goes first and pushes the others back one slot each, in the same order.
    more["content/z-late.md"] = more["content/z-late.md"].replace("title:", "priority: 9\ntitle:")
    pushed = {slug: at for slug, _, at, _ in times_of(planned(project(more, settings=QUEUE_SETTINGS), now))}
    assert [pushed[s] for s in ("z-late", "urgent", "early", "low", "a-tie", "b-tie")] == [
        "2026-11-23T12:00Z", "2026-11-24T08:00Z", "2026-11-24T12:00Z", "2026-11-25T08:00Z", "2026-11-25T12:00Z",
        "2026-11-26T08:00Z"]


def test_queue_respects_the_rules(project):
    settings = with_calendar("""\
calendar:
  slots:
    - days: daily
      times: ['06:00', '09:00', '13:00', '17:00']
  quiet_hours: 22:00-07:00
  blackout:
    - {date: 2026-11-24, reason: Embargo}
  max_per_day: 2
  min_gap: 5h
""")
    files = {f"content/q{i}.md": item(f"Q{i}", approved_at=f"2026-11-01T0{i}:00", channels={"blog": {"at": "next"}},
                                      **APPROVED) for i in range(5)}
    files["content/expiring.md"] = item("Expiring", approved_at="2026-11-02T00:00", expires_at="2026-11-24T00:00",
                                        channels={"blog": {"at": "next"}}, **APPROVED)
    entries = planned(project(files, settings=settings), datetime(2026, 11, 23, tzinfo=UTC))
    got = {e.item.slug: (e.at.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Berlin")).strftime("%d %H:%M")
                         if e.at else None) for e in entries}
    # 06:00 is quiet, 13:00 is 4h after 09:00 (min_gap 5h), the 24th is blacked out, two a day at most.
    assert got == {"q0": "23 09:00", "q1": "23 17:00", "q2": "25 09:00", "q3": "25 17:00", "q4": "26 09:00",
                   "expiring": None}
    expiring = next(e for e in entries if e.item.slug == "expiring")
    assert expiring.flags == ["no_slot", "slots"]


def test_ledger_state_replaces_status_and_keeps_the_time(project):
    from scheduler.project import load_project as load
    from newsroom.state import EntryState
    from scheduler.plan import plan

    root = project(queue_files(), settings=QUEUE_SETTINGS)
    ledger = {"urgent/mastodon": EntryState("urgent/mastodon", state="delivered",
                                            receipt={"at": "2026-11-20T08:00:00Z"}),
              "fixed/mastodon": EntryState("fixed/mastodon", state="failed")}
    entries = plan(load(root), ledger=ledger, now=datetime(2026, 11, 21, 12, tzinfo=UTC))
    by = {e.item.slug: e for e in entries}
    assert (by["urgent"].state, by["urgent"].source, by["urgent"].at.isoformat()) == \
        ("delivered", "ledger", "2026-11-20T08:00:00+00:00")
    assert by["fixed"].state == "failed" and by["draft"].state == "draft"
    assert by["early"].at.isoformat() == "2026-11-23T12:00:00+00:00"  # the slot the delivered one no longer needs


def check_report(cli, root, now):
    result = cli(root, "check", "--format", "json", "--now", now)
    report = json.loads(result.output)
    return result, {(p["path"], p["line"], p["key"], p["severity"], p["message"])
                    for p in report["errors"] + report["warnings"]}


def test_every_rule_is_a_problem_with_the_files_involved(cli, project):
    settings = BASE_SETTINGS.replace("  blog:\n    type: blog\n", """\
  blog:
    type: blog
    max_per_day: 1
  newsletter:
    type: email
    from: news@news.test
    unsubscribe_url: https://news.test/u?t={token}
    quiet_hours: 20:00-08:00
    min_gap: 1d
""") + """\
calendar:
  lead_time: 24h
  blackout:
    - {from: 2026-12-24, to: 2026-12-26, reason: Christmas}
  severity:
    max_per_day: warning
"""
    root = project({
        "content/a.md": item("A", publish_at="2026-12-01T09:00", channels=["blog", "mastodon"], **APPROVED),
        "content/b.md": item("B", publish_at="2026-12-01T15:00", channels=["blog", "newsletter"], **APPROVED),
        "content/c.md": item("C", publish_at="2026-12-01T09:00", channels=["mastodon"], **APPROVED),
        "content/d.md": item("D", publish_at="2026-12-01T21:00", channels=["newsletter"], **APPROVED),
        "content/e.md": item("E", publish_at="2026-12-25T10:00", channels=["mastodon"], **APPROVED),
        "content/f.md": item("F", status="review", reviewers=["ben"], publish_at="2026-11-30T20:00", channels=["mastodon"]),
        "content/g.md": item("G", publish_at="2026-12-10T10:00", expires_at="2026-12-11T00:00",
                             channels={"mastodon": {"at": "+2d"}}, **APPROVED),
    }, settings=settings)
    result, got = check_report(cli, root, "2026-11-30T12:00Z")
    assert result.exit_code == 1
    assert got == {
        ("content/a.md", 4, "publish_at", "warning", "max_per_day: 2 entries on channel 'blog' on 2026-12-01, at most 1 a day (with content/b.md)"),
        ("content/b.md", 4, "publish_at", "warning", "max_per_day: 2 entries on channel 'blog' on 2026-12-01, at most 1 a day (with content/a.md)"),
        ("content/a.md", 4, "publish_at", "error", "conflict: 2 entries on channel 'mastodon' at 2026-12-01 09:00 (with content/c.md)"),
        ("content/c.md", 4, "publish_at", "error", "conflict: 2 entries on channel 'mastodon' at 2026-12-01 09:00 (with content/a.md)"),
        ("content/b.md", 4, "publish_at", "warning", "min_gap: 6h apart on channel 'newsletter' (2026-12-01 15:00 and 2026-12-01 21:00), at least 1d wanted (with content/d.md)"),
        ("content/d.md", 4, "publish_at", "warning", "min_gap: 6h apart on channel 'newsletter' (2026-12-01 15:00 and 2026-12-01 21:00), at least 1d wanted (with content/b.md)"),
        ("content/d.md", 4, "publish_at", "warning", "quiet_hours: 2026-12-01 21:00 is in the quiet hours of 'newsletter' (20:00-08:00 Europe/Berlin)"),
        ("content/e.md", 4, "publish_at", "error", "blackout: 2026-12-25 is a blackout date (2026-12-24..2026-12-26: Christmas); move it or take it off 'mastodon'"),
        ("content/f.md", 5, "publish_at", "warning", "lead_time: still review but is due on 'mastodon' at 2026-11-30 20:00 (lead time 1d): approve it or move it"),
        ("content/g.md", 6, "channels.mastodon.at", "error", "expires: goes out on 'mastodon' at 2026-12-12 10:00, after the item expires (2026-12-11 00:00); it would never be sent"),
    }


def test_group_rules_count_across_channels(cli, project):
    settings = with_calendar("""\
calendar:
  groups:
    social:
      channels: [blog, mastodon]
      max_per_day: 1
      min_gap: 3h
""")
    root = project({
        "content/a.md": item("A", publish_at="2026-12-01T09:00", channels=["blog"], **APPROVED),
        "content/b.md": item("B", publish_at="2026-12-01T10:00", channels=["mastodon"], **APPROVED),
    }, settings=settings)
    _, got = check_report(cli, root, "2026-11-01T00:00Z")
    assert {(p, m) for p, _, _, _, m in got} == {
        ("content/a.md", "max_per_day: 2 entries on group 'social' on 2026-12-01, at most 1 a day (with content/b.md)"),
        ("content/b.md", "max_per_day: 2 entries on group 'social' on 2026-12-01, at most 1 a day (with content/a.md)"),
        ("content/a.md", "min_gap: 1h apart on group 'social' (2026-12-01 09:00 and 2026-12-01 10:00), at least 3h wanted (with content/b.md)"),
        ("content/b.md", "min_gap: 1h apart on group 'social' (2026-12-01 09:00 and 2026-12-01 10:00), at least 3h wanted (with content/a.md)"),
    }


def test_unknown_channel_in_a_rule_is_named(cli, project):
    settings = with_calendar("calendar:\n  groups:\n    social:\n      channels: [mastdon, blog]\n      max_per_day: 2\n")
    root = project({"content/a.md": item()}, settings=settings)
    result, got = check_report(cli, root, "2026-11-01T00:00Z")
    assert result.exit_code == 1
    assert got == {("publish.yml", 15, "calendar.groups.social.channels[0]", "error",
                    "no channel named 'mastdon' (did you mean 'mastodon'?) (channels: blog, mastodon)")}


def test_delivered_entries_count_but_are_not_blamed(project):
    from scheduler.project import load_project as load
    from newsroom.state import EntryState
    from scheduler.plan import plan
    from scheduler.rules import problems

    settings = BASE_SETTINGS.replace("    type: blog\n", "    type: blog\n    max_per_day: 1\n")
    root = project({
        "content/a.md": item("A", publish_at="2026-12-01T09:00", channels=["blog"], **APPROVED),
        "content/b.md": item("B", publish_at="2026-12-01T15:00", channels=["blog"], **APPROVED),
    }, settings=settings)
    loaded = load(root)
    ledger = {"a/blog": EntryState("a/blog", state="delivered")}
    entries = plan(loaded, ledger=ledger, now=datetime(2026, 12, 1, 10, tzinfo=UTC))
    assert [(p.path, p.message.split(":")[0]) for p in problems(loaded, entries)] == [("content/b.md", "max_per_day")]
