"""Instagram channel (type ``instagram``): a professional (business or creator) account through the
Instagram Graph API with Facebook Login (``graph.facebook.com``).

API facts (developers.facebook.com/docs/instagram-platform: ``content-publishing``,
``reference/ig-user/media``, ``reference/ig-user/media_publish``, ``reference/ig-container``,
``reference/ig-media/insights``, ``reference/ig-media/comments``, ``reference/ig-user/content_publishing_limit``):

- Two steps, as Threads: ``POST /{ig-user-id}/media`` (``image_url`` — JPEG only, fetched by Meta
  from a public server —, ``caption``, ``alt_text``; ``media_type=REELS`` with ``video_url``;
  ``is_carousel_item`` items then ``media_type=CAROUSEL`` with ``children``, at most 10) →
  ``{"id": container}``; ``GET /{container}?fields=status_code`` (IN_PROGRESS, FINISHED, PUBLISHED,
  ERROR, EXPIRED); ``POST /{ig-user-id}/media_publish`` {creation_id} → ``{"id": media}``.
- Captions: at most 2,200 characters, 30 hashtags and 20 @ tags. 100 API-published posts per
  account in 24 hours (``content_publishing_limit``). A post needs an image or a video.
- ``GET /{ig-user-id}/media?fields=id,caption,permalink,timestamp`` lists the latest posts: how a
  post whose publish answer was lost is found (the container's ``status_code`` says whether it was).
- Insights: ``GET /{media}/insights?metric=views,likes,comments,shares,saved`` (scope
  ``instagram_manage_insights``; ``impressions`` is retired for new media). Comments:
  ``GET /{media}/comments?fields=id,text,username,timestamp,replies{…}`` (``instagram_manage_comments``).
"""
from __future__ import annotations

import re
from datetime import timedelta

from newsroom import schema as s

from . import graph
from .base import CannotReconcile, DeliveryContext, DeliveryResult, Failure, Post, Receipt, Reply
from .graph import DEFAULT_VERSION
from .social import (Found, MetricsError, comparable, done_parts, parse_time, pooled_session, receipt_from,
                     run_concurrently, with_partial)

VIDEO = re.compile(r"\.(mp4|mov)$", re.IGNORECASE)
HASHTAG = re.compile(r"(?<![\w&])#\w+")
MENTION = re.compile(r"(?<![\w])@[\w.]+")


class Instagram(graph.GraphAdapter):
    TYPE = "instagram"
    MEDIUM = "social"
    MAX_CHARS = 2200
    LENGTH_SOURCE = "Instagram caption: 2,200 characters"
    MAX_HASHTAGS = 30
    MAX_MENTIONS = 20
    MAX_CAROUSEL = 10
    POSTS_PER_DAY = 100
    QUOTA_EDGE = "content_publishing_limit"  # reference/ig-user/content_publishing_limit
    PLATFORM = "Instagram"
    SUPPORTS_MEDIA = True
    METRICS_BATCH = 1
    CONCURRENCY = 4
    DEFAULT_GRACE = timedelta(hours=12)
    SECRETS = ("token",)
    SCOPES = {"posting": ("instagram_basic", "instagram_content_publish", "pages_show_list"),
              "media": ("instagram_content_publish",),
              "metrics": ("instagram_manage_insights", "instagram_manage_comments")}
    CANNOT_EDIT = "the Instagram API cannot change a published post's caption: edit it in the app"
    CANNOT_DELETE = "the Instagram API cannot delete a published post: delete it in the app"
    CHECKS_TOKEN = True
    TOKEN_HELP = ("connect the Instagram professional account to a Facebook Page, give the app instagram_basic, "
                  "instagram_content_publish, instagram_manage_insights and instagram_manage_comments, take the "
                  "Page's token (`publish auth` on a facebook channel gives it) and set it")
    TOKEN_NOTE = "A Page token taken from a long-lived user token does not lapse until the person's access is removed."
    OPTIONS = s.Schema("instagram options", [
        s.Key("user_id", s.Text(pattern=r"^\d+$", hint="is not a numeric Instagram user id"),
              "the Instagram professional account's id (the Page's instagram_business_account)", required=True),
        s.Key("token", s.Secret(), "the Page access token of the Page the account is connected to, from the "
              "environment (or sign in with client_id)"),
        s.Key("client_id", s.Text(), "the Meta app's id: with it `publish auth` signs in in a browser and keeps "
              "the token encrypted in state/credentials (no token needed)"),
        s.Key("client_secret", s.Secret(), "the Meta app's secret, from the environment (for `publish auth`)"),
        s.Key("version", s.Text(pattern=r"^v\d+\.\d$", hint="is not a Graph API version such as v26.0"),
              "Graph API version", default=DEFAULT_VERSION),
    ])

    def __init__(self, config, env, *, base_url=None):
        super().__init__(config, env, base_url=base_url)
        self._me: dict | None = None

    def owns_page(self, page: dict) -> bool:
        return str((page.get("instagram_business_account") or {}).get("id")) == self.user

    def page_missing(self) -> str:
        return (f"no Page the person who signed in can act for is connected to the Instagram account {self.user} "
                "(its instagram_business_account)")

    # -- limits -------------------------------------------------------------------------------
    @classmethod
    def caption_problems(cls, caption: str, media_count: int) -> list[str]:
        """What Instagram would refuse, said before anything is sent (``check`` shows it too)."""
        out = []
        if media_count == 0:
            out.append("an Instagram post needs an image: give the item an `image` (a JPEG, or an MP4 for a reel)")
        tags = HASHTAG.findall(caption)
        if len(tags) > cls.MAX_HASHTAGS:
            out.append(f"the caption has {len(tags)} hashtags; Instagram allows {cls.MAX_HASHTAGS}")
        mentions = MENTION.findall(caption)
        if len(mentions) > cls.MAX_MENTIONS:
            out.append(f"the caption has {len(mentions)} @ tags; Instagram allows {cls.MAX_MENTIONS}")
        return out

    # -- delivery -----------------------------------------------------------------------------
    def containers(self, caption: str) -> graph.Containers:
        return graph.containers(self, edge="media", publish_edge="media_publish", status_field="status_code",
                                error_field="status", find=lambda i: self.find(caption))

    def permalink(self, media_id: str) -> str | None:
        return self.media_permalink(media_id)

    def params(self, post: Post, caption: str, ctx: DeliveryContext) -> dict | Failure:
        media = post.media[: self.MAX_CAROUSEL]
        if len(media) == 1 and VIDEO.search(media[0].src.split("?", 1)[0]):
            # a reel: Meta fetches the video as it does images (reference/ig-user/media, media_type=REELS)
            unreachable = graph.public_image(self.session, media[0], "Instagram")
            if unreachable is not None:
                return unreachable
            return {"media_type": "REELS", "video_url": media[0].src, "caption": caption}
        for m in media:
            if not re.search(r"\.jpe?g$", m.src.split("?", 1)[0], re.IGNORECASE):
                return Failure(f"the image {m.src} is not a JPEG: Instagram publishes JPEG images only")
            unreachable = graph.public_image(self.session, m, "Instagram")
            if unreachable is not None:
                return unreachable
        if len(media) == 1:
            return {"image_url": media[0].src, "caption": caption, "alt_text": media[0].alt}
        children = []
        for j, m in enumerate(media):
            known = ctx.journal.get(f"media:{j}")
            if not known:
                got = self._call("POST", f"/{self.user}/media", data={"image_url": m.src, "is_carousel_item": "true",
                                                                      "alt_text": m.alt})
                if isinstance(got, Failure):
                    return with_partial(got, [], f"carousel image {j + 1}: ")
                known = str(got.json()["id"])
                ctx.journal.put(f"media:{j}", known)
            children.append(known)
        return {"media_type": "CAROUSEL", "caption": caption, "children": ",".join(children)}

    def deliver(self, post: Post, ctx: DeliveryContext) -> DeliveryResult:
        done = done_parts(ctx.journal, 1)
        if done:
            return receipt_from(done, ctx)
        caption = post.parts[0] if post.parts else post.text or ""
        problems = self.caption_problems(caption, len(post.media))
        if problems:
            return Failure("; ".join(problems))
        if ctx.dry_run:
            return receipt_from([{"id": "dry-run", "url": None}], ctx, caption=caption)
        over = self.over_quota(ctx)
        if over is not None:
            return over
        params = self.params(post, caption, ctx)
        if isinstance(params, Failure):
            return params
        part = graph.publish_part(self.containers(caption), ctx, 0, params, "", self.permalink)
        return part if isinstance(part, Failure) else receipt_from([part], ctx)

    def find(self, caption: str) -> Found | None | Failure:
        got = self._read(f"/{self.user}/media", params={"fields": "id,caption,permalink,timestamp", "limit": 25})
        if isinstance(got, Failure):
            return got
        wanted = comparable(caption)
        for media in got.json().get("data") or []:
            if comparable(media.get("caption") or "") == wanted:
                return Found(str(media["id"]), media.get("permalink"))
        return None

    def reconcile(self, post: Post, ctx: DeliveryContext) -> Receipt | Failure | None:
        """The container in the journal says whether the post was published; a published one is found
        among the account's latest posts."""
        caption = post.parts[0] if post.parts else post.text or ""
        containers = self.containers(caption)
        status = graph.container_status(containers, ctx, 0)
        if isinstance(status, Failure):
            return status
        if status != "PUBLISHED":
            return None
        found = containers.find(0)
        if isinstance(found, Failure):
            return found
        if found is None:
            raise CannotReconcile(f"{self.name}: the post was published (its container says so) but is not among "
                                  "the account's latest posts")
        part = {"id": found.id, "url": found.url, "container": ctx.journal.get("container:0")}
        ctx.journal.put("part:0", part)
        return receipt_from([part], ctx)

    # -- engagement ---------------------------------------------------------------------------
    INSIGHTS = {"views": "views", "likes": "likes", "comments": "replies", "shares": "shares", "saved": "bookmarks"}

    def me(self) -> dict:
        if self._me is None:
            got = self._read(f"/{self.user}", params={"fields": "id,username"})
            if isinstance(got, Failure):
                raise MetricsError(f"{self.name}: {got.message}")
            self._me = got.json()
        return self._me

    def fetch_replies(self, receipts: list[Receipt]) -> list[Reply]:
        if not receipts:
            return []
        me = self.me().get("username")
        pooled_session(self.session, self.CONCURRENCY, self.api)

        def comments(receipt: Receipt) -> list[Reply]:
            got = self._read(f"/{receipt.remote_id}/comments", params={
                "fields": "id,text,username,timestamp,replies{id,text,username,timestamp}", "limit": 50})
            if isinstance(got, Failure):
                if graph.gone(got):
                    return []
                raise MetricsError(f"{self.name}: {got.message}")
            out = []
            for c in got.json().get("data") or []:
                for node, parent in [(c, receipt.remote_id)] + [(r, c["id"]) for r in (c.get("replies") or {}).get("data") or []]:
                    out.append(Reply(channel=self.name, remote_id=str(node["id"]), in_reply_to=str(parent),
                                     author=node.get("username") or "", text=node.get("text") or "", url=None,
                                     at=parse_time(node.get("timestamp")), ours=node.get("username") == me))
            return out

        return [r for batch in run_concurrently(comments, receipts, self.CONCURRENCY) for r in batch]

    # -- credentials --------------------------------------------------------------------------
    def verify(self) -> dict | Failure:
        got = self._read(f"/{self.user}", params={"fields": "id,username"}, attempts=1)
        if isinstance(got, Failure):
            return got
        return {"account": f"@{got.json().get('username', '')}"}
