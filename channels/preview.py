"""Preview: what each channel would send for an item, as text, JSON or one HTML page side by side.

``publish.py render`` calls these; nothing here sends anything. The check hook (``render_problems``)
renders every entry that will go out and returns the problems ``check`` lists.
"""
from __future__ import annotations

import hashlib
import html
import json
import os
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Mapping

from newsroom.fingerprint import code_signature, files_signature
from newsroom.model import Item, Project
from newsroom.problems import Problem, UsageError, did_you_mean

from .base import Channel, Post
from newsroom.atomic import write_atomic


def preview(project: Project, rel: str, names: list[str], segment: str | None) -> tuple:
    """``publish.py render``: the item at ``rel`` rendered for ``names`` (default: its enabled
    channels) → (item, posts, units of their limits). Raises ``UsageError`` for an unknown path,
    channel or segment."""
    from .registry import build
    from .render import render_post
    from .registry import rule_for

    item = project.item_by_path(rel)
    if item is None:
        near = did_you_mean(rel, [i.path for i in project.items])
        broken = "".join(f"\n  {p}" for p in project.problems if p.path == rel)
        raise UsageError(f"{rel}: no item loaded from this path{near}{broken}")
    settings = project.settings
    names = list(names) or [n for n, o in item.channels.items() if o.enabled]
    for name in names:
        if name not in settings.channels:
            raise UsageError(f"no channel named '{name}' in publish.yml{did_you_mean(name, settings.channels)}")
    if segment is not None and settings.segments and segment not in settings.segments:
        raise UsageError(f"unknown segment '{segment}'{did_you_mean(segment, settings.segments)}")
    posts, units = [], {}
    for name in names:
        config = settings.channels[name]
        posts.append(_readable(render_post(project, item, build(config, {}), segment=segment)))
        units[name] = rule_for(config.type, config.options).unit
    return item, posts, units


def _readable(post: Post) -> Post:
    """A newsletter's recipient fields as a person wrote them (they are filled per recipient when sent)."""
    from .fields import show

    if post.type != "email":
        return post
    post.subject, post.html, post.text = show(post.subject or ""), show(post.html or ""), show(post.text or "")
    versions = [post.data, *(post.data.get("languages") or {}).values()]
    for v in [*versions[1:], *(v for d in versions for v in d.get("variants") or ())]:
        v.update({k: show(v[k]) for k in ("subject", "html", "text") if isinstance(v.get(k), str)})
    return post


def post_dict(post: Post) -> dict:
    out = asdict(post)
    if post.type == "blog":
        out["text"] = blog_text(post)
    out["problems"] = [p.as_dict() for p in post.problems]
    out["media"] = [asdict(m) for m in post.media]
    return out


def blog_text(post: Post) -> str:
    """A blog post's plain text, read off its HTML (the run does not make it: the site never shows it)."""
    if post.text or not post.html:
        return post.text or ""
    from .plaintext import html_to_text

    return html_to_text(post.html)


def _over(length: int, limit: int | None) -> str:
    if limit is None:
        return f"{length}"
    return f"{length}/{limit}" + (f"  OVER BY {length - limit}" if length > limit else "")


def text_report(posts: list[Post], units: dict[str, str] | None = None) -> str:
    """Exactly what would be sent, channel by channel, each part with its length against the limit."""
    out: list[str] = []
    for post in posts:
        unit = (units or {}).get(post.channel, "characters")
        head = f"== {post.channel} ({post.type})"
        if post.segment:
            head += f" · segment {post.segment}"
        if post.template:
            head += f" · {post.template}"
        out.append(head + " ==")
        if post.type == "email":
            out.append(f"Subject: {post.subject}")
            out.append("")
            out.append(post.text or "")
            for variant in post.data.get("variants", []):
                out.append("")
                out.append(f"-- variant for segment {variant['segment']} --")
                out.append(f"Subject: {variant['subject']}")
                out.append("")
                out.append(variant["text"])
        elif post.type == "blog":
            out.append(blog_text(post))
        elif post.type == "devto":
            data = post.data
            out.append(f"Title: {data.get('title')}")
            out.append(f"Tags: {', '.join(data.get('tags') or [])}")
            out.append(f"Canonical URL: {data.get('canonical_url')}")
            out.append(f"Description: {data.get('description')}")
            out.append("")
            out.append(data.get("body_markdown") or "")
        else:
            n = len(post.parts)
            for i, (part, length) in enumerate(zip(post.parts, post.lengths), 1):
                out.append(part)
                label = f"part {i}/{n}: " if n > 1 else ""
                out.append(f"-- {label}{_over(length, post.limit)} {unit}")
        for p in post.problems:
            out.append(f"{p.severity}: {p}")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


_CSS = """
body{font-family:system-ui,sans-serif;margin:0;background:#f4f4f5;color:#18181b}
header{padding:16px 24px;background:#18181b;color:#fff}
main{display:flex;flex-wrap:wrap;gap:16px;padding:16px;align-items:flex-start}
section{background:#fff;border-radius:8px;padding:12px 16px;width:420px;box-shadow:0 1px 3px #0002}
section.wide{width:680px}
h2{font-size:15px;margin:0 0 8px}
.meta{color:#71717a;font-size:12px;margin-bottom:8px}
pre{white-space:pre-wrap;word-wrap:break-word;font:14px/1.45 system-ui,sans-serif;margin:0;padding:8px;background:#fafafa;border-radius:4px}
.len{font-size:12px;color:#52525b;margin:4px 0 12px}
.over{color:#b91c1c;font-weight:600}
.problem{color:#b91c1c;font-size:13px}
iframe{width:100%;height:520px;border:1px solid #e4e4e7;border-radius:4px}
"""


def html_preview(posts: list[Post], title: str, units: dict[str, str] | None = None) -> str:
    """One page with every channel's post side by side; email and blog bodies in sandboxed frames."""
    e = html.escape
    cards = []
    for post in posts:
        unit = (units or {}).get(post.channel, "characters")
        wide = post.type in ("email", "blog", "devto")
        body: list[str] = []
        if post.type in ("email", "blog"):
            if post.subject:
                body.append(f"<div class='meta'>Subject: {e(post.subject)}</div>")
            # sandbox: no scripts, no navigation from inside the preview
            body.append(f"<iframe sandbox srcdoc=\"{e(post.html or '', quote=True)}\"></iframe>")
            for v in post.data.get("variants", []):
                body.append(f"<h2>Segment {e(v['segment'])}</h2><div class='meta'>Subject: {e(v['subject'])}</div>")
                body.append(f"<iframe sandbox srcdoc=\"{e(v['html'], quote=True)}\"></iframe>")
        elif post.type == "devto":
            body.append(f"<div class='meta'>{e(post.data.get('title') or '')} · tags: "
                        f"{e(', '.join(post.data.get('tags') or []))}</div>")
            body.append(f"<pre>{e(post.data.get('body_markdown') or '')}</pre>")
        else:
            n = len(post.parts)
            for i, (part, length) in enumerate(zip(post.parts, post.lengths), 1):
                over = post.limit is not None and length > post.limit
                label = f"part {i}/{n}: " if n > 1 else ""
                body.append(f"<pre>{e(part)}</pre><div class='len{' over' if over else ''}'>"
                            f"{label}{e(_over(length, post.limit))} {e(unit)}</div>")
        for p in post.problems:
            body.append(f"<div class='problem'>{e(p.severity)}: {e(str(p))}</div>")
        meta = " · ".join(x for x in (post.type, post.template, f"segment {post.segment}" if post.segment else "") if x)
        cards.append(f"<section class='{'wide' if wide else ''}'><h2>{e(post.channel)}</h2>"
                     f"<div class='meta'>{e(meta)}</div>{''.join(body)}</section>")
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Preview: {e(title)}</title>"
            f"<style>{_CSS}</style></head><body><header>Preview: {e(title)}</header>"
            f"<main>{''.join(cards)}</main></body></html>\n")


def will_go_out(item, now: datetime) -> bool:
    """Items whose posts matter now: in review or approved, and not past expires_at."""
    return item.status in ("review", "approved") and not (item.expires_at is not None and item.expires_at <= now)


CACHE_FILE = ".cache/render-check.json"
CACHE_FORMAT = 1


def fingerprint(project: Project, folders: list[Path]) -> str:
    """What every cached result depends on besides the item itself: this code, the templates and
    publish.yml, by content (see ``newsroom/fingerprint.py``). Any change to one of them starts the
    cache afresh."""
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{CACHE_FORMAT} {code_signature(('channels', 'newsroom'))} {files_signature(folders)}".encode())
    try:
        h.update((project.root / project.settings.path).read_bytes())
    except OSError:
        h.update(b"no settings file")
    return h.hexdigest()


def render_problems(project: Project, now: datetime, *, cache: bool = True, only=None,
                    env: Mapping[str, str] | None = None, progress=None) -> list[Problem]:
    """Over-limit and template problems of every entry that will go out (check's rendering hook).

    Only items in review or approved and not expired are rendered, each enabled channel once (email
    once per segment through its variants), with blog and email bodies as cheap stand-ins. Results
    are kept in .cache/render-check.json per item revision and channel, valid while this code, the
    templates and publish.yml are unchanged: a second check renders only what changed. ``only``: the
    paths of the items to render (default: all); what the cache holds for the others is kept. The
    posts of a whole check (no ``only``) are rendered in worker processes when they are enough to pay
    for them (``env``: ``NEWSROOM_RENDER_WORKERS``, as ``newsroom/workers.py`` reads it);
    ``progress(n, total, step)`` hears how many are rendered as they are."""
    from newsroom.workers import fork_map, workers

    from . import registry

    settings = project.settings
    stored: dict = {}
    fingerprint_ = ""
    path = project.root / CACHE_FILE
    if cache:
        from .render import engine_for

        fingerprint_ = fingerprint(project, engine_for(project).folders)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("fingerprint") == fingerprint_:
                stored = data.get("entries", {})
        except (OSError, ValueError, AttributeError):
            stored = {}
    fresh: dict[str, list | None] = {}
    channels = {}
    jobs: list[tuple[str, Item, Channel]] = []  # what the cache does not hold: (key, item, channel)
    if only is not None:  # the others' results stay in the cache for the next full check
        fresh = {k: v for k, v in stored.items() if k.partition("|")[0] not in only}
    translations: dict[str, list] = {}
    for item in project.items:
        if item.translation_of:
            translations.setdefault(item.translation_of, []).append(item)
    for item in project.items:
        if (only is not None and item.path not in only) or not will_go_out(item, now):
            continue
        for name, override in item.channels.items():
            config = settings.channels.get(name)
            if not override.enabled or config is None or not config.enabled or config.type not in registry.TYPES:
                continue
            key = f"{item.path}|{item.revision}|{name}"
            if config.type == "email" and not item.translation_of:  # its translations are rendered with it
                key += "".join(f"|{t.path}:{t.revision}:{t.status}" for t in translations.get(item.id, ()))
            found = stored.get(key)
            if found is None:
                channel = channels.get(name)
                if channel is None:
                    channel = channels[name] = registry.build(config, {})
                jobs.append((key, item, channel))
            fresh[key] = found  # (its place kept: the problems are said in the order of the items)
    if jobs:
        # a whole check only: a publish run (``only``, the items it has work for) forks its workers once,
        # for the posts it delivers; forking here as well cost it 6% more CPU and 3% more wall time
        n = workers(len(jobs), os.environ if env is None else env) if only is None else 1
        told = None if progress is None else (lambda done: progress(done, len(jobs), "rendering the posts to check"))
        if n > 1:
            for _, item, _ in jobs:  # bodies read from the item cache once, here, and shared with every worker
                item.body
            found = fork_map(lambda job: _problems_of(project, job[1], job[2]), jobs, n, progress=told)
        else:
            found = []
            for _, item, channel in jobs:
                found.append(_problems_of(project, item, channel))
                if told is not None and (len(found) % PROGRESS_EVERY == 0 or len(found) == len(jobs)):
                    told(len(found))
        for (key, _, _), problems_ in zip(jobs, found):
            fresh[key] = problems_
    problems: list[Problem] = []
    for key, found in fresh.items():
        if only is None or key.partition("|")[0] in only:
            problems.extend(Problem(**p) for p in found)
    if cache and fresh != stored:
        _write_cache(path, {"fingerprint": fingerprint_, "entries": fresh})
    return problems


#: how many posts rendered between two progress lines (a line each would cost more than a post)
PROGRESS_EVERY = 100


def _problems_of(project: Project, item: Item, channel: Channel) -> list[dict]:
    from .render import render_post

    return [p.as_dict() for p in render_post(project, item, channel, quick=True).problems]


def _write_cache(path: Path, data: dict) -> None:
    """Atomically, and never at the cost of the check: a read-only checkout simply has no cache."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    except OSError:
        pass


def write_preview(project: Project, item, posts: list[Post], units: dict[str, str] | None = None) -> Path:
    """``render --open``: the side-by-side HTML preview, written under the reports output folder."""
    from newsroom.formats import write_file

    out = project.settings.output_dir("reports") / "preview" / f"{item.id}.html"
    return write_file(out, html_preview(posts, item.title, units))


def show(posts: list[Post], title: str, units: dict[str, str] | None, fmt: str) -> str:
    """``render``'s output in ``fmt`` (text, json, html)."""
    if fmt == "json":
        return dumps(posts) + "\n"
    if fmt == "html":
        return html_preview(posts, title, units)
    return text_report(posts, units)


def dumps(posts: list[Post]) -> str:
    return json.dumps([post_dict(p) for p in posts], indent=2, ensure_ascii=False, default=str)
