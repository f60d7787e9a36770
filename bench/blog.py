"""Benchmark: the blog build beside Pelican on the same Markdown corpus, and a one-item rebuild.

    python bench/blog.py [--sizes 1000,10000] [--no-pelican]

For each size: the seeded corpus of ``bench/corpus.py`` (every item treated as delivered), then
- ours, full: load the project, render every item for the blog, build the site into an empty folder,
  with no caches (no ``.cache/`` folder: as on a fresh clone);
- Pelican, full: the same items as Pelican Markdown, built by Pelican into an empty folder
  (Pelican lives in bench/.venv, installed by this script when missing; not a project dependency);
- ours, one item changed: the same steps again after one item's body changed, the way a publish run
  rebuilds the blog: the items loaded through the item cache, the other posts taken from the rendered
  posts the full build kept (``channels/postcache.py``), the site build rendering and writing only
  what that item touches; and the site build step alone;
- Pelican, one item changed;
- both again into an empty output folder, each with the content cache its earlier builds left
  (ours: the parsed items and rendered posts; Pelican: ``CACHE_CONTENT``), for comparison.
Goals (issue 5): full build at least 3x faster than Pelican; the one-item rebuild under 5% of the
full build. Ratios use CPU time (ours: this process; Pelican: its process), as the machine may be
shared; wall time is printed beside it.
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import textwrap
import time
import venv
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
# bench/ holds calendar.py, which would shadow the standard library's calendar for this script.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(REPO))

from channels import registry  # noqa: E402
from channels.base import Receipt  # noqa: E402
from channels.blog.channel import prepare  # noqa: E402
from channels.blog.site import build_site  # noqa: E402
from channels.postcache import PostCache  # noqa: E402
from channels.render import _engine, render_post  # noqa: E402
from newsroom.project import load_project  # noqa: E402
from scheduler.project import load_project as load_with_layers  # noqa: E402

WORK = HERE / ".corpus"
VENV = HERE / ".venv"
PELICAN = VENV / "bin" / "pelican"

def generate_corpus(root: Path, n: int, seed: int = 1) -> Path:
    """The shared seeded corpus (bench/corpus.py): every item goes to the blog, bodies of 400-1,500 words."""
    from bench.corpus import generate

    return generate(root, n, seed=seed)


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


def run_pelican(root: Path, out: Path, settings: str = "pelicanconf.py") -> tuple[float, float]:
    """(wall seconds, CPU seconds of the Pelican process)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([str(PELICAN), str(root / "content"), "-s", str(root / settings), "-o", str(out),
                           "-q"], capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        sys.exit(f"pelican failed:\n{done.stdout}\n{done.stderr}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def posts_for(project, kept: PostCache | None = None):
    """Every item rendered for the blog, as the publish run does, each with a receipt. With ``kept``,
    a post rendered by an earlier build of the same item revision is taken from it (``Run.finish``)."""
    config = prepare(project.settings.channels["blog"], project.settings)
    blog = registry.build(config, {})
    out = []
    for item in sorted(project.items, key=lambda i: i.path):
        post = kept.get(item) if kept is not None else None
        if post is None:
            post = render_post(project, item, blog)
        if kept is not None:
            kept.put(item, post)
        published = (item.publish_at or datetime(2020, 1, 1, tzinfo=timezone.utc))
        # Filled by the rendering stage once it lands; set here so the bench does not depend on it.
        for key, value in (("summary", item.summary), ("author", item.author), ("campaign", item.campaign or ""),
                           ("published", published.isoformat()), ("slug", item.slug)):
            post.data.setdefault(key, value)
        out.append((post, Receipt(remote_id=item.slug + "/", url=post.url, at=published)))
    return blog, out


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def ours(root: Path, site_dir: Path) -> dict:
    """Load, render for the blog, build the site; wall and CPU seconds of each step.

    As a publish run does it: items through the item cache, posts through the kept rendered posts
    (both under ``root/.cache``; the full build starts without that folder). The rendering
    engine's in-memory caches are dropped first, as a new process starts without them.
    """
    _engine.cache_clear()
    marks = [(time.perf_counter(), _cpu())]
    project = load_with_layers(root, cache=True)
    marks.append((time.perf_counter(), _cpu()))
    kept = PostCache(project, "blog")
    blog, delivered = posts_for(project, kept)
    kept.save()
    marks.append((time.perf_counter(), _cpu()))
    report = build_site(site_dir, blog.site, delivered, {}, blog.build_options())
    marks.append((time.perf_counter(), _cpu()))
    steps = {}
    for name, (w0, c0), (w1, c1) in zip(("load", "render", "site"), marks, marks[1:]):
        steps[name] = (w1 - w0, c1 - c0)
    steps["total"] = (marks[-1][0] - marks[0][0], marks[-1][1] - marks[0][1])
    return {"steps": steps, "report": report, "items": len(project.items)}


def change_one_item(root: Path) -> Path:
    """Append a sentence to one item in the middle of the corpus (its page, not the lists, changes)."""
    files = sorted((root / "content").rglob("*.md"))
    target = files[len(files) // 2]
    with target.open("a", encoding="utf-8") as fh:
        fh.write("\nA correction was added after publication.\n")
    return target


# -- the run --------------------------------------------------------------------------------------

def bench(n: int, with_pelican: bool):
    """Yields rows of (what, (wall s, CPU s), note) as they are measured; ratios use CPU time (the
    machine may be shared)."""
    base = WORK / f"blog-{n}"
    shutil.rmtree(base, ignore_errors=True)
    root = generate_corpus(base / "project", n)
    project = load_project(root, channel_types=registry.option_schemas())
    shutil.rmtree(root / ".cache", ignore_errors=True)  # the full build starts as on a fresh clone
    full = ours(root, base / "site")
    s = full["steps"]
    yield (f"ours: full build ({full['items']} items, {full['report'].total} files)", s["total"],
           f"load {s['load'][1]:.2f} + render {s['render'][1]:.2f} + site {s['site'][1]:.2f} s CPU")
    yield "ours: site build step alone (from rendered posts)", s["site"], ""
    pelican_full = None
    if with_pelican:
        pelican_corpus(project, base / "pelican")
        pelican_full = run_pelican(base / "pelican", base / "pelican-out")
        files = sum(1 for p in (base / "pelican-out").rglob("*") if p.is_file())
        yield (f"pelican: full build ({files} files)", pelican_full,
               f"ours end to end is {pelican_full[1] / s['total'][1]:.1f}x faster (goal >= 3x); "
               f"the site step alone {pelican_full[1] / s['site'][1]:.1f}x")
    changed = change_one_item(root)
    again = ours(root, base / "site")
    a, report = again["steps"], again["report"]
    yield (f"ours: one item changed, end to end ({len(report.written)} written, {report.rendered} rendered)",
           a["total"], f"{a['total'][1] / s['total'][1]:.1%} of the full build (goal < 5%)")
    yield ("ours: one item changed, site build step", a["site"],
           f"{a['site'][1] / s['site'][1]:.1%} of the full site build step")
    if with_pelican:
        pelican_corpus_update(project, base, changed)
        pelican_again = run_pelican(base / "pelican", base / "pelican-out")
        yield ("pelican: one item changed", pelican_again, f"{pelican_again[1] / pelican_full[1]:.0%} of its full build")

    # A full build into an empty folder once each tool has its content cache (ours: the items and
    # rendered posts under .cache/; Pelican: CACHE_CONTENT, filled by one untimed build first).
    warm = ours(root, base / "site-warm")["steps"]["total"]
    yield "ours: full build into an empty folder, caches kept", warm, ""
    if with_pelican:
        settings = (base / "pelican" / "pelicanconf.py").read_text(encoding="utf-8")
        (base / "pelican" / "pelicanconf-cached.py").write_text(
            settings + f"CACHE_CONTENT = True\nLOAD_CONTENT_CACHE = True\nCACHE_PATH = {str(base / 'pelican-cache')!r}\n",
            encoding="utf-8")
        run_pelican(base / "pelican", base / "pelican-fill", "pelicanconf-cached.py")
        pelican_warm = run_pelican(base / "pelican", base / "pelican-warm", "pelicanconf-cached.py")
        yield ("pelican: full build into an empty folder, content cache kept", pelican_warm,
               f"ours is {pelican_warm[1] / warm[1]:.1f}x faster with both caches warm")


def bench_site_only(n: int):
    """The site build step alone: render once, build in full, then change one rendered post and build
    again (what ``finish`` does when the run hands in posts it kept)."""
    base = WORK / f"blog-{n}"
    root = base / "project"
    if not root.exists():
        generate_corpus(root, n)
    _engine.cache_clear()
    blog, delivered = posts_for(load_project(root, channel_types=registry.option_schemas()))
    site = base / "site-only"
    shutil.rmtree(site, ignore_errors=True)
    c0, w0 = _cpu(), time.perf_counter()
    report = build_site(site, blog.site, delivered, {}, blog.build_options())
    full = (time.perf_counter() - w0, _cpu() - c0)
    yield f"ours: site build step, full ({report.total} files)", full, ""
    post = delivered[len(delivered) // 2][0]
    post.html += "<p>A correction was added after publication.</p>"
    c0, w0 = _cpu(), time.perf_counter()
    report = build_site(site, blog.site, delivered, {}, blog.build_options())
    again = (time.perf_counter() - w0, _cpu() - c0)
    yield (f"ours: site build step, one item changed ({len(report.written)} written, {report.rendered} rendered)",
           again, f"{again[1] / full[1]:.1%} of the full site build step")


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
    parser.add_argument("--site-only", action="store_true",
                        help="time only the site build step, full and after one item changed (no Pelican)")
    args = parser.parse_args()
    if not (args.no_pelican or args.site_only):
        ensure_pelican()
    print(f"cpus: {os.cpu_count()}  python: {sys.version.split()[0]}")
    for n in (int(s) for s in args.sizes.split(",")):
        print(f"\n== {n} items ==")
        print(f"{'':<78} {'wall':>8} {'CPU':>8}")
        rows = bench_site_only(n) if args.site_only else bench(n, not args.no_pelican)
        for label, (wall, cpu), note in rows:
            print(f"{label:<78} {wall:7.2f}s {cpu:7.2f}s  {note}", flush=True)


if __name__ == "__main__":
    main()
