"""The publish run against a loopback channel server: exactly once, never early, never stale, faults."""
from __future__ import annotations

import json
import shutil

import pytest

from conftest import ROOT, item
from publishing import T, approved, make_newsroom
from servers.testchannel import ChannelServer, register


@pytest.fixture
def server():
    with ChannelServer() as s:
        yield s


@pytest.fixture
def newsroom(tmp_path, server, monkeypatch):
    """``newsroom(files)`` → a project on the loopback server, with sleeps recorded instead of slept."""
    import scheduler.run.core

    register(monkeypatch)
    made = []

    def fake_sleep(seconds):
        made[0].sleeps.append(seconds)

    monkeypatch.setattr(scheduler.run.core, "pause", fake_sleep)

    def make(files, **kw):
        n = make_newsroom(tmp_path / f"p{len(made)}", server, files, **kw)
        made.insert(0, n)
        return n

    return make


def test_a_due_entry_goes_out_once_and_the_next_run_says_nothing_is_due(newsroom, server):
    n = newsroom({"content/a.md": approved("Launch day")})
    early = n.run("publish", now="2026-11-20T08:59:00Z")
    assert early.exit_code == 0
    assert early.output == ("Nothing due at 2026-11-20 08:59 UTC; next: content/a.md on social at "
                            "2026-11-20 09:00 UTC.\n")
    assert server.posts == []

    first = n.run("publish", now="2026-11-20T09:05:00Z")
    assert first.exit_code == 0, first.output
    assert first.output.splitlines() == [f"delivered  content/a.md → social  {server.url}/social/posts/1",
                                         "1 delivered."]
    assert [p["item"] for p in server.posts] == ["a"]
    assert server.posts[0]["text"].startswith("Launch day")  # rendered by channels.render
    assert server.posts[0]["key"] == "a/social"  # stable for the entry: idempotency keys derive from it
    (delivered,) = n.events("delivered")
    assert delivered["entry"] == "a/social" and delivered["receipt"]["remote_id"] == "1"

    second = n.run("publish", now="2026-11-20T09:20:00Z")
    assert second.exit_code == 0
    assert second.output == "Nothing due at 2026-11-20 09:20 UTC.\n"
    assert len(server.posts) == 1


def test_the_ledger_is_sorted_json_lines_with_union_merge(newsroom):
    n = newsroom({"content/a.md": approved("A")})
    n.run("publish")
    lines = (n.root / "state" / "ledger.jsonl").read_text().splitlines()
    assert [json.loads(line)["event"] for line in lines] == ["claimed", "progress", "delivered"]
    for line in lines:
        assert list(json.loads(line)) == sorted(json.loads(line))
    assert (n.root / "state" / ".gitattributes").read_text() == "*.jsonl merge=union\n"


def test_a_dry_run_does_everything_but_send_and_records_nothing(newsroom, server):
    n = newsroom({"content/a.md": approved("A")})
    result = n.run("publish", "--dry-run")
    assert result.exit_code == 0
    assert result.output.splitlines() == ["would send content/a.md → social  dry run: everything but the final request",
                                          "Dry run: 1 would be sent."]
    assert server.posts == [] and server.requests == []
    assert n.ledger() == []


def test_late_inside_the_grace_window_goes_out_outside_is_missed_and_alerted_once(newsroom, server):
    n = newsroom({"content/a.md": approved("Inside", channels=["chat"]),
                  "content/b.md": approved("Outside", channels=["chat"], at="2026-11-20T07:00")})
    result = n.run("publish", now="2026-11-20T09:30:00Z")
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "MISSED     content/b.md → chat  2h 30m late, past the 1h grace window",
        f"delivered  content/a.md → chat  {server.url}/chat/posts/1",
        "note: alert sent to alerts: b/chat missed",
        "1 delivered, 1 missed.",
    ]
    assert [p["item"] for p in server.posts_for("chat")] == ["a"]
    (alert,) = server.posts_for("alerts")
    assert alert["text"] == ('Publishing problem: "Outside" missed on chat\n'
                             "Error: 2h 30m late, past the 1h grace window\n"
                             "File: content/b.md\n"
                             "Item: b")
    again = n.run("publish", now="2026-11-20T09:45:00Z")
    assert again.exit_code == 0
    assert again.output == "Nothing due at 2026-11-20 09:45 UTC.\n"
    assert len(server.posts_for("alerts")) == 1 and len(server.posts_for("chat")) == 1
    assert [e["problem"] for e in n.events("alerted")] == [f"missed@{n.events('missed')[0]['revision']}"]


def test_an_item_edited_after_it_went_out_is_reported_not_posted_again(newsroom, server):
    n = newsroom({"content/a.md": approved("A")})
    n.run("publish")
    n.write("content/a.md", approved("A", body="A better body.\n"))  # the post shows only title and link
    result = n.run("publish", now="2026-11-20T09:30:00Z")
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        "unchanged  content/a.md → social  edited, but its post on social says the same: nothing to correct",
        "1 unchanged."]
    n.write("content/a.md", approved("A better title"))  # the post changes; this channel type cannot edit
    result = n.run("publish", now="2026-11-20T09:35:00Z")
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        "changed    content/a.md → social  edited after it went out; this channel type cannot change a post once "
        "it is out: correct it by hand if it matters", "1 changed."]
    assert len(server.posts) == 1
    assert n.run("publish", now="2026-11-20T09:45:00Z").output == "Nothing due at 2026-11-20 09:45 UTC.\n"


def test_moving_or_renaming_a_published_item_never_posts_it_again(newsroom, server):
    n = newsroom({"content/2026/a.md": approved("A"), "content/b.md": approved("B", id="launch-b")})
    n.run("publish")
    assert len(server.posts) == 2
    (n.root / "content/2026/a.md").rename(n.root / "content/a.md")  # moved: same file name, same slug
    (n.root / "content/b.md").rename(n.root / "content/2026-11-launch.md")  # renamed: its id stays
    result = n.run("publish", now="2026-11-20T10:00:00Z")
    assert result.output == "Nothing due at 2026-11-20 10:00 UTC.\n"
    assert len(server.posts) == 2


def test_partial_success_a_later_run_retries_only_the_failed_channel(newsroom, server):
    n = newsroom({"content/a.md": approved("A", channels=["social", "chat"])})
    server.script("chat", *["fail:503:Service Unavailable"] * 4)
    result = n.run("publish", now="2026-11-20T09:10:00Z")
    assert result.exit_code == 1
    assert result.output.splitlines()[:2] == [
        "FAILED     content/a.md → chat  HTTP 503: Service Unavailable (gave up after 4 tries); a later run tries again",
        f"delivered  content/a.md → social  {server.url}/social/posts/1",
    ]
    assert len(n.sleeps) == 3  # between the four tries
    retry = n.run("publish", now="2026-11-20T09:25:00Z")
    assert retry.exit_code == 0
    assert retry.output.splitlines() == [f"delivered  content/a.md → chat  {server.url}/chat/posts/2", "1 delivered."]
    assert sorted(p["account"] for p in server.posts) == ["chat", "social"]
    (chat,) = server.posts_for("chat")
    assert chat["journal_tries"] == 5  # the delivery's journal survived the first run, through the ledger


def test_an_edit_between_a_failed_attempt_and_its_retry_keeps_the_deliverys_progress(newsroom, server):
    n = newsroom({"content/a.md": approved("A", channels=["chat"])})
    server.script("chat", *["fail:503:Service Unavailable"] * 4)
    assert n.run("publish", now="2026-11-20T09:10:00Z").exit_code == 1
    n.write("content/a.md", approved("A", channels=["chat"], body="A corrected body.\n"))
    retry = n.run("publish", now="2026-11-20T09:25:00Z")
    assert retry.exit_code == 0, retry.output
    (chat,) = server.posts_for("chat")
    # The journal (here: the attempts so far) and the key survived the edit, so a half-sent
    # newsletter or thread would carry on where it stopped instead of starting again.
    assert chat["journal_tries"] == 5
    assert chat["key"] == "a/chat"


def test_a_failing_channel_is_not_tried_again_in_the_same_run_and_the_others_go_on(newsroom, server):
    n = newsroom({"content/a.md": approved("A", channels=["chat", "social"]),
                  "content/b.md": approved("B", channels=["chat", "social"])})
    server.script("chat", *["fail:500"] * 4)
    result = n.run("publish", "--format", "json", now="2026-11-20T09:10:00Z")
    report = json.loads(result.output)
    assert {(e["item"], e["channel"]): e["result"] for e in report["entries"]} == {
        ("a", "chat"): "failed", ("b", "chat"): "postponed", ("a", "social"): "delivered",
        ("b", "social"): "delivered"}
    assert report["exit_code"] == 1 == result.exit_code
    assert len([r for r in server.requests if r["account"] == "chat"]) == 4


def test_429_waits_as_long_as_retry_after_says(newsroom, server):
    n = newsroom({"content/a.md": approved("A")})
    server.script("social", "rate:7")
    result = n.run("publish")
    assert result.exit_code == 0
    assert len(server.posts) == 1
    assert n.sleeps and n.sleeps[0] >= 7


def test_a_429_longer_than_the_run_budget_fails_retryably_for_the_next_run(newsroom, server):
    n = newsroom({"content/a.md": approved("A")})
    server.script("social", "rate:900")
    result = n.run("publish", "--budget", "60")
    assert result.output.splitlines()[0] == (
        "FAILED     content/a.md → social  HTTP 429: Too many requests (the run's retry budget is used up "
        "(next try would wait 900s)); a later run tries again")
    assert n.sleeps == [] and server.posts == []
    assert n.run("publish", now="2026-11-20T09:15:00Z").exit_code == 0
    assert len(server.posts) == 1


def test_a_4xx_is_recorded_at_once_with_the_platforms_message_and_alerted_once(newsroom, server):
    n = newsroom({"content/a.md": approved("A")})
    server.script("social", "fail:422:Text is too long")
    result = n.run("publish")
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == "FAILED     content/a.md → social  HTTP 422: Text is too long"
    assert n.sleeps == [] and len(server.requests) == 2  # the post, then the alert
    (alert,) = server.posts_for("alerts")
    assert alert["text"].splitlines()[:2] == ['Publishing problem: "A" failed on social', "Error: HTTP 422: Text is too long"]
    (failed,) = n.events("failed")
    assert failed["retryable"] is False and failed["status"] == 422
    # Not retried, not re-alerted; an edit (a new revision) is tried again.
    assert n.run("publish", now="2026-11-20T09:10:00Z").output == "Nothing due at 2026-11-20 09:10 UTC.\n"
    n.write("content/a.md", approved("A shorter"))
    assert n.run("publish", now="2026-11-20T09:20:00Z").exit_code == 0
    assert [p["text"].split("\n")[0] for p in server.posts_for("social")] == ["A shorter"]


def test_a_server_that_never_answers_is_reconciled_before_the_next_try(newsroom, server):
    n = newsroom({"content/a.md": approved("A")})
    server.script("social", "stall", "stall", "stall", "stall")
    result = n.run("publish")
    assert result.exit_code == 1
    assert "FAILED     content/a.md → social  no answer in time" in result.output
    assert server.posts == []
    (failed,) = n.events("failed")
    assert failed["ambiguous"] is True and failed["retryable"] is True
    again = n.run("publish", now="2026-11-20T09:15:00Z")
    assert again.output.splitlines()[0] == f"delivered  content/a.md → social  {server.url}/social/posts/1"
    assert len(server.posts) == 1


def test_a_dropped_connection_after_the_post_is_found_not_sent_twice(newsroom, server):
    n = newsroom({"content/a.md": approved("A")})
    server.script("social", "drop")
    result = n.run("publish")
    assert result.exit_code == 0
    assert len(server.posts) == 1
    (delivered,) = n.events("delivered")
    assert delivered["receipt"]["remote_id"] == "1"


def test_a_channel_without_its_secret_is_inactive_not_failed(newsroom, server):
    n = newsroom({"content/a.md": approved("A")})
    result = n.run("publish", env={"TC_TOKEN": ""})
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        "note: social: inactive, TC_TOKEN is not set in the environment (1 entry waiting)",
        "Nothing due at 2026-11-20 09:00 UTC.",
    ]
    assert n.ledger() == [] and server.requests == []
    assert "test-token" not in result.output


def test_a_claim_nobody_can_reconcile_goes_to_a_person_and_force_resolves_it(newsroom, server):
    settings = __import__("publishing").SETTINGS.replace('    timeout: "0.3"\n  chat', '    timeout: "0.3"\n    reconcile: none\n  chat', 1)
    n = newsroom({"content/a.md": approved("A")}, settings=settings)
    state = n.root / "state"
    state.mkdir()
    (state / "ledger.jsonl").write_text(json.dumps({"event": "claimed", "entry": "a/social", "item": "a",
                                                    "channel": "social", "run": "gone-1", "revision": "x",
                                                    "at": T}) + "\n")
    result = n.run("publish", now="2026-11-20T09:10:00Z")
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == (
        "CHECK      content/a.md → social  an earlier attempt may have gone out and testchannel offers no lookup: "
        "check social by hand, then run publish.py resolve content/a.md:social --sent (it is there) or --not-sent "
        "(send it)")
    assert server.posts_for("social") == []
    assert server.posts_for("alerts")[0]["text"].startswith('Publishing problem: "A" needs a person on social')
    assert n.run("publish", now="2026-11-20T09:20:00Z").output == "Nothing due at 2026-11-20 09:20 UTC.\n"
    forced = n.run("publish", "--only", "content/a.md:social", "--force", now="2026-11-20T09:30:00Z")
    assert forced.exit_code == 0, forced.output
    assert len(server.posts_for("social")) == 1


def test_force_sends_early_only_what_it_names_and_never_twice(newsroom, server):
    n = newsroom({"content/a.md": approved("A", at="2026-12-01T09:00"), "content/b.md": approved("B", at="2026-12-01T09:00")})
    result = n.run("publish", "--only", "a", "--force")
    assert result.exit_code == 0
    assert [p["item"] for p in server.posts] == ["a"]
    assert n.run("publish", "--only", "a", "--force").output == "Nothing due at 2026-11-20 09:00 UTC.\n"
    assert len(server.posts) == 1


@pytest.mark.parametrize("args, message", [
    (("--force",), "error: --force needs --only PATH[:channel]: it overrides the time of the entries you name\n"),
    (("--only", "content/nope.md"), "error: --only content/nope.md: no item 'content/nope.md' (did you mean 'content/a.md'?) "
                                    "(give its path under content/ or its id)\n"),
    (("--only", "content/a.md:socail"), "error: --only content/a.md:socail: no channel named 'socail' (did you mean 'social'?)\n"),
    (("--now", "tomorrow"), "error: --now: 'tomorrow' is not a date-time (use 2026-11-27T09:00Z or 2026-11-27T09:00+01:00)\n"),
])
def test_unusable_options_exit_2_with_a_clear_message(newsroom, args, message):
    n = newsroom({"content/a.md": approved("A")})
    from click.testing import CliRunner
    from publish import cli

    result = CliRunner().invoke(cli, ["--root", str(n.root), "publish", *args], env=n.env)
    assert result.exit_code == 2
    assert result.stderr == message


def test_an_item_with_errors_is_held_back_and_the_run_exits_2(newsroom, server):
    n = newsroom({"content/a.md": approved("A"), "content/b.md": approved("B", approved_by="")})
    result = n.run("publish")
    assert result.exit_code == 2
    assert "blocked    content/b.md → social  held on every channel: the item has errors (listed below); fix them " \
           "and it goes out on the next run" in result.output
    assert [p["item"] for p in server.posts] == ["a"]


def test_an_item_check_fails_at_render_time_is_held_on_every_channel_said_once(newsroom, server):
    """check and publish share one verdict: an image without alt text (found only by rendering) holds
    the item on every channel, not only on the blog whose page shows it; the others go on."""
    from publishing import SETTINGS

    settings = SETTINGS.replace("channels:\n", "channels:\n  blog:\n    type: blog\n", 1)
    n = newsroom({"content/a.md": approved("A", channels=["blog", "social", "chat"]) + "\n![](/images/x.png)\n",
                  "content/b.md": approved("B", channels=["social"], at="2026-11-20T08:00")}, settings=settings)
    check = n.run("check", "--offline")
    assert check.exit_code == 1
    problem = ("content/a.md:11: body: image '/images/x.png' has no alt text: write ![what it shows](/images/x.png)")
    assert f"  {problem}" in check.output.splitlines()
    result = n.run("publish")
    assert result.exit_code == 2
    held = "held on every channel: the item has errors (listed below); fix them and it goes out on the next run"
    lines = result.output.splitlines()
    assert sorted(line for line in lines if "content/a.md" in line) == [
        f"blocked    content/a.md → blog  {held}", f"blocked    content/a.md → chat  {held}",
        f"blocked    content/a.md → social  {held}", f"note: {problem} (held on blog, chat, social)"]
    assert "note: 3 entries held back by files with errors (publish check lists them)" in lines
    assert [(p["item"], p["account"]) for p in server.posts] == [("b", "social")]
    assert {e["entry"] for e in n.ledger()} == {"b/social"}  # nothing of a.md claimed


@pytest.mark.parametrize("key, value, message", [
    ("from", '"Test News"', "'Test News' is not a sender address (use e.g. 'Acme News <news@acme.example>')"),
    ("type", "myspace", "unknown channel type 'myspace' (types: {types})"),
])
def test_publish_yml_errors_stop_publish_with_exit_2_before_anything_is_claimed(newsroom, server, key, value, message):
    from channels.registry import TYPES
    from publishing import SETTINGS

    message = message.format(types=", ".join(sorted(TYPES)))  # every type known, the loopback one included

    mail = ('  news:\n    type: email\n    from: "News <news@news.test>"\n    unsubscribe_url: '
            '"https://news.test/u?token={{token}}"\n    lists:\n      all: audience/all.csv\n')
    if key == "from":
        mail = mail.replace('"News <news@news.test>"', value)
    else:
        mail += "  space:\n    type: myspace\n"
    settings = SETTINGS.replace("channels:\n", "channels:\n" + mail, 1)
    n = newsroom({"content/a.md": approved("A", channels=["social", "chat"]), "audience/all.csv": "email\na@b.test\n"},
                 settings=settings)
    line = next(i for i, text in enumerate((n.root / "publish.yml").read_text().splitlines(), 1)
                if text.strip().startswith(f"{key}:") and (key != "type" or "myspace" in text))
    where = f"publish.yml:{line}: channels.{'news.from' if key == 'from' else 'space.type'}:"
    check = n.run("check", "--offline")
    assert check.exit_code == 2 and f"  {where} {message}" in check.output.splitlines()
    result = n.run("publish")
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        f"error: {where} {message}",
        "publish.yml has errors: nothing was published. Fix them (publish check lists them) and run again."]
    assert server.posts == [] and n.ledger() == []


def test_finish_gets_every_entry_delivered_on_the_channel_and_the_syndication(newsroom, server):
    n = newsroom({"content/a.md": approved("A", channels=["social", "chat"]),
                  "content/b.md": approved("B", at="2026-11-20T10:00")})
    n.run("publish")
    n.run("publish", now="2026-11-20T10:05:00Z")
    last = [f for f in server.finishes if f["account"] == "social"][-1]
    assert sorted(d[0] for d in last["delivered"]) == ["a", "b"]
    assert sorted(x["channel"] for x in last["syndication"]["a"]) == ["chat", "social"]
    assert last["syndication"]["a"][0]["url"].startswith(server.url)


def test_the_step_summary_is_appended_in_markdown(newsroom, server, tmp_path):
    n = newsroom({"content/a.md": approved("A")})
    summary = tmp_path / "summary.md"
    summary.write_text("earlier\n")
    n.run("publish", env={"GITHUB_STEP_SUMMARY": str(summary)})
    text = summary.read_text()
    assert text.startswith("earlier\n## Publish run, 2026-11-20 09:00 UTC\n\n1 delivered.\n")
    assert f"| delivered | `content/a.md` | social | [{server.url}/social/posts/1]({server.url}/social/posts/1) |" in text


def test_the_no_op_cache_sees_an_edit_and_a_new_ledger_line(newsroom, server):
    n = newsroom({"content/a.md": approved("A", at="2026-11-21T09:00")})
    assert n.run("publish").output.startswith("Nothing due")
    assert (n.root / ".cache" / "publish-index.json").exists()
    n.write("content/a.md", approved("A", at="2026-11-20T08:30"))  # now due
    result = n.run("publish")
    assert result.output.splitlines()[0].startswith("delivered  content/a.md → social")
    # A ledger line written by someone else (a merged branch) invalidates the cache too.
    n.write("content/b.md", approved("B", at="2026-11-22T09:00"))
    assert n.run("publish").output.startswith("Nothing due")
    with open(n.root / "state" / "ledger.jsonl", "a") as f:
        f.write(json.dumps({"entry": "b/social", "event": "claimed", "run": "dead", "revision": "r", "at": T}) + "\n")
    result = n.run("publish", now="2026-11-22T09:10:00Z")
    assert result.output.splitlines()[0] == f"delivered  content/b.md → social  {server.url}/social/posts/2"


def test_the_example_project_runs_green_without_accounts(tmp_path, cli):
    root = tmp_path / "example"
    shutil.copytree(ROOT / "content", root / "content")
    shutil.copytree(ROOT / "audience", root / "audience")
    shutil.copy(ROOT / "publish.yml", root / "publish.yml")
    result = cli(root, "publish", "--now", "2026-11-23T17:00:00Z", env={"MASTODON_TOKEN": ""})
    assert result.exit_code == 0, result.output
    assert "note: mastodon: inactive, MASTODON_TOKEN is not set in the environment" in result.output
    # the lead image next to the content is served by the blog at the path the item names
    page = (root / "public/autumn-release/index.html").read_text()
    assert 'src="https://news.northwind.example/images/autumn-release.png"' in page
    assert (root / "public/images/autumn-release.png").read_bytes() == \
        (ROOT / "content/images/autumn-release.png").read_bytes()


def test_a_dead_server_fails_retryably_and_the_next_run_checks_before_sending(newsroom, server):
    dead = ChannelServer().start()
    dead_url = dead.url
    dead.stop()  # nothing listens there any more: every connection is refused
    from publishing import SETTINGS

    n = newsroom({"content/a.md": approved("A")},
                 settings=SETTINGS.replace("url: {url}/social", f"url: {dead_url}/social"))
    result = n.run("publish")
    assert result.exit_code == 1
    assert result.output.splitlines()[0].startswith("FAILED     content/a.md → social  ")
    (failed,) = n.events("failed")
    assert failed["retryable"] is True
    (n.root / "publish.yml").write_text(SETTINGS.format(url=server.url))  # the service is back
    again = n.run("publish", now="2026-11-20T09:15:00Z")
    assert again.output.splitlines()[0] == f"delivered  content/a.md → social  {server.url}/social/posts/1"
    assert len(server.posts_for("social")) == 1


def test_a_retryable_failure_is_alerted_once_after_three_runs(newsroom, server):
    n = newsroom({"content/a.md": approved("A", channels=["social"])})
    for minute in ("05", "20", "35", "50"):
        server.script("social", *["fail:502:Bad Gateway"] * 4)
        n.run("publish", now=f"2026-11-20T09:{minute}:00Z")
    (alert,) = server.posts_for("alerts")
    assert alert["text"].splitlines()[0] == 'Publishing problem: "A" keeps failing on social'
    assert server.posts_for("social") == []


def test_an_entry_waiting_for_a_queue_slot_goes_out_when_the_slot_has_passed(newsroom, server):
    from publishing import SETTINGS

    settings = SETTINGS.replace('    timeout: "0.3"\n  chat', '    timeout: "0.3"\n    slots:\n      - days: daily\n'
                                '        times: ["09:30"]\n  chat', 1)
    n = newsroom({"content/q.md": item_next("Queued")}, settings=settings)
    before = n.run("publish", now="2026-11-20T09:10:00Z")
    assert before.output == "Nothing due at 2026-11-20 09:10 UTC; next: content/q.md on social at 2026-11-20 09:30 UTC.\n"
    # The cron comes at 09:45: the 09:30 slot has passed, and the entry goes out (15 minutes late).
    result = n.run("publish", now="2026-11-20T09:45:00Z")
    assert result.output.splitlines()[0] == f"delivered  content/q.md → social  {server.url}/social/posts/1"
    assert n.run("publish", now="2026-11-21T09:45:00Z").output == "Nothing due at 2026-11-21 09:45 UTC.\n"
    assert len(server.posts) == 1


def item_next(title):
    from conftest import item

    return item(title, status="approved", approved_by="editor", author="writer", channels={"social": {"at": "next"}})


def test_progress_is_shown_only_on_a_terminal():
    import io

    from scheduler.command import progress_printer

    class Tty(io.StringIO):
        def isatty(self):
            return True

    assert progress_printer(stream=io.StringIO()) is None
    out = Tty()
    show = progress_printer(stream=out)
    show(1, 2, "content/a.md → social")
    show(2, 2, "content/b.md → social")
    assert out.getvalue() == ("\r\033[K[1/2] content/a.md → social\r\033[K[2/2] content/b.md → social\r\033[K")


def test_an_entry_on_a_blackout_date_is_held_not_sent(newsroom, server):
    from publishing import SETTINGS

    # a warning in check, so the run's own hold (which --force overrides) is what is tested here
    settings = (SETTINGS.replace("    max_per_day: warning\n", "    max_per_day: warning\n    blackout: warning\n")
                + "  blackout:\n    - from: 2026-11-20\n      to: 2026-11-20\n      reason: Embargo\n")
    n = newsroom({"content/a.md": approved("A")}, settings=settings)
    result = n.run("publish", now="2026-11-20T09:05:00Z")
    assert result.exit_code == 0
    assert result.output.splitlines()[0].startswith(
        "held       content/a.md → social  not sent: 2026-11-20 is a blackout date (2026-11-20")
    assert server.posts == [] and n.ledger() == []
    forced = n.run("publish", "--only", "content/a.md:social", "--force", now="2026-11-20T09:10:00Z")
    assert forced.output.splitlines()[0].startswith("delivered  content/a.md → social")


@pytest.mark.parametrize("answer", ["--sent", "--not-sent"])
def test_a_person_resolves_an_entry_nobody_could_reconcile(newsroom, server, answer):
    settings = __import__("publishing").SETTINGS.replace('    timeout: "0.3"\n  chat', '    timeout: "0.3"\n    reconcile: none\n  chat', 1)
    n = newsroom({"content/a.md": approved("A")}, settings=settings)
    (n.root / "state").mkdir()
    (n.root / "state" / "ledger.jsonl").write_text(json.dumps({"event": "claimed", "entry": "a/social", "item": "a",
                                                               "channel": "social", "run": "gone-1", "at": T}) + "\n")
    assert n.run("publish", now="2026-11-20T09:10:00Z").exit_code == 1  # needs a person
    args = ["resolve", "content/a.md:social", answer] + (["--url", "https://social.test/1"] if answer == "--sent" else [])
    resolved = n.run(*args)
    assert resolved.exit_code == 0
    if answer == "--sent":
        assert resolved.output == "content/a.md → social: recorded as delivered; it is not sent again\n"
        assert n.run("publish", now="2026-11-20T09:20:00Z").output == "Nothing due at 2026-11-20 09:20 UTC.\n"
        assert server.posts_for("social") == []
        assert n.events("delivered")[0]["receipt"]["url"] == "https://social.test/1"
    else:
        assert resolved.output == ("content/a.md → social: released; the next publish run sends it if it is inside "
                                   "its window\n")
        result = n.run("publish", now="2026-11-20T09:20:00Z")
        assert result.output.splitlines()[0] == f"delivered  content/a.md → social  {server.url}/social/posts/2"
        assert len(server.posts_for("social")) == 1  # post 1 was the alert


def test_the_blog_shows_a_later_syndication_and_rebuilds_from_rendered_posts_it_kept(newsroom, server, monkeypatch):
    import scheduler.run.flow
    import scheduler.run.render
    from publishing import SETTINGS

    settings = SETTINGS.replace("channels:\n", "channels:\n  blog:\n    type: blog\n", 1)
    from conftest import item

    a = item("A", status="approved", approved_by="editor", author="writer", publish_at="2026-11-20T09:00",
             channels={"blog": {}, "social": {"at": "+2h"}})
    n = newsroom({"content/a.md": a, "content/b.md": approved("B", channels=["blog"])}, settings=settings)
    assert n.run("publish").exit_code == 0
    page = n.root / "public/a/index.html"
    assert "also on" not in page.read_text().lower()

    renders = []
    original = scheduler.run.render.render_fresh

    def counting(run, entry, channel):
        renders.append((entry.item.id, entry.channel))
        return original(run, entry, channel)

    # every post rendered anew, for a delivery or for the rebuild (posts not kept)
    monkeypatch.setattr(scheduler.run.render, "render_fresh", counting)
    later = n.run("publish", now="2026-11-20T11:05:00Z")
    assert later.exit_code == 0, later.output
    assert later.output.splitlines()[0].startswith("delivered  content/a.md → social")
    html = page.read_text()
    assert f'href="{server.url}/social/posts/1"' in html  # the blog was rebuilt with the new link
    # Only the social post was rendered: the blog's pages came from the posts kept by the first run.
    assert renders == [("a", "social")]


def test_an_entry_switched_off_is_recorded_as_skipped_once(newsroom, server):
    from conftest import item

    n = newsroom({"content/a.md": item("A", status="approved", approved_by="editor", author="writer",
                                       publish_at="2026-11-20T09:00",
                                       channels={"social": {"enabled": False}, "chat": {}})})
    n.run("publish", now="2026-11-20T08:00:00Z")
    assert n.events("skipped") == []  # not before its time
    n.run("publish")
    n.run("publish", now="2026-11-20T09:30:00Z")
    (skipped,) = n.events("skipped")
    assert (skipped["entry"], skipped["reason"]) == ("a/social", "channels.social.enabled is false in the item")
    assert [p["account"] for p in server.posts] == ["chat"]


def test_what_the_blog_build_left_out_is_said_in_the_runs_output(tmp_path, cli):
    from conftest import write_project

    root = write_project(tmp_path / "p", {
        "content/a.md": item("A", status="approved", approved_by="bo", publish_at="2026-11-20T09:00",
                             channels=["blog"]),
        "content/images/logo.png": b"\x89PNG"})
    (root / "content/images/old.png").symlink_to(root / "gone.png")  # listed, cannot be read
    result = cli(root, "publish", "--now", "2026-11-20T09:05:00Z")
    assert result.exit_code == 0, result.output
    assert "note: blog: content/images/old.png: static: cannot be read (No such file or directory); the site " \
           "keeps its last copy" in result.output
    assert (root / "public/images/logo.png").read_bytes() == b"\x89PNG"


# Each publish.yml error the issue found ignored by publish (exit 0, mails with an empty From, ...):
# (text replaced in the test settings, the line's marker, the key, check's message)
SETTINGS_ERRORS = [
    ("timezone: UTC", "timezone: Europe/Berlinn", "timezone: Europe/Berlinn", "timezone",
     "'Europe/Berlinn' is not a known timezone (use an IANA name such as Europe/Berlin or UTC)"),
    ("    grace: 1h", "    grace: -1h", "grace: -1h", "channels.chat.grace",
     "'-1h' is not a duration (write it like 30m, 6h or 2d)"),
    ("    url: {url}/chat", '    url: {url}/chat\n    quiet_hours: "25:00-07:00"', "quiet_hours", "channels.chat.quiet_hours",
     "'25:00-07:00' is not a time range (use 22:00-07:00)"),
    ("channels:\n", "channels:\n  blog:\n    type: blog\n    per_page: 0\n", "per_page", "channels.blog.per_page",
     "must be at least 1, got 0"),
    ("  alerts:\n    type: testchannel", "  chat:\n    type: testchannel\n    url: {url}/chat\n    token: env:TC_TOKEN\n"
     "  alerts:\n    type: testchannel", "  chat:",
     "channels.chat", "appears twice; the first one would be ignored"),
    ("  channel: alerts", "  channel: alert", "channel: alert", "alerts.channel",
     "no channel named 'alert' (did you mean 'alerts'?)"),
]


@pytest.mark.parametrize("old, new, marker, key, message", SETTINGS_ERRORS, ids=[c[3] for c in SETTINGS_ERRORS])
def test_every_publish_yml_error_check_reports_stops_publish_before_a_claim(newsroom, server, old, new, marker, key,
                                                                            message):
    from publishing import SETTINGS

    assert old in SETTINGS
    n = newsroom({"content/a.md": approved("A", channels=["social", "chat"])}, settings=SETTINGS.replace(old, new, 1))
    text = (n.root / "publish.yml").read_text().splitlines()
    line = [i for i, t in enumerate(text, 1) if marker in t][-1 if key == "channels.chat" else 0]
    problem = f"publish.yml:{line}: {key}: {message}"
    check = n.run("check", "--offline")
    assert check.exit_code == 2 and f"  {problem}" in check.output.splitlines(), check.output
    result = n.run("publish")
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        f"error: {problem}",
        "publish.yml has errors: nothing was published. Fix them (publish check lists them) and run again."]
    assert server.posts == [] and n.ledger() == []


def test_a_claim_is_on_disk_before_its_post_goes_out_and_the_blogs_claims_wait_for_the_runs_fsync(
        newsroom, server, monkeypatch):
    """A post to a platform is claimed durably (fsynced) before it is sent; the blog's deliver sends
    nothing (its pages go out when the site is built), so its claims are made durable with the run's
    next fsync rather than one each."""
    import os

    from publishing import SETTINGS

    settings = SETTINGS.replace("channels:\n", "channels:\n  blog:\n    type: blog\n", 1)
    files = {f"content/b{i}.md": approved(f"Blog {i}", channels=["blog"], at=f"2026-11-20T08:0{i}") for i in range(4)}
    files.update({"content/a.md": approved("A", at="2026-11-20T08:30"),
                  "content/c.md": approved("C", at="2026-11-20T08:40")})
    n = newsroom(files, settings=settings)
    ledger = n.root / "state" / "ledger.jsonl"
    synced: list[list[str]] = []  # at each fsync of the ledger: its events, and the posts the platform had
    real_fsync = os.fsync

    def fsync(fd):
        if os.path.realpath(f"/proc/self/fd/{fd}") == str(ledger.resolve()):
            events = [json.loads(line) for line in ledger.read_text().splitlines()]
            synced.append([f"{e['event']} {e['entry']}" for e in events] + [f"sent {p['key']}" for p in server.posts])
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    result = n.run("publish")
    assert result.exit_code == 0, result.output
    assert sorted(e["entry"] for e in n.events("delivered")) == ["a/social", "b0/blog", "b1/blog", "b2/blog",
                                                                   "b3/blog", "c/social"]
    for key in ("a/social", "c/social"):  # each claim was on disk before the platform had the post
        assert any(f"claimed {key}" in seen and f"sent {key}" not in seen for seen in synced), synced
    # the blog's claims were not synced one by one: the later ones reached the disk together
    first = next(seen for seen in synced if "claimed b1/blog" in seen)
    assert "claimed b2/blog" in first and "claimed b3/blog" in first
    assert sum(f"delivered {k}" in synced[-1] for k in ("a/social", "c/social", "b0/blog", "b3/blog")) == 4
