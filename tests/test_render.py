"""render_post: templates, strict variables, limits, threads, segments, per-type payloads, check, CLI."""
import json
import re

import jinja2

from channels import registry
from channels.context import TemplateContext
from channels.filters import FILTERS
from channels.render import TEMPLATES, render_post
from conftest import ROOT, item

SETTINGS = """\
site:
  title: Test Newsroom
  url: https://news.test
timezone: Europe/Berlin
segments:
  smb: Small businesses
  enterprise: Enterprise accounts
channels:
  blog:
    type: blog
  mastodon:
    type: mastodon
    instance: https://mastodon.test
    token: env:MASTODON_TOKEN
  bluesky:
    type: bluesky
    handle: t.bsky.social
    app_password: env:BSKY
  x:
    type: x
    token: env:X_TOKEN
  newsletter:
    type: email
    from: "Test <news@news.test>"
    unsubscribe_url: "https://news.test/unsubscribe?token={token}"
  devto:
    type: devto
    api_key: env:DEVTO
  team-slack:
    type: slack
    webhook: env:SLACK
    utm_source: slack-internal
"""


def load(root):
    from scheduler.project import load_project

    return load_project(root)


def render(root, path, channel, **kw):
    project = load(root)
    it = project.item_by_path(path)
    return render_post(project, it, registry.build(project.settings.channels[channel], {}), **kw)


def test_a_missing_variable_names_template_line_and_variable(project):
    root = project({
        "content/a.md": item("A", "approved", approved_by="B", publish_at="2030-01-01T09:00", channels=["mastodon"]),
        "templates/mastodon/post.j2": "{{ title }}\n\n{{ item.subtitle }}\n",
    }, settings=SETTINGS)
    post = render(root, "content/a.md", "mastodon")
    assert [str(p) for p in post.problems] == [
        "content/a.md:6: channels.mastodon: templates/mastodon/post.j2:3: item has no attribute 'subtitle' "
        "(see docs/templates.md)"]
    assert post.template == "mastodon/post.j2"


def test_an_undefined_variable_and_a_syntax_error(project):
    root = project({
        "content/a.md": item("A", channels={"mastodon": {"template": "bad"}, "x": {"template": "broken"}}),
        "templates/mastodon/bad.j2": "{{ title }}\n{% if true %}\n{{ subtitle }}\n{% endif %}\n",
        "templates/x/broken.j2": "{{ title }\n",
    }, settings=SETTINGS)
    post = render(root, "content/a.md", "mastodon")
    assert [p.message for p in post.problems] == [
        "templates/mastodon/bad.j2:3: variable 'subtitle' is undefined (see docs/templates.md for the variables)"]
    post = render(root, "content/a.md", "x")
    assert len(post.problems) == 1 and post.problems[0].message.startswith("templates/x/broken.j2:1: ")


def test_a_missing_template_is_a_problem_not_a_crash(project):
    root = project({"content/a.md": item("A", channels={"mastodon": {"template": "nope"}})}, settings=SETTINGS)
    post = render(root, "content/a.md", "mastodon")
    assert [p.message for p in post.problems] == [
        "templates/mastodon/nope.j2: no such template (looked in templates/, the shipped templates/)"
        if (root / "templates").is_dir() else
        "templates/mastodon/nope.j2: no such template (looked in the shipped templates/)"]


def test_content_is_never_run_as_template_code(project):
    body = "Use {{ site.url }} and {% raw %} as you like.\n"
    root = project({"content/a.md": item("A", body=body, channels=["mastodon", "blog"])}, settings=SETTINGS)
    blog = render(root, "content/a.md", "blog")
    assert "{{ site.url }}" in blog.html and "{% raw %}" in blog.html
    masto = render(root, "content/a.md", "mastodon")
    assert masto.problems == []


def test_escaping_only_in_html_templates(project):
    root = project({"content/a.md": item("Q&A <live> with the team", summary="Fish & chips",
                                         channels=["mastodon", "newsletter"])}, settings=SETTINGS)
    masto = render(root, "content/a.md", "mastodon")
    assert masto.parts[0].startswith("Q&A <live> with the team\n\nFish & chips\n\n")
    mail = render(root, "content/a.md", "newsletter")
    assert "<h1 dir=\"auto\" style=\"margin:0 0 16px;font-size:24px;line-height:1.3;\">Q&amp;A &lt;live&gt; with the team</h1>" in mail.html
    assert mail.subject == "Q&A <live> with the team"
    assert mail.text.startswith("Q&A <live> with the team\n" + "=" * 24 + "\n\nFish & chips")


def test_over_the_limit_says_by_how_much_and_which_template(project):
    root = project({
        "content/a.md": item("A", channels=["mastodon"]),
        "templates/mastodon/post.j2": "{{ 'x' * 510 }}\n",
    }, settings=SETTINGS)
    post = render(root, "content/a.md", "mastodon")
    assert post.lengths == [510] and post.limit == 500
    assert [p.message for p in post.problems] == [
        "mastodon: the post is 10 characters over the limit of 500 (510/500), from templates/mastodon/post.j2; "
        "shorten it, or set channels.mastodon.thread: true to post it as a thread"]


def test_the_mastodon_limit_follows_max_chars(project):
    settings = SETTINGS.replace("token: env:MASTODON_TOKEN", "token: env:MASTODON_TOKEN\n    max_chars: 1000")
    root = project({
        "content/a.md": item("A", channels=["mastodon"]),
        "templates/mastodon/post.j2": "{{ 'x' * 510 }}\n",
    }, settings=settings)
    post = render(root, "content/a.md", "mastodon")
    assert post.limit == 1000 and post.problems == []


LONG_BODY = "\n\n".join(
    f"Paragraph {i} explains one more thing about the release in a sentence or two. "
    f"See https://docs.news.test/release/notes/section-{i}?from=thread for the details." for i in range(12)) + "\n"


def test_a_thread_when_the_item_allows_it(project):
    root = project({"content/a.md": item("Release notes", body=LONG_BODY, channels={"mastodon": {"thread": True},
                                                                                      "bluesky": {"thread": True}})},
                   settings=SETTINGS)
    for name, limit in (("mastodon", 500), ("bluesky", 300)):
        post = render(root, "content/a.md", name)
        assert post.template == f"{name}/thread.j2"
        assert len(post.parts) > 1 and post.problems == []
        assert all(n <= limit for n in post.lengths)
        n = len(post.parts)
        assert [p.rsplit("\n\n", 1)[1] for p in post.parts] == [f"{i}/{n}" for i in range(1, n + 1)]
        urls = re.findall(r"https://docs\.news\.test/\S+", "\n".join(post.parts))
        assert urls == [f"https://docs.news.test/release/notes/section-{i}?from=thread" for i in range(12)]


def test_a_hand_written_text_is_counted_not_rendered(project):
    root = project({"content/a.md": item("A", channels={"x": {"text": "Hello {{ title }} 東京 " * 20}})},
                   settings=SETTINGS)
    post = render(root, "content/a.md", "x")
    assert post.parts[0].startswith("Hello {{ title }} 東京")
    assert post.template == "channels.x.text"
    assert post.problems[0].message.startswith("x: the post is ") and "from channels.x.text in content/a.md" in post.problems[0].message


SEGMENTED = """Hello everyone.

::: segment smb
Small teams: start today.
:::

::: segment enterprise
Enterprise: ask your manager.
:::
"""


def test_email_renders_one_variant_per_segment(project):
    root = project({"content/a.md": item("Offer", body=SEGMENTED, segments=["smb", "enterprise"],
                                         channels=["newsletter"], campaign="bf")}, settings=SETTINGS)
    post = render(root, "content/a.md", "newsletter")
    assert post.problems == []
    assert [v["segment"] for v in post.data["variants"]] == ["smb", "enterprise"]
    smb, ent = post.data["variants"]
    assert "Small teams" in smb["html"] and "Enterprise" not in smb["html"] and "Small teams" in smb["text"]
    assert "Enterprise: ask your manager." in ent["text"] and "Small teams" not in ent["text"]
    assert "Small teams" not in post.html and "Hello everyone." in post.html
    assert smb["subject"] == "Offer"
    assert "utm_source=newsletter&amp;utm_medium=email&amp;utm_campaign=bf" in post.html


def test_a_channel_segment_renders_that_segment_only(project):
    root = project({"content/a.md": item("Offer", body=SEGMENTED, segments=["smb", "enterprise"],
                                         channels={"newsletter": {"segment": "enterprise"}})}, settings=SETTINGS)
    post = render(root, "content/a.md", "newsletter")
    assert post.segment == "enterprise" and "variants" not in post.data
    assert "Enterprise: ask your manager." in post.html


def test_templates_can_branch_on_the_segment(project):
    root = project({
        "content/a.md": item("Offer", segments=["smb", "enterprise"], channels=["newsletter"]),
        "templates/email/subject.j2": "{% if segment == 'enterprise' %}For your team: {% endif %}{{ title }}",
    }, settings=SETTINGS)
    post = render(root, "content/a.md", "newsletter")
    assert [v["subject"] for v in post.data["variants"]] == ["Offer", "For your team: Offer"]


def test_blog_gets_sanitised_absolute_html_and_alt_problems(project):
    body = "See [pricing](/pricing/).\n\n![](img/chart.png)\n\n<script>alert(1)</script>\n"
    root = project({"content/a.md": item("A", body=body, channels=["blog"])}, settings=SETTINGS)
    post = render(root, "content/a.md", "blog")
    assert '<a href="https://news.test/pricing/">pricing</a>' in post.html
    assert "script" not in post.html
    assert [str(p) for p in post.problems] == [
        "content/a.md:8: body: image 'img/chart.png' has no alt text: write ![what it shows](img/chart.png)"]


def test_devto_article_fields_and_at_most_four_tags(project):
    root = project({"content/a.md": item("Guide", summary="A short guide.", tags=["API design", "Python", "café",
                                                                                 "web", "ops"],
                                         canonical_url="https://news.test/guide/", image="/img/g.png",
                                         image_alt="A chart", body="Read [this](/x/).\n", channels=["devto"])},
                   settings=SETTINGS)
    post = render(root, "content/a.md", "devto")
    data = post.data
    assert data["tags"] == ["apidesign", "python", "cafe", "web"]
    assert data["canonical_url"] == "https://news.test/guide/"
    assert data["main_image"] == "https://news.test/img/g.png"
    assert data["description"] == "A short guide."
    assert data["body_markdown"].startswith("Read [this](https://news.test/x/).")
    assert "Originally published on [Test Newsroom](https://news.test/guide/)" in data["body_markdown"]
    assert [(p.severity, p.message) for p in post.problems] == [
        ("warning", "dev.to takes at most 4 tags; ops will be left out (order the tags by importance or set fewer)")]


def test_slack_blocks_and_mrkdwn_escaping(project):
    root = project({"content/a.md": item("Q&A <now>", summary="Bring questions", campaign="c1",
                                         channels=["team-slack"])}, settings=SETTINGS)
    post = render(root, "content/a.md", "team-slack")
    link = "https://news.test/a/?utm_source=slack-internal&utm_medium=chat&utm_campaign=c1"
    assert post.parts == [f"*<{link}|Q&amp;A &lt;now&gt;>*\nBring questions"]
    assert post.data["blocks"][0] == {"type": "section", "text": {"type": "mrkdwn", "text": post.parts[0]}}
    assert post.data["blocks"][-1]["elements"][0]["url"] == link


def test_check_reports_only_entries_that_will_go_out(project, cli):
    tpl = "{{ title }} {{ 'x' * 600 }}\n"
    root = project({
        "content/approved.md": item("Approved", "approved", approved_by="B", publish_at="2030-01-01T09:00",
                                    channels=["mastodon"]),
        "content/draft.md": item("Draft", "draft", channels=["mastodon"]),
        "content/expired.md": item("Expired", "approved", approved_by="B", publish_at="2020-01-01T09:00",
                                   expires_at="2020-01-02T09:00", channels=["mastodon"]),
        "templates/mastodon/post.j2": tpl,
    }, settings=SETTINGS)
    result = cli(root, "check", "--format", "json")
    report = json.loads(result.output)
    assert result.exit_code == 1
    assert [(e["path"], e["key"], e["message"]) for e in report["errors"]] == [
        ("content/approved.md", "channels.mastodon",
         "mastodon: the post is 109 characters over the limit of 500 (609/500), from templates/mastodon/post.j2; "
         "shorten it, or set channels.mastodon.thread: true to post it as a thread")]


def test_render_cli_text_json_and_preview(project, cli):
    root = project({"content/a.md": item("Hello 東京 🎉", summary="A summary.", campaign="c",
                                         channels=["mastodon", "x", "newsletter"])}, settings=SETTINGS)
    result = cli(root, "render", "content/a.md")
    assert result.exit_code == 0, result.output
    assert "== mastodon (mastodon) · mastodon/post.j2 ==" in result.output
    # 24 + the link whole (73): news.test has no known top-level domain, so Mastodon does not link it
    assert "-- 97/500 characters" in result.output
    assert "-- 50/280 weighted characters" in result.output
    assert "== newsletter (email) · email/email.html.j2 ==\nSubject: Hello 東京 🎉" in result.output
    result = cli(root, "render", "content/a.md", "--channel", "x", "--format", "json")
    posts = json.loads(result.output)
    assert [p["channel"] for p in posts] == ["x"] and posts[0]["limit"] == 280
    assert posts[0]["lengths"] == [50]  # "Hello " 6 + 東京 4 + " " 1 + 🎉 2, separators 4, summary 10, link 23
    result = cli(root, "render", "content/a.md", "--open")
    path = result.output.strip()
    assert path.endswith("preview/a.html")
    html = open(path, encoding="utf-8").read()
    assert "<h2>mastodon</h2>" in html and "<h2>x</h2>" in html and "<h2>newsletter</h2>" in html


def test_render_cli_bad_input_exits_2(project, cli):
    root = project({"content/a.md": item("A", channels=["mastodon"])}, settings=SETTINGS)
    result = cli(root, "render", "content/b.md")
    assert result.exit_code == 2
    assert "error: content/b.md: no item loaded from this path (did you mean 'content/a.md'?)" in result.output
    result = cli(root, "render", "content/a.md", "--channel", "mastadon")
    assert result.exit_code == 2
    assert "error: no channel named 'mastadon' in publish.yml (did you mean 'mastodon'?)" in result.output


def _documented(section: str) -> set[str]:
    text = (ROOT / "docs" / "templates.md").read_text(encoding="utf-8")
    part = text.split(f"## {section}", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([^`]+)` \|", part, re.M))


def test_every_template_variable_and_filter_is_documented():
    assert set(TemplateContext.variables()) - _documented("Variables") == set()
    assert set(FILTERS) - _documented("Filters") == set()


def test_shipped_templates_use_only_documented_variables():
    from jinja2 import meta

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)))
    env.filters.update(FILTERS)
    # The blog's site templates get the site's own context, documented and checked with the blog; the
    # report's page gets the report (reports/html.py, StrictUndefined).
    names = [n for n in env.list_templates(extensions=["j2"]) if not n.startswith(("blog/", "report/"))]
    assert len(names) >= 15
    known = set(TemplateContext.variables())
    for name in names:
        used = meta.find_undeclared_variables(env.parse(env.loader.get_source(env, name)[0]))
        assert used <= known, (name, used - known)


def test_a_link_longer_than_a_part_is_reported_not_cut(project):
    link = "https://docs.news.test/" + "very-long-path/" * 25
    body = f"Intro sentence here. Then the link {link} and more words after it.\n"
    root = project({"content/a.md": item("A", body=body, channels={"bluesky": {"thread": True}})}, settings=SETTINGS)
    post = render(root, "content/a.md", "bluesky")
    assert any(link in part for part in post.parts)
    over = [p.message for p in post.problems]
    assert len(over) == 1 and over[0].startswith("bluesky: part ")
    assert over[0].endswith("a link is never cut, so shorten the link or the text around it")


def test_render_cli_html_format_escapes_and_frames_the_email(project, cli):
    root = project({"content/a.md": item("Fish & <chips>", channels=["mastodon", "newsletter"])}, settings=SETTINGS)
    result = cli(root, "render", "content/a.md", "--format", "html")
    assert result.exit_code == 0
    out = result.output
    assert out.startswith("<!DOCTYPE html>") and "<title>Preview: Fish &amp; &lt;chips&gt;</title>" in out
    assert "<iframe sandbox srcdoc=" in out


def test_an_edited_template_is_picked_up_with_its_new_variables(project):
    import os

    root = project({"content/a.md": item("A", summary="S", channels=["mastodon"]),
                    "templates/mastodon/post.j2": "{{ title }}\n"}, settings=SETTINGS)
    assert render(root, "content/a.md", "mastodon").parts == ["A"]
    tpl = root / "templates/mastodon/post.j2"
    tpl.write_text("{{ title }} / {{ summary }}\n", encoding="utf-8")
    stat = tpl.stat()
    os.utime(tpl, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))
    assert render(root, "content/a.md", "mastodon").parts == ["A / S"]


def test_templates_never_see_secrets(project):
    root = project({"content/a.md": item("A", channels=["mastodon"]),
                    "templates/mastodon/post.j2": "{{ channel.options.token }}\n"}, settings=SETTINGS)
    post = render(root, "content/a.md", "mastodon")
    assert [p.message for p in post.problems] == [
        "templates/mastodon/post.j2:1: the mapping has no attribute 'token' (see docs/templates.md)"]


def test_webhook_payload_and_text_formats(project):
    settings = SETTINGS + "  hook:\n    type: webhook\n    url: env:HOOK\n    signing_secret: env:HOOK_SECRET\n" \
                          "  tg:\n    type: telegram\n    token: env:TG\n    chat_id: '@t'\n"
    root = project({"content/a.md": item("A <b>", summary="S", tags=["t"], channels=["hook", "tg", "team-slack"])},
                   settings=settings)
    hook = render(root, "content/a.md", "hook")
    payload = hook.data["payload"]
    assert payload["event"] == "item.published" and payload["title"] == "A <b>"
    assert payload["link"] == "https://news.test/a/?utm_source=hook&utm_medium=webhook"
    assert hook.parts == ["A <b>: https://news.test/a/?utm_source=hook&utm_medium=webhook"]
    assert render(root, "content/a.md", "tg").data["format"] == "text"
    assert render(root, "content/a.md", "team-slack").data["format"] == "mrkdwn"


def test_check_still_renders_email_variants_when_a_template_reads_the_segment(project, cli):
    root = project({
        "content/a.md": item("A", "approved", approved_by="B", publish_at="2030-01-01T09:00", segments=["smb"],
                             body=SEGMENTED.replace("::: segment enterprise\nEnterprise: ask your manager.\n:::\n", ""),
                             channels=["newsletter", "blog"]),
        "templates/email/subject.j2": "{% if segment == 'smb' %}{{ smb_subject }}{% endif %}{{ title }}\n",
    }, settings=SETTINGS)
    report = json.loads(cli(root, "check", "--format", "json").output)
    assert [(e["key"], e["message"]) for e in report["errors"]] == [
        ("channels.newsletter", "templates/email/subject.j2:1: variable 'smb_subject' is undefined "
                                "(see docs/templates.md for the variables)")]


def test_the_excerpt_gives_way_so_the_link_fits(project):
    title = ("A headline that runs long " * 9).strip()
    root = project({"content/a.md": item(title, summary="A summary that will not fit at all.",
                                         channels=["x", "bluesky"])}, settings=SETTINGS)
    x = render(root, "content/a.md", "x")
    assert x.parts == [f"{title}\n\nA summary that…\n\nhttps://news.test/a/?utm_source=x&utm_medium=social"]
    assert x.lengths == [276] and x.problems == []
    bsky = render(root, "content/a.md", "bluesky")
    assert bsky.parts == [f"{title}\n\nA…\n\nhttps://news.test/a/?utm_source=bluesky&utm_medium=social"]
    assert bsky.lengths == [296] and bsky.problems == []


def one_post_over_its_limit(project):
    """A project whose one Mastodon post is 501 characters, and check's first (cached) verdict on it."""
    from datetime import datetime, timezone

    from channels import preview
    from scheduler.project import load_project

    root = project({
        "content/a.md": item("A", "approved", approved_by="B", publish_at="2030-01-01T09:00", channels=["mastodon"]),
        "templates/mastodon/post.j2": "{{ 'x' * 501 }}\n",
    }, settings=SETTINGS)
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    first = preview.render_problems(load_project(root), now)
    assert [p.message.split(" (")[0] for p in first] == ["mastodon: the post is 1 characters over the limit of 500"]
    return root, now, first


def test_check_keeps_rendering_results_until_item_template_or_settings_change(project, monkeypatch):
    import os

    from channels import preview
    from scheduler.project import load_project

    root, now, first = one_post_over_its_limit(project)
    assert (root / ".cache/render-check.json").exists()

    def boom(*a, **k):
        raise AssertionError("rendered again")

    monkeypatch.setattr("channels.render.render_post", boom)
    assert preview.render_problems(load_project(root), now) == first  # from the cache
    monkeypatch.undo()

    tpl = root / "templates/mastodon/post.j2"
    tpl.write_text("{{ 'x' * 502 }}\n", encoding="utf-8")
    st = tpl.stat()
    os.utime(tpl, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))
    again = preview.render_problems(load_project(root), now)
    assert again[0].message.startswith("mastodon: the post is 2 characters over")

    (root / ".cache/render-check.json").write_text("{not json", encoding="utf-8")
    assert preview.render_problems(load_project(root), now) == again


def test_check_renders_in_worker_processes_with_the_same_problems_in_the_same_order(project):
    """A whole ``check`` (a whole process: a test worker has threads, where forking is not done) gives
    the same report, in the same order, whether its posts are rendered here or in two workers."""
    import os
    import shutil
    import subprocess
    import sys

    files = {f"content/{name}.md": item(f"Title {name}", "approved", approved_by="B", channels=["mastodon", "bluesky"],
                                        publish_at=f"2030-01-0{n + 1}T09:00")
             for n, name in enumerate(["ccc", "a", "eeeee", "bb", "dddd"])}
    root = project({**files, "templates/mastodon/post.j2": "{{ title }} {{ 'x' * 495 }}\n",
                    "templates/bluesky/post.j2": "{{ title }}{{ 'y' * 295 }}\n"},
                   settings=SETTINGS)
    # newsroom.workers.fork_map, watched: it is looked up when check renders, so the spy is what runs
    code = ("import sys\nimport newsroom.workers as w\nreal = w.fork_map\n"
            "def spy(function, jobs, n, **kw):\n    print(f'forked {len(jobs)} jobs in {n}', file=sys.stderr)\n"
            "    return real(function, jobs, n, **kw)\nw.fork_map = spy\n"
            f"sys.argv = ['publish.py', '--root', {str(root)!r}, 'check', '--format', 'json']\n"
            "import publish\npublish.main()\n")
    reports = {}
    for workers in ("1", "2", "2 again"):
        if workers != "2 again":
            shutil.rmtree(root / ".cache", ignore_errors=True)
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                              env={**os.environ, "NEWSROOM_RENDER_WORKERS": workers[0], "PYTHONPATH": str(ROOT)})
        assert done.returncode == 1, done.stderr  # errors: the posts over their limits
        assert ("forked 10 jobs in 2" in done.stderr) == (workers == "2"), done.stderr  # again: from the cache
        reports[workers] = json.loads(done.stdout)
        # what a worker found is kept under its own item and channel, for the next check to reuse
        kept = json.loads((root / ".cache/render-check.json").read_text(encoding="utf-8"))["entries"]
        assert len(kept) == 10 and all(p["path"] == key.split("|")[0] and p["key"] == f"channels.{key.split('|')[2]}"
                                       for key, found in kept.items() for p in found), kept
    assert reports["1"] == reports["2"] == reports["2 again"]
    over = [(e["path"], e["message"].split(" (")[0]) for e in reports["1"]["errors"] if "over the limit" in e["message"]]
    # in check's order (by file, then key), each post over by its title's length
    assert over == [(f"content/{name}.md", f"{channel}: the post is {len(name) + extra} {unit} over the limit of {limit}")
                    for name in ("a", "bb", "ccc", "dddd", "eeeee")
                    for channel, extra, unit, limit in (("bluesky", 1, "graphemes", 300),
                                                        ("mastodon", 2, "characters", 500))]


def test_check_shows_its_rendering_on_a_terminal_and_nowhere_else(project):
    """A whole ``check`` with stderr on a terminal (a pseudo-terminal here) shows how many posts it has
    rendered, in this process and from its workers; the report itself, and JSON, carry none of it."""
    import os
    import pty
    import re
    import shutil
    import subprocess
    import sys

    files = {f"content/p{n:03d}.md": item(f"Post {n}", "approved", approved_by="B", channels=["mastodon", "bluesky"],
                                          publish_at="2030-01-01T09:00") for n in range(75)}
    root = project(files, settings=SETTINGS)

    def check(workers: str, *args: str) -> tuple[str, str]:
        shutil.rmtree(root / ".cache", ignore_errors=True)
        main, side = pty.openpty()
        try:
            done = subprocess.run([sys.executable, str(ROOT / "publish.py"), "--root", str(root), "check", *args],
                                  stdout=subprocess.PIPE, stderr=side, text=True,
                                  env={**os.environ, "NEWSROOM_RENDER_WORKERS": workers})
            os.close(side)
            said = b""
            while True:
                try:
                    chunk = os.read(main, 65536)
                except OSError:  # the terminal's other side is closed: all of it was read
                    break
                if not chunk:
                    break
                said += chunk
        finally:
            os.close(main)
        return done.stdout, said.decode()

    steps = lambda said: [tuple(map(int, m)) for m in re.findall(r"\[(\d+)/(\d+)\] rendering the posts to check", said)]
    out, said = check("1")
    assert steps(said) == [(100, 150), (150, 150)] and "rendering" not in out and "\033" not in out
    out, said = check("2")
    done = steps(said)
    assert done[-1] == (150, 150) and len(done) > 2 and done == sorted(done), said
    out, said = check("2", "--format", "json")
    assert not steps(said) and json.loads(out)["summary"]


def test_check_renders_again_when_publish_yml_changes_what_a_post_is_measured_against(project):
    from channels import preview
    from scheduler.project import load_project

    root, now, first = one_post_over_its_limit(project)
    settings = root / "publish.yml"
    text = settings.read_text(encoding="utf-8")
    assert "    type: mastodon\n" in text
    settings.write_text(text.replace("    type: mastodon\n", "    type: mastodon\n    max_chars: 501\n"), encoding="utf-8")
    assert preview.render_problems(load_project(root), now) == []  # the instance allows 501: not from the cache
    settings.write_text(text.replace("    type: mastodon\n", "    type: mastodon\n    max_chars: 400\n"), encoding="utf-8")
    assert [p.message.split(" (")[0] for p in preview.render_problems(load_project(root), now)] == [
        "mastodon: the post is 101 characters over the limit of 400"]


def test_the_lead_image_is_absolute_with_its_local_file(project):
    root = project({"content/a.md": item("A", image="/images/a.png", image_alt="A chart", channels=["mastodon"]),
                    "images/a.png": b"\x89PNG\r\n"}, settings=SETTINGS)
    post = render(root, "content/a.md", "mastodon")
    assert [(m.src, m.alt, m.path) for m in post.media] == [("https://news.test/images/a.png", "A chart",
                                                              str(root / "images/a.png"))]
    (root / "content/images").mkdir()
    (root / "content/images/a.png").write_bytes(b"\x89PNG\r\n")  # next to the content: found there first
    assert render(root, "content/a.md", "mastodon").media[0].path == str(root / "content/images/a.png")


def test_a_lead_image_path_with_no_file_is_a_warning_in_check(project, cli):
    root = project({"content/a.md": item("A", image="/images/missing.png", image_alt="A chart"),
                    "content/b.md": item("B", image="https://cdn.test/b.png", image_alt="B chart")},
                   settings=SETTINGS)
    result = cli(root, "check", "--format", "json")
    found = [p for p in json.loads(result.output)["warnings"] if p["key"] == "image"]
    assert [(p["path"], p["line"], p["message"]) for p in found] == [
        ("content/a.md", 4, "'/images/missing.png' is not in the project: put the file at "
                                    "content/images/missing.png (the blog copies it into the site) or give a full URL")]
    (root / "content/images").mkdir()
    (root / "content/images/missing.png").write_bytes(b"\x89PNG\r\n")
    assert not [p for p in json.loads(cli(root, "check", "--format", "json").output)["warnings"] if p["key"] == "image"]


def test_thread_on_a_channel_without_threads_is_a_warning(project):
    settings = SETTINGS + "  li:\n    type: linkedin\n    token: env:LI\n    author: urn:li:organization:1\n"
    root = project({"content/a.md": item("A", channels={"li": {"thread": True}})}, settings=settings)
    post = render(root, "content/a.md", "li")
    assert [(p.severity, p.key, p.message) for p in post.problems] == [
        ("warning", "channels.li.thread",
         "linkedin has no threads: thread: true is ignored here; keep the post within the limit instead")]
    assert len(post.parts) == 1


def test_body_images_given_as_paths_are_looked_for_too(project, cli):
    body = ("Intro.\n\n![The dashboard](/images/dash.png)\n\n![Remote](https://cdn.test/r.png)\n\n"
            "```\n![Not an image](/images/in-code.png)\n```\n\n![Team](images/team.png \"The team\")\n")
    root = project({"content/a.md": item("A", body=body), "content/images/team.png": b"\x89PNG"}, settings=SETTINGS)
    report = json.loads(cli(root, "check", "--format", "json").output)
    assert [(p["line"], p["key"], p["message"]) for p in report["warnings"] if p["key"] in ("image", "body")] == [
        (7, "body", "'/images/dash.png' is not in the project: put the file at content/images/dash.png "
                    "(the blog copies it into the site) or give a full URL")]
