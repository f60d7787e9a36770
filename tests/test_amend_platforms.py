"""Corrections and withdrawals on dev.to and Discord, each against its loopback server following the
platform's documented contract (forem/forem ``api/articles_controller.rb``; Discord's Edit and Delete
Webhook Message): the request sent, "not found", "not yours", rate limits, and repeats after a crash."""
from __future__ import annotations

import pytest

from channels.base import Failure, Receipt, Removal
from channels.devto import DevTo
from channels.discord import Discord
from newsroom import schema as s
from newsroom.model import ChannelConfig
from tests.servers import NOW, channel, context, post
from tests.servers.devto import DevtoServer
from tests.servers.discord import DiscordServer


# -- dev.to ---------------------------------------------------------------------------------------
@pytest.fixture
def devto():
    with DevtoServer() as srv:
        yield srv


def devto_adapter(server):
    return channel(DevTo, server, {"api_key": "env:DEVTO_KEY"}, {"DEVTO_KEY": "devto-key"})


def article_post(body):
    return post([body], type="devto", text=body, tags=["launch"])


def test_devto_correction_puts_the_article_again_and_withdrawal_unpublishes_it(devto):
    receipt = devto_adapter(devto).deliver(article_post("Launch on Tuesday"), context())
    assert not isinstance(receipt, Failure), receipt
    edited = devto_adapter(devto).edit(article_post("Launch on Wednesday"), receipt, context())
    assert isinstance(edited, Receipt) and edited.remote_id == receipt.remote_id and edited.url == receipt.url
    (put,) = devto.requests(r"/api/articles/\d+$", "PUT")
    assert put.path == f"/api/articles/{receipt.remote_id}" and put.headers["api-key"] == "devto-key"
    assert put.json["article"]["body_markdown"] == "Launch on Wednesday"
    assert put.json["article"]["canonical_url"] == "https://news.test/launch/"
    assert devto.articles[0]["body_markdown"] == "Launch on Wednesday" and devto.articles[0]["published"]

    removal = devto_adapter(devto).delete(receipt, context())
    assert isinstance(removal, Removal) and not removal.already
    assert devto.requests(method="PUT")[-1].json == {"article": {"published": False}}
    assert devto.articles[0]["published"] is False


def test_devto_not_found_and_not_yours_are_the_same_404(devto):
    theirs = devto.add_article("Someone else's")
    theirs["user_id"] = 999
    got = devto_adapter(devto).edit(article_post("x"), Receipt(str(theirs["id"]), None, NOW), context())
    assert isinstance(got, Failure) and not got.retryable and got.status == 404
    assert got.message == "HTTP 404: not found (the article is gone, or not this API key's)"
    gone = devto_adapter(devto).delete(Receipt("42", None, NOW), context())
    assert isinstance(gone, Removal) and gone.already


def test_devto_rate_limit_and_a_blank_title_come_back_as_said(devto):
    receipt = devto_adapter(devto).deliver(article_post("Text"), context())
    devto.fail(429, {"error": "Rate limit reached, try again in 30 seconds", "status": 429},
               headers={"Retry-After": "30"}, path=r"/api/articles/\d+$")
    limited = devto_adapter(devto).edit(article_post("New"), receipt, context())
    assert isinstance(limited, Failure) and limited.retryable and limited.retry_after == 30
    blank = devto_adapter(devto).edit(post(["x"], type="devto", title="", data={"title": ""}), receipt, context())
    assert isinstance(blank, Failure) and blank.message == "HTTP 422: Title can't be blank"


# -- Discord ----------------------------------------------------------------------------------------
@pytest.fixture
def discord():
    with DiscordServer() as srv:
        yield srv


def discord_adapter(server):
    config = ChannelConfig(name="community", type="discord", options={"webhook": s.SecretRef("DISCORD_URL")})
    return Discord(config, {"DISCORD_URL": server.webhook_url})


def test_discord_correction_patches_the_message_and_withdrawal_deletes_it(discord):
    receipt = discord_adapter(discord).deliver(post(["Launch on Tuesday"], type="discord"), context())
    assert not isinstance(receipt, Failure), receipt
    edited = discord_adapter(discord).edit(post(["Launch on Wednesday"], type="discord"), receipt, context())
    assert edited == receipt
    (patch,) = discord.requests(method="PATCH")
    assert patch.path == f"/api/webhooks/1234567890/webhook-token-secret/messages/{receipt.remote_id}"
    assert patch.json == {"content": "Launch on Wednesday", "allowed_mentions": {"parse": []}, "embeds": []}
    assert discord.messages[receipt.remote_id]["_edits"] == ["Launch on Wednesday"]

    removal = discord_adapter(discord).delete(receipt, context())
    assert isinstance(removal, Removal) and not removal.already and discord.deleted == [receipt.remote_id]
    again = discord_adapter(discord).delete(receipt, context(again=True))
    assert isinstance(again, Removal) and again.already  # 404 Unknown Message: gone already


def test_discord_unknown_and_foreign_messages_and_the_webhook_url_kept_out_of_messages(discord):
    gone = discord_adapter(discord).edit(post(["x"], type="discord"), Receipt("1", None, NOW), context())
    assert isinstance(gone, Failure) and not gone.retryable and gone.message == "HTTP 404: Unknown Message"
    other = discord.add_message("not ours", webhook_id="999")
    theirs = discord_adapter(discord).edit(post(["x"], type="discord"), Receipt(other["id"], None, NOW), context())
    assert isinstance(theirs, Failure) and theirs.status == 404 and theirs.message == "HTTP 404: Unknown Message"
    assert discord.messages[other["id"]]["content"] == "not ours"


def test_discord_spent_bucket_is_retryable_after_the_wait(discord):
    receipt = discord_adapter(discord).deliver(post(["x"], type="discord"), context())
    discord.remaining = 0
    limited = discord_adapter(discord).delete(receipt, context())
    assert isinstance(limited, Failure) and limited.retryable and limited.retry_after == 2
    assert receipt.remote_id in discord.messages


# -- LinkedIn -----------------------------------------------------------------------------------------
from channels.linkedin import LinkedIn  # noqa: E402
from tests.servers.linkedin import LinkedInServer  # noqa: E402

ORG = "urn:li:organization:2414183"


@pytest.fixture
def linkedin():
    with LinkedInServer() as srv:
        yield srv


def linkedin_adapter(server):
    return channel(LinkedIn, server, {"token": "env:LI_TOKEN", "author": ORG, "version": "202411"},
                   {"LI_TOKEN": "li-token"})


def test_linkedin_correction_is_a_partial_update_of_the_commentary_and_deletion_is_idempotent(linkedin):
    receipt = linkedin_adapter(linkedin).deliver(post(["Launch (Tuesday)"], type="linkedin"), context())
    assert not isinstance(receipt, Failure), receipt
    edited = linkedin_adapter(linkedin).edit(post(["Launch (Wednesday)"], type="linkedin"), receipt, context())
    assert edited == receipt
    (update,) = linkedin.requests(r"/rest/posts/.+", "POST")
    assert update.path == "/rest/posts/" + receipt.remote_id.replace(":", "%3A")
    assert update.headers["x-restli-method"] == "PARTIAL_UPDATE" and update.headers["linkedin-version"] == "202411"
    assert update.json == {"patch": {"$set": {"commentary": "Launch \\(Wednesday\\)"}}}
    assert linkedin.posts[0]["commentary"] == "Launch \\(Wednesday\\)"

    assert isinstance(linkedin_adapter(linkedin).delete(receipt, context()), Removal)
    assert linkedin.deleted == [receipt.remote_id] and not linkedin.posts
    again = linkedin_adapter(linkedin).delete(receipt, context(again=True))  # 204 again: idempotent
    assert isinstance(again, Removal) and len(linkedin.requests(method="DELETE")) == 2


def test_linkedin_unknown_and_foreign_posts(linkedin):
    missing = linkedin_adapter(linkedin).edit(post(["x"], type="linkedin"), Receipt("urn:li:share:1", None, NOW),
                                              context())
    assert isinstance(missing, Failure) and not missing.retryable
    assert missing.message == "HTTP 404: Not Found: urn:li:share:1"
    linkedin.posts.append({"id": "urn:li:share:9", "author": "urn:li:person:someone", "commentary": "theirs"})
    theirs = linkedin_adapter(linkedin).delete(Receipt("urn:li:share:9", None, NOW), context())
    assert isinstance(theirs, Failure) and theirs.status == 403
    assert theirs.message == "HTTP 403: Not enough permissions to access: delete /posts/urn:li:share:9"
    assert linkedin.posts[-1]["commentary"] == "theirs"


# -- X ------------------------------------------------------------------------------------------------
from channels.x import X  # noqa: E402
from tests.servers.x import XServer  # noqa: E402


@pytest.fixture
def xserver():
    with XServer() as srv:
        yield srv


def x_adapter(server):
    return channel(X, server, {"token": "env:X_TOKEN"}, {"X_TOKEN": "x-user-token"})


def test_x_deletes_each_post_of_the_thread_and_cannot_edit(xserver):
    receipt = x_adapter(xserver).deliver(post(["One", "Two"], type="x"), context())
    assert not isinstance(receipt, Failure), receipt
    ids = [p["id"] for p in receipt.parts]
    removal = x_adapter(xserver).delete(receipt, context())
    assert isinstance(removal, Removal) and not removal.already
    assert [r.path for r in xserver.requests(method="DELETE")] == [f"/2/tweets/{i}" for i in ids[::-1]]
    assert not xserver.tweets
    again = x_adapter(xserver).delete(receipt, context(again=True))  # v2's "200 with errors": gone
    assert isinstance(again, Removal) and again.already

    assert not X.EDITS
    said = x_adapter(xserver).edit(post(["x"], type="x"), receipt, context())
    assert said == Failure("x: X posts cannot be edited through the API (edit access is not offered to this app)")


def test_x_another_accounts_post_and_a_rate_limit(xserver):
    theirs = xserver.add_tweet("theirs")
    xserver.tweets[theirs]["author_id"] = "99"
    got = x_adapter(xserver).delete(Receipt(theirs, None, NOW), context())
    assert isinstance(got, Failure) and got.status == 403 and got.message == "HTTP 403: You are not allowed to delete this Tweet."
    xserver.remaining = 0
    limited = x_adapter(xserver).delete(Receipt(theirs, None, NOW), context())
    assert isinstance(limited, Failure) and limited.retryable and theirs in xserver.tweets


# -- Bluesky ----------------------------------------------------------------------------------------
from channels.bluesky import Bluesky  # noqa: E402
from tests.servers.bluesky import BlueskyServer  # noqa: E402


@pytest.fixture
def bsky():
    with BlueskyServer() as srv:
        yield srv


def bsky_adapter(server):
    return channel(Bluesky, server, {"handle": "newsroom.bsky.social", "app_password": "env:BSKY_APP_PASSWORD"},
                   {"BSKY_APP_PASSWORD": "app-pass-word"})


def test_bluesky_deletes_every_record_and_a_repeat_is_the_pds_no_op(bsky):
    receipt = bsky_adapter(bsky).deliver(post(["One", "Two"], type="bluesky"), context())
    assert not isinstance(receipt, Failure), receipt
    removal = bsky_adapter(bsky).delete(receipt, context())
    assert isinstance(removal, Removal) and not removal.already
    calls = [r.json for r in bsky.requests(r"deleteRecord")]
    assert [c["rkey"] for c in calls] == [p["id"].rsplit("/", 1)[1] for p in receipt.parts][::-1]
    assert all(c["collection"] == "app.bsky.feed.post" for c in calls)
    assert not [u for u in bsky.records if u in {p["id"] for p in receipt.parts}]
    again = bsky_adapter(bsky).delete(receipt, context(again=True))
    assert isinstance(again, Removal) and again.already


def test_bluesky_another_repo_is_refused_and_edits_are_said_impossible(bsky):
    theirs = Receipt("at://did:plc:ana00000000000000000000/app.bsky.feed.post/3l1", None, NOW)
    got = bsky_adapter(bsky).delete(theirs, context())
    assert isinstance(got, Failure) and got.status == 401
    assert got.message == "HTTP 401: AuthenticationRequired: Authentication Required"
    assert not Bluesky.EDITS and "cannot be edited" in Bluesky.CANNOT_EDIT
