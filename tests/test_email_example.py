"""The example project on a fresh clone: no SMTP host, so the newsletter goes to the outbox, its
progress kept in a real ledger (FileStore) and a second run sends nothing."""
from __future__ import annotations

import email
import email.policy
from datetime import datetime, timezone
from functools import partial

from channels import registry
from channels.base import DeliveryContext, Journal, Receipt
from channels.render import render_post
from newsroom.audience import audience_problems, load_audience
from newsroom.project import load_project
from newsroom.state import FileStore, entry_key

from conftest import ROOT

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)


def ledger_journal(store: FileStore, key: str) -> Journal:
    """How the publish run backs a delivery's journal with the ledger: ``progress`` events."""
    state = store.entries().get(key)

    def write(name, value):
        store.append([{"event": "progress", "entry": key, "name": name, "value": value, "at": NOW.isoformat()}])

    return Journal(state.journal if state else {}, on_write=write)


def test_example_newsletter_goes_to_the_outbox_once(tmp_path):
    project = load_project(ROOT, channel_types=registry.option_schemas(),
                           channel_overrides=registry.override_schemas())
    channel = registry.build(project.settings.channels["newsletter"], {})
    channel.bind(read_list=partial(load_audience, project.settings.root), outbox=tmp_path / "outbox")
    item = next(i for i in project.items if i.id == "autumn-release")
    post = render_post(project, item, channel)
    store, key = FileStore(tmp_path / "state"), entry_key(item.id, "newsletter")

    first = channel.deliver(post, DeliveryContext(key=key, now=NOW, journal=ledger_journal(store, key)))
    assert isinstance(first, Receipt), first
    files = sorted((tmp_path / "outbox").rglob("*.eml"))
    assert [f.parent.relative_to(tmp_path / "outbox").as_posix() for f in files] == ["autumn-release/newsletter/all"] * 4
    to = sorted(email.message_from_bytes(f.read_bytes(), policy=email.policy.default)["To"].addresses[0].addr_spec
                for f in files)
    assert to == ["ana@customers.example", "ben@customers.example", "chloe@customers.example",
                  "erin@customers.example"]  # dev unsubscribed
    assert first.data["campaigns"][0]["unsubscribed"] == 1
    progress = [e for e in store.events() if e["event"] == "progress"]
    assert [e["name"] for e in progress] == ["all/0", "all/0/done"]

    second = channel.deliver(post, DeliveryContext(key=key, now=NOW, journal=ledger_journal(store, key)))
    assert second.data["campaigns"] == first.data["campaigns"]
    assert len(sorted((tmp_path / "outbox").rglob("*.eml"))) == 4
    assert [e["event"] for e in store.events()] == ["progress", "progress"]  # nothing new to record


def test_check_reports_bad_lines_in_recipient_lists(project):
    root = project(files={"audience/all.csv": "email,name\nana@example.com,Ana\nana(at)example.com,Ana\n"},
                   settings="""\
        site:
          title: T
          url: https://news.test
        channels:
          newsletter:
            type: email
            from: news@news.test
            unsubscribe_url: https://news.test/u/{token}
            lists:
              all: audience/all.csv
              vip: audience/vip.csv
        """)
    settings = load_project(root, channel_types=registry.option_schemas()).settings
    assert [str(p) for p in audience_problems(settings)] == [
        "audience/all.csv:3: email: 'ana(at)example.com' is not an email address (expected name@example.com); "
        "the line is skipped until it is fixed",
        "audience/vip.csv: the recipient list does not exist (check channels.<name>.lists in publish.yml)",
    ]
    assert audience_problems(load_project(ROOT, channel_types=registry.option_schemas()).settings) == []


def test_rendered_segment_variants_get_each_recipient_their_own_unsubscribe_link(tmp_path):
    """The rendering writes channels.<name>.options.unsubscribe_url (with {token}) into both parts."""
    project = load_project(ROOT, channel_types=registry.option_schemas(),
                           channel_overrides=registry.override_schemas())
    channel = registry.build(project.settings.channels["newsletter"], {})
    channel.bind(read_list=partial(load_audience, project.settings.root), outbox=tmp_path / "outbox")
    item = next(i for i in project.items if i.id == "black-friday-offer")
    post = render_post(project, item, channel)
    assert [v["segment"] for v in post.data["variants"]] == ["smb", "enterprise"]
    result = channel.deliver(post, DeliveryContext(key=entry_key(item.id, "newsletter"), now=NOW))
    assert [(t["segment"], t["sent"], t["other_segment"], t["unsubscribed"]) for t in result.data["campaigns"]] == [
        ("smb", 2, 0, 0), ("enterprise", 2, 0, 1)]
    for path in sorted((tmp_path / "outbox").rglob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        link = message["List-Unsubscribe"].strip("<>")
        assert "{token}" not in link
        for kind in ("plain", "html"):
            body = message.get_body((kind,)).get_content()
            assert "{token}" not in body and body.count(link) == 1  # the template's link, no second footer
        segment = path.parent.name
        assert ("Small teams" in message.get_body(("plain",)).get_content()) == (segment == "smb")


CHILD = """
import sys, time
from datetime import datetime, timezone
from functools import partial
sys.path.insert(0, {repo!r})
from channels.base import DeliveryContext, Journal, Post
from channels.email.channel import Email
from newsroom.audience import load_audience
from newsroom.model import ChannelConfig
from newsroom.state import FileStore

root, port = {root!r}, {port}
options = {{k.name: (k.default() if callable(k.default) else k.default) for k in Email.OPTIONS.keys}}
options.update({{"from": "news@northwind.example", "unsubscribe_url": "https://n.example/u?t={{token}}",
                "lists": {{"all": "all.csv"}}, "host": "127.0.0.1", "port": port, "security": "none",
                "batch_size": 3, "rate": 600}})
channel = Email(ChannelConfig(name="newsletter", type="email", options=options), {{}})
channel.bind(read_list=partial(load_audience, root))
store = FileStore(__import__("pathlib").Path(root) / "state")
key = "killed/newsletter"
def write(name, value):
    store.append([{{"event": "progress", "entry": key, "name": name, "value": value, "at": "2026-11-20T09:00:00+00:00"}}])
post = Post(channel="newsletter", type="email", item_id="killed", item_path="x.md", revision="r1", title="T",
            url="https://n.example/t/", subject="S", html="<p>Hi</p>", text="Hi")
print("ready", flush=True)
channel.deliver(post, DeliveryContext(key=key, now=datetime(2026, 11, 20, 9, tzinfo=timezone.utc),
                                      journal=Journal({{}}, on_write=write), sleep=lambda s: time.sleep(0.05)))
print("finished", flush=True)
"""


def test_a_run_killed_with_sigkill_resumes_without_mailing_anyone_twice(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    import mailserver

    from channels.base import Post
    from channels.email.channel import Email
    from newsroom.model import ChannelConfig

    n = 30
    (tmp_path / "all.csv").write_text("email,name\n" + "".join(f"r{i}@customers.example,R{i}\n" for i in range(n)))
    box = mailserver.Mailbox()
    controller = mailserver.start(box)
    try:
        script = CHILD.format(repo=str(ROOT), root=str(tmp_path), port=controller.port)
        child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 20
        while len(box.messages) < 7 and time.monotonic() < deadline and child.poll() is None:
            time.sleep(0.005)
        child.send_signal(signal.SIGKILL)
        child.wait()
        killed_at = len(box.messages)
        assert 7 <= killed_at < n, "the child finished before it could be killed"

        store = FileStore(tmp_path / "state")
        key = "killed/newsletter"
        options = {k.name: (k.default() if callable(k.default) else k.default) for k in Email.OPTIONS.keys}
        options.update({"from": "news@northwind.example", "unsubscribe_url": "https://n.example/u?t={token}",
                        "lists": {"all": "all.csv"}, "host": "127.0.0.1", "port": controller.port,
                        "security": "none", "batch_size": 3})
        channel = Email(ChannelConfig(name="newsletter", type="email", options=options), {})
        channel.bind(read_list=partial(load_audience, tmp_path))
        post = Post(channel="newsletter", type="email", item_id="killed", item_path="x.md", revision="r1", title="T",
                    url="https://n.example/t/", subject="S", html="<p>Hi</p>", text="Hi")
        result = channel.deliver(post, DeliveryContext(key=key, now=NOW, journal=ledger_journal(store, key),
                                                       sleep=lambda s: None))
    finally:
        controller.stop()
    delivered = box.recipients()
    assert len(delivered) == len(set(delivered)), "somebody got the newsletter twice"
    tally = result.data["campaigns"][0]
    assert tally["sent"] + tally["uncertain"] == n and tally["uncertain"] <= 3  # at most the batch in flight
    assert len(delivered) >= n - 3
