"""Syndication links: where each item went (``{channel, type, url}`` per receipt), for the channels
that show "also on" links (the blog's page, the newsletter)."""
from __future__ import annotations

from .core import Run


def links(run: Run) -> dict[str, list[dict]]:
    """item id → where it went, from every receipt in the ledger and this run's own."""
    if run.links is None or run.links[0] != len(run.report.outcomes):
        run.links = (len(run.report.outcomes), _build(run))
    return run.links[1]


def _build(run: Run) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for st in run.store.entries().values():
        if st.state == "delivered" and st.item and st.channel and st.receipt and st.receipt.get("url"):
            config = run.project.settings.channels.get(st.channel)
            out.setdefault(st.item, []).append({"channel": st.channel, "type": config.type if config else None,
                                                "url": st.receipt["url"]})
    for posts in run.delivered_now.values():  # a dry run's receipts are not in the ledger
        for post, receipt in posts:
            found = out.setdefault(post.item_id, [])
            if receipt.url and not any(x["channel"] == post.channel for x in found):
                found.append({"channel": post.channel, "type": post.type, "url": receipt.url})
    return out
