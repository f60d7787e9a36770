"""publish.yml: the same schema and error style as front matter; secrets only by reference."""
import json

from conftest import BASE_SETTINGS, item


def check_json(cli, root):
    result = cli(root, "check", "--format", "json")
    return result, json.loads(result.output) if result.output.startswith("{") else None


def test_literal_secret_is_refused_and_never_echoed(cli, project):
    settings = BASE_SETTINGS.replace("token: env:MASTODON_TOKEN", "token: s3cr3t-t0ken-value")
    root = project({"content/a.md": item()}, settings=settings)
    result, report = check_json(cli, root)
    assert result.exit_code == 2  # an error in publish.yml: publish would not run
    assert "s3cr3t" not in result.output
    assert report["errors"] == [{
        "path": "publish.yml", "line": 11, "key": "channels.mastodon.token", "severity": "error",
        "message": "a secret must be named, not written: use env:VARIABLE_NAME and set that variable in the "
                   "environment (the value given here was not shown)"}]


def test_unknown_keys_get_a_suggestion(cli, project):
    settings = BASE_SETTINGS + "calender:\n  lead_time: 2h\n"
    settings = settings.replace("    instance:", "    instanse: https://x.test\n    instance:")
    root = project({"content/a.md": item()}, settings=settings)
    result, report = check_json(cli, root)
    problems = [(p["line"], p["key"], p["message"], p["severity"]) for p in report["errors"] + report["warnings"]]
    assert (10, "channels.mastodon.instanse", "unknown key (did you mean 'instance'?)", "error") in problems
    assert (13, "calender", "unknown key (did you mean 'calendar'?)", "warning") in problems


def test_unknown_channel_type(cli, project):
    settings = BASE_SETTINGS.replace("type: mastodon", "type: mastadon")
    root = project({"content/a.md": item()}, settings=settings)
    _, report = check_json(cli, root)
    assert report["errors"][0]["key"] == "channels.mastodon.type"
    assert report["errors"][0]["message"].startswith("unknown channel type 'mastadon' (did you mean 'mastodon'?)")


def test_bad_calendar_rules_each_named(cli, project):
    settings = BASE_SETTINGS + """\
calendar:
  timezone: Mars/Olympus
  quiet_hours: late
  blackout: [2026-12-32]
  slots:
    - days: someday
      times: ["25:00"]
"""
    root = project({"content/a.md": item()}, settings=settings)
    _, report = check_json(cli, root)
    got = {(p["key"], p["message"]) for p in report["errors"]}
    assert got == {
        ("calendar.timezone", "'Mars/Olympus' is not a known timezone (use an IANA name such as Europe/Berlin or UTC)"),
        ("calendar.quiet_hours", "'late' is not a time range (use 22:00-07:00)"),
        ("calendar.blackout[0]", "blackout '2026-12-32' is not a date (use YYYY-MM-DD, e.g. 2026-11-27)"),
        ("calendar.slots[0].days", "'someday' is not a set of days (use weekdays, daily, mon-fri or mon,wed,fri)"),
        ("calendar.slots[0].times[0]", "'25:00' is not a time of day (use HH:MM, e.g. 09:00)"),
    }


def test_rules_are_read_into_the_model(project):
    from datetime import time, timedelta

    from newsroom.settings import load_settings

    root = project({}, settings=BASE_SETTINGS + """\
calendar:
  lead_time: 24h
  quiet_hours: 22:00-07:00
  blackout:
    - 2026-12-24..2026-12-26
    - {date: 2027-01-01, reason: New Year}
  slots:
    - days: mon-fri
      times: ["09:00", "13:00"]
    - days: sat
      times: ["10:00"]
""")
    settings, problems = load_settings(root)
    assert problems == []
    rules = settings.calendar.rules
    assert settings.calendar.lead_time == timedelta(hours=24)
    assert rules.quiet_hours.contains(time(23, 0)) and rules.quiet_hours.contains(time(6, 59))
    assert not rules.quiet_hours.contains(time(7, 0))
    assert [(sorted(s.weekdays), s.at) for s in rules.slots] == [
        ([0, 1, 2, 3, 4], time(9)), ([0, 1, 2, 3, 4], time(13)), ([5], time(10))]
    assert [(b.start.isoformat(), b.end.isoformat(), b.reason) for b in rules.blackout] == [
        ("2026-12-24", "2026-12-26", ""), ("2027-01-01", "2027-01-01", "New Year")]


def test_site_is_required(cli, project):
    root = project({}, settings="timezone: UTC\n")
    result = cli(root, "check")
    assert result.exit_code == 2
    assert "publish.yml:1: site is required (the publication)" in result.output
