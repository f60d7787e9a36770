"""Listening: the RSS and Atom feeds under ``listen:`` in publish.yml, read for mentions.

Each feed is fetched with ``requests`` (conditional GET: the ``ETag`` and ``Last-Modified`` of the
last answer are sent back as ``If-None-Match`` / ``If-Modified-Since``, and a 304 costs nothing),
then parsed by feedparser. A feed that cannot be fetched or parsed is reported and the others go on.

Entries whose title or text mention a keyword are stored as mentions (one per feed and entry id;
the link stands in for a missing id). Engagement numbers a feed carries come along: YouTube's
``media:statistics views``, ``slash:comments`` and ``thr:total``; feedparser keeps those namespaced
elements as ``media_statistics`` / ``slash_comments`` / ``thr_total``, as strings
(https://feedparser.readthedocs.io/en/latest/namespace-handling.html), so they are cast here.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from time import monotonic as clock

import feedparser
import requests
import urllib3

from channels.base import USER_AGENT
from channels.http import request
from newsroom.state import StateStore
from newsroom.times import stamp

from .settings import Feed, feeds as feed_settings

_TAGS = re.compile(r"<[^>]+>")


@dataclass
class FeedsResult:
    added: int = 0
    updated: int = 0
    notes: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def _int(value) -> int | None:
    if value is None:
        return None
    try:
        return int(str(value).strip().replace(",", ""))
    except ValueError:
        return None


def _text(value: str | None) -> str:
    return re.sub(r"\s+", " ", html.unescape(_TAGS.sub(" ", value or ""))).strip()


def _when(entry, fallback: datetime) -> datetime:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        t = entry.get(key)
        if t:
            return datetime(*t[:6], tzinfo=timezone.utc)
    return fallback


def engagement(entry) -> tuple[int | None, int | None]:
    """(views, comments) an entry carries: media:statistics views; slash:comments or thr:total."""
    stats = entry.get("media_statistics") or {}
    views = _int(stats.get("views")) if isinstance(stats, dict) else None
    comments = _int(entry.get("slash_comments"))
    if comments is None:
        comments = _int(entry.get("thr_total"))
    return views, comments


def matches(entry, keywords: tuple[str, ...]) -> list[str]:
    """Keywords found in the entry's title, summary or content (case-insensitive, whole words)."""
    text = " ".join([entry.get("title") or "", entry.get("summary") or "",
                     *[c.get("value", "") for c in entry.get("content") or []]])
    text = _text(text).lower()
    return [k for k in keywords if re.search(r"(?<!\w)" + re.escape(k.lower()) + r"(?!\w)", text)]


def mention_rows(feed: Feed, parsed, fetched: datetime) -> list[dict]:
    rows = []
    for entry in parsed.entries:
        found = matches(entry, feed.keywords)
        if feed.keywords and not feed.all and not found:
            continue
        ident = entry.get("id") or entry.get("link")
        if not ident:
            continue
        views, comments = engagement(entry)
        author = entry.get("author") or (parsed.feed.get("title") if parsed.get("feed") else "") or feed.name
        rows.append({"feed": feed.name, "id": ident, "link": entry.get("link"), "title": _text(entry.get("title")),
                     "author": author, "summary": _text(entry.get("summary"))[:280],
                     "at": stamp(_when(entry, fetched)), "keywords": found, "views": views, "comments": comments,
                     "fetched": stamp(fetched)})
    return rows


#: The largest feed read (the biggest real feeds, a podcast's full archive, are a few MB).
MAX_FEED_BYTES = 10_000_000


def read_body(response: requests.Response, started: float, timeout: float, limit: int) -> bytes | str:
    """The body, read within ``timeout`` seconds of ``started`` (``clock()``) and up to ``limit`` bytes
    (decompressed); else why not. Each read returns what has arrived (``read1``) and waits no longer
    than what is left of the whole fetch, so a server that trickles bytes for ever cannot hold the pull."""
    import socket

    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        return f"too large ({int(declared):,} bytes; at most {limit:,} are read)"
    deadline = started + timeout
    raw, chunks, size = response.raw, [], 0
    sock = getattr(getattr(raw, "connection", None), "sock", None)
    try:
        while True:
            left = deadline - clock()
            if left <= 0:
                raise socket.timeout
            if sock is not None:
                sock.settimeout(left)
            chunk = raw.read1(65536, decode_content=True)
            if not chunk:
                break
            size += len(chunk)
            if size > limit:
                return f"too large (more than {limit:,} bytes; at most {limit:,} are read)"
            chunks.append(chunk)
    except (socket.timeout, TimeoutError, urllib3.exceptions.TimeoutError):
        return (f"not read whole within {timeout:g} s ({size:,} bytes arrived; listen.timeout bounds the "
                "whole fetch)")
    except (OSError, urllib3.exceptions.HTTPError) as exc:
        return f"could not be read: the connection broke after {size:,} bytes ({exc})"
    return b"".join(chunks)


def read_feed(feed: Feed, session: requests.Session, cache: dict, timeout: float):
    """(parsed feed or None, new cache row or None, note, failure)."""
    headers = {"User-Agent": USER_AGENT, "Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"}
    if cache.get("etag"):
        headers["If-None-Match"] = cache["etag"]
    if cache.get("modified"):
        headers["If-Modified-Since"] = cache["modified"]
    started = clock()
    got = request(session, "GET", feed.url, headers=headers, timeout=(min(5, timeout), timeout), stream=True)
    if not isinstance(got, requests.Response):
        return None, None, None, f"feed {feed.name}: could not be read: {got.message}"
    with got:
        if got.status_code == 304:
            return None, None, f"feed {feed.name}: not modified", None
        body = read_body(got, started, timeout, MAX_FEED_BYTES)
    if isinstance(body, str):
        return None, None, None, f"feed {feed.name}: {body}; the other feeds are read"
    parsed = feedparser.parse(body, response_headers={k.lower(): v for k, v in got.headers.items()})
    exc = parsed.get("bozo_exception") if parsed.bozo else None
    if exc is not None and not isinstance(exc, (feedparser.CharacterEncodingOverride,
                                                feedparser.NonXMLContentType)):
        if hasattr(exc, "getLineNumber"):  # xml.sax.SAXParseException
            why = f"line {exc.getLineNumber()}, column {exc.getColumnNumber()}: {exc.getMessage()}"
        else:
            why = str(exc)
        failure = f"feed {feed.name}: not a well-formed RSS or Atom feed ({why})"
        if not parsed.entries and not parsed.feed:
            return None, None, None, failure
        # feedparser's lenient parser kept what it could read: use it, and fetch it whole next time.
        return parsed, None, None, failure
    row = {"feed": feed.name, "url": feed.url, "etag": got.headers.get("ETag"),
           "modified": got.headers.get("Last-Modified")}
    return parsed, row, None, None


def read_feeds(project, store: StateStore, *, now: datetime, session: requests.Session | None = None) -> FeedsResult:
    feeds, timeout = feed_settings(project.settings.raw)
    result = FeedsResult()
    if not feeds:
        return result
    session = session or requests.Session()
    cache = store.feed_cache()
    fresh_cache, rows = [], []
    for feed in feeds:
        known = cache.get(feed.name) or {}
        if known.get("url") != feed.url:
            known = {}  # the address changed: its validators do not apply
        parsed, row, note, failure = read_feed(feed, session, known, timeout.total_seconds())
        if note:
            result.notes.append(note)
        if failure:
            result.failures.append(failure)
        if parsed is None:
            continue
        rows.extend(mention_rows(feed, parsed, now))
        if row and (row["etag"] or row["modified"]):
            fresh_cache.append({**row, "at": stamp(now)})
    result.added, result.updated = store.add_mentions(rows)
    store.set_feed_cache(fresh_cache)
    return result
