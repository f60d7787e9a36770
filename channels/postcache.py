"""Rendered posts kept between runs, so a rebuild renders only the items that changed.

The blog's site is rebuilt from every delivered item; rendering 10,000 Markdown bodies each time
costs minutes. ``.cache/posts-<channel>.pickle`` keeps each rendered ``Post`` by item id and
revision, valid while the code, the templates and publish.yml are unchanged (the same fingerprint
as check's rendering cache). Deleting it is always safe.
"""
from __future__ import annotations

import pickle
from pathlib import Path

from newsroom.model import Item, Project

from .base import Post
from newsroom.atomic import write_atomic
from newsroom.gcpause import collector_paused


class PostCache:
    def __init__(self, project: Project, channel: str):
        from .preview import fingerprint
        from .render import engine_for

        self.path = Path(project.root) / ".cache" / f"posts-{channel}.pickle"
        self.fingerprint = fingerprint(project, engine_for(project).folders)
        self.posts: dict[str, Post] = {}
        self.used: dict[str, Post] = {}
        try:
            with open(self.path, "rb") as f, collector_paused():  # thousands of posts: no collector passes
                stored_fingerprint, posts = pickle.load(f)
            if stored_fingerprint == self.fingerprint:
                self.posts = posts
        except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError, AttributeError, ImportError):
            pass

    @staticmethod
    def key(item: Item) -> str:
        return _key(item.id, item.revision, item.path)

    def get(self, item: Item) -> Post | None:
        post = self.posts.get(self.key(item))
        if post is not None:
            self.used[self.key(item)] = post
        return post

    def went_out(self, item_id: str, revision: str, path: str) -> Post | None:
        """The post kept for an earlier ``revision`` of an item (the one that went out), found by what
        the ledger says of it: the item's file may since hold an edit, or not load at all."""
        key = _key(item_id, revision, path)
        post = self.posts.get(key)
        if post is not None:
            self.used[key] = post
        return post

    def put(self, item: Item, post: Post) -> None:
        self.used[self.key(item)] = post

    def save(self) -> None:
        """Keep what this build used; write atomically, only when it changed."""
        if self.used.keys() == self.posts.keys():
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(self.path, pickle.dumps((self.fingerprint, self.used), protocol=pickle.HIGHEST_PROTOCOL))
        except OSError:
            pass


def _key(item_id: str, revision: str, path: str) -> str:
    """Where a post is kept: the item's id, the revision it was rendered from, and the item's path."""
    return f"{item_id}|{revision}|{path}"
