"""What the webhook channels (slack, discord, webhook) share: a JSON POST to a secret URL.

A webhook URL is a credential (whoever has it can post), so it comes from the environment only and
never appears in a message, a receipt or a log line: ``post_json`` scrubs it from every failure text
(requests puts the URL's path in its connection errors).
"""
from __future__ import annotations

import json
from dataclasses import replace
from urllib.parse import urlsplit

from .base import DEFAULT_TIMEOUT, Failure
from .http import request

REDACTED = "[webhook URL]"


def scrub(text: str, url: str | None) -> str:
    """``text`` with the URL and its secret parts (path, query) replaced."""
    if not url or not text:
        return text
    parts = urlsplit(url)
    path_query = parts.path + (f"?{parts.query}" if parts.query else "")
    for secret in sorted({url, url.rstrip("/"), path_query, parts.path, parts.query}, key=len, reverse=True):
        if len(secret) > 1:
            text = text.replace(secret, REDACTED)
    return text


def post_json(session, url: str, payload: dict, *, headers: dict | None = None, body: bytes | None = None,
              params: dict | None = None, timeout=DEFAULT_TIMEOUT):
    """POST ``payload`` (or the exact ``body`` bytes) as JSON: a Response, or a Failure with no trace of the URL."""
    data = body if body is not None else json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    result = request(session, "POST", url, data=data, params=params, timeout=timeout,
                     headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})})
    if isinstance(result, Failure):
        return replace(result, message=scrub(result.message, url))
    return result


def missing_url(channel: str, option: str, ref) -> Failure:
    return Failure(f"channel '{channel}': {option} is not set: put the URL in the environment variable "
                   f"{getattr(ref, 'env', '?')} (never in publish.yml)")


def revoked(failure: Failure, what: str, ref) -> Failure:
    """A 401/403/404/410 answer: the URL was revoked or is wrong; say which variable to replace."""
    env = getattr(ref, "env", "?")
    return replace(failure, message=f"{failure.message} — the {what} was revoked or is wrong: create a new one "
                                    f"and put it in {env}", retryable=False)
