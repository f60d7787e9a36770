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
            *withdrawals(project, entries, ctx)]


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
