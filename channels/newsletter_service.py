"""What listmonk and Mailchimp share: a newsletter sent as one campaign per segment on a mail
service, found again by a tag, then measured by the service's own counts.

A subclass declares ``SERVICE`` (its name in messages), ``STARTED`` (the campaign states that
mean it went out or will without us), ``SECRET`` (the option holding its credential), and
implements ``_one`` (create, fill and start one segment's campaign, journalled), ``find`` (a
campaign by its tag), ``_campaign_figures`` (every campaign's counts, by id, in as few requests as
the service allows) and ``_check_audience`` (for ``check``: do the lists or segments it names
exist). Delivery, reconciling and the per-entry sums are written once, here.
"""
from __future__ import annotations

import hashlib
from typing import ClassVar

from .base import CannotReconcile, Channel, DeliveryContext, DeliveryResult, Failure, Post, Receipt
from .social import Found, receipt_from


def campaign_tag(key: str, segment: str) -> str:
    """The tag (listmonk) or title mark (Mailchimp) that carries the entry's key and segment."""
    return "nr-" + hashlib.sha256(f"{key}:{segment}".encode()).hexdigest()[:16]


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


class NewsletterService(Channel):
    MEDIUM = "email"
    RENDER_AS = "email"
    COUNTS_CLICKS = True  # the service counts the clicks in its mail: the analytics' visits stand beside them
    MAX_CHARS = None
    DEFAULT_GRACE = None
    SERVICE: ClassVar[str] = ""
    SECRET: ClassVar[str] = ""
    STARTED: ClassVar[tuple[str, ...]] = ()

    @property
    def options(self) -> dict:
        return self.config.options

    # -- delivery -----------------------------------------------------------------------------
    def campaigns(self, post: Post) -> list[dict]:
        """One campaign per rendered variant (a segment each; one for the whole list without)."""
        variants = post.data.get("variants") or [{"segment": post.segment or "all", "subject": post.subject,
                                                  "html": post.html, "text": post.text}]
        return [{"segment": v.get("segment") or "all", "subject": v.get("subject") or post.title,
                 "html": v.get("html") or "", "text": v.get("text") or ""} for v in variants]

    def body(self, post: Post, c: dict, ctx: DeliveryContext) -> dict | Failure:
        raise NotImplementedError

    def _one(self, i: int, body: dict, c: dict, ctx: DeliveryContext) -> dict | Failure:
        raise NotImplementedError

    def find(self, tag: str) -> Found | None | Failure:
        raise NotImplementedError

    def deliver(self, post: Post, ctx: DeliveryContext) -> DeliveryResult:
        parts = []
        for i, c in enumerate(self.campaigns(post)):
            body = self.body(post, c, ctx)
            if isinstance(body, Failure):
                return body
            if ctx.dry_run:
                parts.append({"id": "dry-run", "url": None, "segment": c["segment"]})
                continue
            part = self._one(i, body, c, ctx)
            if isinstance(part, Failure):
                return part
            parts.append(part)
        return receipt_from(parts, ctx, service=self.TYPE)

    def reconcile(self, post: Post, ctx: DeliveryContext) -> Receipt | Failure | None:
        """Every segment's campaign found by its tag and gone out: the receipt; none found: None (send);
        some found, or found but not sent: a person decides (``CannotReconcile``)."""
        parts = []
        for c in self.campaigns(post):
            found = self.find(campaign_tag(ctx.key, c["segment"]))
            if isinstance(found, Failure):
                return found
            if found is None or found.extra["status"] not in self.STARTED:
                if parts or found is not None:
                    raise CannotReconcile(self.unfinished(len(parts)))
                return None
            parts.append({"id": found.id, "url": found.url, "segment": c["segment"], "status": found.extra["status"]})
        return receipt_from(parts, ctx, service=self.TYPE) if parts else None

    def unfinished(self, started: int) -> str:
        return (f"{self.SERVICE} has campaigns of this entry that did not go out ({started} segment(s) did): "
                f"send or delete them in {self.SERVICE}, then resolve the entry")

    # -- engagement ---------------------------------------------------------------------------
    def _campaign_figures(self, receipts: list[Receipt]) -> dict[str, dict[str, int]] | Failure:
        raise NotImplementedError

    def fetch_metrics(self, receipts: list[Receipt]) -> dict[str, dict[str, int]] | Failure:
        """An entry's figures are its campaigns' sums, and each segment's own when it had several."""
        figures = self._campaign_figures(receipts)
        if isinstance(figures, Failure):
            return figures
        out = {}
        for r in receipts:
            parts = [p for p in r.parts if isinstance(p, dict)]
            ids = [str(p.get("id")) for p in parts] or [r.remote_id]
            found = [figures[i] for i in ids if i in figures]
            if not found:
                continue
            out[r.remote_id] = {k: sum(f[k] for f in found) for k in found[0]} | per_segment(parts, figures)
        return out

    # -- check --verify -----------------------------------------------------------------------
    def _check_audience(self) -> tuple[str, list[tuple[str, str]]] | Failure:
        """(the account or audience's name, [(key under the channel, message)] for what publish.yml names
        that the service does not have)."""
        raise NotImplementedError

    def verify(self) -> dict | Failure:
        """The credential and the lists or segments publish.yml names, asked of the service: a refused
        credential is a Failure (``check`` says it does not work); a list or segment the service does not
        have is one of the ``problems`` (``check`` names it: every campaign for it would be refused)."""
        got = self._check_audience()
        if isinstance(got, Failure):
            return got
        account, missing = got
        return {"account": account, "problems": missing}


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
