"""What the core adds to ``check`` beyond loading: the newsletter's recipient lists."""
from __future__ import annotations

from .model import Project
from .problems import Problem
from .project import CheckContext, Layer


def check(project: Project, ctx: CheckContext) -> list[Problem]:
    from .audience import audience_problems

    return audience_problems(project.settings)


LAYER = Layer("newsroom", check=check)
