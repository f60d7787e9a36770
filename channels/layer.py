"""What the channels add to a project: each channel type's options and front-matter overrides, and
the rendering checks (limits, templates, images) of every entry that will go out."""
from __future__ import annotations

from newsroom.model import Project
from newsroom.problems import Problem
from newsroom.project import CheckContext, Layer

from . import registry


def check(project: Project, ctx: CheckContext) -> list[Problem]:
    from .newsletter_service import segment_problems
    from .preview import render_problems
    from .recipients import field_problems
    from .render import image_problems

    # image_problems and field_problems are not cached: an image file or a list's header may change by itself
    return [*render_problems(project, ctx.now, only=ctx.items, env=ctx.env, progress=ctx.progress),
            *image_problems(project, only=ctx.items), *field_problems(project, ctx.now), *segment_problems(project)]


LAYER = Layer("channels", channel_types=registry.option_schemas, channel_overrides=registry.override_schemas,
              check=check)
