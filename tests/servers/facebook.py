"""Facebook Pages on the Graph API, on loopback (developers.facebook.com/docs: ``pages-api/posts``,
``graph-api/reference/page/feed``, ``page/photos``, ``post``, ``object/comments``, the multiple-id
lookup ``GET /?ids=``):

- ``POST /{page}/feed`` (form: message, link) → ``{"id": "{page}_{post}"}``; 400 code 100 without
  message and link;
- ``POST /{page}/photos`` (``url`` fetched by the server, or multipart ``source``; ``message``) →
  ``{"id": photo, "post_id": "{page}_{post}"}``; an image URL that does not answer → 400 code 324;
- ``GET /{page}/feed`` (newest first), ``GET /{post}`` (permalink_url), ``GET /?ids=a,b&fields=…``
  (shares, reactions and comments summaries, insights), ``GET /{post}/comments``, ``GET /me``,
  ``GET /{page}?fields=access_token``.
"""
from __future__ import annotations

import urllib.request

from .base import Answer, Seen, multipart
from .meta import MetaServer, graph_error

PAGE_ID = "104857600123456"
PAGE_NAME = "Northwind News"


class FacebookServer(MetaServer):
    routes = [
        ("POST", r"/(?P<page>\d+)/feed", "create"),
        ("POST", r"/(?P<page>\d+)/photos", "photo"),
        ("GET", r"/(?P<page>\d+)/feed", "feed"),
        ("GET", r"/(?P<node>[\d_]+)/comments", "comments"),
        ("GET", r"/", "by_ids"),
        ("GET", r"/(?P<node>me|[\d_]+)", "node"),
        ("POST", r"/(?P<node>\d+_\d+)", "update"),
        ("DELETE", r"/(?P<node>\d+_\d+)", "remove"),
    ]

    def __init__(self, token="page-token", user_token: str | None = None):
        super().__init__(token)
        self.user_token = user_token  # a person's token that may ask for the Page token
        self.pages = [{"id": PAGE_ID, "name": PAGE_NAME}]
        self.posts: list[dict] = []
        self.photos: dict[str, bytes | str] = {}
        self.counts: dict[str, dict] = {}
        self.comment_lists: dict[str, list] = {}

    def dispatch(self, seen: Seen) -> Answer:
        if self.user_token and (seen.headers.get("authorization") or "") == f"Bearer {self.user_token}":
            if seen.path == "/me":
                return Answer(200, {"id": "10160000000000001", "name": "Ana Editor"})
            if seen.path == f"/{PAGE_ID}":
                return Answer(200, {"id": PAGE_ID, "name": PAGE_NAME, "access_token": self.token})
        return super().dispatch(seen)

    def _page(self, page):
        if page != PAGE_ID:
            return graph_error(400, f"(#100) Object with ID '{page}' does not exist, cannot be loaded due to missing "
                                    "permissions, or does not support this operation", 100, 33)
        return None

    def _new(self, message: str, link: str | None, photo: str | None = None) -> dict:
        story = self.next_id()
        post = {"id": f"{PAGE_ID}_{story}", "message": message, "link": link, "photo": photo,
                "permalink_url": f"https://www.facebook.com/{PAGE_ID}/posts/{story}",
                "created_time": f"2026-11-23T09:{len(self.posts) % 60:02d}:00+0000"}
        self.posts.append(post)
        return post

    def create(self, seen: Seen, page):
        if (bad := self._page(page)):
            return bad
        form = dict(seen.form)
        if not form.get("message") and not form.get("link"):
            return graph_error(400, "(#100) The parameter message or link is required", 100)
        return Answer(200, {"id": self._new(form.get("message", ""), form.get("link"))["id"]})

    def photo(self, seen: Seen, page):
        if (bad := self._page(page)):
            return bad
        if seen.headers.get("content-type", "").startswith("multipart/"):
            parts = multipart(seen)
            message = parts.get("message", (None, b"", ""))[1].decode()
            image: bytes | str = parts.get("source", (None, b"", ""))[1]
            if not image:
                return graph_error(400, "(#324) Requires upload file", 324)
        else:
            form = dict(seen.form)
            message, image = form.get("message", ""), form.get("url", "")
            try:
                with urllib.request.urlopen(image, timeout=5) as fetched:
                    ok = fetched.status == 200
            except (OSError, ValueError):
                ok = False
            if not ok:
                return graph_error(400, "(#324) Missing or invalid image file", 324)
        photo = self.next_id()
        self.photos[photo] = image
        return Answer(200, {"id": photo, "post_id": self._new(message, None, photo)["id"]})

    def feed(self, seen: Seen, page):
        if (bad := self._page(page)):
            return bad
        limit = int(self.param(seen, "limit", "25"))
        return Answer(200, {"data": [{k: p[k] for k in ("id", "message", "permalink_url", "created_time")}
                                     for p in self.posts[::-1][:limit]], "paging": {"cursors": {}}})

    def _node(self, post_id: str) -> dict:
        counts = self.counts.get(post_id, {})
        return {"id": post_id, "shares": {"count": counts.get("shares", 0)},
                "reactions": {"data": [], "summary": {"total_count": counts.get("reactions", 0)}},
                "comments": {"data": [], "summary": {"total_count": counts.get("comments", 0)}},
                "insights": {"data": [{"name": "post_total_media_view_unique", "period": "lifetime",
                                       "values": [{"value": counts.get("views", 0)}],
                                       "id": f"{post_id}/insights/post_total_media_view_unique/lifetime"}]}}

    def by_ids(self, seen: Seen):
        ids = [i for i in (self.param(seen, "ids") or "").split(",") if i]
        if len(ids) > 50:
            return graph_error(400, "(#100) Too many IDs. Maximum: 50. Provided: %d." % len(ids), 100)
        known = {p["id"] for p in self.posts}
        missing = [i for i in ids if i not in known]
        if missing:
            return graph_error(400, f"(#803) Some of the aliases you requested do not exist: {','.join(missing)}", 803)
        return Answer(200, {i: self._node(i) for i in ids})

    def node(self, seen: Seen, node):
        if node == "me":
            return Answer(200, {"id": PAGE_ID, "name": PAGE_NAME})
        if node == PAGE_ID:
            return Answer(200, {"id": PAGE_ID, "name": PAGE_NAME, "access_token": self.token})
        for post in self.posts:
            if post["id"] == node:
                return Answer(200, {"id": node, "permalink_url": post["permalink_url"], "message": post["message"]})
        return graph_error(400, f"(#100) Object with ID '{node}' does not exist", 100, 33)

    def comments(self, seen: Seen, node):
        if not any(p["id"] == node for p in self.posts):
            return self._missing(node)
        return Answer(200, {"data": self.comment_lists.get(node, []), "paging": {"cursors": {}}})

    def _missing(self, node):
        return graph_error(400, f"(#100) Object with ID '{node}' does not exist, cannot be loaded due to missing "
                                "permissions, or does not support this operation", 100, 33)

    def update(self, seen: Seen, node):
        for post in self.posts:
            if post["id"] == node:
                post["message"] = dict(seen.form).get("message", post["message"])
                return Answer(200, {"success": True})
        return self._missing(node)

    def remove(self, seen: Seen, node):
        for post in self.posts:
            if post["id"] == node:
                self.posts.remove(post)
                return Answer(200, {"success": True})
        return self._missing(node)
