"""One item through its whole life, on every platform at once: delivered, corrected twice,
re-shared twice as evergreen, withdrawn. Each platform is its loopback server following its
documented API (the blog is the real site on disk); at the end every platform's state and the
ledger are checked: each edit and delete happened once and is recorded once."""
from __future__ import annotations

from collections import Counter

import pytest

from channels.devto import DevTo
from channels.linkedin import LinkedIn
from channels.telegram import Telegram
from channels.x import X
from conftest import write_project
from servers.bluesky import BlueskyServer
from servers.devto import DevtoServer
from servers.discord import DiscordServer
from servers.linkedin import LinkedInServer
from servers.mastodon import MastodonServer
from servers.telegram import TelegramServer
from servers.x import XServer
from publishing import BLOG_AND_MASTODON, HEAD, ledger
from publishing import run_mastodon as run

SETTINGS = HEAD + BLOG_AND_MASTODON + """\
  bluesky:
    type: bluesky
    service: {bluesky}
    handle: newsroom.bsky.social
    app_password: env:BSKY_APP_PASSWORD
  discord:
    type: discord
    webhook: env:DISCORD_URL
  telegram:
    type: telegram
    token: env:TG_TOKEN
    chat_id: "@newsroom"
  devto:
    type: devto
    api_key: env:DEVTO_KEY
  linkedin:
    type: linkedin
    token: env:LI_TOKEN
    author: urn:li:organization:2414183
  x:
    type: x
    token: env:X_TOKEN
"""
CHANNELS = ["blog", "mastodon", "bluesky", "discord", "telegram", "devto", "linkedin", "x"]


def item(body, status="approved", reason=None):
    return (f"---\ntitle: Launch\nstatus: {status}\nauthor: writer\napproved_by: editor\n"
            + (f"reason: {reason}\n" if reason else "")
            + f"publish_at: 2026-11-20T09:00\nchannels: [{', '.join(CHANNELS)}]\n"
            "evergreen:\n  every: 30d\n  channels: [mastodon, bluesky, telegram]\n"
            "  variants: [\"Worth a read again https://news.test/launch/\", \"Did you see this? https://news.test/launch/\"]\n"
            f"---\n{body}")


@pytest.fixture
def servers(monkeypatch):
    with MastodonServer() as m, BlueskyServer() as b, DiscordServer() as d, TelegramServer() as t, \
            DevtoServer() as v, LinkedInServer() as li, XServer() as x:
        # the adapters without a base-URL option are aimed at their loopback servers (real HTTP)
        for cls, srv in ((Telegram, t), (DevTo, v), (LinkedIn, li), (X, x)):
            monkeypatch.setattr(cls, "api", property(lambda self, url=srv.url: url))
        d.bucket = d.remaining = 100
        yield {"mastodon": m, "bluesky": b, "discord": d, "telegram": t, "devto": v, "linkedin": li, "x": x}


ENV = {"MASTODON_TOKEN": "secret-token", "BSKY_APP_PASSWORD": "app-pass-word", "TG_TOKEN": "123456:ABC-secret",
       "DEVTO_KEY": "devto-key", "LI_TOKEN": "li-token", "X_TOKEN": "x-user-token"}


def test_one_item_delivered_corrected_twice_reshared_twice_and_withdrawn(tmp_path, servers, monkeypatch):
    for k, v in {**ENV, "DISCORD_URL": servers["discord"].webhook_url}.items():
        monkeypatch.setenv(k, v)
    root = tmp_path / "p"
    write_project(root, {"content/launch.md": item("Launch is on Tuesday.\n")},
                  SETTINGS.format(url=servers["mastodon"].url, bluesky=servers["bluesky"].url))
    m, b, d, t, v, li, x = (servers[k] for k in ("mastodon", "bluesky", "discord", "telegram", "devto", "linkedin",
                                                 "x"))

    out = run(root, "publish")
    assert out.exit_code == 0, out.output
    assert sorted(e["entry"] for e in ledger(root) if e["event"] == "delivered") == sorted(
        f"launch/{c}" for c in CHANNELS)
    (sid,) = m.statuses

    for n, (day, text) in enumerate((("21", "Wednesday"), ("22", "Thursday")), 1):
        (root / "content" / "launch.md").write_text(item(f"Launch is on {text}.\n"))
        out = run(root, "publish", now=f"2026-11-{day}T10:00:00Z")
        assert out.exit_code == 0, out.output
        assert text in m.histories[sid][-1] and len(m.histories[sid]) == n + 1
        assert text in t.messages[0]["text"] and len(t.messages[0]["_edits"]) == n
        assert text in next(iter(d.messages.values()))["content"]
        assert text in v.articles[0]["body_markdown"] and v.articles[0]["_edits"] == n
        assert text in li.posts[0]["commentary"] and len(li.posts[0]["_edits"]) == n
        assert f"Launch is on {text}." in (root / "public" / "launch" / "index.html").read_text()
    said = [e["entry"] for e in ledger(root) if e["event"] == "changed"]
    assert Counter(said) == Counter({"launch/bluesky": 2, "launch/x": 2})  # once per revision: they cannot edit

    for when in ("2026-12-20T09:30:00Z", "2027-01-19T10:00:00Z"):  # 30 days after the last share, each
        out = run(root, "publish", now=when)
        assert out.exit_code == 0, out.output
    assert [s["content"] for s in m.statuses.values()][1:] == [
        "<p>Worth a read again https://news.test/launch/</p>", "<p>Did you see this? https://news.test/launch/</p>"]
    assert [r["value"]["text"] for r in b.records.values()][1:] == [
        "Worth a read again https://news.test/launch/", "Did you see this? https://news.test/launch/"]
    assert [msg["text"] for msg in t.messages][1:] == [
        "Worth a read again https://news.test/launch/", "Did you see this? https://news.test/launch/"]

    (root / "content" / "launch.md").write_text(item("Launch is on Thursday.\n", "withdrawn", "Cancelled."))
    out = run(root, "publish", now="2027-01-25T10:00:00Z")
    assert out.exit_code == 0, out.output  # every platform here can delete
    # every platform's final state: nothing of the item left
    assert not m.statuses and len(m.deleted) == 3
    assert not b.records and len(b.deleted) == 3
    assert not t.messages and len(t.deleted) == 3
    assert not d.messages and not li.posts and not x.tweets
    assert v.articles[0]["published"] is False
    page = (root / "public" / "launch" / "index.html").read_text()
    assert "This page was withdrawn" in page and "Cancelled." in page
    assert "news.test/launch/" not in (root / "public" / "atom.xml").read_text()

    events = ledger(root)
    corrected = Counter(e["entry"] for e in events if e["event"] == "corrected")
    assert corrected == Counter({f"launch/{c}": 2 for c in ("blog", "mastodon", "discord", "telegram", "devto",
                                                              "linkedin")})
    withdrawn = Counter(e["entry"] for e in events if e["event"] == "withdrawn")
    assert withdrawn == Counter({**{f"launch/{c}": 1 for c in CHANNELS},
                                 **{f"launch/{c}~{n}": 1 for c in ("mastodon", "bluesky", "telegram") for n in (1, 2)}})
    again = run(root, "publish", now="2027-01-26T10:00:00Z")
    assert again.exit_code == 0 and again.output.startswith("Nothing due")
