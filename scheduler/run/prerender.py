"""Rendering many posts at once in worker processes, when there are enough to pay for them.

A cold run on a fresh clone renders every post it delivers and every post the blog's site shows;
at thousands of items that is the run's largest share of work, and each post is independent. The
posts are rendered before the deliveries begin, in forked workers that share the loaded project
(no second load), and handed back pickled, as ``PostCache`` keeps them. Rendering sends nothing,
so an entry that is then not claimed only cost its rendering.

Workers are used only where ``fork`` is (Linux; not macOS's or Windows' default) and the run has no
other thread (``serve`` runs in a scheduler thread: forking there is not safe), for at least
``MIN_POSTS`` posts, as many as there are cores (at most ``MAX_WORKERS``).
``NEWSROOM_RENDER_WORKERS=1`` turns them off; another number asks for that many whenever there are
at least as many posts. The run's output says when it used them.
"""
from __future__ import annotations

import gc
import multiprocessing
import os
import threading

from channels.base import Channel, Post
from newsroom.gcpause import is_one_shot

from .. import due
from ..plan import Entry
from .core import Run
from .render import kept, render_fresh

#: below this many posts, forking and pickling cost more than they save
MIN_POSTS = 200
MAX_WORKERS = 8

_JOBS: tuple | None = None  # (run, jobs) for the forked workers, set only while a pool lives


def workers(count: int, env) -> int:
    """How many worker processes to render ``count`` posts with (1: in this process)."""
    setting = str(env.get("NEWSROOM_RENDER_WORKERS") or "").strip()
    if setting.isdigit():
        wanted, least = int(setting), int(setting)
    else:
        wanted, least = min(os.cpu_count() or 1, MAX_WORKERS), MIN_POSTS
    if (wanted <= 1 or count < max(least, 2) or "fork" not in multiprocessing.get_all_start_methods()
            or threading.active_count() > 1):
        return 1
    return min(wanted, count)


def render_all(run: Run, jobs: list[tuple[Entry, Channel]]) -> list[Post | str]:
    """Each job's post (or why it cannot be made), in order; in worker processes when it pays."""
    n = workers(len(jobs), run.opts.env)
    if n <= 1:
        return [render_fresh(run, entry, channel) for entry, channel in jobs]
    for entry, _ in jobs:  # bodies read from the item cache once, here, and shared with every worker
        entry.item.body
    global _JOBS
    _JOBS = (run, jobs)
    # The loaded project out of the collector's sight while the workers live: a collection in a
    # worker would otherwise walk (and so copy, page by page) every object it shares with this process.
    # A one-shot process (the command line) keeps it frozen, as it keeps what it loads frozen anyway
    # (newsroom/gcpause.py); another gives the collector back what it froze here.
    gc.freeze()
    try:
        size = -(-len(jobs) // (n * 4))  # a few chunks per worker, so a slow one does not hold the rest
        chunks = [range(i, min(i + size, len(jobs))) for i in range(0, len(jobs), size)]
        pool = multiprocessing.get_context("fork").Pool(n)
        try:
            parts = pool.map(_render_chunk, chunks)
        finally:
            pool.close()
            pool.join()
    finally:
        if not is_one_shot():
            gc.unfreeze()
        _JOBS = None
    run.report.notes.append(f"rendered {len(jobs)} posts in {n} worker processes")
    return [post for part in parts for post in part]


def _render_chunk(indices: range) -> list[Post | str]:
    run, jobs = _JOBS
    return [render_fresh(run, *jobs[i]) for i in indices]


def prerender(run: Run, work: list) -> None:
    """Render the posts of the entries about to go out ahead, in worker processes, when there are
    enough of them (``prerender.workers``); otherwise each is rendered as its turn comes."""
    jobs = []
    for entry, decision in work:
        if decision.action in (due.CHANGED, due.HELD, due.BLOCKED, due.BLACKOUT, due.MISS, due.WITHDRAW):
            continue
        channel = run.channels.adapters.get(entry.channel)
        posts = kept(run, entry.channel) if entry.segment is None else None
        if channel is None or (posts is not None and posts.posts.get(posts.key(entry.item)) is not None):
            continue
        jobs.append((entry, channel))
    if workers(len(jobs), run.opts.env) <= 1:
        return
    for (entry, _), post in zip(jobs, render_all(run, jobs)):
        run.prerendered[(entry.key, entry.item.revision)] = post
