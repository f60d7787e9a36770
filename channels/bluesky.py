"""Bluesky channel (type ``bluesky``): AT Protocol XRPC against the account's PDS.

API facts, from the lexicons in bluesky-social/atproto ``lexicons/`` and the PDS source:

- ``com.atproto.server.createSession`` {identifier, password} → {accessJwt, refreshJwt, did, handle};
  rate-limited hard (30 / 5 min, 300 / day), so one session per adapter, renewed with
  ``com.atproto.server.refreshSession`` (Bearer refreshJwt) when a call answers ``ExpiredToken``.
- ``com.atproto.repo.createRecord`` {repo, collection, rkey?, record} → {uri, cid}. A record key
  chosen by us (a TID) makes a retry refuse rather than duplicate: the repo's MST throws "There is
  already a value at key" (``packages/repo/src/mst/mst.ts``), a plain Error that xrpc-server turns
  into **HTTP 500** ``{"error": "InternalServerError", "message": "Internal Server Error"}``
  (``packages/xrpc-server/src/errors.ts`` ``XRPCError.fromError``; the PDS ``createRecord`` handler
  maps only InvalidSwap/InvalidRecord to 400). So a 500 tells nothing by itself:
  ``com.atproto.repo.getRecord`` (400 ``RecordNotFound`` when absent) says whether the part is out.
- ``com.atproto.repo.uploadBlob`` (raw bytes) → {blob}; images embed as ``app.bsky.embed.images``
  {images: [{alt, image}]}.
- Facets: ``app.bsky.richtext.facet`` ``index.byteStart``/``byteEnd`` count UTF-8 bytes, end
  exclusive; features ``#link`` {uri}, ``#mention`` {did}, ``#tag`` {tag without '#'}.
- ``app.bsky.feed.getPosts`` ``uris`` maxLength 25 → postView likeCount, repostCount, replyCount,
  quoteCount, bookmarkCount. ``app.bsky.feed.getPostThread`` {uri, depth ≤ 1000}.
- Rate limits: ``RateLimit-Limit/-Remaining/-Reset`` (epoch seconds) and 429.
- TIDs (``atproto.com/specs/tid``): 64 bits, top bit 0, 53 bits of microseconds since the epoch,
  10 bits of clock id, written as 13 characters of base32-sortable ``234567abcdefghijklmnopqrstuvwxyz``.
- Withdrawals: ``com.atproto.repo.deleteRecord`` {repo, collection, rkey} → ``{commit}``; a record
  that does not exist is a no-op answered 200 with no ``commit`` ("No-op if record already doesn't
  exist"); another account's repo: 401 ``AuthenticationRequired`` (``packages/pds/src/api/com/atproto/
  repo/deleteRecord.ts``). Posts cannot be edited: a record put again gets a new CID that replies and
  quotes no longer match, so the app offers no edit; an edited item is said once, not re-posted.
"""
from __future__ import annotations

import hashlib
import threading
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING

import regex

from newsroom import schema as s

from .base import Channel, DeliveryContext, DeliveryResult, Failure, Post, Receipt, Removal, Reply
from .http import request
from .text import graphemes
from .tlds import TLDS
from .social import (MetricsError, RateGate, chunks, done_parts, media_bytes, parse_time, pooled_session,
                     read, receipt_from, run_concurrently, with_partial)

if TYPE_CHECKING:  # imported where a request is made (channels/http.py)
    import requests

POST = "app.bsky.feed.post"
B32 = "234567abcdefghijklmnopqrstuvwxyz"


def xrpc_failure(failure: Failure, response: requests.Response) -> Failure:
    """XRPC errors are ``{"error": Name, "message": text}``: keep both, the name says what happened
    (``ExpiredToken``, ``RecordNotFound``) and the message the detail."""
    try:
        body = response.json()
    except ValueError:
        return failure
    if not isinstance(body, dict) or not body.get("error"):
        return failure
    words = body["error"] + (f": {body['message']}" if body.get("message") and body["message"] != body["error"] else "")
    return replace(failure, message=f"HTTP {response.status_code}: {words}")


def text_digest(text: str) -> str:
    """What the journal keeps of a part's text: enough to know our own post again, not the text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def tid(micros: int, clock_id: int) -> str:
    value = ((micros & ((1 << 53) - 1)) << 10) | (clock_id & 0x3FF)
    return "".join(B32[(value >> (5 * i)) & 31] for i in reversed(range(13)))


# -- facets ---------------------------------------------------------------------------------------
# The reference detector, @atproto/api ``src/rich-text/detection.ts`` with the patterns of
# ``src/rich-text/util.ts`` (github.com/bluesky-social/atproto packages/api), rule for rule; the
# contract tests compare against it (tests/pds/facets.mjs). A link without a scheme ("example.com")
# is a link when its last label is a top-level domain the reference knows (channels/tlds.py).
_MENTION = regex.compile(r"(^|\s|\()(@)([a-zA-Z0-9.-]+)(\b)")
_LINK = regex.compile(r"(^|\s|\()((https?://\S+)|((?P<domain>[a-z][a-z0-9]*(\.[a-z0-9]+)+)\S*))",
                      regex.IGNORECASE | regex.MULTILINE)
_ZW = "\u00AD\u2060\u200A\u200B\u200C\u200D\u20e2"
_TAG = regex.compile(rf"(^|\s)[#＃]((?!\ufe0f)[^\s{_ZW}]*[^0-9\s\p{{P}}{_ZW}]+[^\s{_ZW}]*)?")
_TRAILING_PUNCTUATION = regex.compile(r"\p{P}+$")
_CASHTAG = regex.compile(r"(^|\s|\()\$([A-Za-z][A-Za-z0-9]{0,4})(?=\s|$|[.,;:!?)\"'\u2019])")


def _byte_span(text: str, start: int, end: int) -> dict:
    return {"byteStart": len(text[:start].encode("utf-8")), "byteEnd": len(text[:end].encode("utf-8"))}


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def facets(text: str, resolve=lambda handle: None) -> list[dict]:
    """Links, mentions, hashtags and cashtags in ``text`` with UTF-8 byte offsets, as the reference
    detector finds them. ``resolve`` maps a handle to its DID; a mention that does not resolve stays
    plain text (the reference drops it too, after resolving)."""
    out = []
    for m in _MENTION.finditer(text):
        handle = m.group(3)
        if "." not in handle.strip("."):
            continue  # not a domain: no handle
        did = resolve(handle.lower())
        if did:
            start = m.start(3) - 1
            out.append({"index": _byte_span(text, start, start + 1 + len(handle)),
                        "features": [{"$type": "app.bsky.richtext.facet#mention", "did": did}]})
    for m in _LINK.finditer(text):
        uri, start = m.group(2), m.start(2)
        if not uri.startswith("http"):
            # "HTTPS://…" has no domain group: the reference skips it; a bare domain needs a known
            # TLD, compared as the reference does (case-sensitively: "Example.COM" stays text)
            domain = m.group("domain")
            if not domain or domain.rsplit(".", 1)[1] not in TLDS:
                continue
            uri = "https://" + uri
        end = start + len(m.group(2))
        if uri[-1] in ".,;:!?":  # one mark of punctuation ends the sentence, not the link
            uri, end = uri[:-1], end - 1
        if uri.endswith(")") and "(" not in uri:  # "(see https://x.test/a)": the ")" is the text's
            uri, end = uri[:-1], end - 1
        out.append({"index": _byte_span(text, start, end),
                    "features": [{"$type": "app.bsky.richtext.facet#link", "uri": uri}]})
    for m in _TAG.finditer(text):
        tag = m.group(2)
        if not tag:
            continue
        tag = _TRAILING_PUNCTUATION.sub("", tag.strip())
        if not tag or _utf16_len(tag) > 64:
            continue
        start = m.start(0) + len(m.group(1))
        out.append({"index": _byte_span(text, start, start + 1 + len(tag)),
                    "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": tag}]})
    for m in _CASHTAG.finditer(text):
        start = m.start(0) + len(m.group(1))
        out.append({"index": _byte_span(text, start, start + 1 + len(m.group(2))),
                    "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "$" + m.group(2).upper()}]})
    return sorted(out, key=lambda f: f["index"]["byteStart"])


class Bluesky(Channel):
    TYPE = "bluesky"
    MEDIUM = "social"
    MAX_CHARS = 300  # graphemes
    LENGTH = staticmethod(graphemes)
    LENGTH_UNIT = "graphemes"
    LENGTH_SOURCE = "app.bsky.feed.post text maxGraphemes 300"
    # app.bsky.feed.post ``text``: maxGraphemes 300 and maxLength 3000 (UTF-8 bytes); the PDS refuses
    # "string too big (maximum 3000, got 7450)" for 298 family emoji (lexicons/app/bsky/feed/post.json)
    MAX_BYTES = 3000
    SUPPORTS_THREADS = True
    SUPPORTS_MEDIA = True
    DELETES = True
    CANNOT_EDIT = "Bluesky posts cannot be edited (a record put again no longer matches its replies and quotes)"
    METRICS_BATCH = 25
    CONCURRENCY = 4
    SECRETS = ('app_password',)
    OPTIONS = s.Schema("bluesky options", [
        s.Key("service", s.Url(), "the PDS base URL", default="https://bsky.social"),
        s.Key("handle", s.Text(), "the account's handle, e.g. acme.bsky.social", required=True),
        s.Key("app_password", s.Secret(), "an app password, from the environment", required=True),
        s.Key("language", s.Text(), "BCP 47 language of the posts, sent as ``langs`` (default: site.language)"),
    ])

    def __init__(self, config, env, *, base_url=None):
        super().__init__(config, env, base_url=base_url)
        self.gate = RateGate(("ratelimit-", "x-ratelimit-"))
        self.auth: dict | None = None  # the session: accessJwt, refreshJwt, did, handle
        self.logins = 0
        self.refreshes = 0
        self.requests_made = 0
        self._dids: dict[str, str | None] = {}
        self._auth_lock = threading.Lock()
        self._issued: set[str] = set()  # record keys handed out by this adapter (one run)

    # -- session ------------------------------------------------------------------------------
    @property
    def api(self) -> str:
        return (self.base_url or str(self.config.options.get("service") or "https://bsky.social")).rstrip("/")

    def xrpc(self, nsid: str) -> str:
        return f"{self.api}/xrpc/{nsid}"

    def send(self, method: str, nsid: str, *, reading: bool = False, **kwargs):
        """One XRPC request; a failure keeps both the XRPC error name and its message."""
        seen: list[requests.Response] = []
        kwargs["hooks"] = {"response": [lambda response, *a, **k: seen.append(response)]}
        if reading:
            self.requests_made += 1
            got = read(self.session, self.gate, method, self.xrpc(nsid), **kwargs)
        else:
            got = request(self.session, method, self.xrpc(nsid), **kwargs)
        return xrpc_failure(got, seen[-1]) if isinstance(got, Failure) and seen else got

    def login(self) -> Failure | None:
        if self.auth:
            return None
        got = self.send("POST", "com.atproto.server.createSession",
                        json={"identifier": self.config.options.get("handle"), "password": self.secret("app_password")})
        self.logins += 1
        if isinstance(got, Failure):
            failed = with_partial(got, [], "sign-in: ")
            # 401 AuthenticationRequired "Invalid identifier or password" (the PDS's createSession):
            # the app password is wrong or revoked, which a person fixes; the entry waits for it.
            return self.refused(failed, "app_password") if got.status == 401 else failed
        self.auth = got.json()
        return None

    def refresh(self, used: str | None = None) -> Failure | None:
        with self._auth_lock:  # concurrent readers: one refresh, the others use its token
            if used and self.auth and self.auth.get("accessJwt") != used:
                return None
            return self._refresh()

    def _refresh(self) -> Failure | None:
        got = self.send("POST", "com.atproto.server.refreshSession",
                        headers={"Authorization": f"Bearer {self.auth['refreshJwt']}"})
        self.refreshes += 1
        if isinstance(got, Failure):
            self.auth = None
            if got.status in (400, 401):  # the refresh token expired too: sign in again, once
                return self.login()
            return with_partial(got, [], "session refresh: ")
        self.auth = {**self.auth, **got.json()}
        return None

    def call(self, method: str, nsid: str, *, reading: bool = False, **kwargs):
        """An authenticated XRPC call; an expired access token is refreshed once and the call repeated."""
        failed = self.login()
        if failed:
            return failed
        extra = kwargs.pop("headers", {})
        got: requests.Response | Failure | None = None
        for attempt in range(2):
            headers = {**extra, "Authorization": f"Bearer {self.auth['accessJwt']}"}
            got = self.send(method, nsid, reading=reading, headers=headers, **kwargs)
            # An access token lives minutes: "ExpiredToken" (400) means refresh, not sign in again.
            if isinstance(got, Failure) and got.status in (400, 401) and "ExpiredToken" in got.message and attempt == 0:
                failed = self.refresh(headers["Authorization"][7:])
                if failed:
                    return failed
                continue
            return got
        return got

    def resolve(self, handle: str) -> str | None:
        if handle not in self._dids:
            got = self.call("GET", "com.atproto.identity.resolveHandle", params={"handle": handle})
            self._dids[handle] = got.json().get("did") if not isinstance(got, Failure) else None
        return self._dids[handle]

    # -- delivery -----------------------------------------------------------------------------
    def record_key(self, ctx: DeliveryContext, index: int, *, fresh: bool = False) -> str:
        """Chosen once per part and kept in the journal before the write, so a retry reuses it.

        A TID from the run's time, the part and a clock id from the entry key's hash; the adapter
        (one per run) never hands out a key twice, so distinct entries of a run get distinct keys
        whatever their hashes. ``fresh``: the kept key turned out to hold a post we did not write
        (another run chose it): a new one replaces it."""
        known = ctx.journal.get(f"rkey:{index}")
        if known and not fresh:
            return known
        clock_id = int(hashlib.sha256(ctx.key.encode()).hexdigest(), 16) & 0x3FF
        micros = int(ctx.now.timestamp() * 1_000_000) + index
        with self._auth_lock:
            key = tid(micros, clock_id)
            while key in self._issued or key == known:
                micros += 1
                key = tid(micros, clock_id)
            self._issued.add(key)
        ctx.journal.put(f"rkey:{index}", key)
        if fresh:
            ctx.journal.put(f"sent:{index}", None)
        return key

    def deliver(self, post: Post, ctx: DeliveryContext) -> DeliveryResult:
        parts = done_parts(ctx.journal, len(post.parts))
        label = (lambda i: f"part {i + 1} of {len(post.parts)}: ") if len(post.parts) > 1 else (lambda i: "")
        # app.bsky.feed.post ``langs``: the post's language (the option, else the item's or the site's)
        language = self.config.options.get("language") or post.language
        if not ctx.dry_run:
            failed = self.login()
            if failed:
                return failed
        for i in range(len(parts), len(post.parts)):
            text = post.parts[i]
            record = {"$type": POST, "text": text,
                      "createdAt": (ctx.now + timedelta(milliseconds=i)).isoformat().replace("+00:00", "Z")}
            found = facets(text, self.resolve if not ctx.dry_run else (lambda h: None))
            if found:
                record["facets"] = found
            if language:
                record["langs"] = [language]
            if parts:
                root, parent = parts[0], parts[-1]
                record["reply"] = {"root": {"uri": root["id"], "cid": root["cid"]},
                                   "parent": {"uri": parent["id"], "cid": parent["cid"]}}
            if i == 0 and post.media:
                embed = self._embed(post, ctx)
                if isinstance(embed, Failure):
                    return embed
                record["embed"] = embed
            if ctx.dry_run:
                parts.append({"id": f"at://dry-run/{POST}/{i}", "cid": "dry-run", "url": None})
                continue
            part = self._write(ctx, i, record)
            if isinstance(part, Failure):
                return with_partial(part, parts, label(i))
            ctx.journal.put(f"part:{i}", part)
            parts.append(part)
        return receipt_from(parts, ctx)

    def _part(self, uri: str, cid: str, rkey: str) -> dict:
        handle = (self.auth or {}).get("handle") or self.config.options.get("handle")
        return {"id": uri, "cid": cid, "url": f"https://bsky.app/profile/{handle}/post/{rkey}"}

    def _write(self, ctx: DeliveryContext, index: int, record: dict) -> dict | Failure:
        rkey = self.record_key(ctx, index)
        digest = text_digest(record["text"])
        for _ in range(3):
            earlier = ctx.journal.get(f"sent:{index}")
            if earlier:
                existing = self.get_record(rkey)  # an earlier attempt may have written it
                if isinstance(existing, Failure):
                    return existing
                if existing:
                    mine = self._ours(existing, record, earlier)
                    if isinstance(mine, (dict, Failure)):
                        return mine
                    rkey = self.record_key(ctx, index, fresh=True)
                    continue
            ctx.journal.put(f"sent:{index}", digest)
            got = self.call("POST", "com.atproto.repo.createRecord",
                            json={"repo": self.auth["did"], "collection": POST, "rkey": rkey, "record": record})
            if isinstance(got, Failure):
                if got.ambiguous or (got.status or 0) >= 500:
                    # A dropped answer, or the 500 a PDS gives for a key already taken: ask for the record.
                    existing = self.get_record(rkey)
                    if isinstance(existing, dict):
                        mine = self._ours(existing, record, digest)
                        if isinstance(mine, (dict, Failure)):
                            return mine
                        rkey = self.record_key(ctx, index, fresh=True)
                        continue
                return got
            body = got.json()
            return self._part(body["uri"], body["cid"], rkey)
        return Failure(f"record key {rkey} and the two chosen after it already hold other posts", retryable=True)

    def _ours(self, existing: dict, record: dict, sent) -> dict | Failure | None:
        """The record found under our key, if it is one we wrote: this text, or the text an earlier
        attempt sent (``sent``: its digest) before the item was edited. None: someone else's post
        holds the key (our choice of key collided; a new one is chosen)."""
        text = existing.get("text")
        if text == record["text"] or (isinstance(sent, str) and text_digest(text or "") == sent):
            return {k: v for k, v in existing.items() if k != "text"}
        if sent is True:  # a journal from before the digest was kept: it may be our own earlier text
            return Failure(f"record key {existing['id'].rsplit('/', 1)[-1]} holds a post with other text; "
                           "check it on Bluesky, then run publish.py resolve")
        return None

    def delete(self, receipt: Receipt, ctx: DeliveryContext) -> Removal | Failure:
        """Every part's record, the last first; a record already gone is a no-op answered 200 without
        a ``commit``, so a repeat after a crash succeeds and says so."""
        uris = [p["id"] for p in receipt.parts] or [receipt.remote_id]
        gone = 0
        for uri in reversed(uris):
            if ctx.dry_run:
                continue
            repo, collection, rkey = uri.removeprefix("at://").split("/", 2)
            got = self.call("POST", "com.atproto.repo.deleteRecord",
                            json={"repo": repo, "collection": collection, "rkey": rkey})
            if isinstance(got, Failure):
                return got
            if not (got.json() if got.content else {}).get("commit"):
                gone += 1
        return Removal(at=ctx.now, already=gone == len(uris) and not ctx.dry_run)

    def get_record(self, rkey: str) -> dict | None | Failure:
        got = self.call("GET", "com.atproto.repo.getRecord",
                        params={"repo": self.auth["did"], "collection": POST, "rkey": rkey})
        if isinstance(got, Failure):
            if got.status == 400 and "RecordNotFound" in got.message or got.status == 404:
                return None
            return got
        body = got.json()
        return {**self._part(body["uri"], body["cid"], rkey), "text": (body.get("value") or {}).get("text")}

    def _embed(self, post: Post, ctx: DeliveryContext) -> dict | Failure:
        media = post.media[0]
        blob = ctx.journal.get("media:0")
        if blob is None and not ctx.dry_run:
            loaded = media_bytes(self.session, media)
            if isinstance(loaded, Failure):
                return loaded
            data, mime, _ = loaded
            got = self.call("POST", "com.atproto.repo.uploadBlob", data=data, headers={"Content-Type": mime})
            if isinstance(got, Failure):
                return with_partial(got, [], "image upload: ")
            blob = got.json()["blob"]
            ctx.journal.put("media:0", blob)
        return {"$type": "app.bsky.embed.images", "images": [{"alt": media.alt, "image": blob}]}

    def reconcile(self, post: Post, ctx: DeliveryContext) -> Receipt | Failure | None:
        """Parts whose record key was chosen are looked up with getRecord; the rest surely are not out.
        A server that does not answer now is a failure to retry (the keys stay; the next run asks
        again), never a question for a person."""
        parts = done_parts(ctx.journal, len(post.parts))
        for i in range(len(parts), len(post.parts)):
            rkey = ctx.journal.get(f"rkey:{i}")
            if not rkey:
                break
            failed = self.login()
            if failed:
                return replace(failed, message=f"cannot sign in to check record {rkey}: {failed.message}",
                               retryable=failed.retryable or failed.status is None or failed.status >= 500)
            found = self.get_record(rkey)
            if isinstance(found, Failure):
                return Failure(f"cannot check record {rkey}: {found.message}", status=found.status,
                               retryable=found.retryable or found.status is None or found.status >= 500)
            mine = self._ours(found, {"text": post.parts[i]}, ctx.journal.get(f"sent:{i}")) if found else None
            if not isinstance(mine, dict):
                break  # not out (or the key holds another post): sending chooses a new key
            ctx.journal.put(f"part:{i}", mine)
            parts.append(mine)
        return receipt_from(parts, ctx) if len(parts) == len(post.parts) else None

    # -- engagement ---------------------------------------------------------------------------
    @staticmethod
    def metrics_of(view: dict) -> dict[str, int]:
        out = {"likes": view.get("likeCount", 0), "shares": view.get("repostCount", 0),
               "replies": view.get("replyCount", 0), "quotes": view.get("quoteCount", 0)}
        if "bookmarkCount" in view:
            out["bookmarks"] = view["bookmarkCount"]
        return {k: int(v or 0) for k, v in out.items()}

    def fetch_metrics(self, receipts: list[Receipt]) -> dict[str, dict[str, int]]:
        uris = list(dict.fromkeys(r.remote_id for r in receipts))
        if not uris:
            return {}
        pooled_session(self.session, self.CONCURRENCY, self.api)
        if self.login():
            raise MetricsError(f"{self.name}: cannot sign in")

        def batch(chunk) -> dict:
            got = self.call("GET", "app.bsky.feed.getPosts", reading=True, params=[("uris", u) for u in chunk])
            if isinstance(got, Failure):
                raise MetricsError(f"{self.name}: {got.message}")
            return {view["uri"]: self.metrics_of(view) for view in got.json().get("posts", [])}

        out: dict[str, dict[str, int]] = {}
        for found in run_concurrently(batch, chunks(uris, self.METRICS_BATCH), self.CONCURRENCY):
            out.update(found)
        return out

    def fetch_replies(self, receipts: list[Receipt]) -> list[Reply]:
        if receipts and self.login():
            raise MetricsError(f"{self.name}: cannot sign in")
        pooled_session(self.session, self.CONCURRENCY, self.api)

        def thread(receipt: Receipt) -> list[Reply]:
            got = self.call("GET", "app.bsky.feed.getPostThread", reading=True,
                            params={"uri": receipt.remote_id, "depth": 1000})
            if isinstance(got, Failure):
                if "NotFound" in got.message:
                    return []
                raise MetricsError(f"{self.name}: {got.message}")
            own = {str(p.get("id")) for p in receipt.parts} | {receipt.remote_id}
            out: list[Reply] = []

            def walk(node: dict):
                for child in node.get("replies") or []:
                    view = child.get("post")
                    if not view:
                        continue  # notFoundPost / blockedPost
                    record = view.get("record") or {}
                    if view["uri"] not in own:
                        author = view.get("author") or {}
                        out.append(Reply(channel=self.name, remote_id=view["uri"],
                                         in_reply_to=((record.get("reply") or {}).get("parent") or {}).get("uri", receipt.remote_id),
                                         author=author.get("handle", ""), text=record.get("text", ""),
                                         url=f"https://bsky.app/profile/{author.get('handle')}/post/{view['uri'].rsplit('/', 1)[-1]}",
                                         at=parse_time(record.get("createdAt") or view.get("indexedAt")),
                                         ours=author.get("did") == self.auth.get("did")))
                    walk(child)

            walk(got.json().get("thread") or {})
            return out

        return [r for batch in run_concurrently(thread, receipts, self.CONCURRENCY) for r in batch]
