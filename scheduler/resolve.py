"""``publish.py resolve``: a person settles an entry the run could not (did it go out or not?).

``--sent`` records it as delivered (with the URL, when given): it is never sent again.
``--not-sent`` lets the next run send it, if it is still inside its grace window; it is recorded as
``forced`` for the item's current revision, which lifts a "needs a person" hold.

A thread is settled part by part, never as a whole that forgets its parts: the parts the ledger
confirms are kept in the receipt; where the platform can read back (Bluesky's record keys,
Mastodon's idempotency), the rest are looked up there; where it cannot, the person says how many
parts are out (``--parts N``). Parts that are not out are sent by the next run, under the last one
that is (``--not-sent``).
"""
from __future__ import annotations

from datetime import datetime
from typing import Mapping

from channels.base import Channel, DeliveryContext, Failure, Journal, Receipt
from channels.social import done_parts
from newsroom.problems import UsageError
from newsroom.state import EntryState, StateStore, entry_key


class ResolveError(UsageError):
    """An entry that cannot be settled as asked (exit 2); the message says why."""


def _span(first: int, last: int) -> str:
    return f"part {first}" if first == last else f"parts {first}–{last}"


def resolve(project, store: StateStore, target: str, channel: str | None, *, sent: bool, url: str | None,
            now: datetime, who: str, env: Mapping[str, str] | None = None, parts: int | None = None) -> list[str]:
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
        thread = _Thread(project, store, item, name, st, base, env or {})
        if sent:
            out.append(thread.sent(url, parts))
        else:
            store.append([{**base, "event": "forced"}, {**base, "event": "released"}])
            out.append(f"{item.path} → {name}: released; the next publish run sends {thread.rest() or 'it'} "
                       "if it is inside its window")
    return out


class _Thread:
    """One entry's parts: how many the post has, which the ledger confirms, which the platform has."""

    def __init__(self, project, store, item, name, st: EntryState | None, base: dict, env):
        self.project, self.store, self.item, self.name, self.base = project, store, item, name, base
        self.journal = Journal(st.journal_for(item.revision) if st else {}, self._progress)
        self.adapter: Channel | None = None
        self.post = None
        config = project.settings.channels.get(name)
        from channels import registry

        if config is not None and config.type in registry.TYPES:
            self.adapter = registry.build(config, env)
            self.adapter.prepare(project.settings)
            try:
                from channels.render import render_post

                self.post = render_post(project, item, self.adapter)
            except Exception:  # noqa: BLE001 - a template error: the person's word is all there is
                self.post = None
        self.count = len(self.post.parts) if self.post is not None and self.post.parts else 1
        self.confirmed = done_parts(self.journal, self.count)

    def _progress(self, name, value) -> None:
        self.store.append([{**self.base, "event": "progress", "name": name, "value": value}])

    def rest(self) -> str:
        """'parts 4–5 of the thread, under part 3': what a release sends, for a thread partly out."""
        k = len(self.confirmed)
        if self.count <= 1 or k == 0:
            return ""
        return f"{_span(k + 1, self.count)} of the thread, under part {k}"

    def _read_back(self) -> Receipt | None | str:
        """Ask the platform which parts are out: a receipt (all), None (the rest are not), or why it
        cannot tell."""
        if self.adapter is None or self.post is None or type(self.adapter).reconcile is Channel.reconcile:
            return "the platform cannot be asked"
        if self.adapter.missing_secrets():
            return f"{', '.join(self.adapter.missing_secrets())} is not set, so the platform cannot be asked"
        from channels.base import CannotReconcile

        ctx = DeliveryContext(key=self.base["entry"], now=datetime.fromisoformat(self.base["at"]),
                              journal=self.journal)
        try:
            got = self.adapter.reconcile(self.post, ctx)
        except CannotReconcile as exc:
            return str(exc) or "the platform cannot tell"
        if isinstance(got, Failure):
            return f"the platform did not answer ({got.message})"
        self.confirmed = done_parts(self.journal, self.count)
        return got

    def _record(self, parts: list[dict], url: str | None, note: str) -> str:
        first = parts[0] if parts else {}
        receipt = {"remote_id": str(first.get("id") or ""), "url": url or first.get("url"), "at": self.base["at"],
                   "parts": parts, "data": {}}
        self.store.append([{**self.base, "event": "delivered", "resolved": True, "receipt": receipt}])
        return f"{self.item.path} → {self.name}: {note}recorded as delivered; it is not sent again"

    def sent(self, url: str | None, parts: int | None) -> str:
        n, where = self.count, f"{self.item.path} → {self.name}"
        if n > 1 and len(self.confirmed) < n:
            found = self._read_back()
            if isinstance(found, Receipt):
                return self._record([dict(p) for p in found.parts], url, f"all {n} parts found on {self.name}; ")
            k = len(self.confirmed)
            if found is None and parts is None:
                out = f"{_span(1, k)} of {n} {'is' if k == 1 else 'are'}" if k else f"none of the {n} parts is"
                raise ResolveError(
                    f"{where}: {out} on {self.name}, {_span(k + 1, n)} not: say --not-sent to send "
                    f"{'them under part ' + str(k) if k else 'the thread'}, or --sent --parts {n} if the rest are "
                    "out under other keys (posted by hand)")
            if parts is None:
                raise ResolveError(
                    f"{where}: a thread of {n} parts, {k} confirmed in the ledger, and {found}: say how many "
                    f"parts are out with --parts N ({k} to {n})")
            if not k <= parts <= n:
                raise ResolveError(f"{where}: --parts {parts}: the thread has {n} parts and {k} are known to be out "
                                   f"(say {k} to {n})")
            if parts == k and k < n:
                self.store.append([{**self.base, "event": "forced"}, {**self.base, "event": "released"}])
                return (f"{where}: {_span(1, k) if k else 'no part'} out; released: the next publish run sends "
                        f"{_span(k + 1, n)} if it is inside its window")
            if parts < n:
                raise ResolveError(
                    f"{where}: {_span(k + 1, parts)} out without an id in the ledger, so the thread cannot go on "
                    f"under them: delete them on {self.name} and say --parts {k}, or post the rest yourself and "
                    f"say --parts {n}")
            # every part out; those the ledger has no id for are recorded as the person's word
            known = [dict(p) for p in self.confirmed]
            rest = [{"id": "", "url": None, "by": "person"} for _ in range(n - len(known))]
            return self._record(known + rest, url, f"{_span(1, len(known))} from the ledger, "
                                                   f"{_span(len(known) + 1, n)} on your word; " if known else "")
        if self.confirmed:
            return self._record([dict(p) for p in self.confirmed], url, "")
        return self._record([], url, "")
