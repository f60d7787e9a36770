"""The Forem (dev.to) API v1 on loopback: ``POST /api/articles`` (201; 422 ``{"error", "status"}``;
401 ``{"error": "unauthorized", "status": 401}``), ``GET /api/articles/me/published`` and
``/me/all`` (``page``, ``per_page`` ≤ 1000), ``GET /api/comments?a_id=`` (a tree of comments with
``children``), ``GET /api/users/me``; 429 with ``Retry-After``.

``PUT /api/articles/{id}`` {"article": {…}} updates one of the key's own articles (200 Article; 404
``{"error": "not found", "status": 404}`` when it is not the key's or does not exist, as
``@user.articles.find`` raises; 422 on a blank title); ``published: false`` unpublishes it.
(forem/forem ``app/controllers/concerns/api/articles_controller.rb``)"""
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
        ("PUT", r"/api/articles/(?P<aid>\d+)", "update"),
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

    def update(self, seen: Seen, aid: str):
        if (denied := self._auth(seen)):
            return denied
        article = next((a for a in self.articles if str(a["id"]) == aid and a.get("user_id", ME["id"]) == ME["id"]),
                       None)
        if article is None:
            return self.error(404, "not found")
        fields = (seen.json or {}).get("article") or {}
        if "title" in fields and not fields["title"]:
            return self.error(422, "Title can't be blank")
        for key in ("title", "body_markdown", "description", "main_image", "canonical_url"):
            if key in fields:
                article[key] = fields[key]
        if "tags" in fields:
            article["tag_list"] = fields["tags"]
        if "published" in fields:
            article["published"] = bool(fields["published"])
        article["edited_at"] = "2026-11-24T10:00:00Z"
        article.setdefault("_edits", 0)
        article["_edits"] += 1
        return Answer(200, {k: v for k, v in article.items() if not k.startswith("_")})

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
