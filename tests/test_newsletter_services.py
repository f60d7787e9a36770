"""Newsletter services as channels (listmonk, …) against loopback servers that follow their
documented APIs: a campaign per segment, started or scheduled, exactly once across a crash, and its
opens, clicks and bounces back into the pull."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from channels.base import Journal, Receipt
from channels.listmonk import Listmonk, campaign_tag
from servers import NOW, channel, context, post
from servers.listmonk import ListmonkServer

KEY = "2026/launch|news|abc123"
OPTIONS = {"url": "http://unused.test", "username": "newsroom", "token": "env:LISTMONK_TOKEN",
           "lists": {"all": 1, "smb": 2, "enterprise": 3}}
ENV = {"LISTMONK_TOKEN": "listmonk-token"}


@pytest.fixture
def listmonk():
    with ListmonkServer() as server:
        yield server


def adapter(server, env=ENV, **options):
    return channel(Listmonk, server, {**OPTIONS, **options}, env, name="news")


def letter(**kw):
    return post([], type="listmonk", channel="news", subject="Launch day is here", html="<p>Hello</p>",
                text="Hello", **kw)


def test_a_campaign_is_created_for_the_segments_list_and_started(listmonk):
    got = adapter(listmonk).deliver(letter(segment="smb"), context(KEY))
    assert isinstance(got, Receipt), got
    (made,) = listmonk.requests("/api/campaigns$", "POST")
    body = made.json
    assert made.headers["authorization"] == "token newsroom:listmonk-token"
    assert body["lists"] == [2] and body["subject"] == "Launch day is here" and body["content_type"] == "html"
    assert body["body"] == "<p>Hello</p>" and body["altbody"] == "Hello"
    assert body["tags"] == ["newsroom", campaign_tag(KEY, "smb")]
    assert body["name"] == f"Launch day [{campaign_tag(KEY, 'smb')}]"
    assert [s.json for s in listmonk.requests("/status$", "PUT")] == [{"status": "running"}]
    assert got.remote_id == "1" and got.parts == ({"id": "1", "url": None, "segment": "smb", "status": "running"},)


def test_one_campaign_per_segment_variant(listmonk):
    variants = [{"segment": "smb", "subject": "For small teams", "html": "<p>S</p>", "text": "S"},
                {"segment": "enterprise", "subject": "For enterprises", "html": "<p>E</p>", "text": "E"}]
    got = adapter(listmonk).deliver(letter(data={"variants": variants}), context(KEY))
    assert [p["segment"] for p in got.parts] == ["smb", "enterprise"]
    assert [(c["lists"][0]["id"], c["subject"], c["status"]) for c in listmonk.campaigns.values()] == [
        (2, "For small teams", "running"), (3, "For enterprises", "running")]


def test_schedule_hands_the_campaign_to_listmonks_scheduler(listmonk):
    got = adapter(listmonk, send="schedule").deliver(letter(), context(KEY))
    assert listmonk.campaigns[1]["send_at"] == "2026-11-23T09:00:00Z"
    assert listmonk.campaigns[1]["status"] == "scheduled" and got.parts[0]["status"] == "scheduled"


def test_a_segment_without_a_list_is_refused_before_anything_is_sent(listmonk):
    got = adapter(listmonk).deliver(letter(segment="partners"), context(KEY))
    assert got.message == "no listmonk list for segment 'partners': add it under channels.news.lists in publish.yml"
    assert listmonk.seen == []


def test_a_create_whose_answer_was_lost_is_found_by_its_tag_not_sent_twice(listmonk):
    journal = Journal()
    listmonk.drop("/api/campaigns$")  # created, but the answer never arrives
    first = adapter(listmonk).deliver(letter(), context(KEY, journal=journal))
    assert first.ambiguous and first.retryable
    again = adapter(listmonk).deliver(letter(), context(KEY, journal=journal))
    assert isinstance(again, Receipt)
    assert len(listmonk.campaigns) == 1 and listmonk.campaigns[1]["status"] == "running"
    assert len(listmonk.requests("/api/campaigns$", "POST")) == 1


def test_a_start_that_failed_is_retried_on_the_same_campaign(listmonk):
    journal = Journal()
    listmonk.fail(503, {"message": "Service unavailable"}, path="/status$")
    first = adapter(listmonk).deliver(letter(), context(KEY, journal=journal))
    assert first.retryable and first.message == "HTTP 503: Service unavailable"
    again = adapter(listmonk).deliver(letter(), context(KEY, journal=journal))
    assert isinstance(again, Receipt) and len(listmonk.campaigns) == 1


def test_a_start_heard_by_listmonk_but_not_by_us_is_confirmed_by_asking(listmonk):
    journal = Journal()
    listmonk.drop("/status$")
    first = adapter(listmonk).deliver(letter(), context(KEY, journal=journal))
    assert first.ambiguous
    again = adapter(listmonk).deliver(letter(), context(KEY, journal=journal))
    assert isinstance(again, Receipt) and again.parts[0]["status"] == "running"
    assert len(listmonk.campaigns) == 1


def test_reconcile_finds_a_started_campaign_and_nothing_when_none(listmonk):
    a = adapter(listmonk)
    assert a.reconcile(letter(), context(KEY)) is None
    a.deliver(letter(), context(KEY))
    found = a.reconcile(letter(), context(KEY))
    assert found.remote_id == "1" and found.parts[0]["status"] == "running"


def test_a_refused_token_waits_for_a_person(listmonk):
    got = adapter(listmonk, env={"LISTMONK_TOKEN": "wrong"}).deliver(letter(), context(KEY))
    assert got.message == "HTTP 403: invalid API credentials" and got.credential == "LISTMONK_TOKEN"
    assert not got.retryable and listmonk.campaigns == {}


def test_metrics_are_every_campaigns_sums_in_one_request(listmonk):
    variants = [{"segment": "smb", "subject": "S", "html": "<p>S</p>", "text": "S"},
                {"segment": "enterprise", "subject": "E", "html": "<p>E</p>", "text": "E"}]
    a = adapter(listmonk)
    one = a.deliver(letter(data={"variants": variants}), context(KEY))
    two = a.deliver(letter(), context("2026/other|news|r1"))
    listmonk.finish(1, sent=400, views=180, clicks=40, bounces=3)
    listmonk.finish(2, sent=100, views=60, clicks=20, bounces=1)
    listmonk.finish(3, sent=1000, views=250, clicks=30)
    before = len(listmonk.seen)
    got = a.fetch_metrics([one, two])
    assert got == {"1": {"sent": 500, "opens": 240, "clicks": 60, "bounces": 4,
                         "sent@smb": 400, "opens@smb": 180, "clicks@smb": 40, "bounces@smb": 3,
                         "sent@enterprise": 100, "opens@enterprise": 60, "clicks@enterprise": 20,
                         "bounces@enterprise": 1},
                   "3": {"sent": 1000, "opens": 250, "clicks": 30, "bounces": 0}}
    assert len(listmonk.seen) == before + 1
    (asked,) = listmonk.seen[before:]
    assert asked.query == {"tags": ["newsroom"], "per_page": ["all"], "no_body": ["true"]}


LISTMONK_SETTINGS = """\
site:
  title: Test Newsroom
  url: https://news.test
timezone: UTC
segments:
  smb: Small teams
  enterprise: Enterprises
channels:
  news:
    type: listmonk
    url: {url}
    username: newsroom
    token: env:LISTMONK_TOKEN
    lists:
      all: 1
      smb: 2
      enterprise: 3
pull:
  replies: false
"""


def test_listmonk_end_to_end_publish_pull_report(project, cli, listmonk):
    import json

    from conftest import item

    files = {"content/launch.md": item("Launch day", status="approved", approved_by="editor", author="writer",
                                        publish_at="2026-11-20T09:00", channels=["news"], segments=["smb", "enterprise"],
                                        body="We launched [the thing](https://news.test/thing/).\n")}
    root = project(files, LISTMONK_SETTINGS.format(url=listmonk.url))
    env = {**ENV, "GITHUB_STEP_SUMMARY": ""}
    out = cli(root, "publish", "--now", "2026-11-20T09:05:00Z", env=env)
    assert out.exit_code == 0, out.output
    assert [(c["lists"][0]["id"], c["status"]) for c in listmonk.campaigns.values()] == [(2, "running"),
                                                                                          (3, "running")]
    html = listmonk.campaigns[1]["body"]
    assert "https://news.test/thing/?utm_source=news&amp;utm_medium=email" in html  # our links carry our tags
    assert '<a href="{{ UnsubscribeURL }}"' in html  # listmonk's own per-subscriber link
    again = cli(root, "publish", "--now", "2026-11-20T10:05:00Z", env=env)
    assert again.exit_code == 0 and len(listmonk.campaigns) == 2  # exactly once
    listmonk.finish(1, sent=200, views=90, clicks=24, bounces=2)
    listmonk.finish(2, sent=50, views=30, clicks=10)
    pulled = cli(root, "pull", "--no-feeds", env=env)
    assert pulled.exit_code == 0, pulled.output
    r = json.loads(cli(root, "report", "--since", "2026-11-01", "--until", "2026-12-31", "--format", "json").output)
    enterprise, smb = r["owned"]["newsletters"]  # one row per segment's campaign
    assert (smb["segment"], smb["sent"], smb["opens"], smb["clicks"], smb["bounces"]) == ("smb", 200, 90, 24, 2)
    assert (smb["open_rate"], smb["click_rate"]) == (0.45, 0.12)
    assert (enterprise["segment"], enterprise["open_rate"], enterprise["click_rate"]) == ("enterprise", 0.6, 0.2)
    assert [(s["segment"], s["issues"], s["sent"]) for s in r["owned"]["segments"]] == [("enterprise", 1, 50),
                                                                                       ("smb", 1, 200)]


# -- Mailchimp -----------------------------------------------------------------------------------
from channels.mailchimp import Mailchimp  # noqa: E402
from servers.mailchimp import MailchimpServer  # noqa: E402

MC_KEY = "0123456789abcdef0123456789abcdef-us21"
MC_OPTIONS = {"api_key": "env:MAILCHIMP_KEY", "list_id": "a1b2c3d4e5", "segments": {"smb": 101, "enterprise": 102},
              "from_name": "Northwind Notes", "reply_to": "news@northwind.example"}


@pytest.fixture
def mailchimp():
    with MailchimpServer() as server:
        yield server


def mc(server, env=None, **options):
    return channel(Mailchimp, server, {**MC_OPTIONS, **options}, env or {"MAILCHIMP_KEY": MC_KEY}, name="mc")


def test_the_data_centre_comes_from_the_key():
    a = channel(Mailchimp, None, MC_OPTIONS, {"MAILCHIMP_KEY": MC_KEY}, name="mc")
    assert a.api == "https://us21.api.mailchimp.com/3.0"


def test_mailchimp_campaign_content_send_for_a_saved_segment(mailchimp):
    got = mc(mailchimp).deliver(letter(segment="smb"), context(KEY))
    assert isinstance(got, Receipt), got
    create, content, send = mailchimp.seen
    assert (create.method, create.path) == ("POST", "/3.0/campaigns")
    assert create.headers["authorization"].startswith("Basic ")
    assert create.json == {"type": "regular",
                           "recipients": {"list_id": "a1b2c3d4e5", "segment_opts": {"saved_segment_id": 101}},
                           "settings": {"subject_line": "Launch day is here",
                                        "title": f"Launch day [{campaign_tag(KEY, 'smb')}]",
                                        "from_name": "Northwind Notes", "reply_to": "news@northwind.example"}}
    assert (content.method, content.json) == ("PUT", {"html": "<p>Hello</p>", "plain_text": "Hello"})
    assert (send.method, send.path.endswith("/actions/send")) == ("POST", True)
    (c,) = mailchimp.campaigns.values()
    assert c["status"] == "sending" and got.parts[0]["url"] == c["archive_url"]


def test_mailchimp_schedules_on_the_next_quarter_hour(mailchimp):
    mc(mailchimp, send="schedule").deliver(letter(), context(KEY, clock=lambda: NOW + timedelta(minutes=7)))
    (c,) = mailchimp.campaigns.values()
    assert c["status"] == "schedule" and c["send_time"] == "2026-11-23T09:15:00+00:00"
    assert "segment_opts" not in c["recipients"]  # no segment: the whole audience


def test_mailchimp_lost_answers_neither_duplicate_nor_resend(mailchimp):
    journal = Journal()
    mailchimp.drop(r"/3.0/campaigns$")
    assert mc(mailchimp).deliver(letter(), context(KEY, journal=journal)).ambiguous
    mailchimp.drop(r"/actions/send$")  # sent, the answer lost: the status says so at once
    got = mc(mailchimp).deliver(letter(), context(KEY, journal=journal))
    assert isinstance(got, Receipt) and got.parts[0]["status"] == "sending"
    assert len(mailchimp.campaigns) == 1
    assert len(mailchimp.requests(r"/actions/send$")) == 1  # asked its status instead of sending again


def test_mailchimp_errors_carry_its_detail(mailchimp):
    bad = mc(mailchimp, env={"MAILCHIMP_KEY": "nope-us21"}).deliver(letter(), context(KEY))
    assert bad.message == ("HTTP 401: Your API key may be invalid, or you've attempted to access the wrong "
                           "datacenter.") and bad.credential == "MAILCHIMP_KEY"
    mailchimp.fail(429, {"type": "…", "title": "Too Many Requests", "status": 429,
                         "detail": "You have exceeded the limit of 10 simultaneous connections."})
    busy = mc(mailchimp).deliver(letter(), context(KEY))
    assert busy.retryable and busy.message == "HTTP 429: You have exceeded the limit of 10 simultaneous connections."
    unknown = mc(mailchimp).deliver(letter(segment="partners"), context("other|mc|r"))
    assert unknown.message == ("no Mailchimp saved segment for segment 'partners': add it under channels.mc.segments "
                               "in publish.yml")


def test_mailchimp_reconcile_and_report(mailchimp):
    a = mc(mailchimp)
    assert a.reconcile(letter(), context(KEY)) is None
    sent = a.deliver(letter(data={"variants": [
        {"segment": "smb", "subject": "S", "html": "<p>S</p>", "text": "S"},
        {"segment": "enterprise", "subject": "E", "html": "<p>E</p>", "text": "E"}]}), context(KEY))
    assert a.reconcile(letter(data={"variants": [{"segment": "smb"}, {"segment": "enterprise"}]}),
                       context(KEY)).remote_id == sent.remote_id
    first, second = (p["id"] for p in sent.parts)
    mailchimp.report(first, sent=300, opens=210, unique_opens=150, clicks=45, unsubscribed=2, hard=1, soft=2)
    mailchimp.report(second, sent=100, opens=70, unique_opens=50, clicks=5, unsubscribed=1)
    got = a.fetch_metrics([sent])[sent.remote_id]
    assert {k: v for k, v in got.items() if "@" not in k} == {"sent": 400, "opens": 280, "unique_opens": 200,
                                                              "clicks": 50, "unsubscribes": 3, "bounces": 3}
    assert {k: v for k, v in got.items() if k.endswith("@enterprise")} == {
        "sent@enterprise": 100, "opens@enterprise": 70, "unique_opens@enterprise": 50, "clicks@enterprise": 5,
        "unsubscribes@enterprise": 1, "bounces@enterprise": 0}


def test_listmonk_reads_the_documented_answer(listmonk, monkeypatch):
    """``GET /api/campaigns`` exactly as listmonk's documentation shows it (docs/docs/content/apis/
    campaigns.md, kept in tests/fixtures/listmonk/): a campaign without ``bounces`` reads as 0."""
    import json

    from conftest import FIXTURES
    from servers.base import Answer

    documented = json.loads((FIXTURES / "listmonk" / "get-campaigns.json").read_text(encoding="utf-8"))
    documented["data"]["results"][0].update(views=42, clicks=7, sent=120)
    monkeypatch.setattr(ListmonkServer, "index", lambda self, seen: Answer(200, documented))
    receipt = Receipt("1", None, NOW, ({"id": 1, "segment": "all"},))
    assert adapter(listmonk).fetch_metrics([receipt]) == {"1": {"sent": 120, "opens": 42, "clicks": 7, "bounces": 0}}


def test_check_names_a_segment_without_a_list(project, cli):
    from conftest import item

    files = {"content/launch.md": item("Launch day", status="approved", approved_by="editor", author="writer",
                                        publish_at="2026-11-20T09:00", channels=["news"],
                                        segments=["smb", "partners"])}
    settings = LISTMONK_SETTINGS.format(url="https://lists.test").replace("segments:\n", "segments:\n  partners: P\n")
    out = cli(project(files, settings), "check").output
    assert ("content/launch.md:7: channels.news: segment 'partners' has no listmonk list: add it under "
            "channels.news.lists in publish.yml") in out
    assert "segment 'smb'" not in out


# -- check --verify: the credential, and the lists and segments publish.yml names --------------------
def check_warnings(cli, root, env):
    import json

    result = cli(root, "check", "--format", "json", "--now", "2026-11-19T09:00:00Z", env=env)
    return [f"{w['key']}: {w['message']}" for w in json.loads(result.output)["warnings"]]


def test_listmonk_verify_asks_for_the_lists_publish_yml_names(project, cli):
    from conftest import item

    with ListmonkServer(lists=(1, 2)) as server:  # no list 3: enterprise's campaigns would be refused
        got = adapter(server).verify()
        assert got == {"account": f"newsroom at {server.url} (list 1, list 2)",
                       "problems": [(".lists.enterprise", "listmonk has no list 3 (set the id of one of its lists: "
                                                          "1, 2)")]}
        assert server.requests("/api/lists$")[0].query == {"per_page": ["all"]}
        refused = adapter(server, env={"LISTMONK_TOKEN": "stale"}).verify()
        assert (refused.message, refused.credential) == ("HTTP 403: invalid API credentials", "LISTMONK_TOKEN")

        files = {"content/launch.md": item("Launch day", status="approved", approved_by="editor", author="writer",
                                            publish_at="2026-11-20T09:00", channels=["news"], segments=["smb"])}
        root = project(files, LISTMONK_SETTINGS.format(url=server.url))
        assert check_warnings(cli, root, ENV) == ["channels.news.lists.enterprise: listmonk has no list 3 (set the id "
                                                  "of one of its lists: 1, 2)"]
        assert check_warnings(cli, root, {"LISTMONK_TOKEN": "stale"}) == [
            "channels.news: the credential does not work: HTTP 403: invalid API credentials (connect again with "
            "`publish auth news`)"]
        asked = len(server.requests("/api/lists$"))
        assert cli(root, "check", "--offline", env=ENV).exit_code == 0
        assert len(server.requests("/api/lists$")) == asked  # --offline asks nobody


def test_listmonk_read_the_documented_lists_answer(listmonk, monkeypatch):
    """``GET /api/lists`` as listmonk's documentation shows it (docs/docs/content/apis/lists.md, kept in
    tests/fixtures/listmonk/get-lists.json): lists 1 and 2, so a setting naming list 3 is a problem."""
    import json

    from conftest import FIXTURES
    from servers.base import Answer

    documented = json.loads((FIXTURES / "listmonk" / "get-lists.json").read_text(encoding="utf-8"))
    monkeypatch.setattr(ListmonkServer, "list_index", lambda self, seen: Answer(200, documented))
    assert adapter(listmonk).verify() == {"account": f"newsroom at {listmonk.url} (Default list, get)",
                                          "problems": [(".lists.enterprise", "listmonk has no list 3 (set the id of "
                                                                             "one of its lists: 1, 2)")]}


def test_listmonk_429_is_retryable_and_the_pull_says_so(listmonk):
    with ListmonkServer(per_minute=1) as server:
        a = adapter(server)
        first = a.deliver(letter(segment="smb"), context(KEY))  # the create goes through, the start is refused
        assert first.retryable and first.message == "HTTP 429: Too many requests"
        assert len(server.campaigns) == 1
        server.per_minute = None  # the budget is back: the same campaign is started, none created again
        again = a.deliver(letter(segment="smb"), context(KEY, journal=first_journal(a, server)))
        assert isinstance(again, Receipt) and len(server.campaigns) == 1
        server.per_minute, server.used = 0, 0
        busy = a.fetch_metrics([again])
        assert busy.retryable and busy.message == "HTTP 429: Too many requests"


def first_journal(a, server):
    """The journal a run keeps: the campaign created by the first attempt."""
    journal = Journal()
    (cid,) = server.campaigns
    journal.put("campaign:0", {"id": str(cid), "status": "draft"})
    return journal


def test_mailchimp_verify_asks_for_the_audience_and_its_saved_segments(mailchimp):
    assert mc(mailchimp).verify() == {"account": "Northwind Notes", "problems": []}
    paths = [s.path for s in mailchimp.seen]
    assert paths == ["/3.0/lists/a1b2c3d4e5", "/3.0/lists/a1b2c3d4e5/segments"]
    assert mc(mailchimp, segments={"smb": 101, "partners": 999}).verify() == {
        "account": "Northwind Notes",
        "problems": [(".segments.partners", "audience 'Northwind Notes' has no saved segment 999")]}
    assert mc(mailchimp, list_id="ffffffffff").verify() == {
        "account": "", "problems": [(".list_id", "Mailchimp has no audience 'ffffffffff' in this account")]}
    refused = mc(mailchimp, env={"MAILCHIMP_KEY": "nope-us21"}).verify()
    assert (refused.message, refused.credential) == (
        "HTTP 401: Your API key may be invalid, or you've attempted to access the wrong datacenter.", "MAILCHIMP_KEY")


def test_check_verify_names_mailchimps_missing_audience(project, cli, mailchimp, monkeypatch):
    from channels import registry
    from conftest import item

    class Aimed(Mailchimp):
        def __init__(self, config, env, *, base_url=None):
            super().__init__(config, env, base_url=base_url or mailchimp.url)

    monkeypatch.setitem(registry.TYPES, "mailchimp", Aimed)
    settings = LISTMONK_SETTINGS.split("channels:\n")[0] + (
        "channels:\n  mc:\n    type: mailchimp\n    api_key: env:MAILCHIMP_KEY\n    list_id: 0a0a0a0a0a\n"
        "    segments: {smb: 101}\n    from_name: Northwind\n    reply_to: news@northwind.example\n")
    files = {"content/launch.md": item("Launch day", status="approved", approved_by="editor", author="writer",
                                        publish_at="2026-11-20T09:00", channels=["mc"], segments=["smb"])}
    root = project(files, settings)
    assert check_warnings(cli, root, {"MAILCHIMP_KEY": MC_KEY}) == [
        "channels.mc.list_id: Mailchimp has no audience '0a0a0a0a0a' in this account"]


def test_mailchimp_429_past_ten_connections_at_once(mailchimp):
    """Ten requests held open by the account; the eleventh is Mailchimp's 429, retryable, in its words."""
    import threading
    import time

    import requests

    mailchimp.hold()
    auth = ("any", MC_KEY)
    threads = [threading.Thread(target=requests.get, args=(mailchimp.url + "/3.0/ping",), kwargs={"auth": auth,
                                                                                              "timeout": 30})
               for _ in range(10)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 10
    while mailchimp.in_flight < 10 and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        busy = mc(mailchimp).deliver(letter(), context(KEY))
        refused = mc(mailchimp).verify()
    finally:
        mailchimp.release()
        for t in threads:
            t.join()
    assert busy.retryable and busy.message == "HTTP 429: You have exceeded the limit of 10 simultaneous connections."
    assert refused.retryable and refused.status == 429
    assert mailchimp.campaigns == {}  # nothing was created by the refused request
    assert isinstance(mc(mailchimp).deliver(letter(), context(KEY)), Receipt)  # the connections freed
