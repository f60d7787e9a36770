"""Slack, Discord and the generic signed webhook against loopback servers that answer as documented."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest

from channels.base import CannotReconcile, DeliveryContext, Failure, Media, Post, Receipt
from channels.discord import Discord
from channels.slack import Slack
from channels.webhook import Webhook, sign, verify
from hookserver import Answer, HookServer
from newsroom import schema as s
from newsroom.model import ChannelConfig

KEY = "autumn-release/team-chat"
SLACK_PATH = "/services/T0001/B0002/XXXXsecretXXXX"
DISCORD_PATH = "/api/webhooks/1234567890/tok-secret-token"
HOOK_PATH = "/hooks/partner/k-secret-path"


def make(cls, name: str, env: dict, **options):
    values = {k.name: (k.default() if callable(k.default) else k.default) for k in cls.OPTIONS.keys}
    values.update(options)
    channel = cls(ChannelConfig(name=name, type=cls.TYPE, options=values), env)
    channel.timeout = (1, 0.5)
    return channel


def post(**kw) -> Post:
    base = dict(channel="team-chat", type="slack", item_id="autumn-release", item_path="content/2026/11/autumn-release.md",
                revision="r1", title="The autumn release", url="https://news.test/autumn-release/",
                parts=["The autumn release is out: reorder points <and> more & better\n\nhttps://news.test/autumn-release/"],
                media=[Media(src="https://news.test/img/autumn.png", alt="A forklift in autumn leaves")])
    base.update(kw)
    return Post(**base)


def ctx(now=None, **kw) -> DeliveryContext:
    return DeliveryContext(key=KEY, now=now or datetime.now(timezone.utc), sleep=lambda s: None, **kw)


# -- Slack --------------------------------------------------------------------------------------

def slack(server: HookServer) -> Slack:
    return make(Slack, "team-chat", {"SLACK_WEBHOOK_URL": server.base + SLACK_PATH},
                webhook=s.SecretRef("SLACK_WEBHOOK_URL"))


def test_slack_posts_text_and_blocks_and_accepts_ok():
    mrkdwn = "The autumn release is out: reorder points &lt;and&gt; more &amp; better\n\nhttps://news.test/autumn-release/"
    with HookServer().queue(Answer(200, "ok")) as server:
        result = slack(server).deliver(post(parts=[mrkdwn]), ctx())  # parts come escaped by the templates
    assert isinstance(result, Receipt) and result.remote_id == KEY and result.url is None
    (seen,) = server.requests
    assert seen.path == SLACK_PATH and seen.headers["Content-Type"] == "application/json; charset=utf-8"
    assert seen.headers["User-Agent"].startswith("newsroom-publish/")
    body = seen.json()
    escaped = "The autumn release is out: reorder points &lt;and&gt; more &amp; better\n\nhttps://news.test/autumn-release/"
    assert body == {"text": escaped, "blocks": [
        {"type": "section", "text": {"type": "mrkdwn", "text": escaped}},
        {"type": "image", "image_url": "https://news.test/img/autumn.png", "alt_text": "A forklift in autumn leaves"}]}


def test_slack_uses_the_templates_blocks_when_given():
    blocks = [{"type": "header", "text": {"type": "plain_text", "text": "Autumn"}}]
    with HookServer().queue(Answer(200, "ok")) as server:
        slack(server).deliver(post(data={"blocks": blocks}), ctx())
    assert server.requests[0].json()["blocks"] == blocks


@pytest.mark.parametrize("status, body, retryable", [
    (404, "no_service", False), (403, "invalid_token", False), (410, "channel_is_archived", False)])
def test_slack_revoked_webhook_names_the_variable_never_the_url(status, body, retryable):
    with HookServer().queue(Answer(status, body)) as server:
        result = slack(server).deliver(post(), ctx())
    assert result == Failure(f"HTTP {status}: {body} — the Slack webhook was revoked or is wrong: create a new one "
                             "and put it in SLACK_WEBHOOK_URL", retryable=retryable, status=status)


def test_slack_rate_limit_and_server_error():
    with HookServer().queue(Answer(429, "rate_limited", {"Retry-After": "30"}), Answer(500, "rollup_error")) as server:
        limited = slack(server).deliver(post(), ctx())
        broken = slack(server).deliver(post(), ctx())
    assert limited == Failure("HTTP 429: rate_limited", retryable=True, retry_after=30.0, status=429)
    assert broken == Failure("HTTP 500: rollup_error", retryable=True, status=500)


def test_slack_timeout_is_retryable_ambiguous_and_hides_the_url():
    with HookServer().queue(Answer(200, "ok", delay=1.5)) as server:
        result = slack(server).deliver(post(), ctx())
    assert result.retryable and result.ambiguous and result.message.startswith("no answer in time: ")
    assert "XXXXsecretXXXX" not in result.message


def test_slack_unreachable_hides_the_url():
    with HookServer() as server:
        channel = slack(server)
    result = channel.deliver(post(), ctx())  # the server is gone: connection refused, so surely not sent
    port = server.url.rsplit(":", 1)[1]
    assert result == Failure(f"could not connect: connection refused at 127.0.0.1:{port} (nothing was sent)",
                             retryable=True)  # not ambiguous: retried, never left for a person
    assert "XXXXsecretXXXX" not in result.message and "T0001" not in result.message


def test_slack_missing_variable_and_reconcile():
    channel = make(Slack, "team-chat", {}, webhook=s.SecretRef("SLACK_WEBHOOK_URL"))
    assert channel.deliver(post(), ctx()) == Failure(
        "channel 'team-chat': webhook is not set: put the URL in the environment variable SLACK_WEBHOOK_URL "
        "(never in publish.yml)")
    with pytest.raises(CannotReconcile):
        channel.reconcile(post(), ctx())


# -- Discord ------------------------------------------------------------------------------------

MESSAGE = {"id": "1310000000000000001", "type": 0, "content": "", "channel_id": "1200000000000000002",
           "guild_id": "1100000000000000003", "webhook_id": "1234567890", "author": {"bot": True, "id": "1234567890"}}
BUCKET = {"X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "4", "X-RateLimit-Reset": "1800000000.5",
          "X-RateLimit-Reset-After": "1.5", "X-RateLimit-Bucket": "abcd1234"}


def discord(server: HookServer) -> Discord:
    return make(Discord, "community-discord", {"DISCORD_WEBHOOK_URL": server.base + DISCORD_PATH},
                webhook=s.SecretRef("DISCORD_WEBHOOK_URL"))


def discord_answer(seen):
    if seen.query.get("wait") != ["true"]:
        return Answer(204)  # without wait=true Discord returns no message
    return Answer(200, {**MESSAGE, "content": seen.json()["content"]}, dict(BUCKET))


def test_discord_waits_for_the_message_and_keeps_its_id():
    with HookServer(respond=discord_answer) as server:
        result = discord(server).deliver(post(type="discord"), ctx())
    assert result.remote_id == "1310000000000000001"
    assert result.url == "https://discord.com/channels/1100000000000000003/1200000000000000002/1310000000000000001"
    assert result.data == {"channel_id": "1200000000000000002", "webhook_id": "1234567890"}
    (seen,) = server.requests
    assert seen.path == DISCORD_PATH and seen.query == {"wait": ["true"]}
    body = seen.json()
    assert body["allowed_mentions"] == {"parse": []}
    assert body["content"].startswith("The autumn release is out: reorder points <and> more & better")
    assert body["embeds"] == [{"image": {"url": "https://news.test/img/autumn.png"},
                               "description": "A forklift in autumn leaves"}]


def test_discord_empty_bucket_waits_reset_after():
    waits = []
    headers = {**BUCKET, "X-RateLimit-Remaining": "0"}
    with HookServer().queue(Answer(200, MESSAGE, headers)) as server:
        discord(server).deliver(post(type="discord"), DeliveryContext(key=KEY, now=datetime.now(timezone.utc),
                                                                      sleep=waits.append))
    assert waits == [1.5]


def test_discord_rate_limited_unknown_webhook_and_5xx():
    limited = Answer(429, {"message": "You are being rate limited.", "retry_after": 1.5, "global": False},
                     {"Retry-After": "2", "X-RateLimit-Scope": "user", **BUCKET, "X-RateLimit-Remaining": "0"})
    unknown = Answer(404, {"message": "Unknown Webhook", "code": 10015})
    with HookServer().queue(limited, unknown, Answer(502, "<html>Bad gateway</html>")) as server:
        channel = discord(server)
        results = [channel.deliver(post(type="discord"), ctx()) for _ in range(3)]
    assert results[0] == Failure("HTTP 429: You are being rate limited.", retryable=True, retry_after=2.0, status=429)
    assert results[1] == Failure("HTTP 404: Unknown Webhook — the Discord webhook was revoked or is wrong: create a "
                                 "new one and put it in DISCORD_WEBHOOK_URL", status=404)
    assert results[2].retryable and results[2].ambiguous and results[2].status == 502


def test_discord_refuses_content_over_2000_characters_before_sending():
    with HookServer() as server:
        result = discord(server).deliver(post(type="discord", parts=["x" * 2001]), ctx())
    assert result == Failure("the message is 2001 characters; Discord allows 2000") and server.requests == []


def test_discord_cannot_reconcile():
    with HookServer() as server:
        with pytest.raises(CannotReconcile, match="needs a bot"):
            discord(server).reconcile(post(type="discord"), ctx())


# -- the generic signed webhook -----------------------------------------------------------------

SECRET = "whsec-test-signing-key"


def webhook(server: HookServer, **options) -> Webhook:
    return make(Webhook, "partner-hook", {"PARTNER_URL": server.base + HOOK_PATH, "PARTNER_SECRET": SECRET},
                url=s.SecretRef("PARTNER_URL"), signing_secret=s.SecretRef("PARTNER_SECRET"), **options)


def receiver(seen):
    """What a receiver does: verify the signature over timestamp + raw body with its own clock."""
    ok = verify(SECRET, seen.headers.get("X-Newsroom-Timestamp"), seen.body,
                seen.headers.get("X-Newsroom-Signature"), now=time.time())
    if not ok:
        return Answer(401, {"error": "invalid signature or stale timestamp"})
    return Answer(202, {"id": "evt_42", "url": "https://partner.test/events/evt_42"})


def test_webhook_signature_verifies_on_the_receiving_side():
    now = datetime.now(timezone.utc)
    with HookServer(respond=receiver) as server:
        result = webhook(server).deliver(post(type="webhook"), ctx(now))
    assert result.remote_id == "evt_42" and result.url == "https://partner.test/events/evt_42"
    (seen,) = server.requests
    timestamp = seen.headers["X-Newsroom-Timestamp"]
    assert timestamp == str(int(now.timestamp()))
    assert seen.headers["X-Newsroom-Signature"] == sign(SECRET, timestamp, seen.body)
    assert seen.headers["X-Newsroom-Delivery"] == KEY
    body = seen.json()
    assert body["event"] == "entry.delivered" and body["delivery"] == KEY
    assert body["item"] == {"id": "autumn-release", "revision": "r1", "title": "The autumn release",
                            "url": "https://news.test/autumn-release/", "tags": []}
    assert body["media"] == [{"src": "https://news.test/img/autumn.png", "alt": "A forklift in autumn leaves"}]


def test_webhook_stale_timestamp_or_wrong_key_is_rejected_by_the_receiver():
    with HookServer(respond=receiver) as server:
        stale = webhook(server).deliver(post(type="webhook"), ctx(datetime.now(timezone.utc) - timedelta(minutes=10)))
        wrong = webhook(server)
        wrong.env = {**wrong.env, "PARTNER_SECRET": "not-the-key"}
        forged = wrong.deliver(post(type="webhook"), ctx())
    for result in (stale, forged):
        assert result == Failure("HTTP 401: invalid signature or stale timestamp", status=401)
    assert SECRET not in str(server.requests[0].headers)


def test_webhook_gone_rate_limited_and_timeout():
    answers = (Answer(410, {"error": "endpoint disabled"}), Answer(429, "", {"Retry-After": "7"}),
               Answer(202, {}, delay=1.5))
    with HookServer().queue(*answers) as server:
        channel = webhook(server)
        gone, limited, slow = (channel.deliver(post(type="webhook"), ctx()) for _ in range(3))
    assert gone == Failure("HTTP 410: endpoint disabled — the webhook endpoint was revoked or is wrong: create a new "
                           "one and put it in PARTNER_URL", status=410)
    assert limited.retryable and limited.retry_after == 7.0
    assert slow.ambiguous and "k-secret-path" not in slow.message


def test_webhook_reconcile_only_when_the_receiver_dedupes():
    with HookServer() as server:
        assert webhook(server, dedupes=True).reconcile(post(type="webhook"), ctx()) is None
        with pytest.raises(CannotReconcile, match="set dedupes: true on channel 'partner-hook'"):
            webhook(server).reconcile(post(type="webhook"), ctx())


# -- with the real rendering --------------------------------------------------------------------

def rendered(channel_name: str, env: dict):
    from channels import registry
    from channels.render import render_post
    from conftest import ROOT
    from newsroom.project import load_project

    project = load_project(ROOT, channel_types=registry.option_schemas(), channel_overrides=registry.override_schemas())
    channel = registry.build(project.settings.channels[channel_name], env)
    channel.timeout = (1, 0.5)
    item = next(i for i in project.items if i.id == "autumn-release")
    return channel, render_post(project, item, channel)


def test_rendered_slack_post_goes_out_with_the_renderings_blocks():
    with HookServer().queue(Answer(200, "ok")) as server:
        channel, rendered_post = rendered("team-slack", {"SLACK_WEBHOOK_URL": server.base + SLACK_PATH})
        assert isinstance(channel.deliver(rendered_post, ctx()), Receipt)
    body = server.requests[0].json()
    assert body["blocks"] == rendered_post.data["blocks"] and body["text"] == "\n\n".join(rendered_post.parts)
    assert body["blocks"][-1]["type"] == "actions"


def test_rendered_webhook_payload_is_signed_as_sent():
    with HookServer(respond=receiver) as server:
        channel, rendered_post = rendered("partner-hook", {"PARTNER_WEBHOOK_URL": server.base + HOOK_PATH,
                                                            "PARTNER_WEBHOOK_SECRET": SECRET})
        result = channel.deliver(rendered_post, ctx())
    assert result.remote_id == "evt_42"
    body = server.requests[0].json()
    assert body == {**rendered_post.data["payload"], "delivery": KEY, "channel": "partner-hook"}


def test_discord_metrics_are_the_reactions_on_each_message_we_sent():
    def answer(seen):
        message_id = seen.path.rsplit("/", 1)[1]
        if message_id == "1310000000000000009":
            return Answer(404, {"message": "Unknown Message", "code": 10008})
        return Answer(200, {**MESSAGE, "id": message_id, "reactions": [
            {"count": 3, "me": False, "emoji": {"id": None, "name": "🎉"}},
            {"count": 2, "me": False, "emoji": {"id": None, "name": "👍"}}]}, dict(BUCKET))

    receipts = [Receipt(remote_id=i, url=None, at=datetime.now(timezone.utc))
                for i in ("1310000000000000001", "1310000000000000009")]
    with HookServer(respond=answer) as server:
        metrics = discord(server).fetch_metrics(receipts)
    assert metrics == {"1310000000000000001": {"likes": 5}}
    assert [(r.method, r.path) for r in server.requests] == [
        ("GET", DISCORD_PATH + "/messages/1310000000000000001"), ("GET", DISCORD_PATH + "/messages/1310000000000000009")]
