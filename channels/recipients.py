"""``check`` for the newsletter's recipient fields: a ``recipient.<column>`` no list of the channel has.

A field is read from the email templates an item uses (their syntax tree: ``recipient.plan`` and
``recipient["plan"]``) and from the item's body (``channels/fields.py``). Each is compared with the
header of every list the channel names; a field none of them has would print its fallback (or
nothing) for everyone, so it is an error at the template's or the body's line. A body field written
another way (``{{ recipient.name | upper }}``) is not filled: a warning says how to write it.
"""
from __future__ import annotations

from datetime import datetime

from jinja2 import nodes

from newsroom.bodyscan import body_fields
from newsroom.model import Project
from newsroom.problems import WARNING, Problem, did_you_mean


def template_fields(engine, name: str) -> list[tuple[int, str]]:
    """(line, column) of every recipient field a template reads; [] when it cannot be read (the
    render check reports that)."""
    try:
        source = engine.env.loader.get_source(engine.env, name)[0]
        tree = engine.env.parse(source)
    except Exception:  # noqa: BLE001 - a missing or broken template is the render check's to report
        return []
    out = []
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        target = node.node
        if not (isinstance(target, nodes.Name) and target.name == "recipient"):
            continue
        if isinstance(node, nodes.Getattr):
            out.append((node.lineno, node.attr.lower()))
        elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
            out.append((node.lineno, node.arg.value.strip().lower()))
    return out


def email_templates(engine, channel, override) -> list[str]:
    """The subject, HTML and text templates an item uses on an email channel (as ``render`` picks them)."""
    from .render import template_name

    base = template_name(channel, override, "email")
    if base.endswith(".j2"):
        names = [base, base.replace(".html.j2", ".txt.j2"), base.replace(".html.j2", ".subject.j2")]
    else:
        names = [f"{base}.html.j2", f"{base}.txt.j2", f"{base}.subject.j2"]
    if not engine.exists(names[2]):
        names[2] = "email/subject.j2"
    return names


def channel_columns(project: Project, config) -> tuple[set[str], list[str]] | None:
    """The columns of every list an email channel names, and the lists; None when none can be read."""
    from newsroom.audience import load_audience

    columns: set[str] = set()
    lists = list(dict.fromkeys((config.options.get("lists") or {}).values()))
    read = [load_audience(project.settings.root, rel) for rel in lists]
    if not any(a.columns for a in read):
        return None
    for audience in read:
        columns.update(audience.columns)
    return columns, lists


def field_problems(project: Project, now: datetime) -> list[Problem]:
    from . import registry
    from .preview import will_go_out
    from .render import engine_for

    settings = project.settings
    engine = engine_for(project)
    problems: list[Problem] = []
    seen_templates: set[tuple[str, str]] = set()
    for name, config in settings.channels.items():
        if config.type != "email" or not config.enabled:
            continue
        known = channel_columns(project, config)
        channel = None
        for item in project.items:
            override = item.channels.get(name)
            if override is None or not override.enabled or not will_go_out(item, now):
                continue
            written = item.recipient_fields
            if written is None:  # an item not from load_items: its body is read
                written = body_fields(item.body)
            for line, column, filled in written:
                where = item.body_line + line - 1 if item.body_line else None
                if not filled:
                    problems.append(Problem(item.path, where, "body", f"'{column}' is not filled: write "
                                            "{{ recipient.<column> }} or {{ recipient.<column> | default(\"…\") }} "
                                            "(the body is not a template)", WARNING))
                elif known is not None and column not in known[0]:
                    problems.append(Problem(item.path, where, "body", _missing(column, name, known)))
            if known is None:
                continue
            if channel is None:
                channel = registry.build(config, {})
            for template in email_templates(engine, channel, override):
                if (name, template) in seen_templates:
                    continue
                seen_templates.add((name, template))
                for line, column in template_fields(engine, template):
                    if column not in known[0]:
                        problems.append(Problem(engine.display(template), line, f"recipient.{column}",
                                                _missing(column, name, known)))
    return problems


def _missing(column: str, channel: str, known: tuple[set[str], list[str]]) -> str:
    columns, lists = known
    return (f"no list of channel '{channel}' has a column '{column}'{did_you_mean(column, columns)} "
            f"(its lists: {', '.join(lists)}; their columns: {', '.join(sorted(columns))})")

