"""Rendering many posts at once in worker processes, when there are enough to pay for them.

A cold run on a fresh clone renders every post it delivers and every post the blog's site shows;
at thousands of items that is the run's largest share of work, and each post is independent. The
posts are rendered before the deliveries begin, in forked workers that share the loaded project
(no second load), and handed back pickled, as ``PostCache`` keeps them. Rendering sends nothing,
so an entry that is then not claimed only cost its rendering.

Workers are used only where ``fork`` is (Linux; not macOS's or Windows' default) and the run has no
other thread (``serve`` runs in a scheduler thread: forking there is not safe), for at least
``MIN_POSTS`` posts, as many as there are cores (at most ``MAX_WORKERS``), and only when the posts
are many for the memory the process holds (``pays``): forking write-protects every page of it, and
the process then takes a fault on each page it writes again, for as long as the run goes on. At
10,000 items of the benchmark's corpus (1,455 posts, 240 MB) two workers took 0.3-0.45 s more CPU and
gave no wall time back over six interleaved pairs; at 5,000 items of the same corpus with every item
approved (1,930 posts, 164 MB), they gave back 0.2 s of 2.7.
``NEWSROOM_RENDER_WORKERS=1`` turns them off; another number asks for that many whenever there are
at least as many posts. The run's output says when it used them.
"""
from __future__ import annotations

import gc
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
#: posts rendered in the other processes it takes to pay for each MB this process holds (``pays``)
POSTS_A_MB = 4.0

_JOBS: tuple | None = None  # (run, jobs) for the forked workers, set only while a pool lives


def workers(count: int, env, resident_mb: float | None = None) -> int:
    """How many worker processes to render ``count`` posts with (1: in this process). ``resident_mb``:
    the memory this process holds (default: read from the system), which forking makes costly."""
    setting = str(env.get("NEWSROOM_RENDER_WORKERS") or "").strip()
    explicit = setting.isdigit()
    if explicit:
        wanted, least = int(setting), int(setting)
    else:
        wanted, least = min(os.cpu_count() or 1, MAX_WORKERS), MIN_POSTS
    if wanted <= 1 or count < max(least, 2) or threading.active_count() > 1:
        return 1
    import multiprocessing  # here: most runs render a few posts, or none, in this process

    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    n = min(wanted, count)
    if not explicit and not pays(count, n, resident() if resident_mb is None else resident_mb):
        return 1
    return n


def pays(count: int, n: int, resident_mb: float) -> bool:
    """Whether rendering ``count`` posts in ``n`` processes gives back more time than forking costs:
    the posts the others take off this one, ``count * (1 - 1/n)``, against ``POSTS_A_MB`` for each MB
    this process holds, every page of which it then writes again at a fault each (see the module's
    notes for the figures)."""
    return count * (1 - 1 / n) >= POSTS_A_MB * resident_mb


def resident() -> float:
    """This process's resident memory in MB (Linux's /proc; elsewhere its peak, as the system keeps it)."""
    try:
        with open("/proc/self/statm", "rb") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / (1 << 20)
    except (OSError, ValueError, IndexError):
        import resource
        import sys

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KB on Linux, bytes on macOS
        return peak / (1 << 20) if sys.platform == "darwin" else peak / 1024


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
        import multiprocessing

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
