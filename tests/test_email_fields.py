"""Fields per recipient: ``recipient.<column>`` in the email templates and in an item's body, filled
per recipient in messages handed to a real SMTP server on loopback."""
from __future__ import annotations

import email
import email.policy
import json

import pytest
from hypothesis import given, settings as hsettings, strategies as st

import mailserver
from channels import fields, registry
from channels.email.message import unsubscribe_token
from channels.render import render_post
from newsroom.project import load_project

from conftest import item

LIST = """\
email,First name,plan,unsubscribed
zoe@customers.example,Zoë,enterprise,
bob@customers.example,<b>Bob</b> & co,smb,
kim@customers.example,,smb,
left@customers.example,Gone,smb,yes
"""

BODY = """\
Hi {{ recipient.first_name | default("there") }},

Your plan: **{{ recipient.plan }}**. This stays as written: {{ title }} and {{ recipient.plan | upper }}.
"""


def settings(port: int) -> str:
    return f"""\
        site:
          title: Northwind Notes
          url: https://news.test
        channels:
          blog:
            type: blog
          newsletter:
            type: email
            from: Northwind Notes <news@news.test>
            host: 127.0.0.1
            port: {port}
            security: none
            unsubscribe_url: https://news.test/unsubscribe?token={{token}}
            lists:
              all: audience/all.csv
        """


def files(**extra) -> dict:
    out = {"audience/all.csv": LIST,
           "content/launch.md": item("The launch", status="approved", approved_by="Ed", author="Al",
                                     publish_at="2026-12-01T09:00:00Z", channels=["newsletter", "blog"], body=BODY),
           "templates/email/subject.j2": '{{ title }}, {{ recipient.first_name | default("friend") }}\n'}
    out.update(extra)
    return out


def load(root):
    return load_project(root, channel_types=registry.option_schemas(), channel_overrides=registry.override_schemas())


@pytest.fixture
def smtp():
    box = mailserver.Mailbox()
    controller = mailserver.start(box)
    yield box, controller.port
    controller.stop()


def send(root):
    from datetime import datetime, timezone

    from channels.base import DeliveryContext, Journal

    project = load(root)
    channel = registry.build(project.settings.channels["newsletter"], {})
    channel.prepare(project.settings)
    post = render_post(project, project.items[0], channel)
    assert not post.problems, post.problems
    ctx = DeliveryContext(key="launch/newsletter", now=datetime(2026, 12, 1, 9, tzinfo=timezone.utc), journal=Journal({}))
    return channel, post, channel.deliver(post, ctx)


def parts(message):
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    html = message.get_body(("html",)).get_content().replace("\r\n", "\n")
    return text, html


def test_each_recipient_gets_their_own_fields_escaped_in_html(project, smtp):
    box, port = smtp
    root = project(files(), settings=settings(port))
    channel, post, receipt = send(root)
    assert receipt.data["campaigns"][0]["sent"] == 3, receipt
    got = {m["To"].addresses[0].addr_spec: m for m in box.parsed()}
    assert sorted(got) == ["bob@customers.example", "kim@customers.example", "zoe@customers.example"]

    zoe, bob, kim = got["zoe@customers.example"], got["bob@customers.example"], got["kim@customers.example"]
    assert zoe["Subject"] == "The launch, Zoë"
    assert bob["Subject"] == "The launch, <b>Bob</b> & co"  # a header is text: nothing to escape
    assert kim["Subject"] == "The launch, friend"

    text, html = parts(zoe)
    assert "Hi Zoë,\n" in text and "Your plan: enterprise." in text
    assert "<p>Hi Zoë,</p>" in html and "<strong>enterprise</strong>" in html
    # the body is data: only recipient fields are filled, anything else is left as written
    assert "{{ title }} and {{ recipient.plan | upper }}" in text

    text, html = parts(bob)
    assert "Hi <b>Bob</b> & co,\n" in text
    assert "<p>Hi &lt;b&gt;Bob&lt;/b&gt; &amp; co,</p>" in html and "<b>Bob</b>" not in html

    text, html = parts(kim)
    assert "Hi there,\n" in text and "<p>Hi there,</p>" in html
    for message in got.values():  # no mark is left anywhere
        assert not any(c in message.as_string() for c in (fields.OPEN, fields.SEP, fields.CLOSE))

    # the unsubscribe link is each recipient's own, as before
    for address, message in got.items():
        token = unsubscribe_token(address, None, channel.list_id)
        assert message["List-Unsubscribe"] == f"<https://news.test/unsubscribe?token={token}>"
        assert f"https://news.test/unsubscribe?token={token}" in parts(message)[1]


def test_other_channels_show_the_fallback(project):
    root = project(files(), settings=settings(2525))
    project_ = load(root)
    blog = registry.build(project_.settings.channels["blog"], {})
    post = render_post(project_, project_.items[0], blog)
    assert "<p>Hi there,</p>" in post.html
    assert "Your plan: ****." in post.html  # no fallback: nothing, and the Markdown around it stays text


def test_preview_writes_fields_back_as_written(project, cli):
    root = project(files(), settings=settings(2525))
    result = cli(root, "render", "content/launch.md", "--channel", "newsletter")
    assert result.exit_code == 0, result.output
    assert 'Subject: The launch, {{ recipient.first_name | default("friend") }}' in result.output
    assert 'Hi {{ recipient.first_name | default("there") }},' in result.output
    assert fields.OPEN not in result.output


def test_check_reports_a_field_no_list_has(project, cli):
    tpl = "{{ title }} {{ recipient.frist_name | default('x') }} {{ recipient['region'] }}\n"
    body = "Hi {{ recipient.first_name }} from {{ recipient.city }} {{ recipient.plan | upper }}.\n"
    root = project(files(**{"templates/email/subject.j2": tpl, "content/launch.md": item(
        "The launch", status="approved", approved_by="Ed", author="Al", publish_at="2026-12-01T09:00:00Z",
        channels=["newsletter"], body=body)}), settings=settings(2525))
    result = cli(root, "check", "--format", "json", "--offline", "--now", "2026-11-30T09:00:00Z")
    out = json.loads(result.output)
    lines = [f"{e['path']}:{e['line']}: {e['key']}: {e['message']}" for e in out["errors"] + out["warnings"]]
    columns = "(its lists: audience/all.csv; their columns: email, first_name, plan, unsubscribed)"
    assert lines == [
        f"content/launch.md:9: body: no list of channel 'newsletter' has a column 'city' {columns}",
        f"templates/email/subject.j2:1: recipient.frist_name: no list of channel 'newsletter' has a column "
        f"'frist_name' (did you mean 'first_name'?) {columns}",
        f"templates/email/subject.j2:1: recipient.region: no list of channel 'newsletter' has a column 'region' {columns}",
        "content/launch.md:9: body: '{{ recipient.plan | upper }}' is not filled: write {{ recipient.<column> }} or "
        '{{ recipient.<column> | default("…") }} (the body is not a template)',
    ]
    assert result.exit_code == 1


def test_a_field_cannot_be_tested_in_a_template(project):
    root = project(files(**{"templates/email/subject.j2": "{% if recipient.plan %}Hi{% endif %}{{ title }}\n"}),
                   settings=settings(2525))
    project_ = load(root)
    channel = registry.build(project_.settings.channels["newsletter"], {})
    post = render_post(project_, project_.items[0], channel)
    assert [p.message for p in post.problems] == [
        'templates/email/subject.j2:1: recipient.plan can be printed, not tested (the message is made once for '
        'everyone): use {{ recipient.plan | default("…") }}']


def test_recipient_is_read_only():
    with pytest.raises(fields.FieldError, match="recipient is read-only"):
        fields.RECIPIENT.plan = "x"


@hsettings(max_examples=200, deadline=None)
@given(body=st.text(max_size=200), value=st.text(max_size=30), fallback=st.text(alphabet=st.characters(
    blacklist_characters="\"\\\n"), max_size=20), cut=st.integers(min_value=0, max_value=400))
def test_fuzz_filling_never_leaves_a_mark_or_unescaped_html(body, value, fallback, cut):
    """Whatever a body holds (even marks of its own, or a mark cut by an excerpt), filling leaves no
    mark and a value never reaches the HTML part unescaped."""
    written = f'{body}{{{{ recipient.name | default("{fallback}") }}}}{body}'
    marked = fields.body_marks(written)
    for text in (marked, marked[:cut]):
        filled = fields.Filler.of(text)
        html = filled.fill({"name": value}, "html")
        for out in (filled.fill({"name": value}), html, filled.fill({"name": value}, "header")):
            assert not any(c in out for c in (fields.OPEN, fields.SEP, fields.CLOSE))
    html = fields.Filler.of(fields.mark("name")).fill({"name": value}, "html")
    assert "<" not in html and ">" not in html and '"' not in html


def test_check_from_the_item_cache_finds_the_fields_without_reading_a_body(project, cli, monkeypatch):
    """Loading records the fields a body holds (``newsroom/bodyscan.py``), so a cached ``check`` of a
    newsletter's items reads no body and reports the same lines as the first, which parsed every file."""
    from newsroom import itemcache

    body = "Hi {{ recipient.first_name }} from {{ recipient.city }} {{ recipient.plan | upper }}.\n"
    root = project(files(**{"content/launch.md": item(
        "The launch", status="approved", approved_by="Ed", author="Al", publish_at="2026-12-01T09:00:00Z",
        channels=["newsletter"], body=body)}), settings=settings(2525))

    def lines():
        result = cli(root, "check", "--format", "json", "--offline", "--now", "2026-11-30T09:00:00Z")
        out = json.loads(result.output)
        return [f"{e['path']}:{e['line']}: {e['message']}" for e in out["errors"] + out["warnings"]
                if e["key"] == "body"]

    first = lines()
    assert [line.split(": ", 1)[0] for line in first] == ["content/launch.md:9", "content/launch.md:9"]
    read = []
    real = itemcache._Bodies.read
    monkeypatch.setattr(itemcache._Bodies, "read", lambda self, *a: read.append(a) or real(self, *a))
    assert lines() == first
    assert read == []
