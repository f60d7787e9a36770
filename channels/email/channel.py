"""Email channel (type ``email``): one campaign per item, per audience segment, sent in batches.

What the adapter is handed (it reads no file itself, see DESIGN.md): the publish run calls
``bind(read_list=..., outbox=...)`` after ``registry.build``:

- ``read_list(path) -> Audience``: reads a recipient list named in ``options.lists`` (a path
  relative to the project): ``functools.partial(newsroom.audience.load_audience, settings.root)``.
- ``outbox``: the folder for ``.eml`` files when no ``host`` is set:
  ``settings.root / settings.output["outbox"]``.

Campaigns: ``post.data["variants"]`` = ``[{"segment", "subject", "html", "text"}]`` gives one
campaign per segment; otherwise one campaign from ``post.subject/html/text`` to ``post.segment`` or
the list ``all``. A person on two segments' lists gets the first segment's message only.

Exactly once: every batch is written to ``ctx.journal`` (the run backs it with the ledger) *before*
it is sent — ``<segment>/<n>`` = ``{"to": [recipient hashes]}`` —, each message's progress as it
happens — ``<segment>/<n>/at`` = ``{"handled": k, "in_flight": bool, "refused": [...], "retry":
[...]}``: ``in_flight`` is written just before the message's final ``.`` goes to the server, and
``handled`` moves on as soon as the server answered (250 after DATA, a refusal, a deferral) — and
the batch's outcome at its end — ``<segment>/<n>/done`` = ``{"refused": [...], "retry": [...],
"uncertain": [...]}`` (everyone else in ``to`` was sent). A run killed in the middle of a batch is
resumed exactly: the first ``handled`` recipients have their answer, the ones after were never
tried and are mailed by the next run, and only the one message in flight at the moment of death
(``in_flight``) is *uncertain* — the server may have queued it. With the outbox the rename is atomic,
so even that one is settled by looking for its file. Uncertain recipients are never mailed again
blindly and never counted as sent: the entry waits for a person (``publish.py resolve``: ``--sent``
counts them, ``--not-sent`` mails them). Recipient hashes are SHA-256 of the entry key and the
address: the ledger never holds an address.
"""
from __future__ import annotations

import email.utils
import re
import time
from dataclasses import dataclass, field, replace as dc_replace
from datetime import timedelta
from pathlib import Path
from typing import Callable

from newsroom import crashpoint
from newsroom import schema as s
from newsroom.audience import Audience, address_problem
from newsroom.problems import ERROR
from newsroom.segments import select
from newsroom.translations import base_language

from ..base import Channel, DeliveryContext, Failure, Post, Receipt
from .message import (DEFERRED, REFUSED, SENT, Lost, OutboxTransport, Unusable, build_message,
                   html_to_text, prepare, recipient_hash, text_to_html, unsubscribe_token)


@dataclass
class Campaign:
    segment: str
    subject: str
    html: str
    text: str
    languages: dict = field(default_factory=dict)  # base language → Campaign of a translation
    site_language: str = ""


@dataclass
class Tally:
    """One campaign's outcome so far, in counts (what the receipt keeps)."""

    segment: str
    list: str
    recipients: int = 0
    sent: int = 0
    refused: int = 0
    uncertain: int = 0
    retry: int = 0
    pending: int = 0
    unsubscribed: int = 0
    other_segment: int = 0
    invalid: list[str] = field(default_factory=list)
    last_error: str = ""  # the server's words for the last refusal or deferral (no address in them)

    def as_dict(self) -> dict:
        return dict(vars(self))


def uncertain_message(n: int) -> str:
    return f"{n} recipient{'s' if n != 1 else ''} uncertain: resolve"


class UnsubscribeUrl(s.Url):
    """An https URL with ``{token}`` in it: RFC 8058 one-click needs HTTPS and a link per recipient."""

    name = "https URL with {token}"

    def convert(self, value, ctx, key):
        url = super().convert(value, ctx, key)
        if not url.startswith("https://"):
            raise s.Invalid(f"'{url}' must start with https:// (RFC 8058: one-click unsubscribe needs HTTPS)")
        if "{token}" not in url:
            raise s.Invalid(f"'{url}' has no {{token}}: put it where each recipient's token goes, "
                            "e.g. https://example.com/unsubscribe?token={token}")
        return url


class Sender(s.Text):
    """``Name <address>`` or a bare address."""

    name = "email address (Name <news@example.com>)"

    def convert(self, value, ctx, key):
        text = super().convert(value, ctx, key)
        address = email.utils.parseaddr(text)[1]
        if not address or address_problem(address):
            raise s.Invalid(f"'{text}' is not a sender address (use e.g. 'Acme News <news@acme.example>')")
        return text


class Email(Channel):
    TYPE = "email"
    MEDIUM = "email"
    DEFAULT_GRACE = timedelta(days=2)
    CANNOT_EDIT = "a sent email cannot be changed (send a correction as a new item if it matters)"
    CANNOT_DELETE = "a sent email cannot be recalled"
    SECRETS = ('username', 'password', 'unsubscribe_key')
    OPTIONS = s.Schema("email options", [
        s.Key("host", s.Text(), "SMTP server; without it messages are written as .eml files to the outbox"),
        s.Key("port", s.Integer(minimum=1, maximum=65535), "SMTP port (default 587 for starttls, 465 for ssl, 25 for none)"),
        s.Key("security", s.Choice("starttls", "ssl", "none"), "how the SMTP connection is protected", default="starttls"),
        s.Key("username", s.Secret(), "SMTP login, from the environment"),
        s.Key("password", s.Secret(), "SMTP password, from the environment"),
        s.Key("from", Sender(), "sender, e.g. 'Acme News <news@acme.example>'", required=True),
        s.Key("reply_to", Sender(), "Reply-To address"),
        s.Key("lists", s.MapOf(s.Text(), "mapping of segment → CSV path"),
              "recipients: segment name (or 'all') → CSV file with email, name, unsubscribed columns", default=dict),
        s.Key("unsubscribe_url", UnsubscribeUrl(), "one-click unsubscribe endpoint (https); {token} is replaced per recipient", required=True),
        s.Key("unsubscribe_key", s.Secret(), "HMAC key for the unsubscribe tokens, from the environment "
              "(without it a token is a plain hash of the address)"),
        s.Key("batch_size", s.Integer(minimum=1), "recipients per SMTP batch", default=50),
        s.Key("rate", s.Integer(minimum=1), "at most this many messages a minute", default=600),
    ])

    def __init__(self, config, env, *, base_url=None):
        super().__init__(config, env, base_url=base_url)
        self.read_list: Callable[[str], Audience] | None = None
        self.outbox: Path | None = None
        self.tls_context = None  # an ssl.SSLContext trusting a private CA; None: the system's
        self.segment_rules: dict = {}

    def bind(self, *, read_list: Callable[[str], Audience], outbox: Path | None = None, tls_context=None,
             segment_rules: dict | None = None) -> "Email":
        """Hand the adapter what it may not fetch itself: the list reader, the outbox folder and the
        segments publish.yml defines by a rule (name → ``newsroom.segments.SegmentRule``)."""
        self.read_list, self.outbox = read_list, (Path(outbox) if outbox is not None else None)
        if segment_rules is not None:
            self.segment_rules = dict(segment_rules)
        if tls_context is not None:
            self.tls_context = tls_context
        return self

    def prepare(self, settings) -> None:
        from functools import partial

        from newsroom.audience import load_audience

        self.bind(read_list=partial(load_audience, settings.root),
                  outbox=settings.output_dir("outbox"), segment_rules=getattr(settings, "segment_rules", None))

    def unusable_in_ci(self) -> str | None:
        if self.options.get("host"):
            return None
        return (f"no SMTP host: set channels.{self.name}.host (and port, security, username, password); the "
                "outbox written on a CI runner is thrown away with it")

    # -- setup ----------------------------------------------------------------------------------
    @property
    def options(self) -> dict:
        return self.config.options

    @property
    def list_id(self) -> str:
        domain = email.utils.parseaddr(self.options.get("from") or "")[1].rpartition("@")[2] or "localhost"
        return f"{re.sub(r'[^a-z0-9-]+', '-', self.name.lower())}.{domain}"

    def _transport(self):
        o = self.options
        if o.get("host"):
            from .smtp import SMTPTransport  # only a run that sends imports smtplib and ssl

            return SMTPTransport(o["host"], o.get("port"), o.get("security") or "starttls", self.secret("username"),
                                 self.secret("password"), tls_context=self.tls_context)
        if self.outbox is None:
            raise Unusable(f"channel '{self.name}' has no SMTP host and was not given an outbox folder")
        return OutboxTransport(self.outbox)

    def campaigns(self, post: Post) -> list[Campaign]:
        variants = post.data.get("variants") or []
        found = [(v.get("segment") or "all", v.get("subject"), v.get("html") or "", v.get("text") or "") for v in variants] \
            or [(post.segment or "all", post.subject, post.html or "", post.text or "")]
        out = [Campaign(segment, subject or post.title, html or text_to_html(text), text or html_to_text(html))
               for segment, subject, html, text in found]
        for lang, version in (post.data.get("languages") or {}).items():  # translations, for the language column
            by_segment = {v.get("segment") or "all": v for v in version.get("variants") or ()}
            for c in out:
                v = by_segment.get(c.segment, version)
                html, text = v.get("html") or "", v.get("text") or ""
                c.languages[lang] = Campaign(c.segment, v.get("subject") or c.subject, html or text_to_html(text),
                                             text or html_to_text(html))
                c.site_language = post.data.get("site_language") or ""
        return out

    def _audiences(self, campaigns: list[Campaign]) -> dict[str, Audience] | Failure:
        lists = self.options.get("lists") or {}
        if self.read_list is None:
            return Failure(f"channel '{self.name}' was not given its recipient lists (the publish run binds them)")
        out = {}
        for c in campaigns:
            rule = None if c.segment in lists else self.segment_rules.get(c.segment)
            if c.segment not in lists and rule is None:
                return Failure(f"no recipient list for segment '{c.segment}': add it under "
                               f"channels.{self.name}.lists in publish.yml, or define it by a rule under segments")
            if rule is not None and rule.list not in lists:
                return Failure(f"segment '{c.segment}' selects from the list '{rule.list}', which "
                               f"channels.{self.name}.lists does not name")
            audience = self.read_list(lists[rule.list if rule is not None else c.segment])
            fatal = [p for p in audience.problems if p.severity == ERROR and p.key != "email"]
            if fatal:
                return Failure("; ".join(str(p) for p in fatal))
            if rule is not None:
                unknown = [col for col in rule.rule.columns if col not in audience.columns]
                if unknown:
                    return Failure(f"segment '{c.segment}': no column '{unknown[0]}' in {audience.source} "
                                   f"(its columns: {', '.join(audience.columns)})")
                kept, _ = select(rule.rule, audience.recipients)  # a cell that is not a number: left out
                audience = dc_replace(audience, recipients=kept)
            out[c.segment] = audience
        return out

    def _check(self, campaigns: list[Campaign]) -> Failure | None:
        url = self.options.get("unsubscribe_url") or ""
        if not url.startswith("https://") or "{token}" not in url:
            return Failure(f"channels.{self.name}.unsubscribe_url must be an https URL containing {{token}} "
                           "(RFC 8058 one-click unsubscribe needs one per recipient)")
        for c in campaigns:
            if not c.html.strip() and not c.text.strip():
                return Failure(f"the {c.segment} message has no body (neither html nor text)")
        return None

    # -- the journal --------------------------------------------------------------------------
    @staticmethod
    def _history(ctx: DeliveryContext, segments: list[str], landed=None) -> dict[str, tuple[str, str]]:
        """recipient hash → (segment, sent | refused | uncertain), folded from the journal in order.
        A hash marked ``retry``, or never tried in a batch a killed run left, is dropped: a later batch
        may take it. ``landed(segment, hash)``: True/False when the transport can tell whether a
        message in flight at a crash arrived (the outbox), None when it cannot (SMTP)."""
        status: dict[str, tuple[str, str]] = {}
        released = {h for k in range(Email._count(ctx, "resolved")) for h in ctx.journal.get(f"resolved/{k}", {}).get("not_sent", ())}
        accepted = {h for k in range(Email._count(ctx, "resolved")) for h in ctx.journal.get(f"resolved/{k}", {}).get("sent", ())}
        for segment in segments:
            n = 0
            while (start := ctx.journal.get(f"{segment}/{n}")) is not None:
                to = start.get("to", [])
                done = ctx.journal.get(f"{segment}/{n}/done")
                if done is None:  # started, never finished: the run died in the middle of the batch
                    at = ctx.journal.get(f"{segment}/{n}/at") or {}
                    handled = int(at.get("handled", 0))
                    done = {"refused": list(at.get("refused", ())), "retry": list(at.get("retry", ())) + to[handled:],
                            "uncertain": []}
                    if at.get("in_flight") and handled < len(to):
                        h = to[handled]
                        arrived = landed(segment, h) if landed is not None else None
                        done["retry"] = [x for x in done["retry"] if x != h] if arrived is not False else done["retry"]
                        if arrived is None:
                            done["uncertain"].append(h)
                refused, uncertain = set(done.get("refused", ())), set(done.get("uncertain", ()))
                retry = set(done.get("retry", ()))
                for h in to:
                    if h in retry:
                        status.pop(h, None)
                    else:
                        status[h] = (segment, REFUSED if h in refused else "uncertain" if h in uncertain else SENT)
                n += 1
        for h, (segment, state) in list(status.items()):
            if state == "uncertain" and h in released:
                del status[h]  # a person said it never arrived: it is mailed again
            elif state == "uncertain" and h in accepted:
                status[h] = (segment, SENT)
        return status

    @staticmethod
    def _count(ctx: DeliveryContext, prefix: str) -> int:
        n = 0
        while ctx.journal.get(f"{prefix}/{n}") is not None:
            n += 1
        return n

    @classmethod
    def resolution(cls, journal: dict, *, sent: bool) -> dict:
        """What a person's ``resolve`` adds to the journal: the recipients uncertain now, counted as
        sent (``--sent``) or released to be mailed by the next run (``--not-sent``)."""
        from ..base import Journal

        ctx = DeliveryContext(key="", now=None, journal=Journal(journal))  # type: ignore[arg-type]
        segments = sorted({k.split("/")[0] for k in journal if re.fullmatch(r"[^/]+/\d+", k)} - {"resolved"})
        uncertain = sorted(h for h, (_, state) in cls._history(ctx, segments).items() if state == "uncertain")
        if not uncertain:
            return {}
        return {f"resolved/{cls._count(ctx, 'resolved')}": {"sent" if sent else "not_sent": uncertain}}

    @staticmethod
    def _next_batch(ctx: DeliveryContext, segment: str) -> int:
        n = 0
        while ctx.journal.get(f"{segment}/{n}") is not None:
            n += 1
        return n

    # -- delivery -------------------------------------------------------------------------------
    def deliver(self, post: Post, ctx: DeliveryContext) -> Receipt | Failure:
        return self._run(post, ctx, send=not ctx.dry_run)

    def reconcile(self, post: Post, ctx: DeliveryContext) -> Receipt | None:
        """The journal says who has been handled. Every recipient accounted for: the receipt. Anyone
        left, or anyone uncertain: None, and ``deliver`` resumes with only those never tried (it cannot
        mail anyone twice) and says who waits for a person."""
        result = self._run(post, ctx, send=False, reconciling=True)
        if isinstance(result, Receipt) and not any(t["pending"] or t["retry"] or t["uncertain"]
                                                   for t in result.data["campaigns"]):
            return result
        return None

    def _run(self, post: Post, ctx: DeliveryContext, *, send: bool, reconciling: bool = False) -> Receipt | Failure:
        campaigns = self.campaigns(post)
        self._prepared: dict[int, object] = {}  # each campaign's bodies, built once
        failure = self._check(campaigns)
        if failure:
            return failure
        audiences = self._audiences(campaigns)
        if isinstance(audiences, Failure):
            return audiences
        try:
            transport = self._transport()
        except Unusable as exc:
            return Failure(str(exc), retryable=exc.retryable)
        salt = ctx.key
        folder = self._folder(post)
        landed = (lambda segment, h: transport.landed(f"{folder}/{segment}/{h}"))
        history = self._history(ctx, [c.segment for c in campaigns], landed)
        plans = []
        claimed: set[str] = set(history)  # a person already handled in any segment is not mailed again
        for c in campaigns:
            audience = audiences[c.segment]
            tally = Tally(c.segment, audience.source, recipients=len(audience.recipients),
                          unsubscribed=audience.unsubscribed, invalid=audience.invalid)
            todo = []
            for r in audience.recipients:
                h = recipient_hash(r.address, salt)
                seen = history.get(h)
                if seen and seen[0] == c.segment:
                    tally.sent += seen[1] == SENT
                    tally.refused += seen[1] == REFUSED
                    tally.uncertain += seen[1] == "uncertain"
                elif h in claimed:
                    tally.other_segment += 1
                else:
                    claimed.add(h)
                    todo.append((h, r))
            tally.pending = len(todo)
            plans.append((c, tally, todo))

        problem = None
        if send and any(todo for _, _, todo in plans):
            problem = self._send(plans, transport, post, ctx)
        elif not reconciling:  # a preview builds every message, sends none
            for c, _, todo in plans:
                for h, r in todo:
                    self._message(c, r, post, ctx)
        tallies = [t.as_dict() for _, t, _ in plans]
        if problem is not None:
            return Failure(problem.message, retryable=problem.retryable, retry_after=problem.retry_after,
                           partial=tuple(tallies))
        data = {"campaigns": tallies, "transport": "outbox" if isinstance(transport, OutboxTransport) else "smtp"}
        if not send:
            data["dry_run"] = not reconciling
        deferred = sum(t["retry"] for t in tallies)
        if deferred:
            return Failure(f"{deferred} recipient(s) were deferred by the mail server; the next run sends to them",
                           retryable=True, partial=tuple(tallies))
        uncertain = sum(t["uncertain"] for t in tallies)
        if uncertain and send:
            return Failure(uncertain_message(uncertain), unresolved=True, partial=tuple(tallies))
        return Receipt(remote_id=ctx.key, url=None, at=ctx.now, data=data)

    def _message(self, c: Campaign, r, post: Post, ctx: DeliveryContext):
        if c.languages:  # the translation in the recipient's language column, else the site's, else the original
            lang = base_language(r.fields.get("language"))
            c = c.languages.get(lang) or c.languages.get(c.site_language) or c
        prepared = self._prepared.get(id(c))
        if prepared is None:
            prepared = self._prepared[id(c)] = prepare(c.subject, c.text, c.html, list_name=self.name,
                                                         url_pattern=self.options["unsubscribe_url"])
        token = unsubscribe_token(r.address, self.secret("unsubscribe_key"), self.list_id)
        return build_message(prepared, sender=self.options["from"], to_address=r.address, to_name=r.name,
                             reply_to=self.options.get("reply_to"), date=ctx.now,
                             unsubscribe_url=self.options["unsubscribe_url"].replace("{token}", token),
                             list_id=self.list_id, list_name=self.name, fields=r.fields)

    def _folder(self, post: Post) -> str:
        return "/".join(re.sub(r"[^A-Za-z0-9._-]+", "-", part).strip(".-") or "_" for part in (post.item_id, self.name))

    def _send(self, plans, transport, post: Post, ctx: DeliveryContext) -> Failure | None:
        size, rate = self.options.get("batch_size") or 50, self.options.get("rate") or 600
        sleep = ctx.sleep or time.sleep
        envelope_from = email.utils.parseaddr(self.options["from"])[1]
        folder = self._folder(post)
        batches = [(c, tally, todo[i:i + size]) for c, tally, todo in plans for i in range(0, len(todo), size)]
        for index, (c, tally, batch) in enumerate(batches):
            n = self._next_batch(ctx, c.segment)
            hashes = [h for h, _ in batch]
            ctx.journal.put(f"{c.segment}/{n}", {"to": hashes})  # before sending: never twice
            crashpoint.reach("email.batch-started")
            outcome = {"refused": [], "retry": [], "uncertain": []}
            broken = None
            at_key = f"{c.segment}/{n}/at"
            try:
                with transport.session() as session:
                    for i, (h, r) in enumerate(batch):
                        if broken:
                            outcome["retry"].append(h)
                            continue

                        def in_flight(i=i):  # the final "." is about to go out: from here the fate is unknown
                            ctx.journal.put(at_key, {"handled": i, "in_flight": True, "refused": outcome["refused"],
                                                     "retry": outcome["retry"]})
                            crashpoint.reach("email.in-flight")

                        try:
                            state, detail = session.send(envelope_from, r.address, self._message(c, r, post, ctx),
                                                         f"{folder}/{c.segment}/{h}",
                                                         in_flight=None if transport.idempotent else in_flight)
                        except Lost as exc:
                            broken = exc
                            outcome["uncertain" if exc.uncertain else "retry"].append(h)
                            continue
                        except Unusable as exc:  # e.g. the sender refused: this one and the rest wait
                            broken = exc
                            outcome["retry"].append(h)
                            continue
                        crashpoint.reach("email.accepted" if state == SENT else "email.answered")
                        if state in (REFUSED, DEFERRED):
                            outcome["refused" if state == REFUSED else "retry"].append(h)
                            tally.last_error = detail.replace(r.address, "<recipient>")
                        # journaled as each message is answered: a resumed run mails exactly the rest
                        ctx.journal.put(at_key, {"handled": i + 1, "in_flight": False, "refused": outcome["refused"],
                                                 "retry": outcome["retry"]})
                        crashpoint.reach("email.journaled")
            except Unusable as exc:  # could not connect or log in: nothing of this batch was sent
                outcome = {"refused": [], "retry": hashes, "uncertain": []}
                broken = exc
            ctx.journal.put(f"{c.segment}/{n}/done", outcome)
            crashpoint.reach("email.batch-done")
            tally.refused += len(outcome["refused"])
            tally.uncertain += len(outcome["uncertain"])
            tally.retry += len(outcome["retry"])
            tally.sent += len(batch) - sum(len(v) for v in outcome.values())
            tally.pending -= len(batch)
            if ctx.progress:
                ctx.progress(f"{self.name}: {c.segment}: batch {n + 1}: {tally.sent} of {tally.recipients} sent")
            if broken is not None:
                left = sum(len(b) for _, _, b in batches[index + 1:])
                for _, t, b in batches[index + 1:]:
                    t.retry += len(b)
                    t.pending -= len(b)
                if isinstance(broken, Unusable):
                    return Failure(str(broken), retryable=broken.retryable)
                return Failure(f"{broken} ({left + len(outcome['retry'])} recipient(s) left for the next run)",
                               retryable=True)
            if transport.rate_limited and index + 1 < len(batches):
                sleep(len(batch) * 60.0 / rate)
        return None
