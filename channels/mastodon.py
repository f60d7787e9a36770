"""Mastodon channel (type ``mastodon``).

API facts, from mastodon/documentation ``content/en/methods/statuses.md`` and ``media.md``, and
mastodon/mastodon ``app/controllers/api/v1/statuses_controller.rb``:

- ``POST /api/v1/statuses`` (form: ``status``, ``in_reply_to_id``, ``media_ids[]``, ``visibility``,
  ``language``) with ``Idempotency-Key``: "any arbitrary string to prevent duplicate submissions …
  stored for up to 1 hour"; a repeated key returns the status first created (``PostStatusService``).
- ``POST /api/v2/media`` (multipart ``file``, ``description`` = alt text): 200 with a URL, or 202 while
  processing (then ``GET /api/v1/media/:id`` answers 206 until ready).
- ``GET /api/v1/statuses?id[]=`` (since 4.3.0): at most 20 ids (``check_statuses_limit`` raises a
  validation error above ``DEFAULT_STATUSES_LIMIT``), silently leaving out what the viewer may not see.
  Older servers have no such route: 404, so we read one status at a time.
- ``GET /api/v1/statuses/:id/context`` → ``{ancestors, descendants}``.
- Rate limits: ``X-RateLimit-Limit/-Remaining/-Reset`` (reset as an ISO time), 300 requests / 5 min.
- Edit (since 3.5.0): ``PUT /api/v1/statuses/:id`` (form: ``status``, ``spoiler_text``, ``sensitive``,
  ``language``, ``media_ids[]``; ``poll[…]`` cannot go with media, and editing a poll's options
  resets its votes) → the Status with ``edited_at``; 404 ``Record not found`` when the status "does not
  exist, is private, or is not owned by you"; 422 on validation. ``GET /api/v1/statuses/:id/source``
  → ``{id, text, spoiler_text}``: what an edit would change. No time limit on edits.
- Delete: ``DELETE /api/v1/statuses/:id`` → the deleted Status (with its source ``text``); 404 when gone.
  Source: mastodon/documentation ``content/en/methods/statuses.md`` (#edit, #source, #delete).
"""
from __future__ import annotations

from newsroom import schema as s

from .base import (CannotReconcile, Channel, length_rule_for, DeliveryContext, DeliveryResult, Failure, Post, Receipt,
                   Removal, Reply)
from .http import request
from .text import LengthRule, mastodon_length
from .social import (MetricsError, RateGate, chunks, comparable, done_parts, html_to_text, idempotency_key, media_bytes,
                     parse_time, pooled_session, read, receipt_from, run_concurrently, with_partial)


class Mastodon(Channel):
    TYPE = "mastodon"
    MEDIUM = "social"
    MAX_CHARS = 500  # servers may raise it (Instance configuration.statuses.max_characters): option max_chars
    LENGTH = staticmethod(mastodon_length)  # URLs count 23, @user@domain counts as @user
    LENGTH_SOURCE = "Mastodon StatusLengthValidator: URLs count 23, @user@domain counts as @user"
    URL_WEIGHT = 23
    SUPPORTS_THREADS = True
    SUPPORTS_MEDIA = True
    EDITS = True
    DELETES = True
    SHOWS = ("parts", "media", "language")
    METRICS_BATCH = 20
    #: requests in flight at once while reading metrics and replies
    CONCURRENCY = 4
    MEDIA_POLLS = 10
    SECRETS = ('token',)
    OPTIONS = s.Schema("mastodon options", [
        s.Key("instance", s.Url(), "the server's base URL, e.g. https://mastodon.social", required=True),
        s.Key("token", s.Secret(), "access token with write:statuses and write:media, from the environment", required=True),
        s.Key("visibility", s.Choice("public", "unlisted", "private", "direct"), "who sees the posts", default="public"),
        s.Key("max_chars", s.Integer(minimum=1), "the server's configuration.statuses.max_characters", default=500),
        s.Key("language", s.Text(), "ISO 639 language of the posts (default: site.language)"),
    ])


    @classmethod
    def length_rule(cls, options=None) -> LengthRule:
        if options and options.get("max_chars"):
            return length_rule_for(cls, int(options["max_chars"]))
        return super().length_rule(options)

    def __init__(self, config, env, *, base_url=None):
        super().__init__(config, env, base_url=base_url)
        self.gate = RateGate(("x-ratelimit-",))
        self.batch_reads: bool | None = None  # None: not yet known whether GET /api/v1/statuses exists
        self.requests_made = 0
        self._me: dict | None = None

    # -- plumbing -----------------------------------------------------------------------------
    @property
    def api(self) -> str:
        return (self.base_url or str(self.config.options.get("instance", ""))).rstrip("/")

    def headers(self, **extra) -> dict:
        return {"Authorization": f"Bearer {self.secret('token') or ''}", **extra}

    def _read(self, path: str, **kwargs):
        self.requests_made += 1
        return read(self.session, self.gate, "GET", self.api + path, headers=self.headers(), **kwargs)

    # -- delivery -----------------------------------------------------------------------------
    def deliver(self, post: Post, ctx: DeliveryContext) -> DeliveryResult:
        parts = done_parts(ctx.journal, len(post.parts))
        media_ids: list[str] = []
        if post.media and len(parts) == 0:
            uploaded = self._upload(post, ctx)
            if isinstance(uploaded, Failure):
                return uploaded
            media_ids = [uploaded]
        for i in range(len(parts), len(post.parts)):
            form: list[tuple[str, str]] = [("status", post.parts[i]),
                                           ("visibility", self.config.options.get("visibility", "public"))]
            language = self.config.options.get("language") or post.language
            if language:  # ISO 639: "en-GB" is sent as "en"
                form.append(("language", language.split("-")[0].lower()))
            if parts:
                form.append(("in_reply_to_id", parts[-1]["id"]))  # each part answers the one before
            if i == 0:
                form.extend(("media_ids[]", m) for m in media_ids)
            if ctx.dry_run:
                parts.append({"id": f"dry-run-{i}", "url": None})
                continue
            got = request(self.session, "POST", f"{self.api}/api/v1/statuses", data=form,
                          headers=self.headers(**{"Idempotency-Key": idempotency_key(ctx.key, i)}))
            if isinstance(got, Failure):
                # Retrying is safe either way: the same Idempotency-Key returns the status already made.
                failed = with_partial(got, parts, f"part {i + 1} of {len(post.parts)}: " if len(post.parts) > 1 else "")
                # 401 "The access token is invalid" (revoked or mistyped): a person fixes the token.
                return self.refused(failed, "token") if got.status == 401 else failed
            status = got.json()
            part = {"id": str(status["id"]), "url": status.get("url")}
            ctx.journal.put(f"part:{i}", part)
            parts.append(part)
        media = ctx.journal.get("media:0") or (media_ids[0] if media_ids else None)
        # kept for corrections: an edit without media_ids[] drops the status's media (UpdateStatusService)
        return receipt_from(parts, ctx, **({"media_ids": [media]} if media else {}))

    def _upload(self, post: Post, ctx: DeliveryContext) -> str | Failure:
        known = ctx.journal.get("media:0")
        if known:
            return known
        media = post.media[0]
        if ctx.dry_run:
            return "dry-run-media"
        loaded = media_bytes(self.session, media)
        if isinstance(loaded, Failure):
            return loaded
        data, mime, name = loaded
        got = request(self.session, "POST", f"{self.api}/api/v2/media", headers=self.headers(),
                      files={"file": (name, data, mime)}, data={"description": media.alt})
        if isinstance(got, Failure):
            return with_partial(got, [], "image upload: ")
        body = got.json()
        media_id = str(body["id"])
        if got.status_code == 202 or not body.get("url"):
            # Processed in the background: 206 Partial Content until it is ready (media.md).
            sleep = ctx.sleep or __import__("time").sleep
            for attempt in range(self.MEDIA_POLLS):
                sleep(min(0.5 * 2 ** attempt, 5))
                polled = request(self.session, "GET", f"{self.api}/api/v1/media/{media_id}", headers=self.headers())
                if isinstance(polled, Failure):
                    return with_partial(polled, [], "image processing: ")
                if polled.status_code == 200 and polled.json().get("url"):
                    break
            else:
                return Failure("image processing: the server did not finish processing the image in time",
                               retryable=True)
        ctx.journal.put("media:0", media_id)
        return media_id

    # -- after publishing ---------------------------------------------------------------------
    def edit(self, post: Post, receipt: Receipt, ctx: DeliveryContext) -> Receipt | Failure:
        """Each part of the thread edited in place (``PUT /api/v1/statuses/:id``). A thread cannot gain
        or lose parts this way. The controller hands ``media_ids`` to mastodon/mastodon
        ``app/services/update_status_service.rb`` on every edit, and one without them detaches the
        media: the first part's ``media_ids[]`` are sent again. Asked again after a crash
        (``ctx.again``), a part whose source already says the new text is left alone."""
        parts = list(receipt.parts) or [{"id": receipt.remote_id, "url": receipt.url}]
        if len(parts) != len(post.parts):
            return Failure(f"the post is now {len(post.parts)} part(s) where {len(parts)} went out; Mastodon edits "
                           "each status in place and cannot add or remove parts of a thread")
        for i, (part, text) in enumerate(zip(parts, post.parts)):
            if ctx.dry_run:
                continue
            if ctx.again:
                source = self._read(f"/api/v1/statuses/{part['id']}/source")
                if not isinstance(source, Failure) and source.json().get("text") == text:
                    continue
            form: list[tuple[str, str]] = [("status", text)]
            language = self.config.options.get("language") or post.language
            if language:
                form.append(("language", language.split("-")[0].lower()))
            if i == 0 and receipt.data.get("media_ids"):
                form.extend(("media_ids[]", m) for m in receipt.data["media_ids"])
            got = request(self.session, "PUT", f"{self.api}/api/v1/statuses/{part['id']}", data=form,
                          headers=self.headers())
            if isinstance(got, Failure):
                where = f"part {i + 1} of {len(parts)}: " if len(parts) > 1 else ""
                if got.status == 404:
                    return Failure(f"{where}{got.message} (the status is gone, private, or not this account's)",
                                   status=404)
                return self.refused(got, "token") if got.status == 401 else Failure(where + got.message, retryable=got.retryable,
                                                                                    retry_after=got.retry_after,
                                                                                    status=got.status)
        return receipt

    def delete(self, receipt: Receipt, ctx: DeliveryContext) -> Removal | Failure:
        """Every part, last first (``DELETE /api/v1/statuses/:id``); a part already gone (404) counts."""
        parts = list(receipt.parts) or [{"id": receipt.remote_id}]
        gone = 0
        for part in reversed(parts):
            if ctx.dry_run:
                continue
            got = request(self.session, "DELETE", f"{self.api}/api/v1/statuses/{part['id']}", headers=self.headers())
            if isinstance(got, Failure):
                if got.status == 404:
                    gone += 1
                    continue
                return self.refused(got, "token") if got.status == 401 else got
        return Removal(at=ctx.now, already=gone == len(parts) and not ctx.dry_run)

    def reconcile(self, post: Post, ctx: DeliveryContext) -> Receipt | Failure | None:
        """The journal says which parts are confirmed. A repeated Idempotency-Key is only remembered
        for an hour, so the parts after those are looked for among the account's latest statuses.
        A server that does not answer now (timeout, 5xx, 429) is asked again by the next run."""
        parts = done_parts(ctx.journal, len(post.parts))
        if len(parts) < len(post.parts):
            if self._me is None:
                got = self._read("/api/v1/accounts/verify_credentials")
                if isinstance(got, Failure):
                    if got.retryable:
                        return got
                    raise CannotReconcile(f"{self.name}: {got.message}")
                self._me = got.json()
            got = self._read(f"/api/v1/accounts/{self._me['id']}/statuses", params={"limit": 40})
            if isinstance(got, Failure):
                if got.retryable:
                    return got
                raise CannotReconcile(f"{self.name}: {got.message}")
            recent = got.json()[::-1]  # oldest first, as the thread was written
            for i in range(len(parts), len(post.parts)):
                wanted = comparable(post.parts[i])
                parent = parts[-1]["id"] if parts else None
                match = next((st for st in recent if comparable(st.get("content", "")) == wanted
                              and (st.get("in_reply_to_id") or None) == parent), None)
                if match is None:
                    break
                part = {"id": str(match["id"]), "url": match.get("url")}
                ctx.journal.put(f"part:{i}", part)
                parts.append(part)
        return receipt_from(parts, ctx) if len(parts) == len(post.parts) else None

    # -- engagement ---------------------------------------------------------------------------
    @staticmethod
    def metrics_of(status: dict) -> dict[str, int]:
        out = {"replies": int(status.get("replies_count") or 0), "shares": int(status.get("reblogs_count") or 0),
               "likes": int(status.get("favourites_count") or 0)}
        if "quotes_count" in status:  # 4.5+
            out["quotes"] = int(status.get("quotes_count") or 0)
        return out

    def fetch_metrics(self, receipts: list[Receipt]) -> dict[str, dict[str, int]]:
        ids = list(dict.fromkeys(r.remote_id for r in receipts))
        out: dict[str, dict[str, int]] = {}
        if not ids:
            return out
        pooled_session(self.session, self.CONCURRENCY, self.api)
        batches = chunks(ids, self.METRICS_BATCH)
        if self.batch_reads is None:
            # The first batch tells whether the server has GET /api/v1/statuses (4.3.0+).
            first = self._batch(batches[0])
            if first is not None:
                self.batch_reads = True
                out.update(first)
                batches = batches[1:]
            else:
                self.batch_reads = False
        if self.batch_reads:
            for found in run_concurrently(self._batch, batches, self.CONCURRENCY):
                out.update(found or {})
        else:
            rest = [i for i in ids if i not in out]
            for status_id, found in zip(rest, run_concurrently(self._single, rest, self.CONCURRENCY)):
                if found is not None:
                    out[status_id] = found
        return out

    def _batch(self, ids) -> dict[str, dict[str, int]] | None:
        got = self._read("/api/v1/statuses", params=[("id[]", i) for i in ids])
        if isinstance(got, Failure):
            if got.status == 404:
                return None  # a server older than 4.3
            raise MetricsError(f"{self.name}: {got.message}")
        # Statuses that were deleted or made private are left out of the answer, not reported.
        return {str(st["id"]): self.metrics_of(st) for st in got.json()}

    def _single(self, status_id: str) -> dict[str, int] | None:
        got = self._read(f"/api/v1/statuses/{status_id}")
        if isinstance(got, Failure):
            if got.status == 404:
                return None
            raise MetricsError(f"{self.name}: {got.message}")
        return self.metrics_of(got.json())

    # docs.joinmastodon.org api/oauth-scopes: "write" covers every write:… scope, "read" every read:….
    SCOPES = {"posting": ("write:statuses",), "media": ("write:media",), "metrics": ("read:statuses",
                                                                                   "read:accounts")}

    def verify(self) -> dict | Failure:
        """``GET /api/v1/accounts/verify_credentials`` (who), then ``GET /api/v1/apps/verify_credentials``,
        whose Application carries ``scopes`` since 4.3 (older servers leave them out: unknown)."""
        try:
            me = self.me()
        except MetricsError as exc:
            return Failure(str(exc).removeprefix(f"{self.name}: "))
        app = self._read("/api/v1/apps/verify_credentials")
        scopes = tuple(app.json().get("scopes") or ()) if not isinstance(app, Failure) else ()
        return {"account": f"@{me.get('acct', '')}", "scopes": scopes or None}

    def me(self) -> dict:
        if self._me is None:
            got = self._read("/api/v1/accounts/verify_credentials")
            if isinstance(got, Failure):
                raise MetricsError(f"{self.name}: {got.message}")
            self._me = got.json()
        return self._me

    def fetch_replies(self, receipts: list[Receipt]) -> list[Reply]:
        me = self.me()
        pooled_session(self.session, self.CONCURRENCY, self.api)

        def context(receipt: Receipt) -> list[Reply]:
            got = self._read(f"/api/v1/statuses/{receipt.remote_id}/context")
            if isinstance(got, Failure):
                if got.status == 404:
                    return []
                raise MetricsError(f"{self.name}: {got.message}")
            own_parts = {str(p.get("id")) for p in receipt.parts} | {receipt.remote_id}
            out = []
            for status in got.json().get("descendants", []):
                if str(status["id"]) in own_parts:
                    continue  # our own thread parts are not replies
                account = status.get("account") or {}
                out.append(Reply(channel=self.name, remote_id=str(status["id"]),
                                 in_reply_to=str(status.get("in_reply_to_id") or receipt.remote_id),
                                 author=account.get("acct", ""), text=html_to_text(status.get("content", "")),
                                 url=status.get("url"), at=parse_time(status.get("created_at")),
                                 ours=str(account.get("id")) == str(me.get("id"))))
            return out

        return [reply for batch in run_concurrently(context, receipts, self.CONCURRENCY) for reply in batch]
