"""Rendering many posts at once in worker processes, when there are enough to pay for them.

A cold run on a fresh clone renders every post it delivers and every post the blog's site shows;
at thousands of items that is the run's largest share of work, and each post is independent. The
posts are rendered before the deliveries begin, in forked workers that share the loaded project
(no second load), and handed back pickled, as ``PostCache`` keeps them. Rendering sends nothing,
so an entry that is then not claimed only cost its rendering. When workers pay for themselves,
and how many, is ``newsroom/workers.py``'s rule; the run's output says when it used them.
"""
from __future__ import annotations

from channels.base import Channel, Post
from newsroom.workers import fork_map, workers

from .. import due
from ..plan import Entry
from .core import Run
from .render import kept, render_fresh


def render_all(run: Run, jobs: list[tuple[Entry, Channel]]) -> list[Post | str]:
    """Each job's post (or why it cannot be made), in order; in worker processes when it pays."""
    n = workers(len(jobs), run.opts.env)
    if n <= 1:
        return [render_fresh(run, entry, channel) for entry, channel in jobs]
    for entry, _ in jobs:  # bodies read from the item cache once, here, and shared with every worker
        entry.item.body
    posts = fork_map(lambda job: render_fresh(run, *job), jobs, n)
    run.report.notes.append(f"rendered {len(jobs)} posts in {n} worker processes")
    return posts


def prerender(run: Run, work: list) -> None:
    """Render the posts of the entries about to go out ahead, in worker processes, when there are
    enough of them (``newsroom.workers``); otherwise each is rendered as its turn comes."""
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
