"""Contract tests of the Bluesky adapter against the reference PDS (npm ``@atproto/dev-env``).

What the loopback fake (tests/servers/bluesky.py) cannot show is shown here by the platform's own
server: records and blobs read back from the repo, facets compared byte for byte, the 500 for a
record key already taken, the 400 for a text over 3,000 bytes, a refused password, an outage in the
middle of a thread. The fake stays for rate-limit headers and metrics (the PDS has no AppView).

Started once per test session (per xdist worker) by ``tests/servers/pds.py``; skipped only where
Node.js is missing.
"""
from __future__ import annotations

import json
import subprocess
import textwrap

import pytest
from click.testing import CliRunner

from channels.base import Failure, Journal, Receipt
from channels.bluesky import Bluesky, facets
from conftest import item, write_project
from tests.servers import PNG, channel, context, image, post
from tests.servers.pds import FOLDER, ReferencePds, Relay, node_missing

NSID = "app.bsky.feed.post"
T = "2026-11-20T09:00:00Z"


@pytest.fixture(scope="session")
def pds():
    why = node_missing()
    if why:
        pytest.skip(why)
    server = ReferencePds()
    yield server
    server.start()
    server.close()


@pytest.fixture
def account(pds):
    return pds.account()


@pytest.fixture
def relay(pds):
    with Relay(pds.url) as r:
        yield r


def adapter(url: str, account: dict, password: str | None = None) -> Bluesky:
    bsky = channel(Bluesky, None, {"handle": account["handle"], "app_password": "env:BSKY_APP_PASSWORD",
                                   "service": url},
                   {"BSKY_APP_PASSWORD": password or account["app_password"]})
    return bsky


def bsky_post(parts, **kw):
    return post(parts, type="bluesky", **kw)


def by_rkey(pds, account) -> dict[str, dict]:
    return {r["uri"].rsplit("/", 1)[1]: r for r in pds.records(account)}


# -- the adapter against the PDS ------------------------------------------------------------------
def test_a_post_reads_back_as_sent_with_langs(pds, account):
    ctx = context(key="2026/launch|bluesky|abc123")
    receipt = adapter(pds.url, account).deliver(bsky_post(["Launch day 🚀"], language="de"), ctx)
    assert isinstance(receipt, Receipt), receipt
    [record] = pds.records(account)
    assert record["uri"] == receipt.remote_id == f"at://{account['did']}/{NSID}/{ctx.journal.get('rkey:0')}"
    assert record["value"] == {"$type": NSID, "text": "Launch day 🚀", "createdAt": "2026-11-23T09:00:00Z",
                               "langs": ["de"]}
    assert receipt.url == f"https://bsky.app/profile/{account['handle']}/post/{ctx.journal.get('rkey:0')}"


def test_a_thread_with_an_image_chains_its_replies_and_keeps_the_blob(pds, account, tmp_path):
    parts = ["1/3 Launch day 🚀 #launch", "2/3 Café crème", "3/3 Fin."]
    receipt = adapter(pds.url, account).deliver(bsky_post(parts, media=[image(tmp_path)]), context())
    assert isinstance(receipt, Receipt), receipt
    records = {r["uri"]: r for r in pds.records(account)}
    values = [records[p["id"]]["value"] for p in receipt.parts]
    assert [v["text"] for v in values] == parts
    assert "reply" not in values[0]
    for i in (1, 2):
        assert values[i]["reply"]["root"] == {"uri": receipt.parts[0]["id"], "cid": receipt.parts[0]["cid"]}
        assert values[i]["reply"]["parent"] == {"uri": receipt.parts[i - 1]["id"], "cid": receipt.parts[i - 1]["cid"]}
    [img] = values[0]["embed"]["images"]
    assert img["alt"] == "A rocket on the launch pad" and img["image"]["mimeType"] == "image/png"
    assert pds.blob(account, img["image"]["ref"]["$link"]) == PNG


FACET_TEXTS = [
    "Café 🚀 see https://news.test/é?x=1. Thanks #Überraschung!",
    "Read https://en.wikipedia.org/wiki/Thing_(x) and (https://news.test/a) #a#b #tag.",
    "#123 #1a ＃full $AAPL, $toolong ($msft) HTTPS://NEWS.TEST/Path!! end #🚀",
    "Docs at example.com/start, (northwind.io) and Example.COM or news.test.\nwww.example.org/x?y=1!",
]


def reference_facets(texts: list[str]) -> list[list[dict]]:
    """What @atproto/api's RichText.detectFacetsWithoutResolution finds (tests/pds/facets.mjs)."""
    done = subprocess.run(["node", str(FOLDER / "facets.mjs")], input=json.dumps(texts), capture_output=True,
                          text=True, cwd=FOLDER, timeout=60, check=True)
    return [[{k: v for k, v in f.items() if k != "$type"} for f in found] for found in json.loads(done.stdout)]


def test_facets_are_the_reference_detectors_and_land_on_the_same_bytes(pds, account):
    mention = f"Thanks @{account['handle']} for it"
    expected = reference_facets([*FACET_TEXTS, mention])
    for text, want in zip(FACET_TEXTS, expected):
        assert facets(text) == want, text
    # the reference leaves the handle where the DID goes once it is resolved: the PDS resolves it
    want = expected[-1]
    want[0]["features"][0]["did"] = account["did"]
    bsky = adapter(pds.url, account)
    receipt = bsky.deliver(bsky_post([*FACET_TEXTS, mention]), context())
    assert isinstance(receipt, Receipt), receipt
    records = {r["uri"]: r["value"] for r in pds.records(account)}
    for part, text, found in zip(receipt.parts, [*FACET_TEXTS, mention], [*expected[:-1], want]):
        value = records[part["id"]]
        assert value["text"] == text and value["facets"] == found
        raw = text.encode("utf-8")
        spans = [raw[f["index"]["byteStart"]:f["index"]["byteEnd"]].decode("utf-8") for f in value["facets"]]
        uris = [f["features"][0].get("uri") for f in value["facets"]]
        assert all(span[0] in "#＃@$" or uri in (span, "https://" + span) for span, uri in zip(spans, uris)), spans
    first = records[receipt.parts[1]["id"]]
    spans = [text.encode()[f["index"]["byteStart"]:f["index"]["byteEnd"]].decode()
             for text, f in [(FACET_TEXTS[1], f) for f in first["facets"]]]
    assert spans == ["https://en.wikipedia.org/wiki/Thing_(x)", "https://news.test/a", "#a#b", "#tag"]
    assert [f["features"][0].get("tag") for f in first["facets"][2:]] == ["a#b", "tag"]


def test_a_record_key_already_ours_is_confirmed_not_written_twice(pds, account):
    journal = Journal()
    bsky = adapter(pds.url, account)
    done = bsky.deliver(bsky_post(["only once"]), context(journal=journal))
    journal.put("part:0", None)  # a run that lost its receipt but kept the key writes again: 500
    again = bsky.deliver(bsky_post(["only once"]), context(journal=journal))
    assert isinstance(again, Receipt) and again.remote_id == done.remote_id
    assert [r["value"]["text"] for r in pds.records(account)] == ["only once"]


def test_a_record_key_held_by_another_post_gets_a_new_key(pds, account):
    first = Journal()
    bsky = adapter(pds.url, account)
    bsky.deliver(bsky_post(["first entry"]), context(key="a|bluesky|1", journal=first))
    other = Journal({"rkey:0": first.get("rkey:0")})
    done = adapter(pds.url, account).deliver(bsky_post(["second entry"]), context(key="b|bluesky|1", journal=other))
    assert isinstance(done, Receipt), done
    assert other.get("rkey:0") != first.get("rkey:0")
    assert {k: r["value"]["text"] for k, r in by_rkey(pds, account).items()} == {
        first.get("rkey:0"): "first entry", other.get("rkey:0"): "second entry"}


def test_the_pds_refuses_3000_bytes_and_render_says_so_first(pds, account, project, cli):
    family = "👨\u200d👩\u200d👧\u200d👦" * 298  # 298 graphemes, 7,450 bytes
    failed = adapter(pds.url, account).deliver(bsky_post([family]), context())
    assert isinstance(failed, Failure) and not failed.retryable
    assert failed.message == ("HTTP 400: InvalidRequest: Invalid app.bsky.feed.post record: string too big "
                              "(maximum 3000, got 7450) at $.record.text")
    root = project(files={"content/fam.md": approved("Family", channels={"bluesky": {"text": family}})},
                   settings=settings("https://pds.test", "fam.test"))
    result = cli(root, "check", "--strict")
    assert result.exit_code == 1
    assert ("content/fam.md:7: channels.bluesky: bluesky: the post is 4450 bytes over the limit of 3000 bytes "
            "of UTF-8 (7450/3000), from channels.bluesky.text in content/fam.md; shorten it") in result.output


def test_a_wrong_app_password_is_refused_with_the_pds_words(pds, account):
    failed = adapter(pds.url, account, password="wrong-pass-word").deliver(bsky_post(["x"]), context())
    assert isinstance(failed, Failure) and not failed.retryable and failed.status == 401
    assert failed.message == "sign-in: HTTP 401: AuthenticationRequired: Invalid identifier or password"
    assert pds.records(account) == []


# -- publish runs against the PDS -----------------------------------------------------------------
def settings(service: str, handle: str) -> str:
    return textwrap.dedent(f"""\
        site:
          title: Test Newsroom
          url: https://news.test
          language: en
        timezone: UTC
        channels:
          bluesky:
            type: bluesky
            service: {service}
            handle: {handle}
            app_password: env:BSKY_APP_PASSWORD
        """)


TEMPLATES = {"templates/bluesky/post.j2": "{{ title }}\n", "templates/bluesky/thread.j2": "{{ body_text }}\n"}


def approved(title: str, body: str = "Body.\n", **keys) -> str:
    return item(title, status="approved", body=body, approved_by="editor", author="writer",
                publish_at="2026-11-20T09:00", **keys)


class Newsroom:
    def __init__(self, root, account):
        self.root, self.account = root, account

    def run(self, *args: str, password: str | None = None):
        from publish import cli

        env = {"BSKY_APP_PASSWORD": password or self.account["app_password"], "GITHUB_STEP_SUMMARY": ""}
        argv = ["--root", str(self.root), *args]
        if args[0] == "publish":
            argv += ["--now", T]
        return CliRunner().invoke(cli, argv, env=env, catch_exceptions=False)

    def ledger(self) -> list[dict]:
        path = self.root / "state" / "ledger.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


@pytest.fixture
def newsroom(tmp_path, account, monkeypatch):
    import scheduler.run.core

    monkeypatch.setattr(scheduler.run.core, "pause", lambda seconds: None)

    def make(files: dict, service: str) -> Newsroom:
        write_project(tmp_path, {**TEMPLATES, **files}, settings(service, account["handle"]))
        return Newsroom(tmp_path, account)

    return make


def test_fifty_entries_due_in_one_run_all_arrive_each_once(pds, account, newsroom):
    files = {f"content/n{n:02}.md": approved(f"Entry number {n}", channels=["bluesky"]) for n in range(50)}
    files["content/n07.md"] = approved("Entry number 7", channels=["bluesky"], language="pt-BR")
    room = newsroom(files, pds.url)
    result = room.run("publish")
    assert result.exit_code == 0, result.output
    texts = [r["value"]["text"] for r in pds.records(account)]
    assert sorted(texts) == sorted(f"Entry number {n}" for n in range(50))
    langs = {r["value"]["text"]: r["value"]["langs"] for r in pds.records(account)}
    assert langs.pop("Entry number 7") == ["pt-BR"]  # the item's language
    assert {tuple(v) for v in langs.values()} == {("en",)}  # else site.language
    delivered = [e for e in room.ledger() if e["event"] == "delivered"]
    assert len(delivered) == 50 and len({e["receipt"]["remote_id"] for e in delivered}) == 50
    assert room.run("publish").exit_code == 0 and len(pds.records(account)) == 50


THREAD = "\n\n".join(f"Part {n} of the long story, told in a sentence of its own and no more. " * 3
                     for n in range(1, 6))


def test_an_outage_mid_thread_is_finished_by_the_next_run_with_no_duplicate(pds, account, relay, newsroom):
    room = newsroom({"content/story.md": approved("Story", body=THREAD, channels={"bluesky": {"thread": True}})},
                    relay.url)
    # part 3 is written, its answer dropped, and the PDS goes down before anyone can ask
    relay.drop("com.atproto.repo.createRecord", skip=2, then=pds.stop)
    try:
        first = room.run("publish")
    finally:
        pds.start()
    assert first.exit_code == 1
    assert "could not check whether it went out" in first.output and "a later run tries again" in first.output
    assert "resolve" not in first.output
    assert len(pds.records(account)) == 3
    second = room.run("publish")
    assert second.exit_code == 0, second.output
    records = pds.records(account)
    values = {r["uri"]: r["value"] for r in records}
    [delivered] = [e for e in room.ledger() if e["event"] == "delivered"]
    parts = delivered["receipt"]["parts"]
    assert len(records) == len(parts) == 5  # no part twice, none lost
    assert [values[p["id"]]["text"][:6] for p in parts] == ["Part 1", "Part 2", "Part 3", "Part 4", "Part 5"]
    for before, part in zip(parts, parts[1:]):
        assert values[part["id"]]["reply"]["parent"]["uri"] == before["id"]
    assert not any(e.get("unresolved") for e in room.ledger())


def test_a_refused_app_password_waits_and_goes_out_once_it_is_fixed(pds, account, newsroom):
    files = {f"content/w{n}.md": approved(f"Waiting {n}", channels=["bluesky"]) for n in range(2)}
    room = newsroom(files, pds.url)
    first = room.run("publish", password="revoked-pass-word")
    assert first.exit_code == 0, first.output
    assert ("waiting    content/w0.md → bluesky  BSKY_APP_PASSWORD was refused (sign-in: HTTP 401: "
            "AuthenticationRequired: Invalid identifier or password); fix it and the entry goes out on the next "
            "run inside its grace window") in first.output
    assert "not tried: BSKY_APP_PASSWORD was refused on bluesky in this run" in first.output  # one sign-in, not two
    assert pds.records(account) == []
    status = room.run("status", password="revoked-pass-word")
    assert ("  REFUSED  BSKY_APP_PASSWORD: the platform refused this credential; fix it and 1 entry waiting on it "
            "go out on the next run") in status.output
    data = json.loads(room.run("status", "--format", "json").output)["channels"]["bluesky"]
    assert data["refused"] == "BSKY_APP_PASSWORD" and [w["path"] for w in data["credential_waiting"]] == ["content/w0.md"]
    second = room.run("publish")
    assert second.exit_code == 0 and second.output.count("delivered  content/") == 2, second.output
    assert sorted(r["value"]["text"] for r in pds.records(account)) == ["Waiting 0", "Waiting 1"]
    assert "REFUSED" not in room.run("status").output


def test_resolve_on_a_partly_sent_thread_reads_back_its_parts_and_forgets_none(pds, account, relay, newsroom):
    room = newsroom({"content/story.md": approved("Story", body=THREAD, channels={"bluesky": {"thread": True}})},
                    relay.url)
    relay.drop("com.atproto.repo.createRecord", skip=2, then=pds.stop)
    try:
        assert room.run("publish").exit_code == 1
    finally:
        pds.start()
    said = room.run("resolve", "content/story.md:bluesky", "--sent")
    assert said.exit_code == 2
    assert said.output == ("error: content/story.md → bluesky: parts 1–3 of 5 are on bluesky, parts 4–5 not: say "
                           "--not-sent to send them under part 3, or --sent --parts 5 if the rest are out under "
                           "other keys (posted by hand)\n")
    released = room.run("resolve", "content/story.md:bluesky", "--not-sent")
    assert released.output == ("content/story.md → bluesky: released; the next publish run sends parts 4–5 of the "
                               "thread, under part 3 if it is inside its window\n")
    assert room.run("publish").exit_code == 0
    [delivered] = [e for e in room.ledger() if e["event"] == "delivered"]
    records = {r["uri"]: r["value"] for r in pds.records(account)}
    assert len(records) == len(delivered["receipt"]["parts"]) == 5
    assert [records[p["id"]]["text"][:6] for p in delivered["receipt"]["parts"]] == [
        "Part 1", "Part 2", "Part 3", "Part 4", "Part 5"]
    assert room.run("resolve", "content/story.md:bluesky", "--sent").output == (
        "content/story.md → bluesky: already delivered; nothing to do\n")


def test_resolve_sent_after_every_part_went_out_keeps_them_all(pds, account, relay, newsroom):
    room = newsroom({"content/story.md": approved("Story", body=THREAD, channels={"bluesky": {"thread": True}})},
                    relay.url)
    relay.drop("com.atproto.repo.createRecord", skip=4, then=pds.stop)  # the last part's answer is lost
    try:
        assert room.run("publish").exit_code == 1
    finally:
        pds.start()
    said = room.run("resolve", "content/story.md:bluesky", "--sent")
    assert said.output == ("content/story.md → bluesky: all 5 parts found on bluesky; recorded as delivered; it is "
                           "not sent again\n")
    [delivered] = [e for e in room.ledger() if e["event"] == "delivered"]
    assert sorted(p["id"] for p in delivered["receipt"]["parts"]) == sorted(r["uri"] for r in pds.records(account))
    assert delivered["receipt"]["remote_id"] == delivered["receipt"]["parts"][0]["id"]


def test_a_withdrawal_deletes_every_record_of_the_thread_and_a_repeat_is_the_pds_no_op(pds, account):
    """com.atproto.repo.deleteRecord on the reference PDS: the records leave the repo; asked again (a
    run killed before recording), the PDS answers 200 without a commit and the adapter says 'already'."""
    from channels.base import Removal

    receipt = adapter(pds.url, account).deliver(bsky_post(["1/2 Withdraw me", "2/2 Me too"]), context())
    assert isinstance(receipt, Receipt), receipt
    assert len(pds.records(account)) == 2
    removal = adapter(pds.url, account).delete(receipt, context())
    assert isinstance(removal, Removal) and not removal.already
    assert pds.records(account) == []
    again = adapter(pds.url, account).delete(receipt, context(again=True))
    assert isinstance(again, Removal) and again.already
