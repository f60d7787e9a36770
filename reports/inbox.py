"""The conversation inbox: replies to our posts and mentions in feeds, in one list, newest first.

A conversation is answered when our own account replied to it (a stored reply with ``ours`` whose
``in_reply_to`` is its id, on the same channel; for a feed mention, its id or link). Unanswered ones
show how long they have waited: no conversation left without a response.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from newsroom.state import StateStore
from newsroom.times import parse_stamp, stamp


@dataclass(frozen=True)
class Conversation:
    kind: str  # reply, mention
    channel: str  # channel name, or the feed's name for a mention
    id: str
    author: str
    text: str
    url: str | None
    at: datetime
    entry: str | None  # the entry it answers, when known
    answered_at: datetime | None

    @property
    def answered(self) -> bool:
        return self.answered_at is not None

    def time_to_answer(self) -> timedelta | None:
        return self.answered_at - self.at if self.answered_at else None

    def as_dict(self, now: datetime) -> dict:
        return {"kind": self.kind, "channel": self.channel, "id": self.id, "author": self.author, "text": self.text,
                "url": self.url, "at": stamp(self.at), "entry": self.entry, "answered": self.answered,
                "answered_at": stamp(self.answered_at) if self.answered_at else None,
                "age_seconds": None if self.answered else int((now - self.at).total_seconds())}


def conversations(replies: list[dict], mentions: list[dict]) -> list[Conversation]:
    """Every conversation, newest first, from stored reply and mention rows."""
    answers: dict[tuple[str, str], datetime] = {}
    any_channel: dict[str, datetime] = {}
    for r in replies:
        if r.get("ours"):
            at = parse_stamp(r["at"])
            for key, table in (((r.get("channel"), str(r.get("in_reply_to"))), answers),
                               (str(r.get("in_reply_to")), any_channel)):
                if key not in table or at < table[key]:
                    table[key] = at
    out = []
    for r in replies:
        if r.get("ours"):
            continue
        at = parse_stamp(r["at"])
        answered = answers.get((r.get("channel"), str(r.get("remote_id"))))
        out.append(Conversation("reply", r.get("channel") or "", str(r.get("remote_id")), r.get("author") or "",
                                r.get("text") or "", r.get("url"), at, r.get("entry"), answered))
    for m in mentions:
        answered = any_channel.get(str(m.get("id"))) or (any_channel.get(m["link"]) if m.get("link") else None)
        text = m.get("title") or m.get("summary") or ""
        out.append(Conversation("mention", m.get("feed") or "", str(m.get("id")), m.get("author") or "", text,
                                m.get("link"), parse_stamp(m["at"]), None, answered))
    out.sort(key=lambda c: (c.at, c.id), reverse=True)
    return out


def load(store: StateStore) -> list[Conversation]:
    return conversations(store.replies(), store.mentions())


def age(delta: timedelta) -> str:
    """'45m', '3h 10m', '2d 4h': how long something waited, to the minute."""
    minutes = max(0, int(delta.total_seconds() // 60))
    d, rest = divmod(minutes, 1440)
    h, m = divmod(rest, 60)
    if d:
        return f"{d}d {h}h" if h else f"{d}d"
    if h:
        return f"{h}h {m}m" if m else f"{h}h"
    return f"{m}m"


def render(items: list[Conversation], now: datetime, tz, fmt: str = "text") -> str:
    if fmt == "json":
        return json.dumps([c.as_dict(now) for c in items], indent=2, ensure_ascii=False) + "\n"
    if not items:
        return "No conversations.\n"
    lines = []
    for c in items:
        when = c.at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
        status = (f"answered after {age(c.time_to_answer())}" if c.answered else f"UNANSWERED for {age(now - c.at)}")
        text = c.text.replace("\n", " ")
        text = text if len(text) <= 80 else text[:79] + "…"
        lines.append(f"{when}  {c.kind:<7} {c.channel:<12} {c.author:<20} {status}\n    {text}"
                     + (f"\n    {c.url}" if c.url else ""))
    unanswered = sum(not c.answered for c in items)
    lines.append(f"{len(items)} conversation{'s' * (len(items) != 1)}, {unanswered} unanswered")
    return "\n".join(lines) + "\n"
