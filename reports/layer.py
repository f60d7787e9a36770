"""What the reports add to a project: publish.yml's ``pull:`` and ``listen:`` sections, their
checks, and their part of docs/reference.md."""
from __future__ import annotations

from newsroom.model import Project
from newsroom.problems import Problem
from newsroom.project import CheckContext, Layer

from . import settings


def check(project: Project, ctx: CheckContext) -> list[Problem]:
    return settings.check(project.settings)


def reference_sections() -> tuple:
    """Reference sections owned by this layer (publish.yml's pull: and listen:)."""
    return (("Engagement pull", "Keys under `pull:` in publish.yml (`publish.py pull`).", settings.PULL, "pull."),
            ("Listening feeds", "Keys under `listen:` in publish.yml: feeds read for mentions by "
             "`publish.py pull`.", settings.LISTEN, "listen."),
            ("Web analytics", "Keys of each source under `analytics.<name>:` in publish.yml, read by "
             "`publish.py pull` (docs/reports.md).", settings.ANALYTICS_SOURCE, "analytics.<name>."),
            ("Report", "Keys under `report:` in publish.yml (`publish.py report`).", settings.REPORT, "report."))


LAYER = Layer("reports", sections=lambda: settings.SECTIONS, check=check)
