"""What stored events mean, whatever the backend: the ledger's fold per entry (``EntryState``) and
which replies and mentions are new.

Event kinds (every ledger event names its ``entry``, ``at`` and usually ``revision`` and ``run``):

- ``claimed``: a run takes an entry before sending (``reconcile: true`` when it takes over a claim
  left by a run that died);
- ``delivered``: the receipt (remote id, url, at); ``reconciled: true`` when found after a crash;
- ``failed``: ``error``, ``retryable``, ``ambiguous`` (the request may have gone out), ``unresolved``
  (the platform cannot tell whether it went out: a person decides);
- ``missed`` / ``skipped``: ``reason``; ``released``: a claim given back without sending;
- ``progress``: one key of a delivery's journal (email batches, thread parts);
- ``alerted``: a ``problem`` announced on the alert channel (once per problem);
- ``changed``: an item noticed edited after it went out (``revision`` is the new one);
- ``forced``: a person allowed an entry past a failure or its window (``--force``);
- ``live``: a delivered blog entry's page answered at its public ``url`` (its dependents may go);
- ``held``: an entry not sent because what it waits for (``after:``) will not be delivered: ``reason``.

After publishing (``scheduler/run/amend.py``), each a claim before the platform is asked and an
outcome after, so a run that dies in between leaves an open claim the next run settles:

- ``correcting`` → ``corrected`` (the new ``receipt``, the ``digest`` of the post now out; the
  ``revision`` it applied) or ``correction-failed`` (``error``, ``retryable``);
- ``withdrawing`` → ``withdrawn`` (``removal``, ``reason``) or ``withdraw-failed``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Iterable


class StateUnwritable(Exception):
    """The state cannot be written (a read-only folder, a full disk): the run stops, one clear message."""

    def __init__(self, folder, exc: OSError):
        self.folder = folder
        reason = exc.strerror or str(exc)
        super().__init__(f"cannot write to the state folder {folder}: {reason}. Nothing more is sent; make it "
                         "writable or free disk space, then run publish again (what this run claimed is "
                         "reconciled then)")


def entry_key(item_id: str, channel: str) -> str:
    """The ledger's key for an entry: the item's stable identity and the channel name, never a path."""
    return f"{item_id}/{channel}"


_ENCODER = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"), check_circular=False)
try:
    # One C encoder built once: ``json.dumps`` with these options builds a ``JSONEncoder`` and a C encoder
    # for every call, half the time of a 10,000-row snapshot write. Without a circularity check it holds no
    # state between calls, so the pull's channel threads share it (events are never circular).
    from json.encoder import c_make_encoder as _c_make_encoder
except ImportError:  # pragma: no cover - an interpreter without the C accelerator
    _c_make_encoder = None
_C_ENCODER = _c_make_encoder and _c_make_encoder(
    None, _ENCODER.default, json.encoder.encode_basestring, None, ":", ",", True, False, True)


def dumps(event: dict) -> str:
    """One stored line: keys sorted, text as is (not ``\\u`` escapes), no spaces."""
    if _C_ENCODER is None or not isinstance(event, dict):  # pragma: no cover
        return _ENCODER.encode(event)
    return "".join(_C_ENCODER(event, 0))


@dataclass(slots=True)
class EntryState:
    """Everything the ledger knows about one entry, folded from its events in order."""

    key: str
    state: str = "pending"  # pending, claimed, delivered, failed, missed, skipped, held, withdrawn
    revision: str | None = None  # revision of the last claim, delivery, failure or miss
    delivered_revision: str | None = None
    receipt: dict | None = None
    error: str | None = None
    retryable: bool = False
    ambiguous: bool = False  # the last attempt may have gone out: reconcile before sending again
    unresolved: bool = False  # nobody can tell whether it went out: a person decides
    credential: str | None = None  # the last attempt's credential was refused: fix this secret
    attempts: int = 0
    claimed_by: str | None = None
    claimed_at: str | None = None
    reconciled: bool = False
    channel: str | None = None
    item: str | None = None
    path: str | None = None
    journal: dict = field(default_factory=dict)
    journal_revision: str | None = None
    journal_closed: bool = False  # a delivery completed: the next revision's progress starts afresh
    alerted: set = field(default_factory=set)
    changed_revision: str | None = None  # newest revision noticed after delivery
    forced_revision: str | None = None
    last_at: str | None = None
    live_at: str | None = None  # when the page of a delivered blog entry was seen answering
    digest: str | None = None  # fingerprint of the post as it stands on the platform (delivered or corrected)
    corrected_revision: str | None = None  # newest revision a correction applied
    corrections: list = field(default_factory=list)  # revisions applied by corrections, in order
    correcting: str | None = None  # revision of an open correction claim (its run may have died)
    correcting_by: str | None = None
    correction_error: str | None = None
    correction_failed: str | None = None  # revision whose correction failed for good
    withdrawing: str | None = None  # revision of an open withdrawal claim
    withdrawing_by: str | None = None
    withdraw_error: str | None = None
    withdraw_failed: str | None = None  # revision whose withdrawal failed for good
    withdrawn_at: str | None = None
    withdrawn_reason: str | None = None
    share: int | None = None  # an evergreen re-share: its number, and the variant it used (scheduler/evergreen.py)
    variant: int | None = None
    events: int = 0

    def apply(self, e: dict) -> None:
        kind = e.get("event")
        self.events += 1
        self.last_at = e.get("at", self.last_at)
        self.channel = e.get("channel", self.channel)
        self.item = e.get("item", self.item)
        self.path = e.get("path", self.path)
        revision = e.get("revision")
        if kind == "claimed":
            if self.state in ("delivered", "withdrawn"):
                return  # a claim after a receipt (merged from another branch) changes nothing
            self.state, self.revision = "claimed", revision
            self.claimed_by, self.claimed_at = e.get("run"), e.get("at")
            self.attempts += 1
            self.forced_revision = None  # a person's release covers the next attempt, not every later one
        elif kind == "delivered":
            self.state, self.receipt, self.error = "delivered", e.get("receipt"), None
            self.revision = self.delivered_revision = revision
            self.ambiguous = self.unresolved = False
            self.credential = None
            self.reconciled = bool(e.get("reconciled"))
            self.journal_closed = True
            self.digest = e.get("digest")
            self.share, self.variant = e.get("share"), e.get("variant")
        elif kind == "failed":
            if self.state in ("delivered", "withdrawn"):
                return
            self.state, self.revision = "failed", revision or self.revision
            self.error, self.retryable = e.get("error"), bool(e.get("retryable"))
            self.ambiguous, self.unresolved = bool(e.get("ambiguous")), bool(e.get("unresolved"))
            self.credential = e.get("credential")
        elif kind in ("missed", "skipped", "held"):
            if self.state in ("delivered", "withdrawn"):
                return
            self.state, self.revision = kind, revision or self.revision
            self.error = e.get("reason") or e.get("error")
        elif kind == "released":
            if self.state == "claimed":
                self.state = "failed" if self.error else "pending"
        elif kind == "progress":
            # Progress of an attempt that never completed carries over to the next revision: an edit
            # between a half-sent newsletter and its retry must not mail the first half again.
            if revision != self.journal_revision and self.journal_closed:
                self.journal, self.journal_closed = {}, False
            self.journal_revision = revision
            self.journal[e.get("name", "")] = e.get("value")
        elif kind == "alerted":
            self.alerted.add(e.get("problem"))
        elif kind == "changed":
            self.changed_revision = revision
        elif kind == "forced":
            self.forced_revision = revision
            self.unresolved = False
        elif kind == "live":
            self.live_at = e.get("at")
        elif kind == "correcting":
            self.correcting, self.correcting_by = revision, e.get("run")
        elif kind == "corrected":
            self.correcting = self.correcting_by = self.correction_error = None
            self.corrected_revision = revision
            self.corrections.append(revision)
            self.receipt = e.get("receipt") or self.receipt
            self.digest = e.get("digest") or self.digest
        elif kind == "correction-failed":
            self.correcting = self.correcting_by = None
            self.correction_error = e.get("error")
            if not e.get("retryable"):
                self.correction_failed = revision
        elif kind == "withdrawing":
            self.withdrawing, self.withdrawing_by = revision, e.get("run")
        elif kind == "withdrawn":
            self.state, self.withdrawing, self.withdrawing_by, self.withdraw_error = "withdrawn", None, None, None
            self.withdrawn_at, self.withdrawn_reason = e.get("at"), e.get("reason")
        elif kind == "withdraw-failed":
            self.withdrawing = self.withdrawing_by = None
            self.withdraw_error = e.get("error")
            if not e.get("retryable"):
                self.withdraw_failed = revision

    # -- questions the publish run asks --------------------------------------------------------
    @property
    def open_claim(self) -> bool:
        """Claimed with no receipt and no outcome: a run is sending it, or died while it did."""
        return self.state == "claimed"

    def journal_for(self, revision: str) -> dict:
        """The progress a delivery of ``revision`` continues from: everything since the last
        completed delivery, whichever revision wrote it."""
        return dict(self.journal) if self.journal_revision == revision or not self.journal_closed else {}


# -- what stored engagement means, whatever the backend --------------------------------------
def reply_key(row: dict) -> tuple:
    return (row.get("channel"), row.get("remote_id"))


def fold_replies(rows: Iterable[dict]) -> list[dict]:
    """One row per (channel, remote id), the first stored."""
    seen, out = set(), []
    for r in rows:
        key = reply_key(r)
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out


def fresh_replies(known: Iterable[dict], rows: Iterable[dict]) -> list[dict]:
    """The rows of ``rows`` not stored yet (by channel and remote id)."""
    seen = {reply_key(r) for r in known}
    fresh = []
    for r in rows:
        key = (r["channel"], r["remote_id"])
        if key not in seen:
            seen.add(key)
            fresh.append(r)
    return fresh


def fold_mentions(rows: Iterable[dict]) -> list[dict]:
    """One row per (feed, id): first seen time kept, engagement numbers from the latest row."""
    folded: dict[tuple, dict] = {}
    for r in rows:
        key = (r.get("feed"), r.get("id"))
        if key in folded:
            first = folded[key]
            folded[key] = {**r, "fetched": first.get("fetched")}
        else:
            folded[key] = r
    return list(folded.values())


def fresh_mentions(known_rows: Iterable[dict], rows: Iterable[dict]) -> tuple[list[dict], int, int]:
    """The rows to store: new mentions, and a new row when a known one's numbers changed
    (``fresh``, ``added``, ``updated``)."""
    known = {(r.get("feed"), r.get("id")): r for r in known_rows}
    links = {(r.get("feed"), r.get("link")) for r in known.values() if r.get("link")}
    fresh: list[dict] = []
    added = updated = 0
    for r in rows:
        key = (r["feed"], r["id"])
        old = known.get(key)
        if old is None and (r["feed"], r.get("link")) in links and r.get("link"):
            continue  # the same post under another id (a feed that changed its guids)
        if old is None:
            added += 1
        elif all(old.get(k) == r.get(k) for k in ("views", "comments", "title")):
            continue
        else:
            updated += 1
        known[key] = r
        if r.get("link"):
            links.add((r["feed"], r["link"]))
        fresh.append(r)
    return fresh, added, updated
