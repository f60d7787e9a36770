"""Evergreen items: re-shared on their social channels at an interval, as entries of their own.

``evergreen: {every: 90d, until: 2027-12-31, channels: [mastodon, bluesky], variants: [...]}`` in an
item's front matter. Once the item's entry on such a channel is delivered, the plan adds its next
share there: ``every`` after the last one went out (the first delivery, then each share), never
within the calendar's ``min_gap`` of it, on the channel's next free queue slot when the channel has
slots, and not after ``until``. Share *n* is its own entry, keyed ``<item>/<channel>~<n>``: claimed,
delivered and recorded exactly once like any other, shown in the calendar and the ``.ics``, and
measured in the reports as its own post. Its text is variant ``(n - 1) mod len(variants)`` (a
hand-written post, as ``channels.<name>.text``), or the channel's template when there are none;
the ledger's ``delivered`` event names the ``share`` and ``variant``, so a report can tell which
variant did best.
"""
from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

from newsroom import times
from newsroom.state import EntryState, entry_key

#: Channel types an item is re-shared on: where a repeat is a post of its own in a feed.
SOCIAL = ("mastodon", "bluesky", "x", "linkedin", "threads", "facebook", "telegram", "discord", "slack")


def share_key(item_id: str, channel: str, n: int) -> str:
    return f"{entry_key(item_id, channel)}~{n}"


def _when(st: EntryState | None) -> datetime | None:
    if st is None or st.state not in ("delivered", "withdrawn"):
        return None
    text = (st.receipt or {}).get("at") or st.last_at
    try:
        return times.parse_instant(text) if text else None
    except ValueError:
        return None


def _tried(st: EntryState) -> datetime | None:
    text = st.claimed_at or st.last_at
    try:
        return times.parse_instant(text) if text else None
    except ValueError:
        return None


def variant(item, n: int) -> tuple[int | None, str | None]:
    """(index, text) of the variant share ``n`` uses; (None, None) without variants."""
    variants = (item.evergreen or {}).get("variants") or []
    if not variants:
        return None, None
    i = (n - 1) % len(variants)
    return i, variants[i]


def item_for(entry):
    """The item as share ``entry`` renders it: its variant as the channel's hand-written text."""
    if not getattr(entry, "share", 0):
        return entry.item
    _, text = variant(entry.item, entry.share)
    if text is None:
        return entry.item
    from newsroom.model import ChannelOverride

    item = entry.item
    old = item.channels.get(entry.channel) or ChannelOverride(entry.channel)
    channels = {**item.channels, entry.channel: dataclasses.replace(old, text=text, thread=False, at=None)}
    return dataclasses.replace(item, channels=channels)


def shares(project, ledger: dict[str, EntryState], now: datetime, entry_cls, min_gap) -> tuple[list, list]:
    """(entries for every share the ledger knows, the next share of each item and channel with the
    earliest time it may go). ``min_gap(channel)``: the calendar's gap for the channel, or None."""
    known: list = []
    upcoming: list = []
    for item in project.items:
        spec = item.evergreen
        if not spec:
            continue  # (shares already out stay entries when the item is withdrawn: they are taken down too)
        every = spec.get("every")
        until = spec.get("until")
        if not isinstance(every, timedelta) or every <= timedelta(0):
            continue  # check names the problem; nothing is planned from a spec it refuses
        for name in spec.get("channels") or ():
            config = project.settings.channels.get(name)
            override = item.channels.get(name)
            if config is None or override is None or not override.enabled or not config.enabled:
                continue
            last = _when(ledger.get(entry_key(item.id, name)))
            if last is None:
                continue  # re-shared once it went out the first time
            n, pending = 1, False
            while (st := ledger.get(share_key(item.id, name, n))) is not None:
                done = _when(st)
                # a share the ledger knows but that is not out (claimed, failed, missed …) keeps the
                # time it was tried at, and is the one the run deals with: nothing is planned past it
                at = done or _tried(st) or last
                known.append(entry_cls(item=item, channel=name, type=config.type, at=at, source="ledger",
                                       state=st.state, share=n))
                if done is None:
                    pending = True
                    break
                last, n = done, n + 1
            if pending or item.status != "approved" or (item.expires_at is not None and now >= item.expires_at):
                continue
            earliest = last + every
            gap = min_gap(name)
            if gap is not None and earliest < last + gap:
                earliest = last + gap
            if until is not None and earliest.astimezone(project.settings.calendar.timezone).date() > until:
                continue  # the last share goes out no later than the day ``until`` names
            upcoming.append((entry_cls(item=item, channel=name, type=config.type, at=None, source="evergreen",
                                       state=item.status, share=n), earliest))
    return known, upcoming
