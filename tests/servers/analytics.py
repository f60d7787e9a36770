"""What every analytics stand-in serves from: recorded visits, each a list of pageviews.

``visit(at, pages, visitor=, visit=, utm_source=…)`` records one visit (its first page is the entry
page, its UTM tags are the entry URL's), so one test's traffic can be served by Plausible, Umami,
Matomo and GA4 alike, each through its own documented API.
"""
from __future__ import annotations

from datetime import datetime

from .base import Server

UTM = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")


class Traffic(Server):
    def __init__(self):
        super().__init__()
        #: one dict per pageview: at (datetime), page, visitor, visit, and the visit's entry_page/utm_*
        self.pageviews: list[dict] = []

    def visit(self, at: datetime, pages: list[str], *, visitor: str, visit: str, **utm):
        for page in pages:
            self.pageviews.append({"at": at, "page": page, "visitor": visitor, "visit": visit,
                                   "entry_page": pages[0], **{k: utm.get(k, "") for k in UTM}})

    def between(self, since: datetime, until: datetime) -> list[dict]:
        return [p for p in self.pageviews if since <= p["at"] <= until]

    @staticmethod
    def totals(rows: list[dict]) -> dict:
        return {"pageviews": len(rows), "visitors": len({p["visitor"] for p in rows}),
                "visits": len({p["visit"] for p in rows})}

    @staticmethod
    def group(rows: list[dict], key) -> dict:
        out: dict = {}
        for p in rows:
            out.setdefault(key(p), []).append(p)
        return out
