"""A web analytics source: the page views of our pages and the visits our tagged links brought.

One small class per service around ``Source`` (as channel adapters around ``channels.base``). A
source answers two questions for a period, each in as few requests as the service allows (one
query, paged only when the rows are more than a page holds):

- ``page_views(since, until)``: path → ``PageViews`` (page views and visitors) for every page;
- ``visits(since, until, sources)``: the visits that arrived through a link carrying one of our
  ``utm_source`` values, per landing page and UTM tags (``Visit``).

Expected failures are values (``channels.base.Failure``: 429 and 5xx retryable, a refused token not),
as for every adapter; the source never reads the clock or files itself.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import ClassVar, Mapping

from channels.base import USER_AGENT, Failure
from newsroom import schema as s


@dataclass(slots=True)
class PageViews:
    """A page's views and visitors. (A plain dataclass with slots: one is made per page of the site,
    and a frozen one's ``__init__`` costs three times as much.)"""

    views: int
    visitors: int


@dataclass(frozen=True)
class Visit:
    """Visits that landed on ``page`` through a link tagged with these UTM values."""

    page: str
    source: str
    medium: str
    campaign: str
    content: str
    visits: int


def path_of(url_or_path: str) -> str:
    """The path analytics services report for a page: no scheme and host, no query, no fragment, no
    trailing slash (``/`` stays ``/``), so ``https://site/a/b/`` and ``/a/b`` meet. (String cuts, not
    ``urlsplit``: a pull reads it for every page of a site.)"""
    scheme, sep, rest = url_or_path.partition("://")
    if sep:
        slash = rest.find("/")
        url_or_path = rest[slash:] if slash >= 0 else "/"
    for mark in ("?", "#"):
        cut = url_or_path.find(mark)
        if cut >= 0:
            url_or_path = url_or_path[:cut]
    return url_or_path.rstrip("/") or "/"


def utc_iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).replace(microsecond=0).isoformat()


class Source:
    """Base class: a service's constants and two queries. ``calls`` counts the requests sent."""

    TYPE: ClassVar[str] = ""
    DEFAULT_URL: ClassVar[str | None] = None  # the hosted service; None: ``url`` is required
    PAGE_SIZE: ClassVar[int] = 1000  # rows per request at most, as the service documents it
    RATE_LIMIT: ClassVar[str] = ""  # the documented request budget, said where a 429 is reported
    DOCS: ClassVar[str] = ""

    def __init__(self, name: str, options: Mapping, env: Mapping[str, str], *, session=None):
        self.name = name
        self.options = dict(options)
        self.env = env
        self.url = str(self.options.get("url") or self.DEFAULT_URL or "").rstrip("/")
        self.site_id = str(self.options.get("site_id") or "")
        timeout = self.options.get("timeout")
        seconds = timeout.total_seconds() if isinstance(timeout, timedelta) else 30.0
        self.timeout = (min(5.0, seconds), seconds)
        self._session = session
        self.calls = 0

    @property
    def session(self):
        if self._session is None:
            import requests

            self._session = requests.Session()
            self._session.headers["User-Agent"] = USER_AGENT
        return self._session

    def secret(self) -> str | None:
        ref = self.options.get("token")
        return ref.resolve(self.env) if isinstance(ref, s.SecretRef) else None

    def missing(self) -> str | None:
        """The environment variable the token should come from, when it is not set (never the value)."""
        ref = self.options.get("token")
        if isinstance(ref, s.SecretRef) and not ref.resolve(self.env):
            return ref.env
        return None

    def send(self, method: str, path_or_url: str, **kwargs):
        """One request through ``channels.http.request`` (a Response, or a Failure)."""
        from channels.http import request

        self.calls += 1
        url = path_or_url if "://" in path_or_url else self.url + path_or_url
        return request(self.session, method, url, timeout=self.timeout, **kwargs)

    def page_views(self, since: datetime, until: datetime) -> dict[str, PageViews] | Failure:
        raise NotImplementedError

    def visits(self, since: datetime, until: datetime, sources: set[str]) -> list[Visit] | Failure:
        raise NotImplementedError


def json_of(response) -> tuple[object, Failure | None]:
    try:
        return response.json(), None
    except ValueError:
        return None, Failure(f"HTTP {response.status_code}: the answer is not JSON", retryable=True)
