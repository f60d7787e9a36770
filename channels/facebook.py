"""Facebook Pages channel (type ``facebook``): posts on a Page's feed through the Graph API.

API facts (developers.facebook.com/docs: ``pages-api/posts``, ``graph-api/reference/page/feed``,
``graph-api/reference/page/photos``, ``graph-api/reference/post``, ``graph-api/reference/object/comments``,
``platforminsights/page`` and its ``deprecated-metrics``):

- A Page access token (from a person who can create content on the Page, scopes
  ``pages_manage_posts``, ``pages_read_engagement``, ``pages_read_user_content``,
  ``pages_show_list``); taken from a long-lived user token it does not lapse.
- ``POST /{page-id}/feed`` (form: ``message``, ``link``) → ``{"id": "{page-id}_{post-id}"}``;
  ``POST /{page-id}/photos`` (``url`` Meta fetches, or the bytes as ``source``; ``message``) →
  ``{"id": photo, "post_id": "{page-id}_{post-id}"}``.
- No idempotency key: before repeating a write whose outcome is unknown, the Page's latest posts
  (``GET /{page-id}/feed?fields=id,message,permalink_url``) are read back and matched on the text.
- Engagement in one call for up to 50 posts (``GET /?ids=…``, the Graph API's multiple-id lookup):
  ``shares``, ``reactions.summary(total_count)``, ``comments.summary(total_count)`` and the insight
  ``post_total_media_view_unique`` (views; ``post_impressions*`` were retired in 2025).
- Comments: ``GET /{post-id}/comments?filter=stream`` (id, message, from, created_time, permalink_url).
- A post's text can be 63,206 characters long (Facebook's post composer limit).
"""
from __future__ import annotations

from datetime import timedelta

from newsroom import schema as s

from . import graph
from .graph import DEFAULT_VERSION
from .base import DeliveryContext, DeliveryResult, Failure, Post, Receipt, Removal, Reply
from .text import URL_RE
from .social import (Found, MetricsError, chunks, comparable, done_parts, media_bytes, parse_time, pooled_session,
                     read_back, receipt_from, run_concurrently, write_part)



class Facebook(graph.GraphAdapter):
    TYPE = "facebook"
    MEDIUM = "social"
    MAX_CHARS = 63206
    LENGTH_SOURCE = "Facebook post text: 63,206 characters"
    SUPPORTS_MEDIA = True
    METRICS_BATCH = 50  # the multiple-id lookup takes at most 50 ids
    CONCURRENCY = 4
    DEFAULT_GRACE = timedelta(hours=12)
    SECRETS = ("token",)
    SCOPES = {"posting": ("pages_manage_posts", "pages_show_list"), "media": ("pages_manage_posts",),
              "metrics": ("pages_read_engagement", "read_insights", "pages_read_user_content")}
    EDITS = True  # POST /{post-id} {message} (graph-api/reference/post: Updating)
    DELETES = True  # DELETE /{post-id} (graph-api/reference/post: Deleting)
    CHECKS_TOKEN = True
    TOKEN_HELP = ("give the app the Page permissions pages_manage_posts, pages_read_engagement and "
                  "pages_read_user_content, take a long-lived user token of a person who can post on the Page "
                  "(Graph API Explorer, or the app's login), then set it; `publish auth` turns it into the Page's token")
    TOKEN_NOTE = "A Page token taken from a long-lived user token does not lapse until the person's access is removed."
    OPTIONS = s.Schema("facebook options", [
        s.Key("page_id", s.Text(pattern=r"^\d+$", hint="is not a numeric Page id"), "the Page's numeric id",
              required=True),
        s.Key("token", s.Secret(), "the Page access token, from the environment (or sign in with client_id)"),
        s.Key("client_id", s.Text(), "the Meta app's id: with it `publish auth` signs in in a browser and keeps "
              "the token encrypted in state/credentials (no token needed)"),
        s.Key("client_secret", s.Secret(), "the Meta app's secret, from the environment (for `publish auth`)"),
        s.Key("version", s.Text(pattern=r"^v\d+\.\d$", hint="is not a Graph API version such as v26.0"),
              "Graph API version", default=DEFAULT_VERSION),
    ])

    @property
    def page(self) -> str:
        return str(self.config.options.get("page_id"))

    def owns_page(self, page: dict) -> bool:
        return str(page.get("id")) == self.page

    def page_missing(self) -> str:
        return f"the Page {self.page} is not among the Pages the person who signed in can act for"

    # -- delivery -----------------------------------------------------------------------------
    def deliver(self, post: Post, ctx: DeliveryContext) -> DeliveryResult:
        done = done_parts(ctx.journal, 1)
        if done:
            return receipt_from(done, ctx)
        text = post.parts[0] if post.parts else post.text or ""
        media = post.media[0] if post.media else None
        if ctx.dry_run:
            return receipt_from([{"id": "dry-run", "url": None}], ctx,
                                request={"edge": "photos" if media else "feed", "message": text})
        upload = None
        if media is not None:
            if media.path:  # the bytes themselves: the blog need not be deployed yet
                loaded = media_bytes(self.session, media)
                if isinstance(loaded, Failure):
                    return loaded
                data, mime, name = loaded
                upload = {"source": (name, data, mime)}
            else:
                unreachable = graph.public_image(self.session, media, "Facebook")
                if unreachable is not None:
                    return unreachable

        def send():
            if media is None:
                # the link previewed is the one in the text (with its UTM tags), else the item's page
                found_link = URL_RE.search(text)
                link = found_link.group(0) if found_link else post.url
                got = self._call("POST", f"/{self.page}/feed", data={"message": text, "link": link})
                key = "id"
            elif upload is not None:
                got = self._call("POST", f"/{self.page}/photos", data={"message": text}, files=upload)
                key = "post_id"
            else:
                got = self._call("POST", f"/{self.page}/photos", data={"message": text, "url": media.src})
                key = "post_id"
            if isinstance(got, Failure):
                return got
            post_id = str(got.json()[key])
            return {"id": post_id, "url": self.permalink(post_id)}

        part = write_part(ctx, 0, send, lambda: self.find(text))
        return part if isinstance(part, Failure) else receipt_from([part], ctx)

    def permalink(self, post_id: str) -> str:
        got = self._read(f"/{post_id}", params={"fields": "permalink_url"}, attempts=1)
        if not isinstance(got, Failure) and got.json().get("permalink_url"):
            return got.json()["permalink_url"]
        page, _, story = post_id.partition("_")
        return f"https://www.facebook.com/{page}/posts/{story or page}"

    def find(self, text: str) -> Found | None | Failure:
        got = self._read(f"/{self.page}/feed", params={"fields": "id,message,permalink_url,created_time", "limit": 25})
        if isinstance(got, Failure):
            return got
        wanted = comparable(text)
        for item in got.json().get("data") or []:
            if comparable(item.get("message") or "") == wanted:
                return Found(str(item["id"]), item.get("permalink_url"))
        return None

    def reconcile(self, post: Post, ctx: DeliveryContext) -> Receipt | None:
        return read_back(self.name, ctx, [post.parts[0] if post.parts else post.text or ""], self.find)

    # -- after publishing -------------------------------------------------------------------------
    def edit(self, post: Post, receipt: Receipt, ctx: DeliveryContext) -> Receipt | Failure:
        """The post's message replaced (``POST /{post-id}`` {message}); a photo stays as it is."""
        text = post.parts[0] if post.parts else post.text or ""
        if ctx.dry_run:
            return receipt
        got = self._call("POST", f"/{receipt.remote_id}", data={"message": text})
        if isinstance(got, Failure):
            return got
        return Receipt(remote_id=receipt.remote_id, url=receipt.url, at=ctx.now, parts=receipt.parts,
                       data={**receipt.data, "edited": True})

    def delete(self, receipt: Receipt, ctx: DeliveryContext) -> Removal | Failure:
        if ctx.dry_run:
            return Removal(at=ctx.now)
        got = self._call("DELETE", f"/{receipt.remote_id}")
        if isinstance(got, Failure):
            if graph.gone(got):  # "does not exist, cannot be loaded …": gone already
                return Removal(at=ctx.now, already=True, data={"note": got.message})
            return got
        return Removal(at=ctx.now)

    # -- engagement ---------------------------------------------------------------------------
    FIELDS = ("shares,reactions.summary(total_count).limit(0),comments.summary(total_count).limit(0),"
              "insights.metric(post_total_media_view_unique)")

    @staticmethod
    def metrics_of(node: dict) -> dict[str, int]:
        def total(edge):
            return int(((node.get(edge) or {}).get("summary") or {}).get("total_count") or 0)

        views = 0
        for metric in (node.get("insights") or {}).get("data") or []:
            if metric.get("name") == "post_total_media_view_unique":
                views = int(((metric.get("values") or [{}])[-1] or {}).get("value") or 0)
        return {"views": views, "likes": total("reactions"), "replies": total("comments"),
                "shares": int((node.get("shares") or {}).get("count") or 0)}

    def fetch_metrics(self, receipts: list[Receipt]) -> dict[str, dict[str, int]]:
        ids = list(dict.fromkeys(r.remote_id for r in receipts))
        pooled_session(self.session, self.CONCURRENCY, self.api)

        def batch(chunk) -> dict[str, dict[str, int]]:
            chunk = list(chunk)
            while True:
                got = self._read("/", params={"ids": ",".join(chunk), "fields": self.FIELDS})
                if not isinstance(got, Failure):
                    break
                # One deleted post fails the whole lookup with code 803 "Some of the aliases you requested do
                # not exist: a,b": asked again without them
                missing = set(got.message.split("do not exist: ", 1)[1].split(" (code")[0].split(",")) \
                    if "(code 803)" in got.message and "do not exist: " in got.message else set()
                if not missing & set(chunk):
                    raise MetricsError(f"{self.name}: {got.message}")
                chunk = [i for i in chunk if i not in missing]
                if not chunk:
                    return {}
            return {str(k): self.metrics_of(v) for k, v in (got.json() or {}).items() if isinstance(v, dict)}

        out: dict[str, dict[str, int]] = {}
        for found in run_concurrently(batch, chunks(ids, self.METRICS_BATCH), self.CONCURRENCY):
            out.update(found)
        return out

    def fetch_replies(self, receipts: list[Receipt]) -> list[Reply]:
        pooled_session(self.session, self.CONCURRENCY, self.api)

        def comments(receipt: Receipt) -> list[Reply]:
            got = self._read(f"/{receipt.remote_id}/comments", params={
                "fields": "id,message,from,created_time,permalink_url,parent{id}", "filter": "stream", "limit": 100})
            if isinstance(got, Failure):
                if graph.gone(got):
                    return []
                raise MetricsError(f"{self.name}: {got.message}")
            out = []
            for c in got.json().get("data") or []:
                author = c.get("from") or {}
                out.append(Reply(channel=self.name, remote_id=str(c["id"]),
                                 in_reply_to=str((c.get("parent") or {}).get("id") or receipt.remote_id),
                                 author=author.get("name", ""), text=c.get("message") or "", url=c.get("permalink_url"),
                                 at=parse_time(c.get("created_time")), ours=str(author.get("id")) == self.page))
            return out

        return [r for batch in run_concurrently(comments, receipts, self.CONCURRENCY) for r in batch]

    # -- credentials --------------------------------------------------------------------------
    def verify(self) -> dict | Failure:
        got = self._read("/me", params={"fields": "id,name"}, attempts=1)
        if isinstance(got, Failure):
            return got
        me = got.json()
        if str(me.get("id")) != self.page:
            return {"account": f"{me.get('name', '?')}, a person: `publish auth {self.name} --show` gives the Page's token"}
        return {"account": f"the Page {me.get('name', '?')}"}

    def renew(self) -> tuple[str, timedelta | None] | Failure:
        """The Page's own token, asked with the token in the environment (a person's long-lived token
        gives a Page token that does not lapse): ``GET /{page-id}?fields=access_token``."""
        got = self._read(f"/{self.page}", params={"fields": "access_token,name"}, attempts=1)
        if isinstance(got, Failure):
            return got
        token = got.json().get("access_token")
        if not token:
            return Failure(f"the token cannot act for the Page {self.page} (no access_token in the answer): the person "
                           "must be able to create content on the Page and grant pages_manage_posts")
        return str(token), None
