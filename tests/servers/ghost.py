"""The Ghost Admin API on loopback (ghost.org/docs/admin-api), checking the JWT as Ghost does
(``core/server/services/auth/api-key/admin.js``: HS256 with the hex secret of the key named by
``kid``, ``aud`` ``/admin/``, ``exp`` at most 5 minutes after ``iat``):

- ``POST /ghost/api/admin/posts/`` (``?source=html`` for ``html``, else ``lexical``; ``?newsletter=``,
  ``email_segment``) → 201 ``{"posts": [post]}``; 422 ValidationError for a blank title or a schedule
  in the past;
- ``GET /ghost/api/admin/posts/`` (``limit``, ``filter=id:[…]``, ``include=email,count.clicks``),
  ``POST /ghost/api/admin/images/upload/`` (multipart ``file``), ``GET /ghost/api/admin/site/``;
- errors ``{"errors": [{"message", "context", "type", …}]}``: 401 UnauthorizedError for a bad token.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import time

from .base import Answer, Seen, Server, multipart

KEY_ID = "6489a5b3c1e2f3a4b5c6d7e8"
KEY_SECRET = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"
KEY = f"{KEY_ID}:{KEY_SECRET}"


def ghost_error(status: int, type_: str, message: str, context: str | None = None) -> Answer:
    return Answer(status, {"errors": [{"message": message, "context": context, "type": type_, "details": None,
                                       "property": None, "help": None, "code": None,
                                       "id": "e6b5f1a0-8d2c-11ef-9c3b-0242ac120002", "ghostErrorCode": None}]})


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class GhostServer(Server):
    routes = [
        ("POST", r"/ghost/api/admin/posts/", "create"),
        ("GET", r"/ghost/api/admin/posts/", "browse"),
        ("POST", r"/ghost/api/admin/images/upload/", "upload"),
        ("GET", r"/ghost/api/admin/site/", "site"),
        ("GET", r"/ghost/api/admin/posts/(?P<pid>[0-9a-f]+)/", "read_one"),
        ("PUT", r"/ghost/api/admin/posts/(?P<pid>[0-9a-f]+)/", "update"),
        ("DELETE", r"/ghost/api/admin/posts/(?P<pid>[0-9a-f]+)/", "remove"),
    ]

    def __init__(self, keys: dict[str, str] | None = None):
        super().__init__()
        self.keys = dict(keys or {KEY_ID: KEY_SECRET})
        self.posts: list[dict] = []
        self.images: dict[str, bytes] = {}
        self.stats: dict[str, dict] = {}
        self.sent_emails: list[tuple[str, str, str]] = []  # (post id, newsletter, segment)
        self.ids = itertools.count(1)
        self.now = time.time

    def error(self, status, message):
        return ghost_error(status, "NotFoundError" if status == 404 else "InternalServerError", message)

    def _auth(self, seen: Seen) -> Answer | None:
        scheme, _, token = (seen.headers.get("authorization") or "").partition(" ")
        if scheme != "Ghost" or token.count(".") != 2:
            return ghost_error(401, "UnauthorizedError", "Authorization header format is \"Authorization: Ghost [token]\"")
        head, body, sig = token.split(".")
        try:
            header, payload = json.loads(_unb64(head)), json.loads(_unb64(body))
        except ValueError:
            return ghost_error(401, "BadRequestError", "Invalid JSON Web Token")
        secret = self.keys.get(header.get("kid", ""))
        if secret is None:
            return ghost_error(401, "UnauthorizedError", "Unknown Admin API Key")
        expected = hmac.new(bytes.fromhex(secret), f"{head}.{body}".encode(), hashlib.sha256).digest()
        if header.get("alg") != "HS256" or not hmac.compare_digest(expected, _unb64(sig)):
            return ghost_error(401, "UnauthorizedError", "Invalid token: invalid signature")
        if payload.get("aud") != "/admin/":
            return ghost_error(401, "UnauthorizedError", "Invalid token: jwt audience invalid. expected: /admin/")
        now = self.now()
        if payload.get("exp", 0) - payload.get("iat", 0) > 300:
            return ghost_error(401, "UnauthorizedError", "Invalid token: Token expiry must be under 5 minutes")
        if payload.get("exp", 0) < now:
            return ghost_error(401, "UnauthorizedError", "Invalid token: jwt expired")
        if seen.headers.get("accept-version", "").split(".")[0] != "v5":
            return ghost_error(400, "RequestNotAcceptableError", "Accept-Version header must be v5.x")
        return None

    def create(self, seen: Seen):
        if (denied := self._auth(seen)):
            return denied
        fields = ((seen.json or {}).get("posts") or [{}])[0]
        if not fields.get("title"):
            return ghost_error(422, "ValidationError", "Validation error, cannot save post.",
                               "Value in [posts.title] cannot be blank.")
        source = (seen.query.get("source") or [""])[0]
        if source == "html":
            content = fields.get("html", "")
        else:
            lexical = json.loads(fields.get("lexical") or "{}")
            content = "".join(c.get("html", "") for c in (lexical.get("root") or {}).get("children", []))
        status = fields.get("status", "draft")
        if status == "scheduled" and not fields.get("published_at"):
            return ghost_error(422, "ValidationError", "Validation error, cannot save post.",
                               "Date cannot be blank when status is scheduled.")
        pid = f"6749d{next(self.ids):019x}"
        slug = fields["title"].lower().replace(" ", "-")
        made = {"id": pid, "uuid": f"uuid-{pid}", "title": fields["title"], "slug": slug, "html": content,
                "status": status, "url": f"https://blog.test/{slug}/" if status == "published" else
                f"https://blog.test/p/uuid-{pid}/", "canonical_url": fields.get("canonical_url"),
                "feature_image": fields.get("feature_image"), "feature_image_alt": fields.get("feature_image_alt"),
                "tags": [{"name": t["name"] if isinstance(t, dict) else t, "slug": (t["name"] if isinstance(t, dict) else t).lower()}
                         for t in fields.get("tags") or []],
                "published_at": fields.get("published_at"), "custom_excerpt": fields.get("custom_excerpt"),
                "lexical": fields.get("lexical"), "updated_at": "2026-11-23T09:00:00.000Z"}
        newsletter = (seen.query.get("newsletter") or [None])[0]
        if newsletter:
            if status == "draft":
                return ghost_error(422, "ValidationError", "Validation error, cannot save post.",
                                   "A post can only be emailed when it is published or scheduled.")
            self.sent_emails.append((pid, newsletter, (seen.query.get("email_segment") or ["all"])[0]))
        self.posts.append(made)
        return Answer(201, {"posts": [made]})

    def browse(self, seen: Seen):
        if (denied := self._auth(seen)):
            return denied
        posts = self.posts[::-1]
        flt = (seen.query.get("filter") or [""])[0]
        if flt.startswith("id:["):
            wanted = set(flt[4:-1].split(","))
            posts = [p for p in posts if p["id"] in wanted]
        include = (seen.query.get("include") or [""])[0].split(",")
        limit = int((seen.query.get("limit") or ["15"])[0])
        out = []
        for p in posts[:limit]:
            item = dict(p)
            stats = self.stats.get(p["id"], {})
            if "email" in include:
                item["email"] = ({"email_count": stats["sent"], "delivered_count": stats["sent"],
                                  "opened_count": stats.get("opened", 0), "failed_count": 0}
                                 if "sent" in stats else None)
            if "count.clicks" in include:
                item["count"] = {"clicks": stats.get("clicks", 0)}
            out.append(item)
        return Answer(200, {"posts": out, "meta": {"pagination": {"page": 1, "limit": limit, "pages": 1,
                                                                  "total": len(posts), "next": None, "prev": None}}})

    def upload(self, seen: Seen):
        if (denied := self._auth(seen)):
            return denied
        parts = multipart(seen)
        name, data, _ = parts.get("file", (None, b"", ""))
        if not data:
            return ghost_error(422, "ValidationError", "Please select an image.")
        url = f"https://blog.test/content/images/2026/11/{name}"
        self.images[url] = data
        return Answer(201, {"images": [{"url": url, "ref": None}]})

    def site(self, seen: Seen):
        return Answer(200, {"site": {"title": "Northwind Blog", "url": "https://blog.test/", "version": "5.101"}})

    def _one(self, pid):
        return next((p for p in self.posts if p["id"] == pid), None)

    def read_one(self, seen: Seen, pid):
        if (denied := self._auth(seen)):
            return denied
        post = self._one(pid)
        if post is None:
            return ghost_error(404, "NotFoundError", "Post not found.")
        return Answer(200, {"posts": [post]})

    def update(self, seen: Seen, pid):
        """``PUT /posts/{id}/``: ``updated_at`` must be the one Ghost holds (else 409 UpdateCollisionError)."""
        if (denied := self._auth(seen)):
            return denied
        post = self._one(pid)
        if post is None:
            return ghost_error(404, "NotFoundError", "Post not found.")
        fields = ((seen.json or {}).get("posts") or [{}])[0]
        if fields.get("updated_at") != post["updated_at"]:
            return ghost_error(409, "UpdateCollisionError", "Saving failed! Someone else is editing this post.")
        if "html" in fields:
            post["html"] = fields["html"]
        for key in ("title", "custom_excerpt", "canonical_url"):
            if key in fields:
                post[key] = fields[key]
        post["updated_at"] = f"2026-11-23T10:{len(self.seen) % 60:02d}:00.000Z"
        return Answer(200, {"posts": [post]})

    def remove(self, seen: Seen, pid):
        if (denied := self._auth(seen)):
            return denied
        post = self._one(pid)
        if post is None:
            return ghost_error(404, "NotFoundError", "Resource not found error, cannot delete post.")
        self.posts.remove(post)
        return Answer(204, None)
