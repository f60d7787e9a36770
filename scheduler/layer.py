"""What the scheduler adds to ``check``: the calendar's rules, and the credentials' health before
the entries due on them."""
from __future__ import annotations

from newsroom.model import Project
from newsroom.problems import Problem
from newsroom.project import CheckContext, Layer


def check(project: Project, ctx: CheckContext) -> list[Problem]:
    from .health import check_problems
    from .plan import plan
    from .rules import problems

    # the calendar's rules, on the plan as of ``now``; one plan for both (planning 10,000 items is
    # most of what check costs once they are loaded)
    entries = plan(project, ledger=ctx.ledger, now=ctx.now)
    return [*problems(project, entries),
            *check_problems(project, ctx.env, ctx.now, verify=ctx.verify, ledger=ctx.ledger, entries=entries)]


LAYER = Layer("scheduler", check=check)
