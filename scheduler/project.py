"""The whole project, assembled from every layer below the command line.

    load_project(root) -> Project     every layer's schemas; raises UnusableSettings
    check(project, ...) -> Verdict    loading's problems and every layer's checks
    editor_schemas(root) -> {path: schema}   the same schemas as JSON Schema, for editors

Layers are listed explicitly, lowest first (Datasette's DEFAULT_PLUGINS): each declares its
schemas and its checks in its own ``layer.py``. The command line, the service, ``--diff`` and the
benchmarks all load and check through here, so they cannot disagree.
"""
from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Mapping

from newsroom.model import Project
from newsroom.problems import Verdict
from newsroom.project import CheckContext, Layer, declarations, load_project as load_with


def layers() -> tuple[Layer, ...]:
    from channels.layer import LAYER as CHANNELS
    from newsroom.layer import LAYER as NEWSROOM
    from reports.layer import LAYER as REPORTS

    from .layer import LAYER as SCHEDULER

    return (NEWSROOM, CHANNELS, REPORTS, SCHEDULER)


def load_project(root: Path, *, cache: bool | None = None, stats: dict | None = None) -> Project:
    """The project at ``root`` with every layer's schemas. Raises ``UnusableSettings``.

    ``cache`` (default: unless ``NEWSROOM_NO_CACHE`` is set): reuse items whose files did not change;
    ``stats``: the files' stat keys, already taken (``noop_cache.content_signature``)."""
    if cache is None:
        cache = not os.environ.get("NEWSROOM_NO_CACHE")
    return load_with(root, layers=layers(), cache=cache, stats=stats)


def ledger_of(project: Project) -> dict:
    """What the ledger knows about every entry (empty when the state backend is not available)."""
    from newsroom.state import open_store

    if any(p.key.startswith("state") for p in project.problems):
        return {}  # publish.yml's state settings cannot be used: check reports them, not a failed connection
    try:
        return open_store(project.root, project.settings.state).entries()
    except NotImplementedError:
        return {}


def check(project: Project, now: datetime | None = None, *, env: Mapping[str, str] | None = None,
          verify: bool = False, ledger: dict | None = None, items=None, plan: list | None = None,
          progress=None) -> Verdict:
    """Every problem ``check`` reports: loading and workflow, plus each layer's own checks. The publish
    run asks the same (``scheduler/run/flow.py``): what this calls an error, the run holds.

    ``now`` (default: the clock) decides the rules that look ahead, such as the calendar's lead time;
    ``env`` (default: the process's) holds the channels' secrets; ``verify`` asks each platform
    whether its credential works; ``ledger`` (default: read from the state backend) is what the
    ledger knows, given by a run that has read it already; ``items`` (default: all) the paths of the
    items whose posts are rendered and images looked at (a run's, the items it has work for); ``plan``
    (default: planned here) the calendar as of ``now`` on that ledger, when the caller has it;
    ``progress(n, total, step)`` is told how long work goes (``command.progress_printer``)."""
    ctx = CheckContext(now=now or datetime.now(timezone.utc), env=os.environ if env is None else env,
                       verify=verify, ledger=ledger_of(project) if ledger is None else ledger,
                       items=None if items is None else frozenset(items), plan=plan, progress=progress)
    problems = list(project.problems)
    for layer in layers():
        if layer.check is not None:
            problems.extend(layer.check(project, ctx))
    return Verdict(problems, settings_path=project.settings.path)


def editor_schemas(root: Path | None = None) -> dict[str, dict]:
    """The JSON Schemas of front matter and publish.yml (``newsroom.editor_schemas``) from every
    layer's declarations; with the project at ``root`` (when it has a publish.yml), its channels by
    name. Raises ``UnusableSettings`` when that publish.yml cannot be used."""
    from newsroom.editor_schemas import documents
    from newsroom.schema import EditorContext
    from newsroom.settings import SETTINGS_FILE, load_settings

    declared = declarations(layers())
    channels = states = None
    if root is not None and (root / SETTINGS_FILE).exists():
        settings, _ = load_settings(root, extra_sections=declared.extra_sections, channel_types=declared.channel_types)
        channels = {name: channel.type for name, channel in settings.channels.items()}
        states = settings.workflow.names
    ctx = EditorContext(declared.channel_types or {}, declared.channel_overrides or {}, channels, states)
    return documents(ctx, declared.extra_sections)


def reference_text() -> str:
    """docs/reference.md: every schema's table, the reports' sections included."""
    from channels.reference import render
    from reports.layer import reference_sections

    return render(reference_sections())
