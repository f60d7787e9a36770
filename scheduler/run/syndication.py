"""Syndication links: where each item went (``{channel, type, url}`` per receipt), for the channels
that show "also on" links (the blog's page, the newsletter).

Read from the ledger once a run, then kept up by each delivery (``add``): reading the whole ledger
again before each entry made a run quadratic in its size (about 300 of the 408 s a cold run of
10,000 items took).
"""
from __future__ import annotations

from channels.base import Post, Receipt

from .core import Run


def links(run: Run) -> dict[str, list[dict]]:
    """item id → where it went, from every receipt in the ledger and this run's own."""
    if run.links is None:
        run.links = _build(run)
    return run.links


def add(run: Run, post: Post, receipt: Receipt) -> None:
    """A delivery of this run, once the links are read (before that, ``_build`` finds it)."""
    if run.links is not None and receipt.url:
        found = run.links.setdefault(post.item_id, [])
        if not any(x["channel"] == post.channel for x in found):
            found.append({"channel": post.channel, "type": post.type, "url": receipt.url})


def _build(run: Run) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for st in run.store.entries().values():
        if (st.state == "delivered" and st.item and st.channel and st.receipt and st.receipt.get("url")
                and "~" not in st.key):
            config = run.project.settings.channels.get(st.channel)
            out.setdefault(st.item, []).append({"channel": st.channel, "type": config.type if config else None,
                                                "url": st.receipt["url"]})
    for posts in run.delivered_now.values():  # a dry run's receipts are not in the ledger
        for post, receipt in posts:
            found = out.setdefault(post.item_id, [])
            if receipt.url and not any(x["channel"] == post.channel for x in found):
                found.append({"channel": post.channel, "type": post.type, "url": receipt.url})
    return out
