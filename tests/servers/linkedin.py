"""The LinkedIn REST API on loopback (Posts, Images, organization share statistics):

- every call needs ``LinkedIn-Version`` (else 426 ``VERSION_MISSING``-style error) and
  ``X-Restli-Protocol-Version: 2.0.0``;
- ``POST /rest/posts`` → 201, empty body, the URN in ``x-restli-id``; 422 with the field problems;
- ``POST /rest/images?action=initializeUpload`` → ``{"value": {"uploadUrl", "image"}}``, ``PUT`` upload;
- ``GET /rest/posts?q=author&author=`` → ``{"elements": [...]}``;
- ``GET /rest/organizationalEntityShareStatistics?q=organizationalEntity&…&shares=List(…)``;
- ``POST /rest/posts/{encoded URN}`` with ``X-RestLi-Method: PARTIAL_UPDATE`` and
  ``{"patch": {"$set": {"commentary"}}}`` → 204 (only commentary and a few ad fields; others 422);
  ``DELETE /rest/posts/{encoded URN}`` → 204, again 204 for a post already deleted ("post deletions
  are idempotent"); 404 for a post that never was; 403 ``ACCESS_DENIED`` for another author's post
  (learn.microsoft.com/linkedin/marketing/community-management/shares/posts-api: Update, Delete).
"""
from __future__ import annotations

import itertools
import re
from urllib.parse import unquote

from .base import Answer, Seen, Server


class LinkedInServer(Server):
    routes = [
        ("POST", r"/rest/posts", "create"),
        ("GET", r"/rest/posts", "by_author"),
        ("POST", r"/rest/images", "init_upload"),
        ("PUT", r"/upload/(?P<image>\d+)", "upload"),
        ("GET", r"/rest/organizationalEntityShareStatistics", "stats"),
        ("POST", r"/rest/posts/(?P<urn>[^/]+)", "update"),
        ("DELETE", r"/rest/posts/(?P<urn>[^/]+)", "delete"),
    ]
    #: the member the token belongs to (another author's posts answer 403)
    member = "urn:li:organization:2414183"

    def __init__(self, token="li-token"):
        super().__init__()
        self.token = token
        self.posts: list[dict] = []
        self.images: dict[str, bytes | None] = {}
        self.ids = itertools.count(7300000000000000001)
        self.statistics: dict[str, dict] = {}
        self.deleted: list[str] = []

    def error(self, status, message):
        return Answer(status, {"status": status, "message": message})

    def _auth(self, seen: Seen):
        if seen.headers.get("authorization") != f"Bearer {self.token}":
            return Answer(401, {"status": 401, "serviceErrorCode": 65600, "code": "INVALID_ACCESS_TOKEN",
                                "message": "Invalid access token"})
        if not re.fullmatch(r"\d{6}", seen.headers.get("linkedin-version", "")):
            return Answer(400, {"status": 400, "code": "VERSION_MISSING",
                                "message": "A version must be present. Please specify a version by adding the LinkedIn-Version header."})
        if seen.headers.get("x-restli-protocol-version") != "2.0.0":
            return self.error(400, "Rest.li protocol 2.0.0 is required")
        return None

    def create(self, seen: Seen):
        if (denied := self._auth(seen)):
            return denied
        body = seen.json or {}
        missing = [k for k in ("author", "commentary", "visibility", "distribution", "lifecycleState") if k not in body]
        if missing:
            return Answer(422, {"status": 422, "message": "".join(
                f"ERROR :: /{k} :: field is required but not found and has no default value\n" for k in missing)})
        media = (body.get("content") or {}).get("media")
        if media and self.images.get(media["id"].rsplit(":", 1)[-1]) is None:
            return self.error(400, f"Image {media['id']} is not uploaded")
        urn = f"urn:li:share:{next(self.ids)}"
        self.posts.append({"id": urn, **body})
        return Answer(201, None, {"x-restli-id": urn, "Location": f"/rest/posts/{urn}"})

    def _target(self, seen: Seen, urn: str, method: str):
        urn = unquote(urn)
        if urn in self.deleted and method == "delete":
            return None, Answer(204, None)
        found = next((p for p in self.posts if p["id"] == urn), None)
        if found is None:
            return None, self.error(404, f"Not Found: {urn}")
        if found["author"] != self.member:
            return None, Answer(403, {"status": 403, "serviceErrorCode": 100, "code": "ACCESS_DENIED",
                                      "message": f"Not enough permissions to access: {method} /posts/{urn}"})
        return found, None

    def update(self, seen: Seen, urn: str):
        if (denied := self._auth(seen)):
            return denied
        if seen.headers.get("x-restli-method") != "PARTIAL_UPDATE":
            return self.error(400, "X-RestLi-Method PARTIAL_UPDATE is required to update a post")
        found, answer = self._target(seen, urn, "partialUpdate")
        if answer is not None:
            return answer
        changes = ((seen.json or {}).get("patch") or {}).get("$set") or {}
        unknown = sorted(set(changes) - {"commentary", "contentCallToActionLabel", "contentLandingPage",
                                         "lifecycleState", "adContext"})
        if unknown:
            return Answer(422, {"status": 422, "message": f"ERROR :: /{unknown[0]} :: field cannot be updated"})
        found.update(changes)
        found.setdefault("_edits", []).append(changes.get("commentary"))
        return Answer(204, None)

    def delete(self, seen: Seen, urn: str):
        if (denied := self._auth(seen)):
            return denied
        if seen.headers.get("x-restli-method") != "DELETE":
            return self.error(400, "X-RestLi-Method DELETE is required")
        found, answer = self._target(seen, urn, "delete")
        if answer is not None:
            return answer
        self.posts.remove(found)
        self.deleted.append(found["id"])
        return Answer(204, None)

    def by_author(self, seen: Seen):
        if (denied := self._auth(seen)):
            return denied
        author = (seen.query.get("author") or [""])[0]
        count = int((seen.query.get("count") or ["10"])[0])
        mine = [p for p in self.posts if p["author"] == author][::-1][:count]
        return Answer(200, {"elements": mine, "paging": {"start": 0, "count": count, "links": []}})

    def init_upload(self, seen: Seen):
        if (denied := self._auth(seen)):
            return denied
        if seen.query.get("action") != ["initializeUpload"]:
            return self.error(400, "action is required")
        n = str(next(self.ids))
        self.images[n] = None
        return Answer(200, {"value": {"uploadUrlExpiresAt": 1795600000000, "uploadUrl": f"{self.url}/upload/{n}",
                                      "image": f"urn:li:image:{n}"}})

    def upload(self, seen: Seen, image: str):
        if image not in self.images:
            return self.error(404, "unknown upload")
        self.images[image] = seen.body
        return Answer(201, None)

    def stats(self, seen: Seen):
        if (denied := self._auth(seen)):
            return denied
        raw = seen.query
        urns = []
        for key in ("shares", "ugcPosts"):
            for value in raw.get(key, []):
                m = re.fullmatch(r"List\((.*)\)", value)
                if not m:
                    return self.error(400, f"Invalid {key} parameter")
                urns += [unquote(u) for u in m.group(1).split(",") if u]
        elements = [{"organizationalEntity": raw["organizationalEntity"][0],
                     ("share" if u.startswith("urn:li:share:") else "ugcPost"): u,
                     "totalShareStatistics": self.statistics.get(u, {"impressionCount": 0, "likeCount": 0,
                                                                     "shareCount": 0, "commentCount": 0, "clickCount": 0,
                                                                     "engagement": 0.0, "uniqueImpressionsCount": 0})}
                    for u in urns]
        return Answer(200, {"paging": {"count": 10, "start": 0, "links": []}, "elements": elements})
