"""The WordPress REST API on loopback (developer.wordpress.org/rest-api): application passwords over
HTTP Basic; ``/wp-json/wp/v2/posts`` (POST 201, GET with ``context=edit``, ``status`` lists,
``search``), ``/tags`` and ``/categories`` (``search``; POST 201, 400 ``term_exists`` with
``data.term_id``), ``/media`` (multipart ``file`` + ``alt_text``), ``/comments`` (``post[]``,
``per_page`` ≤ 100, ``X-WP-Total`` / ``X-WP-TotalPages``), ``/users/me``. Errors are
``{"code", "message", "data": {"status"}}``."""
from __future__ import annotations

import base64
import itertools

from .base import Answer, Seen, Server, multipart

USER = "editor"
APP_PASSWORD = "abcd EFGH ijkl MNOP qrst UVWX"


def wp_error(status: int, code: str, message: str, **data) -> Answer:
    return Answer(status, {"code": code, "message": message, "data": {"status": status, **data}})


class WordPressServer(Server):
    routes = [
        ("POST", r"/wp-json/wp/v2/posts", "create"),
        ("GET", r"/wp-json/wp/v2/posts", "browse"),
        ("GET", r"/wp-json/wp/v2/(?P<taxonomy>tags|categories)", "list_terms"),
        ("POST", r"/wp-json/wp/v2/(?P<taxonomy>tags|categories)", "new_term"),
        ("POST", r"/wp-json/wp/v2/media", "upload"),
        ("GET", r"/wp-json/wp/v2/comments", "comments"),
        ("GET", r"/wp-json/wp/v2/users/me", "me"),
        ("POST", r"/wp-json/wp/v2/posts/(?P<pid>\d+)", "update"),
        ("DELETE", r"/wp-json/wp/v2/posts/(?P<pid>\d+)", "trash"),
    ]

    def __init__(self, password: str = APP_PASSWORD):
        super().__init__()
        self.password = password
        self.posts: list[dict] = []
        self.terms: dict[str, list[dict]] = {"tags": [], "categories": [{"id": 1, "name": "Uncategorized"}]}
        self.media: dict[int, dict] = {}
        self.comment_list: list[dict] = []
        self.ids = itertools.count(101)

    def error(self, status, message):
        return wp_error(status, "rest_no_route" if status == 404 else "internal_server_error", message)

    def _auth(self, seen: Seen) -> Answer | None:
        header = seen.headers.get("authorization", "")
        if not header.startswith("Basic "):
            return wp_error(401, "rest_not_logged_in", "You are not currently logged in.")
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        if user != USER:
            return wp_error(401, "invalid_username", "Unknown username. Check again or try your email address.")
        if password.replace(" ", "") != self.password.replace(" ", ""):
            return wp_error(401, "incorrect_password", "The provided password is an invalid application password.")
        return None

    def create(self, seen: Seen):
        if (denied := self._auth(seen)):
            return denied
        body = seen.json or {}
        if body.get("status") not in (None, "publish", "future", "draft", "pending", "private"):
            return wp_error(400, "rest_invalid_param", "Invalid parameter(s): status", params={"status": "status is not one of publish, future, draft, pending, private, trash, auto-draft, inherit, request-pending, request-confirmed, request-failed, request-completed."})
        if not body.get("title") and not body.get("content"):
            return wp_error(400, "empty_content", "Content, title, and excerpt are empty.")
        for taxonomy in ("tags", "categories"):
            known = {t["id"] for t in self.terms[taxonomy]}
            if any(i not in known for i in body.get(taxonomy) or []):
                return wp_error(400, "rest_invalid_param", f"Invalid parameter(s): {taxonomy}")
        if body.get("featured_media") and body["featured_media"] not in self.media:
            return wp_error(400, "rest_invalid_featured_media", "Invalid featured media ID.")
        pid = next(self.ids)
        status = body.get("status", "draft")
        slug = str(body.get("title", "")).lower().replace(" ", "-")
        made = {"id": pid, "date_gmt": body.get("date_gmt") or "2026-11-23T09:00:00", "status": status,
                "link": f"https://blog.test/{slug}/" if status == "publish" else f"https://blog.test/?p={pid}",
                "title": {"raw": body.get("title", ""), "rendered": body.get("title", "").replace("&", "&#038;")},
                "content": {"raw": body.get("content", ""), "rendered": body.get("content", "")},
                "excerpt": {"raw": body.get("excerpt", "")}, "tags": body.get("tags", []),
                "categories": body.get("categories", [1]), "featured_media": body.get("featured_media", 0),
                "author": 7}
        self.posts.append(made)
        return Answer(201, made)

    def browse(self, seen: Seen):
        if (denied := self._auth(seen)):
            return denied
        statuses = ((seen.query.get("status") or ["publish"])[0]).split(",")
        search = (seen.query.get("search") or [""])[0].lower()
        found = [p for p in self.posts[::-1] if p["status"] in statuses and search in p["title"]["raw"].lower()]
        per_page = int((seen.query.get("per_page") or ["10"])[0])
        out = []
        for p in found[:per_page]:
            item = dict(p)
            if (seen.query.get("context") or ["view"])[0] != "edit":
                item["title"] = {"rendered": p["title"]["rendered"]}
            out.append(item)
        return Answer(200, out, {"X-WP-Total": str(len(found)), "X-WP-TotalPages": "1"})

    def list_terms(self, seen: Seen, taxonomy):
        if (denied := self._auth(seen)):
            return denied
        search = (seen.query.get("search") or [""])[0].lower()
        return Answer(200, [t for t in self.terms[taxonomy] if search in t["name"].lower()])

    def new_term(self, seen: Seen, taxonomy):
        if (denied := self._auth(seen)):
            return denied
        name = (seen.json or {}).get("name", "")
        for t in self.terms[taxonomy]:
            if t["name"].lower() == name.lower():
                return wp_error(400, "term_exists", "A term with the name provided already exists in this taxonomy.",
                                term_id=t["id"])
        term = {"id": next(self.ids), "name": name, "slug": name.lower()}
        self.terms[taxonomy].append(term)
        return Answer(201, term)

    def upload(self, seen: Seen):
        if (denied := self._auth(seen)):
            return denied
        parts = multipart(seen)
        name, data, mime = parts.get("file", (None, b"", ""))
        if not data:
            return wp_error(400, "rest_upload_no_data", "No data supplied.")
        mid = next(self.ids)
        self.media[mid] = {"id": mid, "data": data, "alt_text": parts.get("alt_text", (None, b"", ""))[1].decode(),
                           "source_url": f"https://blog.test/wp-content/uploads/2026/11/{name}", "mime_type": mime}
        return Answer(201, {k: v for k, v in self.media[mid].items() if k != "data"})

    def comments(self, seen: Seen):
        wanted = {int(i) for i in seen.query.get("post[]", []) + seen.query.get("post", [])}
        per_page = int((seen.query.get("per_page") or ["10"])[0])
        if per_page > 100:
            return wp_error(400, "rest_invalid_param", "Invalid parameter(s): per_page",
                            params={"per_page": "per_page must be between 1 (inclusive) and 100 (inclusive)"})
        page = int((seen.query.get("page") or ["1"])[0])
        found = [c for c in self.comment_list if not wanted or c["post"] in wanted]
        pages = max(1, -(-len(found) // per_page))
        return Answer(200, found[(page - 1) * per_page: page * per_page],
                      {"X-WP-Total": str(len(found)), "X-WP-TotalPages": str(pages)})

    def me(self, seen: Seen):
        if (denied := self._auth(seen)):
            return denied
        return Answer(200, {"id": 7, "name": "Ana Editor", "username": USER, "roles": ["editor"]})

    def _one(self, pid):
        return next((p for p in self.posts if p["id"] == int(pid)), None)

    def update(self, seen: Seen, pid):
        if (denied := self._auth(seen)):
            return denied
        post = self._one(pid)
        if post is None:
            return wp_error(404, "rest_post_invalid_id", "Invalid post ID.")
        body = seen.json or {}
        if "title" in body:
            post["title"] = {"raw": body["title"], "rendered": body["title"]}
        if "content" in body:
            post["content"] = {"raw": body["content"], "rendered": body["content"]}
        return Answer(200, post)

    def trash(self, seen: Seen, pid):
        """``DELETE /posts/{id}`` moves a post to the trash; again: 410 ``rest_already_trashed``."""
        if (denied := self._auth(seen)):
            return denied
        post = self._one(pid)
        if post is None:
            return wp_error(404, "rest_post_invalid_id", "Invalid post ID.")
        if post["status"] == "trash":
            return wp_error(410, "rest_already_trashed", "The post has already been deleted.")
        post["status"] = "trash"
        return Answer(200, post)
