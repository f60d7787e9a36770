"""``publish preview --changed-since BASE --out DIR``: a small static site of every changed item as
each of its channels would send it, for a pull request's reviewers.

The items changed since where the branch left ``BASE`` (``git merge-base``; edits not committed yet
count too, and new files) are rendered exactly as ``publish render`` shows them
(``channels/preview.py``): one page per item with every channel side by side and each part's length
against its limit, and ``index.html`` listing them. ``DIR/summary.md`` is the Markdown the pull
request's comment shows beside the schedule diff; the PR workflow uploads ``DIR`` as an artifact and
links it there (docs/calendar.md, "Pull requests").
"""
from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from pathlib import Path

from newsroom.problems import ERROR, UsageError

from .history import HistoryError, git
from .shown import EXIT_OK, EXIT_PROBLEMS, Shown, lines

SUMMARY = "summary.md"
INDEX = "index.html"


@dataclass
class Preview:
    """One changed item: its page, and per channel the longest part against the limit."""

    path: str
    change: str  # added, changed, removed, broken (its front matter did not load)
    title: str = ""
    page: str | None = None  # relative to the site
    channels: list[dict] = field(default_factory=list)  # {channel, type, length, limit, unit, over, problems}
    problems: list[str] = field(default_factory=list)

    @property
    def over(self) -> bool:
        return any(c["over"] for c in self.channels)

    @property
    def errors(self) -> bool:
        return bool(self.problems) or any(c["errors"] for c in self.channels)


def changed_items(root: Path, content_dir: str, base: str) -> dict[str, str]:
    """Item path → added, changed or removed, since where HEAD left ``base`` (the working tree's edits
    and new files included). Raises ``UsageError`` when ``base`` is not a revision here."""
    from newsroom.items import ITEM_SUFFIXES

    try:
        fork = git(root, "merge-base", base, "HEAD").decode().strip()
    except HistoryError as exc:
        raise UsageError(f"--changed-since {base}: not a revision in this repository ({exc}); in CI, check out "
                         "with fetch-depth: 0 so the base branch is there") from None
    out: dict[str, str] = {}
    diff = git(root, "diff", "--name-status", "--no-renames", "-z", fork, "--", content_dir).decode("utf-8", "replace")
    fields = diff.split("\x00")
    for status, path in zip(fields[0::2], fields[1::2]):
        if path.endswith(ITEM_SUFFIXES):
            out[path] = {"A": "added", "D": "removed"}.get(status[:1], "changed")
    new = git(root, "ls-files", "--others", "--exclude-standard", "-z", "--", content_dir).decode("utf-8", "replace")
    for path in filter(None, new.split("\x00")):
        if path.endswith(ITEM_SUFFIXES):
            out[path] = "added"
    return dict(sorted(out.items()))


def build(root: Path, base: str, out: Path) -> list[Preview]:
    """Render every changed item into ``out``; the previews, in path order."""
    from channels import preview
    from channels.registry import rule_for
    from newsroom.formats import write_file

    from .project import load_project

    project = load_project(root)
    changes = changed_items(root, project.settings.content_dir, base)
    out.mkdir(parents=True, exist_ok=True)
    found: list[Preview] = []
    for path, change in changes.items():
        item = project.item_by_path(path) if change != "removed" else None
        if item is None:
            broken = [f"{p}" for p in project.problems if p.path == path and p.severity == ERROR]
            found.append(Preview(path, change if change == "removed" else "broken", problems=broken))
            continue
        _, posts, units = preview.preview(project, path, [], None)
        page = f"items/{item.id}.html"
        write_file(out / page, preview.html_preview(posts, item.title, units))
        channels = []
        for post in posts:
            config = project.settings.channels[post.channel]
            # a post without parts (the blog, a newsletter) is measured by its text, against no limit
            longest = max(post.lengths) if post.lengths else len(preview.blog_text(post) or post.text or "")
            limit = post.limit if post.limit is not None else rule_for(config.type, config.options).limit
            channels.append({"channel": post.channel, "type": post.type, "parts": len(post.parts), "length": longest,
                             "limit": limit, "unit": units.get(post.channel, "characters"),
                             "over": limit is not None and longest > limit,
                             "errors": [str(p) for p in post.problems if p.severity == ERROR],
                             "warnings": [str(p) for p in post.problems if p.severity != ERROR]})
        found.append(Preview(path, change, item.title, page, channels))
    write_file(out / INDEX, index_page(project.settings.site.title, base, found))
    write_file(out / SUMMARY, summary(found))
    (out / "previews.json").write_text(json.dumps([_as_dict(p) for p in found], indent=2, ensure_ascii=False) + "\n",
                                       encoding="utf-8")
    return found


def _as_dict(p: Preview) -> dict:
    return {"path": p.path, "change": p.change, "title": p.title, "page": p.page, "channels": p.channels,
            "problems": p.problems, "over": p.over}


def _length(c: dict) -> str:
    if c["limit"] is None:
        return f"{c['length']}"
    return f"{c['length']}/{c['limit']}" + (f" over by {c['length'] - c['limit']}" if c["over"] else "")


def summary(found: list[Preview]) -> str:
    """The pull request comment's part: each changed item, its channels and lengths against limits."""
    if not found:
        return "### Previews\n\nNo item changed.\n"
    rows = ["### Previews", "", f"{len(found)} changed item{'s' * (len(found) != 1)}, each as its channels "
            "would send it (the longest part against the channel's limit):", "",
            "| item | change | channels |", "|---|---|---|"]
    for p in found:
        if p.channels:
            cells = "; ".join(f"{'⚠️ ' if c['over'] or c['errors'] else ''}{c['channel']} {_length(c)}"
                              for c in p.channels)
        elif p.problems:
            cells = "does not load: " + "; ".join(p.problems)
        else:
            cells = "goes to no channel" if p.change != "removed" else ""
        title = p.title.replace("|", "\\|") or p.path
        rows.append(f"| {title} (`{p.path}`) | {p.change} | {cells.replace('|', '/')} |")
    return "\n".join(rows) + "\n"


def index_page(site: str, base: str, found: list[Preview]) -> str:
    e = html.escape
    rows = []
    for p in found:
        name = f"<a href='{e(p.page)}'>{e(p.title)}</a>" if p.page else e(p.title or p.path)
        cells = "".join(f"<li class='{'over' if c['over'] or c['errors'] else ''}'>{e(c['channel'])}: "
                        f"{e(_length(c))} {e(c['unit'])}</li>" for c in p.channels)
        cells += "".join(f"<li class='over'>{e(x)}</li>" for x in p.problems)
        rows.append(f"<tr><td>{name}<div class='path'>{e(p.path)}</div></td><td>{e(p.change)}</td>"
                    f"<td><ul>{cells}</ul></td></tr>")
    body = "".join(rows) or "<tr><td colspan='3'>No item changed.</td></tr>"
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Previews: {e(site)}</title><style>"
            "body{font-family:system-ui,sans-serif;margin:24px;color:#18181b}table{border-collapse:collapse}"
            "td,th{border-bottom:1px solid #e4e4e7;padding:8px 12px;text-align:left;vertical-align:top}"
            "ul{margin:0;padding-left:16px}.over{color:#b91c1c;font-weight:600}.path{color:#71717a;font-size:12px}"
            f"</style></head><body><h1>Previews: {e(site)}</h1><p>Items changed since {e(base)}, each as its "
            f"channels would send it.</p><table><tr><th>item</th><th>change</th><th>channels</th></tr>{body}"
            "</table></body></html>\n")


def command(root: Path, *, changed_since: str, out: str, fmt: str = "text") -> Shown:
    """``preview``: exit 1 when a changed item does not load, or a post is over its limit or has an error."""
    target = Path(out)
    if not target.is_absolute():
        target = Path.cwd() / target
    found = build(root, changed_since, target)
    code = EXIT_PROBLEMS if any(p.over or p.errors for p in found) else EXIT_OK
    if fmt == "json":
        return Shown(json.dumps([_as_dict(p) for p in found], indent=2, ensure_ascii=False) + "\n", exit_code=code)
    text = [f"{p.change:<8} {p.path}" + "".join(f"\n         {c['channel']}: {_length(c)} {c['unit']}"
                                                 for c in p.channels) + "".join(f"\n         {x}" for x in p.problems)
            for p in found] or ["no item changed"]
    return Shown(lines(text), wrote=[f"wrote {target / INDEX}"], exit_code=code)
