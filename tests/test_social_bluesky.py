"""Bluesky: session reuse, record keys that make retries safe, facets in UTF-8 bytes, batched metrics."""
from __future__ import annotations

import pytest

from channels.base import Failure, Journal, Receipt
from channels.bluesky import Bluesky, facets, tid
from channels.social import MetricsError
from tests.servers import NOW, PNG, channel, context, image, post
from tests.servers.bluesky import DID, HANDLE, BlueskyServer, check_facets

ENV = {"BSKY_APP_PASSWORD": "app-pass-word"}
OPTIONS = {"handle": HANDLE, "app_password": "env:BSKY_APP_PASSWORD"}
PARTS = ["1/4 Launch day 🚀 #launch", "2/4 Café crème with @ana.bsky.social", "3/4 Read https://news.test/launch/ 👀",
         "4/4 Fin. #Überraschung"]


@pytest.fixture
def server():
    with BlueskyServer() as srv:
        yield srv


def adapter(server):
    return channel(Bluesky, server, OPTIONS, ENV)


def bsky_post(parts, **kw):
    return post(parts, type="bluesky", **kw)


def test_tid_is_13_sortable_characters():
    assert tid(0, 0) == "2222222222222"
    earlier, later = tid(1_700_000_000_000_000, 5), tid(1_700_000_000_000_001, 5)
    assert len(earlier) == 13 and earlier < later
    assert tid(1_732_350_000_000_000, 0)[0] in "234567abcdefghij"  # top bit stays 0


def test_facets_count_utf8_bytes():
    text = "Café 🚀 see https://news.test/é?x=1. Thanks @ana.bsky.social #Überraschung!"
    found = facets(text, {"ana.bsky.social": "did:plc:ana"}.get)
    raw = text.encode()
    spans = [raw[f["index"]["byteStart"]:f["index"]["byteEnd"]].decode() for f in found]
    assert spans == ["https://news.test/é?x=1", "@ana.bsky.social", "#Überraschung"]
    assert found[0]["index"] == {"byteStart": 15, "byteEnd": 39}  # "Café 🚀 see " is 15 bytes, 10 characters
    assert [f["features"][0]["$type"].rsplit("#", 1)[1] for f in found] == ["link", "mention", "tag"]
    assert found[2]["features"][0]["tag"] == "Überraschung"


def test_server_refuses_character_offsets():
    text = "🚀 #launch"
    wrong = {"text": text, "facets": [{"index": {"byteStart": 2, "byteEnd": 9},
                                       "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "launch"}]}]}
    assert check_facets(wrong).startswith("Invalid facet")
    assert check_facets({"text": text, "facets": facets(text)}) is None


def test_thread_of_four_with_image_posts_in_order(server, tmp_path):
    ctx = context(key="2026/launch|bluesky|abc123")
    a = adapter(server)
    receipt = a.deliver(bsky_post(PARTS, media=[image(tmp_path)]), ctx)
    assert not isinstance(receipt, Failure), receipt
    creates = server.requests("createRecord")
    records = [c.json["record"] for c in creates]
    assert [r["text"] for r in records] == PARTS
    assert [c.json["rkey"] for c in creates] == [ctx.journal.get(f"rkey:{i}") for i in range(4)]
    assert all(c.json["repo"] == DID and c.json["collection"] == "app.bsky.feed.post" for c in creates)
    # reply chain: root is part 1, parent the part before
    uris = [p["id"] for p in receipt.parts]
    assert "reply" not in records[0]
    for i in range(1, 4):
        assert records[i]["reply"]["root"]["uri"] == uris[0]
        assert records[i]["reply"]["parent"] == {"uri": uris[i - 1], "cid": receipt.parts[i - 1]["cid"]}
    embed = records[0]["embed"]
    assert embed["$type"] == "app.bsky.embed.images" and embed["images"][0]["alt"] == "A rocket on the launch pad"
    assert server.blobs[embed["images"][0]["image"]["ref"]["$link"]] == PNG
    assert server.requests("uploadBlob")[0].headers["content-type"] == "image/png"
    # facets passed the server's byte check, mention resolved to a DID
    assert records[1]["facets"][0]["features"][0] == {"$type": "app.bsky.richtext.facet#mention",
                                                       "did": "did:plc:ana00000000000000000000"}
    assert records[0]["createdAt"] == "2026-11-23T09:00:00Z"
    assert receipt.url == f"https://bsky.app/profile/{HANDLE}/post/{ctx.journal.get('rkey:0')}"
    assert a.logins == 1 and len(server.requests("createSession")) == 1


def test_dropped_connection_then_retry_posts_no_duplicate(server, tmp_path):
    journal = Journal()
    server.drop("createRecord", times=1)
    server.drop("getRecord", times=1)  # the confirmation right after is lost too
    a = adapter(server)
    first = a.deliver(bsky_post(PARTS, media=[image(tmp_path)]), context(journal=journal))
    assert isinstance(first, Failure) and first.ambiguous and first.partial == ()
    assert first.message.startswith("part 1 of 4: connection failed")
    assert len(server.records) == 1
    again = a.deliver(bsky_post(PARTS, media=[image(tmp_path)]), context(journal=journal))
    assert not isinstance(again, Failure), again
    assert len(server.records) == 4
    # the retry asked getRecord for the key it had chosen and did not write part 1 again
    assert len(server.requests("createRecord")) == 4
    assert server.requests("getRecord")[-1].query["rkey"] == [journal.get("rkey:0")]
    assert len(server.requests("uploadBlob")) == 1


def test_a_reused_record_key_is_refused_and_confirmed_with_get_record(server):
    journal = Journal()
    a = adapter(server)
    done = a.deliver(bsky_post(["one"]), context(journal=journal))
    # a run that lost its receipt but kept the key writes again: the PDS refuses with a 500
    journal.put("part:0", None)
    journal.put("sent:0", False)
    again = a.deliver(bsky_post(["one"]), context(journal=journal))
    assert again.remote_id == done.remote_id and len(server.records) == 1
    refused = [s for s in server.requests("createRecord")][-1]
    assert refused.json["rkey"] == journal.get("rkey:0")


def test_session_is_reused_and_refreshed(server):
    a = adapter(server)
    a.deliver(bsky_post(["one"]), context(key="k1"))
    server.expire_access()
    second = a.deliver(bsky_post(["two"]), context(key="k2"))
    assert not isinstance(second, Failure), second
    assert a.logins == 1 and a.refreshes == 1
    assert server.requests("refreshSession")[0].headers["authorization"] == "Bearer refresh-1"


def test_wrong_app_password_says_so(server):
    a = channel(Bluesky, server, OPTIONS, {"BSKY_APP_PASSWORD": "nope"})
    failed = a.deliver(bsky_post(["x"]), context())
    assert failed.message == "sign-in: HTTP 401: AuthenticationRequired: Invalid identifier or password"


def test_reconcile_finds_parts_by_record_key(server):
    journal = Journal()
    a = adapter(server)
    server.drop("createRecord", times=1)
    server.drop("getRecord", times=1)
    a.deliver(bsky_post(["only"]), context(journal=journal))
    receipt = a.reconcile(bsky_post(["only"]), context(journal=journal))
    assert receipt is not None and receipt.remote_id.endswith(journal.get("rkey:0"))
    assert a.reconcile(bsky_post(["fresh"]), context(journal=Journal())) is None


def test_metrics_for_2000_posts_in_batches_of_25(server):
    uris = [server.add_post(f"p{i}", likes=i, reposts=1, replies=2, quotes=3, bookmarks=4) for i in range(2000)]
    a = adapter(server)
    got = a.fetch_metrics([Receipt(u, None, NOW) for u in uris])
    calls = server.requests("getPosts")
    assert len(calls) == 80 and a.requests_made == 80
    assert max(len(c.query["uris"]) for c in calls) == 25
    assert got[uris[9]] == {"likes": 9, "shares": 1, "replies": 2, "quotes": 3, "bookmarks": 4}
    assert len(got) == 2000


def test_metrics_wait_for_rate_limit_reset(server):
    uris = [server.add_post(f"p{i}") for i in range(100)]
    server.remaining = 2  # the sign-in is free; two reads left, then the window must reset
    a = adapter(server)
    a.CONCURRENCY = 1
    slept = []

    def sleep(seconds):
        slept.append(round(seconds))
        server.remaining = 3000

    a.gate.sleep, a.gate.clock = sleep, (lambda: server.reset - 60)
    assert len(a.fetch_metrics([Receipt(u, None, NOW) for u in uris])) == 100
    assert slept == [60]


def test_metrics_429_is_waited_out_then_error_message(server):
    uris = [server.add_post("p")]
    a = adapter(server)
    a.gate.sleep = lambda s: None
    server.fail(429, {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}, path="getPosts",
                headers={"Retry-After": "1"})
    assert len(a.fetch_metrics([Receipt(u, None, NOW) for u in uris])) == 1
    server.fail(400, {"error": "InvalidRequest", "message": "Error: uris/0 must be a valid at-uri"}, path="getPosts")
    with pytest.raises(MetricsError, match="^bluesky: HTTP 400: InvalidRequest: Error: uris/0 must be a valid at-uri$"):
        a.fetch_metrics([Receipt("nope", None, NOW)])


def test_replies_from_the_thread_mark_our_own(server):
    root = server.add_post("our post")
    part2 = server.add_post("our part 2", reply_to=root)
    theirs = server.add_post("Génial 🎉", author=("did:plc:ana00000000000000000000", "ana.bsky.social"), reply_to=root)
    ours = server.add_post("Merci !", reply_to=theirs)
    receipt = Receipt(root, None, NOW, parts=({"id": root}, {"id": part2}))
    replies = adapter(server).fetch_replies([receipt])
    assert [(r.author, r.text, r.ours, r.in_reply_to) for r in replies] == [
        ("ana.bsky.social", "Génial 🎉", False, root), (HANDLE, "Merci !", True, theirs)]
    assert replies[0].url == f"https://bsky.app/profile/ana.bsky.social/post/{theirs.rsplit('/', 1)[1]}"
    assert [r.remote_id for r in replies] == [theirs, ours]


def test_stalled_write_times_out_and_the_retry_finds_the_record(server, monkeypatch):
    from channels import http

    monkeypatch.setitem(http.request.__kwdefaults__, "timeout", (2, 0.3))
    server.stall(0.8, path="createRecord")  # the PDS writes, but answers after we stopped waiting
    journal = Journal()
    a = adapter(server)
    first = a.deliver(bsky_post(["slow"]), context(journal=journal))
    assert isinstance(first, Failure) and first.ambiguous and first.message.startswith("no answer in time")
    import time

    time.sleep(0.8)
    again = a.deliver(bsky_post(["slow"]), context(journal=journal))
    assert not isinstance(again, Failure) and len(server.records) == 1


def test_a_key_holding_another_post_is_not_taken_for_ours_a_new_key_is(server):
    journal = Journal()
    a = adapter(server)
    a.deliver(bsky_post(["first entry"]), context(journal=journal))
    taken = journal.get("rkey:0")
    other = Journal({"rkey:0": taken})  # the same key, chosen by another entry (a key of ours collided)
    done = a.deliver(bsky_post(["second entry"]), context(key="2026/other|bluesky|abc123", journal=other))
    assert not isinstance(done, Failure), done
    assert other.get("rkey:0") != taken and done.remote_id.endswith(other.get("rkey:0"))
    assert sorted(r["value"]["text"] for r in server.records.values()) == ["first entry", "second entry"]


def test_an_earlier_text_of_our_own_under_the_key_is_ours_after_an_edit(server):
    journal = Journal()
    server.drop("createRecord", times=1)
    server.drop("getRecord", times=1)
    a = adapter(server)
    first = a.deliver(bsky_post(["before the edit"]), context(journal=journal))
    assert isinstance(first, Failure) and first.ambiguous
    done = a.deliver(bsky_post(["after the edit"]), context(journal=journal))
    assert not isinstance(done, Failure) and len(server.records) == 1
    assert done.remote_id.endswith(journal.get("rkey:0"))


def test_distinct_entries_of_one_run_get_distinct_record_keys(server):
    a = adapter(server)
    keys = {a.record_key(context(key=f"2026/item-{n}|bluesky|abc123"), 0) for n in range(3000)}
    assert len(keys) == 3000


def test_a_server_down_while_reconciling_is_a_failure_to_retry_not_a_question(server):
    journal = Journal()
    a = adapter(server)
    server.drop("createRecord", times=1)
    server.drop("getRecord", times=1)
    a.deliver(bsky_post(["only"]), context(journal=journal))
    server.fail(502, {"error": "BadGateway"}, path="getRecord")
    got = a.reconcile(bsky_post(["only"]), context(journal=journal))
    assert isinstance(got, Failure) and got.retryable and got.message.startswith(
        f"cannot check record {journal.get('rkey:0')}: HTTP 502")
    receipt = a.reconcile(bsky_post(["only"]), context(journal=journal))
    assert isinstance(receipt, Receipt) and receipt.remote_id.endswith(journal.get("rkey:0"))


def test_connection_dropped_mid_thread_resumes_the_reply_chain(server, tmp_path):
    journal = Journal()
    server.drop("createRecord", skip=2)  # parts 1 and 2 answered, part 3 written but unanswered
    server.drop("getRecord")
    a = adapter(server)
    failed = a.deliver(bsky_post(PARTS, media=[image(tmp_path)]), context(journal=journal))
    assert failed.message.startswith("part 3 of 4: connection failed") and len(failed.partial) == 2
    done = a.deliver(bsky_post(PARTS, media=[image(tmp_path)]), context(journal=journal))
    assert [server.records[p["id"]]["value"]["text"] for p in done.parts] == PARTS
    assert len(server.records) == 4
    last = server.records[done.parts[3]["id"]]["value"]["reply"]
    assert last["parent"]["uri"] == done.parts[2]["id"] and last["root"]["uri"] == done.parts[0]["id"]


def test_real_post_views_from_the_appview_snapshots(server):
    """postViews as Bluesky's AppView returns them in its own tests
    (bluesky-social/atproto packages/bsky/tests/views/__snapshots__/posts.test.ts.snap)."""
    import json
    from pathlib import Path

    recorded = json.loads((Path(__file__).parent / "fixtures" / "social" / "bluesky_get_posts.json").read_text())
    server.fail(200, recorded["body"], path="getPosts")
    got = adapter(server).fetch_metrics([Receipt("record(0)", None, NOW), Receipt("record(2)", None, NOW)])
    assert got == {"record(0)": {"likes": 0, "shares": 0, "replies": 0, "quotes": 0, "bookmarks": 0},
                   "record(2)": {"likes": 3, "shares": 1, "replies": 2, "quotes": 0, "bookmarks": 0}}


def test_a_thread_is_split_so_each_part_fits_3000_bytes_as_well_as_300_graphemes(project, cli):
    import json

    from conftest import item

    words = " ".join(["👨\u200d👩\u200d👧\u200d👦" * 5 + "."] * 100)  # 7 graphemes and 127 bytes a sentence
    root = project(files={"content/fam.md": item("Family", status="draft", body=words + "\n",
                                                 channels={"bluesky": {"thread": True}}),
                          "templates/bluesky/thread.j2": "{{ body_text }}\n"},
                   settings="site: {title: T, url: https://news.test}\ntimezone: UTC\nchannels:\n"
                            "  bluesky: {type: bluesky, handle: a.test, app_password: env:BSKY_APP_PASSWORD}\n")
    got = json.loads(cli(root, "render", "content/fam.md", "--channel", "bluesky", "--format", "json").output)
    texts = got[0]["parts"]
    assert len(texts) > 1 and got[0]["problems"] == []
    assert all(len(t.encode()) <= 3000 for t in texts), [len(t.encode()) for t in texts]
    assert max(len(t.encode()) for t in texts) > 2500  # filled up to the byte limit, not cut short
