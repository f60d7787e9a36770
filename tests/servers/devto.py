"""The Forem (dev.to) API v1 on loopback: ``POST /api/articles`` (201; 422 ``{"error", "status"}``;
401 ``{"error": "unauthorized", "status": 401}``), ``GET /api/articles/me/published`` and
``/me/all`` (``page``, ``per_page`` ≤ 1000), ``GET /api/comments?a_id=`` (a tree of comments with
``children``), ``GET /api/users/me``; 429 with ``Retry-After``."""
from __future__ import annotations

import itertools

from .base import Answer, Seen, Server

ME = {"type_of": "user", "id": 1234, "username": "newsroom", "name": "Newsroom"}


class DevtoServer(Server):
    routes = [
        ("POST", r"/api/articles", "create"),
        ("GET", r"/api/articles/me/published", "published"),
        ("GET", r"/api/articles/me/all", "all"),
        ("GET", r"/api/comments", "comments"),
        ("GET", r"/api/users/me", "me"),
    ]

    def __init__(self, key="devto-key"):
        super().__init__()
        self.key = key
        self.articles: list[dict] = []
        self.comment_trees: dict[str, list] = {}
        self.ids = itertools.count(2000001)

    def error(self, status, message):
        return Answer(status, {"error": message, "status": status})

    def _auth(self, seen: Seen):
        if seen.headers.get("api-key") != self.key:
            return self.error(401, "unauthorized")
        return None

    def add_article(self, title="An article", canonical_url=None, published=True, **counts):
        aid = next(self.ids)
        slug = title.lower().replace(" ", "-")
        article = {"type_of": "article", "id": aid, "title": title, "slug": slug,
                   "url": f"https://dev.to/newsroom/{slug}-{aid}", "canonical_url": canonical_url or f"https://dev.to/newsroom/{slug}",
                   "published": published, "published_at": "2026-11-23T09:00:00Z" if published else None,
                   "page_views_count": counts.get("views", 0), "public_reactions_count": counts.get("reactions", 0),
                   "comments_count": counts.get("comments", 0), "tag_list": [], "body_markdown": ""}
        self.articles.append(article)
        return article

    def create(self, seen: Seen):
        if (denied := self._auth(seen)):
            return denied
        article = (seen.json or {}).get("article") or {}
        if not article.get("title"):
            return self.error(422, "Title can't be blank")
        tags = article.get("tags") or []
        if len(tags) > 4:
            return self.error(422, "Tag list exceed the maximum of 4 tags")
        made = self.add_article(article["title"], article.get("canonical_url"), article.get("published", False))
        made.update(body_markdown=article.get("body_markdown", ""), tag_list=tags, description=article.get("description"),
                    main_image=article.get("main_image"))
        return Answer(201, made)

    def _page(self, seen: Seen, items):
        page = int((seen.query.get("page") or ["1"])[0])
        per_page = int((seen.query.get("per_page") or ["30"])[0])
        if per_page > 1000:
            per_page = 1000
        newest = items[::-1]
        return Answer(200, newest[(page - 1) * per_page: page * per_page])

    def published(self, seen: Seen):
        if (denied := self._auth(seen)):
            return denied
        return self._page(seen, [a for a in self.articles if a["published"]])

    def all(self, seen: Seen):
        if (denied := self._auth(seen)):
            return denied
        return self._page(seen, self.articles)

    def comments(self, seen: Seen):
        aid = (seen.query.get("a_id") or [""])[0]
        if not any(str(a["id"]) == aid for a in self.articles):
            return self.error(404, "not found")
        return Answer(200, self.comment_trees.get(aid, []))

    def me(self, seen: Seen):
        if (denied := self._auth(seen)):
            return denied
        return Answer(200, dict(ME))
