"""Workflow rules every item is checked against, alone and together with the others."""
from __future__ import annotations

from datetime import timedelta

from .model import Item, Settings
from .problems import ERROR, WARNING, Problem, did_you_mean


def check_item(item: Item, settings: Settings) -> list[Problem]:
    out: list[Problem] = []

    lines = item.doc.lines if item.doc else {}

    def add(key: str, message: str, severity: str = ERROR, near: str = "status") -> None:
        # A missing key has no line: point at the key that makes it necessary.
        line = item.line(key) if key in lines or "." in key else item.line(near)
        out.append(Problem(item.path, line, key, message, severity))

    if item.status == "approved":
        if not item.approved_by:
            add("approved_by", "an approved item needs approved_by: the name of who approved it")
        elif settings.require_second_pair_of_eyes and item.author and \
                item.approved_by.strip().casefold() == item.author.strip().casefold():
            add("approved_by", f"'{item.approved_by}' wrote this item and cannot also approve it "
                               "(require_second_pair_of_eyes is on): ask another editor")
    if item.status == "withdrawn" and not (item.reason or "").strip():
        add("reason", "a withdrawn item needs reason: why it is taken back (shown where its page was)")
    every = (item.evergreen or {}).get("every")
    if every is not None and every < timedelta(days=1):
        add("evergreen.every", "re-sharing more often than once a day floods the feed; write 1d or more",
            near="evergreen")
    for name in (item.evergreen or {}).get("channels") or ():
        channel = settings.channels.get(name)
        if name not in item.channels:
            add("evergreen.channels", f"'{name}' is not one of the item's channels; add it to channels: or "
                                      "take it out of evergreen.channels", near="evergreen")
        elif channel is not None and channel.type in ("blog", "email", "webhook"):
            add("evergreen.channels", f"'{name}' is a {channel.type} channel; evergreen re-shares on social "
                                      "channels only", near="evergreen")
    if item.status == "review" and not item.reviewers:
        add("reviewers", "an item in review should name its reviewers", WARNING)
    if item.image and not item.image_alt:
        add("image_alt", "an image needs alt text: describe it in image_alt for people who cannot see it",
                near="image")
    if item.publish_at and item.expires_at and item.expires_at <= item.publish_at:
        add("expires_at", "expires before it is published; move expires_at after publish_at", near="expires_at")
    unknown_segments = [s for s in item.segments if settings.segments and s not in settings.segments]
    for seg in unknown_segments:
        add("segments", f"unknown segment '{seg}'{did_you_mean(seg, settings.segments)}")
    if not item.channels and item.status in ("review", "approved") and not item.translation_of:
        add("channels", "goes to no channel: list where it goes (channels: [blog, newsletter])", WARNING)

    global_slots = bool(settings.calendar.rules.slots)
    for name, override in item.channels.items():
        key = f"channels.{name}"
        channel = settings.channels.get(name)
        if channel is None:
            add(key, f"no channel named '{name}' in publish.yml{did_you_mean(name, settings.channels)}")
            continue
        if override.segment and settings.segments and override.segment not in settings.segments:
            add(f"{key}.segment", f"unknown segment '{override.segment}'{did_you_mean(override.segment, settings.segments)}")
        if isinstance(override.at, timedelta) and item.publish_at is None and not item.translation_of:
            add(f"{key}.at", "an offset needs publish_at to count from; give publish_at or an absolute time")
        if item.status != "approved" or not override.enabled or not channel.enabled:
            continue
        has_slots = bool(channel.rules.slots) or global_slots
        if override.at == "next" and not has_slots:
            add(f"{key}.at", f"'next' takes the next free slot, but channel '{name}' has no slots in publish.yml")
        elif override.at is None and item.publish_at is None and not has_slots and not item.translation_of:
            add(key, f"approved but has no time on '{name}': give publish_at, channels.{name}.at, "
                     "or slots for the channel in publish.yml")
    return out


def check_together(items: list[Item]) -> list[Problem]:
    """Rules across items: identities (slug or id) must be unique."""
    out: list[Problem] = []
    seen: dict[str, Item] = {}
    for item in items:
        other = seen.get(item.id)
        if other is not None:
            key = "id" if "id" in (item.doc.lines if item.doc else {}) else "slug"
            for a, b in ((item, other), (other, item)):
                out.append(Problem(a.path, a.line(key), key,
                                   f"'{item.id}' is also used by {b.path}; every item needs its own {key}"))
        else:
            seen[item.id] = item
    return out
