"""Mailchimp (type ``mailchimp``): a newsletter sent as a Mailchimp campaign, then its report read back.

Marketing API 3.0 (https://mailchimp.com/developer/marketing/api/):
- base ``https://<dc>.api.mailchimp.com/3.0``, the data centre being the API key's suffix
  (``…-us21``); auth HTTP Basic with any user name and the key
  (https://mailchimp.com/developer/marketing/docs/fundamentals/#api-structure);
- ``POST /campaigns`` {type: regular, recipients: {list_id, segment_opts: {saved_segment_id}},
  settings: {subject_line, title, from_name, reply_to}} → the campaign (``status: save``);
- ``PUT /campaigns/{id}/content`` {html, plain_text};
- ``POST /campaigns/{id}/actions/send`` (204), or ``/actions/schedule`` {schedule_time} (a quarter
  hour: 15-minute steps);
- ``GET /campaigns?list_id=…&count=1000&fields=…``: reading back by title;
- ``GET /reports?count=1000&offset=…``: every sent campaign's report: ``emails_sent``,
  ``opens.opens_total``, ``opens.unique_opens``, ``clicks.clicks_total``, ``unsubscribed``,
  ``bounces.hard_bounces`` + ``soft_bounces``;
- errors are problem documents ``{"type", "title", "status", "detail", "instance"}``; at most 10
  connections at once per user, past it 429 (https://mailchimp.com/developer/marketing/docs/fundamentals/#api-limits).

Exactly once: the campaign's title carries ``nr-<hash of the entry key and segment>``; a create
whose answer was lost is found again by that title, a send whose answer was lost is confirmed by
the campaign's status. Segments map to saved segments of the audience (``segments:``); ``all`` is
the whole audience.
"""
from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

from newsroom import schema as s

from .base import DeliveryContext, Failure, Post, Receipt
from .http import request
from .newsletter_service import NewsletterService, campaign_tag
from .social import Found


class Mailchimp(NewsletterService):
    TYPE = "mailchimp"
    SERVICE = "Mailchimp"
    SECRETS = ("api_key",)
    METRICS_BATCH = 1000  # /reports takes count ≤ 1000
    SENT: ClassVar[tuple[str, ...]] = ("sending", "sent", "schedule")
    STARTED = SENT
    OPTIONS = s.Schema("mailchimp options", [
        s.Key("api_key", s.Secret(), "Marketing API key (its suffix, e.g. -us21, names the data centre), from the "
              "environment", required=True),
        s.Key("list_id", s.Text(), "the audience's id", required=True),
        s.Key("segments", s.MapOf(s.Integer(minimum=1), "mapping of segment → saved segment id"),
              "saved segment id per segment (default: the whole audience)", default=dict),
        s.Key("from_name", s.Text(), "the From name", required=True),
        s.Key("reply_to", s.Text(), "the reply-to address (verified in Mailchimp)", required=True),
        s.Key("send", s.Choice("now", "schedule"), "send at once, or schedule at the next quarter hour",
              default="now"),
        s.Key("unsubscribe_url", s.Text(), "the unsubscribe link the email templates show (Mailchimp's merge tag)",
              default="*|UNSUB|*"),
    ])

    def unfinished(self, started: int) -> str:
        return ("Mailchimp has campaigns of this entry that were not sent: send or delete them in Mailchimp, then "
                "resolve the entry")

    @property
    def api(self) -> str:
        if self.base_url:
            return self.base_url.rstrip("/") + "/3.0"
        dc = (self.secret("api_key") or "").rpartition("-")[2] or "us1"
        return f"https://{dc}.api.mailchimp.com/3.0"

    def _call(self, method: str, path: str, **kwargs):
        got = request(self.session, method, self.api + path, auth=("newsroom", self.secret("api_key") or ""), **kwargs)
        if isinstance(got, Failure) and got.status in (401, 403):
            return self.refused(got, "api_key")
        return got

    # -- delivery -----------------------------------------------------------------------------
    def body(self, post: Post, c: dict, ctx: DeliveryContext) -> dict | Failure:
        recipients: dict = {"list_id": self.options.get("list_id")}
        if c["segment"] != "all":
            segments = self.options.get("segments") or {}
            if c["segment"] not in segments:
                return Failure(f"no Mailchimp saved segment for segment '{c['segment']}': add it under "
                               f"channels.{self.name}.segments in publish.yml")
            recipients["segment_opts"] = {"saved_segment_id": segments[c["segment"]]}
        tag = campaign_tag(ctx.key, c["segment"])
        return {"type": "regular", "recipients": recipients,
                "settings": {"subject_line": c["subject"], "title": f"{post.title} [{tag}]",
                             "from_name": self.options.get("from_name"), "reply_to": self.options.get("reply_to")}}

    def _one(self, i: int, body: dict, c: dict, ctx: DeliveryContext) -> dict | Failure:
        journal = ctx.journal
        tag = campaign_tag(ctx.key, c["segment"])
        made = journal.get(f"campaign:{i}")
        if made is None and journal.get(f"creating:{i}"):
            found = self.find(tag)
            if isinstance(found, Failure):
                return found
            if found is not None:
                made = {"id": found.id, "url": found.url, "status": found.extra["status"]}
                journal.put(f"campaign:{i}", made)
        if made is None:
            journal.put(f"creating:{i}", True)
            got = self._call("POST", "/campaigns", json=body)
            if isinstance(got, Failure):
                if not got.ambiguous:
                    journal.put(f"creating:{i}", False)
                return got
            data = got.json()
            made = {"id": str(data["id"]), "url": data.get("archive_url"), "status": data.get("status", "save")}
            journal.put(f"campaign:{i}", made)
        done = {"id": made["id"], "url": made.get("url"), "segment": c["segment"]}
        if made["status"] in self.SENT:
            return {**done, "status": made["status"]}
        if not journal.get(f"content:{i}"):  # a PUT: sending it again changes nothing
            got = self._call("PUT", f"/campaigns/{made['id']}/content", json={"html": c["html"], "plain_text": c["text"]})
            if isinstance(got, Failure):
                return got
            journal.put(f"content:{i}", True)
        if self.options.get("send") == "schedule":
            at = ctx.sending_time()
            at = at.replace(second=0, microsecond=0) + timedelta(minutes=15 - at.minute % 15)
            got = self._call("POST", f"/campaigns/{made['id']}/actions/schedule",
                             json={"schedule_time": at.strftime("%Y-%m-%dT%H:%M:%S+00:00")})
            status = "schedule"
        else:
            got = self._call("POST", f"/campaigns/{made['id']}/actions/send")
            status = "sending"
        if isinstance(got, Failure):
            if got.status == 400 or got.ambiguous:  # sent by an attempt whose answer was lost? ask
                now = self._status(made["id"])
                if isinstance(now, str) and now in self.SENT:
                    journal.put(f"campaign:{i}", {**made, "status": now})
                    return {**done, "status": now}
            return got
        journal.put(f"campaign:{i}", {**made, "status": status})
        return {**done, "status": status}

    def _status(self, cid: str) -> str | Failure:
        got = self._call("GET", f"/campaigns/{cid}", params={"fields": "id,status"})
        if isinstance(got, Failure):
            return got
        return str(got.json().get("status") or "")

    def find(self, tag: str) -> Found | None | Failure:
        got = self._call("GET", "/campaigns", params={"list_id": self.options.get("list_id"), "count": 1000,
                                                      "sort_field": "create_time", "sort_dir": "DESC",
                                                      "fields": "campaigns.id,campaigns.status,campaigns.archive_url,"
                                                                "campaigns.settings.title"})
        if isinstance(got, Failure):
            return got
        for c in got.json().get("campaigns") or []:
            if f"[{tag}]" in str((c.get("settings") or {}).get("title") or ""):
                return Found(str(c["id"]), c.get("archive_url"), {"status": c.get("status", "save")})
        return None

    # -- engagement ---------------------------------------------------------------------------
    def _campaign_figures(self, receipts: list[Receipt]) -> dict[str, dict[str, int]] | Failure:
        """The reports of the receipts' campaigns, a page of 1,000 at a time until all are found."""
        wanted = {str(p.get("id")) for r in receipts for p in r.parts if isinstance(p, dict)} | \
                 {r.remote_id for r in receipts}
        reports: dict[str, dict] = {}
        offset = 0
        while True:
            got = self._call("GET", "/reports", params={"count": self.METRICS_BATCH, "offset": offset})
            if isinstance(got, Failure):
                return got
            data = got.json()
            page = data.get("reports") or []
            for rep in page:
                if str(rep.get("id")) in wanted:
                    reports[str(rep["id"])] = rep
            offset += self.METRICS_BATCH
            if not page or offset >= int(data.get("total_items") or 0) or wanted <= set(reports):
                break
        figures = {i: {"sent": int(_dig(rep, ("emails_sent",)) or 0),
                       "opens": int(_dig(rep, ("opens", "opens_total")) or 0),
                       "unique_opens": int(_dig(rep, ("opens", "unique_opens")) or 0),
                       "clicks": int(_dig(rep, ("clicks", "clicks_total")) or 0),
                       "unsubscribes": int(_dig(rep, ("unsubscribed",)) or 0),
                       "bounces": int(_dig(rep, ("bounces", "hard_bounces")) or 0)
                       + int(_dig(rep, ("bounces", "soft_bounces")) or 0)} for i, rep in reports.items()}
        return figures

    # -- check --verify -----------------------------------------------------------------------
    def _check_audience(self) -> tuple[str, list[tuple[str, str]]] | Failure:
        """``GET /lists/{list_id}`` (401 a refused key, 404 an audience this account does not have), then,
        when ``segments:`` names any, ``GET /lists/{list_id}/segments?count=1000`` for their ids
        (https://mailchimp.com/developer/marketing/api/lists/get-list-info/, …/list-segments/)."""
        list_id = str(self.options.get("list_id") or "")
        got = self._call("GET", f"/lists/{list_id}", params={"fields": "id,name"})
        if isinstance(got, Failure):
            if got.status == 404:
                return "", [(".list_id", f"Mailchimp has no audience '{list_id}' in this account")]
            return got
        name = str(got.json().get("name") or list_id)
        segments = self.options.get("segments") or {}
        if not segments:
            return name, []
        got = self._call("GET", f"/lists/{list_id}/segments", params={"count": 1000, "fields": "segments.id,total_items"})
        if isinstance(got, Failure):
            return got
        known = {int(s["id"]) for s in got.json().get("segments") or () if isinstance(s, dict) and "id" in s}
        return name, [(f".segments.{segment}", f"audience '{name}' has no saved segment {sid}")
                      for segment, sid in segments.items() if sid not in known]


def _dig(d: dict, path: tuple[str, ...]):
    for key in path:
        d = d.get(key) if isinstance(d, dict) else None
    return d
