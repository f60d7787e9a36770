"""Ghost channel (type ``ghost``): posts on a Ghost site through its Admin API.

API facts (ghost.org/docs/admin-api: "Token Authentication", "Posts", "Images", "Creating a post";
TryGhost/Ghost ``apps/posts`` PostAnalytics, which reads ``GET /posts?include=email,count.clicks``):

- The Admin API key is ``{id}:{secret}``; each request carries ``Authorization: Ghost {jwt}``, a JWT
  signed HS256 with the hex-decoded secret, header ``kid`` = id, payload ``iat``, ``exp`` (at most
  5 minutes later) and ``aud`` = ``/admin/``; and ``Accept-Version: v5.0``.
- ``POST /ghost/api/admin/posts/?source=html`` {"posts": [{title, html, status, published_at, tags,
  feature_image, feature_image_alt, canonical_url, custom_excerpt}]} → 201 {"posts": [{id, url, slug,
  status, …}]}. Without ``?source=html`` the content is ``lexical`` (a JSON string; an ``html`` card
  carries HTML as it is). ``status``: ``published``, ``draft`` or ``scheduled`` with a future
  ``published_at``. ``?newsletter={slug}&email_segment={filter}`` also sends the post by email
  (Ghost's newsletter), when it is published or scheduled.
- ``POST /ghost/api/admin/images/upload/`` (multipart ``file``, ``purpose=image``) → {"images": [{url}]}.
- Errors: ``{"errors": [{"message", "context", "type", …}]}`` (422 ValidationError, 401
  UnauthorizedError "Invalid token"/"Unknown Admin API Key", 404 NotFoundError).
- No idempotency key: a post whose answer was lost is looked for among the site's latest posts by
  its title (and canonical URL) before anything is sent again.
- Email stats: ``include=email`` gives a post's ``email`` {email_count, delivered_count,
  opened_count, failed_count}; ``count.clicks`` the members' link clicks. Ghost documents no rate
  limit for the Admin API; a 429 (a proxy's, or Ghost(Pro)'s) is waited out by its ``Retry-After``.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime, timedelta, timezone

from newsroom import schema as s

from .base import Channel, DeliveryContext, DeliveryResult, Failure, Post, Receipt, Removal
from .http import request
from .social import (Found, MetricsError, RateGate, chunks, done_parts, media_bytes, read, read_back, receipt_from,
                     with_partial, write_part)

ACCEPT_VERSION = "v5.0"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def admin_token(key: str, now: datetime) -> str:
    """The short-lived JWT for an Admin API key ``id:secret`` (ghost.org/docs/admin-api/#token-authentication)."""
    kid, _, secret = key.partition(":")
    header = {"alg": "HS256", "typ": "JWT", "kid": kid}
    iat = int(now.timestamp())
    payload = {"iat": iat, "exp": iat + 5 * 60, "aud": "/admin/"}
    signing = f"{_b64(json.dumps(header, separators=(',', ':')).encode())}." \
              f"{_b64(json.dumps(payload, separators=(',', ':')).encode())}"
    signature = hmac.new(bytes.fromhex(secret), signing.encode("ascii"), hashlib.sha256).digest()
    return f"{signing}.{_b64(signature)}"


def lexical_of(html: str) -> str:
    """HTML as Ghost's Lexical document: one HTML card holding it as it is."""
    return json.dumps({"root": {"children": [{"type": "html", "version": 1, "html": html}], "direction": None,
                                "format": "", "indent": 0, "type": "root", "version": 1}})


class Ghost(Channel):
    TYPE = "ghost"
    MEDIUM = "blog"
    SUPPORTS_MEDIA = True
    METRICS_BATCH = 50
    DEFAULT_GRACE = timedelta(days=1)
    SECRETS = ("admin_key",)
    EDITS = True  # PUT /posts/{id}/ with the updated_at last read (Ghost refuses an edit of a stale copy)
    DELETES = True  # DELETE /posts/{id}/ → 204
    CHECKS_TOKEN = True
    TOKEN_HELP = ("in Ghost Admin, Settings → Integrations → Add custom integration, copy its Admin API key "
                  "(id:secret) and set it")
    TOKEN_NOTE = "Ghost Admin API keys do not lapse; deleting the integration revokes the key."
    OPTIONS = s.Schema("ghost options", [
        s.Key("url", s.Url(), "the Ghost site's admin URL, e.g. https://blog.example.com", required=True),
        s.Key("admin_key", s.Secret(), "the custom integration's Admin API key (id:secret), from the environment",
              required=True),
        s.Key("status", s.Choice("published", "draft", "scheduled"),
              "published at once, a draft for an editor, or scheduled in Ghost for the item's publish_at",
              default="published"),
        s.Key("format", s.Choice("html", "lexical"), "send the body as HTML (Ghost converts it) or as a Lexical "
              "document holding it in an HTML card (kept exactly)", default="html"),
        s.Key("newsletter", s.Text(), "also email the post to members with this Ghost newsletter (its slug)"),
        s.Key("email_segment", s.Text(), "which members get the email (Ghost's filter: all, status:free, "
              "status:-free)", default="all"),
    ])

    def __init__(self, config, env, *, base_url=None):
        super().__init__(config, env, base_url=base_url)
        self.gate = RateGate(())
        self.requests_made = 0

    # -- plumbing -----------------------------------------------------------------------------
    @property
    def api(self) -> str:
        return (self.base_url or str(self.config.options.get("url", ""))).rstrip("/") + "/ghost/api/admin"

    def now(self) -> datetime:
        return self.clock() if self.clock is not None else datetime.now(timezone.utc)

    def headers(self) -> dict:
        key = self.secret("admin_key") or ""
        try:
            token = admin_token(key, self.now())
        except ValueError:  # not id:hex — Ghost answers 401, which says what to fix
            token = "invalid"
        return {"Authorization": f"Ghost {token}", "Accept-Version": ACCEPT_VERSION}

    def failure(self, got: Failure, seen: list) -> Failure:
        """Ghost's words: ``message: context`` of its first error; a refused key waits for a person."""
        from dataclasses import replace

        if seen:
            try:
                errors = seen[-1].json().get("errors") or []
            except (ValueError, AttributeError):
                errors = []
            if errors and isinstance(errors[0], dict):
                first = errors[0]
                words = first.get("message") or ""
                if first.get("context") and first["context"] not in words:
                    words = f"{words}: {first['context']}" if words else first["context"]
                got = replace(got, message=f"HTTP {got.status}: {words}")
        if got.status in (401, 403):
            got = replace(got, message=f"{got.message} (check the Admin API key: `publish auth {self.name}`)")
            return self.refused(got, "admin_key")
        return got

    def _call(self, method: str, path: str, **kwargs):
        seen: list = []
        got = request(self.session, method, self.api + path, headers=self.headers(),
                      hooks={"response": [lambda response, *a, **k: seen.append(response)]}, **kwargs)
        return self.failure(got, seen) if isinstance(got, Failure) else got

    def _read(self, path: str, **kwargs):
        self.requests_made += 1
        seen: list = []
        got = read(self.session, self.gate, "GET", self.api + path, headers=self.headers(),
                   hooks={"response": [lambda response, *a, **k: seen.append(response)]}, **kwargs)
        return self.failure(got, seen) if isinstance(got, Failure) else got

    # -- delivery -----------------------------------------------------------------------------
    def article(self, post: Post, ctx: DeliveryContext, feature_image: str | None) -> tuple[dict, dict]:
        """The post's fields and the query (source, newsletter) from what the rendering wrote."""
        data = post.data or {}
        html = data.get("body") or post.html or post.text or ""
        fields: dict = {"title": data.get("title") or post.title, "tags": [{"name": t} for t in data.get("tags") or post.tags]}
        query: dict = {}
        if self.config.options.get("format") == "lexical":
            fields["lexical"] = lexical_of(html)
        else:
            fields["html"] = html
            query["source"] = "html"
        status = self.config.options.get("status") or "published"
        published_at = data.get("published_at")
        if status == "scheduled":
            if published_at and datetime.fromisoformat(published_at) > ctx.now:
                fields["published_at"] = datetime.fromisoformat(published_at).astimezone(timezone.utc).isoformat()
            else:
                status = "published"  # its time has come: Ghost refuses a schedule in the past
        fields["status"] = status
        for key in ("canonical_url", "custom_excerpt", "feature_image_alt"):
            if data.get(key):
                fields[key] = data[key]
        if feature_image:
            fields["feature_image"] = feature_image
        newsletter = self.config.options.get("newsletter")
        if newsletter and status != "draft":
            query.update(newsletter=newsletter, email_segment=self.config.options.get("email_segment") or "all")
        return fields, query

    def deliver(self, post: Post, ctx: DeliveryContext) -> DeliveryResult:
        done = done_parts(ctx.journal, 1)
        if done:
            return receipt_from(done, ctx)
        image = None
        if post.media and not ctx.dry_run:
            image = self._feature_image(post, ctx)
            if isinstance(image, Failure):
                return image
        fields, query = self.article(post, ctx, image or (post.media[0].src if post.media and ctx.dry_run else None))
        if ctx.dry_run:
            return receipt_from([{"id": "dry-run", "url": None}], ctx, post=fields, query=query)

        def send():
            got = self._call("POST", "/posts/", params=query, json={"posts": [fields]})
            if isinstance(got, Failure):
                return got
            made = got.json()["posts"][0]
            return {"id": str(made["id"]), "url": made.get("url"), "status": made.get("status")}

        part = write_part(ctx, 0, send, lambda: self.find(fields["title"], fields.get("canonical_url")))
        if isinstance(part, Failure):
            return part
        return receipt_from([part], ctx, status=part.get("status"), newsletter=query.get("newsletter"))

    def _feature_image(self, post: Post, ctx: DeliveryContext) -> str | Failure:
        """A local image is uploaded to Ghost (once: the URL is kept in the journal); an image given as a
        URL is used as it is."""
        media = post.media[0]
        if not media.path:
            return media.src
        known = ctx.journal.get("media:0")
        if known:
            return known
        loaded = media_bytes(self.session, media)
        if isinstance(loaded, Failure):
            return loaded
        data, mime, name = loaded
        got = self._call("POST", "/images/upload/", files={"file": (name, data, mime)}, data={"purpose": "image"})
        if isinstance(got, Failure):
            return with_partial(got, [], "feature image upload: ")
        url = got.json()["images"][0]["url"]
        ctx.journal.put("media:0", url)
        return url

    def find(self, title: str, canonical_url: str | None) -> Found | None | Failure:
        got = self._read("/posts/", params={"limit": 25, "order": "created_at desc",
                                            "fields": "id,title,url,canonical_url,status"})
        if isinstance(got, Failure):
            return got
        for made in got.json().get("posts") or []:
            if made.get("title") == title and (not canonical_url or made.get("canonical_url") == canonical_url):
                return Found(str(made["id"]), made.get("url"), {"status": made.get("status")})
        return None

    def reconcile(self, post: Post, ctx: DeliveryContext) -> Receipt | None:
        data = post.data or {}
        title = data.get("title") or post.title
        return read_back(self.name, ctx, [title], lambda t: self.find(t, data.get("canonical_url")))

    # -- after publishing -------------------------------------------------------------------------
    def edit(self, post: Post, receipt: Receipt, ctx: DeliveryContext) -> Receipt | Failure:
        """The post's content, title, tags and excerpt replaced in place. Ghost needs the ``updated_at`` it
        holds (an edit of an older copy is refused with 409 UpdateCollisionError), so it is read first;
        the status, the newsletter and the feature image stay as they are."""
        fields, query = self.article(post, ctx, None)
        for key in ("status", "published_at"):
            fields.pop(key, None)
        query.pop("newsletter", None)
        query.pop("email_segment", None)
        if ctx.dry_run:
            return receipt
        got = self._read(f"/posts/{receipt.remote_id}/", params={"fields": "id,updated_at"}, attempts=1)
        if isinstance(got, Failure):
            return got
        fields["updated_at"] = got.json()["posts"][0]["updated_at"]
        got = self._call("PUT", f"/posts/{receipt.remote_id}/", params=query, json={"posts": [fields]})
        if isinstance(got, Failure):
            return got
        made = got.json()["posts"][0]
        return Receipt(remote_id=receipt.remote_id, url=made.get("url") or receipt.url, at=ctx.now,
                       parts=receipt.parts, data={**receipt.data, "edited": True})

    def delete(self, receipt: Receipt, ctx: DeliveryContext) -> Removal | Failure:
        if ctx.dry_run:
            return Removal(at=ctx.now)
        got = self._call("DELETE", f"/posts/{receipt.remote_id}/")
        if isinstance(got, Failure):
            if got.status == 404:
                return Removal(at=ctx.now, already=True, data={"note": got.message})
            return got
        return Removal(at=ctx.now)

    # -- engagement ---------------------------------------------------------------------------
    def fetch_metrics(self, receipts: list[Receipt]) -> dict[str, dict[str, int]]:
        """Email opens and link clicks (members'), for posts sent as a newsletter; 50 posts a request."""
        ids = list(dict.fromkeys(r.remote_id for r in receipts))
        out: dict[str, dict[str, int]] = {}
        for chunk in chunks(ids, self.METRICS_BATCH):
            got = self._read("/posts/", params={"filter": f"id:[{','.join(chunk)}]", "include": "email,count.clicks",
                                                "limit": len(chunk), "fields": "id"})
            if isinstance(got, Failure):
                raise MetricsError(f"{self.name}: {got.message}")
            for made in got.json().get("posts") or []:
                email = made.get("email") or {}
                counts = {"clicks": int((made.get("count") or {}).get("clicks") or 0)}
                if email:
                    counts["opens"] = int(email.get("opened_count") or 0)
                out[str(made["id"])] = counts
        return out

    # -- credentials --------------------------------------------------------------------------
    def verify(self) -> dict | Failure:
        """``GET /posts/?limit=1`` needs the key (``/site/`` does not: it only names the site)."""
        got = self._read("/posts/", params={"limit": 1, "fields": "id"}, attempts=1)
        if isinstance(got, Failure):
            return got
        site = self._read("/site/", attempts=1)
        title = "" if isinstance(site, Failure) else (site.json().get("site") or {}).get("title", "")
        return {"account": title or None}
