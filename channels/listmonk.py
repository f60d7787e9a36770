"""listmonk (type ``listmonk``): a newsletter sent through a self-hosted listmonk, then measured.

The post is rendered as an email (``templates/email/``: subject, HTML and text, one variant per
segment); each variant becomes one listmonk campaign for the list of its segment (``lists:``
maps a segment, or ``all``, to a listmonk list id), started at once (``send: start``) or handed to
listmonk's scheduler (``send: schedule``, ``send_at`` = the run's time).

API (knadh/listmonk ``docs/docs/content/apis/campaigns.md`` and ``apis.md``):
- auth ``Authorization: token <api user>:<token>``; answers ``{"data": …}``, errors
  ``{"message": …}`` with 4xx/5xx (400 bad values, 403 a refused token, 429 too many requests);
- ``POST /api/campaigns`` {name, subject, lists, from_email, type: regular, content_type: html, body,
  altbody, tags, template_id, send_at} → the campaign, ``status: draft``;
- ``PUT /api/campaigns/{id}/status`` {"status": "running" | "scheduled"}: only a draft can be
  scheduled, only a draft or paused campaign can start;
- ``GET /api/campaigns?tags=…&per_page=all&no_body=true``: campaigns with ``views``, ``clicks``,
  ``bounces``, ``sent``, ``to_send``, ``status``.

Exactly once: each campaign carries the tag ``nr-<hash of the entry key and segment>``; the journal
marks a create before it is sent, and a run that died between the create and its record finds the
campaign by that tag instead of creating a second one (a draft found is started, not duplicated).

Metrics: every campaign tagged ``newsroom`` in one request; an entry's figures are its campaigns'
sums: ``sent``, ``opens`` (listmonk's ``views``: opens, not unique), ``clicks``, ``bounces``.
"""
from __future__ import annotations

import hashlib
from typing import ClassVar

from newsroom import schema as s

from .base import CannotReconcile, Channel, DeliveryContext, DeliveryResult, Failure, Post, Receipt
from .http import request
from .social import Found, receipt_from

TAG = "newsroom"


def campaign_tag(key: str, segment: str) -> str:
    return "nr-" + hashlib.sha256(f"{key}:{segment}".encode()).hexdigest()[:16]


class Listmonk(Channel):
    TYPE = "listmonk"
    MEDIUM = "email"
    RENDER_AS = "email"
    COUNTS_CLICKS = True
    MAX_CHARS = None
    DEFAULT_GRACE = None
    SECRETS = ("token",)
    METRICS_BATCH = 500
    STARTED: ClassVar[tuple[str, ...]] = ("running", "scheduled", "finished", "paused")
    OPTIONS = s.Schema("listmonk options", [
        s.Key("url", s.Url(), "listmonk's base URL, e.g. https://lists.example.com", required=True),
        s.Key("username", s.Text(), "the API user's name (Admin → Users)", required=True),
        s.Key("token", s.Secret(), "the API user's token, from the environment", required=True),
        s.Key("lists", s.MapOf(s.Integer(minimum=1), "mapping of segment → list id"),
              "listmonk list id per segment; 'all' for items without segments", required=True),
        s.Key("from", s.Text(), "From address (default: listmonk's setting)"),
        s.Key("template_id", s.Integer(minimum=1), "listmonk template id (default: listmonk's default)"),
        s.Key("send", s.Choice("start", "schedule"), "start the campaign at once, or hand it to listmonk's scheduler",
              default="start"),
        # the email templates link to channel.options.unsubscribe_url: here listmonk's own per-subscriber
        # link, a template expression listmonk fills when it sends (docs/docs/content/templating.md)
        s.Key("unsubscribe_url", s.Text(), "the unsubscribe link the email templates show",
              default="{{ UnsubscribeURL }}"),
    ])

    @property
    def options(self) -> dict:
        return self.config.options

    @property
    def api(self) -> str:
        return (self.base_url or str(self.options.get("url") or "")).rstrip("/")

    def headers(self) -> dict:
        return {"Authorization": f"token {self.options.get('username')}:{self.secret('token') or ''}"}

    def _call(self, method: str, path: str, **kwargs):
        got = request(self.session, method, self.api + path, headers=self.headers(), **kwargs)
        if isinstance(got, Failure) and got.status in (401, 403):
            return self.refused(got, "token")
        return got

    # -- delivery -----------------------------------------------------------------------------
    def campaigns(self, post: Post) -> list[dict]:
        variants = post.data.get("variants") or [{"segment": post.segment or "all", "subject": post.subject,
                                                  "html": post.html, "text": post.text}]
        return [{"segment": v.get("segment") or "all", "subject": v.get("subject") or post.title,
                 "html": v.get("html") or "", "text": v.get("text") or ""} for v in variants]

    def body(self, post: Post, c: dict, ctx: DeliveryContext) -> dict | Failure:
        lists = self.options.get("lists") or {}
        if c["segment"] not in lists:
            return Failure(f"no listmonk list for segment '{c['segment']}': add it under channels.{self.name}.lists "
                           "in publish.yml")
        tag = campaign_tag(ctx.key, c["segment"])
        body = {"name": f"{post.title} [{tag}]", "subject": c["subject"], "lists": [lists[c["segment"]]],
                "type": "regular", "content_type": "html", "body": c["html"], "altbody": c["text"],
                "tags": [TAG, tag], "messenger": "email"}
        if self.options.get("from"):
            body["from_email"] = self.options["from"]
        if self.options.get("template_id"):
            body["template_id"] = self.options["template_id"]
        if self.options.get("send") == "schedule":
            body["send_at"] = ctx.sending_time().strftime("%Y-%m-%dT%H:%M:%SZ")
        return body

    def deliver(self, post: Post, ctx: DeliveryContext) -> DeliveryResult:
        parts = []
        for i, c in enumerate(self.campaigns(post)):
            body = self.body(post, c, ctx)
            if isinstance(body, Failure):
                return body
            if ctx.dry_run:
                parts.append({"id": "dry-run", "url": None, "segment": c["segment"]})
                continue
            part = self._one(i, body, c["segment"], ctx)
            if isinstance(part, Failure):
                return part
            parts.append(part)
        return receipt_from(parts, ctx, service="listmonk")

    def _one(self, i: int, body: dict, segment: str, ctx: DeliveryContext) -> dict | Failure:
        journal = ctx.journal
        made = journal.get(f"campaign:{i}")
        if made is None and journal.get(f"creating:{i}"):
            found = self.find(body["tags"][1])  # the create may have gone through: look before sending again
            if isinstance(found, Failure):
                return found
            if found is not None:
                made = {"id": found.id, "status": found.extra["status"]}
                journal.put(f"campaign:{i}", made)
        if made is None:
            journal.put(f"creating:{i}", True)
            got = self._call("POST", "/api/campaigns", json=body)
            if isinstance(got, Failure):
                if not got.ambiguous:
                    journal.put(f"creating:{i}", False)
                return got
            data = got.json().get("data") or {}
            made = {"id": str(data["id"]), "status": data.get("status", "draft")}
            journal.put(f"campaign:{i}", made)
        if made["status"] not in self.STARTED:
            status = "scheduled" if "send_at" in body else "running"
            got = self._call("PUT", f"/api/campaigns/{made['id']}/status", json={"status": status})
            if isinstance(got, Failure):
                if got.status == 400:  # started by a run that died before hearing so: ask
                    now = self._status(made["id"])
                    if isinstance(now, str) and now in self.STARTED:
                        made = {**made, "status": now}
                        journal.put(f"campaign:{i}", made)
                        return {"id": made["id"], "url": None, "segment": segment, "status": now}
                return got
            made = {**made, "status": (got.json().get("data") or {}).get("status", status)}
            journal.put(f"campaign:{i}", made)
        return {"id": made["id"], "url": None, "segment": segment, "status": made["status"]}

    def _status(self, cid: str) -> str | Failure:
        got = self._call("GET", f"/api/campaigns/{cid}", params={"no_body": "true"})
        if isinstance(got, Failure):
            return got
        return str((got.json().get("data") or {}).get("status") or "")

    def find(self, tag: str) -> Found | None | Failure:
        got = self._call("GET", "/api/campaigns", params={"tags": tag, "per_page": "all", "no_body": "true"})
        if isinstance(got, Failure):
            return got
        for c in (got.json().get("data") or {}).get("results") or []:
            if tag in (c.get("tags") or []):
                return Found(str(c["id"]), None, {"status": c.get("status", "draft")})
        return None

    def reconcile(self, post: Post, ctx: DeliveryContext) -> Receipt | Failure | None:
        parts = []
        for c in self.campaigns(post):
            found = self.find(campaign_tag(ctx.key, c["segment"]))
            if isinstance(found, Failure):
                return found
            if found is None or found.extra["status"] not in self.STARTED:
                if parts or found is not None:
                    raise CannotReconcile(f"listmonk has the campaigns of {len(parts)} segment(s) of this entry, "
                                          "not all started: finish or delete them in listmonk, then resolve the entry")
                return None
            parts.append({"id": found.id, "url": None, "segment": c["segment"], "status": found.extra["status"]})
        return receipt_from(parts, ctx, service="listmonk") if parts else None

    # -- engagement ---------------------------------------------------------------------------
    def fetch_metrics(self, receipts: list[Receipt]) -> dict[str, dict[str, int]] | Failure:
        got = self._call("GET", "/api/campaigns", params={"tags": TAG, "per_page": "all", "no_body": "true"})
        if isinstance(got, Failure):
            return got
        by_id = {str(c.get("id")): c for c in (got.json().get("data") or {}).get("results") or []}
        figures = {i: {"sent": int(c.get("sent") or 0), "opens": int(c.get("views") or 0),
                       "clicks": int(c.get("clicks") or 0), "bounces": int(c.get("bounces") or 0)}
                   for i, c in by_id.items()}
        out = {}
        for r in receipts:
            parts = [p for p in r.parts if isinstance(p, dict)]
            ids = [str(p.get("id")) for p in parts] or [r.remote_id]
            found = [figures[i] for i in ids if i in figures]
            if not found:
                continue
            out[r.remote_id] = {k: sum(f[k] for f in found) for k in found[0]} | per_segment(parts, figures)
        return out


def per_segment(parts: list[dict], by_id: dict[str, dict]) -> dict[str, int]:
    """``<metric>@<segment>`` for each segment's campaign, when an entry went to more than one."""
    out: dict[str, int] = {}
    if len(parts) < 2:
        return out
    for p in parts:
        figures = by_id.get(str(p.get("id")))
        if figures is not None:
            for k, v in figures.items():
                out[f"{k}@{p.get('segment') or 'all'}"] = v
    return out


def segment_problems(project) -> list:
    """Each item's segments against the lists (listmonk) or saved segments (Mailchimp) of the newsletter
    channels it goes to: a segment with none is an error at ``check``, not a failure at sending."""
    from newsroom.problems import Problem

    out = []
    for item in project.items:
        if item.status in ("idea", "draft"):
            continue
        for name, override in item.channels.items():
            config = project.settings.channels.get(name)
            if config is None or config.type not in ("listmonk", "mailchimp") or not override.enabled:
                continue
            segments = [override.segment] if override.segment else (list(item.segments) or ["all"])
            if config.type == "listmonk":
                known, where = set(config.options.get("lists") or {}), "listmonk list"
            else:
                known, where = {"all", *(config.options.get("segments") or {})}, "Mailchimp saved segment"
            key = "lists" if config.type == "listmonk" else "segments"
            for segment in segments:
                if segment not in known:
                    out.append(Problem(item.path, override.line or item.line("channels"), f"channels.{name}",
                                       f"segment '{segment}' has no {where}: add it under channels.{name}.{key} "
                                       "in publish.yml"))
    return out
