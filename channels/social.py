"""What the social adapters share: thread progress in the journal, media bytes, batched and
rate-limited reads, and the read-back used where a platform offers no idempotency.

Journal keys (one journal per entry; the publish run backs it with the ledger):

- ``part:<i>``    → ``{"id", "url", ...}`` once part ``i`` is confirmed out;
- ``sent:<i>``    → ``True`` just before part ``i`` is written (its outcome may then be unknown);
- ``rkey:<i>``    → the Bluesky record key chosen for part ``i``, stored before the write;
- ``media:<i>``   → an uploaded media id / blob, so a retry does not upload the image again.
"""
from __future__ import annotations

import hashlib
import html
import re
import threading
import time
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence

from .base import CannotReconcile, DeliveryContext, Failure, Journal, Media, Receipt
from .http import RateLimit, read_rate_limit, request

if TYPE_CHECKING:  # imported where a session is pooled: see channels/http.py
    import requests


# -- thread progress ------------------------------------------------------------------------------
def done_parts(journal: Journal, count: int) -> list[dict]:
    """The parts already confirmed out, in order, stopping at the first gap."""
    out = []
    for i in range(count):
        part = journal.get(f"part:{i}")
        if not part:
            break
        out.append(part)
    return out


def receipt_from(parts: Sequence[dict], ctx: DeliveryContext, **data) -> Receipt:
    first = parts[0]
    return Receipt(remote_id=str(first["id"]), url=first.get("url"), at=ctx.now,
                   parts=tuple(dict(p) for p in parts), data=dict(data))


def with_partial(failure: Failure, parts: Sequence[dict], prefix: str = "") -> Failure:
    """The same failure, naming the parts that did go out (so the run can record them)."""
    return replace(failure, message=f"{prefix}{failure.message}", partial=tuple(dict(p) for p in parts))


def idempotency_key(ctx_key: str, index: int) -> str:
    """Stable per entry (``ctx.key``: item, channel, revision) and part: the same on every retry."""
    return hashlib.sha256(f"{ctx_key}:part:{index}".encode()).hexdigest()


# -- media ----------------------------------------------------------------------------------------
MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
        ".webp": "image/webp", ".avif": "image/avif"}


def mime_of(name: str) -> str:
    lower = name.lower().split("?", 1)[0]
    for ext, mime in MIME.items():
        if lower.endswith(ext):
            return mime
    return "application/octet-stream"


def media_bytes(session: requests.Session, media: Media) -> tuple[bytes, str, str] | Failure:
    """The image's bytes, MIME type and file name. ``Media.path`` is a local file the publish run
    resolved (the adapter is handed the path, it does not look for it); otherwise ``src`` is fetched."""
    if media.path:
        try:
            with open(media.path, "rb") as fh:
                data = fh.read()
        except OSError as exc:
            return Failure(f"cannot read image {media.src}: {exc.strerror}")
        return data, mime_of(media.path), media.path.rsplit("/", 1)[-1]
    if media.src.startswith(("http://", "https://")):
        got = request(session, "GET", media.src)
        if isinstance(got, Failure):
            return Failure(f"cannot fetch image {media.src}: {got.message}", retryable=got.retryable)
        mime = got.headers.get("Content-Type", "").split(";")[0] or mime_of(media.src)
        return got.content, mime, media.src.rsplit("/", 1)[-1].split("?")[0] or "image"
    return Failure(f"image {media.src} is a local path the publish run did not resolve (Media.path is empty)")


# -- text -----------------------------------------------------------------------------------------
_TAG = re.compile(r"<[^>]+>")
_URL = re.compile(r"https?://\S+")


def html_to_text(value: str) -> str:
    """Mastodon and dev.to send HTML; replies are shown as text."""
    value = re.sub(r"<br\s*/?>|</p>\s*<p>", "\n", value or "")
    return html.unescape(_TAG.sub("", value)).strip()


def comparable(text: str) -> str:
    """Text reduced for a read-back match: URLs dropped (platforms shorten or wrap them), HTML
    stripped, whitespace collapsed."""
    text = _URL.sub("", html_to_text(text))
    return " ".join(text.split()).casefold()


def parse_time(value: str | None) -> datetime:
    if not value:
        return datetime.fromtimestamp(0, timezone.utc)
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return datetime.fromtimestamp(0, timezone.utc)
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def chunks(items: Sequence, size: int) -> list[Sequence]:
    return [items[i:i + size] for i in range(0, len(items), size)]


# -- reads within the platform's limits -----------------------------------------------------------
class RateGate:
    """One per adapter: every read passes through it, so concurrent workers share what the platform
    said about the budget left (``X-RateLimit-*``, ``x-rate-limit-*``, ``RateLimit-*``) and all of
    them pause until the reset when it runs out, instead of collecting 429s."""

    def __init__(self, prefixes: Iterable[str] = ("x-ratelimit-", "x-rate-limit-", "ratelimit-"),
                 sleep: Callable[[float], None] | None = None, clock: Callable[[], float] = time.time,
                 max_wait: float = 900.0):
        self.prefixes = tuple(prefixes)
        self.sleep = sleep or time.sleep
        self.clock = clock
        self.max_wait = max_wait
        self.limit = RateLimit()
        self.pauses: list[float] = []
        self._lock = threading.Lock()

    def before(self) -> None:
        with self._lock:
            wait = min(self.limit.wait(self.clock()), self.max_wait)
            if wait > 0:
                self.pauses.append(wait)
                self.sleep(wait)
                self.limit = RateLimit()  # the window has reset; the next answer tells us more

    def after(self, headers) -> None:
        for prefix in self.prefixes:
            found = read_rate_limit(headers, prefix)
            if found.remaining is not None:
                with self._lock:
                    self.limit = found
                return

    def hold(self, seconds: float) -> None:
        with self._lock:
            seconds = min(seconds, self.max_wait)
            self.pauses.append(seconds)
            self.sleep(seconds)


def read(session: requests.Session, gate: RateGate, method: str, url: str, *, attempts: int = 3,
         **kwargs) -> requests.Response | Failure:
    """A read (safe to repeat): pauses as the gate says, and on 429/5xx waits as told and tries again."""
    # Every answer, 429s included, updates the gate: X gives its reset only in x-rate-limit-reset.
    theirs = (kwargs.get("hooks") or {}).get("response") or []
    kwargs["hooks"] = {"response": [lambda response, *a, **k: gate.after(response.headers)]
                       + ([theirs] if callable(theirs) else list(theirs))}
    failure: Failure | None = None
    for attempt in range(attempts):
        gate.before()
        got = request(session, method, url, **kwargs)
        if not isinstance(got, Failure):
            return got
        failure = got
        if not got.retryable or attempt == attempts - 1:
            break
        if got.retry_after is not None:
            gate.hold(got.retry_after)
        elif not (got.status == 429 and gate.limit.remaining == 0):  # else before() waits for the reset
            gate.hold(2.0 ** attempt)
    return failure


def run_concurrently(fn: Callable[[Any], Any], jobs: Sequence, workers: int) -> list:
    """``fn`` over ``jobs`` with at most ``workers`` in flight, results in job order."""
    if workers <= 1 or len(jobs) <= 1:
        return [fn(job) for job in jobs]
    from concurrent.futures import ThreadPoolExecutor  # here: every command imports this module, few ask

    with ThreadPoolExecutor(max_workers=min(workers, len(jobs))) as pool:
        return list(pool.map(fn, jobs))


def pooled_session(session: requests.Session, size: int, base_url: str | None = None) -> requests.Session:
    """Ready ``session`` for ``size`` concurrent reads: enough pooled connections (requests keeps 10),
    and the environment's proxy and CA settings read once instead of on every request (requests'
    ``trust_env`` walks the whole environment per call, a millisecond each)."""
    if getattr(session, "_pooled", 0) >= size:
        return session
    import requests

    adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=max(10, size))
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    if session.trust_env and base_url:
        import os

        session.proxies.update(requests.utils.get_environ_proxies(base_url))
        bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        if bundle:
            session.verify = bundle
        session.trust_env = False
    session._pooled = size
    return session


class MetricsError(Exception):
    """Reading engagement failed in a way waiting within this run will not fix (a bad token, a 4xx);
    the message carries the platform's own words."""


@dataclass
class Found:
    """A post found by a read-back: its id and URL."""

    id: str
    url: str | None
    extra: dict | None = None


def read_back(channel: str, ctx: DeliveryContext, keys: Sequence,
              find: Callable[[Any], "Found | None | Failure"]) -> Receipt | None:
    """Reconcile by looking: the receipt when every part (each found by its key: a text, a URL) is
    out, else None so a delivery carries on from the first part not found. Parts the journal
    already confirms are not looked up again."""
    parts = done_parts(ctx.journal, len(keys))
    for i in range(len(parts), len(keys)):
        found = find(keys[i])
        if isinstance(found, Failure):
            raise CannotReconcile(f"{channel}: {found.message}")
        if found is None:
            break
        part = {"id": found.id, "url": found.url}
        ctx.journal.put(f"part:{i}", part)
        parts.append(part)
    return receipt_from(parts, ctx) if len(parts) == len(keys) else None


def write_part(ctx: DeliveryContext, index: int, send: Callable[[], dict | Failure],
               find: Callable[[], Found | None | Failure] | None) -> dict | Failure:
    """One write on a platform with no idempotency: mark it as sent first; on a retry of a write whose
    outcome is unknown (marked, not confirmed), read back recent posts before sending again."""
    journal = ctx.journal
    if journal.get(f"sent:{index}") and not journal.get(f"part:{index}"):
        if find is None:
            what = f"part {index + 1}" if index >= 0 else "the image"
            return Failure(f"{what} may already have gone out and this platform offers no way to "
                           "check: look at the channel and record or clear the entry by hand")
        found = find()
        if isinstance(found, Failure):
            return Failure(f"could not check whether part {index + 1} went out: {found.message}",
                           retryable=found.retryable, retry_after=found.retry_after, status=found.status)
        if found is not None:
            part = {"id": found.id, "url": found.url, **(found.extra or {})}
            journal.put(f"part:{index}", part)
            return part
    journal.put(f"sent:{index}", True)
    result = send()
    if isinstance(result, Failure):
        if not result.ambiguous:
            journal.put(f"sent:{index}", False)  # surely not out: a retry may send again without a read-back
        return result
    journal.put(f"part:{index}", result)
    return result
