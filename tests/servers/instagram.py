"""The Instagram Graph API (Facebook Login) on loopback (developers.facebook.com/docs/instagram-platform:
``content-publishing``, ``reference/ig-user/media``, ``media_publish``, ``ig-container``,
``ig-media/insights``, ``ig-media/comments``):

- ``POST /{ig-user}/media`` (image_url, caption, alt_text, is_carousel_item, media_type CAROUSEL +
  children) → ``{"id": container}``; the server fetches ``image_url`` as Meta does (not 200 →
  400 code 9004 "Only photo or video can be accepted as media type", subcode 2207052); a caption over
  2,200 characters or with more than 30 hashtags → 400 code 100;
- ``GET /{container}?fields=status_code``: IN_PROGRESS for ``processing`` questions, FINISHED,
  PUBLISHED once published;
- ``POST /{ig-user}/media_publish`` {creation_id} → ``{"id": media}``; not FINISHED → 400 code 9007
  "Media ID is not available" (subcode 2207027);
- ``GET /{ig-user}/media``, ``GET /{media}`` (permalink), ``/{media}/insights``, ``/{media}/comments``.
"""
from __future__ import annotations

import re
import urllib.request

from .base import Answer, Seen
from .meta import MetaServer, graph_error

IG_USER = "17841405822304914"
USERNAME = "northwind.news"


class InstagramServer(MetaServer):
    routes = [
        ("POST", r"/(?P<user>\d+)/media", "create"),
        ("POST", r"/(?P<user>\d+)/media_publish", "publish"),
        ("GET", r"/(?P<user>\d+)/media", "listing"),
        ("GET", r"/(?P<user>\d+)/content_publishing_limit", "publishing_limit"),
        ("GET", r"/(?P<node>\d+)/insights", "insights"),
        ("GET", r"/(?P<node>\d+)/comments", "comments"),
        ("GET", r"/(?P<node>\d+)", "node"),
    ]

    def __init__(self, token="page-token", processing: int = 0):
        super().__init__(token)
        self.processing = processing
        self.containers: dict[str, dict] = {}
        self.media: list[dict] = []
        self.insight_counts: dict[str, dict] = {}
        self.comment_lists: dict[str, list] = {}
        self.quota_total = 100  # content-publishing guide: 100 API-published posts in 24 hours
        self.pages = [{"id": "104857600123456", "name": "Northwind News", "instagram_business_account": {"id": IG_USER}}]
        self.published_before = 0

    def create(self, seen: Seen, user):
        if user != IG_USER:
            return graph_error(400, f"(#100) Object with ID '{user}' does not exist", 100, 33)
        form = dict(seen.form)
        caption = form.get("caption", "")
        if len(caption) > 2200:
            return graph_error(400, "(#100) The caption is too long: at most 2200 characters", 100)
        if len(re.findall(r"#\w+", caption)) > 30:
            return graph_error(400, "(#100) The caption has more than 30 hashtags", 100)
        if form.get("media_type") == "CAROUSEL":
            children = [c for c in form.get("children", "").split(",") if c]
            if not 2 <= len(children) <= 10 or any(c not in self.containers for c in children):
                return graph_error(400, "(#100) A carousel needs 2 to 10 carousel item containers", 100)
        else:
            kind = "video_url" if form.get("media_type") == "REELS" else "image_url"
            url = form.get(kind, "")
            if not url:
                return graph_error(400, f"(#100) The parameter {kind} is required", 100)
            try:
                with urllib.request.urlopen(url, timeout=5) as fetched:
                    ok = fetched.status == 200
            except (OSError, ValueError):
                ok = False
            if not ok:
                return Answer(400, {"error": {"message": "Only photo or video can be accepted as media type.",
                                              "type": "OAuthException", "code": 9004, "error_subcode": 2207052,
                                              "error_user_title": "Media download has failed.",
                                              "error_user_msg": "The media could not be fetched from this uri",
                                              "fbtrace_id": "AbCdEf"}})
        cid = self.next_id()
        # a video is processed before it can be published: IN_PROGRESS at least once
        busy = self.processing or (1 if form.get("media_type") == "REELS" else 0)
        self.containers[cid] = {"id": cid, "status_code": "IN_PROGRESS" if busy else "FINISHED", "busy": busy,
                                "form": form, "asked": 0}
        return Answer(200, {"id": cid})

    def publish(self, seen: Seen, user):
        cid = dict(seen.form).get("creation_id", "")
        container = self.containers.get(cid)
        if container is None or container["status_code"] != "FINISHED":
            return Answer(400, {"error": {"message": "Media ID is not available", "type": "OAuthException",
                                          "code": 9007, "error_subcode": 2207027,
                                          "error_user_title": "Media is not ready",
                                          "error_user_msg": "The media is not ready for publishing, please wait "
                                                            "for a moment", "fbtrace_id": "AbCdEf"}})
        mid = self.next_id()
        self.media.append({"id": mid, "caption": container["form"].get("caption", ""),
                           "permalink": f"https://www.instagram.com/p/C{mid[-9:]}/",
                           "timestamp": f"2026-11-23T09:{len(self.media) % 60:02d}:00+0000",
                           "media_type": {"CAROUSEL": "CAROUSEL_ALBUM", "REELS": "VIDEO"}.get(
                               container["form"].get("media_type"), "IMAGE")})
        container["status_code"] = "PUBLISHED"
        return Answer(200, {"id": mid})

    def publishing_limit(self, seen: Seen, user):
        """``GET /{ig-user}/content_publishing_limit`` (reference/ig-user/content_publishing_limit), in the
        documented example's shape."""
        used = self.published_before + len(self.media)
        return Answer(200, {"data": [{"quota_usage": used, "config": {"quota_total": self.quota_total,
                                                                      "quota_duration": 86400}}]})

    def listing(self, seen: Seen, user):
        limit = int(self.param(seen, "limit", "25"))
        return Answer(200, {"data": [{k: m[k] for k in ("id", "caption", "permalink", "timestamp")}
                                     for m in self.media[::-1][:limit]], "paging": {"cursors": {}}})

    def node(self, seen: Seen, node):
        if node == IG_USER:
            return Answer(200, {"id": IG_USER, "username": USERNAME})
        container = self.containers.get(node)
        if container is not None:
            container["asked"] += 1
            if container["status_code"] == "IN_PROGRESS" and container["asked"] > container["busy"]:
                container["status_code"] = "FINISHED"
            return Answer(200, {"id": node, "status_code": container["status_code"],
                                "status": "Finished: Media has been uploaded and it is ready to be published."
                                if container["status_code"] == "FINISHED" else container["status_code"]})
        for media in self.media:
            if media["id"] == node:
                return Answer(200, {"id": node, "permalink": media["permalink"]})
        return graph_error(400, f"(#100) Object with ID '{node}' does not exist", 100, 33)

    def insights(self, seen: Seen, node):
        if not any(m["id"] == node for m in self.media):
            return graph_error(400, f"(#100) Object with ID '{node}' does not exist, cannot be loaded due to missing "
                                    "permissions, or does not support this operation", 100, 33)
        counts = self.insight_counts.get(node, {})
        wanted = (self.param(seen, "metric") or "").split(",")
        return Answer(200, {"data": [{"name": n, "period": "lifetime", "values": [{"value": counts.get(n, 0)}],
                                      "title": n.title(), "id": f"{node}/insights/{n}/lifetime"} for n in wanted if n]})

    def comments(self, seen: Seen, node):
        return Answer(200, {"data": self.comment_lists.get(node, []), "paging": {"cursors": {}}})
