"""dev.to channel (type ``devto``): the Forem API v1.

API facts (developers.forem.com/api/v1, forem/forem ``app/controllers/api/v1/articles_controller.rb``):

- Headers ``api-key`` and ``Accept: application/vnd.forem.api-v1+json``.
- ``POST /api/articles`` {"article": {title, body_markdown, published, series, main_image,
  canonical_url, description, tags, organization_id}} → 201 Article (id, url, published_at …);
  422 ``{"error": "...", "status": 422}``. ``tags`` takes at most 4. ``published_at`` was not in
  the create schema of 2023 (OpenAPI ``ArticleArticle``; forem/forem#20105 asked for API scheduling);
  the current ``app/controllers/concerns/api/articles_controller.rb`` permits it. We send it only when
  the rendering put one in ``Post.data``: the calendar, not dev.to, decides when an entry goes out.
- ``GET /api/articles/me/published?page=&per_page=`` (per_page ≤ 1000) → page_views_count,
  public_reactions_count, comments_count; ``GET /api/articles/me/all`` also lists drafts.
- ``GET /api/comments?a_id=`` → comment tree (id_code, body_html, user.username, children).
- ``GET /api/users/me`` → the key's own user (to mark our replies).
- No idempotency key: a write whose outcome is unknown is followed by a read-back of our articles,
  matched on ``canonical_url`` (the blog item's URL, unique per item).
- Limits: 429 with ``Retry-After``; writes about 1 per second (``RateLimitChecker``).
- Corrections: ``PUT /api/articles/{id}`` {"article": {…the same fields}} → 200 Article; the
  controller looks the id up among the key's own articles (``@user.articles.find``), so "not found"
  and "not yours" are both 404 ``{"error": "not found", "status": 404}``; 422 ``{"error", "status"}``.
- Withdrawals: the same ``PUT`` with ``published: false`` unpublishes (``PUT …/unpublish`` is for
  admins: ``authorize @article, :revoke_publication?``). Source: forem/forem
  ``app/controllers/concerns/api/articles_controller.rb`` (update, unpublish).
"""
from __future__ import annotations

from datetime import timedelta

from newsroom import schema as s

from .base import Channel, DeliveryContext, DeliveryResult, Failure, Post, Receipt, Removal, Reply
from .http import request
from .text import DEVTO_MAX_TAGS
from .social import (read_back, Found, MetricsError, RateGate, done_parts, html_to_text, parse_time, read, receipt_from,
                     write_part)

ACCEPT = "application/vnd.forem.api-v1+json"


class DevTo(Channel):
    TYPE = "devto"
    MEDIUM = "social"
    MAX_TAGS = DEVTO_MAX_TAGS  # per article: developers.forem.com/api/v1#tag/articles
    METRICS_BATCH = 1000
    DEFAULT_GRACE = timedelta(days=1)
    EDITS = True
    DELETES = True  # unpublished: the article leaves dev.to's feeds and its URL answers 404
    SECRETS = ('api_key',)
    OPTIONS = s.Schema("devto options", [
        s.Key("api_key", s.Secret(), "dev.to API key, from the environment", required=True),
        s.Key("published", s.Boolean(), "publish at once (false: save as draft)", default=True),
        s.Key("organization_id", s.Integer(), "post under this organization"),
    ])

    def __init__(self, config, env, *, base_url=None):
        super().__init__(config, env, base_url=base_url)
        self.gate = RateGate(("x-ratelimit-", "ratelimit-"))
        self.requests_made = 0
        self._me: dict | None = None

    @property
    def api(self) -> str:
        return (self.base_url or "https://dev.to").rstrip("/")

    def headers(self) -> dict:
        return {"api-key": self.secret("api_key") or "", "Accept": ACCEPT}

    def _read(self, path: str, **kwargs):
        self.requests_made += 1
        return read(self.session, self.gate, "GET", self.api + path, headers=self.headers(), **kwargs)

    # -- delivery -----------------------------------------------------------------------------
    def article(self, post: Post) -> dict:
        """The article from ``Post.data`` (what the rendering wrote), falling back to the post's fields.
        ``canonical_url`` always points at the blog item, so the copy never competes with it in search."""
        data = post.data or {}
        tags = [str(t).lower().replace("-", "").replace(" ", "") for t in (data.get("tags") or post.tags)]
        article = {
            "title": data.get("title") or post.title,
            "body_markdown": data.get("body_markdown") or post.text or "\n\n".join(post.parts),
            "published": bool(self.config.options.get("published", True)),
            "canonical_url": data.get("canonical_url") or post.url,
            "tags": tags[:self.MAX_TAGS],
        }
        if data.get("description"):
            article["description"] = data["description"]
        main_image = data.get("main_image") or next((m.src for m in post.media if m.src.startswith("http")), None)
        if main_image:
            article["main_image"] = main_image
        for key in ("series", "published_at"):
            if data.get(key):
                article[key] = data[key]
        if self.config.options.get("organization_id") is not None:
            article["organization_id"] = self.config.options["organization_id"]
        return article

    def deliver(self, post: Post, ctx: DeliveryContext) -> DeliveryResult:
        done = done_parts(ctx.journal, 1)
        if done:
            return receipt_from(done, ctx)
        article = self.article(post)
        if ctx.dry_run:
            return receipt_from([{"id": "dry-run", "url": None}], ctx, article=article)

        def send():
            got = request(self.session, "POST", f"{self.api}/api/articles", json={"article": article},
                          headers=self.headers())
            if isinstance(got, Failure):
                return got
            body = got.json()
            return {"id": str(body["id"]), "url": body.get("url")}

        part = write_part(ctx, 0, send, lambda: self.find(article["canonical_url"]))
        if isinstance(part, Failure):
            return part
        return receipt_from([part], ctx)

    def find(self, canonical_url: str) -> Found | None | Failure:
        """Our articles (drafts included), newest first, looking for this canonical URL."""
        for page in range(1, 4):
            got = self._read("/api/articles/me/all", params={"page": page, "per_page": 100})
            if isinstance(got, Failure):
                return got
            articles = got.json()
            for article in articles:
                if article.get("canonical_url") == canonical_url:
                    return Found(str(article["id"]), article.get("url"))
            if len(articles) < 100:
                break
        return None

    def reconcile(self, post: Post, ctx: DeliveryContext) -> Receipt | None:
        return read_back(self.name, ctx, [self.article(post)["canonical_url"]], self.find)

    # -- after publishing ---------------------------------------------------------------------
    def _update(self, article_id: str, article: dict):
        return request(self.session, "PUT", f"{self.api}/api/articles/{article_id}", json={"article": article},
                       headers=self.headers())

    def edit(self, post: Post, receipt: Receipt, ctx: DeliveryContext) -> Receipt | Failure:
        """The article's fields sent again in full: the same request twice leaves the same article."""
        if ctx.dry_run:
            return receipt
        got = self._update(receipt.remote_id, self.article(post))
        if isinstance(got, Failure):
            if got.status == 404:
                return Failure(f"{got.message} (the article is gone, or not this API key's)", status=404)
            return self.refused(got, "api_key") if got.status == 401 else got
        return Receipt(remote_id=receipt.remote_id, url=got.json().get("url") or receipt.url, at=receipt.at,
                       parts=receipt.parts, data=receipt.data)

    def delete(self, receipt: Receipt, ctx: DeliveryContext) -> Removal | Failure:
        """Unpublished (``published: false``); an article the key cannot find any more counts as gone."""
        if ctx.dry_run:
            return Removal(at=ctx.now)
        got = self._update(receipt.remote_id, {"published": False})
        if isinstance(got, Failure):
            if got.status == 404:
                return Removal(at=ctx.now, already=True, data={"note": got.message})
            return self.refused(got, "api_key") if got.status == 401 else got
        return Removal(at=ctx.now, data={"unpublished": True})

    # -- engagement ---------------------------------------------------------------------------
    def fetch_metrics(self, receipts: list[Receipt]) -> dict[str, dict[str, int]]:
        """All our published articles, page by page (``per_page`` ≤ 1000), kept for the receipts asked."""
        wanted = {r.remote_id for r in receipts}
        out: dict[str, dict[str, int]] = {}
        page = 1
        while wanted - set(out):
            got = self._read("/api/articles/me/published", params={"page": page, "per_page": self.METRICS_BATCH})
            if isinstance(got, Failure):
                raise MetricsError(f"{self.name}: {got.message}")
            articles = got.json()
            for a in articles:
                if str(a["id"]) in wanted:
                    out[str(a["id"])] = {"views": int(a.get("page_views_count") or 0),
                                         "likes": int(a.get("public_reactions_count") or 0),
                                         "replies": int(a.get("comments_count") or 0)}
            if len(articles) < self.METRICS_BATCH:
                break
            page += 1
        return out

    def me(self) -> dict:
        if self._me is None:
            got = self._read("/api/users/me")
            if isinstance(got, Failure):
                raise MetricsError(f"{self.name}: {got.message}")
            self._me = got.json()
        return self._me

    def fetch_replies(self, receipts: list[Receipt]) -> list[Reply]:
        if not receipts:
            return []
        me = self.me().get("username")
        out: list[Reply] = []
        for receipt in receipts:
            got = self._read("/api/comments", params={"a_id": receipt.remote_id})
            if isinstance(got, Failure):
                if got.status == 404:
                    continue
                raise MetricsError(f"{self.name}: {got.message}")

            def walk(comments, parent):
                for c in comments:
                    user = (c.get("user") or {}).get("username", "")
                    out.append(Reply(channel=self.name, remote_id=c["id_code"], in_reply_to=parent, author=user,
                                     text=html_to_text(c.get("body_html", "")),
                                     url=f"https://dev.to/{user}/comment/{c['id_code']}",
                                     at=parse_time(c.get("created_at")), ours=user == me))
                    walk(c.get("children") or [], c["id_code"])

            walk(got.json(), receipt.remote_id)
        return out
