"""LinkedIn channel (type ``linkedin``): the versioned REST API (``/rest/...``).

API facts (learn.microsoft.com/linkedin/marketing/community-management/shares/posts-api,
``images-api``, ``organizations/share-statistics``, ``little-text-format``):

- Every call: ``Authorization: Bearer``, ``LinkedIn-Version: YYYYMM``, ``X-Restli-Protocol-Version: 2.0.0``.
- ``POST /rest/posts`` {author, commentary, visibility PUBLIC, distribution {feedDistribution
  MAIN_FEED, targetEntities [], thirdPartyDistributionChannels []}, lifecycleState PUBLISHED,
  isReshareDisabledByAuthor, content {media {id, altText}}} → **201 with the post URN in the
  ``x-restli-id`` header** (urn:li:share:… or urn:li:ugcPost:…), empty body.
- Images: ``POST /rest/images?action=initializeUpload`` {initializeUploadRequest {owner}} →
  {value {uploadUrl, image}}; then ``PUT`` the bytes to uploadUrl.
- ``commentary`` is "little text": ``\\ | { } @ [ ] ( ) < > # * _ ~`` must be backslash-escaped.
- Errors: ``{"status": 422, "message": "...", "serviceErrorCode": ...}``.
- No idempotency: before repeating a write whose outcome is unknown we read back the author's latest
  posts (``GET /rest/posts?q=author&author=…&count=…``) and match the commentary.
- Metrics for organization pages: ``GET /rest/organizationalEntityShareStatistics?q=organizationalEntity
  &organizationalEntity=…&shares=List(…)&ugcPosts=List(…)`` → totalShareStatistics impressionCount,
  likeCount, shareCount, commentCount, clickCount. Member (person) posts have no such endpoint here.
- Corrections (posts-api "Update Posts"): ``POST /rest/posts/{encoded URN}`` with
  ``X-RestLi-Method: PARTIAL_UPDATE`` and ``{"patch": {"$set": {"commentary": …}}}`` → 204; only the
  commentary (and a few ad fields) can change: an image cannot. 404 when the post is gone, 403 when
  the token's member may not edit it (another author).
- Withdrawals: ``DELETE /rest/posts/{encoded URN}`` (``X-RestLi-Method: DELETE``) → 204; "post
  deletions are idempotent": a post already deleted answers 204 too.
"""
from __future__ import annotations

import re
from urllib.parse import quote

from datetime import datetime, timedelta, timezone

from newsroom import schema as s

from .base import Channel, DeliveryContext, DeliveryResult, Failure, Post, Receipt, Removal
from .http import request
from .oauth import LINKEDIN as LINKEDIN_OAUTH
from .oauth import OAuthChannel
from .social import (read_back, Found, MetricsError, RateGate, chunks, comparable, done_parts, media_bytes, pooled_session, read,
                     receipt_from, run_concurrently, with_partial, write_part)

#: The ``LinkedIn-Version`` sent unless ``version`` says otherwise: the newest Marketing API version
#: documented at learn.microsoft.com/linkedin/marketing/versioning ("Latest Version", July 2026,
#: 202607). Each version is supported for at least a year, then sunset (``integrations/migrations``
#: lists the dates; a sunset version answers 426), so ``check`` warns past eleven months.
DEFAULT_VERSION = "202607"

_RESERVED = re.compile(r"([\\|{}@\[\]()<>#*_~])")


def little_text(text: str) -> str:
    """Escape LinkedIn's reserved characters so commentary shows as written."""
    return _RESERVED.sub(r"\\\1", text)


class LinkedIn(OAuthChannel, Channel):
    TYPE = "linkedin"
    COUNTS_CLICKS = True  # clickCount of the share statistics
    MEDIUM = "social"
    # Posts API commentary: 3,000 characters (LinkedIn's own composer limit; confirmed by publishing
    # tools' docs, e.g. ayrshare.com/docs/apis/post/social-networks/linkedin).
    MAX_CHARS = 3000
    LENGTH_SOURCE = "LinkedIn commentary 3,000"
    SUPPORTS_MEDIA = True
    METRICS_BATCH = 20  # no documented maximum; 20 keeps the URL short
    CONCURRENCY = 4
    SECRETS = ('token', 'client_secret')
    PROVIDER = LINKEDIN_OAUTH
    # learn.microsoft.com linkedin/marketing/community-management/shares/posts-api (Permissions) and
    # organizations/share-statistics; for a person author the w_member_social scope instead.
    SCOPES = {"posting": ("w_organization_social",), "media": ("w_organization_social",),
              "metrics": ("r_organization_social",)}
    MEMBER_SCOPES = {"posting": ("w_member_social",), "media": ("w_member_social",)}
    OPTIONS = s.Schema("linkedin options", [
        s.Key("client_id", s.Text(), "the app's client id: tokens come from `publish auth linkedin`, kept in "
              "state/credentials and refreshed when the app has refresh tokens"),
        s.Key("client_secret", s.Secret(), "the app's client secret, from the environment (with client_id)"),
        s.Key("token", s.Secret(), "instead of client_id: an OAuth access token with w_member_social or "
              "w_organization_social (it lapses after 60 days)"),
        s.Key("author", s.Text(pattern=r"^urn:li:(person|organization):", hint="is not a person or organization URN"),
              "author URN, e.g. urn:li:organization:123", required=True),
        s.Key("warn_before", s.Duration(), "warn this long before the credential lapses ahead of a due entry",
              default=timedelta(days=7)),
        s.Key("version", s.Text(pattern=r"^\d{6}$", hint="is not a YYYYMM version"), "LinkedIn-Version header (a sunset version is refused: keep it within a year)", default=DEFAULT_VERSION),
    ])

    def __init__(self, config, env, *, base_url=None):
        super().__init__(config, env, base_url=base_url)
        self.gate = RateGate(("x-ratelimit-", "ratelimit-"))
        self.requests_made = 0

    @property
    def api(self) -> str:
        return (self.base_url or "https://api.linkedin.com").rstrip("/")

    def scopes_for(self) -> dict[str, tuple[str, ...]]:
        return self.SCOPES if self.author.startswith("urn:li:organization:") else self.MEMBER_SCOPES

    def verify(self) -> dict | Failure | None:
        """Token introspection (learn.microsoft.com linkedin/shared/authentication/token-introspection):
        ``POST /oauth/v2/introspectToken`` with the app's client id and secret → active, scope, expires_at.
        Only an app (client id and secret) may ask; a bare token has no cheap check."""
        secret = self.secret("client_secret")
        token = self.bearer() if self.oauth() else None
        if not secret or token is None:
            return None
        if isinstance(token, Failure):
            return token
        host = (self.base_url or "https://www.linkedin.com").rstrip("/")
        got = request(self.session, "POST", f"{host}/oauth/v2/introspectToken",
                      data={"client_id": self.client_id(), "client_secret": secret, "token": token})
        if isinstance(got, Failure):
            return got
        body = got.json()
        if not body.get("active"):
            return Failure(f"the token is not active ({body.get('status', 'unknown')})")
        out = {"scopes": tuple(s for s in str(body.get("scope", "")).replace(",", " ").split() if s)}
        if body.get("expires_at"):
            out["expires_at"] = datetime.fromtimestamp(int(body["expires_at"]), timezone.utc)
        return out

    @property
    def author(self) -> str:
        return str(self.config.options.get("author"))

    def headers(self) -> dict:
        token = self.bearer()
        return {"Authorization": f"Bearer {'' if isinstance(token, Failure) else token}",
                "LinkedIn-Version": str(self.config.options.get("version") or DEFAULT_VERSION),
                "X-Restli-Protocol-Version": "2.0.0"}

    def _read(self, path: str, **kwargs):
        self.requests_made += 1
        token = self.bearer()
        if isinstance(token, Failure):
            return token
        return read(self.session, self.gate, "GET", self.api + path, headers=self.headers(), **kwargs)

    # -- delivery -----------------------------------------------------------------------------
    def body(self, post: Post, image: str | None) -> dict:
        body = {"author": self.author, "commentary": little_text(post.parts[0]), "visibility": "PUBLIC",
                "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [],
                                 "thirdPartyDistributionChannels": []},
                "lifecycleState": "PUBLISHED", "isReshareDisabledByAuthor": False}
        if image:
            body["content"] = {"media": {"id": image, "altText": post.media[0].alt}}
        return body

    def deliver(self, post: Post, ctx: DeliveryContext) -> DeliveryResult:
        if not ctx.dry_run:
            token = self.bearer()  # refreshed now when it lapses soon
            if isinstance(token, Failure):
                return token
        done = done_parts(ctx.journal, 1)
        if done:
            return receipt_from(done, ctx)
        image = None
        if post.media and not ctx.dry_run:
            image = self._upload(post, ctx)
            if isinstance(image, Failure):
                return image
        body = self.body(post, image)
        if ctx.dry_run:
            return receipt_from([{"id": "dry-run", "url": None}], ctx, body=body)

        def send():
            got = self.renewing(lambda: request(self.session, "POST", f"{self.api}/rest/posts", json=body,
                                                headers=self.headers()))
            if isinstance(got, Failure):
                return got
            urn = got.headers.get("x-restli-id")
            if not urn:
                return Failure("LinkedIn accepted the post but sent no x-restli-id header", ambiguous=True)
            return {"id": urn, "url": f"https://www.linkedin.com/feed/update/{urn}/"}

        part = write_part(ctx, 0, send, lambda: self.find(post.parts[0]))
        return part if isinstance(part, Failure) else receipt_from([part], ctx)

    def _upload(self, post: Post, ctx: DeliveryContext) -> str | Failure:
        known = ctx.journal.get("media:0")
        if known:
            return known
        loaded = media_bytes(self.session, post.media[0])
        if isinstance(loaded, Failure):
            return loaded
        data, mime, _ = loaded
        init = request(self.session, "POST", f"{self.api}/rest/images", params={"action": "initializeUpload"},
                       json={"initializeUploadRequest": {"owner": self.author}}, headers=self.headers())
        if isinstance(init, Failure):
            return with_partial(init, [], "image upload: ")
        value = init.json()["value"]
        put = request(self.session, "PUT", value["uploadUrl"], data=data,
                      headers={"Authorization": self.headers()["Authorization"], "Content-Type": mime})
        if isinstance(put, Failure):
            return with_partial(put, [], "image upload: ")
        ctx.journal.put("media:0", value["image"])
        return value["image"]

    def find(self, text: str) -> Found | None | Failure:
        got = self._read("/rest/posts", params={"q": "author", "author": self.author, "count": 20,
                                                "sortBy": "LAST_MODIFIED"})
        if isinstance(got, Failure):
            return got
        wanted = comparable(text)
        for element in got.json().get("elements") or []:
            commentary = re.sub(r"\\(.)", r"\1", element.get("commentary", ""))
            if comparable(commentary) == wanted:
                return Found(element["id"], f"https://www.linkedin.com/feed/update/{element['id']}/")
        return None

    def reconcile(self, post: Post, ctx: DeliveryContext) -> Receipt | None:
        return read_back(self.name, ctx, post.parts[:1], self.find)

    # -- after publishing ---------------------------------------------------------------------
    EDITS = True
    DELETES = True
    SHOWS = ("parts",)  # the commentary: LinkedIn's partial update cannot change the image

    def _post(self, method: str, receipt: Receipt, restli: str, body: dict | None = None):
        token = self.bearer()
        if isinstance(token, Failure):
            return token
        url = f"{self.api}/rest/posts/{quote(receipt.remote_id, safe='')}"
        return self.renewing(lambda: request(self.session, method, url, json=body,
                                             headers={**self.headers(), "X-RestLi-Method": restli}))

    def edit(self, post: Post, receipt: Receipt, ctx: DeliveryContext) -> Receipt | Failure:
        if ctx.dry_run:
            return receipt
        got = self._post("POST", receipt, "PARTIAL_UPDATE",
                         {"patch": {"$set": {"commentary": little_text(post.parts[0])}}})
        return got if isinstance(got, Failure) else receipt

    def delete(self, receipt: Receipt, ctx: DeliveryContext) -> Removal | Failure:
        if ctx.dry_run:
            return Removal(at=ctx.now)
        got = self._post("DELETE", receipt, "DELETE")
        return got if isinstance(got, Failure) else Removal(at=ctx.now)

    # -- engagement ---------------------------------------------------------------------------
    def fetch_metrics(self, receipts: list[Receipt]) -> dict[str, dict[str, int]]:
        if not self.author.startswith("urn:li:organization:"):
            return {}  # share statistics exist for organization pages only
        urns = list(dict.fromkeys(r.remote_id for r in receipts))
        pooled_session(self.session, self.CONCURRENCY, self.api)

        def batch(chunk) -> dict[str, dict[str, int]]:
            shares = [u for u in chunk if u.startswith("urn:li:share:")]
            ugc = [u for u in chunk if u.startswith("urn:li:ugcPost:")]
            # Rest.li 2.0 lists: List(urn%3Ali%3Ashare%3A1,…), URNs encoded inside, the List( ) not.
            query = f"q=organizationalEntity&organizationalEntity={quote(self.author, safe='')}"
            if shares:
                query += "&shares=List(" + ",".join(quote(u, safe="") for u in shares) + ")"
            if ugc:
                query += "&ugcPosts=List(" + ",".join(quote(u, safe="") for u in ugc) + ")"
            got = self._read(f"/rest/organizationalEntityShareStatistics?{query}")
            if isinstance(got, Failure):
                raise MetricsError(f"{self.name}: {got.message}")
            found = {}
            for element in got.json().get("elements") or []:
                urn = element.get("share") or element.get("ugcPost")
                stats = element.get("totalShareStatistics") or {}
                if urn:
                    found[urn] = {"impressions": int(stats.get("impressionCount") or 0),
                                  "likes": int(stats.get("likeCount") or 0),
                                  "shares": int(stats.get("shareCount") or 0),
                                  "replies": int(stats.get("commentCount") or 0),
                                  "clicks": int(stats.get("clickCount") or 0)}
            return found

        out: dict[str, dict[str, int]] = {}
        for found in run_concurrently(batch, chunks(urns, self.METRICS_BATCH), self.CONCURRENCY):
            out.update(found)
        return out
