"""The blog channel: a static site built from delivered entries only, valid, incremental, deterministic."""
from __future__ import annotations

import os
import random
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from pathlib import Path

import feedparser
import html5lib
import pytest

from channels import registry
from channels.base import DeliveryContext, Failure, Media, Post, Receipt
from channels.blog.channel import Blog, prepare
from channels.blog.site import MANIFEST, build_site
from newsroom.model import ChannelConfig, Site

SITE = Site(title="Test & News", url="https://news.test", language="en", description="News from the test team.",
            author="Test Team")
T0 = datetime(2026, 11, 1, 9, 0, tzinfo=timezone.utc)


def post(n: int, **changes) -> Post:
    """Item n, published n days after T0; tags and campaign vary with n."""
    data = {"summary": f"Summary of item {n}.", "author": "Ana Writer",
            "published": (T0 + timedelta(days=n)).isoformat(), "campaign": "Autumn Launch" if n % 3 == 0 else ""}
    data.update(changes.pop("data", {}))
    fields = dict(channel="blog", type="blog", item_id=f"item-{n:02d}", item_path=f"content/item-{n:02d}.md",
                  revision="r1", title=f"Item {n} <& friends>", url=f"https://news.test/item-{n:02d}/",
                  html=f"<p>Body of <em>item {n}</em> &amp; more.</p>\n<pre><code>x &lt; y</code></pre>",
                  tags=["Launch"] + (["Guides"] if n % 2 else ["News"]), data=data)
    fields.update(changes)
    return Post(**fields)


def delivered(*posts: Post, at: datetime | None = None) -> list[tuple[Post, Receipt]]:
    out = []
    for p in posts:
        when = at or datetime.fromisoformat(p.data["published"]) + timedelta(minutes=5)
        out.append((p, Receipt(remote_id=p.item_id, url=p.url, at=when)))
    return out


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def build(folder: Path, entries, syndication=None, **options):
    return build_site(folder, SITE, entries, syndication or {}, {"per_page": 10, **options})


def html_doc(path: Path):
    """Parse with html5lib in strict mode: any HTML5 parse error fails the test."""
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    return parser.parse(path.read_bytes())


def attrs(doc, tag: str, **match) -> list[dict]:
    return [dict(el.attrib) for el in doc.iter(tag) if all(el.get(k) == v for k, v in match.items())]


def meta(doc, key: str) -> str | None:
    for el in doc.iter("meta"):
        if el.get("property") == key or el.get("name") == key:
            return el.get("content")
    return None


# -- pages --------------------------------------------------------------------------------------

def test_every_page_is_valid_html5(tmp_path):
    entries = delivered(*(post(n) for n in range(1, 26)))
    entries[0][0].media.append(Media(src="images/launch.png", alt="The team at the launch"))
    build(tmp_path, entries, {"item-01": [{"channel": "mastodon", "type": "mastodon", "url": "https://m.test/@a/1"}]})
    pages = sorted(tmp_path.rglob("*.html"))
    assert len(pages) == 25 + 3 + (3 + 2 + 2) + 1 + 1 + 1  # items, index pages, tag pages, campaign, tags index, 404
    for page in pages:
        html_doc(page)  # raises html5lib's ParseError on the first error


def test_item_page_has_canonical_open_graph_twitter_image_and_also_on(tmp_path):
    p = post(4, media=[Media(src="images/launch.png", alt="The team at the launch")],
             url="https://elsewhere.test/original/", data={"slug": "item-04"})
    syndication = {"item-04": [
        {"channel": "mastodon", "type": "mastodon", "url": "https://m.test/@news/111"},
        {"channel": "bluesky", "type": "bluesky", "url": "https://bsky.app/profile/news/post/abc"},
        {"channel": "blog", "type": "blog", "url": "https://news.test/item-04/"},  # the page itself: not "also on"
        {"channel": "newsletter", "type": "email", "url": None},  # no public URL: left out
    ]}
    build(tmp_path, delivered(p), syndication)
    doc = html_doc(tmp_path / "item-04" / "index.html")
    assert attrs(doc, "link", rel="canonical") == [{"rel": "canonical", "href": "https://elsewhere.test/original/"}]
    assert meta(doc, "og:title") == "Item 4 <& friends>"
    assert meta(doc, "og:url") == "https://elsewhere.test/original/"
    assert meta(doc, "og:description") == "Summary of item 4."
    assert meta(doc, "og:image") == "https://news.test/images/launch.png"
    assert meta(doc, "og:image:alt") == "The team at the launch"
    assert meta(doc, "twitter:card") == "summary_large_image"
    assert meta(doc, "twitter:image:alt") == "The team at the launch"
    assert meta(doc, "article:published_time") == "2026-11-05T09:00:00Z"
    assert [(a["src"], a["alt"]) for a in attrs(doc, "img")] == [("https://news.test/images/launch.png",
                                                                  "The team at the launch")]
    also = [(a.text, a.get("href")) for a in doc.iter("a") if a.get("rel") == "syndication"]
    assert also == [("Bluesky", "https://bsky.app/profile/news/post/abc"), ("Mastodon", "https://m.test/@news/111")]
    body = (tmp_path / "item-04" / "index.html").read_text()
    assert "<p>Body of <em>item 4</em> &amp; more.</p>" in body  # the sanitised HTML goes in as it is
    assert "<h1 class=\"p-name\">Item 4 &lt;&amp; friends&gt;</h1>" in body  # the title is escaped


def test_page_without_image_uses_the_small_card_and_no_also_on(tmp_path):
    build(tmp_path, delivered(post(1, data={"summary": ""})))
    doc = html_doc(tmp_path / "item-01" / "index.html")
    assert meta(doc, "twitter:card") == "summary"
    assert meta(doc, "og:image") is None
    assert meta(doc, "og:description") == "Body of item 1 & more. x < y"  # an excerpt of the body
    assert "also-on" not in (tmp_path / "item-01" / "index.html").read_text()


# -- lists ----------------------------------------------------------------------------------------

def cards(path: Path) -> list[str]:
    doc = html_doc(path)
    return [a.get("href") for h2 in doc.iter("h2") for a in h2.iter("a")]


def test_index_is_paginated_newest_first(tmp_path):
    build(tmp_path, delivered(*(post(n) for n in range(1, 26))))
    assert cards(tmp_path / "index.html") == [f"item-{n:02d}/" for n in range(25, 15, -1)]
    assert cards(tmp_path / "page/2/index.html") == [f"../../item-{n:02d}/" for n in range(15, 5, -1)]
    assert cards(tmp_path / "page/3/index.html") == [f"../../item-{n:02d}/" for n in range(5, 0, -1)]
    assert not (tmp_path / "page/4").exists()
    doc = html_doc(tmp_path / "page/2/index.html")
    assert [(a.get("rel"), a.get("href")) for a in doc.iter("a") if a.get("rel") in ("prev", "next")] == [
        ("prev", "../../"), ("next", "../../page/3/")]
    doc = html_doc(tmp_path / "page/3/index.html")
    assert [(a.get("rel"), a.get("href")) for a in doc.iter("a") if a.get("rel") in ("prev", "next")] == [
        ("prev", "../../page/2/")]
    assert attrs(doc, "link", rel="canonical")[0]["href"] == "https://news.test/page/3/"


def test_tag_and_campaign_pages_list_their_items_only(tmp_path):
    build(tmp_path, delivered(*(post(n) for n in range(1, 13))), per_page=4)
    assert cards(tmp_path / "tags/guides/index.html") == [f"../../item-{n:02d}/" for n in (11, 9, 7, 5)]
    assert cards(tmp_path / "tags/guides/page/2/index.html") == [f"../../../../item-{n:02d}/" for n in (3, 1)]
    assert cards(tmp_path / "campaigns/autumn-launch/index.html") == [f"../../item-{n:02d}/" for n in (12, 9, 6, 3)]
    assert not (tmp_path / "campaigns/autumn-launch/page/2").exists()
    doc = html_doc(tmp_path / "tags/index.html")
    rows = ["".join(li.itertext()) for li in doc.iter("li")]
    assert rows == ["Guides (6)", "Launch (12)", "News (6)", "Autumn Launch (4)"]
    assert [h.text for h in doc.iter("h1")] == ["Tags"]
    assert [h.text for h in html_doc(tmp_path / "tags/news/index.html").iter("h1")] == ["Tagged “News”"]


# -- feeds ----------------------------------------------------------------------------------------

def test_atom_and_rss_parse_cleanly_with_ids_updated_author_and_self_link(tmp_path):
    build(tmp_path, delivered(*(post(n) for n in range(1, 26))), feed_items=5)
    for name, kind in (("atom.xml", "atom10"), ("rss.xml", "rss20")):
        feed = feedparser.parse((tmp_path / name).read_bytes())
        assert feed.bozo == 0, (name, feed.get("bozo_exception"))
        assert feed.version == kind
        assert feed.feed.title == "Test & News"
        assert [link.href for link in feed.feed.links if link.rel == "self"] == [f"https://news.test/{name}"]
        assert [e.id for e in feed.entries] == [f"https://news.test/item-{n:02d}/" for n in range(25, 20, -1)]
        assert [e.title for e in feed.entries][0] == "Item 25 <& friends>"
        assert all(e.author == "Ana Writer" for e in feed.entries)
        assert feed.entries[0].published_parsed[:5] == (2026, 11, 26, 9, 0)
        assert "<em>item 25</em>" in feed.entries[0].content[0].value  # full content by default
        assert feed.entries[0].summary == "Summary of item 25."
    atom = feedparser.parse((tmp_path / "atom.xml").read_bytes())
    assert atom.feed.id == "https://news.test/"
    assert atom.feed.updated == "2026-11-26T09:05:00Z"  # the newest receipt, not the clock
    assert atom.entries[0].updated == "2026-11-26T09:05:00Z"
    assert atom.feed.author == "Test Team"
    rss = feedparser.parse((tmp_path / "rss.xml").read_bytes())
    assert rss.feed.updated == "Thu, 26 Nov 2026 09:05:00 GMT"


def test_feeds_carry_only_the_summary_when_configured(tmp_path):
    build(tmp_path, delivered(post(1), post(2, data={"summary": ""})), feed_content="summary")
    for name in ("atom.xml", "rss.xml"):
        feed = feedparser.parse((tmp_path / name).read_bytes())
        assert feed.bozo == 0
        assert all("content" not in e for e in feed.entries)
        assert [e.summary for e in feed.entries] == ["Body of item 2 & more. x < y", "Summary of item 1."]


def test_feeds_and_sitemap_are_valid_with_nothing_delivered(tmp_path):
    report = build(tmp_path, [])
    assert report.problems == []
    for name in ("atom.xml", "rss.xml"):
        feed = feedparser.parse((tmp_path / name).read_bytes())
        assert feed.bozo == 0 and feed.entries == []
    html_doc(tmp_path / "index.html")
    assert "Nothing published yet." in (tmp_path / "index.html").read_text()


def test_sitemap_lists_home_items_tags_and_campaigns(tmp_path):
    build(tmp_path, delivered(post(1), post(2), post(3)))
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    root = ET.parse(tmp_path / "sitemap.xml").getroot()
    rows = [(u.findtext("s:loc", namespaces=ns), u.findtext("s:lastmod", namespaces=ns)) for u in root]
    assert rows == [
        ("https://news.test/", "2026-11-04T09:05:00Z"),
        ("https://news.test/item-03/", "2026-11-04T09:05:00Z"),
        ("https://news.test/item-02/", "2026-11-03T09:05:00Z"),
        ("https://news.test/item-01/", "2026-11-02T09:05:00Z"),
        ("https://news.test/tags/guides/", "2026-11-04T09:00:00Z"),
        ("https://news.test/tags/launch/", "2026-11-04T09:00:00Z"),
        ("https://news.test/tags/news/", "2026-11-03T09:00:00Z"),
        ("https://news.test/campaigns/autumn-launch/", "2026-11-04T09:00:00Z"),
    ]


# -- only delivered items -------------------------------------------------------------------------

def test_an_undelivered_item_appears_nowhere(tmp_path):
    secret = post(9, title="Embargoed acquisition", data={"campaign": "Secret Deal"}, tags=["Acquisition"])
    syndication = {"item-09": [{"channel": "mastodon", "type": "mastodon", "url": "https://m.test/@a/9"}]}
    leaks = lambda data: b"item-09" in data or b"Embargoed" in data or b"acquisition" in data.lower()
    build(tmp_path / "with", delivered(post(1), post(2), secret), syndication)
    assert sum(leaks(data) for data in files(tmp_path / "with").values()) >= 8  # the check can see it
    build(tmp_path / "without", delivered(post(1), post(2)), syndication)
    assert [rel for rel, data in files(tmp_path / "without").items() if leaks(data)] == []
    assert not (tmp_path / "without/item-09").exists()
    assert not (tmp_path / "without/campaigns/secret-deal").exists()


def test_an_item_no_longer_delivered_is_removed_but_other_files_stay(tmp_path):
    (tmp_path / "calendar").mkdir()
    (tmp_path / "calendar" / "index.html").write_text("the calendar's own page")
    build(tmp_path, delivered(post(1), post(2), post(3)))
    report = build(tmp_path, delivered(post(1), post(2)))
    assert "item-03/index.html" in report.removed and "campaigns/autumn-launch/index.html" in report.removed
    assert not (tmp_path / "item-03").exists() and not (tmp_path / "campaigns").exists()
    assert (tmp_path / "calendar" / "index.html").read_text() == "the calendar's own page"


# -- incremental and deterministic ----------------------------------------------------------------

def test_unchanged_pages_keep_their_mtime_and_only_changed_ones_are_written(tmp_path):
    posts = [post(n) for n in range(1, 26)]
    build(tmp_path, delivered(*posts))
    old = 1_600_000_000
    for path in tmp_path.rglob("*"):
        os.utime(path, (old, old))
    again = build(tmp_path, delivered(*posts))
    assert (again.written, again.rendered, again.removed) == ([], 0, [])
    posts[4] = post(5, html="<p>A corrected body.</p>")  # item 5: its page, and its tag's feed (full content)
    report = build(tmp_path, delivered(*posts))
    assert report.written == ["item-05/index.html", "tags/guides/atom.xml"]
    assert report.rendered == 2
    assert (tmp_path / "item-05/index.html").stat().st_mtime > old
    assert "A corrected body." in (tmp_path / "item-05/index.html").read_text()
    untouched = [p for p in tmp_path.rglob("*") if p.is_file() and p.name != MANIFEST and "item-05" not in str(p)
                 and p != tmp_path / "tags/guides/atom.xml"]
    assert untouched and all(p.stat().st_mtime == old for p in untouched)


def test_a_changed_title_rewrites_the_lists_and_feeds_that_show_it(tmp_path):
    posts = [post(n) for n in range(1, 26)]
    build(tmp_path, delivered(*posts))
    posts[24] = post(25, title="A new headline")
    report = build(tmp_path, delivered(*posts))
    assert report.written == ["404.html", "atom.xml", "index.html", "item-25/index.html", "rss.xml",
                              "tags/guides/atom.xml", "tags/guides/index.html", "tags/launch/atom.xml",
                              "tags/launch/index.html"]  # 404.html lists the newest


def test_without_the_manifest_pages_are_compared_byte_for_byte_and_not_rewritten(tmp_path):
    posts = delivered(*(post(n) for n in range(1, 6)))
    build(tmp_path, posts)
    (tmp_path / MANIFEST).unlink()
    old = 1_600_000_000
    for path in tmp_path.rglob("*.html"):
        os.utime(path, (old, old))
    report = build(tmp_path, posts)
    assert report.written == [] and report.rendered == report.total
    assert all(p.stat().st_mtime == old for p in tmp_path.rglob("*.html"))


def test_a_file_edited_by_hand_is_put_back(tmp_path):
    posts = delivered(post(1))
    build(tmp_path, posts)
    (tmp_path / "item-01/index.html").write_text("scribbled over")
    assert build(tmp_path, posts).written == ["item-01/index.html"]
    html_doc(tmp_path / "item-01/index.html")


def test_same_input_gives_the_same_bytes_in_any_order(tmp_path):
    entries = delivered(*(post(n) for n in range(1, 31)))
    syndication = {"item-02": [{"channel": "x", "type": "x", "url": "https://x.test/1"},
                               {"channel": "mastodon", "type": "mastodon", "url": "https://m.test/2"}]}
    build(tmp_path / "a", entries, syndication)
    shuffled = entries[:]
    random.Random(7).shuffle(shuffled)
    build(tmp_path / "b", shuffled, {"item-02": list(reversed(syndication["item-02"]))})
    a, b = files(tmp_path / "a"), files(tmp_path / "b")
    assert a.keys() == b.keys() and len(a) > 40
    assert [k for k in a if a[k] != b[k]] == []


def test_the_latest_receipt_of_an_item_wins(tmp_path):
    first, second = post(1, revision="r1"), post(1, revision="r2", title="Second revision")
    entries = [(second, Receipt("item-01", second.url, T0 + timedelta(days=5))),
               (first, Receipt("item-01", first.url, T0 + timedelta(days=2)))]
    build(tmp_path, entries)
    assert "Second revision" in (tmp_path / "item-01/index.html").read_text()
    atom = feedparser.parse((tmp_path / "atom.xml").read_bytes())
    assert [(e.title, e.updated) for e in atom.entries] == [("Second revision", "2026-11-06T09:00:00Z")]


def test_a_slug_taken_by_the_site_is_a_problem_not_a_clash(tmp_path):
    report = build(tmp_path, delivered(post(1, url="https://news.test/tags/", data={"slug": "tags"}), post(2)))
    assert [str(p) for p in report.problems] == [
        "content/item-01.md: slug: the blog page 'tags/' is taken by the site itself; give the item another slug"]
    assert "item-02" in report.pages and "item-01" not in report.pages


def test_project_templates_override_the_built_in_ones(tmp_path):
    own = tmp_path / "templates" / "blog"
    own.mkdir(parents=True)
    (own / "page.html.j2").write_text('{% extends "blog/base.html.j2" %}{% block main %}<p>Ours: {{ entry.title }}</p>'
                                      '{% endblock %}')
    build(tmp_path / "site", delivered(post(1)), templates_dir=str(tmp_path / "templates"))
    assert "<p>Ours: Item 1 &lt;&amp; friends&gt;</p>" in (tmp_path / "site/item-01/index.html").read_text()


# -- the adapter ----------------------------------------------------------------------------------

def blog_channel(tmp_path, **options) -> Blog:
    config = ChannelConfig(name="blog", type="blog", options={"per_page": 10, "feed_content": "full", "feed_items": 20,
                                                               **options})
    return registry.build(config, {})


def test_deliver_returns_the_page_url_and_writes_nothing(tmp_path):
    blog = blog_channel(tmp_path, site=SITE, site_dir="public", root=str(tmp_path))
    receipt = blog.deliver(post(3), DeliveryContext(key="k", now=T0))
    assert (receipt.remote_id, receipt.url, receipt.at) == ("item-03/", "https://news.test/item-03/", T0)
    assert list(tmp_path.iterdir()) == []


def test_deliver_refuses_a_slug_the_site_uses(tmp_path):
    blog = blog_channel(tmp_path, site=SITE, site_dir=str(tmp_path))
    result = blog.deliver(post(3, url="https://news.test/page/", data={"slug": "page"}), DeliveryContext(key="k", now=T0))
    assert result == Failure("the blog page 'page/' would replace the site's own 'page'; give the item another slug")


def test_finish_builds_in_the_site_dir_and_a_dry_run_writes_nothing(tmp_path):
    blog = blog_channel(tmp_path, site=SITE, site_dir="public", root=str(tmp_path))
    entries = delivered(post(1), post(2))
    said = []
    report = blog.finish(entries, DeliveryContext(key="", now=T0, dry_run=True, progress=said.append))
    assert not (tmp_path / "public").exists()
    assert "item-01/index.html" in report.written
    report = blog.finish(entries, DeliveryContext(key="", now=T0, progress=said.append))
    assert (tmp_path / "public/item-01/index.html").exists()
    assert said == ["blog: 15 file(s) written, 0 unchanged, 0 removed"] * 2


def test_finish_without_wiring_names_what_is_missing(tmp_path):
    blog = blog_channel(tmp_path)
    with pytest.raises(RuntimeError, match=r"options\['site'\] was not set \(call channels.blog.prepare\)"):
        blog.finish([], DeliveryContext(key="", now=T0))


def test_from_markdown_item_to_page_through_the_project(project, tmp_path):
    from channels.render import render_post
    from newsroom.project import load_project

    from conftest import item

    root = project(files={"content/launch.md": item("Launch day", status="draft", summary="It is out.",
                                                    tags=["launch"], body="We **shipped** it.\n")})
    loaded = load_project(root, channel_types=registry.option_schemas())
    config = prepare(loaded.settings.channels["blog"], loaded.settings)
    assert config.options["site_dir"] == "public" and config.options["site"] == loaded.settings.site
    blog = registry.build(config, {})
    p = render_post(loaded, loaded.items[0], blog)
    ctx = DeliveryContext(key="k", now=T0)
    receipt = blog.deliver(p, ctx)
    assert receipt.url == "https://news.test/launch/"
    blog.finish([(p, receipt)], ctx)
    page = root / "public" / "launch" / "index.html"
    html_doc(page)
    assert "<strong>shipped</strong>" in page.read_text()
    feed = feedparser.parse((root / "public" / "atom.xml").read_bytes())
    assert feed.bozo == 0 and [e.link for e in feed.entries] == ["https://news.test/launch/"]


def test_prepare_keeps_a_channel_s_own_site_dir(project):
    from newsroom.project import load_project

    root = project(settings="""\
        site:
          title: Two blogs
          url: https://two.test
        timezone: UTC
        channels:
          blog:
            type: blog
          engineering:
            type: blog
            site_dir: public-engineering
        output:
          site: www
        """)
    loaded = load_project(root, channel_types=registry.option_schemas())
    main, engineering = (registry.build(prepare(loaded.settings.channels[name], loaded.settings), {})
                         for name in ("blog", "engineering"))
    assert (main.site_dir, engineering.site_dir) == (root / "www", root / "public-engineering")
    assert main.site.url == "https://two.test"


def test_blog_templates_use_only_documented_variables():
    import re

    import jinja2
    from jinja2 import meta

    from channels.blog.site import TEMPLATE_NAMES, TEMPLATES

    docs = (Path(__file__).resolve().parent.parent / "docs" / "blog.md").read_text(encoding="utf-8")
    common = {"site", "root"}
    assert "Variables every template gets: `site`" in docs and "and `root`" in docs
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)))
    for name in TEMPLATE_NAMES:
        row = re.search(rf"^\| [^|]*`{re.escape(name.split('/')[1])}`[^|]*\|.*$", docs, re.M)
        documented = set(re.findall(r"`(\w+)`", row.group(0))) if row else set()
        used = meta.find_undeclared_variables(env.parse(env.loader.get_source(env, name)[0]))
        assert used - common - documented == set(), name


def test_characters_xml_forbids_are_dropped_so_the_feeds_stay_readable(tmp_path):
    build(tmp_path, delivered(post(1, title="Tab\tand bell\x07 and form feed\x0c", html="<p>nul\x00 here</p>")))
    for name in ("atom.xml", "rss.xml"):
        feed = feedparser.parse((tmp_path / name).read_bytes())
        assert feed.bozo == 0, feed.get("bozo_exception")
        assert feed.entries[0].title == "Tab\tand bell and form feed"
    html_doc(tmp_path / "item-01/index.html")


# -- static files (images next to the content) ---------------------------------------------------

def test_static_folders_are_copied_incrementally_and_removed_with_their_source(tmp_path):
    static = tmp_path / "content" / "images"
    (static / "team").mkdir(parents=True)
    (static / "launch.png").write_bytes(b"\x89PNG launch")
    (static / "team" / "ana.jpg").write_bytes(b"\xff\xd8 ana")
    (static / ".DS_Store").write_bytes(b"x")  # hidden files stay behind
    site = tmp_path / "public"
    options = {"static_dirs": [[str(static), "images"]]}
    report = build(site, delivered(post(1)), **options)
    assert {"images/launch.png", "images/team/ana.jpg"} <= set(report.written)
    assert (site / "images/launch.png").read_bytes() == b"\x89PNG launch"
    assert not (site / "images/.DS_Store").exists()

    old = 1_600_000_000
    os.utime(site / "images/launch.png", (old, old))
    again = build(site, delivered(post(1)), **options)
    assert again.written == [] and (site / "images/launch.png").stat().st_mtime == old

    (static / "launch.png").write_bytes(b"\x89PNG launch, cropped")
    (static / "team" / "ana.jpg").unlink()
    third = build(site, delivered(post(1)), **options)
    assert third.written == ["images/launch.png"] and third.removed == ["images/team/ana.jpg"]
    assert (site / "images/launch.png").read_bytes() == b"\x89PNG launch, cropped"
    assert not (site / "images/team").exists()


def test_a_static_folder_named_like_the_sites_own_pages_is_reported_not_copied(tmp_path):
    static = tmp_path / "tags"
    (static / "launch").mkdir(parents=True)
    (static / "launch" / "index.html").write_text("mine")
    report = build(tmp_path / "public", delivered(post(1)), static_dirs=[[str(static), "tags"]])
    assert [p.message for p in report.problems] == ["'tags/launch/index.html' is also a page of the site; "
                                                    "rename the folder"]
    assert "mine" not in (tmp_path / "public/tags/launch/index.html").read_text()


def test_an_item_cannot_take_a_static_folders_path(tmp_path):
    p = post(1, url="https://news.test/images/", data={"slug": "images"})
    (tmp_path / "images").mkdir()
    report = build(tmp_path / "public", delivered(p), static_dirs=[[str(tmp_path / "images"), "images"]])
    assert [p.message for p in report.problems] == ["the blog page 'images/' is taken by the site itself; "
                                                    "give the item another slug"]


def test_an_unreadable_static_file_is_reported_and_its_last_copy_kept(tmp_path):
    static = tmp_path / "images"
    static.mkdir()
    (static / "a.png").write_bytes(b"A")
    (static / "b.png").write_bytes(b"B")
    options = {"static_dirs": [[str(static), "images"]]}
    build(tmp_path / "public", delivered(post(1)), **options)
    (static / "a.png").unlink()
    (static / "a.png").symlink_to(tmp_path / "gone.png")  # listed, but cannot be opened (as unreadable)
    (static / "b.png").write_bytes(b"B2")
    report = build(tmp_path / "public", delivered(post(1)), **options)
    assert [p.message for p in report.problems] == [
        "cannot be read (No such file or directory); the site keeps its last copy"]
    assert report.written == ["images/b.png"] and report.removed == []
    assert (tmp_path / "public/images/a.png").read_bytes() == b"A"


def test_robots_names_the_sitemap_and_the_404_page_links_absolutely(tmp_path):
    build(tmp_path, delivered(*(post(n) for n in range(1, 8))))
    assert (tmp_path / "robots.txt").read_text() == "User-agent: *\nAllow: /\nSitemap: https://news.test/sitemap.xml\n"
    doc = html_doc(tmp_path / "404.html")
    links = [a.get("href") for a in doc.iter("a")]
    assert links[:3] == ["https://news.test/", "https://news.test/tags/", "https://news.test/atom.xml"]  # header
    assert links[3] == "https://news.test/"
    assert links[4:] == [f"https://news.test/item-{n:02d}/" for n in (7, 6, 5, 4, 3)]  # the five newest
    assert meta(doc, "robots") == "noindex"
    assert "404.html" not in (tmp_path / "sitemap.xml").read_text()


def test_each_tag_has_its_own_valid_atom_feed_linked_from_its_page(tmp_path):
    build(tmp_path, delivered(*(post(n) for n in range(1, 8))))
    feed = feedparser.parse((tmp_path / "tags/guides/atom.xml").read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.feed.title == "Test & News: Guides"
    assert [link.href for link in feed.feed.links if link.rel == "self"] == ["https://news.test/tags/guides/atom.xml"]
    assert feed.feed.id == "https://news.test/tags/guides/"
    assert [e.link for e in feed.entries] == [f"https://news.test/item-{n:02d}/" for n in (7, 5, 3, 1)]  # odd: Guides
    doc = html_doc(tmp_path / "tags/guides/index.html")
    assert attrs(doc, "link", rel="alternate", type="application/atom+xml")[-1]["href"] == \
        "https://news.test/tags/guides/atom.xml"
    site_feed = feedparser.parse((tmp_path / "atom.xml").read_bytes())
    assert site_feed.feed.title == "Test & News" and len(site_feed.entries) == 7


# -- a new site: built whole beside its folder, then renamed into place --------------------------

def test_a_new_site_is_the_same_site_and_appears_whole_with_nothing_left_beside_it(tmp_path):
    entries = delivered(*(post(n) for n in range(1, 26)))
    (tmp_path / "existing").mkdir()
    build(tmp_path / "existing", entries)  # into a folder that is there: page by page, atomically
    report = build(tmp_path / "out" / "new", entries)  # no folder yet (a fresh clone, a CI runner)
    assert files(tmp_path / "out" / "new") == files(tmp_path / "existing")
    assert sorted(report.written) == sorted(p for p in files(tmp_path / "existing") if p != MANIFEST)
    assert os.listdir(tmp_path / "out") == ["new"]  # the folder it was built in became the site
    # the next build knows every file from the manifest the new site carries
    again = build(tmp_path / "out" / "new", entries)
    assert again.written == [] and again.rendered == 0


def test_a_build_that_fails_leaves_no_half_new_site(tmp_path):
    templates = tmp_path / "templates" / "blog"
    templates.mkdir(parents=True)
    (templates / "sitemap.xml.j2").write_text("{{ no_such_field }}")  # made after every page
    with pytest.raises(Exception, match="no_such_field"):
        build(tmp_path / "site", delivered(post(1), post(2)), templates_dir=str(tmp_path / "templates"))
    assert sorted(os.listdir(tmp_path)) == ["templates"]  # neither the site nor the folder it was built in


def test_what_a_killed_build_left_beside_the_site_is_removed_by_the_next(tmp_path):
    import subprocess
    import sys

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    left = tmp_path / f".site.building-{int(gone.stdout)}"  # a build killed halfway: its process is gone
    (left / "item-01").mkdir(parents=True)
    (left / "item-01" / "index.html").write_text("<p>half")
    alive = tmp_path / f".site.building-{os.getppid()}"  # a build still running (its process is alive)
    alive.mkdir()
    build(tmp_path / "site", delivered(post(1)))
    assert not left.exists() and alive.exists()
    assert (tmp_path / "site" / "item-01" / "index.html").read_text().startswith("<!DOCTYPE html>")


def test_a_site_folder_made_meanwhile_gets_the_new_files_and_keeps_its_own(tmp_path):
    from channels.blog.site import _move_into_place

    staging = tmp_path / ".site.building-1"
    build(staging, delivered(post(1), post(2)))
    built = files(staging)
    site = tmp_path / "site"
    (site / "calendar").mkdir(parents=True)
    (site / "calendar" / "index.ics").write_text("BEGIN:VCALENDAR")  # written there by someone else meanwhile
    _move_into_place(staging, site)
    assert files(site) == {**built, "calendar/index.ics": b"BEGIN:VCALENDAR"}
    assert not staging.exists()


# -- the rendered files kept in .cache/ ----------------------------------------------------------

def test_a_build_without_the_site_folder_writes_the_files_it_kept_instead_of_rendering_them(tmp_path):
    entries = delivered(*(post(n) for n in range(1, 26)))
    kept = str(tmp_path / ".cache" / "site-blog")
    first = build(tmp_path / "public", entries, pages_cache=kept)
    made = files(tmp_path / "public")
    assert first.rendered == len(made) - 1  # every file but the manifest
    import shutil

    shutil.rmtree(tmp_path / "public")  # a CI runner: .cache/ restored, the site gone
    again = build(tmp_path / "public", entries, pages_cache=kept)
    assert again.rendered == 0 and files(tmp_path / "public") == made
    # one more item: its page, the lists and feeds showing it are rendered; the other pages are not
    shutil.rmtree(tmp_path / "public")
    more = build(tmp_path / "public", entries + delivered(post(26)), pages_cache=kept)
    assert 0 < more.rendered < len(made) // 2  # of 40 files
    fresh = build(tmp_path / "reference", entries + delivered(post(26)))
    assert files(tmp_path / "public") == files(tmp_path / "reference") and fresh.rendered == len(made)


def test_kept_files_are_not_used_when_a_template_or_a_file_it_includes_changed(tmp_path):
    import shutil

    entries = delivered(post(1), post(2))
    templates = tmp_path / "templates" / "blog"
    templates.mkdir(parents=True)
    (templates / "page.html.j2").write_text('{% extends "blog/base.html.j2" %}{% block main %}'
                                            '{% include "blog/byline.html.j2" %}{% endblock %}')
    (templates / "byline.html.j2").write_text("<p>by {{ entry.author }}</p>")
    kept = str(tmp_path / ".cache" / "site-blog")
    build(tmp_path / "public", entries, pages_cache=kept, templates_dir=str(tmp_path / "templates"))
    assert "<p>by Ana Writer</p>" in (tmp_path / "public" / "item-01" / "index.html").read_text()
    (templates / "byline.html.j2").write_text("<p>written by {{ entry.author }}</p>")  # not a page template itself
    shutil.rmtree(tmp_path / "public")
    again = build(tmp_path / "public", entries, pages_cache=kept, templates_dir=str(tmp_path / "templates"))
    assert again.rendered == len(files(tmp_path / "public")) - 1
    assert "<p>written by Ana Writer</p>" in (tmp_path / "public" / "item-01" / "index.html").read_text()


def test_kept_files_cut_short_or_overwritten_are_rendered_again_and_the_pack_does_not_grow_without_end(tmp_path):
    import shutil

    from channels.blog.pages import PACK, SLACK

    entries = delivered(*(post(n) for n in range(1, 12)))
    kept = tmp_path / ".cache" / "site-blog"
    build(tmp_path / "public", entries, pages_cache=str(kept))
    made = files(tmp_path / "public")
    pack = bytearray((kept / PACK).read_bytes())
    pack[len(pack) // 2] ^= 0xFF  # one byte of one file changed on disk
    (kept / PACK).write_bytes(bytes(pack))
    shutil.rmtree(tmp_path / "public")
    again = build(tmp_path / "public", entries, pages_cache=str(kept))
    assert again.rendered == 1 and files(tmp_path / "public") == made
    for n in range(12):  # every file rendered again and again (a setting that shows on every page)
        shutil.rmtree(tmp_path / "public")
        build(tmp_path / "public", entries, pages_cache=str(kept), per_page=2 + n % 2)
    assert (kept / PACK).stat().st_size <= 2 * sum(len(b) for b in files(tmp_path / "public").values()) + SLACK
    shutil.rmtree(tmp_path / "public")
    assert build(tmp_path / "public", entries, pages_cache=str(kept), per_page=2 + 11 % 2).rendered == 0


def test_no_key_of_the_pages_data_is_named_like_a_dict_method():
    """The site's Environment looks a dict's key up before its attributes (for speed); that reaches
    the same values only while no key is named like a method of dict (``items``, ``update`` …)."""
    from channels.blog.site import plan_outputs

    entries = delivered(*(post(n) for n in range(1, 14)))
    entries[0][0].media.append(Media(src="images/a.png", alt="A"))
    plan = plan_outputs(SITE, entries, {"item-01": [{"channel": "m", "type": "mastodon", "url": "https://m.test/1"}]},
                        {"withdrawn": {"gone": {"path": "gone/", "reason": "old"}}}, "t", [])
    keys: set[str] = set()

    def walk(value):
        if isinstance(value, dict):
            keys.update(value)
            for v in value.values():
                walk(v)
        elif isinstance(value, (list, tuple)):
            for v in value:
                walk(v)

    for output in plan.outputs:
        walk(output.make())
    assert {"entry", "cards", "title", "tags", "also_on", "image"} <= keys
    assert not keys & set(dir(dict)), keys & set(dir(dict))
