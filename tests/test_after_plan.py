"""The order of one item's channels in the plan and in check: after:, the implicit wait for the blog,
offsets counted from a dependency, cycles and entries planned before what they wait for."""
import json
from datetime import datetime, timezone

from conftest import BASE_SETTINGS, item

UTC = timezone.utc
APPROVED = dict(status="approved", author="ana", approved_by="ben")
SETTINGS = BASE_SETTINGS + """\
  newsletter:
    type: email
    from: "News <news@news.test>"
    lists:
      all: audience/all.csv
    unsubscribe_url: "https://news.test/unsubscribe?token={token}"
"""
FILES = {"audience/all.csv": "email\nreader@example.org\n"}


def planned(root, now=datetime(2026, 11, 1, tzinfo=UTC)):
    from scheduler.project import load_project as load
    from scheduler.plan import plan

    return {e.key: e for e in plan(load(root), now=now)}


def test_after_is_read_from_a_name_or_a_list_and_the_blog_is_waited_for_implicitly(project):
    root = project({**FILES, "content/launch.md": item(
        "Launch", publish_at="2026-11-20T09:00", channels={
            "blog": {}, "newsletter": {"after": "blog"}, "mastodon": {"after": ["newsletter"]}}, **APPROVED)},
        settings=SETTINGS)
    entries = planned(root)
    assert entries["launch/blog"].after_names == []
    assert entries["launch/newsletter"].after_names == ["blog"]
    # mastodon names the newsletter, and its post links to the blog page: it waits for both
    assert entries["launch/mastodon"].after_names == ["newsletter", "blog (links to its page)"]


def test_implicit_wait_can_be_switched_off_and_skips_items_linking_elsewhere(project):
    settings = SETTINGS + "dependencies:\n  links_wait_for_blog: false\n"
    root = project({**FILES, "content/launch.md": item(
        "Launch", publish_at="2026-11-20T09:00", channels=["blog", "mastodon"], **APPROVED)}, settings=settings)
    assert planned(root)["launch/mastodon"].after == ()
    root = project({**FILES, "content/copy.md": item(
        "Copy", publish_at="2026-11-20T09:00", canonical_url="https://elsewhere.example/post",
        channels=["blog", "mastodon"], **APPROVED)}, settings=SETTINGS)
    assert planned(root)["copy/mastodon"].after == ()


def test_an_offset_after_a_dependency_counts_from_its_time(project):
    root = project({**FILES, "content/launch.md": item(
        "Launch", publish_at="2026-11-20T09:00", channels={
            "blog": {"at": "2026-11-20T11:00"}, "mastodon": {"after": "blog", "at": "+30m"},
            "newsletter": {"at": "+30m"}}, **APPROVED)}, settings=SETTINGS)
    entries = planned(root)
    # 11:00 Berlin is 10:00Z; +30m from the blog, not from publish_at (08:00Z)
    assert entries["launch/mastodon"].at == datetime(2026, 11, 20, 10, 30, tzinfo=UTC)
    assert entries["launch/mastodon"].source == "after"
    # without after:, the offset stays from publish_at
    assert entries["launch/newsletter"].at == datetime(2026, 11, 20, 8, 30, tzinfo=UTC)


LOOP = """\
---
title: Loop
status: approved
author: ana
approved_by: ben
publish_at: 2026-11-20T09:00
channels:
  blog:
    after: newsletter
  newsletter:
    after: [blog]
---
Body.
"""


def test_check_reports_a_cycle_and_an_entry_before_what_it_waits_for_at_their_lines(project, cli):
    root = project({**FILES, "content/loop.md": LOOP,
        "content/early.md": item(
        "Early", publish_at="2026-11-21T09:00", channels={
            "blog": {}, "mastodon": {"at": "2026-11-21T08:00", "after": "blog"}}, **APPROVED)},
        settings=SETTINGS)
    result = cli(root, "check", "--now", "2026-11-01T00:00Z")
    assert result.exit_code == 1
    lines = [line.strip() for line in result.output.splitlines()]
    assert ("content/loop.md:9: channels.blog.after: dependency_cycle: blog, which waits for newsletter, which "
            "waits for blog: none of them can ever go out; take one of them out of the after: of the other") in lines
    assert ("content/loop.md:11: channels.newsletter.after: dependency_cycle: blog, which waits for newsletter, "
            "which waits for blog: none of them can ever go out; take one of them out of the after: of the other"
            ) in lines
    assert ("content/early.md:5: channels.mastodon.after: before_dependency: planned on 'mastodon' at "
            "2026-11-21 08:00, before 'blog' (2026-11-21 09:00) that it waits for (after: blog); give it a later "
            "time, or an offset from it (at: +30m)") in lines


def test_a_cycle_through_the_implicit_blog_wait_is_named(project, cli):
    root = project({**FILES, "content/loop.md": item(
        "Loop", publish_at="2026-11-20T09:00", channels={"blog": {"after": "mastodon"}, "mastodon": {}},
        **APPROVED)}, settings=SETTINGS)
    data = json.loads(cli(root, "check", "--format", "json", "--now", "2026-11-01T00:00Z").output)
    messages = [(e["line"], e["key"], e["message"]) for e in data["errors"]]
    assert (5, "channels.blog.after", "dependency_cycle: blog, which waits for mastodon, which waits for blog: none "
            "of them can ever go out (a post that links to the blog page waits for it); take one of them out of "
            "the after: of the other") in messages


def test_after_names_a_channel_of_the_item(project, cli):
    root = project({**FILES, "content/typo.md": item(
        "Typo", publish_at="2026-11-20T09:00", channels={"blog": {}, "mastodon": {"after": "blgo"},
                                                          "newsletter": {"after": ["newsletter"]}}, **APPROVED)},
        settings=SETTINGS)
    data = json.loads(cli(root, "check", "--format", "json", "--now", "2026-11-01T00:00Z").output)
    messages = [(e["line"], e["key"], e["message"]) for e in data["errors"]]
    assert (5, "channels.mastodon.after", "'blgo' is not one of this item's channels (did you mean 'blog'?) "
            "(its channels: blog, mastodon, newsletter)") in messages
    assert (5, "channels.newsletter.after", "'newsletter' cannot wait for itself; name another channel of this "
            "item") in messages
