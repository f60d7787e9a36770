"""What the scheduler adds to ``check``: the calendar's rules, and the credentials' health before
the entries due on them."""
from __future__ import annotations

from newsroom.model import Project
from newsroom.problems import WARNING, Problem
from newsroom.project import CheckContext, Layer


def check(project: Project, ctx: CheckContext) -> list[Problem]:
    from .health import check_problems
    from .plan import plan
    from .rules import problems

    # the calendar's rules, on the plan as of ``now``; one plan for both (planning 10,000 items is
    # most of what check costs once they are loaded); a publish run hands in the one it made
    entries = ctx.plan if ctx.plan is not None else plan(project, ledger=ctx.ledger, now=ctx.now)
    return [*problems(project, entries),
            *check_problems(project, ctx.env, ctx.now, verify=ctx.verify, ledger=ctx.ledger, entries=entries),
            *withdrawals(project, entries, ctx), *identities(project, ctx)]


def identities(project: Project, ctx: CheckContext) -> list[Problem]:
    """An item that went out, found again under another identity: the ledger keys entries by the
    item's id (its slug, which defaults to the file name), so a file that went out as ``a`` and now
    loads as ``launch`` (a ``slug:`` added) would go out again everywhere as a new item. That is an
    error, which holds the item, unless its new ``id:`` is written out (a new item on purpose). A file
    that went out and is gone (deleted, or renamed without its ``id:``) is a warning while its blog
    page is still up: the next run withdraws the page, and a renamed file would go out again."""
    from newsroom.problems import ERROR

    ledger = ctx.ledger or {}
    if not ledger:
        return []
    ids = {i.id for i in project.items}
    known = {st.item for st in ledger.values()}
    by_path = {i.path: i for i in project.items}
    went: dict[str, tuple[str, set, bool]] = {}  # id it went out as → (its path, channels, a blog page up)
    types = {name: c.type for name, c in project.settings.channels.items()}
    for st in ledger.values():
        if st.state != "delivered" or not st.item or not st.path or st.item in ids:
            continue
        path, channels, page = went.get(st.item, (st.path, set(), False))
        channels.add(st.channel)
        went[st.item] = (path, channels, page or types.get(st.channel) == "blog")
    out = []
    for old, (path, channels, page) in sorted(went.items()):
        on = ", ".join(sorted(channels))
        item = by_path.get(path)
        if item is not None and item.id not in known:  # (once it went out as the new item: said enough)
            lines = item.doc.lines if item.doc else {}
            explicit = "id" in lines
            line = lines.get("id") or lines.get("slug") or 1
            out.append(Problem(item.path, line, "id", (
                f"this file went out as '{old}' (on {on}); it now loads as '{item.id}', a new item that goes out "
                f"again on its channels" + ("" if explicit else f": give it id: {old} to keep it the item that went "
                                                                 f"out, or write id: {item.id} to make it a new one")),
                WARNING if explicit else ERROR))
        elif page and not (project.root / path).exists():
            out.append(Problem(path, None, "", (
                f"went out as '{old}' (on {on}) and the file is gone: the next run withdraws its blog page; "
                f"if the file was renamed, give the new one id: {old}, or it goes out again as a new item"), WARNING))
    return out


def withdrawals(project: Project, entries, ctx: CheckContext) -> list[Problem]:
    """What taking an item down will do on each channel it went out on, said before it is merged:
    deleted where the platform can, and where it cannot, that a person must (a warning each)."""
    from channels.registry import TYPES

    from .due import withdrawal_reason

    out: list[Problem] = []
    ledger = ctx.ledger or {}
    for e in entries:
        st = ledger.get(e.key)
        why = withdrawal_reason(e.item, ctx.now) if st is not None and st.state == "delivered" else None
        if why is None or st.withdraw_failed == e.item.revision:
            continue
        cls = TYPES.get(e.type)
        url = (st.receipt or {}).get("url") or (st.receipt or {}).get("remote_id")
        if cls is not None and cls.DELETES:
            what = "its page leaves the index, feeds and sitemap" if e.type == "blog" else "its post is deleted"
            text = f"{why}: on {e.channel} {what} by the next run ({url})"
        else:
            reason = cls.CANNOT_DELETE if cls is not None else "this channel type is not known"
            text = f"{why}: on {e.channel} {reason}; take it down by hand ({url})"
        key = "status" if e.item.status == "withdrawn" else "expires_at"
        out.append(Problem(e.item.path, e.item.line(key), key, text, WARNING))
    return out


LAYER = Layer("scheduler", check=check)
