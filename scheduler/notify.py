"""Notifications: people are told when the workflow needs them, once per transition.

- An item enters a state that needs approval (``review``, or a team's own such as ``legal-review``):
  that state's approvers (``workflow.states``/``workflow.approvers``) are told.
- An item leaves such a state forward (approved) or back (sent back): its ``author`` is told.
- An entry that is still not approved ``calendar.lead_time`` before its time: ``workflow.editor`` is
  told.

Transitions come from git (``scheduler/history.py``): every commit since the last one notified, in
order, compared with its first parent. The reminders come from the plan at the run's time.

Through the channels publish.yml names in ``workflow.notify`` (Slack and Discord mention the people's
handles from ``workflow.people``, email writes to each address, a webhook gets the facts as JSON).

**Exactly once.** Everything happens under the state store's lock ``notifications``, so a doubled run
waits and then sees what the first sent. Each (notification, channel[, address]) is claimed in the
state store before it is sent and recorded after; a claim with no outcome was left by a run killed
while sending: it may or may not have arrived, so it is never sent again and is shown as
``uncertain``. A failure the platform answered (nothing arrived) is tried again by the next run. The
last commit whose notifications are all settled is kept (``notify_mark``); the next run starts there.
The first run (no mark yet) starts from the checkout: nobody is told about the past.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from channels.base import DeliveryContext, Failure, Post, Receipt
from newsroom import crashpoint
from newsroom.model import Person, Project, Workflow

from . import history
from .deliver import Budget, Retry, deliver

LOCK = "notifications"
KINDS = ("review", "approved", "sent_back", "unapproved")


@dataclass
class Notice:
    """One thing to tell: ``key`` names it once for ever (a transition in a commit, a reminder for an
    entry's time); ``to`` are names from workflow.people."""

    key: str
    kind: str
    item_id: str
    path: str
    title: str
    to: tuple[str, ...]
    subject: str
    text: str  # plain text; ``{to}`` is where the people are named (mentioned on chat)
    facts: dict = field(default_factory=dict)
    commit: str | None = None


@dataclass
class Told:
    """What became of one notice on one channel (and one address, for email)."""

    notice: str
    via: str
    result: str  # sent, failed, uncertain, skipped, would-send (dry run)
    detail: str = ""
    to: str = ""


@dataclass
class NotifyReport:
    told: list[Told] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    head: str | None = None
    mark: str | None = None
    wake: datetime | None = None  # when the next reminder falls due
    owed: bool = False  # a message the platform refused waits for the next run

    def as_dict(self) -> dict:
        return {"head": self.head, "mark": self.mark, "notes": self.notes,
                "told": [t.__dict__ for t in self.told]}


# -- what to tell ---------------------------------------------------------------------------------

def _order(workflow: Workflow, state: str | None) -> int | None:
    names = [n for n in workflow.names if n not in ("archived", "withdrawn")]
    return names.index(state) if state in names else None


def from_transition(t: history.Transition, workflow: Workflow) -> list[Notice]:
    """Who is told of one state change, by the workflow as publish.yml has it now."""
    out: list[Notice] = []
    base = f"{t.commit[:12]}/{t.item_id}/{t.before or 'new'}->{t.after}"
    facts = {"item": t.item_id, "path": t.path, "title": t.title, "from": t.before, "to": t.after,
             "commit": t.commit, "author": t.author or None, "approved_by": t.approved_by}
    entered = workflow.state(t.after)
    if entered is not None and entered.approval:
        to = workflow.approvers_of(t.after)
        by = f" by {t.author}" if t.author else ""
        out.append(Notice(f"{base}/review", "review", t.item_id, t.path, t.title, tuple(to),
                          f"Waiting for approval: {t.title}",
                          f"{{to}}\"{t.title}\"{by} is waiting for approval in {t.after} ({t.path}).", facts,
                          t.commit))
    left = workflow.state(t.before) if t.before else None
    a, b = _order(workflow, t.before), _order(workflow, t.after)
    if left is not None and left.approval and a is not None and b is not None and t.author:
        if b > a:
            who = f" by {t.approved_by}" if t.approved_by and workflow.status_of(t.after) == "approved" else ""
            out.append(Notice(f"{base}/approved", "approved", t.item_id, t.path, t.title, (t.author,),
                              f"Approved: {t.title}",
                              f"{{to}}\"{t.title}\" was approved in {t.before}{who}: it is now {t.after} "
                              f"({t.path}).", facts, t.commit))
        elif b < a:
            out.append(Notice(f"{base}/sent_back", "sent_back", t.item_id, t.path, t.title, (t.author,),
                              f"Sent back: {t.title}",
                              f"{{to}}\"{t.title}\" was sent back from {t.before} to {t.after} ({t.path}).", facts,
                              t.commit))
    return out


def reminders(project: Project, now: datetime, ledger: dict | None = None) -> tuple[list[Notice], datetime | None]:
    """The editor's reminders: each item with an entry still not approved within ``lead_time`` of its
    time (and not past it), once per item and time; and when the next one falls due (None: none)."""
    from newsroom.times import format_duration

    from .plan import plan
    from .rules import UNAPPROVED

    workflow = project.settings.workflow
    if not workflow.editor:
        return [], None
    lead = project.settings.calendar.lead_time
    tz = project.settings.calendar.timezone
    soon: dict[str, list] = {}
    wake = None
    for e in plan(project, ledger=ledger, now=now):
        if not (e.enabled and e.at is not None and e.item.status in UNAPPROVED and now < e.at):
            continue
        if e.at <= now + lead:
            soon.setdefault(e.item.id, []).append(e)
        elif wake is None or e.at - lead < wake:
            wake = e.at - lead
    out = []
    for item_id, entries in sorted(soon.items()):
        first = min(e.at for e in entries)
        item = entries[0].item
        channels = ", ".join(sorted({e.channel for e in entries}))
        local = first.astimezone(tz).strftime("%Y-%m-%d %H:%M")
        out.append(Notice(f"unapproved/{item_id}@{first.isoformat()}", "unapproved", item_id, item.path, item.title,
                          (workflow.editor,), f"Not approved yet: {item.title}",
                          f"{{to}}\"{item.title}\" is still {item.state} but goes out on {channels} at {local} "
                          f"(lead time {format_duration(lead)}; {item.path}): approve it or move it.",
                          {"item": item_id, "path": item.path, "title": item.title, "state": item.state,
                           "at": first.isoformat(), "channels": channels.split(", ")}))
    return out, wake


# -- the record in the state store ----------------------------------------------------------------

def read_record(events) -> tuple[dict[str, dict], str | None]:
    """(claim key → its last word: claimed, notified, failed, uncertain), the last mark."""
    said: dict[str, dict] = {}
    mark = None
    for e in events:
        kind = e.get("event")
        if kind == "notify_mark":
            mark = e.get("commit")
        elif kind in ("notify_claimed", "notified", "notify_failed", "notify_uncertain"):
            said[e.get("notification", "")] = e
    return said, mark


def _mention(person: Person | None, name: str, kind: str) -> str:
    if kind == "slack" and person is not None and person.slack:
        return f"<@{person.slack}>"
    if kind == "discord" and person is not None and person.discord:
        return f"<@{person.discord}>"
    return name


def _escape_slack(text: str) -> str:  # mrkdwn: https://api.slack.com/reference/surfaces/formatting#escaping
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def post_for(notice: Notice, channel, workflow: Workflow, url: str) -> Post:
    """The chat message or webhook payload of a notice on ``channel``."""
    kind = channel.TYPE
    names = [_mention(workflow.people.get(n), n, kind) for n in notice.to]
    body = notice.text
    if kind == "slack":  # the text is escaped, the mentions are Slack's own <@U…> syntax
        body = _escape_slack(body)
    to = (", ".join(names) + ": ") if names else ""
    text = body.replace("{to}", to, 1)
    data: dict = {}
    if kind == "discord":
        data["mention_users"] = [workflow.people[n].discord for n in notice.to
                                 if n in workflow.people and workflow.people[n].discord]
    if kind == "webhook":
        people = [{"name": n, **{k: getattr(workflow.people.get(n), k, None) for k in ("slack", "discord", "email")}}
                  for n in notice.to]
        data["payload"] = {"event": "workflow." + notice.kind, "notification": notice.key, **notice.facts,
                           "recipients": people, "text": notice.text.replace("{to}", to, 1)}
    return Post(channel=channel.name, type=kind, item_id=notice.item_id, item_path=notice.path, revision="",
                title=notice.subject, url=url, parts=[text], lengths=[len(text)], subject=notice.subject, text=text,
                data=data)


class Notifier:
    """Sends notices exactly once through the ``workflow.notify`` channels (see the module's doc)."""

    def __init__(self, project: Project, store, adapters, *, now: datetime, run: str, dry_run: bool = False,
                 sleep=None, budget: Budget | None = None, retry: Retry | None = None):
        self.project, self.store, self.adapters = project, store, adapters
        self.workflow = project.settings.workflow
        self.now, self.run, self.dry_run = now, run, dry_run
        self.sleep = sleep or (lambda s: None)
        self.budget = budget or Budget(60.0)
        self.retry = retry or Retry(max_attempts=2)
        self.report = NotifyReport()
        self.said: dict[str, dict] = {}

    def event(self, kind: str, key: str, via: str, /, **fields) -> dict:
        return {**fields, "event": kind, "notification": key, "via": via, "run": self.run,
                "at": self.now.isoformat(timespec="seconds")}

    def ways(self, notice: Notice, via: str) -> list[tuple[str, str, str]]:
        """(claim key, name, address) for each message the notice is on channel ``via``."""
        if self.adapters.adapters[via].TYPE != "email":
            return [(f"{notice.key}|{via}", "", "")]
        out = []
        for name in notice.to:
            person = self.workflow.people.get(name)
            if person is None or not person.email:
                self.report.told.append(Told(notice.key, via, "skipped", f"{name} has no email in workflow.people",
                                             name))
                continue
            out.append((f"{notice.key}|{via}|{person.email}", name, person.email))
        return out

    def tell(self, notice: Notice) -> bool:
        """Send ``notice`` on every channel not told yet; whether it is settled (nothing to try again)."""
        settled = True
        for via in self.workflow.notify:
            if via not in self.adapters.adapters:
                continue  # an unknown channel is a check problem already
            if via in self.adapters.inactive:
                self.report.told.append(Told(notice.key, via, "skipped", self.adapters.inactive[via]))
                settled = False
                continue
            for key, name, address in self.ways(notice, via):
                settled = self.once(notice, via, key, name, address) and settled
        return settled

    def once(self, notice: Notice, via: str, key: str, name: str, address: str) -> bool:
        last = self.said.get(key)
        if last is not None and last["event"] in ("notified", "notify_uncertain"):
            return True
        if last is not None and last["event"] == "notify_claimed":
            # Claimed by a run that did not live to say what happened: it may have arrived.
            detail = "a run was killed while sending it: it may or may not have arrived; not sent again"
            if not self.dry_run:
                self.store.append([self.event("notify_uncertain", key, via, error=detail)])
            self.report.told.append(Told(notice.key, via, "uncertain", detail, address or ", ".join(notice.to)))
            return True
        if self.dry_run:
            self.report.told.append(Told(notice.key, via, "would-send", notice.subject, address or ", ".join(notice.to)))
            return True
        channel = self.adapters.adapters[via]
        self.store.append([self.event("notify_claimed", key, via, about=notice.kind, item=notice.item_id)])
        crashpoint.reach("notify.claimed")
        ctx = DeliveryContext(key=f"notify/{key}", now=self.now, sleep=self.sleep)
        if channel.TYPE == "email":
            from channels.email.note import send_note

            text = notice.text.replace("{to}", f"{name},\n\n", 1)
            result = send_note(channel, name, address, notice.subject, text, ctx)
            tries = 1
        else:
            attempt = deliver(channel, post_for(notice, channel, self.workflow, self._url(notice)), ctx,
                              budget=self.budget, retry=self.retry, sleep=self.sleep)
            result, tries = attempt.result, attempt.tries
            if attempt.unresolved and isinstance(result, Failure):
                result = Failure(result.message, ambiguous=True)
        crashpoint.reach("notify.sent")
        who = address or ", ".join(notice.to)
        if isinstance(result, Receipt):
            self.store.append([self.event("notified", key, via, about=notice.kind, item=notice.item_id, tries=tries)])
            crashpoint.reach("notify.recorded")
            self.report.told.append(Told(notice.key, via, "sent", notice.subject, who))
            return True
        if result.ambiguous:
            self.store.append([self.event("notify_uncertain", key, via, error=result.message)])
            self.report.told.append(Told(notice.key, via, "uncertain", f"{result.message}; it may have arrived, "
                                                                       "so it is not sent again", who))
            return True
        self.store.append([self.event("notify_failed", key, via, error=result.message)])
        self.report.told.append(Told(notice.key, via, "failed", f"{result.message}; the next run tries again", who))
        return False

    def _url(self, notice: Notice) -> str:
        return self.project.settings.site.url

    # -- the whole step -------------------------------------------------------------------------
    def notify(self) -> NotifyReport:
        if not self.workflow.notify:
            return self.report
        if self.dry_run:
            return self._steps()
        with self.store.run_lock(LOCK):
            return self._steps()

    def _steps(self) -> NotifyReport:
        root = self.project.root
        self.said, mark = read_record(self.store.events())
        head = history.head(root)
        self.report.head, self.report.mark = head, mark
        commits: list = []
        if head is None:
            self.report.notes.append("notifications: not a git repository (or no commit yet); only reminders are "
                                     "sent")
        elif mark is None:
            self.report.notes.append(f"notifications: starting from commit {head[:12]}; changes before it are not "
                                     "told")
        elif mark != head:
            if not history.is_ancestor(root, mark, head):
                self.report.notes.append(f"notifications: the last commit told about ({mark[:12]}) is not in this "
                                         f"checkout's history (a shallow clone, or history rewritten); starting "
                                         f"again from {head[:12]}")
            else:
                try:
                    commits = history.transitions(root, self.project.settings.content_dir, mark, head)
                except history.HistoryError as exc:
                    self.report.notes.append(f"notifications: {exc}; the next run tries again")
                    return self.report
        new_mark = head
        for commit, changes in commits:
            settled = True
            for t in changes:
                for notice in from_transition(t, self.workflow):
                    settled = self.tell(notice) and settled
            if not settled and new_mark == head:
                new_mark = _parent_of(commits, commit, mark)
        due, self.report.wake = reminders(self.project, self.now, self.store.entries())
        for notice in due:
            self.report.owed = not self.tell(notice) or self.report.owed
        self.report.owed = self.report.owed or new_mark != head
        if head is not None and new_mark != mark and not self.dry_run:
            self.store.append([{"event": "notify_mark", "commit": new_mark, "run": self.run,
                                "at": self.now.isoformat(timespec="seconds")}])
            crashpoint.reach("notify.marked")
            self.report.mark = new_mark
        return self.report


def _parent_of(commits: list, commit: str, mark: str) -> str:
    """The commit before ``commit`` in the run's list (or the old mark): where the next run starts."""
    shas = [c for c, _ in commits]
    i = shas.index(commit)
    return shas[i - 1] if i else mark


def notify(project: Project, store, adapters, *, now: datetime, run: str, dry_run: bool = False, sleep=None,
           budget: Budget | None = None) -> NotifyReport:
    return Notifier(project, store, adapters, now=now, run=run, dry_run=dry_run, sleep=sleep,
                    budget=budget).notify()


def lines(report: NotifyReport) -> list[str]:
    out = [f"{t.result:<10} {t.via:<12} {t.notice}" + (f" → {t.to}" if t.to else "") +
           (f" ({t.detail})" if t.detail and t.result != "sent" else "") for t in report.told]
    return out + report.notes + ([] if report.told else ["nobody to tell"])


def command(root, *, now: str | None = None, dry_run: bool = False, fmt: str = "text", env=None):
    """``publish notify``: the notifications step alone (the publish run does it too, after sending)."""
    import os

    from channels.registry import Adapters
    from newsroom.state import open_store
    from newsroom.times import now_option

    from .project import load_project
    from .run.core import run_id
    from .shown import EXIT_OK, EXIT_PROBLEMS, listing

    when = now_option(now)
    env = dict(os.environ) if env is None else env
    project = load_project(root)
    store = open_store(root, project.settings.state)
    report = notify(project, store, Adapters(project, env, store), now=when, run=run_id(when), dry_run=dry_run)
    if not project.settings.workflow.notify:
        report.notes.append("workflow.notify names no channel in publish.yml: nobody is told")
    code = EXIT_PROBLEMS if any(t.result in ("failed", "uncertain") for t in report.told) else EXIT_OK
    return listing(fmt, report.as_dict(), lines(report), exit_code=code)
