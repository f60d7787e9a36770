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

from typing import ClassVar

from newsroom import schema as s

from .base import DeliveryContext, Failure, Post, Receipt
from .http import request
from .newsletter_service import NewsletterService, campaign_tag, per_segment, segment_problems  # noqa: F401
from .social import Found

TAG = "newsroom"


class Listmonk(NewsletterService):
    TYPE = "listmonk"
    SERVICE = "listmonk"
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
    def api(self) -> str:
        return (self.base_url or str(self.options.get("url") or "")).rstrip("/")

    def headers(self) -> dict:
        return {"Authorization": f"token {self.options.get('username')}:{self.secret('token') or ''}"}

    def _call(self, method: str, path: str, **kwargs):
        got = request(self.session, method, self.api + path, headers=self.headers(), **kwargs)
        if isinstance(got, Failure) and got.status in (401, 403):
            return self.refused(got, "token")
        return got

    def unfinished(self, started: int) -> str:
        return (f"listmonk has the campaigns of {started} segment(s) of this entry, not all started: finish or "
                "delete them in listmonk, then resolve the entry")

    # -- delivery -----------------------------------------------------------------------------
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

    def _one(self, i: int, body: dict, c: dict, ctx: DeliveryContext) -> dict | Failure:
        journal, segment = ctx.journal, c["segment"]
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

    # -- engagement ---------------------------------------------------------------------------
    def _campaign_figures(self, receipts: list[Receipt]) -> dict[str, dict[str, int]] | Failure:
        """Every campaign tagged ``newsroom``, in one request."""
        got = self._call("GET", "/api/campaigns", params={"tags": TAG, "per_page": "all", "no_body": "true"})
        if isinstance(got, Failure):
            return got
        return {str(c.get("id")): {"sent": int(c.get("sent") or 0), "opens": int(c.get("views") or 0),
                                   "clicks": int(c.get("clicks") or 0), "bounces": int(c.get("bounces") or 0)}
                for c in (got.json().get("data") or {}).get("results") or []}

    # -- check --verify -----------------------------------------------------------------------
    def _check_audience(self) -> tuple[str, list[tuple[str, str]]] | Failure:
        """``GET /api/lists?per_page=all`` (knadh/listmonk ``docs/docs/content/apis/lists.md``): a refused
        token is 403; every list id under ``lists:`` must be among the answer's ``results``."""
        got = self._call("GET", "/api/lists", params={"per_page": "all"})
        if isinstance(got, Failure):
            return got
        data = got.json().get("data")
        rows = data.get("results") if isinstance(data, dict) else data  # ``minimal=true`` answers a bare list
        known = {int(r["id"]): str(r.get("name") or "") for r in rows or () if isinstance(r, dict) and "id" in r}
        lists = self.options.get("lists") or {}
        missing = [(f".lists.{segment}", f"listmonk has no list {lid} (set the id of one of its lists: "
                                         f"{', '.join(map(str, sorted(known))) or 'it has none'})")
                   for segment, lid in lists.items() if lid not in known]
        names = ", ".join(known[lid] for lid in dict.fromkeys(lists.values()) if lid in known)
        return f"{self.options.get('username')} at {self.api}" + (f" ({names})" if names else ""), missing
