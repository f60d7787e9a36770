"""The order of an item's channels in the calendar's views: terminal, JSON, HTML, and --diff."""
import json

from conftest import item
from test_calendar_diff import git

APPROVED = dict(status="approved", author="ana", approved_by="ben")


def test_the_calendar_shows_what_an_entry_waits_for_and_why_it_waits_now(project, cli):
    root = project({"content/a.md": item("A", publish_at="2026-11-20T09:00",
                                         channels={"blog": {"at": "2026-11-20T11:00"}, "mastodon": {}}, **APPROVED)})
    args = ("calendar", "--since", "2026-11-20", "--until", "2026-11-21")
    rows = {r["key"]: r for r in json.loads(cli(root, *args, "--format", "json", "--now", "2026-11-20T07:30Z").output)}
    assert rows["a/mastodon"]["after"] == ["blog (links to its page)"] and rows["a/blog"]["after"] == []
    assert rows["a/mastodon"]["flags"] == ["before_dependency"]
    assert rows["a/mastodon"]["waiting"] is None  # not due yet: nothing holds it now
    # at 09:30 (08:30Z) it is due, and the blog has not gone out: the calendar says why it waits
    rows = {r["key"]: r for r in json.loads(cli(root, *args, "--format", "json", "--now", "2026-11-20T09:30Z").output)}
    assert rows["a/mastodon"]["waiting"] == "waits for blog (not delivered yet)"
    text = cli(root, *args, "--now", "2026-11-20T09:30Z").output
    assert ("  09:00  mastodon  approved  A ! before_dependency · after blog (links to its page) (waits for blog "
            "(not delivered yet))") in text
    html = (root / "public/calendar/index.html")
    assert cli(root, "calendar", "--format", "html", "--now", "2026-11-20T09:30Z").exit_code == 0
    payload = html.read_text().split('<script type="application/json" id="data">')[1].split("</script>")[0]
    from scheduler.page import unpack

    shown = {e["key"]: e for e in unpack(json.loads(payload))}  # the page's compact data, read back
    assert shown["a/mastodon"]["after"] == ["blog (links to its page)"]
    assert shown["a/mastodon"]["waiting"] == "waits for blog (not delivered yet)"
    assert '"dependency_cycle","before_dependency"' in html.read_text()  # marked as problems in the page


def test_calendar_diff_flags_a_cycle_and_an_entry_before_what_it_waits_for(project, cli):
    root = project({"content/a.md": item("A", publish_at="2026-12-01T09:00",
                                         channels={"blog": {}, "mastodon": {"at": "+1h"}}, **APPROVED)})
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "before")
    (root / "content/a.md").write_text(item("A", publish_at="2026-12-01T09:00", channels={
        "blog": {"after": "mastodon"}, "mastodon": {"at": "+1h"}}, **APPROVED))
    (root / "content/b.md").write_text(item("B", publish_at="2026-12-02T09:00", channels={
        "blog": {}, "mastodon": {"at": "-1h"}}, **APPROVED))
    data = json.loads(cli(root, "calendar", "--diff", "main", "--format", "json", "--now", "2026-11-20T00:00Z").output)
    problems = [(p["key"], p["flags"], p["notes"]) for p in data["new_problems"]]
    cycle = ("dependency_cycle: blog, which waits for mastodon, which waits for blog: none of them can ever go out "
             "(a post that links to the blog page waits for it); take one of them out of the after: of the other")
    assert ("a/blog", ["dependency_cycle"], [cycle]) in problems
    assert ("a/mastodon", ["dependency_cycle"], [cycle]) in problems
    assert ("b/mastodon", ["before_dependency"], [
        "before_dependency: planned on 'mastodon' at 2026-12-02 08:00, before 'blog' (2026-12-02 09:00) that it "
        "waits for (its post links to the blog page); give it a later time, or an offset from it (at: +30m)"]) in problems
    md = cli(root, "calendar", "--diff", "main", "--format", "md", "--now", "2026-11-20T00:00Z").output
    assert "#### ⚠️ New problems" in md and "dependency_cycle: blog, which waits for mastodon" in md
