"""The Threads API on loopback (developers.facebook.com/documentation/threads: ``posts``,
``troubleshooting``, ``insights``, ``reply-management``, ``get-started/long-lived-tokens``):

- ``POST /{user}/threads`` (form: media_type, text, image_url, video_url, alt_text, reply_to_id,
  is_carousel_item, children, reply_control) → ``{"id": container}``; 400 code 100 for a missing or
  bad parameter, text over 500 (emoji by UTF-8 bytes). An IMAGE or VIDEO container fetches its URL
  as Meta does: a URL that does not answer 200 leaves the container in ERROR
  (``FAILED_DOWNLOADING_VIDEO``); a video stays IN_PROGRESS for ``video_busy`` questions, then is
  FINISHED (or ERROR with ``video_error``). A carousel is made of processed (FINISHED) items only.
- ``GET /{container}?fields=status,error_message``: IN_PROGRESS for ``processing`` questions, then
  FINISHED; PUBLISHED once published.
- ``POST /{user}/threads_publish`` {creation_id} → ``{"id": media}``; a container not FINISHED is
  refused (code 100, ``error_subcode`` 4279009 "Media Not Ready"), a published one too.
- ``GET /{user}/threads`` and ``/replies`` (newest first, ``data`` + ``paging``), ``GET /{media}``,
  ``/{media}/insights`` (``data[{name, period, values[{value}], title, id}]``),
  ``/{media}/conversation``, ``GET /refresh_access_token``.
"""
from __future__ import annotations

import urllib.request

from channels.threads import threads_length

from .base import Answer, Seen
from .meta import MetaServer, graph_error

USER_ID = "17841401234567890"
USERNAME = "northwind"


class ThreadsServer(MetaServer):
    routes = [
        ("GET", r"/refresh_access_token", "refresh"),
        ("GET", r"/(?P<user>me|\d+)/threads_publishing_limit", "publishing_limit"),
        ("POST", r"/(?P<user>me|\d+)/threads", "create"),
        ("POST", r"/(?P<user>me|\d+)/threads_publish", "publish"),
        ("GET", r"/(?P<user>me|\d+)/(?P<edge>threads|replies)", "listing"),
        ("GET", r"/(?P<node>\d+)/insights", "insights"),
        ("GET", r"/(?P<node>\d+)/conversation", "conversation"),
        ("GET", r"/(?P<node>me|\d+)", "node"),
        ("DELETE", r"/(?P<node>\d+)", "remove"),
    ]

    def __init__(self, token="threads-token", processing: int = 0):
        super().__init__(token)
        self.processing = processing
        self.containers: dict[str, dict] = {}
        self.media: list[dict] = []  # oldest first
        self.insight_counts: dict[str, dict] = {}
        self.reply_lists: dict[str, list] = {}
        self.quota_total = 250  # overview, "Posts": 250 API-published posts in 24 hours
        self.published_before = 0  # posts the account published through the API earlier in the last 24 hours
        self.reply_quota_total = 1000  # retrieve-and-manage-replies, "Rate limits": 1,000 replies in 24 hours
        self.replied_before = 0  # replies published through the API earlier in the last 24 hours
        self.video_busy = 1  # status questions a video container stays IN_PROGRESS for (Meta processes it)
        self.video_error = ""  # a documented error_message a processed video ends in (troubleshooting)

    def _user(self, user):
        return user in ("me", USER_ID)

    def create(self, seen: Seen, user):
        form = dict(seen.form)
        kind = form.get("media_type")
        if kind not in ("TEXT", "IMAGE", "VIDEO", "CAROUSEL"):
            return graph_error(400, "(#100) The parameter media_type is required", 100)
        text = form.get("text", "")
        if kind == "TEXT" and not text:
            return graph_error(400, "(#100) The parameter text is required", 100)
        if threads_length(text) > 500:
            return graph_error(400, "(#100) Param text must be at most 500 characters long.", 100)
        reply_to = form.get("reply_to_id")
        if reply_to and not any(m["id"] == reply_to for m in self.media):
            return graph_error(400, f"(#100) Invalid parameter reply_to_id {reply_to}", 100)
        status, error = "IN_PROGRESS" if self.processing else "FINISHED", ""
        busy, ends_in = self.processing, ""
        if kind in ("IMAGE", "VIDEO"):
            field = "image_url" if kind == "IMAGE" else "video_url"
            if not form.get(field):
                return graph_error(400, f"(#100) The parameter {field} is required", 100)
            try:  # Meta fetches the media itself from its public URL
                with urllib.request.urlopen(form[field], timeout=5) as fetched:
                    ok = fetched.status == 200
            except OSError:
                ok = False
            if not ok:
                status, error = "ERROR", f"FAILED_DOWNLOADING_{kind}"
            elif kind == "VIDEO":  # processed before it can be published: IN_PROGRESS for a while
                status, busy, ends_in = "IN_PROGRESS", max(self.video_busy, self.processing), self.video_error
        if kind == "CAROUSEL":
            children = [c for c in form.get("children", "").split(",") if c]
            if not 2 <= len(children) <= 20 or any(c not in self.containers for c in children):
                return graph_error(400, "(#100) A carousel needs 2 to 20 carousel item containers", 100)
            if any(self.containers[c]["status"] != "FINISHED" for c in children):
                return graph_error(400, "(#100) Carousel items must be processed (FINISHED) before the carousel "
                                        "is made", 100)
        cid = self.next_id()
        self.containers[cid] = {"id": cid, "status": status, "error_message": error, "form": form,
                                "asked": 0, "busy": busy, "ends_in": ends_in}
        return Answer(200, {"id": cid})

    def publish(self, seen: Seen, user):
        cid = dict(seen.form).get("creation_id", "")
        container = self.containers.get(cid)
        if container is None:
            return graph_error(400, f"(#100) Invalid parameter creation_id {cid}", 100)
        if container["status"] != "FINISHED":
            return Answer(400, {"error": {"message": "Media Not Ready", "type": "OAuthException", "code": 9007,
                                          "error_subcode": 4279009, "error_user_msg": "The media is not ready "
                                          "to be published. Please wait a moment.", "fbtrace_id": "AbCdEf"}})
        form = container["form"]
        mid = self.next_id()
        media = {"id": mid, "text": form.get("text", ""), "media_type": form["media_type"],
                 "permalink": f"https://www.threads.com/@{USERNAME}/post/C{mid[-8:]}",
                 "timestamp": f"2026-11-23T09:{len(self.media) % 60:02d}:00+0000", "username": USERNAME,
                 "reply_to": form.get("reply_to_id")}
        self.media.append(media)
        container["status"] = "PUBLISHED"
        return Answer(200, {"id": mid})

    def publishing_limit(self, seen: Seen, user):
        """``GET /{user}/threads_publishing_limit?fields=quota_usage,config`` (overview, "Posts"): posts,
        not replies, published in the last 24 hours, in the documented example's shape; with
        ``reply_quota_usage,reply_config`` (retrieve-and-manage-replies, "Rate limits") the replies too.
        Only the fields asked for are answered, as the Graph API does."""
        fields = set(self.param(seen, "fields", "").split(","))
        row: dict = {}
        if "quota_usage" in fields:
            row["quota_usage"] = self.published_before + sum(1 for m in self.media if not m["reply_to"])
        if "config" in fields:
            row["config"] = {"quota_total": self.quota_total, "quota_duration": 86400}
        if "reply_quota_usage" in fields:
            row["reply_quota_usage"] = self.replied_before + sum(1 for m in self.media if m["reply_to"])
        if "reply_config" in fields:
            row["reply_config"] = {"quota_total": self.reply_quota_total, "quota_duration": 86400}
        return Answer(200, {"data": [row]})

    def listing(self, seen: Seen, user, edge):
        replies = edge == "replies"
        items = [m for m in self.media if bool(m["reply_to"]) == replies][::-1]
        limit = int(self.param(seen, "limit", "25"))
        return Answer(200, {"data": [{k: m[k] for k in ("id", "text", "permalink", "timestamp")}
                                     for m in items[:limit]],
                            "paging": {"cursors": {"before": "QVFIUk", "after": "QVFIUl"}}})

    def node(self, seen: Seen, node):
        if node == "me" or node == USER_ID:
            return Answer(200, {"id": USER_ID, "username": USERNAME})
        container = self.containers.get(node)
        if container is not None:
            container["asked"] += 1
            if container["status"] == "IN_PROGRESS" and container["asked"] > container.get("busy", self.processing):
                if container.get("ends_in"):
                    container["status"], container["error_message"] = "ERROR", container["ends_in"]
                else:
                    container["status"] = "FINISHED"
            out = {"id": node, "status": container["status"]}
            if container["error_message"]:
                out["error_message"] = container["error_message"]
            return Answer(200, out)
        for media in self.media:
            if media["id"] == node:
                return Answer(200, {k: media[k] for k in ("id", "permalink", "text", "username", "timestamp")})
        return graph_error(400, f"(#100) Object with ID '{node}' does not exist, cannot be loaded due to missing "
                                "permissions, or does not support this operation", 100, 33)

    def insights(self, seen: Seen, node):
        if not any(m["id"] == node for m in self.media):
            return graph_error(400, f"(#100) Object with ID '{node}' does not exist", 100, 33)
        counts = self.insight_counts.get(node, {})
        wanted = (self.param(seen, "metric") or "").split(",")
        return Answer(200, {"data": [{"name": name, "period": "lifetime", "values": [{"value": counts.get(name, 0)}],
                                      "title": name.title(), "id": f"{node}/insights/{name}/lifetime"}
                                     for name in wanted if name]})

    def conversation(self, seen: Seen, node):
        return Answer(200, {"data": self.reply_lists.get(node, []), "paging": {"cursors": {}}})

    def refresh(self, seen: Seen):
        if self.param(seen, "grant_type") != "th_refresh_token":
            return graph_error(400, "(#100) Unsupported grant_type", 100)
        self.renewed.add("threads-token-renewed")
        return Answer(200, {"access_token": "threads-token-renewed", "token_type": "bearer", "expires_in": 5183944})

    def remove(self, seen: Seen, node):
        """``DELETE /{threads-media-id}`` (``posts/delete-posts``): ``{"success": true, "deleted_id"}``."""
        for media in self.media:
            if media["id"] == node:
                self.media.remove(media)
                return Answer(200, {"success": True, "deleted_id": node})
        return graph_error(400, f"(#100) Object with ID '{node}' does not exist, cannot be loaded due to missing "
                                "permissions, or does not support this operation", 100, 33)
