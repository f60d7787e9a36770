"""The blog's static site: pages, lists, feeds and a sitemap from the delivered entries.

    build_site(site_dir, site, delivered, syndication, options) -> BuildReport

Only what is handed in appears: the publish run passes the blog entries that have been delivered, so
an embargoed or unapproved item can never leak into a page, a feed or the sitemap.

Deterministic: every list is sorted, no clock is read, and feed ``updated`` values come from the
receipts. Incremental (Pelican's writer rewrites everything; we do not): each output file has a
fingerprint of everything that goes into it (its data plus the templates). A file whose fingerprint
is unchanged since the last build, recorded in ``.newsroom-blog.json``, is not rendered again; a
rendered file whose bytes equal the ones on disk is not written. Files this builder wrote before and
no longer produces are removed; nothing else in the folder is touched (``output.calendar`` may live
inside it).
"""
from __future__ import annotations

import hashlib
import html
import json
import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import format_datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

import jinja2

from newsroom.model import Site
from newsroom.problems import Problem

from .base import Post, Receipt

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
MANIFEST = ".newsroom-blog.json"
#: Top-level folders the site uses for its own pages; an item slug may not take one of them.
RESERVED = frozenset({"tags", "campaigns", "page", "atom.xml", "rss.xml", "sitemap.xml", "index.html"})
#: How "also on" names a platform (the channel's name is used for types not listed).
LABELS = {"mastodon": "Mastodon", "bluesky": "Bluesky", "linkedin": "LinkedIn", "devto": "DEV",
          "telegram": "Telegram", "x": "X", "slack": "Slack", "discord": "Discord"}
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
SUMMARY_WORDS = 50


@dataclass
class BuildReport:
    """What a build did (or, in a dry run, would do). Paths are relative to the site folder."""

    site_dir: Path
    written: list[str] = field(default_factory=list)  # new or changed files
    unchanged: int = 0  # files produced with the same bytes as before (or known unchanged)
    rendered: int = 0  # files rendered this time (the others were known unchanged)
    removed: list[str] = field(default_factory=list)  # files from an earlier build no longer produced
    problems: list[Problem] = field(default_factory=list)
    pages: dict[str, str] = field(default_factory=dict)  # item id → page URL

    @property
    def total(self) -> int:
        return len(self.written) + self.unchanged

    def summary(self) -> str:
        return (f"blog: {len(self.written)} file(s) written, {self.unchanged} unchanged, "
                f"{len(self.removed)} removed")


# -- entries: what each delivered post contributes ---------------------------------------------

@lru_cache(maxsize=4096)
def slugify(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug or "untitled"


def _utc(value: Any, fallback: datetime) -> datetime:
    """An ISO string or datetime in UTC; naive values are taken as UTC; anything unreadable: fallback."""
    if isinstance(value, str) and value:
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return fallback
    if not isinstance(value, datetime):
        return fallback
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _rfc3339(dt: datetime) -> str:
    return dt.replace(microsecond=0, tzinfo=None).isoformat() + "Z"  # dt is in UTC already


def text_excerpt(fragment: str, words: int = SUMMARY_WORDS) -> str:
    """Plain text of an HTML fragment, cut after ``words`` words (the summary when none is given)."""
    text = html.unescape(re.sub(r"<[^>]+>", " ", fragment or ""))
    parts = text.split()
    return " ".join(parts[:words]) + (" …" if len(parts) > words else "")


def _page_path(post: Post, site: Site) -> str:
    """The item's folder under the site: the path of its URL when that is on the site, else its slug."""
    base = site.url.rstrip("/") + "/"
    slug = post.data.get("slug")
    if not slug and post.url.startswith(base):
        slug = post.url[len(base):].strip("/")
    return (slug or post.item_id).strip("/") + "/"


def _absolute(src: str, site: Site) -> str:
    return src if re.match(r"^[a-z][a-z0-9+.-]*:", src, re.I) else f"{site.url.rstrip('/')}/{src.lstrip('/')}"


def make_entry(post: Post, receipt: Receipt, site: Site, syndication: list[dict]) -> dict:
    """The plain data a page, a list card and a feed entry are rendered from (also fingerprinted)."""
    base = site.url.rstrip("/")
    path = _page_path(post, site)
    at = _utc(receipt.at, EPOCH)
    published = _utc(post.data.get("published"), at)
    updated = max(published, at)
    summary = post.data.get("summary") or ""
    campaign = post.data.get("campaign") or ""
    image = None
    if post.media:
        media = post.media[0]
        image = {"url": _absolute(media.src, site), "alt": media.alt or ""}
    also_on = sorted(
        ({"channel": s.get("channel", ""), "label": LABELS.get(s.get("type", ""), s.get("channel", "")),
          "url": s["url"]} for s in syndication if s.get("url") and s.get("type") != "blog"),
        key=lambda s: (s["label"].lower(), s["channel"], s["url"]))
    tags = sorted({slugify(t): t for t in sorted(post.tags, reverse=True)}.items())
    return {
        "id": post.item_id, "path": path, "url": f"{base}/{path}", "canonical": post.url or f"{base}/{path}",
        "title": post.title, "html": post.html or "", "summary": summary,
        "excerpt": summary or text_excerpt(post.html or ""),
        "author": post.data.get("author") or site.author or site.title,
        "published": _rfc3339(published), "updated": _rfc3339(updated), "date": _rfc3339(published)[:10],
        "campaign": campaign, "campaign_slug": slugify(campaign) if campaign else "",
        "tags": [{"slug": slug, "name": name} for slug, name in tags], "image": image, "also_on": also_on,
    }


def _digest(data: Any) -> str:
    """A fingerprint of plain data (str, int, None, lists, dicts built in a fixed key order).

    ``repr`` is deterministic for these and several times faster than ``json.dumps`` on 10,000 entries.
    """
    return hashlib.sha1(repr(data).encode("utf-8", "surrogatepass")).hexdigest()


def _entry_digest(entry: dict) -> str:
    """An entry's fingerprint; the body is hashed as bytes (serialising it would cost the most)."""
    h = hashlib.sha1(entry["html"].encode("utf-8", "surrogatepass"))
    h.update(repr([(k, v) for k, v in entry.items() if k != "html"]).encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def _card(entry: dict) -> dict:
    """What a list page shows of an entry (a list page changes only when one of these does)."""
    keys = ("path", "title", "excerpt", "author", "published", "date", "campaign", "campaign_slug", "tags", "image")
    return {k: entry[k] for k in keys}


# -- the build ---------------------------------------------------------------------------------

@dataclass
class Output:
    path: str  # relative to the site folder, POSIX
    template: str
    context: dict
    fingerprint: str


def _environment(templates_dir: str | None) -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = []
    if templates_dir:
        loaders.append(jinja2.FileSystemLoader(str(templates_dir)))  # the project's own blog/ templates first
    loaders.append(jinja2.FileSystemLoader(str(TEMPLATES)))
    return jinja2.Environment(loader=jinja2.ChoiceLoader(loaders), autoescape=True, undefined=jinja2.StrictUndefined,
                              trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


TEMPLATE_NAMES = ("blog/base.html.j2", "blog/page.html.j2", "blog/list.html.j2", "blog/tags.html.j2",
                  "blog/atom.xml.j2", "blog/rss.xml.j2", "blog/sitemap.xml.j2")


def _templates_digest(env: jinja2.Environment) -> str:
    h = hashlib.sha1()
    for name in TEMPLATE_NAMES:
        h.update(name.encode() + b"\0" + env.loader.get_source(env, name)[0].encode("utf-8") + b"\0")
    return h.hexdigest()


def _root(path: str) -> str:
    """The relative way back to the site root from the folder of ``path`` (links work from any host)."""
    return "../" * path.count("/")


def _paged(prefix: str, cards: list[dict], per_page: int) -> list[tuple[str, list[dict], int, int]]:
    """(path, cards, page number, page count) for a paginated list under ``prefix`` ('' or 'tags/x/')."""
    count = max(1, -(-len(cards) // per_page))
    out = []
    for n in range(1, count + 1):
        path = f"{prefix}index.html" if n == 1 else f"{prefix}page/{n}/index.html"
        out.append((path, cards[(n - 1) * per_page:n * per_page], n, count))
    return out


def plan_outputs(site: Site, delivered: Iterable[tuple[Post, Receipt]], syndication: dict[str, list[dict]],
                 options: dict, templates_digest: str, problems: list[Problem]) -> tuple[list[Output], list[dict]]:
    """Every file of the site with its template, context and fingerprint (nothing rendered yet)."""
    per_page = int(options.get("per_page") or 10)
    feed_items = int(options.get("feed_items") or 20)
    feed_content = options.get("feed_content") or "full"
    site_data = {"title": site.title, "url": site.url.rstrip("/"), "language": site.language or "en",
                 "description": site.description or site.title, "author": site.author or site.title}
    common = _digest([templates_digest, site_data, per_page, feed_items, feed_content])

    # One entry per item: the latest receipt wins when the run hands in several revisions.
    latest: dict[str, tuple[Post, Receipt]] = {}
    for post, receipt in delivered:
        held = latest.get(post.item_id)
        if held is None or (_utc(receipt.at, EPOCH), post.revision) > (_utc(held[1].at, EPOCH), held[0].revision):
            latest[post.item_id] = (post, receipt)
    entries: list[dict] = []
    seen_paths: dict[str, str] = {}
    for item_id in sorted(latest):
        post, receipt = latest[item_id]
        entry = make_entry(post, receipt, site, syndication.get(item_id, []))
        top = entry["path"].split("/", 1)[0]
        if top in RESERVED or entry["path"] in seen_paths:
            other = seen_paths.get(entry["path"])
            problems.append(Problem(post.item_path, None, "slug",
                                    f"the blog page '{entry['path']}' is taken by "
                                    f"{'item ' + repr(other) if other else 'the site itself'}; give the item another slug"))
            continue
        seen_paths[entry["path"]] = item_id
        entries.append(entry)
    entries.sort(key=lambda e: (e["published"], e["id"]), reverse=True)  # newest first, ties by id

    outputs: list[Output] = []
    for entry in entries:
        path = f"{entry['path']}index.html"
        outputs.append(Output(path, "blog/page.html.j2", {"entry": entry, "root": _root(path)},
                              _digest([common, "page", _entry_digest(entry)])))

    cards = [(_card(e), _digest(_card(e))) for e in entries]

    def lists(prefix: str, chosen: list[tuple[dict, str]], heading: str, kind: str) -> None:
        for path, page, n, count in _paged(prefix, [c for c, _ in chosen], per_page):
            start = (n - 1) * per_page
            digests = [d for _, d in chosen[start:start + per_page]]
            context = {"heading": heading, "kind": kind, "cards": page, "number": n, "count": count,
                       "root": _root(path), "base": prefix, "total": len(chosen)}
            outputs.append(Output(path, "blog/list.html.j2", context,
                                  _digest([common, "list", path, heading, kind, n, count, len(chosen), digests])))

    lists("", cards, site.title, "index")
    tags: dict[str, dict] = {}
    campaigns: dict[str, dict] = {}
    for entry, card in zip(entries, cards):
        for tag in entry["tags"]:
            tags.setdefault(tag["slug"], {"name": tag["name"], "cards": []})["cards"].append(card)
        if entry["campaign"]:
            campaigns.setdefault(entry["campaign_slug"], {"name": entry["campaign"], "cards": []})["cards"].append(card)
    for slug in sorted(tags):
        lists(f"tags/{slug}/", tags[slug]["cards"], tags[slug]["name"], "tag")
    for slug in sorted(campaigns):
        lists(f"campaigns/{slug}/", campaigns[slug]["cards"], campaigns[slug]["name"], "campaign")
    tag_rows = [{"slug": slug, "name": tags[slug]["name"], "count": len(tags[slug]["cards"])} for slug in sorted(tags)]
    campaign_rows = [{"slug": slug, "name": campaigns[slug]["name"], "count": len(campaigns[slug]["cards"])}
                     for slug in sorted(campaigns)]
    outputs.append(Output("tags/index.html", "blog/tags.html.j2",
                          {"tags": tag_rows, "campaigns": campaign_rows, "root": "../"},
                          _digest([common, "tags", tag_rows, campaign_rows])))

    newest = [{**e, "published_822": format_datetime(_utc(e["published"], EPOCH), usegmt=True)}
              for e in entries[:feed_items]]
    updated = max((e["updated"] for e in newest), default=_rfc3339(EPOCH))
    feed = {"entries": newest, "updated": updated, "content": feed_content,
            "updated_822": format_datetime(_utc(updated, EPOCH), usegmt=True)}
    feed_digest = _digest([common, "feed", [_entry_digest(e) for e in newest]])
    outputs.append(Output("atom.xml", "blog/atom.xml.j2", feed, feed_digest))
    outputs.append(Output("rss.xml", "blog/rss.xml.j2", feed, feed_digest))

    urls = [{"loc": e["url"], "lastmod": e["updated"]} for e in entries]
    last = max((e["updated"] for e in entries), default=None)
    urls.insert(0, {"loc": f"{site_data['url']}/", "lastmod": last})
    for prefix, groups in (("tags", tags), ("campaigns", campaigns)):
        for slug in sorted(groups):
            cards_of = groups[slug]["cards"]
            urls.append({"loc": f"{site_data['url']}/{prefix}/{slug}/",
                         "lastmod": max(c["published"] for c, _ in cards_of)})
    outputs.append(Output("sitemap.xml", "blog/sitemap.xml.j2", {"urls": urls}, _digest([common, "sitemap", urls])))
    for output in outputs:
        output.context["site"] = site_data
    return outputs, entries


def _load_manifest(site_dir: Path) -> dict[str, list]:
    try:
        data = json.loads((site_dir / MANIFEST).read_text(encoding="utf-8"))
        return data.get("files", {}) if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _write(target: str, data: bytes) -> None:
    """Atomically: a killed build leaves the old file or the new one, never half of one."""
    tmp = f"{target}.tmp"
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.replace(tmp, target)


def build_site(site_dir: Path | str, site: Site, delivered: Iterable[tuple[Post, Receipt]],
               syndication: dict[str, list[dict]] | None = None, options: dict | None = None, *,
               dry_run: bool = False) -> BuildReport:
    """Build (or bring up to date) the site in ``site_dir`` from the delivered blog entries.

    ``options``: the blog channel's options (per_page, feed_content, feed_items, templates_dir).
    ``syndication``: item id → [{"channel", "type", "url"}], the "also on" links.
    ``dry_run``: work everything out, write and remove nothing.
    """
    site_dir = Path(site_dir)
    options = dict(options or {})
    report = BuildReport(site_dir)
    env = _environment(options.get("templates_dir"))
    outputs, entries = plan_outputs(site, delivered, syndication or {}, options, _templates_digest(env),
                                    report.problems)
    report.pages = {e["id"]: e["url"] for e in entries}
    before = _load_manifest(site_dir)
    after: dict[str, list] = {}
    templates: dict[str, jinja2.Template] = {}
    folders: set[str] = set()
    base = str(site_dir)
    for output in outputs:
        target = os.path.join(base, output.path)  # plain strings: 10,000 Path objects cost more than the stats
        known = before.get(output.path)
        if known and known[0] == output.fingerprint:
            try:
                if os.stat(target).st_size == known[1]:
                    after[output.path] = known
                    report.unchanged += 1
                    continue
            except OSError:
                pass
        template = templates.get(output.template) or templates.setdefault(output.template,
                                                                          env.get_template(output.template))
        data = template.render(output.context).encode("utf-8")
        report.rendered += 1
        after[output.path] = [output.fingerprint, len(data)]
        try:
            with open(target, "rb") as fh:
                same = fh.read() == data
        except OSError:
            same = False
        if same:
            report.unchanged += 1
            continue
        report.written.append(output.path)
        if not dry_run:
            folder = os.path.dirname(target)
            if folder not in folders:
                os.makedirs(folder, exist_ok=True)
                folders.add(folder)
            _write(target, data)
    report.removed = sorted(set(before) - set(after))
    if not dry_run:
        for rel in report.removed:
            _remove(site_dir, rel)
        manifest = json.dumps({"files": after}, sort_keys=True, separators=(",", ":")).encode("utf-8") + b"\n"
        try:
            same = (site_dir / MANIFEST).read_bytes() == manifest
        except OSError:
            same = False
        if not same:
            site_dir.mkdir(parents=True, exist_ok=True)
            _write(str(site_dir / MANIFEST), manifest)
    report.written.sort()
    return report


def _remove(site_dir: Path, rel: str) -> None:
    target = site_dir / rel
    try:
        target.unlink()
    except FileNotFoundError:
        return
    folder = target.parent
    while folder != site_dir and folder.is_relative_to(site_dir):
        try:
            folder.rmdir()  # only when empty: someone else's files stay
        except OSError:
            break
        folder = folder.parent
