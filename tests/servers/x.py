"""The X API v2 on loopback, after docs.x.com:

- ``POST /2/tweets`` → 201 ``{"data": {"id", "text"}}``; 403 duplicate content
  ``{"detail": "You are not allowed to create a Tweet with duplicate content.", "status": 403, "title":
  "Forbidden", "type": "about:blank"}``; 401 ``{"title": "Unauthorized", "detail": "Unauthorized",
  "status": 401}``.
- ``POST /2/media/upload`` (multipart) → ``{"data": {"id", "media_key", ...}}``; ``POST /2/media/metadata``.
- ``GET /2/users/me``, ``GET /2/users/:id/tweets``, ``GET /2/tweets?ids=`` (≤ 100, else 400) with
  ``public_metrics``; unknown ids reported under ``errors``.
- ``x-rate-limit-limit/-remaining/-reset`` (epoch seconds) on every answer; 429 when spent.
- ``DELETE /2/tweets/:id`` → 200 ``{"data": {"deleted": true}}``; another account's post: 403
  ``{"detail": "You are not allowed to delete this Tweet.", …}``; an unknown id: 200 with a
  ``resource-not-found`` problem under ``errors`` (v2 reports a missing resource so).
"""
from __future__ import annotations

import itertools

from .base import Answer, Seen, Server, multipart

ME = {"id": "1500000000000000001", "name": "Newsroom", "username": "newsroom"}


class XServer(Server):
    routes = [
        ("POST", r"/2/tweets", "create"),
        ("GET", r"/2/tweets", "lookup"),
        ("POST", r"/2/media/upload", "upload"),
        ("POST", r"/2/media/metadata", "metadata"),
        ("GET", r"/2/users/me", "me"),
        ("GET", r"/2/users/(?P<uid>\d+)/tweets", "timeline"),
        ("DELETE", r"/2/tweets/(?P<tid>\d+)", "delete"),
    ]

    def __init__(self, token="x-user-token", limit=900):
        super().__init__()
        self.token = token
        self.tweets: dict[str, dict] = {}
        self.media: dict[str, dict] = {}
        self.ids = itertools.count(1860000000000000001)
        self.limit, self.remaining, self.reset = limit, limit, 1_900_000_000

    def rate_headers(self):
        return {"x-rate-limit-limit": self.limit, "x-rate-limit-remaining": max(self.remaining, 0),
                "x-rate-limit-reset": self.reset}

    def error(self, status, message):
        return Answer(status, {"title": message, "detail": message, "type": "about:blank", "status": status})

    def _auth(self, seen: Seen):
        if seen.headers.get("authorization") != f"Bearer {self.token}":
            return Answer(401, {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"})
        with self.lock:
            self.remaining -= 1
            if self.remaining < 0:
                return Answer(429, {"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank",
                                    "status": 429})
        return None

    def add_tweet(self, text, **metrics):
        tid = str(next(self.ids))
        self.tweets[tid] = {"id": tid, "text": text, "public_metrics": {
            "retweet_count": metrics.get("retweets", 0), "reply_count": metrics.get("replies", 0),
            "like_count": metrics.get("likes", 0), "quote_count": metrics.get("quotes", 0),
            "bookmark_count": metrics.get("bookmarks", 0), "impression_count": metrics.get("impressions", 0)}}
        return tid

    def create(self, seen: Seen):
        if (denied := self._auth(seen)):
            return denied
        body = seen.json or {}
        text = body.get("text", "")
        if any(t["text"] == text for t in self.tweets.values()):
            return Answer(403, {"detail": "You are not allowed to create a Tweet with duplicate content.",
                                "type": "about:blank", "title": "Forbidden", "status": 403})
        reply_to = (body.get("reply") or {}).get("in_reply_to_tweet_id")
        if reply_to and reply_to not in self.tweets:
            return Answer(400, {"errors": [{"message": "Your Tweet's in_reply_to_tweet_id was not found"}],
                                "title": "Invalid Request", "detail": "One or more parameters to your request was invalid.",
                                "type": "https://api.twitter.com/2/problems/invalid-request"})
        for mid in (body.get("media") or {}).get("media_ids", []):
            if mid not in self.media:
                return self.error(400, f"media id {mid} is not known")
        tid = self.add_tweet(text)
        self.tweets[tid]["reply_to"] = reply_to
        self.tweets[tid]["media_ids"] = (body.get("media") or {}).get("media_ids", [])
        return Answer(201, {"data": {"id": tid, "text": text, "edit_history_tweet_ids": [tid]}})

    def lookup(self, seen: Seen):
        if (denied := self._auth(seen)):
            return denied
        ids = (seen.query.get("ids") or [""])[0].split(",")
        if len(ids) > 100:
            return Answer(400, {"errors": [{"parameters": {"ids": ids}, "message": "The number of values in the `ids` query parameter list [%d] is not between 1 and 100" % len(ids)}],
                                "title": "Invalid Request", "detail": "One or more parameters to your request was invalid.",
                                "type": "https://api.twitter.com/2/problems/invalid-request"})
        fields = (seen.query.get("tweet.fields") or [""])[0].split(",")
        data = [{"id": i, "text": self.tweets[i]["text"],
                 **({"public_metrics": self.tweets[i]["public_metrics"]} if "public_metrics" in fields else {})}
                for i in ids if i in self.tweets]
        errors = [{"value": i, "detail": f"Could not find tweet with ids: [{i}].", "title": "Not Found Error",
                   "resource_type": "tweet", "parameter": "ids", "resource_id": i,
                   "type": "https://api.twitter.com/2/problems/resource-not-found"} for i in ids if i not in self.tweets]
        return Answer(200, {"data": data, **({"errors": errors} if errors else {})})

    def delete(self, seen: Seen, tid: str):
        if (denied := self._auth(seen)):
            return denied
        tweet = self.tweets.get(tid)
        if tweet is None:
            return Answer(200, {"errors": [{"value": tid, "detail": f"Could not find tweet with id: [{tid}].",
                                            "title": "Not Found Error", "resource_type": "tweet", "parameter": "id",
                                            "resource_id": tid,
                                            "type": "https://api.twitter.com/2/problems/resource-not-found"}]})
        if tweet.get("author_id", ME["id"]) != ME["id"]:
            return Answer(403, {"detail": "You are not allowed to delete this Tweet.", "type": "about:blank",
                                "title": "Forbidden", "status": 403})
        del self.tweets[tid]
        self.deleted = getattr(self, "deleted", []) + [tid]
        return Answer(200, {"data": {"deleted": True}})

    def upload(self, seen: Seen):
        if (denied := self._auth(seen)):
            return denied
        fields = multipart(seen)
        mid = str(next(self.ids))
        self.media[mid] = {"bytes": fields["media"][1], "type": fields["media"][2],
                           "category": fields.get("media_category", (None, b"", ""))[1].decode(), "alt": None}
        return Answer(200, {"data": {"id": mid, "media_key": f"3_{mid}", "size": len(fields["media"][1]),
                                     "expires_after_secs": 86400, "image": {"image_type": fields["media"][2], "w": 1, "h": 1}}})

    def metadata(self, seen: Seen):
        if (denied := self._auth(seen)):
            return denied
        body = seen.json
        if body.get("id") not in self.media:
            return self.error(400, "media not found")
        self.media[body["id"]]["alt"] = body["metadata"]["alt_text"]["text"]
        return Answer(200, {"data": {"associated_metadata": True, "id": body["id"]}})

    def me(self, seen: Seen):
        if (denied := self._auth(seen)):
            return denied
        return Answer(200, {"data": dict(ME)})

    def timeline(self, seen: Seen, uid: str):
        if (denied := self._auth(seen)):
            return denied
        n = int((seen.query.get("max_results") or ["10"])[0])
        latest = list(self.tweets.values())[::-1][:n]
        return Answer(200, {"data": [{"id": t["id"], "text": t["text"]} for t in latest],
                            "meta": {"result_count": len(latest)}})
