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
inside it). A site with no folder yet (a fresh clone, a CI runner) is built whole in a folder of its
own beside it (``.public.building-<pid>``), each file written once without a temporary file, and
renamed into place: it appears at once, and a build that fails or is killed leaves no half site (the
next build removes what a killed one left).
"""
from __future__ import annotations

import contextlib
import errno
import hashlib
import html
import json
import os
import stat
import re
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import format_datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable

from newsroom.gcpause import collector_paused
from newsroom.items import ITEM_SUFFIXES
from newsroom.model import Site
from newsroom.problems import Problem
from newsroom.resources import shipped

from ..base import Post, Receipt
from .pages import Pages
from newsroom.atomic import write_atomic

if TYPE_CHECKING:  # imported when a site is built: commands that build none start faster
    import jinja2

#: The shipped default templates (inside the installed package, or the checkout's templates/).
TEMPLATES = shipped("templates")
MANIFEST = ".newsroom-blog.json"
#: Top-level folders the site uses for its own pages; an item slug may not take one of them.
RESERVED = frozenset({"tags", "campaigns", "page", "atom.xml", "rss.xml", "sitemap.xml", "index.html", "404.html",
                      "robots.txt"})
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
    failed: str | None = None  # what kept the site from where people see it (a deploy that failed)

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
    # a translation lives under its language's prefix (de/launch/), beside its original (launch/)
    return (post.data.get("language_prefix") or "") + (slug or post.item_id).strip("/") + "/"


def _absolute(src: str, site: Site) -> str:
    return src if re.match(r"^[a-z][a-z0-9+.-]*:", src, re.I) else f"{site.url.rstrip('/')}/{src.lstrip('/')}"


#: Characters XML 1.0 does not allow (a stray one would make the feeds unreadable).
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: str) -> str:
    return NOT_XML.sub("", text) if text else ""


def make_entry(post: Post, receipt: Receipt, site: Site, syndication: list[dict]) -> dict:
    """The plain data a page, a list card and a feed entry are rendered from (also fingerprinted)."""
    base = site.url.rstrip("/")
    path = _page_path(post, site)
    at = _utc(receipt.at, EPOCH)
    published = _utc(post.data.get("published"), at)
    # a correction moves Atom's <updated> and the sitemap's <lastmod> (receipt.data["updated"])
    updated = max(published, at, _utc(receipt.data.get("updated"), EPOCH))
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
    prefix = post.data.get("language_prefix") or ""
    return {
        "language": prefix.strip("/") or (post.language or site.language or "en"),
        "group": post.data.get("translation_of") or post.item_id, "translation": bool(prefix),
        "id": post.item_id, "path": path, "url": f"{base}/{path}", "canonical": post.url or f"{base}/{path}",
        "title": _clean(post.title), "html": _clean(post.html or ""), "summary": _clean(summary),
        "excerpt": _clean(summary or post.data.get("excerpt") or text_excerpt(post.html or "")),
        "author": _clean(post.data.get("author") or site.author or site.title),
        "published": _rfc3339(published), "updated": _rfc3339(updated), "date": _rfc3339(published)[:10],
        "campaign": campaign, "campaign_slug": slugify(campaign) if campaign else "",
        "tags": [{"slug": slug, "name": name} for slug, name in tags], "image": image, "also_on": also_on,
    }


def _digest(data: Any) -> str:
    """A fingerprint of plain data (str, int, None, lists, dicts built in a fixed key order), for
    which ``repr`` is deterministic. Item bodies are not passed here: ``_input_key`` hashes them as bytes."""
    return hashlib.sha1(repr(data).encode("utf-8", "surrogatepass")).hexdigest()


def _input_key(common: str, post: Post, receipt: Receipt, syndication: list[dict]) -> str:
    """A fingerprint of everything an entry is made from, cheap enough to take for 10,000 posts:
    the body is hashed as bytes, the few other fields through one ``repr`` (no serialising of the body)."""
    h = hashlib.sha1((post.html or "").encode("utf-8", "surrogatepass"))
    data = post.data
    links = sorted((str(s.get("channel")), str(s.get("type")), str(s.get("url"))) for s in syndication) \
        if syndication else ()
    h.update(repr((common, post.item_id, post.title, post.url, sorted(post.tags), [(m.src, m.alt) for m in post.media],
                   data.get("summary"), data.get("excerpt"), data.get("author"), data.get("published"),
                   data.get("campaign"), data.get("slug"), str(receipt.at), links, post.language,
                   data.get("translation_of"), data.get("language_prefix"))).encode("utf-8", "surrogatepass"))
    return h.hexdigest()


CARD_KEYS = ("id", "path", "url", "title", "excerpt", "author", "published", "updated", "date", "campaign",
             "campaign_slug", "tags", "image", "language", "group", "translation")


def _card(entry: dict) -> dict:
    """What lists, the sitemap and the ordering need of an entry (no body): kept between builds."""
    return {k: entry[k] for k in CARD_KEYS}


# -- the build ---------------------------------------------------------------------------------

@dataclass
class Output:
    path: str  # relative to the site folder, POSIX
    template: str
    fingerprint: str
    make: Callable[[], dict]  # the template's context, built only when the file has to be rendered


def _environment(templates_dir: str | None) -> jinja2.Environment:
    import jinja2

    loaders: list[jinja2.BaseLoader] = []
    if templates_dir:
        loaders.append(jinja2.FileSystemLoader(str(templates_dir)))  # the project's own blog/ templates first
    loaders.append(jinja2.FileSystemLoader(str(TEMPLATES)))
    # auto_reload off: an environment lives for one build, whose templates are read once (by content,
    # for the signature); Jinja would otherwise stat a page's base template at each of its pages
    return _environment_class()(loader=jinja2.ChoiceLoader(loaders), autoescape=True,
                                undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                                keep_trailing_newline=True, auto_reload=False)


@lru_cache(maxsize=None)
def _environment_class() -> type[jinja2.Environment]:
    import jinja2

    class Environment(jinja2.Environment):
        """``entry.title`` on the plain dicts the pages are rendered from looks up the key first:
        Jinja's own order tries the attribute first and pays for an AttributeError each time (a
        quarter of a page's rendering). No key of the site's data is named like a dict method, so
        what a template reaches is the same; anything else goes Jinja's way."""

        def getattr(self, obj: Any, attribute: str) -> Any:
            if type(obj) is dict:
                try:
                    return obj[attribute]
                except KeyError:
                    pass
            return super().getattr(obj, attribute)

    return Environment


TEMPLATE_NAMES = ("blog/base.html.j2", "blog/page.html.j2", "blog/list.html.j2", "blog/tags.html.j2",
                  "blog/atom.xml.j2", "blog/rss.xml.j2", "blog/sitemap.xml.j2", "blog/robots.txt.j2",
                  "blog/404.html.j2", "blog/gone.html.j2")


def _templates_digest(env: jinja2.Environment) -> str:
    h = hashlib.sha1()
    for name in TEMPLATE_NAMES:
        h.update(name.encode() + b"\0" + env.loader.get_source(env, name)[0].encode("utf-8") + b"\0")
    return h.hexdigest()


def _signature(templates_dir: str | None) -> str:
    """The code and every file of the blog's template folders by content (a template's own includes
    too): what the files kept in ``.cache/`` were rendered with."""
    from newsroom.fingerprint import code_signature, files_signature

    folders = [Path(f) / "blog" for f in (templates_dir, TEMPLATES) if f and (Path(f) / "blog").is_dir()]
    return f"{code_signature(('channels', 'newsroom'))} {files_signature(folders)}"


def _root(path: str) -> str:
    """The relative way back to the site root from the folder of ``path`` (links work from any host)."""
    return "../" * path.count("/")


@dataclass
class Plan:
    outputs: list[Output]
    cards: list[dict]  # newest first
    cache: dict[str, list]  # item id → [input key, card, card digest], kept in the manifest


def plan_outputs(site: Site, delivered: Iterable[tuple[Post, Receipt]], syndication: dict[str, list[dict]],
                 options: dict, templates_digest: str, problems: list[Problem],
                 cache: dict[str, list] | None = None) -> Plan:
    """Every file of the site with its template and fingerprint; contexts are made on demand.

    ``cache`` holds each item's card from the last build under the key of its inputs: an item whose
    inputs did not change costs a hash and a lookup, not a rebuild of its data.
    """
    per_page = int(options.get("per_page") or 10)
    feed_items = int(options.get("feed_items") or 20)
    feed_content = options.get("feed_content") or "full"
    site_data = {"title": site.title, "url": site.url.rstrip("/"), "language": site.language or "en",
                 "description": site.description or site.title, "author": site.author or site.title}
    common = _digest([templates_digest, site_data, per_page, feed_items, feed_content])
    cache = cache or {}
    reserved = RESERVED | {entry[1] for entry in options.get("static_dirs") or ()}

    # One entry per item: the latest receipt wins when the run hands in several revisions.
    latest: dict[str, tuple[Post, Receipt]] = {}
    withdrawn = options.get("withdrawn") or {}  # item id → {"path", "reason"}: out of every list and feed
    for post, receipt in delivered:
        if post.item_id in withdrawn:
            continue
        held = latest.get(post.item_id)
        if held is None or (_utc(receipt.at, EPOCH), post.revision) > (_utc(held[1].at, EPOCH), held[0].revision):
            latest[post.item_id] = (post, receipt)

    made: dict[str, dict] = {}

    def entry_of(item_id: str) -> dict:
        if item_id not in made:
            post, receipt = latest[item_id]
            made[item_id] = make_entry(post, receipt, site, syndication.get(item_id, []))
        return made[item_id]

    rows: list[tuple[dict, str, str]] = []  # (card, card digest, input key)
    new_cache: dict[str, list] = {}
    seen_paths: dict[str, str] = {}
    # the folders of the translations' languages (de/): an item's own page may not take one
    prefixes = {p.data["language_prefix"].strip("/") for p, _ in latest.values() if p.data.get("language_prefix")}
    # the first delivered keeps a path two items want (a page that is up stays up), ties by id
    for item_id in sorted(latest, key=lambda i: (_utc(latest[i][1].at, EPOCH), i)):
        post, receipt = latest[item_id]
        key = _input_key(common, post, receipt, syndication.get(item_id, []))
        held = cache.get(item_id)
        if held and held[0] == key:
            card, card_digest = held[1], held[2]
        else:
            card = _card(entry_of(item_id))
            card_digest = _digest(card)
        first = card["path"].split("/", 1)[0]
        if first in reserved or card["path"] in seen_paths or (first in prefixes and not card.get("translation")):
            other = seen_paths.get(card["path"])
            problems.append(Problem(post.item_path, None, "slug",
                                    f"the blog page '{card['path']}' is taken by "
                                    f"{'item ' + repr(other) if other else 'the site itself'}; give the item another slug"))
            continue
        seen_paths[card["path"]] = item_id
        new_cache[item_id] = [key, card, card_digest]
        rows.append((card, card_digest, key))
    rows.sort(key=lambda r: (r[0]["published"], r[0]["id"]), reverse=True)  # newest first, ties by id

    outputs: list[Output] = []

    def add(path: str, template: str, fingerprint: list | str, make: Callable[[], dict]) -> None:
        def context() -> dict:
            return {"site": site_data, "root": _root(path), **make()}
        if not isinstance(fingerprint, str):
            fingerprint = _digest([common, template, path, *fingerprint])
        outputs.append(Output(path, template, fingerprint, context))

    groups: dict[str, list[dict]] = {}  # an original and its translations: each page links the others
    for card, _, _ in rows:
        groups.setdefault(card["group"], []).append(card)

    def alternates(card: dict) -> list[dict]:
        group = groups[card["group"]]
        if len(group) < 2:
            return []
        group = sorted(group, key=lambda c: (c["translation"], c["language"]))
        out = [{"hreflang": c["language"], "href": c["url"]} for c in group]
        return out + [{"hreflang": "x-default", "href": group[0]["url"]}]

    def in_language(card: dict) -> dict:
        """A translation's page, list and feed speak its language (``site.language``) and link its feeds."""
        if not card.get("translation"):
            return {}
        return {"site": {**site_data, "language": card["language"]}, "feed_base": f"{card['language']}/"}

    for card, _, key in rows:
        # An item page depends on its entry and its translations' addresses, and the input key already
        # covers the settings (``common``) and everything its path is made from.
        alts = alternates(card)
        add(f"{card['path']}index.html", "blog/page.html.j2", "page:" + key + (_digest(alts) if alts else ""),
            lambda i=card["id"], a=alts, c=card: {"entry": entry_of(i), "alternates": a, **in_language(c)})

    translated = [r for r in rows if r[0].get("translation")]
    rows = [r for r in rows if not r[0].get("translation")]  # the site's own language: index, tags, feeds

    if options.get("withdrawn_pages", "notice") == "notice":
        for item_id in sorted(withdrawn):
            path = withdrawn[item_id].get("path")
            if not path or path in seen_paths or path.split("/", 1)[0] in reserved:
                continue  # a page now taken by another item stays that item's
            reason = withdrawn[item_id].get("reason") or ""
            add(f"{path}index.html", "blog/gone.html.j2", ["gone", reason], lambda r=reason: {"reason": r})

    def lists(prefix: str, chosen: list[tuple[dict, str, str]], heading: str, kind: str) -> None:
        count = max(1, -(-len(chosen) // per_page))
        for n in range(1, count + 1):
            path = f"{prefix}index.html" if n == 1 else f"{prefix}page/{n}/index.html"
            page = chosen[(n - 1) * per_page:n * per_page]
            context = {"heading": heading, "kind": kind, "cards": [c for c, _, _ in page], "number": n,
                       "count": count, "base": prefix, "total": len(chosen)}
            add(path, "blog/list.html.j2", [heading, kind, n, count, len(chosen), [d for _, d, _ in page]],
                lambda c=context: c)

    lists("", rows, site.title, "index")

    def lists_in(prefix: str, chosen: list[tuple[dict, str, str]], heading: str, speak: dict) -> None:
        count = max(1, -(-len(chosen) // per_page))
        for n in range(1, count + 1):
            path = f"{prefix}index.html" if n == 1 else f"{prefix}page/{n}/index.html"
            page = chosen[(n - 1) * per_page:n * per_page]
            context = {"heading": heading, "kind": "index", "cards": [c for c, _, _ in page], "number": n,
                       "count": count, "base": prefix, "total": len(chosen), **speak}
            add(path, "blog/list.html.j2", [heading, "index", prefix, n, count, len(chosen), [d for _, d, _ in page]],
                lambda c=context: c)
    tags: dict[str, dict] = {}
    campaigns: dict[str, dict] = {}
    for row in rows:
        card = row[0]
        for tag in card["tags"]:
            tags.setdefault(tag["slug"], {"name": tag["name"], "rows": []})["rows"].append(row)
        if card["campaign"]:
            campaigns.setdefault(card["campaign_slug"], {"name": card["campaign"], "rows": []})["rows"].append(row)
    for slug in sorted(tags):
        lists(f"tags/{slug}/", tags[slug]["rows"], tags[slug]["name"], "tag")
    for slug in sorted(campaigns):
        lists(f"campaigns/{slug}/", campaigns[slug]["rows"], campaigns[slug]["name"], "campaign")
    tag_rows = [{"slug": slug, "name": tags[slug]["name"], "count": len(tags[slug]["rows"])} for slug in sorted(tags)]
    campaign_rows = [{"slug": slug, "name": campaigns[slug]["name"], "count": len(campaigns[slug]["rows"])}
                     for slug in sorted(campaigns)]
    add("tags/index.html", "blog/tags.html.j2", [tag_rows, campaign_rows],
        lambda: {"tags": tag_rows, "campaigns": campaign_rows})

    def feed_of(chosen: list[tuple[dict, str, str]], title: str, folder: str) -> tuple[list, Callable[[], dict]]:
        """(fingerprint, context) of the feeds of ``chosen`` (newest first) living in ``folder``."""
        newest = chosen[:feed_items]
        updated = max((card["updated"] for card, _, _ in newest), default=_rfc3339(EPOCH))
        home = f"{site_data['url']}/{folder}"

        def make() -> dict:
            entries = [{**entry_of(card["id"]),
                        "published_822": format_datetime(_utc(card["published"], EPOCH), usegmt=True)}
                       for card, _, _ in newest]
            return {"entries": entries, "updated": updated, "content": feed_content,
                    "updated_822": format_datetime(_utc(updated, EPOCH), usegmt=True),
                    "feed": {"title": title, "home": home, "atom": f"{home}atom.xml", "rss": f"{home}rss.xml"}}
        return [title, *(key for _, _, key in newest)], make

    keys, feed = feed_of(rows, site.title, "")
    add("atom.xml", "blog/atom.xml.j2", keys, feed)
    add("rss.xml", "blog/rss.xml.j2", keys, feed)
    for lang in sorted({card["language"] for card, _, _ in translated}):  # each language: its list and feeds
        chosen = [r for r in translated if r[0]["language"] == lang]
        speak = in_language(chosen[0][0])
        title = f"{site.title} ({lang})"
        lists_in(f"{lang}/", chosen, title, speak)
        keys, feed = feed_of(chosen, title, f"{lang}/")
        add(f"{lang}/atom.xml", "blog/atom.xml.j2", keys + [lang], lambda f=feed, s=speak: {**f(), **s})
        add(f"{lang}/rss.xml", "blog/rss.xml.j2", keys + [lang], lambda f=feed, s=speak: {**f(), **s})
    for slug in sorted(tags):  # one Atom feed per tag: follow a topic
        keys, feed = feed_of(tags[slug]["rows"], f"{site.title}: {tags[slug]['name']}", f"tags/{slug}/")
        add(f"tags/{slug}/atom.xml", "blog/atom.xml.j2", keys, feed)

    urls = [{"loc": f"{site_data['url']}/", "lastmod": rows[0][0]["updated"] if rows else None}]
    urls += [{"loc": card["url"], "lastmod": card["updated"]} for card, _, _ in rows + translated]
    for prefix, groups in (("tags", tags), ("campaigns", campaigns)):
        for slug in sorted(groups):
            urls.append({"loc": f"{site_data['url']}/{prefix}/{slug}/",
                         "lastmod": max(card["published"] for card, _, _ in groups[slug]["rows"])})
    add("sitemap.xml", "blog/sitemap.xml.j2", [[(u["loc"], u["lastmod"]) for u in urls]], lambda: {"urls": urls})
    add("robots.txt", "blog/robots.txt.j2", [], dict)
    # A static host serves 404.html at the path that was asked for: its links are absolute.
    add("404.html", "blog/404.html.j2", [d for _, d, _ in rows[:5]],
        lambda: {"cards": [card for card, _, _ in rows[:5]], "root": f"{site_data['url']}/"})
    return Plan(outputs, [card for card, _, _ in rows + translated], new_cache)


def _load_manifest(site_dir: Path) -> dict:
    """{"files": {path: [fingerprint, size]}, "entries": {item id: [input key, card, card digest]}}."""
    try:
        data = json.loads((site_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"files": {}, "entries": {}}
    if not isinstance(data, dict):
        return {"files": {}, "entries": {}}
    return {"files": data.get("files") or {}, "entries": data.get("entries") or {}}


def _write(target: str, data: bytes) -> None:
    """Atomically: a killed build leaves the old file or the new one, never half of one."""
    write_atomic(target, data)  # and a failed write (a full disk) leaves no temporary file


def build_site(site_dir: Path | str, site: Site, delivered: Iterable[tuple[Post, Receipt]],
               syndication: dict[str, list[dict]] | None = None, options: dict | None = None, *,
               dry_run: bool = False) -> BuildReport:
    """Build (or bring up to date) the site in ``site_dir`` from the delivered blog entries.

    ``options``: the blog channel's options (per_page, feed_content, feed_items, templates_dir,
    static_dirs: [[folder, name], …] copied into the site as ``name/…``).
    ``syndication``: item id → [{"channel", "type", "url"}], the "also on" links.
    ``dry_run``: work everything out, write and remove nothing.
    """
    # Planning allocates many small objects while a publish run holds every rendered post.
    with collector_paused():
        return _build(Path(site_dir), site, delivered, syndication, dict(options or {}), dry_run)


def _build(site_dir: Path, site: Site, delivered: Iterable[tuple[Post, Receipt]],
           syndication: dict[str, list[dict]] | None, options: dict, dry_run: bool) -> BuildReport:
    # No site yet (a fresh clone, a CI runner): build it whole in a folder of its own beside it and
    # rename that into place, so the site appears at once and no page needs a temporary file.
    staging = None if dry_run or os.path.lexists(site_dir) else _staging(site_dir)
    if staging is None:
        return _build_in(site_dir, site_dir, site, delivered, syndication, options, dry_run)
    try:
        report = _build_in(site_dir, staging, site, delivered, syndication, options, dry_run)
        _move_into_place(staging, site_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)  # a failed build leaves no half site behind
        raise
    return report


#: The folder a new site is built in, beside the site folder: ``.public.building-<pid>``.
STAGING = ".{name}.building-{pid}"


def _staging(site_dir: Path) -> Path:
    """A new, empty folder beside ``site_dir`` (same file system: a rename moves it into place);
    what builds killed before their end left beside it is removed first."""
    parent = site_dir.parent
    parent.mkdir(parents=True, exist_ok=True)
    prefix = STAGING.format(name=site_dir.name, pid="")
    with contextlib.suppress(OSError):
        for name in os.listdir(parent):
            pid = name[len(prefix):]
            if name.startswith(prefix) and pid.isdigit() and not _alive(int(pid)):
                shutil.rmtree(parent / name, ignore_errors=True)
    staging = parent / STAGING.format(name=site_dir.name, pid=os.getpid())
    shutil.rmtree(staging, ignore_errors=True)  # this process's own, from a build that raised
    staging.mkdir()
    return staging


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True  # this process's own staging folder is made afresh by its caller
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process: alive
        return True
    return True


def _move_into_place(staging: Path, site_dir: Path) -> None:
    """Rename the new site to ``site_dir``. When something made that folder meanwhile (another run,
    the calendar written into it), the files are moved in one by one, the manifest last."""
    try:
        os.rename(staging, site_dir)  # atomic; replaces an empty folder as well
        return
    except OSError as exc:
        if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY):
            raise
    for dirpath, _, filenames in os.walk(staging):
        rel = os.path.relpath(dirpath, staging)
        folder = site_dir if rel == "." else site_dir / rel
        folder.mkdir(parents=True, exist_ok=True)
        for name in filenames:
            if not (rel == "." and name == MANIFEST):
                os.replace(os.path.join(dirpath, name), folder / name)
    if (staging / MANIFEST).exists():
        os.replace(staging / MANIFEST, site_dir / MANIFEST)
    shutil.rmtree(staging, ignore_errors=True)


def _build_in(site_dir: Path, base: Path, site: Site, delivered: Iterable[tuple[Post, Receipt]],
              syndication: dict[str, list[dict]] | None, options: dict, dry_run: bool) -> BuildReport:
    """Build into ``base``: ``site_dir`` itself, or the empty folder a new site is made in."""
    report = BuildReport(site_dir)
    env = _environment(options.get("templates_dir"))
    fresh = base != site_dir
    manifest = {"files": {}, "entries": {}} if fresh else _load_manifest(site_dir)
    # the files rendered by earlier builds, kept in .cache/ with each item's card: a site folder
    # deleted (a CI runner) costs writing them, not making and rendering them again
    kept = Pages(None) if dry_run or not options.get("pages_cache") else \
        Pages(options["pages_cache"], _signature(options.get("templates_dir")))
    plan = plan_outputs(site, delivered, syndication or {}, options, _templates_digest(env), report.problems,
                        manifest["entries"] or kept.entries())
    report.pages = {card["id"]: card["url"] for card in plan.cards}
    before = manifest["files"]
    out = _Files(str(base), before, report, dry_run, fresh=fresh)
    templates: dict[str, jinja2.Template] = {}
    try:
        for output in plan.outputs:
            if out.known(output.path, output.fingerprint):
                kept.keep(output.path, output.fingerprint)
                continue
            data = kept.get(output.path, output.fingerprint)
            if data is None:
                template = templates.get(output.template) or templates.setdefault(output.template,
                                                                                  env.get_template(output.template))
                report.rendered += 1
                data = template.render(output.make()).encode("utf-8")
                kept.put(output.path, output.fingerprint, data)
            out.put(output.path, output.fingerprint, data)
    finally:
        kept.close()
    for path, source, shown in static_files(options.get("static_dirs") or ()):
        if path in out.after:  # a static folder named like one of the site's own (tags/, page/ …)
            report.problems.append(Problem(shown, None, "static",
                                           f"'{path}' is also a page of the site; rename the folder"))
            continue
        try:
            st = os.stat(source)
            if not stat.S_ISREG(st.st_mode):  # a named pipe would hang the build, a device never end
                report.problems.append(Problem(shown, None, "static", "is not a regular file; skipped"))
                continue
            fingerprint = f"static:{st.st_size}:{st.st_mtime_ns}"
            if out.known(path, fingerprint):
                continue
            with open(source, "rb") as fh:
                data = fh.read()
        except OSError as exc:  # one unreadable file does not stop the build; its last copy stays
            report.problems.append(Problem(shown, None, "static",
                                           f"cannot be read ({exc.strerror}); the site keeps its last copy"))
            if path in before:
                out.after[path] = before[path]
            continue
        out.put(path, fingerprint, data)
    after = out.after
    kept.save(entries=plan.cache if fresh or plan.cache != manifest["entries"] else None)
    report.removed = sorted(set(before) - set(after))
    if not dry_run:
        for rel in report.removed:
            _remove(site_dir, rel)
    if not dry_run and (after != before or plan.cache != manifest["entries"]):
        data = json.dumps({"entries": plan.cache, "files": after}, sort_keys=True, ensure_ascii=False,
                          separators=(",", ":")).encode("utf-8") + b"\n"
        try:
            same = not fresh and (site_dir / MANIFEST).read_bytes() == data
        except OSError:
            same = False
        if not same:
            base.mkdir(parents=True, exist_ok=True)
            _write(str(base / MANIFEST), data)
    report.written.sort()
    return report


def static_files(dirs) -> list[tuple[str, str, str]]:
    """(path in the site, source file, the source as problems name it) of every file in the static
    folders ([[folder, name, shown as], …]; shown as: the folder relative to the project), sorted;
    names starting with . or _ and Markdown files are left out."""
    out = []
    for folder, name, *shown in dirs:
        label = shown[0] if shown else folder
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames[:] = [d for d in dirnames if not d.startswith((".", "_"))]
            rel = os.path.relpath(dirpath, folder).replace(os.sep, "/")
            sub = "" if rel == "." else f"/{rel}"
            out += [(f"{name}{sub}/{f}", os.path.join(dirpath, f), f"{label}{sub}/{f}") for f in filenames
                    if not f.startswith((".", "_")) and not f.endswith(ITEM_SUFFIXES)]
    return sorted(out)


class _Files:
    """The files of one build: which are known unchanged from the last build's manifest, and writing
    the others only when their bytes differ from what is on disk (so an unchanged file keeps its mtime)."""

    def __init__(self, base: str, before: dict[str, list], report: BuildReport, dry_run: bool, *,
                 fresh: bool = False):
        self.base, self.before, self.report, self.dry_run = base, before, report, dry_run
        self.after: dict[str, list] = {}  # path → [fingerprint, size], the next manifest
        self.folders: set[str] = {base} if fresh else set()
        # fresh: ``base`` is an empty folder of this build's own, which no one reads until it is
        # complete: each file is written once, straight, and each folder made once, without asking
        self.fresh = fresh

    def known(self, path: str, fingerprint: str) -> bool:
        """True (and counted unchanged) when the last build made ``path`` from the same inputs and
        the file is still there at its size."""
        known = self.before.get(path)
        if known and known[0] == fingerprint:
            try:
                # plain strings: 10,000 Path objects cost more than the stats
                if os.stat(os.path.join(self.base, path)).st_size == known[1]:
                    self.after[path] = known
                    self.report.unchanged += 1
                    return True
            except OSError:
                pass
        return False

    def put(self, path: str, fingerprint: str, data: bytes) -> None:
        target = os.path.join(self.base, path)
        self.after[path] = [fingerprint, len(data)]
        if self.fresh:
            self.report.written.append(path)
            self._folder(os.path.dirname(target))
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
            finally:
                os.close(fd)
            return
        try:
            with open(target, "rb") as fh:
                same = fh.read() == data
        except OSError:
            same = False
        if same:
            self.report.unchanged += 1
            return
        self.report.written.append(path)
        if not self.dry_run:
            folder = os.path.dirname(target)
            if folder not in self.folders:
                os.makedirs(folder, exist_ok=True)
                self.folders.add(folder)
            _write(target, data)


    def _folder(self, folder: str) -> None:
        """Make ``folder`` and the folders above it that this build has not made yet."""
        if folder in self.folders:
            return
        self._folder(os.path.dirname(folder))
        os.mkdir(folder)
        self.folders.add(folder)


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
