"""Rendered posts kept between runs, so a rebuild renders only the items that changed.

The blog's site is rebuilt from every delivered item; rendering 10,000 Markdown bodies each time
costs minutes. ``.cache/posts-<channel>/NN.pickle`` keep each rendered ``Post`` by item id and
revision, valid while the code, the templates and publish.yml are unchanged (the same fingerprint
as check's rendering cache). Deleting them is always safe.

Posts are spread over ``SHARDS`` files by their item's path, as the item cache spreads items
(``newsroom/itemcache.py``), and only the shards whose posts changed are written again: a run that
corrected one item of 10,000 writes a thirty-second of the posts, not all 18 MB of them.
"""
from __future__ import annotations

import pickle
from pathlib import Path

from newsroom.model import Item, Project

from .base import Post
from newsroom.atomic import write_atomic
from newsroom.gcpause import collector_paused
from newsroom.itemcache import SHARDS, shard_of, unchanged



class PostCache:
    def __init__(self, project: Project, channel: str):
        from .preview import fingerprint
        from .render import engine_for

        self.folder = Path(project.root) / ".cache" / f"posts-{channel}"
        self.old_file = Path(project.root) / ".cache" / f"posts-{channel}.pickle"  # before the shards
        self.fingerprint = fingerprint(project, engine_for(project).folders)
        self.posts: dict[str, Post] = {}
        self.used: dict[str, Post] = {}
        self.loaded: list[dict[str, Post]] = [{} for _ in range(SHARDS)]  # what each shard's file holds
        with collector_paused():  # thousands of posts: no collector passes
            for n in range(SHARDS):
                try:
                    with open(self.folder / f"{n:02d}.pickle", "rb") as f:
                        stored_fingerprint, posts = pickle.load(f)
                except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError, AttributeError,
                        ImportError):
                    continue
                if stored_fingerprint == self.fingerprint and isinstance(posts, dict):
                    self.loaded[n] = posts
                    self.posts.update(posts)

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
        """Keep what this build used; write atomically each shard that changed, only those."""
        shards: list[dict[str, Post]] = [{} for _ in range(SHARDS)]
        for key, post in self.used.items():
            shards[_shard(key)][key] = post
        try:
            for n, shard in enumerate(shards):
                if unchanged(shard, self.loaded[n]):
                    continue
                self.folder.mkdir(parents=True, exist_ok=True)
                write_atomic(self.folder / f"{n:02d}.pickle",
                             pickle.dumps((self.fingerprint, shard), protocol=pickle.HIGHEST_PROTOCOL))
                self.loaded[n] = shard
            self.old_file.unlink(missing_ok=True)
        except OSError:
            pass


def _shard(key: str) -> int:
    """The shard of a post: by its item's path (the key's last part), so an item's revisions share one."""
    return shard_of(key.rpartition("|")[2])


def _key(item_id: str, revision: str, path: str) -> str:
    """Where a post is kept: the item's id, the revision it was rendered from, and the item's path."""
    return f"{item_id}|{revision}|{path}"
