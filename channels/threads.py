"""Threads channel (type ``threads``): Meta's Threads API at ``graph.threads.net``.

API facts (developers.facebook.com/documentation/threads: ``posts``, ``troubleshooting``,
``insights``, ``reply-management``, ``overview``; ``get-started/long-lived-tokens``):

- Two steps: ``POST /{threads-user-id}/threads`` (``media_type`` TEXT, IMAGE, VIDEO or CAROUSEL;
  ``text``; ``image_url``, which Meta fetches itself from a public server; ``alt_text``;
  ``reply_to_id`` to answer a post, which is how a thread is written; ``is_carousel_item`` and
  ``children`` for carousels of 2–20 items) → ``{"id": container}``; then
  ``POST /{threads-user-id}/threads_publish`` {creation_id} → ``{"id": media}``.
  ``GET /{container}?fields=status,error_message`` says IN_PROGRESS, FINISHED, PUBLISHED, ERROR or
  EXPIRED (not published within 24 hours); the docs advise asking about once a minute, at most five.
  Videos (``media_type=VIDEO``, ``video_url`` fetched by Meta, MP4 or MOV; also as carousel items) are
  processed first: "wait on average 30 seconds before publishing", then ask until FINISHED; an ERROR
  names what was wrong (``FAILED_DOWNLOADING_VIDEO``, ``INVALID_DURATION`` …, ``troubleshooting``).
- Text: at most 500 characters, "emojis are counted as the number of UTF-8 bytes" (``posts``).
  One topic tag per post. Profiles may publish 250 posts in 24 hours (``overview``).
- ``GET /{threads-user-id}/threads`` and ``/replies`` (fields id, text, permalink, timestamp) list
  the account's latest posts and replies: how a post whose publish answer was lost is found.
- Insights: ``GET /{media}/insights?metric=views,likes,replies,reposts,quotes,shares`` (scope
  ``threads_manage_insights``), one post per call. Replies: ``GET /{media}/conversation`` (fields id,
  text, username, permalink, timestamp, is_reply_owned_by_me, replied_to).
- Tokens: long-lived tokens last 60 days; ``GET /refresh_access_token?grant_type=th_refresh_token``
  renews one that is at least 24 hours old and not yet expired (``publish auth threads``).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import regex

from newsroom import schema as s
from newsroom.credentials import CredentialError

from . import graph
from .base import CannotReconcile, DeliveryContext, DeliveryResult, Failure, Post, Receipt, Removal, Reply
from .social import (Found, MetricsError, comparable, done_parts, parse_time, pooled_session, receipt_from,
                     run_concurrently, with_partial)

VIDEO = regex.compile(r"\.(mp4|mov)$", regex.IGNORECASE)
_CLUSTER = regex.compile(r"\X")
_EMOJI = regex.compile(r"[\p{Extended_Pictographic}\p{Regional_Indicator}]")


def threads_length(text: str) -> int:
    """Threads' count: one per character, an emoji as its UTF-8 bytes (developers.facebook.com/
    documentation/threads/posts, "Limitations"): "🚀" counts 4, a flag 8."""
    if text.isascii():
        return len(text)
    return sum(len(c.encode("utf-8")) if _EMOJI.search(c) else 1 for c in _CLUSTER.findall(text))


class Threads(graph.GraphAdapter):
    HOST = "https://graph.threads.net/v1.0"
    AUTH_HINT = "run `publish auth {name}` to check or renew it"
    QUOTA_EDGE = "threads_publishing_limit"  # overview, "Posts"
    PLATFORM = "Threads"
    TYPE = "threads"
    MEDIUM = "social"
    MAX_CHARS = 500
    LENGTH = staticmethod(threads_length)
    LENGTH_SOURCE = "Threads API posts: 500 characters, an emoji counts its UTF-8 bytes"
    SUPPORTS_THREADS = True
    SUPPORTS_MEDIA = True
    MAX_CAROUSEL = 20
    METRICS_BATCH = 1  # insights are read one post per call
    CONCURRENCY = 4
    POSTS_PER_DAY = 250
    REPLIES_PER_DAY = 1000  # retrieve-and-manage-replies, "Rate limits"; a thread's later parts are replies
    DELETES = True  # DELETE /{threads-media-id} (documentation/threads/posts/delete-posts, threads_delete)
    CANNOT_EDIT = "the Threads API cannot change a post once it is published: withdraw it and post again"
    CHECKS_TOKEN = True  # publish auth: check the token, print a renewed one when asked
    TOKEN_HELP = ("make a long-lived Threads token (60 days) for the posting account in the Meta app dashboard "
                  "(Use cases → Access the Threads API → Settings → User token generator), then set it")
    TOKEN_NOTE = "Long-lived Threads tokens lapse 60 days after they were made or last renewed."
    SECRETS = ("token",)
    SCOPES = {"posting": ("threads_basic", "threads_content_publish"), "media": ("threads_content_publish",),
              "deleting": ("threads_delete",),
              "metrics": ("threads_manage_insights", "threads_read_replies")}
    OPTIONS = s.Schema("threads options", [
        s.Key("user_id", s.Text(), "the Threads user id (or `me`) of the posting account", default="me"),
        s.Key("token", s.Secret(), "a long-lived Threads access token (60 days; `publish auth` renews it), "
              "from the environment (or sign in with client_id)"),
        s.Key("client_id", s.Text(), "the Meta app's id (the Threads app id): with it `publish auth` signs in in a browser and keeps "
              "the token encrypted in state/credentials (no token needed)"),
        s.Key("client_secret", s.Secret(), "the Meta app's secret, from the environment (for `publish auth`)"),
        s.Key("reply_control", s.Choice("everyone", "accounts_you_follow", "mentioned_only"),
              "who may reply to the posts", default="everyone"),
    ])

    #: a token signed in with `publish auth` (kept in state/credentials) is renewed by the runs when it
    #: lapses within this long (``refresh_access_token``: Meta renews one at least 24 hours old, not expired)
    RENEW_WITHIN = timedelta(days=7)

    @property
    def user(self) -> str:
        return str(self.config.options.get("user_id") or "me")

    def bearer(self):
        if self.oauth() and self.vault is not None and not getattr(self, "_renew_asked", False):
            self._renew_asked = True
            self.renew_stored()
        return super().bearer()

    def renew_stored(self) -> None:
        """The stored long-lived token renewed in place when it lapses within ``RENEW_WITHIN`` (under the
        store's lock, so two runs renew it once). A renewal that fails leaves the token as it is: it still
        works until it lapses, and the next run asks again."""
        from dataclasses import replace

        now = (self.clock or (lambda: datetime.now(timezone.utc)))()
        host = (self.base_url or "https://graph.threads.net").rstrip("/")

        def change(cred):
            if cred is None or cred.expires_at is None or not now < cred.expires_at <= now + self.RENEW_WITHIN:
                return cred
            if cred.obtained_at and now - cred.obtained_at < timedelta(hours=24):
                return cred
            got = graph.call(self.session, "GET", f"{host}/refresh_access_token",
                             params={"grant_type": "th_refresh_token", "access_token": cred.access_token})
            if isinstance(got, Failure) or not got.json().get("access_token"):
                return cred
            body = got.json()
            lasts = body.get("expires_in")
            return replace(cred, access_token=str(body["access_token"]), obtained_at=now,
                           expires_at=now + timedelta(seconds=int(lasts)) if lasts else None)

        try:
            self.vault.update(self.name, change)
        except CredentialError:
            return
        if getattr(self, "_keeper", None) is not None:
            self._keeper._current = None

    # -- delivery -----------------------------------------------------------------------------
    def containers(self, post: Post) -> graph.Containers:
        return graph.containers(self, edge="threads", publish_edge="threads_publish", status_field="status",
                                error_field="error_message", find=lambda i: self.find(post.parts[i], reply=i > 0))

    def permalink(self, media_id: str) -> str | None:
        return self.media_permalink(media_id)

    @staticmethod
    def is_video(media) -> bool:
        return bool(VIDEO.search(media.src.split("?", 1)[0]))

    def media_params(self, media) -> dict:
        """An image's or a video's fields (``posts``: ``image_url`` for IMAGE, ``video_url`` for VIDEO,
        both fetched by Meta from a public server; ``alt_text`` for either)."""
        if self.is_video(media):
            return {"media_type": "VIDEO", "video_url": media.src, "alt_text": media.alt}
        return {"media_type": "IMAGE", "image_url": media.src, "alt_text": media.alt}

    def carousel(self, post: Post, ctx: DeliveryContext, containers: graph.Containers) -> str | Failure:
        """The item containers of a carousel (2–20 images and videos), made once each and kept in the
        journal; a video item is asked about until Meta has processed it (``posts``, "Carousel Posts")
        before the carousel is made of them."""
        ids = []
        if ctx.dry_run:  # nothing is made on a dry run
            return ",".join(f"dry-run-item-{j}" for j in range(len(post.media[:self.MAX_CAROUSEL])))
        for j, media in enumerate(post.media[:self.MAX_CAROUSEL]):
            known = ctx.journal.get(f"media:{j}")
            if not known:
                got = self._call("POST", f"/{self.user}/threads", data={**self.media_params(media),
                                                                       "is_carousel_item": "true"})
                if isinstance(got, Failure):
                    return with_partial(got, [], f"carousel item {j + 1}: ")
                known = str(got.json()["id"])
                ctx.journal.put(f"media:{j}", known)
            if self.is_video(media):
                ready = graph.wait_ready(containers, known, ctx, f"carousel item {j + 1}: ", graph.VIDEO_POLLS)
                if isinstance(ready, Failure):
                    if "is EXPIRED" in ready.message:
                        ctx.journal.put(f"media:{j}", "")  # never used: the next try makes a new one
                    return ready
            ids.append(known)
        return ",".join(ids)

    def params(self, post: Post, i: int, parts: list[dict], ctx: DeliveryContext,
               containers: graph.Containers) -> dict | Failure:
        params = {"media_type": "TEXT", "text": post.parts[i]}
        if i == 0 and post.media:
            for media in post.media:
                unreachable = graph.public_image(self.session, media, "Threads")
                if unreachable is not None:
                    return unreachable
            if len(post.media) > 1:
                children = self.carousel(post, ctx, containers)
                if isinstance(children, Failure):
                    return children
                params.update(media_type="CAROUSEL", children=children)
            else:
                params.update(self.media_params(post.media[0]))
        if parts:
            params["reply_to_id"] = parts[-1]["id"]  # each part answers the one before
        reply_control = self.config.options.get("reply_control") or "everyone"
        if reply_control != "everyone":
            params["reply_control"] = reply_control
        return params

    def deliver(self, post: Post, ctx: DeliveryContext) -> DeliveryResult:
        parts = done_parts(ctx.journal, len(post.parts))
        if not parts:
            over = self.over_quota(ctx, len(post.parts))
            if over is not None:
                return over
        containers = self.containers(post)
        for i in range(len(parts), len(post.parts)):
            params = self.params(post, i, parts, ctx, containers)
            if isinstance(params, Failure):
                return params
            if ctx.dry_run:
                parts.append({"id": f"dry-run-{i}", "url": None, "params": params})
                continue
            what = f"part {i + 1} of {len(post.parts)}: " if len(post.parts) > 1 else ""
            video = i == 0 and any(self.is_video(m) for m in post.media)
            part = graph.publish_part(containers, ctx, i, params, what, self.permalink,
                                      graph.VIDEO_POLLS if video else graph.STATUS_POLLS)
            if isinstance(part, Failure):
                return with_partial(part, parts)
            parts.append(part)
        return receipt_from(parts, ctx)

    def find(self, text: str, *, reply: bool = False) -> Found | None | Failure:
        """The account's latest posts (or replies, for a thread's later parts), matched on the text."""
        edge = "replies" if reply else "threads"
        got = self._read(f"/{self.user}/{edge}", params={"fields": "id,text,permalink,timestamp", "limit": 50})
        if isinstance(got, Failure):
            return got
        wanted = comparable(text)
        for media in got.json().get("data") or []:
            if comparable(media.get("text") or "") == wanted:
                return Found(str(media["id"]), media.get("permalink"))
        return None

    def reconcile(self, post: Post, ctx: DeliveryContext) -> Receipt | Failure | None:
        """Each part's container in the journal says whether it was published; a published one is
        found among the latest posts. No container, or one not published: that part is not out."""
        parts = done_parts(ctx.journal, len(post.parts))
        containers = self.containers(post)
        for i in range(len(parts), len(post.parts)):
            status = graph.container_status(containers, ctx, i)
            if isinstance(status, Failure):
                return status
            if status != "PUBLISHED":
                break
            found = containers.find(i)
            if isinstance(found, Failure):
                return found
            if found is None:
                raise CannotReconcile(f"{self.name}: part {i + 1} was published (its container says so) but is "
                                      "not among the account's latest posts")
            part = {"id": found.id, "url": found.url, "container": ctx.journal.get(f"container:{i}")}
            ctx.journal.put(f"part:{i}", part)
            parts.append(part)
        return receipt_from(parts, ctx) if len(parts) == len(post.parts) else None

    # -- after publishing -------------------------------------------------------------------------
    def delete(self, receipt: Receipt, ctx: DeliveryContext) -> Removal | Failure:
        """Every part, last first (so no reply is left answering a removed post); a part already gone
        counts as removed."""
        parts = list(receipt.parts) or [{"id": receipt.remote_id}]
        gone = []
        for part in reversed(parts):
            if ctx.dry_run:
                continue
            got = self._call("DELETE", f"/{part['id']}")
            if isinstance(got, Failure):
                if graph.gone(got):
                    gone.append(str(part["id"]))
                    continue
                return got
        return Removal(at=ctx.now, already=len(gone) == len(parts) and not ctx.dry_run,
                       data={"already_gone": gone} if gone else {})

    # -- engagement ---------------------------------------------------------------------------
    INSIGHTS = {"views": "views", "likes": "likes", "replies": "replies", "reposts": "shares", "quotes": "quotes"}

    def fetch_replies(self, receipts: list[Receipt]) -> list[Reply]:
        pooled_session(self.session, self.CONCURRENCY, self.api)

        def conversation(receipt: Receipt) -> list[Reply]:
            own = {str(p.get("id")) for p in receipt.parts} | {receipt.remote_id}
            got = self._read(f"/{receipt.remote_id}/conversation", params={
                "fields": "id,text,username,permalink,timestamp,is_reply_owned_by_me,replied_to", "reverse": "false"})
            if isinstance(got, Failure):
                if graph.gone(got):
                    return []
                raise MetricsError(f"{self.name}: {got.message}")
            out = []
            for media in got.json().get("data") or []:
                if str(media["id"]) in own:
                    continue  # our own thread parts are not replies
                parent = (media.get("replied_to") or {}).get("id") or receipt.remote_id
                out.append(Reply(channel=self.name, remote_id=str(media["id"]), in_reply_to=str(parent),
                                 author=media.get("username") or "", text=media.get("text") or "",
                                 url=media.get("permalink"), at=parse_time(media.get("timestamp")),
                                 ours=bool(media.get("is_reply_owned_by_me"))))
            return out

        return [r for batch in run_concurrently(conversation, receipts, self.CONCURRENCY) for r in batch]

    # -- credentials --------------------------------------------------------------------------
    def verify(self) -> dict | Failure:
        got = self._read(f"/{self.user}", params={"fields": "id,username"}, attempts=1)
        if isinstance(got, Failure):
            return got
        return {"account": f"@{got.json().get('username', '')}"}

    def renew(self) -> tuple[str, timedelta | None] | Failure:
        """A renewed long-lived token and how long it lasts (``refresh_access_token``)."""
        host = (self.base_url or "https://graph.threads.net").rstrip("/")  # no version in this path
        got = graph.call(self.session, "GET", f"{host}/refresh_access_token",
                         params={"grant_type": "th_refresh_token", "access_token": self.secret("token") or ""},
                         auth_hint=f"make a new long-lived token for {self.name} in the Meta app dashboard")
        if isinstance(got, Failure):
            return got
        body = got.json()
        seconds = body.get("expires_in")
        return str(body["access_token"]), timedelta(seconds=int(seconds)) if seconds else None
