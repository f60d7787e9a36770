"""Credential health before the due date: `check` and `status` say whether each credential works, when
it lapses and which scopes are missing; a lapse within warn_before of a due entry is a warning in
check and an alert in the publish run, once; an old LinkedIn-Version is a warning."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from channels import registry
from channels.auth import Person, adapter_for, connect
from channels.linkedin import LinkedIn
from channels.x import X
from conftest import item, write_project
from newsroom.credentials import new_key
from servers.oauth import CLIENT_ID, CLIENT_SECRET, LinkedInAuthServer, XAuthServer, approve
from servers.testchannel import TOKEN, ChannelServer, register

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)

SETTINGS = f"""\
site:
  title: Test Newsroom
  url: https://news.test
timezone: UTC
channels:
  x:
    type: x
    client_id: {CLIENT_ID}
  linkedin:
    type: linkedin
    client_id: {CLIENT_ID}
    client_secret: env:LI_SECRET
    author: urn:li:person:abc
"""


def aim(monkeypatch, cls, url):
    """The channel type ``cls`` talks to the loopback server at ``url`` in every command."""
    class Aimed(cls):
        def __init__(self, config, env, *, base_url=None):
            super().__init__(config, env, base_url=base_url or url)

    monkeypatch.setitem(registry.TYPES, cls.TYPE, Aimed)


def due(title, channel, at):
    return item(title, status="approved", approved_by="editor", author="writer", publish_at=at, channels=[channel])


def connected(root, env, name, clock=lambda: T0):
    from scheduler.project import load_project as load

    p = Person(say=lambda line: None, open_browser=lambda url: __import__("threading").Thread(
        target=approve, args=(url,), daemon=True).start() or True, ask_secret=lambda q: "")
    return connect(adapter_for(load(root), name, env, clock=clock), p, port=0, now=clock)


@pytest.fixture
def env(monkeypatch):
    values = {"NEWSROOM_KEY": new_key(), "LI_SECRET": CLIENT_SECRET}
    for k, v in values.items():
        monkeypatch.setenv(k, v)
    return values


def warnings(cli, root, *args):
    result = cli(root, "check", "--format", "json", "--now", T0.isoformat(), *args)
    return [f"{w['key']}: {w['message']}" for w in json.loads(result.output)["warnings"]]


def test_check_warns_when_a_token_lapses_before_an_entry_is_due(tmp_path, cli, env, monkeypatch):
    root = write_project(tmp_path / "p", {"content/a.md": due("Alpha", "linkedin", "2027-01-24T09:00"),
                                          "content/b.md": due("Beta", "linkedin", "2027-01-02T09:00")}, SETTINGS)
    with LinkedInAuthServer(refresh_tokens=False) as li, XAuthServer() as x:
        aim(monkeypatch, LinkedIn, li.url)
        aim(monkeypatch, X, x.url)
        connected(root, env, "linkedin")  # 60 days: lapses 2027-01-29 09:00
        assert warnings(cli, root, "--offline") == [
            "channels.linkedin: the credential lapses 2027-01-29 09:00 UTC, within 7 days of when content/a.md is "
            "due on linkedin (2027-01-24 09:00 UTC): connect again with `publish auth linkedin`"]
        # Asked of the platform (token introspection): it works and has what posting needs.
        assert len(warnings(cli, root)) == 1 and len(li.requests("/oauth/v2/introspectToken")) == 1
        li.expire_access()
        assert warnings(cli, root)[0] == ("channels.linkedin: the credential does not work: the token is not active "
                                          "(expired) (connect again with `publish auth linkedin`)")
    b = (root / "content/a.md").read_text().replace("2027-01-24T09:00", "2027-01-10T09:00")
    (root / "content/a.md").write_text(b)
    assert warnings(cli, root, "--offline") == []  # both entries well before the lapse


def test_check_names_missing_scopes(tmp_path, cli, env, monkeypatch):
    root = write_project(tmp_path / "p", {"content/a.md": due("Alpha", "x", "2026-12-01T09:00")}, SETTINGS)
    with XAuthServer() as x:
        aim(monkeypatch, X, x.url)
        x.granted = ["tweet.read", "tweet.write", "users.read"]  # no offline.access: no refresh token
        connected(root, env, "x")
        got = warnings(cli, root, "--offline")
    assert got == [
        "channels.x: the credential lacks offline.access, needed for renewal (connect again with `publish auth x` "
        "and grant it)",
        "channels.x: the credential lapses 2026-11-30 11:00 UTC, before content/a.md is due on x (2026-12-01 09:00 "
        "UTC): connect again with `publish auth x`"]


def test_status_shows_each_credential(tmp_path, cli, env, monkeypatch):
    root = write_project(tmp_path / "p", {"content/a.md": due("Alpha", "x", "2026-12-01T09:00")}, SETTINGS)
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    with XAuthServer() as x:
        aim(monkeypatch, X, x.url)
        connected(root, env, "x", clock=lambda: now)
        result = cli(root, "status", "--now", T0.isoformat())
        data = json.loads(cli(root, "status", "--now", T0.isoformat(), "--format", "json").output)
        assert len(x.requests("/2/users/me")) == 3  # one verify call per command (and one by publish auth)
    lines = result.output.splitlines()
    assert lines[1:4] == [
        "x (x)", "  0 delivered",
        f"  credential: works (@newsroom); access token lapses {(now + timedelta(hours=2)):%Y-%m-%d %H:%M} UTC, "
        "renewed by each run"]
    assert lines[4:6] == ["  next     content/a.md at 2026-12-01 09:00 UTC",
                          "linkedin (linkedin): inactive, no credential stored for linkedin: run `publish auth "
                          "linkedin`"]
    cred = data["channels"]["x"]["credential"]
    assert cred["state"] == "works" and cred["account"] == "@newsroom" and cred["source"] == "state/credentials"
    assert cred["refreshable"] is True and cred["missing_scopes"] == {}
    assert data["channels"]["linkedin"]["credential"]["state"] == "missing"


def test_old_linkedin_version_is_a_warning(tmp_path, cli, env):
    settings = SETTINGS + '    version: "202501"\n'
    root = write_project(tmp_path / "p", {}, settings)
    assert warnings(cli, root, "--offline") == [
        "channels.linkedin.version: LinkedIn-Version 202501 is 22 months old; LinkedIn retires a version about a year "
        "after its release (then every call fails): use 202607"]
    recent = write_project(tmp_path / "q", {}, SETTINGS + '    version: "202601"\n')
    assert warnings(cli, recent, "--offline") == []


def test_publish_run_alerts_a_lapse_once(tmp_path, cli, env, monkeypatch):
    register(monkeypatch)
    with ChannelServer() as alerts, LinkedInAuthServer(refresh_tokens=False) as li:
        settings = SETTINGS + f"""\
  alerts:
    type: testchannel
    url: {alerts.url}/alerts
    token: env:TC_TOKEN
alerts:
  channel: alerts
"""
        root = write_project(tmp_path / "p", {"content/a.md": due("Alpha", "linkedin", "2027-01-24T09:00")},
                             settings)
        aim(monkeypatch, LinkedIn, li.url)
        connected(root, env, "linkedin")
        first = cli(root, "publish", "--now", T0.isoformat(), env={"TC_TOKEN": TOKEN})
        second = cli(root, "publish", "--now", (T0 + timedelta(hours=1)).isoformat(), env={"TC_TOKEN": TOKEN})
        posted = alerts.posts_for("alerts")
    message = ("linkedin: the credential lapses 2027-01-29 09:00 UTC, within 7 days of when content/a.md is due on "
               "linkedin (2027-01-24 09:00 UTC): connect again with `publish auth linkedin`")
    assert message in first.output and "alert sent to alerts: linkedin credential lapses" in first.output
    assert [p["text"] for p in posted] == [f"Credential problem: {message}"]
    assert message not in second.output


def test_pull_renews_the_token_before_reading_metrics(tmp_path, env, monkeypatch):
    from newsroom.state import FileStore
    from scheduler.project import load_project as load
    from reports.pull import pull
    from newsroom.state import open_store

    root = write_project(tmp_path / "p", {}, SETTINGS)
    with XAuthServer() as x:
        aim(monkeypatch, X, x.url)
        connected(root, env, "x")  # at T0: its two hours are long over by the machine's clock
        first = x.token
        tid = x.add_tweet("Alpha", likes=3)
        at = datetime.now(timezone.utc) - timedelta(hours=2)
        FileStore(root / "state").append([{"event": "delivered", "entry": "alpha/x", "at": at.isoformat(),
                                           "revision": "r", "receipt": {"remote_id": tid, "url": None,
                                                                        "at": at.isoformat(), "parts": [],
                                                                        "data": {}}}])
        project = load(root)
        result = pull(project, open_store(root, project.settings.state), env=env, now=datetime.now(timezone.utc),
                      feeds=False, sleep=lambda s: None)
        lookups = x.requests("^/2/tweets$", "GET")
    assert result.failures == [] and result.snapshots == 1, result
    assert x.token != first and lookups[0].headers["authorization"] == f"Bearer {x.token}"


@pytest.mark.parametrize("bot_api, sent", [("7.0", "reply_parameters"), ("6.9", "reply_to_message_id")])
def test_telegram_replies_in_the_form_its_bot_api_version_takes(bot_api, sent):
    from channels.base import Failure
    from channels.telegram import Telegram
    from servers import channel, context, post
    from servers.telegram import TelegramServer

    with TelegramServer(bot_api=(6, 9) if bot_api == "6.9" else (9, 0)) as server:
        adapter = channel(Telegram, server, {"token": "env:TG", "chat_id": "@newsroom", "bot_api": bot_api},
                          {"TG": "123456:ABC-secret"})
        receipt = adapter.deliver(post(["One", "Two"], type="telegram"), context())
        assert adapter.verify() == {"account": "@newsroom_bot"}
    assert not isinstance(receipt, Failure)
    second = server.requests("sendMessage")[1].json
    assert sent in second and server.messages[1]["_reply_to"] == server.messages[0]["message_id"]


def test_connecting_a_channel_wakes_a_quiet_publish_run(tmp_path, cli, env, monkeypatch):
    root = write_project(tmp_path / "p", {"content/a.md": due("Alpha", "x", "2026-11-30T09:00")},
                         SETTINGS.split("  linkedin:")[0])
    with XAuthServer() as x:
        aim(monkeypatch, X, x.url)
        first = cli(root, "publish", "--now", "2026-11-30T09:01:00Z")
        assert "x: inactive, no credential stored for x: run `publish auth x` (1 entry waiting)" in first.output
        connected(root, env, "x")
        second = cli(root, "publish", "--now", "2026-11-30T09:02:00Z")
        assert "delivered  content/a.md → x" in second.output, second.output
        assert [t["text"].split("\n")[0] for t in x.tweets.values()] == ["Alpha"]


def test_a_refused_renewal_makes_the_entry_wait_not_fail(tmp_path, cli, env, monkeypatch):
    root = write_project(tmp_path / "p", {"content/a.md": due("Alpha", "x", "2026-11-30T09:00")},
                         SETTINGS.split("  linkedin:")[0])
    with XAuthServer() as x:
        aim(monkeypatch, X, x.url)
        connected(root, env, "x")  # at T0: by the machine's clock the access token has lapsed
        x.refreshes.clear()  # the person revoked the app: the refresh token is refused
        first = cli(root, "publish", "--now", "2026-11-30T09:05:00Z")
        assert "waiting" in first.output and "the x token in state/credentials (publish auth x) was refused" in \
            first.output, first.output
        assert first.exit_code == 0 and not x.tweets
        connected(root, env, "x", clock=lambda: datetime.now(timezone.utc))  # connected again
        second = cli(root, "publish", "--now", "2026-11-30T09:10:00Z")
    assert "delivered  content/a.md → x" in second.output, second.output


def test_mastodon_scopes_come_from_the_server_and_are_named_when_missing(tmp_path, cli, env, monkeypatch):
    from channels.mastodon import Mastodon
    from servers.oauth import MastodonAuthServer

    settings = SETTINGS.split("  x:")[0] + "  mastodon:\n    type: mastodon\n    instance: https://mastodon.test\n" \
                                           "    token: env:MASTODON_TOKEN\n"
    files = {"content/a.md": item("Alpha", status="approved", approved_by="editor", author="writer",
                                  publish_at="2026-12-01T09:00", channels=["mastodon"],
                                  image="https://news.test/rocket.png", image_alt="A rocket")}
    root = write_project(tmp_path / "p", files, settings)
    with MastodonAuthServer() as m:
        aim(monkeypatch, Mastodon, m.url)
        m.granted = ["write:statuses", "read"]  # the person left out media uploads
        from scheduler.project import load_project as load

        p = Person(say=lambda line: None, open_browser=lambda url: __import__("threading").Thread(
            target=approve, args=(url,), daemon=True).start() or True, ask_secret=lambda q: "", show=True)
        token = connect(adapter_for(load(root), "mastodon", env), p).secret
        monkeypatch.setenv("MASTODON_TOKEN", token)
        got = warnings(cli, root)
        assert len(m.requests("/api/v1/apps/verify_credentials")) == 1
    assert got == ["channels.mastodon: the credential lacks write:media, needed for media (connect again with "
                   "`publish auth mastodon` and grant it)"]  # "read" covers read:statuses and read:accounts
