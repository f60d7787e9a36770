"""``publish.py resolve``: a person settles an entry the run could not (did it go out or not?).

``--sent`` records it as delivered (with the URL, when given): it is never sent again.
``--not-sent`` lets the next run send it, if it is still inside its grace window; it is recorded as
``forced`` for the item's current revision, which lifts a "needs a person" hold.
"""
from __future__ import annotations

from datetime import datetime

from channels.registry import TYPES
from newsroom.state import StateStore, entry_key


class ResolveError(Exception):
    pass


def resolve(project, store: StateStore, target: str, channel: str | None, *, sent: bool, url: str | None,
            now: datetime, who: str) -> list[str]:
    item = next((i for i in project.items if target in (i.path, i.id)), None)
    if item is None:
        raise ResolveError(f"no item '{target}' (give its path under content/ or its id)")
    names = [channel] if channel else list(item.channels)
    if channel and channel not in item.channels:
        raise ResolveError(f"{item.path} does not go to '{channel}' (its channels: {', '.join(item.channels)})")
    ledger = store.entries()
    out = []
    for name in names:
        key = entry_key(item.id, name)
        st = ledger.get(key)
        base = {"entry": key, "item": item.id, "channel": name, "path": item.path, "revision": item.revision,
                "run": f"person:{who}", "at": now.isoformat(timespec="seconds")}
        if st is not None and st.state == "delivered":
            out.append(f"{item.path} → {name}: already delivered; nothing to do")
            continue
        # A channel that keeps its own progress (the newsletter's recipients) settles what was uncertain.
        config = project.settings.channels.get(name)
        settle = getattr(TYPES.get(config.type if config else ""), "resolution", None)
        if settle is not None and st is not None:
            puts = settle(st.journal_for(item.revision), sent=sent)
            store.append([{**base, "event": "progress", "name": k, "value": v} for k, v in puts.items()])
        if sent:
            store.append([{**base, "event": "delivered", "resolved": True,
                           "receipt": {"remote_id": "", "url": url, "at": base["at"], "parts": [], "data": {}}}])
            out.append(f"{item.path} → {name}: recorded as delivered; it is not sent again")
        else:
            store.append([{**base, "event": "forced"}, {**base, "event": "released"}])
            out.append(f"{item.path} → {name}: released; the next publish run sends it if it is inside its window")
    return out
