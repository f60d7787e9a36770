"""A Bluesky PDS on loopback (XRPC), after the lexicons in bluesky-social/atproto and the PDS:

- ``com.atproto.server.createSession`` / ``refreshSession``: tokens; an expired access token is
  answered 400 ``{"error": "ExpiredToken", "message": "Token has expired"}``; bad password 401
  ``AuthenticationRequired`` "Invalid identifier or password".
- ``com.atproto.repo.createRecord``: a record key already used → **500**
  ``{"error": "InternalServerError", "message": "Internal Server Error"}`` (the MST's "There is
  already a value at key" is a plain Error, which xrpc-server reports as a 500 without details).
  Records are checked here beyond what a PDS does: every facet's UTF-8 byte range must cover exactly
  the link, ``@handle`` or ``#tag`` it claims (400 ``InvalidRequest`` otherwise), so wrong offsets fail.
- ``com.atproto.repo.getRecord`` (400 ``RecordNotFound``), ``uploadBlob``, ``identity.resolveHandle``.
- ``app.bsky.feed.getPosts`` (``uris`` ≤ 25, else 400 ``InvalidRequest``), ``getPostThread``.
- ``RateLimit-Limit/-Remaining/-Reset`` (epoch seconds) on each answer; 429 ``RateLimitExceeded``.
- ``com.atproto.repo.deleteRecord`` → ``{"commit": {cid, rev}}``; a record that is not there: 200 ``{}``
  (a no-op); another account's repo: 401 ``AuthenticationRequired`` (the PDS's ``deleteRecord.ts``).
"""
from __future__ import annotations

import hashlib
import itertools

from .base import Answer, Seen, Server

DID = "did:plc:newsroom000000000000000"
HANDLE = "newsroom.bsky.social"
PEOPLE = {"ana.bsky.social": "did:plc:ana00000000000000000000", HANDLE: DID}


class BlueskyServer(Server):
    routes = [
        ("POST", r"/xrpc/com\.atproto\.server\.createSession", "create_session"),
        ("POST", r"/xrpc/com\.atproto\.server\.refreshSession", "refresh_session"),
        ("POST", r"/xrpc/com\.atproto\.repo\.createRecord", "create_record"),
        ("POST", r"/xrpc/com\.atproto\.repo\.deleteRecord", "delete_record"),
        ("GET", r"/xrpc/com\.atproto\.repo\.getRecord", "get_record"),
        ("POST", r"/xrpc/com\.atproto\.repo\.uploadBlob", "upload_blob"),
        ("GET", r"/xrpc/com\.atproto\.identity\.resolveHandle", "resolve_handle"),
        ("GET", r"/xrpc/app\.bsky\.feed\.getPosts", "get_posts"),
        ("GET", r"/xrpc/app\.bsky\.feed\.getPostThread", "get_thread"),
    ]

    def __init__(self, password: str = "app-pass-word", limit: int = 3000):
        super().__init__()
        self.password = password
        self.records: dict[str, dict] = {}  # uri → {"uri", "cid", "value", "author"}
        self.counts: dict[str, dict] = {}
        self.blobs: dict[str, bytes] = {}
        self.tokens = itertools.count(1)
        self.access: set[str] = set()
        self.refresh_tokens: set[str] = set()
        self.limit = limit
        self.remaining = limit
        self.reset = 1_900_000_000

    def rate_headers(self):
        return {"RateLimit-Limit": self.limit, "RateLimit-Remaining": max(self.remaining, 0),
                "RateLimit-Reset": self.reset, "RateLimit-Policy": f"{self.limit};w=300"}

    def error(self, status, message):
        return Answer(status, {"error": "MethodNotImplemented" if status == 404 else "InvalidRequest", "message": message})

    def _xerr(self, status, name, message=None):
        return Answer(status, {"error": name, "message": message or name})

    def _auth(self, seen: Seen) -> Answer | None:
        token = (seen.headers.get("authorization") or "").removeprefix("Bearer ")
        if token not in self.access:
            if token.startswith("access-"):
                return self._xerr(400, "ExpiredToken", "Token has expired")
            return self._xerr(401, "AuthenticationRequired", "Authentication Required")
        with self.lock:
            self.remaining -= 1
            if self.remaining < 0:
                return self._xerr(429, "RateLimitExceeded", "Rate Limit Exceeded")
        return None

    def expire_access(self):
        self.access.clear()

    def _session(self):
        n = next(self.tokens)
        access, refresh = f"access-{n}", f"refresh-{n}"
        self.access.add(access)
        self.refresh_tokens.add(refresh)
        return {"accessJwt": access, "refreshJwt": refresh, "handle": HANDLE, "did": DID, "active": True}

    def add_post(self, text="hello", *, author=(DID, HANDLE), reply_to: str | None = None, **counts) -> str:
        n = len(self.records) + 1
        rkey = f"3l{n:011d}"
        uri = f"at://{author[0]}/app.bsky.feed.post/{rkey}"
        value = {"$type": "app.bsky.feed.post", "text": text, "createdAt": "2026-11-23T10:00:00.000Z"}
        if reply_to:
            parent = self.records[reply_to]
            value["reply"] = {"root": (parent["value"].get("reply") or {}).get("root") or {"uri": reply_to, "cid": parent["cid"]},
                              "parent": {"uri": reply_to, "cid": parent["cid"]}}
        self.records[uri] = {"uri": uri, "cid": "bafy" + hashlib.sha256(uri.encode()).hexdigest()[:20],
                             "value": value, "author": author}
        self.counts[uri] = {"likeCount": counts.get("likes", 0), "repostCount": counts.get("reposts", 0),
                            "replyCount": counts.get("replies", 0), "quoteCount": counts.get("quotes", 0),
                            "bookmarkCount": counts.get("bookmarks", 0)}
        return uri

    # -- routes -------------------------------------------------------------------------------
    def create_session(self, seen: Seen):
        body = seen.json or {}
        if body.get("identifier") not in (HANDLE, DID) or body.get("password") != self.password:
            return self._xerr(401, "AuthenticationRequired", "Invalid identifier or password")
        return Answer(200, self._session())

    def refresh_session(self, seen: Seen):
        token = (seen.headers.get("authorization") or "").removeprefix("Bearer ")
        if token not in self.refresh_tokens:
            return self._xerr(400, "ExpiredToken", "Token has expired")
        self.refresh_tokens.discard(token)
        return Answer(200, self._session())

    def create_record(self, seen: Seen):
        if (denied := self._auth(seen)):
            return denied
        body = seen.json
        record = body.get("record") or {}
        if body.get("repo") not in (DID, HANDLE) or body.get("collection") != "app.bsky.feed.post":
            return self._xerr(400, "InvalidRequest", "Could not find repo")
        if not record.get("createdAt") or "text" not in record:
            return self._xerr(400, "InvalidRequest", 'Invalid app.bsky.feed.post record: Record must have the property "createdAt"')
        problem = check_facets(record)
        if problem:
            return self._xerr(400, "InvalidRequest", problem)
        rkey = body.get("rkey") or f"3m{len(self.records):011d}"
        uri = f"at://{DID}/app.bsky.feed.post/{rkey}"
        with self.lock:
            if uri in self.records:
                return self._xerr(500, "InternalServerError", "Internal Server Error")
            cid = "bafy" + hashlib.sha256(repr(record).encode()).hexdigest()[:20]
            self.records[uri] = {"uri": uri, "cid": cid, "value": record, "author": (DID, HANDLE)}
            self.counts[uri] = {"likeCount": 0, "repostCount": 0, "replyCount": 0, "quoteCount": 0, "bookmarkCount": 0}
        return Answer(200, {"uri": uri, "cid": cid, "commit": {"cid": "bafycommit", "rev": "3l000"},
                            "validationStatus": "valid"})

    def delete_record(self, seen: Seen):
        if (denied := self._auth(seen)):
            return denied
        body = seen.json or {}
        if body.get("repo") not in (DID, HANDLE):
            if body.get("repo", "").startswith("did:"):
                return self._xerr(401, "AuthenticationRequired", "Authentication Required")
            return self._xerr(400, "InvalidRequest", f"Could not find repo: {body.get('repo')}")
        uri = f"at://{DID}/{body.get('collection')}/{body.get('rkey')}"
        with self.lock:
            if uri not in self.records:
                return Answer(200, {})  # "No-op if record already doesn't exist"
            del self.records[uri]
            self.deleted = getattr(self, "deleted", []) + [uri]
        return Answer(200, {"commit": {"cid": "bafycommit2", "rev": "3l001"}})

    def get_record(self, seen: Seen):
        q = {k: v[0] for k, v in seen.query.items()}
        uri = f"at://{DID}/{q.get('collection')}/{q.get('rkey')}"
        if uri not in self.records:
            return self._xerr(400, "RecordNotFound", f"Could not locate record: {uri}")
        rec = self.records[uri]
        return Answer(200, {"uri": uri, "cid": rec["cid"], "value": rec["value"]})

    def upload_blob(self, seen: Seen):
        if (denied := self._auth(seen)):
            return denied
        cid = "bafkrei" + hashlib.sha256(seen.body).hexdigest()[:24]
        self.blobs[cid] = seen.body
        return Answer(200, {"blob": {"$type": "blob", "ref": {"$link": cid},
                                     "mimeType": seen.headers.get("content-type"), "size": len(seen.body)}})

    def resolve_handle(self, seen: Seen):
        handle = seen.query.get("handle", [""])[0]
        if handle not in PEOPLE:
            return self._xerr(400, "InvalidRequest", "Unable to resolve handle")
        return Answer(200, {"did": PEOPLE[handle]})

    def _view(self, uri):
        rec = self.records[uri]
        did, handle = rec["author"]
        return {"uri": uri, "cid": rec["cid"], "author": {"did": did, "handle": handle}, "record": rec["value"],
                "indexedAt": rec["value"]["createdAt"], **self.counts[uri]}

    def get_posts(self, seen: Seen):
        if (denied := self._auth(seen)):
            return denied
        uris = seen.query.get("uris", [])
        if len(uris) > 25:
            return self._xerr(400, "InvalidRequest", "uris must not have more than 25 elements")
        return Answer(200, {"posts": [self._view(u) for u in uris if u in self.records]})

    def get_thread(self, seen: Seen):
        if (denied := self._auth(seen)):
            return denied
        uri = seen.query.get("uri", [""])[0]
        if uri not in self.records:
            return self._xerr(400, "NotFound", f"Post not found: {uri}")

        def node(u):
            children = [r for r, rec in self.records.items()
                        if ((rec["value"].get("reply") or {}).get("parent") or {}).get("uri") == u]
            return {"$type": "app.bsky.feed.defs#threadViewPost", "post": self._view(u),
                    "replies": [node(c) for c in children]}

        return Answer(200, {"thread": node(uri)})


def check_facets(record: dict) -> str | None:
    """Each facet's byte range must hold exactly what its feature says (UTF-8 bytes, end exclusive)."""
    text = record.get("text", "").encode("utf-8")
    handles = {did: handle for handle, did in PEOPLE.items()}
    for facet in record.get("facets") or []:
        index = facet.get("index") or {}
        start, end = index.get("byteStart"), index.get("byteEnd")
        if not isinstance(start, int) or not isinstance(end, int) or not 0 <= start < end <= len(text):
            return f"Invalid facet index: {index}"
        span = text[start:end].decode("utf-8", errors="strict") if _whole(text, start, end) else None
        for feature in facet.get("features") or []:
            kind = feature.get("$type", "")
            expected = {"app.bsky.richtext.facet#link": feature.get("uri"),
                        "app.bsky.richtext.facet#mention": "@" + handles.get(feature.get("did"), "?"),
                        "app.bsky.richtext.facet#tag": "#" + str(feature.get("tag"))}.get(kind)
            if expected is None or span != expected:
                return f"Invalid facet: bytes {start}-{end} hold {span!r}, not {expected!r}"
    return None


def _whole(text: bytes, start: int, end: int) -> bool:
    try:
        text[start:end].decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False
