"""``publish.py new``: a new item with today's conventions, never overwriting one."""
from __future__ import annotations

import os
import subprocess
from datetime import date, datetime

from . import times
from .items import slugify
from .model import Project
from .problems import Refusal, did_you_mean


class ScaffoldError(Refusal):
    def __init__(self, message: str, unusable: bool = False):
        super().__init__(message)
        self.unusable = unusable
        self.exit_code = 2 if unusable else 1


def git_author() -> str:
    """The author a new file names: git's user.name, else $USER."""
    try:
        name = subprocess.run(["git", "config", "user.name"], capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        name = ""
    return name or os.environ.get("USER", "")


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def new_item(project: Project, title: str, *, channels=(), at: str | None = None, campaign: str | None = None,
             author: str | None = None, today: str | None = None) -> str:
    settings = project.settings
    if not title.strip():
        raise ScaffoldError("the title is empty", unusable=True)
    for name in channels:
        if name not in settings.channels:
            raise ScaffoldError(f"no channel named '{name}' in publish.yml{did_you_mean(name, settings.channels)}",
                                unusable=True)
    publish_at = None
    if at:
        try:
            publish_at = times.parse_datetime(at, settings.timezone)
        except times.TimeError as exc:
            raise ScaffoldError(f"--at: {exc}", unusable=True) from None
    try:
        day = date.fromisoformat(today) if today else datetime.now(settings.calendar.timezone).date()
    except ValueError:
        raise ScaffoldError(f"--today: '{today}' is not a date (use YYYY-MM-DD)", unusable=True) from None
    slug = slugify(title)
    taken = {item.id for item in project.items}
    if slug in taken:
        raise ScaffoldError(f"an item with slug '{slug}' already exists; choose another title", unusable=False)
    rel = f"{settings.content_dir}/{day:%Y}/{day:%m}/{slug}.md"
    target = project.root / rel
    lines = ["---", f"title: {_quote(title)}", "status: idea", f"author: {_quote(author or git_author())}",
             "summary: \"\"", "tags: []"]
    if campaign:
        lines.append(f"campaign: {_quote(campaign)}")
    if publish_at:
        local = publish_at.astimezone(settings.timezone)
        lines.append(f"publish_at: {local.isoformat(timespec='minutes')}")
    if channels:
        lines.append("channels:")
        lines += [f"  {name}: {{}}" for name in channels]
    lines += ["---", "", "Write the piece here. The first paragraph becomes the excerpt.", ""]
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(target, "x", encoding="utf-8") as f:  # "x": refuse to overwrite, atomically
            f.write("\n".join(lines))
    except FileExistsError:
        raise ScaffoldError(f"{rel} already exists; it was left as it is") from None
    return rel
