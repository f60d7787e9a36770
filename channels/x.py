"""X channel (type ``x``): API v2 with an OAuth 2.0 user access token.

API facts (docs.x.com ``x-api/posts/creation-of-a-post``, ``x-api/media/upload-media``,
``x-api/fundamentals/rate-limits``, ``x-api/fundamentals/metrics``):

- ``POST /2/tweets`` {text, reply: {in_reply_to_tweet_id}, media: {media_ids}} → 201
  ``{"data": {"id", "text"}}``; errors ``{"title", "detail", "type", "status"}`` or ``{"errors": [...]}``.
- ``POST /2/media/upload`` (multipart ``media``, ``media_category=tweet_image``) →
  ``{"data": {"id", "media_key", ...}}``; alt text through ``POST /2/media/metadata``
  {id, metadata: {alt_text: {text ≤ 1000}}}.
- No idempotency key: before repeating a write whose outcome is unknown we read back the account's
  recent posts (``GET /2/users/me``, ``GET /2/users/:id/tweets``) and match the text (URLs are
  rewritten to t.co, so they are left out of the comparison).
- ``GET /2/tweets?ids=`` (≤ 100) with ``tweet.fields=public_metrics`` → retweet_count,
  reply_count, like_count, quote_count, bookmark_count, impression_count.
- Rate limits: ``x-rate-limit-limit``, ``-remaining``, ``-reset`` (epoch seconds); 429.
- Withdrawals: ``DELETE /2/tweets/:id`` (docs.x.com x-api/posts/delete-post) → 200
  ``{"data": {"deleted": true}}``; another account's post: 403; one that is gone: 404 or v2's
  "200 with ``errors``" of type ``…/problems/resource-not-found`` (counted as gone).
- No edit through the API for our access level: an edited item is said once, never re-posted.
"""
from __future__ import annotations

from datetime import timedelta

from newsroom import schema as s

from .base import Channel, DeliveryContext, DeliveryResult, Failure, Post, Receipt, Removal
from .http import request
from .text import x_length
from .oauth import X as X_OAUTH
from .oauth import OAuthChannel
from .social import (read_back, Found, MetricsError, RateGate, chunks, comparable, done_parts, media_bytes, pooled_session,
                     read, receipt_from, run_concurrently, with_partial, write_part)


class X(OAuthChannel, Channel):
    TYPE = "x"
    MEDIUM = "social"
    MAX_CHARS = 280  # weighted
    LENGTH = staticmethod(x_length)  # twitter-text v3: weights per code point, URLs 23, emoji 2
    LENGTH_UNIT = "weighted characters"
    LENGTH_SOURCE = "twitter-text config v3"
    URL_WEIGHT = 23
    SUPPORTS_THREADS = True
    SUPPORTS_MEDIA = True
    METRICS_BATCH = 100
    CONCURRENCY = 4
    DELETES = True
    CANNOT_EDIT = "X posts cannot be edited through the API (edit access is not offered to this app)"
    SECRETS = ('token', 'client_secret')
    PROVIDER = X_OAUTH
    # docs.x.com authentication/oauth-2-0/authorization-code (scopes), x-api/media/upload-media
    SCOPES = {"posting": ("tweet.read", "tweet.write", "users.read"), "media": ("media.write",),
              "metrics": ("tweet.read", "users.read"), "renewal": ("offline.access",)}
    OPTIONS = s.Schema("x options", [
        s.Key("client_id", s.Text(), "the app's OAuth 2.0 client id: tokens come from `publish auth x`, kept in "
              "state/credentials and refreshed before they lapse"),
        s.Key("client_secret", s.Secret(), "the app's client secret, for a confidential client (Web App)"),
        s.Key("token", s.Secret(), "instead of client_id: a bare OAuth 2.0 user access token (it lapses in two "
              "hours and is not refreshed)"),
        s.Key("api_version", s.Choice("2"), "X API version: v2, the only one for new apps (docs.x.com "
              "x-api/introduction); the path prefix /2/", default="2"),
        s.Key("warn_before", s.Duration(), "warn this long before the credential lapses ahead of a due entry",
              default=timedelta(days=7)),
    ])

    def __init__(self, config, env, *, base_url=None):
        super().__init__(config, env, base_url=base_url)
        self.gate = RateGate(("x-rate-limit-",))
        self.requests_made = 0
        self._me: dict | None = None

    @property
    def api(self) -> str:
        return (self.base_url or "https://api.x.com").rstrip("/")

    def headers(self) -> dict:
        token = self.bearer()
        return {"Authorization": f"Bearer {'' if isinstance(token, Failure) else token}"}

    def _read(self, path: str, **kwargs):
        self.requests_made += 1
        token = self.bearer()
        if isinstance(token, Failure):
            return token
        return read(self.session, self.gate, "GET", self.api + path, headers=self.headers(), **kwargs)

    # -- delivery -----------------------------------------------------------------------------
    def deliver(self, post: Post, ctx: DeliveryContext) -> DeliveryResult:
        if not ctx.dry_run:
            token = self.bearer()  # refreshed now, before the first part, not halfway through a thread
            if isinstance(token, Failure):
                return token
        parts = done_parts(ctx.journal, len(post.parts))
        label = (lambda i: f"part {i + 1} of {len(post.parts)}: ") if len(post.parts) > 1 else (lambda i: "")
        for i in range(len(parts), len(post.parts)):
            body: dict = {"text": post.parts[i]}
            if parts:
                body["reply"] = {"in_reply_to_tweet_id": parts[-1]["id"]}
            if i == 0 and post.media:
                media_id = self._upload(post, ctx)
                if isinstance(media_id, Failure):
                    return media_id
                body["media"] = {"media_ids": [media_id]}
            if ctx.dry_run:
                parts.append({"id": f"dry-run-{i}", "url": None})
                continue

            def send(body=body):
                got = self.renewing(lambda: request(self.session, "POST", f"{self.api}/2/tweets", json=body,
                                                    headers=self.headers()))
                if isinstance(got, Failure):
                    return got
                tweet_id = got.json()["data"]["id"]
                return {"id": tweet_id, "url": f"https://x.com/i/web/status/{tweet_id}"}

            part = write_part(ctx, i, send, lambda text=post.parts[i]: self.find(text))
            if isinstance(part, Failure):
                return with_partial(part, parts, label(i))
            parts.append(part)
        return receipt_from(parts, ctx)

    def delete(self, receipt: Receipt, ctx: DeliveryContext) -> Removal | Failure:
        """Every part of the thread, the last first; one already gone counts as gone."""
        parts = [p["id"] for p in receipt.parts] or [receipt.remote_id]
        gone = 0
        for tweet_id in reversed(parts):
            if ctx.dry_run:
                continue
            got = self.renewing(lambda tweet_id=tweet_id: request(self.session, "DELETE", f"{self.api}/2/tweets/{tweet_id}",
                                                                  headers=self.headers()))
            if isinstance(got, Failure):
                if got.status == 404:
                    gone += 1
                    continue
                return got
            body = got.json() if got.content else {}
            if not (body.get("data") or {}).get("deleted"):
                if any("resource-not-found" in str(e.get("type", "")) for e in body.get("errors") or []):
                    gone += 1
                    continue
                return Failure(f"X did not delete post {tweet_id}: {body}")
        return Removal(at=ctx.now, already=gone == len(parts) and not ctx.dry_run)

    def _upload(self, post: Post, ctx: DeliveryContext) -> str | Failure:
        known = ctx.journal.get("media:0")
        if known or ctx.dry_run:
            return known or "dry-run-media"
        media = post.media[0]
        loaded = media_bytes(self.session, media)
        if isinstance(loaded, Failure):
            return loaded
        data, mime, name = loaded
        got = self.renewing(lambda: request(self.session, "POST", f"{self.api}/2/media/upload", headers=self.headers(),
                                            files={"media": (name, data, mime)}, data={"media_category": "tweet_image"}))
        if isinstance(got, Failure):
            return with_partial(got, [], "image upload: ")
        media_id = got.json()["data"]["id"]
        if media.alt:
            meta = request(self.session, "POST", f"{self.api}/2/media/metadata", headers=self.headers(),
                           json={"id": media_id, "metadata": {"alt_text": {"text": media.alt[:1000]}}})
            if isinstance(meta, Failure):
                return with_partial(meta, [], "image alt text: ")
        ctx.journal.put("media:0", media_id)
        return media_id

    def me(self) -> dict | Failure:
        if self._me is None:
            got = self._read("/2/users/me")
            if isinstance(got, Failure):
                return got
            self._me = got.json()["data"]
        return self._me

    def verify(self) -> dict | Failure:
        who = self.whoami()
        return who if isinstance(who, Failure) else {"account": who}

    def whoami(self) -> str | Failure:
        me = self.me()
        return me if isinstance(me, Failure) else f"@{me.get('username')}"

    def find(self, text: str) -> Found | None | Failure:
        """Read back the account's latest posts for one with this text."""
        me = self.me()
        if isinstance(me, Failure):
            return me
        got = self._read(f"/2/users/{me['id']}/tweets", params={"max_results": 20})
        if isinstance(got, Failure):
            return got
        wanted = comparable(text)
        for tweet in got.json().get("data") or []:
            if comparable(tweet.get("text", "")) == wanted:
                return Found(tweet["id"], f"https://x.com/i/web/status/{tweet['id']}")
        return None

    def reconcile(self, post: Post, ctx: DeliveryContext) -> Receipt | None:
        return read_back(self.name, ctx, post.parts, self.find)

    # -- engagement ---------------------------------------------------------------------------
    def fetch_metrics(self, receipts: list[Receipt]) -> dict[str, dict[str, int]]:
        ids = list(dict.fromkeys(r.remote_id for r in receipts))
        pooled_session(self.session, self.CONCURRENCY, self.api)

        def batch(chunk):
            got = self._read("/2/tweets", params={"ids": ",".join(chunk), "tweet.fields": "public_metrics"})
            if isinstance(got, Failure):
                raise MetricsError(f"{self.name}: {got.message}")
            out = {}
            for tweet in got.json().get("data") or []:  # deleted posts come back under "errors"
                m = tweet.get("public_metrics") or {}
                out[tweet["id"]] = {"impressions": m.get("impression_count", 0), "likes": m.get("like_count", 0),
                                    "shares": m.get("retweet_count", 0), "replies": m.get("reply_count", 0),
                                    "quotes": m.get("quote_count", 0), "bookmarks": m.get("bookmark_count", 0)}
            return out

        result: dict[str, dict[str, int]] = {}
        for found in run_concurrently(batch, chunks(ids, self.METRICS_BATCH), self.CONCURRENCY):
            result.update(found)
        return result
