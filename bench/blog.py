"""Benchmark: the blog build beside Pelican on the same Markdown corpus, and a one-item rebuild.

    python bench/blog.py [--sizes 1000,10000] [--no-pelican]

For each size: a seeded corpus of Markdown items (``bench/corpus.py`` when present, else generated
here), then
- ours, full: load the project, render every item for the blog, build the site into an empty folder;
- Pelican, full: the same items as Pelican Markdown, built by Pelican into an empty folder
  (Pelican lives in bench/.venv, installed by this script when missing; not a project dependency);
- ours, one item changed: the same steps again after one item's body changed (the site build then
  renders and writes only what that item touches), and the site build step alone;
- Pelican, one item changed.
Goals (issue 5): full build at least 3x faster than Pelican; the one-item rebuild under 5% of the
full build.
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import textwrap
import time
import venv
from datetime import datetime, timedelta, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from channels import registry  # noqa: E402
from channels.base import Receipt  # noqa: E402
from channels.blog import prepare  # noqa: E402
from channels.blogsite import build_site  # noqa: E402
from channels.render import render_post  # noqa: E402
from newsroom.project import load_project  # noqa: E402

WORK = HERE / ".corpus"
VENV = HERE / ".venv"
PELICAN = VENV / "bin" / "pelican"

WORDS = ("inventory reorder supplier warehouse forecast margin release customer bike fjord pallet "
         "shipment audit report team launch guide season stock demand price order account support "
         "network store growth signal metric quarter planning review market partner channel update").split()
TAGS = ("launch", "guides", "customers", "engineering", "hiring", "security", "events", "product", "api", "retail")
CAMPAIGNS = ("autumn-release", "black-friday", "api-v2", "year-end", "spring-launch")


# -- the corpus ---------------------------------------------------------------------------------

def _sentence(rng: random.Random, n: int) -> str:
    words = [rng.choice(WORDS) for _ in range(n)]
    return " ".join(words).capitalize() + "."


def _body(rng: random.Random) -> str:
    parts = []
    for section in range(3):
        parts.append(f"## {_sentence(rng, 4)[:-1]}\n")
        for _ in range(2):
            parts.append(" ".join(_sentence(rng, rng.randint(8, 18)) for _ in range(4))
                         + f" Read [the {rng.choice(WORDS)} notes](https://example.com/{rng.choice(WORDS)}).\n")
        if section == 1:
            parts.append("\n".join(f"- **{rng.choice(WORDS)}**: {_sentence(rng, 6)}" for _ in range(4)) + "\n")
        if section == 2:
            parts.append("```\nreorder_point = daily_demand * lead_time + safety_stock\n```\n")
    return "\n".join(parts)


def generate_corpus(root: Path, n: int, seed: int = 1) -> Path:
    """A project with ``n`` items on the blog: title, summary, author, tags, campaign, publish_at."""
    try:
        from bench.corpus import generate  # the shared generator, once it is on main
    except ImportError:
        generate = None
    if generate is not None:
        return generate(root, n, seed=seed)
    rng = random.Random(seed)
    (root / "content").mkdir(parents=True)
    (root / "publish.yml").write_text(textwrap.dedent("""\
        site:
          title: Bench News
          url: https://bench.test
          author: Bench Team
          description: A generated newsroom for the benchmark.
        timezone: UTC
        channels:
          blog:
            type: blog
            per_page: 10
            feed_items: 20
        """), encoding="utf-8")
    start = datetime(2020, 1, 1, 9, 0, tzinfo=timezone.utc)
    for i in range(n):
        at = start + timedelta(hours=7 * i)
        slug = f"{'-'.join(rng.choice(WORDS) for _ in range(3))}-{i}"
        tags = sorted(rng.sample(TAGS, rng.randint(1, 3)))
        front = [f'title: "{_sentence(rng, 6)[:-1]} {i}"', "status: published",
                 f'summary: "{_sentence(rng, 16)}"', f"author: author{i % 7}",
                 f"publish_at: {at.strftime('%Y-%m-%dT%H:%M')}", f"tags: [{', '.join(tags)}]",
                 f"campaign: {rng.choice(CAMPAIGNS)}", "channels: [blog]"]
        folder = root / "content" / at.strftime("%Y/%m")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{slug}.md").write_text("---\n" + "\n".join(front) + "\n---\n" + _body(rng), encoding="utf-8")
    return root


def pelican_corpus(project, target: Path) -> None:
    """The same items as Pelican Markdown files (metadata header lines, then the same body)."""
    (target / "content").mkdir(parents=True)
    for item in project.items:
        at = item.publish_at or datetime(2020, 1, 1, tzinfo=timezone.utc)
        head = [f"Title: {item.title}", f"Date: {at.astimezone(timezone.utc).strftime('%Y-%m-%d %H:%M')}",
                f"Slug: {item.slug}", f"Tags: {', '.join(item.tags)}", f"Category: {item.campaign or 'general'}",
                f"Author: {item.author or 'Bench Team'}", f"Summary: {item.summary}"]
        (target / "content" / f"{item.slug}.md").write_text("\n".join(head) + "\n\n" + item.body, encoding="utf-8")
    site = project.settings.site
    # As close to our site as Pelican's settings allow: the same pagination, article URLs, tag and
    # category (≈ campaign) pages, one Atom and one RSS feed of 20 items; no archives, author pages or
    # per-category feeds (we build none either). Pelican has no sitemap without a plugin; we write one.
    (target / "pelicanconf.py").write_text(textwrap.dedent(f"""\
        SITENAME = {site.title!r}
        SITEURL = {site.url!r}
        FEED_DOMAIN = SITEURL
        TIMEZONE = "UTC"
        DEFAULT_LANG = "en"
        DEFAULT_PAGINATION = 10
        PAGINATED_TEMPLATES = {{"index": None, "tag": None, "category": None}}
        ARTICLE_URL = "{{slug}}/"
        ARTICLE_SAVE_AS = "{{slug}}/index.html"
        FEED_ALL_ATOM = "atom.xml"
        FEED_ALL_RSS = "rss.xml"
        FEED_MAX_ITEMS = 20
        CATEGORY_FEED_ATOM = None
        CATEGORY_FEED_RSS = None
        AUTHOR_FEED_ATOM = None
        AUTHOR_FEED_RSS = None
        TRANSLATION_FEED_ATOM = None
        ARCHIVES_SAVE_AS = ""
        AUTHOR_SAVE_AS = ""
        AUTHORS_SAVE_AS = ""
        CACHE_CONTENT = False
        LOAD_CONTENT_CACHE = False
        """), encoding="utf-8")


# -- the two builders -----------------------------------------------------------------------------

def ensure_pelican() -> None:
    if PELICAN.exists():
        return
    print("installing pelican into bench/.venv (once) …", file=sys.stderr)
    venv.create(VENV, with_pip=True)
    subprocess.run([str(VENV / "bin" / "pip"), "install", "-q", "pelican", "markdown"], check=True)


def run_pelican(root: Path, out: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run([str(PELICAN), str(root / "content"), "-s", str(root / "pelicanconf.py"), "-o", str(out),
                           "-q"], capture_output=True, text=True)
    took = time.perf_counter() - started
    if done.returncode:
        sys.exit(f"pelican failed:\n{done.stdout}\n{done.stderr}")
    return took


def posts_for(project):
    """Render every item for the blog, as the publish run does, and give each a receipt."""
    config = prepare(project.settings.channels["blog"], project.settings)
    blog = registry.build(config, {})
    out = []
    for item in sorted(project.items, key=lambda i: i.path):
        post = render_post(project, item, blog)
        published = (item.publish_at or datetime(2020, 1, 1, tzinfo=timezone.utc))
        # Filled by the rendering stage once it lands; set here so the bench does not depend on it.
        for key, value in (("summary", item.summary), ("author", item.author), ("campaign", item.campaign or ""),
                           ("published", published.isoformat()), ("slug", item.slug)):
            post.data.setdefault(key, value)
        out.append((post, Receipt(remote_id=item.slug + "/", url=post.url, at=published)))
    return blog, out


def ours(root: Path, site_dir: Path) -> dict:
    t0 = time.perf_counter()
    project = load_project(root, channel_types=registry.option_schemas())
    t1 = time.perf_counter()
    blog, delivered = posts_for(project)
    t2 = time.perf_counter()
    report = build_site(site_dir, blog.site, delivered, {}, blog.build_options())
    t3 = time.perf_counter()
    return {"load": t1 - t0, "render": t2 - t1, "site": t3 - t2, "total": t3 - t0, "report": report,
            "items": len(project.items)}


def change_one_item(root: Path) -> Path:
    """Append a sentence to one item in the middle of the corpus (its page, not the lists, changes)."""
    files = sorted((root / "content").rglob("*.md"))
    target = files[len(files) // 2]
    with target.open("a", encoding="utf-8") as fh:
        fh.write("\nA correction was added after publication.\n")
    return target


# -- the run --------------------------------------------------------------------------------------

def bench(n: int, with_pelican: bool) -> list[tuple[str, float, str]]:
    base = WORK / f"blog-{n}"
    shutil.rmtree(base, ignore_errors=True)
    root = generate_corpus(base / "project", n)
    project = load_project(root, channel_types=registry.option_schemas())
    rows = []
    full = ours(root, base / "site")
    report = full["report"]
    rows.append((f"ours full build ({full['items']} items, {report.total} files)", full["total"],
                 f"load {full['load']:.2f}s + render {full['render']:.2f}s + site {full['site']:.2f}s"))
    pelican_full = None
    if with_pelican:
        pelican_corpus(project, base / "pelican")
        pelican_full = run_pelican(base / "pelican", base / "pelican-out")
        files = sum(1 for p in (base / "pelican-out").rglob("*") if p.is_file())
        rows.append((f"pelican full build ({files} files)", pelican_full,
                     f"ours is {pelican_full / full['total']:.1f}x faster (goal >= 3x)"))
    changed = change_one_item(root)
    again = ours(root, base / "site")
    written = again["report"].written
    rows.append((f"ours after one item changed ({len(written)} file(s) written, {again['report'].rendered} rendered)",
                 again["total"], f"{again['total'] / full['total']:.1%} of the full build (load and render of every "
                                 "item included)"))
    rows.append(("ours site build step after one item changed", again["site"],
                 f"{again['site'] / full['site']:.1%} of the full site build step (goal < 5%)"))
    if with_pelican:
        pelican_corpus_update(project, base, changed)
        pelican_again = run_pelican(base / "pelican", base / "pelican-out")
        rows.append(("pelican after one item changed", pelican_again,
                     f"{pelican_again / pelican_full:.0%} of its full build; "
                     f"ours end to end is {pelican_again / again['total']:.1f}x faster"))
    return rows


def pelican_corpus_update(project, base: Path, changed: Path) -> None:
    """Write the changed item again in Pelican's form (header lines + the new body)."""
    fresh = load_project(base / "project", channel_types=registry.option_schemas())
    rel = changed.relative_to(base / "project").as_posix()
    item = fresh.item_by_path(rel)
    target = base / "pelican" / "content" / f"{item.slug}.md"
    head = target.read_text(encoding="utf-8").split("\n\n", 1)[0]
    target.write_text(head + "\n\n" + item.body, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000", help="corpus sizes, comma separated")
    parser.add_argument("--no-pelican", action="store_true", help="time our build only")
    args = parser.parse_args()
    if not args.no_pelican:
        ensure_pelican()
    print(f"cpus: {os.cpu_count()}  python: {sys.version.split()[0]}")
    for n in (int(s) for s in args.sizes.split(",")):
        print(f"\n== {n} items ==")
        for label, seconds, note in bench(n, not args.no_pelican):
            print(f"{label:<72} {seconds:8.2f}s  {note}")


if __name__ == "__main__":
    main()
