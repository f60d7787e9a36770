"""HTTP for adapters: one request, its outcome as a value, and the platform's rate-limit signals read.

Every adapter sends through ``request``: a timeout always, a transport error turned into a
``Failure`` that says whether a retry may duplicate (``ambiguous``: the request may have reached the
server), and 429/5xx marked retryable with the wait the platform asked for.
"""
from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from .base import DEFAULT_TIMEOUT, Failure

if TYPE_CHECKING:  # requests is imported where a request is made: commands that send nothing start faster
    import requests


@dataclass
class RateLimit:
    """What the last response said about the budget left. ``reset`` is epoch seconds."""

    limit: int | None = None
    remaining: int | None = None
    reset: float | None = None

    def wait(self, now: float | None = None) -> float:
        """Seconds to pause before the next request: 0 while budget remains."""
        if self.remaining is None or self.remaining > 0 or self.reset is None:
            return 0.0
        return max(0.0, self.reset - (now if now is not None else time.time()))


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` is either seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


def parse_reset(value: str | None) -> float | None:
    """A reset given as epoch seconds (X, GitHub), seconds from now (IETF draft), or an ISO time (Mastodon)."""
    if not value:
        return None
    value = value.strip()
    try:
        number = float(value)
    except ValueError:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None
    # Small numbers are a delta in seconds, large ones an epoch time.
    return number if number > 1_000_000_000 else time.time() + number


def read_rate_limit(headers, prefix: str = "x-ratelimit-") -> RateLimit:
    def get(name):
        return headers.get(prefix + name)

    def as_int(v):
        try:
            return int(float(v)) if v is not None else None
        except ValueError:
            return None

    return RateLimit(as_int(get("limit")), as_int(get("remaining")), parse_reset(get("reset")))


def error_message(response: requests.Response) -> str:
    """The platform's own words from an error body (JSON ``error``/``message``/``detail``), else the status."""
    text = ""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        for key in ("error_description", "error", "message", "detail", "description", "title"):
            value = body.get(key)
            if isinstance(value, str) and value:
                text = value
                break
            if isinstance(value, dict) and isinstance(value.get("message"), str):
                text = value["message"]
                break
        if not text and isinstance(body.get("errors"), list) and body["errors"]:
            first = body["errors"][0]
            text = first.get("message") or first.get("detail") or str(first) if isinstance(first, dict) else str(first)
    if not text:
        text = (response.text or "").strip()[:200]
    return f"HTTP {response.status_code}: {text}" if text else f"HTTP {response.status_code} {response.reason or ''}".strip()


def not_connected(exc: Exception) -> str | None:
    """Why no connection was made (refused, unreachable, a name that does not resolve), or None when a
    connection was made and broke later. urllib3 raises ``NewConnectionError`` (``NameResolutionError``
    is one) only while connecting, before anything is written; requests wraps it in
    ``ConnectionError(MaxRetryError(reason=...))``."""
    from urllib3.exceptions import NewConnectionError

    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    if not isinstance(reason, NewConnectionError):
        return None
    cause = reason.__cause__ or reason.__context__
    if isinstance(cause, OSError) and cause.strerror:
        why = cause.strerror.lower()
    else:
        why = str(reason).rpartition(": ")[2] or type(reason).__name__
    host = getattr(getattr(reason, "conn", None), "host", None) or getattr(reason, "pool", None)
    port = getattr(getattr(reason, "conn", None), "port", None)
    return f"{why} at {host}:{port}" if host and port else why


def request(session: requests.Session, method: str, url: str, *, timeout=DEFAULT_TIMEOUT,
            **kwargs) -> requests.Response | Failure:
    """Send once. A ``Response`` for any 2xx/3xx; a ``Failure`` for everything else."""
    import requests

    try:
        response = session.request(method, url, timeout=timeout, **kwargs)
    except requests.ConnectTimeout as exc:
        return Failure(f"could not connect in time: {exc}", retryable=True)
    except requests.ConnectionError as exc:
        refused = not_connected(exc)
        if refused is not None:  # no connection, so no byte of the request left: surely not sent
            return Failure(f"could not connect: {refused} (nothing was sent)", retryable=True)
        # The connection broke: the request may or may not have reached the server.
        return Failure(f"connection failed: {exc}", retryable=True, ambiguous=True)
    except requests.Timeout as exc:  # read timeout: the server got the request and did not answer
        return Failure(f"no answer in time: {exc}", retryable=True, ambiguous=True)
    except requests.RequestException as exc:
        return Failure(f"request failed: {exc}", retryable=False)
    if response.status_code < 400:
        return response
    status = response.status_code
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    if status == 429:
        if retry_after is None:
            limit = read_rate_limit(response.headers)
            retry_after = limit.wait() or None
        return Failure(error_message(response), retryable=True, retry_after=retry_after, status=status)
    if status >= 500:
        return Failure(error_message(response), retryable=True, retry_after=retry_after, status=status,
                       ambiguous=status in (502, 504))
    return Failure(error_message(response), retryable=status == 408, status=status)
