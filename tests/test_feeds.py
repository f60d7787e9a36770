"""Listening feeds: real RSS/Atom served on loopback, read with feedparser, conditional GET."""
from __future__ import annotations

import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)

NEWS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:slash="http://purl.org/rss/1.0/modules/slash/">
<channel><title>Retail Weekly</title><link>https://retail.test/</link><description>Retail news</description>
<item><title>Northwind opens a pop-up in Tokyo</title><link>https://retail.test/tokyo</link>
  <guid>https://retail.test/?p=1</guid><pubDate>Fri, 20 Nov 2026 10:00:00 GMT</pubDate>
  <description>&lt;p&gt;The inventory startup &lt;b&gt;Northwind&lt;/b&gt; …&lt;/p&gt;</description><slash:comments>{comments}</slash:comments></item>
<item><title>Shelf prices in November</title><link>https://retail.test/prices</link>
  <guid>https://retail.test/?p=2</guid><pubDate>Sat, 21 Nov 2026 10:00:00 GMT</pubDate>
  <description>Nothing about us; the northwindish word does not count.</description></item>
</channel></rss>"""

YOUTUBE = """<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns:yt="http://www.youtube.com/xml/schemas/2015" xmlns:media="http://search.yahoo.com/mrss/"
      xmlns="http://www.w3.org/2005/Atom">
 <link rel="self" href="https://www.youtube.com/feeds/videos.xml?channel_id=UC1"/>
 <id>yt:channel:UC1</id><yt:channelId>UC1</yt:channelId><title>Northwind</title>
 <author><name>Northwind</name><uri>https://www.youtube.com/channel/UC1</uri></author>
 <published>2020-01-01T00:00:00+00:00</published>
 <entry>
  <id>yt:video:abc</id><yt:videoId>abc</yt:videoId><yt:channelId>UC1</yt:channelId>
  <title>Reorder points in five minutes</title><link rel="alternate" href="https://www.youtube.com/watch?v=abc"/>
  <author><name>Northwind</name></author>
  <published>2026-11-19T10:00:00+00:00</published><updated>2026-11-21T10:00:00+00:00</updated>
  <media:group><media:title>Reorder points</media:title><media:description>How to</media:description>
   <media:community><media:starRating count="42" average="5.00" min="1" max="5"/>
   <media:statistics views="1234"/></media:community></media:group>
 </entry>
</feed>"""

FORUM = """<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:thr="http://purl.org/syndication/thread/1.0">
 <id>https://forum.test/</id><title>Shop owners forum</title><updated>2026-11-22T09:00:00Z</updated>
 <author><name>forum</name></author><link rel="self" href="https://forum.test/feed"/>
 <entry><id>https://forum.test/t/1</id><title>Anyone using NORTHWIND for stock counts?</title>
  <updated>2026-11-22T09:00:00Z</updated><author><name>shopkeeper42</name></author>
  <link href="https://forum.test/t/1"/><thr:total>3</thr:total></entry>
</feed>"""

BROKEN = "<?xml version='1.0'?><rss version='2.0'><channel><title>Broken</title><item><title>Northwind"
MODIFIED = "Sun, 22 Nov 2026 09:00:00 GMT"


class FeedServer:
    def __init__(self):
        self.comments = 5
        self.seen: list[tuple[str, str | None, str | None]] = []  # path, If-None-Match, If-Modified-Since
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                inm, ims = self.headers.get("If-None-Match"), self.headers.get("If-Modified-Since")
                server.seen.append((self.path, inm, ims))
                etag = f'"news-{server.comments}"'
                if self.path == "/news.rss":
                    if inm == etag:
                        return self._send(304, b"", {"ETag": etag})
                    return self._send(200, NEWS.format(comments=server.comments).encode(),
                                      {"ETag": etag, "Content-Type": "application/rss+xml"})
                if self.path == "/forum.atom":
                    if ims == MODIFIED:
                        return self._send(304, b"")
                    return self._send(200, FORUM.encode(), {"Last-Modified": MODIFIED,
                                                            "Content-Type": "application/atom+xml"})
                if self.path == "/youtube.xml":
                    return self._send(200, YOUTUBE.encode(), {"Content-Type": "application/atom+xml"})
                if self.path == "/broken.xml":
                    return self._send(200, BROKEN.encode(), {"Content-Type": "application/rss+xml"})
                return self._send(404, b"<h1>Not found</h1>", {"Content-Type": "text/html"})

            def _send(self, status, body, headers=None):
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def feeds(project):
    server = FeedServer()
    settings = f"""\
site:
  title: Listening
  url: https://news.test
timezone: Europe/Berlin
listen:
  keywords: [Northwind]
  feeds:
    - name: retail
      url: {server.url}/news.rss
    - name: youtube
      url: {server.url}/youtube.xml
      all: true
    - name: forum
      url: {server.url}/forum.atom
    - name: broken
      url: {server.url}/broken.xml
    - name: gone
      url: {server.url}/gone.xml
"""
    root = project({}, settings)
    yield root, server
    server.close()


def read(root):
    from scheduler.project import load_project as load
    from reports.feeds import read_feeds
    from newsroom.state import open_store

    project = load(root)
    store = open_store(project.root, project.settings.state)
    return read_feeds(project, store, now=NOW), store


def test_mentions_engagement_numbers_and_failures(feeds):
    root, server = feeds
    result, store = read(root)
    assert result.added == 3 and result.updated == 0
    assert result.failures == [
        "feed broken: not a well-formed RSS or Atom feed (line 1, column 109: no element found)",
        "feed gone: could not be read: HTTP 404: <h1>Not found</h1>"]
    m = {r["feed"]: r for r in store.mentions()}
    assert set(m) == {"retail", "youtube", "forum"}  # the broken feed's torn item has no id or link
    assert m["retail"]["title"] == "Northwind opens a pop-up in Tokyo"
    assert m["retail"]["summary"] == "The inventory startup Northwind …"
    assert (m["retail"]["comments"], m["retail"]["views"], m["retail"]["keywords"]) == (5, None, ["Northwind"])
    assert m["retail"]["at"] == "2026-11-20T10:00:00Z"
    assert (m["youtube"]["views"], m["youtube"]["link"]) == (1234, "https://www.youtube.com/watch?v=abc")
    assert m["youtube"]["keywords"] == []  # kept because the feed is all: true
    assert (m["forum"]["comments"], m["forum"]["author"]) == (3, "shopkeeper42")


def test_conditional_get_and_updated_numbers(feeds):
    root, server = feeds
    read(root)
    result, store = read(root)
    assert result.added == 0 and result.updated == 0
    assert "feed retail: not modified" in result.notes and "feed forum: not modified" in result.notes
    sent = {path: (inm, ims) for path, inm, ims in server.seen[-5:]}
    assert sent["/news.rss"] == ('"news-5"', None)
    assert sent["/forum.atom"] == (None, MODIFIED)
    assert sent["/youtube.xml"] == (None, None)  # no validators given: fetched whole every time
    server.comments = 9  # a new comment changes the feed and its ETag
    result, store = read(root)
    assert (result.added, result.updated) == (0, 1)
    assert {r["feed"]: r["comments"] for r in store.mentions()}["retail"] == 9
    assert len(store.mentions()) == 3


def test_cli_inbox_lists_mentions(feeds, cli):
    root, _ = feeds
    read(root)
    out = cli(root, "inbox", "--format", "json").output
    import json

    rows = json.loads(out)
    assert [(r["kind"], r["channel"]) for r in rows] == [("mention", "forum"), ("mention", "retail"),
                                                         ("mention", "youtube")]
    assert all(r["answered"] is False and r["age_seconds"] > 0 for r in rows)
