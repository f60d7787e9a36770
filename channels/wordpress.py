"""WordPress channel (type ``wordpress``): posts through the WordPress REST API (``/wp-json/wp/v2``).

API facts (developer.wordpress.org/rest-api: "Authentication" (application passwords),
``reference/posts``, ``reference/tags``, ``reference/categories``, ``reference/media``,
``reference/comments``, ``using-the-rest-api/pagination``):

- HTTP Basic with the user name and an application password (WordPress 5.6+; *Users → Profile →
  Application Passwords*), over HTTPS.
- ``POST /wp/v2/posts`` {title, content, excerpt, status publish|future|draft, date_gmt, categories,
  tags, featured_media} → 201 Post {id, link, status, …}. ``status: future`` with a ``date_gmt`` ahead
  schedules the post; WordPress itself publishes it then.
- Categories and tags are sent as ids: ``GET /wp/v2/tags?search=`` finds a term by name, ``POST
  /wp/v2/tags`` {name} makes it; a name that exists answers 400 ``term_exists`` with
  ``data.term_id``, which is used.
- ``POST /wp/v2/media`` (multipart ``file``, ``alt_text``) → 201 Attachment {id, source_url}.
- Errors: ``{"code", "message", "data": {"status"}}`` (401 ``incorrect_password`` / ``rest_not_logged_in``,
  403 ``rest_cannot_create``, 400 ``rest_invalid_param``).
- No idempotency key: a post whose answer was lost is looked for among the latest posts of every
  status (``GET /wp/v2/posts?context=edit&status=publish,future,draft,pending,private``) by its title.
- Comments: ``GET /wp/v2/comments?post=…&per_page=100`` (``post`` takes a list; ``X-WP-TotalPages``
  pages them); ``GET /wp/v2/users/me`` says which comments are ours. WordPress has no view counts
  (Jetpack's are not part of core), so the numbers are comment counts.
- WordPress core has no rate limit; a host's 429 is waited out by its ``Retry-After``.
"""
from __future__ import annotations

import html
from datetime import datetime, timedelta, timezone

from newsroom import schema as s

from .base import Channel, DeliveryContext, DeliveryResult, Failure, Post, Receipt, Removal, Reply
from .http import request
from .social import (Found, MetricsError, RateGate, chunks, done_parts, html_to_text, media_bytes, parse_time, read,
                     read_back, receipt_from, with_partial, write_part)


class WordPress(Channel):
    TYPE = "wordpress"
    MEDIUM = "blog"
    SUPPORTS_MEDIA = True
    METRICS_BATCH = 100  # per_page and the post[] list of the comments endpoint
    DEFAULT_GRACE = timedelta(days=1)
    SECRETS = ("app_password",)
    EDITS = True  # POST /posts/{id} with the fields to change
    DELETES = True  # DELETE /posts/{id}: to the trash (recoverable for 30 days), not for good
    CHECKS_TOKEN = True
    TOKEN_HELP = ("in WordPress, Users → Profile → Application Passwords, add one for the publishing user and "
                  "set it (with `user` in publish.yml)")
    TOKEN_NOTE = "Application passwords do not lapse; revoke them in the user's profile."
    OPTIONS = s.Schema("wordpress options", [
        s.Key("url", s.Url(), "the site's address, e.g. https://blog.example.com (the API is under /wp-json/)",
              required=True),
        s.Key("user", s.Text(), "the WordPress user who publishes", required=True),
        s.Key("app_password", s.Secret(), "that user's application password, from the environment", required=True),
        s.Key("status", s.Choice("publish", "future", "draft"),
              "publish at once, schedule in WordPress for the item's publish_at, or save a draft", default="publish"),
        s.Key("category", s.Text(), "the category (by name) every post goes into; made when missing"),
    ])

    def __init__(self, config, env, *, base_url=None):
        super().__init__(config, env, base_url=base_url)
        self.gate = RateGate(())
        self.requests_made = 0
        self._me: dict | None = None
        self._terms: dict[tuple[str, str], int] = {}

    # -- plumbing -----------------------------------------------------------------------------
    @property
    def api(self) -> str:
        return (self.base_url or str(self.config.options.get("url", ""))).rstrip("/") + "/wp-json/wp/v2"

    @property
    def auth(self) -> tuple[str, str]:
        return str(self.config.options.get("user") or ""), self.secret("app_password") or ""

    def failure(self, got: Failure) -> Failure:
        """A refused password waits for a person (``publish auth``)."""
        from dataclasses import replace

        if got.status == 401:
            return self.refused(replace(got, message=f"{got.message} (check the application password: "
                                                     f"`publish auth {self.name}`)"), "app_password")
        return got

    def _call(self, method: str, path: str, **kwargs):
        got = request(self.session, method, self.api + path, auth=self.auth, **kwargs)
        return self.failure(got) if isinstance(got, Failure) else got

    def _read(self, path: str, **kwargs):
        self.requests_made += 1
        got = read(self.session, self.gate, "GET", self.api + path, auth=self.auth, **kwargs)
        return self.failure(got) if isinstance(got, Failure) else got

    # -- terms by name --------------------------------------------------------------------------
    def term(self, taxonomy: str, name: str) -> int | Failure:
        """The id of the tag or category called ``name``, made when there is none."""
        key = (taxonomy, name.casefold())
        if key in self._terms:
            return self._terms[key]
        got = self._read(f"/{taxonomy}", params={"search": name, "per_page": 100, "context": "edit"})
        if isinstance(got, Failure):
            return got
        for term in got.json():
            if html.unescape(term.get("name", "")).casefold() == name.casefold():
                self._terms[key] = int(term["id"])
                return self._terms[key]
        seen: list = []
        made = request(self.session, "POST", f"{self.api}/{taxonomy}", auth=self.auth, json={"name": name},
                       hooks={"response": [lambda response, *a, **k: seen.append(response)]})
        if isinstance(made, Failure):
            body = {}
            try:
                body = seen[-1].json() if seen else {}
            except ValueError:
                pass
            if isinstance(body, dict) and body.get("code") == "term_exists":  # made meanwhile: use it
                self._terms[key] = int((body.get("data") or {}).get("term_id"))
                return self._terms[key]
            return self.failure(made)
        self._terms[key] = int(made.json()["id"])
        return self._terms[key]

    # -- delivery -----------------------------------------------------------------------------
    def article(self, post: Post, ctx: DeliveryContext, media_id: int | None) -> dict | Failure:
        data = post.data or {}
        content = data.get("body") or post.html or post.text or ""
        if data.get("canonical_url"):
            # WordPress core has no canonical field (SEO plugins keep their own): the copy says where the
            # original is, as dev.to's footer does
            href = html.escape(data["canonical_url"])
            content += f'\n<p><em>Originally published at <a href="{href}" rel="canonical">{href}</a>.</em></p>'
        body = {"title": data.get("title") or post.title, "content": content}
        if data.get("custom_excerpt"):
            body["excerpt"] = data["custom_excerpt"]
        status = self.config.options.get("status") or "publish"
        when = data.get("published_at")
        if status == "future":
            if when and datetime.fromisoformat(when) > ctx.now:
                body["date_gmt"] = datetime.fromisoformat(when).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
            else:
                status = "publish"  # its time has come
        body["status"] = status
        if not ctx.dry_run:
            tags = []
            for name in data.get("tags") or post.tags:
                got = self.term("tags", str(name))
                if isinstance(got, Failure):
                    return with_partial(got, [], f"tag {name}: ")
                tags.append(got)
            if tags:
                body["tags"] = tags
            category = self.config.options.get("category")
            if category:
                got = self.term("categories", str(category))
                if isinstance(got, Failure):
                    return with_partial(got, [], f"category {category}: ")
                body["categories"] = [got]
        if media_id is not None:
            body["featured_media"] = media_id
        return body

    def deliver(self, post: Post, ctx: DeliveryContext) -> DeliveryResult:
        done = done_parts(ctx.journal, 1)
        if done:
            return receipt_from(done, ctx)
        media_id = None
        if post.media and not ctx.dry_run:
            media_id = self._featured(post, ctx)
            if isinstance(media_id, Failure):
                return media_id
        body = self.article(post, ctx, media_id)
        if isinstance(body, Failure):
            return body
        if ctx.dry_run:
            return receipt_from([{"id": "dry-run", "url": None}], ctx, post=body)

        def send():
            got = self._call("POST", "/posts", json=body)
            if isinstance(got, Failure):
                return got
            made = got.json()
            return {"id": str(made["id"]), "url": made.get("link"), "status": made.get("status")}

        part = write_part(ctx, 0, send, lambda: self.find(body["title"]))
        if isinstance(part, Failure):
            return part
        return receipt_from([part], ctx, status=part.get("status"))

    def _featured(self, post: Post, ctx: DeliveryContext) -> int | None | Failure:
        """The lead image uploaded to the media library once (its id kept in the journal)."""
        known = ctx.journal.get("media:0")
        if known:
            return int(known)
        media = post.media[0]
        loaded = media_bytes(self.session, media)
        if isinstance(loaded, Failure):
            return loaded
        data, mime, name = loaded
        got = self._call("POST", "/media", files={"file": (name, data, mime)}, data={"alt_text": media.alt})
        if isinstance(got, Failure):
            return with_partial(got, [], "featured image upload: ")
        media_id = int(got.json()["id"])
        ctx.journal.put("media:0", media_id)
        return media_id

    def find(self, title: str) -> Found | None | Failure:
        got = self._read("/posts", params={"context": "edit", "status": "publish,future,draft,pending,private",
                                           "orderby": "date", "order": "desc", "per_page": 25, "search": title})
        if isinstance(got, Failure):
            return got
        for made in got.json():
            raw = (made.get("title") or {}).get("raw")
            if raw is None:
                raw = html.unescape((made.get("title") or {}).get("rendered", ""))
            if raw == title:
                return Found(str(made["id"]), made.get("link"), {"status": made.get("status")})
        return None

    def reconcile(self, post: Post, ctx: DeliveryContext) -> Receipt | None:
        return read_back(self.name, ctx, [(post.data or {}).get("title") or post.title], self.find)

    # -- after publishing -------------------------------------------------------------------------
    def edit(self, post: Post, receipt: Receipt, ctx: DeliveryContext) -> Receipt | Failure:
        """Title, content, excerpt and tags replaced in place; the status and date stay as they are."""
        body = self.article(post, ctx, None)
        if isinstance(body, Failure):
            return body
        for key in ("status", "date_gmt", "featured_media"):
            body.pop(key, None)
        if ctx.dry_run:
            return receipt
        got = self._call("POST", f"/posts/{receipt.remote_id}", json=body)
        if isinstance(got, Failure):
            return got
        return Receipt(remote_id=receipt.remote_id, url=got.json().get("link") or receipt.url, at=ctx.now,
                       parts=receipt.parts, data={**receipt.data, "edited": True})

    def delete(self, receipt: Receipt, ctx: DeliveryContext) -> Removal | Failure:
        """Moved to the trash (an editor can restore it there); already trashed (410) or gone (404) counts."""
        if ctx.dry_run:
            return Removal(at=ctx.now)
        got = self._call("DELETE", f"/posts/{receipt.remote_id}")
        if isinstance(got, Failure):
            if got.status in (404, 410):
                return Removal(at=ctx.now, already=True, data={"note": got.message})
            return got
        return Removal(at=ctx.now, data={"trashed": True})

    # -- engagement ---------------------------------------------------------------------------
    def _comments(self, ids: list[str]) -> list[dict]:
        out: list[dict] = []
        for chunk in chunks(ids, self.METRICS_BATCH):
            page = 1
            while True:
                got = self._read("/comments", params=[("post[]", i) for i in chunk] + [
                    ("per_page", self.METRICS_BATCH), ("page", page), ("orderby", "date_gmt"), ("order", "asc")])
                if isinstance(got, Failure):
                    raise MetricsError(f"{self.name}: {got.message}")
                out.extend(got.json())
                if page >= int(got.headers.get("X-WP-TotalPages") or 1):
                    break
                page += 1
        return out

    def fetch_metrics(self, receipts: list[Receipt]) -> dict[str, dict[str, int]]:
        """Comments per post (WordPress core counts nothing else), 100 posts a request."""
        ids = list(dict.fromkeys(r.remote_id for r in receipts))
        out = {i: {"replies": 0} for i in ids}
        for comment in self._comments(ids):
            key = str(comment.get("post"))
            if key in out:
                out[key]["replies"] += 1
        return out

    def me(self) -> dict:
        if self._me is None:
            got = self._read("/users/me", params={"context": "edit"})
            if isinstance(got, Failure):
                raise MetricsError(f"{self.name}: {got.message}")
            self._me = got.json()
        return self._me

    def fetch_replies(self, receipts: list[Receipt]) -> list[Reply]:
        if not receipts:
            return []
        me = str(self.me().get("id"))
        out = []
        for c in self._comments(list(dict.fromkeys(r.remote_id for r in receipts))):
            parent = str(c.get("parent") or 0)
            out.append(Reply(channel=self.name, remote_id=str(c["id"]),
                             in_reply_to=parent if parent != "0" else str(c.get("post")),
                             author=c.get("author_name") or "", text=html_to_text((c.get("content") or {}).get("rendered", "")),
                             url=c.get("link"), at=parse_time((c.get("date_gmt") or "") + "Z" if c.get("date_gmt") else None),
                             ours=str(c.get("author")) == me))
        return out

    # -- credentials --------------------------------------------------------------------------
    def verify(self) -> dict | Failure:
        got = self._read("/users/me", params={"context": "edit"}, attempts=1)
        if isinstance(got, Failure):
            return got
        me = got.json()
        return {"account": f"{me.get('name') or me.get('username', '')} ({', '.join(me.get('roles') or []) or 'no role'})"}
