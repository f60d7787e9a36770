"""What a pull request changes in posts that are already out, for ``calendar --diff``: per channel,
a **correction** (the text of the post before and after, as a unified diff; whether the platform
edits it in place or only says so once) and a **withdrawal** (what taking the item down does).

Both sides are rendered by the same code the run uses (``channels.render.render_post``), the old
one from the project as it was at the revision compared with.
"""
from __future__ import annotations

import difflib

from newsroom.state import EntryState


def shown_text(post) -> str:
    """What a reader sees of a post, as text: its parts, else its text, else its HTML."""
    return "\n\n".join(p for p in post.parts if p) or post.text or post.html or ""


def delivered(ledger: dict[str, EntryState], key: str) -> EntryState | None:
    st = ledger.get(key)
    return st if st is not None and st.state == "delivered" else None


def renderer(project):
    """``render(entry) → text or None``: the post an entry of ``project`` makes now."""
    from channels.registry import TYPES, build
    from channels.render import render_post

    adapters: dict[str, object] = {}

    def render(entry) -> str | None:
        config = project.settings.channels.get(entry.channel)
        if config is None or config.type not in TYPES:
            return None
        adapter = adapters.get(entry.channel)
        if adapter is None:
            adapter = adapters[entry.channel] = build(config, {})
            adapter.prepare(project.settings)
        try:
            return shown_text(render_post(project, entry.item, adapter, segment=entry.segment))
        except Exception as exc:  # noqa: BLE001 - a template error shows as such, it does not stop the diff
            return f"(cannot render: {type(exc).__name__}: {exc})"

    return render


def after_publishing(old_texts: dict[str, str], new: list, new_project, ledger: dict[str, EntryState], now,
                     local) -> list[dict]:
    """Rows for the entries out there that the change corrects or withdraws (``old_texts``: entry key →
    the text at the compared revision, for the delivered entries whose item changed)."""
    from channels.registry import TYPES

    from .due import withdrawal_reason

    render = renderer(new_project)
    rows = []
    for e in new:
        st = delivered(ledger, e.key)
        if st is None:
            continue
        cls = TYPES.get(e.type)
        base = {"key": e.key, "path": e.item.path, "title": e.item.title, "channel": e.channel,
                "at": local(e.at) if e.at else None, "url": (st.receipt or {}).get("url")}
        why = withdrawal_reason(e.item, now)
        if why is not None:
            can = bool(cls and cls.DELETES)
            rows.append({**base, "change": "withdrawal", "reason": why, "automatic": can,
                         "how": "taken down by the next run" if can else
                         f"{cls.CANNOT_DELETE if cls else 'unknown channel type'}: take it down by hand"})
            continue
        if e.key not in old_texts:
            continue
        after = render(e)
        before = old_texts[e.key]
        if after is None or after == before:
            continue
        can = bool(cls and cls.EDITS)
        diff = list(difflib.unified_diff(before.splitlines(), after.splitlines(), "before", "after", lineterm="", n=1))
        rows.append({**base, "change": "correction", "automatic": can, "diff": diff[2:],
                     "how": ("edited in place by the next run" if e.item.status == "approved" else
                             f"edited in place once approved (status is {e.item.status})") if can else
                     f"{cls.CANNOT_EDIT if cls else 'unknown channel type'}: said once, correct it by hand"})
    rows.sort(key=lambda r: (r["path"], r["channel"]))
    return rows
