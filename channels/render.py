"""Rendering: an item becomes a channel's ``Post`` through the templates in ``templates/<type>/``.

Minimal first version of the contract the rest of the code relies on:

    render_post(project, item, channel, *, segment=None) -> Post

The rendering issue grows this (filters, limits, threads, segments, sanitising) without changing it.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import jinja2
import markdown as md

from newsroom.model import Item, Project

from .base import Channel, Media, Post

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


@lru_cache(maxsize=8)
def environment(folder: str = str(TEMPLATES)) -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(folder), undefined=jinja2.StrictUndefined,
                              autoescape=jinja2.select_autoescape(["html.j2", "html"]), keep_trailing_newline=True)


def item_url(project: Project, item: Item) -> str:
    return item.canonical_url or f"{project.settings.site.url}/{item.slug}/"


def render_post(project: Project, item: Item, channel: Channel, *, segment: str | None = None) -> Post:
    override = item.channels.get(channel.name)
    url = item_url(project, item)
    html = md.markdown(item.body, extensions=["extra"])
    post = Post(channel=channel.name, type=channel.TYPE, item_id=item.id, item_path=item.path,
                revision=item.revision, title=item.title, url=url, segment=segment, tags=list(item.tags),
                html=html, text=item.body, subject=item.title, limit=channel.MAX_CHARS)
    if item.image:
        post.media.append(Media(src=item.image, alt=item.image_alt or ""))
    if override and override.text:
        text = override.text
    else:
        text = f"{item.title}\n\n{item.summary}\n\n{url}".strip()
    post.parts = [text]
    post.lengths = [channel.count(text)]
    return post
