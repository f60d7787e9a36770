"""Webhook channel (type ``webhook``): a signed JSON POST to any endpoint.

The signature scheme (the receiver's side is in docs/email-and-webhooks.md):

- ``X-Newsroom-Timestamp``: the delivery time, Unix seconds (an integer, as text).
- ``X-Newsroom-Signature``: ``sha256=`` + hex HMAC-SHA256, keyed with the signing secret, over the
  bytes ``<timestamp>.<raw body>`` (the timestamp digits, one ``.``, then the body exactly as sent).
- ``X-Newsroom-Delivery``: the entry's stable key, the same on every retry of the same entry, so a
  receiver can drop duplicates.

A receiver recomputes the HMAC over the raw body, compares in constant time, and rejects a timestamp
more than five minutes from its clock (replays). The same shape as Stripe's and Slack's request
signing (https://api.slack.com/authentication/verifying-requests-from-slack: ``v0:timestamp:body``).

Any 2xx is success; a JSON answer's ``id`` and ``url`` become the receipt's. 404/410 mean the
endpoint is gone; 429/5xx/timeouts are retryable (``channels.http.request``).
"""
from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta, timezone

from newsroom import schema as s

from .base import DEFAULT_TIMEOUT, CannotReconcile, Channel, DeliveryContext, Failure, Post, Receipt
from .webhook_post import missing_url, post_json, revoked

TIMESTAMP_HEADER = "X-Newsroom-Timestamp"
SIGNATURE_HEADER = "X-Newsroom-Signature"
DELIVERY_HEADER = "X-Newsroom-Delivery"
EVENT = "entry.delivered"


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The signature header's value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str, now: float, tolerance: float = 300) -> bool:
    """What a receiver does (and what the tests do): constant-time compare, and no stale timestamps."""
    try:
        ts = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs(now - ts) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, ts, body), signature or "")


class Webhook(Channel):
    TYPE = "webhook"
    MEDIUM = "webhook"
    DEFAULT_GRACE = timedelta(hours=2)
    timeout = DEFAULT_TIMEOUT  # (connect, read) seconds
    SECRETS = ('url', 'signing_secret')
    OPTIONS = s.Schema("webhook options", [
        s.Key("url", s.Secret(), "endpoint URL, from the environment", required=True),
        s.Key("signing_secret", s.Secret(), "HMAC-SHA256 key for the signature header, from the environment", required=True),
        s.Key("dedupes", s.Boolean(), "the receiver ignores a repeated X-Newsroom-Delivery id, so a delivery cut "
              "short by a crash is simply sent again", default=False),
    ])

    def payload(self, post: Post, ctx: DeliveryContext) -> dict:
        """The payload the rendering made (``post.data["payload"]``, see docs/templates.md) with the
        delivery id and channel added; without one, a payload built from the post's fields."""
        if isinstance(post.data.get("payload"), dict):
            return {**post.data["payload"], "delivery": ctx.key, "channel": self.name}
        return {
            "event": EVENT,
            "delivery": ctx.key,
            "channel": self.name,
            "item": {"id": post.item_id, "revision": post.revision, "title": post.title, "url": post.url,
                     "tags": list(post.tags)},
            "text": "\n\n".join(p for p in post.parts if p),
            "parts": list(post.parts),
            "subject": post.subject,
            "html": post.html,
            "media": [{"src": m.src, "alt": m.alt} for m in post.media],
            "data": post.data,
        }

    def request_for(self, post: Post, ctx: DeliveryContext, secret: str) -> tuple[bytes, dict]:
        """The exact body bytes and headers: signed over what is sent, byte for byte."""
        body = json.dumps(self.payload(post, ctx), ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                          default=str).encode()
        # The moment of sending, not the run's --now: receivers refuse a timestamp outside their window
        # (Stripe's and GitHub's practice: https://docs.stripe.com/webhooks#replay-attacks).
        sent = ctx.sending_time()
        now = sent if sent.tzinfo else sent.replace(tzinfo=timezone.utc)
        timestamp = int(now.timestamp())
        headers = {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: sign(secret, timestamp, body),
                   DELIVERY_HEADER: ctx.key}
        return body, headers

    def deliver(self, post: Post, ctx: DeliveryContext) -> Receipt | Failure:
        url, secret = self.secret("url"), self.secret("signing_secret")
        if ctx.dry_run:
            body, _ = self.request_for(post, ctx, secret or "")
            return Receipt(remote_id=ctx.key, url=None, at=ctx.now, data={"dry_run": True, "bytes": len(body)})
        if not url:
            return missing_url(self.name, "url", self.config.options.get("url"))
        if not secret:
            ref = self.config.options.get("signing_secret")
            return Failure(f"channel '{self.name}': signing_secret is not set: put it in the environment variable "
                           f"{getattr(ref, 'env', '?')}")
        body, headers = self.request_for(post, ctx, secret)
        result = post_json(self.session, url, {}, body=body, headers=headers, timeout=self.timeout)
        if isinstance(result, Failure):
            if result.status in (404, 410):
                return revoked(result, "webhook endpoint", self.config.options.get("url"))
            return result
        try:
            answer = result.json() if result.content else None
        except ValueError:
            answer = None
        answer = answer if isinstance(answer, dict) else {}
        remote_id = str(answer.get("id") or ctx.key)
        link = answer.get("url") if isinstance(answer.get("url"), str) else None
        return Receipt(remote_id=remote_id, url=link, at=ctx.now, data={"status": result.status_code})

    def reconcile(self, post: Post, ctx: DeliveryContext):
        if self.config.options.get("dedupes"):
            return None  # sending again is safe: the receiver drops a repeated delivery id
        raise CannotReconcile(f"the endpoint cannot be asked whether delivery {ctx.key} arrived; if it drops "
                              f"repeated {DELIVERY_HEADER} ids, set dedupes: true on channel '{self.name}'")
