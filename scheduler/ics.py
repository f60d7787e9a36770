"""The calendar as an iCalendar feed (RFC 5545) for the editors' own calendar apps.

Each entry is a VEVENT whose UID is derived from the entry key (item id + channel), so a moved
entry updates the same event in the app instead of adding a second one. Times are written in UTC
(``DTSTART:20261127T080000Z``, RFC 5545 §3.3.5 form #2), which every app shows in its own
timezone; ``X-WR-TIMEZONE`` names the calendar's zone for apps that group by it.
https://www.rfc-editor.org/rfc/rfc5545
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from urllib.parse import urlparse

#: How long an entry blocks in the app: a post is a moment, but a zero-length event is easy to miss.
EVENT_LENGTH = timedelta(minutes=15)
_STATUS = {"idea": "TENTATIVE", "draft": "TENTATIVE", "review": "TENTATIVE", "approved": "CONFIRMED",
           "claimed": "CONFIRMED", "delivered": "CONFIRMED", "published": "CONFIRMED", "failed": "CANCELLED",
           "missed": "CANCELLED", "skipped": "CANCELLED", "held": "CANCELLED", "archived": "CANCELLED"}


def escape(text: str) -> str:
    """TEXT value escaping (RFC 5545 §3.3.11): backslash, semicolon, comma and newlines."""
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n"))


def fold(line: str) -> str:
    """Lines longer than 75 octets are folded (§3.1), never inside a UTF-8 sequence."""
    data = line.encode("utf-8")
    if len(data) <= 75:
        return line
    parts, current, size = [], "", 0
    limit = 75
    for ch in line:
        n = len(ch.encode("utf-8"))
        if size + n > limit:
            parts.append(current)
            current, size, limit = "", 0, 74  # continuation lines start with a space
        current += ch
        size += n
    parts.append(current)
    return "\r\n ".join(parts)


def _stamp(dt: datetime) -> str:
    return dt.strftime("%Y%m%dT%H%M%SZ")


def uid(entry_key: str, site_url: str) -> str:
    host = urlparse(site_url).hostname or "newsroom"
    return hashlib.sha1(entry_key.encode("utf-8")).hexdigest()[:20] + "@" + host


def feed(rows: list[dict], entries: dict, *, name: str, tzname: str, site_url: str, now: datetime) -> str:
    """One VCALENDAR with a VEVENT per timed row; ``entries`` maps a row's key to its Entry."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//newsroom-publish//calendar//EN", "CALSCALE:GREGORIAN",
             "METHOD:PUBLISH", f"X-WR-CALNAME:{escape(name)}", f"X-WR-TIMEZONE:{tzname}"]
    for r in rows:
        entry = entries[r["key"]]
        if entry.at is None or not entry.enabled:
            continue  # nothing to put in a calendar: no time, or switched off
        desc = [f"Status: {r['state']}" + (f" (item: {r['status']})" if r["status"] != r["state"] else ""),
                f"Campaign: {r['campaign'] or '-'}", f"Item: {r['path']}"]
        if r["flags"]:
            desc.append("Flags: " + ", ".join(r["flags"]))
        lines += [
            "BEGIN:VEVENT",
            f"UID:{uid(r['key'], site_url)}",
            f"DTSTAMP:{_stamp(now)}",
            f"DTSTART:{_stamp(entry.at)}",
            f"DTEND:{_stamp(entry.at + EVENT_LENGTH)}",
            f"SUMMARY:{escape('[' + r['channel'] + '] ' + r['title'])}",
            f"DESCRIPTION:{escape(chr(10).join(desc))}",
            f"CATEGORIES:{escape(r['channel'])},{escape(r['state'])}",
            f"STATUS:{_STATUS.get(r['state']) or _STATUS.get(r.get('status'), 'TENTATIVE')}",  # a team's own state: its status
            "TRANSP:TRANSPARENT",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
